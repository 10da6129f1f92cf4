/*
 * Batch-norm vs its oracles (kernels/ref/norm_ref.c) on every ISA path, threads 1 and 2,
 * accumulate 0/1, shapes with odd/prime hw (every SIMD tail), hw = 1, batch = 1 and the
 * count == 1 case (no unbiased correction), data with |mean| >> std, plus a finite-difference
 * check of the oracle backward (double forward perturbed in double).
 *
 * Tolerances (inputs O(1) unless noted):
 *  - y (train/eval): the kernel's statistics are float lane sums merged in double and its
 *    (x - mean) uses the double mean as a float pair: ~1e-7 relative; rtol 1e-5, atol 1e-5.
 *  - save_mean / save_invstd / running stats: rtol 2e-6 (one float rounding of a double
 *    value, plus float lane sums of at most a few hundred terms), atol 1e-7.
 *  - dgamma / dbeta: sums of M = batch*hw terms of size <= 2 with signs that cancel; float
 *    lane sums have error ~1e-7 * (terms per lane) relative to sum|terms| <= 2M, so atol 1e-6*M.
 *  - dx: a*dy + b*(x-mean) + c with coefficients from those sums: rtol 1e-5, atol 1e-5*|gamma*invstd|.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "harness.h"

typedef struct { size_t batch, channels, hw; float offset, spread; } bn_case;

static float max_abs(const float *x, size_t n) {
    float m = 0.0f;
    for (size_t i = 0; i < n; i++) m = fabsf(x[i]) > m ? fabsf(x[i]) : m;
    return m;
}

static void check_case(lsk_tctx *t, const bn_case *k, const char *isa, int thr) {
    const size_t B = k->batch, C = k->channels, HW = k->hw, n = B * C * HW;
    char what[200];
    float *x = lsk_talloc(n), *dy = lsk_talloc(n), *gamma = lsk_talloc(C), *beta = lsk_talloc(C);
    float *y = lsk_talloc(n), *yr = lsk_talloc(n), *sm = lsk_talloc(C), *smr = lsk_talloc(C);
    float *si = lsk_talloc(C), *sir = lsk_talloc(C), *rm = lsk_talloc(C), *rmr = lsk_talloc(C);
    float *rv = lsk_talloc(C), *rvr = lsk_talloc(C);
    lsk_trand_fill(t, x, n, k->offset - k->spread, k->offset + k->spread);
    /* channel-dependent mean and scale so channels are not interchangeable */
    for (size_t b = 0; b < B; b++)
        for (size_t c = 0; c < C; c++)
            for (size_t i = 0; i < HW; i++) x[(b * C + c) * HW + i] = x[(b * C + c) * HW + i] * (1.0f + 0.1f * c) + 0.05f * c;
    lsk_trand_fill(t, dy, n, -1.0f, 1.0f);
    lsk_trand_fill(t, gamma, C, 0.5f, 1.5f);
    lsk_trand_fill(t, beta, C, -0.5f, 0.5f);
    lsk_trand_fill(t, rm, C, -0.2f, 0.2f);
    lsk_trand_fill(t, rv, C, 0.5f, 1.5f);
    memcpy(rmr, rm, C * sizeof(float));
    memcpy(rvr, rv, C * sizeof(float));
    const float mom = 0.1f, eps = 1e-5f;
    const size_t M = B * HW;

    snprintf(what, sizeof what, "bn train %zux%zux%zu off=%g %s thr=%d", B, C, HW, k->offset, isa, thr);
    lsk_tcheck(t, lsk_batchnorm_fwd_train(y, sm, si, rm, rv, x, gamma, beta, B, C, HW, mom, eps) == LSK_OK, what);
    lsk_ref_batchnorm_fwd_train(yr, smr, sir, rmr, rvr, x, gamma, beta, B, C, HW, mom, eps);
    lsk_tcheck_close(t, what, y, yr, n, 1e-5f, 1e-5f);
    lsk_tcheck_close(t, what, sm, smr, C, 2e-6f, 1e-7f);
    lsk_tcheck_close(t, what, si, sir, C, 2e-6f, 1e-7f);
    lsk_tcheck_close(t, what, rm, rmr, C, 2e-6f, 1e-7f);
    lsk_tcheck_close(t, what, rv, rvr, C, 2e-6f, 1e-7f);

    /* running stats optional */
    lsk_tcheck(t, lsk_batchnorm_fwd_train(y, sm, si, NULL, NULL, x, gamma, beta, B, C, HW, mom, eps) == LSK_OK, what);
    lsk_tcheck_close(t, what, y, yr, n, 1e-5f, 1e-5f);

    /* eval with the updated running statistics */
    snprintf(what, sizeof what, "bn eval %zux%zux%zu %s thr=%d", B, C, HW, isa, thr);
    lsk_batchnorm_fwd_eval(y, x, gamma, beta, rm, rv, B, C, HW, eps);
    lsk_ref_batchnorm_fwd_eval(yr, x, gamma, beta, rm, rv, B, C, HW, eps);
    lsk_tcheck_close(t, what, y, yr, n, 1e-5f, 1e-5f * (1.0f + fabsf(k->offset)));

    /* backward, accumulate 0/1, with the oracle's saved statistics as input */
    float *dx = lsk_talloc(n), *dxr = lsk_talloc(n), *dg = lsk_talloc(C), *dgr = lsk_talloc(C);
    float *db = lsk_talloc(C), *dbr = lsk_talloc(C);
    float amax = 0.0f;
    for (size_t c = 0; c < C; c++) amax = fabsf(gamma[c] * sir[c]) > amax ? fabsf(gamma[c] * sir[c]) : amax;
    for (int acc = 0; acc <= 1; acc++) {
        lsk_trand_fill(t, dx, n, -1.0f, 1.0f);
        lsk_trand_fill(t, dg, C, -1.0f, 1.0f);
        lsk_trand_fill(t, db, C, -1.0f, 1.0f);
        memcpy(dxr, dx, n * sizeof(float));
        memcpy(dgr, dg, C * sizeof(float));
        memcpy(dbr, db, C * sizeof(float));
        snprintf(what, sizeof what, "bn bwd acc=%d %zux%zux%zu off=%g %s thr=%d", acc, B, C, HW, k->offset, isa, thr);
        lsk_tcheck(t, lsk_batchnorm_bwd(dx, dg, db, dy, x, gamma, smr, sir, B, C, HW, acc) == LSK_OK, what);
        lsk_ref_batchnorm_bwd(dxr, dgr, dbr, dy, x, gamma, smr, sir, B, C, HW, acc);
        lsk_tcheck_close(t, what, dx, dxr, n, 1e-5f, 1e-5f * amax);
        lsk_tcheck_close(t, what, dg, dgr, C, 1e-5f, 1e-6f * (float)M);
        lsk_tcheck_close(t, what, db, dbr, C, 1e-5f, 1e-6f * (float)M);
    }
    /* dx only, and parameter gradients only */
    lsk_batchnorm_bwd(dx, NULL, NULL, dy, x, gamma, smr, sir, B, C, HW, 0);
    lsk_ref_batchnorm_bwd(dxr, NULL, NULL, dy, x, gamma, smr, sir, B, C, HW, 0);
    snprintf(what, sizeof what, "bn bwd dx only %zux%zux%zu %s thr=%d", B, C, HW, isa, thr);
    lsk_tcheck_close(t, what, dx, dxr, n, 1e-5f, 1e-5f * amax);
    lsk_batchnorm_bwd(NULL, dg, db, dy, x, NULL, smr, sir, B, C, HW, 0);
    lsk_ref_batchnorm_bwd(NULL, dgr, dbr, dy, x, NULL, smr, sir, B, C, HW, 0);
    snprintf(what, sizeof what, "bn bwd dgamma/dbeta only %zux%zux%zu %s thr=%d", B, C, HW, isa, thr);
    lsk_tcheck_close(t, what, dg, dgr, C, 1e-5f, 1e-6f * (float)M);
    lsk_tcheck_close(t, what, db, dbr, C, 1e-5f, 1e-6f * (float)M);
    (void)max_abs;

    lsk_tfree(dx), lsk_tfree(dxr), lsk_tfree(dg), lsk_tfree(dgr), lsk_tfree(db), lsk_tfree(dbr);
    lsk_tfree(x), lsk_tfree(dy), lsk_tfree(gamma), lsk_tfree(beta), lsk_tfree(y), lsk_tfree(yr);
    lsk_tfree(sm), lsk_tfree(smr), lsk_tfree(si), lsk_tfree(sir), lsk_tfree(rm), lsk_tfree(rmr);
    lsk_tfree(rv), lsk_tfree(rvr);
}

/* count == 1: var = 0, y = beta, running_var decays toward 0 without the n/(n-1) factor. */
static void check_count_one(lsk_tctx *t) {
    float x[3] = {0.3f, -2.0f, 5.0f}, gamma[3] = {1.0f, 2.0f, 0.5f}, beta[3] = {0.1f, 0.2f, 0.3f};
    float y[3], sm[3], si[3], rm[3] = {1.0f, 1.0f, 1.0f}, rv[3] = {1.0f, 1.0f, 1.0f};
    LSK_FOR_EACH_ISA(isa) {
        rm[0] = rm[1] = rm[2] = rv[0] = rv[1] = rv[2] = 1.0f;
        lsk_tcheck(t, lsk_batchnorm_fwd_train(y, sm, si, rm, rv, x, gamma, beta, 1, 3, 1, 0.5f, 1e-5f) == LSK_OK,
                   "bn count==1 accepted");
        const float want_rm[3] = {0.65f, -0.5f, 3.0f}, want_rv[3] = {0.5f, 0.5f, 0.5f};
        lsk_tcheck_close(t, "bn count==1 y == beta", y, beta, 3, 0.0f, 1e-7f);
        lsk_tcheck_close(t, "bn count==1 save_mean", sm, x, 3, 0.0f, 0.0f);
        lsk_tcheck_close(t, "bn count==1 running_mean", rm, want_rm, 3, 1e-7f, 0.0f);
        lsk_tcheck_close(t, "bn count==1 running_var (no unbiased correction)", rv, want_rv, 3, 0.0f, 0.0f);
        const float want_si = (float)(1.0 / sqrt(1e-5f));
        lsk_tcheck(t, fabsf(si[0] - want_si) <= 1e-6f * want_si, "bn count==1 invstd = 1/sqrt(eps)");
    }
}

/* Double forward L = sum(w * y(x, gamma, beta)) for the finite-difference check. */
static double bn_loss_double(const double *x, const double *gamma, const double *beta, const float *w,
                             size_t B, size_t C, size_t HW, double eps) {
    double L = 0.0;
    const double M = (double)(B * HW);
    for (size_t c = 0; c < C; c++) {
        double s = 0.0, q = 0.0;
        for (size_t b = 0; b < B; b++)
            for (size_t i = 0; i < HW; i++) s += x[(b * C + c) * HW + i];
        const double mean = s / M;
        for (size_t b = 0; b < B; b++)
            for (size_t i = 0; i < HW; i++) q += (x[(b * C + c) * HW + i] - mean) * (x[(b * C + c) * HW + i] - mean);
        const double is = 1.0 / sqrt(q / M + eps);
        for (size_t b = 0; b < B; b++)
            for (size_t i = 0; i < HW; i++) {
                const size_t j = (b * C + c) * HW + i;
                L += w[j] * (gamma[c] * (x[j] - mean) * is + beta[c]);
            }
    }
    return L;
}

/* The oracle backward agrees with central differences of a double forward (h = 1e-5,
 * truncation error ~h^2, so the float-rounded oracle dominates: rtol 1e-4, atol 1e-5). */
static void check_finite_difference(lsk_tctx *t) {
    enum { B = 3, C = 2, HW = 5, N = B * C * HW };
    float x[N], w[N], g[C], be[C], y[N], sm[C], si[C], dx[N], dg[C], db[C];
    double xd[N], gd[C], bd[C];
    lsk_trand_fill(t, x, N, -1.0f, 2.0f);
    lsk_trand_fill(t, w, N, -1.0f, 1.0f);
    lsk_trand_fill(t, g, C, 0.5f, 1.5f);
    lsk_trand_fill(t, be, C, -0.5f, 0.5f);
    const float eps = 1e-3f;
    lsk_ref_batchnorm_fwd_train(y, sm, si, NULL, NULL, x, g, be, B, C, HW, 0.1f, eps);
    lsk_ref_batchnorm_bwd(dx, dg, db, w, x, g, sm, si, B, C, HW, 0);
    for (int i = 0; i < N; i++) xd[i] = x[i];
    for (int c = 0; c < C; c++) gd[c] = g[c], bd[c] = be[c];
    const double h = 1e-5;
    float fdx[N], fdg[C], fdb[C];
    for (int i = 0; i < N; i++) {
        const double keep = xd[i];
        xd[i] = keep + h;
        const double lp = bn_loss_double(xd, gd, bd, w, B, C, HW, eps);
        xd[i] = keep - h;
        const double lm = bn_loss_double(xd, gd, bd, w, B, C, HW, eps);
        xd[i] = keep;
        fdx[i] = (float)((lp - lm) / (2 * h));
    }
    for (int c = 0; c < C; c++) {
        double keep = gd[c];
        gd[c] = keep + h;
        double lp = bn_loss_double(xd, gd, bd, w, B, C, HW, eps);
        gd[c] = keep - h;
        double lm = bn_loss_double(xd, gd, bd, w, B, C, HW, eps);
        gd[c] = keep;
        fdg[c] = (float)((lp - lm) / (2 * h));
        keep = bd[c];
        bd[c] = keep + h;
        lp = bn_loss_double(xd, gd, bd, w, B, C, HW, eps);
        bd[c] = keep - h;
        lm = bn_loss_double(xd, gd, bd, w, B, C, HW, eps);
        bd[c] = keep;
        fdb[c] = (float)((lp - lm) / (2 * h));
    }
    lsk_tcheck_close(t, "bn oracle bwd dx vs finite differences", dx, fdx, N, 1e-4f, 1e-5f);
    lsk_tcheck_close(t, "bn oracle bwd dgamma vs finite differences", dg, fdg, C, 1e-4f, 1e-5f);
    lsk_tcheck_close(t, "bn oracle bwd dbeta vs finite differences", db, fdb, C, 1e-4f, 1e-5f);
}

static void check_invalid(lsk_tctx *t) {
    float x[8] = {0}, y[8] = {7, 7, 7, 7, 7, 7, 7, 7}, g[2] = {1, 1}, b[2] = {0, 0}, m[2] = {5, 5}, s[2] = {5, 5};
    lsk_tcheck(t, lsk_batchnorm_fwd_train(y, m, s, NULL, NULL, x, NULL, b, 2, 2, 2, 0.1f, 1e-5f) == LSK_ERR_INVALID_ARGUMENT,
               "bn train NULL gamma rejected");
    lsk_tcheck(t, lsk_batchnorm_fwd_train(y, m, s, NULL, NULL, x, g, b, 2, 2, 2, 0.1f, -1.0f) == LSK_ERR_INVALID_ARGUMENT,
               "bn train eps<0 rejected");
    lsk_tcheck(t, lsk_batchnorm_fwd_train(y, m, s, NULL, NULL, x, g, b, 2, 2, 2, NAN, 1e-5f) == LSK_ERR_INVALID_ARGUMENT,
               "bn train NaN momentum rejected");
    lsk_tcheck(t, lsk_batchnorm_fwd_train(y, m, s, NULL, NULL, x, g, b, 0, 2, 2, 0.1f, 1e-5f) == LSK_ERR_INVALID_ARGUMENT,
               "bn train batch=0 (no statistics) rejected");
    lsk_tcheck(t, lsk_batchnorm_fwd_train(y, m, s, NULL, NULL, x, g, b, (size_t)1 << 40, (size_t)1 << 30, 2, 0.1f,
                                          1e-5f) == LSK_ERR_INVALID_ARGUMENT,
               "bn train overflowing size rejected");
    lsk_tcheck(t, lsk_batchnorm_fwd_eval(y, x, g, b, NULL, s, 2, 2, 2, 1e-5f) == LSK_ERR_INVALID_ARGUMENT,
               "bn eval NULL running_mean rejected");
    lsk_tcheck(t, lsk_batchnorm_bwd(y, NULL, NULL, x, x, g, m, s, 2, 2, 2, 2) == LSK_ERR_INVALID_ARGUMENT,
               "bn bwd accumulate=2 rejected");
    lsk_tcheck(t, lsk_batchnorm_bwd(y, NULL, NULL, x, x, NULL, m, s, 2, 2, 2, 0) == LSK_ERR_INVALID_ARGUMENT,
               "bn bwd dx without gamma rejected");
    lsk_tcheck(t, lsk_batchnorm_bwd(y, NULL, NULL, NULL, x, g, m, s, 2, 2, 2, 0) == LSK_ERR_INVALID_ARGUMENT,
               "bn bwd NULL dy rejected");
    int untouched = m[0] == 5 && s[0] == 5;
    for (int i = 0; i < 8; i++) untouched &= y[i] == 7;
    lsk_tcheck(t, untouched, "bn rejected calls touched nothing");
    lsk_tcheck(t, lsk_channel_affine_fwd(y, x, g, b, 2, 2, 2, 2) == LSK_ERR_INVALID_ARGUMENT, "affine relu=2 rejected");
    lsk_tcheck(t, lsk_channel_affine_fwd(y, x, NULL, b, 2, 2, 2, 0) == LSK_ERR_INVALID_ARGUMENT, "affine NULL scale rejected");
    lsk_tcheck(t, lsk_batchnorm_fwd_train(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 4, 0, 4, 0.1f, 1e-5f) == LSK_OK,
               "bn channels=0 is a no-op");
}

/* The inference affine (+ ReLU) against its oracle: out of place and in place; hw covers the
 * vector tails, relu both ways, scales of both signs so that the ReLU clips about half. */
static void check_affine(lsk_tctx *t, size_t B, size_t C, size_t HW, const char *isa, int thr) {
    const size_t n = B * C * HW;
    float *x = lsk_talloc(n), *y = lsk_talloc(n), *yr = lsk_talloc(n), *sc = lsk_talloc(C), *sh = lsk_talloc(C);
    char what[160];
    lsk_trand_fill(t, x, n, -2.0f, 2.0f);
    lsk_trand_fill(t, sc, C, -1.5f, 1.5f);
    lsk_trand_fill(t, sh, C, -0.5f, 0.5f);
    for (int relu = 0; relu <= 1; relu++) {
        snprintf(what, sizeof what, "affine relu=%d %zux%zux%zu %s thr=%d", relu, B, C, HW, isa, thr);
        lsk_tcheck(t, lsk_channel_affine_fwd(y, x, sc, sh, B, C, HW, relu) == LSK_OK, what);
        lsk_ref_channel_affine_fwd(yr, x, sc, sh, B, C, HW, relu);
        lsk_tcheck_close(t, what, y, yr, n, 1e-6f, 1e-6f);
        memcpy(y, x, n * sizeof(float));
        snprintf(what, sizeof what, "affine in place relu=%d %zux%zux%zu %s thr=%d", relu, B, C, HW, isa, thr);
        lsk_tcheck(t, lsk_channel_affine_fwd(y, y, sc, sh, B, C, HW, relu) == LSK_OK, what);
        lsk_tcheck_close(t, what, y, yr, n, 1e-6f, 1e-6f);
    }
    lsk_tfree(x), lsk_tfree(y), lsk_tfree(yr), lsk_tfree(sc), lsk_tfree(sh);
}

void lsk_test_norm(lsk_tctx *t) {
    static const bn_case cases[] = {
        {1, 1, 1, 0.0f, 1.0f},    {5, 3, 1, 0.0f, 1.0f},    {1, 4, 37, 0.5f, 1.0f},   {2, 3, 7, 0.0f, 1.0f},
        {3, 5, 16, 0.0f, 1.0f},   {4, 2, 17, 0.0f, 1.0f},   {2, 7, 31, 0.0f, 1.0f},   {3, 3, 33, 0.0f, 1.0f},
        {2, 2, 64, 0.0f, 1.0f},   {3, 4, 65, 0.0f, 1.0f},   {2, 3, 49, 1000.0f, 0.5f}, {4, 5, 63, 3.0f, 0.01f},
        {6, 11, 1031, 0.2f, 1.0f}, {17, 3, 8, 0.0f, 1.0f},
    };
    LSK_FOR_EACH_ISA(isa) {
        const char *name = lsk_isa_name((lsk_isa)isa);
        for (int thr = 1; thr <= 2; thr++) {
            lsk_set_num_threads(thr);
            for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) check_case(t, &cases[k], name, thr);
            /* random shapes: hw covers every tail 1..33 */
            for (int r = 0; r < 6; r++) {
                bn_case k = {lsk_trand_range(t, 1, 5), lsk_trand_range(t, 1, 6), lsk_trand_range(t, 1, 33), 0.0f, 1.0f};
                check_case(t, &k, name, thr);
            }
            for (size_t hw = 1; hw <= 67; hw += 3) check_affine(t, lsk_trand_range(t, 1, 3), lsk_trand_range(t, 1, 5), hw, name, thr);
            check_affine(t, 3, 40, 1024, name, thr); /* large enough to run on two threads */
        }
    }
    lsk_set_num_threads(0);
    check_count_one(t);
    check_finite_difference(t);
    check_invalid(t);
}
