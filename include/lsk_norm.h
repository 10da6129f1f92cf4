/*
 * lsk_norm.h — batch normalisation over NCHW tensors (per channel, statistics over
 * batch x spatial), PyTorch semantics:
 *   train:  mean_c, var_c = batch statistics (biased var for normalising)
 *           y = gamma_c * (x - mean_c) * invstd_c + beta_c,  invstd_c = 1/sqrt(var_c + eps)
 *           running_mean = (1 - momentum) * running_mean + momentum * mean_c
 *           running_var  = (1 - momentum) * running_var  + momentum * var_c * count/(count-1)
 *             (count = batch*hw; the unbiased correction is skipped when count == 1)
 *   eval:   y = gamma_c * (x - running_mean_c) / sqrt(running_var_c + eps) + beta_c
 * Shapes: x, y, dx, dy [batch, channels, hw]  (hw = height*width);
 *         gamma, beta, running_*, save_*, dgamma, dbeta [channels].
 * Statistics accumulate in double. OpenMP over channels.
 */
#ifndef LSK_NORM_H
#define LSK_NORM_H

#include "lsk_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Training forward. Writes y, save_mean, save_invstd (needed by backward) and updates
 * running_mean/running_var in place (both may be NULL to skip the update). */
lsk_status lsk_batchnorm_fwd_train(float *y, float *save_mean, float *save_invstd,
                                   float *running_mean, float *running_var,
                                   const float *x, const float *gamma, const float *beta,
                                   size_t batch, size_t channels, size_t hw,
                                   float momentum, float eps);

/* Inference forward with running statistics. */
lsk_status lsk_batchnorm_fwd_eval(float *y, const float *x,
                                  const float *gamma, const float *beta,
                                  const float *running_mean, const float *running_var,
                                  size_t batch, size_t channels, size_t hw, float eps);

/* Per-channel affine map, the inference form of a batch norm that was not folded into a
 * convolution: y = x * scale_c + shift_c, then max(y, 0) when relu is 1. In place (y == x)
 * allowed. relu must be 0 or 1. */
lsk_status lsk_channel_affine_fwd(float *y, const float *x, const float *scale, const float *shift,
                                  size_t batch, size_t channels, size_t hw, int relu);

/* Backward of the training forward. dx, dgamma, dbeta may each be NULL to skip.
 * accumulate: 0 overwrites dx/dgamma/dbeta, 1 adds to them. */
lsk_status lsk_batchnorm_bwd(float *dx, float *dgamma, float *dbeta,
                             const float *dy, const float *x, const float *gamma,
                             const float *save_mean, const float *save_invstd,
                             size_t batch, size_t channels, size_t hw, int accumulate);

lsk_status lsk_ref_batchnorm_fwd_train(float *y, float *save_mean, float *save_invstd,
                                       float *running_mean, float *running_var,
                                       const float *x, const float *gamma, const float *beta,
                                       size_t batch, size_t channels, size_t hw,
                                       float momentum, float eps);
lsk_status lsk_ref_batchnorm_fwd_eval(float *y, const float *x,
                                      const float *gamma, const float *beta,
                                      const float *running_mean, const float *running_var,
                                      size_t batch, size_t channels, size_t hw, float eps);
lsk_status lsk_ref_channel_affine_fwd(float *y, const float *x, const float *scale, const float *shift,
                                      size_t batch, size_t channels, size_t hw, int relu);
lsk_status lsk_ref_batchnorm_bwd(float *dx, float *dgamma, float *dbeta,
                                 const float *dy, const float *x, const float *gamma,
                                 const float *save_mean, const float *save_invstd,
                                 size_t batch, size_t channels, size_t hw, int accumulate);

#ifdef __cplusplus
}
#endif
#endif /* LSK_NORM_H */
