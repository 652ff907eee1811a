/* tests/fuzz_aedat4.c — libFuzzer harness for the AEDAT 4.0 decoders (io/aedat4.h). The
 * first byte picks what the rest is:
 *   0  a whole file (header, packets, data table) through ds_dec_aedat4
 *   1  an IOHeader flatbuffer (with its infoNode XML)
 *   2  a decompressed size-prefixed packet: EventPacket and FileDataTable
 *   3  an LZ4 frame, 4 a zstd frame: decompressed (limit 1 MiB), then read as a packet
 *   5  a live stream: "#!AER-DAT4.0\r\n" + the rest fed to a live_session in chunks
 * Everything either decodes or fails with EVSNN_EFORMAT (EVSNN_ESHAPE for a sensor the live
 * model cannot take); decoded events lie inside the declared sensor, vectors inside their
 * buffers. Seeds in tests/corpus/fuzz_aedat4/ were written with tests/aedat4_write.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/aedat4.h"
#include "io/ds_impl.h"
#include "io/live_server.h"
#include "sim/evsnn.h"
#include "sim/net.h"

static net *g_net;
static live_core *g_core;
static a4_dec *g_dec;

static void emit(void *ctx, const char *line, size_t len) {
    (void)ctx;
    if (!len || line[0] != '{' || line[len - 1] != '\n' || memchr(line, '\n', len - 1)) abort();
}

static void init(void) {
    int err;
    g_net = net_build("32-3", 2, 4, 4, NULL, &err); /* any sensor of 4k × 4k pixels fits */
    if (!g_net) abort();
    net_init_params(g_net, 1);
    live_core_opts o = {.steps = 8, .dt_us = 100, .window_cap = 256};
    g_core = live_core_create(g_net, &o, &err);
    g_dec = a4_dec_create();
    if (!g_core || !g_dec) abort();
}

static void ok_rc(int rc) {
    if (rc != 0 && rc != EVSNN_EFORMAT && rc != EVSNN_ENOMEM) abort();
}

static void packet(const uint8_t *b, size_t n) {
    const uint8_t *fb;
    size_t fn;
    char ident[5];
    int rc = a4_fb_open(b, n, "fuzz", 0, &fb, &fn, ident);
    ok_rc(rc);
    if (rc) return;
    if (fb < b || fn > n - 4) abort();
    a4_events ev;
    rc = a4_event_packet(fb, fn, "fuzz", 0, &ev);
    ok_rc(rc);
    if (!rc && ev.n && (ev.el < fb || (size_t)(ev.el - fb) + (size_t)ev.n * A4_EVENT_BYTES > fn)) abort();
    for (uint32_t i = 0; !rc && i < ev.n; i++) {
        int64_t t;
        int32_t x, y;
        uint32_t p;
        a4_event(&ev, i, &t, &x, &y, &p);
        if (p > 1) abort();
    }
    a4_table_entry *e;
    size_t ne;
    rc = a4_data_table(fb, fn, "fuzz", 0, &e, &ne);
    ok_rc(rc);
    if (!rc) free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!g_core) init();
    if (size < 1) return 0;
    int mode = data[0] % 6;
    data++, size--;
    if (mode == 0) {
        ds_evbuf b = {0};
        ds_geometry g;
        int rc = ds_dec_aedat4(data, size, "fuzz", &b, &g);
        ok_rc(rc);
        for (size_t i = 0; !rc && i < b.n; i++)
            if (b.ev[i].x >= g.width || b.ev[i].y >= g.height || b.ev[i].p > 1) abort();
        ds_evbuf_free(&b);
    } else if (mode == 1) {
        a4_header h;
        int rc = a4_parse_header(data, size, "fuzz", &h);
        ok_rc(rc);
        if (!rc) {
            if (h.events >= (int)h.n_streams || (h.events >= 0 && !h.streams[h.events].width)) abort();
            if (h.table_pos_field && h.table_pos_field + 8 > size) abort();
            a4_header_free(&h);
        }
    } else if (mode == 2) {
        packet(data, size);
    } else if (mode <= 4) {
        const uint8_t *out;
        size_t n;
        int rc = a4_decompress(g_dec, mode == 3 ? A4_LZ4 : A4_ZSTD, data, size, 1u << 20, "fuzz", 0, &out, &n);
        ok_rc(rc);
        if (!rc) {
            if (n > 1u << 20) abort();
            packet(out, n);
        }
    } else {
        size_t n = A4_MAGIC_LEN + size, step = size ? 1 + data[size - 1] % 97 : 1;
        uint8_t *buf = malloc(n ? n : 1);
        memcpy(buf, A4_MAGIC, A4_MAGIC_LEN);
        memcpy(buf + A4_MAGIC_LEN, data, size);
        live_session *s = live_session_create(g_core, emit, NULL, NULL);
        size_t have = 0, fed = 0, used;
        int rc = 0;
        while (fed < n && rc == 0) { /* deliver `step` more bytes, feed what is buffered */
            size_t k = n - fed < step ? n - fed : step;
            fed += k, have += k;
            rc = live_session_feed(s, buf + fed - have, have, &used, 1);
            if (used > have) abort();
            have -= used;
        }
        if (rc < 0 && rc != EVSNN_EFORMAT && rc != EVSNN_ESHAPE && rc != EVSNN_ENOMEM) abort();
        if (rc >= 0) live_session_flush(s, 1);
        live_session_free(s);
        free(buf);
    }
    return 0;
}
