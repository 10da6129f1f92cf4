import Foundation
import LSSKDData
import LSSKDTensor

/// A named collection of float32 tensors plus string metadata in one binary file — the
/// container of checkpoints (and, later, exported models).
///
/// Layout (little-endian):
/// ```
/// offset 0   8 bytes   magic "LSSKDARC"
///        8   u32       format version (1)
///       12   u32       reserved (0)
///       16   u64       header length H in bytes
///       24   H bytes   header: UTF-8 JSON {"metadata": {String: String},
///                      "tensors": [{"name", "shape", "offset", "count"}]}
///            ...       zero padding to a multiple of 64
///            data      each tensor's float32 values, row-major, at its `offset`
///                      (relative to the start of the data section, 64-byte aligned)
/// ```
/// Files are written atomically: to a temporary file in the same folder, flushed to
/// disk, then renamed over the destination, so a crash never leaves a torn file.
public struct TensorArchive {
    public static let magic: [UInt8] = Array("LSSKDARC".utf8)
    public static let version: UInt32 = 1

    public var metadata: [String: String]
    public private(set) var names: [String]
    public private(set) var tensors: [String: Tensor]

    public init(metadata: [String: String] = [:]) {
        self.metadata = metadata
        names = []
        tensors = [:]
    }

    /// Adds or replaces a tensor (insertion order is kept in the file).
    public mutating func set(_ name: String, _ tensor: Tensor) {
        if tensors[name] == nil { names.append(name) }
        tensors[name] = tensor
    }

    public subscript(name: String) -> Tensor? { tensors[name] }

    struct Entry: Codable {
        var name: String
        var shape: [Int]
        var offset: Int
        var count: Int
    }

    struct Header: Codable {
        var metadata: [String: String]
        var tensors: [Entry]
    }

    // MARK: - Writing

    public func write(to path: String) throws {
        var entries = [Entry]()
        var offset = 0
        for name in names {
            let t = tensors[name]!
            entries.append(Entry(name: name, shape: t.shape, offset: offset, count: t.count))
            offset += (t.count * 4 + 63) / 64 * 64
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let header = try encoder.encode(Header(metadata: metadata, tensors: entries))
        var prefix = Data(Self.magic)
        appendLE(&prefix, Self.version)
        appendLE(&prefix, UInt32(0))
        appendLE(&prefix, UInt64(header.count))
        prefix.append(header)
        prefix.append(Data(count: (64 - prefix.count % 64) % 64))

        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let tmp = "\(dir)/.\(url.lastPathComponent).tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: tmp, contents: nil) else {
            throw DataError(path, "cannot write (folder \(dir) missing or not writable)")
        }
        do {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: tmp))
            defer { try? handle.close() }
            try handle.write(contentsOf: prefix)
            for e in entries {
                let t = tensors[e.name]!
                let padded = (e.count * 4 + 63) / 64 * 64
                var bytes = Data(count: padded)
                bytes.withUnsafeMutableBytes { dst in
                    t.withUnsafeBufferPointer { src in
                        if let s = src.baseAddress, e.count > 0 { dst.baseAddress!.copyMemory(from: s, byteCount: e.count * 4) }
                    }
                }
                try handle.write(contentsOf: bytes)
            }
            try handle.synchronize()
        } catch {
            try? FileManager.default.removeItem(atPath: tmp)
            throw DataError(path, "write failed: \(error.localizedDescription)")
        }
        guard rename(tmp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: tmp)
            throw DataError(path, "cannot replace file: \(reason)")
        }
    }

    // MARK: - Reading

    public static func read(from path: String) throws -> TensorArchive {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError(path, FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")
        }
        guard data.count >= 24, Array(data.prefix(8)) == magic else {
            throw DataError(path, "not an LSSKD archive (bad magic number)")
        }
        let version: UInt32 = readLE(data, 8)
        guard version == Self.version else {
            throw DataError(path, "archive format version \(version) is not supported (this build reads \(Self.version))")
        }
        let headerLength: UInt64 = readLE(data, 16)
        guard headerLength <= UInt64(data.count - 24) else { throw DataError(path, "truncated (header cut short)") }
        let headerEnd = 24 + Int(headerLength)
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: data.subdata(in: 24..<headerEnd))
        } catch {
            throw DataError(path, "corrupt header (\(error))")
        }
        let dataStart = (headerEnd + 63) / 64 * 64
        var archive = TensorArchive(metadata: header.metadata)
        for e in header.tensors {
            guard e.count >= 0, e.offset >= 0, e.shape.allSatisfy({ $0 >= 0 }),
                  e.shape.reduce(1, *) == e.count else {
                throw DataError(path, "tensor \(e.name): shape \(e.shape) does not hold \(e.count) values")
            }
            let start = dataStart + e.offset, end = start + e.count * 4
            guard end <= data.count else { throw DataError(path, "truncated: tensor \(e.name) runs past the end of the file") }
            var t = Tensor(uninitialized: e.shape)
            t.withUnsafeMutableBufferPointer { dst in
                data.withUnsafeBytes { src in
                    if e.count > 0 { UnsafeMutableRawPointer(dst.baseAddress!).copyMemory(from: src.baseAddress! + start, byteCount: e.count * 4) }
                }
            }
            archive.set(e.name, t)
        }
        return archive
    }
}

private func appendLE<T: FixedWidthInteger>(_ data: inout Data, _ value: T) {
    withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
}

private func readLE<T: FixedWidthInteger>(_ data: Data, _ offset: Int) -> T {
    var v: T = 0
    withUnsafeMutableBytes(of: &v) { dst in
        data.withUnsafeBytes { src in dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[offset..<(offset + MemoryLayout<T>.size)])) }
    }
    return T(littleEndian: v)
}
