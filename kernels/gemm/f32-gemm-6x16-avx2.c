/*
 * AVX2+FMA SGEMM microkernels: lsk_f32_gemm_ukernel_<r>x<8v>__avx2, r = 1..6 rows,
 * v = 1..2 vectors of 8 floats (full tile 6x16: 12 ymm accumulators + 2 of B + 1 broadcast
 * of the 16 ymm registers; 12 FMA chains cover 2 pipes x 4 cycles; one-vector tiles split
 * k in two to keep 12 chains). A partial last vector
 * uses vmaskmov loads/stores of C. Contract: kernels/gemm/gemm-internal.h.
 */
#include "gemm-internal.h"

#if defined(__x86_64__)
#include "../internal/isa_avx2_begin.h"

#define LSK_INLINE static inline __attribute__((always_inline))

static const int32_t k_mask_table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

LSK_INLINE void store_vec(float *cp, __m256 acc, int full, __m256i m, __m256 va, __m256 vb, int beta0) {
    if (full) {
        if (beta0) _mm256_storeu_ps(cp, _mm256_mul_ps(acc, va));
        else _mm256_storeu_ps(cp, _mm256_fmadd_ps(acc, va, _mm256_mul_ps(_mm256_loadu_ps(cp), vb)));
    } else {
        if (beta0) _mm256_maskstore_ps(cp, m, _mm256_mul_ps(acc, va));
        else _mm256_maskstore_ps(cp, m, _mm256_fmadd_ps(acc, va, _mm256_mul_ps(_mm256_maskload_ps(cp, m), vb)));
    }
}

/* Row i: accumulator slots c<i>0, c<i>1. A one-vector tile (6x8) would have only 6 FMA
 * chains for 2 pipes x 4 cycles of latency, so it puts even k steps in slot 0 and odd ones
 * in slot 1 (KS = 2) and adds them at the end. */
#define ROW_DECL(i) __m256 c##i##0 = _mm256_setzero_ps(), c##i##1 = c##i##0;
#define ROW_FMA(i, Q)                                                                \
    if (MR > i) {                                                                    \
        const __m256 av = _mm256_broadcast_ss(a + i * a_rs);                         \
        if (KS == 1) {                                                               \
            c##i##0 = _mm256_fmadd_ps(av, b0, c##i##0);                              \
            if (NV > 1) c##i##1 = _mm256_fmadd_ps(av, b1, c##i##1);                  \
        } else if (Q == 0) {                                                         \
            c##i##0 = _mm256_fmadd_ps(av, b0, c##i##0);                              \
        } else {                                                                     \
            c##i##1 = _mm256_fmadd_ps(av, b0, c##i##1);                              \
        }                                                                            \
    }
#define ROW_FMA_Q0(i) ROW_FMA(i, 0)
#define ROW_FMA_Q1(i) ROW_FMA(i, 1)
#define SUBSTEP(Q)                                                                   \
    {                                                                                \
        const __m256 b0 = _mm256_loadu_ps(b);                                        \
        const __m256 b1 = NV > 1 ? _mm256_loadu_ps(b + 8) : b0;                      \
        ALL_ROWS(ROW_FMA_Q##Q)                                                       \
        a += a_cs;                                                                   \
        b += b_rs;                                                                   \
    }
#define ROW_FOLD(i) \
    if (MR > i && KS == 2) c##i##0 = _mm256_add_ps(c##i##0, c##i##1);
#define ROW_STORE(i)                                                              \
    if (MR > i) {                                                                 \
        float *cr = c + (size_t)i * ldc;                                          \
        if (NV > 1) {                                                             \
            store_vec(cr, c##i##0, 1, m, va, vb, beta0);                          \
            store_vec(cr + 8, c##i##1, full, m, va, vb, beta0);                   \
        } else {                                                                  \
            store_vec(cr, c##i##0, full, m, va, vb, beta0);                       \
        }                                                                         \
    }
#define ALL_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)

LSK_INLINE void gemm_tile(const int MR, const int NV, size_t kc, const float *a, size_t a_rs, size_t a_cs,
                          const float *b, size_t b_rs, float *c, size_t ldc, size_t nr, float alpha, float beta) {
    ALL_ROWS(ROW_DECL)
    const int KS = NV == 1 ? 2 : 1;
    size_t p = 0;
    for (; p + (size_t)KS <= kc; p += (size_t)KS) {
        SUBSTEP(0)
        if (KS > 1) SUBSTEP(1)
    }
    for (; p < kc; p++) SUBSTEP(0) /* k tail of a split tile: slot 0 */
    ALL_ROWS(ROW_FOLD)
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    const size_t rem = nr - 8 * (size_t)(NV - 1); /* 1..8 columns in the last vector */
    const int full = rem >= 8;
    const __m256i m = _mm256_loadu_si256((const __m256i *)(k_mask_table + 8 - (full ? 8 : rem)));
    if (beta == 0.0f) {
        const int beta0 = 1;
        ALL_ROWS(ROW_STORE)
    } else {
        const int beta0 = 0;
        ALL_ROWS(ROW_STORE)
    }
}

#define DEFINE_UKERNEL(M, N)                                                                            \
    void lsk_f32_gemm_ukernel_##M##x##N##__avx2(size_t kc, const float *a, size_t a_rs, size_t a_cs,     \
                                                const float *b, size_t b_rs, float *c, size_t ldc,       \
                                                size_t nr, float alpha, float beta) {                    \
        gemm_tile(M, N / 8, kc, a, a_rs, a_cs, b, b_rs, c, ldc, nr, alpha, beta);                        \
    }
LSK_GEMM_AVX2_TILES(DEFINE_UKERNEL)

#include "../internal/isa_end.h"
#endif
