import Foundation
import XCTest
import LSSKDData
import LSSKDModels
import LSSKDNN
import LSSKDTensor
import LSSKDTrain
@testable import LSSKDDistill

final class ExportTests: XCTestCase {
    /// The exported file of an LSSKD checkpoint holds the backbone only: its parameter
    /// count is the backbone's, it loads into a fresh backbone, and that backbone gives the
    /// trained model's evaluation logits.
    func testExportKeepsBackboneOnly() throws {
        let dir = NSTemporaryDirectory() + "lsskd-export-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ds = syntheticDataset(count: 6, size: 8, classes: 3)
        var (net, rng) = try tinyResNet()
        let method = try MethodKind.lsskd.make(model: net, classes: 3, sampleIndices: ds.originalIndices, rng: &rng)
        let trainer = try ClassifierTrainer(model: net, method: method, train: loader(ds, batch: 3), test: nil,
                                            config: TrainConfig(epochs: 1, schedule: .constant(0.05)), metricsURL: nil)
        trainer.checkpointPath = dir + "/ckpt.lsk"
        trainer.modelDescription = testDescription(model: "resnet20", channels: 3, classes: 3)
        try trainer.run(report: { _ in })

        let checkpoint = try ModelArchive.read(from: dir + "/ckpt.lsk")
        XCTAssertFalse(checkpoint.state(.aux).isEmpty)
        let exported = try ModelExport.export(checkpoint, parameterNames: Set(net.namedParameters().map(\.0)))
        XCTAssertEqual(exported.kind, .model)
        XCTAssertEqual(exported.description.method, "lsskd")
        XCTAssertEqual(exported.epochsDone, 1)
        XCTAssertEqual(exported.parameterCount, net.parameterCount)
        XCTAssertEqual(exported.order.count, net.stateDict().count)
        XCTAssertTrue(exported.order.allSatisfy { $0.hasPrefix("model.") })
        XCTAssertNil(exported.runRecord)
        XCTAssertNil(exported.history)
        try exported.write(to: dir + "/model.lsk")
        let reread = try ModelArchive.read(from: dir + "/model.lsk")
        XCTAssertEqual(reread.kind, .model)
        XCTAssertEqual(reread.parameterCount, net.parameterCount)
        XCTAssertEqual(reread.description, exported.description)
        XCTAssertThrowsError(try trainer.resume(from: dir + "/model.lsk"), "an exported model cannot be resumed")

        var fresh = RNG(seed: 99)
        let copy = try ModelZoo.make(name: "resnet20", inChannels: 3, classes: 3, rng: &fresh)
        try ModelExport.load(try ModelArchive.read(from: dir + "/model.lsk"), into: copy)
        net.eval(); copy.eval()
        let x = Variable(loader(ds, batch: 3).batch(epoch: 0, index: 0).images)
        let a = try Autograd.withNoGrad { try net(x).value.scalars }
        let b = try Autograd.withNoGrad { try copy(x).value.scalars }
        XCTAssertEqual(a, b)
    }

    func testECE() {
        // Two bins used: confidences 0.9 (2 samples, 1 right) and 0.6 (1 sample, right).
        let p = Tensor(shape: [3, 2], scalars: [0.9, 0.1, 0.1, 0.9, 0.4, 0.6])
        let ece = expectedCalibrationError(probabilities: p, labels: [0, 0, 1], bins: 15)
        // bin (0.8667, 0.9333]: |1 - 1.8| / 3; bin (0.5333, 0.6]: |1 - 0.6| / 3.
        XCTAssertEqual(ece, (0.8 + 0.4) / 3, accuracy: 1e-6)
        let perfect = Tensor(shape: [2, 2], scalars: [1, 0, 0, 1])
        XCTAssertEqual(expectedCalibrationError(probabilities: perfect, labels: [0, 1]), 0, accuracy: 1e-12)
        // Accumulating over batches gives the one-shot value.
        var bins = CalibrationBins()
        bins.add(probabilities: Tensor(shape: [1, 2], scalars: [0.9, 0.1]), labels: [0])
        bins.add(probabilities: Tensor(shape: [2, 2], scalars: [0.1, 0.9, 0.4, 0.6]), labels: [0, 1])
        XCTAssertEqual(bins.ece, ece, accuracy: 1e-12)
    }

    /// `evaluate` reports the ECE of the same pass (equal to binning its probabilities).
    func testEvaluationReportsCalibration() throws {
        let ds = syntheticDataset(count: 9, size: 8, classes: 3)
        let (net, _) = try tinyResNet()
        let l = BatchLoader(dataset: ds, batchSize: 4, normalization: ChannelNormalization(statisticsOf: ds),
                            shuffle: false, dropLast: false, seed: 0)
        let r = try evaluate(net, on: l)
        XCTAssertEqual(r.count, 9)
        var bins = CalibrationBins(bins: 15)
        try Autograd.withNoGrad {
            net.eval()
            try l.forEachBatch(epoch: 0) { _, b in
                bins.add(probabilities: try softmax(try net(Variable(b.images)).value), labels: b.labels)
            }
        }
        XCTAssertEqual(r.ece, bins.ece, accuracy: 1e-12)
        XCTAssertTrue(r.ece >= 0 && r.ece <= 1)
    }
}
