/* tests/test_train_ckpt.c — checkpoint files: a round trip restores every field exactly; a
 * file from a newer evsnn, a file that is not a checkpoint and a dataset of the wrong size
 * fail with the right code and a message naming the file and the object. The damaged files
 * are made here with the HDF5 library (independent of io/checkpoint.c's reader). */
#include "tests/testutil.h"

#include <hdf5.h>

#include "io/checkpoint.h"
#include "sim/evsnn.h"

static char dir[256];

static void write_sample(const char *path) {
    int err;
    net *n = net_build("6-4-2", 0, 0, 0, NULL, &err);
    net_init_params(n, 3);
    ckpt c;
    memset(&c, 0, sizeof c);
    ckpt_from_net(&c, n);
    float lat[64], m[64], v[64];
    for (size_t i = 0; i < n->n_params; i++) { lat[i] = (float)i; m[i] = 0.5f * (float)i; v[i] = 0.25f * (float)i; }
    c.latent = lat;
    c.m = m;
    c.v = v;
    uint8_t r[5] = {1, 2, 3, 4, 5};
    c.rng = r;
    c.rng_len = 5;
    c.epoch = 7;
    c.step = 123;
    c.T = 25;
    c.binarized = 1;
    snprintf(c.config, sizeof c.config, "--lr=0.01");
    assert_int_equal(ckpt_save(path, &c), 0);
    net_free(n);
}

static void test_round_trip(void **state) {
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/a.h5", dir);
    write_sample(path);
    ckpt c;
    assert_int_equal(ckpt_load(path, &c), 0);
    assert_string_equal(c.arch, "6-4-2");
    assert_int_equal(c.epoch, 7);
    assert_int_equal(c.step, 123);
    assert_int_equal(c.T, 25);
    assert_int_equal(c.binarized, 1);
    assert_int_equal(c.rng_len, 5);
    assert_int_equal(c.rng[4], 5);
    assert_float_equal(c.latent[3], 3.0f, 0);
    assert_float_equal(c.m[3], 1.5f, 0);
    assert_float_equal(c.v[3], 0.75f, 0);
    assert_string_equal(c.config, "--lr=0.01");
    int err;
    net *n = ckpt_to_net(&c, &err);
    assert_non_null(n);
    assert_int_equal(n->n_params, c.n_params);
    assert_float_equal(n->layers[0].nc.theta, c.theta[0], 0);
    net_free(n);
    ckpt_free(&c);
    /* no temporary file left behind */
    assert_int_equal(test_sh("ls %s | grep -c tmp | grep -qx 0", dir), 0);
}

static void set_version(const char *path, int v) {
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t a = H5Aopen(f, "version", H5P_DEFAULT);
    int32_t x = v;
    H5Awrite(a, H5T_NATIVE_INT32, &x);
    H5Aclose(a);
    H5Fclose(f);
}

static void test_bad_files(void **state) {
    (void)state;
    char path[512];
    ckpt c;
    snprintf(path, sizeof path, "%s/b.h5", dir);
    write_sample(path);
    set_version(path, 99);
    assert_int_equal(ckpt_load(path, &c), EVSNN_EVERSION);
    assert_non_null(strstr(evsnn_errmsg(), "upgrade"));
    assert_non_null(strstr(evsnn_errmsg(), "b.h5"));

    snprintf(path, sizeof path, "%s/c.h5", dir);
    FILE *f = fopen(path, "w");
    fputs("not an HDF5 file\n", f);
    fclose(f);
    assert_int_equal(ckpt_load(path, &c), EVSNN_EIO);
    assert_non_null(strstr(evsnn_errmsg(), "c.h5"));

    /* opt_m one element short */
    snprintf(path, sizeof path, "%s/d.h5", dir);
    write_sample(path);
    hid_t h = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(h, "opt_m", H5P_DEFAULT);
    hsize_t one = 1;
    hid_t sp = H5Screate_simple(1, &one, NULL);
    hid_t d = H5Dcreate2(h, "opt_m", H5T_NATIVE_FLOAT, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    float z = 0;
    H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, &z);
    H5Dclose(d);
    H5Sclose(sp);
    H5Fclose(h);
    assert_int_equal(ckpt_load(path, &c), EVSNN_EFORMAT);
    assert_non_null(strstr(evsnn_errmsg(), "opt_m"));

    /* writing into a directory that does not exist fails cleanly */
    write_sample(path); /* valid again */
    ckpt w;
    assert_int_equal(ckpt_load(path, &w), 0);
    snprintf(path, sizeof path, "%s/no/such/dir/x.h5", dir);
    assert_int_equal(ckpt_save(path, &w), EVSNN_EIO);
    ckpt_free(&w);
}

/* A checkpoint with one bit flipped anywhere either fails to load ("corrupt checkpoint",
 * past the signature) or loads every field bit for bit as written: resuming from a damaged
 * checkpoint never continues a different run. Cut by one byte: "corrupt ... truncated". */
static void test_corrupt(void **state) {
    (void)state;
    char path[512], bad[512];
    snprintf(path, sizeof path, "%s/e.h5", dir);
    snprintf(bad, sizeof bad, "%s/e_bad.h5", dir);
    write_sample(path);
    ckpt ref;
    assert_int_equal(ckpt_load(path, &ref), 0);
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    size_t len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(len);
    assert_int_equal(fread(b, 1, len, f), len);
    fclose(f);
    int failed = 0, same = 0;
    for (size_t off = 0; off < len; off += 5) {
        b[off] ^= (uint8_t)(0x80u >> (off % 8));
        f = fopen(bad, "wb");
        fwrite(b, 1, len, f);
        fclose(f);
        b[off] ^= (uint8_t)(0x80u >> (off % 8));
        ckpt c;
        if (ckpt_load(bad, &c)) {
            failed++;
            if (off >= 8 && !strstr(evsnn_errmsg(), "corrupt checkpoint")) fail_msg("offset %zu: %s", off, evsnn_errmsg());
            continue;
        }
        same++;
        int eq = c.n_params == ref.n_params && c.epoch == ref.epoch && c.step == ref.step && c.T == ref.T &&
                 c.rng_len == ref.rng_len && !strcmp(c.arch, ref.arch) && !strcmp(c.config, ref.config) &&
                 !memcmp(c.params, ref.params, 4 * c.n_params) && !memcmp(c.latent, ref.latent, 4 * c.n_params) &&
                 !memcmp(c.m, ref.m, 4 * c.n_params) && !memcmp(c.v, ref.v, 4 * c.n_params) &&
                 !memcmp(c.rng, ref.rng, c.rng_len) && !memcmp(c.beta, ref.beta, sizeof c.beta) &&
                 !memcmp(c.theta, ref.theta, sizeof c.theta) && c.binarized == ref.binarized && c.in_c == ref.in_c;
        ckpt_free(&c);
        if (!eq) fail_msg("offset %zu: the checkpoint loaded with a different content", off);
    }
    assert_true(failed > 0 && same > 0);
    f = fopen(bad, "wb");
    fwrite(b, 1, len - 1, f);
    fclose(f);
    ckpt c;
    assert_int_equal(ckpt_load(bad, &c), EVSNN_EFORMAT);
    if (!strstr(evsnn_errmsg(), "e_bad.h5: corrupt checkpoint (HDF5: truncated file")) fail_msg("%s", evsnn_errmsg());
    free(b);
    ckpt_free(&ref);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/evsnn_ckpt_%ld", (long)getpid());
    test_sh("mkdir -p %s", dir);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_corrupt),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    test_sh("rm -rf %s", dir);
    return rc;
}
