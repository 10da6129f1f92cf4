/*
 * Softmax cross-entropy and softmax vs the double oracle (kernels/ref/loss_ref.c) on every
 * ISA path, threads 1 and 2, accumulate 0/1: rows of 1..33 classes (every SIMD tail) and of
 * 10..4000 classes, logits of magnitude ~1 and ~1e4 (results must stay finite), temperature
 * 1 and 3, soft targets, one-hot targets and targets that do not sum to one, every subset of
 * outputs; plus a finite-difference check of the oracle gradient. The fused softmax-KL has
 * the same sweep (check_kl, tolerances there).
 *
 * Tolerances: p = exp((x - m)/T)/Z. x - m is exact for the terms that matter (Sterbenz);
 * rounding (x - m)*(1/T) to float costs up to 6e-8 relative per unit of exponent (PyTorch's
 * x/T does the same), exponents of representable terms are >= -87, and the vector exp and
 * the normalisation add ~1e-6: rtol 2e-6 + 7e-8*min(87, range of the exponents), atol 1e-9
 * (measured: 1.8e-6 for |x| < 10, 5.2e-6 for |x| < 1e4 with T = 3).
 * dlogits = c*(p*St - t) cancels where p ~ t: rtol 1e-5, atol 1e-5*|c|*max(St, 1).
 * loss: float lane sums of one-signed terms, rtol 1e-5 plus atol 1e-6*|scale|.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "harness.h"

enum { TGT_SOFT, TGT_ONEHOT, TGT_UNNORMALISED };

static void make_targets(lsk_tctx *t, float *tg, size_t rows, size_t classes, int kind) {
    for (size_t r = 0; r < rows; r++) {
        float *row = tg + r * classes;
        if (kind == TGT_ONEHOT) {
            for (size_t c = 0; c < classes; c++) row[c] = 0.0f;
            row[lsk_trand_range(t, 0, classes - 1)] = 1.0f;
            continue;
        }
        lsk_trand_fill(t, row, classes, 0.0f, 1.0f);
        double s = 0.0;
        for (size_t c = 0; c < classes; c++) s += row[c];
        const double want = kind == TGT_SOFT ? 1.0 : 0.7;
        for (size_t c = 0; c < classes; c++) row[c] = (float)(row[c] * want / s);
    }
}

static int all_finite(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

static void check_case(lsk_tctx *t, size_t rows, size_t classes, float off, float mag, float temp, int kind,
                       const char *isa, int thr) {
    const size_t n = rows * classes;
    const float scale = 0.8f;
    char what[200];
    float *x = lsk_talloc(n), *tg = lsk_talloc(n), *p = lsk_talloc(n + 1), *pr = lsk_talloc(n);
    float *g = lsk_talloc(n + 1), *gr = lsk_talloc(n);
    lsk_trand_fill(t, x, n, off - mag, off + mag);
    make_targets(t, tg, rows, classes, kind);
    p[n] = g[n] = 777.0f;
    const double c = scale / ((double)rows * temp);
    const float prtol = 2e-6f + 7e-8f * fminf(87.0f, 2.0f * mag / temp);
    const float gatol = (float)(1e-5 * c); /* max(St, 1) = 1 for every target kind here */
    static const char *kinds[] = {"soft", "one-hot", "unnormalised"};
    for (int acc = 0; acc <= 1; acc++) {
        float loss = NAN, lossr = NAN;
        lsk_trand_fill(t, g, n, -1.0f, 1.0f);
        memcpy(gr, g, n * sizeof(float));
        snprintf(what, sizeof what, "softmax_xent %zux%zu x=%g+-%g T=%g %s acc=%d %s thr=%d", rows, classes, off, mag, temp,
                 kinds[kind], acc, isa, thr);
        lsk_tcheck(t, lsk_softmax_xent(&loss, p, g, x, tg, rows, classes, temp, scale, acc) == LSK_OK, what);
        lsk_ref_softmax_xent(&lossr, pr, gr, x, tg, rows, classes, temp, scale, acc);
        lsk_tcheck_close(t, what, p, pr, n, prtol, 1e-9f);
        lsk_tcheck_close(t, what, g, gr, n, 1e-5f, gatol);
        lsk_tcheck_close(t, what, &loss, &lossr, 1, 1e-5f, 1e-6f * scale);
        lsk_tcheck(t, all_finite(p, n) && all_finite(g, n) && isfinite(loss) && p[n] == 777.0f && g[n] == 777.0f, what);
    }
    /* subsets of outputs: loss only (scratch row), dlogits only, probs only */
    float loss = NAN, lossr = NAN;
    lsk_ref_softmax_xent(&lossr, pr, gr, x, tg, rows, classes, temp, scale, 0);
    snprintf(what, sizeof what, "softmax_xent loss only %zux%zu |x|<%g T=%g %s thr=%d", rows, classes, mag, temp, isa, thr);
    lsk_tcheck(t, lsk_softmax_xent(&loss, NULL, NULL, x, tg, rows, classes, temp, scale, 0) == LSK_OK, what);
    lsk_tcheck_close(t, what, &loss, &lossr, 1, 1e-5f, 1e-6f * scale);
    snprintf(what, sizeof what, "softmax_xent dlogits only %zux%zu |x|<%g T=%g %s thr=%d", rows, classes, mag, temp, isa, thr);
    lsk_tcheck(t, lsk_softmax_xent(NULL, NULL, g, x, tg, rows, classes, temp, scale, 0) == LSK_OK, what);
    lsk_tcheck_close(t, what, g, gr, n, 1e-5f, gatol);
    snprintf(what, sizeof what, "softmax_xent probs only %zux%zu |x|<%g T=%g %s thr=%d", rows, classes, mag, temp, isa, thr);
    lsk_tcheck(t, lsk_softmax_xent(NULL, p, NULL, x, NULL, rows, classes, temp, scale, 0) == LSK_OK, what);
    lsk_tcheck_close(t, what, p, pr, n, prtol, 1e-9f);
    snprintf(what, sizeof what, "softmax_fwd %zux%zu |x|<%g T=%g %s thr=%d", rows, classes, mag, temp, isa, thr);
    lsk_tfree(p);
    p = lsk_talloc(n + 1);
    p[n] = 777.0f;
    lsk_tcheck(t, lsk_softmax_fwd(p, x, rows, classes, temp) == LSK_OK && p[n] == 777.0f, what);
    lsk_tcheck_close(t, what, p, pr, n, prtol, 1e-9f);
    lsk_tfree(x), lsk_tfree(tg), lsk_tfree(p), lsk_tfree(pr), lsk_tfree(g), lsk_tfree(gr);
}

/* Double-precision loss for the finite-difference check. */
static double xent_double(const double *x, const float *tg, size_t rows, size_t classes, double T, double scale) {
    double total = 0.0;
    for (size_t r = 0; r < rows; r++) {
        double m = x[r * classes], z = 0.0;
        for (size_t c = 0; c < classes; c++) m = x[r * classes + c] > m ? x[r * classes + c] : m;
        for (size_t c = 0; c < classes; c++) z += exp((x[r * classes + c] - m) / T);
        for (size_t c = 0; c < classes; c++) total -= tg[r * classes + c] * ((x[r * classes + c] - m) / T - log(z));
    }
    return scale / (double)rows * total;
}

/* The oracle gradient matches central differences (h = 1e-4 on O(1) logits: truncation
 * ~1e-9; the float-rounded oracle dominates): rtol 1e-4, atol 1e-6. */
static void check_finite_difference(lsk_tctx *t) {
    enum { R = 3, C = 7, N = R * C };
    float x[N], tg[N], g[N], fd[N];
    double xd[N];
    lsk_trand_fill(t, x, N, -2.0f, 2.0f);
    for (int kind = TGT_SOFT; kind <= TGT_UNNORMALISED; kind++) {
        make_targets(t, tg, R, C, kind);
        lsk_ref_softmax_xent(NULL, NULL, g, x, tg, R, C, 3.0f, 0.8f, 0);
        for (int i = 0; i < N; i++) xd[i] = x[i];
        const double h = 1e-4;
        for (int i = 0; i < N; i++) {
            xd[i] = x[i] + h;
            const double lp = xent_double(xd, tg, R, C, 3.0, 0.8);
            xd[i] = x[i] - h;
            const double lm = xent_double(xd, tg, R, C, 3.0, 0.8);
            xd[i] = x[i];
            fd[i] = (float)((lp - lm) / (2 * h));
        }
        lsk_tcheck_close(t, "softmax_xent oracle gradient vs finite differences", g, fd, N, 1e-4f, 1e-6f);
    }
}

static void check_invalid(lsk_tctx *t) {
    float x[6] = {1, 2, 3, 4, 5, 6}, tg[6] = {0, 1, 0, 0, 0, 1}, g[6] = {9, 9, 9, 9, 9, 9}, loss = 9.0f;
    lsk_tcheck(t, lsk_softmax_xent(&loss, NULL, g, x, tg, 2, 3, 0.0f, 1.0f, 0) == LSK_ERR_INVALID_ARGUMENT,
               "xent temperature 0 rejected");
    lsk_tcheck(t, lsk_softmax_xent(&loss, NULL, g, x, tg, 2, 3, NAN, 1.0f, 0) == LSK_ERR_INVALID_ARGUMENT,
               "xent temperature NaN rejected");
    lsk_tcheck(t, lsk_softmax_xent(&loss, NULL, g, x, tg, 2, 3, 1.0f, INFINITY, 0) == LSK_ERR_INVALID_ARGUMENT,
               "xent infinite scale rejected");
    lsk_tcheck(t, lsk_softmax_xent(&loss, NULL, g, x, tg, 2, 0, 1.0f, 1.0f, 0) == LSK_ERR_INVALID_ARGUMENT,
               "xent classes=0 rejected");
    lsk_tcheck(t, lsk_softmax_xent(&loss, NULL, g, x, NULL, 2, 3, 1.0f, 1.0f, 0) == LSK_ERR_INVALID_ARGUMENT,
               "xent NULL targets rejected");
    lsk_tcheck(t, lsk_softmax_xent(&loss, NULL, g, NULL, tg, 2, 3, 1.0f, 1.0f, 0) == LSK_ERR_INVALID_ARGUMENT,
               "xent NULL logits rejected");
    lsk_tcheck(t, lsk_softmax_xent(&loss, NULL, g, x, tg, 2, 3, 1.0f, 1.0f, 2) == LSK_ERR_INVALID_ARGUMENT,
               "xent accumulate=2 rejected");
    lsk_tcheck(t, lsk_softmax_fwd(g, x, 2, 3, -1.0f) == LSK_ERR_INVALID_ARGUMENT, "softmax negative temperature rejected");
    lsk_tcheck(t, lsk_softmax_fwd(NULL, x, 2, 3, 1.0f) == LSK_ERR_INVALID_ARGUMENT, "softmax NULL probs rejected");
    int untouched = loss == 9.0f;
    for (int i = 0; i < 6; i++) untouched &= g[i] == 9.0f;
    lsk_tcheck(t, untouched, "xent rejected calls touched nothing");
    lsk_tcheck(t, lsk_softmax_xent(&loss, NULL, NULL, NULL, NULL, 0, 3, 1.0f, 1.0f, 0) == LSK_OK && loss == 0.0f,
               "xent rows=0 gives loss 0");
}

/*
 * Fused softmax-KL vs its oracle (kernels/ref/loss_kl_ref.c). Tolerances:
 * dstudent = c*(ps - pt), c = scale*T/rows: each p carries the softmax error above (<= 6e-6
 * relative), and the difference cancels where ps ~ pt, so atol 1e-5*|c|, rtol 1e-5.
 * loss = scale*T^2/rows * sum_r (D/(T*Zt) + log Zs - log Zt): float lane sums of D (mixed signs),
 * Zs, Zt; the error scales with the magnitudes of the three terms, so the absolute tolerance is
 * 2e-5 * scale*T^2/rows * sum_r (sum_c pt*|lt - ls| + |log Zs| + |log Zt|) computed here in double
 * plus 1e-6*scale*T^2: Zs, Zt >= 1 are float sums with relative rounding ~1e-7, so log Zs and
 * log Zt carry ~1e-7 absolute error even when the KL itself is ~1e-6 (measured 7e-8*scale*T^2
 * on 1e4 logits with a teacher 10 away), rtol 1e-5.
 */
static double kl_magnitude(const float *s, const float *tg, size_t rows, size_t classes, double T, double scale) {
    double total = 0.0;
    for (size_t r = 0; r < rows; r++) {
        const float *x = s + r * classes, *y = tg + r * classes;
        double ms = x[0], mt = y[0], zs = 0.0, zt = 0.0, d = 0.0;
        for (size_t c = 0; c < classes; c++) ms = x[c] > ms ? x[c] : ms, mt = y[c] > mt ? y[c] : mt;
        for (size_t c = 0; c < classes; c++) zs += exp((x[c] - ms) / T), zt += exp((y[c] - mt) / T);
        for (size_t c = 0; c < classes; c++)
            d += exp((y[c] - mt) / T) / zt * fabs(((y[c] - mt) - (x[c] - ms)) / T);
        total += d + fabs(log(zs)) + fabs(log(zt));
    }
    return fabs(scale) * T * T / (double)rows * total;
}

static void check_kl_case(lsk_tctx *t, size_t rows, size_t classes, float mag, float tmag, float temp,
                          const char *isa, int thr) {
    const size_t n = rows * classes;
    const float scale = 0.7f;
    char what[200];
    float *s = lsk_talloc(n), *tg = lsk_talloc(n), *g = lsk_talloc(n + 1), *gr = lsk_talloc(n);
    lsk_trand_fill(t, s, n, -mag, mag);
    /* teacher: the student plus noise of magnitude tmag (KL near 0 when tmag << mag) */
    lsk_trand_fill(t, tg, n, -tmag, tmag);
    for (size_t i = 0; i < n; i++) tg[i] += s[i];
    g[n] = 777.0f;
    const double c = scale * (double)temp / (double)rows;
    const float gatol = (float)(1e-5 * c);
    const float latol = (float)(2e-5 * kl_magnitude(s, tg, rows, classes, temp, scale) + 1e-6 * scale * temp * temp);
    for (int acc = 0; acc <= 1; acc++) {
        float loss = NAN, lossr = NAN;
        lsk_trand_fill(t, g, n, -1.0f, 1.0f);
        memcpy(gr, g, n * sizeof(float));
        snprintf(what, sizeof what, "softmax_kl %zux%zu |s|<%g |t-s|<%g T=%g acc=%d %s thr=%d", rows, classes, mag,
                 tmag, temp, acc, isa, thr);
        lsk_tcheck(t, lsk_softmax_kl(&loss, g, s, tg, rows, classes, temp, scale, acc) == LSK_OK, what);
        lsk_ref_softmax_kl(&lossr, gr, s, tg, rows, classes, temp, scale, acc);
        lsk_tcheck_close(t, what, g, gr, n, 1e-5f, gatol);
        lsk_tcheck_close(t, what, &loss, &lossr, 1, 1e-5f, latol);
        lsk_tcheck(t, all_finite(g, n) && isfinite(loss) && loss >= -latol && g[n] == 777.0f, what);
    }
    float loss = NAN, lossr = NAN;
    lsk_ref_softmax_kl(&lossr, gr, s, tg, rows, classes, temp, scale, 0);
    snprintf(what, sizeof what, "softmax_kl loss only %zux%zu |s|<%g T=%g %s thr=%d", rows, classes, mag, temp, isa, thr);
    lsk_tcheck(t, lsk_softmax_kl(&loss, NULL, s, tg, rows, classes, temp, scale, 0) == LSK_OK, what);
    lsk_tcheck_close(t, what, &loss, &lossr, 1, 1e-5f, latol);
    snprintf(what, sizeof what, "softmax_kl grad only %zux%zu |s|<%g T=%g %s thr=%d", rows, classes, mag, temp, isa, thr);
    lsk_tcheck(t, lsk_softmax_kl(NULL, g, s, tg, rows, classes, temp, scale, 0) == LSK_OK, what);
    lsk_tcheck_close(t, what, g, gr, n, 1e-5f, gatol);
    /* identical teacher and student: KL = 0 and gradient 0 (up to rounding) */
    snprintf(what, sizeof what, "softmax_kl t == s %zux%zu |s|<%g T=%g %s thr=%d", rows, classes, mag, temp, isa, thr);
    lsk_tcheck(t, lsk_softmax_kl(&loss, g, s, s, rows, classes, temp, scale, 0) == LSK_OK, what);
    lsk_tcheck(t, fabsf(loss) <= latol, what);
    memset(gr, 0, n * sizeof(float));
    lsk_tcheck_close(t, what, g, gr, n, 0.0f, gatol);
    lsk_tfree(s), lsk_tfree(tg), lsk_tfree(g), lsk_tfree(gr);
}

static double kl_double(const double *x, const float *tg, size_t rows, size_t classes, double T, double scale) {
    double total = 0.0;
    for (size_t r = 0; r < rows; r++) {
        const double *s = x + r * classes;
        const float *y = tg + r * classes;
        double ms = s[0], mt = y[0], zs = 0.0, zt = 0.0;
        for (size_t c = 0; c < classes; c++) ms = s[c] > ms ? s[c] : ms, mt = y[c] > mt ? y[c] : mt;
        for (size_t c = 0; c < classes; c++) zs += exp((s[c] - ms) / T), zt += exp((y[c] - mt) / T);
        for (size_t c = 0; c < classes; c++) {
            const double lt = (y[c] - mt) / T - log(zt), ls = (s[c] - ms) / T - log(zs);
            total += exp(lt) * (lt - ls);
        }
    }
    return scale * T * T / (double)rows * total;
}

/* The oracle gradient matches central differences of the double loss (h = 1e-4, O(1) logits:
 * truncation ~1e-9; the float-rounded oracle dominates): rtol 1e-4, atol 1e-6. */
static void check_kl_finite_difference(lsk_tctx *t) {
    enum { R = 3, C = 7, N = R * C };
    float s[N], tg[N], g[N], fd[N];
    double xd[N];
    for (int ti = 0; ti < 2; ti++) {
        const double T = ti ? 3.0 : 1.0;
        lsk_trand_fill(t, s, N, -2.0f, 2.0f);
        lsk_trand_fill(t, tg, N, -2.0f, 2.0f);
        lsk_ref_softmax_kl(NULL, g, s, tg, R, C, (float)T, 0.7f, 0);
        for (int i = 0; i < N; i++) xd[i] = s[i];
        const double h = 1e-4;
        for (int i = 0; i < N; i++) {
            xd[i] = s[i] + h;
            const double lp = kl_double(xd, tg, R, C, T, 0.7);
            xd[i] = s[i] - h;
            const double lm = kl_double(xd, tg, R, C, T, 0.7);
            xd[i] = s[i];
            fd[i] = (float)((lp - lm) / (2 * h));
        }
        lsk_tcheck_close(t, "softmax_kl oracle gradient vs finite differences", g, fd, N, 1e-4f, 1e-6f);
        float loss = NAN;
        lsk_ref_softmax_kl(&loss, NULL, s, tg, R, C, (float)T, 0.7f, 0);
        const float want = (float)kl_double(xd, tg, R, C, T, 0.7);
        lsk_tcheck_close(t, "softmax_kl oracle loss vs double", &loss, &want, 1, 1e-6f, 0.0f);
    }
}

static void check_kl_invalid(lsk_tctx *t) {
    float s[6] = {1, 2, 3, 4, 5, 6}, tg[6] = {0, 1, 0, 0, 0, 1}, g[6] = {9, 9, 9, 9, 9, 9}, loss = 9.0f;
    lsk_tcheck(t, lsk_softmax_kl(&loss, g, s, tg, 2, 3, 0.0f, 1.0f, 0) == LSK_ERR_INVALID_ARGUMENT, "kl tau 0 rejected");
    lsk_tcheck(t, lsk_softmax_kl(&loss, g, s, tg, 2, 3, NAN, 1.0f, 0) == LSK_ERR_INVALID_ARGUMENT, "kl tau NaN rejected");
    lsk_tcheck(t, lsk_softmax_kl(&loss, g, s, tg, 2, 3, 1.0f, NAN, 0) == LSK_ERR_INVALID_ARGUMENT, "kl NaN scale rejected");
    lsk_tcheck(t, lsk_softmax_kl(&loss, g, s, tg, 2, 0, 1.0f, 1.0f, 0) == LSK_ERR_INVALID_ARGUMENT, "kl classes=0 rejected");
    lsk_tcheck(t, lsk_softmax_kl(&loss, g, s, NULL, 2, 3, 1.0f, 1.0f, 0) == LSK_ERR_INVALID_ARGUMENT, "kl NULL teacher rejected");
    lsk_tcheck(t, lsk_softmax_kl(&loss, g, NULL, tg, 2, 3, 1.0f, 1.0f, 0) == LSK_ERR_INVALID_ARGUMENT, "kl NULL student rejected");
    lsk_tcheck(t, lsk_softmax_kl(&loss, g, s, tg, 2, 3, 1.0f, 1.0f, 2) == LSK_ERR_INVALID_ARGUMENT, "kl accumulate=2 rejected");
    lsk_tcheck(t, lsk_softmax_kl(&loss, g, s, tg, SIZE_MAX / 2, 3, 1.0f, 1.0f, 0) == LSK_ERR_INVALID_ARGUMENT,
               "kl rows*classes overflow rejected");
    int untouched = loss == 9.0f;
    for (int i = 0; i < 6; i++) untouched &= g[i] == 9.0f;
    lsk_tcheck(t, untouched, "kl rejected calls touched nothing");
    lsk_tcheck(t, lsk_softmax_kl(&loss, NULL, NULL, NULL, 0, 3, 1.0f, 1.0f, 0) == LSK_OK && loss == 0.0f,
               "kl rows=0 gives loss 0");
}

static void check_kl(lsk_tctx *t) {
    static const size_t wide[][2] = {{3, 10}, {5, 100}, {2, 400}, {1, 1000}, {2, 4000}, {9, 257}, {64, 100}};
    LSK_FOR_EACH_ISA(isa) {
        const char *name = lsk_isa_name((lsk_isa)isa);
        for (int thr = 1; thr <= 2; thr++) {
            lsk_set_num_threads(thr);
            for (size_t cls = 1; cls <= 33; cls++)
                check_kl_case(t, 1 + cls % 3, cls, 3.0f, 3.0f, cls % 2 ? 1.0f : 3.0f, name, thr);
            for (size_t k = 0; k < sizeof wide / sizeof wide[0]; k++)
                for (int ti = 0; ti < 2; ti++) {
                    const float T = ti ? 3.0f : 1.0f;
                    check_kl_case(t, wide[k][0], wide[k][1], 5.0f, 5.0f, T, name, thr);
                    check_kl_case(t, wide[k][0], wide[k][1], 5.0f, 0.01f, T, name, thr);
                    check_kl_case(t, wide[k][0], wide[k][1], 1e4f, 10.0f, T, name, thr);
                    check_kl_case(t, wide[k][0], wide[k][1], 1e4f, 1e4f, T, name, thr);
                }
        }
    }
    lsk_set_num_threads(0);
    check_kl_finite_difference(t);
    check_kl_invalid(t);
}

void lsk_test_loss(lsk_tctx *t) {
    static const size_t wide[][2] = {{3, 10}, {5, 100}, {2, 400}, {1, 1000}, {2, 4000}, {9, 257}, {64, 100}};
    LSK_FOR_EACH_ISA(isa) {
        const char *name = lsk_isa_name((lsk_isa)isa);
        for (int thr = 1; thr <= 2; thr++) {
            lsk_set_num_threads(thr);
            for (size_t cls = 1; cls <= 33; cls++)
                check_case(t, 1 + cls % 3, cls, 0.0f, 3.0f, cls % 2 ? 1.0f : 3.0f, (int)(cls % 3), name, thr);
            for (size_t k = 0; k < sizeof wide / sizeof wide[0]; k++)
                for (int kind = TGT_SOFT; kind <= TGT_UNNORMALISED; kind++) {
                    check_case(t, wide[k][0], wide[k][1], 0.0f, 5.0f, 1.0f, kind, name, thr);
                    check_case(t, wide[k][0], wide[k][1], 0.0f, 1e4f, 3.0f, kind, name, thr);
                    check_case(t, wide[k][0], wide[k][1], 0.0f, 1e4f, 1.0f, kind, name, thr);
                    check_case(t, wide[k][0], wide[k][1], -1e4f, 5.0f, 3.0f, kind, name, thr);
                }
        }
    }
    lsk_set_num_threads(0);
    check_finite_difference(t);
    check_invalid(t);
    check_kl(t);
}
