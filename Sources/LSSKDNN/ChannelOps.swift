import LSSKDTensor

// Channel ops on NCHW tensors: concatenation, slicing (split) and shuffling, the glue of
// ShuffleNet blocks. In NCHW one sample's channel range [c0, c1) is one contiguous block
// of (c1 - c0) * H * W floats, so concat and slice are per-sample block copies and the
// shuffle is a per-plane (H * W floats) copy; no Swift loop runs over elements. The shuffle
// and the fused concat + shuffle of a ShuffleNetV2 unit run in the C kernels of
// include/lsk_shuffle.h (SIMD plane copies, OpenMP over planes).

/// `count` floats from `src` to `dst` (no-op for 0; both ranges must be valid).
@inline(__always)
private func copyFloats(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ count: Int) {
    if count > 0 { dst.update(from: src, count: count) }
}

private func checkNCHW(_ op: String, _ x: Variable) throws {
    guard x.shape.count == 4 else { throw shapeError(op, "input must be [N, C, H, W], got \(x.shape)") }
}

// MARK: - Concatenation

/// Concatenates NCHW tensors along the channel axis (`torch.cat(xs, 1)`).
///
/// - Parameter xs: `[N, C_i, H, W]`, at least one, all with the same N, H, W.
/// - Returns: `[N, sum C_i, H, W]`; input i occupies channels `[sum_{k<i} C_k, sum_{k<=i} C_k)`.
public func concatChannels(_ xs: [Variable]) throws -> Variable {
    let op = "concatChannels"
    guard let first = xs.first else { throw shapeError(op, "no inputs") }
    for x in xs { try checkNCHW(op, x) }
    let (n, h, w) = (first.shape[0], first.shape[2], first.shape[3])
    guard xs.allSatisfy({ $0.shape[0] == n && $0.shape[2] == h && $0.shape[3] == w }) else {
        throw shapeError(op, "inputs differ in batch or spatial size: \(xs.map(\.shape))")
    }
    // Two parts (every ShuffleNet unit): the C kernel, shuffle with one group = concat.
    if xs.count == 2 { return try concatShuffle(xs[0], xs[1], groups: 1) }
    let hw = h * w
    let widths = xs.map { $0.shape[1] }
    let total = widths.reduce(0, +)
    var offsets: [Int] = []  // first output channel of each input
    var acc = 0
    for c in widths { offsets.append(acc); acc += c }

    var y = Tensor(uninitialized: [n, total, h, w])
    if y.count > 0 {
        y.withUnsafeMutableBufferPointer { yp in
            for (i, x) in xs.enumerated() where widths[i] > 0 {
                let block = widths[i] * hw
                x.value.withUnsafeBufferPointer { xp in
                    for s in 0..<n {
                        copyFloats(yp.baseAddress! + (s * total + offsets[i]) * hw, xp.baseAddress! + s * block, block)
                    }
                }
            }
        }
    }
    return Variable.record(y, inputs: xs) { [xs = xs.map(\.node)] dy in
        // dx_i is channels [offset_i, offset_i + C_i) of dy: gathered into a fresh buffer
        // that becomes (or is added to) x_i's gradient.
        for (i, x) in xs.enumerated() where x.requiresGrad {
            var g = Tensor(uninitialized: x.shape)
            let block = widths[i] * hw
            if g.count > 0 {
                g.withUnsafeMutableBufferPointer { gp in
                    dy.withUnsafeBufferPointer { dp in
                        for s in 0..<n {
                            copyFloats(gp.baseAddress! + s * block, dp.baseAddress! + (s * total + offsets[i]) * hw, block)
                        }
                    }
                }
            }
            try x.addGradient(g)
        }
    }
}

// MARK: - Slicing

/// Channels `range` of an NCHW tensor (`x[:, range]`), as a new tensor.
///
/// - Parameters:
///   - x: `[N, C, H, W]`
///   - range: a sub-range of `0..<C` (may be empty)
/// - Returns: `[N, range.count, H, W]`
public func sliceChannels(_ x: Variable, _ range: Range<Int>) throws -> Variable {
    let op = "sliceChannels"
    try checkNCHW(op, x)
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    guard range.lowerBound >= 0, range.upperBound <= c else {
        throw shapeError(op, "channel range \(range) outside 0..<\(c) of \(x.shape)")
    }
    let hw = h * w
    let (lo, k) = (range.lowerBound, range.count)
    let block = k * hw
    var y = Tensor(uninitialized: [n, k, h, w])
    if y.count > 0 {
        y.withUnsafeMutableBufferPointer { yp in
            x.value.withUnsafeBufferPointer { xp in
                for s in 0..<n { copyFloats(yp.baseAddress! + s * block, xp.baseAddress! + (s * c + lo) * hw, block) }
            }
        }
    }
    return Variable.record(y, inputs: [x]) { [x = x.node] dy in
        try x.withGradient { dx, accumulate in
            guard dx.count > 0 else { return }
            if !accumulate {
                // First gradient of x: dy inside the range, zeros outside.
                dx.withUnsafeMutableBufferPointer { gp in
                    dy.withUnsafeBufferPointer { dp in
                        for s in 0..<n {
                            let row = gp.baseAddress! + s * c * hw
                            row.update(repeating: 0, count: lo * hw)
                            copyFloats(row + lo * hw, dp.baseAddress! + s * block, block)
                            (row + (lo + k) * hw).update(repeating: 0, count: (c - lo - k) * hw)
                        }
                    }
                }
            } else if block > 0 {
                // dx[:, range] += dy: gather the range, add with lsk_axpy, scatter it back.
                var part = Tensor(uninitialized: dy.shape)
                part.withUnsafeMutableBufferPointer { pp in
                    dx.withUnsafeBufferPointer { gp in
                        for s in 0..<n { copyFloats(pp.baseAddress! + s * block, gp.baseAddress! + (s * c + lo) * hw, block) }
                    }
                }
                try Kernels.axpy(&part, dy, alpha: 1)
                dx.withUnsafeMutableBufferPointer { gp in
                    part.withUnsafeBufferPointer { pp in
                        for s in 0..<n { copyFloats(gp.baseAddress! + (s * c + lo) * hw, pp.baseAddress! + s * block, block) }
                    }
                }
            }
        }
    }
}

/// Splits an NCHW tensor along channels into consecutive parts of the given sizes
/// (`torch.split(x, sizes, 1)`); the sizes must add up to C.
public func splitChannels(_ x: Variable, sizes: [Int]) throws -> [Variable] {
    try checkNCHW("splitChannels", x)
    guard sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == x.shape[1] else {
        throw shapeError("splitChannels", "sizes \(sizes) do not add up to the \(x.shape[1]) channels of \(x.shape)")
    }
    var start = 0
    return try sizes.map { size in
        defer { start += size }
        return try sliceChannels(x, start..<(start + size))
    }
}

// MARK: - Shuffle

/// ShuffleNet's channel shuffle: `[N, C, H, W] -> view [N, g, C/g, H, W] -> transpose
/// the group axes -> [N, C, H, W]`, i.e. output channel `j * g + i` is input channel
/// `i * (C / g) + j` (i < g, j < C/g).
///
/// - Parameters:
///   - x: `[N, C, H, W]` with `C` divisible by `groups`
///   - groups: g >= 1 (1 returns the same channels)
/// - Returns: the shape of `x`.
public func channelShuffle(_ x: Variable, groups: Int) throws -> Variable {
    let op = "channelShuffle"
    try checkNCHW(op, x)
    let c = x.shape[1]
    guard groups >= 1, c % groups == 0 else {
        throw shapeError(op, "\(c) channels are not divisible into \(groups) groups")
    }
    let (n, hw) = (x.shape[0], x.shape[2] * x.shape[3])
    var y = Tensor(uninitialized: x.shape)
    try Kernels.channelShuffleForward(output: &y, input: x.value, batch: n, channels: c, hw: hw, groups: groups)
    return Variable.record(y, inputs: [x]) { [x = x.node] dy in
        try x.withGradient { dx, accumulate in
            try Kernels.channelShuffleBackward(inputGradient: &dx, outputGradient: dy, batch: n, channels: c, hw: hw,
                                               groups: groups, accumulate: accumulate)
        }
    }
}

/// `channelShuffle(concatChannels([a, b]), groups:)` in one pass with no intermediate tensor
/// (the end of a ShuffleNetV2 unit: `groups: 2`, equal halves), forward and backward.
///
/// - Parameters:
///   - a: `[N, Ca, H, W]`
///   - b: `[N, Cb, H, W]` (same N, H, W)
///   - groups: g >= 1 dividing `Ca + Cb`
/// - Returns: `[N, Ca + Cb, H, W]`.
public func concatShuffle(_ a: Variable, _ b: Variable, groups: Int) throws -> Variable {
    let op = "concatShuffle"
    try checkNCHW(op, a)
    try checkNCHW(op, b)
    let (n, h, w) = (a.shape[0], a.shape[2], a.shape[3])
    guard b.shape[0] == n, b.shape[2] == h, b.shape[3] == w else {
        throw shapeError(op, "inputs differ in batch or spatial size: \(a.shape), \(b.shape)")
    }
    let (ca, cb, hw) = (a.shape[1], b.shape[1], h * w)
    guard groups >= 1, (ca + cb) % groups == 0 else {
        throw shapeError(op, "\(ca + cb) channels are not divisible into \(groups) groups")
    }
    var y = Tensor(uninitialized: [n, ca + cb, h, w])
    try Kernels.concatShuffleForward(output: &y, a.value, b.value, batch: n, ca: ca, cb: cb, hw: hw, groups: groups)
    return Variable.record(y, inputs: [a, b]) { [a = a.node, b = b.node] dy in
        if a.requiresGrad, b.requiresGrad, a !== b {
            // Both gradients in one pass, straight into their buffers when both overwrite or both add.
            let accA = a.prepareGradient(), accB = b.prepareGradient()
            if accA == accB, var da = a.takeGradient(), var db = b.takeGradient() {
                defer { a.restoreGradient(da); b.restoreGradient(db) }
                try Kernels.concatShuffleBackward(aGradient: &da, bGradient: &db, outputGradient: dy, batch: n, ca: ca,
                                                  cb: cb, hw: hw, groups: groups, accumulate: accA)
                return
            }
        }
        var da = Tensor(uninitialized: a.shape), db = Tensor(uninitialized: b.shape)
        try Kernels.concatShuffleBackward(aGradient: &da, bGradient: &db, outputGradient: dy, batch: n, ca: ca, cb: cb,
                                          hw: hw, groups: groups, accumulate: false)
        if a.requiresGrad { try a.addGradient(da) }
        if b.requiresGrad { try b.addGradient(db) }
    }
}
