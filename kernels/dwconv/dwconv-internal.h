/*
 * Internal pieces of the direct depthwise convolution (groups == in_channels ==
 * out_channels, 3x3 or 5x5, stride 1 or 2): kernels/ops/dwconv.c and kernels/dwconv/.
 * Not installed. Design and measurements: docs/conv.md, section "Depthwise".
 *
 * Layers:
 *   kernels/dwconv/f32-dwconv.h            template of the microkernels below, written once
 *                                          against the vector macros (kernels/eltwise/vec-*.h)
 *   kernels/dwconv/f32-dwconv3x3.h         template of the 3x3 pad-1 row kernels (in place,
 *                                          no packing: the fast path of the common case)
 *   kernels/dwconv/f32-dwconv3x3-narrow-avx512.c  the same for rows of 8 / 4 floats, several
 *                                          rows per AVX-512 vector
 *   kernels/dwconv/f32-dwconv-<isa>.c      their instantiations: scalar (the portable-C
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

/*
 * Row kernels: 3x3, pad 1, stride 1 or 2, one dense (h, w) plane in place (no packing).
 * Single-threaded, allocation-free. `readable*`: floats that may be read from the plane's
 * start (>= its size; more lets a partial vector be read with a plain load).
 *
 * flags: LSK_DW3_ACCUMULATE adds to the output instead of overwriting it (bias ignored);
 * LSK_DW3_STREAM writes whole aligned output vectors with non-temporal stores (for outputs
 * far larger than the caches; call store_fence before the output is read by another thread).
 *
 * s1:  y[h][w] (= bias + | +=) conv(x).
 * s2:  y[(h+1)/2][(w+1)/2] = bias + conv(x) (no LSK_DW3_ACCUMULATE).
 * s2_bwd_data: dx[h][w] (= | +=) data gradient of s2 from dy[(h+1)/2][(w+1)/2]. (Stride 1's
 *      data gradient is s1 with the kernel rotated by 180 degrees.)
 * s1_bwd_weight / s2_bwd_weight: out[9] = this plane's weight gradient, *sum = sum of dy.
 */
#define LSK_DW3_ACCUMULATE 1
#define LSK_DW3_STREAM 2
/* Outputs at least this large are written with streaming stores (they do not stay in a
 * 32 MiB L3 next to their inputs; the store then skips the read-for-ownership). */
#define LSK_DWCONV_NT_MIN_BYTES ((size_t)12 << 20)
typedef struct lsk_dwconv3x3_ukernels {
    void (*s1)(size_t h, size_t w, size_t readable, const float *x, const float *k9, float bias, int flags,
               float *y);
    void (*s2)(size_t h, size_t w, size_t readable, const float *x, const float *k9, float bias, int flags, float *y);
    void (*s2_bwd_data)(size_t h, size_t w, size_t readable, const float *dy, const float *k9, int flags, float *dx);
    void (*s1_bwd_weight)(size_t h, size_t w, size_t readable_x, size_t readable_dy, const float *x, const float *dy,
                          float *out, float *sum);
    void (*s2_bwd_weight)(size_t h, size_t w, size_t readable_x, size_t readable_dy, const float *x, const float *dy,
                          float *out, float *sum);
    void (*store_fence)(void);
} lsk_dwconv3x3_ukernels;

extern const lsk_dwconv3x3_ukernels lsk_dwconv3x3_ukernels__scalar;
#if defined(__x86_64__)
extern const lsk_dwconv3x3_ukernels lsk_dwconv3x3_ukernels__avx2;
extern const lsk_dwconv3x3_ukernels lsk_dwconv3x3_ukernels__avx512;
/* f32-dwconv3x3-narrow-avx512.c: stride 1 on rows of exactly 8 / 4 floats, 16/W rows per
 * 16-lane vector (stride-2 entries: the AVX2 kernels). */
extern const lsk_dwconv3x3_ukernels lsk_dwconv3x3_ukernels__avx512_w8;
extern const lsk_dwconv3x3_ukernels lsk_dwconv3x3_ukernels__avx512_w4;
#endif
#if defined(__aarch64__)
extern const lsk_dwconv3x3_ukernels lsk_dwconv3x3_ukernels__neon;
#endif

/* Row-kernel table for a plane whose output rows are `width` wide: on AVX-512 machines the
 * narrow kernels for widths 8 and 4, else the 8-lane AVX2 kernels where 16-lane vectors
 * would be mostly tail (width % 16 != 0, < 64). */
const lsk_dwconv3x3_ukernels *lsk_dwconv3x3_get_config(lsk_isa isa, size_t width);

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
lsk_status lsk_dwconv_fwd(const lsk_conv_geom *g, float *y, const float *x, const float *w, const float *b,
                          const lsk_conv_epilogue *ep);
lsk_status lsk_dwconv_bwd_data(const lsk_conv_geom *g, float *dx, const float *dy, const float *w, int accumulate);
lsk_status lsk_dwconv_bwd_weight(const lsk_conv_geom *g, float *dw, float *db, const float *dy, const float *x,
                                 int accumulate);
/* Both gradients in one pass over dy (each plane's dy is read from memory once); dx or dw
 * may be NULL to skip that gradient. */
lsk_status lsk_dwconv_bwd(const lsk_conv_geom *g, float *dx, float *dw, float *db, const float *dy, const float *x,
                          const float *w, int accumulate_dx, int accumulate_dw);

#endif /* LSK_DWCONV_INTERNAL_H */
