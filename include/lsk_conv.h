/*
 * lsk_conv.h — 2-D convolution (cross-correlation, as in every DL framework), NCHW.
 *
 * Shapes (all dense, row-major):
 *   x  [batch, in_channels,  in_height,  in_width]
 *   w  [out_channels, in_channels / groups, kernel_h, kernel_w]
 *   b  [out_channels]                       (optional: NULL for no bias)
 *   y  [batch, out_channels, out_height, out_width]
 *   out_height = (in_height + 2*pad_h - kernel_h) / stride_h + 1   (same for width)
 * in_channels and out_channels must both be divisible by groups; every size,
 * stride and group count must be >= 1, except batch, which may be 0 (the calls
 * then do nothing, but bwd_weight with accumulate = 0 writes zero gradients:
 * an empty sum); the padded input must be at least one kernel wide (else
 * LSK_ERR_INVALID_ARGUMENT). Padding is with zeros.
 *
 * The entry points pick the algorithm per shape and pass (docs/conv.md): Winograd
 * F(4x4,3x3) for 3x3 stride-1 layers with >= 16 channels (forward and bwd_data), a direct
 * kernel for depthwise 3x3/5x5 stride 1/2 layers, im2col+GEMM otherwise. Environment
 * variable LSK_CONV_ALGO=gemm|winograd|auto (read once) forces or forbids Winograd.
 * Work is split over images and groups with OpenMP. Scratch (im2col columns, transformed
 * tiles, cached filter transforms) is per thread and reused across calls.
 */
#ifndef LSK_CONV_H
#define LSK_CONV_H

#include "lsk_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lsk_conv2d_desc {
    size_t batch;
    size_t in_channels, in_height, in_width;
    size_t out_channels;
    size_t kernel_h, kernel_w;
    size_t stride_h, stride_w;
    size_t pad_h, pad_w;
    size_t groups;
} lsk_conv2d_desc;

/* Validates the descriptor and returns the output spatial size. */
lsk_status lsk_conv2d_output_size(const lsk_conv2d_desc *d, size_t *out_height, size_t *out_width);

/* y = conv(x, w) + b. Overwrites y. */
lsk_status lsk_conv2d_fwd(const lsk_conv2d_desc *d, float *y,
                          const float *x, const float *w, const float *b);

/* dx (shape of x) from dy (shape of y). accumulate: 0 overwrites dx, 1 adds. */
lsk_status lsk_conv2d_bwd_data(const lsk_conv2d_desc *d, float *dx,
                               const float *dy, const float *w, int accumulate);

/* dw (shape of w) and db ([out_channels], may be NULL) from dy and x.
 * accumulate: 0 overwrites dw/db, 1 adds to them. */
lsk_status lsk_conv2d_bwd_weight(const lsk_conv2d_desc *d, float *dw, float *db,
                                 const float *dy, const float *x, int accumulate);

/* Both gradients of one layer in one call: what a training step needs. dx and dw may each
 * be NULL (that gradient is skipped; db must then be NULL too), not both; the accumulate
 * flags are those of lsk_conv2d_bwd_data and lsk_conv2d_bwd_weight. Same results as the
 * two calls; depthwise layers compute both from one pass over dy (read from memory once). */
lsk_status lsk_conv2d_bwd(const lsk_conv2d_desc *d, float *dx, float *dw, float *db,
                          const float *dy, const float *x, const float *w,
                          int accumulate_dx, int accumulate_dw);

/* Scalar oracles (double accumulators, direct loops), same contracts. */
lsk_status lsk_ref_conv2d_fwd(const lsk_conv2d_desc *d, float *y,
                              const float *x, const float *w, const float *b);
lsk_status lsk_ref_conv2d_bwd_data(const lsk_conv2d_desc *d, float *dx,
                                   const float *dy, const float *w, int accumulate);
lsk_status lsk_ref_conv2d_bwd_weight(const lsk_conv2d_desc *d, float *dw, float *db,
                                     const float *dy, const float *x, int accumulate);

#ifdef __cplusplus
}
#endif
#endif /* LSK_CONV_H */
