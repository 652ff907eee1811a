/* sim/spk.c — spike train construction, validation and conversion (see spk.h). */
#include "spk.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "evsnn.h"

int spk_init(spk_train *s, uint32_t T, uint32_t n, int flags) {
    memset(s, 0, sizeof *s);
    if (T == 0 || n == 0)
        return evsnn_seterr(EVSNN_EINVAL, "spike train: T=%u and n=%u must both be > 0", T, n);
    s->T = T;
    s->n = n;
    s->off = calloc((size_t)T + 1, sizeof *s->off);
    if (!s->off) return evsnn_seterr(EVSNN_ENOMEM, "spike train: no memory for %u steps", T);
    if (flags & SPK_VALUES) {
        /* val[] exists from the start so spk_reserve keeps it in step with idx[]. */
        s->val = malloc(sizeof *s->val);
        if (!s->val) { spk_deinit(s); return evsnn_seterr(EVSNN_ENOMEM, "spike train: no memory"); }
    }
    return 0;
}

void spk_deinit(spk_train *s) {
    free(s->off);
    free(s->idx);
    free(s->val);
    memset(s, 0, sizeof *s);
}

void spk_clear(spk_train *s) {
    memset(s->off, 0, ((size_t)s->T + 1) * sizeof *s->off);
    s->nnz = 0;
    s->open_t = 0;
}

int spk_reserve(spk_train *s, uint32_t cap) {
    if (cap <= s->cap) return 0;
    uint32_t *ni = realloc(s->idx, (size_t)cap * sizeof *ni);
    if (!ni) return evsnn_seterr(EVSNN_ENOMEM, "spike train: no memory for %u events", cap);
    s->idx = ni;
    if (s->val) {
        float *nv = realloc(s->val, (size_t)cap * sizeof *nv);
        if (!nv) return evsnn_seterr(EVSNN_ENOMEM, "spike train: no memory for %u events", cap);
        s->val = nv;
    }
    s->cap = cap;
    return 0;
}

int spk_push(spk_train *s, uint32_t step, uint32_t channel, float v) {
    if (step >= s->T || channel >= s->n || step < s->open_t)
        return evsnn_seterr(EVSNN_EINVAL,
                            "spike train: event (step %u, channel %u) outside %u steps x %u "
                            "channels or before step %u",
                            step, channel, s->T, s->n, s->open_t);
    if (s->nnz == s->cap) {
        uint32_t nc = s->cap ? s->cap * 2 : 64;
        if (nc < s->cap) return evsnn_seterr(EVSNN_ENOMEM, "spike train: too many events");
        int rc = spk_reserve(s, nc);
        if (rc) return rc;
    }
    /* Steps between the open one and `step` are empty: their offsets end here. */
    while (s->open_t < step) s->off[++s->open_t] = s->nnz;
    s->idx[s->nnz] = channel;
    if (s->val) s->val[s->nnz] = v;
    s->nnz++;
    s->off[step + 1] = s->nnz;
    return 0;
}

int spk_push_step(spk_train *s, uint32_t step, const uint32_t *ids, uint32_t n) {
    if (!n) return 0;
    if (step >= s->T || step < s->open_t || ids[n - 1] >= s->n)
        return evsnn_seterr(EVSNN_EINVAL, "spike train: %u events at step %u outside %u steps x %u channels or before step %u",
                            n, step, s->T, s->n, s->open_t);
    if ((uint64_t)s->nnz + n > s->cap) {
        uint64_t nc = s->cap ? s->cap : 64;
        while (nc < (uint64_t)s->nnz + n) nc *= 2;
        if (nc > UINT32_MAX) return evsnn_seterr(EVSNN_ENOMEM, "spike train: too many events");
        int rc = spk_reserve(s, (uint32_t)nc);
        if (rc) return rc;
    }
    while (s->open_t < step) s->off[++s->open_t] = s->nnz;
    memcpy(s->idx + s->nnz, ids, (size_t)n * sizeof *ids);
    if (s->val)
        for (uint32_t k = 0; k < n; k++) s->val[s->nnz + k] = 1.0f;
    s->nnz += n;
    s->off[step + 1] = s->nnz;
    return 0;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

typedef struct { uint32_t i; float v; } iv_pair;

static int cmp_iv(const void *a, const void *b) {
    uint32_t x = ((const iv_pair *)a)->i, y = ((const iv_pair *)b)->i;
    return (x > y) - (x < y);
}

/* Sort one step's events and merge duplicates; returns the new count. */
static uint32_t sort_step(spk_train *s, uint32_t lo, uint32_t hi, uint32_t out, iv_pair *tmp) {
    uint32_t m = hi - lo;
    if (m == 0) return 0; /* nothing to sort (and qsort must not see a NULL buffer) */
    if (s->val) {
        for (uint32_t k = 0; k < m; k++) tmp[k] = (iv_pair){s->idx[lo + k], s->val[lo + k]};
        qsort(tmp, m, sizeof *tmp, cmp_iv); /* qsort is not stable, but merged sums are */
        uint32_t w = out;
        for (uint32_t k = 0; k < m; k++) {
            if (w > out && s->idx[w - 1] == tmp[k].i) { s->val[w - 1] += tmp[k].v; continue; }
            s->idx[w] = tmp[k].i;
            s->val[w] = tmp[k].v;
            w++;
        }
        return w - out;
    }
    qsort(s->idx + lo, m, sizeof *s->idx, cmp_u32);
    uint32_t w = out;
    for (uint32_t k = 0; k < m; k++) {
        if (w > out && s->idx[w - 1] == s->idx[lo + k]) continue;
        s->idx[w++] = s->idx[lo + k];
    }
    return w - out;
}

int spk_close(spk_train *s, int flags) {
    while (s->open_t < s->T) s->off[++s->open_t] = s->nnz;
    if (!(flags & SPK_SORT)) return 0;
    uint32_t maxm = 0;
    for (uint32_t t = 0; t < s->T; t++) if (spk_count(s, t) > maxm) maxm = spk_count(s, t);
    iv_pair *tmp = NULL;
    if (s->val && maxm) {
        tmp = malloc((size_t)maxm * sizeof *tmp);
        if (!tmp) return evsnn_seterr(EVSNN_ENOMEM, "spike train: no memory to sort");
    }
    uint32_t w = 0;
    for (uint32_t t = 0; t < s->T; t++) {
        uint32_t lo = s->off[t], hi = s->off[t + 1];
        s->off[t] = w;
        /* Writing at w <= lo never overtakes the unread events of this step; the value
         * copy into tmp happens before any write. */
        if (s->val) w += sort_step(s, lo, hi, w, tmp);
        else {
            memmove(s->idx + w, s->idx + lo, (size_t)(hi - lo) * sizeof *s->idx);
            w += sort_step(s, w, w + (hi - lo), w, NULL);
        }
    }
    s->off[s->T] = w;
    s->nnz = w;
    free(tmp);
    return 0;
}

int spk_validate(const spk_train *s) {
    if (!s->off || s->T == 0 || s->n == 0)
        return evsnn_seterr(EVSNN_EFORMAT, "spike train: empty shape (T=%u, n=%u)", s->T, s->n);
    if (s->off[0] != 0)
        return evsnn_seterr(EVSNN_EFORMAT, "spike train: off[0]=%u, expected 0", s->off[0]);
    if (s->off[s->T] != s->nnz)
        return evsnn_seterr(EVSNN_EFORMAT, "spike train: off[T]=%u but %u events stored",
                            s->off[s->T], s->nnz);
    for (uint32_t t = 0; t < s->T; t++) {
        if (s->off[t + 1] < s->off[t])
            return evsnn_seterr(EVSNN_EFORMAT, "spike train: step %u: offsets decrease (%u < %u)",
                                t, s->off[t + 1], s->off[t]);
        for (uint32_t k = s->off[t]; k < s->off[t + 1]; k++) {
            if (s->idx[k] >= s->n)
                return evsnn_seterr(EVSNN_EFORMAT,
                                    "spike train: step %u, event %u: channel %u is not below %u",
                                    t, k, s->idx[k], s->n);
            if (k > s->off[t] && s->idx[k] <= s->idx[k - 1])
                return evsnn_seterr(EVSNN_EFORMAT,
                                    "spike train: step %u, event %u: channel %u not above %u "
                                    "(channels must strictly increase within a step)",
                                    t, k, s->idx[k], s->idx[k - 1]);
            if (s->val && !isfinite(s->val[k]))
                return evsnn_seterr(EVSNN_EFORMAT, "spike train: step %u, event %u: value not finite",
                                    t, k);
        }
    }
    return 0;
}

int spk_copy(spk_train *dst, const spk_train *src) {
    int rc = spk_init(dst, src->T, src->n, src->val ? SPK_VALUES : 0);
    if (rc) return rc;
    if ((rc = spk_reserve(dst, src->nnz ? src->nnz : 1))) { spk_deinit(dst); return rc; }
    memcpy(dst->off, src->off, ((size_t)src->T + 1) * sizeof *src->off);
    if (src->nnz) { /* a train with no events may have no idx[] at all: memcpy from NULL is UB */
        memcpy(dst->idx, src->idx, (size_t)src->nnz * sizeof *src->idx);
        if (src->val) memcpy(dst->val, src->val, (size_t)src->nnz * sizeof *src->val);
    }
    dst->nnz = src->nnz;
    dst->open_t = src->T;
    return 0;
}

int spk_from_dense(spk_train *s, const float *x, uint32_t T, uint32_t n, int flags) {
    int rc = spk_init(s, T, n, flags);
    if (rc) return rc;
    for (uint32_t t = 0; t < T; t++)
        for (uint32_t i = 0; i < n; i++)
            if (x[(size_t)t * n + i] != 0.0f && (rc = spk_push(s, t, i, x[(size_t)t * n + i]))) {
                spk_deinit(s);
                return rc;
            }
    return spk_close(s, 0);
}

void spk_to_dense(float *x, const spk_train *s) {
    memset(x, 0, (size_t)s->T * s->n * sizeof *x);
    for (uint32_t t = 0; t < s->T; t++)
        for (uint32_t k = s->off[t]; k < s->off[t + 1]; k++) x[(size_t)t * s->n + s->idx[k]] += spk_val(s, k);
}

double spk_total(const spk_train *s) {
    if (!s->val) return (double)s->nnz;
    double sum = 0;
    for (uint32_t k = 0; k < s->nnz; k++) sum += s->val[k];
    return sum;
}
