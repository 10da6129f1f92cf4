"""PyTorch peers of tools/bench/bench_nn.c (memory-bound NN kernels): same kernel and shape strings.

Each fn runs the same work once, at PyTorch's best: preallocated tensors and out= where the op has
it, channels_last where that layout is faster on this CPU (batch-norm, global average pooling,
max-pool forward), torch.no_grad() for forward-only ops, aten backward ops called directly.
"""


def cases(torch, only=""):
    F = torch.nn.functional
    aten = torch.ops.aten
    cl = torch.channels_last

    # --- eltwise on (256, 32, 16, 16) ---
    x = torch.randn(256, 32, 16, 16)
    y = torch.empty_like(x)
    dy = torch.randn_like(x)
    dx = torch.empty_like(x)
    torch.clamp_min(x, 0, out=y)

    def relu_fwd():
        with torch.no_grad():
            torch.clamp_min(x, 0, out=y)  # torch.relu has no out=; same kernel

    def relu_bwd():
        aten.threshold_backward.grad_input(dy, y, 0, grad_input=dx)

    def add():
        with torch.no_grad():
            torch.add(x, dy, out=y)

    yield "relu_fwd", "256x32x16x16", relu_fwd
    yield "relu_bwd", "256x32x16x16", relu_bwd
    yield "add", "256x32x16x16", add

    # --- batch-norm training forward / backward (channels_last: 3x faster than NCHW here) ---
    for (n, c, h) in [(256, 32, 16), (256, 16, 32)]:
        shape = f"{n}x{c}x{h}x{h}"
        bx = torch.randn(n, c, h, h).contiguous(memory_format=cl)
        by = torch.empty_like(bx)
        bdy = torch.randn(n, c, h, h).contiguous(memory_format=cl)
        w, b = torch.rand(c), torch.rand(c)
        rm, rv = torch.zeros(c), torch.ones(c)
        sm, si = torch.empty(c), torch.empty(c)
        aten.native_batch_norm.out(bx, w, b, rm, rv, True, 0.1, 1e-5, out=by, save_mean=sm, save_invstd=si)

        def bn_fwd(bx=bx, by=by, w=w, b=b, rm=rm, rv=rv, sm=sm, si=si):
            aten.native_batch_norm.out(bx, w, b, rm, rv, True, 0.1, 1e-5, out=by, save_mean=sm, save_invstd=si)

        def bn_bwd(bx=bx, bdy=bdy, w=w, rm=rm, rv=rv, sm=sm, si=si):
            aten.native_batch_norm_backward(bdy, bx, w, rm, rv, sm, si, True, 1e-5, [True, True, True])

        yield "batchnorm_train_fwd", shape, bn_fwd
        yield "batchnorm_bwd", shape, bn_bwd

    # --- global average pooling (256, 64, 8x8) ---
    gx = torch.randn(256, 64, 8, 8)
    gxc = gx.contiguous(memory_format=cl)
    gdy = torch.randn(256, 64, 1, 1)

    def gap_fwd():
        with torch.no_grad():
            F.adaptive_avg_pool2d(gxc, 1)

    def gap_bwd():
        aten._adaptive_avg_pool2d_backward(gdy, gx)

    yield "global_avgpool_fwd", "256x64x8x8", gap_fwd
    yield "global_avgpool_bwd", "256x64x8x8", gap_bwd

    # --- max pool 3x3 stride 2 pad 1 with indices, (256, 64, 32x32) ---
    mx = torch.randn(256, 64, 32, 32)
    mxc = mx.contiguous(memory_format=cl)  # forward: 10x faster than NCHW here
    with torch.no_grad():
        my, midx = F.max_pool2d(mx, 3, 2, 1, return_indices=True)
    mdy = torch.randn_like(my)

    def maxpool_fwd():
        with torch.no_grad():
            F.max_pool2d(mxc, 3, 2, 1, return_indices=True)

    def maxpool_bwd():  # NCHW backward is faster than channels_last here
        aten.max_pool2d_with_indices_backward(mdy, mx, [3, 3], [2, 2], [1, 1], [1, 1], False, midx)

    yield "maxpool2d_fwd", "256x64x32x32 k3s2p1", maxpool_fwd
    yield "maxpool2d_bwd", "256x64x32x32 k3s2p1", maxpool_bwd

    # --- softmax cross-entropy with soft targets, temperature 3, loss + dlogits ---
    for (r, c) in [(256, 100), (256, 400), (1024, 400), (256, 4000)]:
        logits = (torch.rand(r, c) * 20 - 10).requires_grad_()
        tgt = torch.rand(r, c)
        tgt /= tgt.sum(1, keepdim=True)

        def xent(logits=logits, tgt=tgt):
            loss = F.cross_entropy(logits / 3.0, tgt)
            torch.autograd.grad(loss, logits)

        yield "softmax_xent", f"{r}x{c} T3", xent

    # --- fused softmax-KL (distillation), temperature 3, loss + dstudent ---
    for (r, c) in [(256, 400), (1024, 400), (256, 100), (256, 4000)]:
        student = (torch.rand(r, c) * 20 - 10).requires_grad_()
        teacher = student.detach() + torch.rand(r, c) * 6 - 3

        def kl(student=student, teacher=teacher):
            T = 3.0
            loss = F.kl_div(F.log_softmax(student / T, 1), F.softmax(teacher / T, 1), reduction="batchmean") * T * T
            torch.autograd.grad(loss, student)

        yield "softmax_kl", f"{r}x{c} T3", kl

    # --- the remaining entry points (see bench_misc in bench_nn.c) ---
    v = torch.randn(703000)
    vx, vv, vg = torch.randn(703000), torch.zeros(703000), torch.randn(703000)
    param = torch.nn.Parameter(torch.randn(703000))
    param.grad = vg
    opt = torch.optim.SGD([param], lr=0.05, momentum=0.9, weight_decay=5e-4, nesterov=True, foreach=False)
    opt.step()

    def axpy():
        v.add_(vx, alpha=0.5)

    def scale():
        v.mul_(0.999)

    def fill():
        v.fill_(0.0)

    def sgd_step():
        opt.step()

    yield "axpy", "703000", axpy
    yield "scale", "703000", scale
    yield "fill", "703000", fill
    yield "sgd_step", "703000", sgd_step

    ex = torch.randn(256, 32, 16, 16)
    exc = ex.contiguous(memory_format=cl)
    ew, eb, erm, erv = torch.rand(32), torch.rand(32), torch.zeros(32), torch.ones(32)

    def bn_eval():
        with torch.no_grad():
            F.batch_norm(exc, erm, erv, ew, eb, False, 0.1, 1e-5)

    def avgpool_fwd():
        with torch.no_grad():
            F.avg_pool2d(exc, 2, 2)

    ady = torch.randn(256, 32, 8, 8)

    def avgpool_bwd():
        aten.avg_pool2d_backward(ady, ex, [2, 2], [2, 2], [0, 0], False, True, None)

    yield "batchnorm_eval_fwd", "256x32x16x16", bn_eval
    yield "avgpool2d_fwd", "256x32x16x16 k2s2", avgpool_fwd
    yield "avgpool2d_bwd", "256x32x16x16 k2s2", avgpool_bwd

    sl = torch.randn(256, 400)
    so = torch.empty(256, 400)

    def softmax_fwd():
        torch.softmax(sl, 1, out=so)

    yield "softmax_fwd", "256x400", softmax_fwd

    lx = torch.randn(256, 64, requires_grad=True)
    lw = torch.randn(100, 64, requires_grad=True)
    lb = torch.randn(100, requires_grad=True)
    ldy = torch.randn(256, 100)

    def linear_fwd():
        with torch.no_grad():
            F.linear(lx, lw, lb)

    def linear_bwd():
        y = F.linear(lx, lw, lb)
        torch.autograd.grad(y, [lx, lw, lb], ldy)

    yield "linear_fwd", "256x64->100", linear_fwd
    yield "linear_bwd", "256x64->100", linear_bwd
