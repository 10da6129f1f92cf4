import LSSKDData
import LSSKDNN
import LSSKDTensor
import LSSKDTrain

/// Exported models: the backbone of a training checkpoint and nothing else.
///
/// An exported model is a ``ModelArchive`` of kind `model` whose tensors are the backbone's
/// state dictionary (`model.<name>`: parameters and BatchNorm buffers) exactly as in the
/// checkpoint, with the checkpoint's ``ModelDescription`` (architecture, input shape,
/// normalisation, resize filter, class names), its epochs and the parameter count.
/// Auxiliary branches (`aux.*`), the optimiser's momentum (`optim.*`), the method's memories
/// (`method.*`), the run record and the metrics history are dropped, so the file's
/// parameter count is the backbone's (LSSKD's branches cost nothing at inference).
public enum ModelExport {
    /// The exported form of `checkpoint` (a training checkpoint, or an exported model exported
    /// again, e.g. to add the inference graph of this version: only its `model.*` tensors are
    /// kept); `parameterNames` are the backbone's parameter names (to count parameters;
    /// BatchNorm buffers are state, not parameters).
    public static func export(_ checkpoint: ModelArchive, parameterNames: Set<String>) throws -> ModelArchive {
        var out = ModelArchive(kind: .model, description: checkpoint.description, epochsDone: checkpoint.epochsDone)
        var parameters = 0
        for name in checkpoint.order where name.hasPrefix("model.") {
            let key = String(name.dropFirst(6))
            let t = checkpoint.state(.model)[key]!
            out.set(.model, key, t)
            if parameterNames.contains(key) { parameters += t.count }
        }
        out.parameterCount = parameters
        return out
    }

    /// Loads an exported model's (or a checkpoint's) backbone into `model`.
    public static func load(_ archive: ModelArchive, into model: Module) throws {
        try model.loadStateDict(archive.state(.model))
    }
}
