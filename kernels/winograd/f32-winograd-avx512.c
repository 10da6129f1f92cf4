/*
 * F(4x4, 3x3) transforms, AVX-512: 16 tiles per vector (contract: winograd-internal.h;
 * body: f32-winograd-f4-template.h).
 */
#include "winograd-internal.h"

#if defined(__x86_64__)
#include "../internal/isa_avx512_begin.h"

#define WINO_VEC __m512
#define WINO_W 16
#define WINO_LOAD(p) _mm512_loadu_ps(p)
#define WINO_STORE(p, v) _mm512_storeu_ps((p), (v))
#define WINO_ADD(a, b) _mm512_add_ps((a), (b))
#define WINO_SUB(a, b) _mm512_sub_ps((a), (b))
#define WINO_MUL(a, b) _mm512_mul_ps((a), (b))
#define WINO_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define WINO_SET1(x) _mm512_set1_ps(x)
#define WINO_NAME(kind) lsk_f32_wino_f4_##kind##_ukernel__avx512
#include "f32-winograd-f4-template.h"

/* Lane masks are mask registers (AVX-512VL masked 256/128-bit loads and stores never fault on
 * masked-off lanes): the mask byte is the mask. */
#define WT_MASK8 __mmask8
#define WT_MASK4 __mmask8
#define WT_MASK_FROM_BYTE(b) ((__mmask8)(b))
#define WT_MASK4_FROM_BYTE(b) ((__mmask8)(b))
#define WT_LOAD8(p, m) _mm256_maskz_loadu_ps((m), (p))
#define WT_LOAD4(p, m) _mm_maskz_loadu_ps((m), (p))
#define WT_STORE4(p, m, v) _mm_mask_storeu_ps((p), (m), (v))
#define WT_NAME(kind) lsk_f32_wino_##kind##_ukernel__avx512
#include "f32-winograd-tiles-x86-template.h"

#include "../internal/isa_end.h"
#endif
