/* tests/test_train_loss.c — the loss kernels against hand computations. */
#include "tests/testutil.h"

#include <math.h>

#include "kernels/loss.h"

/* mse_count, T = 10, rates 0.8/0.2 → targets 8 and 2; counts (5, 2, 4), label 0:
 * errors (−3, 0, 2) → loss (9 + 0 + 4)/(3·10) = 13/30; dL/dc = 2·err/30. */
static void test_mse_count(void **state) {
    (void)state;
    const float c[3] = {5, 2, 4};
    float g[3];
    assert_float_equal(loss_mse_count(g, c, 3, 0, 10, 0.8, 0.2, 1.0f), 13.0 / 30.0, 1e-6);
    assert_float_equal(g[0], -6.0 / 30.0, 1e-7);
    assert_float_equal(g[1], 0.0, 0);
    assert_float_equal(g[2], 4.0 / 30.0, 1e-7);
    /* T = 25, rate 0.7 → int(17.5) = 17 (truncation, as snnTorch) */
    const float d[2] = {17, 5};
    assert_float_equal(loss_mse_count(g, d, 2, 0, 25, 0.7, 0.2, 0.5f), 0.0, 0);
    assert_float_equal(g[0], 0.0, 0);
}

/* Targets as snnTorch computes them, int(num_steps * rate) in Python (double) arithmetic:
 * the 21 pairs with T <= 200 and rate k/100 where a float32 product truncates to another
 * integer (the second figure in each comment). Values printed by Python 3 `int(T * rate)`.
 * A count equal to the target gives loss 0 and gradient 0 exactly, on the label (correct
 * rate) and off it (incorrect rate). */
static void test_mse_count_targets_double(void **state) {
    (void)state;
    static const struct { uint32_t T; double rate; int target; } p[] = {
        {50, 0.58, 28}, {75, 0.84, 63}, {90, 0.7, 62},
        {100, 0.29, 28}, {100, 0.53, 53}, {100, 0.57, 56},
        {100, 0.58, 57}, {100, 0.59, 59}, {150, 0.42, 63},
        {150, 0.78, 117}, {150, 0.82, 122}, {150, 0.84, 126},
        {170, 0.7, 118}, {180, 0.35, 62}, {180, 0.65, 117},
        {180, 0.7, 125}, {200, 0.29, 57}, {200, 0.53, 106},
        {200, 0.57, 113}, {200, 0.58, 115}, {200, 0.59, 118},
    };
    for (size_t k = 0; k < sizeof p / sizeof *p; k++) {
        float g[2];
        const float on[2] = {(float)p[k].target, 0.0f}, off[2] = {0.0f, (float)p[k].target};
        if (loss_mse_count(g, on, 2, 0, p[k].T, p[k].rate, 0.0, 1.0f) != 0.0f || g[0] != 0.0f)
            fail_msg("T = %u, correct rate %g: target is not int(T * rate) = %d", p[k].T, p[k].rate, p[k].target);
        if (loss_mse_count(g, off, 2, 0, p[k].T, 0.0, p[k].rate, 1.0f) != 0.0f || g[1] != 0.0f)
            fail_msg("T = %u, incorrect rate %g: target is not int(T * rate) = %d", p[k].T, p[k].rate, p[k].target);
    }
    /* T = 100, rate 0.58: 57 (float32 would give 58) */
    float g[1];
    const float c58[1] = {58.0f};
    assert_float_equal(loss_mse_count(g, c58, 1, 0, 100, 0.58, 0.0, 1.0f), 1.0 / 100.0, 1e-9);
}

/* ce_count with counts (ln 1, ln 3) = softmax (1/4, 3/4); label 1: loss −ln(3/4). */
static void test_ce_count(void **state) {
    (void)state;
    const float c[2] = {0.0f, (float)log(3.0)};
    float g[2];
    assert_float_equal(loss_ce_count(g, c, 2, 1, 1.0f), -log(0.75), 1e-6);
    assert_float_equal(g[0], 0.25, 1e-6);
    assert_float_equal(g[1], -0.25, 1e-6);
    /* large counts stay finite (log-sum-exp) */
    const float big[2] = {1000.0f, 0.0f};
    assert_true(isfinite(loss_ce_count(g, big, 2, 1, 1.0f)));
}

/* ce_rate over T = 2: step 0 spikes (1, 0), step 1 (0, 0); label 0.
 * step 0: −ln(e/(e+1)); step 1: ln 2; mean of the two. */
static void test_ce_rate(void **state) {
    (void)state;
    const float s[4] = {1, 0, 0, 0};
    float g[4];
    const double want = (-log(M_E / (M_E + 1)) + log(2.0)) / 2;
    assert_float_equal(loss_ce_rate(g, s, 2, 2, 0, 1.0f), want, 1e-6);
    assert_float_equal(g[2], (0.5 - 1.0) / 2, 1e-6);
    assert_float_equal(g[3], 0.5 / 2, 1e-6);
}

/* mem_mse: u = (1, 2), target (0, 4): ((1)² + (−2)²)/2 = 2.5; dL/du = 2·(u − y)/2. */
static void test_mem_mse(void **state) {
    (void)state;
    const float u[2] = {1, 2}, y[2] = {0, 4};
    float g[2];
    assert_float_equal(loss_mem_mse(g, u, y, 2, 1, 1.0f), 2.5, 1e-7);
    assert_float_equal(g[0], 1.0, 1e-7);
    assert_float_equal(g[1], -2.0, 1e-7);
    const float c[4] = {3, 7, 7, 1};
    assert_int_equal(loss_argmax(c, 4), 1); /* first of the tied maxima */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mse_count),
        cmocka_unit_test(test_mse_count_targets_double),
        cmocka_unit_test(test_ce_count),
        cmocka_unit_test(test_ce_rate),
        cmocka_unit_test(test_mem_mse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
