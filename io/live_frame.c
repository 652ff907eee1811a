/* io/live_frame.c — decoder and encoders of the framed event stream (io/live_frame.h). */
#include "io/live_frame.h"

#include <errno.h>
#include <sys/socket.h>

#include "sim/evsnn.h"

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void wr64(uint8_t *p, uint64_t v) {
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

const char *live_type_name(int type) {
    static const char *names[] = {"?", "HELLO", "XYP", "UNIT", "WINDOW", "FLUSH", "BYE"};
    return type >= LIVE_HELLO && type <= LIVE_BYE ? names[type] : "unknown";
}

int64_t live_frame_parse(const uint8_t *buf, size_t n, live_frame *f) {
    /* Reject as early as the bytes allow: a bad magic is known after 1 byte, so a client
     * speaking another protocol is told at once rather than after 8 bytes. */
    if (n >= 1 && buf[0] != 'E')
        return evsnn_seterr(EVSNN_EFORMAT, "frame byte 0: 0x%02x is not the magic 'E' (0x45) of an evsnn frame", buf[0]);
    if (n >= 2 && buf[1] != 'V')
        return evsnn_seterr(EVSNN_EFORMAT, "frame byte 1: 0x%02x is not the magic 'V' (0x56) of an evsnn frame", buf[1]);
    if (n >= 3 && buf[2] != LIVE_VERSION) {
        if (buf[2] > LIVE_VERSION)
            return evsnn_seterr(EVSNN_EVERSION, "frame byte 2: protocol version %u is newer than this server's %d (upgrade evsnn)",
                                buf[2], LIVE_VERSION);
        return evsnn_seterr(EVSNN_EFORMAT, "frame byte 2: protocol version %u, expected %d", buf[2], LIVE_VERSION);
    }
    if (n >= 4 && (buf[3] < LIVE_HELLO || buf[3] > LIVE_BYE))
        return evsnn_seterr(EVSNN_EFORMAT, "frame byte 3: type %u is not a frame type (1..6)", buf[3]);
    if (n < LIVE_HDR) return 0;
    uint32_t len = rd32(buf + 4);
    live_type type = (live_type)buf[3];
    switch (type) {
    case LIVE_HELLO:
        if (len != 16) return evsnn_seterr(EVSNN_EFORMAT, "frame byte 4: HELLO payload of %u bytes, expected 16", len);
        break;
    case LIVE_WINDOW:
        if (len != 12) return evsnn_seterr(EVSNN_EFORMAT, "frame byte 4: WINDOW payload of %u bytes, expected 12", len);
        break;
    case LIVE_FLUSH:
    case LIVE_BYE:
        if (len != 0) return evsnn_seterr(EVSNN_EFORMAT, "frame byte 4: %s payload of %u bytes, expected 0", live_type_name(type), len);
        break;
    default:
        if (len > LIVE_MAX_PAYLOAD)
            return evsnn_seterr(EVSNN_EFORMAT, "frame byte 4: %s payload of %u bytes exceeds the limit of %u", live_type_name(type), len,
                                LIVE_MAX_PAYLOAD);
        if (len < LIVE_BATCH_HDR || (len - LIVE_BATCH_HDR) % LIVE_EVENT_BYTES)
            return evsnn_seterr(EVSNN_EFORMAT, "frame byte 4: %s payload of %u bytes, expected 12 + 8 per event", live_type_name(type),
                                len);
    }
    if (n < (size_t)LIVE_HDR + len) return 0;
    const uint8_t *p = buf + LIVE_HDR;
    f->type = type;
    f->len = len;
    f->ev = NULL;
    f->t0 = 0;
    f->count = 0;
    switch (type) {
    case LIVE_HELLO:
        f->hello = (live_hello){.width = rd16(p), .height = rd16(p + 2), .polarities = rd16(p + 4), .kind = p[6],
                                .dt_us = rd32(p + 8), .steps = rd32(p + 12)};
        if (f->hello.kind > LIVE_KIND_UNIT)
            return evsnn_seterr(EVSNN_EFORMAT, "HELLO byte 14: kind %u, expected 0 (xy) or 1 (unit)", p[6]);
        if (p[7]) return evsnn_seterr(EVSNN_EFORMAT, "HELLO byte 15: reserved byte is %u, expected 0", p[7]);
        if (!f->hello.width || !f->hello.height || !f->hello.polarities)
            return evsnn_seterr(EVSNN_EFORMAT, "HELLO bytes 8..13: geometry %ux%u with %u polarities, expected all > 0",
                                f->hello.width, f->hello.height, f->hello.polarities);
        break;
    case LIVE_WINDOW:
        f->t0 = rd64(p);
        f->count = rd32(p + 8);
        break;
    case LIVE_XYP:
    case LIVE_UNIT:
        f->t0 = rd64(p);
        f->count = rd32(p + 8);
        if ((uint64_t)f->count * LIVE_EVENT_BYTES != len - LIVE_BATCH_HDR)
            return evsnn_seterr(EVSNN_EFORMAT, "%s byte 16: count %u disagrees with the payload (%u event bytes)", live_type_name(type),
                                f->count, len - LIVE_BATCH_HDR);
        if (f->t0 > UINT64_MAX / 2)
            return evsnn_seterr(EVSNN_EFORMAT, "%s byte 8: t0 %llu µs is beyond 2^63", live_type_name(type), (unsigned long long)f->t0);
        f->ev = p + LIVE_BATCH_HDR;
        break;
    default:
        break;
    }
    return (int64_t)LIVE_HDR + len;
}

static void put_hdr(uint8_t *out, live_type type, uint32_t len) {
    out[0] = 'E';
    out[1] = 'V';
    out[2] = LIVE_VERSION;
    out[3] = (uint8_t)type;
    wr32(out + 4, len);
}

size_t live_put_hello(uint8_t *out, const live_hello *h) {
    put_hdr(out, LIVE_HELLO, 16);
    uint8_t *p = out + LIVE_HDR;
    wr16(p, h->width);
    wr16(p + 2, h->height);
    wr16(p + 4, h->polarities);
    p[6] = h->kind;
    p[7] = 0;
    wr32(p + 8, h->dt_us);
    wr32(p + 12, h->steps);
    return LIVE_HDR + 16;
}

size_t live_put_window(uint8_t *out, uint64_t t_start_us, uint32_t tag) {
    put_hdr(out, LIVE_WINDOW, 12);
    wr64(out + LIVE_HDR, t_start_us);
    wr32(out + LIVE_HDR + 8, tag);
    return LIVE_HDR + 12;
}

size_t live_put_empty(uint8_t *out, live_type type) {
    put_hdr(out, type, 0);
    return LIVE_HDR;
}

size_t live_put_batch_hdr(uint8_t *out, live_type type, uint64_t t0_us, uint32_t count) {
    put_hdr(out, type, LIVE_BATCH_HDR + count * LIVE_EVENT_BYTES);
    wr64(out + LIVE_HDR, t0_us);
    wr32(out + LIVE_HDR + 8, count);
    return LIVE_HDR + LIVE_BATCH_HDR;
}

void live_put_xyp(uint8_t *out, uint32_t dt_us, uint16_t x, uint16_t y, int p) {
    wr32(out, dt_us);
    wr16(out + 4, x);
    wr16(out + 6, (uint16_t)((y & 0x7FFF) | (p ? 0x8000 : 0)));
}

void live_put_unit(uint8_t *out, uint32_t dt_us, uint32_t unit) {
    wr32(out, dt_us);
    wr32(out + 4, unit);
}

int live_send_all(int fd, const void *buf, size_t n) {
    const uint8_t *p = buf;
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}
