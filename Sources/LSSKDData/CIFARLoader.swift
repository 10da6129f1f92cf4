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
        let bytes = try readFileBytes(path)
        let labelBytes = variant == .cifar10 ? 1 : 2
        let record = labelBytes + 3072
        let classes = variant == .cifar10 ? 10 : 100
        guard !bytes.isEmpty else { throw DataError(path, "empty file") }
        guard bytes.count % record == 0 else {
            throw DataError(path, "truncated or not a \(variant == .cifar10 ? "CIFAR-10" : "CIFAR-100") binary file: \(bytes.count) bytes is not a multiple of the \(record)-byte record")
        }
        let n = bytes.count / record
        pixels.reserveCapacity(pixels.count + n * 3072)
        labels.reserveCapacity(labels.count + n)
        for i in 0..<n {
            let base = i * record
            let y = Int(bytes[base + labelBytes - 1])
            guard y < classes else { throw DataError(path, "label \(y) of record \(i) is out of range 0..<\(classes)") }
            labels.append(Int32(y))
            pixels.append(contentsOf: bytes[(base + labelBytes)..<(base + record)])
        }
    }

    static func existing(_ directory: String, _ stem: String) throws -> String {
        for candidate in ["\(directory)/\(stem)", "\(directory)/\(stem).gz"] where FileManager.default.fileExists(atPath: candidate) {
            return candidate
        }
        throw DataError("\(directory)/\(stem)[.gz]", "no such file")
    }
}
