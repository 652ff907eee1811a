/* sim/spk.h — the spike train: the one type every module exchanges (DESIGN §1).
 *
 * CSR by time step: T steps, n channels; the events of step t are
 * idx[off[t] .. off[t+1]) (channel ids, strictly increasing within a step) with optional
 * val[] (event counts or graded values; NULL means every event has value 1).
 * A train is small and hot, so the caller owns the struct (spk_init / spk_deinit) and the
 * train owns its arrays. Channels of an image-like layer are numbered c·H·W + y·W + x
 * (PyTorch's CHW flattening).
 *
 * Building: spk_init, then spk_push in non-decreasing step order (channels in any order
 * within a step when spk_close(…, SPK_SORT) is used), then spk_close. Iterating:
 *     for (uint32_t t = 0; t < s.T; t++)
 *         for (uint32_t k = s.off[t]; k < s.off[t + 1]; k++) use(s.idx[k], spk_val(&s, k)); */
#ifndef EVSNN_SPK_H
#define EVSNN_SPK_H

#include <stddef.h>
#include <stdint.h>

typedef struct spk_train {
    uint32_t T;      /* steps */
    uint32_t n;      /* channels */
    uint32_t *off;   /* [T+1] event offsets per step */
    uint32_t *idx;   /* [nnz] channel ids */
    float *val;      /* [nnz] values, or NULL (all 1) */
    uint32_t nnz;    /* events stored */
    uint32_t cap;    /* capacity of idx/val */
    uint32_t open_t; /* while building: the step being filled (T when closed) */
} spk_train;

enum { SPK_VALUES = 1 };  /* spk_init flag: keep a val[] array */
enum { SPK_SORT = 1 };    /* spk_close flag: sort each step and merge duplicates (sum values) */

/* Empty train of T steps over n channels. 0, EVSNN_EINVAL (T or n is 0), EVSNN_ENOMEM. */
int spk_init(spk_train *s, uint32_t T, uint32_t n, int flags);
void spk_deinit(spk_train *s); /* frees the arrays; safe on a zeroed or deinit'ed struct */

/* Drop all events and reopen for building (keeps capacity, T, n, values flag). */
void spk_clear(spk_train *s);

/* Reserve room for `cap` events. */
int spk_reserve(spk_train *s, uint32_t cap);

/* Append one event. Steps must not decrease; channel < n; v ignored without val[].
 * 0, EVSNN_EINVAL (step or channel out of range, step decreased), EVSNN_ENOMEM. */
int spk_push(spk_train *s, uint32_t step, uint32_t channel, float v);
/* n events of value 1 at one step, channels ids[0..n) ascending (the last is checked). */
int spk_push_step(spk_train *s, uint32_t step, const uint32_t *ids, uint32_t n);

/* Finish building: fills the offsets of the remaining steps. With SPK_SORT, sorts each
 * step's channels and merges duplicates (summing values; without val[] duplicates are
 * dropped, making the train binary). Returns 0 or EVSNN_ENOMEM. */
int spk_close(spk_train *s, int flags);

/* Check the invariants (offsets monotone and ending at nnz, channels < n and strictly
 * increasing within each step, finite values). 0 or EVSNN_EFORMAT with the step and
 * position named in the message. */
int spk_validate(const spk_train *s);

/* Value of event k (1 without val[]). */
static inline float spk_val(const spk_train *s, uint32_t k) { return s->val ? s->val[k] : 1.0f; }

/* Number of events at step t. */
static inline uint32_t spk_count(const spk_train *s, uint32_t t) { return s->off[t + 1] - s->off[t]; }

/* Deep copy into an uninitialised dst. */
int spk_copy(spk_train *dst, const spk_train *src);

/* Dense conversion, for tests and the reference engine. x: [T, n] row-major. */
int spk_from_dense(spk_train *s, const float *x, uint32_t T, uint32_t n, int flags);
void spk_to_dense(float *x, const spk_train *s); /* x: [T, n], overwritten */

/* Sum of values (event counts when binary). */
double spk_total(const spk_train *s);

#endif
