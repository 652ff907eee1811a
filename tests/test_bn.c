/* tests/test_bn.c — batch normalisation: the kernels against finite differences of a
 * double-precision reference and against a hand computation; the trainer's whole BN path
 * (batch statistics, their gradient, running statistics) against finite differences of the
 * same network written out in double; folding for inference (both ways) against the
 * unfolded evaluation; the model file's version 2 round trip; and the notation's errors. */
#include "tests/testutil.h"

#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "io/model.h"
#include "kernels/bn.h"
#include "sim/evsnn.h"
#include "sim/fold.h"
#include "sim/train.h"

/* ---- the kernels ---- */

/* Reference forward in double over a batch x [B, C, P]: y = γ·(x − μ)/√(σ² + eps) + β. */
static void ref_bn(double *y, const double *x, const double *g, const double *b, int B, int C, int P) {
    for (int c = 0; c < C; c++) {
        double m = 0.0, v = 0.0;
        for (int s = 0; s < B; s++)
            for (int p = 0; p < P; p++) m += x[(s * C + c) * P + p];
        m /= B * P;
        for (int s = 0; s < B; s++)
            for (int p = 0; p < P; p++) v += (x[(s * C + c) * P + p] - m) * (x[(s * C + c) * P + p] - m);
        v /= B * P;
        const double r = 1.0 / sqrt(v + NET_BN_EPS);
        for (int s = 0; s < B; s++)
            for (int p = 0; p < P; p++) {
                const int i = (s * C + c) * P + p;
                y[i] = g[c] * (x[i] - m) * r + b[c];
            }
    }
}

static double ref_loss(const double *x, const double *g, const double *b, const double *w, int B, int C, int P) {
    double y[64], L = 0.0;
    ref_bn(y, x, g, b, B, C, P);
    for (int i = 0; i < B * C * P; i++) L += w[i] * y[i];
    return L;
}

/* L = Σ w·y: the kernels' ∂L/∂x, ∂L/∂γ, ∂L/∂β against central differences of the reference. */
static void test_kernels_vs_finite_differences(void **state) {
    (void)state;
    enum { B = 3, C = 2, P = 5, N = B * C * P };
    rng *r = rng_create(21);
    double x[N], w[N], g[C], b[C];
    for (int i = 0; i < N; i++) { x[i] = rng_uniform_range(r, -2, 3); w[i] = rng_uniform_range(r, -1, 1); }
    for (int c = 0; c < C; c++) { g[c] = rng_uniform_range(r, 0.5, 2); b[c] = rng_uniform_range(r, -1, 1); }
    g[1] = -g[1]; /* a negative scale too */
    rng_free(r);
    /* analytic, with the kernels, in float */
    float xf[N], xh[N], y[N], dy[N], gf[C], bf[C];
    for (int i = 0; i < N; i++) { xf[i] = (float)x[i]; dy[i] = (float)w[i]; }
    for (int c = 0; c < C; c++) { gf[c] = (float)g[c]; bf[c] = (float)b[c]; }
    double s1[C] = {0}, s2[C] = {0};
    for (int s = 0; s < B; s++) bn_sum(s1, xf + s * C * P, NULL, C, P, 0);
    for (int c = 0; c < C; c++) s1[c] /= B * P;
    for (int s = 0; s < B; s++) bn_sum(s2, xf + s * C * P, s1, C, P, 1);
    float mu[C], rs[C];
    for (int c = 0; c < C; c++) { mu[c] = (float)s1[c]; rs[c] = (float)(1.0 / sqrt(s2[c] / (B * P) + NET_BN_EPS)); }
    for (int s = 0; s < B; s++) bn_forward(y + s * C * P, xh + s * C * P, xf + s * C * P, mu, rs, gf, bf, C, P);
    double sd[C] = {0}, sdx[C] = {0};
    for (int s = 0; s < B; s++) bn_backward_sums(sd, sdx, dy + s * C * P, xh + s * C * P, C, P);
    float md[C], mdx[C], dx[N];
    for (int c = 0; c < C; c++) { md[c] = (float)(sd[c] / (B * P)); mdx[c] = (float)(sdx[c] / (B * P)); }
    for (int s = 0; s < B; s++) bn_backward(dx + s * C * P, dy + s * C * P, xh + s * C * P, gf, rs, md, mdx, C, P);
    /* the forward agrees with the reference */
    double yr[N];
    ref_bn(yr, x, g, b, B, C, P);
    for (int i = 0; i < N; i++) assert_true(fabs(y[i] - yr[i]) < 1e-5 * (1 + fabs(yr[i])));
    /* central differences in double */
    const double h = 1e-6;
    for (int i = 0; i < N; i++) {
        double xp[N], xm[N];
        memcpy(xp, x, sizeof x);
        memcpy(xm, x, sizeof x);
        xp[i] += h;
        xm[i] -= h;
        const double fd = (ref_loss(xp, g, b, w, B, C, P) - ref_loss(xm, g, b, w, B, C, P)) / (2 * h);
        if (!(fabs(dx[i] - fd) < 1e-4 * (1 + fabs(fd)))) fail_msg("dL/dx[%d] = %.7g, finite differences %.7g", i, dx[i], fd);
    }
    for (int c = 0; c < C; c++) {
        double gp[C], gm[C], bp[C], bm[C];
        memcpy(gp, g, sizeof g); memcpy(gm, g, sizeof g); memcpy(bp, b, sizeof b); memcpy(bm, b, sizeof b);
        gp[c] += h; gm[c] -= h; bp[c] += h; bm[c] -= h;
        const double fg = (ref_loss(x, gp, b, w, B, C, P) - ref_loss(x, gm, b, w, B, C, P)) / (2 * h);
        const double fb = (ref_loss(x, g, bp, w, B, C, P) - ref_loss(x, g, bm, w, B, C, P)) / (2 * h);
        if (!(fabs(sdx[c] - fg) < 1e-4 * (1 + fabs(fg)))) fail_msg("dL/dgamma[%d] = %.7g, finite differences %.7g", c, sdx[c], fg);
        if (!(fabs(sd[c] - fb) < 1e-4 * (1 + fabs(fb)))) fail_msg("dL/dbeta[%d] = %.7g, finite differences %.7g", c, sd[c], fb);
    }
}

/* One channel, two samples of two positions, x = 0 2 | 4 6, γ = 2, β = 1, dy = 1 0 | 0 0.
 * By hand: μ = 3, σ² = (9 + 1 + 1 + 9)/4 = 5, r = 1/√(5 + eps), x̂ = (−3r, −r, r, 3r),
 * y = 1 + 2x̂; Σdy = 1, Σdy·x̂ = −3r, so dx_i = 2r·(dy_i − 1/4 + x̂_i·(3r/4)). */
static void test_by_hand(void **state) {
    (void)state;
    const float x[4] = {0, 2, 4, 6}, g = 2, b = 1, dy[4] = {1, 0, 0, 0};
    const double r = 1.0 / sqrt(5.0 + NET_BN_EPS), xhh[4] = {-3 * r, -r, r, 3 * r};
    double s1 = 0, s2 = 0;
    bn_sum(&s1, x, NULL, 1, 2, 0);
    bn_sum(&s1, x + 2, NULL, 1, 2, 0);
    assert_true(s1 == 12.0);
    const double mean = 3.0;
    bn_sum(&s2, x, &mean, 1, 2, 1);
    bn_sum(&s2, x + 2, &mean, 1, 2, 1);
    assert_true(s2 == 20.0);
    const float mu = 3.0f, rf = (float)r;
    float y[4], xh[4];
    bn_forward(y, xh, x, &mu, &rf, &g, &b, 1, 2);
    bn_forward(y + 2, xh + 2, x + 2, &mu, &rf, &g, &b, 1, 2);
    for (int i = 0; i < 4; i++) {
        assert_float_equal(xh[i], xhh[i], 1e-6);
        assert_float_equal(y[i], 1 + 2 * xhh[i], 1e-6);
    }
    double sd = 0, sdx = 0;
    bn_backward_sums(&sd, &sdx, dy, xh, 1, 2);
    bn_backward_sums(&sd, &sdx, dy + 2, xh + 2, 1, 2);
    assert_float_equal(sd, 1.0, 1e-12);
    assert_float_equal(sdx, -3 * r, 1e-6);
    const float md = 0.25f, mdx = (float)(-3 * r / 4);
    float dx[4];
    bn_backward(dx, dy, xh, &g, &rf, &md, &mdx, 1, 2);
    bn_backward(dx + 2, dy + 2, xh + 2, &g, &rf, &md, &mdx, 1, 2);
    for (int i = 0; i < 4; i++) assert_float_equal(dx[i], 2 * r * (dy[i] - 0.25 + xhh[i] * (3 * r / 4)), 1e-6);
    /* the gradient of a shift is zero: Σ dx = 0 */
    assert_float_equal(dx[0] + dx[1] + dx[2] + dx[3], 0, 1e-6);
}

/* ---- the trainer ---- */

static net *build(const char *arch, uint32_t c, uint32_t h, uint32_t w, float beta, float theta) {
    neuron_cfg nc = {.beta = beta, .theta = theta, .reset = RESET_SUBTRACT, .cmp = CMP_GT, .bias = 1};
    net_opts o = {.cfg = &nc, .n_cfg = 1};
    int err;
    net *n = net_build(arch, c, h, w, &o, &err);
    if (!n) fail_msg("net_build(%s): %s", arch, evsnn_errmsg());
    return n;
}

enum { NB = 4, NI = 6, NO = 3, TT = 5 };

/* "6-3-BN" driven by inputs x [B, T, 6] (the same at every step: static input; else spike
 * trains of graded values), no spikes (θ far away): the output membranes are a smooth function
 * of every parameter, u[t] = β·u[t−1] + BN_t(x[t]·W + b) over the batch at each step, and
 * mem_mse of them is what the trainer minimises. In double. */
static double ref_net_loss(const double *W, const double *bias, const double *g, const double *b, const double *x,
                           const double *tgt, double beta) {
    double L = 0.0, u[NB][NO];
    memset(u, 0, sizeof u);
    for (int t = 0; t < TT; t++) {
        double I[NB * NO], y[NB * NO];
        for (int s = 0; s < NB; s++)
            for (int j = 0; j < NO; j++) {
                double a = bias[j];
                for (int i = 0; i < NI; i++) a += x[(s * TT + t) * NI + i] * W[i * NO + j];
                I[s * NO + j] = a;
            }
        ref_bn(y, I, g, b, NB, NO, 1);
        for (int s = 0; s < NB; s++)
            for (int j = 0; j < NO; j++) {
                u[s][j] = beta * u[s][j] + y[s * NO + j];
                const double d = u[s][j] - tgt[(s * TT + t) * NO + j];
                L += d * d / (TT * NO);
            }
    }
    return L / NB;
}

static void trainer_fd(int events) {
    const float beta = 0.75f;
    net *n = build("6-3-BN", 0, 0, 0, beta, 1e6f);
    assert_int_equal(n->layers[0].bn, 1);
    assert_int_equal(n->n_params, NI * NO + NO + 2 * NO);
    net_init_params(n, 4);
    rng *r = rng_create(8 + events);
    for (int c = 0; c < NO; c++) { n->layers[0].bn_g[c] = (float)rng_uniform_range(r, 0.5, 1.5); n->layers[0].bn_b[c] = (float)rng_uniform_range(r, -0.5, 0.5); }
    float xs[NB * NI], tg[NB][TT * NO];
    double xd[NB * TT * NI], td[NB * TT * NO];
    spk_train tr_in[NB];
    for (int s = 0; s < NB; s++) {
        for (int i = 0; i < NI; i++) xs[s * NI + i] = (float)rng_uniform_range(r, 0, 1);
        spk_init(&tr_in[s], TT, NI, SPK_VALUES);
        for (int t = 0; t < TT; t++)
            for (int i = 0; i < NI; i++) {
                double v = xs[s * NI + i];
                if (events) { /* a graded spike train: events at random steps with random values */
                    v = rng_bernoulli(r, 0.5) ? (float)rng_uniform_range(r, 0.25, 2) : 0.0;
                    if (v != 0.0) spk_push(&tr_in[s], (uint32_t)t, (uint32_t)i, (float)v);
                }
                xd[(s * TT + t) * NI + i] = (float)v;
            }
        spk_close(&tr_in[s], 0);
    }
    for (int s = 0; s < NB; s++)
        for (int k = 0; k < TT * NO; k++) td[s * TT * NO + k] = tg[s][k] = (float)rng_uniform_range(r, -1, 1);
    rng_free(r);
    sim_input in[NB];
    const float *mt[NB];
    for (int s = 0; s < NB; s++) {
        in[s] = events ? (sim_input){.train = &tr_in[s], .T = TT} : (sim_input){.static_x = xs + s * NI, .T = TT};
        mt[s] = tg[s];
    }
    /* the parameters in double, as the network has them before the step */
    const net_layer *L = &n->layers[0];
    double W[NI * NO], bias[NO], g[NO], b[NO];
    for (int i = 0; i < NI * NO; i++) W[i] = L->w[i];
    for (int j = 0; j < NO; j++) { bias[j] = L->b[j]; g[j] = L->bn_g[j]; b[j] = L->bn_b[j]; }
    train_cfg c = train_defaults();
    c.loss = LOSS_MEM_MSE;
    c.opt = optim_defaults(OPT_SGD);
    c.opt.lr = 1e-3f; /* the gradient reported is the one before the step */
    const double mom = events ? 0.3 : 0.1; /* PyTorch's default, and one given */
    if (events) c.bn_momentum = 0.3f;
    int err;
    trainer *tr = trainer_create(n, &c, TT, &err);
    if (!tr) fail_msg("trainer_create: %s", evsnn_errmsg());
    train_stats st;
    memset(&st, 0, sizeof st);
    assert_int_equal(trainer_step(tr, in, NULL, mt, NB, &st), 0);
    const double L0 = ref_net_loss(W, bias, g, b, xd, td, beta);
    assert_true(fabs(st.loss - L0) < 1e-5 * (1 + L0));
    const float *gr = trainer_grads(tr);
    const double h = 1e-6;
    double *ps[4] = {W, bias, g, b};
    const size_t off[4] = {L->w_off, L->b_off, L->bng_off, L->bnb_off}, cnt[4] = {NI * NO, NO, NO, NO};
    const char *what[4] = {"weight", "bias", "bn scale", "bn shift"};
    for (int k = 0; k < 4; k++)
        for (size_t i = 0; i < cnt[k]; i++) {
            const double keep = ps[k][i];
            ps[k][i] = keep + h;
            const double lp = ref_net_loss(W, bias, g, b, xd, td, beta);
            ps[k][i] = keep - h;
            const double lm = ref_net_loss(W, bias, g, b, xd, td, beta);
            ps[k][i] = keep;
            const double fd = (lp - lm) / (2 * h), an = gr[off[k] + i];
            if (!(fabs(an - fd) < 1e-4 * (1 + fabs(fd))))
                fail_msg("%s input: %s[%zu]: trainer %.7g, finite differences %.7g", events ? "event" : "static", what[k], i,
                         an, fd);
        }
    /* The bias before BN is a shift the batch mean removes: its gradient is zero. */
    for (int j = 0; j < NO; j++)
        if (!(fabs(gr[L->b_off + j]) < 1e-5)) fail_msg("bias gradient %g is not zero", gr[L->b_off + j]);
    /* Running statistics: one update of momentum mom per step, from mean 0 and variance 1, with
     * each step's batch mean and unbiased variance. */
    for (int j = 0; j < NO; j++) {
        double m = 0.0, v = 1.0;
        for (int t = 0; t < TT; t++) {
            double I[NB], mu = 0, var = 0;
            for (int s = 0; s < NB; s++) {
                I[s] = bias[j];
                for (int i = 0; i < NI; i++) I[s] += xd[(s * TT + t) * NI + i] * W[i * NO + j];
                mu += I[s];
            }
            mu /= NB;
            for (int s = 0; s < NB; s++) var += (I[s] - mu) * (I[s] - mu);
            var /= NB;
            m = (1 - mom) * m + mom * mu;
            v = (1 - mom) * v + mom * var * NB / (NB - 1);
        }
        assert_float_equal(L->bn_mean[j], m, 1e-5);
        assert_float_equal(L->bn_var[j], v, 1e-5);
    }
    trainer_free(tr);
    for (int s = 0; s < NB; s++) spk_deinit(&tr_in[s]);
    net_free(n);
}

static void test_trainer_vs_finite_differences(void **state) {
    (void)state;
    trainer_fd(0); /* static input: the statistics of one step, repeated */
    trainer_fd(1); /* spike trains: each step its own statistics */
}

/* ---- folding ---- */

/* The unfolded evaluation, layer by layer as the trainer runs it: currents, BN with the
 * running statistics, then the neurons. */
static void run_unfolded(net *n, const sim_input *in, sim_result *res) {
    int err;
    sim *s = sim_create(n, in->T, &err);
    assert_non_null(s);
    float *cur = malloc((size_t)in->T * 4096 * sizeof *cur), *y = malloc((size_t)in->T * 4096 * sizeof *y);
    for (uint32_t l = 0; l < n->n_layers; l++) {
        const net_layer *L = &n->layers[l];
        if (!L->bn) {
            assert_int_equal(sim_run_layer(s, in, res, l), 0);
            continue;
        }
        assert_true(L->n_out <= 4096);
        assert_int_equal(sim_layer_currents_all(s, in, res, l, cur), 0);
        float r[64];
        for (uint32_t c = 0; c < L->out_c; c++) r[c] = (float)(1.0 / sqrt((double)L->bn_var[c] + NET_BN_EPS));
        for (uint32_t t = 0; t < in->T; t++)
            bn_eval(y + (size_t)t * L->n_out, cur + (size_t)t * L->n_out, L->bn_mean, r, L->bn_g, L->bn_b, L->out_c,
                    L->out_h * L->out_w);
        assert_int_equal(sim_run_layer_given(s, in, y, res, l), 0);
    }
    free(cur);
    free(y);
    sim_free(s);
}

/* Folded networks give the unfolded spikes. The two evaluations round differently (a·I + sh
 * against γ·(I − μ)·r + β), so a spike may differ only where the unfolded membrane is within
 * rounding of the threshold; the test finds every difference and checks that bound (relative
 * 1e-4 of the membrane's scale), and that differences are rare. */
static void test_fold(void **state) {
    (void)state;
    for (int binarized = 0; binarized <= 1; binarized++) {
        net *n = build("8C3-AP2-BN-6C3-BN-20-BN-5", 2, 10, 10, 0.9f, 1.0f);
        net_init_params(n, 31);
        rng *r = rng_create(32 + binarized);
        if (binarized)
            for (uint32_t l = 0; l < n->n_layers; l++)
                for (size_t i = 0; i < n->layers[l].n_w; i++) n->layers[l].w[i] = n->layers[l].w[i] >= 0 ? 1.0f : -1.0f;
        for (uint32_t l = 0; l < n->n_layers; l++) {
            net_layer *L = &n->layers[l];
            for (uint32_t c = 0; L->bn && c < L->out_c; c++) {
                L->bn_g[c] = (float)rng_uniform_range(r, 0.3, 2.0) * (c % 3 == 2 ? -1.0f : 1.0f); /* some negative */
                L->bn_b[c] = (float)rng_uniform_range(r, 0.2, 1.5);
                L->bn_mean[c] = (float)rng_uniform_range(r, -0.5, 0.5) * (binarized ? 4.0f : 0.3f);
                L->bn_var[c] = (float)rng_uniform_range(r, 0.01, 1.0) * (binarized ? 16.0f : 0.1f);
            }
        }
        enum { T = 30, S = 6 };
        int diffs = 0, spikes = 0;
        for (int smp = 0; smp < S; smp++) {
            spk_train tr;
            spk_init(&tr, T, n->n_in, 0);
            for (uint32_t t = 0; t < T; t++)
                for (uint32_t i = 0; i < n->n_in; i++)
                    if (rng_bernoulli(r, 0.2)) spk_push(&tr, t, i, 1.0f);
            spk_close(&tr, 0);
            sim_input in = {.train = &tr, .T = T};
            sim_result ru, rf;
            sim_result_init(&ru, n, T, SIM_RECORD_MEM);
            run_unfolded(n, &in, &ru);
            for (int mode = 0; mode <= 1; mode++) {
                int err;
                net *f = net_fold_bn(n, mode ? FOLD_THRESHOLDS : FOLD_WEIGHTS, &err);
                assert_non_null(f);
                assert_false(net_has_bn(f));
                if (mode && binarized) /* binary weights stay binary */
                    for (uint32_t l = 0; l < f->n_layers; l++)
                        for (size_t i = 0; i < f->layers[l].n_w; i++) assert_true(fabsf(f->layers[l].w[i]) == 1.0f);
                sim *s = sim_create(f, T, &err);
                sim_result_init(&rf, f, T, SIM_RECORD_MEM);
                assert_int_equal(sim_run(s, &in, &rf), 0);
                for (uint32_t l = 0; l < n->n_layers; l++) {
                    const net_layer *L = &n->layers[l];
                    float *du = malloc((size_t)T * L->n_out * sizeof *du), *df = malloc((size_t)T * L->n_out * sizeof *df);
                    spk_to_dense(du, &ru.out[l]);
                    spk_to_dense(df, &rf.out[l]);
                    float scale = 1.0f;
                    for (uint32_t c = 0; c < L->out_c; c++) scale = fmaxf(scale, f->layers[l].theta_c ? L->nc.theta / f->layers[l].theta_c[c] : 1.0f);
                    for (uint32_t t = 0; t < T; t++)
                        for (uint32_t j = 0; j < L->n_out; j++) {
                            const size_t k = (size_t)t * L->n_out + j;
                            spikes += du[k] != 0;
                            if (du[k] == df[k]) continue;
                            diffs++;
                            /* the unfolded membrane was at the threshold, up to rounding */
                            const float u = ru.mem[l][k];
                            if (!(fabsf(u - L->nc.theta) <= 1e-4f * (1.0f + fabsf(L->nc.theta)) * scale))
                                fail_msg("binarized %d, mode %d: layer %s step %u neuron %u spikes differ with the membrane "
                                         "%.7g far from the threshold %g", binarized, mode, L->name, t, j, u, L->nc.theta);
                        }
                    free(du);
                    free(df);
                }
                sim_result_deinit(&rf);
                sim_free(s);
                net_free(f);
            }
            sim_result_deinit(&ru);
            spk_deinit(&tr);
        }
        assert_true(spikes > 500); /* the case tests something */
        assert_true(diffs * 1000 <= spikes);
        rng_free(r);
        net_free(n);
    }
}

/* ---- files and notation ---- */

static void test_model_v2_round_trip(void **state) {
    (void)state;
    net *n = build("4C3-AP2-BN-6", 1, 8, 8, 0.9f, 1.0f);
    net_init_params(n, 3);
    for (uint32_t c = 0; c < 4; c++) {
        n->layers[0].bn_g[c] = 0.5f + (float)c;
        n->layers[0].bn_b[c] = -0.25f * (float)c;
        n->layers[0].bn_mean[c] = 0.125f * (float)c;
        n->layers[0].bn_var[c] = 2.0f + (float)c;
    }
    assert_true(n->layers[0].bn_momentum == NET_BN_MOMENTUM);
    n->layers[0].bn_momentum = 0.01f; /* a model trained with --bn-momentum 0.01 */
    char path[] = "/tmp/evsnn_bn_XXXXXX.h5";
    int fd = mkstemps(path, 3);
    assert_true(fd >= 0);
    close(fd);
    model_meta meta = {.binarized = 0, .steps = 10};
    assert_int_equal(model_save(path, n, &meta), 0);
    int err;
    net *m = model_load(path, NULL, &err);
    assert_non_null(m);
    assert_int_equal(m->layers[0].bn, 1);
    assert_memory_equal(m->params, n->params, n->n_params * sizeof(float));
    assert_memory_equal(m->stats, n->stats, n->n_stats * sizeof(float));
    assert_true(m->layers[0].bn_momentum == 0.01f);
    net_free(m);
    /* a momentum outside (0, 1] is refused, named */
    hid_t h = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT), g = H5Gopen2(h, "layers/0", H5P_DEFAULT);
    hid_t a = H5Aopen(g, "bn_momentum", H5P_DEFAULT);
    const double two = 2.0;
    assert_true(H5Awrite(a, H5T_NATIVE_DOUBLE, &two) >= 0);
    H5Aclose(a);
    H5Gclose(g);
    H5Fclose(h);
    test_unseal(path);
    assert_null(model_load(path, NULL, &err));
    assert_int_equal(err, EVSNN_EFORMAT);
    assert_non_null(strstr(evsnn_errmsg(), "/layers/0 attribute bn_momentum"));
    assert_int_equal(model_save(path, n, &meta), 0);
    /* a folded binarized model keeps its per-channel thresholds through a file */
    net *f = net_fold_bn(n, FOLD_THRESHOLDS, &err);
    assert_int_equal(model_save(path, f, &meta), 0);
    m = model_load(path, NULL, &err);
    assert_non_null(m);
    assert_non_null(m->layers[0].theta_c);
    assert_memory_equal(m->layers[0].theta_c, f->layers[0].theta_c, 4 * sizeof(float));
    assert_string_equal(m->arch, "4C3-AP2-6");
    net_free(m);
    net_free(f);
    unlink(path);
    net_free(n);
}

static void test_notation(void **state) {
    (void)state;
    const char *bad[] = {"BN-4C3-6", "4C3-BN-BN-6", "4C3-BN-AP2-6"};
    int err;
    for (int i = 0; i < 3; i++) {
        net *n = net_build(bad[i], 1, 8, 8, NULL, &err);
        assert_null(n);
        assert_int_equal(err, EVSNN_ESHAPE);
        assert_non_null(strstr(evsnn_errmsg(), "BN")); /* the message names the token */
    }
    /* BN after pooling of spikes (a layer without neurons) is refused too */
    net_opts o = {.pool_on = POOL_ON_SPIKES};
    assert_null(net_build("4C3-SP2-BN-6", 1, 8, 8, &o, &err));
    /* the flatten marker sees through BN; the layout puts γ, β after every weight and bias */
    net *n = net_build("16C5-AP2-BN-64C5-AP2-BN-1024-10", 1, 28, 28, NULL, &err);
    assert_non_null(n);
    assert_int_equal(n->n_layers, 3);
    assert_true(n->layers[0].bn && n->layers[1].bn && !n->layers[2].bn);
    assert_int_equal(n->layers[0].bng_off, n->layers[2].b_off + n->layers[2].n_b);
    assert_int_equal(n->n_stats, 2 * (16 + 64));
    net_free(n);
    /* the engine refuses an unfolded BN layer */
    n = build("6-3-BN", 0, 0, 0, 0.9f, 1.0f);
    sim *s = sim_create(n, 4, &err);
    float x[6] = {1, 0, 1, 0, 1, 0};
    sim_input in = {.static_x = x, .T = 4};
    sim_result res;
    sim_result_init(&res, n, 4, 0);
    assert_int_equal(sim_run(s, &in, &res), EVSNN_EINVAL);
    assert_non_null(strstr(evsnn_errmsg(), "batch-normalised"));
    sim_result_deinit(&res);
    sim_free(s);
    net_free(n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernels_vs_finite_differences),
        cmocka_unit_test(test_by_hand),
        cmocka_unit_test(test_trainer_vs_finite_differences),
        cmocka_unit_test(test_fold),
        cmocka_unit_test(test_model_v2_round_trip),
        cmocka_unit_test(test_notation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
