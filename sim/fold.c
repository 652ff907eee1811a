/* sim/fold.c — batch normalisation folded into the network for inference (see fold.h). */
#include "fold.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "evsnn.h"

int net_has_bn(const net *n) {
    for (uint32_t l = 0; l < n->n_layers; l++)
        if (n->layers[l].bn) return 1;
    return 0;
}

/* The architecture string without its BN tokens. */
static void strip_bn(char *dst, size_t len, const char *arch) {
    size_t u = 0;
    const char *p = arch;
    dst[0] = 0;
    while (*p) {
        const char *q = strchr(p, '-');
        const size_t k = q ? (size_t)(q - p) : strlen(p);
        const int bn = k == 2 && (!strncmp(p, "BN", 2) || !strncmp(p, "bn", 2));
        if (!bn && u + k + 2 < len) {
            if (u) dst[u++] = '-';
            memcpy(dst + u, p, k);
            u += k;
            dst[u] = 0;
        }
        if (!q) break;
        p = q + 1;
    }
}

net *net_fold_bn(const net *n, fold_mode mode, int *err) {
    net *f = calloc(1, sizeof *f);
    if (!f) goto oom;
    *f = *n;
    f->layers = NULL;
    f->params = NULL;
    f->stats = NULL;
    f->n_stats = 0;
    strip_bn(f->arch, sizeof f->arch, n->arch);
    if (!(f->layers = calloc(n->n_layers, sizeof *f->layers))) goto oom;
    /* New layout: every spiking layer's weights, then its bias (a BN layer always gets one). */
    size_t off = 0;
    for (uint32_t l = 0; l < n->n_layers; l++) {
        const net_layer *L = &n->layers[l];
        net_layer *F = &f->layers[l];
        *F = *L;
        F->bn = 0;
        F->bn_g = F->bn_b = F->bn_mean = F->bn_var = NULL;
        F->bng_off = F->bnb_off = 0;
        F->theta_c = NULL;
        F->w = F->b = NULL;
        if (L->kind == NET_POOL) continue;
        if (L->bn) {
            F->n_b = L->out_c;
            F->nc.bias = 1;
        }
        F->w_off = off; off += F->n_w;
        F->b_off = off; off += F->n_b;
    }
    f->n_params = off;
    if (!(f->params = calloc(off ? off : 1, sizeof *f->params))) goto oom;
    for (uint32_t l = 0; l < n->n_layers; l++) {
        const net_layer *L = &n->layers[l];
        net_layer *F = &f->layers[l];
        if (L->kind == NET_POOL) continue;
        F->w = f->params + F->w_off;
        F->b = F->n_b ? f->params + F->b_off : NULL;
        memcpy(F->w, L->w, L->n_w * sizeof *F->w);
        if (L->b) memcpy(F->b, L->b, L->n_b * sizeof *F->b);
        if (L->theta_c) {
            if (!(F->theta_c = malloc(L->out_c * sizeof *F->theta_c))) goto oom;
            memcpy(F->theta_c, L->theta_c, L->out_c * sizeof *F->theta_c);
        }
        if (!L->bn) continue;
        /* The neurons of channel c receive I = scale·(Σ w·x) + bmul·b (the engine's current:
         * bmul = p² under sum pooling of currents) and BN makes it a·I + sh. */
        const float bmul = L->kind == NET_CONV && L->pool == POOL_SUM ? (float)(L->pool_k * L->pool_k) : 1.0f;
        if (mode == FOLD_THRESHOLDS && !F->theta_c) {
            if (!(F->theta_c = malloc(L->out_c * sizeof *F->theta_c))) goto oom;
            for (uint32_t c = 0; c < L->out_c; c++) F->theta_c[c] = L->nc.theta;
        }
        const size_t per = L->kind == NET_CONV ? L->n_w / L->out_c : 0; /* a conv channel's weights */
        for (uint32_t c = 0; c < L->out_c; c++) {
            const double a = (double)L->bn_g[c] / sqrt((double)L->bn_var[c] + NET_BN_EPS);
            const double sh = (double)L->bn_b[c] - a * L->bn_mean[c];
            const double b0 = L->b ? L->b[c] : 0.0;
            /* mode weights: w·a, bias a·b + sh/bmul; thresholds: divide the membrane by |a|, so w·sign(a),
             * bias sign(a)·b + sh/(|a|·bmul), θ/|a| (a = 0: a constant current, sh). */
            double ws, bias, th = 1.0;
            if (mode == FOLD_WEIGHTS) {
                ws = a;
                bias = a * b0 + sh / bmul;
            } else if (a != 0.0) {
                ws = a > 0 ? 1.0 : -1.0;
                bias = ws * b0 + sh / (fabs(a) * bmul);
                th = 1.0 / fabs(a);
            } else {
                ws = 0.0;
                bias = sh / bmul;
            }
            if (L->kind == NET_CONV)
                for (size_t k = 0; k < per; k++) F->w[c * per + k] = (float)(ws * L->w[c * per + k]);
            else
                for (uint32_t i = 0; i < L->n_in; i++) F->w[(size_t)i * L->n_out + c] = (float)(ws * L->w[(size_t)i * L->n_out + c]);
            F->b[c] = (float)bias;
            if (mode == FOLD_THRESHOLDS) F->theta_c[c] = (float)(F->theta_c[c] * th);
        }
    }
    *err = 0;
    return f;
oom:
    net_free(f);
    *err = evsnn_seterr(EVSNN_ENOMEM, "folding batch normalisation: no memory");
    return NULL;
}
