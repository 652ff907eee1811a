/* io/h5util.c — shared HDF5 attribute helpers (see h5util.h). */
#include "h5util.h"

#include "sim/evsnn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

void h5u_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

int h5u_put_attr(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *v, hsize_t n) {
    hid_t sp = n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, NULL);
    hid_t a = H5Acreate2(loc, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Awrite(a, mtype, v);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return rc < 0 ? -1 : 0;
}

int h5u_put_str(hid_t loc, const char *name, const char *s) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    if (H5Aexists(loc, name) > 0) H5Adelete(loc, name);
    int rc = h5u_put_attr(loc, name, t, t, &s, 1);
    H5Tclose(t);
    return rc;
}

int h5u_describe(hid_t loc, const char *name, const char *unit, const char *axes) {
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0) return -1;
    int rc = (unit ? h5u_put_str(d, "unit", unit) : 0) | (axes ? h5u_put_str(d, "axes", axes) : 0);
    H5Dclose(d);
    return rc;
}

int h5u_put_i64(hid_t loc, const char *name, long long v) {
    return h5u_put_attr(loc, name, H5T_STD_I64LE, H5T_NATIVE_LLONG, &v, 1);
}

int h5u_put_f64(hid_t loc, const char *name, double v) {
    return h5u_put_attr(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v, 1);
}

int h5u_get_str(hid_t loc, const char *name, char *buf, size_t len) {
    if (len) buf[0] = 0;
    if (H5Aexists(loc, name) <= 0) return -1;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return -1;
    hid_t ft = H5Aget_type(a), sp = H5Aget_space(a);
    int rc = -1;
    if (H5Tget_class(ft) == H5T_STRING && H5Sget_simple_extent_npoints(sp) == 1) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_cset(mt, H5Tget_cset(ft)); /* HDF5 converts no character set into another */
        if (H5Tis_variable_str(ft) > 0) {
            char *v = NULL;
            H5Tset_size(mt, H5T_VARIABLE);
            if (H5Aread(a, mt, &v) >= 0 && v) { snprintf(buf, len, "%s", v); rc = 0; }
            if (v) H5free_memory(v);
        } else {
            size_t w = H5Tget_size(ft);
            char *v = calloc(w + 1, 1);
            H5Tset_size(mt, w + 1);
            if (v && H5Aread(a, mt, v) >= 0) { snprintf(buf, len, "%s", v); rc = 0; }
            free(v);
        }
        H5Tclose(mt);
    }
    H5Sclose(sp);
    H5Tclose(ft);
    H5Aclose(a);
    return rc;
}

int h5u_get_nums(hid_t loc, const char *name, hid_t mtype, void *v, hssize_t n) {
    if (H5Aexists(loc, name) <= 0) return -1;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return -1;
    hid_t ft = H5Aget_type(a), sp = H5Aget_space(a);
    const H5T_class_t cl = H5Tget_class(ft);
    int rc = (cl == H5T_INTEGER || cl == H5T_FLOAT) && H5Sget_simple_extent_npoints(sp) == n && H5Aread(a, mtype, v) >= 0 ? 0 : -1;
    H5Sclose(sp);
    H5Tclose(ft);
    H5Aclose(a);
    return rc;
}

/* Attributes and links stay in the object header (compact) up to this many: past HDF5's
 * default of 8 they move to a fractal heap, whose blocks carry no checksum. */
#define COMPACT_MAX 1024

hid_t h5u_create(const char *path) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), fcpl = H5Pcreate(H5P_FILE_CREATE);
    hid_t f = -1;
    if (fapl >= 0 && fcpl >= 0 && H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_V110) >= 0 &&
        H5Pset_userblock(fcpl, H5U_USERBLOCK) >= 0 && /* room for the seal (h5u_seal) */
        H5Pset_attr_phase_change(fcpl, COMPACT_MAX, COMPACT_MAX - 1) >= 0 &&
        H5Pset_link_phase_change(fcpl, COMPACT_MAX, COMPACT_MAX - 1) >= 0)
        f = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl);
    if (fapl >= 0) H5Pclose(fapl);
    if (fcpl >= 0) H5Pclose(fcpl);
    return f;
}

hid_t h5u_group(hid_t loc, const char *name) {
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE), g = -1;
    if (gcpl >= 0 && H5Pset_attr_phase_change(gcpl, COMPACT_MAX, COMPACT_MAX - 1) >= 0 &&
        H5Pset_link_phase_change(gcpl, COMPACT_MAX, COMPACT_MAX - 1) >= 0)
        g = H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    if (gcpl >= 0) H5Pclose(gcpl);
    return g;
}

/* The hyperslab of rows [at, at + rows) in d's file space and a memory space of its shape;
 * then one H5Dread or H5Dwrite. */
static int rows_io(hid_t d, hid_t mtype, hsize_t at, hsize_t rows, hsize_t cols, void *rbuf, const void *wbuf) {
    if (rows == 0) return 0;
    const int rank = cols ? 2 : 1;
    hsize_t start[2] = {at, 0}, cnt[2] = {rows, cols};
    hid_t fs = H5Dget_space(d);
    hid_t ms = H5Screate_simple(rank, cnt, NULL);
    herr_t e = fs < 0 || ms < 0 ? -1 : H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, cnt, NULL);
    if (e >= 0) e = rbuf ? H5Dread(d, mtype, ms, fs, H5P_DEFAULT, rbuf) : H5Dwrite(d, mtype, ms, fs, H5P_DEFAULT, wbuf);
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    return e < 0 ? -1 : 0;
}

int h5u_read_rows(hid_t d, hid_t mtype, hsize_t at, hsize_t rows, hsize_t cols, void *buf) {
    return rows_io(d, mtype, at, rows, cols, buf, NULL);
}

int h5u_write_rows(hid_t d, hid_t mtype, hsize_t at, hsize_t rows, hsize_t cols, const void *buf) {
    return rows_io(d, mtype, at, rows, cols, NULL, buf);
}

int h5u_put_data(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *v, int rank, const hsize_t *dims) {
    hsize_t total = 1, chunk[8];
    if (rank < 1 || rank > 8) return -1;
    for (int i = 0; i < rank; i++) total *= dims[i], chunk[i] = dims[i];
    hid_t sp = H5Screate_simple(rank, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    herr_t rc = sp < 0 || dcpl < 0 ? -1 : 0;
    if (!rc && total) {
        /* Chunks of at most 1 MiB (halving the outer dimensions first), each with its own
         * Fletcher-32 checksum; an empty dataset has nothing to check and stays contiguous. */
        const size_t esz = H5Tget_size(ftype);
        for (int i = 0;;) {
            hsize_t bytes = esz;
            for (int k = 0; k < rank; k++) bytes *= chunk[k];
            if (bytes <= (1u << 20)) break;
            while (i < rank - 1 && chunk[i] == 1) i++;
            if (chunk[i] == 1) break;
            chunk[i] = (chunk[i] + 1) / 2;
        }
        rc = H5Pset_chunk(dcpl, rank, chunk) < 0 || H5Pset_fletcher32(dcpl) < 0 ? -1 : 0;
    }
    hid_t d = rc ? -1 : H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    rc = d < 0 ? -1 : total ? H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) : 0;
    if (d >= 0) H5Dclose(d);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (sp >= 0) H5Sclose(sp);
    return rc < 0 ? -1 : 0;
}

static herr_t watch_walk(unsigned n, const H5E_error2_t *e, void *arg) {
    h5u_watch *w = arg;
    /* Innermost first. A file without the HDF5 signature is not damaged, just not HDF5. */
    if (n == 0 && e->min_num == H5E_NOTHDF5) return 1;
    const char *d = e->desc ? e->desc : "";
    if (!w->damage && (e->min_num == H5E_TRUNCATED || e->min_num == H5E_CANTDECODE || e->min_num == H5E_CANTFILTER ||
                       e->min_num == H5E_BADVALUE || e->min_num == H5E_OVERFLOW || strstr(d, "checksum") || strstr(d, "signature"))) {
        w->damage = 1;
        snprintf(w->why, sizeof w->why, "%s", d);
    }
    return 0;
}

/* Called by HDF5 when an API call fails, with that call's error stack. */
static herr_t watch_cb(hid_t estack, void *arg) {
    H5Ewalk2(estack, H5E_WALK_UPWARD, watch_walk, arg); /* innermost error first */
    return 0;
}

void h5u_watch_begin(h5u_watch *w) {
    memset(w, 0, sizeof *w);
    H5Eget_auto2(H5E_DEFAULT, &w->old_fn, &w->old_data);
    H5Eset_auto2(H5E_DEFAULT, watch_cb, w);
}

void h5u_watch_end(h5u_watch *w) { H5Eset_auto2(H5E_DEFAULT, w->old_fn, w->old_data); }

int h5u_corrupt(const h5u_watch *w, const char *path, const char *what, int rc) {
    if (!w->damage) return rc;
    char was[768];
    const char *m = evsnn_errmsg();
    const size_t pl = strlen(path);
    if (!strncmp(m, path, pl) && !strncmp(m + pl, ": ", 2)) m += pl + 2;
    snprintf(was, sizeof was, "%s", m);
    return evsnn_seterr(EVSNN_EFORMAT, "%s: corrupt %s (HDF5: %s)%s%s", path, what, w->why, was[0] ? ": " : "", was);
}

/* ---- the file seal (see h5util.h) ---- */

#define SEAL_MAGIC "evsnn-seal 1 crc32 "

/* CRC-32 and length of the bytes of f from offset `from` to its end. */
static int crc_from(FILE *f, long from, uint32_t *crc, uint64_t *len) {
    if (fseek(f, from, SEEK_SET)) return -1;
    uLong c = crc32(0L, Z_NULL, 0);
    uint64_t n = 0;
    unsigned char buf[1 << 16];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) c = crc32(c, buf, (uInt)got), n += got;
    if (ferror(f)) return -1;
    *crc = (uint32_t)c, *len = n;
    return 0;
}

int h5u_seal(const char *path) {
    FILE *f = fopen(path, "r+b");
    if (!f) return -1;
    uint32_t crc;
    uint64_t len;
    int rc = crc_from(f, H5U_USERBLOCK, &crc, &len);
    char block[H5U_USERBLOCK];
    memset(block, 0, sizeof block);
    snprintf(block, sizeof block, SEAL_MAGIC "%08x length %llu\n(the HDF5 file follows at byte %d; this block is "
                                  "evsnn's checksum of every byte after it)\n",
             crc, (unsigned long long)len, H5U_USERBLOCK);
    if (!rc && (fseek(f, 0, SEEK_SET) || fwrite(block, 1, sizeof block, f) != sizeof block)) rc = -1;
    if (fclose(f)) rc = -1;
    return rc;
}

int h5u_check_seal(const char *path, const char *what) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0; /* the open that follows names the problem */
    char head[64] = "";
    const size_t got = fread(head, 1, sizeof head - 1, f);
    head[got] = 0;
    int rc = 0;
    if (!strncmp(head, SEAL_MAGIC, sizeof SEAL_MAGIC - 1)) {
        unsigned want = 0;
        unsigned long long wlen = 0;
        uint32_t crc = 0;
        uint64_t len = 0;
        if (sscanf(head + sizeof SEAL_MAGIC - 1, "%8x length %llu", &want, &wlen) != 2 || crc_from(f, H5U_USERBLOCK, &crc, &len))
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: corrupt %s (its checksum block is unreadable)", path, what);
        else if (len != wlen)
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: corrupt %s (%llu bytes after the checksum block, %llu were written: "
                                             "truncated or extended)", path, what, (unsigned long long)len, wlen);
        else if (crc != want)
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: corrupt %s (CRC-32 %08x of its bytes, %08x when written)", path, what,
                              crc, want);
    }
    fclose(f);
    return rc;
}
