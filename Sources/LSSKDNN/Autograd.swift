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

/// A value in the computation graph: a tensor and the ``GradientNode`` that takes part in
/// differentiation.
///
/// The graph is the micrograd/tinygrad tape: every op that has an input requiring a
/// gradient returns a `Variable` whose node keeps its inputs' *nodes* and a backward closure
/// capturing what the kernel's backward needs (saved input, argmax, batch statistics…).
/// ``backward(seed:retainGraph:)`` orders the nodes reachable from the output
/// (depth-first, i.e. reverse creation order) and runs the closures once each.
///
/// Why value and node are two objects: the graph keeps only nodes (shape, gradient,
/// closure), so an intermediate value that no backward closure saved — a batch norm's
/// output feeding a ReLU, the sum before a block's last ReLU — goes back to the buffer pool
/// as soon as the caller drops its `Variable`, during the forward pass, as in PyTorch. When
/// the graph kept the variables themselves, every intermediate of the step stayed alive
/// until the backward pass reached it (about 40% more activation memory for a ResNet).
///
/// Gradients accumulate (`+=`): the first contribution to a node's gradient in a step
/// overwrites its buffer (kernels' `accumulate = 0`), later ones add (`accumulate = 1`
/// or `lsk_axpy`), so no zero-fill and no temporary is needed. ``zeroGrad()`` only marks
/// the buffer stale; leaves (parameters) keep their buffer across steps.
public final class Variable {
    /// The value. Leaves (parameters, inputs) may be reassigned or mutated in place
    /// (optimiser steps, checkpoint loads) while no graph that uses them is pending.
    public var value: Tensor {
        get { storedValue }
        set { storedValue = newValue; node.shape = newValue.shape }
        // In place (optimiser steps, running statistics): the buffer is yielded directly,
        // without the temporary copy that a property observer would force.
        _modify { yield &storedValue; node.shape = storedValue.shape }
    }
    private var storedValue: Tensor
    /// Its part of the graph (what backward closures capture).
    let node: GradientNode
    /// Optional label (parameter name) for diagnostics.
    public var name: String?

    /// A leaf (input, parameter or buffer).
    public init(_ value: Tensor, requiresGrad: Bool = false, name: String? = nil) {
        storedValue = value
        node = GradientNode(shape: value.shape, requiresGrad: requiresGrad)
        self.name = name
    }

    /// The gradient buffer; meaningful only when ``hasGradient`` is true.
    public var gradStorage: Tensor? { node.gradStorage }
    /// True if this node takes part in differentiation.
    public var requiresGrad: Bool { node.requiresGrad }
    /// True once a gradient was written since the last ``zeroGrad()``.
    public var hasGradient: Bool { node.hasGradient }

    /// The gradient, or nil if none was computed since the last ``zeroGrad()``.
    public var grad: Tensor? { node.hasGradient ? node.gradStorage : nil }

    /// Shape of the value.
    public var shape: [Int] { storedValue.shape }

    /// True for leaves (no recorded op).
    public var isLeaf: Bool { node.backwardFn == nil && !node.graphFreed }

    /// Marks the gradient stale; the buffer is kept and overwritten by the next backward.
    public func zeroGrad() { node.hasGradient = false }

    /// The valid gradient in place (nil, `body` not called, when there is none): what
    /// data-parallel training sums over ranks between the backward pass and the optimiser step.
    @discardableResult
    public func withMutableGradient<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R? {
        guard node.hasGradient, node.gradStorage != nil else { return nil }
        return try node.gradStorage!.withUnsafeMutableBufferPointer(body)
    }

    /// Drops the gradient buffer (returns it to the pool).
    public func releaseGradient() { node.releaseGradient() }

    /// A leaf sharing this value, cut from the graph (stop-gradient).
    public func detached() -> Variable { Variable(storedValue, requiresGrad: false) }

    /// `grad (=|+=) alpha * g` (tests and optimiser code that set gradients by hand; op
    /// closures call it on the captured node instead).
    func addGradient(_ g: Tensor, alpha: Float = 1) throws { try node.addGradient(g, alpha: alpha) }

    /// ``GradientNode/withGradient(_:)`` of this variable's node.
    func withGradient(_ body: (inout Tensor, _ accumulate: Bool) throws -> Void) throws { try node.withGradient(body) }

    /// Reverse-mode differentiation from this node.
    ///
    /// - Parameters:
    ///   - seed: dL/d(self), same element count as the value; nil means ones (for a
    ///     scalar loss, dL/dL = 1).
    ///   - retainGraph: keep closures and saved tensors for another backward. By default
    ///     the graph is freed as it is consumed (saved tensors go back to the pool) and
    ///     gradients of non-leaf nodes are dropped.
    public func backward(seed: Tensor? = nil, retainGraph: Bool = false) throws {
        try node.backward(seed: seed, retainGraph: retainGraph)
    }

    /// Marks the gradient of every node reachable from self stale (parameters included), so
    /// that the next backward starts from nothing: what a diagnostic backward with
    /// `retainGraph: true` must do before the real one.
    public func zeroGradGraph() {
        for n in node.topologicalOrder() { n.hasGradient = false }
    }

    // MARK: - Recording

    /// Wraps an op's output: records `backward` (which receives dL/d(output)) when
    /// autograd is enabled and some input requires a gradient; otherwise returns a
    /// constant leaf and drops the closure (and what it captured). The closure must capture
    /// the inputs' ``node``s, never the input variables (that would keep their values alive).
    static func record(_ value: Tensor, inputs: [Variable], backward: @escaping (Tensor) throws -> Void) -> Variable {
        guard Autograd.isEnabled, inputs.contains(where: { $0.requiresGrad }) else {
            return Variable(value)
        }
        let v = Variable(value, requiresGrad: true)
        v.node.parents = inputs.map(\.node)
        v.node.backwardFn = backward
        return v
    }
}

/// The graph's part of a ``Variable``: the shape, the gradient and, for op outputs, the
/// backward closure and the input nodes. Backward closures capture these, not variables.
final class GradientNode {
    /// Shape (and element count) of the variable's value, for the gradient buffer.
    var shape: [Int] { didSet { count = shape.reduce(1, *) } }
    private(set) var count: Int
    let requiresGrad: Bool
    var gradStorage: Tensor?
    var hasGradient = false
    var parents: [GradientNode] = []
    var backwardFn: ((Tensor) throws -> Void)?
    /// Set when a backward pass freed this op node's closure.
    var graphFreed = false

    init(shape: [Int], requiresGrad: Bool) {
        self.shape = shape
        count = shape.reduce(1, *)
        self.requiresGrad = requiresGrad
    }

    func releaseGradient() { hasGradient = false; gradStorage = nil }

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
        if gradStorage == nil || gradStorage!.shape != shape {
            if hasGradient, let old = gradStorage, old.count == count {
                gradStorage = try? old.reshaped(shape)  // keep the contents
            } else {
                gradStorage = Tensor(uninitialized: shape)
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
            gradStorage = try g.reshaped(shape)
            hasGradient = true
        } else {
            gradStorage = try g.reshaped(shape)
            try Kernels.scale(&gradStorage!, by: alpha)  // copies the shared buffer, then scales
            hasGradient = true
        }
    }

    // MARK: - Backward

    /// ``Variable/backward(seed:retainGraph:)``.
    func backward(seed: Tensor?, retainGraph: Bool) throws {
        guard requiresGrad, !graphFreed else {
            if graphFreed {
                throw KernelError(operation: "Variable.backward", status: .invalidArgument,
                                  detail: "the graph was already freed by an earlier backward (pass retainGraph: true to run backward twice)")
            }
            throw KernelError(operation: "Variable.backward", status: .invalidArgument,
                              detail: "the value does not require a gradient (no input requires one, or it was computed under withNoGrad)")
        }
        if let seed {
            guard seed.count == count else {
                throw KernelError(operation: "Variable.backward", status: .invalidArgument,
                                  detail: "seed has \(seed.count) elements, value has \(count)")
            }
            try addGradient(seed)
        } else {
            try addGradient(Tensor(ones: shape))
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

    /// Nodes reachable from self through recorded ops, each after all of its inputs.
    func topologicalOrder() -> [GradientNode] {
        var order: [GradientNode] = []
        var visited = Set<ObjectIdentifier>()
        // Iterative post-order DFS (deep networks would overflow a recursive one).
        var stack: [(GradientNode, Int)] = [(self, 0)]
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
}

extension Variable: CustomStringConvertible {
    public var description: String {
        "Variable(\(name.map { "\($0), " } ?? "")\(value)\(requiresGrad ? ", requiresGrad" : ""))"
    }
}
