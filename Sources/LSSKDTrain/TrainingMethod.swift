import Foundation
import LSSKDData
import LSSKDNN
import LSSKDTensor

// MARK: - Training methods

/// What one training step of a ``TrainingMethod`` produced.
public struct StepOutput {
    /// Final-classifier logits of the batch's plain images `[B, classes]` (for LSSKD the
    /// rotation-0 rows), for training accuracy. A plain tensor: no graph.
    public var logits: Tensor
    /// Named loss terms, in a fixed order, each a scalar `Variable` already weighted
    /// (the trainer minimises their sum and logs each one's epoch mean).
    public var terms: [(name: String, value: Variable)]
    /// Intermediate results at which the trainer may measure the gradient each term sends
    /// (LSSKD: the stage outputs `stage1`…), for diagnosis (``ClassifierTrainer/diagnoseEvery``).
    public var probes: [(name: String, value: Variable)]

    public init(logits: Tensor, terms: [(name: String, value: Variable)], probes: [(name: String, value: Variable)] = []) {
        self.logits = logits
        self.terms = terms
        self.probes = probes
    }
}

/// One training method (cross-entropy, label smoothing, PS-KD, LSSKD…): mdistiller's
/// "one type per method behind one protocol". A step returns logits and named loss terms;
/// ``ClassifierTrainer`` sums the terms without knowing the method.
public protocol TrainingMethod: AnyObject {
    /// Command-line name (`"ce"`, `"lsskd"`…), stored in checkpoints.
    var name: String { get }
    /// The method's settings in one line (`a_T 0.80, beta 1.00…`; empty when it has none),
    /// printed at the start of a run and stored in its checkpoint.
    var summary: String { get }
    /// Trainable modules the method owns besides the model (LSSKD's branches), or nil.
    /// The optimiser updates their parameters (named `"aux.<name>"`), checkpoints store
    /// their state (`"aux.<name>"`), and they follow the model's train/eval mode.
    /// Export and evaluation never use them.
    var auxiliary: Module? { get }
    /// One forward pass of `batch` through `model` (and the auxiliary modules).
    /// - Parameters: `epoch` counts from 0; `epochs` is the run's E.
    func step(model: Module, batch: Batch, epoch: Int, epochs: Int) throws -> StepOutput
    /// Called before the first batch of every epoch (also after a resume).
    func beginEpoch(_ epoch: Int, epochs: Int) throws
    /// Called after the last batch of every epoch, before the checkpoint is written.
    func endEpoch(_ epoch: Int, epochs: Int) throws
    /// Extra state for checkpoints (per-sample memories…), stored as `"method.<name>"`.
    func stateDict() -> [(String, Tensor)]
    /// Restores ``stateDict()``; throws (modifying nothing) when it does not fit.
    func loadStateDict(_ state: [String: Tensor]) throws
    /// Top-1 accuracy of each auxiliary classifier on the evaluation split, by name (LSSKD:
    /// `"branch1"`… with each class's M joint logits summed). Empty for methods without one.
    func evaluateAuxiliary(model: Module, on loader: BatchLoader) throws -> [String: Double]
    /// Per-sample state a step writes and a later step reads (PS-KD's and LSSKD's prediction
    /// memories). In data-parallel training each rank writes the rows of its share; the
    /// trainer copies them to every rank after each step (``ReplicatedRows``), so that every
    /// rank reads what one process would have written.
    var replicatedMemories: [ReplicatedRows] { get }
}

/// Rows of per-sample state keyed by the stable dataset index (``Batch/indices``), copied
/// between ranks as raw bytes (bit for bit: half-precision rows stay half).
public protocol ReplicatedRows: AnyObject {
    /// Bytes of one row as stored.
    var rowByteCount: Int { get }
    /// Copies `sample`'s row to `out` (rowByteCount bytes); false, nothing copied, if the row
    /// was never written.
    func copyRow(_ sample: Int, to out: UnsafeMutableRawPointer) -> Bool
    /// Stores rowByteCount bytes as `sample`'s row and marks it written.
    func storeRow(_ sample: Int, from bytes: UnsafeRawPointer)
}

extension TrainingMethod {
    public var auxiliary: Module? { nil }
    public var summary: String { "" }
    public func beginEpoch(_ epoch: Int, epochs: Int) throws {}
    public func endEpoch(_ epoch: Int, epochs: Int) throws {}
    public func stateDict() -> [(String, Tensor)] { [] }
    public func evaluateAuxiliary(model: Module, on loader: BatchLoader) throws -> [String: Double] { [:] }
    public var replicatedMemories: [ReplicatedRows] { [] }
    public func loadStateDict(_ state: [String: Tensor]) throws {
        guard state.isEmpty else {
            throw CheckpointError("checkpoint", "method \(name) keeps no state, but the checkpoint has \(state.keys.sorted())")
        }
    }
}
