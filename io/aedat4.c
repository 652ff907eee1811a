/* io/aedat4.c — AEDAT 4.0 decoding (io/aedat4.h): bounds-checked flatbuffer reading, the
 * IOHeader and its infoNode XML, LZ4 frame / zstd decompression (liblz4, libzstd), event
 * packets, the FileDataTable, and the packet index of a whole recording.
 *
 * Flatbuffer encoding used here (flatbuffers.dev, "internals"): all little-endian; a buffer
 * starts with a u32 offset to the root table (and, when the schema declares one, a
 * 4-character file identifier after it); a table starts with an i32 soffset, the table's
 * position minus its vtable's; a vtable is u16 vtable size, u16 table size, then one u16
 * per field: the field's offset inside the table, 0 = absent (the schema default applies);
 * a reference field (vector, string, table) holds a u32 offset from the field itself to
 * the target; a vector is a u32 count then the elements; a string a vector of bytes plus a
 * terminating 0; vectors of tables hold one u32 offset per element. */
#include "io/aedat4.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <lz4frame.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "sim/evsnn.h"

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

const char *a4_compression_name(a4_compression c) {
    static const char *n[] = {"none", "LZ4", "LZ4_HIGH", "zstd", "zstd_HIGH"};
    return (unsigned)c <= A4_ZSTD_HIGH ? n[c] : "unknown";
}

/* ---------------------------------------------------------------- flatbuffers, checked */

typedef struct {
    const uint8_t *b;
    size_t n;
    const char *name; /* file */
    const char *what; /* "IOHeader", "packet at offset 2334", ... */
} fbuf;

typedef struct {
    size_t pos, vt;
    uint16_t vsize, tsize;
} fbtab;

#define FB_ERR(f, at, ...) fb_err(f, at, __VA_ARGS__)
__attribute__((format(printf, 3, 4))) static int fb_err(const fbuf *f, size_t at, const char *fmt, ...) {
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return evsnn_seterr(EVSNN_EFORMAT, "%s: %s: flatbuffer byte %zu: %s (the flatbuffer has %zu bytes)", f->name, f->what,
                        at, why, f->n);
}

/* The table at pos: its soffset, vtable and table size all inside the buffer. */
static int fb_table(const fbuf *f, size_t pos, fbtab *t) {
    if (pos > f->n || f->n - pos < 4) return FB_ERR(f, pos, "table starts outside the buffer");
    int64_t vt = (int64_t)pos - (int64_t)(int32_t)le32(f->b + pos);
    if (vt < 0 || (uint64_t)vt > f->n - 4)
        return FB_ERR(f, pos, "table's vtable at %lld is outside the buffer", (long long)vt);
    t->pos = pos, t->vt = (size_t)vt;
    t->vsize = le16(f->b + t->vt), t->tsize = le16(f->b + t->vt + 2);
    if (t->vsize < 4 || t->vsize % 2 || t->vsize > f->n - t->vt)
        return FB_ERR(f, t->vt, "vtable of %u bytes does not fit (expected an even size >= 4 inside the buffer)", t->vsize);
    if (t->tsize < 4 || t->tsize > f->n - pos)
        return FB_ERR(f, t->vt + 2, "table of %u bytes at %zu does not fit", t->tsize, pos);
    return 0;
}

/* Field k of size bytes: 0 absent (*at = 0), 1 present (*at = its buffer position). */
static int fb_field(const fbuf *f, const fbtab *t, unsigned k, size_t size, size_t *at) {
    *at = 0;
    size_t e = 4 + 2 * (size_t)k;
    if (e + 2 > t->vsize) return 0;
    uint16_t fo = le16(f->b + t->vt + e);
    if (!fo) return 0;
    if ((size_t)fo + size > t->tsize)
        return FB_ERR(f, t->vt + e, "field %u at table offset %u (%zu bytes) lies outside its %u-byte table", k, fo, size,
                      t->tsize);
    *at = t->pos + fo;
    return 1;
}

/* The target of the u32 offset stored at `at`. */
static int fb_deref(const fbuf *f, size_t at, size_t *target) {
    uint64_t tg = (uint64_t)at + le32(f->b + at);
    if (tg > f->n) return FB_ERR(f, at, "offset to %llu points outside the buffer", (unsigned long long)tg);
    *target = (size_t)tg;
    return 0;
}

/* The vector referenced by the offset at `at`: first element position, count. */
static int fb_vector(const fbuf *f, size_t at, size_t esize, size_t *first, uint32_t *count) {
    size_t v = 0;
    int rc = fb_deref(f, at, &v);
    if (rc) return rc;
    if (f->n - v < 4) return FB_ERR(f, v, "vector length outside the buffer");
    uint32_t c = le32(f->b + v);
    if ((uint64_t)c * esize > f->n - v - 4)
        return FB_ERR(f, v, "vector of %u × %zu bytes runs past the end (%zu bytes left)", c, esize, f->n - v - 4);
    *first = v + 4, *count = c;
    return 0;
}

/* The root table of an unprefixed flatbuffer. */
static int fb_root(const fbuf *f, fbtab *t) {
    if (f->n < 8) return FB_ERR(f, 0, "too short for a root offset and file identifier");
    size_t r = 0;
    int rc = fb_deref(f, 0, &r);
    return rc ? rc : fb_table(f, r, t);
}

int a4_fb_open(const uint8_t *buf, size_t n, const char *name, uint64_t off, const uint8_t **fb, size_t *fn,
               char ident[5]) {
    if (n < 12)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: packet at offset %llu: %zu decompressed bytes, too few for a size-prefixed "
                                           "flatbuffer (>= 12)", name, (unsigned long long)off, n);
    uint32_t size = le32(buf);
    if (size < 8 || size > n - 4)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: packet at offset %llu: flatbuffer size prefix %u does not match the %zu "
                                           "decompressed bytes (expected 8 .. %zu)", name, (unsigned long long)off, size,
                            n, n - 4);
    *fb = buf + 4, *fn = size;
    for (int k = 0; k < 4; k++) {
        uint8_t c = buf[8 + k];
        ident[k] = c >= 0x20 && c < 0x7F ? (char)c : '?';
    }
    ident[4] = 0;
    return 0;
}

/* ---------------------------------------------------------------- IOHeader, infoNode */

void a4_header_free(a4_header *h) {
    free(h->streams);
    memset(h, 0, sizeof *h);
}

int a4_stream_index(const a4_header *h, int32_t id) {
    for (uint32_t i = 0; i < h->n_streams; i++)
        if (h->streams[i].id == id) return (int)i;
    return -1;
}

/* Value of attribute `key` ("name", "key") inside a tag's text t[0..n): copied to out. */
static int tag_attr(const char *t, size_t n, const char *key, char *out, size_t cap) {
    size_t kl = strlen(key);
    for (size_t i = 0; i + kl + 2 <= n; i++) {
        if (memcmp(t + i, key, kl) || t[i + kl] != '=' || (t[i + kl + 1] != '"' && t[i + kl + 1] != '\'')) continue;
        if (i && t[i - 1] != ' ' && t[i - 1] != '\t' && t[i - 1] != '\n' && t[i - 1] != '\r') continue;
        char q = t[i + kl + 1];
        size_t a = i + kl + 2, b = a;
        while (b < n && t[b] != q) b++;
        if (b >= n) return -1;
        size_t l = b - a < cap - 1 ? b - a : cap - 1;
        memcpy(out, t + a, l);
        out[l] = 0;
        return 1;
    }
    return 0;
}

static int parse_u32_str(const char *s, uint32_t *v) {
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || end == s || *end || x > UINT32_MAX || s[0] == '-') return -1;
    *v = (uint32_t)x;
    return 0;
}

#define XML_DEPTH 32

/* DV's infoNode: nested <node name="..."> elements holding <attr key=".." type="..">value
 * </attr>. A stream is a node with a numeric name and a typeIdentifier attr; its sizeX and
 * sizeY sit in its child node "info". */
static int parse_info(const char *x, size_t n, const char *name, a4_header *h) {
    int st[XML_DEPTH], info[XML_DEPTH]; /* per open element: its stream index or -1; info-of */
    int depth = 0;
    uint32_t cap = 0;
    size_t i = 0;
    while (i < n) {
        const char *lt = memchr(x + i, '<', n - i);
        if (!lt) break;
        i = (size_t)(lt - x);
        size_t start = i;
        if (n - i >= 4 && !memcmp(x + i, "<!--", 4)) {
            const char *e = NULL;
            for (size_t j = i + 4; j + 3 <= n; j++)
                if (!memcmp(x + j, "-->", 3)) { e = x + j; break; }
            if (!e) return evsnn_seterr(EVSNN_EFORMAT, "%s: IOHeader infoNode byte %zu: comment does not end", name, start);
            i = (size_t)(e - x) + 3;
            continue;
        }
        /* the tag's end, outside quotes */
        size_t j = i + 1;
        char q = 0;
        while (j < n && (q || x[j] != '>')) {
            if (q && x[j] == q) q = 0;
            else if (!q && (x[j] == '"' || x[j] == '\'')) q = x[j];
            j++;
        }
        if (j >= n) return evsnn_seterr(EVSNN_EFORMAT, "%s: IOHeader infoNode byte %zu: tag does not end with '>'", name, start);
        const char *t = x + i + 1;
        size_t tl = j - i - 1;
        i = j + 1;
        if (tl && (t[0] == '?' || t[0] == '!')) continue; /* <?xml ...?>, <!DOCTYPE ...> */
        if (tl && t[0] == '/') {
            if (depth > 0) depth--;
            continue;
        }
        int self = tl && t[tl - 1] == '/';
        size_t nl = 0;
        while (nl < tl && t[nl] != ' ' && t[nl] != '\t' && t[nl] != '\n' && t[nl] != '\r' && t[nl] != '/') nl++;
        int parent_st = depth ? st[depth - 1] : -1, parent_info = depth ? info[depth - 1] : -1;
        if (nl == 4 && !memcmp(t, "attr", 4)) {
            char key[64] = "", val[64] = "";
            if (tag_attr(t, tl, "key", key, sizeof key) < 0)
                return evsnn_seterr(EVSNN_EFORMAT, "%s: IOHeader infoNode byte %zu: attr key is not quoted", name, start);
            if (!self) {
                const char *e = NULL;
                for (size_t k = i; k + 7 <= n; k++)
                    if (!memcmp(x + k, "</attr>", 7)) { e = x + k; break; }
                if (!e) return evsnn_seterr(EVSNN_EFORMAT, "%s: IOHeader infoNode byte %zu: <attr> without </attr>", name, start);
                size_t vl = (size_t)(e - (x + i));
                if (vl > sizeof val - 1) vl = sizeof val - 1;
                memcpy(val, x + i, vl);
                val[vl] = 0;
                i = (size_t)(e - x) + 7;
            }
            if (parent_st >= 0 && !strcmp(key, "typeIdentifier")) {
                char *ty = h->streams[parent_st].type; /* 4 characters in DV; longer ones cut to 7 */
                size_t l = strlen(val), cap = sizeof h->streams[parent_st].type - 1;
                if (l > cap) l = cap;
                memcpy(ty, val, l);
                ty[l] = 0;
            } else if (parent_info >= 0 && (!strcmp(key, "sizeX") || !strcmp(key, "sizeY"))) {
                uint32_t v;
                if (parse_u32_str(val, &v) || v == 0 || v > 32768)
                    return evsnn_seterr(EVSNN_EFORMAT, "%s: IOHeader infoNode byte %zu: stream %d %s '%s', expected 1..32768",
                                        name, start, h->streams[parent_info].id, key, val);
                if (key[4] == 'X') h->streams[parent_info].width = v;
                else h->streams[parent_info].height = v;
            }
            continue;
        }
        int my_st = -1, my_info = -1;
        if (nl == 4 && !memcmp(t, "node", 4)) {
            char nm[64] = "";
            if (tag_attr(t, tl, "name", nm, sizeof nm) < 0)
                return evsnn_seterr(EVSNN_EFORMAT, "%s: IOHeader infoNode byte %zu: node name is not quoted", name, start);
            uint32_t id;
            if (nm[0] && parse_u32_str(nm, &id) == 0 && id <= INT32_MAX) {
                if (a4_stream_index(h, (int32_t)id) >= 0)
                    return evsnn_seterr(EVSNN_EFORMAT, "%s: IOHeader infoNode byte %zu: stream %u declared twice", name, start, id);
                if (h->n_streams == cap) {
                    cap = cap ? 2 * cap : 8;
                    a4_stream *p = realloc(h->streams, cap * sizeof *p);
                    if (!p) return evsnn_seterr(EVSNN_ENOMEM, "%s: no memory for the stream list", name);
                    h->streams = p;
                }
                my_st = (int)h->n_streams;
                h->streams[h->n_streams++] = (a4_stream){.id = (int32_t)id};
            } else if (!strcmp(nm, "info") && parent_st >= 0) {
                my_info = parent_st;
            }
        }
        if (self) continue;
        if (depth == XML_DEPTH)
            return evsnn_seterr(EVSNN_EFORMAT, "%s: IOHeader infoNode byte %zu: elements nested deeper than %d", name, start,
                                XML_DEPTH);
        st[depth] = my_st, info[depth] = my_info;
        depth++;
    }
    /* Numeric nodes without a typeIdentifier are not streams. */
    uint32_t k = 0;
    for (uint32_t s = 0; s < h->n_streams; s++)
        if (h->streams[s].type[0]) h->streams[k++] = h->streams[s];
    h->n_streams = k;
    h->events = -1;
    for (uint32_t s = 0; s < h->n_streams; s++)
        if (!strcmp(h->streams[s].type, "EVTS") && (h->events < 0 || h->streams[s].id < h->streams[h->events].id))
            h->events = (int)s;
    if (h->events >= 0 && (!h->streams[h->events].width || !h->streams[h->events].height))
        return evsnn_seterr(EVSNN_EFORMAT, "%s: IOHeader infoNode: event stream %d has no sizeX/sizeY in its info node", name,
                            h->streams[h->events].id);
    return 0;
}

int a4_parse_header(const uint8_t *b, size_t n, const char *name, a4_header *h) {
    memset(h, 0, sizeof *h);
    h->table_pos = -1;
    h->events = -1;
    fbuf f = {b, n, name, "IOHeader"};
    fbtab t;
    size_t at;
    int rc = fb_root(&f, &t);
    if (rc) return rc;
    if (memcmp(b + 4, "IOHE", 4))
        return FB_ERR(&f, 4, "file identifier '%.4s', expected 'IOHE'", (const char *)b + 4);
    if ((rc = fb_field(&f, &t, 0, 4, &at)) < 0) return rc;
    if (rc) {
        int32_t c = (int32_t)le32(b + at);
        if (c < A4_NONE || c > A4_ZSTD_HIGH)
            return FB_ERR(&f, at, "compression %d, expected 0 none, 1 LZ4, 2 LZ4_HIGH, 3 ZSTD or 4 ZSTD_HIGH", c);
        h->compression = (a4_compression)c;
    }
    if ((rc = fb_field(&f, &t, 1, 8, &at)) < 0) return rc;
    if (rc) {
        h->table_pos = (int64_t)le64(b + at);
        h->table_pos_field = at;
    }
    if ((rc = fb_field(&f, &t, 2, 4, &at)) < 0) return rc;
    if (!rc) return FB_ERR(&f, t.vt, "IOHeader has no infoNode (expected the XML stream description)");
    size_t s;
    uint32_t len;
    if ((rc = fb_vector(&f, at, 1, &s, &len))) return rc;
    rc = parse_info((const char *)b + s, len, name, h);
    if (!rc && !h->n_streams)
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: IOHeader infoNode declares no streams (no <node name=\"N\"> with a "
                                         "typeIdentifier)", name);
    if (rc) a4_header_free(h);
    return rc;
}

/* ---------------------------------------------------------------- decompression */

struct a4_dec {
    LZ4F_dctx *lz4;
    ZSTD_DCtx *zs;
    uint8_t *buf;
    size_t cap;
};

a4_dec *a4_dec_create(void) {
    a4_dec *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&d->lz4, LZ4F_VERSION)) || !(d->zs = ZSTD_createDCtx())) {
        a4_dec_free(d);
        return NULL;
    }
    return d;
}

void a4_dec_free(a4_dec *d) {
    if (!d) return;
    if (d->lz4) LZ4F_freeDecompressionContext(d->lz4);
    ZSTD_freeDCtx(d->zs);
    free(d->buf);
    free(d);
}

/* At least 64 KiB free after `used` bytes, never more than max + 1 bytes in all (one byte
 * past max shows that the packet inflates beyond it). */
static int dec_room(a4_dec *d, size_t used, size_t max, const char *name, uint64_t off) {
    if (d->cap - used >= 65536 || d->cap > max) return 0;
    size_t nc = d->cap ? d->cap * 2 : 1u << 18;
    while (nc - used < 65536) nc *= 2;
    if (nc > max + 1) nc = max + 1;
    uint8_t *p = realloc(d->buf, nc);
    if (!p) return evsnn_seterr(EVSNN_ENOMEM, "%s: packet at offset %llu: no memory for %zu decompressed bytes", name,
                                (unsigned long long)off, nc);
    d->buf = p, d->cap = nc;
    return 0;
}

int a4_decompress(a4_dec *d, a4_compression c, const uint8_t *src, size_t n, size_t max, const char *name,
                  uint64_t off, const uint8_t **out, size_t *out_n) {
    unsigned long long o = (unsigned long long)off;
    if (c == A4_NONE) {
        *out = src, *out_n = n;
        return 0;
    }
    size_t in = 0, got = 0;
    int rc;
    if (c == A4_LZ4 || c == A4_LZ4_HIGH) {
        LZ4F_resetDecompressionContext(d->lz4);
        for (;;) {
            if ((rc = dec_room(d, got, max, name, off))) return rc;
            size_t dn = d->cap - got, sn = n - in;
            size_t r = LZ4F_decompress(d->lz4, d->buf + got, &dn, src + in, &sn, NULL);
            if (LZ4F_isError(r))
                return evsnn_seterr(EVSNN_EFORMAT, "%s: packet at offset %llu: LZ4 frame does not decompress at byte %zu of "
                                                   "%zu: %s", name, o, in, n, LZ4F_getErrorName(r));
            in += sn, got += dn;
            if (got > max) break;
            if (r == 0) break; /* frame complete */
            if (in == n && dn == 0)
                return evsnn_seterr(EVSNN_EFORMAT, "%s: packet at offset %llu: LZ4 frame ends early (%zu bytes, truncated "
                                                   "packet?)", name, o, n);
        }
    } else {
        ZSTD_DCtx_reset(d->zs, ZSTD_reset_session_only);
        ZSTD_inBuffer ib = {src, n, 0};
        for (;;) {
            if ((rc = dec_room(d, got, max, name, off))) return rc;
            ZSTD_outBuffer ob = {d->buf + got, d->cap - got, 0};
            size_t r = ZSTD_decompressStream(d->zs, &ob, &ib);
            if (ZSTD_isError(r))
                return evsnn_seterr(EVSNN_EFORMAT, "%s: packet at offset %llu: zstd frame does not decompress at byte %zu of "
                                                   "%zu: %s", name, o, ib.pos, n, ZSTD_getErrorName(r));
            got += ob.pos;
            if (got > max) break;
            if (r == 0) break;
            if (ib.pos == ib.size && ob.pos < ob.size)
                return evsnn_seterr(EVSNN_EFORMAT, "%s: packet at offset %llu: zstd frame ends early (%zu bytes, truncated "
                                                   "packet?)", name, o, n);
        }
        in = ib.pos;
    }
    if (got > max)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: packet at offset %llu: decompresses to more than %zu bytes (the limit of one "
                                           "packet)", name, o, max);
    if (in != n)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: packet at offset %llu: %zu bytes after the end of its %s frame (expected one "
                                           "frame filling the packet)", name, o, n - in, a4_compression_name(c));
    *out = d->buf, *out_n = got;
    return 0;
}

/* ---------------------------------------------------------------- event packets, data table */

int a4_event_packet(const uint8_t *b, size_t n, const char *name, uint64_t off, a4_events *ev) {
    char what[64];
    snprintf(what, sizeof what, "packet at offset %llu", (unsigned long long)off);
    fbuf f = {b, n, name, what};
    fbtab t;
    size_t at;
    ev->el = NULL, ev->n = 0;
    int rc = fb_root(&f, &t);
    if (rc) return rc;
    if ((rc = fb_field(&f, &t, 0, 4, &at)) <= 0) return rc; /* no elements: an empty packet */
    size_t first;
    if ((rc = fb_vector(&f, at, A4_EVENT_BYTES, &first, &ev->n))) return rc;
    ev->el = b + first;
    return 0;
}

int a4_data_table(const uint8_t *b, size_t n, const char *name, uint64_t off, a4_table_entry **out, size_t *n_out) {
    char what[64];
    snprintf(what, sizeof what, "data table at offset %llu", (unsigned long long)off);
    fbuf f = {b, n, name, what};
    fbtab t;
    size_t at, first;
    uint32_t cnt = 0;
    *out = NULL, *n_out = 0;
    int rc = fb_root(&f, &t);
    if (rc) return rc;
    if (memcmp(b + 4, "FTAB", 4)) return FB_ERR(&f, 4, "file identifier '%.4s', expected 'FTAB'", (const char *)b + 4);
    if ((rc = fb_field(&f, &t, 0, 4, &at)) <= 0) return rc;
    if ((rc = fb_vector(&f, at, 4, &first, &cnt))) return rc;
    a4_table_entry *e = calloc(cnt ? cnt : 1, sizeof *e);
    if (!e) return evsnn_seterr(EVSNN_ENOMEM, "%s: no memory for a data table of %u entries", name, cnt);
    for (uint32_t i = 0; i < cnt && !rc; i++) {
        size_t pos = 0;
        fbtab d;
        if ((rc = fb_deref(&f, first + 4 * (size_t)i, &pos)) || (rc = fb_table(&f, pos, &d))) break;
        /* FileDataDefinition: 0 ByteOffset i64, 1 PacketInfo {i32 StreamID, i32 Size},
         * 2 NumElements i64, 3 TimestampStart i64, 4 TimestampEnd i64 (all default 0). */
        int64_t *dst[] = {&e[i].offset, NULL, &e[i].elements, &e[i].t_start, &e[i].t_end};
        for (unsigned k = 0; k < 5 && !rc; k++) {
            size_t fa;
            if ((rc = fb_field(&f, &d, k, 8, &fa)) < 0) break;
            if (rc == 0) continue;
            rc = 0;
            if (k == 1) {
                e[i].stream = (int32_t)le32(b + fa);
                e[i].size = (int32_t)le32(b + fa + 4);
            } else *dst[k] = (int64_t)le64(b + fa);
        }
    }
    if (rc < 0) {
        free(e);
        return rc;
    }
    *out = e, *n_out = cnt;
    return 0;
}

/* ---------------------------------------------------------------- a whole recording */

struct a4_file {
    char name[512];
    int fd;                 /* -1: in memory */
    const uint8_t *mem;
    uint64_t size;
    uint8_t *prologue;      /* magic + u32 + IOHeader */
    size_t prologue_n;
    a4_header h;
    int has_table;
    a4_packet *pk;
    size_t n_pk;
    uint8_t *raw;           /* one packet's bytes (file mode) */
    size_t raw_cap;
    a4_dec *dec;
};

/* n bytes at file offset off into dst, or a pointer into memory. */
static int f_read(a4_file *f, uint64_t off, size_t n, uint8_t **dst, size_t *cap, const uint8_t **p) {
    if (off > f->size || n > f->size - off)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: offset %llu: %zu bytes run past the end of the file (%llu bytes)", f->name,
                            (unsigned long long)off, n, (unsigned long long)f->size);
    if (f->fd < 0) {
        *p = f->mem + off;
        return 0;
    }
    if (n > *cap) {
        uint8_t *q = realloc(*dst, n ? n : 1);
        if (!q) return evsnn_seterr(EVSNN_ENOMEM, "%s: no memory for %zu bytes", f->name, n);
        *dst = q, *cap = n;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(f->fd, *dst + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0)
            return evsnn_seterr(EVSNN_EIO, "%s: offset %llu: read failed: %s", f->name, (unsigned long long)(off + got),
                                r ? strerror(errno) : "unexpected end of file");
        got += (size_t)r;
    }
    *p = *dst;
    return 0;
}

void a4_file_close(a4_file *f) {
    if (!f) return;
    if (f->fd >= 0) close(f->fd);
    a4_header_free(&f->h);
    free(f->prologue), free(f->pk), free(f->raw);
    a4_dec_free(f->dec);
    free(f);
}

const a4_header *a4_file_header(const a4_file *f) { return &f->h; }
int a4_file_has_table(const a4_file *f) { return f->has_table; }
size_t a4_file_packets(const a4_file *f, const a4_packet **pk) {
    *pk = f->pk;
    return f->n_pk;
}
void a4_file_prologue(const a4_file *f, const uint8_t **p, size_t *n) { *p = f->prologue, *n = f->prologue_n; }

static int add_packet(a4_file *f, size_t *cap, const a4_packet *p) {
    if (f->n_pk == *cap) {
        *cap = *cap ? 2 * *cap : 256;
        a4_packet *q = realloc(f->pk, *cap * sizeof *q);
        if (!q) return evsnn_seterr(EVSNN_ENOMEM, "%s: no memory for the packet index", f->name);
        f->pk = q;
    }
    f->pk[f->n_pk++] = *p;
    return 0;
}

static int check_stream(a4_file *f, int32_t id, uint64_t off) {
    if (a4_stream_index(&f->h, id) >= 0) return 0;
    char ids[128] = "";
    size_t k = 0;
    for (uint32_t i = 0; i < f->h.n_streams && k + 16 < sizeof ids; i++)
        k += (size_t)snprintf(ids + k, sizeof ids - k, "%s%d %s", i ? ", " : "", f->h.streams[i].id, f->h.streams[i].type);
    return evsnn_seterr(EVSNN_EFORMAT, "%s: packet at offset %llu: stream id %d is not declared in the IOHeader (streams: %s)",
                        f->name, (unsigned long long)off, id, ids);
}

/* The packet index from the data table at h.table_pos (to the end of the file). */
static int index_table(a4_file *f, uint64_t data_start) {
    uint64_t tp = (uint64_t)f->h.table_pos;
    const uint8_t *p, *dec, *fb;
    size_t dn, fn, cap = 0;
    char ident[5];
    if (f->size - tp > A4_MAX_PACKET) /* the sample's: 4,010 bytes for 118 packets */
        return evsnn_seterr(EVSNN_EFORMAT, "%s: IOHeader: dataTablePosition %llu leaves %llu bytes for the data table, more "
                                           "than %u", f->name, (unsigned long long)tp, (unsigned long long)(f->size - tp),
                            A4_MAX_PACKET);
    int rc = f_read(f, tp, (size_t)(f->size - tp), &f->raw, &f->raw_cap, &p);
    if (rc) return rc;
    if ((rc = a4_decompress(f->dec, f->h.compression, p, (size_t)(f->size - tp), A4_MAX_PACKET, f->name, tp, &dec, &dn)))
        return rc;
    if ((rc = a4_fb_open(dec, dn, f->name, tp, &fb, &fn, ident))) return rc;
    a4_table_entry *e;
    size_t ne;
    if ((rc = a4_data_table(fb, fn, f->name, tp, &e, &ne))) return rc;
    uint64_t prev_end = data_start;
    for (size_t i = 0; i < ne && !rc; i++) {
        uint64_t hdr = (uint64_t)e[i].offset - 8;
        if (e[i].offset < 8 || hdr < prev_end || (uint64_t)e[i].offset > tp || e[i].size < 0 ||
            (uint64_t)e[i].size > tp - (uint64_t)e[i].offset) {
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: data table at offset %llu: entry %zu: packet at %lld of %d bytes is not "
                                             "inside the packet area [%llu, %llu) after the previous one", f->name,
                              (unsigned long long)tp, i, (long long)e[i].offset, e[i].size,
                              (unsigned long long)data_start, (unsigned long long)tp);
            break;
        }
        if ((rc = check_stream(f, e[i].stream, hdr))) break;
        a4_packet pk = {hdr, e[i].stream, (uint32_t)e[i].size, e[i].elements, e[i].t_start, e[i].t_end};
        rc = add_packet(f, &cap, &pk);
        prev_end = (uint64_t)e[i].offset + (uint64_t)e[i].size;
    }
    free(e);
    return rc;
}

/* The packet index by walking the 8-byte packet headers from data_start to `end`. */
static int index_walk(a4_file *f, uint64_t off, uint64_t end) {
    size_t cap = 0;
    while (off < end) {
        const uint8_t *p;
        int rc;
        if (end - off < 8)
            return evsnn_seterr(EVSNN_EFORMAT, "%s: offset %llu: truncated packet header (%llu of 8 bytes)", f->name,
                                (unsigned long long)off, (unsigned long long)(end - off));
        if ((rc = f_read(f, off, 8, &f->raw, &f->raw_cap, &p))) return rc;
        int32_t id = (int32_t)le32(p), size = (int32_t)le32(p + 4);
        if (size < 0 || (uint64_t)size > end - off - 8)
            return evsnn_seterr(EVSNN_EFORMAT, "%s: packet at offset %llu: size %d runs past the end of the packets (%llu "
                                               "bytes left, truncated file?)", f->name, (unsigned long long)off, size,
                                (unsigned long long)(end - off - 8));
        if ((rc = check_stream(f, id, off))) return rc;
        a4_packet pk = {off, id, (uint32_t)size, -1, INT64_MIN, INT64_MIN};
        if ((rc = add_packet(f, &cap, &pk))) return rc;
        off += 8 + (uint64_t)size;
    }
    return 0;
}

static int file_init(a4_file *f) {
    const uint8_t *p;
    int rc;
    if (!(f->dec = a4_dec_create())) return evsnn_seterr(EVSNN_ENOMEM, "%s: no memory for the decompressors", f->name);
    if (f->size < A4_MAGIC_LEN + 4)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: offset 0: %llu bytes, too short for the AEDAT 4.0 header", f->name,
                            (unsigned long long)f->size);
    if ((rc = f_read(f, 0, A4_MAGIC_LEN + 4, &f->raw, &f->raw_cap, &p))) return rc;
    if (memcmp(p, A4_MAGIC, A4_MAGIC_LEN))
        return evsnn_seterr(EVSNN_EFORMAT, "%s: offset 0: expected the line '#!AER-DAT4.0\\r\\n'", f->name);
    uint32_t hl = le32(p + A4_MAGIC_LEN);
    if (hl > A4_MAX_HEADER || hl > f->size - A4_MAGIC_LEN - 4)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: offset %d: IOHeader length %u runs past the end of the file or exceeds %u bytes",
                            f->name, A4_MAGIC_LEN, hl, A4_MAX_HEADER);
    f->prologue_n = A4_MAGIC_LEN + 4 + (size_t)hl;
    if (!(f->prologue = malloc(f->prologue_n))) return evsnn_seterr(EVSNN_ENOMEM, "%s: no memory", f->name);
    if ((rc = f_read(f, 0, f->prologue_n, &f->raw, &f->raw_cap, &p))) return rc;
    memcpy(f->prologue, p, f->prologue_n);
    if ((rc = a4_parse_header(f->prologue + A4_MAGIC_LEN + 4, hl, f->name, &f->h))) return rc;
    uint64_t start = f->prologue_n, end = f->size;
    if (f->h.table_pos >= 0) {
        if ((uint64_t)f->h.table_pos < start || (uint64_t)f->h.table_pos >= f->size)
            return evsnn_seterr(EVSNN_EFORMAT, "%s: IOHeader: dataTablePosition %lld is outside the file's packet area "
                                               "[%llu, %llu)", f->name, (long long)f->h.table_pos,
                                (unsigned long long)start, (unsigned long long)f->size);
        end = (uint64_t)f->h.table_pos;
        f->has_table = 1;
        return index_table(f, start);
    }
    return index_walk(f, start, end);
}

int a4_file_open_mem(const uint8_t *buf, size_t n, const char *name, a4_file **out) {
    *out = NULL;
    a4_file *f = calloc(1, sizeof *f);
    if (!f) return evsnn_seterr(EVSNN_ENOMEM, "%s: no memory", name);
    snprintf(f->name, sizeof f->name, "%s", name);
    f->fd = -1, f->mem = buf, f->size = n;
    int rc = file_init(f);
    if (rc) a4_file_close(f);
    else *out = f;
    return rc;
}

int a4_file_open(const char *path, a4_file **out) {
    *out = NULL;
    a4_file *f = calloc(1, sizeof *f);
    if (!f) return evsnn_seterr(EVSNN_ENOMEM, "%s: no memory", path);
    snprintf(f->name, sizeof f->name, "%s", path);
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    int rc;
    if (f->fd < 0) rc = evsnn_seterr(EVSNN_EIO, "%s: cannot open: %s", path, strerror(errno));
    else if (fstat(f->fd, &sb)) rc = evsnn_seterr(EVSNN_EIO, "%s: cannot stat: %s", path, strerror(errno));
    else {
        f->size = (uint64_t)sb.st_size;
        rc = file_init(f);
    }
    if (rc) a4_file_close(f);
    else *out = f;
    return rc;
}

int a4_file_raw(a4_file *f, size_t k, const uint8_t **raw, size_t *n) {
    const a4_packet *pk = &f->pk[k];
    int rc = f_read(f, pk->off, 8 + (size_t)pk->size, &f->raw, &f->raw_cap, raw);
    if (rc) return rc;
    int32_t id = (int32_t)le32(*raw), size = (int32_t)le32(*raw + 4);
    if (id != pk->stream || size < 0 || (uint32_t)size != pk->size)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: packet at offset %llu: header says stream %d, %d bytes; the data table says "
                                           "stream %d, %u bytes", f->name, (unsigned long long)pk->off, id, size, pk->stream,
                            pk->size);
    *n = 8 + (size_t)pk->size;
    return 0;
}

int a4_file_events(a4_file *f, size_t k, a4_events *ev) {
    a4_packet *pk = &f->pk[k];
    const a4_stream *s = &f->h.streams[f->h.events];
    const uint8_t *raw, *dec, *fb;
    size_t n, dn, fn;
    char ident[5];
    int rc = a4_file_raw(f, k, &raw, &n);
    if (rc) return rc;
    if ((rc = a4_decompress(f->dec, f->h.compression, raw + 8, n - 8, A4_MAX_PACKET, f->name, pk->off, &dec, &dn))) return rc;
    if ((rc = a4_fb_open(dec, dn, f->name, pk->off, &fb, &fn, ident))) return rc;
    if (strcmp(ident, "EVTS"))
        return evsnn_seterr(EVSNN_EFORMAT, "%s: packet at offset %llu: stream %d is declared EVTS but the packet holds a '%s' "
                                           "flatbuffer (wrong stream type)", f->name, (unsigned long long)pk->off, pk->stream,
                            ident);
    if ((rc = a4_event_packet(fb, fn, f->name, pk->off, ev))) return rc;
    for (uint32_t i = 0; i < ev->n; i++) {
        int64_t t;
        int32_t x, y;
        uint32_t p;
        a4_event(ev, i, &t, &x, &y, &p);
        if (x < 0 || y < 0 || (uint32_t)x >= s->width || (uint32_t)y >= s->height)
            return evsnn_seterr(EVSNN_EFORMAT, "%s: packet at offset %llu: event %u at (%d, %d) is outside the %ux%u sensor",
                                f->name, (unsigned long long)pk->off, i, x, y, s->width, s->height);
        if (i == 0 || t < pk->t0) pk->t0 = t;
        if (i == 0 || t > pk->t1) pk->t1 = t;
    }
    pk->elements = ev->n;
    return 0;
}
