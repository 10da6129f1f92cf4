/*
 * Pooling operators: validation, OpenMP over (batch x channel) planes (each thread takes a
 * contiguous run of planes and its own scratch), per-ISA microkernel table
 * (kernels/pool/pool-ukernels.h).
 */
#include <math.h>
#include <stdint.h>
#include "../internal/lsk_internal.h"
#include "../../include/lsk_pool.h"
#include "../pool/pool-ukernels.h"

/* Below this many input elements a call runs on the calling thread. */
#define LSK_POOL_PAR_MIN ((size_t)32768)

static const lsk_pool_ukernels *pool_ukernels(void) {
    switch (lsk_active_isa()) {
#if defined(__x86_64__)
    case LSK_ISA_AVX2: return &lsk_pool_ukernels__avx2;
    case LSK_ISA_AVX512: return &lsk_pool_ukernels__avx512;
#endif
#if defined(__aarch64__)
    case LSK_ISA_NEON: return &lsk_pool_ukernels__neon;
#endif
    default: return &lsk_pool_ukernels__scalar;
    }
}

static int pool_threads(size_t work, size_t planes) {
    if (work < LSK_POOL_PAR_MIN || planes < 2) return 1;
    const int nt = lsk_region_threads();
    return (size_t)nt > planes ? (int)planes : nt;
}

/* Plane range [*p0, *p1) of thread t of T. */
static inline void plane_range(size_t planes, size_t t, size_t T, size_t *p0, size_t *p1) {
    *p0 = planes * t / T;
    *p1 = planes * (t + 1) / T;
}

lsk_status lsk_pool2d_output_size(const lsk_pool2d_desc *d, size_t *out_height, size_t *out_width) {
    LSK_CHECK(d && out_height && out_width);
    LSK_CHECK(d->kernel_h >= 1 && d->kernel_w >= 1 && d->stride_h >= 1 && d->stride_w >= 1);
    LSK_CHECK(d->pad_h <= d->kernel_h / 2 && d->pad_w <= d->kernel_w / 2);
    LSK_CHECK(d->in_height <= SIZE_MAX / 4 && d->in_width <= SIZE_MAX / 4);
    LSK_CHECK(d->in_height + 2 * d->pad_h >= d->kernel_h && d->in_width + 2 * d->pad_w >= d->kernel_w);
    *out_height = (d->in_height + 2 * d->pad_h - d->kernel_h) / d->stride_h + 1;
    *out_width = (d->in_width + 2 * d->pad_w - d->kernel_w) / d->stride_w + 1;
    return LSK_OK;
}

/* Validates d and fills the geometry, the plane count and the per-thread scratch size.
 * Returns 0 on invalid input. */
static int pool_setup(const lsk_pool2d_desc *d, lsk_pool_geom *g, size_t *planes, size_t *scratch_bytes) {
    size_t oh, ow, planes_, in_n, out_n, tot;
    if (lsk_pool2d_output_size(d, &oh, &ow) != LSK_OK) return 0;
    if (!lsk_mul_ok(d->batch, d->channels, &planes_)) return 0;
    if (!lsk_mul_ok(d->in_height, d->in_width, &in_n) || in_n > (size_t)INT32_MAX) return 0; /* int32 argmax */
    if (!lsk_mul_ok(oh, ow, &out_n) || !lsk_mul_ok(planes_, in_n, &tot) || tot > SIZE_MAX / sizeof(float)) return 0;
    if (!lsk_mul_ok(planes_, out_n, &tot) || tot > SIZE_MAX / sizeof(float)) return 0;
    g->in_h = d->in_height, g->in_w = d->in_width, g->out_h = oh, g->out_w = ow;
    /* A stride past the padded input gives one output along that axis whatever its value:
     * capping it keeps every index computation small (and the stride_w phase rows few). */
    g->k_h = d->kernel_h, g->k_w = d->kernel_w;
    g->s_h = LSK_MIN(d->stride_h, d->in_height + 2 * d->pad_h);
    g->s_w = LSK_MIN(d->stride_w, d->in_width + 2 * d->pad_w);
    g->p_h = d->pad_h, g->p_w = d->pad_w;
    lsk_pool_geom_finish(g);
    size_t fl = 0;
    if (!lsk_mul_ok(g->in_h, g->s_w, &fl) || !lsk_mul_ok(fl, g->ph_len, &fl) || fl > SIZE_MAX / 8) return 0;
    *planes = planes_;
    *scratch_bytes = lsk_pool_scratch_floats(g) * sizeof(float);
    return 1;
}

lsk_status lsk_global_avgpool_fwd(float *y, const float *x, size_t batch, size_t channels, size_t hw) {
    size_t planes, n;
    LSK_CHECK(lsk_mul_ok(batch, channels, &planes) && lsk_mul_ok(planes, hw, &n) && n <= SIZE_MAX / sizeof(float));
    if (planes == 0) return LSK_OK;
    LSK_CHECK(hw > 0 && y && x); /* the mean of no values is undefined */
    const lsk_pool_ukernels *uk = pool_ukernels();
    const float scale = (float)(1.0 / (double)hw);
    const int nt = pool_threads(n, planes);
    if (nt <= 1) {
        uk->gavgpool(planes, hw, x, y, scale);
        return LSK_OK;
    }
#pragma omp parallel num_threads(nt)
    {
        size_t p0 = 0, p1 = planes;
#ifdef _OPENMP
        plane_range(planes, (size_t)omp_get_thread_num(), (size_t)omp_get_num_threads(), &p0, &p1);
#endif
        uk->gavgpool(p1 - p0, hw, x + p0 * hw, y + p0, scale);
    }
    return LSK_OK;
}

lsk_status lsk_global_avgpool_bwd(float *dx, const float *dy, size_t batch, size_t channels, size_t hw,
                                  int accumulate) {
    size_t planes, n;
    LSK_CHECK(lsk_mul_ok(batch, channels, &planes) && lsk_mul_ok(planes, hw, &n) && n <= SIZE_MAX / sizeof(float));
    LSK_CHECK(accumulate == 0 || accumulate == 1);
    if (n == 0) return LSK_OK;
    LSK_CHECK(dx && dy);
    const lsk_pool_ukernels *uk = pool_ukernels();
    const float scale = (float)(1.0 / (double)hw);
    const int nt = pool_threads(n, planes);
    if (nt <= 1) {
        uk->gavgpool_bwd(planes, hw, dy, dx, scale, accumulate);
        return LSK_OK;
    }
#pragma omp parallel num_threads(nt)
    {
        size_t p0 = 0, p1 = planes;
#ifdef _OPENMP
        plane_range(planes, (size_t)omp_get_thread_num(), (size_t)omp_get_num_threads(), &p0, &p1);
#endif
        uk->gavgpool_bwd(p1 - p0, hw, dy + p0, dx + p0 * hw, scale, accumulate);
    }
    return LSK_OK;
}

enum { POOL_MAX_FWD, POOL_AVG_FWD, POOL_AVG_BWD };

/* Runs a windowed microkernel over all planes; returns LSK_ERR_OUT_OF_MEMORY if a thread
 * could not get its scratch. */
static lsk_status pool_windowed(int op, const lsk_pool_geom *g, size_t planes, size_t scratch_bytes,
                                float *out, int32_t *argmax, const float *in, int accumulate) {
    const lsk_pool_ukernels *uk = pool_ukernels();
    const size_t in_n = g->in_h * g->in_w, out_n = g->out_h * g->out_w;
    const int nt = pool_threads(planes * (in_n > out_n ? in_n : out_n), planes);
    int oom = 0;
    (void)nt;
#pragma omp parallel num_threads(nt) reduction(| : oom)
    {
        size_t p0 = 0, p1 = planes;
#ifdef _OPENMP
        plane_range(planes, (size_t)omp_get_thread_num(), (size_t)omp_get_num_threads(), &p0, &p1);
#endif
        float *scratch = (float *)lsk_scratch(LSK_SCRATCH_MISC, scratch_bytes);
        if (!scratch) oom = 1;
        else if (p1 > p0) {
            switch (op) {
            case POOL_MAX_FWD: uk->maxpool(p1 - p0, g, in + p0 * in_n, out + p0 * out_n, argmax + p0 * out_n, scratch); break;
            case POOL_AVG_FWD: uk->avgpool(p1 - p0, g, in + p0 * in_n, out + p0 * out_n, scratch); break;
            case POOL_AVG_BWD: uk->avgpool_bwd(p1 - p0, g, in + p0 * out_n, out + p0 * in_n, accumulate, scratch); break;
            }
        }
    }
    return oom ? LSK_ERR_OUT_OF_MEMORY : LSK_OK;
}

lsk_status lsk_maxpool2d_fwd(const lsk_pool2d_desc *d, float *y, int32_t *argmax, const float *x) {
    lsk_pool_geom g;
    size_t planes, scratch;
    LSK_CHECK(pool_setup(d, &g, &planes, &scratch));
    if (planes == 0) return LSK_OK;
    LSK_CHECK(y && argmax && x);
    return pool_windowed(POOL_MAX_FWD, &g, planes, scratch, y, argmax, x, 0);
}

lsk_status lsk_maxpool2d_bwd(const lsk_pool2d_desc *d, float *dx, const float *dy, const int32_t *argmax,
                             int accumulate) {
    lsk_pool_geom g;
    size_t planes, scratch;
    LSK_CHECK(pool_setup(d, &g, &planes, &scratch));
    LSK_CHECK(accumulate == 0 || accumulate == 1);
    if (planes == 0) return LSK_OK;
    LSK_CHECK(dx && dy && argmax);
    const lsk_pool_ukernels *uk = pool_ukernels();
    const size_t in_n = g.in_h * g.in_w, out_n = g.out_h * g.out_w;
    const int nt = pool_threads(planes * in_n, planes);
    size_t bad = 0;
    (void)nt;
#pragma omp parallel num_threads(nt) reduction(+ : bad)
    {
        size_t p0 = 0, p1 = planes;
#ifdef _OPENMP
        plane_range(planes, (size_t)omp_get_thread_num(), (size_t)omp_get_num_threads(), &p0, &p1);
#endif
        if (p1 > p0) bad += uk->maxpool_bwd(p1 - p0, &g, dy + p0 * out_n, argmax + p0 * out_n, dx + p0 * in_n, accumulate);
    }
    /* An argmax entry outside its plane cannot come from lsk_maxpool2d_fwd: those entries
     * were skipped (nothing was written out of bounds) and the call reports it. */
    return bad ? LSK_ERR_INVALID_ARGUMENT : LSK_OK;
}

lsk_status lsk_avgpool2d_fwd(const lsk_pool2d_desc *d, float *y, const float *x) {
    lsk_pool_geom g;
    size_t planes, scratch;
    LSK_CHECK(pool_setup(d, &g, &planes, &scratch));
    if (planes == 0) return LSK_OK;
    LSK_CHECK(y && x);
    return pool_windowed(POOL_AVG_FWD, &g, planes, scratch, y, NULL, x, 0);
}

lsk_status lsk_avgpool2d_bwd(const lsk_pool2d_desc *d, float *dx, const float *dy, int accumulate) {
    lsk_pool_geom g;
    size_t planes, scratch;
    LSK_CHECK(pool_setup(d, &g, &planes, &scratch));
    LSK_CHECK(accumulate == 0 || accumulate == 1);
    if (planes == 0) return LSK_OK;
    LSK_CHECK(dx && dy);
    return pool_windowed(POOL_AVG_BWD, &g, planes, scratch, dx, NULL, dy, accumulate);
}
