/* PLACEHOLDER driver (correct, slow): replaced by the packed, blocked, threaded driver. */
#include "../internal/lsk_internal.h"
#include "../../include/lsk_gemm.h"

lsk_status lsk_sgemm(lsk_transpose trans_a, lsk_transpose trans_b, size_t m, size_t n, size_t k,
                     float alpha, const float *a, size_t lda, const float *b, size_t ldb,
                     float beta, float *c, size_t ldc) {
    LSK_CHECK(trans_a == LSK_NO_TRANS || trans_a == LSK_TRANS);
    LSK_CHECK(trans_b == LSK_NO_TRANS || trans_b == LSK_TRANS);
    if (m == 0 || n == 0) return LSK_OK;
    LSK_CHECK(c && ldc >= n);
    if (k > 0) {
        LSK_CHECK(a && b);
        LSK_CHECK(lda >= (trans_a ? m : k) && ldb >= (trans_b ? k : n));
    }
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j++) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
        for (size_t p = 0; p < k; p++) {
            const float av = alpha * (trans_a ? a[p * lda + i] : a[i * lda + p]);
            for (size_t j = 0; j < n; j++) c[i * ldc + j] += av * (trans_b ? b[j * ldb + p] : b[p * ldb + j]);
        }
    }
    return LSK_OK;
}
