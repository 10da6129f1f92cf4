/*
 * Direct depthwise convolution (groups == in_channels == out_channels, square 3x3 or 5x5
 * kernel, stride 1 or 2, padding <= kernel - 1): the LSK_CONV_ALGO_DEPTHWISE_DIRECT
 * algorithm of lsk_conv2d_fwd / bwd_data / bwd_weight. Portable C operator code: plane
 * packing, tap lists, OpenMP; the arithmetic runs in the per-ISA microkernels of
 * kernels/dwconv/ (contracts: dwconv-internal.h). Design notes: docs/conv.md, "Depthwise".
 *
 * 3x3 with padding 1 (stride 1 or 2) runs the row kernels on the dense planes in place
 * (row_fwd, row_bwd below; row_bwd also serves lsk_conv2d_bwd with both gradients in one
 * pass). Every other geometry runs the flat kernels described here, which work on one
 * (image, channel) plane at a time in per-thread scratch:
 *
 *  fwd:  the plane is copied into a zero-padded buffer with row pitch L (stride 2: split
 *        into its s*s (row parity, column parity) phase planes, so that every tap reads
 *        unit-stride). Output (oh, ow) lives at flat index q = oh*L + ow, and tap (i, j)
 *        reads phase plane (i%s, j%s) at q + (i/s)*L + j/s: the whole plane is one flat
 *        multiply-add of k*k shifted runs (axpy microkernel), columns ow >= wo being
 *        scratch lanes that are never stored. The bias is the sum's initial value.
 *  bwd_data: dx_pad (the gradient of the padded input) split into its s*s phase planes:
 *        dx_pad[s*u+a][s*c+b] = sum_{al,be} w[a+s*al][b+s*be] * dy[u-al][c-be], so each
 *        phase plane is again a flat axpy over dy, zero-padded by (k-1)/s rows and columns
 *        on the top and left (stride 1: one phase, the flipped-kernel convolution). dx is
 *        cropped out of dx_pad, interleaving the two column phases for stride 2.
 *  bwd_weight: dw[i][j] = sum over images and q of dy_flat[q] * x_phase(i%s,j%s)[q + off]
 *        with dy copied at pitch L (zeros in the scratch lanes): k*k dot products per plane
 *        (dot microkernel), which also sums the plane for db.
 *
 * The zero padding of the packed buffers is written once per call and thread (the data of
 * every plane lands on the same positions), so a plane costs one copy in, the arithmetic
 * and one copy out.
 *
 * Scratch lanes multiply real data by zero dy (bwd_weight) or are dropped (fwd, bwd_data),
 * so results match the definition for finite inputs; an Inf in a column no output reads
 * could still turn a weight gradient into NaN here (0 * Inf), unlike the reference.
 *
 * Threads: fwd / bwd_data give each thread a contiguous range of (image, channel) planes,
 * run in small groups (group_planes). bwd_weight
 * gives each thread a contiguous block of channels and runs the images in order for each,
 * so every dw / db element is summed in the same order whatever the thread count: bitwise
 * identical results for any number of threads (no partials to reduce).
 */
#include <string.h>
#include "../dwconv/dwconv-internal.h"

/* ------------------------------------------------------------------------------------- */
/* 3x3, pad 1 (stride 1 or 2): the row kernels read the dense planes in place.            */

static int row_path(const lsk_conv_geom *g) {
    const lsk_conv2d_desc *d = &g->d;
    return d->kernel_h == 3 && d->kernel_w == 3 && d->pad_h == 1 && d->pad_w == 1 && d->stride_h == d->stride_w &&
           (d->stride_h == 1 || d->stride_h == 2);
}

/* Forward: thread t takes the contiguous range of (image, channel) planes
 * [planes*t/T, planes*(t+1)/T). */
static lsk_status row_fwd(const lsk_conv_geom *g, float *y, const float *x, const float *w, const float *b,
                          const lsk_conv_epilogue *ep) {
    const lsk_conv2d_desc *d = &g->d;
    const size_t planes = d->batch * d->in_channels, C = d->in_channels, h = d->in_height, wd = d->in_width;
    const size_t hw = g->hw_in, hwo = g->hw_out;
    const lsk_dwconv3x3_ukernels *uk = lsk_dwconv3x3_get_config(lsk_active_isa(), g->wo);
    /* no streaming stores when the epilogue reads the plane back right away */
    const int flags = !ep && planes * hwo * sizeof(float) >= LSK_DWCONV_NT_MIN_BYTES ? LSK_DW3_STREAM : 0;
    int nt = lsk_region_threads();
    if ((size_t)nt > planes) nt = (int)planes;
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        size_t t, team;
        lsk_thread_slot(&t, &team);
        for (size_t p = planes * t / team; p < planes * (t + 1) / team; p++) {
            const size_t c = p % C, readable = (planes - p) * hw;
            if (d->stride_h == 1) uk->s1(h, wd, readable, x + p * hw, w + c * 9, b ? b[c] : 0.0f, flags, y + p * hwo);
            else uk->s2(h, wd, readable, x + p * hw, w + c * 9, b ? b[c] : 0.0f, flags, y + p * hwo);
            lsk_conv_epilogue_apply(ep, y, p * hwo, hwo);
        }
        if (flags) uk->store_fence();
    }
    return LSK_OK;
}

/* Images per block of the weight gradient's partial sums (see row_bwd). */
#define DW_BLOCK_IMAGES 8

/* Data and / or weight gradient, one pass over the planes: a plane's dx is computed just
 * before its dw, so dy comes from memory once for both.
 *
 * Work split: the images are cut into blocks of DW_BLOCK_IMAGES (a fixed size, not a
 * function of the thread count) and, when there are fewer blocks than threads, each block's
 * channels into as many chunks as threads; thread t takes a contiguous range of these
 * items, i.e. normally a contiguous run of whole images (one read stream per tensor: a
 * split by channels, with per-image gaps in every stream, measured ~25% slower at 2 threads
 * on 256x144x16x16). Each (block, channel) weight-gradient partial is the sum of the
 * block's planes in image order, and dw / db add the partials in block order, so the
 * results are bitwise identical for any thread count. */
static lsk_status row_bwd(const lsk_conv_geom *g, float *dx, float *dw, float *db, const float *dy, const float *x,
                          const float *w, int accumulate_dx, int accumulate_dw) {
    const lsk_conv2d_desc *d = &g->d;
    const size_t N = d->batch, C = d->in_channels, h = d->in_height, wd = d->in_width, planes = N * C;
    const size_t hw = g->hw_in, hwo = g->hw_out;
    const int s1 = d->stride_h == 1;
    const lsk_dwconv3x3_ukernels *uk = lsk_dwconv3x3_get_config(lsk_active_isa(), g->wo);
    const int dx_flags = accumulate_dx                                          ? LSK_DW3_ACCUMULATE
                         : planes * hw * sizeof(float) >= LSK_DWCONV_NT_MIN_BYTES ? LSK_DW3_STREAM
                                                                                  : 0;
    const size_t blocks = (N + DW_BLOCK_IMAGES - 1) / DW_BLOCK_IMAGES;
    int nt = lsk_region_threads();
    if ((size_t)nt > planes) nt = (int)planes;
    const size_t chunks = blocks >= (size_t)nt ? 1 : LSK_MIN((size_t)nt, C);
    const size_t items = blocks * chunks;
    if ((size_t)nt > items) nt = (int)items;
    /* partials: [block][channel][10] (9 taps, then the dy sum) */
    float *part = NULL;
    if (dw) {
        size_t bytes;
        if (!lsk_mul_ok(blocks * C, 10 * sizeof(float), &bytes)) return LSK_ERR_OUT_OF_MEMORY;
        part = (float *)lsk_scratch(LSK_SCRATCH_CONV_AUX, bytes);
        if (!part) return LSK_ERR_OUT_OF_MEMORY;
    }
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        size_t t, team;
        lsk_thread_slot(&t, &team);
        for (size_t it = items * t / team; it < items * (t + 1) / team; it++) {
            const size_t b = it / chunks, k = it % chunks;
            const size_t n0 = b * DW_BLOCK_IMAGES, n1 = LSK_MIN(n0 + DW_BLOCK_IMAGES, N);
            const size_t c0 = C * k / chunks, c1 = C * (k + 1) / chunks;
            for (size_t n = n0; n < n1; n++)
                for (size_t c = c0; c < c1; c++) {
                    const size_t p = n * C + c, rd = (planes - p) * hwo;
                    if (dx) {
                        if (s1) { /* stride 1's data gradient: the forward pass, kernel rotated */
                            float r9[9];
                            for (int i = 0; i < 9; i++) r9[i] = w[c * 9 + 8 - i];
                            uk->s1(h, wd, rd, dy + p * hwo, r9, 0.0f, dx_flags, dx + p * hw);
                        } else {
                            uk->s2_bwd_data(h, wd, rd, dy + p * hwo, w + c * 9, dx_flags, dx + p * hw);
                        }
                    }
                    if (dw) {
                        float r[10], *acc = part + (b * C + c) * 10;
                        (s1 ? uk->s1_bwd_weight : uk->s2_bwd_weight)(h, wd, (planes - p) * hw, rd, x + p * hw,
                                                                      dy + p * hwo, r, r + 9);
                        if (n == n0) memcpy(acc, r, sizeof r);
                        else for (int i = 0; i < 10; i++) acc[i] += r[i];
                    }
                }
        }
        if (dx && dx_flags == LSK_DW3_STREAM) uk->store_fence();
    }
    if (dw) { /* the blocks' partials in block order */
        for (size_t c = 0; c < C; c++) {
            float sum[10];
            memcpy(sum, part + c * 10, sizeof sum);
            for (size_t b = 1; b < blocks; b++)
                for (int i = 0; i < 10; i++) sum[i] += part[(b * C + c) * 10 + (size_t)i];
            for (int i = 0; i < 9; i++) dw[c * 9 + i] = accumulate_dw ? dw[c * 9 + i] + sum[i] : sum[i];
            if (db) db[c] = accumulate_dw ? db[c] + sum[9] : sum[9];
        }
    }
    return LSK_OK;
}

lsk_status lsk_dwconv_bwd(const lsk_conv_geom *g, float *dx, float *dw, float *db, const float *dy, const float *x,
                          const float *w, int accumulate_dx, int accumulate_dw) {
    if (row_path(g)) return row_bwd(g, dx, dw, db, dy, x, w, accumulate_dx, accumulate_dw);
    lsk_status st = LSK_OK;
    if (dx) st = lsk_dwconv_bwd_data(g, dx, dy, w, accumulate_dx);
    if (st == LSK_OK && dw) st = lsk_dwconv_bwd_weight(g, dw, db, dy, x, accumulate_dw);
    return st;
}

/* ------------------------------------------------------------------------------------- */
/* Other geometries (5x5, other paddings): flat sums over packed planes.                  */

static size_t round_block(size_t n) { return (n + LSK_DWCONV_BLOCK - 1) / LSK_DWCONV_BLOCK * LSK_DWCONV_BLOCK; }

/* Layout of one packed input plane (fwd, bwd_weight) and of the flat output. */
typedef struct dw_layout {
    size_t k, s, ph, pw, h, w, ho, wo;
    size_t r;       /* (k - 1) / s: extra phase rows / columns the taps reach */
    size_t ldp;     /* row pitch L of the phase planes and of the flat output */
    size_t rows;    /* phase-plane rows any output reads: ho + r */
    size_t n;       /* flat outputs per plane: ho * L rounded up to the block */
    size_t plane;   /* floats per phase plane (data and read slack) */
} dw_layout;

static void layout_init(const lsk_conv_geom *g, dw_layout *l) {
    const lsk_conv2d_desc *d = &g->d;
    l->k = d->kernel_h;
    l->s = d->stride_h;
    l->ph = d->pad_h;
    l->pw = d->pad_w;
    l->h = d->in_height;
    l->w = d->in_width;
    l->ho = g->ho;
    l->wo = g->wo;
    l->r = (l->k - 1) / l->s;
    /* columns: what the taps read (wo + r) and what the packed row holds */
    size_t data = l->s == 1 ? l->pw + l->w : LSK_MAX(l->pw / 2 + (l->w + 1) / 2, (l->pw + 1) / 2 + l->w / 2);
    l->ldp = LSK_MAX(l->wo + l->r, data);
    l->rows = l->ho + l->r;
    l->n = round_block(l->ho * l->ldp);
    /* + one block: rows_in's zero run past the last row, rows_out's reads past it */
    l->plane = round_block(LSK_MAX(l->rows * l->ldp, l->n + l->r * l->ldp + l->r)) + LSK_DWCONV_BLOCK;
}

/* Copies input plane xc [h, w] into the s*s phase planes at xp (plane stride l->plane):
 * padded row ih + ph goes to phase (ih+ph) % s, row (ih+ph) / s; rows no output reads are
 * skipped. Positions outside the data keep the zeros written by the caller. No divisions
 * in the row loop (a runtime division costs more than copying an 8-float row). */
static void pack_input(const dw_layout *l, const lsk_dwconv_ukernels *uk, const float *xc, float *xp) {
    if (l->s == 1) {
        const size_t rows = LSK_MIN(l->h, l->rows - l->ph);
        uk->rows_in(rows, l->w, xc, l->w, xp + l->ph * l->ldp + l->pw, l->ldp);
        return;
    }
    /* Stride 2: even columns x[2m] sit at padded column 2m + pw, i.e. phase pw%2, column
     * m + pw/2; odd columns at phase (pw+1)%2, column m + (pw+1)/2. */
    const size_t off_e = (l->pw % 2) * l->plane + l->pw / 2, off_o = ((l->pw + 1) % 2) * l->plane + (l->pw + 1) / 2;
    size_t a = l->ph % 2, u = l->ph / 2; /* phase row of padded row ih + ph */
    for (size_t ih = 0; ih < l->h && u < l->rows; ih++) {
        float *row = xp + a * 2 * l->plane + u * l->ldp;
        uk->deint2(l->w, (l->h - ih) * l->w, xc + ih * l->w, row + off_e, row + off_o);
        u += a;
        a ^= 1;
    }
}

/* Offset of tap (i, j) in the flat sums: phase plane (i%s, j%s), then (i/s)*L + j/s. */
static void input_taps(const dw_layout *l, size_t *off) {
    for (size_t i = 0; i < l->k; i++)
        for (size_t j = 0; j < l->k; j++)
            off[i * l->k + j] = ((i % l->s) * l->s + j % l->s) * l->plane + (i / l->s) * l->ldp + j / l->s;
}

/* ------------------------------------------------------------------------------------- */
/* Threads */

/* One plane's work in three stages (pack, compute, unpack) on its own slot of scratch. */
typedef enum plane_stage { STAGE_PACK = 0, STAGE_COMPUTE = 1, STAGE_UNPACK = 2 } plane_stage;
typedef void (*plane_fn)(const void *ctx, plane_stage stage, size_t item, float *slot);

/* Scratch per thread for a group of planes: small planes are processed a group at a
 * time, each stage over the whole group, so that the loads of one stage do not wait on
 * the just-issued, partially overlapping stores of the previous stage of the same plane
 * (failed store-to-load forwarding). Measured on a loaded machine: ~10-15% on 8x8 planes
 * (best of rounds), no change on 32x32; to be confirmed on a quiet one. */
#ifndef LSK_DWCONV_GROUP_BYTES
#define LSK_DWCONV_GROUP_BYTES (64u * 1024u)
#endif
#define DWCONV_MAX_GROUP 16

static size_t group_planes(size_t slot_floats) {
    const size_t g = LSK_DWCONV_GROUP_BYTES / (slot_floats * sizeof(float));
    return g < 1 ? 1 : g > DWCONV_MAX_GROUP ? DWCONV_MAX_GROUP : g;
}


/* Per-thread scratch of `slots` slots of slot_floats floats, the first zero_floats of each
 * zeroed (the packed buffers' padding). NULL on allocation failure. */
static float *thread_workspace(size_t slots, size_t slot_floats, size_t zero_floats) {
    size_t bytes;
    if (!lsk_mul_ok(slots * slot_floats, sizeof(float), &bytes)) return NULL;
    float *ws = (float *)lsk_scratch(LSK_SCRATCH_CONV_COL, bytes);
    if (ws)
        for (size_t i = 0; i < slots; i++) memset(ws + i * slot_floats, 0, zero_floats * sizeof(float));
    return ws;
}

/* Items [lo, hi) in groups of `group`, each stage over the whole group. */
static void run_range(size_t lo, size_t hi, size_t group, size_t slot_floats, plane_fn fn, const void *ctx,
                      float *ws) {
    for (size_t g0 = lo; g0 < hi; g0 += group) {
        const size_t g1 = LSK_MIN(g0 + group, hi);
        for (int stage = STAGE_PACK; stage <= STAGE_UNPACK; stage++)
            for (size_t it = g0; it < g1; it++) fn(ctx, (plane_stage)stage, it, ws + (it - g0) * slot_floats);
    }
}

/* Runs fn on items [0, items): thread t takes the contiguous range [items*t/T, items*(t+1)/T). */
static lsk_status run_planes(size_t items, size_t slot_floats, size_t zero_floats, plane_fn fn, const void *ctx) {
    slot_floats = (slot_floats + 15) & ~(size_t)15; /* slots on 64-byte boundaries */
    const size_t group = LSK_MIN(group_planes(slot_floats), items);
    int nt = lsk_region_threads();
    if ((size_t)nt > items) nt = (int)items;
    if (nt <= 1) {
        float *ws = thread_workspace(group, slot_floats, zero_floats);
        if (!ws) return LSK_ERR_OUT_OF_MEMORY;
        run_range(0, items, group, slot_floats, fn, ctx, ws);
        return LSK_OK;
    }
    lsk_status status = LSK_OK;
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
#endif
    {
        size_t t, team;
        lsk_thread_slot(&t, &team);
        float *ws = thread_workspace(group, slot_floats, zero_floats);
        if (!ws) lsk_note_status(&status, LSK_ERR_OUT_OF_MEMORY);
        else run_range(items * t / team, items * (t + 1) / team, group, slot_floats, fn, ctx, ws);
    }
    return status;
}

/* ------------------------------------------------------------------------------------- */
/* Forward: per thread, s*s packed phase planes, then the flat output. */

typedef struct fwd_ctx {
    dw_layout l;
    size_t channels;
    size_t tap[25];   /* input_taps */
    const lsk_dwconv_ukernels *uk;
    float *y;
    const float *x, *w, *b;
    const lsk_conv_epilogue *ep;
} fwd_ctx;

static void fwd_plane(const void *ctx, plane_stage stage, size_t item, float *ws) {
    const fwd_ctx *p = (const fwd_ctx *)ctx;
    const dw_layout *l = &p->l;
    float *xp = ws, *out = ws + l->s * l->s * l->plane;
    if (stage == STAGE_PACK) {
        pack_input(l, p->uk, p->x + item * l->h * l->w, xp);
    } else if (stage == STAGE_COMPUTE) {
        const size_t c = item % p->channels, kk = l->k * l->k;
        const float *src[25];
        for (size_t t = 0; t < kk; t++) src[t] = xp + p->tap[t];
        p->uk->axpy(l->n, kk, src, p->w + c * kk, p->b ? p->b[c] : 0.0f, out);
    } else {
        p->uk->rows_out(l->ho, l->wo, out, l->ldp, p->y + item * l->ho * l->wo);
        lsk_conv_epilogue_apply(p->ep, p->y, item * l->ho * l->wo, l->ho * l->wo);
    }
}

lsk_status lsk_dwconv_fwd(const lsk_conv_geom *g, float *y, const float *x, const float *w, const float *b,
                          const lsk_conv_epilogue *ep) {
    if (row_path(g)) return row_fwd(g, y, x, w, b, ep);
    fwd_ctx p;
    layout_init(g, &p.l);
    p.channels = g->d.in_channels;
    input_taps(&p.l, p.tap);
    p.uk = lsk_dwconv_get_config(lsk_active_isa());
    p.y = y;
    p.x = x;
    p.w = w;
    p.b = b;
    p.ep = ep;
    const size_t packed = p.l.s * p.l.s * p.l.plane;
    return run_planes(g->d.batch * p.channels, packed + p.l.n + LSK_DWCONV_BLOCK, packed, fwd_plane, &p);
}

/* ------------------------------------------------------------------------------------- */
/* Data gradient: per thread, dy zero-padded by a = (k-1)/s rows and columns on the top
 * and left (pitch L), then the s*s flat phase planes of dx_pad, rows [u0, u1). */

typedef struct bwd_data_ctx {
    size_t k, s, ph, pw, h, w, ho, wo, channels;
    size_t a;        /* (k - 1) / s */
    size_t ldp;      /* row pitch L */
    size_t u0;       /* first phase row computed: the one holding dx row 0 */
    size_t n;        /* flat outputs per phase plane: (u1 - u0) * L rounded up */
    size_t dy_floats;
    int accumulate;
    const lsk_dwconv_ukernels *uk;
    float *dx;
    const float *dy, *wt;
} bwd_data_ctx;

static void bwd_data_plane(const void *ctx, plane_stage stage, size_t item, float *ws) {
    const bwd_data_ctx *p = (const bwd_data_ctx *)ctx;
    const size_t c = item % p->channels, k = p->k, s = p->s, L = p->ldp;
    float *dyp = ws, *dxp = ws + p->dy_floats;
    if (stage == STAGE_PACK) {
        p->uk->rows_in(p->ho, p->wo, p->dy + item * p->ho * p->wo, p->wo, dyp + p->a * L + p->a, L);
        return;
    }
    if (stage == STAGE_COMPUTE) {
        const float *wc = p->wt + c * k * k;
        /* Phase plane (pa, pb): taps w[pa + s*al][pb + s*be] read dy shifted by (al, be). */
        for (size_t pa = 0; pa < s; pa++)
            for (size_t pb = 0; pb < s; pb++) {
                const float *src[25];
                float wt[25];
                size_t terms = 0;
                for (size_t al = 0; pa + s * al < k; al++)
                    for (size_t be = 0; pb + s * be < k; be++) {
                        src[terms] = dyp + (p->u0 + p->a - al) * L + (p->a - be);
                        wt[terms++] = wc[(pa + s * al) * k + pb + s * be];
                    }
                p->uk->axpy(p->n, terms, src, wt, 0.0f, dxp + (pa * s + pb) * p->n);
            }
        return;
    }
    /* dx[ih][iw] = dx_pad[ih + ph][iw + pw]; stride 1: u0 = ph, so dx row ih is phase row ih. */
    float *dxc = p->dx + item * p->h * p->w;
    if (s == 1) {
        if (!p->accumulate) p->uk->rows_out(p->h, p->w, dxp + p->pw, L, dxc);
        else for (size_t ih = 0; ih < p->h; ih++) p->uk->vacc(p->w, dxp + ih * L + p->pw, dxc + ih * p->w);
        return;
    }
    /* Stride 2: padded row r = ih + ph is phase row (r%2, r/2); its even padded columns
     * (phase 0) and odd ones (phase 1) interleave, starting with phase pw%2 at column pw/2. */
    const size_t off_a = (p->pw % 2) * p->n + p->pw / 2, off_b = ((p->pw + 1) % 2) * p->n + (p->pw + 1) / 2;
    size_t a = p->ph % 2, base = 0; /* base: (r/2 - u0) * L */
    for (size_t ih = 0; ih < p->h; ih++) {
        const float *row = dxp + a * 2 * p->n + base;
        p->uk->int2(p->w, row + off_a, row + off_b, dxc + ih * p->w, p->accumulate);
        base += a * L;
        a ^= 1;
    }
}

lsk_status lsk_dwconv_bwd_data(const lsk_conv_geom *g, float *dx, const float *dy, const float *w, int accumulate) {
    if (row_path(g)) return row_bwd(g, dx, NULL, NULL, dy, NULL, w, accumulate, 0);
    const lsk_conv2d_desc *d = &g->d;
    bwd_data_ctx p;
    p.k = d->kernel_h;
    p.s = d->stride_h;
    p.ph = d->pad_h;
    p.pw = d->pad_w;
    p.h = d->in_height;
    p.w = d->in_width;
    p.ho = g->ho;
    p.wo = g->wo;
    p.channels = d->in_channels;
    p.a = (p.k - 1) / p.s;
    /* columns: dy with its left padding, and the dx_pad columns dx is cropped from */
    p.ldp = LSK_MAX(p.wo + p.a, (p.pw + p.w + p.s - 1) / p.s);
    p.u0 = p.ph / p.s;
    const size_t u1 = (p.ph + p.h + p.s - 1) / p.s;
    p.n = round_block((u1 - p.u0) * p.ldp);
    /* dy: its data, and the furthest read u0*L + n - 1 + a*L + a */
    p.dy_floats = round_block(LSK_MAX((p.ho + p.a) * p.ldp, (p.u0 + p.a) * p.ldp + p.n + p.a)) + LSK_DWCONV_BLOCK;
    p.accumulate = accumulate;
    p.uk = lsk_dwconv_get_config(lsk_active_isa());
    p.dx = dx;
    p.dy = dy;
    p.wt = w;
    return run_planes(d->batch * p.channels, p.dy_floats + p.s * p.s * p.n + LSK_DWCONV_BLOCK, p.dy_floats,
                      bwd_data_plane, &p);
}

/* ------------------------------------------------------------------------------------- */
/* Weight gradient */

/* Channels [c0, c1) over all images, in image order: dw[c] (and db[c]) are overwritten
 * (accumulate = 0) or added to. ws: `group` slots of slot_floats floats, each the packed
 * input planes then dy at pitch L; channels run a group at a time (see group_planes). */
static void bwd_weight_channels(const dw_layout *l, const lsk_dwconv_ukernels *uk, size_t batch, size_t channels,
                                size_t c0, size_t c1, float *dw, float *db, const float *dy, const float *x,
                                int accumulate, float *ws, size_t group, size_t slot_floats) {
    const size_t kk = l->k * l->k, hwi = l->h * l->w, hwo = l->ho * l->wo, dy_at = l->s * l->s * l->plane;
    size_t tap[25];
    input_taps(l, tap);
    if (!accumulate) {
        memset(dw + c0 * kk, 0, (c1 - c0) * kk * sizeof(float));
        if (db) memset(db + c0, 0, (c1 - c0) * sizeof(float));
    }
    for (size_t n = 0; n < batch; n++)
        for (size_t g0 = c0; g0 < c1; g0 += group) {
            const size_t g1 = LSK_MIN(g0 + group, c1);
            for (size_t c = g0; c < g1; c++) {
                float *slot = ws + (c - g0) * slot_floats;
                pack_input(l, uk, x + (n * channels + c) * hwi, slot);
                uk->rows_in(l->ho, l->wo, dy + (n * channels + c) * hwo, l->wo, slot + dy_at, l->ldp);
            }
            for (size_t c = g0; c < g1; c++) {
                const float *slot = ws + (c - g0) * slot_floats;
                const float *src[25];
                for (size_t t = 0; t < kk; t++) src[t] = slot + tap[t];
                float part[25], sum;
                uk->dot(l->n, kk, slot + dy_at, src, part, db ? &sum : NULL);
                float *dwc = dw + c * kk;
                for (size_t t = 0; t < kk; t++) dwc[t] += part[t];
                if (db) db[c] += sum;
            }
        }
}

lsk_status lsk_dwconv_bwd_weight(const lsk_conv_geom *g, float *dw, float *db, const float *dy, const float *x,
                                 int accumulate) {
    if (row_path(g)) return row_bwd(g, NULL, dw, db, dy, x, NULL, 0, accumulate);
    dw_layout l;
    layout_init(g, &l);
    const size_t channels = g->d.in_channels, batch = g->d.batch;
    const lsk_dwconv_ukernels *uk = lsk_dwconv_get_config(lsk_active_isa());
    /* all zeroed: the packed planes' padding and dy's scratch lanes */
    const size_t slot_floats = (l.s * l.s * l.plane + l.n + LSK_DWCONV_BLOCK + 15) & ~(size_t)15;
    int nt = lsk_region_threads();
    if ((size_t)nt > channels) nt = (int)channels;
    const size_t group = LSK_MIN(group_planes(slot_floats), (channels + (size_t)nt - 1) / (size_t)nt);
    if (nt <= 1) {
        float *ws = thread_workspace(group, slot_floats, slot_floats);
        if (!ws) return LSK_ERR_OUT_OF_MEMORY;
        bwd_weight_channels(&l, uk, batch, channels, 0, channels, dw, db, dy, x, accumulate, ws, group, slot_floats);
        return LSK_OK;
    }
    lsk_status status = LSK_OK;
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
#endif
    {
        size_t t, team;
        lsk_thread_slot(&t, &team);
        float *ws = thread_workspace(group, slot_floats, slot_floats);
        if (!ws) lsk_note_status(&status, LSK_ERR_OUT_OF_MEMORY);
        else bwd_weight_channels(&l, uk, batch, channels, channels * t / team, channels * (t + 1) / team, dw, db, dy,
                                 x, accumulate, ws, group, slot_floats);
    }
    return status;
}
