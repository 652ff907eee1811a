/* sim/synth.h — synthetic inputs for runs and benchmarks without a dataset.
 *
 * synth_bernoulli: every channel spikes independently with probability p at every step
 * (the W1/W2 benchmark workloads). synth_uniform: a static input with each channel drawn
 * from U(0,1), injected as direct current (the W3 workload). Both draw from the given seed
 * only, so sample b of a batch is reproducible from (seed, b) via rng_stream. */
#ifndef EVSNN_SYNTH_H
#define EVSNN_SYNTH_H

#include <stdint.h>

#include "spk.h"

/* s uninitialised on entry; 0 or a negative EVSNN_E* code. */
int synth_bernoulli(spk_train *s, uint32_t T, uint32_t n, double p, uint64_t seed);
void synth_uniform(float *x, uint32_t n, uint64_t seed); /* x: [n] */

#endif
