/*
 * Template of the batch-norm plane microkernels (contracts in norm-ukernels.h). Included once
 * per ISA after vec-<isa>.h. Loops: 2-4 vectors per step, then single vectors, then one
 * partial vector (padding lanes are chosen to contribute 0 to every sum).
 */

void LSK_UK(bnstats, LSK_U4)(size_t n, const float *x, double out[2]) {
    /* sweep 1: the shift k = float mean */
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
    const float k = VHSUM(VADD(VADD(s0, s1), VADD(s2, s3))) / (float)n;
    /* sweep 2 (from L1): sums of d = x - k and d^2 */
    const lsk_vf vk = VDUP(k);
    lsk_vf a0 = VZERO(), a1 = VZERO(), q0 = VZERO(), q1 = VZERO();
    i = 0;
    for (; i + 2 * VLEN <= n; i += 2 * VLEN) {
        const lsk_vf d0 = VSUB(VLD(x + i), vk), d1 = VSUB(VLD(x + i + VLEN), vk);
        a0 = VADD(a0, d0);
        a1 = VADD(a1, d1);
        q0 = VFMA(d0, d0, q0);
        q1 = VFMA(d1, d1, q1);
    }
    for (; i + VLEN <= n; i += VLEN) {
        const lsk_vf d = VSUB(VLD(x + i), vk);
        a0 = VADD(a0, d);
        q0 = VFMA(d, d, q0);
    }
    if (i < n) { /* padding lanes filled with k: d = 0 */
        const lsk_vf d = VSUB(VLDNF(x + i, n - i, k), vk);
        a1 = VADD(a1, d);
        q1 = VFMA(d, d, q1);
    }
    const double dn = (double)n, sd = (double)VHSUM(VADD(a0, a1)), sq = (double)VHSUM(VADD(q0, q1));
    const double m2 = sq - sd * sd / dn; /* sum (x - mean)^2 = sum d^2 - (sum d)^2 / n */
    out[0] = (double)k + sd / dn;
    out[1] = m2 > 0.0 ? m2 : 0.0;
}

void LSK_UK(bnapply, LSK_U4)(size_t n, const float *x, float *y, float mean_hi, float mean_lo, float scale,
                             float shift) {
    const lsk_vf vm = VDUP(mean_hi), vl = VDUP(mean_lo), va = VDUP(scale), vb = VDUP(shift);
#define LSK_BN_Y(X) VFMA(VSUB(VSUB(X, vm), vl), va, vb)
    size_t i = 0;
    for (; i + 4 * VLEN <= n; i += 4 * VLEN) {
        const lsk_vf r0 = LSK_BN_Y(VLD(x + i)), r1 = LSK_BN_Y(VLD(x + i + VLEN));
        const lsk_vf r2 = LSK_BN_Y(VLD(x + i + 2 * VLEN)), r3 = LSK_BN_Y(VLD(x + i + 3 * VLEN));
        VST(y + i, r0);
        VST(y + i + VLEN, r1);
        VST(y + i + 2 * VLEN, r2);
        VST(y + i + 3 * VLEN, r3);
    }
    for (; i + VLEN <= n; i += VLEN) VST(y + i, LSK_BN_Y(VLD(x + i)));
    if (i < n) VSTN(y + i, LSK_BN_Y(VLDN(x + i, n - i)), n - i);
#undef LSK_BN_Y
}

void LSK_UK(affine, LSK_U4)(size_t n, const float *x, float *y, float scale, float shift, int relu) {
    const lsk_vf va = VDUP(scale), vb = VDUP(shift), vz = VZERO();
    size_t i = 0;
    if (relu) {
        for (; i + 2 * VLEN <= n; i += 2 * VLEN) {
            const lsk_vf r0 = VMAX(VFMA(VLD(x + i), va, vb), vz), r1 = VMAX(VFMA(VLD(x + i + VLEN), va, vb), vz);
            VST(y + i, r0);
            VST(y + i + VLEN, r1);
        }
        for (; i + VLEN <= n; i += VLEN) VST(y + i, VMAX(VFMA(VLD(x + i), va, vb), vz));
        if (i < n) VSTN(y + i, VMAX(VFMA(VLDN(x + i, n - i), va, vb), vz), n - i);
    } else {
        for (; i + 2 * VLEN <= n; i += 2 * VLEN) {
            const lsk_vf r0 = VFMA(VLD(x + i), va, vb), r1 = VFMA(VLD(x + i + VLEN), va, vb);
            VST(y + i, r0);
            VST(y + i + VLEN, r1);
        }
        for (; i + VLEN <= n; i += VLEN) VST(y + i, VFMA(VLD(x + i), va, vb));
        if (i < n) VSTN(y + i, VFMA(VLDN(x + i, n - i), va, vb), n - i);
    }
}

void LSK_UK(bnbwdreduce, LSK_U4)(size_t n, const float *dy, const float *x, float mean, double out[2]) {
    const lsk_vf vm = VDUP(mean);
    lsk_vf g0 = VZERO(), g1 = VZERO(), d0 = VZERO(), d1 = VZERO();
    size_t i = 0;
    for (; i + 2 * VLEN <= n; i += 2 * VLEN) {
        const lsk_vf e0 = VLD(dy + i), e1 = VLD(dy + i + VLEN);
        g0 = VADD(g0, e0);
        g1 = VADD(g1, e1);
        d0 = VFMA(e0, VSUB(VLD(x + i), vm), d0);
        d1 = VFMA(e1, VSUB(VLD(x + i + VLEN), vm), d1);
    }
    for (; i + VLEN <= n; i += VLEN) {
        const lsk_vf e = VLD(dy + i);
        g0 = VADD(g0, e);
        d0 = VFMA(e, VSUB(VLD(x + i), vm), d0);
    }
    if (i < n) { /* zero-filled dy lanes contribute 0 */
        const lsk_vf e = VLDN(dy + i, n - i);
        g1 = VADD(g1, e);
        d1 = VFMA(e, VSUB(VLDN(x + i, n - i), vm), d1);
    }
    out[0] = (double)VHSUM(VADD(g0, g1));
    out[1] = (double)VHSUM(VADD(d0, d1));
}

void LSK_UK(bnbwdapply, LSK_U4)(size_t n, const float *dy, const float *x, float *dx, float mean, float a, float b,
                                float c, int accumulate) {
    const lsk_vf vm = VDUP(mean), va = VDUP(a), vb = VDUP(b), vc = VDUP(c);
/* a*dy + (b*(x - mean) + c) */
#define LSK_BN_DX(G, X) VFMA(va, G, VFMA(vb, VSUB(X, vm), vc))
    size_t i = 0;
    if (!accumulate) {
        for (; i + 2 * VLEN <= n; i += 2 * VLEN) {
            const lsk_vf r0 = LSK_BN_DX(VLD(dy + i), VLD(x + i));
            const lsk_vf r1 = LSK_BN_DX(VLD(dy + i + VLEN), VLD(x + i + VLEN));
            VST(dx + i, r0);
            VST(dx + i + VLEN, r1);
        }
        for (; i + VLEN <= n; i += VLEN) VST(dx + i, LSK_BN_DX(VLD(dy + i), VLD(x + i)));
        if (i < n) VSTN(dx + i, LSK_BN_DX(VLDN(dy + i, n - i), VLDN(x + i, n - i)), n - i);
    } else {
        for (; i + 2 * VLEN <= n; i += 2 * VLEN) {
            const lsk_vf r0 = VADD(VLD(dx + i), LSK_BN_DX(VLD(dy + i), VLD(x + i)));
            const lsk_vf r1 = VADD(VLD(dx + i + VLEN), LSK_BN_DX(VLD(dy + i + VLEN), VLD(x + i + VLEN)));
            VST(dx + i, r0);
            VST(dx + i + VLEN, r1);
        }
        for (; i + VLEN <= n; i += VLEN) VST(dx + i, VADD(VLD(dx + i), LSK_BN_DX(VLD(dy + i), VLD(x + i))));
        if (i < n) {
            const size_t r = n - i;
            VSTN(dx + i, VADD(VLDN(dx + i, r), LSK_BN_DX(VLDN(dy + i, r), VLDN(x + i, r))), r);
        }
    }
#undef LSK_BN_DX
}

/* ---- relu(batch norm) fused: the same arithmetic as bnapply / bnbwdreduce / bnbwdapply with
 * the ReLU applied to the output (forward) or its mask to dy (backward), so that each is bit
 * for bit the unfused op followed (forward) or preceded (backward) by the eltwise ReLU. */

void LSK_UK(bnapplyrelu, LSK_U4)(size_t n, const float *x, float *y, float mean_hi, float mean_lo, float scale,
                                 float shift) {
    const lsk_vf vm = VDUP(mean_hi), vl = VDUP(mean_lo), va = VDUP(scale), vb = VDUP(shift), z = VZERO();
/* VMAX(0, v) as lsk_f32_vrelu: relu(NaN) = NaN */
#define LSK_BN_YR(X) VMAX(z, VFMA(VSUB(VSUB(X, vm), vl), va, vb))
    size_t i = 0;
    for (; i + 4 * VLEN <= n; i += 4 * VLEN) {
        const lsk_vf r0 = LSK_BN_YR(VLD(x + i)), r1 = LSK_BN_YR(VLD(x + i + VLEN));
        const lsk_vf r2 = LSK_BN_YR(VLD(x + i + 2 * VLEN)), r3 = LSK_BN_YR(VLD(x + i + 3 * VLEN));
        VST(y + i, r0);
        VST(y + i + VLEN, r1);
        VST(y + i + 2 * VLEN, r2);
        VST(y + i + 3 * VLEN, r3);
    }
    for (; i + VLEN <= n; i += VLEN) VST(y + i, LSK_BN_YR(VLD(x + i)));
    if (i < n) VSTN(y + i, LSK_BN_YR(VLDN(x + i, n - i)), n - i);
#undef LSK_BN_YR
}

/* dy masked by y > 0, as lsk_f32_vrelu_bwd (y NaN or <= 0: 0) */
#define LSK_BN_G(DY, Y) VSELZ(VGT(Y, z), DY)

void LSK_UK(bnbwdreducerelu, LSK_U4)(size_t n, const float *dy, const float *y, const float *x, float mean,
                                     double out[2]) {
    const lsk_vf vm = VDUP(mean), z = VZERO();
    lsk_vf g0 = VZERO(), g1 = VZERO(), d0 = VZERO(), d1 = VZERO();
    size_t i = 0;
    for (; i + 2 * VLEN <= n; i += 2 * VLEN) {
        const lsk_vf e0 = LSK_BN_G(VLD(dy + i), VLD(y + i)), e1 = LSK_BN_G(VLD(dy + i + VLEN), VLD(y + i + VLEN));
        g0 = VADD(g0, e0);
        g1 = VADD(g1, e1);
        d0 = VFMA(e0, VSUB(VLD(x + i), vm), d0);
        d1 = VFMA(e1, VSUB(VLD(x + i + VLEN), vm), d1);
    }
    for (; i + VLEN <= n; i += VLEN) {
        const lsk_vf e = LSK_BN_G(VLD(dy + i), VLD(y + i));
        g0 = VADD(g0, e);
        d0 = VFMA(e, VSUB(VLD(x + i), vm), d0);
    }
    if (i < n) { /* zero-filled lanes contribute 0 */
        const lsk_vf e = LSK_BN_G(VLDN(dy + i, n - i), VLDN(y + i, n - i));
        g1 = VADD(g1, e);
        d1 = VFMA(e, VSUB(VLDN(x + i, n - i), vm), d1);
    }
    out[0] = (double)VHSUM(VADD(g0, g1));
    out[1] = (double)VHSUM(VADD(d0, d1));
}

void LSK_UK(bnbwdapplyrelu, LSK_U4)(size_t n, const float *dy, const float *y, const float *x, float *dx, float mean,
                                    float a, float b, float c, int accumulate) {
    const lsk_vf vm = VDUP(mean), va = VDUP(a), vb = VDUP(b), vc = VDUP(c), z = VZERO();
#define LSK_BN_DXR(G, X) VFMA(va, G, VFMA(vb, VSUB(X, vm), vc))
    size_t i = 0;
    if (!accumulate) {
        for (; i + 2 * VLEN <= n; i += 2 * VLEN) {
            const lsk_vf r0 = LSK_BN_DXR(LSK_BN_G(VLD(dy + i), VLD(y + i)), VLD(x + i));
            const lsk_vf r1 = LSK_BN_DXR(LSK_BN_G(VLD(dy + i + VLEN), VLD(y + i + VLEN)), VLD(x + i + VLEN));
            VST(dx + i, r0);
            VST(dx + i + VLEN, r1);
        }
        for (; i + VLEN <= n; i += VLEN) VST(dx + i, LSK_BN_DXR(LSK_BN_G(VLD(dy + i), VLD(y + i)), VLD(x + i)));
        if (i < n) {
            const size_t r = n - i;
            VSTN(dx + i, LSK_BN_DXR(LSK_BN_G(VLDN(dy + i, r), VLDN(y + i, r)), VLDN(x + i, r)), r);
        }
    } else {
        for (; i + 2 * VLEN <= n; i += 2 * VLEN) {
            const lsk_vf r0 = VADD(VLD(dx + i), LSK_BN_DXR(LSK_BN_G(VLD(dy + i), VLD(y + i)), VLD(x + i)));
            const lsk_vf r1 =
                VADD(VLD(dx + i + VLEN), LSK_BN_DXR(LSK_BN_G(VLD(dy + i + VLEN), VLD(y + i + VLEN)), VLD(x + i + VLEN)));
            VST(dx + i, r0);
            VST(dx + i + VLEN, r1);
        }
        for (; i + VLEN <= n; i += VLEN)
            VST(dx + i, VADD(VLD(dx + i), LSK_BN_DXR(LSK_BN_G(VLD(dy + i), VLD(y + i)), VLD(x + i))));
        if (i < n) {
            const size_t r = n - i;
            VSTN(dx + i, VADD(VLDN(dx + i, r), LSK_BN_DXR(LSK_BN_G(VLDN(dy + i, r), VLDN(y + i, r)), VLDN(x + i, r))), r);
        }
    }
#undef LSK_BN_DXR
}
#undef LSK_BN_G

const lsk_norm_ukernels LSK_UKTABLE(norm) = {
    LSK_UK(bnstats, LSK_U4), LSK_UK(bnapply, LSK_U4), LSK_UK(bnbwdreduce, LSK_U4), LSK_UK(bnbwdapply, LSK_U4),
    LSK_UK(affine, LSK_U4), LSK_UK(bnapplyrelu, LSK_U4), LSK_UK(bnbwdreducerelu, LSK_U4),
    LSK_UK(bnbwdapplyrelu, LSK_U4),
};
