/* tests/test_train_init.c — data-dependent initialisation of the biases (trainer_data_init):
 * after it, every channel's mean input current over the calibration samples, computed here
 * with plain loops from the engine's spike trains, is target·θ; layer by layer. */
#include "tests/testutil.h"

#include <math.h>

#include "sim/engine.h"
#include "sim/evsnn.h"
#include "sim/synth.h"
#include "sim/train.h"

enum { B = 16, T = 12 };

/* Time average of a train into x[n]. */
static void time_avg(const spk_train *s, float *x) {
    for (uint32_t i = 0; i < s->n; i++) x[i] = 0.0f;
    for (uint32_t k = 0; k < s->nnz; k++) x[s->idx[k]] += spk_val(s, k);
    for (uint32_t i = 0; i < s->n; i++) x[i] /= (float)s->T;
}

static void assert_close(double got, double want, const char *what, uint32_t c) {
    if (fabs(got - want) > 1e-4 * (1.0 + fabs(want))) fail_msg("%s channel %u: mean current %.7g, expected %.7g", what, c, got, want);
}

/* Dense 20-8-4 on Bernoulli trains: layer 1 against the inputs, layer 2 against the
 * engine's layer-1 trains after the first layer's biases changed. */
static void test_dense_layers_centred(void **state) {
    (void)state;
    neuron_cfg nc[2] = {{.beta = 0.9f, .theta = 1.5f, .reset = RESET_SUBTRACT, .cmp = CMP_GT, .bias = 1},
                        {.beta = 0.9f, .theta = 0.5f, .reset = RESET_SUBTRACT, .cmp = CMP_GT, .bias = 1}};
    net_opts o = {.cfg = nc, .n_cfg = 2};
    int err;
    net *n = net_build("20-8-4", 0, 0, 0, &o, &err);
    assert_non_null(n);
    net_init_params(n, 5);
    for (size_t i = 0; i < n->n_params; i++) n->params[i] *= 4.0f; /* make layer 1 fire */
    spk_train in[B];
    sim_input si[B];
    for (int b = 0; b < B; b++) {
        assert_int_equal(synth_bernoulli(&in[b], T, 20, 0.2 + 0.02 * b, 100 + (uint64_t)b), 0);
        si[b] = (sim_input){.train = &in[b], .T = T};
    }
    train_cfg c = train_defaults();
    c.threads = 1;
    trainer *tr = trainer_create(n, &c, T, &err);
    assert_non_null(tr);
    const float target = 0.25f;
    train_init_report rep;
    assert_int_equal(trainer_data_init(tr, si, B, target, &rep), 0);
    assert_true(rep.layer[0] && rep.layer[1]);
    sim *s = sim_create(n, T, &err);
    sim_result r;
    sim_result_init(&r, n, T, 0);
    double m1[8] = {0}, m2[4] = {0};
    uint64_t hidden_spikes = 0;
    for (int b = 0; b < B; b++) {
        float x[20], h[8];
        time_avg(&in[b], x);
        const net_layer *L = &n->layers[0];
        for (int j = 0; j < 8; j++) {
            double a = L->b[j];
            for (int i = 0; i < 20; i++) a += (double)x[i] * L->w[i * 8 + j];
            m1[j] += a / B;
        }
        assert_int_equal(sim_run(s, &si[b], &r), 0);
        hidden_spikes += r.out[0].nnz;
        time_avg(&r.out[0], h);
        const net_layer *L2 = &n->layers[1];
        for (int j = 0; j < 4; j++) {
            double a = L2->b[j];
            for (int i = 0; i < 8; i++) a += (double)h[i] * L2->w[i * 4 + j];
            m2[j] += a / B;
        }
    }
    assert_true(hidden_spikes > 0); /* layer 2 was calibrated on real activity */
    for (uint32_t j = 0; j < 8; j++) assert_close(m1[j], target * 1.5, "fc1", j);
    for (uint32_t j = 0; j < 4; j++) assert_close(m2[j], target * 0.5, "fc2", j);
    sim_result_deinit(&r);
    sim_free(s);
    trainer_free(tr);
    for (int b = 0; b < B; b++) spk_deinit(&in[b]);
    net_free(n);
}

/* Conv 3C3 on 1x6x6 static images with average or sum pooling of currents: the mean over
 * samples and pooled positions of each output map, from a hand-written convolution. */
static void check_conv(const char *arch, int sum_pool) {
    neuron_cfg nc = {.beta = 0.9f, .theta = 2.0f, .reset = RESET_SUBTRACT, .cmp = CMP_GT, .bias = 1};
    net_opts o = {.cfg = &nc, .n_cfg = 1};
    int err;
    net *n = net_build(arch, 1, 6, 6, &o, &err);
    assert_non_null(n);
    net_init_params(n, 9);
    static float img[B][36];
    sim_input si[B];
    rng *g = rng_create(4);
    for (int b = 0; b < B; b++) {
        for (int i = 0; i < 36; i++) img[b][i] = (float)rng_uniform(g);
        si[b] = (sim_input){.static_x = img[b], .T = T};
    }
    rng_free(g);
    train_cfg c = train_defaults();
    c.threads = 1;
    trainer *tr = trainer_create(n, &c, T, &err);
    assert_non_null(tr);
    const float target = -0.5f;
    assert_int_equal(trainer_data_init(tr, si, B, target, NULL), 0);
    const net_layer *L = &n->layers[0];
    for (uint32_t co = 0; co < 3; co++) {
        double mean = 0.0;
        for (int b = 0; b < B; b++)
            for (int py = 0; py < 2; py++)
                for (int px = 0; px < 2; px++) {
                    double pooled = 0.0;
                    for (int dy = 0; dy < 2; dy++)
                        for (int dx = 0; dx < 2; dx++) {
                            const int oy = 2 * py + dy, ox = 2 * px + dx;
                            double a = L->b[co];
                            for (int ky = 0; ky < 3; ky++)
                                for (int kx = 0; kx < 3; kx++) a += (double)img[b][(oy + ky) * 6 + ox + kx] * L->w[(co * 3 + ky) * 3 + kx];
                            pooled += a;
                        }
                    mean += (sum_pool ? pooled : pooled / 4.0) / (B * 4);
                }
        assert_close(mean, target * 2.0, arch, co);
    }
    trainer_free(tr);
    net_free(n);
}

static void test_conv_average_pool(void **state) { (void)state; check_conv("3C3-AP2-12-2", 0); }
static void test_conv_sum_pool(void **state) { (void)state; check_conv("3C3-SP2-12-2", 1); }

static void test_errors(void **state) {
    (void)state;
    neuron_cfg nc = {.beta = 0.9f, .theta = 1.0f, .reset = RESET_SUBTRACT, .cmp = CMP_GT, .bias = 0};
    net_opts o = {.cfg = &nc, .n_cfg = 1};
    int err;
    net *n = net_build("4-2", 0, 0, 0, &o, &err);
    assert_non_null(n);
    train_cfg c = train_defaults();
    trainer *tr = trainer_create(n, &c, T, &err);
    assert_non_null(tr);
    float x[4] = {1, 0, 1, 0};
    sim_input si = {.static_x = x, .T = T};
    assert_int_equal(trainer_data_init(tr, &si, 1, 0.0f, NULL), EVSNN_EINVAL);
    assert_non_null(strstr(evsnn_errmsg(), "no bias"));
    assert_int_equal(trainer_data_init(tr, &si, 0, 0.0f, NULL), EVSNN_EINVAL);
    trainer_free(tr);
    net_free(n);
    nc.bias = 1;
    n = net_build("4-2", 0, 0, 0, &o, &err);
    assert_non_null(n);
    tr = trainer_create(n, &c, T, &err);
    assert_non_null(tr);
    assert_int_equal(trainer_data_init(tr, &si, 1, 0.0f, NULL), 0);
    si.T = T + 1; /* longer than the trainer planned */
    assert_int_equal(trainer_data_init(tr, &si, 1, 0.0f, NULL), EVSNN_EINVAL);
    assert_non_null(strstr(evsnn_errmsg(), "sample 0"));
    trainer_free(tr);
    net_free(n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dense_layers_centred),
        cmocka_unit_test(test_conv_average_pool),
        cmocka_unit_test(test_conv_sum_pool),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
