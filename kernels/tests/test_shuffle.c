/*
 * Channel shuffle family vs the oracle (kernels/ref/shuffle_ref.c) on every ISA path,
 * threads 1 and 2: channel shuffle forward/backward, concat+shuffle and shuffle+split
 * forward/backward, accumulate 0/1, groups 1, 2, 3, 4, 8 and C, planes hw = 1..19 (every SIMD
 * tail of 4, 8 and 16 lanes), 64 and 67, batch 1..3, odd channel splits. Independent checks:
 * the documented permutation on a hand-written case (C = 6, g = 2 and 3), backward(forward(x))
 * = x, and the fused forms against the plain shuffle composed with an explicit concat/split.
 * The microkernels are also tested directly (every destination alignment: the streaming copy
 * has an aligned head), and one case per path is large enough for the streaming-store path
 * (LSK_SHUFFLE_NT_MIN_BYTES).
 * Tolerance: exact (rtol = atol = 0). The kernels only move floats, and the accumulating
 * backward adds one float to another, as the oracle does, so every result is bit-identical.
 * Outputs start as NaN (lsk_talloc) and carry a guard word after their end.
 */
#include <stdio.h>
#include <string.h>
#include "harness.h"
#include "../shuffle/shuffle-ukernels.h"

#define GUARD 777.0f

static float *alloc_out(size_t n) {
    float *p = lsk_talloc(n + 1);
    p[n] = GUARD;
    return p;
}

static void fill_acc(lsk_tctx *t, float *a, float *b, size_t n, int acc) {
    if (!acc) return; /* keep the NaN prefill: every word must be written */
    lsk_trand_fill(t, a, n, -1.0f, 1.0f);
    memcpy(b, a, n * sizeof(float));
}

static void check_shape(lsk_tctx *t, size_t batch, size_t c1, size_t c2, size_t hw, size_t g, const char *isa,
                        int thr) {
    const size_t C = c1 + c2, n = batch * C * hw, n1 = batch * c1 * hw, n2 = batch * c2 * hw;
    char what[200];
    float *x = lsk_talloc(n), *a = lsk_talloc(n1 + 1), *b = lsk_talloc(n2 + 1);
    float *y = alloc_out(n), *yr = alloc_out(n), *y1 = alloc_out(n1), *y1r = alloc_out(n1);
    float *y2 = alloc_out(n2), *y2r = alloc_out(n2);
    lsk_trand_fill(t, x, n, -1.0f, 1.0f);
    lsk_trand_fill(t, a, n1, -1.0f, 1.0f);
    lsk_trand_fill(t, b, n2, -1.0f, 1.0f);
#define SHAPE_WHAT(op, acc)                                                                                   \
    snprintf(what, sizeof what, "%s b=%zu c=%zu+%zu hw=%zu g=%zu acc=%d %s thr=%d", op, batch, c1, c2, hw, g, \
             acc, isa, thr)
#define GUARDS_OK() (y[n] == GUARD && y1[n1] == GUARD && y2[n2] == GUARD)
    /* plain shuffle over all C channels */
    SHAPE_WHAT("channel_shuffle_fwd", 0);
    lsk_tcheck(t, lsk_channel_shuffle_fwd(y, x, batch, C, hw, g) == LSK_OK, what);
    lsk_ref_channel_shuffle_fwd(yr, x, batch, C, hw, g);
    lsk_tcheck_close(t, what, y, yr, n, 0.0f, 0.0f);
    lsk_tcheck(t, GUARDS_OK(), what);
    for (int acc = 0; acc <= 1; acc++) {
        float *dx = alloc_out(n), *dxr = alloc_out(n);
        fill_acc(t, dx, dxr, n, acc);
        SHAPE_WHAT("channel_shuffle_bwd", acc);
        lsk_tcheck(t, lsk_channel_shuffle_bwd(dx, y, batch, C, hw, g, acc) == LSK_OK, what);
        lsk_ref_channel_shuffle_bwd(dxr, y, batch, C, hw, g, acc);
        lsk_tcheck_close(t, what, dx, dxr, n, 0.0f, 0.0f);
        lsk_tcheck(t, dx[n] == GUARD, what);
        if (!acc) lsk_tcheck_close(t, "channel_shuffle_bwd(fwd(x)) == x", dx, x, n, 0.0f, 0.0f);
        lsk_tfree(dx), lsk_tfree(dxr);
    }
    /* concat(a, b) + shuffle == shuffle of the explicit concat */
    SHAPE_WHAT("concat_shuffle_fwd", 0);
    float *cat = lsk_talloc(n);
    for (size_t bi = 0; bi < batch; bi++) {
        memcpy(cat + bi * C * hw, a + bi * c1 * hw, c1 * hw * sizeof(float));
        memcpy(cat + (bi * C + c1) * hw, b + bi * c2 * hw, c2 * hw * sizeof(float));
    }
    lsk_tcheck(t, lsk_concat_shuffle_fwd(y, a, b, batch, c1, c2, hw, g) == LSK_OK, what);
    lsk_ref_concat_shuffle_fwd(yr, a, b, batch, c1, c2, hw, g);
    lsk_tcheck_close(t, what, y, yr, n, 0.0f, 0.0f);
    lsk_ref_channel_shuffle_fwd(yr, cat, batch, C, hw, g);
    lsk_tcheck_close(t, "concat_shuffle_fwd == shuffle(concat)", y, yr, n, 0.0f, 0.0f);
    lsk_tcheck(t, GUARDS_OK(), what);
    for (int acc = 0; acc <= 1; acc++) {
        fill_acc(t, y1, y1r, n1, acc);
        fill_acc(t, y2, y2r, n2, acc);
        SHAPE_WHAT("concat_shuffle_bwd", acc);
        lsk_tcheck(t, lsk_concat_shuffle_bwd(y1, y2, x, batch, c1, c2, hw, g, acc) == LSK_OK, what);
        lsk_ref_concat_shuffle_bwd(y1r, y2r, x, batch, c1, c2, hw, g, acc);
        lsk_tcheck_close(t, what, y1, y1r, n1, 0.0f, 0.0f);
        lsk_tcheck_close(t, what, y2, y2r, n2, 0.0f, 0.0f);
        lsk_tcheck(t, GUARDS_OK(), what);
    }
    /* shuffle + split == split of the plain shuffle */
    SHAPE_WHAT("shuffle_split_fwd", 0);
    lsk_tcheck(t, lsk_shuffle_split_fwd(y1, y2, x, batch, c1, c2, hw, g) == LSK_OK, what);
    lsk_ref_shuffle_split_fwd(y1r, y2r, x, batch, c1, c2, hw, g);
    lsk_tcheck_close(t, what, y1, y1r, n1, 0.0f, 0.0f);
    lsk_tcheck_close(t, what, y2, y2r, n2, 0.0f, 0.0f);
    lsk_ref_channel_shuffle_fwd(yr, x, batch, C, hw, g);
    for (size_t bi = 0; bi < batch; bi++) {
        lsk_tcheck_close(t, "shuffle_split_fwd == split(shuffle) (y1)", y1 + bi * c1 * hw, yr + bi * C * hw, c1 * hw,
                         0.0f, 0.0f);
        lsk_tcheck_close(t, "shuffle_split_fwd == split(shuffle) (y2)", y2 + bi * c2 * hw, yr + (bi * C + c1) * hw,
                         c2 * hw, 0.0f, 0.0f);
    }
    lsk_tcheck(t, GUARDS_OK(), what);
    for (int acc = 0; acc <= 1; acc++) {
        float *dx = alloc_out(n), *dxr = alloc_out(n);
        fill_acc(t, dx, dxr, n, acc);
        SHAPE_WHAT("shuffle_split_bwd", acc);
        lsk_tcheck(t, lsk_shuffle_split_bwd(dx, a, b, batch, c1, c2, hw, g, acc) == LSK_OK, what);
        lsk_ref_shuffle_split_bwd(dxr, a, b, batch, c1, c2, hw, g, acc);
        lsk_tcheck_close(t, what, dx, dxr, n, 0.0f, 0.0f);
        lsk_tcheck(t, dx[n] == GUARD, what);
        lsk_tfree(dx), lsk_tfree(dxr);
    }
#undef SHAPE_WHAT
#undef GUARDS_OK
    lsk_tfree(x), lsk_tfree(a), lsk_tfree(b), lsk_tfree(y), lsk_tfree(yr), lsk_tfree(y1), lsk_tfree(y1r);
    lsk_tfree(y2), lsk_tfree(y2r), lsk_tfree(cat);
}

/* The permutation itself, written out: C = 6, hw = 2, x[c] = (c, c + 0.5). */
static void check_known(lsk_tctx *t) {
    static const int want_g2[6] = {0, 3, 1, 4, 2, 5}, want_g3[6] = {0, 2, 4, 1, 3, 5};
    float x[12], y[12];
    for (int c = 0; c < 6; c++) x[2 * c] = (float)c, x[2 * c + 1] = (float)c + 0.5f;
    for (int gi = 0; gi < 2; gi++) {
        const int *want = gi ? want_g3 : want_g2;
        lsk_tcheck(t, lsk_channel_shuffle_fwd(y, x, 1, 6, 2, gi ? 3 : 2) == LSK_OK, "channel_shuffle_fwd known case");
        int ok = 1;
        for (int c = 0; c < 6; c++) ok &= y[2 * c] == (float)want[c] && y[2 * c + 1] == (float)want[c] + 0.5f;
        lsk_tcheck(t, ok, gi ? "channel_shuffle_fwd C=6 g=3 is [0 2 4 1 3 5]" : "channel_shuffle_fwd C=6 g=2 is [0 3 1 4 2 5]");
    }
    /* ShuffleNetV2 end of unit: concat(a, b) + shuffle(2) interleaves a and b */
    float a[3] = {10, 11, 12}, b[3] = {20, 21, 22}, z[6];
    lsk_tcheck(t, lsk_concat_shuffle_fwd(z, a, b, 1, 3, 3, 1, 2) == LSK_OK, "concat_shuffle_fwd known case");
    lsk_tcheck(t, z[0] == 10 && z[1] == 20 && z[2] == 11 && z[3] == 21 && z[4] == 12 && z[5] == 22,
               "concat_shuffle_fwd(a, b, g=2) interleaves a and b");
    /* zero-size calls are valid and touch nothing */
    lsk_tcheck(t, lsk_channel_shuffle_fwd(NULL, NULL, 0, 6, 2, 2) == LSK_OK, "channel_shuffle_fwd batch=0");
    lsk_tcheck(t, lsk_concat_shuffle_fwd(z, a, NULL, 1, 3, 0, 1, 3) == LSK_OK && z[0] == 10 && z[1] == 11,
               "concat_shuffle_fwd with an empty part (NULL)");
}

/* The active path's microkernels: copy, copy_nt and vacc for n = 1..67 (every vector tail and
 * head length) and around 1 KiB planes, the destination at every float offset modulo 64 bytes
 * (the streaming copy stores ordinarily up to a 64-byte boundary, then streams), the source
 * misaligned independently, prefetch distance 0 and 8 KiB; a guard word on each side. */
static void check_ukernels(lsk_tctx *t, const char *isa) {
    enum { MAXN = 1031, PAD = 32 };
    static const size_t big[] = {255, 256, 257, 1024, 1031};
    const lsk_shuffle_ukernels *uk = lsk_shuffle_get_ukernels(lsk_get_isa());
    float *x = lsk_talloc(MAXN + PAD), *buf = lsk_talloc(MAXN + PAD), *want = lsk_talloc(MAXN);
    lsk_trand_fill(t, x, MAXN + PAD, -1.0f, 1.0f);
    int failures = 0, cases = 0;
    char msg[160];
    for (size_t ni = 0; ni < 67 + sizeof big / sizeof big[0]; ni++) {
        const size_t n = ni < 67 ? ni + 1 : big[ni - 67];
        for (size_t off = 0; off < 16; off++)
            for (int kind = 0; kind < 3; kind++) { /* 0 copy, 1 copy_nt, 2 vacc */
                const float *src = x + (off * 7 + n) % PAD;
                float *y = buf + 1 + off; /* y[-1] and y[n] are guards */
                const size_t prefetch = (n + off) % 2 ? 8192 : 0;
                for (size_t i = 0; i < n + 2; i++) buf[off + i] = GUARD;
                if (kind == 2) lsk_trand_fill(t, y, n, -1.0f, 1.0f);
                for (size_t i = 0; i < n; i++) want[i] = kind == 2 ? y[i] + src[i] : src[i];
                if (kind == 0) uk->copy(n, src, y, prefetch);
                else if (kind == 1) uk->copy_nt(n, src, y, prefetch), uk->store_fence();
                else uk->vacc(n, src, y);
                int ok = y[-1] == GUARD && y[n] == GUARD;
                for (size_t i = 0; i < n; i++) ok &= y[i] == want[i];
                cases++;
                if (!ok && failures++ < 5) {
                    snprintf(msg, sizeof msg, "shuffle ukernel %s %s n=%zu dst offset %zu floats prefetch=%zu",
                             kind == 0 ? "copy" : kind == 1 ? "copy_nt" : "vacc", isa, n, off, prefetch);
                    lsk_tcheck(t, 0, msg);
                }
            }
    }
    if (!failures) {
        snprintf(msg, sizeof msg, "%d shuffle ukernel cases %s", cases, isa);
        lsk_tcheck(t, 1, msg);
    }
    lsk_tfree(x), lsk_tfree(buf), lsk_tfree(want);
}

void lsk_test_shuffle(lsk_tctx *t) {
    check_known(t);
    LSK_FOR_EACH_ISA(isa) {
        const char *name = lsk_isa_name((lsk_isa)isa);
        check_ukernels(t, name);
        for (int thr = 1; thr <= 2; thr++) {
            lsk_set_num_threads(thr);
            for (size_t hw = 1; hw <= 19; hw++) /* every tail length of 4-, 8- and 16-lane vectors */
                check_shape(t, 1 + hw % 3, 3 + hw % 4, 5 + hw % 4, hw, 1 + hw % 2, name, thr);
            static const size_t cs[][3] = {{6, 6, 2}, {6, 6, 3}, {6, 6, 4}, {8, 8, 8}, {5, 7, 4}, {3, 9, 12},
                                           {58, 58, 2}, {4, 4, 1}, {7, 2, 3}, {0, 8, 4}, {8, 0, 2}};
            static const size_t hws[] = {16, 64, 67, 7};
            for (size_t k = 0; k < sizeof cs / sizeof cs[0]; k++)
                for (size_t h = 0; h < sizeof hws / sizeof hws[0]; h++)
                    check_shape(t, 1 + (k + h) % 3, cs[k][0], cs[k][1], hws[h], cs[k][2], name, thr);
            /* large enough to run on 2 threads (>= 32768 elements) */
            check_shape(t, 4, 58, 58, 81, 2, name, thr);
            check_shape(t, 3, 120, 120, 64, 3, name, thr);
            check_shape(t, 3, 40, 24, 300, 1, name, thr);  /* identity: whole-run copies */
            check_shape(t, 2, 24, 40, 300, 64, name, thr); /* g = C: identity too */
            /* streaming-store path: 6 channels, odd planes (unaligned, so every plane has an
             * ordinary head and tail), groups 2, 3 and 1 (identity) over the paths and threads */
            const size_t big_hw = LSK_SHUFFLE_NT_MIN_BYTES / sizeof(float) / 12 + 3;
            check_shape(t, 2, 3, 3, big_hw, 1 + (size_t)(isa + thr) % 3, name, thr);
        }
    }
    lsk_set_num_threads(0);
}
