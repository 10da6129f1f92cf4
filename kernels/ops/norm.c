/*
 * Batch-norm operators: validation, OpenMP over channels, per-ISA microkernel table
 * (kernels/norm/norm-ukernels.h).
 *
 * Each thread owns a contiguous range of channels [c0, c1) and sweeps the batch in the
 * outer loop: for every image b its planes (b, c0..c1) are one contiguous run of memory,
 * so every sweep is a long stream. (Sweeping channel by channel instead jumps by
 * channels*hw floats between planes: at (256, 16, 32x32) every plane is one 4 KiB page at a
 * 64 KiB stride, which defeats the prefetchers and aliases to a few L2 sets; measured
 * 2x slower on Zen 5.) Per-channel statistics and sums are merged in double.
 *
 * Train forward: sweep 1, per plane mean and M2 (microkernel), merged per channel with
 * Chan's update; sweep 2, y = ((x - mean_hi) - mean_lo) * (gamma*invstd) + beta with the
 * double mean as a float pair (no precision loss when |mean| >> std).
 * Backward: sweep 1, per channel sum(dy) and sum(dy*(x - mean)); sweep 2,
 *   dx = invstd*gamma/M * (M*dy - sum(dy) - xhat*sum(dy*xhat))
 *      = a*dy + b*(x - mean) + c,  a = gamma*invstd, b = -gamma*invstd^3*sum(dy*(x-mean))/M,
 *                                  c = -gamma*invstd*sum(dy)/M   (coefficients in double).
 */
#include <math.h>
#include <stdint.h>
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

/* Channel range of the calling thread inside a parallel region (everything outside one). */
static void my_channels(size_t channels, size_t *c0, size_t *c1) {
    *c0 = 0, *c1 = channels;
#ifdef _OPENMP
    const size_t t = (size_t)omp_get_thread_num(), T = (size_t)omp_get_num_threads();
    *c0 = channels * t / T, *c1 = channels * (t + 1) / T;
#endif
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
    const double count = (double)batch * (double)hw, mom = (double)momentum, dhw = (double)hw;
    const double unbias = count > 1.0 ? count / (count - 1.0) : 1.0;
    const int nt = norm_threads(total, channels);
    int oom = 0;
    (void)nt;
#pragma omp parallel num_threads(nt) reduction(| : oom)
    {
        size_t c0, c1;
        my_channels(channels, &c0, &c1);
        const size_t nc = c1 - c0;
        /* per channel: mean, M2 (Chan's merge over the planes seen so far) */
        double *acc = (double *)lsk_scratch(LSK_SCRATCH_MISC, 2 * (nc ? nc : 1) * sizeof(double));
        if (!acc) {
            oom = 1;
        } else if (nc > 0) {
            for (size_t b = 0; b < batch; b++) {
                const float *xb = x + b * stride + c0 * hw;
                const double seen = (double)b * dhw, w_new = dhw / (seen + dhw), w_m2 = seen * w_new;
                for (size_t j = 0; j < nc; j++) {
                    double st[2];
                    uk->stats(hw, xb + j * hw, st);
                    if (b == 0) {
                        acc[2 * j] = st[0], acc[2 * j + 1] = st[1];
                        continue;
                    }
                    const double delta = st[0] - acc[2 * j];
                    acc[2 * j] += delta * w_new;
                    acc[2 * j + 1] += st[1] + delta * delta * w_m2;
                }
            }
            for (size_t j = 0; j < nc; j++) {
                const size_t c = c0 + j;
                const double mean = acc[2 * j], var = acc[2 * j + 1] / count;
                const double invstd = 1.0 / sqrt(var + (double)eps);
                save_mean[c] = (float)mean;
                save_invstd[c] = (float)invstd;
                if (running_mean) running_mean[c] = (float)((1.0 - mom) * running_mean[c] + mom * mean);
                if (running_var) running_var[c] = (float)((1.0 - mom) * running_var[c] + mom * var * unbias);
                acc[2 * j + 1] = (double)gamma[c] * invstd; /* reuse: the scale */
            }
            for (size_t b = 0; b < batch; b++)
                for (size_t j = 0; j < nc; j++) {
                    const size_t off = b * stride + (c0 + j) * hw;
                    const float mean_hi = (float)acc[2 * j], mean_lo = (float)(acc[2 * j] - (double)mean_hi);
                    uk->apply(hw, x + off, y + off, mean_hi, mean_lo, (float)acc[2 * j + 1], beta[c0 + j]);
                }
        }
    }
    return oom ? LSK_ERR_OUT_OF_MEMORY : LSK_OK;
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
#pragma omp parallel num_threads(nt)
    {
        size_t c0, c1;
        my_channels(channels, &c0, &c1);
        for (size_t b = 0; b < batch; b++)
            for (size_t c = c0; c < c1; c++) {
                const double a = (double)gamma[c] / sqrt((double)running_var[c] + (double)eps);
                const size_t off = b * stride + c * hw;
                uk->apply(hw, x + off, y + off, running_mean[c], 0.0f, (float)a, beta[c]);
            }
    }
    return LSK_OK;
}

lsk_status lsk_channel_affine_fwd(float *y, const float *x, const float *scale, const float *shift,
                                  size_t batch, size_t channels, size_t hw, int relu) {
    size_t total;
    LSK_CHECK(norm_sizes_ok(batch, channels, hw, &total));
    LSK_CHECK(relu == 0 || relu == 1);
    if (total == 0) return LSK_OK;
    LSK_CHECK(y && x && scale && shift);
    const lsk_norm_ukernels *uk = norm_ukernels();
    const size_t stride = channels * hw;
    const int nt = norm_threads(total, channels);
    (void)nt;
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        size_t c0, c1;
        my_channels(channels, &c0, &c1);
        for (size_t b = 0; b < batch; b++)
            for (size_t c = c0; c < c1; c++) uk->affine(hw, x + b * stride + c * hw, y + b * stride + c * hw, scale[c], shift[c], relu);
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
    int oom = 0;
    (void)nt;
#pragma omp parallel num_threads(nt) reduction(| : oom)
    {
        size_t c0, c1;
        my_channels(channels, &c0, &c1);
        const size_t nc = c1 - c0;
        double *acc = (double *)lsk_scratch(LSK_SCRATCH_MISC, 3 * (nc ? nc : 1) * sizeof(double));
        if (!acc) {
            oom = 1;
        } else if (nc > 0) {
            /* acc[3j..3j+1]: sum dy, sum dy*(x - mean); then a, b, c of dx = a*dy + b*(x - mean) + c */
            for (size_t j = 0; j < 3 * nc; j++) acc[j] = 0.0;
            for (size_t b = 0; b < batch; b++)
                for (size_t j = 0; j < nc; j++) {
                    double s[2];
                    const size_t off = b * stride + (c0 + j) * hw;
                    uk->bwd_reduce(hw, dy + off, x + off, save_mean[c0 + j], s);
                    acc[3 * j] += s[0];
                    acc[3 * j + 1] += s[1];
                }
            for (size_t j = 0; j < nc; j++) {
                const size_t c = c0 + j;
                const double is = save_invstd[c], sdy = acc[3 * j], sdyx = acc[3 * j + 1];
                if (dbeta) dbeta[c] = (float)(accumulate ? (double)dbeta[c] + sdy : sdy);
                if (dgamma) dgamma[c] = (float)(accumulate ? (double)dgamma[c] + is * sdyx : is * sdyx);
                if (dx) {
                    const double a = (double)gamma[c] * is;
                    acc[3 * j] = a;
                    acc[3 * j + 1] = -a * is * is * sdyx / count;
                    acc[3 * j + 2] = -a * sdy / count;
                }
            }
            if (dx)
                for (size_t b = 0; b < batch; b++)
                    for (size_t j = 0; j < nc; j++) {
                        const size_t off = b * stride + (c0 + j) * hw;
                        uk->bwd_apply(hw, dy + off, x + off, dx + off, save_mean[c0 + j], (float)acc[3 * j],
                                      (float)acc[3 * j + 1], (float)acc[3 * j + 2], accumulate);
                    }
        }
    }
    return oom ? LSK_ERR_OUT_OF_MEMORY : LSK_OK;
}
