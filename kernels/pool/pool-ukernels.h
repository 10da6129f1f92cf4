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
 * Windowed pooling, vectorised over output columns for any stride: each input row is split
 * into `stride_w` phase rows, phase[r][M + q] = x[q*stride_w + r], with M = ceil(pad_w /
 * stride_w) padding slots in front and padding after the data (-inf for max pooling, never
 * selected; 0 for average pooling, count_include_pad). The input of output column ow at
 * window column kw (input column ow*s + kw - pad) is then phase[u % s][u / s + ow] with
 * u = kw + s*M - pad >= 0: contiguous in ow for every kw. Stride 2 splits with vector
 * deinterleaving straight from x, stride 1 is a copy. The backward of average pooling
 * accumulates into phase rows the same way and interleaves them back into dx rows.
 */
#ifndef LSK_POOL_UKERNELS_H
#define LSK_POOL_UKERNELS_H

#include <stddef.h>
#include <stdint.h>

typedef struct lsk_pool_geom {
    size_t in_h, in_w, out_h, out_w;
    size_t k_h, k_w, s_h, s_w, p_h, p_w;
    size_t ow_pad;  /* out_w rounded up to 16: whole vectors of outputs */
    size_t lead;    /* M = ceil(p_w / s_w): padding slots before the data of a phase row */
    size_t ph_len;  /* floats per phase row (see lsk_pool_geom_finish) */
} lsk_pool_geom;

/* Fills ow_pad, lead and ph_len from the other fields. A phase row must hold the slots the
 * window loads read (up to (k_w - 1 + s*M - p_w)/s + ow_pad) and the data written by whole
 * vectors (M + ceil(in_w/s) rounded up to 16). */
static inline void lsk_pool_geom_finish(lsk_pool_geom *g) {
    const size_t s = g->s_w;
    g->ow_pad = (g->out_w + 15) / 16 * 16;
    g->lead = (g->p_w + s - 1) / s;
    const size_t reads = (g->k_w - 1 + s * g->lead - g->p_w) / s + g->ow_pad;
    const size_t writes = g->lead + ((g->in_w + s - 1) / s + 15) / 16 * 16;
    g->ph_len = reads > writes ? reads : writes;
}

/* Scratch of a windowed microkernel, in floats: two int32 column tables of ow_pad entries,
 * then the phase rows of one plane (in_h * s_w * ph_len). */
static inline size_t lsk_pool_scratch_floats(const lsk_pool_geom *g) {
    return 2 * g->ow_pad + g->in_h * g->s_w * g->ph_len;
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
