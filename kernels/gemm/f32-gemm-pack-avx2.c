/*
 * AVX2 packing for SGEMM (layouts: kernels/gemm/gemm-internal.h).
 *   pack_b, op(B) = B:   vector copies per k row (masked, zero-filling for a partial vector).
 *   pack_b, op(B) = B^T: 8 x 8 blocks transposed in registers.
 *   pack_a, op(A) = A^T: one masked load/store of mr floats per k step.
 *   pack_a, op(A) = A:   8 x 8 blocks transposed in registers (mr <= 8).
 */
#include "gemm-internal.h"

#if defined(__x86_64__)
#include "../internal/isa_avx2_begin.h"

#define LSK_UNROLL _Pragma("GCC unroll 8")

static const int32_t k_mask_table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
/* lanes [0, n) set, n <= 8 */
static inline __m256i mask_lo(size_t n) { return _mm256_loadu_si256((const __m256i *)(k_mask_table + 8 - n)); }

static inline __attribute__((always_inline)) void transpose8(__m256 r[8]) {
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

void lsk_f32_gemm_pack_b__avx2(size_t kc, size_t nc, const float *b, size_t ldb, lsk_transpose trans,
                               size_t nr, size_t lanes, float *out) {
    (void)lanes; /* 8 */
    for (size_t j0 = 0; j0 < nc; j0 += nr) {
        const size_t w = LSK_MIN(nr, nc - j0);
        const size_t stride = w == nr ? nr : (w + 7) / 8 * 8;
        float *dst = out + j0 * kc;
        if (trans == LSK_NO_TRANS) {
            const float *src = b + j0;
            for (size_t p = 0; p < kc; p++, src += ldb, dst += stride)
                for (size_t j = 0; j < stride; j += 8) {
                    const size_t cnt = LSK_MIN(8, w - LSK_MIN(w, j));
                    _mm256_storeu_ps(dst + j, cnt == 8 ? _mm256_loadu_ps(src + j) : _mm256_maskload_ps(src + j, mask_lo(cnt)));
                }
        } else {
            for (size_t jv = 0; jv < stride; jv += 8) {
                const size_t cols = LSK_MIN(8, w - LSK_MIN(w, jv));
                for (size_t p0 = 0; p0 < kc; p0 += 8) {
                    const size_t ks = LSK_MIN(8, kc - p0);
                    const __m256i km = mask_lo(ks);
                    __m256 r[8];
                    LSK_UNROLL for (size_t j = 0; j < 8; j++)
                        r[j] = j < cols ? _mm256_maskload_ps(b + (j0 + jv + j) * ldb + p0, km) : _mm256_setzero_ps();
                    transpose8(r);
                    for (size_t q = 0; q < ks; q++) _mm256_storeu_ps(dst + (p0 + q) * stride + jv, r[q]);
                }
            }
        }
    }
}

/* op(A) = A, mr <= 8: 8 rows (missing rows read as zero) x 8 k are transposed in registers;
 * k step p becomes a vector (a[0][p], ..., a[7][p]) stored at out + p * mr with a full
 * 8-float store that the next step's store partly overwrites (a masked store for the last
 * step of a panel, so nothing past the panel is written). */
static void pack_a_rows__avx2(size_t mc, size_t kc, const float *a, size_t lda, size_t mr, float *out) {
    for (size_t i0 = 0; i0 < mc; i0 += mr) {
        const size_t rows = LSK_MIN(mr, mc - i0);
        const __m256i last_mask = mask_lo(mr);
        float *dst = out + i0 * kc;
        for (size_t p0 = 0; p0 < kc; p0 += 8) {
            const size_t ks = LSK_MIN(8, kc - p0);
            const __m256i km = mask_lo(ks);
            __m256 r[8];
            /* the next panel's rows, same columns: A rows are far apart (lda) and the
             * hardware prefetcher does not follow a jump from row to row */
            if (i0 + mr < mc)
                for (size_t i = 0; i < LSK_MIN(mr, mc - i0 - mr); i++)
                    _mm_prefetch((const char *)(a + (i0 + mr + i) * lda + p0), _MM_HINT_T0);
            LSK_UNROLL for (size_t i = 0; i < 8; i++) {
                const float *src = a + (i0 + i) * lda + p0;
                r[i] = i >= rows ? _mm256_setzero_ps() : ks == 8 ? _mm256_loadu_ps(src) : _mm256_maskload_ps(src, km);
            }
            transpose8(r);
            for (size_t q = 0; q < ks; q++) {
                float *d = dst + (p0 + q) * mr;
                if (p0 + q + 1 < kc) _mm256_storeu_ps(d, r[q]);
                else _mm256_maskstore_ps(d, last_mask, r[q]);
            }
        }
    }
}

void lsk_f32_gemm_pack_a__avx2(size_t mc, size_t kc, const float *a, size_t lda, lsk_transpose trans,
                               size_t mr, float *out) {
    if (mr > 8) {
        lsk_f32_gemm_pack_a(mc, kc, a, lda, trans, mr, out);
        return;
    }
    if (trans == LSK_NO_TRANS) {
        pack_a_rows__avx2(mc, kc, a, lda, mr, out);
        return;
    }
    for (size_t i0 = 0; i0 < mc; i0 += mr) {
        const __m256i lm = mask_lo(LSK_MIN(mr, mc - i0)), sm = mask_lo(mr); /* rows past mc: zero */
        const float *src = a + i0;
        float *dst = out + i0 * kc;
        for (size_t p = 0; p < kc; p++, src += lda, dst += mr) _mm256_maskstore_ps(dst, sm, _mm256_maskload_ps(src, lm));
    }
}

#include "../internal/isa_end.h"
#endif
