/* Plane-copy microkernels, neon instantiation of f32-copy.h (lsk_f32_<op>_ukernel_<tile>__neon). */
#include <stddef.h>
#include "shuffle-ukernels.h"

#if defined(__aarch64__)
#include "../eltwise/vec-neon.h"
#include "f32-copy.h"
#endif
