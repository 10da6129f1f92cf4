/* The model and context structures of lsk_model.h (shared by model.c and context.c). */
#ifndef LSK_MODEL_INTERNAL_H
#define LSK_MODEL_INTERNAL_H

#include "runtime-internal.h"

struct lsk_model {
    rt_graph graph;
    size_t classes;
    char **class_names; /* NULL when the file has none */
    char *architecture;
};

struct lsk_model_context {
    const lsk_model *model;
    size_t max_batch;
    float **values;       /* per value: its buffer in the arena (value 0: the caller's images) */
    float *arena;         /* 64-byte aligned, inside arena_block */
    void *arena_block;
    size_t arena_bytes;
    int32_t *argmax;      /* max pooling's index output (not needed, but the kernel writes it) */
};

#endif
