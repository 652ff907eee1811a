/* apps/cmd_train.c — `evsnn train`: minibatch BPTT training with checkpoints and resume. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps/cmds.h"
#include "apps/json.h"
#include "apps/netcli.h"
#include "apps/traindata.h"
#include "io/checkpoint.h"
#include "io/dataset.h"
#include "io/model.h"
#include "sim/comm.h"
#include "sim/evsnn.h"
#include "sim/synth.h"
#include "sim/train.h"

static const char *usage_text =
    "usage: evsnn train [--arch A] [--input SHAPE] [network options] [--data SPEC]\n"
    "                   [training options] [-o MODEL.h5] [--checkpoint FILE] [--resume FILE]\n"
    "\n"
    "Train a spiking network with backpropagation through time over the event-driven\n"
    "engine's recorded traces (surrogate gradients, snnTorch semantics). One JSON line per\n"
    "epoch on stdout (and --log FILE); a progress line on stderr when it is a terminal.\n"
    "\n"
    "data:\n"
    "  --data SPEC         synth[:classes=C,train=N,test=M,T=S,hi=P,lo=P,seed=K], the built-in\n"
    "                      synthetic task (default 'synth'; without --arch it trains 100-64-C,\n"
    "                      C its classes), or a dataset file or folder\n"
    "                      (IDX, N-MNIST list, AEDAT, SHD/DVS128 HDF5, evsnn event file) when the\n"
    "                      build has the dataset readers; train/test from the format's split\n"
    "  --test-data PATH    the test part from another file (e.g. N-MNIST test100.txt)\n"
    "  --split-at N        one file: first N samples train, the rest test (MNIST test set: 5000)\n"
    "  --train-count N     use only the first N training samples (--test-count likewise;\n"
    "                      --max-train and --max-test are the older names)\n"
    "  --encoding E        images: direct (default) | rate | poisson | latency\n"
    "  --dt-us US          event data: bin width in µs (default: the format's)\n"
    "  --bins --window-us --downsample --pool --polarity --denoise-us --unit-factor --gain\n"
    "                      event/image transforms as for 'evsnn data' (see 'evsnn data --help')\n"
    "  --steps T           time steps per sample (default: the data's)\n"
    "  --data temporal[:p=P,peak=STEP,T=STEPS,seed=S,every=N]  seed 004's spike-timing task: one\n"
    "                      Poisson input (rate P, default 0.05), the single output's membrane\n"
    "                      trained to rise to 1.1x the final threshold at step 75; --epochs is\n"
    "                      the number of iterations\n"
    "training:\n"
    "  --epochs E          epochs (default 5)\n"
    "  --batch B           minibatch size (default 32)\n"
    "  --optim O           adam (default) | sgd\n"
    "  --lr LR             learning rate (default 1e-3 Adam, 1e-2 SGD)\n"
    "  --momentum M        SGD momentum (default 0)\n"
    "  --weight-decay WD   L2 weight decay (default 0)\n"
    "  --cosine T0[,MULT]  cosine annealing with warm restarts, T0 iterations (default off)\n"
    "  --cosine-anneal T   cosine annealing without restarts (PyTorch's CosineAnnealingLR,\n"
    "                      T_max = T iterations, stepped on past T: lr rises back over the\n"
    "                      next T; seed 004's published code)\n"
    "  --eta-min LR        the schedule's floor (default 0)\n"
    "  --grad-clip N       clip the gradient's L2 norm to N (default off)\n"
    "  --weight-clip C     clamp parameters to [-C, C] before each step (default off)\n"
    "  --surrogate S       atan[:alpha=2] | fast_sigmoid[:k=25] (default) | sigmoid[:k=25] |\n"
    "                      triangular[:threshold=1] | straight_through | heaviside |\n"
    "                      spike_rate_escape[:beta=1,k=25] | sparse_fast_sigmoid[:k=25,B=1];\n"
    "                      any may add eps=E: |surrogate| < E counts as 0 (sparse backward)\n"
    "  --loss L            mse_count (default) | ce_count | ce_rate\n"
    "  --correct-rate R    mse_count target firing rate of the label (default 0.8)\n"
    "  --incorrect-rate R  ... of the other outputs (default 0.2)\n"
    "  --binarize          forward weights sign(w) (0 -> +1), straight-through to float latents\n"
    "  --latent-clamp C    with --binarize: clamp latent weights to [-C, C] (default off)\n"
    "  --data-init M       before the first step, set every channel's bias so that its mean\n"
    "                      input current over 512 training samples is M x threshold (M = 0:\n"
    "                      centred, as batch normalisation centres); layer by layer, each layer\n"
    "                      calibrated on the outputs of the ones before it (default off)\n"
    "  --bn-momentum M     BN layers' running statistics move by M at every time step of a\n"
    "                      training step (PyTorch's momentum; default 0.1, or the model file's).\n"
    "                      With T steps per minibatch, 0.1 keeps mostly the last minibatch's\n"
    "                      statistics; 0.01 or less averages over many (smoother evaluation)\n"
    "  --augment shift:N[,flip]  each epoch, every training image moved by (dx, dy) uniform in\n"
    "                      [-N, N] with zero fill, and with flip mirrored left to right with\n"
    "                      probability 1/2 (RandomCrop with padding N, RandomHorizontalFlip);\n"
    "                      drawn from (seed, epoch, sample); direct-coded images only (default off)\n"
    "  --dropout P[,P...]  dropout on each spiking layer's input current (bias included) during\n"
    "                      training steps, per layer (a shorter list repeats its last); masks are\n"
    "                      seeded by (seed, step, sample); never applied by eval (default off)\n"
    "  --tha T0:TINF:A[,...]  threshold annealing per spiking layer (a shorter list repeats its\n"
    "                      last): threshold starts at T0 and moves by A(TINF - theta) per step\n"
    "  --tha-centre C      initial (surrogate at T0, paper eq. 8; default) | current\n"
    "  --record R          what the forward keeps for the backward: dense (default: every\n"
    "                      membrane, T x N floats) | sparse (spike trains only; the backward\n"
    "                      rebuilds the membranes layer by layer, same gradients up to rounding)\n"
    "  --seed S            seed of the initialisation and of the shuffling (default 1)\n"
    "  --init I            pytorch (default: U(+-1/sqrt(fan_in)), nn.Linear / nn.Conv2d) |\n"
    "                      glorot (U(+-sqrt(1.5/(fan_in+fan_out))), biases 0: seed 004's\n"
    "                      published binarized layers)\n"
    "  --threads N         threads (default: all cores); results do not depend on N\n"
    "  --slots K           gradient partial sums per batch (default 2); results depend on K\n"
    "output:\n"
    "  -o, --output FILE   the trained model (evsnn model file; see 'evsnn eval'); default model.h5\n"
    "  --checkpoint FILE   checkpoint written atomically after every epoch\n"
    "  --resume FILE       continue from a checkpoint (same options): the result is bit for\n"
    "                      bit the uninterrupted run's\n"
    "  --log FILE          also append the JSON lines to FILE\n"
    "  --trace FILE        temporal task: the output membrane after training (step target u spike)\n"
    "  --quiet             no progress line\n"
    "\n" NETCLI_HELP
    "\nExample:\n"
    "  evsnn train --arch 100-64-4 --data synth:classes=4 --epochs 3 -o model.h5\n"
    "\nExit status: 0 success, 1 runtime failure, 2 bad options or input (also a NaN/Inf\n"
    "loss or weight: the last checkpoint is kept).\n";

static int num(const char *opt, const char *s, double lo, double hi, double *v) {
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(*v) || *v < lo || *v > hi) {
        fprintf(stderr, "evsnn train: --%s '%s': expected a number in [%g, %g]\n", opt, s, lo, hi);
        return -1;
    }
    return 0;
}

/* --tha T0:TINF:A[,...] (sim/tha.h) */
static int parse_tha(const char *s, train_cfg *c) {
    train_tha t;
    if (train_tha_parse(s, &t)) {
        fprintf(stderr, "evsnn train: --tha '%s': %s\n", s, evsnn_errmsg());
        return -1;
    }
    train_cfg_set_tha(c, &t);
    return 0;
}

typedef struct {
    FILE *log;
} outputs;

/* One JSON line to stdout and the --log file (releases doc). */
static void emit(const outputs *o, json_t *doc) {
    char *line = jtext(doc);
    if (!line) return;
    printf("%s\n", line);
    fflush(stdout);
    if (o->log) { fprintf(o->log, "%s\n", line); fflush(o->log); }
    free(line);
}

/* The thresholds of the spiking layers (pooling layers have none). */
static json_t *thresholds_json(const net *n) {
    json_t *a = json_array();
    for (uint32_t l = 0; l < n->n_layers; l++)
        if (n->layers[l].kind != NET_POOL) json_array_append_new(a, jnum(n->layers[l].nc.theta));
    return a;
}

/* Evaluate a split: accuracy, mean loss, firing statistics. */
static int evaluate(trainer *tr, const tdata *d, uint32_t B, train_stats *st) {
    const train_samples it = tdata_samples(d);
    return trainer_evaluate(tr, &it, B, st, NULL, NULL);
}

static int save_ckpt(const char *path, trainer *tr, const net *n, uint64_t epoch, uint32_t T, const train_cfg *c,
                     const netcli *nc, const char *config) {
    ckpt k;
    memset(&k, 0, sizeof k);
    ckpt_from_net(&k, n);
    k.latent = trainer_latent(tr);
    k.m = trainer_optim(tr)->m;
    k.v = trainer_optim(tr)->v;
    k.step = trainer_optim(tr)->t;
    k.epoch = epoch;
    k.T = T;
    k.binarized = c->binarize;
    k.pool_on = (int32_t)nc->o.pool_on;
    k.spool = (int32_t)nc->o.spool;
    k.same_pad = nc->o.same_pad;
    k.rng = (uint8_t *)(uintptr_t)rng_state(trainer_rng(tr));
    k.rng_len = rng_state_size(trainer_rng(tr));
    snprintf(k.config, sizeof k.config, "%s", config);
    return ckpt_save(path, &k);
}

/* Restore the trainer from a checkpoint of the same network and options. */
static int resume_from(const char *path, trainer *tr, net *n, uint64_t *epoch) {
    ckpt k;
    int rc = ckpt_load(path, &k);
    if (rc) return rc;
    if (strcmp(k.arch, n->arch) || k.n_params != n->n_params || k.n_layers != n->n_layers) {
        rc = evsnn_seterr(EVSNN_ESHAPE, "%s: checkpoint of '%s' (%zu parameters) does not fit --arch '%s' (%zu)", path,
                          k.arch, k.n_params, n->arch, n->n_params);
        goto out;
    }
    optim *o = trainer_optim(tr);
    if ((o->v != NULL) != (k.v != NULL)) {
        rc = evsnn_seterr(EVSNN_EINVAL, "%s: the checkpoint's optimizer (%s) differs from --optim", path, k.v ? "adam" : "sgd");
        goto out;
    }
    if (!k.m || !k.rng) { rc = evsnn_seterr(EVSNN_EFORMAT, "%s: no optimizer state or generator: not a checkpoint", path); goto out; }
    if ((rc = rng_set_state(trainer_rng(tr), k.rng, k.rng_len))) goto out;
    if (k.n_stats != n->n_stats) {
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: %zu batch-norm statistics, the network has %zu", path, k.n_stats, n->n_stats);
        goto out;
    }
    if (n->n_stats) memcpy(n->stats, k.stats, n->n_stats * sizeof(float));
    memcpy(trainer_latent(tr), k.latent, n->n_params * sizeof(float));
    memcpy(o->m, k.m, n->n_params * sizeof(float));
    if (k.v) memcpy(o->v, k.v, n->n_params * sizeof(float));
    o->t = k.step;
    for (uint32_t l = 0; l < n->n_layers; l++)
        if (n->layers[l].kind != NET_POOL) n->layers[l].nc.theta = k.theta[l];
    *epoch = k.epoch;
    rc = trainer_sync(tr);
out:
    ckpt_free(&k);
    return rc;
}

/* Seed 004 §4.1: one Poisson input sample (n_in channels, rate p, T steps); the single
 * output neuron's membrane is trained (mem_mse) towards a triangle that rises linearly to
 * 10% above the (final) threshold at step `peak` and is 0 afterwards (quiet after the spike).
 * One optimizer step per iteration (--epochs iterations); a JSON line every `every`
 * iterations and at the end; the final membrane trace (t, target, u) to `trace_path`. */
static int run_temporal(net *n, const train_cfg *c, const char *spec, uint64_t iters, const char *trace_path,
                        const outputs *o) {
    double p = 0.05, peak = 75, seed = 1, T = 100, every = 50;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", spec + (spec[8] == ':' ? 9 : 8));
    char *save = NULL;
    for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        double *dst = NULL;
        if (eq) {
            *eq = '\0';
            dst = !strcmp(kv, "p") ? &p : !strcmp(kv, "peak") ? &peak : !strcmp(kv, "seed") ? &seed : !strcmp(kv, "T") ? &T
                : !strcmp(kv, "every") ? &every : NULL;
        }
        char *end;
        if (!dst || (*dst = strtod(eq + 1, &end), *end) || *dst < 0) {
            fprintf(stderr, "evsnn train: --data '%s': expected temporal[:p=P,peak=STEP,T=STEPS,seed=S,every=N]\n", spec);
            return 2;
        }
    }
    if (net_n_out(n) != 1 || T < 2 || peak >= T || p > 1 || every < 1) {
        fprintf(stderr, "evsnn train: temporal task: one output neuron, 0 < peak < T and p <= 1 expected\n");
        return 2;
    }
    train_cfg tc = *c;
    tc.loss = LOSS_MEM_MSE;
    const uint32_t nT = (uint32_t)T;
    spk_train in;
    if (synth_bernoulli(&in, nT, n->n_in, p, (uint64_t)seed)) { fprintf(stderr, "evsnn train: %s\n", evsnn_errmsg()); return 1; }
    int err, status = 0;
    trainer *tr = trainer_create(n, &tc, nT, &err);
    float *target = malloc(nT * sizeof *target);
    if (!tr || !target) { fprintf(stderr, "evsnn train: %s\n", evsnn_errmsg()); spk_deinit(&in); trainer_free(tr); free(target); return 2; }
    const net_layer *out = &n->layers[n->n_layers - 1];
    const uint32_t last_sp = net_n_spiking(n) - 1; /* the output layer's θ∞ (lists repeat their last) */
    const float theta_final = tc.n_tha ? tc.tha_theta_inf[last_sp < tc.n_tha - 1 ? last_sp : tc.n_tha - 1] : out->nc.theta;
    for (uint32_t t = 0; t < nT; t++) target[t] = t <= peak ? (float)(1.1 * theta_final * t / peak) : 0.0f;
    sim_input si = {.train = &in, .T = nT};
    const float *tg = target;
    sim *s = sim_create(n, nT, &err);
    sim_result r;
    sim_result_init(&r, n, nT, SIM_RECORD_MEM);
    for (uint64_t it = 0; it < iters; it++) {
        train_stats st;
        memset(&st, 0, sizeof st);
        if (trainer_step(tr, &si, NULL, &tg, 1, &st)) {
            fprintf(stderr, "evsnn train: iteration %llu: %s\n", (unsigned long long)it + 1, evsnn_errmsg());
            status = 2;
            break;
        }
        if ((it + 1) % (uint64_t)every && it + 1 != iters) continue;
        /* The network as it is now (after the step): output spike steps and hidden rate. */
        sim_free(s);
        s = sim_create(n, nT, &err);
        if (!s || sim_run(s, &si, &r)) { status = 1; break; }
        json_t *line = json_object(), *steps = json_array();
        jset(line, "iteration", jint((long long)it + 1));
        jset(line, "loss", jnum(st.loss));
        jset(line, "thresholds", thresholds_json(n));
        jset(line, "hidden_rate", jnum(layer_rate(&r.st[0])));
        const spk_train *os = &r.out[n->n_layers - 1];
        for (uint32_t t = 0; t < nT; t++)
            if (spk_count(os, t)) json_array_append_new(steps, jint(t));
        jset(line, "output_spike_steps", steps);
        emit(o, line);
    }
    if (!status && trace_path) {
        FILE *f = fopen(trace_path, "w");
        if (!f) { fprintf(stderr, "evsnn train: --trace %s: %s\n", trace_path, strerror(errno)); status = 1; }
        else {
            fprintf(f, "# step target membrane spike (output neuron, after training)\n");
            const spk_train *os = &r.out[n->n_layers - 1];
            for (uint32_t t = 0; t < nT; t++)
                fprintf(f, "%u %.6g %.6g %u\n", t, (double)target[t], (double)r.mem[n->n_layers - 1][t], spk_count(os, t));
            fclose(f);
        }
    }
    sim_result_deinit(&r);
    sim_free(s);
    trainer_free(tr);
    free(target);
    spk_deinit(&in);
    return status;
}

/* --data-init: calibrate the biases on up to 512 training samples spread evenly over the
 * training part (file order, no random draw), before the first step. */
static int init_from_data(trainer *tr, const net *n, const tdata *d, float target, int quiet) {
    enum { N_CAL = 512 };
    const uint32_t m = d->n < N_CAL ? d->n : N_CAL;
    sim_input *cal = malloc((m ? m : 1) * sizeof *cal);
    if (!cal) return evsnn_seterr(EVSNN_ENOMEM, "--data-init: no memory");
    for (uint32_t i = 0; i < m; i++) cal[i] = d->in[(uint64_t)i * d->n / m];
    train_init_report rep;
    int rc = trainer_data_init(tr, cal, m, target, &rep);
    free(cal);
    if (rc || quiet) return rc;
    for (uint32_t l = 0; l < n->n_layers; l++)
        if (rep.layer[l])
            fprintf(stderr, "evsnn train: --data-init %s: mean current %.4g, per-channel std %.4g (threshold %.4g) on %u samples; "
                    "biases set for a mean of %.4g\n", n->layers[l].name, (double)rep.mean[l], (double)rep.std[l],
                    (double)rep.theta[l], m, (double)(target * rep.theta[l]));
    return 0;
}

/* What the fit loop's reports need in `evsnn train`. */
typedef struct {
    trainer *tr;
    const net *n;
    const tdata *te;
    uint32_t B, T, rank, n_train;
    const outputs *o;
    double epochs;
    int progress, status;
    const char *ckpt_path, *config;
    const train_cfg *c;
    const netcli *nc;
} train_run;

/* The progress line on a terminal, after every step. */
static int train_progress(void *ctx, uint64_t ep, uint32_t bi, uint32_t nb, const train_stats *bs, const train_stats *st,
                          double el) {
    const train_run *r = ctx;
    (void)bs;
    const double sps = st->n / (el > 0 ? el : 1e-9);
    const double left = ((double)(r->epochs - (double)ep) * r->n_train - st->n) / sps;
    fprintf(stderr, "\repoch %llu/%.0f  batch %u/%u  loss %.4f  acc %5.1f%%  %.0f samples/s  ETA %.0fs   ",
            (unsigned long long)ep + 1, r->epochs, bi + 1, nb, st->loss / st->n, 100.0 * st->correct / st->n, sps, left);
    return 0;
}

/* After every epoch: evaluate, the epoch's JSON line, the checkpoint. A failure sets the
 * exit status and stops the run. */
static int train_epoch(void *ctx, uint64_t ep, const train_stats *st, double train_s) {
    train_run *r = ctx;
    const net *n = r->n;
    train_stats ev;
    if (evaluate(r->tr, r->te, r->B, &ev)) {
        fprintf(stderr, "evsnn train: %s\n", evsnn_errmsg());
        return r->status = 2;
    }
    if (r->progress) fputc('\n', stderr);
    json_t *line = json_object(), *rates = json_array(), *silent = json_array();
    jset(line, "epoch", jint((long long)ep + 1));
    jset(line, "step", jint((long long)trainer_optim(r->tr)->t));
    jset(line, "train_loss", jnum(st->loss / st->n));
    jset(line, "train_acc", jnum((double)st->correct / st->n));
    jset(line, "test_loss", ev.n ? jnum(ev.loss / ev.n) : json_null()); /* null: no test data */
    jset(line, "test_acc", ev.n ? jnum((double)ev.correct / ev.n) : json_null());
    jset(line, "lr", jnum(st->lr));
    jset(line, "train_s", jnum(train_s));
    jset(line, "samples_per_s", jnum(st->n / (train_s > 0 ? train_s : 1e-9)));
    jset(line, "thresholds", thresholds_json(n));
    for (uint32_t l = 0; l < n->n_layers; l++) {
        json_array_append_new(rates, ev.neurons[l] ? jnum((double)ev.spikes[l] / ((double)ev.neurons[l] * r->T)) : json_null());
        json_array_append_new(silent, ev.neurons[l] ? jnum((double)ev.silent[l] / (double)ev.neurons[l]) : json_null());
    }
    jset(line, "test_rates", rates);
    jset(line, "test_silent", silent);
    if (r->rank == 0) emit(r->o, line);
    else json_decref(line);
    if (r->ckpt_path && save_ckpt(r->ckpt_path, r->tr, n, ep + 1, r->T, r->c, r->nc, r->config)) {
        fprintf(stderr, "evsnn train: %s\n", evsnn_errmsg());
        return r->status = 1;
    }
    return 0;
}

/* --augment shift:N[,flip] into a (shift, flip); 0, or 2 with the message on stderr. */
static int parse_augment(const char *spec, tdata_aug *a) {
    char buf[64];
    snprintf(buf, sizeof buf, "%s", spec);
    memset(a, 0, sizeof *a);
    int ok = strlen(spec) < sizeof buf;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); ok && t; t = strtok_r(NULL, ",", &save)) {
        char *end;
        if (!strcmp(t, "flip")) a->flip = 1;
        else if (!strncmp(t, "shift:", 6)) {
            errno = 0;
            unsigned long v = strtoul(t + 6, &end, 10);
            ok = t[6] >= '0' && t[6] <= '9' && !*end && !errno && v >= 1 && v <= 64;
            a->shift = (uint32_t)v;
        } else ok = 0;
    }
    if (ok && (a->shift || a->flip)) return 0;
    fprintf(stderr, "evsnn train: --augment '%s': expected shift:N (N in 1..64 pixels), flip, or both separated by a comma\n",
            spec);
    return 2;
}

/* What the command line says (train_parse). */
typedef struct {
    netcli nc;
    train_cfg c;
    tdata_opts dopt;
    ds_opts dso;
    const char *trace_path, *data, *out, *ckpt_path, *resume, *log_path;
    double lr, epochs, batch, steps, seed, data_init;
    int quiet, opt_set, glorot;
    tdata_aug aug; /* --augment: shift and flip set, the rest zero */
    char config[1024]; /* the options, recorded in checkpoints */
} train_args;

/* The options into *A: -1 to go on, else the exit status (help: 0, bad usage: 2). */
/* The command's options (the network's first, apps/netcli.h). */
enum { O_DATA = 2000, O_STEPS, O_EPOCHS, O_BATCH, O_OPTIM, O_LR, O_MOM, O_WD, O_COS, O_ETAMIN, O_GCLIP, O_WCLIP,
       O_SURR, O_LOSS, O_CR, O_IR, O_BIN, O_LCLAMP, O_BNMOM, O_AUG, O_DROPOUT, O_THA, O_CENTRE, O_SEED, O_THREADS, O_SLOTS, O_CKPT,
       O_RESUME, O_LOG, O_QUIET, O_TEST, O_SPLITAT, O_MAXTR, O_MAXTE, O_ENC, O_DT, O_TRACE, O_RECORD, O_DS, O_DINIT, O_COSA, O_INIT };
static const struct option opts[] = {NETCLI_OPTIONS,
    {"data", required_argument, 0, O_DATA}, {"steps", required_argument, 0, O_STEPS},
    {"epochs", required_argument, 0, O_EPOCHS}, {"batch", required_argument, 0, O_BATCH},
    {"optim", required_argument, 0, O_OPTIM}, {"lr", required_argument, 0, O_LR},
    {"momentum", required_argument, 0, O_MOM}, {"weight-decay", required_argument, 0, O_WD},
    {"cosine", required_argument, 0, O_COS}, {"eta-min", required_argument, 0, O_ETAMIN},
    {"grad-clip", required_argument, 0, O_GCLIP}, {"weight-clip", required_argument, 0, O_WCLIP},
    {"surrogate", required_argument, 0, O_SURR}, {"loss", required_argument, 0, O_LOSS},
    {"correct-rate", required_argument, 0, O_CR}, {"incorrect-rate", required_argument, 0, O_IR},
    {"binarize", no_argument, 0, O_BIN}, {"latent-clamp", required_argument, 0, O_LCLAMP},
    {"bn-momentum", required_argument, 0, O_BNMOM}, {"augment", required_argument, 0, O_AUG},
    {"dropout", required_argument, 0, O_DROPOUT},
    {"tha", required_argument, 0, O_THA}, {"tha-centre", required_argument, 0, O_CENTRE},
    {"seed", required_argument, 0, O_SEED}, {"threads", required_argument, 0, O_THREADS},
    {"slots", required_argument, 0, O_SLOTS}, {"output", required_argument, 0, 'o'},
    {"checkpoint", required_argument, 0, O_CKPT}, {"resume", required_argument, 0, O_RESUME},
    {"log", required_argument, 0, O_LOG}, {"quiet", no_argument, 0, O_QUIET},
    {"test-data", required_argument, 0, O_TEST}, {"split-at", required_argument, 0, O_SPLITAT},
    {"train-count", required_argument, 0, O_MAXTR}, {"test-count", required_argument, 0, O_MAXTE},
    /* the names of earlier releases, kept as aliases */
    {"max-train", required_argument, 0, O_MAXTR}, {"max-test", required_argument, 0, O_MAXTE},
    {"encoding", required_argument, 0, O_ENC}, {"dt-us", required_argument, 0, O_DT},
    {"trace", required_argument, 0, O_TRACE}, {"record", required_argument, 0, O_RECORD},
    {"data-init", required_argument, 0, O_DINIT}, {"cosine-anneal", required_argument, 0, O_COSA},
    {"init", required_argument, 0, O_INIT},
    /* dataset transforms, as 'evsnn data' and 'evsnn run' take them (cmd_data_opt) */
    {"bins", required_argument, 0, O_DS}, {"window-us", required_argument, 0, O_DS},
    {"downsample", required_argument, 0, O_DS}, {"pool", required_argument, 0, O_DS},
    {"polarity", required_argument, 0, O_DS}, {"denoise-us", required_argument, 0, O_DS},
    {"unit-factor", required_argument, 0, O_DS}, {"gain", required_argument, 0, O_DS},
    {"labels", required_argument, 0, O_DS}, {"format", required_argument, 0, O_DS},
    {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};

static int train_parse(int argc, char **argv, train_args *A) {
    netcli nc;
    memset(&A->aug, 0, sizeof A->aug);
    netcli_init(&nc);
    train_cfg c = train_defaults();
    tdata_opts dopt;
    memset(&dopt, 0, sizeof dopt);
    ds_opts dso;
    ds_opts_default(&dso);
    dopt.base = &dso;
    const char *trace_path = NULL;
    const char *data = "synth", *out = NULL, *ckpt_path = NULL, *resume = NULL, *log_path = NULL;
    double v, lr = -1, epochs = 5, batch = 32, steps = 0, seed = 1;
    int quiet = 0, opt_set = 0, glorot = 0;
    double data_init = NAN; /* --data-init: target mean current / θ (NaN: off) */
    char config[1024] = "";
    size_t clen = 0;
    int ch, li = -1;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "ho:", opts, &li)) != -1) {
        if (ch != 'h' && ch != '?' && clen < sizeof config - 1) /* the options, recorded in checkpoints */
            clen += (size_t)snprintf(config + clen, sizeof config - clen, "%s--%s%s%s", clen ? " " : "",
                                     li >= 0 ? opts[li].name : "output", optarg ? "=" : "", optarg ? optarg : "");
        const char *lname = li >= 0 ? opts[li].name : "";
        li = -1;
        if (clen >= sizeof config) clen = sizeof config - 1;
        int rc = netcli_parse(&nc, ch, optarg);
        if (rc < 0) { fprintf(stderr, "evsnn train: %s\n", evsnn_errmsg()); return 2; }
        if (rc) continue;
        char msg[300];
        switch (ch) {
        case O_DATA: data = optarg; break;
        case O_TEST: dopt.test_data = optarg; break;
        case O_SPLITAT: if (num("split-at", optarg, 1, 1e9, &v)) return 2; dopt.split_at = (uint32_t)v; break;
        case O_MAXTR: if (num(lname, optarg, 1, 1e9, &v)) return 2; dopt.max_train = (uint32_t)v; break;
        case O_MAXTE: if (num(lname, optarg, 1, 1e9, &v)) return 2; dopt.max_test = (uint32_t)v; break;
        case O_ENC: dopt.encoding = optarg; break;
        case O_TRACE: trace_path = optarg; break;
        case O_DS:
            if (cmd_data_opt(&dso, lname, optarg)) {
                fprintf(stderr, "evsnn train: --%s '%s': bad value (see 'evsnn data --help')\n", lname, optarg);
                return 2;
            }
            break;
        case O_RECORD:
            if (!strcmp(optarg, "sparse")) c.sparse_record = 1;
            else if (!strcmp(optarg, "dense")) c.sparse_record = 0;
            else { fprintf(stderr, "evsnn train: --record '%s': expected sparse or dense\n", optarg); return 2; }
            break;
        case O_DINIT: if (num("data-init", optarg, -100, 100, &data_init)) return 2; break;
        case O_DT: if (num("dt-us", optarg, 1, 1e9, &v)) return 2; dopt.dt_us = (uint32_t)v; break;
        case O_STEPS: if (num("steps", optarg, 1, 100000, &steps)) return 2; break;
        case O_EPOCHS: if (num("epochs", optarg, 1, 1e6, &epochs)) return 2; break;
        case O_BATCH: if (num("batch", optarg, 1, 65536, &batch)) return 2; break;
        case O_OPTIM:
            if (!strcmp(optarg, "adam")) c.opt.kind = OPT_ADAM;
            else if (!strcmp(optarg, "sgd")) c.opt.kind = OPT_SGD;
            else { fprintf(stderr, "evsnn train: --optim '%s': expected adam or sgd\n", optarg); return 2; }
            opt_set = 1;
            break;
        case O_LR: if (num("lr", optarg, 1e-12, 1e6, &lr)) return 2; break;
        case O_MOM: if (num("momentum", optarg, 0, 0.999999, &v)) return 2; c.opt.momentum = (float)v; break;
        case O_WD: if (num("weight-decay", optarg, 0, 1e3, &v)) return 2; c.opt.weight_decay = (float)v; break;
        case O_COS: {
            unsigned t0 = 0, mult = 1;
            char extra;
            int k = sscanf(optarg, "%u,%u%c", &t0, &mult, &extra);
            if ((k != 1 && k != 2) || t0 == 0 || mult == 0) {
                fprintf(stderr, "evsnn train: --cosine '%s': expected T0[,MULT] with positive integers\n", optarg);
                return 2;
            }
            if (c.opt.cos_continue) {
                fprintf(stderr, "evsnn train: --cosine and --cosine-anneal exclude each other\n");
                return 2;
            }
            c.opt.cos_T0 = t0;
            c.opt.cos_Tmult = mult;
            break;
        }
        case O_COSA: {
            unsigned t0 = 0;
            char extra;
            if (sscanf(optarg, "%u%c", &t0, &extra) != 1 || t0 == 0) {
                fprintf(stderr, "evsnn train: --cosine-anneal '%s': expected a positive integer (iterations)\n", optarg);
                return 2;
            }
            if (c.opt.cos_T0 && !c.opt.cos_continue) {
                fprintf(stderr, "evsnn train: --cosine and --cosine-anneal exclude each other\n");
                return 2;
            }
            c.opt.cos_T0 = t0, c.opt.cos_Tmult = 1, c.opt.cos_continue = 1;
            break;
        }
        case O_INIT:
            if (!strcmp(optarg, "pytorch")) glorot = 0;
            else if (!strcmp(optarg, "glorot")) glorot = 1;
            else {
                fprintf(stderr, "evsnn train: --init '%s': expected pytorch or glorot\n", optarg);
                return 2;
            }
            break;
        case O_ETAMIN: if (num("eta-min", optarg, 0, 1e6, &v)) return 2; c.opt.eta_min = (float)v; break;
        case O_GCLIP: if (num("grad-clip", optarg, 1e-12, 1e12, &v)) return 2; c.grad_clip = (float)v; break;
        case O_WCLIP: if (num("weight-clip", optarg, 1e-12, 1e12, &v)) return 2; c.weight_clip = (float)v; break;
        case O_SURR:
            if (netcli_surrogate(&c.sg, optarg, msg, sizeof msg)) { fprintf(stderr, "evsnn train: --%s\n", msg); return 2; }
            break;
        case O_LOSS:
            if (train_loss_parse(optarg, &c.loss) || c.loss == LOSS_MEM_MSE) {
                fprintf(stderr, "evsnn train: --loss '%s': expected mse_count, ce_count or ce_rate\n", optarg);
                return 2;
            }
            break;
        case O_CR: if (num("correct-rate", optarg, 0, 1, &v)) return 2; c.correct_rate = v; break;
        case O_IR: if (num("incorrect-rate", optarg, 0, 1, &v)) return 2; c.incorrect_rate = v; break;
        case O_BIN: c.binarize = 1; break;
        case O_LCLAMP: if (num("latent-clamp", optarg, 1e-12, 1e12, &v)) return 2; c.latent_clamp = (float)v; break;
        case O_BNMOM: if (num("bn-momentum", optarg, 1e-9, 1, &v)) return 2; c.bn_momentum = (float)v; break;
        case O_AUG: if (parse_augment(optarg, &A->aug)) return 2; break;
        case O_DROPOUT: {
            int k = netcli_floats(optarg, c.dropout, TRAIN_MAX_LAYERS);
            int okv = k > 0;
            for (int i = 0; okv && i < k; i++) okv = c.dropout[i] >= 0.0f && c.dropout[i] < 1.0f;
            if (!okv) {
                fprintf(stderr, "evsnn train: --dropout '%s': expected probabilities in [0, 1) separated by commas\n", optarg);
                return 2;
            }
            c.n_dropout = (uint32_t)k;
            break;
        }
        case O_THA: if (parse_tha(optarg, &c)) return 2; break;
        case O_CENTRE:
            if (!strcmp(optarg, "initial")) c.centre = THA_CENTRE_INITIAL;
            else if (!strcmp(optarg, "current")) c.centre = THA_CENTRE_CURRENT;
            else { fprintf(stderr, "evsnn train: --tha-centre '%s': expected initial or current\n", optarg); return 2; }
            break;
        case O_SEED: if (num("seed", optarg, 0, 1e18, &seed)) return 2; break;
        case O_THREADS: if (num("threads", optarg, 1, 1024, &v)) return 2; c.threads = (int)v; break;
        case O_SLOTS: if (num("slots", optarg, 1, 1024, &v)) return 2; c.slots = (uint32_t)v; break;
        case 'o': out = optarg; break;
        case O_CKPT: ckpt_path = optarg; break;
        case O_RESUME: resume = optarg; break;
        case O_LOG: log_path = optarg; break;
        case O_QUIET: quiet = 1; break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fprintf(stderr, "evsnn train: see 'evsnn train --help'\n"); return 2;
        }
    }
    if (optind < argc) { fprintf(stderr, "evsnn train: unexpected argument '%s'\n", argv[optind]); return 2; }
    A->nc = nc;
    A->c = c;
    A->dopt = dopt;
    A->dso = dso;
    A->trace_path = trace_path;
    A->data = data;
    A->out = out;
    A->ckpt_path = ckpt_path;
    A->resume = resume;
    A->log_path = log_path;
    A->lr = lr;
    A->epochs = epochs;
    A->batch = batch;
    A->steps = steps;
    A->seed = seed;
    A->data_init = data_init;
    A->quiet = quiet;
    A->opt_set = opt_set;
    A->glorot = glorot;
    memcpy(A->config, config, sizeof config);
    return -1;
}

/* The model file and the closing JSON line (rank 0). 0 or the exit status. */
static int train_finish(const net *n, trainer *tr, const train_cfg *c, const netcli *nc, const char *data, const char *out,
                        uint32_t T, uint32_t rank, uint32_t nranks, double epochs, double t_start) {
    model_meta meta = {.binarized = c->binarize, .steps = T, .pool_on = nc->o.pool_on, .spool = nc->o.spool,
                       .same_pad = nc->o.same_pad};
    snprintf(meta.dataset, sizeof meta.dataset, "%s", data);
    if (rank == 0 && model_save(out, n, &meta)) { fprintf(stderr, "evsnn train: %s\n", evsnn_errmsg()); return 1; }
    /* Model memory: binarized weights take one bit each, everything else 32. */
    uint64_t bits = 0;
    for (uint32_t l = 0; l < n->n_layers; l++) {
        const net_layer *L = &n->layers[l];
        bits += (uint64_t)L->n_w * (c->binarize ? 1 : 32) + (uint64_t)(L->b ? L->n_b : 0) * 32;
    }
    double ar_s = 0;
    uint64_t ar_calls = 0;
    comm_stats(&ar_s, &ar_calls, NULL);
    if (rank == 0) {
        json_t *fin = json_object();
        jset(fin, "done", json_true());
        jset(fin, "model", jstr(out));
        if (nranks > 1) {
            jset(fin, "ranks", jint(nranks));
            jset(fin, "allreduce_s", jnum(ar_s));
            jset(fin, "allreduce_calls", jint((long long)ar_calls));
        }
        jset(fin, "epochs", jnum(epochs));
        jset(fin, "steps", jint((long long)trainer_optim(tr)->t));
        jset(fin, "seconds", jnum(evsnn_now_s() - t_start));
        jset(fin, "binarized", json_boolean(c->binarize));
        jset(fin, "model_bits", jint((long long)bits));
        jprint(stdout, fin);
    }
    return 0;
}

int cmd_train(int argc, char **argv) {
    train_args A;
    int prc = train_parse(argc, argv, &A);
    if (prc >= 0) return prc;
    netcli nc = A.nc;
    train_cfg c = A.c;
    tdata_opts dopt = A.dopt;
    ds_opts dso = A.dso;
    dopt.base = &dso;
    const char *trace_path = A.trace_path, *data = A.data, *out = A.out, *ckpt_path = A.ckpt_path, *resume = A.resume,
               *log_path = A.log_path;
    double lr = A.lr, epochs = A.epochs, batch = A.batch, steps = A.steps, data_init = A.data_init, seed = A.seed;
    int quiet = A.quiet, opt_set = A.opt_set;
    tdata_aug aug = A.aug;
    const char *config = A.config;
    /* Defaults that make `evsnn train --data synth` a complete command; each is said. */
    char def_arch[64];
    if (!nc.arch && !strncmp(data, "synth", 5) && (data[5] == 0 || data[5] == ':')) {
        unsigned classes = 4; /* sim/task.h's default */
        const char *k = strstr(data, "classes=");
        if (k) classes = (unsigned)strtoul(k + 8, NULL, 10);
        if (classes < 2 || classes > 1000) classes = 4;
        snprintf(def_arch, sizeof def_arch, "100-64-%u", classes);
        nc.arch = def_arch;
        fprintf(stderr, "evsnn train: no --arch given: %s for the synthetic task (100 inputs, 64 hidden, %u classes)\n",
                def_arch, classes);
    }
    if (!nc.arch) { fprintf(stderr, "evsnn train: --arch is required with --data %s (see 'evsnn train --help')\n", data); return 2; }
    if (!out) {
        out = "model.h5";
        fprintf(stderr, "evsnn train: no -o given: the model goes to %s\n", out);
    }
    if (opt_set && lr < 0) c.opt.lr = optim_defaults(c.opt.kind).lr;
    if (lr > 0) c.opt.lr = (float)lr;
    c.seed = (uint64_t)seed;

    /* Under mpirun (make MPI=1) training is data-parallel: rank r takes the slice
     * [r·k/P, (r+1)·k/P) of every minibatch; only rank 0 prints and writes files. */
    if (comm_init(NULL, NULL)) { fprintf(stderr, "evsnn train: %s\n", evsnn_errmsg()); return 1; }
    const uint32_t rank = (uint32_t)comm_rank(), nranks = (uint32_t)comm_size();
    c.data_parallel = nranks > 1;
    if (rank > 0) { quiet = 1; log_path = NULL; ckpt_path = NULL; }
    int err, status = 0;
    net *n = netcli_build(&nc, &err);
    if (!n) { fprintf(stderr, "evsnn train: %s\n", evsnn_errmsg()); return 2; }
    if (A.glorot) net_init_glorot(n, c.seed);
    else net_init_params(n, c.seed);
    tdata tr_d, te_d;
    memset(&tr_d, 0, sizeof tr_d);
    memset(&te_d, 0, sizeof te_d);
    trainer *tr = NULL;
    outputs o = {0};
    if (log_path && !(o.log = fopen(log_path, "a"))) {
        fprintf(stderr, "evsnn train: --log %s: %s\n", log_path, strerror(errno));
        status = 2;
        goto done;
    }
    if (!strncmp(data, "temporal", 8) && (data[8] == '\0' || data[8] == ':')) {
        if (!isnan(data_init)) { fprintf(stderr, "evsnn train: --data-init does not apply to the temporal task\n"); status = 2; goto done; }
        status = run_temporal(n, &c, data, (uint64_t)epochs, trace_path, &o);
        if (!status) {
            model_meta meta = {.binarized = c.binarize, .steps = 0};
            snprintf(meta.dataset, sizeof meta.dataset, "%s", data);
            if (model_save(out, n, &meta)) { fprintf(stderr, "evsnn train: %s\n", evsnn_errmsg()); status = 1; }
        }
        goto done;
    }
    dopt.data = data;
    dopt.steps = (uint32_t)steps;
    dopt.seed = c.seed;
    if (!quiet) fprintf(stderr, "evsnn train: loading %s ...\n", data);
    if (tdata_load(&tr_d, &te_d, &dopt, n->n_in)) { fprintf(stderr, "evsnn train: %s\n", evsnn_errmsg()); status = 2; goto done; }
    if (tr_d.classes > net_n_out(n)) {
        fprintf(stderr, "evsnn train: data '%s' has %u classes but the network has %u outputs\n", data, tr_d.classes, net_n_out(n));
        status = 2;
        goto done;
    }
    const uint32_t T = tr_d.T, B = (uint32_t)batch;
    if (!(tr = trainer_create(n, &c, T, &err))) { fprintf(stderr, "evsnn train: %s\n", evsnn_errmsg()); status = 2; goto done; }
    uint64_t epoch0 = 0;
    if (resume && resume_from(resume, tr, n, &epoch0)) { fprintf(stderr, "evsnn train: %s\n", evsnn_errmsg()); status = 2; goto done; }
    if (!resume && !isnan(data_init) && init_from_data(tr, n, &tr_d, (float)data_init, quiet)) {
        fprintf(stderr, "evsnn train: %s\n", evsnn_errmsg());
        status = 2;
        goto done;
    }
    train_run run = {.tr = tr, .n = n, .te = &te_d, .B = B, .T = T, .o = &o, .rank = rank, .epochs = epochs,
                     .n_train = tr_d.n, .progress = !quiet && isatty(2), .ckpt_path = ckpt_path, .c = &c, .nc = &nc,
                     .config = config};
    const double t_start = evsnn_now_s();
    train_samples d = tdata_samples(&tr_d);
    if (aug.shift || aug.flip) {
        const net_layer *L0 = &n->layers[0];
        aug.seed = c.seed;
        if (tdata_augment(&aug, &tr_d, L0->in_c, L0->in_h, L0->in_w, B, epoch0, &d)) {
            fprintf(stderr, "evsnn train: %s\n", evsnn_errmsg());
            status = 2;
            goto done;
        }
    }
    const train_fit_opts fo = {.epoch0 = epoch0, .epochs = (uint64_t)epochs, .batch = B, .rank = rank, .nranks = nranks,
                               .step = run.progress ? train_progress : NULL, .epoch = train_epoch, .ctx = &run};
    train_fit_stop stop;
    int rc = trainer_fit(tr, &d, &fo, &stop);
    if (rc && !run.status) { /* the step (or the sum over ranks) failed, not a report */
        if (stop.reduce) {
            fprintf(stderr, "evsnn train: %s\n", evsnn_errmsg());
            run.status = 1;
        } else {
            fprintf(stderr, "%sevsnn train: epoch %llu, batch %u: %s%s\n", run.progress ? "\n" : "",
                    (unsigned long long)stop.epoch + 1, stop.batch + 1, evsnn_errmsg(),
                    ckpt_path ? " (the last checkpoint is kept)" : "");
            run.status = rc == EVSNN_ENOMEM ? 1 : 2;
        }
    }
    if ((status = run.status)) goto done;
    status = train_finish(n, tr, &c, &nc, data, out, T, rank, nranks, epochs, t_start);
done:
    if (o.log) fclose(o.log);
    trainer_free(tr);
    tdata_aug_free(&aug);
    tdata_free(&tr_d);
    tdata_free(&te_d);
    net_free(n);
    comm_finalize();
    return status;
}
