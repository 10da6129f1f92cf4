"""PyTorch peers of tools/bench/bench_shuffle.c (channel shuffle): same kernel and shape strings.

PyTorch has no out= channel shuffle, so each fn copies a permuted view into a preallocated output
(the same single read + write the C kernels do; F.channel_shuffle would also allocate):
  shuffle:   y.view(N, K, g, HW).copy_(x.view(N, g, K, HW).transpose(1, 2))
  backward:  the inverse view, dx.view(N, g, K, HW).copy_(dy.view(N, K, g, HW).transpose(1, 2))
  concat+shuffle (g = 2): y.view(N, K, 2, HW)[:, :, 0] <- a, [:, :, 1] <- b
  shuffle+split  (g = 2): the shuffle into one buffer, then chunk(2, 1) (views)
"copy" is y.copy_(x) on the same tensor.
"""


def cases(torch, only=""):
    for (n, c, h, g) in [(256, 116, 16, 2), (256, 240, 16, 2), (256, 240, 16, 3)]:
        shape = f"{n}x{c}x{h}x{h} g{g}"
        hw, k = h * h, c // g
        x = torch.randn(n, c, h, h)
        y = torch.empty_like(x)

        def copy(x=x, y=y):
            y.copy_(x)

        def fwd(x=x, y=y, n=n, g=g, k=k, hw=hw):
            y.view(n, k, g, hw).copy_(x.view(n, g, k, hw).transpose(1, 2))

        def bwd(x=x, y=y, n=n, g=g, k=k, hw=hw):
            y.view(n, g, k, hw).copy_(x.view(n, k, g, hw).transpose(1, 2))

        yield "copy", shape, copy
        yield "channel_shuffle_fwd", shape, fwd
        yield "channel_shuffle_bwd", shape, bwd
        if g == 2:
            a = torch.randn(n, c // 2, h, h)
            b = torch.randn(n, c // 2, h, h)

            def concat_shuffle(a=a, b=b, y=y, n=n, k=k, hw=hw):
                yv = y.view(n, k, 2, hw)
                yv[:, :, 0].copy_(a.view(n, k, hw))
                yv[:, :, 1].copy_(b.view(n, k, hw))

            def shuffle_split(x=x, y=y, n=n, g=g, k=k, hw=hw):
                y.view(n, k, g, hw).copy_(x.view(n, g, k, hw).transpose(1, 2))
                return y.chunk(2, 1)

            yield "concat_shuffle_fwd", shape, concat_shuffle
            yield "shuffle_split_fwd", shape, shuffle_split
