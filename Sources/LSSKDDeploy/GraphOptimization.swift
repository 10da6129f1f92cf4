import LSSKDTensor

extension InferenceGraph {
    /// The same function with fewer passes over memory, applied until nothing changes:
    /// 1. a batch norm (affine) whose input is a convolution read by nothing else is folded
    ///    into it: `w'[o] = w[o] * scale[o]`, `b' = b * scale + shift`;
    /// 2. an addition of a convolution's result (read by nothing else) and an earlier value
    ///    becomes the convolution's residual;
    /// 3. a ReLU whose input is read by nothing else is fused into the operation computing it.
    /// Weights no node uses any more are dropped; values are renumbered.
    public func optimized() -> InferenceGraph {
        var g = self
        var nodes: [Node?] = g.nodes.map { $0 }
        var replaced = [Int: Int]()  // value -> the value that now carries it
        func resolve(_ v: Int) -> Int {
            var v = v
            while let r = replaced[v] { v = r }
            return v
        }
        func readers(_ v: Int) -> [Int] {
            var out: [Int] = []
            for (k, n) in nodes.enumerated() {
                guard let n else { continue }
                if n.inputs.map(resolve).contains(v) || n.residual.map(resolve) == v { out.append(k) }
            }
            return out
        }
        var changed = true
        while changed {
            changed = false
            for k in nodes.indices {
                guard let n = nodes[k] else { continue }
                let out = InferenceGraph.value(ofNode: k)
                let input = resolve(n.inputs[0])
                let producer = input - 1  // node defining the input (value 0 has none)
                let singleReader = input > 0 && resolve(g.output) != input && readers(input) == [k]
                switch n.op {
                case .affine(let scale, let shift):
                    guard singleReader, var p = nodes[producer], case .conv(let w, let b, let kk, let s, let pad, let groups) = p.op,
                          !p.relu, p.residual == nil else { break }
                    let sc = g.tensors[scale]!.scalars, sh = g.tensors[shift]!.scalars
                    let wt = g.tensors[w]!
                    let perOut = wt.count / wt.shape[0]
                    var wv = wt.scalars
                    for o in 0..<wt.shape[0] { for i in 0..<perOut { wv[o * perOut + i] *= sc[o] } }
                    let bv = b.map { g.tensors[$0]!.scalars } ?? [Float](repeating: 0, count: sc.count)
                    let nb = (0..<sc.count).map { bv[$0] * sc[$0] + sh[$0] }
                    let nw = g.addTensor(Tensor(shape: wt.shape, scalars: wv), hint: w + ".folded")
                    let nbn = g.addTensor(Tensor(shape: [sc.count], scalars: nb), hint: (b ?? w) + ".folded_bias")
                    p.op = .conv(weight: nw, bias: nbn, kernel: kk, stride: s, pad: pad, groups: groups)
                    p.relu = n.relu
                    nodes[producer] = p
                    nodes[k] = nil
                    replaced[out] = input
                    changed = true
                case .add:
                    // the convolution read only here, whose residual is the other input (computed before it)
                    let a = resolve(n.inputs[0]), b = resolve(n.inputs[1])
                    for (conv, other) in [(a, b), (b, a)] where conv > 0 && other < conv {
                        guard resolve(g.output) != conv, readers(conv) == [k], var p = nodes[conv - 1],
                              case .conv = p.op, !p.relu, p.residual == nil else { continue }
                        p.residual = other
                        p.relu = n.relu
                        nodes[conv - 1] = p
                        nodes[k] = nil
                        replaced[out] = conv
                        changed = true
                        break
                    }
                case .relu:
                    guard singleReader, var p = nodes[producer], !p.relu else { break }
                    switch p.op {
                    case .conv, .affine, .add, .concat, .linear:
                        p.relu = true
                        nodes[producer] = p
                        nodes[k] = nil
                        replaced[out] = input
                        changed = true
                    default: break
                    }
                default: break
                }
            }
        }
        // Renumber: keep the surviving nodes in order.
        var result = InferenceGraph(input: g.shapes[0])
        var newValue = [0: 0]
        for (k, n) in nodes.enumerated() {
            guard var n else { continue }
            n.inputs = n.inputs.map { newValue[resolve($0)]! }
            n.residual = n.residual.map { newValue[resolve($0)]! }
            for name in n.op.tensorNames where result.tensors[name] == nil {
                result.tensors[name] = g.tensors[name]!
                result.tensorOrder.append(name)
            }
            result.nodes.append(n)
            result.shapes.append(g.shapes[InferenceGraph.value(ofNode: k)])
            newValue[InferenceGraph.value(ofNode: k)] = result.shapes.count - 1
        }
        result.output = newValue[resolve(g.output)]!
        return result
    }
}

extension InferenceGraph.Op {
    /// The weights an operation reads.
    public var tensorNames: [String] {
        switch self {
        case .affine(let s, let t): return [s, t]
        case .conv(let w, let b, _, _, _, _), .linear(let w, let b): return [w] + (b.map { [$0] } ?? [])
        default: return []
        }
    }
}
