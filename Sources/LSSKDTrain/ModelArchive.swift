import Foundation
import LSSKDTensor

/// What rebuilds a trained network and feeds it: the architecture and the input
/// preprocessing of training. Stored in every checkpoint and exported model, used by
/// `eval`, `predict`, `export` and the KD teacher.
public struct ModelDescription: Equatable, Sendable {
    /// Architecture name (`resnet20`, `simplecnn`…).
    public var model: String
    /// First-stage width of `simplecnn` (ignored by other models).
    public var width: Int
    public var inChannels: Int
    public var classes: Int
    /// Images are `imageSize` × `imageSize`.
    public var imageSize: Int
    /// Per-channel normalisation of training: (x/255 − mean) / std.
    public var normMean: [Float]
    public var normStd: [Float]
    /// Resize filter of a folder dataset (`area` | `bilinear`), so that eval and predict
    /// resize images as training did; nil for fixed-size datasets.
    public var resizeFilter: String?
    /// Class names of a folder dataset (nil otherwise).
    public var classNames: [String]?
    /// The training data (`KIND:DIR`), the default of `lsskd eval`.
    public var data: String?
    /// The training method's name (`ce`, `lsskd`…).
    public var method: String

    public init(model: String, width: Int, inChannels: Int, classes: Int, imageSize: Int, normMean: [Float], normStd: [Float],
                resizeFilter: String? = nil, classNames: [String]? = nil, data: String? = nil, method: String) {
        self.model = model
        self.width = width
        self.inChannels = inChannels
        self.classes = classes
        self.imageSize = imageSize
        self.normMean = normMean
        self.normStd = normStd
        self.resizeFilter = resizeFilter
        self.classNames = classNames
        self.data = data
        self.method = method
    }

    /// The metadata entries (string keys shared by every version of the file format).
    var metadata: [String: String] {
        var m = ["model": model, "width": "\(width)", "in_channels": "\(inChannels)", "classes": "\(classes)",
                 "image_size": "\(imageSize)", "method": method,
                 "norm_mean": normMean.map { "\($0)" }.joined(separator: ","),
                 "norm_std": normStd.map { "\($0)" }.joined(separator: ",")]
        if let r = resizeFilter { m["resize"] = r }
        if let c = classNames { m["class_names"] = c.joined(separator: "\n") }
        if let d = data { m["data"] = d }
        return m
    }

    init(metadata m: [String: String], file: String) throws {
        func need(_ key: String) throws -> String {
            guard let v = m[key] else { throw ArchiveError(file, "metadata has no \(key) (not a file written by lsskd train/export)") }
            return v
        }
        func int(_ key: String, default value: Int? = nil) throws -> Int {
            if m[key] == nil, let v = value { return v }
            let s = try need(key)
            guard let v = Int(s), v > 0, v <= 1 << 20 else { throw ArchiveError(file, "bad \(key) entry '\(s)'") }
            return v
        }
        func floats(_ key: String, count: Int) throws -> [Float] {
            let parts = try need(key).split(separator: ",")
            let v = parts.compactMap { Float($0) }
            guard v.count == parts.count, v.count == count, v.allSatisfy(\.isFinite) else {
                throw ArchiveError(file, "bad \(key) entry (want \(count) finite numbers)")
            }
            return v
        }
        model = try need("model")
        width = try int("width", default: 16)
        inChannels = try int("in_channels")
        classes = try int("classes")
        imageSize = try int("image_size", default: 32)
        normMean = try floats("norm_mean", count: inChannels)
        normStd = try floats("norm_std", count: inChannels)
        guard normStd.allSatisfy({ $0 > 0 }) else { throw ArchiveError(file, "bad norm_std entry (must be positive)") }
        resizeFilter = m["resize"]
        classNames = m["class_names"].map { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
        if let c = classNames, c.count != classes {
            throw ArchiveError(file, "class_names lists \(c.count) names for \(classes) classes")
        }
        data = m["data"]
        method = m["method"] ?? "ce"
    }
}

/// A checkpoint or an exported model, read or written in one place (``TensorArchive`` is
/// the container): typed metadata plus the tensors split by part once —
/// `model.*` (backbone parameters and buffers), `aux.*` (a method's training-only modules),
/// `optim.*` (momentum), `method.*` (memories). Exported models hold `model.*` alone.
public struct ModelArchive {
    public enum Kind: String, Sendable {
        /// A training checkpoint (`RUN/checkpoint.lsk`): resumable.
        case checkpoint
        /// An exported model: the backbone only.
        case model
    }
    /// The parts of the tensor names (`PART.name`). `graph.*`: an exported model's inference
    /// graph weights (batch norm folded in), read by the C runtime (docs/model-format.md).
    public enum Part: String, CaseIterable, Sendable {
        case model, aux, optim, method, graph
    }

    public var kind: Kind
    public var description: ModelDescription
    /// Finished epochs (a checkpoint's progress; an exported model's training length).
    public var epochsDone: Int
    /// The run's recorded options (``RunRecord``), checkpoints written since format 2.
    public var runRecord: RunRecord?
    /// One line per finished epoch: the source of truth for `RUN/metrics.jsonl`.
    public var history: [EpochMetrics]?
    /// The method's one-line summary (`method: lsskd, a_T 0.80…`).
    public var methodSummary: String?
    /// Parameter values of the backbone (exported models).
    public var parameterCount: Int?
    /// Tensors by part, names without the part's prefix.
    public var parts: [Part: [String: Tensor]]
    /// Tensor names in file order (with their part prefix).
    public private(set) var order: [String] = []
    /// Metadata entries this type does not interpret, kept as read.
    public var extraMetadata: [String: String] = [:]
    /// Format version of the file read (``TensorArchive/version`` for a new one).
    public private(set) var fileVersion: UInt32 = TensorArchive.version

    public init(kind: Kind, description: ModelDescription, epochsDone: Int) {
        self.kind = kind
        self.description = description
        self.epochsDone = epochsDone
        parts = [:]
    }

    /// Adds `PART.name` (file order is insertion order).
    public mutating func set(_ part: Part, _ name: String, _ tensor: Tensor) {
        if parts[part]?[name] == nil { order.append(part.rawValue + "." + name) }
        parts[part, default: [:]][name] = tensor
    }

    public func state(_ part: Part) -> [String: Tensor] { parts[part] ?? [:] }

    static let interpretedKeys: Set<String> = ["kind", "epochs_done", "epochs_trained", "run_record", "metrics_history",
                                               "method_options", "parameters", "model", "width", "in_channels", "classes",
                                               "image_size", "method", "norm_mean", "norm_std", "resize", "class_names", "data"]

    // MARK: Writing

    public func write(to path: String) throws {
        var meta = extraMetadata.merging(description.metadata) { $1 }
        meta["kind"] = kind.rawValue
        meta[kind == .checkpoint ? "epochs_done" : "epochs_trained"] = "\(epochsDone)"
        if let s = methodSummary { meta["method_options"] = s }
        if let p = parameterCount { meta["parameters"] = "\(p)" }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        if let r = runRecord { meta["run_record"] = String(decoding: try encoder.encode(r), as: UTF8.self) }
        if let h = history {
            meta["metrics_history"] = try h.map { String(decoding: try encoder.encode($0), as: UTF8.self) }.joined(separator: "\n")
        }
        var archive = TensorArchive(metadata: meta)
        for full in order {
            let dot = full.firstIndex(of: ".")!
            let part = Part(rawValue: String(full[..<dot]))!
            archive.set(full, parts[part]![String(full[full.index(after: dot)...])]!)
        }
        try archive.write(to: path)
    }

    // MARK: Reading

    /// Reads and validates a checkpoint or model file: container integrity (checksums, size),
    /// the metadata, and that every backbone, branch and momentum value is finite.
    public static func read(from path: String) throws -> ModelArchive {
        try ModelArchive(TensorArchive.read(from: path), file: path)
    }

    public init(_ archive: TensorArchive, file: String) throws {
        let m = archive.metadata
        guard let k = m["kind"].flatMap(Kind.init(rawValue:)) else {
            throw ArchiveError(file, "not a checkpoint or model file (kind \(m["kind"] ?? "missing"))")
        }
        kind = k
        description = try ModelDescription(metadata: m, file: file)
        let doneKey = k == .checkpoint ? "epochs_done" : "epochs_trained"
        guard let done = Int(m[doneKey] ?? (k == .model ? "0" : "")), done >= 0 else {
            throw ArchiveError(file, "metadata has no valid \(doneKey)")
        }
        epochsDone = done
        methodSummary = m["method_options"]
        parameterCount = m["parameters"].flatMap(Int.init)
        let decoder = JSONDecoder()
        if let r = m["run_record"] {
            do { runRecord = try decoder.decode(RunRecord.self, from: Data(r.utf8)) } catch {
                throw ArchiveError(file, "corrupt run record (\(error))")
            }
        }
        if let h = m["metrics_history"] {
            do {
                history = try h.split(separator: "\n").map { try decoder.decode(EpochMetrics.self, from: Data($0.utf8)) }
            } catch { throw ArchiveError(file, "corrupt metrics history (\(error))") }
            guard history!.count == done, history!.enumerated().allSatisfy({ $0.offset == $0.element.epoch }) else {
                throw ArchiveError(file, "metrics history lists \(history!.count) epochs, the checkpoint holds \(done)")
            }
        }
        extraMetadata = m.filter { !Self.interpretedKeys.contains($0.key) }
        fileVersion = archive.fileVersion
        parts = [:]
        for name in archive.names {
            guard let dot = name.firstIndex(of: "."), let part = Part(rawValue: String(name[..<dot])) else {
                throw ArchiveError(file, "tensor \(name) belongs to no known part (model, aux, optim, method, graph)")
            }
            set(part, String(name[name.index(after: dot)...]), archive[name]!)
        }
        guard !(parts[.model] ?? [:]).isEmpty else { throw ArchiveError(file, "holds no model tensors") }
        // Memories (method.*) may pack half-precision bits into float slots; PredictionMemory
        // checks their values when it loads them.
        try archive.requireFinite(prefixes: ["model.", "aux.", "optim.", "graph."], file: file)
    }
}
