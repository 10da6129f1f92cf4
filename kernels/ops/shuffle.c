/*
 * Channel shuffle operators (lsk_shuffle.h): validation, OpenMP over (batch, channel) planes,
 * per-ISA plane-copy microkernels (kernels/shuffle/shuffle-ukernels.h).
 *
 * Every form is one gather over planes: the output channels are the channels of a virtual
 * concat of up to two output tensors (o0 with oc0 channels, then o1), the input channels those
 * of a virtual concat of up to two inputs (i0 with ic0 channels, then i1), and output channel
 * j = k*G + i reads input channel i*K + k (K = C/G). Forward uses G = groups, backward the
 * inverse permutation, which is the same gather with G = C/groups. Each plane is read once and
 * written once: no intermediate tensor for concat+shuffle or shuffle+split.
 *
 * Plane order: the (i, k) pairs are visited so that there are min(G, K) sequential streams on
 * one side and one on the other: in output order (k outer) when G <= K, reading G streams; in
 * input order (i outer) when G > K, writing K streams. For g = 2 that is two streams, forward
 * and backward (a strided walk over every K-th plane measured ~30% slower for the backward).
 * With streaming stores (below) always in input order: the reads are then one stream, and
 * the streamed writes cost the same in any order.
 *
 * Memory traffic (what brings the gather to plain-copy bandwidth, docs/edge-kernels.md):
 * - software prefetch: in input order the reads are one contiguous stream per image, so the
 *   copy prefetches a fixed distance ahead of its own source, past the end of its plane into
 *   the next ones. The hardware prefetchers alone ran too short on 1 KiB planes (16x16; ~20-30%
 *   of the time lost);
 * - streaming stores for outputs larger than the last-level cache (LSK_SHUFFLE_NT_MIN_BYTES):
 *   ordinary stores read each destination line first (a third transfer), while the copy we
 *   compare with (glibc memcpy: rep movsb) does not.
 */
#include <stdint.h>
#include "../internal/lsk_internal.h"
#include "../../include/lsk_shuffle.h"
#include "../shuffle/shuffle-ukernels.h"

/* Below this many elements a call runs on the calling thread. */
#define LSK_SHUFFLE_PAR_MIN ((size_t)32768)

/* Software prefetch distance ahead of the (single, sequential) read stream: 8 KiB measured best
 * of 2-16 KiB (16x16 planes, g = 2 and 3, forward and backward). */
#define LSK_SHUFFLE_PREFETCH_BYTES ((size_t)8192)

const lsk_shuffle_ukernels *lsk_shuffle_get_ukernels(lsk_isa isa) {
    switch (isa) {
#if defined(__x86_64__)
    case LSK_ISA_AVX2: return &lsk_shuffle_ukernels__avx2;
    case LSK_ISA_AVX512: return &lsk_shuffle_ukernels__avx512;
#endif
#if defined(__aarch64__)
    case LSK_ISA_NEON: return &lsk_shuffle_ukernels__neon;
#endif
    default: return &lsk_shuffle_ukernels__scalar;
    }
}

/* Sizes valid: groups divides channels, batch*channels*hw floats addressable. */
static int shuffle_sizes_ok(size_t batch, size_t channels, size_t hw, size_t groups) {
    size_t n;
    return groups > 0 && channels % groups == 0 && lsk_mul_ok(batch, channels, &n) && lsk_mul_ok(n, hw, &n) &&
           n <= SIZE_MAX / sizeof(float);
}

/* A part of c channels needs a pointer when it holds data. */
#define PART_OK(p, c) ((p) != NULL || (c) == 0 || batch == 0 || hw == 0)

static void gather_planes(float *o0, float *o1, size_t oc0, const float *i0, const float *i1, size_t ic0,
                          size_t batch, size_t C, size_t hw, size_t G, int accumulate) {
    if (batch == 0 || C == 0 || hw == 0) return;
    const lsk_shuffle_ukernels *uk = lsk_shuffle_get_ukernels(lsk_active_isa());
    const size_t K = C / G, oc1 = C - oc0, ic1 = C - ic0, planes = batch * C;
    /* Streaming stores only when overwriting (an add reads its destination anyway), and only
     * when every plane starts on a 64-byte line: a line filled partly by streaming and partly
     * by ordinary stores costs more than the read it saves (7x7 planes: 2x slower). */
    const int lines = hw * sizeof(float) % 64 == 0 && (uintptr_t)o0 % 64 == 0 && (uintptr_t)o1 % 64 == 0;
    const int stream = !accumulate && lines && planes * hw >= LSK_SHUFFLE_NT_MIN_BYTES / sizeof(float);
    void (*copy)(size_t, const float *, float *, size_t) = stream ? uk->copy_nt : uk->copy;
    int nt = 1;
    if (planes * hw >= LSK_SHUFFLE_PAR_MIN && planes > 1) {
        nt = lsk_region_threads();
        if ((size_t)nt > planes) nt = (int)planes;
    }
    (void)nt;
    if (G == 1 || G == C) { /* identity permutation (plain concat / split): whole channel runs */
        const ptrdiff_t nb = (ptrdiff_t)batch;
#pragma omp parallel num_threads(nt)
        {
#pragma omp for schedule(static)
            for (ptrdiff_t bb = 0; bb < nb; bb++) {
                const size_t b = (size_t)bb;
                for (size_t j = 0; j < C;) {
                    /* the run [j, e) lies in one output part and one input part */
                    size_t e = C;
                    if (j < oc0 && oc0 < e) e = oc0;
                    if (j < ic0 && ic0 < e) e = ic0;
                    float *dst = j < oc0 ? o0 + (b * oc0 + j) * hw : o1 + (b * oc1 + (j - oc0)) * hw;
                    const float *s = j < ic0 ? i0 + (b * ic0 + j) * hw : i1 + (b * ic1 + (j - ic0)) * hw;
                    if (accumulate) uk->vacc((e - j) * hw, s, dst);
                    else copy((e - j) * hw, s, dst, stream ? LSK_SHUFFLE_PREFETCH_BYTES : 0);
                    j = e;
                }
            }
            if (stream) uk->store_fence(); /* before the barrier that ends the region */
        }
        return;
    }
    /* rows of `inner` planes: (b, k) with i inner (output order), or (b, i) with k inner (input
     * order). With streaming stores the writes cost the same in any order (whole lines, no
     * read-for-ownership), so the reads go in order: one prefetched stream (measured 1.04-1.15x
     * faster than the output order for g = 2 and 3). Otherwise the side with fewer streams. */
    const int by_out = !stream && G <= K;
    const size_t outer = by_out ? K : G, inner = by_out ? G : K, rows = batch * outer;
    /* Software prefetch only with streaming (then the reads are one stream in input order):
     * smaller tensors are mostly cache-resident and the prefetches cost more than they hide
     * (7.6 MB, 16x16 planes: 0.87 -> 0.77 of copy). */
    const size_t ahead = stream ? LSK_SHUFFLE_PREFETCH_BYTES : 0;
#pragma omp parallel num_threads(nt)
    {
        size_t q0 = 0, q1 = rows;
#ifdef _OPENMP
        const size_t t = (size_t)omp_get_thread_num(), T = (size_t)omp_get_num_threads();
        q0 = rows * t / T, q1 = rows * (t + 1) / T;
#endif
        /* no divisions in the loop: (b, o) advance with q */
        size_t b = q0 / outer, o = q0 % outer;
        for (size_t q = q0; q < q1; q++) {
            for (size_t u = 0; u < inner; u++) {
                const size_t i = by_out ? u : o, k = by_out ? o : u;
                const size_t j = k * G + i, src = i * K + k;
                float *dst = j < oc0 ? o0 + (b * oc0 + j) * hw : o1 + (b * oc1 + (j - oc0)) * hw;
                const float *s = src < ic0 ? i0 + (b * ic0 + src) * hw : i1 + (b * ic1 + (src - ic0)) * hw;
                if (accumulate) uk->vacc(hw, s, dst);
                else copy(hw, s, dst, ahead);
            }
            if (++o == outer) o = 0, b++;
        }
        if (stream) uk->store_fence(); /* before the barrier that ends the region */
    }
}

lsk_status lsk_channel_shuffle_fwd(float *y, const float *x, size_t batch, size_t channels, size_t hw,
                                   size_t groups) {
    LSK_CHECK(shuffle_sizes_ok(batch, channels, hw, groups));
    LSK_CHECK(PART_OK(y, channels) && PART_OK(x, channels));
    gather_planes(y, NULL, channels, x, NULL, channels, batch, channels, hw, groups, 0);
    return LSK_OK;
}

lsk_status lsk_channel_shuffle_bwd(float *dx, const float *dy, size_t batch, size_t channels, size_t hw,
                                   size_t groups, int accumulate) {
    LSK_CHECK(shuffle_sizes_ok(batch, channels, hw, groups));
    LSK_CHECK(accumulate == 0 || accumulate == 1);
    LSK_CHECK(PART_OK(dx, channels) && PART_OK(dy, channels));
    gather_planes(dx, NULL, channels, dy, NULL, channels, batch, channels, hw, channels / groups, accumulate);
    return LSK_OK;
}

lsk_status lsk_concat_shuffle_fwd(float *y, const float *a, const float *b, size_t batch, size_t ca, size_t cb,
                                  size_t hw, size_t groups) {
    LSK_CHECK(ca <= SIZE_MAX - cb && shuffle_sizes_ok(batch, ca + cb, hw, groups));
    LSK_CHECK(PART_OK(y, ca + cb) && PART_OK(a, ca) && PART_OK(b, cb));
    gather_planes(y, NULL, ca + cb, a, b, ca, batch, ca + cb, hw, groups, 0);
    return LSK_OK;
}

lsk_status lsk_concat_shuffle_bwd(float *da, float *db, const float *dy, size_t batch, size_t ca, size_t cb,
                                  size_t hw, size_t groups, int accumulate) {
    LSK_CHECK(ca <= SIZE_MAX - cb && shuffle_sizes_ok(batch, ca + cb, hw, groups));
    LSK_CHECK(accumulate == 0 || accumulate == 1);
    LSK_CHECK(PART_OK(dy, ca + cb) && PART_OK(da, ca) && PART_OK(db, cb));
    gather_planes(da, db, ca, dy, NULL, ca + cb, batch, ca + cb, hw, (ca + cb) / groups, accumulate);
    return LSK_OK;
}

lsk_status lsk_shuffle_split_fwd(float *y1, float *y2, const float *x, size_t batch, size_t c1, size_t c2,
                                 size_t hw, size_t groups) {
    LSK_CHECK(c1 <= SIZE_MAX - c2 && shuffle_sizes_ok(batch, c1 + c2, hw, groups));
    LSK_CHECK(PART_OK(x, c1 + c2) && PART_OK(y1, c1) && PART_OK(y2, c2));
    gather_planes(y1, y2, c1, x, NULL, c1 + c2, batch, c1 + c2, hw, groups, 0);
    return LSK_OK;
}

lsk_status lsk_shuffle_split_bwd(float *dx, const float *dy1, const float *dy2, size_t batch, size_t c1, size_t c2,
                                 size_t hw, size_t groups, int accumulate) {
    LSK_CHECK(c1 <= SIZE_MAX - c2 && shuffle_sizes_ok(batch, c1 + c2, hw, groups));
    LSK_CHECK(accumulate == 0 || accumulate == 1);
    LSK_CHECK(PART_OK(dx, c1 + c2) && PART_OK(dy1, c1) && PART_OK(dy2, c2));
    gather_planes(dx, NULL, c1 + c2, dy1, dy2, c1, batch, c1 + c2, hw, (c1 + c2) / groups, accumulate);
    return LSK_OK;
}
