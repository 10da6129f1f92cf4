/*
 * Body of the F(4x4, 3x3) transform microkernels, shared by the ISA files (contract and
 * matrices: winograd-internal.h). Each includer defines a vector type and its operations,
 * then includes this file once:
 *   WINO_VEC  WINO_W (lanes per vector)  WINO_LOAD(p)  WINO_STORE(p, v)  WINO_ADD(a, b)
 *   WINO_SUB(a, b)  WINO_MUL(a, b)  WINO_FMA(a, b, c) = a*b + c  WINO_SET1(x)  WINO_NAME(kind)
 * One template keeps the four ISA paths computing the same expression tree (same
 * operation order, so they differ only by FMA contraction), and the scalar instance is the
 * reference the tests hold the SIMD ones to.
 *
 * Lanes are processed WINO_W at a time up to round_up(n, WINO_W): the caller's buffers are
 * padded to LSK_WINO_LANE_ALIGN lanes (a multiple of every WINO_W), so the last vector
 * reads and writes padding lanes and no tail code is needed.
 */

/* Rows of B^T applied to a0..a5 (one column or row of a patch). */
#define WINO_BT(a0, a1, a2, a3, a4, a5, r)                                   \
    do {                                                                     \
        r[0] = WINO_FMA(c4, a0, WINO_FMA(cm5, a2, a4));                      \
        r[1] = WINO_FMA(cm4, WINO_ADD(a1, a2), WINO_ADD(a3, a4));            \
        r[2] = WINO_FMA(c4, WINO_SUB(a1, a2), WINO_SUB(a4, a3));             \
        r[3] = WINO_FMA(c2, WINO_SUB(a3, a1), WINO_SUB(a4, a2));             \
        r[4] = WINO_FMA(c2, WINO_SUB(a1, a3), WINO_SUB(a4, a2));             \
        r[5] = WINO_FMA(c4, a1, WINO_FMA(cm5, a3, a5));                      \
    } while (0)

void WINO_NAME(input)(const float *d, size_t ds, float *v, size_t vs, size_t n) {
    const WINO_VEC c2 = WINO_SET1(2.0f), c4 = WINO_SET1(4.0f), cm4 = WINO_SET1(-4.0f), cm5 = WINO_SET1(-5.0f);
    for (size_t t = 0; t < n; t += WINO_W) {
        WINO_VEC tmp[6][6]; /* tmp[i][c] = (B^T d)[i][c] */
        for (int c = 0; c < 6; c++) {
            WINO_VEC r[6];
            const float *p = d + (size_t)c * ds + t;
            WINO_BT(WINO_LOAD(p), WINO_LOAD(p + 6 * ds), WINO_LOAD(p + 12 * ds), WINO_LOAD(p + 18 * ds),
                    WINO_LOAD(p + 24 * ds), WINO_LOAD(p + 30 * ds), r);
            for (int i = 0; i < 6; i++) tmp[i][c] = r[i];
        }
        for (int i = 0; i < 6; i++) { /* V[i][j] = (tmp B)[i][j] = B^T_j . tmp[i][:] */
            WINO_VEC r[6];
            WINO_BT(tmp[i][0], tmp[i][1], tmp[i][2], tmp[i][3], tmp[i][4], tmp[i][5], r);
            float *q = v + (size_t)(i * 6) * vs + t;
            for (int j = 0; j < 6; j++) WINO_STORE(q + (size_t)j * vs, r[j]);
        }
    }
}

/* Rows of A^T applied to m0..m5. */
#define WINO_AT(m0, m1, m2, m3, m4, m5, o)                                   \
    do {                                                                     \
        const WINO_VEC s12_ = WINO_ADD(m1, m2), d12_ = WINO_SUB(m1, m2);     \
        const WINO_VEC s34_ = WINO_ADD(m3, m4), d34_ = WINO_SUB(m3, m4);     \
        o[0] = WINO_ADD(WINO_ADD(m0, s12_), s34_);                           \
        o[1] = WINO_FMA(c2, d34_, d12_);                                     \
        o[2] = WINO_FMA(c4, s34_, s12_);                                     \
        o[3] = WINO_ADD(WINO_FMA(c8, d34_, d12_), m5);                       \
    } while (0)

void WINO_NAME(output)(const float *m, size_t ms, float *y, size_t ys, size_t n) {
    const WINO_VEC c2 = WINO_SET1(2.0f), c4 = WINO_SET1(4.0f), c8 = WINO_SET1(8.0f);
    for (size_t t = 0; t < n; t += WINO_W) {
        WINO_VEC tmp[4][6]; /* tmp[a][j] = (A^T M)[a][j] */
        for (int j = 0; j < 6; j++) {
            WINO_VEC o[4];
            const float *p = m + (size_t)j * ms + t;
            WINO_AT(WINO_LOAD(p), WINO_LOAD(p + 6 * ms), WINO_LOAD(p + 12 * ms), WINO_LOAD(p + 18 * ms),
                    WINO_LOAD(p + 24 * ms), WINO_LOAD(p + 30 * ms), o);
            for (int a = 0; a < 4; a++) tmp[a][j] = o[a];
        }
        for (int a = 0; a < 4; a++) {
            WINO_VEC o[4];
            WINO_AT(tmp[a][0], tmp[a][1], tmp[a][2], tmp[a][3], tmp[a][4], tmp[a][5], o);
            float *q = y + (size_t)(a * 4) * ys + t;
            for (int b = 0; b < 4; b++) WINO_STORE(q + (size_t)b * ys, o[b]);
        }
    }
}

/* Rows of A (the transpose of A^T: 6x4) applied to d0..d3, for the weight gradient's
 * dM = A dY A^T (the adjoint of the output transform). */
#define WINO_A(d0, d1, d2, d3, o)                                            \
    do {                                                                     \
        const WINO_VEC e_ = WINO_ADD(d0, d2), f_ = WINO_ADD(d1, d3);         \
        const WINO_VEC g_ = WINO_FMA(c4, d2, d0);                            \
        const WINO_VEC h_ = WINO_MUL(c2, WINO_FMA(c4, d3, d1));              \
        o[0] = d0;                                                           \
        o[1] = WINO_ADD(e_, f_);                                             \
        o[2] = WINO_SUB(e_, f_);                                             \
        o[3] = WINO_ADD(g_, h_);                                             \
        o[4] = WINO_SUB(g_, h_);                                             \
        o[5] = d3;                                                           \
    } while (0)

/* d: 4x4 tiles in the 6x6 patch layout of the gather (element (a, b), a, b < 4, at
 * d[(a*6+b)*ds + t]; rows and columns 4, 5 are not read) -> m [36][ms] = A d A^T. */
void WINO_NAME(output_adj)(const float *d, size_t ds, float *m, size_t ms, size_t n) {
    const WINO_VEC c2 = WINO_SET1(2.0f), c4 = WINO_SET1(4.0f);
    for (size_t t = 0; t < n; t += WINO_W) {
        WINO_VEC tmp[6][4]; /* tmp[i][b] = (A d)[i][b] */
        for (int b = 0; b < 4; b++) {
            WINO_VEC o[6];
            const float *p = d + (size_t)b * ds + t;
            WINO_A(WINO_LOAD(p), WINO_LOAD(p + 6 * ds), WINO_LOAD(p + 12 * ds), WINO_LOAD(p + 18 * ds), o);
            for (int i = 0; i < 6; i++) tmp[i][b] = o[i];
        }
        for (int i = 0; i < 6; i++) { /* M[i][j] = (tmp A^T)[i][j] = A_j . tmp[i][:] */
            WINO_VEC o[6];
            WINO_A(tmp[i][0], tmp[i][1], tmp[i][2], tmp[i][3], o);
            float *q = m + (size_t)(i * 6) * ms + t;
            for (int j = 0; j < 6; j++) WINO_STORE(q + (size_t)j * ms, o[j]);
        }
    }
}

/* Rows of G applied to g0..g2. */
#define WINO_G(g0, g1, g2, u)                                                \
    do {                                                                     \
        const WINO_VEC s02_ = WINO_ADD(g0, g2);                              \
        const WINO_VEC p_ = WINO_FMA(c1_24, g0, WINO_MUL(c1_6, g2));         \
        const WINO_VEC q_ = WINO_MUL(c1_12, g1);                             \
        u[0] = WINO_MUL(c1_4, g0);                                           \
        u[1] = WINO_MUL(cm1_6, WINO_ADD(s02_, g1));                          \
        u[2] = WINO_MUL(cm1_6, WINO_SUB(s02_, g1));                          \
        u[3] = WINO_ADD(p_, q_);                                             \
        u[4] = WINO_SUB(p_, q_);                                             \
        u[5] = g2;                                                           \
    } while (0)

void WINO_NAME(filter)(const float *g, size_t gs, float *u, size_t us, size_t n) {
    const WINO_VEC c1_4 = WINO_SET1(0.25f), c1_6 = WINO_SET1(1.0f / 6.0f), cm1_6 = WINO_SET1(-1.0f / 6.0f);
    const WINO_VEC c1_12 = WINO_SET1(1.0f / 12.0f), c1_24 = WINO_SET1(1.0f / 24.0f);
    for (size_t t = 0; t < n; t += WINO_W) {
        WINO_VEC tmp[6][3]; /* tmp[i][c] = (G g)[i][c] */
        for (int c = 0; c < 3; c++) {
            WINO_VEC r[6];
            const float *p = g + (size_t)c * gs + t;
            WINO_G(WINO_LOAD(p), WINO_LOAD(p + 3 * gs), WINO_LOAD(p + 6 * gs), r);
            for (int i = 0; i < 6; i++) tmp[i][c] = r[i];
        }
        for (int i = 0; i < 6; i++) {
            WINO_VEC r[6];
            WINO_G(tmp[i][0], tmp[i][1], tmp[i][2], r);
            float *q = u + (size_t)(i * 6) * us + t;
            for (int j = 0; j < 6; j++) WINO_STORE(q + (size_t)j * us, r[j]);
        }
    }
}

/* Rows of G^T (3x6) applied to a0..a5: the adjoint of the filter transform, for the weight
 * gradient. Row 0: a0/4 - (a1+a2)/6 + (a3+a4)/24; row 1: (a2-a1)/6 + (a3-a4)/12; row 2:
 * (a3+a4-a1-a2)/6 + a5. */
#define WINO_GT(a0, a1, a2, a3, a4, a5, r)                                   \
    do {                                                                     \
        const WINO_VEC s12_ = WINO_ADD(a1, a2), d12_ = WINO_SUB(a1, a2);     \
        const WINO_VEC s34_ = WINO_ADD(a3, a4), d34_ = WINO_SUB(a3, a4);     \
        r[0] = WINO_FMA(c1_4, a0, WINO_FMA(cm1_6, s12_, WINO_MUL(c1_24, s34_))); \
        r[1] = WINO_FMA(cm1_6, d12_, WINO_MUL(c1_12, d34_));                 \
        r[2] = WINO_FMA(c1_6, WINO_SUB(s34_, s12_), a5);                     \
    } while (0)

/* m [36][ms] (6x6, element i*6+j) -> g [9][gs] = G^T m G (3x3, tap r*3+c). */
void WINO_NAME(filter_adj)(const float *m, size_t ms, float *g, size_t gs, size_t n) {
    const WINO_VEC c1_4 = WINO_SET1(0.25f), c1_6 = WINO_SET1(1.0f / 6.0f), cm1_6 = WINO_SET1(-1.0f / 6.0f);
    const WINO_VEC c1_12 = WINO_SET1(1.0f / 12.0f), c1_24 = WINO_SET1(1.0f / 24.0f);
    for (size_t t = 0; t < n; t += WINO_W) {
        WINO_VEC tmp[3][6]; /* tmp[i][j] = (G^T m)[i][j] */
        for (int j = 0; j < 6; j++) {
            WINO_VEC r[3];
            const float *p = m + (size_t)j * ms + t;
            WINO_GT(WINO_LOAD(p), WINO_LOAD(p + 6 * ms), WINO_LOAD(p + 12 * ms), WINO_LOAD(p + 18 * ms),
                    WINO_LOAD(p + 24 * ms), WINO_LOAD(p + 30 * ms), r);
            for (int i = 0; i < 3; i++) tmp[i][j] = r[i];
        }
        for (int i = 0; i < 3; i++) {
            WINO_VEC r[3];
            WINO_GT(tmp[i][0], tmp[i][1], tmp[i][2], tmp[i][3], tmp[i][4], tmp[i][5], r);
            float *q = g + (size_t)(i * 3) * gs + t;
            for (int j = 0; j < 3; j++) WINO_STORE(q + (size_t)j * gs, r[j]);
        }
    }
}

#undef WINO_GT
#undef WINO_BT
#undef WINO_AT
#undef WINO_A
#undef WINO_G
