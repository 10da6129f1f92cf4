/*
 * Convolution as im2col + lsk_sgemm (portable C operator code: work split over images,
 * workspaces, OpenMP). The arithmetic runs in lsk_sgemm's per-ISA microkernels; im2col
 * uses the conv config's per-ISA kernel (kernels/conv/conv-config.c).
 *
 * Per image n and group g (K = cin_g*kh*kw, HW = out_h*out_w, col = im2col(x[n,g]) [K, HW]):
 *   fwd:        y[n,g] [cout_g, HW] = W[g] [cout_g, K] x col                (+ b)
 *   bwd_data:   stride 1 ("transposed"): dx[n,g] [cin_g, HWin] = W'[g] [cin_g, cout_g*kh*kw]
 *                 x col'(dy[n,g]): W' is the flipped, channel-transposed kernel and col' the
 *                 im2col of dy with padding k-1-p. A forward convolution: no scatter.
 *               else: col [K, HW] = W[g]^T x dy[n,g], then col2im (scatter-add) into dx.
 *   bwd_weight: dW[g]^T [K, cout_g] += col x dy[n,g]^T, summed over n. This orientation
 *               (M = K, N = cout_g) reads col row by row; dW[g] = dy x col^T would make the
 *               GEMM pack col transposed, 2.5x slower per image (docs/conv.md).
 *               db[c] = sum over n and pixels of dy[n,c].
 * 1x1 stride-1 unpadded layers use the images themselves as column matrices.
 *
 * One image per GEMM call: measured on Zen 5, lsk_sgemm runs the per-image products of the
 * training shapes (N = HW = 64..1024) at 200-217 GFLOP/s, and batching several images of an
 * 8x8 map side by side into one wider GEMM gained nothing (docs/conv.md), so it was dropped.
 *
 * Threads: OpenMP over (image, group) items; lsk_sgemm then runs single-threaded inside the
 * region. The forward pass with fewer (image, group) pairs than threads (batch-1 inference)
 * cuts each pair's output into `parts` ranges of rows (1x1: of channels), one item each, so
 * that every thread runs its own im2col, GEMM and epilogue in one region (letting lsk_sgemm
 * thread a whole-map GEMM left im2col, the bias rows and the epilogue on one thread and
 * opened a region per band). Other passes with fewer items than threads run them one after
 * another and lsk_sgemm threads itself. Per-thread workspace (columns) comes from
 * lsk_scratch(LSK_SCRATCH_CONV_COL); buffers shared by the threads of one call (per-thread
 * partial weight gradients, the transposed kernel) come from the calling thread's
 * lsk_scratch(LSK_SCRATCH_CONV_AUX).
 */
#include <string.h>
#include "../conv/conv-internal.h"
#include "../eltwise/eltwise-ukernels.h"
#include "../../include/lsk_gemm.h"

/* Floats rounded up to a whole cache line, so per-thread sections stay 64-byte aligned. */
static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

/* Bytes of im2col columns per GEMM call: a large map is cut into bands of output rows so
 * that its columns stay in L2 between im2col and the GEMM (and the GEMM streams them from
 * L2). Measured: docs/conv.md. Overridable at build time for experiments. */
#ifndef LSK_CONV_COL_CHUNK_BYTES
#define LSK_CONV_COL_CHUNK_BYTES (1024u * 1024u)
#endif

/* Output rows per band for k column rows of wo floats: bands of equal height. */
static size_t band_rows(size_t k, size_t ho, size_t wo) {
    const size_t row_bytes = k * wo * sizeof(float);
    if (row_bytes == 0 || row_bytes * ho <= LSK_CONV_COL_CHUNK_BYTES) return ho;
    size_t bands = (row_bytes * ho + LSK_CONV_COL_CHUNK_BYTES - 1) / LSK_CONV_COL_CHUNK_BYTES;
    if (bands > ho) bands = ho;
    return (ho + bands - 1) / bands;
}

/* Asks for the next item's input while this one computes: images are read from memory
 * (a batch does not fit in L2) and im2col would otherwise wait on every line. */
static void prefetch_read(const float *p, size_t floats) {
#if defined(__GNUC__) || defined(__clang__)
    const char *c = (const char *)p;
    for (size_t off = 0; off < floats * sizeof(float); off += 64) __builtin_prefetch(c + off, 0, 2);
#else
    (void)p;
    (void)floats;
#endif
}


static int thread_id(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

static int team_size(void) {
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}

/* Deterministic sum of one row, in 16 independent lanes (vectorisable, no -ffast-math). */
float lsk_conv_row_sum(const float *p, size_t n) {
    float acc[16] = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int l = 0; l < 16; l++) acc[l] += p[i + l];
    float s = 0.0f;
    for (; i < n; i++) s += p[i];
    for (int l = 0; l < 16; l++) s += acc[l];
    return s;
}

void lsk_conv_epilogue_apply(const lsk_conv_epilogue *ep, float *y, size_t offset, size_t n) {
    if (!ep || n == 0 || (!ep->residual && !ep->relu)) return;
    const lsk_eltwise_ukernels *uk = lsk_eltwise_ukernels_for(lsk_active_isa());
    if (ep->residual) uk->add(n, y + offset, ep->residual + offset, y + offset);
    if (ep->relu) uk->relu(n, y + offset, y + offset);
}

lsk_status lsk_conv_run_items(size_t items, size_t ws_bytes, lsk_conv_item_fn fn, const void *ctx) {
    const int nt = lsk_region_threads();
    if (nt <= 1 || items < (size_t)nt) {
        float *ws = (float *)lsk_scratch(LSK_SCRATCH_CONV_COL, ws_bytes);
        if (!ws) return LSK_ERR_OUT_OF_MEMORY;
        for (size_t it = 0; it < items; it++) {
            const lsk_status s = fn(ctx, it, ws);
            if (s != LSK_OK) return s;
        }
        return LSK_OK;
    }
    lsk_status status = LSK_OK;
    int oom = 0; /* written only before the barrier, so every thread reads the same value */
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
#endif
    {
        float *ws = (float *)lsk_scratch(LSK_SCRATCH_CONV_COL, ws_bytes);
        if (!ws) {
#ifdef _OPENMP
#pragma omp atomic write
#endif
            oom = 1;
        }
#ifdef _OPENMP
#pragma omp barrier
#endif
        if (!oom) { /* all threads or none meet the worksharing loop */
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
            for (size_t it = 0; it < items; it++) lsk_note_status(&status, fn(ctx, it, ws));
        }
    }
    return oom ? LSK_ERR_OUT_OF_MEMORY : status;
}

/* lsk_conv_run_items with ws_floats floats of workspace per thread. */
static lsk_status run_items(size_t items, size_t ws_floats, lsk_conv_item_fn fn, const void *ctx) {
    size_t ws_bytes;
    if (!lsk_mul_ok(ws_floats ? ws_floats : 1, sizeof(float), &ws_bytes)) return LSK_ERR_OUT_OF_MEMORY;
    return lsk_conv_run_items(items, ws_bytes, fn, ctx);
}

/* ------------------------------------------------------------------------------------- */
/* A forward-shaped problem: the forward pass, and bwd_data through the transposed kernel. */

typedef struct fwd_problem {
    size_t batch, groups;
    size_t cin, cin_g, h, w;      /* input [batch, cin, h, w] */
    size_t cout, cout_g, ho, wo;  /* output [batch, cout, ho, wo] */
    size_t kh, kw, sh, sw, ph, pw;
    size_t k;                     /* cin_g * kh * kw */
    int direct;                   /* 1x1, stride 1, pad 0: the image is its own column matrix */
    int accumulate;               /* 1: y += conv */
    size_t band;                  /* output rows per im2col + GEMM step */
    size_t parts;                 /* items per (image, group): row (1x1: channel) ranges */
    const lsk_conv_epilogue *ep;  /* fused residual add / ReLU, or NULL */
    const float *x;               /* [batch, cin, h, w] */
    const float *wt;              /* [groups, cout_g, k] */
    const float *b;               /* [cout] or NULL */
    float *y;                     /* [batch, cout, ho, wo] */
    lsk_f32_im2col_fn im2col;
} fwd_problem;

static lsk_status fwd_item(const void *ctx, size_t item, float *ws) {
    const fwd_problem *p = (const fwd_problem *)ctx;
    const size_t part = item % p->parts, pair = item / p->parts;
    const size_t grp = pair % p->groups, n = pair / p->groups;
    const size_t hwi = p->h * p->w, hwo = p->ho * p->wo;
    const float *wg = p->wt + grp * p->cout_g * p->k;
    const float *xg = p->x + (n * p->cin + grp * p->cin_g) * hwi;
    const size_t y0 = (n * p->cout + grp * p->cout_g) * hwo; /* offset of this pair's output */
    float *yg = p->y + y0;
    if (p->parts == 1 && pair + 1 < p->batch * p->groups) {
        const size_t gn = (pair + 1) % p->groups, nn = (pair + 1) / p->groups;
        prefetch_read(p->x + (nn * p->cin + gn * p->cin_g) * hwi, p->cin_g * hwi);
    }
    /* This item's output: channels [c0, c1), pixels [q0, q1) of each plane (rows [r0, r1)).
     * 1x1 splits the channels (whole pixel rows keep the GEMM's widest tile: at 8x8, a pixel
     * split left 32-column tiles), in multiples of 8 channels; im2col splits output rows, so
     * that each thread builds only its own columns. */
    size_t c0 = 0, c1 = p->cout_g, r0 = 0, r1 = p->ho, q0 = 0, q1 = hwo;
    if (p->direct) {
        c0 = p->cout_g * part / p->parts / 8 * 8;
        c1 = part + 1 == p->parts ? p->cout_g : p->cout_g * (part + 1) / p->parts / 8 * 8;
    } else {
        r0 = p->ho * part / p->parts;
        r1 = p->ho * (part + 1) / p->parts;
        q0 = r0 * p->wo;
        q1 = r1 * p->wo;
    }
    if (q1 <= q0 || c1 <= c0) return LSK_OK;
    wg += c0 * p->k;
    yg += c0 * hwo;
    const size_t ch = c1 - c0, yc = y0 + c0 * hwo; /* channels of this item, offset of its first */
    /* Bias rows first, then the GEMM adds onto them (beta = 1). */
    float beta = p->accumulate ? 1.0f : 0.0f;
    if (p->b) {
        const float *bg = p->b + grp * p->cout_g + c0;
        for (size_t co = 0; co < ch; co++) {
            float *r = yg + co * hwo;
            const float bv = bg[co];
            if (p->accumulate) for (size_t q = q0; q < q1; q++) r[q] += bv;
            else for (size_t q = q0; q < q1; q++) r[q] = bv;
        }
        beta = 1.0f;
    }
    if (p->direct) {
        const lsk_status s = lsk_sgemm(LSK_NO_TRANS, LSK_NO_TRANS, ch, hwo, p->k, 1.0f, wg, p->k, xg, hwo, beta, yg, hwo);
        if (s == LSK_OK) lsk_conv_epilogue_apply(p->ep, p->y, yc, ch * hwo); /* whole planes: one range */
        return s;
    }
    /* Bands of output rows: y[:, band] (row stride hwo) = W x col(band), then the epilogue on
     * the band while it is in cache. */
    for (size_t oh0 = r0; oh0 < r1; oh0 += p->band) {
        const size_t oh1 = LSK_MIN(oh0 + p->band, r1), px = (oh1 - oh0) * p->wo;
        p->im2col(ws, px, xg, p->cin_g, p->h, p->w, p->kh, p->kw, p->sh, p->sw, p->ph, p->pw, oh0, oh1, p->wo);
        const lsk_status s = lsk_sgemm(LSK_NO_TRANS, LSK_NO_TRANS, ch, px, p->k, 1.0f, wg, p->k, ws, px, beta,
                                       yg + oh0 * p->wo, hwo);
        if (s != LSK_OK) return s;
        if (px == hwo) lsk_conv_epilogue_apply(p->ep, p->y, yc, ch * hwo);
        else for (size_t co = 0; co < ch; co++) lsk_conv_epilogue_apply(p->ep, p->y, yc + co * hwo + oh0 * p->wo, px);
    }
    return LSK_OK;
}

static lsk_status fwd_run(const fwd_problem *p) {
    return run_items(p->batch * p->groups * p->parts, p->direct ? 0 : p->k * p->band * p->wo, fwd_item, p);
}

/* Below this many FMAs a forward pass with fewer (image, group) pairs than threads stays on
 * one thread: the same limit as lsk_sgemm's (a region costs 1.5-4 us on Zen 5). */
#define LSK_CONV_SPLIT_MIN_FMAS (512.0 * 1024.0)

/* Items per (image, group) pair of a forward pass: 1, or, with fewer pairs than threads and
 * enough work, enough ranges for every thread (at least one row, or 8 channels for 1x1). */
static size_t fwd_parts(const lsk_conv_geom *g, int direct) {
    const lsk_conv2d_desc *d = &g->d;
    const size_t pairs = d->batch * d->groups, nt = (size_t)lsk_region_threads();
    const double fmas = (double)d->batch * (double)d->out_channels * (double)g->hw_out * (double)g->k;
    if (nt <= 1 || pairs >= nt || fmas < LSK_CONV_SPLIT_MIN_FMAS) return 1;
    const size_t parts = (nt + pairs - 1) / pairs, most = direct ? g->cout_g / 8 : g->ho;
    return LSK_MAX(1, LSK_MIN(parts, most));
}

lsk_status lsk_conv_gemm_fwd(const lsk_conv_geom *g, lsk_conv_algo algo, float *y, const float *x, const float *w,
                             const float *b, const lsk_conv_epilogue *ep) {
    const lsk_conv2d_desc *d = &g->d;
    const int direct = algo == LSK_CONV_ALGO_GEMM_1X1;
    const fwd_problem p = {
        d->batch, d->groups, d->in_channels, g->cin_g, d->in_height, d->in_width,
        d->out_channels, g->cout_g, g->ho, g->wo,
        d->kernel_h, d->kernel_w, d->stride_h, d->stride_w, d->pad_h, d->pad_w,
        g->k, direct, 0, band_rows(g->k, g->ho, g->wo), fwd_parts(g, direct), ep, x, w, b, y,
        lsk_conv_get_config(lsk_active_isa())->im2col};
    return fwd_run(&p);
}

/* ------------------------------------------------------------------------------------- */
/* bwd_data */

typedef struct col2im_problem {
    const lsk_conv_geom *g;
    float *dx;
    const float *dy, *w;
    int accumulate;
} col2im_problem;

/* One (image, group) item of the GEMM + col2im path. ws: k * hw_out floats. */
static lsk_status bwd_data_col2im_item(const void *ctx, size_t item, float *ws) {
    const col2im_problem *p = (const col2im_problem *)ctx;
    const lsk_conv_geom *g = p->g;
    const lsk_conv2d_desc *d = &g->d;
    const size_t grp = item % d->groups, n = item / d->groups;
    const float *wg = p->w + grp * g->cout_g * g->k;
    const float *dyg = p->dy + (n * d->out_channels + grp * g->cout_g) * g->hw_out;
    float *dxg = p->dx + (n * d->in_channels + grp * g->cin_g) * g->hw_in;
    const lsk_status s = lsk_sgemm(LSK_TRANS, LSK_NO_TRANS, g->k, g->hw_out, g->cout_g, 1.0f, wg, g->k, dyg,
                                   g->hw_out, 0.0f, ws, g->hw_out);
    if (s != LSK_OK) return s;
    if (!p->accumulate) memset(dxg, 0, g->cin_g * g->hw_in * sizeof(float));
    lsk_f32_col2im_acc_ukernel__scalar(dxg, ws, g->hw_out, g->cin_g, d->in_height, d->in_width, d->kernel_h,
                                       d->kernel_w, d->stride_h, d->stride_w, d->pad_h, d->pad_w, g->ho, g->wo);
    return LSK_OK;
}

lsk_status lsk_conv_gemm_bwd_data(const lsk_conv_geom *g, lsk_conv_algo algo, float *dx, const float *dy,
                                  const float *w, int accumulate) {
    const lsk_conv2d_desc *d = &g->d;
    if (algo == LSK_CONV_ALGO_IM2COL_GEMM) {
        const col2im_problem p = {g, dx, dy, w, accumulate};
        return run_items(d->batch * d->groups, g->k * g->hw_out, bwd_data_col2im_item, &p);
    }
    /* Transposed kernel W'[g][ci][co][kh-1-i][kw-1-j] = w[g*cout_g + co][ci][i][j], shared by
     * the threads: [groups, cin_g, cout_g*kh*kw] in the calling thread's AUX scratch. */
    size_t wt_bytes;
    if (!lsk_mul_ok(g->w_size, sizeof(float), &wt_bytes)) return LSK_ERR_OUT_OF_MEMORY;
    float *wt = (float *)lsk_scratch(LSK_SCRATCH_CONV_AUX, wt_bytes);
    if (!wt) return LSK_ERR_OUT_OF_MEMORY;
    const size_t kh = d->kernel_h, kw = d->kernel_w, kk = g->kk, kt = g->cout_g * kk;
    for (size_t grp = 0; grp < d->groups; grp++)
        for (size_t co = 0; co < g->cout_g; co++)
            for (size_t ci = 0; ci < g->cin_g; ci++) {
                const float *src = w + ((grp * g->cout_g + co) * g->cin_g + ci) * kk;
                float *dst = wt + (grp * g->cin_g + ci) * kt + co * kk;
                for (size_t t = 0; t < kk; t++) dst[kk - 1 - t] = src[t]; /* flip both axes */
            }
    const fwd_problem p = {
        d->batch, d->groups, d->out_channels, g->cout_g, g->ho, g->wo,
        d->in_channels, g->cin_g, d->in_height, d->in_width,
        kh, kw, 1, 1, kh - 1 - d->pad_h, kw - 1 - d->pad_w,
        kt, algo == LSK_CONV_ALGO_GEMM_1X1, accumulate, band_rows(kt, d->in_height, d->in_width), 1, NULL, dy, wt,
        NULL, dx,
        lsk_conv_get_config(lsk_active_isa())->im2col};
    return fwd_run(&p);
}

/* ------------------------------------------------------------------------------------- */
/* bwd_weight */

/* Transposed weight gradient of images [n_begin, n_end) into dwt [groups, k, cout_g]
 * (dW[g]^T per group) and dbt [out_channels] (or NULL). overwrite: the first image
 * replaces dwt/dbt instead of adding. ws: k * band * out_w floats (unused for 1x1). */
static lsk_status bwd_weight_range(const lsk_conv_geom *g, int direct, lsk_f32_im2col_fn im2col, size_t band,
                                   size_t n_begin, size_t n_end, float *dwt, float *dbt, int overwrite, float *ws, const float *dy,
                                   const float *x) {
    const lsk_conv2d_desc *d = &g->d;
    const size_t hwi = g->hw_in, hwo = g->hw_out;
    for (size_t n = n_begin; n < n_end; n++) {
        const float beta = (overwrite && n == n_begin) ? 0.0f : 1.0f;
        for (size_t grp = 0; grp < d->groups; grp++) {
            const float *xg = x + (n * d->in_channels + grp * g->cin_g) * hwi;
            const float *dyg = dy + (n * d->out_channels + grp * g->cout_g) * hwo;
            if (n + 1 < n_end) {
                prefetch_read(xg + d->in_channels * hwi, g->cin_g * hwi);
                prefetch_read(dyg + d->out_channels * hwo, g->cout_g * hwo);
            }
            float *dwg = dwt + grp * g->k * g->cout_g;
            lsk_status s;
            if (direct) { /* dW[g]^T [k, cout_g] (+)= x[n,g] [k, hwo] x dy[n,g]^T */
                s = lsk_sgemm(LSK_NO_TRANS, LSK_TRANS, g->k, g->cout_g, hwo, 1.0f, xg, hwo, dyg, hwo, beta, dwg,
                              g->cout_g);
                if (s != LSK_OK) return s;
            }
            /* Bands of output rows: dW[g]^T (+)= col(band) [k, px] x dy[n,g][:, band]^T */
            for (size_t oh0 = 0; !direct && oh0 < g->ho; oh0 += band) {
                const size_t oh1 = LSK_MIN(oh0 + band, g->ho), px = (oh1 - oh0) * g->wo;
                im2col(ws, px, xg, g->cin_g, d->in_height, d->in_width, d->kernel_h, d->kernel_w, d->stride_h,
                       d->stride_w, d->pad_h, d->pad_w, oh0, oh1, g->wo);
                s = lsk_sgemm(LSK_NO_TRANS, LSK_TRANS, g->k, g->cout_g, px, 1.0f, ws, px, dyg + oh0 * g->wo, hwo,
                              oh0 == 0 ? beta : 1.0f, dwg, g->cout_g);
                if (s != LSK_OK) return s;
            }
            if (dbt) {
                for (size_t co = 0; co < g->cout_g; co++) {
                    const float sum = lsk_conv_row_sum(dyg + co * hwo, hwo);
                    float *dst = dbt + grp * g->cout_g + co;
                    *dst = beta == 0.0f ? sum : *dst + sum;
                }
            }
        }
    }
    return LSK_OK;
}

lsk_status lsk_conv_gemm_bwd_weight(const lsk_conv_geom *g, lsk_conv_algo algo, float *dw, float *db,
                                    const float *dy, const float *x, int accumulate) {
    const lsk_conv2d_desc *d = &g->d;
    const int direct = algo == LSK_CONV_ALGO_GEMM_1X1;
    const lsk_f32_im2col_fn im2col = lsk_conv_get_config(lsk_active_isa())->im2col;
    const size_t band = band_rows(g->k, g->ho, g->wo);
    const size_t ws_floats = direct ? 1 : g->k * band * g->wo;
    size_t ws_bytes;
    if (!lsk_mul_ok(ws_floats, sizeof(float), &ws_bytes)) return LSK_ERR_OUT_OF_MEMORY;
    int nt = lsk_region_threads();
    if ((size_t)nt > d->batch) nt = (int)d->batch;
    /* Partial (transposed) gradients [nt][w_size + out_channels], one per thread, reduced in
     * thread order afterwards: deterministic for a given thread count. With one thread (or
     * batch 1) the single partial is filled serially and lsk_sgemm may use the threads. */
    const size_t stride = round16(g->w_size + d->out_channels);
    size_t part_bytes;
    if (!lsk_mul_ok(stride, (size_t)(nt > 1 ? nt : 1), &part_bytes) || !lsk_mul_ok(part_bytes, sizeof(float), &part_bytes))
        return LSK_ERR_OUT_OF_MEMORY;
    float *part = (float *)lsk_scratch(LSK_SCRATCH_CONV_AUX, part_bytes);
    if (!part) return LSK_ERR_OUT_OF_MEMORY;
    lsk_status status = LSK_OK;
    int used = 1;
    if (nt <= 1) {
        float *ws = (float *)lsk_scratch(LSK_SCRATCH_CONV_COL, ws_bytes);
        if (!ws) return LSK_ERR_OUT_OF_MEMORY;
        status = bwd_weight_range(g, direct, im2col, band, 0, d->batch, part, db ? part + g->w_size : NULL, 1, ws, dy, x);
    } else {
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
#endif
        {
            const int t = thread_id(), team = team_size();
            if (t == 0) used = team;
            float *ws = (float *)lsk_scratch(LSK_SCRATCH_CONV_COL, ws_bytes);
            float *pt = part + (size_t)t * stride;
            const size_t n_begin = d->batch * (size_t)t / (size_t)team;
            const size_t n_end = d->batch * (size_t)(t + 1) / (size_t)team;
            if (!ws) lsk_note_status(&status, LSK_ERR_OUT_OF_MEMORY);
            else if (n_begin == n_end) memset(pt, 0, stride * sizeof(float)); /* not with nt <= batch */
            else lsk_note_status(&status, bwd_weight_range(g, direct, im2col, band, n_begin, n_end, pt,
                                                       db ? pt + g->w_size : NULL, 1, ws, dy, x));
        }
    }
    if (status != LSK_OK) return status;
    /* dw[g][co][kidx] = (accumulate ? dw : 0) + part_0[g][kidx][co] + part_1[g][kidx][co] + ...
     * (in this order): transpose each group's [k, cout_g] block back while reducing. */
    const size_t k = g->k, cog = g->cout_g;
    for (size_t grp = 0; grp < d->groups; grp++) {
        float *dwg = dw + grp * cog * k;
        for (size_t co = 0; co < cog; co++) {
            float *dst = dwg + co * k;
            const float *src = part + grp * k * cog + co;
            for (size_t i = 0; i < k; i++) dst[i] = accumulate ? dst[i] + src[i * cog] : src[i * cog];
            for (int t = 1; t < used; t++) {
                const float *st = src + (size_t)t * stride;
                for (size_t i = 0; i < k; i++) dst[i] += st[i * cog];
            }
        }
    }
    if (db) {
        const float *src = part + g->w_size;
        for (size_t c = 0; c < d->out_channels; c++) db[c] = accumulate ? db[c] + src[c] : src[c];
        for (int t = 1; t < used; t++)
            for (size_t c = 0; c < d->out_channels; c++) db[c] += src[(size_t)t * stride + c];
    }
    return LSK_OK;
}
