/* kernels/lif.h — leaky integrate-and-fire updates over flat arrays (DESIGN §2).
 *
 * One step for neurons that were all updated at the previous step:
 *   R = above(u[t−1]);  u[t] = f_reset(β, u[t−1], I·scale + b, R, θ);  s = above(u[t])
 * with the reset rules of sim/net.h, in this exact float evaluation order (shared with the
 * clock-driven reference so both round alike):
 *   subtract      (β·u + I) + b − R·θ
 *   zero          R ? (I + b)           : (β·u + I) + b
 *   none          (β·u + I) + b
 *   subtract-pre  (β·(u − R·θ) + I) + b
 *   zero-drop     R ? 0                 : (β·u + I) + b
 * where I = cur·scale (scale 1 skips the multiply). Nothing of the project is included:
 * modes are plain ints with the values of sim/net.h's enums. */
#ifndef EVSNN_KERNELS_LIF_H
#define EVSNN_KERNELS_LIF_H

#include <stdint.h>

enum { LIF_SUBTRACT, LIF_ZERO, LIF_NONE, LIF_SUBTRACT_PRE, LIF_ZERO_DROP }; /* = reset_mode */
enum { LIF_GT, LIF_GE };                                                    /* = cmp_mode */

static inline int lif_above(float u, float theta, int cmp) { return cmp == LIF_GE ? u >= theta : u > theta; }

/* One neuron's next membrane; up = u[t−1] (already decayed to t−1), I = input current. */
static inline float lif_next(float up, float I, float b, int R, float beta, float theta, int reset) {
    switch (reset) {
    default:
    case LIF_SUBTRACT: return (beta * up + I) + b - (R ? theta : 0.0f);
    case LIF_ZERO: return R ? I + b : (beta * up + I) + b;
    case LIF_NONE: return (beta * up + I) + b;
    case LIF_SUBTRACT_PRE: return (beta * (up - (R ? theta : 0.0f)) + I) + b;
    case LIF_ZERO_DROP: return R ? 0.0f : (beta * up + I) + b;
    }
}

/* All n neurons one step. u: [n] in/out  cur: [n] currents (NULL: none)  bias: [n] or NULL
 * spk: [n] out, 1 where the neuron fired. Returns the number of spikes. */
uint32_t lif_step_all(float *u, uint8_t *spk, const float *cur, float scale, const float *bias,
                      uint32_t n, float beta, float theta, int reset, int cmp);

/* The same with a threshold per neuron, thn: [n] (a batch-normalised layer folded for
 * inference); cur and bias must be given. */
uint32_t lif_step_all_th(float *u, uint8_t *spk, const float *cur, float scale, const float *bias, const float *thn,
                         uint32_t n, float beta, int reset, int cmp);

/* Indices of the set flags, ascending. ids: [n] out (room for n)  spk: [n]. Returns count. */
uint32_t lif_collect(uint32_t *ids, const uint8_t *spk, uint32_t n);

#endif
