/*
 * Tests for the direct depthwise convolution (LSK_CONV_ALGO_DEPTHWISE_DIRECT,
 * kernels/ops/dwconv.c + kernels/dwconv/): lsk_conv2d_fwd / bwd_data / bwd_weight on
 * depthwise descriptors (groups == in_channels == out_channels) against the
 * lsk_ref_conv2d_* oracles, on every ISA path and 1 and 2 threads: 3x3 and 5x5, stride 1
 * and 2, paddings 0..kernel-1 (also unequal), heights 1..37, widths 1..17, 31, 33, 65
 * (every SIMD tail of 4/8/16-float vectors and of the 2-vector deinterleave), channels
 * 1..7 and 16/32/96, batch 1..3, with and without bias / db, accumulate 0/1, outputs large
 * enough for the streaming stores of the 3x3 pad-1 row kernels; plus random
 * shapes, the algorithm choice itself, and bitwise equality of bwd_weight between 1 and 2
 * threads (the channel split makes it independent of the thread count).
 *
 * Tolerance: conv_check.h (the check shared with test_conv.c). A wrong tap, a shifted row
 * or phase, a missed image or a lost bias changes an element by a whole term (~0.1..1), far
 * above the bound (~1e-6 relative for fwd/bwd_data); outputs start as NaN.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "conv_check.h"
#include "../conv/conv-internal.h"

typedef struct dw_case {
    size_t batch, c, h, w, k, s, ph, pw;
} dw_case;

static size_t out_dim(size_t in, size_t k, size_t s, size_t p) { return (in + 2 * p - k) / s + 1; }

static lsk_conv2d_desc case_desc(const dw_case *c) {
    const lsk_conv2d_desc d = {c->batch, c->c, c->h, c->w, c->c, c->k, c->k, c->s, c->s, c->ph, c->pw, c->c};
    return d;
}

/* The geometry lsk_conv_choose_algo reads, as the entry points fill it. */
static lsk_conv_geom case_geom(const lsk_conv2d_desc *d) {
    lsk_conv_geom g;
    memset(&g, 0, sizeof g);
    g.d = *d;
    g.ho = out_dim(d->in_height, d->kernel_h, d->stride_h, d->pad_h);
    g.wo = out_dim(d->in_width, d->kernel_w, d->stride_w, d->pad_w);
    g.hw_in = d->in_height * d->in_width;
    g.hw_out = g.ho * g.wo;
    g.cin_g = d->in_channels / d->groups;
    g.cout_g = d->out_channels / d->groups;
    g.kk = d->kernel_h * d->kernel_w;
    g.k = g.cin_g * g.kk;
    g.w_size = d->out_channels * g.k;
    return g;
}

static void run_case(lsk_tctx *t, const dw_case *c, int idx) {
    const lsk_conv2d_desc d = case_desc(c);
    char what[300], tag[200];
    snprintf(tag, sizeof tag, "case %d (%zux%zux%zux%zu k%zu s%zu p%zux%zu)", idx, c->batch, c->c, c->h, c->w, c->k,
             c->s, c->ph, c->pw);
    /* The shape must take the direct path in every pass (C = 1 is also Winograd's
     * territory when its policy forces it: skip the check then). */
    const lsk_conv_geom g = case_geom(&d);
    if (!(c->c == 1 && lsk_conv_get_policy() == LSK_CONV_POLICY_WINOGRAD)) {
        snprintf(what, sizeof what, "%s chooses DEPTHWISE_DIRECT", tag);
        lsk_tcheck(t, lsk_conv_choose_algo(&g, LSK_CONV_FWD) == LSK_CONV_ALGO_DEPTHWISE_DIRECT &&
                          lsk_conv_choose_algo(&g, LSK_CONV_BWD_DATA) == LSK_CONV_ALGO_DEPTHWISE_DIRECT &&
                          lsk_conv_choose_algo(&g, LSK_CONV_BWD_WEIGHT) == LSK_CONV_ALGO_DEPTHWISE_DIRECT,
                   what);
    }

    /* Every pass against the oracles (conv_check.h), and bwd_weight bitwise equal with 1 and
     * 2 threads: the channel split sums each channel's images in order whatever the count. */
    lsk_tconv_check_case(t, &d, idx, 1);
}

/* Shapes that are NOT depthwise-direct keep the other algorithms. */
static void test_choice_excludes(lsk_tctx *t) {
    static const lsk_conv2d_desc k_other[] = {
        /* batch c  h  w  cout kh kw sh sw ph pw groups */
        {2, 4, 8, 8, 8, 3, 3, 1, 1, 1, 1, 4},  /* channel multiplier 2 */
        {2, 4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 2},  /* grouped, not depthwise */
        {2, 4, 8, 8, 4, 1, 1, 1, 1, 0, 0, 4},  /* 1x1 depthwise */
        {2, 4, 8, 8, 4, 7, 7, 1, 1, 3, 3, 4},  /* 7x7 */
        {2, 4, 8, 8, 4, 3, 5, 1, 1, 1, 2, 4},  /* not square */
        {2, 4, 9, 9, 4, 3, 3, 3, 3, 1, 1, 4},  /* stride 3 */
        {2, 4, 9, 9, 4, 3, 3, 1, 2, 1, 1, 4},  /* unequal strides */
        {2, 4, 8, 8, 4, 3, 3, 1, 1, 3, 1, 4},  /* pad > kernel - 1 */
    };
    for (size_t i = 0; i < sizeof k_other / sizeof k_other[0]; i++) {
        const lsk_conv_geom g = case_geom(&k_other[i]);
        char what[96];
        snprintf(what, sizeof what, "non-depthwise shape %zu keeps its algorithm", i);
        lsk_tcheck(t, lsk_conv_choose_algo(&g, LSK_CONV_FWD) != LSK_CONV_ALGO_DEPTHWISE_DIRECT &&
                          lsk_conv_choose_algo(&g, LSK_CONV_BWD_DATA) != LSK_CONV_ALGO_DEPTHWISE_DIRECT &&
                          lsk_conv_choose_algo(&g, LSK_CONV_BWD_WEIGHT) != LSK_CONV_ALGO_DEPTHWISE_DIRECT,
                   what);
    }
}

/* A random depthwise-direct shape: kernel 3/5, stride 1/2, pads <= k-1, small sizes. */
static dw_case random_case(lsk_tctx *t) {
    dw_case c;
    c.k = lsk_trand_range(t, 0, 1) ? 5 : 3;
    c.s = lsk_trand_range(t, 1, 2);
    c.ph = lsk_trand_range(t, 0, c.k - 1);
    c.pw = lsk_trand_range(t, 0, c.k - 1);
    c.batch = lsk_trand_range(t, 1, 3);
    c.c = lsk_trand_range(t, 1, 9);
    c.h = lsk_trand_range(t, 1, 24);
    c.w = lsk_trand_range(t, 1, 40);
    if (c.h + 2 * c.ph < c.k) c.h = c.k;
    if (c.w + 2 * c.pw < c.k) c.w = c.k;
    return c;
}

void lsk_test_dwconv(lsk_tctx *t) {
    test_choice_excludes(t);
    int idx = 0;
    /* Widths over every SIMD tail, for every kernel / stride / padding; heights walk
     * 1..37, channels 1..7 and batch 1..3 along the way. */
    static const size_t k_widths[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 31, 33, 65};
    static const size_t k_ks[] = {3, 5};
    size_t step = 0;
    for (size_t ki = 0; ki < 2; ki++)
        for (size_t s = 1; s <= 2; s++)
            for (size_t p = 0; p <= 2; p++)
                for (size_t wi = 0; wi < sizeof k_widths / sizeof k_widths[0]; wi++, step++) {
                    dw_case c;
                    c.k = k_ks[ki];
                    c.s = s;
                    c.ph = c.pw = p;
                    c.w = k_widths[wi];
                    c.h = 1 + (step * 7) % 37;
                    c.c = 1 + step % 7;
                    c.batch = 1 + step % 3;
                    if (c.w + 2 * p < c.k) continue; /* no output column: invalid descriptor */
                    if (c.h + 2 * p < c.k) c.h = c.k;
                    run_case(t, &c, idx++);
                }
    /* Pads up to kernel - 1 (3, 4 for 5x5), unequal pads, larger channel counts, the
     * benchmark's map sizes. */
    static const dw_case k_cases[] = {
        /* batch c  h   w  k s ph pw */
        {2, 3, 9, 11, 5, 1, 3, 4},   {2, 3, 12, 7, 5, 2, 4, 3},  {1, 5, 6, 13, 3, 1, 2, 0},
        {3, 2, 13, 6, 3, 2, 0, 2},   {2, 16, 8, 8, 3, 1, 1, 1},  {2, 32, 16, 16, 3, 2, 1, 1},
        {1, 96, 8, 8, 3, 1, 1, 1},   {2, 16, 32, 32, 3, 1, 1, 1}, {2, 16, 32, 32, 3, 2, 1, 1},
        {1, 7, 37, 33, 5, 2, 2, 2},  {1, 4, 2, 2, 5, 1, 4, 4},   {1, 3, 1, 1, 3, 2, 2, 2},
        /* outputs over LSK_DWCONV_NT_MIN_BYTES (12 MiB): the streaming stores, on aligned
         * rows (320) and on rows that are not (333, falling back to plain stores) */
        {4, 8, 320, 320, 3, 1, 1, 1}, {4, 8, 300, 333, 3, 1, 1, 1}, {4, 8, 320, 320, 3, 2, 1, 1},
        /* more images than one weight-gradient block (8): blocks split between threads */
        {19, 5, 9, 10, 3, 1, 1, 1},  {19, 3, 9, 10, 3, 2, 1, 1},
    };
    for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++) run_case(t, &k_cases[i], idx++);
    for (int i = 0; i < 12; i++) {
        const dw_case c = random_case(t);
        run_case(t, &c, idx++);
    }
}
