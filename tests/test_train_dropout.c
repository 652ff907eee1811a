/* tests/test_train_dropout.c — dropout on currents: the forward against an independent
 * computation with the public mask, and the backward against a hand-derived gradient. */
#include "tests/testutil.h"

#include <math.h>

#include "kernels/lif.h"
#include "sim/backward.h"
#include "sim/engine.h"
#include "sim/evsnn.h"
#include "sim/synth.h"

enum { NI = 12, NO = 5, T = 10 };

static net *one_layer(reset_mode reset) {
    neuron_cfg nc = {.beta = 0.8f, .theta = 1.0f, .reset = reset, .cmp = CMP_GT, .bias = 1};
    net_opts o = {.cfg = &nc, .n_cfg = 1};
    int err;
    net *n = net_build("12-5", 0, 0, 0, &o, &err);
    assert_non_null(n);
    net_init_params(n, 3);
    for (size_t i = 0; i < n->n_params; i++) n->params[i] *= 2.0f;
    return n;
}

/* Forward: u[t] = lif_next(u[t−1], m[t]·(W·x[t] + b), 0, R) with m from sim_dropout_scale. */
static void test_forward_matches_independent(void **state) {
    (void)state;
    net *n = one_layer(RESET_SUBTRACT);
    const float p = 0.3f, drop[1] = {p};
    spk_train in;
    assert_int_equal(synth_bernoulli(&in, T, NI, 0.4, 7), 0);
    float x[T * NI];
    spk_to_dense(x, &in);
    int err;
    sim *s = sim_create(n, T, &err);
    assert_int_equal(sim_set_dropout(s, drop), 0);
    sim_input si = {.train = &in, .T = T, .dropout_seed = 99};
    sim_result r;
    sim_result_init(&r, n, T, SIM_RECORD_MEM);
    assert_int_equal(sim_run(s, &si, &r), 0);
    float u[NO] = {0};
    int dropped = 0;
    for (int t = 0; t < T; t++)
        for (int j = 0; j < NO; j++) {
            float I = 0.0f;
            for (int i = 0; i < NI; i++) I += x[t * NI + i] * n->layers[0].w[i * NO + j];
            float m = sim_dropout_scale(99, 0, (uint32_t)t, (uint32_t)j, p);
            dropped += m == 0.0f;
            int R = lif_above(u[j], 1.0f, LIF_GT);
            u[j] = lif_next(u[j], m * (I + n->layers[0].b[j]), 0.0f, R, 0.8f, 1.0f, LIF_SUBTRACT);
            float got = r.mem[0][t * NO + j];
            if (fabsf(got - u[j]) > 1e-5f * (1.0f + fabsf(u[j]))) fail_msg("t=%d j=%d: %g vs %g", t, j, got, u[j]);
        }
    assert_true(dropped > 5 && dropped < 30); /* about p · T · NO = 15 masked currents */
    /* dropout_seed 0 (evaluation): no dropout at all, the plain engine's membranes. */
    sim_result r0, rp;
    sim_result_init(&r0, n, T, SIM_RECORD_MEM);
    sim_result_init(&rp, n, T, SIM_RECORD_MEM);
    si.dropout_seed = 0;
    assert_int_equal(sim_run(s, &si, &r0), 0);
    sim *plain = sim_create(n, T, &err);
    assert_int_equal(sim_run(plain, &si, &rp), 0);
    assert_memory_equal(r0.mem[0], rp.mem[0], sizeof(float) * T * NO);
    sim_free(plain);
    sim_result_deinit(&r0);
    sim_result_deinit(&rp);
    sim_result_deinit(&r);
    sim_free(s);
    spk_deinit(&in);
    net_free(n);
}

/* Backward with a membrane loss gradient g_u = 1 everywhere and no reset (so no surrogate
 * enters): δ[t] = 1 + β·δ[t+1], and by hand ∂L/∂W_ij = Σ_t m_j[t]·δ[t]·x_i[t],
 * ∂L/∂b_j = Σ_t m_j[t]·δ[t]. Without dropout the same formula with m = 1. */
static void check_grad(float p, uint64_t seed) {
    net *n = one_layer(RESET_NONE);
    float drop[1] = {p};
    spk_train in;
    assert_int_equal(synth_bernoulli(&in, T, NI, 0.4, 8), 0);
    float x[T * NI];
    spk_to_dense(x, &in);
    int err;
    sim *s = sim_create(n, T, &err);
    bwd *bw = bwd_create(n, T, &err);
    assert_int_equal(sim_set_dropout(s, drop), 0);
    sim_input si = {.train = &in, .T = T, .dropout_seed = seed};
    for (int rec = 0; rec < 2; rec++) { /* recorded membranes, then rebuilt ones */
        sim_result r;
        sim_result_init(&r, n, T, rec ? 0 : SIM_RECORD_MEM);
        assert_int_equal(sim_run(s, &si, &r), 0);
        float gu[T * NO], *grads = calloc(n->n_params, sizeof(float));
        for (int i = 0; i < T * NO; i++) gu[i] = 1.0f;
        bwd_cfg c = {.sg = sg_default(SG_FAST_SIGMOID), .dropout = drop, .recompute = rec};
        assert_int_equal(bwd_sample(bw, n, &c, &si, &r, NULL, gu, grads, NULL), 0);
        float delta[T];
        delta[T - 1] = 1.0f;
        for (int t = T - 2; t >= 0; t--) delta[t] = 1.0f + 0.8f * delta[t + 1];
        const net_layer *L = &n->layers[0];
        for (int j = 0; j < NO; j++) {
            double db = 0;
            for (int t = 0; t < T; t++)
                db += (seed ? sim_dropout_scale(seed, 0, (uint32_t)t, (uint32_t)j, p) : 1.0f) * delta[t];
            assert_float_equal(grads[L->b_off + j], db, 1e-4 * (1 + fabs(db)));
            for (int i = 0; i < NI; i++) {
                double dw = 0;
                for (int t = 0; t < T; t++)
                    dw += (seed ? sim_dropout_scale(seed, 0, (uint32_t)t, (uint32_t)j, p) : 1.0f) * delta[t] * x[t * NI + i];
                assert_float_equal(grads[L->w_off + (size_t)i * NO + j], dw, 1e-4 * (1 + fabs(dw)));
            }
        }
        free(grads);
        sim_result_deinit(&r);
    }
    bwd_free(bw);
    sim_free(s);
    spk_deinit(&in);
    net_free(n);
}

static void test_backward_without_dropout(void **state) {
    (void)state;
    check_grad(0.3f, 0); /* seed 0: the dropout setting is ignored */
}

static void test_backward_with_dropout(void **state) {
    (void)state;
    check_grad(0.3f, 12345);
}

static void test_bad_rate(void **state) {
    (void)state;
    net *n = one_layer(RESET_SUBTRACT);
    int err;
    sim *s = sim_create(n, T, &err);
    const float bad[1] = {1.0f};
    assert_int_equal(sim_set_dropout(s, bad), EVSNN_EINVAL);
    sim_free(s);
    net_free(n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_matches_independent),
        cmocka_unit_test(test_backward_without_dropout),
        cmocka_unit_test(test_backward_with_dropout),
        cmocka_unit_test(test_bad_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
