/* Eltwise microkernels, avx512 instantiation of f32-eltwise.h (lsk_f32_<op>_ukernel_<tile>__avx512). */
#include <stddef.h>
#include "eltwise-ukernels.h"

#if defined(__x86_64__)
#include "../internal/isa_avx512_begin.h"
#include "vec-avx512.h"
#include "f32-eltwise.h"
#include "../internal/isa_end.h"
#endif
