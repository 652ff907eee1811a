/* data/gen_synth.c — writes evsnn's built-in synthetic event datasets, deterministically
 * (fixed seeds, GSL through sim/rng.h), for the demo and for users without downloads:
 *
 *   OUT/shd_synth_train.h5, OUT/shd_synth_test.h5   SHD layout (Cramer et al. 2020):
 *       /spikes/times vlen half-precision seconds, /spikes/units vlen uint16 (0..699),
 *       /labels uint16, /extra/speaker, /extra/keys, /extra/meta_info/{gender,age,body_height}.
 *       240 + 60 samples, 5 classes: a "formant" band of active channels sweeps across the
 *       700 channels along a class-specific path (rising / falling / low-steady / high-steady /
 *       rise-then-fall) with jitter in onset, speed and channel offset, plus background spikes.
 *   OUT/gesture_synth/userNN_synth.aedat + userNN_synth_labels.csv   DVS128 Gesture layout:
 *       AEDAT 3.1 polarity packets (128×128), labels `class,startTime_usec,endTime_usec`.
 *       users 01–06 (train) and 24–25 (test), 25 gestures each (200 samples), 5 classes: a
 *       bright disc moving right / left / up / down / in a circle, 400 ms each, its leading
 *       edge emitting ON and trailing edge OFF events, plus sensor noise.
 *
 * usage: gen_synth OUTDIR      (files are written to temp names and renamed into place) */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "sim/rng.h"

#define N_CLASSES 5

/* Creation properties without object timestamps, so that the same seed gives the same bytes. */
static hid_t g_dcpl, g_gcpl;
#define SHD_UNITS 700

typedef struct {
    float t;
    uint16_t u;
} spike;

static int cmp_spike(const void *a, const void *b) {
    float x = ((const spike *)a)->t, y = ((const spike *)b)->t;
    return (x > y) - (x < y);
}

/* Channel centre of class c's band at phase s in [0, 1]. */
static double shd_path(int c, double s) {
    switch (c) {
    case 0: return 100 + 450 * s;                       /* rising */
    case 1: return 600 - 450 * s;                       /* falling */
    case 2: return 180 + 30 * sin(6.283 * s);           /* low, steady */
    case 3: return 520 + 30 * sin(6.283 * s);           /* high, steady */
    default: return 150 + 400 * sin(3.1416 * s);        /* rise then fall */
    }
}

static int write_shd(const char *path, int n, uint64_t seed) {
    rng *r = rng_create(seed);
    hvl_t *tv = calloc((size_t)n, sizeof *tv), *uv = calloc((size_t)n, sizeof *uv);
    uint16_t *labels = malloc((size_t)n * sizeof *labels), *speaker = malloc((size_t)n * sizeof *speaker);
    if (!r || !tv || !uv || !labels || !speaker) return -1;
    for (int i = 0; i < n; i++) {
        int c = i % N_CLASSES;
        labels[i] = (uint16_t)c;
        speaker[i] = (uint16_t)(i / N_CLASSES % 10);
        double dur = rng_uniform_range(r, 0.3, 0.8), onset = rng_uniform_range(r, 0.0, 0.05);
        double shift = rng_uniform_range(r, -25, 25), width = rng_uniform_range(r, 15, 30);
        size_t cap = 8192, m = 0;
        spike *sp = malloc(cap * sizeof *sp);
        /* Band: per 1 ms, Poisson(3) spikes near the path; background: Poisson(0.4) anywhere. */
        for (double t = 0; t < dur; t += 0.001) {
            double centre = shd_path(c, t / dur) + shift;
            unsigned k = rng_poisson(r, 3.0), b = rng_poisson(r, 0.4);
            for (unsigned j = 0; j < k + b; j++) {
                double u = j < k ? centre + rng_normal(r, width) : rng_uniform_range(r, 0, SHD_UNITS);
                if (u < 0 || u >= SHD_UNITS) continue;
                if (m == cap) sp = realloc(sp, (cap *= 2) * sizeof *sp);
                sp[m++] = (spike){(float)(onset + t + rng_uniform(r) * 0.001), (uint16_t)u};
            }
        }
        qsort(sp, m, sizeof *sp, cmp_spike);
        float *t = malloc((m ? m : 1) * sizeof *t);
        uint16_t *u = malloc((m ? m : 1) * sizeof *u);
        for (size_t j = 0; j < m; j++) t[j] = sp[j].t, u[j] = sp[j].u;
        free(sp);
        tv[i] = (hvl_t){m, t}, uv[i] = (hvl_t){m, u};
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    int rc = f < 0 ? -1 : 0;
    if (!rc) {
        hsize_t dn = (hsize_t)n;
        hid_t sp = H5Screate_simple(1, &dn, NULL);
        hid_t g = H5Gcreate2(f, "spikes", H5P_DEFAULT, g_gcpl, H5P_DEFAULT);
        /* IEEE half: 1 sign, 5 exponent (bias 15), 10 mantissa bits, as in the SHD files. */
        hid_t half = H5Tcopy(H5T_IEEE_F32LE);
        H5Tset_fields(half, 15, 10, 5, 0, 10), H5Tset_precision(half, 16), H5Tset_size(half, 2);
        H5Tset_ebias(half, 15);
        hid_t ft = H5Tvlen_create(half), mt = H5Tvlen_create(H5T_NATIVE_FLOAT);
        hid_t ds = H5Dcreate2(g, "times", ft, sp, H5P_DEFAULT, g_dcpl, H5P_DEFAULT);
        rc |= H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, tv) < 0;
        H5Dclose(ds), H5Tclose(ft), H5Tclose(mt), H5Tclose(half);
        ft = H5Tvlen_create(H5T_STD_U16LE), mt = H5Tvlen_create(H5T_NATIVE_UINT16);
        ds = H5Dcreate2(g, "units", ft, sp, H5P_DEFAULT, g_dcpl, H5P_DEFAULT);
        rc |= H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, uv) < 0;
        H5Dclose(ds), H5Tclose(ft), H5Tclose(mt), H5Gclose(g);
        ds = H5Dcreate2(f, "labels", H5T_STD_U16LE, sp, H5P_DEFAULT, g_dcpl, H5P_DEFAULT);
        rc |= H5Dwrite(ds, H5T_NATIVE_UINT16, H5S_ALL, H5S_ALL, H5P_DEFAULT, labels) < 0;
        H5Dclose(ds);
        hid_t ge = H5Gcreate2(f, "extra", H5P_DEFAULT, g_gcpl, H5P_DEFAULT);
        ds = H5Dcreate2(ge, "speaker", H5T_STD_U16LE, sp, H5P_DEFAULT, g_dcpl, H5P_DEFAULT);
        rc |= H5Dwrite(ds, H5T_NATIVE_UINT16, H5S_ALL, H5S_ALL, H5P_DEFAULT, speaker) < 0;
        H5Dclose(ds);
        static const char keys[N_CLASSES][16] = {"rising", "falling", "low", "high", "arc"};
        hsize_t nk = N_CLASSES;
        hid_t ks = H5Screate_simple(1, &nk, NULL), st = H5Tcopy(H5T_C_S1);
        H5Tset_size(st, 16);
        ds = H5Dcreate2(ge, "keys", st, ks, H5P_DEFAULT, g_dcpl, H5P_DEFAULT);
        rc |= H5Dwrite(ds, st, H5S_ALL, H5S_ALL, H5P_DEFAULT, keys) < 0;
        H5Dclose(ds), H5Tclose(st), H5Sclose(ks);
        hid_t gm = H5Gcreate2(ge, "meta_info", H5P_DEFAULT, g_gcpl, H5P_DEFAULT);
        hsize_t ns = 10;
        hid_t ss = H5Screate_simple(1, &ns, NULL);
        uint8_t gender[10] = {0, 1, 0, 1, 0, 1, 0, 1, 0, 1}, age[10] = {21, 25, 30, 35, 40, 45, 50, 28, 33, 38};
        float height[10] = {1.80f, 1.65f, 1.75f, 1.60f, 1.85f, 1.70f, 1.78f, 1.62f, 1.90f, 1.68f};
        ds = H5Dcreate2(gm, "gender", H5T_STD_U8LE, ss, H5P_DEFAULT, g_dcpl, H5P_DEFAULT);
        rc |= H5Dwrite(ds, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, gender) < 0, H5Dclose(ds);
        ds = H5Dcreate2(gm, "age", H5T_STD_U8LE, ss, H5P_DEFAULT, g_dcpl, H5P_DEFAULT);
        rc |= H5Dwrite(ds, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, age) < 0, H5Dclose(ds);
        ds = H5Dcreate2(gm, "body_height", H5T_IEEE_F32LE, ss, H5P_DEFAULT, g_dcpl, H5P_DEFAULT);
        rc |= H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, height) < 0, H5Dclose(ds);
        H5Sclose(ss), H5Gclose(gm), H5Gclose(ge), H5Sclose(sp);
        rc |= H5Fclose(f) < 0;
    }
    if (!rc && rename(tmp, path) != 0) rc = -1;
    if (rc) unlink(tmp);
    for (int i = 0; i < n; i++) free(tv[i].p), free(uv[i].p);
    free(tv), free(uv), free(labels), free(speaker);
    rng_free(r);
    return rc;
}

/* ---------------------------------------------------------------- AEDAT 3.1 gestures */

typedef struct {
    uint32_t data;
    int32_t ts;
} pol_ev;

typedef struct {
    pol_ev *e;
    size_t n, cap;
} pol_buf;

static void push(pol_buf *b, int x, int y, int p, int64_t t) {
    if (x < 0 || y < 0 || x > 127 || y > 127) return;
    if (b->n == b->cap) b->e = realloc(b->e, (b->cap = b->cap ? 2 * b->cap : 65536) * sizeof *b->e);
    b->e[b->n++] = (pol_ev){(uint32_t)x << 17 | (uint32_t)y << 2 | (uint32_t)p << 1 | 1u, (int32_t)t};
}

static int cmp_pol(const void *a, const void *b) {
    int32_t x = ((const pol_ev *)a)->ts, y = ((const pol_ev *)b)->ts;
    return (x > y) - (x < y);
}

/* Disc centre of class c at phase s in [0, 1], on the 128×128 sensor. */
static void gesture_path(int c, double s, double *x, double *y) {
    switch (c) {
    case 0: *x = 20 + 88 * s, *y = 64; break;                     /* right */
    case 1: *x = 108 - 88 * s, *y = 64; break;                    /* left */
    case 2: *x = 64, *y = 108 - 88 * s; break;                    /* up (y grows downward) */
    case 3: *x = 64, *y = 20 + 88 * s; break;                     /* down */
    default: *x = 64 + 35 * cos(6.283 * s), *y = 64 + 35 * sin(6.283 * s); /* circle */
    }
}

static int write_user(const char *dir, int user, uint64_t seed) {
    char path[4200], csv[4200], tmp[4300], tmpc[4300];
    snprintf(path, sizeof path, "%s/user%02d_synth.aedat", dir, user);
    snprintf(csv, sizeof csv, "%s/user%02d_synth_labels.csv", dir, user);
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    snprintf(tmpc, sizeof tmpc, "%s.tmp%ld", csv, (long)getpid());
    rng *r = rng_create(seed);
    pol_buf b = {0};
    FILE *fc = fopen(tmpc, "w");
    if (!r || !fc) return -1;
    fprintf(fc, "class,startTime_usec,endTime_usec\r\n");
    int64_t t0 = 1000000; /* recordings do not start at 0 */
    for (int g = 0; g < 25; g++) {
        int c = (g * 3 + user) % N_CLASSES; /* every class 5 times, order varies by user */
        int64_t start = t0 + (int64_t)g * 500000, end = start + 450000;
        fprintf(fc, "%d,%lld,%lld\r\n", c + 1, (long long)start, (long long)end);
        double rad = rng_uniform_range(r, 7, 11), ox = rng_uniform_range(r, -8, 8), oy = rng_uniform_range(r, -8, 8);
        double speed = rng_uniform_range(r, 0.85, 1.15);
        double px = 0, py = 0;
        gesture_path(c, 0, &px, &py);
        /* 1 ms frames: pixels entering the disc fire ON, leaving it fire OFF. */
        for (int ms = 0; ms < 400; ms++) {
            double s = fmin(1.0, ms / 400.0 * speed), cx, cy;
            gesture_path(c, s, &cx, &cy);
            cx += ox, cy += oy;
            int64_t t = start + 25000 + ms * 1000;
            for (int y = (int)(fmin(cy, py + oy) - rad - 2); y <= (int)(fmax(cy, py + oy) + rad + 2); y++)
                for (int x = (int)(fmin(cx, px + ox) - rad - 2); x <= (int)(fmax(cx, px + ox) + rad + 2); x++) {
                    int in_now = (x - cx) * (x - cx) + (y - cy) * (y - cy) < rad * rad;
                    int in_before = (x - px - ox) * (x - px - ox) + (y - py - oy) * (y - py - oy) < rad * rad;
                    if (in_now != in_before && rng_bernoulli(r, 0.8))
                        push(&b, x, y, in_now, t + (int64_t)(rng_uniform(r) * 1000));
                }
            px = cx - ox, py = cy - oy;
            unsigned noise = rng_poisson(r, 2.0); /* background activity, 2 events/ms */
            for (unsigned k = 0; k < noise; k++)
                push(&b, (int)rng_below(r, 128), (int)rng_below(r, 128), (int)rng_below(r, 2),
                     t + (int64_t)(rng_uniform(r) * 1000));
        }
    }
    fclose(fc);
    qsort(b.e, b.n, sizeof *b.e, cmp_pol);
    FILE *f = fopen(tmp, "wb");
    if (!f) return -1;
    fprintf(f, "#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n"
               "#Start-Time: synthetic (evsnn data/gen_synth, user %02d)\r\n#!END-HEADER\r\n", user);
    for (size_t k = 0; k < b.n; k += 4096) {
        uint32_t num = (uint32_t)(b.n - k < 4096 ? b.n - k : 4096);
        /* eventType 1 (polarity), source 1, size 8, TS offset 4, overflow 0, capacity, number, valid */
        uint8_t h[28];
        uint32_t w[6] = {8, 4, 0, num, num, num};
        h[0] = 1, h[1] = 0, h[2] = 1, h[3] = 0;
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 4; j++) h[4 + 4 * i + j] = (uint8_t)(w[i] >> (8 * j));
        fwrite(h, 1, 28, f);
        for (uint32_t j = 0; j < num; j++) {
            uint8_t e[8];
            uint32_t v[2] = {b.e[k + j].data, (uint32_t)b.e[k + j].ts};
            for (int i = 0; i < 2; i++)
                for (int q = 0; q < 4; q++) e[4 * i + q] = (uint8_t)(v[i] >> (8 * q));
            fwrite(e, 1, 8, f);
        }
    }
    int rc = fclose(f) != 0;
    if (!rc) rc = rename(tmpc, csv) != 0 || rename(tmp, path) != 0;
    if (rc) unlink(tmp), unlink(tmpc);
    free(b.e);
    rng_free(r);
    return rc ? -1 : 0;
}

int main(int argc, char **argv) {
    if (argc != 2 || !strcmp(argv[1], "--help")) {
        fprintf(argc == 2 ? stdout : stderr, "usage: gen_synth OUTDIR\n"
                                             "writes shd_synth_train.h5, shd_synth_test.h5 and gesture_synth/ "
                                             "(see data/gen_synth.c)\n");
        return argc == 2 ? 0 : 2;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    g_dcpl = H5Pcreate(H5P_DATASET_CREATE), g_gcpl = H5Pcreate(H5P_GROUP_CREATE);
    H5Pset_obj_track_times(g_dcpl, 0), H5Pset_obj_track_times(g_gcpl, 0);
    char p[4096];
    mkdir(argv[1], 0755);
    snprintf(p, sizeof p, "%s/shd_synth_train.h5", argv[1]);
    if (write_shd(p, 240, 1001)) return fprintf(stderr, "gen_synth: cannot write %s\n", p), 1;
    snprintf(p, sizeof p, "%s/shd_synth_test.h5", argv[1]);
    if (write_shd(p, 60, 2002)) return fprintf(stderr, "gen_synth: cannot write %s\n", p), 1;
    snprintf(p, sizeof p, "%s/gesture_synth", argv[1]);
    if (mkdir(p, 0755) != 0 && errno != EEXIST) return fprintf(stderr, "gen_synth: cannot create %s\n", p), 1;
    static const int users[] = {1, 2, 3, 4, 5, 6, 24, 25};
    for (size_t i = 0; i < sizeof users / sizeof *users; i++)
        if (write_user(p, users[i], 3000 + (uint64_t)users[i]))
            return fprintf(stderr, "gen_synth: cannot write user %d in %s\n", users[i], p), 1;
    printf("{\"out\":\"%s\",\"shd\":{\"train\":240,\"test\":60,\"classes\":%d},"
           "\"gesture\":{\"train\":150,\"test\":50,\"classes\":%d}}\n",
           argv[1], N_CLASSES, N_CLASSES);
    return 0;
}
