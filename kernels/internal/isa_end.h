/* Closes isa_avx2_begin.h / isa_avx512_begin.h. */
#if defined(__clang__)
#pragma clang attribute pop
#elif defined(__GNUC__)
#pragma GCC pop_options
#endif
