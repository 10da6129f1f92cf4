/* Depthwise-convolution microkernels, AVX-512 F instantiation of f32-dwconv.h
 * (lsk_f32_dwconv_<op>_ukernel_<tile>__avx512). */
#include <stddef.h>
#include <stdint.h>
#include "dwconv-internal.h"

#if defined(__x86_64__)
#include "../internal/isa_avx512_begin.h"
#include "../eltwise/vec-avx512.h"
/* One two-source permute per half: lo takes lanes a0 b0 .. a7 b7, hi a8 b8 .. a15 b15. */
#define DW_VINT2(a, b, lo, hi) lsk_dw_vint2_avx512(a, b, &(lo), &(hi))
static inline void lsk_dw_vint2_avx512(__m512 a, __m512 b, __m512 *lo, __m512 *hi) {
    const __m512i il = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    *lo = _mm512_permutex2var_ps(a, il, b);
    *hi = _mm512_permutex2var_ps(a, _mm512_add_epi32(il, _mm512_set1_epi32(8)), b);
}
#define DW_VZTAIL(v, n) _mm512_maskz_mov_ps(lsk_vtail_avx512(n), v)
#include "f32-dwconv.h"
/* Row shifted by one lane, the missing lane from the neighbouring vector: one valignd. */
#define DW_VPREV1(c, p) _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(c), _mm512_castps_si512(p), 15))
#define DW_VNEXT1(c, n) _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(n), _mm512_castps_si512(c), 1))
#define DW_VSTREAM(p, v) _mm512_stream_ps(p, v)
#define DW_FENCE() _mm_sfence()
#include "f32-dwconv3x3.h"
#include "../internal/isa_end.h"
#endif
