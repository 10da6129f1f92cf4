/* Depthwise-convolution microkernels, NEON instantiation of f32-dwconv.h
 * (lsk_f32_dwconv_<op>_ukernel_<tile>__neon). */
#include <stddef.h>
#include <stdint.h>
#include "dwconv-internal.h"

#if defined(__aarch64__)
#include "../eltwise/vec-neon.h"
#define DW_VINT2(a, b, lo, hi) ((lo) = vzip1q_f32(a, b), (hi) = vzip2q_f32(a, b))
#define DW_VZTAIL(v, n) \
    vreinterpretq_f32_u32(vandq_u32(vcltq_u32((uint32x4_t){0, 1, 2, 3}, vdupq_n_u32((uint32_t)(n))), vreinterpretq_u32_f32(v)))
#include "f32-dwconv.h"
#define DW_VPREV1(c, p) vextq_f32(p, c, 3)
#define DW_VNEXT1(c, n) vextq_f32(c, n, 1)
#define DW_VSTREAM(p, v) VST(p, v)
#define DW_FENCE() (void)0
#include "f32-dwconv3x3.h"
#endif
