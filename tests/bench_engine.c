/* tests/bench_engine.c — `make bench`: the engine's workloads, one JSON line each.
 *
 *   W1  700-3000-20, T = 100, β = 0.95, θ = 1, Bernoulli input p ∈ {0.01, 0.05, 0.2}, batch 32
 *   W2  16C5-AP2-32C5-AP2-800-11 on 2x32x32, T = 100, p ∈ {0.01, 0.05}, batch 8
 *   W3  32C3-P2-32C3-MP2-256-10 on 3x32x32, static (direct) input U(0,1), T = 25, batch 32
 *
 * Each workload runs in a forked child (so its peak RSS is its own) and is timed as the
 * best of several repetitions (the machine is shared; the minimum is the least disturbed).
 * In the same run: the clock-driven dense reference engine's samples/s on the same inputs,
 * and a memory-bandwidth roofline: a streaming add over arrays larger than the caches gives
 * bytes/s; one synaptic event reads one 4-byte weight, so the roofline is bandwidth / 4
 * synaptic events/s, and the fraction of it the engine reaches is printed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "sim/engine.h"
#include "sim/evsnn.h"
#include "sim/rng.h"
#include "sim/synth.h"
#include "kernels/lif.h"
#include "kernels/scatter.h"
#include "tests/benchjson.h"

/* Streaming add c = a + b over three 512 MiB arrays (well past the last-level cache), on
 * every core: bytes moved / s, best of 3. */
static double stream_bandwidth(void) {
    size_t n = (size_t)128 << 20; /* floats per array: 512 MiB */
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *c = malloc(n * sizeof *c);
    if (!a || !b || !c) { free(a); free(b); free(c); return 0; }
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) { a[i] = 1.0f; b[i] = 2.0f; c[i] = 0.0f; }
    double best = 1e30;
    for (int r = 0; r < 3; r++) {
        double t0 = evsnn_now_s();
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) c[i] = a[i] + b[i];
        double dt = evsnn_now_s() - t0;
        if (dt < best) best = dt;
    }
    volatile float sink = c[n / 2];
    (void)sink;
    free(a); free(b); free(c);
    return 3.0 * n * sizeof(float) / best;
}

typedef struct {
    const char *name, *arch, *shape;
    uint32_t T, B;
    double p;    /* < 0: static direct input */
    int reps;
} workload;

static void run_workload(const workload *w, double bw) {
    int err;
    neuron_cfg nc = net_default_neuron(); /* β = 0.95, θ = 1, subtract */
    net_opts o = {.cfg = &nc, .n_cfg = 1};
    uint32_t c = 0, h = 0, ww = 0;
    if (w->shape) net_parse_shape(w->shape, &c, &h, &ww);
    net *n = net_build(w->arch, c, h, ww, &o, &err);
    if (!n) { fprintf(stderr, "bench: %s\n", evsnn_errmsg()); exit(1); }
    net_init_params(n, 1);
    uint32_t B = w->B, T = w->T;
    spk_train *tr = calloc(B, sizeof *tr);
    float *xs = malloc((size_t)B * n->n_in * sizeof *xs);
    sim_input *in = calloc(B, sizeof *in);
    sim_result *res = calloc(B, sizeof *res);
    for (uint32_t b = 0; b < B; b++) {
        if (w->p < 0) {
            synth_uniform(xs + (size_t)b * n->n_in, n->n_in, rng_stream(7, b));
            in[b] = (sim_input){.static_x = xs + (size_t)b * n->n_in, .T = T};
        } else {
            synth_bernoulli(&tr[b], T, n->n_in, w->p, rng_stream(7, b));
            in[b] = (sim_input){.train = &tr[b], .T = T};
        }
        sim_result_init(&res[b], n, T, 0);
    }
    double best = 1e30;
    for (int r = 0; r < w->reps; r++) {
        double t0 = evsnn_now_s();
        if (sim_run_batch(n, in, B, res, 0)) { fprintf(stderr, "bench: %s\n", evsnn_errmsg()); exit(1); }
        double dt = evsnn_now_s() - t0;
        if (dt < best) best = dt;
    }
    uint64_t syn = 0, spikes = 0;
    for (uint32_t b = 0; b < B; b++)
        for (uint32_t l = 0; l < n->n_layers; l++) { syn += res[b].st[l].syn_events; spikes += res[b].st[l].spikes; }
    /* Dense reference on a few samples (it is slow by design), both cores. */
    uint32_t Br = B < 4 ? B : 4;
    sim_result *rr = calloc(Br, sizeof *rr);
    for (uint32_t b = 0; b < Br; b++) sim_result_init(&rr[b], n, T, 0);
    double t0 = evsnn_now_s();
#pragma omp parallel for schedule(dynamic, 1)
    for (uint32_t b = 0; b < Br; b++) ref_run(n, &in[b], &rr[b]);
    double ref_dt = evsnn_now_s() - t0;
    int agree = 1;
    for (uint32_t b = 0; b < Br; b++) {
        uint32_t lo = n->n_layers - 1;
        agree &= rr[b].out[lo].nnz == res[b].out[lo].nnz;
        sim_result_deinit(&rr[b]);
    }
    free(rr);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double sps = B / best, evs = syn / best, roof = bw / 4.0;
    json_t *j = bench_doc("engine");
    jset(j, "workload", jstr(w->name));
    jset(j, "arch", jstr(w->arch));
    jset(j, "input", jstr(w->shape ? w->shape : "flat"));
    jset(j, "steps", jint(T));
    jset(j, "batch", jint(B));
    jset(j, "input_rate", w->p < 0 ? jstr("static") : jnum(w->p));
    jset(j, "samples_per_s", jnum(sps));
    jset(j, "ms_per_sample", jnum(1e3 * best / B));
    jset(j, "syn_events_per_sample", jnum((double)syn / B));
    jset(j, "syn_events_per_s", jnum(evs));
    jset(j, "spikes_per_sample", jnum((double)spikes / B));
    jset(j, "peak_rss_mib", jnum(ru.ru_maxrss / 1024.0));
    jset(j, "dense_ref_samples_per_s", jnum(Br / ref_dt));
    jset(j, "speedup_vs_dense_ref", jnum(sps / (Br / ref_dt)));
    jset(j, "mem_bandwidth_gb_s", jnum(bw / 1e9));
    jset(j, "roofline_syn_events_per_s", jnum(roof));
    jset(j, "fraction_of_roofline", jnum(evs / roof));
    jset(j, "ref_output_spikes_agree", json_boolean(agree));
#ifdef _OPENMP
    jset(j, "threads", jint(omp_get_max_threads()));
#else
    jset(j, "threads", jint(1));
#endif
    bench_emit(j);
    for (uint32_t b = 0; b < B; b++) { spk_deinit(&tr[b]); sim_result_deinit(&res[b]); }
    free(tr); free(xs); free(in); free(res);
    net_free(n);
}

/* The one-neuron-at-a-time LIF loop, kept scalar, as the oracle of lif_step_all. */
__attribute__((optimize("no-tree-vectorize"))) static void lif_scalar(float *u, uint8_t *spk, const float *cur, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        int R = lif_above(u[i], 1.0f, LIF_GT);
        u[i] = lif_next(u[i], cur[i], 0.0f, R, 0.95f, 1.0f, LIF_SUBTRACT);
        spk[i] = (uint8_t)lif_above(u[i], 1.0f, LIF_GT);
    }
}

/* Fast kernels against their plain oracles, one core, same run: the dense scatter of W1's
 * first layer (700 x 3000 weights, 35 and 140 events per step) and the all-neuron LIF step. */
static void bench_kernels(void) {
    const uint32_t NI = 700, NO = 3000;
    float *w = malloc((size_t)NI * NO * sizeof *w), *acc = calloc(NO, sizeof *acc), *u = calloc(NO, sizeof *u);
    uint8_t *spk = malloc(NO);
    uint32_t idx[140];
    rng *r = rng_create(1);
    for (size_t i = 0; i < (size_t)NI * NO; i++) w[i] = (float)rng_uniform_range(r, -0.04, 0.04);
    rng_free(r);
    for (uint32_t ne = 35; ne <= 140; ne *= 4) {
        for (uint32_t e = 0; e < ne; e++) idx[e] = e * (NI / ne);
        double best_f = 1e30, best_r = 1e30;
        for (int rep = 0; rep < 5; rep++) {
            double t0 = evsnn_now_s();
            for (int k = 0; k < 200; k++) scatter_dense(acc, w, idx, NULL, ne, NO);
            double f = evsnn_now_s() - t0;
            t0 = evsnn_now_s();
            for (int k = 0; k < 200; k++) scatter_dense_ref(acc, w, idx, NULL, ne, NO);
            double rr = evsnn_now_s() - t0;
            if (f < best_f) best_f = f;
            if (rr < best_r) best_r = rr;
        }
        json_t *o = bench_doc("kernel");
        jset(o, "kernel", jstr("scatter_dense"));
        jset(o, "n_in", jint(NI));
        jset(o, "n_out", jint(NO));
        jset(o, "events", jint(ne));
        jset(o, "fast_gsyn_per_s", jnum(200.0 * ne * NO / best_f / 1e9));
        jset(o, "ref_gsyn_per_s", jnum(200.0 * ne * NO / best_r / 1e9));
        jset(o, "speedup", jnum(best_r / best_f));
        bench_emit(o);
    }
    double best_f = 1e30, best_r = 1e30;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = evsnn_now_s();
        for (int k = 0; k < 2000; k++) lif_step_all(u, spk, acc, 1.0f, NULL, NO, 0.95f, 1.0f, LIF_SUBTRACT, LIF_GT);
        double f = evsnn_now_s() - t0;
        t0 = evsnn_now_s();
        for (int k = 0; k < 2000; k++) lif_scalar(u, spk, acc, NO);
        double rr = evsnn_now_s() - t0;
        if (f < best_f) best_f = f;
        if (rr < best_r) best_r = rr;
    }
    json_t *o = bench_doc("kernel");
    jset(o, "kernel", jstr("lif_step_all"));
    jset(o, "neurons", jint(NO));
    jset(o, "fast_gupdates_per_s", jnum(2000.0 * NO / best_f / 1e9));
    jset(o, "scalar_gupdates_per_s", jnum(2000.0 * NO / best_r / 1e9));
    jset(o, "speedup", jnum(best_r / best_f));
    bench_emit(o);
    free(w); free(acc); free(u); free(spk);
}

static const workload W[] = {
    {"W1", "700-3000-20", NULL, 100, 32, 0.01, 7},
    {"W1", "700-3000-20", NULL, 100, 32, 0.05, 7},
    {"W1", "700-3000-20", NULL, 100, 32, 0.2, 5},
    {"W2", "16C5-AP2-32C5-AP2-800-11", "2x32x32", 100, 8, 0.01, 5},
    {"W2", "16C5-AP2-32C5-AP2-800-11", "2x32x32", 100, 8, 0.05, 3},
    {"W3", "32C3-P2-32C3-MP2-256-10", "3x32x32", 25, 32, -1, 3},
};
enum { NW = sizeof W / sizeof *W };

/* Runs workload i in a fresh process (fork + exec of this program: an OpenMP runtime does
 * not survive a plain fork), so that its peak RSS is its own; returns its best ms per
 * sample parsed back from its JSON line on a pipe (-1 if the line lacks it). */
static double in_child(int i, double bw) {
    int fd[2];
    if (pipe(fd)) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        dup2(fd[1], 1);
        char a[16], b[32];
        snprintf(a, sizeof a, "%d", i);
        snprintf(b, sizeof b, "%.17g", bw); /* the very double: the child prints it */
        execl("/proc/self/exe", "bench_engine", a, b, (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    char buf[4096];
    ssize_t k, len = 0;
    while ((k = read(fd[0], buf + len, sizeof buf - 1 - (size_t)len)) > 0) len += k;
    buf[len > 0 ? len : 0] = 0;
    close(fd[0]);
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) { fprintf(stderr, "bench: workload %d failed\n", i); exit(1); }
    fputs(buf, stdout);
    fflush(stdout);
    return bench_json_num(buf, "ms_per_sample");
}

int main(int argc, char **argv) {
    if (argc == 3) { /* child: one workload */
        int i = atoi(argv[1]);
        if (i < 0 || i >= NW) return 2;
        run_workload(&W[i], atof(argv[2]));
        return 0;
    }
    /* The bandwidth probe runs in a child too, so the parent never starts OpenMP threads. */
    double bw = 0;
    {
        int fd[2];
        if (pipe(fd)) return 1;
        pid_t pid = fork();
        if (pid == 0) {
            close(fd[0]);
            double v = stream_bandwidth();
            if (write(fd[1], &v, sizeof v) != sizeof v) _exit(1);
            _exit(0);
        }
        close(fd[1]);
        if (read(fd[0], &bw, sizeof bw) != sizeof bw) bw = 0;
        close(fd[0]);
        waitpid(pid, NULL, 0);
    }
    bench_kernels();
    double ms[NW];
    for (int i = 0; i < NW; i++) ms[i] = in_child(i, bw);
    json_t *o = bench_doc("engine");
    jset(o, "workload", jstr("W1"));
    jset(o, "summary", jstr("sparsity"));
    jset(o, "time_p0.2_over_p0.01", jnum(ms[2] / ms[0]));
    jset(o, "time_p0.05_over_p0.01", jnum(ms[1] / ms[0]));
    jset(o, "target_ratio", jint(5));
    bench_emit(o);
    return 0;
}
