import CZlib
import Foundation

// The byte layout of ``TensorArchive`` files, parsed and checked without building tensors.
// This file depends on Foundation and zlib only, so that the fuzz harness
// (tools/fuzz/archive_fuzz.swift) compiles it alone with `swiftc -sanitize=fuzzer`.

/// A model or checkpoint file that cannot be used: unreadable, corrupt, truncated, of an
/// unknown version, or holding a value that is not a number. `file` and `reason` name what.
public struct ArchiveError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let reason: String
    public init(_ file: String, _ reason: String) {
        self.file = file
        self.reason = reason
    }
    public var description: String { "\(file): \(reason)" }
}

/// The checked layout of an archive: metadata, and each tensor's shape and byte offset
/// (see ``TensorArchive`` for the format).
public struct ArchiveLayout {
    public static let magic: [UInt8] = Array("LSSKDARC".utf8)
    public static let version: UInt32 = 2
    public static let readableVersions: ClosedRange<UInt32> = 1...2

    struct Entry: Codable {
        var name: String
        var shape: [Int]
        var offset: Int
        var count: Int
        var crc32: UInt32?
    }

    struct Header: Codable {
        var metadata: [String: String]
        var tensors: [Entry]
        var dataBytes: Int?
    }

    public struct Tensor {
        public var name: String
        public var shape: [Int]
        public var count: Int
        /// Byte offset of the first value in the file.
        public var start: Int
    }

    public var version: UInt32
    public var metadata: [String: String]
    public var tensors: [Tensor]

    /// Checks `bytes` completely: magic, version, header checksum and JSON, every tensor's
    /// shape, bounds and checksum, and the file size. Every offset and size is checked
    /// (overflow-safe) before use: no input reads out of bounds or traps.
    public static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws -> ArchiveLayout {
        let size = bytes.count
        guard size >= 24, Array(bytes[0..<8]) == magic else {
            throw ArchiveError(path, size < 24 ? "not an LSSKD archive (too short: \(size) bytes)" : "not an LSSKD archive (bad magic number)")
        }
        func le<T: FixedWidthInteger>(_ offset: Int) -> T {
            var v: T = 0
            withUnsafeMutableBytes(of: &v) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + MemoryLayout<T>.size)])) }
            return T(littleEndian: v)
        }
        let version: UInt32 = le(8)
        guard readableVersions.contains(version) else {
            throw ArchiveError(path, "archive format version \(version) is not supported (this build reads \(readableVersions.lowerBound)...\(readableVersions.upperBound))")
        }
        let headerCRC: UInt32 = le(12)
        let headerLength: UInt64 = le(16)
        guard headerLength <= UInt64(size - 24) else { throw ArchiveError(path, "truncated (header cut short)") }
        let headerEnd = 24 + Int(headerLength)
        let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[24..<headerEnd])
        if version >= 2 {
            guard crc(headerBytes) == headerCRC else { throw ArchiveError(path, "corrupt header (checksum mismatch)") }
        }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(headerBytes))
        } catch {
            throw ArchiveError(path, "corrupt header (\(error))")
        }
        let dataStart = (headerEnd + 63) / 64 * 64
        if version >= 2 {
            guard let d = header.dataBytes, d >= 0 else { throw ArchiveError(path, "corrupt header (no data size)") }
            let (end, overflow) = dataStart.addingReportingOverflow(d)
            guard !overflow, end == size else {
                throw ArchiveError(path, overflow || end > size
                    ? "truncated: \(size) bytes, the header describes \(overflow ? "more" : String(end))"
                    : "\(size - end) unexpected bytes after the end of the data")
            }
        }
        var seen = Set<String>()
        var tensors = [Tensor]()
        for e in header.tensors {
            guard seen.insert(e.name).inserted else { throw ArchiveError(path, "tensor \(e.name) is listed twice") }
            var product = 1, bad = false
            for d in e.shape {
                let (p, o) = product.multipliedReportingOverflow(by: d)
                if d < 0 || o { bad = true; break }
                product = p
            }
            guard !bad, e.count >= 0, e.offset >= 0, product == e.count, e.count <= Int.max / 8 else {
                throw ArchiveError(path, "tensor \(e.name): shape \(e.shape) does not hold \(e.count) values")
            }
            let (start, o1) = dataStart.addingReportingOverflow(e.offset)
            let (end, o2) = start.addingReportingOverflow(e.count * 4)
            guard !o1, !o2, end <= size else {
                throw ArchiveError(path, "truncated: tensor \(e.name) runs past the end of the file")
            }
            if version >= 2 {
                guard let want = e.crc32, crc(UnsafeRawBufferPointer(rebasing: bytes[start..<end])) == want else {
                    throw ArchiveError(path, "tensor \(e.name) is damaged (checksum mismatch)")
                }
            }
            tensors.append(Tensor(name: e.name, shape: e.shape, count: e.count, start: start))
        }
        return ArchiveLayout(version: version, metadata: header.metadata, tensors: tensors)
    }

    /// zlib's CRC-32 (the gzip polynomial) of `bytes`, continuing `seed` (the CRC of the
    /// bytes before them; 0 to start).
    public static func crc(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        var c = UInt(seed)
        var p = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        var left = bytes.count
        while left > 0, let q = p {
            let n = min(left, 1 << 30)
            c = crc32(c, q, UInt32(n))
            p = q + n
            left -= n
        }
        return UInt32(c)
    }
}
