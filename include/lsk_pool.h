/*
 * lsk_pool.h — pooling over NCHW tensors.
 *
 * Global average pooling: x [batch, channels, hw] -> y [batch, channels].
 * Max / average pooling with a window: x [batch, channels, in_h, in_w] ->
 *   y [batch, channels, out_h, out_w], out = (in + 2*pad - kernel)/stride + 1.
 *   Requires pad <= kernel/2 (as PyTorch), kernel, stride >= 1.
 *   Max pooling ignores padded positions (treats them as -inf) and records, for
 *   every output, the flat index (h*in_w + w within its channel plane) of the
 *   maximum in `argmax` [batch, channels, out_h, out_w] (int32); ties keep the
 *   first in row-major window order. Average pooling divides by kernel_h*kernel_w,
 *   padding included (PyTorch's count_include_pad=True).
 */
#ifndef LSK_POOL_H
#define LSK_POOL_H

#include <stdint.h>
#include "lsk_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lsk_pool2d_desc {
    size_t batch, channels, in_height, in_width;
    size_t kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w;
} lsk_pool2d_desc;

lsk_status lsk_pool2d_output_size(const lsk_pool2d_desc *d, size_t *out_height, size_t *out_width);

lsk_status lsk_global_avgpool_fwd(float *y, const float *x, size_t batch, size_t channels, size_t hw);
/* dx[b,c,i] (=|+=) dy[b,c] / hw */
lsk_status lsk_global_avgpool_bwd(float *dx, const float *dy, size_t batch, size_t channels,
                                  size_t hw, int accumulate);

lsk_status lsk_maxpool2d_fwd(const lsk_pool2d_desc *d, float *y, int32_t *argmax, const float *x);
lsk_status lsk_maxpool2d_bwd(const lsk_pool2d_desc *d, float *dx, const float *dy,
                             const int32_t *argmax, int accumulate);

lsk_status lsk_avgpool2d_fwd(const lsk_pool2d_desc *d, float *y, const float *x);
lsk_status lsk_avgpool2d_bwd(const lsk_pool2d_desc *d, float *dx, const float *dy, int accumulate);

lsk_status lsk_ref_global_avgpool_fwd(float *y, const float *x, size_t batch, size_t channels, size_t hw);
lsk_status lsk_ref_global_avgpool_bwd(float *dx, const float *dy, size_t batch, size_t channels,
                                      size_t hw, int accumulate);
lsk_status lsk_ref_maxpool2d_fwd(const lsk_pool2d_desc *d, float *y, int32_t *argmax, const float *x);
lsk_status lsk_ref_maxpool2d_bwd(const lsk_pool2d_desc *d, float *dx, const float *dy,
                                 const int32_t *argmax, int accumulate);
lsk_status lsk_ref_avgpool2d_fwd(const lsk_pool2d_desc *d, float *y, const float *x);
lsk_status lsk_ref_avgpool2d_bwd(const lsk_pool2d_desc *d, float *dx, const float *dy, int accumulate);

#ifdef __cplusplus
}
#endif
#endif /* LSK_POOL_H */
