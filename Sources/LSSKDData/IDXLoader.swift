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
        let d = try IDXFormat.decode(images: try readFileBytes(imagesPath), labels: try readFileBytes(labelsPath),
                                     imagesName: imagesPath, labelsName: labelsPath, classCount: classCount)
        return ImageDataset(pixels: d.pixels, labels: d.labels, channels: 1, height: d.height, width: d.width, classCount: classCount)
    }

    static func findFile(_ directory: String, _ stem: String) throws -> String {
        for candidate in ["\(directory)/\(stem).gz", "\(directory)/\(stem)", "\(directory)/\(stem.replacingOccurrences(of: "-idx", with: ".idx")).gz"] {
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        throw DataError("\(directory)/\(stem)[.gz]", "no such file")
    }
}
