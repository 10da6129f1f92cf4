/* Pooling microkernels, neon instantiation of f32-pool.h (lsk_f32_<op>_ukernel_<tile>__neon). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include "../internal/lsk_internal.h"
#include "pool-ukernels.h"

#if defined(__aarch64__)
#include "../eltwise/vec-neon.h"
#include "f32-pool.h"
#endif
