/* tests/test_io_real.c — the dataset readers on the real files in ../shared/datasets.
 *
 * Expected figures come from elsewhere than the readers: the datasets' SOURCE.md (counted
 * by an independent decoder), file sizes (N-MNIST: 5 bytes per event), the published
 * first labels, and values computed for these tests with Python's gzip/struct modules
 * (noted where used). */
#include "tests/testutil.h"

#include <math.h>
#include <sys/stat.h>

#include "io/dataset.h"
#include "sim/evsnn.h"

#define SHARED "../shared/datasets/"

static dataset *open_ok(const char *path, const ds_opts *o) {
    int err = 0;
    dataset *d = ds_open(path, o, &err);
    if (!d) fail_msg("ds_open(%s): %s", path, evsnn_errmsg());
    return d;
}

static void check_aedat2(const char *path, size_t n_ev, int64_t t_first, int64_t t_last, size_t n_off) {
    REQUIRE_SHARED(path);
    dataset *d = open_ok(path, NULL);
    assert_string_equal(ds_format_name(d), "aedat2");
    assert_int_equal(ds_len(d), 1);
    const ds_event *ev;
    size_t n;
    int64_t t0;
    int label;
    assert_int_equal(ds_raw(d, 0, &ev, &n, &t0, &label), 0);
    assert_int_equal(n, n_ev);
    assert_int_equal(label, -1);
    assert_int_equal(ev[0].t, t_first);
    assert_int_equal(ev[n - 1].t, t_last);
    assert_int_equal(t0, t_first);
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(ev[i].x < 128 && ev[i].y < 128);
        off += ev[i].p == 0;
    }
    assert_int_equal(off, n_off);
    ds_free(d);
}

/* SOURCE.md: 19,182 events, 41,306,606..48,193,156 µs, bit0 = 1 (OFF) 12,080. */
static void test_aedat2_alex(void **state) {
    (void)state;
    check_aedat2(SHARED "dvs128-aedat2/alex_walking_again.aedat", 19182, 41306606, 48193156, 12080);
}

/* SOURCE.md: 70,304 events, 135,707,767..144,951,371 µs, OFF 36,273. */
static void test_aedat2_neal(void **state) {
    (void)state;
    check_aedat2(SHARED "dvs128-aedat2/neal_walking.aedat", 70304, 135707767, 144951371, 36273);
}

/* Default transform (seed 004: 5 ms bins, 100 steps, 4× sum downsampling to 2×32×32) on
 * the first 0.5 s. Expected figures from an independent Python decoder of the same
 * bytes: 1,026 events kept in 888 (step, channel) cells, the largest count 4 at step 93,
 * channel 913 (p = 0, y' = 28, x' = 17). */
static void test_aedat2_binned(void **state) {
    (void)state;
    const char *path = SHARED "dvs128-aedat2/alex_walking_again.aedat";
    REQUIRE_SHARED(path);
    dataset *d = open_ok(path, NULL);
    uint32_t c, h, w;
    ds_shape(d, &c, &h, &w);
    assert_int_equal(c, 2), assert_int_equal(h, 32), assert_int_equal(w, 32);
    assert_int_equal(ds_steps(d), 100);
    ds_sample s = {0};
    assert_int_equal(ds_get(d, 0, &s), 0);
    assert_int_equal(spk_validate(&s.train), 0);
    assert_int_equal(s.train.T, 100);
    assert_int_equal(s.train.n, 2048);
    assert_int_equal(s.train.nnz, 888);
    assert_int_equal((int)spk_total(&s.train), 1026);
    float vmax = 0;
    uint32_t at_t = 0, at_c = 0;
    for (uint32_t t = 0; t < s.train.T; t++)
        for (uint32_t k = s.train.off[t]; k < s.train.off[t + 1]; k++)
            if (spk_val(&s.train, k) > vmax) vmax = spk_val(&s.train, k), at_t = t, at_c = s.train.idx[k];
    assert_true(vmax == 4.0f);
    assert_int_equal(at_t, 93);
    assert_int_equal(at_c, 913);
    ds_sample_deinit(&s);
    ds_free(d);
}

static off_t file_size(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 ? sb.st_size : -1;
}

/* Every one of the 1,100 samples decodes, x, y in 0..33, events = file size / 5 (the
 * files hold no overflow records), train part first (1,000) then test (100). */
static void test_nmnist_all(void **state) {
    (void)state;
    REQUIRE_SHARED(SHARED "nmnist-small/train1K.txt");
    dataset *d = open_ok(SHARED "nmnist-small", NULL);
    assert_int_equal(ds_len(d), 1100);
    assert_int_equal(ds_n_classes(d), 10);
    uint32_t ntest = 0;
    for (uint32_t i = 0; i < ds_len(d); i++) {
        const ds_event *ev;
        size_t n;
        int64_t t0;
        int label;
        assert_int_equal(ds_raw(d, i, &ev, &n, &t0, &label), 0);
        assert_true(label >= 0 && label <= 9);
        int part = ds_sample_split(d, i);
        ntest += part == 1;
        char p[128];
        unsigned id = part == 1 ? 60001 + (i - 1000) : i + 1;
        snprintf(p, sizeof p, SHARED "nmnist-small/bin/%u.bs2", id);
        assert_int_equal((off_t)n * 5, file_size(p));
        for (size_t k = 0; k < n; k++) {
            assert_true(ev[k].x <= 33 && ev[k].y <= 33);
            if (k) assert_true(ev[k].t >= ev[k - 1].t);
        }
    }
    assert_int_equal(ntest, 100);
    ds_free(d);
}

/* The list file names the part: test100.txt. Sample 60001 (MNIST test image 1: a 7).
 * Python decoder of bin/60001.bs2: 3,330 events, first (x 7, y 7, ON, 5,087 µs); binned at
 * 3.4 ms × 100 steps: 3,148 cells, step 10 holds 68 events in 56 cells. */
static void test_nmnist_list(void **state) {
    (void)state;
    const char *path = SHARED "nmnist-small/test100.txt";
    REQUIRE_SHARED(path);
    ds_opts o;
    ds_opts_default(&o);
    o.count = 5;
    dataset *d = open_ok(path, &o);
    assert_int_equal(ds_len(d), 5);
    const int first[5] = {7, 2, 1, 0, 4}; /* = MNIST test labels */
    for (uint32_t i = 0; i < 5; i++) {
        const ds_event *ev;
        size_t n;
        int label;
        assert_int_equal(ds_raw(d, i, &ev, &n, NULL, &label), 0);
        assert_int_equal(label, first[i]);
    }
    const ds_event *ev;
    size_t n;
    assert_int_equal(ds_raw(d, 0, &ev, &n, NULL, NULL), 0);
    assert_int_equal(n, 3330);
    assert_int_equal(ev[0].t, 5087);
    assert_int_equal(ev[0].x, 7), assert_int_equal(ev[0].y, 7), assert_int_equal(ev[0].p, 1);
    ds_sample s = {0};
    assert_int_equal(ds_get(d, 0, &s), 0);
    assert_int_equal(s.train.n, 2 * 34 * 34);
    assert_int_equal(s.train.nnz, 3148);
    assert_int_equal((int)spk_total(&s.train), 3330);
    assert_int_equal(spk_count(&s.train, 10), 56);
    double step10 = 0;
    for (uint32_t k = s.train.off[10]; k < s.train.off[11]; k++) step10 += spk_val(&s.train, k);
    assert_int_equal((int)step10, 68);
    ds_sample_deinit(&s);
    ds_free(d);
}

/* The ds_opts transforms through ds_get on sample 60001 (expected figures from the same
 * independent Python decoder):
 *  --bins 10: span [0, 307,828) µs → dt = ceil(307,828 / 10) = 30,783; per-bin counts
 *    232 806 271 110 475 422 87 198 526 203;
 *  --window-us 100000:200000 --dt-us 1000: 1,046 events, 3 in the last step, 0 in step 0;
 *  --polarity merge --pool or --downsample 2: 1,924 distinct (step, 1×17×17 channel) cells. */
static void test_nmnist_options(void **state) {
    (void)state;
    const char *path = SHARED "nmnist-small/test100.txt";
    REQUIRE_SHARED(path);
    ds_opts o;
    ds_opts_default(&o);
    o.count = 1, o.T = 10, o.exact_T = 1;
    dataset *d = open_ok(path, &o);
    ds_sample s = {0};
    assert_int_equal(ds_get(d, 0, &s), 0);
    const int bins[10] = {232, 806, 271, 110, 475, 422, 87, 198, 526, 203};
    for (uint32_t t = 0; t < 10; t++) {
        double c = 0;
        for (uint32_t k = s.train.off[t]; k < s.train.off[t + 1]; k++) c += spk_val(&s.train, k);
        assert_int_equal((int)c, bins[t]);
    }
    ds_free(d);
    ds_opts_default(&o);
    o.count = 1, o.win_start_us = 100000, o.win_end_us = 200000, o.dt_us = 1000;
    d = open_ok(path, &o);
    assert_int_equal(ds_get(d, 0, &s), 0);
    assert_int_equal((int)spk_total(&s.train), 1046);
    assert_int_equal(spk_count(&s.train, 0), 0);
    double last = 0;
    for (uint32_t k = s.train.off[99]; k < s.train.off[100]; k++) last += spk_val(&s.train, k);
    assert_int_equal((int)last, 3);
    ds_free(d);
    ds_opts_default(&o);
    o.count = 1, o.pol = DS_POL_MERGE, o.pool = DS_POOL_OR, o.ds_factor = 2;
    d = open_ok(path, &o);
    uint32_t c, h, w;
    ds_shape(d, &c, &h, &w);
    assert_int_equal(c, 1), assert_int_equal(h, 17), assert_int_equal(w, 17);
    assert_int_equal(ds_get(d, 0, &s), 0);
    assert_null(s.train.val);
    assert_int_equal(s.train.nnz, 1924);
    ds_sample_deinit(&s);
    ds_free(d);
}

/* SOURCE.md: 21,625 bytes = 4,325 events, t_max 311,175 µs; a single .bin is detected by
 * its records, not its name. */
static void test_nmnist_single(void **state) {
    (void)state;
    const char *path = SHARED "nmnist-small/tonic_sample_nmnist.bin";
    REQUIRE_SHARED(path);
    dataset *d = open_ok(path, NULL);
    const ds_event *ev;
    size_t n;
    int label;
    assert_int_equal(ds_raw(d, 0, &ev, &n, NULL, &label), 0);
    assert_int_equal(n, 4325);
    assert_int_equal(ev[n - 1].t, 311175);
    assert_int_equal(label, -1);
    ds_free(d);
}

/* MNIST test set: first labels 7 2 1 0 4 (SOURCE.md); image 0 pixel sum 18,454 with pixel
 * 202 = 84 and image 9,999 sum 41,833 (Python gzip). Direct coding: pixel / 255. */
static void test_mnist(void **state) {
    (void)state;
    const char *path = SHARED "mnist/t10k-images-idx3-ubyte.gz";
    REQUIRE_SHARED(path);
    dataset *d = open_ok(path, NULL);
    assert_string_equal(ds_format_name(d), "idx");
    assert_int_equal(ds_len(d), 10000);
    assert_int_equal(ds_n_classes(d), 10);
    uint32_t c, h, w;
    ds_shape(d, &c, &h, &w);
    assert_int_equal(c * 100 + h * 10 + w, 100 + 280 + 28);
    const int first[5] = {7, 2, 1, 0, 4};
    for (uint32_t i = 0; i < 5; i++) {
        const uint8_t *pix;
        int label;
        assert_int_equal(ds_image(d, i, &pix, &label), 0);
        assert_int_equal(label, first[i]);
    }
    const uint8_t *pix;
    assert_int_equal(ds_image(d, 0, &pix, NULL), 0);
    long sum = 0;
    for (int k = 0; k < 784; k++) sum += pix[k];
    assert_int_equal(sum, 18454);
    assert_int_equal(pix[202], 84);
    assert_int_equal(ds_image(d, 9999, &pix, NULL), 0);
    sum = 0;
    for (int k = 0; k < 784; k++) sum += pix[k];
    assert_int_equal(sum, 41833);
    ds_sample s = {0};
    assert_int_equal(ds_get(d, 0, &s), 0);
    assert_non_null(s.static_x);
    assert_int_equal(s.T, 100);
    assert_int_equal(s.label, 7);
    assert_int_equal(s.train.nnz, 0);
    assert_true(s.static_x[202] == 84.0f / 255.0f);
    ds_sample_deinit(&s);
    ds_free(d);
}

/* Rate coding of MNIST image 0 (seed 5): the same spikes whatever was read before; about
 * Σx·T spikes (pixel sum 18,454 / 255 × 100 steps = 7,237 expected, σ < 85). Latency:
 * one spike per pixel above 0.01, i.e. per non-zero pixel here (pixels ≥ 3/255). */
static void test_mnist_coding(void **state) {
    (void)state;
    const char *path = SHARED "mnist/t10k-images-idx3-ubyte.gz";
    REQUIRE_SHARED(path);
    ds_opts o;
    ds_opts_default(&o);
    o.enc = DS_ENC_RATE, o.seed = 5, o.count = 4;
    dataset *d = open_ok(path, &o);
    ds_sample a = {0}, b = {0};
    assert_int_equal(ds_get(d, 0, &a), 0);
    assert_int_equal(ds_get(d, 3, &b), 0);
    assert_int_equal(ds_get(d, 0, &b), 0);
    assert_null(a.static_x);
    assert_int_equal(a.train.nnz, b.train.nnz);
    assert_memory_equal(a.train.idx, b.train.idx, a.train.nnz * sizeof *a.train.idx);
    assert_true(fabs((double)a.train.nnz - 7236.9) < 5 * 85);
    ds_free(d);
    o.enc = DS_ENC_LATENCY;
    d = open_ok(path, &o);
    assert_int_equal(ds_get(d, 0, &a), 0);
    const uint8_t *pix;
    assert_int_equal(ds_image(d, 0, &pix, NULL), 0);
    uint32_t nz = 0;
    for (int k = 0; k < 784; k++) nz += pix[k] > 2;
    assert_int_equal(a.train.nnz, nz);
    ds_sample_deinit(&a), ds_sample_deinit(&b);
    ds_free(d);
}

/* Fashion-MNIST test set (shared copy): first labels 9 2 1 1 6, image 0 sum 33,456. */
static void test_fmnist_shared(void **state) {
    (void)state;
    REQUIRE_SHARED(SHARED "fashion-mnist/t10k-images-idx3-ubyte.gz");
    dataset *d = open_ok(SHARED "fashion-mnist", NULL); /* folder: t10k only → test part */
    assert_int_equal(ds_len(d), 10000);
    const int first[5] = {9, 2, 1, 1, 6};
    for (uint32_t i = 0; i < 5; i++) {
        const uint8_t *pix;
        int label;
        assert_int_equal(ds_image(d, i, &pix, &label), 0);
        assert_int_equal(label, first[i]);
        assert_int_equal(ds_sample_split(d, i), 1);
    }
    const uint8_t *pix;
    assert_int_equal(ds_image(d, 0, &pix, NULL), 0);
    long sum = 0;
    for (int k = 0; k < 784; k++) sum += pix[k];
    assert_int_equal(sum, 33456);
    ds_free(d);
}

/* The Debian package's full set, found by name: 60,000 train (first labels 9 0 0 3 0,
 * image 0 sum 76,247 by Python gzip) + 10,000 test. Skipped where it is not installed,
 * except under CI=true (the package is in the Makefile's DEB_PKGS). */
static void test_fmnist_debian(void **state) {
    (void)state;
    if (access("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", R_OK) != 0) {
        if (test_in_ci()) fail_msg("dataset-fashion-mnist is not installed (CI=true: make deps installs it)");
        print_message("skip: dataset-fashion-mnist is not installed (make deps installs it)\n");
        skip();
    }
    ds_opts o;
    ds_opts_default(&o);
    o.split = DS_SPLIT_TRAIN;
    dataset *d = open_ok("fashion-mnist", &o);
    assert_int_equal(ds_len(d), 60000);
    const int first[5] = {9, 0, 0, 3, 0};
    for (uint32_t i = 0; i < 5; i++) {
        const uint8_t *pix;
        int label;
        assert_int_equal(ds_image(d, i, &pix, &label), 0);
        assert_int_equal(label, first[i]);
        if (i == 0) {
            long sum = 0;
            for (int k = 0; k < 784; k++) sum += pix[k];
            assert_int_equal(sum, 76247);
        }
    }
    ds_free(d);
    o.split = DS_SPLIT_ALL;
    d = open_ok("fashion-mnist", &o);
    assert_int_equal(ds_len(d), 70000);
    assert_int_equal(ds_sample_split(d, 60000), 1);
    ds_free(d);
}

/* The AEDAT 4.0 recording beside these is tested in tests/test_io_aedat4.c. */

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aedat2_alex),   cmocka_unit_test(test_aedat2_neal),
        cmocka_unit_test(test_aedat2_binned), cmocka_unit_test(test_nmnist_all),
        cmocka_unit_test(test_nmnist_list),   cmocka_unit_test(test_nmnist_options),
        cmocka_unit_test(test_nmnist_single),
        cmocka_unit_test(test_mnist),         cmocka_unit_test(test_mnist_coding),         cmocka_unit_test(test_fmnist_shared),
        cmocka_unit_test(test_fmnist_debian),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
