/* tests/test_train_cli.c — `evsnn train` / `evsnn eval` end to end on the built-in synthetic
 * task: learning happens, --resume continues the same trajectory bit for bit, and bad
 * options fail with exit 2 and a message. */
#include "tests/testutil.h"

#include <sys/stat.h>

#include "tests/h5read.h"

static char dir[256];

static void mkdir_tmp(void) {
    snprintf(dir, sizeof dir, "/tmp/evsnn_train_cli_%ld", (long)getpid());
    mkdir(dir, 0700);
}

#define TRAIN_ARGS                                                                                     \
    "--arch 60-40-3 --data synth:classes=3,train=96,test=48,T=15 --batch 16 --binarize --latent-clamp 1 " \
    "--tha 0.5:2:0.05 --tha-centre current --cosine 5,2 --lr 0.01 --seed 9 --quiet"

static void assert_same_dataset(const char *a, const char *b, const char *name) {
    size_t na = 0, nb = 0;
    float *x = h5r_floats(a, name, &na), *y = h5r_floats(b, name, &nb);
    if (!x || !y) fail_msg("%s: dataset %s missing", !x ? a : b, name);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++)
        if (test_bits(x[i]) != test_bits(y[i])) fail_msg("%s[%zu]: %.9g straight vs %.9g resumed", name, i, x[i], y[i]);
    free(x);
    free(y);
}

/* 4 epochs straight = 2 epochs, checkpoint, resume for 2 more: parameters, latent weights,
 * Adam moments, thresholds and the generator state identical bit for bit. */
static void test_resume_bitwise(void **state) {
    (void)state;
    const char *bin = test_evsnn_bin();
    assert_int_equal(test_sh("%s train " TRAIN_ARGS " --epochs 4 -o %s/a.h5 --checkpoint %s/ca.h5 > %s/a.json", bin, dir, dir, dir), 0);
    assert_int_equal(test_sh("%s train " TRAIN_ARGS " --epochs 2 -o %s/x.h5 --checkpoint %s/cb.h5 > /dev/null", bin, dir, dir), 0);
    assert_int_equal(test_sh("%s train " TRAIN_ARGS " --epochs 4 --resume %s/cb.h5 -o %s/b.h5 --checkpoint %s/cb2.h5 > %s/b.json",
                             bin, dir, dir, dir, dir), 0);
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/ca.h5", dir);
    snprintf(b, sizeof b, "%s/cb2.h5", dir);
    const char *names[] = {"params", "latent", "opt_m", "opt_v", "theta", "rng"};
    for (int i = 0; i < 6; i++) assert_same_dataset(a, b, names[i]);
    /* The resumed run printed epochs 3 and 4 only, with the same losses. */
    assert_int_equal(test_sh("grep -c '\"epoch\"' %s/b.json | grep -qx 2", dir), 0);
    /* ... and its epoch lines equal the straight run's, timings aside. */
    const char *strip = "sed 's/,\"train_s\":[^,]*,\"samples_per_s\":[^,]*//'";
    assert_int_equal(test_sh("grep '\"epoch\":[34],' %s/a.json | %s > %s/a34.txt", dir, strip, dir), 0);
    assert_int_equal(test_sh("grep '\"epoch\":[34],' %s/b.json | %s > %s/b34.txt", dir, strip, dir), 0);
    assert_int_equal(test_sh("test -s %s/a34.txt && cmp -s %s/a34.txt %s/b34.txt", dir, dir, dir), 0);
}

/* The synthetic task is learnable: test accuracy well above chance (1/3) after a few
 * epochs, and eval on the written model reports the same accuracy as the last epoch. */
static void test_learns_and_eval_agrees(void **state) {
    (void)state;
    const char *bin = test_evsnn_bin();
    assert_int_equal(test_sh("%s train --arch 60-40-3 --data synth:classes=3,train=192,test=96,T=20 --epochs 4 --batch 16 "
                             "--lr 0.005 --seed 2 --quiet -o %s/m.h5 > %s/m.json", bin, dir, dir), 0);
    assert_int_equal(test_sh("%s eval --model %s/m.h5 > %s/e.json", bin, dir, dir), 0);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s/m.json", dir);
    FILE *f = fopen(cmd, "r");
    assert_non_null(f);
    char line[4096], last[4096] = "";
    while (fgets(line, sizeof line, f))
        if (strstr(line, "\"test_acc\"")) strcpy(last, line);
    fclose(f);
    double acc = strtod(strstr(last, "\"test_acc\":") + 11, NULL);
    assert_true(acc > 0.6);
    snprintf(cmd, sizeof cmd, "%s/e.json", dir);
    f = fopen(cmd, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    double eacc = strtod(strstr(line, "\"accuracy\":") + 11, NULL);
    assert_float_equal(eacc, acc, 1e-5);
    assert_non_null(strstr(line, "\"count_hist\":["));
}

static void test_bad_options(void **state) {
    (void)state;
    const char *bin = test_evsnn_bin();
    struct { const char *args, *msg; } cases[] = {
        {"--arch 60-40-3 --surrogate fast_sigmod -o %s/z.h5", "unknown name"},
        {"--arch 60-40-3 --surrogate fast_sigmoid:alpha=2 -o %s/z.h5", "unknown key"},
        {"--arch 60-40-2 --data synth:classes=3 -o %s/z.h5", "3 classes"},
        {"--arch 60-40-3 --tha 1:2 -o %s/z.h5", "THETA0:THETA_INF:ALPHA"},
        {"--arch 60-40-3 --data mnist.h5 -o %s/z.h5", "mnist.h5"},
        {"--arch 60-40-3 --lr abc -o %s/z.h5", "--lr"},
        {"--arch 60-40-3 --data synth:classes=3 --resume %s/nonexistent.h5 -o %s/z.h5", "cannot open"},
        {"--arch 60-41-3 --data synth:classes=3 --resume %s/cb.h5 -o %s/z.h5", "does not fit"},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof *cases; i++) {
        char args[512];
        snprintf(args, sizeof args, cases[i].args, dir, dir);
        int rc = test_sh("%s train %s --quiet > /dev/null 2> %s/err.txt", bin, args, dir);
        if (rc != 2) fail_msg("train %s: exit %d, expected 2", args, rc);
        if (test_sh("grep -q -- '%s' %s/err.txt", cases[i].msg, dir) != 0) {
            test_sh("cat %s/err.txt", dir);
            fail_msg("train %s: stderr lacks '%s'", args, cases[i].msg);
        }
        assert_int_equal(test_sh("test -e %s/z.h5", dir), 1); /* nothing written */
    }
    assert_int_equal(test_sh("%s eval --model %s/nonexistent.h5 2>/dev/null", bin, dir), 2);
    assert_int_equal(test_sh("%s train --help | grep -q -- --resume", bin), 0);
    assert_int_equal(test_sh("%s eval --help | grep -q -- --model", bin), 0);
}

/* The temporal task runs, logs its iterations and writes the membrane trace (100 steps). */
static void test_temporal_task(void **state) {
    (void)state;
    const char *bin = test_evsnn_bin();
    assert_int_equal(test_sh("%s train --arch 20-30-1 --data temporal:p=0.3,T=40,peak=30,every=5 --epochs 10 --binarize "
                             "--tha 1:5:0.1 --optim sgd --lr 0.05 --momentum 0.9 --quiet -o %s/t.h5 --trace %s/t.txt > %s/t.json",
                             bin, dir, dir, dir), 0);
    assert_int_equal(test_sh("test $(grep -c '\"iteration\"' %s/t.json) -eq 2", dir), 0);
    assert_int_equal(test_sh("test $(grep -vc '^#' %s/t.txt) -eq 40", dir), 0);
    /* the target peaks at step 30 at 1.1 × the final threshold 5 */
    assert_int_equal(test_sh("grep -q '^30 5.5 ' %s/t.txt", dir), 0);
    assert_int_equal(test_sh("%s train --arch 20-30-2 --data temporal --quiet -o %s/t2.h5 2>/dev/null", bin, dir), 2);
}

/* Real events: N-MNIST recordings (../shared). A few hundred samples and two epochs
 * already reach far above chance (10%); a network whose input does not match the
 * recordings' 2x34x34 is refused with both shapes named. */
static void test_nmnist_real(void **state) {
    (void)state;
    const char *tr = "../shared/datasets/nmnist-small/train1K.txt", *te = "../shared/datasets/nmnist-small/test100.txt";
    REQUIRE_SHARED(tr);
    const char *bin = test_evsnn_bin();
    assert_int_equal(test_sh("%s train --arch 2312-100-10 --data %s --test-data %s --max-train 300 --epochs 2 --lr 2e-3 "
                             "--quiet -o %s/n.h5 > %s/n.json", bin, tr, te, dir, dir), 0);
    char path[512], line[4096], last[4096] = "";
    snprintf(path, sizeof path, "%s/n.json", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f))
        if (strstr(line, "\"test_acc\"")) strcpy(last, line);
    fclose(f);
    assert_true(strtod(strstr(last, "\"test_acc\":") + 11, NULL) > 0.4);
    assert_int_equal(test_sh("%s train --arch 100-10 --data %s --test-data %s --quiet -o %s/n2.h5 2> %s/err.txt", bin, tr, te,
                             dir, dir), 2);
    assert_int_equal(test_sh("grep -q '2x34x34' %s/err.txt", dir), 0);
}

static int teardown(void **state) {
    (void)state;
    test_sh("rm -rf %s", dir);
    return 0;
}

int main(void) {
    mkdir_tmp();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume_bitwise),
        cmocka_unit_test(test_learns_and_eval_agrees),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_temporal_task),
        cmocka_unit_test(test_nmnist_real),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
