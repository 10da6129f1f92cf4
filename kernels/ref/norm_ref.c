/* Scalar oracles of the batch-norm family: naive loops over NCHW, two-pass statistics,
 * every accumulation in double. Never optimised. */
#include <math.h>
#include "../internal/lsk_internal.h"
#include "../../include/lsk_norm.h"

#define X(arr, b, c, i) (arr)[((b) * channels + (c)) * hw + (i)]

lsk_status lsk_ref_batchnorm_fwd_train(float *y, float *save_mean, float *save_invstd,
                                       float *running_mean, float *running_var,
                                       const float *x, const float *gamma, const float *beta,
                                       size_t batch, size_t channels, size_t hw,
                                       float momentum, float eps) {
    LSK_CHECK(eps >= 0.0f);
    if (channels == 0) return LSK_OK;
    LSK_CHECK(batch > 0 && hw > 0);
    LSK_CHECK(y && save_mean && save_invstd && x && gamma && beta);
    const double count = (double)batch * (double)hw;
    for (size_t c = 0; c < channels; c++) {
        double sum = 0.0, sq = 0.0;
        for (size_t b = 0; b < batch; b++)
            for (size_t i = 0; i < hw; i++) sum += X(x, b, c, i);
        const double mean = sum / count;
        for (size_t b = 0; b < batch; b++)
            for (size_t i = 0; i < hw; i++) sq += (X(x, b, c, i) - mean) * (X(x, b, c, i) - mean);
        const double var = sq / count, invstd = 1.0 / sqrt(var + (double)eps);
        for (size_t b = 0; b < batch; b++)
            for (size_t i = 0; i < hw; i++)
                X(y, b, c, i) = (float)((double)gamma[c] * (X(x, b, c, i) - mean) * invstd + (double)beta[c]);
        save_mean[c] = (float)mean;
        save_invstd[c] = (float)invstd;
        if (running_mean) running_mean[c] = (float)((1.0 - momentum) * running_mean[c] + (double)momentum * mean);
        if (running_var) {
            const double unbiased = count > 1.0 ? sq / (count - 1.0) : var;
            running_var[c] = (float)((1.0 - momentum) * running_var[c] + (double)momentum * unbiased);
        }
    }
    return LSK_OK;
}

lsk_status lsk_ref_batchnorm_fwd_eval(float *y, const float *x,
                                      const float *gamma, const float *beta,
                                      const float *running_mean, const float *running_var,
                                      size_t batch, size_t channels, size_t hw, float eps) {
    LSK_CHECK(eps >= 0.0f); /* also rejects NaN */
    if (batch == 0 || channels == 0 || hw == 0) return LSK_OK;
    LSK_CHECK(y && x && gamma && beta && running_mean && running_var);
    for (size_t c = 0; c < channels; c++) {
        const double invstd = 1.0 / sqrt((double)running_var[c] + (double)eps);
        for (size_t b = 0; b < batch; b++)
            for (size_t i = 0; i < hw; i++)
                X(y, b, c, i) = (float)((double)gamma[c] * (X(x, b, c, i) - (double)running_mean[c]) * invstd +
                                        (double)beta[c]);
    }
    return LSK_OK;
}

lsk_status lsk_ref_channel_affine_fwd(float *y, const float *x, const float *scale, const float *shift,
                                      size_t batch, size_t channels, size_t hw, int relu) {
    LSK_CHECK(relu == 0 || relu == 1);
    if (batch == 0 || channels == 0 || hw == 0) return LSK_OK;
    LSK_CHECK(y && x && scale && shift);
    for (size_t b = 0; b < batch; b++)
        for (size_t c = 0; c < channels; c++)
            for (size_t i = 0; i < hw; i++) {
                const float v = (float)((double)X(x, b, c, i) * scale[c] + shift[c]);
                X(y, b, c, i) = relu && !(v > 0.0f) ? 0.0f : v;
            }
    return LSK_OK;
}

lsk_status lsk_ref_batchnorm_bwd(float *dx, float *dgamma, float *dbeta,
                                 const float *dy, const float *x, const float *gamma,
                                 const float *save_mean, const float *save_invstd,
                                 size_t batch, size_t channels, size_t hw, int accumulate) {
    LSK_CHECK(accumulate == 0 || accumulate == 1);
    if (channels == 0) return LSK_OK;
    LSK_CHECK(save_mean && save_invstd && (!dx || gamma));
    LSK_CHECK(batch * hw == 0 || (dy && x));
    const double count = (double)batch * (double)hw;
    for (size_t c = 0; c < channels; c++) {
        const double mean = save_mean[c], invstd = save_invstd[c];
        double sdy = 0.0, sdyxhat = 0.0;
        for (size_t b = 0; b < batch; b++)
            for (size_t i = 0; i < hw; i++) {
                sdy += X(dy, b, c, i);
                sdyxhat += X(dy, b, c, i) * (X(x, b, c, i) - mean) * invstd;
            }
        if (dbeta) dbeta[c] = (float)(accumulate ? dbeta[c] + sdy : sdy);
        if (dgamma) dgamma[c] = (float)(accumulate ? dgamma[c] + sdyxhat : sdyxhat);
        if (!dx) continue;
        for (size_t b = 0; b < batch; b++)
            for (size_t i = 0; i < hw; i++) {
                const double xhat = (X(x, b, c, i) - mean) * invstd;
                const double g = (double)gamma[c] * invstd / count * (count * X(dy, b, c, i) - sdy - xhat * sdyxhat);
                X(dx, b, c, i) = (float)(accumulate ? X(dx, b, c, i) + g : g);
            }
    }
    return LSK_OK;
}

/* relu(batch norm): the forward's y clamped at 0 (NaN stays NaN). */
lsk_status lsk_ref_batchnorm_relu_fwd_train(float *y, float *save_mean, float *save_invstd,
                                            float *running_mean, float *running_var,
                                            const float *x, const float *gamma, const float *beta,
                                            size_t batch, size_t channels, size_t hw,
                                            float momentum, float eps) {
    const lsk_status st = lsk_ref_batchnorm_fwd_train(y, save_mean, save_invstd, running_mean, running_var, x, gamma,
                                                      beta, batch, channels, hw, momentum, eps);
    if (st != LSK_OK || channels == 0) return st;
    for (size_t i = 0; i < batch * channels * hw; i++) y[i] = y[i] < 0.0f ? 0.0f : y[i];
    return LSK_OK;
}

/* Its backward from the definition: g = dy where y > 0, else 0; then the batch-norm backward
 * of g (the same sums and formula as lsk_ref_batchnorm_bwd, with g in place of dy). */
lsk_status lsk_ref_batchnorm_relu_bwd(float *dx, float *dgamma, float *dbeta,
                                      const float *dy, const float *y, const float *x, const float *gamma,
                                      const float *save_mean, const float *save_invstd,
                                      size_t batch, size_t channels, size_t hw, int accumulate) {
    LSK_CHECK(accumulate == 0 || accumulate == 1);
    if (channels == 0) return LSK_OK;
    LSK_CHECK(save_mean && save_invstd && (!dx || gamma));
    LSK_CHECK(batch * hw == 0 || (dy && x && y));
    const double count = (double)batch * (double)hw;
#define G(b, c, i) (X(y, b, c, i) > 0.0f ? (double)X(dy, b, c, i) : 0.0)
    for (size_t c = 0; c < channels; c++) {
        const double mean = save_mean[c], invstd = save_invstd[c];
        double sg = 0.0, sgxhat = 0.0;
        for (size_t b = 0; b < batch; b++)
            for (size_t i = 0; i < hw; i++) {
                sg += G(b, c, i);
                sgxhat += G(b, c, i) * (X(x, b, c, i) - mean) * invstd;
            }
        if (dbeta) dbeta[c] = (float)(accumulate ? dbeta[c] + sg : sg);
        if (dgamma) dgamma[c] = (float)(accumulate ? dgamma[c] + sgxhat : sgxhat);
        if (!dx) continue;
        for (size_t b = 0; b < batch; b++)
            for (size_t i = 0; i < hw; i++) {
                const double xhat = (X(x, b, c, i) - mean) * invstd;
                const double g = (double)gamma[c] * invstd / count * (count * G(b, c, i) - sg - xhat * sgxhat);
                X(dx, b, c, i) = (float)(accumulate ? X(dx, b, c, i) + g : g);
            }
    }
#undef G
    return LSK_OK;
}
