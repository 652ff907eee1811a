/* tests/fuzz_util.h — what the file-reading libFuzzer harnesses share: the input written to
 * a file (the readers take paths), and a dataset opened and its first samples read, where
 * each step succeeds or fails with a negative EVSNN_E* code and what decodes is a valid
 * spike train (or a static image vector). */
#ifndef EVSNN_FUZZ_UTIL_H
#define EVSNN_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "io/dataset.h"
#include "sim/evsnn.h"

/* prefix (may be empty) then data into path; 0, or -1 when it cannot be written. */
static inline int fuzz_put(const char *path, const char *prefix, const uint8_t *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    fputs(prefix, f);
    fwrite(data, 1, n, f);
    fclose(f);
    return 0;
}

static inline void fuzz_ds_read(const char *path, uint32_t max) {
    int err = 0;
    dataset *d = ds_open(path, NULL, &err);
    if (!d) {
        if (err >= 0) abort();
        return;
    }
    ds_sample s = {0};
    for (uint32_t i = 0; i < ds_len(d) && i < max; i++) {
        int rc = ds_get(d, i, &s);
        if (rc > 0) abort();
        if (rc == 0 && !s.static_x && spk_validate(&s.train) != 0) abort();
    }
    ds_sample_deinit(&s);
    ds_free(d);
}

/* For a harness whose code under test allocates what the input asks for (a network's
 * zeroed parameters; libmatio's buffers for a variable's claimed size): a request above
 * 512 MiB returns NULL, which the code must handle (ENOMEM), instead of ending the run at
 * libFuzzer's malloc limit, or at its RSS limit once ASan has poisoned the shadow of a
 * lazily mapped block (1/8 of its size, touched at once). Defines ASan's default options. */
#define FUZZ_ALLOW_HUGE_ALLOCATIONS                 \
    const char *__asan_default_options(void);       \
    const char *__asan_default_options(void) { return "allocator_may_return_null=1:max_allocation_size_mb=512"; }

#endif
