/*
 * Template of the pooling microkernels (contracts and the phase-row scheme in
 * pool-ukernels.h). Included once per ISA after vec-<isa>.h.
 */

/* Split the in_h rows of one plane into phase rows (see pool-ukernels.h); padding and the
 * columns past the last window get `pad`. Each row is first copied into a padded row
 * buffer prow (s_w * ph_len floats + slack), which is then deinterleaved: a plain copy for
 * stride 1, vector deinterleaving for stride 2, a strided gather otherwise. */
static void pool_split_rows(const lsk_pool_geom *g, const float *x, float *scratch, float pad) {
    const size_t s = g->s_w, L = g->ph_len, in_w = g->in_w, total = s * L;
    const size_t lead = LSK_MIN(g->p_w, total), body = LSK_MIN(in_w, total - lead);
    float *prow = scratch + 2 * g->ow_pad, *ph = lsk_pool_scratch_rows(g, scratch);
    const lsk_vf vpad = VDUP(pad);
    /* the padding around the body is the same for every row */
    for (size_t j = 0; j < lead; j++) prow[j] = pad;
    for (size_t j = lead + body; j < total + LSK_POOL_ROW_SLACK; j++) prow[j] = pad;
    for (size_t h = 0; h < g->in_h; h++) {
        const float *row = x + h * in_w;
        float *out = ph + h * total;
        float *dst = s == 1 ? out : prow;
        if (s == 1) {
            for (size_t j = 0; j < lead; j++) dst[j] = pad;
            for (size_t j = lead + body; j < L; j++) dst[j] = pad;
        }
        size_t j = 0;
        for (; j + VLEN <= body; j += VLEN) VST(dst + lead + j, VLD(row + j));
        if (j < body) VSTN(dst + lead + j, VLDN(row + j, body - j), body - j);
        if (s == 1) continue;
        if (s == 2) {
            float *e = out, *o = out + L;
            for (j = 0; j + VLEN <= L; j += VLEN) {
                lsk_vf ev, od;
                VDEINT2(prow + 2 * j, ev, od);
                VST(e + j, ev);
                VST(o + j, od);
            }
            if (j < L) { /* reads stay inside prow's slack */
                lsk_vf ev, od;
                VDEINT2(prow + 2 * j, ev, od);
                VSTN(e + j, ev, L - j);
                VSTN(o + j, od, L - j);
            }
            continue;
        }
        for (size_t r = 0; r < s; r++)
            for (size_t q = 0; q < L; q++) out[r * L + q] = prow[q * s + r];
    }
    (void)vpad;
}

/* Column tables: wcol[ow] = ow*s_w - p_w (input column of kw = 0), wfirst[ow] = first valid
 * input column of the window. Entries up to ow_pad are filled (full-vector loads). */
static void pool_col_tables(const lsk_pool_geom *g, int32_t *wcol, int32_t *wfirst) {
    for (size_t ow = 0; ow < g->ow_pad; ow++) {
        const int64_t c = (int64_t)(ow * g->s_w) - (int64_t)g->p_w;
        wcol[ow] = (int32_t)c;
        wfirst[ow] = (int32_t)(c < 0 ? 0 : c);
    }
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

/* Rows [*lo, *hi) of the window of output row oh that lie inside the input. */
static inline void pool_rows(const lsk_pool_geom *g, size_t oh, size_t *h0, size_t *lo, size_t *hi) {
    const size_t top = oh * g->s_h; /* padded row of kh = 0 */
    *lo = top < g->p_h ? g->p_h - top : 0;
    *hi = LSK_MIN(g->k_h, g->in_h + g->p_h - top);
    *h0 = top; /* input row of kh is top + kh - p_h */
}

void LSK_UK(maxpool, LSK_U1)(size_t planes, const lsk_pool_geom *g, const float *x, float *y, int32_t *argmax,
                             float *scratch) {
    const size_t in_w = g->in_w, out_w = g->out_w, s = g->s_w, L = g->ph_len, k_w = g->k_w;
    int32_t *wcol = (int32_t *)scratch, *wfirst = wcol + g->ow_pad;
    const float *ph = lsk_pool_scratch_rows(g, scratch);
    pool_col_tables(g, wcol, wfirst);
    const lsk_vf ninf = VDUP(-INFINITY);
    for (size_t p = 0; p < planes; p++) {
        pool_split_rows(g, x + p * g->in_h * in_w, scratch, -INFINITY);
        float *yp = y + p * g->out_h * out_w;
        int32_t *ap = argmax + p * g->out_h * out_w;
        for (size_t oh = 0; oh < g->out_h; oh++) {
            size_t top, lo, hi;
            pool_rows(g, oh, &top, &lo, &hi);
            for (size_t ow = 0; ow < out_w; ow += VLEN) {
                lsk_vf best = ninf;
                lsk_vi bidx = VIADD(VIDUP((top + lo - g->p_h) * in_w), VILD(wfirst + ow));
                const lsk_vi cols = VILD(wcol + ow);
                for (size_t kh = lo; kh < hi; kh++) {
                    const size_t h = top + kh - g->p_h;
                    const float *row = ph + h * s * L + ow;
                    for (size_t kw = 0; kw < k_w; kw++) {
                        const lsk_vf v = VLD(row + (kw % s) * L + kw / s);
                        const lsk_vm m = VGTNAN(v, best);
                        best = VSEL(m, v, best);
                        bidx = VISEL(m, VIADD(VIDUP(h * in_w + kw), cols), bidx);
                    }
                }
                const size_t o = oh * out_w + ow;
                if (ow + VLEN <= out_w) {
                    VST(yp + o, best);
                    VIST(ap + o, bidx);
                } else {
                    VSTN(yp + o, best, out_w - ow);
                    VISTN(ap + o, bidx, out_w - ow);
                }
            }
        }
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
    const float *ph = lsk_pool_scratch_rows(g, scratch);
    const lsk_vf vinv = VDUP(1.0f / (float)(g->k_h * g->k_w));
    for (size_t p = 0; p < planes; p++) {
        pool_split_rows(g, x + p * g->in_h * in_w, scratch, 0.0f);
        float *yp = y + p * g->out_h * out_w;
        for (size_t oh = 0; oh < g->out_h; oh++) {
            size_t top, lo, hi;
            pool_rows(g, oh, &top, &lo, &hi);
            for (size_t ow = 0; ow < out_w; ow += VLEN) {
                lsk_vf sum = VZERO();
                for (size_t kh = lo; kh < hi; kh++) {
                    const float *row = ph + (top + kh - g->p_h) * s * L + ow;
                    for (size_t kw = 0; kw < k_w; kw++) sum = VADD(sum, VLD(row + (kw % s) * L + kw / s));
                }
                if (ow + VLEN <= out_w) VST(yp + oh * out_w + ow, VMUL(sum, vinv));
                else VSTN(yp + oh * out_w + ow, VMUL(sum, vinv), out_w - ow);
            }
        }
    }
}

void LSK_UK(avgpool_bwd, LSK_U1)(size_t planes, const lsk_pool_geom *g, const float *dy, float *dx, int accumulate,
                                 float *scratch) {
    const size_t in_w = g->in_w, out_w = g->out_w, s = g->s_w, L = g->ph_len, k_w = g->k_w;
    const size_t nacc = g->in_h * s * L;
    float *acc = lsk_pool_scratch_rows(g, scratch);
    const lsk_vf vinv = VDUP(1.0f / (float)(g->k_h * g->k_w)), z = VZERO();
    for (size_t p = 0; p < planes; p++) {
        const float *gp = dy + p * g->out_h * out_w;
        float *dp = dx + p * g->in_h * in_w;
        size_t i = 0;
        for (; i + VLEN <= nacc; i += VLEN) VST(acc + i, z);
        for (; i < nacc; i++) acc[i] = 0.0f;
        for (size_t oh = 0; oh < g->out_h; oh++) {
            size_t top, lo, hi;
            pool_rows(g, oh, &top, &lo, &hi);
            for (size_t ow = 0; ow < out_w; ow += VLEN) {
                /* lanes past out_w load 0 and add 0 */
                const lsk_vf gv = VMUL(ow + VLEN <= out_w ? VLD(gp + oh * out_w + ow)
                                                          : VLDN(gp + oh * out_w + ow, out_w - ow), vinv);
                for (size_t kh = lo; kh < hi; kh++) {
                    float *row = acc + (top + kh - g->p_h) * s * L + ow;
                    for (size_t kw = 0; kw < k_w; kw++) {
                        float *a = row + (kw % s) * L + kw / s;
                        VST(a, VADD(VLD(a), gv));
                    }
                }
            }
        }
        /* interleave the phase rows back into dx rows */
        for (size_t h = 0; h < g->in_h; h++) {
            const float *arow = acc + h * s * L;
            float *drow = dp + h * in_w;
            if (s == 1) {
                const float *src = arow + g->p_w;
                size_t j = 0;
                if (!accumulate) {
                    for (; j + VLEN <= in_w; j += VLEN) VST(drow + j, VLD(src + j));
                    if (j < in_w) VSTN(drow + j, VLDN(src + j, in_w - j), in_w - j);
                } else {
                    for (; j + VLEN <= in_w; j += VLEN) VST(drow + j, VADD(VLD(drow + j), VLD(src + j)));
                    if (j < in_w) VSTN(drow + j, VADD(VLDN(drow + j, in_w - j), VLDN(src + j, in_w - j)), in_w - j);
                }
                continue;
            }
            for (size_t iw = 0; iw < in_w; iw++) {
                const size_t pw = iw + g->p_w;
                /* trailing columns that no window covers can lie past the phase rows */
                const float v = pw / s < L ? arow[(pw % s) * L + pw / s] : 0.0f;
                drow[iw] = accumulate ? drow[iw] + v : v;
            }
        }
    }
}

const lsk_pool_ukernels LSK_UKTABLE(pool) = {
    LSK_UK(gavgpool, LSK_U4), LSK_UK(gavgpool_bwd, LSK_U4), LSK_UK(maxpool, LSK_U1),
    LSK_UK(maxpool_bwd, LSK_U4), LSK_UK(avgpool, LSK_U1), LSK_UK(avgpool_bwd, LSK_U1),
};
