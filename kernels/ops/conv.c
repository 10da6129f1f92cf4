/*
 * 2-D convolution entry points (include/lsk_conv.h): argument validation and the
 * algorithm choice (lsk_conv_choose_algo), then dispatch to one of the algorithms:
 * im2col + GEMM (conv-gemm.c), Winograd F(4x4,3x3) (winograd.c) and the direct depthwise
 * kernel (dwconv.c). See docs/conv.md for the design and the measured numbers.
 */
#include <stdlib.h>
#include <string.h>
#include "../conv/conv-internal.h"
#include "../dwconv/dwconv-internal.h"

/* Fills g from d after checking every contract of lsk_conv2d_desc (sizes, divisibility,
 * padded input >= kernel, no size_t overflow of any tensor or workspace size). */
static lsk_status conv_geom_init(const lsk_conv2d_desc *d, lsk_conv_geom *g) {
    LSK_CHECK(d != NULL);
    LSK_CHECK(d->in_channels >= 1 && d->in_height >= 1 && d->in_width >= 1 && d->out_channels >= 1);
    LSK_CHECK(d->kernel_h >= 1 && d->kernel_w >= 1 && d->stride_h >= 1 && d->stride_w >= 1);
    LSK_CHECK(d->groups >= 1 && d->in_channels % d->groups == 0 && d->out_channels % d->groups == 0);
    size_t ph2, pw2, hp, wp;
    LSK_CHECK(lsk_mul_ok(d->pad_h, 2, &ph2) && lsk_mul_ok(d->pad_w, 2, &pw2));
    hp = d->in_height + ph2;
    wp = d->in_width + pw2;
    LSK_CHECK(hp >= d->in_height && wp >= d->in_width); /* no wrap-around */
    LSK_CHECK(hp >= d->kernel_h && wp >= d->kernel_w);
    g->d = *d;
    g->ho = (hp - d->kernel_h) / d->stride_h + 1;
    g->wo = (wp - d->kernel_w) / d->stride_w + 1;
    g->cin_g = d->in_channels / d->groups;
    g->cout_g = d->out_channels / d->groups;
    /* Every product the kernels form: tensor sizes (times the batch), the GEMM depth and
     * the im2col workspace of the forward pass and of the transposed backward pass. */
    size_t t;
    LSK_CHECK(lsk_mul_ok(d->in_height, d->in_width, &g->hw_in));
    LSK_CHECK(lsk_mul_ok(g->ho, g->wo, &g->hw_out));
    LSK_CHECK(lsk_mul_ok(d->kernel_h, d->kernel_w, &g->kk));
    LSK_CHECK(lsk_mul_ok(g->cin_g, g->kk, &g->k));
    LSK_CHECK(lsk_mul_ok(d->out_channels, g->k, &g->w_size));
    LSK_CHECK(lsk_mul_ok(g->w_size, sizeof(float), &t));
    LSK_CHECK(lsk_mul_ok(d->in_channels, g->hw_in, &t) && lsk_mul_ok(t, d->batch, &t) && lsk_mul_ok(t, sizeof(float), &t));
    LSK_CHECK(lsk_mul_ok(d->out_channels, g->hw_out, &t) && lsk_mul_ok(t, d->batch, &t) && lsk_mul_ok(t, sizeof(float), &t));
    LSK_CHECK(lsk_mul_ok(g->k, g->hw_out, &t) && lsk_mul_ok(t, d->batch, &t) && lsk_mul_ok(t, sizeof(float), &t));
    LSK_CHECK(lsk_mul_ok(g->cout_g, g->kk, &t) && lsk_mul_ok(t, g->hw_in, &t) && lsk_mul_ok(t, d->batch, &t) &&
              lsk_mul_ok(t, sizeof(float), &t));
    return LSK_OK;
}

lsk_status lsk_conv2d_output_size(const lsk_conv2d_desc *d, size_t *out_height, size_t *out_width) {
    LSK_CHECK(out_height != NULL && out_width != NULL);
    lsk_conv_geom g;
    const lsk_status s = conv_geom_init(d, &g);
    if (s != LSK_OK) return s;
    *out_height = g.ho;
    *out_width = g.wo;
    return LSK_OK;
}

/*
 * The algorithm choice, per shape and pass (one place for every rule):
 *  - 3x3, stride 1, groups 1, all three passes (bwd_data: pad <= 2): Winograd F(4x4,3x3)
 *    (ops/winograd.c) where winograd_pays (measured rule below), or everywhere it applies
 *    with LSK_CONV_ALGO=winograd; LSK_CONV_ALGO=gemm never picks it.
 *  - depthwise (groups == in_channels == out_channels), 3x3 or 5x5, stride 1 or 2 (equal),
 *    pad <= kernel - 1: the direct depthwise kernel, all three passes
 *    (lsk_conv_depthwise_applies; after Winograd, which needs groups == 1, so the two only
 *    meet at one channel, where Winograd's rule declines unless forced by the policy).
 *  - 1x1, stride 1, pad 0: plain GEMMs on the images themselves (no im2col).
 *  - bwd_data with stride 1 and pad <= kernel - 1: a forward convolution of dy with the
 *    spatially flipped, channel-transposed kernel and padding kernel - 1 - pad. Same FLOPs
 *    as GEMM + col2im, but the GEMM depth is cout_g*kh*kw instead of cout_g, and the
 *    scatter-add of col2im (a read-modify-write of dx per kernel tap) becomes an im2col write.
 *  - otherwise im2col + GEMM (bwd_data: GEMM into columns, then col2im).
 */
/* Winograd policy: LSK_CONV_ALGO from the environment on first use, then lsk_conv_set_policy. */
static int g_policy = -1;

void lsk_conv_set_policy(lsk_conv_policy policy) { g_policy = (int)policy; }

lsk_conv_policy lsk_conv_get_policy(void) {
    if (g_policy < 0) {
        const char *env = getenv("LSK_CONV_ALGO");
        g_policy = env && strcmp(env, "gemm") == 0       ? LSK_CONV_POLICY_GEMM
                   : env && strcmp(env, "winograd") == 0 ? LSK_CONV_POLICY_WINOGRAD
                                                         : LSK_CONV_POLICY_AUTO;
    }
    return (lsk_conv_policy)g_policy;
}

/* Winograd F(4x4,3x3) vs (transposed) im2col+GEMM for a 3x3 stride-1 layer (fwd, and
 * bwd_data, whose transposed problem swaps cin and cout), from the paired table in
 * docs/conv.md ("Winograd", choice rule; batch 256, maps 8x8..32x32, one thread, both
 * algorithms alternated in one run):
 *  - min(cin, cout) >= 16: Winograd (Winograd / GEMM time 0.39-0.62 from 24 channels up;
 *    16 channels: fwd 0.58-0.86, bwd_data 0.62-1.02);
 *  - fewer channels: GEMM (8 channels: 1.10-1.38, the RGB stem 3->16: 1.26-1.29): per tile
 *    and channel, the gather/scatter and the transforms cost about as much as the 4x fewer
 *    multiply-adds save when the GEMMs are this thin;
 *  - output maps below 8x8 stay on GEMM (not measured; a partial 4x4 tile wastes up to 3/4
 *    of its work there). */
/* The weight gradient follows the same rule: Winograd / GEMM time mostly 0.45-0.72 from
 * 32 channels up (single noisy runs up to 1.00, one round 1.73) and 0.74-1.29 at 16
 * channels, a tie within the host's noise (docs/conv.md, "Winograd weight gradient vs
 * GEMM"). */
/* Small batches (inference): the tile GEMMs have one column per 4x4 tile of the batch, so
 * below one vector of columns (16 tiles: batch 1 on 8x8 maps has 4) the GEMM tile computes
 * mostly padding and the 4x larger transformed filters are read for little work; there
 * im2col + GEMM wins (batch 1, one thread, Zen 5: 64ch 8x8 GEMM 0.054 vs Winograd 0.081 ms,
 * 128ch 0.188 vs 0.266 ms, and 0.20 vs 0.85 ms inside the whole wrn_16_2 graph, where the
 * filters no longer stay in cache; 16 tiles, batch 4 on 8x8: Winograd 0.083 vs 0.216 ms —
 * `lsk_bench convinfer`, docs/model-format.md). */
static int winograd_pays(const lsk_conv_geom *g, lsk_conv_pass pass) {
    const lsk_conv2d_desc *d = &g->d;
    (void)pass;
    const size_t tiles = d->batch * ((g->ho + 3) / 4) * ((g->wo + 3) / 4);
    return LSK_MIN(d->in_channels, d->out_channels) >= 16 && g->ho >= 8 && g->wo >= 8 && tiles >= 16;
}

/* Direct depthwise kernel (ops/dwconv.c), every pass: groups == in_channels ==
 * out_channels (channel multiplier 1), square 3x3 or 5x5 kernel, equal strides 1 or 2,
 * padding <= kernel - 1 on each axis (unequal pads allowed). Memory-bound: one read and
 * one write of each plane per pass instead of a kh*kw-row im2col and per-channel 1-row
 * GEMMs (docs/conv.md, "Depthwise"). */
int lsk_conv_depthwise_applies(const lsk_conv_geom *g) {
    const lsk_conv2d_desc *d = &g->d;
    return d->groups == d->in_channels && d->groups == d->out_channels && d->kernel_h == d->kernel_w &&
           (d->kernel_h == 3 || d->kernel_h == 5) && d->stride_h == d->stride_w &&
           (d->stride_h == 1 || d->stride_h == 2) && d->pad_h < d->kernel_h && d->pad_w < d->kernel_w;
}

lsk_conv_algo lsk_conv_choose_algo(const lsk_conv_geom *g, lsk_conv_pass pass) {
    const lsk_conv2d_desc *d = &g->d;
    const int unit_stride = d->stride_h == 1 && d->stride_w == 1;
    const lsk_conv_policy policy = lsk_conv_get_policy();
    if (policy != LSK_CONV_POLICY_GEMM && lsk_conv_winograd_applies(g, pass) &&
        (policy == LSK_CONV_POLICY_WINOGRAD || winograd_pays(g, pass)))
        return LSK_CONV_ALGO_WINOGRAD_F4X4;
    if (lsk_conv_depthwise_applies(g)) return LSK_CONV_ALGO_DEPTHWISE_DIRECT;
    if (d->kernel_h == 1 && d->kernel_w == 1 && unit_stride && d->pad_h == 0 && d->pad_w == 0)
        return LSK_CONV_ALGO_GEMM_1X1;
    if (pass == LSK_CONV_BWD_DATA && unit_stride && d->pad_h < d->kernel_h && d->pad_w < d->kernel_w)
        return LSK_CONV_ALGO_TRANSPOSED_GEMM;
    return LSK_CONV_ALGO_IM2COL_GEMM;
}

/* The forward pass of a validated geometry; u: prepared Winograd filters or NULL. */
static lsk_status conv_fwd(const lsk_conv_geom *g, float *y, const float *x, const float *w, const float *u,
                           const float *b, const lsk_conv_epilogue *ep) {
    const lsk_conv_algo algo = lsk_conv_choose_algo(g, LSK_CONV_FWD);
    if (algo == LSK_CONV_ALGO_WINOGRAD_F4X4)
        return u ? lsk_conv_winograd_fwd_prepared(g, y, x, u, b, ep) : lsk_conv_winograd_fwd(g, y, x, w, b, ep);
    if (algo == LSK_CONV_ALGO_DEPTHWISE_DIRECT) return lsk_dwconv_fwd(g, y, x, w, b, ep);
    return lsk_conv_gemm_fwd(g, algo, y, x, w, b, ep);
}

lsk_status lsk_conv2d_fwd(const lsk_conv2d_desc *d, float *y, const float *x, const float *w, const float *b) {
    lsk_conv_geom g;
    const lsk_status s = conv_geom_init(d, &g);
    if (s != LSK_OK) return s;
    LSK_CHECK(y != NULL && x != NULL && w != NULL);
    if (d->batch == 0) return LSK_OK;
    return conv_fwd(&g, y, x, w, NULL, b, NULL);
}

lsk_status lsk_conv2d_fwd_prepared(const lsk_conv2d_desc *d, float *y, const float *x, const float *w, const float *u,
                                   const float *b, const lsk_conv_epilogue *ep) {
    lsk_conv_geom g;
    const lsk_status s = conv_geom_init(d, &g);
    if (s != LSK_OK) return s;
    LSK_CHECK(y != NULL && x != NULL && w != NULL);
    LSK_CHECK(ep == NULL || ep->relu == 0 || ep->relu == 1);
    if (d->batch == 0) return LSK_OK;
    return conv_fwd(&g, y, x, w, u, b, ep);
}

int lsk_conv_winograd_may_pay(const lsk_conv2d_desc *d) {
    if (lsk_conv_get_policy() == LSK_CONV_POLICY_GEMM) return 0;
    lsk_conv2d_desc big = *d;
    big.batch = 1024; /* enough tiles for any map the shape rule accepts */
    lsk_conv_geom g;
    return conv_geom_init(&big, &g) == LSK_OK && lsk_conv_winograd_applies(&g, LSK_CONV_FWD) &&
           (lsk_conv_get_policy() == LSK_CONV_POLICY_WINOGRAD || winograd_pays(&g, LSK_CONV_FWD));
}

lsk_status lsk_conv2d_bwd_data(const lsk_conv2d_desc *d, float *dx, const float *dy, const float *w, int accumulate) {
    lsk_conv_geom g;
    const lsk_status s = conv_geom_init(d, &g);
    if (s != LSK_OK) return s;
    LSK_CHECK(dx != NULL && dy != NULL && w != NULL);
    LSK_CHECK(accumulate == 0 || accumulate == 1);
    if (d->batch == 0) return LSK_OK;
    const lsk_conv_algo algo = lsk_conv_choose_algo(&g, LSK_CONV_BWD_DATA);
    if (algo == LSK_CONV_ALGO_WINOGRAD_F4X4) return lsk_conv_winograd_bwd_data(&g, dx, dy, w, accumulate != 0);
    if (algo == LSK_CONV_ALGO_DEPTHWISE_DIRECT) return lsk_dwconv_bwd_data(&g, dx, dy, w, accumulate != 0);
    return lsk_conv_gemm_bwd_data(&g, algo, dx, dy, w, accumulate != 0);
}

lsk_status lsk_conv2d_bwd(const lsk_conv2d_desc *d, float *dx, float *dw, float *db, const float *dy,
                          const float *x, const float *w, int accumulate_dx, int accumulate_dw) {
    lsk_conv_geom g;
    const lsk_status s = conv_geom_init(d, &g);
    if (s != LSK_OK) return s;
    LSK_CHECK(dx != NULL || dw != NULL);
    LSK_CHECK(dy != NULL && (dx == NULL || w != NULL) && (dw == NULL || x != NULL) && (db == NULL || dw != NULL));
    LSK_CHECK((accumulate_dx == 0 || accumulate_dx == 1) && (accumulate_dw == 0 || accumulate_dw == 1));
    if (d->batch > 0 && dw && lsk_conv_choose_algo(&g, LSK_CONV_BWD_WEIGHT) == LSK_CONV_ALGO_DEPTHWISE_DIRECT &&
        (!dx || lsk_conv_choose_algo(&g, LSK_CONV_BWD_DATA) == LSK_CONV_ALGO_DEPTHWISE_DIRECT))
        return lsk_dwconv_bwd(&g, dx, dw, db, dy, x, w, accumulate_dx, accumulate_dw);
    lsk_status st = LSK_OK;
    if (dx) st = lsk_conv2d_bwd_data(d, dx, dy, w, accumulate_dx);
    if (st == LSK_OK && dw) st = lsk_conv2d_bwd_weight(d, dw, db, dy, x, accumulate_dw);
    return st;
}

lsk_status lsk_conv2d_bwd_weight(const lsk_conv2d_desc *d, float *dw, float *db, const float *dy, const float *x,
                                 int accumulate) {
    lsk_conv_geom g;
    const lsk_status s = conv_geom_init(d, &g);
    if (s != LSK_OK) return s;
    LSK_CHECK(dw != NULL && dy != NULL && x != NULL);
    LSK_CHECK(accumulate == 0 || accumulate == 1);
    if (d->batch == 0) { /* an empty sum: zero gradients unless accumulating */
        if (!accumulate) {
            for (size_t i = 0; i < g.w_size; i++) dw[i] = 0.0f;
            if (db) for (size_t i = 0; i < d->out_channels; i++) db[i] = 0.0f;
        }
        return LSK_OK;
    }
    const lsk_conv_algo algo = lsk_conv_choose_algo(&g, LSK_CONV_BWD_WEIGHT);
    if (algo == LSK_CONV_ALGO_WINOGRAD_F4X4) return lsk_conv_winograd_bwd_weight(&g, dw, db, dy, x, accumulate != 0);
    if (algo == LSK_CONV_ALGO_DEPTHWISE_DIRECT) return lsk_dwconv_bwd_weight(&g, dw, db, dy, x, accumulate != 0);
    return lsk_conv_gemm_bwd_weight(&g, algo, dw, db, dy, x, accumulate != 0);
}
