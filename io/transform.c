/* io/transform.c — event and image transforms (see transform.h). */
#include "io/transform.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/evsnn.h"

size_t tf_time_window(ds_event *ev, size_t n, int64_t lo, int64_t hi) {
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (ev[i].t >= lo && ev[i].t < hi) ev[w++] = ev[i];
    return w;
}

size_t tf_denoise(ds_event *ev, size_t n, uint32_t w, uint32_t h, int64_t window, int64_t *mem) {
    /* mem[y*w+x] = time until which the pixel counts as a neighbour's support. */
    for (size_t i = 0; i < (size_t)w * h; i++) mem[i] = INT64_MIN;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t x = ev[i].x, y = ev[i].y;
        int64_t t = ev[i].t;
        if (x >= w || y >= h) continue;
        mem[(size_t)y * w + x] = t + window;
        int keep = (x > 0 && mem[(size_t)y * w + x - 1] > t) ||
                   (x + 1 < w && mem[(size_t)y * w + x + 1] > t) ||
                   (y > 0 && mem[(size_t)(y - 1) * w + x] > t) ||
                   (y + 1 < h && mem[(size_t)(y + 1) * w + x] > t);
        if (keep) ev[k++] = ev[i];
    }
    return k;
}

void tf_bin_shape(const tf_bin_cfg *cfg, uint32_t *c, uint32_t *h, uint32_t *w) {
    *c = (uint32_t)cfg->pols;
    *h = (cfg->h + cfg->fy - 1) / cfg->fy;
    *w = (cfg->w + cfg->fx - 1) / cfg->fx;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int tf_bin(spk_train *out, const ds_event *ev, size_t n, const tf_bin_cfg *cfg) {
    memset(out, 0, sizeof *out);
    if (cfg->dt <= 0 || cfg->T == 0 || cfg->fx == 0 || cfg->fy == 0 || cfg->w == 0 || cfg->h == 0 ||
        (cfg->pols != 1 && cfg->pols != 2))
        return evsnn_seterr(EVSNN_EINVAL, "binning: bad configuration (dt %lld µs, T %u, factors %u×%u)",
                            (long long)cfg->dt, cfg->T, cfg->fx, cfg->fy);
    uint32_t C, H, W;
    tf_bin_shape(cfg, &C, &H, &W);
    int rc = spk_init(out, cfg->T, C * H * W, cfg->binary ? 0 : SPK_VALUES);
    if (rc) return rc;
    /* Counting sort by step: events need not arrive in time order. */
    uint32_t *cnt = calloc((size_t)cfg->T + 1, sizeof *cnt);
    uint32_t *step = malloc((n ? n : 1) * sizeof *step);
    uint32_t *order = NULL, *chs = NULL;
    float *acc = NULL;
    if (!cnt || !step) goto nomem;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        step[i] = UINT32_MAX;
        if (ev[i].x >= cfg->w || ev[i].y >= cfg->h) {
            free(cnt), free(step), spk_deinit(out);
            return evsnn_seterr(EVSNN_EINVAL, "binning: event %zu at (%u, %u) is outside the %u×%u sensor", i,
                                ev[i].x, ev[i].y, cfg->w, cfg->h);
        }
        if (ev[i].t < cfg->t0) continue;
        int64_t s = (ev[i].t - cfg->t0) / cfg->dt;
        if (s >= (int64_t)cfg->T) continue;
        step[i] = (uint32_t)s;
        cnt[s + 1]++;
        kept++;
    }
    if (kept > UINT32_MAX) goto nomem;
    for (uint32_t t = 0; t < cfg->T; t++) cnt[t + 1] += cnt[t];
    order = malloc((kept ? kept : 1) * sizeof *order);
    if (!order) goto nomem;
    for (size_t i = 0; i < n; i++)
        if (step[i] != UINT32_MAX) order[cnt[step[i]]++] = (uint32_t)i;
    if ((rc = spk_reserve(out, (uint32_t)kept))) goto fail;
    /* Per step: channels must come out sorted with duplicates merged. Dense steps are
     * accumulated in a [n] array and swept; sparse ones sorted. cnt[t] now holds the end
     * of step t's events in order[]. */
    uint32_t nch = C * H * W;
    acc = calloc(nch, sizeof *acc);
    chs = malloc((kept ? kept : 1) * sizeof *chs);
    if (!acc || !chs) goto nomem;
    uint32_t w = 0, lo = 0;
    for (uint32_t t = 0; t < cfg->T; t++) {
        uint32_t hi = cnt[t];
        out->off[t] = w;
        uint32_t m = hi - lo;
        for (uint32_t k = lo; k < hi; k++) {
            const ds_event *e = &ev[order[k]];
            uint32_t c = cfg->pols == 2 ? (e->p ? 1u : 0u) : 0u;
            chs[k - lo] = c * H * W + (e->y / cfg->fy) * W + e->x / cfg->fx;
        }
        if (m > nch / 16) {
            for (uint32_t k = 0; k < m; k++) acc[chs[k]] += 1.0f;
            for (uint32_t ch = 0; ch < nch; ch++)
                if (acc[ch] != 0.0f) {
                    out->idx[w] = ch;
                    if (out->val) out->val[w] = acc[ch];
                    w++;
                    acc[ch] = 0.0f;
                }
        } else if (m) {
            qsort(chs, m, sizeof *chs, cmp_u32);
            for (uint32_t k = 0; k < m; k++) {
                if (k && chs[k] == chs[k - 1]) {
                    if (out->val) out->val[w - 1] += 1.0f;
                    continue;
                }
                out->idx[w] = chs[k];
                if (out->val) out->val[w] = 1.0f;
                w++;
            }
        }
        lo = hi;
    }
    out->off[cfg->T] = w;
    out->nnz = w;
    out->open_t = cfg->T;
    free(acc), free(chs);
    free(cnt), free(step), free(order);
    return 0;
nomem:
    rc = evsnn_seterr(EVSNN_ENOMEM, "binning: no memory for %zu events", n);
fail:
    free(cnt), free(step), free(order), free(acc), free(chs);
    spk_deinit(out);
    return rc;
}

int64_t tf_dt_for_bins(int64_t span, uint32_t T) {
    if (T == 0) return 1;
    int64_t dt = (span + (int64_t)T - 1) / (int64_t)T;
    return dt < 1 ? 1 : dt;
}

int tf_rate(spk_train *out, const float *x, uint32_t n, uint32_t T, float gain, rng *r) {
    int rc = spk_init(out, T, n, 0);
    if (rc) return rc;
    for (uint32_t t = 0; t < T; t++)
        for (uint32_t i = 0; i < n; i++) {
            double p = (double)gain * x[i];
            if (p <= 0) continue;
            if (p >= 1 || rng_bernoulli(r, p))
                if ((rc = spk_push(out, t, i, 1.0f))) return spk_deinit(out), rc;
        }
    return spk_close(out, 0);
}

int tf_poisson(spk_train *out, const float *x, uint32_t n, uint32_t T, float gain, rng *r) {
    int rc = spk_init(out, T, n, SPK_VALUES);
    if (rc) return rc;
    for (uint32_t t = 0; t < T; t++)
        for (uint32_t i = 0; i < n; i++) {
            double mu = (double)gain * x[i];
            if (mu <= 0) continue;
            unsigned k = rng_poisson(r, mu);
            if (k && (rc = spk_push(out, t, i, (float)k))) return spk_deinit(out), rc;
        }
    return spk_close(out, 0);
}

int tf_latency(spk_train *out, const float *x, uint32_t n, uint32_t T, float thr) {
    int rc = spk_init(out, T, n, 0);
    if (rc) return rc;
    /* Steps are filled in order, so collect (step, channel) by a pass per step count. */
    uint32_t *cnt = calloc((size_t)T + 1, sizeof *cnt), *ord = malloc((n ? n : 1) * sizeof *ord);
    uint32_t *st = malloc((n ? n : 1) * sizeof *st);
    if (!cnt || !ord || !st) {
        free(cnt), free(ord), free(st), spk_deinit(out);
        return evsnn_seterr(EVSNN_ENOMEM, "latency coding: no memory");
    }
    for (uint32_t i = 0; i < n; i++) {
        st[i] = UINT32_MAX;
        if (!(x[i] > thr)) continue;
        double v = x[i] > 1 ? 1.0 : x[i];
        st[i] = (uint32_t)lround((1.0 - v) * (double)(T - 1));
        cnt[st[i] + 1]++;
    }
    for (uint32_t t = 0; t < T; t++) cnt[t + 1] += cnt[t];
    uint32_t m = cnt[T];
    for (uint32_t i = 0; i < n; i++)
        if (st[i] != UINT32_MAX) ord[cnt[st[i]]++] = i;
    for (uint32_t k = 0; k < m && !rc; k++) rc = spk_push(out, st[ord[k]], ord[k], 1.0f);
    free(cnt), free(ord), free(st);
    if (rc) return spk_deinit(out), rc;
    return spk_close(out, 0);
}

void tf_shift_image(float *out, const float *in, uint32_t c, uint32_t h, uint32_t w, int dx, int dy, int flip) {
    for (uint32_t ch = 0; ch < c; ch++)
        for (uint32_t y = 0; y < h; y++) {
            float *o = out + ((size_t)ch * h + y) * w;
            const long sy = (long)y - dy;
            if (sy < 0 || sy >= (long)h) {
                memset(o, 0, w * sizeof *o);
                continue;
            }
            const float *row = in + ((size_t)ch * h + (size_t)sy) * w;
            for (uint32_t x = 0; x < w; x++) {
                const long sx = (long)x - dx;
                o[x] = sx < 0 || sx >= (long)w ? 0.0f : row[flip ? (long)w - 1 - sx : sx];
            }
        }
}
