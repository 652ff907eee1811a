/* tests/test_live_frame.c — the framed protocol byte by byte (hand-written bytes from
 * io/LIVE.md, not from the encoder), and a live_session fed without sockets: binning,
 * windows, drop policy, chunking independence, AEDAT 2.0 records. Expected predictions come
 * from hand computation on a 4-2 network whose neuron fires exactly on the steps that
 * carry input (weight 2 > θ = 1, reset to zero). */
#include "tests/testutil.h"

#include "io/live_frame.h"
#include "io/live_server.h"
#include "sim/evsnn.h"
#include "sim/net.h"
#include "tests/test_live_util.h"

static const uint8_t hello_bytes[] = {'E', 'V', 1, 1, 16, 0, 0, 0,  /* header: HELLO, 16 bytes */
                                      34, 0, 34, 0, 2, 0,           /* 34x34, 2 polarities */
                                      0, 0,                         /* kind xy, reserved */
                                      0xA0, 0x0F, 0, 0,             /* dt 4000 µs */
                                      100, 0, 0, 0};                /* 100 steps */

static void test_hello_decode(void **state) {
    (void)state;
    live_frame f;
    assert_int_equal(live_frame_parse(hello_bytes, sizeof hello_bytes, &f), 24);
    assert_int_equal(f.type, LIVE_HELLO);
    assert_int_equal(f.hello.width, 34);
    assert_int_equal(f.hello.height, 34);
    assert_int_equal(f.hello.polarities, 2);
    assert_int_equal(f.hello.kind, LIVE_KIND_XY);
    assert_int_equal(f.hello.dt_us, 4000);
    assert_int_equal(f.hello.steps, 100);
    uint8_t out[24];
    live_hello h = {34, 34, 2, 0, 4000, 100};
    assert_int_equal(live_put_hello(out, &h), 24);
    assert_memory_equal(out, hello_bytes, 24);
}

static void test_batch_decode(void **state) {
    (void)state;
    /* XYP with t0 = 0x0000000504030201 µs and two events:
     *   dt 5, x 3, y 7, ON  → 05 00 00 00 | 03 00 | 07 80
     *   dt 0x010000, x 300, y 0x7FFF, OFF → 00 00 01 00 | 2C 01 | FF 7F */
    static const uint8_t b[] = {'E', 'V', 1, 2, 28, 0, 0, 0, 0x01, 0x02, 0x03, 0x04, 0x05, 0, 0, 0, 2, 0, 0, 0,
                                5,   0,   0, 0, 3,  0, 7, 0x80, 0, 0, 1, 0, 0x2C, 1, 0xFF, 0x7F};
    live_frame f;
    assert_int_equal(live_frame_parse(b, sizeof b, &f), sizeof b);
    assert_int_equal(f.type, LIVE_XYP);
    assert_int_equal(f.count, 2);
    uint64_t t;
    uint32_t x, y, p;
    live_frame_event(&f, 0, &t, &x, &y, &p);
    assert_true(t == 0x0504030201ull + 5);
    assert_int_equal(x, 3);
    assert_int_equal(y, 7);
    assert_int_equal(p, 1);
    live_frame_event(&f, 1, &t, &x, &y, &p);
    assert_true(t == 0x0504030201ull + 65536);
    assert_int_equal(x, 300);
    assert_int_equal(y, 0x7FFF);
    assert_int_equal(p, 0);
    uint8_t out[sizeof b];
    live_put_batch_hdr(out, LIVE_XYP, 0x0504030201ull, 2);
    live_put_xyp(out + 20, 5, 3, 7, 1);
    live_put_xyp(out + 28, 65536, 300, 0x7FFF, 0);
    assert_memory_equal(out, b, sizeof b);
    /* every strict prefix asks for more bytes */
    for (size_t k = 0; k < sizeof b; k++) assert_int_equal(live_frame_parse(b, k, &f), 0);
    /* UNIT: dt 1, unit 0x00010203 */
    static const uint8_t u[] = {'E', 'V', 1, 3, 20, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 3, 2, 1, 0};
    assert_int_equal(live_frame_parse(u, sizeof u, &f), sizeof u);
    live_frame_event(&f, 0, &t, &x, &y, &p);
    assert_true(t == 10);
    assert_int_equal(x, 0x010203);
}

static void test_window_flush_bye(void **state) {
    (void)state;
    static const uint8_t w[] = {'E', 'V', 1, 4, 12, 0, 0, 0, 0x10, 0x27, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0};
    live_frame f;
    assert_int_equal(live_frame_parse(w, sizeof w, &f), 20);
    assert_int_equal(f.type, LIVE_WINDOW);
    assert_true(f.t0 == 10000);
    assert_int_equal(f.count, 42);
    uint8_t out[20];
    assert_int_equal(live_put_window(out, 10000, 42), 20);
    assert_memory_equal(out, w, 20);
    static const uint8_t fl[] = {'E', 'V', 1, 5, 0, 0, 0, 0}, by[] = {'E', 'V', 1, 6, 0, 0, 0, 0};
    assert_int_equal(live_frame_parse(fl, 8, &f), 8);
    assert_int_equal(f.type, LIVE_FLUSH);
    assert_int_equal(live_frame_parse(by, 8, &f), 8);
    assert_int_equal(f.type, LIVE_BYE);
}

static void test_malformed(void **state) {
    (void)state;
    live_frame f;
    uint8_t b[32];
    memcpy(b, hello_bytes, 24);
    b[0] = 'G'; /* "GET / HTTP..." to the stream port: refused after one byte */
    assert_int_equal(live_frame_parse(b, 1, &f), EVSNN_EFORMAT);
    assert_non_null(strstr(evsnn_errmsg(), "byte 0"));
    memcpy(b, hello_bytes, 24);
    b[2] = 2;
    assert_int_equal(live_frame_parse(b, 3, &f), EVSNN_EVERSION);
    memcpy(b, hello_bytes, 24);
    b[3] = 9;
    assert_int_equal(live_frame_parse(b, 4, &f), EVSNN_EFORMAT);
    memcpy(b, hello_bytes, 24);
    b[4] = 15;
    assert_int_equal(live_frame_parse(b, 24, &f), EVSNN_EFORMAT);
    memcpy(b, hello_bytes, 24);
    b[15] = 1; /* reserved */
    assert_int_equal(live_frame_parse(b, 24, &f), EVSNN_EFORMAT);
    memcpy(b, hello_bytes, 24);
    b[8] = b[9] = 0; /* width 0 */
    assert_int_equal(live_frame_parse(b, 24, &f), EVSNN_EFORMAT);
    /* batch whose count says 3 events in 1 event's bytes */
    static const uint8_t c[] = {'E', 'V', 1, 2, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(live_frame_parse(c, sizeof c, &f), EVSNN_EFORMAT);
    assert_non_null(strstr(evsnn_errmsg(), "count 3"));
    /* payload over the limit is refused from the header alone */
    static const uint8_t big[] = {'E', 'V', 1, 2, 0x0C, 0, 0x10, 0};
    assert_int_equal(live_frame_parse(big, 8, &f), EVSNN_EFORMAT);
    /* payload not 12 + 8k */
    static const uint8_t odd[] = {'E', 'V', 1, 2, 13, 0, 0, 0};
    assert_int_equal(live_frame_parse(odd, 8, &f), EVSNN_EFORMAT);
}

/* ---- sessions ---- */

/* 4 inputs → 2 outputs: input 0 and 2 drive output 0 with weight 2, inputs 1 and 3 output 1;
 * reset to zero, no bias: an output spikes exactly on the steps where its inputs had events. */
static net *tiny_net(void) {
    neuron_cfg cfg = net_default_neuron();
    cfg.reset = RESET_ZERO;
    cfg.bias = 0;
    net_opts o = {.cfg = &cfg, .n_cfg = 1};
    int err;
    net *n = net_build("4-2", 4, 1, 1, &o, &err);
    assert_non_null(n);
    float *w = n->layers[0].w; /* [n_in, n_out] */
    memset(w, 0, 8 * sizeof *w);
    w[0 * 2 + 0] = 2;
    w[2 * 2 + 0] = 2;
    w[1 * 2 + 1] = 2;
    w[3 * 2 + 1] = 2;
    return n;
}

typedef struct {
    net *n;
    live_core *core;
} fixture;

static int setup(void **state) {
    fixture *fx = calloc(1, sizeof *fx);
    fx->n = tiny_net();
    live_core_opts o = {.steps = 10, .dt_us = 1000, .window_cap = 64};
    int err;
    fx->core = live_core_create(fx->n, &o, &err);
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

/* Stream bytes: HELLO unit×4 (dt 1000 from the HELLO), WINDOW at 5000 tag 9, then units:
 *   t 5000 u0, 5999 u2 (same step 0 → one spike of output 0), 6000 u0 (step 1), 7500 u1
 *   (step 2, output 1), 4999 u0 (before the window: late), 15000 u3 (step 10: outside),
 *   9000 u7 (unit 7 ≥ 4: range), then FLUSH.
 * Expected: counts [2, 1], events 4, dropped 3. */
static size_t build_stream(uint8_t *b) {
    size_t k = 0;
    live_hello h = {.width = 4, .height = 1, .polarities = 1, .kind = LIVE_KIND_UNIT, .dt_us = 1000};
    k += live_put_hello(b + k, &h);
    k += live_put_window(b + k, 5000, 9);
    static const uint32_t t[] = {5000, 5999, 6000, 7500, 4999, 15000, 9000}, u[] = {0, 2, 0, 1, 0, 3, 7};
    k += live_put_batch_hdr(b + k, LIVE_UNIT, 4000, 7);
    for (int i = 0; i < 7; i++, k += 8) live_put_unit(b + k, t[i] - 4000, u[i]);
    k += live_put_empty(b + k, LIVE_FLUSH);
    return k;
}


static void test_session_window(void **state) {
    fixture *fx = *state;
    uint8_t b[512];
    size_t n = build_stream(b);
    tl_sink out = {0};
    live_session *s = live_session_create(fx->core, tl_sink_emit, &out, NULL);
    size_t used;
    assert_int_equal(live_session_feed(s, b, n, &used, 1), 0);
    assert_int_equal(used, n);
    assert_int_equal(out.lines, 1);
    assert_non_null(strstr(out.text, "\"tag\":9,\"class\":0,\"counts\":[2,1],\"events\":4,\"dropped\":3,\"t_start_us\":5000"));
    live_metrics *m = live_core_metrics(fx->core);
    assert_int_equal(m->dropped[LIVE_DROP_LATE], 1);
    assert_int_equal(m->dropped[LIVE_DROP_OUTSIDE], 1);
    assert_int_equal(m->dropped[LIVE_DROP_RANGE], 1);
    assert_int_equal(m->events_in, 7);

    /* The same bytes one at a time give the same line (chunking does not matter). */
    tl_sink out1 = {0};
    live_session *s1 = live_session_create(fx->core, tl_sink_emit, &out1, NULL);
    size_t pending = 0;
    uint8_t acc[512];
    for (size_t i = 0; i < n; i++) {
        acc[pending++] = b[i];
        if (pending < live_session_need(s1) && pending < 1) continue;
        assert_int_equal(live_session_feed(s1, acc, pending, &used, 1), 0);
        memmove(acc, acc + used, pending - used);
        pending -= used;
    }
    assert_int_equal(pending, 0);
    tl_strip_latency(out.text);
    tl_strip_latency(out1.text);
    assert_string_equal(out.text, out1.text);
    live_session_free(s);
    live_session_free(s1);
}

/* Without WINDOW frames windows tumble from the first event: T·dt = 10 ms. */
static void test_session_tumbling_and_cap(void **state) {
    fixture *fx = *state;
    uint8_t b[4096];
    size_t k = 0;
    live_hello h = {.width = 4, .height = 1, .polarities = 1, .kind = LIVE_KIND_UNIT, .dt_us = 0 /* server's 1000 */};
    k += live_put_hello(b + k, &h);
    /* events at 100, 2100 (window [100, 10100)); 25100 (window [20100, 30100), the empty
     * one between is skipped); then 70 events at 30100 (window 3) against a cap of 64. */
    k += live_put_batch_hdr(b + k, LIVE_UNIT, 0, 73);
    live_put_unit(b + k, 100, 0), k += 8;
    live_put_unit(b + k, 2100, 1), k += 8;
    live_put_unit(b + k, 25100, 0), k += 8;
    for (int i = 0; i < 70; i++, k += 8) live_put_unit(b + k, 30100, 3);
    k += live_put_empty(b + k, LIVE_BYE);
    tl_sink out = {0};
    live_session *s = live_session_create(fx->core, tl_sink_emit, &out, NULL);
    size_t used;
    assert_int_equal(live_session_feed(s, b, k, &used, 1), 1); /* BYE */
    assert_int_equal(out.lines, 3);
    assert_non_null(strstr(out.text, "{\"window\":0,\"tag\":0,\"class\":0,\"counts\":[1,1],\"events\":2,\"dropped\":0,\"t_start_us\":100,"));
    assert_non_null(strstr(out.text, "{\"window\":1,\"tag\":1,\"class\":0,\"counts\":[1,0],\"events\":1,\"dropped\":0,\"t_start_us\":20100,"));
    assert_non_null(strstr(out.text, "{\"window\":2,\"tag\":2,\"class\":1,\"counts\":[0,1],\"events\":64,\"dropped\":6,\"t_start_us\":30100,"));
    live_session_free(s);
}

static void test_session_errors(void **state) {
    fixture *fx = *state;
    tl_sink out = {0};
    uint8_t b[256];
    size_t used, k = live_put_batch_hdr(b, LIVE_UNIT, 0, 1);
    live_put_unit(b + k, 0, 0);
    live_session *s = live_session_create(fx->core, tl_sink_emit, &out, NULL);
    assert_int_equal(live_session_feed(s, b, k + 8, &used, 1), EVSNN_EFORMAT);
    assert_non_null(strstr(evsnn_errmsg(), "before HELLO"));
    live_session_free(s);
    /* steps that disagree with the server's */
    live_hello h = {.width = 4, .height = 1, .polarities = 1, .kind = LIVE_KIND_UNIT, .steps = 11};
    k = live_put_hello(b, &h);
    s = live_session_create(fx->core, tl_sink_emit, &out, NULL);
    assert_int_equal(live_session_feed(s, b, k, &used, 1), EVSNN_ESHAPE);
    live_session_free(s);
    /* xy geometry that does not flatten to the 4 inputs */
    live_hello g = {.width = 3, .height = 1, .polarities = 2, .kind = LIVE_KIND_XY};
    k = live_put_hello(b, &g);
    s = live_session_create(fx->core, tl_sink_emit, &out, NULL);
    assert_int_equal(live_session_feed(s, b, k, &used, 1), EVSNN_ESHAPE);
    live_session_free(s);
    /* 2x1 sensor with 2 polarities = 4 channels: p·2 + x. (x 1, ON) → channel 3 → output 1 */
    live_hello g2 = {.width = 2, .height = 1, .polarities = 2, .kind = LIVE_KIND_XY};
    k = live_put_hello(b, &g2);
    k += live_put_batch_hdr(b + k, LIVE_XYP, 0, 1);
    live_put_xyp(b + k, 0, 1, 0, 1), k += 8;
    k += live_put_empty(b + k, LIVE_FLUSH);
    tl_sink o2 = {0};
    s = live_session_create(fx->core, tl_sink_emit, &o2, NULL);
    assert_int_equal(live_session_feed(s, b, k, &used, 1), 0);
    assert_non_null(strstr(o2.text, "\"counts\":[0,1]"));
    live_session_free(s);
}

/* AEDAT 2.0: header lines, then 8-byte big-endian (address, timestamp) records. DVS128
 * address: bit 0 polarity (0 = ON), x = 127 − ((a >> 1) & 0x7F), y = (a >> 8) & 0x7F,
 * bit 15 special. A 4-2 model cannot take 128×128, so this uses a 2x64x64 → 2 model
 * (x, y halved): check counts of decoded events through the result line. */
static void test_session_aedat(void **state) {
    (void)state;
    int err;
    neuron_cfg cfg = net_default_neuron();
    cfg.reset = RESET_ZERO;
    cfg.bias = 0;
    net_opts o = {.cfg = &cfg, .n_cfg = 1};
    net *n = net_build("8192-2", 2, 64, 64, &o, &err);
    assert_non_null(n);
    float *w = n->layers[0].w;
    memset(w, 0, n->layers[0].n_w * sizeof *w);
    /* model pixel (c 1 = ON, y 4, x 2) → output 1; (c 0, y 0, x 63) → output 0 */
    w[(1 * 64 * 64 + 4 * 64 + 2) * 2 + 1] = 2;
    w[(0 * 64 * 64 + 0 * 64 + 63) * 2 + 0] = 2;
    live_core_opts co = {.steps = 10, .dt_us = 1000};
    live_core *core = live_core_create(n, &co, &err);
    assert_non_null(core);
    uint8_t b[256];
    size_t k = 0;
    const char *hdr = "#!AER-DAT2.0\r\n# This is a raw AE data file\r\n#End Of ASCII Header\r\n";
    memcpy(b, hdr, strlen(hdr));
    k = strlen(hdr);
    /* sensor (x 5, y 9, ON) → model (2, 4, c 1): a = (9 << 8) | ((127 - 5) << 1) | 0
     * sensor (x 127, y 1, OFF) → model (63, 0, c 0): a = (1 << 8) | (0 << 1) | 1
     * a special event (bit 15) in between, skipped; timestamps wrap through 2^32. */
    uint32_t recs[][2] = {{(9u << 8) | (122u << 1), 0xFFFFFF00u},
                          {0x8000u, 0xFFFFFF10u},
                          {(1u << 8) | 1u, 0x00000010u /* +272 µs after the wrap */},
                          {(9u << 8) | (122u << 1), 0x00000400u /* step 1 */}};
    for (int r = 0; r < 4; r++)
        for (int j = 0; j < 2; j++, k += 4) {
            b[k] = (uint8_t)(recs[r][j] >> 24);
            b[k + 1] = (uint8_t)(recs[r][j] >> 16);
            b[k + 2] = (uint8_t)(recs[r][j] >> 8);
            b[k + 3] = (uint8_t)recs[r][j];
        }
    tl_sink out = {0};
    live_session *s = live_session_create(core, tl_sink_emit, &out, NULL);
    size_t used;
    assert_int_equal(live_session_feed(s, b, k, &used, 1), 0);
    assert_int_equal(used, k);
    assert_int_equal(live_session_flush(s, 1), 0);
    assert_non_null(strstr(out.text, "\"counts\":[1,2],\"events\":3,\"dropped\":0"));
    assert_int_equal(live_core_metrics(core)->events_in, 3);
    live_session_free(s);
    /* AEDAT 3.1 is refused with a reason */
    tl_sink o3 = {0};
    s = live_session_create(core, tl_sink_emit, &o3, NULL);
    const char *h3 = "#!AER-DAT3.1\r\n";
    assert_int_equal(live_session_feed(s, (const uint8_t *)h3, strlen(h3), &used, 1), EVSNN_EFORMAT);
    assert_non_null(strstr(evsnn_errmsg(), "AER-DAT2.0"));
    live_session_free(s);
    live_core_free(core);
    net_free(n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello_decode),
        cmocka_unit_test(test_batch_decode),
        cmocka_unit_test(test_window_flush_bye),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test_setup_teardown(test_session_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_tumbling_and_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_errors, setup, teardown),
        cmocka_unit_test(test_session_aedat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
