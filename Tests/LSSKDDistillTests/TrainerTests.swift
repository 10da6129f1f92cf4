import Foundation
import XCTest
import LSSKDData
import LSSKDModels
import LSSKDNN
import LSSKDTensor
import LSSKDTrain
@testable import LSSKDDistill

final class TrainerTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "lsskd-distill-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    private func makeTrainer(_ ds: ImageDataset, kind: MethodKind = .lsskd, epochs: Int = 2) throws -> ClassifierTrainer {
        var (net, rng) = try tinyResNet()
        let train = loader(ds, batch: 3, shuffle: true)
        var options = MethodOptions()
        options.classPartners = ClassPartners(loader: train)
        if kind == .kd {
            var trng = RNG(seed: 77)
            options.teacher = try ModelZoo.make(name: "resnet8x4", inChannels: 3, classes: 3, rng: &trng)
        }
        let method = try kind.make(model: net, classes: 3, sampleIndices: ds.originalIndices, options: options, rng: &rng)
        let config = TrainConfig(epochs: epochs, schedule: .multiStep(0.05, milestones: [1]), momentum: 0.9, nesterov: true)
        return try ClassifierTrainer(model: net, method: method, train: train, test: nil,
                                     config: config, metricsURL: nil)
    }

    /// The gradient-norm diagnosis (one extra backward per term on diagnosed steps) reports
    /// every term x stage and leaves the trained weights bit for bit as without it.
    func testGradientNormDiagnosisChangesNothing() throws {
        let ds = syntheticDataset(count: 10, size: 8, classes: 3)
        let plain = try makeTrainer(ds, kind: .lsskd)
        try plain.run(report: { _ in })
        let probed = try makeTrainer(ds, kind: .lsskd)
        probed.diagnoseEvery = 1
        let history = try probed.run(report: { _ in })
        let norms = try XCTUnwrap(history[1].gradientNorms)
        XCTAssertEqual(Set(norms.keys), Set(["ce", "sad", "kl", "feat"].flatMap { t in (1...3).map { "\(t)>stage\($0)" } }))
        XCTAssertTrue(norms.values.allSatisfy { $0.isFinite && $0 >= 0 }, "\(norms)")
        XCTAssertGreaterThan(norms["ce>stage1"]!, 0)
        XCTAssertGreaterThan(norms["sad>stage1"]!, 0, "branch 1 reads stage 1 (inputs attached)")
        XCTAssertNil(plain.history[1].gradientNorms)
        let a = Dictionary(uniqueKeysWithValues: plain.model.stateDict())
        for (name, t) in probed.model.stateDict() { XCTAssertEqual(t.scalars, a[name]!.scalars, "\(name) changed by the diagnosis") }
        let aux = Dictionary(uniqueKeysWithValues: plain.method.auxiliary!.stateDict())
        for (name, t) in probed.method.auxiliary!.stateDict() { XCTAssertEqual(t.scalars, aux[name]!.scalars, "aux \(name)") }
    }

    /// A 2-epoch run interrupted after epoch 1 and resumed from its checkpoint ends with
    /// the same backbone, branches, momentum and memories, bit for bit (LSSKD, and every
    /// other method that keeps state or draws random numbers).
    func testResumeIsExact() throws {
        let ds = syntheticDataset(count: 10, size: 8, classes: 3)  // batch 3, dropLast: one sample skipped per epoch
        for kind in [MethodKind.lsskd, .pskd, .cskd, .sad] {
            let straight = try makeTrainer(ds, kind: kind)
            let history = try straight.run(report: { _ in })
            XCTAssertEqual(history.count, 2)
            XCTAssertEqual(history[0].method, kind.rawValue)
            if kind == .lsskd { XCTAssertEqual(history[0].terms.map { Set($0.keys) }, ["ce", "sad", "kl", "feat"]) }

            let first = try makeTrainer(ds, kind: kind)
            let interrupted = try ClassifierTrainer(model: first.model, method: first.method, train: first.train, test: nil,
                                                    config: TrainConfig(epochs: 1, schedule: first.config.schedule,
                                                                        momentum: 0.9, nesterov: true), metricsURL: nil)
            interrupted.checkpointPath = dir + "/ckpt-\(kind).lsk"
            interrupted.modelDescription = testDescription(model: "resnet20", channels: 3, classes: 3)
            try interrupted.run(report: { _ in })

            let resumed = try makeTrainer(ds, kind: kind)
            try resumed.resume(from: dir + "/ckpt-\(kind).lsk")
            XCTAssertEqual(resumed.startEpoch, 1)
            try resumed.run(report: { _ in })

            func state(_ t: ClassifierTrainer) -> [String: [Float]] {
                var out = [String: [Float]]()
                for (n, v) in t.model.stateDict() { out["model." + n] = v.scalars }
                for (n, v) in t.method.auxiliary?.stateDict() ?? [] { out["aux." + n] = v.scalars }
                for (n, v) in t.optimizer.stateDict() { out["optim." + n] = v.scalars }
                for (n, v) in t.method.stateDict() { out["method." + n] = v.scalars }
                return out
            }
            let a = state(straight), b = state(resumed)
            XCTAssertEqual(Set(a.keys), Set(b.keys), "\(kind)")
            if kind == .lsskd { XCTAssertTrue(a.keys.contains("method.memory.branch2.values")) }
            if kind == .pskd { XCTAssertTrue(a.keys.contains("method.memory.final.values")) }
            for (name, v) in a { XCTAssertEqual(v.map(\.bitPattern), b[name]!.map(\.bitPattern), "\(kind): \(name) differs after resume") }
        }

        // A checkpoint of another method is refused.
        let ce = try makeTrainer(ds, kind: .ce)
        XCTAssertThrowsError(try ce.resume(from: dir + "/ckpt-lsskd.lsk")) { XCTAssertTrue("\($0)".contains("lsskd"), "\($0)") }
    }

    /// The plain trainer's checkpoint layout is unchanged for CE (model.*, optim.* only).
    func testCECheckpointHasNoMethodState() throws {
        let ds = syntheticDataset(count: 6, size: 8, classes: 3)
        let t = try makeTrainer(ds, kind: .ce, epochs: 1)
        t.checkpointPath = dir + "/ce.lsk"
        t.modelDescription = testDescription(model: "resnet20", channels: 3, classes: 3)
        try t.run(report: { _ in })
        let archive = try ModelArchive.read(from: dir + "/ce.lsk")
        XCTAssertTrue(archive.order.allSatisfy { $0.hasPrefix("model.") || $0.hasPrefix("optim.") })
        XCTAssertEqual(archive.description.method, "ce")
        XCTAssertEqual(archive.history?.count, 1, "the checkpoint holds the metrics of its epochs")
    }

    /// Every baseline runs through the same trainer and reports its own terms.
    func testBaselinesRun() throws {
        let ds = syntheticDataset(count: 6, size: 8, classes: 3)
        let expected: [MethodKind: Set<String>] = [.ce: ["ce"], .ls: ["ce"], .pskd: ["ce"], .sad: ["ce", "sad"],
                                                   .lsskd: ["ce", "sad", "kl", "feat"], .cskd: ["ce", "cls"],
                                                   .tfkd: ["ce", "reg"], .kd: ["ce", "kd"]]
        for kind in MethodKind.allCases {
            let h = try makeTrainer(ds, kind: kind).run(report: { _ in })
            XCTAssertEqual(h.count, 2)
            XCTAssertEqual(Set(h[1].terms!.keys), expected[kind]!, "\(kind)")
            XCTAssertTrue(h[1].terms!.values.allSatisfy { $0.isFinite && $0 >= -1e-4 }, "\(kind): \(h[1].terms!)")
            XCTAssertTrue(h.allSatisfy { $0.trainLoss.isFinite })
        }
    }

    /// One LSSKD step per architecture family (32x32 inputs, batch 2 -> 8 rotated images).
    func testOneStepPerFamily() throws {
        let ds = syntheticDataset(count: 2, size: 32, classes: 5)
        for name in ["resnet20", "wrn_16_2", "ShuffleV2", "MobileNetV2", "vgg8_bn"] {
            var rng = RNG(seed: 1)
            let net = try ModelZoo.make(name: name, inChannels: 3, classes: 5, rng: &rng)
            let backbone = net.parameterCount
            let method = try MethodKind.lsskd.make(model: net, classes: 5, sampleIndices: ds.originalIndices, rng: &rng)
            let trainer = try ClassifierTrainer(model: net, method: method, train: loader(ds, batch: 2), test: nil,
                                                config: TrainConfig(epochs: 1, schedule: .constant(0.01)), metricsURL: nil)
            let h = try trainer.run(report: { _ in })
            XCTAssertEqual(Set(h[0].terms!.keys), ["ce", "sad", "kl", "feat"], name)
            XCTAssertTrue(h[0].terms!.values.allSatisfy(\.isFinite), name)
            XCTAssertEqual(net.parameterCount, backbone, "\(name): the backbone keeps its parameter count")
            XCTAssertEqual((method as! LSSKD).branches.count, net.stageCount, name)
        }
    }
}
