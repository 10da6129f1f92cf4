/*
 * lsk_loss.h — softmax cross-entropy against soft target rows, fused forward+backward.
 *
 *   logits, targets, probs, dlogits: [rows, classes], row-major.
 *   p = softmax(logits / temperature) per row (max-subtracted: stable for |logits| ~ 1e4)
 *   loss = scale * (1/rows) * sum_r  -sum_c targets[r,c] * log p[r,c]
 *   dlogits = d loss / d logits = scale/(rows*temperature) * (p * sum_c targets[r,c] - targets)
 * Targets need not sum to one (hard labels are one-hot rows). Any of loss, probs,
 * dlogits may be NULL to skip it. accumulate applies to dlogits only.
 * The per-row work is one pass for max, one for sum-exp, one to write outputs.
 */
#ifndef LSK_LOSS_H
#define LSK_LOSS_H

#include "lsk_common.h"

#ifdef __cplusplus
extern "C" {
#endif

lsk_status lsk_softmax_xent(float *loss, float *probs, float *dlogits,
                            const float *logits, const float *targets,
                            size_t rows, size_t classes,
                            float temperature, float scale, int accumulate);

/* probs = softmax(logits / temperature), row-wise. */
lsk_status lsk_softmax_fwd(float *probs, const float *logits, size_t rows, size_t classes,
                           float temperature);

lsk_status lsk_ref_softmax_xent(float *loss, float *probs, float *dlogits,
                                const float *logits, const float *targets,
                                size_t rows, size_t classes,
                                float temperature, float scale, int accumulate);

#ifdef __cplusplus
}
#endif
#endif /* LSK_LOSS_H */
