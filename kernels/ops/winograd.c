/*
 * Winograd F(4x4, 3x3) convolution for 3x3 stride-1 ungrouped layers (forward, bwd_data as
 * the forward convolution of dy with the flipped, channel-transposed kernel and padding
 * 2 - pad, and bwd_weight through the adjoints of the three transforms, below). Math, layout and measurements: kernels/winograd/winograd-internal.h and
 * docs/conv.md ("Winograd").
 *
 * Tiles. Output tile (n, ty, tx) covers output rows 4ty..4ty+3 and columns 4tx..4tx+3 of
 * image n and reads the 6x6 input patch at (4ty - pad_h, 4tx - pad_w) (zeros outside the
 * image). All tiles of the batch are numbered image by image, row by row, and cut into
 * blocks of `block` consecutive tiles (a block may span images); one block is one work item:
 *   1. per input channel: gather the block's patches into a lane buffer (tile = lane) and
 *      input-transform them into V [36][cin][block];
 *   2. 36 GEMMs M[e] [cout x n] = U[e] [cout x cin] x V[e] [cin x n] (lsk_sgemm, B read in place);
 *   3. per output channel: output-transform M into 16 lanes per tile and scatter the 4x4
 *      tiles into y (+ bias, or + y with accumulate; parts past the output edge dropped).
 * The block is sized so that V and M stay in L2 between the three steps.
 *
 * Threads: OpenMP over blocks (static schedule, lsk_sgemm single-threaded inside); with fewer
 * blocks than threads the blocks run on the caller and lsk_sgemm threads itself. Per-thread
 * workspace: lsk_scratch(LSK_SCRATCH_CONV_COL). Results are deterministic for a given ISA and
 * thread count; across thread counts they may differ in the last bits (the block size follows
 * the thread count, and with it the GEMM's column count, which picks lsk_sgemm's edge tiles).
 *
 * Filter cache. U (the transformed filters, [36][rows x cols] padded) is kept per calling
 * thread together with a copy of the raw weights it was made from, keyed by weight pointer,
 * shape, direction (fwd / bwd_data) and ISA; a call reuses it when the weights at that
 * pointer still compare equal byte for byte (memcmp: exact, so weights updated in place by
 * an optimizer are always seen), else transforms again into the same buffers. Buffers grow
 * on first use of a shape and are reused afterwards: no allocation in steady state. Like the
 * scratch buffers, the cache lives until the thread exits (about 4.2x the bytes of each
 * cached layer's weights: U is 36/9 of them, plus the copy).
 */
#include <stdlib.h>
#include <string.h>
#include "../conv/conv-internal.h"
#include "../winograd/winograd-internal.h"
#include "../../include/lsk_gemm.h"

#if defined(__GNUC__) || defined(__clang__)
#define WINO_THREAD_LOCAL __thread
#else
#define WINO_THREAD_LOCAL _Thread_local
#endif

/* Bytes of V + M per block (L2 is 1 MiB per core on the development machine); measured in
 * docs/conv.md. Overridable at build time for experiments. */
#ifndef LSK_WINO_BLOCK_BYTES
#define LSK_WINO_BLOCK_BYTES (768u * 1024u)
#endif
/* Filter transforms kept per calling thread (a ResNet-20 has 19 3x3 layers, x2 directions). */
#define WINO_CACHE_ENTRIES 48

static size_t round_lanes(size_t n) { return (n + LSK_WINO_LANE_ALIGN - 1) / LSK_WINO_LANE_ALIGN * LSK_WINO_LANE_ALIGN; }

/* ------------------------------------------------------------------------------------- */
/* Filter transform and its cache */

typedef struct wino_filter_entry {
    const float *src;  /* weights it was made from ([cout][cin][3][3]) */
    size_t cout, cin;
    int flipped;       /* 0: U[e][cout][cin] (fwd); 1: U[e][cin][cout] of the flipped kernel (bwd_data) */
    lsk_isa isa;       /* the transform's rounding depends on the ISA's FMA use */
    float *raw;        /* copy of the 9*cout*cin weights */
    float *u;          /* [36][us] */
    size_t cap_raw, cap_u; /* floats allocated */
    unsigned long last_use;
} wino_filter_entry;

static WINO_THREAD_LOCAL wino_filter_entry t_cache[WINO_CACHE_ENTRIES];
static WINO_THREAD_LOCAL unsigned long t_clock;

/* Grows *buf to n floats (contents dropped). 0 on allocation failure. */
static int grow(float **buf, size_t *cap, size_t n) {
    if (n <= *cap && *buf) return 1;
    free(*buf);
    *buf = (float *)malloc(n * sizeof(float));
    *cap = *buf ? n : 0;
    return *buf != NULL;
}

/* U for weights w [cout][cin][3][3]: filter (a, b) of the GEMM's A matrix (a row, b column)
 * in lane a*cols + b. fwd: a = co, b = ci, taps as stored. bwd_data (flipped): a = ci,
 * b = co, taps reversed (w[co][ci][2-i][2-j]). Row stride us = round_lanes(cout*cin). */
static lsk_status filter_transform_into(float *u, size_t cout, size_t cin, int flipped, const float *w,
                                       const lsk_wino_config *cfg, size_t us) {
    /* The weights one filter per lane, [9][us], in the calling thread's AUX scratch (free
     * again once U is made). */
    float *stage = (float *)lsk_scratch(LSK_SCRATCH_CONV_AUX, 9 * us * sizeof(float));
    if (!stage) return LSK_ERR_OUT_OF_MEMORY;
    const size_t lanes = cout * cin, cols = flipped ? cout : cin;
    for (int r = 0; r < 9; r++) /* padding lanes: defined values, no denormal garbage */
        for (size_t l = lanes; l < us; l++) stage[(size_t)r * us + l] = 0.0f;
    /* Threads take chunks of 16-lane groups (a kernel may write up to the next multiple of
     * 16 lanes, so chunks never share one): large layers only, where the transform is up to
     * ~10% of a batch-256 call (docs/conv.md, filter cache). */
    const size_t groups = us / LSK_WINO_LANE_ALIGN;
    const int nt = lanes >= 4096 ? lsk_region_threads() : 1;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
#endif
    for (int t = 0; t < nt; t++) {
        const size_t l0 = LSK_MIN(lanes, groups * (size_t)t / (size_t)nt * LSK_WINO_LANE_ALIGN);
        const size_t l1 = LSK_MIN(lanes, groups * (size_t)(t + 1) / (size_t)nt * LSK_WINO_LANE_ALIGN);
        size_t a = l0 / cols, b = l0 % cols; /* lane l = a * cols + b */
        for (size_t l = l0; l < l1; l++) {
            if (flipped) {
                const float *src = w + (b * cin + a) * 9;
                for (int r = 0; r < 9; r++) stage[(size_t)r * us + l] = src[8 - r];
            } else {
                const float *src = w + l * 9; /* a * cin + b == l */
                for (int r = 0; r < 9; r++) stage[(size_t)r * us + l] = src[r];
            }
            if (++b == cols) { b = 0; a++; }
        }
        if (l1 > l0) cfg->filter(stage + l0, us, u + l0, us, l1 - l0);
    }
    return LSK_OK;
}

/* U of a cache entry's weights, into its buffer. */
static lsk_status filter_transform(const wino_filter_entry *e, const float *w, const lsk_wino_config *cfg, size_t us) {
    return filter_transform_into(e->u, e->cout, e->cin, e->flipped, w, cfg, us);
}

/* The transformed filters of w for this call (from the cache, or made now). NULL: out of memory. */
static const float *filter_lookup(const float *w, size_t cout, size_t cin, int flipped, size_t *us_out) {
    const lsk_isa isa = lsk_active_isa();
    const size_t nw = cout * cin * 9, us = round_lanes(cout * cin);
    *us_out = us;
    t_clock++;
    wino_filter_entry *victim = &t_cache[0];
    for (int i = 0; i < WINO_CACHE_ENTRIES; i++) {
        wino_filter_entry *e = &t_cache[i];
        if (e->src == w && e->cout == cout && e->cin == cin && e->flipped == flipped && e->isa == isa && e->u) {
            if (memcmp(e->raw, w, nw * sizeof(float)) != 0) { /* updated in place: transform again */
                memcpy(e->raw, w, nw * sizeof(float));
                if (filter_transform(e, w, lsk_wino_get_config(isa), us) != LSK_OK) {
                    e->src = NULL;
                    return NULL;
                }
            }
            e->last_use = t_clock;
            return e->u;
        }
        if (e->last_use < victim->last_use) victim = e;
    }
    /* Miss: the least recently used entry takes it (keeping its buffers if large enough). */
    wino_filter_entry *e = victim;
    e->src = NULL;
    if (!grow(&e->raw, &e->cap_raw, nw) || !grow(&e->u, &e->cap_u, 36 * us)) return NULL;
    e->src = w;
    e->cout = cout;
    e->cin = cin;
    e->flipped = flipped;
    e->isa = isa;
    e->last_use = t_clock;
    memcpy(e->raw, w, nw * sizeof(float));
    if (filter_transform(e, w, lsk_wino_get_config(isa), us) != LSK_OK) {
        e->src = NULL;
        return NULL;
    }
    return e->u;
}

/* ------------------------------------------------------------------------------------- */
/* The tiled convolution */

typedef struct wino_problem {
    size_t batch, cin, h, w;      /* input [batch, cin, h, w] */
    size_t cout, ho, wo;          /* output [batch, cout, ho, wo] */
    size_t ph, pw;
    size_t th, tw, tiles;         /* tiles per column / row of an image, in the batch */
    size_t block;                 /* tiles per block (multiple of LSK_WINO_LANE_ALIGN) */
    const float *x, *u, *bias;
    size_t us;                    /* row stride of u */
    float *y;
    int accumulate;
    const lsk_wino_config *cfg;
    const lsk_conv_epilogue *ep;  /* fwd: fused residual add / ReLU, or NULL */
} wino_problem;

/* Tables of tiles [t0, t0 + n): where each tile's input patch lies in an input channel plane
 * (tin) and its output tile in an output plane (tout); padded with empty tiles up to ld. */
static void tile_tables(const wino_problem *p, size_t t0, size_t n, size_t ld, lsk_wino_tile *tin, lsk_wino_tile *tout) {
    const size_t per_image = p->th * p->tw;
    size_t img = t0 / per_image, ty = (t0 % per_image) / p->tw, tx = t0 % p->tw;
    for (size_t i = 0; i < n; i++) {
        const ptrdiff_t iy0 = (ptrdiff_t)(4 * ty) - (ptrdiff_t)p->ph, ix0 = (ptrdiff_t)(4 * tx) - (ptrdiff_t)p->pw;
        const ptrdiff_t h = (ptrdiff_t)p->h, w = (ptrdiff_t)p->w;
        lsk_wino_tile *ti = &tin[i], *to = &tout[i];
        ti->offset = (ptrdiff_t)(img * p->cin * p->h * p->w) + iy0 * w + ix0;
        ti->row_lo = (uint8_t)LSK_MIN(6, LSK_MAX(0, -iy0));
        ti->row_hi = (uint8_t)LSK_MAX(0, LSK_MIN(6, h - iy0));
        ti->col_lo = (uint8_t)LSK_MIN(6, LSK_MAX(0, -ix0));
        ti->col_hi = (uint8_t)LSK_MAX(0, LSK_MIN(6, w - ix0));
        if (ti->row_lo >= ti->row_hi || ti->col_lo >= ti->col_hi) ti->row_lo = ti->row_hi = 0; /* all padding */
        lsk_wino_tile_masks(ti);
        to->offset = (ptrdiff_t)(img * p->cout * p->ho * p->wo + 4 * ty * p->wo + 4 * tx);
        to->row_lo = to->col_lo = 0;
        to->row_hi = (uint8_t)LSK_MIN(4, p->ho - 4 * ty);
        to->col_hi = (uint8_t)LSK_MIN(4, p->wo - 4 * tx);
        lsk_wino_tile_masks(to);
        if (++tx == p->tw) {
            tx = 0;
            if (++ty == p->th) { ty = 0; img++; }
        }
    }
    for (size_t i = n; i < ld; i++) {
        const lsk_wino_tile empty = {0, 0, 0, 0, 0, {0, 0, 0, 0, 0, 0}};
        tin[i] = empty;
        tout[i] = empty;
    }
}

/* Distance between the 36 matrices V[e] ([cin][block]) and M[e] ([cout][block]): one cache
 * line more than their size. The transforms touch all 36 at once; with sizes that are
 * multiples of 4 KiB / 2 KiB (cin * block * 4 bytes, e.g. 32 x 64 x 4 = 8 KiB) all 36 streams
 * would fall into one or two L1 sets and evict each other. */
static size_t v_stride(const wino_problem *p) { return p->cin * p->block + 16; }
static size_t m_stride(const wino_problem *p) { return p->cout * p->block + 16; }

/* Workspace of one thread: lane buffer [36][block] + V [36][v_stride] + M [36][m_stride]
 * floats, then the two tile tables (block entries each). */
static size_t workspace_bytes(const wino_problem *p) {
    return (36 * (p->block + v_stride(p) + m_stride(p))) * sizeof(float) + 2 * p->block * sizeof(lsk_wino_tile);
}

/* Asks for channel plane c of the block's images [img0, img1] while the previous channel is
 * gathered: the planes come from memory (a batch does not fit in L2), and the gather's loads
 * would otherwise wait on every line. */
static void prefetch_planes(const float *x, size_t channels, size_t plane, size_t c, size_t img0, size_t img1) {
#if defined(__GNUC__) || defined(__clang__)
    for (size_t img = img0; img <= img1; img++) {
        const char *b = (const char *)(x + (img * channels + c) * plane);
        for (size_t off = 0; off < plane * sizeof(float); off += 64) __builtin_prefetch(b + off, 0, 3);
    }
#else
    (void)x; (void)channels; (void)plane; (void)c; (void)img0; (void)img1;
#endif
}

/* The same for an output channel's planes, for writing (the scatter's partial-line stores
 * would otherwise each wait for their line). */
static void prefetch_planes_for_write(float *y, size_t channels, size_t plane, size_t c, size_t img0, size_t img1) {
#if defined(__GNUC__) || defined(__clang__)
    for (size_t img = img0; img <= img1; img++) {
        char *b = (char *)(y + (img * channels + c) * plane);
        for (size_t off = 0; off < plane * sizeof(float); off += 64) __builtin_prefetch(b + off, 1, 3);
    }
#else
    (void)y; (void)channels; (void)plane; (void)c; (void)img0; (void)img1;
#endif
}

/* A block's workspace (laid out as workspace_bytes says) and tile range. */
typedef struct wino_block {
    size_t ld, t0, n, img0, img1;  /* lanes per buffer row, first tile, tiles, first / last image touched */
    float *lanes, *v, *m;
    lsk_wino_tile *tin, *tout;
} wino_block;

/* Sets up block blk in ws: buffer pointers and tile tables (no transform yet). */
static void block_setup(const wino_problem *p, size_t blk, float *ws, wino_block *b) {
    const size_t vs = v_stride(p), ms = m_stride(p);
    b->ld = p->block;
    b->t0 = blk * b->ld;
    b->n = LSK_MIN(b->ld, p->tiles - b->t0);
    b->lanes = ws;
    b->v = b->lanes + 36 * b->ld;
    b->m = b->v + 36 * vs;
    b->tin = (lsk_wino_tile *)(b->m + 36 * ms);
    b->tout = b->tin + b->ld;
    tile_tables(p, b->t0, b->n, b->ld, b->tin, b->tout);
    b->img0 = b->t0 / (p->th * p->tw);
    b->img1 = (b->t0 + b->n - 1) / (p->th * p->tw);
}

/* Input channels [c0, c1) of the block's x patches, gathered through `lanes` and
 * input-transformed into V. */
static void block_input_channels(const wino_problem *p, const wino_block *b, size_t c0, size_t c1, float *lanes) {
    const size_t plane_in = p->h * p->w, vs = v_stride(p);
    if (c0 < c1) prefetch_planes(p->x, p->cin, plane_in, c0, b->img0, b->img1);
    for (size_t c = c0; c < c1; c++) {
        if (c + 1 < c1) prefetch_planes(p->x, p->cin, plane_in, c + 1, b->img0, b->img1);
        p->cfg->gather(p->x + c * plane_in, p->w, b->tin, b->n, lanes, b->ld);
        p->cfg->input(lanes, b->ld, b->v + c * b->ld, vs, b->n);
    }
}

/* Sets up block blk and input-transforms every input channel (the first step of every pass). */
static void block_input(const wino_problem *p, size_t blk, float *ws, wino_block *b) {
    block_setup(p, blk, ws, b);
    block_input_channels(p, b, 0, p->cin, b->lanes);
}

/* GEMMs e in [e0, e1) of the block: M[e] = U[e] x V[e]. */
static lsk_status block_gemms(const wino_problem *p, const wino_block *b, size_t e0, size_t e1) {
    const size_t vs = v_stride(p), ms = m_stride(p);
    for (size_t e = e0; e < e1; e++) {
        const lsk_status s = lsk_sgemm(LSK_NO_TRANS, LSK_NO_TRANS, p->cout, b->n, p->cin, 1.0f, p->u + e * p->us, p->cin,
                                       b->v + e * vs, b->ld, 0.0f, b->m + e * ms, b->ld);
        if (s != LSK_OK) return s;
    }
    return LSK_OK;
}

/* The epilogue on output channel co of the block's tiles: per tile row, the rows it covers,
 * merged into one range where whole rows of the plane follow each other. */
static void block_epilogue(const wino_problem *p, const wino_block *b, size_t co) {
    const size_t per_image = p->th * p->tw, plane = p->ho * p->wo;
    size_t start = 0, len = 0; /* pending contiguous range of y */
    for (size_t t = b->t0; t < b->t0 + b->n;) {
        const size_t img = t / per_image, ty = (t % per_image) / p->tw, tx = t % p->tw;
        const size_t run = LSK_MIN(p->tw - tx, b->t0 + b->n - t);
        const size_t x0 = 4 * tx, x1 = LSK_MIN(4 * (tx + run), p->wo);
        const size_t base = (img * p->cout + co) * plane;
        for (size_t r = 4 * ty; r < LSK_MIN(4 * ty + 4, p->ho); r++) {
            const size_t off = base + r * p->wo + x0;
            if (len && start + len == off) {
                len += x1 - x0;
            } else {
                lsk_conv_epilogue_apply(p->ep, p->y, start, len);
                start = off;
                len = x1 - x0;
            }
        }
        t += run;
    }
    lsk_conv_epilogue_apply(p->ep, p->y, start, len);
}

/* Output channels [co0, co1): output transform of M through `lanes`, scatter into y (+ bias,
 * or + y with accumulate), then the epilogue. */
static void block_output_channels(const wino_problem *p, const wino_block *b, size_t co0, size_t co1, float *lanes) {
    const size_t plane_out = p->ho * p->wo, ms = m_stride(p);
    if (co0 < co1) prefetch_planes_for_write(p->y, p->cout, plane_out, co0, b->img0, b->img1);
    for (size_t co = co0; co < co1; co++) {
        if (co + 1 < co1) prefetch_planes_for_write(p->y, p->cout, plane_out, co + 1, b->img0, b->img1);
        p->cfg->output(b->m + co * b->ld, ms, lanes, b->ld, b->n);
        p->cfg->scatter(lanes, b->ld, p->y + co * plane_out, p->wo, b->tout, b->n, p->bias ? p->bias[co] : 0.0f,
                        p->accumulate);
        if (p->ep) block_epilogue(p, b, co);
    }
}

static lsk_status run_block(const void *ctx, size_t blk, float *ws) {
    const wino_problem *p = (const wino_problem *)ctx;
    wino_block b;
    block_input(p, blk, ws, &b);
    const lsk_status s = block_gemms(p, &b, 0, 36);
    if (s != LSK_OK) return s;
    block_output_channels(p, &b, 0, p->cout, b.lanes);
    return LSK_OK;
}

/* Tiles of the problem and the block size; returns the number of blocks. Block: V + M within
 * LSK_WINO_BLOCK_BYTES, at least one vector of lanes, and at least one block per thread
 * (nt) when the batch allows. */
static size_t plan_blocks(wino_problem *p, int nt) {
    p->th = (p->ho + 3) / 4;
    p->tw = (p->wo + 3) / 4;
    p->tiles = p->batch * p->th * p->tw;
    size_t block = LSK_WINO_BLOCK_BYTES / (36 * (p->cin + p->cout) * sizeof(float));
    const size_t per_thread = (p->tiles + (size_t)nt - 1) / (size_t)nt;
    if (block > per_thread) block = per_thread;
    /* Whole 64-column panels of the AVX-512 GEMM tile (6x64) where the budget allows: an
     * 80-tile block ran a fifth of its columns in 6x16 tiles at a lower rate. */
    block = block >= 64 ? block / 64 * 64 : block / LSK_WINO_LANE_ALIGN * LSK_WINO_LANE_ALIGN;
    if (block < LSK_WINO_LANE_ALIGN) block = LSK_WINO_LANE_ALIGN;
    p->block = block;
    return (p->tiles + block - 1) / block;
}

/* Below this many GEMM FMAs a problem with fewer blocks than threads runs on one thread (the
 * limit of lsk_sgemm's own threading: a region costs 1.5-4 us on Zen 5). */
#define LSK_WINO_TEAM_MIN_FMAS (512.0 * 1024.0)

/* Fewer blocks than threads (small batches): each block by the whole team, one region per
 * block, in three phases split over the threads: input channels, the 36 GEMMs, output
 * channels (barriers between). Every element is computed by the same operations as in
 * run_block, so the result does not depend on the thread count. Workspace: one block's
 * buffers in the calling thread's scratch plus a lane buffer per further thread. */
static lsk_status run_blocks_team(const wino_problem *p, size_t blocks, int nt) {
    const size_t lanes_at = (workspace_bytes(p) + 63) / 64 * 64, lane_floats = 36 * p->block;
    size_t bytes;
    if (!lsk_mul_ok((size_t)nt - 1, lane_floats * sizeof(float), &bytes) || lanes_at > SIZE_MAX - bytes)
        return LSK_ERR_OUT_OF_MEMORY;
    char *ws = (char *)lsk_scratch(LSK_SCRATCH_CONV_COL, lanes_at + bytes);
    if (!ws) return LSK_ERR_OUT_OF_MEMORY;
    float *extra_lanes = (float *)(ws + lanes_at);
    lsk_status status = LSK_OK;
    for (size_t blk = 0; blk < blocks && status == LSK_OK; blk++) {
        wino_block b;
        block_setup(p, blk, (float *)ws, &b);
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
#endif
        {
            size_t t, team;
            lsk_thread_slot(&t, &team);
            float *lanes = t == 0 ? b.lanes : extra_lanes + (t - 1) * lane_floats;
            block_input_channels(p, &b, p->cin * t / team, p->cin * (t + 1) / team, lanes);
#ifdef _OPENMP
#pragma omp barrier
#endif
            lsk_note_status(&status, block_gemms(p, &b, 36 * t / team, 36 * (t + 1) / team));
#ifdef _OPENMP
#pragma omp barrier
#endif
            block_output_channels(p, &b, p->cout * t / team, p->cout * (t + 1) / team, lanes);
        }
    }
    return status;
}

static lsk_status wino_run(wino_problem *p) {
    const int nt = lsk_region_threads();
    const size_t blocks = plan_blocks(p, nt);
    const double fmas = 36.0 * (double)p->cout * (double)p->cin * (double)p->tiles;
    if (nt > 1 && blocks < (size_t)nt && fmas >= LSK_WINO_TEAM_MIN_FMAS) return run_blocks_team(p, blocks, nt);
    /* Blocks over the threads; with fewer blocks than threads they run on the caller. */
    return lsk_conv_run_items(blocks, workspace_bytes(p), run_block, p);
}

/* ------------------------------------------------------------------------------------- */
/* Weight gradient: dU[e] [cout x cin] = sum over tiles of dM[e] (cout x tiles) x V[e]^T
 * (tiles x cin), with V the forward's input transform of the x patches and dM = A dY A^T
 * of the 4x4 dy tiles (the adjoint of the output transform); then dw = G^T dU G per filter
 * (the adjoint of the filter transform). The tiles and blocks are the forward pass's. */

typedef struct wino_wgrad {
    wino_problem p;  /* the forward problem: x, its geometry, the block size */
    const float *dy;
    size_t cc;       /* cout * cin: filters, the lanes of dU[e] */
    size_t dus;      /* row stride of dU: cc rounded up to LSK_WINO_LANE_ALIGN */
    int want_db;
} wino_wgrad;

/* One block into this thread's partials du [36][dus] (then db [cout] when wanted): first = 1
 * overwrites them, 0 adds. */
static lsk_status run_wblock(const wino_wgrad *q, size_t blk, float *ws, float *du, int first) {
    const wino_problem *p = &q->p;
    const size_t plane_out = p->ho * p->wo, vs = v_stride(p), ms = m_stride(p);
    wino_block b;
    block_input(p, blk, ws, &b);
    const size_t ld = b.ld, n = b.n, img0 = b.img0, img1 = b.img1;
    float *lanes = b.lanes, *v = b.v, *m = b.m;
    const lsk_wino_tile *tout = b.tout;
    float *db = du + 36 * q->dus;
    prefetch_planes(q->dy, p->cout, plane_out, 0, img0, img1);
    for (size_t co = 0; co < p->cout; co++) {
        if (co + 1 < p->cout) prefetch_planes(q->dy, p->cout, plane_out, co + 1, img0, img1);
        /* the 4x4 dy tiles, zeros past the output's edge (their dY is zero: the forward
         * pass drops those outputs) */
        p->cfg->gather(q->dy + co * plane_out, p->wo, tout, n, lanes, ld);
        p->cfg->output_adj(lanes, ld, m + co * ld, ms, n);
        if (q->want_db) { /* the tiles cover each output exactly once, and row 1 of A is all
                           * ones: element (1, 1) of A dY A^T is the tile's sum */
            const float sum = lsk_conv_row_sum(m + 7 * ms + co * ld, n);
            db[co] = first ? sum : db[co] + sum;
        }
    }
    for (size_t e = 0; e < 36; e++) {
        const lsk_status s = lsk_sgemm(LSK_NO_TRANS, LSK_TRANS, p->cout, p->cin, n, 1.0f, m + e * ms, ld, v + e * vs,
                                       ld, first ? 0.0f : 1.0f, du + e * q->dus, p->cin);
        if (s != LSK_OK) return s;
    }
    return LSK_OK;
}

lsk_status lsk_conv_winograd_bwd_weight(const lsk_conv_geom *g, float *dw, float *db, const float *dy, const float *x,
                                        int accumulate) {
    const lsk_conv2d_desc *d = &g->d;
    const size_t cc = d->out_channels * d->in_channels;
    wino_wgrad q = {{d->batch, d->in_channels, d->in_height, d->in_width, d->out_channels, g->ho, g->wo, d->pad_h,
                     d->pad_w, 0, 0, 0, 0, x, NULL, NULL, 0, NULL, 0, lsk_wino_get_config(lsk_active_isa()), NULL},
                    dy, cc, round_lanes(cc), db != NULL};
    /* tiles and block size as the forward pass */
    wino_problem *pp = &q.p;
    int nt = lsk_region_threads();
    const size_t blocks = plan_blocks(pp, nt);
    if ((size_t)nt > blocks) nt = (int)blocks;
    /* per-thread partials dU [36][dus] + db [cout], then G^T dU G [9][dus], in the calling
     * thread's AUX scratch */
    const size_t part_floats = 36 * q.dus + d->out_channels;
    size_t bytes;
    if (!lsk_mul_ok((size_t)nt * part_floats + 9 * q.dus, sizeof(float), &bytes)) return LSK_ERR_OUT_OF_MEMORY;
    float *part = (float *)lsk_scratch(LSK_SCRATCH_CONV_AUX, bytes);
    if (!part) return LSK_ERR_OUT_OF_MEMORY;
    float *taps = part + (size_t)nt * part_floats;
    const size_t ws_bytes = workspace_bytes(pp);
    lsk_status status = LSK_OK;
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        size_t t, team;
        lsk_thread_slot(&t, &team);
        float *ws = (float *)lsk_scratch(LSK_SCRATCH_CONV_COL, ws_bytes);
        if (!ws) {
            lsk_note_status(&status, LSK_ERR_OUT_OF_MEMORY);
        } else {
            float *du = part + t * part_floats;
            const size_t b0 = blocks * t / team, b1 = blocks * (t + 1) / team;
            for (size_t b = b0; b < b1; b++) lsk_note_status(&status, run_wblock(&q, b, ws, du, b == b0));
            if (b0 == b1) memset(du, 0, part_floats * sizeof(float));
        }
    }
    if (status != LSK_OK) return status;
    for (int t = 1; t < nt; t++) /* partials in thread order */
        for (size_t i = 0; i < part_floats; i++) part[i] += part[(size_t)t * part_floats + i];
    for (size_t e = 0; e < 36; e++) /* the padding lanes the transform reads: defined values */
        memset(part + e * q.dus + cc, 0, (q.dus - cc) * sizeof(float));
    pp->cfg->filter_adj(part, q.dus, taps, q.dus, cc);
    for (size_t f = 0; f < cc; f++) /* dw[co][ci] = G^T dU G of filter f = co*cin + ci */
        for (size_t r = 0; r < 9; r++) dw[f * 9 + r] = accumulate ? dw[f * 9 + r] + taps[r * q.dus + f] : taps[r * q.dus + f];
    if (db) {
        const float *sum = part + 36 * q.dus;
        for (size_t co = 0; co < d->out_channels; co++) db[co] = accumulate ? db[co] + sum[co] : sum[co];
    }
    return LSK_OK;
}

int lsk_conv_winograd_applies(const lsk_conv_geom *g, lsk_conv_pass pass) {
    const lsk_conv2d_desc *d = &g->d;
    if (d->kernel_h != 3 || d->kernel_w != 3 || d->stride_h != 1 || d->stride_w != 1 || d->groups != 1) return 0;
    if (pass == LSK_CONV_FWD) return 1;
    if (pass == LSK_CONV_BWD_DATA) return d->pad_h <= 2 && d->pad_w <= 2;
    return 1; /* bwd_weight: the forward's tiles, any padding */
}

/* The forward pass with transformed filters u (row stride us). */
static lsk_status wino_fwd(const lsk_conv_geom *g, float *y, const float *x, const float *u, size_t us, const float *b,
                           const lsk_conv_epilogue *ep) {
    const lsk_conv2d_desc *d = &g->d;
    wino_problem p = {d->batch, d->in_channels, d->in_height, d->in_width, d->out_channels, g->ho, g->wo,
                      d->pad_h, d->pad_w, 0, 0, 0, 0, x, u, b, us, y, 0, lsk_wino_get_config(lsk_active_isa()), ep};
    return wino_run(&p);
}

lsk_status lsk_conv_winograd_fwd(const lsk_conv_geom *g, float *y, const float *x, const float *w, const float *b,
                                 const lsk_conv_epilogue *ep) {
    size_t us;
    const float *u = filter_lookup(w, g->d.out_channels, g->d.in_channels, 0, &us);
    if (!u) return LSK_ERR_OUT_OF_MEMORY;
    return wino_fwd(g, y, x, u, us, b, ep);
}

size_t lsk_conv_winograd_filter_floats(size_t cout, size_t cin) { return 36 * round_lanes(cout * cin); }

lsk_status lsk_conv_winograd_filter_prepare(float *u, const float *w, size_t cout, size_t cin) {
    return filter_transform_into(u, cout, cin, 0, w, lsk_wino_get_config(lsk_active_isa()), round_lanes(cout * cin));
}

lsk_status lsk_conv_winograd_fwd_prepared(const lsk_conv_geom *g, float *y, const float *x, const float *u,
                                          const float *b, const lsk_conv_epilogue *ep) {
    return wino_fwd(g, y, x, u, round_lanes(g->d.out_channels * g->d.in_channels), b, ep);
}

/* dx = conv(dy, w'), w'[ci][co] = w[co][ci] flipped in both axes, padding 2 - pad, stride 1. */
lsk_status lsk_conv_winograd_bwd_data(const lsk_conv_geom *g, float *dx, const float *dy, const float *w,
                                      int accumulate) {
    const lsk_conv2d_desc *d = &g->d;
    size_t us;
    const float *u = filter_lookup(w, d->out_channels, d->in_channels, 1, &us);
    if (!u) return LSK_ERR_OUT_OF_MEMORY;
    wino_problem p = {d->batch, d->out_channels, g->ho, g->wo, d->in_channels, d->in_height, d->in_width,
                      2 - d->pad_h, 2 - d->pad_w, 0, 0, 0, 0, dy, u, NULL, us, dx, accumulate,
                      lsk_wino_get_config(lsk_active_isa()), NULL};
    return wino_run(&p);
}
