/* Scalar oracle of the fused softmax-KL (lsk_loss.h): per row, log-softmax in double. */
#include <math.h>
#include <stdlib.h>
#include <stdint.h>
#include "../internal/lsk_internal.h"
#include "../../include/lsk_loss.h"

static void ref_log_softmax(double *lp, const float *x, size_t n, double T) {
    double m = x[0], z = 0.0;
    for (size_t c = 0; c < n; c++) m = x[c] > m ? x[c] : m;
    for (size_t c = 0; c < n; c++) z += exp(((double)x[c] - m) / T);
    const double logz = log(z);
    for (size_t c = 0; c < n; c++) lp[c] = ((double)x[c] - m) / T - logz;
}

lsk_status lsk_ref_softmax_kl(float *loss, float *dstudent, const float *student, const float *teacher,
                              size_t rows, size_t classes, float tau, float scale, int accumulate) {
    LSK_CHECK(tau > 0.0f && (rows == 0 || classes > 0) && (accumulate == 0 || accumulate == 1));
    if (rows == 0) {
        if (loss) *loss = 0.0f;
        return LSK_OK;
    }
    if (!loss && !dstudent) return LSK_OK;
    LSK_CHECK(student && teacher);
    double *ls = (double *)malloc(2 * classes * sizeof(double));
    if (!ls) return LSK_ERR_OUT_OF_MEMORY;
    double *lt = ls + classes;
    const double T = tau, c = (double)scale * T / (double)rows;
    double total = 0.0;
    for (size_t r = 0; r < rows; r++) {
        ref_log_softmax(ls, student + r * classes, classes, T);
        ref_log_softmax(lt, teacher + r * classes, classes, T);
        for (size_t k = 0; k < classes; k++) {
            const double pt = exp(lt[k]), ps = exp(ls[k]);
            if (pt > 0.0) total += pt * (lt[k] - ls[k]);
            if (dstudent) {
                float *g = dstudent + r * classes + k;
                const double v = c * (ps - pt);
                *g = (float)(accumulate ? (double)*g + v : v);
            }
        }
    }
    free(ls);
    if (loss) *loss = (float)((double)scale * T * T / (double)rows * total);
    return LSK_OK;
}
