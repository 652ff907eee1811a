/* sim/backward.c — BPTT over recorded traces (see backward.h). */
#include "backward.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "evsnn.h"
#include "kernels/backward.h"
#include "kernels/conv.h"
#include "kernels/lif.h"
#include "kernels/scatter.h"

/* Per conv layer: the forward's channels-last geometry, its packed kernels, and the
 * gradient of the packed kernel (folded back into PyTorch's layout per sample). */
typedef struct {
    conv_plan pl;
    conv_span *spans; /* [in_h + in_w] */
    float *kpt;       /* [in_c, kq, kq, out_c] conv_pack */
    float *wpan;      /* [k², out_c, in_c] conv_pack_panels (input gradient) */
    float *dkpt;      /* [in_c, kq, kq, out_c] accumulated until bwd_flush (or the end of bwd_sample) */
    int pending;      /* dkpt holds gradient not yet folded into a gradient array */
} bwd_conv;

struct bwd {
    const net *n;
    uint32_t T_max, maxn, maxcl;
    float *gout, *gin;   /* [T_max, maxn] dL/d(layer output), dL/d(layer input) (bwd_sample) */
    float *delta;        /* [T_max, maxn] δ then dI of the current layer */
    float *tmp;          /* [maxn] */
    float *xd;           /* [maxn] dense input of one step (max pooling of spikes) */
    uint32_t *col_off;   /* [maxn+1] input events grouped by channel (CSC); also static-input lists */
    uint32_t *col_t;     /* [col_cap] their steps */
    float *col_v;        /* [col_cap] their values */
    uint32_t col_cap;
    float **wt;          /* [n_layers] dense layers above the first: weights transposed [n_out, n_in]
                          * (refreshed with the packed kernels), else NULL */
    float *umem;         /* [T_max, maxn] recomputed membranes of one layer (sparse recording) */
    float *cur;          /* [maxn] currents of one step */
    float *curd;         /* [maxn] the same after dropout */
    bwd_conv *cv;        /* [n_layers] (zeroed for other kinds) */
    float *dcl;          /* [T_max, maxcl] channels-last current gradient of a conv layer */
    float *cl;           /* [maxcl] channels-last currents of one step (recomputed) */
    float *gcl;          /* [T_max, maxn] channels-last input gradient */
    float *sgp;          /* [T_max, maxn] surrogate of the layer below (where the input gradient is needed) */
    uint32_t *at;        /* [max(maxn, T_max·maxcl)] entries of one step where it is; non-zero rows */
    float *scratch;      /* [conv_gin_scratch] */
    float *dws;          /* [conv_dw_scratch] */
};

static void conv_refresh(bwd_conv *cv, const net_layer *L) {
    conv_pack(cv->kpt, L->w, &cv->pl.g);
    conv_pack_panels(cv->wpan, L->w, &cv->pl.g);
}

void bwd_refresh(bwd *b) {
    for (uint32_t l = 0; l < b->n->n_layers; l++) {
        const net_layer *L = &b->n->layers[l];
        if (b->cv[l].kpt) conv_refresh(&b->cv[l], L);
        if (b->wt[l]) transpose(b->wt[l], L->w, L->n_in, L->n_out, 1.0f);
    }
}

bwd *bwd_create(const net *n, uint32_t T_max, int *err) {
    uint32_t maxn = n->n_in, maxcl = 1;
    uint64_t scr = 1, dws = 1;
    for (uint32_t l = 0; l < n->n_layers; l++) {
        const net_layer *L = &n->layers[l];
        if (L->n_out > maxn) maxn = L->n_out;
        if (L->n_in > maxn) maxn = L->n_in;
        if (L->kind == NET_CONV) {
            const conv_geom g = sim_conv_geom(L);
            if (g.th * g.tw * g.out_c > maxcl) maxcl = g.th * g.tw * g.out_c;
            if (conv_gin_scratch(&g, T_max) > scr) scr = conv_gin_scratch(&g, T_max);
            const uint64_t w = conv_dw_scratch(&g);
            if (w > dws) dws = w;
        }
    }
    bwd *b = calloc(1, sizeof *b);
    if (!b) goto oom;
    b->n = n;
    b->T_max = T_max;
    b->maxn = maxn;
    b->maxcl = maxcl;
    const size_t tn = (size_t)T_max * maxn;
    b->wt = calloc(n->n_layers, sizeof *b->wt);
    b->gout = malloc(tn * sizeof(float));
    b->gin = malloc(tn * sizeof(float));
    b->delta = malloc(tn * sizeof(float));
    b->tmp = malloc(maxn * sizeof(float));
    b->xd = malloc(maxn * sizeof(float));
    b->umem = malloc(tn * sizeof(float));
    b->cur = malloc(maxn * sizeof(float));
    b->curd = malloc(maxn * sizeof(float));
    b->col_off = malloc(((size_t)maxn + 1) * sizeof(uint32_t));
    b->dcl = malloc((size_t)T_max * maxcl * sizeof(float));
    b->cl = calloc(maxcl, sizeof(float));
    b->gcl = malloc(tn * sizeof(float));
    b->sgp = malloc(tn * sizeof(float));
    b->at = malloc(((size_t)maxn > (size_t)T_max * maxcl ? (size_t)maxn : (size_t)T_max * maxcl) * sizeof(uint32_t));
    b->scratch = malloc((size_t)scr * sizeof(float));
    b->dws = malloc((size_t)dws * sizeof(float));
    b->cv = calloc(n->n_layers, sizeof *b->cv);
    if (!b->wt || !b->gout || !b->gin || !b->delta || !b->tmp || !b->xd || !b->umem || !b->cur || !b->curd ||
        !b->col_off || !b->dcl || !b->cl || !b->gcl || !b->sgp || !b->at || !b->scratch || !b->dws || !b->cv)
        goto oom;
    for (uint32_t l = 0; l < n->n_layers; l++) {
        const net_layer *L = &n->layers[l];
        if (L->kind == NET_DENSE && l > 0) {
            if (!(b->wt[l] = malloc(L->n_w * sizeof(float)))) goto oom;
            transpose(b->wt[l], L->w, L->n_in, L->n_out, 1.0f);
        }
        if (L->kind != NET_CONV) continue;
        bwd_conv *cv = &b->cv[l];
        const conv_geom g = sim_conv_geom(L);
        const size_t kq = conv_kq(&g), nk = (size_t)L->in_c * kq * kq * L->out_c;
        cv->spans = malloc(((size_t)L->in_h + L->in_w) * sizeof *cv->spans);
        cv->kpt = malloc(nk * sizeof(float));
        cv->dkpt = calloc(nk, sizeof(float));
        cv->wpan = malloc((size_t)L->k * L->k * L->out_c * L->in_c * sizeof(float));
        if (!cv->spans || !cv->kpt || !cv->dkpt || !cv->wpan) goto oom;
        conv_plan_init(&cv->pl, cv->spans, cv->spans + L->in_h, &g);
        conv_refresh(cv, L);
    }
    return b;
oom:
    bwd_free(b);
    *err = evsnn_seterr(EVSNN_ENOMEM, "backward workspace: no memory for T = %u", T_max);
    return NULL;
}

void bwd_free(bwd *b) {
    if (!b) return;
    for (uint32_t l = 0; b->cv && l < b->n->n_layers; l++) {
        free(b->cv[l].spans); free(b->cv[l].kpt); free(b->cv[l].dkpt); free(b->cv[l].wpan);
    }
    free(b->cv);
    for (uint32_t l = 0; b->wt && l < b->n->n_layers; l++) free(b->wt[l]);
    free(b->gout); free(b->gin); free(b->delta); free(b->tmp); free(b->xd);
    free(b->col_off); free(b->col_t); free(b->col_v); free(b->wt); free(b->umem); free(b->cur); free(b->curd);
    free(b->dcl); free(b->cl); free(b->gcl); free(b->sgp); free(b->at); free(b->scratch); free(b->dws);
    free(b);
}

/* The input events of layer l at step t (NULL train: static input). */
static const spk_train *layer_input_train(const sim_input *in, const sim_result *res, uint32_t l) {
    return l == 0 ? in->train : &res->out[l - 1];
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

/* Current scale and bias gain of a spiking layer's pooling of currents, as the engine applies
 * them: I = scale·(pooled sum) + gain·b, average 1/p², sum p² on the bias. */
static float cur_scale(const net_layer *L) {
    return L->kind == NET_CONV && L->pool == POOL_AVG ? 1.0f / (float)(L->pool_k * L->pool_k) : 1.0f;
}
static float bias_gain(const net_layer *L) {
    return L->kind == NET_CONV && L->pool == POOL_SUM ? (float)(L->pool_k * L->pool_k) : 1.0f;
}

/* A conv layer's currents of one step (no bias, before the scale) into cur [n_out] in neuron
 * order, through the forward's kernels: the events of the step, or the non-zero pixels of a
 * static input. */
static void conv_currents(bwd *b, const net_layer *L, const bwd_conv *cv, const uint32_t *idx, const float *val,
                          uint32_t n, float *cur) {
    conv_scatter(b->cl, cv->kpt, &cv->pl, idx, val, n);
    if (L->pool == POOL_MAX) {
        pool_max_cl(cur, NULL, b->cl, L->out_c, L->out_h, L->out_w, L->pool_k);
    } else {
        transpose(cur, b->cl, cv->pl.g.th * cv->pl.g.tw, L->out_c, 1.0f);
        memset(b->cl, 0, (size_t)L->n_out * sizeof *b->cl);
    }
}

/* A static input's non-zero pixels as an event list (channel ids and values) in b's scratch. */
static uint32_t static_events(bwd *b, const net_layer *L, const float *x, uint32_t **idx, float **val) {
    uint32_t *id = b->col_off; /* [maxn+1], free while a static layer is processed */
    float *v = b->xd;
    uint32_t m = 0;
    for (uint32_t i = 0; i < L->n_in; i++)
        if (x[i] != 0.0f) { id[m] = i; v[m++] = x[i]; }
    *idx = id;
    *val = v;
    return m;
}

/* Sparse recording: rebuild a spiking layer's membranes u [T, n_out] from what the forward
 * kept, its input train (or static input) and its own output train: currents from the
 * input events through the forward's kernels (dense rows, or conv footprints and the pooling
 * of currents), the reset R[t] = s[t−1] taken from the recorded spikes, and the LIF rule of
 * kernels/lif.h in the engine's order (I·scale, then the bias). The result equals the engine's
 * membranes up to the float rounding of its lazy decay over sparse steps. */
static void recompute_mem(bwd *b, const net_layer *L, const bwd_conv *cv, const sim_input *in, const spk_train *src,
                          const spk_train *out, uint32_t T, float *u, uint32_t l, float pdrop) {
    const uint32_t no = L->n_out, hw = L->out_h * L->out_w;
    const float scale = cur_scale(L), gain = bias_gain(L);
    float *cur = b->cur, *prev = NULL;
    for (uint32_t t = 0; t < T; t++) {
        float *ut = u + (size_t)t * no;
        if (src || t == 0) { /* a static input's currents are those of step 0 */
            const uint32_t k = src ? src->off[t] : 0;
            if (L->kind == NET_DENSE) {
                if (src) {
                    memset(cur, 0, no * sizeof *cur);
                    scatter_dense(cur, L->w, src->idx + k, src->val ? src->val + k : NULL, src->off[t + 1] - k, no);
                } else {
                    matvec_dense(cur, L->w, in->static_x, L->n_in, no);
                }
            } else if (src) {
                conv_currents(b, L, cv, src->idx + k, src->val ? src->val + k : NULL, src->off[t + 1] - k, cur);
            } else {
                uint32_t *idx;
                float *val;
                const uint32_t m = static_events(b, L, in->static_x, &idx, &val);
                conv_currents(b, L, cv, idx, val, m, cur);
            }
        }
        /* R[t] = s[t−1] from the recorded spikes; dropout as the forward drew it (on the whole
         * current, bias included). */
        for (uint32_t j = 0; j < no; j++) {
            const float up = prev ? prev[j] : 0.0f, I = scale == 1.0f ? cur[j] : cur[j] * scale;
            const float bj = L->b ? gain * L->b[j / (L->kind == NET_CONV ? hw : 1)] : 0.0f;
            if (pdrop > 0.0f)
                ut[j] = lif_next(up, (I + bj) * sim_dropout_scale(in->dropout_seed, l, t, j, pdrop), 0.0f, 0, L->nc.beta,
                                 L->nc.theta, (int)L->nc.reset);
            else
                ut[j] = lif_next(up, I, bj, 0, L->nc.beta, L->nc.theta, (int)L->nc.reset);
        }
        if (t > 0)
            for (uint32_t k = out->off[t - 1]; k < out->off[t]; k++) {
                const uint32_t j = out->idx[k];
                const float I = scale == 1.0f ? cur[j] : cur[j] * scale;
                const float bj = L->b ? gain * L->b[j / (L->kind == NET_CONV ? hw : 1)] : 0.0f;
                if (pdrop > 0.0f)
                    ut[j] = lif_next(prev[j], (I + bj) * sim_dropout_scale(in->dropout_seed, l, t, j, pdrop), 0.0f, 1,
                                     L->nc.beta, L->nc.theta, (int)L->nc.reset);
                else
                    ut[j] = lif_next(prev[j], I, bj, 1, L->nc.beta, L->nc.theta, (int)L->nc.reset);
            }
        prev = ut;
    }
}

/* Max pooling of currents, backward at one step: each pooled neuron's gradient goes to the
 * first maximal element of its window (row-major, as PyTorch) of the recomputed full-resolution
 * currents cl [limh, limw, C] (cleared); dcl [limh, limw, C] receives it, zeros elsewhere.
 * d: [C, oh, ow] the neurons' current gradient. */
static void max_route(float *dcl, float *cl, const float *d, const net_layer *L) {
    const uint32_t C = L->out_c, oh = L->out_h, ow = L->out_w, p = L->pool_k, lw = ow * p;
    memset(dcl, 0, (size_t)oh * p * lw * C * sizeof *dcl);
    for (uint32_t co = 0; co < C; co++)
        for (uint32_t py = 0; py < oh; py++)
            for (uint32_t px = 0; px < ow; px++) {
                size_t best = 0;
                float m = -INFINITY;
                for (uint32_t dy = 0; dy < p; dy++)
                    for (uint32_t dx = 0; dx < p; dx++) {
                        const size_t i = ((size_t)(py * p + dy) * lw + px * p + dx) * C + co;
                        if (cl[i] > m) { m = cl[i]; best = i; }
                    }
                dcl[best] = d[((size_t)co * oh + py) * ow + px];
            }
    memset(cl, 0, (size_t)oh * p * lw * C * sizeof *cl);
}

/* The same with the windows' maxima recorded by the forward (sim_result.arg): no currents
 * to recompute. arg: [C, oh, ow] dy·p + dx */
static void max_route_arg(float *dcl, const uint8_t *arg, const float *d, const net_layer *L) {
    const uint32_t C = L->out_c, oh = L->out_h, ow = L->out_w, p = L->pool_k, lw = ow * p;
    memset(dcl, 0, (size_t)oh * p * lw * C * sizeof *dcl);
    for (uint32_t co = 0; co < C; co++)
        for (uint32_t py = 0; py < oh; py++)
            for (uint32_t px = 0; px < ow; px++) {
                const uint32_t j = (co * oh + py) * ow + px, a = arg[j];
                dcl[((size_t)(py * p + a / p) * lw + px * p + a % p) * C + co] = d[j];
            }
}

/* The current gradient of one step in the scatter's channels-last target layout: the
 * pooled map (× the average's scale) or, for max pooling, routed to the window maxima — as
 * the forward recorded them (arg, or NULL) or of the step's currents recomputed from its
 * events idx/val. d: [C, nhw]  dcl: [targets, C] */
static void conv_route(bwd *b, const net_layer *L, const bwd_conv *cv, const float *d, float *dcl, const uint32_t *idx,
                       const float *val, uint32_t n, const uint8_t *arg) {
    if (L->pool == POOL_MAX) {
        if (arg) {
            max_route_arg(dcl, arg, d, L);
            return;
        }
        conv_scatter(b->cl, cv->kpt, &cv->pl, idx, val, n);
        max_route(dcl, b->cl, d, L);
    } else {
        transpose(dcl, d, L->out_c, L->out_h * L->out_w, cur_scale(L));
    }
}

/* Whether a surrogate can be exactly zero (then the layer below needs its input gradient
 * only where its own surrogate is not: sparse spiking gradient descent turns into work saved). */
static int sg_has_zeros(const surrogate *s) {
    return s->eps > 0.0f || s->kind == SG_HEAVISIDE || s->kind == SG_SFS;
}

/* Below this fraction of entries needed, the input gradient is computed entry by entry
 * (conv_gin_at) rather than as the dense product of row blocks (conv_gin_rows): both do the
 * same multiplications per entry, the blocks about eight times as fast per entry (seed 004's
 * second layer, T = 25, per-thread CPU time: rows 0.51 ms a sample, entries at 10% 0.51 ms,
 * at 20% 0.80 ms, at 50% 1.95 ms). */
#define GIN_AT_FRACTION 0.12

/* Backward of a conv layer from b->delta (dI, [T, n_out] neuron order): the weight gradient
 * into the packed accumulator (folded by bwd_flush), the bias gradient, and the input
 * gradient gin [T, n_in] (overwritten) when gin is not NULL. below:
 * the surrogate of the layer below [T, n_in] when only its non-zero entries need gin, or NULL. */
static void conv_backward(bwd *b, const net_layer *L, bwd_conv *cv, const sim_input *in, const spk_train *src,
                          const uint8_t *arg, uint32_t T, float *db, float *gin, const float *below) {
    const conv_geom *g = &cv->pl.g;
    const uint32_t C = L->out_c, no = L->n_out, nhw = L->out_h * L->out_w, tc = g->th * g->tw * C;
    const uint32_t ni = L->n_in;
    if (db) {
        const float gain = bias_gain(L);
        for (uint32_t co = 0; co < C; co++) {
            float s = 0.0f;
            for (uint32_t t = 0; t < T; t++) s += sum_f32(b->delta + (size_t)t * no + (size_t)co * nhw, nhw);
            db[co] += gain * s;
        }
    }
    cv->pending = 1;
    if (!src) {
        /* Static input (layer 0, never needs gin): the same currents every step, so the
         * pooling routes identically and everything is linear in Σ_t dI[t]: one pass with the
         * summed gradient over the non-zero pixels. */
        float *sum = b->tmp;
        memset(sum, 0, no * sizeof *sum);
        for (uint32_t t = 0; t < T; t++)
            for (uint32_t j = 0; j < no; j++) sum[j] += b->delta[(size_t)t * no + j];
        uint32_t *idx;
        float *val;
        const uint32_t m = static_events(b, L, in->static_x, &idx, &val);
        conv_route(b, L, cv, sum, b->dcl, idx, val, m, NULL);
        const uint32_t off[2] = {0, m};
        conv_dw_steps(cv->dkpt, b->dcl, &cv->pl, off, idx, val, 1, b->dws);
    } else {
        for (uint32_t t = 0; t < T; t++) {
            const uint32_t k = src->off[t], ne = src->off[t + 1] - k;
            const uint32_t *idx = src->idx + k;
            const float *val = src->val ? src->val + k : NULL;
            if (!ne && !gin) continue;
            float *dcl = b->dcl + (size_t)t * tc;
            conv_route(b, L, cv, b->delta + (size_t)t * no, dcl, idx, val, ne, arg ? arg + (size_t)t * no : NULL);
        }
        conv_dw_steps(cv->dkpt, b->dcl, &cv->pl, src->off, src->idx, src->val, T, b->dws);
        if (gin) {
            memset(gin, 0, (size_t)T * ni * sizeof *gin);
            uint64_t need = (uint64_t)T * ni;
            if (below) {
                need = 0;
                for (size_t i = 0; i < (size_t)T * ni; i++) need += below[i] != 0.0f;
            }
            if ((double)need < GIN_AT_FRACTION * (double)T * ni) {
                for (uint32_t t = 0; t < T; t++) {
                    const float *bt = below + (size_t)t * ni;
                    uint32_t na = 0;
                    for (uint32_t i = 0; i < ni; i++)
                        if (bt[i] != 0.0f) b->at[na++] = i;
                    if (na) conv_gin_at(gin + (size_t)t * ni, b->dcl + (size_t)t * tc, cv->kpt, &cv->pl, b->at, na);
                }
            } else {
                /* the rows of dcl that are not all zero */
                const uint32_t nr = T * g->th * g->tw;
                uint32_t nz = 0;
                for (uint32_t r = 0; r < nr; r++) {
                    const float *dr = b->dcl + (size_t)r * C;
                    uint32_t c = 0;
                    while (c < C && dr[c] == 0.0f) c++;
                    if (c < C) b->at[nz++] = r;
                }
                conv_gin_rows(b->gcl, b->dcl, cv->wpan, g, b->at, nz, T, b->scratch);
                for (uint32_t t = 0; t < T; t++)
                    transpose(gin + (size_t)t * ni, b->gcl + (size_t)t * ni, L->in_h * L->in_w, L->in_c, 1.0f);
            }
        }
    }
}

/* Fold the conv layers' packed weight gradients into grads and clear them. */
void bwd_flush(bwd *b, float *grads) {
    for (uint32_t l = 0; l < b->n->n_layers; l++) {
        bwd_conv *cv = &b->cv[l];
        if (!cv->pending) continue;
        const net_layer *L = &b->n->layers[l];
        const uint32_t kq = conv_kq(&cv->pl.g);
        conv_pack_backward(grads + L->w_off, cv->dkpt, &cv->pl.g);
        memset(cv->dkpt, 0, (size_t)L->in_c * kq * kq * L->out_c * sizeof *cv->dkpt);
        cv->pending = 0;
    }
}

/* Pooling of spikes: sum/average pass the gradient to every input of the window, OR (a max
 * of spikes) to the first maximal one. */
static void pool_backward(bwd *b, const net_layer *L, const spk_train *src, uint32_t T, const float *gout, float *gin) {
    const uint32_t ni = L->n_in, no = L->n_out;
    memset(gin, 0, (size_t)T * ni * sizeof(float));
    if (!gout) return;
    const int kind = L->spool == SPOOL_OR ? BWD_POOL_MAX : L->pool == POOL_AVG ? BWD_POOL_AVG : BWD_POOL_SUM;
    for (uint32_t t = 0; t < T; t++) {
        if (kind == BWD_POOL_MAX) {
            memset(b->xd, 0, ni * sizeof(float));
            for (uint32_t k = src->off[t]; k < src->off[t + 1]; k++) b->xd[src->idx[k]] = spk_val(src, k);
        }
        bwd_pool(gin + (size_t)t * ni, gout + (size_t)t * no, b->xd, L->in_c, L->in_h, L->in_w, L->pool_k, kind);
    }
}

/* δ of spiking layer l (with the dropout mask applied: dL/d(current before dropout)) into
 * b->delta [T, n_out]. */
static int delta_into(bwd *b, const net *n, const bwd_cfg *c, const sim_input *in, const sim_result *res, uint32_t l,
                      const float *gout, const float *g_u, float *dmem) {
    const uint32_t T = in->T;
    if (T > b->T_max) return evsnn_seterr(EVSNN_EINVAL, "backward: T = %u exceeds the workspace's %u", T, b->T_max);
    if (!(res->flags & SIM_RECORD_MEM) && !c->recompute)
        return evsnn_seterr(EVSNN_EINVAL, "backward: the forward pass was run without SIM_RECORD_MEM and recompute is off");
    const net_layer *L = &n->layers[l];
    const uint32_t no = L->n_out;
    const float theta_c = c->theta_c ? c->theta_c[l] : L->nc.theta;
    const float pdrop = c->dropout && in->dropout_seed ? c->dropout[l] : 0.0f;
    const float *mem = res->mem ? res->mem[l] : NULL;
    if (c->recompute || !mem) {
        recompute_mem(b, L, &b->cv[l], in, layer_input_train(in, res, l), &res->out[l], T, b->umem, l, pdrop);
        mem = b->umem;
    }
    layer_delta(b, L, c, theta_c, mem, &res->out[l], gout, g_u, T, dmem);
    if (pdrop > 0.0f) /* dL/d(current before dropout) = mask · dL/dI */
        for (uint32_t t = 0; t < T; t++)
            for (uint32_t j = 0; j < no; j++)
                b->delta[(size_t)t * no + j] *= sim_dropout_scale(in->dropout_seed, l, t, j, pdrop);
    return 0;
}

/* From b->delta (dI of spiking layer l): weight and bias gradients, and the input gradient
 * gin [T, n_in] (overwritten) unless gin is NULL or l = 0. */
static int layer_input(bwd *b, const net *n, const bwd_cfg *c, const sim_input *in, const sim_result *res, uint32_t l,
                       float *gin, float *grads) {
    const net_layer *L = &n->layers[l];
    const uint32_t ni = L->n_in, no = L->n_out, T = in->T;
    const int need_gin = l > 0 && gin;
    const spk_train *src = layer_input_train(in, res, l);
    float *dw = grads + L->w_off, *db = L->b ? grads + L->b_off : NULL;
    if (L->kind == NET_CONV) {
        /* Where the layer below is spiking, its surrogate says which input gradients count. */
        const float *below = NULL;
        if (need_gin && sg_has_zeros(&c->sg) && n->layers[l - 1].kind != NET_POOL && res->mem && res->mem[l - 1] &&
            !c->recompute) {
            const float tb = c->theta_c ? c->theta_c[l - 1] : n->layers[l - 1].nc.theta;
            for (uint32_t t = 0; t < T; t++)
                sg_grad_vec(b->sgp + (size_t)t * ni, res->mem[l - 1] + (size_t)t * ni, NULL, tb, ni, &c->sg);
            below = b->sgp;
        }
        /* the forward's window maxima, unless the membranes are rebuilt (then so are they) */
        const uint8_t *arg = !c->recompute && res->arg ? res->arg[l] : NULL;
        conv_backward(b, L, &b->cv[l], in, src, arg, T, db, need_gin ? gin : NULL, below);
        return 0;
    }
    /* NET_DENSE */
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
        bwd_dense_gin_steps(gin, b->wt[l], b->delta, T, ni, no, b->at);
    }
    return 0;
}

int bwd_layer(bwd *b, const net *n, const bwd_cfg *c, const sim_input *in, const sim_result *res, uint32_t l,
              const float *gout, const float *g_u, float *gin, float *grads, float *dmem) {
    const net_layer *L = &n->layers[l];
    if (L->kind == NET_POOL) {
        if (in->T > b->T_max) return evsnn_seterr(EVSNN_EINVAL, "backward: T = %u exceeds the workspace's %u", in->T, b->T_max);
        if (l > 0 && gin) pool_backward(b, L, layer_input_train(in, res, l), in->T, gout, gin);
        return 0;
    }
    int rc = delta_into(b, n, c, in, res, l, gout, g_u, dmem);
    return rc ? rc : layer_input(b, n, c, in, res, l, gin, grads);
}

int bwd_layer_delta(bwd *b, const net *n, const bwd_cfg *c, const sim_input *in, const sim_result *res, uint32_t l,
                    const float *gout, const float *g_u, float *dI, float *dmem) {
    if (n->layers[l].kind == NET_POOL) return evsnn_seterr(EVSNN_EINVAL, "backward: layer %s has no neurons", n->layers[l].name);
    float *own = b->delta; /* the recursion writes straight into the caller's buffer */
    b->delta = dI;
    int rc = delta_into(b, n, c, in, res, l, gout, g_u, dmem);
    b->delta = own;
    return rc;
}

int bwd_layer_input(bwd *b, const net *n, const bwd_cfg *c, const sim_input *in, const sim_result *res, uint32_t l,
                    const float *dI, float *gin, float *grads) {
    if (in->T > b->T_max) return evsnn_seterr(EVSNN_EINVAL, "backward: T = %u exceeds the workspace's %u", in->T, b->T_max);
    if (n->layers[l].kind == NET_POOL) return evsnn_seterr(EVSNN_EINVAL, "backward: layer %s has no neurons", n->layers[l].name);
    float *own = b->delta; /* layer_input only reads b->delta: the caller's dI serves */
    b->delta = (float *)(uintptr_t)dI;
    int rc = layer_input(b, n, c, in, res, l, gin, grads);
    b->delta = own;
    return rc;
}

int bwd_sample(bwd *b, const net *n, const bwd_cfg *c, const sim_input *in, const sim_result *res,
               const float *g_s, const float *g_u, float *grads, float **dmem) {
    const uint32_t T = in->T;
    if (T > b->T_max) return evsnn_seterr(EVSNN_EINVAL, "backward: T = %u exceeds the workspace's %u", T, b->T_max);
    /* gout holds dL/d(output of layer l); the last layer's comes from the loss. */
    const float *gout = g_s, *gu = g_u;
    for (uint32_t l = n->n_layers; l-- > 0;) {
        int rc = bwd_layer(b, n, c, in, res, l, gout, gu, l > 0 ? b->gin : NULL, grads, dmem ? dmem[l] : NULL);
        if (rc) return rc;
        gu = NULL;
        float *sw = b->gout; b->gout = b->gin; b->gin = sw; /* this layer's input is the previous one's output */
        gout = b->gout;
    }
    if (!c->defer) bwd_flush(b, grads);
    return 0;
}
