/*
 * Shuffle family internals: plane-copy microkernels (one table per ISA) used by
 * kernels/ops/shuffle.c. Not installed. Every shuffle form is a sequence of copies (or, for
 * accumulating backward calls, adds) of contiguous hw planes, so the microkernels are a
 * memcpy-like copy and an in-place add: lsk_f32_<op>_ukernel_<tile>__<isa> from the template
 * f32-copy.h (SIMD paths) and f32-copy-scalar.c (portable C: memcpy). Single-threaded,
 * allocation-free, n >= 1, unaligned pointers, x and y do not overlap.
 *
 * Why two copies and a prefetch distance (measured, docs/edge-kernels.md section 2): a gather of
 * 1 KiB planes from G read streams loses ~25% to a straight copy because (a) the hardware
 * prefetchers do not run far enough ahead on short per-stream runs, and (b) ordinary stores read
 * every destination line before writing it (read-for-ownership), a third memory transfer that
 * glibc's memcpy avoids on large copies (rep movsb). So the copies prefetch the source
 * `prefetch` bytes ahead of x (the operator passes the distance at which the same read stream
 * continues), and `copy_nt` writes with non-temporal (streaming) stores, for tensors too large
 * to stay in the last-level cache anyway.
 */
#ifndef LSK_SHUFFLE_UKERNELS_H
#define LSK_SHUFFLE_UKERNELS_H

#include <stddef.h>
#include "../../include/lsk_common.h"

typedef struct lsk_shuffle_ukernels {
    /* y[i] = x[i], prefetching the bytes [x + prefetch, x + prefetch + 4n) (none when 0; a
     * prefetch never faults, so the range may run past the tensor)   lsk_f32_copy_ukernel_* */
    void (*copy)(size_t n, const float *x, float *y, size_t prefetch);
    /* the same with non-temporal stores where the ISA has them (else = copy); the caller
     * calls store_fence before the data is read by another thread  lsk_f32_copynt_ukernel_* */
    void (*copy_nt)(size_t n, const float *x, float *y, size_t prefetch);
    void (*vacc)(size_t n, const float *x, float *y); /* y[i] += x[i]   lsk_f32_vacc_ukernel_* */
    void (*store_fence)(void); /* orders copy_nt's stores before later ones (x86 sfence; else no-op) */
} lsk_shuffle_ukernels;

/* Operators switch to copy_nt when a call writes at least this many bytes: about the point where
 * the output (plus the input streaming through) no longer fits a 32 MiB L3, measured as a shuffle
 * followed by a read of its output: at 7.6 MB non-temporal stores made that pair 1.6x slower, at
 * 15 MB both kinds were equal, at 30 MB and above streaming was faster. */
#define LSK_SHUFFLE_NT_MIN_BYTES ((size_t)12 << 20)

extern const lsk_shuffle_ukernels lsk_shuffle_ukernels__scalar;
#if defined(__x86_64__)
extern const lsk_shuffle_ukernels lsk_shuffle_ukernels__avx2;
extern const lsk_shuffle_ukernels lsk_shuffle_ukernels__avx512;
#endif
#if defined(__aarch64__)
extern const lsk_shuffle_ukernels lsk_shuffle_ukernels__neon;
#endif

/* The table for an ISA (kernels/ops/shuffle.c; the scalar one for ISAs without SIMD kernels). */
const lsk_shuffle_ukernels *lsk_shuffle_get_ukernels(lsk_isa isa);

#endif
