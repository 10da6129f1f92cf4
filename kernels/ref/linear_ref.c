/* Scalar oracles for the fully connected layer: direct loops, double accumulators. */
#include "../internal/lsk_internal.h"
#include "../../include/lsk_linear.h"

lsk_status lsk_ref_linear_fwd(float *y, const float *x, const float *w, const float *b,
                              size_t batch, size_t in_features, size_t out_features) {
    LSK_CHECK(y && x && w);
    for (size_t i = 0; i < batch; i++)
        for (size_t o = 0; o < out_features; o++) {
            double acc = b ? (double)b[o] : 0.0;
            for (size_t k = 0; k < in_features; k++) acc += (double)x[i * in_features + k] * (double)w[o * in_features + k];
            y[i * out_features + o] = (float)acc;
        }
    return LSK_OK;
}

lsk_status lsk_ref_linear_bwd_data(float *dx, const float *dy, const float *w,
                                   size_t batch, size_t in_features, size_t out_features, int accumulate) {
    LSK_CHECK(dx && dy && w);
    LSK_CHECK(accumulate == 0 || accumulate == 1);
    for (size_t i = 0; i < batch; i++)
        for (size_t k = 0; k < in_features; k++) {
            double acc = 0.0;
            for (size_t o = 0; o < out_features; o++) acc += (double)dy[i * out_features + o] * (double)w[o * in_features + k];
            float *p = &dx[i * in_features + k];
            *p = (float)(accumulate ? (double)*p + acc : acc);
        }
    return LSK_OK;
}

lsk_status lsk_ref_linear_bwd_weight(float *dw, float *db, const float *dy, const float *x,
                                     size_t batch, size_t in_features, size_t out_features, int accumulate) {
    LSK_CHECK(dw && dy && x);
    LSK_CHECK(accumulate == 0 || accumulate == 1);
    for (size_t o = 0; o < out_features; o++) {
        for (size_t k = 0; k < in_features; k++) {
            double acc = 0.0;
            for (size_t i = 0; i < batch; i++) acc += (double)dy[i * out_features + o] * (double)x[i * in_features + k];
            float *p = &dw[o * in_features + k];
            *p = (float)(accumulate ? (double)*p + acc : acc);
        }
        if (db) {
            double acc = 0.0;
            for (size_t i = 0; i < batch; i++) acc += dy[i * out_features + o];
            db[o] = (float)(accumulate ? (double)db[o] + acc : acc);
        }
    }
    return LSK_OK;
}
