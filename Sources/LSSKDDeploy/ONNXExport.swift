import Foundation
import LSSKDTensor
import LSSKDTrain
import SwiftProtobuf

/// An ``InferenceGraph`` as an ONNX model (opset 13), written through swift-protobuf with
/// the message code generated from ONNX's own schema (tools/proto/onnx.proto,
/// tools/proto/generate.sh). Input `images` `[N, C, H, W]` (pixels in [0, 1]; the
/// normalisation is the graph's first node), output `logits` `[N, classes]`.
public enum ONNXExport {
    public static let opset: Int64 = 13
    /// ONNX IR version 7 is the one of opset 13.
    public static let irVersion: Int64 = 7

    static func model(_ g: InferenceGraph, description d: ModelDescription, producerVersion: String) throws -> Onnx_ModelProto {
        var b = Builder(graph: g)
        try b.translate()
        var graph = Onnx_GraphProto()
        graph.name = d.model
        graph.node = b.nodes
        graph.initializer = b.initializers
        graph.input = [valueInfo("images", dims: [nil, g.shapes[0].c, g.shapes[0].h, g.shapes[0].w])]
        graph.output = [valueInfo("logits", dims: [nil, g.shapes[g.output].c])]
        var m = Onnx_ModelProto()
        m.irVersion = irVersion
        m.producerName = "lsskd"
        m.producerVersion = producerVersion
        var opsetID = Onnx_OperatorSetIdProto()
        opsetID.domain = ""
        opsetID.version = opset
        m.opsetImport = [opsetID]
        m.graph = graph
        var entries: [Onnx_StringStringEntryProto] = []
        for (k, v) in [("architecture", d.model), ("classes", "\(d.classes)"), ("class_names", d.classNames?.joined(separator: "\n"))] {
            guard let v else { continue }
            var e = Onnx_StringStringEntryProto()
            e.key = k
            e.value = v
            entries.append(e)
        }
        m.metadataProps = entries
        return m
    }

    public static func write(_ g: InferenceGraph, description d: ModelDescription, producerVersion: String, to path: String) throws {
        let data = try model(g, description: d, producerVersion: producerVersion).serializedData()
        try AtomicFile.write(data, to: path)
    }

    static func valueInfo(_ name: String, dims: [Int?]) -> Onnx_ValueInfoProto {
        var shape = Onnx_TensorShapeProto()
        shape.dim = dims.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            if let d { dim.dimValue = Int64(d) } else { dim.dimParam = "N" }
            return dim
        }
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        tensor.shape = shape
        var type = Onnx_TypeProto()
        type.tensorType = tensor
        var v = Onnx_ValueInfoProto()
        v.name = name
        v.type = type
        return v
    }

    /// Graph values become ONNX names `v<k>`; every node may add helper nodes.
    struct Builder {
        let graph: InferenceGraph
        var nodes: [Onnx_NodeProto] = []
        var initializers: [Onnx_TensorProto] = []
        var names = Set<String>()
        var counter = 0

        init(graph: InferenceGraph) { self.graph = graph }

        func value(_ v: Int) -> String { v == 0 ? "images" : "v\(v)" }

        mutating func fresh(_ hint: String) -> String {
            counter += 1
            return "\(hint)_\(counter)"
        }

        mutating func floatInitializer(_ name: String, _ t: Tensor, shape: [Int]? = nil) -> String {
            if names.contains(name) { return name }
            names.insert(name)
            var p = Onnx_TensorProto()
            p.name = name
            p.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
            p.dims = (shape ?? t.shape).map(Int64.init)
            var raw = Data(capacity: t.count * 4)
            for v in t.scalars { withUnsafeBytes(of: v.bitPattern.littleEndian) { raw.append(contentsOf: $0) } }
            p.rawData = raw
            initializers.append(p)
            return name
        }

        mutating func int64Initializer(_ hint: String, _ values: [Int]) -> String {
            let name = fresh(hint)
            var p = Onnx_TensorProto()
            p.name = name
            p.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
            p.dims = [Int64(values.count)]
            p.int64Data = values.map(Int64.init)
            initializers.append(p)
            return name
        }

        static func attribute(_ name: String, ints: [Int]) -> Onnx_AttributeProto {
            var a = Onnx_AttributeProto()
            a.name = name
            a.type = .ints
            a.ints = ints.map(Int64.init)
            return a
        }

        static func attribute(_ name: String, int: Int) -> Onnx_AttributeProto {
            var a = Onnx_AttributeProto()
            a.name = name
            a.type = .int
            a.i = Int64(int)
            return a
        }

        mutating func node(_ op: String, _ inputs: [String], _ output: String, _ attributes: [Onnx_AttributeProto] = []) {
            var n = Onnx_NodeProto()
            n.opType = op
            n.name = fresh(op)
            n.input = inputs
            n.output = [output]
            n.attribute = attributes
            nodes.append(n)
        }

        /// Channel shuffle as Reshape [N, g, C/g, H, W] -> Transpose -> Reshape [N, C, H, W].
        mutating func shuffle(_ x: String, _ s: InferenceGraph.Shape, groups: Int, into out: String) {
            let split = int64Initializer("shape", [0, groups, s.c / groups, s.h, s.w])
            let back = int64Initializer("shape", [0, s.c, s.h, s.w])
            let a = fresh("shuffle"), t = fresh("shuffle")
            node("Reshape", [x, split], a)
            node("Transpose", [a], t, [Self.attribute("perm", ints: [0, 2, 1, 3, 4])])
            node("Reshape", [t, back], out)
        }

        mutating func translate() throws {
            for (k, n) in graph.nodes.enumerated() {
                let outValue = InferenceGraph.value(ofNode: k)
                let out = outValue == graph.output ? "logits" : value(outValue)
                let fused = n.relu || n.residual != nil
                var y = fused ? fresh("pre") : out
                let x = value(n.inputs[0]), xs = graph.shapes[n.inputs[0]]
                switch n.op {
                case .affine(let scale, let shift):
                    let s = floatInitializer(scale, graph.tensors[scale]!, shape: [1, xs.c, 1, 1])
                    let t = floatInitializer(shift, graph.tensors[shift]!, shape: [1, xs.c, 1, 1])
                    let m = fresh("scaled")
                    node("Mul", [x, s], m)
                    node("Add", [m, t], y)
                case .conv(let w, let b, let kernel, let stride, let pad, let groups):
                    var inputs = [x, floatInitializer(w, graph.tensors[w]!)]
                    if let b { inputs.append(floatInitializer(b, graph.tensors[b]!)) }
                    let conv = n.residual != nil ? fresh("conv") : y
                    node("Conv", inputs, conv, [Self.attribute("kernel_shape", ints: [kernel, kernel]),
                                                Self.attribute("strides", ints: [stride, stride]),
                                                Self.attribute("pads", ints: [pad, pad, pad, pad]),
                                                Self.attribute("group", int: groups)])
                    if let r = n.residual {
                        if !n.relu { y = out }
                        node("Add", [conv, value(r)], y)
                    }
                case .maxPool(let kernel, let stride, let pad), .avgPool(let kernel, let stride, let pad):
                    var attrs = [Self.attribute("kernel_shape", ints: [kernel, kernel]),
                                 Self.attribute("strides", ints: [stride, stride]),
                                 Self.attribute("pads", ints: [pad, pad, pad, pad])]
                    if case .avgPool = n.op { attrs.append(Self.attribute("count_include_pad", int: 1)) }
                    node(n.op == .maxPool(kernel: kernel, stride: stride, pad: pad) ? "MaxPool" : "AveragePool", [x], y, attrs)
                case .globalAvgPool:
                    node("GlobalAveragePool", [x], y)
                case .linear(let w, let b):
                    let flat = fresh("flat")
                    node("Flatten", [x], flat, [Self.attribute("axis", int: 1)])
                    var inputs = [flat, floatInitializer(w, graph.tensors[w]!)]
                    if let b { inputs.append(floatInitializer(b, graph.tensors[b]!)) }
                    node("Gemm", inputs, y, [Self.attribute("transB", int: 1)])
                case .add:
                    node("Add", [x, value(n.inputs[1])], y)
                case .relu:
                    node("Relu", [x], out)
                    continue
                case .concat:
                    node("Concat", n.inputs.map(value), y, [Self.attribute("axis", int: 1)])
                case .slice(let start, let end):
                    let starts = int64Initializer("starts", [start]), ends = int64Initializer("ends", [end])
                    let axes = int64Initializer("axes", [1])
                    node("Slice", [x, starts, ends, axes], y)
                case .concatShuffle(let groups):
                    let cat = fresh("concat")
                    node("Concat", n.inputs.map(value), cat, [Self.attribute("axis", int: 1)])
                    shuffle(cat, graph.shapes[outValue], groups: groups, into: y)
                case .shuffle(let groups):
                    shuffle(x, xs, groups: groups, into: y)
                }
                if n.relu { node("Relu", [y], out) }
            }
            guard graph.shapes[graph.output].h == 1, graph.shapes[graph.output].w == 1,
                  case .linear = graph.nodes[graph.output - 1].op else {
                throw DeployError("ONNX export: the graph must end in its linear classifier")
            }
        }
    }
}
