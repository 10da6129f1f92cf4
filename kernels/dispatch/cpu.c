/* CPU feature detection, the active-ISA switch and the thread-count setting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../internal/lsk_internal.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
static unsigned long long read_xcr0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}
static int cpu_has(lsk_isa isa) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!(fma && osxsave && avx)) return 0;
    const unsigned long long xcr0 = read_xcr0();
    if ((xcr0 & 0x6) != 0x6) return 0; /* OS saves XMM and YMM state */
    if (__get_cpuid_max(0, NULL) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    const int avx2 = (b >> 5) & 1;
    if (isa == LSK_ISA_AVX2) return avx2;
    if (isa == LSK_ISA_AVX512) {
        const int f = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
        return avx2 && f && dq && bw && vl && (xcr0 & 0xE6) == 0xE6; /* opmask + ZMM state */
    }
    return 0;
}
#else
static int cpu_has(lsk_isa isa) {
#if defined(__aarch64__)
    return isa == LSK_ISA_NEON; /* Advanced SIMD is mandatory on AArch64 */
#else
    (void)isa;
    return 0;
#endif
}
#endif

int lsk_isa_supported(lsk_isa isa) {
    if (isa == LSK_ISA_SCALAR) return 1;
    if (isa < 0 || isa >= LSK_ISA_COUNT) return 0;
    return cpu_has(isa);
}

static lsk_isa best_isa(void) {
    if (lsk_isa_supported(LSK_ISA_AVX512)) return LSK_ISA_AVX512;
    if (lsk_isa_supported(LSK_ISA_AVX2)) return LSK_ISA_AVX2;
    if (lsk_isa_supported(LSK_ISA_NEON)) return LSK_ISA_NEON;
    return LSK_ISA_SCALAR;
}

const char *lsk_isa_name(lsk_isa isa) {
    switch (isa) {
    case LSK_ISA_AUTO: return "auto";
    case LSK_ISA_SCALAR: return "scalar";
    case LSK_ISA_AVX2: return "avx2";
    case LSK_ISA_AVX512: return "avx512";
    case LSK_ISA_NEON: return "neon";
    }
    return "unknown";
}

/* -1 = not resolved yet. Plain int: settings change only while no kernel runs. */
static volatile int g_isa = -1;

lsk_isa lsk_active_isa(void) {
    int isa = g_isa;
    if (isa >= 0) return (lsk_isa)isa;
    lsk_isa chosen = best_isa();
    const char *env = getenv("LSK_ISA");
    if (env && *env && strcmp(env, "auto") != 0) {
        int found = 0;
        for (int i = 0; i < LSK_ISA_COUNT; i++) {
            if (strcmp(env, lsk_isa_name((lsk_isa)i)) == 0) {
                found = 1;
                if (lsk_isa_supported((lsk_isa)i)) chosen = (lsk_isa)i;
                else fprintf(stderr, "lsk: LSK_ISA=%s is not supported on this CPU/build; using %s\n",
                             env, lsk_isa_name(chosen));
            }
        }
        if (!found) fprintf(stderr, "lsk: unknown LSK_ISA=%s (scalar|avx2|avx512|neon|auto); using %s\n",
                            env, lsk_isa_name(chosen));
    }
    g_isa = (int)chosen;
    return chosen;
}

lsk_isa lsk_get_isa(void) { return lsk_active_isa(); }

lsk_status lsk_set_isa(lsk_isa isa) {
    if (isa == LSK_ISA_AUTO) { g_isa = (int)best_isa(); return LSK_OK; }
    if (!lsk_isa_supported(isa)) return LSK_ERR_UNSUPPORTED;
    g_isa = (int)isa;
    return LSK_OK;
}

static volatile int g_threads = 0; /* 0 = not resolved */

static int default_threads(void) {
    const char *env = getenv("LSK_NUM_THREADS");
    if (env && *env) {
        int n = atoi(env);
        if (n > 0) return n;
    }
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

void lsk_set_num_threads(int n) { g_threads = n > 0 ? n : default_threads(); }

int lsk_get_num_threads(void) {
#ifdef _OPENMP
    if (g_threads <= 0) g_threads = default_threads();
    return g_threads;
#else
    return 1;
#endif
}

int lsk_region_threads(void) {
#ifdef _OPENMP
    if (omp_in_parallel()) return 1;
#endif
    return lsk_get_num_threads();
}

const char *lsk_status_string(lsk_status s) {
    switch (s) {
    case LSK_OK: return "ok";
    case LSK_ERR_INVALID_ARGUMENT: return "invalid argument";
    case LSK_ERR_UNSUPPORTED: return "unsupported";
    case LSK_ERR_OUT_OF_MEMORY: return "out of memory";
    case LSK_ERR_BAD_MODEL: return "bad model file";
    case LSK_ERR_IO: return "input/output error";
    }
    return "unknown status";
}

const char *lsk_version(void) { return "0.1.0"; }

int lsk_mul_ok(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > (size_t)-1 / a) return 0;
    *out = a * b;
    return 1;
}
