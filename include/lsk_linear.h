/*
 * lsk_linear.h — fully connected layer, y = x w^T + b (PyTorch's nn.Linear layout).
 *   x [batch, in_features], w [out_features, in_features], b [out_features] (or NULL),
 *   y [batch, out_features]. Built on lsk_sgemm.
 */
#ifndef LSK_LINEAR_H
#define LSK_LINEAR_H

#include "lsk_common.h"

#ifdef __cplusplus
extern "C" {
#endif

lsk_status lsk_linear_fwd(float *y, const float *x, const float *w, const float *b,
                          size_t batch, size_t in_features, size_t out_features);
/* dx = dy w.  accumulate: 0 overwrites, 1 adds. */
lsk_status lsk_linear_bwd_data(float *dx, const float *dy, const float *w,
                               size_t batch, size_t in_features, size_t out_features, int accumulate);
/* dw = dy^T x, db = sum over batch of dy (db may be NULL). accumulate: 0 overwrites, 1 adds. */
lsk_status lsk_linear_bwd_weight(float *dw, float *db, const float *dy, const float *x,
                                 size_t batch, size_t in_features, size_t out_features, int accumulate);

lsk_status lsk_ref_linear_fwd(float *y, const float *x, const float *w, const float *b,
                              size_t batch, size_t in_features, size_t out_features);
lsk_status lsk_ref_linear_bwd_data(float *dx, const float *dy, const float *w,
                                   size_t batch, size_t in_features, size_t out_features, int accumulate);
lsk_status lsk_ref_linear_bwd_weight(float *dw, float *db, const float *dy, const float *x,
                                     size_t batch, size_t in_features, size_t out_features, int accumulate);

#ifdef __cplusplus
}
#endif
#endif /* LSK_LINEAR_H */
