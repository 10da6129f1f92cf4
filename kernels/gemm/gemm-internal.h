/*
 * SGEMM internals: the microkernel contract, the per-ISA config table and the packing
 * routines. Not installed; used by kernels/ops/gemm.c and the gemm microkernel files.
 *
 * Layering (XNNPACK style):
 *   microkernels  kernels/gemm/f32-gemm-<MR>x<NR>-<isa>.c   single-threaded, no allocation,
 *                 never check the CPU; one function per (rows, vectors) tile shape so edge
 *                 tiles run exactly the rows and vectors they need.
 *   config        kernels/gemm/gemm-config.c               tile sizes, cache blocking and the
 *                                                          ukernel table of each ISA.
 *   operator      kernels/ops/gemm.c                       blocking, packing, OpenMP.
 */
#ifndef LSK_GEMM_INTERNAL_H
#define LSK_GEMM_INTERNAL_H

#include <stddef.h>
#include "../internal/lsk_internal.h"
#include "../../include/lsk_gemm.h"

/*
 * Microkernel: one register tile of C.
 *
 *   C[mr, nr] = alpha * A[mr, kc] * B[kc, nr] + beta * C[mr, nr]     (beta == 0: C write-only)
 *
 * mr (rows) and nv (vectors of `lanes` floats, nr <= nv * lanes) are fixed per function:
 * lsk_f32_gemm_ukernel_<mr>x<nv*lanes>__<isa>.
 *   a     element (i, p) at a[i * a_rs + p * a_cs]  (packed: a_rs = 1, a_cs = MR; or the
 *         caller's matrix read in place). Kernels of configs with direct_a == 0 assume a_rs == 1.
 *   b     element (p, j) at b[p * b_rs + j]; columns j < nv * lanes must be readable
 *         (the driver zero-pads a packed tail panel), values beyond nr are never stored.
 *   c     element (i, j) at c[i * ldc + j]; only i < mr, j < nr are read or written.
 *   kc    may be 0 (then C = beta * C, or 0 if beta == 0).
 * Each C element is accumulated in k order by one FMA chain, or, in narrow tiles (too few
 * accumulators to cover the FMA latency), by KS chains over interleaved k steps added at
 * the end. Its summation order thus depends on the tile shape, which the driver derives
 * only from the element's position in C (block boundaries are MR/NR-aligned), never from
 * the thread count.
 */
typedef void (*lsk_f32_gemm_ukernel_fn)(size_t kc, const float *a, size_t a_rs, size_t a_cs,
                                         const float *b, size_t b_rs, float *c, size_t ldc,
                                         size_t nr, float alpha, float beta);

#define LSK_GEMM_MR_MAX 12
#define LSK_GEMM_NV_MAX 4

typedef struct lsk_gemm_config {
    /* ukernel[mr - 1][nv - 1]: tile of mr rows and nv vectors; NULL for shapes not built. */
    lsk_f32_gemm_ukernel_fn ukernel[LSK_GEMM_MR_MAX][LSK_GEMM_NV_MAX];
    size_t mr;      /* rows of the full tile (A panels are MR tall) */
    size_t lanes;   /* floats per vector */
    size_t nv;      /* vectors of the full tile: NR = nv * lanes */
    size_t kc;      /* k block (the driver balances blocks: ceil(k / ceil(k / kc))) */
    size_t mc;      /* rows of A packed at once (bounds the A scratch) */
    size_t nc;      /* columns of B per block (kc x nc packed floats stay in L2) */
    int direct_a;   /* 1: ukernels take any (a_rs, a_cs); 0: A is always packed */
    /* packing routines (same contract as lsk_f32_gemm_pack_a / _b below) */
    void (*pack_a)(size_t mc, size_t kc, const float *a, size_t lda, lsk_transpose trans, size_t mr, float *out);
    void (*pack_b)(size_t kc, size_t nc, const float *b, size_t ldb, lsk_transpose trans, size_t nr,
                   size_t lanes, float *out);
} lsk_gemm_config;

/* The config of an ISA path (a static table, filled at compile time). Never NULL:
 * an ISA whose kernels are not in this build gets the scalar config. */
const lsk_gemm_config *lsk_gemm_get_config(lsk_isa isa);

/*
 * Packing (portable C, kernels/gemm/f32-gemm-pack.c).
 *
 * lsk_f32_gemm_pack_a: rows [0, mc) and k [0, kc) of op(A) into MR-tall panels:
 *   out[q * MR * kc + p * MR + r] = op(A)[q * MR + r, p]; rows past mc in the last panel
 *   are zero (the mr-row ukernel does not use them).
 *   a points at op(A)[0, 0]: trans == LSK_NO_TRANS: op(A)[i, p] = a[i * lda + p];
 *                            trans == LSK_TRANS:    op(A)[i, p] = a[p * lda + i].
 * lsk_f32_gemm_pack_b: k [0, kc) and columns [0, nc) of op(B) into NR-wide panels:
 *   panel q starts at out + q * NR * kc; a full panel has row stride NR, the last partial
 *   panel of width w = nc - q * NR has row stride round_up(w, lanes), zero-padded.
 *   b points at op(B)[0, 0]: LSK_NO_TRANS: op(B)[p, j] = b[p * ldb + j];
 *                            LSK_TRANS:    op(B)[p, j] = b[j * ldb + p].
 */
void lsk_f32_gemm_pack_a(size_t mc, size_t kc, const float *a, size_t lda, lsk_transpose trans,
                         size_t mr, float *out);
void lsk_f32_gemm_pack_b(size_t kc, size_t nc, const float *b, size_t ldb, lsk_transpose trans,
                         size_t nr, size_t lanes, float *out);

#if defined(__x86_64__)
void lsk_f32_gemm_pack_a__avx512(size_t mc, size_t kc, const float *a, size_t lda, lsk_transpose trans,
                                 size_t mr, float *out);
void lsk_f32_gemm_pack_b__avx512(size_t kc, size_t nc, const float *b, size_t ldb, lsk_transpose trans,
                                 size_t nr, size_t lanes, float *out);
void lsk_f32_gemm_pack_a__avx2(size_t mc, size_t kc, const float *a, size_t lda, lsk_transpose trans,
                               size_t mr, float *out);
void lsk_f32_gemm_pack_b__avx2(size_t kc, size_t nc, const float *b, size_t ldb, lsk_transpose trans,
                               size_t nr, size_t lanes, float *out);
#endif

/* Microkernels of each ISA (tile lists: see the config). */
#define LSK_GEMM_DECLARE_UKERNEL(name)                                                          \
    void name(size_t kc, const float *a, size_t a_rs, size_t a_cs, const float *b, size_t b_rs, \
              float *c, size_t ldc, size_t nr, float alpha, float beta);

#define LSK_GEMM_SCALAR_TILES(X) X(1, 8) X(2, 8) X(3, 8) X(4, 8)
#define LSK_GEMM_DECL_SCALAR(M, N) LSK_GEMM_DECLARE_UKERNEL(lsk_f32_gemm_ukernel_##M##x##N##__scalar)
LSK_GEMM_SCALAR_TILES(LSK_GEMM_DECL_SCALAR)

#define LSK_GEMM_AVX2_ROWS(X, N) X(1, N) X(2, N) X(3, N) X(4, N) X(5, N) X(6, N)
#define LSK_GEMM_AVX2_TILES(X) LSK_GEMM_AVX2_ROWS(X, 8) LSK_GEMM_AVX2_ROWS(X, 16)
#define LSK_GEMM_AVX512_ROWS(X, N) X(1, N) X(2, N) X(3, N) X(4, N) X(5, N) X(6, N)
#define LSK_GEMM_AVX512_TILES(X) \
    LSK_GEMM_AVX512_ROWS(X, 16) LSK_GEMM_AVX512_ROWS(X, 32) LSK_GEMM_AVX512_ROWS(X, 48) LSK_GEMM_AVX512_ROWS(X, 64)
#define LSK_GEMM_NEON_ROWS(X, N) \
    X(1, N) X(2, N) X(3, N) X(4, N) X(5, N) X(6, N) X(7, N) X(8, N) X(9, N) X(10, N) X(11, N) X(12, N)
#define LSK_GEMM_NEON_TILES(X) LSK_GEMM_NEON_ROWS(X, 4) LSK_GEMM_NEON_ROWS(X, 8)

#if defined(__x86_64__)
#define LSK_GEMM_DECL_AVX2(M, N) LSK_GEMM_DECLARE_UKERNEL(lsk_f32_gemm_ukernel_##M##x##N##__avx2)
#define LSK_GEMM_DECL_AVX512(M, N) LSK_GEMM_DECLARE_UKERNEL(lsk_f32_gemm_ukernel_##M##x##N##__avx512)
LSK_GEMM_AVX2_TILES(LSK_GEMM_DECL_AVX2)
LSK_GEMM_AVX512_TILES(LSK_GEMM_DECL_AVX512)
#endif
#if defined(__aarch64__)
#define LSK_GEMM_DECL_NEON(M, N) LSK_GEMM_DECLARE_UKERNEL(lsk_f32_gemm_ukernel_##M##x##N##__neon)
LSK_GEMM_NEON_TILES(LSK_GEMM_DECL_NEON)
#endif

#endif /* LSK_GEMM_INTERNAL_H */
