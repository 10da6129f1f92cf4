/*
 * Depthwise 3x3 pad 1 stride 1 for narrow planes on AVX-512: rows of exactly 8 or 4 floats
 * (the 8x8 and 4x4 maps of MobileNetV2 / ShuffleNetV2 on 32x32 inputs). One 16-lane vector
 * holds 16/W whole rows of the dense plane, so no lane is idle (the generic row kernels
 * would run 8-lane AVX2 vectors here, or half-empty 16-lane ones). In registers:
 *   the rows above / below = the plane shifted by W lanes (valignd with the previous / next
 *   vector), the columns left / right = each vector rotated by one lane with the lanes of
 *   column 0 / column W-1 zeroed by the instruction's mask (the padding).
 * Contracts: dwconv-internal.h (row kernels); s1 and s1_bwd_weight for w == W only, the
 * stride-2 entries of these tables are the AVX2 row kernels (any width). (Leaving the
 * weight gradient's sums in 16 lanes per (block, channel) and reducing once per block of
 * images instead of per plane measured slower: 2.1 against 1.5 ms best-of-300 for the
 * 256x192x8x8 backward; the partials' load/store per plane cost more than the reductions.)
 */
#include <stddef.h>
#include <stdint.h>
#include "dwconv-internal.h"

#if defined(__x86_64__)
#include "../internal/isa_avx512_begin.h"
#include <immintrin.h>

#define NARROW_ALIGNR(a, b, n) _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(a), _mm512_castps_si512(b), n))
#define NARROW_ROT(m, a, n) \
    _mm512_castsi512_ps(_mm512_maskz_alignr_epi32(m, _mm512_castps_si512(a), _mm512_castps_si512(a), n))

/* Lanes of vector j of a plane of h rows of W floats: 16, or fewer in the last vector. */
#define NARROW_LANES(W, h, j) ((h) * (W) - (size_t)(j) * 16 >= 16 ? 16 : (h) * (W) - (size_t)(j) * 16)

/* Vector j of a plane of n floats: a plain load when whole, else a zero-filling masked one. */
static inline __m512 narrow_load(const float *p, size_t n, size_t j) {
    const size_t left = n - j * 16;
    return left >= 16 ? _mm512_loadu_ps(p + j * 16) : _mm512_maskz_loadu_ps((__mmask16)((1u << left) - 1u), p + j * 16);
}

static inline void narrow_store(float *p, size_t n, size_t j, __m512 v, int stream) {
    const size_t left = n - j * 16;
    if (left >= 16) {
        if (stream && ((uintptr_t)(p + j * 16) & 63) == 0) _mm512_stream_ps(p + j * 16, v);
        else _mm512_storeu_ps(p + j * 16, v);
    } else {
        _mm512_mask_storeu_ps(p + j * 16, (__mmask16)((1u << left) - 1u), v);
    }
}

/* W: row width (8 or 4); LM / RM: masks keeping the lanes that have a left / right neighbour. */
#define NARROW_KERNELS(W, LM, RM)                                                                                    \
    static void narrow_s1_w##W(size_t h, size_t w, size_t readable, const float *x, const float *k9, float bias,     \
                               int flags, float *y) {                                                                \
        (void)w; (void)readable;                                                                                     \
        const size_t n = h * W, nv = (n + 15) / 16;                                                                  \
        const int accumulate = flags & LSK_DW3_ACCUMULATE, stream = flags & LSK_DW3_STREAM;                          \
        const __m512 k0 = _mm512_set1_ps(k9[0]), k1 = _mm512_set1_ps(k9[1]), k2 = _mm512_set1_ps(k9[2]);             \
        const __m512 k3 = _mm512_set1_ps(k9[3]), k4 = _mm512_set1_ps(k9[4]), k5 = _mm512_set1_ps(k9[5]);             \
        const __m512 k6 = _mm512_set1_ps(k9[6]), k7 = _mm512_set1_ps(k9[7]), k8 = _mm512_set1_ps(k9[8]);             \
        const __m512 vb = _mm512_set1_ps(accumulate ? 0.0f : bias);                                                  \
        __m512 prev = _mm512_setzero_ps(), cur = narrow_load(x, n, 0);                                               \
        for (size_t j = 0; j < nv; j++) {                                                                            \
            const __m512 next = j + 1 < nv ? narrow_load(x, n, j + 1) : _mm512_setzero_ps();                         \
            const __m512 up = NARROW_ALIGNR(cur, prev, 16 - W), down = NARROW_ALIGNR(next, cur, W);                  \
            __m512 a0 = _mm512_mul_ps(k0, NARROW_ROT(LM, up, 15));                                                   \
            __m512 a1 = _mm512_fmadd_ps(k3, NARROW_ROT(LM, cur, 15), vb);                                            \
            __m512 a2 = _mm512_mul_ps(k6, NARROW_ROT(LM, down, 15));                                                 \
            a0 = _mm512_fmadd_ps(k1, up, a0);                                                                        \
            a1 = _mm512_fmadd_ps(k4, cur, a1);                                                                       \
            a2 = _mm512_fmadd_ps(k7, down, a2);                                                                      \
            a0 = _mm512_fmadd_ps(k2, NARROW_ROT(RM, up, 1), a0);                                                     \
            a1 = _mm512_fmadd_ps(k5, NARROW_ROT(RM, cur, 1), a1);                                                    \
            a2 = _mm512_fmadd_ps(k8, NARROW_ROT(RM, down, 1), a2);                                                   \
            __m512 acc = _mm512_add_ps(_mm512_add_ps(a0, a2), a1);                                                   \
            if (accumulate) acc = _mm512_add_ps(acc, narrow_load(y, n, j));                                          \
            narrow_store(y, n, j, acc, stream);                                                                      \
            prev = cur;                                                                                              \
            cur = next;                                                                                              \
        }                                                                                                            \
    }                                                                                                                \
    static void narrow_s1_bwd_weight_w##W(size_t h, size_t w, size_t readable_x, size_t readable_dy, const float *x,  \
                                          const float *dy, float *out, float *sum) {                                 \
        (void)w; (void)readable_x; (void)readable_dy;                                                                \
        const size_t n = h * W, nv = (n + 15) / 16;                                                                  \
        __m512 s00 = _mm512_setzero_ps(), s01 = s00, s02 = s00, s10 = s00, s11 = s00, s12 = s00;                     \
        __m512 s20 = s00, s21 = s00, s22 = s00, sd = s00;                                                            \
        __m512 prev = _mm512_setzero_ps(), cur = narrow_load(x, n, 0);                                               \
        for (size_t j = 0; j < nv; j++) {                                                                            \
            const __m512 next = j + 1 < nv ? narrow_load(x, n, j + 1) : _mm512_setzero_ps();                         \
            const __m512 d = narrow_load(dy, n, j);                                                                  \
            const __m512 up = NARROW_ALIGNR(cur, prev, 16 - W), down = NARROW_ALIGNR(next, cur, W);                  \
            s00 = _mm512_fmadd_ps(d, NARROW_ROT(LM, up, 15), s00);                                                   \
            s01 = _mm512_fmadd_ps(d, up, s01);                                                                       \
            s02 = _mm512_fmadd_ps(d, NARROW_ROT(RM, up, 1), s02);                                                    \
            s10 = _mm512_fmadd_ps(d, NARROW_ROT(LM, cur, 15), s10);                                                  \
            s11 = _mm512_fmadd_ps(d, cur, s11);                                                                      \
            s12 = _mm512_fmadd_ps(d, NARROW_ROT(RM, cur, 1), s12);                                                   \
            s20 = _mm512_fmadd_ps(d, NARROW_ROT(LM, down, 15), s20);                                                 \
            s21 = _mm512_fmadd_ps(d, down, s21);                                                                     \
            s22 = _mm512_fmadd_ps(d, NARROW_ROT(RM, down, 1), s22);                                                  \
            sd = _mm512_add_ps(sd, d);                                                                               \
            prev = cur;                                                                                              \
            cur = next;                                                                                              \
        }                                                                                                            \
        out[0] = _mm512_reduce_add_ps(s00); out[1] = _mm512_reduce_add_ps(s01); out[2] = _mm512_reduce_add_ps(s02);   \
        out[3] = _mm512_reduce_add_ps(s10); out[4] = _mm512_reduce_add_ps(s11); out[5] = _mm512_reduce_add_ps(s12);   \
        out[6] = _mm512_reduce_add_ps(s20); out[7] = _mm512_reduce_add_ps(s21); out[8] = _mm512_reduce_add_ps(s22);   \
        *sum = _mm512_reduce_add_ps(sd);                                                                             \
    }

/* W = 8: two rows per vector; column 0 at lanes 0, 8, column 7 at lanes 7, 15. */
NARROW_KERNELS(8, (__mmask16)0xFEFE, (__mmask16)0x7F7F)
/* W = 4: four rows per vector; column 0 at lanes 0, 4, 8, 12, column 3 at 3, 7, 11, 15. */
NARROW_KERNELS(4, (__mmask16)0xEEEE, (__mmask16)0x7777)

static void narrow_fence(void) { _mm_sfence(); }

/* The stride-2 entries: the AVX2 row kernels (f32-dwconv-avx2.c), which take any width. */
void lsk_f32_dwconv3x3s2_ukernel_u8__avx2(size_t h, size_t w, size_t readable, const float *x, const float *k9,
                                          float bias, int flags, float *y);
void lsk_f32_dwconv3x3s2_bwd_data_ukernel_u8__avx2(size_t h, size_t w, size_t readable, const float *dy,
                                                   const float *k9, int flags, float *dx);
void lsk_f32_dwconv3x3s2_bwd_weight_ukernel_u8__avx2(size_t h, size_t w, size_t readable_x, size_t readable_dy,
                                                     const float *x, const float *dy, float *out, float *sum);

const lsk_dwconv3x3_ukernels lsk_dwconv3x3_ukernels__avx512_w8 = {
    narrow_s1_w8, lsk_f32_dwconv3x3s2_ukernel_u8__avx2, lsk_f32_dwconv3x3s2_bwd_data_ukernel_u8__avx2,
    narrow_s1_bwd_weight_w8, lsk_f32_dwconv3x3s2_bwd_weight_ukernel_u8__avx2, narrow_fence};
const lsk_dwconv3x3_ukernels lsk_dwconv3x3_ukernels__avx512_w4 = {
    narrow_s1_w4, lsk_f32_dwconv3x3s2_ukernel_u8__avx2, lsk_f32_dwconv3x3s2_bwd_data_ukernel_u8__avx2,
    narrow_s1_bwd_weight_w4, lsk_f32_dwconv3x3s2_bwd_weight_ukernel_u8__avx2, narrow_fence};

#include "../internal/isa_end.h"
#endif
