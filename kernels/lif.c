/* kernels/lif.c — vectorisable all-neuron LIF step (see lif.h). */
#include "lif.h"

/* The reset mode, compare mode and presence of current/bias are hoisted out of the loop
 * so that each variant is a straight loop the compiler vectorises. */
__attribute__((target_clones("avx512f", "avx2", "default")))
uint32_t lif_step_all(float *restrict u, uint8_t *restrict spk, const float *restrict cur, float scale,
                      const float *restrict bias, uint32_t n, float beta, float theta, int reset, int cmp) {
    uint32_t count = 0;
    for (uint32_t i = 0; i < n; i++) {
        float up = u[i];
        int R = cmp == LIF_GE ? up >= theta : up > theta;
        float I = cur ? (scale == 1.0f ? cur[i] : cur[i] * scale) : 0.0f;
        float b = bias ? bias[i] : 0.0f;
        float un;
        switch (reset) {
        default:
        case LIF_SUBTRACT: un = (beta * up + I) + b - (R ? theta : 0.0f); break;
        case LIF_ZERO: un = R ? I + b : (beta * up + I) + b; break;
        case LIF_NONE: un = (beta * up + I) + b; break;
        case LIF_SUBTRACT_PRE: un = (beta * (up - (R ? theta : 0.0f)) + I) + b; break;
        case LIF_ZERO_DROP: un = R ? 0.0f : (beta * up + I) + b; break;
        }
        u[i] = un;
        uint8_t s = cmp == LIF_GE ? un >= theta : un > theta;
        spk[i] = s;
        count += s;
    }
    return count;
}
