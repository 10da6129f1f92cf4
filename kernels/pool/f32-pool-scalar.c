/* Pooling microkernels, scalar instantiation of f32-pool.h (lsk_f32_<op>_ukernel_<tile>__scalar). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include "../internal/lsk_internal.h"
#include "pool-ukernels.h"

#include "../eltwise/vec-scalar.h"
#include "f32-pool.h"
