/* apps/cmd_run.c — `evsnn run`: run a network on input spikes and print a JSON summary. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apps/cmds.h"
#include "apps/json.h"
#include "apps/netcli.h"
#include "io/model.h"
#include "sim/engine.h"
#include "sim/evsnn.h"
#include "sim/rng.h"
#include "sim/synth.h"

static const char *usage_text =
    "usage: evsnn run (--model MODEL.h5 | --arch A [--input SHAPE] [network options])\n"
    "                 [--input-rate P] [--encoding bernoulli|direct] [--steps T]\n"
    "                 [--batch B] [--seed S] [--init-seed S] [--threads N] [--per-sample]\n"
    "\n"
    "Run the event-driven engine on a batch of synthetic inputs and print one JSON object\n"
    "on stdout: per-layer spikes, firing rates, synaptic events, neuron updates and silent\n"
    "neurons, and the engine's time (input generation excluded).\n"
    "\n"
    "input:\n"
    "  --input-rate P      Bernoulli spike probability per input channel and step (default 0.05)\n"
    "  --encoding E        bernoulli (default) | direct: a static input, each channel U(0,1),\n"
    "                      injected as the same current at every step (images, seed 004)\n"
    "  --steps T           time steps (default: the model's, else 100)\n"
    "  --batch B           samples (default 32), run in parallel over the threads\n"
    "  --seed S            seed of the inputs (default 1); sample b uses stream b of S\n"
    "  --threads N         threads (default: all cores); results do not depend on N\n"
    "  --per-sample        also print one JSON line per sample (output spike counts, class)\n"
    "model:\n"
    "  --model FILE        an evsnn model file (see 'evsnn init')\n"
    "  --init-seed S       with --arch: seed of the PyTorch-default initialisation (default 1)\n"
    "\n" NETCLI_HELP
    "\nExamples:\n"
    "  evsnn run --arch 700-3000-20 --beta 0.95 --input-rate 0.05 --steps 100 --batch 32\n"
    "  evsnn run --arch 32C3-P2-32C3-MP2-256-10 --input 3x32x32 --encoding direct --steps 25\n"
    "\nExit status: 0 success, 2 bad options, model or input.\n";

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

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

/* The summary object: per-layer totals over the batch. */
static void print_summary(const net *n, const sim_result *res, uint32_t B, uint32_t T, const char *model,
                          const char *enc, double rate, int threads, double secs, uint64_t in_events) {
    uint64_t syn_total = 0;
    for (uint32_t b = 0; b < B; b++)
        for (uint32_t l = 0; l < n->n_layers; l++) syn_total += res[b].st[l].syn_events;
    fputs("{\"model\":", stdout);
    json_str(stdout, model ? model : "");
    fputs(",\"arch\":", stdout);
    json_str(stdout, n->arch);
    printf(",\"input\":[%u,%u,%u],\"steps\":%u,\"batch\":%u,\"encoding\":\"%s\",\"input_rate\":", n->in_c, n->in_h, n->in_w, T,
           B, enc);
    json_num(stdout, rate);
    printf(",\"threads\":%d,\"input_events\":%llu,\"syn_events\":%llu,\"time_s\":", threads, (unsigned long long)in_events,
           (unsigned long long)syn_total);
    json_num(stdout, secs);
    fputs(",\"samples_per_s\":", stdout);
    json_num(stdout, secs > 0 ? B / secs : 0);
    fputs(",\"ms_per_sample\":", stdout);
    json_num(stdout, 1e3 * secs / B);
    fputs(",\"syn_events_per_s\":", stdout);
    json_num(stdout, secs > 0 ? (double)syn_total / secs : 0);
    fputs(",\"layers\":[", stdout);
    static const char *kinds[] = {"dense", "conv", "pool"};
    for (uint32_t l = 0; l < n->n_layers; l++) {
        const net_layer *L = &n->layers[l];
        uint64_t spikes = 0, syn = 0, upd = 0, inev = 0;
        double silent = 0;
        for (uint32_t b = 0; b < B; b++) {
            const layer_stats *st = &res[b].st[l];
            spikes += st->spikes;
            syn += st->syn_events;
            upd += st->neuron_updates;
            inev += st->in_events;
            silent += (double)st->silent / st->n;
        }
        printf("%s{\"name\":\"%s\",\"kind\":\"%s\",\"shape\":[%u,%u,%u],\"neurons\":%u,\"in_events\":%llu,\"spikes\":%llu,"
               "\"firing_rate\":",
               l ? "," : "", L->name, kinds[L->kind], L->out_c, L->out_h, L->out_w, L->n_out, (unsigned long long)inev,
               (unsigned long long)spikes);
        json_num(stdout, (double)spikes / ((double)L->n_out * T * B));
        printf(",\"syn_events\":%llu,\"neuron_updates\":%llu,\"silent_fraction\":", (unsigned long long)syn,
               (unsigned long long)upd);
        json_num(stdout, silent / B);
        fputs("}", stdout);
    }
    fputs("]}\n", stdout);
}

int cmd_run(int argc, char **argv) {
    static const struct option opts[] = {NETCLI_OPTIONS,
                                         {"model", required_argument, 0, 'm'},
                                         {"input-rate", required_argument, 0, 'p'},
                                         {"encoding", required_argument, 0, 'e'},
                                         {"steps", required_argument, 0, 'T'},
                                         {"batch", required_argument, 0, 'B'},
                                         {"seed", required_argument, 0, 's'},
                                         {"init-seed", required_argument, 0, 'i'},
                                         {"threads", required_argument, 0, 't'},
                                         {"per-sample", no_argument, 0, 'P'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    netcli nc;
    netcli_init(&nc);
    const char *model = NULL;
    double rate = 0.05;
    int direct = 0, per_sample = 0;
    unsigned long steps = 0, batch = 32, threads = 0, seed = 1, init_seed = 1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int rc = netcli_parse(&nc, c, optarg);
        if (rc < 0) { fprintf(stderr, "evsnn run: %s\n", evsnn_errmsg()); return 2; }
        if (rc) continue;
        switch (c) {
        case 'm': model = optarg; break;
        case 'p':
            if (parse_double(optarg, 0.0, 1.0, &rate)) { fprintf(stderr, "evsnn run: --input-rate '%s': expected a probability in [0,1]\n", optarg); return 2; }
            break;
        case 'e':
            if (!strcmp(optarg, "direct")) direct = 1;
            else if (!strcmp(optarg, "bernoulli")) direct = 0;
            else { fprintf(stderr, "evsnn run: --encoding '%s': expected bernoulli or direct\n", optarg); return 2; }
            break;
        case 'T':
            if (parse_ulong(optarg, 1, 1000000, &steps)) { fprintf(stderr, "evsnn run: --steps '%s': expected an integer in 1..1000000 (T = 0 is not a run)\n", optarg); return 2; }
            break;
        case 'B':
            if (parse_ulong(optarg, 1, 1000000, &batch)) { fprintf(stderr, "evsnn run: --batch '%s': expected an integer in 1..1000000\n", optarg); return 2; }
            break;
        case 's':
            if (parse_ulong(optarg, 0, (unsigned long)-1, &seed)) { fprintf(stderr, "evsnn run: --seed '%s': expected a non-negative integer\n", optarg); return 2; }
            break;
        case 'i':
            if (parse_ulong(optarg, 0, (unsigned long)-1, &init_seed)) { fprintf(stderr, "evsnn run: --init-seed '%s': expected a non-negative integer\n", optarg); return 2; }
            break;
        case 't':
            if (parse_ulong(optarg, 1, 1024, &threads)) { fprintf(stderr, "evsnn run: --threads '%s': expected an integer in 1..1024\n", optarg); return 2; }
            break;
        case 'P': per_sample = 1; break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fprintf(stderr, "evsnn run: see 'evsnn run --help'\n"); return 2;
        }
    }
    if (optind < argc) { fprintf(stderr, "evsnn run: unexpected argument '%s'\n", argv[optind]); return 2; }
    if (model && nc.arch) { fprintf(stderr, "evsnn run: give --model or --arch, not both\n"); return 2; }
    int err;
    net *n;
    model_meta meta = {0};
    if (model) n = model_load(model, &meta, &err);
    else {
        n = netcli_build(&nc, &err);
        if (n) net_init_params(n, init_seed);
    }
    if (!n) { fprintf(stderr, "evsnn run: %s\n", evsnn_errmsg()); return 2; }
    if (!steps) steps = meta.steps ? meta.steps : 100;
    uint32_t T = (uint32_t)steps, B = (uint32_t)batch;

    /* Inputs, generated before the clock starts: sample b draws from stream b of the seed,
     * so the inputs do not depend on the thread count. */
    spk_train *trains = calloc(B, sizeof *trains);
    float *xs = direct ? malloc((size_t)B * n->n_in * sizeof *xs) : NULL;
    sim_input *in = calloc(B, sizeof *in);
    sim_result *res = calloc(B, sizeof *res);
    int status = 0;
    uint64_t in_events = 0;
    if (!trains || !in || !res || (direct && !xs)) { fprintf(stderr, "evsnn run: out of memory\n"); status = 1; goto out; }
    for (uint32_t b = 0; b < B; b++) {
        if (direct) {
            float *x = xs + (size_t)b * n->n_in;
            synth_uniform(x, n->n_in, rng_stream(seed, b));
            in[b] = (sim_input){.static_x = x, .T = T};
        } else {
            if (synth_bernoulli(&trains[b], T, n->n_in, rate, rng_stream(seed, b))) {
                fprintf(stderr, "evsnn run: %s\n", evsnn_errmsg());
                status = 1;
                goto out;
            }
            in_events += trains[b].nnz;
            in[b] = (sim_input){.train = &trains[b], .T = T};
        }
        if (sim_result_init(&res[b], n, T, 0)) { fprintf(stderr, "evsnn run: %s\n", evsnn_errmsg()); status = 1; goto out; }
    }
    double t0 = now_s();
    if (sim_run_batch(n, in, B, res, (int)threads)) {
        fprintf(stderr, "evsnn run: %s\n", evsnn_errmsg());
        status = 2;
        goto out;
    }
    double secs = now_s() - t0;
    if (per_sample) {
        const spk_train *o;
        for (uint32_t b = 0; b < B; b++) {
            o = &res[b].out[n->n_layers - 1];
            uint32_t no = o->n, best = 0;
            uint64_t *cnt = calloc(no, sizeof *cnt);
            if (!cnt) break;
            for (uint32_t k = 0; k < o->nnz; k++) cnt[o->idx[k]]++;
            for (uint32_t j = 1; j < no; j++) if (cnt[j] > cnt[best]) best = j;
            printf("{\"sample\":%u,\"class\":%u,\"counts\":[", b, best);
            for (uint32_t j = 0; j < no; j++) printf("%s%llu", j ? "," : "", (unsigned long long)cnt[j]);
            printf("]}\n");
            free(cnt);
        }
    }
    print_summary(n, res, B, T, model, direct ? "direct" : "bernoulli", direct ? 1.0 : rate, threads ? (int)threads : 0,
                  secs, in_events);
out:
    for (uint32_t b = 0; res && trains && b < B; b++) {
        spk_deinit(&trains[b]);
        sim_result_deinit(&res[b]);
    }
    free(trains);
    free(xs);
    free(in);
    free(res);
    net_free(n);
    return status;
}
