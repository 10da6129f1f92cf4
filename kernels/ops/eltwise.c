/*
 * Eltwise operators: argument validation, OpenMP over contiguous chunk ranges, and the
 * per-ISA microkernel table (kernels/eltwise/eltwise-ukernels.h).
 *
 * Threading: arrays shorter than LSK_ELTWISE_PAR_MIN elements run on the calling thread
 * (a parallel region costs a few microseconds, about what one thread needs to stream
 * 64K floats); longer arrays are cut into LSK_ELTWISE_CHUNK-element chunks and every
 * thread gets one contiguous run of chunks (good for the hardware prefetchers).
 */
#include <stdint.h>
#include "../internal/lsk_internal.h"
#include "../../include/lsk_eltwise.h"
#include "../eltwise/eltwise-ukernels.h"

#define LSK_ELTWISE_CHUNK ((size_t)16384)
#define LSK_ELTWISE_PAR_MIN ((size_t)65536)

const lsk_eltwise_ukernels *lsk_eltwise_ukernels_for(int isa) {
    switch (isa) {
#if defined(__x86_64__)
    case LSK_ISA_AVX2: return &lsk_eltwise_ukernels__avx2;
    case LSK_ISA_AVX512: return &lsk_eltwise_ukernels__avx512;
#endif
#if defined(__aarch64__)
    case LSK_ISA_NEON: return &lsk_eltwise_ukernels__neon;
#endif
    default: return &lsk_eltwise_ukernels__scalar;
    }
}

/* Arguments of every eltwise call, passed to the per-range worker. */
typedef struct eltwise_args {
    const lsk_eltwise_ukernels *uk;
    int op, accumulate;
    float *y, *v;
    const float *a, *b;
    float alpha;
    lsk_sgd_params sgd;
} eltwise_args;

enum { OP_RELU, OP_RELU_BWD, OP_ADD, OP_ADD_RELU, OP_AXPY, OP_SCALE, OP_FILL, OP_SGD };

static void eltwise_range(const eltwise_args *g, size_t i0, size_t i1) {
    const size_t n = i1 - i0;
    switch (g->op) {
    case OP_RELU: g->uk->relu(n, g->a + i0, g->y + i0); break;
    case OP_RELU_BWD: g->uk->relu_bwd(n, g->a + i0, g->b + i0, g->y + i0, g->accumulate); break;
    case OP_ADD: g->uk->add(n, g->a + i0, g->b + i0, g->y + i0); break;
    case OP_ADD_RELU: g->uk->add_relu(n, g->a + i0, g->b + i0, g->y + i0); break;
    case OP_AXPY: g->uk->axpy(n, g->alpha, g->a + i0, g->y + i0); break;
    case OP_SCALE: g->uk->scale(n, g->alpha, g->y + i0, g->y + i0); break;
    case OP_FILL: g->uk->fill(n, g->alpha, g->y + i0); break;
    case OP_SGD: g->uk->sgd(n, g->y + i0, g->v ? g->v + i0 : NULL, g->a + i0, &g->sgd); break;
    }
}

static void eltwise_run(eltwise_args *g, size_t n) {
    g->uk = lsk_eltwise_ukernels_for(lsk_active_isa());
    const size_t nchunks = (n + LSK_ELTWISE_CHUNK - 1) / LSK_ELTWISE_CHUNK;
    int nt = n < LSK_ELTWISE_PAR_MIN ? 1 : lsk_region_threads();
    if ((size_t)nt > nchunks) nt = (int)nchunks;
    if (nt <= 1) {
        eltwise_range(g, 0, n);
        return;
    }
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
    {
        const size_t t = (size_t)omp_get_thread_num(), T = (size_t)omp_get_num_threads();
        const size_t c0 = nchunks * t / T, c1 = nchunks * (t + 1) / T;
        if (c1 > c0) eltwise_range(g, c0 * LSK_ELTWISE_CHUNK, LSK_MIN(c1 * LSK_ELTWISE_CHUNK, n));
    }
#else
    eltwise_range(g, 0, n);
#endif
}

/* n elements addressable as floats (larger arrays cannot exist). */
#define CHECK_N(n) LSK_CHECK((n) <= SIZE_MAX / sizeof(float))

lsk_status lsk_relu_fwd(float *y, const float *x, size_t n) {
    CHECK_N(n);
    if (n == 0) return LSK_OK;
    LSK_CHECK(y && x);
    eltwise_args g = {0};
    g.op = OP_RELU, g.y = y, g.a = x;
    eltwise_run(&g, n);
    return LSK_OK;
}

lsk_status lsk_relu_bwd(float *dx, const float *dy, const float *y, size_t n, int accumulate) {
    CHECK_N(n);
    LSK_CHECK(accumulate == 0 || accumulate == 1);
    if (n == 0) return LSK_OK;
    LSK_CHECK(dx && dy && y);
    eltwise_args g = {0};
    g.op = OP_RELU_BWD, g.y = dx, g.a = dy, g.b = y, g.accumulate = accumulate;
    eltwise_run(&g, n);
    return LSK_OK;
}

lsk_status lsk_add_fwd(float *y, const float *a, const float *b, size_t n) {
    CHECK_N(n);
    if (n == 0) return LSK_OK;
    LSK_CHECK(y && a && b);
    eltwise_args g = {0};
    g.op = OP_ADD, g.y = y, g.a = a, g.b = b;
    eltwise_run(&g, n);
    return LSK_OK;
}

lsk_status lsk_add_relu_fwd(float *y, const float *a, const float *b, size_t n) {
    CHECK_N(n);
    if (n == 0) return LSK_OK;
    LSK_CHECK(y && a && b);
    eltwise_args g = {0};
    g.op = OP_ADD_RELU, g.y = y, g.a = a, g.b = b;
    eltwise_run(&g, n);
    return LSK_OK;
}

lsk_status lsk_axpy(float *y, const float *x, float alpha, size_t n) {
    CHECK_N(n);
    if (n == 0) return LSK_OK;
    LSK_CHECK(y && x);
    eltwise_args g = {0};
    g.op = OP_AXPY, g.y = y, g.a = x, g.alpha = alpha;
    eltwise_run(&g, n);
    return LSK_OK;
}

lsk_status lsk_scale(float *y, float alpha, size_t n) {
    CHECK_N(n);
    if (n == 0) return LSK_OK;
    LSK_CHECK(y);
    eltwise_args g = {0};
    g.op = OP_SCALE, g.y = y, g.alpha = alpha;
    eltwise_run(&g, n);
    return LSK_OK;
}

lsk_status lsk_fill(float *y, float value, size_t n) {
    CHECK_N(n);
    if (n == 0) return LSK_OK;
    LSK_CHECK(y);
    eltwise_args g = {0};
    g.op = OP_FILL, g.y = y, g.alpha = value;
    eltwise_run(&g, n);
    return LSK_OK;
}

lsk_status lsk_sgd_step(float *param, float *velocity, const float *grad, size_t n,
                        float lr, float momentum, float weight_decay, int nesterov) {
    CHECK_N(n);
    /* PyTorch rejects negative hyper-parameters too; !(x >= 0) also rejects NaN. */
    LSK_CHECK(lr >= 0.0f && momentum >= 0.0f && weight_decay >= 0.0f);
    LSK_CHECK(nesterov == 0 || nesterov == 1);
    if (n == 0) return LSK_OK;
    LSK_CHECK(param && grad && (velocity || momentum == 0.0f));
    eltwise_args g = {0};
    g.op = OP_SGD, g.y = param, g.v = momentum != 0.0f ? velocity : NULL, g.a = grad;
    g.sgd.lr = lr, g.sgd.momentum = momentum, g.sgd.weight_decay = weight_decay, g.sgd.nesterov = nesterov;
    eltwise_run(&g, n);
    return LSK_OK;
}
