/* tests/fuzz_aedat_labels.c — libFuzzer harness: a DVS128 Gesture recording, AEDAT 3.1 with
 * its labels CSV, as a folder and as one file. The input is split at its first 0xFF byte:
 * the labels CSV text before, the recording's bytes after (written behind a valid
 * "#!AER-DAT3.1" header, so the packets and the slicing by the labels are reached). Every
 * sample (label slice) is read: it decodes or fails with a message, never crashes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/fuzz_util.h"

static char dir[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/evsnn-fuzz-ael-%ld", (long)getpid());
        mkdir(dir, 0700);
    }
    const uint8_t *sep = memchr(data, 0xFF, size);
    const size_t cl = sep ? (size_t)(sep - data) : size;
    char p[128];
    snprintf(p, sizeof p, "%s/user01_fluorescent_labels.csv", dir);
    FILE *f = fopen(p, "wb");
    if (!f) return 0;
    fwrite(data, 1, cl, f);
    fclose(f);
    snprintf(p, sizeof p, "%s/user01_fluorescent.aedat", dir);
    if (!(f = fopen(p, "wb"))) return 0;
    fputs("#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n#!END-HEADER\r\n", f);
    if (sep) fwrite(sep + 1, 1, size - cl - 1, f);
    fclose(f);
    fuzz_ds_read(p, 6);   /* one recording (its labels beside it) */
    fuzz_ds_read(dir, 6); /* the folder */
    return 0;
}
