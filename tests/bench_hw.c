/* tests/bench_hw.c — simulated clock cycles per second of the accelerator model, per-cycle
 * and jump-ahead, on the W2 network (16C5-AP2-32C5-AP2-800-11 on 2x32x32). The trace comes
 * from the event-driven engine running W2 (PyTorch-default initialisation, seed 1) on REAL
 * N-MNIST recordings (../shared/datasets/nmnist-small, the first 16 of test100.txt, ids
 * 60001..60016), read by the dataset reader (ds_raw), cropped to the central 32x32 of the
 * 34x34 sensor (channel = polarity·1024 + y·32 + x) and binned as the readers bin (tf_bin:
 * T = 20 steps of 15 ms, events at 300 ms or later dropped). The readers have no spatial
 * crop, hence the crop here. Without ../shared it falls back to synthetic Bernoulli input
 * (p = 0.05) and says so. Prints one JSON line per workload; the targets (>= 50 M cycles/s
 * per-cycle, jump >= 20x faster) are reported, not asserted. */
#include <stdio.h>
#include <stdlib.h>

#include "hw/hw.h"
#include "io/dataset.h"
#include "io/transform.h"
#include "sim/engine.h"
#include "sim/evsnn.h"
#include "sim/rng.h"
#include "sim/synth.h"
#include "tests/benchjson.h"

enum { N = 16, T = 20 };

#define NMNIST_TEST "../shared/datasets/nmnist-small/test100.txt"

/* The first N test samples as binary trains over the central 32x32 (sensor x, y in 1..32). */
static int nmnist_trains(spk_train *in) {
    dataset *d = ds_open(NMNIST_TEST, NULL, NULL);
    if (!d) return -1;
    int rc = ds_len(d) >= N ? 0 : -1;
    ds_event *crop = NULL;
    size_t cap = 0;
    uint32_t done = 0;
    for (; done < N && !rc; done++) {
        const ds_event *ev;
        size_t n, m = 0;
        int64_t t0;
        if ((rc = ds_raw(d, done, &ev, &n, &t0, NULL))) break;
        if (n > cap) {
            ds_event *nc = realloc(crop, n * sizeof *nc);
            if (!nc) { rc = -1; break; }
            crop = nc;
            cap = n;
        }
        for (size_t k = 0; k < n; k++)
            if (ev[k].x >= 1 && ev[k].x <= 32 && ev[k].y >= 1 && ev[k].y <= 32) {
                crop[m] = ev[k];
                crop[m].x--;
                crop[m].y--;
                m++;
            }
        const tf_bin_cfg cfg = {.t0 = t0, .dt = 15000, .T = T, .w = 32, .h = 32, .fx = 1, .fy = 1, .pols = 2, .binary = 1};
        if ((rc = tf_bin(&in[done], crop, m, &cfg))) break;
    }
    if (rc)
        for (uint32_t k = 0; k < done; k++) spk_deinit(&in[k]);
    free(crop);
    ds_free(d);
    return rc ? -1 : 0;
}

static const char *trace_desc = "";

static int bench(hw_model model, const char *cfgname, const spk_train *in, const spk_train *const *out, const net *n) {
    hw_cfg c;
    hw_cfg_default(&c);
    c.model = model;
    c.dflt.pes = model == HW_MODEL_SNNDSE ? 4 : 8;
    c.dflt.queue_depth = model == HW_MODEL_SNNDSE ? 256 : 64;
    c.dflt.encoder_width = 16;
    c.dflt.neuron_cycles = model == HW_MODEL_SNNDSE ? 3 : 1;
    int err;
    hw_machine *m = hw_create(&c, n, T, &err);
    if (!m) { fprintf(stderr, "bench_hw: %s\n", evsnn_errmsg()); return 1; }
    double secs[2] = {0, 0};
    uint64_t cycles[2] = {0, 0}, lat[2] = {0, 0};
    for (int mode = 0; mode < 2; mode++) {
        /* repeat until at least 0.3 s has been measured */
        uint32_t reps = 0;
        double t0 = evsnn_now_s();
        do {
            for (uint32_t i = 0; i < N; i++) {
                hw_sample s;
                if (hw_run(m, &in[i], out[i], mode ? HW_JUMP : HW_PER_CYCLE, 0, &s)) {
                    fprintf(stderr, "bench_hw: %s\n", evsnn_errmsg());
                    hw_free(m);
                    return 1;
                }
                cycles[mode] += s.sim_cycles;
                if (!reps) lat[mode] += s.latency;
                hw_sample_free(&s);
            }
            reps++;
        } while (evsnn_now_s() - t0 < 0.3);
        secs[mode] = evsnn_now_s() - t0;
    }
    double pc = cycles[0] / secs[0], ja = cycles[1] / secs[1];
    char trace[512];
    snprintf(trace, sizeof trace, "engine run of W2 (PyTorch-default init) on %s, %u samples x T=%u", trace_desc,
             (unsigned)N, (unsigned)T);
    json_t *o = bench_doc("hw_cycles_per_s");
    jset(o, "model", jstr(cfgname));
    jset(o, "network", jstr("W2 16C5-AP2-32C5-AP2-800-11 on 2x32x32"));
    jset(o, "trace", jstr(trace));
    jset(o, "mean_latency_cycles", jnum((double)lat[0] / N));
    jset(o, "same_latency", json_boolean(lat[0] == lat[1]));
    jset(o, "per_cycle_cycles_per_s", jnum(pc));
    jset(o, "jump_cycles_per_s", jnum(ja));
    jset(o, "jump_speedup", jnum(ja / pc));
    jset(o, "target_per_cycle", jnum(5e7));
    jset(o, "target_speedup", jint(20));
    bench_emit(o);
    hw_free(m);
    return lat[0] == lat[1] ? 0 : 1;
}

int main(void) {
    int err;
    net *n = net_build("16C5-AP2-32C5-AP2-800-11", 2, 32, 32, NULL, &err);
    if (!n) { fprintf(stderr, "bench_hw: %s\n", evsnn_errmsg()); return 1; }
    net_init_params(n, 1);
    spk_train *in = calloc(N, sizeof *in);
    sim_input *si = calloc(N, sizeof *si);
    sim_result *res = calloc(N, sizeof *res);
    const spk_train **out = calloc(N, sizeof *out);
    const int real = nmnist_trains(in) == 0;
    trace_desc = real ? "real N-MNIST test samples 60001..60016 (central 32x32, 15 ms steps)"
                      : "SYNTHETIC Bernoulli input p=0.05 (../shared/datasets/nmnist-small not found)";
    for (uint32_t i = 0; i < N; i++) {
        if (!real && synth_bernoulli(&in[i], T, n->n_in, 0.05, rng_stream(1, i))) return 1;
        if (sim_result_init(&res[i], n, T, 0)) return 1;
        si[i] = (sim_input){.train = &in[i], .T = T};
    }
    if (sim_run_batch(n, si, N, res, 0)) { fprintf(stderr, "bench_hw: %s\n", evsnn_errmsg()); return 1; }
    for (uint32_t i = 0; i < N; i++) out[i] = res[i].out;
    int rc = bench(HW_MODEL_EVSNN, "evsnn", in, out, n) | bench(HW_MODEL_SNNDSE, "snn-dse", in, out, n);
    for (uint32_t i = 0; i < N; i++) {
        spk_deinit(&in[i]);
        sim_result_deinit(&res[i]);
    }
    free(in);
    free(si);
    free(res);
    free(out);
    net_free(n);
    return rc;
}
