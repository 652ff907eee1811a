/* io/trace.c — recorded event traces in HDF5 (see trace.h for the layout). */
#include "io/trace.h"

#include <hdf5.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/h5util.h"
#include "io/replace.h"
#include "sim/evsnn.h"

#define FORMAT_NAME "evsnn-trace"
#define SERIES_NAME "evsnn-hw-series"
#define SHAPE_COLS 12

struct trace_writer {
    char *path, *tmp;
    hid_t file;
    uint32_t T, n_layers, n_trains, n_samples, dt_us;
    uint32_t *nch;   /* [n_trains] channels of each train */
    uint64_t *nnz;   /* [n_trains] events written so far */
    char (*group)[48]; /* [n_trains] "input", "layers/<name>" */
    int failed;
};

struct trace_reader {
    char *path;
    hid_t file;
    uint32_t T, N, version, dt_us;
    net *shape;
    char (*group)[48]; /* [n_layers + 1] where each train is: version 2 by name, 1 "train<j>" */
};

/* What the train groups' datasets hold (version 2 writes it on each group and dataset). */
#define TRAIN_LAYOUT \
    "CSR per sample and step: the events of sample i at step t are idx[start[i] + off[i, t] : start[i] + off[i, t + 1]]"

/* HDF5 prints its own error stack by default; library code must stay silent, every failure
 * is reported through evsnn_seterr instead. */

/* ---------------------------------------------------------------- the reader's shape-only net */

static void shape_free(net *n) {
    if (!n) return;
    free(n->layers);
    free(n);
}

/* ---------------------------------------------------------------- small HDF5 helpers */

static int attr_u32(hid_t obj, const char *name, uint32_t v) {
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, H5T_NATIVE_UINT32, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Awrite(a, H5T_NATIVE_UINT32, &v);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return rc < 0 ? -1 : 0;
}

static int write_array(hid_t loc, const char *name, hid_t mtype, int rank, const hsize_t *dims,
                       const void *data) {
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(loc, name, mtype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t total = 1;
    for (int i = 0; i < rank; i++) total *= dims[i];
    /* an empty dataset is created but not written (data may be NULL) */
    herr_t rc = d < 0 ? -1 : total ? H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) : 0;
    if (d >= 0) H5Dclose(d);
    H5Sclose(sp);
    return rc < 0 ? -1 : 0;
}

/* An empty extendible 1-D or 2-D dataset (cols = 0 for 1-D). */
static int create_ext(hid_t loc, const char *name, hid_t type, hsize_t cols, hsize_t chunk_rows) {
    int rank = cols ? 2 : 1;
    hsize_t dims[2] = {0, cols}, maxd[2] = {H5S_UNLIMITED, cols}, ch[2] = {chunk_rows, cols};
    hid_t sp = H5Screate_simple(rank, dims, maxd);
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(pl, rank, ch);
    H5Pset_deflate(pl, 4);
    hid_t d = H5Dcreate2(loc, name, type, sp, H5P_DEFAULT, pl, H5P_DEFAULT);
    H5Pclose(pl);
    H5Sclose(sp);
    if (d < 0) return -1;
    H5Dclose(d);
    return 0;
}

/* Append rows [rows, cols] (cols = 0: 1-D) to an extendible dataset at row `at`. */
static int append(hid_t loc, const char *name, hid_t mtype, hsize_t at, hsize_t rows, hsize_t cols,
                  const void *data) {
    if (rows == 0) return 0;
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0) return -1;
    hsize_t ext[2] = {at + rows, cols};
    int rc = H5Dset_extent(d, ext) >= 0 ? h5u_write_rows(d, mtype, at, rows, cols, data) : -1;
    H5Dclose(d);
    return rc;
}

/* ---------------------------------------------------------------- writer */

/* /net/layers: one row per layer with named fields (an HDF5 compound), /net/name the names. */
typedef struct {
    int32_t kind; /* 0 dense, 1 conv, 2 pool */
    uint32_t in_c, in_h, in_w, n_in, out_c, out_h, out_w, n_out, kernel, pad, conv_h, conv_w;
    int32_t pool;       /* pooling: 0 none, 1 avg, 2 max, 3 sum */
    uint32_t pool_k;    /* pooling window and stride */
    int32_t spike_pool; /* pooling of spikes: 0 or, 1 sum */
} net_row;

static hid_t net_row_type(void) {
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(net_row));
#define F(name, field, ty) H5Tinsert(t, name, offsetof(net_row, field), ty)
    F("kind", kind, H5T_NATIVE_INT32);
    F("in_c", in_c, H5T_NATIVE_UINT32); F("in_h", in_h, H5T_NATIVE_UINT32); F("in_w", in_w, H5T_NATIVE_UINT32);
    F("n_in", n_in, H5T_NATIVE_UINT32); F("out_c", out_c, H5T_NATIVE_UINT32); F("out_h", out_h, H5T_NATIVE_UINT32);
    F("out_w", out_w, H5T_NATIVE_UINT32); F("n_out", n_out, H5T_NATIVE_UINT32); F("kernel", kernel, H5T_NATIVE_UINT32);
    F("pad", pad, H5T_NATIVE_UINT32); F("conv_h", conv_h, H5T_NATIVE_UINT32); F("conv_w", conv_w, H5T_NATIVE_UINT32);
    F("pool", pool, H5T_NATIVE_INT32); F("pool_k", pool_k, H5T_NATIVE_UINT32); F("spike_pool", spike_pool, H5T_NATIVE_INT32);
#undef F
    return t;
}

static int write_shape(hid_t f, const net *n) {
    uint32_t L = n->n_layers;
    hid_t g = H5Gcreate2(f, "net", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) return -1;
    net_row *rows = calloc(L, sizeof *rows);
    const char **names = calloc(L, sizeof *names);
    int rc = -1;
    if (rows && names) {
        for (uint32_t l = 0; l < L; l++) {
            const net_layer *y = &n->layers[l];
            rows[l] = (net_row){(int32_t)y->kind, y->in_c, y->in_h, y->in_w, y->n_in, y->out_c, y->out_h, y->out_w,
                                y->n_out, y->k, y->pad, y->conv_h, y->conv_w, (int32_t)y->pool, y->pool_k,
                                (int32_t)y->spool};
            names[l] = y->name;
        }
        hsize_t d1[1] = {L};
        hid_t rt = net_row_type(), sty = H5Tcopy(H5T_C_S1);
        H5Tset_size(sty, H5T_VARIABLE);
        H5Tset_cset(sty, H5T_CSET_UTF8);
        rc = write_array(g, "layers", rt, 1, d1, rows) | write_array(g, "name", sty, 1, d1, names);
        rc |= h5u_describe(g, "layers", "kind: 0 dense, 1 conv, 2 pool; pool: 0 none, 1 avg, 2 max, 3 sum; "
                                        "spike_pool: 0 or, 1 sum; sizes in neurons, channels and pixels", "layer") |
              h5u_describe(g, "name", NULL, "layer");
        H5Tclose(rt);
        H5Tclose(sty);
    }
    free(rows);
    free(names);
    H5Gclose(g);
    return rc;
}

/* Say what a train group and its datasets hold. */
static int describe_train(hid_t g, const char *name, const char *kind, uint32_t index, uint32_t ch, const uint32_t shape[3],
                          int vals) {
    int rc = h5u_put_str(g, "name", name) | h5u_put_str(g, "kind", kind) | attr_u32(g, "index", index) |
             attr_u32(g, "channels", ch) | h5u_put_attr(g, "shape", H5T_STD_U32LE, H5T_NATIVE_UINT32, shape, 3) |
             h5u_put_str(g, "shape_axes", "channel, row, column (channel id c*H*W + y*W + x)") |
             h5u_put_str(g, "layout", TRAIN_LAYOUT);
    rc |= h5u_describe(g, "start", "event index into idx", "sample") |
          h5u_describe(g, "off", "events from start[sample]", "sample, step 0..T (T + 1 offsets)") |
          h5u_describe(g, "idx", "channel id (c*H*W + y*W + x), strictly increasing within a step", "event");
    if (vals) rc |= h5u_describe(g, "val", "events binned into the channel and step (or a graded value)", "event");
    return rc;
}

trace_writer *trace_create(const char *path, const net *n, uint32_t T, int *err) {
    int dummy;
    if (!err) err = &dummy;
    h5u_quiet();
    if (!path || !n || !n->n_layers || !T) {
        *err = evsnn_seterr(EVSNN_EINVAL, "trace: need a path, a network with layers and T > 0");
        return NULL;
    }
    trace_writer *w = calloc(1, sizeof *w);
    if (!w) { *err = evsnn_seterr(EVSNN_ENOMEM, "trace: no memory"); return NULL; }
    w->T = T;
    w->n_layers = n->n_layers;
    w->n_trains = n->n_layers + 1;
    w->path = strdup(path);
    w->tmp = calloc(strlen(path) + REPLACE_TMP_EXTRA, 1);
    w->nch = calloc(w->n_trains, sizeof *w->nch);
    w->nnz = calloc(w->n_trains, sizeof *w->nnz);
    w->group = calloc(w->n_trains, sizeof *w->group);
    w->file = -1;
    if (!w->path || !w->tmp || !w->nch || !w->nnz || !w->group) {
        *err = evsnn_seterr(EVSNN_ENOMEM, "trace: no memory");
        trace_abort(w);
        return NULL;
    }
    replace_tmpname(w->tmp, strlen(path) + REPLACE_TMP_EXTRA, path); /* fits: room made for it */
    w->file = H5Fcreate(w->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (w->file < 0) {
        *err = evsnn_seterr(EVSNN_EIO, "%s: cannot create HDF5 file", w->tmp);
        trace_abort(w);
        return NULL;
    }
    w->nch[0] = n->n_in;
    for (uint32_t l = 0; l < n->n_layers; l++) w->nch[l + 1] = n->layers[l].n_out;
    const uint32_t in_shape[3] = {n->in_c, n->in_h, n->in_w};
    int rc = h5u_put_str(w->file, "format", FORMAT_NAME) | attr_u32(w->file, "format_version", TRACE_VERSION) |
             attr_u32(w->file, "T", T) | attr_u32(w->file, "n_layers", n->n_layers) |
             h5u_put_str(w->file, "arch", n->arch) | write_shape(w->file, n) |
             h5u_put_attr(w->file, "input_shape", H5T_STD_U32LE, H5T_NATIVE_UINT32, in_shape, 3) |
             h5u_put_str(w->file, "time_unit", "step (dt_us microseconds of the recording each; dt_us 0: the steps "
                                               "of synthetic input have no physical width)") |
             h5u_put_str(w->file, "layout", "/input: the input train; /layers/<name>: each layer's output train, "
                                            "in the order of their index attribute; each " TRAIN_LAYOUT);
    rc |= create_ext(w->file, "labels", H5T_NATIVE_INT32, 0, 1024) |
          h5u_describe(w->file, "labels", "class (-1 unlabelled)", "sample");
    hid_t lg = rc ? -1 : H5Gcreate2(w->file, "layers", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (lg < 0) rc = -1;
    for (uint32_t j = 0; j < w->n_trains && !rc; j++) {
        const net_layer *y = j ? &n->layers[j - 1] : NULL;
        static const char *const kinds[] = {"dense", "conv", "pool"};
        if (j) snprintf(w->group[j], sizeof w->group[j], "layers/%s", y->name);
        else snprintf(w->group[j], sizeof w->group[j], "input");
        hid_t g = H5Gcreate2(w->file, w->group[j], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (g < 0) { rc = -1; break; }
        rc |= create_ext(g, "start", H5T_NATIVE_UINT64, 0, 1024);
        rc |= create_ext(g, "off", H5T_NATIVE_UINT32, (hsize_t)T + 1, 64);
        rc |= create_ext(g, "idx", H5T_NATIVE_UINT32, 0, 16384);
        if (j == 0) rc |= create_ext(g, "val", H5T_NATIVE_FLOAT, 0, 16384);
        const uint32_t sh[3] = {j ? y->out_c : n->in_c, j ? y->out_h : n->in_h, j ? y->out_w : n->in_w};
        if (!rc) rc |= describe_train(g, j ? y->name : "input", j ? kinds[y->kind] : "input", j, w->nch[j], sh, j == 0);
        H5Gclose(g);
    }
    if (lg >= 0) H5Gclose(lg);
    if (rc) {
        *err = evsnn_seterr(EVSNN_EIO, "%s: cannot write the trace header", w->tmp);
        trace_abort(w);
        return NULL;
    }
    *err = 0;
    return w;
}

static int add_train(trace_writer *w, uint32_t j, const spk_train *s) {
    hid_t g = H5Gopen2(w->file, w->group[j], H5P_DEFAULT);
    if (g < 0) return -1;
    uint64_t start = w->nnz[j];
    int rc = append(g, "start", H5T_NATIVE_UINT64, w->n_samples, 1, 0, &start) |
             append(g, "off", H5T_NATIVE_UINT32, w->n_samples, 1, (hsize_t)w->T + 1, s->off) |
             append(g, "idx", H5T_NATIVE_UINT32, start, s->nnz, 0, s->idx);
    if (j == 0 && !rc && s->nnz) {
        float *v = s->val;
        float *ones = NULL;
        if (!v) {
            ones = malloc((size_t)s->nnz * sizeof *ones);
            if (!ones) { H5Gclose(g); return -2; }
            for (uint32_t k = 0; k < s->nnz; k++) ones[k] = 1.0f;
            v = ones;
        }
        rc |= append(g, "val", H5T_NATIVE_FLOAT, start, s->nnz, 0, v);
        free(ones);
    }
    H5Gclose(g);
    if (!rc) w->nnz[j] += s->nnz;
    return rc;
}

int trace_add(trace_writer *w, const spk_train *input, const sim_result *r, int label) {
    if (!w || w->failed) return evsnn_seterr(EVSNN_EINVAL, "trace: writer unusable after an earlier error");
    spk_train empty;
    memset(&empty, 0, sizeof empty);
    if (!input) {
        /* static (direct-coded) input: no events to record */
        int rc = spk_init(&empty, w->T, w->nch[0], 0);
        if (rc) { w->failed = 1; return rc; }
        spk_close(&empty, 0);
        input = &empty;
        rc = trace_add(w, input, r, label);
        spk_deinit(&empty);
        return rc;
    }
    if (!r || r->n_layers != w->n_layers || !r->out) {
        w->failed = 1;
        return evsnn_seterr(EVSNN_EINVAL, "trace %s: result has %u layers, the trace %u",
                            w->path, r ? r->n_layers : 0, w->n_layers);
    }
    for (uint32_t j = 0; j < w->n_trains; j++) {
        const spk_train *s = j ? &r->out[j - 1] : input;
        if (s->T != w->T || s->n != w->nch[j] || s->open_t != s->T) {
            w->failed = 1;
            return evsnn_seterr(EVSNN_ESHAPE,
                                "trace %s: sample %u, train %u: %u steps x %u channels%s, expected "
                                "%u x %u (closed)",
                                w->path, w->n_samples, j, s->T, s->n,
                                s->open_t != s->T ? " (not closed)" : "", w->T, w->nch[j]);
        }
    }
    int32_t lab = label;
    int rc = append(w->file, "labels", H5T_NATIVE_INT32, w->n_samples, 1, 0, &lab);
    for (uint32_t j = 0; j < w->n_trains && !rc; j++) rc = add_train(w, j, j ? &r->out[j - 1] : input);
    if (rc) {
        w->failed = 1;
        if (rc == -2) return evsnn_seterr(EVSNN_ENOMEM, "trace: no memory");
        return evsnn_seterr(EVSNN_EIO, "%s: cannot append sample %u", w->tmp, w->n_samples);
    }
    w->n_samples++;
    return 0;
}

static void writer_free(trace_writer *w) {
    free(w->path);
    free(w->tmp);
    free(w->nch);
    free(w->nnz);
    free(w->group);
    free(w);
}

void trace_set_dt(trace_writer *w, uint32_t dt_us) {
    if (w) w->dt_us = dt_us;
}

void trace_abort(trace_writer *w) {
    if (!w) return;
    if (w->file >= 0) H5Fclose(w->file);
    if (w->tmp) replace_discard(w->tmp);
    writer_free(w);
}

int trace_close(trace_writer *w) {
    if (!w) return 0;
    int rc = 0;
    if (w->failed) rc = evsnn_seterr(EVSNN_EINVAL, "trace %s: not written after an earlier error", w->path);
    if (!rc && (attr_u32(w->file, "n_samples", w->n_samples) < 0 || attr_u32(w->file, "dt_us", w->dt_us) < 0))
        rc = evsnn_seterr(EVSNN_EIO, "%s: cannot finalize", w->tmp);
    herr_t c = H5Fclose(w->file);
    w->file = -1;
    if (!rc && c < 0) rc = evsnn_seterr(EVSNN_EIO, "%s: cannot close", w->tmp);
    if (!rc) rc = replace_commit(w->tmp, w->path);
    if (rc) { trace_abort(w); return rc; }
    writer_free(w);
    return 0;
}

/* ---------------------------------------------------------------- reader */

static int read_attr_u32(hid_t obj, const char *name, uint32_t *v) { return h5u_get_nums(obj, name, H5T_NATIVE_UINT32, v, 1); }

/* Read a whole dataset of known dims; 0, or -1 on mismatch. */
static int read_whole(hid_t loc, const char *name, hid_t mtype, int rank, const hsize_t *want, void *buf) {
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0) return -1;
    hid_t sp = H5Dget_space(d);
    hsize_t dims[2] = {0, 0};
    int ok = H5Sget_simple_extent_ndims(sp) == rank && H5Sget_simple_extent_dims(sp, dims, NULL) == rank;
    for (int i = 0; ok && i < rank; i++) ok = dims[i] == want[i];
    int rc = ok && H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0 ? 0 : -1;
    H5Sclose(sp);
    H5Dclose(d);
    return rc;
}

/* Version 2: /net/layers (compound rows) and /net/name (variable-length strings). */
static int read_shape_v2(trace_reader *r, uint32_t L, int *err) {
    net *n = r->shape;
    net_row *rows = calloc(L, sizeof *rows);
    char **names = calloc(L, sizeof *names);
    int rc = 0;
    if (!rows || !names) {
        free(rows), free(names);
        return *err = evsnn_seterr(EVSNN_ENOMEM, "trace: no memory");
    }
    hsize_t d1[1] = {L};
    hid_t rt = net_row_type(), sty = H5Tcopy(H5T_C_S1);
    H5Tset_size(sty, H5T_VARIABLE);
    H5Tset_cset(sty, H5T_CSET_UTF8);
    const char *bad = read_whole(r->file, "net/layers", rt, 1, d1, rows) ? "/net/layers"
                    : read_whole(r->file, "net/name", sty, 1, d1, names) ? "/net/name" : NULL;
    if (bad) rc = *err = evsnn_seterr(EVSNN_EFORMAT, "%s: %s: missing or not [%u] as expected", r->path, bad, L);
    for (uint32_t l = 0; !rc && l < L; l++) {
        net_layer *y = &n->layers[l];
        const net_row *w = &rows[l];
        if (w->kind < NET_DENSE || w->kind > NET_POOL || w->n_in == 0 || w->n_out == 0 ||
            (l > 0 && w->n_in != n->layers[l - 1].n_out) || !names[l] || !*names[l] || strchr(names[l], '/')) {
            rc = *err = evsnn_seterr(EVSNN_EFORMAT,
                                     "%s: /net/layers[%u]: kind %d, n_in %u, n_out %u, name '%s' do not describe a "
                                     "feed-forward layer (previous n_out %u)", r->path, l, w->kind, w->n_in, w->n_out,
                                     names[l] ? names[l] : "", l ? n->layers[l - 1].n_out : 0);
            break;
        }
        y->kind = (net_kind)w->kind;
        y->in_c = w->in_c; y->in_h = w->in_h; y->in_w = w->in_w; y->n_in = w->n_in;
        y->out_c = w->out_c; y->out_h = w->out_h; y->out_w = w->out_w; y->n_out = w->n_out;
        y->k = w->kernel; y->pad = w->pad; y->conv_h = w->conv_h; y->conv_w = w->conv_w;
        y->pool = (pool_kind)w->pool;
        y->pool_k = w->pool_k;
        y->spool = (spike_pool)w->spike_pool;
        snprintf(y->name, sizeof y->name, "%s", names[l]);
        snprintf(r->group[l + 1], sizeof r->group[l + 1], "layers/%s", y->name);
    }
    if (!bad) {
        hid_t sp = H5Screate_simple(1, d1, NULL);
        H5Dvlen_reclaim(sty, sp, H5P_DEFAULT, names);
        H5Sclose(sp);
    }
    snprintf(r->group[0], sizeof r->group[0], "input");
    H5Tclose(rt);
    H5Tclose(sty);
    free(rows);
    free(names);
    if (!rc) n->n_in = n->layers[0].n_in;
    return rc;
}

static int read_shape(trace_reader *r, uint32_t L, int *err) {
    net *n = calloc(1, sizeof *n);
    if (!n) return *err = evsnn_seterr(EVSNN_ENOMEM, "trace: no memory");
    r->shape = n;
    n->layers = calloc(L, sizeof *n->layers);
    r->group = calloc((size_t)L + 1, sizeof *r->group);
    if (!n->layers || !r->group) return *err = evsnn_seterr(EVSNN_ENOMEM, "trace: no memory");
    n->n_layers = L;
    if (r->version >= 2) return read_shape_v2(r, L, err);
    for (uint32_t j = 0; j <= L; j++) snprintf(r->group[j], sizeof r->group[j], "train%u", j); /* version 1 */
    int32_t *kind = calloc(L, sizeof *kind);
    uint32_t *shape = calloc((size_t)L * SHAPE_COLS, sizeof *shape);
    int32_t *pool = calloc((size_t)L * 3, sizeof *pool);
    char *names = calloc(L, 32);
    int rc = 0;
    if (!n->layers || !kind || !shape || !pool || !names) {
        rc = *err = evsnn_seterr(EVSNN_ENOMEM, "trace: no memory");
        goto out;
    }
    n->n_layers = L;
    hsize_t d1[1] = {L}, d2[2] = {L, SHAPE_COLS}, d3[2] = {L, 3};
    hid_t sty = H5Tcopy(H5T_C_S1);
    H5Tset_size(sty, 32);
    const char *bad = read_whole(r->file, "net/kind", H5T_NATIVE_INT32, 1, d1, kind) ? "/net/kind"
                    : read_whole(r->file, "net/shape", H5T_NATIVE_UINT32, 2, d2, shape) ? "/net/shape"
                    : read_whole(r->file, "net/pool", H5T_NATIVE_INT32, 2, d3, pool) ? "/net/pool"
                    : read_whole(r->file, "net/name", sty, 1, d1, names) ? "/net/name" : NULL;
    H5Tclose(sty);
    if (bad) {
        rc = *err = evsnn_seterr(EVSNN_EFORMAT, "%s: %s: missing or not [%u%s] as expected", r->path, bad,
                                 L, !strcmp(bad, "/net/shape") ? ", 12" : !strcmp(bad, "/net/pool") ? ", 3" : "");
        goto out;
    }
    for (uint32_t l = 0; l < L; l++) {
        net_layer *y = &n->layers[l];
        const uint32_t *s = shape + (size_t)l * SHAPE_COLS;
        if (kind[l] < NET_DENSE || kind[l] > NET_POOL || s[3] == 0 || s[7] == 0 ||
            (l > 0 && s[3] != n->layers[l - 1].n_out)) {
            rc = *err = evsnn_seterr(EVSNN_EFORMAT,
                                     "%s: /net: layer %u: kind %d, n_in %u, n_out %u do not describe a "
                                     "feed-forward layer (previous n_out %u)",
                                     r->path, l, kind[l], s[3], s[7], l ? n->layers[l - 1].n_out : 0);
            goto out;
        }
        y->kind = (net_kind)kind[l];
        y->in_c = s[0]; y->in_h = s[1]; y->in_w = s[2]; y->n_in = s[3];
        y->out_c = s[4]; y->out_h = s[5]; y->out_w = s[6]; y->n_out = s[7];
        y->k = s[8]; y->pad = s[9]; y->conv_h = s[10]; y->conv_w = s[11];
        y->pool = (pool_kind)pool[l * 3];
        y->pool_k = (uint32_t)pool[l * 3 + 1];
        y->spool = (spike_pool)pool[l * 3 + 2];
        memcpy(y->name, names + (size_t)l * 32, 31);
        y->name[31] = 0;
    }
    n->n_in = n->layers[0].n_in;
out:
    free(kind); free(shape); free(pool); free(names);
    return rc;
}

trace_reader *trace_open(const char *path, int *err) {
    int dummy;
    if (!err) err = &dummy;
    h5u_quiet();
    trace_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path))) {
        free(r);
        *err = evsnn_seterr(EVSNN_ENOMEM, "trace: no memory");
        return NULL;
    }
    r->file = -1;
    if (access(path, R_OK) != 0) {
        *err = evsnn_seterr(EVSNN_EIO, "%s: cannot open (no such readable file)", path);
        trace_free(r);
        return NULL;
    }
    r->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (r->file < 0) {
        *err = evsnn_seterr(EVSNN_EFORMAT, "%s: not an HDF5 file (expected an evsnn trace)", path);
        trace_free(r);
        return NULL;
    }
    char fmt[64];
    uint32_t ver = 0, L = 0, N = 0;
    if (h5u_get_str(r->file, "format", fmt, sizeof fmt) || strcmp(fmt, FORMAT_NAME)) {
        *err = evsnn_seterr(EVSNN_EFORMAT, "%s: attribute /format is '%s', expected '%s'", path, fmt, FORMAT_NAME);
        trace_free(r);
        return NULL;
    }
    /* version 1 spelt format_version "version" (and input_shape "in_shape") */
    if (read_attr_u32(r->file, "format_version", &ver) && read_attr_u32(r->file, "version", &ver)) {
        *err = evsnn_seterr(EVSNN_EFORMAT, "%s: attribute /format_version missing", path);
        trace_free(r);
        return NULL;
    }
    if (ver > TRACE_VERSION) {
        *err = evsnn_seterr(EVSNN_EVERSION,
                            "%s: trace version %u is newer than this evsnn reads (%u): upgrade evsnn",
                            path, ver, TRACE_VERSION);
        trace_free(r);
        return NULL;
    }
    const char *bad = read_attr_u32(r->file, "T", &r->T) || !r->T ? "T"
                    : read_attr_u32(r->file, "n_layers", &L) || !L ? "n_layers"
                    : read_attr_u32(r->file, "n_samples", &N) ? "n_samples" : NULL;
    if (bad) {
        *err = evsnn_seterr(EVSNN_EFORMAT, "%s: attribute /%s missing or zero (a trace that was never closed?)",
                            path, bad);
        trace_free(r);
        return NULL;
    }
    r->N = N;
    r->version = ver;
    if (read_shape(r, L, err)) { trace_free(r); return NULL; }
    read_attr_u32(r->file, "dt_us", &r->dt_us);
    uint32_t sh[3] = {0, 0, 0};
    /* exactly 3 values, else 0x0x0; version 1 spelt it in_shape */
    h5u_get_nums(r->file, ver >= 2 ? "input_shape" : "in_shape", H5T_NATIVE_UINT32, sh, 3);
    r->shape->in_c = sh[0]; r->shape->in_h = sh[1]; r->shape->in_w = sh[2];
    h5u_get_str(r->file, "arch", r->shape->arch, sizeof r->shape->arch);
    *err = 0;
    return r;
}

void trace_free(trace_reader *r) {
    if (!r) return;
    if (r->file >= 0) H5Fclose(r->file);
    shape_free(r->shape);
    free(r->group);
    free(r->path);
    free(r);
}

uint32_t trace_len(const trace_reader *r) { return r->N; }
uint32_t trace_T(const trace_reader *r) { return r->T; }
uint32_t trace_dt_us(const trace_reader *r) { return r->dt_us; }
const net *trace_net(const trace_reader *r) { return r->shape; }

/* Read rows [at, at+cnt) of a 1-D or row [at] of a 2-D dataset. */
static int read_slab(hid_t loc, const char *name, hid_t mtype, hsize_t at, hsize_t cnt, hsize_t cols, void *buf) {
    if (cnt == 0) return 0;
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0) return -1;
    hid_t fs = H5Dget_space(d);
    int rank = cols ? 2 : 1;
    hsize_t dims[2] = {0, 0};
    int rc = -1;
    if (H5Sget_simple_extent_ndims(fs) == rank && H5Sget_simple_extent_dims(fs, dims, NULL) == rank &&
        at + cnt <= dims[0] && (!cols || dims[1] == cols))
        rc = h5u_read_rows(d, mtype, at, cnt, cols, buf);
    H5Sclose(fs);
    H5Dclose(d);
    return rc;
}

static int read_train(trace_reader *r, uint32_t j, uint32_t i, spk_train *s) {
    const char *g = r->group[j];
    memset(s, 0, sizeof *s);
    hid_t grp = H5Gopen2(r->file, g, H5P_DEFAULT);
    if (grp < 0) return evsnn_seterr(EVSNN_EFORMAT, "%s: group /%s missing", r->path, g);
    uint32_t n = 0;
    uint64_t start = 0;
    int rc = 0;
    if (read_attr_u32(grp, r->version >= 2 ? "channels" : "n", &n) || n == 0) {
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: /%s: attribute %s missing or zero", r->path, g, r->version >= 2 ? "channels" : "n");
        goto out;
    }
    if ((rc = spk_init(s, r->T, n, j == 0 ? SPK_VALUES : 0))) goto out;
    if (read_slab(grp, "start", H5T_NATIVE_UINT64, i, 1, 0, &start) ||
        read_slab(grp, "off", H5T_NATIVE_UINT32, i, 1, (hsize_t)r->T + 1, s->off)) {
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: /%s/start or /%s/off: sample %u missing", r->path, g, g, i);
        goto out;
    }
    uint32_t nnz = s->off[r->T];
    if (s->off[0] != 0) {
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: /%s/off[%u][0] = %u, expected 0", r->path, g, i, s->off[0]);
        goto out;
    }
    for (uint32_t t = 0; t < r->T; t++)
        if (s->off[t + 1] < s->off[t]) {
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: /%s/off[%u]: step %u: offsets decrease", r->path, g, i, t);
            goto out;
        }
    if ((rc = spk_reserve(s, nnz ? nnz : 1))) goto out;
    if (read_slab(grp, "idx", H5T_NATIVE_UINT32, start, nnz, 0, s->idx) ||
        (j == 0 && read_slab(grp, "val", H5T_NATIVE_FLOAT, start, nnz, 0, s->val))) {
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: /%s/idx: events %llu..%llu of sample %u are missing", r->path, g,
                          (unsigned long long)start, (unsigned long long)start + nnz, i);
        goto out;
    }
    s->nnz = nnz;
    s->open_t = s->T;
    if (spk_validate(s)) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", evsnn_errmsg());
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: /%s sample %u: %s", r->path, g, i, msg);
    }
out:
    H5Gclose(grp);
    if (rc) spk_deinit(s);
    return rc;
}

int trace_read(trace_reader *r, uint32_t i, spk_train *input, spk_train *layers, int *label) {
    if (i >= r->N) return evsnn_seterr(EVSNN_ERANGE, "%s: sample %u: the trace has %u samples", r->path, i, r->N);
    int rc = read_train(r, 0, i, input);
    if (rc) return rc;
    if (input->n != r->shape->n_in) {
        spk_deinit(input);
        return evsnn_seterr(EVSNN_EFORMAT, "%s: /%s has %u channels, the network's input %u", r->path, r->group[0],
                            input->n, r->shape->n_in);
    }
    uint32_t L = r->shape->n_layers;
    for (uint32_t l = 0; layers && l < L; l++) {
        rc = read_train(r, l + 1, i, &layers[l]);
        if (!rc && layers[l].n != r->shape->layers[l].n_out) {
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: /%s has %u channels, layer %u has %u outputs", r->path,
                              r->group[l + 1], layers[l].n, l, r->shape->layers[l].n_out);
            spk_deinit(&layers[l]);
        }
        if (rc) {
            spk_deinit(input);
            for (uint32_t k = 0; k < l; k++) spk_deinit(&layers[k]);
            return rc;
        }
    }
    if (label) {
        int32_t lab = -1;
        if (read_slab(r->file, "labels", H5T_NATIVE_INT32, i, 1, 0, &lab)) {
            spk_deinit(input);
            for (uint32_t k = 0; layers && k < L; k++) spk_deinit(&layers[k]);
            return evsnn_seterr(EVSNN_EFORMAT, "%s: /labels[%u] missing", r->path, i);
        }
        *label = lab;
    }
    return 0;
}

/* ---------------------------------------------------------------- hw time series */

int trace_write_series(const char *path, double clock_mhz, const trace_series *s, uint32_t n_layers) {
    h5u_quiet();
    char *tmp = malloc(strlen(path) + REPLACE_TMP_EXTRA);
    if (!tmp) return evsnn_seterr(EVSNN_ENOMEM, "series: no memory");
    replace_tmpname(tmp, strlen(path) + REPLACE_TMP_EXTRA, path); /* fits: room made for it */
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    int rc = f < 0 ? -1 : 0;
    if (!rc)
        rc = h5u_put_str(f, "format", SERIES_NAME) | attr_u32(f, "format_version", 2) | h5u_put_f64(f, "clock_mhz", clock_mhz);
    for (uint32_t l = 0; l < n_layers && !rc; l++) {
        char name[32];
        snprintf(name, sizeof name, "layer%u", l);
        hid_t g = H5Gcreate2(f, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (g < 0) { rc = -1; break; }
        hsize_t dp[2] = {s[l].m, 2}, dh[1] = {(hsize_t)s[l].depth + 1}, ds[1] = {s[l].T};
        rc = h5u_put_str(g, "name", s[l].name ? s[l].name : "") | attr_u32(g, "depth", s[l].depth) |
             write_array(g, "occupancy", H5T_NATIVE_UINT64, 2, dp, s[l].points) |
             write_array(g, "histogram", H5T_NATIVE_UINT64, 1, dh, s[l].hist) |
             write_array(g, "step_cycles", H5T_NATIVE_UINT64, 1, ds, s[l].steps);
        rc |= h5u_describe(g, "occupancy", "cycle (at the clock_mhz of /), queued spikes from that cycle on",
                           "change point, (cycle, occupancy)") |
              h5u_describe(g, "histogram", "cycles spent at each occupancy", "occupancy 0..depth") |
              h5u_describe(g, "step_cycles", "cycles", "step");
        H5Gclose(g);
    }
    if (f >= 0 && H5Fclose(f) < 0) rc = -1;
    if (rc) {
        replace_discard(tmp);
        free(tmp);
        return evsnn_seterr(EVSNN_EIO, "%s: cannot write the time-series file", path);
    }
    rc = replace_commit(tmp, path);
    free(tmp);
    return rc;
}
