import LSSKDTrain
import LSSKDTensor

/// The inference graph as the C runtime reads it (kernels/runtime/graph.c has the grammar;
/// docs/model-format.md the whole file): metadata entry `runtime_graph` of an exported model,
/// weights as its `graph.*` tensors.
public enum RuntimeGraphFormat {
    /// Graph versions: 1 is the first. A change the C runtime of an earlier version would
    /// misread increments it (that runtime then refuses the file with a clear message).
    public static let version = 1
    public static let metadataKey = "runtime_graph"

    /// The graph text.
    public static func text(of g: InferenceGraph) -> String {
        var lines = ["lsk-graph \(version)", "input 0 \(g.shapes[0].c) \(g.shapes[0].h) \(g.shapes[0].w)"]
        for (k, n) in g.nodes.enumerated() {
            let out = InferenceGraph.value(ofNode: k)
            let ins = n.inputs.map(String.init).joined(separator: " ")
            let relu = "relu=\(n.relu ? 1 : 0)"
            switch n.op {
            case .affine(let s, let t):
                lines.append("affine \(out) \(ins) scale=\(s) shift=\(t) \(relu)")
            case .conv(let w, let b, let k, let s, let p, let groups):
                var l = "conv \(out) \(ins) weight=\(w)"
                if let b { l += " bias=\(b)" }
                l += " kernel=\(k) stride=\(s) pad=\(p) groups=\(groups)"
                if let r = n.residual { l += " residual=\(r)" }
                lines.append(l + " " + relu)
            case .maxPool(let k, let s, let p): lines.append("maxpool \(out) \(ins) kernel=\(k) stride=\(s) pad=\(p)")
            case .avgPool(let k, let s, let p): lines.append("avgpool \(out) \(ins) kernel=\(k) stride=\(s) pad=\(p)")
            case .globalAvgPool: lines.append("gap \(out) \(ins)")
            case .linear(let w, let b): lines.append("linear \(out) \(ins) weight=\(w)" + (b.map { " bias=\($0)" } ?? "") + " " + relu)
            case .add: lines.append("add \(out) \(ins) \(relu)")
            case .relu: lines.append("relu \(out) \(ins)")
            case .concat: lines.append("concat \(out) \(ins) \(relu)")
            case .slice(let a, let b): lines.append("slice \(out) \(ins) start=\(a) end=\(b)")
            case .concatShuffle(let groups): lines.append("concat_shuffle \(out) \(ins) groups=\(groups)")
            case .shuffle(let groups): lines.append("shuffle \(out) \(ins) groups=\(groups)")
            }
        }
        lines.append("output \(g.output)")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Adds `g` to an exported model: the graph text and its weights (`graph.*`).
    public static func attach(_ g: InferenceGraph, to archive: inout ModelArchive) {
        archive.extraMetadata[metadataKey] = text(of: g)
        for name in g.tensorOrder { archive.set(.graph, name, g.tensors[name]!) }
    }
}
