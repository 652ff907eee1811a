/* tests/fuzz_evt.c — libFuzzer harness for the Prophesee RAW decoders: the "% " text header
 * scanner, then the words after it as EVT 2.0 or 3.0 (the header's, or the first byte's
 * choice when the input has no header), decoded in two pieces split at a fuzzer-chosen
 * word boundary: the state carried across must give the same events as one pass. Any
 * input decodes or fails with EVSNN_EFORMAT / EVSNN_ENOTSUP; events lie inside the sensor.
 * Seeds in tests/corpus/fuzz_evt/ were written by hand in the documented layout. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/ds_impl.h"
#include "sim/evsnn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    uint8_t sel = data[0], cut = data[1];
    data += 2, size -= 2;
    size_t hdr = 0;
    int version = 0;
    uint32_t w = 0, h = 0;
    int rc = ds_dec_evt_header(data, size, "fuzz.raw", &hdr, &version, &w, &h);
    if (rc && rc != EVSNN_EFORMAT && rc != EVSNN_ENOTSUP) abort();
    if (rc) { /* no usable header: decode the bytes as words anyway */
        hdr = 0, version = sel & 1 ? 3 : 2, w = 1 + (sel >> 1) % 64, h = 1 + (sel >> 3) % 64;
    }
    if (hdr > size || (version != 2 && version != 3) || !w || !h || w > 2048 || h > 2048) abort();
    const uint8_t *b = data + hdr;
    size_t n = size - hdr, ws = version == 2 ? 4 : 2;
    ds_evt_state s1 = {.version = version, .width = w, .height = h}, s2 = s1;
    ds_evbuf one = {0}, two = {0};
    int r1 = ds_dec_evt(b, n, hdr, "fuzz.raw", &s1, INT64_MIN, INT64_MAX, &one);
    if (r1 && r1 != EVSNN_EFORMAT && r1 != EVSNN_ENOMEM) abort();
    size_t k = n / ws ? (size_t)cut % (n / ws + 1) * ws : 0;
    int r2 = ds_dec_evt(b, k, hdr, "fuzz.raw", &s2, INT64_MIN, INT64_MAX, &two);
    if (!r2) r2 = ds_dec_evt(b + k, n - k, hdr + k, "fuzz.raw", &s2, INT64_MIN, INT64_MAX, &two);
    if (r1 == 0 && r2 == 0) {
        if (one.n != two.n) abort();
        for (size_t i = 0; i < one.n; i++) /* field by field: ds_event has padding */
            if (one.ev[i].t != two.ev[i].t || one.ev[i].x != two.ev[i].x || one.ev[i].y != two.ev[i].y ||
                one.ev[i].p != two.ev[i].p)
                abort();
        if (s1.n_cd != s2.n_cd || s1.n_cd != one.n) abort();
        for (size_t i = 0; i < one.n; i++)
            if (one.ev[i].x >= w || one.ev[i].y >= h || one.ev[i].p > 1) abort();
    }
    ds_evbuf_free(&one), ds_evbuf_free(&two);
    return 0;
}
