/* apps/cmd_hw.c — `evsnn hw`: replay a recorded trace through the accelerator model;
 * `evsnn hw dse`: sweep PE counts per layer and print the latency vs PE Pareto front. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps/cmds.h"
#include "apps/netcli.h"
#include "hw/hw.h"
#include "io/model.h"
#include "io/dataset.h"
#include "io/trace.h"
#include "sim/engine.h"
#include "sim/evsnn.h"
#include "sim/rng.h"
#include "sim/synth.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: evsnn hw --trace TRACE.h5 [--accel CFG] [options]\n"
            "       evsnn hw (--model M.h5 | --arch A --input SHAPE) [--input-rate P] [--steps T]\n"
            "                [--samples N] [--seed S] [--record TRACE.h5] [--accel CFG] [options]\n"
            "       evsnn hw dse (--trace TRACE.h5 | --model/--arch ...) [--accel CFG] [--max-pes N]\n"
            "                [--plot FILE.png]\n"
            "\n"
            "Replays a recorded event trace (`evsnn run --record TRACE.h5`) through a cycle model of a\n"
            "layer-wise SNN accelerator: per layer a priority encoder, a spike queue and processing\n"
            "elements (PEs), under a schedule. Prints one JSON object: cycles per layer and per sample\n"
            "(mean and percentiles), latency at the clock, FPS and pipelined throughput, queue occupancy\n"
            "(max vs depth, histogram), overflow and stall counts, stall breakdown, PE utilisation,\n"
            "operation and memory-access counts, energy, average power and FPS/W.\n"
            "\n"
            "options:\n"
            "  --trace FILE      recorded trace (HDF5, io/trace.h)\n"
            "  --accel CFG       accelerator configuration (libconfig; data/accel.cfg documents every\n"
            "                    key, data/snn-dse.cfg mirrors the SNN-DSE RTL); default: built-in\n"
            "  --mode MODE       jump (default: closed-form durations, fast) or per-cycle (every clock\n"
            "                    cycle stepped); both give identical results\n"
            "  --samples N       use the first N samples of the trace (default all)\n"
            "  --pes N           override every layer's PE count\n"
            "  --schedule S      override: lockstep | pipeline-steps | pipeline-layers\n"
            "  --series FILE.h5  write time series (occupancy change points of the first sample,\n"
            "                    occupancy histograms, cycles per step) to HDF5\n"
            "  --plot PREFIX     write PREFIX-occupancy.png and PREFIX-latency.png (gnuplot)\n"
            "engine first (instead of --trace): the event-driven engine runs the network on\n"
            "Bernoulli input spikes and its recorded trains feed the model, in one go:\n"
            "  --model FILE      an evsnn model file (see 'evsnn init') or a NIR graph ('evsnn nir')\n"
            "  --arch A ...      or a network from the command line, PyTorch-default initialisation\n"
            "                    (--init-seed S, default 1); network options below\n"
            "  --input-rate P    spike probability per input channel and step (default 0.05)\n"
            "  --steps T         time steps (default: the model's, else 20)\n"
            "  --samples N       samples (default 16 with the engine)\n"
            "  --seed S          input seed (default 1); sample b uses stream b of S\n"
            "  --record FILE.h5  also write the trace, for later `evsnn hw --trace`\n"
            "  --data FILE       run the engine on the first --samples samples of a dataset (any format\n"
            "                    'evsnn data' reads; event data, or images with --encoding rate)\n"
            NETCLI_HELP
            "dse options:\n"
            "  --max-pes N       largest PE count tried per layer (default 64); counts are powers of two\n"
            "  --plot FILE.png   latency vs total PEs, all points and the Pareto front\n"
            "  -h, --help        this text\n"
            "\n"
            "exit status: 0 ok, 1 runtime failure (e.g. queue overflow with overflow = error),\n"
            "2 bad usage or bad input (file, config, trace).\n");
}

static int exit_code(int rc) { return rc == EVSNN_EFULL || rc == EVSNN_ENOMEM || rc == EVSNN_ERANGE ? 1 : 2; }

typedef struct {
    uint32_t N, L;
    spk_train *in;        /* [N] */
    spk_train *ly;        /* [N * L] */
    const spk_train **lp; /* [N] → ly + i * L */
} samples;

static void samples_free(samples *s) {
    for (uint32_t i = 0; s->in && i < s->N; i++) spk_deinit(&s->in[i]);
    for (uint64_t i = 0; s->ly && i < (uint64_t)s->N * s->L; i++) spk_deinit(&s->ly[i]);
    free(s->in);
    free(s->ly);
    free(s->lp);
}

static int load_samples(trace_reader *r, uint32_t want, samples *s) {
    memset(s, 0, sizeof *s);
    s->L = trace_net(r)->n_layers;
    uint32_t N = trace_len(r);
    if (want && want < N) N = want;
    if (N == 0) return evsnn_seterr(EVSNN_EFORMAT, "trace holds no samples");
    s->in = calloc(N, sizeof *s->in);
    s->ly = calloc((size_t)N * s->L, sizeof *s->ly);
    s->lp = calloc(N, sizeof *s->lp);
    if (!s->in || !s->ly || !s->lp) return evsnn_seterr(EVSNN_ENOMEM, "no memory for %u samples", N);
    for (uint32_t i = 0; i < N; i++) {
        int rc = trace_read(r, i, &s->in[i], s->ly + (size_t)i * s->L, NULL);
        if (rc) return rc;
        s->N = i + 1;
        s->lp[i] = s->ly + (size_t)i * s->L;
    }
    return 0;
}

/* Run gnuplot on a script, output to `out` through a temporary file renamed at the end. */
static int gnuplot(const char *out, const char *script_fmt_data, const char *data) {
    char tmp[4200];
    if (strlen(out) > 4000) return -1;
    snprintf(tmp, sizeof tmp, "%s.tmp.png", out);
    FILE *p = popen("gnuplot 2>/dev/null", "w");
    if (!p) return -1;
    fprintf(p, "set terminal pngcairo size 900,500\nset output '%s'\n", tmp);
    fputs(script_fmt_data, p);
    if (data) fputs(data, p);
    int st = pclose(p);
    if (st != 0 || rename(tmp, out) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Growable string for gnuplot inline data. */
typedef struct { char *s; size_t n, cap; } sbuf;
static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) return;
        if (b->s && b->n + (size_t)k < b->cap) { b->n += (size_t)k; return; }
        size_t nc = (b->cap ? b->cap * 2 : 4096) + (size_t)k;
        char *ns = realloc(b->s, nc);
        if (!ns) return;
        b->s = ns;
        b->cap = nc;
    }
}

static int plots(const char *prefix, const hw_sample *first, const hw_report *rep, const net *n, double mhz) {
    char out[4096];
    sbuf d = {0};
    sbuf sc = {0};
    sb_printf(&sc, "set title 'spike-queue occupancy, first sample'\nset xlabel 'cycle'\nset ylabel 'occupancy'\n"
                   "set key outside\nplot ");
    for (uint32_t l = 0; l < n->n_layers; l++) {
        sb_printf(&sc, "%s'-' using 1:2 with steps title '%s (depth %u)'", l ? ", " : "", n->layers[l].name,
                  first->l[l].depth);
        /* change points, closed by the layer's end */
        sb_printf(&d, "%llu 0\n", (unsigned long long)first->l[l].start);
        for (uint64_t i = 0; i < first->l[l].n_pts; i++)
            sb_printf(&d, "%llu %llu\n", (unsigned long long)first->l[l].pts[2 * i],
                      (unsigned long long)first->l[l].pts[2 * i + 1]);
        sb_printf(&d, "%llu 0\ne\n", (unsigned long long)first->l[l].end);
    }
    sb_printf(&sc, "\n");
    snprintf(out, sizeof out, "%s-occupancy.png", prefix);
    int rc = gnuplot(out, sc.s, d.s);
    free(sc.s);
    free(d.s);
    if (rc) return evsnn_seterr(EVSNN_EIO, "%s: gnuplot failed", out);
    sbuf s2 = {0};
    sb_printf(&s2, "set title 'mean latency per layer'\nset ylabel 'us'\nset style fill solid 0.6\nset boxwidth 0.6\n"
                   "set yrange [0:*]\nset xtics rotate by -30\nplot '-' using 0:2:xtic(1) with boxes notitle\n");
    for (uint32_t l = 0; l < n->n_layers; l++)
        sb_printf(&s2, "%s %.6g\n", n->layers[l].name, hw_report_mean_layer_cycles(rep, l) / mhz);
    sb_printf(&s2, "e\n");
    snprintf(out, sizeof out, "%s-latency.png", prefix);
    rc = gnuplot(out, s2.s, NULL);
    free(s2.s);
    if (rc) return evsnn_seterr(EVSNN_EIO, "%s: gnuplot failed", out);
    return 0;
}

/* ---------------------------------------------------------------- dse */

typedef struct { uint32_t total; double lat; uint32_t *pes; } point;

static int cmp_point(const void *a, const void *b) {
    const point *x = a, *y = b;
    if (x->total != y->total) return x->total < y->total ? -1 : 1;
    return (x->lat > y->lat) - (x->lat < y->lat);
}

static int run_dse(hw_machine *m, const samples *S, uint32_t max_pes, const char *plot, const char *trace) {
    const net *n = hw_machine_net(m);
    const uint32_t L = n->n_layers;
    const hw_cfg *c = hw_machine_cfg(m);
    uint32_t *opts = calloc(L, sizeof *opts), *idx = calloc(L, sizeof *idx);
    if (!opts || !idx) { free(opts); free(idx); return evsnn_seterr(EVSNN_ENOMEM, "no memory"); }
    /* choices per layer: 1, 2, 4, ... up to one PE per neuron / output channel */
    double grid = 1;
    for (uint32_t l = 0; l < L; l++) {
        const net_layer *y = &n->layers[l];
        uint32_t lim = y->kind == NET_DENSE ? y->n_out : y->kind == NET_CONV ? y->out_c : 1;
        if (lim > max_pes) lim = max_pes;
        opts[l] = 1;
        while ((1u << opts[l]) <= lim) opts[l]++;
        grid *= opts[l];
    }
    point *pts = NULL;
    size_t np = 0, cap = 0;
    int rc = 0;
    /* the full grid when small; otherwise the greedy path (add to the slowest layer) plus the
     * uniform diagonal */
    int full = grid <= 4096;
    uint32_t steps = 0;
    for (;;) {
        if (full) {
            for (uint32_t l = 0; l < L && !rc; l++) rc = hw_set_pes(m, l, 1u << idx[l]);
        }
        double lat = 0;
        double *cyc = calloc(L, sizeof *cyc);
        for (uint32_t i = 0; i < S->N && !rc; i++) {
            hw_sample s;
            rc = hw_run(m, &S->in[i], S->lp[i], HW_JUMP, 0, &s);
            if (rc) break;
            lat += (double)s.latency;
            for (uint32_t l = 0; l < L; l++) cyc[l] += (double)s.l[l].cycles;
            hw_sample_free(&s);
        }
        if (rc) { free(cyc); break; }
        if (np == cap) {
            cap = cap ? cap * 2 : 256;
            pts = realloc(pts, cap * sizeof *pts);
        }
        point *p = &pts[np++];
        p->lat = lat / S->N;
        p->pes = malloc(L * sizeof *p->pes);
        p->total = 0;
        for (uint32_t l = 0; l < L; l++) { p->pes[l] = hw_layers(m)[l].pes; p->total += p->pes[l]; }
        if (full) {
            free(cyc);
            uint32_t l = 0;
            while (l < L && ++idx[l] == opts[l]) idx[l++] = 0;
            if (l == L) break;
        } else {
            int best = -1;
            for (uint32_t l = 0; l < L; l++)
                if (1u << idx[l] < (1u << (opts[l] - 1)) && (best < 0 || cyc[l] > cyc[best])) best = (int)l;
            free(cyc);
            if (best < 0 || ++steps > 4096) break;
            idx[best]++;
            rc = hw_set_pes(m, (uint32_t)best, 1u << idx[best]);
        }
    }
    if (!rc) {
        qsort(pts, np, sizeof *pts, cmp_point);
        printf("{\"cmd\": \"hw dse\", \"trace\": \"%s\", \"model\": \"%s\", \"schedule\": \"%s\", \"clock_mhz\": %.6g, "
               "\"samples\": %u, \"search\": \"%s\", \"points\": %zu, \"pareto\": [",
               trace, hw_model_name(c->model), hw_schedule_name(c->schedule), c->clock_mhz, S->N,
               full ? "grid" : "greedy", np);
        double best = 1e300;
        int first = 1;
        sbuf all = {0}, front = {0};
        for (size_t i = 0; i < np; i++) {
            sb_printf(&all, "%u %.6g\n", pts[i].total, pts[i].lat / c->clock_mhz);
            if (pts[i].lat >= best) continue;
            best = pts[i].lat;
            printf("%s{\"total_pes\": %u, \"pes\": [", first ? "" : ", ", pts[i].total);
            for (uint32_t l = 0; l < L; l++) printf("%s%u", l ? ", " : "", pts[i].pes[l]);
            printf("], \"latency_cycles\": %.6g, \"latency_us\": %.6g, \"fps\": %.6g}", pts[i].lat,
                   pts[i].lat / c->clock_mhz, c->clock_mhz * 1e6 / pts[i].lat);
            sb_printf(&front, "%u %.6g\n", pts[i].total, pts[i].lat / c->clock_mhz);
            first = 0;
        }
        printf("]}\n");
        if (plot) {
            sbuf sc = {0};
            sb_printf(&sc, "set title 'latency vs PEs'\nset xlabel 'total PEs'\nset ylabel 'latency (us)'\n"
                           "set logscale x 2\nset key top right\nplot '-' using 1:2 with points pt 7 ps 0.5 title "
                           "'configurations', '-' using 1:2 with linespoints lw 2 title 'Pareto front'\n%se\n%se\n",
                      all.s ? all.s : "", front.s ? front.s : "");
            if (gnuplot(plot, sc.s, NULL)) rc = evsnn_seterr(EVSNN_EIO, "%s: gnuplot failed", plot);
            free(sc.s);
        }
        free(all.s);
        free(front.s);
    }
    for (size_t i = 0; i < np; i++) free(pts[i].pes);
    free(pts);
    free(opts);
    free(idx);
    return rc;
}

/* Run the engine on N samples — the first N of dataset `ds`, or Bernoulli inputs (sample b:
 * stream b of seed) — and keep its input and per-layer output trains; with `record`, also
 * write them as a trace. */
static int engine_samples(const net *n, uint32_t T, uint32_t N, double rate, uint64_t seed, const char *record,
                          dataset *ds, samples *S) {
    memset(S, 0, sizeof *S);
    S->L = n->n_layers;
    S->in = calloc(N, sizeof *S->in);
    S->ly = calloc((size_t)N * S->L, sizeof *S->ly);
    S->lp = calloc(N, sizeof *S->lp);
    sim_input *in = calloc(N, sizeof *in);
    sim_result *res = calloc(N, sizeof *res);
    int rc = 0;
    if (!S->in || !S->ly || !S->lp || !in || !res) rc = evsnn_seterr(EVSNN_ENOMEM, "no memory for %u samples", N);
    int *label = calloc(N, sizeof *label);
    if (!label) rc = evsnn_seterr(EVSNN_ENOMEM, "no memory for %u samples", N);
    for (uint32_t b = 0; b < N && !rc; b++) {
        label[b] = -1;
        if (ds) {
            ds_sample d = {0};
            rc = ds_get(ds, b, &d);
            if (!rc && d.static_x)
                rc = evsnn_seterr(EVSNN_EINVAL, "sample %u is a static image: the accelerator needs input spikes "
                                                "(use --encoding rate or poisson)", b);
            if (!rc) {
                S->in[b] = d.train; /* the sample set takes the train */
                memset(&d.train, 0, sizeof d.train);
                label[b] = d.label;
            }
            ds_sample_deinit(&d);
        } else
            rc = synth_bernoulli(&S->in[b], T, n->n_in, rate, rng_stream(seed, b));
        S->N = b + 1;
        if (!rc) rc = sim_result_init(&res[b], n, T, 0);
        in[b] = (sim_input){.train = &S->in[b], .T = T};
    }
    if (!rc) rc = sim_run_batch(n, in, N, res, 0); /* results do not depend on the thread count */
    trace_writer *w = NULL;
    if (!rc && record) {
        int err;
        w = trace_create(record, n, T, &err);
        if (!w) rc = EVSNN_EIO;
    }
    for (uint32_t b = 0; b < N && !rc; b++) {
        if (w && (rc = trace_add(w, &S->in[b], &res[b], label[b]))) break;
        /* move the engine's trains into the sample set */
        for (uint32_t l = 0; l < S->L; l++) {
            S->ly[(size_t)b * S->L + l] = res[b].out[l];
            memset(&res[b].out[l], 0, sizeof res[b].out[l]);
        }
        S->lp[b] = S->ly + (size_t)b * S->L;
    }
    if (w) {
        if (rc) trace_abort(w);
        else if ((rc = trace_close(w))) rc = EVSNN_EIO;
    }
    for (uint32_t b = 0; res && b < N; b++) sim_result_deinit(&res[b]);
    free(res);
    free(label);
    free(in);
    return rc;
}

/* ---------------------------------------------------------------- command */

int cmd_hw(int argc, char **argv) {
    int dse = argc > 1 && !strcmp(argv[1], "dse");
    if (dse) { argc--; argv++; }
    static const struct option opts[] = {
        NETCLI_OPTIONS,
        {"input-rate", required_argument, 0, 'r'}, {"steps", required_argument, 0, 'T'},
        {"seed", required_argument, 0, 'e'}, {"init-seed", required_argument, 0, 'i'},
        {"record", required_argument, 0, 'R'},
        {"trace", required_argument, 0, 't'}, {"accel", required_argument, 0, 'a'},
        {"mode", required_argument, 0, 'm'},  {"samples", required_argument, 0, 'n'},
        {"pes", required_argument, 0, 'p'},   {"schedule", required_argument, 0, 's'},
        {"series", required_argument, 0, 'S'}, {"plot", required_argument, 0, 'P'},
        {"max-pes", required_argument, 0, 'M'}, {"model", required_argument, 0, 'D'},
        {"data", required_argument, 0, 'd'},  {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *trace = NULL, *accel = NULL, *series = NULL, *plot = NULL, *model = NULL, *sched = NULL;
    const char *record = NULL, *data = NULL;
    hw_run_mode mode = HW_JUMP;
    long nsamp = 0, pes = 0, max_pes = 64, steps = 0;
    double rate = 0.05;
    unsigned long long seed = 1, init_seed = 1;
    netcli nc;
    netcli_init(&nc);
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end = NULL;
        int nrc = netcli_parse(&nc, o, optarg);
        if (nrc < 0) { fprintf(stderr, "evsnn hw: %s\n", evsnn_errmsg()); return 2; }
        if (nrc) continue;
        switch (o) {
        case 'r':
            rate = strtod(optarg, &end);
            if (!*optarg || *end || !(rate >= 0 && rate <= 1)) {
                fprintf(stderr, "evsnn hw: --input-rate '%s': expected a probability in [0,1]\n", optarg);
                return 2;
            }
            break;
        case 'e': case 'i':
            if (!*optarg || *optarg == '-') { fprintf(stderr, "evsnn hw: --%s '%s': expected a non-negative integer\n", o == 'e' ? "seed" : "init-seed", optarg); return 2; }
            if (o == 'e') seed = strtoull(optarg, &end, 10); else init_seed = strtoull(optarg, &end, 10);
            if (*end) { fprintf(stderr, "evsnn hw: --%s '%s': expected a non-negative integer\n", o == 'e' ? "seed" : "init-seed", optarg); return 2; }
            break;
        case 'R': record = optarg; break;
        case 't': trace = optarg; break;
        case 'a': accel = optarg; break;
        case 'S': series = optarg; break;
        case 'P': plot = optarg; break;
        case 'D': model = optarg; break;
        case 'd': data = optarg; break;
        case 's': sched = optarg; break;
        case 'm':
            if (!strcmp(optarg, "jump")) mode = HW_JUMP;
            else if (!strcmp(optarg, "per-cycle")) mode = HW_PER_CYCLE;
            else { fprintf(stderr, "evsnn hw: --mode '%s': expected jump or per-cycle\n", optarg); return 2; }
            break;
        case 'n': case 'p': case 'M': case 'T': {
            long v = strtol(optarg, &end, 10);
            if (!*optarg || *end || v < 1 || v > 1L << 30) {
                fprintf(stderr, "evsnn hw: --%s '%s': expected a positive integer\n",
                        o == 'n' ? "samples" : o == 'p' ? "pes" : o == 'T' ? "steps" : "max-pes", optarg);
                return 2;
            }
            if (o == 'n') nsamp = v; else if (o == 'p') pes = v; else if (o == 'T') steps = v; else max_pes = v;
            break;
        }
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) { fprintf(stderr, "evsnn hw: unexpected argument '%s'\n", argv[optind]); return 2; }
    if (data && trace) {
        fprintf(stderr, "evsnn hw: give --trace or --data, not both\n");
        return 2;
    }
    int engine = model || nc.arch;
    if (!trace == !engine || (model && nc.arch)) {
        fprintf(stderr, "evsnn hw: give exactly one of --trace, --model or --arch (see evsnn hw --help)\n");
        return 2;
    }
    hw_cfg cfg;
    hw_cfg_default(&cfg);
    int rc = accel ? hw_cfg_load(&cfg, accel) : 0;
    if (rc) { fprintf(stderr, "evsnn: %s\n", evsnn_errmsg()); return 2; }
    if (sched) {
        if (!strcmp(sched, "lockstep")) cfg.schedule = HW_LOCKSTEP;
        else if (!strcmp(sched, "pipeline-steps")) cfg.schedule = HW_PIPE_STEPS;
        else if (!strcmp(sched, "pipeline-layers")) cfg.schedule = HW_PIPE_LAYERS;
        else { fprintf(stderr, "evsnn hw: --schedule '%s': expected lockstep, pipeline-steps or pipeline-layers\n", sched); return 2; }
    }
    int err = 0;
    trace_reader *tr = NULL;
    net *en = NULL;
    samples S;
    memset(&S, 0, sizeof S);
    const net *shape;
    uint32_t T;
    if (trace) {
        tr = trace_open(trace, &err);
        if (!tr) { fprintf(stderr, "evsnn: %s\n", evsnn_errmsg()); return 2; }
        rc = load_samples(tr, (uint32_t)nsamp, &S);
        shape = trace_net(tr);
        T = trace_T(tr);
    } else {
        model_meta meta = {0};
        en = model ? netcli_fold(netcli_load_model(model, &meta, "evsnn hw", &err), &meta, "evsnn hw", &err)
                   : netcli_build(&nc, &err);
        if (!en) { fprintf(stderr, "evsnn: %s\n", evsnn_errmsg()); return 2; }
        if (!model) net_init_params(en, init_seed);
        T = steps ? (uint32_t)steps : meta.steps ? meta.steps : 20;
        uint32_t N = nsamp ? (uint32_t)nsamp : 16;
        dataset *ds = NULL;
        if (data) {
            ds_opts o;
            ds_opts_default(&o);
            o.T = T;
            ds = ds_open(data, &o, &err);
            uint32_t c = 0, h = 0, w = 0;
            if (ds) ds_shape(ds, &c, &h, &w);
            if (ds && c * h * w != en->n_in) {
                err = evsnn_seterr(EVSNN_ESHAPE, "%s: samples are %ux%ux%u, the network takes %ux%ux%u", data, c, h, w,
                                   en->in_c, en->in_h, en->in_w);
                ds_free(ds);
                ds = NULL;
            }
            if (!ds) { fprintf(stderr, "evsnn: %s\n", evsnn_errmsg()); net_free(en); return 2; }
            T = ds_steps(ds);
            if (ds_len(ds) < N) N = ds_len(ds);
        }
        rc = engine_samples(en, T, N, rate, seed, record, ds, &S);
        ds_free(ds);
        shape = en;
        if (rc == EVSNN_EIO) { fprintf(stderr, "evsnn: %s\n", evsnn_errmsg()); samples_free(&S); net_free(en); return 2; }
    }
    hw_machine *m = NULL;
    if (!rc) m = hw_create(&cfg, shape, T, &rc);
    for (uint32_t l = 0; m && pes && l < shape->n_layers && !rc; l++) rc = hw_set_pes(m, l, (uint32_t)pes);
    if (!rc && m && !pes) rc = hw_allocate(m, S.in, S.lp, S.N);
    if (rc) {
        fprintf(stderr, "evsnn: %s\n", evsnn_errmsg());
        hw_free(m);
        samples_free(&S);
        trace_free(tr);
        net_free(en);
        return exit_code(rc);
    }
    const char *source = trace ? trace : model ? model : nc.arch;
    if (dse) {
        rc = run_dse(m, &S, (uint32_t)max_pes, plot, source);
        if (rc) fprintf(stderr, "evsnn: %s\n", evsnn_errmsg());
        hw_free(m);
        samples_free(&S);
        trace_free(tr);
        net_free(en);
        return rc ? exit_code(rc) : 0;
    }
    hw_report *rep = hw_report_create(m);
    hw_sample first = {0};
    double t0 = evsnn_now_s();
    uint64_t simc = 0;
    for (uint32_t i = 0; i < S.N && !rc; i++) {
        hw_sample s;
        int rec = i == 0 && (series || plot);
        rc = hw_run(m, &S.in[i], S.lp[i], mode, rec, &s);
        if (rc) break;
        simc += s.sim_cycles;
        rc = hw_report_add(rep, &s);
        if (i == 0) first = s;
        else hw_sample_free(&s);
    }
    double secs = evsnn_now_s() - t0;
    const net *n = hw_machine_net(m);
    if (!rc && series) {
        trace_series *ts = calloc(n->n_layers, sizeof *ts);
        for (uint32_t l = 0; ts && l < n->n_layers; l++) {
            uint32_t depth;
            ts[l] = (trace_series){.name = n->layers[l].name, .points = first.l[l].pts, .m = first.l[l].n_pts,
                                   .hist = hw_report_hist(rep, l, &depth), .steps = first.l[l].step_cycles,
                                   .T = first.T};
            ts[l].depth = depth;
        }
        rc = ts ? trace_write_series(series, cfg.clock_mhz, ts, n->n_layers) : EVSNN_ENOMEM;
        free(ts);
    }
    if (!rc && plot) rc = plots(plot, &first, rep, n, cfg.clock_mhz);
    char inputs_note[160] = "";
    if (data)
        snprintf(inputs_note, sizeof inputs_note, "\"inputs\": \"dataset\", ");
    else if (!trace)
        snprintf(inputs_note, sizeof inputs_note, "\"inputs\": \"bernoulli\", \"input_rate\": %.6g, \"seed\": %llu, ",
                 rate, seed);
    if (!rc) {
        char extra[8192];
        snprintf(extra, sizeof extra,
                 "\"cmd\": \"hw\", \"%s\": \"%s\", \"accel\": \"%s\", \"arch\": \"%s\", \"mode\": \"%s\", "
                 "%s\"sim_seconds\": %.6g, \"sim_cycles_per_s\": %.6g",
                 trace ? "trace" : "network", source, accel ? accel : "(built-in)", n->arch,
                 mode == HW_JUMP ? "jump" : "per-cycle", inputs_note, secs, secs > 0 ? simc / secs : 0);
        rc = hw_report_json(rep, stdout, extra);
    }
    if (rc) fprintf(stderr, "evsnn: %s\n", evsnn_errmsg());
    hw_sample_free(&first);
    hw_report_free(rep);
    hw_free(m);
    samples_free(&S);
    trace_free(tr);
    net_free(en);
    return rc ? exit_code(rc) : 0;
}
