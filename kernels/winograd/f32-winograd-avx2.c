/*
 * F(4x4, 3x3) transforms, AVX2+FMA: 8 tiles per vector (contract: winograd-internal.h;
 * body: f32-winograd-f4-template.h).
 */
#include "winograd-internal.h"

#if defined(__x86_64__)
#include "../internal/isa_avx2_begin.h"

#define WINO_VEC __m256
#define WINO_W 8
#define WINO_LOAD(p) _mm256_loadu_ps(p)
#define WINO_STORE(p, v) _mm256_storeu_ps((p), (v))
#define WINO_ADD(a, b) _mm256_add_ps((a), (b))
#define WINO_SUB(a, b) _mm256_sub_ps((a), (b))
#define WINO_MUL(a, b) _mm256_mul_ps((a), (b))
#define WINO_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define WINO_SET1(x) _mm256_set1_ps(x)
#define WINO_NAME(kind) lsk_f32_wino_f4_##kind##_ukernel__avx2
#include "f32-winograd-f4-template.h"

/* Lane masks for vmaskmovps (sign bit set = lane present) from a bit mask byte. */
static inline __m256i wt_mask8(unsigned b) {
    const __m256i bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)b), bit), bit);
}
static inline __m128i wt_mask4(unsigned b) {
    const __m128i bit = _mm_setr_epi32(1, 2, 4, 8);
    return _mm_cmpeq_epi32(_mm_and_si128(_mm_set1_epi32((int)b), bit), bit);
}
#define WT_MASK8 __m256i
#define WT_MASK4 __m128i
#define WT_MASK_FROM_BYTE(b) wt_mask8(b)
#define WT_MASK4_FROM_BYTE(b) wt_mask4(b)
#define WT_LOAD8(p, m) _mm256_maskload_ps((p), (m))
#define WT_LOAD4(p, m) _mm_maskload_ps((p), (m))
#define WT_STORE4(p, m, v) _mm_maskstore_ps((p), (m), (v))
#define WT_NAME(kind) lsk_f32_wino_##kind##_ukernel__avx2
#include "f32-winograd-tiles-x86-template.h"

#include "../internal/isa_end.h"
#endif
