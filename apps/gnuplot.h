/* apps/gnuplot.h — the one way evsnn runs gnuplot: without a shell.
 *
 * gnuplot_png spawns `gnuplot` with posix_spawnp (found on PATH, no shell, no arguments),
 * writes "set terminal pngcairo …; set output '<tmp>'" and the caller's script to its stdin,
 * sends its stdout to /dev/null and its stderr to a log file, and renames the PNG into place
 * only when gnuplot exited 0 and wrote a non-empty file, so a failed run leaves no half
 * figure. On failure it returns EVSNN_EIO with a message naming the PNG, gnuplot's exit and
 * the log (with its first error line); a log left empty by a good run is removed.
 *
 * Everything a script takes from outside — file names, titles, layer names — goes through
 * gnuplot_str (a single-quoted gnuplot string: a quote doubled, nothing else special) or,
 * for file names, gnuplot_path, which also keeps a name that begins with '<' or '|' from
 * being read as a pipe ("./<name"). Names with a newline cannot be quoted: EVSNN_EINVAL. */
#ifndef EVSNN_APPS_GNUPLOT_H
#define EVSNN_APPS_GNUPLOT_H

#include <stddef.h>

/* A growing script or data text: zero it, gp_printf into it, free(t.s). After a failed
 * allocation t.oom is set and further text is dropped. */
typedef struct {
    char *s;
    size_t n, cap;
    int oom;
} gp_text;
void gp_printf(gp_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* png: output path. size: "W,H" in pixels. script: gnuplot commands. log: where gnuplot's
 * stderr goes (NULL: png with ".log" appended). 0 or EVSNN_EIO / EVSNN_EINVAL / EVSNN_ENOMEM. */
int gnuplot_png(const char *png, const char *size, const char *script, const char *log);

/* 'text' with quotes doubled, into buf[cap]; returns buf ("''" if it does not fit). */
const char *gnuplot_str(char *buf, size_t cap, const char *text);
/* A file name as a gnuplot string, never a pipe; returns buf. */
const char *gnuplot_path(char *buf, size_t cap, const char *path);
/* 0, or EVSNN_EINVAL when a name cannot be quoted for gnuplot (it holds a newline). */
int gnuplot_check_name(const char *what, const char *s);

#endif
