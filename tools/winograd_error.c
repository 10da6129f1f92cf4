/*
 * Accuracy of Winograd F(4x4,3x3) against direct convolution (docs/conv.md, "Winograd").
 * For the 3x3 shapes of tools/bench/bench_conv.c (batch cut to 4: the oracle is slow), on
 * unit-variance data (uniform in [-sqrt 3, sqrt 3)), float32, every ISA of the host:
 * fwd, bwd_data and bwd_weight by Winograd and by im2col/transposed GEMM, each against the double
 * oracle lsk_ref_conv2d_*:  max|err| / max|ref|  and  RMS(err) / RMS(ref).
 *
 *   make -C kernels BUILD=build-wino lib && cc -O2 -std=c99 -fopenmp -Iinclude \
 *     tools/winograd_error.c kernels/build-wino/liblsk.a -lm -o /tmp/winograd_error && /tmp/winograd_error
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "../include/lsk.h"
#include "../kernels/conv/conv-internal.h"

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static float unit_variance(void) { /* uniform in [-sqrt 3, sqrt 3): mean 0, variance 1 */
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (float)(((double)(g_rng >> 11) / 9007199254740992.0 * 2.0 - 1.0) * sqrt(3.0));
}

static void fill(float *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = unit_variance();
}

static void errors(const float *got, const float *ref, size_t n, double *max_rel, double *rms_rel) {
    double max_err = 0, max_ref = 0, se = 0, sr = 0;
    for (size_t i = 0; i < n; i++) {
        const double e = fabs((double)got[i] - (double)ref[i]), r = fabs((double)ref[i]);
        if (e > max_err) max_err = e;
        if (r > max_ref) max_ref = r;
        se += e * e;
        sr += r * r;
    }
    *max_rel = max_err / max_ref;
    *rms_rel = sqrt(se / sr);
}

int main(void) {
    static const size_t shapes[][3] = {{16, 32, 16}, {32, 16, 32}, {64, 8, 64}, {32, 32, 32}, {64, 16, 64}, {128, 8, 128}};
    const size_t batch = 4;
    printf("| shape (NxCxHxW->K, 3x3 pad 1) | ISA | pass | Winograd max rel | Winograd RMS rel | GEMM max rel | GEMM RMS rel |\n");
    printf("|---|---|---|---|---|---|---|\n");
    double worst = 0;
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        const size_t c = shapes[si][0], hw = shapes[si][1], k = shapes[si][2];
        const lsk_conv2d_desc d = {batch, c, hw, hw, k, 3, 3, 1, 1, 1, 1, 1};
        const size_t nx = batch * c * hw * hw, ny = batch * k * hw * hw, nw = k * c * 9;
        float *x = malloc(nx * sizeof *x), *w = malloc(nw * sizeof *w), *dy = malloc(ny * sizeof *dy);
        float *y_ref = malloc(ny * sizeof *y_ref), *dx_ref = malloc(nx * sizeof *dx_ref);
        float *y = malloc(ny * sizeof *y), *dx = malloc(nx * sizeof *dx);
        float *dw_ref = malloc(nw * sizeof *dw_ref), *dw = malloc(nw * sizeof *dw);
        fill(x, nx);
        fill(w, nw);
        fill(dy, ny);
        lsk_ref_conv2d_fwd(&d, y_ref, x, w, NULL);
        lsk_ref_conv2d_bwd_data(&d, dx_ref, dy, w, 0);
        lsk_ref_conv2d_bwd_weight(&d, dw_ref, NULL, dy, x, 0);
        for (int isa = 0; isa < LSK_ISA_COUNT; isa++) {
            if (!lsk_isa_supported((lsk_isa)isa) || lsk_set_isa((lsk_isa)isa) != LSK_OK) continue;
            for (int pass = 0; pass < 3; pass++) {
                static const char *k_pass[3] = {"fwd", "bwd_data", "bwd_weight"};
                double wm, wr, gm, gr;
                const float *ref = pass == 0 ? y_ref : pass == 1 ? dx_ref : dw_ref;
                float *out = pass == 0 ? y : pass == 1 ? dx : dw;
                const size_t n = pass == 0 ? ny : pass == 1 ? nx : nw;
                for (int algo = 0; algo < 2; algo++) {
                    lsk_conv_set_policy(algo == 0 ? LSK_CONV_POLICY_WINOGRAD : LSK_CONV_POLICY_GEMM);
                    if (pass == 0) lsk_conv2d_fwd(&d, y, x, w, NULL);
                    else if (pass == 1) lsk_conv2d_bwd_data(&d, dx, dy, w, 0);
                    else lsk_conv2d_bwd_weight(&d, dw, NULL, dy, x, 0);
                    errors(out, ref, n, algo == 0 ? &wm : &gm, algo == 0 ? &wr : &gr);
                }
                if (wm > worst) worst = wm;
                printf("| %zux%zux%zux%zu->%zu | %s | %s | %.2e | %.2e | %.2e | %.2e |\n", batch, c, hw, hw, k,
                       lsk_isa_name((lsk_isa)isa), k_pass[pass], wm, wr, gm, gr);
            }
        }
        lsk_set_isa(LSK_ISA_AUTO);
        free(x); free(w); free(dy); free(y_ref); free(dx_ref); free(y); free(dx); free(dw_ref); free(dw);
    }
    printf("\nworst Winograd max|err|/max|ref|: %.2e (%s 1e-4)\n", worst, worst < 1e-4 ? "under" : "NOT under");
    return worst < 1e-4 ? 0 : 1;
}
