/*
 * example_classify.c — an edge user's first program: classify image files with a model
 * exported by `lsskd export`, through the C runtime alone (include/lsk_model.h).
 *
 *   make -C kernels example                 # builds kernels/build/example_classify
 *   kernels/build/example_classify student.lskm photo.png [more.jpg ...] [--top K]
 *
 * Output per image: first line "INDEX NAME" of the top-1 class (the name is "-" when the
 * model has no class names), then the top-K classes with their probabilities. Images are
 * decoded with libpng / libjpeg (Sources/CImageCodecs/image_codecs.c), converted to the
 * model's channel count (luma for grey models, replication for colour ones) and resized to
 * its input size with the box ("area") filter of `lsskd train` / `lsskd predict`, so both
 * tools see the same pixels.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lsk_model.h"
#include "lsk_image_codecs.h"

/* Reads a whole file; NULL on failure. */
static uint8_t *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0, got;
    do {
        if (n == cap) {
            cap = cap ? 2 * cap : 1 << 16;
            uint8_t *b = realloc(buf, cap);
            if (!b) { free(buf); fclose(f); return NULL; }
            buf = b;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    *size = n;
    return buf;
}

/* Box-filter taps along one axis, as Sources/LSSKDData/Resize.swift (area). */
static void area_taps(size_t in, size_t out, size_t o, size_t *first, size_t *last, double *lo, double *hi) {
    double scale = (double)in / (double)out;
    *lo = (double)o * scale;
    *hi = (double)(o + 1) * scale;
    *first = (size_t)floor(*lo);
    if (*first > in - 1) *first = in - 1;
    *last = (size_t)ceil(*hi);
    if (*last > in) *last = in;
    if (*last < *first + 1) *last = *first + 1;
}

/* Interleaved 8-bit image -> planar floats [channels, height, width] in [0, 1]. */
static void prepare(const lsk_image *img, size_t channels, size_t height, size_t width, float *out) {
    size_t iw = (size_t)img->width, ih = (size_t)img->height, ic = (size_t)img->channels;
    /* channel conversion first (PIL's luma for RGB -> grey), planar */
    uint8_t *conv = malloc(channels * ih * iw);
    for (size_t i = 0; i < ih * iw; i++) {
        const uint8_t *p = img->pixels + i * ic;
        for (size_t c = 0; c < channels; c++) {
            uint8_t v;
            if (ic == channels) v = p[c];
            else if (ic == 1) v = p[0];
            else v = (uint8_t)((19595u * p[0] + 38470u * p[1] + 7471u * p[2] + 0x8000u) >> 16);
            conv[c * ih * iw + i] = v;
        }
    }
    /* separable box filter: rows into floats, then columns, rounded to 8 bits as in training */
    float *tmp = malloc(ih * width * sizeof(float));
    for (size_t c = 0; c < channels; c++) {
        const uint8_t *plane = conv + c * ih * iw;
        for (size_t y = 0; y < ih; y++) {
            for (size_t o = 0; o < width; o++) {
                size_t a, b;
                double lo, hi, scale = (double)iw / (double)width;
                float acc = 0; /* float sums, as the Swift resize */
                area_taps(iw, width, o, &a, &b, &lo, &hi);
                for (size_t x = a; x < b; x++) {
                    double w = (fmin(hi, (double)x + 1) - fmax(lo, (double)x)) / scale;
                    if (w > 0) acc += (float)w * (float)plane[y * iw + x];
                }
                tmp[y * width + o] = iw == width ? plane[y * iw + o] : acc;
            }
        }
        for (size_t o = 0; o < height; o++) {
            for (size_t x = 0; x < width; x++) {
                size_t a, b;
                double lo, hi, scale = (double)ih / (double)height;
                float acc = 0;
                area_taps(ih, height, o, &a, &b, &lo, &hi);
                for (size_t y = a; y < b; y++) {
                    double w = (fmin(hi, (double)y + 1) - fmax(lo, (double)y)) / scale;
                    if (w > 0) acc += (float)w * tmp[y * width + x];
                }
                if (ih == height) acc = tmp[o * width + x];
                float v = roundf(acc);
                out[(c * height + o) * width + x] = (v < 0 ? 0 : v > 255 ? 255 : v) / 255.0f;
            }
        }
    }
    free(tmp);
    free(conv);
}

int main(int argc, char **argv) {
    size_t top = 5;
    const char *model_path = NULL;
    const char *images[256];
    size_t n_images = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--top") == 0 && i + 1 < argc) top = (size_t)atoi(argv[++i]);
        else if (!model_path) model_path = argv[i];
        else if (n_images < 256) images[n_images++] = argv[i];
    }
    if (!model_path || n_images == 0) {
        fprintf(stderr, "usage: %s MODEL.lskm IMAGE [IMAGE ...] [--top K]\n", argv[0]);
        return 2;
    }
    char err[512];
    lsk_model *model;
    if (lsk_model_load_file(&model, model_path, err, sizeof err) != LSK_OK) {
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    size_t c, h, w, classes = lsk_model_classes(model);
    lsk_model_input_shape(model, &c, &h, &w);
    if (top > classes) top = classes;
    if (top < 1) top = 1;
    lsk_model_context *ctx;
    if (lsk_model_context_create(&ctx, model, 1) != LSK_OK) {
        fprintf(stderr, "error: cannot create a context\n");
        return 1;
    }
    float *x = malloc(c * h * w * sizeof(float)), *logits = malloc(classes * sizeof(float)), *p = malloc(classes * sizeof(float));
    int status = 0;
    for (size_t k = 0; k < n_images; k++) {
        size_t size;
        uint8_t *bytes = read_file(images[k], &size);
        lsk_image img = {0};
        int failed = !bytes;
        if (bytes) {
            int png = size >= 8 && memcmp(bytes, "\x89PNG", 4) == 0;
            failed = png ? lsk_image_decode_png(bytes, size, &img, err, sizeof err) : lsk_image_decode_jpeg(bytes, size, &img, err, sizeof err);
        } else {
            snprintf(err, sizeof err, "cannot read the file");
        }
        free(bytes);
        if (failed) {
            fprintf(stderr, "error: %s: %s\n", images[k], err);
            status = 1;
            continue;
        }
        prepare(&img, c, h, w, x);
        lsk_image_free(&img);
        lsk_model_run(ctx, logits, x, 1);
        float m = logits[0], sum = 0;
        for (size_t i = 1; i < classes; i++) m = logits[i] > m ? logits[i] : m;
        for (size_t i = 0; i < classes; i++) sum += p[i] = expf(logits[i] - m);
        for (size_t i = 0; i < classes; i++) p[i] /= sum;
        for (size_t r = 0; r < top; r++) {
            size_t best = 0;
            for (size_t i = 1; i < classes; i++) if (p[i] > p[best]) best = i;
            const char *name = lsk_model_class_name(model, best);
            if (r == 0) printf("%zu %s\n", best, name ? name : "-");
            printf("  %s  %zu %-20s %.4f\n", images[k], best, name ? name : "-", p[best]);
            p[best] = -1;
        }
    }
    free(x);
    free(logits);
    free(p);
    lsk_model_context_free(ctx);
    lsk_model_free(model);
    return status;
}
