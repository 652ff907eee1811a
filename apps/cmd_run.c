/* apps/cmd_run.c — `evsnn run`: run a network on input spikes (synthetic or a dataset)
 * and print a JSON summary. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apps/cmds.h"
#include "apps/json.h"
#include "apps/memlimit.h"
#include "apps/netcli.h"
#include "io/dataset.h"
#include "io/model.h"
#include "io/trace.h"
#include "sim/engine.h"
#include "sim/evsnn.h"
#include "sim/rng.h"
#include "sim/synth.h"

static const char *usage_text =
    "usage: evsnn run (--model MODEL.h5 | --arch A [--input SHAPE] [network options])\n"
    "                 [--data FILE [dataset options] | --input-rate P [--encoding bernoulli|direct]]\n"
    "                 [--steps T] [--batch B] [--seed S] [--threads N] [--per-sample]\n"
    "                 [--record TRACE.h5]\n"
    "\n"
    "Run the event-driven engine and print one JSON object on stdout: per-layer spikes,\n"
    "firing rates, synaptic events, neuron updates and silent neurons, the engine's time\n"
    "(input decoding and generation excluded) and, on a labelled dataset, the accuracy of\n"
    "the output spike counts (class = the output neuron with most spikes, ties to the lowest).\n"
    "\n"
    "input:\n"
    "  --data FILE         samples of a dataset (any format 'evsnn data' reads), binned into\n"
    "                      steps; all selected samples run, --batch at a time\n"
    "  --input-rate P      without --data: Bernoulli spikes, probability per channel and step\n"
    "                      (default 0.05)\n"
    "  --encoding E        without --data: bernoulli (default) | direct (static U(0,1) input\n"
    "                      injected as the same current at every step); with --data: the\n"
    "                      image coding direct | rate | poisson | latency\n"
    "  --steps T           time steps (default: the dataset's, else the model's, else 100)\n"
    "  --batch B           samples per parallel batch (default 32; without --data: the run)\n"
    "  --seed S            seed of the synthetic inputs / of rate coding (default 1)\n"
    "  --threads N         threads (default: all cores); results do not depend on N\n"
    "  --per-sample        also print one JSON line per sample (label, class, output counts)\n"
    "  --record FILE       save every layer's event trace (HDF5) for the accelerator model\n"
    "                      ('evsnn hw --trace FILE')\n"
    "  --max-memory M      refuse a run whose estimated memory exceeds M (bytes, K/M/G/T\n"
    "                      suffix, or P%% of physical memory; default 80%% of it). Runs over\n"
    "                      2 s print their progress on stderr\n"
    "model:\n"
    "  --model FILE        an evsnn model file (see 'evsnn init', 'evsnn train') or a NIR graph\n"
    "  --init-seed S       with --arch: seed of the PyTorch-default initialisation (default 1)\n"
    "\n" NETCLI_HELP
    "\n%s"
    "\nExamples:\n"
    "  evsnn run --arch 700-3000-20 --beta 0.95 --input-rate 0.05 --steps 100 --batch 32\n"
    "  evsnn run --arch 32C3-P2-32C3-MP2-256-10 --input 3x32x32 --encoding direct --steps 25\n"
    "  evsnn run --model m.h5 --data ../shared/datasets/nmnist-small/test100.txt --per-sample\n"
    "\nExit status: 0 success, 1 runtime failure, 2 bad options, model or input.\n";

static int parse_double(const char *s, double lo, double hi, double *v) {
    char *end;
    *v = strtod(s, &end);
    return *s && !*end && *v >= lo && *v <= hi ? 0 : -1;
}

static int parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *v) {
    char *end;
    if (!*s || *s == '-') return -1;
    *v = strtoul(s, &end, 10);
    return !*end && *v >= lo && *v <= hi ? 0 : -1;
}

/* Totals over every sample run. */
typedef struct {
    uint64_t spikes, syn, upd, inev;
    double silent; /* sum over samples of silent / n */
} layer_tot;

typedef struct {
    uint32_t samples, labelled, correct;
    uint64_t in_events, syn;
    double secs;
    layer_tot *lt; /* [n_layers] */
} run_tot;

static void accumulate(run_tot *R, const net *n, const sim_result *res, uint32_t B) {
    for (uint32_t b = 0; b < B; b++)
        for (uint32_t l = 0; l < n->n_layers; l++) {
            const layer_stats *st = &res[b].st[l];
            R->lt[l].spikes += st->spikes;
            R->lt[l].syn += st->syn_events;
            R->lt[l].upd += st->neuron_updates;
            R->lt[l].inev += st->in_events;
            R->lt[l].silent += (double)st->silent / st->n;
            R->syn += st->syn_events;
        }
}

/* Predicted class: output neuron with most spikes (ties: lowest index). cnt: [n_out] */
static uint32_t classify(const spk_train *o, uint64_t *cnt) {
    memset(cnt, 0, (size_t)o->n * sizeof *cnt);
    for (uint32_t k = 0; k < o->nnz; k++) cnt[o->idx[k]]++;
    uint32_t best = 0;
    for (uint32_t j = 1; j < o->n; j++) if (cnt[j] > cnt[best]) best = j;
    return best;
}

static void print_summary(const net *n, const run_tot *R, uint32_t T, const char *model, const char *data, const char *record,
                          const char *enc, double rate, int threads) {
    json_t *o = json_object();
    jset(o, "model", jstr(model)); /* null when the network came from --arch */
    jset(o, "arch", jstr(n->arch));
    if (data) jset(o, "data", jstr(data));
    if (record) jset(o, "record", jstr(record)); /* the trace written */
    const uint32_t shape[3] = {n->in_c, n->in_h, n->in_w};
    jset(o, "input", ju32s(shape, 3));
    jset(o, "steps", jint(T));
    jset(o, "samples", jint(R->samples));
    jset(o, "encoding", jstr(enc));
    jset(o, "input_rate", data ? json_null() : jnum(rate));
    jset(o, "threads", jint(threads));
    jset(o, "input_events", jint((long long)R->in_events));
    jset(o, "syn_events", jint((long long)R->syn));
    jset(o, "time_s", jnum(R->secs));
    jset(o, "samples_per_s", jnum(R->secs > 0 ? R->samples / R->secs : NAN));
    jset(o, "ms_per_sample", jnum(1e3 * R->secs / R->samples));
    jset(o, "syn_events_per_s", jnum(R->secs > 0 ? (double)R->syn / R->secs : NAN));
    if (R->labelled) jset(o, "accuracy", jnum((double)R->correct / R->labelled));
    json_t *ls = json_array();
    static const char *kinds[] = {"dense", "conv", "pool"};
    for (uint32_t l = 0; l < n->n_layers; l++) {
        const net_layer *L = &n->layers[l];
        const layer_tot *t = &R->lt[l];
        json_t *y = json_object();
        jset(y, "name", jstr(L->name));
        jset(y, "kind", jstr(kinds[L->kind]));
        const uint32_t sh[3] = {L->out_c, L->out_h, L->out_w};
        jset(y, "shape", ju32s(sh, 3));
        jset(y, "neurons", jint(L->n_out));
        jset(y, "in_events", jint((long long)t->inev));
        jset(y, "spikes", jint((long long)t->spikes));
        jset(y, "firing_rate", jnum((double)t->spikes / ((double)L->n_out * T * R->samples)));
        jset(y, "syn_events", jint((long long)t->syn));
        jset(y, "neuron_updates", jint((long long)t->upd));
        jset(y, "silent_fraction", jnum(t->silent / R->samples));
        json_array_append_new(ls, y);
    }
    jset(o, "layers", ls);
    jprint(stdout, o);
}

enum { OPT_MODEL = 2000, OPT_RATE, OPT_ENC, OPT_STEPS, OPT_BATCH, OPT_SEED, OPT_INIT_SEED, OPT_THREADS,
       OPT_PER_SAMPLE, OPT_RECORD, OPT_DATA, OPT_DS, OPT_MAXMEM };

/* What a run will allocate, in bytes, counted from the engine's own allocations
 * (sim/engine.c): per thread a workspace (per layer two (T+1) double tables, first
 * crossings and bias gains; ~40 bytes per neuron of the largest layer; the full-resolution
 * conv buffer; the (T+1)-bucket event queue); per sample in flight its input (offsets and
 * events: Bernoulli rate × T × inputs, 4 bytes each, ×1.5 for growth; or the direct vector)
 * and its recorded trains (offsets, and spikes assumed at 0.1 per neuron and step). */
static void run_estimate(mem_budget *mb, const net *n, uint32_t T, uint32_t B, uint32_t threads, int synth, int direct,
                         double rate) {
    double ws = 16.0 * ((double)T + 1), res = 0, maxn = 0, maxconv = 0;
    for (uint32_t l = 0; l < n->n_layers; l++) {
        const net_layer *L = &n->layers[l];
        ws += 16.0 * ((double)T + 1) + 4.0 * L->out_c + 4.0 * L->n_out;
        if (L->n_out > maxn) maxn = L->n_out;
        if (L->kind == NET_CONV && (double)L->out_c * L->conv_h * L->conv_w > maxconv) maxconv = (double)L->out_c * L->conv_h * L->conv_w;
        res += 4.0 * ((double)T + 1) + 0.1 * 4.0 * (double)T * L->n_out;
    }
    ws += 40.0 * maxn + 4.0 * maxconv;
    const uint32_t thr = threads < B ? threads : B;
    mem_add(mb, "parameters", 4.0 * (double)n->n_params);
    mem_add(mb, "engine workspaces", ws * thr);
    mem_add(mb, "recorded trains", res * B);
    if (synth) mem_add(mb, "inputs", B * (direct ? 4.0 * n->n_in : 4.0 * ((double)T + 1) + 1.5 * 4.0 * rate * T * n->n_in));
    else mem_add(mb, "inputs", B * 4.0 * ((double)T + 1));
}

/* The command's options (the network's first, apps/netcli.h). */
static const struct option opts[] = {NETCLI_OPTIONS,
                                     {"model", required_argument, 0, OPT_MODEL},
                                     {"input-rate", required_argument, 0, OPT_RATE},
                                     {"encoding", required_argument, 0, OPT_ENC},
                                     {"steps", required_argument, 0, OPT_STEPS},
                                     {"batch", required_argument, 0, OPT_BATCH},
                                     {"seed", required_argument, 0, OPT_SEED},
                                     {"init-seed", required_argument, 0, OPT_INIT_SEED},
                                     {"threads", required_argument, 0, OPT_THREADS},
                                     {"per-sample", no_argument, 0, OPT_PER_SAMPLE},
                                     {"record", required_argument, 0, OPT_RECORD},
                                     {"data", required_argument, 0, OPT_DATA},
                                     /* dataset options (cmd_data_opt) */
                                     {"split", required_argument, 0, OPT_DS},
                                     {"first", required_argument, 0, OPT_DS},
                                     {"count", required_argument, 0, OPT_DS},
                                     {"dt-us", required_argument, 0, OPT_DS},
                                     {"bins", required_argument, 0, OPT_DS},
                                     {"window-us", required_argument, 0, OPT_DS},
                                     {"downsample", required_argument, 0, OPT_DS},
                                     {"pool", required_argument, 0, OPT_DS},
                                     {"polarity", required_argument, 0, OPT_DS},
                                     {"denoise-us", required_argument, 0, OPT_DS},
                                     {"unit-factor", required_argument, 0, OPT_DS},
                                     {"gain", required_argument, 0, OPT_DS},
                                     {"labels", required_argument, 0, OPT_DS},
                                     {"format", required_argument, 0, OPT_DS},
                                     {"max-memory", required_argument, 0, OPT_MAXMEM},
                                     {"help", no_argument, 0, 'h'},
                                     {0, 0, 0, 0}};

/* Inputs of samples done .. done+nb before the clock starts. Synthetic sample i draws from
 * stream i of the seed; dataset samples decode serially (readers are not thread-safe).
 * 0, or the exit status (message printed). */
static int fill_inputs(dataset *ds, ds_sample *dss, spk_train *trains, float *xs, sim_input *in, int *labels, const net *n,
                       int direct, double rate, unsigned long seed, uint32_t T, uint32_t done, uint32_t nb, run_tot *tot) {
    run_tot R = *tot;
    for (uint32_t b = 0; b < nb; b++) {
        uint32_t i = done + b;
        labels[b] = -1;
        if (ds) {
            if (ds_get(ds, i, &dss[b])) { fprintf(stderr, "evsnn run: %s\n", evsnn_errmsg()); return 2; }
            labels[b] = dss[b].label;
            in[b] = dss[b].static_x ? (sim_input){.static_x = dss[b].static_x, .T = dss[b].T}
                                    : (sim_input){.train = &dss[b].train, .T = dss[b].T};
            if (!dss[b].static_x) R.in_events += dss[b].train.nnz;
        } else if (direct) {
            synth_uniform(xs + (size_t)b * n->n_in, n->n_in, rng_stream(seed, i));
            in[b] = (sim_input){.static_x = xs + (size_t)b * n->n_in, .T = T};
        } else {
            spk_deinit(&trains[b]);
            if (synth_bernoulli(&trains[b], T, n->n_in, rate, rng_stream(seed, i))) {
                fprintf(stderr, "evsnn run: %s\n", evsnn_errmsg());
                *tot = R;
                return 1;
            }
            R.in_events += trains[b].nnz;
            in[b] = (sim_input){.train = &trains[b], .T = T};
        }
    }
    *tot = R;
    return 0;
}

/* What the command line says (run_parse). */
typedef struct {
    netcli nc;
    ds_opts dso;
    const char *model, *record, *data;
    double rate;
    int per_sample, direct;
    unsigned long steps, batch, threads, seed, init_seed;
    mem_budget mb;
} run_args;

/* The options into *A: -1 to go on, else the exit status (help: 0, bad usage: 2). */
static int run_parse(int argc, char **argv, run_args *A) {
    netcli nc;
    netcli_init(&nc);
    ds_opts dso;
    ds_opts_default(&dso);
    const char *model = NULL, *record = NULL, *data = NULL, *enc_arg = NULL;
    double rate = 0.05;
    int per_sample = 0;
    unsigned long steps = 0, batch = 32, threads = 0, seed = 1, init_seed = 1;
    int c, li = 0;
    mem_budget mb;
    mem_init(&mb);
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
        int rc = netcli_parse(&nc, c, optarg);
        if (rc < 0) { fprintf(stderr, "evsnn run: %s\n", evsnn_errmsg()); return 2; }
        if (rc) continue;
        switch (c) {
        case OPT_MODEL: model = optarg; break;
        case OPT_DATA: data = optarg; break;
        case OPT_DS:
            if (cmd_data_opt(&dso, opts[li].name, optarg)) {
                fprintf(stderr, "evsnn run: --%s '%s': bad value (see 'evsnn run --help')\n", opts[li].name, optarg);
                return 2;
            }
            break;
        case OPT_RATE:
            if (parse_double(optarg, 0.0, 1.0, &rate)) { fprintf(stderr, "evsnn run: --input-rate '%s': expected a probability in [0,1]\n", optarg); return 2; }
            break;
        case OPT_ENC: enc_arg = optarg; break;
        case OPT_STEPS:
            if (parse_ulong(optarg, 1, 1000000, &steps)) { fprintf(stderr, "evsnn run: --steps '%s': expected an integer in 1..1000000 (T = 0 is not a run)\n", optarg); return 2; }
            break;
        case OPT_BATCH:
            if (parse_ulong(optarg, 1, 1000000, &batch)) { fprintf(stderr, "evsnn run: --batch '%s': expected an integer in 1..1000000\n", optarg); return 2; }
            break;
        case OPT_SEED:
            if (parse_ulong(optarg, 0, (unsigned long)-1, &seed)) { fprintf(stderr, "evsnn run: --seed '%s': expected a non-negative integer\n", optarg); return 2; }
            break;
        case OPT_INIT_SEED:
            if (parse_ulong(optarg, 0, (unsigned long)-1, &init_seed)) { fprintf(stderr, "evsnn run: --init-seed '%s': expected a non-negative integer\n", optarg); return 2; }
            break;
        case OPT_THREADS:
            if (parse_ulong(optarg, 1, 1024, &threads)) { fprintf(stderr, "evsnn run: --threads '%s': expected an integer in 1..1024\n", optarg); return 2; }
            break;
        case OPT_PER_SAMPLE: per_sample = 1; break;
        case OPT_RECORD: record = optarg; break;
        case OPT_MAXMEM:
            if (mem_set_limit(&mb, optarg)) { fprintf(stderr, "evsnn run: --max-memory '%s': expected bytes with an optional K, M, G or T suffix, or a percentage (e.g. 8G, 50%%)\n", optarg); return 2; }
            break;
        case 'h': printf(usage_text, cmd_data_opts_help); return 0;
        default: fprintf(stderr, "evsnn run: see 'evsnn run --help'\n"); return 2;
        }
    }
    if (optind < argc) { fprintf(stderr, "evsnn run: unexpected argument '%s'\n", argv[optind]); return 2; }
    if (model && nc.arch) { fprintf(stderr, "evsnn run: give --model or --arch, not both\n"); return 2; }
    int direct = 0;
    if (enc_arg) {
        if (data) {
            if (cmd_data_opt(&dso, "encoding", enc_arg)) {
                fprintf(stderr, "evsnn run: --encoding '%s': expected direct, rate, poisson or latency with --data\n", enc_arg);
                return 2;
            }
        } else if (!strcmp(enc_arg, "direct")) direct = 1;
        else if (strcmp(enc_arg, "bernoulli")) {
            fprintf(stderr, "evsnn run: --encoding '%s': expected bernoulli or direct\n", enc_arg);
            return 2;
        }
    }
    *A = (run_args){.nc = nc, .dso = dso, .model = model, .record = record, .data = data, .rate = rate,
                    .per_sample = per_sample, .direct = direct, .steps = steps, .batch = batch, .threads = threads,
                    .seed = seed, .init_seed = init_seed, .mb = mb};
    return -1;
}

int cmd_run(int argc, char **argv) {
    run_args A;
    int prc = run_parse(argc, argv, &A);
    if (prc >= 0) return prc;
    netcli nc = A.nc;
    ds_opts dso = A.dso;
    const char *model = A.model, *record = A.record, *data = A.data;
    const double rate = A.rate;
    const int per_sample = A.per_sample, direct = A.direct;
    unsigned long steps = A.steps, batch = A.batch, threads = A.threads, seed = A.seed, init_seed = A.init_seed;
    mem_budget mb = A.mb;
    int err;
    net *n;
    model_meta meta = {0};
    if (model) n = netcli_fold(netcli_load_model(model, &meta, "evsnn run", &err), &meta, "evsnn run", &err);
    else n = netcli_build(&nc, &err); /* parameters initialised once the memory estimate passed */
    if (!n) { fprintf(stderr, "evsnn run: %s\n", evsnn_errmsg()); return 2; }

    dataset *ds = NULL;
    uint32_t total;
    if (data) {
        if (steps) dso.T = (uint32_t)steps;
        else if (meta.steps) dso.T = meta.steps;
        dso.seed = seed;
        ds = ds_open(data, &dso, &err);
        if (!ds) { fprintf(stderr, "evsnn run: %s\n", evsnn_errmsg()); net_free(n); return 2; }
        uint32_t dc, dh, dw;
        ds_shape(ds, &dc, &dh, &dw);
        if (dc * dh * dw != n->n_in) {
            fprintf(stderr, "evsnn run: %s: samples are %ux%ux%u (%u values) but the network takes %ux%ux%u (%u)\n", data, dc,
                    dh, dw, dc * dh * dw, n->in_c, n->in_h, n->in_w, n->n_in);
            ds_free(ds);
            net_free(n);
            return 2;
        }
        if (ds_n_classes(ds) > net_n_out(n))
            fprintf(stderr, "evsnn run: note: %s has %u classes but the network has %u outputs\n", data, ds_n_classes(ds),
                    net_n_out(n));
        steps = ds_steps(ds);
        total = ds_len(ds);
        if (total == 0) { fprintf(stderr, "evsnn run: %s: no samples selected\n", data); ds_free(ds); net_free(n); return 2; }
    } else {
        if (!steps) steps = meta.steps ? meta.steps : 100;
        total = (uint32_t)batch;
    }
    /* Synthetic samples are independent (sample i draws from stream i of the seed), so the
     * run goes 8 per thread at a time: the same results, memory for those in flight only. */
    const long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    const uint32_t thr = threads ? (uint32_t)threads : ncpu > 0 ? (uint32_t)ncpu : 1;
    const uint32_t chunk = ds ? (uint32_t)batch : 8 * thr;
    const uint32_t T = (uint32_t)steps, B = total < chunk ? total : chunk;
    run_estimate(&mb, n, T, B, thr, !ds, direct, rate);
    if (mem_check(&mb, "run", "lower --steps, --batch or the network, or raise --max-memory")) {
        ds_free(ds);
        net_free(n);
        return 2;
    }
    if (!model) net_init_params(n, init_seed);

    spk_train *trains = calloc(B, sizeof *trains);
    ds_sample *dss = calloc(B, sizeof *dss);
    float *xs = direct ? malloc((size_t)B * n->n_in * sizeof *xs) : NULL;
    sim_input *in = calloc(B, sizeof *in);
    sim_result *res = calloc(B, sizeof *res);
    uint64_t *cnt = calloc(net_n_out(n), sizeof *cnt);
    run_tot R = {.lt = calloc(n->n_layers, sizeof *R.lt)};
    int *labels = calloc(B, sizeof *labels);
    trace_writer *tw = NULL;
    int status = 0;
    if (!trains || !dss || !in || !res || !cnt || !R.lt || !labels || (direct && !xs)) {
        fprintf(stderr, "evsnn run: out of memory\n");
        status = 1;
        goto out;
    }
    for (uint32_t b = 0; b < B; b++)
        if (sim_result_init(&res[b], n, T, 0)) { fprintf(stderr, "evsnn run: %s\n", evsnn_errmsg()); status = 1; goto out; }
    if (record && !(tw = trace_create(record, n, T, &err))) {
        fprintf(stderr, "evsnn run: %s\n", evsnn_errmsg());
        status = 2;
        goto out;
    }
    /* steps of binned events have a width in µs; image codings and synthetic input none */
    if (tw && ds && ds_get_kind(ds) != DS_KIND_IMAGE && !ds_get_opts(ds)->exact_T) trace_set_dt(tw, ds_get_opts(ds)->dt_us);
    const double t_start = evsnn_now_s();
    double t_shown = t_start;
    for (uint32_t done = 0; done < total;) {
        const double t = evsnn_now_s();
        if (done && t - t_shown >= 2.0) { /* a long run says how far it is, every 2 s */
            fprintf(stderr, "evsnn run: %u of %u samples in %.1f s, about %.0f s left\n", done, total, t - t_start,
                    (t - t_start) * (total - done) / done);
            t_shown = t;
        }
        uint32_t nb = total - done < B ? total - done : B;
        /* Inputs before the clock starts (fill_inputs). */
        if ((status = fill_inputs(ds, dss, trains, xs, in, labels, n, direct, rate, seed, T, done, nb, &R))) goto out;
        double t0 = evsnn_now_s();
        if (sim_run_batch(n, in, nb, res, (int)threads)) {
            fprintf(stderr, "evsnn run: %s\n", evsnn_errmsg());
            status = 2;
            goto out;
        }
        R.secs += evsnn_now_s() - t0;
        accumulate(&R, n, res, nb);
        for (uint32_t b = 0; b < nb; b++) {
            uint32_t cls = classify(&res[b].out[n->n_layers - 1], cnt);
            if (labels[b] >= 0) {
                R.labelled++;
                R.correct += (int)cls == labels[b];
            }
            if (per_sample) {
                json_t *o = json_object();
                jset(o, "sample", jint(done + b));
                jset(o, "label", labels[b] >= 0 ? jint(labels[b]) : json_null());
                jset(o, "class", jint(cls));
                jset(o, "counts", ju64s(cnt, net_n_out(n)));
                jprint(stdout, o);
            }
            /* Written to a temporary file and renamed by trace_close: never half a trace. */
            if (tw && trace_add(tw, in[b].train, &res[b], labels[b])) {
                fprintf(stderr, "evsnn run: %s\n", evsnn_errmsg());
                status = 2;
                goto out;
            }
        }
        R.samples += nb;
        done += nb;
    }
    if (tw) {
        trace_writer *w = tw;
        tw = NULL;
        if (trace_close(w)) { fprintf(stderr, "evsnn run: %s\n", evsnn_errmsg()); status = 2; goto out; }
    }
    print_summary(n, &R, T, model, data, record, data ? "dataset" : direct ? "direct" : "bernoulli", rate, (int)threads);
out:
    if (tw) trace_abort(tw);
    for (uint32_t b = 0; b < B; b++) {
        if (trains) spk_deinit(&trains[b]);
        if (dss) ds_sample_deinit(&dss[b]);
        if (res) sim_result_deinit(&res[b]);
    }
    free(trains); free(dss); free(xs); free(in); free(res); free(cnt); free(R.lt); free(labels);
    ds_free(ds);
    net_free(n);
    return status;
}
