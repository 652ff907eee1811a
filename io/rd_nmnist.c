/* io/rd_nmnist.c — N-MNIST reader: `.bin` (= SLAYER `.bs2`) files, 5 bytes per event,
 * 34×34 ATIS sensor, selected by a sample list (`#sample #class` then `<id>\t<label>`),
 * a folder of lists (`train*.txt` → train part, `test*.txt` → test part), the original
 * tree Train/<digit>/NNNNN.bin and Test/<digit>/NNNNN.bin, or one file (unlabelled). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/ds_impl.h"
#include "io/ds_readers.h"
#include "sim/evsnn.h"

#define NM_SIZE 34

typedef struct {
    char **paths; /* [n_all] */
    uint32_t cap;
    uint8_t *raw; /* file bytes of the current sample */
    size_t raw_cap;
} nm_state;

int ds_dec_nmnist(const uint8_t *buf, size_t n, const char *name, ds_evbuf *out) {
    if (n % 5)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: offset %zu: truncated event (%zu bytes is not a multiple of 5)", name,
                            n - n % 5, n);
    size_t recs = n / 5;
    int rc = ds_evbuf_reserve(out, out->n + recs);
    if (rc) return rc;
    ds_event *e = out->ev + out->n;
    int64_t ovf = 0;
    size_t k = 0;
    for (size_t r = 0; r < recs; r++) {
        const uint8_t *b = buf + 5 * r;
        if (b[1] == 240) {
            /* Timestamp overflow marker: later records are 2^13 µs later (the dataset
             * authors' reference decoder). */
            ovf += 1 << 13;
            continue;
        }
        if (b[0] >= NM_SIZE || b[1] >= NM_SIZE)
            return evsnn_seterr(EVSNN_EFORMAT, "%s: offset %zu: event at (%u, %u), expected x, y in 0..33", name,
                                5 * r, b[0], b[1]);
        e[k].t = (int64_t)(((uint32_t)(b[2] & 0x7F) << 16) | ((uint32_t)b[3] << 8) | b[4]) + ovf;
        e[k].x = b[0];
        e[k].y = b[1];
        e[k].p = b[2] >> 7;
        k++;
    }
    out->n += k;
    return 0;
}

static int nm_events(dataset *d, uint32_t k, ds_evbuf *out, int64_t *t0) {
    nm_state *s = d->st;
    const char *path = s->paths[k];
    FILE *f = fopen(path, "rb");
    if (!f) return evsnn_seterr(EVSNN_EIO, "%s: cannot open", path);
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0) return fclose(f), evsnn_seterr(EVSNN_EIO, "%s: cannot stat", path);
    size_t len = (size_t)sb.st_size;
    if (len > s->raw_cap) {
        uint8_t *p = realloc(s->raw, len);
        if (!p) return fclose(f), evsnn_seterr(EVSNN_ENOMEM, "%s: no memory", path);
        s->raw = p, s->raw_cap = len;
    }
    size_t got = fread(s->raw, 1, len, f);
    fclose(f);
    if (got != len) return evsnn_seterr(EVSNN_EIO, "%s: read %zu of %zu bytes", path, got, len);
    *t0 = 0; /* recordings start at 0 */
    return ds_dec_nmnist(s->raw, len, path, out);
}

static void nm_close(void *st) {
    nm_state *s = st;
    if (!s) return;
    for (uint32_t i = 0; i < s->cap; i++) free(s->paths[i]);
    free(s->paths), free(s->raw), free(s);
}

static const ds_reader nm_reader = {"nmnist", nm_events, NULL, nm_close};

static int nm_add(dataset *d, char *path, int label, int part) {
    nm_state *s = d->st;
    if (d->n_all == s->cap) {
        uint32_t nc = s->cap ? 2 * s->cap : 1024;
        char **p = realloc(s->paths, nc * sizeof *p);
        if (p) s->paths = p;
        int32_t *l = realloc(d->labels, nc * sizeof *l);
        if (l) d->labels = l;
        int8_t *q = realloc(d->split, nc);
        if (q) d->split = q;
        if (!p || !l || !q) return free(path), evsnn_seterr(EVSNN_ENOMEM, "no memory");
        for (uint32_t i = s->cap; i < nc; i++) s->paths[i] = NULL;
        s->cap = nc;
    }
    s->paths[d->n_all] = path;
    d->labels[d->n_all] = label;
    d->split[d->n_all] = (int8_t)part;
    if (label >= 0 && (uint32_t)label + 1 > d->n_classes) d->n_classes = (uint32_t)label + 1;
    d->n_all++;
    return 0;
}

static char *dir_of(const char *path) {
    char *p = ds_strdup(path);
    if (!p) return NULL;
    char *sl = strrchr(p, '/');
    if (sl) sl[sl == p ? 1 : 0] = 0;
    else strcpy(p, ".");
    return p;
}

/* A list file: samples in <dir>/bin/<id>.bs2|.bin, or <dir>/<id>.bs2|.bin. */
static int nm_list(dataset *d, const char *list, int part) {
    uint8_t *txt;
    size_t n;
    int rc = ds_read_file(list, &txt, &n);
    if (rc) return rc;
    char *dir = dir_of(list), *bindir = dir ? ds_path_join(dir, "bin") : NULL;
    if (!dir || !bindir) {
        free(txt), free(dir), free(bindir);
        return evsnn_seterr(EVSNN_ENOMEM, "no memory");
    }
    struct stat sb;
    const char *base = stat(bindir, &sb) == 0 && S_ISDIR(sb.st_mode) ? bindir : dir;
    const char *ext = NULL;
    size_t i = 0, line = 0;
    while (i < n && rc == 0) {
        line++;
        char buf[128];
        char *c = ds_line((const char *)txt, n, &i, buf, sizeof buf);
        if (!*c || *c == '#') continue;
        unsigned long id;
        int label, used = 0;
        if (sscanf(c, "%lu %d%n", &id, &label, &used) != 2 || label < 0 || label > 9) {
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: line %zu: '%s', expected '<sample id> <class 0..9>'", list, line, c);
            break;
        }
        char name[64];
        if (!ext) {
            /* The extension is fixed per list: look at the first sample. */
            ext = ".bs2";
            snprintf(name, sizeof name, "%lu.bs2", id);
            char *p = ds_path_join(base, name);
            if (p && access(p, R_OK) != 0) ext = ".bin";
            free(p);
        }
        snprintf(name, sizeof name, "%lu%s", id, ext);
        char *p = ds_path_join(base, name);
        rc = p ? nm_add(d, p, label, part) : evsnn_seterr(EVSNN_ENOMEM, "no memory");
    }
    free(txt), free(dir), free(bindir);
    return rc;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted names in a folder (no dot files). */
static int list_dir(const char *path, char ***names, size_t *n) {
    *names = NULL, *n = 0;
    DIR *dir = opendir(path);
    if (!dir) return 0;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (e->d_name[0] == '.') continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            char **p = realloc(*names, cap * sizeof *p);
            if (!p) break;
            *names = p;
        }
        if (!((*names)[*n] = ds_strdup(e->d_name))) break;
        (*n)++;
    }
    closedir(dir);
    if (*n) qsort(*names, *n, sizeof **names, cmp_str);
    return 0;
}

static void free_names(char **names, size_t n) {
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

/* Original tree: <root>/<Train|Test>/<digit>/<id>.bin. */
static int nm_tree(dataset *d, const char *root, const char *sub, int part) {
    char *pd = ds_path_join(root, sub);
    if (!pd) return evsnn_seterr(EVSNN_ENOMEM, "no memory");
    int rc = 0;
    for (int digit = 0; digit <= 9 && !rc; digit++) {
        char dn[4] = {(char)('0' + digit), 0};
        char *dd = ds_path_join(pd, dn);
        char **names;
        size_t n;
        if (!dd) rc = evsnn_seterr(EVSNN_ENOMEM, "no memory");
        else list_dir(dd, &names, &n);
        for (size_t i = 0; !rc && dd && i < n; i++) {
            size_t l = strlen(names[i]);
            if (l < 5 || (strcmp(names[i] + l - 4, ".bin") && strcmp(names[i] + l - 4, ".bs2"))) continue;
            char *p = ds_path_join(dd, names[i]);
            rc = p ? nm_add(d, p, digit, part) : evsnn_seterr(EVSNN_ENOMEM, "no memory");
        }
        if (dd) free_names(names, n);
        free(dd);
    }
    free(pd);
    return rc;
}

int rd_nmnist_open(dataset *d, const char *path, int kind) {
    nm_state *s = calloc(1, sizeof *s);
    if (!s) return evsnn_seterr(EVSNN_ENOMEM, "no memory");
    d->st = s, d->rd = &nm_reader, d->fmt = "nmnist";
    d->geo = (ds_geometry){DS_KIND_XY, NM_SIZE, NM_SIZE, 2};
    int rc = 0;
    if (kind == 0) {
        char *p = ds_strdup(path);
        rc = p ? nm_add(d, p, -1, -1) : evsnn_seterr(EVSNN_ENOMEM, "no memory");
        free(d->split), d->split = NULL;
        return rc;
    }
    if (kind == 1) {
        rc = nm_list(d, path, -1);
        free(d->split), d->split = NULL;
        if (!rc && d->n_all == 0) rc = evsnn_seterr(EVSNN_EFORMAT, "%s: the sample list is empty", path);
        return rc;
    }
    char *tr = ds_path_join(path, "Train");
    struct stat sb;
    int tree = tr && stat(tr, &sb) == 0 && S_ISDIR(sb.st_mode);
    free(tr);
    char *te = ds_path_join(path, "Test");
    tree |= te && stat(te, &sb) == 0 && S_ISDIR(sb.st_mode);
    free(te);
    if (tree) {
        rc = nm_tree(d, path, "Train", 0);
        if (!rc) rc = nm_tree(d, path, "Test", 1);
    } else {
        char **names;
        size_t n;
        list_dir(path, &names, &n);
        /* train*.txt before test*.txt, so that indices put the train part first. */
        for (int part = 0; part < 2 && !rc; part++)
            for (size_t i = 0; i < n && !rc; i++) {
                size_t l = strlen(names[i]);
                if (l < 5 || strcmp(names[i] + l - 4, ".txt")) continue;
                if (strncmp(names[i], part ? "test" : "train", part ? 4 : 5)) continue;
                char *p = ds_path_join(path, names[i]);
                rc = p ? nm_list(d, p, part) : evsnn_seterr(EVSNN_ENOMEM, "no memory");
                free(p);
            }
        free_names(names, n);
    }
    if (!rc && d->n_all == 0)
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: no N-MNIST samples (expected Train/<digit>/*.bin, Test/..., or "
                                         "train*.txt / test*.txt sample lists)", path);
    return rc;
}
