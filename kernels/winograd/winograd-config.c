/* Per-ISA microkernel table of the Winograd family (contract: winograd-internal.h). */
#include "winograd-internal.h"

#define WINO_CONFIG(isa)                                                                                           \
    {lsk_f32_wino_f4_input_ukernel__##isa, lsk_f32_wino_f4_output_ukernel__##isa, lsk_f32_wino_f4_filter_ukernel__##isa, \
     lsk_f32_wino_gather_ukernel__##isa, lsk_f32_wino_scatter_ukernel__##isa, lsk_f32_wino_f4_output_adj_ukernel__##isa, \
     lsk_f32_wino_f4_filter_adj_ukernel__##isa}

static const lsk_wino_config k_scalar = WINO_CONFIG(scalar);
#if defined(__x86_64__)
static const lsk_wino_config k_avx2 = WINO_CONFIG(avx2);
static const lsk_wino_config k_avx512 = WINO_CONFIG(avx512);
#endif
#if defined(__aarch64__)
static const lsk_wino_config k_neon = WINO_CONFIG(neon);
#endif

const lsk_wino_config *lsk_wino_get_config(lsk_isa isa) {
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
