/* Scalar oracle of the loss family: per row, max-subtracted softmax in double. */
#include <math.h>
#include <stdint.h>
#include "../internal/lsk_internal.h"
#include "../../include/lsk_loss.h"

lsk_status lsk_ref_softmax_xent(float *loss, float *probs, float *dlogits,
                                const float *logits, const float *targets,
                                size_t rows, size_t classes,
                                float temperature, float scale, int accumulate) {
    LSK_CHECK(temperature > 0.0f && (rows == 0 || classes > 0) && (accumulate == 0 || accumulate == 1));
    if (rows == 0) {
        if (loss) *loss = 0.0f;
        return LSK_OK;
    }
    if (!loss && !probs && !dlogits) return LSK_OK;
    LSK_CHECK(logits && (targets || (!loss && !dlogits)));
    const double T = temperature;
    double total = 0.0;
    for (size_t r = 0; r < rows; r++) {
        const float *x = logits + r * classes, *t = targets ? targets + r * classes : NULL;
        double m = x[0], z = 0.0, st = 0.0;
        for (size_t c = 0; c < classes; c++) m = x[c] > m ? x[c] : m;
        for (size_t c = 0; c < classes; c++) z += exp(((double)x[c] - m) / T);
        const double logz = log(z);
        if (t)
            for (size_t c = 0; c < classes; c++) {
                const double logp = ((double)x[c] - m) / T - logz;
                total -= (double)t[c] * logp;
                st += t[c];
            }
        for (size_t c = 0; c < classes; c++) {
            const double p = exp(((double)x[c] - m) / T - logz);
            if (probs) probs[r * classes + c] = (float)p;
            if (dlogits) {
                const double g = (double)scale / ((double)rows * T) * (p * st - (double)t[c]);
                dlogits[r * classes + c] = (float)(accumulate ? dlogits[r * classes + c] + g : g);
            }
        }
    }
    if (loss) *loss = (float)((double)scale / (double)rows * total);
    return LSK_OK;
}
