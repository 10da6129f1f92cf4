/*
 * Internal helpers shared by all kernel families. Not installed; not part of the API.
 */
#ifndef LSK_INTERNAL_H
#define LSK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "../../include/lsk_common.h"

#ifdef _OPENMP
/* Swift's clang ships no omp.h (Debian's libomp-dev puts it in clang-14's private
 * resource dir), so declare the few runtime calls we use; their ABI is fixed. */
#if defined(__has_include)
#if __has_include(<omp.h>)
#include <omp.h>
#define LSK_HAVE_OMP_H 1
#endif
#endif
#ifndef LSK_HAVE_OMP_H
int omp_get_max_threads(void);
int omp_get_thread_num(void);
int omp_get_num_threads(void);
int omp_in_parallel(void);
#endif
#endif

#define LSK_MIN(a, b) ((a) < (b) ? (a) : (b))

/* Records a failure of any thread of a parallel region in *shared (every writer stores a
 * non-OK code, so whichever wins, the region reports a failure). */
static inline void lsk_note_status(lsk_status *shared, lsk_status s) {
    if (s != LSK_OK) {
#ifdef _OPENMP
#pragma omp atomic write
#endif
        *shared = s;
    }
}
#define LSK_MAX(a, b) ((a) > (b) ? (a) : (b))
#define LSK_ALIGN 64

/* Active ISA, resolved once (env LSK_ISA) and changeable by lsk_set_isa. Cheap. */
lsk_isa lsk_active_isa(void);

/* Threads a parallel region should use now: 1 inside an enclosing parallel region,
 * else lsk_get_num_threads(). Use as `#pragma omp parallel num_threads(nt)`. */
int lsk_region_threads(void);

/* Inside a parallel region: this thread's index and the team size (0 and 1 without OpenMP,
 * or outside a region). For splitting work into contiguous per-thread ranges. */
static inline void lsk_thread_slot(size_t *t, size_t *team) {
#ifdef _OPENMP
    *t = (size_t)omp_get_thread_num();
    *team = (size_t)omp_get_num_threads();
#else
    *t = 0;
    *team = 1;
#endif
}

/* Per-thread scratch memory, 64-byte aligned, grown on demand and never freed before
 * thread exit. Each slot is an independent buffer so nested users (conv calling gemm)
 * do not clobber each other. Returns NULL if allocation fails. Contents are undefined. */
typedef enum lsk_scratch_slot {
    LSK_SCRATCH_GEMM_A = 0,   /* packed A block of the calling thread */
    LSK_SCRATCH_GEMM_B = 1,   /* packed B panel (shared by a parallel GEMM's threads) */
    LSK_SCRATCH_CONV_COL = 2, /* im2col / col2im columns */
    LSK_SCRATCH_CONV_AUX = 3, /* per-thread partial weight gradients etc. */
    LSK_SCRATCH_MISC = 4,
    LSK_SCRATCH_SLOTS = 5
} lsk_scratch_slot;
void *lsk_scratch(lsk_scratch_slot slot, size_t bytes);

/* Overflow-checked size products for argument validation. Return 0 on overflow. */
int lsk_mul_ok(size_t a, size_t b, size_t *out);

/* Validate-and-bail helper. */
#define LSK_CHECK(cond) do { if (!(cond)) return LSK_ERR_INVALID_ARGUMENT; } while (0)

#endif /* LSK_INTERNAL_H */
