/*
 * Template of the depthwise-convolution microkernels (contracts in dwconv-internal.h).
 * Included once per ISA after vec-<isa>.h (on x86 inside the isa_*_begin.h region), with
 * DW_VINT2(a, b, lo, hi) defined: interleave the lanes of a and b (lo = a0 b0 a1 b1 ...,
 * hi = the second half), the inverse of the vector layer's VDEINT2; and DW_VZTAIL(v, n):
 * v with lanes n.. zeroed (0 < n < VLEN).
 * LSK_UK names them lsk_f32_dwconv_<op>_ukernel_<tile>__<isa>.
 */

/* 4 vectors of outputs per step: each tap's weight is broadcast once per 4 vectors, and
 * 4 independent FMA chains hide the FMA latency. n is a multiple of 16 >= VLEN. */
void LSK_UK(dwconv_axpy, LSK_U4)(size_t n, size_t terms, const float *const *src, const float *w, float init,
                                 float *out) {
    const lsk_vf vinit = VDUP(init);
    size_t q = 0;
    for (; q + 4 * VLEN <= n; q += 4 * VLEN) {
        lsk_vf a0 = vinit, a1 = vinit, a2 = vinit, a3 = vinit;
        for (size_t t = 0; t < terms; t++) {
            const float *s = src[t] + q;
            const lsk_vf wt = VDUP(w[t]);
            a0 = VFMA(wt, VLD(s), a0);
            a1 = VFMA(wt, VLD(s + VLEN), a1);
            a2 = VFMA(wt, VLD(s + 2 * VLEN), a2);
            a3 = VFMA(wt, VLD(s + 3 * VLEN), a3);
        }
        VST(out + q, a0);
        VST(out + q + VLEN, a1);
        VST(out + q + 2 * VLEN, a2);
        VST(out + q + 3 * VLEN, a3);
    }
    for (; q < n; q += VLEN) {
        lsk_vf a0 = vinit;
        for (size_t t = 0; t < terms; t++) a0 = VFMA(VDUP(w[t]), VLD(src[t] + q), a0);
        VST(out + q, a0);
    }
}

/* Three terms at a time, two vectors per step: a[q] is loaded once for three products and
 * six accumulators are in flight. A group of fewer than three terms repeats its last
 * pointer (the extra sums are discarded). The first group also sums a itself (db). */
void LSK_UK(dwconv_dot, LSK_U1)(size_t n, size_t terms, const float *a, const float *const *src, float *out,
                                float *sum_a) {
    for (size_t t = 0; t < terms; t += 3) {
        const float *s0 = src[t];
        const float *s1 = t + 1 < terms ? src[t + 1] : s0;
        const float *s2 = t + 2 < terms ? src[t + 2] : s1;
        lsk_vf c0 = VZERO(), c1 = VZERO(), c2 = VZERO(), d0 = VZERO(), d1 = VZERO(), d2 = VZERO();
        lsk_vf e0 = VZERO(), e1 = VZERO();
        size_t q = 0;
        for (; q + 2 * VLEN <= n; q += 2 * VLEN) {
            const lsk_vf u = VLD(a + q), v = VLD(a + q + VLEN);
            c0 = VFMA(u, VLD(s0 + q), c0);
            c1 = VFMA(u, VLD(s1 + q), c1);
            c2 = VFMA(u, VLD(s2 + q), c2);
            d0 = VFMA(v, VLD(s0 + q + VLEN), d0);
            d1 = VFMA(v, VLD(s1 + q + VLEN), d1);
            d2 = VFMA(v, VLD(s2 + q + VLEN), d2);
            if (t == 0) { /* loop-invariant test: unswitched by the compiler */
                e0 = VADD(e0, u);
                e1 = VADD(e1, v);
            }
        }
        for (; q < n; q += VLEN) {
            const lsk_vf u = VLD(a + q);
            c0 = VFMA(u, VLD(s0 + q), c0);
            c1 = VFMA(u, VLD(s1 + q), c1);
            c2 = VFMA(u, VLD(s2 + q), c2);
            if (t == 0) e0 = VADD(e0, u);
        }
        out[t] = VHSUM(VADD(c0, d0));
        if (t + 1 < terms) out[t + 1] = VHSUM(VADD(c1, d1));
        if (t + 2 < terms) out[t + 2] = VHSUM(VADD(c2, d2));
        if (t == 0 && sum_a) *sum_a = VHSUM(VADD(e0, e1));
    }
}

/* Stores the first m (0 <= m <= VLEN) lanes of v at p. */
#define DW_VSTM(p, v, m) \
    do { if ((m) == VLEN) VST(p, v); else if ((m) > 0) VSTN(p, v, m); } while (0)
/* Loads the first m (0 < m <= 2*VLEN) floats at p into a (lanes 0..VLEN-1) and b (the
 * rest), zeros past m; never reads p[m..]. */
#define DW_VLD2M(p, m, a, b)                                               \
    do {                                                                   \
        (a) = (m) >= VLEN ? VLD(p) : VLDN(p, m);                           \
        (b) = (m) == 2 * VLEN ? VLD((p) + VLEN) : (m) > VLEN ? VLDN((p) + VLEN, (m) - VLEN) : VZERO(); \
    } while (0)

void LSK_UK(dwconv_deint2, LSK_U1)(size_t w, size_t avail, const float *x, float *even, float *odd) {
    size_t c = 0; /* output index: x[2c], x[2c+1] */
    lsk_vf a, b, ev, od;
    for (; 2 * c + 2 * VLEN <= w; c += VLEN) {
        VDEINT2(VLD(x + 2 * c), VLD(x + 2 * c + VLEN), ev, od);
        VST(even + c, ev);
        VST(odd + c, od);
    }
    if (2 * c < w) { /* m < 2*VLEN floats left: ceil(m/2) even, floor(m/2) odd */
        const size_t m = w - 2 * c;
        if (avail >= 2 * c + 2 * VLEN) { /* plain loads (see rows_in), lanes past m zeroed */
            a = m >= VLEN ? VLD(x + 2 * c) : DW_VZTAIL(VLD(x + 2 * c), m);
            b = m > VLEN ? DW_VZTAIL(VLD(x + 2 * c + VLEN), m - VLEN) : VZERO();
        } else {
            DW_VLD2M(x + 2 * c, m, a, b);
        }
        VDEINT2(a, b, ev, od);
        DW_VSTM(even + c, ev, (m + 1) / 2);
        DW_VSTM(odd + c, od, m / 2);
    }
}

void LSK_UK(dwconv_int2, LSK_U1)(size_t w, const float *a, const float *b, float *y, int accumulate) {
    size_t c = 0; /* input index: y[2c] <- a[c], y[2c+1] <- b[c] */
    lsk_vf lo, hi;
    for (; 2 * c + 2 * VLEN <= w; c += VLEN) {
        DW_VINT2(VLD(a + c), VLD(b + c), lo, hi);
        if (accumulate) {
            lo = VADD(VLD(y + 2 * c), lo);
            hi = VADD(VLD(y + 2 * c + VLEN), hi);
        }
        VST(y + 2 * c, lo);
        VST(y + 2 * c + VLEN, hi);
    }
    if (2 * c < w) { /* m < 2*VLEN outputs left: a[c..c+ceil(m/2)), b[c..c+floor(m/2)) */
        const size_t m = w - 2 * c, me = (m + 1) / 2, mo = m / 2;
        const lsk_vf va = me == VLEN ? VLD(a + c) : VLDN(a + c, me);
        const lsk_vf vb = mo == VLEN ? VLD(b + c) : mo > 0 ? VLDN(b + c, mo) : VZERO();
        DW_VINT2(va, vb, lo, hi);
        if (accumulate) {
            lsk_vf ya, yb;
            DW_VLD2M(y + 2 * c, m, ya, yb);
            lo = VADD(ya, lo);
            hi = VADD(yb, hi);
        }
        DW_VSTM(y + 2 * c, lo, m < VLEN ? m : VLEN);
        DW_VSTM(y + 2 * c + VLEN, hi, m > VLEN ? m - VLEN : 0);
    }
}

/* Packing: each row is stored as whole vectors, the lanes past w zeroed in registers (no
 * masked store). The tail is read with a plain load where the plane continues past it
 * (rows before the last; x rows are contiguous, ldx == w) and a masked load only at the
 * plane's end: masked loads from memory measured 1.5-2x slower on 8x8 planes (Zen 5). */
void LSK_UK(dwconv_rows_in, LSK_U1)(size_t rows, size_t w, const float *x, size_t ldx, float *y, size_t ldy) {
    const size_t full = w / VLEN * VLEN, rem = w - full;
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * ldx;
        float *yr = y + r * ldy;
        for (size_t i = 0; i < full; i += VLEN) VST(yr + i, VLD(xr + i));
        if (rem) VST(yr + full, r * ldx + full + VLEN <= rows * ldx ? DW_VZTAIL(VLD(xr + full), rem)
                                                                     : VLDN(xr + full, rem));
    }
}

/* Unpacking into a dense plane: row r's whole-vector stores run over into the next rows,
 * which are written afterwards; only the last rows end with a masked store. */
void LSK_UK(dwconv_rows_out, LSK_U1)(size_t rows, size_t w, const float *x, size_t ldx, float *y) {
    const size_t wv = (w + VLEN - 1) / VLEN * VLEN;
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * ldx;
        float *yr = y + r * w;
        size_t i = 0;
        if (r * w + wv <= rows * w) /* the overrun lands on later rows */
            for (; i < w; i += VLEN) VST(yr + i, VLD(xr + i));
        for (; i + VLEN <= w; i += VLEN) VST(yr + i, VLD(xr + i));
        if (i < w) VSTN(yr + i, VLD(xr + i), w - i);
    }
}

void LSK_UK(dwconv_vacc, LSK_U1)(size_t n, const float *x, float *y) {
    size_t i = 0;
    for (; i + VLEN <= n; i += VLEN) VST(y + i, VADD(VLD(y + i), VLD(x + i)));
    if (i < n) VSTN(y + i, VADD(VLDN(y + i, n - i), VLDN(x + i, n - i)), n - i);
}

const lsk_dwconv_ukernels LSK_UKTABLE(dwconv) = {LSK_UK(dwconv_axpy, LSK_U4),   LSK_UK(dwconv_dot, LSK_U1),
                                                  LSK_UK(dwconv_deint2, LSK_U1), LSK_UK(dwconv_int2, LSK_U1),
                                                  LSK_UK(dwconv_rows_in, LSK_U1), LSK_UK(dwconv_rows_out, LSK_U1),
                                                  LSK_UK(dwconv_vacc, LSK_U1)};
