/* sim/evq.h — the engine's discrete-event queue: a calendar indexed by step.
 *
 * Holds what will happen (a neuron id due at a step: a pending reset, a bias-driven
 * threshold crossing); nothing is polled. One bucket per step of the run, ties in
 * insertion order. Entries are plain ids; the engine drops stale ones by checking its own
 * per-neuron "scheduled step" when it pops. Caller-owned (evq_init/evq_deinit). */
#ifndef EVSNN_EVQ_H
#define EVSNN_EVQ_H

#include <stdint.h>

typedef struct {
    uint32_t T;      /* buckets */
    uint32_t **b;    /* [T] bucket arrays */
    uint32_t *len;   /* [T] */
    uint32_t *cap;   /* [T] */
} evq;

int evq_init(evq *q, uint32_t T);            /* 0 or EVSNN_ENOMEM */
void evq_deinit(evq *q);                     /* safe on a zeroed struct */
void evq_clear(evq *q);                      /* empty every bucket, keep memory */
int evq_push(evq *q, uint32_t step, uint32_t id); /* step < T; 0 or EVSNN_ENOMEM */

/* The ids due at `step`, in insertion order; valid until the next push to that step. */
static inline const uint32_t *evq_due(const evq *q, uint32_t step, uint32_t *n) {
    *n = q->len[step];
    return q->b[step];
}

#endif
