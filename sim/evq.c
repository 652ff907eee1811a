/* sim/evq.c — calendar queue by step (see evq.h). */
#include "evq.h"

#include <stdlib.h>
#include <string.h>

#include "evsnn.h"

int evq_init(evq *q, uint32_t T) {
    memset(q, 0, sizeof *q);
    q->T = T;
    q->b = calloc(T, sizeof *q->b);
    q->len = calloc(T, sizeof *q->len);
    q->cap = calloc(T, sizeof *q->cap);
    if (!q->b || !q->len || !q->cap) {
        evq_deinit(q);
        return evsnn_seterr(EVSNN_ENOMEM, "event queue: no memory for %u steps", T);
    }
    return 0;
}

void evq_deinit(evq *q) {
    if (q->b)
        for (uint32_t t = 0; t < q->T; t++) free(q->b[t]);
    free(q->b);
    free(q->len);
    free(q->cap);
    memset(q, 0, sizeof *q);
}

void evq_clear(evq *q) { memset(q->len, 0, (size_t)q->T * sizeof *q->len); }

int evq_push(evq *q, uint32_t step, uint32_t id) {
    if (q->len[step] == q->cap[step]) {
        uint32_t nc = q->cap[step] ? 2 * q->cap[step] : 16;
        uint32_t *nb = realloc(q->b[step], (size_t)nc * sizeof *nb);
        if (!nb) return evsnn_seterr(EVSNN_ENOMEM, "event queue: no memory");
        q->b[step] = nb;
        q->cap[step] = nc;
    }
    q->b[step][q->len[step]++] = id;
    return 0;
}
