/* tests/test_io_transform.c — event and image transforms on tiny inputs, against
 * expectations computed by hand (each case spells out the arithmetic). */
#include "tests/testutil.h"

#include <math.h>

#include "io/transform.h"
#include "sim/evsnn.h"

#define EV(t_, x_, y_, p_) ((ds_event){(t_), (x_), (y_), (p_)})

static void test_time_window(void **state) {
    (void)state;
    ds_event ev[] = {EV(0, 0, 0, 0), EV(5, 1, 0, 0), EV(10, 2, 0, 0), EV(15, 3, 0, 0)};
    /* [5, 15): t = 5 and t = 10 stay, in order. */
    size_t n = tf_time_window(ev, 4, 5, 15);
    assert_int_equal(n, 2);
    assert_int_equal(ev[0].x, 1);
    assert_int_equal(ev[1].x, 2);
}

/* 5×5 sensor, window 10 µs.
 *  A t0  (2,2): no neighbour seen            → drop; pixel (2,2) supports until 10
 *  B t5  (3,2): neighbour (2,2) until 10 > 5 → keep; (3,2) until 15
 *  C t20 (0,0): nothing around               → drop; (0,0) until 30
 *  D t22 (2,2): (3,2) until 15 < 22          → drop
 *  E t23 (1,0): (0,0) until 30 > 23          → keep
 *  F t24 (1,1): (1,0) until 33 > 24          → keep
 *  G t40 (4,4), H t41 (4,4): only their own pixel, which does not count → both drop */
static void test_denoise(void **state) {
    (void)state;
    ds_event ev[] = {EV(0, 2, 2, 1), EV(5, 3, 2, 0), EV(20, 0, 0, 1), EV(22, 2, 2, 1),
                     EV(23, 1, 0, 0), EV(24, 1, 1, 1), EV(40, 4, 4, 1), EV(41, 4, 4, 1)};
    int64_t mem[25];
    size_t n = tf_denoise(ev, 8, 5, 5, 10, mem);
    assert_int_equal(n, 3);
    assert_int_equal(ev[0].t, 5);
    assert_int_equal(ev[1].t, 23);
    assert_int_equal(ev[2].t, 24);
}

/* 4×4 sensor, dt 10 µs, T 3, 2× downsampling → 2×2×2 = 8 channels (c·4 + y'·2 + x').
 *  t0  (0,0) ON  → step 0, ch 4;   t9 (1,1) ON → step 0, ch 4 (count 2)
 *  t10 (3,0) OFF → step 1, ch 1;   t25 (2,3) OFF → step 2, ch 0·4 + 1·2 + 1 = 3
 *  t30 → step 3 ≥ T, dropped;      t −1 → before t0, dropped.
 * Given out of time order: binning must not depend on order. */
static const ds_event bin_ev[] = {EV(25, 2, 3, 0), EV(0, 0, 0, 1), EV(30, 0, 0, 0),
                                  EV(10, 3, 0, 0), EV(-1, 0, 0, 1), EV(9, 1, 1, 1)};

static void test_bin_sum(void **state) {
    (void)state;
    tf_bin_cfg cfg = {.t0 = 0, .dt = 10, .T = 3, .w = 4, .h = 4, .fx = 2, .fy = 2, .pols = 2, .binary = 0};
    spk_train s;
    assert_int_equal(tf_bin(&s, bin_ev, 6, &cfg), 0);
    assert_int_equal(s.n, 8);
    assert_int_equal(spk_validate(&s), 0);
    const uint32_t off[] = {0, 1, 2, 3}, idx[] = {4, 1, 3};
    const float val[] = {2, 1, 1};
    for (int t = 0; t <= 3; t++) assert_int_equal(s.off[t], off[t]);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(s.idx[k], idx[k]);
        assert_true(s.val[k] == val[k]);
    }
    spk_deinit(&s);
}

static void test_bin_or_and_merge(void **state) {
    (void)state;
    tf_bin_cfg cfg = {.t0 = 0, .dt = 10, .T = 3, .w = 4, .h = 4, .fx = 2, .fy = 2, .pols = 2, .binary = 1};
    spk_train s;
    assert_int_equal(tf_bin(&s, bin_ev, 6, &cfg), 0);
    assert_null(s.val); /* OR: binary */
    assert_int_equal(s.nnz, 3);
    assert_int_equal(s.idx[0], 4);
    spk_deinit(&s);
    /* Merged polarity: 1×2×2; step 0 ch 0 (count 2), step 1 ch 1, step 2 ch 3. */
    cfg.binary = 0, cfg.pols = 1;
    assert_int_equal(tf_bin(&s, bin_ev, 6, &cfg), 0);
    assert_int_equal(s.n, 4);
    assert_int_equal(s.idx[0], 0), assert_int_equal(s.idx[1], 1), assert_int_equal(s.idx[2], 3);
    assert_true(s.val[0] == 2.0f);
    spk_deinit(&s);
}

/* SHD units downsampled by 3: 700 units → ceil(700/3) = 234 channels; unit 699 → 233,
 * units 3, 4, 5 → channel 1 (count 3). 14 ms bins: t 13,999 → step 0, t 14,000 → step 1. */
static void test_bin_units(void **state) {
    (void)state;
    ds_event ev[] = {EV(0, 3, 0, 0), EV(10, 4, 0, 0), EV(13999, 5, 0, 0), EV(14000, 699, 0, 0)};
    tf_bin_cfg cfg = {.t0 = 0, .dt = 14000, .T = 100, .w = 700, .h = 1, .fx = 3, .fy = 1, .pols = 1};
    spk_train s;
    assert_int_equal(tf_bin(&s, ev, 4, &cfg), 0);
    assert_int_equal(s.n, 234);
    assert_int_equal(spk_count(&s, 0), 1);
    assert_int_equal(s.idx[0], 1);
    assert_true(s.val[0] == 3.0f);
    assert_int_equal(spk_count(&s, 1), 1);
    assert_int_equal(s.idx[1], 233);
    spk_deinit(&s);
}

static void test_bin_rejects_outside(void **state) {
    (void)state;
    ds_event ev[] = {EV(0, 4, 0, 0)}; /* x = 4 on a 4-wide sensor */
    tf_bin_cfg cfg = {.t0 = 0, .dt = 10, .T = 3, .w = 4, .h = 4, .fx = 1, .fy = 1, .pols = 2};
    spk_train s;
    assert_int_equal(tf_bin(&s, ev, 1, &cfg), EVSNN_EINVAL);
    assert_non_null(strstr(evsnn_errmsg(), "outside"));
}

/* ceil(1000 / 3) = 334: three bins of 334 µs cover 1,002 µs ≥ 1,000. */
static void test_dt_for_bins(void **state) {
    (void)state;
    assert_int_equal(tf_dt_for_bins(1000, 3), 334);
    assert_int_equal(tf_dt_for_bins(900, 3), 300);
    assert_int_equal(tf_dt_for_bins(0, 5), 1);
}

/* T = 5: x = 1 → step round(0·4) = 0; x = 0.5 → round(0.5·4) = 2; x = 0 and x = 0.005
 * (below the 0.01 threshold) never fire. */
static void test_latency(void **state) {
    (void)state;
    const float x[] = {1.0f, 0.5f, 0.0f, 0.005f};
    spk_train s;
    assert_int_equal(tf_latency(&s, x, 4, 5, 0.01f), 0);
    const uint32_t off[] = {0, 1, 1, 2, 2, 2};
    for (int t = 0; t <= 5; t++) assert_int_equal(s.off[t], off[t]);
    assert_int_equal(s.idx[0], 0);
    assert_int_equal(s.idx[1], 1);
    spk_deinit(&s);
}

/* Bernoulli: p = 0 never, p = 1 every step; p = 0.3 over 1000 × 100 draws has mean 0.3 with
 * σ = sqrt(0.21 / 1e5) ≈ 0.00145: a 5σ band. Same seed → same train. */
static void test_rate(void **state) {
    (void)state;
    const float x2[] = {0.0f, 1.0f};
    rng *r = rng_create(1);
    spk_train s;
    assert_int_equal(tf_rate(&s, x2, 2, 10, 1.0f, r), 0);
    assert_int_equal(s.nnz, 10);
    for (uint32_t k = 0; k < s.nnz; k++) assert_int_equal(s.idx[k], 1);
    spk_deinit(&s);
    float x[1000];
    for (int i = 0; i < 1000; i++) x[i] = 0.3f;
    rng_seed(r, 7);
    assert_int_equal(tf_rate(&s, x, 1000, 100, 1.0f, r), 0);
    double mean = s.nnz / 1e5;
    assert_true(fabs(mean - 0.3) < 5 * 0.00145);
    spk_train s2;
    rng_seed(r, 7);
    assert_int_equal(tf_rate(&s2, x, 1000, 100, 1.0f, r), 0);
    assert_int_equal(s2.nnz, s.nnz);
    assert_memory_equal(s2.idx, s.idx, s.nnz * sizeof *s.idx);
    spk_deinit(&s), spk_deinit(&s2);
    rng_free(r);
}

/* Poisson(0.5) per cell, 1000 × 100 cells: total mean 50,000, σ = sqrt(50,000) ≈ 224. */
static void test_poisson(void **state) {
    (void)state;
    float x[1000];
    for (int i = 0; i < 1000; i++) x[i] = 0.5f;
    rng *r = rng_create(3);
    spk_train s;
    assert_int_equal(tf_poisson(&s, x, 1000, 100, 1.0f, r), 0);
    assert_int_equal(spk_validate(&s), 0);
    assert_true(fabs(spk_total(&s) - 50000.0) < 5 * 224);
    spk_deinit(&s);
    rng_free(r);
}

/* A 2-channel 2×3 image, values 10·ch + 3·y + x + 1, written out by hand for each case. */
static void test_shift_image(void **state) {
    (void)state;
    float in[12], out[12];
    for (int ch = 0; ch < 2; ch++)
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 3; x++) in[ch * 6 + y * 3 + x] = (float)(10 * ch + 3 * y + x + 1);
    /* in, channel 0: 1 2 3 / 4 5 6; channel 1: 11 12 13 / 14 15 16 */
    tf_shift_image(out, in, 2, 2, 3, 0, 0, 0);
    assert_memory_equal(out, in, sizeof in);
    tf_shift_image(out, in, 2, 2, 3, 1, 0, 0); /* right by one, column 0 empty */
    const float right[] = {0, 1, 2, 0, 4, 5, 0, 11, 12, 0, 14, 15};
    assert_memory_equal(out, right, sizeof right);
    tf_shift_image(out, in, 2, 2, 3, -1, 1, 0); /* left by one, down by one */
    const float left_down[] = {0, 0, 0, 2, 3, 0, 0, 0, 0, 12, 13, 0};
    assert_memory_equal(out, left_down, sizeof left_down);
    tf_shift_image(out, in, 2, 2, 3, 0, 0, 1); /* mirrored */
    const float flip[] = {3, 2, 1, 6, 5, 4, 13, 12, 11, 16, 15, 14};
    assert_memory_equal(out, flip, sizeof flip);
    tf_shift_image(out, in, 2, 2, 3, 1, -1, 1); /* mirrored, then right and up */
    const float flip_right_up[] = {0, 6, 5, 0, 0, 0, 0, 16, 15, 0, 0, 0};
    assert_memory_equal(out, flip_right_up, sizeof flip_right_up);
    tf_shift_image(out, in, 2, 2, 3, 3, 0, 0); /* shifted out entirely */
    for (int k = 0; k < 12; k++) assert_true(out[k] == 0.0f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_window), cmocka_unit_test(test_denoise),
        cmocka_unit_test(test_bin_sum),     cmocka_unit_test(test_bin_or_and_merge),
        cmocka_unit_test(test_bin_units),   cmocka_unit_test(test_bin_rejects_outside),
        cmocka_unit_test(test_dt_for_bins), cmocka_unit_test(test_latency),
        cmocka_unit_test(test_rate),        cmocka_unit_test(test_poisson),
        cmocka_unit_test(test_shift_image),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
