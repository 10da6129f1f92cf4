/*
 * Shuffle family internals: plane-copy microkernels (one table per ISA) used by
 * kernels/ops/shuffle.c. Not installed. Every shuffle form is a sequence of copies (or, for
 * accumulating backward calls, adds) of contiguous hw planes, so the microkernels are a
 * memcpy-like copy and an in-place add: lsk_f32_<op>_ukernel_<tile>__<isa> from the template
 * f32-copy.h (SIMD paths) and f32-copy-scalar.c (portable C: memcpy). Single-threaded,
 * allocation-free, n >= 1, unaligned pointers, x and y do not overlap.
 */
#ifndef LSK_SHUFFLE_UKERNELS_H
#define LSK_SHUFFLE_UKERNELS_H

#include <stddef.h>

typedef struct lsk_shuffle_ukernels {
    void (*copy)(size_t n, const float *x, float *y); /* y[i] = x[i]    lsk_f32_copy_ukernel_* */
    void (*vacc)(size_t n, const float *x, float *y); /* y[i] += x[i]   lsk_f32_vacc_ukernel_* */
} lsk_shuffle_ukernels;

extern const lsk_shuffle_ukernels lsk_shuffle_ukernels__scalar;
#if defined(__x86_64__)
extern const lsk_shuffle_ukernels lsk_shuffle_ukernels__avx2;
extern const lsk_shuffle_ukernels lsk_shuffle_ukernels__avx512;
#endif
#if defined(__aarch64__)
extern const lsk_shuffle_ukernels lsk_shuffle_ukernels__neon;
#endif

#endif
