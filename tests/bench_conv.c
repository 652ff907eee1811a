/* tests/bench_conv.c — `make bench`: training and inference of the papers' convolutional
 * networks, each workload one JSON line with samples/s and its ratio to the snnTorch figure
 * recorded for it. The snnTorch figures are not measured by this run: they are the
 * side-by-side measurements recorded in the project's issue on convolution speed (snnTorch
 * 0.9.4 on torch 1.13, oneDNN convolutions, OpenBLAS, 2 threads, on this 2-core machine
 * class), printed as a reference with that source.
 *
 *   fmnist  seed 004's 16C5-AP2-64C5-AP2-1024-10 on 1x28x28 Fashion-MNIST images from the
 *           Debian package dataset-fashion-mnist (direct input, pixels / 255), binarized,
 *           with `make demo`'s settings: β 0.99, θ annealed 10→12, 30→40, 40→40, fast
 *           sigmoid k = 0.5, Adam 1e-3, latent clamp 1; T ∈ {25, 100}, batch ∈ {32, 128},
 *           exact gradients and with the surrogate truncated at FMNIST_EPS
 *   W2      16C5-AP2-32C5-AP2-800-11 on 2x32x32, Bernoulli p = 0.05, T = 100, batch 8
 *   W3      32C3-P2-32C3-MP2-256-10 on 3x32x32, static U(0,1), T = 25, batch 32
 * Training: the mean of timed optimizer steps after one warm-up step (fresh batches each);
 * inference: sim_run_batch, best of three. Peak RSS is printed with every line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "io/dataset.h"
#include "sim/engine.h"
#include "sim/evsnn.h"
#include "sim/rng.h"
#include "sim/synth.h"
#include "sim/train.h"
#include "tests/benchjson.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* The truncation measured on Fashion-MNIST (sim/TRAINING.md, surrogate truncation): the
 * largest tested eps whose accuracy cost is within half a point (-0.14 points, 3 seeds;
 * 0.005 cost 1.8). */
#define FMNIST_EPS 0.002f

static const char *SNNTORCH_SOURCE = "recorded reference (issue: convolutions at the speed of their events), not measured here";

static double peak_rss_mib(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

static int threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

static net *build(const char *arch, uint32_t c, uint32_t h, uint32_t w, float beta) {
    neuron_cfg nc = net_default_neuron();
    nc.beta = beta;
    net_opts o = {.cfg = &nc, .n_cfg = 1};
    int err;
    net *n = net_build(arch, c, h, w, &o, &err);
    if (!n) { fprintf(stderr, "bench_conv: %s\n", evsnn_errmsg()); exit(1); }
    net_init_params(n, 1);
    return n;
}

/* The snnTorch reference beside a line's samples/s: its range and our ratio to each end, or
 * null where no figure was recorded. */
static void set_ref(json_t *o, double sps, double lo, double hi) {
    if (lo > 0) {
        const double ref[2] = {lo, hi}, vs[2] = {sps / hi, sps / lo};
        jset(o, "snntorch_samples_per_s", jdbls(ref, 2));
        jset(o, "snntorch_source", jstr(SNNTORCH_SOURCE));
        jset(o, "vs_snntorch", jdbls(vs, 2));
    } else
        jset(o, "snntorch_samples_per_s", json_null());
}

/* The last two keys of every line. */
static void set_rss_threads(json_t *o) {
    jset(o, "peak_rss_mib", jnum(peak_rss_mib()));
    jset(o, "threads", jint(threads()));
}

static int cmp_dbl(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Timed training steps over nb batches of B samples taken in turn from in[0..n): one warm-up
 * step, then the median of nb timed steps (a step's cost drifts little over a few
 * steps; the median keeps one disturbed step on this shared machine out of the figure).
 * st: the last step's statistics. */
static double time_steps(trainer *tr, const sim_input *in, const uint32_t *lab, uint32_t n, uint32_t B, uint32_t nb,
                         train_stats *st) {
    uint32_t pos = 0;
    memset(st, 0, sizeof *st);
    if (trainer_step(tr, in, lab, NULL, B, st)) { fprintf(stderr, "bench_conv: %s\n", evsnn_errmsg()); exit(1); }
    pos = B % n;
    double *dt = malloc(nb * sizeof *dt);
    for (uint32_t k = 0; k < nb; k++) {
        memset(st, 0, sizeof *st);
        if (pos + B > n) pos = 0;
        const double t0 = evsnn_now_s();
        if (trainer_step(tr, in + pos, lab + pos, NULL, B, st)) {
            fprintf(stderr, "bench_conv: %s\n", evsnn_errmsg());
            exit(1);
        }
        dt[k] = evsnn_now_s() - t0;
        pos += B;
    }
    qsort(dt, nb, sizeof *dt, cmp_dbl);
    const double med = nb % 2 ? dt[nb / 2] : (dt[nb / 2 - 1] + dt[nb / 2]) / 2;
    free(dt);
    return med;
}

/* Timed steps for about a quarter of a second of a step of T x B sample-steps. */
static uint32_t steps_for(uint32_t T, uint32_t B) { return T * B <= 800 ? 15 : T * B <= 3200 ? 5 : 3; }

static void fmnist(const char *path, uint32_t T, uint32_t B, float eps, double ref_lo, double ref_hi) {
    enum { N = 512 };
    ds_opts o;
    ds_opts_default(&o);
    o.T = T;
    o.split = DS_SPLIT_TRAIN;
    o.count = N;
    int err;
    dataset *d = ds_open(path, &o, &err);
    if (!d) { fprintf(stderr, "bench_conv: %s\n", evsnn_errmsg()); exit(1); }
    float *xs = malloc((size_t)N * 784 * sizeof *xs);
    sim_input *in = calloc(N, sizeof *in);
    uint32_t *lab = malloc(N * sizeof *lab);
    ds_sample smp;
    memset(&smp, 0, sizeof smp);
    for (uint32_t i = 0; i < N; i++) {
        if (ds_get(d, i, &smp) || !smp.static_x) { fprintf(stderr, "bench_conv: %s: sample %u\n", path, i); exit(1); }
        memcpy(xs + (size_t)i * 784, smp.static_x, 784 * sizeof *xs);
        in[i] = (sim_input){.static_x = xs + (size_t)i * 784, .T = T};
        lab[i] = (uint32_t)smp.label;
    }
    ds_sample_deinit(&smp);
    ds_free(d);
    net *n = build("16C5-AP2-64C5-AP2-1024-10", 1, 28, 28, 0.99f);
    train_cfg c = train_defaults();
    c.sg = sg_default(SG_FAST_SIGMOID);
    c.sg.a = 0.5f;
    c.sg.eps = eps;
    c.binarize = 1;
    c.latent_clamp = 1.0f;
    c.n_tha = 3;
    const float t0[3] = {10, 30, 40}, ti[3] = {12, 40, 40}, al[3] = {0.02f, 0.02f, 0.1f};
    memcpy(c.tha_theta0, t0, sizeof t0);
    memcpy(c.tha_theta_inf, ti, sizeof ti);
    memcpy(c.tha_alpha, al, sizeof al);
    trainer *tr = trainer_create(n, &c, T, &err);
    if (!tr) { fprintf(stderr, "bench_conv: %s\n", evsnn_errmsg()); exit(1); }
    train_stats st;
    const char *steps = getenv("BENCH_STEPS"); /* profiling: more timed steps */
    const uint32_t nb = steps ? (uint32_t)atoi(steps) : steps_for(T, B);
    const double dt = time_steps(tr, in, lab, N, B, nb, &st);
    const double sps = B / dt;
    json_t *j = bench_doc("conv_train");
    jset(j, "workload", jstr("fmnist"));
    jset(j, "arch", jstr("16C5-AP2-64C5-AP2-1024-10"));
    jset(j, "binarized", json_true());
    jset(j, "T", jint(T));
    jset(j, "batch", jint(B));
    jset(j, "surrogate_eps", jnum(eps));
    jset(j, "step_s", jnum(dt));
    jset(j, "samples_per_s", jnum(sps));
    set_ref(j, sps, ref_lo, ref_hi);
    const double rates[2] = {(double)st.spikes[0] / ((double)st.neurons[0] * T),
                             (double)st.spikes[1] / ((double)st.neurons[1] * T)};
    jset(j, "hidden_rates", jdbls(rates, 2));
    set_rss_threads(j);
    bench_emit(j);
    trainer_free(tr);
    net_free(n);
    free(xs);
    free(in);
    free(lab);
}

typedef struct {
    const char *name, *arch;
    uint32_t c, h, w, T, B, classes;
    double p; /* < 0: static U(0, 1) */
    double train_lo, train_hi, inf_lo, inf_hi;
} workload;

static void conv_workload(const workload *wl) {
    enum { NS = 64 };
    net *n = build(wl->arch, wl->c, wl->h, wl->w, 0.95f);
    spk_train *tr = calloc(NS, sizeof *tr);
    float *xs = malloc((size_t)NS * n->n_in * sizeof *xs);
    sim_input *in = calloc(NS, sizeof *in);
    uint32_t *lab = malloc(NS * sizeof *lab);
    for (uint32_t b = 0; b < NS; b++) {
        if (wl->p < 0) {
            synth_uniform(xs + (size_t)b * n->n_in, n->n_in, rng_stream(7, b));
            in[b] = (sim_input){.static_x = xs + (size_t)b * n->n_in, .T = wl->T};
        } else {
            if (synth_bernoulli(&tr[b], wl->T, n->n_in, wl->p, rng_stream(7, b))) exit(1);
            in[b] = (sim_input){.train = &tr[b], .T = wl->T};
        }
        lab[b] = b % wl->classes;
    }
    /* Inference: best of three batches. */
    sim_result *res = calloc(wl->B, sizeof *res);
    for (uint32_t b = 0; b < wl->B; b++) sim_result_init(&res[b], n, wl->T, 0);
    double best = 1e30;
    for (int r = 0; r < 3; r++) {
        const double t0 = evsnn_now_s();
        if (sim_run_batch(n, in, wl->B, res, 0)) { fprintf(stderr, "bench_conv: %s\n", evsnn_errmsg()); exit(1); }
        const double dt = evsnn_now_s() - t0;
        if (dt < best) best = dt;
    }
    for (uint32_t b = 0; b < wl->B; b++) sim_result_deinit(&res[b]);
    free(res);
    double sps = wl->B / best;
    json_t *o = bench_doc("conv_inference");
    jset(o, "workload", jstr(wl->name));
    jset(o, "arch", jstr(wl->arch));
    jset(o, "T", jint(wl->T));
    jset(o, "batch", jint(wl->B));
    jset(o, "samples_per_s", jnum(sps));
    set_ref(o, sps, wl->inf_lo, wl->inf_hi);
    set_rss_threads(o);
    bench_emit(o);
    /* Training: float weights, the defaults (fast sigmoid k = 25, mse_count, Adam 1e-3). */
    train_cfg c = train_defaults();
    int err;
    trainer *t = trainer_create(n, &c, wl->T, &err);
    if (!t) { fprintf(stderr, "bench_conv: %s\n", evsnn_errmsg()); exit(1); }
    train_stats st;
    const char *steps = getenv("BENCH_STEPS"); /* profiling: more timed steps */
    const double dt = time_steps(t, in, lab, NS, wl->B, steps ? (uint32_t)atoi(steps) : steps_for(wl->T, wl->B), &st);
    sps = wl->B / dt;
    o = bench_doc("conv_train");
    jset(o, "workload", jstr(wl->name));
    jset(o, "arch", jstr(wl->arch));
    jset(o, "T", jint(wl->T));
    jset(o, "batch", jint(wl->B));
    jset(o, "step_s", jnum(dt));
    jset(o, "samples_per_s", jnum(sps));
    set_ref(o, sps, wl->train_lo, wl->train_hi);
    set_rss_threads(o);
    bench_emit(o);
    trainer_free(t);
    for (uint32_t b = 0; b < NS; b++) spk_deinit(&tr[b]);
    free(tr);
    free(xs);
    free(in);
    free(lab);
    net_free(n);
}

int main(int argc, char **argv) {
    const char *only = argc > 1 ? argv[1] : NULL; /* a workload name, e.g. "fmnist" or "W2" */
    const workload wls[] = {
        {"W2", "16C5-AP2-32C5-AP2-800-11", 2, 32, 32, 100, 8, 11, 0.05, 62, 74, 116, 116},
        {"W3", "32C3-P2-32C3-MP2-256-10", 3, 32, 32, 25, 32, 10, -1, 66, 88, 115, 150},
    };
    for (unsigned i = 0; i < sizeof wls / sizeof *wls; i++)
        if (!only || !strcmp(only, wls[i].name)) conv_workload(&wls[i]);
    if (only && strcmp(only, "fmnist")) return 0;
    const char *path = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
    FILE *f = fopen(path, "rb");
    if (!f) {
        char why[512];
        snprintf(why, sizeof why, "%s is absent (Debian package dataset-fashion-mnist, installed by make deps)", path);
        json_t *o = bench_doc("conv_train");
        jset(o, "workload", jstr("fmnist"));
        jset(o, "skipped", jstr(why));
        bench_emit(o);
        return 0;
    }
    fclose(f);
    if (only && argc == 5) { /* bench_conv fmnist T B EPS: one configuration (profiling) */
        fmnist(path, (uint32_t)atoi(argv[2]), (uint32_t)atoi(argv[3]), (float)atof(argv[4]), 0, 0);
        return 0;
    }
    const float eps[2] = {0.0f, FMNIST_EPS};
    for (int e = 0; e < 2; e++) {
        /* snnTorch has no truncation: its figure is that of the same training without it */
        fmnist(path, 25, 32, eps[e], 230, 462);
        fmnist(path, 25, 128, eps[e], 0, 0);
        fmnist(path, 100, 32, eps[e], 49, 66);
        fmnist(path, 100, 128, eps[e], 0, 0);
    }
    return 0;
}
