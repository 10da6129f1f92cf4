import XCTest
import LSSKDTensor
@testable import LSSKDNN

/// Finite-difference gradient checker (ggml's "grad" mode).
///
/// For an op `f` with output `y`, take the scalar `L = sum_i w_i * y_i` with fixed random
/// `w` (sum in Double). The analytic gradient is what backward writes into the inputs
/// when seeded with `w`; the numeric one is the central difference
/// `(L(x + h e_j) - L(x - h e_j)) / (x_j^+ - x_j^-)` for every element `j` of every
/// input that requires a gradient, evaluated under `withNoGrad`.
///
/// Tolerance: an element passes if `|a - n| <= atol + rtol * max(|a|, |n|)`.
/// Why rel 2e-2 / abs 2e-3 with h = 1e-2 on Float32 kernels: the outputs carry relative
/// rounding error ~1e-7 * sqrt(terms), so L (|w_i y_i| summed over <= a few hundred
/// outputs of magnitude <= ~3) is off by <~1e-5 absolute; divided by 2h that is ~5e-4 of
/// noise in n. Truncation error of the central difference is h^2/6 * f''' ~ 2e-5 * f'''
/// (zero for the linear ops conv/linear/pool/add, O(1) for softmax and batch-norm with
/// unit-scale inputs). Both stay several times below the tolerance, while a gradient that
/// is wrong by 10% (see testCheckerRejectsWrongGradients) exceeds it. Inputs of ReLU and
/// max pooling are kept >= 5h away from kinks and ties so the difference never crosses one.
struct GradCheckReport: CustomStringConvertible {
    struct Failure { var input: Int; var index: Int; var analytic: Double; var numeric: Double }
    var checked = 0
    var failures: [Failure] = []
    var maxAbsError = 0.0
    var passed: Bool { failures.isEmpty && checked > 0 }
    var description: String {
        let head = "checked \(checked) elements, \(failures.count) failures, max abs error \(maxAbsError)"
        return failures.prefix(5).reduce(head) {
            $0 + "\n  input \($1.input)[\($1.index)]: analytic \($1.analytic) numeric \($1.numeric)"
        }
    }
}

func weightedSum(_ y: Tensor, _ w: Tensor) -> Double {
    y.withUnsafeBufferPointer { yp in
        w.withUnsafeBufferPointer { wp in
            var s = 0.0
            for i in 0..<yp.count { s += Double(yp[i]) * Double(wp[i]) }
            return s
        }
    }
}

/// Runs the check. `analyticScale` multiplies the analytic gradient before comparing
/// (1.1 makes a deliberately wrong gradient that must be rejected).
func gradCheck(_ inputs: [Variable], h: Float = 1e-2, rtol: Double = 2e-2, atol: Double = 2e-3,
               seed: UInt64 = 12345, analyticScale: Double = 1,
               _ f: ([Variable]) throws -> Variable) throws -> GradCheckReport {
    for v in inputs { v.releaseGradient() }
    let y = try f(inputs)
    var rng = RNG(seed: seed)
    let w = Tensor.uniform(y.shape, low: -1, high: 1, rng: &rng)
    try y.backward(seed: w)

    var report = GradCheckReport()
    for (k, x) in inputs.enumerated() where x.requiresGrad {
        let analytic = x.grad ?? Tensor(zeros: x.shape)
        for j in 0..<x.value.count {
            let v = x.value[flat: j]
            let vp = v + h, vm = v - h
            x.value[flat: j] = vp
            let lp = try Autograd.withNoGrad { weightedSum(try f(inputs).value, w) }
            x.value[flat: j] = vm
            let lm = try Autograd.withNoGrad { weightedSum(try f(inputs).value, w) }
            x.value[flat: j] = v
            let numeric = (lp - lm) / (Double(vp) - Double(vm))
            let a = Double(analytic[flat: j]) * analyticScale
            let err = abs(a - numeric)
            report.maxAbsError = err.isNaN || report.maxAbsError.isNaN ? .nan : max(report.maxAbsError, err)
            report.checked += 1
            // Written as !(err <= tol) so that a NaN on either side is a failure.
            if !(err <= atol + rtol * max(abs(a), abs(numeric))) {
                report.failures.append(.init(input: k, index: j, analytic: a, numeric: numeric))
            }
        }
    }
    return report
}

/// Asserts that the check passes, and that the same check rejects the gradient scaled by 1.1.
func assertGradients(_ inputs: [Variable], h: Float = 1e-2, rtol: Double = 2e-2, atol: Double = 2e-3,
                     _ label: String, file: StaticString = #filePath, line: UInt = #line,
                     _ f: ([Variable]) throws -> Variable) {
    do {
        let good = try gradCheck(inputs, h: h, rtol: rtol, atol: atol, f)
        XCTAssertTrue(good.passed, "\(label): \(good)", file: file, line: line)
        let bad = try gradCheck(inputs, h: h, rtol: rtol, atol: atol, analyticScale: 1.1, f)
        XCTAssertFalse(bad.failures.isEmpty, "\(label): a gradient scaled by 1.1 was accepted", file: file, line: line)
    } catch {
        XCTFail("\(label): \(error)", file: file, line: line)
    }
}

// MARK: - Input factories

func param(_ shape: [Int], _ rng: inout RNG, scale: Float = 1) -> Variable {
    Variable(Tensor.uniform(shape, low: -scale, high: scale, rng: &rng), requiresGrad: true)
}

/// Values in ±[0.1, 1]: at least 5h away from ReLU's kink at 0.
func awayFromZero(_ shape: [Int], _ rng: inout RNG) -> Variable {
    var t = Tensor.uniform(shape, low: 0.1, high: 1, rng: &rng)
    t.withUnsafeMutableBufferPointer { p in
        for i in p.indices where rng.nextInt(below: 2) == 0 { p[i] = -p[i] }
    }
    return Variable(t, requiresGrad: true)
}

/// Distinct values 0.05 apart in random order: max-pooling windows have no near-ties.
func distinctValues(_ shape: [Int], _ rng: inout RNG) -> Variable {
    let n = Tensor.elementCount(shape)
    let perm = rng.permutation(n)
    let scalars = perm.map { Float($0 - n / 2) * 0.05 }
    return Variable(Tensor(shape: shape, scalars: scalars), requiresGrad: true)
}
