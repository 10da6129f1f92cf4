import Foundation
import LSSKDData
import LSSKDNN
import LSSKDTensor

/// Plain cross-entropy on the batch's labels (the default method). For a CutMix batch the
/// target is lambda*onehot(labels) + (1-lambda)*onehot(labelsB), which has the value and
/// gradient of lambda*CE(labels) + (1-lambda)*CE(labelsB) in one kernel call.
/// `smoothing > 0` is label smoothing: the target becomes (1-eps)*target + eps/classes.
public final class CrossEntropyMethod: TrainingMethod {
    public let name: String
    public let smoothing: Float

    public init(smoothing: Float = 0) {
        precondition(smoothing >= 0 && smoothing < 1, "label smoothing must be in [0, 1)")
        self.smoothing = smoothing
        name = smoothing == 0 ? "ce" : "ls"
    }

    public func loss(_ logits: Variable, _ batch: Batch) throws -> Variable {
        if batch.labelsB == nil && smoothing == 0 { return try crossEntropy(logits: logits, labels: batch.labels) }
        let classes = logits.shape[1]
        var target = try Tensor.oneHot(batch.labels, classes: classes)
        if let labelsB = batch.labelsB {
            try Kernels.scale(&target, by: batch.lambda)
            try Kernels.axpy(&target, try Tensor.oneHot(labelsB, classes: classes), alpha: 1 - batch.lambda)
        }
        if smoothing > 0 {
            try Kernels.scale(&target, by: 1 - smoothing)
            try Kernels.axpy(&target, Tensor(repeating: 1, shape: target.shape), alpha: smoothing / Float(classes))
        }
        return try softmaxCrossEntropy(logits: logits, targets: target)
    }

    public var summary: String { smoothing > 0 ? String(format: "smoothing %.2f", smoothing) : "" }

    public func step(model: Module, batch: Batch, epoch: Int, epochs: Int) throws -> StepOutput {
        let logits = try model(Variable(batch.images))
        return StepOutput(logits: logits.value, terms: [("ce", try loss(logits, batch))])
    }
}
