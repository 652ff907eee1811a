/* sim/task.h — the built-in synthetic classification task, so that training and evaluation
 * work end to end without any dataset on disk (and tests have data of known difficulty).
 *
 * Each input channel i has a preferred class pc(i) = hash(seed, i) mod C. A sample of class
 * y fires channel i at each step with probability p_hi if pc(i) = y, else p_lo (Bernoulli,
 * independent). Sample k has label k mod C and draws from rng_stream(seed, k), so any
 * sample can be generated alone, in any order, on any thread. Train and test sets are
 * disjoint index ranges: train [0, n_train), test [n_train, n_train + n_test). */
#ifndef EVSNN_TASK_H
#define EVSNN_TASK_H

#include <stdint.h>

#include "spk.h"

typedef struct {
    uint32_t classes, n_train, n_test, T, n_in;
    float p_hi, p_lo;
    uint64_t seed;
} task_cfg;

/* Defaults: 4 classes, 512 train, 256 test, T 25, p_hi 0.2, p_lo 0.05, seed 1. */
task_cfg task_defaults(uint32_t n_in);

/* Parse "synth" or "synth:classes=4,train=512,test=256,T=25,hi=0.2,lo=0.05,seed=1" into c
 * (n_in kept). 0 or EVSNN_EINVAL naming the key. */
int task_parse(task_cfg *c, const char *spec);

/* Sample k into an uninitialised train s (spk_deinit it later); *label its class. */
int task_sample(spk_train *s, uint32_t *label, const task_cfg *c, uint64_t k);

#endif
