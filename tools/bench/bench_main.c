/* lsk_bench [family ...] [--json] [--threads 1,2] [--seconds S] [--only KERNEL_PREFIX]
 * families: peak gemm conv nn shuffle (default: all). */
#define _POSIX_C_SOURCE 200112L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench.h"

double lsk_bnow(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void lsk_brun(const lsk_bopts *o, const char *kernel, const char *shape, int threads,
              double flops, double bytes, lsk_bfn fn, void *ctx) {
    enum { MAX_REPS = 1000 };
    static double times[MAX_REPS];
    if (o->only && strncmp(kernel, o->only, strlen(o->only)) != 0) return;
    lsk_set_num_threads(threads);
    fn(ctx); /* warm-up: scratch growth, page faults, caches */
    int reps = 0;
    const double start = lsk_bnow();
    while (reps < MAX_REPS && (reps < o->min_reps || lsk_bnow() - start < o->min_seconds)) {
        const double t0 = lsk_bnow();
        fn(ctx);
        times[reps++] = lsk_bnow() - t0;
    }
    qsort(times, (size_t)reps, sizeof(double), cmp_double);
    const double med = times[reps / 2];
    const double gflops = flops > 0 ? flops / med * 1e-9 : 0;
    const double gbps = bytes > 0 ? bytes / med * 1e-9 : 0;
    if (o->json) {
        printf("{\"kernel\":\"%s\",\"shape\":\"%s\",\"threads\":%d,\"isa\":\"%s\",\"median_ms\":%.6f,"
               "\"reps\":%d,\"gflops\":%.3f,\"gbps\":%.3f}\n",
               kernel, shape, threads, lsk_isa_name(lsk_get_isa()), med * 1e3, reps, gflops, gbps);
    } else {
        printf("%-22s %-28s thr=%d %-7s median %10.4f ms", kernel, shape, threads,
               lsk_isa_name(lsk_get_isa()), med * 1e3);
        if (gflops > 0) printf("  %8.2f GFLOP/s", gflops);
        if (gbps > 0) printf("  %8.2f GB/s", gbps);
        printf("  (%d reps)\n", reps);
    }
    fflush(stdout);
    lsk_set_num_threads(0);
}

float *lsk_balloc(size_t n) {
    void *p = NULL;
    if (posix_memalign(&p, 64, (n ? n : 1) * sizeof(float)) != 0) { fprintf(stderr, "out of memory\n"); exit(1); }
    float *f = (float *)p;
    unsigned s = 12345u;
    for (size_t i = 0; i < n; i++) { s = s * 1664525u + 1013904223u; f[i] = (float)(s >> 8) / 8388608.0f - 1.0f; }
    return f;
}
void lsk_bfree(float *p) { free(p); }

int main(int argc, char **argv) {
    lsk_bopts o = {0, {1, 2, 0, 0}, 0.5, 5, NULL};
    const char *families[8];
    int nf = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) o.json = 1;
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) o.min_seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) o.only = argv[++i];
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            int k = 0;
            for (char *tok = strtok(argv[++i], ","); tok && k < 3; tok = strtok(NULL, ",")) o.threads[k++] = atoi(tok);
            o.threads[k] = 0;
        } else if (nf < 8) families[nf++] = argv[i];
    }
    if (!o.json) printf("lsk %s bench, ISA %s\n", lsk_version(), lsk_isa_name(lsk_get_isa()));
    struct { const char *name; void (*fn)(const lsk_bopts *); } all[] = {
        {"peak", lsk_bench_peak}, {"gemm", lsk_bench_gemm}, {"conv", lsk_bench_conv}, {"convinfer", lsk_bench_conv_infer}, {"nn", lsk_bench_nn},
        {"shuffle", lsk_bench_shuffle}};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        int run = nf == 0;
        for (int j = 0; j < nf; j++) if (strcmp(families[j], all[i].name) == 0) run = 1;
        if (run) all[i].fn(&o);
    }
    return 0;
}
