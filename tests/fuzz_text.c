/* tests/fuzz_text.c — libFuzzer harness for the small parsers: DVS128 Gesture labels CSV
 * and the IDX header. Any input parses or fails with EVSNN_EFORMAT. */
#include <stdint.h>
#include <stdlib.h>

#include "io/ds_impl.h"
#include "sim/evsnn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ds_slice *s = NULL;
    size_t n = 0;
    int rc = ds_dec_labels_csv((const char *)data, size, "fuzz_labels.csv", &s, &n);
    if (rc != 0 && rc != EVSNN_EFORMAT && rc != EVSNN_ENOMEM) abort();
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (s[i].t1 <= s[i].t0 || s[i].label < 0) abort();
    free(s);
    uint32_t nd, dims[4];
    size_t hl;
    rc = ds_dec_idx_header(data, size, "fuzz.idx", &nd, dims, &hl);
    if (rc != 0 && rc != EVSNN_EFORMAT) abort();
    if (rc == 0 && hl > size) abort();
    return 0;
}
