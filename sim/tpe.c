/* sim/tpe.c — tree-structured Parzen estimator (see tpe.h for the estimator's definition). */
#include "tpe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "evsnn.h"

/* One parameter's estimator over some of the observations. Continuous kinds: components
 * [n] (the observations' kernels and the prior) on the internal interval [a, b]. */
typedef struct {
    uint32_t n;
    double *mu, *sigma, *w, *z; /* z: mass of the untruncated component on [a, b] */
    double wsum;
    double *pc;                 /* CAT: [n_cat] probabilities */
} parzen;

struct tpe_model {
    tpe_cfg c;
    uint32_t n_par, n_obs, n_good;
    tpe_param *p;
    parzen *est; /* [n_par][2]: bad (0), good (1) */
    double *cand; /* [n_par]: a candidate being scored */
};

tpe_cfg tpe_defaults(void) {
    tpe_cfg c = TPE_CFG_DEFAULTS;
    return c;
}

/* ---------------------------------------------------------------- the internal space */

static void bounds(const tpe_param *p, double *a, double *b) {
    switch (p->kind) {
    case TPE_LOG: *a = log(p->lo); *b = log(p->hi); break;
    case TPE_INT: *a = p->lo - 0.5; *b = p->hi + 0.5; break;
    default: *a = p->lo; *b = p->hi; break;
    }
}

static double clampd(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

/* A value in the parameter's range (clamped; INT and CAT rounded). */
static double legal(const tpe_param *p, double x) {
    if (isnan(x)) x = p->kind == TPE_CAT ? 0 : p->lo;
    switch (p->kind) {
    case TPE_CAT: return clampd(floor(x + 0.5), 0, p->n_cat ? p->n_cat - 1 : 0);
    case TPE_INT: return clampd(floor(x + 0.5), p->lo, p->hi);
    default: return clampd(x, p->lo, p->hi);
    }
}

static double to_internal(const tpe_param *p, double x) { return p->kind == TPE_LOG ? log(x) : x; }

/* Φ(v') − Φ(u') for the normal (mu, sigma), computed in the tail where it is small. */
static double mass(double mu, double sigma, double u, double v) {
    const double zu = (u - mu) / (sigma * M_SQRT2), zv = (v - mu) / (sigma * M_SQRT2);
    if (zu > 0) return 0.5 * (erfc(zu) - erfc(zv));
    if (zv < 0) return 0.5 * (erfc(-zv) - erfc(-zu));
    return 1.0 - 0.5 * erfc(zv) - 0.5 * erfc(-zu);
}

/* ---------------------------------------------------------------- fitting */

typedef struct {
    double v;
    uint32_t i;
} keyed;

static int cmp_keyed(const void *x, const void *y) {
    const keyed *a = x, *b = y;
    const int na = isnan(a->v), nb = isnan(b->v);
    if (na != nb) return na - nb; /* NaN last */
    if (!na && a->v != b->v) return a->v < b->v ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

static void parzen_free(parzen *z) {
    free(z->mu);
    free(z->pc);
    memset(z, 0, sizeof *z);
}

/* Fit to the values v[m] (already legal) with the prior weight pw. */
static int parzen_fit(parzen *z, const tpe_param *p, const double *v, uint32_t m, double pw) {
    memset(z, 0, sizeof *z);
    if (p->kind == TPE_CAT) {
        const uint32_t K = p->n_cat;
        if (!(z->pc = malloc(K * sizeof *z->pc))) return EVSNN_ENOMEM;
        for (uint32_t k = 0; k < K; k++) z->pc[k] = pw / K;
        for (uint32_t i = 0; i < m; i++) z->pc[(uint32_t)v[i]] += 1.0;
        for (uint32_t k = 0; k < K; k++) z->pc[k] /= m + pw;
        return 0;
    }
    const uint32_t n = m + 1;
    double a, b;
    bounds(p, &a, &b);
    const double range = b - a;
    if (!(z->mu = malloc(4 * (size_t)n * sizeof *z->mu))) return EVSNN_ENOMEM;
    z->sigma = z->mu + n;
    z->w = z->sigma + n;
    z->z = z->w + n;
    z->n = n;
    /* Sorted means: the observations and the prior's mean (index m before sorting). */
    keyed *s = malloc(n * sizeof *s);
    if (!s) { parzen_free(z); return EVSNN_ENOMEM; }
    for (uint32_t i = 0; i < m; i++) s[i] = (keyed){to_internal(p, v[i]), i};
    s[m] = (keyed){0.5 * (a + b), m};
    qsort(s, n, sizeof *s, cmp_keyed);
    const double smin = range / (n + 1 < 100 ? (double)(n + 1) : 100.0);
    for (uint32_t k = 0; k < n; k++) {
        const double mu = s[k].v;
        double sg;
        if (s[k].i == m) {
            sg = range;
            z->w[k] = pw;
        } else {
            const double dl = k > 0 ? mu - s[k - 1].v : 0, dr = k + 1 < n ? s[k + 1].v - mu : 0;
            sg = clampd(dl > dr ? dl : dr, smin, range);
            z->w[k] = 1.0;
        }
        z->mu[k] = mu;
        z->sigma[k] = sg;
        z->z[k] = mass(mu, sg, a, b);
        z->wsum += z->w[k];
    }
    free(s);
    return 0;
}

tpe_model *tpe_fit(const tpe_cfg *c, const tpe_param *p, uint32_t n_par, const double *x, const double *loss,
                   uint32_t n_obs, int *err) {
    *err = 0;
    if (!(c->gamma > 0 && c->gamma < 1) || !(c->prior_weight > 0) || c->n_ei < 1) {
        *err = evsnn_seterr(EVSNN_EINVAL, "tpe: gamma %g must lie in (0, 1), prior weight %g be > 0, n_ei %u >= 1",
                            c->gamma, c->prior_weight, c->n_ei);
        return NULL;
    }
    for (uint32_t j = 0; j < n_par; j++) {
        const tpe_param *q = &p[j];
        const int ok = q->kind == TPE_CAT ? q->n_cat >= 1
                       : q->kind == TPE_LOG ? q->lo > 0 && q->hi >= q->lo && isfinite(q->hi)
                                            : isfinite(q->lo) && isfinite(q->hi) && q->hi >= q->lo;
        if (!ok || (unsigned)q->kind > TPE_CAT) {
            *err = evsnn_seterr(EVSNN_EINVAL, "tpe: parameter %u: bad kind or range [%g, %g]", j, q->lo, q->hi);
            return NULL;
        }
    }
    tpe_model *m = calloc(1, sizeof *m);
    keyed *ord = calloc(n_obs ? n_obs : 1, sizeof *ord);
    double *vals = malloc((n_obs ? n_obs : 1) * sizeof *vals);
    if (m) {
        m->p = malloc((n_par ? n_par : 1) * sizeof *m->p);
        m->est = calloc(2 * (size_t)(n_par ? n_par : 1), sizeof *m->est);
        m->cand = malloc((n_par ? n_par : 1) * sizeof *m->cand);
    }
    if (!m || !ord || !vals || !m->p || !m->est || !m->cand) goto nomem;
    m->c = *c;
    m->n_par = n_par;
    m->n_obs = n_obs;
    if (n_par) memcpy(m->p, p, n_par * sizeof *p);
    for (uint32_t i = 0; i < n_obs; i++) ord[i] = (keyed){loss[i], i};
    qsort(ord, n_obs, sizeof *ord, cmp_keyed);
    /* ⌈γ·n⌉, with a little slack so that γ·n = 3 computed as 3.0000000000000004 stays 3 */
    uint32_t ng = n_obs ? (uint32_t)ceil(c->gamma * n_obs - 1e-9) : 0;
    if (n_obs && ng < 1) ng = 1;
    if (ng > n_obs) ng = n_obs;
    m->n_good = ng;
    for (uint32_t j = 0; j < n_par; j++)
        for (int good = 0; good < 2; good++) {
            const uint32_t lo = good ? 0 : ng, hi = good ? ng : n_obs;
            for (uint32_t k = lo; k < hi; k++) vals[k - lo] = legal(&p[j], x[(size_t)ord[k].i * n_par + j]);
            if (parzen_fit(&m->est[2 * j + good], &p[j], vals, hi - lo, c->prior_weight)) goto nomem;
        }
    free(ord);
    free(vals);
    return m;
nomem:
    free(ord);
    free(vals);
    tpe_free(m);
    *err = evsnn_seterr(EVSNN_ENOMEM, "tpe: no memory for %u observations of %u parameters", n_obs, n_par);
    return NULL;
}

void tpe_free(tpe_model *m) {
    if (!m) return;
    for (uint32_t j = 0; m->est && j < 2 * m->n_par; j++) parzen_free(&m->est[j]);
    free(m->est);
    free(m->p);
    free(m->cand);
    free(m);
}

uint32_t tpe_n_good(const tpe_model *m) { return m->n_good; }

/* ---------------------------------------------------------------- densities */

double tpe_logpdf(const tpe_model *m, uint32_t j, int good, double x) {
    const tpe_param *p = &m->p[j];
    const parzen *z = &m->est[2 * j + (good != 0)];
    x = legal(p, x);
    if (p->kind == TPE_CAT) return log(z->pc[(uint32_t)x]);
    double s = 0;
    if (p->kind == TPE_INT) {
        for (uint32_t k = 0; k < z->n; k++) s += z->w[k] * mass(z->mu[k], z->sigma[k], x - 0.5, x + 0.5) / z->z[k];
        return log(s / z->wsum);
    }
    const double y = to_internal(p, x);
    for (uint32_t k = 0; k < z->n; k++) {
        const double u = (y - z->mu[k]) / z->sigma[k];
        s += z->w[k] * exp(-0.5 * u * u) / (z->sigma[k] * sqrt(2 * M_PI) * z->z[k]);
    }
    /* LOG: the density of x = e^y is the density of y times dy/dx = 1/x */
    return log(s / z->wsum) - (p->kind == TPE_LOG ? y : 0.0);
}

double tpe_score(const tpe_model *m, const double *x) {
    double s = 0;
    for (uint32_t j = 0; j < m->n_par; j++) s += tpe_logpdf(m, j, 1, x[j]) - tpe_logpdf(m, j, 0, x[j]);
    return s;
}

/* ---------------------------------------------------------------- sampling */

static double parzen_draw(const parzen *z, const tpe_param *p, rng *r) {
    if (p->kind == TPE_CAT) {
        const double u = rng_uniform(r);
        double acc = 0;
        for (uint32_t k = 0; k + 1 < p->n_cat; k++)
            if (u < (acc += z->pc[k])) return k;
        return p->n_cat - 1;
    }
    const double u = rng_uniform(r) * z->wsum;
    uint32_t k = 0;
    for (double acc = z->w[0]; k + 1 < z->n && u >= acc; acc += z->w[++k]) {}
    double a, b;
    bounds(p, &a, &b);
    /* Truncated normal by rejection: the mean lies in [a, b] and σ <= b − a, so at least
     * Φ(1) − Φ(0) = 34% of the draws land inside. */
    double y = z->mu[k];
    for (int tries = 0; tries < 10000; tries++) {
        const double t = z->mu[k] + rng_normal(r, z->sigma[k]);
        if (t >= a && t <= b) { y = t; break; }
    }
    return legal(p, p->kind == TPE_LOG ? exp(y) : y);
}

void tpe_draw_good(const tpe_model *m, rng *r, double *out) {
    for (uint32_t j = 0; j < m->n_par; j++) out[j] = parzen_draw(&m->est[2 * j + 1], &m->p[j], r);
}

uint32_t tpe_propose(const tpe_model *m, rng *r, double *out, double *cand) {
    double best = -INFINITY;
    uint32_t bi = 0;
    for (uint32_t i = 0; i < m->c.n_ei; i++) {
        double *c = cand ? cand + (size_t)i * m->n_par : m->cand;
        tpe_draw_good(m, r, c);
        const double s = tpe_score(m, c);
        if (i == 0 || s > best) {
            best = s;
            bi = i;
            if (m->n_par) memcpy(out, c, m->n_par * sizeof *out);
        }
    }
    return bi;
}

void tpe_draw_prior(const tpe_param *p, uint32_t n_par, rng *r, double *out) {
    for (uint32_t j = 0; j < n_par; j++) {
        const tpe_param *q = &p[j];
        switch (q->kind) {
        case TPE_FLOAT: out[j] = q->lo + rng_uniform(r) * (q->hi - q->lo); break;
        case TPE_LOG: out[j] = exp(log(q->lo) + rng_uniform(r) * (log(q->hi) - log(q->lo))); break;
        case TPE_INT: {
            const double n = q->hi - q->lo + 1;
            out[j] = q->lo + (n > 1 ? (double)rng_below(r, n < 4294967295.0 ? (uint32_t)n : 4294967295u) : 0);
            break;
        }
        case TPE_CAT: out[j] = q->n_cat > 1 ? rng_below(r, q->n_cat) : 0; break;
        }
    }
}

static int cmp_double(const void *x, const void *y) {
    const double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

double tpe_median(double *v, uint32_t n) {
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++)
        if (!isnan(v[i])) v[k++] = v[i];
    if (!k) return NAN;
    qsort(v, k, sizeof *v, cmp_double);
    return k % 2 ? v[k / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2]);
}
