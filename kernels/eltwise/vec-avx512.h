/* Vector-macro layer, AVX-512 F (16 floats). Include inside isa_avx512_begin.h / isa_end.h.
 * Partial vectors use mask registers (masked-off lanes never fault). See vec-common.h. */
#include <stddef.h>
#include <stdint.h>
#include "vec-common.h"

#define LSK_VISA avx512
#define LSK_U1 u16
#define LSK_U4 u64
#define VLEN 16
typedef __m512 lsk_vf;
typedef __m512i lsk_vi;
typedef __mmask16 lsk_vm;

#define lsk_vtail_avx512(n) ((__mmask16)((1u << (n)) - 1u))
#define VLD(p) _mm512_loadu_ps(p)
#define VST(p, v) _mm512_storeu_ps(p, v)
#define VLDN(p, n) _mm512_maskz_loadu_ps(lsk_vtail_avx512(n), p)
#define VLDNF(p, n, f) _mm512_mask_loadu_ps(_mm512_set1_ps(f), lsk_vtail_avx512(n), p)
#define VSTN(p, v, n) _mm512_mask_storeu_ps(p, lsk_vtail_avx512(n), v)
#define VDUP(s) _mm512_set1_ps(s)
#define VZERO() _mm512_setzero_ps()
#define VADD(a, b) _mm512_add_ps(a, b)
#define VSUB(a, b) _mm512_sub_ps(a, b)
#define VMUL(a, b) _mm512_mul_ps(a, b)
#define VFMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define VMAX(a, b) _mm512_max_ps(a, b)
#define VMIN(a, b) _mm512_min_ps(a, b)
#define VGT(a, b) _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ)
#define VGTNAN(a, b) ((__mmask16)(_mm512_cmp_ps_mask(a, b, _CMP_GT_OQ) | _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q)))
#define VSEL(m, a, b) _mm512_mask_blend_ps(m, b, a)
#define VSELZ(m, a) _mm512_maskz_mov_ps(m, a)
#define VHSUM(v) _mm512_reduce_add_ps(v)
#define VHMAX(v) _mm512_reduce_max_ps(v)
#define VEXP(v) lsk_vexp_avx512(v)
#define VIDUP(s) _mm512_set1_epi32((int32_t)(s))
#define VIADD(a, b) _mm512_add_epi32(a, b)
#define VILD(p) _mm512_loadu_si512((const void *)(p))
#define VIST(p, v) _mm512_storeu_si512((void *)(p), v)
#define VISTN(p, v, n) _mm512_mask_storeu_epi32((void *)(p), lsk_vtail_avx512(n), v)
#define VISEL(m, a, b) _mm512_mask_blend_epi32(m, b, a)
#define VDEINT2(a, b, ev, od) lsk_vdeint2_avx512(a, b, &(ev), &(od))
static inline void lsk_vdeint2_avx512(__m512 a, __m512 b, __m512 *ev, __m512 *od) {
    const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    *ev = _mm512_permutex2var_ps(a, ie, b);
    *od = _mm512_permutex2var_ps(a, _mm512_add_epi32(ie, _mm512_set1_epi32(1)), b);
}

static inline __m512 lsk_vexp_avx512(__m512 x) {
    const __m512 xc = _mm512_min_ps(_mm512_set1_ps(LSK_EXP_HI), _mm512_max_ps(_mm512_set1_ps(LSK_EXP_LO), x));
    const __m512 fx = _mm512_roundscale_ps(_mm512_mul_ps(xc, _mm512_set1_ps(LSK_EXP_LOG2E)),
                                           _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(fx, _mm512_set1_ps(LSK_EXP_C1), xc);
    r = _mm512_fnmadd_ps(fx, _mm512_set1_ps(LSK_EXP_C2), r);
    __m512 p = _mm512_set1_ps(LSK_EXP_P0);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(LSK_EXP_P1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(LSK_EXP_P2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(LSK_EXP_P3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(LSK_EXP_P4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(LSK_EXP_P5));
    p = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
    const __m512 y = _mm512_scalef_ps(p, fx); /* p * 2^fx, fx in [-126, 127] */
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(LSK_EXP_LO), _CMP_NLT_UQ), y);
}
