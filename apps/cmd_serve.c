/* apps/cmd_serve.c — `evsnn serve`: online inference over live event streams (io/LIVE.md). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/cmds.h"
#include "apps/json.h"
#include "apps/netcli.h"
#include "io/live_server.h"
#include "io/model.h"
#include "sim/evsnn.h"

static const char *usage_text =
    "usage: evsnn serve (--model MODEL.h5 | --arch A [--input SHAPE] [network options])\n"
    "                   [--listen HOST:PORT] [--udp PORT] [--http HOST:PORT] [--accel CFG]\n"
    "                   [--steps T] [--dt US] [--window-cap N] [--max-conns N] [--idle-ms MS]\n"
    "                   [--stream-timeout S] [--http-max-conns N] [--http-timeout S]\n"
    "\n"
    "Serve a model over live event streams. Clients send evsnn frames (io/LIVE.md: HELLO with\n"
    "the sensor geometry, then batches of (t, x, y, p) or (t, unit) events), an AEDAT 2.0\n"
    "byte stream (DVS128, detected by its '#!AER-DAT2.0' header) or an AEDAT 4.0 stream as DV's\n"
    "network output sends it ('#!AER-DAT4.0', IOHeader, packets; the sensor size from the\n"
    "IOHeader, 'evsnn replay --wire aedat4' sends a file that way). Events are binned into steps\n"
    "of dt µs; every window of T steps runs through the event-driven engine and its prediction\n"
    "goes back on the connection as one JSON line (class, output spike counts, latency).\n"
    "\n"
    "On start, one JSON line on stdout gives the bound ports: {\"listening\":{\"tcp\":P,...}}.\n"
    "SIGTERM or SIGINT: stop accepting, run every open window, send the results, exit 0 with\n"
    "a JSON summary line.\n"
    "\n"
    "  --listen HOST:PORT  TCP stream address (default 127.0.0.1:0, an ephemeral port)\n"
    "  --udp PORT          also take frames over UDP on the listen host (0: ephemeral);\n"
    "                      each datagram holds whole frames; results go back to the sender\n"
    "  --http HOST:PORT    HTTP: /metrics (Prometheus), /healthz, /v1/model, /v1/live, and the\n"
    "                      live page at / (spike raster, firing rates, queue occupancy); no\n"
    "                      authentication: a host other than loopback is warned about\n"
    "  --accel CFG         run each window through the accelerator model (hw/README.md) and\n"
    "                      export its queue occupancy\n"
    "  --steps T           steps per window (default: the model's, else 100)\n"
    "  --dt US             bin width in µs when a client's HELLO gives none (default 1000;\n"
    "                      AEDAT streams always use it)\n"
    "  --window-cap N      events kept per window and connection (default 1048576); more are\n"
    "                      dropped and counted (reason \"cap\")\n"
    "  --max-conns N       concurrent stream connections (default 256); more are refused\n"
    "                      with a reason line. With --http-max-conns and 64 reserved, it must\n"
    "                      fit the open-file limit (checked at start; ulimit -n)\n"
    "  --stream-timeout S  close a stream connection that sent nothing for S s, after running\n"
    "                      its open window (default 60; 0: never)\n"
    "  --http-max-conns N  concurrent HTTP connections (default 64); more wait to be accepted\n"
    "  --http-timeout S    an HTTP request must arrive complete within S s of the connection\n"
    "                      or of the previous response, else it is closed (default 10);\n"
    "                      request headers are limited to 8 KiB, bodies to 4 KiB\n"
    "  --idle-ms MS        run a connection's open window when no input came for MS ms of\n"
    "                      wall time (a sensor gone quiet still gets its result; default 0: off,\n"
    "                      windows close on stream time, FLUSH, BYE or end of stream only)\n"
    "  --model FILE        an evsnn model file (see 'evsnn init') or a NIR graph ('evsnn nir')\n"
    "  --init-seed S       with --arch: seed of the initialisation (default 1)\n"
    "\n" NETCLI_HELP
    "\nExample:\n"
    "  evsnn serve --model m.h5 --listen 127.0.0.1:7070 --http 127.0.0.1:8080\n"
    "  evsnn replay ../shared/datasets/nmnist-small/test100.txt --to 127.0.0.1:7070\n"
    "\nExit status: 0 after a drain, 1 runtime failure, 2 bad options or model.\n";

static int parse_ul(const char *s, unsigned long lo, unsigned long hi, unsigned long *v) {
    char *end;
    if (!*s || *s == '-') return -1;
    *v = strtoul(s, &end, 10);
    return !*end && *v >= lo && *v <= hi ? 0 : -1;
}

/* The server's operational messages (warnings, rate-limited accept errors). */
static void serve_log(void *ctx, const char *msg) {
    (void)ctx;
    fprintf(stderr, "evsnn serve: %s\n", msg);
}

int cmd_serve(int argc, char **argv) {
    static const struct option opts[] = {NETCLI_OPTIONS,
                                         {"model", required_argument, 0, 'm'},
                                         {"listen", required_argument, 0, 'l'},
                                         {"udp", required_argument, 0, 'u'},
                                         {"http", required_argument, 0, 'H'},
                                         {"accel", required_argument, 0, 'a'},
                                         {"steps", required_argument, 0, 'T'},
                                         {"dt", required_argument, 0, 'd'},
                                         {"window-cap", required_argument, 0, 'w'},
                                         {"max-conns", required_argument, 0, 'c'},
                                         {"idle-ms", required_argument, 0, 'I'},
                                         {"stream-timeout", required_argument, 0, 'S'},
                                         {"http-max-conns", required_argument, 0, 'C'},
                                         {"http-timeout", required_argument, 0, 't'},
                                         {"init-seed", required_argument, 0, 'i'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    netcli nc;
    netcli_init(&nc);
    const char *model = NULL, *listen = "127.0.0.1:0", *http = NULL, *accel = NULL;
    unsigned long udp = 0, steps = 0, dt = 1000, cap = 1u << 20, maxc = 256, init_seed = 1, idle = 0;
    unsigned long stream_to = 60, http_maxc = 64, http_to = 10;
    int use_udp = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int rc = netcli_parse(&nc, c, optarg);
        if (rc < 0) { fprintf(stderr, "evsnn serve: %s\n", evsnn_errmsg()); return 2; }
        if (rc) continue;
        switch (c) {
        case 'm': model = optarg; break;
        case 'l': listen = optarg; break;
        case 'H': http = optarg; break;
        case 'a': accel = optarg; break;
        case 'u':
            if (parse_ul(optarg, 0, 65535, &udp)) { fprintf(stderr, "evsnn serve: --udp '%s': expected a port 0..65535\n", optarg); return 2; }
            use_udp = 1;
            break;
        case 'T':
            if (parse_ul(optarg, 1, 100000, &steps)) { fprintf(stderr, "evsnn serve: --steps '%s': expected an integer in 1..100000\n", optarg); return 2; }
            break;
        case 'd':
            if (parse_ul(optarg, 1, 100000000, &dt)) { fprintf(stderr, "evsnn serve: --dt '%s': expected µs in 1..100000000\n", optarg); return 2; }
            break;
        case 'w':
            if (parse_ul(optarg, 1, 1ul << 28, &cap)) { fprintf(stderr, "evsnn serve: --window-cap '%s': expected an integer in 1..268435456\n", optarg); return 2; }
            break;
        case 'c':
            if (parse_ul(optarg, 1, 100000, &maxc)) { fprintf(stderr, "evsnn serve: --max-conns '%s': expected an integer in 1..100000\n", optarg); return 2; }
            break;
        case 'I':
            if (parse_ul(optarg, 0, 3600000, &idle)) { fprintf(stderr, "evsnn serve: --idle-ms '%s': expected ms in 0..3600000\n", optarg); return 2; }
            break;
        case 'S':
            if (parse_ul(optarg, 0, 86400, &stream_to)) { fprintf(stderr, "evsnn serve: --stream-timeout '%s': expected seconds in 0..86400\n", optarg); return 2; }
            break;
        case 'C':
            if (parse_ul(optarg, 1, 100000, &http_maxc)) { fprintf(stderr, "evsnn serve: --http-max-conns '%s': expected an integer in 1..100000\n", optarg); return 2; }
            break;
        case 't':
            if (parse_ul(optarg, 1, 3600, &http_to)) { fprintf(stderr, "evsnn serve: --http-timeout '%s': expected seconds in 1..3600\n", optarg); return 2; }
            break;
        case 'i':
            if (parse_ul(optarg, 0, (unsigned long)-1, &init_seed)) { fprintf(stderr, "evsnn serve: --init-seed '%s': expected a non-negative integer\n", optarg); return 2; }
            break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fprintf(stderr, "evsnn serve: see 'evsnn serve --help'\n"); return 2;
        }
    }
    if (optind < argc) { fprintf(stderr, "evsnn serve: unexpected argument '%s'\n", argv[optind]); return 2; }
    if (model && nc.arch) { fprintf(stderr, "evsnn serve: give --model or --arch, not both\n"); return 2; }
    if (!model && !nc.arch) { fprintf(stderr, "evsnn serve: give --model FILE or --arch A (see 'evsnn serve --help')\n"); return 2; }
    int err;
    model_meta meta = {0};
    net *n = model ? netcli_fold(netcli_load_model(model, &meta, "evsnn serve", &err), &meta, "evsnn serve", &err)
                   : netcli_build(&nc, &err);
    if (!n) { fprintf(stderr, "evsnn serve: %s\n", evsnn_errmsg()); return 2; }
    if (!model) net_init_params(n, init_seed);
    live_core_opts co = {.steps = (uint32_t)(steps ? steps : meta.steps ? meta.steps : 100), .dt_us = (uint32_t)dt,
                         .window_cap = (uint32_t)cap, .accel = accel, .model_path = model ? model : ""};
    live_core *core = live_core_create(n, &co, &err);
    if (!core) {
        fprintf(stderr, "evsnn serve: %s\n", evsnn_errmsg());
        net_free(n);
        return 2;
    }
    live_server_opts so = {.listen = listen, .udp_port = use_udp ? (int)udp : -1, .http = http, .max_conns = (uint32_t)maxc,
                           .handle_signals = 1, .idle_ms = (uint32_t)idle, .stream_timeout_s = (uint32_t)stream_to,
                           .http_max_conns = (uint32_t)http_maxc, .http_timeout_s = (uint32_t)http_to, .log = serve_log};
    live_server *srv = live_server_create(core, &so, &err);
    if (!srv) {
        fprintf(stderr, "evsnn serve: %s\n", evsnn_errmsg());
        live_core_free(core);
        net_free(n);
        return err == EVSNN_EIO ? 1 : 2;
    }
    int tcp, up, hp;
    live_server_ports(srv, &tcp, &up, &hp);
    printf("{\"listening\":{\"tcp\":%d,\"udp\":%d,\"http\":%d},\"steps\":%u,\"dt_us\":%u,\"arch\":", tcp, up, hp, co.steps, co.dt_us);
    json_str(stdout, n->arch);
    fputs("}\n", stdout);
    fflush(stdout);
    int rc = live_server_run(srv);
    /* Drained: a repeated SIGTERM while the process winds down must not turn a clean exit
     * into death by signal. Blocked, not ignored: freeing the server restores the default
     * handlers libevent replaced, a mask survives that. */
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigaddset(&term, SIGINT);
    sigprocmask(SIG_BLOCK, &term, NULL);
    const live_metrics *m = live_core_metrics(core);
    uint64_t dropped = 0;
    for (int r = 0; r < LIVE_DROP_N; r++) dropped += m->dropped[r];
    printf("{\"stopped\":true,\"connections\":%llu,\"events\":%llu,\"dropped\":%llu,\"bad_frames\":%llu,\"windows\":%llu,\"steps\":%llu}\n",
           (unsigned long long)m->connections_total, (unsigned long long)m->events_in, (unsigned long long)dropped,
           (unsigned long long)m->frames_bad, (unsigned long long)m->windows, (unsigned long long)m->steps);
    if (rc) fprintf(stderr, "evsnn serve: %s\n", evsnn_errmsg());
    live_server_free(srv);
    live_core_free(core);
    net_free(n);
    return rc ? 1 : 0;
}
