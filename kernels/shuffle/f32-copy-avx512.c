/* Plane-copy microkernels, avx512 instantiation of f32-copy.h (lsk_f32_<op>_ukernel_<tile>__avx512). */
#include <stddef.h>
#include "shuffle-ukernels.h"

#if defined(__x86_64__)
#include "../internal/isa_avx512_begin.h"
#include "../eltwise/vec-avx512.h"
#include "f32-copy.h"
#include "../internal/isa_end.h"
#endif
