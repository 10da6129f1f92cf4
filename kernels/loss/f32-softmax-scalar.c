/* Softmax / cross-entropy row microkernels, scalar instantiation of f32-softmax.h
 * (lsk_f32_<op>_ukernel_<tile>__scalar). */
#include <math.h>
#include <stddef.h>
#include "loss-ukernels.h"

#include "../eltwise/vec-scalar.h"
#include "f32-softmax.h"
