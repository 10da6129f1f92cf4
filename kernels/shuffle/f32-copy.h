/*
 * Template of the plane-copy microkernels (contracts in shuffle-ukernels.h). Included once
 * per SIMD ISA after vec-<isa>.h: 4 vectors per step, masked tail (never past y[n-1]).
 * An ISA with aligned non-temporal vector stores defines LSK_COPY_VSTNT(p, v) (p aligned to a
 * vector) and LSK_COPY_FENCE() before including this file; others get copy_nt = copy.
 */
#include <stdint.h>

/* Prefetch the source lines of one 4-vector step, at byte address a (1, 2 or 4 lines of 64
 * bytes). __builtin_prefetch (GCC, clang) never faults, so a may lie past the tensor. */
#define LSK_COPY_PREFETCH_STEP(a)                                                  \
    for (size_t l_ = 0; l_ < 4 * VLEN * sizeof(float); l_ += 64) __builtin_prefetch((const void *)((a) + l_))

void LSK_UK(copy, LSK_U4)(size_t n, const float *x, float *y, size_t prefetch) {
    const uintptr_t pf = (uintptr_t)x + prefetch; /* an integer: the address may be past x's array */
    size_t i = 0;
    for (; i + 4 * VLEN <= n; i += 4 * VLEN) {
        if (prefetch) LSK_COPY_PREFETCH_STEP(pf + i * sizeof(float));
        const lsk_vf a = VLD(x + i), b = VLD(x + i + VLEN), c = VLD(x + i + 2 * VLEN), d = VLD(x + i + 3 * VLEN);
        VST(y + i, a);
        VST(y + i + VLEN, b);
        VST(y + i + 2 * VLEN, c);
        VST(y + i + 3 * VLEN, d);
    }
    for (; i + VLEN <= n; i += VLEN) VST(y + i, VLD(x + i));
    if (i < n) VSTN(y + i, VLDN(x + i, n - i), n - i);
}

#ifdef LSK_COPY_VSTNT
/* Streaming stores write whole lines without reading them first (no read-for-ownership) and
 * bypass the caches. They need aligned addresses: ordinary stores up to the first 64-byte
 * boundary of y (so every streamed vector is aligned and lines are filled whole), then streamed
 * vectors, then an ordinary masked store for the last partial vector. */
void LSK_UK(copynt, LSK_U4)(size_t n, const float *x, float *y, size_t prefetch) {
    const uintptr_t pf = (uintptr_t)x + prefetch;
    size_t i = (size_t)((64 - (uintptr_t)y % 64) % 64) / sizeof(float);
    if (i > n) i = n;
    if (i > 0) LSK_UK(copy, LSK_U4)(i, x, y, 0);
    for (; i + 4 * VLEN <= n; i += 4 * VLEN) {
        if (prefetch) LSK_COPY_PREFETCH_STEP(pf + i * sizeof(float));
        const lsk_vf a = VLD(x + i), b = VLD(x + i + VLEN), c = VLD(x + i + 2 * VLEN), d = VLD(x + i + 3 * VLEN);
        LSK_COPY_VSTNT(y + i, a);
        LSK_COPY_VSTNT(y + i + VLEN, b);
        LSK_COPY_VSTNT(y + i + 2 * VLEN, c);
        LSK_COPY_VSTNT(y + i + 3 * VLEN, d);
    }
    for (; i + VLEN <= n; i += VLEN) LSK_COPY_VSTNT(y + i, VLD(x + i));
    if (i < n) VSTN(y + i, VLDN(x + i, n - i), n - i);
}
static void shuffle_store_fence(void) { LSK_COPY_FENCE(); }
#define LSK_COPY_NT LSK_UK(copynt, LSK_U4)
#else
static void shuffle_store_fence(void) {} /* plain stores only: nothing to order */
#define LSK_COPY_NT LSK_UK(copy, LSK_U4)
#endif

void LSK_UK(vacc, LSK_U4)(size_t n, const float *x, float *y) {
    size_t i = 0;
    for (; i + 4 * VLEN <= n; i += 4 * VLEN) {
        const lsk_vf a = VADD(VLD(y + i), VLD(x + i)), b = VADD(VLD(y + i + VLEN), VLD(x + i + VLEN));
        const lsk_vf c = VADD(VLD(y + i + 2 * VLEN), VLD(x + i + 2 * VLEN));
        const lsk_vf d = VADD(VLD(y + i + 3 * VLEN), VLD(x + i + 3 * VLEN));
        VST(y + i, a);
        VST(y + i + VLEN, b);
        VST(y + i + 2 * VLEN, c);
        VST(y + i + 3 * VLEN, d);
    }
    for (; i + VLEN <= n; i += VLEN) VST(y + i, VADD(VLD(y + i), VLD(x + i)));
    if (i < n) VSTN(y + i, VADD(VLDN(y + i, n - i), VLDN(x + i, n - i)), n - i);
}

const lsk_shuffle_ukernels LSK_UKTABLE(shuffle) = {LSK_UK(copy, LSK_U4), LSK_COPY_NT, LSK_UK(vacc, LSK_U4),
                                                   shuffle_store_fence};
