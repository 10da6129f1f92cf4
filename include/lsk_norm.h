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

/* relu(batch norm) in training, fused: the ReLU costs no pass and no tensor of its own.
 * lsk_batchnorm_relu_fwd_train: y = max(0, BN(x)) (relu(NaN) = NaN), arguments as
 * lsk_batchnorm_fwd_train; bit for bit lsk_batchnorm_fwd_train then lsk_relu_fwd.
 * lsk_batchnorm_relu_bwd: its backward, y being its output: dy masked by y > 0 inside both
 * sweeps of lsk_batchnorm_bwd (the masked gradient is never stored); bit for bit lsk_relu_bwd
 * (accumulate 0) then lsk_batchnorm_bwd. */
lsk_status lsk_batchnorm_relu_fwd_train(float *y, float *save_mean, float *save_invstd,
                                        float *running_mean, float *running_var,
                                        const float *x, const float *gamma, const float *beta,
                                        size_t batch, size_t channels, size_t hw,
                                        float momentum, float eps);
lsk_status lsk_batchnorm_relu_bwd(float *dx, float *dgamma, float *dbeta,
                                  const float *dy, const float *y, const float *x, const float *gamma,
                                  const float *save_mean, const float *save_invstd,
                                  size_t batch, size_t channels, size_t hw, int accumulate);

/* ---- Split training forward/backward: synchronised batch norm --------------------------
 * Data-parallel training over K processes (MPI ranks) normalises with the statistics of the
 * global batch: each rank reduces its local rows, the ranks combine the small per-channel
 * results (allgather + lsk_batchnorm_stats_merge forward, allreduce-sum backward), then each
 * rank applies them to its rows. The fused calls above are exactly these steps with K = 1:
 *   lsk_batchnorm_fwd_train  = lsk_batchnorm_stats + lsk_batchnorm_fwd_apply (count = batch*hw)
 *   lsk_batchnorm_bwd        = lsk_batchnorm_bwd_reduce + lsk_batchnorm_bwd_apply
 * bit for bit (one arithmetic, same microkernels, same order), on every ISA path and thread
 * count; lsk_batchnorm_stats_merge of one part (or of zero-count parts and one part) returns
 * that part unchanged. With K > 1 the statistics are merged in another order than the fused
 * call's chain over images, so results agree to rounding (~1e-7 relative), not bit for bit.
 * stats and sums are [channels][2] doubles in caller memory. count (the values the stats or
 * sums cover, over all ranks) must be >= 1, >= the local batch*hw, <= 2^53, not NaN.
 * batch may be 0 (a rank with no rows still takes part); x, y, dy, dx may then be NULL. */

/* stats[2c] = mean, stats[2c+1] = M2 (sum of squared deviations from the mean) of channel c
 * over the batch*hw local values. No values (batch or hw 0): zeros. */
lsk_status lsk_batchnorm_stats(double *stats, const float *x, size_t batch, size_t channels, size_t hw);

/* Merges nparts (mean, M2) arrays, parts [nparts][channels][2] with counts[p] values each
 * (finite, >= 0), into stats [channels][2] of their union (count: the sum of counts) by Chan's
 * parallel update in part order. A part with count 0 contributes nothing (its values are not
 * read); all counts 0 (or nparts 0) gives zeros. Deterministic: ranks merging the same parts
 * in the same order get identical bits. stats may be parts (the result replaces part 0). */
lsk_status lsk_batchnorm_stats_merge(double *stats, const double *parts, size_t nparts, const double *counts,
                                     size_t channels);

/* Training forward from (possibly merged) stats over count values: var = M2/count, running_var
 * gets var * count/(count-1) (skipped when count == 1). Writes y for the local rows,
 * save_mean, save_invstd, and updates running_mean/running_var (may be NULL). With batch*hw 0
 * only save_* and running_* are written. May return LSK_ERR_OUT_OF_MEMORY (per-thread
 * scratch for the y scales). */
lsk_status lsk_batchnorm_fwd_apply(float *y, float *save_mean, float *save_invstd,
                                   float *running_mean, float *running_var,
                                   const float *x, const float *gamma, const float *beta,
                                   const double *stats, double count,
                                   size_t batch, size_t channels, size_t hw,
                                   float momentum, float eps);

/* Backward sweep 1 over the local rows: sums[2c] = sum dy, sums[2c+1] = sum dy*(x - save_mean)
 * of channel c. No values: zeros. Summed over ranks (elementwise, the same order on every
 * rank for identical results) they are the global sums. */
lsk_status lsk_batchnorm_bwd_reduce(double *sums, const float *dy, const float *x, const float *save_mean,
                                    size_t batch, size_t channels, size_t hw);

/* Backward from (possibly all-reduced) sums over count values: dgamma, dbeta (the global
 * values; each may be NULL) and dx for the local rows (may be NULL; needs gamma, and dy, x when
 * batch*hw > 0). accumulate as lsk_batchnorm_bwd. May return LSK_ERR_OUT_OF_MEMORY. */
lsk_status lsk_batchnorm_bwd_apply(float *dx, float *dgamma, float *dbeta, const double *sums, double count,
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

lsk_status lsk_ref_batchnorm_relu_fwd_train(float *y, float *save_mean, float *save_invstd,
                                            float *running_mean, float *running_var,
                                            const float *x, const float *gamma, const float *beta,
                                            size_t batch, size_t channels, size_t hw,
                                            float momentum, float eps);
lsk_status lsk_ref_batchnorm_relu_bwd(float *dx, float *dgamma, float *dbeta,
                                      const float *dy, const float *y, const float *x, const float *gamma,
                                      const float *save_mean, const float *save_invstd,
                                      size_t batch, size_t channels, size_t hw, int accumulate);

#ifdef __cplusplus
}
#endif
#endif /* LSK_NORM_H */
