// The byte formats of the IDX and CIFAR binary datasets, decoded and checked from memory.
// Foundation and DataError (FileBytes.swift) only, so that the fuzz harness
// (tools/fuzz/dataset_fuzz.swift) compiles these decoders alone with `swiftc -sanitize=fuzzer`.

/// IDX (MNIST / Fashion-MNIST): images magic 0x00000803, count, rows, columns (big-endian
/// u32), then the pixels; labels magic 0x00000801, count, then one byte per label.
public enum IDXFormat {
    public struct Decoded {
        public var pixels: [UInt8]
        public var labels: [Int32]
        public var height: Int
        public var width: Int
    }

    public static func decode(images img: [UInt8], labels lab: [UInt8], imagesName: String, labelsName: String,
                              classCount: Int) throws -> Decoded {
        guard img.count >= 16 else { throw DataError(imagesName, "truncated: \(img.count) bytes, an IDX image header needs 16") }
        guard be32(img, 0) == 0x0000_0803 else {
            throw DataError(imagesName, "bad magic number 0x\(String(be32(img, 0), radix: 16)) (expected 0x803 for IDX images)")
        }
        let n = Int(be32(img, 4)), h = Int(be32(img, 8)), w = Int(be32(img, 12))
        guard h > 0, w > 0, h <= 4096, w <= 4096 else { throw DataError(imagesName, "implausible image size \(h)x\(w)") }
        // n < 2^32 and h, w <= 4096: n*h*w < 2^56, no overflow.
        guard img.count == 16 + n * h * w else {
            throw DataError(imagesName, "truncated or oversized: \(img.count) bytes, header promises \(n) images of \(h)x\(w) = \(16 + n * h * w)")
        }
        guard lab.count >= 8 else { throw DataError(labelsName, "truncated: \(lab.count) bytes, an IDX label header needs 8") }
        guard be32(lab, 0) == 0x0000_0801 else {
            throw DataError(labelsName, "bad magic number 0x\(String(be32(lab, 0), radix: 16)) (expected 0x801 for IDX labels)")
        }
        let nl = Int(be32(lab, 4))
        guard nl == n else { throw DataError(labelsName, "holds \(nl) labels but \(imagesName) holds \(n) images") }
        guard lab.count == 8 + n else { throw DataError(labelsName, "truncated or oversized: \(lab.count) bytes, expected \(8 + n)") }
        var labels = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            let y = Int(lab[8 + i])
            guard y < classCount else { throw DataError(labelsName, "label \(y) of item \(i) is out of range 0..<\(classCount)") }
            labels[i] = Int32(y)
        }
        return Decoded(pixels: Array(img[16...]), labels: labels, height: h, width: w)
    }

    static func be32(_ b: [UInt8], _ o: Int) -> UInt32 {
        UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])
    }
}

/// CIFAR-10 / CIFAR-100 binary: records of label byte(s) then 3,072 pixel bytes (planes R, G, B).
public enum CIFARFormat {
    /// Appends the records of `bytes` (a whole file) to `pixels` and `labels`.
    public static func decode(_ bytes: [UInt8], name: String, cifar100: Bool, pixels: inout [UInt8], labels: inout [Int32]) throws {
        let labelBytes = cifar100 ? 2 : 1
        let record = labelBytes + 3072
        let classes = cifar100 ? 100 : 10
        guard !bytes.isEmpty else { throw DataError(name, "empty file") }
        guard bytes.count % record == 0 else {
            throw DataError(name, "truncated or not a \(cifar100 ? "CIFAR-100" : "CIFAR-10") binary file: \(bytes.count) bytes is not a multiple of the \(record)-byte record")
        }
        let n = bytes.count / record
        pixels.reserveCapacity(pixels.count + n * 3072)
        labels.reserveCapacity(labels.count + n)
        for i in 0..<n {
            let base = i * record
            let y = Int(bytes[base + labelBytes - 1])
            guard y < classes else { throw DataError(name, "label \(y) of record \(i) is out of range 0..<\(classes)") }
            labels.append(Int32(y))
            pixels.append(contentsOf: bytes[(base + labelBytes)..<(base + record)])
        }
    }
}
