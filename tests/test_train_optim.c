/* tests/test_train_optim.c — optimizers, schedule and clipping against hand computations
 * of PyTorch's update rules; trainer determinism across thread counts; binarized forward. */
#include "tests/testutil.h"

#include <math.h>

#include "sim/evsnn.h"
#include "sim/synth.h"
#include "sim/optim.h"
#include "sim/train.h"

/* Adam, one step: m̂ = g, v̂ = g², so p −= lr·g/(|g| + ε) = lr·sign(g) (to 1e-8). */
static void test_adam_by_hand(void **state) {
    (void)state;
    opt_cfg c = optim_defaults(OPT_ADAM);
    c.lr = 0.1f;
    int err;
    optim *o = optim_create(&c, 2, &err);
    float p[2] = {1.0f, -2.0f}, g[2] = {0.5f, -0.25f};
    optim_step(o, p, g);
    assert_float_equal(p[0], 0.9f, 1e-6);
    assert_float_equal(p[1], -1.9f, 1e-6);
    /* Second step with g = 0: m = 0.9·m1 = 0.045, v = 0.999·v1; m̂ = 0.045/0.19, v̂ = 0.999·0.00025/0.001999. */
    float z[2] = {0, 0};
    optim_step(o, p, z);
    const double m = 0.9 * 0.05 / (1 - 0.81), v = 0.999 * 0.00025 / (1 - 0.998001);
    assert_float_equal(p[0], 0.9 - 0.1 * m / (sqrt(v) + 1e-8), 1e-6);
    optim_free(o);
}

/* SGD with momentum 0.9, lr 0.1, g = 1 twice: buf 1 then 1.9; p = −0.1 then −0.29. */
static void test_sgd_momentum_by_hand(void **state) {
    (void)state;
    opt_cfg c = optim_defaults(OPT_SGD);
    c.lr = 0.1f;
    c.momentum = 0.9f;
    int err;
    optim *o = optim_create(&c, 1, &err);
    float p = 0.0f, g = 1.0f;
    optim_step(o, &p, &g);
    assert_float_equal(p, -0.1f, 1e-7);
    g = 1.0f;
    optim_step(o, &p, &g);
    assert_float_equal(p, -0.29f, 1e-6);
    optim_free(o);
}

/* Cosine annealing without restarts against PyTorch's own recursion for CosineAnnealingLR
 * (its chainable get_lr, stepped once per iteration past T_max): T_max 4, lr 1, η_min 0.1. */
static void test_cosine_continue(void **state) {
    (void)state;
    opt_cfg c = optim_defaults(OPT_SGD);
    c.lr = 1.0f, c.eta_min = 0.1f, c.cos_T0 = 4, c.cos_continue = 1;
    int err;
    optim *o = optim_create(&c, 1, &err);
    assert_non_null(o);
    const double T = 4, base = 1.0, lo = (double)c.eta_min;
    double lr = base;
    for (unsigned t = 0; t <= 20; t++) {
        if (t > 0) {
            if ((long)(t - 1 - T) % (long)(2 * T) == 0) lr += (base - lo) * (1 - cos(M_PI / T)) / 2;
            else lr = (1 + cos(M_PI * t / T)) / (1 + cos(M_PI * (t - 1) / T)) * (lr - lo) + lo;
        }
        o->t = t;
        assert_float_equal(optim_lr(o), lr, 1e-6);
    }
    o->t = 4; /* the floor at T_max, back to the base at 2 T_max */
    assert_float_equal(optim_lr(o), 0.1, 1e-6);
    o->t = 8;
    assert_float_equal(optim_lr(o), 1.0, 1e-6);
    optim_free(o);
}

/* Cosine warm restarts T0 = 4, T_mult = 2, lr 1 → 0: periods [0,4), [4,12), [12,28). */
static void test_cosine_restarts(void **state) {
    (void)state;
    opt_cfg c = optim_defaults(OPT_SGD);
    c.lr = 1.0f;
    c.cos_T0 = 4;
    c.cos_Tmult = 2;
    int err;
    optim *o = optim_create(&c, 1, &err);
    const double want[] = {1.0, (1 + cos(M_PI / 4)) / 2, 0.5, (1 + cos(3 * M_PI / 4)) / 2, 1.0, (1 + cos(M_PI / 8)) / 2,
                           (1 + cos(M_PI / 4)) / 2};
    for (unsigned t = 0; t < sizeof want / sizeof *want; t++) {
        o->t = t;
        assert_float_equal(optim_lr(o), want[t], 1e-6);
    }
    o->t = 12;
    assert_float_equal(optim_lr(o), 1.0, 1e-6);
    optim_free(o);
    c.lr = -1;
    assert_null(optim_create(&c, 1, &err));
    assert_int_equal(err, EVSNN_EINVAL);
}

/* Long vectors take the threaded paths: the norm, the clip and the Adam and SGD updates give
 * the same floats with one thread and two, and agree with a plain loop of the update rule. */
static void test_long_vectors_threads(void **state) {
    (void)state;
    enum { N = 200003 }; /* above the threading threshold, not a multiple of the blocks */
    float *g = malloc(N * sizeof *g), *g1 = malloc(N * sizeof *g1), *g2 = malloc(N * sizeof *g2);
    float *p1 = malloc(N * sizeof *p1), *p2 = malloc(N * sizeof *p2), *pr = malloc(N * sizeof *pr);
    double s = 0.0;
    for (size_t i = 0; i < N; i++) {
        g[i] = (float)sin(0.37 * (double)i) * (i % 7 == 0 ? 10.0f : 1.0f);
        s += (double)g[i] * g[i];
        p1[i] = p2[i] = pr[i] = (float)cos(0.11 * (double)i);
    }
    const double n1 = optim_norm(g, N, 1), n2 = optim_norm(g, N, 2);
    assert_true(n1 == n2);
    assert_float_equal(n1, sqrt(s), 1e-9 * sqrt(s));
    memcpy(g1, g, N * sizeof *g);
    memcpy(g2, g, N * sizeof *g);
    assert_true(optim_clip_norm(g1, N, 1.0f, 1) == optim_clip_norm(g2, N, 1.0f, 2));
    assert_memory_equal(g1, g2, N * sizeof *g1);
    for (int kind = 0; kind < 2; kind++) {
        opt_cfg c = optim_defaults(kind ? OPT_ADAM : OPT_SGD);
        c.momentum = kind ? 0.0f : 0.9f;
        c.weight_decay = 1e-4f;
        int err;
        optim *o1 = optim_create(&c, N, &err), *o2 = optim_create(&c, N, &err);
        assert_non_null(o1);
        assert_non_null(o2);
        o1->threads = 1;
        o2->threads = 2;
        float *m = calloc(N, sizeof *m), *v = calloc(N, sizeof *v);
        for (int t = 1; t <= 3; t++) {
            memcpy(g1, g, N * sizeof *g);
            memcpy(g2, g, N * sizeof *g);
            optim_step(o1, p1, g1);
            optim_step(o2, p2, g2);
            /* the rule of optim.h, one element at a time */
            const float bc1 = 1.0f - powf(c.beta1, (float)t), bc2 = 1.0f - powf(c.beta2, (float)t);
            for (size_t i = 0; i < N; i++) {
                const float gi = g[i] + c.weight_decay * pr[i];
                if (kind) {
                    m[i] = c.beta1 * m[i] + (1.0f - c.beta1) * gi;
                    v[i] = c.beta2 * v[i] + (1.0f - c.beta2) * gi * gi;
                    pr[i] -= c.lr / bc1 * m[i] / (sqrtf(v[i]) / sqrtf(bc2) + c.eps);
                } else {
                    m[i] = t == 1 ? gi : c.momentum * m[i] + gi;
                    pr[i] -= c.lr * m[i];
                }
            }
        }
        assert_memory_equal(p1, p2, N * sizeof *p1);
        assert_memory_equal(p1, pr, N * sizeof *p1);
        free(m);
        free(v);
        optim_free(o1);
        optim_free(o2);
    }
    free(g); free(g1); free(g2); free(p1); free(p2); free(pr);
}

static void test_clip(void **state) {
    (void)state;
    float g[2] = {3.0f, 4.0f};
    assert_float_equal(optim_clip_norm(g, 2, 1.0f, 1), 5.0, 1e-9);
    assert_float_equal(g[0], 0.6f, 1e-6);
    assert_float_equal(g[1], 0.8f, 1e-6);
    float h[2] = {0.3f, 0.4f};
    optim_clip_norm(h, 2, 1.0f, 1); /* below the limit: untouched */
    assert_float_equal(h[0], 0.3f, 0);
    float p[3] = {-2.0f, 0.5f, 3.0f};
    optim_clamp(p, 3, 1.0f);
    assert_float_equal(p[0], -1.0f, 0);
    assert_float_equal(p[1], 0.5f, 0);
    assert_float_equal(p[2], 1.0f, 0);
}

/* Four Adam steps with 1 and with 2 threads give the same parameters bit for bit (fixed
 * slots); binarized forward weights are exactly ±1 and a latent 0 reads as +1. */
static void run_steps(int threads, int binarize, float *out, size_t *np) {
    int err;
    net *n = net_build("40-30-4", 0, 0, 0, NULL, &err);
    assert_non_null(n);
    net_init_params(n, 3);
    for (size_t i = 0; i < n->n_params; i++) n->params[i] *= 4.0f;
    if (binarize) n->params[n->layers[0].w_off] = 0.0f;
    train_cfg c = train_defaults();
    c.threads = threads;
    c.binarize = binarize;
    c.latent_clamp = binarize ? 1.0f : 0.0f;
    c.opt.lr = 0.01f;
    enum { B = 6, T = 25 };
    trainer *tr = trainer_create(n, &c, T, &err);
    assert_non_null(tr);
    if (binarize) {
        assert_float_equal(n->params[n->layers[0].w_off], 1.0f, 0); /* sign(0) = +1 */
        for (size_t i = 0; i < n->layers[1].n_w; i++) assert_float_equal(fabsf(n->layers[1].w[i]), 1.0f, 0);
    }
    spk_train in[B];
    sim_input si[B];
    uint32_t lab[B];
    for (int b = 0; b < B; b++) {
        synth_bernoulli(&in[b], T, 40, 0.2, 50 + (uint64_t)b);
        si[b] = (sim_input){.train = &in[b], .T = T};
        lab[b] = (uint32_t)b % 4;
    }
    for (int s = 0; s < 4; s++) {
        train_stats st;
        memset(&st, 0, sizeof st);
        if (trainer_step(tr, si, lab, NULL, B, &st)) fail_msg("%s", evsnn_errmsg());
        assert_true(isfinite(st.loss));
    }
    memcpy(out, trainer_latent(tr), n->n_params * sizeof *out);
    *np = n->n_params;
    if (binarize)
        for (size_t i = 0; i < n->layers[0].n_w; i++) assert_true(fabsf(trainer_latent(tr)[n->layers[0].w_off + i]) <= 1.0f);
    for (int b = 0; b < B; b++) spk_deinit(&in[b]);
    trainer_free(tr);
    net_free(n);
}

static void test_threads_bitwise(void **state) {
    (void)state;
    for (int bin = 0; bin <= 1; bin++) {
        float a[2000], b[2000];
        size_t na, nb;
        run_steps(1, bin, a, &na);
        run_steps(2, bin, b, &nb);
        assert_int_equal(na, nb);
        for (size_t i = 0; i < na; i++) assert_int_equal(test_bits(a[i]), test_bits(b[i]));
    }
}

/* A label out of range is an error naming it, and the parameters stay as they were. */
static void test_bad_label(void **state) {
    (void)state;
    int err;
    net *n = net_build("10-5-3", 0, 0, 0, NULL, &err);
    net_init_params(n, 1);
    train_cfg c = train_defaults();
    trainer *tr = trainer_create(n, &c, 5, &err);
    spk_train in;
    synth_bernoulli(&in, 5, 10, 0.3, 1);
    sim_input si = {.train = &in, .T = 5};
    uint32_t lab = 3;
    float before = n->params[0];
    assert_int_equal(trainer_step(tr, &si, &lab, NULL, 1, NULL), EVSNN_ERANGE);
    assert_non_null(strstr(evsnn_errmsg(), "label 3"));
    assert_float_equal(n->params[0], before, 0);
    spk_deinit(&in);
    trainer_free(tr);
    net_free(n);
}

/* A NaN weight makes its layer's gradient NaN: the step stops with EVSNN_ENUMERIC naming
 * the step and the layer, and no parameter is updated. */
static void test_nan_stops_step(void **state) {
    (void)state;
    int err;
    net *n = net_build("10-6-3", 0, 0, 0, NULL, &err);
    net_init_params(n, 2);
    for (size_t i = 0; i < n->n_params; i++) n->params[i] *= 5.0f;
    train_cfg c = train_defaults();
    c.opt = optim_defaults(OPT_SGD);
    trainer *tr = trainer_create(n, &c, 8, &err);
    spk_train in;
    synth_bernoulli(&in, 8, 10, 0.5, 4);
    sim_input si = {.train = &in, .T = 8};
    uint32_t lab = 1;
    n->layers[1].w[0] = NAN; /* input 0 of fc2 */
    float before[200];
    memcpy(before, n->params, n->n_params * sizeof(float));
    assert_int_equal(trainer_step(tr, &si, &lab, NULL, 1, NULL), EVSNN_ENUMERIC);
    assert_non_null(strstr(evsnn_errmsg(), "step 0"));
    assert_non_null(strstr(evsnn_errmsg(), "fc"));
    for (size_t i = 0; i < n->n_params; i++)
        if (!isnan(before[i])) assert_int_equal(test_bits(n->params[i]), test_bits(before[i]));
    spk_deinit(&in);
    trainer_free(tr);
    net_free(n);
}

/* Threshold annealing by hand: θ0 = 1, θ∞ = 3, α = 0.5 → θ = 1, 2, 2.5, 2.75 after each
 * step; the surrogate centre stays at θ0 with `initial` and follows θ with `current`. */
static void test_tha_schedule_and_centre(void **state) {
    (void)state;
    for (int cen = 0; cen <= 1; cen++) {
        int err;
        net *n = net_build("10-6-3", 0, 0, 0, NULL, &err);
        net_init_params(n, 2);
        train_cfg c = train_defaults();
        c.n_tha = 1;
        c.tha_theta0[0] = 1.0f;
        c.tha_theta_inf[0] = 3.0f;
        c.tha_alpha[0] = 0.5f;
        c.centre = cen ? THA_CENTRE_CURRENT : THA_CENTRE_INITIAL;
        trainer *tr = trainer_create(n, &c, 6, &err);
        spk_train in;
        synth_bernoulli(&in, 6, 10, 0.4, 8);
        sim_input si = {.train = &in, .T = 6};
        uint32_t lab = 0;
        const float want[4] = {1.0f, 2.0f, 2.5f, 2.75f};
        for (int s = 0; s < 4; s++) {
            for (uint32_t l = 0; l < 2; l++) {
                assert_float_equal(n->layers[l].nc.theta, want[s], 1e-6);
                assert_float_equal(trainer_theta_c(tr)[l], cen ? want[s] : 1.0f, 1e-6);
            }
            if (s < 3) assert_int_equal(trainer_step(tr, &si, &lab, NULL, 1, NULL), 0);
        }
        spk_deinit(&in);
        trainer_free(tr);
        net_free(n);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adam_by_hand),
        cmocka_unit_test(test_sgd_momentum_by_hand),
        cmocka_unit_test(test_cosine_restarts), cmocka_unit_test(test_cosine_continue),
        cmocka_unit_test(test_clip),
        cmocka_unit_test(test_long_vectors_threads),
        cmocka_unit_test(test_threads_bitwise),
        cmocka_unit_test(test_bad_label),
        cmocka_unit_test(test_nan_stops_step),
        cmocka_unit_test(test_tha_schedule_and_centre),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
