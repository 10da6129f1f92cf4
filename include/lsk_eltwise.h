/*
 * lsk_eltwise.h — elementwise kernels over flat float arrays of n elements.
 * Memory-bound; SIMD per ISA, OpenMP for large n. In-place use (y == x) is allowed
 * wherever an output and an input have the same shape.
 */
#ifndef LSK_ELTWISE_H
#define LSK_ELTWISE_H

#include "lsk_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* y[i] = max(x[i], 0) */
lsk_status lsk_relu_fwd(float *y, const float *x, size_t n);
/* dx[i] (=|+=) y[i] > 0 ? dy[i] : 0, where y is the ReLU *output*. */
lsk_status lsk_relu_bwd(float *dx, const float *dy, const float *y, size_t n, int accumulate);

/* y[i] = a[i] + b[i]. (Backward of an add is the identity: use lsk_axpy.) */
lsk_status lsk_add_fwd(float *y, const float *a, const float *b, size_t n);

/* y[i] = max(a[i] + b[i], 0) (relu(NaN) = NaN): a residual block's sum and ReLU in one pass,
 * bit for bit lsk_add_fwd then lsk_relu_fwd. Backward: lsk_relu_bwd on y, for both inputs. */
lsk_status lsk_add_relu_fwd(float *y, const float *a, const float *b, size_t n);

/* y[i] += alpha * x[i]   (gradient accumulation, SGD updates) */
lsk_status lsk_axpy(float *y, const float *x, float alpha, size_t n);

/* y[i] *= alpha */
lsk_status lsk_scale(float *y, float alpha, size_t n);

/* y[i] = value */
lsk_status lsk_fill(float *y, float value, size_t n);

/* SGD with momentum and decoupled-from-nothing (L2) weight decay, PyTorch semantics:
 *   g = grad + weight_decay * param
 *   v = momentum * v + g                       (v is the momentum buffer)
 *   step = nesterov ? g + momentum * v : v
 *   param -= lr * step
 * velocity may be NULL only when momentum == 0. */
lsk_status lsk_sgd_step(float *param, float *velocity, const float *grad, size_t n,
                        float lr, float momentum, float weight_decay, int nesterov);

/* Scalar oracles, same contracts. */
lsk_status lsk_ref_relu_fwd(float *y, const float *x, size_t n);
lsk_status lsk_ref_relu_bwd(float *dx, const float *dy, const float *y, size_t n, int accumulate);
lsk_status lsk_ref_add_fwd(float *y, const float *a, const float *b, size_t n);
lsk_status lsk_ref_add_relu_fwd(float *y, const float *a, const float *b, size_t n);
lsk_status lsk_ref_axpy(float *y, const float *x, float alpha, size_t n);
lsk_status lsk_ref_sgd_step(float *param, float *velocity, const float *grad, size_t n,
                            float lr, float momentum, float weight_decay, int nesterov);

#ifdef __cplusplus
}
#endif
#endif /* LSK_ELTWISE_H */
