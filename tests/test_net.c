/* tests/test_net.c — the papers' architecture notation: shapes worked out by hand, and the
 * errors for malformed strings and impossible parameters. */
#include "tests/testutil.h"

#include <math.h>

#include "sim/evsnn.h"
#include "sim/net.h"

static net *ok(const char *arch, const char *shape, const net_opts *o) {
    uint32_t c = 0, h = 0, w = 0;
    if (shape) assert_int_equal(net_parse_shape(shape, &c, &h, &w), 0);
    int err;
    net *n = net_build(arch, c, h, w, o, &err);
    if (!n) fail_msg("%s on %s: %s", arch, shape ? shape : "-", evsnn_errmsg());
    return n;
}

/* Returns the error code and leaves the message for the caller to check. */
static int bad(const char *arch, const char *shape, const net_opts *o) {
    uint32_t c = 0, h = 0, w = 0;
    if (shape) assert_int_equal(net_parse_shape(shape, &c, &h, &w), 0);
    int err = 0;
    net *n = net_build(arch, c, h, w, o, &err);
    if (n) fail_msg("%s on %s should be rejected", arch, shape ? shape : "-");
    assert_true(err < 0);
    return err;
}

/* SHD: 700 inputs, 3000 hidden, 20 outputs: 700·3000 + 3000 + 3000·20 + 20 parameters. */
static void test_shd(void **state) {
    (void)state;
    net *n = ok("700-3000-20", NULL, NULL);
    assert_int_equal(n->n_in, 700);
    assert_int_equal(n->n_layers, 2);
    assert_int_equal(n->layers[0].n_out, 3000);
    assert_int_equal(n->layers[1].n_in, 3000);
    assert_int_equal(n->n_params, 700 * 3000 + 3000 + 3000 * 20 + 20);
    net_free(n);
    n = ok("700-3000-20", "700", NULL);
    net_free(n);
}

/* MNIST (seed 004): 1x28x28 → 16C5 → 24 → AP2 → 12 → 64C5 → 8 → AP2 → 4; 64·4·4 = 1024. */
static void test_mnist(void **state) {
    (void)state;
    net *n = ok("16C5-AP2-64C5-AP2-1024-10", "1x28x28", NULL);
    assert_int_equal(n->n_layers, 3); /* pooling of currents folds into the conv layers */
    assert_int_equal(n->layers[0].conv_h, 24);
    assert_int_equal(n->layers[0].out_h, 12);
    assert_int_equal(n->layers[1].conv_h, 8);
    assert_int_equal(n->layers[1].out_h, 4);
    assert_int_equal(n->layers[1].n_out, 1024);
    assert_int_equal(n->layers[2].n_in, 1024);
    assert_int_equal(n->layers[2].n_out, 10);
    assert_int_equal(n->n_params, 16 * 25 + 16 + 64 * 16 * 25 + 64 + 1024 * 10 + 10);
    assert_string_equal(n->note, "");
    net_free(n);
    /* With pooling of spikes the pools become layers of their own. */
    net_opts o = {.pool_on = POOL_ON_SPIKES};
    n = ok("16C5-AP2-64C5-AP2-1024-10", "1x28x28", &o);
    assert_int_equal(n->n_layers, 5);
    assert_int_equal(n->layers[1].kind, NET_POOL);
    assert_int_equal(n->layers[0].n_out, 16 * 24 * 24);
    net_free(n);
}

/* DVS128 (seed 004): 2x32x32 → 28 → 14 → 10 → 5; 32·5·5 = 800. */
static void test_dvs(void **state) {
    (void)state;
    net *n = ok("16C5-AP2-32C5-AP2-800-11", "2x32x32", NULL);
    assert_int_equal(n->layers[1].n_out, 800);
    assert_int_equal(n->layers[2].n_out, 11);
    net_free(n);
    /* The paper's "8800" typo: not the flatten size, so it is read as a hidden layer and the
     * note says what the flatten size is. */
    n = ok("16C5-AP2-32C5-AP2-8800-11", "2x32x32", NULL);
    assert_int_equal(n->layers[2].n_out, 8800);
    assert_non_null(strstr(n->note, "flatten size 800 (32x5x5)"));
    net_free(n);
}

/* SVHN (seed 000): 3x32x32 → 30 → P2 → 15 → 13 → MP2 → 6; 32·6·6 = 1152, so 256 is a
 * hidden dense layer, and the note says how the ambiguous token was read. */
static void test_svhn(void **state) {
    (void)state;
    net *n = ok("32C3-P2-32C3-MP2-256-10", "3x32x32", NULL);
    assert_int_equal(n->layers[0].pool, POOL_MAX);
    assert_int_equal(n->layers[1].out_h, 6);
    assert_int_equal(n->layers[2].n_in, 1152);
    assert_int_equal(n->layers[2].n_out, 256);
    assert_int_equal(n->layers[3].n_out, 10);
    assert_non_null(strstr(n->note, "1152"));
    net_free(n);
    /* Same padding: 32 → 16 → 16 → 8; 32·8·8 = 2048. */
    net_opts o = {.same_pad = 1};
    n = ok("32C3-P2-32C3-MP2-2048-10", "3x32x32", &o);
    assert_int_equal(n->layers[2].n_in, 2048);
    assert_int_equal(n->n_layers, 3);
    net_free(n);
}

/* Wrong input size for a dense net: the message says what it should be. */
static void test_input_mismatch_says_expected(void **state) {
    (void)state;
    assert_int_equal(bad("600-3000-20", "700", NULL), EVSNN_ESHAPE);
    assert_non_null(strstr(evsnn_errmsg(), "should be 700"));
    assert_int_equal(bad("100-10", "2x32x32", NULL), EVSNN_ESHAPE);
    assert_non_null(strstr(evsnn_errmsg(), "2048"));
}

static void test_malformed(void **state) {
    (void)state;
    const char *cases[] = {"", "700--20", "700-3000-", "-700-20", "16X5-10", "16C-10", "C5-10", "AP-10", "700-0-20",
                           "700-3000-20x", "16C5-AP2", "16C5", "700-16C5-10", "AP2-10", "16C5-AP2-AP2-10"};
    for (unsigned i = 0; i < sizeof cases / sizeof *cases; i++) {
        int err = bad(cases[i], "1x28x28", NULL);
        assert_true(err == EVSNN_EFORMAT || err == EVSNN_ESHAPE);
        assert_true(strlen(evsnn_errmsg()) > 10); /* a message, naming the string */
    }
    /* Kernel larger than the map, pool larger than the map. */
    assert_int_equal(bad("16C9-10", "1x8x8", NULL), EVSNN_ESHAPE);
    assert_non_null(strstr(evsnn_errmsg(), "16C9"));
    assert_int_equal(bad("4C3-AP8-10", "1x8x8", NULL), EVSNN_ESHAPE);
    /* A conv net without an input shape. */
    assert_int_equal(bad("16C5-10", NULL, NULL), EVSNN_ESHAPE);
}

static void test_impossible_parameters(void **state) {
    (void)state;
    neuron_cfg nc = net_default_neuron();
    net_opts o = {.cfg = &nc, .n_cfg = 1};
    nc.beta = 1.5f;
    assert_int_equal(bad("10-5", NULL, &o), EVSNN_EINVAL);
    assert_non_null(strstr(evsnn_errmsg(), "beta"));
    nc.beta = -0.1f;
    assert_int_equal(bad("10-5", NULL, &o), EVSNN_EINVAL);
    nc.beta = NAN;
    assert_int_equal(bad("10-5", NULL, &o), EVSNN_EINVAL);
    nc.beta = 0.5f;
    nc.theta = 0.0f;
    assert_int_equal(bad("10-5", NULL, &o), EVSNN_EINVAL);
    assert_non_null(strstr(evsnn_errmsg(), "threshold"));
    nc.theta = -1.0f;
    assert_int_equal(bad("10-5", NULL, &o), EVSNN_EINVAL);
    nc.theta = INFINITY;
    assert_int_equal(bad("10-5", NULL, &o), EVSNN_EINVAL);
}

static void test_shapes(void **state) {
    (void)state;
    uint32_t c, h, w;
    assert_int_equal(net_parse_shape("2x32x32", &c, &h, &w), 0);
    assert_true(c == 2 && h == 32 && w == 32);
    assert_int_equal(net_parse_shape("700", &c, &h, &w), 0);
    assert_true(c == 700 && h == 1 && w == 1);
    assert_int_equal(net_parse_shape("2,34,34", &c, &h, &w), 0);
    const char *badv[] = {"", "x", "0x3x3", "2x32", "2x32x32x1", "a", "3x-1x2", "2x32x"};
    for (unsigned i = 0; i < sizeof badv / sizeof *badv; i++) assert_true(net_parse_shape(badv[i], &c, &h, &w) < 0);
    /* Limits, each named: H and W ≤ 65536, C ≤ 2^24, C·H·W ≤ 2^31 (products in 64 bits:
     * 65537·65536 = 4,295,032,832 wraps to 65,536 in 32 bits). */
    assert_int_equal(net_parse_shape("1x100000x100000", &c, &h, &w), EVSNN_ERANGE);
    assert_non_null(strstr(evsnn_errmsg(), "H = 100000 is above the limit of 65536"));
    assert_int_equal(net_parse_shape("65537x65536x1", &c, &h, &w), EVSNN_ERANGE);
    assert_non_null(strstr(evsnn_errmsg(), "has 4295032832 values, above the limit of 2147483648"));
    assert_int_equal(net_parse_shape("16777216x65536x16", &c, &h, &w), EVSNN_ERANGE);
    assert_non_null(strstr(evsnn_errmsg(), "17592186044416 values"));
    assert_int_equal(net_parse_shape("16777217x1x1", &c, &h, &w), EVSNN_ERANGE);
    assert_non_null(strstr(evsnn_errmsg(), "C = 16777217 is above the limit of 16777216"));
    assert_int_equal(net_parse_shape("32768x256x256", &c, &h, &w), 0); /* exactly 2^31 */
}

/* Shapes that overflow 32 bits inside net_build (a checkpoint's input is any uint32): the
 * 64-bit products refuse them instead of building a wrong, smaller network. */
static void test_shape_overflow(void **state) {
    (void)state;
    int err;
    net *n = net_build("65536-10", 65537, 65536, 1, NULL, &err);
    assert_null(n);
    assert_int_equal(err, EVSNN_ERANGE);
    assert_non_null(strstr(evsnn_errmsg(), "4295032832 values"));
    n = net_build("10-10", 4294967295u, 4294967295u, 4294967295u, NULL, &err); /* saturates, no wrap */
    assert_null(n);
    assert_int_equal(err, EVSNN_ERANGE);
    n = net_build("1000000000C3-10", 1, 64, 64, NULL, &err); /* 10^9 × 62 × 62 outputs */
    assert_null(n);
    assert_int_equal(err, EVSNN_ERANGE);
    assert_non_null(strstr(evsnn_errmsg(), "token 1 '1000000000C3' makes 1000000000x62x62 = 3844000000000 outputs"));
}

/* PyTorch's default init: every weight and bias within ±1/√fan_in, and not all equal. */
static void test_init_bounds(void **state) {
    (void)state;
    net *n = ok("16C5-AP2-10", "1x12x12", NULL);
    net_init_params(n, 3);
    float b0 = 1.0f / sqrtf(25.0f), b1 = 1.0f / sqrtf(16 * 4 * 4);
    float mx0 = 0, mx1 = 0;
    for (size_t i = 0; i < n->layers[0].n_w; i++) mx0 = fmaxf(mx0, fabsf(n->layers[0].w[i]));
    for (size_t i = 0; i < n->layers[1].n_w; i++) mx1 = fmaxf(mx1, fabsf(n->layers[1].w[i]));
    assert_true(mx0 <= b0 && mx0 > 0.9f * b0);
    assert_true(mx1 <= b1 && mx1 > 0.9f * b1);
    net *m = ok("16C5-AP2-10", "1x12x12", NULL);
    net_init_params(m, 3);
    assert_memory_equal(n->params, m->params, n->n_params * sizeof(float)); /* seeded */
    net_init_params(m, 4);
    assert_true(memcmp(n->params, m->params, n->n_params * sizeof(float)) != 0);
    net_free(n);
    net_free(m);
}

/* Glorot uniform as seed 004's published binarized layers: conv1 fan 25 + 400, conv2 fan
 * 400 + 1600 (16·25 in, 64·25 out), dense 1024 + 10; biases zero; seeded. */
static void test_init_glorot(void **state) {
    (void)state;
    net *n = ok("16C5-AP2-64C5-AP2-1024-10", "1x28x28", NULL);
    net_init_glorot(n, 3);
    const double fans[3] = {25 + 400, 400 + 1600, 1024 + 10};
    for (uint32_t l = 0, j = 0; l < n->n_layers; l++) {
        const net_layer *L = &n->layers[l];
        if (L->kind == NET_POOL) continue;
        const float bound = (float)sqrt(1.5 / fans[j++]);
        float mx = 0;
        double sum = 0;
        for (size_t i = 0; i < L->n_w; i++) mx = fmaxf(mx, fabsf(L->w[i])), sum += L->w[i];
        assert_true(mx <= bound && mx > 0.9f * bound);
        assert_true(fabs(sum / (double)L->n_w) < 0.1 * bound);
        for (size_t i = 0; i < L->n_b; i++) assert_true(L->b[i] == 0.0f);
    }
    net *m = ok("16C5-AP2-64C5-AP2-1024-10", "1x28x28", NULL);
    net_init_glorot(m, 3);
    assert_memory_equal(n->params, m->params, n->n_params * sizeof(float));
    net_free(n);
    net_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shd),       cmocka_unit_test(test_mnist),
        cmocka_unit_test(test_dvs),       cmocka_unit_test(test_svhn),
        cmocka_unit_test(test_input_mismatch_says_expected), cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_impossible_parameters), cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_shape_overflow),
        cmocka_unit_test(test_init_bounds), cmocka_unit_test(test_init_glorot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
