/* tests/test_conv_fast.c — the fast convolution kernels (packed channels-last layout,
 * kernels/conv.h) against the plain oracles in PyTorch's layout (conv_scatter_ref,
 * bwd_conv_dw, bwd_conv_gin, bwd_pool), over geometries that exercise every path: pooling
 * windows 1–3 folded into the kernel, padding, borders, channel counts that are and are not
 * multiples of the vector width, graded and binary events. Exact arithmetic (weights k/64,
 * values k/4) must agree bit for bit; random floats within 1e-5 of the largest value. Then
 * the engine and trainer built on them: results independent of the thread count, and a
 * trainer's gradients after optimizer steps equal those of a fresh backward workspace
 * (the packed kernels are refreshed). */
#include "tests/testutil.h"

#include <math.h>

#include "kernels/backward.h"
#include "kernels/conv.h"
#include "kernels/loss.h"
#include "sim/backward.h"
#include "sim/evsnn.h"
#include "sim/train.h"

typedef struct {
    uint32_t in_c, out_c, k, pad, in_h, in_w, p;
    int max; /* p = 1 cover of a max-pooling window mp (limh = (conv_h / mp)·mp) */
    uint32_t mp;
} geo_case;

static conv_geom geom(const geo_case *c) {
    const uint32_t ch = c->in_h + 2 * c->pad - c->k + 1, cw = c->in_w + 2 * c->pad - c->k + 1;
    conv_geom g = {.in_c = c->in_c, .out_c = c->out_c, .k = c->k, .pad = c->pad, .in_h = c->in_h, .in_w = c->in_w,
                   .p = c->p, .limh = ch, .limw = cw, .th = ch, .tw = cw};
    if (c->p > 1) {
        g.th = ch / c->p;
        g.tw = cw / c->p;
        g.limh = g.th * c->p;
        g.limw = g.tw * c->p;
    } else if (c->max) {
        g.limh = g.th = ch / c->mp * c->mp;
        g.limw = g.tw = cw / c->mp * c->mp;
    }
    return g;
}

static const geo_case cases[] = {
    {1, 16, 5, 0, 28, 28, 2, 0, 0},  /* seed 004's first layer, average pooling folded */
    {16, 64, 5, 0, 12, 12, 2, 0, 0}, /* its second */
    {2, 16, 5, 0, 32, 32, 2, 0, 0},  /* W2 */
    {3, 8, 3, 1, 9, 7, 3, 0, 0},     /* window 3, same padding, odd sizes (floor pooling) */
    {8, 20, 3, 0, 11, 10, 2, 0, 0},  /* channels not a multiple of 8 */
    {32, 32, 3, 0, 15, 15, 1, 1, 2}, /* W3's second layer: max-pooling cover at full resolution */
    {4, 24, 1, 0, 5, 6, 1, 0, 0},    /* 1x1 kernel, no pooling */
    {16, 8, 5, 2, 6, 6, 2, 0, 0},    /* kernel larger than the map, same padding */
};
#define N_CASES (sizeof cases / sizeof *cases)

/* Weights k/64 (exact = 1) or uniform floats; event values 1, k/4 (exact) or uniform. */
static void fill(float *w, size_t n, rng *r, int exact) {
    for (size_t i = 0; i < n; i++)
        w[i] = exact ? (float)((int)rng_below(r, 61) - 30) / 64.0f : (float)rng_uniform_range(r, -1, 1);
}

static void close_or_equal(const char *what, const float *got, const float *want, size_t n, int exact) {
    float mx = 0.0f, md = 0.0f;
    for (size_t i = 0; i < n; i++) {
        if (exact && got[i] != want[i])
            fail_msg("%s: [%zu] %.9g != %.9g (exact arithmetic must agree bit for bit)", what, i, (double)got[i],
                     (double)want[i]);
        mx = fmaxf(mx, fabsf(want[i]));
        md = fmaxf(md, fabsf(got[i] - want[i]));
    }
    if (!(mx > 0.0f)) fail_msg("%s: the expected values are all zero (the case tests nothing)", what);
    if (!(md <= 1e-5f * mx)) fail_msg("%s: max |diff| %.3g vs max |value| %.3g", what, (double)md, (double)mx);
}

/* Random events of one step: distinct channel ids in increasing order, values. */
static uint32_t events(uint32_t *idx, float *val, uint32_t n_in, double density, rng *r, int graded, int exact) {
    uint32_t m = 0;
    for (uint32_t i = 0; i < n_in; i++)
        if (rng_bernoulli(r, density)) {
            idx[m] = i;
            val[m++] = !graded ? 1.0f : exact ? (float)(1 + rng_below(r, 7)) / 4.0f : (float)rng_uniform_range(r, 0.1, 2);
        }
    return m;
}

static void test_scatter_vs_oracle(void **state) {
    (void)state;
    rng *r = rng_create(11);
    for (unsigned ci = 0; ci < N_CASES; ci++)
        for (int exact = 0; exact <= 1; exact++)
            for (int graded = 0; graded <= 1; graded++) {
                const geo_case *c = &cases[ci];
                const conv_geom g = geom(c);
                const uint32_t kq = conv_kq(&g), n_in = c->in_c * c->in_h * c->in_w, nt = g.th * g.tw * c->out_c;
                float *w = malloc((size_t)c->out_c * c->in_c * c->k * c->k * sizeof *w);
                float *kpt = malloc((size_t)c->in_c * kq * kq * c->out_c * sizeof *kpt);
                float *acc = calloc(nt, sizeof *acc), *ref = calloc(nt, sizeof *ref), *tr = malloc(nt * sizeof *tr);
                uint32_t *idx = malloc(n_in * sizeof *idx);
                float *val = malloc(n_in * sizeof *val);
                conv_span *sp = malloc(((size_t)c->in_h + c->in_w) * sizeof *sp);
                conv_plan pl;
                conv_plan_init(&pl, sp, sp + c->in_h, &g);
                fill(w, (size_t)c->out_c * c->in_c * c->k * c->k, r, exact);
                conv_pack(kpt, w, &g);
                const uint32_t m = events(idx, val, n_in, 0.3, r, graded, exact);
                uint64_t ops = conv_scatter(acc, kpt, &pl, idx, graded ? val : NULL, m), ops_ref = 0;
                for (uint32_t e = 0; e < m; e++) {
                    const uint32_t ch = idx[e] / (c->in_h * c->in_w), y = idx[e] / c->in_w % c->in_h, x = idx[e] % c->in_w;
                    ops_ref += conv_scatter_ref(ref, w, &g, ch, y, x, graded ? val[e] : 1.0f);
                    uint32_t dc, dy, dx;
                    conv_decode(&pl, idx[e], &dc, &dy, &dx);
                    assert_int_equal(dc, ch);
                    assert_int_equal(dy, y);
                    assert_int_equal(dx, x);
                }
                assert_int_equal(ops, ops_ref);
                transpose(tr, acc, g.th * g.tw, c->out_c, 1.0f); /* [targets, C] → [C, targets] */
                char what[96];
                snprintf(what, sizeof what, "scatter case %u exact %d graded %d", ci, exact, graded);
                close_or_equal(what, tr, ref, nt, exact);
                /* the output-stationary form: same currents, every target overwritten */
                uint32_t *scr = malloc(conv_pull_scratch(&g, m) * sizeof *scr);
                for (uint32_t i = 0; i < nt; i++) acc[i] = 1e30f; /* must all be overwritten */
                assert_int_equal(conv_pull(acc, kpt, &pl, idx, graded ? val : NULL, m, scr), ops_ref);
                transpose(tr, acc, g.th * g.tw, c->out_c, 1.0f);
                snprintf(what, sizeof what, "pull case %u exact %d graded %d", ci, exact, graded);
                close_or_equal(what, tr, ref, nt, exact);
                free(scr);
                free(w); free(kpt); free(acc); free(ref); free(tr); free(idx); free(val); free(sp);
            }
    rng_free(r);
}

/* The oracles' full-resolution gradient of a target-map gradient d [C, th, tw]: the pooling
 * window's sum spread back (bwd_pool, kind sum: the packed kernel sums the window). */
static void spread(float *dfull, const float *d, const conv_geom *g, uint32_t ch, uint32_t cw) {
    memset(dfull, 0, (size_t)g->out_c * ch * cw * sizeof *dfull);
    if (g->p == 1) {
        for (uint32_t co = 0; co < g->out_c; co++)
            for (uint32_t y = 0; y < g->th; y++)
                for (uint32_t x = 0; x < g->tw; x++)
                    dfull[((size_t)co * ch + y) * cw + x] = d[((size_t)co * g->th + y) * g->tw + x];
        return;
    }
    /* bwd_pool wants H = th·p: spread into the cover, then place it in the conv map */
    const uint32_t H = g->th * g->p, W = g->tw * g->p;
    float *tmp = calloc((size_t)g->out_c * H * W, sizeof *tmp);
    bwd_pool(tmp, d, NULL, g->out_c, H, W, g->p, BWD_POOL_SUM);
    for (uint32_t co = 0; co < g->out_c; co++)
        for (uint32_t y = 0; y < H; y++) memcpy(dfull + ((size_t)co * ch + y) * cw, tmp + ((size_t)co * H + y) * W, W * sizeof *tmp);
    free(tmp);
}

static void test_backward_vs_oracle(void **state) {
    (void)state;
    rng *r = rng_create(12);
    for (unsigned ci = 0; ci < N_CASES; ci++)
        for (int exact = 0; exact <= 1; exact++)
        for (int sparse = 0; sparse <= 1; sparse++) { /* sparse: one entry in ten (the scatter strategy) */
            const geo_case *c = &cases[ci];
            const conv_geom g = geom(c);
            const uint32_t kq = conv_kq(&g), n_in = c->in_c * c->in_h * c->in_w, tpos = g.th * g.tw, C = c->out_c;
            const uint32_t ch = c->in_h + 2 * c->pad - c->k + 1, cw = c->in_w + 2 * c->pad - c->k + 1;
            const size_t nw = (size_t)C * c->in_c * c->k * c->k;
            enum { S = 3 }; /* steps */
            float *w = malloc(nw * sizeof *w), *kpt = malloc((size_t)c->in_c * kq * kq * C * sizeof *kpt);
            float *wpan = malloc(nw * sizeof *wpan), *dkpt = calloc((size_t)c->in_c * kq * kq * C, sizeof *dkpt);
            float *dw = calloc(nw, sizeof *dw), *dw_ref = calloc(nw, sizeof *dw_ref);
            float *d = malloc((size_t)S * tpos * C * sizeof *d), *dcl = malloc((size_t)S * tpos * C * sizeof *dcl);
            float *dfull = malloc((size_t)C * ch * cw * sizeof *dfull);
            float *gin_ref = calloc((size_t)S * n_in, sizeof *gin_ref), *gcl = calloc((size_t)S * n_in, sizeof *gcl);
            float *gin = malloc((size_t)S * n_in * sizeof *gin), *gat = calloc((size_t)S * n_in, sizeof *gat);
            float *scratch = malloc(conv_gin_scratch(&g, S) * sizeof *scratch);
            uint32_t *idx = malloc(n_in * sizeof *idx), *rows = malloc((size_t)S * tpos * sizeof *rows);
            uint32_t *at = malloc(n_in * sizeof *at);
            float *val = malloc(n_in * sizeof *val);
            /* all steps' events, for the weight-stationary form */
            uint32_t aoff[S + 1] = {0}, *aidx = malloc((size_t)S * n_in * sizeof *aidx);
            float *aval = malloc((size_t)S * n_in * sizeof *aval), *dkpt2 = calloc((size_t)c->in_c * kq * kq * C, sizeof *dkpt2);
            float *dw2 = calloc(nw, sizeof *dw2), *dws = malloc(conv_dw_scratch(&g) * sizeof *dws);
            conv_span *sp = malloc(((size_t)c->in_h + c->in_w) * sizeof *sp);
            conv_plan pl;
            conv_plan_init(&pl, sp, sp + c->in_h, &g);
            bwd_conv_geom bg = {.in_c = c->in_c, .in_h = c->in_h, .in_w = c->in_w, .out_c = C, .conv_h = ch, .conv_w = cw,
                                .k = c->k, .pad = c->pad};
            fill(w, nw, r, exact);
            conv_pack(kpt, w, &g);
            conv_pack_panels(wpan, w, &g);
            uint32_t nrows = 0;
            for (uint32_t s = 0; s < S; s++) {
                float *ds = d + (size_t)s * tpos * C;
                fill(ds, (size_t)tpos * C, r, exact);
                if (sparse)
                    for (size_t q = 0; q < (size_t)tpos * C; q++)
                        if (!rng_bernoulli(r, 0.1)) ds[q] = 0.0f;
                if (sparse) ds[0] = 1.0f; /* never all zero */
                if (s == 1) /* some target rows all zero: skipped by the row list */
                    for (uint32_t co = 0; co < C; co++) ds[(size_t)co * tpos] = ds[(size_t)co * tpos + tpos - 1] = 0.0f;
                transpose(dcl + (size_t)s * tpos * C, ds, C, tpos, 1.0f);
                for (uint32_t q = 0; q < tpos; q++) {
                    const float *row = dcl + ((size_t)s * tpos + q) * C;
                    int any = 0;
                    for (uint32_t co = 0; co < C; co++) any |= row[co] != 0.0f;
                    if (any) rows[nrows++] = s * tpos + q;
                }
                const uint32_t m = events(idx, val, n_in, 0.4, r, 1, exact);
                conv_scatter_backward(dkpt, dcl + (size_t)s * tpos * C, &pl, idx, val, m);
                memcpy(aidx + aoff[s], idx, m * sizeof *idx);
                memcpy(aval + aoff[s], val, m * sizeof *val);
                aoff[s + 1] = aoff[s] + m;
                spread(dfull, ds, &g, ch, cw);
                bwd_conv_dw(dw_ref, dfull, idx, val, m, &bg);
                bwd_conv_gin(gin_ref + (size_t)s * n_in, w, dfull, &bg);
                /* chosen entries: every third one */
                uint32_t na = 0;
                for (uint32_t i = 0; i < n_in; i += 3) at[na++] = i;
                conv_gin_at(gat + (size_t)s * n_in, dcl + (size_t)s * tpos * C, kpt, &pl, at, na);
            }
            assert_true(nrows < S * tpos || sparse);
            conv_pack_backward(dw, dkpt, &g);
            char what[96];
            snprintf(what, sizeof what, "weight gradient case %u exact %d sparse %d", ci, exact, sparse);
            close_or_equal(what, dw, dw_ref, nw, exact);
            conv_dw_steps(dkpt2, dcl, &pl, aoff, aidx, aval, S, dws);
            conv_pack_backward(dw2, dkpt2, &g);
            snprintf(what, sizeof what, "weight gradient, all steps at once, case %u exact %d sparse %d", ci, exact, sparse);
            close_or_equal(what, dw2, dw_ref, nw, exact);
            conv_gin_rows(gcl, dcl, wpan, &g, rows, nrows, S, scratch);
            for (uint32_t s = 0; s < S; s++)
                transpose(gin + (size_t)s * n_in, gcl + (size_t)s * n_in, c->in_h * c->in_w, c->in_c, 1.0f);
            snprintf(what, sizeof what, "input gradient (rows) case %u exact %d sparse %d", ci, exact, sparse);
            close_or_equal(what, gin, gin_ref, (size_t)S * n_in, exact);
            for (uint32_t s = 0; s < S; s++)
                for (uint32_t i = 0; i < n_in; i++)
                    if (i % 3) gin_ref[(size_t)s * n_in + i] = 0.0f; /* only the chosen entries */
            snprintf(what, sizeof what, "input gradient (entries) case %u exact %d sparse %d", ci, exact, sparse);
            close_or_equal(what, gat, gin_ref, (size_t)S * n_in, exact);
            free(w); free(kpt); free(wpan); free(dkpt); free(dw); free(dw_ref); free(d); free(dcl); free(dfull);
            free(gin_ref); free(gcl); free(gin); free(gat); free(scratch); free(idx); free(rows); free(at); free(val);
            free(sp); free(aidx); free(aval); free(dkpt2); free(dw2); free(dws);
        }
    rng_free(r);
}

/* Max pooling of channels-last currents: the window maximum and where it is, the first one
 * on ties, the cover cleared. Hand-built 2 channels x 4x4, windows 2. */
static void test_pool_max_cl_by_hand(void **state) {
    (void)state;
    /* channel 0 row-major, channel 1 = −channel 0 */
    const float c0[16] = {0, 1, 1, 0, 1, 1, 0, 0, 0, 0, -2, -1, 0, 0, -3, -1};
    float cl[32], acc[8];
    uint8_t arg[8];
    for (int i = 0; i < 16; i++) { cl[i * 2] = c0[i]; cl[i * 2 + 1] = -c0[i]; }
    pool_max_cl(acc, arg, cl, 2, 2, 2, 2);
    const float want[8] = {1, 1, 0, -1, /* channel 1: */ 0, 0, 0, 3};
    const uint8_t where[8] = {1, 0, 0, 1, /* channel 1: */ 0, 1, 0, 2}; /* dy·2 + dx of the first maximum */
    for (int i = 0; i < 8; i++) {
        assert_float_equal(acc[i], want[i], 0);
        assert_int_equal(arg[i], where[i]);
    }
    for (int i = 0; i < 32; i++) assert_float_equal(cl[i], 0, 0);
}

/* transpose against the definition, sizes around the 8x8 tiles, with and without a scale. */
static void test_transpose(void **state) {
    (void)state;
    const uint32_t sz[] = {1, 7, 8, 9, 16, 23, 64};
    rng *r = rng_create(13);
    for (unsigned i = 0; i < 7; i++)
        for (unsigned j = 0; j < 7; j++) {
            const uint32_t a = sz[i], b = sz[j];
            float *src = malloc((size_t)a * b * sizeof *src), *dst = malloc((size_t)a * b * sizeof *dst);
            fill(src, (size_t)a * b, r, 0);
            for (int sc = 0; sc <= 1; sc++) {
                const float scale = sc ? 0.25f : 1.0f;
                transpose(dst, src, a, b, scale);
                for (uint32_t x = 0; x < a; x++)
                    for (uint32_t y = 0; y < b; y++) assert_true(dst[(size_t)y * a + x] == src[(size_t)x * b + y] * scale);
            }
            free(src);
            free(dst);
        }
    rng_free(r);
}

static net *build(const char *arch, uint32_t c, uint32_t h, uint32_t w) {
    neuron_cfg nc = {.beta = 0.5f, .theta = 1.0f, .reset = RESET_SUBTRACT, .cmp = CMP_GT, .bias = 1};
    net_opts o = {.cfg = &nc, .n_cfg = 1};
    int err;
    net *n = net_build(arch, c, h, w, &o, &err);
    if (!n) fail_msg("net_build(%s): %s", arch, evsnn_errmsg());
    return n;
}

/* Training steps on a conv net: the gradient a trainer reports for a batch equals the sum
 * of bwd_sample over the batch with a workspace created after the weights changed — so the
 * packed kernels of both workspaces follow the optimizer. With one or two threads alike. */
static void test_trainer_refreshes_kernels(void **state) {
    (void)state;
    net *n = build("16C3-AP2-16C3-10", 2, 12, 12);
    net_init_params(n, 3);
    enum { T = 8, B = 4 };
    spk_train in[B];
    sim_input si[B];
    uint32_t lab[B];
    rng *r = rng_create(5);
    for (int b = 0; b < B; b++) {
        spk_init(&in[b], T, n->n_in, 0);
        for (uint32_t t = 0; t < T; t++)
            for (uint32_t i = 0; i < n->n_in; i++)
                if (rng_bernoulli(r, 0.3)) spk_push(&in[b], t, i, 1.0f);
        spk_close(&in[b], 0);
        si[b] = (sim_input){.train = &in[b], .T = T};
        lab[b] = (uint32_t)b;
    }
    rng_free(r);
    float *g1 = NULL;
    for (int threads = 1; threads <= 2; threads++) {
        net_init_params(n, 3);
        train_cfg c = train_defaults();
        c.sg.a = 2.0f;
        c.opt.lr = 0.05f; /* large steps: stale kernels would show */
        c.slots = 2;
        c.threads = threads;
        int err;
        trainer *tr = trainer_create(n, &c, T, &err);
        assert_non_null(tr);
        train_stats st;
        for (int k = 0; k < 3; k++) {
            memset(&st, 0, sizeof st);
            assert_int_equal(trainer_step(tr, si, lab, NULL, B, &st), 0);
        }
        /* the next step's gradient, by the trainer and by fresh workspaces */
        net *copy = build("16C3-AP2-16C3-10", 2, 12, 12);
        memcpy(copy->params, n->params, n->n_params * sizeof(float));
        for (uint32_t l = 0; l < n->n_layers; l++) copy->layers[l].nc = n->layers[l].nc;
        memset(&st, 0, sizeof st);
        assert_int_equal(trainer_step(tr, si, lab, NULL, B, &st), 0);
        const float *gt = trainer_grads(tr);
        sim *s = sim_create(copy, T, &err);
        bwd *bw = bwd_create(copy, T, &err);
        float *gf = calloc(copy->n_params, sizeof *gf), *gs = malloc((size_t)T * 10 * sizeof *gs), cnt[10];
        for (int b = 0; b < B; b++) {
            sim_result res;
            sim_result_init(&res, copy, T, SIM_RECORD_MEM);
            assert_int_equal(sim_run(s, &si[b], &res), 0);
            memset(cnt, 0, sizeof cnt);
            const spk_train *o = &res.out[copy->n_layers - 1];
            for (uint32_t k = 0; k < o->nnz; k++) cnt[o->idx[k]] += 1.0f;
            /* mse_count as the trainer computes it (kernels/loss.h), mean over the batch */
            float gc[10];
            loss_mse_count(gc, cnt, 10, lab[b], T, c.correct_rate, c.incorrect_rate, 1.0f / B);
            for (uint32_t t = 0; t < T; t++) memcpy(gs + (size_t)t * 10, gc, sizeof gc);
            bwd_cfg bc = {.sg = c.sg, .theta_c = trainer_theta_c(tr)};
            assert_int_equal(bwd_sample(bw, copy, &bc, &si[b], &res, gs, NULL, gf, NULL), 0);
            sim_result_deinit(&res);
        }
        char what[64];
        snprintf(what, sizeof what, "trainer vs fresh workspaces, %d thread(s)", threads);
        close_or_equal(what, gt, gf, copy->n_params, 0);
        if (!g1) {
            g1 = malloc(n->n_params * sizeof *g1);
            memcpy(g1, gt, n->n_params * sizeof *g1);
        } else {
            for (size_t i = 0; i < n->n_params; i++) assert_true(g1[i] == gt[i]); /* thread count changes nothing */
        }
        free(gf);
        free(gs);
        sim_free(s);
        bwd_free(bw);
        net_free(copy);
        trainer_free(tr);
    }
    free(g1);
    for (int b = 0; b < B; b++) spk_deinit(&in[b]);
    net_free(n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scatter_vs_oracle),
        cmocka_unit_test(test_backward_vs_oracle),
        cmocka_unit_test(test_pool_max_cl_by_hand),
        cmocka_unit_test(test_transpose),
        cmocka_unit_test(test_trainer_refreshes_kernels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
