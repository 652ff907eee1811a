/* io/rd_npy.c — NumPy .npy arrays as datasets, and the element types shared with IDX.
 *
 * A .npy file (NumPy's format, NEP 1: magic "\x93NUMPY", version 1.0 / 2.0 / 3.0, a
 * little-endian header length of 2 or 4 bytes, then a Python dict literal with 'descr',
 * 'fortran_order' and 'shape', padded so the data starts on a 16- or 64-byte boundary) holds
 * one C-order array. [N, features] gives samples of shape features×1×1 (NumPy's own layout
 * read as a dense input), [N, H, W] one channel, [N, C, H, W] PyTorch's layout. Labels come
 * from a 1-D integer array: the file named by ds_opts.labels, else `<stem>_labels.npy`
 * beside it, else, for Keras-style names (`x_train.npy`), the same name with y
 * (`y_train.npy`). Values are used as they are (uint8 arrays are pixels, scaled by 1/255,
 * as IDX images are). The whole file is read once at open (its size, not more); samples are
 * converted to float one at a time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/ds_impl.h"
#include "io/ds_readers.h"
#include "sim/evsnn.h"

/* ---------------------------------------------------------------- element types */

int ds_elem_from_idx(uint8_t type, ds_elem *e) {
    /* IDX type codes (LeCun's format description): 08 u8, 09 i8, 0B i16, 0C i32, 0D f32,
     * 0E f64, all big-endian. 0A is not assigned. */
    switch (type) {
    case 0x08: *e = (ds_elem){'u', 1, 1}; return 0;
    case 0x09: *e = (ds_elem){'i', 1, 1}; return 0;
    case 0x0B: *e = (ds_elem){'i', 2, 1}; return 0;
    case 0x0C: *e = (ds_elem){'i', 4, 1}; return 0;
    case 0x0D: *e = (ds_elem){'f', 4, 1}; return 0;
    case 0x0E: *e = (ds_elem){'f', 8, 1}; return 0;
    default: return -1;
    }
}

const char *ds_elem_name(ds_elem e) {
    static const char *const u[] = {"uint8", "uint16", "uint32", "uint64"};
    static const char *const i[] = {"int8", "int16", "int32", "int64"};
    static const char *const f[] = {"?", "float16", "float32", "float64"};
    const int k = e.size == 1 ? 0 : e.size == 2 ? 1 : e.size == 4 ? 2 : 3;
    return e.kind == 'u' ? u[k] : e.kind == 'i' ? i[k] : f[k];
}

static uint64_t load_uint(const uint8_t *p, unsigned size, int big) {
    uint64_t v = 0;
    for (unsigned k = 0; k < size; k++) v |= (uint64_t)p[big ? size - 1 - k : k] << (8 * k);
    return v;
}

/* IEEE 754 binary16 to float (subnormals, infinities and NaN included). */
static float half_to_float(uint16_t h) {
    const uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    uint32_t bits;
    if (e == 0) {
        if (!m) bits = s;
        else { /* subnormal: m · 2^-24 */
            float f = (float)m * 0x1p-24f;
            return s ? -f : f;
        }
    } else if (e == 31) bits = s | 0x7f800000u | (m << 13);
    else bits = s | ((e + 112) << 23) | (m << 13);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

double ds_elem_get(const uint8_t *p, ds_elem e) {
    const uint64_t v = load_uint(p, e.size, e.big);
    if (e.kind == 'u') return (double)v;
    if (e.kind == 'i') {
        const unsigned sh = 64 - 8 * e.size;
        return (double)((int64_t)(v << sh) >> sh);
    }
    if (e.size == 2) return half_to_float((uint16_t)v);
    if (e.size == 4) {
        const uint32_t b = (uint32_t)v;
        float f;
        memcpy(&f, &b, sizeof f);
        return f;
    }
    double x;
    memcpy(&x, &v, sizeof x);
    return x;
}

void ds_elem_to_f32(float *out, const uint8_t *src, size_t n, ds_elem e) {
    for (size_t j = 0; j < n; j++) out[j] = (float)ds_elem_get(src + j * e.size, e);
}

/* Integer labels (0.. classes-1) from element data; EVSNN_EFORMAT naming the first that is
 * negative, not whole or implausibly large. */
int ds_elem_labels(const uint8_t *src, size_t n, ds_elem e, const char *name, int32_t *lab, uint32_t *n_classes) {
    for (size_t k = 0; k < n; k++) {
        const double v = ds_elem_get(src + k * e.size, e);
        if (!(v >= 0) || v != (double)(int32_t)v || v > 65535)
            return evsnn_seterr(EVSNN_EFORMAT, "%s: label %zu is %g, expected a class number 0..65535", name, k, v);
        lab[k] = (int32_t)v;
        if ((uint32_t)lab[k] + 1 > *n_classes) *n_classes = (uint32_t)lab[k] + 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- .npy header */

/* The value text of key `key` in the header dict (NULL if absent). */
static const char *dict_value(const char *h, const char *key) {
    char pat[32];
    snprintf(pat, sizeof pat, "'%s'", key);
    const char *p = strstr(h, pat);
    if (!p) return NULL;
    p += strlen(pat);
    while (*p == ' ') p++;
    if (*p != ':') return NULL;
    p++;
    while (*p == ' ') p++;
    return p;
}

int ds_dec_npy_header(const uint8_t *buf, size_t n, const char *name, ds_elem *e, uint32_t *ndim, uint64_t dims[8],
                      size_t *hdr_len) {
    if (n < 10 || memcmp(buf, "\x93NUMPY", 6))
        return evsnn_seterr(EVSNN_EFORMAT, "%s: offset 0: not a NumPy .npy file (expected \\x93NUMPY)", name);
    const unsigned major = buf[6];
    if (major < 1 || major > 3)
        return evsnn_seterr(EVSNN_EVERSION, "%s: offset 6: .npy format version %u.%u, expected 1.0, 2.0 or 3.0", name,
                            major, buf[7]);
    size_t hl, start;
    if (major == 1) hl = (size_t)buf[8] | (size_t)buf[9] << 8, start = 10;
    else {
        if (n < 12) return evsnn_seterr(EVSNN_EFORMAT, "%s: offset %zu: file ends inside the header length", name, n);
        hl = (size_t)load_uint(buf + 8, 4, 0), start = 12;
    }
    if (hl > 65536 || start + hl > n)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: offset 8: header of %zu bytes, the file holds %zu after it", name, hl,
                            n - start);
    char h[1024];
    if (hl >= sizeof h) return evsnn_seterr(EVSNN_EFORMAT, "%s: offset 8: header of %zu bytes, expected < 1024", name, hl);
    memcpy(h, buf + start, hl);
    h[hl] = 0;
    if (strlen(h) != hl) return evsnn_seterr(EVSNN_EFORMAT, "%s: offset %zu: NUL byte in the header", name, start);
    const char *v = dict_value(h, "descr");
    if (!v || (*v != '\'' && *v != '"'))
        return evsnn_seterr(EVSNN_EFORMAT, "%s: header: no 'descr' string (a structured dtype is not an array of numbers)", name);
    char order = v[1], kind = v[2];
    unsigned size = 0;
    for (const char *q = v + 3; *q >= '0' && *q <= '9' && size < 100; q++) size = size * 10 + (unsigned)(*q - '0');
    if (order != '<' && order != '>' && order != '|' && order != '=')
        return evsnn_seterr(EVSNN_EFORMAT, "%s: header: descr %.8s, expected a byte order < > | =", name, v);
    if (!((kind == 'u' || kind == 'i') && (size == 1 || size == 2 || size == 4 || size == 8)) &&
        !(kind == 'f' && (size == 2 || size == 4 || size == 8)) && !(kind == 'b' && size == 1))
        return evsnn_seterr(EVSNN_ENOTSUP, "%s: header: descr %.8s: expected an integer (u1..u8, i1..i8), float (f2, "
                                           "f4, f8) or bool array", name, v);
    if (kind == 'b') kind = 'u';
    *e = (ds_elem){(uint8_t)kind, (uint8_t)size, order == '>'};
    v = dict_value(h, "fortran_order");
    if (!v) return evsnn_seterr(EVSNN_EFORMAT, "%s: header: no 'fortran_order'", name);
    if (!strncmp(v, "True", 4))
        return evsnn_seterr(EVSNN_ENOTSUP, "%s: header: fortran_order True: save a C-order array "
                                           "(numpy.ascontiguousarray) instead", name);
    v = dict_value(h, "shape");
    if (!v || *v != '(') return evsnn_seterr(EVSNN_EFORMAT, "%s: header: no 'shape' tuple", name);
    *ndim = 0;
    const char *q = v + 1;
    uint64_t total = 1;
    for (;;) {
        while (*q == ' ') q++;
        if (*q == ')') break;
        if (*q < '0' || *q > '9') return evsnn_seterr(EVSNN_EFORMAT, "%s: header: malformed shape %.40s", name, v);
        uint64_t x = 0;
        while (*q >= '0' && *q <= '9') {
            x = x * 10 + (uint64_t)(*q++ - '0');
            if (x > ((uint64_t)1 << 40)) return evsnn_seterr(EVSNN_EFORMAT, "%s: header: shape %.40s is implausibly large", name, v);
        }
        if (*ndim == 8) return evsnn_seterr(EVSNN_EFORMAT, "%s: header: shape of more than 8 dimensions", name);
        dims[(*ndim)++] = x;
        total *= x ? x : 1;
        if (total > ((uint64_t)1 << 40)) return evsnn_seterr(EVSNN_EFORMAT, "%s: header: shape %.40s is implausibly large", name, v);
        while (*q == ' ') q++;
        if (*q == ',') q++;
        else if (*q != ')') return evsnn_seterr(EVSNN_EFORMAT, "%s: header: malformed shape %.40s", name, v);
    }
    *hdr_len = start + hl;
    return 0;
}

/* ---------------------------------------------------------------- reader */

typedef struct {
    uint8_t *file; /* the whole file */
    const uint8_t *data;
    ds_elem e;
    size_t sz; /* elements per sample */
} npy_state;

static int npy_values(dataset *d, uint32_t k, float *x) {
    npy_state *s = d->st;
    ds_elem_to_f32(x, s->data + (size_t)k * s->sz * s->e.size, s->sz, s->e);
    if (s->e.kind == 'u' && s->e.size == 1)
        for (size_t j = 0; j < s->sz; j++) x[j] /= 255.0f;
    return 0;
}

static void npy_close(void *st) {
    npy_state *s = st;
    if (s) free(s->file);
    free(s);
}

static const ds_reader npy_reader = {"npy", NULL, NULL, npy_close};

/* The whole array of a .npy file: *data points into *file (caller frees *file). */
static int npy_load(const char *path, uint8_t **file, const uint8_t **data, ds_elem *e, uint32_t *ndim,
                    uint64_t dims[8]) {
    size_t n, hl;
    int rc = ds_read_file(path, file, &n);
    if (rc) return rc;
    if ((rc = ds_dec_npy_header(*file, n, path, e, ndim, dims, &hl))) return free(*file), *file = NULL, rc;
    uint64_t total = e->size;
    for (uint32_t k = 0; k < *ndim; k++) total *= dims[k];
    if (total != n - hl) {
        free(*file), *file = NULL;
        return evsnn_seterr(EVSNN_EFORMAT, "%s: offset %zu: %zu data bytes, the shape and dtype need %llu", path, hl,
                            n - hl, (unsigned long long)total);
    }
    *data = *file + hl;
    return 0;
}

int ds_read_labels(const char *path, int32_t *lab, uint32_t n, uint32_t *n_classes) {
    uint8_t hd[8] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return evsnn_seterr(EVSNN_EIO, "%s: cannot open the labels", path);
    size_t got = fread(hd, 1, sizeof hd, f);
    fclose(f);
    if (got >= 6 && !memcmp(hd, "\x93NUMPY", 6)) {
        uint8_t *file = NULL;
        const uint8_t *data = NULL;
        ds_elem e = {0, 0, 0};
        uint32_t nd = 0;
        uint64_t dims[8] = {0};
        int rc = npy_load(path, &file, &data, &e, &nd, dims);
        if (rc) return rc;
        if (nd != 1 || dims[0] != n || e.kind == 'f') {
            free(file);
            return evsnn_seterr(EVSNN_EFORMAT, "%s: labels of shape (%llu%s) %s, expected (%u,) integers", path,
                                (unsigned long long)(nd ? dims[0] : 0), nd == 1 ? "," : ", ...", ds_elem_name(e), n);
        }
        rc = ds_elem_labels(data, n, e, path, lab, n_classes);
        free(file);
        return rc;
    }
    return ds_idx_labels(path, lab, n, n_classes);
}

/* `<stem>_labels.npy`, or the Keras-style y-name of an x-name, if it exists. */
static char *side_labels(const char *path) {
    const size_t len = strlen(path);
    char *p = malloc(len + 16);
    if (!p) return NULL;
    memcpy(p, path, len + 1);
    char *dot = strrchr(p, '.'), *slash = strrchr(p, '/');
    if (dot && (!slash || dot > slash)) {
        snprintf(dot, 16, "_labels.npy");
        if (access(p, R_OK) == 0) return p;
    }
    memcpy(p, path, len + 1);
    char *base = slash ? p + (slash - p) + 1 : p;
    if (*base == 'x' || *base == 'X') {
        *base = *base == 'x' ? 'y' : 'Y';
        if (access(p, R_OK) == 0) return p;
    }
    free(p);
    return NULL;
}

int rd_npy_open(dataset *d, const char *path) {
    npy_state *s = calloc(1, sizeof *s);
    if (!s) return evsnn_seterr(EVSNN_ENOMEM, "no memory");
    d->st = s, d->rd = &npy_reader, d->fmt = "npy", d->values = npy_values;
    uint32_t nd;
    uint64_t dims[8];
    int rc = npy_load(path, &s->file, &s->data, &s->e, &nd, dims);
    if (rc) return rc;
    d->elem = s->e;
    uint64_t c = 1, h = 1, w = 1;
    if (nd == 2) w = dims[1];
    else if (nd == 3) h = dims[1], w = dims[2];
    else if (nd == 4) c = dims[1], h = dims[2], w = dims[3];
    else
        return evsnn_seterr(EVSNN_EFORMAT, "%s: an array of %u dimensions, expected [N, features], [N, H, W] or "
                                           "[N, C, H, W]", path, nd);
    if (!dims[0] || !c || !h || !w || c > 4096 || h > 65536 || w > (1u << 24) || c * h * w > (1u << 24))
        return evsnn_seterr(EVSNN_EFORMAT, "%s: samples of %llu×%llu×%llu values, expected 1..2^24 in all", path,
                            (unsigned long long)c, (unsigned long long)h, (unsigned long long)w);
    if (dims[0] > UINT32_MAX - 1) return evsnn_seterr(EVSNN_EFORMAT, "%s: %llu samples, too many", path, (unsigned long long)dims[0]);
    s->sz = (size_t)(c * h * w);
    d->geo.kind = DS_KIND_IMAGE;
    d->geo.polarities = (uint32_t)c, d->geo.height = (uint32_t)h, d->geo.width = (uint32_t)w;
    d->n_all = (uint32_t)dims[0];
    d->labels = malloc(((size_t)d->n_all + 1) * sizeof *d->labels);
    if (!d->labels) return evsnn_seterr(EVSNN_ENOMEM, "%s: no memory", path);
    for (uint32_t k = 0; k < d->n_all; k++) d->labels[k] = -1;
    char *lp = d->o.labels ? ds_strdup(d->o.labels) : side_labels(path);
    if (lp) {
        rc = ds_read_labels(lp, d->labels, d->n_all, &d->n_classes);
        free(lp);
    }
    return rc;
}
