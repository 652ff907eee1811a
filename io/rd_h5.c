/* io/rd_h5.c — the HDF5 datasets: SHD/SSC, DVS128 Gesture (DECOLLE layout) and evsnn's own
 * event file (reader and writer, ds_convert). HDF5 stays confined to this file.
 *
 * SHD: /spikes/times and /spikes/units are variable-length per sample; they are read one
 * element at a time through a native vlen memory type (HDF5 converts half/single/double
 * and any integer width) and freed with H5Dvlen_reclaim.
 *
 * evsnn event file, format version 2 (documented in io/README.md; version 1, still read,
 * named itself evsnn_format = "events", version = 1):
 *   attributes on /: format = "evsnn-events", format_version = 2, kind = "xy" | "unit",
 *                    width, height, polarities, n_classes (int32), source (string)
 *   /events/t int64 µs, /events/x uint16, /events/y uint16, /events/p uint8   [E]
 *   /samples/offset uint64 [N+1] (events of sample i: offset[i] .. offset[i+1])
 *   /samples/label int32 [N] (-1 unlabelled), /samples/t0 int64 [N] µs, /samples/split int8 [N]
 *   (0 train, 1 test, -1 none). Event datasets are chunked (65,536 events) with shuffle and
 *   optional deflate (ds_convert's level; 0 = none: ~4x larger, ~4x faster to read). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "io/ds_impl.h"
#include "io/ds_readers.h"
#include "io/h5util.h"
#include "sim/evsnn.h"

#define EVF_VERSION DS_EVENTS_FORMAT_VERSION
#define SHD_UNITS 700


static int link_exists(hid_t f, const char *path) {
    /* H5Lexists needs every intermediate link to exist: walk the path. */
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || !*p) {
            char c = *p;
            *p = 0;
            if (H5Lexists(f, buf, H5P_DEFAULT) <= 0) return 0;
            if (!c) return 1;
            *p = c;
        }
    }
}

/* Extent of a 1-D (or first dim of an n-D) dataset; -1 on error. */
static int64_t ds_extent(hid_t ds, int *rank, hsize_t dims[4]) {
    hid_t sp = H5Dget_space(ds);
    if (sp < 0) return -1;
    int r = H5Sget_simple_extent_ndims(sp);
    if (r < 0 || r > 4) return H5Sclose(sp), -1;
    hsize_t dd[4] = {1, 1, 1, 1};
    H5Sget_simple_extent_dims(sp, dd, NULL);
    H5Sclose(sp);
    if (rank) *rank = r;
    if (dims) memcpy(dims, dd, sizeof dd);
    return r == 0 ? 1 : (int64_t)dd[0];
}

/* Read a whole dataset of n elements as memory type mt. */
static int read_all(hid_t f, const char *name, hid_t mt, void *buf, const char *file) {
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    if (ds < 0) return evsnn_seterr(EVSNN_EFORMAT, "%s: dataset %s is missing", file, name);
    herr_t e = H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    H5Dclose(ds);
    if (e < 0) return evsnn_seterr(EVSNN_EFORMAT, "%s: dataset %s cannot be read as numbers", file, name);
    return 0;
}

/* ---------------------------------------------------------------- SHD / SSC */

typedef struct {
    hid_t f, times, units;
    int evsnn; /* own file */
    /* gesture */
    char **keys;
    /* own file */
    uint64_t *offset;
    int64_t *t0;
    hid_t et, ex, ey, ep;
    int64_t *bt;
    uint16_t *bx, *by;
    uint8_t *bp;
    size_t bcap;
} h5_state;

static void h5_close(void *st) {
    h5_state *s = st;
    if (!s) return;
    if (s->keys)
        for (size_t i = 0; s->keys[i]; i++) free(s->keys[i]);
    free(s->keys), free(s->offset), free(s->t0), free(s->bt), free(s->bx), free(s->by), free(s->bp);
    hid_t ids[] = {s->times, s->units, s->et, s->ex, s->ey, s->ep};
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++)
        if (ids[i] > 0) H5Dclose(ids[i]);
    if (s->f > 0) H5Fclose(s->f);
    free(s);
}

/* Read element k of a vlen dataset into a malloc'd array of memory type base. */
static int read_vlen(hid_t ds, hsize_t k, hid_t base, size_t esize, void **out, size_t *n, const char *file,
                     const char *name) {
    hid_t sp = H5Dget_space(ds), mt = H5Tvlen_create(base);
    hsize_t one = 1;
    hid_t ms = H5Screate_simple(1, &one, NULL);
    hvl_t vl = {0, NULL};
    int rc = 0;
    if (sp < 0 || mt < 0 || ms < 0 || H5Sselect_hyperslab(sp, H5S_SELECT_SET, &k, NULL, &one, NULL) < 0 ||
        H5Dread(ds, mt, ms, sp, H5P_DEFAULT, &vl) < 0) {
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: %s[%llu]: cannot be read as variable-length numbers", file, name,
                          (unsigned long long)k);
    } else {
        *n = vl.len;
        *out = malloc(vl.len ? vl.len * esize : 1);
        if (!*out) rc = evsnn_seterr(EVSNN_ENOMEM, "no memory");
        else if (vl.len) memcpy(*out, vl.p, vl.len * esize);
        H5Dvlen_reclaim(mt, ms, H5P_DEFAULT, &vl);
    }
    if (ms >= 0) H5Sclose(ms);
    if (mt >= 0) H5Tclose(mt);
    if (sp >= 0) H5Sclose(sp);
    return rc;
}

static int shd_events(dataset *d, uint32_t k, ds_evbuf *out, int64_t *t0) {
    h5_state *s = d->st;
    double *t = NULL;
    long long *u = NULL;
    size_t nt, nu;
    int rc = read_vlen(s->times, k, H5T_NATIVE_DOUBLE, sizeof(double), (void **)&t, &nt, d->path, "/spikes/times");
    if (!rc) rc = read_vlen(s->units, k, H5T_NATIVE_LLONG, sizeof(long long), (void **)&u, &nu, d->path,
                            "/spikes/units");
    if (!rc && nt != nu)
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: sample %u: %zu times but %zu units", d->path, k, nt, nu);
    if (!rc) rc = ds_evbuf_reserve(out, out->n + nt);
    for (size_t i = 0; !rc && i < nt; i++) {
        if (!isfinite(t[i]) || t[i] < 0 || t[i] > 1e6)
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: /spikes/times[%u][%zu]: %g is not a time in seconds >= 0",
                              d->path, k, i, t[i]);
        else if (u[i] < 0 || u[i] >= SHD_UNITS)
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: /spikes/units[%u][%zu]: %lld is not below %d channels", d->path,
                              k, i, u[i], SHD_UNITS);
        else
            out->ev[out->n++] = (ds_event){llround(t[i] * 1e6), (uint16_t)u[i], 0, 0};
    }
    free(t), free(u);
    *t0 = 0;
    return rc;
}

static const ds_reader shd_reader = {"shd", shd_events, NULL, h5_close};

static int open_shd(dataset *d, h5_state *s) {
    const char *path = d->path;
    d->rd = &shd_reader, d->fmt = "shd";
    d->geo = (ds_geometry){DS_KIND_UNIT, SHD_UNITS, 1, 1};
    s->times = H5Dopen2(s->f, "/spikes/times", H5P_DEFAULT);
    s->units = H5Dopen2(s->f, "/spikes/units", H5P_DEFAULT);
    if (s->times < 0 || s->units < 0)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: /spikes/times or /spikes/units is not a dataset", path);
    hid_t ty[2] = {H5Dget_type(s->times), H5Dget_type(s->units)};
    const char *nm[2] = {"/spikes/times", "/spikes/units"};
    for (int i = 0; i < 2; i++) {
        int ok = H5Tget_class(ty[i]) == H5T_VLEN;
        if (ok) {
            hid_t b = H5Tget_super(ty[i]);
            H5T_class_t c = H5Tget_class(b);
            ok = c == H5T_FLOAT || c == H5T_INTEGER;
            H5Tclose(b);
        }
        H5Tclose(ty[i]);
        if (!ok)
            return evsnn_seterr(EVSNN_EFORMAT, "%s: %s: expected variable-length numbers (float or integer)", path,
                                nm[i]);
    }
    int64_t n = ds_extent(s->times, NULL, NULL), nu = ds_extent(s->units, NULL, NULL);
    if (n < 0 || n != nu)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: /spikes/times has %lld samples, /spikes/units %lld", path,
                            (long long)n, (long long)nu);
    d->n_all = (uint32_t)n;
    d->labels = malloc((size_t)(n ? n : 1) * sizeof *d->labels);
    if (!d->labels) return evsnn_seterr(EVSNN_ENOMEM, "no memory");
    if (link_exists(s->f, "/labels")) {
        hid_t ld = H5Dopen2(s->f, "/labels", H5P_DEFAULT);
        int64_t nl = ld >= 0 ? ds_extent(ld, NULL, NULL) : -1;
        if (ld >= 0) H5Dclose(ld);
        if (nl != n)
            return evsnn_seterr(EVSNN_EFORMAT, "%s: /labels has %lld entries, expected %lld (one per sample)", path,
                                (long long)nl, (long long)n);
        int rc = read_all(s->f, "/labels", H5T_NATIVE_INT32, d->labels, path);
        if (rc) return rc;
        for (int64_t i = 0; i < n; i++) {
            if (d->labels[i] < 0 || d->labels[i] > 1000)
                return evsnn_seterr(EVSNN_EFORMAT, "%s: /labels[%lld]: %d is not a class", path, (long long)i,
                                    d->labels[i]);
            if ((uint32_t)d->labels[i] + 1 > d->n_classes) d->n_classes = (uint32_t)d->labels[i] + 1;
        }
        /* /extra/keys names the classes (20 in SHD, 35 in SSC): a subset file whose labels
         * miss a class still keeps the full output width. */
        if (link_exists(s->f, "/extra/keys")) {
            hid_t kd = H5Dopen2(s->f, "/extra/keys", H5P_DEFAULT);
            int64_t nk = kd >= 0 ? ds_extent(kd, NULL, NULL) : -1;
            if (kd >= 0) H5Dclose(kd);
            if (nk > (int64_t)d->n_classes && nk <= 1000) d->n_classes = (uint32_t)nk;
        }
    } else {
        for (int64_t i = 0; i < n; i++) d->labels[i] = -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- DVS128 Gesture HDF5 */

static int gh_events(dataset *d, uint32_t k, ds_evbuf *out, int64_t *t0) {
    h5_state *s = d->st;
    char name[300];
    snprintf(name, sizeof name, "/data/%s/times", s->keys[k]);
    hid_t dt = H5Dopen2(s->f, name, H5P_DEFAULT);
    snprintf(name, sizeof name, "/data/%s/addrs", s->keys[k]);
    hid_t da = H5Dopen2(s->f, name, H5P_DEFAULT);
    int rc = 0, ra = 0;
    hsize_t dims[4];
    int64_t n = dt >= 0 ? ds_extent(dt, NULL, NULL) : -1;
    int64_t na = da >= 0 ? ds_extent(da, &ra, dims) : -1;
    int64_t *t = NULL;
    uint16_t *a = NULL;
    if (n < 0 || na < 0)
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: /data/%s: times or addrs is missing", d->path, s->keys[k]);
    else if (na != n || ra != 2 || dims[1] != 3)
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: /data/%s/addrs: %lld×%llu, expected [%lld, 3] (x, y, p)", d->path,
                          s->keys[k], (long long)na, (unsigned long long)(ra == 2 ? dims[1] : 0), (long long)n);
    if (!rc) {
        t = malloc((size_t)(n ? n : 1) * sizeof *t);
        a = malloc((size_t)(n ? n : 1) * 3 * sizeof *a);
        if (!t || !a) rc = evsnn_seterr(EVSNN_ENOMEM, "no memory");
    }
    if (!rc && n && (H5Dread(dt, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, t) < 0 ||
                     H5Dread(da, H5T_NATIVE_UINT16, H5S_ALL, H5S_ALL, H5P_DEFAULT, a) < 0))
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: /data/%s: times/addrs cannot be read as integers", d->path,
                          s->keys[k]);
    if (!rc) rc = ds_evbuf_reserve(out, out->n + (size_t)n);
    int64_t m = INT64_MAX;
    for (int64_t i = 0; !rc && i < n; i++) {
        if (a[3 * i] >= 128 || a[3 * i + 1] >= 128 || a[3 * i + 2] > 1)
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: /data/%s/addrs[%lld]: (%u, %u, %u), expected x, y < 128, p <= 1",
                              d->path, s->keys[k], (long long)i, a[3 * i], a[3 * i + 1], a[3 * i + 2]);
        else out->ev[out->n++] = (ds_event){t[i], a[3 * i], a[3 * i + 1], (uint8_t)a[3 * i + 2]};
        if (t[i] < m) m = t[i];
    }
    *t0 = n ? m : 0;
    free(t), free(a);
    if (dt >= 0) H5Dclose(dt);
    if (da >= 0) H5Dclose(da);
    return rc;
}

static const ds_reader gh_reader = {"gesture-h5", gh_events, NULL, h5_close};

/* Keys of /extra/<name>: integers or strings (fixed or variable length). */
static int read_keys(h5_state *s, const char *name, char ***keys, size_t *n, const char *file) {
    hid_t ds = H5Dopen2(s->f, name, H5P_DEFAULT);
    if (ds < 0) return evsnn_seterr(EVSNN_EFORMAT, "%s: %s is missing", file, name);
    int64_t m = ds_extent(ds, NULL, NULL);
    hid_t ft = H5Dget_type(ds);
    H5T_class_t c = H5Tget_class(ft);
    int rc = 0;
    *keys = calloc((size_t)(m > 0 ? m : 1), sizeof **keys);
    *n = 0;
    if (m < 0 || !*keys) rc = evsnn_seterr(EVSNN_EFORMAT, "%s: %s cannot be read", file, name);
    else if (c == H5T_INTEGER) {
        long long *v = malloc((size_t)(m ? m : 1) * sizeof *v);
        if (!v || (m && H5Dread(ds, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0))
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: %s cannot be read as integers", file, name);
        for (int64_t i = 0; !rc && i < m; i++) {
            char b[32];
            snprintf(b, sizeof b, "%lld", v[i]);
            if (!((*keys)[i] = ds_strdup(b))) rc = evsnn_seterr(EVSNN_ENOMEM, "no memory");
        }
        free(v);
    } else if (c == H5T_STRING && H5Tis_variable_str(ft) > 0) {
        char **v = calloc((size_t)(m ? m : 1), sizeof *v);
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        if (!v || (m && H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0))
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: %s cannot be read as strings", file, name);
        for (int64_t i = 0; !rc && i < m; i++)
            if (!((*keys)[i] = ds_strdup(v[i] ? v[i] : ""))) rc = evsnn_seterr(EVSNN_ENOMEM, "no memory");
        if (v && m) {
            hid_t sp = H5Dget_space(ds);
            H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, v);
            H5Sclose(sp);
        }
        H5Tclose(mt);
        free(v);
    } else if (c == H5T_STRING) {
        size_t w = H5Tget_size(ft);
        char *v = malloc((size_t)(m ? m : 1) * (w + 1));
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, w + 1);
        if (!v || (m && H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0))
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: %s cannot be read as strings", file, name);
        for (int64_t i = 0; !rc && i < m; i++) {
            v[(size_t)i * (w + 1) + w] = 0;
            if (!((*keys)[i] = ds_strdup(v + (size_t)i * (w + 1)))) rc = evsnn_seterr(EVSNN_ENOMEM, "no memory");
        }
        H5Tclose(mt);
        free(v);
    } else rc = evsnn_seterr(EVSNN_EFORMAT, "%s: %s: expected integer or string keys", file, name);
    H5Tclose(ft);
    H5Dclose(ds);
    *n = m > 0 ? (size_t)m : 0;
    if (rc) {
        for (size_t i = 0; i < *n; i++) free((*keys)[i]);
        free(*keys), *keys = NULL, *n = 0;
    }
    return rc;
}

static int open_gesture(dataset *d, h5_state *s) {
    const char *path = d->path;
    d->rd = &gh_reader, d->fmt = "gesture-h5";
    d->geo = (ds_geometry){DS_KIND_XY, 128, 128, 2};
    d->dvs128 = 1;
    char **tr = NULL, **te = NULL;
    size_t ntr = 0, nte = 0;
    int rc = read_keys(s, "/extra/train_keys", &tr, &ntr, path);
    if (!rc) rc = read_keys(s, "/extra/test_keys", &te, &nte, path);
    size_t n = ntr + nte;
    if (!rc) {
        s->keys = calloc(n + 1, sizeof *s->keys);
        d->labels = malloc((n ? n : 1) * sizeof *d->labels);
        d->split = malloc(n ? n : 1);
        if (!s->keys || !d->labels || !d->split) rc = evsnn_seterr(EVSNN_ENOMEM, "no memory");
    }
    for (size_t i = 0; !rc && i < n; i++) {
        s->keys[i] = i < ntr ? tr[i] : te[i - ntr];
        if (i < ntr) tr[i] = NULL;
        else te[i - ntr] = NULL;
        d->split[i] = i < ntr ? 0 : 1;
        char name[300];
        snprintf(name, sizeof name, "/data/%s/labels", s->keys[i]);
        int lab[8] = {0};
        hid_t ld = H5Dopen2(s->f, name, H5P_DEFAULT);
        int64_t nl = ld >= 0 ? ds_extent(ld, NULL, NULL) : -1;
        if (nl < 1 || nl > 8 || H5Dread(ld, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, lab) < 0 || lab[0] < 0 ||
            lab[0] > 1000)
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: %s: expected one class number (class − 1)", path, name);
        if (ld >= 0) H5Dclose(ld);
        d->labels[i] = lab[0];
        if ((uint32_t)lab[0] + 1 > d->n_classes) d->n_classes = (uint32_t)lab[0] + 1;
    }
    for (size_t i = 0; i < ntr; i++) free(tr[i]);
    for (size_t i = 0; i < nte; i++) free(te[i]);
    free(tr), free(te);
    d->n_all = (uint32_t)n;
    return rc;
}

/* ---------------------------------------------------------------- evsnn event file */

static int evf_events(dataset *d, uint32_t k, ds_evbuf *out, int64_t *t0) {
    h5_state *s = d->st;
    hsize_t a = s->offset[k], n = s->offset[k + 1] - s->offset[k];
    *t0 = s->t0[k];
    if (n == 0) return 0;
    if (n > s->bcap) {
        free(s->bt), free(s->bx), free(s->by), free(s->bp);
        s->bt = malloc(n * sizeof *s->bt), s->bx = malloc(n * sizeof *s->bx);
        s->by = malloc(n * sizeof *s->by), s->bp = malloc(n);
        s->bcap = n;
        if (!s->bt || !s->bx || !s->by || !s->bp) {
            s->bcap = 0;
            return evsnn_seterr(EVSNN_ENOMEM, "no memory for %llu events", (unsigned long long)n);
        }
    }
    struct { hid_t ds; hid_t mt; void *buf; const char *name; } cols[4] = {
        {s->et, H5T_NATIVE_INT64, s->bt, "/events/t"}, {s->ex, H5T_NATIVE_UINT16, s->bx, "/events/x"},
        {s->ey, H5T_NATIVE_UINT16, s->by, "/events/y"}, {s->ep, H5T_NATIVE_UINT8, s->bp, "/events/p"}};
    int rc = 0;
    for (int c = 0; c < 4 && !rc; c++)
        if (h5u_read_rows(cols[c].ds, cols[c].mt, a, n, 0, cols[c].buf))
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: %s[%llu..%llu): cannot be read (sample %u)", d->path,
                              cols[c].name, (unsigned long long)a, (unsigned long long)(a + n), k);
    if (!rc) rc = ds_evbuf_reserve(out, out->n + n);
    for (hsize_t i = 0; !rc && i < n; i++) {
        if (s->bx[i] >= d->geo.width || s->by[i] >= d->geo.height)
            return evsnn_seterr(EVSNN_EFORMAT, "%s: /events/x,y[%llu]: (%u, %u) is outside the %u×%u sensor", d->path,
                                (unsigned long long)(a + i), s->bx[i], s->by[i], d->geo.width, d->geo.height);
        out->ev[out->n++] = (ds_event){s->bt[i], s->bx[i], s->by[i], s->bp[i] ? 1 : 0};
    }
    return rc;
}

static const ds_reader evf_reader = {"evsnn-events", evf_events, NULL, h5_close};

static int attr_int(hid_t o, const char *name, long long *v) { return h5u_get_nums(o, name, H5T_NATIVE_LLONG, v, 1); }

static int open_evf(dataset *d, h5_state *s) {
    const char *path = d->path;
    d->rd = &evf_reader, d->fmt = "evsnn-events";
    long long ver = 0, w = 0, h = 0, pol = 0, ncls = 0;
    char kind[16] = ""; /* printed below also when an earlier attribute failed */
    if (attr_int(s->f, "format_version", &ver) && attr_int(s->f, "version", &ver)) /* version 1: "version" */
        return evsnn_seterr(EVSNN_EFORMAT, "%s: attribute /format_version is missing (evsnn event file)", path);
    if (ver > EVF_VERSION)
        return evsnn_seterr(EVSNN_EVERSION, "%s: evsnn event file version %lld, this build reads up to %d: "
                                            "upgrade evsnn", path, ver, EVF_VERSION);
    if (ver < 1) return evsnn_seterr(EVSNN_EFORMAT, "%s: attribute /version = %lld, expected >= 1", path, ver);
    if (attr_int(s->f, "width", &w) || attr_int(s->f, "height", &h) || attr_int(s->f, "polarities", &pol) ||
        attr_int(s->f, "n_classes", &ncls) || h5u_get_str(s->f, "kind", kind, sizeof kind) ||
        w < 1 || w > 65536 || h < 1 || h > 65536 || pol < 1 || pol > 2 || ncls < 0 ||
        (strcmp(kind, "xy") && strcmp(kind, "unit")))
        return evsnn_seterr(EVSNN_EFORMAT, "%s: attributes width/height/polarities/n_classes/kind missing or out "
                                           "of range (width %lld, height %lld, polarities %lld, kind '%s')",
                            path, w, h, pol, kind);
    d->geo = (ds_geometry){strcmp(kind, "unit") ? DS_KIND_XY : DS_KIND_UNIT, (uint32_t)w, (uint32_t)h,
                           (uint32_t)pol};
    d->dvs128 = d->geo.kind == DS_KIND_XY && w == 128 && h == 128;
    d->n_classes = (uint32_t)ncls;
    hid_t od = H5Dopen2(s->f, "/samples/offset", H5P_DEFAULT);
    int64_t no = od >= 0 ? ds_extent(od, NULL, NULL) : -1;
    if (od >= 0) H5Dclose(od);
    if (no < 1) return evsnn_seterr(EVSNN_EFORMAT, "%s: /samples/offset missing or empty (expected N+1 offsets)", path);
    uint32_t n = (uint32_t)(no - 1);
    s->offset = malloc((size_t)no * sizeof *s->offset);
    s->t0 = malloc((size_t)no * sizeof *s->t0);
    d->labels = malloc((size_t)no * sizeof *d->labels);
    d->split = malloc((size_t)no);
    if (!s->offset || !s->t0 || !d->labels || !d->split) return evsnn_seterr(EVSNN_ENOMEM, "no memory");
    int rc = read_all(s->f, "/samples/offset", H5T_NATIVE_UINT64, s->offset, path);
    if (!rc && n) rc = read_all(s->f, "/samples/label", H5T_NATIVE_INT32, d->labels, path);
    if (!rc && n) rc = read_all(s->f, "/samples/t0", H5T_NATIVE_INT64, s->t0, path);
    if (!rc && n) rc = read_all(s->f, "/samples/split", H5T_NATIVE_INT8, d->split, path);
    if (rc) return rc;
    s->et = H5Dopen2(s->f, "/events/t", H5P_DEFAULT);
    s->ex = H5Dopen2(s->f, "/events/x", H5P_DEFAULT);
    s->ey = H5Dopen2(s->f, "/events/y", H5P_DEFAULT);
    s->ep = H5Dopen2(s->f, "/events/p", H5P_DEFAULT);
    if (s->et < 0 || s->ex < 0 || s->ey < 0 || s->ep < 0)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: /events/t, x, y or p is missing", path);
    int64_t ne = ds_extent(s->et, NULL, NULL);
    if (ds_extent(s->ex, NULL, NULL) != ne || ds_extent(s->ey, NULL, NULL) != ne || ds_extent(s->ep, NULL, NULL) != ne)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: /events/t, x, y, p differ in length", path);
    if (s->offset[0] != 0)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: /samples/offset[0] = %llu, expected 0", path,
                            (unsigned long long)s->offset[0]);
    for (uint32_t i = 0; i < n; i++) {
        if (s->offset[i + 1] < s->offset[i] || s->offset[i + 1] > (uint64_t)ne)
            return evsnn_seterr(EVSNN_EFORMAT, "%s: /samples/offset[%u] = %llu: not in %llu..%lld", path, i + 1,
                                (unsigned long long)s->offset[i + 1], (unsigned long long)s->offset[i], (long long)ne);
        if (d->labels[i] < -1 || (d->labels[i] >= 0 && (uint32_t)d->labels[i] >= d->n_classes && d->n_classes))
            return evsnn_seterr(EVSNN_EFORMAT, "%s: /samples/label[%u] = %d, expected -1..%u", path, i, d->labels[i],
                                d->n_classes ? d->n_classes - 1 : 0);
    }
    int any = 0;
    for (uint32_t i = 0; i < n; i++) any |= d->split[i] >= 0;
    if (!any) free(d->split), d->split = NULL;
    d->n_all = n;
    return 0;
}

int rd_h5_open(dataset *d, const char *path) {
    h5u_quiet();
    h5_state *s = calloc(1, sizeof *s);
    if (!s) return evsnn_seterr(EVSNN_ENOMEM, "no memory");
    s->times = s->units = s->et = s->ex = s->ey = s->ep = -1;
    d->st = s, d->rd = &shd_reader; /* for close on failure */
    s->f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (s->f < 0) return evsnn_seterr(EVSNN_EFORMAT, "%s: offset 0: HDF5 signature but the file cannot be opened "
                                                     "(truncated or corrupt)", path);
    char fmt[32];
    /* version 2 names itself format = "evsnn-events" as every evsnn file does; version 1
     * evsnn_format = "events" */
    if (h5u_get_str(s->f, "format", fmt, sizeof fmt) == 0 && !strncmp(fmt, "evsnn-", 6)) {
        if (strcmp(fmt, "evsnn-events"))
            return evsnn_seterr(EVSNN_EFORMAT, "%s: an %s file, not an event dataset", path, fmt);
        return open_evf(d, s);
    }
    if (h5u_get_str(s->f, "evsnn_format", fmt, sizeof fmt) == 0) {
        if (strcmp(fmt, "events"))
            return evsnn_seterr(EVSNN_EFORMAT, "%s: an evsnn '%s' file, not an event dataset", path, fmt);
        return open_evf(d, s);
    }
    if (link_exists(s->f, "/spikes/times")) return open_shd(d, s);
    if (link_exists(s->f, "/extra/train_keys") && link_exists(s->f, "/data")) return open_gesture(d, s);
    return evsnn_seterr(EVSNN_EFORMAT, "%s: HDF5 file without /spikes/times (SHD), /data + /extra/train_keys "
                                       "(DVS128 Gesture) or an evsnn_format attribute", path);
}
