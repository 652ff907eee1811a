/* apps/cmd_eval.c — `evsnn eval`: accuracy, loss and firing statistics of a model. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/cmds.h"
#include "apps/json.h"
#include "apps/netcli.h"
#include "apps/traindata.h"
#include "io/dataset.h"
#include "io/model.h"
#include "sim/evsnn.h"
#include "sim/train.h"

static const char *usage_text =
    "usage: evsnn eval --model MODEL.h5 [--data SPEC] [--split test|train] [--steps T]\n"
    "                  [--batch B] [--threads N] [--loss L]\n"
    "\n"
    "Run a model on a labelled split and print one JSON object: accuracy, mean loss, and per\n"
    "layer the firing rate, the fraction of silent neurons (no spike in a sample) and the\n"
    "histogram of per-neuron spike counts per sample (bins 0, 1, 2-3, 4-7, 8-15, 16-31,\n"
    "32-63, 64+), plus the model's memory in bits (binarized weights count one bit).\n"
    "\n"
    "  --model FILE        model file written by 'evsnn train' or 'evsnn init', or a NIR graph\n"
    "  --data SPEC         as for 'evsnn train' (default: the model's, else 'synth')\n"
    "  --test-data PATH    the test part from another file\n"
    "  --split-at N        one file: first N samples train, the rest test\n"
    "  --max N             evaluate only the first N samples of the split\n"
    "  --encoding E        images: direct (default) | rate | poisson | latency\n"
    "  --dt-us --bins --window-us --downsample --pool --polarity --denoise-us --unit-factor --gain\n"
    "                      event/image transforms as for 'evsnn data' (use the training ones)\n"
    "  --split S           test (default) | train\n"
    "  --steps T           time steps (default: the model's)\n"
    "  --batch B           samples per parallel batch (default 64)\n"
    "  --threads N         threads (default: all cores)\n"
    "  --loss L            mse_count (default) | ce_count | ce_rate, the loss reported\n"
    "\nExit status: 0 success, 2 bad options, model or data.\n";

int cmd_eval(int argc, char **argv) {
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"data", required_argument, 0, 'd'}, {"split", required_argument, 0, 's'},
        {"steps", required_argument, 0, 'T'}, {"batch", required_argument, 0, 'B'}, {"threads", required_argument, 0, 't'},
        {"loss", required_argument, 0, 'l'}, {"test-data", required_argument, 0, 'D'},
        {"split-at", required_argument, 0, 'S'}, {"max", required_argument, 0, 'M'},
        {"encoding", required_argument, 0, 'e'}, {"dt-us", required_argument, 0, 'X'},
        {"bins", required_argument, 0, 'X'}, {"window-us", required_argument, 0, 'X'},
        {"downsample", required_argument, 0, 'X'}, {"pool", required_argument, 0, 'X'},
        {"polarity", required_argument, 0, 'X'}, {"denoise-us", required_argument, 0, 'X'},
        {"unit-factor", required_argument, 0, 'X'}, {"gain", required_argument, 0, 'X'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    ds_opts dso;
    ds_opts_default(&dso);
    tdata_opts dopt;
    memset(&dopt, 0, sizeof dopt);
    long split_at = 0, max = 0;
    const char *model = NULL, *data = NULL;
    int test_split = 1;
    long steps = 0, batch = 64, threads = 0;
    train_cfg c = train_defaults();
    int ch, li = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, &li)) != -1) {
        char *end = NULL;
        switch (ch) {
        case 'X':
            if (cmd_data_opt(&dso, opts[li].name, optarg)) {
                fprintf(stderr, "evsnn eval: --%s '%s': bad value (see 'evsnn data --help')\n", opts[li].name, optarg);
                return 2;
            }
            break;
        case 'm': model = optarg; break;
        case 'd': data = optarg; break;
        case 's':
            if (!strcmp(optarg, "test")) test_split = 1;
            else if (!strcmp(optarg, "train")) test_split = 0;
            else { fprintf(stderr, "evsnn eval: --split '%s': expected test or train\n", optarg); return 2; }
            break;
        case 'D': dopt.test_data = optarg; break;
        case 'e': dopt.encoding = optarg; break;
        case 'T': case 'B': case 't': case 'S': case 'M': {
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (!*optarg || *end || errno || v < 1 || v > 1000000) {
                fprintf(stderr, "evsnn eval: --%s '%s': expected an integer in 1..1000000\n",
                        ch == 'T' ? "steps" : ch == 'B' ? "batch" : ch == 'S' ? "split-at" : ch == 'M' ? "max" : "threads", optarg);
                return 2;
            }
            if (ch == 'T') steps = v; else if (ch == 'B') batch = v; else if (ch == 'S') split_at = v; else if (ch == 'M') max = v; else threads = v;
            break;
        }
        case 'l':
            if (train_loss_parse(optarg, &c.loss) || c.loss == LOSS_MEM_MSE) {
                fprintf(stderr, "evsnn eval: --loss '%s': expected mse_count, ce_count or ce_rate\n", optarg);
                return 2;
            }
            break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fprintf(stderr, "evsnn eval: see 'evsnn eval --help'\n"); return 2;
        }
    }
    if (optind < argc) { fprintf(stderr, "evsnn eval: unexpected argument '%s'\n", argv[optind]); return 2; }
    if (!model) { fprintf(stderr, "evsnn eval: --model is required\n"); return 2; }
    int err, status = 0;
    model_meta meta;
    memset(&meta, 0, sizeof meta);
    net *n = netcli_load_model(model, &meta, "evsnn eval", &err);
    if (!n) { fprintf(stderr, "evsnn eval: %s\n", evsnn_errmsg()); return 2; }
    if (!data) data = meta.dataset[0] ? meta.dataset : "synth";
    if (!steps && meta.steps) steps = meta.steps;
    tdata tr_d, te_d;
    trainer *tr = NULL;
    dopt.data = data;
    dopt.base = &dso;
    dopt.dt_us = dso.dt_us;
    dopt.steps = (uint32_t)steps;
    dopt.split_at = (uint32_t)split_at;
    if (test_split) dopt.max_test = (uint32_t)max; else dopt.max_train = (uint32_t)max;
    if (tdata_load(&tr_d, &te_d, &dopt, n->n_in)) { fprintf(stderr, "evsnn eval: %s\n", evsnn_errmsg()); status = 2; goto done; }
    const tdata *d = test_split ? &te_d : &tr_d;
    if (d->classes > net_n_out(n)) {
        fprintf(stderr, "evsnn eval: data '%s' has %u classes but the model has %u outputs\n", data, d->classes, net_n_out(n));
        status = 2;
        goto done;
    }
    c.threads = (int)threads;
    /* The model's forward weights are already ±1 when binarized: evaluate them as they are. */
    if (!(tr = trainer_create(n, &c, d->T, &err))) { fprintf(stderr, "evsnn eval: %s\n", evsnn_errmsg()); status = 2; goto done; }
    train_stats st;
    memset(&st, 0, sizeof st);
    for (uint32_t i = 0; i < d->n; i += (uint32_t)batch) {
        const uint32_t nb = d->n - i < (uint32_t)batch ? d->n - i : (uint32_t)batch;
        if (trainer_eval(tr, d->in + i, d->y + i, NULL, nb, &st, NULL)) {
            fprintf(stderr, "evsnn eval: %s\n", evsnn_errmsg());
            status = 2;
            goto done;
        }
    }
    uint64_t bits = 0;
    for (uint32_t l = 0; l < n->n_layers; l++) {
        const net_layer *L = &n->layers[l];
        bits += (uint64_t)L->n_w * (meta.binarized ? 1 : 32) + (uint64_t)(L->b ? L->n_b : 0) * 32;
    }
    fputs("{\"model\":", stdout);
    json_str(stdout, model);
    fputs(",\"data\":", stdout);
    json_str(stdout, data);
    printf(",\"split\":\"%s\",\"samples\":%u,\"steps\":%u,\"accuracy\":", test_split ? "test" : "train", st.n, d->T);
    json_num(stdout, (double)st.correct / st.n);
    printf(",\"loss\":");
    json_num(stdout, st.loss / st.n);
    printf(",\"loss_kind\":\"%s\",\"binarized\":%s,\"model_bits\":%llu,\"layers\":[", train_loss_name(c.loss),
           meta.binarized ? "true" : "false", (unsigned long long)bits);
    for (uint32_t l = 0; l < n->n_layers; l++) {
        const net_layer *L = &n->layers[l];
        printf("%s{\"name\":\"%s\",\"neurons\":%u,\"firing_rate\":", l ? "," : "", L->name, L->n_out);
        json_num(stdout, (double)st.spikes[l] / ((double)st.neurons[l] * d->T));
        printf(",\"silent_fraction\":");
        json_num(stdout, (double)st.silent[l] / (double)st.neurons[l]);
        printf(",\"count_hist\":[");
        for (int b = 0; b < TRAIN_HIST_BINS; b++) printf("%s%llu", b ? "," : "", (unsigned long long)st.hist[l][b]);
        printf("]}");
    }
    printf("]}\n");
done:
    trainer_free(tr);
    tdata_free(&tr_d);
    tdata_free(&te_d);
    net_free(n);
    return status;
}
