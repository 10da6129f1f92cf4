import CZlib
import Foundation
import LSSKDData
import LSSKDTensor

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

/// A named collection of float32 tensors plus string metadata in one binary file — the
/// container of checkpoints (and, later, exported models).
///
/// Layout (little-endian):
/// ```
/// offset 0   8 bytes   magic "LSSKDARC"
///        8   u32       format version (2; version 1 files are still read)
///       12   u32       CRC-32 of the H header bytes (version 2; 0 in version 1)
///       16   u64       header length H in bytes
///       24   H bytes   header: UTF-8 JSON {"metadata": {String: String},
///                      "tensors": [{"name", "shape", "offset", "count", "crc32"}],
///                      "dataBytes": D}            (crc32 and dataBytes: version 2)
///            ...       zero padding to a multiple of 64
///            data      each tensor's float32 values, row-major, at its `offset`
///                      (relative to the start of the data section, 64-byte aligned);
///                      D bytes in all, the file ends there
/// ```
/// Integrity (version 2): the header's CRC-32 and each tensor's CRC-32 (over its 4·count
/// value bytes; zlib's `crc32`, the gzip polynomial) are verified on read, and the file's
/// size must be exactly the data section's end, so a flipped bit, a cut or an appended tail
/// is an error naming the damaged part. Version 1 files (no checksums) are read as before.
///
/// Files are written atomically: to a temporary file in the same folder, flushed to disk,
/// renamed over the destination, then the folder is flushed, so a crash never leaves a
/// torn file; a failed write (full disk, no permission) leaves the old file untouched.
public struct TensorArchive {
    public static let magic: [UInt8] = Array("LSSKDARC".utf8)
    public static let version: UInt32 = 2
    /// Versions this build reads.
    public static let readableVersions: ClosedRange<UInt32> = 1...2
    /// The version of the file this archive was read from (the current version for a new one).
    public private(set) var fileVersion: UInt32 = TensorArchive.version

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
        var crc32: UInt32?
    }

    struct Header: Codable {
        var metadata: [String: String]
        var tensors: [Entry]
        var dataBytes: Int?
    }

    /// The first tensor whose name starts with one of `prefixes` and holds a NaN or an
    /// infinity, with the index of the first such value (nil: all finite).
    public func firstNonFinite(prefixes: [String]) -> (name: String, index: Int)? {
        for name in names where prefixes.contains(where: { name.hasPrefix($0) }) {
            let bad: Int? = tensors[name]!.withUnsafeBufferPointer { p in p.firstIndex { !$0.isFinite } }
            if let i = bad { return (name, i) }
        }
        return nil
    }

    /// Throws when a tensor of `prefixes` holds a NaN or an infinity (a diverged or damaged
    /// state that must not be trained on or evaluated).
    public func requireFinite(prefixes: [String], file: String) throws {
        if let (name, i) = firstNonFinite(prefixes: prefixes) {
            throw ArchiveError(file, "tensor \(name) holds a non-finite value (NaN or infinity) at index \(i)")
        }
    }

    // MARK: - Writing

    public func write(to path: String) throws {
        var entries = [Entry]()
        var offset = 0
        for name in names {
            let t = tensors[name]!
            let crc = t.withUnsafeBufferPointer { p in Self.crc(UnsafeRawBufferPointer(p)) }
            entries.append(Entry(name: name, shape: t.shape, offset: offset, count: t.count, crc32: crc))
            offset += (t.count * 4 + 63) / 64 * 64
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let header = try encoder.encode(Header(metadata: metadata, tensors: entries, dataBytes: offset))
        var prefix = Data(Self.magic)
        appendLE(&prefix, Self.version)
        appendLE(&prefix, header.withUnsafeBytes { Self.crc($0) })
        appendLE(&prefix, UInt64(header.count))
        prefix.append(header)
        prefix.append(Data(count: (64 - prefix.count % 64) % 64))

        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let tmp = "\(dir)/.\(url.lastPathComponent).tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: tmp, contents: nil) else {
            throw ArchiveError(path, "cannot write (folder \(dir) missing or not writable)")
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
            throw ArchiveError(path, "write failed, the previous file is untouched: \(error.localizedDescription)")
        }
        guard rename(tmp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: tmp)
            throw ArchiveError(path, "cannot replace file: \(reason)")
        }
        // The rename is durable once the folder's entry is on disk.
        let fd = open(dir, O_RDONLY)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }

    /// Temporary files of writers that died before their rename (`.NAME.tmp-PID` next to
    /// `path`, PID not alive); returns the paths removed.
    @discardableResult
    public static func removeStaleTemporaries(of path: String) -> [String] {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let stem = ".\(url.lastPathComponent).tmp-"
        var removed = [String]()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where name.hasPrefix(stem) {
            guard let pid = Int32(name.dropFirst(stem.count)) else { continue }
            if pid != getpid() && (kill(pid, 0) == 0 || errno == EPERM) { continue }  // a live writer
            if (try? FileManager.default.removeItem(atPath: "\(dir)/\(name)")) != nil { removed.append("\(dir)/\(name)") }
        }
        return removed
    }

    static func crc(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var c = crc32(0, nil, 0)
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

    // MARK: - Reading

    public static func read(from path: String) throws -> TensorArchive {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDir: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDir)
            throw ArchiveError(path, !exists ? "no such file" : isDir.boolValue ? "is a folder, not a model file" : "cannot be read (permission?)")
        }
        return try decode(data, path: path)
    }

    /// Parses an archive held in memory (`path` names it in errors). Every offset and size is
    /// checked before it is used: no input makes this read out of bounds or trap.
    public static func decode(_ data: Data, path: String) throws -> TensorArchive {
        guard data.count >= 24, Array(data.prefix(8)) == magic else {
            throw ArchiveError(path, data.count < 24 ? "not an LSSKD archive (too short: \(data.count) bytes)" : "not an LSSKD archive (bad magic number)")
        }
        let version: UInt32 = readLE(data, 8)
        guard readableVersions.contains(version) else {
            throw ArchiveError(path, "archive format version \(version) is not supported (this build reads \(readableVersions.lowerBound)...\(readableVersions.upperBound))")
        }
        let headerCRC: UInt32 = readLE(data, 12)
        let headerLength: UInt64 = readLE(data, 16)
        guard headerLength <= UInt64(data.count - 24) else { throw ArchiveError(path, "truncated (header cut short)") }
        let headerEnd = 24 + Int(headerLength)
        let headerBytes = data.subdata(in: 24..<headerEnd)
        if version >= 2 {
            guard headerBytes.withUnsafeBytes({ crc($0) }) == headerCRC else {
                throw ArchiveError(path, "corrupt header (checksum mismatch)")
            }
        }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: headerBytes)
        } catch {
            throw ArchiveError(path, "corrupt header (\(error))")
        }
        let dataStart = (headerEnd + 63) / 64 * 64
        if version >= 2 {
            guard let d = header.dataBytes, d >= 0 else { throw ArchiveError(path, "corrupt header (no data size)") }
            let (end, overflow) = dataStart.addingReportingOverflow(d)
            guard !overflow, end == data.count else {
                throw ArchiveError(path, end > data.count || overflow
                    ? "truncated: \(data.count) bytes, the header describes \(overflow ? "more" : String(end))"
                    : "\(data.count - end) unexpected bytes after the end of the data")
            }
        }
        var archive = TensorArchive(metadata: header.metadata)
        archive.fileVersion = version
        for e in header.tensors {
            guard archive.tensors[e.name] == nil else { throw ArchiveError(path, "tensor \(e.name) is listed twice") }
            // Shapes and counts are checked with overflow-safe arithmetic (a hostile header
            // must not trap the multiplication).
            var product = 1, overflow = false
            for d in e.shape {
                if d < 0 { overflow = true; break }
                let (p, o) = product.multipliedReportingOverflow(by: d)
                if o { overflow = true; break }
                product = p
            }
            guard !overflow, e.count >= 0, e.offset >= 0, product == e.count, e.count <= Int.max / 8 else {
                throw ArchiveError(path, "tensor \(e.name): shape \(e.shape) does not hold \(e.count) values")
            }
            let (start, o1) = dataStart.addingReportingOverflow(e.offset)
            let (end, o2) = start.addingReportingOverflow(e.count * 4)
            guard !o1, !o2, end <= data.count else {
                throw ArchiveError(path, "truncated: tensor \(e.name) runs past the end of the file")
            }
            if version >= 2 {
                let sum = data.withUnsafeBytes { crc(UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
                guard let want = e.crc32, sum == want else {
                    throw ArchiveError(path, "tensor \(e.name) is damaged (checksum mismatch)")
                }
            }
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
