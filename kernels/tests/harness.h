/*
 * Test harness shared by the C test program (make -C kernels test) and the Swift
 * test target, which calls lsk_tests_run() per family: one list of cases drives both.
 *
 * A family is a function `void lsk_test_<family>(lsk_tctx *t)` that sweeps shapes
 * (odd and prime sizes, every stride/padding/group case) on every ISA path the CPU
 * has, comparing each kernel with its scalar oracle via lsk_tcheck_close.
 */
#ifndef LSK_TEST_HARNESS_H
#define LSK_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include "../../include/lsk.h"

typedef struct lsk_tctx {
    int passed, failed;
    int verbose;
    uint64_t rng;
    const char *family;
} lsk_tctx;

/* Runs the family named `filter` exactly if there is one, else the families whose name contains
 * `filter` (NULL or "" = all). Prints one line
 * per failure and a summary "N passed, N failed". Returns the number of failures. */
int lsk_tests_run(const char *filter, int verbose);
/* Same, also returning counts. */
int lsk_tests_run_counts(const char *filter, int verbose, int *passed, int *failed);

/* Uniform floats in [lo, hi). Deterministic per context. */
void lsk_trand_fill(lsk_tctx *t, float *x, size_t n, float lo, float hi);
uint32_t lsk_trand_u32(lsk_tctx *t);
/* Uniform integer in [lo, hi]. */
size_t lsk_trand_range(lsk_tctx *t, size_t lo, size_t hi);

/* Checks |got - want| <= atol + rtol * |want| elementwise (NaN in got fails).
 * `what` names the case (kernel, shape, ISA). Returns 1 on pass. */
int lsk_tcheck_close(lsk_tctx *t, const char *what, const float *got, const float *want,
                     size_t n, float rtol, float atol);
/* Checks a boolean; records pass/fail under `what`. */
int lsk_tcheck(lsk_tctx *t, int ok, const char *what);

/* dst[i] = |src[i]|: inputs of the oracle run that bounds a result's rounding error
 * (the sum of absolute terms), used by the tolerance of GEMM-like kernels. */
void lsk_tabs_copy(float *dst, const float *src, size_t n);

/* malloc that fails the test on NULL; free with lsk_tfree. Fills with a NaN canary
 * so a kernel that forgets to write an output is caught. */
float *lsk_talloc(size_t n);
void lsk_tfree(void *p);

/* Iterate over every ISA the CPU supports, setting it active; restores AUTO after. */
#define LSK_FOR_EACH_ISA(isa_var) \
    for (int isa_var = 0; isa_var < LSK_ISA_COUNT || (lsk_set_isa(LSK_ISA_AUTO), 0); isa_var++) \
        if (lsk_isa_supported((lsk_isa)isa_var) && lsk_set_isa((lsk_isa)isa_var) == LSK_OK)

/* Families (one file each). */
void lsk_test_gemm(lsk_tctx *t);
void lsk_test_conv(lsk_tctx *t);
void lsk_test_dwconv(lsk_tctx *t);
void lsk_test_eltwise(lsk_tctx *t);
void lsk_test_norm(lsk_tctx *t);
void lsk_test_pool(lsk_tctx *t);
void lsk_test_linear(lsk_tctx *t);
void lsk_test_loss(lsk_tctx *t);
void lsk_test_shuffle(lsk_tctx *t);
void lsk_test_api(lsk_tctx *t);
void lsk_test_winograd(lsk_tctx *t);
void lsk_test_invalid(lsk_tctx *t);

#endif
