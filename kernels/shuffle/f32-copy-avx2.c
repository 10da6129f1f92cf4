/* Plane-copy microkernels, avx2 instantiation of f32-copy.h (lsk_f32_<op>_ukernel_<tile>__avx2). */
#include <stddef.h>
#include "shuffle-ukernels.h"

#if defined(__x86_64__)
#include "../internal/isa_avx2_begin.h"
#include "../eltwise/vec-avx2.h"
#include "f32-copy.h"
#include "../internal/isa_end.h"
#endif
