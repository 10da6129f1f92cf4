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

void LSK_UK(kl_reduce, LSK_U4)(size_t n, const float *s, const float *t, float ms, float mt, float inv_t, float *es,
                               float *et, float out[3]) {
    const lsk_vf vms = VDUP(ms), vmt = VDUP(mt), vs = VDUP(inv_t);
    lsk_vf zs0 = VZERO(), zs1 = VZERO(), zt0 = VZERO(), zt1 = VZERO(), d0 = VZERO(), d1 = VZERO();
    size_t i = 0;
    /* the exponents of the terms that matter are exact differences (Sterbenz); dt - ds is exact
     * up to one rounding, so the KL sum of a row stays accurate for logits ~1e4 */
    for (; i + 2 * VLEN <= n; i += 2 * VLEN) {
        const lsk_vf ds0 = VSUB(VLD(s + i), vms), ds1 = VSUB(VLD(s + i + VLEN), vms);
        const lsk_vf dt0 = VSUB(VLD(t + i), vmt), dt1 = VSUB(VLD(t + i + VLEN), vmt);
        const lsk_vf es0 = VEXP(VMUL(ds0, vs)), es1 = VEXP(VMUL(ds1, vs));
        const lsk_vf et0 = VEXP(VMUL(dt0, vs)), et1 = VEXP(VMUL(dt1, vs));
        VST(es + i, es0);
        VST(es + i + VLEN, es1);
        VST(et + i, et0);
        VST(et + i + VLEN, et1);
        zs0 = VADD(zs0, es0);
        zs1 = VADD(zs1, es1);
        zt0 = VADD(zt0, et0);
        zt1 = VADD(zt1, et1);
        d0 = VFMA(et0, VSUB(dt0, ds0), d0);
        d1 = VFMA(et1, VSUB(dt1, ds1), d1);
    }
    for (; i + VLEN <= n; i += VLEN) {
        const lsk_vf ds = VSUB(VLD(s + i), vms), dt = VSUB(VLD(t + i), vmt);
        const lsk_vf esv = VEXP(VMUL(ds, vs)), etv = VEXP(VMUL(dt, vs));
        VST(es + i, esv);
        VST(et + i, etv);
        zs0 = VADD(zs0, esv);
        zt0 = VADD(zt0, etv);
        d0 = VFMA(etv, VSUB(dt, ds), d0);
    }
    if (i < n) { /* padding lanes: exponents from -inf (e = 0), differences from the maxima (0) */
        const size_t r = n - i;
        const lsk_vf ds = VSUB(VLDNF(s + i, r, ms), vms), dt = VSUB(VLDNF(t + i, r, mt), vmt);
        const lsk_vf esv = VEXP(VMUL(VSUB(VLDNF(s + i, r, -INFINITY), vms), vs));
        const lsk_vf etv = VEXP(VMUL(VSUB(VLDNF(t + i, r, -INFINITY), vmt), vs));
        VSTN(es + i, esv, r);
        VSTN(et + i, etv, r);
        zs1 = VADD(zs1, esv);
        zt1 = VADD(zt1, etv);
        d1 = VFMA(etv, VSUB(dt, ds), d1);
    }
    out[0] = VHSUM(VADD(zs0, zs1));
    out[1] = VHSUM(VADD(zt0, zt1));
    out[2] = VHSUM(VADD(d0, d1));
}

const lsk_loss_ukernels LSK_UKTABLE(loss) = {
    LSK_UK(rmax, LSK_U4),     LSK_UK(raddstoreexpminusmax, LSK_U4), LSK_UK(xent_reduce, LSK_U4),
    LSK_UK(xent_out, LSK_U4), LSK_UK(kl_reduce, LSK_U4),
};
