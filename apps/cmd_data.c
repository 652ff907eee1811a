/* apps/cmd_data.c — `evsnn data info|convert|show`: inspect, convert and picture datasets.
 * Also cmd_data_opt(), the dataset/transform options shared with `evsnn run --data`. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps/cmds.h"
#include "apps/gnuplot.h"
#include "apps/json.h"
#include "io/dataset.h"
#include "sim/evsnn.h"

static int parse_u32(const char *s, uint32_t *v) {
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || end == s || *end || x > UINT32_MAX || s[0] == '-') return -1;
    *v = (uint32_t)x;
    return 0;
}

static int parse_i64(const char *s, int64_t *v) {
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || end == s || *end) return -1;
    *v = x;
    return 0;
}

int cmd_data_opt(struct ds_opts *o, const char *opt, const char *arg) {
    uint32_t u;
    if (!strcmp(opt, "split")) {
        if (!strcmp(arg, "train")) o->split = DS_SPLIT_TRAIN;
        else if (!strcmp(arg, "test")) o->split = DS_SPLIT_TEST;
        else if (!strcmp(arg, "all")) o->split = DS_SPLIT_ALL;
        else return -1;
    } else if (!strcmp(opt, "first")) {
        if (parse_u32(arg, &o->first)) return -1;
    } else if (!strcmp(opt, "count")) {
        if (parse_u32(arg, &o->count)) return -1;
    } else if (!strcmp(opt, "dt-us")) {
        if (parse_u32(arg, &o->dt_us) || !o->dt_us) return -1;
    } else if (!strcmp(opt, "steps")) {
        if (parse_u32(arg, &o->T) || !o->T) return -1;
    } else if (!strcmp(opt, "bins")) {
        if (parse_u32(arg, &o->T) || !o->T) return -1;
        o->exact_T = 1;
    } else if (!strcmp(opt, "window-us")) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s", arg);
        char *c = strchr(buf, ':');
        if (!c) return -1;
        *c = 0;
        if (parse_i64(buf, &o->win_start_us) || (c[1] && parse_i64(c + 1, &o->win_end_us))) return -1;
        if (!c[1]) o->win_end_us = 0;
    } else if (!strcmp(opt, "downsample")) {
        if (parse_u32(arg, &o->ds_factor) || !o->ds_factor) return -1;
    } else if (!strcmp(opt, "pool")) {
        if (!strcmp(arg, "sum")) o->pool = DS_POOL_SUM;
        else if (!strcmp(arg, "or")) o->pool = DS_POOL_OR;
        else return -1;
    } else if (!strcmp(opt, "polarity")) {
        if (!strcmp(arg, "split")) o->pol = DS_POL_SPLIT;
        else if (!strcmp(arg, "merge")) o->pol = DS_POL_MERGE;
        else return -1;
    } else if (!strcmp(opt, "denoise-us")) {
        if (parse_u32(arg, &o->denoise_us)) return -1;
    } else if (!strcmp(opt, "unit-factor")) {
        if (parse_u32(arg, &o->unit_factor) || !o->unit_factor) return -1;
    } else if (!strcmp(opt, "encoding")) {
        if (!strcmp(arg, "direct")) o->enc = DS_ENC_DIRECT;
        else if (!strcmp(arg, "rate")) o->enc = DS_ENC_RATE;
        else if (!strcmp(arg, "poisson")) o->enc = DS_ENC_POISSON;
        else if (!strcmp(arg, "latency")) o->enc = DS_ENC_LATENCY;
        else return -1;
    } else if (!strcmp(opt, "gain")) {
        char *end;
        double g = strtod(arg, &end);
        if (end == arg || *end || !(g > 0) || g > 1e6) return -1;
        o->gain = (float)g;
    } else if (!strcmp(opt, "labels")) {
        o->labels = arg;
    } else if (!strcmp(opt, "format")) {
        if (strcmp(arg, "aedat1")) return -1;
        o->format = arg;
    } else if (!strcmp(opt, "seed")) {
        char *end;
        errno = 0;
        unsigned long long s = strtoull(arg, &end, 10);
        if (errno || end == arg || *end) return -1;
        o->seed = s;
    } else {
        (void)u;
        return 1;
    }
    return 0;
}

#define DATA_LONG_OPTS                                                                                   \
    {"split", required_argument, 0, 0}, {"first", required_argument, 0, 0},                              \
        {"count", required_argument, 0, 0}, {"dt-us", required_argument, 0, 0},                          \
        {"steps", required_argument, 0, 0}, {"bins", required_argument, 0, 0},                           \
        {"window-us", required_argument, 0, 0}, {"downsample", required_argument, 0, 0},                 \
        {"pool", required_argument, 0, 0}, {"polarity", required_argument, 0, 0},                        \
        {"denoise-us", required_argument, 0, 0}, {"unit-factor", required_argument, 0, 0},              \
        {"encoding", required_argument, 0, 0}, {"gain", required_argument, 0, 0},                        \
        {"seed", required_argument, 0, 0}, {"labels", required_argument, 0, 0},                          \
        {"format", required_argument, 0, 0}

const char *cmd_data_opts_help =
    "Dataset options (also accepted by `evsnn run --data FILE`):\n"
    "  --split train|test|all   part of a dataset that has one (default all)\n"
    "  --first N --count N      sample range within the split\n"
    "  --dt-us US               bin width in µs (default: DVS128 5000, N-MNIST 3400, SHD 14000)\n"
    "  --steps T                number of steps (default 100)\n"
    "  --bins T                 exactly T bins over each sample's span (instead of --dt-us)\n"
    "  --window-us A:B          keep events in [A, B) µs after the sample origin (B empty = no end)\n"
    "  --downsample F           spatial factor (default 4 on DVS128 → 32×32, else 1)\n"
    "  --pool sum|or            event counts (sum, default) or binary (or)\n"
    "  --polarity split|merge   2 polarity channels (default) or 1\n"
    "  --denoise-us US          drop events without a 4-neighbour event within US µs\n"
    "  --unit-factor F          SHD/SSC channel downsampling (700 → ceil(700/F))\n"
    "  --encoding direct|rate|poisson|latency  static images (default direct)\n"
    "  --gain G                 rate/poisson: expected spikes per step at full intensity (default 1)\n"
    "  --seed S                 seed of rate/poisson coding (default 0)\n"
    "  --labels FILE            labels of an IDX or .npy array: a 1-D integer .npy or an IDX labels\n"
    "                           file (default: *labels-idx1* / <stem>_labels.npy / y_*.npy beside it)\n"
    "  --format aedat1          read a headerless jAER AEDAT 1.0 recording (it has no magic to detect)\n";

static void usage(FILE *f) {
    fprintf(f,
            "usage: evsnn data info FILE [options] [--count N]\n"
            "       evsnn data convert IN OUT [--deflate 0-9] [options]\n"
            "       evsnn data show FILE [--sample I] -o OUT.png [--binned] [options]\n"
            "\n"
            "info     format, samples, classes, sensor, produced input shape, events, durations and\n"
            "         event rates (JSON on stdout). Scans every selected sample (--count N: the first N).\n"
            "convert  write the selected samples' raw events to an evsnn event file (HDF5, io/README.md)\n"
            "         so that a dataset is decoded once; temp file + rename, nothing half-written.\n"
            "         --deflate L: compression 0 (none, fastest to read) .. 9; default 1.\n"
            "show     picture one sample with gnuplot: DVS/N-MNIST event-count frame (ON − OFF),\n"
            "         SHD raster (time × unit), or the image; --binned pictures the transformed train.\n"
            "\n"
            "FILE is any supported dataset: IDX (.gz) images or a folder of them ('fashion-mnist' finds\n"
            "/usr/share/datasets/fashion-mnist/), an N-MNIST list file / folder / .bin, AEDAT 1.0/2.0/3.1/4.0\n"
            "(with *_labels.csv) or a folder of them, a Prophesee EVT 2.0/3.0 RAW file, SHD/SSC HDF5,\n"
            "DVS128 Gesture HDF5, SVHN .mat, an evsnn event file. For AEDAT 4.0 and RAW, info also lists\n"
            "the streams: events decoded; frames, IMU, triggers skipped and counted.\n\n%s"
            "\nExit status: 0 ok, 1 runtime failure (e.g. gnuplot failed), 2 bad usage or bad input.\n",
            cmd_data_opts_help);
}

static int open_or_fail(dataset **d, const char *path, const ds_opts *o) {
    int err;
    *d = ds_open(path, o, &err);
    if (!*d) {
        fprintf(stderr, "evsnn: %s\n", evsnn_errmsg());
        return err == EVSNN_ENOMEM || err == EVSNN_EIO ? (err == EVSNN_EIO ? 2 : 1) : 2;
    }
    return 0;
}

static const char *kind_name(ds_kind k) { return k == DS_KIND_XY ? "xy" : k == DS_KIND_UNIT ? "unit" : "image"; }

static int data_info(const char *path, const ds_opts *o, uint32_t max_samples) {
    dataset *d;
    int rc = open_or_fail(&d, path, o);
    if (rc) return rc;
    ds_geometry g;
    ds_sensor(d, &g);
    uint32_t c, h, w, n = ds_len(d), ncls = ds_n_classes(d);
    ds_shape(d, &c, &h, &w);
    const ds_opts *ro = ds_get_opts(d);
    uint32_t scan = max_samples && max_samples < n ? max_samples : n;
    uint64_t *hist = calloc(ncls + 1, sizeof *hist);
    uint32_t ntrain = 0, ntest = 0, unl = 0;
    uint64_t total = 0, emin = UINT64_MAX, emax = 0, on = 0;
    double dsum = 0, dmin = INFINITY, dmax = 0, rsum = 0, rmin = INFINITY, rmax = 0;
    int64_t tfirst = INT64_MAX, tlast = INT64_MIN;
    double vsum = 0, vmin = INFINITY, vmax = -INFINITY;
    for (uint32_t i = 0; i < scan && !rc; i++) {
        int label = -1;
        int sp = ds_sample_split(d, i);
        ntrain += sp == 0, ntest += sp == 1;
        if (g.kind == DS_KIND_IMAGE) {
            const float *x;
            if ((rc = ds_values(d, i, &x, &label))) break;
            for (uint32_t j = 0; j < c * h * w; j++) {
                vsum += x[j];
                if (x[j] < vmin) vmin = x[j];
                if (x[j] > vmax) vmax = x[j];
            }
        } else {
            const ds_event *ev;
            size_t m;
            int64_t t0;
            if ((rc = ds_raw(d, i, &ev, &m, &t0, &label))) break;
            total += m;
            if (m < emin) emin = m;
            if (m > emax) emax = m;
            for (size_t j = 0; j < m; j++) on += ev[j].p;
            if (m) {
                if (ev[0].t < tfirst) tfirst = ev[0].t;
                if (ev[m - 1].t > tlast) tlast = ev[m - 1].t;
                double dur = (double)(ev[m - 1].t - t0);
                if (dur < 1) dur = 1;
                double rate = (double)m / (dur * 1e-6);
                dsum += dur, rsum += rate;
                if (dur < dmin) dmin = dur;
                if (dur > dmax) dmax = dur;
                if (rate < rmin) rmin = rate;
                if (rate > rmax) rmax = rate;
            }
        }
        if (label >= 0 && (uint32_t)label < ncls) hist[label]++;
        else unl++;
    }
    if (rc) {
        fprintf(stderr, "evsnn: %s\n", evsnn_errmsg());
        free(hist);
        ds_free(d);
        return rc == EVSNN_ENOMEM ? 1 : 2;
    }
    json_t *js = json_object();
    jset(js, "file", jstr(path));
    jset(js, "format", jstr(ds_format_name(d)));
    jset(js, "kind", jstr(kind_name(g.kind)));
    jset(js, "samples", jint(n));
    jset(js, "scanned", jint(scan));
    jset(js, "classes", jint(ncls));
    json_t *sen = json_object();
    jset(sen, "width", jint(g.width));
    jset(sen, "height", jint(g.height));
    jset(sen, g.kind == DS_KIND_IMAGE ? "channels" : "polarities", jint(g.polarities));
    jset(js, "sensor", sen);
    const uint32_t shape[3] = {c, h, w};
    jset(js, "shape", ju32s(shape, 3));
    jset(js, "steps", jint(ds_steps(d)));
    if (g.kind != DS_KIND_IMAGE) {
        jset(js, "dt_us", jint(ro->dt_us));
        jset(js, "downsample", jint(g.kind == DS_KIND_UNIT ? ro->unit_factor : ro->ds_factor));
        jset(js, "exact_bins", json_boolean(ro->exact_T));
    }
    json_t *sp = json_object();
    jset(sp, "train", jint(ntrain));
    jset(sp, "test", jint(ntest));
    jset(sp, "none", jint(scan - ntrain - ntest));
    jset(js, "split", sp);
    jset(js, "class_counts", ju64s(hist, ncls)); /* samples per class, class 0 first */
    jset(js, "unlabelled", jint(unl));
    if (g.kind == DS_KIND_IMAGE) {
        const double mean = scan ? vsum / ((double)scan * c * h * w) : NAN;
        jset(js, "value_type", jstr(ds_value_type(d)));
        if (!strcmp(ds_value_type(d), "uint8")) jset(js, "pixel_mean", jnum(255 * mean));
        if (scan) {
            json_t *v = json_object();
            jset(v, "min", jnum(vmin));
            jset(v, "mean", jnum(mean));
            jset(v, "max", jnum(vmax));
            jset(js, "values", v);
        }
    } else if (scan) {
        json_t *e = json_object();
        jset(e, "total", jint((long long)total));
        jset(e, "min", jint(emin == UINT64_MAX ? 0 : (long long)emin));
        jset(e, "mean", jnum((double)total / scan));
        jset(e, "max", jint((long long)emax));
        jset(e, "on_fraction", total ? jnum((double)on / total) : json_null());
        jset(js, "events", e);
        if (total) {
            jset(js, "time_range_us", json_pack("[II]", (json_int_t)tfirst, (json_int_t)tlast));
            json_t *du = json_object(), *ra = json_object();
            jset(du, "min", jnum(dmin));
            jset(du, "mean", jnum(dsum / scan));
            jset(du, "max", jnum(dmax));
            jset(js, "duration_us", du);
            jset(ra, "min", jnum(rmin));
            jset(ra, "mean", jnum(rsum / scan));
            jset(ra, "max", jnum(rmax));
            jset(js, "rate_ev_per_s", ra);
        }
    }
    const ds_stream *st;
    size_t nst;
    if ((rc = ds_streams(d, &st, &nst))) {
        fprintf(stderr, "evsnn: %s\n", evsnn_errmsg());
        json_decref(js);
        free(hist);
        ds_free(d);
        return rc == EVSNN_ENOMEM ? 1 : 2;
    }
    if (nst) { /* multi-stream recordings: what was decoded, what was skipped and counted */
        json_t *a = json_array();
        for (size_t k = 0; k < nst; k++) {
            json_t *x = json_object();
            jset(x, "id", st[k].id >= 0 ? jint(st[k].id) : json_null());
            jset(x, "type", jstr(st[k].type));
            if (st[k].id >= 0) jset(x, "packets", jint((long long)st[k].packets));
            jset(x, "elements", st[k].elements >= 0 ? jint(st[k].elements) : json_null());
            jset(x, "decoded", json_boolean(st[k].used));
            json_array_append_new(a, x);
        }
        jset(js, "streams", a);
    }
    jprint(stdout, js);
    free(hist);
    ds_free(d);
    return 0;
}

static int data_convert(const char *in, const char *out, const ds_opts *o, int level) {
    dataset *d;
    int rc = open_or_fail(&d, in, o);
    if (rc) return rc;
    rc = ds_convert(d, out, level);
    if (rc) {
        fprintf(stderr, "evsnn: %s\n", evsnn_errmsg());
        ds_free(d);
        return rc == EVSNN_ENOMEM || rc == EVSNN_EIO ? 1 : 2;
    }
    json_t *js = json_object();
    jset(js, "in", jstr(in));
    jset(js, "out", jstr(out));
    jset(js, "format", jstr(ds_format_name(d)));
    jset(js, "samples", jint(ds_len(d)));
    jset(js, "format_version", jint(DS_EVENTS_FORMAT_VERSION));
    jprint(stdout, js);
    ds_free(d);
    return 0;
}

/* A frame (H×W values, row 0 at the top as the sensor and image files have it) as a
 * datablock of "x y v" rows. */
static void frame_block(gp_text *t, const char *name, const double *v, uint32_t W, uint32_t H) {
    gp_printf(t, "$%s << EOD\n", name);
    for (uint32_t y = 0; y < H; y++, gp_printf(t, "\n"))
        for (uint32_t x = 0; x < W; x++) gp_printf(t, "%u %u %.9g\n", x, y, v[(size_t)y * W + x]);
    gp_printf(t, "EOD\n");
}

/* Axes of a W×H picture in pixel coordinates, no empty strip past the last pixel; y grows
 * downwards (images, N-MNIST, AEDAT 3.1/4.0, RAW) or upwards (jAER's AEDAT 1.0/2.0 DVS128,
 * whose row 0 is the bottom one). */
static void frame_axes(gp_text *t, uint32_t W, uint32_t H, const char *what, int y_up) {
    gp_printf(t, "set size ratio -1\nunset key\nset xrange [-0.5:%u.5]\n", W - 1);
    if (y_up) gp_printf(t, "set yrange [-0.5:%u.5]\n", H - 1);
    else gp_printf(t, "set yrange [%u.5:-0.5]\n", H - 1);
    gp_printf(t, "set xlabel '%s x'\nset ylabel '%s y%s'\nset tics out\n", what, what, y_up ? " (up)" : "");
}

/* Palette: diverging and centred on zero when values of both signs can occur, else grey. */
static void frame_palette(gp_text *t, double lo, double hi, int signed_values, const char *cblabel) {
    char q[512];
    if (signed_values) {
        double m = fabs(lo) > fabs(hi) ? fabs(lo) : fabs(hi);
        if (!(m > 0)) m = 1;
        gp_printf(t, "set palette defined (-1 '#2166ac', 0 'white', 1 '#b2182b')\nset cbrange [%.9g:%.9g]\n", -m, m);
    } else {
        gp_printf(t, "set palette gray\nset cbrange [%.9g:%.9g]\n", lo, hi > lo ? hi : lo + 1);
    }
    gp_printf(t, "set cblabel %s\n", gnuplot_str(q, sizeof q, cblabel));
}

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s && s[1] ? s + 1 : p;
}

/* Picture one sample: an event-count frame (ON − OFF, palette centred on zero), a raster
 * (time × unit), an image, or with --binned the transformed train: event data as frames
 * summed over groups of steps (one panel per group), unit data as a step × channel raster,
 * direct-coded images as the injected current. */
/* An image sample as gnuplot commands into sc (*mp: the buffer it used, the caller frees). */
static int show_image(dataset *d, uint32_t idx, const char *path, const char *fmt, gp_text *sc, double **mp, char *title,
                      size_t tcap, int *label, const char **picture) {
    int rc;
    uint32_t c, h, w;
    ds_shape(d, &c, &h, &w);
    const int u8 = !strcmp(ds_value_type(d), "uint8");
    const uint8_t *pix = NULL;
    const float *x = NULL;
    rc = u8 ? ds_image(d, idx, &pix, label) : ds_values(d, idx, &x, label);
    if (rc) return rc;
    if (u8 && c == 3) { /* colour image */
        gp_printf(sc, "$img << EOD\n");
        for (uint32_t y = 0; y < h; y++, gp_printf(sc, "\n"))
            for (uint32_t xx = 0; xx < w; xx++) {
                const size_t at = (size_t)y * w + xx, pl = (size_t)w * h;
                gp_printf(sc, "%u %u %u %u %u\n", xx, y, pix[at], pix[at + pl], pix[at + 2 * pl]);
            }
        gp_printf(sc, "EOD\n");
        frame_axes(sc, w, h, "pixel", 0);
        gp_printf(sc, "plot $img using 1:2:3:4:5 with rgbimage\n");
    } else {
        /* one channel (the first of several for real-valued arrays) */
        double *m = *mp = calloc((size_t)w * h, sizeof *m);
        if (!m) return evsnn_seterr(EVSNN_ENOMEM, "no memory");
        double lo = INFINITY, hi = -INFINITY;
        for (size_t j = 0; j < (size_t)w * h; j++) {
            m[j] = u8 ? pix[j] : x[j];
            if (m[j] < lo) lo = m[j];
            if (m[j] > hi) hi = m[j];
        }
        frame_block(sc, "img", m, w, h);
        frame_axes(sc, w, h, h == 1 ? "feature" : "pixel", 0);
        char cbl[96];
        if (u8) snprintf(cbl, sizeof cbl, "pixel value (0-255)");
        else snprintf(cbl, sizeof cbl, "%s value%s", ds_value_type(d), c > 1 ? ", channel 0" : "");
        if (u8) frame_palette(sc, 0, 255, 0, cbl);
        else frame_palette(sc, lo, hi, lo < 0 && hi > 0, cbl);
        gp_printf(sc, "plot $img using 1:2:3 with image\n");
    }
    *picture = "image";
    snprintf(title, tcap, "%s: sample %u (%s, %u×%u×%u %s)", base_name(path), idx, fmt, c, h, w,
             ds_value_type(d));
    return 0;
}

/* A binned event sample as frames: gnuplot commands into sc (*mp: the buffer it used, the
 * caller frees). */
static int show_frames(const ds_sample *s, uint32_t c, uint32_t h, uint32_t w, const ds_opts *ro, int y_up, const char *path,
                       uint32_t idx, gp_text *sc, double **mp, char *title, size_t tcap, const char **picture,
                       uint32_t *size_w, uint32_t *size_h) {
    /* Event frames after the transforms, summed over groups of steps: one panel each,
     * so the binning (dt, window, downsampling, polarity) is what the picture shows. */
    const uint32_t P = s->T < 8 ? s->T : 8, per = (s->T + P - 1) / P;
    double *m = *mp = calloc((size_t)P * h * w, sizeof *m);
    if (!m) return evsnn_seterr(EVSNN_ENOMEM, "no memory");
    double lo = 0, hi = 0;
    for (uint32_t t = 0; t < s->T; t++)
        for (uint32_t k = s->train.off[t]; k < s->train.off[t + 1]; k++) {
            const uint32_t ch = s->train.idx[k], cc = ch / (h * w), r = ch % (h * w);
            double *v = &m[(size_t)(t / per) * h * w + r];
            *v += (c == 2 && cc == 0 ? -1.0 : 1.0) * spk_val(&s->train, k);
            lo = *v < lo ? *v : lo, hi = *v > hi ? *v : hi;
        }
    for (uint32_t p = 0; p < P; p++) {
        char nm[16];
        snprintf(nm, sizeof nm, "p%u", p);
        frame_block(sc, nm, m + (size_t)p * h * w, w, h);
    }
    gp_printf(sc, "set multiplot layout %u,%u margins 0.05,0.88,0.1,0.88 spacing 0.06,0.16\n", P > 4 ? 2 : 1,
              P > 4 ? (P + 1) / 2 : P);
    gp_printf(sc, "set colorbox user origin screen 0.92,0.25 size screen 0.015,0.5\n");
    frame_axes(sc, w, h, "input", y_up);
    frame_palette(sc, lo, hi, c == 2, c == 2 ? "ON minus OFF events" : "events");
    for (uint32_t p = 0; p < P; p++) {
        const uint32_t a = p * per, b2 = (p + 1) * per < s->T ? (p + 1) * per : s->T;
        gp_printf(sc, "set title 'steps %u-%u (%.1f-%.1f ms)'\n%s\nplot $p%u using 1:2:3 with image\n", a, b2 - 1,
                  a * ro->dt_us / 1000.0, b2 * ro->dt_us / 1000.0, p == P - 1 ? "set colorbox" : "unset colorbox", p);
    }
    gp_printf(sc, "unset multiplot\n");
    *picture = "binned-frames";
    *size_w = 1200, *size_h = P > 4 ? 720 : 420;
    snprintf(title, tcap, "%s: sample %u, binned to %u steps of %u µs on %u×%u×%u (%u events)", base_name(path),
             idx, s->T, ro->dt_us, c, h, w, s->train.nnz);
    return 0;
}

static int data_show(const char *path, const ds_opts *o, uint32_t idx, const char *out, int binned) {
    dataset *d;
    int rc = open_or_fail(&d, path, o);
    if (rc) return rc;
    ds_geometry g;
    ds_sensor(d, &g);
    const ds_opts *ro = ds_get_opts(d);
    gp_text sc = {0};
    char q[4200], title[1024], lab[64];
    int label = -1;
    const char *picture = "";
    const char *fmt = ds_format_name(d);
    const int y_up = !strncmp(fmt, "aedat1", 6) || !strncmp(fmt, "aedat2", 6);
    uint32_t size_w = 720, size_h = 640;
    double *m = NULL;
    if ((rc = gnuplot_check_name(path, path))) goto bad;
    if (g.kind == DS_KIND_IMAGE && !binned) {
        if ((rc = show_image(d, idx, path, fmt, &sc, &m, title, sizeof title, &label, &picture))) goto bad;
    } else if (!binned) {
        const ds_event *ev;
        size_t n;
        int64_t t0;
        if ((rc = ds_raw(d, idx, &ev, &n, &t0, &label))) goto bad;
        const double span_ms = n ? (double)(ev[n - 1].t - t0) / 1000.0 : 0;
        if (g.kind == DS_KIND_UNIT) {
            gp_printf(&sc, "$ev << EOD\n");
            for (size_t j = 0; j < n; j++) gp_printf(&sc, "%.3f %u\n", (double)(ev[j].t - t0) / 1000.0, ev[j].x);
            gp_printf(&sc, "EOD\nunset key\nset xlabel 'time since the sample start (ms)'\nset ylabel 'unit (channel)'\n"
                           "set yrange [-0.5:%u.5]\nset grid\nplot $ev using 1:2 with points pt 7 ps 0.25 lc rgb 'black'\n",
                      g.width - 1);
            picture = "raster";
            size_w = 900, size_h = 560;
        } else {
            const uint32_t W = g.width, H = g.height;
            m = calloc((size_t)W * H, sizeof *m);
            if (!m) { rc = evsnn_seterr(EVSNN_ENOMEM, "no memory"); goto bad; }
            for (size_t j = 0; j < n; j++) m[(size_t)ev[j].y * W + ev[j].x] += ev[j].p ? 1.0 : -1.0;
            double lo = 0, hi = 0;
            for (size_t j = 0; j < (size_t)W * H; j++) lo = m[j] < lo ? m[j] : lo, hi = m[j] > hi ? m[j] : hi;
            frame_block(&sc, "fr", m, W, H);
            frame_axes(&sc, W, H, "sensor", y_up);
            frame_palette(&sc, lo, hi, 1, "ON minus OFF events per pixel");
            gp_printf(&sc, "plot $fr using 1:2:3 with image\n");
            picture = "event-frame";
        }
        snprintf(title, sizeof title, "%s: sample %u (%s, %zu events in %.1f ms)", base_name(path), idx, fmt, n, span_ms);
    } else {
        ds_sample s = {0};
        if ((rc = ds_get(d, idx, &s))) goto bad;
        label = s.label;
        uint32_t c, h, w;
        ds_shape(d, &c, &h, &w);
        if (s.static_x) { /* direct images: the current injected at every step */
            m = calloc((size_t)w * h, sizeof *m);
            double lo = INFINITY, hi = -INFINITY;
            for (size_t j = 0; m && j < (size_t)w * h; j++) {
                m[j] = s.static_x[j];
                lo = m[j] < lo ? m[j] : lo, hi = m[j] > hi ? m[j] : hi;
            }
            if (m) {
                frame_block(&sc, "cur", m, w, h);
                frame_axes(&sc, w, h, "input", y_up);
                frame_palette(&sc, lo < 0 ? lo : 0, hi, lo < 0 && hi > 0, "input current per step (direct coding)");
                gp_printf(&sc, "plot $cur using 1:2:3 with image\n");
            }
            picture = "binned-current";
            snprintf(title, sizeof title, "%s: sample %u as injected, the same current at each of %u steps", base_name(path),
                     idx, s.T);
        } else if (g.kind == DS_KIND_UNIT || h * w == 1 || g.kind == DS_KIND_IMAGE) {
            gp_printf(&sc, "$ev << EOD\n");
            for (uint32_t t = 0; t < s.T; t++)
                for (uint32_t k = s.train.off[t]; k < s.train.off[t + 1]; k++)
                    gp_printf(&sc, "%u %u %g\n", t, s.train.idx[k], spk_val(&s.train, k));
            gp_printf(&sc, "EOD\nunset key\nset xrange [-0.5:%u.5]\nset yrange [-0.5:%u.5]\nset grid\n", s.T - 1,
                      s.train.n - 1);
            if (g.kind == DS_KIND_IMAGE) gp_printf(&sc, "set xlabel 'step'\n");
            else gp_printf(&sc, "set xlabel 'step (%u µs each)'\n", ro->dt_us);
            gp_printf(&sc, "set ylabel 'input channel'\nplot $ev using 1:2 with points pt 5 ps 0.3 lc rgb 'black'\n");
            picture = "binned-raster";
            size_w = 900, size_h = 560;
            snprintf(title, sizeof title, "%s: sample %u, binned: %u steps × %u channels, %u events", base_name(path), idx,
                     s.T, s.train.n, s.train.nnz);
        } else {
            rc = show_frames(&s, c, h, w, ro, y_up, path, idx, &sc, &m, title, sizeof title, &picture, &size_w, &size_h);
            if (rc) { ds_sample_deinit(&s); goto bad; }
        }
        ds_sample_deinit(&s);
    }
    if (label >= 0) snprintf(lab, sizeof lab, ", class %d", label);
    else snprintf(lab, sizeof lab, ", unlabelled");
    strncat(title, lab, sizeof title - strlen(title) - 1);
    /* the title goes first (multiplot takes its own) */
    gp_text full = {0};
    if (!strcmp(picture, "binned-frames")) {
        char *mp = strstr(sc.s, "set multiplot layout");
        gp_printf(&full, "%.*sset multiplot title %s layout%s", (int)(mp - sc.s), sc.s, gnuplot_str(q, sizeof q, title),
                  mp + strlen("set multiplot layout"));
    } else
        gp_printf(&full, "set title %s\n%s", gnuplot_str(q, sizeof q, title), sc.s ? sc.s : "");
    char size[32];
    snprintf(size, sizeof size, "%u,%u", size_w, size_h);
    rc = sc.oom || full.oom ? evsnn_seterr(EVSNN_ENOMEM, "no memory for the picture") : gnuplot_png(out, size, full.s, NULL);
    free(full.s);
    if (rc) goto bad;
    free(sc.s);
    free(m);
    json_t *js = json_object();
    jset(js, "file", jstr(path));
    jset(js, "sample", jint(idx));
    jset(js, "label", label >= 0 ? jint(label) : json_null());
    jset(js, "out", jstr(out));
    jset(js, "picture", jstr(picture));
    jprint(stdout, js);
    ds_free(d);
    return 0;
bad:
    free(sc.s);
    free(m);
    fprintf(stderr, "evsnn: %s\n", evsnn_errmsg());
    ds_free(d);
    return rc == EVSNN_ENOMEM || rc == EVSNN_EIO ? 1 : 2;
}

int cmd_data(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "info") && strcmp(sub, "convert") && strcmp(sub, "show")) {
        fprintf(stderr, "evsnn data: '%s' is not info, convert or show (see 'evsnn data --help')\n", sub);
        return 2;
    }
    static const struct option longopts[] = {DATA_LONG_OPTS,
                                              {"max-samples", required_argument, 0, 0},
                                              {"sample", required_argument, 0, 0},
                                              {"binned", no_argument, 0, 0},
                                              {"deflate", required_argument, 0, 0},
                                              {"output", required_argument, 0, 'o'},
                                              {"help", no_argument, 0, 'h'},
                                              {0, 0, 0, 0}};
    ds_opts o;
    ds_opts_default(&o);
    uint32_t max_samples = 0, sample = 0;
    int binned = 0;
    uint32_t level = 1;
    const char *out = NULL;
    optind = 1;
    int li, ch;
    while ((ch = getopt_long(argc - 1, argv + 1, "ho:", longopts, &li)) != -1) {
        if (ch == 'h') {
            usage(stdout);
            return 0;
        }
        if (ch == 'o') {
            out = optarg;
            continue;
        }
        if (ch != 0) {
            fprintf(stderr, "evsnn data: bad option (see 'evsnn data --help')\n");
            return 2;
        }
        const char *name = longopts[li].name;
        if (!strcmp(name, "max-samples")) { /* the older name of --count */
            if (parse_u32(optarg, &max_samples) || !max_samples) goto badval;
            o.count = max_samples;
        } else if (!strcmp(name, "sample")) {
            if (parse_u32(optarg, &sample)) goto badval;
        } else if (!strcmp(name, "deflate")) {
            if (parse_u32(optarg, &level) || level > 9) goto badval;
        } else if (!strcmp(name, "binned")) {
            binned = 1;
        } else if (cmd_data_opt(&o, name, optarg)) {
            goto badval;
        }
        continue;
    badval:
        fprintf(stderr, "evsnn data: --%s '%s': bad value (see 'evsnn data --help')\n", name, optarg);
        return 2;
    }
    int npos = argc - 1 - optind;
    char **pos = argv + 1 + optind;
    if (!strcmp(sub, "info")) {
        if (npos != 1) return fprintf(stderr, "evsnn data info: expected one FILE\n"), 2;
        return data_info(pos[0], &o, max_samples);
    }
    if (!strcmp(sub, "convert")) {
        if (npos != 2) return fprintf(stderr, "evsnn data convert: expected IN OUT\n"), 2;
        return data_convert(pos[0], pos[1], &o, (int)level);
    }
    if (npos != 1 || !out) return fprintf(stderr, "evsnn data show: expected FILE and -o OUT.png\n"), 2;
    return data_show(pos[0], &o, sample, out, binned);
}
