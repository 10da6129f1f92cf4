"""PyTorch peer of tools/bench/bench_gemm.c: the same SGEMM shapes, C = op(A) op(B).

Kernel and shape strings match lsk_bench exactly ("sgemm", "<ta><tb> MxNxK"). Storage is
the C bench's: op(A) = A^T means A is stored [K, M] and passed as a.t(), op(B) = B^T means
B is stored [N, K] and passed as b.t(); torch.mm writes into a preallocated out=.
"""

SHAPES = [
    ("NN", 512, 512, 512),
    ("NN", 2048, 2048, 2048),
    ("NT", 512, 512, 512),
    ("TN", 512, 512, 512),
    ("NN", 32, 256, 288),
    ("NN", 64, 64, 576),
    ("NN", 16, 1024, 144),
]


def cases(torch, only=""):
    for tr, m, n, k in SHAPES:
        a = torch.rand(k, m) * 2 - 1 if tr[0] == "T" else torch.rand(m, k) * 2 - 1
        b = torch.rand(n, k) * 2 - 1 if tr[1] == "T" else torch.rand(k, n) * 2 - 1
        c = torch.empty(m, n)
        opa = a.t() if tr[0] == "T" else a
        opb = b.t() if tr[1] == "T" else b

        def fn(opa=opa, opb=opb, c=c):
            with torch.no_grad():
                torch.mm(opa, opb, out=c)

        yield "sgemm", f"{tr} {m}x{n}x{k}", fn
