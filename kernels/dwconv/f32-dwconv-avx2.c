/* Depthwise-convolution microkernels, AVX2 + FMA instantiation of f32-dwconv.h
 * (lsk_f32_dwconv_<op>_ukernel_<tile>__avx2). */
#include <stddef.h>
#include <stdint.h>
#include "dwconv-internal.h"

#if defined(__x86_64__)
#include "../internal/isa_avx2_begin.h"
#include "../eltwise/vec-avx2.h"
/* unpack{lo,hi} interleave within 128-bit halves (a0 b0 a1 b1 | a4 b4 a5 b5 and
 * a2 b2 a3 b3 | a6 b6 a7 b7); permute2f128 puts the halves in order. */
#define DW_VINT2(a, b, lo, hi) lsk_dw_vint2_avx2(a, b, &(lo), &(hi))
static inline void lsk_dw_vint2_avx2(__m256 a, __m256 b, __m256 *lo, __m256 *hi) {
    const __m256 l = _mm256_unpacklo_ps(a, b), h = _mm256_unpackhi_ps(a, b);
    *lo = _mm256_permute2f128_ps(l, h, 0x20);
    *hi = _mm256_permute2f128_ps(l, h, 0x31);
}
#define DW_VZTAIL(v, n) _mm256_and_ps(_mm256_castsi256_ps(lsk_vtail_avx2(n)), v)
#include "f32-dwconv.h"
/* Row shifted by one lane: permute2f128 brings the neighbouring 128-bit half, palignr
 * shifts within halves. */
#define DW_VPREV1(c, p) \
    _mm256_castsi256_ps(_mm256_alignr_epi8(_mm256_castps_si256(c), _mm256_castps_si256(_mm256_permute2f128_ps(p, c, 0x21)), 12))
#define DW_VNEXT1(c, n) \
    _mm256_castsi256_ps(_mm256_alignr_epi8(_mm256_castps_si256(_mm256_permute2f128_ps(c, n, 0x21)), _mm256_castps_si256(c), 4))
#define DW_VSTREAM(p, v) _mm256_stream_ps(p, v)
#define DW_FENCE() _mm_sfence()
#include "f32-dwconv3x3.h"
#include "../internal/isa_end.h"
#endif
