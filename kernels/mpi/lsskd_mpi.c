/*
 * lsskd_mpi.c — the MPI plugin of `lsskd train` (data-parallel training over MPI).
 *
 * Built with the MPI implementation's own compiler wrapper (`make -C kernels mpi`: mpicc) into
 * build/liblsskd_mpi.so, and loaded at run time (dlopen) by the Swift tool only when it was
 * started by an MPI launcher. Why a plugin and not a SwiftPM target: the default `swift build`
 * must work on a machine without MPI, and MPI's handles and constants (MPI_COMM_WORLD,
 * MPI_FLOAT…) are macros whose values differ between implementations (Open MPI, MPICH), so they
 * are resolved here, by the implementation's own mpi.h, behind a tiny C ABI of plain types.
 *
 * Every function returns 0 on success or the MPI error code (the communicator is switched to
 * MPI_ERRORS_RETURN, so a failed peer or a broken link comes back as an error, which the tool
 * turns into MPI_Abort with a message naming the rank). Counts are size_t; messages over
 * INT_MAX elements are sent in pieces.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <mpi.h>

#define LSSKD_MPI_ABI 1

/* Elements per MPI call: MPI counts are int. */
#define CHUNK ((size_t)1 << 30)

int lsskd_mpi_abi(void) { return LSSKD_MPI_ABI; }

/* MPI_Init_thread with MPI_THREAD_FUNNELED (only the main thread calls MPI; OpenMP threads
 * compute). Writes the rank and the number of ranks of MPI_COMM_WORLD. */
int lsskd_mpi_init(int *rank, int *size) {
    int provided = 0, rc;
    rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) return rc;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    if ((rc = MPI_Comm_rank(MPI_COMM_WORLD, rank)) != MPI_SUCCESS) return rc;
    return MPI_Comm_size(MPI_COMM_WORLD, size);
}

int lsskd_mpi_finalize(void) { return MPI_Finalize(); }

/* Ends every rank of the job (mpirun reports it); never returns. */
void lsskd_mpi_abort(int code) {
    MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}

/* The implementation's version string, for logs ("Open MPI v4.1.4…"). */
int lsskd_mpi_version(char *out, size_t capacity) {
    char buf[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0, rc = MPI_Get_library_version(buf, &len);
    if (rc != MPI_SUCCESS || capacity == 0) return rc;
    size_t n = (size_t)len < capacity - 1 ? (size_t)len : capacity - 1;
    memcpy(out, buf, n);
    out[n] = 0;
    return 0;
}

/* Human-readable text of an MPI error code. */
void lsskd_mpi_error_string(int code, char *out, size_t capacity) {
    char buf[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (capacity == 0) return;
    if (MPI_Error_string(code, buf, &len) != MPI_SUCCESS) len = 0;
    size_t n = (size_t)len < capacity - 1 ? (size_t)len : capacity - 1;
    memcpy(out, buf, n);
    out[n] = 0;
}

static int allreduce_sum(void *buf, size_t n, MPI_Datatype type, size_t elem) {
    for (size_t off = 0; off < n; off += CHUNK) {
        const size_t m = n - off < CHUNK ? n - off : CHUNK;
        int rc = MPI_Allreduce(MPI_IN_PLACE, (char *)buf + off * elem, (int)m, type, MPI_SUM, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return rc;
    }
    return 0;
}

/* In-place sum over all ranks (every rank gets the sum). */
int lsskd_mpi_allreduce_sum_f32(float *buf, size_t n) { return allreduce_sum(buf, n, MPI_FLOAT, sizeof(float)); }
int lsskd_mpi_allreduce_sum_f64(double *buf, size_t n) { return allreduce_sum(buf, n, MPI_DOUBLE, sizeof(double)); }

/* Every rank's n bytes (the same n on every rank) into recv[size * n], in rank order. */
int lsskd_mpi_allgather_bytes(const void *send, size_t n, void *recv) {
    if (n > (size_t)INT_MAX) return MPI_ERR_COUNT;
    return MPI_Allgather(send, (int)n, MPI_BYTE, recv, (int)n, MPI_BYTE, MPI_COMM_WORLD);
}

/* Rank r's counts[r] bytes into recv at the sum of counts[0..r), for every rank (counts
 * known to all). */
int lsskd_mpi_allgatherv_bytes(const void *send, size_t n, const size_t *counts, void *recv) {
    int size = 0, rc;
    if ((rc = MPI_Comm_size(MPI_COMM_WORLD, &size)) != MPI_SUCCESS) return rc;
    int *c = (int *)malloc(2 * (size_t)size * sizeof(int));
    if (!c) return MPI_ERR_NO_MEM;
    int *displ = c + size;
    size_t total = 0;
    for (int r = 0; r < size; r++) {
        if (counts[r] > (size_t)INT_MAX || total > (size_t)INT_MAX) { free(c); return MPI_ERR_COUNT; }
        c[r] = (int)counts[r];
        displ[r] = (int)total;
        total += counts[r];
    }
    if (n > (size_t)INT_MAX) { free(c); return MPI_ERR_COUNT; }
    rc = MPI_Allgatherv(send, (int)n, MPI_BYTE, recv, c, displ, MPI_BYTE, MPI_COMM_WORLD);
    free(c);
    return rc;
}

/* root's n bytes to every rank. */
int lsskd_mpi_broadcast_bytes(void *buf, size_t n, int root) {
    for (size_t off = 0; off < n; off += CHUNK) {
        const size_t m = n - off < CHUNK ? n - off : CHUNK;
        int rc = MPI_Bcast((char *)buf + off, (int)m, MPI_BYTE, root, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return rc;
    }
    return 0;
}

int lsskd_mpi_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }

/* Wall-clock seconds (MPI_Wtime), for timing collectives. */
double lsskd_mpi_wtime(void) { return MPI_Wtime(); }
