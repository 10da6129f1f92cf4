import Foundation
import XCTest
import LSSKDData
import LSSKDModels
import LSSKDNN
import LSSKDTensor
import LSSKDTrain
@testable import LSSKDDeploy

/// ONNX and safetensors exports read back by the ecosystem's own packages (onnx, onnxruntime,
/// safetensors in .build/testenv, installed by tools/test.sh): ONNX Runtime's logits equal the
/// Swift evaluation's on real Fashion-MNIST test images for every architecture of the zoo.
final class EcosystemExportTests: XCTestCase {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "lsskd-ecosystem-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    var python: String { root.appendingPathComponent(".build/testenv/bin/python").path }

    func requirePython() throws {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            if ProcessInfo.processInfo.environment["CI"] != nil { XCTFail("\(python) missing: tools/test.sh installs it") }
            throw XCTSkip("run tools/test.sh once to install the test-only Python packages into .build/testenv")
        }
    }

    /// Runs tools/check_export.py; returns its JSON lines (fails the test on a non-zero exit).
    func checkExportLines(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> [[String: Any]] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [root.appendingPathComponent("tools/check_export.py").path] + args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "check_export.py \(args[0]): \(errText)", file: file, line: line)
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) ?? [:]
        }
    }

    func checkExport(_ args: [String]) throws -> [String: Any] { try checkExportLines(args).first ?? [:] }

    /// `count` Fashion-MNIST test images as pixels in [0, 1], zero-padded to 32x32 (every
    /// architecture's reference input size), and their channel count 1.
    func realImages(_ count: Int) throws -> [Float] {
        let set = try IDXLoader.load(directory: "/usr/share/datasets/fashion-mnist", split: "t10k").prefix(count)
        var out = [Float](repeating: 0, count: count * 32 * 32)
        for i in 0..<count { for y in 0..<28 { for x in 0..<28 {
            out[i * 1024 + (y + 2) * 32 + x + 2] = Float(set.pixels[i * 784 + y * 28 + x]) / 255
        } } }
        return out
    }

    static func writeFloats(_ v: [Float], _ path: String) throws {
        var d = Data(capacity: v.count * 4)
        for f in v { withUnsafeBytes(of: f.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
        try d.write(to: URL(fileURLWithPath: path))
    }

    /// Exports each model as ONNX and runs all of them in one check_export.py call.
    func checkONNX(_ names: [String], images count: Int) throws {
        let classes = 10, mean: [Float] = [0.29], std: [Float] = [0.35]
        let x = try realImages(count)
        try Self.writeFloats(x, dir + "/x.f32")
        var args = ["onnx"]
        for name in names {
            let m = try RuntimeEqualityTests.model(name, channels: 1, classes: classes)
            let want = try RuntimeEqualityTests.swiftLogits(m, x, n: count, c: 1, size: 32, mean: mean, std: std)
            let graph = try InferenceLowering.lower(m, channels: 1, imageSize: 32, normMean: mean, normStd: std).optimized()
            let d = ModelDescription(model: name, width: 8, inChannels: 1, classes: classes, imageSize: 32, normMean: mean,
                                     normStd: std, classNames: (0..<classes).map { "class \($0)" }, method: "ce")
            let onnx = dir + "/\(name).onnx"
            try ONNXExport.write(graph, description: d, producerVersion: "test", to: onnx)
            try Self.writeFloats(want, dir + "/\(name).want.f32")
            args += [onnx, dir + "/x.f32", dir + "/\(name).want.f32", "\(count)", "1", "32", "32"]
        }
        let results = try checkExportLines(args)
        XCTAssertEqual(results.count, names.count)
        for (name, r) in zip(names, results) {
            XCTAssertEqual(r["same_top1"] as? Int, count, name)
            XCTAssertLessThanOrEqual(r["max_abs_diff"] as? Double ?? 1, 1e-4, name)
            XCTAssertGreaterThan(r["max_abs_logit"] as? Double ?? 0, 0.5, name)
        }
    }

    /// The criterion: 256 real test images, same top-1 for each, |logit difference| <= 1e-4.
    func testONNXResNet20On256RealImages() throws {
        try requirePython()
        try checkONNX(["resnet20"], images: 256)
    }

    func testONNXEveryArchitecture() throws {
        try requirePython()
        try checkONNX(ModelZoo.names.filter { $0 != "resnet20" } + ["simple"], images: 4)
    }

    /// safetensors: every tensor of the backbone's state dictionary under its own name, shape
    /// and values intact (sums compared), the description in __metadata__.
    func testSafetensorsReadBack() throws {
        try requirePython()
        let m = try RuntimeEqualityTests.model("wrn_16_2", channels: 3, classes: 10)
        let d = ModelDescription(model: "wrn_16_2", width: 8, inChannels: 3, classes: 10, imageSize: 32,
                                 normMean: [0.5, 0.4, 0.3], normStd: [0.2, 0.2, 0.2], method: "lsskd")
        var archive = ModelArchive(kind: .model, description: d, epochsDone: 7)
        for (k, t) in m.stateDict() { archive.set(.model, k, t) }
        let path = dir + "/m.safetensors"
        try SafetensorsExport.write(archive, to: path)
        let r = try checkExport(["safetensors", path])
        let meta = r["metadata"] as? [String: String] ?? [:]
        XCTAssertEqual(meta["architecture"], "wrn_16_2")
        XCTAssertEqual(meta["epochs_trained"], "7")
        XCTAssertEqual(meta["norm_mean"], "0.5,0.4,0.3")
        let tensors = r["tensors"] as? [String: [String: Any]] ?? [:]
        let state = m.stateDict()
        XCTAssertEqual(tensors.count, state.count)
        for (k, t) in state {
            guard let e = tensors[k] else { XCTFail("\(k) missing"); continue }
            XCTAssertEqual(e["shape"] as? [Int], t.shape, k)
            let sum = t.scalars.reduce(0.0) { $0 + Double($1) }
            XCTAssertEqual(e["sum"] as? Double ?? .nan, sum, accuracy: 1e-9 * max(1, abs(sum)), k)
        }
    }
}
