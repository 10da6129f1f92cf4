/* A plain-C user of the kernel library: one 3x3 convolution layer + bias + ReLU on a
 * batch of 8 RGB 32x32 images, checked against the scalar oracle.
 *   make -C kernels example        (or: cc -Iinclude tools/example_conv.c kernels/build/liblsk.a -fopenmp -lm) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "lsk.h"

int main(void) {
    lsk_conv2d_desc d = {.batch = 8, .in_channels = 3, .in_height = 32, .in_width = 32, .out_channels = 16,
                         .kernel_h = 3, .kernel_w = 3, .stride_h = 1, .stride_w = 1, .pad_h = 1, .pad_w = 1, .groups = 1};
    size_t oh, ow;
    if (lsk_conv2d_output_size(&d, &oh, &ow) != LSK_OK) return 1;
    const size_t nx = d.batch * d.in_channels * d.in_height * d.in_width, nw = d.out_channels * d.in_channels * 9;
    const size_t ny = d.batch * d.out_channels * oh * ow;
    float *x = malloc(nx * sizeof *x), *w = malloc(nw * sizeof *w), *b = calloc(d.out_channels, sizeof *b);
    float *y = malloc(ny * sizeof *y), *y_ref = malloc(ny * sizeof *y_ref);
    for (size_t i = 0; i < nx; i++) x[i] = (float)(i % 255) / 255.0f;
    for (size_t i = 0; i < nw; i++) w[i] = (float)((int)(i % 7) - 3) * 0.05f;
    lsk_status s = lsk_conv2d_fwd(&d, y, x, w, b);                 /* fast path (ISA picked at run time) */
    if (s == LSK_OK) s = lsk_relu_fwd(y, y, ny);                    /* in place */
    if (s == LSK_OK) s = lsk_ref_conv2d_fwd(&d, y_ref, x, w, b);    /* scalar oracle */
    if (s != LSK_OK) { fprintf(stderr, "error: %s\n", lsk_status_string(s)); return 1; }
    double max_err = 0;
    for (size_t i = 0; i < ny; i++) max_err = fmax(max_err, fabs(y[i] - fmaxf(y_ref[i], 0.0f)));
    printf("conv3x3 %zux%zux%zux%zu -> %zux%zux%zux%zu on %s, %d threads: max |fast - oracle| = %.2e\n",
           d.batch, d.in_channels, d.in_height, d.in_width, d.batch, d.out_channels, oh, ow,
           lsk_isa_name(lsk_get_isa()), lsk_get_num_threads(), max_err);
    free(x); free(w); free(b); free(y); free(y_ref);
    return max_err < 1e-4 ? 0 : 1;
}
