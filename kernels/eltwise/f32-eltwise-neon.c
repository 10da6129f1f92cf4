/* Eltwise microkernels, neon instantiation of f32-eltwise.h (lsk_f32_<op>_ukernel_<tile>__neon). */
#include <stddef.h>
#include "eltwise-ukernels.h"

#if defined(__aarch64__)
#include "vec-neon.h"
#include "f32-eltwise.h"
#endif
