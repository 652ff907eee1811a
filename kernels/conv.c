/* kernels/conv.c — event-driven convolution and its backward twins (see conv.h). */
#include "conv.h"

#include <math.h>
#include <string.h>

#include "rowblock.h"
#include "simd.h"

/* The valid kernel rows/columns are computed once per event, so the inner loops carry no
 * bounds checks: oy = y + pad − ky must lie in [0, lim) with lim the covered map height. */
static inline void krange(uint32_t y, uint32_t pad, uint32_t k, uint32_t lim, uint32_t *lo, uint32_t *hi) {
    int a = (int)y + (int)pad - (int)lim + 1, b = (int)y + (int)pad; /* ky in [a, b] */
    if (a < 0) a = 0;
    if (b > (int)k - 1) b = (int)k - 1;
    *lo = (uint32_t)a;
    *hi = b >= a ? (uint32_t)b + 1 : (uint32_t)a;
}

/* Targets t of an event at r = y + pad along one axis: q = r − t·p ∈ [0, kq), t ∈ [0, n). */
static inline void trange(uint32_t r, uint32_t p, uint32_t kq, uint32_t n, uint32_t *lo, uint32_t *hi) {
    const int a = (int)r - (int)kq + 1; /* smallest t·p */
    *lo = a <= 0 ? 0 : ((uint32_t)a + p - 1) / p;
    uint32_t h = r / p + 1;
    *hi = h < n ? h : n;
    if (*hi < *lo) *hi = *lo;
}

uint32_t conv_syn_ops(const conv_geom *g, uint32_t y, uint32_t x) {
    uint32_t ky0, ky1, kx0, kx1;
    krange(y, g->pad, g->k, g->limh, &ky0, &ky1);
    krange(x, g->pad, g->k, g->limw, &kx0, &kx1);
    return g->out_c * (ky1 - ky0) * (kx1 - kx0);
}

uint32_t conv_scatter_ref(float *acc, const float *w, const conv_geom *g, uint32_t ci, uint32_t y, uint32_t x, float v) {
    const uint32_t k = g->k, p = g->p, limh = g->limh, limw = g->limw, th = g->th, tw = g->tw;
    uint32_t ky0, ky1, kx0, kx1;
    krange(y, g->pad, k, limh, &ky0, &ky1);
    krange(x, g->pad, k, limw, &kx0, &kx1);
    if (ky0 >= ky1 || kx0 >= kx1) return 0;
    for (uint32_t co = 0; co < g->out_c; co++) {
        const float *wk = w + ((uint64_t)co * g->in_c + ci) * k * k;
        float *a = acc + (uint64_t)co * th * tw;
        for (uint32_t ky = ky0; ky < ky1; ky++) {
            const uint32_t oy = y + g->pad - ky;
            for (uint32_t kx = kx0; kx < kx1; kx++) {
                const uint32_t ox = x + g->pad - kx;
                a[(uint64_t)(oy / p) * tw + ox / p] += v * wk[ky * k + kx];
            }
        }
    }
    return g->out_c * (ky1 - ky0) * (kx1 - kx0);
}

void conv_pack(float *kpt, const float *w, const conv_geom *g) {
    const uint32_t k = g->k, p = g->p, kq = conv_kq(g), C = g->out_c;
    for (uint32_t ci = 0; ci < g->in_c; ci++)
        for (uint32_t qy = 0; qy < kq; qy++)
            for (uint32_t qx = 0; qx < kq; qx++) {
                float *dst = kpt + (((uint64_t)ci * kq + qy) * kq + qx) * C;
                const uint32_t ky0 = qy + 1 > p ? qy + 1 - p : 0, ky1 = qy < k - 1 ? qy : k - 1;
                const uint32_t kx0 = qx + 1 > p ? qx + 1 - p : 0, kx1 = qx < k - 1 ? qx : k - 1;
                for (uint32_t co = 0; co < C; co++) {
                    const float *wk = w + ((uint64_t)co * g->in_c + ci) * k * k;
                    float s = 0.0f;
                    for (uint32_t ky = ky0; ky <= ky1; ky++)
                        for (uint32_t kx = kx0; kx <= kx1; kx++) s += wk[ky * k + kx];
                    dst[co] = s;
                }
            }
}

void conv_pack_backward(float *dw, const float *dkpt, const conv_geom *g) {
    const uint32_t k = g->k, p = g->p, kq = conv_kq(g), C = g->out_c;
    for (uint32_t co = 0; co < C; co++)
        for (uint32_t ci = 0; ci < g->in_c; ci++) {
            float *dk = dw + ((uint64_t)co * g->in_c + ci) * k * k;
            for (uint32_t ky = 0; ky < k; ky++)
                for (uint32_t kx = 0; kx < k; kx++) {
                    float s = 0.0f;
                    for (uint32_t qy = ky; qy < ky + p; qy++)
                        for (uint32_t qx = kx; qx < kx + p; qx++)
                            s += dkpt[(((uint64_t)ci * kq + qy) * kq + qx) * C + co];
                    dk[ky * k + kx] += s;
                }
        }
}

void conv_plan_init(conv_plan *pl, conv_span *ys, conv_span *xs, const conv_geom *g) {
    const uint32_t kq = conv_kq(g);
    for (int axis = 0; axis < 2; axis++) {
        const uint32_t n = axis ? g->in_w : g->in_h, nt = axis ? g->tw : g->th, lim = axis ? g->limw : g->limh;
        conv_span *sp = axis ? xs : ys;
        for (uint32_t i = 0; i < n; i++) {
            const uint32_t r = i + g->pad;
            uint32_t lo, hi, k0, k1;
            trange(r, g->p, kq, nt, &lo, &hi);
            krange(i, g->pad, g->k, lim, &k0, &k1);
            sp[i] = (conv_span){.t0 = lo, .t1 = hi, .q0 = r - lo * g->p, .nk = k1 - k0};
        }
    }
    pl->g = *g;
    pl->ys = ys;
    pl->xs = xs;
    pl->m_hw = UINT64_MAX / ((uint64_t)g->in_h * g->in_w) + 1; /* wraps to 0 for a divisor of 1 */
    pl->m_w = UINT64_MAX / g->in_w + 1;
}

/* a[0..C) += s·b[0..C) (s = 1: a plain add); eight lanes at a time when C allows. */
static inline __attribute__((always_inline)) void axpy(float *restrict a, const float *restrict b, float s, uint32_t C,
                                                         int one) {
    if ((C & 7) == 0) {
        for (uint32_t c = 0; c < C; c += 8)
            *(v8fu *)(a + c) += one ? *(const v8fu *)(b + c) : s * *(const v8fu *)(b + c);
    } else {
        for (uint32_t c = 0; c < C; c++) a[c] += one ? b[c] : s * b[c];
    }
}

/* One event's footprint: target (ty, tx) of span (sy, sx) pairs big[(ty·tw + tx)·C] with
 * small[(qy·kq + qx)·C]; fwd adds small into big, else big into small. */
static inline __attribute__((always_inline)) void footprint(float *big, float *small, const conv_span *sy,
                                                              const conv_span *sx, uint32_t C, uint32_t p, uint32_t kq,
                                                              uint32_t tw, float v, int fwd) {
    const int one = v == 1.0f;
    uint32_t qy = sy->q0;
    for (uint32_t ty = sy->t0; ty < sy->t1; ty++, qy -= p) {
        uint32_t qx = sx->q0;
        for (uint32_t tx = sx->t0; tx < sx->t1; tx++, qx -= p) {
            float *bv = big + ((uint64_t)ty * tw + tx) * C, *sv = small + ((uint64_t)qy * kq + qx) * C;
            if (fwd) {
                if (one) axpy(bv, sv, 1.0f, C, 1);
                else axpy(bv, sv, v, C, 0);
            } else {
                if (one) axpy(sv, bv, 1.0f, C, 1);
                else axpy(sv, bv, v, C, 0);
            }
        }
    }
}

/* All events of a step, the vector count per target fixed at compile time for the common
 * channel counts (the footprint loops then unroll completely). */
static inline __attribute__((always_inline)) uint64_t events(float *big, float *small, const conv_plan *pl,
                                                               const uint32_t *idx, const float *val, uint32_t n,
                                                               uint32_t C, int fwd) {
    const conv_geom *g = &pl->g;
    const uint32_t kq = conv_kq(g);
    uint64_t ops = 0;
    for (uint32_t e = 0; e < n; e++) {
        uint32_t ci, y, x;
        conv_decode(pl, idx[e], &ci, &y, &x);
        const conv_span *sy = &pl->ys[y], *sx = &pl->xs[x];
        ops += (uint64_t)C * sy->nk * sx->nk;
        footprint(big, small + (uint64_t)ci * kq * kq * C, sy, sx, C, g->p, kq, g->tw, val ? val[e] : 1.0f, fwd);
    }
    return ops;
}

#define BY_CHANNELS(C, call)                                                                                       \
    switch (C) {                                                                                                   \
    case 8: return call(8);                                                                                        \
    case 16: return call(16);                                                                                      \
    case 32: return call(32);                                                                                      \
    case 64: return call(64);                                                                                      \
    default: return call(C);                                                                                       \
    }

KERNEL_CLONES
uint64_t conv_scatter(float *acc, const float *kpt, const conv_plan *pl, const uint32_t *idx, const float *val,
                      uint32_t n) {
#define FWD(c) events(acc, (float *)kpt, pl, idx, val, n, c, 1)
    BY_CHANNELS(pl->g.out_c, FWD)
#undef FWD
}

uint32_t conv_pull_scratch(const conv_geom *g, uint32_t n) { return g->in_h * g->in_w + 1 + 2 * n; }

/* Vectors of one target while its events stream past, 8·V columns in registers. */
static inline __attribute__((always_inline)) void pull_target(float *restrict out, const float *restrict kpt,
                                                                const conv_geom *g, const uint32_t *restrict off, const uint32_t *restrict lc,
                                                                const float *restrict lv, uint32_t ty, uint32_t tx,
                                                                uint32_t c0, const int V) {
    const uint32_t C = g->out_c, kq = conv_kq(g), p = g->p, iw = g->in_w, pad = g->pad;
    v8f a[8];
    for (int v = 0; v < V; v++) a[v] = (v8f){0};
    /* inputs (y, x) = (ty·p + qy − pad, tx·p + qx − pad) inside the map */
    const int y0 = (int)(ty * p) - (int)pad, x0 = (int)(tx * p) - (int)pad;
    const uint32_t qy0 = y0 < 0 ? (uint32_t)-y0 : 0, qx0 = x0 < 0 ? (uint32_t)-x0 : 0;
    const uint32_t qy1 = (int)g->in_h - y0 < (int)kq ? (uint32_t)((int)g->in_h - y0) : kq;
    const uint32_t qx1 = (int)iw - x0 < (int)kq ? (uint32_t)((int)iw - x0) : kq;
    for (uint32_t qy = qy0; qy < qy1; qy++)
        for (uint32_t qx = qx0; qx < qx1; qx++) {
            const uint32_t pos = (uint32_t)(y0 + (int)qy) * iw + (uint32_t)(x0 + (int)qx);
            for (uint32_t e = off[pos]; e < off[pos + 1]; e++) {
                const float x = lv[e];
                const v8f b = {x, x, x, x, x, x, x, x};
                const float *kv = kpt + (((uint64_t)lc[e] * kq + qy) * kq + qx) * C + c0;
                for (int v = 0; v < V; v++) a[v] += b * *(const v8fu *)(kv + 8 * v);
            }
        }
    for (int v = 0; v < V; v++) *(v8fu *)(out + c0 + 8 * v) = a[v];
}

/* Two horizontally adjacent targets (ty, tx) and (ty, tx + 1) at once, 8·V columns each: their
 * input windows overlap in kq − p columns, whose events are read once for both, and the two
 * sets of accumulators are independent chains (twice the additions in flight). */
static inline __attribute__((always_inline)) void pull_pair(float *restrict out, const float *restrict kpt,
                                                              const conv_geom *g, const uint32_t *restrict off,
                                                              const uint32_t *restrict lc, const float *restrict lv,
                                                              uint32_t ty, uint32_t tx, uint32_t c0, const int V) {
    const uint32_t C = g->out_c, kq = conv_kq(g), p = g->p, iw = g->in_w, pad = g->pad;
    v8f a[4], b[4];
    for (int v = 0; v < V; v++) a[v] = b[v] = (v8f){0};
    const int y0 = (int)(ty * p) - (int)pad, x0 = (int)(tx * p) - (int)pad; /* first target's window */
    const uint32_t qy0 = y0 < 0 ? (uint32_t)-y0 : 0;
    const uint32_t qy1 = (int)g->in_h - y0 < (int)kq ? (uint32_t)((int)g->in_h - y0) : kq;
    /* input columns x of the union window, as u = x − x0 ∈ [u0, u1); the first target takes
     * u < kq (tap u), the second u ≥ p (tap u − p) */
    const uint32_t u0 = x0 < 0 ? (uint32_t)-x0 : 0, span = kq + p;
    const uint32_t u1 = (int)iw - x0 < (int)span ? (uint32_t)((int)iw - x0) : span;
    for (uint32_t qy = qy0; qy < qy1; qy++) {
        const uint32_t row = (uint32_t)(y0 + (int)qy) * iw;
        for (uint32_t u = u0; u < u1; u++) {
            const uint32_t pos = row + (uint32_t)(x0 + (int)u);
            const int ina = u < kq, inb = u >= p;
            const float *ka = kpt + ((uint64_t)qy * kq + (ina ? u : 0)) * C + c0;
            const float *kb = kpt + ((uint64_t)qy * kq + (inb ? u - p : 0)) * C + c0;
            const uint64_t cs = (uint64_t)kq * kq * C; /* one input channel's packed kernel */
            if (ina && inb) {
                for (uint32_t e = off[pos]; e < off[pos + 1]; e++) {
                    const float x = lv[e];
                    const v8f bx = {x, x, x, x, x, x, x, x};
                    const uint64_t c = lc[e] * cs;
                    for (int v = 0; v < V; v++) {
                        a[v] += bx * *(const v8fu *)(ka + c + 8 * v);
                        b[v] += bx * *(const v8fu *)(kb + c + 8 * v);
                    }
                }
            } else {
                v8f *acc = ina ? a : b;
                const float *k1 = ina ? ka : kb;
                for (uint32_t e = off[pos]; e < off[pos + 1]; e++) {
                    const float x = lv[e];
                    const v8f bx = {x, x, x, x, x, x, x, x};
                    const uint64_t c = lc[e] * cs;
                    for (int v = 0; v < V; v++) acc[v] += bx * *(const v8fu *)(k1 + c + 8 * v);
                }
            }
        }
    }
    for (int v = 0; v < V; v++) {
        *(v8fu *)(out + c0 + 8 * v) = a[v];
        *(v8fu *)(out + C + c0 + 8 * v) = b[v];
    }
}

KERNEL_CLONES_FMA
uint64_t conv_pull(float *acc, const float *kpt, const conv_plan *pl, const uint32_t *idx, const float *val, uint32_t n,
                   uint32_t *scratch) {
    const conv_geom *g = &pl->g;
    const uint32_t C = g->out_c, hw = g->in_h * g->in_w;
    uint32_t *off = scratch, *lc = scratch + hw + 1;
    float *lv = (float *)(lc + n);
    /* The step's events by input position (counting sort): channel and value lists. */
    memset(off, 0, (hw + 1) * sizeof *off);
    uint64_t ops = 0;
    for (uint32_t e = 0; e < n; e++) {
        uint32_t ci, y, x;
        conv_decode(pl, idx[e], &ci, &y, &x);
        off[y * g->in_w + x + 1]++;
        ops += (uint64_t)C * pl->ys[y].nk * pl->xs[x].nk;
    }
    for (uint32_t i = 0; i < hw; i++) off[i + 1] += off[i];
    for (uint32_t e = 0; e < n; e++) {
        uint32_t ci, y, x;
        conv_decode(pl, idx[e], &ci, &y, &x);
        const uint32_t k = off[y * g->in_w + x]++;
        lc[k] = ci;
        lv[k] = val ? val[e] : 1.0f;
    }
    for (uint32_t i = hw; i > 0; i--) off[i] = off[i - 1]; /* back to start offsets */
    off[0] = 0;
    if (C % 8) { /* rare channel counts: the scatter (clear first: it adds) */
        memset(acc, 0, (size_t)g->th * g->tw * C * sizeof *acc);
        conv_scatter(acc, kpt, pl, idx, val, n);
        return ops;
    }
    for (uint32_t ty = 0; ty < g->th; ty++)
        for (uint32_t tx = 0; tx < g->tw; tx++) {
            float *out = acc + ((uint64_t)ty * g->tw + tx) * C;
            if (tx + 1 < g->tw && C <= 32) { /* the pair form (wider maps: their events would be read once per
                                               * 32 channels, where one target takes 64 at a time) */
                for (uint32_t c0 = 0; c0 < C; c0 += 32) switch ((C - c0) / 8) {
                    case 1: pull_pair(out, kpt, g, off, lc, lv, ty, tx, c0, 1); break;
                    case 2: pull_pair(out, kpt, g, off, lc, lv, ty, tx, c0, 2); break;
                    case 3: pull_pair(out, kpt, g, off, lc, lv, ty, tx, c0, 3); break;
                    default: pull_pair(out, kpt, g, off, lc, lv, ty, tx, c0, 4); break;
                    }
                tx++;
                continue;
            }
            uint32_t c0 = 0;
            for (; c0 + 64 <= C; c0 += 64) pull_target(out, kpt, g, off, lc, lv, ty, tx, c0, 8);
            switch ((C - c0) / 8) {
            case 7: pull_target(out, kpt, g, off, lc, lv, ty, tx, c0, 7); break;
            case 6: pull_target(out, kpt, g, off, lc, lv, ty, tx, c0, 6); break;
            case 5: pull_target(out, kpt, g, off, lc, lv, ty, tx, c0, 5); break;
            case 4: pull_target(out, kpt, g, off, lc, lv, ty, tx, c0, 4); break;
            case 3: pull_target(out, kpt, g, off, lc, lv, ty, tx, c0, 3); break;
            case 2: pull_target(out, kpt, g, off, lc, lv, ty, tx, c0, 2); break;
            case 1: pull_target(out, kpt, g, off, lc, lv, ty, tx, c0, 1); break;
            default: break;
            }
        }
    return ops;
}

int conv_pull_pays(const conv_geom *g, uint32_t n) {
    /* Scattering costs about one vector read-modify-write per (event, target reached, 8
     * channels); pulling, a look at each (target, tap) and half as much per event, whose
     * vectors stay in registers. */
    const double kq = conv_kq(g), reach = ceil(kq / g->p), vec = (g->out_c + 7) / 8;
    const double scatter = (double)n * reach * reach * vec;
    const double pull = (double)g->th * g->tw * kq * kq * 1.5 + scatter / 2;
    return g->out_c % 8 == 0 && pull < scatter;
}

KERNEL_CLONES
void conv_scatter_backward(float *dkpt, const float *d, const conv_plan *pl, const uint32_t *idx, const float *val,
                           uint32_t n) {
#define BWD(c) (void)events((float *)d, dkpt, pl, idx, val, n, c, 0)
    BY_CHANNELS(pl->g.out_c, BWD)
#undef BWD
}

/* A step's zero-bordered copy of d: an event's base target (⌊(y + pad)/p⌋, ⌊(x + pad)/p⌋)
 * minus up to ⌈kq/p⌉ − 1 lies in it, and targets at or past th / tw read zeros. */
typedef struct {
    uint32_t f, h, w; /* front border, rows, columns */
} dw_pad;
static dw_pad dw_pad_of(const conv_geom *g) {
    const uint32_t f = (conv_kq(g) + g->p - 1) / g->p - 1;
    const uint32_t by = (g->in_h - 1 + g->pad) / g->p + 1, bx = (g->in_w - 1 + g->pad) / g->p + 1;
    return (dw_pad){f, f + (by > g->th ? by : g->th), f + (bx > g->tw ? bx : g->tw)};
}

uint64_t conv_dw_scratch(const conv_geom *g) {
    const dw_pad pd = dw_pad_of(g);
    const uint64_t n_in = (uint64_t)g->in_c * g->in_h * g->in_w;
    return (uint64_t)pd.h * pd.w * g->out_c + 4 * n_in + (uint64_t)g->in_c * g->p * g->p + 1 + 2ull * (g->in_h + g->in_w);
}

/* Q taps x V vectors of one packed-kernel row segment, summed over a bucket's n events: tap q
 * of event i reads dp[base_i − sub − q·C] (targets tx − q), and is kpt column qx0 + q·p. */
static inline __attribute__((always_inline)) void dw_block(float *restrict out, const float *restrict dp,
                                                             const uint32_t *restrict base, const float *restrict v,
                                                             uint32_t n, uint32_t C, uint32_t p, uint32_t sub,
                                                             const int Q, const int V) {
    v8f a[12];
    for (int k = 0; k < Q * V; k++) a[k] = (v8f){0};
    for (uint32_t i = 0; i < n; i++) {
        const float x = v[i];
        const v8f b = {x, x, x, x, x, x, x, x};
        const float *s = dp + (base[i] - sub);
        for (int q = 0; q < Q; q++)
            for (int u = 0; u < V; u++) a[q * V + u] += b * *(const v8fu *)(s - (uint64_t)q * C + 8 * u);
    }
    for (int q = 0; q < Q; q++)
        for (int u = 0; u < V; u++) *(v8fu *)(out + (uint64_t)q * p * C + 8 * u) += a[q * V + u];
}

/* Below this many events per bucket on average a step goes event by event: every bucket's
 * vectors are flushed once per step, the events sorted and the step's map copied, which the
 * register sums repay only with several events a bucket (seed 004's second layer at 7%
 * firing, 2.5 a bucket: 30% slower; W3's second at 22%, 50 a bucket: 25% faster). */
#define DW_MIN_PER_BUCKET 8

#define DW_CASE(qq, vv)                                                                                            \
    case (qq) * 16 + (vv): dw_block(out, dp, bs, v, nb, C, p, sub, qq, vv); break;

KERNEL_CLONES_FMA
void conv_dw_steps(float *restrict dkpt, const float *restrict d, const conv_plan *pl, const uint32_t *off,
                   const uint32_t *idx, const float *val, uint32_t T, float *restrict scratch) {
    const conv_geom *g = &pl->g;
    const uint32_t C = g->out_c, p = g->p, kq = conv_kq(g), th = g->th, tw = g->tw, pp = p * p;
    const uint32_t n_in = g->in_c * g->in_h * g->in_w, nk = g->in_c * pp;
    const dw_pad pd = dw_pad_of(g);
    float *dp = scratch;
    uint32_t *key = (uint32_t *)(dp + (uint64_t)pd.h * pd.w * C), *eb = key + n_in, *base = eb + n_in;
    float *vs = (float *)(base + n_in);
    /* per input row / column: the base target ⌊(y + pad)/p⌋ and the residue (y + pad) mod p */
    uint32_t *cnt = (uint32_t *)(vs + n_in), *by = cnt + nk + 1, *ry_ = by + g->in_h, *bx = ry_ + g->in_h,
             *rx_ = bx + g->in_w;
    for (uint32_t y = 0; y < g->in_h; y++) by[y] = (y + g->pad) / p, ry_[y] = (y + g->pad) % p;
    for (uint32_t x = 0; x < g->in_w; x++) bx[x] = (x + g->pad) / p, rx_[x] = (x + g->pad) % p;
    for (uint32_t t = 0; t < T; t++) {
        const uint32_t e0 = off[t], ne = off[t + 1] - e0;
        const float *dt = d + (uint64_t)t * th * tw * C;
        if (!ne) continue;
        if (C % 8 || ne > n_in || ne < DW_MIN_PER_BUCKET * nk) { /* event by event */
            conv_scatter_backward(dkpt, dt, pl, idx + e0, val ? val + e0 : NULL, ne);
            continue;
        }
        /* the bordered copy of this step's d (it stays in the first-level cache) */
        memset(dp, 0, (uint64_t)pd.f * pd.w * C * sizeof *dp);
        for (uint32_t y = 0; y < pd.h - pd.f; y++) {
            float *r = dp + (uint64_t)(y + pd.f) * pd.w * C;
            if (y < th) {
                memset(r, 0, (uint64_t)pd.f * C * sizeof *r);
                memcpy(r + (uint64_t)pd.f * C, dt + (uint64_t)y * tw * C, (uint64_t)tw * C * sizeof *r);
                memset(r + (uint64_t)(pd.f + tw) * C, 0, (uint64_t)(pd.w - pd.f - tw) * C * sizeof *r);
            } else {
                memset(r, 0, (uint64_t)pd.w * C * sizeof *r);
            }
        }
        /* the step's events by (channel, residue y, residue x): counting sort */
        memset(cnt, 0, ((uint64_t)nk + 1) * sizeof *cnt);
        for (uint32_t e = 0; e < ne; e++) {
            uint32_t ci, y, x;
            conv_decode(pl, idx[e0 + e], &ci, &y, &x);
            key[e] = (ci * p + ry_[y]) * p + rx_[x];
            eb[e] = ((by[y] + pd.f) * pd.w + bx[x] + pd.f) * C;
            cnt[key[e] + 1]++;
        }
        for (uint32_t k = 0; k < nk; k++) cnt[k + 1] += cnt[k];
        for (uint32_t e = 0; e < ne; e++) {
            const uint32_t k = cnt[key[e]]++;
            base[k] = eb[e];
            vs[k] = val ? val[e0 + e] : 1.0f;
        }
        /* cnt[k] is now the end of bucket k */
        for (uint32_t ci = 0; ci < g->in_c; ci++)
            for (uint32_t ry = 0; ry < p; ry++)
                for (uint32_t rx = 0; rx < p; rx++) {
                    const uint32_t k = (ci * p + ry) * p + rx, b0 = k ? cnt[k - 1] : 0, nb = cnt[k] - b0;
                    if (!nb) continue;
                    const uint32_t *bs = base + b0;
                    const float *v = vs + b0;
                    const uint32_t jy_n = (kq - ry + p - 1) / p, jx_n = (kq - rx + p - 1) / p;
                    for (uint32_t jy = 0; jy < jy_n; jy++)
                        for (uint32_t c0 = 0; c0 < C; c0 += 32) {
                            const uint32_t V = (C - c0) / 8 < 4 ? (C - c0) / 8 : 4, Qm = 12 / V;
                            for (uint32_t jx0 = 0; jx0 < jx_n; jx0 += Qm) {
                                const uint32_t Q = jx_n - jx0 < Qm ? jx_n - jx0 : Qm;
                                float *out = dkpt + (((uint64_t)ci * kq + ry + jy * p) * kq + rx + jx0 * p) * C + c0;
                                /* tap (jy, jx0) of an event sits jy rows and jx0 columns before
                                 * its base, c0 channels on (unsigned arithmetic wraps back) */
                                const uint32_t sub = (jy * pd.w + jx0) * C - c0;
                                switch (Q * 16 + V) {
                                    DW_CASE(1, 4) DW_CASE(2, 4) DW_CASE(3, 4)
                                    DW_CASE(1, 3) DW_CASE(2, 3) DW_CASE(3, 3) DW_CASE(4, 3)
                                    DW_CASE(1, 2) DW_CASE(2, 2) DW_CASE(3, 2) DW_CASE(4, 2) DW_CASE(5, 2) DW_CASE(6, 2)
                                    DW_CASE(1, 1) DW_CASE(2, 1) DW_CASE(3, 1) DW_CASE(4, 1) DW_CASE(5, 1) DW_CASE(6, 1)
                                    DW_CASE(7, 1) DW_CASE(8, 1) DW_CASE(9, 1) DW_CASE(10, 1) DW_CASE(11, 1) DW_CASE(12, 1)
                                default: break;
                                }
                            }
                        }
                }
    }
}
#undef DW_CASE

void conv_pack_panels(float *wpan, const float *w, const conv_geom *g) {
    const uint32_t k = g->k, C = g->out_c, ic = g->in_c;
    for (uint32_t q = 0; q < k * k; q++)
        for (uint32_t co = 0; co < C; co++)
            for (uint32_t ci = 0; ci < ic; ci++)
                wpan[((uint64_t)q * C + co) * ic + ci] = w[((uint64_t)co * ic + ci) * k * k + q];
}

static inline uint32_t zdim(const conv_geom *g, uint32_t n) { return n + g->p - 1; }

/* Below this fraction of non-zero entries in the rows, the input gradient scatters entry by
 * entry (a ci-vector add per tap) instead of multiplying dense row blocks: the blocks run
 * about three times as many multiplications per cycle, so they win above about a third. */
#define GIN_SCATTER_FRACTION 0.3

uint64_t conv_gin_scratch(const conv_geom *g, uint32_t steps) {
    /* z [steps, in_h + p − 1, in_w + p − 1, in_c], three words per row, two per channel */
    return (uint64_t)steps * zdim(g, g->in_h) * zdim(g, g->in_w) * g->in_c + 3ull * steps * g->th * g->tw +
           2ull * g->out_c;
}

KERNEL_CLONES_FMA
void conv_gin_rows(float *restrict gin, const float *restrict d, const float *restrict wpan, const conv_geom *g,
                   const uint32_t *restrict rows, uint32_t n, uint32_t steps, float *restrict scratch) {
    const uint32_t k = g->k, p = g->p, C = g->out_c, ic = g->in_c, ih = g->in_h, iw = g->in_w;
    const uint32_t zh = zdim(g, ih), zw = zdim(g, iw), tpos = g->th * g->tw;
    float *z = scratch;
    uint32_t *rt = (uint32_t *)(scratch + (uint64_t)steps * zh * zw * ic), *ry = rt + n, *rx = ry + n;
    memset(z, 0, (uint64_t)steps * zh * zw * ic * sizeof *z);
    /* Row r = (step, ty, tx) of target map; its tap (ky, kx) lands on z at
     * (ty·p + ky − pad + p − 1, tx·p + kx − pad + p − 1). */
    for (uint32_t i = 0; i < n; i++) {
        const uint32_t r = rows[i], pos = r % tpos;
        rt[i] = r / tpos;
        ry[i] = pos / g->tw * p + p - 1;
        rx[i] = pos % g->tw * p + p - 1;
    }
    /* Sparse rows (max pooling routes one entry per window): each non-zero entry adds its
     * footprint, a ci-vector per tap; dense rows: blocks of rows against each tap's panel. */
    uint64_t nnz = 0;
    for (uint32_t i = 0; i < n; i++) {
        const float *dr = d + (uint64_t)rows[i] * C;
        for (uint32_t co = 0; co < C; co++) nnz += dr[co] != 0.0f;
    }
    if ((double)nnz < GIN_SCATTER_FRACTION * (double)n * C) {
        uint32_t *cs = rx + n;                 /* [C] a row's non-zero channels */
        float *dv = (float *)(cs + C);         /* [C] and their values */
        for (uint32_t i = 0; i < n; i++) {
            const float *dr = d + (uint64_t)rows[i] * C;
            uint32_t m = 0;
            for (uint32_t co = 0; co < C; co++) { /* branch-free: a quarter are non-zero, at random */
                cs[m] = co;
                dv[m] = dr[co];
                m += dr[co] != 0.0f;
            }
            for (uint32_t ky = 0; ky < k; ky++) {
                const int yy = (int)(ry[i] + ky) - (int)g->pad;
                if (yy < 0 || yy >= (int)zh) continue;
                for (uint32_t kx = 0; kx < k; kx++) {
                    const int xx = (int)(rx[i] + kx) - (int)g->pad;
                    if (xx < 0 || xx >= (int)zw) continue;
                    float *zo = z + (((uint64_t)rt[i] * zh + (uint32_t)yy) * zw + (uint32_t)xx) * ic;
                    const float *P = wpan + (uint64_t)(ky * k + kx) * C * ic;
                    const float *drow = dv;
                    float *dst = zo;
                    /* the row's non-zero channels summed in registers, one store per tap */
                    rowblock_list(&dst, &drow, P, ic, cs, m, ic);
                }
            }
        }
    } else {
        for (uint32_t ky = 0; ky < k; ky++)
            for (uint32_t kx = 0; kx < k; kx++) {
                const float *P = wpan + (uint64_t)(ky * k + kx) * C * ic;
                float *dst[ROWBLOCK_R];
                const float *dr[ROWBLOCK_R];
                int nb = 0;
                for (uint32_t i = 0; i < n; i++) {
                    const int yy = (int)(ry[i] + ky) - (int)g->pad, xx = (int)(rx[i] + kx) - (int)g->pad;
                    if (yy < 0 || yy >= (int)zh || xx < 0 || xx >= (int)zw) continue;
                    dst[nb] = z + (((uint64_t)rt[i] * zh + (uint32_t)yy) * zw + (uint32_t)xx) * ic;
                    dr[nb] = d + (uint64_t)rows[i] * C;
                    if (++nb == ROWBLOCK_R) {
                        rowblock(dst, dr, P, ic, C, ic, ROWBLOCK_R);
                        nb = 0;
                    }
                }
                if (nb) rowblock(dst, dr, P, ic, C, ic, nb);
            }
    }
    /* gin[y, x] = Σ_{jy, jx < p} z[y − jy + p − 1, x − jx + p − 1]: the pooling window's box. */
    for (uint32_t t = 0; t < steps; t++)
        for (uint32_t y = 0; y < ih; y++)
            for (uint32_t x = 0; x < iw; x++) {
                float *o = gin + (((uint64_t)t * ih + y) * iw + x) * ic;
                memset(o, 0, ic * sizeof *o);
                for (uint32_t jy = 0; jy < p; jy++)
                    for (uint32_t jx = 0; jx < p; jx++) {
                        const float *zs = z + (((uint64_t)t * zh + y + p - 1 - jy) * zw + x + p - 1 - jx) * ic;
                        for (uint32_t ci = 0; ci < ic; ci++) o[ci] += zs[ci];
                    }
            }
}

/* Σ a[i]·b[i] in eight interleaved partial sums (a float reduction the compiler may not
 * reorder by itself), then the tail. */
static inline __attribute__((always_inline)) float dot(const float *restrict a, const float *restrict b, uint32_t n) {
    v8f s = {0};
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8) s += *(const v8fu *)(a + i) * *(const v8fu *)(b + i);
    float r = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    for (; i < n; i++) r += a[i] * b[i];
    return r;
}

KERNEL_CLONES_FMA
void conv_gin_at(float *restrict gin, const float *restrict d, const float *restrict kpt, const conv_plan *pl,
                 const uint32_t *restrict at, uint32_t n_at) {
    const conv_geom *g = &pl->g;
    const uint32_t C = g->out_c, p = g->p, kq = conv_kq(g), tw = g->tw;
    for (uint32_t i = 0; i < n_at; i++) {
        uint32_t ci, y, x;
        conv_decode(pl, at[i], &ci, &y, &x);
        const conv_span *sy = &pl->ys[y], *sx = &pl->xs[x];
        const float *kc = kpt + (uint64_t)ci * kq * kq * C;
        float s = 0.0f;
        uint32_t qy = sy->q0;
        for (uint32_t ty = sy->t0; ty < sy->t1; ty++, qy -= p) {
            uint32_t qx = sx->q0;
            for (uint32_t tx = sx->t0; tx < sx->t1; tx++, qx -= p)
                s += dot(kc + ((uint64_t)qy * kq + qx) * C, d + ((uint64_t)ty * tw + tx) * C, C);
        }
        gin[at[i]] += s;
    }
}

/* Two-vector shuffles with constant lanes: GCC's and clang's spellings. */
#if defined(__clang__)
#define SHUF(a, b, i0, i1, i2, i3, i4, i5, i6, i7) __builtin_shufflevector(a, b, i0, i1, i2, i3, i4, i5, i6, i7)
#else
typedef int v8i __attribute__((vector_size(32)));
#define SHUF(a, b, i0, i1, i2, i3, i4, i5, i6, i7) __builtin_shuffle(a, b, (v8i){i0, i1, i2, i3, i4, i5, i6, i7})
#endif

/* Eight rows of eight floats transposed in registers (the unpack / shuffle / lane-swap
 * sequence, written as generic shuffles the compiler maps onto the target's). */
static inline __attribute__((always_inline)) void tr8x8(v8f r[8]) {
    v8f t[8], u[8];
    for (int k = 0; k < 8; k += 2) {
        t[k] = SHUF(r[k], r[k + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[k + 1] = SHUF(r[k], r[k + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int k = 0; k < 8; k += 4) {
        u[k] = SHUF(t[k], t[k + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        u[k + 1] = SHUF(t[k], t[k + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        u[k + 2] = SHUF(t[k + 1], t[k + 3], 0, 1, 8, 9, 4, 5, 12, 13);
        u[k + 3] = SHUF(t[k + 1], t[k + 3], 2, 3, 10, 11, 6, 7, 14, 15);
    }
    for (int k = 0; k < 4; k++) {
        r[k] = SHUF(u[k], u[k + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        r[k + 4] = SHUF(u[k], u[k + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

KERNEL_CLONES
void transpose(float *restrict dst, const float *restrict src, uint32_t a, uint32_t b, float scale) {
    const uint32_t a8 = a & ~7u, b8 = b & ~7u;
    const v8f sc = {scale, scale, scale, scale, scale, scale, scale, scale};
    for (uint32_t i0 = 0; i0 < a8; i0 += 8)
        for (uint32_t j0 = 0; j0 < b8; j0 += 8) {
            v8f r[8];
            for (int k = 0; k < 8; k++) r[k] = *(const v8fu *)(src + (uint64_t)(i0 + k) * b + j0);
            tr8x8(r);
            for (int k = 0; k < 8; k++) *(v8fu *)(dst + (uint64_t)(j0 + k) * a + i0) = scale == 1.0f ? r[k] : r[k] * sc;
        }
    /* the edges: rows past a8 and columns past b8 */
    for (uint32_t i = 0; i < a; i++)
        for (uint32_t j = i < a8 ? b8 : 0; j < b; j++)
            dst[(uint64_t)j * a + i] = scale == 1.0f ? src[(uint64_t)i * b + j] : src[(uint64_t)i * b + j] * scale;
}

KERNEL_CLONES
void pool_max_cl(float *restrict acc, uint8_t *restrict arg, float *restrict cl, uint32_t C, uint32_t oh, uint32_t ow,
                 uint32_t p) {
    const uint32_t lw = ow * p;
    float m[64];
    uint8_t a[64];
    for (uint32_t py = 0; py < oh; py++)
        for (uint32_t px = 0; px < ow; px++)
            for (uint32_t c0 = 0; c0 < C; c0 += 64) {
                const uint32_t nc = C - c0 < 64 ? C - c0 : 64;
                for (uint32_t c = 0; c < nc; c++) {
                    m[c] = -__builtin_inff();
                    a[c] = 0;
                }
                for (uint32_t dy = 0; dy < p; dy++)
                    for (uint32_t dx = 0; dx < p; dx++) {
                        float *restrict w = cl + ((uint64_t)(py * p + dy) * lw + px * p + dx) * C + c0;
                        const uint8_t off = (uint8_t)(dy * p + dx);
                        for (uint32_t c = 0; c < nc; c++) {
                            const int gt = w[c] > m[c];
                            m[c] = gt ? w[c] : m[c];
                            a[c] = gt ? off : a[c];
                            w[c] = 0.0f;
                        }
                    }
                for (uint32_t c = 0; c < nc; c++) {
                    const uint64_t j = ((uint64_t)(c0 + c) * oh + py) * ow + px;
                    acc[j] = m[c];
                    if (arg) arg[j] = a[c];
                }
            }
}
