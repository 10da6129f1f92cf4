/* SGEMM packing routines (portable C). Layouts: kernels/gemm/gemm-internal.h. */
#include <string.h>
#include "gemm-internal.h"

void lsk_f32_gemm_pack_a(size_t mc, size_t kc, const float *a, size_t lda, lsk_transpose trans,
                         size_t mr, float *out) {
    for (size_t i0 = 0; i0 < mc; i0 += mr) {
        const size_t rows = LSK_MIN(mr, mc - i0);
        float *dst = out + i0 * kc;
        if (rows < mr)
            for (size_t p = 0; p < kc; p++)
                for (size_t r = rows; r < mr; r++) dst[p * mr + r] = 0.0f;
        if (trans == LSK_NO_TRANS) {
            /* rows of A are contiguous in k: read each row, write with stride mr */
            for (size_t r = 0; r < rows; r++) {
                const float *src = a + (i0 + r) * lda;
                for (size_t p = 0; p < kc; p++) dst[p * mr + r] = src[p];
            }
        } else {
            /* column p of op(A) is contiguous: copy `rows` floats per k step */
            for (size_t p = 0; p < kc; p++) {
                const float *src = a + p * lda + i0;
                for (size_t r = 0; r < rows; r++) dst[p * mr + r] = src[r];
            }
        }
    }
}

void lsk_f32_gemm_pack_b(size_t kc, size_t nc, const float *b, size_t ldb, lsk_transpose trans,
                         size_t nr, size_t lanes, float *out) {
    for (size_t j0 = 0; j0 < nc; j0 += nr) {
        const size_t w = LSK_MIN(nr, nc - j0);
        const size_t stride = w == nr ? nr : (w + lanes - 1) / lanes * lanes;
        float *dst = out + j0 * kc;
        if (trans == LSK_NO_TRANS) {
            for (size_t p = 0; p < kc; p++) {
                float *d = dst + p * stride;
                memcpy(d, b + p * ldb + j0, w * sizeof(float));
                for (size_t j = w; j < stride; j++) d[j] = 0.0f;
            }
        } else {
            /* op(B)[p, j] = b[j * ldb + p]: read rows of the stored matrix, scatter by stride */
            for (size_t j = 0; j < w; j++) {
                const float *src = b + (j0 + j) * ldb;
                for (size_t p = 0; p < kc; p++) dst[p * stride + j] = src[p];
            }
            for (size_t p = 0; p < kc; p++)
                for (size_t j = w; j < stride; j++) dst[p * stride + j] = 0.0f;
        }
    }
}
