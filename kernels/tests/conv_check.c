/* Shared check of one convolution descriptor against the oracles: see conv_check.h. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "conv_check.h"
#include "../conv/conv-internal.h"

static size_t out_dim(size_t in, size_t k, size_t s, size_t p) { return (in + 2 * p - k) / s + 1; }

/* |got - want| <= (terms + 4) * FLT_EPSILON * mag elementwise (see conv_check.h). */
int lsk_tcheck_conv_bound(lsk_tctx *t, const char *what, const float *got, const float *want, const float *mag,
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

void lsk_tfill_nan(float *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = NAN;
}

void lsk_tconv_check_case(lsk_tctx *t, const lsk_conv2d_desc *dp, int idx, int bitwise_across_threads) {
    const lsk_conv2d_desc d = *dp;
    const struct {
        size_t batch, cin, h, w, cout, kh, kw, sh, sw, ph, pw, groups;
    } cs = {d.batch, d.in_channels, d.in_height, d.in_width, d.out_channels, d.kernel_h, d.kernel_w,
            d.stride_h, d.stride_w, d.pad_h, d.pad_w, d.groups}, *c = &cs;
    const size_t ho = out_dim(c->h, c->kh, c->sh, c->ph), wo = out_dim(c->w, c->kw, c->sw, c->pw);
    size_t gho = 0, gwo = 0;
    char what[200];
    snprintf(what, sizeof what, "case %d output size", idx);
    lsk_tcheck(t, lsk_conv2d_output_size(&d, &gho, &gwo) == LSK_OK && gho == ho && gwo == wo, what);

    const size_t cig = c->cin / c->groups, cog = c->cout / c->groups;
    const size_t nx = c->batch * c->cin * c->h * c->w, ny = c->batch * c->cout * ho * wo;
    const size_t nw = c->cout * cig * c->kh * c->kw, nb = c->cout;
    const size_t t_fwd = cig * c->kh * c->kw, t_bd = cog * c->kh * c->kw + c->kh * c->kw;
    const size_t t_bw = c->batch * ho * wo;

    float *x = lsk_talloc(nx), *w = lsk_talloc(nw), *b = lsk_talloc(nb), *dy = lsk_talloc(ny);
    float *ax = lsk_talloc(nx), *aw = lsk_talloc(nw), *ab = lsk_talloc(nb), *ady = lsk_talloc(ny);
    float *dx0 = lsk_talloc(nx), *dw0 = lsk_talloc(nw), *db0 = lsk_talloc(nb); /* previous values */
    float *adx0 = lsk_talloc(nx), *adw0 = lsk_talloc(nw), *adb0 = lsk_talloc(nb);
    lsk_trand_fill(t, x, nx, -1.0f, 1.0f);
    lsk_trand_fill(t, w, nw, -1.0f, 1.0f);
    lsk_trand_fill(t, b, nb, -1.0f, 1.0f);
    lsk_trand_fill(t, dy, ny, -1.0f, 1.0f);
    lsk_trand_fill(t, dx0, nx, -1.0f, 1.0f);
    lsk_trand_fill(t, dw0, nw, -1.0f, 1.0f);
    lsk_trand_fill(t, db0, nb, -1.0f, 1.0f);
    lsk_tabs_copy(ax, x, nx); lsk_tabs_copy(aw, w, nw); lsk_tabs_copy(ab, b, nb); lsk_tabs_copy(ady, dy, ny);
    lsk_tabs_copy(adx0, dx0, nx); lsk_tabs_copy(adw0, dw0, nw); lsk_tabs_copy(adb0, db0, nb);

    /* Oracle results and magnitudes (oracle on absolute values). */
    float *y_b = lsk_talloc(ny), *y_n = lsk_talloc(ny), *my_b = lsk_talloc(ny), *my_n = lsk_talloc(ny);
    float *dx_0 = lsk_talloc(nx), *dx_1 = lsk_talloc(nx), *mdx_0 = lsk_talloc(nx), *mdx_1 = lsk_talloc(nx);
    float *dw_0 = lsk_talloc(nw), *dw_1 = lsk_talloc(nw), *mdw_0 = lsk_talloc(nw), *mdw_1 = lsk_talloc(nw);
    float *db_0 = lsk_talloc(nb), *db_1 = lsk_talloc(nb), *mdb_0 = lsk_talloc(nb), *mdb_1 = lsk_talloc(nb);
    int ok = lsk_ref_conv2d_fwd(&d, y_b, x, w, b) == LSK_OK && lsk_ref_conv2d_fwd(&d, y_n, x, w, NULL) == LSK_OK &&
             lsk_ref_conv2d_fwd(&d, my_b, ax, aw, ab) == LSK_OK && lsk_ref_conv2d_fwd(&d, my_n, ax, aw, NULL) == LSK_OK;
    ok = ok && lsk_ref_conv2d_bwd_data(&d, dx_0, dy, w, 0) == LSK_OK &&
         lsk_ref_conv2d_bwd_data(&d, mdx_0, ady, aw, 0) == LSK_OK;
    memcpy(dx_1, dx0, nx * sizeof(float));
    memcpy(mdx_1, adx0, nx * sizeof(float));
    ok = ok && lsk_ref_conv2d_bwd_data(&d, dx_1, dy, w, 1) == LSK_OK &&
         lsk_ref_conv2d_bwd_data(&d, mdx_1, ady, aw, 1) == LSK_OK;
    ok = ok && lsk_ref_conv2d_bwd_weight(&d, dw_0, db_0, dy, x, 0) == LSK_OK &&
         lsk_ref_conv2d_bwd_weight(&d, mdw_0, mdb_0, ady, ax, 0) == LSK_OK;
    memcpy(dw_1, dw0, nw * sizeof(float)); memcpy(db_1, db0, nb * sizeof(float));
    memcpy(mdw_1, adw0, nw * sizeof(float)); memcpy(mdb_1, adb0, nb * sizeof(float));
    ok = ok && lsk_ref_conv2d_bwd_weight(&d, dw_1, db_1, dy, x, 1) == LSK_OK &&
         lsk_ref_conv2d_bwd_weight(&d, mdw_1, mdb_1, ady, ax, 1) == LSK_OK;
    snprintf(what, sizeof what, "case %d oracles accept the descriptor", idx);
    lsk_tcheck(t, ok, what);

    /* The runtime's fused epilogue (lsk_conv2d_fwd_prepared): + residual, then ReLU. Oracle
     * max(y_b + r, 0); magnitude + |r| (ReLU is 1-Lipschitz: the bound still holds). */
    float *res = lsk_talloc(ny), *y_res = lsk_talloc(ny), *y_relu = lsk_talloc(ny), *my_r = lsk_talloc(ny);
    lsk_trand_fill(t, res, ny, -1.0f, 1.0f);
    for (size_t i = 0; i < ny; i++) {
        y_res[i] = y_b[i] + res[i];
        y_relu[i] = y_res[i] > 0.0f ? y_res[i] : 0.0f;
        my_r[i] = my_b[i] + fabsf(res[i]);
    }
    float *gy = lsk_talloc(ny), *gdx = lsk_talloc(nx), *gdw = lsk_talloc(nw), *gdb = lsk_talloc(nb);
    float *gdw2 = lsk_talloc(nw);
    float *gdw1 = lsk_talloc(nw); /* bwd_weight with 1 thread, per ISA */
    static const int k_threads[2] = {1, 2};
    LSK_FOR_EACH_ISA(isa) {
        for (int ti = 0; ti < 2; ti++) {
            lsk_set_num_threads(k_threads[ti]);
            char tag[160];
            snprintf(tag, sizeof tag, "case %d (%zux%zux%zux%zu->%zu k%zux%zu s%zux%zu p%zux%zu g%zu) %s thr=%d", idx,
                     c->batch, c->cin, c->h, c->w, c->cout, c->kh, c->kw, c->sh, c->sw, c->ph, c->pw, c->groups,
                     lsk_isa_name((lsk_isa)isa), k_threads[ti]);
#define RUN_CHECK(call, label, got, want, mag, n, terms)                                  \
    do {                                                                                  \
        snprintf(what, sizeof what, "%s %s", label, tag);                                 \
        if (lsk_tcheck(t, (call) == LSK_OK, what)) lsk_tcheck_conv_bound(t, what, got, want, mag, n, terms); \
    } while (0)
            lsk_tfill_nan(gy, ny);
            RUN_CHECK(lsk_conv2d_fwd(&d, gy, x, w, b), "fwd+bias", gy, y_b, my_b, ny, t_fwd);
            lsk_tfill_nan(gy, ny);
            RUN_CHECK(lsk_conv2d_fwd(&d, gy, x, w, NULL), "fwd", gy, y_n, my_n, ny, t_fwd);
            for (int relu = 0; relu <= 1; relu++) {
                const lsk_conv_epilogue ep = {res, relu};
                lsk_tfill_nan(gy, ny);
                RUN_CHECK(lsk_conv2d_fwd_prepared(&d, gy, x, w, NULL, b, &ep), relu ? "fwd+bias+residual+relu" : "fwd+bias+residual",
                          gy, relu ? y_relu : y_res, my_r, ny, t_fwd);
            }
            lsk_tfill_nan(gdx, nx);
            RUN_CHECK(lsk_conv2d_bwd_data(&d, gdx, dy, w, 0), "bwd_data acc=0", gdx, dx_0, mdx_0, nx, t_bd);
            memcpy(gdx, dx0, nx * sizeof(float));
            RUN_CHECK(lsk_conv2d_bwd_data(&d, gdx, dy, w, 1), "bwd_data acc=1", gdx, dx_1, mdx_1, nx, t_bd);
            lsk_tfill_nan(gdw, nw); lsk_tfill_nan(gdb, nb);
            RUN_CHECK(lsk_conv2d_bwd_weight(&d, gdw, gdb, dy, x, 0), "bwd_weight acc=0 dw", gdw, dw_0, mdw_0, nw, t_bw);
            snprintf(what, sizeof what, "bwd_weight acc=0 db %s", tag);
            lsk_tcheck_conv_bound(t, what, gdb, db_0, mdb_0, nb, t_bw);
            memcpy(gdw, dw0, nw * sizeof(float)); memcpy(gdb, db0, nb * sizeof(float));
            RUN_CHECK(lsk_conv2d_bwd_weight(&d, gdw, gdb, dy, x, 1), "bwd_weight acc=1 dw", gdw, dw_1, mdw_1, nw, t_bw);
            snprintf(what, sizeof what, "bwd_weight acc=1 db %s", tag);
            lsk_tcheck_conv_bound(t, what, gdb, db_1, mdb_1, nb, t_bw);
            /* Both gradients in one call (lsk_conv2d_bwd), overwrite and accumulate, and
             * each gradient alone through it. */
            lsk_tfill_nan(gdx, nx); lsk_tfill_nan(gdw, nw); lsk_tfill_nan(gdb, nb);
            RUN_CHECK(lsk_conv2d_bwd(&d, gdx, gdw, gdb, dy, x, w, 0, 0), "bwd acc=0 dx", gdx, dx_0, mdx_0, nx, t_bd);
            snprintf(what, sizeof what, "bwd acc=0 dw %s", tag);
            lsk_tcheck_conv_bound(t, what, gdw, dw_0, mdw_0, nw, t_bw);
            snprintf(what, sizeof what, "bwd acc=0 db %s", tag);
            lsk_tcheck_conv_bound(t, what, gdb, db_0, mdb_0, nb, t_bw);
            memcpy(gdx, dx0, nx * sizeof(float)); memcpy(gdw, dw0, nw * sizeof(float));
            memcpy(gdb, db0, nb * sizeof(float));
            RUN_CHECK(lsk_conv2d_bwd(&d, gdx, gdw, gdb, dy, x, w, 1, 1), "bwd acc=1 dx", gdx, dx_1, mdx_1, nx, t_bd);
            snprintf(what, sizeof what, "bwd acc=1 dw %s", tag);
            lsk_tcheck_conv_bound(t, what, gdw, dw_1, mdw_1, nw, t_bw);
            snprintf(what, sizeof what, "bwd acc=1 db %s", tag);
            lsk_tcheck_conv_bound(t, what, gdb, db_1, mdb_1, nb, t_bw);
            memcpy(gdx, dx0, nx * sizeof(float));
            RUN_CHECK(lsk_conv2d_bwd(&d, gdx, NULL, NULL, dy, x, w, 1, 0), "bwd dx only", gdx, dx_1, mdx_1, nx, t_bd);
            lsk_tfill_nan(gdw, nw);
            RUN_CHECK(lsk_conv2d_bwd(&d, NULL, gdw, NULL, dy, x, NULL, 0, 0), "bwd dw only", gdw, dw_0, mdw_0, nw, t_bw);
            /* db == NULL, and bitwise determinism for a fixed thread count. */
            lsk_tfill_nan(gdw2, nw);
            RUN_CHECK(lsk_conv2d_bwd_weight(&d, gdw2, NULL, dy, x, 0), "bwd_weight db=NULL", gdw2, dw_0, mdw_0, nw, t_bw);
            lsk_tfill_nan(gdw, nw);
            snprintf(what, sizeof what, "bwd_weight deterministic %s", tag);
            lsk_tcheck(t, lsk_conv2d_bwd_weight(&d, gdw, NULL, dy, x, 0) == LSK_OK &&
                              memcmp(gdw, gdw2, nw * sizeof(float)) == 0, what);
            /* Optionally the same bits with 1 and 2 threads (algorithms whose reduction
             * order does not depend on the thread count). */
            if (ti == 0) {
                memcpy(gdw1, gdw, nw * sizeof(float));
            } else if (bitwise_across_threads) {
                snprintf(what, sizeof what, "bwd_weight bitwise equal to 1 thread %s", tag);
                lsk_tcheck(t, memcmp(gdw, gdw1, nw * sizeof(float)) == 0, what);
            }
#undef RUN_CHECK
        }
    }
    lsk_set_num_threads(0);

    float *bufs[] = {x, w, b, dy, ax, aw, ab, ady, dx0, dw0, db0, adx0, adw0, adb0, y_b, y_n, my_b, my_n,
                     dx_0, dx_1, mdx_0, mdx_1, dw_0, dw_1, mdw_0, mdw_1, db_0, db_1, mdb_0, mdb_1,
                     gy, gdx, gdw, gdb, gdw2, gdw1, res, y_res, y_relu, my_r};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) lsk_tfree(bufs[i]);
}

