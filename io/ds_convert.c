/* io/ds_convert.c — ds_convert (io/dataset.h): any dataset's raw events into an evsnn event
 * file (HDF5, the layout io/README.md gives and io/rd_h5.c reads). A user of the dataset
 * API, above dataset.c and the readers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "io/ds_impl.h"
#include "io/h5util.h"
#include "io/replace.h"
#include "sim/evsnn.h"

static hid_t make_col(hid_t g, const char *name, hid_t ft, int level) {
    hsize_t zero = 0, unl = H5S_UNLIMITED, chunk = 65536;
    hid_t sp = H5Screate_simple(1, &zero, &unl);
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(pl, 1, &chunk);
    H5Pset_shuffle(pl);
    if (level > 0) H5Pset_deflate(pl, (unsigned)level);
    hid_t ds = H5Dcreate2(g, name, ft, sp, H5P_DEFAULT, pl, H5P_DEFAULT);
    H5Pclose(pl);
    H5Sclose(sp);
    return ds;
}

static int append(hid_t ds, hid_t mt, const void *buf, hsize_t at, hsize_t n) {
    hsize_t size = at + n;
    if (H5Dset_extent(ds, &size) < 0) return -1;
    return h5u_write_rows(ds, mt, at, n, 0, buf);
}

static int write_small(hid_t g, const char *name, hid_t ft, hid_t mt, const void *buf, hsize_t n) {
    hid_t sp = H5Screate_simple(1, &n, NULL);
    hid_t ds = H5Dcreate2(g, name, ft, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = ds >= 0 ? (n ? H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) : 0) : -1;
    if (ds >= 0) H5Dclose(ds);
    H5Sclose(sp);
    return e < 0 ? -1 : 0;
}

int ds_convert(dataset *d, const char *path, int level) {
    if (d->geo.kind == DS_KIND_IMAGE)
        return evsnn_seterr(EVSNN_ENOTSUP, "%s: %s holds images; convert writes event datasets", d->path, d->fmt);
    h5u_quiet();
    size_t pl = strlen(path);
    char *tmp = malloc(pl + REPLACE_TMP_EXTRA);
    if (!tmp) return evsnn_seterr(EVSNN_ENOMEM, "no memory");
    replace_tmpname(tmp, pl + REPLACE_TMP_EXTRA, path); /* fits: room made for it */
    uint32_t n = d->n_sel;
    uint64_t *off = malloc(((size_t)n + 1) * sizeof *off);
    int32_t *lab = malloc(((size_t)n + 1) * sizeof *lab);
    int64_t *t0s = malloc(((size_t)n + 1) * sizeof *t0s);
    int8_t *spl = malloc((size_t)n + 1);
    int64_t *bt = NULL;
    uint16_t *bx = NULL, *by = NULL;
    uint8_t *bp = NULL;
    size_t bcap = 0;
    int rc = 0;
    hid_t f = -1, ge = -1, gs = -1, c[4] = {-1, -1, -1, -1};
    if (!off || !lab || !t0s || !spl) {
        rc = evsnn_seterr(EVSNN_ENOMEM, "no memory");
        goto done;
    }
    f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) {
        rc = evsnn_seterr(EVSNN_EIO, "%s: cannot create", tmp);
        goto done;
    }
    ge = H5Gcreate2(f, "events", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    gs = H5Gcreate2(f, "samples", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    c[0] = make_col(ge, "t", H5T_STD_I64LE, level);
    c[1] = make_col(ge, "x", H5T_STD_U16LE, level);
    c[2] = make_col(ge, "y", H5T_STD_U16LE, level);
    c[3] = make_col(ge, "p", H5T_STD_U8LE, level);
    if (ge < 0 || gs < 0 || c[0] < 0 || c[1] < 0 || c[2] < 0 || c[3] < 0) {
        rc = evsnn_seterr(EVSNN_EIO, "%s: cannot create the event datasets", tmp);
        goto done;
    }
    off[0] = 0;
    for (uint32_t i = 0; i < n; i++) {
        const ds_event *ev;
        size_t m;
        int64_t t0;
        int label;
        if ((rc = ds_raw(d, i, &ev, &m, &t0, &label))) goto done;
        if (m > bcap) {
            free(bt), free(bx), free(by), free(bp);
            bt = malloc(m * sizeof *bt), bx = malloc(m * sizeof *bx), by = malloc(m * sizeof *by), bp = malloc(m);
            bcap = m;
            if (!bt || !bx || !by || !bp) {
                bcap = 0;
                rc = evsnn_seterr(EVSNN_ENOMEM, "no memory");
                goto done;
            }
        }
        for (size_t j = 0; j < m; j++) bt[j] = ev[j].t, bx[j] = ev[j].x, by[j] = ev[j].y, bp[j] = ev[j].p;
        if (m && (append(c[0], H5T_NATIVE_INT64, bt, off[i], m) || append(c[1], H5T_NATIVE_UINT16, bx, off[i], m) ||
                  append(c[2], H5T_NATIVE_UINT16, by, off[i], m) || append(c[3], H5T_NATIVE_UINT8, bp, off[i], m))) {
            rc = evsnn_seterr(EVSNN_EIO, "%s: writing sample %u failed (disk full?)", tmp, i);
            goto done;
        }
        off[i + 1] = off[i] + m;
        lab[i] = label, t0s[i] = t0, spl[i] = (int8_t)ds_sample_split(d, i);
    }
    if (write_small(gs, "offset", H5T_STD_U64LE, H5T_NATIVE_UINT64, off, (hsize_t)n + 1) ||
        write_small(gs, "label", H5T_STD_I32LE, H5T_NATIVE_INT32, lab, n) ||
        write_small(gs, "t0", H5T_STD_I64LE, H5T_NATIVE_INT64, t0s, n) ||
        write_small(gs, "split", H5T_STD_I8LE, H5T_NATIVE_INT8, spl, n) || h5u_put_str(f, "format", "evsnn-events") ||
        h5u_put_i64(f, "format_version", DS_EVENTS_FORMAT_VERSION) || h5u_put_str(f, "kind", d->geo.kind == DS_KIND_UNIT ? "unit" : "xy") ||
        h5u_put_i64(f, "width", d->geo.width) || h5u_put_i64(f, "height", d->geo.height) ||
        h5u_put_i64(f, "polarities", d->geo.polarities) || h5u_put_i64(f, "n_classes", d->n_classes) ||
        h5u_put_str(f, "source", d->fmt) ||
        h5u_put_str(f, "layout", "the events of sample i are /events/*[offset[i] : offset[i + 1]], in time order") ||
        h5u_describe(ge, "t", "µs (the recording's clock)", "event") ||
        h5u_describe(ge, "x", d->geo.kind == DS_KIND_UNIT ? "unit (channel)" : "pixel column", "event") ||
        h5u_describe(ge, "y", d->geo.kind == DS_KIND_UNIT ? "0" : "pixel row", "event") ||
        h5u_describe(ge, "p", "polarity (1 ON, 0 OFF)", "event") ||
        h5u_describe(gs, "offset", "event index into /events", "sample (N + 1 offsets)") ||
        h5u_describe(gs, "label", "class (-1 unlabelled)", "sample") ||
        h5u_describe(gs, "t0", "µs: the sample's time origin (steps count from it)", "sample") ||
        h5u_describe(gs, "split", "0 train, 1 test, -1 none", "sample")) {
        rc = evsnn_seterr(EVSNN_EIO, "%s: writing the sample table failed", tmp);
        goto done;
    }
done:
    for (int i = 0; i < 4; i++)
        if (c[i] >= 0) H5Dclose(c[i]);
    if (ge >= 0) H5Gclose(ge);
    if (gs >= 0) H5Gclose(gs);
    if (f >= 0 && H5Fclose(f) < 0 && !rc) rc = evsnn_seterr(EVSNN_EIO, "%s: closing failed", tmp);
    if (!rc) rc = replace_commit(tmp, path);
    else replace_discard(tmp);
    free(tmp), free(off), free(lab), free(t0s), free(spl), free(bt), free(bx), free(by), free(bp);
    return rc;
}
