import LSSKDTensor

// Differentiable ops. Each one: validate shapes (throwing KernelError, never trapping),
// call the forward kernel into a pooled output, and record a backward closure that calls
// the backward kernels with `accumulate` set from the input's gradient state.
// Every derivative rule of the engine lives in this file.

@inline(__always)
func shapeError(_ op: String, _ detail: String) -> KernelError {
    KernelError(operation: op, status: .invalidArgument, detail: detail)
}

// MARK: - Convolution

/// 2-D convolution (cross-correlation), NCHW.
///
/// - Parameters:
///   - x: `[N, C_in, H, W]`
///   - weight: `[C_out, C_in / groups, kH, kW]`
///   - bias: `[C_out]` or nil
/// - Returns: `[N, C_out, H_out, W_out]`, `H_out = (H + 2 padding.0 - kH) / stride.0 + 1`.
public func conv2d(_ x: Variable, weight: Variable, bias: Variable? = nil,
                   stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0), groups: Int = 1) throws -> Variable {
    let op = "conv2d"
    guard x.shape.count == 4 else { throw shapeError(op, "input must be [N, C, H, W], got \(x.shape)") }
    guard weight.shape.count == 4 else { throw shapeError(op, "weight must be [C_out, C_in/groups, kH, kW], got \(weight.shape)") }
    guard groups >= 1, weight.shape[1] * groups == x.shape[1] else {
        throw shapeError(op, "weight \(weight.shape) with groups \(groups) does not match input channels \(x.shape[1])")
    }
    if let bias, bias.shape != [weight.shape[0]] {
        throw shapeError(op, "bias must be [\(weight.shape[0])], got \(bias.shape)")
    }
    let d = Conv2dDescriptor(batch: x.shape[0], inChannels: x.shape[1], inHeight: x.shape[2], inWidth: x.shape[3],
                             outChannels: weight.shape[0], kernelHeight: weight.shape[2], kernelWidth: weight.shape[3],
                             strideHeight: stride.0, strideWidth: stride.1, padHeight: padding.0, padWidth: padding.1,
                             groups: groups)
    var y = Tensor(uninitialized: try d.outputShape())
    let xv = x.value, wv = weight.value
    try Kernels.conv2dForward(d, output: &y, input: xv, weight: wv, bias: bias?.value)
    let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
    return Variable.record(y, inputs: inputs) { [x = x.node, weight = weight.node, bias = bias?.node] dy in
        if x.requiresGrad, weight.requiresGrad,
           try conv2dBothGradients(d, x: x, weight: weight, bias: bias, dy: dy, xv: xv, wv: wv) {
            return
        }
        if x.requiresGrad {
            try x.withGradient { dx, acc in
                try Kernels.conv2dBackwardData(d, inputGradient: &dx, outputGradient: dy, weight: wv, accumulate: acc)
            }
        }
        try weightAndBiasGradients(weight, bias) { dw, db, acc in
            try Kernels.conv2dBackwardWeight(d, weightGradient: &dw, biasGradient: &db, outputGradient: dy,
                                             input: xv, accumulate: acc)
        }
    }
}

/// dx, dW and (if wanted) dB of a convolution in one kernel call (lsk_conv2d_bwd: a depthwise
/// layer then reads dy once for both). Returns false, having computed nothing, when the bias
/// gradient's accumulate state differs from the weight's (the kernel has one flag for both);
/// the caller then runs the separate kernels.
func conv2dBothGradients(_ d: Conv2dDescriptor, x: GradientNode, weight: GradientNode, bias: GradientNode?, dy: Tensor,
                         xv: Tensor, wv: Tensor) throws -> Bool {
    let wantB = bias?.requiresGrad ?? false
    let accW = weight.prepareGradient()
    if wantB, let bias, bias.prepareGradient() != accW { return false }
    let accX = x.prepareGradient()
    var dx = x.takeGradient()!
    var dw = weight.takeGradient()!
    var db: Tensor? = wantB ? bias!.takeGradient() : nil
    defer {
        x.restoreGradient(dx)
        weight.restoreGradient(dw)
        if wantB { bias!.restoreGradient(db) }
    }
    try Kernels.conv2dBackward(d, inputGradient: &dx, weightGradient: &dw, biasGradient: &db, outputGradient: dy,
                               input: xv, weight: wv, accumulateInput: accX, accumulateWeight: accW)
    return true
}

/// Runs a kernel that writes dW (required) and dB (optional) with one accumulate flag:
/// one call when both gradients are in the same state, else one call per gradient
/// (a throw-away dW buffer when only the bias needs one).
func weightAndBiasGradients(_ weight: GradientNode, _ bias: GradientNode?,
                            _ kernel: (inout Tensor, inout Tensor?, Bool) throws -> Void) throws {
    let wantW = weight.requiresGrad
    let wantB = bias?.requiresGrad ?? false
    var none: Tensor? = nil
    if wantW, let bias, wantB, weight.prepareGradient() == bias.prepareGradient() {
        let acc = weight.hasGradient
        var dw = weight.takeGradient()!
        var db = bias.takeGradient()
        defer { weight.restoreGradient(dw); bias.restoreGradient(db) }
        try kernel(&dw, &db, acc)
        return
    }
    if wantW {
        try weight.withGradient { dw, acc in try kernel(&dw, &none, acc) }
    }
    if wantB, let bias {
        var scratch = Tensor(uninitialized: weight.shape)
        let acc = bias.prepareGradient()
        var db = bias.takeGradient()
        defer { bias.restoreGradient(db) }
        try kernel(&scratch, &db, acc)
    }
}

// MARK: - Linear

/// Fully connected layer `x w^T + b`.
///
/// - Parameters:
///   - x: `[N, in]`
///   - weight: `[out, in]`
///   - bias: `[out]` or nil
/// - Returns: `[N, out]`
public func linear(_ x: Variable, weight: Variable, bias: Variable? = nil) throws -> Variable {
    let op = "linear"
    guard x.shape.count == 2 else { throw shapeError(op, "input must be [N, in], got \(x.shape) (flatten first)") }
    guard weight.shape.count == 2, weight.shape[1] == x.shape[1] else {
        throw shapeError(op, "weight must be [out, \(x.shape[1])], got \(weight.shape)")
    }
    if let bias, bias.shape != [weight.shape[0]] { throw shapeError(op, "bias must be [\(weight.shape[0])], got \(bias.shape)") }
    let (n, fin, fout) = (x.shape[0], x.shape[1], weight.shape[0])
    var y = Tensor(uninitialized: [n, fout])
    let xv = x.value, wv = weight.value
    try Kernels.linearForward(output: &y, input: xv, weight: wv, bias: bias?.value,
                              batch: n, inFeatures: fin, outFeatures: fout)
    let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
    return Variable.record(y, inputs: inputs) { [x = x.node, weight = weight.node, bias = bias?.node] dy in
        if x.requiresGrad {
            try x.withGradient { dx, acc in
                try Kernels.linearBackwardData(inputGradient: &dx, outputGradient: dy, weight: wv,
                                               batch: n, inFeatures: fin, outFeatures: fout, accumulate: acc)
            }
        }
        try weightAndBiasGradients(weight, bias) { dw, db, acc in
            try Kernels.linearBackwardWeight(weightGradient: &dw, biasGradient: &db, outputGradient: dy, input: xv,
                                             batch: n, inFeatures: fin, outFeatures: fout, accumulate: acc)
        }
    }
}

// MARK: - Batch normalisation

/// Batch normalisation over `[N, C, ...]` (per channel `C`; statistics over N and the
/// trailing dimensions), PyTorch semantics.
///
/// Training: normalises with the batch statistics and updates `runningMean`/`runningVar`
/// (`[C]`, in place, with `momentum`). Evaluation: uses the running statistics; it is
/// differentiable too (as a per-channel affine map).
/// - Parameters: weight (gamma) and bias (beta) are `[C]`.
/// - Returns: the shape of `x`.
public func batchNorm(_ x: Variable, weight: Variable, bias: Variable, runningMean: Variable, runningVar: Variable,
                      training: Bool, momentum: Float = 0.1, eps: Float = 1e-5) throws -> Variable {
    let op = "batchNorm"
    guard x.shape.count >= 2 else { throw shapeError(op, "input must be [N, C, ...], got \(x.shape)") }
    let (n, c) = (x.shape[0], x.shape[1])
    let hw = x.shape.dropFirst(2).reduce(1, *)
    for (name, v) in [("weight", weight), ("bias", bias), ("runningMean", runningMean), ("runningVar", runningVar)]
    where v.shape != [c] {
        throw shapeError(op, "\(name) must be [\(c)], got \(v.shape)")
    }
    guard runningMean !== runningVar else { throw shapeError(op, "runningMean and runningVar must be distinct buffers") }
    var y = Tensor(uninitialized: x.shape)
    let xv = x.value, gamma = weight.value
    if training, let group = BatchNormSync.group, group.size > 1 {
        return try synchronisedBatchNorm(x, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                                         group: group, momentum: momentum, eps: eps)
    }
    if training {
        var mean = Tensor(uninitialized: [c]), invstd = Tensor(uninitialized: [c])
        try Kernels.batchNormForwardTraining(output: &y, saveMean: &mean, saveInvStd: &invstd,
                                             runningMean: &runningMean.value, runningVar: &runningVar.value,
                                             input: xv, gamma: gamma, beta: bias.value,
                                             batch: n, channels: c, hw: hw, momentum: momentum, eps: eps)
        return Variable.record(y, inputs: [x, weight, bias]) { [x = x.node, weight = weight.node, bias = bias.node] dy in
            // One kernel call per distinct accumulate flag (normally one call).
            let accX = x.requiresGrad ? x.prepareGradient() : nil
            let accG = weight.requiresGrad ? weight.prepareGradient() : nil
            let accB = bias.requiresGrad ? bias.prepareGradient() : nil
            for acc in [false, true] where accX == acc || accG == acc || accB == acc {
                var dx = accX == acc ? x.takeGradient() : nil
                var dg = accG == acc ? weight.takeGradient() : nil
                var db = accB == acc ? bias.takeGradient() : nil
                defer {
                    if accX == acc { x.restoreGradient(dx) }
                    if accG == acc { weight.restoreGradient(dg) }
                    if accB == acc { bias.restoreGradient(db) }
                }
                try Kernels.batchNormBackward(inputGradient: &dx, gammaGradient: &dg, betaGradient: &db,
                                              outputGradient: dy, input: xv, gamma: gamma,
                                              saveMean: mean, saveInvStd: invstd,
                                              batch: n, channels: c, hw: hw, accumulate: acc)
            }
        }
    }
    let rm = runningMean.value, rv = runningVar.value
    try Kernels.batchNormForwardInference(output: &y, input: xv, gamma: gamma, beta: bias.value,
                                          runningMean: rm, runningVar: rv, batch: n, channels: c, hw: hw, eps: eps)
    return Variable.record(y, inputs: [x, weight, bias]) { [x = x.node, weight = weight.node, bias = bias.node] dy in
        // y = s_c * x + t_c is a depthwise 1x1 convolution over [N, C, hw, 1]: reuse its
        // backward kernels. s_c = gamma_c / sqrt(var_c + eps); dgamma = sum dy * xhat.
        let d = Conv2dDescriptor(batch: n, inChannels: c, inHeight: hw, inWidth: 1, outChannels: c,
                                 kernelHeight: 1, kernelWidth: 1, groups: c)
        if x.requiresGrad {
            var s = Tensor(uninitialized: [c, 1, 1, 1])
            s.withUnsafeMutableBufferPointer { sp in
                gamma.withUnsafeBufferPointer { g in
                    rv.withUnsafeBufferPointer { v in
                        for i in 0..<c { sp[i] = Float(Double(g[i]) / (Double(v[i]) + Double(eps)).squareRoot()) }
                    }
                }
            }
            try x.withGradient { dx, acc in
                try Kernels.conv2dBackwardData(d, inputGradient: &dx, outputGradient: dy, weight: s, accumulate: acc)
            }
        }
        if weight.requiresGrad || bias.requiresGrad {
            var xhat = Tensor(uninitialized: xv.shape)
            try Kernels.batchNormForwardInference(output: &xhat, input: xv, gamma: Tensor(ones: [c]),
                                                  beta: Tensor(zeros: [c]), runningMean: rm, runningVar: rv,
                                                  batch: n, channels: c, hw: hw, eps: eps)
            // The conv weight gradient [C, 1, 1, 1] has gamma's element count: gamma's buffer serves.
            try weightAndBiasGradients(weight, bias) { dw, db, acc in
                try Kernels.conv2dBackwardWeight(d, weightGradient: &dw, biasGradient: &db, outputGradient: dy,
                                                 input: xhat, accumulate: acc)
            }
        }
    }
}

/// `relu(batchNorm(x, …))`: in training (without synchronised batch norm) one fused kernel
/// each way — the ReLU costs no pass of its own, forward or backward, and no tensor for the
/// batch norm's output — bit for bit the two ops in sequence. Evaluation and synchronised
/// batch norm run the two ops.
public func batchNormReLU(_ x: Variable, weight: Variable, bias: Variable, runningMean: Variable, runningVar: Variable,
                          training: Bool, momentum: Float = 0.1, eps: Float = 1e-5) throws -> Variable {
    let op = "batchNormReLU"
    let synchronised = (BatchNormSync.group?.size ?? 1) > 1
    guard training, !synchronised, x.shape.count >= 2 else {
        return try relu(try batchNorm(x, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                                      training: training, momentum: momentum, eps: eps))
    }
    let (n, c) = (x.shape[0], x.shape[1])
    let hw = x.shape.dropFirst(2).reduce(1, *)
    for (name, v) in [("weight", weight), ("bias", bias), ("runningMean", runningMean), ("runningVar", runningVar)]
    where v.shape != [c] {
        throw shapeError(op, "\(name) must be [\(c)], got \(v.shape)")
    }
    guard runningMean !== runningVar else { throw shapeError(op, "runningMean and runningVar must be distinct buffers") }
    var y = Tensor(uninitialized: x.shape)
    var mean = Tensor(uninitialized: [c]), invstd = Tensor(uninitialized: [c])
    let xv = x.value, gamma = weight.value
    try Kernels.batchNormReLUForwardTraining(output: &y, saveMean: &mean, saveInvStd: &invstd,
                                             runningMean: &runningMean.value, runningVar: &runningVar.value,
                                             input: xv, gamma: gamma, beta: bias.value,
                                             batch: n, channels: c, hw: hw, momentum: momentum, eps: eps)
    return Variable.record(y, inputs: [x, weight, bias]) { [y, x = x.node, weight = weight.node, bias = bias.node] dy in
        // One kernel call per distinct accumulate flag (normally one call), as in batchNorm.
        let accX = x.requiresGrad ? x.prepareGradient() : nil
        let accG = weight.requiresGrad ? weight.prepareGradient() : nil
        let accB = bias.requiresGrad ? bias.prepareGradient() : nil
        for acc in [false, true] where accX == acc || accG == acc || accB == acc {
            var dx = accX == acc ? x.takeGradient() : nil
            var dg = accG == acc ? weight.takeGradient() : nil
            var db = accB == acc ? bias.takeGradient() : nil
            defer {
                if accX == acc { x.restoreGradient(dx) }
                if accG == acc { weight.restoreGradient(dg) }
                if accB == acc { bias.restoreGradient(db) }
            }
            try Kernels.batchNormReLUBackward(inputGradient: &dx, gammaGradient: &dg, betaGradient: &db,
                                              outputGradient: dy, output: y, input: xv, gamma: gamma,
                                              saveMean: mean, saveInvStd: invstd,
                                              batch: n, channels: c, hw: hw, accumulate: acc)
        }
    }
}

// MARK: - Elementwise

/// `max(x, 0)`, any shape.
public func relu(_ x: Variable) throws -> Variable {
    var y = Tensor(uninitialized: x.shape)
    try Kernels.reluForward(output: &y, input: x.value)
    return Variable.record(y, inputs: [x]) { [y, x = x.node] dy in
        try x.withGradient { dx, acc in
            try Kernels.reluBackward(inputGradient: &dx, outputGradient: dy, output: y, accumulate: acc)
        }
    }
}

/// Elementwise sum of two tensors of the same shape (no broadcasting).
public func + (a: Variable, b: Variable) throws -> Variable {
    guard a.shape == b.shape else { throw shapeError("add", "shapes differ: \(a.shape) and \(b.shape)") }
    var y = Tensor(uninitialized: a.shape)
    try Kernels.addForward(output: &y, a.value, b.value)
    return Variable.record(y, inputs: [a, b]) { [a = a.node, b = b.node] dy in
        if a.requiresGrad { try a.addGradient(dy) }
        if b.requiresGrad { try b.addGradient(dy) }
    }
}

/// `relu(a + b)` (same shapes) in one pass: a residual block's sum and last ReLU, without the
/// sum as a tensor of its own; bit for bit the two ops in sequence.
public func addReLU(_ a: Variable, _ b: Variable) throws -> Variable {
    guard a.shape == b.shape else { throw shapeError("addReLU", "shapes differ: \(a.shape) and \(b.shape)") }
    var y = Tensor(uninitialized: a.shape)
    try Kernels.addReLUForward(output: &y, a.value, b.value)
    return Variable.record(y, inputs: [a, b]) { [y, a = a.node, b = b.node] dy in
        // The ReLU's gradient once, then handed to both inputs (shared, as an add does).
        var g = Tensor(uninitialized: y.shape)
        try Kernels.reluBackward(inputGradient: &g, outputGradient: dy, output: y, accumulate: false)
        if a.requiresGrad { try a.addGradient(g) }
        if b.requiresGrad { try b.addGradient(g) }
    }
}

/// `s * x`, any shape.
public func * (x: Variable, s: Float) throws -> Variable {
    var y = x.value
    try Kernels.scale(&y, by: s)  // copies the shared buffer first
    return Variable.record(y, inputs: [x]) { [x = x.node] dy in try x.addGradient(dy, alpha: s) }
}

/// `s * x`, any shape.
public func * (s: Float, x: Variable) throws -> Variable { try x * s }

/// Sum of terms of one shape (typically scalar losses): `sum([ce, kd, feat])`.
public func sum(_ terms: [Variable]) throws -> Variable {
    guard let first = terms.first else { throw shapeError("sum", "no terms") }
    guard terms.allSatisfy({ $0.shape == first.shape }) else {
        throw shapeError("sum", "terms have different shapes: \(terms.map(\.shape))")
    }
    var y = first.value
    for t in terms.dropFirst() { try Kernels.axpy(&y, t.value, alpha: 1) }  // first axpy copies
    return Variable.record(y, inputs: terms) { [terms = terms.map(\.node)] dy in
        for t in terms where t.requiresGrad { try t.addGradient(dy) }
    }
}

// MARK: - Pooling and reshaping

/// Mean over the spatial positions: `[N, C, H, W]` (or `[N, C, ...]`) -> `[N, C]`.
public func globalAvgPool(_ x: Variable) throws -> Variable {
    guard x.shape.count >= 3 else { throw shapeError("globalAvgPool", "input must be [N, C, H, W], got \(x.shape)") }
    let (n, c) = (x.shape[0], x.shape[1])
    let hw = x.shape.dropFirst(2).reduce(1, *)
    var y = Tensor(uninitialized: [n, c])
    try Kernels.globalAvgPoolForward(output: &y, input: x.value, batch: n, channels: c, hw: hw)
    return Variable.record(y, inputs: [x]) { [x = x.node] dy in
        try x.withGradient { dx, acc in
            try Kernels.globalAvgPoolBackward(inputGradient: &dx, outputGradient: dy, batch: n, channels: c,
                                              hw: hw, accumulate: acc)
        }
    }
}

func poolDescriptor(_ op: String, _ x: Variable, _ kernel: (Int, Int), _ stride: (Int, Int)?,
                    _ padding: (Int, Int)) throws -> Pool2dDescriptor {
    guard x.shape.count == 4 else { throw shapeError(op, "input must be [N, C, H, W], got \(x.shape)") }
    let s = stride ?? kernel
    return Pool2dDescriptor(batch: x.shape[0], channels: x.shape[1], inHeight: x.shape[2], inWidth: x.shape[3],
                            kernelHeight: kernel.0, kernelWidth: kernel.1, strideHeight: s.0, strideWidth: s.1,
                            padHeight: padding.0, padWidth: padding.1)
}

/// Max pooling `[N, C, H, W] -> [N, C, H_out, W_out]` (stride defaults to the kernel size;
/// padding <= kernel / 2, padded positions never win).
public func maxPool2d(_ x: Variable, kernel: (Int, Int), stride: (Int, Int)? = nil,
                      padding: (Int, Int) = (0, 0)) throws -> Variable {
    let d = try poolDescriptor("maxPool2d", x, kernel, stride, padding)
    let shape = try d.outputShape()
    var y = Tensor(uninitialized: shape)
    var argmax = IndexTensor(uninitialized: shape)
    try Kernels.maxPool2dForward(d, output: &y, argmax: &argmax, input: x.value)
    return Variable.record(y, inputs: [x]) { [argmax, x = x.node] dy in
        try x.withGradient { dx, acc in
            try Kernels.maxPool2dBackward(d, inputGradient: &dx, outputGradient: dy, argmax: argmax, accumulate: acc)
        }
    }
}

/// Average pooling `[N, C, H, W] -> [N, C, H_out, W_out]` (padding counts in the divisor).
public func avgPool2d(_ x: Variable, kernel: (Int, Int), stride: (Int, Int)? = nil,
                      padding: (Int, Int) = (0, 0)) throws -> Variable {
    let d = try poolDescriptor("avgPool2d", x, kernel, stride, padding)
    var y = Tensor(uninitialized: try d.outputShape())
    try Kernels.avgPool2dForward(d, output: &y, input: x.value)
    return Variable.record(y, inputs: [x]) { [x = x.node] dy in
        try x.withGradient { dx, acc in
            try Kernels.avgPool2dBackward(d, inputGradient: &dx, outputGradient: dy, accumulate: acc)
        }
    }
}

/// The same elements with another shape (no copy; one dimension may be -1).
public func reshape(_ x: Variable, _ shape: [Int]) throws -> Variable {
    let y = try x.value.reshaped(shape)
    return Variable.record(y, inputs: [x]) { [x = x.node] dy in try x.addGradient(dy) }
}

/// `[N, d1, d2, ...] -> [N, d1 * d2 * ...]`.
public func flatten(_ x: Variable) throws -> Variable {
    guard let n = x.shape.first else { throw shapeError("flatten", "cannot flatten a scalar") }
    return try reshape(x, [n, x.shape.dropFirst().reduce(1, *)])
}

// MARK: - Losses

/// Softmax cross-entropy against soft targets, a scalar:
/// `scale / N * sum_r -sum_c targets[r, c] * log softmax(logits[r] / temperature)_c`.
///
/// - Parameters:
///   - logits: `[N, classes]`
///   - targets: `[N, classes]`, constant (rows need not sum to one; one-hot rows give the
///     usual cross-entropy). For distillation pass the teacher's probabilities, e.g.
///     ``softmax(_:temperature:)`` of detached logits, and `scale: T * T`.
/// - Returns: shape `[]`.
public func softmaxCrossEntropy(logits: Variable, targets: Tensor, temperature: Float = 1,
                                scale: Float = 1) throws -> Variable {
    guard logits.shape.count == 2 else { throw shapeError("softmaxCrossEntropy", "logits must be [N, classes], got \(logits.shape)") }
    guard targets.shape == logits.shape else {
        throw shapeError("softmaxCrossEntropy", "targets \(targets.shape) must match logits \(logits.shape)")
    }
    let (rows, classes) = (logits.shape[0], logits.shape[1])
    let lv = logits.value
    var none: Tensor? = nil, none2: Tensor? = nil
    let loss = try Kernels.softmaxCrossEntropy(logits: lv, targets: targets, rows: rows, classes: classes,
                                               temperature: temperature, scale: scale,
                                               probabilities: &none, logitsGradient: &none2, accumulate: false)
    return Variable.record(Tensor(loss), inputs: [logits]) { [logits = logits.node] dy in
        let g = dy.scalar
        let acc = logits.prepareGradient()
        var dl = logits.takeGradient()
        var noProbs: Tensor? = nil
        defer { logits.restoreGradient(dl) }
        try Kernels.softmaxCrossEntropy(logits: lv, targets: targets, rows: rows, classes: classes,
                                        temperature: temperature, scale: scale * g,
                                        probabilities: &noProbs, logitsGradient: &dl, accumulate: acc)
    }
}

/// Cross-entropy with integer labels (one-hot targets).
public func crossEntropy(logits: Variable, labels: [Int]) throws -> Variable {
    guard logits.shape.count == 2, labels.count == logits.shape[0] else {
        throw shapeError("crossEntropy", "logits \(logits.shape) and \(labels.count) labels")
    }
    return try softmaxCrossEntropy(logits: logits, targets: Tensor.oneHot(labels, classes: logits.shape[1]))
}

/// Mean squared error `mean((a - b)^2)` over all elements, a scalar; both inputs are
/// differentiable (detach one for a fixed target).
public func mseLoss(_ a: Variable, _ b: Variable) throws -> Variable {
    guard a.shape == b.shape else { throw shapeError("mseLoss", "shapes differ: \(a.shape) and \(b.shape)") }
    let n = a.value.count
    guard n > 0 else { throw shapeError("mseLoss", "empty tensors") }
    var diff = a.value
    try Kernels.axpy(&diff, b.value, alpha: -1)  // diff = a - b (copy-on-write copies a)
    var out = Tensor(uninitialized: [])
    // sum(diff^2) / n as a 1x1 GEMM: diff[1, n] * diff[1, n]^T.
    try Kernels.sgemm(transposeA: false, transposeB: true, m: 1, n: 1, k: n, alpha: 1 / Float(n),
                      a: diff, lda: n, b: diff, ldb: n, beta: 0, c: &out, ldc: 1)
    return Variable.record(out, inputs: [a, b]) { [diff, a = a.node, b = b.node] dy in
        let g = 2 * dy.scalar / Float(n)
        if a.requiresGrad { try a.addGradient(diff, alpha: g) }
        if b.requiresGrad { try b.addGradient(diff, alpha: -g) }
    }
}

// MARK: - Non-differentiable helpers

/// Row-wise `softmax(logits / temperature)` of `[N, classes]` (no graph).
public func softmax(_ logits: Tensor, temperature: Float = 1) throws -> Tensor {
    guard logits.shape.count == 2 else { throw shapeError("softmax", "logits must be [N, classes], got \(logits.shape)") }
    var p = Tensor(uninitialized: logits.shape)
    try Kernels.softmax(output: &p, logits: logits, rows: logits.shape[0], classes: logits.shape[1],
                        temperature: temperature)
    return p
}

/// Index of the largest entry of each row of `[N, classes]` (first on ties).
public func argmaxRows(_ t: Tensor) -> [Int] {
    guard t.shape.count == 2, t.shape[1] > 0 else { return [] }
    let (rows, cols) = (t.shape[0], t.shape[1])
    return t.withUnsafeBufferPointer { p in
        (0..<rows).map { r in
            var best = 0
            for c in 1..<cols where p[r * cols + c] > p[r * cols + best] { best = c }
            return best
        }
    }
}

/// Training-mode batch norm over the rows of every rank of `group` (``BatchNormSync``): the
/// forward normalises with the statistics of all ranks' rows (each rank's per-channel count,
/// mean and M2, all-gathered and merged in rank order, so every rank gets the same bits), and
/// the backward all-reduces `sum dy` and `sum dy * (x - mean)`, which the input gradient of a
/// row needs from every row. The weight and bias gradients are this rank's part (from its own
/// sums): the trainer's gradient all-reduce adds the parts up.
func synchronisedBatchNorm(_ x: Variable, weight: Variable, bias: Variable, runningMean: Variable, runningVar: Variable,
                           group: ProcessGroup, momentum: Float, eps: Float) throws -> Variable {
    let (n, c) = (x.shape[0], x.shape[1])
    let hw = x.shape.dropFirst(2).reduce(1, *)
    let xv = x.value, gamma = weight.value
    // [count, (mean, M2) per channel] of this rank, then of every rank.
    var local = [Double](repeating: 0, count: 1 + 2 * c)
    var stats = [Double](repeating: 0, count: 2 * c)
    try Kernels.batchNormStatistics(&stats, input: xv, batch: n, channels: c, hw: hw)
    local[0] = Double(n * hw)
    local.replaceSubrange(1..., with: stats)
    let k = group.size
    var gathered = [Double](repeating: 0, count: k * (1 + 2 * c))
    try local.withUnsafeBytes { send in
        try gathered.withUnsafeMutableBytes { try group.allgather(send, into: $0) }
    }
    let record = 1 + 2 * c
    var counts = [Double](repeating: 0, count: k)
    var parts = [Double](repeating: 0, count: k * 2 * c)
    for r in 0..<k {
        counts[r] = gathered[r * record]
        for j in 0..<(2 * c) { parts[r * 2 * c + j] = gathered[r * record + 1 + j] }
    }
    try Kernels.batchNormMergeStatistics(&stats, parts: parts, counts: counts, channels: c)
    let total = counts.reduce(0, +)
    var y = Tensor(uninitialized: x.shape)
    var mean = Tensor(uninitialized: [c]), invstd = Tensor(uninitialized: [c])
    try Kernels.batchNormForwardApply(output: &y, saveMean: &mean, saveInvStd: &invstd,
                                      runningMean: &runningMean.value, runningVar: &runningVar.value,
                                      input: xv, gamma: gamma, beta: bias.value, stats: stats, count: total,
                                      batch: n, channels: c, hw: hw, momentum: momentum, eps: eps)
    return Variable.record(y, inputs: [x, weight, bias]) { [x = x.node, weight = weight.node, bias = bias.node] dy in
        var sums = [Double](repeating: 0, count: 2 * c)
        try Kernels.batchNormBackwardReduce(&sums, outputGradient: dy, input: xv, saveMean: mean, batch: n, channels: c, hw: hw)
        var global = sums
        try global.withUnsafeMutableBufferPointer { try group.allreduceSum($0) }
        if weight.requiresGrad || bias.requiresGrad {
            let accG = weight.requiresGrad ? weight.prepareGradient() : nil
            let accB = bias.requiresGrad ? bias.prepareGradient() : nil
            for acc in [false, true] where accG == acc || accB == acc {
                var none: Tensor? = nil
                var dg = accG == acc ? weight.takeGradient() : nil
                var db = accB == acc ? bias.takeGradient() : nil
                defer {
                    if accG == acc { weight.restoreGradient(dg) }
                    if accB == acc { bias.restoreGradient(db) }
                }
                try Kernels.batchNormBackwardApply(inputGradient: &none, gammaGradient: &dg, betaGradient: &db, sums: sums,
                                                   count: total, outputGradient: dy, input: xv, gamma: gamma, saveMean: mean,
                                                   saveInvStd: invstd, batch: n, channels: c, hw: hw, accumulate: acc)
            }
        }
        if x.requiresGrad {
            let acc = x.prepareGradient()
            var dx = x.takeGradient()
            defer { x.restoreGradient(dx) }
            var none1: Tensor? = nil, none2: Tensor? = nil
            try Kernels.batchNormBackwardApply(inputGradient: &dx, gammaGradient: &none1, betaGradient: &none2, sums: global,
                                               count: total, outputGradient: dy, input: xv, gamma: gamma, saveMean: mean,
                                               saveInvStd: invstd, batch: n, channels: c, hw: hw, accumulate: acc)
        }
    }
}
