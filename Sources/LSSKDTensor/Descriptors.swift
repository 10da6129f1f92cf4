internal import LSSKDKernels

/// Overflow-checked product of sizes; throws instead of trapping.
func checkedProduct(_ op: String, _ factors: Int...) throws -> Int {
    var n = 1
    for f in factors {
        guard f >= 0 else { throw KernelError.invalid(op, "negative size \(f)") }
        let (r, o) = n.multipliedReportingOverflow(by: f)
        guard !o else { throw KernelError.invalid(op, "size product overflows") }
        n = r
    }
    return n
}

/// Geometry of a 2-D convolution (mirrors `lsk_conv2d_desc`).
///
/// Shapes: input `[batch, inChannels, inHeight, inWidth]`,
/// weight `[outChannels, inChannels / groups, kernelHeight, kernelWidth]`,
/// bias `[outChannels]`, output `[batch, outChannels, outHeight, outWidth]` with
/// `outHeight = (inHeight + 2 padHeight - kernelHeight) / strideHeight + 1`.
public struct Conv2dDescriptor: Hashable, Sendable {
    public var batch: Int
    public var inChannels: Int, inHeight: Int, inWidth: Int
    public var outChannels: Int
    public var kernelHeight: Int, kernelWidth: Int
    public var strideHeight: Int, strideWidth: Int
    public var padHeight: Int, padWidth: Int
    public var groups: Int

    public init(batch: Int, inChannels: Int, inHeight: Int, inWidth: Int, outChannels: Int,
                kernelHeight: Int, kernelWidth: Int, strideHeight: Int = 1, strideWidth: Int = 1,
                padHeight: Int = 0, padWidth: Int = 0, groups: Int = 1) {
        self.batch = batch
        self.inChannels = inChannels; self.inHeight = inHeight; self.inWidth = inWidth
        self.outChannels = outChannels
        self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight; self.strideWidth = strideWidth
        self.padHeight = padHeight; self.padWidth = padWidth
        self.groups = groups
    }

    var c: lsk_conv2d_desc {
        get throws {
            let all = [batch, inChannels, inHeight, inWidth, outChannels, kernelHeight, kernelWidth,
                       strideHeight, strideWidth, padHeight, padWidth, groups]
            guard all.allSatisfy({ $0 >= 0 }) else {
                throw KernelError.invalid("lsk_conv2d", "negative field in \(self)")
            }
            return lsk_conv2d_desc(batch: batch, in_channels: inChannels, in_height: inHeight,
                                   in_width: inWidth, out_channels: outChannels,
                                   kernel_h: kernelHeight, kernel_w: kernelWidth,
                                   stride_h: strideHeight, stride_w: strideWidth,
                                   pad_h: padHeight, pad_w: padWidth, groups: groups)
        }
    }

    /// Validates the descriptor (lsk_conv2d_output_size) and returns the output size.
    public func outputSize() throws -> (height: Int, width: Int) {
        var d = try c
        var oh = 0, ow = 0
        try KernelError.check(lsk_conv2d_output_size(&d, &oh, &ow), "lsk_conv2d_output_size", "\(self)")
        return (oh, ow)
    }

    /// `[batch, inChannels, inHeight, inWidth]`
    public var inputShape: [Int] { [batch, inChannels, inHeight, inWidth] }
    /// `[outChannels, inChannels / groups, kernelHeight, kernelWidth]`
    public var weightShape: [Int] { [outChannels, groups > 0 ? inChannels / groups : 0, kernelHeight, kernelWidth] }
    /// `[batch, outChannels, outHeight, outWidth]`; throws if the descriptor is invalid.
    public func outputShape() throws -> [Int] {
        let (oh, ow) = try outputSize()
        return [batch, outChannels, oh, ow]
    }

    /// Validated element counts of input, weight and output.
    func counts(_ op: String) throws -> (x: Int, w: Int, y: Int, d: lsk_conv2d_desc) {
        let (oh, ow) = try outputSize()
        let d = try c
        return (try checkedProduct(op, batch, inChannels, inHeight, inWidth),
                try checkedProduct(op, outChannels, inChannels / groups, kernelHeight, kernelWidth),
                try checkedProduct(op, batch, outChannels, oh, ow), d)
    }
}

/// Geometry of windowed pooling (mirrors `lsk_pool2d_desc`).
///
/// Input `[batch, channels, inHeight, inWidth]`, output `[batch, channels, outHeight, outWidth]`,
/// `out = (in + 2 pad - kernel) / stride + 1`; requires `pad <= kernel / 2`.
public struct Pool2dDescriptor: Hashable, Sendable {
    public var batch: Int, channels: Int, inHeight: Int, inWidth: Int
    public var kernelHeight: Int, kernelWidth: Int
    public var strideHeight: Int, strideWidth: Int
    public var padHeight: Int, padWidth: Int

    public init(batch: Int, channels: Int, inHeight: Int, inWidth: Int,
                kernelHeight: Int, kernelWidth: Int, strideHeight: Int, strideWidth: Int,
                padHeight: Int = 0, padWidth: Int = 0) {
        self.batch = batch; self.channels = channels; self.inHeight = inHeight; self.inWidth = inWidth
        self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight; self.strideWidth = strideWidth
        self.padHeight = padHeight; self.padWidth = padWidth
    }

    var c: lsk_pool2d_desc {
        get throws {
            let all = [batch, channels, inHeight, inWidth, kernelHeight, kernelWidth,
                       strideHeight, strideWidth, padHeight, padWidth]
            guard all.allSatisfy({ $0 >= 0 }) else {
                throw KernelError.invalid("lsk_pool2d", "negative field in \(self)")
            }
            return lsk_pool2d_desc(batch: batch, channels: channels, in_height: inHeight, in_width: inWidth,
                                   kernel_h: kernelHeight, kernel_w: kernelWidth,
                                   stride_h: strideHeight, stride_w: strideWidth,
                                   pad_h: padHeight, pad_w: padWidth)
        }
    }

    /// Validates the descriptor (lsk_pool2d_output_size) and returns the output size.
    public func outputSize() throws -> (height: Int, width: Int) {
        var d = try c
        var oh = 0, ow = 0
        try KernelError.check(lsk_pool2d_output_size(&d, &oh, &ow), "lsk_pool2d_output_size", "\(self)")
        return (oh, ow)
    }

    /// `[batch, channels, outHeight, outWidth]`
    public func outputShape() throws -> [Int] {
        let (oh, ow) = try outputSize()
        return [batch, channels, oh, ow]
    }

    func counts(_ op: String) throws -> (x: Int, y: Int, d: lsk_pool2d_desc) {
        let (oh, ow) = try outputSize()
        return (try checkedProduct(op, batch, channels, inHeight, inWidth),
                try checkedProduct(op, batch, channels, oh, ow), try c)
    }
}
