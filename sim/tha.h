/* sim/tha.h — the threshold-annealing spec of seed 004, parsed once.
 *
 * "T0:TINF:A[,T0:TINF:A...]": per spiking layer, the threshold starts at T0 and moves by
 * A·(TINF − θ) after every optimizer step (sim/train.h); a shorter list than the network's
 * spiking layers repeats its last item. Thresholds > 0, A in [0, 1], at most
 * TRAIN_MAX_LAYERS items. The same text is `evsnn train --tha` and a study's
 * "anneal:..." threshold. No I/O, no engine: io/study.c checks study files with it. */
#ifndef EVSNN_SIM_THA_H
#define EVSNN_SIM_THA_H

#include <stdint.h>

#define TRAIN_MAX_LAYERS 16

typedef struct {
    uint32_t n;
    float theta0[TRAIN_MAX_LAYERS], theta_inf[TRAIN_MAX_LAYERS], alpha[TRAIN_MAX_LAYERS];
} train_tha;

/* 0, or EVSNN_EINVAL with a message naming the item that is not T0:TINF:A in range (or
 * "no items" for an empty spec). */
int train_tha_parse(const char *s, train_tha *out);

#endif
