/* kernels/conv.c — event-driven convolution scatter (see conv.h). */
#include "conv.h"

/* The valid kernel rows/columns are computed once per event, so the inner loops carry no
 * bounds checks: oy = y + pad − ky must lie in [0, lim) with lim the covered map height. */
static inline void krange(uint32_t y, uint32_t pad, uint32_t k, uint32_t lim, uint32_t *lo, uint32_t *hi) {
    int a = (int)y + (int)pad - (int)lim + 1, b = (int)y + (int)pad; /* ky in [a, b] */
    if (a < 0) a = 0;
    if (b > (int)k - 1) b = (int)k - 1;
    *lo = (uint32_t)a;
    *hi = b >= a ? (uint32_t)b + 1 : (uint32_t)a;
}

uint32_t conv_scatter(float *acc, const float *w, const conv_geom *g, uint32_t ci, uint32_t y, uint32_t x, float v) {
    const uint32_t k = g->k, p = g->p, limh = g->limh, limw = g->limw, th = g->th, tw = g->tw;
    uint32_t ky0, ky1, kx0, kx1;
    krange(y, g->pad, k, limh, &ky0, &ky1);
    krange(x, g->pad, k, limw, &kx0, &kx1);
    if (ky0 >= ky1 || kx0 >= kx1) return 0;
    const int vone = v == 1.0f;
    for (uint32_t co = 0; co < g->out_c; co++) {
        const float *wk = w + ((uint64_t)co * g->in_c + ci) * k * k;
        float *a = acc + (uint64_t)co * th * tw;
        for (uint32_t ky = ky0; ky < ky1; ky++) {
            uint32_t oy = y + g->pad - ky;
            const float *wr = wk + ky * k;
            if (p == 1) {
                float *ar = a + (uint64_t)oy * tw + (x + g->pad);
                if (vone)
                    for (uint32_t kx = kx0; kx < kx1; kx++) ar[-(int)kx] += wr[kx];
                else
                    for (uint32_t kx = kx0; kx < kx1; kx++) ar[-(int)kx] += v * wr[kx];
            } else {
                float *ar = a + (uint64_t)(oy / p) * tw;
                for (uint32_t kx = kx0; kx < kx1; kx++) ar[(x + g->pad - kx) / p] += vone ? wr[kx] : v * wr[kx];
            }
        }
    }
    return g->out_c * (ky1 - ky0) * (kx1 - kx0);
}
