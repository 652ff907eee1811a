/* apps/cmd_replay.c — `evsnn replay FILE --to HOST:PORT`: stream a recording's samples to
 * `evsnn serve` as evsnn frames (io/LIVE.md), one explicit window per sample, and score the
 * predictions that come back against the labels; or (--wire aedat4) send an AEDAT 4.0
 * recording as DV's network output does (header, then packets, no data table) and print
 * the server's tumbling windows. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "apps/cmds.h"
#include "apps/json.h"
#include "io/aedat4.h"
#include "io/dataset.h"
#include "io/live_frame.h"
#include "sim/evsnn.h"

static const char *usage_text =
    "usage: evsnn replay FILE --to HOST:PORT [--speed 1.0|max] [--split S] [--first N] [--count N]\n"
    "                    [--dt-us US] [--steps T] [--window-us A:B] [--quiet]\n"
    "       evsnn replay FILE.aedat4 --wire aedat4 --to HOST:PORT [--speed 1.0|max] [--quiet]\n"
    "\n"
    "Stream the samples of a recording (any dataset evsnn reads with events: N-MNIST, AEDAT,\n"
    "SHD, evsnn's own event file) to a running 'evsnn serve'. Each sample is sent as one\n"
    "explicit window (WINDOW frame, the sample's raw events, FLUSH), so the server bins it\n"
    "exactly as offline inference bins the sample from its origin: the predictions equal\n"
    "those of the same model run on the same samples offline.\n"
    "\n"
    "Prints one JSON line per prediction {\"sample\",\"label\",\"class\",\"correct\",\"latency_us\",...}\n"
    "and a summary {\"samples\",\"accuracy\",\"events_sent\",\"events_per_s\",...}.\n"
    "\n"
    "  --to HOST:PORT      the server's TCP stream address (required)\n"
    "  --speed X|max       1.0 (default): real time; 2: twice as fast; max: as fast as the\n"
    "                      server takes it (TCP back-pressure paces the sender)\n"
    "  --split S           train | test | all (default all)\n"
    "  --first N --count N sample range\n"
    "  --dt-us US          bin width sent in the HELLO (default: the format's: N-MNIST 3400,\n"
    "                      DVS128 5000, SHD 14000)\n"
    "  --steps T           steps per sample (default 100); must equal the server's --steps\n"
    "  --window-us A:B     events in [A, B) µs after each sample's origin\n"
    "  --quiet             only the summary line\n"
    "  --wire frames|aedat4  frames (default): evsnn frames as above, any recording;\n"
    "                      aedat4: the AEDAT 4.0 file's own bytes as DV's network output sends\n"
    "                      them (header with dataTablePosition -1, then every packet, no data\n"
    "                      table), paced by the event packets' timestamps. The server bins\n"
    "                      them with its --dt into tumbling windows from the first event; one\n"
    "                      line per window (the server's result) and a summary are printed.\n"
    "                      Dataset options do not apply.\n"
    "\nExit status: 0 ok, 1 connection or server failure, 2 bad usage or bad input.\n";

typedef struct {
    int fd;
    uint32_t n, got, correct;
    int *label, *cls;
    uint64_t lat_sum;
    int quiet, failed;
    char error[512];
} reader_state;

/* A number field of a result line (-1 when absent or not a number). */
static double field(const json_t *o, const char *key) {
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : -1;
}

/* The server's next result line, parsed (its greeting skipped): 1 a line (*doc, to release),
 * 0 the end of the stream, -1 an error line or a line that is not a JSON object (copied into
 * err). */
static int next_result(FILE *f, char **line, size_t *cap, int *first, json_t **doc, char *err, size_t errcap) {
    ssize_t len;
    while ((len = getline(line, cap, f)) > 0) {
        if (*first) {
            *first = 0;
            continue;
        }
        json_error_t je;
        json_t *o = json_loadb(*line, (size_t)len, 0, &je);
        if (!json_is_object(o) || json_object_get(o, "error")) {
            const json_t *e = json_object_get(o, "error");
            if (json_is_string(e)) snprintf(err, errcap, "%s", json_string_value(e));
            else if (o) snprintf(err, errcap, "%.*s", (int)strcspn(*line, "\n"), *line);
            else snprintf(err, errcap, "not a JSON result line (%s): %.*s", je.text, (int)strcspn(*line, "\n"), *line);
            json_decref(o);
            return -1;
        }
        *doc = o;
        return 1;
    }
    return 0;
}

/* Every result line of the stream on fd (a duplicate of it is read) to on(line, ctx) until
 * it returns nonzero or the stream ends: 0, or -1 after an error line (copied into err) or
 * when the stream cannot be read. The reader threads run this while the main thread sends
 * (the server must never wait on us). */
static int each_result(int fd, int (*on)(const json_t *o, void *ctx), void *ctx, char *err, size_t errcap) {
    FILE *f = fdopen(dup(fd), "r");
    if (!f) return snprintf(err, errcap, "cannot read the server's lines: %s", strerror(errno)), -1;
    char *line = NULL;
    size_t cap = 0;
    int first = 1, k = 0, stop = 0;
    json_t *o = NULL;
    while (!stop && (k = next_result(f, &line, &cap, &first, &o, err, errcap)) > 0) {
        stop = on(o, ctx);
        json_decref(o);
    }
    free(line);
    fclose(f);
    return k < 0 ? -1 : 0;
}

/* One sample's result line (by its tag); 1 when all samples have come back. */
static int on_sample(const json_t *o, void *arg) {
    reader_state *r = arg;
    const double tag = field(o, "tag");
    if (tag >= 0 && tag < r->n) {
        uint32_t i = (uint32_t)tag;
        int cls = (int)field(o, "class");
        r->cls[i] = cls;
        r->got++;
        int ok = r->label[i] >= 0 && cls == r->label[i];
        r->correct += ok;
        const double lat = field(o, "latency_us");
        r->lat_sum += lat > 0 ? (uint64_t)lat : 0;
        if (!r->quiet) {
            json_t *p = json_object();
            jset(p, "sample", jint(i));
            jset(p, "label", r->label[i] >= 0 ? jint(r->label[i]) : json_null());
            jset(p, "class", jint(cls));
            jset(p, "correct", json_boolean(ok));
            json_t *c = json_object_get(o, "counts");
            jset(p, "counts", json_is_array(c) ? json_incref(c) : json_array());
            jset(p, "latency_us", json_incref(json_object_get(o, "latency_us")));
            jprint(stdout, p);
        }
    }
    return r->got == r->n;
}

static void *reader(void *arg) {
    reader_state *r = arg;
    if (each_result(r->fd, on_sample, r, r->error, sizeof r->error)) r->failed = 1;
    return NULL;
}

static int connect_to(const char *to) {
    const char *colon = strrchr(to, ':');
    if (!colon) return -2;
    char host[256];
    snprintf(host, sizeof host, "%.*s", (int)(colon - to), to);
    if (!strcmp(host, "localhost")) strcpy(host, "127.0.0.1");
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port <= 0 || port > 65535) return -2;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) return -2;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

#define BATCH 4096

/* --wire aedat4: the server's window lines, printed as they come. */
typedef struct {
    int fd, quiet, failed;
    uint32_t windows;
    uint64_t lat_sum, binned, dropped;
    char error[512];
} window_reader;

static int on_window(const json_t *o, void *arg) {
    window_reader *r = arg;
    if (field(o, "window") >= 0) {
        r->windows++;
        r->lat_sum += (uint64_t)fmax(0, field(o, "latency_us"));
        r->binned += (uint64_t)fmax(0, field(o, "events"));
        r->dropped += (uint64_t)fmax(0, field(o, "dropped"));
        if (!r->quiet) jprint(stdout, json_incref((json_t *)o));
    }
    return 0;
}

static void *read_windows(void *arg) {
    window_reader *r = arg;
    if (each_result(r->fd, on_window, r, r->error, sizeof r->error)) r->failed = 1;
    return NULL;
}

static void pace(double t_start, double stream_s, double speed) {
    double wait = t_start + stream_s / speed - evsnn_now_s();
    if (wait > 0) {
        struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

/* Send an AEDAT 4.0 recording as a DV network stream: the prologue with dataTablePosition
 * set to -1 (a stream has no table), then each packet's bytes as stored. */
static int replay_aedat4(const char *path, const char *to, double speed, int quiet) {
    a4_file *f;
    if (a4_file_open(path, &f)) return fprintf(stderr, "evsnn replay: %s\n", evsnn_errmsg()), 2;
    const a4_header *h = a4_file_header(f);
    if (h->events < 0) {
        fprintf(stderr, "evsnn replay: %s: no event stream (EVTS) to send\n", path);
        a4_file_close(f);
        return 2;
    }
    const uint8_t *pro;
    size_t pro_n;
    a4_file_prologue(f, &pro, &pro_n);
    uint8_t *hdr = malloc(pro_n);
    if (!hdr) return a4_file_close(f), fprintf(stderr, "evsnn replay: out of memory\n"), 1;
    memcpy(hdr, pro, pro_n);
    if (h->table_pos_field) /* the field is an int64 inside the IOHeader table */
        for (int k = 0; k < 8; k++) hdr[A4_MAGIC_LEN + 4 + h->table_pos_field + (size_t)k] = 0xFF;
    int fd = connect_to(to);
    if (fd < 0) {
        if (fd == -2) fprintf(stderr, "evsnn replay: --to '%s': expected HOST:PORT with a numeric IPv4 host\n", to);
        else fprintf(stderr, "evsnn replay: cannot connect to %s: %s\n", to, strerror(errno));
        free(hdr), a4_file_close(f);
        return fd == -2 ? 2 : 1;
    }
    window_reader wr = {.fd = fd, .quiet = quiet};
    pthread_t th;
    int status = 0;
    if (pthread_create(&th, NULL, read_windows, &wr)) {
        fprintf(stderr, "evsnn replay: cannot start the reader\n");
        close(fd), free(hdr), a4_file_close(f);
        return 1;
    }
    const a4_packet *pk;
    size_t npk = a4_file_packets(f, &pk);
    int32_t ev_id = h->streams[h->events].id;
    uint64_t sent_pk = 0, sent_ev = 0, sent_b = pro_n;
    int64_t t_first = INT64_MIN;
    double t_start = evsnn_now_s();
    if (live_send_all(fd, hdr, pro_n)) status = 1;
    for (size_t k = 0; k < npk && !status && !wr.failed; k++) {
        if (pk[k].stream == ev_id && (pk[k].elements < 0 || (speed > 0 && pk[k].t0 == INT64_MIN))) {
            a4_events ev; /* no data table: decode to learn the packet's count and time */
            if (a4_file_events(f, k, &ev)) { fprintf(stderr, "evsnn replay: %s\n", evsnn_errmsg()); status = 2; break; }
        }
        if (pk[k].stream == ev_id && pk[k].elements > 0) {
            if (t_first == INT64_MIN) t_first = pk[k].t0;
            if (speed > 0) pace(t_start, (double)(pk[k].t0 - t_first) * 1e-6, speed);
            sent_ev += (uint64_t)pk[k].elements;
        }
        const uint8_t *raw;
        size_t n;
        if (a4_file_raw(f, k, &raw, &n)) { fprintf(stderr, "evsnn replay: %s\n", evsnn_errmsg()); status = 2; break; }
        if (live_send_all(fd, raw, n)) { status = 1; break; }
        sent_pk++, sent_b += n;
    }
    shutdown(fd, SHUT_WR); /* end of stream: the server runs the open window and closes */
    pthread_join(th, NULL);
    double secs = evsnn_now_s() - t_start;
    if (wr.failed) {
        fprintf(stderr, "evsnn replay: the server refused the stream: %s\n", wr.error);
        status = 1;
    } else if (status == 1) fprintf(stderr, "evsnn replay: %s: connection lost\n", to);
    json_t *o = json_object();
    jset(o, "file", jstr(path));
    jset(o, "format", jstr("aedat4"));
    jset(o, "wire", jstr("aedat4"));
    jset(o, "windows", jint(wr.windows));
    jset(o, "packets_sent", jint((long long)sent_pk));
    jset(o, "bytes_sent", jint((long long)sent_b));
    jset(o, "events_sent", jint((long long)sent_ev));
    jset(o, "events_binned", jint((long long)wr.binned));
    jset(o, "dropped", jint((long long)wr.dropped));
    jset(o, "wall_s", jnum(secs));
    jset(o, "events_per_s", jnum(secs > 0 ? (double)sent_ev / secs : NAN));
    jset(o, "mean_latency_us", jnum(wr.windows ? (double)wr.lat_sum / wr.windows : NAN));
    jset(o, "speed", jstr(speed > 0 ? "real-time" : "max"));
    jprint(stdout, o);
    close(fd), free(hdr), a4_file_close(f);
    return status;
}

/* One sample's events [origin, end) as batches of frames at stream time base + (t − origin):
 * up to BATCH events a batch whose offsets fit 32 bits (real time: batches of ≤ 1 ms, sent
 * when due at `speed`). *last: the stream time of the last event sent; *sent counts them.
 * 0, or 1 when the connection was lost. */
static int send_sample(int fd, uint8_t *buf, const ds_event *ev, size_t ne, int64_t origin, int64_t end, uint64_t base,
                       int kind, double speed, double t_start, const volatile int *failed, uint64_t *last_out,
                       uint64_t *sent_out) {
    uint64_t last = 0, sent = *sent_out;
    size_t e = 0;
    while (e < ne && !*failed) {
        /* one batch: up to BATCH events whose offsets from the batch base fit 32 bits */
        uint32_t cnt = 0;
        size_t hdr = LIVE_HDR + LIVE_BATCH_HDR;
        uint64_t bt0 = 0;
        for (; e < ne && cnt < BATCH; e++) {
            if (ev[e].t < origin || ev[e].t >= end) continue; /* outside the sample, as offline */
            uint64_t t = base + (uint64_t)(ev[e].t - origin);
            if (!cnt) bt0 = t;
            if (t - bt0 > UINT32_MAX) break;
            if (kind == LIVE_KIND_UNIT) live_put_unit(buf + hdr + (size_t)cnt * 8, (uint32_t)(t - bt0), ev[e].x);
            else live_put_xyp(buf + hdr + (size_t)cnt * 8, (uint32_t)(t - bt0), ev[e].x, ev[e].y, ev[e].p);
            cnt++;
            last = t;
            if (speed > 0 && t - bt0 >= 1000) { e++; break; } /* real time: batches of ≤ 1 ms */
        }
        if (!cnt) continue;
        live_put_batch_hdr(buf, kind == LIVE_KIND_UNIT ? LIVE_UNIT : LIVE_XYP, bt0, cnt);
        if (speed > 0) {
            double due = t_start + (double)bt0 * 1e-6 / speed, wait = due - evsnn_now_s();
            if (wait > 0) {
                struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
                nanosleep(&ts, NULL);
            }
        }
        if (live_send_all(fd, buf, hdr + (size_t)cnt * 8)) { *sent_out = sent; return 1; }
        sent += cnt;
    }
    *last_out = last;
    *sent_out = sent;
    return 0;
}

int cmd_replay(int argc, char **argv) {
    static const struct option opts[] = {{"to", required_argument, 0, 't'},     {"speed", required_argument, 0, 's'},
                                         {"split", required_argument, 0, 0},    {"first", required_argument, 0, 0},
                                         {"count", required_argument, 0, 0},    {"dt-us", required_argument, 0, 0},
                                         {"window-us", required_argument, 0, 0}, {"steps", required_argument, 0, 0},
                                         {"quiet", no_argument, 0, 'q'},        {"wire", required_argument, 0, 'w'},
                                         {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    ds_opts o;
    ds_opts_default(&o);
    const char *to = NULL;
    double speed = 1.0;
    int quiet = 0, c, li, aedat4 = 0, ds_given = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
        switch (c) {
        case 't': to = optarg; break;
        case 'q': quiet = 1; break;
        case 'w':
            if (!strcmp(optarg, "aedat4")) aedat4 = 1;
            else if (!strcmp(optarg, "frames")) aedat4 = 0;
            else { fprintf(stderr, "evsnn replay: --wire '%s': expected frames or aedat4\n", optarg); return 2; }
            break;
        case 's':
            if (!strcmp(optarg, "max")) speed = 0;
            else {
                char *end;
                speed = strtod(optarg, &end);
                if (*end || !(speed > 0 && speed < 1e6)) { fprintf(stderr, "evsnn replay: --speed '%s': expected a factor > 0 or max\n", optarg); return 2; }
            }
            break;
        case 0:
            ds_given = 1;
            if (cmd_data_opt(&o, opts[li].name, optarg)) { fprintf(stderr, "evsnn replay: --%s '%s': bad value (see 'evsnn replay --help')\n", opts[li].name, optarg); return 2; }
            break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fprintf(stderr, "evsnn replay: see 'evsnn replay --help'\n"); return 2;
        }
    }
    if (optind + 1 != argc) { fprintf(stderr, "evsnn replay: expected one recording FILE (see 'evsnn replay --help')\n"); return 2; }
    if (!to) { fprintf(stderr, "evsnn replay: --to HOST:PORT is required\n"); return 2; }
    if (aedat4) {
        if (ds_given) { fprintf(stderr, "evsnn replay: dataset options do not apply to --wire aedat4 (the server's --dt and --steps bin the stream)\n"); return 2; }
        return replay_aedat4(argv[optind], to, speed, quiet);
    }
    int err;
    dataset *d = ds_open(argv[optind], &o, &err);
    if (!d) { fprintf(stderr, "evsnn replay: %s\n", evsnn_errmsg()); return 2; }
    ds_geometry g;
    ds_sensor(d, &g);
    if (ds_get_kind(d) == DS_KIND_IMAGE) {
        fprintf(stderr, "evsnn replay: %s: image data has no events to stream (use an event recording)\n", argv[optind]);
        ds_free(d);
        return 2;
    }
    const ds_opts *ro = ds_get_opts(d);
    uint32_t n = ds_len(d), T = ds_steps(d);
    int fd = connect_to(to);
    if (fd == -2) { fprintf(stderr, "evsnn replay: --to '%s': expected HOST:PORT with a numeric IPv4 host\n", to); ds_free(d); return 2; }
    if (fd < 0) { fprintf(stderr, "evsnn replay: cannot connect to %s: %s\n", to, strerror(errno)); ds_free(d); return 1; }
    reader_state rs = {.fd = fd, .n = n, .quiet = quiet};
    rs.label = calloc(n ? n : 1, sizeof *rs.label);
    rs.cls = calloc(n ? n : 1, sizeof *rs.cls);
    uint8_t *buf = malloc(LIVE_HDR + LIVE_BATCH_HDR + (size_t)BATCH * LIVE_EVENT_BYTES);
    int status = 0;
    pthread_t th;
    int have_thread = 0;
    if (!rs.label || !rs.cls || !buf) { fprintf(stderr, "evsnn replay: out of memory\n"); status = 1; goto out; }
    live_hello h = {.width = (uint16_t)g.width, .height = (uint16_t)g.height, .polarities = (uint16_t)g.polarities,
                    .kind = g.kind == DS_KIND_UNIT ? LIVE_KIND_UNIT : LIVE_KIND_XY, .dt_us = ro->dt_us, .steps = T};
    if (live_send_all(fd, buf, live_put_hello(buf, &h))) { fprintf(stderr, "evsnn replay: %s: connection lost\n", to); status = 1; goto out; }
    for (uint32_t i = 0; i < n; i++) rs.label[i] = -1;
    if (pthread_create(&th, NULL, reader, &rs)) { fprintf(stderr, "evsnn replay: cannot start the reader\n"); status = 1; goto out; }
    have_thread = 1;
    /* Samples follow each other on the stream's clock with a 1 ms gap; with --speed the
     * sender sleeps so that stream time maps to wall time. */
    uint64_t base = 0, sent = 0;
    double t_start = evsnn_now_s();
    for (uint32_t i = 0; i < n && !rs.failed; i++) {
        const ds_event *ev;
        size_t ne;
        int64_t t0;
        int label;
        if (ds_raw(d, i, &ev, &ne, &t0, &label)) { fprintf(stderr, "evsnn replay: %s\n", evsnn_errmsg()); status = 2; break; }
        rs.label[i] = label;
        int64_t origin = t0 + ro->win_start_us;
        int64_t end = ro->win_end_us ? t0 + ro->win_end_us : INT64_MAX;
        size_t k = live_put_window(buf, base, i);
        if (live_send_all(fd, buf, k)) { status = 1; break; }
        uint64_t last = 0;
        status = send_sample(fd, buf, ev, ne, origin, end, base, h.kind, speed, t_start, &rs.failed, &last, &sent);
        if (status) break;
        if (live_send_all(fd, buf, live_put_empty(buf, LIVE_FLUSH))) { status = 1; break; }
        uint64_t span = (uint64_t)T * ro->dt_us;
        if (last >= base && last - base + 1 > span) span = last - base + 1;
        base += span + 1000;
    }
    if (!status) live_send_all(fd, buf, live_put_empty(buf, LIVE_BYE));
    shutdown(fd, SHUT_WR);
    pthread_join(th, NULL);
    have_thread = 0;
    double secs = evsnn_now_s() - t_start;
    if (rs.failed) {
        fprintf(stderr, "evsnn replay: the server refused the stream: %s\n", rs.error);
        status = 1;
    } else if (!status && rs.got != n) {
        fprintf(stderr, "evsnn replay: %u predictions for %u samples (connection closed early)\n", rs.got, n);
        status = 1;
    }
    uint32_t labelled = 0;
    for (uint32_t i = 0; i < n; i++) labelled += rs.label[i] >= 0;
    json_t *js = json_object();
    jset(js, "file", jstr(argv[optind]));
    jset(js, "format", jstr(ds_format_name(d)));
    jset(js, "samples", jint(n));
    jset(js, "predictions", jint(rs.got));
    jset(js, "labelled", jint(labelled));
    jset(js, "correct", jint(rs.correct));
    jset(js, "accuracy", jnum(labelled ? (double)rs.correct / labelled : NAN));
    jset(js, "events_sent", jint((long long)sent));
    jset(js, "wall_s", jnum(secs));
    jset(js, "events_per_s", jnum(secs > 0 ? (double)sent / secs : NAN));
    jset(js, "mean_latency_us", jnum(rs.got ? (double)rs.lat_sum / rs.got : NAN));
    jset(js, "speed", jstr(speed > 0 ? "real-time" : "max"));
    jset(js, "dt_us", jint(ro->dt_us));
    jset(js, "steps", jint(T));
    jprint(stdout, js);
out:
    if (have_thread) pthread_join(th, NULL);
    close(fd);
    free(buf);
    free(rs.label);
    free(rs.cls);
    ds_free(d);
    return status;
}
