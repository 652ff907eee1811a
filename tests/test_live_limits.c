/* tests/test_live_limits.c — `evsnn serve` under bounded attacks from 127.0.0.1 (io/LIVE.md
 * "Limits"): idle stream connections, the process out of file descriptors, huge HTTP
 * headers, slow HTTP connections; the start-up descriptor budget and the warning for a
 * non-loopback bind.
 *
 * Every attack is bounded (a fixed number of connections, at most a few seconds) and checks
 * three things: the server keeps serving a well-behaved stream client that was connected
 * before the attack at ≥ GOOD_FRACTION of the rate it had just before the attack (measured
 * moments earlier, on the same machine under the same load); the attack is contained (the
 * cap, the timeout, the refusal it is meant to meet); and the server recovers once the
 * attack stops (a new client is served).
 *
 * GOOD_FRACTION = 0.2. Unfixed, these attacks took the well-behaved client to 0 (locked out,
 * or the loop spinning on accept errors) or to 3 % (12.9 M → 0.42 M events/s under a 64 MB
 * header); fixed, the attackers cost the server little (they sleep, or are cut off after
 * 8 KiB), so the client keeps most of its rate. On a loaded 2-core machine both
 * measurements of a test see the same load, and the attacker threads need at most one core
 * between them, which leaves the server at least half of its time: 0.2 keeps a margin of
 * more than 2 against that and of more than 6 against the unfixed behaviour. */
#include "tests/testutil.h"

#include "sim/evsnn.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <time.h>

#include "io/live_frame.h"
#include "tests/test_live_util.h"

#define GOOD_FRACTION 0.2

static char tmp[256];

static int setup(void **state) {
    (void)state;
    test_tmpdir(tmp, sizeof tmp);
    return tmp[0] ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    test_rmdir(tmp);
    return 0;
}

/* A small server: 2312-10 on N-MNIST's input, 5 steps a window, so a window is cheap also
 * under ASan; extra options appended; stderr to tmp/<name>.err. */
static pid_t running; /* the server a test started and has not stopped */

static void start(tl_server *s, const char *name, const char *extra) {
    char args[1024];
    snprintf(args, sizeof args, "--arch 2312-10 --input 2x34x34 --steps 5 --http 127.0.0.1:0 %s 2>%s/%s.err", extra, tmp, name);
    assert_int_equal(tl_server_start(s, test_evsnn_bin(), args), 0);
    running = s->pid;
}

static int stop_server(tl_server *s) {
    running = 0;
    return tl_server_stop(s, NULL, 0);
}

/* After each test: a failed assertion jumps out before the test stops its server, which
 * would outlive the run; end it. */
static int stop_left(void **state) {
    (void)state;
    if (running > 0) {
        kill(running, SIGKILL);
        waitpid(running, NULL, 0);
        running = 0;
    }
    return 0;
}

static int count_lines(const char *name, const char *needle) {
    char path[512], line[1024];
    snprintf(path, sizeof path, "%s/%s.err", tmp, name);
    FILE *f = fopen(path, "r");
    int n = 0;
    while (f && fgets(line, sizeof line, f)) n += strstr(line, needle) != NULL;
    if (f) fclose(f);
    return n;
}

/* ---- the well-behaved client: pipelined windows of 50 events, counted results ---- */
typedef struct {
    int fd;
    tl_reader *r;
    uint32_t tag;
} good_client;

static void good_open(good_client *g, int port) {
    g->fd = tl_connect(port);
    assert_true(g->fd >= 0);
    g->r = calloc(1, sizeof *g->r);
    g->r->fd = g->fd;
    char line[4096];
    assert_true(tl_readline(g->r, line, sizeof line, 5000) > 0);
    assert_non_null(strstr(line, "\"protocol\":1"));
    uint8_t b[32];
    live_hello h = {.width = 34, .height = 34, .polarities = 2, .kind = LIVE_KIND_XY, .dt_us = 1000};
    assert_int_equal(live_send_all(g->fd, b, live_put_hello(b, &h)), 0);
}

/* Windows answered per second over `secs` (8 in flight at a time). */
static double good_rate(good_client *g, double secs) {
    enum { BATCH = 8, EV = 50 };
    static uint8_t b[BATCH * (LIVE_HDR * 3 + 12 + LIVE_BATCH_HDR + 8 * EV)]; /* WINDOW, XYP batch, FLUSH */
    char line[4096];
    uint64_t done = 0;
    const double t0 = evsnn_now_s();
    while (evsnn_now_s() - t0 < secs) {
        size_t k = 0;
        for (int w = 0; w < BATCH; w++, g->tag++) {
            const uint64_t base = (uint64_t)g->tag * 10000;
            k += live_put_window(b + k, base, g->tag);
            k += live_put_batch_hdr(b + k, LIVE_XYP, base, EV);
            for (int i = 0; i < EV; i++, k += 8) live_put_xyp(b + k, (uint32_t)(i * 90), (uint16_t)(i % 34), (uint16_t)(i * 7 % 34), i & 1);
            k += live_put_empty(b + k, LIVE_FLUSH);
        }
        assert_int_equal(live_send_all(g->fd, b, k), 0);
        for (int w = 0; w < BATCH; w++) {
            assert_true(tl_readline(g->r, line, sizeof line, 10000) > 0);
            if (strstr(line, "error")) fail_msg("good client got %s", line);
        }
        done += BATCH;
    }
    return (double)done / (evsnn_now_s() - t0);
}

static void good_close(good_client *g) {
    close(g->fd);
    free(g->r);
}

/* The well-behaved client during the attack against its rate just before. */
static void expect_served(double before, double during, const char *attack) {
    print_message("%s: well-behaved client %.0f windows/s before, %.0f during (%.0f %%)\n", attack, before, during,
                  100.0 * during / before);
    if (!(during >= GOOD_FRACTION * before))
        fail_msg("%s: the well-behaved client got %.0f windows/s, below %.0f %% of its %.0f before", attack, during,
                 100 * GOOD_FRACTION, before);
}

/* A new client gets the greeting and a result for one window. */
static void expect_new_client_served(int port) {
    good_client g;
    good_open(&g, port);
    assert_true(good_rate(&g, 0.01) > 0);
    good_close(&g);
}

static uint64_t metric(int port, const char *name) {
    int st;
    char *m = tl_http_get(port, "/metrics", &st);
    assert_non_null(m);
    uint64_t v = UINT64_MAX;
    size_t len = strlen(name);
    for (const char *p = m; (p = strstr(p, name)); p += len)
        if ((p == m || p[-1] == '\n') && p[len] == ' ') {
            v = strtoull(p + len + 1, NULL, 10);
            break;
        }
    free(m);
    return v;
}

static int open_fds(pid_t pid) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "ls /proc/%d/fd | wc -l", (int)pid);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p && fscanf(p, "%d", &n) != 1) n = -1;
    if (p) pclose(p);
    return n;
}

/* utime + stime of a process, seconds (/proc/PID/stat fields 14 and 15). */
static double cpu_s(pid_t pid) {
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')');
    unsigned long long ut = 0, st = 0;
    assert_int_equal(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st), 2);
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long rss_kb(pid_t pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) kb = atol(line + 6);
    if (f) fclose(f);
    return kb;
}

/* ---- 1. idle stream connections: 15 silent clients take every free slot ---- */
static void test_idle_streams(void **state) {
    (void)state;
    tl_server s;
    start(&s, "idle", "--max-conns 16 --stream-timeout 2");
    good_client g;
    good_open(&g, s.tcp);
    const double before = good_rate(&g, 1.0);
    enum { IDLE = 15 };
    int fd[IDLE];
    tl_reader *r = calloc(IDLE, sizeof *r);
    char line[4096];
    for (int i = 0; i < IDLE; i++) {
        fd[i] = tl_connect(s.tcp);
        assert_true(fd[i] >= 0);
        r[i].fd = fd[i];
        assert_true(tl_readline(&r[i], line, sizeof line, 5000) > 0); /* accepted: greeting */
    }
    const double t_full = evsnn_now_s();
    /* full: a newcomer is refused with a reason, at once */
    int x = tl_connect(s.tcp);
    tl_reader rx = {.fd = x};
    assert_true(tl_readline(&rx, line, sizeof line, 5000) > 0);
    assert_non_null(strstr(line, "server full"));
    close(x);
    const double during = good_rate(&g, 0.8);
    expect_served(before, during, "idle streams");
    /* each silent client is closed with the reason after --stream-timeout (2 s), not later
     * than 2 s past it */
    for (int i = 0; i < IDLE; i++) {
        assert_true(tl_readline(&r[i], line, sizeof line, 5000) > 0);
        if (!strstr(line, "no input for 2 s")) fail_msg("idle client %d: %s", i, line);
        assert_int_equal(tl_readline(&r[i], line, sizeof line, 5000), 0);
        close(fd[i]);
    }
    assert_true(evsnn_now_s() - t_full < 4.0);
    expect_new_client_served(s.tcp); /* recovered */
    (void)good_rate(&g, 0.05);      /* the active client was never timed out */
    assert_int_equal(metric(s.http, "evsnn_live_stream_timeouts_total"), IDLE);
    assert_true(metric(s.http, "evsnn_live_connections_refused_total{reason=\"full\"}") >= 1);
    good_close(&g);
    free(r);
    assert_int_equal(stop_server(&s), 0);
}

/* ---- 2. out of file descriptors: the server's limit lowered under it, 48 clients ---- */
static void test_fd_exhaustion(void **state) {
    (void)state;
    tl_server s;
    start(&s, "fds", "--max-conns 200");
    good_client g;
    good_open(&g, s.tcp);
    const double before = good_rate(&g, 1.0);
    struct rlimit old, low;
    assert_int_equal(prlimit(s.pid, RLIMIT_NOFILE, NULL, &old), 0);
    const int used = open_fds(s.pid);
    assert_true(used > 0);
    low.rlim_cur = (rlim_t)used + 6; /* room for 6 more connections, then EMFILE */
    low.rlim_max = old.rlim_max;
    assert_int_equal(prlimit(s.pid, RLIMIT_NOFILE, &low, NULL), 0);
    enum { ATT = 48 };
    int fd[ATT], refused = 0;
    for (int i = 0; i < ATT; i++) fd[i] = tl_connect(s.tcp);
    /* No spin: with no other traffic for 1 s the server uses little CPU (a loop on accept
     * errors used a whole core), and says so in one rate-limited line. */
    const double c0 = cpu_s(s.pid);
    usleep(1000000);
    const double spent = cpu_s(s.pid) - c0;
    print_message("out of descriptors: server CPU %.3f s in 1 s\n", spent);
    assert_true(spent < 0.25);
    /* the waiting clients were answered with the reason (those beyond the 6 accepted) */
    for (int i = 0; i < ATT; i++) {
        tl_reader rr = {.fd = fd[i]};
        char line[4096];
        if (tl_readline(&rr, line, sizeof line, 100) > 0 && strstr(line, "out of file descriptors")) refused++;
    }
    print_message("out of descriptors: %d of %d clients refused with the reason\n", refused, ATT);
    assert_true(refused >= ATT - 10);
    const double during = good_rate(&g, 1.0);
    expect_served(before, during, "out of descriptors");
    /* HTTP meanwhile: answered (503 through the reserve, or 200) or closed at once, no hang */
    const double t_http = evsnn_now_s();
    int hf = tl_connect(s.http);
    assert_true(hf >= 0);
    (void)!send(hf, "GET /healthz HTTP/1.0\r\n\r\n", 26, MSG_NOSIGNAL);
    struct pollfd pf = {.fd = hf, .events = POLLIN};
    assert_int_equal(poll(&pf, 1, 3000), 1);
    char resp[256] = "";
    ssize_t rn = recv(hf, resp, sizeof resp - 1, 0);
    if (rn > 12) resp[rn] = 0, assert_true(atoi(resp + 9) == 503 || atoi(resp + 9) == 200);
    close(hf);
    assert_true(evsnn_now_s() - t_http < 2.0);
    /* recovery: the limit restored, the attackers gone */
    assert_int_equal(prlimit(s.pid, RLIMIT_NOFILE, &old, NULL), 0);
    for (int i = 0; i < ATT; i++)
        if (fd[i] >= 0) close(fd[i]);
    usleep(400000); /* past the 250 ms pause */
    expect_new_client_served(s.tcp);
    assert_true(metric(s.http, "evsnn_live_accept_errors_total") >= 1);
    assert_true(metric(s.http, "evsnn_live_connections_refused_total{reason=\"fds\"}") >= (uint64_t)refused);
    good_close(&g);
    assert_int_equal(stop_server(&s), 0);
    const int lines = count_lines("fds", "accept on the stream port");
    print_message("out of descriptors: %d log line(s)\n", lines);
    assert_true(lines >= 1 && lines <= 2);
}

/* ---- 3. huge HTTP headers: 2 senders, up to 64 MB of header each, for 1.5 s ---- */
typedef struct {
    int port, requests, answered_4xx;
    size_t max_sent;
    volatile int *stop;
} hdr_arg;

static void *huge_header(void *p) {
    hdr_arg *a = p;
    static const char chunk_fill = 'a';
    char *chunk = malloc(1 << 16);
    memset(chunk, chunk_fill, 1 << 16);
    const double t0 = evsnn_now_s();
    while (!*a->stop && evsnn_now_s() - t0 < 1.5 && a->requests < 40) {
        int fd = tl_connect(a->port);
        if (fd < 0) break;
        a->requests++;
        const char *start = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ";
        size_t sent = 0;
        if (live_send_all(fd, start, strlen(start))) goto next;
        while (sent < ((size_t)64 << 20)) {
            ssize_t w = send(fd, chunk, 1 << 16, MSG_NOSIGNAL);
            if (w <= 0) break; /* the server closed it */
            sent += (size_t)w;
        }
        if (sent > a->max_sent) a->max_sent = sent;
        char resp[256];
        ssize_t n = recv(fd, resp, sizeof resp - 1, 0);
        if (n > 12) {
            resp[n] = 0;
            int code = atoi(resp + 9);
            a->answered_4xx += code >= 400 && code < 500;
        }
    next:
        close(fd);
    }
    free(chunk);
    return NULL;
}

static void test_http_huge_headers(void **state) {
    (void)state;
    tl_server s;
    start(&s, "hdr", "");
    good_client g;
    good_open(&g, s.tcp);
    const double before = good_rate(&g, 1.0);
    const long rss0 = rss_kb(s.pid);
    volatile int stop = 0;
    hdr_arg a[2] = {{.port = s.http, .stop = &stop}, {.port = s.http, .stop = &stop}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) assert_int_equal(pthread_create(&th[i], NULL, huge_header, &a[i]), 0);
    usleep(100000);
    const double during = good_rate(&g, 1.0);
    int st = 0;
    char *h = tl_http_get(s.http, "/healthz", &st); /* a normal request is answered meanwhile */
    assert_int_equal(st, 200);
    free(h);
    const long rss1 = rss_kb(s.pid);
    stop = 1;
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    expect_served(before, during, "huge HTTP headers");
    for (int i = 0; i < 2; i++) {
        print_message("huge headers: sender %d: %d requests, %d answered 4xx, at most %zu bytes taken\n", i, a[i].requests,
                      a[i].answered_4xx, a[i].max_sent);
        assert_true(a[i].requests >= 1);
        assert_true(a[i].max_sent < ((size_t)16 << 20)); /* cut off long before 64 MB */
    }
    print_message("huge headers: server RSS %ld kB before, %ld kB during\n", rss0, rss1);
    assert_true(rss1 - rss0 < 64 * 1024);
    h = tl_http_get(s.http, "/healthz", &st); /* recovered */
    assert_int_equal(st, 200);
    free(h);
    good_close(&g);
    assert_int_equal(stop_server(&s), 0);
}

/* ---- 4. slow HTTP: 64 connections dribbling a header byte every 100 ms for 2.5 s ---- */
typedef struct {
    int port, closed_by_server;
    volatile int *stop;
} slow_arg;

static void *slow_http(void *p) {
    slow_arg *a = p;
    enum { N = 64 };
    int fd[N];
    for (int i = 0; i < N; i++) {
        fd[i] = tl_connect(a->port);
        if (fd[i] >= 0) {
            int fl = fcntl(fd[i], F_GETFL);
            fcntl(fd[i], F_SETFL, fl | O_NONBLOCK);
            (void)!send(fd[i], "GET /healthz HTTP/1.1\r\nX-Slow: ", 31, MSG_NOSIGNAL);
        }
    }
    const double t0 = evsnn_now_s();
    while (!*a->stop && evsnn_now_s() - t0 < 2.5) {
        for (int i = 0; i < N; i++) {
            if (fd[i] < 0) continue;
            char r[512];
            ssize_t n = recv(fd[i], r, sizeof r, MSG_DONTWAIT); /* an answer (408, 400) or EOF: cut off */
            if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK) ||
                (send(fd[i], "a", 1, MSG_NOSIGNAL) < 0 && errno != EAGAIN)) {
                close(fd[i]);
                fd[i] = -1;
                a->closed_by_server++;
            }
        }
        usleep(100000);
    }
    for (int i = 0; i < N; i++)
        if (fd[i] >= 0) close(fd[i]);
    return NULL;
}

static void test_http_slow(void **state) {
    (void)state;
    tl_server s;
    start(&s, "slow", "--http-max-conns 16 --http-timeout 1");
    good_client g;
    good_open(&g, s.tcp);
    const double before = good_rate(&g, 1.0);
    const int fd0 = open_fds(s.pid);
    volatile int stop = 0;
    slow_arg a = {.port = s.http, .stop = &stop};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, slow_http, &a), 0);
    usleep(300000);
    const int fd1 = open_fds(s.pid);
    const double during = good_rate(&g, 1.0);
    const int fd2 = open_fds(s.pid);
    pthread_join(th, NULL);
    expect_served(before, during, "slow HTTP");
    print_message("slow HTTP: server descriptors %d before, %d and %d during; %d connections closed by the server\n", fd0,
                  fd1, fd2, a.closed_by_server);
    assert_true(fd1 - fd0 <= 16 && fd2 - fd0 <= 16); /* --http-max-conns: never more than 16 held */
    assert_true(a.closed_by_server >= 16);           /* --http-timeout: cut off after 1 s */
    usleep(300000);
    int st = 0;
    char *h = tl_http_get(s.http, "/healthz", &st); /* recovered */
    assert_int_equal(st, 200);
    free(h);
    assert_true(metric(s.http, "evsnn_live_http_timeouts_total") >= 16);
    assert_true(metric(s.http, "evsnn_live_http_full_total") >= 1);
    good_close(&g);
    assert_int_equal(stop_server(&s), 0);
}

/* ---- start-up: the descriptor budget, and the warning for binding beyond loopback ---- */
static void test_startup_limits(void **state) {
    (void)state;
    char out[512];
    snprintf(out, sizeof out, "%s/budget.err", tmp);
    /* hard limit 100 < 256 + 64 + 64: refused before binding, naming the figures */
    int rc = test_sh("ulimit -n 100; %s serve --arch 10-2 --http 127.0.0.1:0 >/dev/null 2>%s", test_evsnn_bin(), out);
    assert_int_equal(rc, 2);
    assert_int_equal(count_lines("budget", "need 384 file descriptors, above the open-file limit of 100"), 1);
    /* a soft limit below, a hard limit above: raised, the server starts; one SIGTERM to it
     * alone once it listens (not timeout(1), which signals the whole group twice), exit 0 */
    snprintf(out, sizeof out, "%s/raised.out", tmp);
    rc = test_sh("(ulimit -Sn 100; ulimit -Hn 4096; exec %s serve --arch 10-2 --http 127.0.0.1:0 >%s 2>&1) & p=$!; i=0; "
                 "while [ $i -lt 100 ] && ! grep -q listening %s; do sleep 0.1; i=$((i + 1)); done; kill -TERM $p; wait $p",
                 test_evsnn_bin(), out, out);
    assert_int_equal(rc, 0);
    /* --http on 0.0.0.0: warned about before anything is bound; the stream port here is taken,
     * so the server stops there and nothing listens beyond loopback */
    int busy = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(busy, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(busy, 1), 0);
    socklen_t sl = sizeof sa;
    getsockname(busy, (struct sockaddr *)&sa, &sl);
    snprintf(out, sizeof out, "%s/warn.err", tmp);
    rc = test_sh("%s serve --arch 10-2 --listen 127.0.0.1:%d --http 0.0.0.0:0 >/dev/null 2>%s", test_evsnn_bin(),
                 ntohs(sa.sin_port), out);
    close(busy);
    assert_int_equal(rc, 1);
    assert_int_equal(count_lines("warn", "warning: --http 0.0.0.0:0 serves /metrics and the live page beyond this machine"), 1);
    assert_int_equal(count_lines("warn", "cannot bind"), 1);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    /* The RSS bounds measure what the server keeps. Under AddressSanitizer freed blocks stay
     * mapped in its quarantine (256 MB by default), so a server that frees every rejected
     * 4 MB header still grows by what it freed; the servers started here get a small one. */
    const char *ao = getenv("ASAN_OPTIONS");
    char opts[1024];
    snprintf(opts, sizeof opts, "%s%squarantine_size_mb=8", ao ? ao : "", ao && *ao ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_idle_streams, stop_left),
        cmocka_unit_test_teardown(test_fd_exhaustion, stop_left),
        cmocka_unit_test_teardown(test_http_huge_headers, stop_left),
        cmocka_unit_test_teardown(test_http_slow, stop_left),
        cmocka_unit_test_teardown(test_startup_limits, stop_left),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
