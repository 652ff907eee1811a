/* tests/fuzz_surrogate.c — libFuzzer harness for the surrogate name parser: any input is
 * parsed or refused with a message; a parsed surrogate formats to a name that parses back
 * to the same kind, and its derivative is never NaN at finite points. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/surrogate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char spec[300], msg[256], name[128];
    if (size >= sizeof spec) size = sizeof spec - 1;
    memcpy(spec, data, size);
    spec[size] = '\0';
    surrogate s, t;
    msg[0] = '\0';
    if (sg_parse(&s, spec, msg, sizeof msg) != 0) {
        if (!msg[0]) abort(); /* a refusal always says why */
        return 0;
    }
    sg_format(name, sizeof name, &s);
    if (sg_parse(&t, name, msg, sizeof msg) != 0 || t.kind != s.kind) abort();
    const float xs[] = {-1e30f, -3.0f, -0.5f, 0.0f, 1e-7f, 0.5f, 1.0f, 3.0f, 1e30f};
    for (size_t i = 0; i < sizeof xs / sizeof *xs; i++)
        if (isnan(sg_grad(&s, xs[i]))) abort();
    return 0;
}
