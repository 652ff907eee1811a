/* kernels/bn.c — batch normalisation of currents and its backward (see bn.h). */
#include "bn.h"

#include "simd.h"

/* Sums over a channel's positions in eight independent double lanes (the compiler pairs them
 * into vectors; one chain would wait on each add), then the lanes and the tail. */
static inline __attribute__((always_inline)) double lanes_sum(const double *a) {
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

KERNEL_CLONES
void bn_sum(double *s, const float *x, const double *shift, uint32_t C, uint32_t P, int sq) {
    for (uint32_t c = 0; c < C; c++) {
        const float *xc = x + (uint64_t)c * P;
        const double m = shift ? shift[c] : 0.0;
        double a[8] = {0};
        uint32_t p = 0;
        for (; p + 8 <= P; p += 8)
            for (int j = 0; j < 8; j++) {
                const double d = (double)xc[p + j] - m;
                a[j] += sq ? d * d : d;
            }
        double r = lanes_sum(a);
        for (; p < P; p++) {
            const double d = (double)xc[p] - m;
            r += sq ? d * d : d;
        }
        s[c] += r;
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

KERNEL_CLONES
void bn_backward_sums(double *sd, double *sdx, const float *dy, const float *xh, uint32_t C, uint32_t P) {
    for (uint32_t c = 0; c < C; c++) {
        const uint64_t o = (uint64_t)c * P;
        double a[8] = {0}, q[8] = {0};
        uint32_t p = 0;
        for (; p + 8 <= P; p += 8)
            for (int j = 0; j < 8; j++) {
                a[j] += dy[o + p + j];
                q[j] += (double)dy[o + p + j] * xh[o + p + j];
            }
        double ra = lanes_sum(a), rq = lanes_sum(q);
        for (; p < P; p++) {
            ra += dy[o + p];
            rq += (double)dy[o + p] * xh[o + p];
        }
        sd[c] += ra;
        sdx[c] += rq;
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
