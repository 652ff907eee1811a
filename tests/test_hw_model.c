/* tests/test_hw_model.c — the accelerator cycle model: SNN-DSE RTL figures, closed forms,
 * per-cycle == jump-ahead on random traces, queue bounds, energy by hand. Networks are built
 * by hand (shape only); trains are generated here (LCG), not recorded. */
#include "testutil.h"

#include "hw/hw.h"
#include "sim/evsnn.h"

static net_layer dense(uint32_t n_in, uint32_t n_out, const char *name) {
    net_layer y;
    memset(&y, 0, sizeof y);
    y.kind = NET_DENSE;
    y.in_c = n_in; y.in_h = y.in_w = 1; y.n_in = n_in;
    y.out_c = n_out; y.out_h = y.out_w = 1; y.n_out = n_out;
    snprintf(y.name, sizeof y.name, "%s", name);
    return y;
}

static net_layer conv(uint32_t c, uint32_t h, uint32_t w, uint32_t oc, uint32_t k, uint32_t pad, const char *name) {
    net_layer y;
    memset(&y, 0, sizeof y);
    y.kind = NET_CONV;
    y.in_c = c; y.in_h = h; y.in_w = w; y.n_in = c * h * w;
    y.k = k; y.pad = pad;
    y.conv_h = h + 2 * pad - k + 1; y.conv_w = w + 2 * pad - k + 1;
    y.out_c = oc; y.out_h = y.conv_h; y.out_w = y.conv_w; y.n_out = oc * y.out_h * y.out_w;
    snprintf(y.name, sizeof y.name, "%s", name);
    return y;
}

static net_layer pool(uint32_t c, uint32_t h, uint32_t w, uint32_t k, const char *name) {
    net_layer y;
    memset(&y, 0, sizeof y);
    y.kind = NET_POOL;
    y.in_c = c; y.in_h = h; y.in_w = w; y.n_in = c * h * w;
    y.out_c = c; y.out_h = h / k; y.out_w = w / k; y.n_out = c * y.out_h * y.out_w;
    y.pool_k = k;
    snprintf(y.name, sizeof y.name, "%s", name);
    return y;
}

static net make_net(net_layer *ls, uint32_t L) {
    net n;
    memset(&n, 0, sizeof n);
    n.n_layers = L;
    n.layers = ls;
    n.n_in = ls[0].n_in;
    n.in_c = ls[0].in_c; n.in_h = ls[0].in_h; n.in_w = ls[0].in_w;
    snprintf(n.arch, sizeof n.arch, "hand-built");
    return n;
}

static uint32_t lcg(uint32_t *x) { *x = *x * 1664525u + 1013904223u; return *x >> 8; }

/* Random binary train, spike probability num/256 per channel per step. */
static void rand_train(spk_train *s, uint32_t T, uint32_t n, uint32_t num, uint32_t *seed) {
    assert_int_equal(spk_init(s, T, n, 0), 0);
    for (uint32_t t = 0; t < T; t++)
        for (uint32_t c = 0; c < n; c++)
            if ((lcg(seed) & 255) < num) assert_int_equal(spk_push(s, t, c, 1), 0);
    assert_int_equal(spk_close(s, 0), 0);
}

/* ---------------------------------------------------------------- SNN-DSE figures */

/* FC as the 2023 RTL: 4 PEs, n = 4 neurons each (16 outputs), L = 3; steps with
 * s = 1, 2, 4, 8, 12 input spikes → 21, 35, 63, 119, 175 cycles (the figures). */
static void test_snndse_fc(void **state) {
    (void)state;
    net_layer ls[1] = {dense(32, 16, "fc1")};
    net n = make_net(ls, 1);
    hw_cfg c;
    hw_cfg_default(&c);
    c.model = HW_MODEL_SNNDSE;
    c.dflt.pes = 4;
    c.dflt.neuron_cycles = 3;
    c.dflt.queue_depth = 16;
    const uint32_t s[5] = {1, 2, 4, 8, 12}, want[5] = {21, 35, 63, 119, 175};
    spk_train in, out;
    assert_int_equal(spk_init(&in, 5, 32, 0), 0);
    for (uint32_t t = 0; t < 5; t++)
        for (uint32_t k = 0; k < s[t]; k++) assert_int_equal(spk_push(&in, t, 2 * k + t % 2, 1), 0);
    assert_int_equal(spk_close(&in, 0), 0);
    assert_int_equal(spk_init(&out, 5, 16, 0), 0);
    assert_int_equal(spk_close(&out, 0), 0);
    int err;
    hw_machine *m = hw_create(&c, &n, 5, &err);
    assert_non_null(m);
    for (int mode = 0; mode < 2; mode++) {
        hw_sample r;
        assert_int_equal(hw_run(m, &in, &out, mode ? HW_JUMP : HW_PER_CYCLE, 1, &r), 0);
        uint64_t sum = 0;
        for (uint32_t t = 0; t < 5; t++) {
            assert_int_equal(r.l[0].step_cycles[t], want[t]);
            sum += want[t];
        }
        assert_int_equal(r.latency, sum);
        /* synaptic work: 27 input spikes × 16 neurons; the sweep 16 neurons × 5 steps */
        assert_int_equal(r.ops.accumulates, 27 * 16);
        assert_int_equal(r.ops.weight_reads, 27 * 16);
        assert_int_equal(r.ops.neuron_updates, 16 * 5);
        assert_int_equal(r.l[0].occ_max, 12);
        assert_int_equal(r.l[0].overflow_events, 0);
        hw_sample_free(&r);
    }
    hw_free(m);
    spk_deinit(&in);
    spk_deinit(&out);
}

/* Conv as the sparse conv RTL: 3x3, same padding, 8x8 map, T = 2, encoder chunk 16, list
 * depth 32, 5 spikes per input map, 2 input channels, 4 output channels, 2 PEs: the done
 * signal is high 538 cycles in (the figure) and the last sweep ends at 640. Both
 * follow from the state machines as hw/README.md documents them (derived in the test
 * below, not by running the model):
 *   encoder, per map: 1 wait cycle, per chunk of 16 bits 1 load + 1 cycle seeing it empty,
 *     2 cycles per spike: M = 1 + 4·2 + 2·5 = 19 cycles, then it raises "compressed" and
 *     waits (transit) until the iterator is available;
 *   iterator: K²·5 = S = 45 cycles per map's spikes; after the last input channel of a step
 *     the sweep, out_h·out_w − 1 = A = 63 cycles; one idle cycle before it takes the next
 *     map (available again), during which the encoder leaves transit;
 *   the encoder always reaches transit before the iterator is free (19 < 45), so the
 *     iterator sets the pace: per step S + 1 + S + A + 1 = 155 cycles (spikes of channel 0,
 *     idle, spikes of channel 1, sweep, idle), over ⌈4/2⌉ = 2 phases × T = 2 steps;
 *   it starts at cycle 1 + M + 1 = 21 (the encoder's idle cycle, the first map, the transit
 *     cycle in which the iterator sees "compressed"); the last sweep ends before the last
 *     idle cycle: end = 21 + 2·2·155 − 1 = 640;
 *   the last map's channel-done cycle follows its first spike cycle (end − A − S), then one
 *     cycle each for the next step, the next phase and done; done is high the cycle after
 *     and counted through it: done = end − A − S + 1 + 3 + 2 = 538.
 * Counts by hand: in-frame taps of the 3×3 window (same padding) at (y, x) are
 * rows(y)·cols(x), rows = 2 at the border, else 3: step 0 spikes at (0,0) (1,1) (2,2)
 * (3,3) (4,4) → 4 + 4·9 = 40 per map, step 1 at (0,1) (1,2) ... → 6 + 4·9 = 42; two maps
 * per step: (80 + 84) taps × 4 output channels = 656 accumulates and weight reads, each a
 * membrane read-modify-write; the sweep adds 256 neurons × 2 steps = 512 updates. */
static void test_snndse_conv(void **state) {
    (void)state;
    net_layer ls[1] = {conv(2, 8, 8, 4, 3, 1, "conv1")};
    net n = make_net(ls, 1);
    hw_cfg c;
    hw_cfg_default(&c);
    c.model = HW_MODEL_SNNDSE;
    c.dflt.pes = 2;
    c.dflt.queue_depth = 32;
    c.dflt.encoder_width = 16;
    spk_train in, out;
    assert_int_equal(spk_init(&in, 2, 128, 0), 0);
    const uint32_t pos[5] = {0, 9, 18, 27, 36};
    for (uint32_t t = 0; t < 2; t++)
        for (uint32_t ch = 0; ch < 2; ch++)
            for (uint32_t k = 0; k < 5; k++) assert_int_equal(spk_push(&in, t, ch * 64 + pos[k] + t, 1), 0);
    assert_int_equal(spk_close(&in, 0), 0);
    assert_int_equal(spk_init(&out, 2, 256, 0), 0);
    assert_int_equal(spk_close(&out, 0), 0);
    int err;
    hw_machine *m = hw_create(&c, &n, 2, &err);
    assert_non_null(m);
    for (int mode = 0; mode < 2; mode++) {
        hw_sample r;
        assert_int_equal(hw_run(m, &in, &out, mode ? HW_JUMP : HW_PER_CYCLE, 1, &r), 0);
        const uint64_t M = 1 + 4 * 2 + 2 * 5, S = 9 * 5, A = 8 * 8 - 1, first = 1 + M + 1;
        const uint64_t end = first + 2 * 2 * (S + 1 + S + A + 1) - 1, done = end - A - S + 1 + 3 + 2;
        assert_int_equal(end, 640);
        assert_int_equal(done, 538);
        assert_int_equal(r.l[0].rtl_done, done);
        assert_int_equal(r.l[0].rtl_end, end);
        assert_int_equal(r.latency, end);
        assert_int_equal(r.latency_rtl, done);
        assert_int_equal(r.l[0].occ_max, 5);
        assert_int_equal(r.ops.accumulates, 656);
        assert_int_equal(r.ops.weight_reads, 656);
        assert_int_equal(r.ops.membrane_reads, 656 + 512);
        assert_int_equal(r.ops.membrane_writes, 656 + 512);
        assert_int_equal(r.ops.neuron_updates, 512);
        hw_sample_free(&r);
    }
    hw_free(m);
    spk_deinit(&in);
    spk_deinit(&out);
}

/* ---------------------------------------------------------------- closed forms (generic) */

static uint64_t run_one(hw_machine *m, const spk_train *in, const spk_train *out, hw_run_mode mode) {
    hw_sample r;
    assert_int_equal(hw_run(m, in, out, mode, 0, &r), 0);
    uint64_t c = r.latency;
    hw_sample_free(&r);
    return c;
}

/* Conv 2x8x8 → 6 channels, K = 3 valid, 4 PEs: per spike K²·⌈6/4⌉ = 18 PE cycles; sweep
 * 6x6 outputs × ⌈6/4⌉ = 72; encoder chunks 2 maps × 64/16 = 8, i.e. 16 cycles when empty;
 * step overhead 1. Zero spikes: 16 + 72 + 1 = 89. One spike in chunk 0: pushed at cycle 2,
 * popped at 3, PE busy to 3 + 18 = 21 > 18 (encoder end), so 21 + 72 + 1 = 94. Then each
 * extra spike in the first chunk adds exactly 18 (the PE is the bottleneck). */
static void test_closed_forms(void **state) {
    (void)state;
    net_layer ls[1] = {conv(2, 8, 8, 6, 3, 0, "conv1")};
    net n = make_net(ls, 1);
    hw_cfg c;
    hw_cfg_default(&c);
    c.dflt.pes = 4;
    c.dflt.queue_depth = 64;
    c.dflt.encoder_width = 16;
    c.dflt.step_overhead = 1;
    int err;
    hw_machine *m = hw_create(&c, &n, 1, &err);
    assert_non_null(m);
    spk_train out;
    assert_int_equal(spk_init(&out, 1, n.layers[0].n_out, 0), 0);
    assert_int_equal(spk_close(&out, 0), 0);
    uint64_t prev = 0;
    for (uint32_t s = 0; s <= 10; s++) {
        spk_train in;
        assert_int_equal(spk_init(&in, 1, 128, 0), 0);
        for (uint32_t k = 0; k < s; k++) assert_int_equal(spk_push(&in, 0, k, 1), 0);
        assert_int_equal(spk_close(&in, 0), 0);
        uint64_t a = run_one(m, &in, &out, HW_PER_CYCLE), b = run_one(m, &in, &out, HW_JUMP);
        assert_int_equal(a, b);
        if (s == 0) assert_int_equal(a, 89);
        if (s == 1) assert_int_equal(a, 94);
        if (s >= 2) assert_int_equal(a - prev, 3 * 3 * 2);
        prev = a;
        spk_deinit(&in);
    }
    /* doubling the PEs to 6 halves the per-spike slope to K²·⌈6/6⌉ = 9 */
    assert_int_equal(hw_set_pes(m, 0, 6), 0);
    spk_train in;
    assert_int_equal(spk_init(&in, 1, 128, 0), 0);
    for (uint32_t k = 0; k < 10; k++) assert_int_equal(spk_push(&in, 0, k, 1), 0);
    assert_int_equal(spk_close(&in, 0), 0);
    uint64_t a10 = run_one(m, &in, &out, HW_JUMP);
    spk_deinit(&in);
    assert_int_equal(spk_init(&in, 1, 128, 0), 0);
    for (uint32_t k = 0; k < 9; k++) assert_int_equal(spk_push(&in, 0, k, 1), 0);
    assert_int_equal(spk_close(&in, 0), 0);
    assert_int_equal(a10 - run_one(m, &in, &out, HW_JUMP), 9);
    spk_deinit(&in);
    spk_deinit(&out);
    hw_free(m);
}

/* ---------------------------------------------------------------- per-cycle == jump-ahead */

static void assert_same_sample(const hw_sample *a, const hw_sample *b) {
    assert_int_equal(a->latency, b->latency);
    assert_int_equal(a->latency_rtl, b->latency_rtl);
    assert_int_equal(a->bottleneck, b->bottleneck);
    assert_memory_equal(&a->ops, &b->ops, sizeof a->ops);
    for (uint32_t l = 0; l < a->n_layers; l++) {
        const hw_layer_res *x = &a->l[l], *y = &b->l[l];
        assert_int_equal(x->cycles, y->cycles);
        assert_int_equal(x->start, y->start);
        assert_int_equal(x->end, y->end);
        assert_int_equal(x->accepted, y->accepted);
        assert_int_equal(x->dropped, y->dropped);
        assert_int_equal(x->overflow_events, y->overflow_events);
        assert_int_equal(x->stall_encoder, y->stall_encoder);
        assert_int_equal(x->stall_full, y->stall_full);
        assert_int_equal(x->stall_sweep, y->stall_sweep);
        assert_int_equal(x->stall_prev, y->stall_prev);
        assert_int_equal(x->pe_busy, y->pe_busy);
        assert_int_equal(x->occ_max, y->occ_max);
        assert_int_equal(x->rtl_done, y->rtl_done);
        assert_int_equal(x->rtl_end, y->rtl_end);
        assert_memory_equal(x->hist, y->hist, (x->depth + 1) * sizeof *x->hist);
        assert_memory_equal(x->step_cycles, y->step_cycles, a->T * sizeof *x->step_cycles);
        assert_int_equal(x->n_pts, y->n_pts);
        if (x->n_pts) assert_memory_equal(x->pts, y->pts, 2 * x->n_pts * sizeof *x->pts);
        assert_memory_equal(&x->ops, &y->ops, sizeof x->ops);
    }
}

static void test_modes_agree_random(void **state) {
    (void)state;
    uint32_t seed = 12345;
    uint64_t stalls = 0, drops = 0, rtl_conv = 0;
    for (int trial = 0; trial < 60; trial++) {
        /* conv 2x6x6 → C1 (K 3, pad 0/1) → pool 2 → dense → dense */
        uint32_t c1 = 1 + lcg(&seed) % 5, pad = lcg(&seed) % 2;
        net_layer ls[4];
        ls[0] = conv(2, 6, 6, c1, 3, pad, "conv1");
        ls[1] = pool(c1, ls[0].out_h, ls[0].out_w, 2, "pool1");
        ls[2] = dense(ls[1].n_out, 3 + lcg(&seed) % 9, "fc1");
        ls[3] = dense(ls[2].n_out, 2 + lcg(&seed) % 4, "fc2");
        net n = make_net(ls, 4);
        hw_cfg c;
        hw_cfg_default(&c);
        c.model = trial % 3 == 2 ? HW_MODEL_SNNDSE : HW_MODEL_EVSNN;
        c.schedule = (hw_schedule)(lcg(&seed) % 3);
        c.dflt.queue_depth = 1 + lcg(&seed) % 8;
        c.dflt.encoder_width = 1 + lcg(&seed) % 20;
        c.dflt.overflow = c.model == HW_MODEL_SNNDSE ? HW_STALL : (hw_overflow)(lcg(&seed) % 2);
        c.dflt.neuron_cycles = 1 + lcg(&seed) % 3;
        c.dflt.update_cycles = lcg(&seed) % 2;
        c.dflt.step_overhead = lcg(&seed) % 3;
        uint32_t T = 1 + lcg(&seed) % 6;
        int err;
        hw_machine *m = hw_create(&c, &n, T, &err);
        assert_non_null(m);
        for (uint32_t l = 0; l < 4; l++) assert_int_equal(hw_set_pes(m, l, 1 + lcg(&seed) % 4), 0);
        spk_train in, out[4];
        uint32_t dens = 10 + lcg(&seed) % 120;
        rand_train(&in, T, n.n_in, dens, &seed);
        for (uint32_t l = 0; l < 4; l++) rand_train(&out[l], T, ls[l].n_out, dens, &seed);
        hw_sample a, b;
        assert_int_equal(hw_run(m, &in, out, HW_PER_CYCLE, 1, &a), 0);
        assert_int_equal(hw_run(m, &in, out, HW_JUMP, 1, &b), 0);
        assert_same_sample(&a, &b);
        /* a queue of depth d never reports more than d; the histogram covers every cycle */
        for (uint32_t l = 0; l < 4; l++) {
            assert_true(a.l[l].occ_max <= a.l[l].depth);
            uint64_t sum = 0;
            for (uint32_t o = 0; o <= a.l[l].depth; o++) sum += a.l[l].hist[o];
            assert_int_equal(sum, a.l[l].cycles);
            for (uint64_t i = 0; i < a.l[l].n_pts; i++) assert_true(a.l[l].pts[2 * i + 1] <= a.l[l].depth);
            assert_int_equal(a.l[l].accepted + a.l[l].dropped, l ? out[l - 1].nnz : in.nnz);
            stalls += a.l[l].stall_full;
            drops += a.l[l].dropped;
        }
        rtl_conv += a.l[0].rtl_done != a.l[0].rtl_end;
        hw_sample_free(&a);
        hw_sample_free(&b);
        hw_free(m);
        spk_deinit(&in);
        for (uint32_t l = 0; l < 4; l++) spk_deinit(&out[l]);
    }
    /* the trials did exercise back-pressure, dropping and the RTL's early done */
    assert_true(stalls > 0);
    assert_true(drops > 0);
    assert_true(rtl_conv > 0);
}

/* The RTL-exact conv machine on sparse inputs (many empty maps, sweeps entered from idle)
 * and larger maps (many chunks): per-cycle and jump-ahead agree. */
static void test_snndse_conv_sparse_agree(void **state) {
    (void)state;
    uint32_t seed = 777;
    for (int trial = 0; trial < 24; trial++) {
        net_layer ls[1] = {conv(4, 12, 12, 6, 3, 1, "conv1")};
        net n = make_net(ls, 1);
        hw_cfg c;
        hw_cfg_default(&c);
        c.model = HW_MODEL_SNNDSE;
        c.dflt.pes = 1 + lcg(&seed) % 3;
        c.dflt.queue_depth = 3 + lcg(&seed) % 40;
        c.dflt.encoder_width = 4 + lcg(&seed) % 17;
        uint32_t T = 1 + lcg(&seed) % 4;
        int err;
        hw_machine *m = hw_create(&c, &n, T, &err);
        assert_non_null(m);
        spk_train in, out;
        rand_train(&in, T, n.n_in, 1 + lcg(&seed) % 12, &seed);
        rand_train(&out, T, ls[0].n_out, 5, &seed);
        hw_sample a, b;
        assert_int_equal(hw_run(m, &in, &out, HW_PER_CYCLE, 1, &a), 0);
        assert_int_equal(hw_run(m, &in, &out, HW_JUMP, 1, &b), 0);
        assert_same_sample(&a, &b);
        hw_sample_free(&a);
        hw_sample_free(&b);
        hw_free(m);
        spk_deinit(&in);
        spk_deinit(&out);
    }
}

/* A full queue with overflow = error names layer, step and cycle. */
static void test_overflow_error(void **state) {
    (void)state;
    net_layer ls[1] = {dense(8, 8, "fc1")};
    net n = make_net(ls, 1);
    hw_cfg c;
    hw_cfg_default(&c);
    c.dflt.queue_depth = 1;
    c.dflt.neuron_cycles = 10;
    c.dflt.overflow = HW_ERROR;
    int err;
    hw_machine *m = hw_create(&c, &n, 1, &err);
    spk_train in, out;
    assert_int_equal(spk_init(&in, 1, 8, 0), 0);
    for (uint32_t k = 0; k < 4; k++) spk_push(&in, 0, k, 1);
    spk_close(&in, 0);
    spk_init(&out, 1, 8, 0);
    spk_close(&out, 0);
    for (int mode = 0; mode < 2; mode++) {
        hw_sample r;
        assert_int_equal(hw_run(m, &in, &out, mode ? HW_JUMP : HW_PER_CYCLE, 0, &r), EVSNN_EFULL);
        assert_non_null(strstr(evsnn_errmsg(), "fc1"));
        assert_non_null(strstr(evsnn_errmsg(), "step 0"));
    }
    hw_free(m);
    spk_deinit(&in);
    spk_deinit(&out);
}

/* ---------------------------------------------------------------- energy by hand */

/* Energy table where each operation costs a distinct power of ten (pJ), so a total spells
 * the counts; no static power. */
static const hw_energy pow10_energy = {.accumulate_pj = 1, .neuron_update_pj = 10, .weight_read_pj = 100,
                                       .membrane_read_pj = 1e3, .membrane_write_pj = 1e4, .spike_read_pj = 1e5,
                                       .spike_write_pj = 1e6, .encoder_cycle_pj = 1e7, .static_mw = 0};

/* The trains of the hand-counted energy cases: T = 1, input 2 of 4 spikes, output 1 of 2. */
static void one_spike_4to2(spk_train *in, spk_train *out) {
    assert_int_equal(spk_init(in, 1, 4, 0), 0);
    assert_int_equal(spk_push(in, 0, 2, 1), 0);
    assert_int_equal(spk_close(in, 0), 0);
    assert_int_equal(spk_init(out, 1, 2, 0), 0);
    assert_int_equal(spk_push(out, 0, 1, 1), 0);
    assert_int_equal(spk_close(out, 0), 0);
}

/* Dense 4 → 2, 1 PE, T = 1, one input spike, one output spike, encoder width 16 (1 chunk).
 * Counts by hand: accumulates 2, weight reads 2, neuron updates 2, membrane reads 2 and
 * writes 2 (sweep), spike reads 1 (one chunk), spike writes 1, encoder cycles 2·1 + 2 = 4.
 * Each energy is a distinct power of ten so the total spells the counts. */
static void test_energy_by_hand(void **state) {
    (void)state;
    net_layer ls[1] = {dense(4, 2, "fc")};
    net n = make_net(ls, 1);
    hw_cfg c;
    hw_cfg_default(&c);
    c.energy = pow10_energy;
    int err;
    hw_machine *m = hw_create(&c, &n, 1, &err);
    spk_train in, out;
    one_spike_4to2(&in, &out);
    hw_sample r;
    assert_int_equal(hw_run(m, &in, &out, HW_JUMP, 0, &r), 0);
    double e = hw_sample_energy_pj(m, &r);
    assert_true(e == 2 + 2 * 10 + 2 * 100 + 2 * 1e3 + 2 * 1e4 + 1e5 + 1e6 + 4 * 1e7);
    hw_sample_free(&r);
    hw_free(m);
    /* the same with weights in DRAM at 1e8 pJ per read: the 2 weight reads move there */
    c.energy.weight_read_dram_pj = 1e8;
    c.dflt.weight_mem = HW_MEM_DRAM;
    m = hw_create(&c, &n, 1, &err);
    assert_int_equal(hw_run(m, &in, &out, HW_JUMP, 0, &r), 0);
    assert_true(hw_sample_energy_pj(m, &r) == e - 2 * 100 + 2 * 1e8);
    hw_sample_free(&r);
    hw_free(m);
    /* int8 weights, fp16 membranes: weight reads at 8/32, membrane accesses at 16/32 of the
     * 32-bit figures; storage 4·2 weights × 1 byte, 2 membranes × 2 bytes */
    c.dflt.weight_mem = HW_MEM_ONCHIP;
    c.weight_bits = 8;
    c.membrane_bits = 16;
    m = hw_create(&c, &n, 1, &err);
    assert_int_equal(hw_run(m, &in, &out, HW_JUMP, 0, &r), 0);
    assert_true(hw_sample_energy_pj(m, &r) == e - 2 * 100 - 2 * 1e3 - 2 * 1e4 + 2 * 25 + 2 * 500 + 2 * 5e3);
    uint64_t wb, mb;
    hw_layer_bytes(m, 0, &wb, &mb);
    assert_int_equal(wb, 8);
    assert_int_equal(mb, 4);
    c.weight_bits = c.membrane_bits = 32;
    /* static power: 5 mW for the latency at 100 MHz; latency by hand: encoder 2·1 + 2 = 4,
     * spike popped at 3, PE (L·n = 2) busy to 5, sweep 2, overhead 1 → 8 cycles = 80 ns,
     * 5 mW × 80 ns = 400 pJ */
    assert_int_equal(r.latency, 8);
    c.energy = (hw_energy){.static_mw = 5};
    hw_ops none = {0};
    assert_true(hw_energy_pj(&c, &none, r.latency) > 399.999 && hw_energy_pj(&c, &none, r.latency) < 400.001);
    hw_sample_free(&r);
    hw_free(m);
    spk_deinit(&in);
    spk_deinit(&out);
}

/* Both models on one trace count the same synaptic and neuron work, each equal to a count
 * made here from the trains alone: dense n_out per input spike; conv, per input spike, the
 * in-frame taps of the K×K window × out_c (each a membrane read-modify-write); per step
 * every neuron once in the sweep; output spikes written. Only the encoder's cycles and
 * spike-word reads belong to each machine. */
static void test_models_same_ops(void **state) {
    (void)state;
    uint32_t seed = 4242;
    for (int trial = 0; trial < 12; trial++) {
        const uint32_t c1 = 1 + lcg(&seed) % 4, pad = lcg(&seed) % 2;
        net_layer ls[4];
        ls[0] = conv(2, 6, 6, c1, 3, pad, "conv1");
        ls[1] = pool(c1, ls[0].out_h, ls[0].out_w, 2, "pool1");
        ls[2] = dense(ls[1].n_out, 3 + lcg(&seed) % 9, "fc1");
        ls[3] = dense(ls[2].n_out, 2 + lcg(&seed) % 4, "fc2");
        net n = make_net(ls, 4);
        const uint32_t T = 1 + lcg(&seed) % 5, dens = 10 + lcg(&seed) % 100;
        spk_train in, out[4];
        rand_train(&in, T, n.n_in, dens, &seed);
        for (uint32_t l = 0; l < 4; l++) rand_train(&out[l], T, ls[l].n_out, dens, &seed);
        /* the counts from the trains */
        hw_ops want[4];
        memset(want, 0, sizeof want);
        for (uint32_t l = 0; l < 4; l++) {
            const spk_train *x = l ? &out[l - 1] : &in;
            const net_layer *y = &ls[l];
            for (uint32_t k = 0; k < x->nnz; k++) {
                uint64_t syn = 0;
                if (y->kind == NET_DENSE) syn = y->n_out;
                if (y->kind == NET_CONV) {
                    const uint32_t a = x->idx[k] % (y->in_h * y->in_w), iy = a / y->in_w, ix = a % y->in_w;
                    for (uint32_t ky = 0; ky < y->k; ky++)
                        for (uint32_t kx = 0; kx < y->k; kx++) {
                            const int oy = (int)iy + (int)y->pad - (int)ky, ox = (int)ix + (int)y->pad - (int)kx;
                            syn += oy >= 0 && oy < (int)y->conv_h && ox >= 0 && ox < (int)y->conv_w ? y->out_c : 0;
                        }
                    want[l].membrane_reads += syn;
                    want[l].membrane_writes += syn;
                }
                want[l].accumulates += syn;
                want[l].weight_reads += syn;
            }
            if (y->kind != NET_POOL) {
                want[l].neuron_updates = (uint64_t)y->n_out * T;
                want[l].membrane_reads += (uint64_t)y->n_out * T;
                want[l].membrane_writes += (uint64_t)y->n_out * T;
            }
            want[l].spike_writes = out[l].nnz;
        }
        uint64_t syn_total = 0;
        for (int model = 0; model < 2; model++) {
            hw_cfg c;
            hw_cfg_default(&c);
            c.model = model ? HW_MODEL_SNNDSE : HW_MODEL_EVSNN;
            c.dflt.queue_depth = 4096; /* nothing dropped: every spike does its work */
            c.dflt.pes = 1 + lcg(&seed) % 3;
            int err;
            hw_machine *m = hw_create(&c, &n, T, &err);
            assert_non_null(m);
            for (int mode = 0; mode < 2; mode++) {
                hw_sample r;
                assert_int_equal(hw_run(m, &in, out, mode ? HW_JUMP : HW_PER_CYCLE, 0, &r), 0);
                for (uint32_t l = 0; l < 4; l++) {
                    const hw_ops *o = &r.l[l].ops;
                    assert_int_equal(o->accumulates, want[l].accumulates);
                    assert_int_equal(o->weight_reads, want[l].weight_reads);
                    assert_int_equal(o->membrane_reads, want[l].membrane_reads);
                    assert_int_equal(o->membrane_writes, want[l].membrane_writes);
                    assert_int_equal(o->neuron_updates, want[l].neuron_updates);
                    assert_int_equal(o->spike_writes, want[l].spike_writes);
                    syn_total += o->accumulates;
                }
                hw_sample_free(&r);
            }
            hw_free(m);
        }
        assert_true(syn_total > 0);
        spk_deinit(&in);
        for (uint32_t l = 0; l < 4; l++) spk_deinit(&out[l]);
    }
}

/* Energy = Σ counts × table in SNN-DSE mode too. FC 4 → 2 as the RTL, 1 PE, T = 1, one
 * input spike, one output spike. Counts by hand: accumulates 2 and weight reads 2 (the spike
 * past both neurons), neuron updates 2, membrane reads 2 and writes 2 (activation), spike
 * reads 1 (the step's spike word), spike writes 1, encoder cycles 2·1 + 2 = 4 (word taken,
 * two for the spike, one seeing the word empty). Latency s·(2 + L·n) + n + 3 = 1·(2 + 2) +
 * 2 + 3 = 9 cycles at 100 MHz; static 5 mW × 90 ns = 450 pJ. */
static void test_snndse_energy_by_hand(void **state) {
    (void)state;
    net_layer ls[1] = {dense(4, 2, "fc")};
    net n = make_net(ls, 1);
    hw_cfg c;
    hw_cfg_default(&c);
    c.model = HW_MODEL_SNNDSE;
    c.energy = pow10_energy;
    c.energy.static_mw = 5;
    int err;
    hw_machine *m = hw_create(&c, &n, 1, &err);
    assert_non_null(m);
    spk_train in, out;
    one_spike_4to2(&in, &out);
    for (int mode = 0; mode < 2; mode++) {
        hw_sample r;
        assert_int_equal(hw_run(m, &in, &out, mode ? HW_JUMP : HW_PER_CYCLE, 0, &r), 0);
        assert_int_equal(r.latency, 9);
        const double want = 2 + 2 * 10 + 2 * 100 + 2 * 1e3 + 2 * 1e4 + 1e5 + 1e6 + 4 * 1e7 + 450;
        const double e = hw_sample_energy_pj(m, &r);
        if (!(e > want - 1e-6 && e < want + 1e-6)) fail_msg("energy %.9g pJ, by hand %.9g", e, want);
        hw_sample_free(&r);
    }
    hw_free(m);
    spk_deinit(&in);
    spk_deinit(&out);
}

/* Pipelining across steps: a layer may start step t once the previous layer finished step t,
 * so the latency is below lock-step's sum and never below the slowest layer's total. */
static void test_schedules(void **state) {
    (void)state;
    net_layer ls[2] = {dense(16, 16, "fc1"), dense(16, 8, "fc2")};
    net n = make_net(ls, 2);
    uint32_t seed = 7;
    spk_train in, out[2];
    rand_train(&in, 8, 16, 80, &seed);
    rand_train(&out[0], 8, 16, 80, &seed);
    rand_train(&out[1], 8, 8, 80, &seed);
    uint64_t lat[3], bott[3];
    for (int s = 0; s < 3; s++) {
        hw_cfg c;
        hw_cfg_default(&c);
        c.schedule = (hw_schedule)s;
        int err;
        hw_machine *m = hw_create(&c, &n, 8, &err);
        hw_sample r;
        assert_int_equal(hw_run(m, &in, out, HW_JUMP, 0, &r), 0);
        lat[s] = r.latency;
        bott[s] = r.bottleneck;
        if (s == HW_LOCKSTEP) assert_int_equal(r.latency, r.l[0].cycles + r.l[1].cycles);
        hw_sample_free(&r);
        hw_free(m);
    }
    assert_true(lat[HW_PIPE_STEPS] < lat[HW_LOCKSTEP]);
    assert_true(lat[HW_PIPE_STEPS] >= bott[HW_PIPE_STEPS]);
    assert_int_equal(lat[HW_PIPE_LAYERS], lat[HW_LOCKSTEP]);
    spk_deinit(&in);
    spk_deinit(&out[0]);
    spk_deinit(&out[1]);
}

/* Allocation policies on a dense 32-64-32-8 chain. */
static void test_allocation(void **state) {
    (void)state;
    net_layer ls[3] = {dense(32, 64, "fc1"), dense(64, 32, "fc2"), dense(32, 8, "fc3")};
    net n = make_net(ls, 3);
    uint32_t seed = 3;
    spk_train in, out[3];
    rand_train(&in, 6, 32, 60, &seed);
    rand_train(&out[0], 6, 64, 60, &seed);
    rand_train(&out[1], 6, 32, 60, &seed);
    rand_train(&out[2], 6, 8, 60, &seed);
    const spk_train *lp[1] = {out};
    hw_cfg c;
    hw_cfg_default(&c);
    int err;
    /* uniform: 12 PEs over 3 spiking layers */
    c.alloc = HW_ALLOC_UNIFORM;
    c.total_pes = 12;
    hw_machine *m = hw_create(&c, &n, 6, &err);
    assert_int_equal(hw_allocate(m, &in, lp, 1), 0);
    for (uint32_t l = 0; l < 3; l++) assert_int_equal(hw_layers(m)[l].pes, 4);
    hw_free(m);
    /* proportional: the layer with the most work with one PE gets the most PEs, and the
     * counts follow the work ratio (rounded) */
    c.alloc = HW_ALLOC_PROPORTIONAL;
    c.total_pes = 30;
    m = hw_create(&c, &n, 6, &err);
    hw_sample r1;
    assert_int_equal(hw_run(m, &in, out, HW_JUMP, 0, &r1), 0); /* one PE each: the work */
    double tot = (double)r1.l[0].cycles + r1.l[1].cycles + r1.l[2].cycles;
    assert_int_equal(hw_allocate(m, &in, lp, 1), 0);
    for (uint32_t l = 0; l < 3; l++) {
        double want = 30.0 * r1.l[l].cycles / tot;
        uint32_t p = hw_layers(m)[l].pes, cap = ls[l].n_out;
        assert_true(p == cap || (p >= (uint32_t)(want > 1 ? want - 0.5 : 1) && p <= (uint32_t)(want + 0.5) + 1));
    }
    hw_sample_free(&r1);
    hw_free(m);
    /* min-latency: meets the target; an unreachable target is an error */
    c.alloc = HW_ALLOC_MIN_LATENCY;
    c.latency_target_us = 8.0; /* 800 cycles at 100 MHz */
    m = hw_create(&c, &n, 6, &err);
    hw_sample r;
    assert_int_equal(hw_run(m, &in, out, HW_JUMP, 0, &r), 0);
    assert_true(r.latency > 800); /* one PE each misses it */
    hw_sample_free(&r);
    assert_int_equal(hw_allocate(m, &in, lp, 1), 0);
    assert_int_equal(hw_run(m, &in, out, HW_JUMP, 0, &r), 0);
    assert_true(r.latency <= 800);
    hw_sample_free(&r);
    hw_free(m);
    c.latency_target_us = 0.01;
    m = hw_create(&c, &n, 6, &err);
    assert_int_equal(hw_allocate(m, &in, lp, 1), EVSNN_ERANGE);
    hw_free(m);
    spk_deinit(&in);
    for (int l = 0; l < 3; l++) spk_deinit(&out[l]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snndse_fc),
        cmocka_unit_test(test_snndse_conv),
        cmocka_unit_test(test_closed_forms),
        cmocka_unit_test(test_modes_agree_random),
        cmocka_unit_test(test_snndse_conv_sparse_agree),
        cmocka_unit_test(test_overflow_error),
        cmocka_unit_test(test_energy_by_hand),
        cmocka_unit_test(test_models_same_ops),
        cmocka_unit_test(test_snndse_energy_by_hand),
        cmocka_unit_test(test_schedules),
        cmocka_unit_test(test_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
