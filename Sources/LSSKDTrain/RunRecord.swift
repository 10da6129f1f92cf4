import Foundation

/// Everything a run was made from, stored in its checkpoint and in `RUN/config.json`:
/// every option of `lsskd train` (defaults included, as canonical strings), the tool's
/// version, the data's identity, and the machine. `lsskd train --config RUN/config.json`
/// re-runs it; `--resume` refuses a change of any option that alters the result.
public struct RunRecord: Codable, Equatable, Sendable {
    /// Options by name without the dashes (`"lr": "0.05"`, `"nesterov": "false"`).
    public var options: [String: String]
    /// `lsskd VERSION`.
    public var tool: String
    public var data: DataIdentity?
    public var cpu: String
    public var isa: String
    /// When the run started (ISO 8601, UTC).
    public var created: String

    public init(options: [String: String], tool: String, data: DataIdentity?, cpu: String, isa: String, created: String) {
        self.options = options
        self.tool = tool
        self.data = data
        self.cpu = cpu
        self.isa = isa
        self.created = created
    }

    /// Options that cannot change the trained weights: how many threads compute them (the
    /// kernels' results do not depend on it except through float summation order — see
    /// README), where the run lives, how it is started, how often it is evaluated.
    public static let resultNeutralOptions: Set<String> = ["threads", "out", "resume", "overwrite", "config", "eval-every",
                                                           "divergence-factor", "diagnose-grad-norms"]

    /// What differs between this record (the checkpoint's) and `other` (the new command)
    /// in a way that changes the result: one line per difference; empty when none. An
    /// option the run's record lacks (added to the tool later) counts as `defaults[key]`.
    public func resultDifferences(to other: RunRecord, defaults: [String: String] = [:]) -> [String] {
        var out = [String]()
        for key in Set(options.keys).union(other.options.keys).sorted() where !Self.resultNeutralOptions.contains(key) {
            let a = options[key] ?? defaults[key], b = other.options[key] ?? defaults[key]
            if a != b { out.append("--\(key): \(a ?? "(unset)") in the run, \(b ?? "(unset)") now") }
        }
        if let a = data, let b = other.data, a.files != b.files {
            out.append("the data files changed: \(a.summary) in the run, \(b.summary) now")
        }
        return out
    }

    /// The record as pretty-printed JSON (what `RUN/config.json` holds).
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return try encoder.encode(self)
    }
}

/// A dataset's identity: its location and, per file, the size and a CRC-32 of the content
/// (zlib's; it tells a changed or replaced file, not a hostile one).
public struct DataIdentity: Codable, Equatable, Sendable {
    public struct File: Codable, Equatable, Sendable {
        public var name: String
        public var bytes: Int
        /// CRC-32 of the content; for image-folder datasets of the sorted `path:size` list.
        public var crc32: UInt32
    }
    public var spec: String
    public var files: [File]

    public var summary: String {
        files.map { "\($0.name) \($0.bytes) B crc \(String($0.crc32, radix: 16))" }.joined(separator: ", ")
    }

    /// Identity of the regular files directly in `directory` (the IDX and CIFAR layouts).
    public static func ofFiles(in directory: String, spec: String) throws -> DataIdentity {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        var files = [File]()
        for name in names {
            let path = directory + "/" + name
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue,
                  let handle = FileHandle(forReadingAtPath: path) else { continue }
            defer { try? handle.close() }
            var c: UInt32 = 0, size = 0
            while let chunk = try handle.read(upToCount: 1 << 22), !chunk.isEmpty {
                c = chunk.withUnsafeBytes { ArchiveLayout.crc($0, seed: c) }
                size += chunk.count
            }
            files.append(File(name: name, bytes: size, crc32: c))
        }
        return DataIdentity(spec: spec, files: files)
    }

    /// Identity of an image-folder tree: file count and bytes, and a CRC-32 of the sorted
    /// list of relative paths and sizes (hashing every image would cost a full read).
    public static func ofTree(_ directory: String, spec: String) -> DataIdentity {
        var entries = [String](), total = 0
        if let e = FileManager.default.enumerator(atPath: directory) {
            while let rel = e.nextObject() as? String {
                let path = directory + "/" + rel
                guard let attrs = try? FileManager.default.attributesOfItem(atPath: path),
                      attrs[.type] as? FileAttributeType == .typeRegular else { continue }
                let size = (attrs[.size] as? Int) ?? 0
                entries.append("\(rel):\(size)")
                total += size
            }
        }
        let list = entries.sorted().joined(separator: "\n")
        let c = Array(list.utf8).withUnsafeBytes { ArchiveLayout.crc($0) }
        return DataIdentity(spec: spec, files: [File(name: "\(entries.count) files", bytes: total, crc32: c)])
    }
}
