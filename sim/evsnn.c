/* sim/evsnn.c — error codes, the per-thread message buffer and the wall clock (see evsnn.h). */
#include "evsnn.h"

#include <stdio.h>
#include <time.h>

/* One buffer per thread, like errno: concurrent samples in a batch never see each
 * other's messages. */
static _Thread_local char errbuf[1024];
static _Thread_local int errcode;

const char *evsnn_strerror(int code) {
    switch (code) {
    case EVSNN_OK: return "success";
    case EVSNN_EINVAL: return "invalid argument";
    case EVSNN_ENOMEM: return "out of memory";
    case EVSNN_EIO: return "input/output error";
    case EVSNN_EFORMAT: return "malformed input";
    case EVSNN_EVERSION: return "file written by a newer evsnn";
    case EVSNN_ESHAPE: return "shape mismatch";
    case EVSNN_EFULL: return "queue full";
    case EVSNN_ERANGE: return "value out of range";
    case EVSNN_ENOTSUP: return "not supported by this build";
    case EVSNN_ENUMERIC: return "NaN or Inf";
    default: return "unknown error";
    }
}

int evsnn_vseterr(int code, const char *fmt, va_list ap) {
    errcode = code;
    vsnprintf(errbuf, sizeof errbuf, fmt, ap);
    return code;
}

int evsnn_seterr(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    evsnn_vseterr(code, fmt, ap);
    va_end(ap);
    return code;
}

const char *evsnn_errmsg(void) {
    if (errbuf[0]) return errbuf;
    return evsnn_strerror(errcode);
}

void evsnn_clearerr(void) {
    errbuf[0] = 0;
    errcode = 0;
}

static struct timespec now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts;
}

double evsnn_now_s(void) {
    const struct timespec ts = now();
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

uint64_t evsnn_now_us(void) {
    const struct timespec ts = now();
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
