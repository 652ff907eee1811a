/* tests/bench_train.c — `make bench`: one training step (forward, backward, Adam) on W1,
 * 700-3000-20, T = 100, β = 0.95, θ = 1, Bernoulli input p = 0.05, batch 32 (issue 4's
 * target: ≥ 150 samples/s; PyTorch + snnTorch with OpenBLAS does about 23 here).
 *
 * Two lines: dense recording (membranes kept, T × N floats) and sparse recording (spike
 * trains only; the backward rebuilds the membranes). Each prints, measured in the same run,
 * the forward pass alone (sim_run_batch on the same inputs) so the backward's share is a
 * ratio, and the bytes kept per sample for the backward against the dense T × N × 4 bytes a
 * framework keeps for the membranes alone. Best of 3 steps after a warm-up (shared machine). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/engine.h"
#include "sim/evsnn.h"
#include "sim/rng.h"
#include "sim/synth.h"
#include "sim/train.h"
#include "tests/benchjson.h"

int main(void) {
    enum { T = 100, B = 32, NI = 700 };
    const double p = 0.05;
    neuron_cfg nc = {.beta = 0.95f, .theta = 1.0f, .reset = RESET_SUBTRACT, .cmp = CMP_GT, .bias = 1};
    net_opts o = {.cfg = &nc, .n_cfg = 1};
    int err;
    net *n = net_build("700-3000-20", 0, 0, 0, &o, &err);
    if (!n) { fprintf(stderr, "bench_train: %s\n", evsnn_errmsg()); return 1; }
    net_init_params(n, 1);
    spk_train in[B];
    sim_input si[B];
    uint32_t lab[B];
    for (int b = 0; b < B; b++) {
        if (synth_bernoulli(&in[b], T, NI, p, rng_stream(1, (uint64_t)b))) return 1;
        si[b] = (sim_input){.train = &in[b], .T = T};
        lab[b] = (uint32_t)b % 20;
    }
    /* Forward alone (no membranes recorded): the cost the backward adds is measured against it. */
    sim_result res[B];
    for (int b = 0; b < B; b++) sim_result_init(&res[b], n, T, 0);
    double fbest = 1e30;
    for (int r = 0; r < 3; r++) {
        const double t0 = evsnn_now_s();
        if (sim_run_batch(n, si, B, res, 0)) return 1;
        const double dt = evsnn_now_s() - t0;
        if (dt < fbest) fbest = dt;
    }
    /* Bytes kept per sample for the backward: every layer's output train (4-byte channel ids
     * + 4-byte step offsets); with dense recording also the membranes [T, n_out] floats. */
    double train_bytes = 0, dense_bytes = 0;
    for (int b = 0; b < B; b++)
        for (uint32_t l = 0; l < n->n_layers; l++) train_bytes += 4.0 * res[b].out[l].nnz + 4.0 * (T + 1);
    train_bytes /= B;
    for (uint32_t l = 0; l < n->n_layers; l++) dense_bytes += 4.0 * T * n->layers[l].n_out;
    for (int sparse = 0; sparse <= 1; sparse++) {
        net_init_params(n, 1); /* the same starting point for both modes */
        train_cfg c = train_defaults();
        c.sparse_record = sparse;
        trainer *tr = trainer_create(n, &c, T, &err);
        if (!tr) { fprintf(stderr, "bench_train: %s\n", evsnn_errmsg()); return 1; }
        train_stats st;
        memset(&st, 0, sizeof st);
        if (trainer_step(tr, si, lab, NULL, B, &st)) { fprintf(stderr, "bench_train: %s\n", evsnn_errmsg()); return 1; }
        double best = 1e30;
        for (int r = 0; r < 3; r++) {
            memset(&st, 0, sizeof st);
            const double t0 = evsnn_now_s();
            if (trainer_step(tr, si, lab, NULL, B, &st)) { fprintf(stderr, "bench_train: %s\n", evsnn_errmsg()); return 1; }
            const double dt = evsnn_now_s() - t0;
            if (dt < best) best = dt;
        }
        const double trace = train_bytes + (sparse ? 0.0 : dense_bytes);
        json_t *j = bench_doc("train_step");
        jset(j, "workload", jstr("W1"));
        jset(j, "arch", jstr("700-3000-20"));
        jset(j, "T", jint(T));
        jset(j, "input_p", jnum(p));
        jset(j, "batch", jint(B));
        jset(j, "optimizer", jstr("adam"));
        jset(j, "record", jstr(sparse ? "sparse" : "dense"));
        jset(j, "step_s", jnum(best));
        jset(j, "samples_per_s", jnum(B / best));
        jset(j, "target_samples_per_s", jint(150));
        jset(j, "forward_only_samples_per_s", jnum(B / fbest));
        jset(j, "backward_share", jnum(1.0 - fbest / best));
        jset(j, "hidden_rate", jnum((double)st.spikes[0] / ((double)st.neurons[0] * T)));
        jset(j, "trace_bytes_per_sample", jnum(trace));         /* a mean over the batch */
        jset(j, "dense_TxNx4_bytes", jint((long long)dense_bytes)); /* a whole number of bytes */
        jset(j, "trace_vs_dense", jnum(trace / dense_bytes));
        bench_emit(j);
        trainer_free(tr);
    }
    for (int b = 0; b < B; b++) {
        sim_result_deinit(&res[b]);
        spk_deinit(&in[b]);
    }
    net_free(n);
    return 0;
}
