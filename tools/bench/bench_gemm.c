/*
 * SGEMM benchmarks: square NN at 512^3 and 2048^3 (the peak-fraction targets of
 * docs/gemm.md), the transposed variants NT/TN at 512^3 (backward passes), and the
 * per-image shapes of the conv layers (im2col GEMM: M = Cout, N = H*W, K = Cin*9).
 * Shape string: "<ta><tb> MxNxK"; C = A B with alpha = 1, beta = 0; FLOPs = 2 M N K.
 * PyTorch peer: tools/bench/peers/gemm.py (same kernel and shape strings).
 */
#include <stdio.h>
#include "bench.h"

typedef struct gemm_bench {
    lsk_transpose ta, tb;
    size_t m, n, k;
    float *a, *b, *c;
} gemm_bench;

static void run_sgemm(void *p) {
    gemm_bench *g = (gemm_bench *)p;
    const size_t lda = g->ta ? g->m : g->k, ldb = g->tb ? g->k : g->n;
    lsk_sgemm(g->ta, g->tb, g->m, g->n, g->k, 1.0f, g->a, lda, g->b, ldb, 0.0f, g->c, g->n);
}

void lsk_bench_gemm(const lsk_bopts *o) {
    static const struct { lsk_transpose ta, tb; size_t m, n, k; } shapes[] = {
        {LSK_NO_TRANS, LSK_NO_TRANS, 512, 512, 512},
        {LSK_NO_TRANS, LSK_NO_TRANS, 2048, 2048, 2048},
        {LSK_NO_TRANS, LSK_TRANS, 512, 512, 512},
        {LSK_TRANS, LSK_NO_TRANS, 512, 512, 512},
        {LSK_NO_TRANS, LSK_NO_TRANS, 32, 256, 288},  /* conv 32->32 ch, 16x16 map */
        {LSK_NO_TRANS, LSK_NO_TRANS, 64, 64, 576},   /* conv 64->64 ch, 8x8 map */
        {LSK_NO_TRANS, LSK_NO_TRANS, 16, 1024, 144}, /* conv 16->16 ch, 32x32 map */
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        gemm_bench g = {shapes[i].ta, shapes[i].tb, shapes[i].m, shapes[i].n, shapes[i].k, NULL, NULL, NULL};
        g.a = lsk_balloc(g.m * g.k);
        g.b = lsk_balloc(g.k * g.n);
        g.c = lsk_balloc(g.m * g.n);
        char shape[64];
        snprintf(shape, sizeof shape, "%c%c %zux%zux%zu", g.ta ? 'T' : 'N', g.tb ? 'T' : 'N', g.m, g.n, g.k);
        for (int ti = 0; ti < 4 && o->threads[ti] > 0; ti++)
            lsk_brun(o, "sgemm", shape, o->threads[ti], 2.0 * (double)g.m * (double)g.n * (double)g.k, 0, run_sgemm, &g);
        lsk_bfree(g.a);
        lsk_bfree(g.b);
        lsk_bfree(g.c);
    }
}
