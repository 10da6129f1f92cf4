/* Scalar oracle of the shuffle family (lsk_shuffle.h): element by element from the definitions,
 * concat and split by explicit channel offsets, the backward by the inverse index map. */
#include <stdint.h>
#include "../internal/lsk_internal.h"
#include "../../include/lsk_shuffle.h"

static int ref_ok(size_t channels, size_t groups, int accumulate) {
    return groups > 0 && channels % groups == 0 && (accumulate == 0 || accumulate == 1);
}
/* A part of c channels needs a pointer when it holds data. */
#define PART(p, c) ((p) != NULL || (c) == 0 || batch == 0 || hw == 0)

/* Channel ch of the concat of (p0: c0 channels, p1) at batch b, element e. */
static const float *ref_at(const float *p0, const float *p1, size_t c0, size_t C, size_t hw, size_t b, size_t ch,
                           size_t e) {
    return ch < c0 ? &p0[(b * c0 + ch) * hw + e] : &p1[(b * (C - c0) + ch - c0) * hw + e];
}

/* out[b, k*g + i] (=|+=) in[b, i*K + k] (forward map); inverse = 1 applies the inverse map
 * out[b, i*K + k] (=|+=) in[b, k*g + i]. */
static void ref_shuffle(float *o0, float *o1, size_t oc0, const float *i0, const float *i1, size_t ic0,
                        size_t batch, size_t C, size_t hw, size_t g, int inverse, int accumulate) {
    const size_t K = C / g;
    for (size_t b = 0; b < batch; b++)
        for (size_t i = 0; i < g; i++)
            for (size_t k = 0; k < K; k++) {
                const size_t grouped = i * K + k, shuffled = k * g + i;
                const size_t oc = inverse ? grouped : shuffled, ic = inverse ? shuffled : grouped;
                for (size_t e = 0; e < hw; e++) {
                    float *d = (float *)ref_at(o0, o1, oc0, C, hw, b, oc, e);
                    const float v = *ref_at(i0, i1, ic0, C, hw, b, ic, e);
                    *d = accumulate ? *d + v : v;
                }
            }
}

lsk_status lsk_ref_channel_shuffle_fwd(float *y, const float *x, size_t batch, size_t channels, size_t hw,
                                       size_t groups) {
    LSK_CHECK(ref_ok(channels, groups, 0) && PART(y, channels) && PART(x, channels));
    ref_shuffle(y, NULL, channels, x, NULL, channels, batch, channels, hw, groups, 0, 0);
    return LSK_OK;
}
lsk_status lsk_ref_channel_shuffle_bwd(float *dx, const float *dy, size_t batch, size_t channels, size_t hw,
                                       size_t groups, int accumulate) {
    LSK_CHECK(ref_ok(channels, groups, accumulate) && PART(dx, channels) && PART(dy, channels));
    ref_shuffle(dx, NULL, channels, dy, NULL, channels, batch, channels, hw, groups, 1, accumulate);
    return LSK_OK;
}
lsk_status lsk_ref_concat_shuffle_fwd(float *y, const float *a, const float *b, size_t batch, size_t ca, size_t cb,
                                      size_t hw, size_t groups) {
    LSK_CHECK(ref_ok(ca + cb, groups, 0) && PART(y, ca + cb) && PART(a, ca) && PART(b, cb));
    ref_shuffle(y, NULL, ca + cb, a, b, ca, batch, ca + cb, hw, groups, 0, 0);
    return LSK_OK;
}
lsk_status lsk_ref_concat_shuffle_bwd(float *da, float *db, const float *dy, size_t batch, size_t ca, size_t cb,
                                      size_t hw, size_t groups, int accumulate) {
    LSK_CHECK(ref_ok(ca + cb, groups, accumulate) && PART(dy, ca + cb) && PART(da, ca) && PART(db, cb));
    ref_shuffle(da, db, ca, dy, NULL, ca + cb, batch, ca + cb, hw, groups, 1, accumulate);
    return LSK_OK;
}
lsk_status lsk_ref_shuffle_split_fwd(float *y1, float *y2, const float *x, size_t batch, size_t c1, size_t c2,
                                     size_t hw, size_t groups) {
    LSK_CHECK(ref_ok(c1 + c2, groups, 0) && PART(x, c1 + c2) && PART(y1, c1) && PART(y2, c2));
    ref_shuffle(y1, y2, c1, x, NULL, c1 + c2, batch, c1 + c2, hw, groups, 0, 0);
    return LSK_OK;
}
lsk_status lsk_ref_shuffle_split_bwd(float *dx, const float *dy1, const float *dy2, size_t batch, size_t c1,
                                     size_t c2, size_t hw, size_t groups, int accumulate) {
    LSK_CHECK(ref_ok(c1 + c2, groups, accumulate) && PART(dx, c1 + c2) && PART(dy1, c1) && PART(dy2, c2));
    ref_shuffle(dx, NULL, c1 + c2, dy1, dy2, c1, batch, c1 + c2, hw, groups, 1, accumulate);
    return LSK_OK;
}
