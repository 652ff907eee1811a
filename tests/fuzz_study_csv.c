/* tests/fuzz_study_csv.c — libFuzzer harness: the study table reader that `evsnn sweep`
 * uses on resume (study_read_csv). Any text reads or fails with EVSNN_EFORMAT; a table that
 * reads is written back and read again to the same rows (count, status and keys). Seed:
 * tests/corpus/fuzz_study_csv/tiny.csv (the table of data/tiny.study). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/study.h"
#include "sim/evsnn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char path[64], back[80];
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/evsnn-fuzz-csv-%ld.csv", (long)getpid());
        snprintf(back, sizeof back, "%s.back.csv", path);
    }
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    study_row *rows = NULL, *again = NULL;
    uint32_t n = 0, m = 0, kept = 0;
    int rc = study_read_csv(path, &rows, &n);
    if (rc && rc != EVSNN_EFORMAT && rc != EVSNN_ENOMEM) abort();
    if (!rc) {
        for (uint32_t i = 0; i < n; i++) {
            if (strnlen(rows[i].t.key, sizeof rows[i].t.key) == sizeof rows[i].t.key) abort();
            kept += rows[i].status != STUDY_PENDING;
        }
        if (study_write_csv(back, rows, n) == 0) {
            if (study_read_csv(back, &again, &m) != 0 || m != kept) abort();
            for (uint32_t i = 0, j = 0; i < n; i++) {
                if (rows[i].status == STUDY_PENDING) continue;
                if (again[j].status != rows[i].status || strcmp(again[j].t.key, rows[i].t.key)) abort();
                j++;
            }
        }
    }
    free(rows);
    free(again);
    return 0;
}
