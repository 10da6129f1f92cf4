/*
 * im2col, AVX-512 (contract: conv-internal.h).
 *  - Maps up to 32 wide (every training shape), any stride: im2col_narrow (permutes).
 *  - Wider maps, unit horizontal stride: every output row of a (channel, kernel row, kernel
 *    column) is written 16 columns at a time by one masked load (lanes outside the valid
 *    run [lo, hi) read nothing and give zeros: AVX-512 masked loads never fault on
 *    masked-off lanes) and one masked store (the row's tail). The masks depend only on the
 *    kernel column, so they are computed once per column for rows of up to MAX_CHUNKS * 16
 *    floats; the per-row loop is then a load and a store per chunk.
 *  - Wider maps with other strides: the scalar kernel.
 */
#include "conv-internal.h"

#if defined(__x86_64__)
#include "../internal/isa_avx512_begin.h"

#define MAX_CHUNKS 8

static inline __mmask16 lanes_below(size_t n) { return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u); }

/* Valid-lane mask of chunk q (columns [q, q + 16)) for the run [lo, hi). */
static inline __mmask16 valid_mask(size_t q, size_t lo, size_t hi) {
    const size_t a = lo > q ? lo - q : 0, b = hi > q ? hi - q : 0;
    return (__mmask16)(lanes_below(b) & ~lanes_below(a));
}

/* Rows of at most 32 floats (maps up to 32 wide), any horizontal stride: each input row is
 * loaded once, as two vectors, and every kernel column's output row is one permute of them
 * (vpermt2ps with zero-masking for the padding lanes; a stride is just another index
 * pattern): one pair of loads per kw stores instead of kw unaligned masked loads (or a
 * scalar gather for strides > 1). Measured in docs/conv.md. */
#define NARROW_MAX_KW 16
static void im2col_narrow(float *col, size_t ldcol, const float *x, size_t channels, size_t h, size_t w, size_t kh,
                          size_t kw, size_t sh, size_t sw, size_t ph, size_t pw, size_t oh0, size_t oh1, size_t wo) {
    const size_t nq = (wo + 15) / 16; /* 1 or 2 output chunks per row */
    const __mmask16 load0 = lanes_below(w), load1 = lanes_below(w > 16 ? w - 16 : 0);
    __m512i idx[NARROW_MAX_KW][2];
    __mmask16 valid[NARROW_MAX_KW][2], store[2];
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (size_t q = 0; q < nq; q++) store[q] = lanes_below(wo - 16 * q);
    for (size_t j = 0; j < kw; j++) {
        size_t lo, hi;
        lsk_conv_valid_range(w, sw, j, pw, wo, &lo, &hi);
        for (size_t q = 0; q < nq; q++) {
            /* output column o = 16q + l reads input column o*sw + j - pw (of the 32 loaded) */
            const __m512i o = _mm512_add_epi32(lane, _mm512_set1_epi32((int)(16 * q)));
            const __m512i src = _mm512_add_epi32(_mm512_mullo_epi32(o, _mm512_set1_epi32((int)sw)),
                                                 _mm512_set1_epi32((int)j - (int)pw));
            idx[j][q] = _mm512_and_si512(src, _mm512_set1_epi32(31)); /* invalid lanes: any index */
            valid[j][q] = valid_mask(16 * q, lo, hi);
        }
    }
    const __m512 zero = _mm512_setzero_ps();
    for (size_t c = 0; c < channels; c++) {
        const float *xc = x + c * h * w;
        for (size_t i = 0; i < kh; i++) {
            size_t oh_lo, oh_hi; /* output rows of [oh0, oh1) that read inside the image */
            lsk_conv_valid_range(h, sh, i, ph, oh1, &oh_lo, &oh_hi);
            float *rows = col + (c * kh + i) * kw * ldcol;
            for (size_t oh = oh0; oh < oh1; oh++) {
                __m512 v0 = zero, v1 = zero;
                if (oh >= oh_lo && oh < oh_hi) {
                    const float *xr = xc + (oh * sh + i - ph) * w;
                    v0 = _mm512_maskz_loadu_ps(load0, xr);
                    v1 = _mm512_maskz_loadu_ps(load1, xr + 16);
                }
                float *r = rows + (oh - oh0) * wo;
                for (size_t j = 0; j < kw; j++, r += ldcol) {
                    _mm512_mask_storeu_ps(r, store[0], _mm512_maskz_permutex2var_ps(valid[j][0], v0, idx[j][0], v1));
                    if (nq > 1)
                        _mm512_mask_storeu_ps(r + 16, store[1],
                                              _mm512_maskz_permutex2var_ps(valid[j][1], v0, idx[j][1], v1));
                }
            }
        }
    }
}

void lsk_f32_im2col_ukernel__avx512(float *col, size_t ldcol, const float *x, size_t channels, size_t h, size_t w,
                                    size_t kh, size_t kw, size_t sh, size_t sw, size_t ph, size_t pw, size_t oh0,
                                    size_t oh1, size_t wo) {
    if (w <= 32 && wo <= 32 && kw <= NARROW_MAX_KW) {
        im2col_narrow(col, ldcol, x, channels, h, w, kh, kw, sh, sw, ph, pw, oh0, oh1, wo);
        return;
    }
    if (sw != 1) {
        lsk_f32_im2col_ukernel__scalar(col, ldcol, x, channels, h, w, kh, kw, sh, sw, ph, pw, oh0, oh1, wo);
        return;
    }
    const __m512 zero = _mm512_setzero_ps();
    const size_t nq = (wo + 15) / 16;
    const __mmask16 tail = lanes_below(wo - (nq - 1) * 16);
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
                    for (size_t q = 0; q + 1 < nq; q++) _mm512_storeu_ps(r + 16 * q, zero);
                    _mm512_mask_storeu_ps(r + 16 * (nq - 1), tail, zero);
                }
                if (rb <= ra) continue;
                /* column ow of output row oh is input element xr[ow + j - pw], xr its input row */
                const ptrdiff_t shift = (ptrdiff_t)j - (ptrdiff_t)pw;
                const float *xr = xc + (ra * sh + i - ph) * w;
                float *r = row + (ra - oh0) * wo;
                const size_t xstep = sh * w;
                if (nq == 1) {
                    const __mmask16 vm = valid_mask(0, lo, hi);
                    for (size_t oh = ra; oh < rb; oh++, xr += xstep, r += wo)
                        _mm512_mask_storeu_ps(r, tail, _mm512_maskz_loadu_ps(vm, xr + shift));
                } else if (nq <= MAX_CHUNKS) {
                    __mmask16 vm[MAX_CHUNKS];
                    for (size_t q = 0; q < nq; q++) vm[q] = valid_mask(16 * q, lo, hi);
                    for (size_t oh = ra; oh < rb; oh++, xr += xstep, r += wo) {
                        const float *src = xr + shift; /* masked-off lanes are never read */
                        for (size_t q = 0; q + 1 < nq; q++)
                            _mm512_storeu_ps(r + 16 * q, _mm512_maskz_loadu_ps(vm[q], src + 16 * q));
                        _mm512_mask_storeu_ps(r + 16 * (nq - 1), tail,
                                              _mm512_maskz_loadu_ps(vm[nq - 1], src + 16 * (nq - 1)));
                    }
                } else {
                    for (size_t oh = ra; oh < rb; oh++, xr += xstep, r += wo) {
                        const float *src = xr + shift;
                        for (size_t q = 0; q < nq; q++)
                            _mm512_mask_storeu_ps(r + 16 * q, q + 1 < nq ? (__mmask16)0xFFFF : tail,
                                                  _mm512_maskz_loadu_ps(valid_mask(16 * q, lo, hi), src + 16 * q));
                    }
                }
            }
        }
    }
}

#include "../internal/isa_end.h"
#endif
