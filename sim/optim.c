/* sim/optim.c — SGD with momentum, Adam, cosine warm restarts, clipping (see optim.h). */
#include "optim.h"

#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <stdlib.h>
#include <string.h>

#include "evsnn.h"

opt_cfg optim_defaults(opt_kind kind) {
    opt_cfg c = {.kind = kind, .lr = kind == OPT_ADAM ? 1e-3f : 1e-2f, .momentum = 0.0f, .beta1 = 0.9f,
                 .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = 0.0f, .cos_T0 = 0, .cos_Tmult = 1, .eta_min = 0.0f};
    return c;
}

optim *optim_create(const opt_cfg *c, size_t n, int *err) {
    if (!(c->lr > 0.0f) || !isfinite(c->lr)) {
        *err = evsnn_seterr(EVSNN_EINVAL, "optimizer: learning rate %g is not a positive finite number", (double)c->lr);
        return NULL;
    }
    if (c->kind == OPT_ADAM && !(c->beta1 >= 0.0f && c->beta1 < 1.0f && c->beta2 >= 0.0f && c->beta2 < 1.0f)) {
        *err = evsnn_seterr(EVSNN_EINVAL, "optimizer: Adam betas (%g, %g) must lie in [0, 1)", (double)c->beta1,
                            (double)c->beta2);
        return NULL;
    }
    if (c->momentum < 0.0f || c->momentum >= 1.0f || c->weight_decay < 0.0f || c->eta_min < 0.0f) {
        *err = evsnn_seterr(EVSNN_EINVAL, "optimizer: momentum in [0, 1), weight decay and eta_min ≥ 0 expected");
        return NULL;
    }
    optim *o = calloc(1, sizeof *o);
    if (!o) goto oom;
    o->c = *c;
    if (o->c.cos_Tmult == 0) o->c.cos_Tmult = 1;
    o->n = n;
    o->m = calloc(n ? n : 1, sizeof *o->m);
    if (!o->m) goto oom;
    if (c->kind == OPT_ADAM && !(o->v = calloc(n ? n : 1, sizeof *o->v))) goto oom;
    return o;
oom:
    optim_free(o);
    *err = evsnn_seterr(EVSNN_ENOMEM, "optimizer: no memory for %zu parameters", n);
    return NULL;
}

void optim_free(optim *o) {
    if (!o) return;
    free(o->m);
    free(o->v);
    free(o);
}

float optim_lr(const optim *o) {
    const opt_cfg *c = &o->c;
    if (c->cos_T0 == 0) return c->lr;
    uint64_t Tcur = o->t, Ti = c->cos_T0;
    while (!c->cos_continue && Tcur >= Ti) { /* walk the restarts; periods grow geometrically, so this is short */
        Tcur -= Ti;
        Ti *= c->cos_Tmult;
    }
    return (float)(c->eta_min + (c->lr - c->eta_min) * (1.0 + cos(M_PI * (double)Tcur / (double)Ti)) / 2.0);
}

/* Long vectors are updated by all threads, each element by itself: the same floats for any
 * thread count (the build's -fno-math-errno lets √ vectorise). */
#define PAR_MIN ((size_t)1 << 16)
#ifdef _OPENMP
#define NT(t) ((t) > 0 ? (t) : omp_get_max_threads())
#else
#define NT(t) ((void)(t), 1)
#endif

void optim_step(optim *o, float *p, float *g) {
    const opt_cfg *c = &o->c;
    const float lr = optim_lr(o);
    const size_t n = o->n;
    const int nt = NT(o->threads);
    (void)nt; /* only the pragmas read it */
    float *restrict m = o->m, *restrict v = o->v;
    if (c->weight_decay > 0.0f) {
        const float wd = c->weight_decay;
#pragma omp parallel for simd num_threads(nt) if (n >= PAR_MIN) schedule(static)
        for (size_t i = 0; i < n; i++) g[i] += wd * p[i];
    }
    o->t++;
    if (c->kind == OPT_SGD) {
        const float mu = c->momentum;
        if (mu > 0.0f) {
            const int first = o->t == 1;
#pragma omp parallel for simd num_threads(nt) if (n >= PAR_MIN) schedule(static)
            for (size_t i = 0; i < n; i++) {
                m[i] = first ? g[i] : mu * m[i] + g[i];
                p[i] -= lr * m[i];
            }
        } else {
#pragma omp parallel for simd num_threads(nt) if (n >= PAR_MIN) schedule(static)
            for (size_t i = 0; i < n; i++) p[i] -= lr * g[i];
        }
        return;
    }
    const float b1 = c->beta1, b2 = c->beta2, eps = c->eps;
    const float bc1 = 1.0f - powf(b1, (float)o->t), bc2 = 1.0f - powf(b2, (float)o->t);
    const float step = lr / bc1, sbc2 = sqrtf(bc2);
#pragma omp parallel for simd num_threads(nt) if (n >= PAR_MIN) schedule(static)
    for (size_t i = 0; i < n; i++) {
        m[i] = b1 * m[i] + (1.0f - b1) * g[i];
        v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
        p[i] -= step * m[i] / (sqrtf(v[i]) / sbc2 + eps);
    }
}

double optim_norm(const float *g, size_t n, int threads) {
    /* 64 blocks, each in four interleaved partial sums, added in order: the same double for any
     * thread count */
    enum { NB = 64 };
    (void)threads; /* only the pragma reads it */
    double part[NB];
    const size_t bl = (n + NB - 1) / NB;
#pragma omp parallel for num_threads(NT(threads)) if (n >= PAR_MIN) schedule(static)
    for (int b = 0; b < NB; b++) {
        const size_t lo = (size_t)b * bl < n ? (size_t)b * bl : n, hi = lo + bl < n ? lo + bl : n;
        double s[4] = {0, 0, 0, 0};
        size_t i = lo;
        for (; i + 4 <= hi; i += 4)
            for (int k = 0; k < 4; k++) s[k] += (double)g[i + k] * g[i + k];
        for (; i < hi; i++) s[0] += (double)g[i] * g[i];
        part[b] = (s[0] + s[1]) + (s[2] + s[3]);
    }
    double s = 0.0;
    for (int b = 0; b < NB; b++) s += part[b];
    return sqrt(s);
}

double optim_clip_norm(float *g, size_t n, float max_norm, int threads) {
    const double norm = optim_norm(g, n, threads);
    const double coef = max_norm / (norm + 1e-6);
    if (coef < 1.0) {
#pragma omp parallel for simd num_threads(NT(threads)) if (n >= PAR_MIN) schedule(static)
        for (size_t i = 0; i < n; i++) g[i] = (float)(g[i] * coef);
    }
    return norm;
}

void optim_clamp(float *p, size_t n, float c) {
    for (size_t i = 0; i < n; i++) p[i] = fminf(fmaxf(p[i], -c), c);
}
