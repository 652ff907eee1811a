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
        {"seed", required_argument, 0, 0}

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
    "  --seed S                 seed of rate/poisson coding (default 0)\n";

static void usage(FILE *f) {
    fprintf(f,
            "usage: evsnn data info FILE [options] [--max-samples N]\n"
            "       evsnn data convert IN OUT [--deflate 0-9] [options]\n"
            "       evsnn data show FILE [--sample I] -o OUT.png [--binned] [options]\n"
            "\n"
            "info     format, samples, classes, sensor, produced input shape, events, durations and\n"
            "         event rates (JSON on stdout). Scans every selected sample (--max-samples limits it).\n"
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

static void json_str(const char *s) {
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
        else putchar(*s);
    }
    putchar('"');
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
    double pixsum = 0;
    for (uint32_t i = 0; i < scan && !rc; i++) {
        int label = -1;
        int sp = ds_sample_split(d, i);
        ntrain += sp == 0, ntest += sp == 1;
        if (g.kind == DS_KIND_IMAGE) {
            const uint8_t *pix;
            if ((rc = ds_image(d, i, &pix, &label))) break;
            for (uint32_t j = 0; j < c * h * w; j++) pixsum += pix[j];
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
    printf("{\"file\":");
    json_str(path);
    printf(",\"format\":\"%s\",\"kind\":\"%s\",\"samples\":%u,\"scanned\":%u,\"classes\":%u", ds_format_name(d),
           kind_name(g.kind), n, scan, ncls);
    printf(",\"sensor\":{\"width\":%u,\"height\":%u,\"%s\":%u}", g.width, g.height,
           g.kind == DS_KIND_IMAGE ? "channels" : "polarities", g.polarities);
    printf(",\"shape\":[%u,%u,%u],\"steps\":%u", c, h, w, ds_steps(d));
    if (g.kind != DS_KIND_IMAGE)
        printf(",\"dt_us\":%u,\"downsample\":%u,\"exact_bins\":%s", ro->dt_us,
               g.kind == DS_KIND_UNIT ? ro->unit_factor : ro->ds_factor, ro->exact_T ? "true" : "false");
    printf(",\"split\":{\"train\":%u,\"test\":%u,\"none\":%u}", ntrain, ntest, scan - ntrain - ntest);
    printf(",\"labels\":[");
    for (uint32_t k = 0; k < ncls; k++) printf("%s%" PRIu64, k ? "," : "", hist[k]);
    printf("],\"unlabelled\":%u", unl);
    if (g.kind == DS_KIND_IMAGE) {
        printf(",\"pixel_mean\":%.4f", scan ? pixsum / ((double)scan * c * h * w) : 0.0);
    } else if (scan) {
        printf(",\"events\":{\"total\":%" PRIu64 ",\"min\":%" PRIu64 ",\"mean\":%.1f,\"max\":%" PRIu64
               ",\"on_fraction\":%.4f}",
               total, emin == UINT64_MAX ? 0 : emin, (double)total / scan, emax, total ? (double)on / total : 0.0);
        if (total)
            printf(",\"time_range_us\":[%" PRId64 ",%" PRId64 "],\"duration_us\":{\"min\":%.0f,\"mean\":%.1f,"
                   "\"max\":%.0f},\"rate_ev_per_s\":{\"min\":%.1f,\"mean\":%.1f,\"max\":%.1f}",
                   tfirst, tlast, dmin, dsum / scan, dmax, rmin, rsum / scan, rmax);
    }
    const ds_stream *st;
    size_t nst;
    if ((rc = ds_streams(d, &st, &nst))) {
        fprintf(stderr, "evsnn: %s\n", evsnn_errmsg());
        free(hist);
        ds_free(d);
        return rc == EVSNN_ENOMEM ? 1 : 2;
    }
    if (nst) { /* multi-stream recordings: what was decoded, what was skipped and counted */
        printf(",\"streams\":[");
        for (size_t k = 0; k < nst; k++) {
            printf("%s{\"id\":", k ? "," : "");
            if (st[k].id >= 0) printf("%d", st[k].id);
            else printf("null");
            printf(",\"type\":");
            json_str(st[k].type);
            if (st[k].id >= 0) printf(",\"packets\":%" PRIu64, st[k].packets);
            if (st[k].elements >= 0) printf(",\"elements\":%" PRId64, st[k].elements);
            else printf(",\"elements\":null");
            printf(",\"decoded\":%s}", st[k].used ? "true" : "false");
        }
        printf("]");
    }
    printf("}\n");
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
    printf("{\"in\":");
    json_str(in);
    printf(",\"out\":");
    json_str(out);
    printf(",\"format\":\"%s\",\"samples\":%u,\"version\":1}\n", ds_format_name(d), ds_len(d));
    ds_free(d);
    return 0;
}

/* Write the picture's data to a temp file, run gnuplot on a script, rename into place. */
static int data_show(const char *path, const ds_opts *o, uint32_t idx, const char *out, int binned) {
    dataset *d;
    int rc = open_or_fail(&d, path, o);
    if (rc) return rc;
    ds_geometry g;
    ds_sensor(d, &g);
    char dat[] = "/tmp/evsnn-show-XXXXXX";
    int fd = mkstemp(dat);
    if (fd < 0) {
        fprintf(stderr, "evsnn: cannot create a temp file: %s\n", strerror(errno));
        ds_free(d);
        return 1;
    }
    FILE *f = fdopen(fd, "w");
    char title[256];
    int label = -1, raster = 0, rgb = 0;
    uint32_t W = 0, H = 0;
    if (g.kind == DS_KIND_IMAGE && !binned) {
        const uint8_t *pix;
        if ((rc = ds_image(d, idx, &pix, &label))) goto bad;
        W = g.width, H = g.height, rgb = g.polarities == 3;
        for (uint32_t y = 0; y < H; y++) {
            for (uint32_t x = 0; x < W; x++) {
                /* gnuplot's image origin is bottom-left: flip rows so the picture is upright. */
                size_t at = (size_t)(H - 1 - y) * W + x;
                if (rgb) fprintf(f, "%u %u %u %u %u\n", x, y, pix[at], pix[at + W * H], pix[at + 2 * W * H]);
                else fprintf(f, "%u %u %u\n", x, y, pix[at]);
            }
            fprintf(f, "\n");
        }
    } else if (binned) {
        ds_sample s = {0};
        if ((rc = ds_get(d, idx, &s))) goto bad;
        label = s.label;
        uint32_t c, h, w;
        ds_shape(d, &c, &h, &w);
        if (g.kind == DS_KIND_UNIT || (g.kind == DS_KIND_IMAGE && s.static_x)) {
            if (s.static_x) { /* direct images: the injected current */
                W = w, H = h;
                for (uint32_t y = 0; y < h; y++, fprintf(f, "\n"))
                    for (uint32_t x = 0; x < w; x++) fprintf(f, "%u %u %g\n", x, y, s.static_x[(h - 1 - y) * w + x]);
            } else {
                raster = 1;
                for (uint32_t t = 0; t < s.T; t++)
                    for (uint32_t k = s.train.off[t]; k < s.train.off[t + 1]; k++)
                        fprintf(f, "%u %u\n", t, s.train.idx[k]);
            }
        } else {
            /* Sum over steps; polarity 1 (ON) positive, 0 (OFF) negative. */
            double *m = calloc((size_t)h * w, sizeof *m);
            for (uint32_t t = 0; m && t < s.T; t++)
                for (uint32_t k = s.train.off[t]; k < s.train.off[t + 1]; k++) {
                    uint32_t ch = s.train.idx[k], cc = ch / (h * w), r = ch % (h * w);
                    m[r] += (c == 2 && cc == 0 ? -1.0 : 1.0) * spk_val(&s.train, k);
                }
            W = w, H = h;
            for (uint32_t y = 0; m && y < h; y++, fprintf(f, "\n"))
                for (uint32_t x = 0; x < w; x++) fprintf(f, "%u %u %g\n", x, y, m[(size_t)(h - 1 - y) * w + x]);
            free(m);
        }
        ds_sample_deinit(&s);
    } else {
        const ds_event *ev;
        size_t m;
        int64_t t0;
        if ((rc = ds_raw(d, idx, &ev, &m, &t0, &label))) goto bad;
        if (g.kind == DS_KIND_UNIT) {
            raster = 1;
            for (size_t j = 0; j < m; j++) fprintf(f, "%.3f %u\n", (double)(ev[j].t - t0) / 1000.0, ev[j].x);
        } else {
            W = g.width, H = g.height;
            double *fr = calloc((size_t)W * H, sizeof *fr);
            for (size_t j = 0; fr && j < m; j++) fr[(size_t)ev[j].y * W + ev[j].x] += ev[j].p ? 1.0 : -1.0;
            for (uint32_t y = 0; fr && y < H; y++, fprintf(f, "\n"))
                for (uint32_t x = 0; x < W; x++) fprintf(f, "%u %u %g\n", x, y, fr[(size_t)(H - 1 - y) * W + x]);
            free(fr);
        }
    }
    fclose(f);
    f = NULL;
    snprintf(title, sizeof title, "%s sample %u, label %d", ds_format_name(d), idx, label);
    char tmp_png[4096];
    snprintf(tmp_png, sizeof tmp_png, "%s.tmp%ld", out, (long)getpid());
    char script[] = "/tmp/evsnn-show-gp-XXXXXX";
    int sfd = mkstemp(script);
    FILE *sf = sfd >= 0 ? fdopen(sfd, "w") : NULL;
    if (!sf) {
        fprintf(stderr, "evsnn: cannot create a temp file\n");
        unlink(dat);
        ds_free(d);
        return 1;
    }
    fprintf(sf, "set terminal png size 640,600\nset output '%s'\nset title '%s' noenhanced\n", tmp_png, title);
    if (raster)
        fprintf(sf, "set xlabel '%s'\nset ylabel '%s'\nunset key\nplot '%s' using 1:2 with dots lc rgb 'black'\n",
                binned ? "step" : "time (ms)", binned ? "channel" : "unit", dat);
    else if (rgb)
        fprintf(sf, "set size ratio -1\nunset key\nset xrange [-0.5:%u]\nset yrange [-0.5:%u]\n"
                    "plot '%s' using 1:2:3:4:5 with rgbimage\n", W, H, dat);
    else
        fprintf(sf, "set size ratio -1\nunset key\nset xrange [-0.5:%u]\nset yrange [-0.5:%u]\n"
                    "set palette %s\nplot '%s' using 1:2:3 with image\n",
                W, H, g.kind == DS_KIND_IMAGE ? "gray" : "defined (-1 'blue', 0 'white', 1 'red')", dat);
    fclose(sf);
    char cmd[8300];
    snprintf(cmd, sizeof cmd, "gnuplot '%s' 2>&1", script);
    int st = system(cmd);
    unlink(script);
    unlink(dat);
    if (st != 0 || rename(tmp_png, out) != 0) {
        unlink(tmp_png);
        fprintf(stderr, "evsnn: gnuplot failed to write %s (is gnuplot installed?)\n", out);
        ds_free(d);
        return 1;
    }
    printf("{\"file\":");
    json_str(path);
    printf(",\"sample\":%u,\"label\":%d,\"out\":", idx, label);
    json_str(out);
    printf(",\"picture\":\"%s\"}\n", raster ? "raster" : binned ? "binned-frame" : g.kind == DS_KIND_IMAGE ? "image" : "event-frame");
    ds_free(d);
    return 0;
bad:
    if (f) fclose(f);
    unlink(dat);
    fprintf(stderr, "evsnn: %s\n", evsnn_errmsg());
    ds_free(d);
    return rc == EVSNN_ENOMEM ? 1 : 2;
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
        if (!strcmp(name, "max-samples")) {
            if (parse_u32(optarg, &max_samples)) goto badval;
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
