/*
 * Memory bandwidth of this machine, the ceiling of the memory-bound kernels (depthwise
 * convolution, channel shuffle): a streaming (non-temporal) copy and a read-only sum over
 * buffers of the given size, 1 and 2 threads, best of 15. AVX-512 only (x86-64 with AVX-512F).
 *
 *   cc -O2 -mavx512f -fopenmp tools/bandwidth_probe.c -o /tmp/bandwidth_probe
 *   /tmp/bandwidth_probe 100000000      # bytes per buffer (default 100 MB)
 */
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    const size_t n = (argc > 1 ? (size_t)atol(argv[1]) : 100000000u) / sizeof(float) / 64 * 64;
    float *x = aligned_alloc(64, n * sizeof(float)), *y = aligned_alloc(64, n * sizeof(float));
    if (!x || !y || n == 0) return 1;
    memset(x, 1, n * sizeof(float));
    memset(y, 0, n * sizeof(float));
    for (int th = 1; th <= 2; th++) {
        double best_copy = 1e9, best_read = 1e9;
        float sink = 0;
        for (int rep = 0; rep < 15; rep++) {
            double t0 = omp_get_wtime();
#pragma omp parallel num_threads(th)
            {
                const size_t t = (size_t)omp_get_thread_num(), lo = n * t / th / 64 * 64, hi = n * (t + 1) / th / 64 * 64;
                for (size_t i = lo; i < hi; i += 16) _mm512_stream_ps(y + i, _mm512_load_ps(x + i));
                _mm_sfence();
            }
            double dt = omp_get_wtime() - t0;
            if (dt < best_copy) best_copy = dt;
            t0 = omp_get_wtime();
            float s = 0;
#pragma omp parallel num_threads(th) reduction(+ : s)
            {
                const size_t t = (size_t)omp_get_thread_num(), lo = n * t / th / 64 * 64, hi = n * (t + 1) / th / 64 * 64;
                __m512 a = _mm512_setzero_ps(), b = a, c = a, d = a;
                for (size_t i = lo; i < hi; i += 64) {
                    a = _mm512_add_ps(a, _mm512_load_ps(x + i));
                    b = _mm512_add_ps(b, _mm512_load_ps(x + i + 16));
                    c = _mm512_add_ps(c, _mm512_load_ps(x + i + 32));
                    d = _mm512_add_ps(d, _mm512_load_ps(x + i + 48));
                }
                s += _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a, b), _mm512_add_ps(c, d)));
            }
            dt = omp_get_wtime() - t0;
            if (dt < best_read) best_read = dt;
            sink += s;
        }
        printf("%zu MB, %d thread(s): streaming copy %.1f GB/s (read + write), read %.1f GB/s%s\n",
               n * sizeof(float) >> 20, th, 2.0 * (double)(n * sizeof(float)) / best_copy / 1e9,
               (double)(n * sizeof(float)) / best_read / 1e9, sink == 1.2345f ? " " : "");
    }
    free(x);
    free(y);
    return 0;
}
