/* sim/tpe.h — the tree-structured Parzen estimator (TPE) of Bergstra, Bardenet, Bengio and
 * Kégl ("Algorithms for hyper-parameter optimization", NeurIPS 2011), the sampler of
 * `search = "tpe"` studies, and the median of the median stopping rule.
 *
 * A search space is n_par independent parameters, each of one kind: FLOAT on [lo, hi], LOG
 * (log-uniform prior on [lo, hi], lo > 0), INT (integers lo..hi) or CAT (choices 0..n_cat−1).
 * Given observations (a point and a loss each, lower is better), tpe_fit sorts them by loss
 * (ties in the given order) and splits them: the best n_good = max(1, ⌈γ·n⌉) are "good", the
 * rest "bad". For every parameter it fits two Parzen estimators, l over the good values and
 * g over the bad ones:
 *
 *   continuous kinds (in the internal space y: y = x for FLOAT, ln x for LOG, x for INT on
 *   [lo − ½, hi + ½]): a mixture of truncated normals on the internal interval [a, b], one
 *   per observed value (weight 1, mean at the value) plus the prior (weight prior_weight,
 *   mean (a+b)/2, σ = b − a). An observation's σ is the larger of its distances to its
 *   neighbours among the sorted means (observed values and the prior's mean), clipped to
 *   [(b − a)/min(100, m + 1), b − a] with m the number of means (the paper's adaptive
 *   Parzen estimator, with hyperopt's clip). Each component is truncated to [a, b] and
 *   renormalised. LOG densities carry the Jacobian 1/x; INT is the mass of [k − ½, k + ½].
 *   categorical: p(k) = (count of k + prior_weight/n_cat) / (n + prior_weight).
 *
 * tpe_propose draws n_ei candidates from l (every parameter independently, candidate after
 * candidate) and returns the one with the largest Σ_j log l_j(x_j) − log g_j(x_j), i.e. the
 * largest l(x)/g(x) (the first on ties). All observations weigh the same (no forgetting).
 * Random numbers come from the caller's rng only, so a proposal is a function of its inputs
 * and the generator state. No I/O, no global state. */
#ifndef EVSNN_TPE_H
#define EVSNN_TPE_H

#include <stddef.h>
#include <stdint.h>

#include "rng.h"
#include "tpe_cfg.h"

typedef enum { TPE_FLOAT, TPE_LOG, TPE_INT, TPE_CAT } tpe_kind;

typedef struct {
    tpe_kind kind;
    double lo, hi;  /* FLOAT, LOG, INT: bounds, inclusive (LOG: lo > 0; INT: integers) */
    uint32_t n_cat; /* CAT: number of choices (>= 1); a value is a choice's index */
} tpe_param;

/* The settings (tpe_cfg, sim/tpe_cfg.h) at TPE_CFG_DEFAULTS: γ 0.25, n_ei 24, n_startup 10,
 * prior weight 1. */
tpe_cfg tpe_defaults(void);

/* A fitted pair of estimators per parameter. */
typedef struct tpe_model tpe_model;

/* x: [n_obs, n_par] row-major (CAT: the index), loss: [n_obs] (NaN sorts last). Values
 * outside a parameter's range are clamped into it. NULL with *err (EVSNN_EINVAL naming the
 * parameter, EVSNN_ENOMEM) on bad input. */
tpe_model *tpe_fit(const tpe_cfg *c, const tpe_param *p, uint32_t n_par, const double *x, const double *loss,
                   uint32_t n_obs, int *err);
void tpe_free(tpe_model *m); /* NULL is fine */

uint32_t tpe_n_good(const tpe_model *m);
/* Log density (log mass for INT and CAT) of parameter j at x under l (good = 1) or g. */
double tpe_logpdf(const tpe_model *m, uint32_t j, int good, double x);
/* Σ_j log l_j(x_j) − log g_j(x_j). x: [n_par] */
double tpe_score(const tpe_model *m, const double *x);
/* One point drawn from l. out: [n_par] */
void tpe_draw_good(const tpe_model *m, rng *r, double *out);
/* The TPE proposal. out: [n_par]; cand: [n_ei, n_par] the candidates in draw order, or NULL.
 * Returns the index of the chosen candidate. */
uint32_t tpe_propose(const tpe_model *m, rng *r, double *out, double *cand);

/* One point from the prior: uniform on [lo, hi] (FLOAT), log-uniform (LOG), uniform on the
 * integers (INT) or choices (CAT). The draws, one per parameter in order, are those of random
 * search: one rng_uniform per continuous parameter, rng_below(n) per INT or CAT with n > 1
 * choices, nothing for a parameter with a single value. out: [n_par] */
void tpe_draw_prior(const tpe_param *p, uint32_t n_par, rng *r, double *out);

/* Median of v[n] ignoring NaN (mean of the middle two for an even count); NaN when none.
 * Sorts v in place. */
double tpe_median(double *v, uint32_t n);

#endif
