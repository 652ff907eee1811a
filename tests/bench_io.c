/* tests/bench_io.c — dataset decode throughput (events/s, one core) and peak memory while
 * iterating a whole file. One JSON line per workload.
 *
 *  decode_*   from-memory decoders on the real bytes (N-MNIST, AEDAT 2.0, the AEDAT 4.0
 *             DVXplorer sample with its LZ4 packets) or on generated AEDAT 3.1 and
 *             Prophesee EVT 2.0 / 3.0 streams: the parser's own speed
 *  read_*     ds_raw over every sample of a dataset from files (page cache warm):
 *             detection, I/O, decode, sort check
 *  bin_dvs    binning + 4× downsampling of N-MNIST-like events (tf_bin)
 *  rss_*      peak RSS growth while ds_get iterates a generated AEDAT 3.1 recording far
 *             larger than one sample: bounded by a sample, not the file
 * Targets: decode >= 50 M events/s for AEDAT and N-MNIST.
 * `bench_io WORD` runs only the workloads whose name contains WORD (e.g. `evt`). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "io/ds_impl.h"
#include "io/transform.h"
#include "sim/evsnn.h"
#include "tests/benchjson.h"

#define SHARED "../shared/datasets/"

static long rss_kb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Repeat a decode until 0.5 s have passed; best pass wins (least disturbed by other
 * jobs on the shared cores). */
typedef int (*dec_fn)(const uint8_t *, size_t, ds_evbuf *);

static int dec_nmnist(const uint8_t *b, size_t n, ds_evbuf *o) { return ds_dec_nmnist(b, n, "bench", o); }
static int dec_aedat2(const uint8_t *b, size_t n, ds_evbuf *o) { return ds_dec_aedat2(b, n, 0, 8, "bench", o); }
static int dec_aedat3(const uint8_t *b, size_t n, ds_evbuf *o) {
    return ds_dec_aedat3(b, n, 0, "bench", INT64_MIN, INT64_MAX, o);
}

static int dec_aedat4(const uint8_t *b, size_t n, ds_evbuf *o) {
    ds_geometry g;
    return ds_dec_aedat4(b, n, "bench", o, &g);
}
static int dec_evt(const uint8_t *b, size_t n, ds_evbuf *o, int version) {
    ds_evt_state s = {.version = version, .width = 1280, .height = 720};
    return ds_dec_evt(b, n, 0, "bench", &s, INT64_MIN, INT64_MAX, o);
}
static int dec_evt2(const uint8_t *b, size_t n, ds_evbuf *o) { return dec_evt(b, n, o, 2); }
static int dec_evt3(const uint8_t *b, size_t n, ds_evbuf *o) { return dec_evt(b, n, o, 3); }

/* {"bench": name, key: text}: the line of a workload that failed ("error") or could not run
 * ("skipped"). */
static void print_note(const char *name, const char *key, const char *text) {
    json_t *o = bench_doc(name);
    jset(o, key, jstr(text));
    bench_emit(o);
}

static const char *g_only; /* argv[1]: run only the workloads whose name contains it */
static int want(const char *name) { return !g_only || strstr(name, g_only); }

static void bench_decode(const char *name, dec_fn f, const uint8_t *buf, size_t n) {
    ds_evbuf b = {0};
    double best = 1e30, t_end = evsnn_now_s() + 0.5;
    size_t events = 0;
    int passes = 0;
    while (evsnn_now_s() < t_end || passes < 3) {
        b.n = 0;
        double t0 = evsnn_now_s();
        if (f(buf, n, &b)) {
            print_note(name, "error", evsnn_errmsg());
            ds_evbuf_free(&b);
            return;
        }
        double dt = evsnn_now_s() - t0;
        if (dt < best) best = dt;
        events = b.n;
        passes++;
    }
    json_t *o = bench_doc(name);
    jset(o, "events", jint((long long)events));
    jset(o, "bytes", jint((long long)n));
    jset(o, "seconds", jnum(best));
    jset(o, "events_per_s", jnum(events / best));
    jset(o, "mb_per_s", jnum(n / best / 1e6));
    jset(o, "target_events_per_s", jint(50000000));
    bench_emit(o);
    ds_evbuf_free(&b);
}

static void bench_read(const char *name, const char *path) {
    if (access(path, R_OK) != 0) {
        char why[4200];
        snprintf(why, sizeof why, "%s not found", path);
        print_note(name, "skipped", why);
        return;
    }
    int err;
    double best = 1e30;
    size_t events = 0;
    uint32_t samples = 0;
    for (int pass = 0; pass < 3; pass++) {
        double t0 = evsnn_now_s();
        dataset *d = ds_open(path, NULL, &err);
        if (!d) {
            print_note(name, "error", evsnn_errmsg());
            return;
        }
        events = 0;
        samples = ds_len(d);
        for (uint32_t i = 0; i < samples; i++) {
            const ds_event *ev;
            size_t n;
            if (ds_raw(d, i, &ev, &n, NULL, NULL)) break;
            events += n;
        }
        ds_free(d);
        double dt = evsnn_now_s() - t0;
        if (dt < best) best = dt;
    }
    json_t *o = bench_doc(name);
    jset(o, "samples", jint(samples));
    jset(o, "events", jint((long long)events));
    jset(o, "seconds", jnum(best));
    jset(o, "events_per_s", jnum(events / best));
    bench_emit(o);
}

/* Generated AEDAT 3.1 bytes: events [k0·4096, …) in packets of 4096 (npk packets, n events in
 * all), a sweeping pattern over 128×128, 1 µs apart. Returns the buffer (packets only). */
static uint8_t *gen_aedat3_part(size_t n, size_t k0, size_t npk_part, size_t *len) {
    size_t per = 4096, npk = (n + per - 1) / per;
    if (k0 + npk_part > npk) npk_part = npk - k0;
    *len = 0;
    for (size_t k = k0; k < k0 + npk_part; k++) *len += 28 + 8 * (k + 1 < npk ? per : n - k * per);
    uint8_t *b = malloc(*len ? *len : 1), *p = b;
    for (size_t k = k0; k < k0 + npk_part; k++) {
        uint32_t num = (uint32_t)(k + 1 < npk ? per : n - k * per);
        uint32_t h[7] = {1u | 1u << 16, 8, 4, 0, num, num, num};
        memcpy(p, h, 28);
        p += 28;
        for (uint32_t j = 0; j < num; j++) {
            size_t e = k * per + j;
            uint32_t x = (uint32_t)(e * 7) & 127, y = (uint32_t)(e * 13 / 128) & 127;
            uint32_t w[2] = {x << 17 | y << 2 | (uint32_t)(e & 1) << 1 | 1u, (uint32_t)e};
            memcpy(p, w, 8);
            p += 8;
        }
    }
    return b;
}

static uint8_t *gen_aedat3(size_t n, size_t *len) { return gen_aedat3_part(n, 0, SIZE_MAX / 2, len); }

/* Generated Prophesee words (1280×720), n events, about 16 per µs as a busy IMX636 gives:
 * EVT 3.0 as the sensor vectorises them — per µs a time low (a time high every 4096 µs),
 * then rows of a y word, a vector base and one VECT_12 (6 pixels) + one VECT_8 (2 pixels);
 * EVT 2.0 as one 32-bit word per event plus a time high every 64 µs. */
static uint8_t *gen_evt(int version, size_t n, size_t *len) {
    size_t cap = version == 3 ? (n / 16 + 1) * 22 + 64 : n * 4 + n / 16 * 4 + 64, k = 0, ev = 0; /* ≤ 11 / 17 words per µs */
    uint8_t *b = malloc(cap);
    for (uint32_t t = 0; ev < n; t++) {
        if (version == 3) {
#define W16(v) (b[k] = (uint8_t)(v), b[k + 1] = (uint8_t)((v) >> 8), k += 2)
            if (t % 4096 == 0) W16(0x8000u | ((t >> 12) & 0xFFF));
            W16(0x6000u | (t & 0xFFF));
            for (uint32_t r = 0; r < 2 && ev < n; r++, ev += 8) {
                W16((t * 7 + r * 13) % 720);
                W16(0x3000u | (r & 1) << 11 | (t * 11 % 1200));
                W16(0x4000u | 0x0A95);
                W16(0x5000u | 0x81);
            }
        } else {
#define W32(v) (b[k] = (uint8_t)(v), b[k + 1] = (uint8_t)((v) >> 8), b[k + 2] = (uint8_t)((v) >> 16), b[k + 3] = (uint8_t)((v) >> 24), k += 4)
            if (t % 64 == 0) W32(0x80000000u | (t >> 6));
            for (uint32_t j = 0; j < 16 && ev < n; j++, ev++)
                W32((uint32_t)(j & 1) << 28 | (t & 63) << 22 | ((t * 31 + j * 7) % 1280) << 11 | ((t + j * 45) % 720));
        }
    }
    *len = k;
    return b;
}

static void bench_bin(void) {
    size_t n = 4000000;
    ds_event *ev = malloc(n * sizeof *ev);
    for (size_t i = 0; i < n; i++) ev[i] = (ds_event){(int64_t)(i / 8), (uint16_t)(i * 7 % 128), (uint16_t)(i * 13 % 128), (uint8_t)(i & 1)};
    tf_bin_cfg cfg = {.t0 = 0, .dt = 5000, .T = 100, .w = 128, .h = 128, .fx = 4, .fy = 4, .pols = 2};
    double best = 1e30;
    for (int pass = 0; pass < 3; pass++) {
        spk_train s;
        double t0 = evsnn_now_s();
        if (tf_bin(&s, ev, n, &cfg)) break;
        double dt = evsnn_now_s() - t0;
        if (dt < best) best = dt;
        spk_deinit(&s);
    }
    json_t *o = bench_doc("bin_dvs128_5ms_4x");
    jset(o, "events", jint((long long)n));
    jset(o, "seconds", jnum(best));
    jset(o, "events_per_s", jnum(n / best));
    bench_emit(o);
    free(ev);
}

/* An AEDAT 3.1 recording of 8 M events (64 MB) sliced into 40 labelled samples of 200k
 * events: iterating all of it must grow RSS by about one sample (200k × 16 B ≈ 3 MB plus
 * the binned train), not by the file. */
static void bench_rss(void) {
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/evsnn-bench-XXXXXX");
    if (!mkdtemp(dir)) return;
    char path[128], csv[128];
    snprintf(path, sizeof path, "%s/user01_bench.aedat", dir);
    snprintf(csv, sizeof csv, "%s/user01_bench_labels.csv", dir);
    size_t n = 8000000, len;
    FILE *f = fopen(path, "wb");
    fputs("#!AER-DAT3.1\r\n#Source 1: DVS128 (generated for bench_io)\r\n#!END-HEADER\r\n", f);
    for (size_t k = 0; k * 4096 < n; k += 64) { /* written in pieces: the bench's own RSS stays small */
        uint8_t *b = gen_aedat3_part(n, k, 64, &len);
        fwrite(b, 1, len, f);
        free(b);
    }
    fclose(f);
    f = fopen(csv, "w");
    fputs("class,startTime_usec,endTime_usec\n", f);
    for (int k = 0; k < 40; k++) fprintf(f, "%d,%d,%d\n", k % 11 + 1, k * 200000, (k + 1) * 200000);
    fclose(f);
    long before = rss_kb();
    int err;
    double t0 = evsnn_now_s();
    dataset *d = ds_open(path, NULL, &err);
    size_t events = 0;
    ds_sample s = {0};
    for (uint32_t i = 0; d && i < ds_len(d); i++) {
        const ds_event *ev;
        size_t m;
        if (ds_raw(d, i, &ev, &m, NULL, NULL)) break;
        events += m;
        if (ds_get(d, i, &s)) break;
    }
    double dt = evsnn_now_s() - t0;
    ds_sample_deinit(&s);
    ds_free(d);
    long after = rss_kb();
    struct stat sb;
    stat(path, &sb);
    json_t *o = bench_doc("rss_aedat3_iterate");
    jset(o, "file_kb", jint((long long)(sb.st_size / 1024)));
    jset(o, "samples", jint(40));
    jset(o, "events", jint((long long)events));
    jset(o, "rss_before_kb", jint(before));
    jset(o, "rss_peak_kb", jint(after));
    jset(o, "rss_growth_kb", jint(after - before));
    jset(o, "one_sample_raw_kb", jint((long long)(200000 * sizeof(ds_event) / 1024)));
    jset(o, "seconds", jnum(dt));
    jset(o, "events_per_s", jnum(events / dt));
    bench_emit(o);
    unlink(path), unlink(csv), rmdir(dir);
}

/* SHD layout, half-precision times: 500 samples × 4000 spikes, read through HDF5 vlen. */
static void bench_shd(void) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/evsnn-bench-shd-%ld.h5", (long)getpid());
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t g = H5Gcreate2(f, "spikes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    enum { N = 500, M = 4000 };
    hvl_t *tv = malloc(N * sizeof *tv), *uv = malloc(N * sizeof *uv);
    float *t = malloc((size_t)N * M * sizeof *t);
    uint16_t *u = malloc((size_t)N * M * sizeof *u);
    for (size_t i = 0; i < (size_t)N * M; i++) t[i] = (float)(i % M) * 2.5e-4f, u[i] = (uint16_t)(i * 37 % 700);
    for (int i = 0; i < N; i++) tv[i] = (hvl_t){M, t + (size_t)i * M}, uv[i] = (hvl_t){M, u + (size_t)i * M};
    hsize_t n = N;
    hid_t sp = H5Screate_simple(1, &n, NULL);
    hid_t half = H5Tcopy(H5T_IEEE_F32LE);
    H5Tset_fields(half, 15, 10, 5, 0, 10), H5Tset_precision(half, 16), H5Tset_size(half, 2), H5Tset_ebias(half, 15);
    hid_t ft = H5Tvlen_create(half), mt = H5Tvlen_create(H5T_NATIVE_FLOAT);
    hid_t ds = H5Dcreate2(g, "times", ft, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, tv);
    H5Dclose(ds), H5Tclose(ft), H5Tclose(mt), H5Tclose(half);
    ft = H5Tvlen_create(H5T_STD_U16LE), mt = H5Tvlen_create(H5T_NATIVE_UINT16);
    ds = H5Dcreate2(g, "units", ft, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, uv);
    H5Dclose(ds), H5Tclose(ft), H5Tclose(mt), H5Sclose(sp), H5Gclose(g), H5Fclose(f);
    free(tv), free(uv), free(t), free(u);
    bench_read("read_shd_half_h5", path);
    unlink(path);
}

int main(int argc, char **argv) {
    g_only = argc > 1 ? argv[1] : NULL;
    if (want("rss_aedat3_iterate")) bench_rss(); /* first, before the other workloads raise the peak */
    uint8_t *buf;
    size_t n;
    /* N-MNIST: all 1,100 real samples concatenated (4.5 M events). */
    if (!want("decode_nmnist")) {
    } else if (access(SHARED "nmnist-small/bin/1.bs2", R_OK) == 0) {
        size_t cap = 0, len = 0;
        uint8_t *all = NULL;
        for (int id = 1; id <= 60100; id++) {
            if (id > 1000 && id <= 60000) continue;
            char p[128];
            snprintf(p, sizeof p, SHARED "nmnist-small/bin/%d.bs2", id);
            if (ds_read_file(p, &buf, &n)) continue;
            if (len + n > cap) {
                cap = (len + n) * 2;
                all = realloc(all, cap);
            }
            memcpy(all + len, buf, n);
            len += n;
            free(buf);
        }
        bench_decode("decode_nmnist", dec_nmnist, all, len);
        free(all);
    } else print_note("decode_nmnist", "skipped", "../shared not found");
    if (!want("decode_aedat2_dvs128")) {
    } else if (ds_read_file(SHARED "dvs128-aedat2/neal_walking.aedat", &buf, &n) == 0) {
        size_t hdr = 0;
        ds_dec_aedat_header(buf, n, 0, "neal", &hdr);
        /* 70k events is too short to time well: repeat the record area 64 times. */
        size_t rec = n - hdr, len = rec * 64;
        uint8_t *big = malloc(len);
        for (int k = 0; k < 64; k++) memcpy(big + (size_t)k * rec, buf + hdr, rec);
        bench_decode("decode_aedat2_dvs128", dec_aedat2, big, len);
        free(big), free(buf);
    } else print_note("decode_aedat2_dvs128", "skipped", "../shared not found");
    size_t len;
    if (want("decode_aedat3_generated")) {
        uint8_t *a3 = gen_aedat3(4000000, &len);
        bench_decode("decode_aedat3_generated", dec_aedat3, a3, len);
        free(a3);
    }
    /* AEDAT 4.0: the real DVXplorer recording, 112k events in 59 LZ4 packets, decoded whole
     * (header, data table, decompression, flatbuffers) per pass. */
    if (!want("decode_aedat4_dvxplorer")) {
    } else if (ds_read_file(SHARED "aedat4-sample/tonic_sample.aedat4", &buf, &n) == 0) {
        bench_decode("decode_aedat4_dvxplorer", dec_aedat4, buf, n);
        free(buf);
    } else print_note("decode_aedat4_dvxplorer", "skipped", "../shared not found");
    if (want("decode_evt3_generated")) {
        uint8_t *e3 = gen_evt(3, 4000000, &len);
        bench_decode("decode_evt3_generated", dec_evt3, e3, len);
        free(e3);
    }
    if (want("decode_evt2_generated")) {
        uint8_t *e2 = gen_evt(2, 4000000, &len);
        bench_decode("decode_evt2_generated", dec_evt2, e2, len);
        free(e2);
    }
    if (want("read_nmnist_1100_files")) bench_read("read_nmnist_1100_files", SHARED "nmnist-small");
    if (want("read_aedat2_file")) bench_read("read_aedat2_file", SHARED "dvs128-aedat2/neal_walking.aedat");
    if (want("read_aedat4_file")) bench_read("read_aedat4_file", SHARED "aedat4-sample/tonic_sample.aedat4");
    if (want("read_evsnn_file") && access(SHARED "nmnist-small/train1K.txt", R_OK) == 0) {
        /* The same 1,000 N-MNIST samples after `data convert` (HDF5, shuffle + deflate). */
        char ev[64];
        snprintf(ev, sizeof ev, "/tmp/evsnn-bench-ev-%ld.h5", (long)getpid());
        int err;
        dataset *d = ds_open(SHARED "nmnist-small/train1K.txt", NULL, &err);
        if (d && ds_convert(d, ev, 1) == 0) bench_read("read_evsnn_file_nmnist1k_deflate1", ev);
        if (d && ds_convert(d, ev, 0) == 0) bench_read("read_evsnn_file_nmnist1k_deflate0", ev);
        ds_free(d);
        unlink(ev);
    }
    if (want("read_shd_half_h5")) bench_shd();
    if (want("bin_dvs128_5ms_4x")) bench_bin();
    return 0;
}
