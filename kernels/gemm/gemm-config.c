/*
 * Per-ISA SGEMM configs: tile shape, cache blocking, microkernel table.
 *
 * Blocking (Goto/BLIS, with A broadcast and B loaded as vectors): the driver keeps one
 * MR x kc micro-panel of A in L1 while it sweeps the NR-wide micro-panels of a packed
 * kc x nc block of B that stays in L2; the packed mc x kc block of A lives in L2/L3.
 * Zen 5 (L1d 48 KiB, L2 1 MiB, L3 32 MiB): kc = 384 -> A micro-panel 6 x 384 x 4 B = 9 KiB,
 * B block 384 x 384 x 4 B = 576 KiB (about half of L2), A block up to 2048 x 384 x 4 B = 3 MiB
 * (L3). kc = 384 keeps the conv shapes' K = 288 in one block. Numbers: docs/gemm.md.
 */
#include "gemm-internal.h"

#define ENTRY(isa, M, N, LANES) [M - 1][N / LANES - 1] = lsk_f32_gemm_ukernel_##M##x##N##__##isa,

#define SCALAR_ENTRY(M, N) ENTRY(scalar, M, N, 8)
static const lsk_gemm_config k_scalar = {
    .ukernel = {LSK_GEMM_SCALAR_TILES(SCALAR_ENTRY)},
    .mr = 4, .lanes = 8, .nv = 1, .kc = 256, .mc = 512, .nc = 512, .direct_a = 1,
    .pack_a = lsk_f32_gemm_pack_a, .pack_b = lsk_f32_gemm_pack_b,
};

#if defined(__x86_64__)
#define AVX2_ENTRY(M, N) ENTRY(avx2, M, N, 8)
static const lsk_gemm_config k_avx2 = {
    .ukernel = {LSK_GEMM_AVX2_TILES(AVX2_ENTRY)},
    .mr = 6, .lanes = 8, .nv = 2, .kc = 384, .mc = 2048, .nc = 384, .direct_a = 1,
    .pack_a = lsk_f32_gemm_pack_a__avx2, .pack_b = lsk_f32_gemm_pack_b__avx2,
};
#define AVX512_ENTRY(M, N) ENTRY(avx512, M, N, 16)
static const lsk_gemm_config k_avx512 = {
    .ukernel = {LSK_GEMM_AVX512_TILES(AVX512_ENTRY)},
    .mr = 6, .lanes = 16, .nv = 4, .kc = 384, .mc = 2048, .nc = 384, .direct_a = 1,
    .pack_a = lsk_f32_gemm_pack_a__avx512, .pack_b = lsk_f32_gemm_pack_b__avx512,
};
#endif

#if defined(__aarch64__)
#define NEON_ENTRY(M, N) ENTRY(neon, M, N, 4)
static const lsk_gemm_config k_neon = {
    .ukernel = {LSK_GEMM_NEON_TILES(NEON_ENTRY)},
    .mr = 12, .lanes = 4, .nv = 2, .kc = 256, .mc = 1536, .nc = 256, .direct_a = 0,
    .pack_a = lsk_f32_gemm_pack_a, .pack_b = lsk_f32_gemm_pack_b,
};
#endif

const lsk_gemm_config *lsk_gemm_get_config(lsk_isa isa) {
    switch (isa) {
#if defined(__x86_64__)
    case LSK_ISA_AVX2: return &k_avx2;
    case LSK_ISA_AVX512: return &k_avx512;
#endif
#if defined(__aarch64__)
    case LSK_ISA_NEON: return &k_neon;
#endif
    default: return &k_scalar;
    }
}
