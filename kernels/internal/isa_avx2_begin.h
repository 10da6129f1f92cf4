/* Include at the top of an AVX2 microkernel file (after #if defined(__x86_64__)):
 * every function until isa_end.h is compiled for AVX2+FMA, without per-file flags,
 * so the same file builds under SwiftPM, the Makefile, clang and gcc. */
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#elif defined(__GNUC__)
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#endif
#include <immintrin.h>
