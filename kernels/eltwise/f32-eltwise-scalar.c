/* Eltwise microkernels, scalar instantiation of f32-eltwise.h (lsk_f32_<op>_ukernel_<tile>__scalar). */
#include <stddef.h>
#include "eltwise-ukernels.h"

#include "vec-scalar.h"
#include "f32-eltwise.h"
