import LSSKDTensor

/// How a layer initialises its weight.
public enum WeightInit: Sendable {
    /// PyTorch's default for Conv2d/Linear: weight kaiming_uniform(a = sqrt(5)), i.e.
    /// U(±1/sqrt(fanIn)); bias U(±1/sqrt(fanIn)).
    case pytorchDefault
    /// CIFAR ResNets: weight kaiming_normal(mode = fan_out, nonlinearity = relu); bias 0.
    case kaimingNormalFanOut
}

/// 2-D convolution layer. Input `[N, inChannels, H, W]`, weight
/// `[outChannels, inChannels / groups, k, k]`, output `[N, outChannels, H', W']`.
public final class Conv2d: Module {
    public let weight: Variable
    public let bias: Variable?
    public let stride: (Int, Int)
    public let padding: (Int, Int)
    public let groups: Int

    public init(inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                groups: Int = 1, bias: Bool = true, initialization: WeightInit = .pytorchDefault,
                rng: inout RNG) {
        precondition(groups >= 1 && inChannels % groups == 0 && outChannels % groups == 0,
                     "Conv2d: channels \(inChannels)->\(outChannels) not divisible by groups \(groups)")
        let shape = [outChannels, inChannels / groups, kernelSize, kernelSize]
        let fanIn = Tensor.fans(shape).fanIn
        switch initialization {
        case .pytorchDefault:
            weight = Variable(Tensor.kaimingUniform(shape, rng: &rng), requiresGrad: true)
            self.bias = bias ? Variable(Tensor.pytorchDefaultBias(count: outChannels, fanIn: fanIn, rng: &rng),
                                        requiresGrad: true) : nil
        case .kaimingNormalFanOut:
            weight = Variable(Tensor.kaimingNormal(shape, mode: .fanOut, nonlinearity: .relu, rng: &rng),
                              requiresGrad: true)
            self.bias = bias ? Variable(Tensor(zeros: [outChannels]), requiresGrad: true) : nil
        }
        self.stride = (stride, stride)
        self.padding = (padding, padding)
        self.groups = groups
        super.init()
    }

    public override var ownParameters: [(String, Variable)] {
        bias.map { [("weight", weight), ("bias", $0)] } ?? [("weight", weight)]
    }

    public override func forward(_ x: Variable) throws -> Variable {
        try conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding, groups: groups)
    }
}

/// Batch normalisation over channels of `[N, C, H, W]` (or `[N, C]`). Parameters
/// `weight` (gamma, 1) and `bias` (beta, 0); buffers `running_mean` (0), `running_var` (1).
public final class BatchNorm2d: Module {
    public let weight: Variable
    public let bias: Variable
    public let runningMean: Variable
    public let runningVar: Variable
    public var momentum: Float
    public var eps: Float

    public init(_ channels: Int, momentum: Float = 0.1, eps: Float = 1e-5) {
        weight = Variable(Tensor(ones: [channels]), requiresGrad: true)
        bias = Variable(Tensor(zeros: [channels]), requiresGrad: true)
        runningMean = Variable(Tensor(zeros: [channels]))
        runningVar = Variable(Tensor(ones: [channels]))
        self.momentum = momentum
        self.eps = eps
        super.init()
    }

    public override var ownParameters: [(String, Variable)] { [("weight", weight), ("bias", bias)] }
    public override var ownBuffers: [(String, Variable)] { [("running_mean", runningMean), ("running_var", runningVar)] }

    public override func forward(_ x: Variable) throws -> Variable {
        try batchNorm(x, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                      training: isTraining, momentum: momentum, eps: eps)
    }

    /// `relu(forward(x))` with the ReLU fused into the batch norm's kernels (``batchNormReLU``).
    public func forwardReLU(_ x: Variable) throws -> Variable {
        try batchNormReLU(x, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                          training: isTraining, momentum: momentum, eps: eps)
    }
}

/// Fully connected layer: `[N, in] -> [N, out]`, weight `[out, in]`.
public final class Linear: Module {
    public let weight: Variable
    public let bias: Variable?

    public init(inFeatures: Int, outFeatures: Int, bias: Bool = true, rng: inout RNG) {
        let shape = [outFeatures, inFeatures]
        weight = Variable(Tensor.kaimingUniform(shape, rng: &rng), requiresGrad: true)
        self.bias = bias ? Variable(Tensor.pytorchDefaultBias(count: outFeatures, fanIn: inFeatures, rng: &rng),
                                    requiresGrad: true) : nil
        super.init()
    }

    public override var ownParameters: [(String, Variable)] {
        bias.map { [("weight", weight), ("bias", $0)] } ?? [("weight", weight)]
    }

    public override func forward(_ x: Variable) throws -> Variable {
        try linear(x, weight: weight, bias: bias)
    }
}

/// `max(x, 0)`.
public final class ReLU: Module {
    public override init() { super.init() }
    public override func forward(_ x: Variable) throws -> Variable { try relu(x) }
}

/// Max pooling (stride defaults to the kernel size).
public final class MaxPool2d: Module {
    public let kernelSize: Int, stride: Int, padding: Int
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernelSize = kernelSize; self.stride = stride ?? kernelSize; self.padding = padding
        super.init()
    }
    public override func forward(_ x: Variable) throws -> Variable {
        try maxPool2d(x, kernel: (kernelSize, kernelSize), stride: (stride, stride), padding: (padding, padding))
    }
}

/// Average pooling (stride defaults to the kernel size; padding counts in the divisor).
public final class AvgPool2d: Module {
    public let kernelSize: Int, stride: Int, padding: Int
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernelSize = kernelSize; self.stride = stride ?? kernelSize; self.padding = padding
        super.init()
    }
    public override func forward(_ x: Variable) throws -> Variable {
        try avgPool2d(x, kernel: (kernelSize, kernelSize), stride: (stride, stride), padding: (padding, padding))
    }
}

/// `[N, C, H, W] -> [N, C]` by averaging.
public final class GlobalAvgPool: Module {
    public override init() { super.init() }
    public override func forward(_ x: Variable) throws -> Variable { try globalAvgPool(x) }
}

/// `[N, ...] -> [N, prod(...)]`.
public final class Flatten: Module {
    public override init() { super.init() }
    public override func forward(_ x: Variable) throws -> Variable { try flatten(x) }
}

/// Passes its input through.
public final class Identity: Module {
    public override init() { super.init() }
    public override func forward(_ x: Variable) throws -> Variable { x }
}

/// Applies its children in order. Children are named "0", "1", … unless given names.
public final class Sequential: Module {
    public let layers: [(String, Module)]

    public init(_ layers: [Module]) {
        self.layers = layers.enumerated().map { ("\($0.offset)", $0.element) }
        super.init()
    }

    public init(named layers: [(String, Module)]) {
        self.layers = layers
        super.init()
    }

    public override var children: [(String, Module)] { layers }

    public override func forward(_ x: Variable) throws -> Variable {
        var h = x
        var i = 0
        while i < layers.count {
            // A batch norm followed by a ReLU runs as one fused op (same result, no pass and no
            // tensor for the batch norm's output).
            if let bn = layers[i].1 as? BatchNorm2d, i + 1 < layers.count, layers[i + 1].1 is ReLU {
                h = try bn.forwardReLU(h)
                i += 2
            } else {
                h = try layers[i].1(h)
                i += 1
            }
        }
        return h
    }
}
