/* tests/test_hw_cfg.c — accelerator configuration: the shipped files load, every field is
 * read, bad files are rejected naming key and line. */
#include "testutil.h"

#include "hw/hw.h"
#include "sim/evsnn.h"

static void test_shipped_files(void **state) {
    (void)state;
    hw_cfg c;
    hw_cfg_default(&c);
    assert_int_equal(hw_cfg_load(&c, "data/snn-dse.cfg"), 0);
    assert_int_equal(c.model, HW_MODEL_SNNDSE);
    assert_int_equal(c.schedule, HW_LOCKSTEP);
    assert_int_equal(c.dflt.pes, 4);
    assert_int_equal(c.dflt.neuron_cycles, 3);
    assert_int_equal(c.dflt.queue_depth, 32);
    assert_int_equal(c.dflt.encoder_width, 16);
    assert_int_equal(c.membrane_bits, 32);
    assert_non_null(strstr(c.energy.source, "Horowitz"));
    hw_cfg_default(&c);
    assert_int_equal(hw_cfg_load(&c, "data/accel.cfg"), 0);
    assert_int_equal(c.model, HW_MODEL_EVSNN);
    assert_int_equal(c.schedule, HW_PIPE_STEPS);
    assert_int_equal(c.weight_bits, 8);
    assert_int_equal(c.membrane_bits, 16);
    assert_int_equal(c.total_pes, 64);
}

static void test_every_field(void **state) {
    (void)state;
    const char *txt =
        "version = 1; model = \"evsnn\"; clock_mhz = 250; schedule = \"pipeline-layers\";\n"
        "formats = { weight = \"int4\"; membrane = \"q2.30\"; };\n"
        "allocation = { policy = \"proportional\"; total_pes = 40; };\n"
        "layer_default = { pes = 3; neuron_cycles = 2; update_cycles = 4; queue_depth = 9;\n"
        "  overflow = \"drop\"; encoder_width = 8; step_overhead = 5; weight_memory = \"dram\"; };\n"
        "layers = ( { index = 1; pes = 7; }, { name = \"fc1\"; queue_depth = 2; overflow = \"error\"; } );\n"
        "energy = { accumulate_pj = 1.5; static_mw = 2; source = \"x\"; };\n";
    hw_cfg c;
    hw_cfg_default(&c);
    assert_int_equal(hw_cfg_parse(&c, txt, "t.cfg"), 0);
    assert_true(c.clock_mhz == 250.0);
    assert_int_equal(c.schedule, HW_PIPE_LAYERS);
    assert_int_equal(c.weight_bits, 4);
    assert_int_equal(c.membrane_bits, 32);
    assert_int_equal(c.alloc, HW_ALLOC_PROPORTIONAL);
    assert_int_equal(c.total_pes, 40);
    assert_true(c.energy.accumulate_pj == 1.5 && c.energy.static_mw == 2.0);
    assert_true(c.energy.weight_read_pj == 5.0); /* untouched entries keep the 45 nm table */
    /* resolve over a 2-layer net: layer 0 named fc1, layer 1 by index */
    net_layer ls[2];
    memset(ls, 0, sizeof ls);
    snprintf(ls[0].name, 32, "fc1");
    snprintf(ls[1].name, 32, "fc2");
    net n = {.n_layers = 2, .layers = ls};
    hw_layer_cfg lc[2];
    assert_int_equal(hw_cfg_resolve(&c, &n, lc), 0);
    assert_int_equal(lc[0].pes, 3);
    assert_int_equal(lc[0].queue_depth, 2);
    assert_int_equal(lc[0].overflow, HW_ERROR);
    assert_int_equal(lc[1].pes, 7);
    assert_int_equal(lc[1].queue_depth, 9);
    assert_int_equal(lc[1].overflow, HW_DROP);
    assert_int_equal(lc[1].neuron_cycles, 2);
    assert_int_equal(lc[1].update_cycles, 4);
    assert_int_equal(lc[1].encoder_width, 8);
    assert_int_equal(lc[1].step_overhead, 5);
    assert_int_equal(lc[1].weight_mem, HW_MEM_DRAM);
    /* an override naming no layer */
    hw_cfg_default(&c);
    assert_int_equal(hw_cfg_parse(&c, "layers = ( { name = \"conv9\"; pes = 2; } );", "t.cfg"), 0);
    assert_int_equal(hw_cfg_resolve(&c, &n, lc), EVSNN_EINVAL);
    assert_non_null(strstr(evsnn_errmsg(), "conv9"));
}

/* Each bad text, the line the message must name and a word it must contain. */
static void test_bad_configs(void **state) {
    (void)state;
    static const struct { const char *txt, *where, *word; } cases[] = {
        {"version = 1;\nclock_mhz = 100;\nqueue_dept = 4;\n", "bad.cfg:3:", "queue_dept"},
        {"layer_default = {\n  pes = 0;\n};\n", "bad.cfg:2:", "layer_default.pes"},
        {"layer_default = {\n  queue_depth = 0;\n};\n", "bad.cfg:2:", "layer_default.queue_depth"},
        {"layers = ( { index = 0;\n pes = 0; } );\n", "bad.cfg:2:", "layers[0].pes"},
        {"layers = ( { index = 0; queue_depth = 0; } );\n", "bad.cfg:1:", "queue_depth"},
        {"layer_default = { colour = 3; };\n", "bad.cfg:1:", "layer_default.colour"},
        {"\n\nschedule = \"sometimes\";\n", "bad.cfg:3:", "schedule"},
        {"layer_default = { overflow = \"explode\"; };\n", "bad.cfg:1:", "overflow"},
        {"clock_mhz = \"fast\";\n", "bad.cfg:1:", "clock_mhz"},
        {"formats = { weight = \"float\"; };\n", "bad.cfg:1:", "formats.weight"},
        {"energy = {\n accumulate_pj = -1.0; };\n", "bad.cfg:2:", "energy.accumulate_pj"},
        {"version = 2;\n", "bad.cfg:1:", "upgrade"},
        {"clock_mhz = 100;\npes = = 3;\n", "bad.cfg:2:", "syntax"},
        {"allocation = { policy = \"uniform\"; };\n", "bad.cfg:1:", "total_pes"},
        {"layers = ( { pes = 2; } );\n", "bad.cfg:1:", "index or name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        hw_cfg c;
        hw_cfg_default(&c);
        int rc = hw_cfg_parse(&c, cases[i].txt, "bad.cfg");
        if (rc != EVSNN_EINVAL) fail_msg("case %zu: rc %d", i, rc);
        const char *msg = evsnn_errmsg();
        if (!strstr(msg, cases[i].where) || !strstr(msg, cases[i].word))
            fail_msg("case %zu: message '%s' lacks '%s' or '%s'", i, msg, cases[i].where, cases[i].word);
    }
    /* a missing file names itself */
    hw_cfg c;
    hw_cfg_default(&c);
    assert_int_equal(hw_cfg_load(&c, "/nonexistent/x.cfg"), EVSNN_EIO);
    assert_non_null(strstr(evsnn_errmsg(), "/nonexistent/x.cfg"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_files),
        cmocka_unit_test(test_every_field),
        cmocka_unit_test(test_bad_configs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
