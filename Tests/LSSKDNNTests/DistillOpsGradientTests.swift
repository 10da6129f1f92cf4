import XCTest
import LSSKDTensor
@testable import LSSKDNN

/// softmaxKL (DistillOps.swift, C kernel lsk_softmax_kl): the value against a Double
/// evaluation of the definition, finite-difference gradients (GradCheck.swift) at T = 1 and 3,
/// the accumulate path (student used twice), stability on logits of magnitude 1e4, and
/// shape errors.
final class DistillOpsGradientTests: XCTestCase {
    override func setUp() { BufferPool.shared.poisonsBlocks = true }
    override func tearDown() { BufferPool.shared.poisonsBlocks = false }

    /// `T^2 / N * sum_r KL(softmax(t_r / T) || softmax(s_r / T))` in Double.
    func klDouble(_ s: Tensor, _ t: Tensor, _ T: Double) -> Double {
        let (rows, classes) = (s.shape[0], s.shape[1])
        var total = 0.0
        for r in 0..<rows {
            let xs = (0..<classes).map { Double(s[flat: r * classes + $0]) / T }
            let xt = (0..<classes).map { Double(t[flat: r * classes + $0]) / T }
            let (ms, mt) = (xs.max()!, xt.max()!)
            let ls = log(xs.reduce(0) { $0 + exp($1 - ms) }) + ms
            let lt = log(xt.reduce(0) { $0 + exp($1 - mt) }) + mt
            for c in 0..<classes { total += exp(xt[c] - lt) * ((xt[c] - lt) - (xs[c] - ls)) }
        }
        return T * T * total / Double(rows)
    }

    func testValue() throws {
        var rng = RNG(seed: 21)
        for (rows, classes) in [(3, 10), (4, 7), (2, 100)] {
            let s = param([rows, classes], &rng, scale: 4), t = Tensor.uniform([rows, classes], low: -4, high: 4, rng: &rng)
            for T: Float in [1, 3] {
                let got = Double(try softmaxKL(student: s, teacher: t, temperature: T).value.scalar)
                let want = klDouble(s.value, t, Double(T))
                XCTAssertEqual(got, want, accuracy: 1e-5 * max(1, abs(want)), "\(rows)x\(classes) T=\(T)")
                XCTAssertGreaterThan(want, 0)
            }
            // identical distributions: zero loss
            XCTAssertEqual(Double(try softmaxKL(student: s, teacher: s.value, temperature: 2).value.scalar), 0,
                           accuracy: 1e-6)
        }
    }

    func testGradients() {
        var rng = RNG(seed: 22)
        let s = param([3, 7], &rng, scale: 2)
        let t = Tensor.uniform([3, 7], low: -2, high: 2, rng: &rng), t2 = Tensor.uniform([3, 7], low: -2, high: 2, rng: &rng)
        for T: Float in [1, 3] {
            assertGradients([s], "softmaxKL T=\(T)") { try softmaxKL(student: $0[0], teacher: t, temperature: T) }
        }
        // the student used twice: the second backward accumulates
        assertGradients([s], "softmaxKL student reused (accumulate)") { v in
            try softmaxKL(student: v[0], teacher: t, temperature: 3) + softmaxKL(student: v[0], teacher: t2, temperature: 1)
        }
        // the teacher as a Variable is detached: no gradient reaches it
        let tv = Variable(t, requiresGrad: true)
        assertGradients([s], "softmaxKL teacher variable") { try softmaxKL(student: $0[0], teacher: tv, temperature: 2) }
        XCTAssertNil(tv.grad)
    }

    func testLargeLogits() throws {
        var rng = RNG(seed: 23)
        let s = param([4, 400], &rng, scale: 1e4)
        var t = s.value
        t.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] += Float(rng.nextInt(below: 21) - 10) } }
        let y = try softmaxKL(student: s, teacher: t, temperature: 3)
        try y.backward()
        XCTAssertTrue(y.value.scalar.isFinite)
        XCTAssertEqual(Double(y.value.scalar), klDouble(s.value, t, 3), accuracy: 1e-4 * max(1, klDouble(s.value, t, 3)))
        let g = s.grad!
        XCTAssertTrue((0..<g.count).allSatisfy { g[flat: $0].isFinite })
    }

    func testShapeErrors() {
        var rng = RNG(seed: 24)
        let s = param([2, 5], &rng), flat = param([10], &rng)
        XCTAssertThrowsError(try softmaxKL(student: s, teacher: Tensor(zeros: [2, 4])))
        XCTAssertThrowsError(try softmaxKL(student: flat, teacher: flat.value))
        XCTAssertThrowsError(try softmaxKL(student: s, teacher: s.value, temperature: 0))
    }
}
