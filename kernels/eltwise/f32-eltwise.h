/*
 * Template of the eltwise microkernels (see eltwise-ukernels.h for the contracts).
 * Included once per ISA after vec-<isa>.h; do not include elsewhere.
 *
 * Every kernel is the same three-step loop: 4 vectors per step, then single vectors,
 * then one partial vector (masked on x86, through a stack buffer on NEON). All loads of a
 * step happen before its stores, so in-place calls (y == x) are safe.
 */

void LSK_UK(vrelu, LSK_U4)(size_t n, const float *x, float *y) {
    const lsk_vf z = VZERO();
    size_t i = 0;
    for (; i + 4 * VLEN <= n; i += 4 * VLEN) {
        const lsk_vf a0 = VLD(x + i), a1 = VLD(x + i + VLEN), a2 = VLD(x + i + 2 * VLEN), a3 = VLD(x + i + 3 * VLEN);
        /* VMAX(0, x) returns x where x is NaN: relu(NaN) = NaN as in PyTorch */
        VST(y + i, VMAX(z, a0));
        VST(y + i + VLEN, VMAX(z, a1));
        VST(y + i + 2 * VLEN, VMAX(z, a2));
        VST(y + i + 3 * VLEN, VMAX(z, a3));
    }
    for (; i + VLEN <= n; i += VLEN) VST(y + i, VMAX(z, VLD(x + i)));
    if (i < n) VSTN(y + i, VMAX(z, VLDN(x + i, n - i)), n - i);
}

void LSK_UK(vrelu_bwd, LSK_U4)(size_t n, const float *dy, const float *y, float *dx, int accumulate) {
    const lsk_vf z = VZERO();
    size_t i = 0;
    if (!accumulate) {
        for (; i + 4 * VLEN <= n; i += 4 * VLEN) {
            const lsk_vf g0 = VSELZ(VGT(VLD(y + i), z), VLD(dy + i));
            const lsk_vf g1 = VSELZ(VGT(VLD(y + i + VLEN), z), VLD(dy + i + VLEN));
            const lsk_vf g2 = VSELZ(VGT(VLD(y + i + 2 * VLEN), z), VLD(dy + i + 2 * VLEN));
            const lsk_vf g3 = VSELZ(VGT(VLD(y + i + 3 * VLEN), z), VLD(dy + i + 3 * VLEN));
            VST(dx + i, g0);
            VST(dx + i + VLEN, g1);
            VST(dx + i + 2 * VLEN, g2);
            VST(dx + i + 3 * VLEN, g3);
        }
        for (; i + VLEN <= n; i += VLEN) VST(dx + i, VSELZ(VGT(VLD(y + i), z), VLD(dy + i)));
        if (i < n) VSTN(dx + i, VSELZ(VGT(VLDN(y + i, n - i), z), VLDN(dy + i, n - i)), n - i);
    } else {
        for (; i + 4 * VLEN <= n; i += 4 * VLEN) {
            const lsk_vf g0 = VSELZ(VGT(VLD(y + i), z), VLD(dy + i));
            const lsk_vf g1 = VSELZ(VGT(VLD(y + i + VLEN), z), VLD(dy + i + VLEN));
            const lsk_vf g2 = VSELZ(VGT(VLD(y + i + 2 * VLEN), z), VLD(dy + i + 2 * VLEN));
            const lsk_vf g3 = VSELZ(VGT(VLD(y + i + 3 * VLEN), z), VLD(dy + i + 3 * VLEN));
            VST(dx + i, VADD(VLD(dx + i), g0));
            VST(dx + i + VLEN, VADD(VLD(dx + i + VLEN), g1));
            VST(dx + i + 2 * VLEN, VADD(VLD(dx + i + 2 * VLEN), g2));
            VST(dx + i + 3 * VLEN, VADD(VLD(dx + i + 3 * VLEN), g3));
        }
        for (; i + VLEN <= n; i += VLEN) VST(dx + i, VADD(VLD(dx + i), VSELZ(VGT(VLD(y + i), z), VLD(dy + i))));
        if (i < n) {
            const size_t r = n - i;
            VSTN(dx + i, VADD(VLDN(dx + i, r), VSELZ(VGT(VLDN(y + i, r), z), VLDN(dy + i, r))), r);
        }
    }
}

void LSK_UK(vaddrelu, LSK_U4)(size_t n, const float *a, const float *b, float *y) {
    const lsk_vf z = VZERO();
    size_t i = 0;
    /* VMAX(0, a + b) as vrelu of vadd's sum: bit for bit the two kernels in sequence */
    for (; i + 4 * VLEN <= n; i += 4 * VLEN) {
        const lsk_vf s0 = VMAX(z, VADD(VLD(a + i), VLD(b + i)));
        const lsk_vf s1 = VMAX(z, VADD(VLD(a + i + VLEN), VLD(b + i + VLEN)));
        const lsk_vf s2 = VMAX(z, VADD(VLD(a + i + 2 * VLEN), VLD(b + i + 2 * VLEN)));
        const lsk_vf s3 = VMAX(z, VADD(VLD(a + i + 3 * VLEN), VLD(b + i + 3 * VLEN)));
        VST(y + i, s0);
        VST(y + i + VLEN, s1);
        VST(y + i + 2 * VLEN, s2);
        VST(y + i + 3 * VLEN, s3);
    }
    for (; i + VLEN <= n; i += VLEN) VST(y + i, VMAX(z, VADD(VLD(a + i), VLD(b + i))));
    if (i < n) VSTN(y + i, VMAX(z, VADD(VLDN(a + i, n - i), VLDN(b + i, n - i))), n - i);
}

void LSK_UK(vadd, LSK_U4)(size_t n, const float *a, const float *b, float *y) {
    size_t i = 0;
    for (; i + 4 * VLEN <= n; i += 4 * VLEN) {
        const lsk_vf s0 = VADD(VLD(a + i), VLD(b + i));
        const lsk_vf s1 = VADD(VLD(a + i + VLEN), VLD(b + i + VLEN));
        const lsk_vf s2 = VADD(VLD(a + i + 2 * VLEN), VLD(b + i + 2 * VLEN));
        const lsk_vf s3 = VADD(VLD(a + i + 3 * VLEN), VLD(b + i + 3 * VLEN));
        VST(y + i, s0);
        VST(y + i + VLEN, s1);
        VST(y + i + 2 * VLEN, s2);
        VST(y + i + 3 * VLEN, s3);
    }
    for (; i + VLEN <= n; i += VLEN) VST(y + i, VADD(VLD(a + i), VLD(b + i)));
    if (i < n) VSTN(y + i, VADD(VLDN(a + i, n - i), VLDN(b + i, n - i)), n - i);
}

void LSK_UK(vaxpy, LSK_U4)(size_t n, float alpha, const float *x, float *y) {
    const lsk_vf va = VDUP(alpha);
    size_t i = 0;
    for (; i + 4 * VLEN <= n; i += 4 * VLEN) {
        const lsk_vf s0 = VFMA(va, VLD(x + i), VLD(y + i));
        const lsk_vf s1 = VFMA(va, VLD(x + i + VLEN), VLD(y + i + VLEN));
        const lsk_vf s2 = VFMA(va, VLD(x + i + 2 * VLEN), VLD(y + i + 2 * VLEN));
        const lsk_vf s3 = VFMA(va, VLD(x + i + 3 * VLEN), VLD(y + i + 3 * VLEN));
        VST(y + i, s0);
        VST(y + i + VLEN, s1);
        VST(y + i + 2 * VLEN, s2);
        VST(y + i + 3 * VLEN, s3);
    }
    for (; i + VLEN <= n; i += VLEN) VST(y + i, VFMA(va, VLD(x + i), VLD(y + i)));
    if (i < n) VSTN(y + i, VFMA(va, VLDN(x + i, n - i), VLDN(y + i, n - i)), n - i);
}

void LSK_UK(vscale, LSK_U4)(size_t n, float alpha, const float *x, float *y) {
    const lsk_vf va = VDUP(alpha);
    size_t i = 0;
    for (; i + 4 * VLEN <= n; i += 4 * VLEN) {
        const lsk_vf s0 = VMUL(va, VLD(x + i)), s1 = VMUL(va, VLD(x + i + VLEN));
        const lsk_vf s2 = VMUL(va, VLD(x + i + 2 * VLEN)), s3 = VMUL(va, VLD(x + i + 3 * VLEN));
        VST(y + i, s0);
        VST(y + i + VLEN, s1);
        VST(y + i + 2 * VLEN, s2);
        VST(y + i + 3 * VLEN, s3);
    }
    for (; i + VLEN <= n; i += VLEN) VST(y + i, VMUL(va, VLD(x + i)));
    if (i < n) VSTN(y + i, VMUL(va, VLDN(x + i, n - i)), n - i);
}

void LSK_UK(vfill, LSK_U4)(size_t n, float value, float *y) {
    const lsk_vf v = VDUP(value);
    size_t i = 0;
    for (; i + 4 * VLEN <= n; i += 4 * VLEN) {
        VST(y + i, v);
        VST(y + i + VLEN, v);
        VST(y + i + 2 * VLEN, v);
        VST(y + i + 3 * VLEN, v);
    }
    for (; i + VLEN <= n; i += VLEN) VST(y + i, v);
    if (i < n) VSTN(y + i, v, n - i);
}

/* One SGD step on a vector (PyTorch order of operations):
 *   g = wd*p + grad;  v = mom*v + g;  step = nesterov ? mom*v + g : v;  p = p - lr*step */
#define LSK_SGD_VEC_MOM(P, V, G, STEP)             \
    const lsk_vf g_ = VFMA(vwd, P, G);             \
    const lsk_vf v_ = VFMA(vmom, V, g_);           \
    const lsk_vf STEP = nesterov ? VFMA(vmom, v_, g_) : v_; \
    V = v_
void LSK_UK(sgd, LSK_U1)(size_t n, float *param, float *velocity, const float *grad, const lsk_sgd_params *prm) {
    const lsk_vf vnlr = VDUP(-prm->lr), vwd = VDUP(prm->weight_decay), vmom = VDUP(prm->momentum);
    const int nesterov = prm->nesterov;
    size_t i = 0;
    if (velocity == NULL) { /* momentum == 0: p -= lr * (grad + wd*p) */
        for (; i + VLEN <= n; i += VLEN) {
            const lsk_vf p = VLD(param + i);
            VST(param + i, VFMA(vnlr, VFMA(vwd, p, VLD(grad + i)), p));
        }
        if (i < n) {
            const lsk_vf p = VLDN(param + i, n - i);
            VSTN(param + i, VFMA(vnlr, VFMA(vwd, p, VLDN(grad + i, n - i)), p), n - i);
        }
        return;
    }
    for (; i + VLEN <= n; i += VLEN) {
        const lsk_vf p = VLD(param + i);
        lsk_vf v = VLD(velocity + i);
        LSK_SGD_VEC_MOM(p, v, VLD(grad + i), step);
        VST(velocity + i, v);
        VST(param + i, VFMA(vnlr, step, p));
    }
    if (i < n) {
        const size_t r = n - i;
        const lsk_vf p = VLDN(param + i, r);
        lsk_vf v = VLDN(velocity + i, r);
        LSK_SGD_VEC_MOM(p, v, VLDN(grad + i, r), step);
        VSTN(velocity + i, v, r);
        VSTN(param + i, VFMA(vnlr, step, p), r);
    }
}
#undef LSK_SGD_VEC_MOM

const lsk_eltwise_ukernels LSK_UKTABLE(eltwise) = {
    LSK_UK(vrelu, LSK_U4), LSK_UK(vrelu_bwd, LSK_U4), LSK_UK(vadd, LSK_U4), LSK_UK(vaxpy, LSK_U4),
    LSK_UK(vscale, LSK_U4), LSK_UK(vfill, LSK_U4), LSK_UK(sgd, LSK_U1), LSK_UK(vaddrelu, LSK_U4),
};
