/*
 * Tests for the linear family (include/lsk_linear.h): lsk_linear_fwd / bwd_data /
 * bwd_weight against the lsk_ref_linear_* oracles on every ISA path, 1 and 2 threads,
 * with and without bias, accumulate 0/1, odd/prime sizes (GEMM tile tails), empty sums
 * (in_features or batch 0) and NULL pointers.
 *
 * Tolerance (per element): each output is a sum of T products (T = in_features for fwd,
 * out_features for bwd_data, batch for bwd_weight and db) plus the bias or the previous
 * value. Summation of T terms in any order errs by at most ~T * u * sum|term_i| (Higham,
 * ch. 3), u = FLT_EPSILON / 2; the oracle run on |x|, |w|, |dy|, |b|, |previous| gives
 * sum|term_i| exactly, and the test allows (T + 4) * FLT_EPSILON times it (2x the bound,
 * + 4 for the bias / previous value and the final rounding). A wrong index or a missing
 * term moves an element by a whole term (~0.01..1), far outside that.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "harness.h"

static int check_bound(lsk_tctx *t, const char *what, const float *got, const float *want, const float *mag,
                       size_t n, size_t terms) {
    const double scale = (double)(terms + 4) * FLT_EPSILON;
    for (size_t i = 0; i < n; i++) {
        const double err = fabs((double)got[i] - (double)want[i]), lim = scale * mag[i] + 1e-30;
        if (!(err <= lim)) {
            char buf[320];
            snprintf(buf, sizeof buf, "%s: element %zu of %zu: got %.9g want %.9g (err %.3g > bound %.3g)", what, i,
                     n, got[i], want[i], err, lim);
            return lsk_tcheck(t, 0, buf);
        }
    }
    return lsk_tcheck(t, 1, what);
}

static void fill_nan(float *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = NAN;
}

static void run_case(lsk_tctx *t, size_t batch, size_t in, size_t out) {
    const size_t nx = batch * in, nw = out * in, ny = batch * out;
    float *x = lsk_talloc(nx), *w = lsk_talloc(nw), *b = lsk_talloc(out), *dy = lsk_talloc(ny);
    float *ax = lsk_talloc(nx), *aw = lsk_talloc(nw), *ab = lsk_talloc(out), *ady = lsk_talloc(ny);
    float *dx0 = lsk_talloc(nx), *dw0 = lsk_talloc(nw), *db0 = lsk_talloc(out);
    float *adx0 = lsk_talloc(nx), *adw0 = lsk_talloc(nw), *adb0 = lsk_talloc(out);
    lsk_trand_fill(t, x, nx, -1.0f, 1.0f);
    lsk_trand_fill(t, w, nw, -1.0f, 1.0f);
    lsk_trand_fill(t, b, out, -1.0f, 1.0f);
    lsk_trand_fill(t, dy, ny, -1.0f, 1.0f);
    lsk_trand_fill(t, dx0, nx, -1.0f, 1.0f);
    lsk_trand_fill(t, dw0, nw, -1.0f, 1.0f);
    lsk_trand_fill(t, db0, out, -1.0f, 1.0f);
    lsk_tabs_copy(ax, x, nx); lsk_tabs_copy(aw, w, nw); lsk_tabs_copy(ab, b, out); lsk_tabs_copy(ady, dy, ny);
    lsk_tabs_copy(adx0, dx0, nx); lsk_tabs_copy(adw0, dw0, nw); lsk_tabs_copy(adb0, db0, out);

    /* oracle results (r*) and magnitudes (m*) */
    float *ry_b = lsk_talloc(ny), *ry = lsk_talloc(ny), *my_b = lsk_talloc(ny), *my = lsk_talloc(ny);
    float *rdx0 = lsk_talloc(nx), *rdx1 = lsk_talloc(nx), *mdx0 = lsk_talloc(nx), *mdx1 = lsk_talloc(nx);
    float *rdw0 = lsk_talloc(nw), *rdw1 = lsk_talloc(nw), *mdw0 = lsk_talloc(nw), *mdw1 = lsk_talloc(nw);
    float *rdb0 = lsk_talloc(out), *rdb1 = lsk_talloc(out), *mdb0 = lsk_talloc(out), *mdb1 = lsk_talloc(out);
    lsk_ref_linear_fwd(ry_b, x, w, b, batch, in, out);
    lsk_ref_linear_fwd(ry, x, w, NULL, batch, in, out);
    lsk_ref_linear_fwd(my_b, ax, aw, ab, batch, in, out);
    lsk_ref_linear_fwd(my, ax, aw, NULL, batch, in, out);
    lsk_ref_linear_bwd_data(rdx0, dy, w, batch, in, out, 0);
    lsk_ref_linear_bwd_data(mdx0, ady, aw, batch, in, out, 0);
    memcpy(rdx1, dx0, nx * sizeof(float)); memcpy(mdx1, adx0, nx * sizeof(float));
    lsk_ref_linear_bwd_data(rdx1, dy, w, batch, in, out, 1);
    lsk_ref_linear_bwd_data(mdx1, ady, aw, batch, in, out, 1);
    lsk_ref_linear_bwd_weight(rdw0, rdb0, dy, x, batch, in, out, 0);
    lsk_ref_linear_bwd_weight(mdw0, mdb0, ady, ax, batch, in, out, 0);
    memcpy(rdw1, dw0, nw * sizeof(float)); memcpy(rdb1, db0, out * sizeof(float));
    memcpy(mdw1, adw0, nw * sizeof(float)); memcpy(mdb1, adb0, out * sizeof(float));
    lsk_ref_linear_bwd_weight(rdw1, rdb1, dy, x, batch, in, out, 1);
    lsk_ref_linear_bwd_weight(mdw1, mdb1, ady, ax, batch, in, out, 1);

    float *gy = lsk_talloc(ny), *gdx = lsk_talloc(nx), *gdw = lsk_talloc(nw), *gdb = lsk_talloc(out);
    static const int k_threads[2] = {1, 2};
    char what[200];
    LSK_FOR_EACH_ISA(isa) {
        for (int ti = 0; ti < 2; ti++) {
            lsk_set_num_threads(k_threads[ti]);
            char tag[96];
            snprintf(tag, sizeof tag, "batch %zu in %zu out %zu %s thr=%d", batch, in, out,
                     lsk_isa_name((lsk_isa)isa), k_threads[ti]);
#define RUN_CHECK(call, label, got, want, mag, n, terms)                                           \
    do {                                                                                           \
        snprintf(what, sizeof what, "%s %s", label, tag);                                          \
        if (lsk_tcheck(t, (call) == LSK_OK, what)) check_bound(t, what, got, want, mag, n, terms); \
    } while (0)
            fill_nan(gy, ny);
            RUN_CHECK(lsk_linear_fwd(gy, x, w, b, batch, in, out), "fwd+bias", gy, ry_b, my_b, ny, in);
            fill_nan(gy, ny);
            RUN_CHECK(lsk_linear_fwd(gy, x, w, NULL, batch, in, out), "fwd", gy, ry, my, ny, in);
            fill_nan(gdx, nx);
            RUN_CHECK(lsk_linear_bwd_data(gdx, dy, w, batch, in, out, 0), "bwd_data acc=0", gdx, rdx0, mdx0, nx, out);
            memcpy(gdx, dx0, nx * sizeof(float));
            RUN_CHECK(lsk_linear_bwd_data(gdx, dy, w, batch, in, out, 1), "bwd_data acc=1", gdx, rdx1, mdx1, nx, out);
            fill_nan(gdw, nw); fill_nan(gdb, out);
            RUN_CHECK(lsk_linear_bwd_weight(gdw, gdb, dy, x, batch, in, out, 0), "bwd_weight acc=0 dw", gdw, rdw0,
                      mdw0, nw, batch);
            snprintf(what, sizeof what, "bwd_weight acc=0 db %s", tag);
            check_bound(t, what, gdb, rdb0, mdb0, out, batch);
            memcpy(gdw, dw0, nw * sizeof(float)); memcpy(gdb, db0, out * sizeof(float));
            RUN_CHECK(lsk_linear_bwd_weight(gdw, gdb, dy, x, batch, in, out, 1), "bwd_weight acc=1 dw", gdw, rdw1,
                      mdw1, nw, batch);
            snprintf(what, sizeof what, "bwd_weight acc=1 db %s", tag);
            check_bound(t, what, gdb, rdb1, mdb1, out, batch);
            fill_nan(gdw, nw);
            RUN_CHECK(lsk_linear_bwd_weight(gdw, NULL, dy, x, batch, in, out, 0), "bwd_weight db=NULL", gdw, rdw0,
                      mdw0, nw, batch);
#undef RUN_CHECK
        }
    }
    lsk_set_num_threads(0);
    float *bufs[] = {x, w, b, dy, ax, aw, ab, ady, dx0, dw0, db0, adx0, adw0, adb0, ry_b, ry, my_b, my,
                     rdx0, rdx1, mdx0, mdx1, rdw0, rdw1, mdw0, mdw1, rdb0, rdb1, mdb0, mdb1, gy, gdx, gdw, gdb};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) lsk_tfree(bufs[i]);
}

static void test_invalid(lsk_tctx *t) {
    float a[12], o[12];
    for (int i = 0; i < 12; i++) { a[i] = 0.5f; o[i] = 1.25f; }
    lsk_tcheck(t, lsk_linear_fwd(NULL, a, a, NULL, 2, 3, 2) == LSK_ERR_INVALID_ARGUMENT, "fwd rejects NULL y");
    lsk_tcheck(t, lsk_linear_fwd(o, NULL, a, NULL, 2, 3, 2) == LSK_ERR_INVALID_ARGUMENT, "fwd rejects NULL x");
    lsk_tcheck(t, lsk_linear_fwd(o, a, NULL, NULL, 2, 3, 2) == LSK_ERR_INVALID_ARGUMENT, "fwd rejects NULL w");
    lsk_tcheck(t, lsk_linear_bwd_data(NULL, a, a, 2, 3, 2, 0) == LSK_ERR_INVALID_ARGUMENT, "bwd_data rejects NULL dx");
    lsk_tcheck(t, lsk_linear_bwd_data(o, NULL, a, 2, 3, 2, 0) == LSK_ERR_INVALID_ARGUMENT, "bwd_data rejects NULL dy");
    lsk_tcheck(t, lsk_linear_bwd_data(o, a, NULL, 2, 3, 2, 0) == LSK_ERR_INVALID_ARGUMENT, "bwd_data rejects NULL w");
    lsk_tcheck(t, lsk_linear_bwd_weight(NULL, o, a, a, 2, 3, 2, 0) == LSK_ERR_INVALID_ARGUMENT,
               "bwd_weight rejects NULL dw");
    lsk_tcheck(t, lsk_linear_bwd_weight(o, o, NULL, a, 2, 3, 2, 0) == LSK_ERR_INVALID_ARGUMENT,
               "bwd_weight rejects NULL dy");
    lsk_tcheck(t, lsk_linear_bwd_weight(o, o, a, NULL, 2, 3, 2, 0) == LSK_ERR_INVALID_ARGUMENT,
               "bwd_weight rejects NULL x");
    lsk_tcheck(t, lsk_linear_fwd(o, a, a, NULL, (size_t)1 << 40, (size_t)1 << 40, 2) == LSK_ERR_INVALID_ARGUMENT,
               "fwd rejects sizes that overflow");
    int untouched = 1;
    for (int i = 0; i < 12; i++) untouched &= o[i] == 1.25f;
    lsk_tcheck(t, untouched, "rejected calls leave outputs untouched");
}

void lsk_test_linear(lsk_tctx *t) {
    test_invalid(t);
    /* batch, in, out: tiles and tails of every GEMM path (MR up to 12, NR up to 64) */
    static const size_t k_cases[][3] = {
        {1, 1, 1}, {3, 7, 5}, {13, 17, 3}, {2, 0, 4}, {0, 3, 4}, {5, 129, 31},
        {64, 33, 10}, {7, 256, 65}, {31, 64, 130}, {256, 128, 10},
    };
    for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++) run_case(t, k_cases[i][0], k_cases[i][1], k_cases[i][2]);
    for (int i = 0; i < 4; i++)
        run_case(t, lsk_trand_range(t, 1, 40), lsk_trand_range(t, 1, 70), lsk_trand_range(t, 1, 70));
}
