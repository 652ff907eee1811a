/* apps/gnuplot.c — gnuplot without a shell (see gnuplot.h). */
#include "apps/gnuplot.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/replace.h"
#include "sim/evsnn.h"

extern char **environ;

void gp_printf(gp_text *t, const char *fmt, ...) {
    if (t->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        const int k = vsnprintf(t->s ? t->s + t->n : NULL, t->s ? t->cap - t->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) return;
        if (t->s && t->n + (size_t)k < t->cap) {
            t->n += (size_t)k;
            return;
        }
        const size_t nc = (t->cap ? t->cap * 2 : 4096) + (size_t)k;
        char *ns = realloc(t->s, nc);
        if (!ns) {
            t->oom = 1;
            return;
        }
        t->s = ns, t->cap = nc;
    }
}

/* 'prefix text' with quotes doubled and line breaks as spaces. */
static const char *quote(char *buf, size_t cap, const char *prefix, const char *text) {
    size_t k = 0;
    if (cap < 3) return "''";
    buf[k++] = '\'';
    for (int part = 0; part < 2; part++)
        for (const char *p = part ? text : prefix; *p; p++) {
            const size_t need = *p == '\'' ? 2 : 1;
            if (k + need + 2 > cap) return snprintf(buf, cap, "''"), buf;
            if (*p == '\'') buf[k++] = '\'';
            buf[k++] = *p == '\n' || *p == '\r' ? ' ' : *p;
        }
    buf[k++] = '\'';
    buf[k] = 0;
    return buf;
}

const char *gnuplot_str(char *buf, size_t cap, const char *text) { return quote(buf, cap, "", text); }

const char *gnuplot_path(char *buf, size_t cap, const char *path) {
    /* gnuplot reads '<cmd' as a command to run and set output '|cmd' as a pipe */
    return quote(buf, cap, path[0] == '<' || path[0] == '|' ? "./" : "", path);
}

int gnuplot_check_name(const char *what, const char *s) {
    if (strchr(s, '\n') || strchr(s, '\r'))
        return evsnn_seterr(EVSNN_EINVAL, "%s: a name with a line break cannot be passed to gnuplot", what);
    return 0;
}

/* The first line of the log that names an error (gnuplot writes "line N: ..."), for the
 * message. */
static void first_error(const char *log, char *buf, size_t cap) {
    buf[0] = 0;
    FILE *f = fopen(log, "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (strstr(line, "line ") || strstr(line, "rror") || strstr(line, "annot")) {
            snprintf(buf, cap, ": %s", line);
            break;
        }
    }
    fclose(f);
}

int gnuplot_png(const char *png, const char *size, const char *script, const char *log) {
    char logbuf[4200], tmp[4200], q[8600];
    int rc = gnuplot_check_name(png, png);
    if (rc) return rc;
    if (!log) {
        snprintf(logbuf, sizeof logbuf, "%s.log", png);
        log = logbuf;
    }
    if ((rc = replace_tmpname(tmp, sizeof tmp, png))) return rc;
    const int lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (lfd < 0) return evsnn_seterr(EVSNN_EIO, "%s: cannot write gnuplot's log %s: %s", png, log, strerror(errno));
    int in[2];
    if (pipe2(in, O_CLOEXEC)) {
        close(lfd);
        return evsnn_seterr(EVSNN_EIO, "%s: cannot create a pipe for gnuplot: %s", png, strerror(errno));
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, lfd, 2);
    char *argv[] = {"gnuplot", NULL};
    pid_t pid;
    int sp = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(lfd);
    if (sp) {
        close(in[1]);
        return evsnn_seterr(EVSNN_EIO, "%s: cannot run gnuplot: %s (install gnuplot-nox; make deps does)", png,
                            strerror(sp));
    }
    /* A gnuplot that dies early must not kill us with SIGPIPE: ignore it while writing. */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old);
    FILE *f = fdopen(in[1], "w");
    if (f) {
        fprintf(f, "set terminal pngcairo noenhanced size %s font ',10'\nset output %s\n", size,
                gnuplot_path(q, sizeof q, tmp));
        fputs(script, f);
        fputs("\nset output\n", f);
        fclose(f);
    } else close(in[1]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    sigaction(SIGPIPE, &old, NULL);
    struct stat sb;
    const int ok = WIFEXITED(st) && WEXITSTATUS(st) == 0 && stat(tmp, &sb) == 0 && sb.st_size > 0;
    if (!ok) {
        replace_discard(tmp);
        char why[600];
        first_error(log, why, sizeof why);
        if (WIFEXITED(st))
            return evsnn_seterr(EVSNN_EIO, "%s: gnuplot exited with status %d%s (its messages are in %s)", png,
                                WEXITSTATUS(st), why, log);
        return evsnn_seterr(EVSNN_EIO, "%s: gnuplot was ended by signal %d (its messages are in %s)", png,
                            WIFSIGNALED(st) ? WTERMSIG(st) : 0, log);
    }
    if ((rc = replace_commit(tmp, png))) return rc;
    if (stat(log, &sb) == 0 && sb.st_size == 0) unlink(log);
    return 0;
}
