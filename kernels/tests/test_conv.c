/*
 * Tests for the conv family (include/lsk_conv.h): lsk_conv2d_fwd / bwd_data / bwd_weight
 * against the lsk_ref_conv2d_* oracles on every ISA path and 1 and 2 threads, over
 * kernels 1x1, 3x3, 5x5, 1x3, 3x2, strides 1/2/3 (also unequal), paddings 0..3, groups
 * 1/2/3 and depthwise, odd/prime sizes, batch 1..3, with and without bias, accumulate 0/1;
 * plus descriptor validation and batch 0.
 *
 * Tolerance (per element, declared here for the whole family): every output is a sum of
 * T products (T = cin_g*kh*kw for fwd, cout_g*kh*kw for bwd_data, batch*out_h*out_w for
 * bwd_weight) plus the bias and, with accumulate, the previous value. Floating-point
 * summation of T terms in ANY order (sequential, blocked GEMM, per-thread partials reduced
 * afterwards, FMA or not) errs by at most gamma_T * sum|term_i| ~= T * u * sum|term_i|
 * (Higham, Accuracy and Stability, ch. 3-4), u = FLT_EPSILON / 2. The test computes
 * sum|term_i| exactly by running the oracle on |x|, |w|, |dy| (and |bias|, |previous|),
 * and allows (T + 4) * FLT_EPSILON * that magnitude (2x the bound, + 4 for the bias,
 * the previous value and the final rounding). A wrong index, a missed tap or a missing
 * image changes an element by a whole term (~0.1..1 here), far above the bound
 * (~T * 1.2e-7 * T / 4), so the check cannot pass by accident; outputs start as NaN.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "harness.h"

typedef struct conv_case {
    size_t batch, cin, h, w, cout, kh, kw, sh, sw, ph, pw, groups;
} conv_case;

/* Fixed cases: every feature the brief asks for, at sizes that run quickly under qemu. */
static const conv_case k_cases[] = {
    /* batch cin  h   w cout kh kw sh sw ph pw groups */
    {2, 3, 7, 5, 4, 1, 1, 1, 1, 0, 0, 1},     /* 1x1: direct GEMM path, batched (small map) */
    {2, 3, 16, 17, 4, 1, 1, 1, 1, 0, 0, 1},   /* 1x1, one image per GEMM (>= 256 pixels) */
    {3, 4, 7, 5, 6, 1, 1, 2, 2, 0, 0, 1},     /* 1x1 stride 2: im2col + col2im */
    {2, 4, 5, 6, 6, 1, 1, 1, 1, 0, 0, 2},     /* 1x1, groups 2 */
    {3, 3, 7, 5, 13, 3, 3, 1, 1, 1, 1, 1},    /* 3x3 pad 1, prime sizes */
    {3, 3, 17, 16, 5, 3, 3, 1, 1, 1, 1, 1},   /* 3x3 pad 1, one image per GEMM */
    {1, 13, 9, 11, 5, 3, 3, 2, 2, 1, 1, 1},   /* 3x3 stride 2, batch 1 */
    {2, 4, 7, 5, 3, 5, 5, 1, 1, 2, 2, 1},     /* 5x5 pad 2 */
    {3, 2, 11, 13, 4, 5, 5, 3, 3, 2, 2, 1},   /* 5x5 stride 3 */
    {3, 5, 6, 7, 7, 1, 3, 1, 1, 0, 1, 1},     /* 1x3 */
    {2, 3, 9, 8, 4, 3, 2, 1, 2, 2, 0, 1},     /* 3x2, strides 1x2, pads 2x0 */
    {3, 4, 8, 8, 6, 3, 3, 1, 1, 1, 1, 2},     /* groups 2 */
    {2, 6, 9, 7, 9, 3, 3, 2, 1, 0, 1, 3},     /* groups 3, unequal stride */
    {3, 5, 7, 6, 5, 3, 3, 1, 1, 1, 1, 5},     /* depthwise */
    {2, 4, 8, 9, 4, 3, 3, 2, 2, 1, 1, 4},     /* depthwise stride 2 */
    {2, 3, 3, 4, 2, 3, 4, 1, 1, 0, 0, 1},     /* kernel == input: 1x1 output */
    {2, 3, 5, 5, 4, 3, 3, 1, 1, 2, 2, 1},     /* pad == kernel - 1 */
    {1, 2, 4, 5, 3, 3, 3, 1, 1, 3, 3, 1},     /* pad > kernel - 1: stride-1 col2im path */
    {3, 2, 2, 3, 3, 3, 3, 1, 1, 1, 1, 1},     /* image smaller than the kernel, padded */
    {1, 1, 3, 133, 2, 3, 3, 1, 1, 1, 1, 1},   /* wide rows: > 8 AVX-512 chunks per row */
    {1, 2, 2, 261, 1, 1, 3, 1, 1, 0, 1, 1},   /* wider than the AVX2 mask table: scalar */
    {1, 1, 128, 120, 2, 3, 3, 1, 1, 1, 1, 1}, /* columns > 512 KiB: bands of output rows */
    {1, 3, 97, 131, 2, 3, 3, 2, 1, 1, 1, 1},  /* bands of unequal height, stride 2x1 */
};

static size_t out_dim(size_t in, size_t k, size_t s, size_t p) { return (in + 2 * p - k) / s + 1; }

/* |got - want| <= (terms + 4) * FLT_EPSILON * mag elementwise (see the comment on top). */
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

static void run_case(lsk_tctx *t, const conv_case *c, int idx) {
    const lsk_conv2d_desc d = {c->batch, c->cin, c->h, c->w, c->cout, c->kh, c->kw,
                               c->sh, c->sw, c->ph, c->pw, c->groups};
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

    float *gy = lsk_talloc(ny), *gdx = lsk_talloc(nx), *gdw = lsk_talloc(nw), *gdb = lsk_talloc(nb);
    float *gdw2 = lsk_talloc(nw);
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
        if (lsk_tcheck(t, (call) == LSK_OK, what)) check_bound(t, what, got, want, mag, n, terms); \
    } while (0)
            fill_nan(gy, ny);
            RUN_CHECK(lsk_conv2d_fwd(&d, gy, x, w, b), "fwd+bias", gy, y_b, my_b, ny, t_fwd);
            fill_nan(gy, ny);
            RUN_CHECK(lsk_conv2d_fwd(&d, gy, x, w, NULL), "fwd", gy, y_n, my_n, ny, t_fwd);
            fill_nan(gdx, nx);
            RUN_CHECK(lsk_conv2d_bwd_data(&d, gdx, dy, w, 0), "bwd_data acc=0", gdx, dx_0, mdx_0, nx, t_bd);
            memcpy(gdx, dx0, nx * sizeof(float));
            RUN_CHECK(lsk_conv2d_bwd_data(&d, gdx, dy, w, 1), "bwd_data acc=1", gdx, dx_1, mdx_1, nx, t_bd);
            fill_nan(gdw, nw); fill_nan(gdb, nb);
            RUN_CHECK(lsk_conv2d_bwd_weight(&d, gdw, gdb, dy, x, 0), "bwd_weight acc=0 dw", gdw, dw_0, mdw_0, nw, t_bw);
            snprintf(what, sizeof what, "bwd_weight acc=0 db %s", tag);
            check_bound(t, what, gdb, db_0, mdb_0, nb, t_bw);
            memcpy(gdw, dw0, nw * sizeof(float)); memcpy(gdb, db0, nb * sizeof(float));
            RUN_CHECK(lsk_conv2d_bwd_weight(&d, gdw, gdb, dy, x, 1), "bwd_weight acc=1 dw", gdw, dw_1, mdw_1, nw, t_bw);
            snprintf(what, sizeof what, "bwd_weight acc=1 db %s", tag);
            check_bound(t, what, gdb, db_1, mdb_1, nb, t_bw);
            /* db == NULL, and bitwise determinism for a fixed thread count. */
            fill_nan(gdw2, nw);
            RUN_CHECK(lsk_conv2d_bwd_weight(&d, gdw2, NULL, dy, x, 0), "bwd_weight db=NULL", gdw2, dw_0, mdw_0, nw, t_bw);
            fill_nan(gdw, nw);
            snprintf(what, sizeof what, "bwd_weight deterministic %s", tag);
            lsk_tcheck(t, lsk_conv2d_bwd_weight(&d, gdw, NULL, dy, x, 0) == LSK_OK &&
                              memcmp(gdw, gdw2, nw * sizeof(float)) == 0, what);
#undef RUN_CHECK
        }
    }
    lsk_set_num_threads(0);

    float *bufs[] = {x, w, b, dy, ax, aw, ab, ady, dx0, dw0, db0, adx0, adw0, adb0, y_b, y_n, my_b, my_n,
                     dx_0, dx_1, mdx_0, mdx_1, dw_0, dw_1, mdw_0, mdw_1, db_0, db_1, mdb_0, mdb_1,
                     gy, gdx, gdw, gdb, gdw2};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) lsk_tfree(bufs[i]);
}

/* A random valid descriptor with small sizes. */
static conv_case random_case(lsk_tctx *t) {
    conv_case c;
    static const size_t k_groups[] = {1, 1, 1, 2, 3};
    c.groups = k_groups[lsk_trand_range(t, 0, 4)];
    c.cin = c.groups * lsk_trand_range(t, 1, 4);
    c.cout = c.groups * lsk_trand_range(t, 1, 4);
    c.batch = lsk_trand_range(t, 1, 3);
    c.kh = lsk_trand_range(t, 1, 5);
    c.kw = lsk_trand_range(t, 1, 5);
    c.sh = lsk_trand_range(t, 1, 3);
    c.sw = lsk_trand_range(t, 1, 3);
    c.ph = lsk_trand_range(t, 0, 2);
    c.pw = lsk_trand_range(t, 0, 2);
    c.h = lsk_trand_range(t, 1, 12);
    c.w = lsk_trand_range(t, 1, 12);
    if (c.h + 2 * c.ph < c.kh) c.h = c.kh;
    if (c.w + 2 * c.pw < c.kw) c.w = c.kw;
    return c;
}

/* Descriptor validation: every bad input is rejected and no output is touched. */
static void test_invalid(lsk_tctx *t) {
    const lsk_conv2d_desc good = {2, 4, 6, 6, 4, 3, 3, 1, 1, 1, 1, 2};
    float buf[2 * 4 * 6 * 6];
    for (size_t i = 0; i < sizeof buf / sizeof buf[0]; i++) buf[i] = 0.5f;
    float out[2 * 4 * 6 * 6];
    size_t ho = 7, wo = 7;
    struct { const char *name; lsk_conv2d_desc d; } bad[8];
    int nbad = 0;
#define BAD(label, field, value) do { bad[nbad].name = label; bad[nbad].d = good; bad[nbad].d.field = value; nbad++; } while (0)
    BAD("zero stride_h", stride_h, 0);
    BAD("zero stride_w", stride_w, 0);
    BAD("in_channels not divisible by groups", groups, 3);
    BAD("zero groups", groups, 0);
    BAD("kernel taller than padded input", kernel_h, 9);
    BAD("zero in_channels", in_channels, 0);
    BAD("zero kernel_w", kernel_w, 0);
    BAD("padding overflows", pad_w, (size_t)-1 / 2 + 1);
#undef BAD
    char what[160];
    for (int i = 0; i < nbad; i++) {
        for (size_t j = 0; j < sizeof out / sizeof out[0]; j++) out[j] = 1.25f;
        const lsk_conv2d_desc *d = &bad[i].d;
        int rejected = lsk_conv2d_output_size(d, &ho, &wo) == LSK_ERR_INVALID_ARGUMENT && ho == 7 && wo == 7;
        rejected = rejected && lsk_conv2d_fwd(d, out, buf, buf, buf) == LSK_ERR_INVALID_ARGUMENT;
        rejected = rejected && lsk_conv2d_bwd_data(d, out, buf, buf, 0) == LSK_ERR_INVALID_ARGUMENT;
        rejected = rejected && lsk_conv2d_bwd_weight(d, out, out, buf, buf, 0) == LSK_ERR_INVALID_ARGUMENT;
        rejected = rejected && lsk_ref_conv2d_fwd(d, out, buf, buf, buf) == LSK_ERR_INVALID_ARGUMENT;
        int untouched = 1;
        for (size_t j = 0; j < sizeof out / sizeof out[0]; j++) untouched &= out[j] == 1.25f;
        snprintf(what, sizeof what, "rejects %s", bad[i].name);
        lsk_tcheck(t, rejected && untouched, what);
    }
    {
        lsk_conv2d_desc d = good;
        d.out_channels = 5; /* out_channels not divisible by groups */
        lsk_tcheck(t, lsk_conv2d_fwd(&d, out, buf, buf, NULL) == LSK_ERR_INVALID_ARGUMENT,
                   "rejects out_channels not divisible by groups");
    }
    lsk_tcheck(t, lsk_conv2d_output_size(NULL, &ho, &wo) == LSK_ERR_INVALID_ARGUMENT, "rejects NULL descriptor");
    lsk_tcheck(t, lsk_conv2d_output_size(&good, NULL, &wo) == LSK_ERR_INVALID_ARGUMENT, "rejects NULL out_height");
    lsk_tcheck(t, lsk_conv2d_fwd(NULL, out, buf, buf, NULL) == LSK_ERR_INVALID_ARGUMENT, "fwd rejects NULL descriptor");
    lsk_tcheck(t, lsk_conv2d_fwd(&good, NULL, buf, buf, NULL) == LSK_ERR_INVALID_ARGUMENT, "fwd rejects NULL y");
    lsk_tcheck(t, lsk_conv2d_fwd(&good, out, NULL, buf, NULL) == LSK_ERR_INVALID_ARGUMENT, "fwd rejects NULL x");
    lsk_tcheck(t, lsk_conv2d_fwd(&good, out, buf, NULL, NULL) == LSK_ERR_INVALID_ARGUMENT, "fwd rejects NULL w");
    lsk_tcheck(t, lsk_conv2d_bwd_data(&good, NULL, buf, buf, 0) == LSK_ERR_INVALID_ARGUMENT, "bwd_data rejects NULL dx");
    lsk_tcheck(t, lsk_conv2d_bwd_data(&good, out, NULL, buf, 0) == LSK_ERR_INVALID_ARGUMENT, "bwd_data rejects NULL dy");
    lsk_tcheck(t, lsk_conv2d_bwd_data(&good, out, buf, NULL, 0) == LSK_ERR_INVALID_ARGUMENT, "bwd_data rejects NULL w");
    lsk_tcheck(t, lsk_conv2d_bwd_weight(&good, NULL, out, buf, buf, 0) == LSK_ERR_INVALID_ARGUMENT,
               "bwd_weight rejects NULL dw");
    lsk_tcheck(t, lsk_conv2d_bwd_weight(&good, out, out, NULL, buf, 0) == LSK_ERR_INVALID_ARGUMENT,
               "bwd_weight rejects NULL dy");
    lsk_tcheck(t, lsk_conv2d_bwd_weight(&good, out, out, buf, NULL, 0) == LSK_ERR_INVALID_ARGUMENT,
               "bwd_weight rejects NULL x");
    lsk_tcheck(t, lsk_conv2d_output_size(&good, &ho, &wo) == LSK_OK && ho == 6 && wo == 6, "valid descriptor accepted");

    /* Batch 0: nothing to compute; the weight gradient of an empty batch is zero. */
    lsk_conv2d_desc d0 = good;
    d0.batch = 0;
    for (size_t j = 0; j < sizeof out / sizeof out[0]; j++) out[j] = 1.25f;
    lsk_tcheck(t, lsk_conv2d_fwd(&d0, out, buf, buf, buf) == LSK_OK && out[0] == 1.25f, "batch 0 fwd is a no-op");
    float dw[4 * 2 * 3 * 3], db[4];
    for (size_t j = 0; j < sizeof dw / sizeof dw[0]; j++) dw[j] = 1.0f;
    for (size_t j = 0; j < 4; j++) db[j] = 1.0f;
    int zero = lsk_conv2d_bwd_weight(&d0, dw, db, buf, buf, 0) == LSK_OK;
    for (size_t j = 0; j < sizeof dw / sizeof dw[0]; j++) zero &= dw[j] == 0.0f;
    for (size_t j = 0; j < 4; j++) zero &= db[j] == 0.0f;
    lsk_tcheck(t, zero, "batch 0 bwd_weight acc=0 zeroes dw and db");
}

void lsk_test_conv(lsk_tctx *t) {
    test_invalid(t);
    const int nfixed = (int)(sizeof k_cases / sizeof k_cases[0]);
    for (int i = 0; i < nfixed; i++) run_case(t, &k_cases[i], i);
    for (int i = 0; i < 8; i++) {
        const conv_case c = random_case(t);
        run_case(t, &c, nfixed + i);
    }
}
