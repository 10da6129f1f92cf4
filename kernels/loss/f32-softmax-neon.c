/* Softmax / cross-entropy row microkernels, neon instantiation of f32-softmax.h
 * (lsk_f32_<op>_ukernel_<tile>__neon). */
#include <math.h>
#include <stddef.h>
#include "loss-ukernels.h"

#if defined(__aarch64__)
#include "../eltwise/vec-neon.h"
#include "f32-softmax.h"
#endif
