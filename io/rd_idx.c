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
#include "io/ds_readers.h"
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

/* An IDX byte source: the raw file, or its gzip stream inflated with zlib's inflate() (not
 * gzread, which reports a stream cut inside its 8-byte trailer as a clean end of file). */
typedef struct {
    FILE *f;
    int gz, end;        /* gzip stream; Z_STREAM_END seen (trailer CRC-32 and length checked) */
    z_stream z;
    uint8_t in[1 << 16];
    const char *path;
} idx_src;

static int src_open(idx_src *s, const char *path) {
    memset(s, 0, sizeof *s);
    s->path = path;
    s->f = fopen(path, "rb");
    if (!s->f) return evsnn_seterr(EVSNN_EIO, "%s: cannot open", path);
    int c0 = fgetc(s->f), c1 = fgetc(s->f);
    rewind(s->f);
    s->gz = c0 == 0x1f && c1 == 0x8b;
    if (s->gz && inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK) {
        fclose(s->f);
        return evsnn_seterr(EVSNN_ENOMEM, "%s: cannot start zlib", path);
    }
    return 0;
}

static void src_close(idx_src *s) {
    if (s->gz) inflateEnd(&s->z);
    if (s->f) fclose(s->f);
}

/* Up to n bytes into buf; *got = bytes read (fewer only at the end of the data). */
static int src_read(idx_src *s, uint8_t *buf, size_t n, size_t *got) {
    *got = 0;
    if (!s->gz) {
        *got = fread(buf, 1, n, s->f);
        return ferror(s->f) ? evsnn_seterr(EVSNN_EIO, "%s: read error", s->path) : 0;
    }
    while (*got < n && !s->end) {
        if (!s->z.avail_in) {
            s->z.next_in = s->in;
            s->z.avail_in = (uInt)fread(s->in, 1, sizeof s->in, s->f);
            if (!s->z.avail_in)
                return evsnn_seterr(EVSNN_EFORMAT, "%s: corrupt gzip stream: the file ends before the stream does "
                                                   "(truncated; %lu bytes inflated)", s->path, s->z.total_out);
        }
        size_t chunk = n - *got < (1u << 30) ? n - *got : (1u << 30);
        s->z.next_out = buf + *got;
        s->z.avail_out = (uInt)chunk;
        int zr = inflate(&s->z, Z_NO_FLUSH);
        *got += chunk - s->z.avail_out;
        if (zr == Z_STREAM_END) s->end = 1;
        else if (zr != Z_OK && zr != Z_BUF_ERROR)
            return evsnn_seterr(EVSNN_EFORMAT, "%s: corrupt gzip stream: %s (after %lu inflated bytes)", s->path,
                                s->z.msg ? s->z.msg : zError(zr), s->z.total_out);
    }
    return 0;
}

/* Read an IDX file (gzip or raw) fully: header dims + data, then check that nothing follows
 * and, for gzip, that the stream ends with a trailer whose CRC-32 and length match. */
static int idx_load(const char *path, uint32_t *ndim, uint32_t dims[4], uint8_t **data, size_t *len, ds_elem *e) {
    *data = NULL;
    idx_src src;
    int rc = src_open(&src, path);
    if (rc) return rc;
    uint8_t hdr[20];
    size_t got = 0, more = 0, hl = 0;
    if (!(rc = src_read(&src, hdr, 4, &got))) {
        rc = ds_dec_idx_header(hdr, got, path, ndim, dims, &hl);
        if ((rc == 0 || (rc == EVSNN_EFORMAT && got == 4 && !hdr[0] && !hdr[1] && !ds_elem_from_idx(hdr[2], e))) &&
            !(rc = src_read(&src, hdr + 4, 4u * hdr[3] <= 16 ? 4u * hdr[3] : 16, &more)))
            rc = ds_dec_idx_header(hdr, 4 + more, path, ndim, dims, &hl);
    }
    if (rc) return src_close(&src), rc;
    ds_elem_from_idx(hdr[2], e);
    size_t total = e->size;
    for (uint32_t k = 0; k < *ndim; k++) total *= dims[k];
    /* Grow with the data actually read: a corrupt header cannot make us allocate more than
     * the file holds. */
    size_t cap = total < ((size_t)1 << 20) ? total : ((size_t)1 << 20);
    uint8_t *p = malloc(cap ? cap : 1);
    if (!p) return src_close(&src), evsnn_seterr(EVSNN_ENOMEM, "%s: no memory for %zu bytes", path, cap);
    size_t off = 0;
    while (off < total && !rc) {
        if (off == cap) {
            size_t nc = cap * 2 < total ? cap * 2 : total;
            uint8_t *q = realloc(p, nc);
            if (!q) return free(p), src_close(&src), evsnn_seterr(EVSNN_ENOMEM, "%s: no memory for %zu bytes", path, nc);
            p = q, cap = nc;
        }
        rc = src_read(&src, p + off, cap - off, &got);
        off += got;
        if (!got) break;
    }
    if (!rc && off < total)
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: offset %zu%s: end of data, expected %zu data bytes", path, hl + off,
                          src.gz ? " (uncompressed)" : "", total);
    uint8_t extra[256];
    more = 0;
    /* Read on to the end: the gzip trailer is checked there, and bytes past the data the
     * header declares mean the header (or the file) is wrong. */
    while (!rc && !(rc = src_read(&src, extra, sizeof extra, &got)) && got) more += got;
    if (!rc && src.gz && (got = fread(extra, 1, sizeof extra, src.f)) + src.z.avail_in > 0)
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: bytes follow the end of the gzip stream (a second member or garbage)", path);
    if (!rc && more)
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: offset %zu%s: %zu bytes past the %zu data bytes the IDX header declares",
                          path, hl + total, src.gz ? " (uncompressed)" : "", more, total);
    src_close(&src);
    if (rc) return free(p), rc;
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
