import Foundation
import LSSKDTensor

/// Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay,
/// PyTorch semantics (`torch.optim.SGD`, dampening 0):
///
///     g = grad + weightDecay * p
///     v = momentum * v + g          (v starts at 0, so the first step has v = g)
///     p -= lr * (nesterov ? g + momentum * v : v)
///
/// One `lsk_sgd_step` call per parameter. Parameters without a gradient this step are
/// skipped (their momentum is not advanced), as in PyTorch.
public final class SGD {
    /// Parameters with their names (keys of the state dictionary).
    public let parameters: [(String, Variable)]
    public var learningRate: Float
    public let momentum: Float
    public let nesterov: Bool
    public let weightDecay: Float
    /// Per parameter: whether weight decay applies to it.
    public let decayMask: [Bool]
    /// Momentum buffers (nil until a parameter's first step, and when momentum is 0).
    public private(set) var velocity: [Tensor?]

    /// - Parameters:
    ///   - decays: which parameters get weight decay, by name (default: all; CIFAR
    ///     recipes sometimes exclude BN parameters and biases).
    public init(parameters: [(String, Variable)], learningRate: Float, momentum: Float = 0,
                nesterov: Bool = false, weightDecay: Float = 0,
                decays: (String) -> Bool = { _ in true }) throws {
        guard momentum >= 0, weightDecay >= 0, learningRate >= 0 else {
            throw KernelError(operation: "SGD.init", status: .invalidArgument,
                              detail: "lr \(learningRate), momentum \(momentum), weight decay \(weightDecay) must be >= 0")
        }
        guard !nesterov || momentum > 0 else {
            throw KernelError(operation: "SGD.init", status: .invalidArgument, detail: "Nesterov momentum needs momentum > 0")
        }
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        decayMask = parameters.map { decays($0.0) }
        velocity = Array(repeating: nil, count: parameters.count)
    }

    /// Convenience: all parameters of `module`.
    public convenience init(_ module: Module, learningRate: Float, momentum: Float = 0, nesterov: Bool = false,
                            weightDecay: Float = 0, decays: (String) -> Bool = { _ in true }) throws {
        try self.init(parameters: module.namedParameters(), learningRate: learningRate, momentum: momentum,
                      nesterov: nesterov, weightDecay: weightDecay, decays: decays)
    }

    /// Updates every parameter that has a gradient, in place.
    public func step() throws {
        for (i, (_, p)) in parameters.enumerated() {
            guard let g = p.grad else { continue }
            var v: Tensor? = nil
            if momentum != 0 {
                v = velocity[i] ?? Tensor(zeros: p.shape)
                velocity[i] = nil  // keep the buffer uniquely owned while the kernel writes it
            }
            defer { if momentum != 0 { velocity[i] = v } }
            try Kernels.sgdStep(parameter: &p.value, velocity: &v, gradient: g, learningRate: learningRate,
                                momentum: momentum, weightDecay: decayMask[i] ? weightDecay : 0, nesterov: nesterov)
        }
    }

    /// Marks every parameter gradient stale.
    public func zeroGrad() { for (_, p) in parameters { p.zeroGrad() } }

    /// Momentum buffers by parameter name (`"momentum.<name>"`); parameters without a
    /// buffer yet are absent.
    public func stateDict() -> [(String, Tensor)] {
        zip(parameters, velocity).compactMap { named, v in v.map { ("momentum." + named.0, $0) } }
    }

    /// Restores momentum buffers saved by ``stateDict()``; throws on unknown names or
    /// wrong sizes (nothing is modified then).
    public func loadStateDict(_ state: [String: Tensor]) throws {
        var next = Array<Tensor?>(repeating: nil, count: parameters.count)
        var used = 0
        for (i, (name, p)) in parameters.enumerated() {
            guard let t = state["momentum." + name] else { continue }
            guard t.count == p.value.count else {
                throw KernelError(operation: "SGD.loadStateDict", status: .invalidArgument,
                                  detail: "momentum.\(name): \(t.shape) does not fit \(p.shape)")
            }
            next[i] = try t.reshaped(p.shape)
            used += 1
        }
        guard used == state.count else {
            throw KernelError(operation: "SGD.loadStateDict", status: .invalidArgument,
                              detail: "\(state.count - used) entries match no parameter")
        }
        velocity = next
    }
}

/// Learning-rate schedules as pure functions of (epoch, step within epoch), so that a
/// resumed run reproduces the rates exactly.
public struct LRSchedule: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// `base`
        case constant
        /// `base * gamma^(epoch / stepSize)` (PyTorch StepLR)
        case step(stepSize: Int, gamma: Float)
        /// `base * gamma^(number of milestones <= epoch)` (PyTorch MultiStepLR)
        case multiStep(milestones: [Int], gamma: Float)
        /// `minLR + (base - minLR) * (1 + cos(pi * t / T)) / 2` over `totalEpochs`
        /// (PyTorch CosineAnnealingLR with T_max = totalEpochs when evaluated per epoch;
        /// per step with fractional epochs otherwise)
        case cosine(totalEpochs: Int, minLR: Float)
    }

    public var baseLR: Float
    public var kind: Kind
    /// Linear warm-up over the first `warmupEpochs` epochs, per step: step s (0-based,
    /// counted from the start of training) uses `base * (s + 1) / warmupSteps`. The
    /// cosine then runs over the remaining epochs; step schedules keep their milestones.
    public var warmupEpochs: Int

    public init(baseLR: Float, kind: Kind = .constant, warmupEpochs: Int = 0) {
        self.baseLR = baseLR
        self.kind = kind
        self.warmupEpochs = warmupEpochs
    }

    public static func constant(_ lr: Float) -> LRSchedule { LRSchedule(baseLR: lr) }
    public static func step(_ lr: Float, stepSize: Int, gamma: Float = 0.1) -> LRSchedule {
        LRSchedule(baseLR: lr, kind: .step(stepSize: stepSize, gamma: gamma))
    }
    public static func multiStep(_ lr: Float, milestones: [Int], gamma: Float = 0.1) -> LRSchedule {
        LRSchedule(baseLR: lr, kind: .multiStep(milestones: milestones, gamma: gamma))
    }
    public static func cosine(_ lr: Float, totalEpochs: Int, minLR: Float = 0, warmupEpochs: Int = 0) -> LRSchedule {
        LRSchedule(baseLR: lr, kind: .cosine(totalEpochs: totalEpochs, minLR: minLR), warmupEpochs: warmupEpochs)
    }

    /// The rate for `step` (0-based) of `epoch` (0-based). With the default
    /// `stepsPerEpoch: 1` the rate changes once per epoch.
    public func learningRate(epoch: Int, step: Int = 0, stepsPerEpoch: Int = 1) -> Float {
        let spe = max(stepsPerEpoch, 1)
        let s = epoch * spe + min(max(step, 0), spe - 1)
        let warmupSteps = warmupEpochs * spe
        if s < warmupSteps {
            return Float(Double(baseLR) * Double(s + 1) / Double(warmupSteps))
        }
        switch kind {
        case .constant:
            return baseLR
        case let .step(stepSize, gamma):
            return Float(Double(baseLR) * powInt(Double(gamma), epoch / max(stepSize, 1)))
        case let .multiStep(milestones, gamma):
            return Float(Double(baseLR) * powInt(Double(gamma), milestones.filter { $0 <= epoch }.count))
        case let .cosine(totalEpochs, minLR):
            let total = max(totalEpochs * spe - warmupSteps, 1)
            let t = min(Double(s - warmupSteps) / Double(total), 1)
            return Float(Double(minLR) + (Double(baseLR) - Double(minLR)) * (1 + cosPi(t)) / 2)
        }
    }
}

@inline(__always)
func powInt(_ x: Double, _ n: Int) -> Double {
    var r = 1.0
    for _ in 0..<max(n, 0) { r *= x }
    return r
}

@inline(__always)
func cosPi(_ t: Double) -> Double {
    // cos(pi t) with exact values at the ends (t = 0, 0.5, 1).
    if t == 0 { return 1 }
    if t == 1 { return -1 }
    if t == 0.5 { return 0 }
    return cos(Double.pi * t)
}
