/*
 * Internal pieces of the inference runtime (lsk_model.h): the model-file container reader,
 * a JSON reader for its header, the graph. Not installed.
 */
#ifndef LSK_RUNTIME_INTERNAL_H
#define LSK_RUNTIME_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "../../include/lsk_model.h"

/* ---- errors ---- */

/* A message buffer: the first failure's text (later ones are dropped). */
typedef struct rt_err {
    char *buf;
    size_t size;
} rt_err;

/* Formats the message into err (if any) and returns LSK_ERR_BAD_MODEL. */
lsk_status rt_fail(rt_err *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---- CRC-32 (zlib's: the gzip polynomial, reflected), written here so that the runtime
 * needs no zlib on the device; checked against zlib's values in the tests. ---- */
uint32_t rt_crc32(const uint8_t *bytes, size_t n);

/* ---- JSON (the container header; RFC 8259 subset the writer produces: objects, arrays,
 * strings, non-negative integers, true/false/null; other numbers are parsed and kept as
 * text). Tokens are laid out depth-first; `next` is the index after a token's subtree. ---- */
typedef enum { JT_OBJECT, JT_ARRAY, JT_STRING, JT_NUMBER, JT_LITERAL } jt_type;

typedef struct jtok {
    jt_type type;
    size_t start, end;  /* bytes [start, end) of the text (strings: inside the quotes) */
    size_t children;    /* members of an object (key + value counted once) or array elements */
    size_t next;        /* index of the first token after this one's subtree */
} jtok;

typedef struct jdoc {
    const char *text;
    size_t length;
    jtok *tok;
    size_t count;
} jdoc;

/* Parses text[0, length) completely (one value, whitespace around it). Allocates doc->tok. */
lsk_status rt_json_parse(jdoc *doc, const char *text, size_t length, rt_err *err);
void rt_json_free(jdoc *doc);
/* Index of the value of `key` in object token `obj`, or 0 (token 0 is never a value). */
size_t rt_json_get(const jdoc *doc, size_t obj, const char *key);
/* The decoded UTF-8 of string token t, NUL-terminated, malloc'ed (NULL on bad escapes). */
char *rt_json_string(const jdoc *doc, size_t t);
/* A non-negative integer token that fits in uint64: 1 and *out; else 0. */
int rt_json_uint(const jdoc *doc, size_t t, uint64_t *out);

/* ---- the container ---- */
typedef struct rt_tensor {
    char *name;
    size_t dims[8];
    size_t rank;
    size_t count;
    const uint8_t *data;  /* little-endian float32 values inside the file bytes */
} rt_tensor;

typedef struct rt_archive {
    char **meta_keys, **meta_values;
    size_t meta_count;
    rt_tensor *tensors;
    size_t tensor_count;
} rt_archive;

/* Checks bytes[0, size) as an LSSKD archive of format 2: magic, version, header CRC and
 * JSON, every tensor's bounds and CRC, the exact file size. Tensors point into `bytes`. */
lsk_status rt_archive_parse(rt_archive *a, const uint8_t *bytes, size_t size, rt_err *err);
void rt_archive_free(rt_archive *a);
const char *rt_archive_meta(const rt_archive *a, const char *key);
const rt_tensor *rt_archive_tensor(const rt_archive *a, const char *name);

/* ---- the graph ---- */
typedef enum {
    OP_AFFINE,          /* y = x * scale[c] + shift[c] (normalisation, an unfolded batch norm) */
    OP_CONV,            /* y = conv(x) + bias (+ residual) */
    OP_MAXPOOL,
    OP_AVGPOOL,
    OP_GAP,             /* global average pooling: [C, H, W] -> [C, 1, 1] */
    OP_LINEAR,          /* y = x w^T + b over the flattened value */
    OP_ADD,
    OP_RELU,
    OP_CONCAT,          /* along channels */
    OP_SLICE,           /* channels [start, end) */
    OP_CONCAT_SHUFFLE,  /* channel shuffle of the concatenation of two values */
    OP_SHUFFLE
} rt_op;

#define RT_MAX_INPUTS 8

typedef struct rt_node {
    rt_op op;
    size_t out;                  /* value index (values are numbered in order; input = 0) */
    size_t in[RT_MAX_INPUTS];
    size_t n_in;
    long residual;               /* conv: value added before the ReLU, or -1 */
    int relu;                    /* ReLU applied to the result */
    size_t kernel, stride, pad, groups, start, end;
    const float *w, *b;          /* conv weight/bias, affine scale/shift, linear weight/bias (b may be NULL) */
    const float *wino_u;         /* conv: Winograd-transformed w made at load (rt_graph_prepare), or NULL */
} rt_node;

typedef struct rt_shape {
    size_t c, h, w;
} rt_shape;

/* Parses the graph text and binds its weights (aligned float copies in `weights`), checking
 * every shape. On success g->nodes, g->shapes (one per value), g->output are set. */
typedef struct rt_graph {
    rt_node *nodes;
    size_t node_count;
    rt_shape *shapes;
    size_t value_count;
    size_t output;
    float *weights;      /* every bound tensor, 64-byte aligned, inside weight_block */
    void *weight_block;
    size_t weight_bytes;   /* the bound tensors and the prepared filters */
    void *prepared_block;  /* the Winograd filters of the nodes that have them */
} rt_graph;

lsk_status rt_graph_build(rt_graph *g, const char *text, const rt_archive *a, rt_err *err);
void rt_graph_free(rt_graph *g);
/* Transforms, once, the filters of every convolution that Winograd may run (3x3 stride 1,
 * enough channels: lsk_conv_winograd_may_pay), so that no run copies or compares weights or
 * fills a per-thread filter cache; their bytes count in weight_bytes. */
lsk_status rt_graph_prepare(rt_graph *g);

#endif /* LSK_RUNTIME_INTERNAL_H */
