/* tests/test_live_server.c — `evsnn serve` over real sockets on 127.0.0.1 with ephemeral
 * ports: real N-MNIST samples streamed give the same predictions as offline inference of
 * the same samples (decoded here from the published format and run through the engine);
 * a malformed client is closed with a reason while others continue; a client vanishing
 * mid-frame; a bounded load test (32 clients) with zero lost events; /metrics checked
 * against the Prometheus text format rules; UDP; a real AEDAT 2.0 recording; SIGTERM drain. */
#include "tests/testutil.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>

#include "io/live_frame.h"
#include "io/model.h"
#include "sim/evsnn.h"
#include "tests/test_live_util.h"

#define NMNIST "../shared/datasets/nmnist-small"
#define AEDAT "../shared/datasets/dvs128-aedat2/alex_walking_again.aedat"

static char tmp[256], model[300];
static tl_server srv;

static int group_setup(void **state) {
    (void)state;
    test_tmpdir(tmp, sizeof tmp);
    snprintf(model, sizeof model, "%s/m.h5", tmp);
    /* A random-weight model on N-MNIST's 2x34x34 input, thresholds low enough that the
     * output layer fires on real samples. */
    if (test_sh("%s init --arch 2312-64-10 --input 2x34x34 --threshold 0.3 --seed 3 -o %s >/dev/null", test_evsnn_bin(), model))
        return -1;
    char args[1024];
    snprintf(args, sizeof args, "--model %s --steps 100 --dt 3000 --udp 0 --http 127.0.0.1:0 --window-cap 200000", model);
    return tl_server_start(&srv, test_evsnn_bin(), args);
}

static int group_teardown(void **state) {
    (void)state;
    char last[1024];
    int rc = tl_server_stop(&srv, last, sizeof last);
    test_rmdir(tmp);
    /* SIGTERM drains and exits 0 (under ASan also: no leak reported at exit) */
    if (rc != 0 || !strstr(last, "\"stopped\":true")) {
        fprintf(stderr, "server exit %d, last line: %s\n", rc, last);
        return -1;
    }
    return 0;
}

static void send_hello(int fd, uint32_t dt) {
    uint8_t b[32];
    live_hello h = {.width = 34, .height = 34, .polarities = 2, .kind = LIVE_KIND_XY, .dt_us = dt};
    assert_int_equal(live_send_all(fd, b, live_put_hello(b, &h)), 0);
}

/* Send one sample as an explicit window starting at base µs, in batches of 1000 events. */
static void send_sample(int fd, const tl_events *e, uint64_t base, uint32_t tag) {
    static uint8_t b[LIVE_HDR + LIVE_BATCH_HDR + 8 * 1000];
    assert_int_equal(live_send_all(fd, b, live_put_window(b, base, tag)), 0);
    for (uint32_t i = 0; i < e->n; i += 1000) {
        uint32_t c = e->n - i < 1000 ? e->n - i : 1000;
        size_t k = live_put_batch_hdr(b, LIVE_XYP, base, c);
        for (uint32_t j = 0; j < c; j++, k += 8) live_put_xyp(b + k, e->t[i + j], e->x[i + j], e->y[i + j], e->p[i + j]);
        assert_int_equal(live_send_all(fd, b, k), 0);
    }
    assert_int_equal(live_send_all(fd, b, live_put_empty(b, LIVE_FLUSH)), 0);
}

static void parse_counts(const char *line, uint64_t *c, uint32_t n) {
    const char *p = strstr(line, "\"counts\":[");
    assert_non_null(p);
    p += 10;
    for (uint32_t j = 0; j < n; j++) {
        char *end;
        c[j] = strtoull(p, &end, 10);
        p = end + 1;
    }
}

static void test_nmnist_replay_equals_offline(void **state) {
    (void)state;
    REQUIRE_SHARED(NMNIST "/test100.txt");
    int err;
    net *n = model_load(model, NULL, &err);
    assert_non_null(n);
    int fd = tl_connect(srv.tcp);
    assert_true(fd >= 0);
    tl_reader r = {.fd = fd};
    char line[4096];
    assert_true(tl_readline(&r, line, sizeof line, 5000) > 0); /* greeting */
    assert_non_null(strstr(line, "\"protocol\":1"));
    send_hello(fd, 3000);
    enum { S = 20 };
    int classes[S], distinct = 0, fired = 0;
    uint64_t want[S][10];
    for (int i = 0; i < S; i++) {
        char path[512];
        snprintf(path, sizeof path, NMNIST "/bin/%d.bs2", 60001 + i);
        tl_events e = {0};
        assert_int_equal(tl_read_nmnist(path, &e), 0);
        classes[i] = tl_offline(n, &e, 100, 3000, want[i]);
        /* samples 1 s apart on the stream's clock; windows are explicit (tag = sample) */
        send_sample(fd, &e, 5000000ull + 1000000ull * (uint64_t)i, (uint32_t)i);
        tl_events_free(&e);
    }
    for (int i = 0; i < S; i++) {
        assert_true(tl_readline(&r, line, sizeof line, 10000) > 0);
        assert_int_equal((int)tl_json_num(line, "tag"), i);
        assert_int_equal((int)tl_json_num(line, "class"), classes[i]);
        uint64_t got[10];
        parse_counts(line, got, 10);
        for (int j = 0; j < 10; j++) {
            assert_int_equal(got[j], want[i][j]);
            fired += got[j] > 0;
        }
        if (i && classes[i] != classes[0]) distinct = 1;
    }
    assert_true(fired > 0);   /* the comparison is not between two silent networks */
    assert_true(distinct);    /* nor between constant answers */
    close(fd);
    net_free(n);
}

static void test_bad_client_closed_others_continue(void **state) {
    (void)state;
    int good = tl_connect(srv.tcp), bad = tl_connect(srv.tcp);
    assert_true(good >= 0 && bad >= 0);
    tl_reader rg = {.fd = good}, rb = {.fd = bad};
    char line[4096];
    assert_true(tl_readline(&rg, line, sizeof line, 5000) > 0);
    assert_true(tl_readline(&rb, line, sizeof line, 5000) > 0);
    send_hello(good, 1000);
    assert_int_equal(live_send_all(bad, "GET / HTTP/1.0\r\n\r\n", 18), 0);
    assert_true(tl_readline(&rb, line, sizeof line, 5000) > 0);
    assert_non_null(strstr(line, "\"error\":\"frame byte 0"));
    assert_int_equal(tl_readline(&rb, line, sizeof line, 5000), 0); /* closed */
    close(bad);
    /* the good client goes on */
    tl_events e = {0};
    uint32_t t[3] = {0, 10, 2000};
    uint16_t x[3] = {1, 2, 3}, y[3] = {4, 5, 6};
    uint8_t p[3] = {0, 1, 0};
    e.t = t, e.x = x, e.y = y, e.p = p, e.n = 3;
    send_sample(good, &e, 0, 77);
    assert_true(tl_readline(&rg, line, sizeof line, 5000) > 0);
    assert_int_equal((int)tl_json_num(line, "tag"), 77);
    assert_int_equal((int)tl_json_num(line, "events"), 3);
    close(good);
}

static void test_vanish_mid_frame(void **state) {
    (void)state;
    int fd = tl_connect(srv.tcp);
    assert_true(fd >= 0);
    send_hello(fd, 1000);
    uint8_t b[LIVE_HDR + LIVE_BATCH_HDR + 800];
    size_t k = live_put_batch_hdr(b, LIVE_XYP, 0, 100); /* announces 100 events */
    memset(b + k, 0, 400);
    assert_int_equal(live_send_all(fd, b, k + 400), 0); /* sends half */
    close(fd);
    int st;
    char *h = tl_http_get(srv.http, "/healthz", &st);
    assert_non_null(h);
    assert_int_equal(st, 200);
    assert_non_null(strstr(h, "\"ok\""));
    free(h);
}

/* ---- load: many concurrent clients, every event accounted for ---- */
enum { LOAD_CLIENTS = 32, LOAD_WINDOWS = 20, LOAD_EVENTS = 1500 };
typedef struct {
    int id, ok;
    uint64_t events_back, sent;
} load_arg;

static void *load_client(void *p) {
    load_arg *a = p;
    int fd = tl_connect(srv.tcp);
    if (fd < 0) return NULL;
    tl_reader *r = calloc(1, sizeof *r);
    r->fd = fd;
    char line[4096];
    if (tl_readline(r, line, sizeof line, 10000) <= 0) goto out;
    uint8_t *b = malloc(LIVE_HDR + LIVE_BATCH_HDR + 8 * LOAD_EVENTS + 64);
    live_hello h = {.width = 34, .height = 34, .polarities = 2, .kind = LIVE_KIND_XY, .dt_us = 3000};
    live_send_all(fd, b, live_put_hello(b, &h));
    uint32_t seed = 2654435761u * (uint32_t)(a->id + 1);
    for (int w = 0; w < LOAD_WINDOWS; w++) {
        uint64_t base = (uint64_t)w * 1000000;
        size_t k = live_put_window(b, base, (uint32_t)w);
        live_send_all(fd, b, k);
        k = live_put_batch_hdr(b, LIVE_XYP, base, LOAD_EVENTS);
        for (int i = 0; i < LOAD_EVENTS; i++, k += 8) {
            seed = seed * 1664525u + 1013904223u;
            /* times inside the 300 ms window, in order; pixels anywhere on the sensor */
            live_put_xyp(b + k, (uint32_t)(i * 200), (uint16_t)(seed >> 8) % 34, (uint16_t)(seed >> 16) % 34, (int)(seed >> 31));
        }
        k += live_put_empty(b + k, LIVE_FLUSH);
        if (live_send_all(fd, b, k)) break;
        a->sent += LOAD_EVENTS;
    }
    int got = 0;
    while (got < LOAD_WINDOWS && tl_readline(r, line, sizeof line, 20000) > 0) {
        if ((int)tl_json_num(line, "tag") != got || tl_json_num(line, "dropped") != 0) break;
        a->events_back += (uint64_t)tl_json_num(line, "events");
        got++;
    }
    a->ok = got == LOAD_WINDOWS;
    free(b);
out:
    close(fd);
    free(r);
    return NULL;
}

static uint64_t metric(const char *text, const char *name) {
    const char *p = text;
    size_t len = strlen(name);
    while ((p = strstr(p, name))) {
        if ((p == text || p[-1] == '\n') && p[len] == ' ') return strtoull(p + len + 1, NULL, 10);
        p += len;
    }
    return UINT64_MAX;
}

static void test_load_no_lost_events(void **state) {
    (void)state;
    int st;
    char *m0 = tl_http_get(srv.http, "/metrics", &st);
    assert_non_null(m0);
    uint64_t ev0 = metric(m0, "evsnn_live_events_total");
    free(m0);
    pthread_t th[LOAD_CLIENTS];
    load_arg a[LOAD_CLIENTS];
    for (int i = 0; i < LOAD_CLIENTS; i++) {
        a[i] = (load_arg){.id = i};
        assert_int_equal(pthread_create(&th[i], NULL, load_client, &a[i]), 0);
    }
    uint64_t sent = 0, back = 0;
    for (int i = 0; i < LOAD_CLIENTS; i++) {
        pthread_join(th[i], NULL);
        assert_true(a[i].ok);
        sent += a[i].sent;
        back += a[i].events_back;
    }
    assert_true(sent == (uint64_t)LOAD_CLIENTS * LOAD_WINDOWS * LOAD_EVENTS);
    assert_true(back == sent); /* every event binned into its window: none lost */
    char *m1 = tl_http_get(srv.http, "/metrics", &st);
    assert_non_null(m1);
    assert_true(metric(m1, "evsnn_live_events_total") - ev0 == sent);
    free(m1);
}

/* ---- Prometheus text format (exposition format 0.0.4) ---- */
static int valid_name(const char *s, size_t n, int metric) {
    if (!n) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = isalpha((unsigned char)c) || c == '_' || (metric && c == ':') || (i && isdigit((unsigned char)c));
        if (!ok) return 0;
    }
    return 1;
}

static int valid_value(const char *s) {
    if (!strcmp(s, "+Inf") || !strcmp(s, "-Inf") || !strcmp(s, "NaN")) return 1;
    char *end;
    strtod(s, &end);
    return end != s && *end == 0;
}

/* Checks every line; returns NULL or what is wrong. */
static const char *prom_check(char *text, char *why, size_t len) {
    char typed[64][96];
    char types[64][200];
    int nt = 0;
    double last_bucket = -1;
    char bucket_of[96] = "";
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#') {
            char kw[8], name[96], rest[200];
            if (sscanf(line, "# %7s %95s %199[^\n]", kw, name, rest) < 2) goto bad;
            if (!strcmp(kw, "TYPE")) {
                if (strcmp(rest, "counter") && strcmp(rest, "gauge") && strcmp(rest, "histogram") && strcmp(rest, "summary") &&
                    strcmp(rest, "untyped"))
                    goto bad;
                for (int i = 0; i < nt; i++)
                    if (!strcmp(typed[i], name)) goto bad; /* one TYPE per metric */
                if (nt < 64) {
                    snprintf(typed[nt], sizeof typed[nt], "%s", name);
                    snprintf(types[nt], sizeof types[nt], "%s", rest);
                    nt++;
                }
            } else if (strcmp(kw, "HELP")) goto bad;
            continue;
        }
        /* name{labels} value */
        size_t nl = strcspn(line, "{ ");
        if (!valid_name(line, nl, 1)) goto bad;
        char name[96];
        snprintf(name, sizeof name, "%.*s", (int)nl, line);
        const char *p = line + nl;
        char le[64] = "";
        if (*p == '{') {
            p++;
            while (*p != '}') {
                size_t ln = strcspn(p, "=");
                if (!valid_name(p, ln, 0) || p[ln] != '=' || p[ln + 1] != '"') goto bad;
                int is_le = ln == 2 && !strncmp(p, "le", 2);
                p += ln + 2;
                char *v = le;
                while (*p && *p != '"') {
                    if (*p == '\\') {
                        p++;
                        if (*p != '\\' && *p != '"' && *p != 'n') goto bad;
                    }
                    if (is_le && v < le + sizeof le - 1) *v++ = *p;
                    p++;
                }
                if (is_le) *v = 0;
                if (*p != '"') goto bad;
                p++;
                if (*p == ',') p++;
                else if (*p != '}') goto bad;
            }
            p++;
        }
        if (*p != ' ') goto bad;
        p++;
        char val[64];
        snprintf(val, sizeof val, "%.*s", (int)strcspn(p, " "), p);
        if (!valid_value(val)) goto bad;
        /* the sample belongs to a TYPE'd family declared before it */
        int found = -1;
        for (int i = 0; i < nt; i++) {
            size_t tl = strlen(typed[i]);
            if (!strncmp(name, typed[i], tl) &&
                (!name[tl] || (!strcmp(types[i], "histogram") &&
                               (!strcmp(name + tl, "_bucket") || !strcmp(name + tl, "_sum") || !strcmp(name + tl, "_count")))))
                found = i;
        }
        if (found < 0) goto bad;
        if (!strcmp(types[found], "counter") && strtod(val, NULL) < 0) goto bad;
        if (strstr(name, "_bucket")) {
            if (!le[0]) goto bad;
            double v = strtod(val, NULL);
            if (strcmp(bucket_of, name)) last_bucket = -1;
            snprintf(bucket_of, sizeof bucket_of, "%s", name);
            if (v < last_bucket) goto bad; /* cumulative */
            last_bucket = v;
        } else if (strstr(name, "_count") && bucket_of[0]) {
            if (strtod(val, NULL) != last_bucket) goto bad; /* +Inf bucket == count */
        }
        continue;
    bad:
        snprintf(why, len, "not Prometheus text: '%s'", line);
        return why;
    }
    return nt ? NULL : "no TYPE line at all";
}

static void test_metrics_prometheus(void **state) {
    (void)state;
    int st;
    char *m = tl_http_get(srv.http, "/metrics", &st);
    assert_non_null(m);
    assert_int_equal(st, 200);
    assert_non_null(strstr(m, "evsnn_live_layer_firing_rate{layer=\"fc1\"}"));
    assert_non_null(strstr(m, "evsnn_live_result_latency_seconds_bucket{le=\"+Inf\"}"));
    assert_non_null(strstr(m, "evsnn_live_events_dropped_total{reason=\"late\"}"));
    assert_true(metric(m, "evsnn_live_bad_frames_total") >= 1);
    char why[512];
    const char *bad = prom_check(m, why, sizeof why);
    if (bad) fail_msg("%s", bad);
    free(m);
    /* the checker itself rejects broken text */
    char broken[] = "# TYPE x counter\nx{a=\"1} 3\n";
    assert_non_null(prom_check(broken, why, sizeof why));
    char untyped[] = "# TYPE x counter\ny 3\n";
    assert_non_null(prom_check(untyped, why, sizeof why));
    char *j = tl_http_get(srv.http, "/v1/model", &st);
    assert_non_null(j);
    assert_non_null(strstr(j, "\"arch\":\"2312-64-10\""));
    free(j);
    j = tl_http_get(srv.http, "/v1/live", &st);
    assert_non_null(j);
    assert_non_null(strstr(j, "\"layers\":[{\"name\":\"input\""));
    free(j);
    j = tl_http_get(srv.http, "/nope", &st);
    assert_int_equal(st, 404);
    free(j);
    j = tl_http_get(srv.http, "/", &st);
    assert_non_null(strstr(j, "<canvas"));
    free(j);
}

static void test_udp(void **state) {
    (void)state;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)srv.udp)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    uint8_t b[256];
    live_hello h = {.width = 34, .height = 34, .polarities = 2, .kind = LIVE_KIND_XY, .dt_us = 1000};
    assert_true(send(fd, b, live_put_hello(b, &h), 0) > 0);
    size_t k = live_put_window(b, 0, 5);
    k += live_put_batch_hdr(b + k, LIVE_XYP, 0, 2);
    live_put_xyp(b + k, 0, 1, 1, 1), k += 8;
    live_put_xyp(b + k, 1000, 2, 2, 0), k += 8;
    k += live_put_empty(b + k, LIVE_FLUSH);
    assert_true(send(fd, b, k, 0) > 0);
    char line[4096];
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    assert_true(poll(&pf, 1, 5000) > 0);
    ssize_t n = recv(fd, line, sizeof line - 1, 0);
    assert_true(n > 0);
    line[n] = 0;
    assert_int_equal((int)tl_json_num(line, "tag"), 5);
    assert_int_equal((int)tl_json_num(line, "events"), 2);
    /* half a frame in a datagram: counted and answered, the UDP port goes on */
    assert_true(send(fd, b, 10, 0) > 0);
    assert_true(poll(&pf, 1, 5000) > 0);
    n = recv(fd, line, sizeof line - 1, 0);
    line[n > 0 ? n : 0] = 0;
    assert_non_null(strstr(line, "error"));
    close(fd);
}

/* A real DVS128 recording sent byte for byte as a jAER-style tool streams it. Expected
 * event count: the file's non-special records, counted here from the format. */
static void test_aedat_stream(void **state) {
    (void)state;
    REQUIRE_SHARED(AEDAT);
    FILE *f = fopen(AEDAT, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)len);
    assert_int_equal(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    long pos = 0;
    while (pos < len && b[pos] == '#') {
        while (pos < len && b[pos] != '\n') pos++;
        pos++;
    }
    uint64_t expect = 0;
    for (long r = pos; r + 8 <= len; r += 8) expect += !(b[r + 2] & 0x80); /* bit 15 of the BE address */
    /* A 2x32x32 model for this stream (the server sums 128x128 down by 4). */
    char m2[400], args[600];
    snprintf(m2, sizeof m2, "%s/dvs.h5", tmp);
    assert_int_equal(test_sh("%s init --arch 2048-11 --input 2x32x32 -o %s >/dev/null", test_evsnn_bin(), m2), 0);
    snprintf(args, sizeof args, "--model %s --steps 100 --dt 5000", m2);
    tl_server s2 = {0};
    assert_int_equal(tl_server_start(&s2, test_evsnn_bin(), args), 0);
    int fd = tl_connect(s2.tcp);
    assert_true(fd >= 0);
    tl_reader *r = calloc(1, sizeof *r);
    r->fd = fd;
    char line[8192];
    assert_true(tl_readline(r, line, sizeof line, 5000) > 0);
    assert_int_equal(live_send_all(fd, b, (size_t)len), 0);
    shutdown(fd, SHUT_WR); /* end of stream: the last window is run, then the server closes */
    uint64_t events = 0, dropped = 0;
    int windows = 0;
    while (tl_readline(r, line, sizeof line, 20000) > 0) {
        assert_null(strstr(line, "error"));
        events += (uint64_t)tl_json_num(line, "events");
        dropped += (uint64_t)tl_json_num(line, "dropped");
        windows++;
    }
    assert_true(windows >= 2);
    assert_true(events + dropped == expect);
    assert_true(dropped * 1000 <= expect); /* a real recording is (nearly) in time order */
    close(fd);
    free(r);
    free(b);
    assert_int_equal(tl_server_stop(&s2, NULL, 0), 0);
}

/* SIGTERM with a window open: the server runs it, sends the result, then exits 0. */
static void test_sigterm_drains(void **state) {
    (void)state;
    char args[600];
    snprintf(args, sizeof args, "--model %s --steps 100 --dt 3000", model);
    tl_server s2 = {0};
    assert_int_equal(tl_server_start(&s2, test_evsnn_bin(), args), 0);
    int fd = tl_connect(s2.tcp);
    tl_reader *r = calloc(1, sizeof *r);
    r->fd = fd;
    char line[4096];
    assert_true(tl_readline(r, line, sizeof line, 5000) > 0);
    send_hello(fd, 3000);
    uint8_t b[64];
    size_t k = live_put_window(b, 0, 3);
    k += live_put_batch_hdr(b + k, LIVE_XYP, 0, 1);
    live_put_xyp(b + k, 5, 1, 1, 1), k += 8;
    assert_int_equal(live_send_all(fd, b, k), 0);
    /* wait until the server has read it (its events counter), then SIGTERM */
    int st;
    (void)st;
    usleep(200000);
    char last[1024];
    kill(s2.pid, SIGTERM);
    assert_true(tl_readline(r, line, sizeof line, 5000) > 0);
    assert_int_equal((int)tl_json_num(line, "tag"), 3);
    assert_int_equal((int)tl_json_num(line, "events"), 1);
    assert_int_equal(tl_readline(r, line, sizeof line, 5000), 0); /* then closed */
    assert_int_equal(tl_server_stop(&s2, last, sizeof last), 0);
    assert_non_null(strstr(last, "\"windows\":1"));
    close(fd);
    free(r);
}

/* --accel: each window also runs through the accelerator model; data/accel.cfg declares
 * queue depth 64 with stall on overflow, so occupancy is within [0, 64], nothing dropped,
 * and a window of 1,500 input events fills the first layer's queue at least once. */
static void test_accel_metrics(void **state) {
    (void)state;
    char args[600];
    snprintf(args, sizeof args, "--model %s --steps 100 --dt 3000 --http 127.0.0.1:0 --accel data/accel.cfg", model);
    tl_server s2 = {0};
    assert_int_equal(tl_server_start(&s2, test_evsnn_bin(), args), 0);
    int fd = tl_connect(s2.tcp);
    tl_reader *r = calloc(1, sizeof *r);
    r->fd = fd;
    char line[4096];
    assert_true(tl_readline(r, line, sizeof line, 5000) > 0);
    send_hello(fd, 3000);
    tl_events e = {0};
    e.n = 1500;
    e.t = calloc(e.n, sizeof *e.t), e.x = calloc(e.n, 2), e.y = calloc(e.n, 2), e.p = calloc(e.n, 1);
    for (uint32_t i = 0; i < e.n; i++) e.t[i] = i * 150, e.x[i] = (uint16_t)(i * 7 % 34), e.y[i] = (uint16_t)(i * 13 % 34), e.p[i] = (uint8_t)(i & 1);
    send_sample(fd, &e, 0, 1);
    assert_true(tl_readline(r, line, sizeof line, 10000) > 0);
    assert_int_equal((int)tl_json_num(line, "events"), 1500);
    int st;
    char *m = tl_http_get(s2.http, "/metrics", &st);
    assert_non_null(m);
    assert_true(metric(m, "evsnn_live_accel_queue_depth{layer=\"fc1\"}") == 64);
    uint64_t mx = metric(m, "evsnn_live_accel_queue_occupancy_max{layer=\"fc1\"}");
    assert_true(mx >= 1 && mx <= 64);
    assert_true(metric(m, "evsnn_live_accel_queue_dropped_total{layer=\"fc1\"}") == 0);
    char why[512];
    const char *bad = prom_check(m, why, sizeof why);
    if (bad) fail_msg("%s", bad);
    free(m);
    tl_events_free(&e);
    close(fd);
    free(r);
    assert_int_equal(tl_server_stop(&s2, NULL, 0), 0);
}

/* --idle-ms: a stream that goes quiet with a window open still gets its result; --max-conns:
 * one more client is refused with a reason line. */
static void test_idle_and_max_conns(void **state) {
    (void)state;
    char args[600];
    snprintf(args, sizeof args, "--model %s --steps 100 --dt 3000 --idle-ms 100 --max-conns 1", model);
    tl_server s2 = {0};
    assert_int_equal(tl_server_start(&s2, test_evsnn_bin(), args), 0);
    int fd = tl_connect(s2.tcp);
    tl_reader *r = calloc(1, sizeof *r);
    r->fd = fd;
    char line[4096];
    assert_true(tl_readline(r, line, sizeof line, 5000) > 0);
    int fd2 = tl_connect(s2.tcp);
    tl_reader *r2 = calloc(1, sizeof *r2);
    r2->fd = fd2;
    assert_true(tl_readline(r2, line, sizeof line, 5000) > 0);
    assert_non_null(strstr(line, "\"error\":\"server full"));
    assert_int_equal(tl_readline(r2, line, sizeof line, 5000), 0);
    close(fd2);
    send_hello(fd, 3000);
    uint8_t b[64];
    size_t k = live_put_batch_hdr(b, LIVE_XYP, 1000, 2); /* tumbling window, no FLUSH */
    live_put_xyp(b + k, 0, 1, 1, 1), k += 8;
    live_put_xyp(b + k, 10, 2, 1, 0), k += 8;
    assert_int_equal(live_send_all(fd, b, k), 0);
    assert_true(tl_readline(r, line, sizeof line, 5000) > 0); /* after ~100 ms of silence */
    assert_int_equal((int)tl_json_num(line, "events"), 2);
    assert_int_equal((int)tl_json_num(line, "t_start_us"), 1000);
    close(fd);
    free(r);
    free(r2);
    assert_int_equal(tl_server_stop(&s2, NULL, 0), 0);
}

/* Back-pressure: a client that sends windows but never reads its results. Past 1 MiB of
 * unread results the server stops reading that client (so its windows stop running and
 * nothing grows without bound); its sends then block; another client is served meanwhile. */
static void test_backpressure_nonreader(void **state) {
    (void)state;
    /* A cheap model (T = 5) so that the 40,000 windows below run fast, also under ASan. */
    tl_server s2 = {0};
    assert_int_equal(tl_server_start(&s2, test_evsnn_bin(), "--arch 2312-10 --input 2x34x34 --steps 5 --http 127.0.0.1:0"), 0);
    int fd = tl_connect(s2.tcp);
    assert_true(fd >= 0);
    int sz = 1 << 16;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    send_hello(fd, 1000);
    /* 40,000 windows of one event (≈ 6 MB of results to fill the socket buffers and pass
     * the 1 MiB pause mark), then 16 MiB of batch frames to fill the request side */
    enum { W = 40000, FILL = 16, FILL_EV = (LIVE_MAX_PAYLOAD - LIVE_BATCH_HDR) / 8 };
    size_t cap = (size_t)W * 40 + (size_t)FILL * (LIVE_HDR + LIVE_MAX_PAYLOAD);
    uint8_t *b = calloc(1, cap);
    size_t k = 0;
    for (uint32_t w = 0; w < W; w++) {
        k += live_put_window(b + k, (uint64_t)w * 1000000, w);
        k += live_put_empty(b + k, LIVE_FLUSH);
    }
    for (int f = 0; f < FILL; f++) {
        size_t h = live_put_batch_hdr(b + k, LIVE_XYP, (uint64_t)(W + f) * 1000000, FILL_EV);
        k += h + (size_t)FILL_EV * 8; /* zero events: (t0, x 0, y 0, OFF) */
    }
    /* send without blocking until no byte was taken for 0.5 s (or all was sent: a failure) */
    size_t off = 0;
    for (int idle = 0; off < k && idle < 50;) {
        ssize_t w = send(fd, b + off, k - off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w > 0) off += (size_t)w, idle = 0;
        else usleep(10000), idle++;
    }
    assert_true(off < k); /* back-pressure reached the sender */
    int st;
    char *m = tl_http_get(s2.http, "/metrics", &st);
    assert_non_null(m);
    uint64_t w1 = metric(m, "evsnn_live_windows_total");
    free(m);
    usleep(300000);
    m = tl_http_get(s2.http, "/metrics", &st);
    uint64_t w2 = metric(m, "evsnn_live_windows_total");
    free(m);
    assert_true(w2 == w1 && w1 < W); /* paused: its windows stop running while results sit unread */
    /* others are served meanwhile */
    int g = tl_connect(s2.tcp);
    tl_reader *r = calloc(1, sizeof *r);
    r->fd = g;
    char line[4096];
    assert_true(tl_readline(r, line, sizeof line, 5000) > 0);
    send_hello(g, 1000);
    uint8_t q[64];
    size_t n = live_put_window(q, 0, 9);
    n += live_put_empty(q + n, LIVE_FLUSH);
    assert_int_equal(live_send_all(g, q, n), 0);
    assert_true(tl_readline(r, line, sizeof line, 5000) > 0);
    assert_int_equal((int)tl_json_num(line, "tag"), 9);
    close(g);
    free(r);
    close(fd); /* the non-reader vanishes with results pending: the server frees it */
    free(b);
    assert_int_equal(tl_server_stop(&s2, NULL, 0), 0);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nmnist_replay_equals_offline),
        cmocka_unit_test(test_bad_client_closed_others_continue),
        cmocka_unit_test(test_vanish_mid_frame),
        cmocka_unit_test(test_load_no_lost_events),
        cmocka_unit_test(test_backpressure_nonreader),
        cmocka_unit_test(test_metrics_prometheus),
        cmocka_unit_test(test_udp),
        cmocka_unit_test(test_aedat_stream),
        cmocka_unit_test(test_sigterm_drains),
        cmocka_unit_test(test_accel_metrics),
        cmocka_unit_test(test_idle_and_max_conns),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
