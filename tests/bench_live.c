/* tests/bench_live.c — how many events one `evsnn serve` ingests on loopback, with 1 and 8
 * clients streaming as fast as the server takes them (TCP back-pressure paces them), and the
 * latency from a window's last event to its prediction:
 *   server_p50/p99   measured by the server (last event ingested → result queued), under load
 *   rtt_p50/p99      measured by a client alone: FLUSH sent → result line received
 * Input: real N-MNIST samples when ../shared is present (else uniform synthetic ones of
 * 4,000 events, said in the output), one explicit window each, on a 2312-64-10 model
 * (random weights; the engine's work per window is what a trained model of that size does
 * up to firing rates). One JSON line per workload. */
#include <math.h>
#include <pthread.h>

#include "io/live_frame.h"
#include "sim/evsnn.h"
#include "tests/benchjson.h"
#include "tests/test_live_util.h"

#define NMNIST "../shared/datasets/nmnist-small"
#define WINDOWS_PER_CLIENT 1000

typedef struct {
    uint8_t *buf;
    size_t len;
    uint64_t events;
} stream;

static tl_events samples[100];
static int n_samples, real_data;

static void load_samples(void) {
    for (int i = 0; i < 100; i++) {
        char path[256];
        snprintf(path, sizeof path, NMNIST "/bin/%d.bs2", 60001 + i);
        if (tl_read_nmnist(path, &samples[i])) break;
        n_samples++;
    }
    real_data = n_samples > 0;
    if (real_data) return;
    uint32_t seed = 12345;
    for (int i = 0; i < 20; i++, n_samples++) {
        tl_events *e = &samples[i];
        e->n = 4000;
        e->t = malloc(4000 * sizeof *e->t);
        e->x = malloc(4000 * sizeof *e->x);
        e->y = malloc(4000 * sizeof *e->y);
        e->p = malloc(4000);
        for (uint32_t k = 0; k < 4000; k++) {
            seed = seed * 1664525u + 1013904223u;
            e->t[k] = k * 75;
            e->x[k] = (uint16_t)((seed >> 8) % 34);
            e->y[k] = (uint16_t)((seed >> 16) % 34);
            e->p[k] = (uint8_t)(seed >> 31);
        }
    }
}

/* HELLO, then `windows` samples as WINDOW + XYP batches of ≤ 4096 + FLUSH, then BYE. */
static void build_stream(stream *s, int first, int windows) {
    size_t cap = 64;
    for (int w = 0; w < windows; w++) cap += 64 + 20 * 2 + (size_t)samples[(first + w) % n_samples].n * 8;
    s->buf = malloc(cap);
    size_t k = 0;
    live_hello h = {.width = 34, .height = 34, .polarities = 2, .kind = LIVE_KIND_XY, .dt_us = 3400};
    k += live_put_hello(s->buf + k, &h);
    s->events = 0;
    for (int w = 0; w < windows; w++) {
        const tl_events *e = &samples[(first + w) % n_samples];
        uint64_t base = (uint64_t)w * 1000000;
        k += live_put_window(s->buf + k, base, (uint32_t)w);
        for (uint32_t i = 0; i < e->n; i += 4096) {
            uint32_t c = e->n - i < 4096 ? e->n - i : 4096;
            k += live_put_batch_hdr(s->buf + k, LIVE_XYP, base, c);
            for (uint32_t j = 0; j < c; j++, k += 8) live_put_xyp(s->buf + k, e->t[i + j], e->x[i + j], e->y[i + j], e->p[i + j]);
        }
        k += live_put_empty(s->buf + k, LIVE_FLUSH);
        s->events += e->n;
    }
    k += live_put_empty(s->buf + k, LIVE_BYE);
    s->len = k;
}

typedef struct {
    int port, windows, ok;
    stream *s;
    uint32_t *lat; /* server-measured latency per window, µs */
    int n_lat;
    int fd;
} client;

static void *client_reader(void *p) {
    client *c = p;
    tl_reader *r = calloc(1, sizeof *r);
    r->fd = c->fd;
    char line[1024];
    if (tl_readline(r, line, sizeof line, 30000) <= 0) goto out; /* greeting */
    while (c->n_lat < c->windows && tl_readline(r, line, sizeof line, 30000) > 0) c->lat[c->n_lat++] = (uint32_t)tl_json_num(line, "latency_us");
    c->ok = c->n_lat == c->windows;
out:
    free(r);
    return NULL;
}

static void *client_run(void *p) {
    client *c = p;
    pthread_t th;
    pthread_create(&th, NULL, client_reader, c);
    live_send_all(c->fd, c->s->buf, c->s->len);
    pthread_join(th, NULL);
    return NULL;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static uint32_t pct(uint32_t *v, int n, double q) {
    if (!n) return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_u32);
    int i = (int)ceil(q * n) - 1;
    return v[i < 0 ? 0 : i];
}

static void run_load(int port, const char *arch, int n_clients) {
    client *cl = calloc((size_t)n_clients, sizeof *cl);
    stream *st = calloc((size_t)n_clients, sizeof *st);
    int windows = WINDOWS_PER_CLIENT / n_clients > 50 ? WINDOWS_PER_CLIENT / n_clients : 50;
    uint64_t events = 0;
    for (int i = 0; i < n_clients; i++) {
        build_stream(&st[i], i * 7, windows);
        events += st[i].events;
        cl[i] = (client){.port = port, .windows = windows, .s = &st[i], .lat = calloc((size_t)windows, sizeof(uint32_t))};
        cl[i].fd = tl_connect(port);
    }
    pthread_t th[64];
    double t0 = evsnn_now_s();
    for (int i = 0; i < n_clients; i++) pthread_create(&th[i], NULL, client_run, &cl[i]);
    for (int i = 0; i < n_clients; i++) pthread_join(th[i], NULL);
    double secs = evsnn_now_s() - t0;
    int ok = 1, nl = 0;
    size_t n_all = (size_t)(unsigned)windows * (unsigned)n_clients;
    uint32_t *all = calloc(n_all ? n_all : 1, sizeof *all);
    for (int i = 0; i < n_clients; i++) {
        ok &= cl[i].ok;
        memcpy(all + nl, cl[i].lat, (size_t)cl[i].n_lat * sizeof *all);
        nl += cl[i].n_lat;
        close(cl[i].fd);
        free(cl[i].lat);
        free(st[i].buf);
    }
    json_t *o = bench_doc("live_ingest");
    jset(o, "model", jstr(arch));
    jset(o, "data", jstr(real_data ? "nmnist-test" : "synthetic-4000"));
    jset(o, "clients", jint(n_clients));
    jset(o, "windows", jint(nl));
    jset(o, "events", jint((long long)events));
    jset(o, "seconds", jnum(secs));
    jset(o, "events_per_s", jnum((double)events / secs));
    jset(o, "windows_per_s", jnum(nl / secs));
    jset(o, "server_latency_p50_us", jint(pct(all, nl, 0.5)));
    jset(o, "server_latency_p99_us", jint(pct(all, nl, 0.99)));
    jset(o, "complete", json_boolean(ok));
    bench_emit(o);
    free(all);
    free(cl);
    free(st);
}

/* One client, one window at a time: FLUSH sent → its result line received. */
static void run_rtt(int port, const char *arch) {
    enum { N = 200 };
    uint32_t rtt[N];
    int fd = tl_connect(port);
    tl_reader *r = calloc(1, sizeof *r);
    r->fd = fd;
    char line[1024];
    tl_readline(r, line, sizeof line, 5000);
    stream s;
    build_stream(&s, 0, 1); /* HELLO + one window + BYE: send without the BYE each time */
    size_t hello = LIVE_HDR + 16, body = s.len - hello - LIVE_HDR;
    live_send_all(fd, s.buf, hello);
    int got = 0;
    for (int i = 0; i < N; i++) {
        double t0 = evsnn_now_s();
        live_send_all(fd, s.buf + hello, body);
        if (tl_readline(r, line, sizeof line, 5000) <= 0) break;
        rtt[got++] = (uint32_t)((evsnn_now_s() - t0) * 1e6);
    }
    json_t *o = bench_doc("live_latency");
    jset(o, "model", jstr(arch));
    jset(o, "clients", jint(1));
    jset(o, "windows", jint(got));
    jset(o, "events_per_window", jint(samples[0].n));
    jset(o, "rtt_p50_us", jint(pct(rtt, got, 0.5)));
    jset(o, "rtt_p99_us", jint(pct(rtt, got, 0.99)));
    jset(o, "note", jstr("send of the window's events + FLUSH to its result line"));
    bench_emit(o);
    close(fd);
    free(r);
    free(s.buf);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    const char *bin = getenv("EVSNN_BIN") ? getenv("EVSNN_BIN") : "bin/evsnn";
    load_samples();
    static const char *archs[] = {"2312-64-10", "2312-10"};
    for (int a = 0; a < 2; a++) {
        char args[256];
        snprintf(args, sizeof args, "--arch %s --input 2x34x34 --threshold 0.3 --steps 100", archs[a]);
        tl_server s;
        if (tl_server_start(&s, bin, args)) {
            fprintf(stderr, "bench_live: cannot start %s serve\n", bin);
            return 1;
        }
        run_load(s.tcp, archs[a], 1);
        run_load(s.tcp, archs[a], 8);
        run_rtt(s.tcp, archs[a]);
        if (tl_server_stop(&s, NULL, 0)) {
            fprintf(stderr, "bench_live: server did not exit cleanly\n");
            return 1;
        }
    }
    for (int i = 0; i < n_samples; i++) tl_events_free(&samples[i]);
    return 0;
}
