"""PyTorch peer of tools/bench/bench_conv.c (same kernel and shape strings).

Each case runs the same work as the C kernel, at PyTorch's best: forward with
torch.nn.functional.conv2d under no_grad; backward with torch.ops.aten.convolution_backward
(output_mask picks data, weight+bias, or all three); fwd_bwd = forward + one backward call
computing all three gradients. Both contiguous NCHW and channels_last tensors are tried and
the faster layout (timed here, at the thread count the driver has set) is the one returned.
Depthwise shapes (dwconv*) run with groups = channels.
"""
import time

# (kernel name prefix, batch, in_channels, size, out_channels, kernel, stride, pad): bench_conv.c
SHAPES = [
    ("conv3x3", 256, 16, 32, 16, 3, 1, 1), ("conv3x3", 256, 32, 16, 32, 3, 1, 1),
    ("conv3x3", 256, 64, 8, 64, 3, 1, 1), ("conv3x3", 256, 32, 32, 32, 3, 1, 1),
    ("conv3x3", 256, 64, 16, 64, 3, 1, 1), ("conv3x3", 256, 128, 8, 128, 3, 1, 1),
    ("conv1x1", 256, 64, 8, 128, 1, 1, 0), ("conv3x3s2", 256, 32, 16, 64, 3, 2, 1),
    # depthwise 3x3 pad 1 (groups = channels): bench_conv.c's dwconv3x3* shapes
    ("dwconv3x3", 256, 96, 32, 96, 3, 1, 1), ("dwconv3x3s2", 256, 96, 32, 96, 3, 2, 1),
    ("dwconv3x3", 256, 144, 16, 144, 3, 1, 1), ("dwconv3x3s2", 256, 144, 16, 144, 3, 2, 1),
    ("dwconv3x3", 256, 192, 8, 192, 3, 1, 1), ("dwconv3x3", 256, 116, 16, 116, 3, 1, 1),
    ("dwconv3x3s2", 256, 116, 16, 116, 3, 2, 1), ("dwconv3x3", 256, 232, 8, 232, 3, 1, 1),
    ("dwconv3x3", 256, 58, 32, 58, 3, 1, 1),
]


def _quick_time(fn, reps=3):
    fn()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _fns(torch, n, cin, h, cout, k, stride, pad, channels_last, groups=1):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, cin, h, h, generator=g) * 2 - 1
    w = torch.rand(cout, cin // groups, k, k, generator=g) * 2 - 1
    b = torch.rand(cout, generator=g) * 2 - 1
    ho = (h + 2 * pad - k) // stride + 1
    dy = torch.rand(n, cout, ho, ho, generator=g) * 2 - 1
    if channels_last:
        x, w, dy = (t.contiguous(memory_format=torch.channels_last) for t in (x, w, dy))
    conv_bwd = torch.ops.aten.convolution_backward
    st, pd, dil = [stride, stride], [pad, pad], [1, 1]

    def fwd():
        with torch.no_grad():
            torch.nn.functional.conv2d(x, w, b, stride=stride, padding=pad, groups=groups)

    def bwd_data():
        conv_bwd(dy, x, w, None, st, pd, dil, False, [0, 0], groups, [True, False, False])

    def bwd_weight():
        conv_bwd(dy, x, w, [cout], st, pd, dil, False, [0, 0], groups, [False, True, True])

    def fwd_bwd():
        fwd()
        conv_bwd(dy, x, w, [cout], st, pd, dil, False, [0, 0], groups, [True, True, True])

    def bwd():
        conv_bwd(dy, x, w, [cout], st, pd, dil, False, [0, 0], groups, [True, True, True])

    return {"fwd": fwd, "bwd_data": bwd_data, "bwd_weight": bwd_weight, "bwd": bwd, "fwd_bwd": fwd_bwd}


def cases(torch, only=""):
    for name, n, cin, h, cout, k, stride, pad in SHAPES:
        shape = f"{n}x{cin}x{h}x{h}->{cout}"
        if only and not (name.startswith(only) or only.startswith(name)):
            continue  # no kernel of this shape can match the prefix
        groups = cin if name.startswith("dwconv") else 1
        layouts = [_fns(torch, n, cin, h, cout, k, stride, pad, cl, groups) for cl in (False, True)]
        for pass_name in ("fwd", "bwd_data", "bwd_weight", "bwd", "fwd_bwd"):
            fns = [lay[pass_name] for lay in layouts]
            best = min(fns, key=_quick_time)
            yield f"{name}_{pass_name}", shape, best
            if name == "conv3x3" and pass_name in ("fwd", "bwd_data", "bwd_weight"):  # bench_conv.c's forced names
                for algo in ("wino", "gemm"):
                    yield f"{name}{algo}_{pass_name}", shape, best
