/* Per-ISA microkernel table of the depthwise convolution (contract: dwconv-internal.h). */
#include "dwconv-internal.h"

const lsk_dwconv_ukernels *lsk_dwconv_get_config(lsk_isa isa) {
    switch (isa) {
#if defined(__x86_64__)
    case LSK_ISA_AVX2: return &lsk_dwconv_ukernels__avx2;
    case LSK_ISA_AVX512: return &lsk_dwconv_ukernels__avx512;
#endif
#if defined(__aarch64__)
    case LSK_ISA_NEON: return &lsk_dwconv_ukernels__neon;
#endif
    default: return &lsk_dwconv_ukernels__scalar;
    }
}

const lsk_dwconv3x3_ukernels *lsk_dwconv3x3_get_config(lsk_isa isa, size_t width) {
    switch (isa) {
#if defined(__x86_64__)
    case LSK_ISA_AVX2: return &lsk_dwconv3x3_ukernels__avx2;
    case LSK_ISA_AVX512:
        if (width == 8) return &lsk_dwconv3x3_ukernels__avx512_w8;
        if (width == 4) return &lsk_dwconv3x3_ukernels__avx512_w4;
        return width % 16 != 0 && width < 64 ? &lsk_dwconv3x3_ukernels__avx2 : &lsk_dwconv3x3_ukernels__avx512;
#endif
#if defined(__aarch64__)
    case LSK_ISA_NEON: return &lsk_dwconv3x3_ukernels__neon;
#endif
    default: return &lsk_dwconv3x3_ukernels__scalar;
    }
}
