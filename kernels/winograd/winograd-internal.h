/*
 * Internal pieces of the Winograd F(4x4, 3x3) convolution (kernels/ops/winograd.c and
 * kernels/winograd/). Not installed. Math and measurements: docs/conv.md, "Winograd".
 *
 * One output tile is 4x4, read from a 6x6 input patch (alpha = 6). With d the patch, g the
 * 3x3 filter and the matrices below (Lavin & Gray 2016, interpolation points 0, 1, -1, 2,
 * -2 and infinity):
 *   U = G g G^T  (6x6)        V = B^T d B  (6x6)        Y = A^T [ sum_c U_c (.) V_c ] A  (4x4)
 * and, by the chain rule through the same three products, the weight gradient of a tile
 *   dU_c = (A dY A^T) (.) V_c  summed over tiles,     dg = G^T dU G  (3x3).
 * The sum over input channels of the elementwise products is, for each of the 36 positions
 * e of the 6x6 domain, a matrix product M[e] [cout x tiles] = U[e] [cout x cin] x V[e]
 * [cin x tiles], done by lsk_sgemm.
 *
 *   B^T = | 4  0 -5  0  1  0 |   G = | 1/4     0     0  |   A^T = | 1  1  1  1  1  0 |
 *         | 0 -4 -4  1  1  0 |       | -1/6 -1/6  -1/6  |         | 0  1 -1  2 -2  0 |
 *         | 0  4 -4 -1  1  0 |       | -1/6  1/6  -1/6  |         | 0  1  1  4  4  0 |
 *         | 0 -2 -1  2  1  0 |       | 1/24  1/12  1/6  |         | 0  1 -1  8 -8  1 |
 *         | 0  2 -1 -2  1  0 |       | 1/24 -1/12  1/6  |
 *         | 0  4  0 -5  0  1 |       | 0     0     1    |
 *
 * Microkernel layout ("lanes"): every transform works on many tiles (or filters) at once,
 * one tile per lane, so the SIMD code is purely vertical: element r of tile t sits at
 * src[r * src_stride + t]. Each kernel transforms `n` lanes; the caller rounds the
 * buffers' lane count up to LSK_WINO_LANE_ALIGN so a kernel may compute (never fault on,
 * never store past) lanes [n, round_up(n, 16)) of a stride. Single-threaded, allocation-free.
 */
#ifndef LSK_WINOGRAD_INTERNAL_H
#define LSK_WINOGRAD_INTERNAL_H

#include <stddef.h>
#include "../internal/lsk_internal.h"

#define LSK_WINO_ALPHA 6       /* input patch / transform-domain size */
#define LSK_WINO_TILE 4        /* output tile size */
#define LSK_WINO_POINTS 36     /* ALPHA * ALPHA: GEMMs per tile block */
#define LSK_WINO_LANE_ALIGN 16 /* lane counts of every buffer are multiples of this */

/* Input transform: d [36][ds] (row-major 6x6 patch element r*6+c of lane t at d[(r*6+c)*ds + t])
 * -> v [36][vs] (transform-domain element e = i*6+j at v[e*vs + t]). Lanes [0, n). */
typedef void (*lsk_wino_input_fn)(const float *d, size_t ds, float *v, size_t vs, size_t n);
/* Output transform: m [36][ms] -> y [16][ys] (output row a, column b at y[(a*4+b)*ys + t]). */
typedef void (*lsk_wino_output_fn)(const float *m, size_t ms, float *y, size_t ys, size_t n);
/* Adjoint of the output transform (weight gradient): 4x4 tiles dY, stored in the gather's
 * 6x6 patch layout d [36][ds] (elements (a, b) with a, b < 4 read), -> m [36][ms] = A dY A^T. */
typedef void (*lsk_wino_output_adj_fn)(const float *d, size_t ds, float *m, size_t ms, size_t n);
/* Adjoint of the filter transform (weight gradient): m [36][ms] -> g [9][gs] = G^T m G. */
typedef void (*lsk_wino_filter_adj_fn)(const float *m, size_t ms, float *g, size_t gs, size_t n);
/* Filter transform: g [9][gs] (3x3 tap r*3+c) -> u [36][us]. */
typedef void (*lsk_wino_filter_fn)(const float *g, size_t gs, float *u, size_t us, size_t n);


/* Where one tile's patch (gather) or output tile (scatter) lies in a channel plane: element
 * (r, k) of the tile is plane[offset + r * row_stride + k], present for row_lo <= r < row_hi
 * and col_lo <= k < col_hi (input patches: the part inside the image, zeros elsewhere;
 * output tiles: row_lo = col_lo = 0 and the part inside the output). offset may point
 * before the plane (padding); only present elements are ever read or written. Tables are
 * padded to LSK_WINO_LANE_ALIGN entries with empty tiles (row_hi = 0). */
typedef struct lsk_wino_tile {
    ptrdiff_t offset;
    uint8_t row_lo, row_hi, col_lo, col_hi;
    uint8_t mask[6]; /* per row: bit k set if element (row, k) is present (lsk_wino_tile_masks) */
} lsk_wino_tile;

/* Fills t->mask from the row / column ranges: the SIMD gather / scatter load one mask byte per
 * row instead of rebuilding it from the ranges for every channel. */
static inline void lsk_wino_tile_masks(lsk_wino_tile *t) {
    const unsigned cols = t->col_hi > t->col_lo ? ((1u << t->col_hi) - 1u) & ~((1u << t->col_lo) - 1u) : 0u;
    for (int r = 0; r < 6; r++) t->mask[r] = (uint8_t)(r >= t->row_lo && r < t->row_hi ? cols : 0u);
}

/* Gather: the 6x6 patches of tiles [0, n) of one channel plane x (row stride rs) into
 * d [36][ds] (lane = tile, zeros outside [row_lo, row_hi) x [col_lo, col_hi)). */
typedef void (*lsk_wino_gather_fn)(const float *x, size_t rs, const lsk_wino_tile *tiles, size_t n, float *d,
                                   size_t ds);
/* Scatter: output tiles o [16][os] of tiles [0, n) into one channel plane y (row stride rs):
 * y = o + bias, or y += o + bias with accumulate; only the present part of each tile. */
typedef void (*lsk_wino_scatter_fn)(const float *o, size_t os, float *y, size_t rs, const lsk_wino_tile *tiles,
                                    size_t n, float bias, int accumulate);

#define LSK_WINO_DECLARE(isa)                                                                                    \
    void lsk_f32_wino_f4_input_ukernel__##isa(const float *d, size_t ds, float *v, size_t vs, size_t n);       \
    void lsk_f32_wino_f4_output_ukernel__##isa(const float *m, size_t ms, float *y, size_t ys, size_t n);      \
    void lsk_f32_wino_f4_filter_ukernel__##isa(const float *g, size_t gs, float *u, size_t us, size_t n);      \
    void lsk_f32_wino_f4_output_adj_ukernel__##isa(const float *d, size_t ds, float *m, size_t ms, size_t n);  \
    void lsk_f32_wino_f4_filter_adj_ukernel__##isa(const float *m, size_t ms, float *g, size_t gs, size_t n);  \
    void lsk_f32_wino_gather_ukernel__##isa(const float *x, size_t rs, const lsk_wino_tile *tiles, size_t n,    \
                                            float *d, size_t ds);                                              \
    void lsk_f32_wino_scatter_ukernel__##isa(const float *o, size_t os, float *y, size_t rs,                   \
                                             const lsk_wino_tile *tiles, size_t n, float bias, int accumulate);
LSK_WINO_DECLARE(scalar)
LSK_WINO_DECLARE(avx2)
LSK_WINO_DECLARE(avx512)
LSK_WINO_DECLARE(neon)
#undef LSK_WINO_DECLARE

/* Per-ISA table (kernels/winograd/winograd-config.c). Never NULL. */
typedef struct lsk_wino_config {
    lsk_wino_input_fn input;
    lsk_wino_output_fn output;
    lsk_wino_filter_fn filter;
    lsk_wino_gather_fn gather;
    lsk_wino_scatter_fn scatter;
    lsk_wino_output_adj_fn output_adj;
    lsk_wino_filter_adj_fn filter_adj;
} lsk_wino_config;
const lsk_wino_config *lsk_wino_get_config(lsk_isa isa);

#endif /* LSK_WINOGRAD_INTERNAL_H */
