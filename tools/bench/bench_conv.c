/*
 * Convolution benchmarks: the training shapes of the project's CNNs (batch 256 = 64 images
 * x 4 rotations), 3x3 pad 1 on 32x32..8x8 maps, plus a 1x1 and a stride-2 3x3 layer.
 * Kernels per shape: <name>_fwd, <name>_bwd_data, <name>_bwd_weight (with db) and
 * <name>_fwd_bwd (all three in one call, what one training step does per layer).
 * FLOPs = 2*N*Cout*Hout*Wout*(Cin/groups)*kh*kw per pass (x3 for fwd_bwd).
 * PyTorch peer: tools/bench/peers/conv.py (same kernel and shape strings).
 */
#include <stdio.h>
#include "bench.h"

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
static void run_fwd_bwd(void *p) {
    run_fwd(p);
    run_bwd_data(p);
    run_bwd_weight(p);
}

typedef struct conv_shape {
    const char *name; /* kernel name prefix */
    size_t n, cin, h, cout, k, stride, pad;
} conv_shape;

static const conv_shape k_shapes[] = {
    {"conv3x3", 256, 16, 32, 16, 3, 1, 1},  {"conv3x3", 256, 32, 16, 32, 3, 1, 1},
    {"conv3x3", 256, 64, 8, 64, 3, 1, 1},   {"conv3x3", 256, 32, 32, 32, 3, 1, 1},
    {"conv3x3", 256, 64, 16, 64, 3, 1, 1},  {"conv3x3", 256, 128, 8, 128, 3, 1, 1},
    {"conv1x1", 256, 64, 8, 128, 1, 1, 0},  {"conv3x3s2", 256, 32, 16, 64, 3, 2, 1},
};

void lsk_bench_conv(const lsk_bopts *o) {
    for (size_t si = 0; si < sizeof k_shapes / sizeof k_shapes[0]; si++) {
        const conv_shape *s = &k_shapes[si];
        conv_bench c;
        c.d = (lsk_conv2d_desc){s->n, s->cin, s->h, s->h, s->cout, s->k, s->k, s->stride, s->stride, s->pad, s->pad, 1};
        size_t ho, wo;
        if (lsk_conv2d_output_size(&c.d, &ho, &wo) != LSK_OK) continue;
        const size_t nx = s->n * s->cin * s->h * s->h, ny = s->n * s->cout * ho * wo, nw = s->cout * s->cin * s->k * s->k;
        c.x = lsk_balloc(nx); c.dx = lsk_balloc(nx);
        c.y = lsk_balloc(ny); c.dy = lsk_balloc(ny);
        c.w = lsk_balloc(nw); c.dw = lsk_balloc(nw);
        c.b = lsk_balloc(s->cout); c.db = lsk_balloc(s->cout);
        char shape[64];
        snprintf(shape, sizeof shape, "%zux%zux%zux%zu->%zu", s->n, s->cin, s->h, s->h, s->cout);
        const double flops = 2.0 * (double)s->n * (double)s->cout * (double)(ho * wo) * (double)s->cin *
                             (double)(s->k * s->k);
        static const struct { const char *suffix; lsk_bfn fn; double passes; } k_passes[] = {
            {"fwd", run_fwd, 1}, {"bwd_data", run_bwd_data, 1}, {"bwd_weight", run_bwd_weight, 1},
            {"fwd_bwd", run_fwd_bwd, 3}};
        for (int ti = 0; ti < 4 && o->threads[ti] > 0; ti++) {
            for (size_t pi = 0; pi < sizeof k_passes / sizeof k_passes[0]; pi++) {
                char kernel[64];
                snprintf(kernel, sizeof kernel, "%s_%s", s->name, k_passes[pi].suffix);
                lsk_brun(o, kernel, shape, o->threads[ti], flops * k_passes[pi].passes, 0, k_passes[pi].fn, &c);
            }
        }
        lsk_bfree(c.x); lsk_bfree(c.dx); lsk_bfree(c.y); lsk_bfree(c.dy);
        lsk_bfree(c.w); lsk_bfree(c.dw); lsk_bfree(c.b); lsk_bfree(c.db);
    }
}
