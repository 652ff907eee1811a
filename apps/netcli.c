/* apps/netcli.c — shared network options (see netcli.h). */
#include "apps/netcli.h"

#include "kernels/surrogate.h"
#include "sim/fold.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/nir.h"
#include "sim/evsnn.h"
#include "sim/fold.h"

void netcli_init(netcli *c) {
    memset(c, 0, sizeof *c);
    c->cmp = CMP_GT;
}

int netcli_floats(const char *s, float *v, int n) {
    int k = 0;
    const char *p = s;
    while (*p) {
        if (k == n) return -1;
        char *end;
        double x = strtod(p, &end);
        if (end == p) return -1;
        v[k++] = (float)x;
        p = end;
        if (*p == ',') p++;
        else if (*p) return -1;
    }
    return k;
}

int netcli_parse(netcli *c, int code, const char *arg) {
    int k;
    switch (code) {
    case NETCLI_ARCH: c->arch = arg; return 1;
    case NETCLI_INPUT: c->input = arg; return 1;
    case NETCLI_BETA:
        if ((k = netcli_floats(arg, c->beta, NETCLI_MAX)) <= 0)
            return evsnn_seterr(EVSNN_EINVAL, "--beta '%s': expected numbers in [0,1] separated by commas", arg);
        c->n_beta = (uint32_t)k;
        return 1;
    case NETCLI_THRESHOLD:
        if ((k = netcli_floats(arg, c->theta, NETCLI_MAX)) <= 0)
            return evsnn_seterr(EVSNN_EINVAL, "--threshold '%s': expected positive numbers separated by commas", arg);
        c->n_theta = (uint32_t)k;
        return 1;
    case NETCLI_RESET: {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", arg);
        c->n_reset = 0;
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
            if (c->n_reset == NETCLI_MAX || net_reset_parse(tok, &c->reset[c->n_reset]))
                return evsnn_seterr(EVSNN_EINVAL, "--reset '%s': expected subtract, zero, none, subtract-pre or zero-drop", arg);
            c->n_reset++;
        }
        return c->n_reset ? 1 : evsnn_seterr(EVSNN_EINVAL, "--reset: empty");
    }
    case NETCLI_COMPARE:
        if (!strcmp(arg, "gt") || !strcmp(arg, ">")) c->cmp = CMP_GT;
        else if (!strcmp(arg, "ge") || !strcmp(arg, ">=")) c->cmp = CMP_GE;
        else return evsnn_seterr(EVSNN_EINVAL, "--compare '%s': expected gt or ge", arg);
        return 1;
    case NETCLI_NO_BIAS: c->no_bias = 1; return 1;
    case NETCLI_POOL_ON:
        if (!strcmp(arg, "currents")) c->o.pool_on = POOL_ON_CURRENTS;
        else if (!strcmp(arg, "spikes")) c->o.pool_on = POOL_ON_SPIKES;
        else return evsnn_seterr(EVSNN_EINVAL, "--pool-on '%s': expected currents or spikes", arg);
        return 1;
    case NETCLI_SPIKE_POOL:
        if (!strcmp(arg, "or")) c->o.spool = SPOOL_OR;
        else if (!strcmp(arg, "sum")) c->o.spool = SPOOL_SUM;
        else return evsnn_seterr(EVSNN_EINVAL, "--spike-pool '%s': expected or or sum", arg);
        return 1;
    case NETCLI_PADDING:
        if (!strcmp(arg, "valid")) c->o.same_pad = 0;
        else if (!strcmp(arg, "same")) c->o.same_pad = 1;
        else return evsnn_seterr(EVSNN_EINVAL, "--padding '%s': expected valid or same", arg);
        return 1;
    default: return 0;
    }
}

net *netcli_build(netcli *c, int *err) {
    if (!c->arch) {
        *err = evsnn_seterr(EVSNN_EINVAL, "no network: give --arch (e.g. --arch 700-3000-20) or --model FILE");
        return NULL;
    }
    uint32_t ic = 0, ih = 0, iw = 0;
    if (c->input && (*err = net_parse_shape(c->input, &ic, &ih, &iw))) return NULL;
    uint32_t n = c->n_beta;
    if (c->n_theta > n) n = c->n_theta;
    if (c->n_reset > n) n = c->n_reset;
    if (n == 0) n = 1;
    for (uint32_t i = 0; i < n; i++) {
        neuron_cfg *nc = &c->cfg[i];
        *nc = net_default_neuron();
        if (c->n_beta) nc->beta = c->beta[i < c->n_beta ? i : c->n_beta - 1];
        if (c->n_theta) nc->theta = c->theta[i < c->n_theta ? i : c->n_theta - 1];
        if (c->n_reset) nc->reset = c->reset[i < c->n_reset ? i : c->n_reset - 1];
        nc->cmp = c->cmp;
        nc->bias = !c->no_bias;
    }
    c->o.cfg = c->cfg;
    c->o.n_cfg = n;
    net *net = net_build(c->arch, ic, ih, iw, &c->o, err);
    if (net && n > 1 && n > net_n_spiking(net)) {
        *err = evsnn_seterr(EVSNN_EINVAL, "%u per-layer values given, but '%s' has %u spiking layers", n, c->arch,
                            net_n_spiking(net));
        net_free(net);
        return NULL;
    }
    if (net && net->note[0]) fprintf(stderr, "evsnn: note: %s\n", net->note);
    return net;
}

net *netcli_fold(net *n, const model_meta *meta, const char *who, int *err) {
    if (!n || !net_has_bn(n)) return n;
    const fold_mode mode = meta && meta->binarized ? FOLD_THRESHOLDS : FOLD_WEIGHTS;
    net *f = net_fold_bn(n, mode, err);
    net_free(n);
    if (f)
        fprintf(stderr, "%s: note: batch normalisation folded into %s for the event-driven engine\n", who,
                mode == FOLD_THRESHOLDS ? "per-channel thresholds and biases (weights stay binary)" : "the weights and biases");
    return f;
}

net *netcli_load_model(const char *path, model_meta *meta, const char *who, int *err) {
    if (!nir_detect(path)) return model_load(path, meta, err);
    nir_import_report rep;
    net *n = nir_load(path, NULL, meta, &rep, err);
    if (!n) return NULL;
    fprintf(stderr, "%s: note: %s is a NIR graph, imported as %s ('evsnn nir import' chooses dt and reset)\n", who, path, n->arch);
    for (const char *p = rep.notes; *p;) {
        const char *e = strchr(p, '\n');
        int len = e ? (int)(e - p) : (int)strlen(p);
        fprintf(stderr, "%s: note: %.*s\n", who, len, p);
        p += len + (e != NULL);
    }
    return n;
}

json_t *netcli_layers_json(const net *n) {
    static const char *const kinds[] = {"dense", "conv", "pool"}, *const pools[] = {"none", "avg", "max", "sum"};
    json_t *a = json_array();
    for (uint32_t i = 0; i < n->n_layers; i++) {
        const net_layer *L = &n->layers[i];
        json_t *y = json_object();
        jset(y, "name", jstr(L->name));
        jset(y, "kind", jstr(kinds[L->kind]));
        const uint32_t in[3] = {L->in_c, L->in_h, L->in_w}, out[3] = {L->out_c, L->out_h, L->out_w};
        jset(y, "input", ju32s(in, 3));
        jset(y, "output", ju32s(out, 3));
        jset(y, "neurons", jint(L->n_out));
        jset(y, "params", jint((long long)(L->n_w + L->n_b)));
        if (L->kind == NET_CONV) {
            jset(y, "kernel", jint(L->k));
            jset(y, "padding", jstr(L->pad ? "same" : "valid"));
        }
        if (L->pool != POOL_NONE) {
            json_t *p = json_object();
            jset(p, "kind", jstr(pools[L->pool]));
            jset(p, "window", jint(L->pool_k));
            jset(p, "of", jstr(L->kind == NET_POOL ? "spikes" : "currents"));
            if (L->kind == NET_POOL) jset(p, "combine", jstr(L->spool == SPOOL_OR ? "or" : "sum"));
            jset(y, "pool", p);
        }
        json_array_append_new(a, y);
    }
    return a;
}

int netcli_surrogate(surrogate *s, const char *spec, char *msg, size_t msglen) {
    /* snnTorch names the straight-through estimator in full (snntorch.surrogate) */
    static const char ste[] = "straight_through_estimator";
    char buf[256];
    if (!strncmp(spec, ste, sizeof ste - 1) && (spec[sizeof ste - 1] == 0 || spec[sizeof ste - 1] == ':')) {
        snprintf(buf, sizeof buf, "straight_through%s", spec + sizeof ste - 1);
        spec = buf;
    }
    return sg_parse(s, spec, msg, msglen);
}
