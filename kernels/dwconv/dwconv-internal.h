/*
 * Internal pieces of the direct depthwise convolution (groups == in_channels ==
 * out_channels, 3x3 or 5x5, stride 1 or 2): kernels/ops/dwconv.c and kernels/dwconv/.
 * Not installed. Design and measurements: docs/conv.md, section "Depthwise".
 *
 * Layers:
 *   kernels/dwconv/f32-dwconv.h            template of the microkernels below, written once
 *                                          against the vector macros (kernels/eltwise/vec-*.h)
 *   kernels/dwconv/f32-dwconv-<isa>.c      its instantiations: scalar (the portable-C
 *                                          reference), avx2, avx512, neon
 *   kernels/dwconv/dwconv-config.c         per-ISA table
 *   kernels/ops/dwconv.c                   operator: plane packing, tap lists, OpenMP
 *
 * The operator turns every pass into "flat" sums over a zero-padded copy of one channel
 * plane laid out with a row pitch L: an output row of the plane then reads each tap's
 * input as one contiguous run (a fixed offset from the output index), so a whole plane is
 * one long SIMD loop with no edge cases. Stride 2 is made unit-stride by splitting the
 * padded plane into its four (row parity, column parity) phase planes while packing.
 */
#ifndef LSK_DWCONV_INTERNAL_H
#define LSK_DWCONV_INTERNAL_H

#include <stddef.h>
#include "../conv/conv-internal.h"

/* Flat lengths handed to the axpy / dot microkernels are multiples of this (the widest
 * vector, 16 floats), so the microkernels have no tails; buffers are padded to match. */
#define LSK_DWCONV_BLOCK 16

/*
 * Microkernels. Single-threaded, allocation-free, unaligned pointers, no CPU checks.
 *
 * axpy:  out[q] = init + sum_{t < terms} w[t] * src[t][q]      for q < n
 *        n % LSK_DWCONV_BLOCK == 0, terms >= 1; src[t][0..n) readable; out does not
 *        overlap any src. (Forward pass and data gradient: one output plane per call.)
 * dot:   out[t] = sum_{q < n} a[q] * src[t][q]                  for t < terms
 *        and, if sum_a != NULL, *sum_a = sum_{q < n} a[q].
 *        n % LSK_DWCONV_BLOCK == 0, terms >= 1. (Weight and bias gradient of one plane.)
 * deint2: even[c] = x[2c] for 2c < w, odd[c] = x[2c+1] for 2c+1 < w; w >= 1; writes
 *        exactly ceil(w/2) / floor(w/2) floats; x[0..avail) readable, avail >= w (reads
 *        past w only when avail allows). (Packing a stride-2 input row.)
 * int2:  y[2c] (+)= a[c], y[2c+1] (+)= b[c] for indices < w; "+=" when accumulate != 0;
 *        never touches y[w..]. (Unpacking a stride-2 data-gradient row.)
 * rows_in:  y[r*ldy + i] = x[r*ldx + i] for r < rows, i < w, and ZEROS in
 *        y[r*ldy + w .. r*ldy + round_up(w, VLEN)) (at most LSK_DWCONV_BLOCK - 1 floats past
 *        each row, which the caller provides and rewrites or wants zero). Packing.
 * rows_out: y[r*w + i] = x[r*ldx + i] for r < rows, i < w (a dense plane; x readable to
 *        round_up(w, VLEN) per row); never writes past y[rows*w - 1]. Unpacking.
 * vacc:  y[i] += x[i] for i < n. Unpacking with accumulate.
 */
typedef struct lsk_dwconv_ukernels {
    void (*axpy)(size_t n, size_t terms, const float *const *src, const float *w, float init, float *out);
    void (*dot)(size_t n, size_t terms, const float *a, const float *const *src, float *out, float *sum_a);
    void (*deint2)(size_t w, size_t avail, const float *x, float *even, float *odd);
    void (*int2)(size_t w, const float *a, const float *b, float *y, int accumulate);
    void (*rows_in)(size_t rows, size_t w, const float *x, size_t ldx, float *y, size_t ldy);
    void (*rows_out)(size_t rows, size_t w, const float *x, size_t ldx, float *y);
    void (*vacc)(size_t n, const float *x, float *y);
} lsk_dwconv_ukernels;

extern const lsk_dwconv_ukernels lsk_dwconv_ukernels__scalar;
#if defined(__x86_64__)
extern const lsk_dwconv_ukernels lsk_dwconv_ukernels__avx2;
extern const lsk_dwconv_ukernels lsk_dwconv_ukernels__avx512;
#endif
#if defined(__aarch64__)
extern const lsk_dwconv_ukernels lsk_dwconv_ukernels__neon;
#endif

/* Per-ISA table (dwconv-config.c). Never NULL. */
const lsk_dwconv_ukernels *lsk_dwconv_get_config(lsk_isa isa);

/* Operator (ops/dwconv.c), for geometries lsk_conv_choose_algo sends to
 * LSK_CONV_ALGO_DEPTHWISE_DIRECT; inputs validated, batch >= 1. */
lsk_status lsk_dwconv_fwd(const lsk_conv_geom *g, float *y, const float *x, const float *w, const float *b);
lsk_status lsk_dwconv_bwd_data(const lsk_conv_geom *g, float *dx, const float *dy, const float *w, int accumulate);
lsk_status lsk_dwconv_bwd_weight(const lsk_conv_geom *g, float *dw, float *db, const float *dy, const float *x,
                                 int accumulate);

#endif /* LSK_DWCONV_INTERNAL_H */
