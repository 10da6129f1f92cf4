/*
 * Tests for the conv family (include/lsk_conv.h): lsk_conv2d_fwd / bwd_data / bwd_weight
 * against the lsk_ref_conv2d_* oracles on every ISA path and 1 and 2 threads, over
 * kernels 1x1, 3x3, 5x5, 1x3, 3x2, strides 1/2/3 (also unequal), paddings 0..3, groups
 * 1/2/3 and depthwise, odd/prime sizes, batch 1..3, with and without bias, accumulate 0/1;
 * plus descriptor validation and batch 0.
 *
 * Tolerance: conv_check.h (the per-case check shared with test_dwconv.c).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "conv_check.h"

typedef struct conv_case {
    size_t batch, cin, h, w, cout, kh, kw, sh, sw, ph, pw, groups;
} conv_case;

/* Fixed cases: every feature the brief asks for, at sizes that run quickly under qemu. */
static const conv_case k_cases[] = {
    /* batch cin  h   w cout kh kw sh sw ph pw groups */
    {2, 3, 7, 5, 4, 1, 1, 1, 1, 0, 0, 1},     /* 1x1: direct GEMM path, batched (small map) */
    {2, 3, 16, 17, 4, 1, 1, 1, 1, 0, 0, 1},   /* 1x1, one image per GEMM (>= 256 pixels) */
    {3, 4, 7, 5, 6, 1, 1, 2, 2, 0, 0, 1},     /* 1x1 stride 2: im2col + col2im */
    {2, 4, 5, 6, 6, 1, 1, 1, 1, 0, 0, 2},     /* 1x1, groups 2 */
    {3, 3, 7, 5, 13, 3, 3, 1, 1, 1, 1, 1},    /* 3x3 pad 1, prime sizes */
    {3, 3, 17, 16, 5, 3, 3, 1, 1, 1, 1, 1},   /* 3x3 pad 1, one image per GEMM */
    {1, 13, 9, 11, 5, 3, 3, 2, 2, 1, 1, 1},   /* 3x3 stride 2, batch 1 */
    /* batch-1 inference shapes above the split limit (512K FMAs): each image's output cut
     * over 2 threads by rows (im2col) or channels (1x1) */
    {1, 64, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1},   /* resnet20's last stage (GEMM: 4 tiles) */
    {1, 37, 9, 11, 61, 3, 3, 2, 2, 1, 1, 1},  /* stride 2, odd sizes */
    {1, 58, 16, 16, 61, 1, 1, 1, 1, 0, 0, 1}, /* 1x1: channel ranges, 61 = 7*8 + 5 */
    {2, 4, 7, 5, 3, 5, 5, 1, 1, 2, 2, 1},     /* 5x5 pad 2 */
    {3, 2, 11, 13, 4, 5, 5, 3, 3, 2, 2, 1},   /* 5x5 stride 3 */
    {3, 5, 6, 7, 7, 1, 3, 1, 1, 0, 1, 1},     /* 1x3 */
    {2, 3, 9, 8, 4, 3, 2, 1, 2, 2, 0, 1},     /* 3x2, strides 1x2, pads 2x0 */
    {3, 4, 8, 8, 6, 3, 3, 1, 1, 1, 1, 2},     /* groups 2 */
    {2, 6, 9, 7, 9, 3, 3, 2, 1, 0, 1, 3},     /* groups 3, unequal stride */
    {3, 5, 7, 6, 5, 3, 3, 1, 1, 1, 1, 5},     /* depthwise */
    {2, 4, 8, 9, 4, 3, 3, 2, 2, 1, 1, 4},     /* depthwise stride 2 */
    {2, 3, 3, 4, 2, 3, 4, 1, 1, 0, 0, 1},     /* kernel == input: 1x1 output */
    {2, 3, 5, 5, 4, 3, 3, 1, 1, 2, 2, 1},     /* pad == kernel - 1 */
    {1, 2, 4, 5, 3, 3, 3, 1, 1, 3, 3, 1},     /* pad > kernel - 1: stride-1 col2im path */
    {3, 2, 2, 3, 3, 3, 3, 1, 1, 1, 1, 1},     /* image smaller than the kernel, padded */
    {1, 1, 3, 133, 2, 3, 3, 1, 1, 1, 1, 1},   /* wide rows: > 8 AVX-512 chunks per row */
    {1, 2, 2, 261, 1, 1, 3, 1, 1, 0, 1, 1},   /* wider than the AVX2 mask table: scalar */
    {1, 1, 128, 120, 2, 3, 3, 1, 1, 1, 1, 1}, /* columns > 512 KiB: bands of output rows */
    {1, 3, 97, 131, 2, 3, 3, 2, 1, 1, 1, 1},  /* bands of unequal height, stride 2x1 */
};


static void run_case(lsk_tctx *t, const conv_case *c, int idx) {
    const lsk_conv2d_desc d = {c->batch, c->cin, c->h, c->w, c->cout, c->kh, c->kw,
                               c->sh, c->sw, c->ph, c->pw, c->groups};
    lsk_tconv_check_case(t, &d, idx, 0);
}

/* A random valid descriptor with small sizes. */
static conv_case random_case(lsk_tctx *t) {
    conv_case c;
    static const size_t k_groups[] = {1, 1, 1, 2, 3};
    c.groups = k_groups[lsk_trand_range(t, 0, 4)];
    c.cin = c.groups * lsk_trand_range(t, 1, 4);
    c.cout = c.groups * lsk_trand_range(t, 1, 4);
    c.batch = lsk_trand_range(t, 1, 3);
    c.kh = lsk_trand_range(t, 1, 5);
    c.kw = lsk_trand_range(t, 1, 5);
    c.sh = lsk_trand_range(t, 1, 3);
    c.sw = lsk_trand_range(t, 1, 3);
    c.ph = lsk_trand_range(t, 0, 2);
    c.pw = lsk_trand_range(t, 0, 2);
    c.h = lsk_trand_range(t, 1, 12);
    c.w = lsk_trand_range(t, 1, 12);
    if (c.h + 2 * c.ph < c.kh) c.h = c.kh;
    if (c.w + 2 * c.pw < c.kw) c.w = c.kw;
    return c;
}

/* Descriptor validation: every bad input is rejected and no output is touched. */
static void test_invalid(lsk_tctx *t) {
    const lsk_conv2d_desc good = {2, 4, 6, 6, 4, 3, 3, 1, 1, 1, 1, 2};
    float buf[2 * 4 * 6 * 6];
    for (size_t i = 0; i < sizeof buf / sizeof buf[0]; i++) buf[i] = 0.5f;
    float out[2 * 4 * 6 * 6];
    size_t ho = 7, wo = 7;
    struct { const char *name; lsk_conv2d_desc d; } bad[8];
    int nbad = 0;
#define BAD(label, field, value) do { bad[nbad].name = label; bad[nbad].d = good; bad[nbad].d.field = value; nbad++; } while (0)
    BAD("zero stride_h", stride_h, 0);
    BAD("zero stride_w", stride_w, 0);
    BAD("in_channels not divisible by groups", groups, 3);
    BAD("zero groups", groups, 0);
    BAD("kernel taller than padded input", kernel_h, 9);
    BAD("zero in_channels", in_channels, 0);
    BAD("zero kernel_w", kernel_w, 0);
    BAD("padding overflows", pad_w, (size_t)-1 / 2 + 1);
#undef BAD
    char what[160];
    for (int i = 0; i < nbad; i++) {
        for (size_t j = 0; j < sizeof out / sizeof out[0]; j++) out[j] = 1.25f;
        const lsk_conv2d_desc *d = &bad[i].d;
        int rejected = lsk_conv2d_output_size(d, &ho, &wo) == LSK_ERR_INVALID_ARGUMENT && ho == 7 && wo == 7;
        rejected = rejected && lsk_conv2d_fwd(d, out, buf, buf, buf) == LSK_ERR_INVALID_ARGUMENT;
        rejected = rejected && lsk_conv2d_bwd_data(d, out, buf, buf, 0) == LSK_ERR_INVALID_ARGUMENT;
        rejected = rejected && lsk_conv2d_bwd_weight(d, out, out, buf, buf, 0) == LSK_ERR_INVALID_ARGUMENT;
        rejected = rejected && lsk_ref_conv2d_fwd(d, out, buf, buf, buf) == LSK_ERR_INVALID_ARGUMENT;
        int untouched = 1;
        for (size_t j = 0; j < sizeof out / sizeof out[0]; j++) untouched &= out[j] == 1.25f;
        snprintf(what, sizeof what, "rejects %s", bad[i].name);
        lsk_tcheck(t, rejected && untouched, what);
    }
    {
        lsk_conv2d_desc d = good;
        d.out_channels = 5; /* out_channels not divisible by groups */
        lsk_tcheck(t, lsk_conv2d_fwd(&d, out, buf, buf, NULL) == LSK_ERR_INVALID_ARGUMENT,
                   "rejects out_channels not divisible by groups");
    }
    lsk_tcheck(t, lsk_conv2d_output_size(NULL, &ho, &wo) == LSK_ERR_INVALID_ARGUMENT, "rejects NULL descriptor");
    lsk_tcheck(t, lsk_conv2d_output_size(&good, NULL, &wo) == LSK_ERR_INVALID_ARGUMENT, "rejects NULL out_height");
    lsk_tcheck(t, lsk_conv2d_fwd(NULL, out, buf, buf, NULL) == LSK_ERR_INVALID_ARGUMENT, "fwd rejects NULL descriptor");
    lsk_tcheck(t, lsk_conv2d_fwd(&good, NULL, buf, buf, NULL) == LSK_ERR_INVALID_ARGUMENT, "fwd rejects NULL y");
    lsk_tcheck(t, lsk_conv2d_fwd(&good, out, NULL, buf, NULL) == LSK_ERR_INVALID_ARGUMENT, "fwd rejects NULL x");
    lsk_tcheck(t, lsk_conv2d_fwd(&good, out, buf, NULL, NULL) == LSK_ERR_INVALID_ARGUMENT, "fwd rejects NULL w");
    lsk_tcheck(t, lsk_conv2d_bwd_data(&good, NULL, buf, buf, 0) == LSK_ERR_INVALID_ARGUMENT, "bwd_data rejects NULL dx");
    lsk_tcheck(t, lsk_conv2d_bwd_data(&good, out, NULL, buf, 0) == LSK_ERR_INVALID_ARGUMENT, "bwd_data rejects NULL dy");
    lsk_tcheck(t, lsk_conv2d_bwd_data(&good, out, buf, NULL, 0) == LSK_ERR_INVALID_ARGUMENT, "bwd_data rejects NULL w");
    lsk_tcheck(t, lsk_conv2d_bwd_weight(&good, NULL, out, buf, buf, 0) == LSK_ERR_INVALID_ARGUMENT,
               "bwd_weight rejects NULL dw");
    lsk_tcheck(t, lsk_conv2d_bwd_weight(&good, out, out, NULL, buf, 0) == LSK_ERR_INVALID_ARGUMENT,
               "bwd_weight rejects NULL dy");
    lsk_tcheck(t, lsk_conv2d_bwd_weight(&good, out, out, buf, NULL, 0) == LSK_ERR_INVALID_ARGUMENT,
               "bwd_weight rejects NULL x");
    lsk_tcheck(t, lsk_conv2d_output_size(&good, &ho, &wo) == LSK_OK && ho == 6 && wo == 6, "valid descriptor accepted");

    /* Batch 0: nothing to compute; the weight gradient of an empty batch is zero. */
    lsk_conv2d_desc d0 = good;
    d0.batch = 0;
    for (size_t j = 0; j < sizeof out / sizeof out[0]; j++) out[j] = 1.25f;
    lsk_tcheck(t, lsk_conv2d_fwd(&d0, out, buf, buf, buf) == LSK_OK && out[0] == 1.25f, "batch 0 fwd is a no-op");
    float dw[4 * 2 * 3 * 3], db[4];
    for (size_t j = 0; j < sizeof dw / sizeof dw[0]; j++) dw[j] = 1.0f;
    for (size_t j = 0; j < 4; j++) db[j] = 1.0f;
    int zero = lsk_conv2d_bwd_weight(&d0, dw, db, buf, buf, 0) == LSK_OK;
    for (size_t j = 0; j < sizeof dw / sizeof dw[0]; j++) zero &= dw[j] == 0.0f;
    for (size_t j = 0; j < 4; j++) zero &= db[j] == 0.0f;
    lsk_tcheck(t, zero, "batch 0 bwd_weight acc=0 zeroes dw and db");
}

void lsk_test_conv(lsk_tctx *t) {
    test_invalid(t);
    const int nfixed = (int)(sizeof k_cases / sizeof k_cases[0]);
    for (int i = 0; i < nfixed; i++) run_case(t, &k_cases[i], i);
    for (int i = 0; i < 8; i++) {
        const conv_case c = random_case(t);
        run_case(t, &c, nfixed + i);
    }
}
