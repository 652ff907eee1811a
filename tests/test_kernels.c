/* tests/test_kernels.c — fast kernels against their plain oracles. */
#include "tests/testutil.h"

#include <math.h>

#include "kernels/conv.h"
#include "kernels/lif.h"
#include "kernels/scatter.h"
#include "sim/rng.h"

/* The four-rows-per-pass scatter sums in another order than the one-row oracle: equal within
 * float rounding (relative 1e-6 of the row magnitudes), and exactly equal on weights k/64. */
static void test_scatter_dense_matches_oracle(void **state) {
    (void)state;
    enum { NI = 97, NO = 131, NE = 23 };
    rng *r = rng_create(3);
    float *w = malloc(sizeof(float) * NI * NO), a[NO], b[NO], v[NE];
    uint32_t idx[NE];
    for (int i = 0; i < NI * NO; i++) w[i] = (float)rng_uniform_range(r, -1, 1);
    for (int e = 0; e < NE; e++) { idx[e] = (uint32_t)(e * 4 + 1); v[e] = (float)rng_uniform_range(r, 0, 2); }
    for (int withv = 0; withv < 2; withv++)
        for (uint32_t ne = 0; ne <= NE; ne++) {
            for (int j = 0; j < NO; j++) a[j] = b[j] = (float)j * 0.01f;
            scatter_dense(a, w, idx, withv ? v : NULL, ne, NO);
            scatter_dense_ref(b, w, idx, withv ? v : NULL, ne, NO);
            for (int j = 0; j < NO; j++)
                if (fabsf(a[j] - b[j]) > 1e-5f * (1.0f + fabsf(b[j]))) fail_msg("ne=%u j=%d: %g vs %g", ne, j, a[j], b[j]);
        }
    for (int i = 0; i < NI * NO; i++) w[i] = (float)((int)rng_below(r, 129) - 64) / 64.0f;
    for (int j = 0; j < NO; j++) a[j] = b[j] = 0.0f;
    scatter_dense(a, w, idx, NULL, NE, NO);
    scatter_dense_ref(b, w, idx, NULL, NE, NO);
    for (int j = 0; j < NO; j++) assert_int_equal(test_bits(a[j]), test_bits(b[j]));
    free(w);
    rng_free(r);
}

/* The vectorised all-neuron step is bit-identical to lif_next neuron by neuron, for every
 * reset and compare mode, with and without currents, scale and bias. */
static void test_lif_step_all_matches_scalar(void **state) {
    (void)state;
    enum { N = 203 };
    rng *r = rng_create(4);
    float u0[N], cur[N], bias[N];
    for (int i = 0; i < N; i++) {
        u0[i] = (float)rng_uniform_range(r, -1, 2.5);
        cur[i] = (float)rng_uniform_range(r, -1, 1.5);
        bias[i] = (float)rng_uniform_range(r, -0.3, 0.3);
    }
    u0[0] = 1.0f; /* exactly at threshold: > and >= differ */
    for (int reset = 0; reset <= LIF_ZERO_DROP; reset++)
        for (int cmp = 0; cmp <= LIF_GE; cmp++)
            for (int var = 0; var < 4; var++) {
                const float *c = var & 1 ? cur : NULL, *b = var & 2 ? bias : NULL;
                float scale = var == 3 ? 0.25f : 1.0f;
                float u[N];
                uint8_t s[N];
                memcpy(u, u0, sizeof u);
                uint32_t ns = lif_step_all(u, s, c, scale, b, N, 0.9f, 1.0f, reset, cmp), ref_ns = 0;
                for (int i = 0; i < N; i++) {
                    int R = lif_above(u0[i], 1.0f, cmp);
                    float I = c ? (scale == 1.0f ? c[i] : c[i] * scale) : 0.0f;
                    float want = lif_next(u0[i], I, b ? b[i] : 0.0f, R, 0.9f, 1.0f, reset);
                    if (test_bits(u[i]) != test_bits(want))
                        fail_msg("reset %d cmp %d var %d neuron %d: %.9g vs %.9g", reset, cmp, var, i, u[i], want);
                    assert_int_equal(s[i], lif_above(want, 1.0f, cmp));
                    ref_ns += s[i];
                }
                assert_int_equal(ns, ref_ns);
                uint32_t ids[N];
                assert_int_equal(lif_collect(ids, s, N), ns);
                for (uint32_t k = 0; k < ns; k++) assert_int_equal(s[ids[k]], 1);
                for (uint32_t k = 1; k < ns; k++) assert_true(ids[k] > ids[k - 1]);
            }
    rng_free(r);
}

/* conv_scatter_ref (the oracle) against a direct evaluation of the footprint: every output position whose
 * window covers the input pixel gets w[co, ci, y + pad − oy, x + pad − ox]. */
static void test_conv_scatter_footprint(void **state) {
    (void)state;
    enum { C = 2, O = 3, H = 7, W = 6, K = 3 };
    float w[O * C * K * K];
    for (int i = 0; i < O * C * K * K; i++) w[i] = (float)(i + 1);
    for (uint32_t pad = 0; pad <= 1; pad++) {
        uint32_t ch = H + 2 * pad - K + 1, cw = W + 2 * pad - K + 1;
        conv_geom g = {.in_c = C, .out_c = O, .k = K, .pad = pad, .limh = ch, .limw = cw, .p = 1, .th = ch, .tw = cw};
        for (uint32_t ci = 0; ci < C; ci++)
            for (uint32_t y = 0; y < H; y++)
                for (uint32_t x = 0; x < W; x++) {
                    float acc[O * 7 * 6] = {0}, want[O * 7 * 6] = {0};
                    uint32_t taps = conv_scatter_ref(acc, w, &g, ci, y, x, 1.0f), wtaps = 0;
                    for (uint32_t co = 0; co < O; co++)
                        for (uint32_t oy = 0; oy < ch; oy++)
                            for (uint32_t ox = 0; ox < cw; ox++) {
                                int ky = (int)y + (int)pad - (int)oy, kx = (int)x + (int)pad - (int)ox;
                                if (ky < 0 || ky >= K || kx < 0 || kx >= K) continue;
                                want[(co * ch + oy) * cw + ox] = w[((co * C + ci) * K + ky) * K + kx];
                                wtaps++;
                            }
                    assert_int_equal(taps, wtaps);
                    assert_memory_equal(acc, want, sizeof acc);
                }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scatter_dense_matches_oracle),
        cmocka_unit_test(test_lif_step_all_matches_scalar),
        cmocka_unit_test(test_conv_scatter_footprint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
