/*
 * Batch-norm family internals: the microkernel table (one per ISA) used by kernels/ops/norm.c.
 * Not installed.
 *
 * Every microkernel works on ONE plane: the n = hw contiguous floats of one (image, channel);
 * the operator merges planes into channel statistics in double. Microkernels
 * lsk_f32_<op>_ukernel_<tile>__<isa> come from the template f32-bnorm.h (instantiated in
 * f32-bnorm-<isa>.c); single-threaded, allocation-free, any n >= 1, unaligned pointers.
 * Within a plane, sums run in float vector lanes (2-4 vectors x VLEN lanes: a 32x32 plane is
 * 16-32 terms per lane on AVX-512).
 */
#ifndef LSK_NORM_UKERNELS_H
#define LSK_NORM_UKERNELS_H

#include <stddef.h>

typedef struct lsk_norm_ukernels {
    /* out[0] = mean of x[0..n), out[1] = sum of squared deviations from it (M2). A first
     * sweep gives a shift K (the float mean), a second one (from L1) sums x - K and
     * (x - K)^2, corrected in double: no E[x^2] - E[x]^2 cancellation.
     *                                                             lsk_f32_bnstats_ukernel_* */
    void (*stats)(size_t n, const float *x, double out[2]);
    /* y = ((x - mean_hi) - mean_lo) * scale + shift  (train and eval forward); the mean is a
     * float pair (hi + lo = the double mean) so |mean| >> std loses no precision.
     *                                                             lsk_f32_bnapply_ukernel_* */
    void (*apply)(size_t n, const float *x, float *y, float mean_hi, float mean_lo, float scale, float shift);
    /* out[0] = sum dy, out[1] = sum dy * (x - mean)               lsk_f32_bnbwdreduce_ukernel_* */
    void (*bwd_reduce)(size_t n, const float *dy, const float *x, float mean, double out[2]);
    /* dx (=|+=) a * dy + b * (x - mean) + c                       lsk_f32_bnbwdapply_ukernel_* */
    void (*bwd_apply)(size_t n, const float *dy, const float *x, float *dx, float mean, float a, float b, float c,
                      int accumulate);
    /* y = x * scale + shift, then max(y, 0) when relu (inference: a batch norm that could not
     * be folded into a convolution, e.g. pre-activation blocks)    lsk_f32_affine_ukernel_* */
    void (*affine)(size_t n, const float *x, float *y, float scale, float shift, int relu);
    /* relu(batch norm), bit for bit the unfused ops in sequence:
     * y = max(0, bnapply's y)                                     lsk_f32_bnapplyrelu_ukernel_*
     * bwd_reduce / bwd_apply with dy masked by y > 0 (y: the forward's output; the masked
     * gradient is never stored)                 lsk_f32_bnbwdreducerelu_ukernel_*, _bnbwdapplyrelu_ */
    void (*apply_relu)(size_t n, const float *x, float *y, float mean_hi, float mean_lo, float scale, float shift);
    void (*bwd_reduce_relu)(size_t n, const float *dy, const float *y, const float *x, float mean, double out[2]);
    void (*bwd_apply_relu)(size_t n, const float *dy, const float *y, const float *x, float *dx, float mean, float a,
                           float b, float c, int accumulate);
} lsk_norm_ukernels;

extern const lsk_norm_ukernels lsk_norm_ukernels__scalar;
#if defined(__x86_64__)
extern const lsk_norm_ukernels lsk_norm_ukernels__avx2;
extern const lsk_norm_ukernels lsk_norm_ukernels__avx512;
#endif
#if defined(__aarch64__)
extern const lsk_norm_ukernels lsk_norm_ukernels__neon;
#endif

#endif
