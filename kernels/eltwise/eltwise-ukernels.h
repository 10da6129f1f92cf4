/*
 * Eltwise family internals: the microkernel table (one per ISA) used by kernels/ops/eltwise.c
 * and, for vscale/vfill, by the pool and loss operators. Not installed.
 *
 * Microkernels lsk_f32_<op>_ukernel_<tile>__<isa> (template f32-eltwise.h, instantiated in
 * f32-eltwise-<isa>.c; tile u4/u32/u64/u16 = 4 vectors per main-loop step for
 * scalar/AVX2/AVX-512/NEON): single-threaded, allocation-free, any n >= 0, unaligned
 * pointers; an output may equal an input of the same length (in-place).
 */
#ifndef LSK_ELTWISE_UKERNELS_H
#define LSK_ELTWISE_UKERNELS_H

#include <stddef.h>

/* SGD hyper-parameters (lsk_sgd_step's contract). */
typedef struct lsk_sgd_params {
    float lr, momentum, weight_decay;
    int nesterov;
} lsk_sgd_params;

typedef struct lsk_eltwise_ukernels {
    /* y[n] = max(x, 0)                          lsk_f32_vrelu_ukernel_* */
    void (*relu)(size_t n, const float *x, float *y);
    /* dx[n] (=|+=) y > 0 ? dy : 0               lsk_f32_vrelu_bwd_ukernel_* */
    void (*relu_bwd)(size_t n, const float *dy, const float *y, float *dx, int accumulate);
    /* y[n] = a + b                              lsk_f32_vadd_ukernel_* */
    void (*add)(size_t n, const float *a, const float *b, float *y);
    /* y[n] += alpha * x                         lsk_f32_vaxpy_ukernel_* */
    void (*axpy)(size_t n, float alpha, const float *x, float *y);
    /* y[n] = alpha * x                          lsk_f32_vscale_ukernel_* */
    void (*scale)(size_t n, float alpha, const float *x, float *y);
    /* y[n] = value                              lsk_f32_vfill_ukernel_* */
    void (*fill)(size_t n, float value, float *y);
    /* SGD step on param[n], velocity[n] (NULL when momentum == 0), grad[n]
     *                                           lsk_f32_sgd_ukernel_* */
    void (*sgd)(size_t n, float *param, float *velocity, const float *grad, const lsk_sgd_params *p);
    /* y[n] = max(a + b, 0), bit for bit add then relu  lsk_f32_vaddrelu_ukernel_* */
    void (*add_relu)(size_t n, const float *a, const float *b, float *y);
} lsk_eltwise_ukernels;

extern const lsk_eltwise_ukernels lsk_eltwise_ukernels__scalar;
#if defined(__x86_64__)
extern const lsk_eltwise_ukernels lsk_eltwise_ukernels__avx2;
extern const lsk_eltwise_ukernels lsk_eltwise_ukernels__avx512;
#endif
#if defined(__aarch64__)
extern const lsk_eltwise_ukernels lsk_eltwise_ukernels__neon;
#endif

/* The table of an ISA path (scalar for a path not in this build). */
const lsk_eltwise_ukernels *lsk_eltwise_ukernels_for(int isa);

#endif
