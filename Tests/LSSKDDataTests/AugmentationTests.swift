import XCTest
import LSSKDTensor
@testable import LSSKDData

final class AugmentationTests: XCTestCase {
    typealias Plan = AugmentationPlan

    /// [n, c, h, w] with values 1 + random in [0, 1): never the pad value 0.
    private func randomImages(_ n: Int, _ c: Int, _ h: Int, _ w: Int, seed: UInt64 = 1) -> Tensor {
        var rng = RNG(seed: seed)
        return Tensor(shape: [n, c, h, w], scalars: (0..<(n * c * h * w)).map { _ in 1 + rng.nextFloat() })
    }

    private func at(_ t: Tensor, _ i: Int, _ c: Int, _ y: Int, _ x: Int) -> Float {
        t[flat: ((i * t.shape[1] + c) * t.shape[2] + y) * t.shape[3] + x]
    }

    func testPadCropTakesImageValuesOrPad() {
        let x = randomImages(1, 2, 6, 5)
        let values = Set(x.scalars)
        for top in 0...8 {
            for left in 0...8 {
                for flip in [false, true] {
                    var y = x
                    Plan(samples: [.init(crop: .init(y: top, x: left), flip: flip)], padding: 4).apply(to: &y)
                    var zeros = 0
                    for c in 0..<2 {
                        for r in 0..<6 {
                            for col in 0..<5 {
                                let v = at(y, 0, c, r, col)
                                XCTAssertTrue(v == 0 || values.contains(v))
                                // The exact mapping: padded[r + top][col' + left], col' mirrored if flipped.
                                let sr = r + top - 4, sc = (flip ? 4 - col : col) + left - 4
                                let expected: Float = sr >= 0 && sr < 6 && sc >= 0 && sc < 5 ? at(x, 0, c, sr, sc) : 0
                                XCTAssertEqual(v, expected)
                                if v == 0 { zeros += 1 }
                            }
                        }
                    }
                    let inside = max(0, min(6, 6 + top - 4) - max(0, top - 4)) * max(0, min(5, 5 + left - 4) - max(0, left - 4))
                    XCTAssertEqual(zeros, 2 * (30 - inside), "pad area at offset (\(top), \(left))")
                }
            }
        }
        var centred = x
        Plan(samples: [.init(crop: .init(y: 4, x: 4))], padding: 4).apply(to: &centred)
        XCTAssertEqual(centred.scalars, x.scalars, "the centred crop is the image")
    }

    func testFlipTwiceIsIdentity() {
        let x = randomImages(3, 2, 4, 7)
        var y = x
        let plan = Plan(samples: Array(repeating: .init(flip: true), count: 3))
        plan.apply(to: &y)
        XCTAssertEqual(at(y, 1, 1, 2, 0), at(x, 1, 1, 2, 6))
        XCTAssertNotEqual(y.scalars, x.scalars)
        plan.apply(to: &y)
        XCTAssertEqual(y.scalars, x.scalars)
    }

    func testRotationHandExampleAndFourQuarterTurns() throws {
        let x = Tensor(shape: [1, 1, 3, 3], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        // Counter-clockwise, as torch.rot90(x, k, dims=(2, 3)) / numpy.rot90.
        XCTAssertEqual(try RotationExpansion.rotated(x, quarterTurns: 1).scalars, [3, 6, 9, 2, 5, 8, 1, 4, 7])
        XCTAssertEqual(try RotationExpansion.rotated(x, quarterTurns: 2).scalars, [9, 8, 7, 6, 5, 4, 3, 2, 1])
        XCTAssertEqual(try RotationExpansion.rotated(x, quarterTurns: 3).scalars, [7, 4, 1, 8, 5, 2, 9, 6, 3])
        var y = x
        Plan(samples: [.init(rotation: 1)]).apply(to: &y)
        XCTAssertEqual(y.scalars, [3, 6, 9, 2, 5, 8, 1, 4, 7], "the plan rotates the same way")

        let r = randomImages(2, 3, 5, 5)
        var z = r
        for _ in 0..<4 { z = try RotationExpansion.rotated(z, quarterTurns: 1) }
        XCTAssertEqual(z.scalars, r.scalars)
        XCTAssertEqual(try RotationExpansion.rotated(try RotationExpansion.rotated(r, quarterTurns: 1), quarterTurns: 3).scalars,
                       r.scalars)
    }

    func testCutoutZeroesOneClippedSquare() {
        let h = 8, w = 10
        for (cy, cx, size) in [(4, 5, 4), (0, 0, 4), (7, 9, 4), (1, 8, 16), (3, 3, 3)] {
            var y = Tensor(ones: [1, 2, h, w])
            Plan(samples: [.init(cutout: .init(y: cy, x: cx))], cutoutSize: size).apply(to: &y)
            let y0 = max(cy - size / 2, 0), y1 = min(cy - size / 2 + size, h)
            let x0 = max(cx - size / 2, 0), x1 = min(cx - size / 2 + size, w)
            for c in 0..<2 {
                for r in 0..<h {
                    for col in 0..<w {
                        let inHole = r >= y0 && r < y1 && col >= x0 && col < x1
                        XCTAssertEqual(at(y, 0, c, r, col), inHole ? 0 : 1, "centre (\(cy), \(cx)) size \(size) at (\(r), \(col))")
                    }
                }
            }
            XCTAssertEqual(y.scalars.filter { $0 == 0 }.count, 2 * (y1 - y0) * (x1 - x0))
        }
        var unclipped = Tensor(ones: [1, 1, 32, 32])
        Plan(samples: [.init(cutout: .init(y: 16, x: 16))], cutoutSize: 16).apply(to: &unclipped)
        XCTAssertEqual(unclipped.scalars.filter { $0 == 0 }.count, 256, "a 16x16 hole away from the borders")
    }

    func testCutMixLambdaIsKeptAreaFraction() {
        let n = 6, h = 8, w = 8
        var mixedBatches = 0
        for batch in 0..<40 {
            let plan = Plan(Augmentation(cutMix: true, cutMixProbability: 1), count: n, height: h, width: w,
                            seed: 3, epoch: 0, batch: batch)
            guard let m = plan.cutMix else { return XCTFail("probability 1 mixes every batch") }
            XCTAssertEqual(m.permutation.sorted(), Array(0..<n))
            // Sample i is filled with i + 1.
            var x = Tensor(shape: [n, 1, h, w], scalars: (0..<n).flatMap { [Float](repeating: Float($0 + 1), count: h * w) })
            plan.apply(to: &x)
            let area = (m.y1 - m.y0) * (m.x1 - m.x0)
            XCTAssertEqual(m.lambda, 1 - Float(area) / Float(h * w), accuracy: 1e-6)
            for i in 0..<n {
                var own = 0
                for r in 0..<h {
                    for c in 0..<w {
                        let inBox = r >= m.y0 && r < m.y1 && c >= m.x0 && c < m.x1
                        let v = at(x, i, 0, r, c)
                        XCTAssertEqual(v, Float((inBox ? m.permutation[i] : i) + 1))
                        if v == Float(i + 1) { own += 1 }
                    }
                }
                if m.permutation[i] != i {
                    XCTAssertEqual(Float(own) / Float(h * w), m.lambda, accuracy: 1e-6, "lambda = kept area")
                }
            }
            if area > 0 { mixedBatches += 1 }
        }
        XCTAssertGreaterThan(mixedBatches, 30)

        // Through the loader: labelsB are the labels of the pasted samples.
        let ds = ImageDataset(pixels: (0..<8).flatMap { [UInt8](repeating: UInt8($0 * 20), count: 16) },
                              labels: (0..<8).map { Int32($0 % 5) }, channels: 1, height: 4, width: 4, classCount: 5)
        let loader = BatchLoader(dataset: ds, batchSize: 4, normalization: ChannelNormalization(mean: [0], std: [1]),
                                 shuffle: true, dropLast: true, seed: 9,
                                 augmentation: Augmentation(cutMix: true, cutMixProbability: 1))
        let b = loader.batch(epoch: 2, index: 1)
        let plan = loader.augmentationPlan(epoch: 2, batch: 1, count: 4)
        XCTAssertEqual(b.labelsB, plan.cutMix!.permutation.map { b.labels[$0] })
        XCTAssertEqual(b.lambda, plan.cutMix!.lambda)
        let plain = BatchLoader(dataset: ds, batchSize: 4, normalization: ChannelNormalization(mean: [0], std: [1]),
                                shuffle: true, dropLast: true, seed: 9).batch(epoch: 2, index: 1)
        XCTAssertNil(plain.labelsB)
        XCTAssertEqual(plain.lambda, 1)
    }

    func testCutMixProbabilityZeroAndBetaSampler() {
        let p0 = Plan(Augmentation(cutMix: true, cutMixProbability: 0), count: 4, height: 4, width: 4, seed: 1, epoch: 0, batch: 0)
        XCTAssertNil(p0.cutMix)
        var rng = RNG(seed: 5)
        for alpha in [0.5, 1.0, 2.0] {
            let draws = (0..<4000).map { _ in Plan.sampleBeta(alpha, &rng) }
            XCTAssertTrue(draws.allSatisfy { $0 >= 0 && $0 <= 1 })
            let mean = draws.reduce(0, +) / Double(draws.count)
            let variance = draws.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(draws.count)
            XCTAssertEqual(mean, 0.5, accuracy: 0.03, "Beta(a, a) has mean 1/2")
            XCTAssertEqual(variance, 1 / (4 * (2 * alpha + 1)), accuracy: 0.015, "Beta(a, a) variance")
        }
    }

    /// Batches of 32x32 RGB with every augmentation on.
    private func loader(seed: UInt64, augmentation: Augmentation) -> BatchLoader {
        var rng = RNG(seed: 4)
        let n = 20
        let ds = ImageDataset(pixels: (0..<(n * 3 * 32 * 32)).map { _ in UInt8(rng.nextInt(below: 256)) },
                              labels: (0..<n).map { Int32($0 % 10) }, channels: 3, height: 32, width: 32, classCount: 10)
        return BatchLoader(dataset: ds, batchSize: 8, normalization: ChannelNormalization(statisticsOf: ds), shuffle: true,
                           dropLast: false, seed: seed, augmentation: augmentation)
    }

    func testSameSeedEpochBatchGiveSameAugmentedBatch() throws {
        var all = Augmentation.standardCutMix
        all.cutout = true
        all.randomRotation90 = true
        all.cutMixProbability = 1
        let a = loader(seed: 11, augmentation: all), b = loader(seed: 11, augmentation: all)
        // The background path (forEachBatch) and the synchronous one agree, in any order of calls.
        var background = [Batch]()
        try a.forEachBatch(epoch: 3) { _, batch in background.append(batch) }
        for bi in (0..<a.batchesPerEpoch).reversed() {
            let s = b.batch(epoch: 3, index: bi)
            XCTAssertEqual(s.images.scalars, background[bi].images.scalars, "batch \(bi)")
            XCTAssertEqual(s.labels, background[bi].labels)
            XCTAssertEqual(s.labelsB, background[bi].labelsB)
            XCTAssertEqual(s.lambda, background[bi].lambda)
            XCTAssertEqual(s.indices, background[bi].indices)
        }
        XCTAssertEqual(a.augmentationPlan(epoch: 3, batch: 1, count: 8), b.augmentationPlan(epoch: 3, batch: 1, count: 8))
        XCTAssertNotEqual(a.augmentationPlan(epoch: 3, batch: 1, count: 8), a.augmentationPlan(epoch: 4, batch: 1, count: 8))
        XCTAssertNotEqual(a.augmentationPlan(epoch: 3, batch: 1, count: 8), a.augmentationPlan(epoch: 3, batch: 2, count: 8))
        XCTAssertNotEqual(a.augmentationPlan(epoch: 3, batch: 1, count: 8),
                          loader(seed: 12, augmentation: all).augmentationPlan(epoch: 3, batch: 1, count: 8))

        // The augmented batch is the plan applied to the un-augmented batch (same order).
        let plain = loader(seed: 11, augmentation: .none).batch(epoch: 3, index: 1)
        var expected = plain.images
        a.augmentationPlan(epoch: 3, batch: 1, count: 8).apply(to: &expected)
        XCTAssertEqual(background[1].images.scalars, expected.scalars)
        XCTAssertEqual(plain.indices, background[1].indices, "augmentation does not change the order")
    }

    func testStandardAugmentationPadsWithTheMean() {
        // Every pixel 200: normalised, the image is a constant v; the pad is 0 (the mean).
        let ds = ImageDataset(pixels: [UInt8](repeating: 200, count: 4 * 3 * 32 * 32), labels: [0, 1, 2, 3], channels: 3,
                              height: 32, width: 32, classCount: 4)
        let norm = ChannelNormalization(mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25])
        let l = BatchLoader(dataset: ds, batchSize: 4, normalization: norm, shuffle: false, dropLast: true, seed: 0,
                            augmentation: .standard)
        let v = (Float(200) / 255 - 0.5) / 0.25
        var sawPad = false
        for e in 0..<5 {
            let batch = l.batch(epoch: e, index: 0)
            for s in batch.images.scalars {
                XCTAssertTrue(s == 0 || abs(s - v) < 1e-5)
                if s == 0 { sawPad = true }
            }
        }
        XCTAssertTrue(sawPad)
    }

    func testNamesAndDefaults() {
        XCTAssertEqual(Augmentation(named: "none"), Augmentation.none)
        XCTAssertEqual(Augmentation(named: "standard"), .standard)
        XCTAssertEqual(Augmentation(named: "standard+cutout"), .standardCutout)
        XCTAssertEqual(Augmentation(named: "standard+cutmix"), .standardCutMix)
        XCTAssertEqual(Augmentation(named: "standard+cutout8")?.cutoutSize, 8)
        XCTAssertEqual(Augmentation(named: "flip+rot90"), Augmentation(horizontalFlip: true, randomRotation90: true))
        XCTAssertNil(Augmentation(named: "standard+mixup"))
        XCTAssertNil(Augmentation(named: ""))
        XCTAssertEqual(Augmentation.defaultFor(channels: 3, height: 32, width: 32), .standard)
        XCTAssertEqual(Augmentation.defaultFor(channels: 1, height: 28, width: 28), Augmentation.none)
        XCTAssertTrue(Augmentation.none.isIdentity)
    }

    func testFourRotationExpansionOrderAndJointLabels() throws {
        let b = 3, c = 2, s = 5
        let x = randomImages(b, c, s, s, seed: 9)
        var out = Tensor(repeating: .nan, shape: [4 * b, c, s, s])
        try RotationExpansion.expand(x, into: &out)
        for i in 0..<b {
            for j in 0..<4 {
                for ch in 0..<c {
                    for r in 0..<s {
                        for col in 0..<s {
                            // numpy.rot90 by j quarter turns, written out.
                            let (sr, sc): (Int, Int)
                            switch j {
                            case 0: (sr, sc) = (r, col)
                            case 1: (sr, sc) = (col, s - 1 - r)
                            case 2: (sr, sc) = (s - 1 - r, s - 1 - col)
                            default: (sr, sc) = (s - 1 - col, r)
                            }
                            XCTAssertEqual(at(out, 4 * i + j, ch, r, col), at(x, i, ch, sr, sc), "row \(4 * i + j)")
                        }
                    }
                }
            }
        }
        XCTAssertEqual(RotationExpansion.jointLabels([2, 0, 7]), [8, 9, 10, 11, 0, 1, 2, 3, 28, 29, 30, 31])
        XCTAssertEqual(RotationExpansion.rotationLabels(count: 2), [0, 1, 2, 3, 0, 1, 2, 3])
        XCTAssertEqual(RotationExpansion.unrotatedRows(count: 3), [0, 4, 8])

        // A large batch (threaded path) agrees with the per-sample rotation.
        let big = randomImages(64, 3, 32, 32, seed: 2)
        let e = try RotationExpansion.expand(big)
        for j in 0..<4 {
            let r = try RotationExpansion.rotated(big, quarterTurns: j).scalars
            e.withUnsafeBufferPointer { p in
                for i in stride(from: 0, to: 64, by: 7) {
                    XCTAssertEqual(Array(p[((4 * i + j) * 3072)..<((4 * i + j + 1) * 3072)]), Array(r[(i * 3072)..<((i + 1) * 3072)]))
                }
            }
        }
        var wrong = Tensor(zeros: [4 * b, c, s, s + 1])
        XCTAssertThrowsError(try RotationExpansion.expand(x, into: &wrong))
        XCTAssertThrowsError(try RotationExpansion.expand(Tensor(zeros: [1, 1, 2, 3])))
    }
}
