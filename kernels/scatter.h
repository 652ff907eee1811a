/* kernels/scatter.h — synaptic scatter: add the weights reached by input events into
 * membrane-current accumulators. Plain functions over flat arrays; no allocation, no I/O,
 * nothing of the project included. `_ref` variants are the plain oracles; the others are
 * the fast versions (several events per pass, compiled for AVX-512/AVX2 with a portable
 * fallback chosen once at load time), tested against the oracles. */
#ifndef EVSNN_KERNELS_SCATTER_H
#define EVSNN_KERNELS_SCATTER_H

#include <stdint.h>

/* acc[j] += Σ_e val[e]·w[idx[e], j]   (val NULL: all 1)
 * acc: [n_out]  w: [n_in, n_out] row-major  idx: [n_ev] input channels < n_in  val: [n_ev] or NULL
 * The oracle adds one event at a time, in idx order. */
void scatter_dense_ref(float *acc, const float *w, const uint32_t *idx, const float *val,
                       uint32_t n_ev, uint32_t n_out);
/* Same result up to float summation order (events are summed in groups of four first). */
void scatter_dense(float *acc, const float *w, const uint32_t *idx, const float *val,
                   uint32_t n_ev, uint32_t n_out);

/* Dense matrix–vector product for a static input: acc[j] = Σ_i x[i]·w[i, j], skipping
 * zero inputs. acc: [n_out]  w: [n_in, n_out]  x: [n_in] */
void matvec_dense(float *acc, const float *w, const float *x, uint32_t n_in, uint32_t n_out);

#endif
