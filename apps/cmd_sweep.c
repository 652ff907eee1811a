/* apps/cmd_sweep.c — `evsnn sweep STUDY -o DIR`: run every trial of a study (train →
 * evaluate → accelerator model, all through library calls) and keep one row per trial in
 * DIR/study.csv and DIR/study.h5, plus per-trial series for the figures (sim/STUDY.md).
 *
 * Rank 0 decides every trial when it starts it: the grid's or the random draw's, or a TPE
 * study's proposal from the rows finished so far (study_propose), together with the median
 * rule's thresholds from the same rows. Under mpirun (make MPI=1) rank 0 owns the files and
 * hands out trials one at a time: a worker sends its last result with a request and gets
 * the next trial (its settings and thresholds) or a stop. Rank 0 also runs trials itself
 * and answers requests between its own training steps, so no core idles as a pure
 * dispatcher. Every rank runs a trial the same way, so a grid or random study's table does
 * not depend on how many ranks there were (except the measured train_s); a TPE or pruned
 * study's does, because what has finished when a trial starts does. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apps/cmds.h"
#include "apps/json.h"
#include "apps/netcli.h"
#include "apps/traindata.h"
#include "hw/hw.h"
#include "io/replace.h"
#include "io/study.h"
#include "sim/comm.h"
#include "sim/evsnn.h"
#include "sim/search.h"
#include "sim/train.h"

static const char *usage_text =
    "usage: evsnn sweep STUDY.study -o DIR [--budget N] [--search random|tpe]\n"
    "                   [--retry-failed] [--threads N] [--list] [--quiet]\n"
    "\n"
    "Run a study: every trial trains a network (evsnn train), evaluates it on the test part\n"
    "(accuracy, loss, per-layer firing rate, silent neurons) and replays test samples\n"
    "through the accelerator model (cycles, latency, FPS, energy, FPS/W). One row per trial\n"
    "goes to DIR/study.csv and DIR/study.h5, written whole after every trial (temporary file\n"
    "and rename). Per-trial series for 'evsnn plot' go to DIR/trials/NNNN.{series,hist,mem}.\n"
    "Running the same command again resumes: trials whose row is there with the same\n"
    "settings are skipped; failed trials are rows with status \"failed\" and their error.\n"
    "A TPE study (search = \"tpe\") proposes each trial from the rows finished before it,\n"
    "so a resumed serial run continues the same sequence; with prune = \"median\" a trial\n"
    "whose test accuracy after an epoch is below the median of finished trials there stops\n"
    "(status \"pruned\").\n"
    "\n"
    "  STUDY.study         the study (libconfig; format in sim/STUDY.md, examples in data/)\n"
    "  -o, --output DIR    result directory (created if missing)\n"
    "  --budget N          run at most N trials of the study (grid order / random / TPE)\n"
    "  --search S          run a random or TPE study with search S instead (random | tpe),\n"
    "                      at the same budget: a comparison of the two searches\n"
    "  --retry-failed      run failed trials again instead of skipping them\n"
    "  --threads N         threads per process for training (default: all cores, 1 under\n"
    "                      mpirun with more than one rank); results do not depend on N\n"
    "  --list              print the trials (JSON lines) and exit (TPE: the first,\n"
    "                      random ones; the others depend on results)\n"
    "  --quiet             no progress lines on stderr\n"
    "\n"
    "MPI (build with 'make MPI=1'): mpirun -n N build/mpi/bin/evsnn sweep STUDY -o DIR\n"
    "hands trials out dynamically; rank 0 writes every file. See sim/STUDY.md for clusters\n"
    "(hostfile, Slurm srun).\n"
    "\n"
    "Output: one JSON line per finished trial on stdout, then a summary line with the best\n"
    "trial by the study's objective.\n"
    "Exit status: 0 every trial ran (some may have failed: see the table), 1 a runtime\n"
    "failure (files cannot be written), 2 bad usage or a bad study file.\n";

enum { TAG_REQ = 11, TAG_GO = 12, TAG_STOP = 13 };

/* What rank 0 hands out: a trial and, for the median rule, the thresholds per epoch. */
typedef struct {
    study_trial t;
    double med[STUDY_MAX_EPOCHS];
} job;

/* ---------------------------------------------------------------- one trial */

typedef struct {
    char *txt[3]; /* series, hist, mem: text for DIR/trials/NNNN.{series,hist,mem} */
    size_t len[3];
} trial_out;

static const char *const side_ext[3] = {"series", "hist", "mem"};

static void trial_out_free(trial_out *o) {
    for (int i = 0; i < 3; i++) free(o->txt[i]);
    memset(o, 0, sizeof *o);
}

typedef void (*service_fn)(void *);

/* Build the trial's network: architecture, β and θ of every spiking layer. */
static net *trial_net(const study_fixed *fx, const study_trial *t, int *err) {
    netcli nc;
    netcli_init(&nc);
    nc.arch = t->arch;
    nc.input = fx->input[0] ? fx->input : NULL;
    nc.beta[0] = t->beta; /* one value: every spiking layer */
    nc.n_beta = 1;
    nc.theta[0] = t->theta;
    nc.n_theta = 1;
    return netcli_build(&nc, err);
}

static int trial_cfg(const study_fixed *fx, const study_trial *t, int threads, train_cfg *c) {
    *c = train_defaults();
    char msg[256];
    if (netcli_surrogate(&c->sg, t->surrogate, msg, sizeof msg)) return evsnn_seterr(EVSNN_EINVAL, "surrogate: %s", msg);
    if (t->slope > 0) c->sg.a = t->slope;
    if (train_loss_parse(fx->loss, &c->loss)) return EVSNN_EINVAL;
    c->opt = optim_defaults(!strcmp(fx->optim, "sgd") ? OPT_SGD : OPT_ADAM);
    c->opt.lr = t->lr > 0 ? t->lr : fx->lr; /* the lr axis, or train.lr */
    c->opt.cos_T0 = fx->cosine;
    c->binarize = t->binarize;
    c->slots = fx->slots;
    c->threads = threads;
    c->seed = t->seed;
    if (strncmp(t->threshold, "anneal:", 7) == 0) { /* per spiking layer (checked by the study parser) */
        train_tha tha;
        if (train_tha_parse(t->threshold + 7, &tha)) {
            char why[256];
            snprintf(why, sizeof why, "%s", evsnn_errmsg());
            return evsnn_seterr(EVSNN_EINVAL, "threshold '%s': %s", t->threshold, why);
        }
        train_cfg_set_tha(c, &tha);
    }
    return 0;
}

/* Per-layer mean cycles, added up sample by sample as (cycles / N). */
typedef struct {
    study_row *row;
    uint32_t N, L;
} layer_mean;
static void add_layer_cycles(void *ctx, uint32_t i, const hw_sample *hs) {
    const layer_mean *a = ctx;
    (void)i;
    for (uint32_t l = 0; l < a->L && l < STUDY_MAX_LAYERS; l++) a->row->layer_cycles[l] += (double)hs->l[l].cycles / a->N;
}

/* Membrane trace of the output layer on test sample 0 (the temporal-coding figure):
 * one line per step: t θ u_0 .. u_{C-1}. */
static void write_mem(FILE *mem, const net *n, const sim_result *r0, uint32_t label, uint32_t T) {
    const uint32_t C = net_n_out(n), L = n->n_layers;
    fprintf(mem, "# step theta u_0..u_%u (output layer, test sample 0, label %u)\n", C - 1, label);
    for (uint32_t k = 0; k < T; k++) {
        fprintf(mem, "%u %.6g", k, (double)n->layers[L - 1].nc.theta);
        for (uint32_t j = 0; j < C; j++) fprintf(mem, " %.6g", (double)r0->mem[L - 1][(size_t)k * C + j]);
        fputc('\n', mem);
    }
}

/* Accelerator model over the first N test samples: the engine records every layer's
 * output, hw replays them (hw_replay). Figures are means over the samples. */
static int trial_hw(const study_trial *t, net *n, const tdata *te, uint32_t N, study_row *row, FILE *mem) {
    hw_cfg cfg;
    hw_cfg_default(&cfg);
    int rc = t->accel[0] ? hw_cfg_load(&cfg, t->accel) : 0;
    if (rc) return rc;
    if (N > te->n) N = te->n;
    if (N == 0) return evsnn_seterr(EVSNN_EINVAL, "accelerator model: the test part is empty");
    const uint32_t T = te->T, L = n->n_layers;
    sim_result *res = calloc(N, sizeof *res);
    spk_train *in = calloc(N, sizeof *in);
    const spk_train **lp = calloc(N, sizeof *lp);
    hw_machine *m = NULL;
    hw_report *rep = NULL;
    if (!res || !in || !lp) { rc = evsnn_seterr(EVSNN_ENOMEM, "accelerator model: no memory"); goto out; }
    for (uint32_t i = 0; i < N && !rc; i++) {
        rc = sim_result_init(&res[i], n, T, i == 0 ? SIM_RECORD_MEM : 0);
        lp[i] = res[i].out;
        /* Direct-coded (static) inputs have no input spikes for the encoder: an empty train. */
        if (rc) break;
        if (te->in[i].train) rc = spk_copy(&in[i], te->in[i].train);
        else if (!(rc = spk_init(&in[i], T, n->n_in, 0))) rc = spk_close(&in[i], 0);
    }
    if (!rc) rc = sim_run_batch(n, te->in, N, res, 1); /* one thread: the trial's own */
    if (!rc && mem && res[0].mem && res[0].mem[L - 1]) write_mem(mem, n, &res[0], te->y[0], T);
    if (rc) goto out;
    if (!(m = hw_create(&cfg, n, T, &rc))) goto out;
    if ((rc = hw_allocate(m, in, lp, N))) goto out;
    if (!(rep = hw_report_create(m))) { rc = evsnn_seterr(EVSNN_ENOMEM, "accelerator model: no memory"); goto out; }
    layer_mean lm = {.row = row, .N = N, .L = L};
    if ((rc = hw_replay(m, in, lp, N, HW_JUMP, rep, NULL, 0, add_layer_cycles, &lm))) goto out;
    double lat, epj;
    hw_report_means(rep, &lat, &epj, NULL);
    const double mhz = hw_machine_cfg(m)->clock_mhz, lat_s = lat / (mhz * 1e6);
    row->cycles = lat;
    row->latency_us = lat / mhz;
    row->fps = lat_s > 0 ? 1.0 / lat_s : 0;
    row->energy_uj = epj * 1e-6;
    const double watts = lat_s > 0 ? epj * 1e-12 / lat_s : 0;
    row->fps_per_w = watts > 0 ? row->fps / watts : 0;
out:
    hw_report_free(rep);
    hw_free(m);
    for (uint32_t i = 0; res && i < N; i++) sim_result_deinit(&res[i]);
    for (uint32_t i = 0; in && i < N; i++) spk_deinit(&in[i]);
    free(res);
    free(in);
    free(lp);
    return rc;
}

/* The test part through the trained network, B samples at a time, into *ev. */
static int evaluate(trainer *tr, const tdata *te, const char *name, uint32_t B, train_stats *ev, service_fn svc, void *arg) {
    const train_samples d = tdata_samples(te);
    int rc = trainer_evaluate(tr, &d, B, ev, svc, arg);
    return rc ? rc : ev->n ? 0 : evsnn_seterr(EVSNN_EINVAL, "data '%s': no test samples", name);
}

/* The fit loop's reports in a trial: the series line per step, the median rule per epoch. */
typedef struct {
    const study *s;
    const study_fixed *fx;
    const study_trial *t;
    const double *med;
    const net *n;
    trainer *tr;
    const tdata *te;
    uint32_t B;
    FILE *series;
    service_fn svc;
    void *arg;
    study_row *row;
    train_stats *ev;
    uint64_t step;
    double last_loss;
} trial_fit;

static int trial_step(void *ctx, uint64_t ep, uint32_t b, uint32_t nb, const train_stats *bs, const train_stats *so_far, double s) {
    trial_fit *f = ctx;
    (void)b, (void)nb, (void)so_far, (void)s;
    fprintf(f->series, "%llu %u %.6g", (unsigned long long)++f->step, (unsigned)ep + 1, bs->loss);
    for (uint32_t l = 0; l < f->n->n_layers; l++)
        if (f->n->layers[l].kind != NET_POOL) fprintf(f->series, " %.6g", (double)f->n->layers[l].nc.theta);
    fputc('\n', f->series);
    if (f->svc) f->svc(f->arg);
    return 0;
}

/* 1 when the median rule stops the trial after this epoch. */
static int trial_epoch(void *ctx, uint64_t ep0, const train_stats *st, double train_s) {
    trial_fit *f = ctx;
    (void)train_s;
    const uint32_t ep = (uint32_t)ep0 + 1;
    f->last_loss = st->n ? st->loss / st->n : 0;
    /* the per-epoch report of the median rule (the last epoch's is the final evaluation) */
    if (!f->fx->prune || ep >= f->fx->epochs || ep > STUDY_MAX_EPOCHS) return 0;
    int rc = evaluate(f->tr, f->te, f->t->dataset, f->B, f->ev, f->svc, f->arg);
    if (rc) return rc;
    const double acc = (double)f->ev->correct / f->ev->n;
    f->row->epoch_acc[ep - 1] = acc;
    f->row->n_curve = ep;
    return study_prune_stop(f->s, f->med, ep, acc) ? 1 : 0;
}

/* Train → evaluate → accelerator model. Fills row (status OK, or PRUNED when the median
 * rule stopped it: the accelerator is not run then) or returns an error. With pruning on,
 * the test part is evaluated after every epoch (evaluation draws no random numbers, so
 * training goes exactly as without it); the last epoch's is the final evaluation. */
static int trial_body(const study *s, const study_trial *t, const double *med, int threads, study_row *row, FILE *fs[3],
                      service_fn svc, void *arg) {
    const study_fixed *fx = study_fixed_settings(s);
    int rc = 0;
    net *n = trial_net(fx, t, &rc);
    if (!n) return rc ? rc : EVSNN_EINVAL;
    net_init_params(n, t->seed);
    tdata tr_d, te_d;
    tdata_opts dopt;
    memset(&dopt, 0, sizeof dopt);
    dopt.data = t->dataset;
    dopt.test_data = fx->test_data[0] ? fx->test_data : NULL;
    dopt.steps = fx->steps;
    dopt.max_train = fx->max_train;
    dopt.max_test = fx->max_test;
    dopt.split_at = fx->split_at;
    dopt.dt_us = fx->dt_us;
    dopt.encoding = fx->encoding[0] ? fx->encoding : NULL;
    dopt.seed = t->seed;
    trainer *tr = NULL;
    train_cfg c;
    train_stats ev;
    int pruned = 0;
    if ((rc = tdata_load(&tr_d, &te_d, &dopt, n->n_in))) goto out;
    if (tr_d.classes > net_n_out(n)) {
        rc = evsnn_seterr(EVSNN_ESHAPE, "data '%s' has %u classes but the network has %u outputs", t->dataset, tr_d.classes,
                          net_n_out(n));
        goto out;
    }
    if (tr_d.n == 0) { rc = evsnn_seterr(EVSNN_EINVAL, "data '%s': no training samples", t->dataset); goto out; }
    if ((rc = trial_cfg(fx, t, threads, &c))) goto out;
    if (!(tr = trainer_create(n, &c, tr_d.T > te_d.T ? tr_d.T : te_d.T, &rc))) goto out;
    const uint32_t B = t->batch ? t->batch : fx->batch;
    fprintf(fs[0], "# step epoch loss theta_0..theta_L (spiking layers, after the step)\n");
    const double t0 = evsnn_now_s();
    trial_fit f = {.s = s, .fx = fx, .t = t, .med = med, .n = n, .tr = tr, .te = &te_d, .B = B, .series = fs[0],
                   .svc = svc, .arg = arg, .row = row, .ev = &ev};
    const train_samples d = tdata_samples(&tr_d);
    const train_fit_opts fo = {.epochs = fx->epochs, .batch = B, .nranks = 1, .step = trial_step, .epoch = trial_epoch, .ctx = &f};
    train_fit_stop stop;
    rc = trainer_fit(tr, &d, &fo, &stop);
    if (rc > 0) pruned = 1, rc = 0;
    const uint32_t ep = (uint32_t)stop.epochs_done;
    const double last_loss = f.last_loss;
    if (rc) goto out;
    row->epochs = ep;
    row->train_s = evsnn_now_s() - t0;
    row->train_loss = last_loss;
    if (!pruned && (rc = evaluate(tr, &te_d, t->dataset, B, &ev, svc, arg))) goto out;
    row->accuracy = (double)ev.correct / ev.n;
    row->loss = ev.loss / ev.n;
    if (fx->prune && !pruned && ep <= STUDY_MAX_EPOCHS) {
        row->epoch_acc[ep - 1] = row->accuracy;
        row->n_curve = ep;
    }
    row->n_layers = n->n_layers < STUDY_MAX_LAYERS ? n->n_layers : STUDY_MAX_LAYERS;
    fprintf(fs[1], "# layer name neurons spike-count bins: 0 1 2-3 4-7 8-15 16-31 32-63 >=64 (neuron-samples, test)\n");
    for (uint32_t l = 0; l < n->n_layers; l++) {
        const double T = te_d.T;
        if (l < STUDY_MAX_LAYERS) {
            row->rate[l] = ev.neurons[l] ? (double)ev.spikes[l] / ((double)ev.neurons[l] * T) : 0.0;
            row->silent[l] = ev.neurons[l] ? (double)ev.silent[l] / (double)ev.neurons[l] : 0.0;
        }
        fprintf(fs[1], "%u %s %u", l, n->layers[l].name, n->layers[l].n_out);
        for (int b = 0; b < TRAIN_HIST_BINS; b++) fprintf(fs[1], " %llu", (unsigned long long)ev.hist[l][b]);
        fputc('\n', fs[1]);
    }
    if (pruned) {
        row->cycles = row->latency_us = row->fps = row->energy_uj = row->fps_per_w = NAN;
        for (int l = 0; l < STUDY_MAX_LAYERS; l++) row->layer_cycles[l] = NAN;
        row->status = STUDY_PRUNED;
    } else {
        rc = trial_hw(t, n, &te_d, fx->hw_samples, row, fs[2]);
    }
out:
    trainer_free(tr);
    tdata_free(&tr_d);
    tdata_free(&te_d);
    net_free(n);
    return rc;
}

/* A trial never stops the study: errors become a failed row. */
static void run_trial(const study *s, const job *jb, int threads, study_row *row, trial_out *o, service_fn svc,
                      void *arg) {
    const study_trial *t = &jb->t;
    memset(row, 0, sizeof *row);
    memset(o, 0, sizeof *o);
    row->t = *t;
    row->objective = NAN;
    FILE *fs[3];
    for (int i = 0; i < 3; i++) fs[i] = open_memstream(&o->txt[i], &o->len[i]);
    int rc = !fs[0] || !fs[1] || !fs[2] ? evsnn_seterr(EVSNN_ENOMEM, "no memory for trial output")
                                        : trial_body(s, t, jb->med, threads, row, fs, svc, arg);
    for (int i = 0; i < 3; i++)
        if (fs[i]) fclose(fs[i]);
    if (rc) {
        const double ts = row->train_s;
        memset(row, 0, sizeof *row);
        row->t = *t;
        row->train_s = ts;
        row->objective = NAN;
        row->status = STUDY_FAILED;
        snprintf(row->error, sizeof row->error, "%s", evsnn_errmsg());
    } else if (row->status != STUDY_PRUNED) {
        row->status = STUDY_OK;
    }
}

/* ---------------------------------------------------------------- the table on rank 0 */

typedef struct {
    const char *dir;
    const study *s;
    const study_fixed *fx;
    study_row *rows;     /* [n_trials] indexed by trial id; PENDING = not run or running */
    uint8_t *known;      /* [n_trials] 1: a PENDING row's settings are fixed (a failed TPE trial rerun) */
    uint32_t n_trials;
    uint32_t *todo, n_todo, next;  /* trial ids to hand out, in order */
    uint32_t *running, n_running;  /* [ranks] trials handed out and not finished */
    study_trial *pend;   /* [ranks] their settings, for a TPE proposal */
    uint32_t done, failed, pruned;
    int threads, quiet, io_rc;
    int stopped;         /* workers told to stop */
    int comm_rc;         /* a failed send or receive: stop waiting for workers */
    char *msg;           /* receive buffer (MPI) */
    size_t msg_cap;
    double t_start;
} master;

static int write_side(const char *dir, uint32_t id, const trial_out *o) {
    for (int i = 0; i < 3; i++) {
        char p[4096], tmp[4200];
        snprintf(p, sizeof p, "%s/trials/%04u.%s", dir, id, side_ext[i]);
        FILE *f;
        int rc = replace_fopen(p, tmp, sizeof tmp, &f);
        if (rc) return rc;
        const int bad = o->len[i] && fwrite(o->txt[i], 1, o->len[i], f) != o->len[i];
        if ((rc = replace_fclose(f, tmp, p, bad))) return rc;
    }
    return 0;
}

static int write_tables(master *M) {
    char p[4096];
    snprintf(p, sizeof p, "%s/study.csv", M->dir);
    int rc = study_write_csv(p, M->rows, M->n_trials);
    snprintf(p, sizeof p, "%s/study.h5", M->dir);
    if (!rc) rc = study_write_h5(p, M->rows, M->n_trials);
    return rc;
}

/* The next trial to run, decided now: a TPE proposal sees the rows finished so far and
 * the trials still running (study_propose), the median rule the same finished rows. A
 * proposal that fails (no memory) becomes a failed row. 0 when nothing is left. */
static void record(master *M, const study_row *r, const trial_out *o, int rank);

static int next_job(master *M, job *jb) {
    while (M->next < M->n_todo && !M->io_rc) {
        const uint32_t id = M->todo[M->next++];
        memset(jb, 0, sizeof *jb);
        int rc = 0;
        if (M->known[id]) {
            jb->t = M->rows[id].t;
        } else {
            for (uint32_t i = 0; i < M->n_running; i++) M->pend[i] = M->rows[M->running[i]].t;
            rc = study_propose(M->s, id, M->rows, M->n_trials, M->pend, M->n_running, &jb->t);
        }
        if (rc) {
            study_row r;
            trial_out o;
            memset(&r, 0, sizeof r);
            memset(&o, 0, sizeof o);
            r.t.id = id;
            r.status = STUDY_FAILED;
            snprintf(r.error, sizeof r.error, "%s", evsnn_errmsg());
            record(M, &r, &o, 0);
            continue;
        }
        M->rows[id].t = jb->t;
        M->running[M->n_running++] = id;
        study_prune_medians(M->s, &jb->t, M->rows, M->n_trials, jb->med);
        return 1;
    }
    return 0;
}

static void emit_row(const study_row *r, int rank) {
    json_t *o = json_object();
    jset(o, "trial", jint(r->t.id));
    jset(o, "status", jstr(study_status_name(r->status)));
    jset(o, "rank", jint(rank));
    jset(o, "variant", r->t.variant[0] ? jstr(r->t.variant) : json_null());
    jset(o, "surrogate", jstr(r->t.surrogate));
    jset(o, "slope", jnum(r->t.slope));
    jset(o, "beta", jnum(r->t.beta));
    jset(o, "theta", jnum(r->t.theta));
    jset(o, "threshold", jstr(r->t.threshold));
    jset(o, "binarize", json_boolean(r->t.binarize));
    jset(o, "accuracy", jnum(r->status != STUDY_FAILED ? r->accuracy : NAN)); /* pruned: at the stop */
    jset(o, "latency_us", jnum(r->status == STUDY_OK ? r->latency_us : NAN));
    jset(o, "fps_per_w", jnum(r->status == STUDY_OK ? r->fps_per_w : NAN));
    jset(o, "objective", jnum(r->objective));
    jset(o, "lr", jnum(r->t.lr));
    jset(o, "batch", jint(r->t.batch));
    jset(o, "epochs", jint(r->epochs));
    jset(o, "train_s", jnum(r->train_s));
    if (r->status == STUDY_FAILED) jset(o, "error", jstr(r->error));
    jprint(stdout, o);
}

/* Record one finished trial (from any rank): table row, side files, progress. */
static void record(master *M, const study_row *r, const trial_out *o, int rank) {
    if (r->t.id >= M->n_trials) return;
    for (uint32_t i = 0; i < M->n_running; i++)
        if (M->running[i] == r->t.id) {
            M->running[i] = M->running[--M->n_running];
            break;
        }
    study_row *w = &M->rows[r->t.id];
    *w = *r;
    w->objective = study_objective(M->s, w);
    M->done++;
    M->failed += r->status == STUDY_FAILED;
    M->pruned += r->status == STUDY_PRUNED;
    int rc = write_side(M->dir, r->t.id, o);
    if (!rc) rc = write_tables(M);
    if (rc && !M->io_rc) {
        M->io_rc = rc;
        fprintf(stderr, "evsnn sweep: %s\n", evsnn_errmsg());
    }
    emit_row(w, rank);
    if (!M->quiet)
        fprintf(stderr, "evsnn sweep: trial %u %s on rank %d (%u/%u this run, %.0f s)\n", r->t.id,
                study_status_name(r->status), rank, M->done, M->n_todo, evsnn_now_s() - M->t_start);
}

/* Result message: the row, three lengths, then the three texts. */
static int send_result(const study_row *r, const trial_out *o) {
    const size_t n = sizeof *r + 3 * sizeof(uint64_t) + o->len[0] + o->len[1] + o->len[2];
    char *b = malloc(n), *p = b;
    if (!b) return evsnn_seterr(EVSNN_ENOMEM, "no memory for a result message");
    memcpy(p, r, sizeof *r);
    p += sizeof *r;
    for (int i = 0; i < 3; i++) {
        uint64_t l = o->len[i];
        memcpy(p, &l, sizeof l);
        p += sizeof l;
    }
    for (int i = 0; i < 3; i++) {
        if (o->len[i]) memcpy(p, o->txt[i], o->len[i]);
        p += o->len[i];
    }
    int rc = comm_send(0, TAG_REQ, b, n);
    free(b);
    return rc;
}

static int unpack_result(const char *b, size_t n, study_row *r, trial_out *o) {
    memset(o, 0, sizeof *o);
    if (n < sizeof *r + 3 * sizeof(uint64_t)) return -1;
    memcpy(r, b, sizeof *r);
    const char *p = b + sizeof *r;
    uint64_t l[3];
    memcpy(l, p, sizeof l);
    p += sizeof l;
    if (l[0] + l[1] + l[2] != n - sizeof *r - sizeof l) return -1;
    for (int i = 0; i < 3; i++) {
        o->txt[i] = malloc(l[i] + 1);
        if (!o->txt[i]) return -1;
        memcpy(o->txt[i], p, l[i]);
        o->len[i] = l[i];
        p += l[i];
    }
    return 0;
}

/* Answer one request (a result, or empty for a worker's first request). */
static void serve_one(master *M, int blocking) {
    int from, tag;
    if (!blocking && !comm_probe(COMM_ANY, TAG_REQ, &from, &tag)) return;
    size_t len = 0;
    for (;;) {
        int rc = comm_recv(COMM_ANY, TAG_REQ, M->msg, M->msg_cap, &from, &tag, &len);
        if (rc == EVSNN_ERANGE) { /* grow and receive again (the message is still queued) */
            char *nb = realloc(M->msg, M->msg_cap * 4);
            if (!nb) { M->io_rc = M->comm_rc = EVSNN_ENOMEM; return; }
            M->msg = nb;
            M->msg_cap *= 4;
            continue;
        }
        if (rc) { M->io_rc = M->comm_rc = rc; return; }
        break;
    }
    if (len > 0) {
        study_row r;
        trial_out o;
        if (unpack_result(M->msg, len, &r, &o)) fprintf(stderr, "evsnn sweep: malformed result from rank %d ignored\n", from);
        else record(M, &r, &o, from);
        trial_out_free(&o);
    }
    job jb;
    if (next_job(M, &jb)) {
        comm_send(from, TAG_GO, &jb, sizeof jb);
    } else {
        comm_send(from, TAG_STOP, NULL, 0);
        M->stopped++;
    }
}

static void serve_pending(void *arg) {
    master *M = arg;
    if (comm_size() > 1)
        while (comm_probe(COMM_ANY, TAG_REQ, NULL, NULL)) serve_one(M, 0);
}

static int worker_loop(const study *s, int threads) {
    study_row r;
    trial_out o;
    memset(&o, 0, sizeof o);
    job *jb = malloc(sizeof *jb);
    int rc = jb ? comm_send(0, TAG_REQ, NULL, 0) : evsnn_seterr(EVSNN_ENOMEM, "no memory");
    while (!rc) {
        int tag;
        size_t len;
        if ((rc = comm_recv(0, COMM_ANY, jb, sizeof *jb, NULL, &tag, &len))) break;
        if (tag == TAG_STOP) break;
        if (len != sizeof *jb) {
            rc = evsnn_seterr(EVSNN_EFORMAT, "a trial message of %zu bytes, expected %zu", len, sizeof *jb);
            break;
        }
        run_trial(s, jb, threads, &r, &o, NULL, NULL);
        rc = send_result(&r, &o);
        trial_out_free(&o);
    }
    free(jb);
    if (rc) fprintf(stderr, "evsnn sweep (rank %d): %s\n", comm_rank(), evsnn_errmsg());
    return rc ? 1 : 0;
}

static int mkdir_p(const char *d) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", d);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0755) && errno != EEXIST) return -1;
            *p = '/';
        }
    return mkdir(buf, 0755) && errno != EEXIST ? -1 : 0;
}

/* --list: the trials' ids and keys (TPE: the random start only), one JSON line each. */
static void list_trials(const study *s, uint32_t N) {
    const int tpe = study_search_kind(s) == STUDY_TPE;
    /* TPE: only the first trials are known before any result (the random start) */
    uint32_t NL = N;
    if (tpe && NL > study_tpe_startup(s)) NL = study_tpe_startup(s);
    if (tpe)
        fprintf(stderr, "evsnn sweep: %s: trials 0..%u are random draws; the other %u are proposed from results\n",
                study_name(s), NL ? NL - 1 : 0, N - NL);
    for (uint32_t i = 0; i < NL; i++) {
        study_trial t;
        study_trial_get(s, i, &t);
        json_t *o = json_object();
        jset(o, "trial", jint(i));
        jset(o, "key", jstr(t.key));
        jprint(stdout, o);
    }
}

/* Resume: keep rows of csv whose id and settings still match the study (TPE: whose
 * settings lie in its search space); the search then continues from them. Failed rows are
 * run again with retry. The trials left go to M->todo. 0 (*kept set) or an error. */
static int resume_rows(master *M, const char *csv, int retry, uint32_t *kept_out) {
    study_row *old = NULL;
    uint32_t n_old = 0, kept = 0;
    const study *s = M->s;
    const uint32_t N = M->n_trials;
    if (study_read_csv(csv, &old, &n_old)) {
        return -1;
    }
    for (uint32_t i = 0; i < n_old; i++) {
        const study_row *r = &old[i];
        study_trial t;
        if (r->t.id >= N || M->rows[r->t.id].status != STUDY_PENDING || study_trial_check(s, r->t.id, &r->t, &t)) continue;
        if (r->status == STUDY_FAILED && retry) { /* rerun with the same settings */
            M->rows[r->t.id].t = t;
            M->known[r->t.id] = 1;
            continue;
        }
        M->rows[r->t.id] = *r;
        M->rows[r->t.id].t = t;
        M->rows[r->t.id].objective = study_objective(s, &M->rows[r->t.id]); /* the study's objective now */
        kept++;
    }
    free(old);
    for (uint32_t i = 0; i < N; i++)
        if (M->rows[i].status == STUDY_PENDING) M->todo[M->n_todo++] = i;
    *kept_out = kept;
    return 0;
}

/* The closing line: what ran, failed and was skipped, and the best trial by the objective. */
static void print_done(const master *M, const study *s, uint32_t N, int size, const char *csv) {
    json_t *o = json_object();
    jset(o, "done", json_true());
    jset(o, "study", jstr(study_name(s)));
    jset(o, "trials", jint(N));
    jset(o, "ran", jint(M->done));
    jset(o, "failed", jint(M->failed));
    jset(o, "skipped", jint(N - M->n_todo));
    jset(o, "ranks", jint(size));
    jset(o, "seconds", jnum(evsnn_now_s() - M->t_start));
    jset(o, "pruned", jint(M->pruned));
    /* the best ok trial of the whole table by the objective (ties: the lower id) */
    const int mx = study_maximize(s);
    uint32_t best = N;
    for (uint32_t i = 0; i < N; i++) {
        const double v = M->rows[i].status == STUDY_OK ? M->rows[i].objective : NAN;
        if (!isnan(v) && (best == N || (mx ? v > M->rows[best].objective : v < M->rows[best].objective))) best = i;
    }
    jset(o, "objective", jstr(study_objective_name(s)));
    if (best < N) {
        json_t *b = json_object();
        jset(b, "trial", jint(best));
        jset(b, "value", jnum(M->rows[best].objective));
        jset(b, "key", jstr(M->rows[best].t.key));
        jset(o, "best", b);
    } else jset(o, "best", json_null());
    jset(o, "table", jstr(csv));
    jprint(stdout, o);
}

/* What the command line says (sweep_parse). */
typedef struct {
    const char *dir, *file;
    long budget, threads;
    int retry, list, quiet, search;
} sweep_args;

/* The options into *A: -1 to go on, else the exit status (help: 0, bad usage: 2). */
static int sweep_parse(int argc, char **argv, sweep_args *A) {
    enum { O_BUDGET = 1, O_RETRY, O_THREADS, O_LIST, O_QUIET, O_SEARCH };
    static const struct option opts[] = {{"output", required_argument, 0, 'o'}, {"budget", required_argument, 0, O_BUDGET},
                                         {"retry-failed", no_argument, 0, O_RETRY}, {"threads", required_argument, 0, O_THREADS},
                                         {"list", no_argument, 0, O_LIST}, {"quiet", no_argument, 0, O_QUIET},
                                         {"search", required_argument, 0, O_SEARCH},
                                         {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *dir = NULL;
    long budget = 0, threads = -1;
    int retry = 0, list = 0, quiet = 0, c, search = -1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'o': dir = optarg; break;
        case O_BUDGET:
            errno = 0;
            budget = strtol(optarg, &end, 10);
            if (!*optarg || *end || errno || budget < 1) {
                fprintf(stderr, "evsnn sweep: --budget '%s': expected an integer >= 1\n", optarg);
                return 2;
            }
            break;
        case O_THREADS:
            errno = 0;
            threads = strtol(optarg, &end, 10);
            if (!*optarg || *end || errno || threads < 0 || threads > 1024) {
                fprintf(stderr, "evsnn sweep: --threads '%s': expected an integer in [0, 1024]\n", optarg);
                return 2;
            }
            break;
        case O_SEARCH:
            search = !strcmp(optarg, "random") ? STUDY_RANDOM : !strcmp(optarg, "tpe") ? STUDY_TPE : -1;
            if (search < 0) {
                fprintf(stderr, "evsnn sweep: --search '%s': expected random or tpe\n", optarg);
                return 2;
            }
            break;
        case O_RETRY: retry = 1; break;
        case O_LIST: list = 1; break;
        case O_QUIET: quiet = 1; break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fputs(usage_text, stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "evsnn sweep: expected one study file (see 'evsnn sweep --help')\n");
        return 2;
    }
    if (!dir && !list) {
        fprintf(stderr, "evsnn sweep: -o DIR is required\n");
        return 2;
    }
    *A = (sweep_args){.dir = dir, .file = argv[optind], .budget = budget, .threads = threads, .retry = retry, .list = list,
                      .quiet = quiet, .search = search};
    return -1;
}

int cmd_sweep(int argc, char **argv) {
    sweep_args A;
    int prc = sweep_parse(argc, argv, &A);
    if (prc >= 0) return prc;
    const char *dir = A.dir;
    long budget = A.budget, threads = A.threads;
    const int retry = A.retry, list = A.list, quiet = A.quiet, search = A.search;
    int err;
    study *s = study_load(A.file, &err);
    if (!s) {
        fprintf(stderr, "evsnn sweep: %s\n", evsnn_errmsg());
        return 2;
    }
    if (search >= 0 && study_set_search(s, (study_search)search)) {
        fprintf(stderr, "evsnn sweep: --search: %s\n", evsnn_errmsg());
        study_free(s);
        return 2;
    }
    uint32_t N = study_n_trials(s);
    if (budget && (uint32_t)budget < N) N = (uint32_t)budget;
    if (list) {
        list_trials(s, N);
        study_free(s);
        return 0;
    }
    if (comm_init(NULL, NULL)) {
        fprintf(stderr, "evsnn sweep: %s\n", evsnn_errmsg());
        study_free(s);
        return 1;
    }
    const int rank = comm_rank(), size = comm_size();
    if (threads < 0) threads = size > 1 ? 1 : 0;
    int status = 0;
    if (rank != 0) {
        status = worker_loop(s, (int)threads);
        study_free(s);
        comm_finalize();
        return status;
    }

    master M;
    memset(&M, 0, sizeof M);
    M.dir = dir;
    M.s = s;
    M.fx = study_fixed_settings(s);
    M.n_trials = N;
    M.threads = (int)threads;
    M.quiet = quiet;
    M.t_start = evsnn_now_s();
    M.msg_cap = 1 << 16;
    M.msg = malloc(M.msg_cap);
    M.rows = calloc(N ? N : 1, sizeof *M.rows);
    M.known = calloc(N ? N : 1, 1);
    M.todo = calloc(N ? N : 1, sizeof *M.todo);
    M.running = calloc((size_t)size, sizeof *M.running);
    M.pend = calloc((size_t)size, sizeof *M.pend);
    char tdir[4096];
    snprintf(tdir, sizeof tdir, "%s/trials", dir);
    if (!M.msg || !M.rows || !M.known || !M.todo || !M.running || !M.pend) {
        fprintf(stderr, "evsnn sweep: out of memory\n");
        status = 1;
        goto stop_workers;
    }
    if (mkdir_p(dir) || mkdir_p(tdir)) {
        fprintf(stderr, "evsnn sweep: cannot create %s: %s\n", tdir, strerror(errno));
        status = 1;
        goto stop_workers;
    }
    /* A run killed mid-write left its temporaries (replace.h): they go before the resume. */
    replace_sweep_stale(dir);
    replace_sweep_stale(tdir);
    /* Resume: keep rows whose id and settings still match the study (TPE: whose settings
     * lie in its search space); the search then continues from them. */
    char csv[4096];
    snprintf(csv, sizeof csv, "%s/study.csv", dir);
    uint32_t kept = 0;
    if (resume_rows(&M, csv, retry, &kept)) {
        fprintf(stderr, "evsnn sweep: %s\n", evsnn_errmsg());
        status = 2;
        goto stop_workers;
    }
    if (!quiet)
        fprintf(stderr, "evsnn sweep: %s: %u trials, %u done before, %u to run on %d rank%s\n", study_name(s), N, kept,
                M.n_todo, size, size > 1 ? "s" : "");
    if (kept && write_tables(&M)) { /* the table holds exactly the kept rows from now on */
        fprintf(stderr, "evsnn sweep: %s\n", evsnn_errmsg());
        status = 1;
        goto stop_workers;
    }
    /* Rank 0 works too, answering requests between its own training steps. */
    job *jb = malloc(sizeof *jb);
    while (jb && next_job(&M, jb)) {
        study_row r;
        trial_out o;
        run_trial(s, jb, M.threads, &r, &o, serve_pending, &M);
        record(&M, &r, &o, 0);
        trial_out_free(&o);
        serve_pending(&M);
    }
    if (!jb) {
        fprintf(stderr, "evsnn sweep: out of memory\n");
        status = 1;
    }
    free(jb);
stop_workers:
    if (status || M.io_rc) M.next = M.n_todo; /* hand out nothing more */
    while (size > 1 && M.stopped < size - 1) {
        serve_one(&M, 1);
        if (M.comm_rc) {
            fprintf(stderr, "evsnn sweep: %s\n", evsnn_errmsg());
            break;
        }
    }
    if (!status && M.io_rc) status = 1;
    if (!status) print_done(&M, s, N, size, csv);
    free(M.msg);
    free(M.rows);
    free(M.known);
    free(M.todo);
    free(M.running);
    free(M.pend);
    study_free(s);
    comm_finalize();
    return status;
}
