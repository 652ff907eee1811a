/* tests/fuzz_npy.c — libFuzzer harness for the NumPy .npy header parser and the element
 * decoders of array files: any input parses or fails with EVSNN_EFORMAT / EVSNN_ENOTSUP /
 * EVSNN_EVERSION; a parsed header lies inside the input, and its element type converts. */
#include <stdint.h>
#include <stdlib.h>

#include "io/ds_impl.h"
#include "sim/evsnn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ds_elem e;
    uint32_t nd;
    uint64_t dims[8];
    size_t hl;
    int rc = ds_dec_npy_header(data, size, "fuzz.npy", &e, &nd, dims, &hl);
    if (rc != 0 && rc != EVSNN_EFORMAT && rc != EVSNN_ENOTSUP && rc != EVSNN_EVERSION) abort();
    if (rc == 0) {
        if (hl > size || nd > 8 || (e.size != 1 && e.size != 2 && e.size != 4 && e.size != 8)) abort();
        float x[16];
        size_t n = (size - hl) / e.size;
        if (n > 16) n = 16;
        ds_elem_to_f32(x, data + hl, n, e);
    }
    /* every IDX type code, on whatever bytes follow */
    if (size >= 9) {
        ds_elem ie;
        if (!ds_elem_from_idx(data[0], &ie) && (size - 1) / ie.size > 0) (void)ds_elem_get(data + 1, ie);
    }
    return 0;
}
