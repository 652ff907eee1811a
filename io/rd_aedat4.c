/* io/rd_aedat4.c — AEDAT 4.0 recordings (iniVation DV: DVXplorer, DAVIS) as a dataset.
 *
 * One recording, or a folder of *.aedat4 recordings (name order). A recording with a
 * `<stem>_labels.csv` beside it (class,startTime_usec,endTime_usec rows, times on the
 * recording's own clock, as DVS128 Gesture's) is sliced into one sample per row (origin:
 * the row's start); otherwise it is one unlabelled sample (origin: its first event). The
 * events of the first EVTS stream are decoded; frames, IMU samples, triggers and any other
 * stream are skipped and counted (ds_streams). A sample is read packet by packet through
 * the packet index (io/aedat4.h): memory is one packet plus the sample's events, and with a
 * data table only the packets overlapping the sample's time range are decompressed. One
 * recording is kept open at a time (a folder of thousands does not hold thousands of
 * descriptors). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/aedat4.h"
#include "io/ds_impl.h"
#include "io/ds_readers.h"
#include "sim/evsnn.h"

typedef struct {
    char **paths;
    size_t n_files;
    uint32_t *file;      /* [n_all] */
    int64_t *t_lo, *t_hi;
    a4_file *cur;        /* the open recording */
    size_t cur_i;
    ds_stream *streams;  /* summed over the recordings */
    size_t n_streams;
} a4r_state;

static void a4r_close(void *st) {
    a4r_state *s = st;
    if (!s) return;
    for (size_t i = 0; i < s->n_files; i++) free(s->paths[i]);
    free(s->paths), free(s->file), free(s->t_lo), free(s->t_hi), free(s->streams);
    a4_file_close(s->cur);
    free(s);
}

static int a4r_file(a4r_state *s, size_t i, a4_file **f) {
    if (!s->cur || s->cur_i != i) {
        a4_file_close(s->cur);
        s->cur = NULL;
        int rc = a4_file_open(s->paths[i], &s->cur);
        if (rc) return rc;
        s->cur_i = i;
    }
    *f = s->cur;
    return 0;
}

/* Decode packet k's events with t in [lo, hi) into out. */
static int take_packet(a4_file *f, size_t k, int64_t lo, int64_t hi, ds_evbuf *out, int64_t *tmin) {
    a4_events ev;
    int rc = a4_file_events(f, k, &ev);
    if (rc) return rc;
    if ((rc = ds_evbuf_reserve(out, out->n + ev.n))) return rc;
    ds_event *e = out->ev + out->n;
    size_t m = 0;
    for (uint32_t i = 0; i < ev.n; i++) {
        int64_t t;
        int32_t x, y;
        uint32_t p;
        a4_event(&ev, i, &t, &x, &y, &p);
        if (t < lo || t >= hi) continue;
        e[m++] = (ds_event){t, (uint16_t)x, (uint16_t)y, (uint8_t)p};
        if (t < *tmin) *tmin = t;
    }
    out->n += m;
    return 0;
}

static int a4r_events(dataset *d, uint32_t k, ds_evbuf *out, int64_t *t0) {
    a4r_state *s = d->st;
    a4_file *f;
    int rc = a4r_file(s, s->file[k], &f);
    if (rc) return rc;
    const a4_header *h = a4_file_header(f);
    const a4_packet *pk;
    size_t npk = a4_file_packets(f, &pk);
    int32_t ev_id = h->streams[h->events].id;
    int64_t lo = s->t_lo[k], hi = s->t_hi[k], tmin = INT64_MAX;
    for (size_t i = 0; i < npk && !rc; i++) {
        if (pk[i].stream != ev_id) continue;
        /* Known time range (data table, or decoded before): skip packets outside the sample. */
        if (pk[i].t0 != INT64_MIN && (pk[i].t1 < lo || pk[i].t0 >= hi)) continue;
        rc = take_packet(f, i, lo, hi, out, &tmin);
    }
    *t0 = lo != INT64_MIN ? lo : tmin != INT64_MAX ? tmin : 0;
    return rc;
}

static int a4r_streams(dataset *d, const ds_stream **st, size_t *n) {
    a4r_state *s = d->st;
    *st = s->streams, *n = s->n_streams;
    return 0;
}

static const ds_reader a4r_reader = {"aedat4", a4r_events, NULL, a4r_close};

/* Add the streams of one recording to the summary (by id and type). */
static int add_streams(a4r_state *s, a4_file *f) {
    const a4_header *h = a4_file_header(f);
    const a4_packet *pk;
    size_t npk = a4_file_packets(f, &pk);
    for (uint32_t j = 0; j < h->n_streams; j++) {
        const a4_stream *as = &h->streams[j];
        size_t q = 0;
        while (q < s->n_streams && (s->streams[q].id != as->id || strcmp(s->streams[q].type, as->type))) q++;
        if (q == s->n_streams) {
            ds_stream *p = realloc(s->streams, (s->n_streams + 1) * sizeof *p);
            if (!p) return evsnn_seterr(EVSNN_ENOMEM, "no memory");
            s->streams = p;
            p[q] = (ds_stream){.id = as->id, .used = (int)j == h->events};
            snprintf(p[q].type, sizeof p[q].type, "%s", as->type);
            s->n_streams++;
        }
        ds_stream *o = &s->streams[q];
        for (size_t i = 0; i < npk; i++) {
            if (pk[i].stream != as->id) continue;
            o->packets++;
            if (o->elements >= 0) o->elements = pk[i].elements >= 0 ? o->elements + pk[i].elements : -1;
        }
    }
    return 0;
}

/* One recording: check it, fold its streams in, add its samples. */
static int add_file(dataset *d, const char *path) {
    a4r_state *s = d->st;
    a4_file *f;
    int rc = a4_file_open(path, &f);
    if (rc) return rc;
    const a4_header *h = a4_file_header(f);
    if (h->events < 0) {
        char types[128] = "";
        size_t k = 0;
        for (uint32_t i = 0; i < h->n_streams && k + 16 < sizeof types; i++)
            k += (size_t)snprintf(types + k, sizeof types - k, "%s%d %s", i ? ", " : "", h->streams[i].id, h->streams[i].type);
        a4_file_close(f);
        return evsnn_seterr(EVSNN_EFORMAT, "%s: IOHeader: no event stream (typeIdentifier EVTS) among its streams: %s", path,
                            types);
    }
    const a4_stream *es = &h->streams[h->events];
    if (s->n_files == 0) d->geo = (ds_geometry){DS_KIND_XY, es->width, es->height, 2};
    else if (d->geo.width != es->width || d->geo.height != es->height) {
        rc = evsnn_seterr(EVSNN_ESHAPE, "%s: sensor %ux%u differs from the folder's first recording (%ux%u)", path, es->width,
                          es->height, d->geo.width, d->geo.height);
        a4_file_close(f);
        return rc;
    }
    rc = add_streams(s, f);
    a4_file_close(f);
    if (rc) return rc;
    ds_slice *sl = NULL;
    size_t ns = 0;
    if ((rc = ds_side_labels(path, &sl, &ns))) return rc;
    char **pp = realloc(s->paths, (s->n_files + 1) * sizeof *pp);
    if (!pp) return free(sl), evsnn_seterr(EVSNN_ENOMEM, "no memory");
    s->paths = pp;
    if (!(pp[s->n_files] = ds_strdup(path))) return free(sl), evsnn_seterr(EVSNN_ENOMEM, "no memory");
    rc = ds_add_slices(d, (uint32_t)s->n_files, sl, ns, !ns, 0, 0, &s->file, &s->t_lo, &s->t_hi);
    free(sl);
    if (!rc) s->n_files++;
    return rc;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int is_aedat4_name(const char *n) {
    size_t l = strlen(n);
    return l > 7 && !strcmp(n + l - 7, ".aedat4");
}

int rd_aedat4_open(dataset *d, const char *path) {
    a4r_state *s = calloc(1, sizeof *s);
    if (!s) return evsnn_seterr(EVSNN_ENOMEM, "no memory");
    d->st = s, d->rd = &a4r_reader, d->fmt = "aedat4", d->streams = a4r_streams;
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) return add_file(d, path);
    DIR *dir = opendir(path);
    if (!dir) return evsnn_seterr(EVSNN_EIO, "%s: cannot open folder", path);
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(dir)) && !rc) {
        if (!is_aedat4_name(e->d_name)) continue;
        rc = ds_grow(&names, &cap, n, sizeof *names, 64);
        if (!rc && !(names[n++] = ds_path_join(path, e->d_name))) rc = evsnn_seterr(EVSNN_ENOMEM, "no memory");
    }
    closedir(dir);
    if (n) qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n && !rc; i++) rc = add_file(d, names[i]);
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    if (!rc && !d->n_all) rc = evsnn_seterr(EVSNN_EFORMAT, "%s: no *.aedat4 recordings in the folder", path);
    return rc;
}

int ds_dec_aedat4(const uint8_t *buf, size_t n, const char *name, ds_evbuf *out, ds_geometry *g) {
    a4_file *f;
    int rc = a4_file_open_mem(buf, n, name, &f);
    if (rc) return rc;
    const a4_header *h = a4_file_header(f);
    if (h->events < 0) {
        a4_file_close(f);
        return evsnn_seterr(EVSNN_EFORMAT, "%s: IOHeader: no event stream (typeIdentifier EVTS)", name);
    }
    *g = (ds_geometry){DS_KIND_XY, h->streams[h->events].width, h->streams[h->events].height, 2};
    const a4_packet *pk;
    size_t npk = a4_file_packets(f, &pk);
    int64_t tmin = INT64_MAX;
    for (size_t i = 0; i < npk && !rc; i++)
        if (pk[i].stream == h->streams[h->events].id) rc = take_packet(f, i, INT64_MIN, INT64_MAX, out, &tmin);
    a4_file_close(f);
    return rc;
}
