import Foundation

/// CIFAR-10 and CIFAR-100 *binary* layouts (gzipped or not). Each record is the label
/// byte(s) then 3,072 pixel bytes: the 1,024 red values, then green, then blue, row-major —
/// already NCHW, so records are copied as they are.
///  - CIFAR-10: 1 label byte (0-9), files data_batch_1..5.bin and test_batch.bin.
///  - CIFAR-100: coarse label byte, fine label byte (0-99); files train.bin and test.bin.
public enum CIFARLoader {
    public enum Variant: Sendable { case cifar10, cifar100 }

    public static func load(directory: String, variant: Variant, train: Bool) throws -> ImageDataset {
        let stems: [String]
        switch variant {
        case .cifar10: stems = train ? (1...5).map { "data_batch_\($0).bin" } : ["test_batch.bin"]
        case .cifar100: stems = [train ? "train.bin" : "test.bin"]
        }
        var pixels = [UInt8](), labels = [Int32]()
        for stem in stems {
            let path = try existing(directory, stem)
            try append(path: path, variant: variant, pixels: &pixels, labels: &labels)
        }
        return ImageDataset(pixels: pixels, labels: labels, channels: 3, height: 32, width: 32,
                            classCount: variant == .cifar10 ? 10 : 100)
    }

    public static func append(path: String, variant: Variant, pixels: inout [UInt8], labels: inout [Int32]) throws {
        try CIFARFormat.decode(try readFileBytes(path), name: path, cifar100: variant == .cifar100, pixels: &pixels, labels: &labels)
    }

    static func existing(_ directory: String, _ stem: String) throws -> String {
        for candidate in ["\(directory)/\(stem)", "\(directory)/\(stem).gz"] where FileManager.default.fileExists(atPath: candidate) {
            return candidate
        }
        throw DataError("\(directory)/\(stem)[.gz]", "no such file")
    }
}
