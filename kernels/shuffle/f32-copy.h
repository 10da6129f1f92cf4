/*
 * Template of the plane-copy microkernels (contracts in shuffle-ukernels.h). Included once
 * per SIMD ISA after vec-<isa>.h: 4 vectors per step, masked tail (never past y[n-1]).
 */

void LSK_UK(copy, LSK_U4)(size_t n, const float *x, float *y) {
    size_t i = 0;
    for (; i + 4 * VLEN <= n; i += 4 * VLEN) {
        const lsk_vf a = VLD(x + i), b = VLD(x + i + VLEN), c = VLD(x + i + 2 * VLEN), d = VLD(x + i + 3 * VLEN);
        VST(y + i, a);
        VST(y + i + VLEN, b);
        VST(y + i + 2 * VLEN, c);
        VST(y + i + 3 * VLEN, d);
    }
    for (; i + VLEN <= n; i += VLEN) VST(y + i, VLD(x + i));
    if (i < n) VSTN(y + i, VLDN(x + i, n - i), n - i);
}

void LSK_UK(vacc, LSK_U4)(size_t n, const float *x, float *y) {
    size_t i = 0;
    for (; i + 4 * VLEN <= n; i += 4 * VLEN) {
        const lsk_vf a = VADD(VLD(y + i), VLD(x + i)), b = VADD(VLD(y + i + VLEN), VLD(x + i + VLEN));
        const lsk_vf c = VADD(VLD(y + i + 2 * VLEN), VLD(x + i + 2 * VLEN));
        const lsk_vf d = VADD(VLD(y + i + 3 * VLEN), VLD(x + i + 3 * VLEN));
        VST(y + i, a);
        VST(y + i + VLEN, b);
        VST(y + i + 2 * VLEN, c);
        VST(y + i + 3 * VLEN, d);
    }
    for (; i + VLEN <= n; i += VLEN) VST(y + i, VADD(VLD(y + i), VLD(x + i)));
    if (i < n) VSTN(y + i, VADD(VLDN(y + i, n - i), VLDN(x + i, n - i)), n - i);
}

const lsk_shuffle_ukernels LSK_UKTABLE(shuffle) = {LSK_UK(copy, LSK_U4), LSK_UK(vacc, LSK_U4)};
