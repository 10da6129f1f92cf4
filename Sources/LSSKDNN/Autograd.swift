import LSSKDTensor

/// Global switches of the autograd engine.
public enum Autograd {
    @TaskLocal static var enabled = true

    /// False inside ``withNoGrad(_:)``: ops then record nothing (inference, evaluation,
    /// teacher forward passes, finite differences).
    public static var isEnabled: Bool { enabled }

    /// Runs `body` without recording a graph. Task-local, so it affects only the calling
    /// thread/task.
    public static func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
        try $enabled.withValue(false, operation: body)
    }
}

/// A node of the computation graph: a tensor value, its gradient, and (for op outputs)
/// the closure that pushes its gradient to its inputs.
///
/// The graph is the micrograd/tinygrad tape: every op that has an input requiring a
/// gradient returns a `Variable` that keeps its inputs and a backward closure capturing
/// what the kernel's backward needs (saved input, argmax, batch statistics…).
/// ``backward(seed:retainGraph:)`` orders the nodes reachable from the output
/// (depth-first, i.e. reverse creation order) and runs the closures once each.
///
/// Gradients accumulate (`+=`): the first contribution to a node's gradient in a step
/// overwrites its buffer (kernels' `accumulate = 0`), later ones add (`accumulate = 1`
/// or `lsk_axpy`), so no zero-fill and no temporary is needed. ``zeroGrad()`` only marks
/// the buffer stale; leaves (parameters) keep their buffer across steps.
public final class Variable {
    /// The value. Leaves (parameters, inputs) may be reassigned or mutated in place
    /// (optimiser steps, checkpoint loads) while no graph that uses them is pending.
    public var value: Tensor
    /// The gradient buffer; meaningful only when ``hasGradient`` is true.
    public internal(set) var gradStorage: Tensor?
    /// True if this node takes part in differentiation.
    public let requiresGrad: Bool
    /// Optional label (parameter name) for diagnostics.
    public var name: String?

    /// True once a gradient was written since the last ``zeroGrad()``.
    public internal(set) var hasGradient = false

    var parents: [Variable] = []
    var backwardFn: ((Tensor) throws -> Void)?
    /// Set when a backward pass freed this op node's closure.
    var graphFreed = false

    /// A leaf (input, parameter or buffer).
    public init(_ value: Tensor, requiresGrad: Bool = false, name: String? = nil) {
        self.value = value
        self.requiresGrad = requiresGrad
        self.name = name
    }

    /// The gradient, or nil if none was computed since the last ``zeroGrad()``.
    public var grad: Tensor? { hasGradient ? gradStorage : nil }

    /// Shape of the value.
    public var shape: [Int] { value.shape }

    /// True for leaves (no recorded op).
    public var isLeaf: Bool { backwardFn == nil && !graphFreed }

    /// Marks the gradient stale; the buffer is kept and overwritten by the next backward.
    public func zeroGrad() { hasGradient = false }

    /// The valid gradient in place (nil, `body` not called, when there is none): what
    /// data-parallel training sums over ranks between the backward pass and the optimiser step.
    @discardableResult
    public func withMutableGradient<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R? {
        guard hasGradient, gradStorage != nil else { return nil }
        return try gradStorage!.withUnsafeMutableBufferPointer(body)
    }

    /// Drops the gradient buffer (returns it to the pool).
    public func releaseGradient() { hasGradient = false; gradStorage = nil }

    /// A leaf sharing this value, cut from the graph (stop-gradient).
    public func detached() -> Variable { Variable(value, requiresGrad: false) }

    // MARK: - Gradient accumulation (used by op backward closures)

    /// Gives `body` the gradient buffer and whether to accumulate into it; the buffer is
    /// allocated (uninitialised, from the pool) on first use and marked valid afterwards.
    func withGradient(_ body: (inout Tensor, _ accumulate: Bool) throws -> Void) throws {
        let accumulate = prepareGradient()
        try body(&gradStorage!, accumulate)
        hasGradient = true
    }

    /// Ensures a buffer of the value's shape exists; returns true if it already holds a
    /// gradient to add to. Call ``markGradient()`` after writing it.
    func prepareGradient() -> Bool {
        if gradStorage == nil || gradStorage!.shape != value.shape {
            if hasGradient, let old = gradStorage, old.count == value.count {
                gradStorage = try? old.reshaped(value.shape)  // keep the contents
            } else {
                gradStorage = Tensor(uninitialized: value.shape)
                hasGradient = false
            }
        }
        return hasGradient
    }

    func markGradient() { hasGradient = true }

    /// Moves the gradient buffer out (after ``prepareGradient()``), so that a kernel with
    /// several optional outputs can write it without a copy; give it back with ``restoreGradient(_:)``.
    func takeGradient() -> Tensor? {
        let t = gradStorage
        gradStorage = nil
        return t
    }

    func restoreGradient(_ t: Tensor?) {
        gradStorage = t
        hasGradient = true
    }

    /// `grad (=|+=) alpha * g` for a `g` with the value's element count. An overwrite with
    /// `alpha == 1` shares `g`'s buffer instead of copying (copy-on-write keeps it safe).
    func addGradient(_ g: Tensor, alpha: Float = 1) throws {
        if hasGradient {
            _ = prepareGradient()
            try Kernels.axpy(&gradStorage!, g, alpha: alpha)
        } else if alpha == 1 {
            gradStorage = try g.reshaped(value.shape)
            hasGradient = true
        } else {
            gradStorage = try g.reshaped(value.shape)
            try Kernels.scale(&gradStorage!, by: alpha)  // copies the shared buffer, then scales
            hasGradient = true
        }
    }

    // MARK: - Backward

    /// Reverse-mode differentiation from this node.
    ///
    /// - Parameters:
    ///   - seed: dL/d(self), same element count as the value; nil means ones (for a
    ///     scalar loss, dL/dL = 1).
    ///   - retainGraph: keep closures and saved tensors for another backward. By default
    ///     the graph is freed as it is consumed (saved tensors go back to the pool) and
    ///     gradients of non-leaf nodes are dropped.
    public func backward(seed: Tensor? = nil, retainGraph: Bool = false) throws {
        guard requiresGrad, !graphFreed else {
            if graphFreed {
                throw KernelError(operation: "Variable.backward", status: .invalidArgument,
                                  detail: "the graph was already freed by an earlier backward (pass retainGraph: true to run backward twice)")
            }
            throw KernelError(operation: "Variable.backward", status: .invalidArgument,
                              detail: "the value does not require a gradient (no input requires one, or it was computed under withNoGrad)")
        }
        if let seed {
            guard seed.count == value.count else {
                throw KernelError(operation: "Variable.backward", status: .invalidArgument,
                                  detail: "seed has \(seed.count) elements, value has \(value.count)")
            }
            try addGradient(seed)
        } else {
            try addGradient(Tensor(ones: value.shape))
        }

        let order = topologicalOrder()
        for node in order.reversed() {
            if let fn = node.backwardFn, node.hasGradient, let g = node.gradStorage {
                try fn(g)
            }
            if !retainGraph && node.backwardFn != nil {
                node.backwardFn = nil
                node.parents = []
                node.graphFreed = true
                node.releaseGradient()
            }
        }
    }

    /// Marks the gradient of every node reachable from self stale (parameters included), so
    /// that the next backward starts from nothing: what a diagnostic backward with
    /// `retainGraph: true` must do before the real one.
    public func zeroGradGraph() {
        for node in topologicalOrder() { node.zeroGrad() }
    }

    /// Nodes reachable from self through recorded ops, each after all of its inputs.
    func topologicalOrder() -> [Variable] {
        var order: [Variable] = []
        var visited = Set<ObjectIdentifier>()
        // Iterative post-order DFS (deep networks would overflow a recursive one).
        var stack: [(Variable, Int)] = [(self, 0)]
        visited.insert(ObjectIdentifier(self))
        while let (node, i) = stack.popLast() {
            if i < node.parents.count {
                stack.append((node, i + 1))
                let p = node.parents[i]
                if p.requiresGrad && visited.insert(ObjectIdentifier(p)).inserted {
                    stack.append((p, 0))
                }
            } else {
                order.append(node)
            }
        }
        return order
    }

    // MARK: - Recording

    /// Wraps an op's output: records `backward` (which receives dL/d(output)) when
    /// autograd is enabled and some input requires a gradient; otherwise returns a
    /// constant leaf and drops the closure (and what it captured).
    static func record(_ value: Tensor, inputs: [Variable], backward: @escaping (Tensor) throws -> Void) -> Variable {
        guard Autograd.isEnabled, inputs.contains(where: { $0.requiresGrad }) else {
            return Variable(value)
        }
        let v = Variable(value, requiresGrad: true)
        v.parents = inputs
        v.backwardFn = backward
        return v
    }
}

extension Variable: CustomStringConvertible {
    public var description: String {
        "Variable(\(name.map { "\($0), " } ?? "")\(value)\(requiresGrad ? ", requiresGrad" : ""))"
    }
}
