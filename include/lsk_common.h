/*
 * lsk_common.h — status codes, ISA selection and threading for the LSSKD C kernels.
 *
 * Conventions used by every header of this library:
 *  - Tensors are dense float32, row-major; images are NCHW unless a function says otherwise.
 *  - Sizes are size_t. A size of zero is valid where it makes sense (the call does nothing).
 *  - Output pointers come first, then const inputs, then sizes/descriptors (llm.c order);
 *    descriptor-based functions take the descriptor first.
 *  - The caller owns every buffer passed in; the library keeps no pointer after returning.
 *  - Backward functions take `accumulate`: 0 overwrites the gradient buffer, 1 adds to it.
 *  - Functions return lsk_status; LSK_OK is 0. Invalid shapes or NULL required pointers
 *    return LSK_ERR_INVALID_ARGUMENT without touching memory.
 *  - Thread safety: every kernel may be called concurrently from several threads on
 *    disjoint outputs. Internal scratch memory is per calling thread (grown, never shrunk,
 *    so a training loop allocates only on its first step). The ISA and thread-count
 *    settings are process-wide; change them only while no kernel is running.
 */
#ifndef LSK_COMMON_H
#define LSK_COMMON_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lsk_status {
    LSK_OK = 0,
    LSK_ERR_INVALID_ARGUMENT = 1, /* bad shape, NULL required pointer, bad enum */
    LSK_ERR_UNSUPPORTED = 2,      /* e.g. forcing an ISA the CPU does not have */
    LSK_ERR_OUT_OF_MEMORY = 3,    /* internal scratch could not be allocated */
    LSK_ERR_BAD_MODEL = 4,        /* lsk_model.h: a model file that is corrupt, truncated or unsupported */
    LSK_ERR_IO = 5                /* lsk_model.h: a file that could not be opened or read */
} lsk_status;

/* Human-readable name of a status ("ok", "invalid argument", ...). Never NULL. */
const char *lsk_status_string(lsk_status status);

/* Instruction-set paths. Every kernel has a SCALAR path (portable C). */
typedef enum lsk_isa {
    LSK_ISA_AUTO = -1,   /* only for lsk_set_isa: go back to the best available path */
    LSK_ISA_SCALAR = 0,
    LSK_ISA_AVX2 = 1,    /* AVX2 + FMA3 */
    LSK_ISA_AVX512 = 2,  /* AVX-512 F/VL/BW/DQ + FMA3 */
    LSK_ISA_NEON = 3     /* AArch64 Advanced SIMD */
} lsk_isa;

/* Number of lsk_isa values >= 0 (for loops over paths in tests). */
#define LSK_ISA_COUNT 4

/* 1 if this build contains the path AND the CPU supports it, else 0. */
int lsk_isa_supported(lsk_isa isa);

/* The path kernels use now. Initially the best supported one, unless the
 * environment variable LSK_ISA=scalar|avx2|avx512|neon names another (an
 * unsupported name falls back to the best path with a message on stderr). */
lsk_isa lsk_get_isa(void);

/* Force a path (tests, benchmarks). LSK_ISA_AUTO restores the best one.
 * Returns LSK_ERR_UNSUPPORTED (and changes nothing) if the path is unavailable. */
lsk_status lsk_set_isa(lsk_isa isa);

/* "scalar", "avx2", "avx512", "neon", or "auto". */
const char *lsk_isa_name(lsk_isa isa);

/* Threads used by kernels that parallelise (OpenMP). Initially the value of the
 * environment variable LSK_NUM_THREADS, else OpenMP's default (the core count).
 * n <= 0 restores that default. Builds without OpenMP always use 1 thread.
 * A kernel called from inside a parallel region runs single-threaded. */
void lsk_set_num_threads(int n);
int lsk_get_num_threads(void);

/* Library version, "MAJOR.MINOR.PATCH". */
const char *lsk_version(void);

#ifdef __cplusplus
}
#endif
#endif /* LSK_COMMON_H */
