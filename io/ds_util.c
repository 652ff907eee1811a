/* io/ds_util.c — what the format readers share (io/ds_impl.h): strings and paths, whole-file
 * reads, the event buffer, and the DVS128 Gesture labels CSV with its side-file lookup.
 * Depends on nothing of dataset.c or the readers, so the readers depend on it and dataset.c
 * on the readers, never the other way round. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/ds_impl.h"
#include "sim/evsnn.h"

int ds_grow(void *arr, size_t *cap, size_t n, size_t size, size_t first) {
    if (n < *cap) return 0;
    const size_t nc = *cap ? 2 * *cap : first;
    if (nc < *cap || nc > SIZE_MAX / size) return evsnn_seterr(EVSNN_ENOMEM, "no memory");
    void *old, *p;
    memcpy(&old, arr, sizeof old); /* arr points at a T *: read and write it as bytes */
    if (!(p = realloc(old, nc * size))) return evsnn_seterr(EVSNN_ENOMEM, "no memory");
    memcpy(arr, &p, sizeof p);
    *cap = nc;
    return 0;
}

char *ds_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

char *ds_path_join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    size_t k = a;
    if (a && dir[a - 1] != '/') p[k++] = '/';
    memcpy(p + k, name, b + 1);
    return p;
}

int ds_read_file(const char *path, uint8_t **buf, size_t *n) {
    *buf = NULL, *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return evsnn_seterr(EVSNN_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0) {
        fclose(f);
        return evsnn_seterr(EVSNN_EIO, "%s: cannot stat: %s", path, strerror(errno));
    }
    size_t len = (size_t)sb.st_size;
    uint8_t *p = malloc(len ? len : 1);
    if (!p) {
        fclose(f);
        return evsnn_seterr(EVSNN_ENOMEM, "%s: no memory for %zu bytes", path, len);
    }
    size_t got = fread(p, 1, len, f);
    fclose(f);
    if (got != len) {
        free(p);
        return evsnn_seterr(EVSNN_EIO, "%s: read %zu of %zu bytes", path, got, len);
    }
    *buf = p, *n = len;
    return 0;
}

int ds_side_labels(const char *rec, ds_slice **sl, size_t *n) {
    *sl = NULL, *n = 0;
    size_t l = strlen(rec);
    const char *dot = strrchr(rec, '.'), *slash = strrchr(rec, '/');
    if (dot && (!slash || dot > slash)) l = (size_t)(dot - rec);
    char *csv = malloc(l + 12);
    if (!csv) return evsnn_seterr(EVSNN_ENOMEM, "no memory");
    memcpy(csv, rec, l);
    strcpy(csv + l, "_labels.csv");
    int rc = 0;
    if (access(csv, R_OK) == 0) {
        uint8_t *txt;
        size_t tn;
        if (!(rc = ds_read_file(csv, &txt, &tn))) {
            rc = ds_dec_labels_csv((const char *)txt, tn, csv, sl, n);
            free(txt);
        }
    }
    free(csv);
    return rc;
}

int ds_evbuf_reserve(ds_evbuf *b, size_t cap) {
    /* Always leave a buffer behind, also for cap 0: the decoders take `ev + n` of it, and an
     * offset on a null pointer is undefined even when it is 0 (a zero-event sample). */
    if (cap <= b->cap && b->ev) return 0;
    size_t nc = b->cap ? b->cap : 4096;
    while (nc < cap) nc *= 2;
    ds_event *p = realloc(b->ev, nc * sizeof *p);
    if (!p) return evsnn_seterr(EVSNN_ENOMEM, "no memory for %zu events", cap);
    b->ev = p, b->cap = nc;
    return 0;
}

void ds_evbuf_free(ds_evbuf *b) {
    free(b->ev);
    memset(b, 0, sizeof *b);
}

static void merge_sort(ds_event *a, ds_event *tmp, size_t n) {
    if (n < 2) return;
    size_t h = n / 2;
    merge_sort(a, tmp, h);
    merge_sort(a + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = a[j].t < a[i].t ? a[j++] : a[i++];
    while (i < h) tmp[k++] = a[i++];
    while (j < n) tmp[k++] = a[j++];
    memcpy(a, tmp, n * sizeof *a);
}

void ds_evbuf_sort(ds_evbuf *b) {
    size_t i = 1;
    while (i < b->n && b->ev[i].t >= b->ev[i - 1].t) i++;
    if (i >= b->n) return;
    ds_event *tmp = malloc(b->n * sizeof *tmp);
    if (!tmp) return; /* left unsorted: binning does not need order; denoise degrades */
    merge_sort(b->ev, tmp, b->n);
    free(tmp);
}

/* ---------------------------------------------------------------- options */

int ds_add_slices(dataset *d, uint32_t file, const ds_slice *sl, size_t ns, int whole, int with_split, int part,
                  uint32_t **file_of, int64_t **t_lo, int64_t **t_hi) {
    size_t add = whole ? 1 : ns, tot = d->n_all + add;
    uint32_t *fi = realloc(*file_of, tot * sizeof *fi);
    if (fi) *file_of = fi;
    int64_t *lo = realloc(*t_lo, tot * sizeof *lo);
    if (lo) *t_lo = lo;
    int64_t *hi = realloc(*t_hi, tot * sizeof *hi);
    if (hi) *t_hi = hi;
    int32_t *lb = realloc(d->labels, tot * sizeof *lb);
    if (lb) d->labels = lb;
    int8_t *sp = with_split ? realloc(d->split, tot) : NULL;
    if (sp) d->split = sp;
    if (!fi || !lo || !hi || !lb || (with_split && !sp)) return evsnn_seterr(EVSNN_ENOMEM, "no memory");
    for (size_t i = 0; i < add; i++) {
        uint32_t k = d->n_all + (uint32_t)i;
        fi[k] = file;
        lo[k] = whole ? INT64_MIN : sl[i].t0;
        hi[k] = whole ? INT64_MAX : sl[i].t1;
        lb[k] = whole ? -1 : sl[i].label;
        if (sp) sp[k] = (int8_t)part;
        if (lb[k] >= 0 && (uint32_t)lb[k] + 1 > d->n_classes) d->n_classes = (uint32_t)lb[k] + 1;
    }
    d->n_all = (uint32_t)tot;
    return 0;
}

/* ---------------------------------------------------------------- labels CSV */

int ds_dec_labels_csv(const char *txt, size_t n, const char *name, ds_slice **out, size_t *n_out) {
    *out = NULL, *n_out = 0;
    size_t cap = 0, i = 0, line = 0;
    while (i < n) {
        line++;
        char buf[160];
        char *c = ds_line(txt, n, &i, buf, sizeof buf);
        if (!*c) continue;
        if (line == 1 && (*c < '0' || *c > '9')) continue; /* header row */
        int cls, used = 0;
        long long a, b;
        if (sscanf(c, "%d , %lld , %lld%n", &cls, &a, &b, &used) != 3 || cls < 1 || cls > 255 || b <= a || a < 0) {
            free(*out), *out = NULL, *n_out = 0;
            for (char *q = c; *q; q++)
                if (*q == '\r') *q = 0;
            return evsnn_seterr(EVSNN_EFORMAT, "%s: line %zu: '%s', expected 'class,startTime_usec,endTime_usec' "
                                               "with class >= 1 and start < end", name, line, c);
        }
        if (*n_out == cap) {
            cap = cap ? 2 * cap : 16;
            ds_slice *p = realloc(*out, cap * sizeof *p);
            if (!p) return free(*out), *out = NULL, *n_out = 0, evsnn_seterr(EVSNN_ENOMEM, "no memory");
            *out = p;
        }
        (*out)[(*n_out)++] = (ds_slice){cls - 1, a, b};
    }
    return 0;
}
