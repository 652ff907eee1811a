/* tests/fuzz_svhn.c — libFuzzer harness: SVHN .mat files (MATLAB 5 through libmatio; a
 * v7.3 file is HDF5 behind a 512-byte header) mutated at the byte level, opened by
 * format detection and read sample by sample. Seed: tests/corpus/fuzz_svhn/svhn.mat
 * (X uint8 [32, 32, 3, 2], y double [2, 1], written with matio in the published layout). */
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "io/dataset.h"
#include "sim/evsnn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/evsnn-fuzz-svhn-%ld.mat", (long)getpid());
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite("MATLAB", 1, size >= 6 ? 0 : 6, f); /* detection needs the text header */
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
        if (rc == 0 && !s.static_x) abort(); /* images are direct-coded by default */
    }
    ds_sample_deinit(&s);
    ds_free(d);
    return 0;
}
