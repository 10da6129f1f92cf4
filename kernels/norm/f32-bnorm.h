/*
 * Template of the batch-norm microkernels (contracts in norm-ukernels.h). Included once per
 * ISA after vec-<isa>.h. Loops: 4 vectors per step, then single vectors, then one partial
 * vector (zero-filled loads, so reductions need no special case).
 */

/* Sum of x[0..n) in float lanes. */
static inline float bn_plane_sum(size_t n, const float *x) {
    lsk_vf s0 = VZERO(), s1 = VZERO(), s2 = VZERO(), s3 = VZERO();
    size_t i = 0;
    for (; i + 4 * VLEN <= n; i += 4 * VLEN) {
        s0 = VADD(s0, VLD(x + i));
        s1 = VADD(s1, VLD(x + i + VLEN));
        s2 = VADD(s2, VLD(x + i + 2 * VLEN));
        s3 = VADD(s3, VLD(x + i + 3 * VLEN));
    }
    for (; i + VLEN <= n; i += VLEN) s0 = VADD(s0, VLD(x + i));
    if (i < n) s1 = VADD(s1, VLDN(x + i, n - i));
    return VHSUM(VADD(VADD(s0, s1), VADD(s2, s3)));
}

void LSK_UK(bnstats, LSK_U4)(size_t planes, size_t hw, size_t stride, const float *x, double out[2]) {
    double count = 0.0, mean = 0.0, m2 = 0.0;
    const double dhw = (double)hw;
    for (size_t p = 0; p < planes; p++) {
        const float *xp = x + p * stride;
        const float k = bn_plane_sum(hw, xp) / (float)hw;
        const lsk_vf vk = VDUP(k);
        lsk_vf a0 = VZERO(), a1 = VZERO(), q0 = VZERO(), q1 = VZERO();
        size_t i = 0;
        for (; i + 2 * VLEN <= hw; i += 2 * VLEN) {
            const lsk_vf d0 = VSUB(VLD(xp + i), vk), d1 = VSUB(VLD(xp + i + VLEN), vk);
            a0 = VADD(a0, d0);
            a1 = VADD(a1, d1);
            q0 = VFMA(d0, d0, q0);
            q1 = VFMA(d1, d1, q1);
        }
        for (; i + VLEN <= hw; i += VLEN) {
            const lsk_vf d = VSUB(VLD(xp + i), vk);
            a0 = VADD(a0, d);
            q0 = VFMA(d, d, q0);
        }
        if (i < hw) { /* partial vector filled with k: its padding lanes contribute 0 */
            const lsk_vf d = VSUB(VLDNF(xp + i, hw - i, k), vk);
            a1 = VADD(a1, d);
            q1 = VFMA(d, d, q1);
        }
        const double s1 = (double)VHSUM(VADD(a0, a1)), s2 = (double)VHSUM(VADD(q0, q1));
        /* plane: mean_p = k + s1/hw, M2_p = s2 - s1^2/hw; Chan's merge into the running totals */
        const double mean_p = (double)k + s1 / dhw, m2_p = s2 - s1 * s1 / dhw;
        const double total = count + dhw, delta = mean_p - mean;
        mean += delta * (dhw / total);
        m2 += (m2_p > 0.0 ? m2_p : 0.0) + delta * delta * (count * dhw / total);
        count = total;
    }
    out[0] = mean;
    out[1] = m2;
}

void LSK_UK(bnapply, LSK_U4)(size_t planes, size_t hw, size_t stride, const float *x, float *y,
                             float mean_hi, float mean_lo, float scale, float shift) {
    const lsk_vf vm = VDUP(mean_hi), vl = VDUP(mean_lo), va = VDUP(scale), vb = VDUP(shift);
#define LSK_BN_Y(X) VFMA(VSUB(VSUB(X, vm), vl), va, vb)
    for (size_t p = 0; p < planes; p++) {
        const float *xp = x + p * stride;
        float *yp = y + p * stride;
        size_t i = 0;
        for (; i + 4 * VLEN <= hw; i += 4 * VLEN) {
            const lsk_vf r0 = LSK_BN_Y(VLD(xp + i)), r1 = LSK_BN_Y(VLD(xp + i + VLEN));
            const lsk_vf r2 = LSK_BN_Y(VLD(xp + i + 2 * VLEN)), r3 = LSK_BN_Y(VLD(xp + i + 3 * VLEN));
            VST(yp + i, r0);
            VST(yp + i + VLEN, r1);
            VST(yp + i + 2 * VLEN, r2);
            VST(yp + i + 3 * VLEN, r3);
        }
        for (; i + VLEN <= hw; i += VLEN) VST(yp + i, LSK_BN_Y(VLD(xp + i)));
        if (i < hw) VSTN(yp + i, LSK_BN_Y(VLDN(xp + i, hw - i)), hw - i);
    }
#undef LSK_BN_Y
}

void LSK_UK(bnbwdreduce, LSK_U4)(size_t planes, size_t hw, size_t stride, const float *dy, const float *x,
                                 float mean, double out[2]) {
    const lsk_vf vm = VDUP(mean);
    double sdy = 0.0, sdyx = 0.0;
    for (size_t p = 0; p < planes; p++) {
        const float *xp = x + p * stride, *gp = dy + p * stride;
        lsk_vf g0 = VZERO(), g1 = VZERO(), d0 = VZERO(), d1 = VZERO();
        size_t i = 0;
        for (; i + 2 * VLEN <= hw; i += 2 * VLEN) {
            const lsk_vf e0 = VLD(gp + i), e1 = VLD(gp + i + VLEN);
            g0 = VADD(g0, e0);
            g1 = VADD(g1, e1);
            d0 = VFMA(e0, VSUB(VLD(xp + i), vm), d0);
            d1 = VFMA(e1, VSUB(VLD(xp + i + VLEN), vm), d1);
        }
        for (; i + VLEN <= hw; i += VLEN) {
            const lsk_vf e = VLD(gp + i);
            g0 = VADD(g0, e);
            d0 = VFMA(e, VSUB(VLD(xp + i), vm), d0);
        }
        if (i < hw) { /* zero-filled dy lanes contribute 0 */
            const lsk_vf e = VLDN(gp + i, hw - i);
            g1 = VADD(g1, e);
            d1 = VFMA(e, VSUB(VLDN(xp + i, hw - i), vm), d1);
        }
        sdy += (double)VHSUM(VADD(g0, g1));
        sdyx += (double)VHSUM(VADD(d0, d1));
    }
    out[0] = sdy;
    out[1] = sdyx;
}

void LSK_UK(bnbwdapply, LSK_U4)(size_t planes, size_t hw, size_t stride, const float *dy, const float *x, float *dx,
                                float mean, float a, float b, float c, int accumulate) {
    const lsk_vf vm = VDUP(mean), va = VDUP(a), vb = VDUP(b), vc = VDUP(c);
/* a*dy + (b*(x - mean) + c) */
#define LSK_BN_DX(G, X) VFMA(va, G, VFMA(vb, VSUB(X, vm), vc))
    for (size_t p = 0; p < planes; p++) {
        const float *xp = x + p * stride, *gp = dy + p * stride;
        float *op = dx + p * stride;
        size_t i = 0;
        if (!accumulate) {
            for (; i + 2 * VLEN <= hw; i += 2 * VLEN) {
                const lsk_vf r0 = LSK_BN_DX(VLD(gp + i), VLD(xp + i));
                const lsk_vf r1 = LSK_BN_DX(VLD(gp + i + VLEN), VLD(xp + i + VLEN));
                VST(op + i, r0);
                VST(op + i + VLEN, r1);
            }
            for (; i + VLEN <= hw; i += VLEN) VST(op + i, LSK_BN_DX(VLD(gp + i), VLD(xp + i)));
            if (i < hw) VSTN(op + i, LSK_BN_DX(VLDN(gp + i, hw - i), VLDN(xp + i, hw - i)), hw - i);
        } else {
            for (; i + 2 * VLEN <= hw; i += 2 * VLEN) {
                const lsk_vf r0 = VADD(VLD(op + i), LSK_BN_DX(VLD(gp + i), VLD(xp + i)));
                const lsk_vf r1 = VADD(VLD(op + i + VLEN), LSK_BN_DX(VLD(gp + i + VLEN), VLD(xp + i + VLEN)));
                VST(op + i, r0);
                VST(op + i + VLEN, r1);
            }
            for (; i + VLEN <= hw; i += VLEN) VST(op + i, VADD(VLD(op + i), LSK_BN_DX(VLD(gp + i), VLD(xp + i))));
            if (i < hw) {
                const size_t r = hw - i;
                VSTN(op + i, VADD(VLDN(op + i, r), LSK_BN_DX(VLDN(gp + i, r), VLDN(xp + i, r))), r);
            }
        }
    }
#undef LSK_BN_DX
}

const lsk_norm_ukernels LSK_UKTABLE(norm) = {
    LSK_UK(bnstats, LSK_U4), LSK_UK(bnapply, LSK_U4), LSK_UK(bnbwdreduce, LSK_U4), LSK_UK(bnbwdapply, LSK_U4),
};
