import LSSKDData
import LSSKDNN
import LSSKDTensor
import LSSKDTrain

/// Exported models: the backbone of a training checkpoint and nothing else.
///
/// An exported model is a ``TensorArchive`` whose metadata has `kind = "model"` and whose
/// tensors are the backbone's state dictionary, named `model.<name>` (parameters and
/// BatchNorm buffers) exactly as in the checkpoint. Auxiliary branches (`aux.*`), the
/// optimiser's momentum (`optim.*`) and the method's memories (`method.*`) are dropped, so
/// the file's parameter count is the backbone's (LSSKD's branches cost nothing at inference).
///
/// Metadata (all strings): the checkpoint's model description, copied unchanged —
/// `model` (architecture name), `width`, `in_channels`, `classes`, `image_size`, `data`,
/// `norm_mean`, `norm_std` (comma-separated per-channel floats), `method` — plus
/// `kind = "model"`, `epochs_trained` (the checkpoint's `epochs_done`) and `parameters`
/// (the number of parameter values, BatchNorm running statistics excluded). `lsskd eval`
/// reads both checkpoints and exported models.
public enum ModelExport {
    public static let copiedKeys = ["model", "width", "in_channels", "classes", "image_size", "data",
                                    "norm_mean", "norm_std", "method", "class_names"]

    /// The exported form of `checkpoint`; `parameterNames` are the backbone's parameter
    /// names (to count parameters; BatchNorm buffers are state, not parameters).
    public static func export(_ checkpoint: TensorArchive, parameterNames: Set<String>) throws -> TensorArchive {
        guard checkpoint.metadata["kind"] == "checkpoint" else {
            throw DataError("export", "not a training checkpoint (kind \(checkpoint.metadata["kind"] ?? "none"))")
        }
        var meta = [String: String]()
        for key in copiedKeys { if let v = checkpoint.metadata[key] { meta[key] = v } }
        meta["kind"] = "model"
        meta["epochs_trained"] = checkpoint.metadata["epochs_done"]
        var out = TensorArchive(metadata: meta)
        var parameters = 0
        for name in checkpoint.names where name.hasPrefix("model.") {
            let t = checkpoint[name]!
            out.set(name, t)
            if parameterNames.contains(String(name.dropFirst(6))) { parameters += t.count }
        }
        guard !out.names.isEmpty else { throw DataError("export", "the checkpoint holds no model tensors") }
        out.metadata["parameters"] = "\(parameters)"
        return out
    }

    /// Loads an exported model (or a checkpoint's backbone) into `model`.
    public static func load(_ archive: TensorArchive, into model: Module) throws {
        var state = [String: Tensor]()
        for name in archive.names where name.hasPrefix("model.") { state[String(name.dropFirst(6))] = archive[name] }
        try model.loadStateDict(state)
    }
}
