/* tests/test_sweep.c — study files and result tables (io/study.h) and their trials
 * (sim/search.h): grid order and size, seeded random search (integer ranges too),
 * variants, errors naming line and key (TPE settings, parameter kinds, objectives,
 * pruning), objectives and the median rule by hand, CSV round trip and quoting (pruned
 * rows, per-epoch accuracies), an older table read by column name, the HDF5 table read
 * back through the HDF5 library, and comm.h's one-rank world. The TPE sampler itself:
 * tests/test_tpe.c. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/study.h"
#include "sim/comm.h"
#include "sim/evsnn.h"
#include "sim/search.h"
#include "tests/h5read.h"
#include "tests/testutil.h"

static const char *grid_text =
    "version = 1; name = \"g\"; search = \"grid\";\n"
    "axes = { arch = [\"10-4\"]; surrogate = [\"fast_sigmoid\", \"atan\"]; slope = [1.0, 2.0, 3.0];\n"
    "         beta = [0.5, 0.9]; };\n";

/* 2 surrogates × 3 slopes × 2 betas = 12; the last axis (beta) varies fastest, so by hand:
 * trial 0 = (fast_sigmoid, 1, 0.5), 1 = (fast_sigmoid, 1, 0.9), 2 = (fast_sigmoid, 2, 0.5),
 * 7 = (atan, 1, 0.9), 11 = (atan, 3, 0.9). */
static void test_grid_order(void **state) {
    (void)state;
    int err;
    study *s = study_parse(grid_text, "grid", &err);
    assert_non_null(s);
    assert_int_equal(study_n_trials(s), 12);
    study_trial t;
    const struct { uint32_t id; const char *sg; float slope, beta; } want[] = {
        {0, "fast_sigmoid", 1, 0.5f}, {1, "fast_sigmoid", 1, 0.9f}, {2, "fast_sigmoid", 2, 0.5f},
        {7, "atan", 1, 0.9f}, {11, "atan", 3, 0.9f}};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        assert_int_equal(study_trial_get(s, want[i].id, &t), 0);
        assert_string_equal(t.surrogate, want[i].sg);
        assert_true(t.slope == want[i].slope);
        assert_true(t.beta == want[i].beta);
        assert_true(t.theta == 1.0f);            /* default */
        assert_string_equal(t.threshold, "fixed"); /* default */
        assert_string_equal(t.dataset, "synth");  /* default */
    }
    /* keys are distinct across the grid */
    study_trial a, b;
    for (uint32_t i = 0; i < 12; i++)
        for (uint32_t j = i + 1; j < 12; j++) {
            study_trial_get(s, i, &a);
            study_trial_get(s, j, &b);
            assert_string_not_equal(a.key, b.key);
        }
    assert_int_equal(study_trial_get(s, 12, &t), EVSNN_ERANGE);
    study_free(s);
    /* a budget truncates the grid */
    char txt[1024];
    snprintf(txt, sizeof txt, "budget = 5;\n%s", grid_text);
    s = study_parse(txt, "b", &err);
    assert_non_null(s);
    assert_int_equal(study_n_trials(s), 5);
    study_free(s);
}

static void test_random_search(void **state) {
    (void)state;
    const char *txt = "search = \"random\"; budget = 200; seed = 7;\n"
                      "axes = { arch = [\"10-4\"]; slope = { min = 0.5; max = 50.0; log = true; };\n"
                      "         beta = { min = 0.25; max = 0.75; }; theta = [1.0, 1.5, 2.0]; };\n";
    int err;
    study *s = study_parse(txt, "r", &err), *s2 = study_parse(txt, "r", &err);
    assert_non_null(s);
    assert_int_equal(study_n_trials(s), 200);
    int seen[3] = {0, 0, 0}, below5 = 0;
    for (uint32_t i = 0; i < 200; i++) {
        study_trial t, u;
        assert_int_equal(study_trial_get(s, i, &t), 0);
        assert_int_equal(study_trial_get(s2, i, &u), 0);
        assert_string_equal(t.key, u.key); /* same seed, same trial */
        assert_true(t.slope >= 0.5f && t.slope <= 50.0f);
        assert_true(t.beta >= 0.25f && t.beta <= 0.75f);
        below5 += t.slope < 5.0f;
        seen[t.theta == 1.0f ? 0 : t.theta == 1.5f ? 1 : 2]++;
    }
    /* log-uniform on [0.5, 50]: P(slope < 5) = 1/2; 200 draws land within 100 ± 30
     * (about 4 standard deviations) */
    assert_in_range(below5, 70, 130);
    for (int k = 0; k < 3; k++) assert_in_range(seen[k], 30, 110);
    study_free(s);
    study_free(s2);
    /* another seed, other trials */
    char t2[1024];
    snprintf(t2, sizeof t2, "%s", txt);
    char *p = strstr(t2, "seed = 7");
    p[7] = '8';
    s = study_parse(t2, "r8", &err);
    s2 = study_parse(txt, "r", &err);
    study_trial a, b;
    study_trial_get(s, 0, &a);
    study_trial_get(s2, 0, &b);
    assert_string_not_equal(a.key, b.key);
    study_free(s);
    study_free(s2);
}

/* Seed 004's four-way comparison as variants: each overrides the axes it names. */
static void test_variants(void **state) {
    (void)state;
    const char *txt =
        "axes = { arch = [\"10-4\"]; theta = [1.5]; };\n"
        "variants = ( { name = \"fp\"; binarize = false; },\n"
        "             { name = \"bin_theta1\"; binarize = true; theta = 1.0; },\n"
        "             { name = \"bin_tuned\"; binarize = true; },\n"
        "             { name = \"bin_tha\"; binarize = true; threshold = \"anneal:1.0:5.0:0.01\"; } );\n";
    int err;
    study *s = study_parse(txt, "v", &err);
    assert_non_null(s);
    assert_int_equal(study_n_trials(s), 4);
    study_trial t;
    study_trial_get(s, 0, &t);
    assert_string_equal(t.variant, "fp");
    assert_int_equal(t.binarize, 0);
    assert_true(t.theta == 1.5f);
    study_trial_get(s, 1, &t);
    assert_string_equal(t.variant, "bin_theta1");
    assert_int_equal(t.binarize, 1);
    assert_true(t.theta == 1.0f);
    study_trial_get(s, 3, &t);
    assert_string_equal(t.threshold, "anneal:1.0:5.0:0.01");
    assert_true(t.theta == 1.5f);
    study_free(s);
}

static void expect_error(const char *txt, int code, const char *needle) {
    int err = 0;
    study *s = study_parse(txt, "bad.study", &err);
    assert_null(s);
    assert_int_equal(err, code);
    if (!strstr(evsnn_errmsg(), needle)) fail_msg("message '%s' lacks '%s'", evsnn_errmsg(), needle);
}

static void test_errors(void **state) {
    (void)state;
    expect_error("axes = { arch = [\"10-4\"]; slop = [1.0]; };", EVSNN_EINVAL, "bad.study:1: axes.slop: unknown key");
    expect_error("axes = { arch = [\"10-4\"];\n beta = [0.5, 1.5]; };", EVSNN_EINVAL, "bad.study:2: axes.beta[1]: beta must lie in [0, 1]");
    expect_error("axes = { arch = [\"10-4\"]; slope = { min = 1.0; max = 2.0; }; };", EVSNN_EINVAL, "needs search = \"random\"");
    expect_error("search = \"random\"; axes = { arch = [\"10-4\"]; };", EVSNN_EINVAL, "budget");
    expect_error("version = 9; axes = { arch = [\"10-4\"]; };", EVSNN_EVERSION, "up to version 1");
    expect_error("axes = { surrogate = [\"atan\"]; };", EVSNN_EINVAL, "axes.arch");
    expect_error("axes = { arch = [\"10-4\"]; threshold = [\"anneal:1:2\"]; };", EVSNN_EINVAL, "anneal:THETA0:THETA_INF:ALPHA");
    expect_error("axes = { arch = [\"10-4\"] ", EVSNN_EINVAL, "bad.study:1:");
    expect_error("train = { epochs = 0; }; axes = { arch = [\"10-4\"]; };", EVSNN_EINVAL, "train.epochs");
    /* TPE settings, parameter kinds, objectives and pruning: file, line and key */
    const char *tpe = "search = \"tpe\"; budget = 8;\naxes = { arch = [\"10-4\"]; };\n";
    char t[1024];
    snprintf(t, sizeof t, "%s\ntpe = { n_ei = 8;\n gamma = 1.5; };\n", tpe);
    expect_error(t, EVSNN_EINVAL, "bad.study:5: tpe.gamma: gamma must lie in (0, 1)");
    snprintf(t, sizeof t, "%stpe = { gamma = 0.0; };\n", tpe);
    expect_error(t, EVSNN_EINVAL, "bad.study:3: tpe.gamma: gamma must lie in (0, 1)");
    snprintf(t, sizeof t, "%stpe = { prior_weight = 0; };\n", tpe);
    expect_error(t, EVSNN_EINVAL, "bad.study:3: tpe.prior_weight");
    snprintf(t, sizeof t, "%stpe = { n_ei = 0; };\n", tpe);
    expect_error(t, EVSNN_EINVAL, "bad.study:3: tpe.n_ei: 0 is out of range");
    snprintf(t, sizeof t, "%stpe = { sigma = 1.0; };\n", tpe);
    expect_error(t, EVSNN_EINVAL, "bad.study:3: tpe.sigma: unknown key");
    expect_error("search = \"tpe\"; axes = { arch = [\"10-4\"]; };", EVSNN_EINVAL, "budget: TPE search needs budget > 0");
    expect_error("tpe = { gamma = 0.5; }; axes = { arch = [\"10-4\"]; };", EVSNN_EINVAL, "bad.study:1: tpe: these settings need search = \"tpe\"");
    expect_error("search = \"tpe\"; budget = 4; axes = { arch = [\"10-4\"];\n  slope = { kind = \"cubic\"; min = 1.0; max = 2.0; }; };",
                 EVSNN_EINVAL, "bad.study:2: axes.slope.kind: unknown parameter kind 'cubic'; expected \"float\", \"log\" or \"int\"");
    expect_error("search = \"tpe\"; budget = 4; axes = { arch = [\"10-4\"];\n  slope = { kind = \"int\"; min = 1; max = 2; }; };",
                 EVSNN_EINVAL, "bad.study:2: axes.slope.kind: a continuous parameter takes kind \"float\" or \"log\"");
    expect_error("search = \"tpe\"; budget = 4; axes = { arch = [\"10-4\"];\n  batch = { kind = \"log\"; min = 8; max = 64; }; };",
                 EVSNN_EINVAL, "bad.study:2: axes.batch.kind: an integer parameter takes kind \"int\"");
    expect_error("search = \"tpe\"; budget = 4; axes = { arch = [\"10-4\"];\n  batch = { kind = \"int\"; min = 8.0; max = 64; }; };",
                 EVSNN_EINVAL, "bad.study:2: axes.batch: an integer range needs integer min and max");
    expect_error("search = \"tpe\"; budget = 4; axes = { arch = [\"10-4\"];\n  lr = { kind = \"log\"; min = 0.0; max = 0.1; }; };",
                 EVSNN_EINVAL, "bad.study:2: axes.lr: lr must lie in (0, 10)");
    expect_error("search = \"tpe\"; budget = 4; axes = { arch = [\"10-4\"];\n  surrogate = { kind = \"float\"; min = 1.0; max = 2.0; }; };",
                 EVSNN_EINVAL, "bad.study:2: axes.surrogate: only slope, beta, theta, lr, batch and seed may be ranges");
    expect_error("objective = \"fps\"; axes = { arch = [\"10-4\"]; };", EVSNN_EINVAL,
                 "bad.study:1: objective: expected \"accuracy\", \"latency\", \"energy\" or \"tradeoff\"");
    expect_error("tradeoff = { weight = 0.1; }; axes = { arch = [\"10-4\"]; };", EVSNN_EINVAL,
                 "tradeoff: these settings need objective = \"tradeoff\"");
    expect_error("objective = \"tradeoff\";\ntradeoff = { cost = \"fps\"; }; axes = { arch = [\"10-4\"]; };", EVSNN_EINVAL,
                 "bad.study:2: tradeoff.cost: expected \"latency\" or \"energy\"");
    expect_error("prune = \"asha\"; axes = { arch = [\"10-4\"]; };", EVSNN_EINVAL, "bad.study:1: prune: expected \"none\" or \"median\"");
    expect_error("objective = \"latency\";\nprune = \"median\"; axes = { arch = [\"10-4\"]; };", EVSNN_EINVAL,
                 "bad.study:2: prune: the median rule watches test accuracy");
    expect_error("median = { warmup = 2; }; axes = { arch = [\"10-4\"]; };", EVSNN_EINVAL, "median: these settings need prune = \"median\"");
    expect_error("prune = \"median\"; median = { min_trials = 0; }; axes = { arch = [\"10-4\"]; };", EVSNN_EINVAL, "median.min_trials");
    expect_error("prune = \"median\"; train = {\n epochs = 500; }; axes = { arch = [\"10-4\"]; };", EVSNN_EINVAL,
                 "bad.study:2: train.epochs: the median rule keeps accuracies of up to 128 epochs");
    int err;
    assert_null(study_load("/nonexistent/x.study", &err));
    assert_int_equal(err, EVSNN_EIO);
}

/* A study's relative accel path is looked up beside the study file only: a stray accel.cfg
 * in the working directory is ignored, the trial takes the absolute path of the file beside
 * the study, and the key holds that path, the same from any working directory. */
static void test_accel_beside_study(void **state) {
    (void)state;
    char tmp[64], path[128], cwd[4096], key1[1024];
    test_tmpdir(tmp, sizeof tmp);
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(test_sh("mkdir -p %s/s %s/elsewhere && echo 's' > %s/s/accel.cfg && echo 'stray' > %s/elsewhere/accel.cfg", tmp,
                             tmp, tmp, tmp), 0);
    snprintf(path, sizeof path, "%s/s/x.study", tmp);
    FILE *f = fopen(path, "w");
    fputs("axes = { arch = [\"10-4\"]; accel = [\"accel.cfg\"]; };\n", f);
    fclose(f);
    char want[200];
    char *real = realpath(tmp, NULL);
    snprintf(want, sizeof want, "%s/s/accel.cfg", real);
    free(real);
    int err;
    assert_int_equal(chdir(tmp), 0);
    assert_int_equal(chdir("elsewhere"), 0); /* a stray accel.cfg here */
    study *s = study_load(path, &err);
    assert_non_null(s);
    study_trial t;
    assert_int_equal(study_trial_get(s, 0, &t), 0);
    assert_string_equal(t.accel, want);
    assert_non_null(strstr(t.key, want));
    snprintf(key1, sizeof key1, "%s", t.key);
    study_free(s);
    /* relative study path from its own directory: the same trial, the same key */
    assert_int_equal(chdir("../s"), 0);
    s = study_load("x.study", &err);
    assert_non_null(s);
    assert_int_equal(study_trial_get(s, 0, &t), 0);
    assert_string_equal(t.key, key1);
    study_free(s);
    assert_int_equal(chdir(cwd), 0);
    test_rmdir(tmp);
}

static study_row sample_row(uint32_t id, study_status st) {
    study_row r;
    memset(&r, 0, sizeof r);
    r.t.id = id;
    snprintf(r.t.dataset, sizeof r.t.dataset, "synth:classes=4,train=64");  /* commas must be quoted */
    snprintf(r.t.arch, sizeof r.t.arch, "100-32-4");
    snprintf(r.t.surrogate, sizeof r.t.surrogate, "atan");
    snprintf(r.t.threshold, sizeof r.t.threshold, "fixed");
    snprintf(r.t.key, sizeof r.t.key, "k%u", id);
    r.t.slope = 2.5f;
    r.t.beta = 0.5f;
    r.t.theta = 1.5f;
    r.t.seed = 3;
    r.status = st;
    if (st == STUDY_FAILED) snprintf(r.error, sizeof r.error, "layer \"fc2\": shape, wrong");
    r.accuracy = 0.75;
    r.loss = 0.125;
    r.cycles = 424.5;
    r.fps_per_w = 1.5e7;
    r.n_layers = 2;
    r.rate[0] = 0.25;
    r.rate[1] = 0.5;
    r.silent[0] = 0.125;
    r.silent[1] = 0.0;
    return r;
}

static void test_csv_round_trip(void **state) {
    (void)state;
    char dir[64], p[128];
    test_tmpdir(dir, sizeof dir);
    snprintf(p, sizeof p, "%s/t.csv", dir);
    study_row rows[3] = {sample_row(0, STUDY_OK), sample_row(1, STUDY_PENDING), sample_row(2, STUDY_FAILED)};
    assert_int_equal(study_write_csv(p, rows, 3), 0);
    /* the file itself, read with the shell: a header and 2 rows (pending is not written),
     * the dataset spec quoted, the failed row's error with its quotes doubled */
    assert_int_equal(test_sh("test $(wc -l < %s) -eq 3", p), 0);
    assert_int_equal(test_sh("grep -q '^0,ok,\"\",\"synth:classes=4,train=64\",\"100-32-4\"' %s", p), 0);
    assert_int_equal(test_sh("grep -q '\"layer \"\"fc2\"\": shape, wrong\"$' %s", p), 0);
    study_row *r = NULL;
    uint32_t n = 0;
    assert_int_equal(study_read_csv(p, &r, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(r[0].t.id, 0);
    assert_int_equal(r[0].status, STUDY_OK);
    assert_string_equal(r[0].t.dataset, "synth:classes=4,train=64");
    assert_true(r[0].accuracy == 0.75 && r[0].cycles == 424.5 && r[0].rate[1] == 0.5);
    assert_true(isnan(r[0].rate[2]));
    assert_string_equal(r[0].t.key, "k0");
    assert_int_equal(r[1].t.id, 2);
    assert_int_equal(r[1].status, STUDY_FAILED);
    assert_string_equal(r[1].error, "layer \"fc2\": shape, wrong");
    assert_true(isnan(r[1].accuracy));
    free(r);
    /* a missing table is an empty one; a truncated row is named with its line */
    snprintf(p, sizeof p, "%s/none.csv", dir);
    assert_int_equal(study_read_csv(p, &r, &n), 0);
    assert_int_equal(n, 0);
    snprintf(p, sizeof p, "%s/t.csv", dir);
    /* line 3 (the failed row) cut after 50 bytes, inside its quoted dataset field */
    assert_int_equal(test_sh("{ head -n 2 %s; sed -n 3p %s | head -c 50; echo; } > %s/cut.csv", p, p, dir), 0);
    snprintf(p, sizeof p, "%s/cut.csv", dir);
    assert_int_equal(study_read_csv(p, &r, &n), EVSNN_EFORMAT);
    if (!strstr(evsnn_errmsg(), "cut.csv:3:")) fail_msg("message: %s", evsnn_errmsg());
    test_rmdir(dir);
}

static void test_h5_table(void **state) {
    (void)state;
    char dir[64], p[128];
    test_tmpdir(dir, sizeof dir);
    snprintf(p, sizeof p, "%s/t.h5", dir);
    study_row rows[3] = {sample_row(0, STUDY_OK), sample_row(1, STUDY_OK), sample_row(2, STUDY_FAILED)};
    rows[1].accuracy = 0.5;
    assert_int_equal(study_write_h5(p, rows, 3), 0);
    size_t n = 0;
    float *acc = h5r_floats(p, "/trials/accuracy", &n);
    assert_non_null(acc);
    assert_int_equal(n, 3);
    assert_true(acc[0] == 0.75f && acc[1] == 0.5f && isnan(acc[2]));
    free(acc);
    float *rate = h5r_floats(p, "/trials/rate", &n);
    assert_non_null(rate);
    assert_int_equal(n, 3 * STUDY_MAX_LAYERS);
    assert_true(rate[1] == 0.5f && isnan(rate[2]));
    free(rate);
    assert_true(h5r_attr(p, "version") == STUDY_TABLE_VERSION);
    /* the strings, read by h5dump (an independent reader) */
    assert_int_equal(test_sh("h5dump -d /trials/status %s | grep -q '\"failed\"'", p), 0);
    test_rmdir(dir);
}

/* Integer ranges in random search: uniform on the integers, both ends included. lr and
 * batch as axes enter the key; a study without them keeps the older key. */
static void test_int_ranges_and_keys(void **state) {
    (void)state;
    study *s = study_parse("search = \"random\"; budget = 400; train = { lr = 0.02; batch = 8; };\n"
                           "axes = { arch = [\"10-4\"]; batch = { kind = \"int\"; min = 2; max = 5; };\n"
                           "  lr = { kind = \"log\"; min = 0.001; max = 0.1; }; };", "i", &(int){0});
    assert_non_null(s);
    int seen[4] = {0};
    for (uint32_t i = 0; i < 400; i++) {
        study_trial t;
        assert_int_equal(study_trial_get(s, i, &t), 0);
        assert_in_range(t.batch, 2, 5);
        seen[t.batch - 2]++;
        assert_true(t.lr >= 0.001f && t.lr <= 0.1f);
        if (!strstr(t.key, ";lr=") || !strstr(t.key, ";batch=")) fail_msg("key without lr, batch: %s", t.key);
    }
    for (int k = 0; k < 4; k++) assert_in_range(seen[k], 60, 140); /* 100 ± 4 sd each */
    study_free(s);
    s = study_parse("train = { lr = 0.02; batch = 8; }; axes = { arch = [\"10-4\"]; };", "k", &(int){0});
    study_trial t;
    study_trial_get(s, 0, &t);
    assert_true(t.lr == 0.02f && t.batch == 8); /* the train group's, */
    assert_string_equal(t.key, "variant=;dataset=synth;arch=10-4;accel=;surrogate=fast_sigmoid;slope=0;beta=0.949999988;"
                               "theta=1;threshold=fixed;binarize=0;seed=1"); /* not in the key */
    study_free(s);
}

/* Objectives by hand: accuracy 0.9, latency 100 µs, energy 2 µJ. */
static void test_objectives(void **state) {
    (void)state;
    study_row r;
    memset(&r, 0, sizeof r);
    r.status = STUDY_OK;
    r.accuracy = 0.9;
    r.latency_us = 100;
    r.energy_uj = 2;
    const struct { const char *txt; double want; int max; } c[] = {
        {"", 0.9, 1},
        {"objective = \"latency\";", 100, 0},
        {"objective = \"energy\";", 2, 0},
        /* 0.9 − 0.05 · ln 100 = 0.9 − 0.230258509 */
        {"objective = \"tradeoff\";", 0.669741491, 1},
        /* 0.9 − 0.1 · ln 2 = 0.9 − 0.0693147181 */
        {"objective = \"tradeoff\"; tradeoff = { cost = \"energy\"; weight = 0.1; };", 0.830685282, 1},
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        char txt[512];
        snprintf(txt, sizeof txt, "%s axes = { arch = [\"10-4\"]; };", c[i].txt);
        study *s = study_parse(txt, "o", &(int){0});
        assert_non_null(s);
        if (fabs(study_objective(s, &r) - c[i].want) > 1e-9) fail_msg("%s: %.12g", c[i].txt, study_objective(s, &r));
        assert_int_equal(study_maximize(s), c[i].max);
        study_free(s);
    }
    /* a trade-off's ranking does not depend on the cost's unit: ln(k·c) = ln k + ln c */
    study *s = study_parse("objective = \"tradeoff\"; axes = { arch = [\"10-4\"]; };", "o", &(int){0});
    study_row a = r, b = r;
    b.accuracy = 0.88;
    b.latency_us = 50; /* 2 points less for half the latency: 0.88 − 0.05 ln 50 > 0.9 − 0.05 ln 100 */
    assert_true(study_objective(s, &b) > study_objective(s, &a));
    a.latency_us *= 1000;
    b.latency_us *= 1000;
    assert_true(study_objective(s, &b) > study_objective(s, &a));
    r.status = STUDY_PRUNED;
    assert_true(isnan(study_objective(s, &r))); /* only ok rows have an objective */
    study_free(s);
}

/* The median rule by hand: 3 epochs, warm-up 1, at least 3 finished trials per epoch. */
static void test_median_rule(void **state) {
    (void)state;
    study *s = study_parse("prune = \"median\"; median = { warmup = 1; min_trials = 3; }; train = { epochs = 3; };\n"
                           "axes = { arch = [\"10-4\"]; seed = [1, 2, 3, 4, 5, 6]; };", "m", &(int){0});
    assert_non_null(s);
    study_row rows[6];
    const double acc[4][3] = {{0.5, 0.6, 0.7}, {0.4, 0.8, 0.9}, {0.3, 0.5, 0.6}, {0.9, 0.7, 0.8}};
    for (uint32_t i = 0; i < 6; i++) {
        memset(&rows[i], 0, sizeof rows[i]);
        study_trial_get(s, i, &rows[i].t);
        rows[i].status = i < 4 ? STUDY_OK : STUDY_PENDING;
        rows[i].n_curve = i < 4 ? 3 : 0;
        for (int e = 0; e < 3 && i < 4; e++) rows[i].epoch_acc[e] = acc[i][e];
    }
    rows[3].status = STUDY_PRUNED; /* a pruned trial's values do not count */
    study_trial t;
    study_trial_get(s, 5, &t);
    double med[STUDY_MAX_EPOCHS];
    study_prune_medians(s, &t, rows, 6, med);
    /* ok rows 0, 1, 2: epoch 1 {0.5, 0.4, 0.3} → 0.4; epoch 2 {0.6, 0.8, 0.5} → 0.6; epoch 3 → 0.7 */
    assert_true(med[0] == 0.4 && med[1] == 0.6 && med[2] == 0.7);
    assert_true(isnan(med[3]));
    assert_int_equal(study_prune_stop(s, med, 1, 0.1), 0);  /* warm-up */
    assert_int_equal(study_prune_stop(s, med, 2, 0.59), 1); /* below the median */
    assert_int_equal(study_prune_stop(s, med, 2, 0.6), 0);  /* at it is not below */
    assert_int_equal(study_prune_stop(s, med, 3, 0.1), 0);  /* the last epoch: finished */
    /* with only 2 ok rows there is no threshold */
    rows[2].status = STUDY_FAILED;
    study_prune_medians(s, &t, rows, 6, med);
    assert_true(isnan(med[1]));
    assert_int_equal(study_prune_stop(s, med, 2, 0.0), 0);
    study_free(s);
    /* a study without pruning never stops a trial */
    s = study_parse("train = { epochs = 3; }; axes = { arch = [\"10-4\"]; };", "n", &(int){0});
    study_prune_medians(s, &t, rows, 6, med);
    assert_true(isnan(med[1]));
    assert_int_equal(study_prune_stop(s, med, 2, 0.0), 0);
    study_free(s);
}

/* A pruned row and the new columns through the CSV; a table written before them (the
 * header of the first tables, written here by hand) still reads, its new columns NaN or 0. */
static void test_csv_new_columns(void **state) {
    (void)state;
    char dir[64], p[128];
    test_tmpdir(dir, sizeof dir);
    snprintf(p, sizeof p, "%s/t.csv", dir);
    study_row rows[2] = {sample_row(0, STUDY_OK), sample_row(1, STUDY_PRUNED)};
    rows[0].t.lr = 0.003f;
    rows[0].t.batch = 48;
    rows[0].objective = 0.75;
    rows[0].epochs = 3;
    rows[0].n_curve = 3;
    rows[0].epoch_acc[0] = 0.5;
    rows[0].epoch_acc[1] = 0.625;
    rows[0].epoch_acc[2] = 0.75;
    rows[1].epochs = 2;
    rows[1].n_curve = 2;
    rows[1].epoch_acc[0] = 0.25;
    rows[1].epoch_acc[1] = 0.125;
    rows[1].latency_us = rows[1].cycles = NAN; /* not run for a pruned trial */
    rows[1].objective = NAN;
    assert_int_equal(study_write_csv(p, rows, 2), 0);
    assert_int_equal(test_sh("grep -q '^1,pruned,' %s && grep -q ',0.5;0.625;0.75,' %s", p, p), 0);
    study_row *r = NULL;
    uint32_t n = 0;
    assert_int_equal(study_read_csv(p, &r, &n), 0);
    assert_int_equal(n, 2);
    assert_true(r[0].t.lr == 0.003f && r[0].t.batch == 48 && r[0].objective == 0.75 && r[0].epochs == 3);
    assert_int_equal(r[0].n_curve, 3);
    assert_true(r[0].epoch_acc[1] == 0.625);
    assert_int_equal(r[1].status, STUDY_PRUNED);
    assert_int_equal(r[1].n_curve, 2);
    assert_true(r[1].epoch_acc[1] == 0.125 && r[1].accuracy == 0.75);
    assert_true(isnan(r[1].latency_us) && isnan(r[1].objective));
    free(r);
    /* the first tables' header: no cycles_0..7, lr, batch, objective, epochs, epoch_acc */
    snprintf(p, sizeof p, "%s/old.csv", dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fprintf(f, "trial,status,variant,dataset,arch,accel,surrogate,slope,beta,theta,threshold,binarize,seed,"
               "accuracy,loss,train_loss,train_s,cycles,latency_us,fps,energy_uj,fps_per_w,n_layers");
    for (int l = 0; l < 8; l++) fprintf(f, ",rate_%d", l);
    for (int l = 0; l < 8; l++) fprintf(f, ",silent_%d", l);
    fprintf(f, ",key,error\n3,ok,\"\",\"synth\",\"10-4\",\"\",\"atan\",2,0.5,1,\"fixed\",0,7,"
               "0.625,0.5,0.25,1.5,400,4,250000,0.05,1e7,1,0.125,,,,,,,,0.5,,,,,,,,\"k3\",\"\"\n");
    fclose(f);
    assert_int_equal(study_read_csv(p, &r, &n), 0);
    assert_int_equal(n, 1);
    assert_true(r[0].t.id == 3 && r[0].accuracy == 0.625 && r[0].latency_us == 4 && r[0].rate[0] == 0.125 && r[0].t.seed == 7);
    assert_true(isnan(r[0].layer_cycles[0]) && isnan(r[0].objective) && r[0].t.lr == 0 && r[0].n_curve == 0);
    assert_string_equal(r[0].t.key, "k3");
    free(r);
    /* a header without one of the first tables' columns is refused, naming it */
    assert_int_equal(test_sh("sed '1s/,silent_3,/,silnt_3,/' %s > %s/bad.csv", p, dir), 0);
    snprintf(p, sizeof p, "%s/bad.csv", dir);
    assert_int_equal(study_read_csv(p, &r, &n), EVSNN_EFORMAT);
    if (!strstr(evsnn_errmsg(), "bad.csv:1: no column 'silent_3'")) fail_msg("message: %s", evsnn_errmsg());
    test_rmdir(dir);
}

static void test_comm_serial(void **state) {
    (void)state;
    if (comm_is_mpi()) skip();
    assert_int_equal(comm_init(NULL, NULL), 0);
    assert_int_equal(comm_rank(), 0);
    assert_int_equal(comm_size(), 1);
    float x[3] = {1.5f, -2.0f, 0.25f};
    assert_int_equal(comm_allreduce_sum_f32(x, 3), 0);
    assert_true(x[0] == 1.5f && x[1] == -2.0f && x[2] == 0.25f); /* one rank: the sum is itself */
    assert_int_equal(comm_send(0, 1, x, sizeof x), EVSNN_EINVAL);
    assert_int_equal(comm_probe(COMM_ANY, COMM_ANY, NULL, NULL), 0);
    comm_finalize();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid_order), cmocka_unit_test(test_random_search), cmocka_unit_test(test_variants),
        cmocka_unit_test(test_errors),     cmocka_unit_test(test_csv_round_trip), cmocka_unit_test(test_h5_table),
        cmocka_unit_test(test_int_ranges_and_keys), cmocka_unit_test(test_objectives),
        cmocka_unit_test(test_median_rule),         cmocka_unit_test(test_csv_new_columns),
        cmocka_unit_test(test_comm_serial), cmocka_unit_test(test_accel_beside_study),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
