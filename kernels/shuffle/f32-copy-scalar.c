/* Plane-copy microkernels, portable C: the copy is libc's memcpy (already vectorised and tuned
 * for every CPU; no prefetch, no streaming stores: copy_nt = copy), the add a plain loop the
 * compiler may vectorise. */
#include <stddef.h>
#include <string.h>
#include "shuffle-ukernels.h"

void lsk_f32_copy_ukernel_u1__scalar(size_t n, const float *x, float *y, size_t prefetch) {
    (void)prefetch;
    memcpy(y, x, n * sizeof(float));
}

void lsk_f32_vacc_ukernel_u4__scalar(size_t n, const float *x, float *y) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        y[i] += x[i];
        y[i + 1] += x[i + 1];
        y[i + 2] += x[i + 2];
        y[i + 3] += x[i + 3];
    }
    for (; i < n; i++) y[i] += x[i];
}

static void scalar_store_fence(void) {} /* plain stores only: nothing to order */

const lsk_shuffle_ukernels lsk_shuffle_ukernels__scalar = {lsk_f32_copy_ukernel_u1__scalar,
                                                           lsk_f32_copy_ukernel_u1__scalar,
                                                           lsk_f32_vacc_ukernel_u4__scalar, scalar_store_fence};
