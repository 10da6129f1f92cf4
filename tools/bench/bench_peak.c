/*
 * FP32 FMA peak of the machine: a throughput loop of independent vector FMAs per ISA,
 * on 1 and 2 threads (o->threads). The SGEMM targets in docs/gemm.md are fractions of
 * this number, measured in the same run.
 *   AVX-512: 16 zmm accumulators (2 FMA pipes x 4 cycles latency = 8 chains needed)
 *   AVX2:    12 ymm accumulators (of 16 registers; 2 more hold the operands)
 *   NEON:    24 q accumulators   (4 pipes x 4 cycles = 16 needed on the widest cores)
 * flops per call = 2 * lanes * (FMAs per thread) * threads, reported as GFLOP/s.
 * Expected: peak = frequency x FMA pipes x lanes x 2 (see docs/gemm.md).
 * The ISA loops run under their target attribute; the OpenMP part is plain C.
 */
#include <stdio.h>
#include "bench.h"

#define PEAK_ITERS 10000000L /* x 16 FMAs: ~20 ms per thread at 4 GHz, 2 pipes */

#if defined(__x86_64__)
/* Included before any target pragma: GCC gives each intrinsic its own target attribute
 * only when the header is first read outside a target region, and this file has two. */
#include <immintrin.h>
#include "../../kernels/internal/isa_avx512_begin.h"
#define FMA16(x, y)                                                                              \
    x##0 = _mm512_fmadd_ps(x##0, y, z); x##1 = _mm512_fmadd_ps(x##1, y, z);                       \
    x##2 = _mm512_fmadd_ps(x##2, y, z); x##3 = _mm512_fmadd_ps(x##3, y, z);                       \
    x##4 = _mm512_fmadd_ps(x##4, y, z); x##5 = _mm512_fmadd_ps(x##5, y, z);                       \
    x##6 = _mm512_fmadd_ps(x##6, y, z); x##7 = _mm512_fmadd_ps(x##7, y, z);                       \
    x##8 = _mm512_fmadd_ps(x##8, y, z); x##9 = _mm512_fmadd_ps(x##9, y, z);                       \
    x##a = _mm512_fmadd_ps(x##a, y, z); x##b = _mm512_fmadd_ps(x##b, y, z);                       \
    x##c = _mm512_fmadd_ps(x##c, y, z); x##d = _mm512_fmadd_ps(x##d, y, z);                       \
    x##e = _mm512_fmadd_ps(x##e, y, z); x##f = _mm512_fmadd_ps(x##f, y, z);
/* 16 FMAs per iteration (r = r * 0.999 + 0.001). Distinct initial values, none equal to the
 * fixed point 1.0, and a seed unknown at compile time: clang removed a chain that started
 * at 1.0 (it saw fma(1, 0.999f, 0.001f) == 1) and the loop then over-reported by 16/15. */
__attribute__((noinline)) static float fma_loop_avx512(long iters, float s) {
    __m512 r0 = _mm512_set1_ps(s), r1 = _mm512_set1_ps(s + 1), r2 = _mm512_set1_ps(s + 2), r3 = _mm512_set1_ps(s + 3);
    __m512 r4 = _mm512_set1_ps(s + 4), r5 = _mm512_set1_ps(s + 5), r6 = _mm512_set1_ps(s + 6), r7 = _mm512_set1_ps(s + 7);
    __m512 r8 = _mm512_set1_ps(s + 8), r9 = _mm512_set1_ps(s + 9), ra = _mm512_set1_ps(s + 10), rb = _mm512_set1_ps(s + 11);
    __m512 rc = _mm512_set1_ps(s + 12), rd = _mm512_set1_ps(s + 13), re = _mm512_set1_ps(s + 14), rf = _mm512_set1_ps(s + 15);
    const __m512 y = _mm512_set1_ps(0.999f), z = _mm512_set1_ps(0.001f);
    for (long i = 0; i < iters; i++) { FMA16(r, y) }
    const __m512 t0 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(r0, r1), _mm512_add_ps(r2, r3)),
                                    _mm512_add_ps(_mm512_add_ps(r4, r5), _mm512_add_ps(r6, r7)));
    const __m512 t1 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(r8, r9), _mm512_add_ps(ra, rb)),
                                    _mm512_add_ps(_mm512_add_ps(rc, rd), _mm512_add_ps(re, rf)));
    return _mm512_reduce_add_ps(_mm512_add_ps(t0, t1));
}
#include "../../kernels/internal/isa_end.h"

#include "../../kernels/internal/isa_avx2_begin.h"
/* 12 FMAs per iteration */
__attribute__((noinline)) static float fma_loop_avx2(long iters, float s) {
    __m256 r0 = _mm256_set1_ps(s), r1 = _mm256_set1_ps(s + 1), r2 = _mm256_set1_ps(s + 2), r3 = _mm256_set1_ps(s + 3);
    __m256 r4 = _mm256_set1_ps(s + 4), r5 = _mm256_set1_ps(s + 5), r6 = _mm256_set1_ps(s + 6), r7 = _mm256_set1_ps(s + 7);
    __m256 r8 = _mm256_set1_ps(s + 8), r9 = _mm256_set1_ps(s + 9), ra = _mm256_set1_ps(s + 10), rb = _mm256_set1_ps(s + 11);
    const __m256 y = _mm256_set1_ps(0.999f), z = _mm256_set1_ps(0.001f);
    for (long i = 0; i < iters; i++) {
        r0 = _mm256_fmadd_ps(r0, y, z); r1 = _mm256_fmadd_ps(r1, y, z); r2 = _mm256_fmadd_ps(r2, y, z);
        r3 = _mm256_fmadd_ps(r3, y, z); r4 = _mm256_fmadd_ps(r4, y, z); r5 = _mm256_fmadd_ps(r5, y, z);
        r6 = _mm256_fmadd_ps(r6, y, z); r7 = _mm256_fmadd_ps(r7, y, z); r8 = _mm256_fmadd_ps(r8, y, z);
        r9 = _mm256_fmadd_ps(r9, y, z); ra = _mm256_fmadd_ps(ra, y, z); rb = _mm256_fmadd_ps(rb, y, z);
    }
    const __m256 t = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(r0, r1), _mm256_add_ps(r2, r3)),
                                   _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(r4, r5), _mm256_add_ps(r6, r7)),
                                                 _mm256_add_ps(_mm256_add_ps(r8, r9), _mm256_add_ps(ra, rb))));
    float out[8];
    _mm256_storeu_ps(out, t);
    return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}
#include "../../kernels/internal/isa_end.h"
#endif

#if defined(__aarch64__)
#include <arm_neon.h>
/* 24 FMAs per iteration */
__attribute__((noinline)) static float fma_loop_neon(long iters, float s) {
    float32x4_t r[24];
    for (int j = 0; j < 24; j++) r[j] = vdupq_n_f32(s + (float)j);
    const float32x4_t y = vdupq_n_f32(0.999f), z = vdupq_n_f32(0.001f);
    for (long i = 0; i < iters; i++)
        for (int j = 0; j < 24; j++) r[j] = vfmaq_f32(z, r[j], y);
    float32x4_t t = r[0];
    for (int j = 1; j < 24; j++) t = vaddq_f32(t, r[j]);
    return vaddvq_f32(t);
}
#endif

typedef struct peak_ctx {
    lsk_isa isa;
    long iters;
    float seed; /* read at run time: a literal would let the compiler fold chains */
    volatile float sink;
} peak_ctx;

static float run_loop(lsk_isa isa, long iters, float seed) {
    switch (isa) {
#if defined(__x86_64__)
    case LSK_ISA_AVX512: return fma_loop_avx512(iters, seed);
    case LSK_ISA_AVX2: return fma_loop_avx2(iters, seed);
#endif
#if defined(__aarch64__)
    case LSK_ISA_NEON: return fma_loop_neon(iters, seed);
#endif
    default: return 0.0f;
    }
}

/* Plain C (no target attribute): the OpenMP region calls the ISA loop on every thread. */
static void run_peak(void *p) {
    peak_ctx *c = (peak_ctx *)p;
    const int nt = lsk_get_num_threads();
    (void)nt;
    float sum = 0.0f;
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) reduction(+ : sum)
#endif
    sum += run_loop(c->isa, c->iters, c->seed);
    c->sink = sum;
}

void lsk_bench_peak(const lsk_bopts *o) {
    static const struct { lsk_isa isa; int lanes, fmas_per_iter; const char *kernel; } loops[] = {
        {LSK_ISA_AVX512, 16, 16, "peak_fma_avx512"},
        {LSK_ISA_AVX2, 8, 12, "peak_fma_avx2"},
        {LSK_ISA_NEON, 4, 24, "peak_fma_neon"},
    };
    for (size_t i = 0; i < sizeof loops / sizeof loops[0]; i++) {
        if (!lsk_isa_supported(loops[i].isa)) continue;
        lsk_set_isa(loops[i].isa); /* so the report names the ISA measured */
        peak_ctx c = {loops[i].isa, PEAK_ITERS, 2.0f, 0.0f};
        char shape[64];
        snprintf(shape, sizeof shape, "%d indep. FMA chains", loops[i].fmas_per_iter);
        for (int ti = 0; ti < 4 && o->threads[ti] > 0; ti++) {
            const int t = o->threads[ti];
            const double flops = 2.0 * loops[i].lanes * (double)loops[i].fmas_per_iter * (double)c.iters * t;
            lsk_brun(o, loops[i].kernel, shape, t, flops, 0, run_peak, &c);
        }
        lsk_set_isa(LSK_ISA_AUTO);
    }
}
