import LSSKDNN
import LSSKDTensor

/// How to build one stage of a ``StagedModel``, so that a trainer can make fresh-weight
/// copies of it (LSSKD's auxiliary branches, docs: `shared/method/LSSKD.md`).
///
/// A stage maps `[N, inChannels, H, W]` to `[N, outChannels, H / stride, W / stride]`.
/// The builder takes the input width and the stride, so that the branch after the last
/// stage can be "a fresh copy of the last stage at stride 1" fed with the last stage's
/// *output* (HSAKD's `block_extractor` for the deepest tap): ``make(inChannels:stride:rng:)``
/// with `inChannels: outChannels, stride: 1`.
public struct StageSpec {
    /// Input width in the backbone.
    public let inChannels: Int
    /// Output width (the tap's channel count).
    public let outChannels: Int
    /// Spatial reduction in the backbone (1 or 2).
    public let stride: Int
    let build: (_ inChannels: Int, _ stride: Int, _ rng: inout RNG) -> Module

    public init(inChannels: Int, outChannels: Int, stride: Int,
                build: @escaping (_ inChannels: Int, _ stride: Int, _ rng: inout RNG) -> Module) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.stride = stride
        self.build = build
    }

    /// A new stage with fresh weights (drawn from `rng`); `inChannels` and `stride`
    /// default to the backbone's. The output width is always ``outChannels``.
    public func make(inChannels: Int? = nil, stride: Int? = nil, rng: inout RNG) -> Module {
        build(inChannels ?? self.inChannels, stride ?? self.stride, &rng)
    }
}

/// A CNN made of `stem -> stage 1 -> … -> stage S -> head -> global average pooling ->
/// linear classifier`, with the stage outputs ("taps") exposed for auxiliary branches.
///
/// Stages are indexed from 0 in Swift (`stages[0]` is LSSKD.md's stage s = 1). The head is
/// what follows the last stage before pooling (MobileNetV2's and ShuffleNetV2's 1x1
/// conv-BN-ReLU, a WRN's final BN-ReLU; ``Identity`` when there is none).
public protocol StagedModel: Module {
    /// Command-line name (`"resnet20"`).
    var architecture: String { get }
    var stem: Module { get }
    /// Each maps the previous tap (the stem's output for the first) to the next tap.
    var stages: [Module] { get }
    /// How each stage was built (widths, strides, fresh copies).
    var stageSpecs: [StageSpec] { get }
    var head: Module { get }
    /// Width of the pooled feature (the classifier's input).
    var pooledWidth: Int { get }
    var classifier: Linear { get }
    /// A fresh-weight copy of ``head`` (an ``Identity`` if the model has none).
    func makeHead(rng: inout RNG) -> Module
}

extension StagedModel {
    /// Number of stages S.
    public var stageCount: Int { stages.count }

    /// Output width of each stage (the taps' channel counts).
    public var stageWidths: [Int] { stageSpecs.map(\.outChannels) }

    /// Logits, the output of every stage, and the pooled feature.
    ///
    /// - Parameter x: `[N, C_in, H, W]`
    /// - Returns: logits `[N, classes]`; `taps[i]`: `[N, stageWidths[i], H_i, W_i]`;
    ///   pooled `[N, pooledWidth]` (global average of the head's output).
    public func forwardWithTaps(_ x: Variable) throws -> (logits: Variable, taps: [Variable], pooled: Variable) {
        var h = try stem(x)
        var taps: [Variable] = []
        taps.reserveCapacity(stages.count)
        for stage in stages {
            h = try stage(h)
            taps.append(h)
        }
        let pooled = try globalAvgPool(try head(h))
        return (try classifier(pooled), taps, pooled)
    }

    /// A fresh-weight copy of stage `index` (0-based), optionally with another input width
    /// or stride.
    public func makeStage(_ index: Int, inChannels: Int? = nil, stride: Int? = nil, rng: inout RNG) -> Module {
        stageSpecs[index].make(inChannels: inChannels, stride: stride, rng: &rng)
    }

    /// The layers of LSSKD's auxiliary branch that takes the output of stage `index`
    /// (0-based), before its head, pooling and classifier:
    /// fresh copies of every later stage, or, after the last stage, a fresh copy of the
    /// last stage at stride 1 whose input is the last tap. Output:
    /// `[N, stageWidths.last, ...]` at the last tap's resolution.
    public func makeBranchTrunk(after index: Int, rng: inout RNG) -> Module {
        precondition(index >= 0 && index < stageSpecs.count, "stage index \(index) outside 0..<\(stageSpecs.count)")
        if index == stageSpecs.count - 1 {
            let last = stageSpecs[index]
            return Sequential([last.make(inChannels: last.outChannels, stride: 1, rng: &rng)])
        }
        var layers: [Module] = []
        for t in (index + 1)..<stageSpecs.count { layers.append(stageSpecs[t].make(rng: &rng)) }
        return Sequential(layers)
    }
}

/// A list of modules, named "0", "1", … (PyTorch's `nn.ModuleList`); no forward.
public final class ModuleList: Module {
    public let modules: [Module]
    public init(_ modules: [Module]) {
        self.modules = modules
        super.init()
    }
    public override var children: [(String, Module)] { modules.enumerated().map { ("\($0.offset)", $0.element) } }
}

/// The ``StagedModel`` every architecture of the zoo is an instance of. Parameter names:
/// `stem.…`, `stages.<i>.…`, `head.…`, `classifier.weight/bias`.
public final class StagedNetwork: Module, StagedModel {
    public let architecture: String
    public let stem: Module
    public let stages: [Module]
    public let stageSpecs: [StageSpec]
    public let head: Module
    public let pooledWidth: Int
    public let classifier: Linear
    let stageList: ModuleList
    let headFactory: (inout RNG) -> Module

    /// Builds the stages from their specs (in order, drawing from `rng`); `stem`, `head`
    /// and `classifier` come built. `headFactory` builds fresh heads for branches (nil:
    /// no head, ``Identity``).
    public init(architecture: String, stem: Module, stageSpecs: [StageSpec], head: ((inout RNG) -> Module)?,
                pooledWidth: Int, classifier: (inout RNG) -> Linear, rng: inout RNG) {
        precondition(!stageSpecs.isEmpty, "a staged model needs at least one stage")
        for i in 1..<stageSpecs.count {
            precondition(stageSpecs[i].inChannels == stageSpecs[i - 1].outChannels,
                         "\(architecture): stage \(i) takes \(stageSpecs[i].inChannels) channels, stage \(i - 1) gives \(stageSpecs[i - 1].outChannels)")
        }
        self.architecture = architecture
        self.stem = stem
        self.stageSpecs = stageSpecs
        var built: [Module] = []
        for spec in stageSpecs { built.append(spec.make(rng: &rng)) }
        self.stages = built
        self.stageList = ModuleList(built)
        let makeHead = head ?? { _ in Identity() }
        self.headFactory = makeHead
        self.head = makeHead(&rng)
        self.pooledWidth = pooledWidth
        self.classifier = classifier(&rng)
        super.init()
    }

    public override var children: [(String, Module)] {
        [("stem", stem), ("stages", stageList), ("head", head), ("classifier", classifier)]
    }

    public func makeHead(rng: inout RNG) -> Module { headFactory(&rng) }

    /// The logits (`forwardWithTaps(x).logits`).
    public override func forward(_ x: Variable) throws -> Variable {
        try forwardWithTaps(x).logits
    }
}
