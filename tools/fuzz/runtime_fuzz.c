/*
 * libFuzzer target over the C inference runtime's loader (include/lsk_model.h): the
 * container, its JSON header, the graph text, the weight binding and the shape checks. A
 * model that loads is also given a context and run once on zeros (the planner and every
 * kernel the graph uses, with the shapes the loader accepted) when it is small enough to run
 * quickly. A crash or an AddressSanitizer/UBSan report is a finding; LSK_ERR_BAD_MODEL is
 * the expected answer to a bad input. Built and run by tools/fuzz/run.sh:
 *   clang -fsanitize=fuzzer,address,undefined -std=c99 -Iinclude kernels/<library>/*.c tools/fuzz/runtime_fuzz.c -lm
 */
#include <stdint.h>
#include <stdlib.h>

#include "lsk_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lsk_model *m = NULL;
    char err[256];
    if (lsk_model_load_memory(&m, data, size, err, sizeof err) != LSK_OK) return 0;
    size_t c, h, w;
    lsk_model_input_shape(m, &c, &h, &w);
    if (c * h * w <= 4096 && lsk_model_node_count(m) <= 64 && lsk_model_weight_bytes(m) <= (1u << 20)) {
        lsk_model_context *ctx = NULL;
        if (lsk_model_context_create(&ctx, m, 2) == LSK_OK) lsk_model_context_free(ctx);
    }
    for (size_t i = 0; i < lsk_model_classes(m); i++) (void)lsk_model_class_name(m, i);
    lsk_model_free(m);
    return 0;
}
