/* tests/test_io_synth.c — the built-in synthetic datasets (data/gen_synth): written in the
 * documented layouts, deterministic, and learnable. Learnability is checked with a
 * nearest-centroid classifier written here (independent of evsnn's networks) on coarse
 * space × time event counts from ds_get: train on the train part, score the test part. */
#include "tests/testutil.h"

#include <libgen.h>
#include <math.h>

#include "io/dataset.h"
#include "sim/evsnn.h"

static char dir[64], gen[512];

static int setup(void **state) {
    (void)state;
    test_tmpdir(dir, sizeof dir);
    if (!dir[0]) return -1;
    if (test_sh("'%s' '%s/a' >/dev/null", gen, dir) != 0) return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    test_rmdir(dir);
    return 0;
}

/* Features: counts pooled into `tb` time blocks × `sb` spatial blocks (channels grouped
 * evenly), polarity merged. */
static void features(const ds_sample *s, uint32_t n_ch, uint32_t per_pol, int tb, int sb, double *f) {
    memset(f, 0, sizeof(double) * (size_t)tb * sb);
    for (uint32_t t = 0; t < s->T; t++)
        for (uint32_t k = s->train.off[t]; k < s->train.off[t + 1]; k++) {
            uint32_t ch = s->train.idx[k] % per_pol;
            int b = (int)((uint64_t)ch * sb / per_pol), q = (int)((uint64_t)t * tb / s->T);
            f[q * sb + b] += spk_val(&s->train, k);
        }
    (void)n_ch;
    double norm = 0;
    for (int i = 0; i < tb * sb; i++) norm += f[i] * f[i];
    norm = sqrt(norm) + 1e-9;
    for (int i = 0; i < tb * sb; i++) f[i] /= norm;
}

/* Nearest-centroid accuracy on the test part of `train_path` / `test_path`. */
static double centroid_accuracy(const char *train_path, const char *test_path, ds_split tr, ds_split te, int tb,
                                int sb, uint32_t *n_train, uint32_t *n_test) {
    ds_opts o;
    ds_opts_default(&o);
    o.split = tr;
    int err;
    dataset *d = ds_open(train_path, &o, &err);
    if (!d) fail_msg("%s", evsnn_errmsg());
    uint32_t C = ds_n_classes(d), c, h, w;
    ds_shape(d, &c, &h, &w);
    uint32_t per_pol = h * w, F = (uint32_t)(tb * sb);
    double *cent = calloc((size_t)C * F, sizeof *cent), *f = malloc(F * sizeof *f);
    uint32_t *cnt = calloc(C, sizeof *cnt);
    ds_sample s = {0};
    *n_train = ds_len(d);
    for (uint32_t i = 0; i < ds_len(d); i++) {
        assert_int_equal(ds_get(d, i, &s), 0);
        features(&s, c * h * w, per_pol, tb, sb, f);
        for (uint32_t j = 0; j < F; j++) cent[(size_t)s.label * F + j] += f[j];
        cnt[s.label]++;
    }
    ds_free(d);
    for (uint32_t k = 0; k < C; k++)
        for (uint32_t j = 0; j < F; j++) cent[(size_t)k * F + j] /= cnt[k] ? cnt[k] : 1;
    o.split = te;
    d = ds_open(test_path, &o, &err);
    if (!d) fail_msg("%s", evsnn_errmsg());
    uint32_t right = 0;
    *n_test = ds_len(d);
    for (uint32_t i = 0; i < ds_len(d); i++) {
        assert_int_equal(ds_get(d, i, &s), 0);
        features(&s, c * h * w, per_pol, tb, sb, f);
        double best = INFINITY;
        int arg = -1;
        for (uint32_t k = 0; k < C; k++) {
            double dist = 0;
            for (uint32_t j = 0; j < F; j++) dist += (f[j] - cent[(size_t)k * F + j]) * (f[j] - cent[(size_t)k * F + j]);
            if (dist < best) best = dist, arg = (int)k;
        }
        right += arg == s.label;
    }
    double acc = *n_test ? (double)right / *n_test : 0;
    ds_sample_deinit(&s);
    ds_free(d);
    free(cent), free(f), free(cnt);
    return acc;
}

static void test_shd_synth(void **state) {
    (void)state;
    char tr[128], te[128];
    snprintf(tr, sizeof tr, "%s/a/shd_synth_train.h5", dir);
    snprintf(te, sizeof te, "%s/a/shd_synth_test.h5", dir);
    uint32_t ntr, nte;
    double acc = centroid_accuracy(tr, te, DS_SPLIT_ALL, DS_SPLIT_ALL, 10, 14, &ntr, &nte);
    assert_int_equal(ntr, 240);
    assert_int_equal(nte, 60);
    print_message("synthetic SHD: nearest-centroid test accuracy %.3f (chance 0.2)\n", acc);
    assert_true(acc >= 0.8);
}

static void test_gesture_synth(void **state) {
    (void)state;
    char g[128];
    snprintf(g, sizeof g, "%s/a/gesture_synth", dir);
    uint32_t ntr, nte;
    double acc = centroid_accuracy(g, g, DS_SPLIT_TRAIN, DS_SPLIT_TEST, 4, 64, &ntr, &nte);
    assert_int_equal(ntr, 150);
    assert_int_equal(nte, 50);
    print_message("synthetic gesture: nearest-centroid test accuracy %.3f (chance 0.2)\n", acc);
    assert_true(acc >= 0.8);
}

/* Same generator, same bytes. */
static void test_deterministic(void **state) {
    (void)state;
    assert_int_equal(test_sh("'%s' '%s/b' >/dev/null", gen, dir), 0);
    assert_int_equal(test_sh("cmp -s '%s/a/shd_synth_test.h5' '%s/b/shd_synth_test.h5'", dir, dir), 0);
    assert_int_equal(test_sh("cmp -s '%s/a/gesture_synth/user24_synth.aedat' '%s/b/gesture_synth/user24_synth.aedat'",
                             dir, dir), 0);
}

int main(int argc, char **argv) {
    (void)argc;
    /* The generator sits beside the tests: <build>/tests/this → <build>/data/gen_synth. */
    char self[512];
    snprintf(self, sizeof self, "%s", argv[0]);
    snprintf(gen, sizeof gen, "%s/../data/gen_synth", dirname(self));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shd_synth),
        cmocka_unit_test(test_gesture_synth),
        cmocka_unit_test(test_deterministic),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
