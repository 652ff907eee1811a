/* io/aedat4.h — AEDAT 4.0 (iniVation DV software) decoding, shared by the dataset reader
 * (io/rd_aedat4.c), the live server's input side (io/live_session.c) and `evsnn replay`.
 *
 * Layout (byte by byte in io/README.md): "#!AER-DAT4.0\r\n"; a u32 length and that many
 * bytes of IOHeader flatbuffer (compression, dataTablePosition, infoNode: XML naming each
 * stream's type and sensor size); then packets, each an 8-byte header (i32 stream id,
 * i32 size) and `size` bytes compressed with the header's compression (none, one LZ4 frame
 * or one zstd frame) that hold a size-prefixed flatbuffer; in a file, at dataTablePosition,
 * the compressed FileDataTable indexing every packet (a live stream has none).
 * Flatbuffers are read without a flatbuffers library: every table, vtable, field, vector
 * and string offset is checked against its buffer, and one that points outside is
 * EVSNN_EFORMAT naming the packet's file offset and the byte inside the flatbuffer.
 * Event packets (identifier "EVTS"): elements = [Event], 16-byte structs: i64 t µs, i16 x,
 * i16 y, u8 polarity (1 = ON), 3 bytes padding. Nothing here is thread-safe per object. */
#ifndef EVSNN_AEDAT4_H
#define EVSNN_AEDAT4_H

#include <stddef.h>
#include <stdint.h>

#define A4_MAGIC "#!AER-DAT4.0\r\n"
#define A4_MAGIC_LEN 14
#define A4_MAX_HEADER (1u << 20)  /* IOHeader bytes: DV's are a few KB */
#define A4_MAX_PACKET (64u << 20) /* decompressed bytes of one packet: 4 M events */
#define A4_EVENT_BYTES 16

typedef enum { A4_NONE = 0, A4_LZ4, A4_LZ4_HIGH, A4_ZSTD, A4_ZSTD_HIGH } a4_compression;

typedef struct {
    int32_t id;
    char type[8];           /* typeIdentifier: "EVTS", "FRME", "IMUS", "TRIG", ... */
    uint32_t width, height; /* info node sizeX / sizeY, 0 when absent */
} a4_stream;

typedef struct {
    a4_compression compression;
    int64_t table_pos;      /* file offset of the FileDataTable, -1: none */
    size_t table_pos_field; /* offset of the dataTablePosition value in the IOHeader bytes, 0: absent */
    a4_stream *streams;     /* [n_streams] in infoNode order */
    uint32_t n_streams;
    int events;             /* index of the first EVTS stream in streams, -1: none */
} a4_header;

const char *a4_compression_name(a4_compression c);

/* Parse the IOHeader flatbuffer fb[0..n) (the bytes after the u32 length). name: for
 * messages. On success the caller frees h with a4_header_free. */
int a4_parse_header(const uint8_t *fb, size_t n, const char *name, a4_header *h);
void a4_header_free(a4_header *h);
int a4_stream_index(const a4_header *h, int32_t id); /* index in h->streams, -1: undeclared */

/* Decompression context and its output buffer (reused from packet to packet). */
typedef struct a4_dec a4_dec;
a4_dec *a4_dec_create(void); /* NULL on allocation failure */
void a4_dec_free(a4_dec *d); /* NULL is fine */
/* Decompress one packet body src[0..n) (packet at file offset off) into the context's
 * buffer: *out, *out_n are valid until the next call (A4_NONE: src itself). A frame that
 * does not decompress, ends early, is followed by stray bytes or inflates beyond max bytes
 * is EVSNN_EFORMAT naming the packet. */
int a4_decompress(a4_dec *d, a4_compression c, const uint8_t *src, size_t n, size_t max, const char *name,
                  uint64_t off, const uint8_t **out, size_t *out_n);

/* A size-prefixed flatbuffer buf[0..n): its inner bytes *fb[0..*fn) and 4-character file
 * identifier (ident[4] = 0). */
int a4_fb_open(const uint8_t *buf, size_t n, const char *name, uint64_t off, const uint8_t **fb, size_t *fn,
               char ident[5]);

/* An EventPacket flatbuffer (inner bytes): the elements vector, bounds-checked. */
typedef struct {
    const uint8_t *el; /* [n × A4_EVENT_BYTES] inside the flatbuffer */
    uint32_t n;
} a4_events;
int a4_event_packet(const uint8_t *fb, size_t n, const char *name, uint64_t off, a4_events *ev);

static inline void a4_event(const a4_events *e, uint32_t i, int64_t *t, int32_t *x, int32_t *y, uint32_t *p) {
    const uint8_t *q = e->el + (size_t)i * A4_EVENT_BYTES;
    uint64_t u = 0;
    for (int k = 7; k >= 0; k--) u = u << 8 | q[k];
    *t = (int64_t)u;
    *x = (int16_t)(uint16_t)(q[8] | q[9] << 8);
    *y = (int16_t)(uint16_t)(q[10] | q[11] << 8);
    *p = q[12] != 0;
}

/* One FileDataTable entry. */
typedef struct {
    int64_t offset;   /* ByteOffset: file offset of the packet body (after its 8-byte header) */
    int32_t stream;   /* PacketInfo.StreamID */
    int32_t size;     /* PacketInfo.Size */
    int64_t elements; /* NumElements */
    int64_t t_start, t_end;
} a4_table_entry;
/* A FileDataTable flatbuffer (inner bytes) into a malloc'ed array (caller frees). */
int a4_data_table(const uint8_t *fb, size_t n, const char *name, uint64_t off, a4_table_entry **out, size_t *n_out);

/* ---- a whole recording: header, packet index (from the data table or a walk) ---- */

typedef struct {
    uint64_t off;     /* file offset of the packet's 8-byte header */
    int32_t stream;
    uint32_t size;    /* body bytes */
    int64_t elements; /* -1: unknown (no data table, not decoded yet) */
    int64_t t0, t1;   /* first / last element time µs; INT64_MIN: unknown */
} a4_packet;

typedef struct a4_file a4_file; /* opaque */

/* Open a recording from a path or from memory (buf is borrowed; name for messages). Reads
 * the header and indexes the packets: from the data table when dataTablePosition says there
 * is one (every entry checked against the file), else by walking the packet headers. */
int a4_file_open(const char *path, a4_file **out);
int a4_file_open_mem(const uint8_t *buf, size_t n, const char *name, a4_file **out);
void a4_file_close(a4_file *f); /* NULL is fine */
const a4_header *a4_file_header(const a4_file *f);
size_t a4_file_packets(const a4_file *f, const a4_packet **pk);
int a4_file_has_table(const a4_file *f);
/* The bytes before the first packet: magic, u32 length, IOHeader (valid while f is). */
void a4_file_prologue(const a4_file *f, const uint8_t **p, size_t *n);
/* Packet k's raw bytes (8-byte header + body), checked against the index. Valid until the
 * next read on f. */
int a4_file_raw(a4_file *f, size_t k, const uint8_t **raw, size_t *n);
/* Packet k of the event stream, decompressed and decoded; fills its elements, t0, t1. */
int a4_file_events(a4_file *f, size_t k, a4_events *ev);

#endif
