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

#include "tests/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size >= 4 && !memcmp(data, "\x89HDF", 4)) return 0;
    if (size >= 6 && !memcmp(data, "MATLAB", 6)) return 0;
    if (size >= 1 && data[0] == '#' && size >= 2 && data[1] == 's') return 0; /* list files name other files */
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/evsnn-fuzz-%ld.dat", (long)getpid());
    if (!fuzz_put(path, "", data, size)) fuzz_ds_read(path, 4);
    return 0;
}
