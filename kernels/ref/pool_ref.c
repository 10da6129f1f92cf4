/* Scalar oracles of the pooling family: direct loops over every window, double sums. */
#include <math.h>
#include <stdint.h>
#include "../internal/lsk_internal.h"
#include "../../include/lsk_pool.h"

lsk_status lsk_ref_global_avgpool_fwd(float *y, const float *x, size_t batch, size_t channels, size_t hw) {
    if (batch * channels == 0) return LSK_OK;
    LSK_CHECK(hw > 0 && y && x);
    for (size_t p = 0; p < batch * channels; p++) {
        double s = 0.0;
        for (size_t i = 0; i < hw; i++) s += x[p * hw + i];
        y[p] = (float)(s / (double)hw);
    }
    return LSK_OK;
}

lsk_status lsk_ref_global_avgpool_bwd(float *dx, const float *dy, size_t batch, size_t channels, size_t hw,
                                      int accumulate) {
    LSK_CHECK(accumulate == 0 || accumulate == 1);
    if (batch * channels * hw == 0) return LSK_OK;
    LSK_CHECK(dx && dy);
    for (size_t p = 0; p < batch * channels; p++)
        for (size_t i = 0; i < hw; i++) {
            const double g = (double)dy[p] / (double)hw;
            dx[p * hw + i] = (float)(accumulate ? dx[p * hw + i] + g : g);
        }
    return LSK_OK;
}

lsk_status lsk_ref_maxpool2d_fwd(const lsk_pool2d_desc *d, float *y, int32_t *argmax, const float *x) {
    size_t oh, ow;
    LSK_CHECK(lsk_pool2d_output_size(d, &oh, &ow) == LSK_OK);
    if (d->batch * d->channels == 0) return LSK_OK;
    LSK_CHECK(y && argmax && x);
    const size_t H = d->in_height, W = d->in_width;
    for (size_t p = 0; p < d->batch * d->channels; p++)
        for (size_t i = 0; i < oh; i++)
            for (size_t j = 0; j < ow; j++) {
                /* PyTorch's loop: start at -inf with the first valid position, take v if
                 * v > max or v is NaN, scanning the window in row-major order */
                const long h0 = (long)(i * d->stride_h) - (long)d->pad_h, w0 = (long)(j * d->stride_w) - (long)d->pad_w;
                const long hs = h0 < 0 ? 0 : h0, ws = w0 < 0 ? 0 : w0;
                const long he = LSK_MIN(h0 + (long)d->kernel_h, (long)H), we = LSK_MIN(w0 + (long)d->kernel_w, (long)W);
                float best = -INFINITY;
                long bi = hs * (long)W + ws;
                for (long h = hs; h < he; h++)
                    for (long w = ws; w < we; w++) {
                        const float v = x[p * H * W + (size_t)(h * (long)W + w)];
                        if (v > best || isnan(v)) best = v, bi = h * (long)W + w;
                    }
                y[(p * oh + i) * ow + j] = best;
                argmax[(p * oh + i) * ow + j] = (int32_t)bi;
            }
    return LSK_OK;
}

lsk_status lsk_ref_maxpool2d_bwd(const lsk_pool2d_desc *d, float *dx, const float *dy, const int32_t *argmax,
                                 int accumulate) {
    size_t oh, ow;
    LSK_CHECK(lsk_pool2d_output_size(d, &oh, &ow) == LSK_OK);
    LSK_CHECK(accumulate == 0 || accumulate == 1);
    if (d->batch * d->channels == 0) return LSK_OK;
    LSK_CHECK(dx && dy && argmax);
    const size_t in_n = d->in_height * d->in_width, out_n = oh * ow;
    for (size_t p = 0; p < d->batch * d->channels; p++)
        for (size_t i = 0; i < in_n; i++) {
            double s = accumulate ? dx[p * in_n + i] : 0.0;
            for (size_t o = 0; o < out_n; o++)
                if ((size_t)argmax[p * out_n + o] == i) s += dy[p * out_n + o];
            dx[p * in_n + i] = (float)s;
        }
    return LSK_OK;
}

lsk_status lsk_ref_avgpool2d_fwd(const lsk_pool2d_desc *d, float *y, const float *x) {
    size_t oh, ow;
    LSK_CHECK(lsk_pool2d_output_size(d, &oh, &ow) == LSK_OK);
    if (d->batch * d->channels == 0) return LSK_OK;
    LSK_CHECK(y && x);
    const long H = (long)d->in_height, W = (long)d->in_width;
    for (size_t p = 0; p < d->batch * d->channels; p++)
        for (size_t i = 0; i < oh; i++)
            for (size_t j = 0; j < ow; j++) {
                double s = 0.0;
                for (long kh = 0; kh < (long)d->kernel_h; kh++)
                    for (long kw = 0; kw < (long)d->kernel_w; kw++) {
                        const long h = (long)(i * d->stride_h) - (long)d->pad_h + kh;
                        const long w = (long)(j * d->stride_w) - (long)d->pad_w + kw;
                        if (h >= 0 && h < H && w >= 0 && w < W) s += x[p * (size_t)(H * W) + (size_t)(h * W + w)];
                    }
                y[(p * oh + i) * ow + j] = (float)(s / (double)(d->kernel_h * d->kernel_w));
            }
    return LSK_OK;
}

lsk_status lsk_ref_avgpool2d_bwd(const lsk_pool2d_desc *d, float *dx, const float *dy, int accumulate) {
    size_t oh, ow;
    LSK_CHECK(lsk_pool2d_output_size(d, &oh, &ow) == LSK_OK);
    LSK_CHECK(accumulate == 0 || accumulate == 1);
    if (d->batch * d->channels == 0) return LSK_OK;
    LSK_CHECK(dx && dy);
    const long H = (long)d->in_height, W = (long)d->in_width;
    const double inv = 1.0 / (double)(d->kernel_h * d->kernel_w);
    for (size_t p = 0; p < d->batch * d->channels; p++)
        for (long h = 0; h < H; h++)
            for (long w = 0; w < W; w++) {
                /* gather form: every output whose window covers (h, w) */
                double s = accumulate ? dx[p * (size_t)(H * W) + (size_t)(h * W + w)] : 0.0;
                for (size_t i = 0; i < oh; i++)
                    for (size_t j = 0; j < ow; j++) {
                        const long kh = h - ((long)(i * d->stride_h) - (long)d->pad_h);
                        const long kw = w - ((long)(j * d->stride_w) - (long)d->pad_w);
                        if (kh >= 0 && kh < (long)d->kernel_h && kw >= 0 && kw < (long)d->kernel_w)
                            s += dy[(p * oh + i) * ow + j] * inv;
                    }
                dx[p * (size_t)(H * W) + (size_t)(h * W + w)] = (float)s;
            }
    return LSK_OK;
}
