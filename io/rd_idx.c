/* io/rd_idx.c — MNIST / Fashion-MNIST IDX reader (raw or gzip, through zlib).
 *
 * gzip has no random access, so the images are inflated once at open (7.8 MB for 10k,
 * 47 MB for 60k images); labels are read alongside from the matching labels file
 * (`*images-idx3*` → `*labels-idx1*`). A folder with train-/t10k- files gives both parts,
 * train first, with a split flag per sample. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "io/ds_impl.h"
#include "sim/evsnn.h"

typedef struct {
    uint8_t *img; /* [n_all, h, w] */
} idx_state;

int ds_dec_idx_header(const uint8_t *buf, size_t n, const char *name, uint32_t *ndim, uint32_t dims[4],
                      size_t *hdr_len) {
    if (n < 4) return evsnn_seterr(EVSNN_EFORMAT, "%s: offset %zu: file ends inside the IDX magic", name, n);
    if (buf[0] || buf[1] || buf[2] != 8)
        return evsnn_seterr(EVSNN_EFORMAT,
                            "%s: offset 0: IDX magic %02x %02x %02x %02x, expected 00 00 08 <ndim> (uint8 data)",
                            name, buf[0], buf[1], buf[2], buf[3]);
    *ndim = buf[3];
    if (*ndim < 1 || *ndim > 4)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: offset 3: IDX with %u dimensions, expected 1..4", name, *ndim);
    size_t h = 4 + 4 * (size_t)*ndim;
    if (n < h) return evsnn_seterr(EVSNN_EFORMAT, "%s: offset %zu: file ends inside the IDX sizes", name, n);
    uint64_t total = 1;
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
static int idx_load(const char *path, uint32_t *ndim, uint32_t dims[4], uint8_t **data, size_t *len) {
    *data = NULL;
    idx_src src;
    int rc = src_open(&src, path);
    if (rc) return rc;
    uint8_t hdr[20];
    size_t got = 0, more = 0, hl = 0;
    if (!(rc = src_read(&src, hdr, 4, &got))) {
        rc = ds_dec_idx_header(hdr, got, path, ndim, dims, &hl);
        if ((rc == 0 || (rc == EVSNN_EFORMAT && got == 4 && !hdr[0] && !hdr[1] && hdr[2] == 8)) &&
            !(rc = src_read(&src, hdr + 4, 4u * hdr[3] <= 16 ? 4u * hdr[3] : 16, &more)))
            rc = ds_dec_idx_header(hdr, 4 + more, path, ndim, dims, &hl);
    }
    if (rc) return src_close(&src), rc;
    size_t total = 1;
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
    size_t sz = (size_t)d->geo.width * d->geo.height;
    memcpy(pix, s->img + (size_t)k * sz, sz);
    return 0;
}

static void idx_close(void *st) {
    idx_state *s = st;
    if (s) free(s->img);
    free(s);
}

static const ds_reader idx_reader = {"idx", NULL, idx_image, idx_close};

/* Append one images file (+ its labels file) as part `part` (-1: no split). */
static int idx_add(dataset *d, const char *path, int part) {
    idx_state *s = d->st;
    uint32_t nd, dims[4];
    uint8_t *img;
    size_t len;
    int rc = idx_load(path, &nd, dims, &img, &len);
    if (rc) return rc;
    if (nd == 1) {
        free(img);
        return evsnn_seterr(EVSNN_EINVAL, "%s: this is an IDX labels file; open the images file (idx3) instead",
                            path);
    }
    if (nd != 3) {
        free(img);
        return evsnn_seterr(EVSNN_EFORMAT, "%s: offset 3: IDX images with %u dimensions, expected 3 (N×H×W)",
                            path, nd);
    }
    if (dims[1] == 0 || dims[2] == 0 || dims[1] > 4096 || dims[2] > 4096) {
        free(img);
        return evsnn_seterr(EVSNN_EFORMAT, "%s: offset 8: images of %u×%u pixels, expected 1..4096 each", path,
                            dims[1], dims[2]);
    }
    if (d->n_all && (dims[1] != d->geo.height || dims[2] != d->geo.width)) {
        free(img);
        return evsnn_seterr(EVSNN_EFORMAT, "%s: images are %u×%u, the other part's %u×%u", path, dims[1], dims[2],
                            d->geo.height, d->geo.width);
    }
    size_t sz = (size_t)dims[1] * dims[2];
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
    d->geo.height = dims[1], d->geo.width = dims[2];

    /* Labels: the same name with images-idx3 → labels-idx1. */
    char *lp = ds_strdup(path);
    if (!lp) return evsnn_seterr(EVSNN_ENOMEM, "no memory");
    char *m = strstr(lp, "images-idx3");
    if (m) memcpy(m, "labels-idx1", 11);
    if (m && access(lp, R_OK) == 0) {
        uint8_t *lb;
        size_t ll;
        rc = idx_load(lp, &nd, dims, &lb, &ll);
        if (rc) return free(lp), rc;
        if (nd != 1 || dims[0] != n) {
            free(lb);
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: offset 3: %u labels in %u dimension(s), expected 1 dimension of %u",
                              lp, dims[0], nd, n);
            free(lp);
            return rc;
        }
        for (uint32_t k = 0; k < n; k++) {
            lab[n0 + k] = lb[k];
            if (lb[k] + 1u > d->n_classes) d->n_classes = lb[k] + 1u;
        }
        free(lb);
    }
    free(lp);
    return 0;
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
