/*
 * lsk_model.h: contexts (one arena per context, planned at creation) and running the graph.
 *
 * Memory plan: every value lives in a slot of the arena from the node that computes it to its
 * last reader. Slots are reused greedily (best fit among the slots whose value is dead, grown
 * when none is large enough), and a node's output never shares a slot with its inputs, so no
 * kernel runs in place over an input it is still reading.
 */
#include <stdlib.h>
#include <string.h>

#include "../../include/lsk.h"
#include "model-internal.h"
#include "../conv/conv-internal.h"

typedef struct slot {
    size_t floats;   /* size (grows while planning) */
    size_t holder;   /* value held now */
    size_t offset;
} slot;

static size_t value_floats(const rt_shape *s, size_t batch) { return batch * s->c * s->h * s->w; }

lsk_status lsk_model_context_create(lsk_model_context **out, const lsk_model *m, size_t max_batch) {
    if (!out) return LSK_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!m || max_batch == 0 || max_batch > ((size_t)1 << 20)) return LSK_ERR_INVALID_ARGUMENT;
    const rt_graph *g = &m->graph;
    size_t nv = g->value_count;
    lsk_status status = LSK_ERR_OUT_OF_MEMORY;
    size_t *last_use = malloc(nv * sizeof *last_use);
    size_t *slot_of = malloc(nv * sizeof *slot_of);
    slot *slots = malloc(nv * sizeof *slots);
    lsk_model_context *c = calloc(1, sizeof *c);
    if (!last_use || !slot_of || !slots || !c) goto done;
    c->values = calloc(nv, sizeof *c->values);
    if (!c->values) goto done;

    for (size_t v = 0; v < nv; v++) last_use[v] = 0;
    for (size_t i = 0; i < g->node_count; i++) {
        const rt_node *n = &g->nodes[i];
        for (size_t k = 0; k < n->n_in; k++) last_use[n->in[k]] = i;
        if (n->residual >= 0) last_use[n->residual] = i;
    }
    last_use[g->output] = (size_t)-1; /* read after the last node */

    size_t nslots = 0, argmax_n = 0;
    for (size_t i = 0; i < g->node_count; i++) {
        const rt_node *n = &g->nodes[i];
        size_t need = value_floats(&g->shapes[n->out], max_batch);
        size_t best = (size_t)-1;
        for (size_t s = 0; s < nslots; s++) {
            if (last_use[slots[s].holder] >= i) continue;  /* alive: read at node i or later */
            if (best == (size_t)-1) { best = s; continue; }
            /* prefer the smallest slot that fits, else the largest (which grows least) */
            int fits = slots[s].floats >= need, best_fits = slots[best].floats >= need;
            if ((fits && (!best_fits || slots[s].floats < slots[best].floats)) ||
                (!fits && !best_fits && slots[s].floats > slots[best].floats))
                best = s;
        }
        if (best == (size_t)-1) {
            best = nslots++;
            slots[best].floats = 0;
        }
        if (slots[best].floats < need) slots[best].floats = need;
        slots[best].holder = n->out;
        slot_of[n->out] = best;
        if (n->op == OP_MAXPOOL && need > argmax_n) argmax_n = need;
    }
    size_t total = 0;
    for (size_t s = 0; s < nslots; s++) {
        slots[s].offset = total;
        total += (slots[s].floats + 15) / 16 * 16;
    }
    c->arena_bytes = total * sizeof(float) + argmax_n * sizeof(int32_t);
    c->arena_block = malloc(c->arena_bytes + 64);
    if (!c->arena_block) goto done;
    c->arena = (float *)(((uintptr_t)c->arena_block + 63) & ~(uintptr_t)63);
    c->argmax = argmax_n ? (int32_t *)(c->arena + total) : NULL;
    for (size_t v = 1; v < nv; v++) c->values[v] = c->arena + slots[slot_of[v]].offset;
    c->model = m;
    c->max_batch = max_batch;

    /* One run on zeros, so that the kernels' per-thread scratch is made now, not in lsk_model_run. */
    {
        rt_shape in = g->shapes[0];
        size_t n_in = value_floats(&in, max_batch);
        float *zeros = calloc(n_in ? n_in : 1, sizeof(float));
        float *logits = malloc(max_batch * m->classes * sizeof(float));
        status = zeros && logits ? lsk_model_run(c, logits, zeros, max_batch) : LSK_ERR_OUT_OF_MEMORY;
        free(zeros);
        free(logits);
    }
done:
    free(last_use);
    free(slot_of);
    free(slots);
    if (status != LSK_OK) {
        lsk_model_context_free(c);
        return status;
    }
    *out = c;
    return LSK_OK;
}

void lsk_model_context_free(lsk_model_context *c) {
    if (!c) return;
    free(c->values);
    free(c->arena_block);
    free(c);
}

size_t lsk_model_context_arena_bytes(const lsk_model_context *c) { return c ? c->arena_bytes : 0; }

static lsk_status run_node(lsk_model_context *c, const rt_node *n, size_t batch) {
    const rt_graph *g = &c->model->graph;
    const rt_shape *xs = &g->shapes[n->in[0]], *ys = &g->shapes[n->out];
    const float *x = c->values[n->in[0]];
    float *y = c->values[n->out];
    size_t hw = xs->h * xs->w, ycount = value_floats(ys, batch);
    lsk_status s = LSK_OK;
    switch (n->op) {
    case OP_AFFINE:
        return lsk_channel_affine_fwd(y, x, n->w, n->b, batch, xs->c, hw, n->relu);
    case OP_CONV: {
        lsk_conv2d_desc d = {batch, xs->c, xs->h, xs->w, ys->c, n->kernel, n->kernel, n->stride, n->stride, n->pad, n->pad, n->groups};
        /* residual add and ReLU fused into the convolution's pass */
        const lsk_conv_epilogue ep = {n->residual >= 0 ? c->values[n->residual] : NULL, n->relu};
        return lsk_conv2d_fwd_prepared(&d, y, x, n->w, n->wino_u, n->b, &ep);
    }
    case OP_MAXPOOL:
    case OP_AVGPOOL: {
        lsk_pool2d_desc d = {batch, xs->c, xs->h, xs->w, n->kernel, n->kernel, n->stride, n->stride, n->pad, n->pad};
        s = n->op == OP_MAXPOOL ? lsk_maxpool2d_fwd(&d, y, c->argmax, x) : lsk_avgpool2d_fwd(&d, y, x);
        break;
    }
    case OP_GAP:
        s = lsk_global_avgpool_fwd(y, x, batch, xs->c, hw);
        break;
    case OP_LINEAR:
        s = lsk_linear_fwd(y, x, n->w, n->b, batch, xs->c * hw, ys->c);
        break;
    case OP_ADD:
        s = lsk_add_fwd(y, x, c->values[n->in[1]], ycount);
        break;
    case OP_RELU:
        break; /* the ReLU below, from x */
    case OP_CONCAT: {
        size_t yplane = ys->c * hw;
        for (size_t b = 0; b < batch; b++) {
            size_t at = 0;
            for (size_t k = 0; k < n->n_in; k++) {
                size_t part = g->shapes[n->in[k]].c * hw;
                memcpy(y + b * yplane + at, c->values[n->in[k]] + b * part, part * sizeof(float));
                at += part;
            }
        }
        break;
    }
    case OP_SLICE:
        for (size_t b = 0; b < batch; b++)
            memcpy(y + b * ys->c * hw, x + (b * xs->c + n->start) * hw, ys->c * hw * sizeof(float));
        break;
    case OP_CONCAT_SHUFFLE:
        s = lsk_concat_shuffle_fwd(y, x, c->values[n->in[1]], batch, xs->c, g->shapes[n->in[1]].c, hw, n->groups);
        break;
    case OP_SHUFFLE:
        s = lsk_channel_shuffle_fwd(y, x, batch, xs->c, hw, n->groups);
        break;
    }
    if (s == LSK_OK && n->relu) s = lsk_relu_fwd(y, n->op == OP_RELU ? x : y, ycount);
    return s;
}

lsk_status lsk_model_run(lsk_model_context *c, float *logits, const float *images, size_t batch) {
    if (!c || !logits || !images || batch == 0 || batch > c->max_batch) return LSK_ERR_INVALID_ARGUMENT;
    const rt_graph *g = &c->model->graph;
    c->values[0] = (float *)images; /* read only: no node writes value 0 */
    for (size_t i = 0; i < g->node_count; i++) {
        lsk_status s = run_node(c, &g->nodes[i], batch);
        if (s != LSK_OK) return s;
    }
    memcpy(logits, c->values[g->output], batch * c->model->classes * sizeof(float));
    return LSK_OK;
}
