/* tests/aedat4_write.h — AEDAT 4.0 bytes written for the tests, laid out by hand from the
 * published layout (iniVation's AEDAT 4.0 file format and its flatbuffer schemas, as
 * io/README.md describes them byte by byte), not with the decoder's code: every offset
 * below is a constant of that layout. The compressors are the real libraries (LZ4 frame,
 * zstd). The vtables are placed as flatc places them (before their table) for the IOHeader
 * and the packets, and after the tables (negative soffset) in the data table, so both
 * directions are exercised. */
#ifndef EVSNN_TESTS_AEDAT4_WRITE_H
#define EVSNN_TESTS_AEDAT4_WRITE_H

#include <lz4frame.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

typedef struct {
    int64_t t;
    int16_t x, y;
    uint8_t p;
} a4w_event;

typedef struct {
    int32_t stream;
    const a4w_event *ev;
    size_t n;
    const char *ident; /* flatbuffer file identifier; NULL: "EVTS" */
} a4w_packet;

typedef struct {
    uint8_t *b;
    size_t n, cap;
} a4w_buf;

static inline void a4w_put(a4w_buf *o, const void *p, size_t n) {
    if (o->n + n > o->cap) {
        o->cap = (o->n + n) * 2 + 64;
        o->b = realloc(o->b, o->cap);
    }
    if (p) memcpy(o->b + o->n, p, n);
    else memset(o->b + o->n, 0, n);
    o->n += n;
}
static inline void a4w_u16(a4w_buf *o, uint16_t v) {
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    a4w_put(o, b, 2);
}
static inline void a4w_u32(a4w_buf *o, uint32_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    a4w_put(o, b, 4);
}
static inline void a4w_u64(a4w_buf *o, uint64_t v) {
    a4w_u32(o, (uint32_t)v);
    a4w_u32(o, (uint32_t)(v >> 32));
}
static inline void a4w_set32(uint8_t *p, uint32_t v) {
    for (int k = 0; k < 4; k++) p[k] = (uint8_t)(v >> (8 * k));
}

/* DV's infoNode: stream 0 EVTS (w × h), optionally stream 2 IMUS. */
static inline void a4w_xml(char *x, size_t cap, unsigned w, unsigned h, int imu) {
    snprintf(x, cap,
             "<dv version=\"2.0\">\n    <node name=\"outInfo\" path=\"/mainloop/Recorder/outInfo/\">\n"
             "        <node name=\"0\" path=\"/mainloop/Recorder/outInfo/0/\">\n"
             "            <attr key=\"compression\" type=\"string\">LZ4</attr>\n"
             "            <attr key=\"typeIdentifier\" type=\"string\">EVTS</attr>\n"
             "            <node name=\"info\" path=\"/mainloop/Recorder/outInfo/0/info/\">\n"
             "                <attr key=\"sizeX\" type=\"int\">%u</attr>\n"
             "                <attr key=\"sizeY\" type=\"int\">%u</attr>\n"
             "            </node>\n        </node>\n%s    </node>\n</dv>\n",
             w, h,
             imu ? "        <node name=\"2\" path=\"/mainloop/Recorder/outInfo/2/\">\n"
                   "            <attr key=\"typeIdentifier\" type=\"string\">IMUS</attr>\n"
                   "            <node name=\"info\" path=\"/mainloop/Recorder/outInfo/2/info/\"/>\n"
                   "        </node>\n"
                 : "");
}

/* IOHeader flatbuffer: 0 root = 24 | 4 "IOHE" | 8 vtable {10, 20, f0 4, f1 12, f2 8} |
 * 18 pad | 24 table: soffset 16 | 28 compression i32 | 32 infoNode offset | 36
 * dataTablePosition i64 | 44 string: u32 length, bytes, 0, pad to 4. */
static inline void a4w_ioheader(a4w_buf *o, int32_t compression, int64_t table_pos, const char *xml) {
    size_t b = o->n, sl = strlen(xml);
    a4w_u32(o, 24);
    a4w_put(o, "IOHE", 4);
    a4w_u16(o, 10), a4w_u16(o, 20), a4w_u16(o, 4), a4w_u16(o, 12), a4w_u16(o, 8);
    a4w_put(o, NULL, 6);
    a4w_u32(o, 16);
    a4w_u32(o, (uint32_t)compression);
    a4w_u32(o, 44 - 32);
    a4w_u64(o, (uint64_t)table_pos);
    a4w_u32(o, (uint32_t)sl);
    a4w_put(o, xml, sl + 1);
    while ((o->n - b) % 4) a4w_put(o, NULL, 1);
}

/* Size-prefixed packet flatbuffer: u32 size | 0 root = 16 | 4 ident | 8 vtable {6, 8, f0 4} |
 * 14 pad | 16 table: soffset 8 | 20 elements offset 8 | 24 pad | 28 u32 count | 32 events,
 * 16 bytes each: i64 t, i16 x, i16 y, u8 p, 3 pad. */
static inline void a4w_event_fb(a4w_buf *o, const a4w_event *ev, size_t n, const char *ident) {
    a4w_u32(o, (uint32_t)(32 + 16 * n));
    a4w_u32(o, 16);
    a4w_put(o, ident ? ident : "EVTS", 4);
    a4w_u16(o, 6), a4w_u16(o, 8), a4w_u16(o, 4);
    a4w_put(o, NULL, 2);
    a4w_u32(o, 8);
    a4w_u32(o, 8);
    a4w_put(o, NULL, 4);
    a4w_u32(o, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        a4w_u64(o, (uint64_t)ev[i].t);
        a4w_u16(o, (uint16_t)ev[i].x), a4w_u16(o, (uint16_t)ev[i].y);
        uint8_t q[4] = {ev[i].p, 0, 0, 0};
        a4w_put(o, q, 4);
    }
}

/* compression 0 none, 1 LZ4 frame, 3 zstd: one frame of src into o. */
static inline void a4w_compress(a4w_buf *o, int comp, const uint8_t *src, size_t n) {
    if (comp == 0) {
        a4w_put(o, src, n);
    } else if (comp == 1 || comp == 2) {
        size_t cap = LZ4F_compressFrameBound(n, NULL);
        a4w_put(o, NULL, cap);
        o->n -= cap;
        o->n += LZ4F_compressFrame(o->b + o->n, cap, src, n, NULL);
    } else {
        size_t cap = ZSTD_compressBound(n);
        a4w_put(o, NULL, cap);
        o->n -= cap;
        o->n += ZSTD_compress(o->b + o->n, cap, src, n, comp == 4 ? 19 : 3);
    }
}

/* FileDataTable, size-prefixed: 0 root = 16 | 4 "FTAB" | 8 vtable {6, 8, f0 4} | 14 pad |
 * 16 table: soffset 8 | 20 offset 4 to 24: u32 count | 28 count × u32 offsets | tables of
 * 48 bytes at E (8-aligned): soffset (to the shared vtable after them) | pad | 8 ByteOffset
 * | 16 {StreamID, Size} | 24 NumElements | 32 TimestampStart | 40 TimestampEnd | then the
 * shared vtable {14, 48, 8, 16, 24, 32, 40}. */
typedef struct {
    int64_t off;
    int32_t stream, size;
    int64_t n, t0, t1;
} a4w_entry;

static inline void a4w_table_fb(a4w_buf *o, const a4w_entry *e, size_t n) {
    size_t e0 = 28 + 4 * n;
    while (e0 % 8) e0++;
    size_t v = e0 + 48 * n, total = v + 14 + 2;
    a4w_u32(o, (uint32_t)total);
    size_t b = o->n;
    a4w_u32(o, 16);
    a4w_put(o, "FTAB", 4);
    a4w_u16(o, 6), a4w_u16(o, 8), a4w_u16(o, 4);
    a4w_put(o, NULL, 2);
    a4w_u32(o, 8);
    a4w_u32(o, 4);
    a4w_u32(o, (uint32_t)n);
    for (size_t i = 0; i < n; i++) a4w_u32(o, (uint32_t)(e0 + 48 * i - (28 + 4 * i)));
    while (o->n - b < e0) a4w_put(o, NULL, 1);
    for (size_t i = 0; i < n; i++) {
        int32_t so = (int32_t)(e0 + 48 * i) - (int32_t)v; /* negative: vtable after the table */
        a4w_u32(o, (uint32_t)so);
        a4w_put(o, NULL, 4);
        a4w_u64(o, (uint64_t)e[i].off);
        a4w_u32(o, (uint32_t)e[i].stream), a4w_u32(o, (uint32_t)e[i].size);
        a4w_u64(o, (uint64_t)e[i].n), a4w_u64(o, (uint64_t)e[i].t0), a4w_u64(o, (uint64_t)e[i].t1);
    }
    a4w_u16(o, 14), a4w_u16(o, 48), a4w_u16(o, 8), a4w_u16(o, 16), a4w_u16(o, 24), a4w_u16(o, 32), a4w_u16(o, 40);
    a4w_put(o, NULL, 2);
}

/* A whole recording: magic, u32 length + IOHeader, the packets (i32 stream, i32 size,
 * compressed body), and with_table: the compressed data table at the end, its position in
 * the header. pk_off (optional, [npk]) receives each packet header's file offset. */
static inline uint8_t *a4w_file(int comp, const char *xml, const a4w_packet *pk, size_t npk, int with_table,
                                size_t *len, size_t *pk_off) {
    a4w_buf o = {0}, hdr = {0}, fb = {0};
    a4w_ioheader(&hdr, comp, -1, xml);
    a4w_put(&o, "#!AER-DAT4.0\r\n", 14);
    a4w_u32(&o, (uint32_t)hdr.n);
    size_t hdr_at = o.n;
    a4w_put(&o, hdr.b, hdr.n);
    a4w_entry *ent = calloc(npk ? npk : 1, sizeof *ent);
    for (size_t k = 0; k < npk; k++) {
        fb.n = 0;
        a4w_event_fb(&fb, pk[k].ev, pk[k].n, pk[k].ident);
        size_t at = o.n;
        if (pk_off) pk_off[k] = at;
        a4w_u32(&o, (uint32_t)pk[k].stream);
        a4w_u32(&o, 0);
        a4w_compress(&o, comp, fb.b, fb.n);
        a4w_set32(o.b + at + 4, (uint32_t)(o.n - at - 8));
        ent[k] = (a4w_entry){(int64_t)at + 8, pk[k].stream, (int32_t)(o.n - at - 8), (int64_t)pk[k].n,
                             pk[k].n ? pk[k].ev[0].t : 0, pk[k].n ? pk[k].ev[pk[k].n - 1].t : 0};
    }
    if (with_table) {
        uint64_t tp = o.n;
        for (int k = 0; k < 8; k++) o.b[hdr_at + 36 + k] = (uint8_t)(tp >> (8 * k));
        fb.n = 0;
        a4w_table_fb(&fb, ent, npk);
        a4w_compress(&o, comp, fb.b, fb.n);
    }
    free(ent), free(hdr.b), free(fb.b);
    *len = o.n;
    return o.b;
}

static inline int a4w_save(const char *path, const uint8_t *b, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(b, 1, n, f);
    return fclose(f) || w != n ? -1 : 0;
}

#endif
