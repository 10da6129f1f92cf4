/* Scalar oracles of the eltwise family: naive loops, double arithmetic, never optimised. */
#include <stdint.h>
#include "../internal/lsk_internal.h"
#include "../../include/lsk_eltwise.h"

lsk_status lsk_ref_relu_fwd(float *y, const float *x, size_t n) {
    if (n == 0) return LSK_OK;
    LSK_CHECK(y && x);
    for (size_t i = 0; i < n; i++) y[i] = x[i] < 0.0f ? 0.0f : x[i]; /* NaN stays NaN */
    return LSK_OK;
}

lsk_status lsk_ref_relu_bwd(float *dx, const float *dy, const float *y, size_t n, int accumulate) {
    LSK_CHECK(accumulate == 0 || accumulate == 1);
    if (n == 0) return LSK_OK;
    LSK_CHECK(dx && dy && y);
    for (size_t i = 0; i < n; i++) {
        const double g = y[i] > 0.0f ? (double)dy[i] : 0.0;
        dx[i] = (float)(accumulate ? (double)dx[i] + g : g);
    }
    return LSK_OK;
}

lsk_status lsk_ref_add_fwd(float *y, const float *a, const float *b, size_t n) {
    if (n == 0) return LSK_OK;
    LSK_CHECK(y && a && b);
    for (size_t i = 0; i < n; i++) y[i] = (float)((double)a[i] + (double)b[i]);
    return LSK_OK;
}

lsk_status lsk_ref_add_relu_fwd(float *y, const float *a, const float *b, size_t n) {
    if (n == 0) return LSK_OK;
    LSK_CHECK(y && a && b);
    for (size_t i = 0; i < n; i++) {
        const float s = (float)((double)a[i] + (double)b[i]);
        y[i] = s < 0.0f ? 0.0f : s; /* NaN stays NaN */
    }
    return LSK_OK;
}

lsk_status lsk_ref_axpy(float *y, const float *x, float alpha, size_t n) {
    if (n == 0) return LSK_OK;
    LSK_CHECK(y && x);
    for (size_t i = 0; i < n; i++) y[i] = (float)((double)y[i] + (double)alpha * (double)x[i]);
    return LSK_OK;
}

lsk_status lsk_ref_sgd_step(float *param, float *velocity, const float *grad, size_t n,
                            float lr, float momentum, float weight_decay, int nesterov) {
    LSK_CHECK(lr >= 0.0f && momentum >= 0.0f && weight_decay >= 0.0f);
    LSK_CHECK(nesterov == 0 || nesterov == 1);
    if (n == 0) return LSK_OK;
    LSK_CHECK(param && grad && (velocity || momentum == 0.0f));
    for (size_t i = 0; i < n; i++) {
        const double p = param[i];
        const double g = (double)grad[i] + (double)weight_decay * p;
        double step = g;
        if (momentum != 0.0f) {
            const double v = (double)momentum * (double)velocity[i] + g;
            velocity[i] = (float)v;
            step = nesterov ? g + (double)momentum * v : v;
        }
        param[i] = (float)(p - (double)lr * step);
    }
    return LSK_OK;
}
