import Foundation

/// Writing a file so that a crash, a full disk or a failed write never leaves a partial file
/// under its name: the bytes go to `.NAME.tmp-PID` next to it, are flushed, renamed over the
/// destination, then the folder is flushed (the rename is durable once its entry is on disk).
/// Checkpoints, model files and exports all go through here.
public enum AtomicFile {
    public static func write(to path: String, _ body: (FileHandle) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let tmp = "\(dir)/.\(url.lastPathComponent).tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: tmp, contents: nil) else {
            throw ArchiveError(path, "cannot write (folder \(dir) missing or not writable)")
        }
        do {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: tmp))
            defer { try? handle.close() }
            try body(handle)
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
        let fd = open(dir, O_RDONLY)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }

    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { try $0.write(contentsOf: data) }
    }
}
