/*
 * The inference graph of a model file: its text (metadata entry "runtime_graph", written by
 * `lsskd export`, docs/model-format.md) parsed into nodes, every value's shape inferred from
 * the input, every weight bound and its shape checked.
 *
 *   lsk-graph 1
 *   input 0 C H W
 *   affine OUT IN scale=T shift=T relu=0|1
 *   conv OUT IN weight=T [bias=T] kernel=K stride=S pad=P groups=G [residual=V] relu=0|1
 *   maxpool|avgpool OUT IN kernel=K stride=S pad=P
 *   gap OUT IN
 *   linear OUT IN weight=T [bias=T]
 *   add OUT A B relu=0|1
 *   relu OUT IN
 *   concat OUT IN1 IN2 ... relu=0|1
 *   slice OUT IN start=A end=B
 *   concat_shuffle OUT A B groups=G
 *   shuffle OUT IN groups=G
 *   output V
 *
 * Values are numbered in order of definition (OUT of each line is the next number) and a line
 * reads only earlier values, so the graph is acyclic and in execution order by construction.
 * T names the tensor "graph.T" of the file.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../include/lsk_conv.h"
#include "../../include/lsk_pool.h"
#include "../internal/lsk_internal.h"
#include "../conv/conv-internal.h"
#include "runtime-internal.h"

#define RT_MAX_DIM ((size_t)1 << 20)
#define RT_MAX_VALUE_ELEMS ((size_t)1 << 28)
#define RT_MAX_NODES 100000
#define RT_MAX_TOKENS 24

void rt_graph_free(rt_graph *g) {
    free(g->nodes);
    free(g->shapes);
    free(g->weight_block);
    free(g->prepared_block);
    memset(g, 0, sizeof *g);
}

typedef struct line_tokens {
    const char *tok[RT_MAX_TOKENS];
    size_t len[RT_MAX_TOKENS];
    size_t n;
} line_tokens;

static int tok_is(const line_tokens *t, size_t i, const char *word) {
    return i < t->n && t->len[i] == strlen(word) && memcmp(t->tok[i], word, t->len[i]) == 0;
}

/* A decimal number of up to 9 digits (every size of the format fits). */
static int parse_size(const char *s, size_t n, size_t *out) {
    if (n == 0 || n > 9) return 0;
    size_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        v = v * 10 + (size_t)(s[i] - '0');
    }
    *out = v;
    return 1;
}

/* The value of key=... among tokens [from, n), or NULL (and *len = 0). */
static const char *find_key(const line_tokens *t, size_t from, const char *key, size_t *len) {
    size_t k = strlen(key);
    for (size_t i = from; i < t->n; i++) {
        if (t->len[i] > k && memcmp(t->tok[i], key, k) == 0 && t->tok[i][k] == '=') {
            *len = t->len[i] - k - 1;
            return t->tok[i] + k + 1;
        }
    }
    *len = 0;
    return NULL;
}

typedef struct builder {
    rt_graph *g;
    const rt_archive *a;
    rt_err *err;
    size_t line;
    /* weight binding: two passes, the first counts the floats, the second copies them */
    int copying;
    size_t floats;
} builder;

static lsk_status need_size(builder *b, const line_tokens *t, size_t from, const char *key, size_t *out) {
    size_t len;
    const char *v = find_key(t, from, key, &len);
    if (!v || !parse_size(v, len, out)) return rt_fail(b->err, "graph line %zu: no valid %s=", b->line, key);
    return LSK_OK;
}

static lsk_status flag(builder *b, const line_tokens *t, size_t from, const char *key, int *out) {
    size_t len, v;
    const char *s = find_key(t, from, key, &len);
    if (!s) { *out = 0; return LSK_OK; }
    if (!parse_size(s, len, &v) || v > 1) return rt_fail(b->err, "graph line %zu: %s= must be 0 or 1", b->line, key);
    *out = (int)v;
    return LSK_OK;
}

/* Binds tensor "graph.<name of key>" of the wanted shape (rank and dims; dims[i] == 0: any).
 * The second pass copies the values into the weight block and checks they are finite. */
static lsk_status bind(builder *b, const line_tokens *t, size_t from, const char *key, int optional,
                       size_t rank, const size_t *dims, const rt_tensor **found, const float **out) {
    size_t len;
    const char *v = find_key(t, from, key, &len);
    *out = NULL;
    *found = NULL;
    if (!v) return optional ? LSK_OK : rt_fail(b->err, "graph line %zu: no %s=", b->line, key);
    char name[256];
    if (len == 0 || len + 7 >= sizeof name) return rt_fail(b->err, "graph line %zu: bad tensor name", b->line);
    memcpy(name, "graph.", 6);
    memcpy(name + 6, v, len);
    name[6 + len] = '\0';
    const rt_tensor *tensor = rt_archive_tensor(b->a, name);
    if (!tensor) return rt_fail(b->err, "graph line %zu: the file has no tensor %s", b->line, name);
    int ok = tensor->rank == rank;
    for (size_t i = 0; ok && i < rank; i++) ok = dims[i] == 0 || tensor->dims[i] == dims[i];
    if (!ok) return rt_fail(b->err, "graph line %zu: tensor %s has the wrong shape", b->line, name);
    *found = tensor;
    size_t at = (b->floats + 15) / 16 * 16; /* 64-byte aligned */
    if (b->copying) {
        float *dst = b->g->weights + at;
        for (size_t i = 0; i < tensor->count; i++) {
            const uint8_t *p = tensor->data + 4 * i;
            uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
            memcpy(&dst[i], &u, 4);
            if (!isfinite(dst[i])) return rt_fail(b->err, "tensor %s holds a value that is not a finite number", name);
        }
        *out = dst;
    }
    b->floats = at + tensor->count;
    return LSK_OK;
}

static lsk_status value_ref(builder *b, const line_tokens *t, size_t i, size_t out, size_t *v) {
    if (i >= t->n || !parse_size(t->tok[i], t->len[i], v) || *v >= out)
        return rt_fail(b->err, "graph line %zu: input %zu is not an earlier value", b->line, i);
    return LSK_OK;
}

static int shape_ok(rt_shape s) {
    size_t n;
    return s.c >= 1 && s.h >= 1 && s.w >= 1 && s.c <= RT_MAX_DIM && s.h <= RT_MAX_DIM && s.w <= RT_MAX_DIM &&
           lsk_mul_ok(s.c, s.h, &n) && lsk_mul_ok(n, s.w, &n) && n <= RT_MAX_VALUE_ELEMS;
}

static size_t elems(rt_shape s) { return s.c * s.h * s.w; }

/* One graph line (after the header): the node it defines goes to nodes[*count] in the copying pass. */
static lsk_status build_line(builder *b, const line_tokens *t, size_t *count) {
    rt_graph *g = b->g;
    lsk_status s;
    if (tok_is(t, 0, "output")) {
        size_t v;
        if (t->n != 2 || !parse_size(t->tok[1], t->len[1], &v) || v >= g->value_count)
            return rt_fail(b->err, "graph line %zu: output names no value", b->line);
        g->output = v;
        return LSK_OK;
    }
    size_t out;
    if (t->n < 2 || !parse_size(t->tok[1], t->len[1], &out) || out != g->value_count)
        return rt_fail(b->err, "graph line %zu: the value defined must be number %zu", b->line, g->value_count);
    if (out == 0) return rt_fail(b->err, "graph line %zu: value 0 is the input", b->line);
    if (*count >= RT_MAX_NODES) return rt_fail(b->err, "graph has too many nodes");
    rt_node nd;
    memset(&nd, 0, sizeof nd);
    nd.out = out;
    nd.residual = -1;
    rt_shape y = {0, 0, 0};
    /* inputs: tokens 2.. without '=' */
    for (size_t i = 2; i < t->n && !memchr(t->tok[i], '=', t->len[i]); i++) {
        if (nd.n_in == RT_MAX_INPUTS) return rt_fail(b->err, "graph line %zu: too many inputs", b->line);
        if ((s = value_ref(b, t, i, out, &nd.in[nd.n_in]))) return s;
        nd.n_in++;
    }
    size_t want_in = tok_is(t, 0, "concat") ? 0 : (tok_is(t, 0, "add") || tok_is(t, 0, "concat_shuffle")) ? 2 : 1;
    if (want_in ? nd.n_in != want_in : nd.n_in < 2) return rt_fail(b->err, "graph line %zu: wrong number of inputs", b->line);
    rt_shape x = g->shapes[nd.in[0]];
    const rt_tensor *tw, *tb;
    size_t kv = 2 + nd.n_in;
    if ((s = flag(b, t, kv, "relu", &nd.relu))) return s;

    if (tok_is(t, 0, "affine")) {
        nd.op = OP_AFFINE;
        size_t d[1] = {x.c};
        if ((s = bind(b, t, kv, "scale", 0, 1, d, &tw, &nd.w)) || (s = bind(b, t, kv, "shift", 0, 1, d, &tb, &nd.b))) return s;
        y = x;
    } else if (tok_is(t, 0, "conv")) {
        nd.op = OP_CONV;
        if ((s = need_size(b, t, kv, "kernel", &nd.kernel)) || (s = need_size(b, t, kv, "stride", &nd.stride)) ||
            (s = need_size(b, t, kv, "pad", &nd.pad)) || (s = need_size(b, t, kv, "groups", &nd.groups)))
            return s;
        if (nd.groups == 0 || x.c % nd.groups) return rt_fail(b->err, "graph line %zu: groups do not divide the input channels", b->line);
        size_t d[4] = {0, x.c / nd.groups, nd.kernel, nd.kernel};
        if ((s = bind(b, t, kv, "weight", 0, 4, d, &tw, &nd.w))) return s;
        size_t oc = tw->dims[0];
        if (oc == 0 || oc % nd.groups) return rt_fail(b->err, "graph line %zu: groups do not divide the output channels", b->line);
        size_t bd[1] = {oc};
        if ((s = bind(b, t, kv, "bias", 1, 1, bd, &tb, &nd.b))) return s;
        lsk_conv2d_desc cd = {1, x.c, x.h, x.w, oc, nd.kernel, nd.kernel, nd.stride, nd.stride, nd.pad, nd.pad, nd.groups};
        size_t oh, ow;
        if (lsk_conv2d_output_size(&cd, &oh, &ow) != LSK_OK) return rt_fail(b->err, "graph line %zu: bad convolution shape", b->line);
        y = (rt_shape){oc, oh, ow};
        size_t len;
        const char *r = find_key(t, kv, "residual", &len);
        if (r) {
            size_t rv;
            if (!parse_size(r, len, &rv) || rv >= out) return rt_fail(b->err, "graph line %zu: residual is not an earlier value", b->line);
            rt_shape rs = g->shapes[rv];
            if (rs.c != y.c || rs.h != y.h || rs.w != y.w) return rt_fail(b->err, "graph line %zu: residual of another shape", b->line);
            nd.residual = (long)rv;
        }
    } else if (tok_is(t, 0, "maxpool") || tok_is(t, 0, "avgpool")) {
        nd.op = tok_is(t, 0, "maxpool") ? OP_MAXPOOL : OP_AVGPOOL;
        if ((s = need_size(b, t, kv, "kernel", &nd.kernel)) || (s = need_size(b, t, kv, "stride", &nd.stride)) ||
            (s = need_size(b, t, kv, "pad", &nd.pad)))
            return s;
        lsk_pool2d_desc pd = {1, x.c, x.h, x.w, nd.kernel, nd.kernel, nd.stride, nd.stride, nd.pad, nd.pad};
        size_t oh, ow;
        if (lsk_pool2d_output_size(&pd, &oh, &ow) != LSK_OK) return rt_fail(b->err, "graph line %zu: bad pooling shape", b->line);
        y = (rt_shape){x.c, oh, ow};
    } else if (tok_is(t, 0, "gap")) {
        nd.op = OP_GAP;
        y = (rt_shape){x.c, 1, 1};
    } else if (tok_is(t, 0, "linear")) {
        nd.op = OP_LINEAR;
        size_t d[2] = {0, elems(x)};
        if ((s = bind(b, t, kv, "weight", 0, 2, d, &tw, &nd.w))) return s;
        size_t bd[1] = {tw->dims[0]};
        if (tw->dims[0] == 0) return rt_fail(b->err, "graph line %zu: linear layer of no outputs", b->line);
        if ((s = bind(b, t, kv, "bias", 1, 1, bd, &tb, &nd.b))) return s;
        y = (rt_shape){tw->dims[0], 1, 1};
    } else if (tok_is(t, 0, "add")) {
        nd.op = OP_ADD;
        rt_shape x2 = g->shapes[nd.in[1]];
        if (x2.c != x.c || x2.h != x.h || x2.w != x.w) return rt_fail(b->err, "graph line %zu: add of two shapes", b->line);
        y = x;
    } else if (tok_is(t, 0, "relu")) {
        nd.op = OP_RELU;
        nd.relu = 1;
        y = x;
    } else if (tok_is(t, 0, "concat")) {
        nd.op = OP_CONCAT;
        y = x;
        y.c = 0;
        for (size_t i = 0; i < nd.n_in; i++) {
            rt_shape xi = g->shapes[nd.in[i]];
            if (xi.h != x.h || xi.w != x.w) return rt_fail(b->err, "graph line %zu: concat of other sizes", b->line);
            y.c += xi.c;
        }
    } else if (tok_is(t, 0, "slice")) {
        nd.op = OP_SLICE;
        if ((s = need_size(b, t, kv, "start", &nd.start)) || (s = need_size(b, t, kv, "end", &nd.end))) return s;
        if (nd.start >= nd.end || nd.end > x.c) return rt_fail(b->err, "graph line %zu: slice outside the channels", b->line);
        y = (rt_shape){nd.end - nd.start, x.h, x.w};
    } else if (tok_is(t, 0, "concat_shuffle") || tok_is(t, 0, "shuffle")) {
        nd.op = tok_is(t, 0, "shuffle") ? OP_SHUFFLE : OP_CONCAT_SHUFFLE;
        if ((s = need_size(b, t, kv, "groups", &nd.groups))) return s;
        y = x;
        if (nd.op == OP_CONCAT_SHUFFLE) {
            rt_shape x2 = g->shapes[nd.in[1]];
            if (x2.h != x.h || x2.w != x.w) return rt_fail(b->err, "graph line %zu: concat of other sizes", b->line);
            y.c = x.c + x2.c;
        }
        if (nd.groups == 0 || y.c % nd.groups) return rt_fail(b->err, "graph line %zu: groups do not divide the channels", b->line);
    } else {
        return rt_fail(b->err, "graph line %zu: unknown operation '%.*s'", b->line, (int)t->len[0], t->tok[0]);
    }
    if (!shape_ok(y)) return rt_fail(b->err, "graph line %zu: value too large", b->line);
    g->shapes[g->value_count++] = y;
    if (b->copying) g->nodes[*count] = nd;
    (*count)++;
    return LSK_OK;
}

/* One pass over the text: pass 0 sizes the graph and the weights, pass 1 fills them. */
static lsk_status build_pass(builder *b, const char *text) {
    rt_graph *g = b->g;
    size_t count = 0;
    int have_header = 0, have_input = 0;
    g->value_count = 0;
    g->output = (size_t)-1;
    b->floats = 0;
    b->line = 0;
    const char *p = text;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        b->line++;
        line_tokens t;
        t.n = 0;
        for (size_t i = 0; i < n;) {
            while (i < n && p[i] == ' ') i++;
            if (i == n) break;
            size_t j = i;
            while (j < n && p[j] != ' ') j++;
            if (t.n == RT_MAX_TOKENS) return rt_fail(b->err, "graph line %zu: too many fields", b->line);
            t.tok[t.n] = p + i;
            t.len[t.n++] = j - i;
            i = j;
        }
        p = eol ? eol + 1 : p + n;
        if (t.n == 0) continue;
        lsk_status s;
        if (!have_header) {
            size_t version;
            if (!tok_is(&t, 0, "lsk-graph") || t.n != 2 || !parse_size(t.tok[1], t.len[1], &version))
                return rt_fail(b->err, "the runtime graph does not start with 'lsk-graph VERSION'");
            if (version != LSK_MODEL_GRAPH_VERSION)
                return rt_fail(b->err, "runtime graph version %zu is not supported (this runtime reads version %d)", version, LSK_MODEL_GRAPH_VERSION);
            have_header = 1;
        } else if (!have_input) {
            rt_shape x;
            if (!tok_is(&t, 0, "input") || t.n != 5 || !tok_is(&t, 1, "0") || !parse_size(t.tok[2], t.len[2], &x.c) ||
                !parse_size(t.tok[3], t.len[3], &x.h) || !parse_size(t.tok[4], t.len[4], &x.w) || !shape_ok(x))
                return rt_fail(b->err, "graph line %zu: 'input 0 C H W' expected", b->line);
            g->shapes[0] = x;
            g->value_count = 1;
            have_input = 1;
        } else if ((s = build_line(b, &t, &count))) {
            return s;
        }
    }
    if (!have_input) return rt_fail(b->err, "the runtime graph has no input");
    if (g->output == (size_t)-1) return rt_fail(b->err, "the runtime graph has no output line");
    g->node_count = count;
    return LSK_OK;
}

lsk_status rt_graph_build(rt_graph *g, const char *text, const rt_archive *a, rt_err *err) {
    memset(g, 0, sizeof *g);
    /* Pass 0 needs the shapes too: size them by the line count (an upper bound on values). */
    size_t lines = 1;
    for (const char *p = text; *p; p++) lines += *p == '\n';
    if (lines > RT_MAX_NODES + 8) return rt_fail(err, "graph has too many nodes");
    g->shapes = calloc(lines, sizeof *g->shapes);
    if (!g->shapes) return LSK_ERR_OUT_OF_MEMORY;
    builder b = {g, a, err, 0, 0, 0};
    lsk_status s;
    /* Pass 0 infers the shapes and measures the weights; pass 1 fills nodes and weights. */
    if ((s = build_pass(&b, text))) goto fail;
    size_t nodes = g->node_count ? g->node_count : 1;
    g->nodes = calloc(nodes, sizeof *g->nodes);
    g->weight_bytes = b.floats * sizeof(float);
    /* malloc + manual 64-byte alignment: C99 has no aligned allocation */
    g->weight_block = malloc(b.floats * sizeof(float) + 64);
    if (!g->nodes || !g->weight_block) { s = LSK_ERR_OUT_OF_MEMORY; goto fail; }
    g->weights = (float *)(((uintptr_t)g->weight_block + 63) & ~(uintptr_t)63);
    b.copying = 1;
    if ((s = build_pass(&b, text))) goto fail;
    return LSK_OK;
fail:
    rt_graph_free(g);
    return s;
}

lsk_status rt_graph_prepare(rt_graph *g) {
    size_t total = 0;
    float *at = NULL;
    for (int pass = 0; pass < 2; pass++) { /* 0: sizes, 1: transforms */
        for (size_t i = 0; i < g->node_count; i++) {
            rt_node *n = &g->nodes[i];
            if (n->op != OP_CONV) continue;
            const rt_shape *xs = &g->shapes[n->in[0]], *ys = &g->shapes[n->out];
            const lsk_conv2d_desc d = {1, xs->c, xs->h, xs->w, ys->c, n->kernel, n->kernel, n->stride, n->stride,
                                       n->pad, n->pad, n->groups};
            if (!lsk_conv_winograd_may_pay(&d)) continue;
            const size_t floats = (lsk_conv_winograd_filter_floats(ys->c, xs->c) + 15) / 16 * 16;
            if (pass == 0) {
                total += floats;
                continue;
            }
            const lsk_status s = lsk_conv_winograd_filter_prepare(at, n->w, ys->c, xs->c);
            if (s != LSK_OK) return s;
            n->wino_u = at;
            at += floats;
        }
        if (pass == 0) {
            if (total == 0) return LSK_OK;
            g->prepared_block = malloc(total * sizeof(float) + 64); /* 64-byte aligned below */
            if (!g->prepared_block) return LSK_ERR_OUT_OF_MEMORY;
            at = (float *)(((uintptr_t)g->prepared_block + 63) & ~(uintptr_t)63);
            g->weight_bytes += total * sizeof(float);
        }
    }
    return LSK_OK;
}
