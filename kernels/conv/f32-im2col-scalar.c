/*
 * im2col / col2im for NCHW images, portable C. Memory-bound: each output row is a run of
 * zeros, a contiguous copy (stride 1: memcpy, which libc vectorises) or a strided gather,
 * and zeros again. The valid column range of a kernel column j is computed once, so the
 * inner loops carry no bounds tests.
 */
#include <string.h>
#include "conv-internal.h"

void lsk_f32_im2col_ukernel__scalar(float *col, size_t ldcol, const float *x, size_t channels, size_t h, size_t w,
                                    size_t kh, size_t kw, size_t sh, size_t sw, size_t ph, size_t pw, size_t oh0,
                                    size_t oh1, size_t wo) {
    for (size_t c = 0; c < channels; c++) {
        const float *xc = x + c * h * w;
        for (size_t i = 0; i < kh; i++) {
            size_t ra, rb; /* output rows [ra, rb) of [oh0, oh1) read inside the image */
            lsk_conv_valid_range(h, sh, i, ph, oh1, &ra, &rb);
            if (ra < oh0) ra = oh0;
            if (rb < ra) rb = ra;
            for (size_t j = 0; j < kw; j++) {
                float *row = col + ((c * kh + i) * kw + j) * ldcol;
                size_t lo, hi;
                lsk_conv_valid_range(w, sw, j, pw, wo, &lo, &hi);
                if (ra > oh0) memset(row, 0, (ra - oh0) * wo * sizeof(float));
                for (size_t oh = ra; oh < rb; oh++) {
                    float *r = row + (oh - oh0) * wo;
                    const float *xr = xc + (oh * sh + i - ph) * w; /* row inside the image */
                    for (size_t ow = 0; ow < lo; ow++) r[ow] = 0.0f;
                    if (hi > lo) {
                        const float *src = xr + lo * sw + j - pw;
                        if (sw == 1) {
                            memcpy(r + lo, src, (hi - lo) * sizeof(float));
                        } else {
                            for (size_t ow = lo; ow < hi; ow++) r[ow] = src[(ow - lo) * sw];
                        }
                    }
                    for (size_t ow = hi; ow < wo; ow++) r[ow] = 0.0f;
                }
                if (rb < oh1) memset(row + (rb - oh0) * wo, 0, (oh1 - rb) * wo * sizeof(float));
            }
        }
    }
}

void lsk_f32_col2im_acc_ukernel__scalar(float *dx, const float *col, size_t ldcol,
                                        size_t channels, size_t h, size_t w,
                                        size_t kh, size_t kw, size_t sh, size_t sw,
                                        size_t ph, size_t pw, size_t ho, size_t wo) {
    for (size_t c = 0; c < channels; c++) {
        float *dc = dx + c * h * w;
        for (size_t i = 0; i < kh; i++) {
            size_t oh_lo, oh_hi;
            lsk_conv_valid_range(h, sh, i, ph, ho, &oh_lo, &oh_hi);
            for (size_t j = 0; j < kw; j++) {
                const float *row = col + ((c * kh + i) * kw + j) * ldcol;
                size_t lo, hi;
                lsk_conv_valid_range(w, sw, j, pw, wo, &lo, &hi);
                if (hi <= lo) continue;
                for (size_t oh = oh_lo; oh < oh_hi; oh++) {
                    const float *r = row + oh * wo + lo;
                    float *dst = dc + (oh * sh + i - ph) * w + lo * sw + j - pw;
                    const size_t n = hi - lo;
                    if (sw == 1) {
                        for (size_t q = 0; q < n; q++) dst[q] += r[q];
                    } else {
                        for (size_t q = 0; q < n; q++) dst[q * sw] += r[q];
                    }
                }
            }
        }
    }
}
