/* io/rd_aedat.c — jAER AEDAT 1.0 / 2.0 (DVS128) and AEDAT 3.1 (DVS128 Gesture) readers.
 *
 * AEDAT 1.0/2.0: a '#' header, then big-endian records (int16|int32 address, int32 µs).
 * The whole recording is one unlabelled sample (origin: its first event).
 * AEDAT 3.1: '#' header through "#!END-HEADER\r\n", then little-endian packets (28-byte
 * header + eventNumber × eventSize). A recording with a `<stem>_labels.csv` beside it is
 * sliced into one sample per label row [start, end) µs (origin: start); a folder of such
 * recordings is the DVS128 Gesture dataset, users 1–23 train and 24–29 test. A packet
 * index (offset, first timestamp) is built per recording on first use, so reading a
 * sample seeks to its first packet instead of scanning the file. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/ds_impl.h"
#include "io/ds_readers.h"
#include "sim/evsnn.h"

#define DVS128 128
#define HDR_MAX (1u << 20) /* headers longer than 1 MiB are not AEDAT */

static inline uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}
static inline uint16_t le16(const uint8_t *p) { return (uint16_t)(p[1] << 8 | p[0]); }

int ds_dec_aedat_header(const uint8_t *buf, size_t n, int v3, const char *name, size_t *len) {
    size_t i = 0;
    while (i < n) {
        if (buf[i] != '#') {
            if (v3)
                return evsnn_seterr(EVSNN_EFORMAT, "%s: offset %zu: header line without '#' before "
                                                   "#!END-HEADER", name, i);
            *len = i;
            return 0;
        }
        const uint8_t *nl = memchr(buf + i, '\n', n - i);
        if (!nl) break;
        size_t j = (size_t)(nl - buf) + 1;
        if (v3 && j - i >= 12 && !memcmp(buf + i, "#!END-HEADER", 12)) {
            *len = j;
            return 0;
        }
        i = j;
    }
    if (!v3 && i == n) {
        *len = n; /* header only: no events */
        return 0;
    }
    return evsnn_seterr(EVSNN_EFORMAT, "%s: offset %zu: header does not end (expected %s)", name, i,
                        v3 ? "#!END-HEADER\\r\\n" : "a line ending in \\n");
}

int ds_dec_aedat2(const uint8_t *buf, size_t n, size_t base, int rec, const char *name, ds_evbuf *out) {
    if (rec != 6 && rec != 8) return evsnn_seterr(EVSNN_EINVAL, "AEDAT record size %d", rec);
    if (n % (size_t)rec)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: offset %zu: truncated %d-byte record (%zu bytes left)", name,
                            base + n - n % (size_t)rec, rec, n % (size_t)rec);
    size_t recs = n / (size_t)rec;
    int rc = ds_evbuf_reserve(out, out->n + recs);
    if (rc) return rc;
    ds_event *e = out->ev + out->n;
    size_t k = 0;
    if (rec == 8) {
        for (size_t r = 0; r < recs; r++) {
            uint32_t a = be32(buf + 8 * r);
            if (a >> 16)
                return evsnn_seterr(EVSNN_EFORMAT, "%s: offset %zu: address 0x%08x is not a DVS128 address "
                                                   "(bits above 15 set)", name, base + 8 * r, a);
            if (a & 0x8000) continue; /* special event (external input) */
            e[k].t = (int32_t)be32(buf + 8 * r + 4);
            e[k].x = (uint16_t)(127 - ((a >> 1) & 0x7F));
            e[k].y = (uint16_t)((a >> 8) & 0x7F);
            e[k].p = (uint8_t)(~a & 1); /* bit 0 = 0 is ON */
            k++;
        }
    } else {
        for (size_t r = 0; r < recs; r++) {
            const uint8_t *b = buf + 6 * r;
            uint32_t a = (uint32_t)b[0] << 8 | b[1];
            if (a & 0x8000) continue;
            e[k].t = (int32_t)be32(b + 2);
            e[k].x = (uint16_t)(127 - ((a >> 1) & 0x7F));
            e[k].y = (uint16_t)((a >> 8) & 0x7F);
            e[k].p = (uint8_t)(~a & 1);
            k++;
        }
    }
    out->n += k;
    return 0;
}

int ds_dec_aedat3(const uint8_t *buf, size_t n, size_t base, const char *name, int64_t t_lo, int64_t t_hi,
                  ds_evbuf *out) {
    size_t off = 0;
    while (off < n) {
        if (n - off < 28)
            return evsnn_seterr(EVSNN_EFORMAT, "%s: offset %zu: truncated packet header (%zu of 28 bytes)", name,
                                base + off, n - off);
        const uint8_t *h = buf + off;
        uint16_t type = le16(h);
        uint32_t esize = le32(h + 4), ovf = le32(h + 12), num = le32(h + 20);
        uint64_t bytes = (uint64_t)esize * num;
        if (bytes > n - off - 28)
            return evsnn_seterr(EVSNN_EFORMAT, "%s: offset %zu: packet of %u events × %u bytes runs past the end "
                                               "(%zu bytes left)", name, base + off, num, esize, n - off - 28);
        if (type == 1) {
            if (esize < 8)
                return evsnn_seterr(EVSNN_EFORMAT, "%s: offset %zu: polarity packet with %u-byte events, "
                                                   "expected 8", name, base + off, esize);
            int rc = ds_evbuf_reserve(out, out->n + num);
            if (rc) return rc;
            ds_event *e = out->ev + out->n;
            size_t k = 0;
            const uint8_t *p = h + 28;
            for (uint32_t j = 0; j < num; j++, p += esize) {
                uint32_t data = le32(p);
                if (!(data & 1)) continue; /* invalidated event */
                int64_t t = (int64_t)ovf << 31 | (int64_t)(le32(p + 4) & 0x7FFFFFFF);
                if (t < t_lo || t >= t_hi) continue;
                uint32_t x = (data >> 17) & 0x1FFF, y = (data >> 2) & 0x1FFF;
                if (x >= DVS128 || y >= DVS128)
                    return evsnn_seterr(EVSNN_EFORMAT, "%s: offset %zu: polarity event at (%u, %u), expected a "
                                                       "128×128 DVS128", name,
                                        base + (size_t)(p - buf), x, y);
                e[k].t = t, e[k].x = (uint16_t)x, e[k].y = (uint16_t)y, e[k].p = (data >> 1) & 1;
                k++;
            }
            out->n += k;
        }
        off += 28 + (size_t)bytes;
    }
    return 0;
}

/* Read up to `max` bytes from the start of a file. */
static int read_prefix(const char *path, size_t max, uint8_t **buf, size_t *n, size_t *fsize) {
    FILE *f = fopen(path, "rb");
    if (!f) return evsnn_seterr(EVSNN_EIO, "%s: cannot open", path);
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0) return fclose(f), evsnn_seterr(EVSNN_EIO, "%s: cannot stat", path);
    *fsize = (size_t)sb.st_size;
    size_t want = *fsize < max ? *fsize : max;
    *buf = malloc(want ? want : 1);
    if (!*buf) return fclose(f), evsnn_seterr(EVSNN_ENOMEM, "no memory");
    *n = fread(*buf, 1, want, f);
    fclose(f);
    return 0;
}

/* ---------------------------------------------------------------- AEDAT 1.0 / 2.0 */

typedef struct {
    size_t hdr;
    int rec;
} a2_state;

static int a2_events(dataset *d, uint32_t k, ds_evbuf *out, int64_t *t0) {
    (void)k;
    a2_state *s = d->st;
    uint8_t *buf;
    size_t n;
    int rc = ds_read_file(d->path, &buf, &n);
    if (rc) return rc;
    if (n < s->hdr) {
        free(buf);
        return evsnn_seterr(EVSNN_EFORMAT, "%s: file shrank below its header (%zu bytes)", d->path, s->hdr);
    }
    rc = ds_dec_aedat2(buf + s->hdr, n - s->hdr, s->hdr, s->rec, d->path, out);
    free(buf);
    int64_t m = out->n ? out->ev[0].t : 0;
    for (size_t i = 1; i < out->n; i++)
        if (out->ev[i].t < m) m = out->ev[i].t;
    *t0 = m;
    return rc;
}

static void plain_close(void *st) { free(st); }

static const ds_reader a2_reader = {"aedat2", a2_events, NULL, plain_close};
static const ds_reader a1_reader = {"aedat1", a2_events, NULL, plain_close};

int rd_aedat2_open(dataset *d, const char *path, int version) {
    a2_state *s = calloc(1, sizeof *s);
    if (!s) return evsnn_seterr(EVSNN_ENOMEM, "no memory");
    d->st = s, d->rd = version == 2 ? &a2_reader : &a1_reader;
    d->fmt = version == 2 ? "aedat2" : "aedat1";
    s->rec = version == 2 ? 8 : 6;
    d->geo = (ds_geometry){DS_KIND_XY, DVS128, DVS128, 2};
    d->dvs128 = 1;
    uint8_t *buf;
    size_t n, fsize;
    int rc = read_prefix(path, HDR_MAX, &buf, &n, &fsize);
    if (rc) return rc;
    rc = ds_dec_aedat_header(buf, n, 0, path, &s->hdr);
    free(buf);
    if (rc) return rc;
    if (s->hdr == n && fsize > n)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: offset %zu: header longer than %u bytes", path, n, HDR_MAX);
    if ((fsize - s->hdr) % (size_t)s->rec)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: offset %zu: truncated %d-byte record (%zu bytes after the "
                                           "%zu-byte header)", path, fsize - (fsize - s->hdr) % (size_t)s->rec,
                            s->rec, fsize - s->hdr, s->hdr);
    d->n_all = 1;
    d->labels = malloc(sizeof *d->labels);
    if (!d->labels) return evsnn_seterr(EVSNN_ENOMEM, "no memory");
    d->labels[0] = -1;
    return 0;
}

/* ---------------------------------------------------------------- AEDAT 3.1 */

typedef struct {
    uint64_t off;
    int64_t t; /* first event's full timestamp */
} a3_packet;

typedef struct {
    char *path;
    size_t hdr, size;
    a3_packet *pk; /* polarity packets, NULL until first use */
    size_t n_pk;
    int indexed;
} a3_file;

typedef struct {
    a3_file *files;
    size_t n_files;
    uint32_t *file;   /* [n_all] */
    int64_t *t_lo, *t_hi;
    uint8_t *raw;
    size_t raw_cap;
} a3_state;

static int a3_index(a3_file *f) {
    FILE *fp = fopen(f->path, "rb");
    if (!fp) return evsnn_seterr(EVSNN_EIO, "%s: cannot open", f->path);
    size_t cap = 0;
    uint64_t off = f->hdr;
    int rc = 0;
    while (off < f->size) {
        uint8_t h[36];
        if (f->size - off < 28) {
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: offset %llu: truncated packet header (%llu of 28 bytes)", f->path,
                              (unsigned long long)off, (unsigned long long)(f->size - off));
            break;
        }
        size_t want = f->size - off >= 36 ? 36 : 28;
        if (fseeko(fp, (off_t)off, SEEK_SET) || fread(h, 1, want, fp) != want) {
            rc = evsnn_seterr(EVSNN_EIO, "%s: offset %llu: read failed", f->path, (unsigned long long)off);
            break;
        }
        uint16_t type = le16(h);
        uint32_t esize = le32(h + 4), ovf = le32(h + 12), num = le32(h + 20);
        uint64_t bytes = (uint64_t)esize * num;
        if (bytes > f->size - off - 28) {
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: offset %llu: packet of %u events × %u bytes runs past the end",
                              f->path, (unsigned long long)off, num, esize);
            break;
        }
        if (type == 1 && num > 0 && esize >= 8) {
            if ((rc = ds_grow(&f->pk, &cap, f->n_pk, sizeof *f->pk, 256))) break;
            f->pk[f->n_pk].off = off;
            f->pk[f->n_pk].t = (int64_t)ovf << 31 | (int64_t)(le32(h + 32) & 0x7FFFFFFF);
            f->n_pk++;
        }
        off += 28 + bytes;
    }
    fclose(fp);
    if (!rc) f->indexed = 1;
    return rc;
}

static int a3_events(dataset *d, uint32_t k, ds_evbuf *out, int64_t *t0) {
    a3_state *s = d->st;
    a3_file *f = &s->files[s->file[k]];
    int rc;
    if (!f->indexed && (rc = a3_index(f))) return rc;
    int64_t lo = s->t_lo[k], hi = s->t_hi[k];
    *t0 = lo == INT64_MIN ? (f->n_pk ? f->pk[0].t : 0) : lo;
    /* Last packet starting at or before lo (events are time-ordered across packets). */
    size_t a = 0, b = f->n_pk;
    while (b - a > 1) {
        size_t m = (a + b) / 2;
        if (f->pk[m].t <= lo) a = m;
        else b = m;
    }
    FILE *fp = fopen(f->path, "rb");
    if (!fp) return evsnn_seterr(EVSNN_EIO, "%s: cannot open", f->path);
    rc = 0;
    for (size_t i = a; i < f->n_pk && f->pk[i].t < hi; i++) {
        uint64_t end = i + 1 < f->n_pk ? f->pk[i + 1].off : f->size;
        /* Read only this packet: its header tells its length. */
        uint8_t h[28];
        if (fseeko(fp, (off_t)f->pk[i].off, SEEK_SET) || fread(h, 1, 28, fp) != 28) {
            rc = evsnn_seterr(EVSNN_EIO, "%s: offset %llu: read failed", f->path, (unsigned long long)f->pk[i].off);
            break;
        }
        size_t len = 28 + (size_t)le32(h + 4) * le32(h + 20);
        if (len > end - f->pk[i].off) len = (size_t)(end - f->pk[i].off);
        if (len > s->raw_cap) {
            uint8_t *p = realloc(s->raw, len);
            if (!p) {
                rc = evsnn_seterr(EVSNN_ENOMEM, "no memory");
                break;
            }
            s->raw = p, s->raw_cap = len;
        }
        memcpy(s->raw, h, 28);
        if (fread(s->raw + 28, 1, len - 28, fp) != len - 28) {
            rc = evsnn_seterr(EVSNN_EIO, "%s: offset %llu: read failed", f->path, (unsigned long long)f->pk[i].off);
            break;
        }
        if ((rc = ds_dec_aedat3(s->raw, len, (size_t)f->pk[i].off, f->path, lo, hi, out))) break;
    }
    fclose(fp);
    return rc;
}

static void a3_close(void *st) {
    a3_state *s = st;
    if (!s) return;
    for (size_t i = 0; i < s->n_files; i++) free(s->files[i].path), free(s->files[i].pk);
    free(s->files), free(s->file), free(s->t_lo), free(s->t_hi), free(s->raw), free(s);
}

static const ds_reader a3_reader = {"aedat3", a3_events, NULL, a3_close};

/* User number from a name like ".../user07_fluorescent.aedat"; -1 if none. */
static int user_of(const char *path) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    int u;
    if (sscanf(b, "user%d", &u) == 1) return u;
    return -1;
}

/* Add one recording; with labels, one sample per row. */
static int a3_add(dataset *d, const char *aedat, const char *csv) {
    a3_state *s = d->st;
    uint8_t *buf;
    size_t n, fsize;
    int rc = read_prefix(aedat, HDR_MAX, &buf, &n, &fsize);
    if (rc) return rc;
    size_t hdr;
    if (n < 12 || memcmp(buf, "#!AER-DAT3.1", 12)) {
        free(buf);
        return evsnn_seterr(EVSNN_EFORMAT, "%s: offset 0: expected '#!AER-DAT3.1'", aedat);
    }
    rc = ds_dec_aedat_header(buf, n, 1, aedat, &hdr);
    free(buf);
    if (rc) return rc;
    ds_slice *sl = NULL;
    size_t ns = 0;
    if (csv) {
        uint8_t *txt;
        size_t tn;
        if ((rc = ds_read_file(csv, &txt, &tn))) return rc;
        rc = ds_dec_labels_csv((const char *)txt, tn, csv, &sl, &ns);
        free(txt);
        if (rc) return rc;
    }
    a3_file *fs = realloc(s->files, (s->n_files + 1) * sizeof *fs);
    if (!fs) return free(sl), evsnn_seterr(EVSNN_ENOMEM, "no memory");
    s->files = fs;
    a3_file *f = &fs[s->n_files];
    memset(f, 0, sizeof *f);
    f->path = ds_strdup(aedat), f->hdr = hdr, f->size = fsize;
    if (!f->path) return free(sl), evsnn_seterr(EVSNN_ENOMEM, "no memory");
    s->n_files++;
    int u = user_of(aedat);
    int part = u < 0 ? -1 : u <= 23 ? 0 : 1;
    rc = ds_add_slices(d, (uint32_t)(s->n_files - 1), sl, ns, !csv, 1, part, &s->file, &s->t_lo, &s->t_hi);
    free(sl);
    return rc;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int rd_aedat3_open(dataset *d, const char *path) {
    a3_state *s = calloc(1, sizeof *s);
    if (!s) return evsnn_seterr(EVSNN_ENOMEM, "no memory");
    d->st = s, d->rd = &a3_reader, d->fmt = "aedat3";
    d->geo = (ds_geometry){DS_KIND_XY, DVS128, DVS128, 2};
    d->dvs128 = 1;
    struct stat sb;
    int rc = 0;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        DIR *dir = opendir(path);
        if (!dir) return evsnn_seterr(EVSNN_EIO, "%s: cannot open folder", path);
        char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *e;
        while ((e = readdir(dir))) {
            size_t l = strlen(e->d_name);
            if (l <= 11 || strcmp(e->d_name + l - 11, "_labels.csv")) continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 64;
                char **p = realloc(names, cap * sizeof *p);
                if (!p) break;
                names = p;
            }
            if ((names[n] = ds_strdup(e->d_name))) n++;
        }
        closedir(dir);
        if (n) qsort(names, n, sizeof *names, cmp_str);
        for (size_t i = 0; i < n && !rc; i++) {
            char *csv = ds_path_join(path, names[i]);
            char *ae = csv ? ds_strdup(csv) : NULL;
            if (!csv || !ae) rc = evsnn_seterr(EVSNN_ENOMEM, "no memory");
            else {
                strcpy(ae + strlen(ae) - 11, ".aedat");
                rc = access(ae, R_OK) == 0 ? a3_add(d, ae, csv)
                                            : evsnn_seterr(EVSNN_EIO, "%s: no recording %s beside it", csv, ae);
            }
            free(csv), free(ae);
        }
        for (size_t i = 0; i < n; i++) free(names[i]);
        free(names);
        if (!rc && d->n_all == 0) rc = evsnn_seterr(EVSNN_EFORMAT, "%s: no labelled AEDAT 3.1 recordings", path);
    } else {
        char *csv = ds_strdup(path);
        if (!csv) return evsnn_seterr(EVSNN_ENOMEM, "no memory");
        size_t l = strlen(csv);
        char *dot = strrchr(csv, '.');
        char *res = NULL;
        if (dot && !strchr(dot, '/')) *dot = 0;
        l = strlen(csv);
        res = malloc(l + 12);
        if (res) memcpy(res, csv, l), strcpy(res + l, "_labels.csv");
        rc = a3_add(d, path, res && access(res, R_OK) == 0 ? res : NULL);
        free(csv), free(res);
    }
    if (!rc && d->split) {
        int any = 0;
        for (uint32_t k = 0; k < d->n_all; k++) any |= d->split[k] >= 0;
        if (!any) free(d->split), d->split = NULL;
    }
    return rc;
}
