import Foundation

/// A run's folder (`lsskd train --out DIR`): `checkpoint.lsk`, `metrics.jsonl`,
/// `config.json` and a `.lock` held while a trainer works in it.
///
/// Rules: a new run needs an empty (or new) folder unless asked to `--overwrite`, which
/// removes only the files a run writes; `--resume` needs a checkpoint; two trainers never
/// share a folder. The checkpoint is the source of truth: `metrics.jsonl` is rewritten
/// from its history on resume, so the two never disagree.
public struct RunFolder {
    public let url: URL
    public var checkpoint: URL { url.appendingPathComponent("checkpoint.lsk") }
    public var metrics: URL { url.appendingPathComponent("metrics.jsonl") }
    public var config: URL { url.appendingPathComponent("config.json") }
    public var tensorBoard: URL { url.appendingPathComponent("tb") }
    var lockURL: URL { url.appendingPathComponent(".lock") }
    /// What a run writes (and `--overwrite` removes).
    public static let runFiles = ["checkpoint.lsk", "metrics.jsonl", "config.json", "tb"]

    public init(path: String) { url = URL(fileURLWithPath: path) }

    /// Entries of the folder other than the lock and dead writers' temporaries.
    func entries() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).filter { $0 != ".lock" && !$0.contains(".tmp-") }.sorted()
    }

    /// Throws unless the folder can take this run: `resume` needs a checkpoint; a new run
    /// needs an empty or missing folder, or `overwrite` and nothing in it but run files.
    public func checkUsable(resume: Bool, overwrite: Bool) throws {
        var isDir: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir)
        if exists && !isDir.boolValue { throw RunFolderError("\(url.path) is a file, not a run folder") }
        if resume {
            guard FileManager.default.fileExists(atPath: checkpoint.path) else {
                throw RunFolderError("--resume: no checkpoint at \(checkpoint.path)")
            }
            return
        }
        let present = exists ? entries() : []
        if present.isEmpty { return }
        // A run killed before its first epoch ended left its config, an empty metrics file
        // and perhaps an event file of no epoch: nothing to lose, so a new run may start there.
        let metricsSize = (try? FileManager.default.attributesOfItem(atPath: metrics.path)[.size] as? Int) ?? 0
        if Set(present).isSubset(of: ["config.json", "metrics.jsonl", "tb"]) && metricsSize == 0 { return }
        guard overwrite else {
            throw RunFolderError("\(url.path) is not empty (\(present.prefix(4).joined(separator: ", "))\(present.count > 4 ? ", …" : "")): "
                                 + "pass --resume to continue that run, --overwrite to replace it, or choose another --out")
        }
        let foreign = present.filter { !Self.runFiles.contains($0) }
        guard foreign.isEmpty else {
            throw RunFolderError("--overwrite: \(url.path) holds files no run wrote (\(foreign.prefix(4).joined(separator: ", "))); "
                                 + "they are not deleted: choose another --out")
        }
    }

    /// The folder's lock: held until this object goes away.
    public final class Lock {
        let fd: Int32
        init(fd: Int32) { self.fd = fd }
        deinit { close(fd) }  // closing the descriptor releases the flock
    }

    /// Creates the folder (if needed) and takes its lock; keep the result while working in it.
    public func lock() throws -> Lock {
        // POSIX mkdir, one level at a time, so that the error is the system's own reason.
        var prefix = url.path.hasPrefix("/") ? "" : "."
        for part in url.path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw RunFolderError("cannot create run folder \(url.path): \(String(cString: strerror(errno))) (at \(prefix))")
            }
        }
        let fd = open(lockURL.path, O_CREAT | O_RDWR, 0o644)
        guard fd >= 0 else { throw RunFolderError("cannot write in run folder \(url.path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw RunFolderError("\(url.path) is in use by another lsskd train (its .lock is held)")
        }
        return Lock(fd: fd)
    }

    /// A new run: removes the previous run's files (only with `overwrite`, checked by
    /// ``checkUsable``) and starts an empty `metrics.jsonl`.
    public func prepareNewRun(overwrite: Bool) throws {
        if overwrite {
            for name in Self.runFiles {
                let path = url.appendingPathComponent(name).path
                if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            }
        }
        removeStaleTemporaries()
        try writeAtomically(Data(), to: metrics)
    }

    /// A new TensorBoard event file in `RUN/tb` holding `history` (earlier event files of the
    /// run are replaced: like metrics.jsonl, the events follow the checkpoint). Nil, with a
    /// warning, when the events cannot be written: they are a view, the run goes on.
    public func startTensorBoard(history: [EpochMetrics]) -> TensorBoardWriter? {
        do {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: tensorBoard.path)) ?? [] where name.hasPrefix("events.out.tfevents.") {
                try FileManager.default.removeItem(at: tensorBoard.appendingPathComponent(name))
            }
            let writer = try TensorBoardWriter(folder: tensorBoard)
            let now = Date().timeIntervalSince1970
            for m in history { try writer.add(m, wallTime: now) }
            return writer
        } catch {
            print("warning: no TensorBoard events for this run: \(error)")
            return nil
        }
    }

    public func writeConfig(_ record: RunRecord) throws {
        var data = try record.json()
        data.append(0x0A)
        try writeAtomically(data, to: config)
    }

    /// `metrics.jsonl` made of exactly `history` (one line per finished epoch).
    public func rewriteMetrics(_ history: [EpochMetrics]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var data = Data()
        for m in history {
            data.append(try encoder.encode(m))
            data.append(0x0A)
        }
        try writeAtomically(data, to: metrics)
    }

    /// The history of a checkpoint that holds none (format 1): the metrics lines of its
    /// epochs, the last line of each epoch (a crash could list one twice), dropping lines of
    /// epochs the checkpoint does not hold. Incomplete when lines are missing.
    public func recoverHistory(epochsDone: Int) throws -> [EpochMetrics] {
        guard let text = try? String(contentsOf: metrics, encoding: .utf8) else { return [] }
        var byEpoch = [Int: EpochMetrics]()
        let decoder = JSONDecoder()
        for line in text.split(separator: "\n") {
            guard let m = try? decoder.decode(EpochMetrics.self, from: Data(line.utf8)), m.epoch >= 0, m.epoch < epochsDone else { continue }
            byEpoch[m.epoch] = m
        }
        var out = [EpochMetrics]()
        for e in 0..<epochsDone {
            guard let m = byEpoch[e] else { break }
            out.append(m)
        }
        return out
    }

    /// Removes temporary checkpoint files left by a writer that died before its rename.
    public func removeStaleTemporaries() {
        for path in TensorArchive.removeStaleTemporaries(of: checkpoint.path) { print("removed \(path) (left by an interrupted write)") }
        for path in TensorArchive.removeStaleTemporaries(of: metrics.path) + TensorArchive.removeStaleTemporaries(of: config.path) {
            print("removed \(path) (left by an interrupted write)")
        }
    }

    func writeAtomically(_ data: Data, to target: URL) throws {
        let tmp = url.appendingPathComponent(".\(target.lastPathComponent).tmp-\(getpid())")
        do {
            try data.write(to: tmp)
            guard rename(tmp.path, target.path) == 0 else { throw RunFolderError(String(cString: strerror(errno))) }
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw RunFolderError("cannot write \(target.path): \(Self.reason(error))")
        }
    }

    static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        return ns.localizedDescription
    }

    /// The CPU's model name (Linux: /proc/cpuinfo), for run records and benchmarks.
    public static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") { return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
        }
        return "unknown"
    }
}

/// A run folder that cannot take this run (not empty, locked, unwritable…).
public struct RunFolderError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
