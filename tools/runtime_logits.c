/*
 * runtime_logits.c — prints the C runtime's logits of exported models on fixed pseudo-random
 * images (batch 3, pixels in [0, 1] from a 32-bit LCG), one model per line block, so that the
 * same file can be compared across builds and machines: tools/test-c-all.sh runs it built for
 * x86-64 and for aarch64 (under qemu) and requires the same logits (<= 1e-4), and under
 * AddressSanitizer. Usage: runtime_logits MODEL.lskm [MODEL.lskm ...]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lsk_model.h"

int main(int argc, char **argv) {
    int status = 0;
    for (int a = 1; a < argc; a++) {
        char err[512];
        lsk_model *m;
        if (lsk_model_load_file(&m, argv[a], err, sizeof err) != LSK_OK) {
            fprintf(stderr, "error: %s\n", err);
            status = 1;
            continue;
        }
        size_t c, h, w, k = lsk_model_classes(m), batch = 3;
        lsk_model_input_shape(m, &c, &h, &w);
        float *x = malloc(batch * c * h * w * sizeof(float)), *y = malloc(batch * k * sizeof(float));
        uint32_t s = 12345;
        for (size_t i = 0; i < batch * c * h * w; i++) {
            s = s * 1664525u + 1013904223u;
            x[i] = (float)(s >> 8) / 16777216.0f;
        }
        lsk_model_context *ctx;
        if (lsk_model_context_create(&ctx, m, batch) != LSK_OK || lsk_model_run(ctx, y, x, batch) != LSK_OK) {
            fprintf(stderr, "error: %s: run failed\n", argv[a]);
            status = 1;
        } else {
            printf("model %s %s\n", argv[a], lsk_model_architecture(m));
            for (size_t i = 0; i < batch * k; i++) printf("%.9g%c", y[i], (i + 1) % k ? ' ' : '\n');
            lsk_model_context_free(ctx);
        }
        free(x);
        free(y);
        lsk_model_free(m);
    }
    return status;
}
