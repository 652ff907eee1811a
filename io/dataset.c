/* io/dataset.c — format detection, sample selection and the transform chain (dataset.h). */
#include "io/dataset.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "io/ds_impl.h"
#include "io/ds_readers.h"
#include "io/transform.h"
#include "sim/evsnn.h"
#include "sim/rng.h"

/* Where Debian's dataset-fashion-mnist package installs the full 60k/10k IDX files. */
#define FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist/"

void ds_opts_default(ds_opts *o) {
    memset(o, 0, sizeof *o);
    o->pool = DS_POOL_SUM;
    o->pol = DS_POL_SPLIT;
    o->enc = DS_ENC_DIRECT;
    o->split = DS_SPLIT_ALL;
}

/* Fill the format defaults (see io/README.md for the reasons behind each). */
static int resolve_opts(dataset *d) {
    ds_opts *o = &d->o;
    if (o->T == 0) o->T = 100;
    if (o->gain <= 0) o->gain = 1.0f;
    if (o->unit_factor == 0) o->unit_factor = 1;
    if (o->dt_us == 0) {
        if (d->geo.kind == DS_KIND_UNIT) o->dt_us = 14000;       /* SHD: 100 × 14 ms = 1.4 s */
        else if (d->dvs128) o->dt_us = 5000;                     /* seed 004 */
        else if (d->geo.width == 34) o->dt_us = 3400;            /* N-MNIST: 100 × 3.4 ms */
        else o->dt_us = 1000;
    }
    if (o->ds_factor == 0) o->ds_factor = d->dvs128 ? 4 : 1;
    if (o->win_end_us && o->win_end_us <= o->win_start_us)
        return evsnn_seterr(EVSNN_EINVAL, "time window [%lld, %lld) µs is empty",
                            (long long)o->win_start_us, (long long)o->win_end_us);
    if (d->geo.kind == DS_KIND_IMAGE) {
        d->c = d->geo.polarities, d->h = d->geo.height, d->w = d->geo.width;
    } else if (d->geo.kind == DS_KIND_UNIT) {
        d->c = 1, d->h = 1, d->w = (d->geo.width + o->unit_factor - 1) / o->unit_factor;
    } else {
        d->c = o->pol == DS_POL_MERGE ? 1 : 2;
        d->h = (d->geo.height + o->ds_factor - 1) / o->ds_factor;
        d->w = (d->geo.width + o->ds_factor - 1) / o->ds_factor;
    }
    return 0;
}

/* ---------------------------------------------------------------- detection */

static int is_dir(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int exists(const char *dir, const char *name) {
    char *p = ds_path_join(dir, name);
    int ok = p && access(p, R_OK) == 0;
    free(p);
    return ok;
}

/* Folder kinds: IDX (train-/t10k- files), N-MNIST (Train/ Test/, or list .txt files),
 * AEDAT 3.1 gesture folder (*_labels.csv). */
static int open_dir(dataset *d, const char *path) {
    if (exists(path, "train-images-idx3-ubyte.gz") || exists(path, "t10k-images-idx3-ubyte.gz") ||
        exists(path, "train-images-idx3-ubyte") || exists(path, "t10k-images-idx3-ubyte"))
        return rd_idx_open(d, path);
    if (exists(path, "Train") || exists(path, "Test")) return rd_nmnist_open(d, path, 2);
    DIR *dir = opendir(path);
    if (!dir) return evsnn_seterr(EVSNN_EIO, "%s: cannot open folder: %s", path, strerror(errno));
    int csv = 0, txt = 0, a4 = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        size_t l = strlen(e->d_name);
        if (l > 11 && !strcmp(e->d_name + l - 11, "_labels.csv")) csv++;
        if (l > 4 && !strcmp(e->d_name + l - 4, ".txt")) txt++;
        if (l > 7 && !strcmp(e->d_name + l - 7, ".aedat4")) a4++;
    }
    closedir(dir);
    if (a4) return rd_aedat4_open(d, path);
    if (csv) return rd_aedat3_open(d, path);
    if (txt) return rd_nmnist_open(d, path, 2);
    return evsnn_seterr(EVSNN_EFORMAT,
                        "%s: folder holds no known dataset (expected IDX train-/t10k- files, N-MNIST "
                        "Train/ Test/ or list .txt files, AEDAT 3.1 *_labels.csv or *.aedat4 recordings)",
                        path);
}

/* A text line "<int><ws><int>" — an N-MNIST sample list entry. */
static int looks_like_list(const uint8_t *b, size_t n) {
    if (n >= 7 && !memcmp(b, "#sample", 7)) return 1;
    size_t i = 0;
    int digits = 0;
    while (i < n && b[i] >= '0' && b[i] <= '9') i++, digits++;
    if (!digits || i >= n || (b[i] != '\t' && b[i] != ' ')) return 0;
    while (i < n && (b[i] == '\t' || b[i] == ' ')) i++;
    return i < n && b[i] >= '0' && b[i] <= '9';
}

/* N-MNIST has no header: accept a file of 5-byte records of which at least 7 in 8 of the
 * first ones decode to the 34×34 sensor (or are overflow markers, y = 240). Not all: a file
 * with one bad record among the first is still N-MNIST, and its decoder then names that
 * record's offset, as it does when the file comes through a list. Random bytes pass a
 * record with probability (34/256)·(35/256) < 2 %, so 35 of 40 never happens by chance. */
static int looks_like_nmnist(const char *path, const uint8_t *b, size_t got) {
    struct stat sb;
    if (stat(path, &sb) != 0 || sb.st_size == 0 || sb.st_size % 5 != 0) return 0;
    size_t recs = got / 5, good = 0;
    for (size_t r = 0; r < recs; r++) {
        uint8_t x = b[5 * r], y = b[5 * r + 1];
        good += y == 240 || (x <= 33 && y <= 33);
    }
    return recs > 0 && 8 * good >= 7 * recs;
}

static int open_file(dataset *d, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return evsnn_seterr(EVSNN_EIO, "%s: cannot open: %s", path, strerror(errno));
    uint8_t b[200];
    size_t got = fread(b, 1, sizeof b, f);
    fclose(f);
    if (got >= 8 && !memcmp(b, "\x89HDF\r\n\x1a\n", 8)) return rd_h5_open(d, path);
    if (got >= 6 && !memcmp(b, "MATLAB", 6)) {
        /* v7.3 .mat is HDF5 behind a 512-byte user block: matio reads both. */
        return rd_svhn_open(d, path);
    }
    if (got >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
        gzFile g = gzopen(path, "rb");
        uint8_t m[4] = {0};
        int r = g ? gzread(g, m, 4) : -1, zerr = Z_OK;
        char zmsg[256] = "";
        if (g && r != 4) {
            const char *e = gzerror(g, &zerr); /* "path: what" */
            snprintf(zmsg, sizeof zmsg, "%s", e && strstr(e, ": ") ? strstr(e, ": ") + 2 : e ? e : "");
        }
        if (g) gzclose(g);
        ds_elem e;
        if (r == 4 && m[0] == 0 && m[1] == 0 && !ds_elem_from_idx(m[2], &e)) return rd_idx_open(d, path);
        if (zerr != Z_OK) return evsnn_seterr(EVSNN_EFORMAT, "%s: corrupt gzip stream: %s", path, zmsg);
        return evsnn_seterr(EVSNN_EFORMAT, "%s: offset 0: gzip file without an IDX magic (00 00 <type> <ndim>)", path);
    }
    ds_elem e;
    if (got >= 4 && b[0] == 0 && b[1] == 0 && !ds_elem_from_idx(b[2], &e) && b[3] >= 1 && b[3] <= 4)
        return rd_idx_open(d, path);
    if (got >= 6 && !memcmp(b, "\x93NUMPY", 6)) return rd_npy_open(d, path);
    if (got >= 12 && !memcmp(b, "#!AER-DAT2.0", 12)) return rd_aedat2_open(d, path, 2);
    if (got >= 12 && !memcmp(b, "#!AER-DAT1.0", 12)) return rd_aedat2_open(d, path, 1);
    if (got >= 12 && !memcmp(b, "#!AER-DAT3.1", 12)) return rd_aedat3_open(d, path);
    if (got >= 12 && !memcmp(b, "#!AER-DAT4.0", 12)) return rd_aedat4_open(d, path);
    if (got >= 10 && !memcmp(b, "#!AER-DAT", 9))
        return evsnn_seterr(EVSNN_ENOTSUP, "%s: offset 0: AEDAT version '%.12s' is not supported "
                                           "(1.0, 2.0, 3.1 and 4.0 are)", path, (const char *)b);
    if (got >= 2 && b[0] == '%' && b[1] == ' ') return rd_evt_open(d, path); /* Prophesee RAW */
    if (looks_like_list(b, got)) return rd_nmnist_open(d, path, 1);
    if (looks_like_nmnist(path, b, got)) return rd_nmnist_open(d, path, 0);
    return evsnn_seterr(EVSNN_EFORMAT,
                        "%s: not a recognised dataset format (looked for HDF5, MATLAB, IDX, NumPy .npy, gzip, AEDAT "
                        "'#!AER-DAT', Prophesee RAW '%% ', an N-MNIST list or 5-byte N-MNIST events; a headerless "
                        "jAER AEDAT 1.0 file is read with --format aedat1)", path);
}

/* ---------------------------------------------------------------- open / close */

static int select_samples(dataset *d) {
    uint32_t n = 0;
    d->map = malloc((d->n_all ? d->n_all : 1) * sizeof *d->map);
    if (!d->map) return evsnn_seterr(EVSNN_ENOMEM, "%s: no memory for the sample index", d->path);
    for (uint32_t k = 0; k < d->n_all; k++) {
        /* A format without a split (one SHD file, one IDX file) ignores the split option. */
        if (d->split && d->o.split == DS_SPLIT_TRAIN && d->split[k] != 0) continue;
        if (d->split && d->o.split == DS_SPLIT_TEST && d->split[k] != 1) continue;
        d->map[n++] = k;
    }
    if (d->o.first > n)
        return evsnn_seterr(EVSNN_ERANGE, "%s: first sample %u is beyond the %u samples selected", d->path,
                            d->o.first, n);
    uint32_t cnt = n - d->o.first;
    if (d->o.count && d->o.count < cnt) cnt = d->o.count;
    memmove(d->map, d->map + d->o.first, (size_t)cnt * sizeof *d->map);
    d->n_sel = cnt;
    return 0;
}

dataset *ds_open(const char *path, const ds_opts *o, int *err) {
    int rc;
    dataset *d = calloc(1, sizeof *d);
    if (!d) {
        rc = evsnn_seterr(EVSNN_ENOMEM, "no memory to open a dataset");
        goto fail;
    }
    if (o) d->o = *o;
    else ds_opts_default(&d->o);
    /* The name "fashion-mnist" finds Debian's dataset-fashion-mnist installation. */
    if (access(path, F_OK) != 0 && !strcmp(path, "fashion-mnist")) path = FASHION_MNIST_DIR;
    d->path = ds_strdup(path);
    if (!d->path) {
        rc = evsnn_seterr(EVSNN_ENOMEM, "no memory to open a dataset");
        goto fail;
    }
    if (access(path, R_OK) != 0) {
        rc = evsnn_seterr(EVSNN_EIO, "%s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    if (d->o.format && strcmp(d->o.format, "aedat1")) {
        rc = evsnn_seterr(EVSNN_EINVAL, "%s: format '%s' is not one that must be named (only aedat1: AEDAT 1.0 "
                                        "has no magic; every other format is detected)", path, d->o.format);
        goto fail;
    }
    /* jAER AEDAT 1.0 has no version line to detect it by: it is read when asked for. */
    if (d->o.format) rc = rd_aedat2_open(d, path, 1);
    else rc = is_dir(path) ? open_dir(d, path) : open_file(d, path);
    if (rc) goto fail;
    if ((rc = resolve_opts(d))) goto fail;
    if ((rc = select_samples(d))) goto fail;
    if (d->geo.kind == DS_KIND_IMAGE) {
        d->pix = malloc((size_t)d->c * d->h * d->w);
        d->fx = malloc((size_t)d->c * d->h * d->w * sizeof *d->fx);
        if (!d->pix || !d->fx) {
            rc = evsnn_seterr(EVSNN_ENOMEM, "%s: no memory", path);
            goto fail;
        }
    }
    if (err) *err = 0;
    return d;
fail:
    ds_free(d);
    if (err) *err = rc ? rc : EVSNN_EINVAL;
    return NULL;
}

void ds_free(dataset *d) {
    if (!d) return;
    if (d->rd && d->rd->close) d->rd->close(d->st);
    free(d->path), free(d->labels), free(d->split), free(d->map), free(d->pix), free(d->fx), free(d->mem);
    ds_evbuf_free(&d->buf);
    free(d);
}

uint32_t ds_len(const dataset *d) { return d->n_sel; }
uint32_t ds_n_classes(const dataset *d) { return d->n_classes; }
void ds_shape(const dataset *d, uint32_t *c, uint32_t *h, uint32_t *w) { *c = d->c, *h = d->h, *w = d->w; }
uint32_t ds_steps(const dataset *d) { return d->o.T; }
const char *ds_format_name(const dataset *d) { return d->fmt; }
ds_kind ds_get_kind(const dataset *d) { return d->geo.kind; }
const ds_opts *ds_get_opts(const dataset *d) { return &d->o; }
void ds_sensor(const dataset *d, ds_geometry *g) { *g = d->geo; }

int ds_streams(dataset *d, const ds_stream **s, size_t *n) {
    *s = NULL, *n = 0;
    return d->streams ? d->streams(d, s, n) : 0;
}

int ds_sample_split(const dataset *d, uint32_t i) {
    if (!d->split || i >= d->n_sel) return -1;
    return d->split[d->map[i]];
}

static int check_index(const dataset *d, uint32_t i) {
    if (i >= d->n_sel)
        return evsnn_seterr(EVSNN_ERANGE, "%s: sample %u is out of range (%u samples)", d->path, i, d->n_sel);
    return 0;
}

int ds_raw(dataset *d, uint32_t i, const ds_event **ev, size_t *n, int64_t *t0, int *label) {
    int rc = check_index(d, i);
    if (rc) return rc;
    if (!d->rd->events)
        return evsnn_seterr(EVSNN_ENOTSUP, "%s: %s holds images, not events", d->path, d->fmt);
    uint32_t k = d->map[i];
    int64_t origin = 0;
    d->buf.n = 0;
    if ((rc = d->rd->events(d, k, &d->buf, &origin))) return rc;
    ds_evbuf_sort(&d->buf);
    *ev = d->buf.ev, *n = d->buf.n;
    if (t0) *t0 = origin;
    if (label) *label = d->labels ? d->labels[k] : -1;
    return 0;
}

int ds_image(dataset *d, uint32_t i, const uint8_t **pix, int *label) {
    int rc = check_index(d, i);
    if (rc) return rc;
    if (!d->rd->image)
        return evsnn_seterr(EVSNN_ENOTSUP, "%s: %s holds %s, not uint8 images", d->path, d->fmt,
                            d->values ? "real values" : "events");
    uint32_t k = d->map[i];
    if ((rc = d->rd->image(d, k, d->pix))) return rc;
    *pix = d->pix;
    if (label) *label = d->labels ? d->labels[k] : -1;
    return 0;
}

void ds_sample_deinit(ds_sample *s) {
    spk_deinit(&s->train);
    free(s->static_x);
    memset(s, 0, sizeof *s);
}

int ds_values(dataset *d, uint32_t i, const float **x, int *label) {
    int rc = check_index(d, i);
    if (rc) return rc;
    if (d->geo.kind != DS_KIND_IMAGE) return evsnn_seterr(EVSNN_ENOTSUP, "%s: %s holds events, not values", d->path, d->fmt);
    const uint32_t n = d->c * d->h * d->w, k = d->map[i];
    if (d->values) {
        if ((rc = d->values(d, k, d->fx))) return rc;
        for (uint32_t j = 0; j < n; j++)
            if (!isfinite(d->fx[j]))
                return evsnn_seterr(EVSNN_ENUMERIC, "%s: sample %u, value %u is %g: inputs must be finite", d->path, i,
                                    j, d->fx[j]);
    } else {
        if ((rc = d->rd->image(d, k, d->pix))) return rc;
        for (uint32_t j = 0; j < n; j++) d->fx[j] = (float)d->pix[j] / 255.0f;
    }
    *x = d->fx;
    if (label) *label = d->labels ? d->labels[k] : -1;
    return 0;
}

const char *ds_value_type(const dataset *d) { return d->elem.size ? ds_elem_name(d->elem) : "uint8"; }

static int get_image(dataset *d, uint32_t i, ds_sample *out) {
    const float *v;
    int label, rc = ds_values(d, i, &v, &label);
    if (rc) return rc;
    uint32_t n = d->c * d->h * d->w;
    float *x = malloc((size_t)n * sizeof *x);
    if (!x) return evsnn_seterr(EVSNN_ENOMEM, "%s: no memory", d->path);
    memcpy(x, v, (size_t)n * sizeof *x);
    out->T = d->o.T, out->label = label;
    if (d->o.enc == DS_ENC_DIRECT) {
        out->static_x = x;
        return 0;
    }
    rng *r = NULL;
    if (d->o.enc != DS_ENC_LATENCY) {
        /* Per-sample stream: a sample's spikes do not depend on the order samples are read. */
        r = rng_create(rng_stream(d->o.seed, d->map[i]));
        if (!r) return free(x), evsnn_seterr(EVSNN_ENOMEM, "%s: no memory", d->path);
    }
    if (d->o.enc == DS_ENC_RATE) rc = tf_rate(&out->train, x, n, d->o.T, d->o.gain, r);
    else if (d->o.enc == DS_ENC_POISSON) rc = tf_poisson(&out->train, x, n, d->o.T, d->o.gain, r);
    else rc = tf_latency(&out->train, x, n, d->o.T, 0.01f);
    rng_free(r);
    free(x);
    return rc;
}

int ds_get(dataset *d, uint32_t i, ds_sample *out) {
    ds_sample_deinit(out);
    if (d->geo.kind == DS_KIND_IMAGE) return get_image(d, i, out);
    const ds_event *ev0;
    size_t n;
    int64_t t0;
    int label, rc = ds_raw(d, i, &ev0, &n, &t0, &label);
    if (rc) return rc;
    ds_event *ev = d->buf.ev;
    const ds_opts *o = &d->o;
    int64_t lo = t0 + o->win_start_us, hi = o->win_end_us ? t0 + o->win_end_us : INT64_MAX;
    if (o->win_start_us || o->win_end_us) n = tf_time_window(ev, n, lo, hi);
    if (o->denoise_us && d->geo.kind == DS_KIND_XY) {
        if (!d->mem) {
            d->mem = malloc((size_t)d->geo.width * d->geo.height * sizeof *d->mem);
            if (!d->mem) return evsnn_seterr(EVSNN_ENOMEM, "%s: no memory", d->path);
        }
        n = tf_denoise(ev, n, d->geo.width, d->geo.height, o->denoise_us, d->mem);
    }
    tf_bin_cfg cfg = {.t0 = lo, .dt = o->dt_us, .T = o->T, .w = d->geo.width, .h = d->geo.height,
                      .fx = 1, .fy = 1, .pols = 1, .binary = o->pool == DS_POOL_OR};
    if (d->geo.kind == DS_KIND_UNIT) cfg.fx = o->unit_factor;
    else cfg.fx = cfg.fy = o->ds_factor, cfg.pols = o->pol == DS_POL_MERGE ? 1 : 2;
    if (o->exact_T) {
        /* Tonic's n_time_bins: the window (or the events' own span) split into T bins. */
        int64_t end = hi != INT64_MAX ? hi : (n ? ev[n - 1].t + 1 : lo + 1);
        cfg.dt = tf_dt_for_bins(end - lo, o->T);
    }
    if ((rc = tf_bin(&out->train, ev, n, &cfg))) {
        char why[512];
        snprintf(why, sizeof why, "%s", evsnn_errmsg());
        return evsnn_seterr(rc, "%s: sample %u: %s", d->path, i, why);
    }
    out->T = o->T, out->label = label;
    return 0;
}
