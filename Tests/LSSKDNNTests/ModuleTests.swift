import XCTest
import LSSKDTensor
@testable import LSSKDNN

/// A residual block like CIFAR ResNets use, to exercise nested names.
final class TinyBlock: Module {
    let conv1: Conv2d, bn1: BatchNorm2d, conv2: Conv2d, bn2: BatchNorm2d
    init(_ c: Int, rng: inout RNG) {
        conv1 = Conv2d(inChannels: c, outChannels: c, kernelSize: 3, padding: 1, bias: false,
                       initialization: .kaimingNormalFanOut, rng: &rng)
        bn1 = BatchNorm2d(c)
        conv2 = Conv2d(inChannels: c, outChannels: c, kernelSize: 3, padding: 1, bias: false,
                       initialization: .kaimingNormalFanOut, rng: &rng)
        bn2 = BatchNorm2d(c)
        super.init()
    }
    override var children: [(String, Module)] { [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2)] }
    override func forward(_ x: Variable) throws -> Variable {
        let h = try relu(try bn1(try conv1(x)))
        return try relu(try bn2(try conv2(h)) + x)
    }
}

func tinyNet(seed: UInt64) -> Sequential {
    var rng = RNG(seed: seed)
    return Sequential(named: [
        ("conv1", Conv2d(inChannels: 1, outChannels: 4, kernelSize: 3, padding: 1, bias: false, rng: &rng)),
        ("bn1", BatchNorm2d(4)),
        ("relu", ReLU()),
        ("layer1", Sequential([TinyBlock(4, rng: &rng)])),
        ("pool", GlobalAvgPool()),
        ("fc", Linear(inFeatures: 4, outFeatures: 3, rng: &rng)),
    ])
}

final class ModuleTests: XCTestCase {
    // Fresh buffers start as NaN: a kernel that reads memory it should overwrite (a wrong
    // accumulate flag, a missed element) poisons the results.
    override func setUp() { BufferPool.shared.poisonsBlocks = true }
    override func tearDown() { BufferPool.shared.poisonsBlocks = false }

    func testStableDottedNames() {
        let net = tinyNet(seed: 1)
        XCTAssertEqual(net.namedParameters().map(\.0), [
            "conv1.weight", "bn1.weight", "bn1.bias",
            "layer1.0.conv1.weight", "layer1.0.bn1.weight", "layer1.0.bn1.bias",
            "layer1.0.conv2.weight", "layer1.0.bn2.weight", "layer1.0.bn2.bias",
            "fc.weight", "fc.bias",
        ])
        XCTAssertEqual(net.namedBuffers().map(\.0), [
            "bn1.running_mean", "bn1.running_var",
            "layer1.0.bn1.running_mean", "layer1.0.bn1.running_var",
            "layer1.0.bn2.running_mean", "layer1.0.bn2.running_var",
        ])
        XCTAssertEqual(net.parameterCount, 36 + 8 + 2 * (144 + 8) + 12 + 3)
        XCTAssertTrue(net.parameters().allSatisfy(\.requiresGrad))
        XCTAssertFalse(net.namedBuffers().contains { $0.1.requiresGrad })
    }

    func testTrainEvalPropagatesAndBatchNormModes() throws {
        let net = tinyNet(seed: 2)
        net.eval()
        XCTAssertTrue(net.namedModules().allSatisfy { !$0.1.isTraining })
        net.train()
        XCTAssertTrue(net.namedModules().allSatisfy { $0.1.isTraining })

        // Running statistics: values [1, 3] in one channel -> mean 2, biased var 1, unbiased 2.
        let bn = BatchNorm2d(1)
        let x = Variable(Tensor(shape: [2, 1, 1, 1], scalars: [1, 3]))
        let y = try bn(x)
        XCTAssertEqual(y.value.scalars[0], -1, accuracy: 1e-4)  // (1 - 2) / sqrt(1 + 1e-5)
        XCTAssertEqual(bn.runningMean.value.scalars, [0.2])
        XCTAssertEqual(bn.runningVar.value[flat: 0], 0.9 + 0.1 * 2, accuracy: 1e-6)
        bn.eval()
        let ye = try bn(x)
        XCTAssertEqual(ye.value[flat: 0], Float((1 - 0.2) / (1.1 + 1e-5).squareRoot()), accuracy: 1e-5)
        XCTAssertEqual(bn.runningMean.value.scalars, [0.2])  // eval does not update
    }

    func testStateDictRoundTrip() throws {
        let a = tinyNet(seed: 3), b = tinyNet(seed: 4)
        var rng = RNG(seed: 5)
        let x = Variable(Tensor.uniform([2, 1, 6, 6], low: -1, high: 1, rng: &rng))
        _ = try a(x)  // moves a's running statistics
        a.eval(); b.eval()
        let ya = try a(x).value.scalars
        XCTAssertNotEqual(ya, try b(x).value.scalars)
        try b.loadStateDict(Dictionary(uniqueKeysWithValues: a.stateDict()))
        XCTAssertEqual(ya, try b(x).value.scalars)
        // The loaded values are copies: training a does not move b.
        a.namedParameters()[0].1.value.fill(0)
        XCTAssertEqual(ya, try b(x).value.scalars)
    }

    func testLoadStateDictErrorsLeaveModelUntouched() throws {
        let a = tinyNet(seed: 6)
        let before = a.stateDict().map(\.1.scalars)
        var state = Dictionary(uniqueKeysWithValues: tinyNet(seed: 7).stateDict())
        state["fc.bias"] = Tensor(zeros: [4])
        XCTAssertThrowsError(try a.loadStateDict(state)) { e in
            XCTAssertTrue("\(e)".contains("fc.bias"), "\(e)")
        }
        state["fc.bias"] = nil
        XCTAssertThrowsError(try a.loadStateDict(state))        // missing
        state["fc.bias"] = Tensor(zeros: [3])
        state["extra"] = Tensor(zeros: [1])
        XCTAssertThrowsError(try a.loadStateDict(state))        // unexpected
        XCTAssertEqual(a.stateDict().map(\.1.scalars), before)
        XCTAssertNoThrow(try a.loadStateDict(state, strict: false))
    }

    func testNoGradAndBackwardErrors() throws {
        let net = tinyNet(seed: 8)
        var rng = RNG(seed: 9)
        let x = Variable(Tensor.uniform([2, 1, 5, 5], low: -1, high: 1, rng: &rng))
        let y = try Autograd.withNoGrad { try net(x) }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertTrue(Autograd.isEnabled)
        XCTAssertThrowsError(try y.backward())

        let loss = try crossEntropy(logits: try net(x), labels: [0, 1])
        try loss.backward()
        XCTAssertTrue(net.parameters().allSatisfy { $0.grad != nil })
        XCTAssertThrowsError(try loss.backward()) { e in XCTAssertTrue("\(e)".contains("retainGraph"), "\(e)") }
        net.zeroGrad()
        XCTAssertTrue(net.parameters().allSatisfy { $0.grad == nil })
    }

    func testGradientsAccumulateAcrossBackwardCalls() throws {
        let net = tinyNet(seed: 10)
        var rng = RNG(seed: 11)
        let x = Variable(Tensor.uniform([2, 1, 5, 5], low: -1, high: 1, rng: &rng))
        net.eval()  // deterministic forward
        try crossEntropy(logits: try net(x), labels: [0, 1]).backward()
        let once = net.parameters().map { $0.grad!.scalars }
        try crossEntropy(logits: try net(x), labels: [0, 1]).backward()
        for (p, g1) in zip(net.parameters(), once) {
            for (a, b) in zip(p.grad!.scalars, g1) { XCTAssertEqual(a, 2 * b, accuracy: 1e-5 + 1e-5 * abs(b)) }
        }
        net.zeroGrad()
        try crossEntropy(logits: try net(x), labels: [0, 1]).backward()
        XCTAssertEqual(net.parameters().map { $0.grad!.scalars }, once)
    }

    func testShapeErrorsThrowWithOperationName() {
        var rng = RNG(seed: 12)
        let x = Variable(Tensor(zeros: [1, 3, 4, 4]))
        let w = Variable(Tensor(zeros: [2, 2, 3, 3]))
        XCTAssertThrowsError(try conv2d(x, weight: w)) { e in
            XCTAssertEqual((e as? KernelError)?.operation, "conv2d")
        }
        // Kernel-level rejection: padded input smaller than the kernel.
        XCTAssertThrowsError(try conv2d(Variable(Tensor(zeros: [1, 2, 2, 2])), weight: w)) { e in
            XCTAssertEqual((e as? KernelError)?.status, .invalidArgument, "\(e)")
        }
        XCTAssertThrowsError(try linear(Variable(Tensor(zeros: [2, 3])), weight: Variable(Tensor(zeros: [4, 5]))))
        XCTAssertThrowsError(try Variable(Tensor(zeros: [2])) + Variable(Tensor(zeros: [3])))
        XCTAssertThrowsError(try maxPool2d(x, kernel: (3, 3), padding: (2, 2)))  // pad > kernel / 2
        XCTAssertThrowsError(try softmaxCrossEntropy(logits: param([2, 3], &rng), targets: Tensor(zeros: [2, 4])))
        XCTAssertThrowsError(try softmaxCrossEntropy(logits: param([2, 3], &rng), targets: Tensor(zeros: [2, 3]),
                                                     temperature: 0))
        XCTAssertThrowsError(try crossEntropy(logits: param([2, 3], &rng), labels: [0, 3]))
    }
}
