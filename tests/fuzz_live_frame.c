/* tests/fuzz_live_frame.c — libFuzzer harness: arbitrary bytes as a live event stream.
 * The frame decoder must accept a frame or say "need more" / "malformed", never read past
 * the bytes it was given; a live_session fed the same bytes in fuzzer-chosen chunks (evsnn
 * frames or an AEDAT 2.0 stream, whichever the first byte selects) must emit well-formed
 * result lines or stop with a message, never crash, and stay within its window cap.
 * Seeds in tests/corpus/fuzz_live_frame/ were generated with the encoders of
 * io/live_frame.h (a HELLO/WINDOW/XYP/FLUSH stream, a UNIT stream) and by hand (AEDAT). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/live_frame.h"
#include "io/live_server.h"
#include "sim/net.h"

static net *g_net;
static live_core *g_core;

static void emit(void *ctx, const char *line, size_t len) {
    (void)ctx;
    /* every result is one JSON object on one line */
    if (!len || line[0] != '{' || line[len - 1] != '\n' || memchr(line, '\n', len - 1)) abort();
}

static void init(void) {
    int err;
    /* 2x4x4 image input (so xy streams and downsampling are exercised) → 3 outputs */
    g_net = net_build("32-3", 2, 4, 4, NULL, &err);
    if (!g_net) abort();
    net_init_params(g_net, 1);
    live_core_opts o = {.steps = 8, .dt_us = 100, .window_cap = 256};
    g_core = live_core_create(g_net, &o, &err);
    if (!g_core) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!g_core) init();
    /* 1. the decoder alone, frame after frame */
    size_t pos = 0;
    while (pos < size) {
        live_frame f;
        int64_t k = live_frame_parse(data + pos, size - pos, &f);
        if (k <= 0) break;
        if ((size_t)k > size - pos) abort();
        if (f.type == LIVE_XYP || f.type == LIVE_UNIT)
            for (uint32_t i = 0; i < f.count; i++) {
                uint64_t t;
                uint32_t x, y, p;
                live_frame_event(&f, i, &t, &x, &y, &p);
                if (t < f.t0) abort();
            }
        pos += (size_t)k;
    }
    /* 2. a session, chunked by a step taken from the last byte */
    if (!size) return 0;
    size_t step = 1 + data[size - 1] % 61;
    live_session *s = live_session_create(g_core, emit, NULL, NULL);
    if (!s) return 0;
    uint8_t *buf = malloc(size);
    size_t have = 0, fed = 0;
    int rc = 0;
    while (fed < size && rc == 0) {
        size_t c = size - fed < step ? size - fed : step;
        memcpy(buf + have, data + fed, c);
        have += c;
        fed += c;
        size_t used = 0;
        rc = live_session_feed(s, buf, have, &used, 1);
        if (used > have) abort();
        memmove(buf, buf + used, have - used);
        have -= used;
    }
    if (rc == 0) live_session_flush(s, 2);
    live_session_free(s);
    free(buf);
    return 0;
}
