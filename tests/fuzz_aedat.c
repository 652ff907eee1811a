/* tests/fuzz_aedat.c — libFuzzer harness for the AEDAT decoders: the '#' header scanner,
 * AEDAT 2.0 (8-byte) and 1.0 (6-byte) DVS128 records, AEDAT 3.1 packets. The first byte
 * picks the decoder; any input decodes or fails with EVSNN_EFORMAT. */
#include <stdint.h>
#include <stdlib.h>

#include "io/ds_impl.h"
#include "sim/evsnn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    int mode = data[0] % 3;
    data++, size--;
    size_t hdr = 0;
    int rc = ds_dec_aedat_header(data, size, mode == 2, "fuzz.aedat", &hdr);
    if (rc != 0 && rc != EVSNN_EFORMAT) abort();
    if (rc) return 0;
    if (hdr > size) abort();
    ds_evbuf b = {0};
    if (mode == 2) rc = ds_dec_aedat3(data + hdr, size - hdr, hdr, "fuzz.aedat", INT64_MIN, INT64_MAX, &b);
    else rc = ds_dec_aedat2(data + hdr, size - hdr, hdr, mode ? 8 : 6, "fuzz.aedat", &b);
    if (rc != 0 && rc != EVSNN_EFORMAT && rc != EVSNN_ENOMEM) abort();
    for (size_t i = 0; rc == 0 && i < b.n; i++)
        if (b.ev[i].x > 127 || b.ev[i].y > 127 || b.ev[i].p > 1) abort();
    ds_evbuf_free(&b);
    return 0;
}
