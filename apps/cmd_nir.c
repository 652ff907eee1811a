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
static void json_param(const nir_param *p) {
    static const char *dt[] = {"float32", "float64", "int64", "string", "other"};
    printf("{\"dtype\":\"%s\",\"shape\":[", dt[p->dtype]);
    for (int i = 0; i < p->rank; i++) printf("%s%llu", i ? "," : "", (unsigned long long)p->dims[i]);
    putchar(']');
    if (p->dtype == NIR_STR && p->s) {
        fputs(",\"value\":", stdout);
        json_str(stdout, p->s);
    } else if (p->v && p->n == 1 && p->rank == 0) {
        fputs(",\"value\":", stdout);
        json_num(stdout, p->v[0]);
    } else if (p->v && p->n <= 16) {
        fputs(",\"value\":[", stdout);
        for (size_t i = 0; i < p->n; i++) {
            if (i) putchar(',');
            json_num(stdout, p->v[i]);
        }
        putchar(']');
    } else if (p->v && p->n) {
        double lo = p->v[0], hi = p->v[0], s = 0;
        for (size_t i = 0; i < p->n; i++) {
            if (p->v[i] < lo) lo = p->v[i];
            if (p->v[i] > hi) hi = p->v[i];
            s += p->v[i];
        }
        fputs(",\"min\":", stdout);
        json_num(stdout, lo);
        fputs(",\"max\":", stdout);
        json_num(stdout, hi);
        fputs(",\"mean\":", stdout);
        json_num(stdout, s / (double)p->n);
    }
    putchar('}');
}

static void json_params(const nir_param *p, uint32_t n) {
    putchar('{');
    for (uint32_t i = 0; i < n; i++) {
        if (i) putchar(',');
        json_str(stdout, p[i].name);
        putchar(':');
        json_param(&p[i]);
    }
    putchar('}');
}

/* Notes ("a\nb\n") as a JSON array, and to stderr with a prefix. */
static void json_notes(const char *notes) {
    putchar('[');
    int first = 1;
    for (const char *p = notes; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), p);
        if (!first) putchar(',');
        json_str(stdout, line);
        first = 0;
        p += len + (e != NULL);
    }
    putchar(']');
}

static void print_lines(const char *who, const char *kind, const char *text) {
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        int len = e ? (int)(e - p) : (int)strlen(p);
        fprintf(stderr, "%s: %s: %.*s\n", who, kind, len, p);
        p += len + (e != NULL);
    }
}

/* {"k1":v1,"k2":v2,"arch":arch  — the start of the import and export summaries. */
static void json_head(const char *k1, const char *v1, const char *k2, const char *v2, const char *arch) {
    printf("{\"%s\":", k1);
    json_str(stdout, v1);
    printf(",\"%s\":", k2);
    json_str(stdout, v2);
    fputs(",\"arch\":", stdout);
    json_str(stdout, arch);
}

static void json_layers(const net *n, const nir_import_report *rep) {
    fputs("[", stdout);
    uint32_t s = 0;
    for (uint32_t l = 0; l < n->n_layers; l++) {
        const net_layer *L = &n->layers[l];
        if (l) putchar(',');
        fputs("{\"name\":", stdout);
        json_str(stdout, L->name);
        static const char *kinds[] = {"dense", "conv", "pool"};
        printf(",\"kind\":\"%s\",\"n_out\":%u", kinds[L->kind], L->n_out);
        if (L->kind != NET_POOL && s < rep->n_layers) {
            fputs(",\"synapse\":", stdout);
            json_str(stdout, rep->layer[s].synapse);
            fputs(",\"neurons\":", stdout);
            json_str(stdout, rep->layer[s].neuron);
            fputs(",\"beta\":", stdout);
            json_num(stdout, L->nc.beta);
            fputs(",\"threshold\":", stdout);
            json_num(stdout, L->nc.theta);
            printf(",\"reset\":\"%s\",\"reset_from\":\"%s\",\"compare\":\"%s\",\"bias\":%s", net_reset_name(L->nc.reset),
                   rep->layer[s].reset_from, L->nc.cmp == CMP_GE ? ">=" : ">", L->b ? "true" : "false");
            s++;
        }
        putchar('}');
    }
    putchar(']');
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
    json_head("nir", a.in, "model", a.out, n->arch);
    printf(",\"input\":[%u,%u,%u],\"params\":%zu,\"dt\":", n->in_c, n->in_h, n->in_w, n->n_params);
    json_num(stdout, rep.dt);
    printf(",\"pool_on\":\"%s\",\"padding\":\"%s\",\"layers\":", meta.pool_on == POOL_ON_SPIKES ? "spikes" : "currents",
           meta.same_pad ? "same" : "valid");
    json_layers(n, &rep);
    fputs(",\"notes\":", stdout);
    json_notes(rep.notes);
    fputs("}\n", stdout);
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
    json_head("model", a.in, "nir", a.out, n->arch);
    printf(",\"nodes\":%u,\"edges\":%u,\"dt\":", g->n_nodes, g->n_edges);
    json_num(stdout, a.dt > 0 ? a.dt : NIR_DEFAULT_DT);
    fputs(",\"order\":[", stdout);
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        if (i) putchar(',');
        json_str(stdout, g->nodes[i].name);
    }
    fputs("],\"warnings\":", stdout);
    json_notes(rep.warnings);
    fputs("}\n", stdout);
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
    fputs("{\"file\":", stdout);
    json_str(stdout, a.in);
    fputs(",\"version\":", stdout);
    json_str(stdout, g->version);
    fputs(",\"nodes\":[", stdout);
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        const nir_node *nd = &g->nodes[i];
        fputs(i ? ",{\"name\":" : "{\"name\":", stdout);
        json_str(stdout, nd->name);
        fputs(",\"type\":", stdout);
        json_str(stdout, nd->type);
        fputs(",\"params\":", stdout);
        json_params(nd->p, nd->n_p);
        if (nd->n_meta) {
            fputs(",\"metadata\":", stdout);
            json_params(nd->meta, nd->n_meta);
        }
        putchar('}');
    }
    fputs("],\"edges\":[", stdout);
    for (uint32_t e = 0; e < g->n_edges; e++) {
        fputs(e ? ",[" : "[", stdout);
        json_str(stdout, g->nodes[g->edges[e][0]].name);
        putchar(',');
        json_str(stdout, g->nodes[g->edges[e][1]].name);
        putchar(']');
    }
    putchar(']');
    if (g->n_meta) {
        fputs(",\"metadata\":", stdout);
        json_params(g->meta, g->n_meta);
    }
    uint32_t *order = malloc((g->n_nodes ? g->n_nodes : 1) * sizeof *order);
    fputs(",\"order\":", stdout);
    if (order && nir_topo_order(g, a.in, order) == 0) {
        putchar('[');
        for (uint32_t i = 0; i < g->n_nodes; i++) {
            if (i) putchar(',');
            json_str(stdout, g->nodes[order[i]].name);
        }
        putchar(']');
    } else fputs("null", stdout);
    free(order);
    /* How evsnn would import it, with the same options as 'nir import'. */
    nir_import_opts o = {.dt = a.dt};
    nir_import_report rep;
    model_meta meta;
    net *n = nir_to_net(g, a.in, &o, &meta, &rep, &err);
    fputs(",\"evsnn\":{\"imports\":", stdout);
    if (n) {
        fputs("true,\"arch\":", stdout);
        json_str(stdout, n->arch);
        printf(",\"input\":[%u,%u,%u],\"params\":%zu,\"dt\":", n->in_c, n->in_h, n->in_w, n->n_params);
        json_num(stdout, rep.dt);
        fputs(",\"layers\":", stdout);
        json_layers(n, &rep);
        fputs(",\"notes\":", stdout);
        json_notes(rep.notes);
    } else {
        fputs("false,\"error\":", stdout);
        json_str(stdout, evsnn_errmsg());
    }
    fputs("}}\n", stdout);
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
