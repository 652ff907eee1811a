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
    assert_float_equal(loss_mse_count(g, c, 3, 0, 10, 0.8f, 0.2f, 1.0f), 13.0 / 30.0, 1e-6);
    assert_float_equal(g[0], -6.0 / 30.0, 1e-7);
    assert_float_equal(g[1], 0.0, 0);
    assert_float_equal(g[2], 4.0 / 30.0, 1e-7);
    /* T = 25, rate 0.7 → int(17.5) = 17 (truncation, as snnTorch) */
    const float d[2] = {17, 5};
    assert_float_equal(loss_mse_count(g, d, 2, 0, 25, 0.7f, 0.2f, 0.5f), 0.0, 0);
    assert_float_equal(g[0], 0.0, 0);
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
        cmocka_unit_test(test_ce_count),
        cmocka_unit_test(test_ce_rate),
        cmocka_unit_test(test_mem_mse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
