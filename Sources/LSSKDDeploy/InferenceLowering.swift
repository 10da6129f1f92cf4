import LSSKDModels
import LSSKDNN
import LSSKDTensor

/// Translates a network into an ``InferenceGraph``, layer by layer, exactly as its
/// `forward` computes in eval mode (batch norm with running statistics). Every layer type of
/// the model zoo is known; any other layer is refused with its type name, so that a new
/// architecture cannot be exported wrongly without a test noticing.
public enum InferenceLowering {
    /// The graph of `model` on `[channels, size, size]` inputs in [0, 1]: the per-channel
    /// normalisation of training (`(x - mean) / std`) first, then the network.
    public static func lower(_ model: Module, channels: Int, imageSize: Int, normMean: [Float], normStd: [Float]) throws -> InferenceGraph {
        guard normMean.count == channels, normStd.count == channels, normStd.allSatisfy({ $0 > 0 }) else {
            throw DeployError("normalisation statistics do not match \(channels) channels")
        }
        var g = InferenceGraph(input: .init(c: channels, h: imageSize, w: imageSize))
        let scale = g.addTensor(Tensor(shape: [channels], scalars: normStd.map { 1 / $0 }), hint: "input.scale")
        let shift = g.addTensor(Tensor(shape: [channels], scalars: (0..<channels).map { -normMean[$0] / normStd[$0] }), hint: "input.shift")
        var x = try g.add(.affine(scale: scale, shift: shift), [0])
        x = try lower(model, x, &g, name: "")
        guard g.shapes[x].h == 1, g.shapes[x].w == 1 else { throw DeployError("the network does not end in logits (\(g.shapes[x]))") }
        g.output = x
        return g
    }

    static func join(_ a: String, _ b: String) -> String { a.isEmpty ? b : a + "." + b }

    /// Lowers `m` applied to value `x`; `name` is the module's path (tensor names follow it).
    static func lower(_ m: Module, _ x: Int, _ g: inout InferenceGraph, name: String) throws -> Int {
        switch m {
        case let c as Conv2d:
            guard c.stride.0 == c.stride.1, c.padding.0 == c.padding.1, c.weight.value.shape[2] == c.weight.value.shape[3] else {
                throw DeployError("\(name): only square kernels, strides and paddings are exported")
            }
            let w = g.addTensor(c.weight.value, hint: join(name, "weight"))
            let b = c.bias.map { g.addTensor($0.value, hint: join(name, "bias")) }
            return try g.add(.conv(weight: w, bias: b, kernel: c.weight.value.shape[2], stride: c.stride.0,
                                   pad: c.padding.0, groups: c.groups), [x])
        case let bn as BatchNorm2d:
            let mean = bn.runningMean.value.scalars, variance = bn.runningVar.value.scalars
            let gamma = bn.weight.value.scalars, beta = bn.bias.value.scalars
            // Double, so that folding adds no error beyond float32's rounding of the result.
            let scale = (0..<gamma.count).map { Double(gamma[$0]) / (Double(variance[$0]) + Double(bn.eps)).squareRoot() }
            let shift = (0..<gamma.count).map { Double(beta[$0]) - Double(mean[$0]) * scale[$0] }
            let s = g.addTensor(Tensor(shape: [gamma.count], scalars: scale.map(Float.init)), hint: join(name, "scale"))
            let t = g.addTensor(Tensor(shape: [gamma.count], scalars: shift.map(Float.init)), hint: join(name, "shift"))
            return try g.add(.affine(scale: s, shift: t), [x])
        case is ReLU:
            return try g.add(.relu, [x])
        case let s as Sequential:
            var h = x
            for (child, layer) in s.layers { h = try lower(layer, h, &g, name: join(name, child)) }
            return h
        case is Identity, is Flatten:
            return x
        case let l as Linear:
            let w = g.addTensor(l.weight.value, hint: join(name, "weight"))
            let b = l.bias.map { g.addTensor($0.value, hint: join(name, "bias")) }
            return try g.add(.linear(weight: w, bias: b), [x])
        case let p as MaxPool2d:
            return try g.add(.maxPool(kernel: p.kernelSize, stride: p.stride, pad: p.padding), [x])
        case let p as AvgPool2d:
            return try g.add(.avgPool(kernel: p.kernelSize, stride: p.stride, pad: p.padding), [x])
        case is GlobalAvgPool:
            return try g.add(.globalAvgPool, [x])
        case let c as ConvBN:
            var h = try lower(c.conv, x, &g, name: join(name, "conv"))
            h = try lower(c.bn, h, &g, name: join(name, "bn"))
            return c.applyReLU ? try g.add(.relu, [h]) : h
        case let b as BNReLU:
            return try g.add(.relu, [try lower(b.bn, x, &g, name: join(name, "bn"))])
        case let b as BasicBlock:
            var h = try lower(b.conv1, x, &g, name: join(name, "conv1"))
            h = try g.add(.relu, [try lower(b.bn1, h, &g, name: join(name, "bn1"))])
            h = try lower(b.bn2, try lower(b.conv2, h, &g, name: join(name, "conv2")), &g, name: join(name, "bn2"))
            let s = try b.downsample.map { try lower($0, x, &g, name: join(name, "downsample")) } ?? x
            return try g.add(.add, [h, s], relu: true)
        case let b as PreActBlock:
            let a = try g.add(.relu, [try lower(b.bn1, x, &g, name: join(name, "bn1"))])
            let s = try b.shortcut.map { try lower($0, a, &g, name: join(name, b.shortcutName)) } ?? x
            var h = try lower(b.conv1, a, &g, name: join(name, "conv1"))
            h = try g.add(.relu, [try lower(b.bn2, h, &g, name: join(name, "bn2"))])
            h = try lower(b.conv2, h, &g, name: join(name, "conv2"))
            return try g.add(.add, [h, s])
        case let u as ShuffleV1Unit:
            var h = try g.add(.relu, [try lower(u.bn1, try lower(u.conv1, x, &g, name: join(name, "conv1")), &g, name: join(name, "bn1"))])
            if u.shuffleGroups > 1 { h = try g.add(.shuffle(groups: u.shuffleGroups), [h]) }
            h = try g.add(.relu, [try lower(u.bn2, try lower(u.conv2, h, &g, name: join(name, "conv2")), &g, name: join(name, "bn2"))])
            h = try lower(u.bn3, try lower(u.conv3, h, &g, name: join(name, "conv3")), &g, name: join(name, "bn3"))
            if u.stride == 2 {
                let r = try g.add(.avgPool(kernel: 3, stride: 2, pad: 1), [x])
                return try g.add(.concat, [h, r], relu: true)
            }
            return try g.add(.add, [h, x], relu: true)
        case let u as ShuffleV2Unit:
            let c = g.shapes[x].c
            let x1 = try g.add(.slice(start: 0, end: u.splitAt), [x])
            let x2 = try g.add(.slice(start: u.splitAt, end: c), [x])
            var h = try g.add(.relu, [try lower(u.bn1, try lower(u.conv1, x2, &g, name: join(name, "conv1")), &g, name: join(name, "bn1"))])
            h = try lower(u.bn2, try lower(u.conv2, h, &g, name: join(name, "conv2")), &g, name: join(name, "bn2"))
            h = try g.add(.relu, [try lower(u.bn3, try lower(u.conv3, h, &g, name: join(name, "conv3")), &g, name: join(name, "bn3"))])
            return try g.add(.concatShuffle(groups: 2), [x1, h])
        case let u as ShuffleV2DownUnit:
            var left = try lower(u.bn1, try lower(u.conv1, x, &g, name: join(name, "conv1")), &g, name: join(name, "bn1"))
            left = try g.add(.relu, [try lower(u.bn2, try lower(u.conv2, left, &g, name: join(name, "conv2")), &g, name: join(name, "bn2"))])
            var right = try g.add(.relu, [try lower(u.bn3, try lower(u.conv3, x, &g, name: join(name, "conv3")), &g, name: join(name, "bn3"))])
            right = try lower(u.bn4, try lower(u.conv4, right, &g, name: join(name, "conv4")), &g, name: join(name, "bn4"))
            right = try g.add(.relu, [try lower(u.bn5, try lower(u.conv5, right, &g, name: join(name, "conv5")), &g, name: join(name, "bn5"))])
            return try g.add(.concatShuffle(groups: 2), [left, right])
        case let r as InvertedResidual:
            let h = try lower(r.conv, x, &g, name: join(name, "conv"))
            return r.useResidual ? try g.add(.add, [x, h]) : h
        case let net as StagedNetwork:
            var h = try lower(net.stem, x, &g, name: join(name, "stem"))
            for (i, stage) in net.stages.enumerated() { h = try lower(stage, h, &g, name: join(name, "stages.\(i)")) }
            h = try lower(net.head, h, &g, name: join(name, "head"))
            h = try g.add(.globalAvgPool, [h])
            return try lower(net.classifier, h, &g, name: join(name, "classifier"))
        case let net as SimpleCNN:
            return try lower(net.classifier, try lower(net.features, x, &g, name: join(name, "features")), &g, name: join(name, "classifier"))
        default:
            throw DeployError("\(name.isEmpty ? "the model" : name): layer type \(type(of: m)) cannot be exported for inference")
        }
    }
}
