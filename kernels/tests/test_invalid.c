/*
 * Invalid arguments: every public entry point (operators and their lsk_ref_* oracles) called
 * with NULL required pointers, bad flags/enums, inconsistent shapes and sizes whose products
 * overflow size_t (SIZE_MAX, or element counts whose byte size overflows). lsk_common.h's
 * contract: such calls return LSK_ERR_INVALID_ARGUMENT without touching memory.
 *
 * How "without touching memory" is checked: every output buffer is a small canary-filled
 * array (NBUF floats) and every input a small finite array; after each rejected call all
 * outputs must still hold the canary. A call that skipped a check and ran a kernel on an
 * overflowing shape would walk far past these arrays: a crash in a plain build, an
 * immediate report in the ASan build (make SAN=1). Each operator also gets one valid
 * control call on the same buffers, so a function that rejects everything fails too.
 *
 * Oracles (lsk_ref_*) get the NULL / flag / shape cases but not the size_t-overflow ones:
 * they are naive test loops that do not check products (see docs/c-library.md); an
 * overflow case there would crash the test program instead of failing one check.
 *
 * Runs once per ISA path the host has (validation must not depend on the path).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "harness.h"

#define NBUF 64
#define NOUT 6
static const float k_canary = 777.0f;
static const int32_t k_icanary = -7; /* also an out-of-plane argmax entry */

static float g_out[NOUT][NBUF];
static int32_t g_iout[NBUF];
static float g_in[4][NBUF];

#define O0 (g_out[0])
#define O1 (g_out[1])
#define O2 (g_out[2])
#define O3 (g_out[3])
#define O4 (g_out[4])
#define O5 (g_out[5])
#define AM (g_iout)
#define I0 ((const float *)g_in[0])
#define I1 ((const float *)g_in[1])
#define I2 ((const float *)g_in[2])
#define I3 ((const float *)g_in[3])
#define BIG ((size_t)SIZE_MAX)
#define BIG_BYTES (SIZE_MAX / sizeof(float) + 1) /* element count whose byte size overflows */

static void reset_buffers(void) {
    for (int b = 0; b < NOUT; b++)
        for (int i = 0; i < NBUF; i++) g_out[b][i] = k_canary;
    for (int i = 0; i < NBUF; i++) g_iout[i] = k_icanary;
    for (int b = 0; b < 4; b++)
        for (int i = 0; i < NBUF; i++) g_in[b][i] = 0.25f + 0.01f * (float)(i % 7) + 0.1f * (float)b;
}

/* Index of the first output word that is not the canary, or -1. Words before `from` of
 * buffer 0 are exempt (see the argmax case). */
static int first_touched(int from) {
    for (int b = 0; b < NOUT; b++)
        for (int i = (b == 0 ? from : 0); i < NBUF; i++)
            if (memcmp(&g_out[b][i], &k_canary, sizeof(float)) != 0) return b * NBUF + i;
    for (int i = 0; i < NBUF; i++)
        if (g_iout[i] != k_icanary) return NOUT * NBUF + i;
    return -1;
}

static const char *g_isa_name = "";

static void expect(lsk_tctx *t, lsk_status got, lsk_status want, int exempt, const char *expr, int line) {
    char what[420];
    const int touched = want == LSK_ERR_INVALID_ARGUMENT ? first_touched(exempt) : -1;
    const int ok = got == want && touched < 0;
    if (ok)
        snprintf(what, sizeof what, "test_invalid.c:%d %s [%s]", line, expr, g_isa_name);
    else if (got != want)
        snprintf(what, sizeof what, "test_invalid.c:%d %s [%s]: returned \"%s\", want \"%s\"", line, expr,
                 g_isa_name, lsk_status_string(got), lsk_status_string(want));
    else
        snprintf(what, sizeof what, "test_invalid.c:%d %s [%s]: rejected but wrote output word %d", line, expr,
                 g_isa_name, touched);
    lsk_tcheck(t, ok, what);
}

/* The call must return LSK_ERR_INVALID_ARGUMENT and leave every output canary intact. */
#define BAD(call)                                                                       \
    do {                                                                                \
        reset_buffers();                                                                \
        expect(t, (call), LSK_ERR_INVALID_ARGUMENT, 0, #call, __LINE__);                 \
    } while (0)
/* Control: the same kind of call with valid arguments succeeds. */
#define OK(call)                                                                        \
    do {                                                                                \
        reset_buffers();                                                                \
        expect(t, (call), LSK_OK, 0, #call, __LINE__);                                   \
    } while (0)

static void common_cases(lsk_tctx *t) {
    lsk_tcheck(t, lsk_set_isa((lsk_isa)LSK_ISA_COUNT) == LSK_ERR_UNSUPPORTED, "lsk_set_isa(LSK_ISA_COUNT) unsupported");
    lsk_tcheck(t, lsk_set_isa((lsk_isa)-2) == LSK_ERR_UNSUPPORTED, "lsk_set_isa(-2) unsupported");
    lsk_tcheck(t, !lsk_isa_supported((lsk_isa)-1) && !lsk_isa_supported((lsk_isa)LSK_ISA_COUNT),
               "lsk_isa_supported out of range is 0");
    lsk_tcheck(t, lsk_isa_name((lsk_isa)99) != NULL && lsk_status_string((lsk_status)99) != NULL,
               "names of unknown ISA / status are not NULL");
}

/* ---- gemm ------------------------------------------------------------------------ */
typedef lsk_status (*sgemm_fn)(lsk_transpose, lsk_transpose, size_t, size_t, size_t, float, const float *, size_t,
                               const float *, size_t, float, float *, size_t);

static void gemm_cases(lsk_tctx *t, sgemm_fn f, int overflow) {
    const lsk_transpose N = LSK_NO_TRANS, T = LSK_TRANS;
    /* m=3 n=4 k=5: A 3x5, B 5x4, C 3x4 */
    OK(f(N, N, 3, 4, 5, 1.0f, I0, 5, I1, 4, 0.0f, O0, 4));
    OK(f(T, T, 3, 4, 5, 1.0f, I0, 3, I1, 5, 0.0f, O0, 4));
    BAD(f((lsk_transpose)2, N, 3, 4, 5, 1.0f, I0, 5, I1, 4, 0.0f, O0, 4));
    BAD(f(N, (lsk_transpose)-1, 3, 4, 5, 1.0f, I0, 5, I1, 4, 0.0f, O0, 4));
    BAD(f(N, N, 3, 4, 5, 1.0f, I0, 5, I1, 4, 0.0f, NULL, 4));
    BAD(f(N, N, 3, 4, 5, 1.0f, NULL, 5, I1, 4, 0.0f, O0, 4));
    BAD(f(N, N, 3, 4, 5, 1.0f, I0, 5, NULL, 4, 0.0f, O0, 4));
    BAD(f(N, N, 3, 4, 5, 1.0f, I0, 5, I1, 4, 0.0f, O0, 3)); /* ldc < n */
    BAD(f(N, N, 3, 4, 5, 1.0f, I0, 4, I1, 4, 0.0f, O0, 4)); /* lda < k */
    BAD(f(T, N, 3, 4, 5, 1.0f, I0, 2, I1, 4, 0.0f, O0, 4)); /* A^T: lda < m */
    BAD(f(N, N, 3, 4, 5, 1.0f, I0, 5, I1, 3, 0.0f, O0, 4)); /* ldb < n */
    BAD(f(N, T, 3, 4, 5, 1.0f, I0, 5, I1, 4, 0.0f, O0, 4)); /* B^T: ldb < k */
    if (!overflow) return;
    BAD(f(N, N, BIG / 2 + 1, 2, 1, 1.0f, I0, 1, I1, 2, 0.0f, O0, 2));      /* m*ldc overflows */
    BAD(f(N, N, 2, BIG, 1, 1.0f, I0, 1, I1, BIG, 0.0f, O0, BIG));          /* m*ldc overflows */
    BAD(f(N, N, 2, 2, BIG, 1.0f, I0, BIG, I1, 2, 0.0f, O0, 2));            /* m*lda overflows */
    BAD(f(N, N, 2, 2, BIG / 2 + 1, 1.0f, I0, BIG / 2 + 1, I1, 2, 0.0f, O0, 2)); /* k*ldb overflows */
    BAD(f(N, N, BIG_BYTES, 1, 0, 1.0f, I0, 1, I1, 1, 0.0f, O0, 1));        /* C bytes overflow, k = 0 */
    BAD(f(N, N, 1, 1, BIG_BYTES, 1.0f, I0, BIG_BYTES, I1, 1, 0.0f, O0, 1)); /* A, B bytes overflow */
}

/* ---- conv ------------------------------------------------------------------------ */
static lsk_conv2d_desc conv_base(void) {
    /* x [1,2,5,5] (50), w [2,2,3,3] (36), y [1,2,5,5] (50) */
    lsk_conv2d_desc d = {1, 2, 5, 5, 2, 3, 3, 1, 1, 1, 1, 1};
    return d;
}

typedef lsk_status (*conv_fwd_fn)(const lsk_conv2d_desc *, float *, const float *, const float *, const float *);
typedef lsk_status (*conv_bwdd_fn)(const lsk_conv2d_desc *, float *, const float *, const float *, int);
typedef lsk_status (*conv_bwdw_fn)(const lsk_conv2d_desc *, float *, float *, const float *, const float *, int);

/* Descriptors that break one rule each (shape rules; `overflow` adds the size_t ones). */
static size_t bad_conv_descs(lsk_conv2d_desc *out, int overflow) {
    size_t n = 0;
    lsk_conv2d_desc d;
#define VARIANT(stmt) (d = conv_base(), (stmt), out[n++] = d)
    VARIANT(d.in_channels = 0);
    VARIANT(d.in_height = 0);
    VARIANT(d.in_width = 0);
    VARIANT(d.out_channels = 0);
    VARIANT(d.kernel_h = 0);
    VARIANT(d.kernel_w = 0);
    VARIANT(d.stride_h = 0);
    VARIANT(d.stride_w = 0);
    VARIANT(d.groups = 0);
    VARIANT(d.groups = 3);                          /* 2 channels not divisible by 3 */
    VARIANT((d.out_channels = 3, d.groups = 2));    /* out_channels not divisible */
    VARIANT((d.kernel_h = 8));                      /* padded input 7 < kernel 8 */
    VARIANT((d.kernel_w = 6, d.pad_w = 0));         /* 5 < 6 */
    if (overflow) {
        VARIANT(d.pad_h = BIG / 2 + 1);             /* 2*pad overflows */
        VARIANT(d.pad_w = BIG / 2 - 1);             /* in + 2*pad wraps around */
        VARIANT(d.batch = BIG);
        VARIANT(d.batch = BIG_BYTES / 50 + 1);      /* x bytes overflow */
        VARIANT((d.in_height = BIG, d.in_width = BIG));
        VARIANT((d.in_height = BIG / 4, d.kernel_h = 1, d.pad_h = 0)); /* hw * channels overflows */
        VARIANT((d.in_channels = BIG, d.groups = 1));
        VARIANT((d.out_channels = BIG - 1, d.groups = 1));
        VARIANT((d.kernel_h = BIG / 8, d.kernel_w = BIG / 8, d.in_height = BIG / 8, d.in_width = BIG / 8,
                 d.pad_h = 0, d.pad_w = 0)); /* kernel_h*kernel_w overflows */
    }
#undef VARIANT
    return n;
}

static void conv_cases(lsk_tctx *t, conv_fwd_fn fwd, conv_bwdd_fn bwdd, conv_bwdw_fn bwdw, int overflow) {
    const lsk_conv2d_desc d = conv_base();
    size_t ho = 0, wo = 0;
    OK(fwd(&d, O0, I0, I1, I2));
    OK(fwd(&d, O0, I0, I1, NULL)); /* bias is optional */
    OK(bwdd(&d, O0, I0, I1, 0));
    OK(bwdw(&d, O0, O1, I0, I1, 1));
    OK(bwdw(&d, O0, NULL, I0, I1, 0)); /* db is optional */
    BAD(fwd(NULL, O0, I0, I1, I2));
    BAD(fwd(&d, NULL, I0, I1, I2));
    BAD(fwd(&d, O0, NULL, I1, I2));
    BAD(fwd(&d, O0, I0, NULL, I2));
    BAD(bwdd(NULL, O0, I0, I1, 0));
    BAD(bwdd(&d, NULL, I0, I1, 0));
    BAD(bwdd(&d, O0, NULL, I1, 0));
    BAD(bwdd(&d, O0, I0, NULL, 0));
    BAD(bwdd(&d, O0, I0, I1, 2));
    BAD(bwdd(&d, O0, I0, I1, -1));
    BAD(bwdw(NULL, O0, O1, I0, I1, 0));
    BAD(bwdw(&d, NULL, O1, I0, I1, 0));
    BAD(bwdw(&d, O0, O1, NULL, I1, 0));
    BAD(bwdw(&d, O0, O1, I0, NULL, 0));
    BAD(bwdw(&d, O0, O1, I0, I1, 2));
    if (fwd == lsk_conv2d_fwd) {
        OK(lsk_conv2d_output_size(&d, &ho, &wo));
        lsk_tcheck(t, ho == 5 && wo == 5, "lsk_conv2d_output_size of the control shape");
        BAD(lsk_conv2d_output_size(NULL, &ho, &wo));
        BAD(lsk_conv2d_output_size(&d, NULL, &wo));
        BAD(lsk_conv2d_output_size(&d, &ho, NULL));
        /* the fused backward: dx and/or dw, db only with dw */
        OK(lsk_conv2d_bwd(&d, O0, O1, O2, I0, I1, I2, 0, 1));
        OK(lsk_conv2d_bwd(&d, O0, NULL, NULL, I0, NULL, I2, 1, 0));
        OK(lsk_conv2d_bwd(&d, NULL, O1, NULL, I0, I1, NULL, 0, 0));
        BAD(lsk_conv2d_bwd(NULL, O0, O1, O2, I0, I1, I2, 0, 0));
        BAD(lsk_conv2d_bwd(&d, NULL, NULL, NULL, I0, I1, I2, 0, 0));
        BAD(lsk_conv2d_bwd(&d, NULL, NULL, O2, I0, I1, I2, 0, 0));
        BAD(lsk_conv2d_bwd(&d, O0, O1, O2, NULL, I1, I2, 0, 0));
        BAD(lsk_conv2d_bwd(&d, O0, O1, O2, I0, NULL, I2, 0, 0));
        BAD(lsk_conv2d_bwd(&d, O0, O1, O2, I0, I1, NULL, 0, 0));
        BAD(lsk_conv2d_bwd(&d, O0, O1, O2, I0, I1, I2, 2, 0));
        BAD(lsk_conv2d_bwd(&d, O0, O1, O2, I0, I1, I2, 0, -1));
    }
    lsk_conv2d_desc bad[32];
    const size_t nbad = bad_conv_descs(bad, overflow);
    for (size_t i = 0; i < nbad; i++) {
        const lsk_conv2d_desc *e = &bad[i];
        char what[200];
        snprintf(what, sizeof what, "conv desc variant %zu {%zu,%zu,%zu,%zu,%zu,%zu,%zu,%zu,%zu,%zu,%zu,%zu}", i,
                 e->batch, e->in_channels, e->in_height, e->in_width, e->out_channels, e->kernel_h, e->kernel_w,
                 e->stride_h, e->stride_w, e->pad_h, e->pad_w, e->groups);
        reset_buffers();
        expect(t, fwd(e, O0, I0, I1, I2), LSK_ERR_INVALID_ARGUMENT, 0, what, __LINE__);
        expect(t, bwdd(e, O0, I0, I1, 1), LSK_ERR_INVALID_ARGUMENT, 0, what, __LINE__);
        expect(t, bwdw(e, O0, O1, I0, I1, 0), LSK_ERR_INVALID_ARGUMENT, 0, what, __LINE__);
        if (fwd == lsk_conv2d_fwd) {
            expect(t, lsk_conv2d_output_size(e, &ho, &wo), LSK_ERR_INVALID_ARGUMENT, 0, what, __LINE__);
            expect(t, lsk_conv2d_bwd(e, O0, O1, O2, I0, I1, I2, 1, 0), LSK_ERR_INVALID_ARGUMENT, 0, what, __LINE__);
        }
    }
}

/* ---- eltwise ----------------------------------------------------------------------- */
static void eltwise_cases(lsk_tctx *t, int prod) {
    lsk_status (*relu)(float *, const float *, size_t) = prod ? lsk_relu_fwd : lsk_ref_relu_fwd;
    lsk_status (*relu_bwd)(float *, const float *, const float *, size_t, int) = prod ? lsk_relu_bwd : lsk_ref_relu_bwd;
    lsk_status (*add)(float *, const float *, const float *, size_t) = prod ? lsk_add_fwd : lsk_ref_add_fwd;
    lsk_status (*axpy)(float *, const float *, float, size_t) = prod ? lsk_axpy : lsk_ref_axpy;
    lsk_status (*sgd)(float *, float *, const float *, size_t, float, float, float, int) =
        prod ? lsk_sgd_step : lsk_ref_sgd_step;
    OK(relu(O0, I0, 9));
    OK(relu_bwd(O0, I0, I1, 9, 1));
    OK(add(O0, I0, I1, 9));
    OK(axpy(O0, I0, 2.0f, 9));
    OK(sgd(O0, O1, I0, 9, 0.1f, 0.9f, 1e-4f, 1));
    BAD(relu(NULL, I0, 9));
    BAD(relu(O0, NULL, 9));
    BAD(relu_bwd(NULL, I0, I1, 9, 0));
    BAD(relu_bwd(O0, NULL, I1, 9, 0));
    BAD(relu_bwd(O0, I0, NULL, 9, 0));
    BAD(relu_bwd(O0, I0, I1, 9, 2));
    BAD(relu_bwd(O0, I0, I1, 9, -1));
    BAD(add(NULL, I0, I1, 9));
    BAD(add(O0, NULL, I1, 9));
    BAD(add(O0, I0, NULL, 9));
    BAD(axpy(NULL, I0, 1.0f, 9));
    BAD(axpy(O0, NULL, 1.0f, 9));
    BAD(sgd(NULL, O1, I0, 9, 0.1f, 0.9f, 0.0f, 0));
    BAD(sgd(O0, O1, NULL, 9, 0.1f, 0.9f, 0.0f, 0));
    BAD(sgd(O0, NULL, I0, 9, 0.1f, 0.9f, 0.0f, 0)); /* momentum needs a velocity buffer */
    BAD(sgd(O0, O1, I0, 9, -0.1f, 0.9f, 0.0f, 0));
    BAD(sgd(O0, O1, I0, 9, NAN, 0.9f, 0.0f, 0));
    BAD(sgd(O0, O1, I0, 9, 0.1f, -0.9f, 0.0f, 0));
    BAD(sgd(O0, O1, I0, 9, 0.1f, NAN, 0.0f, 0));
    BAD(sgd(O0, O1, I0, 9, 0.1f, 0.9f, -1e-4f, 0));
    BAD(sgd(O0, O1, I0, 9, 0.1f, 0.9f, NAN, 0));
    BAD(sgd(O0, O1, I0, 9, 0.1f, 0.9f, 0.0f, 2));
    if (!prod) return;
    OK(lsk_scale(O0, 2.0f, 9));
    OK(lsk_fill(O0, 2.0f, 9));
    BAD(lsk_scale(NULL, 2.0f, 9));
    BAD(lsk_fill(NULL, 2.0f, 9));
    static const size_t huge[] = {BIG, BIG_BYTES};
    for (int h = 0; h < 2; h++) {
        const size_t n = huge[h];
        BAD(lsk_relu_fwd(O0, I0, n));
        BAD(lsk_relu_bwd(O0, I0, I1, n, 0));
        BAD(lsk_add_fwd(O0, I0, I1, n));
        BAD(lsk_axpy(O0, I0, 1.0f, n));
        BAD(lsk_scale(O0, 1.0f, n));
        BAD(lsk_fill(O0, 1.0f, n));
        BAD(lsk_sgd_step(O0, O1, I0, n, 0.1f, 0.9f, 0.0f, 0));
    }
}

/* ---- norm --------------------------------------------------------------------------- */
static void norm_cases(lsk_tctx *t, int prod) {
    lsk_status (*train)(float *, float *, float *, float *, float *, const float *, const float *, const float *,
                        size_t, size_t, size_t, float, float) =
        prod ? lsk_batchnorm_fwd_train : lsk_ref_batchnorm_fwd_train;
    lsk_status (*eval)(float *, const float *, const float *, const float *, const float *, const float *, size_t,
                       size_t, size_t, float) = prod ? lsk_batchnorm_fwd_eval : lsk_ref_batchnorm_fwd_eval;
    lsk_status (*bwd)(float *, float *, float *, const float *, const float *, const float *, const float *,
                      const float *, size_t, size_t, size_t, int) = prod ? lsk_batchnorm_bwd : lsk_ref_batchnorm_bwd;
    /* batch 2, channels 3, hw 5: tensors of 30 */
    OK(train(O0, O1, O2, O3, O4, I0, I1, I2, 2, 3, 5, 0.1f, 1e-5f));
    OK(train(O0, O1, O2, NULL, NULL, I0, I1, I2, 2, 3, 5, 0.1f, 1e-5f));
    OK(eval(O0, I0, I1, I2, I3, I1, 2, 3, 5, 1e-5f));
    OK(bwd(O0, O1, O2, I0, I1, I2, I3, I1, 2, 3, 5, 1));
    BAD(train(NULL, O1, O2, O3, O4, I0, I1, I2, 2, 3, 5, 0.1f, 1e-5f));
    BAD(train(O0, NULL, O2, O3, O4, I0, I1, I2, 2, 3, 5, 0.1f, 1e-5f));
    BAD(train(O0, O1, NULL, O3, O4, I0, I1, I2, 2, 3, 5, 0.1f, 1e-5f));
    BAD(train(O0, O1, O2, O3, O4, NULL, I1, I2, 2, 3, 5, 0.1f, 1e-5f));
    BAD(train(O0, O1, O2, O3, O4, I0, NULL, I2, 2, 3, 5, 0.1f, 1e-5f));
    BAD(train(O0, O1, O2, O3, O4, I0, I1, NULL, 2, 3, 5, 0.1f, 1e-5f));
    BAD(train(O0, O1, O2, O3, O4, I0, I1, I2, 0, 3, 5, 0.1f, 1e-5f)); /* no values: no statistics */
    BAD(train(O0, O1, O2, O3, O4, I0, I1, I2, 2, 3, 0, 0.1f, 1e-5f));
    BAD(train(O0, O1, O2, O3, O4, I0, I1, I2, 2, 3, 5, 0.1f, -1e-5f));
    BAD(train(O0, O1, O2, O3, O4, I0, I1, I2, 2, 3, 5, 0.1f, NAN));
    BAD(eval(NULL, I0, I1, I2, I3, I1, 2, 3, 5, 1e-5f));
    BAD(eval(O0, NULL, I1, I2, I3, I1, 2, 3, 5, 1e-5f));
    BAD(eval(O0, I0, NULL, I2, I3, I1, 2, 3, 5, 1e-5f));
    BAD(eval(O0, I0, I1, NULL, I3, I1, 2, 3, 5, 1e-5f));
    BAD(eval(O0, I0, I1, I2, NULL, I1, 2, 3, 5, 1e-5f));
    BAD(eval(O0, I0, I1, I2, I3, NULL, 2, 3, 5, 1e-5f));
    BAD(eval(O0, I0, I1, I2, I3, I1, 2, 3, 5, -1.0f));
    BAD(eval(O0, I0, I1, I2, I3, I1, 2, 3, 5, NAN));
    BAD(bwd(O0, O1, O2, NULL, I1, I2, I3, I1, 2, 3, 5, 0));
    BAD(bwd(O0, O1, O2, I0, NULL, I2, I3, I1, 2, 3, 5, 0));
    BAD(bwd(O0, O1, O2, I0, I1, NULL, I3, I1, 2, 3, 5, 0)); /* dx needs gamma */
    BAD(bwd(O0, O1, O2, I0, I1, I2, NULL, I1, 2, 3, 5, 0));
    BAD(bwd(O0, O1, O2, I0, I1, I2, I3, NULL, 2, 3, 5, 0));
    BAD(bwd(O0, O1, O2, I0, I1, I2, I3, I1, 2, 3, 5, 2));
    if (!prod) return;
    BAD(train(O0, O1, O2, O3, O4, I0, I1, I2, 2, 3, 5, NAN, 1e-5f));
    static const size_t shapes[][3] = {{2, BIG, 5}, {BIG, 3, 5}, {2, 3, BIG}, {1, 1, BIG_BYTES}, {2, 1, BIG_BYTES / 2 + 1}};
    for (int s = 0; s < 5; s++) {
        const size_t b = shapes[s][0], c = shapes[s][1], hw = shapes[s][2];
        BAD(lsk_batchnorm_fwd_train(O0, O1, O2, O3, O4, I0, I1, I2, b, c, hw, 0.1f, 1e-5f));
        BAD(lsk_batchnorm_fwd_eval(O0, I0, I1, I2, I3, I1, b, c, hw, 1e-5f));
        BAD(lsk_batchnorm_bwd(O0, O1, O2, I0, I1, I2, I3, I1, b, c, hw, 0));
    }
}

/* ---- pool --------------------------------------------------------------------------- */
static lsk_pool2d_desc pool_base(void) {
    /* x [1,2,5,5] (50), window 3 stride 2 pad 1 -> y [1,2,3,3] (18) */
    lsk_pool2d_desc d = {1, 2, 5, 5, 3, 3, 2, 2, 1, 1};
    return d;
}

static void pool_cases(lsk_tctx *t, int prod) {
    lsk_status (*gfwd)(float *, const float *, size_t, size_t, size_t) =
        prod ? lsk_global_avgpool_fwd : lsk_ref_global_avgpool_fwd;
    lsk_status (*gbwd)(float *, const float *, size_t, size_t, size_t, int) =
        prod ? lsk_global_avgpool_bwd : lsk_ref_global_avgpool_bwd;
    lsk_status (*mfwd)(const lsk_pool2d_desc *, float *, int32_t *, const float *) =
        prod ? lsk_maxpool2d_fwd : lsk_ref_maxpool2d_fwd;
    lsk_status (*mbwd)(const lsk_pool2d_desc *, float *, const float *, const int32_t *, int) =
        prod ? lsk_maxpool2d_bwd : lsk_ref_maxpool2d_bwd;
    lsk_status (*afwd)(const lsk_pool2d_desc *, float *, const float *) = prod ? lsk_avgpool2d_fwd : lsk_ref_avgpool2d_fwd;
    lsk_status (*abwd)(const lsk_pool2d_desc *, float *, const float *, int) =
        prod ? lsk_avgpool2d_bwd : lsk_ref_avgpool2d_bwd;
    const lsk_pool2d_desc d = pool_base();
    static int32_t am_ok[18];
    for (int i = 0; i < 18; i++) am_ok[i] = i; /* inside the 25-element plane */
    size_t oh = 0, ow = 0;
    OK(gfwd(O0, I0, 2, 3, 5));
    OK(gbwd(O0, I0, 2, 3, 5, 1));
    OK(mfwd(&d, O0, AM, I0));
    OK(mbwd(&d, O0, I0, am_ok, 0));
    OK(afwd(&d, O0, I0));
    OK(abwd(&d, O0, I0, 1));
    BAD(gfwd(NULL, I0, 2, 3, 5));
    BAD(gfwd(O0, NULL, 2, 3, 5));
    BAD(gfwd(O0, I0, 2, 3, 0)); /* the mean of no values */
    BAD(gbwd(NULL, I0, 2, 3, 5, 0));
    BAD(gbwd(O0, NULL, 2, 3, 5, 0));
    BAD(gbwd(O0, I0, 2, 3, 5, 2));
    BAD(mfwd(NULL, O0, AM, I0));
    BAD(mfwd(&d, NULL, AM, I0));
    BAD(mfwd(&d, O0, NULL, I0));
    BAD(mfwd(&d, O0, AM, NULL));
    BAD(mbwd(NULL, O0, I0, am_ok, 0));
    BAD(mbwd(&d, NULL, I0, am_ok, 0));
    BAD(mbwd(&d, O0, NULL, am_ok, 0));
    BAD(mbwd(&d, O0, I0, NULL, 0));
    BAD(mbwd(&d, O0, I0, am_ok, 2));
    BAD(afwd(NULL, O0, I0));
    BAD(afwd(&d, NULL, I0));
    BAD(afwd(&d, O0, NULL));
    BAD(abwd(NULL, O0, I0, 0));
    BAD(abwd(&d, NULL, I0, 0));
    BAD(abwd(&d, O0, NULL, 0));
    BAD(abwd(&d, O0, I0, 2));
    if (prod) {
        OK(lsk_pool2d_output_size(&d, &oh, &ow));
        lsk_tcheck(t, oh == 3 && ow == 3, "lsk_pool2d_output_size of the control shape");
        BAD(lsk_pool2d_output_size(NULL, &oh, &ow));
        BAD(lsk_pool2d_output_size(&d, NULL, &ow));
        BAD(lsk_pool2d_output_size(&d, &oh, NULL));
        /* argmax entries outside the plane (the canary -7, and 25 = in_h*in_w): rejected and
         * nothing written outside dx's 50 words (inside, accumulate=0 zeroes dx first). */
        int32_t am_bad[18];
        for (int i = 0; i < 18; i++) am_bad[i] = i % 2 ? 25 : -1;
        reset_buffers();
        expect(t, lsk_maxpool2d_bwd(&d, O0, I0, AM, 0), LSK_ERR_INVALID_ARGUMENT, 50,
               "lsk_maxpool2d_bwd(&d, O0, I0, argmax = -7, 0)", __LINE__);
        reset_buffers();
        expect(t, lsk_maxpool2d_bwd(&d, O0, I0, am_bad, 1), LSK_ERR_INVALID_ARGUMENT, 50,
               "lsk_maxpool2d_bwd(&d, O0, I0, argmax in {-1, 25}, 1)", __LINE__);
    }
    /* Window rules (each descriptor breaks one). */
    lsk_pool2d_desc bad[24];
    size_t nbad = 0;
    lsk_pool2d_desc e;
#define VARIANT(stmt) (e = pool_base(), (stmt), bad[nbad++] = e)
    VARIANT(e.kernel_h = 0);
    VARIANT(e.kernel_w = 0);
    VARIANT(e.stride_h = 0);
    VARIANT(e.stride_w = 0);
    VARIANT(e.pad_h = 2);                                   /* pad > kernel/2 */
    VARIANT((e.kernel_w = 2, e.pad_w = 2));
    VARIANT((e.in_height = 1, e.kernel_h = 4, e.pad_h = 1)); /* padded 3 < kernel 4 */
    const size_t nwindow = nbad; /* lsk_pool2d_output_size checks these; the rest are sizes */
    if (prod) {
        VARIANT(e.in_height = BIG);
        VARIANT((e.in_width = BIG / 2, e.kernel_w = 1, e.pad_w = 0));
        VARIANT((e.in_height = 65536, e.in_width = 65536)); /* plane > INT32_MAX: argmax can't index it */
        VARIANT(e.batch = BIG);
        VARIANT((e.batch = BIG / 2 + 1, e.channels = 2));
        VARIANT((e.batch = BIG_BYTES / 25 + 1, e.channels = 1));
    }
#undef VARIANT
    for (size_t i = 0; i < nbad; i++) {
        const lsk_pool2d_desc *p = &bad[i];
        char what[200];
        snprintf(what, sizeof what, "pool desc variant %zu {%zu,%zu,%zu,%zu,%zu,%zu,%zu,%zu,%zu,%zu}", i, p->batch,
                 p->channels, p->in_height, p->in_width, p->kernel_h, p->kernel_w, p->stride_h, p->stride_w, p->pad_h,
                 p->pad_w);
        reset_buffers();
        expect(t, mfwd(p, O0, AM, I0), LSK_ERR_INVALID_ARGUMENT, 0, what, __LINE__);
        expect(t, mbwd(p, O0, I0, am_ok, 0), LSK_ERR_INVALID_ARGUMENT, 0, what, __LINE__);
        expect(t, afwd(p, O0, I0), LSK_ERR_INVALID_ARGUMENT, 0, what, __LINE__);
        expect(t, abwd(p, O0, I0, 1), LSK_ERR_INVALID_ARGUMENT, 0, what, __LINE__);
        if (prod && i < nwindow)
            expect(t, lsk_pool2d_output_size(p, &oh, &ow), LSK_ERR_INVALID_ARGUMENT, 0, what, __LINE__);
    }
    if (!prod) return;
    static const size_t shapes[][3] = {{BIG, 2, 1}, {2, BIG, 1}, {2, 2, BIG}, {1, 1, BIG_BYTES}, {BIG / 3, 2, 2}};
    for (int s = 0; s < 5; s++) {
        BAD(lsk_global_avgpool_fwd(O0, I0, shapes[s][0], shapes[s][1], shapes[s][2]));
        BAD(lsk_global_avgpool_bwd(O0, I0, shapes[s][0], shapes[s][1], shapes[s][2], 0));
    }
}

/* ---- linear ------------------------------------------------------------------------- */
static void linear_cases(lsk_tctx *t, int prod) {
    lsk_status (*fwd)(float *, const float *, const float *, const float *, size_t, size_t, size_t) =
        prod ? lsk_linear_fwd : lsk_ref_linear_fwd;
    lsk_status (*bwdd)(float *, const float *, const float *, size_t, size_t, size_t, int) =
        prod ? lsk_linear_bwd_data : lsk_ref_linear_bwd_data;
    lsk_status (*bwdw)(float *, float *, const float *, const float *, size_t, size_t, size_t, int) =
        prod ? lsk_linear_bwd_weight : lsk_ref_linear_bwd_weight;
    /* batch 3, in 5, out 4: x 15, w 20, y 12 */
    OK(fwd(O0, I0, I1, I2, 3, 5, 4));
    OK(fwd(O0, I0, I1, NULL, 3, 5, 4));
    OK(bwdd(O0, I0, I1, 3, 5, 4, 1));
    OK(bwdw(O0, O1, I0, I1, 3, 5, 4, 0));
    OK(bwdw(O0, NULL, I0, I1, 3, 5, 4, 1));
    BAD(fwd(NULL, I0, I1, I2, 3, 5, 4));
    BAD(fwd(O0, NULL, I1, I2, 3, 5, 4));
    BAD(fwd(O0, I0, NULL, I2, 3, 5, 4));
    BAD(bwdd(NULL, I0, I1, 3, 5, 4, 0));
    BAD(bwdd(O0, NULL, I1, 3, 5, 4, 0));
    BAD(bwdd(O0, I0, NULL, 3, 5, 4, 0));
    BAD(bwdd(O0, I0, I1, 3, 5, 4, 2));
    BAD(bwdw(NULL, O1, I0, I1, 3, 5, 4, 0));
    BAD(bwdw(O0, O1, NULL, I1, 3, 5, 4, 0));
    BAD(bwdw(O0, O1, I0, NULL, 3, 5, 4, 0));
    BAD(bwdw(O0, O1, I0, I1, 3, 5, 4, 2));
    if (!prod) return;
    static const size_t shapes[][3] = {{3, BIG, 4}, {BIG, 5, 4}, {3, 5, BIG}, {1, BIG_BYTES, 1}, {BIG_BYTES / 2, 1, 2}};
    for (int s = 0; s < 5; s++) {
        const size_t b = shapes[s][0], in = shapes[s][1], out = shapes[s][2];
        BAD(lsk_linear_fwd(O0, I0, I1, I2, b, in, out));
        BAD(lsk_linear_bwd_data(O0, I0, I1, b, in, out, 0));
        BAD(lsk_linear_bwd_weight(O0, O1, I0, I1, b, in, out, 0));
    }
}

/* ---- loss --------------------------------------------------------------------------- */
static void loss_cases(lsk_tctx *t, int prod) {
    lsk_status (*xent)(float *, float *, float *, const float *, const float *, size_t, size_t, float, float, int) =
        prod ? lsk_softmax_xent : lsk_ref_softmax_xent;
    /* rows 3, classes 7 (21) */
    OK(xent(O0, O1, O2, I0, I1, 3, 7, 1.0f, 1.0f, 0));
    OK(xent(NULL, O1, NULL, I0, NULL, 3, 7, 2.0f, 1.0f, 1)); /* probabilities only: no targets needed */
    BAD(xent(O0, O1, O2, NULL, I1, 3, 7, 1.0f, 1.0f, 0));
    BAD(xent(O0, O1, O2, I0, NULL, 3, 7, 1.0f, 1.0f, 0));  /* loss needs targets */
    BAD(xent(NULL, O1, O2, I0, NULL, 3, 7, 1.0f, 1.0f, 0)); /* dlogits needs targets */
    BAD(xent(O0, O1, O2, I0, I1, 3, 0, 1.0f, 1.0f, 0));     /* rows of no classes */
    BAD(xent(O0, O1, O2, I0, I1, 3, 7, 0.0f, 1.0f, 0));
    BAD(xent(O0, O1, O2, I0, I1, 3, 7, -1.0f, 1.0f, 0));
    BAD(xent(O0, O1, O2, I0, I1, 3, 7, NAN, 1.0f, 0));
    BAD(xent(O0, O1, O2, I0, I1, 3, 7, 1.0f, 1.0f, 2));
    if (!prod) return;
    OK(lsk_softmax_fwd(O0, I0, 3, 7, 1.0f));
    BAD(lsk_softmax_fwd(NULL, I0, 3, 7, 1.0f));
    BAD(lsk_softmax_fwd(O0, NULL, 3, 7, 1.0f));
    BAD(lsk_softmax_fwd(O0, I0, 3, 0, 1.0f));
    BAD(lsk_softmax_fwd(O0, I0, 3, 7, 0.0f));
    BAD(lsk_softmax_fwd(O0, I0, 3, 7, NAN));
    static const size_t shapes[][2] = {{BIG, 2}, {2, BIG}, {1, BIG_BYTES}, {BIG_BYTES / 3 + 1, 3}};
    for (int s = 0; s < 4; s++) {
        BAD(lsk_softmax_xent(O0, O1, O2, I0, I1, shapes[s][0], shapes[s][1], 1.0f, 1.0f, 0));
        BAD(lsk_softmax_fwd(O0, I0, shapes[s][0], shapes[s][1], 1.0f));
    }
}

/* ---- softmax-KL (loss family) ---------------------------------------------------- */
static void kl_cases(lsk_tctx *t, int prod) {
    lsk_status (*kl)(float *, float *, const float *, const float *, size_t, size_t, float, float, int) =
        prod ? lsk_softmax_kl : lsk_ref_softmax_kl;
    /* rows 3, classes 7 (21) */
    OK(kl(O0, O1, I0, I1, 3, 7, 3.0f, 1.0f, 0));
    OK(kl(NULL, O1, I0, I1, 3, 7, 1.0f, 0.5f, 1));
    BAD(kl(O0, O1, NULL, I1, 3, 7, 1.0f, 1.0f, 0));
    BAD(kl(O0, O1, I0, NULL, 3, 7, 1.0f, 1.0f, 0));
    BAD(kl(O0, O1, I0, I1, 3, 0, 1.0f, 1.0f, 0));
    BAD(kl(O0, O1, I0, I1, 3, 7, 0.0f, 1.0f, 0));
    BAD(kl(O0, O1, I0, I1, 3, 7, -1.0f, 1.0f, 0));
    BAD(kl(O0, O1, I0, I1, 3, 7, NAN, 1.0f, 0));
    BAD(kl(O0, O1, I0, I1, 3, 7, 1.0f, 1.0f, 2));
    if (!prod) return;
    BAD(lsk_softmax_kl(O0, O1, I0, I1, 3, 7, 1.0f, INFINITY, 0));
    static const size_t shapes[][2] = {{BIG, 2}, {2, BIG}, {1, BIG_BYTES}, {BIG_BYTES / 3 + 1, 3}};
    for (int s = 0; s < 4; s++) BAD(lsk_softmax_kl(O0, O1, I0, I1, shapes[s][0], shapes[s][1], 1.0f, 1.0f, 0));
}

/* ---- shuffle ------------------------------------------------------------------------ */
static void shuffle_cases(lsk_tctx *t, int prod) {
    lsk_status (*sf)(float *, const float *, size_t, size_t, size_t, size_t) =
        prod ? lsk_channel_shuffle_fwd : lsk_ref_channel_shuffle_fwd;
    lsk_status (*sb)(float *, const float *, size_t, size_t, size_t, size_t, int) =
        prod ? lsk_channel_shuffle_bwd : lsk_ref_channel_shuffle_bwd;
    lsk_status (*cf)(float *, const float *, const float *, size_t, size_t, size_t, size_t, size_t) =
        prod ? lsk_concat_shuffle_fwd : lsk_ref_concat_shuffle_fwd;
    lsk_status (*cb)(float *, float *, const float *, size_t, size_t, size_t, size_t, size_t, int) =
        prod ? lsk_concat_shuffle_bwd : lsk_ref_concat_shuffle_bwd;
    lsk_status (*pf)(float *, float *, const float *, size_t, size_t, size_t, size_t, size_t) =
        prod ? lsk_shuffle_split_fwd : lsk_ref_shuffle_split_fwd;
    lsk_status (*pb)(float *, const float *, const float *, size_t, size_t, size_t, size_t, size_t, int) =
        prod ? lsk_shuffle_split_bwd : lsk_ref_shuffle_split_bwd;
    /* batch 2, channels 6 (3 + 3), hw 5: 60 floats */
    OK(sf(O0, I0, 2, 6, 5, 3));
    OK(sb(O0, I0, 2, 6, 5, 2, 1));
    OK(cf(O0, I0, I1, 2, 3, 3, 5, 2));
    OK(cb(O0, O1, I0, 2, 3, 3, 5, 2, 0));
    OK(pf(O0, O1, I0, 2, 3, 3, 5, 2));
    OK(pb(O0, I0, I1, 2, 3, 3, 5, 2, 1));
    BAD(sf(O0, I0, 2, 6, 5, 0));  /* groups 0 */
    BAD(sf(O0, I0, 2, 6, 5, 4));  /* 4 does not divide 6 */
    BAD(sf(NULL, I0, 2, 6, 5, 2));
    BAD(sf(O0, NULL, 2, 6, 5, 2));
    BAD(sb(O0, I0, 2, 6, 5, 4, 0));
    BAD(sb(O0, I0, 2, 6, 5, 2, 2)); /* accumulate 2 */
    BAD(sb(NULL, I0, 2, 6, 5, 2, 0));
    BAD(sb(O0, NULL, 2, 6, 5, 2, 0));
    BAD(cf(O0, I0, I1, 2, 3, 2, 5, 2)); /* 2 does not divide 5 */
    BAD(cf(O0, NULL, I1, 2, 3, 3, 5, 2));
    BAD(cf(O0, I0, NULL, 2, 3, 3, 5, 2));
    BAD(cf(NULL, I0, I1, 2, 3, 3, 5, 2));
    BAD(cb(O0, O1, I0, 2, 3, 3, 5, 4, 0));
    BAD(cb(O0, O1, I0, 2, 3, 3, 5, 2, -1));
    BAD(cb(NULL, O1, I0, 2, 3, 3, 5, 2, 0));
    BAD(cb(O0, NULL, I0, 2, 3, 3, 5, 2, 0));
    BAD(cb(O0, O1, NULL, 2, 3, 3, 5, 2, 0));
    BAD(pf(O0, O1, I0, 2, 3, 3, 5, 0));
    BAD(pf(NULL, O1, I0, 2, 3, 3, 5, 2));
    BAD(pf(O0, NULL, I0, 2, 3, 3, 5, 2));
    BAD(pf(O0, O1, NULL, 2, 3, 3, 5, 2));
    BAD(pb(O0, I0, I1, 2, 3, 3, 5, 5, 0));
    BAD(pb(O0, I0, I1, 2, 3, 3, 5, 2, 2));
    BAD(pb(NULL, I0, I1, 2, 3, 3, 5, 2, 0));
    BAD(pb(O0, NULL, I1, 2, 3, 3, 5, 2, 0));
    BAD(pb(O0, I0, NULL, 2, 3, 3, 5, 2, 0));
    if (!prod) return;
    static const size_t shapes[][3] = {{BIG, 2, 2}, {2, BIG - 1, 1}, {2, 2, BIG}, {1, 2, BIG_BYTES / 2}};
    for (int s = 0; s < 4; s++) {
        const size_t b = shapes[s][0], c = shapes[s][1], hw = shapes[s][2];
        BAD(lsk_channel_shuffle_fwd(O0, I0, b, c, hw, 2 - c % 2));
        BAD(lsk_channel_shuffle_bwd(O0, I0, b, c, hw, 2 - c % 2, 0));
        BAD(lsk_shuffle_split_fwd(O0, O1, I0, b, c, 0, hw, 2 - c % 2));
    }
    BAD(lsk_concat_shuffle_fwd(O0, I0, I1, 1, BIG, 2, 1, 1)); /* ca + cb overflows */
    BAD(lsk_concat_shuffle_bwd(O0, O1, I0, 1, 2, BIG, 1, 1, 0));
    BAD(lsk_shuffle_split_fwd(O0, O1, I0, 1, BIG, BIG, 1, 1));
    BAD(lsk_shuffle_split_bwd(O0, I0, I1, 1, BIG, 1, 1, 1, 0));
}

void lsk_test_invalid(lsk_tctx *t) {
    common_cases(t);
    LSK_FOR_EACH_ISA(isa) {
        g_isa_name = lsk_isa_name((lsk_isa)isa);
        gemm_cases(t, lsk_sgemm, 1);
        conv_cases(t, lsk_conv2d_fwd, lsk_conv2d_bwd_data, lsk_conv2d_bwd_weight, 1);
        eltwise_cases(t, 1);
        norm_cases(t, 1);
        pool_cases(t, 1);
        linear_cases(t, 1);
        loss_cases(t, 1);
        kl_cases(t, 1);
        shuffle_cases(t, 1);
    }
    g_isa_name = "oracle";
    gemm_cases(t, lsk_ref_sgemm, 0);
    conv_cases(t, lsk_ref_conv2d_fwd, lsk_ref_conv2d_bwd_data, lsk_ref_conv2d_bwd_weight, 1);
    eltwise_cases(t, 0);
    norm_cases(t, 0);
    pool_cases(t, 0);
    linear_cases(t, 0);
    loss_cases(t, 0);
    kl_cases(t, 0);
    shuffle_cases(t, 0);
}
