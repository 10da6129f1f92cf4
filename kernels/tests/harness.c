#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"

typedef struct { const char *name; void (*fn)(lsk_tctx *); } family_entry;
static const family_entry k_families[] = {
    {"api", lsk_test_api},       {"gemm", lsk_test_gemm},   {"conv", lsk_test_conv},
    {"dwconv", lsk_test_dwconv},
    {"eltwise", lsk_test_eltwise}, {"norm", lsk_test_norm}, {"pool", lsk_test_pool},
    {"linear", lsk_test_linear}, {"loss", lsk_test_loss}, {"shuffle", lsk_test_shuffle},
    {"winograd", lsk_test_winograd},
    {"invalid", lsk_test_invalid},
};

uint32_t lsk_trand_u32(lsk_tctx *t) {
    /* splitmix64 */
    uint64_t z = (t->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}

void lsk_trand_fill(lsk_tctx *t, float *x, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * (float)(lsk_trand_u32(t) >> 8) * (1.0f / 16777216.0f);
}

size_t lsk_trand_range(lsk_tctx *t, size_t lo, size_t hi) {
    return lo + (size_t)(lsk_trand_u32(t) % (uint32_t)(hi - lo + 1));
}

/* Checks made per active ISA path in the current family: printed with the family's
 * summary, so a run shows which paths were exercised (e.g. "neon 352" under qemu). */
static int g_isa_checks[LSK_ISA_COUNT];

static void count_isa(void) {
    const int isa = (int)lsk_get_isa();
    if (isa >= 0 && isa < LSK_ISA_COUNT) g_isa_checks[isa]++;
}

int lsk_tcheck(lsk_tctx *t, int ok, const char *what) {
    count_isa();
    if (ok) { t->passed++; if (t->verbose) printf("  ok   %s\n", what); }
    else { t->failed++; printf("  FAIL [%s] %s\n", t->family, what); }
    return ok;
}

int lsk_tcheck_close(lsk_tctx *t, const char *what, const float *got, const float *want,
                     size_t n, float rtol, float atol) {
    size_t bad = 0, first = 0;
    double worst = 0.0;
    count_isa();
    for (size_t i = 0; i < n; i++) {
        const double g = got[i], w = want[i];
        const double err = fabs(g - w), lim = atol + rtol * fabs(w);
        if (!(err <= lim)) { /* also catches NaN */
            if (!bad) first = i;
            bad++;
        }
        if (err > worst) worst = err;
    }
    if (bad) {
        t->failed++;
        printf("  FAIL [%s] %s: %zu of %zu outside tolerance (rtol %g, atol %g); first at %zu: got %.9g want %.9g; max abs err %.3g\n",
               t->family, what, bad, n, rtol, atol, first, got[first], want[first], worst);
        return 0;
    }
    t->passed++;
    if (t->verbose) printf("  ok   %s (max abs err %.3g)\n", what, worst);
    return 1;
}

void lsk_tabs_copy(float *dst, const float *src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = fabsf(src[i]);
}

float *lsk_talloc(size_t n) {
    float *p = (float *)malloc((n ? n : 1) * sizeof(float));
    if (!p) { fprintf(stderr, "test allocation of %zu floats failed\n", n); abort(); }
    for (size_t i = 0; i < n; i++) p[i] = NAN;
    return p;
}

void lsk_tfree(void *p) { free(p); }

int lsk_tests_run_counts(const char *filter, int verbose, int *passed, int *failed) {
    int total_pass = 0, total_fail = 0;
    /* A filter that names a family exactly runs that family alone ("conv" is not also
     * "dwconv"); any other filter runs every family whose name contains it. */
    int exact = 0;
    for (size_t i = 0; filter && *filter && i < sizeof k_families / sizeof k_families[0]; i++)
        if (strcmp(k_families[i].name, filter) == 0) exact = 1;
    for (size_t i = 0; i < sizeof k_families / sizeof k_families[0]; i++) {
        if (filter && *filter && (exact ? strcmp(k_families[i].name, filter) != 0 : !strstr(k_families[i].name, filter)))
            continue;
        lsk_tctx t = {0, 0, verbose, 0x5EEDull + i, k_families[i].name};
        memset(g_isa_checks, 0, sizeof g_isa_checks);
        k_families[i].fn(&t);
        printf("%-8s %d passed, %d failed; checks per ISA path:", k_families[i].name, t.passed, t.failed);
        for (int isa = 0; isa < LSK_ISA_COUNT; isa++)
            if (g_isa_checks[isa]) printf(" %s %d", lsk_isa_name((lsk_isa)isa), g_isa_checks[isa]);
        printf("\n");
        total_pass += t.passed;
        total_fail += t.failed;
    }
    lsk_set_isa(LSK_ISA_AUTO);
    if (passed) *passed = total_pass;
    if (failed) *failed = total_fail;
    return total_fail;
}

int lsk_tests_run(const char *filter, int verbose) {
    return lsk_tests_run_counts(filter, verbose, NULL, NULL);
}
