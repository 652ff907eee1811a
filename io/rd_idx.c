/* io/rd_idx.c — IDX reader (MNIST / Fashion-MNIST and any IDX array; raw or gzip, zlib).
 *
 * gzip has no random access, so the images are inflated once at open (7.8 MB for 10k,
 * 47 MB for 60k images); labels are read alongside from the matching labels file
 * (`*images-idx3*` → `*labels-idx1*`, or ds_opts.labels). A folder with train-/t10k- files
 * gives both parts, train first, with a split flag per sample.
 * Every IDX element type is read (08 u8, 09 i8, 0B i16, 0C i32, 0D f32, 0E f64, big-endian):
 * uint8 data are pixels (direct coding injects pixel/255), the others real values used as
 * they are. An array of N×F is N samples of F features (shape F×1×1), N×H×W one channel,
 * N×C×H×W C channels. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "io/ds_impl.h"
#include "sim/evsnn.h"

typedef struct {
    uint8_t *img; /* [n_all, c, h, w] elements of d->elem */
} idx_state;

int ds_dec_idx_header(const uint8_t *buf, size_t n, const char *name, uint32_t *ndim, uint32_t dims[4],
                      size_t *hdr_len) {
    if (n < 4) return evsnn_seterr(EVSNN_EFORMAT, "%s: offset %zu: file ends inside the IDX magic", name, n);
    ds_elem e;
    if (buf[0] || buf[1] || ds_elem_from_idx(buf[2], &e))
        return evsnn_seterr(EVSNN_EFORMAT,
                            "%s: offset 0: IDX magic %02x %02x %02x %02x, expected 00 00 <type> <ndim> with type 08 "
                            "(uint8), 09 (int8), 0B (int16), 0C (int32), 0D (float32) or 0E (float64)",
                            name, buf[0], buf[1], buf[2], buf[3]);
    *ndim = buf[3];
    if (*ndim < 1 || *ndim > 4)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: offset 3: IDX with %u dimensions, expected 1..4", name, *ndim);
    size_t h = 4 + 4 * (size_t)*ndim;
    if (n < h) return evsnn_seterr(EVSNN_EFORMAT, "%s: offset %zu: file ends inside the IDX sizes", name, n);
    uint64_t total = e.size;
    for (uint32_t k = 0; k < *ndim; k++) {
        const uint8_t *p = buf + 4 + 4 * k;
        dims[k] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        total *= dims[k] ? dims[k] : 1;
        if (total > ((uint64_t)1 << 36))
            return evsnn_seterr(EVSNN_EFORMAT, "%s: offset %zu: IDX size %u makes the data implausibly large",
                                name, (size_t)(4 + 4 * k), dims[k]);
    }
    *hdr_len = h;
    return 0;
}

/* Read an IDX file (gzip or raw) fully: header dims + data. */
static int idx_load(const char *path, uint32_t *ndim, uint32_t dims[4], uint8_t **data, size_t *len, ds_elem *e) {
    *data = NULL;
    gzFile g = gzopen(path, "rb");
    if (!g) return evsnn_seterr(EVSNN_EIO, "%s: cannot open", path);
    uint8_t hdr[20];
    int got = gzread(g, hdr, 4);
    if (got < 0) got = 0;
    size_t hl;
    int rc = ds_dec_idx_header(hdr, (size_t)got, path, ndim, dims, &hl);
    if (rc == EVSNN_EFORMAT && got == 4 && !ds_elem_from_idx(hdr[2], e)) {
        int more = gzread(g, hdr + 4, 4 * hdr[3] <= 16 ? 4 * hdr[3] : 16);
        rc = ds_dec_idx_header(hdr, (size_t)(4 + (more > 0 ? more : 0)), path, ndim, dims, &hl);
    } else if (rc == 0) {
        int more = gzread(g, hdr + 4, 4 * (*ndim));
        rc = ds_dec_idx_header(hdr, (size_t)(4 + (more > 0 ? more : 0)), path, ndim, dims, &hl);
    }
    if (rc) return gzclose(g), rc;
    ds_elem_from_idx(hdr[2], e);
    size_t total = e->size;
    for (uint32_t k = 0; k < *ndim; k++) total *= dims[k];
    /* Grow with the data actually inflated: a corrupt header cannot make us allocate
     * more than the file holds. */
    size_t cap = total < ((size_t)1 << 20) ? total : ((size_t)1 << 20);
    uint8_t *p = malloc(cap ? cap : 1);
    if (!p) return gzclose(g), evsnn_seterr(EVSNN_ENOMEM, "%s: no memory for %zu bytes", path, cap);
    size_t off = 0;
    while (off < total) {
        if (off == cap) {
            size_t nc = cap * 2 < total ? cap * 2 : total;
            uint8_t *q = realloc(p, nc);
            if (!q) return free(p), gzclose(g), evsnn_seterr(EVSNN_ENOMEM, "%s: no memory for %zu bytes", path, nc);
            p = q, cap = nc;
        }
        unsigned chunk = cap - off > (1u << 30) ? (1u << 30) : (unsigned)(cap - off);
        int r = gzread(g, p + off, chunk);
        if (r <= 0) break;
        off += (size_t)r;
    }
    int zerr = 0;
    const char *zmsg = gzerror(g, &zerr);
    if (off < total) {
        char why[128];
        snprintf(why, sizeof why, "%s", zerr && zerr != Z_BUF_ERROR ? zmsg : "end of data");
        gzclose(g);
        free(p);
        return evsnn_seterr(EVSNN_EFORMAT, "%s: offset %zu (uncompressed): %s, expected %zu data bytes", path,
                            hl + off, why, total);
    }
    gzclose(g);
    *data = p, *len = total;
    return 0;
}

static int idx_image(dataset *d, uint32_t k, uint8_t *pix) {
    idx_state *s = d->st;
    size_t sz = (size_t)d->geo.polarities * d->geo.width * d->geo.height;
    memcpy(pix, s->img + (size_t)k * sz, sz);
    return 0;
}

static int idx_values(dataset *d, uint32_t k, float *x) {
    idx_state *s = d->st;
    size_t sz = (size_t)d->geo.polarities * d->geo.width * d->geo.height;
    ds_elem_to_f32(x, s->img + (size_t)k * sz * d->elem.size, sz, d->elem);
    return 0;
}

static void idx_close(void *st) {
    idx_state *s = st;
    if (s) free(s->img);
    free(s);
}

static const ds_reader idx_reader = {"idx", NULL, idx_image, idx_close};
static const ds_reader idx_real_reader = {"idx", NULL, NULL, idx_close};

int ds_idx_labels(const char *path, int32_t *lab, uint32_t n, uint32_t *n_classes) {
    uint32_t nd, dims[4];
    uint8_t *lb;
    size_t ll;
    ds_elem e;
    int rc = idx_load(path, &nd, dims, &lb, &ll, &e);
    if (rc) return rc;
    if (nd != 1 || dims[0] != n || e.kind == 'f')
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: offset 3: %u %s labels in %u dimension(s), expected 1 dimension of %u "
                                         "integers", path, dims[0], ds_elem_name(e), nd, n);
    else rc = ds_elem_labels(lb, n, e, path, lab, n_classes);
    free(lb);
    return rc;
}

/* Append one images file (+ its labels file) as part `part` (-1: no split). */
static int idx_add(dataset *d, const char *path, int part) {
    idx_state *s = d->st;
    uint32_t nd, dims[4];
    uint8_t *img;
    size_t len;
    ds_elem e;
    int rc = idx_load(path, &nd, dims, &img, &len, &e);
    if (rc) return rc;
    if (nd == 1) {
        free(img);
        return evsnn_seterr(EVSNN_EINVAL, "%s: this is an IDX labels file; open the images file (idx3) instead",
                            path);
    }
    /* N×F features, N×H×W images, N×C×H×W channels */
    const uint32_t c = nd == 4 ? dims[1] : 1, h = nd == 4 ? dims[2] : nd == 3 ? dims[1] : 1,
                   w = nd == 4 ? dims[3] : nd == 3 ? dims[2] : dims[1];
    if (c == 0 || h == 0 || w == 0 || c > 4096 || h > 4096 || w > (nd == 2 ? 1u << 24 : 4096u) ||
        (uint64_t)c * h * w > (1u << 24)) {
        free(img);
        return evsnn_seterr(EVSNN_EFORMAT, "%s: offset 8: samples of %u×%u×%u values, expected 1..4096 per image "
                                           "side (features: up to 2^24)", path, c, h, w);
    }
    if (d->n_all && (h != d->geo.height || w != d->geo.width || c != d->geo.polarities ||
                     memcmp(&e, &d->elem, sizeof e))) {
        free(img);
        return evsnn_seterr(EVSNN_EFORMAT, "%s: samples are %u×%u×%u %s, the other part's %u×%u×%u %s", path, c, h, w,
                            ds_elem_name(e), d->geo.polarities, d->geo.height, d->geo.width, ds_elem_name(d->elem));
    }
    size_t sz = (size_t)c * h * w * e.size;
    uint8_t *all = realloc(s->img, (d->n_all + (size_t)dims[0]) * sz + 1);
    if (!all) return free(img), evsnn_seterr(EVSNN_ENOMEM, "%s: no memory", path);
    s->img = all;
    memcpy(all + (size_t)d->n_all * sz, img, len);
    free(img);
    uint32_t n0 = d->n_all, n = dims[0];
    int32_t *lab = realloc(d->labels, ((size_t)n0 + n + 1) * sizeof *lab);
    int8_t *spl = realloc(d->split, (size_t)n0 + n + 1);
    if (lab) d->labels = lab;
    if (spl) d->split = spl;
    if (!lab || !spl) return evsnn_seterr(EVSNN_ENOMEM, "%s: no memory", path);
    for (uint32_t k = 0; k < n; k++) lab[n0 + k] = -1, spl[n0 + k] = (int8_t)part;
    d->n_all += n;
    d->geo.polarities = c, d->geo.height = h, d->geo.width = w;
    d->elem = e;
    const int pixels = e.kind == 'u' && e.size == 1;
    d->rd = pixels ? &idx_reader : &idx_real_reader;
    d->values = pixels ? NULL : idx_values;

    /* Labels: ds_opts.labels (one file only), else the same name with images-idx3 →
     * labels-idx1. */
    char *lp = ds_strdup(d->o.labels && part < 0 ? d->o.labels : path);
    if (!lp) return evsnn_seterr(EVSNN_ENOMEM, "no memory");
    char *m = d->o.labels && part < 0 ? lp : strstr(lp, "images-idx3");
    if (m && m != lp) memcpy(m, "labels-idx1", 11);
    if (m && (access(lp, R_OK) == 0 || d->o.labels)) rc = ds_read_labels(lp, lab + n0, n, &d->n_classes);
    free(lp);
    return rc;
}

int rd_idx_open(dataset *d, const char *path) {
    d->st = calloc(1, sizeof(idx_state));
    if (!d->st) return evsnn_seterr(EVSNN_ENOMEM, "no memory");
    d->rd = &idx_reader, d->fmt = "idx";
    d->geo.kind = DS_KIND_IMAGE, d->geo.polarities = 1;
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISDIR(sb.st_mode)) {
        int rc = idx_add(d, path, -1);
        free(d->split), d->split = NULL; /* one file: no split */
        return rc;
    }
    static const struct { const char *name; int part; } parts[] = {
        {"train-images-idx3-ubyte.gz", 0}, {"train-images-idx3-ubyte", 0},
        {"t10k-images-idx3-ubyte.gz", 1}, {"t10k-images-idx3-ubyte", 1}};
    int found[2] = {0, 0};
    for (size_t i = 0; i < 4; i++) {
        int part = parts[i].part;
        /* Only load the part(s) the split asks for. */
        if (found[part] || (d->o.split == DS_SPLIT_TRAIN && part) || (d->o.split == DS_SPLIT_TEST && !part))
            continue;
        char *p = ds_path_join(path, parts[i].name);
        if (!p) return evsnn_seterr(EVSNN_ENOMEM, "no memory");
        int rc = access(p, R_OK) == 0 ? idx_add(d, p, part) : 1;
        free(p);
        if (rc < 0) return rc;
        if (rc == 0) found[part] = 1;
    }
    if (found[0] || found[1]) return 0;
    return evsnn_seterr(EVSNN_EIO, "%s: no IDX images for the %s split (expected train-images-idx3-ubyte[.gz] "
                                   "or t10k-images-idx3-ubyte[.gz])",
                        path, d->o.split == DS_SPLIT_TEST ? "test" : d->o.split == DS_SPLIT_TRAIN ? "train" : "any");
}
