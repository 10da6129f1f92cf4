import Foundation
import XCTest
import LSSKDModels
import LSSKDNN
import LSSKDTensor
import LSSKDTrain
@testable import LSSKDDeploy

/// The C runtime (include/lsk_model.h) gives the Swift evaluation's logits for every
/// architecture of the zoo: the exported graph (batch norm folded, ReLU and residual fused)
/// computes what the training code's eval-mode forward computes.
final class RuntimeEqualityTests: XCTestCase {
    static let tolerance: Float = 1e-4

    /// A model of the zoo with trained-looking batch norms (running statistics and affine
    /// parameters away from their initial 0/1, so that folding is exercised).
    static func model(_ name: String, channels: Int = 3, classes: Int = 10, seed: UInt64 = 1) throws -> Module {
        var rng = RNG(seed: seed)
        let m: Module = name == "simple"
            ? SimpleCNN(inChannels: channels, classes: classes, width: 8, rng: &rng)
            : try ModelZoo.make(name: name, inChannels: channels, classes: classes, rng: &rng)
        var state = [String: Tensor]()
        for (key, v) in m.stateDict() {
            let n = v.count
            func uniform(_ lo: Float, _ width: Float) -> Tensor {
                Tensor(shape: v.shape, scalars: (0..<n).map { _ in lo + width * rng.nextFloat() })
            }
            if key.hasSuffix("running_mean") || key.hasSuffix(".bias") && v.rank == 1 {
                state[key] = uniform(-0.2, 0.4)
            } else if key.hasSuffix("running_var") {
                state[key] = uniform(0.5, 1)
            } else if v.rank == 1, key.hasSuffix(".weight") {
                // batch norm gamma below 1, so that the logits of deep random residual networks stay
                // of a trained model's size (tens, not thousands) and the absolute tolerance means something
                state[key] = uniform(0.2, 0.5)
            } else if v.rank == 2 {
                // the classifier scaled up so that the logits are of a trained model's size (several
                // units: a 1e-4 tolerance is then a relative 1e-5 or tighter)
                state[key] = Tensor(shape: v.shape, scalars: v.scalars.map { $0 * 30 })
            } else {
                state[key] = v
            }
        }
        try m.loadStateDict(state)
        m.eval()
        return m
    }

    static func images(_ n: Int, _ c: Int, _ size: Int, seed: UInt64 = 7) -> [Float] {
        var rng = RNG(seed: seed)
        return (0..<(n * c * size * size)).map { _ in rng.nextFloat() }
    }

    /// Swift's eval-mode logits of pixels in [0, 1] normalised by (mean, std).
    static func swiftLogits(_ m: Module, _ x: [Float], n: Int, c: Int, size: Int, mean: [Float], std: [Float]) throws -> [Float] {
        var normalized = x
        let plane = size * size
        for i in 0..<n { for ch in 0..<c { for j in 0..<plane {
            let k = (i * c + ch) * plane + j
            normalized[k] = (x[k] - mean[ch]) / std[ch]
        } } }
        return try Autograd.withNoGrad { try m(Variable(Tensor(shape: [n, c, size, size], scalars: normalized))).value.scalars }
    }

    /// Writes `m` as an exported model file with its runtime graph; returns the path.
    static func export(_ m: Module, name: String, channels: Int, classes: Int, size: Int, mean: [Float], std: [Float],
                       classNames: [String]? = nil, dir: String) throws -> String {
        let d = ModelDescription(model: name, width: 8, inChannels: channels, classes: classes, imageSize: size,
                                 normMean: mean, normStd: std, classNames: classNames, method: "ce")
        var archive = ModelArchive(kind: .model, description: d, epochsDone: 1)
        for (k, t) in m.stateDict() { archive.set(.model, k, t) }
        let graph = try InferenceLowering.lower(m, channels: channels, imageSize: size, normMean: mean, normStd: std).optimized()
        RuntimeGraphFormat.attach(graph, to: &archive)
        let path = dir + "/\(name).lskm"
        try archive.write(to: path)
        return path
    }

    var dir = ""
    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "lsskd-runtime-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func check(_ name: String, channels: Int = 3, size: Int = 32, batch: Int = 3, file: StaticString = #filePath, line: UInt = #line) throws {
        let classes = 10
        let m = try Self.model(name, channels: channels, classes: classes)
        let mean = (0..<channels).map { 0.4 + 0.05 * Float($0) }, std = (0..<channels).map { 0.2 + 0.03 * Float($0) }
        let path = try Self.export(m, name: name, channels: channels, classes: classes, size: size, mean: mean, std: std, dir: dir)
        let x = Self.images(batch, channels, size)
        let want = try Self.swiftLogits(m, x, n: batch, c: channels, size: size, mean: mean, std: std)
        let runtime = try RuntimeModel(path: path)
        XCTAssertEqual(runtime.classes, classes, file: file, line: line)
        XCTAssertTrue(runtime.inputShape == (channels, size, size), file: file, line: line)
        let ctx = try RuntimeContext(runtime, maxBatch: batch)
        let got = try ctx.run(x, batch: batch)
        let diff = zip(want, got).map { abs($0 - $1) }.max()!
        let scale = want.map(abs).max()!
        XCTAssertLessThanOrEqual(diff, Self.tolerance, "\(name): max |logit difference| \(diff), max |logit| \(scale)", file: file, line: line)
        XCTAssertGreaterThan(scale, 0.5, "\(name): logits too small for the comparison to mean anything", file: file, line: line)
        for i in 0..<batch {
            let a = want[(i * classes)..<((i + 1) * classes)], b = got[(i * classes)..<((i + 1) * classes)]
            XCTAssertEqual(a.firstIndex(of: a.max()!), b.firstIndex(of: b.max()!), "\(name): top-1 of image \(i)", file: file, line: line)
        }
        // A smaller batch than the context's maximum gives the same rows.
        let one = try ctx.run(Array(x[0..<(channels * size * size)]), batch: 1)
        XCTAssertLessThanOrEqual(zip(one, got[0..<classes]).map { abs($0 - $1) }.max()!, Self.tolerance, file: file, line: line)
    }

    func testResNets() throws {
        for name in ["resnet20", "resnet32", "resnet8x4"] { try check(name) }
    }
    func testDeepResNets() throws {
        for name in ["resnet56", "resnet110", "resnet32x4"] { try check(name, batch: 2) }
    }
    func testWideResNets() throws { for name in ["wrn_16_2", "wrn_40_1", "wrn_40_2"] { try check(name, batch: 2) } }
    func testPreActResNet18() throws { try check("preact_resnet18", batch: 2) }
    func testVGG() throws { for name in ["vgg8_bn", "vgg13_bn"] { try check(name, batch: 2) } }
    func testShuffleNets() throws { for name in ["ShuffleV1", "ShuffleV2"] { try check(name, batch: 2) } }
    func testMobileNetV2() throws { try check("MobileNetV2", batch: 2) }
    func testSimpleCNN() throws { try check("simple", channels: 1, size: 28) }
    func testGrayscaleResNet() throws { try check("resnet20", channels: 1, size: 28) }

    /// One model, two contexts, two threads at once: each context gives the logits a context
    /// alone gives (the weights are shared read-only; each arena is its own).
    func testTwoContextsOnTwoThreads() throws {
        let m = try Self.model("resnet20")
        let path = try Self.export(m, name: "resnet20", channels: 3, classes: 10, size: 32, mean: [0.5, 0.5, 0.5],
                                   std: [0.25, 0.25, 0.25], dir: dir)
        let runtime = try RuntimeModel(path: path)
        let inputs = [Self.images(2, 3, 32, seed: 1), Self.images(2, 3, 32, seed: 2)]
        let alone = try inputs.map { try RuntimeContext(runtime, maxBatch: 2).run($0, batch: 2) }
        let contexts = try (0..<2).map { _ in try RuntimeContext(runtime, maxBatch: 2) }
        var together = [[Float]](repeating: [], count: 2)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 2) { k in
            var out: [Float] = []
            for _ in 0..<20 { out = (try? contexts[k].run(inputs[k], batch: 2)) ?? [] }
            lock.lock(); together[k] = out; lock.unlock()
        }
        XCTAssertEqual(together, alone)
    }

    /// Every architecture of the zoo is covered above (a new one must be added).
    func testEveryZooModelIsCovered() {
        let covered: Set<String> = ["resnet20", "resnet32", "resnet8x4", "resnet56", "resnet110", "resnet32x4", "wrn_16_2",
                                    "wrn_40_1", "wrn_40_2", "preact_resnet18", "vgg8_bn", "vgg13_bn", "ShuffleV1",
                                    "ShuffleV2", "MobileNetV2"]
        XCTAssertEqual(Set(ModelZoo.names), covered)
    }

    /// The optimisation folds every batch norm that follows a convolution and fuses every
    /// ReLU and residual addition of a post-activation ResNet: only the input normalisation
    /// stays an affine node, no ReLU or add node is left.
    func testResNetGraphIsFullyFused() throws {
        let m = try Self.model("resnet20")
        let raw = try InferenceLowering.lower(m, channels: 3, imageSize: 32, normMean: [0.5, 0.5, 0.5], normStd: [0.25, 0.25, 0.25])
        let g = raw.optimized()
        func count(_ graph: InferenceGraph, _ p: (InferenceGraph.Op) -> Bool) -> Int { graph.nodes.filter { p($0.op) }.count }
        XCTAssertEqual(count(g, { if case .affine = $0 { return true }; return false }), 1)
        XCTAssertEqual(count(g, { $0 == .relu }), 0)
        XCTAssertEqual(count(g, { $0 == .add }), 0)
        XCTAssertEqual(count(g, { if case .conv = $0 { return true }; return false }), 19 + 2)  // 19 3x3 + 2 projections
        XCTAssertGreaterThan(count(raw, { if case .affine = $0 { return true }; return false }), 19)
        XCTAssertEqual(g.nodes.filter { $0.residual != nil }.count, 9)
    }
}
