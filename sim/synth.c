/* sim/synth.c — synthetic inputs (see synth.h). */
#include "synth.h"

#include "evsnn.h"
#include "rng.h"

int synth_bernoulli(spk_train *s, uint32_t T, uint32_t n, double p, uint64_t seed) {
    int rc = spk_init(s, T, n, 0);
    if (rc) return rc;
    rng *r = rng_create(seed);
    if (!r) { spk_deinit(s); return evsnn_seterr(EVSNN_ENOMEM, "synthetic input: no memory"); }
    double expect = p * T * n * 1.1 + 64;
    if ((rc = spk_reserve(s, expect < 4e9 ? (uint32_t)expect : 0xffffffffu))) goto out;
    for (uint32_t t = 0; t < T && !rc; t++)
        for (uint32_t i = 0; i < n && !rc; i++)
            if (rng_bernoulli(r, p)) rc = spk_push(s, t, i, 1.0f);
    if (!rc) rc = spk_close(s, 0);
out:
    rng_free(r);
    if (rc) spk_deinit(s);
    return rc;
}

void synth_uniform(float *x, uint32_t n, uint64_t seed) {
    rng *r = rng_create(seed);
    if (!r) return;
    for (uint32_t i = 0; i < n; i++) x[i] = (float)rng_uniform(r);
    rng_free(r);
}
