/* tests/fuzz_http.c — libFuzzer harness: arbitrary bytes as an HTTP request to a live
 * server's HTTP port on 127.0.0.1 (evhttp's request parsing, the limits of io/LIVE.md and
 * the handlers /metrics, /healthz, /v1/model, /v1/live, /). One server for the whole run,
 * driven from here: each input is sent on a new connection, the sending side shut, and the
 * loop run until the server has closed the connection (it must: the request is answered,
 * refused, or ends with the stream). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/live_server.h"
#include "sim/evsnn.h"

static live_server *srv;
static int http_port;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    signal(SIGPIPE, SIG_IGN);
    int err;
    net *n = net_build("4-2", 0, 0, 0, NULL, &err);
    if (!n) abort();
    net_init_params(n, 1);
    live_core_opts co = {.steps = 4, .dt_us = 1000, .window_cap = 1024, .model_path = "fuzz"};
    live_core *core = live_core_create(n, &co, &err);
    live_server_opts so = {.listen = "127.0.0.1:0", .udp_port = -1, .http = "127.0.0.1:0", .max_conns = 4,
                           .http_max_conns = 8, .http_timeout_s = 5};
    srv = core ? live_server_create(core, &so, &err) : NULL;
    if (!srv) {
        fprintf(stderr, "fuzz_http: %s\n", evsnn_errmsg());
        abort();
    }
    live_server_ports(srv, NULL, NULL, &http_port);
    return 0; /* the server, core and net live for the whole run */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)http_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) abort(); /* loopback: completes in the kernel */
    size_t off = 0;
    char buf[65536];
    int closed = 0;
    for (int it = 0; it < 20000 && !closed; it++) {
        if (off < size) {
            ssize_t w = send(fd, data + off, size - off, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (w > 0) off += (size_t)w;
            else if (errno != EAGAIN && errno != EWOULDBLOCK) off = size; /* reset by the server */
            if (off == size) shutdown(fd, SHUT_WR);
        } else if (it == 0) shutdown(fd, SHUT_WR);
        live_server_run_once(srv);
        for (;;) {
            ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
            if (r > 0) continue;
            if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) closed = 1;
            break;
        }
        if (!closed && off == size) {
            struct pollfd pf = {.fd = fd, .events = POLLIN};
            poll(&pf, 1, 1); /* the server's turn */
        }
    }
    if (!closed) abort(); /* a connection the server never closed: stuck */
    close(fd);
    live_server_run_once(srv); /* the close callback */
    return 0;
}
