/*
 * Channel shuffle benchmarks on ShuffleNet shapes (batch 256, 16x16 planes): stage-2 widths of
 * ShuffleNetV2 1.0x (116 channels, g = 2) and of ShuffleNet v1 g = 3 (240), and 240 with g = 2.
 * Kernel "copy" is the reference: a plain copy of the same tensor (memcpy per batch image,
 * OpenMP over the batch), i.e. what the memory system allows. (glibc copies these 118-240 KiB
 * images with rep movsb, which writes lines without reading them first; the shuffles match that
 * with streaming stores on large tensors, docs/edge-kernels.md section 2.) GB/s counts bytes read + written
 * once (8 per element; the accumulating backward is not timed).
 * PyTorch peer: tools/bench/peers/shuffle.py (same kernel and shape strings).
 */
#include <stdio.h>
#include <string.h>
#include "bench.h"

typedef struct shuffle_bench {
    size_t b, c, hw, g;
    float *x, *y, *a, *y2;
} shuffle_bench;

static void run_copy(void *p) {
    shuffle_bench *s = p;
    const size_t img = s->c * s->hw;
    const int nt = lsk_get_num_threads();
    (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (long i = 0; i < (long)s->b; i++) memcpy(s->y + (size_t)i * img, s->x + (size_t)i * img, img * sizeof(float));
}
static void run_fwd(void *p) {
    shuffle_bench *s = p;
    lsk_channel_shuffle_fwd(s->y, s->x, s->b, s->c, s->hw, s->g);
}
static void run_bwd(void *p) {
    shuffle_bench *s = p;
    lsk_channel_shuffle_bwd(s->y, s->x, s->b, s->c, s->hw, s->g, 0);
}
/* a = first half of x's storage, second half of x's storage = b (two [b, c/2, hw] tensors) */
static void run_concat_shuffle(void *p) {
    shuffle_bench *s = p;
    lsk_concat_shuffle_fwd(s->y, s->x, s->x + s->b * (s->c / 2) * s->hw, s->b, s->c / 2, s->c / 2, s->hw, s->g);
}
static void run_shuffle_split(void *p) {
    shuffle_bench *s = p;
    lsk_shuffle_split_fwd(s->y, s->y + s->b * (s->c / 2) * s->hw, s->x, s->b, s->c / 2, s->c / 2, s->hw, s->g);
}

static void bench_case(const lsk_bopts *o, size_t b, size_t c, size_t h, size_t g) {
    shuffle_bench s = {b, c, h * h, g, NULL, NULL, NULL, NULL};
    const size_t n = b * c * h * h;
    s.x = lsk_balloc(n), s.y = lsk_balloc(n);
    char shape[64];
    snprintf(shape, sizeof shape, "%zux%zux%zux%zu g%zu", b, c, h, h, g);
    const double bytes = 8.0 * (double)n;
    for (int ti = 0; ti < 4 && o->threads[ti] > 0; ti++) {
        const int th = o->threads[ti];
        lsk_brun(o, "copy", shape, th, 0, bytes, run_copy, &s);
        lsk_brun(o, "channel_shuffle_fwd", shape, th, 0, bytes, run_fwd, &s);
        lsk_brun(o, "channel_shuffle_bwd", shape, th, 0, bytes, run_bwd, &s);
        if (g == 2) {
            lsk_brun(o, "concat_shuffle_fwd", shape, th, 0, bytes, run_concat_shuffle, &s);
            lsk_brun(o, "shuffle_split_fwd", shape, th, 0, bytes, run_shuffle_split, &s);
        }
    }
    lsk_bfree(s.x), lsk_bfree(s.y);
}

void lsk_bench_shuffle(const lsk_bopts *o) {
    bench_case(o, 256, 116, 16, 2);
    bench_case(o, 256, 240, 16, 2);
    bench_case(o, 256, 240, 16, 3);
}
