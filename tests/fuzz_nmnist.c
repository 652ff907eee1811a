/* tests/fuzz_nmnist.c — libFuzzer harness for the N-MNIST event decoder (5-byte records,
 * overflow markers): any bytes decode or fail with EVSNN_EFORMAT, never crash or leak. */
#include <stdint.h>
#include <stdlib.h>

#include "io/ds_impl.h"
#include "sim/evsnn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ds_evbuf b = {0};
    int rc = ds_dec_nmnist(data, size, "fuzz.bin", &b);
    if (rc != 0 && rc != EVSNN_EFORMAT && rc != EVSNN_ENOMEM) abort();
    for (size_t i = 0; rc == 0 && i < b.n; i++)
        if (b.ev[i].x > 33 || b.ev[i].y > 33) abort();
    ds_evbuf_free(&b);
    return 0;
}
