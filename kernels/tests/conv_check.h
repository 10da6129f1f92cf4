/*
 * The shared check of one convolution descriptor, used by the conv, dwconv (and any later
 * algorithm-specific) test families: lsk_conv2d_fwd (with and without bias), bwd_data
 * (accumulate 0/1) and bwd_weight (accumulate 0/1, db and db = NULL) against the
 * lsk_ref_conv2d_* oracles, on every ISA path and 1 and 2 threads, plus bitwise
 * determinism of bwd_weight for a fixed thread count.
 *
 * Tolerance (per element): every output is a sum of T products (T = cin_g*kh*kw for fwd,
 * cout_g*kh*kw for bwd_data, batch*out_h*out_w for bwd_weight) plus the bias and, with
 * accumulate, the previous value. Floating-point summation of T terms in ANY order
 * (sequential, blocked GEMM, per-thread partials reduced afterwards, FMA or not) errs by at
 * most gamma_T * sum|term_i| ~= T * u * sum|term_i| (Higham, Accuracy and Stability,
 * ch. 3-4), u = FLT_EPSILON / 2. The check computes sum|term_i| exactly by running the
 * oracle on |x|, |w|, |dy| (and |bias|, |previous|), and allows (T + 4) * FLT_EPSILON * that
 * magnitude (2x the bound, + 4 for the bias, the previous value and the final rounding;
 * bwd_data counts cout_g*kh*kw + kh*kw terms, which also covers the transposed and
 * scatter paths). A wrong index, a missed tap or a missing image changes an element by a
 * whole term (~0.1..1), far above the bound; outputs start as NaN. Winograd's larger error
 * has its own bound (test_winograd.c), so callers keep Winograd shapes out of this check
 * or force the GEMM policy.
 */
#ifndef LSK_TEST_CONV_CHECK_H
#define LSK_TEST_CONV_CHECK_H

#include "harness.h"

/* Runs every pass of descriptor d (see the comment on top); idx names the case in messages.
 * bitwise_across_threads: also require bwd_weight to give the same bits with 1 and 2 threads. */
void lsk_tconv_check_case(lsk_tctx *t, const lsk_conv2d_desc *d, int idx, int bitwise_across_threads);

/* |got - want| <= (terms + 4) * FLT_EPSILON * mag elementwise; records one check. */
int lsk_tcheck_conv_bound(lsk_tctx *t, const char *what, const float *got, const float *want, const float *mag,
                          size_t n, size_t terms);

/* Fills p[0..n) with NaN (so an output a kernel forgets to write fails). */
void lsk_tfill_nan(float *p, size_t n);

#endif
