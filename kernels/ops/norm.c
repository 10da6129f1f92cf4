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
 * Split forms (synchronised batch norm, lsk_norm.h): each sweep is one static helper over a
 * thread's channel range, shared by the fused call (statistics in per-thread scratch) and the
 * split one (statistics or sums in the caller's [channels][2] buffer), so the two are one
 * arithmetic and agree bit for bit.
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

/* Stats / sums arrays of the split forms: [channels][2] doubles. */
static int pairs_ok(size_t channels) { return channels <= SIZE_MAX / (2 * sizeof(double)); }

/* The count argument of the split forms: the number of values the (merged) statistics or sums
 * cover. Refuses NaN, < 1 (no values anywhere), > 2^53 (not exact in double, also infinity)
 * and fewer values than the local batch*hw. */
static int count_ok(double count, size_t batch, size_t hw) {
    return count >= 1.0 && count <= 9007199254740992.0 && count >= (double)batch * (double)hw;
}

/* Train forward, sweep 1, over the thread's channels [c0, c1): st[2j], st[2j+1] = mean and M2
 * of channel c0 + j (microkernel per plane, Chan's update over the images in order). No
 * values (batch or hw 0): zeros. */
static void bn_stats_range(const lsk_norm_ukernels *uk, double *st, const float *x, size_t batch, size_t channels,
                           size_t hw, size_t c0, size_t c1) {
    const size_t nc = c1 - c0, stride = channels * hw;
    const double dhw = (double)hw;
    if (batch == 0 || hw == 0) {
        for (size_t j = 0; j < 2 * nc; j++) st[j] = 0.0;
        return;
    }
    for (size_t b = 0; b < batch; b++) {
        const float *xb = x + b * stride + c0 * hw;
        const double seen = (double)b * dhw, w_new = dhw / (seen + dhw), w_m2 = seen * w_new;
        for (size_t j = 0; j < nc; j++) {
            double s[2];
            uk->stats(hw, xb + j * hw, s);
            if (b == 0) {
                st[2 * j] = s[0], st[2 * j + 1] = s[1];
                continue;
            }
            const double delta = s[0] - st[2 * j];
            st[2 * j] += delta * w_new;
            st[2 * j + 1] += s[1] + delta * delta * w_m2;
        }
    }
}

/* Train forward, per channel of [c0, c1) from its (mean, M2) st[2j..2j+1] over count values:
 * save_mean, save_invstd, running_* (each may be NULL) and, when scale is not NULL,
 * scale[j] = gamma * invstd (the y scale). */
static void bn_fwd_finish(const double *st, float *scale, float *save_mean, float *save_invstd,
                          float *running_mean, float *running_var, const float *gamma, double count,
                          size_t c0, size_t c1, float momentum, float eps) {
    const double mom = (double)momentum;
    const double unbias = count > 1.0 ? count / (count - 1.0) : 1.0;
    for (size_t j = 0; j < c1 - c0; j++) {
        const size_t c = c0 + j;
        const double mean = st[2 * j], var = st[2 * j + 1] / count;
        const double invstd = 1.0 / sqrt(var + (double)eps);
        save_mean[c] = (float)mean;
        save_invstd[c] = (float)invstd;
        if (running_mean) running_mean[c] = (float)((1.0 - mom) * running_mean[c] + mom * mean);
        if (running_var) running_var[c] = (float)((1.0 - mom) * running_var[c] + mom * var * unbias);
        if (scale) scale[j] = (float)((double)gamma[c] * invstd);
    }
}

/* Train forward, sweep 2, over [c0, c1): y = ((x - mean_hi) - mean_lo) * scale + beta, then
 * max(0, y) when relu. */
static void bn_fwd_apply_range(const lsk_norm_ukernels *uk, float *y, const float *x, const double *st,
                               const float *scale, const float *beta, size_t batch, size_t channels, size_t hw,
                               size_t c0, size_t c1, int relu) {
    const size_t nc = c1 - c0, stride = channels * hw;
    if (hw == 0) return;
    for (size_t b = 0; b < batch; b++)
        for (size_t j = 0; j < nc; j++) {
            const size_t off = b * stride + (c0 + j) * hw;
            const float mean_hi = (float)st[2 * j], mean_lo = (float)(st[2 * j] - (double)mean_hi);
            if (relu) uk->apply_relu(hw, x + off, y + off, mean_hi, mean_lo, scale[j], beta[c0 + j]);
            else uk->apply(hw, x + off, y + off, mean_hi, mean_lo, scale[j], beta[c0 + j]);
        }
}

/* Backward, sweep 1, over [c0, c1): s[2j] = sum dy, s[2j+1] = sum dy*(x - save_mean) of
 * channel c0 + j, planes added in image order. No values: zeros. relu_y not NULL: dy is
 * masked by relu_y > 0 (relu(batch norm), relu_y its output). */
static void bn_bwd_reduce_range(const lsk_norm_ukernels *uk, double *s, const float *dy, const float *relu_y,
                                const float *x, const float *save_mean, size_t batch, size_t channels, size_t hw,
                                size_t c0, size_t c1) {
    const size_t nc = c1 - c0, stride = channels * hw;
    for (size_t j = 0; j < 2 * nc; j++) s[j] = 0.0;
    if (hw == 0) return;
    for (size_t b = 0; b < batch; b++)
        for (size_t j = 0; j < nc; j++) {
            double r[2];
            const size_t off = b * stride + (c0 + j) * hw;
            if (relu_y) uk->bwd_reduce_relu(hw, dy + off, relu_y + off, x + off, save_mean[c0 + j], r);
            else uk->bwd_reduce(hw, dy + off, x + off, save_mean[c0 + j], r);
            s[2 * j] += r[0];
            s[2 * j + 1] += r[1];
        }
}

/* Backward, per channel of [c0, c1) from its sums s[2j..2j+1] over count values: dbeta, dgamma
 * (each may be NULL; accumulate 1 adds) and, when coef is not NULL, the dx coefficients
 * coef[3j..3j+2] = a, b, c of dx = a*dy + b*(x - mean) + c. */
static void bn_bwd_finish(const double *s, float *coef, float *dgamma, float *dbeta, const float *gamma,
                          const float *save_invstd, double count, size_t c0, size_t c1, int accumulate) {
    for (size_t j = 0; j < c1 - c0; j++) {
        const size_t c = c0 + j;
        const double is = save_invstd[c], sdy = s[2 * j], sdyx = s[2 * j + 1];
        if (dbeta) dbeta[c] = (float)(accumulate ? (double)dbeta[c] + sdy : sdy);
        if (dgamma) dgamma[c] = (float)(accumulate ? (double)dgamma[c] + is * sdyx : is * sdyx);
        if (coef) {
            const double a = (double)gamma[c] * is;
            coef[3 * j] = (float)a;
            coef[3 * j + 1] = (float)(-a * is * is * sdyx / count);
            coef[3 * j + 2] = (float)(-a * sdy / count);
        }
    }
}

/* Backward, sweep 2, over [c0, c1): dx (=|+=) a*dy + b*(x - mean) + c (dy masked by relu_y > 0
 * when relu_y is not NULL). */
static void bn_bwd_apply_range(const lsk_norm_ukernels *uk, float *dx, const float *dy, const float *relu_y,
                               const float *x, const float *save_mean, const float *coef, size_t batch,
                               size_t channels, size_t hw, size_t c0, size_t c1, int accumulate) {
    const size_t nc = c1 - c0, stride = channels * hw;
    if (hw == 0) return;
    for (size_t b = 0; b < batch; b++)
        for (size_t j = 0; j < nc; j++) {
            const size_t off = b * stride + (c0 + j) * hw;
            if (relu_y)
                uk->bwd_apply_relu(hw, dy + off, relu_y + off, x + off, dx + off, save_mean[c0 + j], coef[3 * j],
                                   coef[3 * j + 1], coef[3 * j + 2], accumulate);
            else
                uk->bwd_apply(hw, dy + off, x + off, dx + off, save_mean[c0 + j], coef[3 * j], coef[3 * j + 1],
                              coef[3 * j + 2], accumulate);
        }
}

/* lsk_batchnorm_fwd_train, and with relu 1 lsk_batchnorm_relu_fwd_train. */
static lsk_status bn_fwd_train(float *y, float *save_mean, float *save_invstd, float *running_mean, float *running_var,
                               const float *x, const float *gamma, const float *beta, size_t batch, size_t channels,
                               size_t hw, float momentum, float eps, int relu) {
    size_t total;
    LSK_CHECK(norm_sizes_ok(batch, channels, hw, &total));
    LSK_CHECK(eps >= 0.0f && eps <= 1e30f && momentum >= -1e30f && momentum <= 1e30f); /* finite, eps >= 0 */
    if (channels == 0) return LSK_OK;
    LSK_CHECK(batch > 0 && hw > 0); /* no statistics without values */
    LSK_CHECK(y && save_mean && save_invstd && x && gamma && beta);
    const lsk_norm_ukernels *uk = norm_ukernels();
    const double count = (double)batch * (double)hw;
    const int nt = norm_threads(total, channels);
    int oom = 0;
    (void)nt;
#pragma omp parallel num_threads(nt) reduction(| : oom)
    {
        size_t c0, c1;
        my_channels(channels, &c0, &c1);
        const size_t nc = c1 - c0, ns = nc ? nc : 1;
        /* per channel: mean, M2 (doubles), then the y scale (floats) */
        double *acc = (double *)lsk_scratch(LSK_SCRATCH_MISC, 2 * ns * sizeof(double) + ns * sizeof(float));
        if (!acc) {
            oom = 1;
        } else if (nc > 0) {
            float *scale = (float *)(acc + 2 * ns);
            bn_stats_range(uk, acc, x, batch, channels, hw, c0, c1);
            bn_fwd_finish(acc, scale, save_mean, save_invstd, running_mean, running_var, gamma, count, c0, c1,
                          momentum, eps);
            bn_fwd_apply_range(uk, y, x, acc, scale, beta, batch, channels, hw, c0, c1, relu);
        }
    }
    return oom ? LSK_ERR_OUT_OF_MEMORY : LSK_OK;
}

lsk_status lsk_batchnorm_fwd_train(float *y, float *save_mean, float *save_invstd,
                                   float *running_mean, float *running_var,
                                   const float *x, const float *gamma, const float *beta,
                                   size_t batch, size_t channels, size_t hw,
                                   float momentum, float eps) {
    return bn_fwd_train(y, save_mean, save_invstd, running_mean, running_var, x, gamma, beta, batch, channels, hw,
                        momentum, eps, 0);
}

lsk_status lsk_batchnorm_relu_fwd_train(float *y, float *save_mean, float *save_invstd,
                                        float *running_mean, float *running_var,
                                        const float *x, const float *gamma, const float *beta,
                                        size_t batch, size_t channels, size_t hw,
                                        float momentum, float eps) {
    return bn_fwd_train(y, save_mean, save_invstd, running_mean, running_var, x, gamma, beta, batch, channels, hw,
                        momentum, eps, 1);
}

lsk_status lsk_batchnorm_stats(double *stats, const float *x, size_t batch, size_t channels, size_t hw) {
    size_t total;
    LSK_CHECK(norm_sizes_ok(batch, channels, hw, &total) && pairs_ok(channels));
    if (channels == 0) return LSK_OK;
    LSK_CHECK(stats && (total == 0 || x));
    const lsk_norm_ukernels *uk = norm_ukernels();
    const int nt = norm_threads(total, channels);
    (void)nt;
#pragma omp parallel num_threads(nt)
    {
        size_t c0, c1;
        my_channels(channels, &c0, &c1);
        if (c1 > c0) bn_stats_range(uk, stats + 2 * c0, x, batch, channels, hw, c0, c1);
    }
    return LSK_OK;
}

lsk_status lsk_batchnorm_stats_merge(double *stats, const double *parts, size_t nparts, const double *counts,
                                     size_t channels) {
    size_t len;
    LSK_CHECK(pairs_ok(channels) && lsk_mul_ok(nparts, 2 * channels, &len) && len <= SIZE_MAX / sizeof(double));
    if (channels == 0) return LSK_OK;
    LSK_CHECK(stats && (nparts == 0 || (parts && counts)));
    double all = 0.0;
    for (size_t p = 0; p < nparts; p++) {
        LSK_CHECK(counts[p] >= 0.0 && counts[p] <= 9007199254740992.0); /* also refuses NaN */
        all += counts[p];
    }
    LSK_CHECK(all <= 9007199254740992.0);
    /* Chan's update in part order, in the form of the forward's merge over images. Channel c
     * reads only pair c of every part before writing pair c: stats == parts is safe. */
    for (size_t c = 0; c < channels; c++) {
        double n = 0.0, mean = 0.0, m2 = 0.0;
        for (size_t p = 0; p < nparts; p++) {
            const double nb = counts[p], *s = parts + (p * channels + c) * 2;
            if (nb == 0.0) continue;
            if (n == 0.0) {
                n = nb, mean = s[0], m2 = s[1];
                continue;
            }
            const double w_new = nb / (n + nb), w_m2 = n * w_new;
            const double delta = s[0] - mean;
            mean += delta * w_new;
            m2 += s[1] + delta * delta * w_m2;
            n += nb;
        }
        stats[2 * c] = mean, stats[2 * c + 1] = m2;
    }
    return LSK_OK;
}

lsk_status lsk_batchnorm_fwd_apply(float *y, float *save_mean, float *save_invstd,
                                   float *running_mean, float *running_var,
                                   const float *x, const float *gamma, const float *beta,
                                   const double *stats, double count,
                                   size_t batch, size_t channels, size_t hw,
                                   float momentum, float eps) {
    size_t total;
    LSK_CHECK(norm_sizes_ok(batch, channels, hw, &total) && pairs_ok(channels));
    LSK_CHECK(eps >= 0.0f && eps <= 1e30f && momentum >= -1e30f && momentum <= 1e30f); /* finite, eps >= 0 */
    LSK_CHECK(count_ok(count, batch, hw));
    if (channels == 0) return LSK_OK;
    LSK_CHECK(stats && save_mean && save_invstd && gamma && beta && (total == 0 || (y && x)));
    const lsk_norm_ukernels *uk = norm_ukernels();
    const int nt = norm_threads(total, channels);
    int oom = 0;
    (void)nt;
#pragma omp parallel num_threads(nt) reduction(| : oom)
    {
        size_t c0, c1;
        my_channels(channels, &c0, &c1);
        const size_t nc = c1 - c0;
        float *scale = total ? (float *)lsk_scratch(LSK_SCRATCH_MISC, (nc ? nc : 1) * sizeof(float)) : NULL;
        if (total && !scale) {
            oom = 1;
        } else if (nc > 0) {
            bn_fwd_finish(stats + 2 * c0, scale, save_mean, save_invstd, running_mean, running_var, gamma, count,
                          c0, c1, momentum, eps);
            if (total) bn_fwd_apply_range(uk, y, x, stats + 2 * c0, scale, beta, batch, channels, hw, c0, c1, 0);
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

/* lsk_batchnorm_bwd, and with relu 1 lsk_batchnorm_relu_bwd (relu_y: the forward's output). */
static lsk_status bn_bwd(float *dx, float *dgamma, float *dbeta, const float *dy, const float *relu_y, const float *x,
                         const float *gamma, const float *save_mean, const float *save_invstd, size_t batch,
                         size_t channels, size_t hw, int accumulate, int relu) {
    size_t total;
    LSK_CHECK(norm_sizes_ok(batch, channels, hw, &total));
    LSK_CHECK(accumulate == 0 || accumulate == 1);
    if (channels == 0 || (!dx && !dgamma && !dbeta)) return LSK_OK;
    LSK_CHECK(save_mean && save_invstd && (!dx || gamma));
    LSK_CHECK(total == 0 || (dy && x && (!relu || relu_y)));
    if (!relu) relu_y = NULL;
    const lsk_norm_ukernels *uk = norm_ukernels();
    const double count = (double)batch * (double)hw;
    const int nt = norm_threads(total, channels);
    int oom = 0;
    (void)nt;
#pragma omp parallel num_threads(nt) reduction(| : oom)
    {
        size_t c0, c1;
        my_channels(channels, &c0, &c1);
        const size_t nc = c1 - c0, ns = nc ? nc : 1;
        /* per channel: sum dy, sum dy*(x - mean) (doubles), then a, b, c of dx (floats) */
        double *acc = (double *)lsk_scratch(LSK_SCRATCH_MISC, 2 * ns * sizeof(double) + 3 * ns * sizeof(float));
        if (!acc) {
            oom = 1;
        } else if (nc > 0) {
            float *coef = dx ? (float *)(acc + 2 * ns) : NULL;
            bn_bwd_reduce_range(uk, acc, dy, relu_y, x, save_mean, batch, channels, hw, c0, c1);
            bn_bwd_finish(acc, coef, dgamma, dbeta, gamma, save_invstd, count, c0, c1, accumulate);
            if (dx)
                bn_bwd_apply_range(uk, dx, dy, relu_y, x, save_mean, coef, batch, channels, hw, c0, c1, accumulate);
        }
    }
    return oom ? LSK_ERR_OUT_OF_MEMORY : LSK_OK;
}

lsk_status lsk_batchnorm_bwd(float *dx, float *dgamma, float *dbeta,
                             const float *dy, const float *x, const float *gamma,
                             const float *save_mean, const float *save_invstd,
                             size_t batch, size_t channels, size_t hw, int accumulate) {
    return bn_bwd(dx, dgamma, dbeta, dy, NULL, x, gamma, save_mean, save_invstd, batch, channels, hw, accumulate, 0);
}

lsk_status lsk_batchnorm_relu_bwd(float *dx, float *dgamma, float *dbeta,
                                  const float *dy, const float *y, const float *x, const float *gamma,
                                  const float *save_mean, const float *save_invstd,
                                  size_t batch, size_t channels, size_t hw, int accumulate) {
    return bn_bwd(dx, dgamma, dbeta, dy, y, x, gamma, save_mean, save_invstd, batch, channels, hw, accumulate, 1);
}

lsk_status lsk_batchnorm_bwd_reduce(double *sums, const float *dy, const float *x, const float *save_mean,
                                    size_t batch, size_t channels, size_t hw) {
    size_t total;
    LSK_CHECK(norm_sizes_ok(batch, channels, hw, &total) && pairs_ok(channels));
    if (channels == 0) return LSK_OK;
    LSK_CHECK(sums && save_mean && (total == 0 || (dy && x)));
    const lsk_norm_ukernels *uk = norm_ukernels();
    const int nt = norm_threads(total, channels);
    (void)nt;
#pragma omp parallel num_threads(nt)
    {
        size_t c0, c1;
        my_channels(channels, &c0, &c1);
        if (c1 > c0) bn_bwd_reduce_range(uk, sums + 2 * c0, dy, NULL, x, save_mean, batch, channels, hw, c0, c1);
    }
    return LSK_OK;
}

lsk_status lsk_batchnorm_bwd_apply(float *dx, float *dgamma, float *dbeta, const double *sums, double count,
                                   const float *dy, const float *x, const float *gamma,
                                   const float *save_mean, const float *save_invstd,
                                   size_t batch, size_t channels, size_t hw, int accumulate) {
    size_t total;
    LSK_CHECK(norm_sizes_ok(batch, channels, hw, &total) && pairs_ok(channels));
    LSK_CHECK(accumulate == 0 || accumulate == 1);
    LSK_CHECK(count_ok(count, batch, hw));
    if (channels == 0 || (!dx && !dgamma && !dbeta)) return LSK_OK;
    LSK_CHECK(sums && save_mean && save_invstd && (!dx || gamma));
    LSK_CHECK(!dx || total == 0 || (dy && x));
    const lsk_norm_ukernels *uk = norm_ukernels();
    const int rows = dx && total; /* dx has local values to write */
    const int nt = norm_threads(total, channels);
    int oom = 0;
    (void)nt;
#pragma omp parallel num_threads(nt) reduction(| : oom)
    {
        size_t c0, c1;
        my_channels(channels, &c0, &c1);
        const size_t nc = c1 - c0;
        float *coef = rows ? (float *)lsk_scratch(LSK_SCRATCH_MISC, 3 * (nc ? nc : 1) * sizeof(float)) : NULL;
        if (rows && !coef) {
            oom = 1;
        } else if (nc > 0) {
            bn_bwd_finish(sums + 2 * c0, coef, dgamma, dbeta, gamma, save_invstd, count, c0, c1, accumulate);
            if (rows) bn_bwd_apply_range(uk, dx, dy, NULL, x, save_mean, coef, batch, channels, hw, c0, c1, accumulate);
        }
    }
    return oom ? LSK_ERR_OUT_OF_MEMORY : LSK_OK;
}
