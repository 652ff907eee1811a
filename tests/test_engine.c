/* tests/test_engine.c — the event-driven engine against the clock-driven reference, a
 * hand-computed case, and the snnTorch forward vectors in ../shared/reference. */
#include "tests/testutil.h"

#include <math.h>

#include "sim/engine.h"
#include "sim/evsnn.h"
#include "sim/rng.h"
#include "sim/synth.h"
#include "tests/h5read.h"

/* Exact-arithmetic parameters: every weight and bias k/64 with |k| ≤ 40, β a power of two.
 * Over a few steps every product and sum then fits in float's 24-bit mantissa, so both
 * engines compute exact values and must agree bit for bit. */
static void exact_params(net *n, uint64_t seed) {
    rng *r = rng_create(seed);
    for (size_t i = 0; i < n->n_params; i++) n->params[i] = (float)((int)rng_below(r, 81) - 40) / 64.0f;
    rng_free(r);
}

static void assert_trains_equal(const spk_train *a, const spk_train *b, const char *what) {
    if (a->nnz != b->nnz) fail_msg("%s: %u vs %u events", what, a->nnz, b->nnz);
    for (uint32_t t = 0; t <= a->T; t++)
        if (a->off[t] != b->off[t]) fail_msg("%s: offsets differ at step %u", what, t);
    for (uint32_t k = 0; k < a->nnz; k++) {
        if (a->idx[k] != b->idx[k]) fail_msg("%s: event %u channel %u vs %u", what, k, a->idx[k], b->idx[k]);
        if (test_bits(spk_val(a, k)) != test_bits(spk_val(b, k))) fail_msg("%s: event %u value differs", what, k);
    }
}

/* Run both engines; compare every layer's spikes and, bit for bit, every membrane. The
 * event engine runs under each conv-step policy (auto, forced sparse, forced all-neuron):
 * all three must give the reference's floats. */
static void compare_exact(net *n, const sim_input *in) {
    sim_result rr;
    assert_int_equal(sim_result_init(&rr, n, in->T, SIM_RECORD_MEM), 0);
    assert_int_equal(ref_run(n, in, &rr), 0);
    int err;
    sim *s = sim_create(n, in->T, &err);
    assert_non_null(s);
    for (int policy = SIM_CONV_AUTO; policy <= SIM_CONV_ALL; policy++) {
        sim_result re;
        assert_int_equal(sim_result_init(&re, n, in->T, SIM_RECORD_MEM), 0);
        sim_set_conv_policy(s, policy);
        assert_int_equal(sim_run(s, in, &re), 0);
        for (uint32_t l = 0; l < n->n_layers; l++) {
            char what[320];
            snprintf(what, sizeof what, "%s layer %s policy %d", n->arch, n->layers[l].name, policy);
            assert_int_equal(spk_validate(&re.out[l]), 0);
            assert_trains_equal(&re.out[l], &rr.out[l], what);
            assert_int_equal(re.st[l].spikes, rr.st[l].spikes);
            assert_int_equal(re.st[l].silent, rr.st[l].silent);
            if (!re.mem[l]) continue;
            size_t m = (size_t)in->T * n->layers[l].n_out;
            for (size_t i = 0; i < m; i++)
                if (test_bits(re.mem[l][i]) != test_bits(rr.mem[l][i]))
                    fail_msg("%s: membrane [t=%zu, i=%zu] %.9g (event) vs %.9g (dense)", what, i / n->layers[l].n_out,
                             i % n->layers[l].n_out, re.mem[l][i], rr.mem[l][i]);
        }
        sim_result_deinit(&re);
    }
    sim_free(s);
    sim_result_deinit(&rr);
}

static net *build(const char *arch, uint32_t c, uint32_t h, uint32_t w, const net_opts *o) {
    int err;
    net *n = net_build(arch, c, h, w, o, &err);
    if (!n) fail_msg("net_build(%s): %s", arch, evsnn_errmsg());
    return n;
}

/* Every reset and compare mode, dense layers, bias on, β = 1/2, input p = 0.3. */
static void test_exact_dense_all_modes(void **state) {
    (void)state;
    for (int reset = 0; reset <= RESET_ZERO_DROP; reset++)
        for (int cmp = 0; cmp <= CMP_GE; cmp++) {
            neuron_cfg nc = {.beta = 0.5f, .theta = 1.0f, .reset = (reset_mode)reset, .cmp = (cmp_mode)cmp, .bias = 1};
            net_opts o = {.cfg = &nc, .n_cfg = 1};
            net *n = build("20-16-5", 0, 0, 0, &o);
            exact_params(n, 7 + (uint64_t)reset * 2 + (uint64_t)cmp);
            spk_train in;
            synth_bernoulli(&in, 12, 20, 0.3, 11 + (uint64_t)reset);
            sim_input si = {.train = &in, .T = 12};
            compare_exact(n, &si);
            spk_deinit(&in);
            net_free(n);
        }
}

/* Sparse input with silent steps: the lazy decay, the calendar of pending resets and the
 * bias-driven crossings carry the state across steps that have no input. β = 1/2 over 12
 * steps keeps every value within 6 + 12 fractional and 3 integer bits: exact in float. */
static void test_exact_sparse_and_bias(void **state) {
    (void)state;
    neuron_cfg nc = {.beta = 0.5f, .theta = 1.0f, .reset = RESET_SUBTRACT, .cmp = CMP_GT, .bias = 1};
    net_opts o = {.cfg = &nc, .n_cfg = 1};
    net *n = build("30-12-4", 0, 0, 0, &o);
    exact_params(n, 3);
    /* Strong positive biases on some neurons so that they cross on bias alone. */
    net_layer *L = &n->layers[0];
    for (uint32_t j = 0; j < 12; j += 3) L->b[j] = 0.59375f; /* 38/64: u∞ = 1.1875 > θ */
    spk_train in;
    synth_bernoulli(&in, 12, 30, 0.03, 5);
    uint32_t silent_steps = 0;
    for (uint32_t t = 0; t < 12; t++) silent_steps += spk_count(&in, t) == 0;
    assert_true(silent_steps >= 2); /* the case must exercise input-free steps */
    sim_input si = {.train = &in, .T = 12};
    compare_exact(n, &si);
    spk_deinit(&in);
    net_free(n);
}

/* Convolutions with every pooling of currents and of spikes, valid and same padding. */
static void test_exact_conv_pooling(void **state) {
    (void)state;
    const char *archs[] = {"4C3-AP2-36-5", "4C3-MP2-5", "4C3-SP2-5", "3C3-4C3-5", "4C3-P2-3C2-5"};
    for (unsigned a = 0; a < sizeof archs / sizeof *archs; a++)
        for (int pon = 0; pon <= 1; pon++)
            for (int sp = 0; sp <= 1; sp++)
                for (int same = 0; same <= 1; same++) {
                    if (pon == 0 && sp == 1) continue; /* the spike-pool mode only matters on spikes */
                    neuron_cfg nc = {.beta = 0.5f, .theta = 1.0f, .reset = RESET_SUBTRACT, .cmp = CMP_GT, .bias = 1};
                    net_opts o = {.cfg = &nc, .n_cfg = 1, .pool_on = (pool_on)pon, .spool = (spike_pool)sp, .same_pad = same};
                    int err;
                    net *n = net_build(archs[a], 2, 8, 8, &o, &err);
                    if (!n) {
                        /* "…-36-5" names the flatten size only for valid padding and current pooling */
                        if (err == EVSNN_ESHAPE) continue;
                        fail_msg("%s: %s", archs[a], evsnn_errmsg());
                    }
                    exact_params(n, 100 + a);
                    spk_train in;
                    synth_bernoulli(&in, 8, n->n_in, 0.15, 9 + a);
                    sim_input si = {.train = &in, .T = 8};
                    compare_exact(n, &si);
                    spk_deinit(&in);
                    net_free(n);
                }
}

/* Direct (static) input: currents computed once by the engine, every step by the reference. */
static void test_exact_static_input(void **state) {
    (void)state;
    neuron_cfg nc = {.beta = 0.5f, .theta = 1.0f, .reset = RESET_SUBTRACT, .cmp = CMP_GT, .bias = 1};
    net_opts o = {.cfg = &nc, .n_cfg = 1};
    const char *archs[] = {"4C3-AP2-5", "64-10-3"};
    for (int a = 0; a < 2; a++) {
        net *n = build(archs[a], 1, 8, 8, &o);
        exact_params(n, 42 + (uint64_t)a);
        float x[64];
        for (int i = 0; i < 64; i++) x[i] = (float)((i * 7) % 5) / 4.0f; /* exact quarters, some 0 */
        sim_input si = {.static_x = x, .T = 10};
        compare_exact(n, &si);
        net_free(n);
    }
}

/* Hand computation: one neuron, β = 1/2, θ = 1, bias 3/4, no input.
 *   u0 = 0.75; u1 = 0.375 + 0.75 = 1.125 > 1 → spike at t = 1;
 *   u2 = 0.5625 + 0.75 − 1 = 0.3125; u3 = 0.15625 + 0.75 = 0.90625;
 *   u4 = 0.453125 + 0.75 = 1.203125 → spike at t = 4; u5 = 0.6015625 + 0.75 − 1 = 0.3515625;
 *   u6 = 0.92578125; u7 = 1.212890625 → spike at t = 7. */
static void test_bias_crossing_by_hand(void **state) {
    (void)state;
    neuron_cfg nc = {.beta = 0.5f, .theta = 1.0f, .reset = RESET_SUBTRACT, .cmp = CMP_GT, .bias = 1};
    net_opts o = {.cfg = &nc, .n_cfg = 1};
    net *n = build("2-1", 0, 0, 0, &o);
    n->layers[0].w[0] = n->layers[0].w[1] = 0.0f;
    n->layers[0].b[0] = 0.75f;
    spk_train in;
    spk_init(&in, 8, 2, 0);
    spk_close(&in, 0);
    sim_input si = {.train = &in, .T = 8};
    sim_result r;
    sim_result_init(&r, n, 8, SIM_RECORD_MEM);
    int err;
    sim *s = sim_create(n, 8, &err);
    assert_int_equal(sim_run(s, &si, &r), 0);
    const float want[8] = {0.75f, 1.125f, 0.3125f, 0.90625f, 1.203125f, 0.3515625f, 0.92578125f, 1.212890625f};
    for (int t = 0; t < 8; t++) assert_float_equal(r.mem[0][t], want[t], 0.0);
    assert_int_equal(r.out[0].nnz, 3);
    assert_int_equal(spk_count(&r.out[0], 1), 1);
    assert_int_equal(spk_count(&r.out[0], 4), 1);
    assert_int_equal(spk_count(&r.out[0], 7), 1);
    /* Without input, only the scheduled steps are updated: 3 crossings + 3 pending resets at
     * most, not 8 steps. */
    assert_true(r.st[0].neuron_updates <= 6);
    sim_free(s);
    sim_result_deinit(&r);
    spk_deinit(&in);
    net_free(n);
}

/* Random parameters (β = 0.9, PyTorch init): within 1e-5 relative (or 1e-6 absolute) on
 * membranes, spikes identical. A spike could legitimately flip where |u − θ| is within
 * rounding of θ; the test asserts that no such near-tie occurred before comparing, so a
 * failure is a real disagreement. */
static void test_random_tolerance(void **state) {
    (void)state;
    const char *archs[] = {"100-80-10", "8C3-AP2-10"};
    for (int a = 0; a < 2; a++) {
        neuron_cfg nc = {.beta = 0.9f, .theta = 1.0f, .reset = RESET_SUBTRACT, .cmp = CMP_GT, .bias = 1};
        net_opts o = {.cfg = &nc, .n_cfg = 1};
        net *n = build(archs[a], 1, 10, 10, &o);
        net_init_params(n, 1234);
        for (size_t i = 0; i < n->n_params; i++) n->params[i] *= 3.0f; /* make the net fire */
        spk_train in;
        synth_bernoulli(&in, 50, 100, 0.2, 77);
        sim_input si = {.train = &in, .T = 50};
        sim_result re, rr;
        sim_result_init(&re, n, 50, SIM_RECORD_MEM);
        sim_result_init(&rr, n, 50, SIM_RECORD_MEM);
        int err;
        sim *s = sim_create(n, 50, &err);
        assert_int_equal(sim_run(s, &si, &re), 0);
        assert_int_equal(ref_run(n, &si, &rr), 0);
        for (uint32_t l = 0; l < n->n_layers; l++) {
            size_t m = (size_t)50 * n->layers[l].n_out;
            for (size_t i = 0; i < m; i++) {
                assert_true(fabsf(rr.mem[l][i] - 1.0f) > 1e-5f); /* no near-tie at θ */
                float d = fabsf(re.mem[l][i] - rr.mem[l][i]);
                if (d > 1e-6f + 1e-5f * fabsf(rr.mem[l][i]))
                    fail_msg("%s layer %u membrane %zu: %.9g vs %.9g", archs[a], l, i, re.mem[l][i], rr.mem[l][i]);
            }
            assert_trains_equal(&re.out[l], &rr.out[l], archs[a]);
        }
        assert_true(re.out[0].nnz > 0);
        sim_free(s);
        sim_result_deinit(&re);
        sim_result_deinit(&rr);
        spk_deinit(&in);
        net_free(n);
    }
}

/* A batch on two threads gives exactly the serial results. */
static void test_batch_equals_serial(void **state) {
    (void)state;
    net *n = build("50-40-10", 0, 0, 0, NULL);
    net_init_params(n, 5);
    enum { B = 6, T = 30 };
    spk_train in[B];
    sim_input si[B];
    sim_result rb[B], rs[B];
    for (int b = 0; b < B; b++) {
        synth_bernoulli(&in[b], T, 50, 0.1, 200 + (uint64_t)b);
        si[b] = (sim_input){.train = &in[b], .T = T};
        sim_result_init(&rb[b], n, T, 0);
        sim_result_init(&rs[b], n, T, 0);
    }
    assert_int_equal(sim_run_batch(n, si, B, rb, 2), 0);
    int err;
    sim *s = sim_create(n, T, &err);
    for (int b = 0; b < B; b++) {
        assert_int_equal(sim_run(s, &si[b], &rs[b]), 0);
        for (uint32_t l = 0; l < n->n_layers; l++) assert_trains_equal(&rb[b].out[l], &rs[b].out[l], "batch");
        sim_result_deinit(&rb[b]);
        sim_result_deinit(&rs[b]);
        spk_deinit(&in[b]);
    }
    sim_free(s);
    net_free(n);
}

/* snnTorch forward vectors: net 8-6-3 with bias, β = 0.9, θ = 1, T = 20, batch 2. */
static void check_reference(const char *path, reset_mode reset) {
    size_t nin, nm1, ns1, nm2, ns2;
    float *x = h5r_floats(path, "input", &nin);
    float *mem1 = h5r_floats(path, "mem1", &nm1), *spk1 = h5r_floats(path, "spk1", &ns1);
    float *mem2 = h5r_floats(path, "mem2", &nm2), *spk2 = h5r_floats(path, "spk2", &ns2);
    assert_non_null(x); assert_non_null(mem1); assert_non_null(mem2); assert_non_null(spk2);
    enum { T = 20, B = 2, NI = 8, NH = 6, NO = 3 };
    assert_int_equal(nin, T * B * NI);
    assert_int_equal(nm2, T * B * NO);
    neuron_cfg nc = {.beta = (float)h5r_attr(path, "beta"), .theta = 1.0f, .reset = reset, .cmp = CMP_GT, .bias = 1};
    assert_float_equal(nc.beta, 0.9f, 1e-7);
    net_opts o = {.cfg = &nc, .n_cfg = 1};
    net *n = build("8-6-3", 0, 0, 0, &o);
    assert_int_equal(h5r_load_linear(n, path, ""), 0);
    int err;
    sim *s = sim_create(n, T, &err);
    for (int b = 0; b < B; b++) {
        spk_train in;
        assert_int_equal(h5r_sample_train(&in, x, T, B, NI, (uint32_t)b), 0);
        sim_input si = {.train = &in, .T = T};
        sim_result r;
        sim_result_init(&r, n, T, SIM_RECORD_MEM);
        assert_int_equal(sim_run(s, &si, &r), 0);
        const float *wm[2] = {mem1, mem2}, *ws[2] = {spk1, spk2};
        const int nn[2] = {NH, NO};
        for (int l = 0; l < 2; l++) {
            float sp[T * NH];
            spk_to_dense(sp, &r.out[l]);
            for (int t = 0; t < T; t++)
                for (int i = 0; i < nn[l]; i++) {
                    float want = wm[l][(t * B + b) * nn[l] + i], got = r.mem[l][t * nn[l] + i];
                    if (fabsf(want - got) > 1e-5f * fmaxf(1.0f, fabsf(want)))
                        fail_msg("%s: mem%d[t=%d, b=%d, %d] = %.7g, snnTorch %.7g", path, l + 1, t, b, i, got, want);
                    if (sp[t * nn[l] + i] != ws[l][(t * B + b) * nn[l] + i])
                        fail_msg("%s: spk%d[t=%d, b=%d, %d] differs", path, l + 1, t, b, i);
                }
        }
        sim_result_deinit(&r);
        spk_deinit(&in);
    }
    sim_free(s);
    net_free(n);
    free(x); free(mem1); free(spk1); free(mem2); free(spk2);
}

static void test_snntorch_forward(void **state) {
    (void)state;
    const char *surr[] = {"atan_a2", "fast_sigmoid_k25", "sigmoid_k25", "triangular_thr1", "ste", "heaviside",
                          "spike_rate_escape_b1_k25", "sfs_k25_B1"};
    const char *resets[] = {"subtract", "zero", "none"};
    const reset_mode rm[] = {RESET_SUBTRACT, RESET_ZERO, RESET_NONE};
    for (unsigned s = 0; s < sizeof surr / sizeof *surr; s++)
        for (int r = 0; r < 3; r++) {
            char path[256];
            snprintf(path, sizeof path, "../shared/reference/dense_%s_%s.h5", surr[s], resets[r]);
            REQUIRE_SHARED(path);
            check_reference(path, rm[r]);
        }
}

/* Work follows events: three interior input spikes into a 8C3 layer on a 32x32 map touch
 * 3 × 8 × 9 synapses and at most that many neurons (plus their pending resets), not the
 * 8 × 30 × 30 × 50 neuron-steps a clock-driven engine updates. */
static void test_work_follows_events(void **state) {
    (void)state;
    neuron_cfg nc = {.beta = 0.9f, .theta = 1.0f, .reset = RESET_SUBTRACT, .cmp = CMP_GT, .bias = 0};
    net_opts o = {.cfg = &nc, .n_cfg = 1};
    net *n = build("8C3-10", 1, 32, 32, &o);
    net_init_params(n, 1);
    for (size_t i = 0; i < n->layers[0].n_w; i++) n->layers[0].w[i] = 2.0f; /* every touched neuron fires */
    spk_train in;
    spk_init(&in, 50, 1024, 0);
    spk_push(&in, 3, 5 * 32 + 5, 1);
    spk_push(&in, 20, 16 * 32 + 16, 1);
    spk_push(&in, 40, 25 * 32 + 9, 1);
    spk_close(&in, 0);
    sim_input si = {.train = &in, .T = 50};
    sim_result r;
    sim_result_init(&r, n, 50, 0);
    int err;
    sim *s = sim_create(n, 50, &err);
    assert_int_equal(sim_run(s, &si, &r), 0);
    assert_int_equal(r.st[0].syn_events, 3 * 8 * 9);
    assert_int_equal(r.st[0].spikes, 3 * 8 * 9);          /* each touched neuron fires once */
    assert_true(r.st[0].neuron_updates <= 2 * 3 * 8 * 9); /* touched + one pending reset each */
    assert_true(r.st[0].neuron_updates >= 3 * 8 * 9);
    sim_free(s);
    sim_result_deinit(&r);
    spk_deinit(&in);
    net_free(n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_dense_all_modes),
        cmocka_unit_test(test_exact_sparse_and_bias),
        cmocka_unit_test(test_exact_conv_pooling),
        cmocka_unit_test(test_exact_static_input),
        cmocka_unit_test(test_bias_crossing_by_hand),
        cmocka_unit_test(test_random_tolerance),
        cmocka_unit_test(test_batch_equals_serial),
        cmocka_unit_test(test_snntorch_forward),
        cmocka_unit_test(test_work_follows_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
