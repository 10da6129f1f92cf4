import Foundation

/// Which fan Kaiming initialisation scales by (PyTorch's `mode`).
public enum FanMode: Sendable {
    case fanIn, fanOut
}

/// Non-linearity following a layer, for the Kaiming gain (PyTorch's `calculate_gain`).
public enum Nonlinearity: Sendable {
    case linear
    case relu
    /// Leaky ReLU with negative slope `a` (PyTorch's default for kaiming_uniform_ uses a = sqrt(5)).
    case leakyReLU(Double)

    public var gain: Double {
        switch self {
        case .linear: return 1
        case .relu: return 2.0.squareRoot()
        case .leakyReLU(let a): return (2.0 / (1 + a * a)).squareRoot()
        }
    }
}

extension Tensor {
    /// PyTorch's `_calculate_fan_in_and_fan_out`: for a weight `[out, in, k...]`,
    /// fanIn = in * prod(k), fanOut = out * prod(k). (For a grouped conv `in` is
    /// `in_channels / groups`, as in PyTorch.) Needs rank >= 2.
    public static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        precondition(shape.count >= 2, "fan in/out needs a weight of rank >= 2, got \(shape)")
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    /// Elements drawn from U[low, high).
    public static func uniform(_ shape: [Int], low: Float, high: Float, rng: inout RNG) -> Tensor {
        var t = Tensor(uninitialized: shape)
        t.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = rng.uniform(low, high) }
        }
        return t
    }

    /// Elements drawn from Normal(mean, std).
    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1, rng: inout RNG) -> Tensor {
        var t = Tensor(uninitialized: shape)
        t.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = rng.normal(mean: mean, std: std) }
        }
        return t
    }

    /// Kaiming (He) normal: std = gain / sqrt(fan). CIFAR ResNets use
    /// `mode: .fanOut, nonlinearity: .relu` (PyTorch `kaiming_normal_(mode='fan_out', nonlinearity='relu')`).
    public static func kaimingNormal(_ shape: [Int], mode: FanMode = .fanOut,
                                     nonlinearity: Nonlinearity = .relu, rng: inout RNG) -> Tensor {
        let f = fans(shape)
        let fan = mode == .fanIn ? f.fanIn : f.fanOut
        let std = nonlinearity.gain / Double(max(fan, 1)).squareRoot()
        return normal(shape, mean: 0, std: Float(std), rng: &rng)
    }

    /// Kaiming (He) uniform: bound = gain * sqrt(3 / fan). The defaults are PyTorch's
    /// initialisation of `Conv2d`/`Linear` weights (`kaiming_uniform_(a=sqrt(5))`, which
    /// gives bound = 1 / sqrt(fanIn)).
    public static func kaimingUniform(_ shape: [Int], mode: FanMode = .fanIn,
                                      nonlinearity: Nonlinearity = .leakyReLU(5.0.squareRoot()),
                                      rng: inout RNG) -> Tensor {
        let f = fans(shape)
        let fan = mode == .fanIn ? f.fanIn : f.fanOut
        let bound = Float(nonlinearity.gain * (3.0 / Double(max(fan, 1))).squareRoot())
        return uniform(shape, low: -bound, high: bound, rng: &rng)
    }

    /// PyTorch's default bias of `Conv2d`/`Linear`: U(-1/sqrt(fanIn), 1/sqrt(fanIn)).
    public static func pytorchDefaultBias(count: Int, fanIn: Int, rng: inout RNG) -> Tensor {
        let bound = fanIn > 0 ? Float(1 / Double(fanIn).squareRoot()) : 0
        return uniform([count], low: -bound, high: bound, rng: &rng)
    }

    /// One-hot rows `[labels.count, classes]` (hard targets for the soft-target loss).
    /// Throws if a label is outside 0..<classes.
    public static func oneHot(_ labels: [Int], classes: Int) throws -> Tensor {
        var t = Tensor(zeros: [labels.count, classes])
        for (r, l) in labels.enumerated() {
            guard l >= 0 && l < classes else {
                throw KernelError.invalid("Tensor.oneHot", "label \(l) outside 0..<\(classes) in row \(r)")
            }
            t[flat: r * classes + l] = 1
        }
        return t
    }
}
