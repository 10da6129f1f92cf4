/*
 * The LSSKD archive container (docs/model-format.md), read on the device side: the same
 * checks as the Swift reader (Sources/LSSKDTrain/ArchiveLayout.swift), in C.
 *
 *   bytes 0-7    "LSSKDARC"
 *   bytes 8-11   format version, uint32 little-endian (the runtime reads 2)
 *   bytes 12-15  CRC-32 of the header bytes
 *   bytes 16-23  header length L, uint64 little-endian
 *   bytes 24..   header: JSON {"metadata": {string: string}, "tensors": [{"name", "shape",
 *                "offset", "count", "crc32"}], "dataBytes": D}
 *   data         starts at the first multiple of 64 at or after 24 + L, D bytes, ends the file;
 *                tensor values are float32 little-endian at data + offset, each with its CRC-32.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime-internal.h"

uint32_t rt_crc32(const uint8_t *bytes, size_t n) {
    uint32_t table[256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) c = table[(c ^ bytes[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static uint64_t le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void rt_archive_free(rt_archive *a) {
    for (size_t i = 0; i < a->meta_count; i++) {
        free(a->meta_keys[i]);
        free(a->meta_values[i]);
    }
    free(a->meta_keys);
    free(a->meta_values);
    for (size_t i = 0; i < a->tensor_count; i++) free(a->tensors[i].name);
    free(a->tensors);
    memset(a, 0, sizeof *a);
}

const char *rt_archive_meta(const rt_archive *a, const char *key) {
    for (size_t i = 0; i < a->meta_count; i++)
        if (strcmp(a->meta_keys[i], key) == 0) return a->meta_values[i];
    return NULL;
}

const rt_tensor *rt_archive_tensor(const rt_archive *a, const char *name) {
    for (size_t i = 0; i < a->tensor_count; i++)
        if (strcmp(a->tensors[i].name, name) == 0) return &a->tensors[i];
    return NULL;
}

static lsk_status read_metadata(rt_archive *a, const jdoc *doc, size_t obj, rt_err *err) {
    if (!obj || doc->tok[obj].type != JT_OBJECT) return rt_fail(err, "corrupt header (no metadata object)");
    size_t n = doc->tok[obj].children;
    a->meta_keys = calloc(n ? n : 1, sizeof(char *));
    a->meta_values = calloc(n ? n : 1, sizeof(char *));
    if (!a->meta_keys || !a->meta_values) return LSK_ERR_OUT_OF_MEMORY;
    size_t t = obj + 1;
    for (size_t i = 0; i < n; i++) {
        size_t v = t + 1;
        if (v >= doc->count || doc->tok[v].type != JT_STRING) return rt_fail(err, "corrupt header (a metadata value is not a string)");
        a->meta_keys[i] = rt_json_string(doc, t);
        a->meta_values[i] = rt_json_string(doc, v);
        a->meta_count = i + 1;
        if (!a->meta_keys[i] || !a->meta_values[i]) return rt_fail(err, "corrupt header (bad string in the metadata)");
        t = doc->tok[v].next;
    }
    return LSK_OK;
}

static lsk_status read_tensor(rt_tensor *out, const jdoc *doc, size_t e, const uint8_t *data, uint64_t data_bytes,
                              rt_err *err) {
    if (doc->tok[e].type != JT_OBJECT) return rt_fail(err, "corrupt header (a tensor entry is not an object)");
    size_t name = rt_json_get(doc, e, "name"), shape = rt_json_get(doc, e, "shape");
    size_t offset = rt_json_get(doc, e, "offset"), count = rt_json_get(doc, e, "count"), crc = rt_json_get(doc, e, "crc32");
    if (!name || !shape || !offset || !count || !crc) return rt_fail(err, "corrupt header (a tensor entry lacks a field)");
    out->name = rt_json_string(doc, name);
    if (!out->name) return rt_fail(err, "corrupt header (bad tensor name)");
    if (doc->tok[shape].type != JT_ARRAY || doc->tok[shape].children > 8)
        return rt_fail(err, "tensor %s: bad shape", out->name);
    uint64_t product = 1;
    out->rank = doc->tok[shape].children;
    for (size_t i = 0, t = shape + 1; i < out->rank; i++, t = doc->tok[t].next) {
        uint64_t d;
        if (t >= doc->count || !rt_json_uint(doc, t, &d) || d > ((uint64_t)1 << 40)) return rt_fail(err, "tensor %s: bad shape", out->name);
        if (d != 0 && product > UINT64_MAX / d) return rt_fail(err, "tensor %s: bad shape", out->name);
        product *= d;
        out->dims[i] = (size_t)d;
    }
    uint64_t off, cnt, want;
    if (!rt_json_uint(doc, offset, &off) || !rt_json_uint(doc, count, &cnt) || !rt_json_uint(doc, crc, &want) || want > UINT32_MAX)
        return rt_fail(err, "tensor %s: bad offset, count or checksum", out->name);
    if (cnt != product) return rt_fail(err, "tensor %s: shape does not hold %llu values", out->name, (unsigned long long)cnt);
    if (cnt > data_bytes / 4 || off > data_bytes - cnt * 4)
        return rt_fail(err, "truncated: tensor %s runs past the end of the file", out->name);
    out->count = (size_t)cnt;
    out->data = data + off;
    if (rt_crc32(out->data, out->count * 4) != (uint32_t)want)
        return rt_fail(err, "tensor %s is damaged (checksum mismatch)", out->name);
    return LSK_OK;
}

lsk_status rt_archive_parse(rt_archive *a, const uint8_t *bytes, size_t size, rt_err *err) {
    memset(a, 0, sizeof *a);
    if (size < 24 || memcmp(bytes, "LSSKDARC", 8) != 0)
        return rt_fail(err, size < 24 ? "not an LSSKD model file (too short: %zu bytes)" : "not an LSSKD model file (bad magic number)", size);
    uint32_t version = le32(bytes + 8);
    if (version != 2)
        return rt_fail(err, "model file format version %u is not supported (the runtime reads version 2: re-export the model with lsskd export)", version);
    uint32_t header_crc = le32(bytes + 12);
    uint64_t header_len = le64(bytes + 16);
    if (header_len > size - 24) return rt_fail(err, "truncated (header cut short)");
    const uint8_t *header = bytes + 24;
    if (rt_crc32(header, (size_t)header_len) != header_crc) return rt_fail(err, "corrupt header (checksum mismatch)");
    size_t data_start = (24 + (size_t)header_len + 63) / 64 * 64;

    jdoc doc;
    lsk_status s = rt_json_parse(&doc, (const char *)header, (size_t)header_len, err);
    if (s) return s;
    uint64_t data_bytes;
    size_t db = rt_json_get(&doc, 0, "dataBytes");
    if (!db || !rt_json_uint(&doc, db, &data_bytes)) { s = rt_fail(err, "corrupt header (no data size)"); goto done; }
    if (data_start > size || data_bytes != size - data_start) {
        s = rt_fail(err, data_start > size || data_bytes > size - data_start ? "truncated: %zu bytes, the header describes more"
                                                                            : "%zu bytes, unexpected bytes after the end of the data", size);
        goto done;
    }
    if ((s = read_metadata(a, &doc, rt_json_get(&doc, 0, "metadata"), err))) goto done;
    size_t list = rt_json_get(&doc, 0, "tensors");
    if (!list || doc.tok[list].type != JT_ARRAY) { s = rt_fail(err, "corrupt header (no tensor list)"); goto done; }
    size_t n = doc.tok[list].children;
    a->tensors = calloc(n ? n : 1, sizeof *a->tensors);
    if (!a->tensors) { s = LSK_ERR_OUT_OF_MEMORY; goto done; }
    for (size_t i = 0, t = list + 1; i < n; i++, t = doc.tok[t].next) {
        a->tensor_count = i + 1;
        if ((s = read_tensor(&a->tensors[i], &doc, t, bytes + data_start, data_bytes, err))) goto done;
        for (size_t j = 0; j < i; j++)
            if (strcmp(a->tensors[j].name, a->tensors[i].name) == 0) { s = rt_fail(err, "tensor %s is listed twice", a->tensors[i].name); goto done; }
    }
done:
    rt_json_free(&doc);
    if (s) rt_archive_free(a);
    return s;
}
