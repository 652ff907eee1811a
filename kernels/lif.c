/* kernels/lif.c — vectorisable all-neuron LIF step (see lif.h). */
#include "lif.h"

#include <stddef.h>

#include "simd.h"

/* One variant per (reset, compare, presence of current and bias, scale), each a straight
 * branch-free loop the compiler vectorises: the selectors are compile-time constants of
 * the always-inlined body. Same expressions, same order as lif_next. */
static inline __attribute__((always_inline)) uint32_t
lif_body(float *restrict u, uint8_t *restrict spk, const float *restrict cur, float scale,
         const float *restrict bias, const float *restrict thn, uint32_t n, float theta0, const int reset,
         const int cmp, const int has_cur, const int scaled, const int has_bias, const int has_thn, float beta) {
    uint32_t count = 0;
    for (uint32_t i = 0; i < n; i++) {
        const float theta = has_thn ? thn[i] : theta0;
        float up = u[i];
        /* R as 0.0/1.0: x − 0·θ = x and 0·u = 0 exactly, so these select without branches
         * and give the same floats as lif_next. */
        float R = (cmp == LIF_GE ? up >= theta : up > theta) ? 1.0f : 0.0f;
        float I = has_cur ? (scaled ? cur[i] * scale : cur[i]) : 0.0f;
        float b = has_bias ? bias[i] : 0.0f;
        float un;
        switch (reset) {
        default:
        case LIF_SUBTRACT: un = (beta * up + I) + b - R * theta; break;
        case LIF_ZERO: un = (beta * (1.0f - R) * up + I) + b; break;
        case LIF_NONE: un = (beta * up + I) + b; break;
        case LIF_SUBTRACT_PRE: un = (beta * (up - R * theta) + I) + b; break;
        case LIF_ZERO_DROP: un = (1.0f - R) * ((beta * up + I) + b) + 0.0f; break; /* + 0: no −0 */
        }
        u[i] = un;
        uint8_t s = cmp == LIF_GE ? un >= theta : un > theta;
        spk[i] = s;
        count += s;
    }
    return count;
}

#define LIF_CASE(RS, CM)                                                                                       \
    case (RS) * 2 + (CM):                                                                                      \
        if (cur && scale != 1.0f && bias)                                                                      \
            return lif_body(u, spk, cur, scale, bias, NULL, n, theta, RS, CM, 1, 1, 1, 0, beta);                \
        if (cur && scale != 1.0f) return lif_body(u, spk, cur, scale, bias, NULL, n, theta, RS, CM, 1, 1, 0, 0, beta); \
        if (cur && bias) return lif_body(u, spk, cur, scale, bias, NULL, n, theta, RS, CM, 1, 0, 1, 0, beta);   \
        if (cur) return lif_body(u, spk, cur, scale, bias, NULL, n, theta, RS, CM, 1, 0, 0, 0, beta);           \
        if (bias) return lif_body(u, spk, cur, scale, bias, NULL, n, theta, RS, CM, 0, 0, 1, 0, beta);          \
        return lif_body(u, spk, cur, scale, bias, NULL, n, theta, RS, CM, 0, 0, 0, 0, beta);

#define ALL_MODES(CASE)                                                                                        \
    switch (reset * 2 + cmp) {                                                                                 \
        CASE(LIF_SUBTRACT, LIF_GT)                                                                             \
        CASE(LIF_SUBTRACT, LIF_GE)                                                                             \
        CASE(LIF_ZERO, LIF_GT)                                                                                 \
        CASE(LIF_ZERO, LIF_GE)                                                                                 \
        CASE(LIF_NONE, LIF_GT)                                                                                 \
        CASE(LIF_NONE, LIF_GE)                                                                                 \
        CASE(LIF_SUBTRACT_PRE, LIF_GT)                                                                         \
        CASE(LIF_SUBTRACT_PRE, LIF_GE)                                                                         \
        CASE(LIF_ZERO_DROP, LIF_GT)                                                                            \
        CASE(LIF_ZERO_DROP, LIF_GE)                                                                            \
    }

KERNEL_CLONES
uint32_t lif_step_all(float *restrict u, uint8_t *restrict spk, const float *restrict cur, float scale,
                      const float *restrict bias, uint32_t n, float beta, float theta, int reset, int cmp) {
    ALL_MODES(LIF_CASE)
    return 0;
}

/* Per-neuron thresholds: a current and a bias are always given (BN folded for inference). */
#define LIF_CASE_TH(RS, CM)                                                                                    \
    case (RS) * 2 + (CM):                                                                                      \
        if (scale != 1.0f) return lif_body(u, spk, cur, scale, bias, thn, n, 0.0f, RS, CM, 1, 1, 1, 1, beta);   \
        return lif_body(u, spk, cur, scale, bias, thn, n, 0.0f, RS, CM, 1, 0, 1, 1, beta);

KERNEL_CLONES
uint32_t lif_step_all_th(float *restrict u, uint8_t *restrict spk, const float *restrict cur, float scale,
                         const float *restrict bias, const float *restrict thn, uint32_t n, float beta, int reset,
                         int cmp) {
    ALL_MODES(LIF_CASE_TH)
    return 0;
}

uint32_t lif_collect(uint32_t *ids, const uint8_t *spk, uint32_t n) {
    uint32_t k = 0, i = 0;
    /* Eight flags at a time: most words are zero at the firing rates SNNs run at. */
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        __builtin_memcpy(&w, spk + i, 8);
        if (!w) continue;
        for (uint32_t j = 0; j < 8; j++) {
            ids[k] = i + j;
            k += spk[i + j];
        }
    }
    for (; i < n; i++) {
        ids[k] = i;
        k += spk[i];
    }
    return k;
}
