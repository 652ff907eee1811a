/* io/transform.h — event and image transforms, with the meanings Tonic and snnTorch users
 * know. Plain functions over arrays of raw events (io/dataset.h ds_event) or pixel
 * intensities; ds_get chains them: time window → denoise → bin (+ downsample, polarity).
 *
 * Binning: event at time t goes to step floor((t − t0) / dt); events before t0 or at step
 * ≥ T are dropped. Downsampling by (fx, fy): x → x / fx, y → y / fy (output size rounded
 * up). Channel = c·H'·W' + y'·W' + x' with c = p (split) or 0 (merged). Values: event
 * counts per (step, channel) (sum) or 1 (or). */
#ifndef EVSNN_TRANSFORM_H
#define EVSNN_TRANSFORM_H

#include <stddef.h>
#include <stdint.h>

#include "io/dataset.h"
#include "sim/rng.h"
#include "sim/spk.h"

/* Keep events with lo <= t < hi, in place, order kept. Returns the new count. */
size_t tf_time_window(ds_event *ev, size_t n, int64_t lo, int64_t hi);

/* Tonic's Denoise: keep an event when one of its 4 neighbours (x±1, y±1; any polarity)
 * had an event in (t − window, t]; the event itself updates its pixel's memory first.
 * Unlike Tonic, pixels start as "never seen" (Tonic starts them at `window`, which lets
 * every event before t = window through). ev in time order; mem: [w*h] scratch.
 * In place; returns the new count. */
size_t tf_denoise(ds_event *ev, size_t n, uint32_t w, uint32_t h, int64_t window, int64_t *mem);

typedef struct {
    int64_t t0;     /* µs origin of step 0 */
    int64_t dt;     /* µs per step, > 0 */
    uint32_t T;     /* steps */
    uint32_t w, h;  /* sensor size (UNIT data: w = units, h = 1) */
    uint32_t fx, fy;/* downsampling factors, >= 1 */
    int pols;       /* 2 = polarity split, 1 = merged */
    int binary;     /* 1: OR (binary train), 0: counts in val[] */
} tf_bin_cfg;

void tf_bin_shape(const tf_bin_cfg *cfg, uint32_t *c, uint32_t *h, uint32_t *w);

/* Bin events into a closed train (out uninitialised). Events need not be sorted.
 * 0, EVSNN_EINVAL (bad cfg, or an event outside the sensor), EVSNN_ENOMEM. */
int tf_bin(spk_train *out, const ds_event *ev, size_t n, const tf_bin_cfg *cfg);

/* Bin width splitting span µs into exactly T bins: ceil(span / T), at least 1. */
int64_t tf_dt_for_bins(int64_t span, uint32_t T);

/* Rate (Bernoulli) coding: at every step channel i spikes with probability
 * min(1, gain·x[i]). x: [n] in [0, 1]. */
int tf_rate(spk_train *out, const float *x, uint32_t n, uint32_t T, float gain, rng *r);

/* Poisson coding: at every step channel i gets Poisson(gain·x[i]) events (values = counts). */
int tf_poisson(spk_train *out, const float *x, uint32_t n, uint32_t T, float gain, rng *r);

/* Linear latency coding: one spike at step round((1 − x[i])·(T − 1)) for x[i] > thr, none
 * otherwise (brighter = earlier; snnTorch's latency code with linear=True, normalize=True). */
int tf_latency(spk_train *out, const float *x, uint32_t n, uint32_t T, float thr);

/* Random translation of an image, as torchvision's RandomCrop(size, padding=N) with zero
 * padding: out[ch][y][x] = in[ch][y − dy][x' − dx], 0 where that falls outside, with x' = x
 * or, when flip, the mirrored column w − 1 − x (the flip before the shift). in and out:
 * [c·h·w], distinct. */
void tf_shift_image(float *out, const float *in, uint32_t c, uint32_t h, uint32_t w, int dx, int dy, int flip);

#endif
