/* kernels/bn.h — batch normalisation of currents (Ioffe & Szegedy, ICML 2015), as seed 004's
 * code applies it (conv → pool → BatchNorm2d → LIF at every step): plain functions over flat
 * arrays, nothing of the project included.
 *
 * A layer's currents x of one sample and step are [C, P] (P positions per channel; a dense
 * layer has P = 1). Training statistics are per (step, channel) over the batch's B samples
 * and P positions, N = B·P values: μ = Σx/N, σ² = Σ(x − μ)²/N (biased, for normalising),
 * r = 1/√(σ² + eps), x̂ = (x − μ)·r, y = γ·x̂ + β. The caller sums over samples in a fixed
 * order (in double), so results do not depend on threads. Backward, with dy = ∂L/∂y:
 *   ∂L/∂γ = Σ dy·x̂,  ∂L/∂β = Σ dy,  ∂L/∂x = γ·r·(dy − Σdy/N − x̂·Σ(dy·x̂)/N). */
#ifndef EVSNN_KERNELS_BN_H
#define EVSNN_KERNELS_BN_H

#include <stdint.h>

/* s[c] += Σ_p (x[c, p] − shift[c]) (shift NULL: 0), or, with sq, the sum of squares of that.
 * s: [C]  x: [C, P]  shift: [C] or NULL */
void bn_sum(double *s, const float *x, const double *shift, uint32_t C, uint32_t P, int sq);

/* x̂ = (x − μ)·r (in place when xh == x) and y = γ·x̂ + β. y, xh, x: [C, P]  mu, r, g, b: [C] */
void bn_forward(float *y, float *xh, const float *x, const float *mu, const float *r, const float *g, const float *b,
                uint32_t C, uint32_t P);

/* The same with fixed statistics (evaluation): y = γ·(x − mean)·r + β, r = 1/√(var + eps). */
void bn_eval(float *y, const float *x, const float *mean, const float *r, const float *g, const float *b, uint32_t C,
             uint32_t P);

/* sd[c] += Σ_p dy, sdx[c] += Σ_p dy·x̂ (double accumulators). dy, xh: [C, P] */
void bn_backward_sums(double *sd, double *sdx, const float *dy, const float *xh, uint32_t C, uint32_t P);

/* dx = γ·r·(dy − md − x̂·mdx) with md = Σdy/N, mdx = Σ(dy·x̂)/N per channel (in place when
 * dx == dy). dx, dy, xh: [C, P]  g, r, md, mdx: [C] */
void bn_backward(float *dx, const float *dy, const float *xh, const float *g, const float *r, const float *md,
                 const float *mdx, uint32_t C, uint32_t P);

#endif
