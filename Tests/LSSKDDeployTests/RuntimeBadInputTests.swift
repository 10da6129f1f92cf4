import Foundation
import XCTest
import LSSKDModels
import LSSKDNN
import LSSKDTensor
import LSSKDTrain
@testable import LSSKDDeploy

/// The C runtime refuses every kind of bad model file with a message that says what is wrong
/// (never a crash or garbage logits), and every input the fuzzer once found
/// (tools/fuzz/regressions/runtime) loads cleanly or is refused.
final class RuntimeBadInputTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "lsskd-runtime-bad-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// A small valid exported model (SimpleCNN, 1x8x8, 3 classes) as an archive and its bytes.
    func validArchive() throws -> ModelArchive {
        let m = try RuntimeEqualityTests.model("simple", channels: 1, classes: 3)
        let path = try RuntimeEqualityTests.export(m, name: "simple", channels: 1, classes: 3, size: 8, mean: [0.5], std: [0.25],
                                                   classNames: ["cat", "dog", "bird"], dir: dir)
        return try ModelArchive.read(from: path)
    }

    func bytes(_ a: ModelArchive) throws -> [UInt8] {
        let path = dir + "/\(UUID().uuidString).lskm"
        try a.write(to: path)
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    func assertRefused(_ b: [UInt8], _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try RuntimeModel(bytes: b)
            XCTFail("accepted; expected an error mentioning '\(fragment)'", file: file, line: line)
        } catch {
            XCTAssertTrue("\(error)".contains(fragment), "message '\(error)' does not mention '\(fragment)'", file: file, line: line)
        }
    }

    func testValidFileLoadsWithItsClassNames() throws {
        let r = try RuntimeModel(bytes: try bytes(try validArchive()))
        XCTAssertEqual(r.classes, 3)
        XCTAssertEqual((0..<4).map { r.className($0) }, ["cat", "dog", "bird", nil])
        let ctx = try RuntimeContext(r, maxBatch: 2)
        XCTAssertGreaterThan(ctx.arenaBytes, 0)
        XCTAssertThrowsError(try ctx.run([Float](repeating: 0, count: 3 * 64), batch: 3), "batch above the context's maximum")
        XCTAssertThrowsError(try ctx.run([], batch: 0), "empty batch")
    }

    func testContainerDamage() throws {
        let good = try bytes(try validArchive())
        assertRefused([], "too short")
        assertRefused(Array(good.prefix(20)), "too short")
        assertRefused(Array(good.dropLast(10)), "truncated")
        assertRefused(good + [0, 0, 0, 0], "unexpected bytes")
        var magic = good
        magic[0] = UInt8(ascii: "X")
        assertRefused(magic, "bad magic")
        var version = good
        version[8] = 9
        assertRefused(version, "format version 9")
        var header = good
        header[30] ^= 0x20
        assertRefused(header, "corrupt header (checksum mismatch)")
        var data = good
        data[good.count - 70] ^= 0x01
        assertRefused(data, "checksum mismatch")
    }

    func testCheckpointAndOldExportsAreRefused() throws {
        var a = try validArchive()
        a.kind = .checkpoint
        assertRefused(try bytes(a), "training checkpoint")
        var old = try validArchive()
        old.extraMetadata[RuntimeGraphFormat.metadataKey] = nil
        assertRefused(try bytes(old), "no runtime graph")
    }

    func withGraph(_ edit: (String) -> String) throws -> [UInt8] {
        var a = try validArchive()
        a.extraMetadata[RuntimeGraphFormat.metadataKey] = edit(a.extraMetadata[RuntimeGraphFormat.metadataKey]!)
        return try bytes(a)
    }

    func testGraphErrors() throws {
        assertRefused(try withGraph { $0.replacingOccurrences(of: "lsk-graph 1", with: "lsk-graph 2") }, "graph version 2 is not supported")
        assertRefused(try withGraph { $0.replacingOccurrences(of: "input 0 1 8 8", with: "input 0 1 9 8") }, "is not the model's")
        assertRefused(try withGraph { $0.replacingOccurrences(of: "gap ", with: "frobnicate ") }, "unknown operation 'frobnicate'")
        assertRefused(try withGraph { g in
            // the first convolution reads a value defined later
            g.replacingOccurrences(of: "conv 2 1 ", with: "conv 2 5 ")
        }, "not an earlier value")
        assertRefused(try withGraph { $0.replacingOccurrences(of: "kernel=3 stride=1", with: "kernel=5 stride=1") }, "wrong shape")
        assertRefused(try withGraph { $0.replacingOccurrences(of: "weight=", with: "weight=missing.") }, "has no tensor graph.missing.")
        assertRefused(try withGraph { g in g.split(separator: "\n").filter { !$0.hasPrefix("output") }.joined(separator: "\n") }, "no output line")
    }

    func testNonFiniteWeightIsRefused() throws {
        var a = try validArchive()
        let name = a.state(.graph).keys.sorted().first { $0.contains("folded") }!
        var t = a.state(.graph)[name]!
        var v = t.scalars
        v[0] = .nan
        t = Tensor(shape: t.shape, scalars: v)
        a.set(.graph, name, t)
        // ModelArchive's own reader refuses NaN too; the runtime must not rely on it
        assertRefused(try bytes(a), "not a finite number")
    }

    /// Every input the fuzzer ever saved: loads (and runs) or is refused, never crashes.
    func testFuzzRegressions() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let folder = root.appendingPathComponent("tools/fuzz/regressions/runtime").path
        let seeds = root.appendingPathComponent("tools/fuzz/seeds/runtime").path
        var seen = 0
        for f in [folder, seeds] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: f)) ?? [] {
                let b = Array(try Data(contentsOf: URL(fileURLWithPath: f + "/" + name)))
                if let m = try? RuntimeModel(bytes: b) { _ = try? RuntimeContext(m, maxBatch: 1) }
                seen += 1
            }
        }
        XCTAssertGreaterThan(seen, 0, "the committed real seed (tools/fuzz/seeds/runtime) is read")
    }
}
