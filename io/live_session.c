/* io/live_session.c — live_session: one stream's protocol detection, decoding, binning
 * and windows, and the server's status and error lines. No sockets here (the server in
 * live_server.c and the tests feed bytes in) and no engine: a closed window goes to the
 * live core (hw/live.c), which runs it and returns its result line. */
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "io/aedat4.h"
#include "io/live_frame.h"
#include "io/live_server.h"
#include "sim/evsnn.h"

/* Compact JSON with reals to the last digit, as every JSON line evsnn writes. */
#define LIVE_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(17))

#define AEDAT_MAX_HEADER 65536 /* header bytes allowed before the first record */
/* An AEDAT 4 packet (8-byte header + body) must fit the server's 4 MiB socket read buffer
 * (live_server.c READ_HIGH) in one piece; decompressed it may hold up to 1 M events. */
#define A4_LIVE_MAX_BODY ((4u << 20) - 8)
#define A4_LIVE_MAX_DECODED (16u << 20)

uint64_t live_now_us(void) { return evsnn_now_us(); }

/* JSON through jansson. */
static void put(json_t *o, const char *k, json_t *v) { json_object_set_new(o, k, v ? v : json_null()); }
json_t *live_json_str(const char *s) {
    json_t *j = json_string(s);
    return j ? j : json_null();
}

void live_json_line(FILE *f, json_t *doc) {
    if (doc) json_dumpf(doc, f, LIVE_JSON_FLAGS);
    fputc('\n', f);
    json_decref(doc);
}

void live_status_line(FILE *f, const char *key, const char *value) {
    json_t *o = json_object();
    put(o, key, live_json_str(value));
    live_json_line(f, o);
}

size_t live_error_line(char *buf, size_t cap, const char *reason) {
    json_t *o = json_object();
    json_t *r = json_string(reason);
    put(o, "error", r ? r : json_string("(a message that is not UTF-8)"));
    size_t n = json_dumpb(o, buf, cap ? cap - 1 : 0, LIVE_JSON_FLAGS);
    json_decref(o);
    if (n == 0 || n >= cap) return 0;
    buf[n++] = '\n';
    return n;
}

/* ---- sessions ---- */
enum { MODE_DETECT, MODE_FRAMED, MODE_AEDAT_HEADER, MODE_AEDAT_DATA, MODE_A4_PROLOGUE, MODE_A4_PACKET, MODE_A4_TABLE };

struct live_session {
    live_core *c;
    const net *n;    /* the core's network (input shape) */
    live_metrics *m; /* the core's metrics */
    uint32_t T, dt_default, window_cap; /* the core's options */
    live_emit_fn emit;
    void *ctx;
    int mode;
    size_t need;
    /* geometry and mapping (from HELLO, or DVS128 for AEDAT) */
    int have_geom;
    live_hello h;
    uint32_t dt;
    uint32_t fx, fy; /* sensor pixels per model pixel */
    int merge;       /* model has 1 channel: polarities summed */
    int image;       /* model input is an image (c, h, w); else flat */
    /* current window */
    int active, explicit_win;
    uint64_t t_start;
    uint32_t tag;
    uint64_t n_windows;
    uint32_t *ev_step, *ev_ch, n_ev, ev_cap;
    uint64_t w_dropped, last_wall;
    /* AEDAT time extension: 32-bit µs timestamps made 64-bit */
    int aedat_have_t;
    uint32_t aedat_last;
    uint64_t aedat_t;
    size_t aedat_header_bytes;
    /* AEDAT 4 stream: its IOHeader, decompressor, byte offset in the stream */
    a4_header a4h;
    a4_dec *a4d;
    uint64_t a4_off;
};

live_session *live_session_create(live_core *c, live_emit_fn emit, void *ctx, int *err) {
    live_session *s = calloc(1, sizeof *s);
    if (!s) {
        if (err) *err = evsnn_seterr(EVSNN_ENOMEM, "live session: out of memory");
        return NULL;
    }
    s->c = c;
    const live_core_opts *o = live_core_options(c);
    s->n = live_core_net(c);
    s->m = live_core_metrics(c);
    s->T = o->steps;
    s->dt_default = o->dt_us;
    s->window_cap = o->window_cap;
    s->emit = emit;
    s->ctx = ctx;
    s->need = 1;
    s->dt = s->dt_default;
    return s;
}

void live_session_free(live_session *s) {
    if (!s) return;
    a4_header_free(&s->a4h);
    a4_dec_free(s->a4d);
    free(s->ev_step);
    free(s->ev_ch);
    free(s);
}

size_t live_session_need(const live_session *s) { return s->need; }

void live_session_greeting(const live_session *s, FILE *f) { live_core_greeting(s->c, f); }

/* Set the sensor geometry and derive the channel mapping, or say why it cannot feed the model. */
static int set_geometry(live_session *s, const live_hello *h) {
    const net *n = s->n;
    if (h->steps && h->steps != s->T)
        return evsnn_seterr(EVSNN_ESHAPE, "HELLO asks for %u steps per window; this server runs %u (--steps)", h->steps, s->T);
    s->h = *h;
    s->dt = h->dt_us ? h->dt_us : s->dt_default;
    if (h->kind == LIVE_KIND_UNIT) {
        if (h->width > n->n_in)
            return evsnn_seterr(EVSNN_ESHAPE, "HELLO: %u units do not fit the model's %u inputs", h->width, n->n_in);
        s->image = 0;
    } else if (n->in_h > 1 || n->in_w > 1) {
        s->image = 1;
        if (h->width % n->in_w || h->height % n->in_h)
            return evsnn_seterr(EVSNN_ESHAPE, "HELLO: sensor %ux%u is not an integer multiple of the model input %ux%u", h->width,
                                h->height, n->in_w, n->in_h);
        s->fx = h->width / n->in_w;
        s->fy = h->height / n->in_h;
        if (n->in_c == h->polarities) s->merge = 0;
        else if (n->in_c == 1) s->merge = 1;
        else
            return evsnn_seterr(EVSNN_ESHAPE, "HELLO: %u polarities do not fit the model's %u input channels", h->polarities, n->in_c);
    } else {
        s->image = 0;
        s->fx = s->fy = 1;
        s->merge = 0;
        if ((uint64_t)h->width * h->height * h->polarities != n->n_in)
            return evsnn_seterr(EVSNN_ESHAPE, "HELLO: sensor %ux%u×%u = %llu channels; the flat model input has %u", h->width, h->height,
                                h->polarities, (unsigned long long)h->width * h->height * h->polarities, n->n_in);
    }
    s->have_geom = 1;
    return 0;
}

/* Hand the current window to the core (engine, accelerator model) and emit its result line. */
static int close_window(live_session *s, uint64_t now_us) {
    if (!s->active) return 0;
    (void)now_us;
    const live_window w = {.step = s->ev_step, .ch = s->ev_ch, .n = s->n_ev, .index = s->n_windows, .tag = s->tag,
                           .dropped = s->w_dropped, .t_start_us = s->t_start, .dt_us = s->dt, .last_wall_us = s->last_wall};
    const char *line;
    size_t len;
    int rc = live_core_window(s->c, &w, &line, &len);
    if (rc) return rc;
    if (len) s->emit(s->ctx, line, len);
    s->n_windows++;
    s->active = 0;
    s->n_ev = 0;
    s->w_dropped = 0;
    return 0;
}

int live_session_flush(live_session *s, uint64_t now_us) { return close_window(s, now_us); }
int live_session_active(const live_session *s) { return s->active; }

static void drop(live_session *s, int reason) {
    s->m->dropped[reason]++;
    s->w_dropped++;
}

/* Bin one event at time t (µs) into the current window; channel computed by the caller
 * (UINT32_MAX: out of the sensor's range). */
static int add_event(live_session *s, uint64_t t, uint32_t ch, uint64_t now_us) {
    uint64_t dur = (uint64_t)s->T * s->dt;
    if (!s->active) {
        s->active = 1;
        s->explicit_win = 0;
        s->t_start = t;
        s->tag = (uint32_t)s->n_windows;
    }
    if (t < s->t_start) {
        drop(s, LIVE_DROP_LATE);
        return 0;
    }
    uint64_t step = (t - s->t_start) / s->dt;
    if (step >= s->T) {
        if (s->explicit_win) {
            drop(s, LIVE_DROP_OUTSIDE);
            return 0;
        }
        uint64_t next = s->t_start + (t - s->t_start) / dur * dur; /* tumbling: the window holding t */
        int rc = close_window(s, now_us);
        if (rc) return rc;
        s->active = 1;
        s->explicit_win = 0;
        s->t_start = next;
        s->tag = (uint32_t)s->n_windows;
        step = (t - next) / s->dt;
    }
    if (ch == UINT32_MAX) {
        drop(s, LIVE_DROP_RANGE);
        return 0;
    }
    if (s->n_ev == s->ev_cap) {
        if (s->ev_cap >= s->window_cap) {
            drop(s, LIVE_DROP_CAP);
            return 0;
        }
        uint32_t cap = s->ev_cap ? 2 * s->ev_cap : 4096;
        if (cap > s->window_cap) cap = s->window_cap;
        uint32_t *a = realloc(s->ev_step, (size_t)cap * sizeof *a);
        if (a) s->ev_step = a;
        uint32_t *b = a ? realloc(s->ev_ch, (size_t)cap * sizeof *b) : NULL;
        if (b) s->ev_ch = b;
        if (!a || !b) return evsnn_seterr(EVSNN_ENOMEM, "live: out of memory for a window of %u events", cap);
        s->ev_cap = cap;
    }
    s->ev_step[s->n_ev] = (uint32_t)step;
    s->ev_ch[s->n_ev] = ch;
    s->n_ev++;
    s->last_wall = now_us;
    return 0;
}

static inline uint32_t xy_channel(const live_session *s, uint32_t x, uint32_t y, uint32_t p) {
    if (x >= s->h.width || y >= s->h.height || p >= s->h.polarities) return UINT32_MAX;
    const net *n = s->n;
    if (!s->image) return p * s->h.width * s->h.height + y * s->h.width + x;
    uint32_t cch = s->merge ? 0 : p;
    return cch * n->in_h * n->in_w + (y / s->fy) * n->in_w + x / s->fx;
}

static int handle_frame(live_session *s, const live_frame *f, uint64_t now_us) {
    s->m->frames_in++;
    switch (f->type) {
    case LIVE_HELLO: {
        int rc = close_window(s, now_us);
        return rc ? rc : set_geometry(s, &f->hello);
    }
    case LIVE_XYP:
    case LIVE_UNIT: {
        if (!s->have_geom) return evsnn_seterr(EVSNN_EFORMAT, "%s frame before HELLO: the sensor geometry is unknown", live_type_name(f->type));
        if ((f->type == LIVE_UNIT) != (s->h.kind == LIVE_KIND_UNIT))
            return evsnn_seterr(EVSNN_EFORMAT, "%s frame on a stream whose HELLO declared %s events", live_type_name(f->type),
                                s->h.kind == LIVE_KIND_UNIT ? "unit" : "xy");
        s->m->events_in += f->count;
        for (uint32_t i = 0; i < f->count; i++) {
            uint64_t t;
            uint32_t x, y, p, ch;
            live_frame_event(f, i, &t, &x, &y, &p);
            if (f->type == LIVE_UNIT) ch = x < s->h.width ? x : UINT32_MAX;
            else ch = xy_channel(s, x, y, p);
            int rc = add_event(s, t, ch, now_us);
            if (rc) return rc;
        }
        return 0;
    }
    case LIVE_WINDOW: {
        int rc = close_window(s, now_us);
        if (rc) return rc;
        s->active = 1;
        s->explicit_win = 1;
        s->t_start = f->t0;
        s->tag = f->count;
        return 0;
    }
    case LIVE_FLUSH: return close_window(s, now_us);
    case LIVE_BYE: {
        int rc = close_window(s, now_us);
        return rc ? rc : 1;
    }
    }
    return 0;
}

/* AEDAT 2.0 DVS128 record: big-endian int32 address, int32 timestamp µs. */
static int aedat_record(live_session *s, const uint8_t *r, uint64_t now_us) {
    uint32_t a = (uint32_t)r[0] << 24 | (uint32_t)r[1] << 16 | (uint32_t)r[2] << 8 | r[3];
    uint32_t ts = (uint32_t)r[4] << 24 | (uint32_t)r[5] << 16 | (uint32_t)r[6] << 8 | r[7];
    if (a & 0x8000) return 0; /* special event (external trigger), not a pixel */
    s->m->events_in++;
    /* 32-bit timestamps wrap every 71.6 min: extend by the signed difference, so a small
     * backwards step stays a (late) step back rather than a jump of 2^32 µs. */
    if (!s->aedat_have_t) {
        s->aedat_have_t = 1;
        s->aedat_t = (uint64_t)1 << 32; /* headroom below for backward steps */
    } else {
        s->aedat_t += (uint64_t)(int64_t)(int32_t)(ts - s->aedat_last);
    }
    s->aedat_last = ts;
    uint32_t x = 127 - ((a >> 1) & 0x7F), y = (a >> 8) & 0x7F, p = (a & 1) ? 0 : 1; /* bit 0: 0 = ON */
    return add_event(s, s->aedat_t, xy_channel(s, x, y, p), now_us);
}

/* AEDAT 4 (DV's network output): the prologue (magic line, u32 length, IOHeader), then
 * packets: the event stream's are decoded and binned, other streams' skipped. A data
 * table (a whole file sent as a stream) ends the packets: the rest is discarded. Consumes
 * one unit of p[0..left) into *adv, or asks for more through s->need. */
static int a4_feed(live_session *s, const uint8_t *p, size_t left, size_t *adv, uint64_t now_us) {
    *adv = 0;
    if (s->mode == MODE_A4_TABLE) {
        *adv = left;
        return 0;
    }
    if (s->mode == MODE_A4_PROLOGUE) {
        if (left < A4_MAGIC_LEN + 4) {
            s->need = A4_MAGIC_LEN + 4;
            return 0;
        }
        uint32_t hl = (uint32_t)p[14] | (uint32_t)p[15] << 8 | (uint32_t)p[16] << 16 | (uint32_t)p[17] << 24;
        if (hl > A4_MAX_HEADER)
            return evsnn_seterr(EVSNN_EFORMAT, "AEDAT 4 stream: byte 14: IOHeader of %u bytes exceeds %u", hl, A4_MAX_HEADER);
        if (left < A4_MAGIC_LEN + 4 + (size_t)hl) {
            s->need = A4_MAGIC_LEN + 4 + (size_t)hl;
            return 0;
        }
        int rc = a4_parse_header(p + A4_MAGIC_LEN + 4, hl, "AEDAT 4 stream", &s->a4h);
        if (rc) return rc;
        if (s->a4h.events < 0)
            return evsnn_seterr(EVSNN_EFORMAT, "AEDAT 4 stream: IOHeader declares no event stream (typeIdentifier EVTS)");
        if (s->a4h.table_pos >= 0 && (uint64_t)s->a4h.table_pos < A4_MAGIC_LEN + 4 + (uint64_t)hl)
            return evsnn_seterr(EVSNN_EFORMAT, "AEDAT 4 stream: IOHeader: dataTablePosition %lld lies inside the header (a stream "
                                               "sends -1)", (long long)s->a4h.table_pos);
        if (!s->a4d && !(s->a4d = a4_dec_create())) return evsnn_seterr(EVSNN_ENOMEM, "AEDAT 4 stream: out of memory");
        const a4_stream *es = &s->a4h.streams[s->a4h.events];
        live_hello h = {.width = (uint16_t)es->width, .height = (uint16_t)es->height, .polarities = 2, .kind = LIVE_KIND_XY};
        if ((rc = set_geometry(s, &h))) return rc;
        *adv = A4_MAGIC_LEN + 4 + (size_t)hl;
        s->a4_off = *adv;
        s->mode = MODE_A4_PACKET;
        s->need = 8;
        return 0;
    }
    if (s->a4h.table_pos >= 0 && s->a4_off >= (uint64_t)s->a4h.table_pos) {
        s->mode = MODE_A4_TABLE;
        *adv = left;
        return 0;
    }
    if (left < 8) {
        s->need = 8;
        return 0;
    }
    int32_t id = (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
    int32_t size = (int32_t)((uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24);
    unsigned long long off = (unsigned long long)s->a4_off;
    int si = a4_stream_index(&s->a4h, id);
    if (si < 0) return evsnn_seterr(EVSNN_EFORMAT, "AEDAT 4 stream: packet at offset %llu: stream id %d is not declared in the IOHeader", off, id);
    if (size < 0 || (uint32_t)size > A4_LIVE_MAX_BODY)
        return evsnn_seterr(EVSNN_EFORMAT, "AEDAT 4 stream: packet at offset %llu: size %d, expected 0 .. %u bytes (one packet must "
                                           "fit the server's 4 MiB read buffer)", off, size, A4_LIVE_MAX_BODY);
    if (left < 8 + (size_t)size) {
        s->need = 8 + (size_t)size;
        return 0;
    }
    s->m->frames_in++;
    if (si == s->a4h.events) {
        const uint8_t *dec, *fb;
        size_t dn, fn;
        char ident[5];
        a4_events ev;
        int rc = a4_decompress(s->a4d, s->a4h.compression, p + 8, (size_t)size, A4_LIVE_MAX_DECODED, "AEDAT 4 stream", s->a4_off,
                               &dec, &dn);
        if (!rc) rc = a4_fb_open(dec, dn, "AEDAT 4 stream", s->a4_off, &fb, &fn, ident);
        if (!rc && strcmp(ident, "EVTS"))
            rc = evsnn_seterr(EVSNN_EFORMAT, "AEDAT 4 stream: packet at offset %llu: event stream %d carries a '%s' flatbuffer, "
                                             "expected 'EVTS' (wrong stream type)", off, id, ident);
        if (!rc) rc = a4_event_packet(fb, fn, "AEDAT 4 stream", s->a4_off, &ev);
        if (rc) return rc;
        s->m->events_in += ev.n;
        for (uint32_t i = 0; i < ev.n && !rc; i++) {
            int64_t t;
            int32_t x, y;
            uint32_t pol;
            a4_event(&ev, i, &t, &x, &y, &pol);
            uint32_t ch = x < 0 || y < 0 ? UINT32_MAX : xy_channel(s, (uint32_t)x, (uint32_t)y, pol);
            if (t < 0) { /* no time before the epoch: out of range */
                drop(s, LIVE_DROP_RANGE);
                continue;
            }
            rc = add_event(s, (uint64_t)t, ch, now_us);
        }
        if (rc) return rc;
    }
    *adv = 8 + (size_t)size;
    s->a4_off += *adv;
    s->need = 8;
    return 0;
}

int live_session_feed(live_session *s, const uint8_t *buf, size_t n, size_t *used, uint64_t now_us) {
    size_t pos = 0;
    int rc = 0;
    while (pos < n && !rc) {
        const uint8_t *p = buf + pos;
        size_t left = n - pos;
        if (s->mode == MODE_DETECT) {
            if (p[0] == '#') {
                s->mode = MODE_AEDAT_HEADER;
                s->need = 1;
            } else {
                s->mode = MODE_FRAMED;
                s->need = LIVE_HDR;
            }
            continue;
        }
        if (s->mode == MODE_FRAMED) {
            live_frame f;
            int64_t k = live_frame_parse(p, left, &f);
            if (k < 0) {
                s->m->frames_bad++;
                rc = (int)k;
                break;
            }
            if (k == 0) {
                s->need = left < LIVE_HDR ? LIVE_HDR : LIVE_HDR + ((size_t)p[4] | (size_t)p[5] << 8 | (size_t)p[6] << 16 | (size_t)p[7] << 24);
                break;
            }
            pos += (size_t)k;
            s->need = LIVE_HDR;
            rc = handle_frame(s, &f, now_us);
            continue;
        }
        if (s->mode == MODE_AEDAT_HEADER) {
            if (p[0] != '#') {
                if (s->aedat_header_bytes == 0) {
                    s->m->frames_bad++;
                    rc = evsnn_seterr(EVSNN_EFORMAT, "AEDAT stream: byte 0 is not '#'");
                    break;
                }
                s->mode = MODE_AEDAT_DATA;
                s->need = 8;
                continue;
            }
            const uint8_t *nl = memchr(p, '\n', left);
            if (!nl) {
                if (s->aedat_header_bytes + left > AEDAT_MAX_HEADER) {
                    s->m->frames_bad++;
                    rc = evsnn_seterr(EVSNN_EFORMAT, "AEDAT stream: header longer than %d bytes without ending", AEDAT_MAX_HEADER);
                    break;
                }
                s->need = left + 1;
                break;
            }
            size_t ll = (size_t)(nl - p) + 1;
            if (s->aedat_header_bytes == 0) {
                /* The first line names the format version: 2.0 has the 8-byte records
                 * decoded here, 4.0 (DV) its own packets. */
                if (ll >= 12 && !memcmp(p, "#!AER-DAT4.0", 12)) {
                    if (ll != A4_MAGIC_LEN || memcmp(p, A4_MAGIC, A4_MAGIC_LEN)) {
                        s->m->frames_bad++;
                        rc = evsnn_seterr(EVSNN_EFORMAT, "AEDAT 4 stream: first line is not exactly '#!AER-DAT4.0\\r\\n'");
                        break;
                    }
                    s->mode = MODE_A4_PROLOGUE; /* it reads the magic line again */
                    s->need = A4_MAGIC_LEN + 4;
                    continue;
                }
                if (ll < 12 || memcmp(p, "#!AER-DAT2.0", 12) != 0) {
                    s->m->frames_bad++;
                    rc = evsnn_seterr(EVSNN_EFORMAT, "AEDAT stream: first line is neither '#!AER-DAT2.0' nor '#!AER-DAT4.0' (AEDAT "
                                                     "2.0 and 4.0 are accepted live)");
                    break;
                }
                live_hello h = {.width = 128, .height = 128, .polarities = 2, .kind = LIVE_KIND_XY};
                if ((rc = set_geometry(s, &h))) break;
            }
            s->aedat_header_bytes += ll;
            if (s->aedat_header_bytes > AEDAT_MAX_HEADER) {
                s->m->frames_bad++;
                rc = evsnn_seterr(EVSNN_EFORMAT, "AEDAT stream: header longer than %d bytes", AEDAT_MAX_HEADER);
                break;
            }
            pos += ll;
            s->need = 1;
            continue;
        }
        if (s->mode >= MODE_A4_PROLOGUE) {
            size_t adv;
            rc = a4_feed(s, p, left, &adv, now_us);
            if (rc < 0) s->m->frames_bad++;
            if (!adv) break; /* s->need says how much more */
            pos += adv;
            continue;
        }
        /* MODE_AEDAT_DATA: whole 8-byte records only */
        size_t recs = left / 8;
        if (!recs) {
            s->need = 8;
            break;
        }
        for (size_t r = 0; r < recs && !rc; r++) rc = aedat_record(s, p + 8 * r, now_us);
        pos += 8 * recs;
        s->need = 8;
    }
    *used = pos;
    return rc;
}
