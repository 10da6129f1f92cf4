/* Vector-macro layer, AVX2 + FMA3 (8 floats). Include inside isa_avx2_begin.h / isa_end.h.
 * Partial vectors use vmaskmov, which never faults on masked-off lanes. See vec-common.h. */
#include <stddef.h>
#include <stdint.h>
#include "vec-common.h"

#define LSK_VISA avx2
#define LSK_U1 u8
#define LSK_U4 u32
#define VLEN 8
typedef __m256 lsk_vf;
typedef __m256i lsk_vi;
typedef __m256 lsk_vm; /* all-ones lanes where true */

static inline __m256i lsk_vtail_avx2(size_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#define VLD(p) _mm256_loadu_ps(p)
#define VST(p, v) _mm256_storeu_ps(p, v)
#define VLDN(p, n) _mm256_maskload_ps(p, lsk_vtail_avx2(n))
#define VLDNF(p, n, f) \
    _mm256_blendv_ps(_mm256_set1_ps(f), _mm256_maskload_ps(p, lsk_vtail_avx2(n)), _mm256_castsi256_ps(lsk_vtail_avx2(n)))
#define VSTN(p, v, n) _mm256_maskstore_ps(p, lsk_vtail_avx2(n), v)
#define VDUP(s) _mm256_set1_ps(s)
#define VZERO() _mm256_setzero_ps()
#define VADD(a, b) _mm256_add_ps(a, b)
#define VSUB(a, b) _mm256_sub_ps(a, b)
#define VMUL(a, b) _mm256_mul_ps(a, b)
#define VFMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define VMAX(a, b) _mm256_max_ps(a, b)
#define VMIN(a, b) _mm256_min_ps(a, b)
#define VGT(a, b) _mm256_cmp_ps(a, b, _CMP_GT_OQ)
#define VGTNAN(a, b) _mm256_or_ps(_mm256_cmp_ps(a, b, _CMP_GT_OQ), _mm256_cmp_ps(a, a, _CMP_UNORD_Q))
#define VSEL(m, a, b) _mm256_blendv_ps(b, a, m)
#define VSELZ(m, a) _mm256_and_ps(m, a)
#define VHSUM(v) lsk_vhsum_avx2(v)
#define VHMAX(v) lsk_vhmax_avx2(v)
#define VEXP(v) lsk_vexp_avx2(v)
#define VIDUP(s) _mm256_set1_epi32((int32_t)(s))
#define VIADD(a, b) _mm256_add_epi32(a, b)
#define VILD(p) _mm256_loadu_si256((const __m256i *)(p))
#define VIST(p, v) _mm256_storeu_si256((__m256i *)(p), v)
#define VISTN(p, v, n) _mm256_maskstore_epi32((int *)(p), lsk_vtail_avx2(n), v)
#define VISEL(m, a, b) _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(b), _mm256_castsi256_ps(a), m))
#define VDEINT2(a, b, ev, od) lsk_vdeint2_avx2(a, b, &(ev), &(od))
static inline void lsk_vdeint2_avx2(__m256 a, __m256 b, __m256 *ev, __m256 *od) {
    /* shuffle_ps works per 128-bit half: a0 a2 b0 b2 | a4 a6 b4 b6 -> fix the quadword order */
    *ev = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8));
    *od = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD)), 0xD8));
}

static inline float lsk_vhsum_avx2(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
static inline float lsk_vhmax_avx2(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
static inline __m256 lsk_vexp_avx2(__m256 x) {
    const __m256 xc = _mm256_min_ps(_mm256_set1_ps(LSK_EXP_HI), _mm256_max_ps(_mm256_set1_ps(LSK_EXP_LO), x));
    const __m256 fx = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(LSK_EXP_LOG2E)),
                                      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(LSK_EXP_C1), xc);
    r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(LSK_EXP_C2), r);
    __m256 p = _mm256_set1_ps(LSK_EXP_P0);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(LSK_EXP_P1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(LSK_EXP_P2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(LSK_EXP_P3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(LSK_EXP_P4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(LSK_EXP_P5));
    p = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(127)), 23);
    const __m256 y = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
    return _mm256_andnot_ps(_mm256_cmp_ps(x, _mm256_set1_ps(LSK_EXP_LO), _CMP_LT_OQ), y);
}
