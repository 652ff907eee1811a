/* sim/engine.c — the event-driven forward engine (see engine.h; step order in
 * sim/README.md, whose numbers the comments below follow). */
#include "engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evq.h"
#include "evsnn.h"
#include "rng.h"
#include "kernels/conv.h"
#include "kernels/lif.h"
#include "kernels/scatter.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Per-layer constants, computed once per workspace. */
typedef struct {
    float *P;             /* [T_max+1] β^d */
    float *S;             /* [T_max+1] Σ_{k<d} β^k: a silent neuron's bias gain over d steps */
    float *bias_n;        /* [n_out] effective bias per neuron (sum pooling: p²·b), or NULL */
    int32_t *first_cross; /* [out_c] first step a resting neuron fires on bias alone, or -1 */
    float scale;          /* current scale: 1/p² for average pooling of currents, else 1 */
    conv_geom g;          /* conv: geometry of the channels-last scatter (kernels/conv.h) */
    conv_plan pl;         /* conv: its per-axis spans */
    conv_span *spans;     /* [in_h + in_w] */
    float *kpt;           /* conv: packed kernel [in_c, kq, kq, out_c] (the model keeps PyTorch's layout) */
    float *theta_n;       /* [n_out] per-neuron thresholds (the layer's theta_c), or NULL: nc.theta */
} layer_rt;

struct sim {
    const net *n;
    uint32_t T_max, max_n, max_cl;
    layer_rt *rt;          /* [n_layers] */
    float *u;              /* [max_n] membranes */
    float *acc;            /* [max_n] input currents of the current step (zero between steps) */
    float *cl;             /* [max_cl] conv currents, channels-last target map [th, tw, out_c]
                            * (zero between steps); max pooling: the full-resolution cover */
    float *scur;           /* [max_n] static input currents of layer 0 */
    int32_t *last;         /* [max_n] step of the last update (-1: at rest before step 0) */
    int32_t *sched;        /* [max_n] step the neuron is due (-1: none) */
    uint32_t *mark;        /* [max_n] t+1 when the neuron is in this step's touched list */
    uint32_t *touched;     /* [max_n] this step's touched neurons */
    uint32_t *ids;         /* [max_n] this step's spikes */
    uint8_t *spk;          /* [max_n] spike flags of an all-neuron step */
    uint8_t *fired;        /* [max_n] fired at least once in the sample */
    uint32_t *pull;        /* conv_pull's scratch, for the largest conv layer */
    evq q;
    int conv_policy;       /* SIM_CONV_AUTO / _SPARSE / _ALL */
    float *drop;           /* [n_layers] dropout probabilities, or NULL */
};

int sim_set_dropout(sim *s, const float *p) {
    free(s->drop);
    s->drop = NULL;
    if (!p) return 0;
    s->drop = malloc(s->n->n_layers * sizeof *s->drop);
    if (!s->drop) return evsnn_seterr(EVSNN_ENOMEM, "engine: no memory");
    for (uint32_t l = 0; l < s->n->n_layers; l++) {
        if (!(p[l] >= 0.0f && p[l] < 1.0f)) {
            free(s->drop);
            s->drop = NULL;
            return evsnn_seterr(EVSNN_EINVAL, "dropout %g of layer %s is outside [0, 1)", p[l], s->n->layers[l].name);
        }
        s->drop[l] = p[l];
    }
    return 0;
}

float sim_dropout_scale(uint64_t seed, uint32_t layer, uint32_t t, uint32_t i, float p) {
    /* One hash per (layer, step, neuron): 24 bits of uniform, kept when ≥ p. */
    uint64_t h = rng_stream(seed, ((uint64_t)layer << 52) ^ ((uint64_t)t << 26) ^ i);
    float u = (float)(h >> 40) * (1.0f / 16777216.0f);
    return u >= p ? 1.0f / (1.0f - p) : 0.0f;
}

void sim_set_conv_policy(sim *s, int policy) { s->conv_policy = policy; }

/* Geometry of the channels-last scatter: into the pooled map (average/sum pooling of
 * currents), or at full resolution (no pooling; max pooling, whose windows are reduced
 * afterwards) limited to the positions the pooled map covers. */
conv_geom sim_conv_geom(const net_layer *L) {
    conv_geom g = {.in_c = L->in_c, .out_c = L->out_c, .k = L->k, .pad = L->pad, .in_h = L->in_h, .in_w = L->in_w,
                   .p = 1, .th = L->conv_h, .tw = L->conv_w, .limh = L->conv_h, .limw = L->conv_w};
    if (L->pool != POOL_NONE) {
        g.limh = g.th = L->out_h * L->pool_k;
        g.limw = g.tw = L->out_w * L->pool_k;
    }
    if (L->pool == POOL_AVG || L->pool == POOL_SUM) {
        g.p = L->pool_k;
        g.th = L->out_h;
        g.tw = L->out_w;
    }
    return g;
}

/* Max pooling of currents for one neuron j: acc[j] = max of j's window of the channels-last
 * full map (positions without input hold 0; the first maximum in row-major order, as the
 * comparisons run), clearing the window. cl: [limh, limw, out_c]  acc: [out_c, oh, ow] */
static inline uint8_t max_window(float *acc, float *cl, const net_layer *L, uint32_t j) {
    const uint32_t p = L->pool_k, oh = L->out_h, ow = L->out_w, C = L->out_c, lw = ow * p;
    const uint32_t co = j / (oh * ow), py = (j / ow) % oh, px = j % ow;
    float m = -INFINITY;
    uint8_t a = 0;
    for (uint32_t dy = 0; dy < p; dy++)
        for (uint32_t dx = 0; dx < p; dx++) {
            float *c = &cl[((size_t)(py * p + dy) * lw + px * p + dx) * C + co];
            if (*c > m) { m = *c; a = (uint8_t)(dy * p + dx); }
            *c = 0.0f;
        }
    acc[j] = m;
    return a;
}

/* The conv currents of a step (all of the target map) into acc [n_out] in neuron order,
 * clearing cl: the window maxima (where they were into arg, if not NULL), or a transpose
 * from channels-last. */
static void conv_gather(float *acc, uint8_t *arg, float *cl, const net_layer *L, const conv_geom *g) {
    if (L->pool == POOL_MAX) {
        pool_max_cl(acc, arg, cl, L->out_c, L->out_h, L->out_w, L->pool_k);
    } else {
        transpose(acc, cl, g->th * g->tw, L->out_c, 1.0f);
        memset(cl, 0, (size_t)L->n_out * sizeof *cl);
    }
}

static inline float drift(const layer_rt *rt, float u, float b, uint32_t d) {
    /* Membrane after d input-free, reset-free steps. Exact (bit for bit with d iterations
     * of u = βu + b) whenever the products and sums are exact in float. */
    return rt->P[d] * u + rt->S[d] * b;
}

static void rt_free(layer_rt *rt) {
    free(rt->kpt);
    free(rt->spans);
    free(rt->theta_n);
    free(rt->P);
    free(rt->S);
    free(rt->bias_n);
    free(rt->first_cross);
}

void sim_free(sim *s) {
    if (!s) return;
    if (s->rt)
        for (uint32_t l = 0; l < s->n->n_layers; l++) rt_free(&s->rt[l]);
    free(s->rt);
    free(s->u); free(s->acc); free(s->cl); free(s->scur);
    free(s->last); free(s->sched); free(s->mark); free(s->touched); free(s->ids);
    free(s->spk); free(s->fired); free(s->drop); free(s->pull);
    evq_deinit(&s->q);
    free(s);
}

/* Fill a layer's constants from the network's current β, θ and biases (allocated by
 * rt_build; sim_refresh calls this again after training changed them). */
static void rt_fill(layer_rt *rt, const net_layer *L, uint32_t T_max) {
    rt->scale = 1.0f;
    if (L->kind == NET_POOL) return;
    if (rt->kpt) conv_pack(rt->kpt, L->w, &rt->g);
    /* Tables in double, rounded once: exact whenever β^d and Σβ^k are representable. */
    double p = 1.0, s = 0.0, beta = L->nc.beta;
    for (uint32_t d = 0; d <= T_max; d++) {
        rt->P[d] = (float)p;
        rt->S[d] = (float)s;
        s += p;
        p *= beta;
    }
    uint32_t hw = L->out_h * L->out_w;
    float bmul = 1.0f;
    if (L->kind == NET_CONV && L->pool == POOL_AVG) rt->scale = 1.0f / (float)(L->pool_k * L->pool_k);
    if (L->kind == NET_CONV && L->pool == POOL_SUM) bmul = (float)(L->pool_k * L->pool_k);
    if (rt->bias_n)
        for (uint32_t i = 0; i < L->n_out; i++) rt->bias_n[i] = bmul * L->b[i / hw];
    if (rt->theta_n)
        for (uint32_t i = 0; i < L->n_out; i++) rt->theta_n[i] = L->theta_c[i / hw];
    for (uint32_t c = 0; c < L->out_c; c++) {
        rt->first_cross[c] = -1;
        float b = rt->bias_n ? rt->bias_n[c * hw] : 0.0f;
        if (!(b > 0.0f)) continue;
        const float th = L->theta_c ? L->theta_c[c] : L->nc.theta;
        for (uint32_t d = 1; d <= T_max; d++)
            if (lif_above(drift(rt, 0.0f, b, d), th, (int)L->nc.cmp)) {
                rt->first_cross[c] = (int32_t)d - 1; /* at rest at step −1, so step d − 1 */
                break;
            }
    }
}

static int rt_build(layer_rt *rt, const net_layer *L, uint32_t T_max) {
    memset(rt, 0, sizeof *rt);
    rt->scale = 1.0f;
    if (L->kind == NET_POOL) return 0;
    rt->P = malloc(((size_t)T_max + 1) * sizeof *rt->P);
    rt->S = malloc(((size_t)T_max + 1) * sizeof *rt->S);
    rt->first_cross = malloc((size_t)L->out_c * sizeof *rt->first_cross);
    if (!rt->P || !rt->S || !rt->first_cross) return EVSNN_ENOMEM;
    if (L->kind == NET_CONV) {
        rt->g = sim_conv_geom(L);
        const uint32_t kq = conv_kq(&rt->g);
        if (!(rt->kpt = malloc((size_t)L->in_c * kq * kq * L->out_c * sizeof *rt->kpt))) return EVSNN_ENOMEM;
        if (!(rt->spans = malloc(((size_t)L->in_h + L->in_w) * sizeof *rt->spans))) return EVSNN_ENOMEM;
        conv_plan_init(&rt->pl, rt->spans, rt->spans + L->in_h, &rt->g);
    }
    if (L->b && !(rt->bias_n = malloc((size_t)L->n_out * sizeof *rt->bias_n))) return EVSNN_ENOMEM;
    if (L->theta_c && !(rt->theta_n = malloc((size_t)L->n_out * sizeof *rt->theta_n))) return EVSNN_ENOMEM;
    rt_fill(rt, L, T_max);
    return 0;
}

void sim_refresh(sim *s) {
    for (uint32_t l = 0; l < s->n->n_layers; l++) rt_fill(&s->rt[l], &s->n->layers[l], s->T_max);
}

sim *sim_create(const net *n, uint32_t T_max, int *err) {
    sim *s = calloc(1, sizeof *s);
    if (!s) { *err = evsnn_seterr(EVSNN_ENOMEM, "engine: no memory"); return NULL; }
    if (T_max == 0) { *err = evsnn_seterr(EVSNN_EINVAL, "engine: T must be > 0"); free(s); return NULL; }
    s->n = n;
    s->T_max = T_max;
    s->rt = calloc(n->n_layers, sizeof *s->rt);
    if (!s->rt) goto nomem;
    for (uint32_t l = 0; l < n->n_layers; l++) {
        const net_layer *L = &n->layers[l];
        if (L->n_out > s->max_n) s->max_n = L->n_out;
        if (L->kind == NET_CONV) {
            const conv_geom g = sim_conv_geom(L);
            if (g.th * g.tw * L->out_c > s->max_cl) s->max_cl = g.th * g.tw * L->out_c;
        }
        if (rt_build(&s->rt[l], L, T_max)) goto nomem;
    }
    size_t m = s->max_n;
    s->u = malloc(m * sizeof *s->u);
    s->acc = calloc(m, sizeof *s->acc);
    s->cl = calloc(s->max_cl ? s->max_cl : 1, sizeof *s->cl);
    s->scur = malloc(m * sizeof *s->scur);
    s->last = malloc(m * sizeof *s->last);
    s->sched = malloc(m * sizeof *s->sched);
    s->mark = calloc(m, sizeof *s->mark);
    s->touched = malloc(m * sizeof *s->touched);
    s->ids = malloc(m * sizeof *s->ids);
    s->spk = malloc(m);
    s->fired = malloc(m);
    size_t np = 1;
    for (uint32_t l = 0; l < n->n_layers; l++)
        if (n->layers[l].kind == NET_CONV) {
            const conv_geom g = sim_conv_geom(&n->layers[l]);
            if (conv_pull_scratch(&g, n->layers[l].n_in) > np) np = conv_pull_scratch(&g, n->layers[l].n_in);
        }
    s->pull = malloc(np * sizeof *s->pull);
    if (!s->u || !s->acc || !s->cl || !s->scur || !s->last || !s->sched || !s->mark || !s->touched ||
        !s->ids || !s->spk || !s->fired || !s->pull)
        goto nomem;
    if ((*err = evq_init(&s->q, T_max))) { sim_free(s); return NULL; }
    *err = 0;
    return s;
nomem:
    sim_free(s);
    *err = evsnn_seterr(EVSNN_ENOMEM, "engine: no memory for the workspace");
    return NULL;
}

int sim_result_init(sim_result *r, const net *n, uint32_t T, int flags) {
    memset(r, 0, sizeof *r);
    r->n_layers = n->n_layers;
    r->T = T;
    r->flags = flags;
    r->out = calloc(n->n_layers, sizeof *r->out);
    r->st = calloc(n->n_layers, sizeof *r->st);
    r->mem = calloc(n->n_layers, sizeof *r->mem);
    r->arg = calloc(n->n_layers, sizeof *r->arg);
    if (!r->out || !r->st || !r->mem || !r->arg) goto nomem;
    for (uint32_t l = 0; l < n->n_layers; l++) {
        const net_layer *L = &n->layers[l];
        int vals = L->kind == NET_POOL && L->spool == SPOOL_SUM;
        int rc = spk_init(&r->out[l], T, L->n_out, vals ? SPK_VALUES : 0);
        if (rc) { sim_result_deinit(r); return rc; }
        if ((flags & SIM_RECORD_MEM) && L->kind != NET_POOL) {
            r->mem[l] = malloc((size_t)T * L->n_out * sizeof **r->mem);
            if (!r->mem[l]) goto nomem;
        }
        if ((flags & SIM_RECORD_MEM) && L->kind == NET_CONV && L->pool == POOL_MAX) {
            r->arg[l] = malloc((size_t)T * L->n_out);
            if (!r->arg[l]) goto nomem;
        }
    }
    return 0;
nomem:
    sim_result_deinit(r);
    return evsnn_seterr(EVSNN_ENOMEM, "engine: no memory for the results");
}

void sim_result_deinit(sim_result *r) {
    for (uint32_t l = 0; r->out && l < r->n_layers; l++) spk_deinit(&r->out[l]);
    for (uint32_t l = 0; r->mem && l < r->n_layers; l++) free(r->mem[l]);
    for (uint32_t l = 0; r->arg && l < r->n_layers; l++) free(r->arg[l]);
    free(r->arg);
    free(r->out);
    free(r->st);
    free(r->mem);
    memset(r, 0, sizeof *r);
}

int sim_check_input(const net *n, const sim_input *in) {
    if (!in->train && !in->static_x)
        return evsnn_seterr(EVSNN_EINVAL, "input: neither a spike train nor a static input");
    if (in->T == 0) return evsnn_seterr(EVSNN_EINVAL, "input: T = 0 steps (must be > 0)");
    if (in->train) {
        if (in->train->n != n->n_in)
            return evsnn_seterr(EVSNN_ESHAPE, "input: %u channels, but the network takes %u (%ux%ux%u)",
                                in->train->n, n->n_in, n->in_c, n->in_h, n->in_w);
        if (in->train->T != in->T)
            return evsnn_seterr(EVSNN_ESHAPE, "input: train has %u steps, T is %u", in->train->T, in->T);
    }
    return 0;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Next step at which neuron i must be updated without input, after an update at step t
 * left it at u: t+1 if it is above threshold (pending reset / burst), else the first
 * bias-driven crossing (binary search over the lazy drift), else -1. */
static int32_t next_due(const layer_rt *rt, const neuron_cfg *nc, float theta, float u, float b, uint32_t t, uint32_t T) {
    if (t + 1 >= T) return -1;
    if (lif_above(u, theta, (int)nc->cmp)) return (int32_t)t + 1;
    if (!(b > 0.0f)) return -1; /* no positive drive: u only decays toward b/(1−β) ≤ 0 */
    uint32_t hi = T - 1 - t;    /* steps ahead still inside the run */
    if (!lif_above(drift(rt, u, b, hi), theta, (int)nc->cmp)) return -1;
    uint32_t lo = 1; /* smallest d with drift above θ; drift is monotone toward b/(1−β) */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (lif_above(drift(rt, u, b, mid), theta, (int)nc->cmp)) hi = mid;
        else lo = mid + 1;
    }
    return (int32_t)(t + lo);
}

/* Static input (direct coding): layer 0's currents, computed once per sample (step 1).
 * scur: [n_out] (before scale and bias; for max pooling the window maximum). */
static uint64_t static_currents(sim *s, const net_layer *L, const layer_rt *rt, const float *x, uint8_t *arg) {
    uint64_t syn = 0;
    if (L->kind == NET_DENSE) {
        matvec_dense(s->scur, L->w, x, L->n_in, L->n_out);
        for (uint32_t i = 0; i < L->n_in; i++) syn += x[i] != 0.0f;
        return syn * L->n_out;
    }
    for (uint32_t id = 0; id < L->n_in; id++)
        if (x[id] != 0.0f) syn += conv_scatter(s->cl, rt->kpt, &rt->pl, &id, &x[id], 1);
    conv_gather(s->scur, arg, s->cl, L, &rt->g);
    return syn;
}

/* Push this step's spikes (ids[0..ns), sorted) into the output train; count them. */
static int emit(sim *s, spk_train *out, layer_stats *st, uint32_t t, uint32_t ns) {
    for (uint32_t k = 0; k < ns; k++) s->fired[s->ids[k]] = 1;
    st->spikes += ns;
    return spk_push_step(out, t, s->ids, ns);
}

/* The lazy LIF update of one neuron at step t, written once for both paths (all-neuron
 * step 2a, touched neurons step 5): decay from its last update (step `last`) to t−1 with the
 * bias b_drift, then one step of current I and bias b_step (sim/README.md), the reset taken
 * from the membrane before the input (DESIGN §2). Returns the new membrane. */
static inline float lif_touch(const layer_rt *rt, float u, int32_t last, uint32_t t, float b_drift, float I, float b_step,
                              float beta, float th, int reset, int cmp) {
    uint32_t d = (uint32_t)((int32_t)t - last);
    float up = d == 1 ? u : drift(rt, u, b_drift, d - 1);
    int R = lif_above(up, th, cmp);
    return lif_next(up, I, b_step, R, beta, th, reset);
}

/* One spiking layer's run: what the step functions below share. */
typedef struct {
    sim *s;
    uint32_t l, n, T;
    const net_layer *L;
    const layer_rt *rt;
    const float *static_x;
    uint8_t *arg;         /* max-pool argmax record [T, n] or NULL */
    layer_stats *st;
    uint64_t fan, dseed;
    float pdrop;          /* > 0: dropout on this layer's currents */
    int all_current;      /* every neuron's last update is step t−1 (true at t = 0) */
    int sched_valid;      /* calendar holds every neuron's next due step */
    int acc_dirty;        /* acc[] still holds an all-neuron step's currents */
} spiking;

/* 0. Sample start: every neuron at rest at step −1; bias-driven first crossings from the
 *    per-layer table go into the calendar. */
static int spiking_start(spiking *r) {
    sim *s = r->s;
    const uint32_t n = r->n, hw = r->L->out_h * r->L->out_w;
    for (uint32_t i = 0; i < n; i++) { s->u[i] = 0.0f; s->last[i] = -1; s->sched[i] = -1; }
    memset(s->fired, 0, n);
    memset(s->mark, 0, n * sizeof *s->mark);
    memset(s->acc, 0, n * sizeof *s->acc); /* the previous layer or sample may leave currents here */
    evq_clear(&s->q);
    for (uint32_t c = 0; c < r->L->out_c; c++) {
        int32_t fc = r->rt->first_cross[c];
        if (fc < 0 || (uint32_t)fc >= r->T) continue;
        for (uint32_t i = c * hw; i < (c + 1) * hw; i++) {
            s->sched[i] = fc;
            if (evq_push(&s->q, (uint32_t)fc, i)) return EVSNN_ENOMEM;
        }
    }
    r->all_current = 1;
    r->sched_valid = 1;
    r->acc_dirty = 0;
    return 0;
}

/* 2a. All-neuron step: every neuron receives current (a dense row touches all of them), so
 *     update them all with the vectorised kernel. Returns the number of spikes (in ids). */
static uint32_t spiking_all(spiking *r, uint32_t t, const uint32_t *ev, const float *evv, uint32_t nev) {
    sim *s = r->s;
    const net_layer *L = r->L;
    const layer_rt *rt = r->rt;
    const uint32_t n = r->n, l = r->l;
    const float beta = L->nc.beta, theta = L->nc.theta, pdrop = r->pdrop;
    const float *thn = rt->theta_n; /* per-neuron thresholds (BN folded), or NULL */
    const int reset = (int)L->nc.reset, cmp = (int)L->nc.cmp;
    const uint64_t dseed = r->dseed;
    float *u = s->u, *acc = s->acc;
    const int32_t *last = s->last;
    uint8_t *arg = r->arg;
    layer_stats *st = r->st;
    uint32_t ns = 0;
    const float *cur;
    if (r->static_x) {
        cur = s->scur;
        if (arg && t > 0) memcpy(arg + (size_t)t * n, arg, n); /* the same windows every step */
    } else if (L->kind == NET_DENSE) {
        memset(acc, 0, n * sizeof *acc);
        scatter_dense(acc, L->w, ev, evv, nev, n);
        st->syn_events += (uint64_t)nev * n;
        cur = acc;
        r->acc_dirty = 1;
    } else {
        /* many events: each target sums its own in registers; few: each event adds its footprint */
        st->syn_events += conv_pull_pays(&rt->g, nev) ? conv_pull(s->cl, rt->kpt, &rt->pl, ev, evv, nev, s->pull)
                                                      : conv_scatter(s->cl, rt->kpt, &rt->pl, ev, evv, nev);
        conv_gather(acc, arg ? arg + (size_t)t * n : NULL, s->cl, L, &rt->g); /* every neuron's current */
        cur = acc;
        r->acc_dirty = 1;
    }
    float step_scale = rt->scale;
    const float *step_bias = rt->bias_n;
    if (pdrop > 0.0f) {
        /* Dropout: the whole current, bias included, times the mask (into acc). */
        for (uint32_t i = 0; i < n; i++) {
            float c = (rt->scale == 1.0f ? cur[i] : cur[i] * rt->scale) + (rt->bias_n ? rt->bias_n[i] : 0.0f);
            acc[i] = c * sim_dropout_scale(dseed, l, t, i, pdrop);
        }
        cur = acc;
        r->acc_dirty = 1;
        step_scale = 1.0f;
        step_bias = NULL;
    }
    if (r->all_current && thn && step_bias) {
        ns = lif_step_all_th(u, s->spk, cur, step_scale, step_bias, thn, n, beta, reset, cmp);
    } else if (r->all_current && !thn) {
        ns = lif_step_all(u, s->spk, cur, step_scale, step_bias, n, beta, theta, reset, cmp);
    } else {
        for (uint32_t i = 0; i < n; i++) {
            const float th = thn ? thn[i] : theta;
            float b = rt->bias_n ? rt->bias_n[i] : 0.0f;
            float I = step_scale == 1.0f ? cur[i] : cur[i] * step_scale;
            u[i] = lif_touch(rt, u[i], last[i], t, b, I, step_bias ? b : 0.0f, beta, th, reset, cmp);
            s->spk[i] = (uint8_t)lif_above(u[i], th, cmp);
            ns += s->spk[i];
        }
    }
    r->all_current = 1;
    r->sched_valid = 0; /* schedules were not maintained during all-neuron steps */
    st->neuron_updates += n;
    if (ns) lif_collect(s->ids, s->spk, n);
    return ns;
}

/* 2b. Leaving all-neuron steps: materialise last[] and rebuild the calendar (one pass over
 *     the layer, paid once per switch). */
static int spiking_resume_sparse(spiking *r, uint32_t t) {
    sim *s = r->s;
    const layer_rt *rt = r->rt;
    const uint32_t n = r->n;
    if (r->all_current && t > 0) {
        for (uint32_t i = 0; i < n; i++) s->last[i] = (int32_t)t - 1;
    }
    r->all_current = 0;
    if (r->acc_dirty) { memset(s->acc, 0, n * sizeof *s->acc); r->acc_dirty = 0; } /* sparse steps need acc = 0 */
    if (!r->sched_valid) {
        evq_clear(&s->q);
        for (uint32_t i = 0; i < n; i++) {
            float b = rt->bias_n ? rt->bias_n[i] : 0.0f;
            /* last[i] = t − 1 here, so the next due step is ≥ t */
            int32_t nd = next_due(rt, &r->L->nc, rt->theta_n ? rt->theta_n[i] : r->L->nc.theta, s->u[i], b, t - 1, r->T);
            s->sched[i] = nd;
            if (nd >= 0 && evq_push(&s->q, (uint32_t)nd, i)) return EVSNN_ENOMEM;
        }
        r->sched_valid = 1;
    }
    return 0;
}

/* 3. Scatter a conv step's input events into the channels-last currents and mark the
 *    neurons they reach (every channel of each target position); their currents into acc
 *    (neuron order), clearing cl. Returns the number of touched neurons. */
static uint32_t spiking_scatter_conv(spiking *r, uint32_t t, const uint32_t *ev, const float *evv, uint32_t nev, uint8_t *at) {
    sim *s = r->s;
    const net_layer *L = r->L;
    const layer_rt *rt = r->rt;
    float *acc = s->acc;
    const uint32_t stamp = t + 1;
    uint32_t nt = 0;
    const uint32_t C = L->out_c, tw = L->out_w, thw = L->out_h * L->out_w;
    const uint32_t pk = L->pool == POOL_MAX ? L->pool_k : 1; /* full-res rows per neuron row */
    for (uint32_t e = 0; e < nev; e++) {
        const uint64_t got = conv_scatter(s->cl, rt->kpt, &rt->pl, ev + e, evv ? evv + e : NULL, 1);
        if (!got) continue;
        r->st->syn_events += got;
        /* The targets reached (the scatter's own spans), in neuron rows and columns. */
        uint32_t ci, y, x;
        conv_decode(&rt->pl, ev[e], &ci, &y, &x);
        const conv_span *sy = &rt->pl.ys[y], *sx = &rt->pl.xs[x];
        for (uint32_t ty = sy->t0 / pk; ty <= (sy->t1 - 1) / pk; ty++)
            for (uint32_t tx = sx->t0 / pk; tx <= (sx->t1 - 1) / pk; tx++)
                for (uint32_t co = 0; co < C; co++) {
                    uint32_t j = co * thw + ty * tw + tx;
                    if (s->mark[j] != stamp) { s->mark[j] = stamp; s->touched[nt++] = j; }
                }
    }
    for (uint32_t q = 0; q < nt; q++) {
        const uint32_t j = s->touched[q];
        if (L->pool == POOL_MAX) {
            const uint8_t a = max_window(acc, s->cl, L, j);
            if (at) at[j] = a;
        }
        else {
            float *c = &s->cl[(size_t)(j % thw) * C + j / thw];
            acc[j] = *c;
            *c = 0.0f;
        }
    }
    return nt;
}

/* 2b–5. Sparse step: scatter, the calendar's due neurons, update the touched ones. Spikes
 * into ids (sorted), their number into *ns. */
static int spiking_sparse(spiking *r, uint32_t t, const uint32_t *ev, const float *evv, uint32_t nev, uint32_t *ns_out) {
    int rc = spiking_resume_sparse(r, t);
    if (rc) return rc;
    sim *s = r->s;
    const net_layer *L = r->L;
    const layer_rt *rt = r->rt;
    const neuron_cfg *nc = &L->nc;
    const uint32_t n = r->n, T = r->T;
    const float beta = nc->beta, theta = nc->theta;
    const float *thn = rt->theta_n;
    const int reset = (int)nc->reset, cmp = (int)nc->cmp;
    float *u = s->u, *acc = s->acc;
    int32_t *last = s->last, *sched = s->sched;
    uint32_t nt = 0, ns = 0;
    const uint32_t stamp = t + 1;
    /* Max pooling: untouched windows hold zeros, whose first element is the maximum. */
    uint8_t *at = r->arg ? r->arg + (size_t)t * n : NULL;
    if (at) memset(at, 0, n);
    if (L->kind == NET_CONV && nev) nt = spiking_scatter_conv(r, t, ev, evv, nev, at);
    /* 4. Neurons due from the calendar (pending resets, bias-driven crossings). */
    uint32_t ndue;
    const uint32_t *due = evq_due(&s->q, t, &ndue);
    for (uint32_t q = 0; q < ndue; q++) {
        uint32_t j = due[q];
        if (sched[j] != (int32_t)t || s->mark[j] == stamp) continue; /* stale or already in */
        s->mark[j] = stamp;
        s->touched[nt++] = j;
    }
    /* 5. Update the touched neurons: lazy decay to t−1, one LIF step, reschedule. */
    for (uint32_t q = 0; q < nt; q++) {
        uint32_t j = s->touched[q];
        const float th = thn ? thn[j] : theta;
        float b = rt->bias_n ? rt->bias_n[j] : 0.0f;
        float I = rt->scale == 1.0f ? acc[j] : acc[j] * rt->scale;
        acc[j] = 0.0f;
        float un = lif_touch(rt, u[j], last[j], t, b, I, b, beta, th, reset, cmp);
        u[j] = un;
        last[j] = (int32_t)t;
        if (lif_above(un, th, cmp)) s->ids[ns++] = j;
        int32_t nd = next_due(rt, nc, th, un, b, t, T);
        sched[j] = nd;
        if (nd >= 0 && evq_push(&s->q, (uint32_t)nd, j)) return EVSNN_ENOMEM;
    }
    r->st->neuron_updates += nt;
    if (ns > 1) qsort(s->ids, ns, sizeof *s->ids, cmp_u32);
    *ns_out = ns;
    return 0;
}

/* 7. Optional membrane record (tests, training): the lazy value of every neuron at t. */
static void spiking_record(const spiking *r, uint32_t t, float *mem) {
    const sim *s = r->s;
    const layer_rt *rt = r->rt;
    const uint32_t n = r->n;
    float *m = mem + (size_t)t * n;
    if (r->all_current) memcpy(m, s->u, n * sizeof *m);
    else
        for (uint32_t i = 0; i < n; i++) {
            uint32_t d = (uint32_t)((int32_t)t - s->last[i]);
            m[i] = d == 0 ? s->u[i] : drift(rt, s->u[i], rt->bias_n ? rt->bias_n[i] : 0.0f, d);
        }
}

/* One spiking layer (dense or conv) over all T steps. Step numbers refer to sim/README.md. */
static int run_spiking(sim *s, uint32_t l, const spk_train *in, const float *static_x, uint32_t T,
                       spk_train *out, layer_stats *st, float *mem, uint8_t *arg, uint64_t dseed) {
    const net_layer *L = &s->n->layers[l];
    const uint32_t n = L->n_out;
    spiking r = {.s = s, .l = l, .n = n, .T = T, .L = L, .rt = &s->rt[l], .static_x = static_x, .arg = arg, .st = st,
                 .fan = L->kind == NET_CONV ? (uint64_t)L->out_c * L->k * L->k : n, .dseed = dseed,
                 .pdrop = dseed && s->drop ? s->drop[l] : 0.0f};
    int rc = spiking_start(&r);
    if (rc) return rc;
    /* 1. Static input: currents computed once. */
    if (static_x) {
        uint64_t syn = static_currents(s, L, r.rt, static_x, arg);
        if (syn == UINT64_MAX) return evsnn_seterr(EVSNN_ENOMEM, "engine: no memory");
        st->syn_events += syn;
    }
    for (uint32_t t = 0; t < T; t++) {
        const uint32_t *ev = NULL;
        const float *evv = NULL;
        uint32_t nev = 0;
        if (in) {
            ev = in->idx + in->off[t];
            evv = in->val ? in->val + in->off[t] : NULL;
            nev = spk_count(in, t);
        }
        st->in_events += nev;
        uint32_t ns = 0;
        /* A conv step whose footprints cover the layer anyway is cheaper as an all-neuron
         * step (no marking); both paths give the same floats. */
        int conv_all = L->kind == NET_CONV && nev &&
                       (s->conv_policy == SIM_CONV_ALL ||
                        (s->conv_policy == SIM_CONV_AUTO && (uint64_t)nev * r.fan >= n / 2));
        if (static_x || (L->kind == NET_DENSE && nev > 0) || conv_all || r.pdrop > 0.0f) ns = spiking_all(&r, t, ev, evv, nev);
        else if ((rc = spiking_sparse(&r, t, ev, evv, nev, &ns))) return rc;
        /* 6. Emit this step's spikes, sorted by channel. */
        if ((rc = emit(s, out, st, t, ns))) return rc;
        if (mem) spiking_record(&r, t, mem);
    }
    uint32_t silent = 0;
    for (uint32_t i = 0; i < n; i++) silent += !s->fired[i];
    st->silent = silent;
    return 0;
}

/* Pooling of spikes (NET_POOL): OR (binary output) or SUM (counts; average pooling divides
 * by p²). Event-driven: only windows that received a spike are touched. */
static int run_pool(sim *s, uint32_t l, const spk_train *in, uint32_t T, spk_train *out, layer_stats *st) {
    const net_layer *L = &s->n->layers[l];
    const uint32_t p = L->pool_k, ihw = L->in_h * L->in_w, oh = L->out_h, ow = L->out_w;
    const float vscale = L->pool == POOL_AVG ? 1.0f / (float)(p * p) : 1.0f;
    memset(s->mark, 0, L->n_out * sizeof *s->mark);
    memset(s->fired, 0, L->n_out);
    for (uint32_t t = 0; t < T; t++) {
        uint32_t nt = 0, stamp = t + 1;
        for (uint32_t k = in->off[t]; k < in->off[t + 1]; k++) {
            uint32_t id = in->idx[k], c = id / ihw, y = (id / L->in_w) % L->in_h, x = id % L->in_w;
            uint32_t py = y / p, px = x / p;
            st->in_events++;
            if (py >= oh || px >= ow) continue;
            st->syn_events++;
            uint32_t j = (c * oh + py) * ow + px;
            if (s->mark[j] != stamp) { s->mark[j] = stamp; s->ids[nt++] = j; s->acc[j] = 0.0f; }
            s->acc[j] += spk_val(in, k);
        }
        if (nt > 1) qsort(s->ids, nt, sizeof *s->ids, cmp_u32);
        for (uint32_t q = 0; q < nt; q++) {
            uint32_t j = s->ids[q];
            int rc = spk_push(out, t, j, s->acc[j] * vscale);
            s->acc[j] = 0.0f;
            if (rc) return rc;
            s->fired[j] = 1;
        }
        st->spikes += nt;
    }
    uint32_t silent = 0;
    for (uint32_t i = 0; i < L->n_out; i++) silent += !s->fired[i];
    st->silent = silent;
    return 0;
}

int sim_run_layer(sim *s, const sim_input *in, sim_result *res, uint32_t l) {
    const net *n = s->n;
    int rc = sim_check_input(n, in);
    if (rc) return rc;
    if (in->T > s->T_max) return evsnn_seterr(EVSNN_EINVAL, "engine: %u steps exceed the workspace's %u", in->T, s->T_max);
    if (res->T != in->T || res->n_layers != n->n_layers)
        return evsnn_seterr(EVSNN_EINVAL, "engine: result prepared for %u steps, input has %u", res->T, in->T);
    if (l >= n->n_layers) return evsnn_seterr(EVSNN_EINVAL, "engine: layer %u of %u", l, n->n_layers);
    const net_layer *L = &n->layers[l];
    if (L->bn)
        return evsnn_seterr(EVSNN_EINVAL, "engine: layer %s is batch-normalised: fold it for inference (net_fold_bn) or "
                            "train it through the trainer", L->name);
    const spk_train *lin = l == 0 ? in->train : &res->out[l - 1];
    const float *sx = l == 0 && !in->train ? in->static_x : NULL;
    spk_clear(&res->out[l]);
    layer_stats *st = &res->st[l];
    memset(st, 0, sizeof *st);
    st->n = L->n_out;
    st->T = in->T;
    rc = L->kind == NET_POOL ? run_pool(s, l, lin, in->T, &res->out[l], st)
                             : run_spiking(s, l, lin, sx, in->T, &res->out[l], st, res->mem[l], res->arg[l],
                                           in->dropout_seed);
    if (rc) return rc;
    return spk_close(&res->out[l], 0);
}

int sim_layer_currents_all(sim *s, const sim_input *in, sim_result *res, uint32_t l, float *cur) {
    const net *n = s->n;
    int rc = sim_check_input(n, in);
    if (rc) return rc;
    const net_layer *L = &n->layers[l];
    if (L->kind == NET_POOL) return evsnn_seterr(EVSNN_EINVAL, "engine: layer %s pools spikes: it has no currents", L->name);
    if (in->T > s->T_max) return evsnn_seterr(EVSNN_EINVAL, "engine: %u steps exceed the workspace's %u", in->T, s->T_max);
    const layer_rt *rt = &s->rt[l];
    const spk_train *src = l == 0 ? in->train : &res->out[l - 1];
    const uint32_t no = L->n_out, T = in->T;
    layer_stats *st = &res->st[l];
    memset(st, 0, sizeof *st);
    st->n = no;
    st->T = T;
    for (uint32_t t = 0; t < T; t++) {
        float *c = cur + (size_t)t * no;
        if (!src) { /* static input: the currents of step 0 at every step */
            if (t == 0) {
                const uint64_t syn = static_currents(s, L, rt, in->static_x, NULL);
                st->syn_events += syn;
                memcpy(c, s->scur, no * sizeof *c);
            } else {
                memcpy(c, cur, no * sizeof *c);
                continue; /* the bias is already in */
            }
        } else {
            const uint32_t k = src->off[t], ne = src->off[t + 1] - k;
            const uint32_t *ev = src->idx + k;
            const float *evv = src->val ? src->val + k : NULL;
            st->in_events += ne;
            if (L->kind == NET_DENSE) {
                memset(c, 0, no * sizeof *c);
                scatter_dense(c, L->w, ev, evv, ne, no);
                st->syn_events += (uint64_t)ne * no;
            } else {
                st->syn_events += conv_pull_pays(&rt->g, ne) ? conv_pull(s->cl, rt->kpt, &rt->pl, ev, evv, ne, s->pull)
                                                              : conv_scatter(s->cl, rt->kpt, &rt->pl, ev, evv, ne);
                conv_gather(c, NULL, s->cl, L, &rt->g);
            }
        }
        for (uint32_t i = 0; i < no; i++) {
            const float I = rt->scale == 1.0f ? c[i] : c[i] * rt->scale;
            c[i] = rt->bias_n ? I + rt->bias_n[i] : I;
        }
    }
    return 0;
}

int sim_run_layer_given(sim *s, const sim_input *in, const float *cur, sim_result *res, uint32_t l) {
    const net_layer *L = &s->n->layers[l];
    const neuron_cfg *nc = &L->nc;
    const uint32_t n = L->n_out, T = in->T;
    const float pdrop = in->dropout_seed && s->drop ? s->drop[l] : 0.0f;
    spk_train *out = &res->out[l];
    layer_stats *st = &res->st[l];
    float *mem = res->mem[l], *u = s->u;
    spk_clear(out);
    memset(u, 0, n * sizeof *u);
    memset(s->fired, 0, n);
    st->spikes = 0;
    for (uint32_t t = 0; t < T; t++) {
        const float *c = cur + (size_t)t * n;
        if (pdrop > 0.0f) { /* the whole current times the mask, as the event-driven path draws it */
            for (uint32_t i = 0; i < n; i++) s->acc[i] = c[i] * sim_dropout_scale(in->dropout_seed, l, t, i, pdrop);
            c = s->acc;
        }
        const uint32_t ns = lif_step_all(u, s->spk, c, 1.0f, NULL, n, nc->beta, nc->theta, (int)nc->reset, (int)nc->cmp);
        if (ns) lif_collect(s->ids, s->spk, n);
        int rc = emit(s, out, st, t, ns);
        if (rc) return rc;
        if (mem) memcpy(mem + (size_t)t * n, u, n * sizeof *u);
    }
    memset(s->acc, 0, n * sizeof *s->acc);
    st->neuron_updates += (uint64_t)n * T;
    uint32_t silent = 0;
    for (uint32_t i = 0; i < n; i++) silent += !s->fired[i];
    st->silent = silent;
    return spk_close(out, 0);
}

int sim_run(sim *s, const sim_input *in, sim_result *res) {
    for (uint32_t l = 0; l < s->n->n_layers; l++) {
        int rc = sim_run_layer(s, in, res, l);
        if (rc) return rc;
    }
    return 0;
}

int sim_run_batch(const net *n, const sim_input *in, uint32_t B, sim_result *res, int threads) {
    uint32_t Tm = 1;
    for (uint32_t b = 0; b < B; b++) if (in[b].T > Tm) Tm = in[b].T;
    int rc_all = 0;
    char msg[1024] = "";
#ifdef _OPENMP
    if (threads <= 0) threads = omp_get_max_threads();
#else
    threads = 1;
#endif
    (void)threads;
    /* One workspace per thread; samples are independent, so the results equal serial runs.
     * Messages are per thread: the first failure's text is carried back to the caller. */
#pragma omp parallel num_threads(threads) if (B > 1)
    {
        int err = 0;
        sim *s = sim_create(n, Tm, &err);
#pragma omp for schedule(dynamic, 1)
        for (uint32_t b = 0; b < B; b++) {
            int rc = s ? sim_run(s, &in[b], &res[b]) : err;
            if (rc) {
#pragma omp critical(evsnn_batch_err)
                if (!rc_all) {
                    rc_all = rc;
                    snprintf(msg, sizeof msg, "sample %u: %s", b, evsnn_errmsg());
                }
            }
        }
        sim_free(s);
    }
    if (rc_all) evsnn_seterr(rc_all, "%s", msg);
    return rc_all;
}
