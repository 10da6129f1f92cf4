/*
 * lsk_model.h: loading a model file and querying it. The graph is built in graph.c, run in
 * context.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime-internal.h"
#include "model-internal.h"

void lsk_model_free(lsk_model *m) {
    if (!m) return;
    rt_graph_free(&m->graph);
    for (size_t i = 0; i < m->classes; i++) free(m->class_names ? m->class_names[i] : NULL);
    free(m->class_names);
    free(m->architecture);
    free(m);
}

static int parse_count(const char *s, size_t *out) {
    if (!s || !*s || strlen(s) > 9) return 0;
    size_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return 0;
        v = v * 10 + (size_t)(*s - '0');
    }
    *out = v;
    return v > 0;
}

static lsk_status load_from_archive(lsk_model *m, const rt_archive *a, rt_err *err) {
    const char *kind = rt_archive_meta(a, "kind");
    if (!kind || strcmp(kind, "model") != 0)
        return rt_fail(err, kind && strcmp(kind, "checkpoint") == 0
                                ? "a training checkpoint, not an exported model (run lsskd export on it first)"
                                : "not an exported model (no kind=model entry)");
    const char *graph = rt_archive_meta(a, "runtime_graph");
    if (!graph) return rt_fail(err, "the file has no runtime graph (exported by an lsskd older than 0.6: export it again)");
    const char *arch = rt_archive_meta(a, "model");
    m->architecture = malloc(strlen(arch ? arch : "unknown") + 1);
    if (!m->architecture) return LSK_ERR_OUT_OF_MEMORY;
    strcpy(m->architecture, arch ? arch : "unknown");
    size_t classes, channels, image;
    if (!parse_count(rt_archive_meta(a, "classes"), &classes) || !parse_count(rt_archive_meta(a, "in_channels"), &channels) ||
        !parse_count(rt_archive_meta(a, "image_size"), &image))
        return rt_fail(err, "bad classes, in_channels or image_size entry");
    lsk_status s = rt_graph_build(&m->graph, graph, a, err);
    if (s) return s;
    if ((s = rt_graph_prepare(&m->graph))) return s;
    rt_shape in = m->graph.shapes[0], out = m->graph.shapes[m->graph.output];
    if (in.c != channels || in.h != image || in.w != image)
        return rt_fail(err, "the graph's input (%zu x %zu x %zu) is not the model's (%zu x %zu x %zu)", in.c, in.h, in.w, channels, image, image);
    if (out.c != classes || out.h != 1 || out.w != 1)
        return rt_fail(err, "the graph's output is not %zu logits", classes);
    m->classes = classes;
    const char *names = rt_archive_meta(a, "class_names");
    if (names) {
        m->class_names = calloc(classes, sizeof(char *));
        if (!m->class_names) return LSK_ERR_OUT_OF_MEMORY;
        const char *p = names;
        for (size_t i = 0; i < classes; i++) {
            const char *eol = strchr(p, '\n');
            size_t n = eol ? (size_t)(eol - p) : strlen(p);
            if (!eol && i + 1 < classes) return rt_fail(err, "class_names lists fewer names than %zu classes", classes);
            m->class_names[i] = malloc(n + 1);
            if (!m->class_names[i]) return LSK_ERR_OUT_OF_MEMORY;
            memcpy(m->class_names[i], p, n);
            m->class_names[i][n] = '\0';
            p = eol ? eol + 1 : p + n;
        }
        if (strchr(names, '\0') != p) return rt_fail(err, "class_names lists more names than %zu classes", classes);
    }
    return LSK_OK;
}

lsk_status lsk_model_load_memory(lsk_model **model, const void *bytes, size_t size, char *err_buf, size_t err_size) {
    if (err_buf && err_size) err_buf[0] = '\0';
    rt_err err = {err_buf, err_size};
    if (!model) return LSK_ERR_INVALID_ARGUMENT;
    *model = NULL;
    if (!bytes && size) return LSK_ERR_INVALID_ARGUMENT;
    lsk_model *m = calloc(1, sizeof *m);
    if (!m) return LSK_ERR_OUT_OF_MEMORY;
    rt_archive a;
    lsk_status s = rt_archive_parse(&a, bytes ? bytes : (const void *)"", size, &err);
    if (s == LSK_OK) {
        s = load_from_archive(m, &a, &err);
        rt_archive_free(&a);
    }
    if (s != LSK_OK) {
        if (s == LSK_ERR_OUT_OF_MEMORY) rt_fail(&err, "out of memory");
        lsk_model_free(m);
        return s;
    }
    *model = m;
    return LSK_OK;
}

lsk_status lsk_model_load_file(lsk_model **model, const char *path, char *err_buf, size_t err_size) {
    if (err_buf && err_size) err_buf[0] = '\0';
    if (!model || !path) return LSK_ERR_INVALID_ARGUMENT;
    *model = NULL;
    rt_err err = {err_buf, err_size};
    FILE *f = fopen(path, "rb");
    if (!f) {
        rt_fail(&err, "%s: %s", path, strerror(errno));
        return LSK_ERR_IO;
    }
    uint8_t *bytes = NULL;
    size_t size = 0, cap = 0;
    for (;;) {
        if (size == cap) {
            size_t next = cap ? cap * 2 : 1 << 16;
            uint8_t *b = realloc(bytes, next);
            if (!b) {
                free(bytes);
                fclose(f);
                rt_fail(&err, "%s: out of memory", path);
                return LSK_ERR_OUT_OF_MEMORY;
            }
            bytes = b;
            cap = next;
        }
        size_t got = fread(bytes + size, 1, cap - size, f);
        size += got;
        if (got == 0) break;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(bytes);
        rt_fail(&err, "%s: read error", path);
        return LSK_ERR_IO;
    }
    char msg[512];
    lsk_status s = lsk_model_load_memory(model, bytes, size, msg, sizeof msg);
    if (s != LSK_OK && err_buf && err_size) snprintf(err_buf, err_size, "%s: %s", path, msg);
    free(bytes);
    return s;
}

void lsk_model_input_shape(const lsk_model *m, size_t *c, size_t *h, size_t *w) {
    rt_shape in = m->graph.shapes[0];
    if (c) *c = in.c;
    if (h) *h = in.h;
    if (w) *w = in.w;
}

size_t lsk_model_classes(const lsk_model *m) { return m->classes; }

const char *lsk_model_class_name(const lsk_model *m, size_t i) {
    return m->class_names && i < m->classes ? m->class_names[i] : NULL;
}

const char *lsk_model_architecture(const lsk_model *m) { return m->architecture; }
size_t lsk_model_weight_bytes(const lsk_model *m) { return m->graph.weight_bytes; }
size_t lsk_model_node_count(const lsk_model *m) { return m->graph.node_count; }
