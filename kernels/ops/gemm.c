/*
 * SGEMM operator: blocking, packing and threading around the per-ISA microkernels
 * (kernels/gemm/). Design and measurements: docs/gemm.md.
 *
 * Loops of one thread's sub-problem (Goto/BLIS order, with A broadcast and B vectors):
 *   for p0 in k, step kc            (kc balanced: ceil(k / ceil(k / KC)); fixed per ISA and k)
 *     for i0 in m, step mc           pack A block mc x kc into MR-tall panels (or read in place)
 *       for j0 in n, step nc         pack B block kc x nc into NR-wide panels (or read in place)
 *         for ir in MR panels of A   (one A micro-panel stays in L1)
 *           for jr in NR panels of B (the B block streams from L2)
 *             ukernel[mr][nv]        (edge tiles: the kernel with exactly mr rows, nv vectors)
 * The first k block applies beta, the later ones accumulate (beta = 1); alpha is applied
 * by every store.
 *
 * Threads: C is cut into a tm x tn grid of tile-aligned blocks (tm * tn = threads, chosen
 * by a cost model), and each thread runs the single-threaded loops above on its block
 * with its own scratch: no shared buffers, no barriers. Called inside a parallel region
 * (lsk_region_threads() == 1) or on a small problem it runs on the calling thread without
 * opening a region. The k blocking does not depend on the partition, and the tile that
 * computes an element (which fixes its summation order) depends only on the element's
 * position, since every block boundary is MR/NR-aligned: results are bitwise identical
 * for any thread count.
 */
#include <string.h>
#include "../gemm/gemm-internal.h"

typedef struct gemm_problem {
    lsk_transpose ta, tb;
    size_t m, n, k;
    float alpha, beta;
    const float *a; /* op(A)[0, 0] */
    size_t lda;
    const float *b; /* op(B)[0, 0] */
    size_t ldb;
    float *c;
    size_t ldc;
    size_t kc; /* k block, chosen once from the whole problem (same for every thread) */
} gemm_problem;

#if defined(__GNUC__) || defined(__clang__)
#define LSK_PREFETCH(p) __builtin_prefetch((p), 0, 3)
#else
#define LSK_PREFETCH(p) ((void)(p))
#endif

static size_t div_up(size_t x, size_t q) { return (x + q - 1) / q; }
static size_t round_up(size_t x, size_t q) { return div_up(x, q) * q; }

/* k block size: chosen from the whole problem, so every partition of it uses the same
 * blocks (determinism); blocks are balanced (k = 800 with KC = 384 gives 3 x 267). */
static size_t k_block(size_t kc_max, size_t k) {
    if (k <= kc_max) return k;
    return div_up(k, div_up(k, kc_max));
}

/* Read A in place instead of packing it? Packing costs one pass over A per k block (an
 * 8 x 8 register transpose for op(A) = A, a masked copy per k step for A^T). Read in place,
 * A is MR row streams (op(A) = A) or one cache line per k step (A^T): as fast as packed
 * while the mc x kc block is L2-resident, about 4% slower when it comes from L3 (2048^3),
 * where the packed panels are contiguous and the driver prefetches the next one. */
#define LSK_GEMM_DIRECT_A_MAX_FLOATS (256u * 1024u) /* 1 MiB of A per k block */
static int use_direct_a(const lsk_gemm_config *cfg, const gemm_problem *g) {
    if (!cfg->direct_a) return 0;
    return g->m * g->kc <= LSK_GEMM_DIRECT_A_MAX_FLOATS;
}

/* Read B in place instead of packing it? Only for op(B) = B (rows contiguous in n): each
 * NR-wide panel is then kc rows at stride ldb. For the conv shapes (M <= 128) in-place B
 * measured 5-15% faster than packing it (the packing pass is not amortised over few A
 * panels); for large M, packing (contiguous panels, no set conflicts for power-of-two ldb)
 * costs under 1% and is the safe choice. */
#define LSK_GEMM_DIRECT_B_MAX_PANELS 32 /* M <= 192 rows on AVX-512 / AVX2 */
static int use_direct_b(const lsk_gemm_config *cfg, const gemm_problem *g) {
    if (g->tb != LSK_NO_TRANS) return 0;
    return g->m <= LSK_GEMM_DIRECT_B_MAX_PANELS * cfg->mr;
}

/* C = beta * C on an m x n block (k == 0). */
static void scale_c(size_t m, size_t n, float beta, float *c, size_t ldc) {
    for (size_t i = 0; i < m; i++) {
        float *cr = c + i * ldc;
        if (beta == 0.0f) memset(cr, 0, n * sizeof(float));
        else if (beta != 1.0f)
            for (size_t j = 0; j < n; j++) cr[j] *= beta;
    }
}

/* One thread's sub-problem, on the calling thread. Scratch: this thread's GEMM_A / GEMM_B. */
static lsk_status gemm_serial(const lsk_gemm_config *cfg, const gemm_problem *g) {
    const size_t m = g->m, n = g->n, k = g->k;
    if (m == 0 || n == 0) return LSK_OK;
    if (k == 0) {
        scale_c(m, n, g->beta, g->c, g->ldc);
        return LSK_OK;
    }
    const size_t MR = cfg->mr, lanes = cfg->lanes, NR = cfg->nv * lanes;
    const size_t kcb = g->kc;
    /* mc blocks balanced and MR-aligned (m = 2100 with MC = 2048: 2 x 1050, not 2048 + 52) */
    const size_t mcb = m <= cfg->mc ? m : round_up(div_up(m, div_up(m, cfg->mc)), MR);
    const size_t ncb = LSK_MIN(cfg->nc, n);
    const int direct_a = use_direct_a(cfg, g), direct_b = use_direct_b(cfg, g);

    float *abuf = NULL, *bbuf = NULL;
    if (!direct_a) {
        abuf = (float *)lsk_scratch(LSK_SCRATCH_GEMM_A, round_up(mcb, MR) * kcb * sizeof(float));
        if (!abuf) return LSK_ERR_OUT_OF_MEMORY;
    }
    /* direct B still packs a last panel whose width is not a multiple of the vector width */
    const int need_b = !direct_b || (n % NR) % lanes != 0;
    if (need_b) {
        bbuf = (float *)lsk_scratch(LSK_SCRATCH_GEMM_B, (direct_b ? NR : round_up(ncb, NR)) * kcb * sizeof(float));
        if (!bbuf) return LSK_ERR_OUT_OF_MEMORY;
    }

    for (size_t p0 = 0; p0 < k; p0 += kcb) {
        const size_t kc = LSK_MIN(kcb, k - p0);
        const float beta = p0 == 0 ? g->beta : 1.0f;
        for (size_t i0 = 0; i0 < m; i0 += mcb) {
            const size_t mc = LSK_MIN(mcb, m - i0);
            const float *ap;
            size_t a_rs, a_cs, a_ps; /* element strides and stride between MR panels */
            if (!direct_a) {
                const float *src = g->ta == LSK_NO_TRANS ? g->a + i0 * g->lda + p0 : g->a + p0 * g->lda + i0;
                cfg->pack_a(mc, kc, src, g->lda, g->ta, MR, abuf);
                ap = abuf; a_rs = 1; a_cs = MR; a_ps = MR * kc;
            } else if (g->ta == LSK_NO_TRANS) {
                ap = g->a + i0 * g->lda + p0; a_rs = g->lda; a_cs = 1; a_ps = MR * g->lda;
            } else {
                ap = g->a + p0 * g->lda + i0; a_rs = 1; a_cs = g->lda; a_ps = MR;
            }
            for (size_t j0 = 0; j0 < n; j0 += ncb) {
                const size_t nc = LSK_MIN(ncb, n - j0);
                const size_t n_full = nc / NR * NR; /* columns in full panels */
                const float *bsrc = g->tb == LSK_NO_TRANS ? g->b + p0 * g->ldb + j0 : g->b + j0 * g->ldb + p0;
                size_t direct_cols = 0; /* columns [0, direct_cols) read in place */
                if (!direct_b) {
                    cfg->pack_b(kc, nc, bsrc, g->ldb, g->tb, NR, lanes, bbuf);
                } else {
                    direct_cols = (nc - n_full) % lanes == 0 ? nc : n_full;
                    if (direct_cols < nc)
                        cfg->pack_b(kc, nc - n_full, bsrc + n_full, g->ldb, g->tb, NR, lanes, bbuf);
                }
                const size_t n_panels = div_up(nc, NR);
                for (size_t ir = 0; ir < mc; ir += MR) {
                    const size_t mr = LSK_MIN(MR, mc - ir);
                    const float *a_panel = ap + (ir / MR) * a_ps;
                    float *c_row = g->c + (i0 + ir) * g->ldc + j0;
                    /* prefetch the next packed A micro-panel, a slice per B panel, so that the
                     * first ukernel call on it does not wait for L3 (about 4% at 2048^3) */
                    const char *next_a = ir + MR < mc && !direct_a ? (const char *)(a_panel + a_ps) : NULL;
                    const size_t pf_bytes = MR * kc * sizeof(float), pf_step = round_up(div_up(pf_bytes, n_panels), 64);
                    for (size_t jr = 0; jr < nc; jr += NR) {
                        if (next_a) {
                            const size_t lo = jr / NR * pf_step, hi = LSK_MIN(lo + pf_step, pf_bytes);
                            for (size_t off = lo; off < hi; off += 64) LSK_PREFETCH(next_a + off);
                        }
                        const size_t nr = LSK_MIN(NR, nc - jr);
                        const size_t nv = div_up(nr, lanes);
                        const float *bp;
                        size_t b_rs;
                        if (jr < direct_cols) {
                            bp = bsrc + jr; b_rs = g->ldb;
                        } else if (direct_b) {
                            bp = bbuf; b_rs = nv * lanes;
                        } else {
                            bp = bbuf + jr * kc; b_rs = nr == NR ? NR : nv * lanes;
                        }
                        cfg->ukernel[mr - 1][nv - 1](kc, a_panel, a_rs, a_cs, bp, b_rs, c_row + jr, g->ldc,
                                                     nr, g->alpha, beta);
                    }
                }
            }
        }
    }
    return LSK_OK;
}

/* Problems below this many FMAs (about 2.5 us on one Zen 5 core) run on one thread: an
 * OpenMP region costs 1.5-4 us here (measured), so splitting them would not pay. */
#define LSK_GEMM_PARALLEL_MIN_FMAS (512.0 * 1024.0)

#ifdef _OPENMP /* the partition is only used by the threaded path */
/* Sub-problem of rows [i0, i0 + mb) and columns [j0, j0 + nb) of C. */
static gemm_problem sub_problem(const gemm_problem *g, size_t i0, size_t mb, size_t j0, size_t nb) {
    gemm_problem s = *g;
    s.m = mb;
    s.n = nb;
    s.a = g->ta == LSK_NO_TRANS ? g->a + i0 * g->lda : g->a + i0;
    s.b = g->tb == LSK_NO_TRANS ? g->b + j0 : g->b + j0 * g->ldb;
    s.c = g->c + i0 * g->ldc + j0;
    return s;
}

/* Split `tiles` tiles of `tile` elements (total `len`) into `parts`: part t gets
 * [*start, *start + *count). Returns 0 if the part is empty. */
static int split_range(size_t len, size_t tile, size_t parts, size_t t, size_t *start, size_t *count) {
    const size_t tiles = div_up(len, tile);
    const size_t t0 = tiles * t / parts, t1 = tiles * (t + 1) / parts;
    *start = LSK_MIN(t0 * tile, len);
    *count = LSK_MIN(t1 * tile, len) - *start;
    return *count > 0;
}

/* Grid tm x tn (tm * tn == nt) minimising the largest block's cost: tile-rounded FMAs plus
 * the packing/reading of its A rows and B columns (about PACK_COST FMA lanes per element). */
static void choose_grid(const lsk_gemm_config *cfg, const gemm_problem *g, int nt, int *tm_out, int *tn_out) {
    const double PACK_COST = 8.0;
    const size_t MR = cfg->mr, NR = cfg->nv * cfg->lanes;
    const size_t mt = div_up(g->m, MR), ntl = div_up(g->n, NR);
    double best = -1.0;
    for (int tm = 1; tm <= nt; tm++) {
        if (nt % tm) continue;
        const int tn = nt / tm;
        const double rows = (double)(div_up(mt, (size_t)tm) * MR), cols = (double)(div_up(ntl, (size_t)tn) * NR);
        const double r = rows < (double)g->m ? rows : (double)g->m, c = cols < (double)g->n ? cols : (double)g->n;
        const double cost = rows * cols * (double)g->k + PACK_COST * (r + c) * (double)g->k;
        if (best < 0 || cost < best) {
            best = cost;
            *tm_out = tm;
            *tn_out = tn;
        }
    }
}

/* Thread t of nt: its block of the grid, run single-threaded. */
static lsk_status gemm_thread_block(const lsk_gemm_config *cfg, const gemm_problem *g, int t, int nt) {
    int tm = 1, tn = 1;
    choose_grid(cfg, g, nt, &tm, &tn);
    size_t i0, mb, j0, nb;
    if (!split_range(g->m, cfg->mr, (size_t)tm, (size_t)(t / tn), &i0, &mb)) return LSK_OK;
    if (!split_range(g->n, cfg->nv * cfg->lanes, (size_t)tn, (size_t)(t % tn), &j0, &nb)) return LSK_OK;
    const gemm_problem s = sub_problem(g, i0, mb, j0, nb);
    return gemm_serial(cfg, &s);
}
#endif

lsk_status lsk_sgemm(lsk_transpose trans_a, lsk_transpose trans_b, size_t m, size_t n, size_t k,
                     float alpha, const float *a, size_t lda, const float *b, size_t ldb,
                     float beta, float *c, size_t ldc) {
    LSK_CHECK(trans_a == LSK_NO_TRANS || trans_a == LSK_TRANS);
    LSK_CHECK(trans_b == LSK_NO_TRANS || trans_b == LSK_TRANS);
    if (m == 0 || n == 0) return LSK_OK;
    size_t tmp;
    /* every operand's byte size must fit in size_t (else it cannot exist) */
    LSK_CHECK(c && ldc >= n && lsk_mul_ok(m, ldc, &tmp) && tmp <= SIZE_MAX / sizeof(float));
    if (k > 0) {
        LSK_CHECK(a && b);
        LSK_CHECK(lda >= (trans_a ? m : k) && ldb >= (trans_b ? k : n));
        LSK_CHECK(lsk_mul_ok(trans_a ? k : m, lda, &tmp) && tmp <= SIZE_MAX / sizeof(float));
        LSK_CHECK(lsk_mul_ok(trans_b ? n : k, ldb, &tmp) && tmp <= SIZE_MAX / sizeof(float));
    }
    const lsk_gemm_config *cfg = lsk_gemm_get_config(lsk_active_isa());
    const gemm_problem g = {trans_a, trans_b, m, n, k, alpha, beta, a, lda, b, ldb, c, ldc,
                            k_block(cfg->kc, k)};

    int nt = lsk_region_threads();
    if ((double)m * (double)n * (double)k < LSK_GEMM_PARALLEL_MIN_FMAS) nt = 1;
    if (nt <= 1) return gemm_serial(cfg, &g);

    lsk_status status = LSK_OK;
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
    {
        const lsk_status st = gemm_thread_block(cfg, &g, omp_get_thread_num(), omp_get_num_threads());
        if (st != LSK_OK) {
#pragma omp atomic write
            status = st;
        }
    }
#else
    status = gemm_serial(cfg, &g);
#endif
    return status;
}
