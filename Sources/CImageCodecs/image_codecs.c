/* PNG (libpng 1.6 simplified API) and JPEG (libjpeg-turbo, libjpeg 6b API) codecs.
 * See include/lsk_image_codecs.h for the contract. */
#include "lsk_image_codecs.h"

#include <png.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h> /* jpeglib.h needs FILE and size_t first */
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

static void set_error(char *err, size_t err_size, const char *fmt, ...) {
  if (err == NULL || err_size == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, err_size, fmt, ap);
  va_end(ap);
}

static int too_large(size_t width, size_t height) {
  return width == 0 || height == 0 || width > LSK_IMAGE_MAX_PIXELS / height;
}

void lsk_image_free(lsk_image *img) {
  if (img == NULL) return;
  free(img->pixels);
  memset(img, 0, sizeof *img);
}

void lsk_image_free_bytes(uint8_t *bytes) { free(bytes); }

/* MARK: - PNG */

int lsk_image_decode_png(const uint8_t *data, size_t size, lsk_image *out, char *err, size_t err_size) {
  if (out == NULL) return 1;
  memset(out, 0, sizeof *out);
  if (data == NULL || size == 0) {
    set_error(err, err_size, "empty file");
    return 1;
  }
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&img, data, size)) {
    set_error(err, err_size, "invalid PNG data (%s)", img.message);
    png_image_free(&img);
    return 1;
  }
  if (too_large(img.width, img.height)) {
    set_error(err, err_size, "PNG size %ux%u is empty or larger than %zu pixels", (unsigned)img.width,
              (unsigned)img.height, (size_t)LSK_IMAGE_MAX_PIXELS);
    png_image_free(&img);
    return 1;
  }
  const int color = (img.format & PNG_FORMAT_FLAG_COLOR) != 0;
  /* Read with alpha and drop it afterwards: the colour values are kept as stored (what
   * PIL's convert("RGB") does) instead of being composited onto a background. */
  img.format = color ? PNG_FORMAT_RGBA : PNG_FORMAT_GA;
  img.flags |= PNG_IMAGE_FLAG_16BIT_sRGB;
  const size_t bytes = PNG_IMAGE_SIZE(img);
  uint8_t *buf = (uint8_t *)malloc(bytes);
  if (buf == NULL) {
    set_error(err, err_size, "out of memory (%zu bytes)", bytes);
    png_image_free(&img);
    return 1;
  }
  if (!png_image_finish_read(&img, NULL, buf, 0, NULL)) {
    set_error(err, err_size, "invalid PNG data (%s)", img.message);
    free(buf);
    png_image_free(&img);
    return 1;
  }
  const size_t n = (size_t)img.width * img.height;
  const int nc = color ? 3 : 1;
  /* In place, front to back: the destination never overtakes the source. */
  for (size_t i = 0; i < n; ++i) {
    for (int c = 0; c < nc; ++c) buf[i * nc + c] = buf[i * (nc + 1) + c];
  }
  uint8_t *shrunk = (uint8_t *)realloc(buf, n * nc);
  out->pixels = shrunk != NULL ? shrunk : buf;
  out->width = (int32_t)img.width;
  out->height = (int32_t)img.height;
  out->channels = nc;
  return 0;
}

int lsk_image_encode_png(const uint8_t *pixels, int32_t width, int32_t height, int32_t channels,
                         uint8_t **out, size_t *out_size, char *err, size_t err_size) {
  if (out == NULL || out_size == NULL) return 1;
  *out = NULL;
  *out_size = 0;
  if (pixels == NULL || (channels != 1 && channels != 3) || width <= 0 || height <= 0 ||
      too_large((size_t)width, (size_t)height)) {
    set_error(err, err_size, "invalid image for PNG encoding (%dx%d, %d channels)", width, height, channels);
    return 1;
  }
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  img.width = (png_uint_32)width;
  img.height = (png_uint_32)height;
  img.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  png_alloc_size_t needed = 0;
  if (!png_image_write_to_memory(&img, NULL, &needed, 0, pixels, 0, NULL)) {
    set_error(err, err_size, "PNG encoding failed (%s)", img.message);
    png_image_free(&img);
    return 1;
  }
  uint8_t *buf = (uint8_t *)malloc(needed);
  if (buf == NULL) {
    set_error(err, err_size, "out of memory (%zu bytes)", (size_t)needed);
    return 1;
  }
  png_alloc_size_t written = needed;
  if (!png_image_write_to_memory(&img, buf, &written, 0, pixels, 0, NULL)) {
    set_error(err, err_size, "PNG encoding failed (%s)", img.message);
    free(buf);
    png_image_free(&img);
    return 1;
  }
  *out = buf;
  *out_size = (size_t)written;
  return 0;
}

/* MARK: - JPEG */

/* libjpeg reports fatal errors through error_exit, which must not return: it jumps back
 * to the setjmp in the calling codec function with the formatted message. */
typedef struct jpeg_failure {
  struct jpeg_error_mgr mgr;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
} jpeg_failure;

static void jpeg_fail(j_common_ptr cinfo) {
  jpeg_failure *f = (jpeg_failure *)cinfo->err;
  (*cinfo->err->format_message)(cinfo, f->message);
  longjmp(f->jump, 1);
}

/* Level < 0: corrupt data the decoder recovered from. Missing data (a truncated file or
 * segment, which libjpeg fills with grey) is fatal; the other warnings are tolerated.
 * Trace messages are dropped, so nothing is printed to stderr. */
static void jpeg_note(j_common_ptr cinfo, int level) {
  if (level >= 0) return;
  cinfo->err->num_warnings++;
  const int code = cinfo->err->msg_code;
  if (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER) jpeg_fail(cinfo);
}

int lsk_image_decode_jpeg(const uint8_t *data, size_t size, lsk_image *out, char *err, size_t err_size) {
  if (out == NULL) return 1;
  memset(out, 0, sizeof *out);
  if (data == NULL || size == 0) {
    set_error(err, err_size, "empty file");
    return 1;
  }
  if (size > (size_t)(unsigned long)-1) {
    set_error(err, err_size, "file too large");
    return 1;
  }
  struct jpeg_decompress_struct cinfo;
  jpeg_failure failure;
  uint8_t *volatile pixels = NULL;
  uint8_t *volatile cmyk_row = NULL;
  failure.message[0] = '\0';
  cinfo.err = jpeg_std_error(&failure.mgr);
  failure.mgr.error_exit = jpeg_fail;
  failure.mgr.emit_message = jpeg_note;
  if (setjmp(failure.jump)) {
    set_error(err, err_size, "invalid JPEG data (%s)", failure.message);
    jpeg_destroy_decompress(&cinfo);
    free(pixels);
    free(cmyk_row);
    return 1;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, (unsigned long)size);
  if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) {
    set_error(err, err_size, "invalid JPEG data (no image in the stream)");
    jpeg_destroy_decompress(&cinfo);
    return 1;
  }
  if (too_large(cinfo.image_width, cinfo.image_height)) {
    set_error(err, err_size, "JPEG size %ux%u is empty or larger than %zu pixels", (unsigned)cinfo.image_width,
              (unsigned)cinfo.image_height, (size_t)LSK_IMAGE_MAX_PIXELS);
    jpeg_destroy_decompress(&cinfo);
    return 1;
  }
  int cmyk = 0, inverted = 0;
  switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
      cinfo.out_color_space = JCS_GRAYSCALE;
      break;
    case JCS_CMYK:
    case JCS_YCCK:
      cinfo.out_color_space = JCS_CMYK;
      cmyk = 1;
      inverted = cinfo.saw_Adobe_marker; /* Adobe writes CMYK inverted */
      break;
    default:
      cinfo.out_color_space = JCS_RGB;
      break;
  }
  jpeg_start_decompress(&cinfo);
  const size_t w = cinfo.output_width, h = cinfo.output_height;
  const int nc = cmyk ? 3 : cinfo.output_components;
  if ((!cmyk && nc != 1 && nc != 3) || (cmyk && cinfo.output_components != 4)) {
    set_error(err, err_size, "unsupported JPEG colour layout (%d components)", cinfo.output_components);
    jpeg_destroy_decompress(&cinfo);
    return 1;
  }
  pixels = (uint8_t *)malloc(w * h * nc);
  if (cmyk) cmyk_row = (uint8_t *)malloc(w * 4);
  if (pixels == NULL || (cmyk && cmyk_row == NULL)) {
    set_error(err, err_size, "out of memory (%zu bytes)", w * h * nc);
    jpeg_destroy_decompress(&cinfo);
    free(pixels);
    free(cmyk_row);
    return 1;
  }
  while (cinfo.output_scanline < h) {
    const size_t y = cinfo.output_scanline;
    JSAMPROW row = cmyk ? cmyk_row : pixels + y * w * nc;
    if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) {
      strcpy(failure.message, "decoder stopped early");
      longjmp(failure.jump, 1);
    }
    if (cmyk) {
      uint8_t *dst = pixels + y * w * 3;
      for (size_t x = 0; x < w; ++x) {
        unsigned c = cmyk_row[4 * x], m = cmyk_row[4 * x + 1], yy = cmyk_row[4 * x + 2], k = cmyk_row[4 * x + 3];
        if (!inverted) {
          c = 255 - c;
          m = 255 - m;
          yy = 255 - yy;
          k = 255 - k;
        }
        dst[3 * x] = (uint8_t)((c * k + 127) / 255);
        dst[3 * x + 1] = (uint8_t)((m * k + 127) / 255);
        dst[3 * x + 2] = (uint8_t)((yy * k + 127) / 255);
      }
    }
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  free(cmyk_row);
  out->pixels = pixels;
  out->width = (int32_t)w;
  out->height = (int32_t)h;
  out->channels = nc;
  return 0;
}

int lsk_image_encode_jpeg(const uint8_t *pixels, int32_t width, int32_t height, int32_t channels,
                          int32_t quality, uint8_t **out, size_t *out_size, char *err, size_t err_size) {
  if (out == NULL || out_size == NULL) return 1;
  *out = NULL;
  *out_size = 0;
  if (pixels == NULL || (channels != 1 && channels != 3 && channels != 4) || width <= 0 || height <= 0 ||
      width > 65500 || height > 65500 || quality < 1 || quality > 100) {
    set_error(err, err_size, "invalid image for JPEG encoding (%dx%d, %d channels, quality %d)", width, height,
              channels, quality);
    return 1;
  }
  struct jpeg_compress_struct cinfo;
  jpeg_failure failure;
  /* jpeg_mem_dest keeps *buffer pointing at its current (malloc'd) buffer. */
  struct { unsigned char *buffer; unsigned long size; } *volatile dest = calloc(1, sizeof *dest);
  if (dest == NULL) {
    set_error(err, err_size, "out of memory");
    return 1;
  }
  failure.message[0] = '\0';
  cinfo.err = jpeg_std_error(&failure.mgr);
  failure.mgr.error_exit = jpeg_fail;
  failure.mgr.emit_message = jpeg_note;
  if (setjmp(failure.jump)) {
    set_error(err, err_size, "JPEG encoding failed (%s)", failure.message);
    jpeg_destroy_compress(&cinfo);
    free(dest->buffer);
    free(dest);
    return 1;
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, &dest->buffer, &dest->size);
  cinfo.image_width = (JDIMENSION)width;
  cinfo.image_height = (JDIMENSION)height;
  cinfo.input_components = channels;
  /* 4 channels: CMYK as given, written with an Adobe marker (so decoders read it as
   * Adobe's inverted CMYK). */
  cinfo.in_color_space = channels == 4 ? JCS_CMYK : channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * width * channels);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  *out = dest->buffer;
  *out_size = dest->size;
  free(dest);
  return 0;
}
