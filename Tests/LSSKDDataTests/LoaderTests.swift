import Foundation
import XCTest
@testable import LSSKDData

/// Loaders read small files the tests write, including corrupt ones: every corruption must
/// be reported with the file's name and the problem, never crash or load garbage.
final class LoaderTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "lsskd-data-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }

    private func writeIDX(images n: Int, h: Int = 4, w: Int = 3, labels: [UInt8]? = nil, imageMagic: UInt32 = 0x803,
                          dropImageBytes: Int = 0, split: String = "train") throws {
        var img = be32(imageMagic) + be32(UInt32(n)) + be32(UInt32(h)) + be32(UInt32(w))
        img += (0..<(n * h * w)).map { UInt8($0 % 251) }
        img.removeLast(dropImageBytes)
        try Data(img).write(to: URL(fileURLWithPath: "\(dir!)/\(split)-images-idx3-ubyte"))
        let lab = labels ?? (0..<n).map { UInt8($0 % 10) }
        try Data(be32(0x801) + be32(UInt32(lab.count)) + lab).write(to: URL(fileURLWithPath: "\(dir!)/\(split)-labels-idx1-ubyte"))
    }

    private func gzip(_ path: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/gzip")
        p.arguments = ["-f", path]
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
    }

    private func assertDataError(_ body: () throws -> Void, mentions: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            try body()
            XCTFail("expected a DataError mentioning \(mentions)", file: file, line: line)
        } catch let e as DataError {
            XCTAssertTrue(e.description.contains(mentions), "error '\(e)' does not mention '\(mentions)'", file: file, line: line)
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
    }

    func testIDXRoundTripPlainAndGzip() throws {
        try writeIDX(images: 5)
        let plain = try IDXLoader.load(directory: dir, split: "train")
        XCTAssertEqual(plain.count, 5)
        XCTAssertEqual(plain.height, 4)
        XCTAssertEqual(plain.width, 3)
        XCTAssertEqual(plain.labels, [0, 1, 2, 3, 4])
        XCTAssertEqual(Array(plain.pixels.prefix(4)), [0, 1, 2, 3])
        try gzip("\(dir!)/train-images-idx3-ubyte")
        try gzip("\(dir!)/train-labels-idx1-ubyte")
        let gz = try IDXLoader.load(directory: dir, split: "train")
        XCTAssertEqual(gz.pixels, plain.pixels)
        XCTAssertEqual(gz.labels, plain.labels)
    }

    func testIDXTruncatedImages() throws {
        try writeIDX(images: 5, dropImageBytes: 7)
        assertDataError({ _ = try IDXLoader.load(directory: dir, split: "train") }, mentions: "train-images-idx3-ubyte: truncated")
    }

    func testIDXBadMagic() throws {
        try writeIDX(images: 2, imageMagic: 0x1234)
        assertDataError({ _ = try IDXLoader.load(directory: dir, split: "train") }, mentions: "bad magic number")
    }

    func testIDXLabelOutOfRange() throws {
        try writeIDX(images: 3, labels: [1, 12, 3])
        assertDataError({ _ = try IDXLoader.load(directory: dir, split: "train") }, mentions: "label 12 of item 1 is out of range")
    }

    func testIDXCountMismatch() throws {
        try writeIDX(images: 3, labels: [1, 2])
        assertDataError({ _ = try IDXLoader.load(directory: dir, split: "train") }, mentions: "holds 2 labels")
    }

    func testTruncatedGzipIsAnError() throws {
        try writeIDX(images: 50)
        try gzip("\(dir!)/train-images-idx3-ubyte")
        let path = "\(dir!)/train-images-idx3-ubyte.gz"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes.removeLast(bytes.count / 2)
        try bytes.write(to: URL(fileURLWithPath: path))
        assertDataError({ _ = try IDXLoader.load(directory: dir, split: "train") }, mentions: "train-images-idx3-ubyte.gz")
    }

    func testMissingFile() {
        assertDataError({ _ = try IDXLoader.load(directory: dir, split: "t10k") }, mentions: "no such file")
    }

    func testCIFAR100Records() throws {
        var bytes = [UInt8]()
        for i in 0..<3 { bytes += [0, UInt8(i * 40)] + [UInt8](repeating: UInt8(i), count: 3072) }
        try Data(bytes).write(to: URL(fileURLWithPath: "\(dir!)/train.bin"))
        let ds = try CIFARLoader.load(directory: dir, variant: .cifar100, train: true)
        XCTAssertEqual(ds.labels, [0, 40, 80])
        XCTAssertEqual(ds.classCount, 100)
        XCTAssertEqual(ds.pixels[3072 * 2], 2)
        bytes.removeLast(10)
        try Data(bytes).write(to: URL(fileURLWithPath: "\(dir!)/train.bin"))
        assertDataError({ _ = try CIFARLoader.load(directory: dir, variant: .cifar100, train: true) }, mentions: "not a multiple")
    }

    func testCIFAR10LabelOutOfRange() throws {
        let bytes = [UInt8(10)] + [UInt8](repeating: 0, count: 3072)
        for b in 1...5 { try Data(bytes).write(to: URL(fileURLWithPath: "\(dir!)/data_batch_\(b).bin")) }
        assertDataError({ _ = try CIFARLoader.load(directory: dir, variant: .cifar10, train: true) }, mentions: "label 10 of record 0")
    }

    /// Every input the dataset fuzz target found (tools/fuzz/regressions/dataset/, framing as
    /// in tools/fuzz/dataset_fuzz.swift) decodes or fails with a DataError, never a crash.
    func testFuzzRegressions() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let folder = root.appendingPathComponent("tools/fuzz/regressions/dataset").path
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where !name.hasPrefix(".") {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)))
            guard let kind = bytes.first else { continue }
            if kind % 2 == 0 {
                guard bytes.count >= 3 else { continue }
                let split = min(bytes.count - 3, Int(bytes[1]) | Int(bytes[2]) << 8)
                do { _ = try IDXFormat.decode(images: Array(bytes[3..<(3 + split)]), labels: Array(bytes[(3 + split)...]),
                                              imagesName: name, labelsName: name, classCount: 10) } catch is DataError {}
            } else {
                var pixels = [UInt8](), labels = [Int32]()
                do { try CIFARFormat.decode(Array(bytes.dropFirst()), name: name, cifar100: kind % 4 == 3, pixels: &pixels, labels: &labels) } catch is DataError {}
            }
        }
        // An IDX header promising more images than the file holds, and one with 2^32-1 images.
        let header: [UInt8] = [0, 0, 8, 3, 255, 255, 255, 255, 0, 0, 16, 0, 0, 0, 16, 0]
        XCTAssertThrowsError(try IDXFormat.decode(images: header, labels: [0, 0, 8, 1, 0, 0, 0, 0], imagesName: "i", labelsName: "l", classCount: 10))
    }
}
