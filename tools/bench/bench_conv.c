/*
 * Convolution benchmarks: the training shapes of the project's CNNs (batch 256 = 64 images
 * x 4 rotations), 3x3 pad 1 on 32x32..8x8 maps, plus a 1x1 and a stride-2 3x3 layer.
 * Kernels per shape: <name>_fwd, <name>_bwd_data, <name>_bwd_weight (with db), <name>_bwd
 * (both gradients, lsk_conv2d_bwd) and
 * <name>_fwd_bwd (forward + lsk_conv2d_bwd, what one training step does per layer); 3x3 stride-1
 * layers also <name>wino_{fwd,bwd_data,bwd_weight} and <name>gemm_{...} (algorithm forced).
 * Depthwise 3x3 layers (dwconv3x3*, groups = channels) also report GB/s.
 * FLOPs = 2*N*Cout*Hout*Wout*(Cin/groups)*kh*kw per pass (x3 for fwd_bwd).
 * PyTorch peer: tools/bench/peers/conv.py (same kernel and shape strings).
 */
#include <stdio.h>
#include "bench.h"
#include "../../kernels/conv/conv-internal.h" /* lsk_conv_set_policy: force an algorithm */

typedef struct conv_bench {
    lsk_conv2d_desc d;
    float *x, *w, *b, *y, *dy, *dx, *dw, *db;
} conv_bench;

static void run_fwd(void *p) {
    conv_bench *c = (conv_bench *)p;
    lsk_conv2d_fwd(&c->d, c->y, c->x, c->w, c->b);
}
static void run_bwd_data(void *p) {
    conv_bench *c = (conv_bench *)p;
    lsk_conv2d_bwd_data(&c->d, c->dx, c->dy, c->w, 0);
}
static void run_bwd_weight(void *p) {
    conv_bench *c = (conv_bench *)p;
    lsk_conv2d_bwd_weight(&c->d, c->dw, c->db, c->dy, c->x, 0);
}
static void run_bwd(void *p) {
    conv_bench *c = (conv_bench *)p;
    lsk_conv2d_bwd(&c->d, c->dx, c->dw, c->db, c->dy, c->x, c->w, 0, 0);
}
/* One training step's work for the layer: forward, then both gradients in one call (as the
 * Swift layer does; the peer's fwd_bwd is likewise one forward and one backward call). */
static void run_fwd_bwd(void *p) {
    run_fwd(p);
    run_bwd(p);
}

typedef struct conv_shape {
    const char *name; /* kernel name prefix */
    size_t n, cin, h, cout, k, stride, pad;
    int depthwise;    /* groups = channels (cin == cout); else groups = 1 */
} conv_shape;

static const conv_shape k_shapes[] = {
    {"conv3x3", 256, 16, 32, 16, 3, 1, 1, 0},  {"conv3x3", 256, 32, 16, 32, 3, 1, 1, 0},
    {"conv3x3", 256, 64, 8, 64, 3, 1, 1, 0},   {"conv3x3", 256, 32, 32, 32, 3, 1, 1, 0},
    {"conv3x3", 256, 64, 16, 64, 3, 1, 1, 0},  {"conv3x3", 256, 128, 8, 128, 3, 1, 1, 0},
    {"conv1x1", 256, 64, 8, 128, 1, 1, 0, 0},  {"conv3x3s2", 256, 32, 16, 64, 3, 2, 1, 0},
    /* Depthwise 3x3 pad 1 (MobileNetV2 / ShuffleNetV2 widths): the direct depthwise path. */
    {"dwconv3x3", 256, 96, 32, 96, 3, 1, 1, 1},    {"dwconv3x3s2", 256, 96, 32, 96, 3, 2, 1, 1},
    {"dwconv3x3", 256, 144, 16, 144, 3, 1, 1, 1},  {"dwconv3x3s2", 256, 144, 16, 144, 3, 2, 1, 1},
    {"dwconv3x3", 256, 192, 8, 192, 3, 1, 1, 1},   {"dwconv3x3", 256, 116, 16, 116, 3, 1, 1, 1},
    {"dwconv3x3s2", 256, 116, 16, 116, 3, 2, 1, 1}, {"dwconv3x3", 256, 232, 8, 232, 3, 1, 1, 1},
    {"dwconv3x3", 256, 58, 32, 58, 3, 1, 1, 1},
};

/* conv3x3wino_* / conv3x3gemm_*: fwd, bwd_data and bwd_weight of a 3x3 stride-1 layer with the algorithm
 * forced (the plain conv3x3_* names run what lsk_conv_choose_algo picks), to show both. */
static void bench_forced(const lsk_bopts *o, const char *name, const char *shape, int threads, double flops,
                         conv_bench *c) {
    static const struct { const char *tag; lsk_conv_policy policy; } k_algos[] = {
        {"wino", LSK_CONV_POLICY_WINOGRAD}, {"gemm", LSK_CONV_POLICY_GEMM}};
    const lsk_conv_policy saved = lsk_conv_get_policy();
    for (int ai = 0; ai < 2; ai++) {
        char kernel[64];
        lsk_conv_set_policy(k_algos[ai].policy);
        snprintf(kernel, sizeof kernel, "%s%s_fwd", name, k_algos[ai].tag);
        lsk_brun(o, kernel, shape, threads, flops, 0, run_fwd, c);
        snprintf(kernel, sizeof kernel, "%s%s_bwd_data", name, k_algos[ai].tag);
        lsk_brun(o, kernel, shape, threads, flops, 0, run_bwd_data, c);
        snprintf(kernel, sizeof kernel, "%s%s_bwd_weight", name, k_algos[ai].tag);
        lsk_brun(o, kernel, shape, threads, flops, 0, run_bwd_weight, c);
    }
    lsk_conv_set_policy(saved);
}

void lsk_bench_conv(const lsk_bopts *o) {
    for (size_t si = 0; si < sizeof k_shapes / sizeof k_shapes[0]; si++) {
        const conv_shape *s = &k_shapes[si];
        conv_bench c;
        const size_t groups = s->depthwise ? s->cin : 1;
        c.d = (lsk_conv2d_desc){s->n, s->cin, s->h, s->h, s->cout, s->k, s->k, s->stride, s->stride, s->pad, s->pad, groups};
        size_t ho, wo;
        if (lsk_conv2d_output_size(&c.d, &ho, &wo) != LSK_OK) continue;
        const size_t nx = s->n * s->cin * s->h * s->h, ny = s->n * s->cout * ho * wo, nw = s->cout * (s->cin / groups) * s->k * s->k;
        c.x = lsk_balloc(nx); c.dx = lsk_balloc(nx);
        c.y = lsk_balloc(ny); c.dy = lsk_balloc(ny);
        c.w = lsk_balloc(nw); c.dw = lsk_balloc(nw);
        c.b = lsk_balloc(s->cout); c.db = lsk_balloc(s->cout);
        char shape[64];
        snprintf(shape, sizeof shape, "%zux%zux%zux%zu->%zu", s->n, s->cin, s->h, s->h, s->cout);
        const double flops = 2.0 * (double)s->n * (double)s->cout * (double)(ho * wo) * (double)(s->cin / groups) *
                             (double)(s->k * s->k);
        /* Depthwise layers are memory-bound: report GB/s too, counting each pass's compulsory
         * traffic in tensors of x's (nx) and y's (ny) size: fwd x in, y out; bwd_data dy in, dx
         * out; bwd_weight x and dy in; bwd (both) dy, x in, dx out; fwd_bwd the last two plus fwd. */
        const double fx = s->depthwise ? 4.0 * (double)nx : 0.0, fy = s->depthwise ? 4.0 * (double)ny : 0.0;
        const struct { const char *suffix; lsk_bfn fn; double passes, bytes; } k_passes[] = {
            {"fwd", run_fwd, 1, fx + fy},          {"bwd_data", run_bwd_data, 1, fx + fy},
            {"bwd_weight", run_bwd_weight, 1, fx + fy}, {"bwd", run_bwd, 2, 2 * fx + fy},
            {"fwd_bwd", run_fwd_bwd, 3, 3 * fx + 2 * fy}};
        for (int ti = 0; ti < 4 && o->threads[ti] > 0; ti++) {
            for (size_t pi = 0; pi < sizeof k_passes / sizeof k_passes[0]; pi++) {
                char kernel[64];
                snprintf(kernel, sizeof kernel, "%s_%s", s->name, k_passes[pi].suffix);
                lsk_brun(o, kernel, shape, o->threads[ti], flops * k_passes[pi].passes, k_passes[pi].bytes,
                         k_passes[pi].fn, &c);
            }
            if (s->k == 3 && s->stride == 1 && groups == 1) bench_forced(o, s->name, shape, o->threads[ti], flops, &c);
        }
        lsk_bfree(c.x); lsk_bfree(c.dx); lsk_bfree(c.y); lsk_bfree(c.dy);
        lsk_bfree(c.w); lsk_bfree(c.dw); lsk_bfree(c.b); lsk_bfree(c.db);
    }
}

/* Inference shapes (family "convinfer"): the forward pass of the 3x3 stride-1 layers of
 * resnet20 and wrn_16_2 at batch 1 (latency) and 64 (throughput), each algorithm forced, so
 * that lsk_conv_choose_algo's small-batch rule (ops/conv.c) rests on a measurement:
 * conv3x3b<N>wino_fwd / conv3x3b<N>gemm_fwd. */
void lsk_bench_conv_infer(const lsk_bopts *o) {
    static const size_t k_layers[][2] = {{16, 32}, {32, 16}, {64, 8}, {32, 32}, {64, 16}, {128, 8}}; /* channels, map */
    static const size_t k_batches[] = {1, 4, 16, 64};
    static const struct { const char *tag; lsk_conv_policy policy; } k_algos[] = {
        {"wino", LSK_CONV_POLICY_WINOGRAD}, {"gemm", LSK_CONV_POLICY_GEMM}};
    const lsk_conv_policy saved = lsk_conv_get_policy();
    for (size_t bi = 0; bi < sizeof k_batches / sizeof k_batches[0]; bi++)
        for (size_t li = 0; li < sizeof k_layers / sizeof k_layers[0]; li++) {
            const size_t n = k_batches[bi], ch = k_layers[li][0], hw = k_layers[li][1];
            conv_bench c = {0};
            c.d = (lsk_conv2d_desc){n, ch, hw, hw, ch, 3, 3, 1, 1, 1, 1, 1};
            c.x = lsk_balloc(n * ch * hw * hw);
            c.y = lsk_balloc(n * ch * hw * hw);
            c.w = lsk_balloc(ch * ch * 9);
            c.b = lsk_balloc(ch);
            char shape[64];
            snprintf(shape, sizeof shape, "%zux%zux%zux%zu->%zu", n, ch, hw, hw, ch);
            const double flops = 2.0 * (double)n * (double)(ch * ch * 9) * (double)(hw * hw);
            for (int ti = 0; ti < 4 && o->threads[ti] > 0; ti++)
                for (int ai = 0; ai < 2; ai++) {
                    char kernel[64];
                    lsk_conv_set_policy(k_algos[ai].policy);
                    snprintf(kernel, sizeof kernel, "conv3x3b%zu%s_fwd", n, k_algos[ai].tag);
                    lsk_brun(o, kernel, shape, o->threads[ti], flops, 0, run_fwd, &c);
                }
            lsk_conv_set_policy(saved);
            lsk_bfree(c.x); lsk_bfree(c.y); lsk_bfree(c.w); lsk_bfree(c.b);
        }
}
