import LSSKDTensor

/// Base class of layers and models (PyTorch's `nn.Module`).
///
/// A subclass lists its own parameters, buffers and children **in a fixed order** by
/// overriding ``ownParameters``, ``ownBuffers`` and ``children``; the recursive
/// accessors build dotted names from them (`"layer1.0.conv1.weight"`), the keys of
/// checkpoints. Parameters and buffers are ``Variable``s (buffers never require a
/// gradient), so layers update them in place and a checkpoint load assigns their values.
open class Module {
    /// Training mode (batch statistics, running-average updates) vs evaluation mode.
    public private(set) var isTraining = true

    public init() {}

    /// This module's own parameters (not its children's), in a stable order.
    open var ownParameters: [(String, Variable)] { [] }
    /// This module's own buffers (running statistics…), in a stable order.
    open var ownBuffers: [(String, Variable)] { [] }
    /// Direct sub-modules, in a stable order.
    open var children: [(String, Module)] { [] }

    /// The computation. Subclasses override it.
    open func forward(_ x: Variable) throws -> Variable {
        throw KernelError(operation: "\(type(of: self)).forward", status: .unsupported,
                          detail: "this module does not implement forward(_:)")
    }

    public final func callAsFunction(_ x: Variable) throws -> Variable { try forward(x) }

    // MARK: - Traversal

    /// Every sub-module with its dotted path, this one first (as `""`), depth first.
    public final func namedModules(prefix: String = "") -> [(String, Module)] {
        var out: [(String, Module)] = [(prefix, self)]
        for (name, child) in children {
            out += child.namedModules(prefix: prefix.isEmpty ? name : prefix + "." + name)
        }
        return out
    }

    /// Every parameter with its dotted name (`"layer1.0.conv1.weight"`).
    public final func namedParameters() -> [(String, Variable)] {
        namedModules().flatMap { path, m in m.ownParameters.map { (path.isEmpty ? $0.0 : path + "." + $0.0, $0.1) } }
    }

    /// Every buffer with its dotted name (`"bn1.running_mean"`).
    public final func namedBuffers() -> [(String, Variable)] {
        namedModules().flatMap { path, m in m.ownBuffers.map { (path.isEmpty ? $0.0 : path + "." + $0.0, $0.1) } }
    }

    public final func parameters() -> [Variable] { namedParameters().map(\.1) }

    /// Number of parameter elements.
    public final var parameterCount: Int { parameters().reduce(0) { $0 + $1.value.count } }

    // MARK: - Modes and gradients

    /// Sets training (`true`) or evaluation mode on this module and all sub-modules.
    public final func train(_ on: Bool = true) {
        for (_, m) in namedModules() { m.isTraining = on }
    }

    /// Evaluation mode (running statistics, no updates).
    public final func eval() { train(false) }

    /// Marks every parameter gradient stale (buffers are kept for reuse).
    public final func zeroGrad() { for p in parameters() { p.zeroGrad() } }

    // MARK: - State

    /// Parameters then buffers, by dotted name (the values share storage with the model).
    public final func stateDict() -> [(String, Tensor)] {
        namedParameters().map { ($0.0, $0.1.value) } + namedBuffers().map { ($0.0, $0.1.value) }
    }

    /// Copies values into parameters and buffers, matching by name and element count.
    /// With `strict`, missing or unexpected names throw. Nothing is modified on error.
    public final func loadStateDict(_ state: [String: Tensor], strict: Bool = true) throws {
        let targets = namedParameters() + namedBuffers()
        var seen = Set<String>()
        for (name, v) in targets {
            guard let t = state[name] else {
                if strict { throw KernelError(operation: "Module.loadStateDict", status: .invalidArgument,
                                              detail: "missing \(name)") }
                continue
            }
            guard t.count == v.value.count else {
                throw KernelError(operation: "Module.loadStateDict", status: .invalidArgument,
                                  detail: "\(name): \(t.shape) does not fit \(v.shape)")
            }
            seen.insert(name)
        }
        if strict, let extra = state.keys.first(where: { !seen.contains($0) }) {
            throw KernelError(operation: "Module.loadStateDict", status: .invalidArgument, detail: "unexpected \(extra)")
        }
        for (name, v) in targets {
            if let t = state[name] { try v.value.assign(t) }
        }
    }
}
