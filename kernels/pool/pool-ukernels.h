/*
 * Pooling family internals: plane geometry, scratch layout and the microkernel table (one
 * per ISA) used by kernels/ops/pool.c. Not installed.
 *
 * Every microkernel processes `planes` consecutive NCHW planes (x plane p at
 * x + p*in_h*in_w, y plane p at y + p*out_h*out_w). Microkernels
 * lsk_f32_<op>_ukernel_<tile>__<isa> come from the template f32-pool.h, instantiated in
 * f32-pool-<isa>.c; single-threaded, allocation-free (windowed kernels get a scratch
 * buffer of lsk_pool_scratch_floats() floats, 64-byte aligned, from the operator).
 *
 * Windowed pooling, vectorised over output columns for any stride: each input row is first
 * split into `stride_w` phase rows, phase[r][j] = xpad[j*stride_w + r] (xpad = the row with
 * `pad_w` padding values on each side), so the input of output column ow at window column
 * kw is phase[kw % stride_w][ow + kw / stride_w]: contiguous in ow for every kw. Padding is
 * -inf for max pooling (never selected) and 0 for average pooling (count_include_pad).
 * The backward of average pooling accumulates into phase rows the same way and interleaves
 * them back into dx rows.
 */
#ifndef LSK_POOL_UKERNELS_H
#define LSK_POOL_UKERNELS_H

#include <stddef.h>
#include <stdint.h>

typedef struct lsk_pool_geom {
    size_t in_h, in_w, out_h, out_w;
    size_t k_h, k_w, s_h, s_w, p_h, p_w;
    size_t ph_len;  /* floats per phase row: out_w rounded up to 16 + (k_w - 1) / s_w */
    size_t ow_pad;  /* out_w rounded up to 16 (int32 column tables) */
} lsk_pool_geom;

/* Scratch of a windowed microkernel, in floats: two int32 column tables of ow_pad entries,
 * one padded input row of s_w*ph_len (+32 slack for whole-vector deinterleaving), then the
 * phase rows of one plane (in_h * s_w * ph_len). */
#define LSK_POOL_ROW_SLACK 32
static inline size_t lsk_pool_scratch_floats(const lsk_pool_geom *g) {
    return 2 * g->ow_pad + g->s_w * g->ph_len + LSK_POOL_ROW_SLACK + g->in_h * g->s_w * g->ph_len;
}
static inline float *lsk_pool_scratch_rows(const lsk_pool_geom *g, float *scratch) {
    return scratch + 2 * g->ow_pad + g->s_w * g->ph_len + LSK_POOL_ROW_SLACK;
}

typedef struct lsk_pool_ukernels {
    /* y[p] = scale * sum(x[p, 0..hw))                             lsk_f32_gavgpool_ukernel_* */
    void (*gavgpool)(size_t planes, size_t hw, const float *x, float *y, float scale);
    /* dx[p, 0..hw) (=|+=) scale * dy[p]                           lsk_f32_gavgpool_bwd_ukernel_* */
    void (*gavgpool_bwd)(size_t planes, size_t hw, const float *dy, float *dx, float scale, int accumulate);
    /* max over each window, argmax = flat in-plane index of the first maximum (row-major
     * window order; NaN wins as in PyTorch); all -inf window -> its first valid position.
     *                                                             lsk_f32_maxpool_ukernel_* */
    void (*maxpool)(size_t planes, const lsk_pool_geom *g, const float *x, float *y, int32_t *argmax,
                    float *scratch);
    /* dx (=|+=) scatter of dy to argmax; indices outside the plane are skipped and counted
     * (the return value), so bad indices never write out of bounds. lsk_f32_maxpool_bwd_ukernel_* */
    size_t (*maxpool_bwd)(size_t planes, const lsk_pool_geom *g, const float *dy, const int32_t *argmax,
                          float *dx, int accumulate);
    /* y = sum over the window (padding counts as 0) / (k_h*k_w)   lsk_f32_avgpool_ukernel_* */
    void (*avgpool)(size_t planes, const lsk_pool_geom *g, const float *x, float *y, float *scratch);
    /* dx (=|+=) sum over the windows covering each input of dy / (k_h*k_w)
     *                                                             lsk_f32_avgpool_bwd_ukernel_* */
    void (*avgpool_bwd)(size_t planes, const lsk_pool_geom *g, const float *dy, float *dx, int accumulate,
                        float *scratch);
} lsk_pool_ukernels;

extern const lsk_pool_ukernels lsk_pool_ukernels__scalar;
#if defined(__x86_64__)
extern const lsk_pool_ukernels lsk_pool_ukernels__avx2;
extern const lsk_pool_ukernels lsk_pool_ukernels__avx512;
#endif
#if defined(__aarch64__)
extern const lsk_pool_ukernels lsk_pool_ukernels__neon;
#endif

#endif
