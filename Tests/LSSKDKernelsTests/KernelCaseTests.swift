import XCTest
import LSSKDKernels
import _LSSKDKernelTestCases

/// Runs the C test cases (kernels/tests) family by family: the same list of cases as
/// `make -C kernels test`, here against the library as SwiftPM builds it.
final class KernelCaseTests: XCTestCase {
    private func run(_ family: String) {
        var passed: Int32 = 0
        var failed: Int32 = 0
        lsk_tests_run_counts(family, 0, &passed, &failed)
        XCTAssertEqual(failed, 0, "\(failed) \(family) kernel cases failed (see the lines above)")
        XCTAssertGreaterThan(passed, 0, "no \(family) cases ran")
    }

    func testAPI() { run("api") }
    func testGEMM() { run("gemm") }
    func testConv() { run("conv") }
    func testDepthwiseConv() { run("dwconv") }
    func testWinograd() { run("winograd") }
    func testEltwise() { run("eltwise") }
    func testNorm() { run("norm") }
    func testPool() { run("pool") }
    func testLinear() { run("linear") }
    func testLoss() { run("loss") }
    func testShuffle() { run("shuffle") }
    func testInvalid() { run("invalid") }
}
