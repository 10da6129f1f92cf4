/*
 * im2col, NEON (contract: conv-internal.h). Unit horizontal stride: per output row, zeros
 * for the left padding, the valid run [lo, hi) copied 4 floats at a time (vld1q/vst1q,
 * scalar tail), zeros for the right padding. Other strides: the scalar kernel.
 */
#include "conv-internal.h"

#if defined(__aarch64__)
#include <arm_neon.h>

void lsk_f32_im2col_ukernel__neon(float *col, size_t ldcol, const float *x, size_t channels, size_t h, size_t w,
                                  size_t kh, size_t kw, size_t sh, size_t sw, size_t ph, size_t pw, size_t oh0,
                                  size_t oh1, size_t wo) {
    if (sw != 1) {
        lsk_f32_im2col_ukernel__scalar(col, ldcol, x, channels, h, w, kh, kw, sh, sw, ph, pw, oh0, oh1, wo);
        return;
    }
    const float32x4_t zero = vdupq_n_f32(0.0f);
    for (size_t c = 0; c < channels; c++) {
        const float *xc = x + c * h * w;
        for (size_t i = 0; i < kh; i++) {
            size_t oh_lo, oh_hi; /* output rows of [oh0, oh1) that read inside the image */
            lsk_conv_valid_range(h, sh, i, ph, oh1, &oh_lo, &oh_hi);
            if (oh_lo < oh0) oh_lo = oh0;
            if (oh_hi < oh_lo) oh_hi = oh_lo;
            for (size_t j = 0; j < kw; j++) {
                float *row = col + ((c * kh + i) * kw + j) * ldcol;
                size_t lo, hi;
                lsk_conv_valid_range(w, 1, j, pw, wo, &lo, &hi);
                for (size_t oh = oh0; oh < oh1; oh++) {
                    float *r = row + (oh - oh0) * wo;
                    size_t q = 0;
                    if (oh >= oh_lo && oh < oh_hi && lo < hi) {
                        for (; q < lo; q++) r[q] = 0.0f;
                        const float *src = xc + (oh * sh + i - ph) * w + lo + j - pw;
                        float *dst = r + lo;
                        const size_t n = hi - lo;
                        size_t t = 0;
                        for (; t + 4 <= n; t += 4) vst1q_f32(dst + t, vld1q_f32(src + t));
                        for (; t < n; t++) dst[t] = src[t];
                        q = hi;
                    }
                    for (; q + 4 <= wo; q += 4) vst1q_f32(r + q, zero);
                    for (; q < wo; q++) r[q] = 0.0f;
                }
            }
        }
    }
}
#endif
