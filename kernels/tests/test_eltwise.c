/*
 * Eltwise family vs its oracles (kernels/ref/eltwise_ref.c), every ISA path of the host,
 * threads 1 and 2, n = 0..33 (every SIMD tail of every path), a few odd sizes, and sizes
 * above the threading threshold (65536) that are not multiples of the 16K chunk.
 * Each output buffer has guard words past n that must survive (tail stores stay in bounds).
 *
 * Tolerances: relu fwd/bwd, add, scale and fill are exact (a float add rounded once is what the
 * double oracle rounds to). axpy / sgd: the SIMD paths fuse multiply-adds and the
 * oracle rounds once in double, so results differ by a few ulps: rtol 1e-6 plus an atol of
 * 1e-6 for results that cancel to near zero (inputs are O(1)).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "harness.h"

#define GUARD 17
static const float k_guard = 12345.0f;

static float *alloc_guarded(size_t n) {
    float *p = lsk_talloc(n + GUARD);
    for (size_t i = 0; i < GUARD; i++) p[n + i] = k_guard;
    return p;
}
static int guard_ok(const float *p, size_t n) {
    for (size_t i = 0; i < GUARD; i++)
        if (p[n + i] != k_guard) return 0;
    return 1;
}

/* Random values in [-1, 1) with some exact zeros and negative zeros (relu edge cases). */
static void fill_signed(lsk_tctx *t, float *x, size_t n) {
    lsk_trand_fill(t, x, n, -1.0f, 1.0f);
    for (size_t i = 0; i < n; i++) {
        const uint32_t r = lsk_trand_u32(t) % 16;
        if (r == 0) x[i] = 0.0f;
        if (r == 1) x[i] = -0.0f;
    }
}

static void check_sizes(lsk_tctx *t, const char *isa, int thr, size_t n) {
    char what[160];
    float *x = lsk_talloc(n), *a = lsk_talloc(n), *dy = lsk_talloc(n);
    float *y = alloc_guarded(n), *w = alloc_guarded(n), *dx = alloc_guarded(n), *dw = alloc_guarded(n);
    fill_signed(t, x, n);
    fill_signed(t, a, n);
    lsk_trand_fill(t, dy, n, -1.0f, 1.0f);

    /* relu fwd, out of place and in place */
    lsk_relu_fwd(y, x, n);
    lsk_ref_relu_fwd(w, x, n);
    snprintf(what, sizeof what, "relu_fwd n=%zu %s thr=%d", n, isa, thr);
    lsk_tcheck_close(t, what, y, w, n, 0.0f, 0.0f);
    lsk_tcheck(t, guard_ok(y, n), what);
    memcpy(y, x, n * sizeof(float));
    lsk_relu_fwd(y, y, n);
    snprintf(what, sizeof what, "relu_fwd in-place n=%zu %s thr=%d", n, isa, thr);
    lsk_tcheck_close(t, what, y, w, n, 0.0f, 0.0f);

    /* relu bwd against the relu output w (has exact zeros), accumulate 0 and 1 */
    for (int acc = 0; acc <= 1; acc++) {
        lsk_trand_fill(t, dx, n, -1.0f, 1.0f);
        memcpy(dw, dx, n * sizeof(float));
        lsk_relu_bwd(dx, dy, w, n, acc);
        lsk_ref_relu_bwd(dw, dy, w, n, acc);
        snprintf(what, sizeof what, "relu_bwd acc=%d n=%zu %s thr=%d", acc, n, isa, thr);
        lsk_tcheck_close(t, what, dx, dw, n, 0.0f, 0.0f);
        lsk_tcheck(t, guard_ok(dx, n), what);
    }

    /* add, also in place (y == a) */
    lsk_add_fwd(y, x, a, n);
    lsk_ref_add_fwd(w, x, a, n);
    snprintf(what, sizeof what, "add n=%zu %s thr=%d", n, isa, thr);
    lsk_tcheck_close(t, what, y, w, n, 0.0f, 0.0f);
    lsk_tcheck(t, guard_ok(y, n), what);
    memcpy(y, x, n * sizeof(float));
    lsk_add_fwd(y, y, a, n);
    snprintf(what, sizeof what, "add in-place n=%zu %s thr=%d", n, isa, thr);
    lsk_tcheck_close(t, what, y, w, n, 0.0f, 0.0f);

    /* add + relu fused: the oracle, and bit for bit add then relu on this path; in place too */
    lsk_add_relu_fwd(y, x, a, n);
    lsk_ref_add_relu_fwd(w, x, a, n);
    snprintf(what, sizeof what, "add_relu n=%zu %s thr=%d", n, isa, thr);
    lsk_tcheck_close(t, what, y, w, n, 0.0f, 0.0f);
    lsk_tcheck(t, guard_ok(y, n), what);
    lsk_add_fwd(dw, x, a, n);
    lsk_relu_fwd(dw, dw, n);
    lsk_tcheck(t, n == 0 || memcmp(y, dw, n * sizeof(float)) == 0, what);
    memcpy(y, x, n * sizeof(float));
    lsk_add_relu_fwd(y, y, a, n);
    snprintf(what, sizeof what, "add_relu in-place n=%zu %s thr=%d", n, isa, thr);
    lsk_tcheck(t, n == 0 || memcmp(y, dw, n * sizeof(float)) == 0, what);

    /* axpy */
    memcpy(y, a, n * sizeof(float));
    memcpy(w, a, n * sizeof(float));
    lsk_axpy(y, x, -0.7f, n);
    lsk_ref_axpy(w, x, -0.7f, n);
    snprintf(what, sizeof what, "axpy n=%zu %s thr=%d", n, isa, thr);
    lsk_tcheck_close(t, what, y, w, n, 1e-6f, 1e-6f);
    lsk_tcheck(t, guard_ok(y, n), what);

    /* scale (no oracle in the API: double product here) */
    memcpy(y, x, n * sizeof(float));
    lsk_scale(y, 1.3f, n);
    for (size_t i = 0; i < n; i++) w[i] = (float)((double)1.3f * (double)x[i]); /* exact product, rounded once */
    snprintf(what, sizeof what, "scale n=%zu %s thr=%d", n, isa, thr);
    lsk_tcheck_close(t, what, y, w, n, 0.0f, 0.0f);
    lsk_tcheck(t, guard_ok(y, n), what);

    /* fill */
    lsk_fill(y, -2.5f, n);
    for (size_t i = 0; i < n; i++) w[i] = -2.5f;
    snprintf(what, sizeof what, "fill n=%zu %s thr=%d", n, isa, thr);
    lsk_tcheck_close(t, what, y, w, n, 0.0f, 0.0f);
    lsk_tcheck(t, guard_ok(y, n), what);

    /* SGD: plain, momentum, Nesterov, with and without weight decay; two steps so the
     * velocity read path is exercised with a non-zero buffer. */
    static const struct { float mom, wd; int nest; } cfg[] = {
        {0.0f, 0.0f, 0}, {0.0f, 5e-4f, 0}, {0.9f, 0.0f, 0}, {0.9f, 5e-4f, 0}, {0.9f, 5e-4f, 1}, {0.5f, 0.1f, 1}};
    float *v = alloc_guarded(n), *vw = alloc_guarded(n);
    for (size_t k = 0; k < sizeof cfg / sizeof cfg[0]; k++) {
        memcpy(y, x, n * sizeof(float));
        memcpy(w, x, n * sizeof(float));
        for (size_t i = 0; i < n; i++) v[i] = vw[i] = 0.0f;
        for (int step = 0; step < 2; step++) {
            float *vel = cfg[k].mom != 0.0f ? v : NULL, *velw = cfg[k].mom != 0.0f ? vw : NULL;
            lsk_sgd_step(y, vel, a, n, 0.1f, cfg[k].mom, cfg[k].wd, cfg[k].nest);
            lsk_ref_sgd_step(w, velw, a, n, 0.1f, cfg[k].mom, cfg[k].wd, cfg[k].nest);
        }
        snprintf(what, sizeof what, "sgd mom=%g wd=%g nesterov=%d n=%zu %s thr=%d", cfg[k].mom, cfg[k].wd,
                 cfg[k].nest, n, isa, thr);
        lsk_tcheck_close(t, what, y, w, n, 1e-6f, 1e-6f);
        lsk_tcheck_close(t, what, v, vw, n, 1e-6f, 1e-6f);
        lsk_tcheck(t, guard_ok(y, n) && guard_ok(v, n), what);
    }
    lsk_tfree(v);
    lsk_tfree(vw);
    lsk_tfree(x), lsk_tfree(a), lsk_tfree(dy), lsk_tfree(y), lsk_tfree(w), lsk_tfree(dx), lsk_tfree(dw);
}

static void check_invalid(lsk_tctx *t) {
    float buf[4] = {1.0f, 2.0f, 3.0f, 4.0f}, v[4] = {0};
    const float x[4] = {-1.0f, 1.0f, -1.0f, 1.0f};
    lsk_tcheck(t, lsk_relu_fwd(NULL, x, 4) == LSK_ERR_INVALID_ARGUMENT, "relu_fwd NULL y rejected");
    lsk_tcheck(t, lsk_relu_fwd(buf, NULL, 4) == LSK_ERR_INVALID_ARGUMENT, "relu_fwd NULL x rejected");
    lsk_tcheck(t, lsk_relu_fwd(NULL, NULL, 0) == LSK_OK, "relu_fwd n=0 with NULL is a no-op");
    lsk_tcheck(t, lsk_relu_bwd(buf, x, x, 4, 2) == LSK_ERR_INVALID_ARGUMENT && buf[0] == 1.0f,
               "relu_bwd accumulate=2 rejected, dx untouched");
    lsk_tcheck(t, lsk_relu_bwd(buf, NULL, x, 4, 0) == LSK_ERR_INVALID_ARGUMENT, "relu_bwd NULL dy rejected");
    lsk_tcheck(t, lsk_add_fwd(buf, x, NULL, 4) == LSK_ERR_INVALID_ARGUMENT, "add NULL b rejected");
    lsk_tcheck(t, lsk_add_relu_fwd(buf, NULL, x, 4) == LSK_ERR_INVALID_ARGUMENT, "add_relu NULL a rejected");
    lsk_tcheck(t, lsk_axpy(NULL, x, 1.0f, 4) == LSK_ERR_INVALID_ARGUMENT, "axpy NULL y rejected");
    lsk_tcheck(t, lsk_scale(NULL, 1.0f, 4) == LSK_ERR_INVALID_ARGUMENT, "scale NULL rejected");
    lsk_tcheck(t, lsk_fill(NULL, 1.0f, 4) == LSK_ERR_INVALID_ARGUMENT, "fill NULL rejected");
    lsk_tcheck(t, lsk_relu_fwd(buf, x, (size_t)-1) == LSK_ERR_INVALID_ARGUMENT, "relu_fwd huge n rejected");
    lsk_tcheck(t, lsk_sgd_step(buf, NULL, x, 4, 0.1f, 0.9f, 0.0f, 0) == LSK_ERR_INVALID_ARGUMENT && buf[0] == 1.0f,
               "sgd momentum without velocity rejected, param untouched");
    lsk_tcheck(t, lsk_sgd_step(buf, v, x, 4, -0.1f, 0.9f, 0.0f, 0) == LSK_ERR_INVALID_ARGUMENT, "sgd lr<0 rejected");
    lsk_tcheck(t, lsk_sgd_step(buf, v, x, 4, NAN, 0.9f, 0.0f, 0) == LSK_ERR_INVALID_ARGUMENT, "sgd lr NaN rejected");
    lsk_tcheck(t, lsk_sgd_step(buf, v, x, 4, 0.1f, 0.9f, 0.0f, 2) == LSK_ERR_INVALID_ARGUMENT, "sgd nesterov=2 rejected");
    lsk_tcheck(t, buf[0] == 1.0f && buf[3] == 4.0f && v[0] == 0.0f, "rejected calls touched nothing");
    /* momentum 0 ignores a velocity buffer (PyTorch keeps none) */
    v[0] = 7.0f;
    lsk_tcheck(t, lsk_sgd_step(buf, v, x, 4, 0.5f, 0.0f, 0.0f, 0) == LSK_OK && v[0] == 7.0f && buf[0] == 1.5f,
               "sgd momentum=0 leaves velocity alone");
    /* NaN propagates through relu on every path */
    LSK_FOR_EACH_ISA(isa) {
        float nx[3] = {NAN, -1.0f, 2.0f}, ny[3];
        lsk_relu_fwd(ny, nx, 3);
        lsk_tcheck(t, isnan(ny[0]) && ny[1] == 0.0f && ny[2] == 2.0f, "relu keeps NaN");
        const float nb[3] = {1.0f, 0.5f, -3.0f};
        lsk_add_relu_fwd(ny, nx, nb, 3);
        lsk_tcheck(t, isnan(ny[0]) && ny[1] == 0.0f && ny[2] == 0.0f, "add_relu keeps NaN");
    }
}

void lsk_test_eltwise(lsk_tctx *t) {
    static const size_t big[] = {127, 1000, 4099, 65536 + 4097, 3 * 16384 + 16384 * 2 + 5};
    LSK_FOR_EACH_ISA(isa) {
        const char *name = lsk_isa_name((lsk_isa)isa);
        for (int thr = 1; thr <= 2; thr++) {
            lsk_set_num_threads(thr);
            for (size_t n = 0; n <= 33; n++) check_sizes(t, name, thr, n);
            for (size_t k = 0; k < sizeof big / sizeof big[0]; k++) check_sizes(t, name, thr, big[k]);
        }
    }
    lsk_set_num_threads(0);
    check_invalid(t);
}
