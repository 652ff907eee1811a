/* io/dataset.h — one interface over every dataset format evsnn reads natively.
 *
 * A dataset is opened from a path (format found by magic bytes / header / HDF5 contents,
 * never by the file name alone) and read one sample at a time by index: ds_get decodes
 * only sample i's bytes, applies the transforms chosen in ds_opts and returns an input
 * spike train (event data, or rate/latency-coded images) or a static input vector (images
 * with direct encoding). Memory while iterating is bounded by one sample, not the file
 * (except gzip IDX, which has no random access: its pixels are inflated once, 47 MB for a
 * 60k set). Raw events of a sample are available through ds_raw for `data info/convert/show`.
 *
 * Time: raw timestamps are int64 µs. Each sample has an origin t0 (label start for sliced
 * recordings, 0 for N-MNIST/SHD/own files, first event for whole raw recordings); steps
 * count from t0 + win_start. Channels: c·H·W + y·W + x with c = polarity (0 = OFF, 1 = ON)
 * when split, c = 0 when merged; SHD units u → channel u / unit_factor (shape n×1×1).
 * Not thread-safe per handle: open one handle per thread. */
#ifndef EVSNN_DATASET_H
#define EVSNN_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "sim/spk.h"

typedef struct dataset dataset; /* opaque */

typedef enum { DS_SPLIT_ALL = 0, DS_SPLIT_TRAIN, DS_SPLIT_TEST } ds_split;
typedef enum { DS_ENC_DIRECT = 0, DS_ENC_RATE, DS_ENC_POISSON, DS_ENC_LATENCY } ds_enc;
typedef enum { DS_POOL_SUM = 0, DS_POOL_OR } ds_pool;
typedef enum { DS_POL_SPLIT = 0, DS_POL_MERGE } ds_pol;
typedef enum { DS_KIND_XY = 0, DS_KIND_UNIT, DS_KIND_IMAGE } ds_kind;

/* Transform options. 0 in a numeric field means "the format's default" (see ds_opts_default
 * and io/README.md): DVS128 5 ms × 100 steps, 4× sum downsampling to 2×32×32 (seed 004);
 * N-MNIST 3.4 ms × 100 steps, 2×34×34; SHD 14 ms × 100 steps, 700 units; images direct,
 * 100 steps. */
typedef struct ds_opts {
    int64_t win_start_us; /* time window [win_start, win_end) relative to t0 (Tonic crop) */
    int64_t win_end_us;   /* 0 = no end */
    uint32_t dt_us;       /* bin width; 0 = format default (ignored when exact_T) */
    uint32_t T;           /* steps; 0 = 100 */
    int exact_T;          /* 1: split the (windowed) sample span into exactly T bins */
    uint32_t ds_factor;   /* spatial downsampling factor; 0 = format default (DVS128: 4) */
    ds_pool pool;         /* SUM: values are event counts; OR: binary train */
    ds_pol pol;           /* SPLIT: 2 polarity channels; MERGE: 1 */
    uint32_t denoise_us;  /* drop events without a 4-neighbour event in the last window; 0 off */
    uint32_t unit_factor; /* SHD/SSC channel downsampling; 0 = 1 */
    ds_enc enc;           /* static images: direct | rate (Bernoulli) | poisson | latency */
    float gain;           /* rate/poisson: expected spikes per step at pixel 255; 0 = 1 */
    uint64_t seed;        /* for rate/poisson (per-sample streams rng_stream(seed, i)) */
    ds_split split;       /* which part of a dataset that carries a train/test split */
    uint32_t first;       /* first sample of the selected split */
    uint32_t count;       /* samples from `first`; 0 = all */
} ds_opts;

void ds_opts_default(ds_opts *o);

/* Open a dataset. path: an IDX images file (.gz or raw; labels found beside it) or a folder
 * with train-/t10k- IDX files; an N-MNIST list file (`#sample #class` lines, samples in
 * bin/ or beside it) or folder with Train/ and Test/; one N-MNIST .bin/.bs2; an AEDAT
 * 2.0/1.0 recording; an AEDAT 3.1 recording (with its _labels.csv) or a folder of them
 * (DVS128 Gesture); an AEDAT 4.0 recording (iniVation DV; sliced by a _labels.csv beside
 * it) or a folder of them; a Prophesee EVT 2.0 / 3.0 RAW recording (same labels rule);
 * SHD/SSC HDF5; DVS128 Gesture HDF5; SVHN .mat; an evsnn event file.
 * NULL on failure with *err (if non-NULL) set and the message in evsnn_errmsg(). */
dataset *ds_open(const char *path, const ds_opts *o, int *err);
void ds_free(dataset *d); /* NULL is fine */

uint32_t ds_len(const dataset *d);       /* samples selected (split, first, count) */
uint32_t ds_n_classes(const dataset *d); /* 0 when unlabelled */
void ds_shape(const dataset *d, uint32_t *c, uint32_t *h, uint32_t *w); /* produced input */
uint32_t ds_steps(const dataset *d);
const char *ds_format_name(const dataset *d);
ds_kind ds_get_kind(const dataset *d);
const ds_opts *ds_get_opts(const dataset *d); /* with format defaults resolved */

typedef struct {
    spk_train train; /* event data / coded images: T steps, n = c*h*w channels */
    float *static_x; /* direct-encoded images: [c*h*w] pixel/255; else NULL */
    uint32_t T;
    int label;       /* class 0.., or -1 when unlabelled */
} ds_sample;

/* Decode and transform selected sample i (0 <= i < ds_len). out must be zeroed or
 * previously used (it is deinit'ed first). 0 or a negative EVSNN_E* naming file + offset. */
int ds_get(dataset *d, uint32_t i, ds_sample *out);
void ds_sample_deinit(ds_sample *s);

/* ---- raw events ---- */

/* One raw event. XY data: (t, x, y, p) with p 1 = ON; UNIT data (SHD): x = unit, y = p = 0. */
typedef struct {
    int64_t t; /* µs */
    uint16_t x, y;
    uint8_t p;
} ds_event;

typedef struct {
    ds_kind kind;
    uint32_t width, height; /* sensor pixels; UNIT: width = units, height = 1 */
    uint32_t polarities;    /* 2 for DVS/ATIS, 1 for units */
} ds_geometry;

void ds_sensor(const dataset *d, ds_geometry *g);

/* Raw (untransformed) events of selected sample i, in time order, into a buffer owned by
 * the handle, valid until the next ds_raw/ds_get call. *t0 = the sample's time origin. */
int ds_raw(dataset *d, uint32_t i, const ds_event **ev, size_t *n, int64_t *t0, int *label);

/* Streams of a multi-stream recording: AEDAT 4 streams (events decoded; frames, IMU,
 * triggers skipped and counted) or the word classes of a Prophesee RAW file. *n = 0 for
 * the other formats. May scan the file once (RAW). Valid until ds_free. */
typedef struct {
    int32_t id;       /* AEDAT 4 stream id; -1 for RAW word classes */
    char type[16];    /* AEDAT 4 typeIdentifier (EVTS, FRME, IMUS, TRIG, ...); RAW: CD, EXT_TRIGGER,
                       * OTHER (other word types), NO_TIME_BASE (words before the first time high) */
    uint64_t packets; /* AEDAT 4 packets of the stream; RAW: 0 */
    int64_t elements; /* events / samples / frames (RAW: events, or words for OTHER and
                       * NO_TIME_BASE); -1: unknown (AEDAT 4 without a data table) */
    int used;         /* 1: decoded into samples; 0: skipped */
} ds_stream;
int ds_streams(dataset *d, const ds_stream **s, size_t *n);

/* Image pixels of selected sample i as [c*h*w] bytes in CHW order (image data only). */
int ds_image(dataset *d, uint32_t i, const uint8_t **pix, int *label);

/* Whether selected sample i belongs to the dataset's train (0) or test (1) part, -1 when
 * the format carries no split. */
int ds_sample_split(const dataset *d, uint32_t i);

/* ---- evsnn's own event file (HDF5, layout in io/README.md) ---- */

/* Write every selected sample of `d` (raw events, labels, split, geometry) to `path`
 * (temp file + rename: nothing half-written). Event data only. level: deflate 0..9
 * (0 = uncompressed; 1 is the CLI default: N-MNIST shrinks to half its .bin size but reads
 * at ~20 M events/s instead of ~90 M). */
int ds_convert(dataset *d, const char *path, int level);

#endif
