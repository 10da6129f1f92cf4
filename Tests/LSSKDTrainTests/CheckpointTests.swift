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

    /// A SimpleCNN trainer on `ds` (batch 16, fixed seeds); by default the resume test's schedule.
    private func makeTrainer(_ ds: ImageDataset, method: TrainingMethod = CrossEntropyMethod(), batch: Int = 16,
                             config: TrainConfig = TrainConfig(epochs: 3, schedule: .multiStep(0.1, milestones: [2]),
                                                               momentum: 0.9, nesterov: true),
                             metrics: URL? = nil) throws -> ClassifierTrainer {
        var rng = RNG(seed: 11)
        let model = SimpleCNN(inChannels: 1, classes: 4, width: 4, rng: &rng)
        let loader = BatchLoader(dataset: ds, batchSize: batch, normalization: ChannelNormalization(statisticsOf: ds),
                                 shuffle: true, dropLast: true, seed: 5)
        return try ClassifierTrainer(model: model, method: method, train: loader, test: nil, config: config, metricsURL: metrics)
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
        interrupted.modelDescription = Self.description
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

    static let description = ModelDescription(model: "simplecnn", width: 4, inChannels: 1, classes: 4, imageSize: 8,
                                              normMean: [0.5], normStd: [0.25], method: "ce")

    private func write(_ bytes: Data, _ name: String) throws -> String {
        let path = dir + "/" + name
        try bytes.write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Format 2: a flipped bit anywhere (tensor data, header), a cut, an appended tail are
    /// errors naming what is damaged; NaN/Inf in a weight or momentum is refused on load.
    func testIntegrityChecks() throws {
        var a = TensorArchive(metadata: ["kind": "model"])
        a.set("model.w", Tensor(shape: [4, 8], scalars: (0..<32).map { Float($0) / 7 }))
        a.set("optim.m", Tensor(repeating: 0.5, shape: [16]))
        try a.write(to: dir + "/a.lsk")
        let good = try Data(contentsOf: URL(fileURLWithPath: dir + "/a.lsk"))
        XCTAssertEqual(try TensorArchive.read(from: dir + "/a.lsk").fileVersion, 2)
        let header = Int(good[16]) | Int(good[17]) << 8
        let dataStart = (24 + header + 63) / 64 * 64
        // One bit of the first tensor (model.w), of the second (optim.m), of the header.
        for (offset, what) in [(dataStart + 5, "tensor model.w is damaged"), (dataStart + 128 + 3, "tensor optim.m is damaged"),
                               (30, "corrupt header")] {
            var bad = good
            bad[offset] ^= 0x10
            let path = try write(bad, "flip-\(offset).lsk")
            XCTAssertThrowsError(try TensorArchive.read(from: path)) { XCTAssertTrue("\($0)".contains(what), "\($0)") }
        }
        let cut = try write(good.prefix(good.count - 4), "cut.lsk")
        XCTAssertThrowsError(try TensorArchive.read(from: cut)) { XCTAssertTrue("\($0)".contains("truncated"), "\($0)") }
        let long = try write(good + Data([1, 2, 3]), "long.lsk")
        XCTAssertThrowsError(try TensorArchive.read(from: long)) { XCTAssertTrue("\($0)".contains("unexpected bytes"), "\($0)") }
        XCTAssertThrowsError(try TensorArchive.read(from: dir)) { XCTAssertTrue("\($0)".contains("folder"), "\($0)") }

        // A NaN that the checksum protects (written so) is still refused by the model reader.
        for (part, value) in [("model", Float.nan), ("optim", Float.infinity), ("aux", -Float.infinity)] {
            var ckpt = ModelArchive(kind: .checkpoint, description: Self.description, epochsDone: 0)
            ckpt.set(.model, "w", Tensor(repeating: 1, shape: [3]))
            ckpt.set(Part(rawValue: part)!, "x", Tensor(shape: [2], scalars: [0, value]))
            try ckpt.write(to: dir + "/nan.lsk")
            XCTAssertThrowsError(try ModelArchive.read(from: dir + "/nan.lsk")) {
                XCTAssertTrue("\($0)".contains("\(part).x holds a non-finite value"), "\($0)")
            }
        }
    }
    typealias Part = ModelArchive.Part

    /// Files of format 1 (no checksums, written before run records) are still read.
    func testReadsFormatVersion1() throws {
        let header = #"{"metadata":{"kind":"checkpoint","epochs_done":"1","model":"simplecnn","width":"4","in_channels":"1","classes":"4","image_size":"8","norm_mean":"0.5","norm_std":"0.25","method":"ce"},"tensors":[{"count":3,"name":"model.w","offset":0,"shape":[3]}]}"#
        var bytes = Data("LSSKDARC".utf8)
        func le<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
        le(UInt32(1)); le(UInt32(0)); le(UInt64(header.utf8.count))
        bytes.append(Data(header.utf8))
        bytes.append(Data(count: (64 - bytes.count % 64) % 64))
        for v: Float in [1, 2, 3] { le(v.bitPattern) }
        bytes.append(Data(count: 52))
        let path = try write(bytes, "v1.lsk")
        let m = try ModelArchive.read(from: path)
        XCTAssertEqual(m.fileVersion, 1)
        XCTAssertEqual(m.epochsDone, 1)
        XCTAssertNil(m.runRecord)
        XCTAssertNil(m.history)
        XCTAssertEqual(m.state(.model)["w"]?.scalars, [1, 2, 3])
        XCTAssertEqual(m.description, Self.description)
    }

    /// Every input the fuzz target ever found (tools/fuzz/regressions/, see tools/fuzz/run.sh)
    /// and the seed shapes are answered with a parse or a clear ArchiveError, never a crash.
    func testFuzzRegressions() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let folder = root.appendingPathComponent("tools/fuzz/regressions/archive").path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for name in names where !name.hasPrefix(".") {
            let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
            do { _ = try TensorArchive.decode(data, path: name) } catch is ArchiveError {}
        }
        // Hostile headers built by hand: huge counts, negative offsets, overflowing shapes.
        for tensors in [#"[{"name":"a","shape":[4611686018427387904,4],"offset":0,"count":0}]"#,
                        #"[{"name":"a","shape":[2],"offset":-64,"count":2}]"#,
                        #"[{"name":"a","shape":[2],"offset":9223372036854775800,"count":2}]"#,
                        #"[{"name":"a","shape":[1],"offset":0,"count":1},{"name":"a","shape":[1],"offset":0,"count":1}]"#] {
            let header = #"{"metadata":{},"tensors":"# + tensors + "}"
            var bytes = Data("LSSKDARC".utf8)
            func le<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
            le(UInt32(1)); le(UInt32(0)); le(UInt64(header.utf8.count))
            bytes.append(Data(header.utf8))
            bytes.append(Data(count: 128))
            XCTAssertThrowsError(try TensorArchive.decode(bytes, path: "hostile")) { XCTAssertTrue($0 is ArchiveError, "\($0)") }
        }
    }

    private struct Crash: Error {}

    /// A crash between the checkpoint's rename and the metrics append (injected through
    /// `afterCheckpoint`) leaves a checkpoint one epoch ahead of metrics.jsonl; the resume
    /// rewrites the file from the checkpoint's history, so no epoch is missing or doubled.
    func testCrashBetweenCheckpointAndMetrics() throws {
        let ds = syntheticDataset()
        let folder = RunFolder(path: dir + "/run")
        let lock = try folder.lock()
        defer { withExtendedLifetime(lock) {} }
        try folder.prepareNewRun(overwrite: false)
        func trainer() throws -> ClassifierTrainer {
            let t = try makeTrainer(ds, config: TrainConfig(epochs: 3, schedule: .constant(0.05)), metrics: folder.metrics)
            t.checkpointPath = folder.checkpoint.path
            t.modelDescription = Self.description
            return t
        }
        let first = try trainer()
        first.afterCheckpoint = { epoch in if epoch == 1 { throw Crash() } }
        XCTAssertThrowsError(try first.run(report: { _ in }))
        let lines = { (try String(contentsOf: folder.metrics, encoding: .utf8)).split(separator: "\n").count }
        XCTAssertEqual(try lines(), 1, "the crash came before epoch 2's line")
        XCTAssertEqual(try ModelArchive.read(from: folder.checkpoint.path).epochsDone, 2)
        // A dead writer's temporary file is cleaned up on resume.
        try Data([1]).write(to: URL(fileURLWithPath: dir + "/run/.checkpoint.lsk.tmp-999999"))

        let second = try trainer()
        try second.resume(from: folder.checkpoint.path)
        try folder.rewriteMetrics(second.history)
        folder.removeStaleTemporaries()
        XCTAssertEqual(try lines(), 2)
        try second.run(report: { _ in })
        let epochs = try String(contentsOf: folder.metrics, encoding: .utf8).split(separator: "\n").map {
            try JSONDecoder().decode(EpochMetrics.self, from: Data($0.utf8)).epoch
        }
        XCTAssertEqual(epochs, [0, 1, 2])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/run/.checkpoint.lsk.tmp-999999"))
        XCTAssertEqual(try ModelArchive.read(from: folder.checkpoint.path).history?.map(\.epoch), [0, 1, 2])
    }

    /// A checkpoint that cannot be written (full disk, unwritable or missing folder) stops
    /// training with a clear error before that epoch's metrics line is appended, so the
    /// metrics never list an epoch the checkpoint does not hold.
    func testFailedCheckpointWriteAppendsNoMetrics() throws {
        let metrics = URL(fileURLWithPath: dir + "/metrics.jsonl")
        try Data().write(to: metrics)
        try Data().write(to: URL(fileURLWithPath: dir + "/file"))
        let t = try makeTrainer(syntheticDataset(), config: TrainConfig(epochs: 2, schedule: .constant(0.01)), metrics: metrics)
        t.checkpointPath = dir + "/file/checkpoint.lsk"  // a file where the folder should be: every write fails
        t.modelDescription = Self.description
        XCTAssertThrowsError(try t.run(report: { _ in })) { XCTAssertTrue("\($0)".contains("cannot write"), "\($0)") }
        XCTAssertEqual(try Data(contentsOf: metrics).count, 0, "no metrics line for the unsaved epoch")
    }

    /// A loss that explodes (finite, > factor x the first loss) stops training before that
    /// epoch's checkpoint; a batch larger than the data set trains nothing and is an error.
    func testDivergenceAndEmptyEpochsAreErrors() throws {
        let ds = syntheticDataset()
        let t = try makeTrainer(ds, method: ExplodingLoss(), config: TrainConfig(epochs: 3, schedule: .constant(0.01)))
        t.checkpointPath = dir + "/ckpt.lsk"
        t.modelDescription = Self.description
        XCTAssertThrowsError(try t.run(report: { _ in })) { XCTAssertTrue("\($0)".contains("more than 1e+04 times the first loss"), "\($0)") }
        XCTAssertEqual(try ModelArchive.read(from: dir + "/ckpt.lsk").epochsDone, 1, "the exploding epoch was not saved")

        let empty = try makeTrainer(ds, batch: 65, config: TrainConfig(epochs: 1, schedule: .constant(0.01)))
        XCTAssertThrowsError(try empty.run(report: { _ in })) { XCTAssertTrue("\($0)".contains("nothing to train"), "\($0)") }
    }
}

/// Cross-entropy scaled by 1e5 from the second epoch on: a finite loss that explodes.
private final class ExplodingLoss: TrainingMethod {
    let name = "ce"
    func step(model: Module, batch: Batch, epoch: Int, epochs: Int) throws -> StepOutput {
        let logits = try model(Variable(batch.images))
        let ce = try crossEntropy(logits: logits, labels: batch.labels)
        return StepOutput(logits: logits.value, terms: [("ce", epoch == 0 ? ce : try ce * 1e5)])
    }
}
