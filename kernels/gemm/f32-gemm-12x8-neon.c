/*
 * NEON SGEMM microkernels: lsk_f32_gemm_ukernel_<r>x<4v>__neon, r = 1..12 rows, v = 1..2
 * vectors of 4 floats (full tile 12x8: 24 q accumulators + 2 of B + 3 of A = 29 of the 32
 * registers). A is always packed (config direct_a = 0: a_rs == 1), so each k step loads
 * the A column as up to 3 q vectors and multiplies by lane (FMLA v.4s, v.4s, v.s[l]).
 * Lanes of A past the tile's rows may hold stale data; they are never used.
 * Contract: kernels/gemm/gemm-internal.h.
 */
#include "gemm-internal.h"

#if defined(__aarch64__)
#include <arm_neon.h>

#define LSK_INLINE static inline __attribute__((always_inline))

LSK_INLINE void store_vec(float *cp, float32x4_t acc, size_t cnt, float alpha, float beta) {
    if (cnt >= 4) {
        if (beta == 0.0f) vst1q_f32(cp, vmulq_n_f32(acc, alpha));
        else vst1q_f32(cp, vfmaq_n_f32(vmulq_n_f32(vld1q_f32(cp), beta), acc, alpha));
    } else {
        float tmp[4];
        vst1q_f32(tmp, acc);
        for (size_t j = 0; j < cnt; j++) cp[j] = beta == 0.0f ? alpha * tmp[j] : alpha * tmp[j] + beta * cp[j];
    }
}

#define ROW_DECL(i) float32x4_t c##i##0 = vdupq_n_f32(0.0f), c##i##1 = c##i##0;
/* row i uses lane l of A vector v (i = 4 v + l) */
#define ROW_FMA(i, v, l)                                               \
    if (MR > i) {                                                      \
        c##i##0 = vfmaq_laneq_f32(c##i##0, b0, a##v, l);               \
        if (NV > 1) c##i##1 = vfmaq_laneq_f32(c##i##1, b1, a##v, l);   \
    }
#define ROW_STORE(i)                                                   \
    if (MR > i) {                                                      \
        float *cr = c + (size_t)i * ldc;                               \
        if (NV > 1) {                                                  \
            store_vec(cr, c##i##0, 4, alpha, beta);                    \
            store_vec(cr + 4, c##i##1, nr - 4, alpha, beta);           \
        } else {                                                       \
            store_vec(cr, c##i##0, nr, alpha, beta);                   \
        }                                                              \
    }
#define ALL_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

LSK_INLINE void gemm_tile(const int MR, const int NV, size_t kc, const float *a, size_t a_cs,
                          const float *b, size_t b_rs, float *c, size_t ldc, size_t nr, float alpha, float beta) {
    ALL_ROWS(ROW_DECL)
    for (size_t p = 0; p < kc; p++) {
        const float32x4_t b0 = vld1q_f32(b);
        const float32x4_t b1 = NV > 1 ? vld1q_f32(b + 4) : b0;
        const float32x4_t a0 = vld1q_f32(a);
        const float32x4_t a1 = MR > 4 ? vld1q_f32(a + 4) : a0;
        const float32x4_t a2 = MR > 8 ? vld1q_f32(a + 8) : a0;
        ROW_FMA(0, 0, 0) ROW_FMA(1, 0, 1) ROW_FMA(2, 0, 2) ROW_FMA(3, 0, 3)
        ROW_FMA(4, 1, 0) ROW_FMA(5, 1, 1) ROW_FMA(6, 1, 2) ROW_FMA(7, 1, 3)
        ROW_FMA(8, 2, 0) ROW_FMA(9, 2, 1) ROW_FMA(10, 2, 2) ROW_FMA(11, 2, 3)
        a += a_cs;
        b += b_rs;
    }
    ALL_ROWS(ROW_STORE)
}

#define DEFINE_UKERNEL(M, N)                                                                          \
    void lsk_f32_gemm_ukernel_##M##x##N##__neon(size_t kc, const float *a, size_t a_rs, size_t a_cs,   \
                                                const float *b, size_t b_rs, float *c, size_t ldc,     \
                                                size_t nr, float alpha, float beta) {                  \
        (void)a_rs;                                                                                    \
        gemm_tile(M, N / 4, kc, a, a_cs, b, b_rs, c, ldc, nr, alpha, beta);                            \
    }
LSK_GEMM_NEON_TILES(DEFINE_UKERNEL)
#endif
