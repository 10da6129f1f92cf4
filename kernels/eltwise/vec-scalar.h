/* Vector-macro layer, portable C instantiation: a "vector" is one float. See vec-common.h. */
#include <math.h>
#include <stdint.h>
#include "vec-common.h"

#define LSK_VISA scalar
#define LSK_U1 u1
#define LSK_U4 u4
#define VLEN 1
typedef float lsk_vf;
typedef int32_t lsk_vi;
typedef int lsk_vm;

#define VLD(p) (*(p))
#define VST(p, v) (*(p) = (v))
#define VLDN(p, n) ((void)(n), *(p))
#define VLDNF(p, n, f) ((void)(n), (void)(f), *(p))
#define VSTN(p, v, n) ((void)(n), *(p) = (v))
#define VDUP(s) ((float)(s))
#define VZERO() 0.0f
#define VADD(a, b) ((a) + (b))
#define VSUB(a, b) ((a) - (b))
#define VMUL(a, b) ((a) * (b))
#define VFMA(a, b, c) ((a) * (b) + (c))
#define VMAX(a, b) ((a) > (b) ? (a) : (b))
#define VMIN(a, b) ((a) < (b) ? (a) : (b))
#define VGT(a, b) ((a) > (b))
#define VGTNAN(a, b) ((a) > (b) || (a) != (a))
#define VSEL(m, a, b) ((m) ? (a) : (b))
#define VSELZ(m, a) ((m) ? (a) : 0.0f)
#define VHSUM(v) (v)
#define VHMAX(v) (v)
#define VEXP(v) lsk_vexp_scalar(v)
#define VIDUP(s) ((int32_t)(s))
#define VIADD(a, b) ((a) + (b))
#define VILD(p) (*(p))
#define VIST(p, v) (*(p) = (v))
#define VISTN(p, v, n) ((void)(n), *(p) = (v))
#define VISEL(m, a, b) ((m) ? (a) : (b))
#define VDEINT2(a, b, ev, od) ((ev) = (a), (od) = (b))

static inline float lsk_vexp_scalar(float x) { return x < LSK_EXP_LO ? 0.0f : expf(x); }
