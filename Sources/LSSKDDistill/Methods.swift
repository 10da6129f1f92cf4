import LSSKDData
import LSSKDModels
import LSSKDNN
import LSSKDTensor
import LSSKDTrain

/// The training methods by command-line name (`lsskd train --method NAME`).
public enum MethodKind: String, CaseIterable, Sendable {
    /// Plain cross-entropy.
    case ce
    /// Label smoothing (``MethodOptions/smoothing``, default 0.1).
    case ls
    /// PS-KD: progressive soft targets on the final classifier, no rotations.
    case pskd
    /// HSAKD-style SAD heads with hard labels: LSSKD's L_CE + L_SAD with a_T = 0 (no KL, no FEAT).
    case sad
    /// Layered self-supervised self-distillation.
    case lsskd
    /// Class-wise self-KD: each sample distils from a same-class partner's prediction.
    case cskd
    /// Teacher-free KD with a virtual teacher (Tf-KD_reg).
    case tfkd
    /// Classic KD from a pre-trained teacher (``MethodOptions/teacher``).
    case kd

    /// Whether the method trains on the four-rotation expansion (needs square images and
    /// a ``StagedModel``).
    public var usesRotations: Bool { self == .sad || self == .lsskd }
}

/// Hyper-parameters of the methods (each method reads its own).
public struct MethodOptions {
    /// LSSKD's configuration (``MethodKind/sad`` overrides a_T, beta and gamma with 0).
    public var lsskd = LSSKDConfig()
    /// Label smoothing epsilon of ``MethodKind/ls``.
    public var smoothing: Float = 0.1
    /// a_T of PS-KD.
    public var pskdAlphaT: Float = 0.8
    /// CS-KD's source of same-class partner batches (required by ``MethodKind/cskd``).
    public var classPartners: ClassPartners? = nil
    public var cskdTemperature: Float = 4
    public var cskdLambda: Float = 1
    /// KD's teacher (required by ``MethodKind/kd``) and temperature.
    public var teacher: Module? = nil
    public var kdTemperature: Float = 4
    /// Tf-KD_reg's alpha, temperature, multiplier and correct-class probability: the official
    /// code's CIFAR-100 ResNet-18 setting (experiments/base_experiments/base_resnet18/params.json:
    /// reg_alpha 0.1, reg_temperature 20, multiplier 100; correct_prob 0.99 in my_loss_function.py).
    /// Its MobileNetV2/ShuffleNetV2 settings differ (alpha 0.95, T 40/10, multiplier 1): options.
    public var tfkdAlpha: Float = 0.1
    public var tfkdTemperature: Float = 20
    public var tfkdMultiplier: Float = 100
    public var tfkdCorrectProbability: Float = 0.99
    public init() {}
}

extension MethodKind {
    /// A new method for `model`.
    /// - Parameters:
    ///   - classes: N
    ///   - sampleIndices: the samples of the memories (the training set's ``ImageDataset/originalIndices``)
    ///   - rng: draws auxiliary weights (after the model's, so the backbone's
    ///     initialisation does not depend on the method)
    public func make(model: Module, classes: Int, sampleIndices: [Int], options: MethodOptions = MethodOptions(),
                     rng: inout RNG) throws -> TrainingMethod {
        switch self {
        case .ce: return CrossEntropyMethod()
        case .ls: return CrossEntropyMethod(smoothing: options.smoothing)
        case .pskd:
            return PSKD(classes: classes, sampleIndices: sampleIndices, alphaT: options.pskdAlphaT, precision: options.lsskd.memoryPrecision)
        case .cskd:
            guard let partners = options.classPartners else { throw MethodError("--method cskd", "needs a source of same-class partners") }
            return CSKD(partners: partners, temperature: options.cskdTemperature, lambda: options.cskdLambda)
        case .tfkd:
            return TeacherFreeKD(alpha: options.tfkdAlpha, temperature: options.tfkdTemperature,
                                 multiplier: options.tfkdMultiplier, correctProbability: options.tfkdCorrectProbability)
        case .kd:
            guard let teacher = options.teacher else { throw MethodError("--method kd", "needs a teacher (--teacher FILE)") }
            return KnowledgeDistillation(teacher: teacher, temperature: options.kdTemperature)
        case .sad, .lsskd:
            guard let staged = model as? StagedModel else {
                throw MethodError("--method \(rawValue)", "needs a staged architecture (\(ModelZoo.names.joined(separator: ", ")))")
            }
            var config = options.lsskd
            if self == .sad {
                config.alphaT = 0
                config.beta = 0
                config.gamma = 0
            }
            return LSSKD(model: staged, classes: classes, sampleIndices: sampleIndices, config: config, name: rawValue, rng: &rng)
        }
    }
}
