/*
 * Vector-macro layer shared by the memory-bound NN templates (eltwise, norm, pool, loss).
 *
 * A template (e.g. f32-eltwise.h) is written once against the macros below and included
 * by one file per ISA (f32-eltwise-avx512.c, ...), after that ISA's vec-<isa>.h and, on
 * x86, inside the isa_*_begin.h / isa_end.h target region: the C99 equivalent of
 * XNNPACK's generated per-ISA files. Each vec-<isa>.h defines:
 *
 *   LSK_VISA               ISA tag used in symbol names (scalar, avx2, avx512, neon)
 *   LSK_U1, LSK_U4         tile tags: elements per vector and per 4-vector unroll (u16, u64)
 *   VLEN                   floats per vector (1 for the portable-C instantiation)
 *   lsk_vf / lsk_vi / lsk_vm   float vector, int32 vector, comparison mask
 *   VLD(p) VST(p,v)        unaligned load / store of VLEN floats
 *   VLDN(p,n) VLDNF(p,n,f) VSTN(p,v,n)   partial (0 < n < VLEN) load (zero / f filled) and store;
 *                          never touch memory past p[n-1]
 *   VDUP(s) VZERO()        broadcast
 *   VADD VSUB VMUL VMAX VMIN  lane-wise; where a lane of a or b is NaN, VMAX/VMIN return
 *                          b's lane on x86 and in portable C and NaN on NEON, so VMAX(0, x)
 *                          keeps a NaN x on every path
 *   VFMA(a,b,c)            a*b + c (fused where the ISA has it)
 *   VGT(a,b)               mask a > b (false on NaN)
 *   VGTNAN(a,b)            mask a > b || isnan(a)   (max-pool selection, PyTorch semantics)
 *   VSEL(m,a,b) VSELZ(m,a) m ? a : b,  m ? a : 0
 *   VHSUM(v) VHMAX(v)      horizontal sum / max to a float
 *   VEXP(v)                e^v, <= 2 ulp; 0 for v < -87.34 (no denormal results), NaN kept
 *   VIDUP VIADD VILD VIST VISTN VISEL   the int32 counterparts (argmax indices)
 *   VDEINT2(a, b, ev, od)  deinterleave the 2*VLEN lanes of a then b: ev = even, od = odd lanes
 *
 * LSK_UK(op, tile) names a microkernel lsk_f32_<op>_ukernel_<tile>__<isa>;
 * LSK_UKTABLE(family) names the per-ISA table lsk_<family>_ukernels__<isa>.
 */
#ifndef LSK_VEC_COMMON_H
#define LSK_VEC_COMMON_H

#define LSK_UK(op, tile) LSK_UK_PASTE_(op, tile, LSK_VISA)
#define LSK_UK_PASTE_(op, tile, isa) LSK_UK_PASTE__(op, tile, isa)
#define LSK_UK_PASTE__(op, tile, isa) lsk_f32_##op##_ukernel_##tile##__##isa
#define LSK_UKTABLE(family) LSK_UKTABLE_PASTE_(family, LSK_VISA)
#define LSK_UKTABLE_PASTE_(family, isa) LSK_UKTABLE_PASTE__(family, isa)
#define LSK_UKTABLE_PASTE__(family, isa) lsk_##family##_ukernels__##isa

/* Constants of the vector exp (Cephes expf): e^x = 2^n * e^r, n = round(x*log2(e)),
 * r = x - n*ln2 with ln2 split in two so r is exact, e^r by a degree-7 polynomial. */
#define LSK_EXP_LO (-87.3365478515625f) /* below: result 0 (2^-126 is the smallest normal) */
#define LSK_EXP_HI (88.3762626647949f)
#define LSK_EXP_LOG2E 1.44269504088896341f
#define LSK_EXP_C1 0.693359375f
#define LSK_EXP_C2 (-2.12194440e-4f)
#define LSK_EXP_P0 1.9875691500e-4f
#define LSK_EXP_P1 1.3981999507e-3f
#define LSK_EXP_P2 8.3334519073e-3f
#define LSK_EXP_P3 4.1665795894e-2f
#define LSK_EXP_P4 1.6666665459e-1f
#define LSK_EXP_P5 5.0000001201e-1f

#endif
