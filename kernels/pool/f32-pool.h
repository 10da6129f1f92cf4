/*
 * Template of the pooling microkernels (contracts and the phase-row scheme in
 * pool-ukernels.h). Included once per ISA after vec-<isa>.h.
 */

static void pool_fill(float *p, size_t n, float value) {
    const lsk_vf v = VDUP(value);
    size_t i = 0;
    for (; i + VLEN <= n; i += VLEN) VST(p + i, v);
    for (; i < n; i++) p[i] = value;
}

/* Split the in_h rows of one plane into phase rows, phase[r][M + q] = x[q*s + r] (rows of
 * s*ph_len floats). Only data slots and the whole-vector tails after them are written (the
 * tails with `pad`); every other slot keeps the `pad` that pool_fill put there once per call,
 * since every plane writes the same slots. */
static void pool_split_rows(const lsk_pool_geom *g, const float *x, float *ph, float pad) {
    const size_t s = g->s_w, L = g->ph_len, in_w = g->in_w;
    for (size_t h = 0; h < g->in_h; h++) {
        const float *row = x + h * in_w;
        float *e = ph + h * s * L + g->lead;
        size_t j = 0;
        if (s == 1) {
            for (; j + VLEN <= in_w; j += VLEN) VST(e + j, VLD(row + j));
            if (j < in_w) VST(e + j, VLDNF(row + j, in_w - j, pad));
        } else if (s == 2) { /* j counts column pairs; even columns to phase 0, odd to phase 1 */
            float *o = e + L;
            lsk_vf ev, od;
            for (; 2 * j + 2 * VLEN <= in_w; j += VLEN) {
                VDEINT2(VLD(row + 2 * j), VLD(row + 2 * j + VLEN), ev, od);
                VST(e + j, ev);
                VST(o + j, od);
            }
            const size_t rem = in_w - 2 * j;
            if (rem > 0) {
                lsk_vf a = VDUP(pad), b = VDUP(pad);
                if (rem >= VLEN) {
                    a = VLD(row + 2 * j);
                    if (rem > VLEN) b = VLDNF(row + 2 * j + VLEN, rem - VLEN, pad);
                } else {
                    a = VLDNF(row + 2 * j, rem, pad);
                }
                VDEINT2(a, b, ev, od);
                VST(e + j, ev);
                VST(o + j, od);
            }
        } else {
            for (size_t r = 0; r < s; r++)
                for (size_t q = 0, c = r; c < in_w; q++, c += s) e[r * L + q] = row[c];
        }
    }
}

/* Column tables: wcol[ow] = ow*s_w - p_w (input column of kw = 0), wfirst[ow] = first valid
 * input column of the window. Entries up to ow_pad are filled (whole-vector loads). */
static void pool_col_tables(const lsk_pool_geom *g, int32_t *wcol, int32_t *wfirst) {
    for (size_t ow = 0; ow < g->ow_pad; ow++) {
        const int64_t c = (int64_t)(ow * g->s_w) - (int64_t)g->p_w;
        wcol[ow] = (int32_t)c;
        wfirst[ow] = (int32_t)(c < 0 ? 0 : c);
    }
}

/* Rows of the window of output row oh inside the input: kh in [*lo, *hi); the input row of
 * kh is *top + kh - p_h. */
static inline void pool_rows(const lsk_pool_geom *g, size_t oh, size_t *top, size_t *lo, size_t *hi) {
    const size_t t = oh * g->s_h; /* padded row of kh = 0 */
    *lo = t < g->p_h ? g->p_h - t : 0;
    *hi = LSK_MIN(g->k_h, g->in_h + g->p_h - t);
    *top = t;
}

void LSK_UK(gavgpool, LSK_U4)(size_t planes, size_t hw, const float *x, float *y, float scale) {
    for (size_t p = 0; p < planes; p++) {
        const float *xp = x + p * hw;
        lsk_vf s0 = VZERO(), s1 = VZERO(), s2 = VZERO(), s3 = VZERO();
        size_t i = 0;
        for (; i + 4 * VLEN <= hw; i += 4 * VLEN) {
            s0 = VADD(s0, VLD(xp + i));
            s1 = VADD(s1, VLD(xp + i + VLEN));
            s2 = VADD(s2, VLD(xp + i + 2 * VLEN));
            s3 = VADD(s3, VLD(xp + i + 3 * VLEN));
        }
        for (; i + VLEN <= hw; i += VLEN) s0 = VADD(s0, VLD(xp + i));
        if (i < hw) s1 = VADD(s1, VLDN(xp + i, hw - i));
        y[p] = VHSUM(VADD(VADD(s0, s1), VADD(s2, s3))) * scale;
    }
}

void LSK_UK(gavgpool_bwd, LSK_U4)(size_t planes, size_t hw, const float *dy, float *dx, float scale, int accumulate) {
    for (size_t p = 0; p < planes; p++) {
        float *o = dx + p * hw;
        const lsk_vf v = VDUP(dy[p] * scale);
        size_t i = 0;
        if (!accumulate) {
            for (; i + 4 * VLEN <= hw; i += 4 * VLEN) {
                VST(o + i, v);
                VST(o + i + VLEN, v);
                VST(o + i + 2 * VLEN, v);
                VST(o + i + 3 * VLEN, v);
            }
            for (; i + VLEN <= hw; i += VLEN) VST(o + i, v);
            if (i < hw) VSTN(o + i, v, hw - i);
        } else {
            for (; i + 4 * VLEN <= hw; i += 4 * VLEN) {
                const lsk_vf a0 = VADD(VLD(o + i), v), a1 = VADD(VLD(o + i + VLEN), v);
                const lsk_vf a2 = VADD(VLD(o + i + 2 * VLEN), v), a3 = VADD(VLD(o + i + 3 * VLEN), v);
                VST(o + i, a0);
                VST(o + i + VLEN, a1);
                VST(o + i + 2 * VLEN, a2);
                VST(o + i + 3 * VLEN, a3);
            }
            for (; i + VLEN <= hw; i += VLEN) VST(o + i, VADD(VLD(o + i), v));
            if (i < hw) VSTN(o + i, VADD(VLDN(o + i, hw - i), v), hw - i);
        }
    }
}

/* Max pooling of up to 4 output rows oh0.. at once (one vector of columns at ow): the rows'
 * compare-select chains are independent, which hides the latency of each chain (a single
 * row of 16 outputs with a 3x3 window is one 9-step dependent chain). */
#define LSK_MP_ROWS 4
#define LSK_MP_INIT(i)                                                                           \
    lsk_vf b##i = ninf;                                                                          \
    lsk_vi a##i = VIDUP(0);                                                                      \
    size_t top##i = 0, lo##i = 0, hi##i = 0;                                                     \
    if (nr > i) {                                                                                \
        pool_rows(g, oh0 + i, &top##i, &lo##i, &hi##i);                                          \
        a##i = VIADD(VIDUP((top##i + lo##i - g->p_h) * in_w), first);                            \
    }
#define LSK_MP_TAP(i)                                                                            \
    if (nr > i && kh >= lo##i && kh < hi##i) {                                                   \
        const size_t h = top##i + kh - g->p_h;                                                   \
        const lsk_vf v = VLD(ph + h * s * L + tap);                                              \
        const lsk_vm m = VGTNAN(v, b##i);                                                        \
        b##i = VSEL(m, v, b##i);                                                                 \
        a##i = VISEL(m, VIADD(VIDUP(h * in_w + kw), cols), a##i);                                \
    }
#define LSK_MP_STORE(i)                                                                          \
    if (nr > i) {                                                                                \
        const size_t o = (oh0 + i) * out_w + ow;                                                 \
        if (ow + VLEN <= out_w) {                                                                \
            VST(yp + o, b##i);                                                                   \
            VIST(ap + o, a##i);                                                                  \
        } else {                                                                                 \
            VSTN(yp + o, b##i, out_w - ow);                                                      \
            VISTN(ap + o, a##i, out_w - ow);                                                     \
        }                                                                                        \
    }
static inline void maxpool_rows(const lsk_pool_geom *g, const float *ph, size_t oh0, size_t nr, size_t ow,
                                const int32_t *wcol, const int32_t *wfirst, float *yp, int32_t *ap) {
    const size_t in_w = g->in_w, out_w = g->out_w, s = g->s_w, L = g->ph_len, k_w = g->k_w;
    const size_t u0 = s * g->lead - g->p_w; /* phase slot of kw = 0 (see pool-ukernels.h) */
    const lsk_vf ninf = VDUP(-INFINITY);
    const lsk_vi cols = VILD(wcol + ow), first = VILD(wfirst + ow);
    /* strict > keeps the first maximum in row-major window order; an all -inf window keeps
     * its first valid position (PyTorch) */
    LSK_MP_INIT(0) LSK_MP_INIT(1) LSK_MP_INIT(2) LSK_MP_INIT(3)
    for (size_t kh = 0; kh < g->k_h; kh++) {
        size_t r = u0 % s, off = u0 / s;
        for (size_t kw = 0; kw < k_w; kw++) {
            const size_t tap = r * L + off + ow;
            LSK_MP_TAP(0) LSK_MP_TAP(1) LSK_MP_TAP(2) LSK_MP_TAP(3)
            if (++r == s) r = 0, off++;
        }
    }
    LSK_MP_STORE(0) LSK_MP_STORE(1) LSK_MP_STORE(2) LSK_MP_STORE(3)
}
#undef LSK_MP_INIT
#undef LSK_MP_TAP
#undef LSK_MP_STORE

void LSK_UK(maxpool, LSK_U1)(size_t planes, const lsk_pool_geom *g, const float *x, float *y, int32_t *argmax,
                             float *scratch) {
    int32_t *wcol = (int32_t *)scratch, *wfirst = wcol + g->ow_pad;
    float *ph = scratch + 2 * g->ow_pad;
    pool_col_tables(g, wcol, wfirst);
    pool_fill(ph, g->in_h * g->s_w * g->ph_len, -INFINITY);
    for (size_t p = 0; p < planes; p++) {
        pool_split_rows(g, x + p * g->in_h * g->in_w, ph, -INFINITY);
        float *yp = y + p * g->out_h * g->out_w;
        int32_t *ap = argmax + p * g->out_h * g->out_w;
        for (size_t oh = 0; oh < g->out_h; oh += LSK_MP_ROWS)
            for (size_t ow = 0; ow < g->out_w; ow += VLEN)
                maxpool_rows(g, ph, oh, LSK_MIN(LSK_MP_ROWS, g->out_h - oh), ow, wcol, wfirst, yp, ap);
    }
}

size_t LSK_UK(maxpool_bwd, LSK_U4)(size_t planes, const lsk_pool_geom *g, const float *dy, const int32_t *argmax,
                                   float *dx, int accumulate) {
    const size_t in_n = g->in_h * g->in_w, out_n = g->out_h * g->out_w;
    size_t bad = 0;
    for (size_t p = 0; p < planes; p++) {
        float *dp = dx + p * in_n;
        const float *gp = dy + p * out_n;
        const int32_t *ap = argmax + p * out_n;
        if (!accumulate) {
            const lsk_vf z = VZERO();
            size_t i = 0;
            for (; i + 4 * VLEN <= in_n; i += 4 * VLEN) {
                VST(dp + i, z);
                VST(dp + i + VLEN, z);
                VST(dp + i + 2 * VLEN, z);
                VST(dp + i + 3 * VLEN, z);
            }
            for (; i + VLEN <= in_n; i += VLEN) VST(dp + i, z);
            if (i < in_n) VSTN(dp + i, z, in_n - i);
        }
        /* scatter: windows overlap, so indices may repeat; scalar on every ISA */
        for (size_t o = 0; o < out_n; o++) {
            const uint32_t idx = (uint32_t)ap[o];
            if (idx < in_n) dp[idx] += gp[o];
            else bad++;
        }
    }
    return bad;
}

void LSK_UK(avgpool, LSK_U1)(size_t planes, const lsk_pool_geom *g, const float *x, float *y, float *scratch) {
    const size_t in_w = g->in_w, out_w = g->out_w, s = g->s_w, L = g->ph_len, k_w = g->k_w;
    const size_t u0 = s * g->lead - g->p_w;
    float *ph = scratch + 2 * g->ow_pad;
    pool_fill(ph, g->in_h * s * L, 0.0f);
    const lsk_vf vinv = VDUP(1.0f / (float)(g->k_h * g->k_w));
    for (size_t p = 0; p < planes; p++) {
        pool_split_rows(g, x + p * g->in_h * in_w, ph, 0.0f);
        float *yp = y + p * g->out_h * out_w;
        for (size_t oh = 0; oh < g->out_h; oh++) {
            size_t top, lo, hi;
            pool_rows(g, oh, &top, &lo, &hi);
            for (size_t ow = 0; ow < out_w; ow += VLEN) {
                lsk_vf sum = VZERO();
                for (size_t kh = lo; kh < hi; kh++) {
                    const float *row = ph + (top + kh - g->p_h) * s * L + ow;
                    size_t r = u0 % s, off = u0 / s;
                    for (size_t kw = 0; kw < k_w; kw++) {
                        sum = VADD(sum, VLD(row + r * L + off));
                        if (++r == s) r = 0, off++;
                    }
                }
                if (ow + VLEN <= out_w) VST(yp + oh * out_w + ow, VMUL(sum, vinv));
                else VSTN(yp + oh * out_w + ow, VMUL(sum, vinv), out_w - ow);
            }
        }
    }
}

void LSK_UK(avgpool_bwd, LSK_U1)(size_t planes, const lsk_pool_geom *g, const float *dy, float *dx, int accumulate,
                                 float *scratch) {
    const size_t in_w = g->in_w, out_w = g->out_w, s = g->s_w, L = g->ph_len, k_w = g->k_w, M = g->lead;
    const size_t u0 = s * M - g->p_w;
    float *acc = scratch + 2 * g->ow_pad;
    const lsk_vf vinv = VDUP(1.0f / (float)(g->k_h * g->k_w));
    for (size_t p = 0; p < planes; p++) {
        const float *gp = dy + p * g->out_h * out_w;
        float *dp = dx + p * g->in_h * in_w;
        pool_fill(acc, g->in_h * s * L, 0.0f);
        for (size_t oh = 0; oh < g->out_h; oh++) {
            size_t top, lo, hi;
            pool_rows(g, oh, &top, &lo, &hi);
            for (size_t ow = 0; ow < out_w; ow += VLEN) {
                /* lanes past out_w load 0 and add 0 */
                const lsk_vf gv = VMUL(ow + VLEN <= out_w ? VLD(gp + oh * out_w + ow)
                                                          : VLDN(gp + oh * out_w + ow, out_w - ow), vinv);
                for (size_t kh = lo; kh < hi; kh++) {
                    float *row = acc + (top + kh - g->p_h) * s * L + ow;
                    size_t r = u0 % s, off = u0 / s;
                    for (size_t kw = 0; kw < k_w; kw++) {
                        float *a = row + r * L + off;
                        VST(a, VADD(VLD(a), gv));
                        if (++r == s) r = 0, off++;
                    }
                }
            }
        }
        /* interleave the phase rows back into dx rows: dx[c] = phase[c % s][M + c / s] */
        for (size_t h = 0; h < g->in_h; h++) {
            const float *arow = acc + h * s * L + M;
            float *drow = dp + h * in_w;
            if (s == 1) {
                size_t j = 0;
                if (!accumulate) {
                    for (; j + VLEN <= in_w; j += VLEN) VST(drow + j, VLD(arow + j));
                    if (j < in_w) VSTN(drow + j, VLDN(arow + j, in_w - j), in_w - j);
                } else {
                    for (; j + VLEN <= in_w; j += VLEN) VST(drow + j, VADD(VLD(drow + j), VLD(arow + j)));
                    if (j < in_w) VSTN(drow + j, VADD(VLDN(drow + j, in_w - j), VLDN(arow + j, in_w - j)), in_w - j);
                }
                continue;
            }
            for (size_t r = 0; r < s; r++)
                for (size_t q = 0, c = r; c < in_w; q++, c += s)
                    drow[c] = accumulate ? drow[c] + arow[r * L + q] : arow[r * L + q];
        }
    }
}

const lsk_pool_ukernels LSK_UKTABLE(pool) = {
    LSK_UK(gavgpool, LSK_U4), LSK_UK(gavgpool_bwd, LSK_U4), LSK_UK(maxpool, LSK_U1),
    LSK_UK(maxpool_bwd, LSK_U4), LSK_UK(avgpool, LSK_U1), LSK_UK(avgpool_bwd, LSK_U1),
};
