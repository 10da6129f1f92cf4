/*
 * AVX-512 SGEMM microkernels: lsk_f32_gemm_ukernel_<r>x<16v>__avx512, r = 1..6 rows,
 * v = 1..4 vectors of 16 floats (full tile 6x64: 24 zmm accumulators, 4 zmm of B and one
 * broadcast of A per k step; 24 independent FMA chains cover 2 FMA pipes x 4 cycles of
 * latency three times over; narrow tiles split k to keep at least 8 chains, see ROW_DECL). The tile shape was chosen by measurement on Zen 5: 6x64,
 * 12x32, 14x32 and 8x48 all run at 96-98% of the FMA peak in L1/L2, and 6x64 gives the
 * fewest wasted rows for the conv shapes (M = 16..128) with the exact-row edge kernels.
 * The columns past nr of the last vector are masked (loads of C and stores).
 * Contract: kernels/gemm/gemm-internal.h.
 */
#include "gemm-internal.h"

#if defined(__x86_64__)
#include "../internal/isa_avx512_begin.h"

#define LSK_INLINE static inline __attribute__((always_inline))

LSK_INLINE void store_tile_vec(float *cp, __m512 acc, __mmask16 m, __m512 va, __m512 vb, int beta0) {
    if (beta0) _mm512_mask_storeu_ps(cp, m, _mm512_mul_ps(acc, va));
    else _mm512_mask_storeu_ps(cp, m, _mm512_fmadd_ps(acc, va, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, cp), vb)));
}

/* Row i of the tile: accumulator slots c<i>0..c<i>3 (unused ones are dead code).
 * Slot s holds vector s % NV of k split s / NV: narrow tiles (few rows x vectors) would
 * have fewer than the 8 independent FMA chains that 2 pipes x 4 cycles of latency need,
 * so they interleave KS k steps into separate slots and add them at the end (a 6x16 tile:
 * 12 chains instead of 6). */
#define ROW_DECL(i) __m512 c##i##0 = _mm512_setzero_ps(), c##i##1 = c##i##0, c##i##2 = c##i##0, c##i##3 = c##i##0;
/* k sub-step Q of a group of KS: slots s with s / NV == Q get vector s % NV of this B row */
#define BVEC(v) ((v) == 0 ? bv0 : (v) == 1 ? bv1 : (v) == 2 ? bv2 : bv3)
#define ROW_FMA(i, Q)                                                                                \
    if (MR > i) {                                                                                    \
        const __m512 av = _mm512_set1_ps(a[i * a_rs]);                                               \
        if (0 / NV == Q && 0 < NS) c##i##0 = _mm512_fmadd_ps(av, BVEC(0 % NV), c##i##0);             \
        if (1 / NV == Q && 1 < NS) c##i##1 = _mm512_fmadd_ps(av, BVEC(1 % NV), c##i##1);             \
        if (2 / NV == Q && 2 < NS) c##i##2 = _mm512_fmadd_ps(av, BVEC(2 % NV), c##i##2);             \
        if (3 / NV == Q && 3 < NS) c##i##3 = _mm512_fmadd_ps(av, BVEC(3 % NV), c##i##3);             \
    }
#define ROW_FMA_Q0(i) ROW_FMA(i, 0)
#define ROW_FMA_Q1(i) ROW_FMA(i, 1)
#define ROW_FMA_Q2(i) ROW_FMA(i, 2)
#define ROW_FMA_Q3(i) ROW_FMA(i, 3)
#define SUBSTEP(Q)                                                                   \
    {                                                                                \
        const __m512 bv0 = _mm512_loadu_ps(b);                                       \
        const __m512 bv1 = NV > 1 ? _mm512_loadu_ps(b + 16) : bv0;                   \
        const __m512 bv2 = NV > 2 ? _mm512_loadu_ps(b + 32) : bv0;                   \
        const __m512 bv3 = NV > 3 ? _mm512_loadu_ps(b + 48) : bv0;                   \
        ALL_ROWS(ROW_FMA_Q##Q)                                                       \
        a += a_cs;                                                                   \
        b += b_rs;                                                                   \
    }
/* fold the k splits back into slots [0, NV) */
#define ROW_FOLD(i)                                                                  \
    if (MR > i) {                                                                    \
        if (NV == 1 && KS == 4) { c##i##0 = _mm512_add_ps(_mm512_add_ps(c##i##0, c##i##1), _mm512_add_ps(c##i##2, c##i##3)); } \
        if (NV == 1 && KS == 2) { c##i##0 = _mm512_add_ps(c##i##0, c##i##1); }      \
        if (NV == 2 && KS == 2) { c##i##0 = _mm512_add_ps(c##i##0, c##i##2); c##i##1 = _mm512_add_ps(c##i##1, c##i##3); } \
    }
#define ROW_STORE(i)                                                                    \
    if (MR > i) {                                                                       \
        float *cr = c + (size_t)i * ldc;                                                \
        store_tile_vec(cr, c##i##0, NV > 1 ? (__mmask16)0xFFFF : ml, va, vb, beta0);     \
        if (NV > 1) store_tile_vec(cr + 16, c##i##1, NV > 2 ? (__mmask16)0xFFFF : ml, va, vb, beta0); \
        if (NV > 2) store_tile_vec(cr + 32, c##i##2, NV > 3 ? (__mmask16)0xFFFF : ml, va, vb, beta0); \
        if (NV > 3) store_tile_vec(cr + 48, c##i##3, ml, va, vb, beta0);                 \
    }
#define ROW_PREFETCH(i)                                                             \
    if (MR > i) {                                                                   \
        const char *cr = (const char *)(c + (size_t)i * ldc);                       \
        _mm_prefetch(cr, _MM_HINT_T0);                                              \
        if (NV > 1) _mm_prefetch(cr + 64, _MM_HINT_T0);                             \
        if (NV > 2) _mm_prefetch(cr + 128, _MM_HINT_T0);                            \
        if (NV > 3) _mm_prefetch(cr + 192, _MM_HINT_T0);                            \
    }
#define ALL_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)

LSK_INLINE void gemm_tile(const int MR, const int NV, size_t kc, const float *a, size_t a_rs, size_t a_cs,
                          const float *b, size_t b_rs, float *c, size_t ldc, size_t nr, float alpha, float beta) {
    ALL_ROWS(ROW_DECL)
    /* the C tile is needed only after the k loop: fetch it now (C rows are usually far
     * apart and out of L2 for large n), hidden behind kc x 12+ cycles of FMAs */
    ALL_ROWS(ROW_PREFETCH)
    /* k splits: see ROW_DECL */
    const int KS = NV == 1 ? (MR >= 4 ? 2 : 4) : NV == 2 ? (MR >= 4 ? 1 : 2) : 1;
    const int NS = NV * KS;
    size_t p = 0;
    for (; p + (size_t)KS <= kc; p += (size_t)KS) {
        SUBSTEP(0)
        if (KS > 1) SUBSTEP(1)
        if (KS > 2) SUBSTEP(2)
        if (KS > 3) SUBSTEP(3)
    }
    for (; p < kc; p++) SUBSTEP(0) /* k tail of a split tile: split 0 only */
    ALL_ROWS(ROW_FOLD)
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    const size_t rem = nr - 16 * (size_t)(NV - 1); /* 1..16 columns in the last vector */
    const __mmask16 ml = (__mmask16)(rem >= 16 ? 0xFFFFu : (1u << rem) - 1u);
    if (beta == 0.0f) {
        const int beta0 = 1;
        ALL_ROWS(ROW_STORE)
    } else {
        const int beta0 = 0;
        ALL_ROWS(ROW_STORE)
    }
}

#define DEFINE_UKERNEL(M, N)                                                                              \
    void lsk_f32_gemm_ukernel_##M##x##N##__avx512(size_t kc, const float *a, size_t a_rs, size_t a_cs,     \
                                                  const float *b, size_t b_rs, float *c, size_t ldc,       \
                                                  size_t nr, float alpha, float beta) {                    \
        gemm_tile(M, N / 16, kc, a, a_rs, a_cs, b, b_rs, c, ldc, nr, alpha, beta);                         \
    }
LSK_GEMM_AVX512_TILES(DEFINE_UKERNEL)

#include "../internal/isa_end.h"
#endif
