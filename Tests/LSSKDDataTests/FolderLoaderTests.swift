import CZlib
import Foundation
import XCTest
@testable import LSSKDData

/// Image folders written by the tests with libpng / libjpeg (through ImageCodec.encode),
/// including corrupt files and an empty class folder.
final class FolderLoaderTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "lsskd-folder-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func write(_ bytes: [UInt8], _ relative: String) throws {
        let path = dir + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// A solid image, interleaved.
    private func solid(_ w: Int, _ h: Int, _ value: [UInt8]) -> DecodedImage {
        DecodedImage(pixels: (0..<(w * h)).flatMap { _ in value }, width: w, height: h, channels: value.count)
    }

    private func assertDataError(_ body: () throws -> Void, mentions: [String], file: StaticString = #filePath, line: UInt = #line) {
        do {
            try body()
            XCTFail("expected a DataError mentioning \(mentions)", file: file, line: line)
        } catch let e as DataError {
            for m in mentions {
                XCTAssertTrue(e.description.contains(m), "error '\(e)' does not mention '\(m)'", file: file, line: line)
            }
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
    }

    func testPNGRoundTripIsExactAndJPEGIsClose() throws {
        var rng = SystemRandomNumberGenerator()
        for channels in [1, 3] {
            let img = DecodedImage(pixels: (0..<(7 * 5 * channels)).map { _ in UInt8.random(in: 0...255, using: &rng) },
                                   width: 7, height: 5, channels: channels)
            let png = try ImageCodec.encode(img, as: .png)
            XCTAssertEqual(ImageCodec.sniff(png), .png)
            XCTAssertEqual(try ImageCodec.decode(png, path: "x.png"), img, "PNG is lossless")
            // A smooth gradient survives JPEG at quality 95 within a few levels.
            var gradient = [UInt8]()
            for i in 0..<(16 * 16) {
                for c in 0..<channels { gradient.append(UInt8((i % 16) * 8 + (i / 16) * 4 + c * 10)) }
            }
            let smooth = DecodedImage(pixels: gradient, width: 16, height: 16, channels: channels)
            let jpeg = try ImageCodec.encode(smooth, as: .jpeg, quality: 95)
            XCTAssertEqual(ImageCodec.sniff(jpeg), .jpeg)
            let back = try ImageCodec.decode(jpeg, path: "x.jpg")
            XCTAssertEqual(back.channels, channels)
            XCTAssertEqual([back.width, back.height], [16, 16])
            let maxErr = zip(back.pixels, smooth.pixels).map { abs(Int($0) - Int($1)) }.max()!
            XCTAssertLessThanOrEqual(maxErr, 8, "JPEG q95 of a smooth gradient")
        }
    }

    /// A PNG written chunk by chunk (any colour type and bit depth; rows already packed).
    private func handMadePNG(width: Int, height: Int, bitDepth: UInt8, colorType: UInt8, rows: [[UInt8]],
                             extraChunks: [(String, [UInt8])] = []) -> [UInt8] {
        func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 255), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            let crc = body.withUnsafeBufferPointer { crc32(0, $0.baseAddress, UInt32($0.count)) }
            return be32(data.count) + body + be32(Int(crc))
        }
        var raw = [UInt8]()
        for row in rows { raw += [0] + row }  // filter type 0 on every row
        var packed = [UInt8](repeating: 0, count: Int(compressBound(UInt(raw.count))))
        var packedCount = UInt(packed.count)
        let status = raw.withUnsafeBufferPointer { src in
            packed.withUnsafeMutableBufferPointer { dst in
                compress2(dst.baseAddress, &packedCount, src.baseAddress, UInt(src.count), 9)
            }
        }
        XCTAssertEqual(status, Z_OK)
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += chunk("IHDR", be32(width) + be32(height) + [bitDepth, colorType, 0, 0, 0])
        for (type, data) in extraChunks { png += chunk(type, data) }
        png += chunk("IDAT", Array(packed[0..<Int(packedCount)])) + chunk("IEND", [])
        return png
    }

    /// Alpha is dropped (colour kept as stored, not composited); palettes, 16-bit and 1-bit
    /// greys are expanded to 8 bits.
    func testPNGColourTypesAndDepths() throws {
        let rgba = handMadePNG(width: 2, height: 1, bitDepth: 8, colorType: 6, rows: [[10, 20, 30, 0, 40, 50, 60, 255]])
        XCTAssertEqual(try ImageCodec.decode(rgba, path: "rgba.png"),
                       DecodedImage(pixels: [10, 20, 30, 40, 50, 60], width: 2, height: 1, channels: 3))
        let greyAlpha = handMadePNG(width: 2, height: 1, bitDepth: 8, colorType: 4, rows: [[77, 0, 99, 128]])
        XCTAssertEqual(try ImageCodec.decode(greyAlpha, path: "ga.png").pixels, [77, 99])
        let palette = handMadePNG(width: 3, height: 1, bitDepth: 8, colorType: 3, rows: [[2, 0, 1]],
                                  extraChunks: [("PLTE", [255, 0, 0, 0, 255, 0, 0, 0, 255]), ("tRNS", [0, 255, 255])])
        XCTAssertEqual(try ImageCodec.decode(palette, path: "p.png"),
                       DecodedImage(pixels: [0, 0, 255, 255, 0, 0, 0, 255, 0], width: 3, height: 1, channels: 3))
        let grey16 = handMadePNG(width: 2, height: 1, bitDepth: 16, colorType: 0, rows: [[0x12, 0x12, 0xF0, 0xF0]])
        XCTAssertEqual(try ImageCodec.decode(grey16, path: "g16.png").pixels, [0x12, 0xF0])
        let grey1 = handMadePNG(width: 3, height: 1, bitDepth: 1, colorType: 0, rows: [[0b1010_0000]])
        XCTAssertEqual(try ImageCodec.decode(grey1, path: "g1.png").pixels, [255, 0, 255])
        var badCRC = rgba
        badCRC[badCRC.count - 20] ^= 0xFF  // inside IDAT
        XCTAssertThrowsError(try ImageCodec.decode(badCRC, path: "crc.png")) {
            XCTAssertTrue("\($0)".contains("crc.png"), "\($0)")
        }
    }

    /// Grey JPEGs decode to one channel; CMYK ones (Adobe, inverted) to RGB.
    func testJPEGGreyAndCMYK() throws {
        let grey = try ImageCodec.encode(pixels: [UInt8](repeating: 60, count: 64), width: 8, height: 8, channels: 1, as: .jpeg)
        let g = try ImageCodec.decode(grey, path: "g.jpg")
        XCTAssertEqual(g.channels, 1)
        XCTAssertTrue(g.pixels.allSatisfy { abs(Int($0) - 60) <= 1 })
        // Stored (inverted) C, M, Y, K = 255, 0, 128, 255 -> R, G, B = C*K, M*K, Y*K (/255).
        let cmyk = try ImageCodec.encode(pixels: (0..<64).flatMap { _ in [255, 0, 128, 255] as [UInt8] }, width: 8, height: 8,
                                         channels: 4, as: .jpeg, quality: 100)
        let c = try ImageCodec.decode(cmyk, path: "c.jpg")
        XCTAssertEqual(c.channels, 3)
        for p in 0..<64 {
            XCTAssertEqual(Int(c.pixels[3 * p]), 255, accuracy: 2)
            XCTAssertEqual(Int(c.pixels[3 * p + 1]), 0, accuracy: 2)
            XCTAssertEqual(Int(c.pixels[3 * p + 2]), 128, accuracy: 2)
        }
    }

    func testFolderOfPNGAndJPEG() throws {
        // Classes sorted by name: "a_cat" = 0, "b_dog" = 1, whatever the creation order.
        try write(ImageCodec.encode(solid(8, 8, [200, 10, 30]), as: .png), "b_dog/1.png")
        try write(ImageCodec.encode(solid(16, 12, [90]), as: .jpeg, quality: 90), "b_dog/0.JPG")
        try write(ImageCodec.encode(solid(4, 4, [1, 2, 3]), as: .png), "a_cat/x.png")
        try write(ImageCodec.encode(solid(5, 9, [250]), as: .png), "a_cat/z_sub/y.jpeg")  // PNG bytes, .jpeg name, nested
        try write(Array("not an image".utf8), "a_cat/notes.txt")
        try write([0, 1, 2], "a_cat/.hidden.png")
        try FileManager.default.createDirectory(atPath: dir + "/.git", withIntermediateDirectories: true)

        let ds = try FolderLoader.load(directory: dir, imageSize: 4)
        XCTAssertEqual(ds.classNames, ["a_cat", "b_dog"])
        XCTAssertEqual(ds.classCount, 2)
        XCTAssertEqual(ds.count, 4)
        XCTAssertEqual(ds.labels, [0, 0, 1, 1], "class order, then sorted paths")
        XCTAssertEqual(ds.channels, 3, "colour images present: RGB")
        XCTAssertEqual([ds.height, ds.width], [4, 4])
        XCTAssertEqual(ds.originalIndices, [0, 1, 2, 3])
        // Solid images stay solid through any resize; grey is replicated into RGB.
        func image(_ i: Int) -> [UInt8] { Array(ds.pixels[(i * 48)..<((i + 1) * 48)]) }
        func planes(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> [UInt8] {
            [UInt8](repeating: r, count: 16) + [UInt8](repeating: g, count: 16) + [UInt8](repeating: b, count: 16)
        }
        XCTAssertEqual(image(0), planes(1, 2, 3))
        XCTAssertEqual(image(1), [UInt8](repeating: 250, count: 48))
        XCTAssertTrue(image(2).allSatisfy { abs(Int($0) - 90) <= 1 }, "JPEG grey 90: \(image(2))")
        XCTAssertEqual(image(3), planes(200, 10, 30))

        // Requested grey: RGB converted with PIL's luma weights.
        let grey = try FolderLoader.load(directory: dir, imageSize: 2, channels: 1)
        XCTAssertEqual(grey.channels, 1)
        let weighted: Int = 19595 * 200 + 38470 * 10 + 7471 * 30 + 0x8000
        let luma = UInt8(weighted >> 16)
        XCTAssertEqual(Array(grey.pixels[12..<16]), [UInt8](repeating: luma, count: 4))
    }

    func testAllGreyFolderLoadsOneChannel() throws {
        try write(ImageCodec.encode(solid(3, 3, [7]), as: .png), "0/a.png")
        try write(ImageCodec.encode(solid(3, 3, [9]), as: .png), "1/a.png")
        let ds = try FolderLoader.load(directory: dir, imageSize: 3)
        XCTAssertEqual(ds.channels, 1)
        XCTAssertEqual(ds.pixels, [UInt8](repeating: 7, count: 9) + [UInt8](repeating: 9, count: 9))
    }

    func testResizeFilters() {
        // Area 4x4 -> 2x2: the mean of each 2x2 block (rounded).
        let src: [UInt8] = [0, 10, 20, 30,
                            40, 50, 60, 70,
                            80, 90, 100, 110,
                            120, 130, 140, 150]
        XCTAssertEqual(resizePlanar(src, channels: 1, inHeight: 4, inWidth: 4, outHeight: 2, outWidth: 2, filter: .area),
                       [25, 45, 105, 125])
        // Bilinear 4 -> 2: centres at input 0.5 and 2.5, i.e. the same block means here.
        XCTAssertEqual(resizePlanar(src, channels: 1, inHeight: 4, inWidth: 4, outHeight: 2, outWidth: 2, filter: .bilinear),
                       [25, 45, 105, 125])
        // Bilinear 2 -> 4 along a row: centres -0.25 (clamped), 0.25, 0.75, 1.25 (clamped).
        XCTAssertEqual(resizePlanar([0, 200], channels: 1, inHeight: 1, inWidth: 2, outHeight: 1, outWidth: 4, filter: .bilinear),
                       [0, 50, 150, 200])
        // Area 3 -> 2: weights (2/3, 1/3) and (1/3, 2/3).
        XCTAssertEqual(resizePlanar([0, 90, 180], channels: 1, inHeight: 1, inWidth: 3, outHeight: 1, outWidth: 2, filter: .area),
                       [30, 150])
        // Every filter's weights sum to one.
        for filter in ResizeFilter.allCases {
            for (n, m) in [(7, 3), (3, 7), (32, 32), (500, 32), (1, 5)] {
                let taps = ResampleTaps(input: n, output: m, filter: filter)
                for (o, w) in taps.weights.enumerated() {
                    XCTAssertEqual(w.reduce(0, +), 1, accuracy: 1e-5, "\(filter) \(n)->\(m) output \(o)")
                    XCTAssertTrue(taps.start[o] >= 0 && taps.start[o] + w.count <= n)
                }
            }
        }
    }

    func testCorruptImageStopsWithItsName() throws {
        try write(ImageCodec.encode(solid(4, 4, [1]), as: .png), "a/good.png")
        try write(Array("GIF89a....".utf8), "a/fake.png")
        assertDataError({ _ = try FolderLoader.load(directory: dir) }, mentions: ["a/fake.png", "not a PNG or JPEG image"])
    }

    func testTruncatedPNGStopsWithItsName() throws {
        let png = try ImageCodec.encode(DecodedImage(pixels: (0..<(32 * 32 * 3)).map { UInt8($0 % 251) }, width: 32, height: 32,
                                                     channels: 3), as: .png)
        try write(Array(png.prefix(png.count / 2)), "a/cut.png")
        assertDataError({ _ = try FolderLoader.load(directory: dir) }, mentions: ["a/cut.png", "invalid PNG data"])
    }

    func testTruncatedJPEGStopsWithItsName() throws {
        let img = DecodedImage(pixels: (0..<(64 * 64 * 3)).map { UInt8(($0 * 7) % 256) }, width: 64, height: 64, channels: 3)
        let jpeg = try ImageCodec.encode(img, as: .jpeg, quality: 90)
        try write(Array(jpeg.prefix(jpeg.count / 2)), "c/cut.jpg")
        assertDataError({ _ = try FolderLoader.load(directory: dir) }, mentions: ["c/cut.jpg", "invalid JPEG data"])
        // A JPEG whose header is garbage after the SOI marker.
        try write([0xFF, 0xD8, 0xFF, 0x00, 0x13, 0x37], "c/cut.jpg")
        assertDataError({ _ = try FolderLoader.load(directory: dir) }, mentions: ["c/cut.jpg", "invalid JPEG data"])
    }

    func testEmptyClassFolderIsAnError() throws {
        try write(ImageCodec.encode(solid(4, 4, [1]), as: .png), "cat/0.png")
        try FileManager.default.createDirectory(atPath: dir + "/dog", withIntermediateDirectories: true)
        try write(Array("readme".utf8), "dog/README.txt")
        assertDataError({ _ = try FolderLoader.load(directory: dir) }, mentions: ["/dog", "holds no PNG or JPEG images"])
    }

    func testFolderWithoutClassesOrMissing() throws {
        assertDataError({ _ = try FolderLoader.load(directory: dir) }, mentions: ["holds no class sub-folders"])
        assertDataError({ _ = try FolderLoader.load(directory: dir + "/nope") }, mentions: ["/nope", "no such folder"])
    }

    func testTestSplitUsesTrainingClassOrder() throws {
        try write(ImageCodec.encode(solid(2, 2, [5]), as: .png), "test/b/0.png")
        let ds = try FolderLoader.load(directory: dir + "/test", imageSize: 2, classNames: ["a", "b", "c"])
        XCTAssertEqual(ds.labels, [1])
        XCTAssertEqual(ds.classCount, 3)
        try write(ImageCodec.encode(solid(2, 2, [5]), as: .png), "test/zebra/0.png")
        assertDataError({ _ = try FolderLoader.load(directory: dir + "/test", imageSize: 2, classNames: ["a", "b", "c"]) },
                        mentions: ["test/zebra", "not one of the 3 training classes"])
    }
}
