/* io/rd_svhn.c — SVHN cropped digits (.mat, v5 or v7.3) through libmatio.
 *
 * X is uint8 [32, 32, 3, N] in MATLAB (column-major) order: X(row, col, ch, n). One sample
 * is read as a slab (start {0,0,0,n}, edge {32,32,3,1}), so memory stays at one image.
 * y is [N, 1] with digits 1..10, where 10 means the digit 0. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <matio.h>

#include "io/ds_impl.h"
#include "io/ds_readers.h"
#include "sim/evsnn.h"

typedef struct {
    mat_t *mat;
    matvar_t *x; /* info only, data read per sample */
    uint8_t *slab; /* [h*w*c] column-major */
} svhn_state;

static int svhn_image(dataset *d, uint32_t k, uint8_t *pix) {
    svhn_state *s = d->st;
    uint32_t H = d->geo.height, W = d->geo.width, C = d->geo.polarities;
    int start[4] = {0, 0, 0, (int)k}, stride[4] = {1, 1, 1, 1}, edge[4] = {(int)H, (int)W, (int)C, 1};
    if (Mat_VarReadData(s->mat, s->x, s->slab, start, stride, edge) != 0)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: variable X: sample %u cannot be read", d->path, k);
    /* MATLAB column-major (row fastest) → CHW with x = column, y = row. */
    for (uint32_t c = 0; c < C; c++)
        for (uint32_t y = 0; y < H; y++)
            for (uint32_t x = 0; x < W; x++)
                pix[(size_t)c * H * W + (size_t)y * W + x] = s->slab[y + (size_t)H * x + (size_t)H * W * c];
    return 0;
}

static void svhn_close(void *st) {
    svhn_state *s = st;
    if (!s) return;
    if (s->x) Mat_VarFree(s->x);
    if (s->mat) Mat_Close(s->mat);
    free(s->slab);
    free(s);
}

static const ds_reader svhn_reader = {"svhn", NULL, svhn_image, svhn_close};

int rd_svhn_open(dataset *d, const char *path) {
    svhn_state *s = calloc(1, sizeof *s);
    if (!s) return evsnn_seterr(EVSNN_ENOMEM, "no memory");
    d->st = s, d->rd = &svhn_reader, d->fmt = "svhn";
    d->geo.kind = DS_KIND_IMAGE;
    Mat_LogInitFunc("evsnn", NULL); /* library code does not print */
    s->mat = Mat_Open(path, MAT_ACC_RDONLY);
    if (!s->mat) return evsnn_seterr(EVSNN_EFORMAT, "%s: not a readable MATLAB file", path);
    s->x = Mat_VarReadInfo(s->mat, "X");
    if (!s->x) return evsnn_seterr(EVSNN_EFORMAT, "%s: variable X is missing (SVHN: uint8 [32,32,3,N])", path);
    if (s->x->rank != 4 || s->x->class_type != MAT_C_UINT8 || s->x->dims[2] != 3 || s->x->dims[0] == 0 ||
        s->x->dims[1] == 0 || s->x->dims[0] > 4096 || s->x->dims[1] > 4096)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: variable X: rank %d class %d, expected uint8 [H,W,3,N]", path,
                            s->x->rank, (int)s->x->class_type);
    /* libmatio reads a complex variable's slab through {Re, Im} pointers it takes from the
     * caller's buffer: refuse it before any read. */
    if (s->x->isComplex)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: variable X is complex, expected real uint8 [H,W,3,N]", path);
    size_t n = s->x->dims[3];
    /* N comes from the file's header: bound it by the bytes the file can hold (deflate packs
     * at most 1032:1) before allocating anything per image. */
    struct stat sb;
    const double need = (double)s->x->dims[0] * s->x->dims[1] * 3 * (double)n;
    const double have = stat(path, &sb) ? 0 : (double)sb.st_size * (s->x->compression == MAT_COMPRESSION_NONE ? 1 : 1032);
    if (n > UINT32_MAX || need > have)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: variable X: %zu images of %zux%zux3 need %.0f bytes, more than the file can hold",
                            path, n, s->x->dims[0], s->x->dims[1], need);
    d->geo.height = (uint32_t)s->x->dims[0], d->geo.width = (uint32_t)s->x->dims[1], d->geo.polarities = 3;
    s->slab = malloc(s->x->dims[0] * s->x->dims[1] * 3);
    d->labels = malloc((n ? n : 1) * sizeof *d->labels);
    if (!s->slab || !d->labels) return evsnn_seterr(EVSNN_ENOMEM, "no memory");
    matvar_t *y = Mat_VarRead(s->mat, "y");
    if (!y) return evsnn_seterr(EVSNN_EFORMAT, "%s: variable y is missing (SVHN labels 1..10)", path);
    size_t ny = 1;
    for (int i = 0; i < y->rank; i++) ny *= y->dims[i];
    int rc = 0;
    if (ny != n || y->isComplex || !y->data)
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: variable y has %zu entries, expected %zu", path, ny, n);
    for (size_t i = 0; !rc && i < n; i++) {
        double v;
        switch (y->data_type) {
        case MAT_T_DOUBLE: v = ((double *)y->data)[i]; break;
        case MAT_T_SINGLE: v = ((float *)y->data)[i]; break;
        case MAT_T_UINT8: v = ((uint8_t *)y->data)[i]; break;
        case MAT_T_INT32: v = ((int32_t *)y->data)[i]; break;
        default:
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: variable y: unsupported number type %d", path, (int)y->data_type);
            v = 0;
        }
        if (rc) break;
        if (!(v >= 1 && v <= 10) || v != (int)v) {
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: y(%zu) = %g, expected a digit 1..10", path, i + 1, v);
            break;
        }
        d->labels[i] = (int)v == 10 ? 0 : (int)v;
    }
    Mat_VarFree(y);
    d->n_all = (uint32_t)n;
    d->n_classes = 10;
    return rc;
}
