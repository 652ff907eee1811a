/* sim/evsnn.h — error codes and the error message channel shared by every module, and the
 * wall clock.
 *
 * Library code (sim/ kernels/ io/ hw/) never prints and never exits: a failing call
 * returns a negative EVSNN_E* code and leaves a one-line message in a per-thread buffer
 * that names what was found, where (file, byte offset, dataset, field, config line) and
 * what was expected. apps/ reads it with evsnn_errmsg() and decides what to print. */
#ifndef EVSNN_H
#define EVSNN_H

#include <stdarg.h>
#include <stdint.h>

enum {
    EVSNN_OK = 0,
    EVSNN_EINVAL = -1,   /* bad argument or parameter value */
    EVSNN_ENOMEM = -2,   /* allocation failed */
    EVSNN_EIO = -3,      /* cannot open/read/write a file */
    EVSNN_EFORMAT = -4,  /* malformed file or string */
    EVSNN_EVERSION = -5, /* file written by a newer evsnn */
    EVSNN_ESHAPE = -6,   /* shapes do not fit together */
    EVSNN_EFULL = -7,    /* bounded queue or buffer full */
    EVSNN_ERANGE = -8,   /* value out of its range */
    EVSNN_ENOTSUP = -9,  /* valid request this build does not support */
    EVSNN_ENUMERIC = -10 /* NaN or Inf appeared */
};

/* Generic text of a code ("invalid argument", ...). */
const char *evsnn_strerror(int code);

/* Set the calling thread's message (printf-style) and return `code` so that library code
 * can write `return evsnn_seterr(EVSNN_EFORMAT, "%s: offset %zu: ...", path, off);`. */
int evsnn_seterr(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int evsnn_vseterr(int code, const char *fmt, va_list ap);

/* The calling thread's last message; falls back to evsnn_strerror of the last code. */
const char *evsnn_errmsg(void);

/* Clear the calling thread's message. */
void evsnn_clearerr(void);

/* Wall clock for measured durations (CLOCK_MONOTONIC): the one clock of the commands,
 * the benchmarks and the live server, in seconds or in whole microseconds. */
double evsnn_now_s(void);
uint64_t evsnn_now_us(void);

#endif
