/*
 * Batch-norm operators: validation, OpenMP over channels, per-ISA microkernel table
 * (kernels/norm/norm-ukernels.h). Per channel, the microkernels sweep the `batch` planes
 * of that channel (stride channels*hw); statistics and the backward's two channel sums
 * are combined in double, and the per-channel coefficients are computed in double.
 *
 * Train forward, per channel: stats (x read once from memory, the plane's second sweep
 * from L1), then y = (x - mean) * (gamma*invstd) + beta with the double mean passed as a
 * float pair. Subtracting the mean before scaling (instead of x*a + b) keeps full precision
 * when |mean| >> std.
 * Backward, per channel: sums of dy and dy*(x - mean), then
 *   dx = invstd*gamma/M * (M*dy - sum(dy) - xhat*sum(dy*xhat))
 *      = a*dy + b*(x - mean) + c,  a = gamma*invstd, b = -gamma*invstd^3*sum(dy*(x-mean))/M,
 *                                  c = -gamma*invstd*sum(dy)/M.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include "../internal/lsk_internal.h"
#include "../../include/lsk_norm.h"
#include "../norm/norm-ukernels.h"

/* Below this many elements a call runs on the calling thread. */
#define LSK_NORM_PAR_MIN ((size_t)32768)

static const lsk_norm_ukernels *norm_ukernels(void) {
    switch (lsk_active_isa()) {
#if defined(__x86_64__)
    case LSK_ISA_AVX2: return &lsk_norm_ukernels__avx2;
    case LSK_ISA_AVX512: return &lsk_norm_ukernels__avx512;
#endif
#if defined(__aarch64__)
    case LSK_ISA_NEON: return &lsk_norm_ukernels__neon;
#endif
    default: return &lsk_norm_ukernels__scalar;
    }
}

/* Validates batch*channels*hw and returns it in *total. */
static int norm_sizes_ok(size_t batch, size_t channels, size_t hw, size_t *total) {
    size_t bc;
    return lsk_mul_ok(batch, channels, &bc) && lsk_mul_ok(bc, hw, total) && *total <= SIZE_MAX / sizeof(float);
}

static int norm_threads(size_t total, size_t channels) {
    if (total < LSK_NORM_PAR_MIN) return 1;
    const int nt = lsk_region_threads();
    return (size_t)nt > channels ? (int)channels : nt;
}

lsk_status lsk_batchnorm_fwd_train(float *y, float *save_mean, float *save_invstd,
                                   float *running_mean, float *running_var,
                                   const float *x, const float *gamma, const float *beta,
                                   size_t batch, size_t channels, size_t hw,
                                   float momentum, float eps) {
    size_t total;
    LSK_CHECK(norm_sizes_ok(batch, channels, hw, &total));
    LSK_CHECK(eps >= 0.0f && eps <= 1e30f && momentum >= -1e30f && momentum <= 1e30f); /* finite, eps >= 0 */
    if (channels == 0) return LSK_OK;
    LSK_CHECK(batch > 0 && hw > 0); /* no statistics without values */
    LSK_CHECK(y && save_mean && save_invstd && x && gamma && beta);
    const lsk_norm_ukernels *uk = norm_ukernels();
    const size_t stride = channels * hw;
    const double count = (double)batch * (double)hw, mom = (double)momentum;
    const double unbias = count > 1.0 ? count / (count - 1.0) : 1.0;
    const int nt = norm_threads(total, channels);
    (void)nt;
    if (getenv("BN_B")) {
#pragma omp parallel num_threads(nt)
    {
        size_t c0 = 0, c1 = channels;
#ifdef _OPENMP
        const size_t t = (size_t)omp_get_thread_num(), T = (size_t)omp_get_num_threads();
        c0 = channels * t / T, c1 = channels * (t + 1) / T;
#endif
        double acc[3 * 64];
        for (size_t c = c0; c < c1; c++) acc[3*(c-c0)] = acc[3*(c-c0)+1] = acc[3*(c-c0)+2] = 0.0;
        for (size_t b = 0; b < batch; b++)
            for (size_t c = c0; c < c1; c++) {
                double st[2];
                uk->stats(1, hw, stride, x + b * stride + c * hw, st);
                double *a = acc + 3 * (c - c0);
                const double tot = a[0] + hw, d = st[0] - a[1];
                a[1] += d * (hw / tot);
                a[2] += st[1] + d * d * (a[0] * hw / tot);
                a[0] = tot;
            }
        for (size_t c = c0; c < c1; c++) {
            const double mean = acc[3*(c-c0)+1], var = acc[3*(c-c0)+2] / count;
            const double invstd = 1.0 / sqrt(var + (double)eps);
            save_mean[c] = (float)mean;
            save_invstd[c] = (float)invstd;
            if (running_mean) running_mean[c] = (float)((1.0 - mom) * running_mean[c] + mom * mean);
            if (running_var) running_var[c] = (float)((1.0 - mom) * running_var[c] + mom * var * unbias);
        }
        for (size_t b = 0; b < batch; b++)
            for (size_t c = c0; c < c1; c++) {
                const double mean = acc[3*(c-c0)+1];
                const float mean_hi = (float)mean, mean_lo = (float)(mean - (double)mean_hi);
                uk->apply(1, hw, stride, x + b * stride + c * hw, y + b * stride + c * hw, mean_hi, mean_lo,
                          (float)((double)gamma[c] * save_invstd[c]), beta[c]);
            }
    }
    return LSK_OK;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t c = 0; c < channels; c++) {
        double st[2];
        uk->stats(batch, hw, stride, x + c * hw, st);
        const double mean = st[0], var = st[1] / count;
        const double invstd = 1.0 / sqrt(var + (double)eps);
        save_mean[c] = (float)mean;
        save_invstd[c] = (float)invstd;
        if (running_mean) running_mean[c] = (float)((1.0 - mom) * running_mean[c] + mom * mean);
        if (running_var) running_var[c] = (float)((1.0 - mom) * running_var[c] + mom * var * unbias);
        const float mean_hi = (float)mean, mean_lo = (float)(mean - (double)mean_hi);
        uk->apply(batch, hw, stride, x + c * hw, y + c * hw, mean_hi, mean_lo, (float)((double)gamma[c] * invstd),
                  beta[c]);
    }
    return LSK_OK;
}

lsk_status lsk_batchnorm_fwd_eval(float *y, const float *x,
                                  const float *gamma, const float *beta,
                                  const float *running_mean, const float *running_var,
                                  size_t batch, size_t channels, size_t hw, float eps) {
    size_t total;
    LSK_CHECK(norm_sizes_ok(batch, channels, hw, &total));
    LSK_CHECK(eps >= 0.0f && eps <= 1e30f);
    if (total == 0) return LSK_OK;
    LSK_CHECK(y && x && gamma && beta && running_mean && running_var);
    const lsk_norm_ukernels *uk = norm_ukernels();
    const size_t stride = channels * hw;
    const int nt = norm_threads(total, channels);
    (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t c = 0; c < channels; c++) {
        const double a = (double)gamma[c] / sqrt((double)running_var[c] + (double)eps);
        uk->apply(batch, hw, stride, x + c * hw, y + c * hw, running_mean[c], 0.0f, (float)a, beta[c]);
    }
    return LSK_OK;
}

lsk_status lsk_batchnorm_bwd(float *dx, float *dgamma, float *dbeta,
                             const float *dy, const float *x, const float *gamma,
                             const float *save_mean, const float *save_invstd,
                             size_t batch, size_t channels, size_t hw, int accumulate) {
    size_t total;
    LSK_CHECK(norm_sizes_ok(batch, channels, hw, &total));
    LSK_CHECK(accumulate == 0 || accumulate == 1);
    if (channels == 0 || (!dx && !dgamma && !dbeta)) return LSK_OK;
    LSK_CHECK(save_mean && save_invstd && (!dx || gamma));
    LSK_CHECK(total == 0 || (dy && x));
    const lsk_norm_ukernels *uk = norm_ukernels();
    const size_t stride = channels * hw;
    const double count = (double)batch * (double)hw;
    const int nt = norm_threads(total, channels);
    (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t c = 0; c < channels; c++) {
        double s[2] = {0.0, 0.0}; /* sum dy, sum dy*(x - mean) */
        if (total > 0) uk->bwd_reduce(batch, hw, stride, dy + c * hw, x + c * hw, save_mean[c], s);
        const double is = save_invstd[c];
        if (dbeta) dbeta[c] = (float)(accumulate ? (double)dbeta[c] + s[0] : s[0]);
        if (dgamma) dgamma[c] = (float)(accumulate ? (double)dgamma[c] + is * s[1] : is * s[1]);
        if (dx && total > 0) {
            const double a = (double)gamma[c] * is;
            const double b = -a * is * is * s[1] / count, c0 = -a * s[0] / count;
            uk->bwd_apply(batch, hw, stride, dy + c * hw, x + c * hw, dx + c * hw, save_mean[c],
                          (float)a, (float)b, (float)c0, accumulate);
        }
    }
    return LSK_OK;
}
