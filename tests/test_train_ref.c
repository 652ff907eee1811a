/* tests/test_train_ref.c — loss, gradients and training steps against the snnTorch
 * reference vectors in ../shared/reference (computed by snnTorch 0.9.4 and checked against an
 * independent NumPy implementation; see its README). Net 8-6-3, T = 20, batch 2. */
#include "tests/testutil.h"

#include <math.h>

#include "kernels/loss.h"
#include "sim/backward.h"
#include "sim/engine.h"
#include "sim/train.h"
#include "sim/evsnn.h"
#include "tests/h5read.h"

enum { T = 20, B = 2, NI = 8, NH = 6, NO = 3 };

/* Close within 1e-5 relative, normwise: max |got − want| ≤ 1e-5 · max |want| over the
 * array (float32 sums in a different order differ by a few ulps of the largest terms, so
 * tiny entries cannot be held to 1e-5 of themselves), and every entry within 1e-4 of itself
 * or of 1e-5 of the array's scale. worst_rel tracks the largest normwise error seen. */
static double worst_rel;
static void assert_close(const char *what, const float *got, const float *want, size_t n) {
    float mx = 0.0f, md = 0.0f;
    for (size_t i = 0; i < n; i++) {
        mx = fmaxf(mx, fabsf(want[i]));
        md = fmaxf(md, fabsf(got[i] - want[i]));
    }
    if (!(md <= 1e-5f * mx)) fail_msg("%s: max |diff| %.3g > 1e-5 of max |value| %.6g", what, (double)md, (double)mx);
    if (mx > 0 && md / mx > worst_rel) worst_rel = md / mx;
    for (size_t i = 0; i < n; i++) {
        const float tol = fmaxf(1e-4f * fabsf(want[i]), 1e-5f * mx) + 1e-12f;
        if (!(fabsf(got[i] - want[i]) <= tol)) fail_msg("%s[%zu] = %.8g, snnTorch %.8g", what, i, got[i], want[i]);
    }
}

static net *ref_net(reset_mode reset, float theta) {
    neuron_cfg nc = {.beta = 0.9f, .theta = theta, .reset = reset, .cmp = CMP_GT, .bias = 1};
    net_opts o = {.cfg = &nc, .n_cfg = 1};
    int err;
    net *n = net_build("8-6-3", 0, 0, 0, &o, &err);
    if (!n) fail_msg("net_build: %s", evsnn_errmsg());
    return n;
}

/* PyTorch Linear [out, in] → evsnn [in, out]. */
static void load_params(net *n, const char *path, const char *prefix) {
    assert_int_equal(h5r_load_linear(n, path, prefix), 0);
}

/* Gradient array (carved like params) → PyTorch layout, for comparison. */
static void grads_torch(const net *n, const float *g, float *W1, float *b1, float *W2, float *b2) {
    float *W[2] = {W1, W2}, *bb[2] = {b1, b2};
    const int no[2] = {NH, NO}, ni[2] = {NI, NH};
    for (int l = 0; l < 2; l++) {
        const net_layer *L = &n->layers[l];
        for (int j = 0; j < no[l]; j++)
            for (int i = 0; i < ni[l]; i++) W[l][j * ni[l] + i] = g[L->w_off + (size_t)i * no[l] + j];
        memcpy(bb[l], g + L->b_off, (size_t)no[l] * sizeof(float));
    }
}

/* Forward + mse_count_loss + backward over the batch; returns the batch loss.
 * dmem1/dmem2: [T, B, n] time-major like the reference. */
static int g_recompute; /* backward rebuilds the membranes from the trains (sparse recording) */
static float fwd_bwd(net *n, const float *x, const surrogate *sg, const float *theta_c, float *grads, float *dmem1,
                     float *dmem2, float *mem1, float *mem2) {
    int err;
    sim *s = sim_create(n, T, &err);
    bwd *bw = bwd_create(n, T, &err);
    assert_non_null(s);
    assert_non_null(bw);
    memset(grads, 0, n->n_params * sizeof *grads);
    const uint32_t labels[B] = {0, 2};
    float loss = 0.0f;
    for (int b = 0; b < B; b++) {
        spk_train in;
        assert_int_equal(h5r_sample_train(&in, x, T, B, NI, (uint32_t)b), 0);
        sim_input si = {.train = &in, .T = T};
        sim_result r;
        sim_result_init(&r, n, T, SIM_RECORD_MEM);
        assert_int_equal(sim_run(s, &si, &r), 0);
        float count[NO] = {0}, gc[NO], gs[T * NO];
        for (uint32_t k = 0; k < r.out[1].nnz; k++) count[r.out[1].idx[k]] += 1.0f;
        loss += loss_mse_count(gc, count, NO, labels[b], T, 0.8, 0.2, 1.0f / B) / B;
        for (int t = 0; t < T; t++) memcpy(gs + t * NO, gc, sizeof gc);
        float d1[T * NH], d2[T * NO];
        float *dm[2] = {d1, d2};
        bwd_cfg c = {.sg = *sg, .theta_c = theta_c, .recompute = g_recompute};
        assert_int_equal(bwd_sample(bw, n, &c, &si, &r, gs, NULL, grads, dm), 0);
        for (int t = 0; t < T; t++) {
            memcpy(dmem1 + (t * B + b) * NH, d1 + t * NH, NH * sizeof(float));
            memcpy(dmem2 + (t * B + b) * NO, d2 + t * NO, NO * sizeof(float));
            if (mem1) memcpy(mem1 + (t * B + b) * NH, r.mem[0] + t * NH, NH * sizeof(float));
            if (mem2) memcpy(mem2 + (t * B + b) * NO, r.mem[1] + t * NO, NO * sizeof(float));
        }
        sim_result_deinit(&r);
        spk_deinit(&in);
    }
    sim_free(s);
    bwd_free(bw);
    return loss;
}

static void compare_group(const char *path, const char *g, const net *n, const float *grads, float loss,
                          const float *dmem1, const float *dmem2) {
    char name[64], what[400];
    size_t k = 0;
    float W1[NH * NI], b1[NH], W2[NO * NH], b2[NO];
    grads_torch(n, grads, W1, b1, W2, b2);
    snprintf(name, sizeof name, "%sloss", g);
    float *want = h5r_floats(path, name, &k);
    assert_non_null(want);
    snprintf(what, sizeof what, "%s: %s", path, name);
    assert_close(what, &loss, want, 1);
    free(want);
    const char *names[] = {"grad_mem2", "grad_mem1", "grad_W2", "grad_b2", "grad_W1", "grad_b1"};
    const float *got[] = {dmem2, dmem1, W2, b2, W1, b1};
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof name, "%s%s", g, names[i]);
        want = h5r_floats(path, name, &k);
        assert_non_null(want);
        snprintf(what, sizeof what, "%s: %s", path, name);
        assert_close(what, got[i], want, k);
        free(want);
    }
}

static void dense_gradients(void) {
    const char *surr[] = {"atan_a2", "fast_sigmoid_k25", "sigmoid_k25", "triangular_thr1", "ste", "heaviside",
                          "spike_rate_escape_b1_k25", "sfs_k25_B1"};
    const char *spec[] = {"atan:alpha=2", "fast_sigmoid:k=25", "sigmoid:k=25", "triangular:threshold=1", "ste",
                          "heaviside", "spike_rate_escape:beta=1,k=25", "sfs:k=25,B=1"};
    const char *resets[] = {"subtract", "zero", "none"};
    const reset_mode rm[] = {RESET_SUBTRACT, RESET_ZERO, RESET_NONE};
    for (unsigned s = 0; s < sizeof surr / sizeof *surr; s++)
        for (int r = 0; r < 3; r++) {
            char path[256], msg[256];
            snprintf(path, sizeof path, "../shared/reference/dense_%s_%s.h5", surr[s], resets[r]);
            REQUIRE_SHARED(path);
            surrogate sg;
            if (sg_parse(&sg, spec[s], msg, sizeof msg)) fail_msg("%s", msg);
            net *n = ref_net(rm[r], 1.0f);
            load_params(n, path, "");
            size_t k;
            float *x = h5r_floats(path, "input", &k);
            assert_int_equal(k, T * B * NI);
            float *grads = calloc(n->n_params, sizeof *grads);
            float dmem1[T * B * NH], dmem2[T * B * NO];
            float loss = fwd_bwd(n, x, &sg, NULL, grads, dmem1, dmem2, NULL, NULL);
            compare_group(path, "", n, grads, loss, dmem1, dmem2);
            free(grads);
            free(x);
            net_free(n);
        }
    print_message("dense references (%s membranes): worst normwise relative error %.3g\n",
                  g_recompute ? "rebuilt" : "recorded", worst_rel);
}

static void test_dense_gradients(void **state) {
    (void)state;
    g_recompute = 0;
    dense_gradients();
}

/* The same 24 cases with sparse recording: the backward rebuilds the membranes. */
static void test_dense_gradients_sparse_record(void **state) {
    (void)state;
    g_recompute = 1;
    worst_rel = 0;
    dense_gradients();
    g_recompute = 0;
}

/* Threshold annealing as the published code does it: three SGD steps on one batch, the
 * surrogate centred at the current θ; every iteration's loss, gradients, dL/du, parameters
 * after the step and thresholds after annealing. */
static void test_tha_three_iterations(void **state) {
    (void)state;
    const char *path = "../shared/reference/tha_snntha_code.h5";
    REQUIRE_SHARED(path);
    net *n = ref_net(RESET_SUBTRACT, 1.0f);
    load_params(n, path, "");
    size_t k = 0;
    float *x = h5r_floats(path, "input", &k);
    assert_int_equal(k, T * B * NI);
    train_cfg c = train_defaults();
    char msg[256];
    assert_int_equal(sg_parse(&c.sg, "fast_sigmoid:k=5", msg, sizeof msg), 0);
    c.opt = optim_defaults(OPT_SGD);
    c.opt.lr = 0.5f;
    c.n_tha = 2;
    c.tha_theta0[0] = c.tha_theta0[1] = 0.8f;
    c.tha_theta_inf[0] = 2.0f;
    c.tha_theta_inf[1] = 2.5f;
    c.tha_alpha[0] = 0.3f;
    c.tha_alpha[1] = 0.5f;
    c.centre = THA_CENTRE_CURRENT;
    int err;
    trainer *tr = trainer_create(n, &c, T, &err);
    assert_non_null(tr);
    /* The batch as spike trains, sample-major. */
    spk_train in[B];
    sim_input si[B];
    for (int b = 0; b < B; b++) {
        float xb[T * NI];
        for (int t = 0; t < T; t++) memcpy(xb + t * NI, x + (t * B + b) * NI, NI * sizeof *x);
        assert_int_equal(spk_from_dense(&in[b], xb, T, NI, 0), 0);
        si[b] = (sim_input){.train = &in[b], .T = T};
    }
    const uint32_t labels[B] = {0, 2};
    float *grads = calloc(n->n_params, sizeof *grads);
    for (int it = 0; it < 3; it++) {
        char g[24], name[64], what[300];
        snprintf(g, sizeof g, "iter%d/", it);
        snprintf(name, sizeof name, "%sthreshold_used", g);
        float *thr = h5r_floats(path, name, &k);
        assert_non_null(thr);
        const float used[2] = {n->layers[0].nc.theta, n->layers[1].nc.theta};
        snprintf(what, sizeof what, "%s: %s", path, name);
        assert_close(what, used, thr, 2);
        free(thr);
        /* The backward alone, centred at the current θ, with dL/du. */
        float dmem1[T * B * NH], dmem2[T * B * NO];
        surrogate sg = c.sg;
        float m1[T * B * NH], m2[T * B * NO];
        float loss = fwd_bwd(n, x, &sg, trainer_theta_c(tr), grads, dmem1, dmem2, m1, m2);
        const char *mn[] = {"mem1", "mem2"};
        const float *mg[] = {m1, m2};
        for (int i = 0; i < 2; i++) {
            snprintf(name, sizeof name, "%s%s", g, mn[i]);
            float *want = h5r_floats(path, name, &k);
            assert_non_null(want);
            snprintf(what, sizeof what, "%s: %s", path, name);
            assert_close(what, mg[i], want, k);
            free(want);
        }
        compare_group(path, g, n, grads, loss, dmem1, dmem2);
        /* The trainer's step: same gradients, then SGD and annealing. */
        train_stats st;
        memset(&st, 0, sizeof st);
        if (trainer_step(tr, si, labels, NULL, B, &st)) fail_msg("step %d: %s", it, evsnn_errmsg());
        float Wa1[NH * NI], ba1[NH], Wa2[NO * NH], ba2[NO];
        const float stl = (float)st.loss;
        compare_group(path, g, n, trainer_grads(tr), stl, dmem1, dmem2);
        grads_torch(n, n->params, Wa1, ba1, Wa2, ba2);
        const char *an[] = {"W1_after", "b1_after", "W2_after", "b2_after", "threshold_after"};
        const float after_thr[2] = {n->layers[0].nc.theta, n->layers[1].nc.theta};
        const float *ag[] = {Wa1, ba1, Wa2, ba2, after_thr};
        for (int i = 0; i < 5; i++) {
            snprintf(name, sizeof name, "%s%s", g, an[i]);
            float *want = h5r_floats(path, name, &k);
            assert_non_null(want);
            snprintf(what, sizeof what, "%s: %s", path, name);
            assert_close(what, ag[i], want, k);
            free(want);
        }
    }
    for (int b = 0; b < B; b++) spk_deinit(&in[b]);
    free(grads);
    free(x);
    trainer_free(tr);
    net_free(n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dense_gradients),
        cmocka_unit_test(test_dense_gradients_sparse_record),
        cmocka_unit_test(test_tha_three_iterations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
