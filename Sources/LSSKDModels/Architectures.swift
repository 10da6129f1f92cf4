import LSSKDNN
import LSSKDTensor

// The CIFAR architectures of the distillation literature (RepDistiller, HSAKD, PS-KD),
// written from their definitions. Every model: stem -> stages (taps) -> head -> global
// average pooling -> linear. Global average pooling replaces the references' fixed
// `avg_pool2d(out, 8 or 4)` (identical for 32x32 inputs, and any input size works).
// Initialisation follows each reference: ResNet/WRN/VGG/MobileNetV2 convs
// kaiming-normal (fan-out, ReLU gain); ShuffleNets and PreAct ResNet PyTorch defaults.

/// How a classifier is initialised.
enum ClassifierInit {
    /// PyTorch's default (uniform ±1/sqrt(fan-in), weight and bias).
    case pytorchDefault
    /// PyTorch's default weight, zero bias (WRN).
    case zeroBias
    /// Normal(0, std) weight, zero bias (VGG, MobileNetV2: std 0.01).
    case normal(std: Float)
}

func makeClassifier(_ inFeatures: Int, _ classes: Int, _ initialization: ClassifierInit, rng: inout RNG) -> Linear {
    let fc = Linear(inFeatures: inFeatures, outFeatures: classes, rng: &rng)
    switch initialization {
    case .pytorchDefault: break
    case .zeroBias: fc.bias?.value = Tensor(zeros: [classes])
    case .normal(let std):
        fc.weight.value = Tensor.normal([classes, inFeatures], mean: 0, std: std, rng: &rng)
        fc.bias?.value = Tensor(zeros: [classes])
    }
    return fc
}

extension ModelZoo {
    // MARK: - CIFAR ResNet (He et al.; RepDistiller's resnet.py)

    /// CIFAR ResNet with basic blocks, depth `6n + 2`: a 3x3 conv-BN-ReLU stem of
    /// `filters[0]`, three stages of `n` blocks with `filters[1...3]` channels at strides
    /// 1, 2, 2; a 1x1 conv + BN projection where the shape changes. resnet20 is
    /// `depth: 20, filters: [16, 16, 32, 64]`, resnet8x4 `depth: 8, filters: [32, 64, 128, 256]`.
    public static func cifarResNet(name: String, depth: Int, filters: [Int], inChannels: Int, classes: Int,
                                   rng: inout RNG) -> StagedNetwork {
        precondition((depth - 2) % 6 == 0 && depth >= 8 && filters.count == 4, "CIFAR ResNet: depth 6n+2 and 4 widths")
        let n = (depth - 2) / 6
        let ini = WeightInit.kaimingNormalFanOut
        let stem = ConvBN(inChannels, filters[0], kernel: 3, initialization: ini, rng: &rng)
        var specs: [StageSpec] = []
        var width = filters[0]
        for (i, planes) in filters[1...].enumerated() {
            specs.append(StageSpec(inChannels: width, outChannels: planes, stride: i == 0 ? 1 : 2) { cin, stride, rng in
                var blocks: [Module] = []
                for b in 0..<n {
                    blocks.append(BasicBlock(b == 0 ? cin : planes, planes, stride: b == 0 ? stride : 1,
                                             initialization: ini, rng: &rng))
                }
                return Sequential(blocks)
            })
            width = planes
        }
        return StagedNetwork(architecture: name, stem: stem, stageSpecs: specs, head: nil, pooledWidth: width,
                             classifier: { makeClassifier(width, classes, .pytorchDefault, rng: &$0) }, rng: &rng)
    }

    // MARK: - PreAct ResNet-18 (He et al. 2016b; PS-KD's CIFAR_ResNet18_preActBasic)

    /// PreAct ResNet-18 for CIFAR: a 3x3 conv-BN-ReLU stem of 64, four stages of two
    /// pre-activation blocks (64, 128, 256, 512 at strides 1, 2, 2, 2; bias-free 1x1 conv
    /// shortcut where the shape changes); as in PS-KD, no final BN-ReLU before pooling.
    public static func preActResNet18(name: String = "preact_resnet18", inChannels: Int, classes: Int,
                                      rng: inout RNG) -> StagedNetwork {
        let ini = WeightInit.pytorchDefault
        let stem = ConvBN(inChannels, 64, kernel: 3, initialization: ini, rng: &rng)
        var specs: [StageSpec] = []
        var width = 64
        for (i, planes) in [64, 128, 256, 512].enumerated() {
            specs.append(StageSpec(inChannels: width, outChannels: planes, stride: i == 0 ? 1 : 2) { cin, stride, rng in
                Sequential([PreActBlock(cin, planes, stride: stride, initialization: ini, rng: &rng),
                            PreActBlock(planes, planes, stride: 1, initialization: ini, rng: &rng)])
            })
            width = planes
        }
        return StagedNetwork(architecture: name, stem: stem, stageSpecs: specs, head: nil, pooledWidth: 512,
                             classifier: { makeClassifier(512, classes, .pytorchDefault, rng: &$0) }, rng: &rng)
    }

    // MARK: - Wide ResNet (Zagoruyko & Komodakis; RepDistiller's wrn.py)

    /// WRN-depth-k, depth `6n + 4`: a bias-free 3x3 conv stem of 16 (no BN), three stages
    /// of `n` pre-activation blocks of 16k, 32k, 64k channels at strides 1, 2, 2; head
    /// BN-ReLU.
    public static func wideResNet(name: String, depth: Int, widen: Int, inChannels: Int, classes: Int,
                                  rng: inout RNG) -> StagedNetwork {
        precondition((depth - 4) % 6 == 0 && depth >= 10 && widen >= 1, "WRN: depth 6n+4")
        let n = (depth - 4) / 6
        let ini = WeightInit.kaimingNormalFanOut
        let stem = makeConv(inChannels, 16, kernel: 3, initialization: ini, rng: &rng)
        var specs: [StageSpec] = []
        var width = 16
        for (i, planes) in [16 * widen, 32 * widen, 64 * widen].enumerated() {
            specs.append(StageSpec(inChannels: width, outChannels: planes, stride: i == 0 ? 1 : 2) { cin, stride, rng in
                var blocks: [Module] = []
                for b in 0..<n {
                    blocks.append(PreActBlock(b == 0 ? cin : planes, planes, stride: b == 0 ? stride : 1,
                                              shortcutName: "convShortcut", initialization: ini, rng: &rng))
                }
                return Sequential(blocks)
            })
            width = planes
        }
        let last = width
        return StagedNetwork(architecture: name, stem: stem, stageSpecs: specs, head: { _ in BNReLU(last) },
                             pooledWidth: last, classifier: { makeClassifier(last, classes, .zeroBias, rng: &$0) },
                             rng: &rng)
    }

    // MARK: - VGG with batch norm (RepDistiller / HSAKD vgg.py)

    /// VGG-BN for CIFAR: five conv groups (3x3 convs with bias, each + BN + ReLU), 2x2
    /// max pooling before groups 1, 2, 3; stages: group 0, group 1, group 2, groups 3+4
    /// (HSAKD's taps), global average pooling, one linear layer 512 -> classes.
    /// A stage's "stride 2" is its leading max pool.
    public static func vgg(name: String, config: [[Int]], inChannels: Int, classes: Int,
                           rng: inout RNG) -> StagedNetwork {
        precondition(config.count == 5, "VGG: five conv groups")
        let ini = WeightInit.kaimingNormalFanOut
        let groupsOfStage = [[0], [1], [2], [3, 4]]
        var specs: [StageSpec] = []
        var width = inChannels
        for (s, groups) in groupsOfStage.enumerated() {
            let out = config[groups.last!].last!
            let widths = groups.flatMap { config[$0] }
            specs.append(StageSpec(inChannels: width, outChannels: out, stride: s == 0 ? 1 : 2) { cin, stride, rng in
                var layers: [Module] = stride == 2 ? [MaxPool2d(kernelSize: 2, stride: 2)] : []
                var c = cin
                for v in widths {
                    layers.append(ConvBN(c, v, kernel: 3, bias: true, initialization: ini, rng: &rng))
                    c = v
                }
                return Sequential(layers)
            })
            width = out
        }
        let last = width
        return StagedNetwork(architecture: name, stem: Identity(), stageSpecs: specs, head: nil, pooledWidth: last,
                             classifier: { makeClassifier(last, classes, .normal(std: 0.01), rng: &$0) }, rng: &rng)
    }

    static let vgg8Config = [[64], [128], [256], [512], [512]]
    static let vgg13Config = [[64, 64], [128, 128], [256, 256], [512, 512], [512, 512]]

    // MARK: - ShuffleNet v1 (Zhang et al.; RepDistiller / HSAKD ShuffleNetv1.py)

    /// ShuffleNet v1 for CIFAR: a 1x1 conv-BN-ReLU stem of 24 (stride 1), three stages of
    /// `blocks` units whose first unit has stride 2 and concatenates an average-pooled
    /// shortcut; bottleneck 1/4; grouped 1x1 convs (`groups`), except the first 1x1 conv
    /// that reads the 24-channel stem. g = 3: widths 240, 480, 960, blocks 4, 8, 4.
    public static func shuffleNetV1(name: String = "ShuffleV1", outPlanes: [Int] = [240, 480, 960],
                                    blocks: [Int] = [4, 8, 4], groups: Int = 3, inChannels: Int, classes: Int,
                                    rng: inout RNG) -> StagedNetwork {
        let ini = WeightInit.pytorchDefault
        let stemWidth = 24
        let stem = ConvBN(inChannels, stemWidth, kernel: 1, initialization: ini, rng: &rng)
        var specs: [StageSpec] = []
        var width = stemWidth
        for (s, out) in outPlanes.enumerated() {
            let count = blocks[s]
            specs.append(StageSpec(inChannels: width, outChannels: out, stride: 2) { cin, stride, rng in
                var units: [Module] = []
                for b in 0..<count {
                    let unitIn = b == 0 ? cin : out
                    units.append(ShuffleV1Unit(unitIn, out, stride: b == 0 ? stride : 1, groups: groups,
                                               firstConvGroups: unitIn == stemWidth ? 1 : groups,
                                               initialization: ini, rng: &rng))
                }
                return Sequential(units)
            })
            width = out
        }
        let last = width
        return StagedNetwork(architecture: name, stem: stem, stageSpecs: specs, head: nil, pooledWidth: last,
                             classifier: { makeClassifier(last, classes, .pytorchDefault, rng: &$0) }, rng: &rng)
    }

    // MARK: - ShuffleNetV2 (Ma et al.; RepDistiller ShuffleNetv2.py)

    /// ShuffleNetV2 1.0x for CIFAR: a conv-BN-ReLU stem of 24 at stride 1 (1x1 as in
    /// HSAKD, on whose code LSSKD builds; RepDistiller's is 3x3, `stemKernel: 3`, 576
    /// more weights), three stages of a down-sampling unit + 3, 7, 3 basic units (116,
    /// 232, 464 channels), head 1x1 conv-BN-ReLU to 1024.
    public static func shuffleNetV2(name: String = "ShuffleV2", outChannels: [Int] = [116, 232, 464],
                                    basicUnits: [Int] = [3, 7, 3], lastChannels: Int = 1024, stemKernel: Int = 1,
                                    inChannels: Int, classes: Int, rng: inout RNG) -> StagedNetwork {
        let ini = WeightInit.pytorchDefault
        let stem = ConvBN(inChannels, 24, kernel: stemKernel, initialization: ini, rng: &rng)
        var specs: [StageSpec] = []
        var width = 24
        for (s, out) in outChannels.enumerated() {
            let count = basicUnits[s]
            specs.append(StageSpec(inChannels: width, outChannels: out, stride: 2) { cin, stride, rng in
                var units: [Module] = [ShuffleV2DownUnit(cin, out, stride: stride, initialization: ini, rng: &rng)]
                for _ in 0..<count { units.append(ShuffleV2Unit(out, initialization: ini, rng: &rng)) }
                return Sequential(units)
            })
            width = out
        }
        let last = width
        return StagedNetwork(architecture: name, stem: stem, stageSpecs: specs,
                             head: { ConvBN(last, lastChannels, kernel: 1, initialization: ini, rng: &$0) },
                             pooledWidth: lastChannels,
                             classifier: { makeClassifier(lastChannels, classes, .pytorchDefault, rng: &$0) }, rng: &rng)
    }

    // MARK: - MobileNetV2 (Sandler et al.; HSAKD mobilenetv2.py)

    /// MobileNetV2 for CIFAR with expansion `t` and width multiplier `width`: a 3x3
    /// conv-BN-ReLU stem of `int(32 w)` at stride 1, seven inverted-residual groups
    /// (t, c, n, s) = (1,16,1,1) (t,24,2,1) (t,32,3,2) (t,64,4,2) (t,96,3,1) (t,160,3,2)
    /// (t,320,1,1) with `int(c w)` channels, head 1x1 conv-BN-ReLU to 1280 (`int(1280 w)`
    /// when w > 1). Stages end after groups 2, 3, 5 and 7 (HSAKD).
    public static func mobileNetV2(name: String = "MobileNetV2", expansion t: Int = 6, width: Double = 0.5,
                                   inChannels: Int, classes: Int, rng: inout RNG) -> StagedNetwork {
        let ini = WeightInit.kaimingNormalFanOut
        let setting: [(t: Int, c: Int, n: Int, s: Int)] = [
            (1, 16, 1, 1), (t, 24, 2, 1), (t, 32, 3, 2), (t, 64, 4, 2), (t, 96, 3, 1), (t, 160, 3, 2), (t, 320, 1, 1),
        ]
        func scaled(_ c: Int) -> Int { Int(Double(c) * width) }  // Python's int(c * w): truncation
        let stemWidth = scaled(32)
        let stem = ConvBN(inChannels, stemWidth, kernel: 3, initialization: ini, rng: &rng)
        let groupsOfStage = [[0, 1], [2], [3, 4], [5, 6]]
        var specs: [StageSpec] = []
        var widthIn = stemWidth
        for groups in groupsOfStage {
            let rows = groups.map { setting[$0] }
            let out = scaled(rows.last!.c)
            specs.append(StageSpec(inChannels: widthIn, outChannels: out, stride: rows[0].s) { cin, stride, rng in
                var blocks: [Module] = []
                var c = cin
                for (g, row) in rows.enumerated() {
                    let oup = scaled(row.c)
                    for b in 0..<row.n {
                        let s = b > 0 ? 1 : (g == 0 ? stride : row.s)
                        blocks.append(InvertedResidual(c, oup, stride: s, expansion: row.t, initialization: ini, rng: &rng))
                        c = oup
                    }
                }
                return Sequential(blocks)
            })
            widthIn = out
        }
        let last = widthIn
        let lastChannels = width > 1 ? Int(1280 * width) : 1280
        return StagedNetwork(architecture: name, stem: stem, stageSpecs: specs,
                             head: { ConvBN(last, lastChannels, kernel: 1, initialization: ini, rng: &$0) },
                             pooledWidth: lastChannels,
                             classifier: { makeClassifier(lastChannels, classes, .normal(std: 0.01), rng: &$0) }, rng: &rng)
    }
}
