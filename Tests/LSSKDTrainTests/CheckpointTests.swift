import Foundation
import XCTest
import LSSKDData
import LSSKDModels
import LSSKDNN
import LSSKDTensor
@testable import LSSKDTrain

final class CheckpointTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "lsskd-ckpt-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func testArchiveRoundTrip() throws {
        var a = TensorArchive(metadata: ["model": "x"])
        a.set("w", Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, -6]))
        a.set("empty", Tensor(zeros: [0]))
        a.set("s", Tensor(7))
        try a.write(to: dir + "/a.lsk")
        let b = try TensorArchive.read(from: dir + "/a.lsk")
        XCTAssertEqual(b.names, ["w", "empty", "s"])
        XCTAssertEqual(b["w"]?.shape, [2, 3])
        XCTAssertEqual(b["w"]?.scalars, [1, 2, 3, 4, 5, -6])
        XCTAssertEqual(b["s"]?.scalars, [7])
        XCTAssertEqual(b["empty"]?.count, 0)
        XCTAssertEqual(b.metadata["model"], "x")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [], "no temporary file is left behind")
    }

    func testCorruptArchivesAreClearErrors() throws {
        var a = TensorArchive()
        a.set("w", Tensor(repeating: 1, shape: [100]))
        try a.write(to: dir + "/a.lsk")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/a.lsk"))
        try bytes.prefix(bytes.count - 100).write(to: URL(fileURLWithPath: dir + "/cut.lsk"))
        XCTAssertThrowsError(try TensorArchive.read(from: dir + "/cut.lsk")) { XCTAssertTrue("\($0)".contains("truncated"), "\($0)") }
        bytes[0] = 0x58
        try bytes.write(to: URL(fileURLWithPath: dir + "/magic.lsk"))
        XCTAssertThrowsError(try TensorArchive.read(from: dir + "/magic.lsk")) { XCTAssertTrue("\($0)".contains("bad magic"), "\($0)") }
        XCTAssertThrowsError(try a.write(to: dir + "/no/such/folder/a.lsk")) { XCTAssertTrue("\($0)".contains("cannot write"), "\($0)") }
    }

    /// 64 random 1x8x8 images in 4 classes (class = brightest quadrant).
    private func syntheticDataset() -> ImageDataset {
        var rng = RNG(seed: 3)
        var pixels = [UInt8](), labels = [Int32]()
        for i in 0..<64 {
            let y = i % 4
            for r in 0..<8 {
                for c in 0..<8 {
                    let quadrant = (r / 4) * 2 + c / 4
                    pixels.append(UInt8(min(255, Int(rng.uniform(0, 100)) + (quadrant == y ? 120 : 0))))
                }
            }
            labels.append(Int32(y))
        }
        return ImageDataset(pixels: pixels, labels: labels, channels: 1, height: 8, width: 8, classCount: 4)
    }

    private func makeTrainer(_ ds: ImageDataset) throws -> ClassifierTrainer {
        var rng = RNG(seed: 11)
        let model = SimpleCNN(inChannels: 1, classes: 4, width: 4, rng: &rng)
        let loader = BatchLoader(dataset: ds, batchSize: 16, normalization: ChannelNormalization(statisticsOf: ds),
                                 shuffle: true, dropLast: true, seed: 5)
        let config = TrainConfig(epochs: 3, schedule: .multiStep(0.1, milestones: [2]), momentum: 0.9, nesterov: true)
        return try ClassifierTrainer(model: model, train: loader, test: nil, config: config, metricsURL: nil)
    }

    /// A run interrupted after epoch 1 and resumed from its checkpoint ends with the same
    /// weights, bit for bit, as one that was not interrupted.
    func testResumeIsExact() throws {
        let ds = syntheticDataset()
        let straight = try makeTrainer(ds)
        try straight.run(report: { _ in })

        let first = try makeTrainer(ds)
        first.checkpointPath = dir + "/ckpt.lsk"
        // Interrupt: train only the first epoch.
        let interrupted = try ClassifierTrainer(model: first.model, train: first.train, test: nil,
                                                config: TrainConfig(epochs: 1, schedule: first.config.schedule,
                                                                    momentum: 0.9, nesterov: true),
                                                metricsURL: nil)
        interrupted.checkpointPath = dir + "/ckpt.lsk"
        try interrupted.run(report: { _ in })

        let resumed = try makeTrainer(ds)  // fresh weights, overwritten by the checkpoint
        try resumed.resume(from: dir + "/ckpt.lsk")
        XCTAssertEqual(resumed.startEpoch, 1)
        try resumed.run(report: { _ in })

        let a = Dictionary(uniqueKeysWithValues: straight.model.stateDict())
        for (name, t) in resumed.model.stateDict() {
            XCTAssertEqual(t.scalars, a[name]!.scalars, "\(name) differs after resume")
        }
    }
}
