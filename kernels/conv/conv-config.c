/* Per-ISA microkernel table of the conv family (contract: conv-internal.h). */
#include "conv-internal.h"

static const lsk_conv_config k_scalar = {lsk_f32_im2col_ukernel__scalar};
#if defined(__x86_64__)
static const lsk_conv_config k_avx2 = {lsk_f32_im2col_ukernel__avx2};
static const lsk_conv_config k_avx512 = {lsk_f32_im2col_ukernel__avx512};
#endif
#if defined(__aarch64__)
static const lsk_conv_config k_neon = {lsk_f32_im2col_ukernel__neon};
#endif

const lsk_conv_config *lsk_conv_get_config(lsk_isa isa) {
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
