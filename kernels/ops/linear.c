/*
 * Fully connected layer (include/lsk_linear.h) on lsk_sgemm, which packs, picks the ISA
 * path and threads. Shapes: x [batch, in], w [out, in], b [out], y [batch, out].
 *   fwd:         y  = x w^T + b      sgemm(N, T): bias rows first, then beta = 1
 *   bwd_data:    dx = dy w           sgemm(N, N)
 *   bwd_weight:  dw = dy^T x         sgemm(T, N);  db = column sums of dy
 */
#include "../internal/lsk_internal.h"
#include "../../include/lsk_linear.h"
#include "../../include/lsk_gemm.h"

/* Validates sizes: every tensor's byte size must fit in size_t. */
static int linear_sizes_ok(size_t batch, size_t in, size_t out) {
    size_t t;
    return lsk_mul_ok(batch, in, &t) && lsk_mul_ok(t, sizeof(float), &t) &&
           lsk_mul_ok(batch, out, &t) && lsk_mul_ok(t, sizeof(float), &t) &&
           lsk_mul_ok(out, in, &t) && lsk_mul_ok(t, sizeof(float), &t);
}

lsk_status lsk_linear_fwd(float *y, const float *x, const float *w, const float *b,
                          size_t batch, size_t in_features, size_t out_features) {
    LSK_CHECK(y && x && w);
    LSK_CHECK(linear_sizes_ok(batch, in_features, out_features));
    if (batch == 0 || out_features == 0) return LSK_OK;
    if (b || in_features == 0) { /* bias rows (or the zeros of an empty sum), then y += x w^T */
        for (size_t i = 0; i < batch; i++)
            for (size_t j = 0; j < out_features; j++) y[i * out_features + j] = b ? b[j] : 0.0f;
    }
    if (in_features == 0) return LSK_OK;
    const float beta = b ? 1.0f : 0.0f;
    return lsk_sgemm(LSK_NO_TRANS, LSK_TRANS, batch, out_features, in_features, 1.0f, x, in_features, w,
                     in_features, beta, y, out_features);
}

lsk_status lsk_linear_bwd_data(float *dx, const float *dy, const float *w,
                               size_t batch, size_t in_features, size_t out_features, int accumulate) {
    LSK_CHECK(dx && dy && w);
    LSK_CHECK(accumulate == 0 || accumulate == 1);
    LSK_CHECK(linear_sizes_ok(batch, in_features, out_features));
    if (batch == 0 || in_features == 0) return LSK_OK;
    if (out_features == 0) { /* empty sum */
        if (!accumulate) for (size_t i = 0; i < batch * in_features; i++) dx[i] = 0.0f;
        return LSK_OK;
    }
    return lsk_sgemm(LSK_NO_TRANS, LSK_NO_TRANS, batch, in_features, out_features, 1.0f, dy, out_features, w,
                     in_features, accumulate ? 1.0f : 0.0f, dx, in_features);
}

lsk_status lsk_linear_bwd_weight(float *dw, float *db, const float *dy, const float *x,
                                 size_t batch, size_t in_features, size_t out_features, int accumulate) {
    LSK_CHECK(dw && dy && x);
    LSK_CHECK(accumulate == 0 || accumulate == 1);
    LSK_CHECK(linear_sizes_ok(batch, in_features, out_features));
    if (out_features == 0) return LSK_OK;
    if (db) {
        /* Column sums of dy in batch order (deterministic; the inner loop vectorises). */
        if (!accumulate) for (size_t j = 0; j < out_features; j++) db[j] = 0.0f;
        for (size_t i = 0; i < batch; i++) {
            const float *r = dy + i * out_features;
            for (size_t j = 0; j < out_features; j++) db[j] += r[j];
        }
    }
    if (in_features == 0) return LSK_OK;
    if (batch == 0) {
        if (!accumulate) for (size_t i = 0; i < out_features * in_features; i++) dw[i] = 0.0f;
        return LSK_OK;
    }
    return lsk_sgemm(LSK_TRANS, LSK_NO_TRANS, out_features, in_features, batch, 1.0f, dy, out_features, x,
                     in_features, accumulate ? 1.0f : 0.0f, dw, in_features);
}
