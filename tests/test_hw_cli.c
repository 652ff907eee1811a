/* tests/test_hw_cli.c — `evsnn hw` and `evsnn hw dse` end to end on a trace written here
 * (W2 shape, synthetic trains from test_hw_fixture.h, 3 samples, T = 4). */
#include "testutil.h"

#include "io/trace.h"
#include "test_hw_fixture.h"

static char dir[64], trace[128];

static int setup(void **state) {
    (void)state;
    test_tmpdir(dir, sizeof dir);
    snprintf(trace, sizeof trace, "%s/w2.h5", dir);
    net n;
    net_layer ls[3];
    fx_w2(&n, ls);
    int err;
    trace_writer *w = trace_create(trace, &n, 4, &err);
    if (!w) return -1;
    uint32_t seed = 99;
    for (int i = 0; i < 3; i++) {
        spk_train in, out[3];
        const double rate[3] = {0.05, 0.05, 0.2};
        fx_train(&in, 4, n.n_in, 0.03, &seed);
        for (int l = 0; l < 3; l++) fx_train(&out[l], 4, ls[l].n_out, rate[l], &seed);
        sim_result r = {.n_layers = 3, .T = 4, .out = out};
        if (trace_add(w, &in, &r, i)) return -1;
        spk_deinit(&in);
        for (int l = 0; l < 3; l++) spk_deinit(&out[l]);
    }
    return trace_close(w);
}

static int teardown(void **state) {
    (void)state;
    test_rmdir(dir);
    return 0;
}

/* The JSON's mean latency, extracted with sed (not our parser). */
static double latency_of(const char *json) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "sed -n 's/.*\"latency_cycles\":{\"mean\":\\([0-9.e+]*\\).*/\\1/p' '%s'", json);
    FILE *p = popen(cmd, "r");
    double v = -1;
    if (p) {
        if (fscanf(p, "%lf", &v) != 1) v = -1;
        pclose(p);
    }
    return v;
}

static void test_hw_modes_agree(void **state) {
    (void)state;
    const char *bin = test_evsnn_bin();
    char a[160], b[160];
    snprintf(a, sizeof a, "%s/a.json", dir);
    snprintf(b, sizeof b, "%s/b.json", dir);
    assert_int_equal(test_sh("%s hw --trace %s --accel data/snn-dse.cfg > %s", bin, trace, a), 0);
    assert_int_equal(test_sh("%s hw --trace %s --accel data/snn-dse.cfg --mode per-cycle > %s", bin, trace, b), 0);
    double la = latency_of(a), lb = latency_of(b);
    assert_true(la > 0);
    assert_true(la == lb);
    /* every promised field is there */
    static const char *fields[] = {"\"fps\"", "\"fps_pipelined\"", "\"energy_uj_per_sample\"", "\"avg_power_mw\"",
                                   "\"fps_per_w\"", "\"occupancy_hist\"", "\"occupancy_max\"", "\"stall_cycles\"",
                                   "\"pe_utilisation\"", "\"ops_per_sample\"", "\"overflow_events\"",
                                   "\"rtl_done_mean\"", "\"p99\"", "\"latency_us\""};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        if (test_sh("grep -q '%s' %s", fields[i], a) != 0) fail_msg("missing %s", fields[i]);
    /* valid JSON according to python's parser when available */
    if (test_sh("command -v python3 >/dev/null") == 0)
        assert_int_equal(test_sh("python3 -c 'import json,sys; json.load(open(sys.argv[1]))' %s", a), 0);
}

static void test_hw_series_and_plots(void **state) {
    (void)state;
    const char *bin = test_evsnn_bin();
    char series[160], prefix[160];
    snprintf(series, sizeof series, "%s/s.h5", dir);
    snprintf(prefix, sizeof prefix, "%s/p", dir);
    int have_gp = test_sh("command -v gnuplot >/dev/null") == 0;
    assert_int_equal(test_sh("%s hw --trace %s --accel data/accel.cfg --series %s %s%s > /dev/null", bin, trace,
                             series, have_gp ? "--plot " : "", have_gp ? prefix : ""),
                     0);
    /* read back with h5dump (an independent reader) when installed */
    if (test_sh("command -v h5dump >/dev/null") == 0) {
        assert_int_equal(test_sh("h5dump -d /layer1/histogram %s > /dev/null", series), 0);
        assert_int_equal(test_sh("h5dump -a /format %s | grep -q evsnn-hw-series", series), 0);
    }
    if (have_gp) {
        assert_int_equal(test_sh("file %s-occupancy.png | grep -q PNG || head -c 4 %s-occupancy.png | grep -q PNG",
                                 prefix, prefix), 0);
        assert_int_equal(access(strcat(prefix, "-latency.png"), R_OK), 0);
    }
}

static void test_dse(void **state) {
    (void)state;
    char out[160];
    snprintf(out, sizeof out, "%s/dse.json", dir);
    assert_int_equal(test_sh("%s hw dse --trace %s --accel data/accel.cfg --max-pes 8 > %s", test_evsnn_bin(), trace, out), 0);
    assert_int_equal(test_sh("grep -q '\"pareto\":\\[{' %s", out), 0);
    /* the front is strictly decreasing in latency as PEs grow (checked with python) */
    if (test_sh("command -v python3 >/dev/null") == 0)
        assert_int_equal(test_sh("python3 -c 'import json,sys; f=json.load(open(sys.argv[1]))[\"pareto\"]; "
                                 "assert all(a[\"total_pes\"]<b[\"total_pes\"] and a[\"latency_cycles\"]>b[\"latency_cycles\"] "
                                 "for a,b in zip(f,f[1:])), f' %s",
                                 out),
                         0);
}

/* The engine path: run W2-like small net on Bernoulli input, record the trace, replay it:
 * same latency. */
static void test_engine_record_replay(void **state) {
    (void)state;
    const char *bin = test_evsnn_bin();
    char rec[160], a[160], b[160];
    snprintf(rec, sizeof rec, "%s/rec.h5", dir);
    snprintf(a, sizeof a, "%s/e1.json", dir);
    snprintf(b, sizeof b, "%s/e2.json", dir);
    assert_int_equal(test_sh("%s hw --arch 4C3-AP2-10 --input 2x8x8 --input-rate 0.2 --steps 5 --samples 3 "
                             "--accel data/snn-dse.cfg --record %s > %s", bin, rec, a), 0);
    assert_int_equal(test_sh("%s hw --trace %s --accel data/snn-dse.cfg > %s", bin, rec, b), 0);
    double la = latency_of(a);
    assert_true(la > 0);
    assert_true(la == latency_of(b));
    assert_int_equal(test_sh("%s hw --arch 4C3-AP2-10 --input 2x8x8 --trace %s > /dev/null 2>&1", bin, rec), 2);
    /* from a model file written by evsnn init: its default steps (7) are used */
    char model[160];
    snprintf(model, sizeof model, "%s/m.h5", dir);
    assert_int_equal(test_sh("%s init --arch 4C3-AP2-10 --input 2x8x8 --steps 7 -o %s > /dev/null", bin, model), 0);
    assert_int_equal(test_sh("%s hw --model %s --samples 2 --accel data/accel.cfg > %s", bin, model, a), 0);
    assert_int_equal(test_sh("grep -q '\"T\":7,' %s", a), 0);
    assert_int_equal(test_sh("grep -q '\"weight_bytes\":72,' %s", a), 0); /* 4·2·3·3 weights, int8 in data/accel.cfg */
}

static void test_bad_input(void **state) {
    (void)state;
    const char *bin = test_evsnn_bin();
    char cfg[160], err[160];
    snprintf(cfg, sizeof cfg, "%s/bad.cfg", dir);
    snprintf(err, sizeof err, "%s/err.txt", dir);
    FILE *f = fopen(cfg, "w");
    fputs("version = 1;\nlayer_default = {\n  pes = 0;\n};\n", f);
    fclose(f);
    assert_int_equal(test_sh("%s hw --trace %s --accel %s > /dev/null 2> %s", bin, trace, cfg, err), 2);
    assert_int_equal(test_sh("grep -q 'bad.cfg:3: layer_default.pes' %s", err), 0);
    assert_int_equal(test_sh("%s hw --trace %s/none.h5 > /dev/null 2>&1", bin, dir), 2);
    assert_int_equal(test_sh("%s hw > /dev/null 2>&1", bin), 2);
    assert_int_equal(test_sh("%s hw --trace %s --mode fast > /dev/null 2>&1", bin, trace), 2);
    assert_int_equal(test_sh("%s hw --model m.h5 --data x > /dev/null 2>&1", bin), 2);
    assert_int_equal(test_sh("%s hw --help | grep -q -- --accel", bin), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hw_modes_agree),
        cmocka_unit_test(test_hw_series_and_plots),
        cmocka_unit_test(test_dse),
        cmocka_unit_test(test_engine_record_replay),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
