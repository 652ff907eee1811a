/* sim/rng.c — GSL-backed random numbers (see rng.h). */
#include "rng.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <stdlib.h>
#include <string.h>

#include "evsnn.h"

struct rng {
    gsl_rng *g;
};

rng *rng_create(uint64_t seed) {
    rng *r = malloc(sizeof *r);
    if (!r) return NULL;
    r->g = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r->g) { free(r); return NULL; }
    rng_seed(r, seed);
    return r;
}

void rng_free(rng *r) {
    if (!r) return;
    gsl_rng_free(r->g);
    free(r);
}

void rng_seed(rng *r, uint64_t seed) {
    /* mt19937 takes an unsigned long seed; GSL maps 0 to its default 4357, so hash first
     * to keep seed 0 distinct from seed 4357. */
    gsl_rng_set(r->g, (unsigned long)(rng_stream(seed, 0) & 0xffffffffUL) | 1UL);
}

uint64_t rng_stream(uint64_t seed, uint64_t k) {
    uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (k + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double rng_uniform(rng *r) { return gsl_rng_uniform(r->g); }
double rng_uniform_range(rng *r, double a, double b) { return a + (b - a) * gsl_rng_uniform(r->g); }
double rng_normal(rng *r, double sigma) { return gsl_ran_gaussian_ziggurat(r->g, sigma); }
int rng_bernoulli(rng *r, double p) { return gsl_rng_uniform(r->g) < p; }
unsigned rng_poisson(rng *r, double mu) { return gsl_ran_poisson(r->g, mu); }
uint32_t rng_below(rng *r, uint32_t n) { return (uint32_t)gsl_rng_uniform_int(r->g, n); }

void rng_shuffle(rng *r, uint32_t *a, size_t n) {
    for (size_t i = n; i > 1; i--) {
        size_t j = gsl_rng_uniform_int(r->g, i);
        uint32_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

size_t rng_state_size(const rng *r) { return gsl_rng_size(r->g); }
const void *rng_state(const rng *r) { return gsl_rng_state(r->g); }

int rng_set_state(rng *r, const void *buf, size_t n) {
    if (n != gsl_rng_size(r->g))
        return evsnn_seterr(EVSNN_EFORMAT, "rng state: %zu bytes, expected %zu", n, gsl_rng_size(r->g));
    memcpy(gsl_rng_state(r->g), buf, n);
    return 0;
}
