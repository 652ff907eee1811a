/* sim/backward.c — BPTT over recorded traces (see backward.h). */
#include "backward.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "evsnn.h"
#include "kernels/backward.h"
#include "kernels/lif.h"
#include "kernels/scatter.h"

struct bwd {
    uint32_t T_max, maxn, maxfull;
    float *gout, *gin;   /* [T_max, maxn] dL/d(layer output), dL/d(layer input) */
    float *delta;        /* [T_max, maxn] δ then dI of the current layer */
    float *tmp;          /* [maxn] */
    float *full, *dfull; /* [maxfull] conv currents and their gradient at one step */
    float *xd;           /* [maxn] dense input of one step (max pooling of spikes) */
    uint32_t *col_off;   /* [maxn+1] input events grouped by channel (CSC) */
    uint32_t *col_t;     /* [col_cap] their steps */
    float *col_v;        /* [col_cap] their values */
    uint32_t col_cap;
    float *wt;           /* [max n_in·n_out of dense layers above the first] transposed weights */
    float *umem;         /* [T_max, maxn] recomputed membranes of one layer (sparse recording) */
    float *cur;          /* [maxn] currents of one step */
    float *curd;         /* [maxn] the same after dropout */
};

bwd *bwd_create(const net *n, uint32_t T_max, int *err) {
    uint32_t maxn = n->n_in, maxfull = 1;
    for (uint32_t l = 0; l < n->n_layers; l++) {
        const net_layer *L = &n->layers[l];
        if (L->n_out > maxn) maxn = L->n_out;
        if (L->n_in > maxn) maxn = L->n_in;
        if (L->kind == NET_CONV && L->out_c * L->conv_h * L->conv_w > maxfull) maxfull = L->out_c * L->conv_h * L->conv_w;
    }
    size_t maxwt = 1;
    for (uint32_t l = 1; l < n->n_layers; l++)
        if (n->layers[l].kind == NET_DENSE && n->layers[l].n_w > maxwt) maxwt = n->layers[l].n_w;
    bwd *b = calloc(1, sizeof *b);
    if (!b) goto oom;
    if (!(b->wt = malloc(maxwt * sizeof(float)))) goto oom;
    b->T_max = T_max;
    b->maxn = maxn;
    b->maxfull = maxfull;
    const size_t tn = (size_t)T_max * maxn;
    b->gout = malloc(tn * sizeof(float));
    b->gin = malloc(tn * sizeof(float));
    b->delta = malloc(tn * sizeof(float));
    b->tmp = malloc(maxn * sizeof(float));
    b->xd = malloc(maxn * sizeof(float));
    b->full = malloc(maxfull * sizeof(float));
    b->dfull = malloc(maxfull * sizeof(float));
    b->umem = malloc(tn * sizeof(float));
    b->cur = malloc(maxn * sizeof(float));
    b->curd = malloc(maxn * sizeof(float));
    if (!b->umem || !b->cur || !b->curd) goto oom;
    b->col_off = malloc(((size_t)maxn + 1) * sizeof(uint32_t));
    if (!b->col_off) goto oom;
    if (!b->gout || !b->gin || !b->delta || !b->tmp || !b->xd || !b->full || !b->dfull) goto oom;
    return b;
oom:
    bwd_free(b);
    *err = evsnn_seterr(EVSNN_ENOMEM, "backward workspace: no memory for T = %u", T_max);
    return NULL;
}

void bwd_free(bwd *b) {
    if (!b) return;
    free(b->gout); free(b->gin); free(b->delta); free(b->tmp); free(b->xd); free(b->full); free(b->dfull);
    free(b->col_off); free(b->col_t); free(b->col_v); free(b->wt); free(b->umem); free(b->cur); free(b->curd);
    free(b);
}

/* The input events of layer l at step t (NULL train: static input). */
static const spk_train *layer_input(const sim_input *in, const sim_result *res, uint32_t l) {
    return l == 0 ? in->train : &res->out[l - 1];
}

static void conv_geom(const net_layer *L, bwd_conv_geom *g) {
    *g = (bwd_conv_geom){.in_c = L->in_c, .in_h = L->in_h, .in_w = L->in_w, .out_c = L->out_c,
                         .conv_h = L->conv_h, .conv_w = L->conv_w, .k = L->k, .pad = L->pad};
}

/* All channels of a static input as an event list (idx = 0..n−1, val = x), built lazily in
 * the caller's scratch so that the conv kernels can treat static input like a train. */
typedef struct {
    const uint32_t *idx;
    const float *val;
    uint32_t n;
} evlist;

static evlist events_at(const spk_train *s, uint32_t t) {
    const uint32_t k = s->off[t];
    return (evlist){s->idx + k, s->val ? s->val + k : NULL, s->off[t + 1] - k};
}

/* Group a train's events by channel (counting sort; steps stay increasing within a
 * channel, so the sums per weight row follow time order). */
static int to_csc(bwd *b, const spk_train *s) {
    if (s->nnz > b->col_cap) {
        uint32_t *t = realloc(b->col_t, (size_t)s->nnz * sizeof *t);
        if (t) b->col_t = t;
        float *v = realloc(b->col_v, (size_t)s->nnz * sizeof *v);
        if (v) b->col_v = v;
        if (!t || !v) return evsnn_seterr(EVSNN_ENOMEM, "backward: no memory for %u events", s->nnz);
        b->col_cap = s->nnz;
    }
    uint32_t *off = b->col_off;
    memset(off, 0, ((size_t)s->n + 1) * sizeof *off);
    for (uint32_t k = 0; k < s->nnz; k++) off[s->idx[k] + 1]++;
    for (uint32_t i = 0; i < s->n; i++) off[i + 1] += off[i];
    for (uint32_t t = 0; t < s->T; t++)
        for (uint32_t k = s->off[t]; k < s->off[t + 1]; k++) {
            const uint32_t pos = off[s->idx[k]]++;
            b->col_t[pos] = t;
            b->col_v[pos] = spk_val(s, k);
        }
    for (uint32_t i = s->n; i > 0; i--) off[i] = off[i - 1]; /* shift back to start offsets */
    off[0] = 0;
    return 0;
}

/* δ recursion of one spiking layer: writes dI into b->delta [T, n_out]. */
static void layer_delta(bwd *b, const net_layer *L, const bwd_cfg *c, float theta_c, const float *mem,
                        const spk_train *out, const float *g_s, const float *g_u, uint32_t T, float *dmem) {
    const uint32_t no = L->n_out;
    const float beta = L->nc.beta;
    const int gated = L->nc.reset == RESET_ZERO || L->nc.reset == RESET_ZERO_DROP;
    float *carry = b->tmp; /* β·c[t+1]·δ[t+1] */
    memset(carry, 0, no * sizeof *carry);
    for (uint32_t t = T; t-- > 0;) {
        float *d = b->delta + (size_t)t * no;
        if (g_s) sg_grad_vec(d, mem + (size_t)t * no, g_s + (size_t)t * no, theta_c, no, &c->sg);
        else memset(d, 0, no * sizeof *d);
        if (g_u)
            for (uint32_t j = 0; j < no; j++) d[j] += g_u[(size_t)t * no + j];
        for (uint32_t j = 0; j < no; j++) {
            d[j] += carry[j];
            carry[j] = beta * d[j];
        }
        /* carry now goes to δ[t−1]: a spike at t−1 is the reset R[t], which under zero reset
         * cuts u[t−1] out of u[t]. */
        if (gated && t > 0)
            for (uint32_t k = out->off[t - 1]; k < out->off[t]; k++) carry[out->idx[k]] = 0.0f;
        if (dmem) memcpy(dmem + (size_t)t * no, d, no * sizeof *d);
    }
    if (L->nc.reset == RESET_ZERO_DROP) /* u[t] = (1 − R[t])(βu + I): dI[t] = δ[t]·(1 − s[t−1]) */
        for (uint32_t t = 1; t < T; t++)
            for (uint32_t k = out->off[t - 1]; k < out->off[t]; k++) b->delta[(size_t)t * no + out->idx[k]] = 0.0f;
}

/* Sparse recording: rebuild a spiking layer's membranes u [T, n_out] from what the forward
 * kept, its input train (or static input) and its own output train: currents from the
 * input events (dense rows or conv footprints, then the pooling of currents), the reset
 * R[t] = s[t−1] taken from the recorded spikes, and the LIF rule of kernels/lif.h. The
 * result equals the engine's membranes up to float rounding of the lazy decay. */
static void recompute_mem(bwd *b, const net_layer *L, const sim_input *in, const spk_train *src, const spk_train *out,
                          uint32_t T, float *u, uint32_t l, float pdrop) {
    const uint32_t no = L->n_out;
    float *cur = b->cur, *prev = NULL;
    int static_done = 0;
    for (uint32_t t = 0; t < T; t++) {
        float *ut = u + (size_t)t * no;
        if (!src && static_done) {
            /* static input: the same currents as the previous step */
        } else if (L->kind == NET_DENSE) {
            if (src) {
                memset(cur, 0, no * sizeof *cur);
                const uint32_t k = src->off[t];
                scatter_dense(cur, L->w, src->idx + k, src->val ? src->val + k : NULL, src->off[t + 1] - k, no);
            } else {
                matvec_dense(cur, L->w, in->static_x, L->n_in, no);
            }
            if (L->b)
                for (uint32_t j = 0; j < no; j++) cur[j] += L->b[j];
            static_done = !src;
        } else { /* conv: full-resolution currents with bias, then the pooling of currents */
            bwd_conv_geom g = {.in_c = L->in_c, .in_h = L->in_h, .in_w = L->in_w, .out_c = L->out_c,
                               .conv_h = L->conv_h, .conv_w = L->conv_w, .k = L->k, .pad = L->pad};
            if (src) {
                const uint32_t k = src->off[t];
                bwd_conv_full(b->full, L->w, L->b, src->idx + k, src->val ? src->val + k : NULL, src->off[t + 1] - k, &g);
            } else {
                /* static input as one event per non-zero channel */
                uint32_t *idx = (uint32_t *)b->col_off; /* [maxn+1] scratch, free here */
                float *val = b->tmp;
                uint32_t m = 0;
                for (uint32_t i = 0; i < L->n_in; i++)
                    if (in->static_x[i] != 0.0f) { idx[m] = i; val[m++] = in->static_x[i]; }
                bwd_conv_full(b->full, L->w, L->b, idx, val, m, &g);
            }
            if (L->pool == POOL_NONE) memcpy(cur, b->full, no * sizeof *cur);
            else {
                const uint32_t p = L->pool_k, ch = L->conv_h, cw = L->conv_w;
                for (uint32_t o = 0; o < L->out_c; o++)
                    for (uint32_t py = 0; py < L->out_h; py++)
                        for (uint32_t px = 0; px < L->out_w; px++) {
                            float a = L->pool == POOL_MAX ? -INFINITY : 0.0f;
                            for (uint32_t dy = 0; dy < p; dy++)
                                for (uint32_t dx = 0; dx < p; dx++) {
                                    const float v = b->full[(o * ch + py * p + dy) * cw + px * p + dx];
                                    a = L->pool == POOL_MAX ? fmaxf(a, v) : a + v;
                                }
                            if (L->pool == POOL_AVG) a /= (float)(p * p);
                            cur[(o * L->out_h + py) * L->out_w + px] = a;
                        }
            }
            static_done = !src;
        }
        /* Dropout: the same mask as the forward (sim_dropout_scale), on the whole current. */
        const float *cur_t = cur;
        if (pdrop > 0.0f) {
            for (uint32_t j = 0; j < no; j++) b->curd[j] = cur[j] * sim_dropout_scale(in->dropout_seed, l, t, j, pdrop);
            cur_t = b->curd;
        }
        /* R[t] = s[t−1]: mark the previous step's spikes in a flag row (reuse dfull). */
        for (uint32_t j = 0; j < no; j++) {
            const float up = prev ? prev[j] : 0.0f;
            ut[j] = lif_next(up, cur_t[j], 0.0f, 0, L->nc.beta, L->nc.theta, (int)L->nc.reset);
        }
        if (t > 0)
            for (uint32_t k = out->off[t - 1]; k < out->off[t]; k++) {
                const uint32_t j = out->idx[k];
                ut[j] = lif_next(prev[j], cur_t[j], 0.0f, 1, L->nc.beta, L->nc.theta, (int)L->nc.reset);
            }
        prev = ut;
    }
}

int bwd_sample(bwd *b, const net *n, const bwd_cfg *c, const sim_input *in, const sim_result *res,
               const float *g_s, const float *g_u, float *grads, float **dmem) {
    const uint32_t T = in->T;
    if (T > b->T_max) return evsnn_seterr(EVSNN_EINVAL, "backward: T = %u exceeds the workspace's %u", T, b->T_max);
    if (!(res->flags & SIM_RECORD_MEM) && !c->recompute)
        return evsnn_seterr(EVSNN_EINVAL, "backward: the forward pass was run without SIM_RECORD_MEM and recompute is off");
    const uint32_t nl = n->n_layers;
    /* gout holds dL/d(output of layer l); the last layer's comes from the loss. */
    const net_layer *last = &n->layers[nl - 1];
    int have_g = 0;
    if (g_s) {
        memcpy(b->gout, g_s, (size_t)T * last->n_out * sizeof(float));
        have_g = 1;
    }
    const float *gu = g_u;
    for (uint32_t l = nl; l-- > 0;) {
        const net_layer *L = &n->layers[l];
        const uint32_t ni = L->n_in, no = L->n_out;
        const int need_gin = l > 0;
        const spk_train *src = layer_input(in, res, l);
        if (need_gin) memset(b->gin, 0, (size_t)T * ni * sizeof(float));
        if (L->kind == NET_POOL) {
            /* Pooling of spikes: sum/average pass the gradient to every input of the window,
             * OR (a max of spikes) to the first maximal one. */
            if (need_gin && have_g) {
                const int kind = L->spool == SPOOL_OR ? BWD_POOL_MAX : L->pool == POOL_AVG ? BWD_POOL_AVG : BWD_POOL_SUM;
                for (uint32_t t = 0; t < T; t++) {
                    if (kind == BWD_POOL_MAX) {
                        memset(b->xd, 0, ni * sizeof(float));
                        for (uint32_t k = src->off[t]; k < src->off[t + 1]; k++) b->xd[src->idx[k]] = spk_val(src, k);
                    }
                    bwd_pool(b->gin + (size_t)t * ni, b->gout + (size_t)t * no, b->xd, L->in_c, L->in_h, L->in_w,
                             L->pool_k, kind);
                }
            }
        } else {
            const float theta_c = c->theta_c ? c->theta_c[l] : L->nc.theta;
            const float pdrop = c->dropout && in->dropout_seed ? c->dropout[l] : 0.0f;
            const float *mem = res->mem ? res->mem[l] : NULL;
            if (c->recompute || !mem) {
                recompute_mem(b, L, in, src, &res->out[l], T, b->umem, l, pdrop);
                mem = b->umem;
            }
            layer_delta(b, L, c, theta_c, mem, &res->out[l], have_g ? b->gout : NULL, gu, T,
                        dmem ? dmem[l] : NULL);
            if (pdrop > 0.0f) /* dL/d(current before dropout) = mask · dL/dI */
                for (uint32_t t = 0; t < T; t++)
                    for (uint32_t j = 0; j < no; j++)
                        b->delta[(size_t)t * no + j] *= sim_dropout_scale(in->dropout_seed, l, t, j, pdrop);
            float *dw = grads + L->w_off, *db = L->b ? grads + L->b_off : NULL;
            if (L->kind == NET_DENSE) {
                if (src) {
                    int rc = to_csc(b, src);
                    if (rc) return rc;
                    bwd_dense_dw_csc(dw, b->delta, b->col_off, b->col_t, src->val ? b->col_v : NULL, ni, no);
                } else {
                    /* Static input: the same x every step, so ∂W = x ⊗ Σ_t dI[t]. */
                    float *s = b->tmp;
                    memset(s, 0, no * sizeof *s);
                    for (uint32_t t = 0; t < T; t++)
                        for (uint32_t j = 0; j < no; j++) s[j] += b->delta[(size_t)t * no + j];
                    for (uint32_t i = 0; i < ni; i++) {
                        const float x = in->static_x[i];
                        if (x == 0.0f) continue;
                        for (uint32_t j = 0; j < no; j++) dw[(size_t)i * no + j] += x * s[j];
                    }
                }
                if (db)
                    for (uint32_t t = 0; t < T; t++)
                        for (uint32_t j = 0; j < no; j++) db[j] += b->delta[(size_t)t * no + j];
                if (need_gin) {
                    for (uint32_t i = 0; i < ni; i++)
                        for (uint32_t j = 0; j < no; j++) b->wt[(size_t)j * ni + i] = L->w[(size_t)i * no + j];
                    for (uint32_t t = 0; t < T; t++)
                        bwd_dense_gin_t(b->gin + (size_t)t * ni, b->wt, b->delta + (size_t)t * no, ni, no);
                }
            } else { /* NET_CONV, optionally with pooling of currents */
                bwd_conv_geom g;
                conv_geom(L, &g);
                const uint32_t nf = L->out_c * L->conv_h * L->conv_w, plane = L->conv_h * L->conv_w;
                const int kind = L->pool == POOL_MAX ? BWD_POOL_MAX : L->pool == POOL_AVG ? BWD_POOL_AVG : BWD_POOL_SUM;
                if (!src) {
                    /* Static input (layer 0, never needs g_in): the same currents every step, so
                     * the pooling routes identically and everything is linear in Σ_t dI[t]: one
                     * pass with the summed gradient, over the non-zero inputs only. */
                    uint32_t *nz = malloc((size_t)ni * sizeof *nz);
                    float *nzv = malloc((size_t)ni * sizeof *nzv);
                    if (!nz || !nzv) { free(nz); free(nzv); return evsnn_seterr(EVSNN_ENOMEM, "backward: no memory"); }
                    uint32_t nn = 0;
                    for (uint32_t i = 0; i < ni; i++)
                        if (in->static_x[i] != 0.0f) { nz[nn] = i; nzv[nn++] = in->static_x[i]; }
                    float *sum = b->tmp;
                    memset(sum, 0, no * sizeof *sum);
                    for (uint32_t t = 0; t < T; t++)
                        for (uint32_t j = 0; j < no; j++) sum[j] += b->delta[(size_t)t * no + j];
                    float *df = b->dfull;
                    if (L->pool == POOL_NONE) memcpy(df, sum, nf * sizeof *df);
                    else {
                        memset(df, 0, nf * sizeof *df);
                        if (L->pool == POOL_MAX) bwd_conv_full(b->full, L->w, L->b, nz, nzv, nn, &g);
                        bwd_pool(df, sum, b->full, L->out_c, L->conv_h, L->conv_w, L->pool_k, kind);
                    }
                    if (nn) bwd_conv_dw(dw, df, nz, nzv, nn, &g);
                    if (db)
                        for (uint32_t o = 0; o < L->out_c; o++)
                            for (uint32_t i = 0; i < plane; i++) db[o] += df[o * plane + i];
                    free(nz);
                    free(nzv);
                } else {
                    for (uint32_t t = 0; t < T; t++) {
                        evlist e = events_at(src, t);
                        const float *dI = b->delta + (size_t)t * no;
                        float *df = b->dfull;
                        if (L->pool == POOL_NONE) {
                            memcpy(df, dI, nf * sizeof *df);
                        } else {
                            memset(df, 0, nf * sizeof *df);
                            if (L->pool == POOL_MAX) bwd_conv_full(b->full, L->w, L->b, e.idx, e.val, e.n, &g);
                            bwd_pool(df, dI, b->full, L->out_c, L->conv_h, L->conv_w, L->pool_k, kind);
                        }
                        if (e.n) bwd_conv_dw(dw, df, e.idx, e.val, e.n, &g);
                        if (db)
                            for (uint32_t o = 0; o < L->out_c; o++)
                                for (uint32_t i = 0; i < plane; i++) db[o] += df[o * plane + i];
                        if (need_gin) bwd_conv_gin(b->gin + (size_t)t * ni, L->w, df, &g);
                    }
                }
            }
            have_g = 1;
        }
        gu = NULL;
        float *sw = b->gout; b->gout = b->gin; b->gin = sw; /* this layer's input is the previous one's output */
    }
    return 0;
}
