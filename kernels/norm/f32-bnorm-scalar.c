/* Batch-norm microkernels, scalar instantiation of f32-bnorm.h (lsk_f32_<op>_ukernel_<tile>__scalar). */
#include <stddef.h>
#include "norm-ukernels.h"

#include "../eltwise/vec-scalar.h"
#include "f32-bnorm.h"
