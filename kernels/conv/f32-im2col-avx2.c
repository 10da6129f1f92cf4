/*
 * im2col, AVX2 (contract: conv-internal.h). Unit horizontal stride: rows are written 8
 * columns at a time; a vmaskmovps load reads only the valid lanes [lo, hi) of the input
 * row (masked-off lanes never fault and read as zero), a plain store writes full chunks
 * and a masked store the row's tail. The masks depend only on the kernel column and are
 * computed once per column for rows of up to MAX_CHUNKS * 8 floats.
 * Other strides (or rows longer than MAX_CHUNKS * 8): the scalar kernel.
 */
#include "conv-internal.h"

#if defined(__x86_64__)
#include "../internal/isa_avx2_begin.h"

#define MAX_CHUNKS 32

void lsk_f32_im2col_ukernel__avx2(float *col, size_t ldcol, const float *x, size_t channels, size_t h, size_t w,
                                  size_t kh, size_t kw, size_t sh, size_t sw, size_t ph, size_t pw, size_t oh0,
                                  size_t oh1, size_t wo) {
    const size_t nq = (wo + 7) / 8;
    if (sw != 1 || nq > MAX_CHUNKS) {
        lsk_f32_im2col_ukernel__scalar(col, ldcol, x, channels, h, w, kh, kw, sh, sw, ph, pw, oh0, oh1, wo);
        return;
    }
    const __m256 zero = _mm256_setzero_ps();
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const size_t full = wo / 8; /* chunks stored whole */
    /* lanes of the last, partial chunk inside the row */
    const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(wo - full * 8)), lane);
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
                /* valid output rows [ra, rb); none if the tap column lies in the padding */
                const size_t ra = lo < hi ? oh_lo : oh0, rb = lo < hi ? oh_hi : oh0;
                for (size_t oh = oh0; oh < oh1; oh++) {
                    if (oh == ra) oh = rb; /* skip the valid rows */
                    if (oh >= oh1) break;
                    float *r = row + (oh - oh0) * wo;
                    for (size_t q = 0; q < full; q++) _mm256_storeu_ps(r + 8 * q, zero);
                    if (full < nq) _mm256_maskstore_ps(r + 8 * full, tail, zero);
                }
                if (rb <= ra) continue;
                __m256i vm[MAX_CHUNKS];
                const __m256i vlo = _mm256_set1_epi32((int)lo - 1), vhi = _mm256_set1_epi32((int)hi);
                for (size_t q = 0; q < nq; q++) {
                    const __m256i idx = _mm256_add_epi32(_mm256_set1_epi32((int)(8 * q)), lane);
                    vm[q] = _mm256_and_si256(_mm256_cmpgt_epi32(idx, vlo), _mm256_cmpgt_epi32(vhi, idx));
                }
                /* column ow of output row oh is input element xr[ow + j - pw], xr its input row */
                const ptrdiff_t shift = (ptrdiff_t)j - (ptrdiff_t)pw;
                const float *xr = xc + (ra * sh + i - ph) * w;
                float *r = row + (ra - oh0) * wo;
                for (size_t oh = ra; oh < rb; oh++, xr += sh * w, r += wo) {
                    const float *src = xr + shift; /* masked-off lanes are never read */
                    for (size_t q = 0; q < full; q++) _mm256_storeu_ps(r + 8 * q, _mm256_maskload_ps(src + 8 * q, vm[q]));
                    if (full < nq) _mm256_maskstore_ps(r + 8 * full, tail, _mm256_maskload_ps(src + 8 * full, vm[full]));
                }
            }
        }
    }
}

#include "../internal/isa_end.h"
#endif
