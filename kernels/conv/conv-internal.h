/*
 * Internal pieces of the conv family (kernels/ops/conv.c, conv-gemm.c and kernels/conv/). Not installed.
 *
 * Layers (see /work/shared/STYLE.md):
 *   kernels/conv/f32-im2col-scalar.c   im2col / col2im microkernels: single-threaded,
 *                                      allocation-free, portable C (memory-bound copies that
 *                                      compilers vectorise; no ISA-specific version needed)
 *   kernels/ops/conv.c                 entry points: validation, algorithm choice
 *   kernels/ops/conv-gemm.c            im2col + lsk_sgemm algorithms, OpenMP over images
 */
#ifndef LSK_CONV_INTERNAL_H
#define LSK_CONV_INTERNAL_H

#include <stddef.h>
#include "../internal/lsk_internal.h"
#include "../../include/lsk_conv.h"

/* Output columns ow in [lo, hi) read input columns ow*s + j - p inside [0, w)
 * (w input width, s stride, j kernel column, p padding, wo output width). */
static inline void lsk_conv_valid_range(size_t w, size_t s, size_t j, size_t p, size_t wo, size_t *lo, size_t *hi) {
    size_t l = p > j ? (p - j + s - 1) / s : 0;          /* ow*s + j >= p */
    size_t h = w + p > j ? (w - 1 + p - j) / s + 1 : 0;  /* ow*s + j - p <= w - 1 */
    if (h > wo) h = wo;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/*
 * im2col of output rows [oh0, oh1) of one image (one group's channels):
 *   x   [channels, h, w]
 *   col [channels * kh * kw, (oh1 - oh0) * wo] with row stride ldcol >= (oh1 - oh0) * wo;
 *       row (c, i, j) holds x[c, oh*sh + i - ph, ow*sw + j - pw] at column (oh - oh0)*wo + ow
 *       (0 where that lies in the padding). 0 <= oh0 < oh1 <= output height.
 * A row range keeps the columns of a large map inside L2 (ops/conv-gemm.c).
 */
void lsk_f32_im2col_ukernel__scalar(float *col, size_t ldcol, const float *x, size_t channels, size_t h, size_t w,
                                    size_t kh, size_t kw, size_t sh, size_t sw, size_t ph, size_t pw, size_t oh0,
                                    size_t oh1, size_t wo);

/* The same contract, SIMD for unit horizontal stride (other strides call the scalar
 * kernel): masked loads read each valid run of an input row and zero the padding lanes. */
void lsk_f32_im2col_ukernel__avx2(float *col, size_t ldcol, const float *x, size_t channels, size_t h, size_t w,
                                  size_t kh, size_t kw, size_t sh, size_t sw, size_t ph, size_t pw, size_t oh0,
                                  size_t oh1, size_t wo);
void lsk_f32_im2col_ukernel__avx512(float *col, size_t ldcol, const float *x, size_t channels, size_t h, size_t w,
                                    size_t kh, size_t kw, size_t sh, size_t sw, size_t ph, size_t pw, size_t oh0,
                                    size_t oh1, size_t wo);
void lsk_f32_im2col_ukernel__neon(float *col, size_t ldcol, const float *x, size_t channels, size_t h, size_t w,
                                  size_t kh, size_t kw, size_t sh, size_t sw, size_t ph, size_t pw, size_t oh0,
                                  size_t oh1, size_t wo);

typedef void (*lsk_f32_im2col_fn)(float *col, size_t ldcol, const float *x, size_t channels, size_t h, size_t w,
                                  size_t kh, size_t kw, size_t sh, size_t sw, size_t ph, size_t pw, size_t oh0,
                                  size_t oh1, size_t wo);

/* Per-ISA table of the conv family (kernels/conv/conv-config.c). Never NULL. */
typedef struct lsk_conv_config {
    lsk_f32_im2col_fn im2col;
} lsk_conv_config;
const lsk_conv_config *lsk_conv_get_config(lsk_isa isa);

/*
 * col2im, accumulating: the adjoint of im2col. dx [channels, h, w] += scatter of
 * col [channels * kh * kw, ho * wo] (row stride ldcol). Overlapping windows add up.
 */
void lsk_f32_col2im_acc_ukernel__scalar(float *dx, const float *col, size_t ldcol,
                                        size_t channels, size_t h, size_t w,
                                        size_t kh, size_t kw, size_t sh, size_t sw,
                                        size_t ph, size_t pw, size_t ho, size_t wo);

/* Derived sizes of a validated descriptor, shared by the algorithms. */
typedef struct lsk_conv_geom {
    lsk_conv2d_desc d;
    size_t ho, wo;       /* output spatial size */
    size_t hw_in;        /* in_height * in_width */
    size_t hw_out;       /* ho * wo */
    size_t cin_g;        /* in_channels / groups */
    size_t cout_g;       /* out_channels / groups */
    size_t kk;           /* kernel_h * kernel_w */
    size_t k;            /* cin_g * kk: GEMM depth of the forward pass */
    size_t w_size;       /* out_channels * k: floats in w */
} lsk_conv_geom;

/* Algorithms behind the entry points. lsk_conv_choose_algo (ops/conv.c) picks one per
 * shape and pass; Winograd and a direct depthwise path will join this list. */
typedef enum lsk_conv_pass { LSK_CONV_FWD = 0, LSK_CONV_BWD_DATA = 1, LSK_CONV_BWD_WEIGHT = 2 } lsk_conv_pass;
typedef enum lsk_conv_algo {
    LSK_CONV_ALGO_GEMM_1X1 = 0,      /* 1x1, stride 1, pad 0: the image is the column matrix */
    LSK_CONV_ALGO_IM2COL_GEMM = 1,   /* im2col + GEMM (fwd, bwd_weight); GEMM + col2im (bwd_data) */
    LSK_CONV_ALGO_TRANSPOSED_GEMM = 2, /* bwd_data, stride 1: forward conv of dy with the
                                         flipped, transposed kernel (no col2im scatter) */
    LSK_CONV_ALGO_WINOGRAD_F4X4 = 3, /* 3x3 stride 1, groups 1: F(4x4,3x3) (ops/winograd.c) */
    LSK_CONV_ALGO_DEPTHWISE_DIRECT = 4 /* groups == channels, 3x3/5x5, stride 1/2, pad <= k-1:
                                          direct SIMD per channel plane (ops/dwconv.c) */
} lsk_conv_algo;

lsk_conv_algo lsk_conv_choose_algo(const lsk_conv_geom *g, lsk_conv_pass pass);
/* 1 when the direct depthwise kernel takes the shape (rule: ops/conv.c). */
int lsk_conv_depthwise_applies(const lsk_conv_geom *g);

/* Which algorithms lsk_conv_choose_algo may pick: AUTO = the measured per-shape rule;
 * GEMM = never Winograd; WINOGRAD = Winograd wherever it applies. Initial value from the
 * environment variable LSK_CONV_ALGO=auto|gemm|winograd (read once); tests and benchmarks
 * switch it with lsk_conv_set_policy (not thread-safe against concurrent conv calls). */
typedef enum lsk_conv_policy { LSK_CONV_POLICY_AUTO = 0, LSK_CONV_POLICY_GEMM = 1, LSK_CONV_POLICY_WINOGRAD = 2 } lsk_conv_policy;
void lsk_conv_set_policy(lsk_conv_policy policy);
lsk_conv_policy lsk_conv_get_policy(void);

/* What the inference runtime fuses into a forward convolution: y = conv(x) + b (+ residual)
 * (then max(., 0) with relu). Each algorithm applies it to every piece of y it has just
 * written, on the thread that wrote it, while the piece is still in L1/L2, instead of a
 * separate add and ReLU pass over the whole output each. */
typedef struct lsk_conv_epilogue {
    const float *residual; /* same shape as y, or NULL */
    int relu;
} lsk_conv_epilogue;
/* Applies ep (NULL: nothing) to y[offset, offset + n) (the residual at the same offset). */
void lsk_conv_epilogue_apply(const lsk_conv_epilogue *ep, float *y, size_t offset, size_t n);

/* Winograd F(4x4,3x3) (ops/winograd.c). applies: 3x3, stride 1, groups 1 (bwd_data also
 * pad <= 2); fwd, bwd_data and bwd_weight. Inputs already validated. */
int lsk_conv_winograd_applies(const lsk_conv_geom *g, lsk_conv_pass pass);
lsk_status lsk_conv_winograd_fwd(const lsk_conv_geom *g, float *y, const float *x, const float *w, const float *b,
                                 const lsk_conv_epilogue *ep);
lsk_status lsk_conv_winograd_bwd_data(const lsk_conv_geom *g, float *dx, const float *dy, const float *w,
                                      int accumulate);
lsk_status lsk_conv_winograd_bwd_weight(const lsk_conv_geom *g, float *dw, float *db, const float *dy, const float *x,
                                        int accumulate);

/* Filters transformed once by their owner (the inference runtime: weights that never change),
 * instead of the per-thread cache above, which copies and compares the weights on every call.
 * filter_floats: floats of U for a [cout][cin][3][3] kernel; filter_prepare: U of w, in the
 * layout lsk_conv_winograd_fwd_prepared reads (made with the active ISA's transform). */
size_t lsk_conv_winograd_filter_floats(size_t cout, size_t cin);
lsk_status lsk_conv_winograd_filter_prepare(float *u, const float *w, size_t cout, size_t cin);
lsk_status lsk_conv_winograd_fwd_prepared(const lsk_conv_geom *g, float *y, const float *x, const float *u,
                                          const float *b, const lsk_conv_epilogue *ep);

/* lsk_conv2d_fwd with, optionally, the Winograd filters of w made by
 * lsk_conv_winograd_filter_prepare (u may be NULL): where the algorithm rule picks Winograd for
 * this shape, u is used; otherwise w, as lsk_conv2d_fwd. ep (may be NULL): the residual add
 * and ReLU fused into the pass. (ops/conv.c) */
lsk_status lsk_conv2d_fwd_prepared(const lsk_conv2d_desc *d, float *y, const float *x, const float *w, const float *u,
                                   const float *b, const lsk_conv_epilogue *ep);
/* 1 when Winograd may run the forward pass of this layer at some batch size (so that
 * preparing its filters can pay): the shape rule of lsk_conv_choose_algo without the batch. */
int lsk_conv_winograd_may_pay(const lsk_conv2d_desc *d);

/* Deterministic sum of n floats in 16 independent lanes (ops/conv-gemm.c): bias gradients. */
float lsk_conv_row_sum(const float *p, size_t n);

/* Work of one item (an (image, group) pair, a block of Winograd tiles…); ws is the calling
 * thread's workspace. */
typedef lsk_status (*lsk_conv_item_fn)(const void *ctx, size_t item, float *ws);

/* Runs items [0, items) over the threads (static schedule), each thread with ws_bytes of
 * LSK_SCRATCH_CONV_COL scratch; with fewer items than threads they run serially on the
 * caller (so lsk_sgemm threads itself). Out of memory on any thread: no item runs
 * anywhere and LSK_ERR_OUT_OF_MEMORY is returned (ops/conv-gemm.c). */
lsk_status lsk_conv_run_items(size_t items, size_t ws_bytes, lsk_conv_item_fn fn, const void *ctx);

/* im2col + GEMM implementations (ops/conv-gemm.c). Inputs already validated. */
lsk_status lsk_conv_gemm_fwd(const lsk_conv_geom *g, lsk_conv_algo algo, float *y,
                             const float *x, const float *w, const float *b, const lsk_conv_epilogue *ep);
lsk_status lsk_conv_gemm_bwd_data(const lsk_conv_geom *g, lsk_conv_algo algo, float *dx,
                                  const float *dy, const float *w, int accumulate);
lsk_status lsk_conv_gemm_bwd_weight(const lsk_conv_geom *g, lsk_conv_algo algo, float *dw, float *db,
                                    const float *dy, const float *x, int accumulate);

#endif /* LSK_CONV_INTERNAL_H */
