/* PNG and JPEG decoding (and encoding, for tests and tools) through Debian's libpng
 * (libpng-dev, 1.6 simplified API) and libjpeg-turbo (libjpeg62-turbo-dev).
 *
 * Plain C so that libjpeg's setjmp/longjmp error handling never crosses a Swift frame.
 * Every function reports failure with a nonzero return and a NUL-terminated message in
 * `err` (at most `err_size` bytes, truncated); nothing is allocated on failure.
 */
#ifndef LSK_IMAGE_CODECS_H
#define LSK_IMAGE_CODECS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Decoders refuse images with more pixels than this (a corrupt or hostile header must
 * not make them allocate gigabytes). */
#define LSK_IMAGE_MAX_PIXELS ((size_t)1 << 26)

/* An 8-bit image, interleaved: pixels[(y * width + x) * channels + c].
 * channels is 1 (grey) or 3 (RGB); alpha is dropped. Free with lsk_image_free. */
typedef struct lsk_image {
  uint8_t *pixels; /* [height, width, channels] */
  int32_t width;
  int32_t height;
  int32_t channels;
} lsk_image;

/* Decodes a PNG held in memory (any bit depth, palette, grey, RGB, with or without
 * alpha; gamma handled by libpng's simplified API, 16-bit data assumed sRGB). Output is
 * grey if the file is greyscale, RGB otherwise; alpha is dropped, not composited. */
int lsk_image_decode_png(const uint8_t *data, size_t size, lsk_image *out, char *err, size_t err_size);

/* Decodes a baseline or progressive JPEG held in memory. Grey files decode to 1 channel,
 * YCbCr/RGB files to RGB, CMYK/YCCK files to RGB (Adobe inverted CMYK handled).
 * Data missing from the stream (a truncated file, a segment cut short) is an error;
 * libjpeg's other recoverable warnings (extraneous bytes) are tolerated. */
int lsk_image_decode_jpeg(const uint8_t *data, size_t size, lsk_image *out, char *err, size_t err_size);

/* Frees the pixels of an image returned by a decoder (safe on a zeroed struct). */
void lsk_image_free(lsk_image *img);

/* Encodes pixels [height, width, channels] (channels 1 or 3; JPEG also 4, CMYK stored as
 * given with an Adobe marker) as PNG / JPEG (quality 1...100) into a malloc'd buffer *out
 * of *out_size bytes; free it with lsk_image_free_bytes. */
int lsk_image_encode_png(const uint8_t *pixels, int32_t width, int32_t height, int32_t channels,
                         uint8_t **out, size_t *out_size, char *err, size_t err_size);
int lsk_image_encode_jpeg(const uint8_t *pixels, int32_t width, int32_t height, int32_t channels,
                          int32_t quality, uint8_t **out, size_t *out_size, char *err, size_t err_size);
void lsk_image_free_bytes(uint8_t *bytes);

#ifdef __cplusplus
}
#endif

#endif /* LSK_IMAGE_CODECS_H */
