import XCTest
import LSSKDData
import LSSKDModels
import LSSKDNN
import LSSKDTensor
import LSSKDTrain
@testable import LSSKDDistill

final class MemoryTests: XCTestCase {
    func testHalfMemoryRoundTripsAndPacksExactly() throws {
        let m = PredictionMemory(samples: 3, width: 5, precision: .half)
        XCTAssertNil(m.row(1))
        let v: [Float] = [0.1, 0.2, 0.3, 0.25, 0.15]
        v.withUnsafeBufferPointer { m.write(1, from: $0.baseAddress!) }
        let r = try XCTUnwrap(m.row(1))
        for (x, y) in zip(r, v) { XCTAssertEqual(x, HalfPrecision.float(HalfPrecision.bits(y))); XCTAssertEqual(x, y, accuracy: 1e-3) }
        let copy = PredictionMemory(samples: 3, width: 5, precision: .half)
        try copy.load(Dictionary(uniqueKeysWithValues: m.stateDict(prefix: "p")), prefix: "p")
        XCTAssertEqual(copy.row(1), r)
        XCTAssertNil(copy.row(0))
        XCTAssertThrowsError(try PredictionMemory(samples: 4, width: 5).load(Dictionary(uniqueKeysWithValues: m.stateDict(prefix: "p")), prefix: "p"))
    }

    /// A memory for a subset (a --fraction run) has one row per sample of the subset, addressed
    /// by the samples' stable indices; the checkpoint state has the subset's size.
    func testSubsetMemoryHasOneRowPerSample() throws {
        let m = PredictionMemory(indices: [40, 7, 2], width: 2, precision: .fp32)
        XCTAssertEqual(m.samples, 3)
        XCTAssertEqual(m.byteCount, 3 * 2 * 4)
        let a: [Float] = [0.25, 0.75], b: [Float] = [0.5, 0.5]
        a.withUnsafeBufferPointer { m.write(40, from: $0.baseAddress!) }
        b.withUnsafeBufferPointer { m.write(2, from: $0.baseAddress!) }
        XCTAssertEqual(m.row(40), a)
        XCTAssertEqual(m.row(2), b)
        XCTAssertNil(m.row(7))
        XCTAssertFalse(m.isWritten(7))
        let state = Dictionary(uniqueKeysWithValues: m.stateDict(prefix: "p"))
        XCTAssertEqual(state["p.written"]?.count, 3)
        let copy = PredictionMemory(indices: [40, 7, 2], width: 2, precision: .fp32)
        try copy.load(state, prefix: "p")
        XCTAssertEqual(copy.row(40), a)
        XCTAssertEqual(copy.row(2), b)
        // A subset of the 50,000 CIFAR-100 images: memory sized by the 2 samples, not by index 49,999.
        XCTAssertEqual(PredictionMemory(indices: [3, 49_999], width: 400).byteCount, 2 * 400 * 2)
    }

    func testScheduleIsPSKDs() {
        XCTAssertEqual(SoftTargets.alpha(alphaT: 0.8, epoch: 0, epochs: 10), 0)
        XCTAssertEqual(SoftTargets.alpha(alphaT: 0.8, epoch: 1, epochs: 10), 0.16, accuracy: 1e-7)
        XCTAssertEqual(SoftTargets.alpha(alphaT: 0.8, epoch: 9, epochs: 10), 0.8, accuracy: 1e-7)
    }

    /// Epoch 0: one-hot targets. After a step the memories hold the step's train-mode
    /// softmax; at epoch 1 the targets are (1-a_1) onehot + a_1 * stored prediction, and the
    /// step's `ce` term is the cross-entropy against exactly that target.
    func testLSSKDTargetsComeFromLastEpochsPredictions() throws {
        let ds = syntheticDataset(count: 8, size: 8, classes: 3)
        let (net, rngAfter) = try tinyResNet()
        var rng = rngAfter
        let method = LSSKD(model: net, classes: 3, sampleIndices: ds.originalIndices, rng: &rng)
        let l = loader(ds, batch: 4)
        net.train(); method.auxiliary!.train()
        let batch = l.batch(epoch: 0, index: 0)
        let epochs = 4, n = 3, w = 12

        let t0 = method.finalTargets(labels: batch.labels, indices: batch.indices, epoch: 0, epochs: epochs).scalars
        for i in 0..<4 { for j in 0..<4 { for c in 0..<n {
            XCTAssertEqual(t0[(4 * i + j) * n + c], j == 0 && c == batch.labels[i] ? 1 : 0, "epoch 0 final target row \(4 * i + j)")
        } } }
        let k0 = method.branchTargets(1, labels: batch.labels, indices: batch.indices, epoch: 0, epochs: epochs).scalars
        for i in 0..<4 { for j in 0..<4 { for c in 0..<w {
            XCTAssertEqual(k0[(4 * i + j) * w + c], c == 4 * batch.labels[i] + j ? 1 : 0)
        } } }

        let out0 = try method.step(model: net, batch: batch, epoch: 0, epochs: epochs)
        XCTAssertEqual(out0.terms.map(\.name), ["ce", "sad", "kl", "feat"])
        XCTAssertEqual(out0.logits.shape, [4, n])
        let p0 = try softmax(out0.logits).scalars
        for (i, idx) in batch.indices.enumerated() {
            let row = try XCTUnwrap(method.finalMemory!.row(idx))
            for c in 0..<n { XCTAssertEqual(row[c], p0[i * n + c], accuracy: 1e-3, "P[\(idx)] is the train-mode softmax") }
            for s in 0..<3 {
                let q = try XCTUnwrap(method.branchMemories[s].row(idx))
                XCTAssertEqual(q.count, 4 * w)
                for j in 0..<4 { XCTAssertEqual(q[(j * w)..<((j + 1) * w)].reduce(0, +), 1, accuracy: 1e-2) }
            }
        }
        // Samples of the other batch were never seen: no prediction.
        let other = l.batch(epoch: 0, index: 1)
        XCTAssertNil(method.finalMemory!.row(other.indices[0]))

        // Epoch 1: a_1 = 0.8 * 2 / 4 = 0.4.
        let a: Float = 0.4
        XCTAssertEqual(method.alpha(epoch: 1, epochs: epochs), a, accuracy: 1e-7)
        let t1 = method.finalTargets(labels: batch.labels, indices: batch.indices, epoch: 1, epochs: epochs)
        let t1s = t1.scalars
        for (i, idx) in batch.indices.enumerated() {
            let p = method.finalMemory!.row(idx)!
            for c in 0..<n {
                let want = (1 - a) * (c == batch.labels[i] ? 1 : 0) + a * p[c]
                XCTAssertEqual(t1s[4 * i * n + c], want, accuracy: 1e-6)
                XCTAssertEqual(t1s[(4 * i + 1) * n + c], 0, "rotated rows carry no final-classifier target")
            }
        }
        let k1 = method.branchTargets(2, labels: batch.labels, indices: batch.indices, epoch: 1, epochs: epochs).scalars
        for (i, idx) in batch.indices.enumerated() {
            let q = method.branchMemories[2].row(idx)!
            for j in 0..<4 { for c in 0..<w {
                let want = (1 - a) * (c == 4 * batch.labels[i] + j ? 1 : 0) + a * q[j * w + c]
                XCTAssertEqual(k1[(4 * i + j) * w + c], want, accuracy: 1e-6)
            } }
        }
        // Unseen samples fall back to one-hot even at epoch 1.
        let tOther = method.finalTargets(labels: other.labels, indices: other.indices, epoch: 1, epochs: epochs).scalars
        XCTAssertEqual(Array(tOther[0..<n]), (0..<n).map { $0 == other.labels[0] ? 1 : 0 })

        let out1 = try method.step(model: net, batch: batch, epoch: 1, epochs: epochs)
        var plainTargets = [Float]()
        for i in 0..<4 { plainTargets += t1s[(4 * i * n)..<(4 * i * n + n)] }
        let expected = try softmaxCrossEntropy(logits: Variable(out1.logits), targets: Tensor(shape: [4, n], scalars: plainTargets))
        XCTAssertEqual(out1.terms[0].value.value.scalar, expected.value.scalar, accuracy: 1e-5)
        let hard = try crossEntropy(logits: Variable(out1.logits), labels: batch.labels)
        XCTAssertGreaterThan(abs(hard.value.scalar - expected.value.scalar), 1e-4, "the soft target must differ from one-hot")
        // The memory now holds epoch 1's prediction.
        let p1 = try softmax(out1.logits).scalars
        XCTAssertEqual(method.finalMemory!.row(batch.indices[0])![0], p1[0], accuracy: 1e-3)
    }

    func testPSKDTargets() throws {
        let ds = syntheticDataset(count: 8, size: 8, classes: 3)
        let (net, _) = try tinyResNet()
        let method = PSKD(classes: 3, sampleIndices: ds.originalIndices, alphaT: 0.8)
        net.train()
        let batch = loader(ds, batch: 4).batch(epoch: 0, index: 0)
        XCTAssertEqual(method.targets(labels: batch.labels, indices: batch.indices, epoch: 0, epochs: 2).scalars,
                       try Tensor.oneHot(batch.labels, classes: 3).scalars)
        let out = try method.step(model: net, batch: batch, epoch: 0, epochs: 2)
        let p = try softmax(out.logits).scalars
        let t = method.targets(labels: batch.labels, indices: batch.indices, epoch: 1, epochs: 2).scalars  // a = 0.8
        for i in 0..<4 { for c in 0..<3 {
            XCTAssertEqual(t[i * 3 + c], 0.2 * (c == batch.labels[i] ? 1 : 0) + 0.8 * p[i * 3 + c], accuracy: 1e-3)
        } }
    }
}

#if !(os(macOS) && arch(x86_64))  // the reference, Float16, does not exist there
final class HalfPrecisionTests: XCTestCase {
    /// The software conversions (used where Swift has no Float16) agree with Float16 bit for
    /// bit: every half value round-trips, and float32 values (random, near ties, subnormal,
    /// overflowing) round the same way.
    func testSoftwareConversionMatchesFloat16() {
        for h in 0...UInt16.max {
            let f = HalfPrecision.softwareFloat(h)
            let ref = Float(Float16(bitPattern: h))
            if ref.isNaN { XCTAssertTrue(f.isNaN); continue }
            XCTAssertEqual(f.bitPattern, ref.bitPattern, "half \(h)")
            XCTAssertEqual(HalfPrecision.softwareBits(ref), h, "round trip of half \(h)")
        }
        var rng = RNG(seed: 9)
        var samples: [Float] = [0, -0, 65504, 65519.99, 65520, 1e9, -1e9, 6e-8, 3e-8, 2.98e-8, 1e-10, .infinity, -.infinity]
        for _ in 0..<20_000 {
            samples.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next())))
            samples.append(rng.uniform(-2, 2) * Float(1 << rng.nextInt(below: 20)) * 0x1p-14)
        }
        for h in stride(from: 0, through: 0x7BFF, by: 7) {  // exact ties between neighbouring halves
            let a = Float(Float16(bitPattern: UInt16(h))), b = Float(Float16(bitPattern: UInt16(h + 1)))
            samples.append((a + b) / 2)
        }
        for f in samples where !f.isNaN {
            XCTAssertEqual(HalfPrecision.softwareBits(f), Float16(f).bitPattern, "float \(f)")
        }
        XCTAssertTrue(HalfPrecision.softwareFloat(HalfPrecision.softwareBits(.nan)).isNaN)
    }
}
#endif
