/* tests/testutil.h — helpers shared by the cmocka tests.
 *
 * Tests that read ../shared (real datasets, snnTorch reference vectors) call
 * REQUIRE_SHARED(path): where the file is absent they skip with the reason printed, except
 * under CI=true, where a missing file is a failure. */
#ifndef EVSNN_TESTUTIL_H
#define EVSNN_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static inline int test_in_ci(void) {
    const char *ci = getenv("CI");
    return ci && strcmp(ci, "true") == 0;
}

#define REQUIRE_SHARED(path)                                                              \
    do {                                                                                  \
        if (access((path), R_OK) != 0) {                                                  \
            if (test_in_ci()) fail_msg("%s is missing (CI=true: shared data required)", (path)); \
            print_message("skip: %s not found (run beside ../shared to test it)\n", (path)); \
            skip();                                                                       \
        }                                                                                 \
    } while (0)

/* Wipe the checksum block (io/h5util.h, h5u_seal) of a model file or checkpoint that a test
 * edited with HDF5, as a file written without it: its fields are then checked one by one
 * instead of the whole file failing as corrupt. */
static inline void test_unseal(const char *path) {
    FILE *f = fopen(path, "r+b");
    if (!f) return;
    static const char zero[32];
    fwrite(zero, 1, sizeof zero, f);
    fclose(f);
}

/* Bits of a float, to compare bit for bit. */
static inline uint32_t test_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* Path of the evsnn binary under test (EVSNN_BIN, set by tests/run.sh). */
static inline const char *test_evsnn_bin(void) {
    const char *b = getenv("EVSNN_BIN");
    return b ? b : "bin/evsnn";
}

/* Run a shell command, return its exit status (-1 if it did not exit normally). */
static inline int test_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int test_sh(const char *fmt, ...) {
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    if (st == -1) return -1;
    if ((st & 0x7f) != 0) return -1; /* killed by a signal */
    return (st >> 8) & 0xff;
}

/* A fresh temporary directory for a test's files; the caller removes it with test_rmdir. */
static inline void test_tmpdir(char *buf, size_t len) {
    snprintf(buf, len, "/tmp/evsnn-test-XXXXXX");
    if (!mkdtemp(buf)) buf[0] = 0;
}

static inline void test_rmdir(const char *dir) {
    if (dir[0]) test_sh("rm -rf '%s'", dir);
}

/* One temporary directory per test program, for files the tests write: test_dir_setup and
 * test_dir_teardown are cmocka group fixtures, test_dir_path
 * a path in it (four rotating buffers, so one call can take a few). */
static inline char *test_dir_name(void) {
    static char d[64];
    return d;
}
static inline int test_dir_setup(void **state) {
    (void)state;
    test_tmpdir(test_dir_name(), 64);
    return test_dir_name()[0] ? 0 : -1;
}
static inline int test_dir_teardown(void **state) {
    (void)state;
    test_rmdir(test_dir_name());
    return 0;
}
static inline const char *test_dir_path(const char *name) {
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", test_dir_name(), name);
    return buf[k];
}

#endif
