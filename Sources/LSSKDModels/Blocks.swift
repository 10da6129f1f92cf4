import LSSKDNN
import LSSKDTensor

// Building blocks of the CIFAR architectures. Child names follow the PyTorch reference
// code (RepDistiller / HSAKD / PS-KD), so a parameter reads `stages.1.0.conv1.weight`.

/// A `k x k` convolution with "same" padding (`k / 2`).
func makeConv(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, groups: Int = 1,
              bias: Bool = false, initialization: WeightInit, rng: inout RNG) -> Conv2d {
    Conv2d(inChannels: inChannels, outChannels: outChannels, kernelSize: kernel, stride: stride,
           padding: kernel / 2, groups: groups, bias: bias, initialization: initialization, rng: &rng)
}

/// Convolution, batch norm, optional ReLU (RepDistiller's `conv_bn` / `conv_1x1_bn`).
public final class ConvBN: Module {
    public let conv: Conv2d
    public let bn: BatchNorm2d
    public let applyReLU: Bool

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, groups: Int = 1,
                bias: Bool = false, relu: Bool = true, initialization: WeightInit, rng: inout RNG) {
        conv = makeConv(inChannels, outChannels, kernel: kernel, stride: stride, groups: groups, bias: bias,
                        initialization: initialization, rng: &rng)
        bn = BatchNorm2d(outChannels)
        applyReLU = relu
        super.init()
    }

    public override var children: [(String, Module)] { [("conv", conv), ("bn", bn)] }

    public override func forward(_ x: Variable) throws -> Variable {
        applyReLU ? try bn.forwardReLU(try conv(x)) : try bn(try conv(x))
    }
}

/// Batch norm then ReLU (a pre-activation network's final "head").
public final class BNReLU: Module {
    public let bn: BatchNorm2d
    public init(_ channels: Int) { bn = BatchNorm2d(channels); super.init() }
    public override var children: [(String, Module)] { [("bn", bn)] }
    public override func forward(_ x: Variable) throws -> Variable { try bn.forwardReLU(x) }
}

// MARK: - ResNet

/// CIFAR ResNet basic block (post-activation): `relu(bn2(conv2(relu(bn1(conv1(x))))) + s(x))`,
/// where `s` is a 1x1 conv + BN projection when the stride or width changes, else identity.
public final class BasicBlock: Module {
    public let conv1: Conv2d, bn1: BatchNorm2d, conv2: Conv2d, bn2: BatchNorm2d
    public let downsample: ConvBN?

    public init(_ inPlanes: Int, _ planes: Int, stride: Int, initialization: WeightInit, rng: inout RNG) {
        conv1 = makeConv(inPlanes, planes, kernel: 3, stride: stride, initialization: initialization, rng: &rng)
        bn1 = BatchNorm2d(planes)
        conv2 = makeConv(planes, planes, kernel: 3, initialization: initialization, rng: &rng)
        bn2 = BatchNorm2d(planes)
        downsample = (stride != 1 || inPlanes != planes)
            ? ConvBN(inPlanes, planes, kernel: 1, stride: stride, relu: false, initialization: initialization, rng: &rng)
            : nil
        super.init()
    }

    public override var children: [(String, Module)] {
        [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2)] + (downsample.map { [("downsample", $0)] } ?? [])
    }

    public override func forward(_ x: Variable) throws -> Variable {
        let out = try bn2(try conv2(try bn1.forwardReLU(try conv1(x))))
        return try addReLU(out, try downsample?(x) ?? x)
    }
}

/// Pre-activation basic block, used by PreAct ResNet (PS-KD) and Wide ResNets:
/// `a = relu(bn1(x))`, `conv2(relu(bn2(conv1(a)))) + s`, with `s` a bias-free 1x1 conv of `a`
/// when the stride or width changes, else `x`. The shortcut's checkpoint name differs between
/// the two reference code bases ("shortcut" in PreAct ResNet, "convShortcut" in WRN).
public final class PreActBlock: Module {
    public let bn1: BatchNorm2d, conv1: Conv2d, bn2: BatchNorm2d, conv2: Conv2d
    public let shortcut: Conv2d?
    public let shortcutName: String

    public init(_ inPlanes: Int, _ planes: Int, stride: Int, shortcutName: String = "shortcut",
                initialization: WeightInit, rng: inout RNG) {
        bn1 = BatchNorm2d(inPlanes)
        conv1 = makeConv(inPlanes, planes, kernel: 3, stride: stride, initialization: initialization, rng: &rng)
        bn2 = BatchNorm2d(planes)
        conv2 = makeConv(planes, planes, kernel: 3, initialization: initialization, rng: &rng)
        shortcut = (stride != 1 || inPlanes != planes)
            ? makeConv(inPlanes, planes, kernel: 1, stride: stride, initialization: initialization, rng: &rng)
            : nil
        self.shortcutName = shortcutName
        super.init()
    }

    public override var children: [(String, Module)] {
        [("bn1", bn1), ("conv1", conv1), ("bn2", bn2), ("conv2", conv2)] + (shortcut.map { [(shortcutName, $0)] } ?? [])
    }

    public override func forward(_ x: Variable) throws -> Variable {
        let a = try bn1.forwardReLU(x)
        let s = try shortcut?(a) ?? x
        return try conv2(try bn2.forwardReLU(try conv1(a))) + s
    }
}

// MARK: - ShuffleNet

/// ShuffleNet (v1) unit. `out = bn3(gconv3(relu(bn2(dwconv2(shuffle(relu(bn1(gconv1(x)))))))))`;
/// stride 1: `relu(out + x)` (needs `inPlanes == outPlanes`); stride 2:
/// `relu(cat(out, avgpool3x3s2(x)))`, so `out` has `outPlanes - inPlanes` channels.
/// Bottleneck width `(out) / 4`. The first 1x1 conv is grouped except where
/// `firstConvGroups` says otherwise (the reference uses 1 when the input is the 24-channel stem).
public final class ShuffleV1Unit: Module {
    public let conv1: Conv2d, bn1: BatchNorm2d, conv2: Conv2d, bn2: BatchNorm2d, conv3: Conv2d, bn3: BatchNorm2d
    public let stride: Int
    public let shuffleGroups: Int

    public init(_ inPlanes: Int, _ outPlanes: Int, stride: Int, groups: Int, firstConvGroups: Int,
                initialization: WeightInit, rng: inout RNG) {
        precondition(stride == 2 || inPlanes == outPlanes, "ShuffleV1Unit: stride 1 needs equal widths (\(inPlanes) -> \(outPlanes))")
        let branchOut = stride == 2 ? outPlanes - inPlanes : outPlanes
        let mid = branchOut / 4
        conv1 = makeConv(inPlanes, mid, kernel: 1, groups: firstConvGroups, initialization: initialization, rng: &rng)
        bn1 = BatchNorm2d(mid)
        conv2 = makeConv(mid, mid, kernel: 3, stride: stride, groups: mid, initialization: initialization, rng: &rng)
        bn2 = BatchNorm2d(mid)
        conv3 = makeConv(mid, branchOut, kernel: 1, groups: groups, initialization: initialization, rng: &rng)
        bn3 = BatchNorm2d(branchOut)
        self.stride = stride
        self.shuffleGroups = firstConvGroups
        super.init()
    }

    public override var children: [(String, Module)] {
        [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2), ("conv3", conv3), ("bn3", bn3)]
    }

    public override func forward(_ x: Variable) throws -> Variable {
        var out = try bn1.forwardReLU(try conv1(x))
        if shuffleGroups > 1 { out = try channelShuffle(out, groups: shuffleGroups) }
        out = try bn2.forwardReLU(try conv2(out))
        out = try bn3(try conv3(out))
        if stride == 2 {
            let res = try avgPool2d(x, kernel: (3, 3), stride: (2, 2), padding: (1, 1))
            return try relu(try concatChannels([out, res]))
        }
        return try addReLU(out, x)
    }
}

/// ShuffleNetV2 basic unit: split the channels in halves `(x1, x2)`,
/// `x2' = relu(bn3(conv3(bn2(dwconv2(relu(bn1(conv1(x2))))))))`, `shuffle(cat(x1, x2'), 2)`.
public final class ShuffleV2Unit: Module {
    public let conv1: Conv2d, bn1: BatchNorm2d, conv2: Conv2d, bn2: BatchNorm2d, conv3: Conv2d, bn3: BatchNorm2d
    public let splitAt: Int

    public init(_ channels: Int, initialization: WeightInit, rng: inout RNG) {
        let c = channels / 2
        precondition(channels == 2 * c, "ShuffleV2Unit: an even channel count is needed, got \(channels)")
        conv1 = makeConv(c, c, kernel: 1, initialization: initialization, rng: &rng)
        bn1 = BatchNorm2d(c)
        conv2 = makeConv(c, c, kernel: 3, groups: c, initialization: initialization, rng: &rng)
        bn2 = BatchNorm2d(c)
        conv3 = makeConv(c, c, kernel: 1, initialization: initialization, rng: &rng)
        bn3 = BatchNorm2d(c)
        splitAt = c
        super.init()
    }

    public override var children: [(String, Module)] {
        [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2), ("conv3", conv3), ("bn3", bn3)]
    }

    public override func forward(_ x: Variable) throws -> Variable {
        let x1 = try sliceChannels(x, 0..<splitAt)
        let x2 = try sliceChannels(x, splitAt..<x.shape[1])
        var out = try bn1.forwardReLU(try conv1(x2))
        out = try bn2(try conv2(out))
        out = try bn3.forwardReLU(try conv3(out))
        return try concatShuffle(x1, out, groups: 2)  // fused: no concatenated copy
    }
}

/// ShuffleNetV2 down-sampling unit (both branches see the whole input):
/// left `relu(bn2(conv2(bn1(dwconv1(x)))))`, right
/// `relu(bn5(conv5(bn4(dwconv4(relu(bn3(conv3(x))))))))`, `shuffle(cat(left, right), 2)`;
/// each branch `outChannels / 2` wide. HSAKD's last-stage branch copy uses it at stride 1.
public final class ShuffleV2DownUnit: Module {
    public let conv1: Conv2d, bn1: BatchNorm2d, conv2: Conv2d, bn2: BatchNorm2d
    public let conv3: Conv2d, bn3: BatchNorm2d, conv4: Conv2d, bn4: BatchNorm2d, conv5: Conv2d, bn5: BatchNorm2d

    public init(_ inChannels: Int, _ outChannels: Int, stride: Int, initialization: WeightInit, rng: inout RNG) {
        let mid = outChannels / 2
        conv1 = makeConv(inChannels, inChannels, kernel: 3, stride: stride, groups: inChannels,
                         initialization: initialization, rng: &rng)
        bn1 = BatchNorm2d(inChannels)
        conv2 = makeConv(inChannels, mid, kernel: 1, initialization: initialization, rng: &rng)
        bn2 = BatchNorm2d(mid)
        conv3 = makeConv(inChannels, mid, kernel: 1, initialization: initialization, rng: &rng)
        bn3 = BatchNorm2d(mid)
        conv4 = makeConv(mid, mid, kernel: 3, stride: stride, groups: mid, initialization: initialization, rng: &rng)
        bn4 = BatchNorm2d(mid)
        conv5 = makeConv(mid, mid, kernel: 1, initialization: initialization, rng: &rng)
        bn5 = BatchNorm2d(mid)
        super.init()
    }

    public override var children: [(String, Module)] {
        [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2), ("conv3", conv3), ("bn3", bn3),
         ("conv4", conv4), ("bn4", bn4), ("conv5", conv5), ("bn5", bn5)]
    }

    public override func forward(_ x: Variable) throws -> Variable {
        let left = try bn2.forwardReLU(try conv2(try bn1(try conv1(x))))
        var right = try bn3.forwardReLU(try conv3(x))
        right = try bn5.forwardReLU(try conv5(try bn4(try conv4(right))))
        return try concatShuffle(left, right, groups: 2)  // fused: no concatenated copy
    }
}

// MARK: - MobileNetV2

/// MobileNetV2 inverted residual: 1x1 expansion (`inp * t`, present even for t = 1, as
/// in the reference) + BN + ReLU, 3x3 depthwise (stride) + BN + ReLU, 1x1 projection + BN;
/// plus the input when the stride is 1 and the widths match.
public final class InvertedResidual: Module {
    public let conv: Sequential
    public let useResidual: Bool

    public init(_ inp: Int, _ oup: Int, stride: Int, expansion: Int, initialization: WeightInit, rng: inout RNG) {
        let hidden = inp * expansion
        conv = Sequential([
            makeConv(inp, hidden, kernel: 1, initialization: initialization, rng: &rng), BatchNorm2d(hidden), ReLU(),
            makeConv(hidden, hidden, kernel: 3, stride: stride, groups: hidden, initialization: initialization, rng: &rng),
            BatchNorm2d(hidden), ReLU(),
            makeConv(hidden, oup, kernel: 1, initialization: initialization, rng: &rng), BatchNorm2d(oup),
        ])
        useResidual = stride == 1 && inp == oup
        super.init()
    }

    public override var children: [(String, Module)] { [("conv", conv)] }

    public override func forward(_ x: Variable) throws -> Variable {
        useResidual ? try x + (try conv(x)) : try conv(x)
    }
}
