/* Vector-macro layer, AArch64 Advanced SIMD (4 floats). Partial vectors go through a
 * small stack buffer (NEON has no masked loads). See vec-common.h. */
#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>
#include "vec-common.h"

#define LSK_VISA neon
#define LSK_U1 u4
#define LSK_U4 u16
#define VLEN 4
typedef float32x4_t lsk_vf;
typedef int32x4_t lsk_vi;
typedef uint32x4_t lsk_vm;

static inline float32x4_t lsk_vldnf_neon(const float *p, size_t n, float fill) {
    float b[4] = {fill, fill, fill, fill};
    for (size_t i = 0; i < n; i++) b[i] = p[i];
    return vld1q_f32(b);
}
static inline void lsk_vstn_neon(float *p, float32x4_t v, size_t n) {
    float b[4];
    vst1q_f32(b, v);
    for (size_t i = 0; i < n; i++) p[i] = b[i];
}
static inline void lsk_vistn_neon(int32_t *p, int32x4_t v, size_t n) {
    int32_t b[4];
    vst1q_s32(b, v);
    for (size_t i = 0; i < n; i++) p[i] = b[i];
}
#define VLD(p) vld1q_f32(p)
#define VST(p, v) vst1q_f32(p, v)
#define VLDN(p, n) lsk_vldnf_neon(p, n, 0.0f)
#define VLDNF(p, n, f) lsk_vldnf_neon(p, n, f)
#define VSTN(p, v, n) lsk_vstn_neon(p, v, n)
#define VDUP(s) vdupq_n_f32(s)
#define VZERO() vdupq_n_f32(0.0f)
#define VADD(a, b) vaddq_f32(a, b)
#define VSUB(a, b) vsubq_f32(a, b)
#define VMUL(a, b) vmulq_f32(a, b)
#define VFMA(a, b, c) vfmaq_f32(c, a, b)
#define VMAX(a, b) vmaxq_f32(a, b)
#define VMIN(a, b) vminq_f32(a, b)
#define VGT(a, b) vcgtq_f32(a, b)
#define VGTNAN(a, b) vorrq_u32(vcgtq_f32(a, b), vmvnq_u32(vceqq_f32(a, a)))
#define VSEL(m, a, b) vbslq_f32(m, a, b)
#define VSELZ(m, a) vreinterpretq_f32_u32(vandq_u32(m, vreinterpretq_u32_f32(a)))
#define VHSUM(v) vaddvq_f32(v)
#define VHMAX(v) vmaxvq_f32(v)
#define VEXP(v) lsk_vexp_neon(v)
#define VIDUP(s) vdupq_n_s32((int32_t)(s))
#define VIADD(a, b) vaddq_s32(a, b)
#define VILD(p) vld1q_s32(p)
#define VIST(p, v) vst1q_s32(p, v)
#define VISTN(p, v, n) lsk_vistn_neon(p, v, n)
#define VISEL(m, a, b) vbslq_s32(m, a, b)
#define VDEINT2(a, b, ev, od) ((ev) = vuzp1q_f32(a, b), (od) = vuzp2q_f32(a, b))

static inline float32x4_t lsk_vexp_neon(float32x4_t x) {
    const float32x4_t xc = vminq_f32(vdupq_n_f32(LSK_EXP_HI), vmaxq_f32(vdupq_n_f32(LSK_EXP_LO), x));
    const float32x4_t fx = vrndnq_f32(vmulq_f32(xc, vdupq_n_f32(LSK_EXP_LOG2E)));
    float32x4_t r = vfmsq_f32(xc, fx, vdupq_n_f32(LSK_EXP_C1));
    r = vfmsq_f32(r, fx, vdupq_n_f32(LSK_EXP_C2));
    float32x4_t p = vdupq_n_f32(LSK_EXP_P0);
    p = vfmaq_f32(vdupq_n_f32(LSK_EXP_P1), p, r);
    p = vfmaq_f32(vdupq_n_f32(LSK_EXP_P2), p, r);
    p = vfmaq_f32(vdupq_n_f32(LSK_EXP_P3), p, r);
    p = vfmaq_f32(vdupq_n_f32(LSK_EXP_P4), p, r);
    p = vfmaq_f32(vdupq_n_f32(LSK_EXP_P5), p, r);
    p = vaddq_f32(vfmaq_f32(r, p, vmulq_f32(r, r)), vdupq_n_f32(1.0f));
    const int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(fx), vdupq_n_s32(127)), 23);
    const float32x4_t y = vmulq_f32(p, vreinterpretq_f32_s32(e));
    return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(y), vcltq_f32(x, vdupq_n_f32(LSK_EXP_LO))));
}
