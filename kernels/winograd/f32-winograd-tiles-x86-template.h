/*
 * Gather / scatter of 8 tiles at a time with 256-bit vectors (contract: winograd-internal.h),
 * shared by the AVX2 and AVX-512 files, which differ only in how a partial row is loaded or
 * stored (vmaskmov vs mask registers), given as macros by the includer:
 *   WT_MASK_FROM_BYTE(b)         lane mask of 8 (type WT_MASK8) from a bit mask byte; WT_MASK4_FROM_BYTE for 4
 *   WT_LOAD8(p, m)               masked 8-float load, zeros in masked-off lanes, never faults on them
 *   WT_LOAD4(p, m) / WT_STORE4(p, m, v)   the same for 4 floats
 *   WT_NAME(kind)
 * Gather: each tile's patch row is one masked load of 8 columns (lanes 6, 7 and the padding
 * masked off), and an 8x8 transpose turns 8 tiles' rows into 6 lane vectors (one per
 * column): 6 loads + 24 shuffles + 6 stores per patch row of 8 tiles instead of 48 scalar
 * moves. Scatter: a 4x4 transpose per half turns 4 lane vectors (one output row) into one
 * 4-float row per tile, stored (masked at the output's edge) with the bias added.
 */

static inline void wt_transpose8(__m256 r[8]) {
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
    r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
    r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
    r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

void WT_NAME(gather)(const float *x, size_t rs, const lsk_wino_tile *tiles, size_t n, float *d, size_t ds) {
    for (size_t i0 = 0; i0 < n; i0 += 8) {
        /* Per tile: the patch's top-left (may lie in the padding: never dereferenced there)
         * and its per-row masks (lsk_wino_tile_masks: a row outside the image has an empty
         * mask, loads zeros and touches nothing). No branches, which the mix of edge and
         * inner tiles would mispredict, and no mask arithmetic per channel. */
        const float *base[8];
        for (int j = 0; j < 8; j++) base[j] = x + tiles[i0 + j].offset;
        for (int r = 0; r < 6; r++) {
            const size_t off = (size_t)r * rs;
            __m256 v[8];
#define WT_ROW(j) v[j] = WT_LOAD8(base[j] + off, WT_MASK_FROM_BYTE(tiles[i0 + j].mask[r]))
            WT_ROW(0); WT_ROW(1); WT_ROW(2); WT_ROW(3); WT_ROW(4); WT_ROW(5); WT_ROW(6); WT_ROW(7);
#undef WT_ROW
            wt_transpose8(v);
            float *dst = d + (size_t)(r * 6) * ds + i0;
            for (int k = 0; k < 6; k++) _mm256_storeu_ps(dst + (size_t)k * ds, v[k]);
        }
    }
}

void WT_NAME(scatter)(const float *o, size_t os, float *y, size_t rs, const lsk_wino_tile *tiles, size_t n,
                      float bias, int accumulate) {
    const __m128 vb = _mm_set1_ps(bias);
    for (size_t i0 = 0; i0 < n; i0 += 8) {
        /* Per tile: its top-left; every row is one masked store with the row's mask byte (an
         * absent row: empty mask, no access), so edge tiles cost no branches. Lanes past n
         * are empty table entries. */
        float *base[8];
        for (int j = 0; j < 8; j++) base[j] = y + tiles[i0 + j].offset;
        for (int a = 0; a < 4; a++) {
            const float *src = o + (size_t)(a * 4) * os + i0;
            const __m256 c0 = _mm256_loadu_ps(src), c1 = _mm256_loadu_ps(src + os);
            const __m256 c2 = _mm256_loadu_ps(src + 2 * os), c3 = _mm256_loadu_ps(src + 3 * os);
            const __m256 t0 = _mm256_unpacklo_ps(c0, c1), t1 = _mm256_unpackhi_ps(c0, c1);
            const __m256 t2 = _mm256_unpacklo_ps(c2, c3), t3 = _mm256_unpackhi_ps(c2, c3);
            /* u[q] lanes 0-3: row a of tile q; lanes 4-7: of tile q + 4 */
            const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
            const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
            const __m128 row[8] = {_mm256_castps256_ps128(u0), _mm256_castps256_ps128(u1),
                                   _mm256_castps256_ps128(u2), _mm256_castps256_ps128(u3),
                                   _mm256_extractf128_ps(u0, 1), _mm256_extractf128_ps(u1, 1),
                                   _mm256_extractf128_ps(u2, 1), _mm256_extractf128_ps(u3, 1)};
            const size_t off = (size_t)a * rs;
            for (int j = 0; j < 8; j++) {
                const WT_MASK4 m = WT_MASK4_FROM_BYTE(tiles[i0 + j].mask[a]);
                __m128 v = _mm_add_ps(row[j], vb);
                if (accumulate) v = _mm_add_ps(WT_LOAD4(base[j] + off, m), v);
                WT_STORE4(base[j] + off, m, v);
            }
        }
    }
}
