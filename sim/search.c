/* sim/search.c — a study's trials (grid, random draws), TPE proposals through sim/tpe.h,
 * the resume check, objectives and the median rule (sim/search.h). */
#include "search.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evsnn.h"
#include "rng.h"
#include "tpe.h"

/* ---------------------------------------------------------------- trials */

/* An axis as a search parameter: a list is categorical over its entries. */
static tpe_param axis_param(const study_axis *a) {
    tpe_param q = {TPE_CAT, 0, 0, a->n};
    if (a->kind != STUDY_AK_LIST) {
        q.kind = a->kind == STUDY_AK_LOG ? TPE_LOG : a->kind == STUDY_AK_INT ? TPE_INT : TPE_FLOAT;
        q.lo = a->lo;
        q.hi = a->hi;
        q.n_cat = 0;
    }
    return q;
}

/* Set axis ax of t from a parameter value: a list's index, or the number. */
static void axis_set(study_trial *t, const study_axis *a, int ax, double x) {
    if (a->kind == STUDY_AK_LIST) study_trial_set_axis(t, ax, a->s[(uint32_t)x], a->v[(uint32_t)x]);
    else study_trial_set_axis(t, ax, "", x);
}

/* Axis ax varies in variant vi's search: a range or a list of several, not overridden. */
static int searched(const study *s, uint32_t vi, int ax) {
    const study_axis *a = &s->ax[ax];
    return (a->kind != STUDY_AK_LIST || a->n > 1) && !(s->n_var && ((s->var[vi].mask >> ax) & 1));
}

/* Trial id of the grid or the random draws, or (x non-NULL, TPE) with the searched axes of
 * its variant set from the parameter values x, in axis order. */
static int trial_at(const study *s, uint32_t id, const double *x, study_trial *t) {
    if (id >= s->n_trials) return evsnn_seterr(EVSNN_ERANGE, "trial %u: the study has %u trials", id, s->n_trials);
    memset(t, 0, sizeof *t);
    t->id = id;
    uint32_t vi = 0;
    if (x) {
        vi = s->n_var ? id % s->n_var : 0;
        uint32_t j = 0;
        for (int ax = 0; ax < STUDY_AX_N; ax++)
            if (searched(s, vi, ax)) axis_set(t, &s->ax[ax], ax, x[j++]);
            else study_trial_set_axis(t, ax, s->ax[ax].s[0], s->ax[ax].v[0]);
    } else if (s->search == STUDY_GRID) {
        uint64_t k = id;
        if (s->n_var) {
            vi = (uint32_t)(k % s->n_var);
            k /= s->n_var;
        }
        for (int ax = STUDY_AX_N - 1; ax >= 0; ax--) {
            const study_axis *a = &s->ax[ax];
            const uint32_t i = (uint32_t)(k % a->n);
            k /= a->n;
            study_trial_set_axis(t, ax, a->s[i], a->v[i]);
        }
    } else {
        /* Random search, and a TPE study's first trials: every axis drawn from its list or
         * range in axis order; a TPE study assigns variants in turn instead of drawing them. */
        rng *r = rng_create(rng_stream(s->seed, id));
        if (!r) return evsnn_seterr(EVSNN_ENOMEM, "trial %u: no memory", id);
        for (int ax = 0; ax < STUDY_AX_N; ax++) {
            const tpe_param q = axis_param(&s->ax[ax]);
            double v;
            tpe_draw_prior(&q, 1, r, &v);
            axis_set(t, &s->ax[ax], ax, v);
        }
        if (s->n_var) vi = s->search == STUDY_TPE ? id % s->n_var : rng_below(r, s->n_var);
        rng_free(r);
    }
    if (s->n_var) {
        const study_variant *v = &s->var[vi];
        snprintf(t->variant, sizeof t->variant, "%s", v->name);
        for (int ax = 0; ax < STUDY_AX_N; ax++)
            if (v->mask & (1u << ax)) {
                const study_trial *o = &v->t;
                switch (ax) {
                case STUDY_AX_DATASET: snprintf(t->dataset, sizeof t->dataset, "%s", o->dataset); break;
                case STUDY_AX_ARCH: snprintf(t->arch, sizeof t->arch, "%s", o->arch); break;
                case STUDY_AX_ACCEL: snprintf(t->accel, sizeof t->accel, "%s", o->accel); break;
                case STUDY_AX_SURR: snprintf(t->surrogate, sizeof t->surrogate, "%s", o->surrogate); break;
                case STUDY_AX_SLOPE: t->slope = o->slope; break;
                case STUDY_AX_BETA: t->beta = o->beta; break;
                case STUDY_AX_THETA: t->theta = o->theta; break;
                case STUDY_AX_THRESH: snprintf(t->threshold, sizeof t->threshold, "%s", o->threshold); break;
                case STUDY_AX_BIN: t->binarize = o->binarize; break;
                case STUDY_AX_LR: t->lr = o->lr; break;
                case STUDY_AX_BATCH: t->batch = o->batch; break;
                case STUDY_AX_SEED: t->seed = o->seed; break;
                }
            }
    }
    /* Relative accelerator configs are relative to the study file only (sim/STUDY.md), never
     * looked up in the working directory; the resolved absolute path goes into the key. */
    if (t->accel[0] && t->accel[0] != '/' && s->dir[0]) {
        char buf[2 * STUDY_STR + 2];
        snprintf(buf, sizeof buf, "%s/%s", s->dir, t->accel);
        if (strlen(buf) >= sizeof t->accel)
            return evsnn_seterr(EVSNN_ERANGE, "trial %u: accel '%s' resolved against the study file's directory is "
                                              "longer than %zu characters", id, t->accel, sizeof t->accel - 1);
        memcpy(t->accel, buf, strlen(buf) + 1);
    }
    snprintf(t->key, sizeof t->key, "variant=%s;dataset=%s;arch=%s;accel=%s;surrogate=%s;slope=%.9g;beta=%.9g;theta=%.9g;"
             "threshold=%s;binarize=%d;seed=%llu",
             t->variant, t->dataset, t->arch, t->accel, t->surrogate, (double)t->slope, (double)t->beta, (double)t->theta,
             t->threshold, t->binarize, (unsigned long long)t->seed);
    /* lr and batch only where the study varies them, so that the keys of studies written
     * before they were axes stay what they were */
    size_t kl = strlen(t->key);
    if (s->key_lr) kl += (size_t)snprintf(t->key + kl, sizeof t->key - kl, ";lr=%.9g", (double)t->lr);
    if (s->key_batch && kl < sizeof t->key) snprintf(t->key + kl, sizeof t->key - kl, ";batch=%u", t->batch);
    return 0;
}

int study_trial_get(const study *s, uint32_t id, study_trial *t) { return trial_at(s, id, NULL, t); }

/* ---------------------------------------------------------------- TPE proposals */

/* Search decisions read the values the table holds (9 significant digits), so that a run
 * resumed from the table decides exactly as the run that wrote it. */
static double r9(double x) {
    char b[40];
    snprintf(b, sizeof b, "%.9g", x);
    return strtod(b, NULL);
}

static double trial_num(const study_trial *t, int ax) {
    switch (ax) {
    case STUDY_AX_SLOPE: return t->slope;
    case STUDY_AX_BETA: return t->beta;
    case STUDY_AX_THETA: return t->theta;
    case STUDY_AX_BIN: return t->binarize;
    case STUDY_AX_LR: return t->lr;
    case STUDY_AX_BATCH: return t->batch;
    case STUDY_AX_SEED: return (double)t->seed;
    default: return NAN;
    }
}

static const char *trial_str(const study_trial *t, int ax) {
    switch (ax) {
    case STUDY_AX_DATASET: return t->dataset;
    case STUDY_AX_ARCH: return t->arch;
    case STUDY_AX_ACCEL: return t->accel;
    case STUDY_AX_SURR: return t->surrogate;
    case STUDY_AX_THRESH: return t->threshold;
    default: return NULL;
    }
}

/* Axis ax of t as a search parameter value; -1 when t's value is not on the axis. A trial's
 * accel is the resolved path: an entry matches as written or below the study's directory. */
static int axis_coord(const study *s, int ax, const study_trial *t, double *x) {
    const study_axis *a = &s->ax[ax];
    const double v = trial_num(t, ax);
    if (a->kind != STUDY_AK_LIST) {
        const int fl = a->kind != STUDY_AK_INT; /* float fields hold the bounds rounded to float */
        if (!(v >= (fl ? (double)(float)a->lo : a->lo) && v <= (fl ? (double)(float)a->hi : a->hi))) return -1;
        *x = v;
        return 0;
    }
    const char *str = trial_str(t, ax);
    for (uint32_t i = 0; i < a->n; i++) {
        int eq;
        if (str) {
            const size_t dl = strlen(s->dir);
            eq = !strcmp(str, a->s[i]) || (ax == STUDY_AX_ACCEL && dl && !strncmp(str, s->dir, dl) && str[dl] == '/' &&
                                           !strcmp(str + dl + 1, a->s[i]));
        } else if (ax == STUDY_AX_SLOPE || ax == STUDY_AX_BETA || ax == STUDY_AX_THETA || ax == STUDY_AX_LR) {
            eq = v == (double)(float)a->v[i];
        } else {
            eq = v == a->v[i];
        }
        if (eq) {
            *x = i;
            return 0;
        }
    }
    return -1;
}

static uint32_t variant_of(const study *s, uint32_t id) { return s->n_var ? id % s->n_var : 0; }

/* The searched parameter values of t for variant vi (x[n_par]); -1 when t is not of that
 * variant or a value lies outside its axis. */
static int trial_coords(const study *s, uint32_t vi, const study_trial *t, double *x) {
    if (s->n_var && strcmp(t->variant, s->var[vi].name)) return -1;
    uint32_t j = 0;
    for (int ax = 0; ax < STUDY_AX_N; ax++)
        if (searched(s, vi, ax) && axis_coord(s, ax, t, &x[j++])) return -1;
    return 0;
}

int study_trial_check(const study *s, uint32_t id, const study_trial *row_t, study_trial *t) {
    int rc;
    if (s->search != STUDY_TPE) {
        rc = study_trial_get(s, id, t);
    } else {
        double x[STUDY_AX_N];
        if (id >= s->n_trials) return evsnn_seterr(EVSNN_ERANGE, "trial %u: the study has %u trials", id, s->n_trials);
        if (trial_coords(s, variant_of(s, id), row_t, x))
            return evsnn_seterr(EVSNN_EINVAL, "trial %u: its settings are not in the study's search space", id);
        rc = trial_at(s, id, x, t);
    }
    if (rc) return rc;
    if (strcmp(t->key, row_t->key)) return evsnn_seterr(EVSNN_EINVAL, "trial %u: the study's settings changed", id);
    return 0;
}

double study_objective(const study *s, const study_row *r) {
    if (r->status != STUDY_OK) return NAN;
    const double acc = r9(r->accuracy), cost = r9(s->cost_energy ? r->energy_uj : r->latency_us);
    switch (s->objective) {
    case STUDY_OBJ_ACCURACY: return acc;
    case STUDY_OBJ_LATENCY: return r9(r->latency_us);
    case STUDY_OBJ_ENERGY: return r9(r->energy_uj);
    case STUDY_OBJ_TRADEOFF: return cost > 0 && isfinite(cost) ? acc - s->weight * log(cost) : NAN;
    }
    return NAN;
}

int study_maximize(const study *s) { return s->objective == STUDY_OBJ_ACCURACY || s->objective == STUDY_OBJ_TRADEOFF; }

const char *study_objective_name(const study *s) {
    static const char *const n[] = {"accuracy", "latency", "energy", "tradeoff"};
    return n[s->objective];
}

/* An observation's place in the ranking (best first): class 0 ok, 1 pruned, 2 failed (and
 * ok without an objective), 3 running; then a, b within the class; then the trial id. */
typedef struct {
    int cls;
    double a, b;
    uint32_t id, k;
} ranked;

static int cmp_ranked(const void *x, const void *y) {
    const ranked *p = x, *q = y;
    if (p->cls != q->cls) return p->cls - q->cls;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    if (p->b != q->b) return p->b < q->b ? -1 : 1;
    return p->id < q->id ? -1 : p->id > q->id;
}

static ranked rank_row(const study *s, const study_row *r, uint32_t k) {
    ranked o = {2, 0, 0, r->t.id, k};
    const double obj = study_objective(s, r);
    if (r->status == STUDY_OK && !isnan(obj)) {
        o.cls = 0;
        o.a = study_maximize(s) ? -obj : obj;
    } else if (r->status == STUDY_PRUNED) {
        o.cls = 1;
        o.a = -(double)r->n_curve;
        o.b = r->n_curve ? -r9(r->epoch_acc[r->n_curve - 1]) : 0;
        if (isnan(o.b)) o.b = 0;
    }
    return o;
}

int study_propose(const study *s, uint32_t id, const study_row *done, uint32_t n_done, const study_trial *pending,
                  uint32_t n_pending, study_trial *t) {
    if (s->search != STUDY_TPE) return study_trial_get(s, id, t);
    if (id >= s->n_trials) return evsnn_seterr(EVSNN_ERANGE, "trial %u: the study has %u trials", id, s->n_trials);
    const uint32_t vi = variant_of(s, id);
    tpe_param q[STUDY_AX_N];
    uint32_t np = 0;
    for (int ax = 0; ax < STUDY_AX_N; ax++)
        if (searched(s, vi, ax)) q[np++] = axis_param(&s->ax[ax]);
    const size_t cap = (size_t)n_done + n_pending + 1;
    double *x = malloc(cap * (np ? np : 1) * sizeof *x), *loss = malloc(cap * sizeof *loss), *ox = NULL;
    ranked *o = malloc(cap * sizeof *o);
    int rc = 0;
    if (!x || !loss || !o) { rc = evsnn_seterr(EVSNN_ENOMEM, "trial %u: no memory for the TPE proposal", id); goto out; }
    uint32_t n = 0, n_fin = 0;
    for (uint32_t i = 0; i < n_done; i++) {
        const study_row *r = &done[i];
        if (r->status == STUDY_PENDING || r->t.id == id || trial_coords(s, vi, &r->t, x + (size_t)n * np)) continue;
        o[n] = rank_row(s, r, n);
        n++;
        n_fin++;
    }
    if (n_fin < s->tpe.n_startup) { rc = trial_at(s, id, NULL, t); goto out; }
    for (uint32_t i = 0; i < n_pending; i++) {
        if (pending[i].id == id || trial_coords(s, vi, &pending[i], x + (size_t)n * np)) continue;
        o[n] = (ranked){3, 0, 0, pending[i].id, n};
        n++;
    }
    /* tpe_fit sorts by loss with ties in the given order: give it each observation's rank */
    qsort(o, n, sizeof *o, cmp_ranked);
    for (uint32_t i = 0; i < n; i++) loss[o[i].k] = i;
    tpe_model *m = tpe_fit(&s->tpe, q, np, x, loss, n, &rc);
    rng *g = m ? rng_create(rng_stream(s->seed, id)) : NULL;
    if (m && !g) rc = evsnn_seterr(EVSNN_ENOMEM, "trial %u: no memory", id);
    if (g && !(ox = malloc((np ? np : 1) * sizeof *ox))) rc = evsnn_seterr(EVSNN_ENOMEM, "trial %u: no memory", id);
    if (ox) {
        tpe_propose(m, g, ox, NULL);
        rc = trial_at(s, id, ox, t);
    }
    rng_free(g);
    tpe_free(m);
out:
    free(x);
    free(loss);
    free(o);
    free(ox);
    return rc;
}

/* ---------------------------------------------------------------- pruning */

void study_prune_medians(const study *s, const study_trial *t, const study_row *rows, uint32_t n, double *med) {
    for (uint32_t e = 0; e < STUDY_MAX_EPOCHS; e++) med[e] = NAN;
    if (!s->fx.prune) return;
    double *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) return; /* without memory, no stop: the trial runs to the end */
    for (uint32_t e = 0; e < STUDY_MAX_EPOCHS && e < s->fx.epochs; e++) {
        uint32_t k = 0;
        for (uint32_t i = 0; i < n; i++) {
            const study_row *r = &rows[i];
            if (r->status == STUDY_OK && r->t.id != t->id && r->n_curve > e && !strcmp(r->t.variant, t->variant))
                v[k++] = r9(r->epoch_acc[e]);
        }
        if (k >= s->fx.prune_min_trials) med[e] = tpe_median(v, k);
    }
    free(v);
}

int study_prune_stop(const study *s, const double *med, uint32_t epoch, double acc) {
    const study_fixed *f = &s->fx;
    return f->prune && epoch > f->prune_warmup && epoch < f->epochs && epoch <= STUDY_MAX_EPOCHS &&
           !isnan(med[epoch - 1]) && r9(acc) < med[epoch - 1];
}
