/*
 * Portable C SGEMM microkernels: lsk_f32_gemm_ukernel_<r>x8__scalar, r = 1..4 rows, one
 * "vector" of 8 columns (full tile 4x8: 32 accumulators the compiler may keep in SSE/NEON
 * registers or on the stack). Used by the same driver as the SIMD paths.
 * Contract: kernels/gemm/gemm-internal.h.
 */
#include "gemm-internal.h"

#define LSK_SCALAR_NR 8

static inline void gemm_tile(const size_t MR, size_t kc, const float *a, size_t a_rs, size_t a_cs,
                             const float *b, size_t b_rs, float *c, size_t ldc, size_t nr,
                             float alpha, float beta) {
    float acc[4][LSK_SCALAR_NR];
    for (size_t i = 0; i < MR; i++)
        for (size_t j = 0; j < LSK_SCALAR_NR; j++) acc[i][j] = 0.0f;
    for (size_t p = 0; p < kc; p++) {
        for (size_t i = 0; i < MR; i++) {
            const float av = a[i * a_rs];
            for (size_t j = 0; j < LSK_SCALAR_NR; j++) acc[i][j] += av * b[j];
        }
        a += a_cs;
        b += b_rs;
    }
    for (size_t i = 0; i < MR; i++) {
        float *cr = c + i * ldc;
        if (beta == 0.0f)
            for (size_t j = 0; j < nr; j++) cr[j] = alpha * acc[i][j];
        else
            for (size_t j = 0; j < nr; j++) cr[j] = alpha * acc[i][j] + beta * cr[j];
    }
}

#define DEFINE_UKERNEL(M, N)                                                                            \
    void lsk_f32_gemm_ukernel_##M##x##N##__scalar(size_t kc, const float *a, size_t a_rs, size_t a_cs,   \
                                                  const float *b, size_t b_rs, float *c, size_t ldc,     \
                                                  size_t nr, float alpha, float beta) {                  \
        gemm_tile(M, kc, a, a_rs, a_cs, b, b_rs, c, ldc, nr, alpha, beta);                               \
    }
LSK_GEMM_SCALAR_TILES(DEFINE_UKERNEL)
