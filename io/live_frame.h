/* io/live_frame.h — the framed event stream of `evsnn serve` (protocol version 1).
 *
 * Every frame is an 8-byte header then a payload, all integers little-endian:
 *   byte 0..1  magic 'E' 'V'       byte 2  version (1)      byte 3  type
 *   byte 4..7  payload length in bytes (uint32, at most LIVE_MAX_PAYLOAD)
 * Types and payloads (byte layout in io/LIVE.md):
 *   HELLO  16 bytes: u16 width, u16 height, u16 polarities, u8 kind (0 xy, 1 unit),
 *          u8 reserved (0), u32 dt_us (0: the server's), u32 steps (0: the server's)
 *   XYP    u64 t0_us, u32 count, then count × 8 bytes: u32 dt_us (after t0), u16 x,
 *          u16 y | p << 15
 *   UNIT   u64 t0_us, u32 count, then count × 8 bytes: u32 dt_us, u32 unit
 *   WINDOW 12 bytes: u64 t_start_us, u32 tag — close the current window, start one at t
 *   FLUSH  0 bytes — close the current window now (run it, send its result)
 *   BYE    0 bytes — flush, then the server closes the connection after its results
 * The decoder is incremental and allocation-free: live_frame_parse looks at the bytes
 * buffered so far and says "need more", "one frame of n bytes" or "malformed" (with a
 * message naming the byte offset in the frame and what was expected). */
#ifndef EVSNN_LIVE_FRAME_H
#define EVSNN_LIVE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define LIVE_VERSION 1
#define LIVE_HDR 8
#define LIVE_MAX_PAYLOAD (1u << 20) /* 1 MiB: bounds what one frame can make us buffer */
#define LIVE_BATCH_HDR 12           /* u64 t0 + u32 count */
#define LIVE_EVENT_BYTES 8
#define LIVE_MAX_BATCH ((LIVE_MAX_PAYLOAD - LIVE_BATCH_HDR) / LIVE_EVENT_BYTES)

typedef enum { LIVE_HELLO = 1, LIVE_XYP, LIVE_UNIT, LIVE_WINDOW, LIVE_FLUSH, LIVE_BYE } live_type;
typedef enum { LIVE_KIND_XY = 0, LIVE_KIND_UNIT = 1 } live_kind;

typedef struct {
    uint16_t width, height, polarities;
    uint8_t kind;
    uint32_t dt_us, steps;
} live_hello;

/* One decoded frame; for batches, ev points at the count × 8 event bytes inside the
 * caller's buffer (valid while that buffer is). */
typedef struct {
    live_type type;
    uint32_t len;      /* payload bytes */
    live_hello hello;  /* HELLO */
    uint64_t t0;       /* XYP/UNIT: base time µs; WINDOW: t_start */
    uint32_t count;    /* XYP/UNIT: events; WINDOW: tag */
    const uint8_t *ev; /* XYP/UNIT */
} live_frame;

/* Parse one frame from buf[0..n). Returns the frame's total size (> 0) when complete and
 * valid, 0 when more bytes are needed, or EVSNN_EFORMAT / EVSNN_EVERSION (message set) when
 * the bytes cannot be a valid frame (bad magic, newer version, unknown type, payload too
 * long or of the wrong size for its type, count disagreeing with the length). */
int64_t live_frame_parse(const uint8_t *buf, size_t n, live_frame *f);

/* Event i of a batch frame: time µs (t0 + dt), x, y, p (XYP) or unit in *x (UNIT). */
static inline void live_frame_event(const live_frame *f, uint32_t i, uint64_t *t, uint32_t *x, uint32_t *y,
                                    uint32_t *p) {
    const uint8_t *e = f->ev + (size_t)i * LIVE_EVENT_BYTES;
    uint32_t dt = (uint32_t)e[0] | (uint32_t)e[1] << 8 | (uint32_t)e[2] << 16 | (uint32_t)e[3] << 24;
    *t = f->t0 + dt;
    if (f->type == LIVE_XYP) {
        uint32_t yp = (uint32_t)e[6] | (uint32_t)e[7] << 8;
        *x = (uint32_t)e[4] | (uint32_t)e[5] << 8;
        *y = yp & 0x7FFF;
        *p = yp >> 15;
    } else {
        *x = (uint32_t)e[4] | (uint32_t)e[5] << 8 | (uint32_t)e[6] << 16 | (uint32_t)e[7] << 24;
        *y = *p = 0;
    }
}

/* ---- encoders (clients, tests): each writes a whole frame, returns its size ---- */
size_t live_put_hello(uint8_t *out /* [LIVE_HDR + 16] */, const live_hello *h);
size_t live_put_window(uint8_t *out /* [LIVE_HDR + 12] */, uint64_t t_start_us, uint32_t tag);
size_t live_put_empty(uint8_t *out /* [LIVE_HDR] */, live_type type); /* FLUSH, BYE */
/* Batch header for `count` events of type XYP or UNIT; the events follow with
 * live_put_xyp / live_put_unit at out + LIVE_HDR + LIVE_BATCH_HDR + 8·i. */
size_t live_put_batch_hdr(uint8_t *out /* [LIVE_HDR + 12] */, live_type type, uint64_t t0_us, uint32_t count);
void live_put_xyp(uint8_t *out /* [8] */, uint32_t dt_us, uint16_t x, uint16_t y, int p);
void live_put_unit(uint8_t *out /* [8] */, uint32_t dt_us, uint32_t unit);

const char *live_type_name(int type);

/* Client side: write all n bytes to a blocking socket, retrying on EINTR, never raising
 * SIGPIPE. 0, or -1 when the peer closed or the socket failed (errno set). Used by
 * `evsnn replay` and the tests. */
int live_send_all(int fd, const void *buf, size_t n);

#endif
