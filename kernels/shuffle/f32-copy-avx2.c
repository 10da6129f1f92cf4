/* Plane-copy microkernels, avx2 instantiation of f32-copy.h (lsk_f32_<op>_ukernel_<tile>__avx2). */
#include <stddef.h>
#include "shuffle-ukernels.h"

#if defined(__x86_64__)
#include "../internal/isa_avx2_begin.h"
#include "../eltwise/vec-avx2.h"
#define LSK_COPY_VSTNT(p, v) _mm256_stream_ps(p, v) /* p 32-byte aligned */
#define LSK_COPY_FENCE() _mm_sfence()
#include "f32-copy.h"
#include "../internal/isa_end.h"
#endif
