import Foundation
import XCTest
import LSSKDTensor
import LSSKDTrain
@testable import lsskd

/// Each case of issue 11 ("Runs are safe and recorded") as a refused action or a clear error,
/// run through the command-line tool in process on small synthetic IDX data sets.
final class RunSafetyTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "lsskd-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
        Runtime.threadCount = 0  // the tool sets the process-wide thread count; later suites expect the default
    }

    /// An IDX data set of `train` + `test` 8x8 grey images in 4 classes (class = brightest quadrant).
    @discardableResult
    func makeIDX(_ name: String, train: Int = 64, test: Int = 32, seed: UInt64 = 1) throws -> String {
        let folder = dir + "/" + name
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var rng = RNG(seed: seed)
        for (split, count) in [("train", train), ("t10k", test)] {
            var images = Data([0, 0, 8, 3]), labels = Data([0, 0, 8, 1])
            func be(_ v: UInt32, _ d: inout Data) { withUnsafeBytes(of: v.bigEndian) { d.append(contentsOf: $0) } }
            be(UInt32(count), &images); be(8, &images); be(8, &images)
            be(UInt32(count), &labels)
            for i in 0..<count {
                let y = i % 4
                for r in 0..<8 {
                    for c in 0..<8 {
                        images.append(UInt8(min(255, Int(rng.uniform(0, 100)) + ((r / 4) * 2 + c / 4 == y ? 120 : 0))))
                    }
                }
                labels.append(UInt8(y))
            }
            try images.write(to: URL(fileURLWithPath: "\(folder)/\(split)-images-idx3-ubyte"))
            try labels.write(to: URL(fileURLWithPath: "\(folder)/\(split)-labels-idx1-ubyte"))
        }
        return "mnist:" + folder
    }

    func train(_ args: [String]) throws {
        var command = try TrainCommand.parse(try TrainCommand.expandConfig(["--model", "simplecnn", "--width", "4", "--threads", "1"] + args))
        try command.run()
    }

    func assertFails(_ args: [String], _ needle: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try train(args), file: file, line: line) { error in
            let text = TrainCommand.message(for: error)
            XCTAssertTrue(text.contains(needle), "expected '\(needle)' in: \(text)", file: file, line: line)
        }
    }

    func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    /// The repository (test files are at Tests/LSSKDCLITests/).
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// 1. --resume with other flags is refused, listing every difference; another data set of
    /// the same shape too; options that cannot change the result (threads) may differ.
    func testResumeRefusesChangedOptions() throws {
        let data = try makeIDX("a")
        let other = try makeIDX("b", seed: 2)
        let run = dir + "/run"
        try train(["--data", data, "--epochs", "2", "--batch", "32", "--out", run])
        let config = try read(run + "/config.json")
        XCTAssertTrue(config.contains("\"lr\" : \"0.05\""), config)
        XCTAssertTrue(config.contains("\"crc32\""), "data identity recorded: \(config)")
        for (change, needle) in [(["--batch", "16"], "--batch: 32 in the run, 16 now"), (["--epochs", "3"], "--epochs: 2"),
                                 (["--lr", "0.5"], "--lr: 0.05"), (["--lr", "1e6"], "--lr"), (["--seed", "9"], "--seed: 0"),
                                 (["--wd", "0"], "--wd")] {
            assertFails(["--data", data, "--epochs", "2", "--batch", "32", "--out", run, "--resume"] + change, needle)
        }
        assertFails(["--data", other, "--epochs", "2", "--batch", "32", "--out", run, "--resume"], "--data")
        // The same folder name for other content: the identity catches it.
        try FileManager.default.removeItem(atPath: dir + "/a")
        try makeIDX("a", seed: 3)
        assertFails(["--data", data, "--epochs", "2", "--batch", "32", "--out", run, "--resume"], "the data files changed")
        try FileManager.default.removeItem(atPath: dir + "/a")
        try makeIDX("a", seed: 1)
        try train(["--data", data, "--epochs", "2", "--batch", "32", "--out", run, "--resume", "--threads", "2"])
        // --config re-reads the recorded options (options after it win).
        try train(["--config", run + "/config.json", "--resume"])
        // Results are bit-identical for the same thread count (float summation order).
        try train(["--config", run + "/config.json", "--out", dir + "/rerun", "--threads", "1"])
        let a = try ModelArchive.read(from: run + "/checkpoint.lsk"), b = try ModelArchive.read(from: dir + "/rerun/checkpoint.lsk")
        XCTAssertEqual(a.state(.model)["classifier.weight"]?.scalars, b.state(.model)["classifier.weight"]?.scalars, "--config re-runs the run exactly")
        XCTAssertEqual(a.runRecord?.options.filter { $0.key != "out" && $0.key != "threads" },
                       b.runRecord?.options.filter { $0.key != "out" && $0.key != "threads" })
    }

    /// 2. Nothing to train is an error, not a checkpoint of an untrained model.
    func testNothingToTrainIsAnError() throws {
        let data = try makeIDX("a")
        assertFails(["--data", data, "--batch", "100000", "--out", dir + "/big"], "larger than the 64 training images")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/big"), "nothing written")
        let empty = try makeIDX("empty", train: 0)
        assertFails(["--data", empty, "--out", dir + "/e"], "holds no images")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/e/checkpoint.lsk"))
    }

    /// 3. A new run into a non-empty --out is refused and touches nothing; --overwrite replaces it.
    func testExistingRunIsNotOverwritten() throws {
        let data = try makeIDX("a")
        let run = dir + "/run"
        try train(["--data", data, "--epochs", "1", "--out", run])
        let metrics = try read(run + "/metrics.jsonl")
        XCTAssertEqual(metrics.split(separator: "\n").count, 1)
        assertFails(["--data", "cifar10:/nonexistent", "--out", run], "is not empty")
        assertFails(["--data", "cifar10:/nonexistent", "--out", run, "--overwrite"], "no such data folder")
        assertFails(["--data", data, "--epochs", "1", "--out", run], "--overwrite")
        XCTAssertEqual(try read(run + "/metrics.jsonl"), metrics, "the old run's metrics are intact")
        try Data().write(to: URL(fileURLWithPath: run + "/notes.txt"))
        assertFails(["--data", data, "--epochs", "1", "--out", run, "--overwrite"], "holds files no run wrote")
        try FileManager.default.removeItem(atPath: run + "/notes.txt")
        try train(["--data", data, "--epochs", "2", "--out", run, "--overwrite"])
        XCTAssertEqual(try read(run + "/metrics.jsonl").split(separator: "\n").count, 2)
        // A run killed before its first epoch ended (config, empty metrics, an event file of
        // no epoch, no checkpoint) holds nothing to lose: a new run may start there.
        let killed = dir + "/killed"
        try FileManager.default.createDirectory(atPath: killed + "/tb", withIntermediateDirectories: true)
        try Data().write(to: URL(fileURLWithPath: killed + "/metrics.jsonl"))
        try Data("{}".utf8).write(to: URL(fileURLWithPath: killed + "/config.json"))
        try Data([1, 2]).write(to: URL(fileURLWithPath: killed + "/tb/events.out.tfevents.1.x"))
        try train(["--data", data, "--epochs", "1", "--out", killed])
        XCTAssertEqual(try read(killed + "/metrics.jsonl").split(separator: "\n").count, 1)
    }

    /// 4. A flipped bit, a cut, NaN: resume and eval refuse the checkpoint, naming what is wrong.
    func testDamagedCheckpointsAreRefused() throws {
        let data = try makeIDX("a")
        let run = dir + "/run"
        try train(["--data", data, "--epochs", "1", "--out", run])
        let good = try Data(contentsOf: URL(fileURLWithPath: run + "/checkpoint.lsk"))
        var flipped = good
        flipped[good.count - 1000] ^= 0x04
        try flipped.write(to: URL(fileURLWithPath: run + "/checkpoint.lsk"))
        assertFails(["--data", data, "--epochs", "2", "--out", run, "--resume"], "checksum mismatch")
        XCTAssertThrowsError(try EvalCommand.parse([run + "/checkpoint.lsk"]).run()) { XCTAssertTrue("\($0)".contains("damaged"), "\($0)") }
        try good.prefix(good.count - 4).write(to: URL(fileURLWithPath: run + "/checkpoint.lsk"))
        assertFails(["--data", data, "--epochs", "1", "--out", run, "--resume"], "truncated")
    }

    private struct Crash: Error {}

    /// 5. metrics.jsonl follows the checkpoint. A crash between the checkpoint and the
    /// metrics line (injected) loses no line on resume; with a format-1 checkpoint (no
    /// history) a line of an epoch the checkpoint lacks and a doubled line are dropped.
    func testMetricsFollowTheCheckpoint() throws {
        let data = try makeIDX("a")
        let run = dir + "/run"
        defer { TrainCommand.afterCheckpointHook = nil }
        func epochs() throws -> [Int] {
            try read(run + "/metrics.jsonl").split(separator: "\n").map { try JSONDecoder().decode(EpochMetrics.self, from: Data($0.utf8)).epoch }
        }
        TrainCommand.afterCheckpointHook = { if $0 == 1 { throw Crash() } }
        XCTAssertThrowsError(try train(["--data", data, "--epochs", "3", "--out", run]))
        XCTAssertEqual(try epochs(), [0])
        TrainCommand.afterCheckpointHook = nil
        try train(["--data", data, "--epochs", "3", "--out", run, "--resume"])
        XCTAssertEqual(try epochs(), [0, 1, 2])

        let old = dir + "/old"
        TrainCommand.afterCheckpointHook = { if $0 == 0 { throw Crash() } }
        XCTAssertThrowsError(try train(["--data", data, "--epochs", "3", "--out", old]))
        TrainCommand.afterCheckpointHook = nil
        var ckpt = try ModelArchive.read(from: old + "/checkpoint.lsk")
        let line0 = try JSONEncoder().encode(ckpt.history![0])
        var fake = ckpt.history![0]
        fake.epoch = 1
        ckpt.history = nil
        ckpt.runRecord = nil
        try ckpt.write(to: old + "/checkpoint.lsk")
        let text = [line0, line0, try JSONEncoder().encode(fake)].map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n")
        try text.write(toFile: old + "/metrics.jsonl", atomically: true, encoding: .utf8)
        try train(["--data", data, "--epochs", "3", "--out", old, "--resume"])
        let lines = try read(old + "/metrics.jsonl").split(separator: "\n")
        XCTAssertEqual(try lines.map { try JSONDecoder().decode(EpochMetrics.self, from: Data($0.utf8)).epoch }, [0, 1, 2])
    }

    /// 6 and 7. Divergence stops before saving; options are validated at parse time.
    func testDivergenceAndOptionValidation() throws {
        let data = try makeIDX("a")
        assertFails(["--data", data, "--epochs", "3", "--lr", "1e3", "--schedule", "constant", "--out", dir + "/div"], "diverged")
        if let archive = try? ModelArchive.read(from: dir + "/div/checkpoint.lsk") {
            XCTAssertTrue(archive.history!.allSatisfy { $0.trainLoss < 1e4 * archive.history![0].trainLoss })
        }
        for (args, needle) in [(["--lr", "-1"], "--lr must be a positive number"), (["--wd", "nan"], "--wd"),
                               (["--momentum", "nan"], "--momentum"), (["--width", "0"], "--width"),
                               (["--batch", "0"], "--batch"), (["--tau", "inf"], "--tau"), (["--epochs", "-2"], "--epochs"),
                               (["--fraction", "nan"], "--fraction"), (["--eval-every", "0"], "--eval-every"),
                               (["--divergence-factor", "-1"], "--divergence-factor")] {
            XCTAssertThrowsError(try TrainCommand.parse(["--model", "simplecnn"] + args), "\(args)") { error in
                let text = TrainCommand.message(for: error)
                XCTAssertTrue(text.contains(needle), "\(args): \(text)")
            }
        }
        assertFails(["--data", data, "--out", "/proc/x"], "cannot create run folder /proc/x")
        try train(["--data", data, "--epochs", "1", "--threads", "1000", "--out", dir + "/threads"])
        XCTAssertEqual(Runtime.threadCount, ProcessInfo.processInfo.activeProcessorCount, "--threads above the CPU count is capped")
    }

    /// TensorBoard event files: written per epoch, rewritten from the checkpoint on resume,
    /// read back by TensorBoard's own reader (tools/check_tensorboard.py, the test-only
    /// tensorboard package of .build/testenv), which must see every epoch's values.
    func testTensorBoardEvents() throws {
        let python = root.appendingPathComponent(".build/testenv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            if ProcessInfo.processInfo.environment["CI"] != nil { XCTFail("\(python) missing: tools/test.sh installs it") }
            throw XCTSkip("run tools/test.sh once to install the test-only tensorboard package into .build/testenv")
        }
        let data = try makeIDX("a")
        let run = dir + "/run"
        defer { TrainCommand.afterCheckpointHook = nil }
        TrainCommand.afterCheckpointHook = { if $0 == 1 { throw Crash() } }
        XCTAssertThrowsError(try train(["--data", data, "--epochs", "3", "--eval-every", "2", "--out", run]))
        TrainCommand.afterCheckpointHook = nil
        try train(["--data", data, "--epochs", "3", "--eval-every", "2", "--out", run, "--resume"])
        let files = try FileManager.default.contentsOfDirectory(atPath: run + "/tb")
        XCTAssertEqual(files.filter { $0.hasPrefix("events.out.tfevents.") }.count, 1, "\(files)")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [root.appendingPathComponent("tools/check_tensorboard.py").path, run]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        p.waitUntilExit()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 0, out)
        XCTAssertTrue(out.contains("values match metrics.jsonl (3 epochs"), out)
    }

    /// The committed recipe files parse through --config; options after it override them.
    func testRecipeFiles() throws {
        let recipe = root.appendingPathComponent("tools/recipes/lsskd-paper.json").path
        let command = try TrainCommand.parse(try TrainCommand.expandConfig(["--config", recipe, "--epochs", "3"]))
        let o = command.recordedOptions()
        XCTAssertEqual(o["method"], "lsskd")
        XCTAssertEqual(o["schedule"], "multistep:150,210")
        XCTAssertEqual(o["epochs"], "3", "an option after --config overrides the file")
        XCTAssertEqual(o["gamma"], "1.0")
        XCTAssertEqual(o["detach-branch-inputs"], "false")
        try #"{"options": {"lr": [1]}}"#.write(toFile: dir + "/bad.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TrainCommand.expandConfig(["--config", dir + "/bad.json"]))
    }

    /// The run folder cannot be shared by two trainers at once.
    func testRunFolderLock() throws {
        let folder = RunFolder(path: dir + "/locked")
        let lock = try folder.lock()
        defer { withExtendedLifetime(lock) {} }
        let data = try makeIDX("a")
        // flock is per open file description: a second open in this process conflicts too.
        assertFails(["--data", data, "--out", dir + "/locked"], "in use by another lsskd train")
    }
}
