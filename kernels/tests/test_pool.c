/*
 * Pooling vs its oracles (kernels/ref/pool_ref.c) on every ISA path, threads 1 and 2,
 * accumulate 0/1: random window geometries (kernel 1..4, stride 1..4 incl. stride > kernel,
 * every legal padding, odd sizes, output rows longer than a vector and with every tail),
 * the CIFAR ResNet shapes, max-pool ties (values drawn from {0,1,2}: argmax must take the
 * first maximum in row-major window order), all -inf windows and NaN.
 *
 * Tolerances: max-pool forward and argmax are exact. Max-pool backward sums at most
 * ceil(k/s)^2 float terms per input (oracle: double): rtol 1e-6, atol 1e-6. Average pooling
 * (float sums of <= 16 terms times 1/(kh*kw)): rtol 1e-6, atol 1e-6. Global average pooling
 * (float lane sums of up to a few hundred terms): rtol 1e-5, atol 1e-6.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "harness.h"

static int check_exact_i32(lsk_tctx *t, const char *what, const int32_t *got, const int32_t *want, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (got[i] != want[i]) {
            char msg[400];
            snprintf(msg, sizeof msg, "%s: argmax[%zu] = %d, want %d", what, i, got[i], want[i]);
            return lsk_tcheck(t, 0, msg);
        }
    return lsk_tcheck(t, 1, what);
}

static void check_window(lsk_tctx *t, const lsk_pool2d_desc *d, const char *isa, int thr, int ties) {
    size_t oh, ow;
    if (lsk_pool2d_output_size(d, &oh, &ow) != LSK_OK) {
        lsk_tcheck(t, 0, "pool geometry rejected");
        return;
    }
    const size_t P = d->batch * d->channels, in_n = P * d->in_height * d->in_width, out_n = P * oh * ow;
    char what[220];
    float *x = lsk_talloc(in_n), *y = lsk_talloc(out_n + 16), *yr = lsk_talloc(out_n);
    int32_t *am = (int32_t *)lsk_talloc(out_n + 16), *amr = (int32_t *)lsk_talloc(out_n);
    float *dy = lsk_talloc(out_n), *dx = lsk_talloc(in_n + 16), *dxr = lsk_talloc(in_n);
    if (ties) {
        for (size_t i = 0; i < in_n; i++) x[i] = (float)(lsk_trand_u32(t) % 3);
    } else {
        lsk_trand_fill(t, x, in_n, -1.0f, 1.0f);
    }
    lsk_trand_fill(t, dy, out_n, -1.0f, 1.0f);
    y[out_n] = dx[in_n] = 777.0f;
    am[out_n] = 777;
    const char *geo_fmt = "%s %zux%zux%zux%zu k%zux%zu s%zux%zu p%zux%zu%s %s thr=%d";
#define GEO(name) name, d->batch, d->channels, d->in_height, d->in_width, d->kernel_h, d->kernel_w, d->stride_h, \
                  d->stride_w, d->pad_h, d->pad_w, ties ? " ties" : "", isa, thr

    snprintf(what, sizeof what, geo_fmt, GEO("maxpool fwd"));
    lsk_tcheck(t, lsk_maxpool2d_fwd(d, y, am, x) == LSK_OK, what);
    lsk_ref_maxpool2d_fwd(d, yr, amr, x);
    lsk_tcheck_close(t, what, y, yr, out_n, 0.0f, 0.0f);
    check_exact_i32(t, what, am, amr, out_n);
    lsk_tcheck(t, y[out_n] == 777.0f && am[out_n] == 777, what);

    for (int acc = 0; acc <= 1; acc++) {
        lsk_trand_fill(t, dx, in_n, -1.0f, 1.0f);
        memcpy(dxr, dx, in_n * sizeof(float));
        snprintf(what, sizeof what, geo_fmt, GEO(acc ? "maxpool bwd acc" : "maxpool bwd"));
        lsk_tcheck(t, lsk_maxpool2d_bwd(d, dx, dy, amr, acc) == LSK_OK, what);
        lsk_ref_maxpool2d_bwd(d, dxr, dy, amr, acc);
        lsk_tcheck_close(t, what, dx, dxr, in_n, 1e-6f, 1e-6f);
        lsk_tcheck(t, dx[in_n] == 777.0f, what);
    }

    snprintf(what, sizeof what, geo_fmt, GEO("avgpool fwd"));
    lsk_tcheck(t, lsk_avgpool2d_fwd(d, y, x) == LSK_OK, what);
    lsk_ref_avgpool2d_fwd(d, yr, x);
    lsk_tcheck_close(t, what, y, yr, out_n, 1e-6f, 1e-6f);
    lsk_tcheck(t, y[out_n] == 777.0f, what);
    for (int acc = 0; acc <= 1; acc++) {
        lsk_trand_fill(t, dx, in_n, -1.0f, 1.0f);
        memcpy(dxr, dx, in_n * sizeof(float));
        snprintf(what, sizeof what, geo_fmt, GEO(acc ? "avgpool bwd acc" : "avgpool bwd"));
        lsk_tcheck(t, lsk_avgpool2d_bwd(d, dx, dy, acc) == LSK_OK, what);
        lsk_ref_avgpool2d_bwd(d, dxr, dy, acc);
        lsk_tcheck_close(t, what, dx, dxr, in_n, 1e-6f, 1e-6f);
        lsk_tcheck(t, dx[in_n] == 777.0f, what);
    }
#undef GEO
    lsk_tfree(x), lsk_tfree(y), lsk_tfree(yr), lsk_tfree(am), lsk_tfree(amr), lsk_tfree(dy), lsk_tfree(dx);
    lsk_tfree(dxr);
}

static void check_global(lsk_tctx *t, size_t B, size_t C, size_t HW, const char *isa, int thr) {
    const size_t P = B * C, n = P * HW;
    char what[160];
    float *x = lsk_talloc(n), *y = lsk_talloc(P + 1), *yr = lsk_talloc(P), *dx = lsk_talloc(n + 1), *dxr = lsk_talloc(n);
    lsk_trand_fill(t, x, n, -1.0f, 1.0f);
    y[P] = dx[n] = 777.0f;
    snprintf(what, sizeof what, "global avgpool fwd %zux%zux%zu %s thr=%d", B, C, HW, isa, thr);
    lsk_tcheck(t, lsk_global_avgpool_fwd(y, x, B, C, HW) == LSK_OK && y[P] == 777.0f, what);
    lsk_ref_global_avgpool_fwd(yr, x, B, C, HW);
    lsk_tcheck_close(t, what, y, yr, P, 1e-5f, 1e-6f);
    for (int acc = 0; acc <= 1; acc++) {
        lsk_trand_fill(t, dx, n, -1.0f, 1.0f);
        memcpy(dxr, dx, n * sizeof(float));
        snprintf(what, sizeof what, "global avgpool bwd acc=%d %zux%zux%zu %s thr=%d", acc, B, C, HW, isa, thr);
        lsk_tcheck(t, lsk_global_avgpool_bwd(dx, yr, B, C, HW, acc) == LSK_OK && dx[n] == 777.0f, what);
        lsk_ref_global_avgpool_bwd(dxr, yr, B, C, HW, acc);
        lsk_tcheck_close(t, what, dx, dxr, n, 1e-6f, 1e-7f);
    }
    lsk_tfree(x), lsk_tfree(y), lsk_tfree(yr), lsk_tfree(dx), lsk_tfree(dxr);
}

/* -inf and NaN inputs: exact agreement with the oracle (PyTorch's rule), NaN compared as NaN. */
static void check_special(lsk_tctx *t, const char *isa) {
    lsk_pool2d_desc d = {1, 3, 5, 21, 3, 3, 2, 1, 1, 1};
    size_t oh, ow;
    lsk_pool2d_output_size(&d, &oh, &ow);
    const size_t in_n = 3 * 5 * 21, out_n = 3 * oh * ow;
    float x[3 * 5 * 21], y[3 * 3 * 21], yr[3 * 3 * 21];
    int32_t am[3 * 3 * 21], amr[3 * 3 * 21];
    lsk_trand_fill(t, x, in_n, -1.0f, 1.0f);
    for (size_t i = 0; i < 5 * 21; i++) x[i] = -INFINITY; /* plane 0: all -inf */
    for (size_t i = 5 * 21; i < in_n; i += 7) x[i] = NAN;  /* planes 1, 2: scattered NaN */
    lsk_maxpool2d_fwd(&d, y, am, x);
    lsk_ref_maxpool2d_fwd(&d, yr, amr, x);
    int ok = 1;
    for (size_t i = 0; i < out_n; i++)
        ok &= (isnan(y[i]) ? isnan(yr[i]) : y[i] == yr[i]) && am[i] == amr[i] && am[i] >= 0 && am[i] < 5 * 21;
    char what[120];
    snprintf(what, sizeof what, "maxpool -inf windows and NaN propagation %s", isa);
    lsk_tcheck(t, ok, what);
}

static void check_invalid(lsk_tctx *t) {
    float x[64], y[64], dx[64];
    int32_t am[64];
    for (int i = 0; i < 64; i++) x[i] = (float)i, y[i] = 5.0f, dx[i] = 9.0f, am[i] = 0;
    const lsk_pool2d_desc good = {1, 1, 4, 4, 2, 2, 2, 2, 0, 0};
    lsk_pool2d_desc d;
    size_t oh, ow;
    d = good, d.pad_h = 2;
    lsk_tcheck(t, lsk_maxpool2d_fwd(&d, y, am, x) == LSK_ERR_INVALID_ARGUMENT, "pool pad > kernel/2 rejected");
    d = good, d.stride_w = 0;
    lsk_tcheck(t, lsk_avgpool2d_fwd(&d, y, x) == LSK_ERR_INVALID_ARGUMENT, "pool stride 0 rejected");
    d = good, d.kernel_h = 0;
    lsk_tcheck(t, lsk_pool2d_output_size(&d, &oh, &ow) == LSK_ERR_INVALID_ARGUMENT, "pool kernel 0 rejected");
    d = good, d.kernel_w = 5;
    lsk_tcheck(t, lsk_maxpool2d_fwd(&d, y, am, x) == LSK_ERR_INVALID_ARGUMENT, "pool window larger than input rejected");
    lsk_tcheck(t, lsk_maxpool2d_fwd(NULL, y, am, x) == LSK_ERR_INVALID_ARGUMENT, "pool NULL desc rejected");
    lsk_tcheck(t, lsk_maxpool2d_fwd(&good, y, NULL, x) == LSK_ERR_INVALID_ARGUMENT, "maxpool NULL argmax rejected");
    lsk_tcheck(t, lsk_avgpool2d_bwd(&good, dx, y, 3) == LSK_ERR_INVALID_ARGUMENT, "avgpool bwd accumulate=3 rejected");
    lsk_tcheck(t, lsk_global_avgpool_fwd(y, x, 2, 2, 0) == LSK_ERR_INVALID_ARGUMENT, "global avgpool hw=0 rejected");
    d = good, d.in_height = 70000, d.in_width = 70000;
    lsk_tcheck(t, lsk_maxpool2d_fwd(&d, y, am, x) == LSK_ERR_INVALID_ARGUMENT, "plane over int32 argmax range rejected");
    int untouched = 1;
    for (int i = 0; i < 64; i++) untouched &= y[i] == 5.0f && dx[i] == 9.0f && am[i] == 0;
    lsk_tcheck(t, untouched, "pool rejected calls touched nothing");
    /* a corrupt argmax is skipped, reported, and never writes outside dx */
    float dy[4] = {1, 1, 1, 1};
    int32_t bad[4] = {0, 5, -1, 16};
    lsk_tcheck(t, lsk_maxpool2d_bwd(&good, dx, dy, bad, 0) == LSK_ERR_INVALID_ARGUMENT, "maxpool bwd bad argmax reported");
    untouched = dx[0] == 1.0f && dx[5] == 1.0f && dx[16] == 9.0f;
    for (int i = 17; i < 64; i++) untouched &= dx[i] == 9.0f;
    lsk_tcheck(t, untouched, "maxpool bwd bad argmax stays in bounds");
}

void lsk_test_pool(lsk_tctx *t) {
    static const lsk_pool2d_desc fixed[] = {
        {2, 3, 32, 32, 3, 3, 2, 2, 1, 1}, /* ResNet stem max pool */
        {2, 2, 16, 16, 2, 2, 2, 2, 0, 0}, {1, 2, 7, 9, 1, 1, 1, 1, 0, 0},  /* kernel 1 */
        {1, 2, 9, 11, 1, 1, 3, 2, 0, 0},  /* kernel 1, stride > kernel */
        {2, 1, 11, 70, 3, 3, 1, 1, 1, 1}, /* rows of 70 outputs: several vectors + tail */
        {1, 1, 13, 41, 2, 3, 3, 4, 1, 1}, /* stride > kernel with padding */
        {1, 2, 33, 33, 4, 4, 2, 3, 2, 2}, {3, 1, 5, 5, 5, 5, 1, 1, 2, 2},  {1, 1, 1, 1, 1, 1, 1, 1, 0, 0},
        {1, 1, 1, 1, 3, 3, 1, 1, 1, 1},   /* 1x1 input, all but the centre is padding */
        {1, 1, 34, 33, 2, 2, 2, 2, 0, 0}, /* uncovered trailing row/column */
        {1, 2, 5, 7, 2, 3, (size_t)1 << 40, (size_t)1 << 40, 1, 1}, /* huge stride: one output */
    };
    LSK_FOR_EACH_ISA(isa) {
        const char *name = lsk_isa_name((lsk_isa)isa);
        for (int thr = 1; thr <= 2; thr++) {
            lsk_set_num_threads(thr);
            for (size_t k = 0; k < sizeof fixed / sizeof fixed[0]; k++)
                for (int ties = 0; ties <= 1; ties++) check_window(t, &fixed[k], name, thr, ties);
            for (int r = 0; r < 24; r++) {
                lsk_pool2d_desc d;
                d.batch = lsk_trand_range(t, 1, 2), d.channels = lsk_trand_range(t, 1, 3);
                d.kernel_h = lsk_trand_range(t, 1, 4), d.kernel_w = lsk_trand_range(t, 1, 4);
                d.stride_h = lsk_trand_range(t, 1, 4), d.stride_w = lsk_trand_range(t, 1, 4);
                d.pad_h = lsk_trand_range(t, 0, d.kernel_h / 2), d.pad_w = lsk_trand_range(t, 0, d.kernel_w / 2);
                d.in_height = lsk_trand_range(t, d.kernel_h, 19), d.in_width = lsk_trand_range(t, d.kernel_w, 40);
                check_window(t, &d, name, thr, (int)(r & 1));
            }
            /* large enough to run threaded */
            const lsk_pool2d_desc big = {2, 16, 32, 32, 3, 3, 2, 2, 1, 1};
            check_window(t, &big, name, thr, 0);
            check_global(t, 2, 3, 1, name, thr);
            check_global(t, 3, 5, 64, name, thr);
            check_global(t, 2, 7, 49, name, thr);
            for (size_t hw = 1; hw <= 33; hw += 4) check_global(t, 1, 3, hw, name, thr);
            check_global(t, 16, 64, 64, name, thr);
            check_special(t, name);
        }
    }
    lsk_set_num_threads(0);
    check_invalid(t);
}
