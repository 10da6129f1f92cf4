/*
 * infer_bench.c — times the C inference runtime on one exported model: `iters` runs of a batch
 * after `warm` untimed ones, on `threads` threads; prints one JSON line (median and minimum
 * milliseconds per run, images/s at the median, the context's arena and the weights in bytes,
 * the ISA). Driven by tools/bench/infer_bench.py, which compares it with PyTorch and ONNX
 * Runtime in the same session. Usage: infer_bench MODEL.lskm BATCH ITERS THREADS
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lsk.h"

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s MODEL.lskm BATCH ITERS THREADS\n", argv[0]);
        return 2;
    }
    size_t batch = (size_t)atoi(argv[2]), iters = (size_t)atoi(argv[3]);
    lsk_set_num_threads(atoi(argv[4]));
    char err[512];
    lsk_model *m;
    if (lsk_model_load_file(&m, argv[1], err, sizeof err) != LSK_OK) {
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    size_t c, h, w, k = lsk_model_classes(m);
    lsk_model_input_shape(m, &c, &h, &w);
    lsk_model_context *ctx;
    if (batch < 1 || iters < 1 || lsk_model_context_create(&ctx, m, batch) != LSK_OK) return 1;
    float *x = malloc(batch * c * h * w * sizeof(float)), *y = malloc(batch * k * sizeof(float));
    for (size_t i = 0; i < batch * c * h * w; i++) x[i] = (float)((i * 2654435761u) % 1000) / 1000.0f;
    double *t = malloc(iters * sizeof(double));
    for (size_t i = 0; i < 3 + iters / 10; i++) lsk_model_run(ctx, y, x, batch);
    for (size_t i = 0; i < iters; i++) {
        double t0 = now_ms();
        lsk_model_run(ctx, y, x, batch);
        t[i] = now_ms() - t0;
    }
    qsort(t, iters, sizeof(double), cmp);
    double median = t[iters / 2];
    printf("{\"median_ms\": %.4f, \"min_ms\": %.4f, \"images_per_s\": %.1f, \"arena_bytes\": %zu, \"weight_bytes\": %zu, \"isa\": \"%s\", \"threads\": %d}\n",
           median, t[0], batch / (median / 1e3), lsk_model_context_arena_bytes(ctx), lsk_model_weight_bytes(m),
           lsk_isa_name(lsk_get_isa()), lsk_get_num_threads());
    free(t);
    free(x);
    free(y);
    lsk_model_context_free(ctx);
    lsk_model_free(m);
    return 0;
}
