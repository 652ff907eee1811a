/* kernels/conv.h — event-driven convolution: one input event adds its kernel footprint into
 * the output currents, and the backward twins. Plain functions over flat arrays; no
 * allocation, no I/O, nothing of the project included.
 *
 * Geometry (stride 1): input map in_c x in_h x in_w, kernel k, padding pad, conv output
 * (in + 2·pad − k + 1). The currents go to a *target map* th x tw: with a pooling window
 * p > 1 (average or sum of currents) target (ty, tx) is the pooled neuron whose window is
 * conv rows ty·p .. ty·p+p−1 (th = limh/p: only conv positions inside the floor-sized pooled
 * map count); with p = 1 it is the conv position itself (no pooling, or max pooling whose
 * windows are reduced afterwards), th = limh.
 *
 * Two layouts of the same arithmetic:
 *   reference  w [out_c, in_c, k, k] (PyTorch's), target [out_c, th, tw]; conv_scatter_ref
 *              adds one tap at a time (the oracle);
 *   fast       packed kernel kpt [in_c, kq, kq, out_c] with kq = k + p − 1, target
 *              channels-last [th, tw, out_c]: one event's footprint is at most
 *              ⌈kq/p⌉² contiguous out_c-vectors, added with vector instructions.
 * Packing folds the pooling window into the kernel: kpt[ci, qy, qx, co] is the sum of the
 * taps w[co, ci, ky, kx] with ky ∈ [qy − p + 1, qy], kx ∈ [qx − p + 1, qx] (the kernel
 * convolved with a p x p box), and an event at (y, x) reaches target (ty, tx) through
 * qy = y + pad − ty·p, qx = x + pad − tx·p. So an average-pooled 5x5 layer costs 9 vector
 * adds per event instead of 25; sums are regrouped, so floats agree with the oracle up to
 * rounding (bit for bit when the arithmetic is exact). */
#ifndef EVSNN_KERNELS_CONV_H
#define EVSNN_KERNELS_CONV_H

#include <stdint.h>

typedef struct {
    uint32_t in_c, out_c, k, pad; /* conv: input channels, output channels, kernel, padding */
    uint32_t in_h, in_w;          /* input map */
    uint32_t limh, limw;          /* conv positions used: oy < limh, ox < limw (the map, or the pooled cover) */
    uint32_t p;                   /* target: conv position (oy, ox) → (oy/p, ox/p); p = 1: the conv position */
    uint32_t th, tw;              /* target map size (limh/p x limw/p) */
} conv_geom;

static inline uint32_t conv_kq(const conv_geom *g) { return g->k + g->p - 1; }

/* Synaptic operations of one event at (y, x): out_c × the taps whose conv position lies
 * inside [0, limh) x [0, limw) — the model's count, the same for both layouts. */
uint32_t conv_syn_ops(const conv_geom *g, uint32_t y, uint32_t x);

/* Reference: acc[co, oy/p, ox/p] += v · w[co, ci, ky, kx] for every conv position (oy, ox) =
 * (y + pad − ky, x + pad − kx) inside [0, limh) x [0, limw) reached from input (ci, y, x).
 * acc: [out_c, th, tw]  w: [out_c, in_c, k, k]. Returns conv_syn_ops. */
uint32_t conv_scatter_ref(float *acc, const float *w, const conv_geom *g, uint32_t ci, uint32_t y, uint32_t x, float v);

/* Packing (once per weight change). kpt: [in_c, kq, kq, out_c]  w: [out_c, in_c, k, k] */
void conv_pack(float *kpt, const float *w, const conv_geom *g);
/* Its backward twin: dw[co, ci, ky, kx] += Σ_{qy=ky}^{ky+p−1} Σ_{qx=kx}^{kx+p−1} dkpt[ci, qy, qx, co]. */
void conv_pack_backward(float *dw, const float *dkpt, const conv_geom *g);

/* What the fast kernels precompute per geometry, so an event costs no division: along each
 * input axis the targets an input row/column reaches (t0 .. t1−1, whose q starts at q0 and
 * falls by p per target) and its taps inside the covered map (for the count), and exact
 * division by in_h·in_w and in_w through a multiply (Lemire, Kaser & Kurz, "Faster
 * remainder by direct computation", 2019; m = 0 stands for a divisor of 1). The caller owns
 * ys [in_h] and xs [in_w]. */
typedef struct { uint32_t t0, t1, q0, nk; } conv_span;
typedef struct {
    conv_geom g;
    const conv_span *ys, *xs;
    uint64_t m_hw, m_w;
} conv_plan;
void conv_plan_init(conv_plan *pl, conv_span *ys, conv_span *xs, const conv_geom *g);

/* Input channel id = ci·in_h·in_w + y·in_w + x of an event, decomposed. */
static inline uint32_t conv_fastdiv(uint32_t n, uint64_t m) { return m ? (uint32_t)(((unsigned __int128)m * n) >> 64) : n; }
static inline void conv_decode(const conv_plan *pl, uint32_t id, uint32_t *ci, uint32_t *y, uint32_t *x) {
    const uint32_t c = conv_fastdiv(id, pl->m_hw), pos = id - c * pl->g.in_h * pl->g.in_w, yy = conv_fastdiv(pos, pl->m_w);
    *ci = c;
    *y = yy;
    *x = pos - yy * pl->g.in_w;
}

/* Fast scatter of n events (channel ids idx, values val or NULL = 1): for each,
 * acc[ty, tx, :] += v · kpt[ci, qy, qx, :] over the targets (ty, tx) it reaches.
 * acc: [th, tw, out_c]. Returns the synaptic operations (Σ conv_syn_ops). */
uint64_t conv_scatter(float *acc, const float *kpt, const conv_plan *pl, const uint32_t *idx, const float *val,
                      uint32_t n);

/* The same currents computed target by target (output-stationary): every target's vector
 * sums, in registers, the packed kernel vectors of the events that reach it, and is written
 * once (acc is overwritten: no clearing needed). The better form when a step has many events
 * (conv_pull_pays); sums are grouped by target, so floats agree with conv_scatter up to
 * rounding. scratch: [conv_pull_scratch(g, n)] words. Returns the synaptic operations. */
uint32_t conv_pull_scratch(const conv_geom *g, uint32_t n);
uint64_t conv_pull(float *acc, const float *kpt, const conv_plan *pl, const uint32_t *idx, const float *val, uint32_t n,
                   uint32_t *scratch);
int conv_pull_pays(const conv_geom *g, uint32_t n);

/* Backward twin (weight gradient of n events at one step): dkpt[ci, qy, qx, :] += v · d[ty, tx, :]
 * over the same targets. dkpt: [in_c, kq, kq, out_c]  d: [th, tw, out_c] current gradient */
void conv_scatter_backward(float *dkpt, const float *d, const conv_plan *pl, const uint32_t *idx, const float *val,
                           uint32_t n);

/* The weight gradient of all steps of a sample, weight-stationary: each step's events (off[t]
 * .. off[t+1] of channel ids idx, values val or NULL = 1; distinct channels within a step, as in
 * every spike train) are grouped by input channel and by the residues of (y + pad, x + pad)
 * mod p, so that every packed-kernel vector dkpt[ci, qy, qx, :] sums, in registers, the target
 * vectors d[t, ty, tx, :] of its events and is written once per step (conv_scatter_backward
 * writes it once per event). The step's d is read through a zero-bordered copy, so no tap needs
 * a bounds check. A step with few events per bucket goes through conv_scatter_backward
 * instead. Adds to dkpt the sums of conv_scatter_backward, in another order.
 * d: [T, th, tw, out_c]  scratch: [conv_dw_scratch(g)] words */
uint64_t conv_dw_scratch(const conv_geom *g);
void conv_dw_steps(float *dkpt, const float *d, const conv_plan *pl, const uint32_t *off, const uint32_t *idx,
                   const float *val, uint32_t T, float *scratch);

/* Input gradient, dense form (a transposed convolution as products of row blocks with
 * per-tap panels): for the n non-zero target rows rows[i] = (step, ty, tx) of d,
 *   gin[step, y, x, ci] = Σ_{jy, jx < p} Σ_{ky, kx, co} w[co, ci, ky, kx] · d[row, co]
 *                          at y − jy = ty·p + ky − pad, x − jx = tx·p + kx − pad,
 * i.e. the plain kernel at stride p into an intermediate map, then the pooling window's
 * p x p box — (k/(k+p−1))² of the multiplications the packed kernel would need.
 * gin: [steps, in_h, in_w, in_c] channels-last (overwritten)  d: [steps·th·tw, out_c]
 * wpan: [k², out_c, in_c] (conv_pack_panels)  scratch: [conv_gin_scratch floats] */
void conv_pack_panels(float *wpan, const float *w, const conv_geom *g);
uint64_t conv_gin_scratch(const conv_geom *g, uint32_t steps);
void conv_gin_rows(float *gin, const float *d, const float *wpan, const conv_geom *g, const uint32_t *rows, uint32_t n,
                   uint32_t steps, float *scratch);

/* Input gradient at chosen entries only (the layer below needs it only where its own
 * surrogate is non-zero): for each of the n_at input entries at[i] = ci·in_h·in_w + y·in_w + x,
 *   gin[at[i]] += Σ_{targets (ty, tx) reached} Σ_co kpt[ci, qy, qx, co] · d[ty, tx, co]
 * gin: [in_c, in_h, in_w] (PyTorch order)  d: [th, tw, out_c]  kpt: conv_pack's */
void conv_gin_at(float *gin, const float *d, const float *kpt, const conv_plan *pl, const uint32_t *at, uint32_t n_at);

/* Max pooling of channels-last currents: acc[co, py, px] = the maximum over the p x p window
 * of cl[py·p + dy, px·p + dx, co] (the first maximum in row-major order), clearing cl;
 * arg (or NULL) receives where it was, dy·p + dx (p ≤ 15).
 * acc, arg: [C, oh, ow]  cl: [oh·p, ow·p, C] */
void pool_max_cl(float *acc, uint8_t *arg, float *cl, uint32_t C, uint32_t oh, uint32_t ow, uint32_t p);

/* Layout changes. [a, b] → [b, a]: dst[j·a + i] = src[i·b + j]; scale multiplies (1: copy). */
void transpose(float *dst, const float *src, uint32_t a, uint32_t b, float scale);

#endif
