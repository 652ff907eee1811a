/* sim/rng.h — the project's random numbers: a thin wrapper over GSL's mt19937.
 *
 * Every random draw in evsnn goes through an rng so that a run is reproducible from its
 * seed and a checkpoint can save and restore the exact generator state. Streams for
 * parallel work are derived with rng_stream(seed, k), so a batch run on two threads draws
 * the same numbers as a serial one. Not thread-safe: one rng per thread. */
#ifndef EVSNN_RNG_H
#define EVSNN_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct rng rng; /* opaque */

rng *rng_create(uint64_t seed);          /* NULL on allocation failure */
void rng_free(rng *r);                   /* NULL is fine */
void rng_seed(rng *r, uint64_t seed);

/* Seed of the k-th independent stream derived from `seed` (a SplitMix64 hash, so nearby
 * seeds and stream numbers give unrelated streams). */
uint64_t rng_stream(uint64_t seed, uint64_t k);

double rng_uniform(rng *r);                      /* [0, 1) */
double rng_uniform_range(rng *r, double a, double b); /* [a, b) */
double rng_normal(rng *r, double sigma);         /* N(0, sigma²) */
int rng_bernoulli(rng *r, double p);             /* 1 with probability p */
unsigned rng_poisson(rng *r, double mu);
uint32_t rng_below(rng *r, uint32_t n);          /* uniform integer in [0, n) */
void rng_shuffle(rng *r, uint32_t *a, size_t n); /* Fisher–Yates */

/* Raw generator state, for checkpoints. rng_state_size bytes; rng_set_state copies in a
 * buffer of exactly that size (EVSNN_EFORMAT otherwise). */
size_t rng_state_size(const rng *r);
const void *rng_state(const rng *r);
int rng_set_state(rng *r, const void *buf, size_t n);

#endif
