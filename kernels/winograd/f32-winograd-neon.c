/*
 * F(4x4, 3x3) transforms, NEON: 4 tiles per vector (contract: winograd-internal.h;
 * body: f32-winograd-f4-template.h).
 */
#include "winograd-internal.h"

#if defined(__aarch64__)
#include <arm_neon.h>

#define WINO_VEC float32x4_t
#define WINO_W 4
#define WINO_LOAD(p) vld1q_f32(p)
#define WINO_STORE(p, v) vst1q_f32((p), (v))
#define WINO_ADD(a, b) vaddq_f32((a), (b))
#define WINO_SUB(a, b) vsubq_f32((a), (b))
#define WINO_MUL(a, b) vmulq_f32((a), (b))
#define WINO_FMA(a, b, c) vfmaq_f32((c), (a), (b))
#define WINO_SET1(x) vdupq_n_f32(x)
#define WINO_NAME(kind) lsk_f32_wino_f4_##kind##_ukernel__neon
#include "f32-winograd-f4-template.h"

/* 4x4 transpose of r[0..3] in place. */
static inline void wt_transpose4(float32x4_t r[4]) {
    const float32x4_t t0 = vtrn1q_f32(r[0], r[1]), t1 = vtrn2q_f32(r[0], r[1]);
    const float32x4_t t2 = vtrn1q_f32(r[2], r[3]), t3 = vtrn2q_f32(r[2], r[3]);
    r[0] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
    r[1] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
    r[2] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
    r[3] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
}

/* Gather, 4 tiles at a time: a full patch row (all 6 columns present) is one 4-float and one
 * 2-float load; a partial one goes through a zeroed 8-float copy (NEON has no masked loads).
 * A 4x4 transpose gives columns 0-3 as lane vectors, two unzips columns 4 and 5. */
void lsk_f32_wino_gather_ukernel__neon(const float *x, size_t rs, const lsk_wino_tile *tiles, size_t n, float *d,
                                       size_t ds) {
    for (size_t i0 = 0; i0 < n; i0 += 4) {
        for (int r = 0; r < 6; r++) {
            float32x4_t lo[4];
            float32x2_t hi[4];
            for (int j = 0; j < 4; j++) {
                const lsk_wino_tile *t = &tiles[i0 + j];
                if (r < t->row_lo || r >= t->row_hi) {
                    lo[j] = vdupq_n_f32(0.0f);
                    hi[j] = vdup_n_f32(0.0f);
                    continue;
                }
                const float *src = x + t->offset + (ptrdiff_t)((size_t)r * rs);
                if (t->col_lo == 0 && t->col_hi == 6) {
                    lo[j] = vld1q_f32(src);
                    hi[j] = vld1_f32(src + 4);
                } else {
                    float row[8] = {0};
                    for (int k = t->col_lo; k < t->col_hi; k++) row[k] = src[k];
                    lo[j] = vld1q_f32(row);
                    hi[j] = vld1_f32(row + 4);
                }
            }
            wt_transpose4(lo);
            float *dst = d + (size_t)(r * 6) * ds + i0;
            for (int k = 0; k < 4; k++) vst1q_f32(dst + (size_t)k * ds, lo[k]);
            const float32x4_t h01 = vcombine_f32(hi[0], hi[1]), h23 = vcombine_f32(hi[2], hi[3]);
            vst1q_f32(dst + 4 * ds, vuzp1q_f32(h01, h23));
            vst1q_f32(dst + 5 * ds, vuzp2q_f32(h01, h23));
        }
    }
}

/* Scatter, 4 tiles at a time: a 4x4 transpose turns one output row's 4 lane vectors into one
 * row per tile; full rows are one store, rows at the output's edge are stored element-wise. */
void lsk_f32_wino_scatter_ukernel__neon(const float *o, size_t os, float *y, size_t rs, const lsk_wino_tile *tiles,
                                        size_t n, float bias, int accumulate) {
    const float32x4_t vb = vdupq_n_f32(bias);
    for (size_t i0 = 0; i0 < n; i0 += 4) {
        for (int a = 0; a < 4; a++) {
            const float *src = o + (size_t)(a * 4) * os + i0;
            float32x4_t v[4] = {vld1q_f32(src), vld1q_f32(src + os), vld1q_f32(src + 2 * os), vld1q_f32(src + 3 * os)};
            wt_transpose4(v);
            for (int j = 0; j < 4 && i0 + (size_t)j < n; j++) {
                const lsk_wino_tile *t = &tiles[i0 + j];
                if (a >= t->row_hi) continue;
                float *dst = y + t->offset + (ptrdiff_t)((size_t)a * rs);
                float32x4_t r = vaddq_f32(v[j], vb);
                if (t->col_hi == 4) {
                    if (accumulate) r = vaddq_f32(vld1q_f32(dst), r);
                    vst1q_f32(dst, r);
                } else {
                    float row[4];
                    vst1q_f32(row, r);
                    for (int b = 0; b < t->col_hi; b++) dst[b] = accumulate ? dst[b] + row[b] : row[b];
                }
            }
        }
    }
}
#endif
