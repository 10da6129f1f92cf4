/*
 * Template of the 3x3, pad 1 depthwise plane kernels (contracts in dwconv-internal.h,
 * "Row kernels"). Included once per ISA after f32-dwconv.h, which defines DW_VINT2 and
 * DW_VZTAIL; needs in addition
 *   DW_VPREV1(cur, prev): lane l = element l-1 of the row (cur's lane l-1, prev's last lane
 *                         for l = 0), i.e. the row shifted right by one;
 *   DW_VNEXT1(cur, next): lane l = element l+1 (next's lane 0 for the last lane);
 *   DW_VSTREAM(p, v):     a non-temporal store of a whole vector to p aligned to its size
 *                         (a plain store where the ISA has none), DW_FENCE() orders them.
 *
 * Unlike the flat kernels of f32-dwconv.h these read the dense plane in place: no padded
 * copy. The padding is the zero lanes of tail loads and the zero vectors standing in for
 * columns -1 and w; the shifted taps are built in registers. Stride 1 walks each column
 * strip (one vector wide) down the rows, so each input row is loaded once for the three
 * output rows it feeds (rolling accumulators): ~1 load per 9 FMAs.
 */

/* p[0..n) into lanes 0..n-1, zeros above (n <= 0: all zero, nothing read). A partial
 * vector is read with a plain load when `readable` (floats that may be read at p) allows
 * it: masked loads from memory are much slower than a register mask (Zen 5). */
static inline lsk_vf DW3_LOAD(const float *p, ptrdiff_t n, ptrdiff_t readable) {
    if (n >= VLEN) return VLD(p);
    if (n <= 0) return VZERO();
    return readable >= VLEN ? DW_VZTAIL(VLD(p), (size_t)n) : VLDN(p, (size_t)n);
}

/* The first n lanes of v to p (n > 0). */
static inline void DW3_STORE(float *p, lsk_vf v, ptrdiff_t n) {
    if (n >= VLEN) VST(p, v);
    else VSTN(p, v, (size_t)n);
}

/* DW3_STORE, or a streaming store when asked for and p is a whole aligned vector (a line is
 * then filled by streaming stores only: whole vectors, rows written in order). */
static inline void DW3_STORE_F(float *p, lsk_vf v, ptrdiff_t n, int stream) {
    if (stream && n >= VLEN && ((uintptr_t)p & (VLEN * sizeof(float) - 1)) == 0) DW_VSTREAM(p, v);
    else DW3_STORE(p, v, n);
}

#define DW3_W(k) const lsk_vf k##0 = VDUP(k9[0]), k##1 = VDUP(k9[1]), k##2 = VDUP(k9[2]), k##3 = VDUP(k9[3]), \
                 k##4 = VDUP(k9[4]), k##5 = VDUP(k9[5]), k##6 = VDUP(k9[6]), k##7 = VDUP(k9[7]), k##8 = VDUP(k9[8])

/* Stride 1: y[oy][ox] (= bias | += ) sum k9[ky*3+kx] * x[oy+ky-1][ox+kx-1]. */
void LSK_UK(dwconv3x3s1, LSK_U1)(size_t h, size_t w, size_t readable, const float *x, const float *k9, float bias,
                                 int flags, float *y) {
    DW3_W(k);
    /* Streaming stores only where each cache line is filled at once: whole-line vectors, or
     * one strip (rows written in order). Several narrower strips would fill a line's parts
     * at different times, and a partly written streamed line costs a read. */
    const int accumulate = flags & LSK_DW3_ACCUMULATE;
    const int stream = (flags & LSK_DW3_STREAM) && (VLEN * sizeof(float) >= 64 || w <= VLEN);
    const lsk_vf vb = VDUP(bias);
    const ptrdiff_t W = (ptrdiff_t)w, R = (ptrdiff_t)readable;
    for (ptrdiff_t c0 = 0; c0 < W; c0 += VLEN) {
        const ptrdiff_t nc = W - c0, nn = W - c0 - VLEN; /* valid lanes of this strip / the next */
        lsk_vf am = VZERO(), a0 = accumulate ? DW3_LOAD(y + c0, nc, R - c0) : vb;
        for (ptrdiff_t iy = 0; iy < (ptrdiff_t)h; iy++) {
            const float *r = x + iy * W + c0;
            const ptrdiff_t left = R - iy * W - c0;
            const lsk_vf p = c0 ? VLD(r - VLEN) : VZERO();
            const lsk_vf c = DW3_LOAD(r, nc, left);
            const lsk_vf n = DW3_LOAD(r + VLEN, nn, left - VLEN);
            const lsk_vf l = DW_VPREV1(c, p), rr = DW_VNEXT1(c, n);
            lsk_vf ap = vb;
            if (iy + 1 < (ptrdiff_t)h && accumulate) ap = DW3_LOAD(y + (iy + 1) * W + c0, nc, R - (iy + 1) * W - c0);
            if (iy > 0) { /* row iy is tap row 2 of output row iy-1: its last input */
                am = VFMA(k6, l, am);
                am = VFMA(k7, c, am);
                am = VFMA(k8, rr, am);
                DW3_STORE_F(y + (iy - 1) * W + c0, am, nc, stream);
            }
            a0 = VFMA(k3, l, a0);
            a0 = VFMA(k4, c, a0);
            a0 = VFMA(k5, rr, a0);
            ap = VFMA(k0, l, ap);
            ap = VFMA(k1, c, ap);
            ap = VFMA(k2, rr, ap);
            am = a0;
            a0 = ap;
        }
        DW3_STORE_F(y + ((ptrdiff_t)h - 1) * W + c0, am, nc, stream);
    }
}

/* Columns [2*c0, 2*c0 + 2*VLEN) of row r (w floats, `left` readable from r): e = the even
 * ones x[2i], o = the odd ones x[2i+1], zeros past the row. */
#define DW3_PAIR(r, c0, w, left, e, o)                                                         \
    VDEINT2(DW3_LOAD((r) + 2 * (c0), (w) - 2 * (c0), (left) - 2 * (c0)),                      \
            DW3_LOAD((r) + 2 * (c0) + VLEN, (w) - 2 * (c0) - VLEN, (left) - 2 * (c0) - VLEN), e, o)

/* Column 2i-1 of the row (i = lane) given its odd columns o = x[2i+1]: o shifted by one
 * lane, lane 0 taking x[2*c0 - 1] (zero at the row's start). */
#define DW3_ODD_PREV(o, r, c0) DW_VPREV1(o, (c0) > 0 ? VDUP((r)[2 * (c0) - 1]) : VZERO())

/* Stride 2: y[ho][wo], ho = (h+1)/2, wo = (w+1)/2; y[oy][ox] = bias +
 * sum k9[ky*3+kx] * x[2oy+ky-1][2ox+kx-1]. Column strips walk down the output rows: input
 * row 2oy+1 is the bottom row of output row oy and the top row of oy+1, so each input row is
 * loaded and deinterleaved (even columns x[2ox], odd x[2ox+1]) once; column 2ox-1 is the
 * odd vector shifted by one lane. One accumulator per tap row (three short FMA chains: an
 * 8x8 output has one strip per row, too little work to hide the latency of one chain of 9). */
void LSK_UK(dwconv3x3s2, LSK_U1)(size_t h, size_t w, size_t readable, const float *x, const float *k9, float bias,
                                 int flags, float *y) {
    DW3_W(k);
    const lsk_vf vb = VDUP(bias);
    const ptrdiff_t H = (ptrdiff_t)h, W = (ptrdiff_t)w, R = (ptrdiff_t)readable;
    const ptrdiff_t ho = (H + 1) / 2, wo = (W + 1) / 2;
    const int stream = (flags & LSK_DW3_STREAM) && (VLEN * sizeof(float) >= 64 || wo <= VLEN);
    for (ptrdiff_t c0 = 0; c0 < wo; c0 += VLEN) {
        lsk_vf pt = VZERO(), et = VZERO(), ot = VZERO(); /* input row 2oy-1: zero above the image */
        for (ptrdiff_t oy = 0; oy < ho; oy++) {
            const float *r1 = x + 2 * oy * W, *r2 = r1 + W;
            lsk_vf e1, o1, e2 = VZERO(), o2 = VZERO(), p2 = VZERO();
            DW3_PAIR(r1, c0, W, R - 2 * oy * W, e1, o1);
            const lsk_vf p1 = DW3_ODD_PREV(o1, r1, c0);
            if (2 * oy + 1 < H) {
                DW3_PAIR(r2, c0, W, R - (2 * oy + 1) * W, e2, o2);
                p2 = DW3_ODD_PREV(o2, r2, c0);
            }
            lsk_vf acc0 = VMUL(k0, pt), acc1 = VFMA(k3, p1, vb), acc2 = VMUL(k6, p2);
            acc0 = VFMA(k1, et, acc0);
            acc1 = VFMA(k4, e1, acc1);
            acc2 = VFMA(k7, e2, acc2);
            acc0 = VFMA(k2, ot, acc0);
            acc1 = VFMA(k5, o1, acc1);
            acc2 = VFMA(k8, o2, acc2);
            DW3_STORE_F(y + oy * wo + c0, VADD(VADD(acc0, acc2), acc1), wo - c0, stream);
            pt = p2;
            et = e2;
            ot = o2;
        }
    }
}

/* Stride 2, data gradient: dx[h][w] (= | +=) the transposed convolution of dy[ho][wo].
 * dx row iy = 2oy + ky - 1, so dy row m feeds dx rows 2m (tap row 1) and 2m+1 (tap row 2),
 * and dx row 2m+1 also takes dy row m+1 (tap row 0): the rows are made in pairs from two dy
 * rows. In a row, even column 2u takes dy[u]*k[ky][1], odd column 2u+1 takes
 * dy[u]*k[ky][2] + dy[u+1]*k[ky][0]; the two column phases are interleaved on the store. */
void LSK_UK(dwconv3x3s2_bwd_data, LSK_U1)(size_t h, size_t w, size_t readable, const float *dy, const float *k9,
                                          int flags, float *dx) {
    DW3_W(k);
    const int accumulate = flags & LSK_DW3_ACCUMULATE, stream = flags & LSK_DW3_STREAM;
    const ptrdiff_t H = (ptrdiff_t)h, W = (ptrdiff_t)w, R = (ptrdiff_t)readable;
    const ptrdiff_t ho = (H + 1) / 2, wo = (W + 1) / 2;
    for (ptrdiff_t c0 = 0; c0 < wo; c0 += VLEN) {
        const ptrdiff_t n0 = W - 2 * c0, n1 = n0 - VLEN; /* dx floats in this strip's two vectors */
        /* dy row m at this strip: d (column u) and dn (column u+1) */
        lsk_vf d = DW3_LOAD(dy + c0, wo - c0, R - c0);
        lsk_vf dn = DW_VNEXT1(d, DW3_LOAD(dy + c0 + VLEN, wo - c0 - VLEN, R - c0 - VLEN));
        for (ptrdiff_t m = 0; m < ho; m++) {
            lsk_vf d2 = VZERO(), dn2 = VZERO(); /* dy row m+1 */
            if (m + 1 < ho) {
                const float *q = dy + (m + 1) * wo + c0;
                const ptrdiff_t left = R - (m + 1) * wo - c0;
                d2 = DW3_LOAD(q, wo - c0, left);
                dn2 = DW_VNEXT1(d2, DW3_LOAD(q + VLEN, wo - c0 - VLEN, left - VLEN));
            }
            lsk_vf lo, hi;
            float *row = dx + 2 * m * W + 2 * c0;
            /* dx row 2m: tap row 1 of dy row m */
            DW_VINT2(VMUL(k4, d), VFMA(k5, d, VMUL(k3, dn)), lo, hi);
            if (accumulate) {
                lo = VADD(lo, DW3_LOAD(row, n0, n0));
                hi = VADD(hi, DW3_LOAD(row + VLEN, n1, n1));
            }
            DW3_STORE_F(row, lo, n0, stream);
            if (n1 > 0) DW3_STORE_F(row + VLEN, hi, n1, stream);
            if (2 * m + 1 < H) { /* dx row 2m+1: tap row 2 of dy row m, tap row 0 of dy row m+1 */
                const lsk_vf ev = VFMA(k7, d, VMUL(k1, d2));
                const lsk_vf od = VFMA(k8, d, VFMA(k6, dn, VFMA(k2, d2, VMUL(k0, dn2))));
                DW_VINT2(ev, od, lo, hi);
                row += W;
                if (accumulate) {
                    lo = VADD(lo, DW3_LOAD(row, n0, n0));
                    hi = VADD(hi, DW3_LOAD(row + VLEN, n1, n1));
                }
                DW3_STORE_F(row, lo, n0, stream);
                if (n1 > 0) DW3_STORE_F(row + VLEN, hi, n1, stream);
            }
            d = d2;
            dn = dn2;
        }
    }
}

/* The weight-gradient kernels' nine tap accumulators s00..s22 and the dy sum sd, reduced. */
#define DW3_SUMS_OUT(out, sum)                                                            \
    do {                                                                                  \
        (out)[0] = VHSUM(s00); (out)[1] = VHSUM(s01); (out)[2] = VHSUM(s02);              \
        (out)[3] = VHSUM(s10); (out)[4] = VHSUM(s11); (out)[5] = VHSUM(s12);              \
        (out)[6] = VHSUM(s20); (out)[7] = VHSUM(s21); (out)[8] = VHSUM(s22);              \
        *(sum) = VHSUM(sd);                                                               \
    } while (0)

/* Stride 1, weight gradient of one plane: out[ky*3+kx] = sum dy[oy][ox] * x[oy+ky-1][ox+kx-1],
 * *sum = sum dy. Column strips walk down the input rows; input row iy meets dy rows iy+1
 * (ky 0), iy (ky 1) and iy-1 (ky 2), kept in three rolling registers. */
void LSK_UK(dwconv3x3s1_bwd_weight, LSK_U1)(size_t h, size_t w, size_t readable_x, size_t readable_dy,
                                            const float *x, const float *dy, float *out, float *sum) {
    const ptrdiff_t H = (ptrdiff_t)h, W = (ptrdiff_t)w, RX = (ptrdiff_t)readable_x, RD = (ptrdiff_t)readable_dy;
    lsk_vf s00 = VZERO(), s01 = VZERO(), s02 = VZERO(), s10 = VZERO(), s11 = VZERO(), s12 = VZERO();
    lsk_vf s20 = VZERO(), s21 = VZERO(), s22 = VZERO(), sd = VZERO();
    for (ptrdiff_t c0 = 0; c0 < W; c0 += VLEN) {
        const ptrdiff_t nc = W - c0, nn = W - c0 - VLEN;
        lsk_vf dm = VZERO(), d0 = DW3_LOAD(dy + c0, nc, RD - c0);
        for (ptrdiff_t iy = 0; iy < H; iy++) {
            const float *r = x + iy * W + c0;
            const ptrdiff_t left = RX - iy * W - c0;
            const lsk_vf p = c0 ? VLD(r - VLEN) : VZERO();
            const lsk_vf c = DW3_LOAD(r, nc, left);
            const lsk_vf n = DW3_LOAD(r + VLEN, nn, left - VLEN);
            const lsk_vf l = DW_VPREV1(c, p), rr = DW_VNEXT1(c, n);
            const lsk_vf dp = iy + 1 < H ? DW3_LOAD(dy + (iy + 1) * W + c0, nc, RD - (iy + 1) * W - c0) : VZERO();
            s00 = VFMA(dp, l, s00);
            s01 = VFMA(dp, c, s01);
            s02 = VFMA(dp, rr, s02);
            s10 = VFMA(d0, l, s10);
            s11 = VFMA(d0, c, s11);
            s12 = VFMA(d0, rr, s12);
            s20 = VFMA(dm, l, s20);
            s21 = VFMA(dm, c, s21);
            s22 = VFMA(dm, rr, s22);
            sd = VADD(sd, d0);
            dm = d0;
            d0 = dp;
        }
    }
    DW3_SUMS_OUT(out, sum);
}

/* Stride 2, weight gradient of one plane (x [h][w], dy [(h+1)/2][(w+1)/2]); the input rows
 * roll down the strip as in the forward pass (row 2oy+1 serves output rows oy and oy+1). */
void LSK_UK(dwconv3x3s2_bwd_weight, LSK_U1)(size_t h, size_t w, size_t readable_x, size_t readable_dy,
                                            const float *x, const float *dy, float *out, float *sum) {
    const ptrdiff_t H = (ptrdiff_t)h, W = (ptrdiff_t)w, RX = (ptrdiff_t)readable_x, RD = (ptrdiff_t)readable_dy;
    const ptrdiff_t ho = (H + 1) / 2, wo = (W + 1) / 2;
    lsk_vf s00 = VZERO(), s01 = VZERO(), s02 = VZERO(), s10 = VZERO(), s11 = VZERO(), s12 = VZERO();
    lsk_vf s20 = VZERO(), s21 = VZERO(), s22 = VZERO(), sd = VZERO();
    for (ptrdiff_t c0 = 0; c0 < wo; c0 += VLEN) {
        lsk_vf pt = VZERO(), et = VZERO(), ot = VZERO();
        for (ptrdiff_t oy = 0; oy < ho; oy++) {
            const lsk_vf d = DW3_LOAD(dy + oy * wo + c0, wo - c0, RD - oy * wo - c0);
            const float *r1 = x + 2 * oy * W, *r2 = r1 + W;
            lsk_vf e1, o1, e2 = VZERO(), o2 = VZERO(), p2 = VZERO();
            DW3_PAIR(r1, c0, W, RX - 2 * oy * W, e1, o1);
            const lsk_vf p1 = DW3_ODD_PREV(o1, r1, c0);
            if (2 * oy + 1 < H) {
                DW3_PAIR(r2, c0, W, RX - (2 * oy + 1) * W, e2, o2);
                p2 = DW3_ODD_PREV(o2, r2, c0);
            }
            s00 = VFMA(d, pt, s00);
            s01 = VFMA(d, et, s01);
            s02 = VFMA(d, ot, s02);
            s10 = VFMA(d, p1, s10);
            s11 = VFMA(d, e1, s11);
            s12 = VFMA(d, o1, s12);
            s20 = VFMA(d, p2, s20);
            s21 = VFMA(d, e2, s21);
            s22 = VFMA(d, o2, s22);
            sd = VADD(sd, d);
            pt = p2;
            et = e2;
            ot = o2;
        }
    }
    DW3_SUMS_OUT(out, sum);
}

static void LSK_UK(dwconv3x3_fence, LSK_U1)(void) { DW_FENCE(); }

const lsk_dwconv3x3_ukernels LSK_UKTABLE(dwconv3x3) = {
    LSK_UK(dwconv3x3s1, LSK_U1),            LSK_UK(dwconv3x3s2, LSK_U1),
    LSK_UK(dwconv3x3s2_bwd_data, LSK_U1),   LSK_UK(dwconv3x3s1_bwd_weight, LSK_U1),
    LSK_UK(dwconv3x3s2_bwd_weight, LSK_U1), LSK_UK(dwconv3x3_fence, LSK_U1)};
