import Foundation
import LSSKDTensor

/// Which training augmentations a ``BatchLoader`` applies. They run on the loader's
/// background thread, on normalised floats (so "zero" means the channel mean), in this
/// order: pad-and-crop, horizontal flip, rotation, Cutout (per sample), then CutMix (per
/// batch). Their randomness derives from `(loader seed, epoch, batch index)` only (see
/// ``AugmentationPlan``), so a resumed run sees the same augmented batches.
public struct Augmentation: Sendable, Equatable, CustomStringConvertible {
    /// Zero-pad every side by ``cropPadding`` pixels and crop back to the image size at a
    /// uniformly random offset (torchvision's `RandomCrop(size, padding=4)`).
    public var randomCrop: Bool
    public var cropPadding: Int
    /// Mirror left-right with probability 1/2.
    public var horizontalFlip: Bool
    /// Rotate each sample by a uniformly random multiple of 90 degrees (square images;
    /// labels unchanged).
    public var randomRotation90: Bool
    /// Zero one ``cutoutSize`` x ``cutoutSize`` square (all channels) centred on a uniformly
    /// random pixel, clipped at the borders (DeVries & Taylor 2017: 16 for CIFAR-10, 8 for
    /// CIFAR-100).
    public var cutout: Bool
    public var cutoutSize: Int
    /// CutMix (Yun et al. 2019), per batch with probability ``cutMixProbability``:
    /// `lambda ~ Beta(alpha, alpha)`, one box of area about `(1 - lambda) * H * W` at a random
    /// centre (clipped), pasted into every sample from sample `perm[i]` of the same batch;
    /// the batch then carries `labelsB = labels[perm]` and `lambda` = the kept area
    /// fraction; the loss is `lambda * CE(labels) + (1 - lambda) * CE(labelsB)`.
    public var cutMix: Bool
    public var cutMixAlpha: Double
    /// 0.5 as in the reference CIFAR recipe (`--cutmix_prob 0.5`); 1 mixes every batch.
    public var cutMixProbability: Double

    public init(randomCrop: Bool = false, cropPadding: Int = 4, horizontalFlip: Bool = false,
                randomRotation90: Bool = false, cutout: Bool = false, cutoutSize: Int = 16,
                cutMix: Bool = false, cutMixAlpha: Double = 1, cutMixProbability: Double = 0.5) {
        precondition(cropPadding >= 0, "crop padding must not be negative")
        precondition(cutoutSize > 0, "cutout size must be positive")
        precondition(cutMixAlpha > 0, "CutMix alpha must be positive")
        precondition(cutMixProbability >= 0 && cutMixProbability <= 1, "CutMix probability must be in [0, 1]")
        self.randomCrop = randomCrop
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
        self.randomRotation90 = randomRotation90
        self.cutout = cutout
        self.cutoutSize = cutoutSize
        self.cutMix = cutMix
        self.cutMixAlpha = cutMixAlpha
        self.cutMixProbability = cutMixProbability
    }

    public static let none = Augmentation()
    /// Pad-4 random crop + horizontal flip: the usual CIFAR recipe.
    public static let standard = Augmentation(randomCrop: true, horizontalFlip: true)
    public static let standardCutout = Augmentation(randomCrop: true, horizontalFlip: true, cutout: true)
    public static let standardCutMix = Augmentation(randomCrop: true, horizontalFlip: true, cutMix: true)

    /// Parses `none`, `standard`, `standard+cutout`, `standard+cutmix`, or any `+`-joined
    /// list of `crop`, `flip`, `standard`, `cutout`, `cutoutN` (N x N hole), `cutmix`, `rot90`.
    public init?(named name: String) {
        var a = Augmentation.none
        if name == "none" { self = a; return }
        for token in name.split(separator: "+", omittingEmptySubsequences: false).map(String.init) {
            switch token {
            case "standard": a.randomCrop = true; a.horizontalFlip = true
            case "crop": a.randomCrop = true
            case "flip": a.horizontalFlip = true
            case "cutout": a.cutout = true
            case "cutmix": a.cutMix = true
            case "rot90": a.randomRotation90 = true
            default:
                guard token.hasPrefix("cutout"), let n = Int(token.dropFirst(6)), n > 0 else { return nil }
                a.cutout = true
                a.cutoutSize = n
            }
        }
        self = a
    }

    /// The default for a dataset: ``standard`` for 32x32 RGB images (CIFAR-like), ``none``
    /// otherwise (MNIST-like digits and clothes are not flipped or shifted).
    public static func defaultFor(channels: Int, height: Int, width: Int) -> Augmentation {
        channels == 3 && height == 32 && width == 32 ? .standard : .none
    }

    /// True when nothing is applied.
    public var isIdentity: Bool { !randomCrop && !horizontalFlip && !randomRotation90 && !cutout && !cutMix }

    public var description: String {
        var parts = [String]()
        if randomCrop { parts.append(cropPadding == 4 ? "crop" : "crop(pad \(cropPadding))") }
        if horizontalFlip { parts.append("flip") }
        if randomRotation90 { parts.append("rot90") }
        if cutout { parts.append("cutout\(cutoutSize)") }
        if cutMix { parts.append("cutmix(p \(cutMixProbability))") }
        return parts.isEmpty ? "none" : parts.joined(separator: "+")
    }
}

/// The random choices of one batch: a pure function of (augmentation, batch size, image
/// size, seed, epoch, batch index), drawn from one generator in a fixed order (per sample:
/// crop offset, flip, rotation, Cutout centre; then CutMix). ``apply(to:)`` performs it.
public struct AugmentationPlan: Sendable, Equatable {
    public struct Point: Sendable, Equatable {
        public var y: Int
        public var x: Int
        public init(y: Int, x: Int) { self.y = y; self.x = x }
    }

    public struct Sample: Sendable, Equatable {
        /// Top-left corner of the crop in the padded image, each in 0...2*padding.
        public var crop: Point?
        public var flip: Bool
        /// Quarter turns counter-clockwise, 0...3.
        public var rotation: Int
        /// Centre of the Cutout hole.
        public var cutout: Point?
        public init(crop: Point? = nil, flip: Bool = false, rotation: Int = 0, cutout: Point? = nil) {
            self.crop = crop; self.flip = flip; self.rotation = rotation; self.cutout = cutout
        }
    }

    /// One CutMix box `[y0, y1) x [x0, x1)`; sample `i` receives it from sample
    /// `permutation[i]`, and `lambda = 1 - box area / image area`.
    public struct CutMixBox: Sendable, Equatable {
        public var permutation: [Int]
        public var y0, y1, x0, x1: Int
        public var lambda: Float
        public init(permutation: [Int], y0: Int, y1: Int, x0: Int, x1: Int, lambda: Float) {
            self.permutation = permutation
            self.y0 = y0; self.y1 = y1; self.x0 = x0; self.x1 = x1
            self.lambda = lambda
        }
    }

    public var samples: [Sample]
    public var cutMix: CutMixBox?
    public var padding: Int
    public var cutoutSize: Int

    public init(samples: [Sample], cutMix: CutMixBox? = nil, padding: Int = 4, cutoutSize: Int = 16) {
        self.samples = samples
        self.cutMix = cutMix
        self.padding = padding
        self.cutoutSize = cutoutSize
    }

    /// The seeded plan of batch `batch` of `epoch`.
    public init(_ a: Augmentation, count n: Int, height h: Int, width w: Int, seed: UInt64, epoch: Int, batch: Int) {
        var rng = RNG(seed: mixSeed(seed, 0x6175_676D_656E_7473, UInt64(bitPattern: Int64(epoch)), UInt64(batch)))
        samples = []
        samples.reserveCapacity(n)
        let span = 2 * a.cropPadding + 1
        for _ in 0..<n {
            var s = Sample()
            if a.randomCrop { s.crop = Point(y: rng.nextInt(below: span), x: rng.nextInt(below: span)) }
            if a.horizontalFlip { s.flip = rng.next() >> 63 == 1 }
            if a.randomRotation90 { s.rotation = rng.nextInt(below: 4) }
            if a.cutout { s.cutout = Point(y: rng.nextInt(below: h), x: rng.nextInt(below: w)) }
            samples.append(s)
        }
        cutMix = nil
        if a.cutMix && n > 0 && rng.nextDouble() < a.cutMixProbability {
            let lam = Self.sampleBeta(a.cutMixAlpha, &rng)
            let permutation = rng.permutation(n)
            // The reference `rand_bbox`: side = int(size * sqrt(1 - lam)), centre uniform,
            // corners centre -/+ side // 2 clipped to the image.
            let r = (1 - lam).squareRoot()
            let cutH = Int(Double(h) * r), cutW = Int(Double(w) * r)
            let cy = rng.nextInt(below: h), cx = rng.nextInt(below: w)
            let y0 = min(max(cy - cutH / 2, 0), h), y1 = min(max(cy + cutH / 2, 0), h)
            let x0 = min(max(cx - cutW / 2, 0), w), x1 = min(max(cx + cutW / 2, 0), w)
            let kept = 1 - Double((y1 - y0) * (x1 - x0)) / Double(h * w)
            cutMix = CutMixBox(permutation: permutation, y0: y0, y1: y1, x0: x0, x1: x1, lambda: Float(kept))
        }
        padding = a.cropPadding
        cutoutSize = a.cutoutSize
    }

    /// Applies the plan in place to normalised images `[N, C, H, W]` (N = samples.count;
    /// rotations need H == W).
    public func apply(to images: inout Tensor) {
        precondition(images.rank == 4 && images.shape[0] == samples.count,
                     "augmentation plan for \(samples.count) samples applied to a tensor of shape \(images.shape)")
        let c = images.shape[1], h = images.shape[2], w = images.shape[3], size = c * h * w
        if samples.contains(where: { $0.rotation % 4 != 0 }) {
            precondition(h == w, "rotation by 90 degrees needs square images, not \(h)x\(w)")
        }
        guard size > 0 else { return }
        images.withUnsafeMutableBufferPointer { buf in
            let base = buf.baseAddress!
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: size)
            defer { scratch.deallocate() }
            for (i, s) in samples.enumerated() {
                let img = base + i * size
                if let crop = s.crop {
                    scratch.update(from: img, count: size)
                    ImageOps.padCrop(scratch, img, channels: c, height: h, width: w, padding: padding,
                                     top: crop.y, left: crop.x, flip: s.flip)
                } else if s.flip {
                    ImageOps.flipHorizontal(img, planes: c, height: h, width: w)
                }
                let k = ((s.rotation % 4) + 4) % 4
                if k != 0 {
                    scratch.update(from: img, count: size)
                    for ch in 0..<c {
                        ImageOps.rotatePlane(scratch + ch * h * w, img + ch * h * w, size: h, quarterTurns: k)
                    }
                }
                if let centre = s.cutout {
                    ImageOps.cutout(img, channels: c, height: h, width: w, centreY: centre.y, centreX: centre.x,
                                    size: cutoutSize)
                }
            }
            if let m = cutMix { ImageOps.cutMix(base, count: samples.count, channels: c, height: h, width: w, box: m) }
        }
    }

    /// Beta(alpha, alpha) from two Gamma draws (uniform when alpha = 1).
    static func sampleBeta(_ alpha: Double, _ rng: inout RNG) -> Double {
        if alpha == 1 { return rng.nextDouble() }
        let a = sampleGamma(alpha, &rng), b = sampleGamma(alpha, &rng)
        return a + b > 0 ? a / (a + b) : 0.5
    }

    /// Gamma(shape, 1) by Marsaglia and Tsang (2000); shape < 1 through the boost
    /// Gamma(shape + 1) * U^(1 / shape).
    static func sampleGamma(_ shape: Double, _ rng: inout RNG) -> Double {
        if shape < 1 {
            let u = 1 - rng.nextDouble()
            return sampleGamma(shape + 1, &rng) * Foundation.pow(u, 1 / shape)
        }
        let d = shape - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            var x = 0.0, v = 0.0
            repeat {
                let u1 = 1 - rng.nextDouble(), u2 = rng.nextDouble()
                x = (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = 1 - rng.nextDouble()
            if Foundation.log(u) < 0.5 * x * x + d - d * v + d * Foundation.log(v) { return d * v }
        }
    }
}

/// The per-image operations behind the augmentations, on planar float images
/// `[channels, height, width]` (pointers; single-threaded, allocation-free).
public enum ImageOps {
    /// `dst = crop(zeroPad(src, padding))` at top-left `(top, left)` of the padded image,
    /// mirrored left-right after cropping if `flip`:
    /// `dst[c][y][x] = src[c][y + top - padding][x' + left - padding]` with
    /// `x' = flip ? width - 1 - x : x`, or 0 outside `src`.
    public static func padCrop(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, channels: Int,
                               height h: Int, width w: Int, padding p: Int, top: Int, left: Int, flip: Bool) {
        let dy = top - p, dx = left - p
        // Columns x with 0 <= x + dx < w (before the flip).
        let xLo = max(0, -dx), xHi = min(w, w - dx)
        for c in 0..<channels {
            let s = src + c * h * w, d = dst + c * h * w
            for y in 0..<h {
                let row = d + y * w
                let sy = y + dy
                guard sy >= 0 && sy < h, xLo < xHi else {
                    row.update(repeating: 0, count: w)
                    continue
                }
                let srow = s + sy * w
                if !flip {
                    if xLo > 0 { row.update(repeating: 0, count: xLo) }
                    (row + xLo).update(from: srow + xLo + dx, count: xHi - xLo)
                    if xHi < w { (row + xHi).update(repeating: 0, count: w - xHi) }
                } else {
                    for x in 0..<w {
                        let u = w - 1 - x  // column of the unflipped crop
                        row[x] = u >= xLo && u < xHi ? srow[u + dx] : 0
                    }
                }
            }
        }
    }

    /// Mirrors `planes` planes of `height x width` left-right in place.
    public static func flipHorizontal(_ x: UnsafeMutablePointer<Float>, planes: Int, height: Int, width: Int) {
        for r in 0..<(planes * height) {
            let row = x + r * width
            var i = 0, j = width - 1
            while i < j {
                let t = row[i]; row[i] = row[j]; row[j] = t
                i += 1; j -= 1
            }
        }
    }

    /// `dst = rot90(src, k)` for one `n x n` plane, counter-clockwise like
    /// `torch.rot90(x, k, dims=(-2, -1))` / `numpy.rot90`:
    /// k=1: `dst[y][x] = src[x][n-1-y]`; k=2: `src[n-1-y][n-1-x]`; k=3: `src[n-1-x][y]`.
    public static func rotatePlane(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, size n: Int,
                                   quarterTurns k: Int) {
        switch ((k % 4) + 4) % 4 {
        case 0:
            dst.update(from: src, count: n * n)
        case 1:
            for y in 0..<n { for x in 0..<n { dst[y * n + x] = src[x * n + (n - 1 - y)] } }
        case 2:
            for i in 0..<(n * n) { dst[i] = src[n * n - 1 - i] }
        default:
            for y in 0..<n { for x in 0..<n { dst[y * n + x] = src[(n - 1 - x) * n + y] } }
        }
    }

    /// Zeroes rows `[cy - size/2, cy - size/2 + size)` x the same columns around `cx`,
    /// clipped to the image, in every channel.
    public static func cutout(_ x: UnsafeMutablePointer<Float>, channels: Int, height h: Int, width w: Int,
                              centreY cy: Int, centreX cx: Int, size: Int) {
        let y0 = min(max(cy - size / 2, 0), h), y1 = min(max(cy - size / 2 + size, 0), h)
        let x0 = min(max(cx - size / 2, 0), w), x1 = min(max(cx - size / 2 + size, 0), w)
        guard y0 < y1, x0 < x1 else { return }
        for c in 0..<channels {
            for y in y0..<y1 { (x + (c * h + y) * w + x0).update(repeating: 0, count: x1 - x0) }
        }
    }

    /// Pastes `box` into every sample `i` of `images` `[count, C, H, W]` from sample
    /// `box.permutation[i]` as it was before any pasting.
    public static func cutMix(_ images: UnsafeMutablePointer<Float>, count n: Int, channels c: Int,
                              height h: Int, width w: Int, box: AugmentationPlan.CutMixBox) {
        precondition(box.permutation.count == n, "CutMix permutation of \(box.permutation.count) for \(n) samples")
        let bh = box.y1 - box.y0, bw = box.x1 - box.x0
        guard bh > 0, bw > 0 else { return }
        let patch = c * bh * bw
        let saved = UnsafeMutablePointer<Float>.allocate(capacity: n * patch)
        defer { saved.deallocate() }
        for i in 0..<n {
            for ch in 0..<c {
                for y in 0..<bh {
                    (saved + i * patch + (ch * bh + y) * bw)
                        .update(from: images + ((i * c + ch) * h + box.y0 + y) * w + box.x0, count: bw)
                }
            }
        }
        for i in 0..<n {
            let j = box.permutation[i]
            for ch in 0..<c {
                for y in 0..<bh {
                    (images + ((i * c + ch) * h + box.y0 + y) * w + box.x0)
                        .update(from: saved + j * patch + (ch * bh + y) * bw, count: bw)
                }
            }
        }
    }
}
