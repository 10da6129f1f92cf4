/*
 * A JSON reader for the model file's header (the header is JSON so that the Swift side can
 * use Foundation's coder; the device side must not need a JSON library). Recursive descent
 * with a depth limit, every index checked against the length: a hostile header yields an
 * error, never an out-of-bounds read (fuzzed with the rest of the loader).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime-internal.h"

#define JSON_MAX_DEPTH 32

lsk_status rt_fail(rt_err *err, const char *fmt, ...) {
    if (err && err->buf && err->size > 0 && err->buf[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->buf, err->size, fmt, ap);
        va_end(ap);
    }
    return LSK_ERR_BAD_MODEL;
}

typedef struct jparser {
    const char *s;
    size_t n, pos;
    jtok *tok;
    size_t count, cap;
    rt_err *err;
} jparser;

static void skip_ws(jparser *p) {
    while (p->pos < p->n && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
}

static lsk_status new_tok(jparser *p, jt_type type, size_t *index) {
    if (p->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        jtok *t = realloc(p->tok, cap * sizeof *t);
        if (!t) return LSK_ERR_OUT_OF_MEMORY;
        p->tok = t;
        p->cap = cap;
    }
    *index = p->count++;
    p->tok[*index] = (jtok){type, p->pos, p->pos, 0, 0};
    return LSK_OK;
}

static lsk_status parse_value(jparser *p, int depth);

static lsk_status parse_string(jparser *p) {
    size_t t;
    lsk_status s = new_tok(p, JT_STRING, &t);
    if (s) return s;
    p->pos++; /* opening quote */
    p->tok[t].start = p->pos;
    while (p->pos < p->n) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c == '"') {
            p->tok[t].end = p->pos++;
            p->tok[t].next = p->count;
            return LSK_OK;
        }
        if (c < 0x20) return rt_fail(p->err, "corrupt header (control character in a string)");
        if (c == '\\') {
            if (p->pos + 1 >= p->n) break;
            p->pos += 2; /* the escape's letter; \u digits are checked when decoded */
            continue;
        }
        p->pos++;
    }
    return rt_fail(p->err, "corrupt header (unterminated string)");
}

static lsk_status parse_number(jparser *p) {
    size_t t;
    lsk_status s = new_tok(p, JT_NUMBER, &t);
    if (s) return s;
    size_t start = p->pos;
    while (p->pos < p->n && strchr("0123456789+-.eE", p->s[p->pos]) && p->s[p->pos] != '\0') p->pos++;
    if (p->pos == start) return rt_fail(p->err, "corrupt header (unexpected character at byte %zu)", start);
    p->tok[t].end = p->pos;
    p->tok[t].next = p->count;
    return LSK_OK;
}

static lsk_status parse_literal(jparser *p) {
    static const char *words[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t len = strlen(words[i]);
        if (p->n - p->pos >= len && memcmp(p->s + p->pos, words[i], len) == 0) {
            size_t t;
            lsk_status s = new_tok(p, JT_LITERAL, &t);
            if (s) return s;
            p->pos += len;
            p->tok[t].end = p->pos;
            p->tok[t].next = p->count;
            return LSK_OK;
        }
    }
    return rt_fail(p->err, "corrupt header (unexpected character at byte %zu)", p->pos);
}

static lsk_status parse_container(jparser *p, int depth, int object) {
    size_t t;
    lsk_status s = new_tok(p, object ? JT_OBJECT : JT_ARRAY, &t);
    if (s) return s;
    char close = object ? '}' : ']';
    p->pos++;
    skip_ws(p);
    if (p->pos < p->n && p->s[p->pos] == close) {
        p->pos++;
    } else {
        for (;;) {
            skip_ws(p);
            if (object) {
                if (p->pos >= p->n || p->s[p->pos] != '"') return rt_fail(p->err, "corrupt header (object key expected at byte %zu)", p->pos);
                if ((s = parse_string(p))) return s;
                skip_ws(p);
                if (p->pos >= p->n || p->s[p->pos] != ':') return rt_fail(p->err, "corrupt header (':' expected at byte %zu)", p->pos);
                p->pos++;
            }
            if ((s = parse_value(p, depth + 1))) return s;
            p->tok[t].children++;
            skip_ws(p);
            if (p->pos >= p->n) return rt_fail(p->err, "corrupt header (unterminated %s)", object ? "object" : "array");
            if (p->s[p->pos] == ',') { p->pos++; continue; }
            if (p->s[p->pos] == close) { p->pos++; break; }
            return rt_fail(p->err, "corrupt header (',' or '%c' expected at byte %zu)", close, p->pos);
        }
    }
    p->tok[t].end = p->pos;
    p->tok[t].next = p->count;
    return LSK_OK;
}

static lsk_status parse_value(jparser *p, int depth) {
    if (depth > JSON_MAX_DEPTH) return rt_fail(p->err, "corrupt header (nested too deeply)");
    skip_ws(p);
    if (p->pos >= p->n) return rt_fail(p->err, "corrupt header (value expected at its end)");
    char c = p->s[p->pos];
    if (c == '{') return parse_container(p, depth, 1);
    if (c == '[') return parse_container(p, depth, 0);
    if (c == '"') return parse_string(p);
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p);
    return parse_literal(p);
}

lsk_status rt_json_parse(jdoc *doc, const char *text, size_t length, rt_err *err) {
    jparser p = {text, length, 0, NULL, 0, 0, err};
    memset(doc, 0, sizeof *doc);
    lsk_status s = parse_value(&p, 0);
    if (s == LSK_OK) {
        skip_ws(&p);
        if (p.pos != p.n) s = rt_fail(err, "corrupt header (bytes after its end)");
    }
    if (s != LSK_OK) {
        free(p.tok);
        return s;
    }
    *doc = (jdoc){text, length, p.tok, p.count};
    return LSK_OK;
}

void rt_json_free(jdoc *doc) {
    free(doc->tok);
    memset(doc, 0, sizeof *doc);
}

/* Compares string token t with a plain ASCII key (keys of this format have no escapes). */
static int key_equals(const jdoc *doc, size_t t, const char *key) {
    size_t len = strlen(key);
    return doc->tok[t].type == JT_STRING && doc->tok[t].end - doc->tok[t].start == len &&
           memcmp(doc->text + doc->tok[t].start, key, len) == 0;
}

size_t rt_json_get(const jdoc *doc, size_t obj, const char *key) {
    if (obj >= doc->count || doc->tok[obj].type != JT_OBJECT) return 0;
    size_t t = obj + 1;
    for (size_t i = 0; i < doc->tok[obj].children && t < doc->count; i++) {
        size_t value = t + 1;
        if (value >= doc->count) return 0;
        if (key_equals(doc, t, key)) return value;
        t = doc->tok[value].next;
    }
    return 0;
}

static int hex4(const char *s, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return 0;
    }
    *out = v;
    return 1;
}

static size_t put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

char *rt_json_string(const jdoc *doc, size_t t) {
    if (t >= doc->count || doc->tok[t].type != JT_STRING) return NULL;
    const char *s = doc->text + doc->tok[t].start;
    size_t n = doc->tok[t].end - doc->tok[t].start;
    char *out = malloc(n + 1); /* decoding never lengthens: \uXXXX (6 bytes) -> at most 4 */
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] != '\\') { out[o++] = s[i++]; continue; }
        if (i + 1 >= n) goto bad;
        char e = s[i + 1];
        i += 2;
        switch (e) {
        case '"': out[o++] = '"'; break;
        case '\\': out[o++] = '\\'; break;
        case '/': out[o++] = '/'; break;
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case 'u': {
            unsigned cp;
            if (n - i < 4 || !hex4(s + i, &cp)) goto bad;
            i += 4;
            if (cp >= 0xD800 && cp < 0xDC00) { /* a surrogate pair */
                unsigned lo;
                if (n - i < 6 || s[i] != '\\' || s[i + 1] != 'u' || !hex4(s + i + 2, &lo) || lo < 0xDC00 || lo >= 0xE000) goto bad;
                i += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp < 0xE000) {
                goto bad;
            }
            if (cp == 0) goto bad; /* a NUL would cut the C string short */
            o += put_utf8(out + o, cp);
            break;
        }
        default: goto bad;
        }
    }
    out[o] = '\0';
    return out;
bad:
    free(out);
    return NULL;
}

int rt_json_uint(const jdoc *doc, size_t t, uint64_t *out) {
    if (t >= doc->count || doc->tok[t].type != JT_NUMBER) return 0;
    const char *s = doc->text + doc->tok[t].start;
    size_t n = doc->tok[t].end - doc->tok[t].start;
    if (n == 0 || n > 20) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}
