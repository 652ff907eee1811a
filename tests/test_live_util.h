/* tests/test_live_util.h — helpers of the live-server tests: an N-MNIST decoder written from
 * the published byte layout (../shared/datasets/README.md), offline inference through the
 * engine for comparison, a server launcher, small socket helpers, and a sink collecting the
 * result lines of a live_session fed without sockets. */
#ifndef EVSNN_TEST_LIVE_UTIL_H
#define EVSNN_TEST_LIVE_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/live_frame.h"
#include "sim/engine.h"
#include "sim/spk.h"

/* A session's result lines, concatenated (live_emit_fn). */
typedef struct {
    char text[1 << 14];
    size_t len;
    int lines;
} tl_sink;

static inline void tl_sink_emit(void *ctx, const char *line, size_t len) {
    tl_sink *s = ctx;
    if (s->len + len < sizeof s->text) {
        memcpy(s->text + s->len, line, len);
        s->len += len;
        s->text[s->len] = 0;
    }
    s->lines++;
}

/* Cut the run-dependent `"latency_us":N` out of result lines (the comma before it stays). */
static inline void tl_strip_latency(char *s) {
    char *p;
    while ((p = strstr(s, "\"latency_us\":"))) {
        char *e = p + 13;
        while (*e >= '0' && *e <= '9') e++;
        memmove(p, e, strlen(e) + 1);
    }
}

typedef struct {
    uint32_t *t; /* µs */
    uint16_t *x, *y;
    uint8_t *p;
    uint32_t n;
} tl_events;

/* N-MNIST .bin: 5 bytes per event: x, y, bit 7 of byte 2 = polarity (1 ON), 23-bit µs time.
 * A y = 240 record is a timestamp overflow marker (+2^13 µs to what follows). */
static inline int tl_read_nmnist(const char *path, tl_events *e) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)len + 1);
    if (!b || fread(b, 1, (size_t)len, f) != (size_t)len) {
        fclose(f);
        free(b);
        return -1;
    }
    fclose(f);
    uint32_t n = (uint32_t)(len / 5), k = 0, over = 0;
    e->t = malloc(n * sizeof *e->t + 1);
    e->x = malloc(n * sizeof *e->x + 1);
    e->y = malloc(n * sizeof *e->y + 1);
    e->p = malloc(n + 1);
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *r = b + 5 * i;
        if (r[1] == 240) {
            over += 1u << 13;
            continue;
        }
        e->x[k] = r[0];
        e->y[k] = r[1];
        e->p[k] = r[2] >> 7;
        e->t[k] = over + (((uint32_t)(r[2] & 0x7F) << 16) | ((uint32_t)r[3] << 8) | r[4]);
        k++;
    }
    e->n = k;
    free(b);
    return 0;
}

static inline void tl_events_free(tl_events *e) {
    free(e->t);
    free(e->x);
    free(e->y);
    free(e->p);
    memset(e, 0, sizeof *e);
}

/* Offline inference of one sample: counts per (step, channel) in a dense [T, n_in] array
 * (channel p·34·34 + y·34 + x, events at or past T·dt cropped), through spk_from_dense and
 * sim_run. counts: [n_out] output spikes. Returns the class (argmax, lowest on ties). */
static inline int tl_offline(const net *n, const tl_events *e, uint32_t T, uint32_t dt, uint64_t *counts) {
    uint32_t nin = n->n_in, nout = net_n_out(n);
    float *x = calloc((size_t)T * nin, sizeof *x);
    for (uint32_t i = 0; i < e->n; i++) {
        uint32_t st = e->t[i] / dt;
        if (st >= T) continue;
        x[(size_t)st * nin + (uint32_t)e->p[i] * 34 * 34 + (uint32_t)e->y[i] * 34 + e->x[i]] += 1.0f;
    }
    spk_train tr;
    spk_from_dense(&tr, x, T, nin, SPK_VALUES);
    free(x);
    int err;
    sim *s = sim_create(n, T, &err);
    sim_result r;
    sim_result_init(&r, n, T, 0);
    sim_input in = {.train = &tr, .T = T};
    sim_run(s, &in, &r);
    const spk_train *o = &r.out[n->n_layers - 1];
    memset(counts, 0, nout * sizeof *counts);
    for (uint32_t k = 0; k < o->nnz; k++) counts[o->idx[k]]++;
    int best = 0;
    for (uint32_t j = 1; j < nout; j++)
        if (counts[j] > counts[best]) best = (int)j;
    sim_result_deinit(&r);
    sim_free(s);
    spk_deinit(&tr);
    return best;
}

/* ---- a server in a child process ---- */
typedef struct {
    pid_t pid;
    FILE *out; /* its stdout */
    int tcp, udp, http;
} tl_server;

/* Start `EVSNN serve ARGS` and read its first line (the bound ports). 0 or -1. */
static inline int tl_server_start(tl_server *s, const char *bin, const char *args) {
    int fd[2];
    if (pipe(fd)) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        char cmd[2048];
        snprintf(cmd, sizeof cmd, "exec %s serve %s", bin, args);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    s->pid = pid;
    s->out = fdopen(fd[0], "r");
    char line[1024];
    if (!s->out || !fgets(line, sizeof line, s->out)) return -1;
    s->tcp = s->udp = s->http = -1;
    const char *p;
    if ((p = strstr(line, "\"tcp\":"))) s->tcp = atoi(p + 6);
    if ((p = strstr(line, "\"udp\":"))) s->udp = atoi(p + 6);
    if ((p = strstr(line, "\"http\":"))) s->http = atoi(p + 7);
    return s->tcp > 0 ? 0 : -1;
}

/* SIGTERM, wait; returns the exit status (or -1 if killed by a signal), the summary line in
 * last (if non-NULL). */
static inline int tl_server_stop(tl_server *s, char *last, size_t len) {
    kill(s->pid, SIGTERM);
    char line[1024];
    if (last) last[0] = 0;
    while (fgets(line, sizeof line, s->out))
        if (last) snprintf(last, len, "%s", line);
    fclose(s->out);
    int st;
    if (waitpid(s->pid, &st, 0) < 0) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static inline int tl_connect(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) {
        if (fd >= 0) close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}


/* A line reader over a socket with a timeout (ms). Returns the length, 0 at EOF, -1 on
 * timeout or error. */
typedef struct {
    int fd;
    char buf[1 << 16];
    size_t len;
} tl_reader;

static inline int tl_readline(tl_reader *r, char *line, size_t cap, int timeout_ms) {
    for (;;) {
        char *nl = memchr(r->buf, '\n', r->len);
        if (nl) {
            size_t k = (size_t)(nl - r->buf) + 1;
            size_t c = k < cap ? k : cap - 1;
            memcpy(line, r->buf, c);
            line[c] = 0;
            memmove(r->buf, r->buf + k, r->len - k);
            r->len -= k;
            return (int)c;
        }
        struct pollfd pf = {.fd = r->fd, .events = POLLIN};
        if (poll(&pf, 1, timeout_ms) <= 0) return -1;
        ssize_t n = recv(r->fd, r->buf + r->len, sizeof r->buf - r->len, 0);
        if (n == 0) return 0;
        if (n < 0) return -1;
        r->len += (size_t)n;
    }
}

/* HTTP GET of a path on 127.0.0.1:port; body into a malloc'd string (NULL on failure). */
static inline char *tl_http_get(int port, const char *path, int *status) {
    int fd = tl_connect(port);
    if (fd < 0) return NULL;
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
    if (live_send_all(fd, req, (size_t)n)) {
        close(fd);
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *b = malloc(cap);
    for (;;) {
        if (len + 4096 > cap) b = realloc(b, cap *= 2);
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, 5000) <= 0) break;
        ssize_t r = recv(fd, b + len, cap - len - 1, 0);
        if (r <= 0) break;
        len += (size_t)r;
    }
    close(fd);
    b[len] = 0;
    if (status) *status = len > 12 ? atoi(b + 9) : 0;
    char *body = strstr(b, "\r\n\r\n");
    if (!body) {
        free(b);
        return NULL;
    }
    memmove(b, body + 4, strlen(body + 4) + 1);
    return b;
}

/* Numeric value of the first `"key":` in a JSON line (-1 if absent). */
static inline double tl_json_num(const char *line, const char *key) {
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(line, k);
    return p ? atof(p + strlen(k)) : -1;
}

#endif
