/* io/ds_impl.h — internals shared by io/dataset.c and the format readers io/rd_*.c: the
 * dataset structure, the reader interface and the helpers of io/ds_util.c. The readers'
 * open functions are listed in io/ds_readers.h, which only dataset.c includes.
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

/* Element type of an array file: kind 'u' / 'i' / 'f', size in bytes, big-endian. */
typedef struct {
    uint8_t kind, size, big;
} ds_elem;

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
    float *fx;            /* [c*h*w] ds_values scratch */
    ds_elem elem;         /* IMAGE: element type of the stored values (size 0: uint8 pixels) */
    int dvs128;           /* DVS128 sensor: 4× downsampling default */
    /* optional, set by multi-stream readers (AEDAT 4, Prophesee RAW): ds_streams */
    int (*streams)(dataset *d, const ds_stream **s, size_t *n);
    /* optional, set by readers of real-valued arrays (IDX of other element types, .npy):
     * reader sample k's [c*h*w] values as the engine takes them (uint8 arrays scaled by
     * 1/255, others as they are); such readers have no `image` op */
    int (*values)(dataset *d, uint32_t k, float *x);
};


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
/* A sliced recording's readers (AEDAT 3.1, AEDAT 4): append the samples of recording `file`
 * to d's table (labels, n_all, n_classes) and to the reader's arrays *file_of, *t_lo, *t_hi
 * ([n_all] each): one sample per slice sl[ns], or (whole) one sample spanning the recording,
 * unlabelled. with_split: d->split grows too, each new sample in `part`. 0 or EVSNN_ENOMEM. */
int ds_add_slices(dataset *d, uint32_t file, const ds_slice *sl, size_t ns, int whole, int with_split, int part,
                  uint32_t **file_of, int64_t **t_lo, int64_t **t_hi);
/* IDX header: magic 00 00 <type> ndim + dims (big-endian); type 08 u8, 09 i8, 0B i16,
 * 0C i32, 0D f32, 0E f64. */
int ds_dec_idx_header(const uint8_t *buf, size_t n, const char *name, uint32_t *ndim,
                      uint32_t dims[4], size_t *hdr_len);
/* NumPy .npy header (NEP 1, versions 1.0-3.0): element type, shape, header bytes. */
int ds_dec_npy_header(const uint8_t *buf, size_t n, const char *name, ds_elem *e, uint32_t *ndim,
                      uint64_t dims[8], size_t *hdr_len);
/* Element types (io/rd_npy.c): IDX type code → type (-1 if none); one value; n values into
 * floats; integer class labels (EVSNN_EFORMAT naming `name` and the label's index). */
int ds_elem_from_idx(uint8_t type, ds_elem *e);
const char *ds_elem_name(ds_elem e);
double ds_elem_get(const uint8_t *p, ds_elem e);
void ds_elem_to_f32(float *out, const uint8_t *src, size_t n, ds_elem e);
int ds_elem_labels(const uint8_t *src, size_t n, ds_elem e, const char *name, int32_t *lab, uint32_t *n_classes);
/* n labels from a labels file: a 1-D integer .npy array or an IDX labels file (idx1, any
 * integer type). Fills lab[n] and raises *n_classes to cover them. */
int ds_read_labels(const char *path, int32_t *lab, uint32_t n, uint32_t *n_classes);
int ds_idx_labels(const char *path, int32_t *lab, uint32_t n, uint32_t *n_classes);

/* Helpers. */
int ds_read_file(const char *path, uint8_t **buf, size_t *n); /* whole file */
char *ds_strdup(const char *s);
/* Room for one more element in the growing array *arr (void * to a T *) of n elements of
 * size bytes and capacity *cap: doubles it (from first) when n == *cap. 0, or EVSNN_ENOMEM
 * with the array untouched. */
int ds_grow(void *arr, size_t *cap, size_t n, size_t size, size_t first);
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
