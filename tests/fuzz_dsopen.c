/* tests/fuzz_dsopen.c — libFuzzer harness for the whole path from a file: format detection,
 * the IDX (raw and gzip), N-MNIST, AEDAT 1.0/2.0/3.1/4.0 and Prophesee RAW file readers,
 * then every sample through ds_get. The input is written to a temp file (the readers take
 * paths). Inputs with an HDF5 or MATLAB signature are skipped: those parsers are libhdf5's
 * and libmatio's, which are not hardened against hostile files. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/dataset.h"
#include "sim/evsnn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size >= 4 && !memcmp(data, "\x89HDF", 4)) return 0;
    if (size >= 6 && !memcmp(data, "MATLAB", 6)) return 0;
    if (size >= 1 && data[0] == '#' && size >= 2 && data[1] == 's') return 0; /* list files name other files */
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/evsnn-fuzz-%ld.dat", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    int err = 0;
    dataset *d = ds_open(path, NULL, &err);
    if (!d) {
        if (err >= 0) abort();
        return 0;
    }
    ds_sample s = {0};
    for (uint32_t i = 0; i < ds_len(d) && i < 4; i++) {
        int rc = ds_get(d, i, &s);
        if (rc > 0) abort();
        if (rc == 0 && spk_validate(&s.train) != 0 && !s.static_x) abort();
    }
    ds_sample_deinit(&s);
    ds_free(d);
    return 0;
}
