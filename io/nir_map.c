/* io/nir_map.c — NIR graph ↔ evsnn network (see nir.h; the node table and the semantics
 * choices are in io/README.md "NIR graphs").
 *
 * Import walks the graph from its Input to its Output (the graph must be a chain) and
 * groups the nodes into evsnn's spiking layers: a synapse (Affine, Linear, Conv2d),
 * optionally a pooling of its currents, then neurons (LIF, IF, CubaLIF); pooling after the
 * neurons pools spikes; Flatten is a reshape. Per neuron i the continuous-time parameters
 * become the discrete update evsnn runs (snnTorch's discretisation):
 *     u ← β·u + s_i·(W x + b)_i + l_i,   β = 1 − dt/τ,  s_i = r_i·dt/τ_i,  l_i = dt/τ_i·v_leak_i
 * and u is divided by s_i, which leaves the spikes unchanged: weights and bias as stored,
 * threshold θ_i/s_i, bias + l_i/s_i. Where θ_i/s_i differs between neurons the ratio to the
 * first is folded into the neuron's weights (per channel for convolutions), since evsnn has
 * one threshold per layer. */
#include "nir.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/evsnn.h"

/* |x − 1| up to which an input scale counts as exactly 1: numpy's allclose rtol, the test
 * snnTorch's import_from_nir applies to r·dt/τ. */
#define SCALE_SNAP 1e-5
/* Agreement of evsnn's own metadata (exact β, θ) with what the NIR parameters give. */
#define META_TOL 1e-6

/* Append one line to a report's text buffer (what does not fit is dropped). */
static void add_line(char *buf, size_t cap, const char *fmt, va_list ap) {
    size_t u = strlen(buf);
    if (u + 2 >= cap) return;
    vsnprintf(buf + u, cap - u - 1, fmt, ap);
    u = strlen(buf);
    buf[u] = '\n';
    buf[u + 1] = 0;
}

static void note(nir_import_report *rep, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(nir_import_report *rep, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    add_line(rep->notes, sizeof rep->notes, fmt, ap);
    va_end(ap);
}

/* Node types of NIR 1.0 that evsnn does not map, and why (named in the refusal). */
static const char *unmapped_reason(const char *type) {
    static const char *t[][2] = {
        {"LI", "a leaky integrator without spikes (evsnn's layers all spike: there is no membrane readout)"},
        {"I", "an integrator without spikes (evsnn's layers all spike)"},
        {"CubaLI", "a current-based integrator without spikes (evsnn's layers all spike)"},
        {"Delay", "evsnn has no synaptic delays"},
        {"Scale", "a standalone elementwise scale (evsnn folds scales only as part of the neurons' r)"},
        {"Threshold", "a standalone threshold (evsnn's thresholds belong to LIF/IF neurons)"},
        {"Conv1d", "evsnn convolutions are 2-d"},
        {"NIRGraph", "a nested graph (as snnTorch writes recurrent layers); evsnn runs feed-forward chains"},
        {"Identity", "no identity layers"},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        if (!strcmp(type, t[i][0])) return t[i][1];
    return NULL;
}

static int known_mapped(const char *type) {
    static const char *t[] = {"Input", "Output", "Affine", "Linear", "Conv2d", "AvgPool2d", "SumPool2d", "Flatten",
                              "LIF", "IF", "CubaLIF"};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        if (!strcmp(type, t[i])) return 1;
    return 0;
}

/* ---- parameters ---- */

/* Values of parameter `name` for n elements: a stored scalar (or one element) is broadcast,
 * n stored elements (any shape) are taken in row-major order. Absent: dflt if !required. */
static int vals(const char *path, const nir_node *nd, const char *name, size_t n, int required, double dflt, double *out,
                const char *from) {
    const nir_param *p = nir_get(nd, name);
    if (!p) {
        if (required)
            return evsnn_seterr(EVSNN_EFORMAT, "%s: node '%s' (%s): parameter '%s' is missing", path, nd->name, nd->type, name);
        for (size_t i = 0; i < n; i++) out[i] = dflt;
        return 0;
    }
    if (!p->v || p->dtype == NIR_STR || p->dtype == NIR_OTHER)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: node '%s' (%s): '%s' is not numeric", path, nd->name, nd->type, name);
    if (p->n != 1 && p->n != n)
        return evsnn_seterr(EVSNN_ESHAPE, "%s: node '%s' (%s): '%s' has %zu values, but '%s' gives %zu neurons (expected 1 or %zu)",
                            path, nd->name, nd->type, name, p->n, from, n, n);
    for (size_t i = 0; i < n; i++) {
        out[i] = p->v[p->n == 1 ? 0 : i];
        if (isnan(out[i])) return evsnn_seterr(EVSNN_EFORMAT, "%s: node '%s' (%s): '%s'[%zu] is NaN", path, nd->name, nd->type, name, i);
    }
    return 0;
}

/* A per-axis integer pair (kernel, stride, padding, dilation): scalar or [a] or [a, b]. */
static int pair(const char *path, const nir_node *nd, const char *name, long dflt, long v[2]) {
    const nir_param *p = nir_get(nd, name);
    v[0] = v[1] = dflt;
    if (!p) return 0;
    if (!p->v || (p->n != 1 && p->n != 2))
        return evsnn_seterr(EVSNN_EFORMAT, "%s: node '%s' (%s): '%s' should be 1 or 2 integers", path, nd->name, nd->type, name);
    for (int i = 0; i < 2; i++) {
        double x = p->v[p->n == 1 ? 0 : i];
        if (!(x >= -1e9 && x <= 1e9) || x != floor(x))
            return evsnn_seterr(EVSNN_EFORMAT, "%s: node '%s' (%s): '%s' should be integers", path, nd->name, nd->type, name);
        v[i] = (long)x;
    }
    return 0;
}

static const nir_param *weight(const char *path, const nir_node *nd, int rank, int *err) {
    const nir_param *w = nir_get(nd, "weight");
    if (!w) *err = evsnn_seterr(EVSNN_EFORMAT, "%s: node '%s' (%s): parameter 'weight' is missing", path, nd->name, nd->type);
    else if (!w->v || w->dtype == NIR_STR || w->dtype == NIR_OTHER)
        *err = evsnn_seterr(EVSNN_EFORMAT, "%s: node '%s' (%s): 'weight' is not numeric", path, nd->name, nd->type);
    else if (w->rank != rank)
        *err = evsnn_seterr(w->rank > rank ? EVSNN_ENOTSUP : EVSNN_ESHAPE, "%s: node '%s' (%s): weight has rank %d, expected %d%s",
                            path, nd->name, nd->type, w->rank, rank, rank == 2 ? " ([out, in], PyTorch's Linear layout)" : " ([out, in, kh, kw])");
    else {
        for (int i = 0; i < rank; i++)
            if (w->dims[i] == 0 || w->dims[i] > (1u << 24)) {
                *err = evsnn_seterr(EVSNN_ESHAPE, "%s: node '%s' (%s): weight dimension %d is %llu", path, nd->name, nd->type, i,
                                    (unsigned long long)w->dims[i]);
                return NULL;
            }
        for (size_t i = 0; i < w->n; i++)
            if (!isfinite(w->v[i])) {
                *err = evsnn_seterr(EVSNN_ENUMERIC, "%s: node '%s' (%s): weight[%zu] is not finite", path, nd->name, nd->type, i);
                return NULL;
            }
        *err = 0;
        return w;
    }
    return NULL;
}

static int meta_num(const nir_param *m, uint32_t n, const char *name, double *v) {
    const nir_param *p = nir_get_meta(m, n, name);
    if (!p || !p->v || p->n != 1 || !isfinite(p->v[0])) return 0;
    *v = p->v[0];
    return 1;
}

static const char *meta_str(const nir_param *m, uint32_t n, const char *name) {
    const nir_param *p = nir_get_meta(m, n, name);
    return p && p->dtype == NIR_STR && p->s ? p->s : NULL;
}

/* ---- the chain ---- */

/* Walk the graph from its single Input along single edges to its single Output; seq gets
 * the node indices in order. */
static int walk_chain(const nir_graph *g, const char *path, uint32_t *seq, uint32_t *len) {
    int in = -1, out = -1;
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        int *slot = !strcmp(g->nodes[i].type, "Input") ? &in : !strcmp(g->nodes[i].type, "Output") ? &out : NULL;
        if (!slot) continue;
        if (*slot >= 0)
            return evsnn_seterr(EVSNN_ENOTSUP, "%s: nodes '%s' and '%s' are both %s nodes: evsnn networks have one input and one output",
                                path, g->nodes[*slot].name, g->nodes[i].name, g->nodes[i].type);
        *slot = (int)i;
    }
    if (in < 0) return evsnn_seterr(EVSNN_EFORMAT, "%s: the graph has no Input node (missing node: where the spikes enter)", path);
    if (out < 0) return evsnn_seterr(EVSNN_EFORMAT, "%s: the graph has no Output node (missing node: where the spikes leave)", path);
    for (uint32_t e = 0; e < g->n_edges; e++) {
        const uint32_t a = g->edges[e][0], b = g->edges[e][1];
        if ((int)b == in || (int)a == out)
            return evsnn_seterr(EVSNN_EFORMAT, "%s: edge '%s' -> '%s': %s node '%s' cannot have %s edges", path, g->nodes[a].name,
                                g->nodes[b].name, (int)b == in ? "an Input" : "an Output", g->nodes[(int)b == in ? b : a].name,
                                (int)b == in ? "incoming" : "outgoing");
        for (uint32_t f = 0; f < e; f++)
            if (g->edges[f][0] == a && g->edges[f][1] == b)
                return evsnn_seterr(EVSNN_EFORMAT, "%s: edge '%s' -> '%s' is listed twice (NIR would sum the two)", path,
                                    g->nodes[a].name, g->nodes[b].name);
    }
    uint32_t *order = malloc((g->n_nodes ? g->n_nodes : 1) * sizeof *order);
    if (!order) return evsnn_seterr(EVSNN_ENOMEM, "no memory");
    int rc = nir_topo_order(g, path, order);
    free(order);
    if (rc) return rc;
    uint32_t k = 0, cur = (uint32_t)in;
    for (;;) {
        seq[k++] = cur;
        if ((int)cur == out) break;
        int next = -1, n_out = 0;
        for (uint32_t e = 0; e < g->n_edges; e++)
            if (g->edges[e][0] == cur) {
                if (n_out++ == 0) next = (int)g->edges[e][1];
                else
                    return evsnn_seterr(EVSNN_ENOTSUP, "%s: node '%s' (%s) has edges to both '%s' and '%s': evsnn networks are chains "
                                        "(no branches)", path, g->nodes[cur].name, g->nodes[cur].type, g->nodes[next].name,
                                        g->nodes[g->edges[e][1]].name);
            }
        if (next < 0) {
            if (k == 1)
                return evsnn_seterr(EVSNN_EFORMAT, "%s: Input node '%s' has no outgoing edge (dangling: nothing reads the input)", path,
                                    g->nodes[cur].name);
            return evsnn_seterr(EVSNN_EFORMAT, "%s: node '%s' (%s): the edge '%s' -> '%s' leads nowhere ('%s' has no outgoing edge "
                                "and is not the Output node: dangling edge)", path, g->nodes[cur].name, g->nodes[cur].type,
                                g->nodes[seq[k - 2]].name, g->nodes[cur].name, g->nodes[cur].name);
        }
        for (uint32_t e = 0; e < g->n_edges; e++)
            if (g->edges[e][1] == (uint32_t)next && g->edges[e][0] != cur)
                return evsnn_seterr(EVSNN_ENOTSUP, "%s: node '%s' (%s) has edges from both '%s' and '%s': evsnn networks are chains "
                                    "(no merges)", path, g->nodes[next].name, g->nodes[next].type, g->nodes[cur].name,
                                    g->nodes[g->edges[e][0]].name);
        cur = (uint32_t)next;
    }
    if (k < g->n_nodes)
        for (uint32_t i = 0; i < g->n_nodes; i++) {
            int on = 0;
            for (uint32_t j = 0; j < k && !on; j++) on = seq[j] == i;
            if (!on)
                return evsnn_seterr(EVSNN_EFORMAT, "%s: node '%s' (%s) is not on the path from '%s' to '%s' (dangling node)", path,
                                    g->nodes[i].name, g->nodes[i].type, g->nodes[in].name, g->nodes[out].name);
        }
    *len = k;
    return 0;
}

/* ---- import ---- */

/* One evsnn layer being assembled from its nodes. */
typedef struct {
    net_kind kind;
    const nir_node *syn, *pool, *neu;
    const nir_param *w, *b;   /* NIR weight ([out, in] or [out, in, k, k]) and bias */
    uint32_t out_c, k, n_neu; /* channels, kernel; neurons (after the pooling of currents) */
    pool_kind pk;
    uint32_t pool_k;
    neuron_cfg nc;
    double *c, *e;            /* [out_c] per-channel fold: weight factor, bias add (synapse units) */
    float beta_f, theta_f;
} blayer;

typedef struct {
    const char *path;
    const nir_graph *g;
    nir_import_report *rep;
    double dt;
    blayer L[NIR_MAX_LAYERS * 2];
    uint32_t n_l, n_spk;
    char arch[256];
    int arch_spatial;         /* the arch so far ends in conv/pool layers */
    int pool_on, same_pad;    /* -1: not decided yet */
    const nir_node *pool_on_by, *pad_by;
} importer;

static int arch_tok(importer *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int arch_tok(importer *im, const char *fmt, ...) {
    size_t u = strlen(im->arch);
    char t[32];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t, sizeof t, fmt, ap);
    va_end(ap);
    if (u + strlen(t) + 2 >= sizeof im->arch)
        return evsnn_seterr(EVSNN_ENOTSUP, "%s: the graph has more layers than an evsnn architecture holds", im->path);
    snprintf(im->arch + u, sizeof im->arch - u, "%s%s", u ? "-" : "", t);
    return 0;
}

static blayer *new_layer(importer *im, net_kind kind) {
    if (im->n_l == sizeof im->L / sizeof *im->L || (kind != NET_POOL && im->n_spk == NIR_MAX_LAYERS)) {
        evsnn_seterr(EVSNN_ENOTSUP, "%s: more than %d spiking layers", im->path, NIR_MAX_LAYERS);
        return NULL;
    }
    blayer *L = &im->L[im->n_l++];
    memset(L, 0, sizeof *L);
    L->kind = kind;
    return L;
}

/* Neurons of layer L (node nd, n neurons, out_c channels of n/out_c each): β, threshold,
 * input scale and leak per neuron, folded as the file comment says. */
static int neurons(importer *im, blayer *L, const nir_node *nd, const char *from) {
    const char *path = im->path;
    const size_t n = L->n_neu;
    const double dt = im->dt;
    double *a = malloc(6 * n * sizeof *a);
    if (!a) return evsnn_seterr(EVSNN_ENOMEM, "no memory for %zu neurons", n);
    double *tau = a, *r = a + n, *vl = a + 2 * n, *vt = a + 3 * n, *vr = a + 4 * n, *x = a + 5 * n;
    int rc = 0;
    const int is_if = !strcmp(nd->type, "IF"), cuba = !strcmp(nd->type, "CubaLIF");
    if (!rc) rc = vals(path, nd, "r", n, 1, 1, r, from);
    if (!rc) rc = vals(path, nd, "v_threshold", n, 1, 1, vt, from);
    if (!rc) rc = vals(path, nd, "v_reset", n, 0, 0, vr, from); /* nir < 1.0 files have none: 0 */
    if (!rc) rc = vals(path, nd, "v_leak", n, !is_if, 0, vl, from);
    if (!rc && !is_if) rc = vals(path, nd, cuba ? "tau_mem" : "tau", n, 1, 1, tau, from);
    if (!rc && cuba) {
        /* The synaptic current decays by α = 1 − dt/τ_syn per step; evsnn's neurons have no
         * such state, so only α = 0 maps (the current is the input of its step), and the
         * synapse's input scale w_in·dt/τ_syn joins r. */
        double *ts = malloc(2 * n * sizeof *ts);
        if (!ts) rc = evsnn_seterr(EVSNN_ENOMEM, "no memory");
        if (!rc) rc = vals(path, nd, "tau_syn", n, 1, 1, ts, from);
        if (!rc) rc = vals(path, nd, "w_in", n, 0, 1, ts + n, from);
        for (size_t i = 0; !rc && i < n; i++) {
            double alpha = 1.0 - dt / ts[i];
            if (!(ts[i] > 0) || fabs(alpha) > SCALE_SNAP)
                rc = evsnn_seterr(EVSNN_ENOTSUP, "%s: node '%s' (CubaLIF): tau_syn %g s gives a synaptic decay α = 1 − dt/τ_syn = %g at dt %g s; "
                                  "evsnn's neurons have no synaptic current, only α = 0 (tau_syn = dt) maps", path, nd->name, ts[i], alpha, dt);
            else r[i] *= ts[i + n] * dt / ts[i];
        }
        free(ts);
    }
    /* Per neuron: x = threshold in synapse units (θ/s); vl becomes the bias added (l/s). */
    double beta0 = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        double ai = is_if ? 0.0 : dt / tau[i];
        double beta = is_if ? 1.0 : (double)(float)(1.0 - ai);
        double s = is_if ? r[i] : r[i] * ai;
        if (!is_if && !(tau[i] > 0))
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: node '%s' (%s): tau[%zu] = %g s, expected > 0", path, nd->name, nd->type, i, tau[i]);
        else if (beta < 0 && beta > -META_TOL) beta = 0; /* τ = dt rounded to float */
        if (!rc && beta < 0)
            rc = evsnn_seterr(EVSNN_EINVAL, "%s: node '%s' (%s): tau %g s is shorter than dt %g s (β = 1 − dt/τ = %g < 0): give the step the "
                              "graph was trained with (--dt)", path, nd->name, nd->type, tau[i], dt, beta);
        if (!rc && fabs(s - 1.0) <= SCALE_SNAP) s = 1.0;
        if (!rc && !(s > 0) )
            rc = evsnn_seterr(EVSNN_ENOTSUP, "%s: node '%s' (%s): input scale %s = %g; evsnn needs a positive scale", path, nd->name,
                              nd->type, is_if ? "r" : "r·dt/τ", s);
        if (!rc && !(vt[i] > 0 && isfinite(vt[i])))
            rc = evsnn_seterr(EVSNN_ENOTSUP, "%s: node '%s' (%s): v_threshold[%zu] = %g; evsnn thresholds are > 0", path, nd->name,
                              nd->type, i, vt[i]);
        if (!rc && vr[i] != 0)
            rc = evsnn_seterr(EVSNN_ENOTSUP, "%s: node '%s' (%s): v_reset[%zu] = %g; evsnn's zero reset returns the membrane to 0", path,
                              nd->name, nd->type, i, vr[i]);
        if (!rc && !isfinite(s)) rc = evsnn_seterr(EVSNN_ENOTSUP, "%s: node '%s' (%s): input scale is not finite", path, nd->name, nd->type);
        if (rc) break;
        if (i == 0) beta0 = beta;
        else if (fabs(beta - beta0) > META_TOL)
            rc = evsnn_seterr(EVSNN_ENOTSUP, "%s: node '%s' (%s): τ gives β = %g for neuron 0 but %g for neuron %zu: evsnn has one β per layer",
                              path, nd->name, nd->type, beta0, beta, i);
        x[i] = vt[i] / s;
        vl[i] = is_if ? 0.0 : ai * vl[i] / s;
        if (!isfinite(x[i]) || !isfinite(vl[i]))
            rc = evsnn_seterr(EVSNN_ENUMERIC, "%s: node '%s' (%s): neuron %zu's threshold or leak is not finite after scaling", path,
                              nd->name, nd->type, i);
    }
    /* One threshold per layer (the first neuron's); the others' ratio goes into their
     * weights, which must be uniform per output channel for a convolution. */
    const double th = rc ? 1 : x[0];
    const size_t per = n / L->out_c;
    int folded = 0, scaled = 0;
    for (uint32_t ch = 0; !rc && ch < L->out_c; ch++) {
        double c0 = th / x[ch * per], e0 = vl[ch * per];
        if (fabs(c0 - 1.0) <= META_TOL) c0 = 1.0;
        for (size_t j = 1; j < per && !rc; j++) {
            double cj = th / x[ch * per + j], ej = vl[ch * per + j];
            if (fabs(cj - c0) > META_TOL * fabs(c0) || fabs(ej - e0) > META_TOL * (fabs(e0) + 1e-30))
                rc = evsnn_seterr(EVSNN_ENOTSUP, "%s: node '%s' (%s): threshold, input scale or leak differ within channel %u: evsnn folds "
                                  "per-channel differences into the kernel, not per-pixel ones", path, nd->name, nd->type, ch);
        }
        L->c[ch] = c0;
        L->e[ch] = e0;
        folded |= c0 != 1.0;
    }
    for (size_t i = 0; !rc && i < n; i++) scaled |= x[i] != vt[i];
    if (!rc) {
        L->beta_f = (float)beta0;
        L->theta_f = (float)th;
        if (!(L->theta_f > 0) || !isfinite(L->theta_f))
            rc = evsnn_seterr(EVSNN_ENOTSUP, "%s: node '%s' (%s): threshold %g is not a positive float", path, nd->name, nd->type, th);
    }
    if (!rc && scaled && !folded)
        note(im->rep, "node '%s' (%s): input scale folded into the threshold (%g)", nd->name, nd->type, th);
    if (!rc && folded)
        note(im->rep, "node '%s' (%s): thresholds differ between %s: the ratios are folded into the weights (layer threshold %g)",
             nd->name, nd->type, L->kind == NET_CONV ? "channels" : "neurons", th);
    free(a);
    return rc;
}

/* Input shape for the first synapse: NIR Input shapes may carry a leading batch dimension
 * (snnTorch's export_to_nir without ignore_dims writes the sample's (1, 784)). */
static int input_shape(importer *im, const nir_node *in, const blayer *first, uint32_t *c, uint32_t *h, uint32_t *w) {
    const nir_param *p = nir_get(in, "shape");
    const char *path = im->path;
    if (!p || !p->v || p->n == 0 || p->n > 8)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: node '%s' (Input): 'shape' is missing or not 1 to 8 integers", path, in->name);
    uint64_t d[8] = {0};
    size_t r = p->n;
    for (size_t i = 0; i < r; i++) {
        if (!(p->v[i] >= 1 && p->v[i] <= (1 << 24)) || p->v[i] != floor(p->v[i]))
            return evsnn_seterr(EVSNN_EFORMAT, "%s: node '%s' (Input): shape[%zu] = %g is not a positive size", path, in->name, i, p->v[i]);
        d[i] = (uint64_t)p->v[i];
    }
    char sh[96] = "";
    for (size_t i = 0; i < r; i++) snprintf(sh + strlen(sh), sizeof sh - strlen(sh), "%s%llu", i ? "x" : "", (unsigned long long)d[i]);
    const nir_param *wt = first->w;
    if (first->kind == NET_CONV) {
        uint64_t cw = wt->dims[1];
        size_t o = r == 4 ? 1 : 0; /* (B, C, H, W) */
        if (r == 2 && cw == 1) { *c = 1; *h = (uint32_t)d[0]; *w = (uint32_t)d[1]; return 0; }
        if ((r == 3 || r == 4) && d[o] == cw && d[o + 1] < 65536 && d[o + 2] < 65536) {
            *c = (uint32_t)d[o]; *h = (uint32_t)d[o + 1]; *w = (uint32_t)d[o + 2];
            return 0;
        }
        return evsnn_seterr(EVSNN_ESHAPE, "%s: node '%s' (Input): shape %s does not fit node '%s' (Conv2d), which takes %llu channels "
                            "(expected C x H x W, optionally after a batch dimension)", path, in->name, sh, first->syn->name, (unsigned long long)cw);
    }
    uint64_t need = wt->dims[1], all = 1, tail = 1;
    for (size_t i = 0; i < r; i++) all *= d[i];
    for (size_t i = 1; i < r; i++) tail *= d[i];
    size_t o;
    if (all == need) o = 0;
    else if (r >= 2 && tail == need) o = 1; /* a batch dimension */
    else
        return evsnn_seterr(EVSNN_ESHAPE, "%s: node '%s' (Input): shape %s does not fit node '%s' (%s), which takes %llu values", path,
                            in->name, sh, first->syn->name, first->syn->type, (unsigned long long)need);
    /* An image (C x H x W, read through a Flatten) stays one; anything else is a vector. */
    while (r - o > 3 && d[o] == 1) o++;
    if (r - o == 3) { *c = (uint32_t)d[o]; *h = (uint32_t)d[o + 1]; *w = (uint32_t)d[o + 2]; }
    else { *c = (uint32_t)need; *h = *w = 1; }
    return 0;
}

/* Is Flatten node nd a full flatten of a (c, h, w) tensor? */
static int check_flatten(importer *im, const nir_node *nd, uint32_t c, uint32_t h, uint32_t w) {
    const char *path = im->path;
    const uint64_t E = (uint64_t)c * h * w;
    const nir_param *it = nir_get(nd, "input_type");
    int r = 3;
    size_t o = 0;
    if (it && it->v && it->n >= 1 && it->n <= 8) {
        uint64_t all = 1, tail = 1;
        for (size_t i = 0; i < it->n; i++) all *= it->v[i] >= 0 && it->v[i] < 1e9 ? (uint64_t)it->v[i] : 0;
        for (size_t i = 1; i < it->n; i++) tail *= it->v[i] >= 0 && it->v[i] < 1e9 ? (uint64_t)it->v[i] : 0;
        if (all != E && !(it->n >= 2 && tail == E))
            return evsnn_seterr(EVSNN_ESHAPE, "%s: node '%s' (Flatten): input_type has %llu values, but its input gives %ux%ux%u = %llu",
                                path, nd->name, (unsigned long long)all, c, h, w, (unsigned long long)E);
        r = (int)it->n;
        o = all == E ? 0 : 1;
    }
    long sd[2], ed[2];
    int rc = pair(path, nd, "start_dim", 0, sd);
    if (!rc) rc = pair(path, nd, "end_dim", -1, ed);
    if (rc) return rc;
    long s = sd[0] < 0 ? sd[0] + r : sd[0], e = ed[0] < 0 ? ed[0] + r : ed[0];
    /* Everything but an optional batch dimension must be flattened. */
    if (s > (long)o || e != r - 1)
        return evsnn_seterr(EVSNN_ENOTSUP, "%s: node '%s' (Flatten): start_dim %ld, end_dim %ld on a rank-%d input leaves it "
                            "partly unflattened; evsnn flattens C x H x W to one vector", path, nd->name, sd[0], ed[0], r);
    return 0;
}

static int pool_node(importer *im, const nir_node *nd, pool_kind *pk, uint32_t *k) {
    long ks[2], st[2], pd[2];
    const char *path = im->path;
    int rc = pair(path, nd, "kernel_size", 0, ks);
    if (!rc && !nir_get(nd, "kernel_size"))
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: node '%s' (%s): parameter 'kernel_size' is missing", path, nd->name, nd->type);
    if (!rc) rc = pair(path, nd, "stride", ks[0], st);
    if (!rc) rc = pair(path, nd, "padding", 0, pd);
    if (rc) return rc;
    if (ks[0] != ks[1] || ks[0] < 1 || ks[0] > 65535)
        return evsnn_seterr(EVSNN_ENOTSUP, "%s: node '%s' (%s): kernel %ldx%ld; evsnn pools square windows", path, nd->name, nd->type, ks[0], ks[1]);
    if (st[0] != ks[0] || st[1] != ks[1])
        return evsnn_seterr(EVSNN_ENOTSUP, "%s: node '%s' (%s): stride %ldx%ld with kernel %ld; evsnn pools with stride = kernel", path,
                            nd->name, nd->type, st[0], st[1], ks[0]);
    if (pd[0] || pd[1])
        return evsnn_seterr(EVSNN_ENOTSUP, "%s: node '%s' (%s): padding %ldx%ld; evsnn pools without padding", path, nd->name, nd->type,
                            pd[0], pd[1]);
    *pk = !strcmp(nd->type, "AvgPool2d") ? POOL_AVG : POOL_SUM;
    *k = (uint32_t)ks[0];
    return 0;
}

static int set_pool_on(importer *im, const nir_node *nd, int on) {
    if (im->pool_on >= 0 && im->pool_on != on)
        return evsnn_seterr(EVSNN_ENOTSUP, "%s: node '%s' (%s) pools %s but node '%s' pools %s: evsnn pools all layers alike", im->path,
                            nd->name, nd->type, on == POOL_ON_SPIKES ? "spikes" : "currents", im->pool_on_by->name,
                            im->pool_on == POOL_ON_SPIKES ? "spikes" : "currents");
    im->pool_on = on;
    im->pool_on_by = nd;
    return 0;
}

/* Conv2d node: square kernel, stride 1, dilation 1, one group, valid or same padding. */
static int conv_node(importer *im, blayer *L, const nir_node *nd, uint32_t c, uint32_t h, uint32_t w, uint32_t *oh, uint32_t *ow) {
    const char *path = im->path;
    int rc;
    const nir_param *wt = weight(path, nd, 4, &rc);
    if (!wt) return rc;
    if (wt->dims[2] != wt->dims[3])
        return evsnn_seterr(EVSNN_ENOTSUP, "%s: node '%s' (Conv2d): kernel %llux%llu; evsnn convolutions are square", path, nd->name,
                            (unsigned long long)wt->dims[2], (unsigned long long)wt->dims[3]);
    if (wt->dims[1] != c)
        return evsnn_seterr(EVSNN_ESHAPE, "%s: node '%s' (Conv2d): weight takes %llu input channels, but its input has %u (%ux%ux%u)", path,
                            nd->name, (unsigned long long)wt->dims[1], c, c, h, w);
    const uint32_t k = (uint32_t)wt->dims[2];
    long st[2], dl[2], pd[2];
    if ((rc = pair(path, nd, "stride", 1, st)) || (rc = pair(path, nd, "dilation", 1, dl))) return rc;
    if (st[0] != 1 || st[1] != 1)
        return evsnn_seterr(EVSNN_ENOTSUP, "%s: node '%s' (Conv2d): stride %ldx%ld; evsnn convolutions have stride 1", path, nd->name, st[0], st[1]);
    if (dl[0] != 1 || dl[1] != 1)
        return evsnn_seterr(EVSNN_ENOTSUP, "%s: node '%s' (Conv2d): dilation %ldx%ld; evsnn convolutions have dilation 1", path, nd->name, dl[0], dl[1]);
    const nir_param *gp = nir_get(nd, "groups");
    if (gp && (!gp->v || gp->n != 1 || gp->v[0] != 1))
        return evsnn_seterr(EVSNN_ENOTSUP, "%s: node '%s' (Conv2d): groups is not 1; evsnn convolutions are dense over channels", path, nd->name);
    const nir_param *pp = nir_get(nd, "padding");
    int same;
    if (pp && pp->dtype == NIR_STR) {
        if (pp->s && !strcmp(pp->s, "valid")) same = 0;
        else if (pp->s && !strcmp(pp->s, "same") && k % 2 == 1) same = 1;
        else
            return evsnn_seterr(EVSNN_ENOTSUP, "%s: node '%s' (Conv2d): padding '%s' with kernel %u; evsnn pads 'valid', or 'same' with odd kernels",
                                path, nd->name, pp->s ? pp->s : "", k);
    } else {
        if ((rc = pair(path, nd, "padding", 0, pd))) return rc;
        if (pd[0] != pd[1] || (pd[0] != 0 && pd[0] != (long)(k / 2)))
            return evsnn_seterr(EVSNN_ENOTSUP, "%s: node '%s' (Conv2d): padding %ldx%ld with kernel %u; evsnn pads 0 or kernel/2 = %u on all sides",
                                path, nd->name, pd[0], pd[1], k, k / 2);
        same = pd[0] != 0;
    }
    if (k > 1) {
        if (im->same_pad >= 0 && im->same_pad != same)
            return evsnn_seterr(EVSNN_ENOTSUP, "%s: node '%s' (Conv2d) pads '%s' but node '%s' pads '%s': evsnn pads all convolutions alike",
                                path, nd->name, same ? "same" : "valid", im->pad_by->name, im->same_pad ? "same" : "valid");
        im->same_pad = same;
        im->pad_by = nd;
    }
    long is[2];
    if ((rc = pair(path, nd, "input_shape", (long)h, is))) return rc;
    if (nir_get(nd, "input_shape") && (is[0] != (long)h || is[1] != (long)w))
        return evsnn_seterr(EVSNN_ESHAPE, "%s: node '%s' (Conv2d): input_shape %ldx%ld, but its input is %ux%u", path, nd->name, is[0],
                            is[1], h, w);
    const uint32_t pad = same ? k / 2 : 0;
    if (k > h + 2 * pad || k > w + 2 * pad)
        return evsnn_seterr(EVSNN_ESHAPE, "%s: node '%s' (Conv2d): kernel %u is larger than its %ux%u input", path, nd->name, k, h, w);
    *oh = h + 2 * pad - k + 1;
    *ow = w + 2 * pad - k + 1;
    L->w = wt;
    L->k = k;
    L->out_c = (uint32_t)wt->dims[0];
    return 0;
}

/* Bias of a synapse: [out] (or one value), absent for Linear. */
static int bias_of(importer *im, blayer *L, const nir_node *nd) {
    const nir_param *b = nir_get(nd, "bias");
    if (!b) {
        if (!strcmp(nd->type, "Affine"))
            return evsnn_seterr(EVSNN_EFORMAT, "%s: node '%s' (Affine): parameter 'bias' is missing", im->path, nd->name);
        return 0;
    }
    if (!b->v || b->dtype == NIR_STR || b->dtype == NIR_OTHER || (b->n != 1 && b->n != L->out_c))
        return evsnn_seterr(EVSNN_ESHAPE, "%s: node '%s' (%s): bias has %zu values, expected %u", im->path, nd->name, nd->type, b->n, L->out_c);
    for (size_t i = 0; i < b->n; i++)
        if (!isfinite(b->v[i]))
            return evsnn_seterr(EVSNN_ENUMERIC, "%s: node '%s' (%s): bias[%zu] is not finite", im->path, nd->name, nd->type, i);
    L->b = b;
    return 0;
}

/* Assemble the layers along the chain seq[0..len). */
static int assemble(importer *im, const uint32_t *seq, uint32_t len, uint32_t *ic, uint32_t *ih, uint32_t *iw) {
    const nir_graph *g = im->g;
    const char *path = im->path;
    uint32_t c = 0, h = 0, w = 0; /* the tensor after the last node */
    int spatial = 0, have_in = 0;
    blayer *pend = NULL;           /* synapse waiting for its neurons */
    blayer *last = NULL;           /* last completed spiking layer */
    const nir_node *prev = &g->nodes[seq[0]];
    int rc = 0;
    for (uint32_t s = 1; s + 1 < len && !rc; s++) {
        const nir_node *nd = &g->nodes[seq[s]];
        const char *t = nd->type;
        if (!known_mapped(t)) {
            const char *why = unmapped_reason(t);
            if (why) return evsnn_seterr(EVSNN_ENOTSUP, "%s: node '%s' (%s) is not supported by evsnn: %s", path, nd->name, t, why);
            return evsnn_seterr(EVSNN_EFORMAT, "%s: node '%s': type '%s' is not a NIR 1.0 node type (unknown type)", path, nd->name, t);
        }
        if (!strcmp(t, "Affine") || !strcmp(t, "Linear") || !strcmp(t, "Conv2d")) {
            const int conv = t[0] == 'C';
            if (pend)
                return evsnn_seterr(EVSNN_ENOTSUP, "%s: node '%s' (%s) follows '%s' (%s) with no neurons between: an evsnn layer is a synapse "
                                    "then neurons", path, nd->name, t, prev->name, prev->type);
            blayer *L = new_layer(im, conv ? NET_CONV : NET_DENSE);
            if (!L) return EVSNN_ENOTSUP;
            L->syn = nd;
            if (!have_in) {
                /* The first synapse fixes the input shape. */
                if (conv) { if (!(L->w = weight(path, nd, 4, &rc))) return rc; }
                else if (!(L->w = weight(path, nd, 2, &rc))) return rc;
                if ((rc = input_shape(im, &g->nodes[seq[0]], L, ic, ih, iw))) return rc;
                c = *ic; h = *ih; w = *iw;
                spatial = conv;
                have_in = 1;
                if (!conv) { if ((rc = arch_tok(im, "%u", c * h * w))) return rc; }
                if (!conv) c = c * h * w, h = w = 1;
            }
            if (conv) {
                if (!spatial)
                    return evsnn_seterr(EVSNN_ENOTSUP, "%s: node '%s' (Conv2d) follows a flattened or dense layer ('%s'): evsnn convolutions "
                                        "come before the dense layers", path, nd->name, prev->name);
                uint32_t oh = 0, ow = 0;
                if ((rc = conv_node(im, L, nd, c, h, w, &oh, &ow))) return rc;
                if ((rc = arch_tok(im, "%uC%u", L->out_c, L->k))) return rc;
                c = L->out_c; h = oh; w = ow;
                im->arch_spatial = 1;
            } else {
                if (!(L->w = weight(path, nd, 2, &rc))) return rc;
                const uint64_t E = (uint64_t)c * h * w;
                if (L->w->dims[1] != E)
                    return evsnn_seterr(EVSNN_ESHAPE, "%s: node '%s' (%s): weight is %llux%llu (takes %llu values), but '%s' (%s) gives %llu",
                                        path, nd->name, t, (unsigned long long)L->w->dims[0], (unsigned long long)L->w->dims[1],
                                        (unsigned long long)L->w->dims[1], prev->name, prev->type, (unsigned long long)E);
                if (im->arch_spatial) { if ((rc = arch_tok(im, "%llu", (unsigned long long)E))) return rc; }
                im->arch_spatial = 0;
                L->out_c = (uint32_t)L->w->dims[0];
                if ((rc = arch_tok(im, "%u", L->out_c))) return rc;
                c = L->out_c; h = w = 1;
                spatial = 0;
            }
            if ((rc = bias_of(im, L, nd))) return rc;
            pend = L;
        } else if (!strcmp(t, "AvgPool2d") || !strcmp(t, "SumPool2d")) {
            pool_kind pk = POOL_AVG;
            uint32_t k = 1;
            if ((rc = pool_node(im, nd, &pk, &k))) return rc;
            if (!spatial)
                return evsnn_seterr(EVSNN_ENOTSUP, "%s: node '%s' (%s) after '%s': evsnn pools the maps of convolutions only", path, nd->name,
                                    t, prev->name);
            if (k > h || k > w)
                return evsnn_seterr(EVSNN_ESHAPE, "%s: node '%s' (%s): window %u is larger than its %ux%u input", path, nd->name, t, k, h, w);
            const char *tok = pk == POOL_AVG ? "AP" : "SP";
            if (pend && pend->kind == NET_CONV && !pend->pool) {
                if ((rc = set_pool_on(im, nd, POOL_ON_CURRENTS))) return rc;
                pend->pool = nd;
                pend->pk = pk;
                pend->pool_k = k;
            } else if (!pend && last && last->kind == NET_CONV && prev == last->neu) {
                if ((rc = set_pool_on(im, nd, POOL_ON_SPIKES))) return rc;
                blayer *P = new_layer(im, NET_POOL);
                if (!P) return EVSNN_ENOTSUP;
                P->pool = nd;
                P->pk = pk;
                P->pool_k = k;
            } else
                return evsnn_seterr(EVSNN_ENOTSUP, "%s: node '%s' (%s) after '%s' (%s): evsnn pools a convolution's currents or its neurons' "
                                    "spikes, once", path, nd->name, t, prev->name, prev->type);
            if ((rc = arch_tok(im, "%s%u", tok, k))) return rc;
            h /= k;
            w /= k;
        } else if (!strcmp(t, "Flatten")) {
            if (!have_in)
                ; /* Input → Flatten → Affine: the Affine checks the size */
            else if (spatial) {
                if ((rc = check_flatten(im, nd, c, h, w))) return rc;
                c = c * h * w;
                h = w = 1;
                spatial = 0;
            }
        } else if (!strcmp(t, "LIF") || !strcmp(t, "IF") || !strcmp(t, "CubaLIF")) {
            if (!pend)
                return evsnn_seterr(EVSNN_ENOTSUP, "%s: node '%s' (%s) follows '%s' (%s) with no synapse between: an evsnn layer is a synapse "
                                    "(Affine, Linear, Conv2d) then neurons", path, nd->name, t, prev->name, prev->type);
            pend->neu = nd;
            pend->n_neu = c * h * w;
            pend->c = calloc(2 * (size_t)pend->out_c, sizeof *pend->c);
            if (!pend->c) return evsnn_seterr(EVSNN_ENOMEM, "no memory");
            pend->e = pend->c + pend->out_c;
            if ((rc = neurons(im, pend, nd, prev->name))) return rc;
            im->n_spk++;
            last = pend;
            pend = NULL;
        } else { /* Input or Output inside the chain cannot happen: walk_chain ends at the Output */
            return evsnn_seterr(EVSNN_EFORMAT, "%s: node '%s' (%s) inside the chain", path, nd->name, t);
        }
        prev = nd;
    }
    const nir_node *out = &g->nodes[seq[len - 1]];
    if (pend)
        return evsnn_seterr(EVSNN_ENOTSUP, "%s: the chain reaches '%s' from '%s' (%s) without neurons: evsnn layers end in LIF/IF neurons",
                            path, out->name, prev->name, prev->type);
    if (!last)
        return evsnn_seterr(EVSNN_ENOTSUP, "%s: the graph has no neuron layer between '%s' and '%s'", path, g->nodes[seq[0]].name, out->name);
    if (last != &im->L[im->n_l - 1] || last->kind != NET_DENSE)
        return evsnn_seterr(EVSNN_ENOTSUP, "%s: the last layer before '%s' is '%s' (%s): evsnn networks end with a dense layer (Affine or "
                            "Linear, then neurons)", path, out->name, prev->name, prev->type);
    const nir_param *os = nir_get(out, "shape");
    if (os && os->v && os->n >= 1 && os->n <= 8) {
        uint64_t all = 1, tail = 1;
        for (size_t i = 0; i < os->n; i++) all *= os->v[i] >= 0 && os->v[i] < 1e9 ? (uint64_t)os->v[i] : 0;
        for (size_t i = 1; i < os->n; i++) tail *= os->v[i] >= 0 && os->v[i] < 1e9 ? (uint64_t)os->v[i] : 0;
        if (all != last->n_neu && !(os->n >= 2 && tail == last->n_neu))
            return evsnn_seterr(EVSNN_ESHAPE, "%s: node '%s' (Output): shape has %llu values, but '%s' (%s) gives %u", path, out->name,
                                (unsigned long long)all, prev->name, prev->type, last->n_neu);
    } else if (os)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: node '%s' (Output): 'shape' is not 1 to 8 integers", path, out->name);
    return 0;
}

/* Copy and fold the NIR parameters of layer B into evsnn layer L. */
static void fill_layer(net_layer *L, const blayer *B) {
    const uint32_t no = L->out_c;
    if (L->kind == NET_DENSE) {
        const uint32_t ni = L->n_in;
        for (uint32_t j = 0; j < no; j++)
            for (uint32_t i = 0; i < ni; i++) {
                double v = B->w->v[(size_t)j * ni + i]; /* NIR [out, in] → evsnn [in, out] */
                L->w[(size_t)i * no + j] = (float)(B->c[j] == 1.0 ? v : B->c[j] * v);
            }
    } else {
        const size_t per = L->n_w / no;
        for (uint32_t o = 0; o < no; o++)
            for (size_t i = 0; i < per; i++) {
                double v = B->w->v[o * per + i];
                L->w[o * per + i] = (float)(B->c[o] == 1.0 ? v : B->c[o] * v);
            }
    }
    /* A leak added after the pooling of currents enters the conv bias divided by the sum
     * pool's k² (the engine sums the bias over the window); average pooling keeps it. */
    const double gain = L->kind == NET_CONV && L->pool == POOL_SUM ? (double)L->pool_k * L->pool_k : 1.0;
    for (uint32_t j = 0; L->b && j < no; j++) {
        double b = B->b ? B->b->v[B->b->n == 1 ? 0 : j] : 0.0;
        if (B->e[j] != 0) b += B->e[j] / gain;
        L->b[j] = (float)(B->c[j] == 1.0 ? b : B->c[j] * b);
    }
}

net *nir_to_net(const nir_graph *g, const char *path, const nir_import_opts *o, model_meta *meta, nir_import_report *rep,
                int *err) {
    nir_import_opts o0 = {0};
    nir_import_report r0;
    if (!o) o = &o0;
    if (!rep) rep = &r0;
    memset(rep, 0, sizeof *rep);
    importer *im = calloc(1, sizeof *im);
    uint32_t *seq = malloc((g->n_nodes ? g->n_nodes : 1) * sizeof *seq);
    net *n = NULL;
    int rc = im && seq ? 0 : evsnn_seterr(EVSNN_ENOMEM, "no memory");
    if (rc) goto done;
    im->path = path;
    im->g = g;
    im->rep = rep;
    im->pool_on = im->same_pad = -1;
    double mdt;
    if (o->dt > 0) im->dt = o->dt;
    else if (meta_num(g->meta, g->n_meta, "evsnn_dt", &mdt) && mdt > 0 && mdt < 1e6) {
        im->dt = mdt;
        note(rep, "dt %g s from the graph's evsnn_dt metadata (--dt overrides)", mdt);
    } else {
        im->dt = NIR_DEFAULT_DT;
        note(rep, "dt %g s (snnTorch's export_to_nir convention; --dt overrides): β = 1 − dt/τ, input scale r·dt/τ", im->dt);
    }
    if (!(im->dt > 0 && isfinite(im->dt))) { rc = evsnn_seterr(EVSNN_EINVAL, "dt %g s: expected a positive time step", im->dt); goto done; }
    rep->dt = im->dt;
    uint32_t len = 0, ic = 0, ih = 0, iw = 0;
    if ((rc = walk_chain(g, path, seq, &len))) goto done;
    if ((rc = assemble(im, seq, len, &ic, &ih, &iw))) goto done;

    /* Neuron settings per spiking layer: NIR's values, refined by evsnn's own metadata. */
    neuron_cfg cfg[NIR_MAX_LAYERS];
    uint32_t ns = 0;
    int any_meta_reset = 0, all_default = 1;
    for (uint32_t l = 0; l < im->n_l; l++) {
        blayer *B = &im->L[l];
        if (B->kind == NET_POOL) continue;
        const nir_node *nd = B->neu;
        neuron_cfg *c = &cfg[ns];
        *c = net_default_neuron();
        c->beta = B->beta_f;
        c->theta = B->theta_f;
        c->cmp = CMP_GT; /* NIR spikes when v > v_threshold */
        c->reset = RESET_ZERO;
        double v;
        if (meta_num(nd->meta, nd->n_meta, "evsnn_beta", &v) && fabs(v - c->beta) <= META_TOL) c->beta = (float)v;
        if (meta_num(nd->meta, nd->n_meta, "evsnn_threshold", &v) && fabs(v - c->theta) <= META_TOL * c->theta && v > 0) {
            c->theta = (float)v;
            const char *cmp = meta_str(nd->meta, nd->n_meta, "evsnn_compare");
            if (cmp && !strcmp(cmp, ">=")) c->cmp = CMP_GE; /* written as v_threshold = nextafter(θ, 0) */
        }
        const char *from = "default";
        const char *mr = meta_str(nd->meta, nd->n_meta, "evsnn_reset");
        reset_mode mm;
        if (o->n_reset) {
            c->reset = o->reset[ns < o->n_reset ? ns : o->n_reset - 1];
            from = "--reset";
        } else if (mr && net_reset_parse(mr, &mm) == 0) {
            c->reset = mm;
            from = "metadata";
            any_meta_reset = 1;
        }
        evsnn_clearerr();
        all_default &= !strcmp(from, "default");
        int has_b = B->b != NULL;
        for (uint32_t j = 0; j < B->out_c; j++) has_b |= B->e[j] != 0;
        if (has_b && meta_num(nd->meta, nd->n_meta, "evsnn_bias", &v) && v == 0) {
            int zero = 1;
            for (size_t j = 0; B->b && j < B->b->n; j++) zero &= B->b->v[j] == 0;
            for (uint32_t j = 0; j < B->out_c; j++) zero &= B->e[j] == 0;
            if (zero) has_b = 0; /* evsnn wrote zeros for a layer without bias (NIR's Conv2d always has one) */
        }
        c->bias = has_b;
        B->nc = *c;
        snprintf(rep->layer[ns].synapse, sizeof rep->layer[ns].synapse, "%s", B->syn->name);
        snprintf(rep->layer[ns].neuron, sizeof rep->layer[ns].neuron, "%s", nd->name);
        rep->layer[ns].reset_from = from;
        ns++;
    }
    rep->n_layers = ns;
    if (all_default)
        note(rep, "reset zero: NIR's neurons return to v_reset = 0 right after a spike, which is evsnn's zero reset in spikes (--reset overrides)");
    else if (any_meta_reset && !o->n_reset)
        note(rep, "reset taken from evsnn's evsnn_reset metadata where present (written by 'evsnn nir export'; --reset overrides)");

    net_opts no = {.cfg = cfg, .n_cfg = ns, .pool_on = im->pool_on == POOL_ON_SPIKES ? POOL_ON_SPIKES : POOL_ON_CURRENTS,
                   .spool = SPOOL_SUM, .same_pad = im->same_pad == 1};
    n = net_build(im->arch, ic, ih, iw, &no, &rc);
    if (!n) {
        char msg[768];
        snprintf(msg, sizeof msg, "%s", evsnn_errmsg());
        rc = evsnn_seterr(rc, "%s: the graph maps to '%s' on %ux%ux%u, which evsnn cannot build: %s", path, im->arch, ic, ih, iw, msg);
        goto done;
    }
    if (n->n_layers != im->n_l) {
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: '%s' built %u layers, the graph has %u", path, im->arch, n->n_layers, im->n_l);
        goto done;
    }
    for (uint32_t l = 0; l < n->n_layers; l++) {
        net_layer *L = &n->layers[l];
        const blayer *B = &im->L[l];
        if (L->kind != B->kind || (L->kind != NET_POOL && L->n_out != B->n_neu)) {
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: layer %s of '%s' does not match node '%s'", path, L->name, im->arch,
                              (B->syn ? B->syn : B->pool)->name);
            goto done;
        }
        if (L->kind != NET_POOL) fill_layer(L, B);
    }
    for (size_t i = 0; i < n->n_params; i++)
        if (!isfinite(n->params[i])) {
            rc = evsnn_seterr(EVSNN_ENUMERIC, "%s: parameter %zu is not finite after folding", path, i);
            goto done;
        }
    if (meta) {
        memset(meta, 0, sizeof *meta);
        meta->pool_on = no.pool_on;
        meta->spool = no.spool;
        meta->same_pad = no.same_pad;
        double v;
        if (meta_num(g->meta, g->n_meta, "evsnn_steps", &v) && v >= 1 && v <= 1e6) meta->steps = (uint32_t)v;
        const char *ds = meta_str(g->meta, g->n_meta, "evsnn_dataset");
        if (ds) snprintf(meta->dataset, sizeof meta->dataset, "%s", ds);
        if (meta_num(g->meta, g->n_meta, "evsnn_binarized", &v) && v == 1) {
            int pm = 1;
            for (uint32_t l = 0; l < n->n_layers && pm; l++)
                for (size_t j = 0; j < n->layers[l].n_w && pm; j++) pm = fabsf(n->layers[l].w[j]) == 1.0f;
            meta->binarized = pm;
        }
    }
done:
    if (im)
        for (uint32_t l = 0; l < im->n_l; l++) free(im->L[l].c);
    free(im);
    free(seq);
    if (rc) {
        net_free(n);
        *err = rc;
        return NULL;
    }
    *err = 0;
    return n;
}

net *nir_load(const char *path, const nir_import_opts *o, model_meta *meta, nir_import_report *rep, int *err) {
    nir_graph *g = nir_read(path, err);
    if (!g) return NULL;
    net *n = nir_to_net(g, path, o, meta, rep, err);
    nir_graph_free(g);
    return n;
}

/* ---- export ---- */

/* The float32 τ for β at dt whose re-import (float)(1 − dt/τ) gives β back, when one of
 * the nearest floats does (float32 τ cannot hit every β below 0.5 exactly). */
static float tau_of(float beta, double dt) {
    const float t0 = (float)(dt / (1.0 - (double)beta));
    float lo = t0, hi = t0;
    if ((float)(1.0 - dt / (double)t0) == beta) return t0;
    for (int i = 0; i < 16; i++) {
        lo = nextafterf(lo, 0.0f);
        hi = nextafterf(hi, INFINITY);
        if ((float)(1.0 - dt / (double)lo) == beta) return lo;
        if ((float)(1.0 - dt / (double)hi) == beta) return hi;
    }
    return t0;
}

static void warn(nir_export_report *rep, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(nir_export_report *rep, const char *fmt, ...) {
    rep->n_warn++;
    va_list ap;
    va_start(ap, fmt);
    add_line(rep->warnings, sizeof rep->warnings, fmt, ap);
    va_end(ap);
}

/* "a, b, c" lists of layer names for the warnings (ending in "..." when full). */
static void list_add(char *list, size_t cap, const char *name) {
    size_t u = strlen(list);
    if (u + strlen(name) + 8 < cap) snprintf(list + u, cap - u, "%s%s", u ? ", " : "", name);
    else if (u + 5 < cap && (u < 3 || strcmp(list + u - 3, "..."))) strcat(list, ", ...");
}

typedef struct {
    nir_graph *g;
    int prev;      /* node the next one connects from */
    int bad;
} exporter;

/* Append node `name` of `type` and the edge from the previous node. */
static int ex_node(exporter *x, const char *name, const char *type) {
    int i = nir_add_node(x->g, name, type);
    if (i < 0) { x->bad = i; return -1; }
    if (x->prev >= 0 && nir_add_edge(x->g, (uint32_t)x->prev, (uint32_t)i)) x->bad = EVSNN_ENOMEM;
    x->prev = i;
    return i;
}

static void ex_num(exporter *x, int node, int meta, const char *name, nir_dtype t, int rank, const uint64_t *dims, const double *v) {
    if (!x->bad && nir_add_num(x->g, node, meta, name, t, rank, dims, v)) x->bad = EVSNN_ENOMEM; /* node −1: the graph */
}

static void ex_ints(exporter *x, int node, const char *name, int rank, const long *v) {
    double d[8];
    uint64_t dims[1] = {(uint64_t)rank};
    for (int i = 0; i < (rank ? rank : 1); i++) d[i] = (double)v[i]; /* rank 0: one scalar */
    ex_num(x, node, 0, name, NIR_I64, rank ? 1 : 0, dims, d);
}

static void ex_str(exporter *x, int node, int meta, const char *name, const char *s) {
    if (!x->bad && nir_add_str(x->g, node, meta, name, s)) x->bad = EVSNN_ENOMEM;
}

/* Per-neuron array of one value over the neuron shape (nir.read's type check wants the
 * neurons' parameters in the shape of their input). */
static void ex_fill(exporter *x, int node, const char *name, int rank, const uint64_t *dims, size_t n, double v, double *buf) {
    for (size_t i = 0; i < n; i++) buf[i] = v;
    ex_num(x, node, 0, name, NIR_F32, rank, dims, buf);
}

nir_graph *nir_from_net(const net *n, const model_meta *meta, const nir_export_opts *o, nir_export_report *rep, int *err) {
    nir_export_opts o0 = {0};
    nir_export_report r0;
    model_meta m0 = {0};
    if (!o) o = &o0;
    if (!rep) rep = &r0;
    if (!meta) meta = &m0;
    memset(rep, 0, sizeof *rep);
    const double dt = o->dt > 0 ? o->dt : NIR_DEFAULT_DT;
    /* What NIR 1.0 has no node for. */
    for (uint32_t l = 0; l < n->n_layers; l++) {
        const net_layer *L = &n->layers[l];
        if (L->pool == POOL_MAX) {
            *err = evsnn_seterr(EVSNN_ENOTSUP, "layer %s: max pooling has no NIR node (NIR 1.0 pools by AvgPool2d and SumPool2d)", L->name);
            return NULL;
        }
        if (L->kind == NET_POOL && L->spool == SPOOL_OR) {
            *err = evsnn_seterr(EVSNN_ENOTSUP, "layer %s: OR-pooling of spikes has no NIR node (NIR 1.0 sums or averages: train with "
                                "--spike-pool sum)", L->name);
            return NULL;
        }
    }
    exporter x = {.g = nir_graph_create(), .prev = -1};
    if (!x.g) { *err = evsnn_seterr(EVSNN_ENOMEM, "no memory"); return NULL; }
    size_t maxw = 1;
    for (uint32_t l = 0; l < n->n_layers; l++) {
        if (n->layers[l].n_w > maxw) maxw = n->layers[l].n_w;
        if (n->layers[l].n_out > maxw) maxw = n->layers[l].n_out;
    }
    double *buf = malloc(maxw * sizeof *buf);
    if (!buf) { nir_graph_free(x.g); *err = evsnn_seterr(EVSNN_ENOMEM, "no memory"); return NULL; }

    const net_layer *L0 = &n->layers[0];
    const int img_in = L0->kind != NET_DENSE || n->in_h != 1 || n->in_w != 1;
    int in = ex_node(&x, "input", "Input");
    if (img_in) ex_ints(&x, in, "shape", 3, (long[]){n->in_c, n->in_h, n->in_w});
    else ex_ints(&x, in, "shape", 1, (long[]){n->n_in});
    int spatial = img_in; /* the tensor leaving the previous node is C x H x W */
    uint32_t tc = n->in_c, th = n->in_h, tw = n->in_w, spk = 0;
    char by_reset[RESET_ZERO_DROP + 1][512] = {{0}}, ge[512] = ""; /* layers named in the warnings */
    for (uint32_t l = 0; l < n->n_layers && !x.bad; l++) {
        const net_layer *L = &n->layers[l];
        char name[NIR_NAME_MAX];
        if (L->kind == NET_POOL) {
            int p = ex_node(&x, L->name, L->pool == POOL_AVG ? "AvgPool2d" : "SumPool2d");
            long k[2] = {L->pool_k, L->pool_k}, z[2] = {0, 0};
            ex_ints(&x, p, "kernel_size", 2, k);
            ex_ints(&x, p, "stride", 2, k);
            ex_ints(&x, p, "padding", 2, z);
            tc = L->out_c; th = L->out_h; tw = L->out_w;
            continue;
        }
        const int bin = meta->binarized;
        if (L->kind == NET_DENSE) {
            if (spatial) {
                snprintf(name, sizeof name, "%s_flatten", L->name);
                int f = ex_node(&x, name, "Flatten");
                ex_ints(&x, f, "input_type", 3, (long[]){tc, th, tw});
                ex_ints(&x, f, "start_dim", 0, (long[]){0});
                ex_ints(&x, f, "end_dim", 0, (long[]){-1});
                spatial = 0;
            }
            int s = ex_node(&x, L->name, L->b ? "Affine" : "Linear");
            /* evsnn [in, out] → NIR [out, in] (PyTorch's Linear). */
            for (uint32_t j = 0; j < L->n_out; j++)
                for (uint32_t i = 0; i < L->n_in; i++) {
                    float v = L->w[(size_t)i * L->n_out + j];
                    buf[(size_t)j * L->n_in + i] = bin ? (v >= 0 ? 1.0 : -1.0) : v;
                }
            ex_num(&x, s, 0, "weight", NIR_F32, 2, (uint64_t[]){L->n_out, L->n_in}, buf);
            if (L->b) {
                for (uint32_t j = 0; j < L->n_out; j++) buf[j] = L->b[j];
                ex_num(&x, s, 0, "bias", NIR_F32, 1, (uint64_t[]){L->n_out}, buf);
            }
        } else {
            int s = ex_node(&x, L->name, "Conv2d");
            for (size_t j = 0; j < L->n_w; j++) buf[j] = bin ? (L->w[j] >= 0 ? 1.0 : -1.0) : L->w[j]; /* [out, in, k, k] as PyTorch */
            ex_num(&x, s, 0, "weight", NIR_F32, 4, (uint64_t[]){L->out_c, L->in_c, L->k, L->k}, buf);
            for (uint32_t j = 0; j < L->out_c; j++) buf[j] = L->b ? L->b[j] : 0.0; /* NIR's Conv2d always carries a bias */
            ex_num(&x, s, 0, "bias", NIR_F32, 1, (uint64_t[]){L->out_c}, buf);
            long one[2] = {1, 1}, pad[2] = {L->pad, L->pad};
            ex_ints(&x, s, "stride", 2, one);
            ex_ints(&x, s, "padding", 2, pad);
            ex_ints(&x, s, "dilation", 2, one);
            ex_ints(&x, s, "groups", 0, (long[]){1});
            ex_ints(&x, s, "input_shape", 2, (long[]){L->in_h, L->in_w});
            if (L->pool != POOL_NONE) {
                snprintf(name, sizeof name, "%s_pool", L->name);
                int p = ex_node(&x, name, L->pool == POOL_AVG ? "AvgPool2d" : "SumPool2d");
                long k[2] = {L->pool_k, L->pool_k}, z[2] = {0, 0};
                ex_ints(&x, p, "kernel_size", 2, k);
                ex_ints(&x, p, "stride", 2, k);
                ex_ints(&x, p, "padding", 2, z);
            }
        }
        /* Neurons, one value per neuron in the neurons' shape. */
        const neuron_cfg *nc = &L->nc;
        float th_nir = nc->cmp == CMP_GE ? nextafterf(nc->theta, 0.0f) : nc->theta;
        if (!(th_nir > 0)) th_nir = nc->theta; /* >= the smallest float: no float below it to compare with */
        int r = L->kind == NET_CONV ? 3 : 1;
        uint64_t dims[3] = {L->out_c, L->out_h, L->out_w};
        if (r == 1) dims[0] = L->n_out;
        snprintf(name, sizeof name, "%s_lif", L->name);
        const int is_if = nc->beta == 1.0f;
        int v = ex_node(&x, name, is_if ? "IF" : "LIF");
        if (is_if) {
            ex_fill(&x, v, "r", r, dims, L->n_out, 1.0, buf);
        } else {
            const float tau = tau_of(nc->beta, dt);
            ex_fill(&x, v, "tau", r, dims, L->n_out, tau, buf);
            ex_fill(&x, v, "r", r, dims, L->n_out, (float)(tau / dt), buf); /* r·dt/τ = 1: the current enters unscaled */
            ex_fill(&x, v, "v_leak", r, dims, L->n_out, 0.0, buf);
        }
        if (L->theta_c) { /* per-channel thresholds (batch normalisation folded into a binarized layer) */
            const uint32_t per = L->n_out / L->out_c;
            for (uint32_t i = 0; i < L->n_out; i++) {
                const float t = L->theta_c[i / per];
                const float tn = nc->cmp == CMP_GE ? nextafterf(t, 0.0f) : t;
                buf[i] = tn > 0 ? tn : t;
            }
            ex_num(&x, v, 0, "v_threshold", NIR_F32, r, dims, buf);
        } else {
            ex_fill(&x, v, "v_threshold", r, dims, L->n_out, th_nir, buf);
        }
        ex_fill(&x, v, "v_reset", r, dims, L->n_out, 0.0, buf);
        /* evsnn's exact settings, which NIR's parameters only approximate or cannot hold. */
        double bv = nc->beta, tv = nc->theta, hb = nc->bias;
        ex_num(&x, v, 1, "evsnn_beta", NIR_F32, 0, NULL, &bv);
        ex_num(&x, v, 1, "evsnn_threshold", NIR_F32, 0, NULL, &tv);
        ex_str(&x, v, 1, "evsnn_reset", net_reset_name(nc->reset));
        ex_str(&x, v, 1, "evsnn_compare", nc->cmp == CMP_GE ? ">=" : ">");
        ex_num(&x, v, 1, "evsnn_bias", NIR_I64, 0, NULL, &hb);
        if (nc->reset != RESET_ZERO) list_add(by_reset[nc->reset], sizeof by_reset[0], L->name);
        if (nc->cmp == CMP_GE) list_add(ge, sizeof ge, L->name);
        tc = L->out_c; th = L->out_h; tw = L->out_w;
        spatial = L->kind == NET_CONV;
        spk++;
    }
    for (int r = 0; r <= RESET_ZERO_DROP; r++)
        if (by_reset[r][0])
            warn(rep, "layer%s %s: reset '%s' is written as NIR's reset to v_reset = 0 (evsnn's zero reset), so other simulators will give "
                 "different spikes; each neuron node keeps evsnn_reset = \"%s\" in its metadata, which 'evsnn nir import' restores",
                 strchr(by_reset[r], ',') ? "s" : "", by_reset[r], net_reset_name((reset_mode)r), net_reset_name((reset_mode)r));
    if (ge[0])
        warn(rep, "layer%s %s: compare >= is written as NIR's v > v_threshold with v_threshold = nextafter(θ, 0): the same spikes in float32",
             strchr(ge, ',') ? "s" : "", ge);
    int out = ex_node(&x, "output", "Output");
    ex_ints(&x, out, "shape", 1, (long[]){net_n_out(n)});
    double d = dt, st = meta->steps, bz = meta->binarized;
    ex_str(&x, -1, 0, "evsnn_arch", n->arch);
    ex_num(&x, -1, 0, "evsnn_dt", NIR_F64, 0, NULL, &d);
    ex_num(&x, -1, 0, "evsnn_steps", NIR_I64, 0, NULL, &st);
    ex_num(&x, -1, 0, "evsnn_binarized", NIR_I64, 0, NULL, &bz);
    if (meta->dataset[0]) ex_str(&x, -1, 0, "evsnn_dataset", meta->dataset);
    free(buf);
    if (x.bad) {
        nir_graph_free(x.g);
        *err = evsnn_seterr(EVSNN_ENOMEM, "no memory for the NIR graph");
        return NULL;
    }
    *err = 0;
    return x.g;
}

int nir_save(const char *path, const net *n, const model_meta *meta, const nir_export_opts *o, nir_export_report *rep) {
    int err;
    nir_graph *g = nir_from_net(n, meta, o, rep, &err);
    if (!g) return err;
    err = nir_write(path, g);
    nir_graph_free(g);
    return err;
}
