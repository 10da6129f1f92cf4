/* Depthwise-convolution microkernels, portable-C instantiation of f32-dwconv.h
 * (lsk_f32_dwconv_<op>_ukernel_<tile>__scalar): the reference the SIMD paths are tested
 * against through the operator, and the path of CPUs without AVX2 / NEON. */
#include <stddef.h>
#include <stdint.h>
#include "dwconv-internal.h"

#include "../eltwise/vec-scalar.h"
#define DW_VINT2(a, b, lo, hi) ((lo) = (a), (hi) = (b))
#define DW_VZTAIL(v, n) ((void)(n), (v)) /* VLEN 1: never a partial vector */
#include "f32-dwconv.h"
#define DW_VPREV1(c, p) (p) /* VLEN 1: the neighbour is the element */
#define DW_VNEXT1(c, n) (n)
#define DW_VSTREAM(p, v) VST(p, v)
#define DW_FENCE() (void)0
#include "f32-dwconv3x3.h"
