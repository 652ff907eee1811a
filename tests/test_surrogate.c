/* tests/test_surrogate.c — surrogate derivatives against hand-computed values and the
 * snnTorch formulas evaluated independently in double precision; the name parser. */
#include "tests/testutil.h"

#include <math.h>

#include "kernels/surrogate.h"

static surrogate parse_ok(const char *spec) {
    surrogate s;
    char msg[256];
    if (sg_parse(&s, spec, msg, sizeof msg)) fail_msg("%s: %s", spec, msg);
    return s;
}

/* Values worked by hand at a few points. */
static void test_hand_values(void **state) {
    (void)state;
    surrogate s = parse_ok("fast_sigmoid"); /* k = 25 */
    assert_float_equal(sg_grad(&s, 0.0f), 1.0f, 0);
    assert_float_equal(sg_grad(&s, 0.04f), 0.25f, 1e-7); /* 1/(1+1)² */
    assert_float_equal(sg_grad(&s, -0.12f), 0.0625f, 1e-7); /* 1/(1+3)² */
    s = parse_ok("atan"); /* α = 2: 1/(1 + (πx)²) */
    assert_float_equal(sg_grad(&s, 0.0f), 1.0f, 1e-7);
    assert_float_equal(sg_grad(&s, (float)(1.0 / M_PI)), 0.5f, 1e-6);
    s = parse_ok("sigmoid:k=4"); /* at 0: k/4 */
    assert_float_equal(sg_grad(&s, 0.0f), 1.0f, 1e-7);
    s = parse_ok("triangular");
    assert_float_equal(sg_grad(&s, -0.5f), 1.0f, 0);
    assert_float_equal(sg_grad(&s, 0.0f), -1.0f, 0);
    s = parse_ok("ste");
    assert_float_equal(sg_grad(&s, 123.0f), 1.0f, 0);
    s = parse_ok("heaviside");
    assert_float_equal(sg_grad(&s, 0.0f), 0.0f, 0);
    assert_float_equal(sg_grad(&s, 1e-6f), 1.0f, 0);
    s = parse_ok("spike_rate_escape"); /* k·exp(−β|x−1|), at x = 1: k = 25 */
    assert_float_equal(sg_grad(&s, 1.0f), 25.0f, 1e-5);
    s = parse_ok("sfs:k=1,B=0.5"); /* 1/(1+|x|)² for x > B only */
    assert_float_equal(sg_grad(&s, 0.5f), 0.0f, 0);
    assert_float_equal(sg_grad(&s, 1.0f), 0.25f, 1e-7);
}

/* snnTorch's formulas written out in double, over a grid; sigmoid never NaN even where
 * exp(−kx) overflows in float. */
static void test_formulas_grid(void **state) {
    (void)state;
    const double k = 25, a = 2;
    surrogate fs = parse_ok("fast_sigmoid:k=25"), at = parse_ok("atan:alpha=2"), sg = parse_ok("sigmoid:k=25"),
              sre = parse_ok("spike_rate_escape:beta=1,k=25"), sfs = parse_ok("sparse_fast_sigmoid:k=25,B=1");
    for (int i = -400; i <= 400; i++) {
        const double x = i / 100.0;
        const float xf = (float)x;
        double want = 1.0 / pow(k * fabs(x) + 1.0, 2);
        assert_true(fabs(sg_grad(&fs, xf) - want) <= 1e-6 * want + 1e-12);
        want = a / 2 / (1 + pow(M_PI / 2 * a * x, 2));
        assert_true(fabs(sg_grad(&at, xf) - want) <= 1e-6 * want + 1e-12);
        want = k * exp(-k * x) / pow(exp(-k * x) + 1, 2);
        const float g = sg_grad(&sg, xf);
        assert_false(isnan(g));
        assert_true(fabs(g - want) <= 1e-5 * want + 1e-30);
        want = k * exp(-fabs(x - 1));
        assert_true(fabs(sg_grad(&sre, xf) - want) <= 1e-5 * want);
        want = x > 1 ? 1.0 / pow(k * fabs(x) + 1.0, 2) : 0.0;
        assert_true(fabs(sg_grad(&sfs, xf) - want) <= 1e-6 * want + 1e-12);
    }
    assert_false(isnan(sg_grad(&sg, -1e30f)));
    assert_false(isnan(sg_grad(&sg, 1e30f)));
}

/* Slopes near FLT_MAX (the parser accepts any finite float): no NaN anywhere, and the
 * value at 0 is still α/2 (fuzz_surrogate found atan:a=2.3e38 giving NaN at x = 0). */
static void test_huge_slopes(void **state) {
    (void)state;
    const char *specs[] = {"atan:alpha=2.3e38", "fast_sigmoid:k=3e38", "sigmoid:k=3e38", "spike_rate_escape:k=3e38",
                           "sparse_fast_sigmoid:k=3e38", "triangular:threshold=3e38"};
    const float xs[] = {-1e30f, -1.0f, -1e-7f, 0.0f, 1e-7f, 1.0f, 1e30f};
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
        surrogate s = parse_ok(specs[i]);
        for (size_t k = 0; k < sizeof xs / sizeof *xs; k++)
            if (isnan(sg_grad(&s, xs[k]))) fail_msg("%s at x = %g: NaN", specs[i], (double)xs[k]);
    }
    surrogate at = parse_ok("atan:alpha=2.3e38");
    assert_float_equal(sg_grad(&at, 0.0f), 1.15e38f, 1e33f);
}

static void test_truncation(void **state) {
    (void)state;
    surrogate s = parse_ok("fast_sigmoid:k=25,eps=0.01");
    assert_float_equal(sg_grad(&s, 0.0f), 1.0f, 0);
    assert_float_equal(sg_grad(&s, 1.0f), 0.0f, 0); /* 1/26² ≈ 0.0015 < 0.01 */
    float u[3] = {1.0f, 2.0f, 5.0f}, g[3] = {2.0f, 3.0f, 4.0f}, out[3];
    sg_grad_vec(out, u, g, 1.0f, 3, &s);
    assert_float_equal(out[0], 2.0f, 0);
    assert_float_equal(out[1], 0.0f, 0);
    assert_float_equal(out[2], 0.0f, 0);
}

static void test_parse_errors(void **state) {
    (void)state;
    surrogate s;
    char msg[256];
    const char *bad[] = {"fast_sigmod", "fast_sigmoid:k", "fast_sigmoid:k=abc", "fast_sigmoid:alpha=2",
                         "atan:alpha=-1", "ste:k=3", "sigmoid:k=nan", "sfs:B=1e60", "fast_sigmoid:eps=-1", ""};
    for (unsigned i = 0; i < sizeof bad / sizeof *bad; i++) {
        msg[0] = 0;
        assert_int_equal(sg_parse(&s, bad[i], msg, sizeof msg), -1);
        assert_true(strlen(msg) > 10);
        assert_non_null(strstr(msg, "surrogate"));
    }
    sg_parse(&s, "fast_sigmoid:alpha=2", msg, sizeof msg);
    assert_non_null(strstr(msg, "slope")); /* the message lists the keys the kind accepts */
    s = parse_ok("fast_sigmoid:slope=0.25");
    assert_float_equal(s.a, 0.25f, 0);
    char buf[64];
    sg_format(buf, sizeof buf, &s);
    assert_string_equal(buf, "fast_sigmoid:k=0.25");
    s = parse_ok("sfs:B=2,eps=0.5");
    sg_format(buf, sizeof buf, &s);
    assert_string_equal(buf, "sparse_fast_sigmoid:k=25,B=2,eps=0.5");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_values),
        cmocka_unit_test(test_formulas_grid),
        cmocka_unit_test(test_huge_slopes),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_parse_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
