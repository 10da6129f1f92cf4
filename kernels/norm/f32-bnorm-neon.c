/* Batch-norm microkernels, neon instantiation of f32-bnorm.h (lsk_f32_<op>_ukernel_<tile>__neon). */
#include <stddef.h>
#include "norm-ukernels.h"

#if defined(__aarch64__)
#include "../eltwise/vec-neon.h"
#include "f32-bnorm.h"
#endif
