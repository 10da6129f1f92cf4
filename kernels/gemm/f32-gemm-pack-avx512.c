/*
 * AVX-512 packing for SGEMM (layouts: kernels/gemm/gemm-internal.h).
 *   pack_b, op(B) = B:   each k row of a panel is NR/16 vector copies (a masked, zero-filling
 *                        load for a partial last vector).
 *   pack_b, op(B) = B^T: 16 x 16 blocks transposed in registers (unpack + shuffle_f32x4),
 *                        instead of a scalar gather with a 256-byte write stride.
 *   pack_a, op(A) = A^T: each k step is one masked load and one masked store of mr floats.
 *   pack_a, op(A) = A:   the AVX2 routine (8 x 8 transposes in ymm registers, mr <= 8).
 */
#include "gemm-internal.h"

#if defined(__x86_64__)
#include "../internal/isa_avx512_begin.h"

/* full unrolling lets the compiler keep the arrays of vectors in registers at -O2 */
#define LSK_UNROLL _Pragma("GCC unroll 16")

static inline __mmask16 mask_lo(size_t n) { return (__mmask16)(n >= 16 ? 0xFFFFu : (1u << n) - 1u); }

/* Transposes r[0..15] (rows) in place: r[i] lane j <- old r[j] lane i. */
static inline __attribute__((always_inline)) void transpose16(__m512 r[16]) {
    __m512 t[16];
    LSK_UNROLL for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    LSK_UNROLL for (int i = 0; i < 4; i++) {
        const __m512d a0 = _mm512_castps_pd(t[4 * i]), a1 = _mm512_castps_pd(t[4 * i + 1]);
        const __m512d a2 = _mm512_castps_pd(t[4 * i + 2]), a3 = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a0, a2));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a0, a2));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(a1, a3));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(a1, a3));
    }
    /* r[4i + q] holds, for rows 4i..4i+3, column q + 4 c in 128-bit lane c */
    LSK_UNROLL for (int q = 0; q < 4; q++) {
        t[q] = _mm512_shuffle_f32x4(r[q], r[4 + q], 0x88);      /* lanes 0,2 of rows 0-3 | 4-7 */
        t[4 + q] = _mm512_shuffle_f32x4(r[q], r[4 + q], 0xDD);  /* lanes 1,3 */
        t[8 + q] = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0x88);
        t[12 + q] = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0xDD);
    }
    LSK_UNROLL for (int q = 0; q < 4; q++) {
        r[q] = _mm512_shuffle_f32x4(t[q], t[8 + q], 0x88);          /* column q      */
        r[4 + q] = _mm512_shuffle_f32x4(t[4 + q], t[12 + q], 0x88); /* column q + 4  */
        r[8 + q] = _mm512_shuffle_f32x4(t[q], t[8 + q], 0xDD);      /* column q + 8  */
        r[12 + q] = _mm512_shuffle_f32x4(t[4 + q], t[12 + q], 0xDD);/* column q + 12 */
    }
}

void lsk_f32_gemm_pack_b__avx512(size_t kc, size_t nc, const float *b, size_t ldb, lsk_transpose trans,
                                 size_t nr, size_t lanes, float *out) {
    (void)lanes; /* 16 */
    for (size_t j0 = 0; j0 < nc; j0 += nr) {
        const size_t w = LSK_MIN(nr, nc - j0);
        const size_t stride = w == nr ? nr : (w + 15) / 16 * 16;
        float *dst = out + j0 * kc;
        if (trans == LSK_NO_TRANS) {
            const float *src = b + j0;
            if (w == 64) {
                for (size_t p = 0; p < kc; p++, src += ldb, dst += 64) {
                    const __m512 v0 = _mm512_loadu_ps(src), v1 = _mm512_loadu_ps(src + 16);
                    const __m512 v2 = _mm512_loadu_ps(src + 32), v3 = _mm512_loadu_ps(src + 48);
                    _mm512_storeu_ps(dst, v0);
                    _mm512_storeu_ps(dst + 16, v1);
                    _mm512_storeu_ps(dst + 32, v2);
                    _mm512_storeu_ps(dst + 48, v3);
                }
            } else {
                for (size_t p = 0; p < kc; p++, src += ldb, dst += stride)
                    for (size_t j = 0; j < stride; j += 16)
                        _mm512_storeu_ps(dst + j, _mm512_maskz_loadu_ps(mask_lo(w - LSK_MIN(w, j)), src + j));
            }
        } else {
            /* op(B)[p, j] = b[(j0 + j) * ldb + p]: 16 columns x 16 k at a time */
            for (size_t jv = 0; jv < stride; jv += 16) {
                const size_t cols = LSK_MIN(16, w - LSK_MIN(w, jv)); /* valid columns in this vector */
                for (size_t p0 = 0; p0 < kc; p0 += 16) {
                    const size_t ks = LSK_MIN(16, kc - p0);
                    const __mmask16 km = mask_lo(ks);
                    __m512 r[16];
                    LSK_UNROLL for (size_t j = 0; j < 16; j++)
                        r[j] = j < cols ? _mm512_maskz_loadu_ps(km, b + (j0 + jv + j) * ldb + p0) : _mm512_setzero_ps();
                    transpose16(r);
                    for (size_t q = 0; q < ks; q++) _mm512_storeu_ps(dst + (p0 + q) * stride + jv, r[q]);
                }
            }
        }
    }
}

void lsk_f32_gemm_pack_a__avx512(size_t mc, size_t kc, const float *a, size_t lda, lsk_transpose trans,
                                 size_t mr, float *out) {
    if (trans == LSK_NO_TRANS || mr > 16) {
        lsk_f32_gemm_pack_a__avx2(mc, kc, a, lda, trans, mr, out); /* 8 x 8 transposes */
        return;
    }
    for (size_t i0 = 0; i0 < mc; i0 += mr) {
        const __mmask16 lm = mask_lo(LSK_MIN(mr, mc - i0)), sm = mask_lo(mr); /* rows past mc: zero */
        const float *src = a + i0;
        float *dst = out + i0 * kc;
        for (size_t p = 0; p < kc; p++, src += lda, dst += mr) _mm512_mask_storeu_ps(dst, sm, _mm512_maskz_loadu_ps(lm, src));
    }
}

#include "../internal/isa_end.h"
#endif
