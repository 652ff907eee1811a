/* tests/test_live_aedat4.c — `evsnn serve`'s AEDAT 4.0 input (DV's network output: magic,
 * IOHeader, packets, no data table) through a live_session fed without sockets. The stream
 * is written by tests/aedat4_write.h in the published layout; the expected windows come
 * from hand computation on a 2×24×32 → 2 network whose outputs fire exactly on the steps
 * where their one input pixel had an event (weight 2 > θ = 1, reset to zero): sensor
 * 64×48 summed 2×2 into the model's 32×24. */
#include "tests/testutil.h"

#include "io/live_server.h"
#include "sim/evsnn.h"
#include "sim/net.h"
#include "tests/aedat4_write.h"
#include "tests/test_live_util.h"

typedef struct {
    net *n;
    live_core *core;
} fixture;

/* model pixel (c 1 = ON, y 0, x 0) → output 1, (c 0 = OFF, y 23, x 31) → output 0 */
static int setup(void **state) {
    fixture *fx = calloc(1, sizeof *fx);
    neuron_cfg cfg = net_default_neuron();
    cfg.reset = RESET_ZERO;
    cfg.bias = 0;
    net_opts o = {.cfg = &cfg, .n_cfg = 1};
    int err;
    fx->n = net_build("1536-2", 2, 24, 32, &o, &err);
    assert_non_null(fx->n);
    float *w = fx->n->layers[0].w;
    memset(w, 0, fx->n->layers[0].n_w * sizeof *w);
    w[(1 * 24 * 32 + 0 * 32 + 0) * 2 + 1] = 2;
    w[(0 * 24 * 32 + 23 * 32 + 31) * 2 + 0] = 2;
    live_core_opts co = {.steps = 10, .dt_us = 1000};
    fx->core = live_core_create(fx->n, &co, &err);
    assert_non_null(fx->core);
    *state = fx;
    return 0;
}

static int teardown(void **state) {
    fixture *fx = *state;
    live_core_free(fx->core);
    net_free(fx->n);
    free(fx);
    return 0;
}

/* Window [1000, 11000) µs, 1 ms steps:
 *   t 1000 (0, 0) ON → model (c1, 0, 0), step 0 → output 1;  t 1500 (63, 47) OFF → (c0, 23, 31),
 *   step 0 → output 0;  t 2999 (10, 20) ON → no weight;  the IMU packet between is skipped;
 *   t 6000 (1, 1) ON → (c1, 0, 0), step 5 → output 1.
 * t 12000 (62, 46) OFF is past the window: it closes ([1, 2], 4 events) and opens the
 * tumbling window [11000, 21000), where it is step 1 → output 0 ([1, 0], 1 event). */
static const a4w_event PA[] = {{1000, 0, 0, 1}, {1500, 63, 47, 0}, {2999, 10, 20, 1}};
static const a4w_event PI[] = {{1200, 0, 0, 1}, {1300, 0, 0, 1}};
static const a4w_event PB[] = {{6000, 1, 1, 1}, {12000, 62, 46, 0}};
#define WANT "{\"window\":0,\"tag\":0,\"class\":1,\"counts\":[1,2],\"events\":4,\"dropped\":0,\"t_start_us\":1000," \
             "\"steps\":10,\"dt_us\":1000,}\n{\"window\":1,\"tag\":1,\"class\":0,\"counts\":[1,0],\"events\":1,"       \
             "\"dropped\":0,\"t_start_us\":11000,\"steps\":10,\"dt_us\":1000,}\n"

static uint8_t *stream(int comp, int table, size_t *n) {
    char xml[2048];
    a4w_xml(xml, sizeof xml, 64, 48, 1);
    a4w_packet pk[3] = {{0, PA, 3, NULL}, {2, PI, 2, "IMUS"}, {0, PB, 2, NULL}};
    return a4w_file(comp, xml, pk, 3, table, n, NULL);
}

static void run_whole(live_core *core, const uint8_t *b, size_t n, tl_sink *out) {
    live_session *s = live_session_create(core, tl_sink_emit, out, NULL);
    size_t used;
    assert_int_equal(live_session_feed(s, b, n, &used, 1), 0);
    assert_int_equal(used, n);
    assert_int_equal(live_session_flush(s, 1), 0);
    live_session_free(s);
    tl_strip_latency(out->text);
}

static void test_stream_windows(void **state) {
    fixture *fx = *state;
    int comps[] = {0, 1, 3};
    for (int c = 0; c < 3; c++) {
        size_t n;
        uint8_t *b = stream(comps[c], 0, &n);
        tl_sink out = {0};
        run_whole(fx->core, b, n, &out);
        assert_string_equal(out.text, WANT);
        /* one byte at a time, as a slow socket delivers it: the same windows */
        tl_sink o1 = {0};
        live_session *s = live_session_create(fx->core, tl_sink_emit, &o1, NULL);
        uint8_t *acc = malloc(n);
        size_t pending = 0, used;
        for (size_t i = 0; i < n; i++) {
            acc[pending++] = b[i];
            if (pending < live_session_need(s)) continue;
            assert_int_equal(live_session_feed(s, acc, pending, &used, 1), 0);
            memmove(acc, acc + used, pending - used);
            pending -= used;
        }
        assert_int_equal(pending, 0);
        assert_int_equal(live_session_flush(s, 1), 0);
        live_session_free(s);
        tl_strip_latency(o1.text);
        assert_string_equal(o1.text, WANT);
        free(acc), free(b);
    }
}

/* A whole file sent as a stream: its data table (after dataTablePosition) is not packets. */
static void test_stream_with_table(void **state) {
    fixture *fx = *state;
    size_t n;
    uint8_t *b = stream(1, 1, &n);
    tl_sink out = {0};
    run_whole(fx->core, b, n, &out);
    assert_string_equal(out.text, WANT);
    free(b);
}

static void expect_refused(live_core *core, const uint8_t *b, size_t n, int code, const char *what) {
    tl_sink out = {0};
    live_session *s = live_session_create(core, tl_sink_emit, &out, NULL);
    size_t used;
    int rc = live_session_feed(s, b, n, &used, 1);
    if (rc != code || !strstr(evsnn_errmsg(), what)) fail_msg("expected %d '%s', got %d: %s", code, what, rc, evsnn_errmsg());
    live_session_free(s);
}

static void test_stream_errors(void **state) {
    fixture *fx = *state;
    size_t n;
    uint8_t *b = stream(1, 0, &n);
    /* the magic line without its \r */
    uint8_t bad[32];
    memcpy(bad, "#!AER-DAT4.0\n", 13);
    expect_refused(fx->core, bad, 13, EVSNN_EFORMAT, "not exactly '#!AER-DAT4.0");
    /* a bad LZ4 frame in the first event packet: the packet header follows the prologue */
    uint32_t hl = (uint32_t)b[14] | (uint32_t)b[15] << 8;
    size_t pk0 = 18 + hl;
    b[pk0 + 8 + 6] ^= 0x5A; /* LZ4 frame header checksum */
    expect_refused(fx->core, b, n, EVSNN_EFORMAT, "LZ4 frame does not decompress");
    b[pk0 + 8 + 6] ^= 0x5A;
    /* an undeclared stream id */
    b[pk0] = 9;
    expect_refused(fx->core, b, n, EVSNN_EFORMAT, "stream id 9 is not declared");
    b[pk0] = 0;
    /* a packet larger than the server's read buffer */
    a4w_set32(b + pk0 + 4, 5u << 20);
    expect_refused(fx->core, b, pk0 + 8, EVSNN_EFORMAT, "fit the server's 4 MiB read buffer");
    free(b);
    /* a sensor the model cannot take: 50×48 is no integer multiple of 32×24 */
    char xml[2048];
    a4w_xml(xml, sizeof xml, 50, 48, 0);
    a4w_packet pk[1] = {{0, PA, 1, NULL}};
    b = a4w_file(0, xml, pk, 1, 0, &n, NULL);
    expect_refused(fx->core, b, n, EVSNN_ESHAPE, "not an integer multiple");
    free(b);
    /* the event stream's packet holding another type's flatbuffer */
    a4w_xml(xml, sizeof xml, 64, 48, 0);
    a4w_packet pf[1] = {{0, PA, 3, "FRME"}};
    b = a4w_file(1, xml, pf, 1, 0, &n, NULL);
    expect_refused(fx->core, b, n, EVSNN_EFORMAT, "wrong stream type");
    free(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stream_windows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_with_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
