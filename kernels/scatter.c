/* kernels/scatter.c — dense synaptic scatter, plain and fast (see scatter.h). */
#include "scatter.h"

#include "simd.h"

#include <string.h>

/* The oracle must stay scalar and one event at a time: it defines the summation order. */
#if defined(__clang__)
#define NO_VECTORIZE
#else
#define NO_VECTORIZE __attribute__((optimize("no-tree-vectorize")))
#endif
NO_VECTORIZE
void scatter_dense_ref(float *acc, const float *w, const uint32_t *idx, const float *val,
                       uint32_t n_ev, uint32_t n_out) {
    for (uint32_t e = 0; e < n_ev; e++) {
        const float *row = w + (uint64_t)idx[e] * n_out;
        float v = val ? val[e] : 1.0f;
        for (uint32_t j = 0; j < n_out; j++) acc[j] += v * row[j];
    }
}

/* Four rows per pass: acc is loaded and stored once per four weight rows, which halves the
 * L1 traffic that bounds this loop. Compiled for AVX-512 and AVX2 with a generic fallback
 * (the loader picks one per process, never per event). */
KERNEL_CLONES
void scatter_dense(float *restrict acc, const float *restrict w, const uint32_t *restrict idx,
                   const float *restrict val, uint32_t n_ev, uint32_t n_out) {
    uint32_t e = 0;
    if (!val) {
        for (; e + 4 <= n_ev; e += 4) {
            const float *r0 = w + (uint64_t)idx[e] * n_out, *r1 = w + (uint64_t)idx[e + 1] * n_out;
            const float *r2 = w + (uint64_t)idx[e + 2] * n_out, *r3 = w + (uint64_t)idx[e + 3] * n_out;
            for (uint32_t j = 0; j < n_out; j++) acc[j] += (r0[j] + r1[j]) + (r2[j] + r3[j]);
        }
        for (; e < n_ev; e++) {
            const float *r0 = w + (uint64_t)idx[e] * n_out;
            for (uint32_t j = 0; j < n_out; j++) acc[j] += r0[j];
        }
        return;
    }
    for (; e + 4 <= n_ev; e += 4) {
        const float *r0 = w + (uint64_t)idx[e] * n_out, *r1 = w + (uint64_t)idx[e + 1] * n_out;
        const float *r2 = w + (uint64_t)idx[e + 2] * n_out, *r3 = w + (uint64_t)idx[e + 3] * n_out;
        float v0 = val[e], v1 = val[e + 1], v2 = val[e + 2], v3 = val[e + 3];
        for (uint32_t j = 0; j < n_out; j++) acc[j] += (v0 * r0[j] + v1 * r1[j]) + (v2 * r2[j] + v3 * r3[j]);
    }
    for (; e < n_ev; e++) {
        const float *r0 = w + (uint64_t)idx[e] * n_out;
        float v0 = val[e];
        for (uint32_t j = 0; j < n_out; j++) acc[j] += v0 * r0[j];
    }
}

void matvec_dense(float *acc, const float *w, const float *x, uint32_t n_in, uint32_t n_out) {
    memset(acc, 0, (uint64_t)n_out * sizeof *acc);
    for (uint32_t i = 0; i < n_in; i++) {
        if (x[i] == 0.0f) continue;
        const float *row = w + (uint64_t)i * n_out;
        float v = x[i];
        for (uint32_t j = 0; j < n_out; j++) acc[j] += v * row[j];
    }
}
