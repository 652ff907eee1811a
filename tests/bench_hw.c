/* tests/bench_hw.c — simulated clock cycles per second of the accelerator model, per-cycle
 * and jump-ahead, on the W2 network (16C5-AP2-32C5-AP2-800-11 on 2x32x32). The trace is
 * SYNTHETIC (Bernoulli spikes at fixed per-layer rates, see test_hw_fixture.h): this branch has
 * no engine to record a real N-MNIST / DVS128 trace. Prints one JSON line per workload; the
 * targets (>= 50 M cycles/s per-cycle, jump >= 20x faster) are reported, not asserted. */
#include <stdlib.h>
#include <time.h>

#include "hw/hw.h"
#include "sim/evsnn.h"
#include "test_hw_fixture.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

enum { N = 16, T = 20 };

static int bench(hw_model model, const char *cfgname, const spk_train *in, spk_train (*out)[3], net *n) {
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
        double t0 = now_s();
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
        } while (now_s() - t0 < 0.3);
        secs[mode] = now_s() - t0;
    }
    double pc = cycles[0] / secs[0], ja = cycles[1] / secs[1];
    printf("{\"bench\": \"hw_cycles_per_s\", \"model\": \"%s\", \"network\": \"W2 16C5-AP2-32C5-AP2-800-11 on 2x32x32\", "
           "\"trace\": \"synthetic Bernoulli (input 2%%, conv1 5%%, conv2 5%%, fc 10%% per step), %u samples x T=%u; "
           "no real trace on this branch\", \"mean_latency_cycles\": %.6g, \"same_latency\": %s, "
           "\"per_cycle_cycles_per_s\": %.4g, \"jump_cycles_per_s\": %.4g, \"jump_speedup\": %.3g, "
           "\"target_per_cycle\": 5e7, \"target_speedup\": 20}\n",
           cfgname, N, T, (double)lat[0] / N, lat[0] == lat[1] ? "true" : "false", pc, ja, ja / pc);
    hw_free(m);
    return lat[0] == lat[1] ? 0 : 1;
}

int main(void) {
    net n;
    net_layer ls[3];
    fx_w2(&n, ls);
    spk_train *in = calloc(N, sizeof *in);
    spk_train (*out)[3] = calloc(N, sizeof *out);
    uint32_t seed = 2024;
    const double rate[3] = {0.05, 0.05, 0.10};
    for (uint32_t i = 0; i < N; i++) {
        if (fx_train(&in[i], T, n.n_in, 0.02, &seed)) return 1;
        for (uint32_t l = 0; l < 3; l++)
            if (fx_train(&out[i][l], T, ls[l].n_out, rate[l], &seed)) return 1;
    }
    int rc = bench(HW_MODEL_EVSNN, "evsnn", in, out, &n) | bench(HW_MODEL_SNNDSE, "snn-dse", in, out, &n);
    for (uint32_t i = 0; i < N; i++) {
        spk_deinit(&in[i]);
        for (uint32_t l = 0; l < 3; l++) spk_deinit(&out[i][l]);
    }
    free(in);
    free(out);
    return rc;
}
