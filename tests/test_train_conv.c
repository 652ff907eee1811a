/* tests/test_train_conv.c — convolution and pooling backward against the same layers written
 * as explicit dense matrices. A conv layer (with average/sum pooling of currents) is a
 * linear map of its input: M[i, j] = Σ w[o, c, ky, kx]·(pool coefficient) over the taps that
 * connect input i to neuron j. The dense network built from M computes the same forward
 * pass (exact arithmetic: weights k/64, β = 1/2) and its dense backward — tested against
 * snnTorch in test_train_ref — gives dL/dM; the chain rule through the same linear map gives
 * the expected dL/dw = Aᵀ·dL/dM. Pooling of spikes by sum likewise folds into the next
 * dense layer's rows. */
#include "tests/testutil.h"

#include <math.h>

#include "kernels/backward.h"
#include "sim/backward.h"
#include "sim/evsnn.h"

static net *build(const char *arch, uint32_t c, uint32_t h, uint32_t w, const net_opts *o) {
    int err;
    net *n = net_build(arch, c, h, w, o, &err);
    if (!n) fail_msg("net_build(%s): %s", arch, evsnn_errmsg());
    return n;
}

static void exact_params(net *n, uint64_t seed) {
    rng *r = rng_create(seed);
    for (size_t i = 0; i < n->n_params; i++) n->params[i] = (float)((int)rng_below(r, 61) - 24) / 64.0f;
    rng_free(r);
}

/* Walk every (input i, neuron j, weight index) connection of a conv layer with current
 * pooling; coef is the pooling factor (1/p² average, 1 sum or none). */
typedef void (*conn_fn)(void *ctx, uint32_t i, uint32_t j, size_t widx, float coef);
static void conv_connections(const net_layer *L, conn_fn f, void *ctx) {
    const uint32_t p = L->pool == POOL_NONE ? 1 : L->pool_k;
    const float coef = L->pool == POOL_AVG ? 1.0f / (float)(p * p) : 1.0f;
    for (uint32_t o = 0; o < L->out_c; o++)
        for (uint32_t oy = 0; oy < L->out_h * p; oy++)
            for (uint32_t ox = 0; ox < L->out_w * p; ox++) {
                const uint32_t j = (o * L->out_h + oy / p) * L->out_w + ox / p;
                for (uint32_t c = 0; c < L->in_c; c++)
                    for (uint32_t ky = 0; ky < L->k; ky++)
                        for (uint32_t kx = 0; kx < L->k; kx++) {
                            const int iy = (int)oy - (int)L->pad + (int)ky, ix = (int)ox - (int)L->pad + (int)kx;
                            if (iy < 0 || ix < 0 || iy >= (int)L->in_h || ix >= (int)L->in_w) continue;
                            const uint32_t i = (c * L->in_h + (uint32_t)iy) * L->in_w + (uint32_t)ix;
                            f(ctx, i, j, ((o * L->in_c + c) * L->k + ky) * L->k + kx, coef);
                        }
            }
}

typedef struct {
    const net_layer *L;
    float *M, *dw;
    const float *dM;
} conn_ctx;
static void to_dense(void *ctx, uint32_t i, uint32_t j, size_t widx, float coef) {
    conn_ctx *c = ctx;
    c->M[(size_t)i * c->L->n_out + j] += c->L->w[widx] * coef;
}
static void project(void *ctx, uint32_t i, uint32_t j, size_t widx, float coef) {
    conn_ctx *c = ctx;
    c->dw[widx] += c->dM[(size_t)i * c->L->n_out + j] * coef;
}

static void conv_as_dense(const net_layer *L, net_layer *D) {
    memset(D->w, 0, D->n_w * sizeof(float));
    conn_ctx c = {.L = L, .M = D->w};
    conv_connections(L, to_dense, &c);
    const uint32_t hw = L->out_h * L->out_w, p = L->pool == POOL_NONE ? 1 : L->pool_k;
    const float bmul = L->pool == POOL_SUM ? (float)(p * p) : 1.0f;
    for (uint32_t j = 0; j < L->n_out; j++) D->b[j] = L->b[j / hw] * bmul;
}

static void project_grads(const net_layer *L, const net_layer *D, const float *gd, float *expect) {
    conn_ctx c = {.L = L, .dM = gd + D->w_off, .dw = expect + L->w_off};
    conv_connections(L, project, &c);
    const uint32_t hw = L->out_h * L->out_w, p = L->pool == POOL_NONE ? 1 : L->pool_k;
    const float bmul = L->pool == POOL_SUM ? (float)(p * p) : 1.0f;
    for (uint32_t j = 0; j < L->n_out; j++) expect[L->b_off + j / hw] += gd[D->b_off + j] * bmul;
}

static void assert_close(const char *what, const float *got, const float *want, size_t n) {
    float mx = 0.0f, md = 0.0f;
    for (size_t i = 0; i < n; i++) {
        mx = fmaxf(mx, fabsf(want[i]));
        md = fmaxf(md, fabsf(got[i] - want[i]));
    }
    if (!(mx > 0.0f)) fail_msg("%s: the expected gradient is all zero (the case tests nothing)", what);
    if (!(md <= 1e-5f * mx)) fail_msg("%s: max |diff| %.3g vs max |value| %.3g", what, (double)md, (double)mx);
}

/* Run forward + backward on both nets with the same upstream gradient; check the spikes
 * agree and return both gradient arrays. */
static void fwd_bwd(net *n, const sim_input *si, const float *g_s, float *grads) {
    int err;
    sim *s = sim_create(n, si->T, &err);
    bwd *b = bwd_create(n, si->T, &err);
    sim_result r;
    sim_result_init(&r, n, si->T, SIM_RECORD_MEM);
    assert_int_equal(sim_run(s, si, &r), 0);
    surrogate sg = sg_default(SG_FAST_SIGMOID);
    sg.a = 2.0f; /* wide, so that most steps carry gradient */
    bwd_cfg c = {.sg = sg};
    memset(grads, 0, n->n_params * sizeof *grads);
    assert_int_equal(bwd_sample(b, n, &c, si, &r, g_s, NULL, grads, NULL), 0);
    /* Sparse recording: the membranes rebuilt from the trains give the same gradients. */
    float *g2 = calloc(n->n_params, sizeof *g2);
    c.recompute = 1;
    assert_int_equal(bwd_sample(b, n, &c, si, &r, g_s, NULL, g2, NULL), 0);
    assert_close("rebuilt membranes", g2, grads, n->n_params);
    free(g2);
    uint64_t sp = 0;
    for (uint32_t l = 0; l + 1 < n->n_layers; l++) sp += r.out[l].nnz;
    assert_true(sp > 0); /* hidden layers fire: gradients flow through their spikes */
    sim_result_deinit(&r);
    sim_free(s);
    bwd_free(b);
}

static void input_train(spk_train *s, uint32_t T, uint32_t n, uint64_t seed) {
    rng *r = rng_create(seed);
    spk_init(s, T, n, 0);
    for (uint32_t t = 0; t < T; t++)
        for (uint32_t i = 0; i < n; i++)
            if (rng_bernoulli(r, 0.3)) spk_push(s, t, i, 1.0f);
    spk_close(s, 0);
    rng_free(r);
}

static void upstream(float *g, size_t n, uint64_t seed) {
    rng *r = rng_create(seed);
    for (size_t i = 0; i < n; i++) g[i] = (float)rng_uniform_range(r, -1, 1);
    rng_free(r);
}

/* conv (pooling of currents: none, average, sum), conv-conv (the second conv's input
 * gradient), valid and same padding. */
static void test_conv_current_pooling_vs_dense(void **state) {
    (void)state;
    const char *archs[] = {"4C3-5", "4C3-AP2-5", "4C3-SP2-5", "3C3-4C3-5"};
    for (unsigned a = 0; a < 4; a++)
        for (int same = 0; same <= 1; same++) {
            neuron_cfg nc = {.beta = 0.5f, .theta = 1.0f, .reset = RESET_SUBTRACT, .cmp = CMP_GT, .bias = 1};
            net_opts o = {.cfg = &nc, .n_cfg = 1, .same_pad = same};
            net *cn = build(archs[a], 2, 6, 6, &o);
            exact_params(cn, 10 + a);
            /* The dense twin: one dense layer per conv layer, same sizes. */
            char darch[128];
            int len = snprintf(darch, sizeof darch, "%u", cn->n_in);
            for (uint32_t l = 0; l < cn->n_layers; l++) len += snprintf(darch + len, sizeof darch - (size_t)len, "-%u", cn->layers[l].n_out);
            net *dn = build(darch, 0, 0, 0, &o);
            for (uint32_t l = 0; l < cn->n_layers; l++) {
                if (cn->layers[l].kind == NET_CONV) conv_as_dense(&cn->layers[l], &dn->layers[l]);
                else {
                    memcpy(dn->layers[l].w, cn->layers[l].w, cn->layers[l].n_w * sizeof(float));
                    memcpy(dn->layers[l].b, cn->layers[l].b, cn->layers[l].n_b * sizeof(float));
                }
            }
            enum { T = 12 };
            spk_train in;
            input_train(&in, T, cn->n_in, 5 + a);
            sim_input si = {.train = &in, .T = T};
            const uint32_t no = net_n_out(cn);
            float g_s[T * 8];
            upstream(g_s, (size_t)T * no, 77);
            float *gc = malloc(cn->n_params * sizeof *gc), *gd = malloc(dn->n_params * sizeof *gd);
            float *expect = calloc(cn->n_params, sizeof *expect);
            fwd_bwd(cn, &si, g_s, gc);
            fwd_bwd(dn, &si, g_s, gd);
            for (uint32_t l = 0; l < cn->n_layers; l++) {
                const net_layer *L = &cn->layers[l];
                char what[200];
                snprintf(what, sizeof what, "%s (%s padding) layer %s", archs[a], same ? "same" : "valid", L->name);
                if (L->kind == NET_CONV) project_grads(L, &dn->layers[l], gd, expect);
                else memcpy(expect + L->w_off, gd + dn->layers[l].w_off, (L->n_w + L->n_b) * sizeof(float));
                assert_close(what, gc + L->w_off, expect + L->w_off, L->n_w);
                assert_close(what, gc + L->b_off, expect + L->b_off, L->n_b);
            }
            free(gc); free(gd); free(expect);
            spk_deinit(&in);
            net_free(cn);
            net_free(dn);
        }
}

/* Sum pooling of spikes (NET_POOL, SPOOL_SUM) followed by dense: the same as the dense
 * layer reading the unpooled spikes with each input row copied from its window's row. */
static void test_spike_sum_pool_vs_dense(void **state) {
    (void)state;
    neuron_cfg nc = {.beta = 0.5f, .theta = 1.0f, .reset = RESET_SUBTRACT, .cmp = CMP_GT, .bias = 1};
    net_opts o = {.cfg = &nc, .n_cfg = 1, .pool_on = POOL_ON_SPIKES, .spool = SPOOL_SUM};
    net *cn = build("4C3-SP2-5", 2, 6, 6, &o);
    assert_int_equal(cn->n_layers, 3);
    assert_int_equal(cn->layers[1].kind, NET_POOL);
    exact_params(cn, 31);
    const net_layer *C = &cn->layers[0], *P = &cn->layers[1], *F = &cn->layers[2];
    char darch[64];
    snprintf(darch, sizeof darch, "%u-%u-%u", cn->n_in, C->n_out, F->n_out);
    net *dn = build(darch, 0, 0, 0, &o);
    conv_as_dense(C, &dn->layers[0]);
    const uint32_t p = P->pool_k;
    for (uint32_t c = 0; c < C->out_c; c++)
        for (uint32_t y = 0; y < C->out_h; y++)
            for (uint32_t x = 0; x < C->out_w; x++) {
                const uint32_t i = (c * C->out_h + y) * C->out_w + x, k = (c * P->out_h + y / p) * P->out_w + x / p;
                memcpy(dn->layers[1].w + (size_t)i * F->n_out, F->w + (size_t)k * F->n_out, F->n_out * sizeof(float));
            }
    memcpy(dn->layers[1].b, F->b, F->n_b * sizeof(float));
    enum { T = 12 };
    spk_train in;
    input_train(&in, T, cn->n_in, 3);
    sim_input si = {.train = &in, .T = T};
    float g_s[T * 5];
    upstream(g_s, (size_t)T * 5, 78);
    float *gc = malloc(cn->n_params * sizeof *gc), *gd = malloc(dn->n_params * sizeof *gd);
    float *expect = calloc(cn->n_params, sizeof *expect);
    fwd_bwd(cn, &si, g_s, gc);
    fwd_bwd(dn, &si, g_s, gd);
    project_grads(C, &dn->layers[0], gd, expect);
    for (uint32_t c = 0; c < C->out_c; c++)
        for (uint32_t y = 0; y < C->out_h; y++)
            for (uint32_t x = 0; x < C->out_w; x++) {
                const uint32_t i = (c * C->out_h + y) * C->out_w + x, k = (c * P->out_h + y / p) * P->out_w + x / p;
                for (uint32_t j = 0; j < F->n_out; j++)
                    expect[F->w_off + (size_t)k * F->n_out + j] += gd[dn->layers[1].w_off + (size_t)i * F->n_out + j];
            }
    memcpy(expect + F->b_off, gd + dn->layers[1].b_off, F->n_b * sizeof(float));
    assert_close("conv weights", gc + C->w_off, expect + C->w_off, C->n_w);
    assert_close("conv bias", gc + C->b_off, expect + C->b_off, C->n_b);
    assert_close("dense after pool", gc + F->w_off, expect + F->w_off, F->n_w + F->n_b);
    free(gc); free(gd); free(expect);
    spk_deinit(&in);
    net_free(cn);
    net_free(dn);
}

/* Direct (static) input takes a shortcut (the same currents every step: one pass with
 * Σ_t dI); it must equal the generic path fed the same values as a graded train at every
 * step. Exact arithmetic (weights k/64, inputs k/4) keeps both forwards identical. */
static void test_static_input_vs_graded_train(void **state) {
    (void)state;
    const char *archs[] = {"4C3-5", "4C3-AP2-5", "4C3-MP2-5", "36-8-5"};
    for (unsigned a = 0; a < 4; a++) {
        neuron_cfg nc = {.beta = 0.5f, .theta = 1.0f, .reset = RESET_SUBTRACT, .cmp = CMP_GT, .bias = 1};
        net_opts o = {.cfg = &nc, .n_cfg = 1};
        net *n = build(archs[a], 1, 6, 6, &o);
        exact_params(n, 50 + a);
        enum { T = 10 };
        float x[36];
        for (int i = 0; i < 36; i++) x[i] = (float)((i * 5) % 7) / 4.0f; /* zeros included */
        spk_train tr;
        assert_int_equal(spk_init(&tr, T, 36, SPK_VALUES), 0);
        for (uint32_t t = 0; t < T; t++)
            for (uint32_t i = 0; i < 36; i++)
                if (x[i] != 0.0f) spk_push(&tr, t, i, x[i]);
        spk_close(&tr, 0);
        sim_input ss = {.static_x = x, .T = T}, st = {.train = &tr, .T = T};
        float g_s[T * 5];
        upstream(g_s, (size_t)T * 5, 91);
        float *g1 = malloc(n->n_params * sizeof *g1), *g2 = malloc(n->n_params * sizeof *g2);
        fwd_bwd(n, &ss, g_s, g1);
        fwd_bwd(n, &st, g_s, g2);
        assert_close(archs[a], g1, g2, n->n_params);
        free(g1);
        free(g2);
        spk_deinit(&tr);
        net_free(n);
    }
}

/* Max pooling sends the gradient to the first maximal element in row-major order (ties
 * are the rule with spikes); worked by hand on a 1×4×4 map with 2×2 windows. */
static void test_max_pool_ties_by_hand(void **state) {
    (void)state;
    const float x[16] = {0, 1, 1, 0,
                         1, 1, 0, 0,
                         0, 0, 0, 0,
                         0, 0, 2, 2};
    const float g[4] = {1, 2, 3, 4};
    float gin[16] = {0};
    bwd_pool(gin, g, x, 1, 4, 4, 2, BWD_POOL_MAX);
    const float want[16] = {0, 1, 2, 0,
                            0, 0, 0, 0,
                            3, 0, 0, 0,
                            0, 0, 4, 0};
    for (int i = 0; i < 16; i++) assert_float_equal(gin[i], want[i], 0);
    float ga[16] = {0};
    bwd_pool(ga, g, NULL, 1, 4, 4, 2, BWD_POOL_AVG);
    assert_float_equal(ga[0], 0.25f, 0);
    assert_float_equal(ga[15], 1.0f, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_current_pooling_vs_dense),
        cmocka_unit_test(test_spike_sum_pool_vs_dense),
        cmocka_unit_test(test_static_input_vs_graded_train),
        cmocka_unit_test(test_max_pool_ties_by_hand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
