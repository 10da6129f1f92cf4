/*
 * Memory-bound NN kernel benchmarks (eltwise, batch-norm, pooling, loss) on the shapes of a
 * CIFAR ResNet trained with batch 256. GB/s counts the bytes each call must read and write
 * once (compulsory traffic; e.g. batch-norm train reads x and writes y: 8 bytes/element,
 * although it sweeps x twice, the second time from cache). The loss reports time, and GB/s
 * for logits + targets read and dlogits written (softmax_kl: student + teacher read, dstudent
 * written).
 * PyTorch peer: tools/bench/peers/nn.py (same kernel and shape strings).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "bench.h"

typedef struct nn_bench {
    size_t n, b, c, hw, rows, classes;
    float *x, *y, *dy, *dx, *g, *bt, *sm, *si, *rm, *rv, *dg, *db, *t, loss;
    int32_t *argmax;
    lsk_pool2d_desc pd;
} nn_bench;

static void run_relu_fwd(void *p) { nn_bench *s = p; lsk_relu_fwd(s->y, s->x, s->n); }
static void run_relu_bwd(void *p) { nn_bench *s = p; lsk_relu_bwd(s->dx, s->dy, s->y, s->n, 0); }
static void run_add(void *p) { nn_bench *s = p; lsk_add_fwd(s->y, s->x, s->dy, s->n); }
static void run_bn_fwd(void *p) {
    nn_bench *s = p;
    lsk_batchnorm_fwd_train(s->y, s->sm, s->si, s->rm, s->rv, s->x, s->g, s->bt, s->b, s->c, s->hw, 0.1f, 1e-5f);
}
static void run_bn_bwd(void *p) {
    nn_bench *s = p;
    lsk_batchnorm_bwd(s->dx, s->dg, s->db, s->dy, s->x, s->g, s->sm, s->si, s->b, s->c, s->hw, 0);
}
static void run_gap_fwd(void *p) { nn_bench *s = p; lsk_global_avgpool_fwd(s->y, s->x, s->b, s->c, s->hw); }
static void run_gap_bwd(void *p) { nn_bench *s = p; lsk_global_avgpool_bwd(s->dx, s->dy, s->b, s->c, s->hw, 0); }
static void run_maxpool_fwd(void *p) { nn_bench *s = p; lsk_maxpool2d_fwd(&s->pd, s->y, s->argmax, s->x); }
static void run_maxpool_bwd(void *p) { nn_bench *s = p; lsk_maxpool2d_bwd(&s->pd, s->dx, s->dy, s->argmax, 0); }
static void run_xent(void *p) {
    nn_bench *s = p;
    lsk_softmax_xent(&s->loss, NULL, s->dx, s->x, s->t, s->rows, s->classes, 3.0f, 1.0f, 0);
}
static void run_kl(void *p) {
    nn_bench *s = p;
    lsk_softmax_kl(&s->loss, s->dx, s->x, s->t, s->rows, s->classes, 3.0f, 1.0f, 0);
}

static void each_thread(const lsk_bopts *o, const char *kernel, const char *shape, double bytes, lsk_bfn fn,
                        nn_bench *s) {
    for (int ti = 0; ti < 4 && o->threads[ti] > 0; ti++) lsk_brun(o, kernel, shape, o->threads[ti], 0, bytes, fn, s);
}

static void bench_eltwise(const lsk_bopts *o) {
    nn_bench s = {0};
    s.n = (size_t)256 * 32 * 16 * 16;
    s.x = lsk_balloc(s.n), s.y = lsk_balloc(s.n), s.dy = lsk_balloc(s.n), s.dx = lsk_balloc(s.n);
    const double n = (double)s.n;
    lsk_relu_fwd(s.y, s.x, s.n);
    each_thread(o, "relu_fwd", "256x32x16x16", 8 * n, run_relu_fwd, &s);
    each_thread(o, "relu_bwd", "256x32x16x16", 12 * n, run_relu_bwd, &s);
    each_thread(o, "add", "256x32x16x16", 12 * n, run_add, &s);
    lsk_bfree(s.x), lsk_bfree(s.y), lsk_bfree(s.dy), lsk_bfree(s.dx);
}

static void bench_bn(const lsk_bopts *o, size_t b, size_t c, size_t h) {
    nn_bench s = {0};
    s.b = b, s.c = c, s.hw = h * h, s.n = b * c * h * h;
    s.x = lsk_balloc(s.n), s.y = lsk_balloc(s.n), s.dy = lsk_balloc(s.n), s.dx = lsk_balloc(s.n);
    s.g = lsk_balloc(c), s.bt = lsk_balloc(c), s.sm = lsk_balloc(c), s.si = lsk_balloc(c);
    s.rm = lsk_balloc(c), s.rv = lsk_balloc(c), s.dg = lsk_balloc(c), s.db = lsk_balloc(c);
    for (size_t i = 0; i < c; i++) s.rv[i] = 1.0f;
    char shape[64];
    snprintf(shape, sizeof shape, "%zux%zux%zux%zu", b, c, h, h);
    const double n = (double)s.n;
    each_thread(o, "batchnorm_train_fwd", shape, 8 * n, run_bn_fwd, &s);
    each_thread(o, "batchnorm_bwd", shape, 12 * n, run_bn_bwd, &s);
    lsk_bfree(s.x), lsk_bfree(s.y), lsk_bfree(s.dy), lsk_bfree(s.dx), lsk_bfree(s.g), lsk_bfree(s.bt);
    lsk_bfree(s.sm), lsk_bfree(s.si), lsk_bfree(s.rm), lsk_bfree(s.rv), lsk_bfree(s.dg), lsk_bfree(s.db);
}

static void bench_pool(const lsk_bopts *o) {
    nn_bench s = {0};
    /* global average pool before the classifier: (256, 64, 8x8) */
    s.b = 256, s.c = 64, s.hw = 64, s.n = 256 * 64 * 64;
    s.x = lsk_balloc(s.n), s.dx = lsk_balloc(s.n), s.y = lsk_balloc(256 * 64), s.dy = lsk_balloc(256 * 64);
    each_thread(o, "global_avgpool_fwd", "256x64x8x8", 4.0 * (double)(s.n + 256 * 64), run_gap_fwd, &s);
    each_thread(o, "global_avgpool_bwd", "256x64x8x8", 4.0 * (double)(s.n + 256 * 64), run_gap_bwd, &s);
    lsk_bfree(s.x), lsk_bfree(s.dx), lsk_bfree(s.y), lsk_bfree(s.dy);
    /* max pool 3x3 stride 2 pad 1: (256, 64, 32x32) -> 16x16 */
    s.pd = (lsk_pool2d_desc){256, 64, 32, 32, 3, 3, 2, 2, 1, 1};
    const size_t nin = (size_t)256 * 64 * 32 * 32, nout = (size_t)256 * 64 * 16 * 16;
    s.x = lsk_balloc(nin), s.dx = lsk_balloc(nin), s.y = lsk_balloc(nout), s.dy = lsk_balloc(nout);
    s.argmax = (int32_t *)lsk_balloc(nout);
    lsk_maxpool2d_fwd(&s.pd, s.y, s.argmax, s.x);
    each_thread(o, "maxpool2d_fwd", "256x64x32x32 k3s2p1", 4.0 * (double)(nin + 2 * nout), run_maxpool_fwd, &s);
    each_thread(o, "maxpool2d_bwd", "256x64x32x32 k3s2p1", 4.0 * (double)(nin + 2 * nout), run_maxpool_bwd, &s);
    lsk_bfree(s.x), lsk_bfree(s.dx), lsk_bfree(s.y), lsk_bfree(s.dy), lsk_bfree((float *)s.argmax);
}

static void bench_xent(const lsk_bopts *o, size_t rows, size_t classes) {
    nn_bench s = {0};
    s.rows = rows, s.classes = classes, s.n = rows * classes;
    s.x = lsk_balloc(s.n), s.t = lsk_balloc(s.n), s.dx = lsk_balloc(s.n);
    for (size_t i = 0; i < s.n; i++) s.x[i] *= 10.0f, s.t[i] = (s.t[i] + 1.0f) / (float)classes; /* rows sum ~1 */
    char shape[64];
    snprintf(shape, sizeof shape, "%zux%zu T3", rows, classes);
    each_thread(o, "softmax_xent", shape, 12.0 * (double)s.n, run_xent, &s);
    lsk_bfree(s.x), lsk_bfree(s.t), lsk_bfree(s.dx);
}

/* Fused softmax-KL, tau 3, loss + dstudent: reads student and teacher, writes dstudent. */
static void bench_kl(const lsk_bopts *o, size_t rows, size_t classes) {
    nn_bench s = {0};
    s.rows = rows, s.classes = classes, s.n = rows * classes;
    s.x = lsk_balloc(s.n), s.t = lsk_balloc(s.n), s.dx = lsk_balloc(s.n);
    for (size_t i = 0; i < s.n; i++) s.x[i] *= 10.0f, s.t[i] = s.x[i] + 3.0f * s.t[i];
    char shape[64];
    snprintf(shape, sizeof shape, "%zux%zu T3", rows, classes);
    each_thread(o, "softmax_kl", shape, 12.0 * (double)s.n, run_kl, &s);
    lsk_bfree(s.x), lsk_bfree(s.t), lsk_bfree(s.dx);
}

/* The remaining entry points, so that every public kernel has a benchmark entry. */
typedef struct misc_bench {
    size_t n, b, c, hw, in, out;
    float *x, *y, *v, *g, *w, *bias, *dw, *db, *bt, *rm, *rv;
    lsk_pool2d_desc pd;
} misc_bench;

static void run_axpy(void *p) { misc_bench *s = p; lsk_axpy(s->y, s->x, 0.5f, s->n); }
static void run_scale(void *p) { misc_bench *s = p; lsk_scale(s->y, 0.999f, s->n); }
static void run_fill(void *p) { misc_bench *s = p; lsk_fill(s->y, 0.0f, s->n); }
static void run_sgd(void *p) { misc_bench *s = p; lsk_sgd_step(s->y, s->v, s->g, s->n, 0.05f, 0.9f, 5e-4f, 1); }
static void run_bn_eval(void *p) {
    misc_bench *s = p;
    lsk_batchnorm_fwd_eval(s->y, s->x, s->g, s->bt, s->rm, s->rv, s->b, s->c, s->hw, 1e-5f);
}
static void run_avgpool_fwd(void *p) { misc_bench *s = p; lsk_avgpool2d_fwd(&s->pd, s->y, s->x); }
static void run_avgpool_bwd(void *p) { misc_bench *s = p; lsk_avgpool2d_bwd(&s->pd, s->x, s->y, 0); }
static void run_softmax(void *p) { misc_bench *s = p; lsk_softmax_fwd(s->y, s->x, s->b, s->c, 1.0f); }
static void run_linear_fwd(void *p) { misc_bench *s = p; lsk_linear_fwd(s->y, s->x, s->w, s->bias, s->b, s->in, s->out); }
static void run_linear_bwd(void *p) {
    misc_bench *s = p;
    lsk_linear_bwd_data(s->v, s->y, s->w, s->b, s->in, s->out, 0);
    lsk_linear_bwd_weight(s->dw, s->db, s->y, s->x, s->b, s->in, s->out, 0);
}

static void misc_each_thread(const lsk_bopts *o, const char *kernel, const char *shape, double flops, double bytes,
                             lsk_bfn fn, misc_bench *s) {
    for (int ti = 0; ti < 4 && o->threads[ti] > 0; ti++) lsk_brun(o, kernel, shape, o->threads[ti], flops, bytes, fn, s);
}

static void bench_misc(const lsk_bopts *o) {
    misc_bench s = {0};
    /* Optimiser-sized vectors: all parameters of wrn_16_2 (0.7M), in one call. */
    s.n = 703000;
    s.x = lsk_balloc(s.n), s.y = lsk_balloc(s.n), s.v = lsk_balloc(s.n), s.g = lsk_balloc(s.n);
    const double n = (double)s.n;
    misc_each_thread(o, "axpy", "703000", 0, 12 * n, run_axpy, &s);
    misc_each_thread(o, "scale", "703000", 0, 8 * n, run_scale, &s);
    misc_each_thread(o, "fill", "703000", 0, 4 * n, run_fill, &s);
    misc_each_thread(o, "sgd_step", "703000", 0, 20 * n, run_sgd, &s);
    lsk_bfree(s.x), lsk_bfree(s.y), lsk_bfree(s.v), lsk_bfree(s.g);

    /* Batch-norm inference (export path) and 2x2 average pooling on (256, 32, 16x16). */
    s.b = 256, s.c = 32, s.hw = 256, s.n = (size_t)256 * 32 * 256;
    s.x = lsk_balloc(s.n), s.y = lsk_balloc(s.n);
    s.g = lsk_balloc(32), s.bt = lsk_balloc(32), s.rm = lsk_balloc(32), s.rv = lsk_balloc(32);
    for (int i = 0; i < 32; i++) s.rv[i] = 1.0f;
    misc_each_thread(o, "batchnorm_eval_fwd", "256x32x16x16", 0, 8.0 * (double)s.n, run_bn_eval, &s);
    s.pd = (lsk_pool2d_desc){256, 32, 16, 16, 2, 2, 2, 2, 0, 0};
    misc_each_thread(o, "avgpool2d_fwd", "256x32x16x16 k2s2", 0, 4.0 * 1.25 * (double)s.n, run_avgpool_fwd, &s);
    misc_each_thread(o, "avgpool2d_bwd", "256x32x16x16 k2s2", 0, 4.0 * 1.25 * (double)s.n, run_avgpool_bwd, &s);
    lsk_bfree(s.x), lsk_bfree(s.y), lsk_bfree(s.g), lsk_bfree(s.bt), lsk_bfree(s.rm), lsk_bfree(s.rv);

    /* Softmax of the 4-rotation joint logits (256 rows x 400 classes). */
    s.b = 256, s.c = 400;
    s.x = lsk_balloc(256 * 400), s.y = lsk_balloc(256 * 400);
    misc_each_thread(o, "softmax_fwd", "256x400", 0, 8.0 * 256 * 400, run_softmax, &s);
    lsk_bfree(s.x), lsk_bfree(s.y);

    /* Linear classifier of a ResNet: 256 x 64 -> 100 (forward; backward data + weight). */
    s.b = 256, s.in = 64, s.out = 100;
    s.x = lsk_balloc(256 * 64), s.y = lsk_balloc(256 * 100), s.w = lsk_balloc(100 * 64), s.bias = lsk_balloc(100);
    s.v = lsk_balloc(256 * 64), s.dw = lsk_balloc(100 * 64), s.db = lsk_balloc(100);
    const double f = 2.0 * 256 * 64 * 100;
    misc_each_thread(o, "linear_fwd", "256x64->100", f, 0, run_linear_fwd, &s);
    misc_each_thread(o, "linear_bwd", "256x64->100", 2 * f, 0, run_linear_bwd, &s);
    lsk_bfree(s.x), lsk_bfree(s.y), lsk_bfree(s.w), lsk_bfree(s.bias), lsk_bfree(s.v), lsk_bfree(s.dw), lsk_bfree(s.db);
}

void lsk_bench_nn(const lsk_bopts *o) {
    bench_misc(o);
    bench_eltwise(o);
    bench_bn(o, 256, 32, 16);
    bench_bn(o, 256, 16, 32);
    bench_pool(o);
    bench_xent(o, 256, 100);
    bench_xent(o, 256, 400);
    bench_xent(o, 1024, 400);
    bench_xent(o, 256, 4000);
    bench_kl(o, 256, 400);
    bench_kl(o, 1024, 400);
    bench_kl(o, 256, 100);
    bench_kl(o, 256, 4000);
}
