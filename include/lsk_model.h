/*
 * lsk_model.h — the inference runtime: load a model exported by `lsskd export` and run it.
 *
 * Plain C99 on top of the kernels of this library; no Swift, no other dependency.
 *
 *   lsk_model *model;
 *   lsk_model_context *ctx;
 *   if (lsk_model_load_file(&model, "student.lskm", err, sizeof err) != LSK_OK) { puts(err); ... }
 *   lsk_model_context_create(&ctx, model, 8);           // room for batches of up to 8 images
 *   lsk_model_run(ctx, logits, images, n);              // images [n, C, H, W] in [0, 1]
 *   lsk_model_context_free(ctx);
 *   lsk_model_free(model);
 *
 * Input: NCHW float images with pixel values in [0, 1] (8-bit value / 255), at the model's
 * input size (lsk_model_input_shape). The runtime applies the per-channel normalisation of
 * training, which the file stores, so callers pass raw pixels and never see the statistics.
 * Output: logits [n, classes] (no softmax; lsk_softmax_fwd of lsk_loss.h gives probabilities).
 *
 * The file format (docs/model-format.md): the LSSKD archive container (magic "LSSKDARC",
 * format 2: JSON header with a CRC-32, tensors of little-endian float32 each with its CRC-32,
 * exact file size) of kind "model", whose metadata entry "runtime_graph" lists the inference
 * graph (batch norm already folded into the convolutions at export) and whose "graph.*"
 * tensors hold its weights. Everything is checked at load: a truncated, corrupt or
 * foreign file, an unknown graph version, a weight of the wrong shape, a non-finite weight
 * or a graph that reads a value before it is computed is refused with LSK_ERR_BAD_MODEL and
 * a message; no input makes the loader read out of bounds (fuzzed: tools/fuzz).
 *
 * Memory: the model owns its weights (one allocation at load; load_memory copies what it
 * needs, so the caller's buffer may be freed afterwards). A context owns one arena sized at
 * creation for `max_batch` images plus what the kernels need, and runs the graph once at
 * creation so that the kernels' per-thread scratch is in place: lsk_model_run allocates
 * nothing (unless it is called from a thread that has not run this model before, whose
 * kernel scratch is then made once). Several contexts may share one model: one context per
 * thread runs concurrently with the others. A context must not be used by two threads at once.
 */
#ifndef LSK_MODEL_H
#define LSK_MODEL_H

#include <stddef.h>
#include "lsk_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Graph format versions this build reads. */
#define LSK_MODEL_GRAPH_VERSION 1

typedef struct lsk_model lsk_model;
typedef struct lsk_model_context lsk_model_context;

/* Loads and checks a model file. On failure *model is NULL and, when err is not NULL,
 * err holds a one-line message (truncated to err_size bytes, always NUL-terminated). */
lsk_status lsk_model_load_file(lsk_model **model, const char *path, char *err, size_t err_size);

/* The same from `size` bytes in memory (copied; the caller keeps ownership of `bytes`). */
lsk_status lsk_model_load_memory(lsk_model **model, const void *bytes, size_t size, char *err, size_t err_size);

void lsk_model_free(lsk_model *model);

/* Input shape of one image: channels, height, width. */
void lsk_model_input_shape(const lsk_model *model, size_t *channels, size_t *height, size_t *width);
size_t lsk_model_classes(const lsk_model *model);
/* Name of class `index` (UTF-8), or NULL if the file has no class names or index is out of range. */
const char *lsk_model_class_name(const lsk_model *model, size_t index);
/* The architecture's name ("resnet20"). Never NULL. */
const char *lsk_model_architecture(const lsk_model *model);
/* Bytes of the model's weights in memory (with the filters transformed at load for Winograd
 * convolutions, about 4x those layers' weights), and number of graph nodes. */
size_t lsk_model_weight_bytes(const lsk_model *model);
size_t lsk_model_node_count(const lsk_model *model);

/* A context for batches of 1 to max_batch images. */
lsk_status lsk_model_context_create(lsk_model_context **ctx, const lsk_model *model, size_t max_batch);
void lsk_model_context_free(lsk_model_context *ctx);
/* Bytes of the context's arena (activations and kernel workspace it owns). */
size_t lsk_model_context_arena_bytes(const lsk_model_context *ctx);

/* logits [batch, classes] from images [batch, C, H, W] (values in [0, 1]).
 * LSK_ERR_INVALID_ARGUMENT if batch is 0 or above the context's max_batch, or a pointer is NULL. */
lsk_status lsk_model_run(lsk_model_context *ctx, float *logits, const float *images, size_t batch);

#ifdef __cplusplus
}
#endif
#endif /* LSK_MODEL_H */
