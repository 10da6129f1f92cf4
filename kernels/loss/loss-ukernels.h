/*
 * Loss family internals: the per-row microkernels (one table per ISA) used by
 * kernels/ops/loss.c. Not installed.
 *
 * Softmax-type losses are organised per row in reusable steps (XNNPACK's softmax split):
 *   1. rmax                    m = max_c x[c]
 *   2. raddstoreexpminusmax    e[c] = exp((x[c] - m) * inv_t), returns sum_c e[c]
 *      (or a fused variant that also reduces the targets: xent_reduce)
 *   3. an output step          p = e / Z, gradients, ...
 * A new softmax loss adds its own reduce/output steps and reuses 1 and 3: the fused softmax-KL
 * uses rmax, kl_reduce, then xent_out with e = es, t = et: dx = c/Zs * es - c/Zt * et.
 * Microkernels lsk_f32_<op>_ukernel_<tile>__<isa> come from the template f32-softmax.h (instantiated in f32-softmax-<isa>.c): single-threaded, allocation-free,
 * n >= 1, unaligned pointers. Exponents are (x - m) * inv_t <= 0, so exp never overflows;
 * values below -87.3 give 0 (see VEXP in kernels/eltwise/vec-common.h).
 */
#ifndef LSK_LOSS_UKERNELS_H
#define LSK_LOSS_UKERNELS_H

#include <stddef.h>

typedef struct lsk_loss_ukernels {
    /* max of x[0..n)                                            lsk_f32_rmax_ukernel_* */
    float (*rmax)(size_t n, const float *x);
    /* e[c] = exp((x[c] - m) * inv_t); returns sum_c e[c]; e may equal x
     *                                                           lsk_f32_raddstoreexpminusmax_ukernel_* */
    float (*raddstoreexpminusmax)(size_t n, const float *x, float m, float inv_t, float *e);
    /* Cross-entropy reduce: e[c] = exp((x[c] - m) * inv_t) and
     * out[0] = sum e, out[1] = sum t, out[2] = sum t * (x - m)  lsk_f32_xent_reduce_ukernel_* */
    void (*xent_reduce)(size_t n, const float *x, const float *t, float m, float inv_t, float *e, float out[3]);
    /* Cross-entropy output: p = e * inv_z; probs (may be NULL, may equal e) = p;
     * dx (=|+=) a * p - b * t                                   lsk_f32_xent_out_ukernel_* */
    void (*xent_out)(size_t n, const float *e, const float *t, float inv_z, float a, float b, float *probs,
                     float *dx, int accumulate);
    /* Softmax-KL reduce (student s, teacher t, row maxima ms, mt): es = exp((s - ms) * inv_t),
     * et = exp((t - mt) * inv_t), out[0] = sum es, out[1] = sum et,
     * out[2] = sum et * ((t - mt) - (s - ms))                   lsk_f32_kl_reduce_ukernel_* */
    void (*kl_reduce)(size_t n, const float *s, const float *t, float ms, float mt, float inv_t, float *es,
                      float *et, float out[3]);
} lsk_loss_ukernels;

extern const lsk_loss_ukernels lsk_loss_ukernels__scalar;
#if defined(__x86_64__)
extern const lsk_loss_ukernels lsk_loss_ukernels__avx2;
extern const lsk_loss_ukernels lsk_loss_ukernels__avx512;
#endif
#if defined(__aarch64__)
extern const lsk_loss_ukernels lsk_loss_ukernels__neon;
#endif

#endif
