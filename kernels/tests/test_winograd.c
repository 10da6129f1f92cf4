/*
 * Tests for the Winograd F(4x4, 3x3) convolution (kernels/ops/winograd.c, kernels/winograd/):
 *  - microkernels of every ISA against the scalar ones (gather / scatter bitwise; transforms
 *    within a few ulps of the scalar expression, which differs only by FMA contraction);
 *  - lsk_conv2d_fwd / bwd_data / bwd_weight (with db) with the Winograd path forced (lsk_conv_set_policy) against the
 *    double oracles lsk_ref_conv2d_*, on odd map sizes (1..13, 17, 31: not multiples of the
 *    4x4 tile), pads 0/1/2 (also unequal), channels 1..9 and 16..64, batch 1..3, with and
 *    without bias, accumulate 0/1, every ISA path, 1 and 2 threads, fixed and random shapes;
 *  - the filter cache: a weight changed in place at the same pointer gives the new result.
 *
 * Tolerance (per element). Winograd's rounding error is not bounded by sum|x||w| like a direct
 * sum: it is bounded by the same computation done with absolute values everywhere,
 *   mag = sum_c |A^T| ( (|G| |g_c| |G|^T) (.) (|B^T| |d_c| |B|) ) |A|
 * (standard forward error analysis of a chain of linear maps with exactly represented inputs:
 * every computed quantity errs by at most gamma_k times its absolute-value evaluation, k the
 * number of roundings on its longest path). Along the longest path: filter transform 2 stages
 * x 2 roundings + the inexact coefficients 1/6, 1/12, 1/24 (6), input transform 2 x 3 (6),
 * the sum over cin products (cin + 1, any order), output transform 2 x 4 (8), bias and the
 * previous value (2): (cin + 23) u with u = FLT_EPSILON / 2. The check allows
 * (cin + 24) * FLT_EPSILON * (mag + |bias| + |previous|), about 2x the bound. mag is computed
 * here in double by wino_magnitude; it is 10-100x sum|x||w| (the transforms' entries reach 8
 * and 5), which is what makes Winograd less accurate than GEMM (docs/conv.md, error table).
 * The weight gradient is checked the same way with its own chain (wino_wgrad_magnitude: the
 * absolute-value evaluation of G^T [(A dY A^T) (.) (B^T d B)] G summed over tiles) and
 * (tiles + 24) * FLT_EPSILON: the GEMMs sum over the tiles. Zeroing one x plane must fail it.
 * The check cannot pass by accident: a dropped filter tap changes an output by |x||w| ~ 0.3,
 * while the bound is ~(cin + 24) * 1.2e-7 * mag ~ 1e-3 at the largest shapes here; the test
 * verifies this on every case (a zeroed tap must fail the check).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "../conv/conv-internal.h"
#include "../winograd/winograd-internal.h"

typedef struct wino_case {
    size_t batch, cin, h, w, cout, ph, pw;
} wino_case;

static const wino_case k_cases[] = {
    /* batch cin  h   w cout ph pw */
    {1, 1, 1, 1, 1, 1, 1},     /* 1x1 image: one tile, almost all padding */
    {2, 3, 5, 7, 4, 1, 1},     /* odd sizes, one partial tile per axis */
    {3, 2, 13, 11, 5, 0, 0},   /* pad 0 */
    {1, 9, 17, 17, 7, 1, 1},   /* 17: a 1-wide last tile column */
    {2, 4, 31, 9, 3, 2, 2},    /* pad 2 (bwd_data pad 0) */
    {1, 5, 3, 3, 6, 0, 0},     /* output 1x1 */
    {2, 7, 6, 13, 2, 2, 1},    /* unequal pads */
    {2, 3, 9, 4, 2, 0, 2},     /* unequal pads, the other way */
    {1, 2, 2, 5, 3, 1, 0},     /* image shorter than the kernel, padded */
    {3, 4, 31, 31, 4, 1, 1},   /* 192 tiles: several blocks, blocks across images */
    {1, 16, 12, 12, 16, 1, 1}, /* training-like channel counts */
    {2, 33, 10, 9, 20, 1, 1},
    {2, 64, 8, 8, 64, 1, 1},   /* 8 tiles: one block for the whole team (2 threads) */
    {1, 32, 16, 16, 33, 1, 1}, /* batch-1 inference map: 16 tiles, the team path */
    {1, 3, 31, 31, 16, 1, 1},  /* RGB stem */
};

static size_t out_dim(size_t in, size_t p) { return in + 2 * p - 2; }

/* The matrices of winograd-internal.h, in double. */
static const double kBT[6][6] = {{4, 0, -5, 0, 1, 0}, {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
                                 {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
static const double kG[6][3] = {{0.25, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};
static const double kAT[4][6] = {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}};

/* v[36] = |B^T| |d| |B| for the 6x6 patch d of tile (ty, tx) of one plane [h, wd] (zeros
 * outside the plane): the input transform evaluated in absolute values. */
static void abs_input_transform(double *v, const float *plane, size_t h, size_t wd, size_t ty, size_t tx, size_t ph,
                                size_t pw) {
    double d[6][6], t[6][6];
    for (int r = 0; r < 6; r++)
        for (int q = 0; q < 6; q++) {
            const ptrdiff_t iy = (ptrdiff_t)(4 * ty + (size_t)r) - (ptrdiff_t)ph;
            const ptrdiff_t ix = (ptrdiff_t)(4 * tx + (size_t)q) - (ptrdiff_t)pw;
            d[r][q] = iy >= 0 && ix >= 0 && (size_t)iy < h && (size_t)ix < wd
                          ? fabs((double)plane[(size_t)iy * wd + (size_t)ix])
                          : 0.0;
        }
    for (int i = 0; i < 6; i++)
        for (int q = 0; q < 6; q++) {
            t[i][q] = 0;
            for (int r = 0; r < 6; r++) t[i][q] += fabs(kBT[i][r]) * d[r][q];
        }
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) {
            double s = 0;
            for (int q = 0; q < 6; q++) s += t[i][q] * fabs(kBT[j][q]);
            v[i * 6 + j] = s;
        }
}

/* mag [n, k, ho, wo] of a forward 3x3 stride-1 convolution x [n, c, h, w] * w [k, c, 3, 3],
 * pads ph/pw, by the absolute-value Winograd evaluation (see the comment on top). */
static void wino_magnitude(float *mag, const float *x, const float *w, size_t n, size_t c, size_t h, size_t wd,
                           size_t k, size_t ph, size_t pw) {
    const size_t ho = out_dim(h, ph), wo = out_dim(wd, pw);
    double *u = (double *)malloc(k * c * 36 * sizeof(double)), *v = (double *)malloc(c * 36 * sizeof(double));
    for (size_t kc = 0; kc < k * c; kc++) { /* |G| |g| |G|^T */
        double t[6][3];
        for (int i = 0; i < 6; i++)
            for (int q = 0; q < 3; q++) {
                t[i][q] = 0;
                for (int r = 0; r < 3; r++) t[i][q] += fabs(kG[i][r]) * fabs((double)w[kc * 9 + (size_t)r * 3 + q]);
            }
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 6; j++) {
                double s = 0;
                for (int q = 0; q < 3; q++) s += t[i][q] * fabs(kG[j][q]);
                u[kc * 36 + (size_t)i * 6 + j] = s;
            }
    }
    for (size_t img = 0; img < n; img++)
        for (size_t ty = 0; ty < (ho + 3) / 4; ty++)
            for (size_t tx = 0; tx < (wo + 3) / 4; tx++) {
                for (size_t ci = 0; ci < c; ci++)
                    abs_input_transform(v + ci * 36, x + (img * c + ci) * h * wd, h, wd, ty, tx, ph, pw);
                for (size_t ko = 0; ko < k; ko++) {
                    double m[36] = {0}, t[4][6];
                    for (size_t ci = 0; ci < c; ci++)
                        for (int e = 0; e < 36; e++) m[e] += u[(ko * c + ci) * 36 + (size_t)e] * v[ci * 36 + (size_t)e];
                    for (int a = 0; a < 4; a++)
                        for (int j = 0; j < 6; j++) {
                            t[a][j] = 0;
                            for (int i = 0; i < 6; i++) t[a][j] += fabs(kAT[a][i]) * m[i * 6 + j];
                        }
                    for (size_t a = 0; a < 4 && 4 * ty + a < ho; a++)
                        for (size_t b = 0; b < 4 && 4 * tx + b < wo; b++) {
                            double s = 0;
                            for (int j = 0; j < 6; j++) s += t[a][j] * fabs(kAT[b][j]);
                            mag[((img * k + ko) * ho + 4 * ty + a) * wo + 4 * tx + b] = (float)s;
                        }
                }
            }
    free(u);
    free(v);
}

/* mag [k, c, 3, 3] of the weight gradient of that convolution from dy [n, k, ho, wo], by the
 * absolute-value evaluation of the Winograd chain: sum over tiles of
 * |G|^T ( (|A| |dY| |A|^T) (.) (|B^T| |d| |B|) ) |G|. */
static void wino_wgrad_magnitude(float *mag, const float *x, const float *dy, size_t n, size_t c, size_t h,
                                 size_t wd, size_t k, size_t ph, size_t pw) {
    const size_t ho = out_dim(h, ph), wo = out_dim(wd, pw);
    double *acc = (double *)calloc(k * c * 36, sizeof(double)), *v = (double *)malloc(c * 36 * sizeof(double));
    double *dm = (double *)malloc(k * 36 * sizeof(double));
    for (size_t img = 0; img < n; img++)
        for (size_t ty = 0; ty < (ho + 3) / 4; ty++)
            for (size_t tx = 0; tx < (wo + 3) / 4; tx++) {
                for (size_t ci = 0; ci < c; ci++)
                    abs_input_transform(v + ci * 36, x + (img * c + ci) * h * wd, h, wd, ty, tx, ph, pw);
                for (size_t ko = 0; ko < k; ko++) { /* |A| |dY| |A|^T, A = (A^T)^T */
                    double dt[4][4] = {{0}}, t[6][4];
                    for (size_t a = 0; a < 4 && 4 * ty + a < ho; a++)
                        for (size_t b = 0; b < 4 && 4 * tx + b < wo; b++)
                            dt[a][b] = fabs((double)dy[((img * k + ko) * ho + 4 * ty + a) * wo + 4 * tx + b]);
                    for (int i = 0; i < 6; i++)
                        for (int b = 0; b < 4; b++) {
                            t[i][b] = 0;
                            for (int a = 0; a < 4; a++) t[i][b] += fabs(kAT[a][i]) * dt[a][b];
                        }
                    for (int i = 0; i < 6; i++)
                        for (int j = 0; j < 6; j++) {
                            double s2 = 0;
                            for (int b = 0; b < 4; b++) s2 += t[i][b] * fabs(kAT[b][j]);
                            dm[ko * 36 + (size_t)i * 6 + j] = s2;
                        }
                }
                for (size_t ko = 0; ko < k; ko++)
                    for (size_t ci = 0; ci < c; ci++)
                        for (int e = 0; e < 36; e++) acc[(ko * c + ci) * 36 + (size_t)e] += dm[ko * 36 + (size_t)e] * v[ci * 36 + (size_t)e];
            }
    for (size_t f = 0; f < k * c; f++)
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) {
                double s2 = 0;
                for (int a = 0; a < 6; a++)
                    for (int b = 0; b < 6; b++) s2 += fabs(kG[a][i]) * acc[f * 36 + (size_t)a * 6 + b] * fabs(kG[b][j]);
                mag[f * 9 + (size_t)i * 3 + j] = (float)s2;
            }
    free(acc);
    free(v);
    free(dm);
}

/* Number of elements outside (cin + 24) * FLT_EPSILON * (mag + extra); the first one is
 * described in `first` (extra may be NULL: no bias / previous value). */
static size_t count_outside(const float *got, const float *want, const float *mag, const float *extra, size_t n,
                            size_t cin, char *first, size_t first_size) {
    const double scale = (double)(cin + 24) * FLT_EPSILON;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        const double lim = scale * ((double)mag[i] + (extra ? (double)extra[i] : 0.0)) + 1e-30;
        const double err = fabs((double)got[i] - (double)want[i]);
        if (!(err <= lim)) {
            if (bad == 0 && first)
                snprintf(first, first_size, "element %zu of %zu: got %.9g want %.9g (err %.3g > bound %.3g)", i, n,
                         got[i], want[i], err, lim);
            bad++;
        }
    }
    return bad;
}

static void check(lsk_tctx *t, const char *what, const float *got, const float *want, const float *mag,
                  const float *extra, size_t n, size_t cin) {
    char first[200], buf[420];
    if (count_outside(got, want, mag, extra, n, cin, first, sizeof first) == 0) {
        lsk_tcheck(t, 1, what);
        return;
    }
    snprintf(buf, sizeof buf, "%s: %s", what, first);
    lsk_tcheck(t, 0, buf);
}

/* w' [cin][cout][3][3] = w [cout][cin][3][3] flipped in both axes: bwd_data as a forward conv. */
static void flip_transpose(float *wt, const float *w, size_t cout, size_t cin) {
    for (size_t co = 0; co < cout; co++)
        for (size_t ci = 0; ci < cin; ci++)
            for (int tap = 0; tap < 9; tap++) wt[(ci * cout + co) * 9 + (size_t)(8 - tap)] = w[(co * cin + ci) * 9 + (size_t)tap];
}

static void fill_nan(float *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = NAN;
}

static void run_case(lsk_tctx *t, const wino_case *c, int idx) {
    const lsk_conv2d_desc d = {c->batch, c->cin, c->h, c->w, c->cout, 3, 3, 1, 1, c->ph, c->pw, 1};
    const size_t ho = out_dim(c->h, c->ph), wo = out_dim(c->w, c->pw);
    const size_t nx = c->batch * c->cin * c->h * c->w, ny = c->batch * c->cout * ho * wo, nw = c->cout * c->cin * 9;
    float *x = lsk_talloc(nx), *w = lsk_talloc(nw), *b = lsk_talloc(c->cout), *dy = lsk_talloc(ny);
    float *dx0 = lsk_talloc(nx), *wt = lsk_talloc(nw), *w_cut = lsk_talloc(nw);
    lsk_trand_fill(t, x, nx, -1.0f, 1.0f);
    lsk_trand_fill(t, w, nw, -1.0f, 1.0f);
    lsk_trand_fill(t, b, c->cout, -1.0f, 1.0f);
    lsk_trand_fill(t, dy, ny, -1.0f, 1.0f);
    lsk_trand_fill(t, dx0, nx, -1.0f, 1.0f);
    /* A mutated kernel: one tap of the middle filter zeroed (the check must notice). */
    memcpy(w_cut, w, nw * sizeof(float));
    const size_t cut = ((c->cout / 2) * c->cin + c->cin / 2) * 9 + 4;
    w_cut[cut] = 0.0f;

    /* Oracles, magnitudes and the |bias| / |previous| parts of the bound. */
    float *y_b = lsk_talloc(ny), *y_n = lsk_talloc(ny), *y_cut = lsk_talloc(ny), *mag_y = lsk_talloc(ny);
    float *abs_b = lsk_talloc(ny), *dx_0 = lsk_talloc(nx), *dx_1 = lsk_talloc(nx), *mag_dx = lsk_talloc(nx);
    float *abs_dx0 = lsk_talloc(nx);
    /* The runtime's fused epilogue: + residual (then ReLU); oracle max(y_b + r, 0), bound
     * extra |b| + |r|. */
    float *res = lsk_talloc(ny), *y_res = lsk_talloc(ny), *y_relu = lsk_talloc(ny), *abs_br = lsk_talloc(ny);
    lsk_trand_fill(t, res, ny, -1.0f, 1.0f);
    int ok = lsk_ref_conv2d_fwd(&d, y_b, x, w, b) == LSK_OK && lsk_ref_conv2d_fwd(&d, y_n, x, w, NULL) == LSK_OK;
    ok = ok && lsk_ref_conv2d_fwd(&d, y_cut, x, w_cut, NULL) == LSK_OK;
    ok = ok && lsk_ref_conv2d_bwd_data(&d, dx_0, dy, w, 0) == LSK_OK;
    memcpy(dx_1, dx0, nx * sizeof(float));
    ok = ok && lsk_ref_conv2d_bwd_data(&d, dx_1, dy, w, 1) == LSK_OK;
    char what[240];
    snprintf(what, sizeof what, "winograd case %d oracles", idx);
    lsk_tcheck(t, ok, what);
    wino_magnitude(mag_y, x, w, c->batch, c->cin, c->h, c->w, c->cout, c->ph, c->pw);
    flip_transpose(wt, w, c->cout, c->cin);
    wino_magnitude(mag_dx, dy, wt, c->batch, c->cout, ho, wo, c->cin, 2 - c->ph, 2 - c->pw);
    for (size_t i = 0; i < ny; i++) abs_b[i] = fabsf(b[(i / (ho * wo)) % c->cout]);
    for (size_t i = 0; i < ny; i++) {
        y_res[i] = y_b[i] + res[i];
        y_relu[i] = y_res[i] > 0.0f ? y_res[i] : 0.0f;
        abs_br[i] = abs_b[i] + fabsf(res[i]);
    }
    lsk_tabs_copy(abs_dx0, dx0, nx);
    /* The check is sharp enough to see one missing tap (it must fail against the full oracle). */
    snprintf(what, sizeof what, "winograd case %d: a zeroed tap exceeds the bound", idx);
    lsk_tcheck(t, count_outside(y_cut, y_n, mag_y, NULL, ny, c->cin, NULL, 0) > 0, what);

    /* Weight gradient: oracle, magnitude, |previous| for accumulate, the db bound's sum |dy|,
     * and a mutation the bound must see (channel 0 of image 0 of x zeroed). */
    const size_t tiles = c->batch * ((ho + 3) / 4) * ((wo + 3) / 4);
    float *dw_0 = lsk_talloc(nw), *dw_1 = lsk_talloc(nw), *dw0 = lsk_talloc(nw), *mag_dw = lsk_talloc(nw);
    float *abs_dw0 = lsk_talloc(nw), *dw_cut = lsk_talloc(nw), *x_cut = lsk_talloc(nx);
    float *db_0 = lsk_talloc(c->cout), *mag_db = lsk_talloc(c->cout), *gdw = lsk_talloc(nw), *gdb = lsk_talloc(c->cout);
    lsk_trand_fill(t, dw0, nw, -1.0f, 1.0f);
    memcpy(dw_1, dw0, nw * sizeof(float));
    memcpy(x_cut, x, nx * sizeof(float));
    memset(x_cut, 0, c->h * c->w * sizeof(float));
    ok = lsk_ref_conv2d_bwd_weight(&d, dw_0, db_0, dy, x, 0) == LSK_OK &&
         lsk_ref_conv2d_bwd_weight(&d, dw_1, NULL, dy, x, 1) == LSK_OK &&
         lsk_ref_conv2d_bwd_weight(&d, dw_cut, NULL, dy, x_cut, 0) == LSK_OK;
    snprintf(what, sizeof what, "winograd case %d weight-gradient oracles", idx);
    lsk_tcheck(t, ok, what);
    wino_wgrad_magnitude(mag_dw, x, dy, c->batch, c->cin, c->h, c->w, c->cout, c->ph, c->pw);
    lsk_tabs_copy(abs_dw0, dw0, nw);
    for (size_t co = 0; co < c->cout; co++) {
        double s2 = 0;
        for (size_t img = 0; img < c->batch; img++)
            for (size_t i = 0; i < ho * wo; i++) s2 += fabs((double)dy[(img * c->cout + co) * ho * wo + i]);
        mag_db[co] = (float)s2;
    }
    /* bound: (tiles + 24) FLT_EPSILON mag (the sum over tiles has `tiles` terms; count_outside
     * adds 24 to its size argument) */
    snprintf(what, sizeof what, "winograd case %d: x with a zeroed plane exceeds the dw bound", idx);
    lsk_tcheck(t, count_outside(dw_cut, dw_0, mag_dw, NULL, nw, tiles, NULL, 0) > 0, what);

    float *gy = lsk_talloc(ny), *gdx = lsk_talloc(nx), *u = lsk_talloc(lsk_conv_winograd_filter_floats(c->cout, c->cin));
    static const int k_threads[2] = {1, 2};
    LSK_FOR_EACH_ISA(isa) {
        for (int ti = 0; ti < 2; ti++) {
            lsk_set_num_threads(k_threads[ti]);
            char tag[160];
            snprintf(tag, sizeof tag, "case %d (%zux%zux%zux%zu->%zu p%zux%zu) %s thr=%d", idx, c->batch, c->cin, c->h,
                     c->w, c->cout, c->ph, c->pw, lsk_isa_name((lsk_isa)isa), k_threads[ti]);
            fill_nan(gy, ny);
            snprintf(what, sizeof what, "winograd fwd+bias %s", tag);
            if (lsk_tcheck(t, lsk_conv2d_fwd(&d, gy, x, w, b) == LSK_OK, what))
                check(t, what, gy, y_b, mag_y, abs_b, ny, c->cin);
            fill_nan(gy, ny);
            snprintf(what, sizeof what, "winograd fwd %s", tag);
            if (lsk_tcheck(t, lsk_conv2d_fwd(&d, gy, x, w, NULL) == LSK_OK, what))
                check(t, what, gy, y_n, mag_y, NULL, ny, c->cin);
            /* Filters transformed once by their owner (the inference runtime's path), with
             * this ISA's transform; and those of the cut kernel must miss the tap. */
            fill_nan(gy, ny);
            snprintf(what, sizeof what, "winograd fwd prepared filters %s", tag);
            if (lsk_tcheck(t, lsk_conv_winograd_filter_prepare(u, w, c->cout, c->cin) == LSK_OK &&
                                  lsk_conv2d_fwd_prepared(&d, gy, x, w, u, b, NULL) == LSK_OK,
                           what))
                check(t, what, gy, y_b, mag_y, abs_b, ny, c->cin);
            for (int relu = 0; relu <= 1; relu++) {
                const lsk_conv_epilogue ep = {res, relu};
                fill_nan(gy, ny);
                snprintf(what, sizeof what, "winograd fwd prepared + residual%s %s", relu ? " + relu" : "", tag);
                if (lsk_tcheck(t, lsk_conv2d_fwd_prepared(&d, gy, x, w, u, b, &ep) == LSK_OK, what))
                    check(t, what, gy, relu ? y_relu : y_res, mag_y, abs_br, ny, c->cin);
                fill_nan(gy, ny); /* no prepared filters: the cached transform, same epilogue */
                snprintf(what, sizeof what, "winograd fwd cached + residual%s %s", relu ? " + relu" : "", tag);
                if (lsk_tcheck(t, lsk_conv2d_fwd_prepared(&d, gy, x, w, NULL, b, &ep) == LSK_OK, what))
                    check(t, what, gy, relu ? y_relu : y_res, mag_y, abs_br, ny, c->cin);
            }
            fill_nan(gy, ny);
            snprintf(what, sizeof what, "winograd fwd prepared filters are used %s", tag);
            lsk_tcheck(t, lsk_conv_winograd_filter_prepare(u, w_cut, c->cout, c->cin) == LSK_OK &&
                              lsk_conv2d_fwd_prepared(&d, gy, x, w, u, NULL, NULL) == LSK_OK &&
                              count_outside(gy, y_n, mag_y, NULL, ny, c->cin, NULL, 0) > 0,
                       what);
            fill_nan(gdx, nx);
            snprintf(what, sizeof what, "winograd bwd_data acc=0 %s", tag);
            if (lsk_tcheck(t, lsk_conv2d_bwd_data(&d, gdx, dy, w, 0) == LSK_OK, what))
                check(t, what, gdx, dx_0, mag_dx, NULL, nx, c->cout);
            memcpy(gdx, dx0, nx * sizeof(float));
            snprintf(what, sizeof what, "winograd bwd_data acc=1 %s", tag);
            if (lsk_tcheck(t, lsk_conv2d_bwd_data(&d, gdx, dy, w, 1) == LSK_OK, what))
                check(t, what, gdx, dx_1, mag_dx, abs_dx0, nx, c->cout);
            fill_nan(gdw, nw);
            fill_nan(gdb, c->cout);
            snprintf(what, sizeof what, "winograd bwd_weight acc=0 %s", tag);
            if (lsk_tcheck(t, lsk_conv2d_bwd_weight(&d, gdw, gdb, dy, x, 0) == LSK_OK, what)) {
                check(t, what, gdw, dw_0, mag_dw, NULL, nw, tiles);
                snprintf(what, sizeof what, "winograd bwd_weight db %s", tag);
                check(t, what, gdb, db_0, mag_db, NULL, c->cout, c->batch * ho * wo);
            }
            memcpy(gdw, dw0, nw * sizeof(float));
            snprintf(what, sizeof what, "winograd bwd_weight acc=1 %s", tag);
            if (lsk_tcheck(t, lsk_conv2d_bwd_weight(&d, gdw, NULL, dy, x, 1) == LSK_OK, what))
                check(t, what, gdw, dw_1, mag_dw, abs_dw0, nw, tiles);
        }
    }
    lsk_set_num_threads(0);

    /* Filter cache: the same pointer with one weight changed in place must give the new
     * result (a stale transform would miss a whole tap, which the check above detects). */
    lsk_set_num_threads(1);
    const float saved = w[cut];
    fill_nan(gy, ny);
    lsk_conv2d_fwd(&d, gy, x, w, NULL); /* the transform of w is cached now */
    w[cut] = 0.0f;                      /* w == w_cut, same pointer */
    fill_nan(gy, ny);
    snprintf(what, sizeof what, "winograd case %d: fwd sees a weight changed in place", idx);
    if (lsk_tcheck(t, lsk_conv2d_fwd(&d, gy, x, w, NULL) == LSK_OK, what))
        check(t, what, gy, y_cut, mag_y, NULL, ny, c->cin);
    w[cut] = saved;
    fill_nan(gdx, nx);
    lsk_conv2d_bwd_data(&d, gdx, dy, w_cut, 0); /* cache the flipped transform of w_cut */
    w_cut[cut] = saved;                          /* w_cut == w now */
    fill_nan(gdx, nx);
    snprintf(what, sizeof what, "winograd case %d: bwd_data sees a weight changed in place", idx);
    if (lsk_tcheck(t, lsk_conv2d_bwd_data(&d, gdx, dy, w_cut, 0) == LSK_OK, what))
        check(t, what, gdx, dx_0, mag_dx, NULL, nx, c->cout);
    lsk_set_num_threads(0);

    float *bufs[] = {x, w, b, dy, dx0, wt, w_cut, y_b, y_n, y_cut, mag_y, abs_b, dx_0, dx_1, mag_dx, abs_dx0, gy, gdx,
                     dw_0, dw_1, dw0, mag_dw, abs_dw0, dw_cut, x_cut, db_0, mag_db, gdw, gdb, u, res, y_res, y_relu,
                     abs_br};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) lsk_tfree(bufs[i]);
}

static wino_case random_case(lsk_tctx *t) {
    static const size_t k_sizes[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 17, 31};
    wino_case c;
    c.batch = lsk_trand_range(t, 1, 3);
    c.cin = lsk_trand_range(t, 1, 9);
    c.cout = lsk_trand_range(t, 1, 9);
    c.h = k_sizes[lsk_trand_range(t, 0, 14)];
    c.w = k_sizes[lsk_trand_range(t, 0, 14)];
    c.ph = lsk_trand_range(t, 0, 2);
    c.pw = lsk_trand_range(t, 0, 2);
    if (c.h + 2 * c.ph < 3) c.ph = 1;
    if (c.w + 2 * c.pw < 3) c.pw = 1;
    return c;
}

/* The ISA microkernels against the scalar ones on random lanes (n not a multiple of any
 * vector width; buffers padded to LSK_WINO_LANE_ALIGN as the contract asks). Gather and
 * scatter only move data: bitwise equal. The transforms evaluate the same expression tree;
 * FMA contraction changes a result by at most a few roundings of its absolute-value
 * evaluation (<= 32 * FLT_EPSILON * 64 * max|input| with entries up to 8: a loose, safe bound). */
static void test_microkernels(lsk_tctx *t) {
    enum { N = 37, LD = 48, PLANE_H = 13, PLANE_W = 11 };
    const lsk_wino_config *ref = lsk_wino_get_config(LSK_ISA_SCALAR);
    float src[36 * LD], out_ref[36 * LD], out[36 * LD], plane[3 * PLANE_H * PLANE_W];
    enum { OUT_H = 30, OUT_W = 18 }; /* a 5-wide grid of 4x4 tiles, partial last row / column */
    float y_ref[OUT_H * OUT_W], y[OUT_H * OUT_W];
    lsk_wino_tile tiles[LD];
    lsk_trand_fill(t, src, 36 * LD, -1.0f, 1.0f);
    lsk_trand_fill(t, plane, 3 * PLANE_H * PLANE_W, -1.0f, 1.0f);
    /* Random tiles of a 13x11 plane inside a 3-plane buffer (offsets from plane 1, partial
     * rows / columns as at the padding), then empty padding entries. */
    for (size_t i = 0; i < LD; i++) {
        lsk_wino_tile tl = {0, 0, 0, 0, 0, {0, 0, 0, 0, 0, 0}};
        if (i < N) {
            const ptrdiff_t iy = (ptrdiff_t)lsk_trand_range(t, 0, PLANE_H + 1) - 2;
            const ptrdiff_t ix = (ptrdiff_t)lsk_trand_range(t, 0, PLANE_W + 1) - 2;
            tl.offset = PLANE_H * PLANE_W + iy * PLANE_W + ix;
            tl.row_lo = (uint8_t)(iy < 0 ? -iy : 0);
            tl.row_hi = (uint8_t)LSK_MIN(6, PLANE_H - iy);
            tl.col_lo = (uint8_t)(ix < 0 ? -ix : 0);
            tl.col_hi = (uint8_t)LSK_MIN(6, PLANE_W - ix);
        }
        lsk_wino_tile_masks(&tl);
        tiles[i] = tl;
    }
    char what[160];
    LSK_FOR_EACH_ISA(isa) {
        const lsk_wino_config *cfg = lsk_wino_get_config((lsk_isa)isa);
        const char *name = lsk_isa_name((lsk_isa)isa);
        /* gather */
        fill_nan(out_ref, 36 * LD);
        fill_nan(out, 36 * LD);
        ref->gather(plane, PLANE_W, tiles, N, out_ref, LD);
        cfg->gather(plane, PLANE_W, tiles, N, out, LD);
        int same = 1;
        for (int r = 0; r < 36; r++)
            for (int i = 0; i < N; i++) same &= memcmp(&out[r * LD + i], &out_ref[r * LD + i], sizeof(float)) == 0;
        snprintf(what, sizeof what, "winograd gather %s == scalar", name);
        lsk_tcheck(t, same, what);
        /* scatter, both modes: N disjoint tiles on a grid (tile i at row i / 5, column i % 5) */
        for (int acc = 0; acc < 2; acc++) {
            lsk_wino_tile outs[LD];
            for (size_t i = 0; i < LD; i++) {
                const lsk_wino_tile empty = {0, 0, 0, 0, 0, {0, 0, 0, 0, 0, 0}};
                outs[i] = empty;
                if (i < N) {
                    const size_t oy = 4 * (i / 5), ox = 4 * (i % 5);
                    outs[i].offset = (ptrdiff_t)(oy * OUT_W + ox);
                    outs[i].row_hi = (uint8_t)LSK_MIN(4, OUT_H - oy);
                    outs[i].col_hi = (uint8_t)LSK_MIN(4, OUT_W - ox);
                }
                lsk_wino_tile_masks(&outs[i]);
            }
            for (size_t i = 0; i < OUT_H * OUT_W; i++) y_ref[i] = y[i] = src[i];
            ref->scatter(src, LD, y_ref, OUT_W, outs, N, 0.375f, acc);
            cfg->scatter(src, LD, y, OUT_W, outs, N, 0.375f, acc);
            snprintf(what, sizeof what, "winograd scatter acc=%d %s == scalar", acc, name);
            lsk_tcheck(t, memcmp(y, y_ref, sizeof y) == 0, what);
        }
        /* transforms */
        static const struct { const char *name; int rows_in, rows_out; } k_tr[5] = {
            {"input", 36, 36}, {"output", 36, 16}, {"filter", 9, 36}, {"output_adj", 36, 36}, {"filter_adj", 36, 9}};
        for (int k = 0; k < 5; k++) {
            fill_nan(out_ref, 36 * LD);
            fill_nan(out, 36 * LD);
            if (k == 0) { ref->input(src, LD, out_ref, LD, N); cfg->input(src, LD, out, LD, N); }
            if (k == 1) { ref->output(src, LD, out_ref, LD, N); cfg->output(src, LD, out, LD, N); }
            if (k == 2) { ref->filter(src, LD, out_ref, LD, N); cfg->filter(src, LD, out, LD, N); }
            if (k == 3) { ref->output_adj(src, LD, out_ref, LD, N); cfg->output_adj(src, LD, out, LD, N); }
            if (k == 4) { ref->filter_adj(src, LD, out_ref, LD, N); cfg->filter_adj(src, LD, out, LD, N); }
            snprintf(what, sizeof what, "winograd %s transform %s ~ scalar", k_tr[k].name, name);
            int close = 1;
            for (int r = 0; r < k_tr[k].rows_out; r++)
                for (int i = 0; i < N; i++) {
                    const float a = out[r * LD + i], bref = out_ref[r * LD + i];
                    close &= fabsf(a - bref) <= 32 * FLT_EPSILON * 64;
                }
            lsk_tcheck(t, close, what);
        }
    }
}

void lsk_test_winograd(lsk_tctx *t) {
    const lsk_conv_policy saved = lsk_conv_get_policy();
    lsk_conv_set_policy(LSK_CONV_POLICY_WINOGRAD);
    test_microkernels(t);
    const int nfixed = (int)(sizeof k_cases / sizeof k_cases[0]);
    for (int i = 0; i < nfixed; i++) run_case(t, &k_cases[i], i);
    for (int i = 0; i < 10; i++) {
        const wino_case c = random_case(t);
        run_case(t, &c, nfixed + i);
    }
    lsk_conv_set_policy(saved);
}
