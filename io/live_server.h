/* io/live_server.h — `evsnn serve`: online inference over live event streams.
 *
 * Three layers, each usable alone:
 *   live_core     the network, one engine workspace, the metrics and the live snapshot;
 *                 runs one window (a T-step input train) and formats its result line.
 *                 It composes engine and accelerator model, so it lives above io, in
 *                 hw/live.c; io/ sees it only through the functions below.
 *   live_session  one stream's state machine, independent of sockets: fed bytes in any
 *                 chunking, it detects the protocol (evsnn frames, io/live_frame.h, an
 *                 AEDAT 2.0 byte stream starting with "#!AER-DAT2.0", or an AEDAT 4.0
 *                 stream, io/aedat4.h, as DV's network output sends it), bins events into
 *                 steps of dt µs, closes windows of T steps and emits one JSON line per
 *                 window through a callback. Memory: at most `window_cap` pending events.
 *   live_server   libevent: TCP listener, optional UDP socket (one frame batch per
 *                 datagram), evhttp (/metrics, /healthz, /v1/model, /v1/live, the live page
 *                 at /), SIGTERM/SIGINT drain. Everything runs in the one event-loop thread,
 *                 engine included: a busy engine stops the loop from reading, which pushes
 *                 back on the clients through TCP (documented in io/LIVE.md with figures).
 * Windows (io/LIVE.md): a WINDOW frame starts an explicit window at t_start (events at or
 * past t_start + T·dt are dropped as "outside" until the next WINDOW); without WINDOW
 * frames, windows tumble from the stream's first event. Channels: c·H·W + y·W + x with
 * c = polarity, sensor pixels summed down by the integer factor between sensor and model
 * input; values are event counts per step (as io/dataset's default sum pooling).
 * libevent is confined to live_server.c. Not thread-safe: one thread drives a server. */
#ifndef EVSNN_LIVE_SERVER_H
#define EVSNN_LIVE_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "io/live_metrics.h"
#include "sim/net.h"

typedef struct {
    uint32_t steps;       /* T of every window (default 100) */
    uint32_t dt_us;       /* default bin width when the HELLO gives none (default 1000) */
    uint32_t window_cap;  /* pending events per window (default 1 << 20), beyond: dropped "cap" */
    const char *accel;    /* accelerator config file (hw/README.md) or NULL */
    const char *model_path; /* for /v1/model and the greeting */
} live_core_opts;

/* The live core is implemented above io, in hw/live.c (window → engine → accelerator
 * model → metrics and result line); it is declared here because the session and the server
 * take it. io/ calls it only through these functions. */
typedef struct live_core live_core;

live_core *live_core_create(const net *n, const live_core_opts *o, int *err); /* n is borrowed */
void live_core_free(live_core *c);
live_metrics *live_core_metrics(live_core *c);
const net *live_core_net(const live_core *c);
const live_core_opts *live_core_options(const live_core *c); /* defaults filled in */
/* JSON documents of the HTTP endpoints (one object, newline-terminated). */
void live_core_model_json(const live_core *c, FILE *f);
void live_core_live_json(const live_core *c, FILE *f);
void live_core_greeting(const live_core *c, FILE *f); /* what live_session_greeting sends */
/* One closed window of a stream: its pending events in arrival order (step < steps,
 * channel < the network's inputs) and what its result line reports. */
typedef struct {
    const uint32_t *step, *ch;
    uint32_t n;                /* events */
    uint64_t index;            /* the stream's window number */
    uint32_t tag;              /* WINDOW frame's tag, else the window number */
    uint64_t dropped;          /* events dropped from this window */
    uint64_t t_start_us;
    uint32_t dt_us;
    uint64_t last_wall_us;     /* arrival (monotonic µs) of the last event, for latency */
} live_window;
/* Run the window: engine, accelerator model (when configured), metrics, the live snapshot.
 * *line, *len: its JSON result line, '\n'-terminated, in the core's buffer (valid until the
 * next window; *len 0 when no memory was left to format it). 0 or a negative EVSNN_E*. */
int live_core_window(live_core *c, const live_window *w, const char **line, size_t *len);
/* {"error":reason}\n as JSON into buf[cap]; its length, or 0 if it does not fit. */
size_t live_error_line(char *buf, size_t cap, const char *reason);
/* {key:value}\n as JSON to f (the HTTP status and error bodies). */
void live_status_line(FILE *f, const char *key, const char *value);
/* The JSON every live line is written with (compact, reals to the last digit): doc and a
 * newline to f, doc released; a string that may hold any bytes (a path) as a JSON string
 * when it is UTF-8, else null. */
struct json_t;
void live_json_line(FILE *f, struct json_t *doc);
struct json_t *live_json_str(const char *s);
void live_core_prometheus(const live_core *c, FILE *f); /* /metrics */

/* ---- one stream ---- */
typedef struct live_session live_session;
/* Called with each output line (JSON, '\n'-terminated). */
typedef void (*live_emit_fn)(void *ctx, const char *line, size_t len);

live_session *live_session_create(live_core *c, live_emit_fn emit, void *ctx, int *err);
void live_session_free(live_session *s);
/* The greeting line a server sends first (model, input shape, steps, dt, protocol). */
void live_session_greeting(const live_session *s, FILE *f);
/* Consume complete units (frames, header lines, AEDAT records or packets) of buf[0..n); *used is set
 * to the bytes consumed, live_session_need() to the bytes the next unit needs in one piece.
 * Returns 0, 1 after a BYE frame (stop reading), or a negative EVSNN_E* for a malformed
 * stream (message set; the caller closes the stream with that reason). now_us: wall time of
 * arrival (monotonic µs), for latency. */
int live_session_feed(live_session *s, const uint8_t *buf, size_t n, size_t *used, uint64_t now_us);
size_t live_session_need(const live_session *s);
/* Close the current window, if any (run it, emit its result). */
int live_session_flush(live_session *s, uint64_t now_us);
int live_session_active(const live_session *s); /* 1 while a window is open */
uint64_t live_now_us(void); /* CLOCK_MONOTONIC µs */

/* ---- the server ---- */
/* Limits (io/LIVE.md "Limits"): every connection costs a file descriptor, so at start-up
 * max_conns + http_max_conns + LIVE_FD_RESERVE must fit the open-file limit (the soft limit is
 * raised toward the hard one when needed, else create fails naming the figures). Past the
 * limit anyway (descriptors used elsewhere), accept errors pause accepting for 250 ms and a
 * reserve descriptor answers the waiting client with a reason before closing it. */
#define LIVE_FD_RESERVE 64
#define LIVE_HTTP_MAX_HEADERS 8192 /* bytes of request line + headers; more: 400, closed */
#define LIVE_HTTP_MAX_BODY 4096    /* GET/HEAD only: a larger body is refused (413) */

typedef struct {
    const char *listen;   /* "HOST:PORT" TCP (default 127.0.0.1:0) */
    int udp_port;         /* -1 none, 0 ephemeral, on the listen host */
    const char *http;     /* "HOST:PORT" or NULL */
    uint32_t max_conns;   /* stream connections, default 256; more are refused with a reason line */
    int handle_signals;   /* SIGTERM/SIGINT drain and stop */
    uint32_t idle_ms;     /* run an open window after this much wall time without input (0: never) */
    uint32_t stream_timeout_s; /* close a stream that sent nothing for this long (default 60; 0: never) */
    uint32_t http_max_conns;   /* HTTP connections at once (default 64); past it accepting waits */
    uint32_t http_timeout_s;   /* a request must arrive complete within this (default 10) */
    /* Operational messages (accept errors, rate-limited to one line per 10 s): the server
     * prints nothing itself. NULL: dropped. */
    void (*log)(void *ctx, const char *msg);
    void *log_ctx;
} live_server_opts;

typedef struct live_server live_server;

live_server *live_server_create(live_core *core, const live_server_opts *o, int *err);
void live_server_free(live_server *s);
/* Bound ports (after create). -1 for a service not started. */
void live_server_ports(const live_server *s, int *tcp, int *udp, int *http);
/* Run until SIGTERM/SIGINT (drained); 0 or EVSNN_EIO. */
int live_server_run(live_server *s);
/* One pass of the event loop without waiting: for a caller that drives the server from its
 * own loop (the HTTP fuzz harness). 0 or EVSNN_EIO. */
int live_server_run_once(live_server *s);

#endif
