/*
 * Softmax cross-entropy and softmax operators: validation, OpenMP over rows, per-ISA row
 * microkernels (kernels/loss/loss-ukernels.h). Per row (classes C, temperature T):
 *   m = max(x);  e = exp((x - m)/T), Z = sum e, St = sum t, D = sum t*(x - m)   (one pass)
 *   loss_r = -sum t*log p = St*log Z - D/T          (in double)
 *   p = e/Z;  dx = scale/(rows*T) * (p*St - t)
 * e goes to probs when the caller wants them, else to a per-thread scratch row. The row
 * losses are summed in double (per thread, then across threads).
 */
#include <math.h>
#include <stdint.h>
#include "../internal/lsk_internal.h"
#include "../../include/lsk_loss.h"
#include "../loss/loss-ukernels.h"
#include "../eltwise/eltwise-ukernels.h"

/* Below this many elements a call runs on the calling thread. */
#define LSK_LOSS_PAR_MIN ((size_t)16384)

static const lsk_loss_ukernels *loss_ukernels(lsk_isa isa) {
    switch (isa) {
#if defined(__x86_64__)
    case LSK_ISA_AVX2: return &lsk_loss_ukernels__avx2;
    case LSK_ISA_AVX512: return &lsk_loss_ukernels__avx512;
#endif
#if defined(__aarch64__)
    case LSK_ISA_NEON: return &lsk_loss_ukernels__neon;
#endif
    default: return &lsk_loss_ukernels__scalar;
    }
}

static int loss_threads(size_t n, size_t rows) {
    if (n < LSK_LOSS_PAR_MIN || rows < 2) return 1;
    const int nt = lsk_region_threads();
    return (size_t)nt > rows ? (int)rows : nt;
}

static int loss_sizes_ok(size_t rows, size_t classes, float temperature) {
    size_t n;
    return lsk_mul_ok(rows, classes, &n) && n <= SIZE_MAX / sizeof(float) && (rows == 0 || classes > 0) &&
           temperature > 0.0f && temperature <= 1e30f;
}

lsk_status lsk_softmax_xent(float *loss, float *probs, float *dlogits,
                            const float *logits, const float *targets,
                            size_t rows, size_t classes,
                            float temperature, float scale, int accumulate) {
    LSK_CHECK(loss_sizes_ok(rows, classes, temperature));
    LSK_CHECK(scale >= -1e30f && scale <= 1e30f); /* finite */
    LSK_CHECK(accumulate == 0 || accumulate == 1);
    if (rows == 0) {
        if (loss) *loss = 0.0f;
        return LSK_OK;
    }
    if (!loss && !probs && !dlogits) return LSK_OK;
    LSK_CHECK(logits && (targets || (!loss && !dlogits)));
    const lsk_isa isa = lsk_active_isa();
    const lsk_loss_ukernels *uk = loss_ukernels(isa);
    const lsk_eltwise_ukernels *ek = lsk_eltwise_ukernels_for(isa);
    const float inv_t = (float)(1.0 / (double)temperature);
    const double c = (double)scale / ((double)rows * (double)temperature);
    const int nt = loss_threads(rows * classes, rows);
    double total = 0.0;
    int oom = 0;
    (void)nt;
#pragma omp parallel num_threads(nt) reduction(+ : total) reduction(| : oom)
    {
        size_t r0 = 0, r1 = rows;
#ifdef _OPENMP
        const size_t t = (size_t)omp_get_thread_num(), T = (size_t)omp_get_num_threads();
        r0 = rows * t / T, r1 = rows * (t + 1) / T;
#endif
        float *tmp = probs ? NULL : (float *)lsk_scratch(LSK_SCRATCH_MISC, classes * sizeof(float));
        if (!probs && !tmp) {
            oom = 1;
            r1 = r0;
        }
        for (size_t r = r0; r < r1; r++) {
            const float *x = logits + r * classes, *tr = targets ? targets + r * classes : NULL;
            float *e = probs ? probs + r * classes : tmp;
            const float m = uk->rmax(classes, x);
            if (!tr) { /* probabilities only */
                const float z = uk->raddstoreexpminusmax(classes, x, m, inv_t, e);
                ek->scale(classes, 1.0f / z, e, e);
                continue;
            }
            float s[3]; /* sum e, sum t, sum t*(x - m) */
            uk->xent_reduce(classes, x, tr, m, inv_t, e, s);
            total += (double)s[1] * log((double)s[0]) - (double)s[2] / (double)temperature;
            if (dlogits)
                uk->xent_out(classes, e, tr, 1.0f / s[0], (float)(c * (double)s[1]), (float)c, probs ? e : NULL,
                             dlogits + r * classes, accumulate);
            else if (probs)
                ek->scale(classes, 1.0f / s[0], e, e);
        }
    }
    if (oom) return LSK_ERR_OUT_OF_MEMORY;
    if (loss) *loss = (float)((double)scale / (double)rows * total);
    return LSK_OK;
}

lsk_status lsk_softmax_fwd(float *probs, const float *logits, size_t rows, size_t classes, float temperature) {
    LSK_CHECK(loss_sizes_ok(rows, classes, temperature));
    if (rows == 0) return LSK_OK;
    LSK_CHECK(probs && logits);
    const lsk_isa isa = lsk_active_isa();
    const lsk_loss_ukernels *uk = loss_ukernels(isa);
    const lsk_eltwise_ukernels *ek = lsk_eltwise_ukernels_for(isa);
    const float inv_t = (float)(1.0 / (double)temperature);
    const int nt = loss_threads(rows * classes, rows);
    (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t r = 0; r < rows; r++) {
        const float *x = logits + r * classes;
        float *p = probs + r * classes;
        const float z = uk->raddstoreexpminusmax(classes, x, uk->rmax(classes, x), inv_t, p);
        ek->scale(classes, 1.0f / z, p, p);
    }
    return LSK_OK;
}

/*
 * Fused softmax-KL. Per row (student s, teacher t, temperature T):
 *   ms = max s, mt = max t                                            (rmax, twice)
 *   es = exp((s - ms)/T), et = exp((t - mt)/T), Zs, Zt, D = sum et*((t - mt) - (s - ms))  (kl_reduce)
 *   KL_r = sum pt*(log pt - log ps) = D/(T*Zt) + log Zs - log Zt     (in double)
 *   ds = c*(es/Zs - et/Zt), c = scale*T/rows                          (xent_out, e = es, t = et)
 * es and et live in a per-thread scratch of 2*classes floats.
 */
lsk_status lsk_softmax_kl(float *loss, float *dstudent, const float *student, const float *teacher,
                          size_t rows, size_t classes, float tau, float scale, int accumulate) {
    LSK_CHECK(loss_sizes_ok(rows, classes, tau));
    LSK_CHECK(scale >= -1e30f && scale <= 1e30f); /* finite */
    LSK_CHECK(accumulate == 0 || accumulate == 1);
    LSK_CHECK(classes <= SIZE_MAX / (2 * sizeof(float)));
    if (rows == 0) {
        if (loss) *loss = 0.0f;
        return LSK_OK;
    }
    if (!loss && !dstudent) return LSK_OK;
    LSK_CHECK(student && teacher);
    const lsk_loss_ukernels *uk = loss_ukernels(lsk_active_isa());
    const float inv_t = (float)(1.0 / (double)tau);
    const double c = (double)scale * (double)tau / (double)rows;
    const int nt = loss_threads(rows * classes, rows);
    double total = 0.0;
    int oom = 0;
    (void)nt;
#pragma omp parallel num_threads(nt) reduction(+ : total) reduction(| : oom)
    {
        size_t r0 = 0, r1 = rows;
#ifdef _OPENMP
        const size_t t = (size_t)omp_get_thread_num(), T = (size_t)omp_get_num_threads();
        r0 = rows * t / T, r1 = rows * (t + 1) / T;
#endif
        float *es = (float *)lsk_scratch(LSK_SCRATCH_MISC, 2 * classes * sizeof(float));
        if (!es) {
            oom = 1;
            r1 = r0;
        }
        float *et = es + classes;
        for (size_t r = r0; r < r1; r++) {
            const float *s = student + r * classes, *tr = teacher + r * classes;
            float z[3]; /* Zs, Zt, D */
            uk->kl_reduce(classes, s, tr, uk->rmax(classes, s), uk->rmax(classes, tr), inv_t, es, et, z);
            total += (double)z[2] / ((double)tau * (double)z[1]) + log((double)z[0]) - log((double)z[1]);
            if (dstudent)
                uk->xent_out(classes, es, et, 1.0f / z[0], (float)c, (float)(c / (double)z[1]), NULL,
                             dstudent + r * classes, accumulate);
        }
    }
    if (oom) return LSK_ERR_OUT_OF_MEMORY;
    if (loss) *loss = (float)((double)scale * (double)tau * (double)tau / (double)rows * total);
    return LSK_OK;
}
