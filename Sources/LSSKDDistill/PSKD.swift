import LSSKDData
import LSSKDNN
import LSSKDTensor
import LSSKDTrain

/// Progressive self-knowledge distillation (Kim et al.; LSSKD.md item 1 alone): on the
/// plain batch (no rotations), cross-entropy against `(1-a_e) onehot(y) + a_e P[i]`, where
/// P[i] is the sample's train-mode prediction of the previous epoch; one-hot at epoch 0.
public final class PSKD: TrainingMethod {
    public let name = "pskd"
    public let alphaT: Float
    public let classes: Int
    /// P: `[samples, N]`.
    public let memory: PredictionMemory

    public init(classes: Int, sampleIndices: [Int], alphaT: Float = 0.8, precision: MemoryPrecision = .half) {
        self.alphaT = alphaT
        self.classes = classes
        memory = PredictionMemory(indices: sampleIndices, width: classes, precision: precision)
    }

    public var summary: String { String(format: "a_T %.2f, memory %.1f MB", alphaT, Double(memory.byteCount) / 1e6) }

    /// `[B, N]` soft targets of a batch.
    public func targets(labels: [Int], indices: [Int], epoch: Int, epochs: Int) -> Tensor {
        let a = SoftTargets.alpha(alphaT: alphaT, epoch: epoch, epochs: epochs)
        let n = classes
        var t = Tensor(uninitialized: [labels.count, n])  // every row is filled below
        var scratch = [Float](repeating: 0, count: n)
        t.withUnsafeMutableBufferPointer { p in
            scratch.withUnsafeMutableBufferPointer { s in
                for i in labels.indices {
                    let q = SoftTargets.remembered(memory, sample: indices[i], alpha: a, scratch: s.baseAddress!)
                    SoftTargets.fill(p.baseAddress! + i * n, width: n, label: labels[i], alpha: a, remembered: q)
                }
            }
        }
        return t
    }

    public func step(model: Module, batch: Batch, epoch: Int, epochs: Int) throws -> StepOutput {
        guard batch.labelsB == nil else { throw MethodError("pskd", "CutMix batches are not supported by this method") }
        let logits = try model(Variable(batch.images))
        let loss = try softmaxCrossEntropy(logits: logits, targets: targets(labels: batch.labels, indices: batch.indices,
                                                                            epoch: epoch, epochs: epochs))
        let p = try softmax(logits.value)
        p.withUnsafeBufferPointer { q in
            for (i, sample) in batch.indices.enumerated() { memory.write(sample, from: q.baseAddress! + i * classes) }
        }
        return StepOutput(logits: logits.value, terms: [("ce", loss)])
    }

    public func stateDict() -> [(String, Tensor)] { memory.stateDict(prefix: "memory.final") }

    public var replicatedMemories: [ReplicatedRows] { [memory] }

    public func loadStateDict(_ state: [String: Tensor]) throws { try memory.load(state, prefix: "memory.final") }
}
