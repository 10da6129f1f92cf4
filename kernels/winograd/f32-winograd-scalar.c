/*
 * F(4x4, 3x3) transforms, portable C: the reference the SIMD paths are tested against
 * (contract: winograd-internal.h; body: f32-winograd-f4-template.h, one lane at a time).
 */
#include "winograd-internal.h"

#define WINO_VEC float
#define WINO_W 1
#define WINO_LOAD(p) (*(p))
#define WINO_STORE(p, v) (*(p) = (v))
#define WINO_ADD(a, b) ((a) + (b))
#define WINO_SUB(a, b) ((a) - (b))
#define WINO_MUL(a, b) ((a) * (b))
#define WINO_FMA(a, b, c) ((a) * (b) + (c))
#define WINO_SET1(x) (x)
#define WINO_NAME(kind) lsk_f32_wino_f4_##kind##_ukernel__scalar
#include "f32-winograd-f4-template.h"

void lsk_f32_wino_gather_ukernel__scalar(const float *x, size_t rs, const lsk_wino_tile *tiles, size_t n, float *d,
                                         size_t ds) {
    for (size_t i = 0; i < n; i++) {
        const lsk_wino_tile *t = &tiles[i];
        for (int r = 0; r < 6; r++)
            for (int k = 0; k < 6; k++) {
                const int present = r >= t->row_lo && r < t->row_hi && k >= t->col_lo && k < t->col_hi;
                d[(size_t)(r * 6 + k) * ds + i] = present ? x[t->offset + (ptrdiff_t)((size_t)r * rs) + k] : 0.0f;
            }
    }
}

void lsk_f32_wino_scatter_ukernel__scalar(const float *o, size_t os, float *y, size_t rs, const lsk_wino_tile *tiles,
                                          size_t n, float bias, int accumulate) {
    for (size_t i = 0; i < n; i++) {
        const lsk_wino_tile *t = &tiles[i];
        for (int a = 0; a < t->row_hi; a++) {
            float *dst = y + t->offset + (ptrdiff_t)((size_t)a * rs);
            for (int b = 0; b < t->col_hi; b++) {
                const float v = o[(size_t)(a * 4 + b) * os + i] + bias;
                dst[b] = accumulate ? dst[b] + v : v;
            }
        }
    }
}
