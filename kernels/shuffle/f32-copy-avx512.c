/* Plane-copy microkernels, avx512 instantiation of f32-copy.h (lsk_f32_<op>_ukernel_<tile>__avx512). */
#include <stddef.h>
#include "shuffle-ukernels.h"

#if defined(__x86_64__)
#include "../internal/isa_avx512_begin.h"
#include "../eltwise/vec-avx512.h"
#define LSK_COPY_VSTNT(p, v) _mm512_stream_ps(p, v) /* p 64-byte aligned */
#define LSK_COPY_FENCE() _mm_sfence()
#include "f32-copy.h"
#include "../internal/isa_end.h"
#endif
