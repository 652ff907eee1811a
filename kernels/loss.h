/* kernels/loss.h — losses on one sample's output, with their gradients (DESIGN §4).
 *
 * Each returns the sample's loss and writes (=, not +=) the gradient of that loss scaled by
 * `scale` (the caller passes 1/B for a batch mean). Semantics are snnTorch's functional
 * losses, so numbers match a PyTorch training script:
 *   mse_count   counts c_j = Σ_t s[t,j]; targets int(T·correct_rate) for the label and
 *               int(T·incorrect_rate) otherwise (the double product truncated, as Python
 *               computes int(num_steps * rate); rates are doubles);
 *               loss = Σ_j (c_j − y_j)² / (C·T) (mean over classes, divided by T; the batch
 *               mean is the caller's)
 *   ce_count    cross-entropy of softmax(counts) against the label
 *   ce_rate     mean over steps of the cross-entropy of softmax(s[t]) against the label
 *   mem_mse     mean over steps and neurons of (u[t,j] − target[t,j])²
 * Nothing of the project is included; no allocation. */
#ifndef EVSNN_KERNELS_LOSS_H
#define EVSNN_KERNELS_LOSS_H

#include <stdint.h>

/* g_count: [C] dL/dc_j · scale (the same for every step)  count: [C] */
float loss_mse_count(float *g_count, const float *count, uint32_t C, uint32_t label, uint32_t T,
                     double correct_rate, double incorrect_rate, float scale);

/* g_count: [C]  count: [C] */
float loss_ce_count(float *g_count, const float *count, uint32_t C, uint32_t label, float scale);

/* g_s: [T, C] dL/ds[t,j] · scale  s: [T, C] output spikes (dense) */
float loss_ce_rate(float *g_s, const float *s, uint32_t T, uint32_t C, uint32_t label, float scale);

/* g_u: [T, C] dL/du · scale  u: [T, C]  target: [T, C] */
float loss_mem_mse(float *g_u, const float *u, const float *target, uint32_t T, uint32_t C, float scale);

/* Index of the largest count, the first one on ties (as torch.max on CPU). count: [C] */
uint32_t loss_argmax(const float *count, uint32_t C);

#endif
