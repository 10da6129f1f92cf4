/*
 * lsk_gemm.h — single-precision matrix multiplication.
 *
 *   C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C[m,n]
 *
 * All matrices are row-major. op(X) is X or its transpose:
 *   trans_a == LSK_NO_TRANS: A is stored [m, k] with row stride lda >= k
 *   trans_a == LSK_TRANS:    A is stored [k, m] with row stride lda >= m
 *   trans_b == LSK_NO_TRANS: B is stored [k, n] with row stride ldb >= n
 *   trans_b == LSK_TRANS:    B is stored [n, k] with row stride ldb >= k
 *   C is stored [m, n] with row stride ldc >= n.
 * beta == 0 means C is write-only (NaNs already in C do not propagate), as in BLAS.
 *
 * Implementation: operands are packed into cache-sized blocks (per-thread scratch,
 * grown on first use), a register-blocked microkernel per ISA multiplies them, and
 * OpenMP splits the blocks over lsk_get_num_threads() threads. Called from inside
 * an OpenMP parallel region, it runs single-threaded on the calling thread.
 * Summation order differs between ISA paths and thread counts only in the blocking
 * of k (fixed per ISA), so results are deterministic for a given ISA.
 */
#ifndef LSK_GEMM_H
#define LSK_GEMM_H

#include "lsk_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lsk_transpose { LSK_NO_TRANS = 0, LSK_TRANS = 1 } lsk_transpose;

lsk_status lsk_sgemm(lsk_transpose trans_a, lsk_transpose trans_b,
                     size_t m, size_t n, size_t k,
                     float alpha, const float *a, size_t lda,
                     const float *b, size_t ldb,
                     float beta, float *c, size_t ldc);

/* Scalar oracle: double accumulators, naive loops, same contract. For tests. */
lsk_status lsk_ref_sgemm(lsk_transpose trans_a, lsk_transpose trans_b,
                         size_t m, size_t n, size_t k,
                         float alpha, const float *a, size_t lda,
                         const float *b, size_t ldb,
                         float beta, float *c, size_t ldc);

#ifdef __cplusplus
}
#endif
#endif /* LSK_GEMM_H */
