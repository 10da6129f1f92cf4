import Foundation

/// MNIST / Fashion-MNIST IDX files (gzipped or not): `*-images-idx3-ubyte[.gz]` with
/// magic 0x00000803 and `*-labels-idx1-ubyte[.gz]` with magic 0x00000801, big-endian sizes.
public enum IDXLoader {
    /// Loads one split from a directory holding the standard file names, e.g.
    /// split "train" reads train-images-idx3-ubyte(.gz) and train-labels-idx1-ubyte(.gz);
    /// split "t10k" the test files.
    public static func load(directory: String, split: String, classCount: Int = 10) throws -> ImageDataset {
        let images = try findFile(directory, "\(split)-images-idx3-ubyte")
        let labels = try findFile(directory, "\(split)-labels-idx1-ubyte")
        return try load(imagesPath: images, labelsPath: labels, classCount: classCount)
    }

    public static func load(imagesPath: String, labelsPath: String, classCount: Int = 10) throws -> ImageDataset {
        let img = try readFileBytes(imagesPath)
        let lab = try readFileBytes(labelsPath)
        guard img.count >= 16 else { throw DataError(imagesPath, "truncated: \(img.count) bytes, an IDX image header needs 16") }
        guard be32(img, 0) == 0x0000_0803 else {
            throw DataError(imagesPath, "bad magic number 0x\(String(be32(img, 0), radix: 16)) (expected 0x803 for IDX images)")
        }
        let n = Int(be32(img, 4)), h = Int(be32(img, 8)), w = Int(be32(img, 12))
        guard h > 0, w > 0, h <= 4096, w <= 4096 else { throw DataError(imagesPath, "implausible image size \(h)x\(w)") }
        guard img.count == 16 + n * h * w else {
            throw DataError(imagesPath, "truncated or oversized: \(img.count) bytes, header promises \(n) images of \(h)x\(w) = \(16 + n * h * w)")
        }
        guard lab.count >= 8 else { throw DataError(labelsPath, "truncated: \(lab.count) bytes, an IDX label header needs 8") }
        guard be32(lab, 0) == 0x0000_0801 else {
            throw DataError(labelsPath, "bad magic number 0x\(String(be32(lab, 0), radix: 16)) (expected 0x801 for IDX labels)")
        }
        let nl = Int(be32(lab, 4))
        guard nl == n else { throw DataError(labelsPath, "holds \(nl) labels but \(imagesPath) holds \(n) images") }
        guard lab.count == 8 + n else { throw DataError(labelsPath, "truncated or oversized: \(lab.count) bytes, expected \(8 + n)") }
        var labels = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            let y = Int(lab[8 + i])
            guard y < classCount else { throw DataError(labelsPath, "label \(y) of item \(i) is out of range 0..<\(classCount)") }
            labels[i] = Int32(y)
        }
        return ImageDataset(pixels: Array(img[16...]), labels: labels, channels: 1, height: h, width: w, classCount: classCount)
    }

    static func findFile(_ directory: String, _ stem: String) throws -> String {
        for candidate in ["\(directory)/\(stem).gz", "\(directory)/\(stem)", "\(directory)/\(stem.replacingOccurrences(of: "-idx", with: ".idx")).gz"] {
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        throw DataError("\(directory)/\(stem)[.gz]", "no such file")
    }

    static func be32(_ b: [UInt8], _ o: Int) -> UInt32 {
        UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])
    }
}
