import Foundation
import LSSKDData
import LSSKDTensor

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
    public static var magic: [UInt8] { ArchiveLayout.magic }
    public static var version: UInt32 { ArchiveLayout.version }
    /// Versions this build reads.
    public static var readableVersions: ClosedRange<UInt32> { ArchiveLayout.readableVersions }
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

    typealias Entry = ArchiveLayout.Entry
    typealias Header = ArchiveLayout.Header

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
            let crc = t.withUnsafeBufferPointer { p in ArchiveLayout.crc(UnsafeRawBufferPointer(p)) }
            entries.append(Entry(name: name, shape: t.shape, offset: offset, count: t.count, crc32: crc))
            offset += (t.count * 4 + 63) / 64 * 64
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let header = try encoder.encode(Header(metadata: metadata, tensors: entries, dataBytes: offset))
        var prefix = Data(Self.magic)
        appendLE(&prefix, Self.version)
        appendLE(&prefix, header.withUnsafeBytes { ArchiveLayout.crc($0) })
        appendLE(&prefix, UInt64(header.count))
        prefix.append(header)
        prefix.append(Data(count: (64 - prefix.count % 64) % 64))

        try AtomicFile.write(to: path) { handle in
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

    // MARK: - Reading

    public static func read(from path: String) throws -> TensorArchive {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDir: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDir)
            throw ArchiveError(path, !exists ? "no such file" : isDir.boolValue ? "is a folder, not a model file" : "cannot be read (permission?)")
        }
        return try decode(data, path: path)
    }

    /// Parses an archive held in memory (`path` names it in errors): ``ArchiveLayout`` checks
    /// the bytes, then the tensors are copied out.
    public static func decode(_ data: Data, path: String) throws -> TensorArchive {
        let bytes = data.startIndex == 0 ? data : Data(data)
        return try bytes.withUnsafeBytes { raw in
            let layout = try ArchiveLayout.parse(raw, path: path)
            var archive = TensorArchive(metadata: layout.metadata)
            archive.fileVersion = layout.version
            for e in layout.tensors {
                var t = Tensor(uninitialized: e.shape)
                t.withUnsafeMutableBufferPointer { dst in
                    if e.count > 0 { UnsafeMutableRawPointer(dst.baseAddress!).copyMemory(from: raw.baseAddress! + e.start, byteCount: e.count * 4) }
                }
                archive.set(e.name, t)
            }
            return archive
        }
    }
}

private func appendLE<T: FixedWidthInteger>(_ data: inout Data, _ value: T) {
    withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
}
