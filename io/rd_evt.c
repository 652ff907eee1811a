/* io/rd_evt.c — Prophesee RAW recordings (Metavision SDK; IMX636, GenX320 sensors) in the
 * EVT 2.0 and EVT 3.0 encodings, from Prophesee's public format documentation
 * (docs.prophesee.ai: "RAW File Format", "EVT 2.0 Format", "EVT 3.0 Format"; byte layout
 * in io/README.md).
 *
 * A RAW file is a text header of "% key value\n" lines (optionally closed by "% end"), then
 * little-endian words: 32-bit for EVT 2.0, 16-bit for EVT 3.0, the top 4 bits the word's
 * type. Decoding is a state machine (time high, EVT 3.0 row / vector base); words before
 * the first time-high word have no time base and are skipped (counted). The recording is
 * one unlabelled sample (origin: first event), or, with a `<stem>_labels.csv` beside it,
 * one sample per row [start, end) on the recording's clock. Reading is chunked (1 MiB):
 * memory is a chunk plus the sample's events. For slicing, the first pass over the file
 * records the decoder state at every chunk boundary, so a sample starts decoding at the
 * last boundary before its start instead of at the header. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/ds_impl.h"
#include "io/ds_readers.h"
#include "sim/evsnn.h"

#define EVT_HDR_MAX (1u << 20)
#define EVT_CHUNK (1u << 20) /* bytes per read: a multiple of both word sizes */
#define EVT_MAX_DIM 2048     /* 11-bit coordinates */

static int parse_dim(const char *s, const char *end, uint32_t *v) {
    uint64_t x = 0;
    const char *p = s;
    while (p < end && *p >= '0' && *p <= '9' && x <= EVT_MAX_DIM) x = x * 10 + (uint64_t)(*p++ - '0');
    if (p == s) return -1;
    *v = (uint32_t)x;
    return (int)(p - s);
}

int ds_dec_evt_header(const uint8_t *buf, size_t n, const char *name, size_t *len, int *version, uint32_t *w,
                      uint32_t *h) {
    size_t i = 0;
    int v_evt = 0, v_fmt = 0;
    uint32_t gw = 0, gh = 0, fw = 0, fh = 0;
    *len = 0, *version = 0, *w = *h = 0;
    while (i + 1 < n && buf[i] == '%' && buf[i + 1] == ' ') {
        const uint8_t *nl = memchr(buf + i, '\n', n - i);
        if (!nl) return evsnn_seterr(EVSNN_EFORMAT, "%s: offset %zu: RAW header line does not end with '\\n'", name, i);
        const char *k = (const char *)buf + i + 2, *e = (const char *)nl;
        if (e > k && e[-1] == '\r') e--;
        size_t line = i;
        i = (size_t)(nl - buf) + 1;
        const char *sp = memchr(k, ' ', (size_t)(e - k));
        size_t kl = sp ? (size_t)(sp - k) : (size_t)(e - k);
        const char *val = sp ? sp + 1 : e;
        size_t vl = (size_t)(e - val);
        if (kl == 3 && !memcmp(k, "end", 3)) break;
        if (kl == 3 && !memcmp(k, "evt", 3)) {
            if (vl == 3 && !memcmp(val, "2.0", 3)) v_evt = 2;
            else if (vl == 3 && !memcmp(val, "3.0", 3)) v_evt = 3;
            else
                return evsnn_seterr(EVSNN_ENOTSUP, "%s: offset %zu: '%% evt %.*s': only EVT 2.0 and 3.0 are read", name, line,
                                    (int)(vl < 16 ? vl : 16), val);
        } else if (kl == 6 && !memcmp(k, "format", 6)) {
            /* "EVT3;height=720;width=1280" */
            const char *semi = memchr(val, ';', vl), *fe = semi ? semi : e;
            size_t fl = (size_t)(fe - val);
            if (fl == 4 && !memcmp(val, "EVT2", 4)) v_fmt = 2;
            else if (fl == 4 && !memcmp(val, "EVT3", 4)) v_fmt = 3;
            else
                return evsnn_seterr(EVSNN_ENOTSUP, "%s: offset %zu: '%% format %.*s': only EVT2 and EVT3 are read", name, line,
                                    (int)(fl < 16 ? fl : 16), val);
            for (const char *o = fe; o < e; o++) {
                if (*o != ';') continue;
                const char *q = o + 1;
                size_t ql = (size_t)(e - q);
                if (ql > 6 && !memcmp(q, "width=", 6) && parse_dim(q + 6, e, &fw) < 0) fw = 0;
                if (ql > 7 && !memcmp(q, "height=", 7) && parse_dim(q + 7, e, &fh) < 0) fh = 0;
                if (ql > 14 && !memcmp(q, "endianness=big", 14))
                    return evsnn_seterr(EVSNN_ENOTSUP, "%s: offset %zu: big-endian RAW data is not read (little-endian is "
                                                       "the sensors' default)", name, line);
            }
        } else if (kl == 8 && !memcmp(k, "geometry", 8)) {
            int a = parse_dim(val, e, &gw);
            if (a < 0 || val + a >= e || val[a] != 'x' || parse_dim(val + a + 1, e, &gh) < 0)
                return evsnn_seterr(EVSNN_EFORMAT, "%s: offset %zu: '%% geometry %.*s', expected WIDTHxHEIGHT", name, line,
                                    (int)(vl < 32 ? vl : 32), val);
        }
        if (i > EVT_HDR_MAX) return evsnn_seterr(EVSNN_EFORMAT, "%s: RAW header longer than %u bytes", name, EVT_HDR_MAX);
    }
    if (v_evt && v_fmt && v_evt != v_fmt)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: RAW header: '%% evt' says EVT %d.0, '%% format' says EVT%d", name, v_evt, v_fmt);
    *version = v_fmt ? v_fmt : v_evt;
    if (!*version)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: RAW header has no '%% evt 2.0|3.0' or '%% format EVT2|EVT3' line (a Prophesee "
                                           "DAT file? only RAW EVT 2.0 / 3.0 is read)", name);
    *w = fw ? fw : gw, *h = fh ? fh : gh;
    if (!*w || !*h || *w > EVT_MAX_DIM || *h > EVT_MAX_DIM)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: RAW header: sensor %ux%u, expected a '%% geometry WxH' or format width/height "
                                           "of 1..%d", name, *w, *h, EVT_MAX_DIM);
    *len = i;
    return 0;
}

/* One CD event at (x, y) with polarity p at time t; outside the sensor it is skipped. */
#define EMIT(X, Y, P, T)                                                                              \
    do {                                                                                              \
        uint32_t x_ = (X), y_ = (Y);                                                                  \
        if (x_ >= s->width || y_ >= s->height) s->n_outside++;                                        \
        else {                                                                                        \
            s->n_cd++;                                                                                \
            if (e && (T) >= t_lo && (T) < t_hi) e[m++] = (ds_event){(T), (uint16_t)x_, (uint16_t)y_, (uint8_t)(P)}; \
        }                                                                                             \
    } while (0)

#define EVT_BLOCK 4096 /* words decoded per output reservation */

static int dec_evt2(const uint8_t *buf, size_t words, ds_evt_state *s, int64_t t_lo, int64_t t_hi, ds_evbuf *out) {
    for (size_t b = 0; b < words; b += EVT_BLOCK) {
        size_t nb = words - b < EVT_BLOCK ? words - b : EVT_BLOCK, m = 0;
        ds_event *e = NULL;
        if (out) {
            int rc = ds_evbuf_reserve(out, out->n + nb);
            if (rc) return rc;
            e = out->ev + out->n;
        }
        const uint8_t *p = buf + 4 * b;
        for (size_t i = 0; i < nb; i++, p += 4) {
            uint32_t w = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
            uint32_t type = w >> 28;
            if (type == 0x8) { /* EVT_TIME_HIGH: bits 27..0 = timestamp bits 33..6 */
                uint32_t th = w & 0x0FFFFFFF;
                if (s->have_time && s->high >= th + (1u << 27)) s->loops++; /* counter wrapped */
                s->high = th, s->have_time = 1;
                s->t = (int64_t)(s->loops << 34 | (uint64_t)th << 6);
                continue;
            }
            if (!s->have_time) {
                s->n_no_time++;
                continue;
            }
            if (type <= 0x1) { /* CD_OFF / CD_ON: 27..22 time LSBs, 21..11 x, 10..0 y */
                int64_t t = s->t | ((w >> 22) & 0x3F); /* the time base's 6 low bits are 0 */
                EMIT((w >> 11) & 0x7FF, w & 0x7FF, type, t);
            } else if (type == 0xA) s->n_trigger++;
            else s->n_other++;
        }
        if (out) out->n += m;
    }
    return 0;
}

static int dec_evt3(const uint8_t *buf, size_t words, ds_evt_state *s, int64_t t_lo, int64_t t_hi, ds_evbuf *out) {
    for (size_t b = 0; b < words; b += EVT_BLOCK) {
        size_t nb = words - b < EVT_BLOCK ? words - b : EVT_BLOCK, m = 0;
        ds_event *e = NULL;
        if (out) {
            int rc = ds_evbuf_reserve(out, out->n + 12 * nb); /* a VECT_12 word: up to 12 events */
            if (rc) return rc;
            e = out->ev + out->n;
        }
        const uint8_t *p = buf + 2 * b;
        for (size_t i = 0; i < nb; i++, p += 2) {
            uint32_t w = (uint32_t)p[0] | (uint32_t)p[1] << 8;
            uint32_t type = w >> 12;
            if (type == 0x8) { /* EVT_TIME_HIGH: bits 11..0 = time bits 23..12 */
                uint32_t th = w & 0xFFF;
                if (s->have_time && s->high >= th + 2048) s->loops++; /* the 24-bit time wrapped */
                int64_t low = s->have_time && th == s->high ? (s->t & 0xFFF) : 0;
                s->high = th, s->have_time = 1;
                s->t = (int64_t)(s->loops << 24 | (uint64_t)th << 12) | low;
                continue;
            }
            if (!s->have_time) {
                s->n_no_time++;
                continue;
            }
            int64_t t = s->t;
            switch (type) {
            case 0x0: s->y = w & 0x7FF; break;                        /* EVT_ADDR_Y (bit 11: system type) */
            case 0x2: EMIT(w & 0x7FF, s->y, (w >> 11) & 1, t); break; /* EVT_ADDR_X: one event */
            case 0x3: s->x = w & 0x7FF, s->pol = (w >> 11) & 1; break; /* VECT_BASE_X */
            case 0x4:                                                  /* VECT_12: bit k → x + k */
            case 0x5: {                                                /* VECT_8 */
                uint32_t bits = type == 0x4 ? w & 0xFFF : w & 0xFF, n = type == 0x4 ? 12 : 8;
                while (bits) {
                    uint32_t k = (uint32_t)__builtin_ctz(bits);
                    bits &= bits - 1;
                    EMIT(s->x + k, s->y, s->pol, t);
                }
                s->x += n;
                break;
            }
            case 0x6: s->t = (s->t & ~(int64_t)0xFFF) | (w & 0xFFF); break; /* EVT_TIME_LOW */
            case 0xA: s->n_trigger++; break;                                  /* EXT_TRIGGER */
            default: s->n_other++; break; /* CONTINUED_4/12, OTHERS, reserved */
            }
        }
        if (out) out->n += m;
    }
    return 0;
}

int ds_dec_evt(const uint8_t *buf, size_t n, uint64_t base, const char *name, ds_evt_state *s, int64_t t_lo,
               int64_t t_hi, ds_evbuf *out) {
    size_t ws = s->version == 2 ? 4 : 2;
    if (s->version != 2 && s->version != 3) return evsnn_seterr(EVSNN_EINVAL, "EVT version %d", s->version);
    int rc = s->version == 2 ? dec_evt2(buf, n / ws, s, t_lo, t_hi, out) : dec_evt3(buf, n / ws, s, t_lo, t_hi, out);
    if (!rc && n % ws)
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: offset %llu: truncated %zu-byte EVT %d.0 word (%zu bytes left)", name,
                          (unsigned long long)(base + n - n % ws), ws, s->version, n % ws);
    return rc;
}

/* ---------------------------------------------------------------- the reader */

typedef struct {
    uint64_t off;
    ds_evt_state st; /* decoder state before the chunk at off */
} evt_ckpt;

typedef struct {
    size_t hdr;
    uint64_t size;
    ds_evt_state init;
    evt_ckpt *ck; /* one per chunk, after the first full pass */
    size_t n_ck;
    int scanned;
    ds_evt_state total; /* counts of the full pass */
    int64_t *t_lo, *t_hi;
    uint8_t *chunk;
    ds_stream streams[5];
} evt_rd;

static void evt_close(void *st) {
    evt_rd *r = st;
    if (!r) return;
    free(r->ck), free(r->t_lo), free(r->t_hi), free(r->chunk), free(r);
}

/* Decode from checkpoint `from` (0: the header's end) until the state's time passes t_hi
 * (or the end). A full pass (from 0 without an index) records the checkpoints. */
static int evt_pass(dataset *d, size_t from, int64_t t_lo, int64_t t_hi, ds_evbuf *out) {
    evt_rd *r = d->st;
    int record = !r->scanned;
    FILE *f = fopen(d->path, "rb");
    if (!f) return evsnn_seterr(EVSNN_EIO, "%s: cannot open: %s", d->path, strerror(errno));
    ds_evt_state s = from ? r->ck[from].st : r->init;
    uint64_t off = from ? r->ck[from].off : r->hdr;
    size_t cap = 0;
    int rc = 0;
    if (fseeko(f, (off_t)off, SEEK_SET)) rc = evsnn_seterr(EVSNN_EIO, "%s: offset %llu: seek failed", d->path, (unsigned long long)off);
    while (!rc && off < r->size) {
        if (!record && s.have_time && s.t >= t_hi) break; /* later words are later in time */
        if (record) {
            if ((rc = ds_grow(&r->ck, &cap, r->n_ck, sizeof *r->ck, 64))) break;
            r->ck[r->n_ck++] = (evt_ckpt){off, s};
        }
        size_t want = r->size - off < EVT_CHUNK ? (size_t)(r->size - off) : EVT_CHUNK;
        if (fread(r->chunk, 1, want, f) != want) {
            rc = evsnn_seterr(EVSNN_EIO, "%s: offset %llu: read failed", d->path, (unsigned long long)off);
            break;
        }
        rc = ds_dec_evt(r->chunk, want, off, d->path, &s, t_lo, t_hi, out);
        off += want;
    }
    fclose(f);
    if (!rc && record) {
        r->scanned = 1;
        r->total = s;
    } else if (rc && record) r->n_ck = 0;
    return rc;
}

static int evt_events(dataset *d, uint32_t k, ds_evbuf *out, int64_t *t0) {
    evt_rd *r = d->st;
    int64_t lo = r->t_lo[k], hi = r->t_hi[k];
    int rc;
    if (lo == INT64_MIN) {
        /* Unscanned, this pass over the whole file also records the checkpoints and counts. */
        if ((rc = evt_pass(d, 0, lo, hi, out))) return rc;
        int64_t m = out->n ? out->ev[0].t : 0;
        for (size_t i = 1; i < out->n; i++)
            if (out->ev[i].t < m) m = out->ev[i].t;
        *t0 = m;
        return 0;
    }
    if (!r->scanned && (rc = evt_pass(d, 0, lo, hi, NULL))) return rc;
    /* last chunk boundary whose state time is before lo (no time base yet counts as before) */
    size_t a = 0;
    for (size_t i = 1; i < r->n_ck; i++) {
        if (r->ck[i].st.have_time && r->ck[i].st.t >= lo) break;
        a = i;
    }
    *t0 = lo;
    return evt_pass(d, a, lo, hi, out);
}

static int evt_streams(dataset *d, const ds_stream **s, size_t *n) {
    evt_rd *r = d->st;
    int rc;
    if (!r->scanned && (rc = evt_pass(d, 0, INT64_MIN, INT64_MAX, NULL))) return rc;
    const ds_evt_state *t = &r->total;
    const char *names[5] = {"CD", "EXT_TRIGGER", "OUTSIDE_SENSOR", "OTHER", "NO_TIME_BASE"};
    uint64_t cnt[5] = {t->n_cd, t->n_trigger, t->n_outside, t->n_other, t->n_no_time};
    for (int i = 0; i < 5; i++) {
        r->streams[i] = (ds_stream){.id = -1, .elements = (int64_t)cnt[i], .used = i == 0};
        snprintf(r->streams[i].type, sizeof r->streams[i].type, "%s", names[i]);
    }
    *s = r->streams, *n = 5;
    return 0;
}

static const ds_reader evt2_reader = {"evt2", evt_events, NULL, evt_close};
static const ds_reader evt3_reader = {"evt3", evt_events, NULL, evt_close};

int rd_evt_open(dataset *d, const char *path) {
    evt_rd *r = calloc(1, sizeof *r);
    if (!r) return evsnn_seterr(EVSNN_ENOMEM, "no memory");
    d->st = r, d->rd = &evt3_reader, d->streams = evt_streams;
    FILE *f = fopen(path, "rb");
    if (!f) return evsnn_seterr(EVSNN_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb)) return fclose(f), evsnn_seterr(EVSNN_EIO, "%s: cannot stat", path);
    r->size = (uint64_t)sb.st_size;
    if (!(r->chunk = malloc(EVT_CHUNK))) return fclose(f), evsnn_seterr(EVSNN_ENOMEM, "no memory");
    size_t got = fread(r->chunk, 1, EVT_CHUNK, f);
    fclose(f);
    int version, rc;
    uint32_t w, h;
    if ((rc = ds_dec_evt_header(r->chunk, got, path, &r->hdr, &version, &w, &h))) return rc;
    if (r->hdr == got && r->size > got)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: RAW header longer than %u bytes", path, EVT_CHUNK);
    r->init = (ds_evt_state){.version = version, .width = w, .height = h};
    d->rd = version == 2 ? &evt2_reader : &evt3_reader;
    d->fmt = d->rd->name;
    d->geo = (ds_geometry){DS_KIND_XY, w, h, 2};
    ds_slice *sl = NULL;
    size_t ns = 0;
    if ((rc = ds_side_labels(path, &sl, &ns))) return rc;
    size_t tot = ns ? ns : 1;
    r->t_lo = malloc(tot * sizeof *r->t_lo);
    r->t_hi = malloc(tot * sizeof *r->t_hi);
    d->labels = malloc(tot * sizeof *d->labels);
    if (!r->t_lo || !r->t_hi || !d->labels) return free(sl), evsnn_seterr(EVSNN_ENOMEM, "no memory");
    for (size_t i = 0; i < tot; i++) {
        r->t_lo[i] = ns ? sl[i].t0 : INT64_MIN;
        r->t_hi[i] = ns ? sl[i].t1 : INT64_MAX;
        d->labels[i] = ns ? sl[i].label : -1;
        if (d->labels[i] >= 0 && (uint32_t)d->labels[i] + 1 > d->n_classes) d->n_classes = (uint32_t)d->labels[i] + 1;
    }
    d->n_all = (uint32_t)tot;
    free(sl);
    return 0;
}
