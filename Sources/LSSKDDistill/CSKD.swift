import LSSKDData
import LSSKDNN
import LSSKDTensor
import LSSKDTrain

/// Class-wise self-knowledge distillation (CS-KD, Yun et al. 2020). Every sample x of a
/// batch is paired with another training sample x' of the same class (drawn at random,
/// deterministically from (seed, epoch, step)); terms `ce` = CE(x) and
/// `cls` = lambda T^2 KL(stopgrad(p(x'; T)) || p(x; T)). As in the reference code the
/// partners run through the model in training mode without a graph. Defaults T = 4,
/// lambda = 1. A class with a single sample pairs it with itself.
///
/// Batch composition as in the reference code (alinlab/cs-kd, `PairBatchSampler`): B anchors
/// plus B partners, one partner per anchor, so a step costs one graph forward/backward of B
/// images plus one graph-free forward of B. (The reference's `batch_size // 2` halves the
/// 2B-row concatenation, i.e. B anchors.) One difference, chosen on purpose: the reference
/// draws the partner from the whole class and can draw the anchor itself (probability
/// 1/class size); here the partner is always another sample when the class has one, which is
/// what the paper describes.
public final class CSKD: TrainingMethod {
    public let name = "cskd"
    public let temperature: Float
    public let lambda: Float
    public var summary: String { String(format: "T %.1f, lambda %.2f", temperature, lambda) }
    let partners: ClassPartners
    var stepIndex = 0
    var epoch = 0

    public init(partners: ClassPartners, temperature: Float = 4, lambda: Float = 1) {
        self.partners = partners
        self.temperature = temperature
        self.lambda = lambda
    }

    public func beginEpoch(_ epoch: Int, epochs: Int) throws {
        self.epoch = epoch
        stepIndex = 0
    }

    public func step(model: Module, batch: Batch, epoch: Int, epochs: Int) throws -> StepOutput {
        guard batch.labelsB == nil else { throw MethodError("cskd", "CutMix batches are not supported by this method") }
        let other = partners.partnerBatch(for: batch, epoch: epoch, step: stepIndex)
        stepIndex += 1
        let logits = try model(Variable(batch.images))
        let teacher = try Autograd.withNoGrad { try model(Variable(other.images)).value }
        let ce = try crossEntropy(logits: logits, labels: batch.labels)
        let cls = try klDivergence(logits: logits, targets: try softmax(teacher, temperature: temperature),
                                   temperature: temperature, scale: lambda * temperature * temperature)
        return StepOutput(logits: logits.value, terms: [("ce", ce), ("cls", cls)])
    }
}
