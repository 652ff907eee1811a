/* tests/test_model.c — model files: round trip, and the errors for bad, newer or
 * malformed files (edited here through the HDF5 library directly). */
#include "tests/testutil.h"

#include <hdf5.h>

#include "io/model.h"
#include "sim/evsnn.h"

static char dir[64], path[128];

static int setup(void **state) {
    (void)state;
    test_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.h5", dir);
    return dir[0] ? 0 : -1;
}
static int teardown(void **state) {
    (void)state;
    test_rmdir(dir);
    return 0;
}

static net *sample_net(void) {
    neuron_cfg nc[2] = {{.beta = 0.5f, .theta = 1.25f, .reset = RESET_ZERO, .cmp = CMP_GE, .bias = 1},
                        {.beta = 0.75f, .theta = 2.0f, .reset = RESET_NONE, .cmp = CMP_GE, .bias = 1}};
    net_opts o = {.cfg = nc, .n_cfg = 2, .pool_on = POOL_ON_SPIKES, .spool = SPOOL_SUM, .same_pad = 1};
    int err;
    net *n = net_build("4C3-AP2-10", 2, 6, 6, &o, &err);
    assert_non_null(n);
    net_init_params(n, 9);
    return n;
}

static void test_roundtrip(void **state) {
    (void)state;
    net *n = sample_net();
    model_meta m = {.steps = 42, .pool_on = POOL_ON_SPIKES, .spool = SPOOL_SUM, .same_pad = 1, .binarized = 1};
    snprintf(m.dataset, sizeof m.dataset, "unit test");
    assert_int_equal(model_save(path, n, &m), 0);
    model_meta r;
    int err;
    net *k = model_load(path, &r, &err);
    if (!k) fail_msg("%s", evsnn_errmsg());
    assert_string_equal(k->arch, "4C3-AP2-10");
    assert_int_equal(k->n_layers, n->n_layers);
    assert_int_equal(k->n_params, n->n_params);
    assert_memory_equal(k->params, n->params, n->n_params * sizeof(float));
    assert_int_equal(r.steps, 42);
    assert_int_equal(r.binarized, 1);
    assert_int_equal(r.pool_on, POOL_ON_SPIKES);
    assert_int_equal(r.spool, SPOOL_SUM);
    assert_int_equal(r.same_pad, 1);
    assert_string_equal(r.dataset, "unit test");
    for (uint32_t l = 0; l < n->n_layers; l++) {
        if (n->layers[l].kind == NET_POOL) continue;
        assert_float_equal(k->layers[l].nc.beta, n->layers[l].nc.beta, 0);
        assert_float_equal(k->layers[l].nc.theta, n->layers[l].nc.theta, 0);
        assert_int_equal(k->layers[l].nc.reset, n->layers[l].nc.reset);
        assert_int_equal(k->layers[l].nc.cmp, n->layers[l].nc.cmp);
    }
    /* No temporary file left behind. */
    assert_int_equal(test_sh("ls '%s' | grep -q tmp", dir), 1);
    net_free(k);
    net_free(n);
}

/* Edit the saved file: fn gets the open file id. */
static void edit(void (*fn)(hid_t)) {
    net *n = sample_net();
    model_meta m = {.pool_on = POOL_ON_SPIKES, .spool = SPOOL_SUM, .same_pad = 1};
    assert_int_equal(model_save(path, n, &m), 0);
    net_free(n);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    fn(f);
    H5Fclose(f);
}

static void newer(hid_t f) {
    hid_t a = H5Aopen(f, "format_version", H5P_DEFAULT);
    long long v = 99;
    H5Awrite(a, H5T_NATIVE_LLONG, &v);
    H5Aclose(a);
}
static void no_arch(hid_t f) { H5Adelete(f, "arch"); }
static void wrong_shape(hid_t f) {
    H5Ldelete(f, "layers/0/weight", H5P_DEFAULT);
    hsize_t d[4] = {4, 2, 5, 5};
    hid_t sp = H5Screate_simple(4, d, NULL);
    hid_t ds = H5Dcreate2(f, "layers/0/weight", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(ds);
    H5Sclose(sp);
}
static void bad_beta(hid_t f) {
    hid_t g = H5Gopen2(f, "layers/0", H5P_DEFAULT);
    hid_t a = H5Aopen(g, "beta", H5P_DEFAULT);
    double v = 1.5;
    assert_true(H5Awrite(a, H5T_NATIVE_DOUBLE, &v) >= 0);
    H5Aclose(a);
    H5Gclose(g);
}

static void expect_fail(int code, const char *needle) {
    int err;
    net *n = model_load(path, NULL, &err);
    if (n) fail_msg("loaded a bad file");
    assert_int_equal(err, code);
    if (!strstr(evsnn_errmsg(), needle)) fail_msg("message '%s' does not name '%s'", evsnn_errmsg(), needle);
}

static void test_newer_version(void **state) {
    (void)state;
    edit(newer);
    expect_fail(EVSNN_EVERSION, "format_version 99 is newer");
}
static void test_missing_field(void **state) {
    (void)state;
    edit(no_arch);
    expect_fail(EVSNN_EFORMAT, "'arch'");
}
static void test_wrong_shape(void **state) {
    (void)state;
    edit(wrong_shape);
    expect_fail(EVSNN_ESHAPE, "/layers/0/weight: shape 4x2x5x5, but the architecture needs 4x2x3x3");
}
static void test_bad_beta(void **state) {
    (void)state;
    edit(bad_beta);
    expect_fail(EVSNN_EFORMAT, "beta 1.5");
}
static void test_not_hdf5_and_missing(void **state) {
    (void)state;
    FILE *f = fopen(path, "w");
    fputs("not a model\n", f);
    fclose(f);
    expect_fail(EVSNN_EFORMAT, "not an HDF5 file");
    remove(path);
    expect_fail(EVSNN_EIO, "cannot read");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_beta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_hdf5_and_missing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
