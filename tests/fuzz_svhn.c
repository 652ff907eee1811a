/* tests/fuzz_svhn.c — libFuzzer harness: SVHN .mat files (MATLAB 5 through libmatio; a
 * v7.3 file is HDF5 behind a 512-byte header) mutated at the byte level, opened by
 * format detection and read sample by sample. Seed: tests/corpus/fuzz_svhn/svhn.mat
 * (X uint8 [32, 32, 3, 2], y double [2, 1], written with matio in the published layout) and
 * complex.mat (the same with a complex X, which the reader refuses: it crashed libmatio). */
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests/fuzz_util.h"

/* libmatio allocates what a variable's header claims (6 GB seen): above 512 MiB it gets NULL
 * (fuzz_util.h). */
FUZZ_ALLOW_HUGE_ALLOCATIONS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/evsnn-fuzz-svhn-%ld.mat", (long)getpid());
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    /* detection needs the text header: inputs too short to carry one get it */
    if (!fuzz_put(path, size >= 6 ? "" : "MATLAB", data, size)) fuzz_ds_read(path, 4);
    return 0;
}
