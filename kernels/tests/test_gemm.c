/*
 * Tests for the gemm family (see harness.h): every microkernel of every ISA path the CPU
 * has, then lsk_sgemm against the oracle lsk_ref_sgemm over all transpose combinations,
 * alpha/beta, padded leading dimensions, edge sizes around MR/NR, primes, sizes crossing
 * the kc/mc/nc blocks, k = 0, 1 and 2 threads, a call nested in a parallel region, and
 * argument validation.
 *
 * Tolerance (per element, not per array): an element is a length-k dot product accumulated
 * in float by FMA chains (split into k blocks), then alpha * acc + beta * c. Its rounding
 * error is at most gamma_{k+2} * S with S = |alpha| sum_p |a_ip||b_pj| + |beta||c_ij| and
 * gamma_n ~ n u, u = 2^-24 (Higham, Accuracy and Stability of Numerical Algorithms, sec. 3.1);
 * the oracle (double accumulators, one final rounding) adds u |want|. We allow
 *   |got - want| <= 2 (k + 3) u S + u |want|,
 * computing S with the oracle itself on |A|, |B|, |C|. A bug (wrong index, missing or
 * stale row/column, alpha/beta misapplied) gives errors of order S, far above the bound;
 * and with beta == 0 a NaN in C (lsk_talloc's canary) must not reach the result.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "harness.h"
#include "../gemm/gemm-internal.h"

#define U_F32 (1.0 / 16777216.0)

/* Checks got against want elementwise with the bound above; s holds S per element. */
static int check_gemm(lsk_tctx *t, const char *what, size_t m, size_t n, size_t k,
                      const float *got, const float *want, const float *s, size_t ldc) {
    size_t bad = 0, bi = 0, bj = 0;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            const double g = got[i * ldc + j], w = want[i * ldc + j];
            const double tol = 2.0 * (double)(k + 3) * U_F32 * s[i * ldc + j] + U_F32 * fabs(w);
            if (!(fabs(g - w) <= tol)) {
                if (!bad) { bi = i; bj = j; }
                bad++;
            }
        }
    if (bad) {
        char msg[320];
        snprintf(msg, sizeof msg, "%s: %zu of %zu wrong; first (%zu,%zu) got %.9g want %.9g (S %.3g)", what, bad,
                 m * n, bi, bj, got[bi * ldc + bj], want[bi * ldc + bj], s[bi * ldc + bj]);
        return lsk_tcheck(t, 0, msg);
    }
    return lsk_tcheck(t, 1, what);
}

/* Fills the rows x cols logical part of a rows x ld buffer; the padding keeps its NaN. */
static void fill_matrix(lsk_tctx *t, float *x, size_t rows, size_t cols, size_t ld) {
    for (size_t i = 0; i < rows; i++) lsk_trand_fill(t, x + i * ld, cols, -1.0f, 1.0f);
}

typedef struct gemm_case {
    lsk_transpose ta, tb;
    size_t m, n, k;
    size_t pad_a, pad_b, pad_c; /* extra floats per row beyond the logical width */
    float alpha, beta;
    int threads;
} gemm_case;

/* Runs one lsk_sgemm case against the oracle; returns 1 on pass. If `out` is not NULL,
 * copies the result there (m x ldc floats) for determinism checks. */
static int run_case(lsk_tctx *t, const gemm_case *gc, float *out) {
    const size_t m = gc->m, n = gc->n, k = gc->k;
    const size_t a_rows = gc->ta ? k : m, a_cols = gc->ta ? m : k;
    const size_t b_rows = gc->tb ? n : k, b_cols = gc->tb ? k : n;
    const size_t lda = a_cols + gc->pad_a, ldb = b_cols + gc->pad_b, ldc = n + gc->pad_c;
    float *a = lsk_talloc(a_rows * lda), *b = lsk_talloc(b_rows * ldb);
    float *c = lsk_talloc(m * ldc), *c0 = lsk_talloc(m * ldc), *want = lsk_talloc(m * ldc);
    float *aa = lsk_talloc(a_rows * lda), *ab = lsk_talloc(b_rows * ldb), *s = lsk_talloc(m * ldc);
    fill_matrix(t, a, a_rows, a_cols, lda);
    fill_matrix(t, b, b_rows, b_cols, ldb);
    /* beta == 0: C keeps lsk_talloc's NaN (write-only contract); else random, NaN padding */
    if (gc->beta != 0.0f) fill_matrix(t, c, m, n, ldc);
    memcpy(c0, c, m * ldc * sizeof(float));
    memcpy(want, c, m * ldc * sizeof(float));
    lsk_tabs_copy(aa, a, a_rows * lda);
    lsk_tabs_copy(ab, b, b_rows * ldb);
    lsk_tabs_copy(s, c, m * ldc);

    char what[200];
    snprintf(what, sizeof what, "sgemm %s %c%c m=%zu n=%zu k=%zu pads=%zu,%zu,%zu alpha=%g beta=%g thr=%d",
             lsk_isa_name(lsk_get_isa()), gc->ta ? 'T' : 'N', gc->tb ? 'T' : 'N', m, n, k, gc->pad_a,
             gc->pad_b, gc->pad_c, gc->alpha, gc->beta, gc->threads);

    lsk_set_num_threads(gc->threads);
    const lsk_status st = lsk_sgemm(gc->ta, gc->tb, m, n, k, gc->alpha, a, lda, b, ldb, gc->beta, c, ldc);
    lsk_set_num_threads(0);
    lsk_ref_sgemm(gc->ta, gc->tb, m, n, k, gc->alpha, a, lda, b, ldb, gc->beta, want, ldc);
    lsk_ref_sgemm(gc->ta, gc->tb, m, n, k, fabsf(gc->alpha), aa, lda, ab, ldb, fabsf(gc->beta), s, ldc);

    int ok = st == LSK_OK;
    if (!ok) lsk_tcheck(t, 0, what);
    else ok = check_gemm(t, what, m, n, k, c, want, s, ldc);
    /* the padding columns [n, ldc) of C must be untouched (bitwise) */
    int pad_ok = 1;
    for (size_t i = 0; i < m && pad_ok; i++)
        if (memcmp(c + i * ldc + n, c0 + i * ldc + n, gc->pad_c * sizeof(float)) != 0) pad_ok = 0;
    if (!pad_ok) {
        char msg[240];
        snprintf(msg, sizeof msg, "%s: wrote C padding", what);
        ok = lsk_tcheck(t, 0, msg) && ok;
    }
    if (out) memcpy(out, c, m * ldc * sizeof(float));
    lsk_tfree(a); lsk_tfree(b); lsk_tfree(c); lsk_tfree(c0); lsk_tfree(want);
    lsk_tfree(aa); lsk_tfree(ab); lsk_tfree(s);
    return ok;
}

/* Every microkernel of the active ISA's config, called directly: all (rows, vectors)
 * shapes, partial last vectors, packed and (if supported) strided A, padded strides,
 * kc = 0, beta = 0 (NaN in C), 1 and -0.5; elements of C outside the tile stay untouched. */
static void test_ukernels(lsk_tctx *t) {
    const lsk_gemm_config *cfg = lsk_gemm_get_config(lsk_get_isa());
    const size_t MR = cfg->mr, L = cfg->lanes;
    const size_t kcs[] = {0, 1, 3, 17};
    const float betas[] = {0.0f, 1.0f, -0.5f};
    const size_t max_k = 17, ldc = cfg->nv * L + 5, b_rs = cfg->nv * L + 3;
    float *a = lsk_talloc(max_k * MR * 16), *b = lsk_talloc(max_k * b_rs);
    float *c = lsk_talloc((MR + 1) * ldc), *c0 = lsk_talloc((MR + 1) * ldc), *want = lsk_talloc((MR + 1) * ldc);
    lsk_trand_fill(t, a, max_k * MR * 16, -1.0f, 1.0f);
    lsk_trand_fill(t, b, max_k * b_rs, -1.0f, 1.0f);
    int failures = 0, cases = 0;
    for (size_t mr = 1; mr <= MR; mr++)
        for (size_t nv = 1; nv <= cfg->nv; nv++) {
            const lsk_f32_gemm_ukernel_fn uk = cfg->ukernel[mr - 1][nv - 1];
            if (!uk) {
                char msg[96];
                snprintf(msg, sizeof msg, "ukernel %zux%zu %s missing", mr, nv * L, lsk_isa_name(lsk_get_isa()));
                lsk_tcheck(t, 0, msg);
                continue;
            }
            const size_t nrs[3] = {nv * L - L + 1, nv * L - L / 2, nv * L};
            for (int in = 0; in < 3; in++)
                for (int ik = 0; ik < 4; ik++)
                    for (int ib = 0; ib < 3; ib++)
                        for (int strided = 0; strided <= cfg->direct_a; strided++) {
                            const size_t nr = nrs[in], kc = kcs[ik];
                            const float alpha = 1.25f, beta = betas[ib];
                            /* packed: (i, p) at i + p * MR; strided: at i * (kc + 7) + p */
                            const size_t a_rs = strided ? max_k + 7 : 1, a_cs = strided ? 1 : MR;
                            lsk_trand_fill(t, c, (MR + 1) * ldc, -1.0f, 1.0f);
                            if (beta == 0.0f)
                                for (size_t i = 0; i < mr; i++)
                                    for (size_t j = 0; j < nr; j++) c[i * ldc + j] = NAN;
                            memcpy(c0, c, (MR + 1) * ldc * sizeof(float));
                            memcpy(want, c, (MR + 1) * ldc * sizeof(float));
                            for (size_t i = 0; i < mr; i++)
                                for (size_t j = 0; j < nr; j++) {
                                    double acc = 0.0;
                                    for (size_t p = 0; p < kc; p++)
                                        acc += (double)a[i * a_rs + p * a_cs] * b[p * b_rs + j];
                                    const double prev = beta == 0.0f ? 0.0 : (double)beta * c0[i * ldc + j];
                                    want[i * ldc + j] = (float)(alpha * acc + prev);
                                }
                            uk(kc, a, a_rs, a_cs, b, b_rs, c, ldc, nr, alpha, beta);
                            int ok = 1;
                            for (size_t i = 0; i <= MR && ok; i++)
                                for (size_t j = 0; j < ldc && ok; j++) {
                                    const size_t idx = i * ldc + j;
                                    if (i < mr && j < nr) {
                                        /* |a|,|b| < 1: S <= 1.25 kc + 0.5 */
                                        ok = fabs((double)c[idx] - want[idx]) <= 2.0 * (kc + 3) * U_F32 * (1.25 * kc + 1.0);
                                    } else {
                                        ok = memcmp(&c[idx], &c0[idx], sizeof(float)) == 0;
                                    }
                                }
                            cases++;
                            if (!ok) {
                                failures++;
                                char msg[160];
                                snprintf(msg, sizeof msg, "ukernel %zux%zu %s nr=%zu kc=%zu beta=%g strided_a=%d",
                                         mr, nv * L, lsk_isa_name(lsk_get_isa()), nr, kc, beta, strided);
                                lsk_tcheck(t, 0, msg);
                            }
                        }
        }
    if (!failures) {
        char msg[96];
        snprintf(msg, sizeof msg, "%d ukernel cases %s", cases, lsk_isa_name(lsk_get_isa()));
        lsk_tcheck(t, 1, msg);
    }
    lsk_tfree(a); lsk_tfree(b); lsk_tfree(c); lsk_tfree(c0); lsk_tfree(want);
}

/* The active config's packing routines against the portable ones (which define the layout),
 * both transposes, widths/heights around the tile and vector sizes, k tails; the padding
 * columns of a partial B panel must be zero (the ukernels read them). */
static void test_pack(lsk_tctx *t) {
    const lsk_gemm_config *cfg = lsk_gemm_get_config(lsk_get_isa());
    const size_t MR = cfg->mr, L = cfg->lanes, NR = cfg->nv * L;
    const size_t ks[] = {1, 5, 16, 17, 40};
    const size_t widths[] = {1, L - 1, L + 1, NR - 1, NR, NR + 3, 2 * NR + L};
    const size_t heights[] = {1, MR - 1, MR, MR + 1, 3 * MR + 2};
    const size_t max_w = 2 * NR + L, max_k = 40, ld = max_w + max_k + 3;
    float *src = lsk_talloc(ld * ld);
    const size_t out_b = (max_w + NR) * max_k, out_a = (3 * MR + 2 + MR) * max_k;
    const size_t out_sz = LSK_MAX(out_a, out_b) + 64;
    float *got = lsk_talloc(out_sz), *want = lsk_talloc(out_sz);
    lsk_trand_fill(t, src, ld * ld, -1.0f, 1.0f);
    int bad = 0, cases = 0;
    char msg[160];
    for (int tr = 0; tr < 2; tr++)
        for (size_t ik = 0; ik < sizeof ks / sizeof ks[0]; ik++) {
            const size_t kc = ks[ik];
            for (size_t iw = 0; iw < sizeof widths / sizeof widths[0]; iw++) {
                const size_t nc = widths[iw];
                for (size_t i = 0; i < out_sz; i++) got[i] = want[i] = 7.0f; /* same background */
                cfg->pack_b(kc, nc, src, ld, (lsk_transpose)tr, NR, L, got);
                lsk_f32_gemm_pack_b(kc, nc, src, ld, (lsk_transpose)tr, NR, L, want);
                const size_t len = nc / NR * NR * kc + (nc % NR ? (nc % NR + L - 1) / L * L * kc : 0);
                cases++;
                if (memcmp(got, want, out_sz * sizeof(float)) != 0) {
                    snprintf(msg, sizeof msg, "pack_b %s %c kc=%zu nc=%zu differs from the portable packing",
                             lsk_isa_name(lsk_get_isa()), tr ? 'T' : 'N', kc, nc);
                    lsk_tcheck(t, 0, msg);
                    bad++;
                }
                /* the portable layout itself: each element where it belongs, pads zero */
                for (size_t q = 0, off = 0; q * NR < nc && !bad; q++) {
                    const size_t w = LSK_MIN(NR, nc - q * NR), stride = w == NR ? NR : (w + L - 1) / L * L;
                    for (size_t p = 0; p < kc; p++)
                        for (size_t j = 0; j < stride; j++) {
                            const size_t col = q * NR + j;
                            const float e = j >= w ? 0.0f : tr ? src[col * ld + p] : src[p * ld + col];
                            if (want[off + p * stride + j] != e) bad++;
                        }
                    off += stride * kc;
                    if (off > len) bad++;
                }
            }
            for (size_t ih = 0; ih < sizeof heights / sizeof heights[0]; ih++) {
                const size_t mc = heights[ih];
                for (size_t i = 0; i < out_sz; i++) got[i] = want[i] = 7.0f;
                cfg->pack_a(mc, kc, src, ld, (lsk_transpose)tr, MR, got);
                lsk_f32_gemm_pack_a(mc, kc, src, ld, (lsk_transpose)tr, MR, want);
                cases++;
                if (memcmp(got, want, out_sz * sizeof(float)) != 0) {
                    snprintf(msg, sizeof msg, "pack_a %s %c kc=%zu mc=%zu differs from the portable packing",
                             lsk_isa_name(lsk_get_isa()), tr ? 'T' : 'N', kc, mc);
                    lsk_tcheck(t, 0, msg);
                    bad++;
                }
                for (size_t i = 0; i < (mc + MR - 1) / MR * MR && !bad; i++) /* rows past mc: zero */
                    for (size_t p = 0; p < kc; p++) {
                        const float e = i >= mc ? 0.0f : tr ? src[p * ld + i] : src[i * ld + p];
                        if (want[(i / MR) * MR * kc + p * MR + i % MR] != e) bad++;
                    }
            }
        }
    snprintf(msg, sizeof msg, "%d packing cases %s", cases, lsk_isa_name(lsk_get_isa()));
    lsk_tcheck(t, bad == 0, msg);
    lsk_tfree(src); lsk_tfree(got); lsk_tfree(want);
}

/* Edge-size sweep of lsk_sgemm on the active ISA: all transposes, m around MR, n around
 * the vector width and NR, primes, k small and crossing nothing (blocks: test_blocks). */
static void test_sweep(lsk_tctx *t) {
    const lsk_gemm_config *cfg = lsk_gemm_get_config(lsk_get_isa());
    const size_t MR = cfg->mr, L = cfg->lanes, NR = cfg->nv * L;
    const size_t ms[] = {1, 2, MR - 1, MR, MR + 1, 2 * MR + 1, 13, 31, 67};
    const size_t ns[] = {1, 2, L - 1, L + 1, NR - 1, NR, NR + 1, 2 * NR + 3, 131};
    const size_t ks[] = {1, 2, 7, 31, 67};
    const float alphas[] = {1.0f, -0.75f, 2.0f};
    const float betas[] = {0.0f, 1.0f, 0.5f};
    int idx = 0;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (size_t im = 0; im < sizeof ms / sizeof ms[0]; im++)
                for (size_t in = 0; in < sizeof ns / sizeof ns[0]; in++, idx++) {
                    if (ms[im] == 0 || ns[in] == 0) continue;
                    const size_t k = ks[(im + 2 * in + ta) % (sizeof ks / sizeof ks[0])];
                    gemm_case gc = {(lsk_transpose)ta, (lsk_transpose)tb, ms[im], ns[in], k,
                                    (size_t)(idx % 3 == 0 ? 0 : 3), (size_t)(idx % 4 == 1 ? 0 : 5),
                                    (size_t)(idx % 2 ? 0 : 7), alphas[idx % 3], betas[(idx / 3) % 3],
                                    1 + (idx % 2)};
                    run_case(t, &gc, NULL);
                }
}

/* Sizes crossing the kc / mc / nc blocks and the direct/packed choices, plus k = 0. */
static void test_blocks(lsk_tctx *t) {
    const lsk_gemm_config *cfg = lsk_gemm_get_config(lsk_get_isa());
    const size_t MR = cfg->mr, NR = cfg->nv * cfg->lanes, KC = cfg->kc, MC = cfg->mc, NC = cfg->nc;
    const gemm_case cases[] = {
        /* k = kc + 3 and 2 kc + 1 (balanced k blocks), both transposes of A and B */
        {LSK_NO_TRANS, LSK_NO_TRANS, 2 * MR + 3, NR + 5, KC + 3, 0, 0, 0, 1.0f, 0.0f, 1},
        {LSK_TRANS, LSK_TRANS, MR + 1, 2 * NR + 1, 2 * KC + 1, 1, 2, 3, -1.5f, 1.0f, 2},
        {LSK_NO_TRANS, LSK_TRANS, 9 * MR + 1, 3 * NR - 1, KC + 3, 0, 1, 0, 1.0f, 0.5f, 2},
        {LSK_TRANS, LSK_NO_TRANS, 9 * MR + 1, 5 * NR + 3, KC + 3, 2, 0, 1, 0.5f, 0.0f, 1},
        /* m = mc + 5 (A repacked per block), n = nc + 17 (B repacked per block) */
        {LSK_NO_TRANS, LSK_NO_TRANS, MC + 5, 3, 5, 0, 0, 0, 1.0f, 1.0f, 2},
        {LSK_TRANS, LSK_NO_TRANS, MC + 5, 19, 7, 0, 0, 2, 1.0f, 0.0f, 1},
        {LSK_NO_TRANS, LSK_NO_TRANS, 7, NC + 17, 9, 0, 0, 0, 1.0f, 0.0f, 2},
        {LSK_NO_TRANS, LSK_TRANS, 67, NC + 17, 9, 0, 0, 0, 2.0f, -1.0f, 2},
        {LSK_NO_TRANS, LSK_NO_TRANS, 67, NC + 17, KC + 3, 0, 0, 0, 1.0f, 0.0f, 2},
        /* one tile of work over 2 threads: one thread's block is empty */
        {LSK_NO_TRANS, LSK_TRANS, MR - 1, NR - 4, 3000, 0, 0, 0, 1.0f, 0.0f, 2},
        /* conv-like shapes */
        {LSK_NO_TRANS, LSK_NO_TRANS, 32, 256, 288, 0, 0, 0, 1.0f, 0.0f, 2},
        {LSK_NO_TRANS, LSK_NO_TRANS, 16, 1024, 144, 0, 0, 0, 1.0f, 1.0f, 1},
        {LSK_TRANS, LSK_NO_TRANS, 64, 64, 576, 0, 0, 0, 1.0f, 0.0f, 2},
        /* k = 0: C = beta C (beta = 0 clears a NaN C) */
        {LSK_NO_TRANS, LSK_NO_TRANS, 5, 9, 0, 0, 0, 2, 1.0f, 0.0f, 1},
        {LSK_TRANS, LSK_TRANS, 7, 70, 0, 0, 0, 0, 1.0f, 0.5f, 2},
        {LSK_NO_TRANS, LSK_NO_TRANS, 3, 4, 0, 0, 0, 0, 1.0f, 1.0f, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(t, &cases[i], NULL);
}

/* Results are bitwise identical for 1 and 2 threads (the k blocking does not depend on
 * the partition), and a call inside a parallel region (each thread its own GEMM) works. */
static void test_threads(lsk_tctx *t) {
    const lsk_gemm_config *cfg = lsk_gemm_get_config(lsk_get_isa());
    const gemm_case base = {LSK_NO_TRANS, LSK_TRANS, 4 * cfg->mr + 1, 3 * cfg->nv * cfg->lanes + 2, cfg->kc + 9,
                            0, 0, 0, 1.0f, 0.0f, 1};
    const size_t sz = base.m * base.n;
    float *r1 = lsk_talloc(sz), *r2 = lsk_talloc(sz);
    const uint64_t rng = t->rng; /* same random inputs for both runs */
    gemm_case gc = base;
    run_case(t, &gc, r1);
    t->rng = rng;
    gc.threads = 2;
    run_case(t, &gc, r2);
    char msg[96];
    snprintf(msg, sizeof msg, "sgemm %s bitwise equal for 1 and 2 threads", lsk_isa_name(lsk_get_isa()));
    lsk_tcheck(t, memcmp(r1, r2, sz * sizeof(float)) == 0, msg);
    lsk_tfree(r1);
    lsk_tfree(r2);

#ifdef _OPENMP
    /* nested: two threads each run a GEMM on their own matrices (single-threaded inside) */
    enum { NM = 37, NN = 45, NK = 29 };
    float *a = lsk_talloc(2 * NM * NK), *b = lsk_talloc(2 * NK * NN), *c = lsk_talloc(2 * NM * NN);
    float *want = lsk_talloc(2 * NM * NN);
    lsk_trand_fill(t, a, 2 * NM * NK, -1.0f, 1.0f);
    lsk_trand_fill(t, b, 2 * NK * NN, -1.0f, 1.0f);
    int st[2] = {-1, -1};
    lsk_set_num_threads(2);
#pragma omp parallel for num_threads(2)
    for (int i = 0; i < 2; i++)
        st[i] = lsk_sgemm(LSK_NO_TRANS, LSK_NO_TRANS, NM, NN, NK, 1.0f, a + i * NM * NK, NK, b + i * NK * NN, NN,
                          0.0f, c + i * NM * NN, NN);
    lsk_set_num_threads(0);
    int ok = st[0] == LSK_OK && st[1] == LSK_OK;
    for (int i = 0; i < 2; i++)
        lsk_ref_sgemm(LSK_NO_TRANS, LSK_NO_TRANS, NM, NN, NK, 1.0f, a + i * NM * NK, NK, b + i * NK * NN, NN, 0.0f,
                      want + i * NM * NN, NN);
    for (size_t i = 0; i < 2 * NM * NN && ok; i++) ok = fabsf(c[i] - want[i]) <= 2.0f * (NK + 3) * (float)U_F32 * NK;
    snprintf(msg, sizeof msg, "sgemm %s inside a parallel region", lsk_isa_name(lsk_get_isa()));
    lsk_tcheck(t, ok, msg);
    lsk_tfree(a); lsk_tfree(b); lsk_tfree(c); lsk_tfree(want);
#endif
}

/* Invalid arguments: LSK_ERR_INVALID_ARGUMENT and C untouched. */
static void test_invalid(lsk_tctx *t) {
    float a[12], b[12], c[12], c0[12];
    for (int i = 0; i < 12; i++) { a[i] = b[i] = 1.0f; c[i] = c0[i] = (float)i; }
    const lsk_transpose N = LSK_NO_TRANS, T = LSK_TRANS;
    struct { lsk_status got; const char *what; } r[] = {
        {lsk_sgemm((lsk_transpose)2, N, 2, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2), "bad trans_a"},
        {lsk_sgemm(N, (lsk_transpose)-1, 2, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2), "bad trans_b"},
        {lsk_sgemm(N, N, 2, 3, 2, 1.0f, a, 2, b, 3, 0.0f, c, 2), "ldc < n"},
        {lsk_sgemm(N, N, 2, 2, 3, 1.0f, a, 2, b, 2, 0.0f, c, 2), "lda < k (NN)"},
        {lsk_sgemm(T, N, 3, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2), "lda < m (TN)"},
        {lsk_sgemm(N, N, 2, 3, 2, 1.0f, a, 2, b, 2, 0.0f, c, 3), "ldb < n (NN)"},
        {lsk_sgemm(N, T, 2, 2, 3, 1.0f, a, 3, b, 2, 0.0f, c, 2), "ldb < k (NT)"},
        {lsk_sgemm(N, N, 2, 2, 2, 1.0f, NULL, 2, b, 2, 0.0f, c, 2), "NULL a"},
        {lsk_sgemm(N, N, 2, 2, 2, 1.0f, a, 2, NULL, 2, 0.0f, c, 2), "NULL b"},
        {lsk_sgemm(N, N, 2, 2, 2, 1.0f, a, 2, b, 2, 0.0f, NULL, 2), "NULL c"},
        {lsk_sgemm(N, N, (size_t)1 << 62, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 1u << 4), "m * ldc overflows"},
    };
    char msg[96];
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        snprintf(msg, sizeof msg, "sgemm rejects %s", r[i].what);
        lsk_tcheck(t, r[i].got == LSK_ERR_INVALID_ARGUMENT, msg);
    }
    lsk_tcheck(t, memcmp(c, c0, sizeof c) == 0, "sgemm invalid calls leave C untouched");
    /* valid degenerate calls: m = 0 or n = 0 do nothing; k = 0 needs no A or B */
    lsk_tcheck(t, lsk_sgemm(N, N, 0, 2, 2, 1.0f, NULL, 0, NULL, 0, 0.0f, NULL, 0) == LSK_OK, "sgemm m = 0 is a no-op");
    lsk_tcheck(t, lsk_sgemm(N, N, 2, 2, 0, 1.0f, NULL, 0, NULL, 0, 2.0f, c, 2) == LSK_OK && c[3] == 6.0f && c[4] == 4.0f,
               "sgemm k = 0 scales C without reading A or B");
}

void lsk_test_gemm(lsk_tctx *t) {
    test_invalid(t);
    LSK_FOR_EACH_ISA(isa) {
        test_ukernels(t);
        test_pack(t);
        test_sweep(t);
        test_blocks(t);
        test_threads(t);
    }
}
