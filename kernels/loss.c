/* kernels/loss.c — output losses and their gradients (see loss.h). Sums in double: the
 * loss is reported, and the gradients stay exact float functions of their inputs. */
#include "loss.h"

#include <math.h>
#include <stddef.h>

float loss_mse_count(float *g_count, const float *count, uint32_t C, uint32_t label, uint32_t T,
                     double correct_rate, double incorrect_rate, float scale) {
    /* int(num_steps * rate) as snnTorch writes it: an int times a Python float, i.e. a
     * double product truncated (in float32 21 pairs T ≤ 200, rate k/100 differ, e.g.
     * T = 100, rate 0.58: 57.999999999999993 → 57, where float32 rounds to 58) */
    const float on = (float)(int)((double)T * correct_rate), off = (float)(int)((double)T * incorrect_rate);
    const float inv = 1.0f / ((float)C * (float)T);
    double L = 0.0;
    for (uint32_t j = 0; j < C; j++) {
        const float d = count[j] - (j == label ? on : off);
        L += (double)d * d;
        g_count[j] = 2.0f * d * inv * scale;
    }
    return (float)(L / ((double)C * T));
}

/* log Σ exp(x) − x[label] and softmax − onehot, stable. */
static float ce_row(float *g, const float *x, uint32_t C, uint32_t label, float scale) {
    float m = x[0];
    for (uint32_t j = 1; j < C; j++) m = fmaxf(m, x[j]);
    double z = 0.0;
    for (uint32_t j = 0; j < C; j++) z += exp((double)(x[j] - m));
    const double lse = (double)m + log(z);
    for (uint32_t j = 0; j < C; j++) {
        const double p = exp((double)x[j] - lse);
        g[j] = (float)((p - (j == label ? 1.0 : 0.0)) * scale);
    }
    return (float)(lse - x[label]);
}

float loss_ce_count(float *g_count, const float *count, uint32_t C, uint32_t label, float scale) {
    return ce_row(g_count, count, C, label, scale);
}

float loss_ce_rate(float *g_s, const float *s, uint32_t T, uint32_t C, uint32_t label, float scale) {
    double L = 0.0;
    for (uint32_t t = 0; t < T; t++) L += ce_row(g_s + (size_t)t * C, s + (size_t)t * C, C, label, scale / (float)T);
    return (float)(L / T);
}

float loss_mem_mse(float *g_u, const float *u, const float *target, uint32_t T, uint32_t C, float scale) {
    const size_t n = (size_t)T * C;
    const float inv = 2.0f / (float)n;
    double L = 0.0;
    for (size_t i = 0; i < n; i++) {
        const float d = u[i] - target[i];
        L += (double)d * d;
        g_u[i] = d * inv * scale;
    }
    return (float)(L / (double)n);
}

uint32_t loss_argmax(const float *count, uint32_t C) {
    uint32_t k = 0;
    for (uint32_t j = 1; j < C; j++)
        if (count[j] > count[k]) k = j;
    return k;
}
