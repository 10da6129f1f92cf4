/*
 * Kernel microbenchmarks. Each family file defines `void lsk_bench_<family>(const lsk_bopts *o)`
 * that times its kernels on shapes taken from real networks and calls lsk_breport once
 * per (kernel, shape, thread count). Output: a human line, or with --json one JSON
 * object per line, which tools/bench/compare_torch.py joins with PyTorch timings.
 */
#ifndef LSK_BENCH_H
#define LSK_BENCH_H

#include <stddef.h>
#include "../../include/lsk.h"

typedef struct lsk_bopts {
    int json;            /* 1: JSON lines */
    int threads[4];      /* thread counts to run, 0-terminated */
    double min_seconds;  /* time budget per case (repeat until both this and min_reps are met) */
    int min_reps;
    const char *only;    /* run only kernels whose name starts with this (NULL: all) */
} lsk_bopts;

double lsk_bnow(void); /* seconds, monotonic */

/* Times fn(ctx) repeatedly (after one warm-up call) and reports the median.
 * flops and bytes describe one call (0 to omit GFLOP/s or GB/s). */
typedef void (*lsk_bfn)(void *ctx);
void lsk_brun(const lsk_bopts *o, const char *kernel, const char *shape, int threads,
              double flops, double bytes, lsk_bfn fn, void *ctx);

float *lsk_balloc(size_t n); /* 64-byte aligned, filled with uniform [-1, 1) */
void lsk_bfree(float *p);

void lsk_bench_peak(const lsk_bopts *o);
void lsk_bench_gemm(const lsk_bopts *o);
void lsk_bench_conv(const lsk_bopts *o);
void lsk_bench_conv_infer(const lsk_bopts *o);
void lsk_bench_nn(const lsk_bopts *o);
void lsk_bench_shuffle(const lsk_bopts *o);

#endif
