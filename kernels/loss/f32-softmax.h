/*
 * Template of the per-row softmax / cross-entropy microkernels (contracts in
 * loss-ukernels.h). Included once per ISA after vec-<isa>.h.
 */

float LSK_UK(rmax, LSK_U4)(size_t n, const float *x) {
    const lsk_vf first = VDUP(x[0]);
    lsk_vf m0 = first, m1 = first, m2 = first, m3 = first;
    size_t i = 0;
    for (; i + 4 * VLEN <= n; i += 4 * VLEN) {
        m0 = VMAX(m0, VLD(x + i));
        m1 = VMAX(m1, VLD(x + i + VLEN));
        m2 = VMAX(m2, VLD(x + i + 2 * VLEN));
        m3 = VMAX(m3, VLD(x + i + 3 * VLEN));
    }
    for (; i + VLEN <= n; i += VLEN) m0 = VMAX(m0, VLD(x + i));
    if (i < n) m1 = VMAX(m1, VLDNF(x + i, n - i, x[0])); /* padding lanes repeat x[0] */
    return VHMAX(VMAX(VMAX(m0, m1), VMAX(m2, m3)));
}

float LSK_UK(raddstoreexpminusmax, LSK_U4)(size_t n, const float *x, float m, float inv_t, float *e) {
    const lsk_vf vm = VDUP(m), vs = VDUP(inv_t);
    lsk_vf s0 = VZERO(), s1 = VZERO(), s2 = VZERO(), s3 = VZERO();
    size_t i = 0;
    for (; i + 4 * VLEN <= n; i += 4 * VLEN) {
        const lsk_vf e0 = VEXP(VMUL(VSUB(VLD(x + i), vm), vs));
        const lsk_vf e1 = VEXP(VMUL(VSUB(VLD(x + i + VLEN), vm), vs));
        const lsk_vf e2 = VEXP(VMUL(VSUB(VLD(x + i + 2 * VLEN), vm), vs));
        const lsk_vf e3 = VEXP(VMUL(VSUB(VLD(x + i + 3 * VLEN), vm), vs));
        VST(e + i, e0);
        VST(e + i + VLEN, e1);
        VST(e + i + 2 * VLEN, e2);
        VST(e + i + 3 * VLEN, e3);
        s0 = VADD(s0, e0);
        s1 = VADD(s1, e1);
        s2 = VADD(s2, e2);
        s3 = VADD(s3, e3);
    }
    for (; i + VLEN <= n; i += VLEN) {
        const lsk_vf v = VEXP(VMUL(VSUB(VLD(x + i), vm), vs));
        VST(e + i, v);
        s0 = VADD(s0, v);
    }
    if (i < n) { /* padding lanes: exp(-inf) = 0 */
        const lsk_vf v = VEXP(VMUL(VSUB(VLDNF(x + i, n - i, -INFINITY), vm), vs));
        VSTN(e + i, v, n - i);
        s1 = VADD(s1, v);
    }
    return VHSUM(VADD(VADD(s0, s1), VADD(s2, s3)));
}

void LSK_UK(xent_reduce, LSK_U4)(size_t n, const float *x, const float *t, float m, float inv_t, float *e,
                                 float out[3]) {
    const lsk_vf vm = VDUP(m), vs = VDUP(inv_t);
    lsk_vf se0 = VZERO(), se1 = VZERO(), st0 = VZERO(), st1 = VZERO(), sd0 = VZERO(), sd1 = VZERO();
    size_t i = 0;
    for (; i + 2 * VLEN <= n; i += 2 * VLEN) {
        const lsk_vf d0 = VSUB(VLD(x + i), vm), d1 = VSUB(VLD(x + i + VLEN), vm);
        const lsk_vf t0 = VLD(t + i), t1 = VLD(t + i + VLEN);
        const lsk_vf e0 = VEXP(VMUL(d0, vs)), e1 = VEXP(VMUL(d1, vs));
        VST(e + i, e0);
        VST(e + i + VLEN, e1);
        se0 = VADD(se0, e0);
        se1 = VADD(se1, e1);
        st0 = VADD(st0, t0);
        st1 = VADD(st1, t1);
        sd0 = VFMA(t0, d0, sd0);
        sd1 = VFMA(t1, d1, sd1);
    }
    for (; i + VLEN <= n; i += VLEN) {
        const lsk_vf d = VSUB(VLD(x + i), vm), tv = VLD(t + i), ev = VEXP(VMUL(d, vs));
        VST(e + i, ev);
        se0 = VADD(se0, ev);
        st0 = VADD(st0, tv);
        sd0 = VFMA(tv, d, sd0);
    }
    if (i < n) { /* padding: x = m (d = 0, finite), t = 0, e masked to 0 by the store/sum below */
        const size_t r = n - i;
        const lsk_vf d = VSUB(VLDNF(x + i, r, m), vm), tv = VLDN(t + i, r);
        const lsk_vf ev = VEXP(VMUL(VSUB(VLDNF(x + i, r, -INFINITY), vm), vs));
        VSTN(e + i, ev, r);
        se1 = VADD(se1, ev);
        st1 = VADD(st1, tv);
        sd1 = VFMA(tv, d, sd1);
    }
    out[0] = VHSUM(VADD(se0, se1));
    out[1] = VHSUM(VADD(st0, st1));
    out[2] = VHSUM(VADD(sd0, sd1));
}

void LSK_UK(xent_out, LSK_U4)(size_t n, const float *e, const float *t, float inv_z, float a, float b, float *probs,
                              float *dx, int accumulate) {
    const lsk_vf vz = VDUP(inv_z), va = VDUP(a), vnb = VDUP(-b);
    size_t i = 0;
    /* dx = a*p - b*t (+ dx) */
#define LSK_XENT_STEP(I, P, T)                               \
    do {                                                     \
        lsk_vf g_ = VFMA(vnb, T, VMUL(va, P));               \
        if (accumulate) g_ = VADD(VLD(dx + (I)), g_);        \
        if (probs) VST(probs + (I), P);                      \
        VST(dx + (I), g_);                                   \
    } while (0)
    for (; i + 2 * VLEN <= n; i += 2 * VLEN) {
        const lsk_vf p0 = VMUL(VLD(e + i), vz), p1 = VMUL(VLD(e + i + VLEN), vz);
        const lsk_vf t0 = VLD(t + i), t1 = VLD(t + i + VLEN);
        LSK_XENT_STEP(i, p0, t0);
        LSK_XENT_STEP(i + VLEN, p1, t1);
    }
    for (; i + VLEN <= n; i += VLEN) {
        const lsk_vf p = VMUL(VLD(e + i), vz), tv = VLD(t + i);
        LSK_XENT_STEP(i, p, tv);
    }
#undef LSK_XENT_STEP
    if (i < n) {
        const size_t r = n - i;
        const lsk_vf p = VMUL(VLDN(e + i, r), vz);
        lsk_vf g = VFMA(vnb, VLDN(t + i, r), VMUL(va, p));
        if (accumulate) g = VADD(VLDN(dx + i, r), g);
        if (probs) VSTN(probs + i, p, r);
        VSTN(dx + i, g, r);
    }
}

const lsk_loss_ukernels LSK_UKTABLE(loss) = {
    LSK_UK(rmax, LSK_U4), LSK_UK(raddstoreexpminusmax, LSK_U4), LSK_UK(xent_reduce, LSK_U4), LSK_UK(xent_out, LSK_U4),
};
