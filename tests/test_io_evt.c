/* tests/test_io_evt.c — Prophesee RAW recordings in EVT 2.0 and EVT 3.0.
 *
 * No RAW recording is available here, so every file is written by this test in exactly
 * the layout of Prophesee's public documentation (docs.prophesee.ai: "RAW File Format",
 * "EVT 2.0 Format", "EVT 3.0 Format"): a "% key value" text header, then little-endian
 * words whose top 4 bits are the type. EVT 2.0 (32 bits): CD_OFF 0x0 / CD_ON 0x1 with
 * 27..22 time LSBs, 21..11 x, 10..0 y; EVT_TIME_HIGH 0x8 with 27..0 = time bits 33..6;
 * EXT_TRIGGER 0xA; OTHERS 0xE. EVT 3.0 (16 bits): EVT_ADDR_Y 0x0 (10..0 y), EVT_ADDR_X 0x2
 * (11 polarity, 10..0 x), VECT_BASE_X 0x3 (11 polarity, 10..0 x), VECT_12 0x4 / VECT_8 0x5
 * (a bit per pixel from the base, which then advances by 12 / 8), EVT_TIME_LOW 0x6 (time bits
 * 11..0), EVT_TIME_HIGH 0x8 (time bits 23..12), EXT_TRIGGER 0xA, OTHERS 0xE, CONTINUED_12
 * 0xF. Expected events are computed by hand in the comments. */
#include "tests/testutil.h"

#include "io/dataset.h"
#include "io/ds_impl.h"
#include "sim/evsnn.h"

typedef struct {
    uint8_t *b;
    size_t n, cap;
} wbuf;

static void put(wbuf *o, const void *p, size_t n) {
    if (o->n + n > o->cap) {
        o->cap = (o->n + n) * 2 + 64;
        o->b = realloc(o->b, o->cap);
    }
    memcpy(o->b + o->n, p, n);
    o->n += n;
}
static void w16(wbuf *o, uint32_t v) {
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put(o, b, 2);
}
static void w32(wbuf *o, uint32_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(o, b, 4);
}
static uint32_t cd2(uint32_t type, uint32_t ts, uint32_t x, uint32_t y) { return type << 28 | ts << 22 | x << 11 | y; }

static void save(const char *dir, const char *name, const wbuf *o, char *path, size_t cap) {
    snprintf(path, cap, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(o->b, 1, o->n, f), o->n);
    fclose(f);
}

typedef struct {
    int64_t t;
    int x, y, p;
} want_ev;

/* Field by field: ds_event has padding bytes, which memcmp would compare. */
static int same_event(const ds_event *a, const ds_event *b) {
    return a->t == b->t && a->x == b->x && a->y == b->y && a->p == b->p;
}

static void check(dataset *d, const want_ev *w, size_t n) {
    const ds_event *ev;
    size_t m;
    int64_t t0;
    assert_int_equal(ds_raw(d, 0, &ev, &m, &t0, NULL), 0);
    assert_int_equal(m, n);
    assert_true(t0 == w[0].t);
    for (size_t i = 0; i < n; i++) {
        if (ev[i].t != w[i].t || ev[i].x != w[i].x || ev[i].y != w[i].y || ev[i].p != w[i].p)
            fail_msg("event %zu: (%lld, %u, %u, %u), expected (%lld, %d, %d, %d)", i, (long long)ev[i].t, ev[i].x, ev[i].y,
                     ev[i].p, (long long)w[i].t, w[i].x, w[i].y, w[i].p);
    }
}

static void check_streams(dataset *d, uint64_t cd, uint64_t trig, uint64_t outside, uint64_t other, uint64_t no_time) {
    const ds_stream *s;
    size_t n;
    assert_int_equal(ds_streams(d, &s, &n), 0);
    assert_int_equal(n, 5);
    assert_string_equal(s[0].type, "CD");
    assert_true(s[0].used);
    assert_int_equal(s[0].elements, cd);
    assert_int_equal(s[1].elements, trig);
    assert_int_equal(s[2].elements, outside);
    assert_int_equal(s[3].elements, other);
    assert_int_equal(s[4].elements, no_time);
}

static void test_evt2(void **state) {
    (void)state;
    char dir[64], p[128];
    test_tmpdir(dir, sizeof dir);
    wbuf o = {0};
    const char *h = "% date 2024-01-01 00:00:00\n% evt 2.0\n% format EVT2;height=480;width=640\n% geometry 640x480\n% end\n";
    put(&o, h, strlen(h));
    w32(&o, cd2(1, 0, 5, 5));           /* before any time high: no time base, skipped */
    w32(&o, 0x8u << 28 | 100);          /* time high 100 → 100·64 = 6400 µs */
    w32(&o, cd2(1, 3, 100, 200));       /* ON (100, 200) at 6403 */
    w32(&o, cd2(0, 63, 639, 479));      /* OFF (639, 479) at 6463: the sensor's last pixel */
    w32(&o, 0xAu << 28 | 5u << 22 | 1u << 8 | 1); /* trigger id 1, counted */
    w32(&o, cd2(1, 1, 640, 0));         /* x = 640 is outside 640×480: skipped, counted */
    w32(&o, 0x8u << 28 | 101);          /* 6464 */
    w32(&o, cd2(0, 0, 0, 0));           /* OFF (0, 0) at 6464 */
    w32(&o, 0xEu << 28 | 0x123);        /* OTHERS: counted */
    w32(&o, 0x8u << 28 | 0x0FFFFFFF);   /* the last time high before the wrap: (2^28 − 1)·64 */
    w32(&o, cd2(1, 1, 1, 1));           /* ON (1, 1) at (2^28 − 1)·64 + 1 = 17179869121 */
    w32(&o, 0x8u << 28 | 2);            /* wrapped: 2^34 + 2·64 */
    w32(&o, cd2(0, 2, 2, 2));           /* OFF (2, 2) at 2^34 + 130 = 17179869314 */
    save(dir, "rec.raw", &o, p, sizeof p);
    int err;
    dataset *d = ds_open(p, NULL, &err);
    if (!d) fail_msg("%s", evsnn_errmsg());
    assert_string_equal(ds_format_name(d), "evt2");
    ds_geometry g;
    ds_sensor(d, &g);
    assert_int_equal(g.width, 640);
    assert_int_equal(g.height, 480);
    want_ev w[] = {{6403, 100, 200, 1}, {6463, 639, 479, 0}, {6464, 0, 0, 0}, {17179869121, 1, 1, 1}, {17179869314, 2, 2, 0}};
    check(d, w, 5);
    check_streams(d, 5, 1, 1, 1, 1);
    ds_free(d);
    /* the same words from memory */
    size_t hl;
    int ver;
    uint32_t ww, hh;
    assert_int_equal(ds_dec_evt_header(o.b, o.n, "mem", &hl, &ver, &ww, &hh), 0);
    assert_int_equal(hl, strlen(h));
    assert_int_equal(ver, 2);
    ds_evt_state s = {.version = 2, .width = 640, .height = 480};
    ds_evbuf b = {0};
    assert_int_equal(ds_dec_evt(o.b + hl, o.n - hl, hl, "mem", &s, INT64_MIN, INT64_MAX, &b), 0);
    assert_int_equal(b.n, 5);
    ds_evbuf_free(&b);
    /* a cut word at the end: named by its file offset */
    put(&o, "\x01\x02\x03", 3);
    save(dir, "cut.raw", &o, p, sizeof p);
    d = ds_open(p, NULL, &err);
    assert_non_null(d);
    const ds_event *ev;
    size_t m;
    assert_int_equal(ds_raw(d, 0, &ev, &m, NULL, NULL), EVSNN_EFORMAT);
    char want[96];
    snprintf(want, sizeof want, "offset %zu: truncated 4-byte EVT 2.0 word", o.n - 3);
    assert_non_null(strstr(evsnn_errmsg(), want));
    ds_free(d);
    free(o.b);
    test_rmdir(dir);
}

static void evt3_words(wbuf *o) {
    w16(o, 0x3u << 12 | 5);             /* VECT_BASE_X before any time high: skipped */
    w16(o, 0x8u << 12 | 7);             /* time high 7 → 7·4096 = 28672 */
    w16(o, 0x0u << 12 | 10);            /* y = 10 */
    w16(o, 0x6u << 12 | 5);             /* time low 5 → 28677 */
    w16(o, 0x2u << 12 | 1u << 11 | 3);  /* ON (3, 10) */
    w16(o, 0x3u << 12 | 100);           /* vector base x 100, OFF */
    w16(o, 0x4u << 12 | 0x805);         /* VECT_12 bits 0, 2, 11 → x 100, 102, 111; base → 112 */
    w16(o, 0x5u << 12 | 0x81);          /* VECT_8 bits 0, 7 → x 112, 119; base → 120 */
    w16(o, 0xAu << 12 | 2u << 8 | 1);   /* trigger: counted */
    w16(o, 0xEu << 12 | 0x014);         /* OTHERS + CONTINUED_12: counted */
    w16(o, 0xFu << 12 | 0x123);
    w16(o, 0x8u << 12 | 7);             /* the same time high: the low bits stay, 28677 */
    w16(o, 0x2u << 12 | 4);             /* OFF (4, 10) */
    w16(o, 0x8u << 12 | 8);             /* a new time high resets the low bits: 32768 */
    w16(o, 0x2u << 12 | 1u << 11 | 5);  /* ON (5, 10) */
    w16(o, 0x0u << 12 | 719);           /* y = 719, the last row */
    w16(o, 0x2u << 12 | 1300);          /* x 1300 outside 1280×720: skipped, counted */
    w16(o, 0x8u << 12 | 4095);          /* 4095·4096 */
    w16(o, 0x6u << 12 | 4095);          /* 16777215 = 2^24 − 1 */
    w16(o, 0x2u << 12 | 6);             /* OFF (6, 719) */
    w16(o, 0x8u << 12 | 1);             /* the 24-bit time wrapped: 2^24 + 4096 = 16781312 */
    w16(o, 0x2u << 12 | 1u << 11 | 7);  /* ON (7, 719) */
}

static const want_ev EVT3_WANT[] = {{28677, 3, 10, 1},   {28677, 100, 10, 0}, {28677, 102, 10, 0}, {28677, 111, 10, 0},
                                     {28677, 112, 10, 0}, {28677, 119, 10, 0}, {28677, 4, 10, 0},   {32768, 5, 10, 1},
                                     {16777215, 6, 719, 0}, {16781312, 7, 719, 1}};

static void test_evt3(void **state) {
    (void)state;
    char dir[64], p[128];
    test_tmpdir(dir, sizeof dir);
    /* the header of the documentation's EVK4 example, closed by "% end" */
    wbuf o = {0};
    const char *h = "% camera_integrator_name Prophesee\n% date 2023-03-29 16:37:46\n% evt 3.0\n"
                    "% format EVT3;height=720;width=1280\n% generation 4.2\n% geometry 1280x720\n% end\n";
    put(&o, h, strlen(h));
    evt3_words(&o);
    save(dir, "rec.raw", &o, p, sizeof p);
    int err;
    dataset *d = ds_open(p, NULL, &err);
    if (!d) fail_msg("%s", evsnn_errmsg());
    assert_string_equal(ds_format_name(d), "evt3");
    ds_geometry g;
    ds_sensor(d, &g);
    assert_int_equal(g.width, 1280);
    assert_int_equal(g.height, 720);
    check(d, EVT3_WANT, 10);
    check_streams(d, 10, 1, 1, 2, 1);
    ds_free(d);
    /* an older header: no "% end", only "% evt" and "% geometry"; data starts at the first
     * line that does not begin with "% " */
    wbuf o2 = {0};
    const char *h2 = "% evt 3.0\n% geometry 1280x720\n";
    put(&o2, h2, strlen(h2));
    evt3_words(&o2);
    save(dir, "old.raw", &o2, p, sizeof p);
    d = ds_open(p, NULL, &err);
    if (!d) fail_msg("%s", evsnn_errmsg());
    check(d, EVT3_WANT, 10);
    ds_free(d);
    free(o.b), free(o2.b);
    test_rmdir(dir);
}

/* A generated EVT 3.0 stream of several 1 MiB chunks: every µs a time low, rows of 8-pixel
 * vectors; the whole-file sample from chunked reads equals one in-memory decode, and label
 * slices (decoded from the checkpoint before their start) equal the whole decode filtered
 * to [start, end). */
static void test_evt3_chunks_and_labels(void **state) {
    (void)state;
    char dir[64], p[128], csv[160];
    test_tmpdir(dir, sizeof dir);
    wbuf o = {0};
    const char *h = "% evt 3.0\n% format EVT3;height=720;width=1280\n% end\n";
    put(&o, h, strlen(h));
    size_t written = 0;
    for (uint32_t t = 0; t < 300000; t++) {
        if (t % 4096 == 0) w16(&o, 0x8u << 12 | ((t >> 12) & 0xFFF));
        w16(&o, 0x6u << 12 | (t & 0xFFF));
        w16(&o, 0x0u << 12 | (t % 720));
        w16(&o, 0x3u << 12 | (t & 1) << 11 | (t % 1000));
        w16(&o, 0x5u << 12 | 0x0F);
        written += 4;
    }
    assert_true(o.n > 2 * (1u << 20)); /* several chunks */
    save(dir, "big.raw", &o, p, sizeof p);
    int err;
    dataset *d = ds_open(p, NULL, &err);
    if (!d) fail_msg("%s", evsnn_errmsg());
    const ds_event *ev;
    size_t m;
    assert_int_equal(ds_raw(d, 0, &ev, &m, NULL, NULL), 0);
    assert_int_equal(m, written);
    ds_evbuf all = {0};
    ds_evt_state s = {.version = 3, .width = 1280, .height = 720};
    assert_int_equal(ds_dec_evt(o.b + strlen(h), o.n - strlen(h), strlen(h), "mem", &s, INT64_MIN, INT64_MAX, &all), 0);
    assert_int_equal(all.n, m);
    for (size_t i = 0; i < m; i++) assert_true(same_event(&all.ev[i], &ev[i]));
    ds_free(d);
    snprintf(csv, sizeof csv, "%s/big_labels.csv", dir);
    FILE *f = fopen(csv, "w");
    fputs("class,startTime_usec,endTime_usec\n1,10,20\n2,150000,151000\n3,299990,400000\n", f);
    fclose(f);
    d = ds_open(p, NULL, &err);
    if (!d) fail_msg("%s", evsnn_errmsg());
    assert_int_equal(ds_len(d), 3);
    int64_t lo[] = {10, 150000, 299990}, hi[] = {20, 151000, 400000};
    for (uint32_t k = 0; k < 3; k++) {
        int64_t t0;
        int label;
        assert_int_equal(ds_raw(d, k, &ev, &m, &t0, &label), 0);
        assert_int_equal(label, (int)k);
        assert_true(t0 == lo[k]);
        size_t j = 0;
        for (size_t i = 0; i < all.n; i++)
            if (all.ev[i].t >= lo[k] && all.ev[i].t < hi[k]) {
                assert_true(j < m);
                assert_true(same_event(&ev[j], &all.ev[i]));
                j++;
            }
        assert_int_equal(j, m);
        assert_int_equal(m, (size_t)(hi[k] < 300000 ? hi[k] - lo[k] : 300000 - lo[k]) * 4);
    }
    ds_evbuf_free(&all);
    ds_free(d);
    free(o.b);
    test_rmdir(dir);
}

static void expect_open_error(const char *hdr, int code, const char *what) {
    char dir[64], p[128];
    test_tmpdir(dir, sizeof dir);
    wbuf o = {0};
    put(&o, hdr, strlen(hdr));
    w16(&o, 0x8000), w16(&o, 0x0000);
    save(dir, "bad.raw", &o, p, sizeof p);
    int err = 0;
    dataset *d = ds_open(p, NULL, &err);
    assert_null(d);
    if (err != code || !strstr(evsnn_errmsg(), what)) fail_msg("expected %d '%s', got %d: %s", code, what, err, evsnn_errmsg());
    free(o.b);
    test_rmdir(dir);
}

static void test_header_errors(void **state) {
    (void)state;
    expect_open_error("% Data file containing CD events\n% Version 2\n% Width 640\n% Height 480\n", EVSNN_EFORMAT, "DAT file?");
    expect_open_error("% evt 2.1\n% geometry 640x480\n% end\n", EVSNN_ENOTSUP, "only EVT 2.0 and 3.0");
    expect_open_error("% format EVT21;height=720;width=1280\n% end\n", EVSNN_ENOTSUP, "only EVT2 and EVT3");
    expect_open_error("% format EVT3;endianness=big;height=720;width=1280\n% end\n", EVSNN_ENOTSUP, "big-endian");
    expect_open_error("% evt 3.0\n% end\n", EVSNN_EFORMAT, "sensor 0x0");
    expect_open_error("% evt 3.0\n% geometry 1280by720\n% end\n", EVSNN_EFORMAT, "expected WIDTHxHEIGHT");
    expect_open_error("% evt 2.0\n% format EVT3;height=720;width=1280\n% end\n", EVSNN_EFORMAT, "says EVT 2.0");
    expect_open_error("% evt 3.0\n% geometry 4096x720\n% end\n", EVSNN_EFORMAT, "1..2048");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_evt2),
        cmocka_unit_test(test_evt3),
        cmocka_unit_test(test_evt3_chunks_and_labels),
        cmocka_unit_test(test_header_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
