/* Scalar oracles for 2-D convolution: direct loops over the definition, double
 * accumulators, never optimised. Same contracts as lsk_conv2d_* (include/lsk_conv.h). */
#include "../../include/lsk_conv.h"
#include "../internal/lsk_internal.h"

/* Input pixel read by output (oh, ow) through kernel tap (i, j); 0 if in the padding. */
static int tap(const lsk_conv2d_desc *d, size_t oh, size_t ow, size_t i, size_t j, size_t *ih, size_t *iw) {
    const size_t r = oh * d->stride_h + i, c = ow * d->stride_w + j; /* padded coordinates */
    if (r < d->pad_h || c < d->pad_w) return 0;
    *ih = r - d->pad_h;
    *iw = c - d->pad_w;
    return *ih < d->in_height && *iw < d->in_width;
}

lsk_status lsk_ref_conv2d_fwd(const lsk_conv2d_desc *d, float *y, const float *x, const float *w, const float *b) {
    size_t ho, wo;
    const lsk_status s = lsk_conv2d_output_size(d, &ho, &wo);
    if (s != LSK_OK) return s;
    LSK_CHECK(y && x && w);
    const size_t H = d->in_height, W = d->in_width, cig = d->in_channels / d->groups, cog = d->out_channels / d->groups;
    for (size_t n = 0; n < d->batch; n++)
        for (size_t co = 0; co < d->out_channels; co++) {
            const size_t g = co / cog;
            for (size_t oh = 0; oh < ho; oh++)
                for (size_t ow = 0; ow < wo; ow++) {
                    double acc = b ? (double)b[co] : 0.0;
                    for (size_t c = 0; c < cig; c++)
                        for (size_t i = 0; i < d->kernel_h; i++)
                            for (size_t j = 0; j < d->kernel_w; j++) {
                                size_t ih, iw;
                                if (!tap(d, oh, ow, i, j, &ih, &iw)) continue;
                                const double xv = x[((n * d->in_channels + g * cig + c) * H + ih) * W + iw];
                                const double wv = w[((co * cig + c) * d->kernel_h + i) * d->kernel_w + j];
                                acc += xv * wv;
                            }
                    y[((n * d->out_channels + co) * ho + oh) * wo + ow] = (float)acc;
                }
        }
    return LSK_OK;
}

lsk_status lsk_ref_conv2d_bwd_data(const lsk_conv2d_desc *d, float *dx, const float *dy, const float *w,
                                   int accumulate) {
    size_t ho, wo;
    const lsk_status s = lsk_conv2d_output_size(d, &ho, &wo);
    if (s != LSK_OK) return s;
    LSK_CHECK(dx && dy && w);
    LSK_CHECK(accumulate == 0 || accumulate == 1);
    const size_t H = d->in_height, W = d->in_width, cig = d->in_channels / d->groups, cog = d->out_channels / d->groups;
    for (size_t n = 0; n < d->batch; n++)
        for (size_t ci = 0; ci < d->in_channels; ci++) {
            const size_t g = ci / cig, c = ci % cig;
            for (size_t ih = 0; ih < H; ih++)
                for (size_t iw = 0; iw < W; iw++) {
                    double acc = 0.0;
                    /* every (tap, output pixel) that reads x[n, ci, ih, iw]: oh*sh + i == ih + ph */
                    for (size_t i = 0; i < d->kernel_h; i++)
                        for (size_t j = 0; j < d->kernel_w; j++) {
                            const size_t r = ih + d->pad_h, q = iw + d->pad_w;
                            if (r < i || q < j || (r - i) % d->stride_h || (q - j) % d->stride_w) continue;
                            const size_t oh = (r - i) / d->stride_h, ow = (q - j) / d->stride_w;
                            if (oh >= ho || ow >= wo) continue;
                            for (size_t k = 0; k < cog; k++) {
                                const size_t co = g * cog + k;
                                acc += (double)dy[((n * d->out_channels + co) * ho + oh) * wo + ow] *
                                       (double)w[((co * cig + c) * d->kernel_h + i) * d->kernel_w + j];
                            }
                        }
                    float *o = &dx[((n * d->in_channels + ci) * H + ih) * W + iw];
                    *o = (float)(accumulate ? (double)*o + acc : acc);
                }
        }
    return LSK_OK;
}

lsk_status lsk_ref_conv2d_bwd_weight(const lsk_conv2d_desc *d, float *dw, float *db, const float *dy, const float *x,
                                     int accumulate) {
    size_t ho, wo;
    const lsk_status s = lsk_conv2d_output_size(d, &ho, &wo);
    if (s != LSK_OK) return s;
    LSK_CHECK(dw && dy && x);
    LSK_CHECK(accumulate == 0 || accumulate == 1);
    const size_t H = d->in_height, W = d->in_width, cig = d->in_channels / d->groups, cog = d->out_channels / d->groups;
    for (size_t co = 0; co < d->out_channels; co++) {
        const size_t g = co / cog;
        for (size_t c = 0; c < cig; c++)
            for (size_t i = 0; i < d->kernel_h; i++)
                for (size_t j = 0; j < d->kernel_w; j++) {
                    double acc = 0.0;
                    for (size_t n = 0; n < d->batch; n++)
                        for (size_t oh = 0; oh < ho; oh++)
                            for (size_t ow = 0; ow < wo; ow++) {
                                size_t ih, iw;
                                if (!tap(d, oh, ow, i, j, &ih, &iw)) continue;
                                acc += (double)dy[((n * d->out_channels + co) * ho + oh) * wo + ow] *
                                       (double)x[((n * d->in_channels + g * cig + c) * H + ih) * W + iw];
                            }
                    float *o = &dw[((co * cig + c) * d->kernel_h + i) * d->kernel_w + j];
                    *o = (float)(accumulate ? (double)*o + acc : acc);
                }
        if (db) {
            double acc = 0.0;
            for (size_t n = 0; n < d->batch; n++)
                for (size_t p = 0; p < ho * wo; p++) acc += dy[(n * d->out_channels + co) * ho * wo + p];
            db[co] = (float)(accumulate ? (double)db[co] + acc : acc);
        }
    }
    return LSK_OK;
}
