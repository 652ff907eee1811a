/* io/ds_impl.h — internals shared by io/dataset.c and the format readers io/rd_*.c.
 *
 * A reader's open function fills the dataset's sample table (n_all, labels, split flags),
 * geometry and its ops; dataset.c does detection, selection and the transforms. The
 * from-memory decoders (ds_dec_*) are what the libFuzzer harnesses call: every byte
 * sequence either decodes or returns EVSNN_EFORMAT naming `name` and a byte offset. */
#ifndef EVSNN_DS_IMPL_H
#define EVSNN_DS_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "io/dataset.h"

typedef struct {
    ds_event *ev; /* [cap] */
    size_t n, cap;
} ds_evbuf;

int ds_evbuf_reserve(ds_evbuf *b, size_t cap); /* 0 or EVSNN_ENOMEM */
void ds_evbuf_free(ds_evbuf *b);
void ds_evbuf_sort(ds_evbuf *b); /* stable sort by t, only when out of order */

typedef struct {
    const char *name;
    /* Raw events of reader sample k (not the selected index) into out (cleared first). */
    int (*events)(dataset *d, uint32_t k, ds_evbuf *out, int64_t *t0);
    /* Pixels of reader sample k: [c*h*w] CHW bytes. */
    int (*image)(dataset *d, uint32_t k, uint8_t *pix);
    void (*close)(void *st);
} ds_reader;

struct dataset {
    char *path;
    ds_opts o;            /* resolved options */
    const ds_reader *rd;
    void *st;             /* reader state */
    const char *fmt;      /* format name */
    ds_geometry geo;      /* IMAGE: width, height, polarities = colour channels */
    uint32_t n_all;       /* samples in the file(s) */
    int32_t *labels;      /* [n_all], -1 unlabelled */
    int8_t *split;        /* [n_all] 0 train / 1 test, or NULL */
    uint32_t n_classes;
    uint32_t *map;        /* [n_sel] selected -> reader sample */
    uint32_t n_sel;
    uint32_t c, h, w;     /* produced input shape */
    ds_evbuf buf;
    uint8_t *pix;         /* [c*h*w] image scratch */
    int64_t *mem;         /* [w*h] denoise scratch */
    int dvs128;           /* DVS128 sensor: 4× downsampling default */
    /* optional, set by multi-stream readers (AEDAT 4, Prophesee RAW): ds_streams */
    int (*streams)(dataset *d, const ds_stream **s, size_t *n);
};

/* Readers: fill d (n_all, labels, split, geo, n_classes, fmt, rd, st). path is d->path. */
int rd_idx_open(dataset *d, const char *path);
int rd_nmnist_open(dataset *d, const char *path, int kind); /* kind: 0 single file, 1 list, 2 folder */
int rd_aedat2_open(dataset *d, const char *path, int version); /* 1 or 2 */
int rd_aedat3_open(dataset *d, const char *path);             /* file or folder */
int rd_h5_open(dataset *d, const char *path);                 /* SHD/SSC, gesture, evsnn */
int rd_svhn_open(dataset *d, const char *path);
int rd_aedat4_open(dataset *d, const char *path);             /* file or folder of *.aedat4 */
int rd_evt_open(dataset *d, const char *path);                /* Prophesee RAW, EVT 2.0 / 3.0 */

/* From-memory decoders (fuzzed). Events are appended to out. */
int ds_dec_nmnist(const uint8_t *buf, size_t n, const char *name, ds_evbuf *out);
/* AEDAT 2.0 (rec = 8) or 1.0 (rec = 6) record area (after the header). `base` is the
 * file offset of buf[0], for messages. */
int ds_dec_aedat2(const uint8_t *buf, size_t n, size_t base, int rec, const char *name,
                  ds_evbuf *out);
/* Length of a '#' header block (AEDAT 1/2/3): bytes up to the first line not starting
 * with '#' (AEDAT 3.1: through "#!END-HEADER\r\n"). EVSNN_EFORMAT if it never ends. */
int ds_dec_aedat_header(const uint8_t *buf, size_t n, int v3, const char *name, size_t *len);
/* AEDAT 3.1 packets in buf (after the header): polarity events with full time in
 * [t_lo, t_hi) are appended. 128×128 sensor. */
int ds_dec_aedat3(const uint8_t *buf, size_t n, size_t base, const char *name, int64_t t_lo,
                  int64_t t_hi, ds_evbuf *out);
/* DVS128 Gesture labels CSV: class,startTime_usec,endTime_usec rows (class 1..11). */
typedef struct {
    int label; /* class - 1 */
    int64_t t0, t1;
} ds_slice;
int ds_dec_labels_csv(const char *txt, size_t n, const char *name, ds_slice **out, size_t *n_out);
/* AEDAT 4.0 file bytes (header, packets, data table; io/aedat4.h): the events of its
 * first event stream appended to out (in file order), the sensor in *g. */
int ds_dec_aedat4(const uint8_t *buf, size_t n, const char *name, ds_evbuf *out, ds_geometry *g);
/* Prophesee RAW: the '% ' text header (io/README.md). *len: header bytes (data starts
 * there); *version 2 (EVT 2.0) or 3 (EVT 3.0); sensor *w × *h. */
int ds_dec_evt_header(const uint8_t *buf, size_t n, const char *name, size_t *len, int *version, uint32_t *w,
                      uint32_t *h);
/* EVT decoder state, carried from chunk to chunk (zero it, then set version, width, height). */
typedef struct {
    int version;            /* 2 or 3 */
    uint32_t width, height;
    int have_time;          /* a time-high word was seen: events before it have no time base */
    uint32_t high;          /* last time-high value (EVT 2.0: 28 bits, EVT 3.0: 12 bits) */
    uint64_t loops;         /* wraps of the time-high counter */
    int64_t t;              /* current time µs (EVT 3.0: with the last time low) */
    uint32_t y, x, pol;     /* EVT 3.0: row, vector base x, polarity */
    uint64_t n_cd, n_trigger;  /* CD events decoded (any time), trigger events */
    uint64_t n_outside;        /* CD events outside the sensor: skipped (sensors emit a few) */
    uint64_t n_other, n_no_time; /* words of other types; words before the first time high */
} ds_evt_state;
/* EVT 2.0 (32-bit words) or 3.0 (16-bit words) data buf[0..n) at file offset base: CD
 * events with t in [t_lo, t_hi) appended to out (NULL: only count). n not a multiple of
 * the word size is EVSNN_EFORMAT naming the offset of the cut word. */
int ds_dec_evt(const uint8_t *buf, size_t n, uint64_t base, const char *name, ds_evt_state *s, int64_t t_lo,
               int64_t t_hi, ds_evbuf *out);
/* A recording's `<stem>_labels.csv` (stem: its path without the extension): rows into *sl
 * (caller frees); *n = 0 and *sl = NULL when there is none. */
int ds_side_labels(const char *rec, ds_slice **sl, size_t *n);
/* IDX header: magic 00 00 08 ndim + dims (big-endian). */
int ds_dec_idx_header(const uint8_t *buf, size_t n, const char *name, uint32_t *ndim,
                      uint32_t dims[4], size_t *hdr_len);

/* Helpers. */
int ds_read_file(const char *path, uint8_t **buf, size_t *n); /* whole file */
char *ds_strdup(const char *s);
char *ds_path_join(const char *dir, const char *name);

/* Text lists (labels CSV, sample lists): copy the line that starts at *i (up to '\n',
 * truncated to cap − 1 bytes) into buf, move *i past it, and return buf with leading blanks
 * (space, tab, '\r') skipped. */
static inline char *ds_line(const char *txt, size_t n, size_t *i, char *buf, size_t cap) {
    size_t j = *i;
    while (j < n && txt[j] != '\n') j++;
    const size_t l = j - *i < cap - 1 ? j - *i : cap - 1;
    for (size_t k = 0; k < l; k++) buf[k] = txt[*i + k];
    buf[l] = 0;
    *i = j + 1;
    char *c = buf;
    while (*c == ' ' || *c == '\t' || *c == '\r') c++;
    return c;
}

#endif
