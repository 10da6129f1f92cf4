import XCTest
import Foundation
@testable import LSSKDTensor

final class TensorTests: XCTestCase {
    func testShapesAndCounts() throws {
        XCTAssertEqual(Tensor(zeros: [2, 3, 4]).count, 24)
        XCTAssertEqual(Tensor(3).shape, [])
        XCTAssertEqual(Tensor(3).count, 1)
        XCTAssertEqual(Tensor(3).scalar, 3)
        XCTAssertEqual(Tensor(zeros: [0, 5]).count, 0)
        XCTAssertEqual(Tensor(repeating: 2, shape: [3]).scalars, [2, 2, 2])
        XCTAssertThrowsError(try Tensor(validating: [1, 2, 3], shape: [2, 2]))
    }

    func testCopyOnWrite() {
        let a = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        var b = a
        XCTAssertTrue(a.sharesStorage(with: b))
        b[flat: 0] = 10
        XCTAssertFalse(a.sharesStorage(with: b))
        XCTAssertEqual(a.scalars, [1, 2, 3, 4])
        XCTAssertEqual(b.scalars, [10, 2, 3, 4])
        // A unique buffer is written in place.
        let before = b.withUnsafeBufferPointer { $0.baseAddress }
        b.withUnsafeMutableBufferPointer { $0[1] = 20 }
        XCTAssertEqual(b.withUnsafeBufferPointer { $0.baseAddress }, before)
        // Kernel wrappers honour copy-on-write too.
        var c = a
        try? Kernels.scale(&c, by: 2)
        XCTAssertEqual(a.scalars, [1, 2, 3, 4])
        XCTAssertEqual(c.scalars, [2, 4, 6, 8])
    }

    func testReshape() throws {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = try a.reshaped([3, -1])
        XCTAssertEqual(b.shape, [3, 2])
        XCTAssertTrue(a.sharesStorage(with: b))
        XCTAssertEqual(try a.reshaped([-1]).shape, [6])
        XCTAssertThrowsError(try a.reshaped([4, 2])) { e in
            XCTAssertEqual((e as? KernelError)?.operation, "Tensor.reshaped")
        }
        XCTAssertThrowsError(try a.reshaped([-1, -1]))
        XCTAssertThrowsError(try a.reshaped([4, -1]))
    }

    func testAssignAndFill() throws {
        var a = Tensor(zeros: [4])
        try a.assign(Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]))
        XCTAssertEqual(a.shape, [4])
        XCTAssertEqual(a.scalars, [1, 2, 3, 4])
        XCTAssertThrowsError(try a.assign(Tensor(zeros: [3])))
        a.fill(-1)
        XCTAssertEqual(a.scalars, [-1, -1, -1, -1])
    }

    // MARK: - Kernel wrappers

    func testKernelErrorsCarryOperationAndStatus() {
        var y = Tensor(zeros: [3])
        XCTAssertThrowsError(try Kernels.reluForward(output: &y, input: Tensor(zeros: [4]))) { e in
            let k = e as? KernelError
            XCTAssertEqual(k?.operation, "lsk_relu_fwd")
            XCTAssertEqual(k?.status, .invalidArgument)
            XCTAssertTrue("\(e)".contains("output has 3 elements"), "\(e)")
        }
        // Rejected by the C library (groups do not divide the channels): status from C.
        let bad = Conv2dDescriptor(batch: 1, inChannels: 3, inHeight: 4, inWidth: 4, outChannels: 4,
                                   kernelHeight: 3, kernelWidth: 3, groups: 2)
        XCTAssertThrowsError(try bad.outputSize()) { e in
            XCTAssertEqual((e as? KernelError)?.operation, "lsk_conv2d_output_size")
            XCTAssertEqual((e as? KernelError)?.status, .invalidArgument)
        }
        var out = Tensor(zeros: [1])
        XCTAssertThrowsError(try Kernels.conv2dForward(bad, output: &out, input: Tensor(zeros: [48]),
                                                       weight: Tensor(zeros: [1]), bias: nil))
        // Negative sizes never reach C (they would become huge size_t values).
        let negative = Conv2dDescriptor(batch: -1, inChannels: 1, inHeight: 4, inWidth: 4, outChannels: 1,
                                        kernelHeight: 3, kernelWidth: 3)
        XCTAssertThrowsError(try negative.outputSize())
        var l = Tensor(zeros: [2])
        XCTAssertThrowsError(try Kernels.linearForward(output: &l, input: Tensor(zeros: [2]), weight: Tensor(zeros: [2]),
                                                       bias: nil, batch: -2, inFeatures: -1, outFeatures: -1))
        // Huge sizes whose product overflows: a thrown error, not a trap.
        XCTAssertThrowsError(try Kernels.linearForward(output: &l, input: Tensor(zeros: [2]), weight: Tensor(zeros: [2]),
                                                       bias: nil, batch: Int.max / 2, inFeatures: 4, outFeatures: 1))
        var sm: Tensor? = nil, g: Tensor? = nil
        XCTAssertThrowsError(try Kernels.softmaxCrossEntropy(logits: Tensor(zeros: [2, 3]), targets: Tensor(zeros: [2, 3]),
                                                             rows: 2, classes: 3, temperature: -1, scale: 1,
                                                             probabilities: &sm, logitsGradient: &g, accumulate: false))
        var pooled = Tensor(zeros: [1])
        var idx = IndexTensor(uninitialized: [1])
        let pd = Pool2dDescriptor(batch: 1, channels: 1, inHeight: 4, inWidth: 4, kernelHeight: 2, kernelWidth: 2,
                                  strideHeight: 2, strideWidth: 2, padHeight: 2, padWidth: 0)  // pad > kernel / 2
        XCTAssertThrowsError(try Kernels.maxPool2dForward(pd, output: &pooled, argmax: &idx, input: Tensor(zeros: [16])))
    }

    func testSgemmWrapper() throws {
        // [2, 3] x [3, 2]
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [3, 2], scalars: [7, 8, 9, 10, 11, 12])
        var c = Tensor(repeating: .nan, shape: [2, 2])
        try Kernels.sgemm(transposeA: false, transposeB: false, m: 2, n: 2, k: 3, alpha: 1, a: a, lda: 3,
                          b: b, ldb: 2, beta: 0, c: &c, ldc: 2)
        XCTAssertEqual(c.scalars, [58, 64, 139, 154])
        // a^T a: [3, 3]
        var d = Tensor(zeros: [3, 3])
        try Kernels.sgemm(transposeA: true, transposeB: false, m: 3, n: 3, k: 2, alpha: 1, a: a, lda: 3,
                          b: a, ldb: 3, beta: 0, c: &d, ldc: 3)
        XCTAssertEqual(d.scalars, [17, 22, 27, 22, 29, 36, 27, 36, 45])
        var small = Tensor(zeros: [3])
        XCTAssertThrowsError(try Kernels.sgemm(transposeA: false, transposeB: false, m: 2, n: 2, k: 3, alpha: 1,
                                               a: a, lda: 3, b: b, ldb: 2, beta: 0, c: &small, ldc: 2))
    }

    func testSoftmaxCrossEntropyValue() throws {
        // One row, logits [0, ln 3] -> p = [1/4, 3/4]; target [0, 1] -> loss = -ln(3/4).
        let logits = Tensor(shape: [1, 2], scalars: [0, Float(log(3.0))])
        let targets = Tensor(shape: [1, 2], scalars: [0, 1])
        var probs: Tensor? = Tensor(uninitialized: [1, 2])
        var grad: Tensor? = Tensor(uninitialized: [1, 2])
        let loss = try Kernels.softmaxCrossEntropy(logits: logits, targets: targets, rows: 1, classes: 2,
                                                   temperature: 1, scale: 1, probabilities: &probs,
                                                   logitsGradient: &grad, accumulate: false)
        XCTAssertEqual(loss, Float(-log(0.75)), accuracy: 1e-6)
        XCTAssertEqual(probs!.scalars[0], 0.25, accuracy: 1e-6)
        XCTAssertEqual(grad!.scalars[0], 0.25, accuracy: 1e-6)
        XCTAssertEqual(grad!.scalars[1], -0.25, accuracy: 1e-6)
    }

    func testOneHot() throws {
        XCTAssertEqual(try Tensor.oneHot([2, 0], classes: 3).scalars, [0, 0, 1, 1, 0, 0])
        XCTAssertThrowsError(try Tensor.oneHot([3], classes: 3))
        XCTAssertThrowsError(try Tensor.oneHot([-1], classes: 3))
    }

    // MARK: - Runtime

    func testRuntimeISAAndThreads() throws {
        let original = Runtime.isa
        XCTAssertTrue(original.isSupported)
        XCTAssertTrue(Runtime.supportedISAs.contains(.scalar))
        try Runtime.setISA(.scalar)
        XCTAssertEqual(Runtime.isa, .scalar)
        if let missing = ISA.allCases.first(where: { !$0.isSupported }) {
            XCTAssertThrowsError(try Runtime.setISA(missing)) { e in
                XCTAssertEqual((e as? KernelError)?.status, .unsupported)
            }
            XCTAssertEqual(Runtime.isa, .scalar, "a failed set changes nothing")
        }
        try Runtime.setISA(nil)
        XCTAssertEqual(Runtime.isa, Runtime.supportedISAs.max { $0.rawValue < $1.rawValue }, "auto = best path")
        try Runtime.setISA(original)
        let r = try Runtime.withISA(.scalar) { Runtime.isa }
        XCTAssertEqual(r, .scalar)
        XCTAssertEqual(Runtime.isa, original)

        let threads = Runtime.threadCount
        XCTAssertGreaterThanOrEqual(threads, 1)
        Runtime.threadCount = 1
        XCTAssertEqual(Runtime.threadCount, 1)
        Runtime.threadCount = 0
        XCTAssertEqual(Runtime.threadCount, threads)
        XCTAssertEqual(Runtime.kernelVersion.split(separator: ".").count, 3)
        XCTAssertEqual("\(ISA.avx2)", "avx2")
    }

    func testKernelsAgreeAcrossISAs() throws {
        // Same GEMM on every available path, within float rounding.
        var rng = RNG(seed: 5)
        let a = Tensor.uniform([7, 13], low: -1, high: 1, rng: &rng)
        let b = Tensor.uniform([13, 5], low: -1, high: 1, rng: &rng)
        var results: [[Float]] = []
        for isa in Runtime.supportedISAs {
            var c = Tensor(zeros: [7, 5])
            try Runtime.withISA(isa) {
                try Kernels.sgemm(transposeA: false, transposeB: false, m: 7, n: 5, k: 13, alpha: 1, a: a, lda: 13,
                                  b: b, ldb: 5, beta: 0, c: &c, ldc: 5)
            }
            results.append(c.scalars)
        }
        for r in results.dropFirst() {
            for (x, y) in zip(r, results[0]) { XCTAssertEqual(x, y, accuracy: 1e-5) }
        }
    }

    // MARK: - Buffer pool

    func testSizeClasses() {
        XCTAssertEqual(BufferPool.sizeClass(0), 64)
        XCTAssertEqual(BufferPool.sizeClass(1), 64)
        XCTAssertEqual(BufferPool.sizeClass(65), 128)
        XCTAssertEqual(BufferPool.sizeClass(4096), 4096)
        XCTAssertEqual(BufferPool.sizeClass(4097), 5120)      // 8192 / 8 steps
        XCTAssertEqual(BufferPool.sizeClass(1 << 20), 1 << 20)
        XCTAssertEqual(BufferPool.sizeClass((1 << 20) + 1), (1 << 20) + (1 << 18))
        for n in [100, 5000, 123_457, 9_999_999] {
            let c = BufferPool.sizeClass(n)
            XCTAssertGreaterThanOrEqual(c, n)
            XCTAssertLessThanOrEqual(Double(c), Double(n) * 1.25 + 64)
        }
    }

    func testPoolReusesBuffersAndIsAligned() {
        let pool = BufferPool.shared
        do { _ = Tensor(zeros: [1000]) }  // warm this size class
        pool.resetCounters()
        for _ in 0..<10 {
            let t = Tensor(zeros: [1000])
            XCTAssertEqual(Int(bitPattern: t.withUnsafeBufferPointer { $0.baseAddress }) % BufferPool.alignment, 0)
        }
        XCTAssertEqual(pool.statistics.misses, 0)
        XCTAssertEqual(pool.statistics.hits, 10)
        // A private pool: counters and trimming.
        let p = BufferPool()
        let (ptr, cls) = p.acquire(byteCount: 100)
        XCTAssertEqual(p.statistics.misses, 1)
        XCTAssertEqual(p.statistics.bytesInUse, cls)
        p.release(ptr, sizeClass: cls)
        XCTAssertEqual(p.statistics.bytesCached, cls)
        let (ptr2, _) = p.acquire(byteCount: 120)  // same class (128)
        XCTAssertEqual(ptr2, ptr)
        XCTAssertEqual(p.statistics.hits, 1)
        p.release(ptr2, sizeClass: cls)
        p.trim()
        XCTAssertEqual(p.statistics.bytesCached, 0)
        p.maxCachedBytes = 0
        let (ptr3, c3) = p.acquire(byteCount: 10)
        p.release(ptr3, sizeClass: c3)
        XCTAssertEqual(p.statistics.bytesCached, 0)
    }

    func testPoolIsThreadSafe() {
        let before = BufferPool.shared.statistics.bytesInUse
        let lock = NSLock()
        var wrong = 0
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            for k in 0..<200 {
                var t = Tensor(repeating: Float(i), shape: [1 + (k % 7) * 100])
                t[flat: 0] = 1
                if t[flat: t.count - 1] != (t.count == 1 ? 1 : Float(i)) { lock.lock(); wrong += 1; lock.unlock() }
            }
        }
        XCTAssertEqual(wrong, 0)
        XCTAssertEqual(BufferPool.shared.statistics.bytesInUse, before)
    }

    // MARK: - RNG and initialisation

    func testRNGMatchesReferenceStream() {
        // Reference values from an independent Python implementation of splitmix64 seeding
        // and xoshiro256** (splitmix64(0) starts 0xe220a8397b1dcdaf, the published value).
        var r0 = RNG(seed: 0)
        XCTAssertEqual(r0.state.words, [0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f, 0xf88bb8a8724c81ec])
        XCTAssertEqual((0..<4).map { _ in r0.next() },
                       [0x99ec5f36cb75f2b4, 0xbf6e1f784956452a, 0x1a5f849d4933e6e0, 0x6aa594f1262d2d2c])
        var r42 = RNG(seed: 42)
        XCTAssertEqual((0..<4).map { _ in r42.next() },
                       [0x15780b2e0c2ec716, 0x6104d9866d113a7e, 0xae17533239e499a1, 0xecb8ad4703b360a1])
    }

    func testRNGReproducibilityAndStateRestore() {
        var a = RNG(seed: 123), b = RNG(seed: 123), c = RNG(seed: 124)
        let sa = (0..<100).map { _ in a.nextFloat() }
        XCTAssertEqual(sa, (0..<100).map { _ in b.nextFloat() })
        XCTAssertNotEqual(sa, (0..<100).map { _ in c.nextFloat() })
        let saved = a.state
        let continued = (0..<50).map { _ in a.normal() }
        var restored = RNG(state: saved)
        XCTAssertEqual(continued, (0..<50).map { _ in restored.normal() })
        // State survives a Codable round trip (checkpoints).
        let data = try! JSONEncoder().encode(saved)
        XCTAssertEqual(try! JSONDecoder().decode(RNG.State.self, from: data), saved)
    }

    func testRNGDistributions() {
        var r = RNG(seed: 9)
        let n = 20000
        let u = (0..<n).map { _ in Double(r.nextFloat()) }
        XCTAssertTrue(u.allSatisfy { $0 >= 0 && $0 < 1 })
        XCTAssertEqual(u.reduce(0, +) / Double(n), 0.5, accuracy: 0.01)
        let z = (0..<n).map { _ in Double(r.normal(mean: 1, std: 2)) }
        let mean = z.reduce(0, +) / Double(n)
        let std = (z.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)).squareRoot()
        XCTAssertEqual(mean, 1, accuracy: 0.05)
        XCTAssertEqual(std, 2, accuracy: 0.05)
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<7000 { counts[r.nextInt(below: 7)] += 1 }
        XCTAssertTrue(counts.allSatisfy { abs($0 - 1000) < 150 }, "\(counts)")
    }

    func testShuffleIsAReproduciblePermutation() {
        var a = RNG(seed: 77), b = RNG(seed: 77)
        let p = a.permutation(100)
        XCTAssertEqual(p.sorted(), Array(0..<100))
        XCTAssertNotEqual(p, Array(0..<100))
        XCTAssertEqual(p, b.permutation(100))
        var words = ["a", "b", "c", "d"]
        a.shuffle(&words)
        XCTAssertEqual(words.sorted(), ["a", "b", "c", "d"])
    }

    func testKaimingInitialisation() {
        var r = RNG(seed: 3)
        // PyTorch Conv2d default: U(-1/sqrt(fanIn), 1/sqrt(fanIn)), fanIn = 16 * 3 * 3.
        let shape = [64, 16, 3, 3]
        XCTAssertEqual(Tensor.fans(shape).fanIn, 144)
        XCTAssertEqual(Tensor.fans(shape).fanOut, 576)
        let u = Tensor.kaimingUniform(shape, rng: &r).scalars
        let bound = Float(1 / 12.0)
        XCTAssertTrue(u.allSatisfy { abs($0) <= bound })
        XCTAssertGreaterThan(u.map(abs).max()!, 0.95 * bound)
        // CIFAR ResNets: N(0, sqrt(2 / fanOut)).
        let z = Tensor.kaimingNormal(shape, mode: .fanOut, nonlinearity: .relu, rng: &r).scalars.map(Double.init)
        let std = (z.map { $0 * $0 }.reduce(0, +) / Double(z.count)).squareRoot()
        XCTAssertEqual(std, (2.0 / 576).squareRoot(), accuracy: 0.03 * (2.0 / 576).squareRoot())
        // Linear fan-in: [out, in].
        XCTAssertEqual(Tensor.fans([10, 32]).fanIn, 32)
        XCTAssertEqual(Nonlinearity.leakyReLU(5.0.squareRoot()).gain, (1.0 / 3).squareRoot(), accuracy: 1e-12)
        let bias = Tensor.pytorchDefaultBias(count: 100, fanIn: 144, rng: &r).scalars
        XCTAssertTrue(bias.allSatisfy { abs($0) <= bound })
    }
}
