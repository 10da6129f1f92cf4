import LSSKDData
import LSSKDNN
import LSSKDTensor

/// Training state at the end of an epoch: model parameters and buffers ("model.<name>"),
/// optimiser momentum ("optim.momentum.<name>") and the number of finished epochs.
/// The batch order and every random choice of an epoch derive from (seed, epoch), so this
/// is all a resumed run needs to continue exactly as an uninterrupted one.
public enum Checkpoint {
    public static func save(to path: String, model: Module, optimizer: SGD, epochsDone: Int,
                            metadata: [String: String] = [:]) throws {
        var archive = TensorArchive(metadata: metadata.merging(["kind": "checkpoint", "epochs_done": "\(epochsDone)"]) { $1 })
        for (name, t) in model.stateDict() { archive.set("model." + name, t) }
        for (name, t) in optimizer.stateDict() { archive.set("optim." + name, t) }
        try archive.write(to: path)
    }

    /// Loads a checkpoint into `model` and `optimizer`; returns the finished epochs and the
    /// metadata. Names and sizes must match exactly (a checkpoint of another architecture
    /// is an error naming the first mismatch), and nothing is modified on error.
    @discardableResult
    public static func restore(from path: String, model: Module, optimizer: SGD) throws -> (epochsDone: Int, metadata: [String: String]) {
        let archive = try TensorArchive.read(from: path)
        guard archive.metadata["kind"] == "checkpoint", let done = archive.metadata["epochs_done"].flatMap(Int.init) else {
            throw DataError(path, "not a training checkpoint (an exported model cannot be resumed)")
        }
        var modelState = [String: Tensor](), optimState = [String: Tensor]()
        for name in archive.names {
            if name.hasPrefix("model.") { modelState[String(name.dropFirst(6))] = archive[name] }
            else if name.hasPrefix("optim.") { optimState[String(name.dropFirst(6))] = archive[name] }
        }
        do {
            try model.loadStateDict(modelState)
            try optimizer.loadStateDict(optimState)
        } catch {
            throw DataError(path, "does not fit this model: \(error)")
        }
        return (done, archive.metadata)
    }
}
