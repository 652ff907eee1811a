/* tests/fuzz_libconfig.h — shared by the harnesses whose input goes through libconfig
 * (fuzz_hw_cfg.c, fuzz_study.c).
 *
 * libconfig 1.5 leaks its string buffer on some syntax errors (inside strbuf_append); our own
 * leaks are caught by the ASan unit tests, so leak detection is off in these harnesses rather
 * than reporting the library's. */
#ifndef EVSNN_TESTS_FUZZ_LIBCONFIG_H
#define EVSNN_TESTS_FUZZ_LIBCONFIG_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "detect_leaks=0"; }

/* The fuzzer's bytes as a NUL-terminated string (free it), or NULL without memory. */
static inline char *fuzz_text(const uint8_t *data, size_t size) {
    char *txt = malloc(size + 1);
    if (!txt) return NULL;
    memcpy(txt, data, size);
    txt[size] = 0;
    return txt;
}

#endif
