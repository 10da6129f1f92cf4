/*
 * lsk_shuffle.h — channel shuffle (ShuffleNet) over NCHW tensors, and the fused forms a
 * ShuffleNetV2 unit needs, all pure data movement (copies of contiguous hw planes, no
 * intermediate tensor).
 *
 * Shapes: x, y [batch, channels, hw] (hw = height*width). groups g divides channels C; K = C/g.
 *   shuffle:  y[b, k*g + i] = x[b, i*K + k]   for i < g, k < K
 * (PyTorch: x.view(B, g, K, H, W).transpose(1, 2).reshape(B, C, H, W), F.channel_shuffle.)
 * Its inverse (the backward) is the shuffle with C/g groups.
 *   concat_shuffle:  y = shuffle(concat_channels(a, b), g); a [batch, ca, hw], b [batch, cb, hw],
 *                    C = ca + cb (the end of a ShuffleNetV2 unit: g = 2, ca = cb)
 *   shuffle_split:   (y1, y2) = split_channels(shuffle(x, g), [c1, c2]); y1 [batch, c1, hw],
 *                    y2 [batch, c2, hw], C = c1 + c2 (shuffle then the next unit's split)
 * Backward functions write the input gradients from the output gradients: 0 overwrites,
 * accumulate = 1 adds. A part with zero channels may be NULL. Outputs must not overlap inputs.
 * OpenMP over (batch, channel) planes.
 */
#ifndef LSK_SHUFFLE_H
#define LSK_SHUFFLE_H

#include "lsk_common.h"

#ifdef __cplusplus
extern "C" {
#endif

lsk_status lsk_channel_shuffle_fwd(float *y, const float *x, size_t batch, size_t channels, size_t hw,
                                   size_t groups);
/* dx (=|+=) unshuffle(dy): dx[b, i*K + k] = dy[b, k*g + i]. */
lsk_status lsk_channel_shuffle_bwd(float *dx, const float *dy, size_t batch, size_t channels, size_t hw,
                                   size_t groups, int accumulate);

lsk_status lsk_concat_shuffle_fwd(float *y, const float *a, const float *b, size_t batch, size_t ca, size_t cb,
                                  size_t hw, size_t groups);
/* (da, db) (=|+=) split(unshuffle(dy), [ca, cb]). */
lsk_status lsk_concat_shuffle_bwd(float *da, float *db, const float *dy, size_t batch, size_t ca, size_t cb,
                                  size_t hw, size_t groups, int accumulate);

lsk_status lsk_shuffle_split_fwd(float *y1, float *y2, const float *x, size_t batch, size_t c1, size_t c2,
                                 size_t hw, size_t groups);
/* dx (=|+=) unshuffle(concat(dy1, dy2)). */
lsk_status lsk_shuffle_split_bwd(float *dx, const float *dy1, const float *dy2, size_t batch, size_t c1, size_t c2,
                                 size_t hw, size_t groups, int accumulate);

/* Scalar oracles (kernels/ref/shuffle_ref.c), same contracts. */
lsk_status lsk_ref_channel_shuffle_fwd(float *y, const float *x, size_t batch, size_t channels, size_t hw,
                                       size_t groups);
lsk_status lsk_ref_channel_shuffle_bwd(float *dx, const float *dy, size_t batch, size_t channels, size_t hw,
                                       size_t groups, int accumulate);
lsk_status lsk_ref_concat_shuffle_fwd(float *y, const float *a, const float *b, size_t batch, size_t ca, size_t cb,
                                      size_t hw, size_t groups);
lsk_status lsk_ref_concat_shuffle_bwd(float *da, float *db, const float *dy, size_t batch, size_t ca, size_t cb,
                                      size_t hw, size_t groups, int accumulate);
lsk_status lsk_ref_shuffle_split_fwd(float *y1, float *y2, const float *x, size_t batch, size_t c1, size_t c2,
                                     size_t hw, size_t groups);
lsk_status lsk_ref_shuffle_split_bwd(float *dx, const float *dy1, const float *dy2, size_t batch, size_t c1,
                                     size_t c2, size_t hw, size_t groups, int accumulate);

#ifdef __cplusplus
}
#endif
#endif /* LSK_SHUFFLE_H */
