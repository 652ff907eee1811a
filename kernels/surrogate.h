/* kernels/surrogate.h — surrogate derivatives of the spike function (DESIGN §4).
 *
 * The forward spike is always H(x) with x = u − θ_c; backward replaces H'(x) by σ'(x).
 * Formulas and default arguments are snnTorch's (≥ 0.8), so a user's "fast_sigmoid with
 * slope 25" means the same here:
 *   atan                 α/2 / (1 + (π/2·α·x)²)                  alpha = 2
 *   fast_sigmoid         1 / (1 + k|x|)²                          k = 25
 *   sigmoid              k·σ(kx)·(1 − σ(kx))  (never NaN)        k = 25
 *   triangular           +θ for x < 0, −θ for x ≥ 0 (as snnTorch codes it)   threshold = 1
 *   straight_through     1
 *   heaviside            H(x)  (x > 0)
 *   spike_rate_escape    k·exp(−β|x − 1|)                         beta = 1, k = 25
 *   sparse_fast_sigmoid  1/(1 + k|x|)² · [x > B]                  k = 25, B = 1
 * Optional truncation eps > 0: |σ'(x)| < eps is returned as 0 (sparse backward, default off).
 * Names on the command line: "fast_sigmoid:k=0.25", "atan:alpha=2", "sfs:k=25,B=1",
 * "sigmoid:k=5,eps=1e-3". Nothing of the project is included; plain functions. */
#ifndef EVSNN_KERNELS_SURROGATE_H
#define EVSNN_KERNELS_SURROGATE_H

#include <stddef.h>
#include <stdint.h>

enum { SG_ATAN, SG_FAST_SIGMOID, SG_SIGMOID, SG_TRIANGULAR, SG_STE, SG_HEAVISIDE, SG_SRE, SG_SFS, SG_N_KINDS };

typedef struct {
    int kind;   /* SG_* */
    float a;    /* alpha (atan), k (fast_sigmoid, sigmoid, spike_rate_escape, sfs), threshold (triangular) */
    float b;    /* beta (spike_rate_escape), B (sfs) */
    float eps;  /* truncation: |σ'| < eps → 0 (0: off) */
} surrogate;

/* snnTorch's defaults for a kind. */
surrogate sg_default(int kind);

/* σ'(x) at one point. */
float sg_grad(const surrogate *s, float x);

/* out[i] = g[i] · σ'(u[i] − c) for n neurons (g NULL: all 1).
 * out: [n]  u: [n] membranes  g: [n] upstream gradient or NULL */
void sg_grad_vec(float *out, const float *u, const float *g, float c, uint32_t n, const surrogate *s);

/* Parse "name[:key=value[,key=value]]". 0 on success; −1 with a one-line reason in msg. */
int sg_parse(surrogate *s, const char *spec, char *msg, size_t msglen);

/* Canonical text of s ("fast_sigmoid:k=25"), for logs and model files. */
void sg_format(char *buf, size_t len, const surrogate *s);

const char *sg_name(int kind);

#endif
