/* Pooling microkernels, avx2 instantiation of f32-pool.h (lsk_f32_<op>_ukernel_<tile>__avx2). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include "../internal/lsk_internal.h"
#include "pool-ukernels.h"

#if defined(__x86_64__)
#include "../internal/isa_avx2_begin.h"
#include "../eltwise/vec-avx2.h"
#include "f32-pool.h"
#include "../internal/isa_end.h"
#endif
