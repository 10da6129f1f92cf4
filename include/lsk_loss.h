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
 *
 * Fused softmax-KL (knowledge distillation, Hinton et al.), student s and teacher t logits
 * [rows, classes], temperature tau > 0:
 *   ps = softmax(s / tau), pt = softmax(t / tau) per row (max-subtracted: stable for |logits| ~ 1e4)
 *   loss     = scale * tau^2 * (1/rows) * sum_r KL(pt || ps)
 *            = scale * tau^2 * (1/rows) * sum_r sum_c pt * (log pt - log ps)
 *   dstudent = d loss / d s = scale * tau / rows * (ps - pt)       (=, or += with accumulate=1)
 * (PyTorch: F.kl_div(log_softmax(s/T), softmax(t/T), reduction="batchmean") * T*T * scale.)
 * No gradient flows to the teacher. Either of loss, dstudent may be NULL to skip it.
 * Per row: the max of each row, one fused pass for both sum-exps and the KL sum (sharing the
 * softmax-xent row microkernels), one pass to write the gradient.
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

lsk_status lsk_softmax_kl(float *loss, float *dstudent, const float *student, const float *teacher,
                          size_t rows, size_t classes, float tau, float scale, int accumulate);

lsk_status lsk_ref_softmax_kl(float *loss, float *dstudent, const float *student, const float *teacher,
                              size_t rows, size_t classes, float tau, float scale, int accumulate);

lsk_status lsk_ref_softmax_xent(float *loss, float *probs, float *dlogits,
                                const float *logits, const float *targets,
                                size_t rows, size_t classes,
                                float temperature, float scale, int accumulate);

#ifdef __cplusplus
}
#endif
#endif /* LSK_LOSS_H */
