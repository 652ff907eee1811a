/* tests/fuzz_h5file.c — libFuzzer harness: valid HDF5 files of every kind evsnn reads,
 * mutated at the byte level, through every HDF5 reader (tests/fuzz_h5readers.h). Seed
 * corpus tests/corpus/fuzz_h5file (how each was made: its README). The input is written to
 * a temp file: the readers take paths. */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "tests/fuzz_h5readers.h"

/* HDF5 allocates a variable-length sequence for the length the file claims (15 GB seen,
 * inside H5T__conv_vlen, before any allocator of the caller's): above 512 MiB it gets NULL
 * and the read fails (fuzz_util.h). */
FUZZ_ALLOW_HUGE_ALLOCATIONS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/evsnn-fuzz-h5-%ld.h5", (long)getpid());
    if (!fuzz_put(path, "", data, size)) fuzz_h5_all(path);
    return 0;
}
