/* kernels/conv.h — event-driven convolution scatter: one input event adds its kernel
 * footprint into the output currents. Plain functions over flat arrays; no allocation,
 * no I/O, nothing of the project included.
 *
 * Geometry (stride 1): input map in_h x in_w, kernel k, padding pad, conv output
 * ch x cw = (in + 2·pad − k + 1). With pooling window p > 1 (average or sum of currents)
 * the footprint is added into the pooled neuron (oy/p, ox/p) directly, only for conv
 * positions inside the floor-sized pooled map; p = 1 targets the conv map itself. */
#ifndef EVSNN_KERNELS_CONV_H
#define EVSNN_KERNELS_CONV_H

#include <stdint.h>

typedef struct {
    uint32_t in_c, out_c, k, pad; /* conv: input channels, output channels, kernel, padding */
    uint32_t limh, limw;          /* conv positions used: oy < limh, ox < limw (the map, or the pooled cover) */
    uint32_t p;                   /* target: conv position (oy, ox) → (oy/p, ox/p); p = 1: the conv map */
    uint32_t th, tw;              /* target map size */
} conv_geom;

/* acc[co, oy/p, ox/p] += v · w[co, ci, ky, kx] for every conv position (oy, ox) =
 * (y + pad − ky, x + pad − kx) inside [0, limh) x [0, limw) reached from input (ci, y, x).
 * acc: [out_c, th, tw]  w: [out_c, in_c, k, k]. Returns the number of weight reads. */
uint32_t conv_scatter(float *acc, const float *w, const conv_geom *g, uint32_t ci, uint32_t y, uint32_t x, float v);

#endif
