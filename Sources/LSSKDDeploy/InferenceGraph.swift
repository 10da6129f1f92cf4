import LSSKDTensor

/// A trained network as a list of inference operations: what the C runtime runs and what
/// the ONNX writer translates. Made by ``InferenceLowering`` from a model in eval mode, then
/// simplified by ``InferenceGraph/optimized()`` (batch norm folded into the convolutions,
/// ReLUs and residual additions fused into the operation before them).
///
/// Values are numbered in order of definition: value 0 is the input image `[C, H, W]`
/// (pixels in [0, 1]); node `k` defines value `k + 1`, and reads only earlier values.
public struct InferenceGraph {
    public struct Shape: Equatable, CustomStringConvertible {
        public var c: Int, h: Int, w: Int
        public var elements: Int { c * h * w }
        public var description: String { "\(c)x\(h)x\(w)" }
    }

    public enum Op: Equatable {
        /// `y = x * scale[c] + shift[c]` (the input normalisation; a batch norm that no
        /// convolution precedes, as in pre-activation blocks).
        case affine(scale: String, shift: String)
        /// Square kernel, "same"-style symmetric padding, groups; `bias` may be nil.
        case conv(weight: String, bias: String?, kernel: Int, stride: Int, pad: Int, groups: Int)
        case maxPool(kernel: Int, stride: Int, pad: Int)
        /// Average pooling, padding counted in the divisor (PyTorch's default).
        case avgPool(kernel: Int, stride: Int, pad: Int)
        case globalAvgPool
        /// `y = flatten(x) w^T + b`.
        case linear(weight: String, bias: String?)
        case add
        case relu
        /// Along channels.
        case concat
        /// Channels `start..<end`.
        case slice(start: Int, end: Int)
        /// Channel shuffle of the concatenation of the two inputs (ShuffleNetV2).
        case concatShuffle(groups: Int)
        case shuffle(groups: Int)
    }

    public struct Node {
        public var op: Op
        public var inputs: [Int]
        /// A value added to a convolution's result before its ReLU (fused residual).
        public var residual: Int?
        /// A ReLU applied to the result.
        public var relu: Bool
    }

    public var nodes: [Node] = []
    /// Shape of every value (index 0: the input).
    public var shapes: [Shape]
    /// Weights by name, and their order of first use.
    public var tensors: [String: Tensor] = [:]
    public internal(set) var tensorOrder: [String] = []
    public var output: Int = 0

    public init(input: Shape) { shapes = [input] }

    /// The value node `k` defines.
    public static func value(ofNode k: Int) -> Int { k + 1 }

    /// Registers a weight under a fresh name derived from `hint`.
    public mutating func addTensor(_ t: Tensor, hint: String) -> String {
        var name = hint
        var k = 1
        while tensors[name] != nil { name = "\(hint)_\(k)"; k += 1 }
        tensors[name] = t
        tensorOrder.append(name)
        return name
    }

    /// Appends a node and returns the value it defines; checks the inputs and infers the shape.
    @discardableResult
    public mutating func add(_ op: Op, _ inputs: [Int], relu: Bool = false, residual: Int? = nil) throws -> Int {
        for i in inputs + (residual.map { [$0] } ?? []) where i < 0 || i >= shapes.count {
            throw DeployError("graph: input \(i) is not an earlier value")
        }
        let shape = try outputShape(op, inputs.map { shapes[$0] })
        nodes.append(Node(op: op, inputs: inputs, residual: residual, relu: relu))
        shapes.append(shape)
        return shapes.count - 1
    }

    func outputShape(_ op: Op, _ x: [Shape]) throws -> Shape {
        guard let a = x.first else { throw DeployError("graph: an operation without inputs") }
        func pooled(_ k: Int, _ s: Int, _ p: Int) throws -> Shape {
            let h = (a.h + 2 * p - k) / s + 1, w = (a.w + 2 * p - k) / s + 1
            guard k >= 1, s >= 1, a.h + 2 * p >= k, a.w + 2 * p >= k else { throw DeployError("graph: window larger than its input \(a)") }
            return Shape(c: a.c, h: h, w: w)
        }
        switch op {
        case .affine, .relu: return a
        case .conv(let weight, _, let k, let s, let p, let groups):
            guard let t = tensors[weight], t.shape.count == 4, t.shape[1] * groups == a.c, t.shape[2] == k else {
                throw DeployError("graph: convolution weight \(weight) does not fit its input \(a)")
            }
            let o = try pooled(k, s, p)
            return Shape(c: t.shape[0], h: o.h, w: o.w)
        case .maxPool(let k, let s, let p), .avgPool(let k, let s, let p): return try pooled(k, s, p)
        case .globalAvgPool: return Shape(c: a.c, h: 1, w: 1)
        case .linear(let weight, _):
            guard let t = tensors[weight], t.shape.count == 2, t.shape[1] == a.elements else {
                throw DeployError("graph: linear weight \(weight) does not fit its input \(a)")
            }
            return Shape(c: t.shape[0], h: 1, w: 1)
        case .add:
            guard x.count == 2, x[0] == x[1] else { throw DeployError("graph: add of \(x)") }
            return a
        case .concat, .concatShuffle:
            guard x.count >= 2, x.allSatisfy({ $0.h == a.h && $0.w == a.w }) else { throw DeployError("graph: concat of \(x)") }
            return Shape(c: x.reduce(0) { $0 + $1.c }, h: a.h, w: a.w)
        case .slice(let start, let end):
            guard 0 <= start, start < end, end <= a.c else { throw DeployError("graph: slice \(start)..<\(end) of \(a)") }
            return Shape(c: end - start, h: a.h, w: a.w)
        case .shuffle: return a
        }
    }
}

/// A model that cannot be exported for inference (an unknown layer, a bad graph).
public struct DeployError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
