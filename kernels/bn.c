/* kernels/bn.c — batch normalisation of currents and its backward (see bn.h). */
#include "bn.h"

#include "simd.h"

void bn_sum(double *s, const float *x, const double *shift, uint32_t C, uint32_t P, int sq) {
    for (uint32_t c = 0; c < C; c++) {
        const float *xc = x + (uint64_t)c * P;
        const double m = shift ? shift[c] : 0.0;
        double a = 0.0;
        if (sq)
            for (uint32_t p = 0; p < P; p++) a += ((double)xc[p] - m) * ((double)xc[p] - m);
        else
            for (uint32_t p = 0; p < P; p++) a += (double)xc[p] - m;
        s[c] += a;
    }
}

KERNEL_CLONES
void bn_forward(float *y, float *xh, const float *x, const float *mu, const float *r, const float *g, const float *b,
                uint32_t C, uint32_t P) {
    for (uint32_t c = 0; c < C; c++) {
        const uint64_t o = (uint64_t)c * P;
        const float m = mu[c], rc = r[c], gc = g[c], bc = b[c];
        for (uint32_t p = 0; p < P; p++) {
            const float h = (x[o + p] - m) * rc;
            xh[o + p] = h;
            y[o + p] = gc * h + bc;
        }
    }
}

KERNEL_CLONES
void bn_eval(float *y, const float *x, const float *mean, const float *r, const float *g, const float *b, uint32_t C,
             uint32_t P) {
    for (uint32_t c = 0; c < C; c++) {
        const uint64_t o = (uint64_t)c * P;
        const float m = mean[c], rc = r[c], gc = g[c], bc = b[c];
        for (uint32_t p = 0; p < P; p++) y[o + p] = gc * ((x[o + p] - m) * rc) + bc;
    }
}

void bn_backward_sums(double *sd, double *sdx, const float *dy, const float *xh, uint32_t C, uint32_t P) {
    for (uint32_t c = 0; c < C; c++) {
        const uint64_t o = (uint64_t)c * P;
        double a = 0.0, q = 0.0;
        for (uint32_t p = 0; p < P; p++) {
            a += dy[o + p];
            q += (double)dy[o + p] * xh[o + p];
        }
        sd[c] += a;
        sdx[c] += q;
    }
}

KERNEL_CLONES
void bn_backward(float *dx, const float *dy, const float *xh, const float *g, const float *r, const float *md,
                 const float *mdx, uint32_t C, uint32_t P) {
    for (uint32_t c = 0; c < C; c++) {
        const uint64_t o = (uint64_t)c * P;
        const float k = g[c] * r[c], m = md[c], q = mdx[c];
        for (uint32_t p = 0; p < P; p++) dx[o + p] = k * ((dy[o + p] - m) - xh[o + p] * q);
    }
}
