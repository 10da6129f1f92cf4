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
 *  - dx: a*dy + b*(x-mean) + c with coefficients from those sums: rtol 1e-5, atol 1e-5*|gamma*invstd|. *
 * Split forms (synchronised batch norm, lsk_batchnorm_stats / _stats_merge / _fwd_apply /
 * _bwd_reduce / _bwd_apply): equal to the fused calls bit for bit for one part; for a batch
 * split into parts, equal to the fused whole-batch call within rtol 1e-5 (see check_split_parts);
 * invalid arguments refused without touching memory (check_split_invalid).
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
    /* relu(batch norm) fused: bit for bit the unfused kernels in sequence on this path (the
     * property the Swift layer relies on), and close to its oracle. */
    {
        float *yf = lsk_talloc(n), *yu = lsk_talloc(n), *g = lsk_talloc(n);
        float *smf = lsk_talloc(C), *sif = lsk_talloc(C), *smu = lsk_talloc(C), *siu = lsk_talloc(C);
        snprintf(what, sizeof what, "bn+relu train %zux%zux%zu off=%g %s thr=%d", B, C, HW, k->offset, isa, thr);
        lsk_tcheck(t, lsk_batchnorm_relu_fwd_train(yf, smf, sif, NULL, NULL, x, gamma, beta, B, C, HW, mom, eps) == LSK_OK,
                   what);
        lsk_batchnorm_fwd_train(yu, smu, siu, NULL, NULL, x, gamma, beta, B, C, HW, mom, eps);
        lsk_relu_fwd(yu, yu, n);
        lsk_tcheck(t, memcmp(yf, yu, n * sizeof(float)) == 0 && memcmp(smf, smu, C * sizeof(float)) == 0 &&
                          memcmp(sif, siu, C * sizeof(float)) == 0, what);
        lsk_ref_batchnorm_relu_fwd_train(yr, smr, sir, NULL, NULL, x, gamma, beta, B, C, HW, mom, eps);
        lsk_tcheck_close(t, what, yf, yr, n, 1e-5f, 1e-5f);
        for (int acc = 0; acc <= 1; acc++) {
            lsk_trand_fill(t, dx, n, -1.0f, 1.0f);
            lsk_trand_fill(t, dg, C, -1.0f, 1.0f);
            lsk_trand_fill(t, db, C, -1.0f, 1.0f);
            memcpy(dxr, dx, n * sizeof(float));
            memcpy(dgr, dg, C * sizeof(float));
            memcpy(dbr, db, C * sizeof(float));
            float *dxu = lsk_talloc(n), *dgu = lsk_talloc(C), *dbu = lsk_talloc(C);
            memcpy(dxu, dx, n * sizeof(float));
            memcpy(dgu, dg, C * sizeof(float));
            memcpy(dbu, db, C * sizeof(float));
            snprintf(what, sizeof what, "bn+relu bwd acc=%d %zux%zux%zu off=%g %s thr=%d", acc, B, C, HW, k->offset, isa, thr);
            lsk_tcheck(t, lsk_batchnorm_relu_bwd(dx, dg, db, dy, yf, x, gamma, smf, sif, B, C, HW, acc) == LSK_OK, what);
            lsk_relu_bwd(g, dy, yf, n, 0);
            lsk_batchnorm_bwd(dxu, dgu, dbu, g, x, gamma, smf, sif, B, C, HW, acc);
            lsk_tcheck(t, memcmp(dx, dxu, n * sizeof(float)) == 0 && memcmp(dg, dgu, C * sizeof(float)) == 0 &&
                              memcmp(db, dbu, C * sizeof(float)) == 0, what);
            lsk_ref_batchnorm_relu_bwd(dxr, dgr, dbr, dy, yf, x, gamma, smf, sif, B, C, HW, acc);
            lsk_tcheck_close(t, what, dx, dxr, n, 1e-5f, 1e-5f * amax);
            lsk_tcheck_close(t, what, dg, dgr, C, 1e-5f, 1e-6f * (float)M);
            lsk_tcheck_close(t, what, db, dbr, C, 1e-5f, 1e-6f * (float)M);
            lsk_tfree(dxu), lsk_tfree(dgu), lsk_tfree(dbu);
        }
        /* parameter gradients only, and dx only */
        lsk_batchnorm_relu_bwd(NULL, dg, db, dy, yf, x, NULL, smf, sif, B, C, HW, 0);
        lsk_ref_batchnorm_relu_bwd(NULL, dgr, dbr, dy, yf, x, NULL, smf, sif, B, C, HW, 0);
        snprintf(what, sizeof what, "bn+relu bwd dgamma/dbeta only %zux%zux%zu %s thr=%d", B, C, HW, isa, thr);
        lsk_tcheck_close(t, what, dg, dgr, C, 1e-5f, 1e-6f * (float)M);
        lsk_tcheck_close(t, what, db, dbr, C, 1e-5f, 1e-6f * (float)M);
        lsk_batchnorm_relu_bwd(dx, NULL, NULL, dy, yf, x, gamma, smf, sif, B, C, HW, 0);
        lsk_ref_batchnorm_relu_bwd(dxr, NULL, NULL, dy, yf, x, gamma, smf, sif, B, C, HW, 0);
        snprintf(what, sizeof what, "bn+relu bwd dx only %zux%zux%zu %s thr=%d", B, C, HW, isa, thr);
        lsk_tcheck_close(t, what, dx, dxr, n, 1e-5f, 1e-5f * amax);
        lsk_tfree(yf), lsk_tfree(yu), lsk_tfree(g), lsk_tfree(smf), lsk_tfree(sif), lsk_tfree(smu), lsk_tfree(siu);
    }
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
    lsk_tcheck(t, lsk_batchnorm_relu_bwd(y, NULL, NULL, x, NULL, x, g, m, s, 2, 2, 2, 0) == LSK_ERR_INVALID_ARGUMENT,
               "bn+relu bwd NULL y rejected");
    lsk_tcheck(t, lsk_batchnorm_relu_fwd_train(y, m, s, NULL, NULL, x, g, NULL, 2, 2, 2, 0.1f, 1e-5f) ==
                      LSK_ERR_INVALID_ARGUMENT,
               "bn+relu train NULL beta rejected");
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

/* ---- split forms: synchronised batch norm ------------------------------------------------ */

static int same_bits(const void *a, const void *b, size_t bytes) { return bytes == 0 || memcmp(a, b, bytes) == 0; }

static double *talloc_d(size_t n) { return (double *)lsk_talloc(2 * (n ? n : 1)); } /* NaN-filled */

/* Random x (channel-dependent mean and scale, plus offset), dy, gamma, beta, running stats. */
static void split_inputs(lsk_tctx *t, size_t B, size_t C, size_t HW, float offset, float *x, float *dy, float *gamma,
                         float *beta, float *rm, float *rv) {
    const size_t n = B * C * HW;
    lsk_trand_fill(t, x, n, offset - 1.0f, offset + 1.0f);
    for (size_t b = 0; b < B; b++)
        for (size_t c = 0; c < C; c++)
            for (size_t i = 0; i < HW; i++) x[(b * C + c) * HW + i] = x[(b * C + c) * HW + i] * (1.0f + 0.1f * c) + 0.05f * c;
    lsk_trand_fill(t, dy, n, -1.0f, 1.0f);
    lsk_trand_fill(t, gamma, C, 0.5f, 1.5f);
    lsk_trand_fill(t, beta, C, -0.5f, 0.5f);
    lsk_trand_fill(t, rm, C, -0.2f, 0.2f);
    lsk_trand_fill(t, rv, C, 0.5f, 1.5f);
}

/* (a) One part: lsk_batchnorm_stats -> lsk_batchnorm_stats_merge (the part alone, and between
 * zero-count parts holding garbage) -> lsk_batchnorm_fwd_apply equals lsk_batchnorm_fwd_train,
 * and lsk_batchnorm_bwd_reduce -> lsk_batchnorm_bwd_apply equals lsk_batchnorm_bwd (accumulate
 * 0/1; all outputs, dx only, dgamma/dbeta only), bit for bit. */
static void check_split_fused(lsk_tctx *t, size_t B, size_t C, size_t HW, float offset, const char *isa, int thr) {
    const size_t n = B * C * HW;
    const double M = (double)B * (double)HW;
    const float mom = 0.1f, eps = 1e-5f;
    char what[200];
    float *x = lsk_talloc(n), *dy = lsk_talloc(n), *gamma = lsk_talloc(C), *beta = lsk_talloc(C);
    float *rm0 = lsk_talloc(C), *rv0 = lsk_talloc(C), *y1 = lsk_talloc(n), *y2 = lsk_talloc(n);
    float *sm1 = lsk_talloc(C), *sm2 = lsk_talloc(C), *si1 = lsk_talloc(C), *si2 = lsk_talloc(C);
    float *rm1 = lsk_talloc(C), *rm2 = lsk_talloc(C), *rv1 = lsk_talloc(C), *rv2 = lsk_talloc(C);
    double *st = talloc_d(2 * C), *mg = talloc_d(2 * C), *three = talloc_d(6 * C), *sums = talloc_d(2 * C);
    split_inputs(t, B, C, HW, offset, x, dy, gamma, beta, rm0, rv0);
    memcpy(rm1, rm0, C * sizeof(float)), memcpy(rm2, rm0, C * sizeof(float));
    memcpy(rv1, rv0, C * sizeof(float)), memcpy(rv2, rv0, C * sizeof(float));

    snprintf(what, sizeof what, "bn split fwd == fused %zux%zux%zu off=%g %s thr=%d", B, C, HW, offset, isa, thr);
    int ok = lsk_batchnorm_fwd_train(y1, sm1, si1, rm1, rv1, x, gamma, beta, B, C, HW, mom, eps) == LSK_OK;
    ok &= lsk_batchnorm_stats(st, x, B, C, HW) == LSK_OK;
    ok &= lsk_batchnorm_stats_merge(mg, st, 1, &M, C) == LSK_OK && same_bits(mg, st, 2 * C * sizeof(double));
    for (size_t i = 0; i < 6 * C; i++) three[i] = i < 2 * C || i >= 4 * C ? NAN : st[i - 2 * C];
    const double counts3[3] = {0.0, M, 0.0};
    ok &= lsk_batchnorm_stats_merge(three, three, 3, counts3, C) == LSK_OK && same_bits(three, st, 2 * C * sizeof(double));
    ok &= lsk_batchnorm_fwd_apply(y2, sm2, si2, rm2, rv2, x, gamma, beta, mg, M, B, C, HW, mom, eps) == LSK_OK;
    ok &= same_bits(y1, y2, n * sizeof(float)) && same_bits(sm1, sm2, C * sizeof(float)) &&
          same_bits(si1, si2, C * sizeof(float)) && same_bits(rm1, rm2, C * sizeof(float)) &&
          same_bits(rv1, rv2, C * sizeof(float));
    ok &= lsk_batchnorm_fwd_apply(y2, sm2, si2, NULL, NULL, x, gamma, beta, mg, M, B, C, HW, mom, eps) == LSK_OK &&
          same_bits(y1, y2, n * sizeof(float));
    lsk_tcheck(t, ok, what);

    float *dx1 = lsk_talloc(n), *dx2 = lsk_talloc(n), *dg1 = lsk_talloc(C), *dg2 = lsk_talloc(C);
    float *db1 = lsk_talloc(C), *db2 = lsk_talloc(C);
    for (int acc = 0; acc <= 1; acc++)
        for (int mode = 0; mode < 3; mode++) { /* all outputs, dx only, dgamma/dbeta only */
            lsk_trand_fill(t, dx1, n, -1.0f, 1.0f);
            lsk_trand_fill(t, dg1, C, -1.0f, 1.0f);
            lsk_trand_fill(t, db1, C, -1.0f, 1.0f);
            memcpy(dx2, dx1, n * sizeof(float)), memcpy(dg2, dg1, C * sizeof(float)), memcpy(db2, db1, C * sizeof(float));
            float *X1 = mode == 2 ? NULL : dx1, *X2 = mode == 2 ? NULL : dx2;
            float *G1 = mode == 1 ? NULL : dg1, *G2 = mode == 1 ? NULL : dg2, *E1 = mode == 1 ? NULL : db1, *E2 = mode == 1 ? NULL : db2;
            snprintf(what, sizeof what, "bn split bwd == fused acc=%d mode=%d %zux%zux%zu off=%g %s thr=%d", acc, mode, B, C,
                     HW, offset, isa, thr);
            ok = lsk_batchnorm_bwd(X1, G1, E1, dy, x, gamma, sm1, si1, B, C, HW, acc) == LSK_OK;
            ok &= lsk_batchnorm_bwd_reduce(sums, dy, x, sm1, B, C, HW) == LSK_OK;
            ok &= lsk_batchnorm_bwd_apply(X2, G2, E2, sums, M, dy, x, gamma, sm1, si1, B, C, HW, acc) == LSK_OK;
            ok &= same_bits(dx1, dx2, n * sizeof(float)) && same_bits(dg1, dg2, C * sizeof(float)) &&
                  same_bits(db1, db2, C * sizeof(float));
            lsk_tcheck(t, ok, what);
        }
    lsk_tfree(dx1), lsk_tfree(dx2), lsk_tfree(dg1), lsk_tfree(dg2), lsk_tfree(db1), lsk_tfree(db2);
    lsk_tfree(x), lsk_tfree(dy), lsk_tfree(gamma), lsk_tfree(beta), lsk_tfree(rm0), lsk_tfree(rv0);
    lsk_tfree(y1), lsk_tfree(y2), lsk_tfree(sm1), lsk_tfree(sm2), lsk_tfree(si1), lsk_tfree(si2);
    lsk_tfree(rm1), lsk_tfree(rm2), lsk_tfree(rv1), lsk_tfree(rv2);
    lsk_tfree(st), lsk_tfree(mg), lsk_tfree(three), lsk_tfree(sums);
}

/* (b) The batch split into K parts of rows[p] images (0 allowed), one "rank" each: every rank
 * reduces its rows (lsk_batchnorm_stats), merges all parts' stats (lsk_batchnorm_stats_merge),
 * applies them to its rows (lsk_batchnorm_fwd_apply with the total count, its own save_* and
 * running_* copies); backward, every rank reduces its rows (lsk_batchnorm_bwd_reduce), the sums
 * are all-reduced (added in rank order, starting from 0) and every rank applies them
 * (lsk_batchnorm_bwd_apply). Compared with the fused whole-batch calls; the backward of both
 * uses the fused forward's save_mean/save_invstd, so only the reduction order differs.
 *
 * Why not bit-exact: the plane statistics are the same numbers in both (same microkernel on
 * the same planes), but the fused call chains Chan's update over the images in order while
 * the split path merges per part and then over parts (and adds the backward sums per part,
 * then over parts): another rounding order in double. The double results differ in their last
 * bits; rounded to float (save_*, running_*, the y scale, dx coefficients, dgamma/dbeta) that is
 * at most about one float ulp, which y and dx inherit: rtol 1e-5 (atol 1e-6 for statistics
 * and parameter gradients, 1e-5 for y, 1e-5*|gamma*invstd| for dx) holds with a margin of
 * 100x, while a wrong merge (e.g. no delta^2 term) is off by O(1) relative. Every rank must get
 * the same bits as every other rank (save_*, running_*, dgamma, dbeta).
 *
 * One image per part (rows all 1) is the fused call's own order (per-image stats merged in
 * image order by the same update; per-image sums added in image order): bit-exact, checked. */
static void check_split_parts(lsk_tctx *t, size_t B, size_t C, size_t HW, const size_t *rows, size_t K,
                              const char *isa, int thr) {
    const size_t n = B * C * HW, plane = C * HW;
    const double M = (double)B * (double)HW;
    const float mom = 0.1f, eps = 1e-5f;
    int exact = 1;
    size_t rsum = 0;
    for (size_t p = 0; p < K; p++) exact &= rows[p] == 1, rsum += rows[p];
    if (rsum != B) {
        lsk_tcheck(t, 0, "bn split parts: rows do not sum to the batch (test bug)");
        return;
    }
    const float tr = exact ? 0.0f : 1e-5f, ta = exact ? 0.0f : 1e-6f;
    char what[240], parts_s[64];
    int len = 0;
    for (size_t p = 0; p < K && len < (int)sizeof parts_s - 8; p++) len += snprintf(parts_s + len, sizeof parts_s - len, "%s%zu", p ? "+" : "", rows[p]);
    float *x = lsk_talloc(n), *dy = lsk_talloc(n), *gamma = lsk_talloc(C), *beta = lsk_talloc(C);
    float *rm0 = lsk_talloc(C), *rv0 = lsk_talloc(C), *y1 = lsk_talloc(n), *y2 = lsk_talloc(n);
    float *sm1 = lsk_talloc(C), *si1 = lsk_talloc(C), *rm1 = lsk_talloc(C), *rv1 = lsk_talloc(C);
    float *dx1 = lsk_talloc(n), *dx2 = lsk_talloc(n), *dg1 = lsk_talloc(C), *db1 = lsk_talloc(C);
    /* per rank: save_mean, save_invstd, running_mean, running_var, dgamma, dbeta */
    float *rk = lsk_talloc(6 * K * C);
    double *parts = talloc_d(2 * K * C), *mg = talloc_d(2 * K * C), *sums = talloc_d(2 * K * C), *tot = talloc_d(2 * C);
    double *counts = talloc_d(K);
    split_inputs(t, B, C, HW, 0.5f, x, dy, gamma, beta, rm0, rv0);
    memcpy(rm1, rm0, C * sizeof(float)), memcpy(rv1, rv0, C * sizeof(float));
    lsk_batchnorm_fwd_train(y1, sm1, si1, rm1, rv1, x, gamma, beta, B, C, HW, mom, eps);
    lsk_batchnorm_bwd(dx1, dg1, db1, dy, x, gamma, sm1, si1, B, C, HW, 0);

    int ok = 1;
    size_t r0 = 0;
    for (size_t p = 0; p < K; r0 += rows[p], p++) { /* reduce */
        ok &= lsk_batchnorm_stats(parts + 2 * p * C, rows[p] ? x + r0 * plane : NULL, rows[p], C, HW) == LSK_OK;
        counts[p] = (double)rows[p] * (double)HW;
    }
    for (size_t p = 0; p < K; p++) { /* every rank merges the gathered parts */
        ok &= lsk_batchnorm_stats_merge(mg + 2 * p * C, parts, K, counts, C) == LSK_OK;
        ok &= same_bits(mg + 2 * p * C, mg, 2 * C * sizeof(double));
    }
    r0 = 0;
    for (size_t p = 0; p < K; r0 += rows[p], p++) { /* apply */
        float *r = rk + 6 * p * C;
        memcpy(r + 2 * C, rm0, C * sizeof(float)), memcpy(r + 3 * C, rv0, C * sizeof(float));
        ok &= lsk_batchnorm_fwd_apply(rows[p] ? y2 + r0 * plane : NULL, r, r + C, r + 2 * C, r + 3 * C,
                                      rows[p] ? x + r0 * plane : NULL, gamma, beta, mg + 2 * p * C, M, rows[p], C, HW,
                                      mom, eps) == LSK_OK;
        if (p) ok &= same_bits(r, rk, 4 * C * sizeof(float));
    }
    snprintf(what, sizeof what, "bn split fwd parts %s %zux%zux%zu %s thr=%d%s", parts_s, B, C, HW, isa, thr,
             exact ? " (bit-exact)" : "");
    lsk_tcheck(t, ok, what);
    lsk_tcheck_close(t, what, y2, y1, n, tr, exact ? 0.0f : 1e-5f);
    lsk_tcheck_close(t, what, rk, sm1, C, tr, ta);
    lsk_tcheck_close(t, what, rk + C, si1, C, tr, ta);
    lsk_tcheck_close(t, what, rk + 2 * C, rm1, C, tr, ta);
    lsk_tcheck_close(t, what, rk + 3 * C, rv1, C, tr, ta);

    ok = 1;
    r0 = 0;
    for (size_t p = 0; p < K; r0 += rows[p], p++)
        ok &= lsk_batchnorm_bwd_reduce(sums + 2 * p * C, rows[p] ? dy + r0 * plane : NULL, rows[p] ? x + r0 * plane : NULL,
                                       sm1, rows[p], C, HW) == LSK_OK;
    for (size_t i = 0; i < 2 * C; i++) { /* all-reduce, in rank order */
        tot[i] = 0.0;
        for (size_t p = 0; p < K; p++) tot[i] += sums[2 * p * C + i];
    }
    r0 = 0;
    for (size_t p = 0; p < K; r0 += rows[p], p++) {
        float *r = rk + 6 * p * C;
        ok &= lsk_batchnorm_bwd_apply(rows[p] ? dx2 + r0 * plane : NULL, r + 4 * C, r + 5 * C, tot, M,
                                      rows[p] ? dy + r0 * plane : NULL, rows[p] ? x + r0 * plane : NULL, gamma, sm1, si1,
                                      rows[p], C, HW, 0) == LSK_OK;
        if (p) ok &= same_bits(r + 4 * C, rk + 4 * C, 2 * C * sizeof(float));
    }
    float amax = 0.0f;
    for (size_t c = 0; c < C; c++) amax = fabsf(gamma[c] * si1[c]) > amax ? fabsf(gamma[c] * si1[c]) : amax;
    snprintf(what, sizeof what, "bn split bwd parts %s %zux%zux%zu %s thr=%d%s", parts_s, B, C, HW, isa, thr,
             exact ? " (bit-exact)" : "");
    lsk_tcheck(t, ok, what);
    lsk_tcheck_close(t, what, dx2, dx1, n, tr, exact ? 0.0f : 1e-5f * amax);
    lsk_tcheck_close(t, what, rk + 4 * C, dg1, C, tr, ta);
    lsk_tcheck_close(t, what, rk + 5 * C, db1, C, tr, ta);

    lsk_tfree(x), lsk_tfree(dy), lsk_tfree(gamma), lsk_tfree(beta), lsk_tfree(rm0), lsk_tfree(rv0);
    lsk_tfree(y1), lsk_tfree(y2), lsk_tfree(sm1), lsk_tfree(si1), lsk_tfree(rm1), lsk_tfree(rv1);
    lsk_tfree(dx1), lsk_tfree(dx2), lsk_tfree(dg1), lsk_tfree(db1), lsk_tfree(rk);
    lsk_tfree(parts), lsk_tfree(mg), lsk_tfree(sums), lsk_tfree(tot), lsk_tfree(counts);
}

/* (b) for one shape: 2 and 3 parts, with empty parts first, in the middle and last, and one
 * image per part. */
static void check_split_parts_all(lsk_tctx *t, size_t B, size_t C, size_t HW, const char *isa, int thr) {
    const size_t two[2] = {B / 2, B - B / 2}, empty_first[2] = {0, B}, empty_last[2] = {B, 0};
    const size_t three[3] = {B / 3, B - B / 3 - (B > 1), B > 1}, mid_empty[3] = {B - B / 2, 0, B / 2};
    check_split_parts(t, B, C, HW, two, 2, isa, thr);
    check_split_parts(t, B, C, HW, empty_first, 2, isa, thr);
    check_split_parts(t, B, C, HW, empty_last, 2, isa, thr);
    check_split_parts(t, B, C, HW, three, 3, isa, thr);
    check_split_parts(t, B, C, HW, mid_empty, 3, isa, thr);
    size_t ones[64];
    if (B <= 64) {
        for (size_t b = 0; b < B; b++) ones[b] = 1;
        check_split_parts(t, B, C, HW, ones, B, isa, thr);
    }
}

/* (c) Invalid arguments of the split forms, test_invalid.c's way: LSK_ERR_INVALID_ARGUMENT and
 * every output canary intact; valid control calls on the same buffers succeed. */
enum { SPLIT_NBUF = 64 };
static float g_split_out[5][SPLIT_NBUF];
static double g_split_dout[SPLIT_NBUF];
static float g_split_in[4][SPLIT_NBUF];
static double g_split_din[SPLIT_NBUF];

static void split_reset(void) {
    for (int b = 0; b < 5; b++)
        for (int i = 0; i < SPLIT_NBUF; i++) g_split_out[b][i] = 777.0f;
    for (int i = 0; i < SPLIT_NBUF; i++) g_split_dout[i] = 777.0;
    for (int b = 0; b < 4; b++)
        for (int i = 0; i < SPLIT_NBUF; i++) g_split_in[b][i] = 0.25f + 0.01f * (float)(i % 7) + 0.1f * (float)b;
    for (int i = 0; i < SPLIT_NBUF; i++) g_split_din[i] = i % 2 ? 1.5 : 0.3; /* (mean, M2) pairs */
}

static int split_untouched(void) {
    for (int b = 0; b < 5; b++)
        for (int i = 0; i < SPLIT_NBUF; i++)
            if (g_split_out[b][i] != 777.0f) return 0;
    for (int i = 0; i < SPLIT_NBUF; i++)
        if (g_split_dout[i] != 777.0) return 0;
    return 1;
}

#define SPLIT_EXPECT(call, want)                                                                       \
    do {                                                                                               \
        split_reset();                                                                                 \
        const lsk_status got_ = (call);                                                                \
        lsk_tcheck(t, got_ == (want) && ((want) != LSK_ERR_INVALID_ARGUMENT || split_untouched()),     \
                   "test_norm.c split " #call);                                                        \
    } while (0)
#define SPLIT_BAD(call) SPLIT_EXPECT(call, LSK_ERR_INVALID_ARGUMENT)
#define SPLIT_OK(call) SPLIT_EXPECT(call, LSK_OK)

static void check_split_invalid(lsk_tctx *t) {
    float *const O0 = g_split_out[0], *const O1 = g_split_out[1], *const O2 = g_split_out[2];
    float *const O3 = g_split_out[3], *const O4 = g_split_out[4];
    const float *const I0 = g_split_in[0], *const I1 = g_split_in[1], *const I2 = g_split_in[2], *const I3 = g_split_in[3];
    double *const D = g_split_dout;
    const double *const S = g_split_din;
    const size_t BIG = SIZE_MAX, BIG_BYTES = SIZE_MAX / sizeof(float) + 1;
    const double cnt[2] = {10.0, 5.0}, cnt_nan[2] = {10.0, NAN}, cnt_neg[2] = {10.0, -1.0}, cnt_inf[2] = {INFINITY, 1.0};
    const double cnt_big[2] = {9007199254740992.0, 9007199254740992.0}; /* sum > 2^53 */
    LSK_FOR_EACH_ISA(isa) {
        /* batch 2, channels 3, hw 5: tensors of 30, stats of 6 doubles */
        SPLIT_OK(lsk_batchnorm_stats(D, I0, 2, 3, 5));
        SPLIT_OK(lsk_batchnorm_stats(D, NULL, 0, 3, 5)); /* a rank without rows */
        SPLIT_OK(lsk_batchnorm_stats(NULL, NULL, 2, 0, 5));
        SPLIT_BAD(lsk_batchnorm_stats(NULL, I0, 2, 3, 5));
        SPLIT_BAD(lsk_batchnorm_stats(D, NULL, 2, 3, 5));
        SPLIT_BAD(lsk_batchnorm_stats(D, I0, 0, SIZE_MAX / 8, 5)); /* stats bytes overflow */

        SPLIT_OK(lsk_batchnorm_stats_merge(D, S, 2, cnt, 3));
        SPLIT_OK(lsk_batchnorm_stats_merge(D, NULL, 0, NULL, 3));
        SPLIT_OK(lsk_batchnorm_stats_merge(NULL, NULL, 2, NULL, 0));
        SPLIT_BAD(lsk_batchnorm_stats_merge(NULL, S, 2, cnt, 3));
        SPLIT_BAD(lsk_batchnorm_stats_merge(D, NULL, 2, cnt, 3));
        SPLIT_BAD(lsk_batchnorm_stats_merge(D, S, 2, NULL, 3));
        SPLIT_BAD(lsk_batchnorm_stats_merge(D, S, 2, cnt_nan, 3));
        SPLIT_BAD(lsk_batchnorm_stats_merge(D, S, 2, cnt_neg, 3));
        SPLIT_BAD(lsk_batchnorm_stats_merge(D, S, 2, cnt_inf, 3));
        SPLIT_BAD(lsk_batchnorm_stats_merge(D, S, 2, cnt_big, 3));
        SPLIT_BAD(lsk_batchnorm_stats_merge(D, S, BIG / 4, cnt, 3)); /* nparts*channels*2 overflows */
        SPLIT_BAD(lsk_batchnorm_stats_merge(D, S, 2, cnt, BIG / 2 + 1));

        SPLIT_OK(lsk_batchnorm_fwd_apply(O0, O1, O2, O3, O4, I0, I1, I2, S, 10.0, 2, 3, 5, 0.1f, 1e-5f));
        SPLIT_OK(lsk_batchnorm_fwd_apply(O0, O1, O2, NULL, NULL, I0, I1, I2, S, 40.0, 2, 3, 5, 0.1f, 1e-5f));
        SPLIT_OK(lsk_batchnorm_fwd_apply(NULL, O1, O2, O3, O4, NULL, I1, I2, S, 40.0, 0, 3, 5, 0.1f, 1e-5f));
        SPLIT_OK(lsk_batchnorm_fwd_apply(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 10.0, 2, 0, 5, 0.1f, 1e-5f));
        SPLIT_BAD(lsk_batchnorm_fwd_apply(O0, O1, O2, O3, O4, I0, I1, I2, S, NAN, 2, 3, 5, 0.1f, 1e-5f));
        SPLIT_BAD(lsk_batchnorm_fwd_apply(O0, O1, O2, O3, O4, I0, I1, I2, S, -10.0, 2, 3, 5, 0.1f, 1e-5f));
        SPLIT_BAD(lsk_batchnorm_fwd_apply(O0, O1, O2, O3, O4, I0, I1, I2, S, 9.0, 2, 3, 5, 0.1f, 1e-5f)); /* < batch*hw */
        SPLIT_BAD(lsk_batchnorm_fwd_apply(NULL, O1, O2, O3, O4, NULL, I1, I2, S, 0.0, 0, 3, 5, 0.1f, 1e-5f)); /* no values */
        SPLIT_BAD(lsk_batchnorm_fwd_apply(O0, O1, O2, O3, O4, I0, I1, I2, S, INFINITY, 2, 3, 5, 0.1f, 1e-5f));
        SPLIT_BAD(lsk_batchnorm_fwd_apply(O0, O1, O2, O3, O4, I0, I1, I2, S, NAN, 2, 0, 5, 0.1f, 1e-5f));
        SPLIT_BAD(lsk_batchnorm_fwd_apply(O0, O1, O2, O3, O4, I0, I1, I2, NULL, 10.0, 2, 3, 5, 0.1f, 1e-5f));
        SPLIT_BAD(lsk_batchnorm_fwd_apply(NULL, O1, O2, O3, O4, I0, I1, I2, S, 10.0, 2, 3, 5, 0.1f, 1e-5f));
        SPLIT_BAD(lsk_batchnorm_fwd_apply(O0, NULL, O2, O3, O4, I0, I1, I2, S, 10.0, 2, 3, 5, 0.1f, 1e-5f));
        SPLIT_BAD(lsk_batchnorm_fwd_apply(O0, O1, NULL, O3, O4, I0, I1, I2, S, 10.0, 2, 3, 5, 0.1f, 1e-5f));
        SPLIT_BAD(lsk_batchnorm_fwd_apply(O0, O1, O2, O3, O4, NULL, I1, I2, S, 10.0, 2, 3, 5, 0.1f, 1e-5f));
        SPLIT_BAD(lsk_batchnorm_fwd_apply(O0, O1, O2, O3, O4, I0, NULL, I2, S, 10.0, 2, 3, 5, 0.1f, 1e-5f));
        SPLIT_BAD(lsk_batchnorm_fwd_apply(O0, O1, O2, O3, O4, I0, I1, NULL, S, 10.0, 2, 3, 5, 0.1f, 1e-5f));
        SPLIT_BAD(lsk_batchnorm_fwd_apply(O0, O1, O2, O3, O4, I0, I1, I2, S, 10.0, 2, 3, 5, 0.1f, -1.0f));
        SPLIT_BAD(lsk_batchnorm_fwd_apply(O0, O1, O2, O3, O4, I0, I1, I2, S, 10.0, 2, 3, 5, NAN, 1e-5f));
        SPLIT_BAD(lsk_batchnorm_fwd_apply(O0, O1, O2, O3, O4, I0, I1, I2, S, 10.0, 2, 3, 5, 0.1f, NAN));

        SPLIT_OK(lsk_batchnorm_bwd_reduce(D, I0, I1, I2, 2, 3, 5));
        SPLIT_OK(lsk_batchnorm_bwd_reduce(D, NULL, NULL, I2, 0, 3, 5));
        SPLIT_BAD(lsk_batchnorm_bwd_reduce(NULL, I0, I1, I2, 2, 3, 5));
        SPLIT_BAD(lsk_batchnorm_bwd_reduce(D, NULL, I1, I2, 2, 3, 5));
        SPLIT_BAD(lsk_batchnorm_bwd_reduce(D, I0, NULL, I2, 2, 3, 5));
        SPLIT_BAD(lsk_batchnorm_bwd_reduce(D, I0, I1, NULL, 2, 3, 5));
        SPLIT_BAD(lsk_batchnorm_bwd_reduce(D, NULL, NULL, I2, 0, SIZE_MAX / 8, 5));

        SPLIT_OK(lsk_batchnorm_bwd_apply(O0, O1, O2, S, 10.0, I0, I1, I2, I3, I1, 2, 3, 5, 0));
        SPLIT_OK(lsk_batchnorm_bwd_apply(O0, O1, O2, S, 40.0, I0, I1, I2, I3, I1, 2, 3, 5, 1));
        SPLIT_OK(lsk_batchnorm_bwd_apply(NULL, O1, O2, S, 10.0, NULL, NULL, NULL, I3, I1, 2, 3, 5, 0));
        SPLIT_OK(lsk_batchnorm_bwd_apply(O0, O1, O2, S, 40.0, NULL, NULL, I2, I3, I1, 0, 3, 5, 0));
        SPLIT_BAD(lsk_batchnorm_bwd_apply(O0, O1, O2, S, NAN, I0, I1, I2, I3, I1, 2, 3, 5, 0));
        SPLIT_BAD(lsk_batchnorm_bwd_apply(O0, O1, O2, S, -1.0, I0, I1, I2, I3, I1, 2, 3, 5, 0));
        SPLIT_BAD(lsk_batchnorm_bwd_apply(O0, O1, O2, S, 9.0, I0, I1, I2, I3, I1, 2, 3, 5, 0)); /* < batch*hw */
        SPLIT_BAD(lsk_batchnorm_bwd_apply(O0, O1, O2, S, INFINITY, I0, I1, I2, I3, I1, 2, 3, 5, 0));
        SPLIT_BAD(lsk_batchnorm_bwd_apply(O0, O1, O2, S, 10.0, I0, I1, I2, I3, I1, 2, 3, 5, 2));
        SPLIT_BAD(lsk_batchnorm_bwd_apply(O0, O1, O2, S, 10.0, I0, I1, I2, I3, I1, 2, 3, 5, -1));
        SPLIT_BAD(lsk_batchnorm_bwd_apply(O0, O1, O2, NULL, 10.0, I0, I1, I2, I3, I1, 2, 3, 5, 0));
        SPLIT_BAD(lsk_batchnorm_bwd_apply(O0, O1, O2, S, 10.0, I0, I1, NULL, I3, I1, 2, 3, 5, 0)); /* dx needs gamma */
        SPLIT_BAD(lsk_batchnorm_bwd_apply(O0, O1, O2, S, 10.0, NULL, I1, I2, I3, I1, 2, 3, 5, 0));
        SPLIT_BAD(lsk_batchnorm_bwd_apply(O0, O1, O2, S, 10.0, I0, NULL, I2, I3, I1, 2, 3, 5, 0));
        SPLIT_BAD(lsk_batchnorm_bwd_apply(O0, O1, O2, S, 10.0, I0, I1, I2, NULL, I1, 2, 3, 5, 0));
        SPLIT_BAD(lsk_batchnorm_bwd_apply(O0, O1, O2, S, 10.0, I0, I1, I2, I3, NULL, 2, 3, 5, 0));

        static const size_t shapes[][3] = {{2, BIG, 5}, {BIG, 3, 5}, {2, 3, BIG}, {1, 1, BIG_BYTES}, {2, 1, BIG_BYTES / 2 + 1}};
        for (int s = 0; s < 5; s++) {
            const size_t b = shapes[s][0], c = shapes[s][1], hw = shapes[s][2];
            SPLIT_BAD(lsk_batchnorm_stats(D, I0, b, c, hw));
            SPLIT_BAD(lsk_batchnorm_fwd_apply(O0, O1, O2, O3, O4, I0, I1, I2, S, 1e18, b, c, hw, 0.1f, 1e-5f));
            SPLIT_BAD(lsk_batchnorm_bwd_reduce(D, I0, I1, I2, b, c, hw));
            SPLIT_BAD(lsk_batchnorm_bwd_apply(O0, O1, O2, S, 1e18, I0, I1, I2, I3, I1, b, c, hw, 0));
        }
    }
}
#undef SPLIT_EXPECT
#undef SPLIT_BAD
#undef SPLIT_OK

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
            /* split forms: == fused (one part), and 2/3/one-image parts vs the fused whole batch */
            static const size_t split_shapes[][3] = {{1, 1, 1}, {1, 3, 37}, {4, 1, 17}, {3, 5, 16}, {2, 7, 31},
                                                     {128, 3, 1}, {6, 11, 1031}, {2, 0, 5}};
            for (size_t k = 0; k < sizeof split_shapes / sizeof split_shapes[0]; k++) {
                const size_t B = split_shapes[k][0], C = split_shapes[k][1], HW = split_shapes[k][2];
                check_split_fused(t, B, C, HW, 0.0f, name, thr);
                if (C) check_split_parts_all(t, B, C, HW, name, thr);
            }
            check_split_fused(t, 2, 3, 49, 1000.0f, name, thr); /* |mean| >> std: the mean_lo path */
            for (int r = 0; r < 6; r++) {
                const size_t B = lsk_trand_range(t, 1, 7), C = lsk_trand_range(t, 0, 6), HW = lsk_trand_range(t, 1, 33);
                check_split_fused(t, B, C, HW, 0.5f, name, thr);
                if (C) check_split_parts_all(t, B, C, HW, name, thr);
            }
        }
    }
    lsk_set_num_threads(0);
    check_count_one(t);
    check_finite_difference(t);
    check_invalid(t);
    check_split_invalid(t);
}
