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

static uint8_t *slurp(const char *p, size_t *n) {
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*n);
    assert_int_equal(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

static void spit(const char *p, const uint8_t *b, size_t n) {
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

/* Integrity: the weight datasets carry HDF5's Fletcher-32 filter (asked of the library), and
 * a flipped bit anywhere in the file either makes the load fail, as "corrupt" past the
 * 8-byte signature, or leaves the network bit for bit the same (unused bytes): never a
 * different model. A cut file is "corrupt ... truncated", not "cannot open". */
static void test_corrupt(void **state) {
    (void)state;
    net *n = sample_net();
    model_meta meta = {.pool_on = POOL_ON_SPIKES, .spool = SPOOL_SUM, .same_pad = 1};
    assert_int_equal(model_save(path, n, &meta), 0);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, "/layers/0/weight", H5P_DEFAULT);
    hid_t pl = H5Dget_create_plist(d);
    unsigned flags;
    size_t nv = 0;
    assert_true(H5Pget_filter_by_id2(pl, H5Z_FILTER_FLETCHER32, &flags, &nv, NULL, 0, NULL, NULL) >= 0);
    H5Pclose(pl), H5Dclose(d), H5Fclose(f);
    size_t len;
    uint8_t *b = slurp(path, &len);
    char bad[160];
    snprintf(bad, sizeof bad, "%s/bad.h5", dir);
    int err, failed = 0, same = 0;
    for (size_t off = 0; off < len; off += 7) {
        b[off] ^= (uint8_t)(1u << (off % 8));
        spit(bad, b, len);
        b[off] ^= (uint8_t)(1u << (off % 8));
        net *m = model_load(bad, NULL, &err);
        if (!m) {
            failed++;
            if (off >= 8 && !strstr(evsnn_errmsg(), "corrupt model file")) fail_msg("offset %zu: %s", off, evsnn_errmsg());
            continue;
        }
        assert_int_equal(m->n_params, n->n_params);
        for (size_t i = 0; i < n->n_params; i++)
            if (test_bits(m->params[i]) != test_bits(n->params[i])) fail_msg("offset %zu: parameter %zu changed", off, i);
        same++;
        net_free(m);
    }
    assert_true(failed > 0 && same > 0);
    spit(bad, b, len - 1);
    assert_null(model_load(bad, NULL, &err));
    assert_int_equal(err, EVSNN_EFORMAT);
    if (!strstr(evsnn_errmsg(), "bad.h5: corrupt model file (HDF5: truncated file")) fail_msg("%s", evsnn_errmsg());
    free(b);
    net_free(n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_beta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_hdf5_and_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
