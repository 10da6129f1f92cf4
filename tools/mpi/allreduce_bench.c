/*
 * allreduce_bench.c — time of the gradient all-reduce of data-parallel training (one
 * MPI_Allreduce, sum, in place, float32, as kernels/mpi/lsskd_mpi.c does it) for given
 * gradient sizes; used by docs/distributed.md.
 *
 *   mpicc -O2 tools/mpi/allreduce_bench.c -o /tmp/allreduce_bench
 *   mpirun -np 2 /tmp/allreduce_bench NAME=FLOATS ...   (e.g. resnet20+lsskd=1234567)
 *
 * Per size: 5 warm-up calls, then rounds of 20 calls; prints the median over 7 rounds of the
 * mean time per call (rank 0, after a barrier per round) and the algorithm bandwidth
 * (bytes / time).
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (rank == 0) printf("%-28s %12s %10s %12s %10s\n", "gradient", "floats", "MB", "us/call", "GB/s");
    for (int a = 1; a < argc; a++) {
        const char *eq = strchr(argv[a], '=');
        const long n = atol(eq ? eq + 1 : argv[a]);
        float *buf = (float *)malloc((size_t)n * sizeof(float));
        for (long i = 0; i < n; i++) buf[i] = 1e-3f * (float)(i % 97);
        for (int w = 0; w < 5; w++) MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        double t[7];
        for (int r = 0; r < 7; r++) {
            MPI_Barrier(MPI_COMM_WORLD);
            const double t0 = MPI_Wtime();
            for (int i = 0; i < 20; i++) MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            t[r] = (MPI_Wtime() - t0) / 20;
        }
        qsort(t, 7, sizeof(double), cmp);
        if (rank == 0) {
            const double mb = (double)n * 4 / 1e6;
            printf("%-28.*s %12ld %10.2f %12.1f %10.2f\n", eq ? (int)(eq - argv[a]) : 28, argv[a], n, mb, t[3] * 1e6,
                   mb / 1e3 / t[3]);
        }
        free(buf);
    }
    MPI_Finalize();
    return 0;
}
