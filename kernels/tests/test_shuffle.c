/*
 * Channel shuffle family vs the oracle (kernels/ref/shuffle_ref.c) on every ISA path,
 * threads 1 and 2: channel shuffle forward/backward, concat+shuffle and shuffle+split
 * forward/backward, accumulate 0/1, groups 1, 2, 3, 4, 8 and C, planes hw = 1..19 (every SIMD
 * tail of 4, 8 and 16 lanes), 64 and 67, batch 1..3, odd channel splits. Independent checks:
 * the documented permutation on a hand-written case (C = 6, g = 2 and 3), backward(forward(x))
 * = x, and the fused forms against the plain shuffle composed with an explicit concat/split.
 * Tolerance: exact (rtol = atol = 0). The kernels only move floats, and the accumulating
 * backward adds one float to another, as the oracle does, so every result is bit-identical.
 * Outputs start as NaN (lsk_talloc) and carry a guard word after their end.
 */
#include <stdio.h>
#include <string.h>
#include "harness.h"

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

void lsk_test_shuffle(lsk_tctx *t) {
    check_known(t);
    LSK_FOR_EACH_ISA(isa) {
        const char *name = lsk_isa_name((lsk_isa)isa);
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
        }
    }
    lsk_set_num_threads(0);
}
