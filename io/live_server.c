/* io/live_server.c — the libevent side of `evsnn serve`: TCP connections, the UDP socket,
 * evhttp endpoints, signals and drain. The stream logic lives in live_session.c. */
#include "io/live_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/live_frame.h"
#include "sim/evsnn.h"

extern const char live_page_html[];

#define READ_HIGH (4u << 20)     /* stop reading a socket when 4 MiB of input wait */
#define OUT_PAUSE (1u << 20)     /* stop reading a client that leaves 1 MiB of results unread */
#define OUT_RESUME (256u << 10)  /* ... and read again below 256 KiB */
#define DRAIN_TIMEOUT_S 5
#define WRITE_TIMEOUT_S 30       /* a client that takes no result bytes for 30 s is dropped */
#define ACCEPT_PAUSE_MS 250      /* after an accept error (out of descriptors): wait, then retry */
#define LOG_EVERY_S 10           /* at most one operational message per 10 s */

/* One HTTP connection (evhttp's), tracked to cap their number and to enforce the request
 * deadline: evhttp 2.1 has neither a connection limit nor a per-request deadline. */
typedef struct hconn {
    live_server *srv;
    struct evhttp_connection *evcon; /* NULL until attached (the loop iteration after accept) */
    struct bufferevent *bev;         /* ours until attached (one reference held) */
    uint64_t since_us;               /* accepted or last response: a request must follow within the timeout */
    struct hconn *prev, *next;
} hconn;

typedef struct conn {
    live_server *srv;
    struct bufferevent *bev;
    live_session *ss;
    struct event *idle;          /* --idle-ms: runs an open window when input stops */
    int closing, paused;
    struct conn *prev, *next;
} conn;

struct live_server {
    live_core *core;
    live_server_opts o;
    struct event_base *base;
    struct evconnlistener *lis;
    int udp_fd;
    struct event *udp_ev;
    live_session *udp_ss;
    struct event *udp_idle;
    struct sockaddr_storage udp_peer;
    socklen_t udp_peerlen;
    struct evhttp *http;
    struct event *sig_term, *sig_int, *tick, *drain_to;
    conn *conns;
    uint32_t n_conns;
    int draining;
    int port_tcp, port_udp, port_http;
    /* limits */
    struct evconnlistener *http_lis;   /* owned by s->http once bound */
    hconn *hconns;
    int http_full;                     /* accepting HTTP paused at --http-max-conns */
    int fd_paused;                     /* accepting paused after an accept error */
    int reserve_fd;                    /* /dev/null, given up to answer a client when out of descriptors */
    struct event *accept_retry, *http_sweep;
    uint64_t log_next_us, log_quiet;   /* rate limit of operational messages; events not logged */
};

static void slog(live_server *srv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void slog(live_server *srv, const char *fmt, ...) {
    if (!srv->o.log) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    srv->o.log(srv->o.log_ctx, msg);
}

static int sock_port(evutil_socket_t fd) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len)) return -1;
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

static void conn_free(conn *c) {
    live_server *srv = c->srv;
    if (c->prev) c->prev->next = c->next;
    else srv->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    bufferevent_free(c->bev);
    if (c->idle) event_free(c->idle);
    live_session_free(c->ss);
    free(c);
    srv->n_conns--;
    live_core_metrics(srv->core)->connections_open--;
    if (srv->draining && !srv->n_conns) event_base_loopexit(srv->base, NULL);
}

/* Close once the results already queued have gone out. 1 when c was freed now. */
static int conn_close_later(conn *c) {
    c->closing = 1;
    bufferevent_disable(c->bev, EV_READ);
    if (evbuffer_get_length(bufferevent_get_output(c->bev))) return 0;
    conn_free(c);
    return 1;
}

static void conn_emit(void *ctx, const char *line, size_t len) {
    conn *c = ctx;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    evbuffer_add(out, line, len);
    /* A client that does not read its results must not make us buffer without bound. */
    if (!c->paused && evbuffer_get_length(out) > OUT_PAUSE) {
        c->paused = 1;
        bufferevent_disable(c->bev, EV_READ);
    }
}

static void conn_error_line(conn *c, const char *reason) {
    struct evbuffer *out = bufferevent_get_output(c->bev);
    evbuffer_add(out, "{\"error\":\"", 10);
    for (const char *p = reason; *p; p++) {
        if (*p == '"' || *p == '\\') evbuffer_add_printf(out, "\\%c", *p);
        else if ((unsigned char)*p < 0x20) evbuffer_add_printf(out, "\\u%04x", (unsigned char)*p);
        else evbuffer_add(out, p, 1);
    }
    evbuffer_add(out, "\"}\n", 3);
}

/* Feed the buffered input to the session. Returns 1 when the connection was freed. */
static int conn_process(conn *c) {
    struct evbuffer *in = bufferevent_get_input(c->bev);
    uint64_t now = live_now_us();
    size_t n;
    while (!c->closing && !c->paused && (n = evbuffer_get_length(in)) > 0) {
        /* Feed at least what the next unit needs in one piece (or all there is: a partial
         * header is still checked, so a wrong protocol is refused at once). */
        size_t want = live_session_need(c->ss);
        if (want > n) want = n;
        size_t contig = evbuffer_get_contiguous_space(in);
        if (contig < want) contig = want;
        uint8_t *p = evbuffer_pullup(in, (ev_ssize_t)contig);
        if (!p) break;
        size_t used = 0;
        int rc = live_session_feed(c->ss, p, contig, &used, now);
        evbuffer_drain(in, used);
        live_core_metrics(c->srv->core)->bytes_in += used;
        if (rc < 0) {
            live_core_metrics(c->srv->core)->connections_closed_bad++;
            conn_error_line(c, evsnn_errmsg());
            return conn_close_later(c);
        }
        if (rc == 1) return conn_close_later(c); /* BYE */
        if (!used) break;
    }
    if (c->idle && !c->closing) {
        if (live_session_active(c->ss)) {
            struct timeval tv = {c->srv->o.idle_ms / 1000, (c->srv->o.idle_ms % 1000) * 1000};
            evtimer_add(c->idle, &tv); /* re-armed by every read: fires only when input stops */
        } else evtimer_del(c->idle);
    }
    return 0;
}

static void conn_idle_cb(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    conn *c = arg;
    if (!c->closing) live_session_flush(c->ss, live_now_us());
}

static void conn_read_cb(struct bufferevent *bev, void *ctx) {
    conn *c = ctx;
    (void)bev;
    conn_process(c);
}

static void conn_write_cb(struct bufferevent *bev, void *ctx) {
    conn *c = ctx;
    size_t left = evbuffer_get_length(bufferevent_get_output(bev));
    if (c->closing) {
        if (!left) conn_free(c);
        return;
    }
    if (c->paused && left <= OUT_RESUME) {
        c->paused = 0;
        bufferevent_enable(bev, EV_READ);
        conn_process(c);
    }
}

static void conn_event_cb(struct bufferevent *bev, short what, void *ctx) {
    conn *c = ctx;
    (void)bev;
    if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) && !c->closing) {
        /* --stream-timeout: nothing came for that long (reading was on: a paused client
         * is waiting for us, not idle). Its open window runs, then it is closed. */
        live_core_metrics(c->srv->core)->stream_timeouts++;
        char why[96];
        snprintf(why, sizeof why, "no input for %u s: closed (--stream-timeout)", c->srv->o.stream_timeout_s);
        live_session_flush(c->ss, live_now_us());
        conn_error_line(c, why);
        conn_close_later(c);
        return;
    }
    if (what & BEV_EVENT_EOF && !(what & BEV_EVENT_ERROR) && !c->closing) {
        /* The client finished sending (it may still read): run what it sent, then close.
         * A partial frame left behind is a client that vanished mid-frame: dropped. */
        c->paused = 0;
        if (conn_process(c) || c->closing) return;
        live_session_flush(c->ss, live_now_us());
        conn_close_later(c);
        return;
    }
    conn_free(c); /* error, timeout, or EOF while closing */
}

static void accept_cb(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg) {
    live_server *srv = arg;
    (void)lis;
    (void)sa;
    (void)salen;
    live_metrics *m = live_core_metrics(srv->core);
    if (srv->draining || srv->n_conns >= srv->o.max_conns) {
        static const char msg[] = "{\"error\":\"server full or shutting down\"}\n";
        m->refused[srv->draining ? LIVE_REFUSE_DRAINING : LIVE_REFUSE_FULL]++;
        ssize_t w = send(fd, msg, sizeof msg - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)w;
        evutil_closesocket(fd);
        return;
    }
    conn *c = calloc(1, sizeof *c);
    if (!c) {
        evutil_closesocket(fd);
        return;
    }
    c->srv = srv;
    c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
    c->ss = c->bev ? live_session_create(srv->core, conn_emit, c, NULL) : NULL;
    if (!c->ss) {
        if (c->bev) bufferevent_free(c->bev);
        else evutil_closesocket(fd);
        free(c);
        return;
    }
    c->next = srv->conns;
    if (srv->conns) srv->conns->prev = c;
    srv->conns = c;
    srv->n_conns++;
    m->connections_total++;
    m->connections_open++;
    if (srv->o.idle_ms) c->idle = evtimer_new(srv->base, conn_idle_cb, c);
    bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
    struct timeval wto = {WRITE_TIMEOUT_S, 0}, rto = {srv->o.stream_timeout_s, 0};
    bufferevent_set_timeouts(c->bev, srv->o.stream_timeout_s ? &rto : NULL, &wto);
    bufferevent_setwatermark(c->bev, EV_READ, 0, READ_HIGH);
    bufferevent_setwatermark(c->bev, EV_WRITE, OUT_RESUME, 0);
    char *g = NULL;
    size_t glen = 0;
    FILE *f = open_memstream(&g, &glen);
    if (f) {
        live_session_greeting(c->ss, f);
        fclose(f);
        bufferevent_write(c->bev, g, glen);
        free(g);
    }
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* ---- accept errors: out of descriptors (or kernel memory) ----
 * libevent calls this when accept() fails with anything but EAGAIN/EINTR; the listener stays
 * readable, so carrying on would spin. Instead: give up the reserve descriptor to accept one
 * waiting client and tell it why before closing it, pause both listeners for
 * ACCEPT_PAUSE_MS, and say so at most once per LOG_EVERY_S. */
static void http_sync_listener(live_server *srv);

static void accept_retry_cb(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    live_server *srv = arg;
    srv->fd_paused = 0;
    if (srv->lis && !srv->draining) evconnlistener_enable(srv->lis);
    http_sync_listener(srv);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg);

/* The HTTP listener's callback argument is evhttp's (evhttp_bind_listener sets it), so its
 * error callback finds the server through its event base: the one-second tick's argument. */
static int find_server(const struct event_base *base, const struct event *ev, void *arg) {
    (void)base;
    if (event_get_callback(ev) != tick_cb) return 0;
    *(live_server **)arg = event_get_callback_arg(ev);
    return 1;
}

static void accept_error_cb(struct evconnlistener *lis, void *arg);

static void http_accept_error_cb(struct evconnlistener *lis, void *arg) {
    (void)arg;
    const int err = EVUTIL_SOCKET_ERROR();
    live_server *srv = NULL;
    event_base_foreach_event(evconnlistener_get_base(lis), find_server, &srv);
    EVUTIL_SET_SOCKET_ERROR(err);
    if (srv) accept_error_cb(lis, srv);
}

static void accept_error_cb(struct evconnlistener *lis, void *arg) {
    live_server *srv = arg;
    const int err = EVUTIL_SOCKET_ERROR();
    const int http = lis != srv->lis;
    live_metrics *m = live_core_metrics(srv->core);
    m->accept_errors++;
    if (srv->reserve_fd >= 0) {
        /* Answer the clients waiting in the accept queue (up to 64 per error: bounded by how
         * fast clients connect, not a loop on a listener that stays readable). */
        close(srv->reserve_fd);
        for (int k = 0; k < 64; k++) {
            int fd = accept4(evconnlistener_get_fd(lis), NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd < 0) break;
            static const char js[] = "{\"error\":\"server out of file descriptors, try again later\"}\n";
            static const char ht[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 32\r\n"
                                     "Connection: close\r\nRetry-After: 1\r\n\r\nserver out of file descriptors\r\n";
            ssize_t w = http ? send(fd, ht, sizeof ht - 1, MSG_NOSIGNAL | MSG_DONTWAIT)
                             : send(fd, js, sizeof js - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            char in[1024]; /* what the client sent already: unread data at close would make it a reset */
            w = recv(fd, in, sizeof in, MSG_DONTWAIT);
            (void)w;
            shutdown(fd, SHUT_WR);
            close(fd);
            if (!http) m->refused[LIVE_REFUSE_FDS]++;
        }
        srv->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    if (!srv->fd_paused) {
        srv->fd_paused = 1;
        if (srv->lis) evconnlistener_disable(srv->lis);
        if (srv->http_lis) evconnlistener_disable(srv->http_lis);
        struct timeval tv = {0, ACCEPT_PAUSE_MS * 1000};
        evtimer_add(srv->accept_retry, &tv);
    }
    const uint64_t now = live_now_us();
    if (now >= srv->log_next_us) {
        slog(srv, "accept on the %s port: %s (%llu more since the last message); accepting pauses %d ms at a time",
             http ? "HTTP" : "stream", strerror(err), (unsigned long long)srv->log_quiet, ACCEPT_PAUSE_MS);
        srv->log_next_us = now + LOG_EVERY_S * 1000000ull;
        srv->log_quiet = 0;
    } else {
        srv->log_quiet++;
    }
}

/* ---- UDP: each datagram holds whole frames (HELLO, batches, ...) ---- */
static void udp_emit(void *ctx, const char *line, size_t len) {
    live_server *srv = ctx;
    if (srv->udp_peerlen) {
        ssize_t w = sendto(srv->udp_fd, line, len, MSG_DONTWAIT, (struct sockaddr *)&srv->udp_peer, srv->udp_peerlen);
        (void)w; /* UDP results are best effort, as the datagrams are */
    }
}

static void udp_cb(evutil_socket_t fd, short what, void *arg) {
    live_server *srv = arg;
    (void)what;
    static uint8_t buf[65536];
    live_metrics *m = live_core_metrics(srv->core);
    for (int k = 0; k < 64; k++) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof peer;
        ssize_t r = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&peer, &plen);
        if (r < 0) break;
        m->udp_datagrams++;
        m->bytes_in += (uint64_t)r;
        memcpy(&srv->udp_peer, &peer, plen);
        srv->udp_peerlen = plen;
        size_t used = 0;
        int rc = live_session_feed(srv->udp_ss, buf, (size_t)r, &used, live_now_us());
        if (rc < 0 || used != (size_t)r) {
            /* A bad datagram is counted and answered; the UDP stream goes on. */
            if (!(rc < 0)) m->frames_bad++;
            char line[600];
            int len = snprintf(line, sizeof line, "{\"error\":\"datagram %llu: %s\"}\n", (unsigned long long)m->udp_datagrams,
                               rc < 0 ? "malformed frame" : "partial frame (a datagram must hold whole frames)");
            udp_emit(srv, line, (size_t)len);
        }
    }
    if (srv->udp_idle) {
        if (live_session_active(srv->udp_ss)) {
            struct timeval tv = {srv->o.idle_ms / 1000, (srv->o.idle_ms % 1000) * 1000};
            evtimer_add(srv->udp_idle, &tv);
        } else evtimer_del(srv->udp_idle);
    }
}

static void udp_idle_cb(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    live_server *srv = arg;
    live_session_flush(srv->udp_ss, live_now_us());
}

/* ---- HTTP ---- */

/* Accept HTTP while below --http-max-conns and not paused after an accept error. Past the
 * cap, new connections wait in the kernel's accept queue until one closes. */
static void http_sync_listener(live_server *srv) {
    if (!srv->http_lis) return;
    live_metrics *m = live_core_metrics(srv->core);
    const int full = m->http_open >= srv->o.http_max_conns;
    if (full && !srv->http_full) m->http_full++;
    srv->http_full = full;
    if (full || srv->fd_paused) evconnlistener_disable(srv->http_lis); /* draining: /healthz says so */
    else evconnlistener_enable(srv->http_lis);
}

static void hconn_free(hconn *h) {
    live_server *srv = h->srv;
    if (h->prev) h->prev->next = h->next;
    else srv->hconns = h->next;
    if (h->next) h->next->prev = h->prev;
    if (h->bev) bufferevent_decref(h->bev);
    free(h);
    live_core_metrics(srv->core)->http_open--;
    http_sync_listener(srv);
}

static void http_closed_cb(struct evhttp_connection *evcon, void *arg) {
    (void)evcon;
    hconn_free(arg);
}

/* The loop iteration after accept: evhttp has made its connection around our bufferevent and
 * set itself as the bufferevent's callback argument (libevent 2.1 http.c, the only place a
 * connection's bufferevent callbacks are set: always with the connection as argument), so
 * the connection is found there and its close callback set. No callbacks left means it is
 * already gone. */
static void http_attach_cb(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    hconn *h = arg;
    bufferevent_data_cb rd;
    bufferevent_event_cb ev;
    void *cbarg = NULL;
    bufferevent_getcb(h->bev, &rd, NULL, &ev, &cbarg);
    if (!rd && !ev) {
        hconn_free(h);
        return;
    }
    h->evcon = cbarg;
    evhttp_connection_set_closecb(h->evcon, http_closed_cb, h);
    bufferevent_decref(h->bev);
    h->bev = NULL;
}

/* evhttp asks for each new connection's bufferevent: the moment to count it. */
static struct bufferevent *http_bev_cb(struct event_base *base, void *arg) {
    live_server *srv = arg;
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    hconn *h = bev ? calloc(1, sizeof *h) : NULL;
    struct timeval now = {0, 0};
    if (!h || event_base_once(base, -1, EV_TIMEOUT, http_attach_cb, h, &now)) {
        free(h);
        return bev; /* untracked: evhttp serves it all the same */
    }
    live_metrics *m = live_core_metrics(srv->core);
    m->http_total++;
    m->http_open++;
    h->srv = srv;
    h->bev = bev;
    bufferevent_incref(bev); /* until attached */
    h->since_us = live_now_us();
    h->next = srv->hconns;
    if (srv->hconns) srv->hconns->prev = h;
    srv->hconns = h;
    http_sync_listener(srv);
    return bev;
}

/* Every 250 ms: close the connections whose request has not arrived complete within
 * --http-timeout of their accept or of their last response (slow or stalled senders). */
static void http_sweep_cb(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    live_server *srv = arg;
    const uint64_t now = live_now_us(), lim = (uint64_t)srv->o.http_timeout_s * 1000000u;
    for (hconn *h = srv->hconns, *next; h; h = next) {
        next = h->next;
        if (h->evcon && now - h->since_us > lim) {
            live_core_metrics(srv->core)->http_timeouts++;
            evhttp_connection_free(h->evcon); /* calls http_closed_cb: h is freed */
        }
    }
}

static void http_answered(live_server *srv, struct evhttp_request *req) {
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    for (hconn *h = srv->hconns; h; h = h->next)
        if (h->evcon == evcon) h->since_us = live_now_us();
}

static void http_send(struct evhttp_request *req, int code, const char *type, char *body, size_t len) {
    struct evbuffer *b = evbuffer_new();
    if (b && body) evbuffer_add(b, body, len);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
    evhttp_send_reply(req, code, code == 200 ? "OK" : "Not Found", b);
    if (b) evbuffer_free(b);
}

static void http_cb(struct evhttp_request *req, void *arg) {
    live_server *srv = arg;
    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET && evhttp_request_get_command(req) != EVHTTP_REQ_HEAD) {
        evhttp_send_error(req, 405, "GET only");
        return;
    }
    const char *uri = evhttp_request_get_uri(req);
    char path[256];
    size_t k = 0;
    while (uri[k] && uri[k] != '?' && k + 1 < sizeof path) {
        path[k] = uri[k];
        k++;
    }
    path[k] = 0;
    char *body = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&body, &len);
    if (!f) {
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    const char *type = "application/json";
    int code = 200;
    if (!strcmp(path, "/metrics")) {
        live_core_prometheus(srv->core, f);
        type = "text/plain; version=0.0.4; charset=utf-8";
    } else if (!strcmp(path, "/healthz")) {
        fprintf(f, "{\"status\":\"%s\"}\n", srv->draining ? "draining" : "ok");
    } else if (!strcmp(path, "/v1/model")) {
        live_core_model_json(srv->core, f);
    } else if (!strcmp(path, "/v1/live")) {
        live_core_live_json(srv->core, f);
    } else if (!strcmp(path, "/") || !strcmp(path, "/index.html")) {
        fputs(live_page_html, f);
        type = "text/html; charset=utf-8";
    } else {
        code = 404;
        fprintf(f, "{\"error\":\"no such endpoint: /metrics /healthz /v1/model /v1/live /\"}\n");
    }
    fclose(f);
    http_send(req, code, type, body, len);
    free(body);
    http_answered(srv, req);
}

/* ---- lifecycle ---- */
static void drain_timeout_cb(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    live_server *srv = arg;
    event_base_loopexit(srv->base, NULL);
}

static void start_drain(live_server *srv) {
    if (srv->draining) return;
    srv->draining = 1;
    if (srv->lis) evconnlistener_disable(srv->lis);
    if (srv->udp_ev) event_del(srv->udp_ev);
    if (srv->udp_ss) live_session_flush(srv->udp_ss, live_now_us());
    /* Every connection: run what it has sent (its open window), send the results, close. */
    conn *c = srv->conns;
    while (c) {
        conn *next = c->next;
        if (!c->closing) {
            /* Take what the client sent before the signal but the loop has not read yet
             * (non-blocking socket; bounded by the read watermark). */
            struct evbuffer *in = bufferevent_get_input(c->bev);
            while (!c->paused && evbuffer_get_length(in) < READ_HIGH &&
                   evbuffer_read(in, bufferevent_getfd(c->bev), 65536) > 0) {
            }
            if (!conn_process(c) && !c->closing) {
                live_session_flush(c->ss, live_now_us());
                conn_close_later(c);
            }
        }
        c = next;
    }
    if (!srv->n_conns) event_base_loopexit(srv->base, NULL);
    struct timeval tv = {DRAIN_TIMEOUT_S, 0};
    evtimer_add(srv->drain_to, &tv);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg) {
    (void)sig;
    (void)what;
    start_drain(arg);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    live_metrics *m = live_core_metrics(((live_server *)arg)->core);
    m->steps_per_s = (double)(m->steps - m->steps_at_tick);
    m->steps_at_tick = m->steps;
}

/* "HOST:PORT" or "[V6]:PORT" with a numeric host (or localhost); port 0 = ephemeral. */
static int parse_hostport(const char *s, struct sockaddr_storage *ss, int *len, const char *what) {
    memset(ss, 0, sizeof *ss);
    const char *colon = strrchr(s, ':');
    char host[INET6_ADDRSTRLEN + 2];
    char *end;
    if (!colon || colon == s || (size_t)(colon - s) >= sizeof host) goto bad;
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || port < 0 || port > 65535) goto bad;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    if (!strcmp(host, "localhost")) strcpy(host, "127.0.0.1");
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *len = sizeof *a4;
        return 0;
    }
    size_t hl = strlen(host);
    if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = 0;
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) == 1) {
            a6->sin6_family = AF_INET6;
            a6->sin6_port = htons((uint16_t)port);
            *len = sizeof *a6;
            return 0;
        }
    }
bad:
    return evsnn_seterr(EVSNN_EINVAL, "%s '%s': expected HOST:PORT with a numeric host, e.g. 127.0.0.1:7070 or [::1]:0", what, s);
}

static int sock_loopback(const struct sockaddr_storage *ss) {
    if (ss->ss_family == AF_INET) return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
}

/* Every connection is a descriptor: the caps and a reserve must fit the open-file limit.
 * The soft limit is raised toward the hard one when that suffices. */
static int fd_budget(const live_server_opts *o) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl)) return 0;
    const rlim_t need = (rlim_t)o->max_conns + (o->http ? o->http_max_conns : 0) + LIVE_FD_RESERVE;
    if (rl.rlim_cur == RLIM_INFINITY || need <= rl.rlim_cur) return 0;
    if (rl.rlim_max == RLIM_INFINITY || need <= rl.rlim_max) {
        struct rlimit up = {need, rl.rlim_max};
        if (!setrlimit(RLIMIT_NOFILE, &up)) return 0;
    }
    return evsnn_seterr(EVSNN_ERANGE,
                        "--max-conns %u + --http-max-conns %u + %d reserved need %llu file descriptors, above the "
                        "open-file limit of %llu (hard limit %llu; see ulimit -n): lower the caps or raise the limit",
                        o->max_conns, o->http ? o->http_max_conns : 0, LIVE_FD_RESERVE, (unsigned long long)need,
                        (unsigned long long)rl.rlim_cur,
                        rl.rlim_max == RLIM_INFINITY ? (unsigned long long)-1 : (unsigned long long)rl.rlim_max);
}

void live_server_free(live_server *s) {
    if (!s) return;
    while (s->conns) conn_free(s->conns);
    if (s->lis) evconnlistener_free(s->lis);
    if (s->udp_ev) event_free(s->udp_ev);
    if (s->udp_idle) event_free(s->udp_idle);
    if (s->udp_fd >= 0) close(s->udp_fd);
    live_session_free(s->udp_ss);
    if (s->http) {
        s->http_lis = NULL; /* evhttp frees it first, then closes its connections (their hconns go) */
        evhttp_free(s->http);
    } else if (s->http_lis) evconnlistener_free(s->http_lis);
    while (s->hconns) { /* accepted, not yet attached */
        hconn *h = s->hconns;
        s->hconns = h->next;
        if (h->bev) bufferevent_decref(h->bev);
        free(h);
    }
    if (s->accept_retry) event_free(s->accept_retry);
    if (s->http_sweep) event_free(s->http_sweep);
    if (s->reserve_fd >= 0) close(s->reserve_fd);
    if (s->sig_term) event_free(s->sig_term);
    if (s->sig_int) event_free(s->sig_int);
    if (s->tick) event_free(s->tick);
    if (s->drain_to) event_free(s->drain_to);
    if (s->base) event_base_free(s->base);
    free(s);
}

live_server *live_server_create(live_core *core, const live_server_opts *o, int *err) {
    int rc = EVSNN_ENOMEM;
    live_server *s = calloc(1, sizeof *s);
    if (!s) goto fail;
    s->core = core;
    s->o = *o;
    s->udp_fd = s->reserve_fd = -1;
    s->port_tcp = s->port_udp = s->port_http = -1;
    if (!s->o.listen) s->o.listen = "127.0.0.1:0";
    if (!s->o.max_conns) s->o.max_conns = 256;
    if (!s->o.http_max_conns) s->o.http_max_conns = 64;
    if (!s->o.http_timeout_s) s->o.http_timeout_s = 10;
    struct sockaddr_storage ss, hs;
    int sslen, hlen = 0;
    if ((rc = parse_hostport(s->o.listen, &ss, &sslen, "--listen"))) goto fail;
    if (o->http && (rc = parse_hostport(o->http, &hs, &hlen, "--http"))) goto fail;
    /* Nothing here authenticates: say so before binding anywhere but loopback. */
    if (!sock_loopback(&ss))
        slog(s, "warning: --listen %s accepts streams from beyond this machine (no authentication)", s->o.listen);
    if (o->http && !sock_loopback(&hs))
        slog(s, "warning: --http %s serves /metrics and the live page beyond this machine (no authentication)", o->http);
    if ((rc = fd_budget(&s->o))) goto fail;
    rc = EVSNN_ENOMEM;
    s->base = event_base_new();
    if (!s->base) goto fail;
    s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    s->accept_retry = evtimer_new(s->base, accept_retry_cb, s);
    if (s->reserve_fd < 0 || !s->accept_retry) goto fail;
    s->lis = evconnlistener_new_bind(s->base, accept_cb, s, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 128, (struct sockaddr *)&ss, sslen);
    if (!s->lis) {
        rc = evsnn_seterr(EVSNN_EIO, "--listen %s: cannot bind: %s", s->o.listen, strerror(errno));
        goto fail;
    }
    evconnlistener_set_error_cb(s->lis, accept_error_cb);
    s->port_tcp = sock_port(evconnlistener_get_fd(s->lis));
    if (o->udp_port >= 0) {
        struct sockaddr_storage us = ss;
        if (us.ss_family == AF_INET) ((struct sockaddr_in *)&us)->sin_port = htons((uint16_t)o->udp_port);
        else ((struct sockaddr_in6 *)&us)->sin6_port = htons((uint16_t)o->udp_port);
        s->udp_fd = socket(us.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (s->udp_fd < 0 || bind(s->udp_fd, (struct sockaddr *)&us, (socklen_t)sslen)) {
            rc = evsnn_seterr(EVSNN_EIO, "--udp %d: cannot bind: %s", o->udp_port, strerror(errno));
            goto fail;
        }
        s->port_udp = sock_port(s->udp_fd);
        s->udp_ss = live_session_create(core, udp_emit, s, &rc);
        s->udp_ev = s->udp_ss ? event_new(s->base, s->udp_fd, EV_READ | EV_PERSIST, udp_cb, s) : NULL;
        if (!s->udp_ev || event_add(s->udp_ev, NULL)) goto fail;
        if (o->idle_ms && !(s->udp_idle = evtimer_new(s->base, udp_idle_cb, s))) goto fail;
    }
    if (o->http) {
        /* Our own listener (for its accept-error callback and to pause it at the cap),
         * handed to evhttp; evhttp's limits on header and body size and its idle timeout. */
        s->http = evhttp_new(s->base);
        if (!s->http) goto fail;
        s->http_lis = evconnlistener_new_bind(s->base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 128,
                                              (struct sockaddr *)&hs, hlen);
        if (!s->http_lis) {
            rc = evsnn_seterr(EVSNN_EIO, "--http %s: cannot bind: %s", o->http, strerror(errno));
            goto fail;
        }
        struct evhttp_bound_socket *hb = evhttp_bind_listener(s->http, s->http_lis);
        if (!hb) goto fail;
        evconnlistener_set_error_cb(s->http_lis, http_accept_error_cb);
        s->port_http = sock_port(evhttp_bound_socket_get_fd(hb));
        evhttp_set_gencb(s->http, http_cb, s);
        evhttp_set_bevcb(s->http, http_bev_cb, s);
        evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
        evhttp_set_max_headers_size(s->http, LIVE_HTTP_MAX_HEADERS);
        evhttp_set_max_body_size(s->http, LIVE_HTTP_MAX_BODY);
        evhttp_set_timeout(s->http, (int)s->o.http_timeout_s);
        s->http_sweep = event_new(s->base, -1, EV_PERSIST, http_sweep_cb, s);
        struct timeval q = {0, 250000};
        if (!s->http_sweep || event_add(s->http_sweep, &q)) goto fail;
    }
    rc = EVSNN_ENOMEM;
    s->tick = event_new(s->base, -1, EV_PERSIST, tick_cb, s);
    s->drain_to = evtimer_new(s->base, drain_timeout_cb, s);
    if (!s->tick || !s->drain_to) goto fail;
    struct timeval one = {1, 0};
    event_add(s->tick, &one);
    if (o->handle_signals) {
        s->sig_term = evsignal_new(s->base, SIGTERM, signal_cb, s);
        s->sig_int = evsignal_new(s->base, SIGINT, signal_cb, s);
        if (!s->sig_term || !s->sig_int || event_add(s->sig_term, NULL) || event_add(s->sig_int, NULL)) goto fail;
    }
    signal(SIGPIPE, SIG_IGN); /* a client that vanishes must not kill the server */
    return s;
fail:
    if (rc == EVSNN_ENOMEM) evsnn_seterr(rc, "live server: cannot set up the event loop");
    live_server_free(s);
    if (err) *err = rc;
    return NULL;
}

void live_server_ports(const live_server *s, int *tcp, int *udp, int *http) {
    if (tcp) *tcp = s->port_tcp;
    if (udp) *udp = s->port_udp;
    if (http) *http = s->port_http;
}

int live_server_run(live_server *s) {
    if (event_base_dispatch(s->base) < 0) return evsnn_seterr(EVSNN_EIO, "live server: event loop failed");
    return 0;
}

int live_server_run_once(live_server *s) {
    if (event_base_loop(s->base, EVLOOP_NONBLOCK) < 0) return evsnn_seterr(EVSNN_EIO, "live server: event loop failed");
    return 0;
}
