/* tests/test_io_aedat4.c — AEDAT 4.0 (iniVation DV) recordings.
 *
 * The real DVXplorer recording ../shared/datasets/aedat4-sample/tonic_sample.aedat4
 * (SOURCE.md: LZ4, stream 0 EVTS 320×240, IMUS, TRIG): the decoder's event count must be
 * the one the file's own data table states, summed here by a separate walk of that table
 * written in this test (LZ4F from liblz4, flatbuffer offsets followed without the decoder),
 * and 111,954, the figure an independent Python decoder (struct + the lz4 command-line tool,
 * packet by packet) gave, together with the first event (t 1605537493718345 µs, x 154,
 * y 204, OFF), the last event time (1605537494308262), 12,730 events in the first 100 ms,
 * 55,023 ON events and the label slices below. Generated files (tests/aedat4_write.h,
 * written by hand in the published layout) cover the compressions, the data table's absence,
 * labels and every corruption the decoder must name. */
#include "tests/testutil.h"

#include <lz4frame.h>

#include "io/aedat4.h"
#include "io/dataset.h"
#include "io/ds_impl.h"
#include "sim/evsnn.h"
#include "tests/aedat4_write.h"

#define REAL "../shared/datasets/aedat4-sample/tonic_sample.aedat4"

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* Offset of field k of the table at t inside flatbuffer b, 0 when absent (no checks: the
 * real file is trusted here; the asserts keep the walk inside the buffer). */
static size_t field_at(const uint8_t *b, size_t n, size_t t, unsigned k) {
    size_t vt = (size_t)((int64_t)t - (int32_t)rd32(b + t));
    assert_true(vt + 4 <= n);
    unsigned vs = (unsigned)(b[vt] | b[vt + 1] << 8);
    if (4 + 2 * k + 2 > vs) return 0;
    unsigned fo = (unsigned)(b[vt + 4 + 2 * k] | b[vt + 5 + 2 * k] << 8);
    return fo ? t + fo : 0;
}

/* The real file's data table, walked here: Σ NumElements of stream 0 packets, the stream
 * 2 (IMU) count, and the number of entries. */
static void real_table_counts(const uint8_t *f, size_t n, int64_t *ev, int64_t *imu, uint32_t *entries) {
    uint32_t hl = rd32(f + 14);
    const uint8_t *h = f + 18;
    size_t root = rd32(h), tp_at = field_at(h, hl, root, 1);
    assert_true(tp_at != 0);
    uint64_t tp = rd64(h + tp_at);
    assert_true(tp < n);
    LZ4F_dctx *dc;
    assert_false(LZ4F_isError(LZ4F_createDecompressionContext(&dc, LZ4F_VERSION)));
    size_t cap = 1 << 20, dn = cap, sn = n - tp;
    uint8_t *out = malloc(cap);
    assert_int_equal(LZ4F_decompress(dc, out, &dn, f + tp, &sn, NULL), 0); /* the whole frame */
    LZ4F_freeDecompressionContext(dc);
    const uint8_t *b = out + 4;
    size_t bn = rd32(out);
    assert_true(bn + 4 <= dn);
    assert_memory_equal(b + 4, "FTAB", 4);
    size_t t = rd32(b), vat = field_at(b, bn, t, 0);
    size_t v = vat + rd32(b + vat);
    *entries = rd32(b + v);
    *ev = *imu = 0;
    for (uint32_t i = 0; i < *entries; i++) {
        size_t ep = v + 4 + 4 * (size_t)i, e = ep + rd32(b + ep);
        size_t info = field_at(b, bn, e, 1), num = field_at(b, bn, e, 2);
        int32_t sid = info ? (int32_t)rd32(b + info) : 0;
        int64_t k = num ? (int64_t)rd64(b + num) : 0;
        if (sid == 0) *ev += k;
        if (sid == 2) *imu += k;
    }
    free(out);
}

static dataset *open_ok(const char *path, const ds_opts *o) {
    int err = 0;
    dataset *d = ds_open(path, o, &err);
    if (!d) fail_msg("ds_open(%s): %s", path, evsnn_errmsg());
    return d;
}

static void test_real_count_and_sensor(void **state) {
    (void)state;
    REQUIRE_SHARED(REAL);
    uint8_t *f;
    size_t fn;
    assert_int_equal(ds_read_file(REAL, &f, &fn), 0);
    assert_int_equal(fn, 949253); /* SOURCE.md */
    int64_t tab_ev, tab_imu;
    uint32_t entries;
    real_table_counts(f, fn, &tab_ev, &tab_imu, &entries);
    assert_int_equal(tab_ev, 111954);
    assert_int_equal(entries, 118);
    dataset *d = open_ok(REAL, NULL);
    assert_string_equal(ds_format_name(d), "aedat4");
    ds_geometry g;
    ds_sensor(d, &g);
    assert_int_equal(g.width, 320);
    assert_int_equal(g.height, 240);
    assert_int_equal(g.polarities, 2);
    assert_int_equal(ds_len(d), 1);
    const ds_event *ev;
    size_t n;
    int64_t t0;
    int label;
    assert_int_equal(ds_raw(d, 0, &ev, &n, &t0, &label), 0);
    assert_int_equal((int64_t)n, tab_ev); /* what the file's own data table states */
    assert_int_equal(label, -1);
    assert_true(t0 == 1605537493718345);
    assert_true(ev[0].t == 1605537493718345);
    assert_int_equal(ev[0].x, 154);
    assert_int_equal(ev[0].y, 204);
    assert_int_equal(ev[0].p, 0);
    assert_true(ev[n - 1].t == 1605537494308262);
    size_t on = 0, first100 = 0;
    for (size_t i = 0; i < n; i++) {
        on += ev[i].p;
        first100 += ev[i].t < t0 + 100000;
        assert_true(ev[i].x < 320 && ev[i].y < 240);
    }
    assert_int_equal(on, 55023);
    /* streams: events decoded; IMU skipped and counted from the table; TRIG declared, no packets */
    const ds_stream *st;
    size_t ns;
    assert_int_equal(ds_streams(d, &st, &ns), 0);
    assert_int_equal(ns, 3);
    assert_string_equal(st[0].type, "EVTS");
    assert_int_equal(st[0].packets, 59);
    assert_int_equal(st[0].elements, 111954);
    assert_true(st[0].used);
    assert_string_equal(st[1].type, "IMUS");
    assert_int_equal(st[1].id, 2);
    assert_int_equal(st[1].packets, 59);
    assert_int_equal(st[1].elements, tab_imu);
    assert_false(st[1].used);
    assert_string_equal(st[2].type, "TRIG");
    assert_int_equal(st[2].packets, 0);
    /* default transform: 1 ms × 100 steps from the first event, 2×240×320 */
    ds_sample s = {0};
    assert_int_equal(ds_get(d, 0, &s), 0);
    uint32_t c, h, w;
    ds_shape(d, &c, &h, &w);
    assert_int_equal(c * h * w, 2 * 240 * 320);
    double sum = 0;
    for (uint32_t k = 0; k < s.train.nnz; k++) sum += s.train.val ? s.train.val[k] : 1;
    assert_true(sum == (double)first100);
    assert_int_equal(first100, 12730);
    ds_sample_deinit(&s);
    ds_free(d);
    /* --downsample 10 sums 10×10 pixels: 2×24×32, the same 12,730 events in the first 100
     * steps; --denoise-us can only remove events */
    ds_opts o;
    ds_opts_default(&o);
    o.ds_factor = 10;
    d = open_ok(REAL, &o);
    ds_shape(d, &c, &h, &w);
    assert_int_equal(c, 2);
    assert_int_equal(h, 24);
    assert_int_equal(w, 32);
    assert_int_equal(ds_get(d, 0, &s), 0);
    sum = 0;
    for (uint32_t k = 0; k < s.train.nnz; k++) sum += s.train.val ? s.train.val[k] : 1;
    assert_true(sum == 12730);
    ds_free(d);
    o.denoise_us = 1000;
    d = open_ok(REAL, &o);
    assert_int_equal(ds_get(d, 0, &s), 0);
    double dsum = 0;
    for (uint32_t k = 0; k < s.train.nnz; k++) dsum += s.train.val ? s.train.val[k] : 1;
    assert_true(dsum > 0 && dsum < 12730);
    ds_sample_deinit(&s);
    ds_free(d);
    /* the from-memory decoder (the fuzzed one) agrees */
    ds_evbuf b = {0};
    assert_int_equal(ds_dec_aedat4(f, fn, "mem", &b, &g), 0);
    assert_int_equal(b.n, 111954);
    assert_int_equal(g.width, 320);
    ds_evbuf_free(&b);
    free(f);
}

/* A side labels CSV slices the real recording through its data table: counts from the
 * independent Python decoder (events with start <= t < end). */
static void test_real_labels(void **state) {
    (void)state;
    REQUIRE_SHARED(REAL);
    char dir[64], p[128], abs[4096];
    test_tmpdir(dir, sizeof dir);
    assert_non_null(realpath(REAL, abs));
    snprintf(p, sizeof p, "%s/rec.aedat4", dir);
    assert_int_equal(symlink(abs, p), 0);
    char csv[160];
    snprintf(csv, sizeof csv, "%s/rec_labels.csv", dir);
    FILE *f = fopen(csv, "w");
    fputs("class,startTime_usec,endTime_usec\n1,1605537493800000,1605537493900000\n3,1605537494000000,1605537494250000\n", f);
    fclose(f);
    dataset *d = open_ok(p, NULL);
    assert_int_equal(ds_len(d), 2);
    assert_int_equal(ds_n_classes(d), 3);
    const ds_event *ev;
    size_t n;
    int64_t t0;
    int label;
    assert_int_equal(ds_raw(d, 0, &ev, &n, &t0, &label), 0);
    assert_int_equal(n, 21146);
    assert_int_equal(label, 0);
    assert_true(t0 == 1605537493800000);
    assert_true(ev[0].t == 1605537493800000 && ev[0].x == 189 && ev[0].y == 104);
    assert_int_equal(ds_raw(d, 1, &ev, &n, &t0, &label), 0);
    assert_int_equal(n, 42713);
    assert_int_equal(label, 2);
    assert_true(ev[0].t == 1605537494000012 && ev[0].x == 243 && ev[0].y == 76);
    ds_free(d);
    /* a folder of recordings: the same two samples */
    d = open_ok(dir, NULL);
    assert_string_equal(ds_format_name(d), "aedat4");
    assert_int_equal(ds_len(d), 2);
    ds_free(d);
    test_rmdir(dir);
}

/* ---------------------------------------------------------------- generated files */

/* 3 event packets on a 64×48 sensor (and an IMU packet between, when imu) */
static const a4w_event EV1[] = {{1000, 0, 0, 1}, {1500, 63, 47, 0}, {2999, 10, 20, 1}};
static const a4w_event EV2[] = {{3000, 5, 6, 0}, {4000, 7, 8, 1}};
static const a4w_event EV3[] = {{10000, 1, 2, 1}};

static uint8_t *gen(int comp, int table, int imu, size_t *len, size_t *off) {
    char xml[2048];
    a4w_xml(xml, sizeof xml, 64, 48, imu);
    a4w_packet pk[4] = {{0, EV1, 3, NULL}, {2, EV2, 2, "IMUS"}, {0, EV2, 2, NULL}, {0, EV3, 1, NULL}};
    if (!imu) pk[1] = pk[2], pk[2] = pk[3];
    return a4w_file(comp, xml, pk, imu ? 4 : 3, table, len, off);
}

static void check_events(dataset *d) {
    const ds_event *ev;
    size_t n;
    int64_t t0;
    assert_int_equal(ds_raw(d, 0, &ev, &n, &t0, NULL), 0);
    assert_int_equal(n, 6);
    assert_true(t0 == 1000);
    const a4w_event *want[] = {&EV1[0], &EV1[1], &EV1[2], &EV2[0], &EV2[1], &EV3[0]};
    for (size_t i = 0; i < 6; i++) {
        assert_true(ev[i].t == want[i]->t);
        assert_int_equal(ev[i].x, want[i]->x);
        assert_int_equal(ev[i].y, want[i]->y);
        assert_int_equal(ev[i].p, want[i]->p);
    }
}

static void write_tmp(char *dir, size_t dcap, char *path, size_t pcap, const uint8_t *b, size_t n) {
    test_tmpdir(dir, dcap);
    snprintf(path, pcap, "%s/gen.aedat4", dir);
    assert_int_equal(a4w_save(path, b, n), 0);
}

/* none / LZ4 / LZ4_HIGH / zstd / zstd_HIGH, with and without a data table: the same events;
 * the IMU packet skipped and counted (its element count only from the table). */
static void test_gen_roundtrip(void **state) {
    (void)state;
    int comps[] = {0, 1, 2, 3, 4};
    for (int ci = 0; ci < 5; ci++)
        for (int table = 0; table <= 1; table++) {
            size_t n;
            uint8_t *b = gen(comps[ci], table, 1, &n, NULL);
            char dir[64], p[128];
            write_tmp(dir, sizeof dir, p, sizeof p, b, n);
            dataset *d = open_ok(p, NULL);
            check_events(d);
            const ds_stream *st;
            size_t ns;
            assert_int_equal(ds_streams(d, &st, &ns), 0);
            assert_int_equal(ns, 2);
            assert_string_equal(st[1].type, "IMUS");
            assert_int_equal(st[1].packets, 1);
            assert_int_equal(st[1].elements, table ? 2 : -1);
            assert_int_equal(st[0].packets, 3);
            assert_int_equal(st[0].elements, table ? 6 : -1);
            ds_free(d);
            ds_evbuf e = {0};
            ds_geometry g;
            assert_int_equal(ds_dec_aedat4(b, n, "mem", &e, &g), 0);
            assert_int_equal(e.n, 6);
            assert_int_equal(g.width, 64);
            assert_int_equal(g.height, 48);
            ds_evbuf_free(&e);
            free(b);
            test_rmdir(dir);
        }
}

/* Slicing by labels: with the data table packets outside a slice are not read; without it
 * every packet is decoded once. Both give the hand-picked events. */
static void test_gen_labels(void **state) {
    (void)state;
    for (int table = 0; table <= 1; table++) {
        size_t n;
        uint8_t *b = gen(1, table, 1, &n, NULL);
        char dir[64], p[128], csv[160];
        write_tmp(dir, sizeof dir, p, sizeof p, b, n);
        snprintf(csv, sizeof csv, "%s/gen_labels.csv", dir);
        FILE *f = fopen(csv, "w");
        fputs("class,startTime_usec,endTime_usec\n2,1500,3001\n1,9000,20000\n", f);
        fclose(f);
        dataset *d = open_ok(p, NULL);
        assert_int_equal(ds_len(d), 2);
        const ds_event *ev;
        size_t m;
        int64_t t0;
        int label;
        assert_int_equal(ds_raw(d, 0, &ev, &m, &t0, &label), 0);
        assert_int_equal(m, 3); /* t 1500, 2999, 3000 */
        assert_true(ev[0].t == 1500 && ev[1].t == 2999 && ev[2].t == 3000);
        assert_int_equal(label, 1);
        assert_true(t0 == 1500);
        assert_int_equal(ds_raw(d, 1, &ev, &m, &t0, &label), 0);
        assert_int_equal(m, 1);
        assert_true(ev[0].t == 10000 && ev[0].x == 1 && ev[0].y == 2);
        ds_free(d);
        free(b);
        test_rmdir(dir);
    }
}

/* Open (and read) a generated file; expect EVSNN_EFORMAT with `what` in the message. */
static void expect_error(const uint8_t *b, size_t n, const char *what) {
    char dir[64], p[128];
    write_tmp(dir, sizeof dir, p, sizeof p, b, n);
    int err = 0;
    dataset *d = ds_open(p, NULL, &err);
    int rc = err;
    if (d) {
        const ds_event *ev;
        size_t m;
        rc = ds_raw(d, 0, &ev, &m, NULL, NULL);
        ds_free(d);
    }
    if (rc != EVSNN_EFORMAT || !strstr(evsnn_errmsg(), what))
        fail_msg("expected EFORMAT with '%s', got %d: %s", what, rc, evsnn_errmsg());
    /* the from-memory decoder refuses the same bytes */
    ds_evbuf e = {0};
    ds_geometry g;
    assert_int_equal(ds_dec_aedat4(b, n, "mem", &e, &g), EVSNN_EFORMAT);
    ds_evbuf_free(&e);
    test_rmdir(dir);
}

static void test_gen_errors(void **state) {
    (void)state;
    size_t n, off[4];
    uint8_t *b;
    /* truncated: cut inside the last packet (no table: the walk finds the short packet) */
    b = gen(1, 0, 0, &n, off);
    expect_error(b, n - 3, "runs past the end of the packets");
    free(b);
    /* a corrupted LZ4 frame: the frame header's checksum byte (frame byte 6) flipped */
    b = gen(1, 1, 0, &n, off);
    b[off[1] + 8 + 6] ^= 0x5A;
    expect_error(b, n, "LZ4 frame does not decompress");
    free(b);
    /* an LZ4 frame cut short inside its packet (sizes kept consistent, no table) */
    {
        char xml[2048];
        a4w_xml(xml, sizeof xml, 64, 48, 0);
        a4w_packet pk[1] = {{0, EV1, 3, NULL}};
        b = a4w_file(1, xml, pk, 1, 0, &n, off);
        uint32_t sz = rd32(b + off[0] + 4) - 5;
        a4w_set32(b + off[0] + 4, sz);
        expect_error(b, n - 5, "LZ4 frame ends early");
        free(b);
    }
    /* a zstd frame whose magic number is garbled */
    b = gen(3, 0, 0, &n, off);
    b[off[0] + 8] ^= 0xFF;
    expect_error(b, n, "zstd frame does not decompress");
    free(b);
    /* uncompressed packet whose table soffset sends the vtable outside the flatbuffer:
     * packet body = u32 size | flatbuffer; the root table is at flatbuffer byte 16 */
    b = gen(0, 0, 0, &n, off);
    a4w_set32(b + off[0] + 8 + 4 + 16, 0x7FFFFFF0u);
    expect_error(b, n, "vtable at");
    free(b);
    /* element count beyond the buffer (vector at flatbuffer byte 28) */
    b = gen(0, 0, 0, &n, off);
    a4w_set32(b + off[0] + 8 + 4 + 28, 1000);
    expect_error(b, n, "vector of 1000 × 16 bytes runs past the end");
    free(b);
    /* the elements offset (flatbuffer byte 20) pointing past the buffer */
    b = gen(0, 0, 0, &n, off);
    a4w_set32(b + off[0] + 8 + 4 + 20, 4096);
    expect_error(b, n, "points outside the buffer");
    free(b);
    /* size prefix larger than the decompressed bytes */
    b = gen(0, 0, 0, &n, off);
    a4w_set32(b + off[0] + 8, 4096);
    expect_error(b, n, "size prefix 4096");
    free(b);
    /* wrong stream type: stream 0 is declared EVTS but a packet holds an IMUS flatbuffer */
    {
        char xml[2048];
        a4w_xml(xml, sizeof xml, 64, 48, 0);
        a4w_packet pk[2] = {{0, EV1, 3, NULL}, {0, EV2, 2, "IMUS"}};
        b = a4w_file(1, xml, pk, 2, 1, &n, NULL);
        expect_error(b, n, "wrong stream type");
        free(b);
    }
    /* a packet of a stream the header does not declare */
    {
        char xml[2048];
        a4w_xml(xml, sizeof xml, 64, 48, 0);
        a4w_packet pk[2] = {{0, EV1, 3, NULL}, {7, EV2, 2, NULL}};
        b = a4w_file(0, xml, pk, 2, 0, &n, NULL);
        expect_error(b, n, "stream id 7 is not declared");
        free(b);
    }
    /* no event stream at all */
    {
        const char *xml = "<dv version=\"2.0\"><node name=\"outInfo\" path=\"/\"><node name=\"2\" path=\"/2/\">"
                          "<attr key=\"typeIdentifier\" type=\"string\">IMUS</attr></node></node></dv>";
        a4w_packet pk[1] = {{2, EV2, 2, "IMUS"}};
        b = a4w_file(0, xml, pk, 1, 0, &n, NULL);
        expect_error(b, n, "no event stream");
        free(b);
    }
    /* an event outside the declared sensor */
    {
        char xml[2048];
        a4w_xml(xml, sizeof xml, 32, 32, 0);
        a4w_packet pk[1] = {{0, EV1, 3, NULL}}; /* (63, 47) */
        b = a4w_file(0, xml, pk, 1, 0, &n, NULL);
        expect_error(b, n, "outside the 32x32 sensor");
        free(b);
    }
    /* data table entry pointing past the packets: entry tables start at E = 28 + 4·3 = 40
     * (8-aligned), ByteOffset at E + 8, after the 4-byte size prefix (uncompressed table) */
    b = gen(0, 1, 0, &n, off);
    {
        uint64_t tp = rd64(b + 18 + 36);
        uint8_t *e0 = b + tp + 4 + 40 + 8;
        for (int k = 0; k < 8; k++) e0[k] = k < 3 ? 0xFF : 0;
        expect_error(b, n, "entry 0: packet at 16777215 of");
    }
    free(b);
    /* dataTablePosition beyond the file */
    b = gen(1, 1, 0, &n, off);
    b[18 + 36 + 5] = 0x7F;
    expect_error(b, n, "dataTablePosition");
    free(b);
    /* IOHeader with another file identifier; then a non-XML infoNode without streams */
    b = gen(1, 0, 0, &n, off);
    memcpy(b + 18 + 4, "IOHX", 4);
    expect_error(b, n, "expected 'IOHE'");
    free(b);
    {
        a4w_packet pk[1] = {{0, EV1, 3, NULL}};
        b = a4w_file(0, "no xml here", pk, 1, 0, &n, NULL);
        expect_error(b, n, "declares no streams");
        free(b);
    }
    /* compression value out of range (IOHeader field at header byte 28) */
    b = gen(0, 0, 0, &n, off);
    a4w_set32(b + 18 + 28, 9);
    expect_error(b, n, "compression 9");
    free(b);
}

/* Every strict prefix of a generated file is refused or decodes (never crashes); the
 * prefixes that cut packets are refused with EVSNN_EFORMAT. */
static void test_gen_prefixes(void **state) {
    (void)state;
    size_t n;
    uint8_t *b = gen(3, 0, 1, &n, NULL);
    for (size_t k = 0; k < n; k++) {
        ds_evbuf e = {0};
        ds_geometry g;
        int rc = ds_dec_aedat4(b, k, "prefix", &e, &g);
        assert_true(rc == EVSNN_EFORMAT || rc == 0);
        ds_evbuf_free(&e);
    }
    free(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_count_and_sensor),
        cmocka_unit_test(test_real_labels),
        cmocka_unit_test(test_gen_roundtrip),
        cmocka_unit_test(test_gen_labels),
        cmocka_unit_test(test_gen_errors),
        cmocka_unit_test(test_gen_prefixes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
