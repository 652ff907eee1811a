/* apps/cmd_nir.c — `evsnn nir import|export|info`: NIR graphs (io/nir.h) in and out. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/cmds.h"
#include "apps/json.h"
#include "apps/netcli.h"
#include "io/model.h"
#include "io/nir.h"
#include "sim/evsnn.h"

static const char *usage_text =
    "usage: evsnn nir import NET.nir -o MODEL.h5 [--reset R[,R...]] [--dt S] [--steps T]\n"
    "       evsnn nir export MODEL -o NET.nir [--dt S]\n"
    "       evsnn nir info NET.nir [--dt S]\n"
    "\n"
    "NIR (the Neuromorphic Intermediate Representation, neuromorphs/NIR) is the HDF5 graph\n"
    "format snnTorch, Norse, Sinabs, Lava, Rockpool, Spyx and the SpiNNaker2 and Xylo\n"
    "toolchains exchange networks in. evsnn reads and writes the layout of the `nir` library\n"
    "1.0.x. 'run', 'eval', 'hw' and 'serve' also take a NIR graph wherever a model goes.\n"
    "\n"
    "import  map the graph onto evsnn's layers (Input, Affine/Linear, Conv2d, AvgPool2d,\n"
    "        SumPool2d, Flatten, LIF/IF/CubaLIF, Output; others are refused by name) and\n"
    "        write an evsnn model. Continuous time maps to steps of dt: beta = 1 - dt/tau,\n"
    "        input scale r*dt/tau (snnTorch's convention). JSON summary on stdout, the\n"
    "        choices made as notes on stderr.\n"
    "  -o, --output FILE   model file to write (temporary file, then renamed)\n"
    "  --dt S              seconds per step (default: the graph's evsnn_dt metadata, else\n"
    "                      1e-4 s, what snnTorch's export_to_nir assumes)\n"
    "  --reset R[,R...]    reset per spiking layer: zero (default: NIR's neurons return to\n"
    "                      v_reset = 0 right after a spike, which is evsnn's zero reset in\n"
    "                      spikes) | subtract | none | subtract-pre | zero-drop. Without it,\n"
    "                      a graph written by 'evsnn nir export' gets its layers' own reset back\n"
    "                      from its evsnn_reset metadata.\n"
    "  --steps T           record T as the model's default number of steps\n"
    "export  write an evsnn model (or a NIR graph, re-read) as a NIR graph: Affine/Linear\n"
    "        weights [out, in] and Conv2d [out, in, k, k] (PyTorch's layouts), binarized\n"
    "        weights as +-1 floats, LIF (IF where beta = 1) with tau = dt/(1 - beta),\n"
    "        r = tau/dt. A layer with another reset than zero is written as NIR's zero\n"
    "        reset, with a warning and its reset in the node's metadata (evsnn_reset).\n"
    "  -o, --output FILE   NIR file to write\n"
    "  --dt S              seconds per step (default 1e-4 s)\n"
    "info    nodes, edges, topological order, parameter shapes and values, and how evsnn\n"
    "        would import the graph, as one JSON object.\n"
    "\n"
    "Examples:\n"
    "  evsnn nir import snntorch_net.nir -o net.h5\n"
    "  evsnn run --model snntorch_net.nir --input-rate 0.05 --steps 100\n"
    "  evsnn nir export nmnist.h5 -o nmnist.nir\n"
    "\nExit status: 0 done, 1 the output could not be written, 2 bad options, or a graph or model\n"
    "evsnn cannot map (nothing written).\n";

static int parse_dt(const char *s, double *dt) {
    char *end;
    *dt = strtod(s, &end);
    return *end || end == s || !(*dt > 0) || !isfinite(*dt) ? -1 : 0;
}

/* One parameter as JSON: dtype, shape, and the values (small) or their range (large). */
static json_t *json_param(const nir_param *p) {
    static const char *dt[] = {"float32", "float64", "int64", "string", "other"};
    json_t *o = json_object(), *sh = json_array();
    jset(o, "dtype", jstr(dt[p->dtype]));
    for (int i = 0; i < p->rank; i++) json_array_append_new(sh, jint((long long)p->dims[i]));
    jset(o, "shape", sh);
    if (p->dtype == NIR_STR && p->s) jset(o, "value", jstr(p->s));
    else if (p->v && p->n == 1 && p->rank == 0) jset(o, "value", jnum(p->v[0]));
    else if (p->v && p->n <= 16) jset(o, "value", jdbls(p->v, p->n));
    else if (p->v && p->n) {
        double lo = p->v[0], hi = p->v[0], s = 0;
        for (size_t i = 0; i < p->n; i++) {
            if (p->v[i] < lo) lo = p->v[i];
            if (p->v[i] > hi) hi = p->v[i];
            s += p->v[i];
        }
        jset(o, "min", jnum(lo));
        jset(o, "max", jnum(hi));
        jset(o, "mean", jnum(s / (double)p->n));
    }
    return o;
}

static json_t *json_params(const nir_param *p, uint32_t n) {
    json_t *o = json_object();
    for (uint32_t i = 0; i < n; i++) jset(o, p[i].name, json_param(&p[i]));
    return o;
}

/* Notes ("a\nb\n") as a JSON array of lines. */
static json_t *json_notes(const char *notes) {
    json_t *a = json_array();
    for (const char *p = notes; *p;) {
        const char *e = strchr(p, '\n');
        const size_t len = e ? (size_t)(e - p) : strlen(p);
        json_array_append_new(a, jstrn(p, len));
        p += len + (e != NULL);
    }
    return a;
}

static void print_lines(const char *who, const char *kind, const char *text) {
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        int len = e ? (int)(e - p) : (int)strlen(p);
        fprintf(stderr, "%s: %s: %.*s\n", who, kind, len, p);
        p += len + (e != NULL);
    }
}

/* {"k1":v1,"k2":v2,"arch":arch — the start of the import and export summaries. */
static json_t *json_head(const char *k1, const char *v1, const char *k2, const char *v2, const char *arch) {
    json_t *o = json_object();
    jset(o, k1, jstr(v1));
    jset(o, k2, jstr(v2));
    jset(o, "arch", jstr(arch));
    return o;
}

static json_t *json_input(const net *n) {
    const uint32_t in[3] = {n->in_c, n->in_h, n->in_w};
    return ju32s(in, 3);
}

static json_t *json_layers(const net *n, const nir_import_report *rep) {
    json_t *a = json_array();
    uint32_t s = 0;
    for (uint32_t l = 0; l < n->n_layers; l++) {
        const net_layer *L = &n->layers[l];
        static const char *kinds[] = {"dense", "conv", "pool"};
        json_t *y = json_object();
        jset(y, "name", jstr(L->name));
        jset(y, "kind", jstr(kinds[L->kind]));
        jset(y, "n_out", jint(L->n_out));
        if (L->kind != NET_POOL && s < rep->n_layers) {
            jset(y, "synapse", jstr(rep->layer[s].synapse));
            jset(y, "neurons", jstr(rep->layer[s].neuron));
            jset(y, "beta", jnum(L->nc.beta));
            jset(y, "threshold", jnum(L->nc.theta));
            jset(y, "reset", jstr(net_reset_name(L->nc.reset)));
            jset(y, "reset_from", jstr(rep->layer[s].reset_from));
            jset(y, "compare", jstr(L->nc.cmp == CMP_GE ? ">=" : ">"));
            jset(y, "bias", json_boolean(L->b != NULL));
            s++;
        }
        json_array_append_new(a, y);
    }
    return a;
}

/* Options shared by the three verbs. */
typedef struct {
    const char *in, *out;
    double dt;
    reset_mode reset[NIR_MAX_LAYERS];
    uint32_t n_reset;
    unsigned long steps;
} nir_args;

/* -1: parsed, go on; else the exit status. import: 1 for the import-only options. */
static int parse_args(int argc, char **argv, const char *who, int import, nir_args *a) {
    static const struct option opts[] = {{"output", required_argument, 0, 'o'}, {"dt", required_argument, 0, 'd'},
                                         {"reset", required_argument, 0, 'r'},  {"steps", required_argument, 0, 'T'},
                                         {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': a->out = optarg; break;
        case 'd':
            if (parse_dt(optarg, &a->dt)) { fprintf(stderr, "%s: --dt '%s': expected a positive number of seconds\n", who, optarg); return 2; }
            break;
        case 'r': {
            if (!import) { fprintf(stderr, "%s: --reset applies to 'evsnn nir import'\n", who); return 2; }
            char buf[512];
            snprintf(buf, sizeof buf, "%s", optarg);
            a->n_reset = 0;
            for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
                if (a->n_reset == NIR_MAX_LAYERS || net_reset_parse(tok, &a->reset[a->n_reset])) {
                    fprintf(stderr, "%s: --reset '%s': expected zero, subtract, none, subtract-pre or zero-drop (comma list per layer)\n", who, optarg);
                    return 2;
                }
                a->n_reset++;
            }
            if (!a->n_reset) { fprintf(stderr, "%s: --reset: empty\n", who); return 2; }
            break;
        }
        case 'T': {
            if (!import) { fprintf(stderr, "%s: --steps applies to 'evsnn nir import'\n", who); return 2; }
            char *end;
            a->steps = strtoul(optarg, &end, 10);
            if (*end || !*optarg || a->steps == 0 || a->steps > 1000000) {
                fprintf(stderr, "%s: --steps '%s': expected an integer in 1..1000000\n", who, optarg);
                return 2;
            }
            break;
        }
        case 'h': fputs(usage_text, stdout); return 0;
        default: fprintf(stderr, "%s: see 'evsnn nir --help'\n", who); return 2;
        }
    }
    if (optind >= argc) { fprintf(stderr, "%s: give the input file (see 'evsnn nir --help')\n", who); return 2; }
    a->in = argv[optind++];
    if (optind < argc) { fprintf(stderr, "%s: unexpected argument '%s'\n", who, argv[optind]); return 2; }
    return -1;
}

static int nir_import_cmd(int argc, char **argv) {
    const char *who = "evsnn nir import";
    nir_args a;
    int rc = parse_args(argc, argv, who, 1, &a);
    if (rc >= 0) return rc;
    if (!a.out) { fprintf(stderr, "%s: give the model file to write with -o MODEL.h5\n", who); return 2; }
    if (!nir_detect(a.in)) {
        int err;
        nir_graph *g = nir_read(a.in, &err); /* for its message: unreadable, not HDF5, not NIR */
        nir_graph_free(g);
        fprintf(stderr, "%s: %s\n", who, g ? "not a NIR graph" : evsnn_errmsg());
        return 2;
    }
    nir_import_opts o = {.dt = a.dt, .reset = a.n_reset ? a.reset : NULL, .n_reset = a.n_reset};
    nir_import_report rep;
    model_meta meta;
    int err;
    net *n = nir_load(a.in, &o, &meta, &rep, &err);
    if (!n) { fprintf(stderr, "%s: %s\n", who, evsnn_errmsg()); return 2; }
    if (a.n_reset > 1 && a.n_reset > rep.n_layers) {
        fprintf(stderr, "%s: --reset gives %u values, but the graph has %u spiking layers\n", who, a.n_reset, rep.n_layers);
        net_free(n);
        return 2;
    }
    if (a.steps) meta.steps = (uint32_t)a.steps;
    if (model_save(a.out, n, &meta)) {
        fprintf(stderr, "%s: %s\n", who, evsnn_errmsg());
        net_free(n);
        return 1;
    }
    print_lines(who, "note", rep.notes);
    json_t *js = json_head("nir", a.in, "model", a.out, n->arch);
    jset(js, "input", json_input(n));
    jset(js, "params", jint((long long)n->n_params));
    jset(js, "dt", jnum(rep.dt));
    jset(js, "pool_on", jstr(meta.pool_on == POOL_ON_SPIKES ? "spikes" : "currents"));
    jset(js, "padding", jstr(meta.same_pad ? "same" : "valid"));
    jset(js, "layers", json_layers(n, &rep));
    jset(js, "notes", json_notes(rep.notes));
    jprint(stdout, js);
    net_free(n);
    return 0;
}

static int nir_export_cmd(int argc, char **argv) {
    const char *who = "evsnn nir export";
    nir_args a;
    int rc = parse_args(argc, argv, who, 0, &a);
    if (rc >= 0) return rc;
    if (!a.out) { fprintf(stderr, "%s: give the NIR file to write with -o NET.nir\n", who); return 2; }
    model_meta meta;
    memset(&meta, 0, sizeof meta);
    int err;
    net *n = netcli_fold(netcli_load_model(a.in, &meta, who, &err), &meta, who, &err);
    if (!n) { fprintf(stderr, "%s: %s\n", who, evsnn_errmsg()); return 2; }
    nir_export_opts o = {.dt = a.dt};
    nir_export_report rep;
    nir_graph *g = nir_from_net(n, &meta, &o, &rep, &err);
    if (!g) {
        fprintf(stderr, "%s: %s: %s\n", who, a.in, evsnn_errmsg());
        net_free(n);
        return 2;
    }
    if (nir_write(a.out, g)) {
        fprintf(stderr, "%s: %s\n", who, evsnn_errmsg());
        nir_graph_free(g);
        net_free(n);
        return 1;
    }
    print_lines(who, "warning", rep.warnings);
    json_t *js = json_head("model", a.in, "nir", a.out, n->arch);
    jset(js, "nodes", jint(g->n_nodes));
    jset(js, "edges", jint(g->n_edges));
    jset(js, "dt", jnum(a.dt > 0 ? a.dt : NIR_DEFAULT_DT));
    json_t *ord = json_array();
    for (uint32_t i = 0; i < g->n_nodes; i++) json_array_append_new(ord, jstr(g->nodes[i].name));
    jset(js, "order", ord);
    jset(js, "warnings", json_notes(rep.warnings));
    jprint(stdout, js);
    nir_graph_free(g);
    net_free(n);
    return 0;
}

static int nir_info_cmd(int argc, char **argv) {
    const char *who = "evsnn nir info";
    nir_args a;
    int rc = parse_args(argc, argv, who, 0, &a);
    if (rc >= 0) return rc;
    if (a.out) { fprintf(stderr, "%s: -o does not apply (info prints JSON on stdout)\n", who); return 2; }
    int err;
    nir_graph *g = nir_read(a.in, &err);
    if (!g) { fprintf(stderr, "%s: %s\n", who, evsnn_errmsg()); return 2; }
    json_t *o = json_object();
    jset(o, "file", jstr(a.in));
    jset(o, "version", jstr(g->version));
    json_t *nodes = json_array();
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        const nir_node *nd = &g->nodes[i];
        json_t *x = json_object();
        jset(x, "name", jstr(nd->name));
        jset(x, "type", jstr(nd->type));
        jset(x, "params", json_params(nd->p, nd->n_p));
        if (nd->n_meta) jset(x, "metadata", json_params(nd->meta, nd->n_meta));
        json_array_append_new(nodes, x);
    }
    jset(o, "nodes", nodes);
    json_t *edges = json_array();
    for (uint32_t e = 0; e < g->n_edges; e++)
        json_array_append_new(edges, json_pack("[ss]", g->nodes[g->edges[e][0]].name, g->nodes[g->edges[e][1]].name));
    jset(o, "edges", edges);
    if (g->n_meta) jset(o, "metadata", json_params(g->meta, g->n_meta));
    uint32_t *order = malloc((g->n_nodes ? g->n_nodes : 1) * sizeof *order);
    if (order && nir_topo_order(g, a.in, order) == 0) {
        json_t *ord = json_array();
        for (uint32_t i = 0; i < g->n_nodes; i++) json_array_append_new(ord, jstr(g->nodes[order[i]].name));
        jset(o, "order", ord);
    } else jset(o, "order", json_null());
    free(order);
    /* How evsnn would import it, with the same options as 'nir import'. */
    nir_import_opts io = {.dt = a.dt};
    nir_import_report rep;
    model_meta meta;
    net *n = nir_to_net(g, a.in, &io, &meta, &rep, &err);
    json_t *ev = json_object();
    jset(ev, "imports", json_boolean(n != NULL));
    if (n) {
        jset(ev, "arch", jstr(n->arch));
        jset(ev, "input", json_input(n));
        jset(ev, "params", jint((long long)n->n_params));
        jset(ev, "dt", jnum(rep.dt));
        jset(ev, "layers", json_layers(n, &rep));
        jset(ev, "notes", json_notes(rep.notes));
    } else jset(ev, "error", jstr(evsnn_errmsg()));
    jset(o, "evsnn", ev);
    jprint(stdout, o);
    net_free(n);
    nir_graph_free(g);
    return 0;
}

int cmd_nir(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "evsnn nir: give import, export or info (see 'evsnn nir --help')\n");
        return 2;
    }
    const char *v = argv[1];
    if (!strcmp(v, "--help") || !strcmp(v, "-h") || !strcmp(v, "help")) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (!strcmp(v, "import")) return nir_import_cmd(argc - 1, argv + 1);
    if (!strcmp(v, "export")) return nir_export_cmd(argc - 1, argv + 1);
    if (!strcmp(v, "info")) return nir_info_cmd(argc - 1, argv + 1);
    fprintf(stderr, "evsnn nir: '%s' is not import, export or info (see 'evsnn nir --help')\n", v);
    return 2;
}
