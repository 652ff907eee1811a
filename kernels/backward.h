/* kernels/backward.h — backward twins of the synaptic ops (DESIGN §4), plain functions over
 * flat arrays: outputs first, gradients accumulate (+=), no allocation, nothing of the project
 * included. Weight gradients read only the input events (sparse in s_in): an input that did
 * not spike at a step touches no weight row. */
#ifndef EVSNN_KERNELS_BACKWARD_H
#define EVSNN_KERNELS_BACKWARD_H

#include <stdint.h>

/* dw[i, :] += Σ val·delta[t, :] over the events (i, t) of a whole sample, grouped by input
 * channel (CSC): each weight row is read and written once while the δ rows of the steps
 * its input spiked at are added into it (the row stays in L1).
 * dw: [n_in, n_out]  delta: [T, n_out]  col_off: [n_in+1]  col_t: [nnz] steps of the
 * events of channel i at col_t[col_off[i] .. col_off[i+1])  col_v: [nnz] or NULL */
void bwd_dense_dw_csc(float *dw, const float *delta, const uint32_t *col_off, const uint32_t *col_t,
                      const float *col_v, uint32_t n_in, uint32_t n_out);

/* The input gradient of a dense layer for all T steps at once: gin[t, i] = Σ_j wt[j, i]·delta[t, j]
 * as register-blocked row products over strips of inputs; steps whose δ is all zero
 * (truncated surrogates) cost nothing. gin: [T, n_in] (overwritten)  wt: [n_out, n_in] (the
 * weights transposed)  delta: [T, n_out]  rows: [T] scratch */
void bwd_dense_gin_steps(float *gin, const float *wt, const float *delta, uint32_t T, uint32_t n_in, uint32_t n_out,
                         uint32_t *rows);

/* Σ x[i] in eight interleaved partial sums (bias gradients). x: [n] */
float sum_f32(const float *x, uint32_t n);

/* Convolution geometry (stride 1, zero padding `pad`). */
typedef struct {
    uint32_t in_c, in_h, in_w;     /* input tensor */
    uint32_t out_c, conv_h, conv_w; /* conv output, before any pooling */
    uint32_t k, pad;
} bwd_conv_geom;

/* Forward conv of sparse events at full resolution: full[o, y, x] = b[o] + Σ_e val·w[o, c, ky, kx]
 * (overwrites full). full: [out_c, conv_h, conv_w]  w: [out_c, in_c, k, k]  b: [out_c] or NULL
 * idx: [n_ev] input channels c·H·W + y·W + x */
void bwd_conv_full(float *full, const float *w, const float *b, const uint32_t *idx, const float *val,
                   uint32_t n_ev, const bwd_conv_geom *g);

/* dw[o, c, ky, kx] += Σ_e val·dfull[o, y + pad − ky, x + pad − kx] over in-range taps.
 * dw: [out_c, in_c, k, k]  dfull: [out_c, conv_h, conv_w] */
void bwd_conv_dw(float *dw, const float *dfull, const uint32_t *idx, const float *val, uint32_t n_ev,
                 const bwd_conv_geom *g);

/* gin[c, y, x] += Σ_{o,ky,kx} w[o, c, ky, kx]·dfull[o, y + pad − ky, x + pad − kx]
 * gin: [in_c, in_h, in_w]  w: [out_c, in_c, k, k]  dfull: [out_c, conv_h, conv_w] */
void bwd_conv_gin(float *gin, const float *w, const float *dfull, const bwd_conv_geom *g);

/* Pooling backward, p×p windows with stride p over [C, H, W] → [C, H/p, W/p].
 * kind 0 = sum, 1 = average (÷p²), 2 = max (to the first maximal element of the window in
 * row-major order, as PyTorch; x is the pooled input at full resolution).
 * gin: [C, H, W] (+=)  gout: [C, H/p, W/p]  x: [C, H, W] (max only, else NULL) */
enum { BWD_POOL_SUM, BWD_POOL_AVG, BWD_POOL_MAX };
void bwd_pool(float *gin, const float *gout, const float *x, uint32_t C, uint32_t H, uint32_t W, uint32_t p, int kind);

#endif
