/// How images are resampled to the dataset's size.
public enum ResizeFilter: String, Sendable, CaseIterable {
    /// Box filter: each output pixel is the average of the input area it covers, with
    /// fractional weights at the edges (PIL's BOX, OpenCV's INTER_AREA when shrinking).
    /// Anti-aliased when shrinking, which is what photos resized to 32x32 need.
    case area
    /// Two-tap linear interpolation in each direction at half-pixel centres, no
    /// anti-aliasing (OpenCV's INTER_LINEAR, PyTorch's `align_corners=False`).
    case bilinear
}

/// Separable resampling weights along one axis: output `o` is
/// `sum_k weights[o][k] * input[start[o] + k]`; each row of weights sums to 1.
struct ResampleTaps {
    var start: [Int]
    var weights: [[Float]]

    init(input n: Int, output m: Int, filter: ResizeFilter) {
        precondition(n > 0 && m > 0, "resample sizes must be positive")
        start = []
        weights = []
        start.reserveCapacity(m)
        weights.reserveCapacity(m)
        let scale = Double(n) / Double(m)
        for o in 0..<m {
            switch filter {
            case .area:
                let lo = Double(o) * scale, hi = Double(o + 1) * scale
                let first = min(Int(lo.rounded(.down)), n - 1)
                let last = max(min(Int(hi.rounded(.up)), n), first + 1)  // exclusive
                var w = [Float]()
                for i in first..<last {
                    let overlap = min(hi, Double(i + 1)) - max(lo, Double(i))
                    w.append(Float(max(overlap, 0) / scale))
                }
                // Drop zero-weight taps at either end (exact boundaries).
                var s = first
                while w.count > 1 && w[0] == 0 { w.removeFirst(); s += 1 }
                while w.count > 1 && w[w.count - 1] == 0 { w.removeLast() }
                start.append(s)
                weights.append(w)
            case .bilinear:
                let centre = min(max((Double(o) + 0.5) * scale - 0.5, 0), Double(n - 1))
                let i0 = Int(centre.rounded(.down))
                let frac = centre - Double(i0)
                if i0 + 1 < n && frac > 0 {
                    start.append(i0)
                    weights.append([Float(1 - frac), Float(frac)])
                } else {
                    start.append(i0)
                    weights.append([1])
                }
            }
        }
    }
}

/// Resizes planar 8-bit channels `[channels, inHeight, inWidth]` to
/// `[channels, outHeight, outWidth]`: a horizontal pass into floats, a vertical pass,
/// then rounding to the nearest integer. Equal sizes return the input unchanged.
func resizePlanar(_ src: [UInt8], channels: Int, inHeight: Int, inWidth: Int,
                  outHeight: Int, outWidth: Int, filter: ResizeFilter) -> [UInt8] {
    precondition(src.count == channels * inHeight * inWidth, "resize: pixel count does not match the size")
    if inHeight == outHeight && inWidth == outWidth { return src }
    let tx = ResampleTaps(input: inWidth, output: outWidth, filter: filter)
    let ty = ResampleTaps(input: inHeight, output: outHeight, filter: filter)
    var tmp = [Float](repeating: 0, count: inHeight * outWidth)
    var dst = [UInt8](repeating: 0, count: channels * outHeight * outWidth)
    src.withUnsafeBufferPointer { s in
        for c in 0..<channels {
            let plane = c * inHeight * inWidth
            for y in 0..<inHeight {
                let row = plane + y * inWidth
                for o in 0..<outWidth {
                    var acc: Float = 0
                    let st = tx.start[o]
                    for (k, w) in tx.weights[o].enumerated() { acc += w * Float(s[row + st + k]) }
                    tmp[y * outWidth + o] = acc
                }
            }
            let outPlane = c * outHeight * outWidth
            for o in 0..<outHeight {
                let st = ty.start[o], ws = ty.weights[o]
                for x in 0..<outWidth {
                    var acc: Float = 0
                    for (k, w) in ws.enumerated() { acc += w * tmp[(st + k) * outWidth + x] }
                    dst[outPlane + o * outWidth + x] = UInt8(min(max(acc.rounded(), 0), 255))
                }
            }
        }
    }
    return dst
}

/// Converts planar 8-bit channels between grey (1) and RGB (3): RGB to grey with the
/// ITU-R 601 luma weights in PIL's fixed point (`L = (19595 R + 38470 G + 7471 B + 2^15) >> 16`,
/// as `Image.convert("L")`); grey to RGB by replication.
func convertChannels(_ src: [UInt8], from: Int, to: Int, plane: Int) -> [UInt8] {
    precondition(src.count == from * plane, "convertChannels: pixel count does not match")
    if from == to { return src }
    if from == 1 && to == 3 { return src + src + src }
    precondition(from == 3 && to == 1, "convertChannels: only 1 <-> 3 channels")
    var out = [UInt8](repeating: 0, count: plane)
    for i in 0..<plane {
        let r = UInt32(src[i]), g = UInt32(src[plane + i]), b = UInt32(src[2 * plane + i])
        out[i] = UInt8((19595 * r + 38470 * g + 7471 * b + 0x8000) >> 16)
    }
    return out
}
