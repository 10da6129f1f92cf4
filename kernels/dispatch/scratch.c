/* Per-thread, per-slot scratch buffers: grown on demand, reused by every later call,
 * so a training loop allocates only while its shapes are first seen. C99 has no
 * thread-exit hook, so a buffer lives until process exit; OpenMP's worker threads
 * live that long anyway, so nothing is lost in practice. */
#define _POSIX_C_SOURCE 200112L /* posix_memalign */
#include <stdlib.h>
#include "../internal/lsk_internal.h"

#if defined(__GNUC__) || defined(__clang__)
#define LSK_THREAD_LOCAL __thread
#else
#define LSK_THREAD_LOCAL _Thread_local
#endif

static LSK_THREAD_LOCAL void *t_buf[LSK_SCRATCH_SLOTS];
static LSK_THREAD_LOCAL size_t t_cap[LSK_SCRATCH_SLOTS];

void *lsk_scratch(lsk_scratch_slot slot, size_t bytes) {
    if ((int)slot < 0 || slot >= LSK_SCRATCH_SLOTS) return NULL;
    if (bytes <= t_cap[slot] && t_buf[slot]) return t_buf[slot];
    /* Grow by 1.5x so slowly increasing requests do not reallocate every call. */
    size_t cap = bytes + bytes / 2;
    cap = (cap + LSK_ALIGN - 1) / LSK_ALIGN * LSK_ALIGN;
    if (cap < bytes) return NULL; /* overflow */
    void *p = NULL;
    if (posix_memalign(&p, LSK_ALIGN, cap) != 0) return NULL;
    free(t_buf[slot]);
    t_buf[slot] = p;
    t_cap[slot] = cap;
    return p;
}
