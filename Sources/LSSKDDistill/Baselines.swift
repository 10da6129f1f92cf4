import LSSKDData
import LSSKDNN
import LSSKDTensor
import LSSKDTrain

/// `scale * KL(targets || softmax(logits / temperature))`, batch-mean over rows, as a
/// differentiable scalar: the soft-target cross-entropy (same gradient as the KL) minus
/// `scale * mean H(targets)`, so that the logged value is the divergence itself.
/// - Parameters: logits `[R, C]`; targets `[R, C]` probability rows (constant: stop-gradient).
public func klDivergence(logits: Variable, targets: Tensor, temperature: Float = 1, scale: Float = 1) throws -> Variable {
    let ce = try softmaxCrossEntropy(logits: logits, targets: targets, temperature: temperature, scale: scale)
    return try sum([ce, Variable(Tensor(-scale * SoftTargets.meanEntropy(targets)))])
}

/// Classic knowledge distillation (Hinton et al.; RepDistiller's weights): terms
/// `ce` = ceWeight * CE(y) and `kd` = kdWeight * T^2 KL(p_teacher(T) || p(T)), with a
/// fixed teacher run in evaluation mode without a graph. Defaults: T = 4, 0.1 / 0.9.
public final class KnowledgeDistillation: TrainingMethod {
    public let name = "kd"
    public let teacher: Module
    public let temperature: Float
    public let ceWeight: Float
    public let kdWeight: Float
    public var summary: String { String(format: "T %.1f, weights ce %.2f / kd %.2f", temperature, ceWeight, kdWeight) }

    public init(teacher: Module, temperature: Float = 4, ceWeight: Float = 0.1, kdWeight: Float = 0.9) {
        self.teacher = teacher
        self.temperature = temperature
        self.ceWeight = ceWeight
        self.kdWeight = kdWeight
        teacher.eval()
    }

    public func step(model: Module, batch: Batch, epoch: Int, epochs: Int) throws -> StepOutput {
        guard batch.labelsB == nil else { throw MethodError("kd", "CutMix batches are not supported by this method") }
        teacher.eval()
        let x = Variable(batch.images)
        let t = try Autograd.withNoGrad { try teacher(x).value }
        let logits = try model(x)
        guard t.shape == logits.shape else { throw MethodError("kd", "teacher gives \(t.shape), student \(logits.shape)") }
        let ce = try crossEntropy(logits: logits, labels: batch.labels) * ceWeight
        let kd = try klDivergence(logits: logits, targets: try softmax(t, temperature: temperature), temperature: temperature,
                                  scale: kdWeight * temperature * temperature)
        return StepOutput(logits: logits.value, terms: [("ce", ce), ("kd", kd)])
    }
}

/// Teacher-free KD with a manually designed virtual teacher (Tf-KD_reg, Yuan et al. 2020):
/// the teacher puts `correctProbability` on the label and the rest uniformly, softened as
/// `softmax(p_d / T)`; terms `ce` = (1-alpha) CE(y) and `reg` = alpha * multiplier *
/// KL(softmax(p_d / T) || p), where the KL is averaged over all R x C elements as
/// PyTorch's `nn.KLDivLoss()` (reduction "mean") of the reference code does.
/// Defaults (the official code's CIFAR-100 ResNet-18 setting, base_resnet18/params.json):
/// alpha 0.1, T 20, multiplier 100, correct probability 0.99.
public final class TeacherFreeKD: TrainingMethod {
    public let name = "tfkd"
    public let alpha: Float
    public let temperature: Float
    public let multiplier: Float
    public let correctProbability: Float
    public var summary: String {
        String(format: "alpha %.2f, T %.1f, multiplier %.0f, correct-class probability %.2f", alpha, temperature, multiplier, correctProbability)
    }

    public init(alpha: Float = 0.1, temperature: Float = 20, multiplier: Float = 100, correctProbability: Float = 0.99) {
        self.alpha = alpha
        self.temperature = temperature
        self.multiplier = multiplier
        self.correctProbability = correctProbability
    }

    /// The virtual teacher's distribution `[B, C]`.
    public func teacher(labels: [Int], classes: Int) throws -> Tensor {
        let off = (1 - correctProbability) / Float(classes - 1)
        var scores = Tensor(repeating: off, shape: [labels.count, classes])
        scores.withUnsafeMutableBufferPointer { p in for (i, y) in labels.enumerated() { p[i * classes + y] = correctProbability } }
        return try softmax(scores, temperature: temperature)
    }

    public func step(model: Module, batch: Batch, epoch: Int, epochs: Int) throws -> StepOutput {
        guard batch.labelsB == nil else { throw MethodError("tfkd", "CutMix batches are not supported by this method") }
        let logits = try model(Variable(batch.images))
        let classes = logits.shape[1]
        let ce = try crossEntropy(logits: logits, labels: batch.labels) * (1 - alpha)
        let reg = try klDivergence(logits: logits, targets: try teacher(labels: batch.labels, classes: classes),
                                   scale: alpha * multiplier / Float(classes))
        return StepOutput(logits: logits.value, terms: [("ce", ce), ("reg", reg)])
    }
}
