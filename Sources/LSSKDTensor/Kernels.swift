internal import LSSKDKernels

/// One-to-one Swift wrappers of the C kernels (`include/lsk_*.h`).
///
/// Each wrapper checks that every tensor holds exactly the number of elements the
/// sizes imply (the C side cannot see buffer lengths), then calls the kernel and turns
/// a non-OK status into a ``KernelError`` naming the C function. Outputs are `inout`
/// tensors that the caller allocates (``Tensor/init(uninitialized:)`` draws from the
/// pool); writing to a shared buffer copies it first (copy-on-write).
/// `accumulate: true` adds to the output instead of overwriting it.
public enum Kernels {
    @inline(__always)
    static func need(_ t: Tensor, _ n: Int, _ name: String, _ op: String) throws {
        guard t.count == n else {
            throw KernelError.invalid(op, "\(name) has \(t.count) elements (shape \(t.shape)), expected \(n)")
        }
    }

    @inline(__always)
    static func need(_ t: IndexTensor, _ n: Int, _ name: String, _ op: String) throws {
        guard t.count == n else {
            throw KernelError.invalid(op, "\(name) has \(t.count) elements (shape \(t.shape)), expected \(n)")
        }
    }

    @inline(__always)
    static func nonNegative(_ op: String, _ sizes: Int...) throws {
        guard sizes.allSatisfy({ $0 >= 0 }) else { throw KernelError.invalid(op, "negative size in \(sizes)") }
    }

    // MARK: - GEMM (lsk_gemm.h)

    /// `c[m, n] = alpha * op(a)[m, k] * op(b)[k, n] + beta * c`, row-major with row strides
    /// (`a` is `[m, lda]`, or `[k, lda]` when `transposeA`; `b` is `[k, ldb]`, or `[n, ldb]`
    /// when `transposeB`; `c` is `[m, ldc]`). Buffers must hold at least the strided extent.
    public static func sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                             alpha: Float, a: Tensor, lda: Int, b: Tensor, ldb: Int,
                             beta: Float, c: inout Tensor, ldc: Int) throws {
        let op = "lsk_sgemm"
        try nonNegative(op, m, n, k, lda, ldb, ldc)
        func extent(_ rows: Int, _ cols: Int, _ ld: Int, _ name: String) throws -> Int {
            guard ld >= cols else { throw KernelError.invalid(op, "\(name) row stride \(ld) < \(cols)") }
            return rows == 0 || cols == 0 ? 0 : try checkedProduct(op, rows - 1, ld) + cols
        }
        let ea = transposeA ? try extent(k, m, lda, "a") : try extent(m, k, lda, "a")
        let eb = transposeB ? try extent(n, k, ldb, "b") : try extent(k, n, ldb, "b")
        let ec = try extent(m, n, ldc, "c")
        guard a.count >= ea, b.count >= eb, c.count >= ec else {
            throw KernelError.invalid(op, "buffers too small: a \(a.count)/\(ea), b \(b.count)/\(eb), c \(c.count)/\(ec)")
        }
        let cp = c.mutablePointer
        try KernelError.check(
            lsk_sgemm(transposeA ? LSK_TRANS : LSK_NO_TRANS, transposeB ? LSK_TRANS : LSK_NO_TRANS,
                      m, n, k, alpha, a.pointer, lda, b.pointer, ldb, beta, cp, ldc), op)
    }

    // MARK: - Convolution (lsk_conv.h)

    /// `y = conv(x, w) + b`. Shapes: see ``Conv2dDescriptor``; `bias` `[outChannels]` or nil.
    public static func conv2dForward(_ d: Conv2dDescriptor, output y: inout Tensor, input x: Tensor,
                                     weight w: Tensor, bias b: Tensor?) throws {
        let op = "lsk_conv2d_fwd"
        var (nx, nw, ny, cd) = try d.counts(op)
        try need(x, nx, "input", op); try need(w, nw, "weight", op); try need(y, ny, "output", op)
        if let b { try need(b, d.outChannels, "bias", op) }
        let yp = y.mutablePointer
        try KernelError.check(lsk_conv2d_fwd(&cd, yp, x.pointer, w.pointer, b?.pointer), op, "\(d)")
    }

    /// `dx (=|+=) conv2d_bwd_data(dy, w)`; `dx` has the input's shape, `dy` the output's.
    public static func conv2dBackwardData(_ d: Conv2dDescriptor, inputGradient dx: inout Tensor,
                                          outputGradient dy: Tensor, weight w: Tensor,
                                          accumulate: Bool) throws {
        let op = "lsk_conv2d_bwd_data"
        var (nx, nw, ny, cd) = try d.counts(op)
        try need(dx, nx, "inputGradient", op); try need(w, nw, "weight", op); try need(dy, ny, "outputGradient", op)
        let p = dx.mutablePointer
        try KernelError.check(lsk_conv2d_bwd_data(&cd, p, dy.pointer, w.pointer, accumulate ? 1 : 0), op, "\(d)")
    }

    /// `dw (=|+=) dL/dw`, and `db (=|+=) dL/db` (`[outChannels]`) when `biasGradient` is non-nil.
    public static func conv2dBackwardWeight(_ d: Conv2dDescriptor, weightGradient dw: inout Tensor,
                                            biasGradient db: inout Tensor?, outputGradient dy: Tensor,
                                            input x: Tensor, accumulate: Bool) throws {
        let op = "lsk_conv2d_bwd_weight"
        var (nx, nw, ny, cd) = try d.counts(op)
        try need(x, nx, "input", op); try need(dw, nw, "weightGradient", op); try need(dy, ny, "outputGradient", op)
        if let db { try need(db, d.outChannels, "biasGradient", op) }
        let pw = dw.mutablePointer
        let pb = db?.mutablePointer
        try KernelError.check(lsk_conv2d_bwd_weight(&cd, pw, pb, dy.pointer, x.pointer, accumulate ? 1 : 0), op, "\(d)")
    }

    /// Both gradients of a convolution in one call (`lsk_conv2d_bwd`): `dx (=|+=) dL/dx`,
    /// `dw (=|+=) dL/dw` and, when `biasGradient` is non-nil, `db (=|+=) dL/db`. Same results
    /// as ``conv2dBackwardData`` + ``conv2dBackwardWeight``; a depthwise layer reads `dy`
    /// from memory once for both.
    public static func conv2dBackward(_ d: Conv2dDescriptor, inputGradient dx: inout Tensor,
                                      weightGradient dw: inout Tensor, biasGradient db: inout Tensor?,
                                      outputGradient dy: Tensor, input x: Tensor, weight w: Tensor,
                                      accumulateInput: Bool, accumulateWeight: Bool) throws {
        let op = "lsk_conv2d_bwd"
        var (nx, nw, ny, cd) = try d.counts(op)
        try need(x, nx, "input", op); try need(dx, nx, "inputGradient", op); try need(w, nw, "weight", op)
        try need(dw, nw, "weightGradient", op); try need(dy, ny, "outputGradient", op)
        if let db { try need(db, d.outChannels, "biasGradient", op) }
        let px = dx.mutablePointer, pw = dw.mutablePointer, pb = db?.mutablePointer
        try KernelError.check(lsk_conv2d_bwd(&cd, px, pw, pb, dy.pointer, x.pointer, w.pointer,
                                             accumulateInput ? 1 : 0, accumulateWeight ? 1 : 0), op, "\(d)")
    }

    // MARK: - Linear (lsk_linear.h)

    /// `y[batch, out] = x[batch, in] w[out, in]^T + b[out]`.
    public static func linearForward(output y: inout Tensor, input x: Tensor, weight w: Tensor, bias b: Tensor?,
                                     batch: Int, inFeatures: Int, outFeatures: Int) throws {
        let op = "lsk_linear_fwd"
        try need(x, try checkedProduct(op, batch, inFeatures), "input", op)
        try need(w, try checkedProduct(op, outFeatures, inFeatures), "weight", op)
        try need(y, try checkedProduct(op, batch, outFeatures), "output", op)
        if let b { try need(b, outFeatures, "bias", op) }
        let p = y.mutablePointer
        try KernelError.check(lsk_linear_fwd(p, x.pointer, w.pointer, b?.pointer, batch, inFeatures, outFeatures), op)
    }

    /// `dx[batch, in] (=|+=) dy[batch, out] w[out, in]`.
    public static func linearBackwardData(inputGradient dx: inout Tensor, outputGradient dy: Tensor, weight w: Tensor,
                                          batch: Int, inFeatures: Int, outFeatures: Int, accumulate: Bool) throws {
        let op = "lsk_linear_bwd_data"
        try need(dx, try checkedProduct(op, batch, inFeatures), "inputGradient", op)
        try need(w, try checkedProduct(op, outFeatures, inFeatures), "weight", op)
        try need(dy, try checkedProduct(op, batch, outFeatures), "outputGradient", op)
        let p = dx.mutablePointer
        try KernelError.check(lsk_linear_bwd_data(p, dy.pointer, w.pointer, batch, inFeatures, outFeatures,
                                                  accumulate ? 1 : 0), op)
    }

    /// `dw[out, in] (=|+=) dy^T x`, `db[out] (=|+=) sum over batch of dy` (when non-nil).
    public static func linearBackwardWeight(weightGradient dw: inout Tensor, biasGradient db: inout Tensor?,
                                            outputGradient dy: Tensor, input x: Tensor,
                                            batch: Int, inFeatures: Int, outFeatures: Int, accumulate: Bool) throws {
        let op = "lsk_linear_bwd_weight"
        try need(x, try checkedProduct(op, batch, inFeatures), "input", op)
        try need(dw, try checkedProduct(op, outFeatures, inFeatures), "weightGradient", op)
        try need(dy, try checkedProduct(op, batch, outFeatures), "outputGradient", op)
        if let db { try need(db, outFeatures, "biasGradient", op) }
        let pw = dw.mutablePointer
        let pb = db?.mutablePointer
        try KernelError.check(lsk_linear_bwd_weight(pw, pb, dy.pointer, x.pointer, batch, inFeatures, outFeatures,
                                                    accumulate ? 1 : 0), op)
    }

    // MARK: - Elementwise (lsk_eltwise.h)

    /// `y = max(x, 0)` (same element count).
    public static func reluForward(output y: inout Tensor, input x: Tensor) throws {
        let op = "lsk_relu_fwd"
        try need(y, x.count, "output", op)
        let p = y.mutablePointer
        try KernelError.check(lsk_relu_fwd(p, x.pointer, x.count), op)
    }

    /// `dx (=|+=) y > 0 ? dy : 0`, where `y` is the ReLU output.
    public static func reluBackward(inputGradient dx: inout Tensor, outputGradient dy: Tensor, output y: Tensor,
                                    accumulate: Bool) throws {
        let op = "lsk_relu_bwd"
        try need(dx, y.count, "inputGradient", op); try need(dy, y.count, "outputGradient", op)
        let p = dx.mutablePointer
        try KernelError.check(lsk_relu_bwd(p, dy.pointer, y.pointer, y.count, accumulate ? 1 : 0), op)
    }

    /// `y = a + b` (same element count).
    public static func addForward(output y: inout Tensor, _ a: Tensor, _ b: Tensor) throws {
        let op = "lsk_add_fwd"
        try need(b, a.count, "b", op); try need(y, a.count, "output", op)
        let p = y.mutablePointer
        try KernelError.check(lsk_add_fwd(p, a.pointer, b.pointer, a.count), op)
    }

    /// `y = max(a + b, 0)` in one pass (a residual block's sum and last ReLU); the backward is
    /// ``reluBackward(inputGradient:outputGradient:output:accumulate:)`` on `y`, for both inputs.
    public static func addReLUForward(output y: inout Tensor, _ a: Tensor, _ b: Tensor) throws {
        let op = "lsk_add_relu_fwd"
        try need(b, a.count, "b", op); try need(y, a.count, "output", op)
        let p = y.mutablePointer
        try KernelError.check(lsk_add_relu_fwd(p, a.pointer, b.pointer, a.count), op)
    }

    /// `y += alpha * x`.
    public static func axpy(_ y: inout Tensor, _ x: Tensor, alpha: Float) throws {
        let op = "lsk_axpy"
        try need(y, x.count, "y", op)
        let p = y.mutablePointer
        try KernelError.check(lsk_axpy(p, x.pointer, alpha, x.count), op)
    }

    /// `y *= alpha`.
    public static func scale(_ y: inout Tensor, by alpha: Float) throws {
        let p = y.mutablePointer
        try KernelError.check(lsk_scale(p, alpha, y.count), "lsk_scale")
    }

    /// `y[:] = value`.
    public static func fill(_ y: inout Tensor, with value: Float) throws {
        let p = y.mutablePointer
        try KernelError.check(lsk_fill(p, value, y.count), "lsk_fill")
    }

    /// One SGD step (PyTorch semantics), in place on `parameter` and `velocity`:
    /// `g = grad + weightDecay * p; v = momentum * v + g; p -= lr * (nesterov ? g + momentum * v : v)`.
    /// `velocity` (same count as `parameter`) may be nil only when `momentum == 0`.
    public static func sgdStep(parameter: inout Tensor, velocity: inout Tensor?, gradient: Tensor,
                               learningRate: Float, momentum: Float, weightDecay: Float, nesterov: Bool) throws {
        let op = "lsk_sgd_step"
        try need(gradient, parameter.count, "gradient", op)
        if let velocity { try need(velocity, parameter.count, "velocity", op) }
        let pp = parameter.mutablePointer
        let pv = velocity?.mutablePointer
        try KernelError.check(lsk_sgd_step(pp, pv, gradient.pointer, parameter.count, learningRate, momentum,
                                           weightDecay, nesterov ? 1 : 0), op)
    }

    // MARK: - Batch normalisation (lsk_norm.h)

    /// Training forward: `y`, `saveMean`, `saveInvStd` ([channels]) written; running
    /// statistics ([channels]) updated in place. `x`, `y`: `[batch, channels, hw]`.
    public static func batchNormForwardTraining(
        output y: inout Tensor, saveMean: inout Tensor, saveInvStd: inout Tensor,
        runningMean: inout Tensor, runningVar: inout Tensor,
        input x: Tensor, gamma: Tensor, beta: Tensor,
        batch: Int, channels: Int, hw: Int, momentum: Float, eps: Float) throws {
        let op = "lsk_batchnorm_fwd_train"
        try need(runningMean, channels, "runningMean", op); try need(runningVar, channels, "runningVar", op)
        try bnTrainChecks(op, y, saveMean, saveInvStd, x, gamma, beta, batch, channels, hw)
        let (py, pm, pi) = (y.mutablePointer, saveMean.mutablePointer, saveInvStd.mutablePointer)
        let (prm, prv) = (runningMean.mutablePointer, runningVar.mutablePointer)
        try KernelError.check(lsk_batchnorm_fwd_train(py, pm, pi, prm, prv, x.pointer, gamma.pointer, beta.pointer,
                                                      batch, channels, hw, momentum, eps), op)
    }

    /// Training forward without running statistics.
    public static func batchNormForwardTraining(
        output y: inout Tensor, saveMean: inout Tensor, saveInvStd: inout Tensor,
        input x: Tensor, gamma: Tensor, beta: Tensor,
        batch: Int, channels: Int, hw: Int, eps: Float) throws {
        let op = "lsk_batchnorm_fwd_train"
        try bnTrainChecks(op, y, saveMean, saveInvStd, x, gamma, beta, batch, channels, hw)
        let (py, pm, pi) = (y.mutablePointer, saveMean.mutablePointer, saveInvStd.mutablePointer)
        try KernelError.check(lsk_batchnorm_fwd_train(py, pm, pi, nil, nil, x.pointer, gamma.pointer, beta.pointer,
                                                      batch, channels, hw, 0, eps), op)
    }

    private static func bnTrainChecks(_ op: String, _ y: Tensor, _ m: Tensor, _ s: Tensor, _ x: Tensor,
                                      _ g: Tensor, _ b: Tensor, _ batch: Int, _ channels: Int, _ hw: Int) throws {
        let n = try checkedProduct(op, batch, channels, hw)
        try need(x, n, "input", op); try need(y, n, "output", op)
        try need(m, channels, "saveMean", op); try need(s, channels, "saveInvStd", op)
        try need(g, channels, "gamma", op); try need(b, channels, "beta", op)
    }

    private static func bnBackwardChecks(_ op: String, _ dx: Tensor?, _ dgamma: Tensor?, _ dbeta: Tensor?, _ dy: Tensor,
                                         _ x: Tensor, _ gamma: Tensor, _ saveMean: Tensor, _ saveInvStd: Tensor,
                                         _ batch: Int, _ channels: Int, _ hw: Int) throws {
        let n = try checkedProduct(op, batch, channels, hw)
        try need(x, n, "input", op); try need(dy, n, "outputGradient", op)
        if let dx { try need(dx, n, "inputGradient", op) }
        if let dgamma { try need(dgamma, channels, "gammaGradient", op) }
        if let dbeta { try need(dbeta, channels, "betaGradient", op) }
        try need(gamma, channels, "gamma", op)
        try need(saveMean, channels, "saveMean", op); try need(saveInvStd, channels, "saveInvStd", op)
    }

    /// Inference forward with running statistics. `x`, `y`: `[batch, channels, hw]`; the rest `[channels]`.
    public static func batchNormForwardInference(
        output y: inout Tensor, input x: Tensor, gamma: Tensor, beta: Tensor,
        runningMean: Tensor, runningVar: Tensor, batch: Int, channels: Int, hw: Int, eps: Float) throws {
        let op = "lsk_batchnorm_fwd_eval"
        let n = try checkedProduct(op, batch, channels, hw)
        try need(x, n, "input", op); try need(y, n, "output", op)
        try need(gamma, channels, "gamma", op); try need(beta, channels, "beta", op)
        try need(runningMean, channels, "runningMean", op); try need(runningVar, channels, "runningVar", op)
        let p = y.mutablePointer
        try KernelError.check(lsk_batchnorm_fwd_eval(p, x.pointer, gamma.pointer, beta.pointer, runningMean.pointer,
                                                     runningVar.pointer, batch, channels, hw, eps), op)
    }

    /// Backward of the training forward; each gradient output may be nil to skip it.
    public static func batchNormBackward(
        inputGradient dx: inout Tensor?, gammaGradient dgamma: inout Tensor?, betaGradient dbeta: inout Tensor?,
        outputGradient dy: Tensor, input x: Tensor, gamma: Tensor, saveMean: Tensor, saveInvStd: Tensor,
        batch: Int, channels: Int, hw: Int, accumulate: Bool) throws {
        let op = "lsk_batchnorm_bwd"
        try bnBackwardChecks(op, dx, dgamma, dbeta, dy, x, gamma, saveMean, saveInvStd, batch, channels, hw)
        let (px, pg, pb) = (dx?.mutablePointer, dgamma?.mutablePointer, dbeta?.mutablePointer)
        try KernelError.check(lsk_batchnorm_bwd(px, pg, pb, dy.pointer, x.pointer, gamma.pointer, saveMean.pointer,
                                                saveInvStd.pointer, batch, channels, hw, accumulate ? 1 : 0), op)
    }

    /// Training forward of `relu(batchNorm(x))` in the same passes as the batch norm alone:
    /// `y = max(BN(x), 0)`, bit for bit the two ops in sequence. Arguments as
    /// ``batchNormForwardTraining(output:saveMean:saveInvStd:runningMean:runningVar:input:gamma:beta:batch:channels:hw:momentum:eps:)``.
    public static func batchNormReLUForwardTraining(
        output y: inout Tensor, saveMean: inout Tensor, saveInvStd: inout Tensor,
        runningMean: inout Tensor, runningVar: inout Tensor,
        input x: Tensor, gamma: Tensor, beta: Tensor,
        batch: Int, channels: Int, hw: Int, momentum: Float, eps: Float) throws {
        let op = "lsk_batchnorm_relu_fwd_train"
        try need(runningMean, channels, "runningMean", op); try need(runningVar, channels, "runningVar", op)
        try bnTrainChecks(op, y, saveMean, saveInvStd, x, gamma, beta, batch, channels, hw)
        let (py, pm, pi) = (y.mutablePointer, saveMean.mutablePointer, saveInvStd.mutablePointer)
        let (prm, prv) = (runningMean.mutablePointer, runningVar.mutablePointer)
        try KernelError.check(lsk_batchnorm_relu_fwd_train(py, pm, pi, prm, prv, x.pointer, gamma.pointer, beta.pointer,
                                                           batch, channels, hw, momentum, eps), op)
    }

    /// Backward of ``batchNormReLUForwardTraining(output:saveMean:saveInvStd:runningMean:runningVar:input:gamma:beta:batch:channels:hw:momentum:eps:)``:
    /// `dy` masked by `y > 0` (`y` its output), then the batch-norm backward, without the
    /// masked gradient ever being written; bit for bit the ReLU and batch-norm backwards in sequence.
    public static func batchNormReLUBackward(
        inputGradient dx: inout Tensor?, gammaGradient dgamma: inout Tensor?, betaGradient dbeta: inout Tensor?,
        outputGradient dy: Tensor, output y: Tensor, input x: Tensor, gamma: Tensor, saveMean: Tensor, saveInvStd: Tensor,
        batch: Int, channels: Int, hw: Int, accumulate: Bool) throws {
        let op = "lsk_batchnorm_relu_bwd"
        try bnBackwardChecks(op, dx, dgamma, dbeta, dy, x, gamma, saveMean, saveInvStd, batch, channels, hw)
        try need(y, x.count, "output", op)
        let (px, pg, pb) = (dx?.mutablePointer, dgamma?.mutablePointer, dbeta?.mutablePointer)
        try KernelError.check(lsk_batchnorm_relu_bwd(px, pg, pb, dy.pointer, y.pointer, x.pointer, gamma.pointer,
                                                     saveMean.pointer, saveInvStd.pointer, batch, channels, hw,
                                                     accumulate ? 1 : 0), op)
    }

    // MARK: Batch normalisation in two halves (synchronised batch norm over ranks)

    /// Per-channel mean and M2 of `x` `[batch, channels, hw]` into `stats` (`[channels][2]`).
    public static func batchNormStatistics(_ stats: inout [Double], input x: Tensor, batch: Int, channels: Int, hw: Int) throws {
        let op = "lsk_batchnorm_stats"
        try need(x, try checkedProduct(op, batch, channels, hw), "input", op)
        guard stats.count == 2 * channels else { throw KernelError(operation: op, status: .invalidArgument, detail: "stats must hold 2 x \(channels)") }
        let rc = stats.withUnsafeMutableBufferPointer { lsk_batchnorm_stats($0.baseAddress, x.pointer, batch, channels, hw) }
        try KernelError.check(rc, op)
    }

    /// Merges `counts.count` parts' statistics (`parts` `[parts][channels][2]`, each covering
    /// `counts[p]` values per channel) into `stats` (`[channels][2]`), in part order.
    public static func batchNormMergeStatistics(_ stats: inout [Double], parts: [Double], counts: [Double], channels: Int) throws {
        let op = "lsk_batchnorm_stats_merge"
        guard stats.count == 2 * channels, parts.count == 2 * channels * counts.count else {
            throw KernelError(operation: op, status: .invalidArgument, detail: "stats [\(channels)][2], parts [\(counts.count)][\(channels)][2]")
        }
        let rc = stats.withUnsafeMutableBufferPointer { st in
            parts.withUnsafeBufferPointer { pa in
                counts.withUnsafeBufferPointer { co in lsk_batchnorm_stats_merge(st.baseAddress, pa.baseAddress, counts.count, co.baseAddress, channels) }
            }
        }
        try KernelError.check(rc, op)
    }

    /// The training forward given statistics `stats` (`[channels][2]`: mean, M2) of `count`
    /// values per channel (possibly all ranks'): `y`, `saveMean`, `saveInvStd`, running statistics.
    public static func batchNormForwardApply(
        output y: inout Tensor, saveMean: inout Tensor, saveInvStd: inout Tensor,
        runningMean: inout Tensor, runningVar: inout Tensor,
        input x: Tensor, gamma: Tensor, beta: Tensor, stats: [Double], count: Double,
        batch: Int, channels: Int, hw: Int, momentum: Float, eps: Float) throws {
        let op = "lsk_batchnorm_fwd_apply"
        try need(runningMean, channels, "runningMean", op); try need(runningVar, channels, "runningVar", op)
        try bnTrainChecks(op, y, saveMean, saveInvStd, x, gamma, beta, batch, channels, hw)
        guard stats.count == 2 * channels else { throw KernelError(operation: op, status: .invalidArgument, detail: "stats must hold 2 x \(channels)") }
        let (py, pm, pi) = (y.mutablePointer, saveMean.mutablePointer, saveInvStd.mutablePointer)
        let (prm, prv) = (runningMean.mutablePointer, runningVar.mutablePointer)
        let rc = stats.withUnsafeBufferPointer {
            lsk_batchnorm_fwd_apply(py, pm, pi, prm, prv, x.pointer, gamma.pointer, beta.pointer, $0.baseAddress, count,
                                    batch, channels, hw, momentum, eps)
        }
        try KernelError.check(rc, op)
    }

    /// Per-channel `sum dy` and `sum dy * (x - mean)` into `sums` (`[channels][2]`).
    public static func batchNormBackwardReduce(_ sums: inout [Double], outputGradient dy: Tensor, input x: Tensor, saveMean: Tensor,
                                               batch: Int, channels: Int, hw: Int) throws {
        let op = "lsk_batchnorm_bwd_reduce"
        let n = try checkedProduct(op, batch, channels, hw)
        try need(x, n, "input", op); try need(dy, n, "outputGradient", op); try need(saveMean, channels, "saveMean", op)
        guard sums.count == 2 * channels else { throw KernelError(operation: op, status: .invalidArgument, detail: "sums must hold 2 x \(channels)") }
        let rc = sums.withUnsafeMutableBufferPointer {
            lsk_batchnorm_bwd_reduce($0.baseAddress, dy.pointer, x.pointer, saveMean.pointer, batch, channels, hw)
        }
        try KernelError.check(rc, op)
    }

    /// The backward given (possibly all-reduced) `sums` of ``batchNormBackwardReduce`` over
    /// `count` values per channel; each gradient output may be nil to skip it.
    public static func batchNormBackwardApply(
        inputGradient dx: inout Tensor?, gammaGradient dgamma: inout Tensor?, betaGradient dbeta: inout Tensor?,
        sums: [Double], count: Double, outputGradient dy: Tensor, input x: Tensor, gamma: Tensor,
        saveMean: Tensor, saveInvStd: Tensor, batch: Int, channels: Int, hw: Int, accumulate: Bool) throws {
        let op = "lsk_batchnorm_bwd_apply"
        try bnBackwardChecks(op, dx, dgamma, dbeta, dy, x, gamma, saveMean, saveInvStd, batch, channels, hw)
        guard sums.count == 2 * channels else { throw KernelError(operation: op, status: .invalidArgument, detail: "sums must hold 2 x \(channels)") }
        let (px, pg, pb) = (dx?.mutablePointer, dgamma?.mutablePointer, dbeta?.mutablePointer)
        let rc = sums.withUnsafeBufferPointer {
            lsk_batchnorm_bwd_apply(px, pg, pb, $0.baseAddress, count, dy.pointer, x.pointer, gamma.pointer, saveMean.pointer,
                                    saveInvStd.pointer, batch, channels, hw, accumulate ? 1 : 0)
        }
        try KernelError.check(rc, op)
    }

    // MARK: - Pooling (lsk_pool.h)

    /// `y[batch, channels] = mean over hw of x[batch, channels, hw]`.
    public static func globalAvgPoolForward(output y: inout Tensor, input x: Tensor,
                                            batch: Int, channels: Int, hw: Int) throws {
        let op = "lsk_global_avgpool_fwd"
        try need(x, try checkedProduct(op, batch, channels, hw), "input", op)
        try need(y, try checkedProduct(op, batch, channels), "output", op)
        let p = y.mutablePointer
        try KernelError.check(lsk_global_avgpool_fwd(p, x.pointer, batch, channels, hw), op)
    }

    /// `dx[b, c, i] (=|+=) dy[b, c] / hw`.
    public static func globalAvgPoolBackward(inputGradient dx: inout Tensor, outputGradient dy: Tensor,
                                             batch: Int, channels: Int, hw: Int, accumulate: Bool) throws {
        let op = "lsk_global_avgpool_bwd"
        try need(dx, try checkedProduct(op, batch, channels, hw), "inputGradient", op)
        try need(dy, try checkedProduct(op, batch, channels), "outputGradient", op)
        let p = dx.mutablePointer
        try KernelError.check(lsk_global_avgpool_bwd(p, dy.pointer, batch, channels, hw, accumulate ? 1 : 0), op)
    }

    /// Max pooling; `argmax` (output shape) receives the flat in-plane index of each maximum.
    public static func maxPool2dForward(_ d: Pool2dDescriptor, output y: inout Tensor, argmax: inout IndexTensor,
                                        input x: Tensor) throws {
        let op = "lsk_maxpool2d_fwd"
        var (nx, ny, cd) = try d.counts(op)
        try need(x, nx, "input", op); try need(y, ny, "output", op); try need(argmax, ny, "argmax", op)
        let (py, pa) = (y.mutablePointer, argmax.mutablePointer)
        try KernelError.check(lsk_maxpool2d_fwd(&cd, py, pa, x.pointer), op, "\(d)")
    }

    /// Routes each `dy` to the input position recorded in `argmax`.
    public static func maxPool2dBackward(_ d: Pool2dDescriptor, inputGradient dx: inout Tensor, outputGradient dy: Tensor,
                                         argmax: IndexTensor, accumulate: Bool) throws {
        let op = "lsk_maxpool2d_bwd"
        var (nx, ny, cd) = try d.counts(op)
        try need(dx, nx, "inputGradient", op); try need(dy, ny, "outputGradient", op); try need(argmax, ny, "argmax", op)
        let p = dx.mutablePointer
        try KernelError.check(lsk_maxpool2d_bwd(&cd, p, dy.pointer, argmax.pointer, accumulate ? 1 : 0), op, "\(d)")
    }

    /// Average pooling (padding counted in the divisor).
    public static func avgPool2dForward(_ d: Pool2dDescriptor, output y: inout Tensor, input x: Tensor) throws {
        let op = "lsk_avgpool2d_fwd"
        var (nx, ny, cd) = try d.counts(op)
        try need(x, nx, "input", op); try need(y, ny, "output", op)
        let p = y.mutablePointer
        try KernelError.check(lsk_avgpool2d_fwd(&cd, p, x.pointer), op, "\(d)")
    }

    public static func avgPool2dBackward(_ d: Pool2dDescriptor, inputGradient dx: inout Tensor, outputGradient dy: Tensor,
                                         accumulate: Bool) throws {
        let op = "lsk_avgpool2d_bwd"
        var (nx, ny, cd) = try d.counts(op)
        try need(dx, nx, "inputGradient", op); try need(dy, ny, "outputGradient", op)
        let p = dx.mutablePointer
        try KernelError.check(lsk_avgpool2d_bwd(&cd, p, dy.pointer, accumulate ? 1 : 0), op, "\(d)")
    }

    // MARK: - Loss (lsk_loss.h)

    /// Softmax cross-entropy of `logits[rows, classes]` against soft `targets[rows, classes]`:
    /// returns `scale / rows * sum_r -sum_c t log softmax(logits / temperature)`; writes the
    /// probabilities and `dL/dlogits` (=|+= when `accumulate`) when those are non-nil.
    @discardableResult
    public static func softmaxCrossEntropy(logits: Tensor, targets: Tensor, rows: Int, classes: Int,
                                           temperature: Float, scale: Float,
                                           probabilities: inout Tensor?, logitsGradient: inout Tensor?,
                                           accumulate: Bool) throws -> Float {
        let op = "lsk_softmax_xent"
        let n = try checkedProduct(op, rows, classes)
        try need(logits, n, "logits", op); try need(targets, n, "targets", op)
        if let probabilities { try need(probabilities, n, "probabilities", op) }
        if let logitsGradient { try need(logitsGradient, n, "logitsGradient", op) }
        guard temperature > 0, temperature.isFinite else {
            throw KernelError.invalid(op, "temperature must be positive and finite, got \(temperature)")
        }
        var loss: Float = 0
        let (pp, pg) = (probabilities?.mutablePointer, logitsGradient?.mutablePointer)
        try KernelError.check(lsk_softmax_xent(&loss, pp, pg, logits.pointer, targets.pointer, rows, classes,
                                               temperature, scale, accumulate ? 1 : 0), op)
        return loss
    }

    /// `probs[rows, classes] = softmax(logits / temperature)` row-wise.
    public static func softmax(output probs: inout Tensor, logits: Tensor, rows: Int, classes: Int,
                               temperature: Float) throws {
        let op = "lsk_softmax_fwd"
        let n = try checkedProduct(op, rows, classes)
        try need(logits, n, "logits", op); try need(probs, n, "output", op)
        guard temperature > 0, temperature.isFinite else {
            throw KernelError.invalid(op, "temperature must be positive and finite, got \(temperature)")
        }
        let p = probs.mutablePointer
        try KernelError.check(lsk_softmax_fwd(p, logits.pointer, rows, classes, temperature), op)
    }

    /// Fused softmax-KL of distillation: returns
    /// `scale * T^2 / rows * sum_r KL(softmax(teacher_r / T) || softmax(student_r / T))` for
    /// `student`, `teacher` `[rows, classes]`; writes `dL/dstudent = scale * T / rows * (ps - pt)`
    /// (=|+= when `accumulate`) when `studentGradient` is non-nil.
    @discardableResult
    public static func softmaxKL(student: Tensor, teacher: Tensor, rows: Int, classes: Int, temperature: Float,
                                 scale: Float, studentGradient: inout Tensor?, accumulate: Bool) throws -> Float {
        let op = "lsk_softmax_kl"
        let n = try checkedProduct(op, rows, classes)
        try need(student, n, "student", op); try need(teacher, n, "teacher", op)
        if let studentGradient { try need(studentGradient, n, "studentGradient", op) }
        guard temperature > 0, temperature.isFinite else {
            throw KernelError.invalid(op, "temperature must be positive and finite, got \(temperature)")
        }
        var loss: Float = 0
        let pg = studentGradient?.mutablePointer
        try KernelError.check(lsk_softmax_kl(&loss, pg, student.pointer, teacher.pointer, rows, classes,
                                             temperature, scale, accumulate ? 1 : 0), op)
        return loss
    }

    // MARK: - Channel shuffle (lsk_shuffle.h)

    /// `y[b, k*g + i] = x[b, i*K + k]` over `[batch, channels, hw]` (K = channels / groups).
    public static func channelShuffleForward(output y: inout Tensor, input x: Tensor, batch: Int, channels: Int,
                                             hw: Int, groups: Int) throws {
        let op = "lsk_channel_shuffle_fwd"
        let n = try checkedProduct(op, batch, channels, hw)
        try nonNegative(op, groups)
        try need(x, n, "input", op); try need(y, n, "output", op)
        let p = y.mutablePointer
        try KernelError.check(lsk_channel_shuffle_fwd(p, x.pointer, batch, channels, hw, groups), op)
    }

    /// `dx (=|+=) unshuffle(dy)`, the backward of ``channelShuffleForward(output:input:batch:channels:hw:groups:)``.
    public static func channelShuffleBackward(inputGradient dx: inout Tensor, outputGradient dy: Tensor, batch: Int,
                                              channels: Int, hw: Int, groups: Int, accumulate: Bool) throws {
        let op = "lsk_channel_shuffle_bwd"
        let n = try checkedProduct(op, batch, channels, hw)
        try nonNegative(op, groups)
        try need(dy, n, "outputGradient", op); try need(dx, n, "inputGradient", op)
        let p = dx.mutablePointer
        try KernelError.check(lsk_channel_shuffle_bwd(p, dy.pointer, batch, channels, hw, groups, accumulate ? 1 : 0),
                              op)
    }

    /// `y = shuffle(concat(a, b), groups)`; `a [batch, ca, hw]`, `b [batch, cb, hw]`, `y [batch, ca + cb, hw]`.
    /// `groups: 1` is a plain channel concat.
    public static func concatShuffleForward(output y: inout Tensor, _ a: Tensor, _ b: Tensor, batch: Int, ca: Int,
                                            cb: Int, hw: Int, groups: Int) throws {
        let op = "lsk_concat_shuffle_fwd"
        let na = try checkedProduct(op, batch, ca, hw), nb = try checkedProduct(op, batch, cb, hw)
        try nonNegative(op, groups)
        try need(a, na, "a", op); try need(b, nb, "b", op); try need(y, na + nb, "output", op)
        let p = y.mutablePointer
        try KernelError.check(lsk_concat_shuffle_fwd(p, a.pointer, b.pointer, batch, ca, cb, hw, groups), op)
    }

    /// `(da, db) (=|+=) split(unshuffle(dy), [ca, cb])` (one `accumulate` for both).
    public static func concatShuffleBackward(aGradient da: inout Tensor, bGradient db: inout Tensor,
                                             outputGradient dy: Tensor, batch: Int, ca: Int, cb: Int, hw: Int,
                                             groups: Int, accumulate: Bool) throws {
        let op = "lsk_concat_shuffle_bwd"
        let na = try checkedProduct(op, batch, ca, hw), nb = try checkedProduct(op, batch, cb, hw)
        try nonNegative(op, groups)
        try need(da, na, "aGradient", op); try need(db, nb, "bGradient", op); try need(dy, na + nb, "outputGradient", op)
        let (pa, pb) = (da.mutablePointer, db.mutablePointer)
        try KernelError.check(lsk_concat_shuffle_bwd(pa, pb, dy.pointer, batch, ca, cb, hw, groups, accumulate ? 1 : 0),
                              op)
    }

    /// `(y1, y2) = split(shuffle(x, groups), [c1, c2])`. `groups: 1` is a plain channel split.
    public static func shuffleSplitForward(_ y1: inout Tensor, _ y2: inout Tensor, input x: Tensor, batch: Int,
                                           c1: Int, c2: Int, hw: Int, groups: Int) throws {
        let op = "lsk_shuffle_split_fwd"
        let n1 = try checkedProduct(op, batch, c1, hw), n2 = try checkedProduct(op, batch, c2, hw)
        try nonNegative(op, groups)
        try need(y1, n1, "y1", op); try need(y2, n2, "y2", op); try need(x, n1 + n2, "input", op)
        let (p1, p2) = (y1.mutablePointer, y2.mutablePointer)
        try KernelError.check(lsk_shuffle_split_fwd(p1, p2, x.pointer, batch, c1, c2, hw, groups), op)
    }

    /// `dx (=|+=) unshuffle(concat(dy1, dy2))`, the backward of ``shuffleSplitForward(_:_:input:batch:c1:c2:hw:groups:)``.
    public static func shuffleSplitBackward(inputGradient dx: inout Tensor, _ dy1: Tensor, _ dy2: Tensor, batch: Int,
                                            c1: Int, c2: Int, hw: Int, groups: Int, accumulate: Bool) throws {
        let op = "lsk_shuffle_split_bwd"
        let n1 = try checkedProduct(op, batch, c1, hw), n2 = try checkedProduct(op, batch, c2, hw)
        try nonNegative(op, groups)
        try need(dy1, n1, "dy1", op); try need(dy2, n2, "dy2", op); try need(dx, n1 + n2, "inputGradient", op)
        let p = dx.mutablePointer
        try KernelError.check(lsk_shuffle_split_bwd(p, dy1.pointer, dy2.pointer, batch, c1, c2, hw, groups,
                                                    accumulate ? 1 : 0), op)
    }
}
