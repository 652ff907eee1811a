/* io/study.c — study files (libconfig) and result tables (CSV, HDF5). The trials, TPE
 * proposals, objectives and the median rule over what it parses are sim/search.c. */
#include "io/study.h"

#include <errno.h>
#include <hdf5.h>
#include <libconfig.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/lcfg.h"
#include "io/replace.h"
#include "sim/evsnn.h"
#include "sim/tha.h"

/* The axes' names in the study file, in grid order (STUDY_AX_*, sim/study_types.h). */
static const char *const axis_names[STUDY_AX_N + 1] = {"dataset", "arch", "accel", "surrogate", "slope", "beta",
                                                       "theta", "threshold", "binarize", "lr", "batch", "seed", NULL};

/* ---------------------------------------------------------------- parsing */

static int is_num(const config_setting_t *s) {
    int t = config_setting_type(s);
    return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 || t == CONFIG_TYPE_FLOAT;
}

/* "fixed" or "anneal:T0:TINF:A[,T0:TINF:A...]" (per spiking layer, a shorter list repeats
 * its last) with thresholds > 0, alpha in [0, 1]. */
static int check_threshold(const char *s) {
    if (!strcmp(s, "fixed")) return 0;
    train_tha t;
    return strncmp(s, "anneal:", 7) || train_tha_parse(s + 7, &t) ? -1 : 0;
}

static int check_value(lcfg_ctx *p, const config_setting_t *e, const char *key, int ax, double v, const char *str) {
    switch (ax) {
    case STUDY_AX_SLOPE: if (!(v >= 0 && isfinite(v))) return lcfg_bad(p, e, key, "slope must be >= 0 (0: the surrogate's default)"); break;
    case STUDY_AX_BETA: if (!(v >= 0 && v <= 1)) return lcfg_bad(p, e, key, "beta must lie in [0, 1]"); break;
    case STUDY_AX_THETA: if (!(v > 0 && isfinite(v))) return lcfg_bad(p, e, key, "theta must be > 0"); break;
    case STUDY_AX_LR: if (!(v > 0 && v < 10)) return lcfg_bad(p, e, key, "lr must lie in (0, 10)"); break;
    case STUDY_AX_BATCH: if (!(v >= 1 && v <= 1e6)) return lcfg_bad(p, e, key, "batch must lie in [1, 1000000]"); break;
    case STUDY_AX_SEED: if (!(v >= 0 && v < 9.007199254740992e15)) return lcfg_bad(p, e, key, "seed must be an integer >= 0"); break;
    case STUDY_AX_THRESH:
        if (check_threshold(str))
            return lcfg_bad(p, e, key, "expected \"fixed\" or \"anneal:THETA0:THETA_INF:ALPHA[,...]\" (thresholds > 0, alpha in [0, 1])");
        break;
    case STUDY_AX_SURR:
        if (!*str) return lcfg_bad(p, e, key, "empty surrogate name");
        if (strlen(str) >= sizeof ((study_trial *)0)->surrogate) return lcfg_bad(p, e, key, "surrogate name too long");
        break;
    default: break;
    }
    return 0;
}

static int is_string_axis(int ax) {
    return ax == STUDY_AX_DATASET || ax == STUDY_AX_ARCH || ax == STUDY_AX_ACCEL || ax == STUDY_AX_SURR || ax == STUDY_AX_THRESH;
}

/* One element of an axis (list entry or a variant's scalar) into a[i] / the trial. */
static int axis_elem(lcfg_ctx *p, const config_setting_t *e, const char *key, int ax, char *s, double *v) {
    if (is_string_axis(ax)) {
        if (config_setting_type(e) != CONFIG_TYPE_STRING) return lcfg_bad(p, e, key, "expected a string");
        const char *x = config_setting_get_string(e);
        if (strlen(x) >= STUDY_STR) return lcfg_bad(p, e, key, "string too long");
        snprintf(s, STUDY_STR, "%s", x);
        return check_value(p, e, key, ax, 0, s);
    }
    if (ax == STUDY_AX_BIN) {
        if (config_setting_type(e) != CONFIG_TYPE_BOOL) return lcfg_bad(p, e, key, "expected true or false");
        *v = config_setting_get_bool(e);
        return 0;
    }
    if (!is_num(e)) return lcfg_bad(p, e, key, "expected a number");
    *v = config_setting_type(e) == CONFIG_TYPE_FLOAT ? config_setting_get_float(e) : (double)config_setting_get_int64(e);
    if ((ax == STUDY_AX_SEED || ax == STUDY_AX_BATCH) && config_setting_type(e) == CONFIG_TYPE_FLOAT)
        return lcfg_bad(p, e, key, ax == STUDY_AX_SEED ? "seed must be an integer" : "batch must be an integer");
    return check_value(p, e, key, ax, *v, NULL);
}

static double num_of(const config_setting_t *s) {
    return config_setting_type(s) == CONFIG_TYPE_FLOAT ? config_setting_get_float(s) : (double)config_setting_get_int64(s);
}

/* A range {kind = "float" | "log" | "int"; min; max;} (`log = true` is kind "log"): slope,
 * beta, theta and lr are continuous (float or log), batch and seed integers. */
static int parse_range(lcfg_ctx *p, study_axis *a, const config_setting_t *s, int ax, const char *key) {
    const int integer = ax == STUDY_AX_BATCH || ax == STUDY_AX_SEED;
    if (ax != STUDY_AX_SLOPE && ax != STUDY_AX_BETA && ax != STUDY_AX_THETA && ax != STUDY_AX_LR && !integer)
        return lcfg_bad(p, s, key, "only slope, beta, theta, lr, batch and seed may be ranges {kind; min; max;}");
    static const char *const rk[] = {"kind", "min", "max", "log", NULL};
    if (lcfg_only_keys(p, s, key, rk)) return p->rc;
    config_setting_t *mn = config_setting_get_member(s, "min"), *mx = config_setting_get_member(s, "max");
    config_setting_t *kd = config_setting_get_member(s, "kind"), *lg = config_setting_get_member(s, "log");
    char k2[96];
    int kind = integer ? STUDY_AK_INT : STUDY_AK_FLOAT;
    if (lg) {
        snprintf(k2, sizeof k2, "%s.log", key);
        if (config_setting_type(lg) != CONFIG_TYPE_BOOL) return lcfg_bad(p, lg, k2, "expected true or false");
        if (config_setting_get_bool(lg)) kind = STUDY_AK_LOG;
    }
    if (kd) {
        snprintf(k2, sizeof k2, "%s.kind", key);
        const char *k = config_setting_type(kd) == CONFIG_TYPE_STRING ? config_setting_get_string(kd) : NULL;
        const int want = !k ? -1 : !strcmp(k, "float") ? STUDY_AK_FLOAT : !strcmp(k, "log") ? STUDY_AK_LOG : !strcmp(k, "int") ? STUDY_AK_INT : -1;
        if (want < 0) {
            char w[200];
            snprintf(w, sizeof w, "unknown parameter kind%s%.40s%s; expected \"float\", \"log\" or \"int\" (a categorical "
                     "parameter is a list [a, b, ...])", k ? " '" : "", k ? k : "", k ? "'" : "");
            return lcfg_bad(p, kd, k2, w);
        }
        if (lg && config_setting_get_bool(lg) && want != STUDY_AK_LOG) return lcfg_bad(p, lg, k2, "log = true contradicts this kind");
        kind = want;
    }
    if (integer != (kind == STUDY_AK_INT)) {
        snprintf(k2, sizeof k2, "%s%s", key, kd ? ".kind" : ".log");
        return lcfg_bad(p, kd ? kd : lg, k2, integer ? "an integer parameter takes kind \"int\""
                                                : "a continuous parameter takes kind \"float\" or \"log\"");
    }
    if (!mn || !mx || !is_num(mn) || !is_num(mx)) return lcfg_bad(p, s, key, "a range needs numbers min and max");
    a->lo = num_of(mn);
    a->hi = num_of(mx);
    if (integer && (config_setting_type(mn) == CONFIG_TYPE_FLOAT || config_setting_type(mx) == CONFIG_TYPE_FLOAT))
        return lcfg_bad(p, s, key, "an integer range needs integer min and max");
    if (check_value(p, mn, key, ax, a->lo, NULL) || check_value(p, mx, key, ax, a->hi, NULL)) return p->rc;
    if (!(a->hi >= a->lo)) return lcfg_bad(p, s, key, "max must be >= min");
    if (kind == STUDY_AK_LOG && !(a->lo > 0)) return lcfg_bad(p, s, key, "a log range needs min > 0");
    if (kind == STUDY_AK_INT && a->hi - a->lo >= 4294967295.0) return lcfg_bad(p, s, key, "an integer range spans at most 2^32 - 1 values");
    a->kind = kind;
    a->n = 0;
    return 0;
}

static int parse_axis(lcfg_ctx *p, study *st, const config_setting_t *s, int ax) {
    study_axis *a = &st->ax[ax];
    char key[64];
    snprintf(key, sizeof key, "axes.%s", axis_names[ax]);
    a->declared = 1;
    if (config_setting_type(s) == CONFIG_TYPE_GROUP) return parse_range(p, a, s, ax, key);
    if (config_setting_type(s) != CONFIG_TYPE_ARRAY && config_setting_type(s) != CONFIG_TYPE_LIST)
        return lcfg_bad(p, s, key, "expected a list [a, b, ...]");
    int n = config_setting_length(s);
    if (n < 1) return lcfg_bad(p, s, key, "empty list");
    if (n > STUDY_MAX_AXIS) return lcfg_bad(p, s, key, "too many values (at most 64)");
    a->n = (uint32_t)n;
    a->kind = STUDY_AK_LIST;
    for (int i = 0; i < n; i++) {
        char k2[80];
        snprintf(k2, sizeof k2, "%s[%d]", key, i);
        if (axis_elem(p, config_setting_get_elem(s, (unsigned)i), k2, ax, a->s[i], &a->v[i])) return p->rc;
    }
    return 0;
}

/* A settings group named after the choice it belongs to (tpe, tradeoff, median): an error
 * where the study did not make that choice. NULL when absent or on error (p->rc). */
static config_setting_t *choice_group(lcfg_ctx *p, config_setting_t *root, const char *name, int chosen, const char *needs) {
    config_setting_t *g = config_setting_get_member(root, name);
    if (!g) return NULL;
    if (config_setting_type(g) != CONFIG_TYPE_GROUP) { lcfg_bad(p, g, name, "expected a group { ... }"); return NULL; }
    if (!chosen) {
        char w[96];
        snprintf(w, sizeof w, "these settings need %s", needs);
        lcfg_bad(p, g, name, w);
        return NULL;
    }
    return g;
}

/* TPE settings, the objective, pruning. */
static int parse_search(lcfg_ctx *p, study *st, config_setting_t *root) {
    st->tpe = (tpe_cfg)TPE_CFG_DEFAULTS;
    config_setting_t *g = choice_group(p, root, "tpe", st->search == STUDY_TPE, "search = \"tpe\"");
    if (p->rc) return p->rc;
    if (g) {
        static const char *const k[] = {"gamma", "n_ei", "n_startup", "prior_weight", NULL};
        if (lcfg_only_keys(p, g, "tpe", k) || lcfg_get_num(p, g, "tpe", "gamma", &st->tpe.gamma, -HUGE_VAL, HUGE_VAL) ||
            lcfg_get_u32(p, g, "tpe", "n_ei", &st->tpe.n_ei, 1, 100000, NULL) ||
            lcfg_get_u32(p, g, "tpe", "n_startup", &st->tpe.n_startup, 0, 1e7, NULL) ||
            lcfg_get_num(p, g, "tpe", "prior_weight", &st->tpe.prior_weight, -HUGE_VAL, HUGE_VAL))
            return p->rc;
        if (!(st->tpe.gamma > 0 && st->tpe.gamma < 1))
            return lcfg_bad(p, config_setting_get_member(g, "gamma"), "tpe.gamma", "gamma must lie in (0, 1) (the good fraction)");
        if (!(st->tpe.prior_weight > 0 && isfinite(st->tpe.prior_weight)))
            return lcfg_bad(p, config_setting_get_member(g, "prior_weight"), "tpe.prior_weight", "prior_weight must be > 0");
    }
    char obj[16] = "accuracy";
    if (lcfg_get_str(p, root, "", "objective", obj, sizeof obj)) return p->rc;
    const char *const on[] = {"accuracy", "latency", "energy", "tradeoff"};
    int oi = 0;
    while (oi < 4 && strcmp(obj, on[oi])) oi++;
    if (oi == 4)
        return lcfg_bad(p, config_setting_get_member(root, "objective"), "objective",
                   "expected \"accuracy\", \"latency\", \"energy\" or \"tradeoff\"");
    st->objective = (study_objective_kind)oi;
    st->weight = 0.05;
    g = choice_group(p, root, "tradeoff", st->objective == STUDY_OBJ_TRADEOFF, "objective = \"tradeoff\"");
    if (p->rc) return p->rc;
    if (g) {
        static const char *const k[] = {"cost", "weight", NULL};
        char cost[16] = "latency";
        if (lcfg_only_keys(p, g, "tradeoff", k) || lcfg_get_str(p, g, "tradeoff", "cost", cost, sizeof cost) ||
            lcfg_get_num(p, g, "tradeoff", "weight", &st->weight, -HUGE_VAL, HUGE_VAL))
            return p->rc;
        if (strcmp(cost, "latency") && strcmp(cost, "energy"))
            return lcfg_bad(p, config_setting_get_member(g, "cost"), "tradeoff.cost", "expected \"latency\" or \"energy\"");
        st->cost_energy = !strcmp(cost, "energy");
        if (!(st->weight >= 0 && isfinite(st->weight)))
            return lcfg_bad(p, config_setting_get_member(g, "weight"), "tradeoff.weight", "weight must be >= 0");
    }
    char pr[16] = "none";
    if (lcfg_get_str(p, root, "", "prune", pr, sizeof pr)) return p->rc;
    config_setting_t *ps = config_setting_get_member(root, "prune");
    if (strcmp(pr, "none") && strcmp(pr, "median")) return lcfg_bad(p, ps, "prune", "expected \"none\" or \"median\"");
    study_fixed *f = &st->fx;
    f->prune = !strcmp(pr, "median");
    f->prune_warmup = 1;
    f->prune_min_trials = 5;
    g = choice_group(p, root, "median", f->prune, "prune = \"median\"");
    if (p->rc) return p->rc;
    if (g) {
        static const char *const k[] = {"warmup", "min_trials", NULL};
        if (lcfg_only_keys(p, g, "median", k) || lcfg_get_u32(p, g, "median", "warmup", &f->prune_warmup, 0, 1e6, NULL) ||
            lcfg_get_u32(p, g, "median", "min_trials", &f->prune_min_trials, 1, 1e7, NULL))
            return p->rc;
    }
    if (f->prune && (st->objective == STUDY_OBJ_LATENCY || st->objective == STUDY_OBJ_ENERGY))
        return lcfg_bad(p, ps, "prune", "the median rule watches test accuracy: it needs objective \"accuracy\" or \"tradeoff\"");
    return 0;
}

static int parse_root(lcfg_ctx *p, study *st, config_t *cf) {
    config_setting_t *root = config_root_setting(cf);
    static const char *const top[] = {"version", "name", "search", "budget", "seed", "train", "hw", "axes", "variants",
                                      "tpe", "objective", "tradeoff", "prune", "median", NULL};
    if (lcfg_only_keys(p, root, "", top)) return p->rc;
    int ver = 0;
    config_setting_t *s = config_setting_get_member(root, "version");
    if (s) {
        if (config_setting_type(s) != CONFIG_TYPE_INT) return lcfg_bad(p, s, "version", "expected an integer");
        ver = config_setting_get_int(s);
        if (ver > STUDY_VERSION) {
            p->rc = evsnn_seterr(EVSNN_EVERSION, "%s:%u: version %d: this evsnn reads study files up to version %d (update evsnn)",
                                 p->file, config_setting_source_line(s), ver, STUDY_VERSION);
            return p->rc;
        }
        if (ver < 1) return lcfg_bad(p, s, "version", "expected 1");
    }
    if (lcfg_get_str(p, root, "", "name", st->name, sizeof st->name)) return p->rc;
    char search[16] = "grid";
    if (lcfg_get_str(p, root, "", "search", search, sizeof search)) return p->rc;
    if (!strcmp(search, "grid")) st->search = STUDY_GRID;
    else if (!strcmp(search, "random")) st->search = STUDY_RANDOM;
    else if (!strcmp(search, "tpe")) st->search = STUDY_TPE;
    else return lcfg_bad(p, config_setting_get_member(root, "search"), "search", "expected \"grid\", \"random\" or \"tpe\"");
    if (lcfg_get_u32(p, root, "", "budget", &st->budget, 0, 1e7, NULL)) return p->rc;
    uint32_t seed = 1;
    if (lcfg_get_u32(p, root, "", "seed", &seed, 0, 4294967295.0, NULL)) return p->rc;
    st->seed = seed;
    if (st->search != STUDY_GRID && st->budget == 0)
        return lcfg_bad(p, config_setting_get_member(root, "search"), "budget",
                   st->search == STUDY_TPE ? "TPE search needs budget > 0 (the number of trials)"
                                           : "random search needs budget > 0 (the number of trials)");
    if (parse_search(p, st, root)) return p->rc;

    /* fixed settings */
    study_fixed *f = &st->fx;
    if ((s = config_setting_get_member(root, "train"))) {
        if (config_setting_type(s) != CONFIG_TYPE_GROUP) return lcfg_bad(p, s, "train", "expected a group { ... }");
        static const char *const tk[] = {"epochs", "batch", "lr", "optim", "loss", "steps", "max_train", "max_test",
                                         "encoding", "input", "test_data", "slots", "split_at", "dt_us", "cosine", NULL};
        if (lcfg_only_keys(p, s, "train", tk)) return p->rc;
        if (lcfg_get_u32(p, s, "train", "epochs", &f->epochs, 1, 1e6, NULL) || lcfg_get_u32(p, s, "train", "batch", &f->batch, 1, 1e6, NULL) ||
            lcfg_get_u32(p, s, "train", "steps", &f->steps, 0, 1e7, NULL) || lcfg_get_u32(p, s, "train", "max_train", &f->max_train, 0, 1e9, NULL) ||
            lcfg_get_u32(p, s, "train", "max_test", &f->max_test, 0, 1e9, NULL) ||
            lcfg_get_u32(p, s, "train", "split_at", &f->split_at, 0, 1e9, NULL) || lcfg_get_u32(p, s, "train", "dt_us", &f->dt_us, 0, 1e9, NULL) || lcfg_get_u32(p, s, "train", "slots", &f->slots, 1, 1024, NULL) ||
            lcfg_get_u32(p, s, "train", "cosine", &f->cosine, 0, 1e9, NULL) ||
            lcfg_get_str(p, s, "train", "optim", f->optim, sizeof f->optim) || lcfg_get_str(p, s, "train", "loss", f->loss, sizeof f->loss) ||
            lcfg_get_str(p, s, "train", "encoding", f->encoding, sizeof f->encoding) ||
            lcfg_get_str(p, s, "train", "input", f->input, sizeof f->input) ||
            lcfg_get_str(p, s, "train", "test_data", f->test_data, sizeof f->test_data))
            return p->rc;
        config_setting_t *lr = config_setting_get_member(s, "lr");
        if (lr) {
            if (!is_num(lr)) return lcfg_bad(p, lr, "train.lr", "expected a number");
            double v = config_setting_type(lr) == CONFIG_TYPE_FLOAT ? config_setting_get_float(lr) : (double)config_setting_get_int64(lr);
            if (!(v > 0 && v < 10)) return lcfg_bad(p, lr, "train.lr", "expected a learning rate in (0, 10)");
            f->lr = (float)v;
        }
        if (strcmp(f->optim, "adam") && strcmp(f->optim, "sgd"))
            return lcfg_bad(p, config_setting_get_member(s, "optim"), "train.optim", "expected \"adam\" or \"sgd\"");
    }
    if ((s = config_setting_get_member(root, "hw"))) {
        if (config_setting_type(s) != CONFIG_TYPE_GROUP) return lcfg_bad(p, s, "hw", "expected a group { ... }");
        static const char *const hk[] = {"samples", NULL};
        if (lcfg_only_keys(p, s, "hw", hk) || lcfg_get_u32(p, s, "hw", "samples", &f->hw_samples, 1, 1e6, NULL)) return p->rc;
    }

    /* axes: defaults are one-element lists */
    if ((s = config_setting_get_member(root, "axes"))) {
        if (config_setting_type(s) != CONFIG_TYPE_GROUP) return lcfg_bad(p, s, "axes", "expected a group { ... }");
        if (lcfg_only_keys(p, s, "axes", axis_names)) return p->rc;
        for (int ax = 0; ax < STUDY_AX_N; ax++) {
            config_setting_t *a = config_setting_get_member(s, axis_names[ax]);
            if (a && parse_axis(p, st, a, ax)) return p->rc;
        }
    }
    if (!st->ax[STUDY_AX_ARCH].n) return lcfg_bad(p, config_setting_get_member(root, "axes"), "axes.arch", "at least one architecture is required");
    if (st->search == STUDY_GRID)
        for (int ax = 0; ax < STUDY_AX_N; ax++)
            if (st->ax[ax].kind != STUDY_AK_LIST) {
                char key[64];
                snprintf(key, sizeof key, "axes.%s", axis_names[ax]);
                return lcfg_bad(p, config_setting_get_member(config_setting_get_member(root, "axes"), axis_names[ax]), key,
                           "a {min; max;} range needs search = \"random\" or \"tpe\"; a grid takes a list");
            }
    /* lr and batch not given as axes are the train group's */
    if (!st->ax[STUDY_AX_LR].declared) st->ax[STUDY_AX_LR].v[0] = f->lr;
    if (!st->ax[STUDY_AX_BATCH].declared) st->ax[STUDY_AX_BATCH].v[0] = f->batch;

    /* variants: ( { name = "..."; binarize = true; theta = 1.0; ... }, ... ) */
    if ((s = config_setting_get_member(root, "variants"))) {
        if (config_setting_type(s) != CONFIG_TYPE_LIST) return lcfg_bad(p, s, "variants", "expected a list ( {...}, ... )");
        int n = config_setting_length(s);
        if (n < 1 || n > STUDY_MAX_AXIS) return lcfg_bad(p, s, "variants", "expected 1 to 64 variants");
        static const char *const vk[] = {"name", "dataset", "arch", "accel", "surrogate", "slope", "beta", "theta",
                                         "threshold", "binarize", "lr", "batch", "seed", NULL};
        for (int i = 0; i < n; i++) {
            config_setting_t *g = config_setting_get_elem(s, (unsigned)i);
            char where[48];
            snprintf(where, sizeof where, "variants[%d]", i);
            if (config_setting_type(g) != CONFIG_TYPE_GROUP) return lcfg_bad(p, g, where, "expected a group { ... }");
            if (lcfg_only_keys(p, g, where, vk)) return p->rc;
            study_variant *v = &st->var[i];
            snprintf(v->name, sizeof v->name, "v%d", i);
            if (lcfg_get_str(p, g, where, "name", v->name, sizeof v->name)) return p->rc;
            for (int ax = 0; ax < STUDY_AX_N; ax++) {
                config_setting_t *e = config_setting_get_member(g, axis_names[ax]);
                if (!e) continue;
                char key[96], sv[STUDY_STR] = "";
                double dv = 0;
                snprintf(key, sizeof key, "%s.%s", where, axis_names[ax]);
                if (axis_elem(p, e, key, ax, sv, &dv)) return p->rc;
                study_trial_set_axis(&v->t, ax, sv, dv);
                v->mask |= 1u << ax;
            }
        }
        st->n_var = (uint32_t)n;
    }
    if (f->prune && f->epochs > STUDY_MAX_EPOCHS) {
        char w[96];
        snprintf(w, sizeof w, "the median rule keeps accuracies of up to %d epochs", STUDY_MAX_EPOCHS);
        return lcfg_bad(p, config_setting_get_member(config_setting_get_member(root, "train"), "epochs"), "train.epochs", w);
    }
    st->key_lr = st->ax[STUDY_AX_LR].declared;
    st->key_batch = st->ax[STUDY_AX_BATCH].declared;
    for (uint32_t i = 0; i < st->n_var; i++) {
        st->key_lr |= (st->var[i].mask >> STUDY_AX_LR) & 1;
        st->key_batch |= (st->var[i].mask >> STUDY_AX_BATCH) & 1;
    }
    (void)ver;
    return 0;
}

static void defaults(study *st) {
    snprintf(st->name, sizeof st->name, "study");
    st->search = STUDY_GRID;
    st->seed = 1;
    study_fixed *f = &st->fx;
    f->epochs = 1;
    f->batch = 32;
    f->slots = 2;
    f->lr = 1e-3f;
    f->hw_samples = 16;
    snprintf(f->optim, sizeof f->optim, "adam");
    snprintf(f->loss, sizeof f->loss, "mse_count");
    snprintf(f->encoding, sizeof f->encoding, "direct");
    const char *ds[STUDY_AX_N] = {"synth", "", "", "fast_sigmoid", NULL, NULL, NULL, "fixed", NULL, NULL, NULL, NULL};
    const double dv[STUDY_AX_N] = {0, 0, 0, 0, 0, 0.95, 1.0, 0, 0, 1e-3, 32, 1}; /* lr, batch: the train group's (parse_root) */
    for (int ax = 0; ax < STUDY_AX_N; ax++) {
        if (ax == STUDY_AX_ARCH) continue;
        st->ax[ax].n = 1;
        if (ds[ax]) snprintf(st->ax[ax].s[0], STUDY_STR, "%s", ds[ax]);
        st->ax[ax].v[0] = dv[ax];
    }
}

static void count_trials(study *st) {
    if (st->search != STUDY_GRID) {
        st->n_trials = st->budget;
        return;
    }
    uint64_t n = st->n_var ? st->n_var : 1;
    for (int ax = 0; ax < STUDY_AX_N && n < (1u << 30); ax++) n *= st->ax[ax].n;
    if (n > (1u << 30)) n = 1u << 30;
    if (st->budget && st->budget < n) n = st->budget;
    st->n_trials = (uint32_t)n;
}

static study *finish(study *st, config_t *cf, lcfg_ctx *p, int *err) {
    if (p->rc) {
        *err = p->rc;
        config_destroy(cf);
        free(st);
        return NULL;
    }
    config_destroy(cf);
    count_trials(st);
    *err = 0;
    return st;
}

static study *parse_cf(config_t *cf, const char *name, const char *dir, int *err) {
    lcfg_ctx p = {name, 0};
    study *st = calloc(1, sizeof *st);
    if (!st) {
        config_destroy(cf);
        *err = evsnn_seterr(EVSNN_ENOMEM, "study %s: no memory", name);
        return NULL;
    }
    defaults(st);
    snprintf(st->dir, sizeof st->dir, "%s", dir);
    parse_root(&p, st, cf);
    return finish(st, cf, &p, err);
}

study *study_parse(const char *text, const char *name, int *err) {
    config_t cf;
    if ((*err = lcfg_parse(&cf, text, name))) return NULL;
    return parse_cf(&cf, name, "", err);
}

study *study_load(const char *path, int *err) {
    config_t cf;
    if ((*err = lcfg_load(&cf, path, "study"))) return NULL;
    /* The study file's directory, absolute: relative accelerator configs are resolved against
     * it alone, whatever the working directory is now or when the sweep is resumed. */
    char dir[STUDY_STR] = ".", *abs = NULL;
    const char *slash = strrchr(path, '/');
    if (slash) snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    if (!(abs = realpath(dir, NULL)) || strlen(abs) >= sizeof dir) {
        *err = evsnn_seterr(abs ? EVSNN_ERANGE : EVSNN_EIO, "%s: cannot resolve its directory '%s'%s", path, dir,
                            abs ? " (path too long)" : "");
        free(abs);
        config_destroy(&cf);
        return NULL;
    }
    snprintf(dir, sizeof dir, "%s", abs);
    free(abs);
    return parse_cf(&cf, path, dir, err);
}

void study_free(study *s) { free(s); }
const char *study_name(const study *s) { return s->name; }
const study_fixed *study_fixed_settings(const study *s) { return &s->fx; }
uint32_t study_n_trials(const study *s) { return s->n_trials; }

study_search study_search_kind(const study *s) { return s->search; }
uint32_t study_tpe_startup(const study *s) { return s->tpe.n_startup; }

int study_set_search(study *s, study_search search) {
    if (s->search == STUDY_GRID || search == STUDY_GRID)
        return evsnn_seterr(EVSNN_EINVAL, "study %s: only a random or TPE study changes to random or TPE search", s->name);
    s->search = search;
    return 0;
}

/* ---------------------------------------------------------------- CSV */

const char *study_status_name(study_status s) {
    return s == STUDY_OK ? "ok" : s == STUDY_FAILED ? "failed" : s == STUDY_PRUNED ? "pruned" : "pending";
}

static void csv_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* The first columns, in every table version: what a reader checks a table by. */
static const char *csv_header =
    "trial,status,variant,dataset,arch,accel,surrogate,slope,beta,theta,threshold,binarize,seed,"
    "accuracy,loss,train_loss,train_s,cycles,latency_us,fps,energy_uj,fps_per_w,n_layers";

/* The table's columns, in order. Measured values (C_NUM, C_LAYER) are left empty in failed
 * rows and where NaN (a pruned trial's accelerator columns); C_LAYER only below n_layers. */
typedef enum { C_ID, C_STATUS, C_STR, C_F32, C_INT, C_U32, C_U64, C_NUM, C_LAYER, C_CURVE } ctype;
typedef struct {
    char name[16];
    ctype type;
    size_t off, cap; /* in study_row; C_STR: the field's size */
    int layer;       /* C_LAYER */
    int optional;    /* 1: added after the first tables, which read without it */
} ccol;

#define MAX_COLS (32 + 3 * STUDY_MAX_LAYERS)
#define TF(m) offsetof(study_row, t.m), sizeof(((study_row *)0)->t.m)

static int table_cols(ccol *c) {
    int n = 0;
    const ccol head[] = {{"trial", C_ID, 0, 0, 0, 0},         {"status", C_STATUS, 0, 0, 0, 0},
                         {"variant", C_STR, TF(variant), 0, 0}, {"dataset", C_STR, TF(dataset), 0, 0},
                         {"arch", C_STR, TF(arch), 0, 0},       {"accel", C_STR, TF(accel), 0, 0},
                         {"surrogate", C_STR, TF(surrogate), 0, 0}, {"slope", C_F32, TF(slope), 0, 0},
                         {"beta", C_F32, TF(beta), 0, 0},       {"theta", C_F32, TF(theta), 0, 0},
                         {"threshold", C_STR, TF(threshold), 0, 0}, {"binarize", C_INT, TF(binarize), 0, 0},
                         {"seed", C_U64, TF(seed), 0, 0}};
    for (size_t i = 0; i < sizeof head / sizeof *head; i++) c[n++] = head[i];
    const struct { const char *name; size_t off; } num[] = {
        {"accuracy", offsetof(study_row, accuracy)}, {"loss", offsetof(study_row, loss)},
        {"train_loss", offsetof(study_row, train_loss)}, {"train_s", offsetof(study_row, train_s)},
        {"cycles", offsetof(study_row, cycles)},     {"latency_us", offsetof(study_row, latency_us)},
        {"fps", offsetof(study_row, fps)},           {"energy_uj", offsetof(study_row, energy_uj)},
        {"fps_per_w", offsetof(study_row, fps_per_w)}};
    for (size_t i = 0; i < sizeof num / sizeof *num; i++) c[n++] = (ccol){"", C_NUM, num[i].off, 0, 0, 0};
    for (size_t i = 0; i < sizeof num / sizeof *num; i++) snprintf(c[n - 9 + (int)i].name, 16, "%s", num[i].name);
    c[n++] = (ccol){"n_layers", C_U32, offsetof(study_row, n_layers), 0, 0, 0};
    const struct { const char *p; size_t off; int opt; } lay[] = {{"rate", offsetof(study_row, rate), 0},
                                                               {"silent", offsetof(study_row, silent), 0},
                                                               {"cycles", offsetof(study_row, layer_cycles), 1}};
    for (int k = 0; k < 3; k++)
        for (int l = 0; l < STUDY_MAX_LAYERS; l++) {
            c[n] = (ccol){"", C_LAYER, lay[k].off + (size_t)l * sizeof(double), 0, l, lay[k].opt};
            snprintf(c[n++].name, 16, "%s_%d", lay[k].p, l);
        }
    c[n++] = (ccol){"lr", C_F32, TF(lr), 0, 1};
    c[n++] = (ccol){"batch", C_U32, TF(batch), 0, 1};
    c[n++] = (ccol){"objective", C_NUM, offsetof(study_row, objective), 0, 0, 1};
    c[n++] = (ccol){"epochs", C_U32, offsetof(study_row, epochs), 0, 0, 1};
    c[n++] = (ccol){"epoch_acc", C_CURVE, 0, 0, 0, 1};
    c[n++] = (ccol){"key", C_STR, TF(key), 0, 0};
    c[n++] = (ccol){"error", C_STR, offsetof(study_row, error), sizeof(((study_row *)0)->error), 0, 0};
    return n;
}

static void csv_field(FILE *f, const ccol *c, const study_row *r) {
    const char *p = (const char *)r + c->off;
    const int measured = r->status != STUDY_FAILED;
    double v;
    switch (c->type) {
    case C_ID: fprintf(f, "%u", r->t.id); break;
    case C_STATUS: fputs(study_status_name(r->status), f); break;
    case C_STR: csv_str(f, p); break;
    case C_F32: { float x; memcpy(&x, p, sizeof x); fprintf(f, "%.9g", (double)x); break; }
    case C_INT: { int x; memcpy(&x, p, sizeof x); fprintf(f, "%d", x); break; }
    case C_U32: { uint32_t x; memcpy(&x, p, sizeof x); fprintf(f, "%u", x); break; }
    case C_U64: { uint64_t x; memcpy(&x, p, sizeof x); fprintf(f, "%llu", (unsigned long long)x); break; }
    case C_LAYER:
        if ((uint32_t)c->layer >= r->n_layers) break;
        /* fall through */
    case C_NUM:
        memcpy(&v, p, sizeof v);
        if (measured && !isnan(v)) fprintf(f, "%.9g", v);
        break;
    case C_CURVE:
        for (uint32_t e = 0; measured && e < r->n_curve && e < STUDY_MAX_EPOCHS; e++)
            fprintf(f, "%s%.9g", e ? ";" : "", r->epoch_acc[e]);
        break;
    }
}

int study_write_csv(const char *path, const study_row *rows, uint32_t n) {
    char tmp[1200];
    FILE *f;
    int rc = replace_fopen(path, tmp, sizeof tmp, &f);
    if (rc) return rc;
    ccol c[MAX_COLS];
    const int nc = table_cols(c);
    for (int k = 0; k < nc; k++) fprintf(f, "%s%s", k ? "," : "", c[k].name);
    fputc('\n', f);
    for (uint32_t i = 0; i < n; i++) {
        if (rows[i].status == STUDY_PENDING) continue;
        for (int k = 0; k < nc; k++) {
            if (k) fputc(',', f);
            csv_field(f, &c[k], &rows[i]);
        }
        fputc('\n', f);
    }
    return replace_fclose(f, tmp, path, 0);
}

/* Split one CSV line (RFC 4180 quoting, no embedded newlines) into at most cap fields,
 * in place. Returns the field count or -1 for an unterminated quote. */
static int csv_split(char *line, char **fld, int cap) {
    int n = 0;
    char *p = line;
    for (;;) {
        if (n >= cap) return n + 1;
        if (*p == '"') {
            char *w = ++p;
            fld[n++] = w;
            for (;;) {
                if (!*p) return -1;
                if (*p == '"') {
                    if (p[1] == '"') { *w++ = '"'; p += 2; continue; }
                    p++;
                    break;
                }
                *w++ = *p++;
            }
            *w = 0;
            if (*p == ',') { p++; continue; }
            if (!*p || *p == '\n' || *p == '\r') return n;
            return -1;
        }
        fld[n++] = p;
        while (*p && *p != ',' && *p != '\n' && *p != '\r') p++;
        if (*p == ',') { *p++ = 0; continue; }
        *p = 0;
        return n;
    }
}

/* One field of column c into row w. 0, or -1 for a bad trial number or status. */
static int csv_parse(const ccol *c, const char *fld, study_row *w) {
    char *p = (char *)w + c->off, *end;
    switch (c->type) {
    case C_ID:
        w->t.id = (uint32_t)strtoul(fld, &end, 10);
        return *end || !*fld ? -1 : 0;
    case C_STATUS:
        w->status = !strcmp(fld, "ok") ? STUDY_OK : !strcmp(fld, "failed") ? STUDY_FAILED
                    : !strcmp(fld, "pruned") ? STUDY_PRUNED : STUDY_PENDING;
        return w->status == STUDY_PENDING ? -1 : 0;
    case C_STR: snprintf(p, c->cap, "%s", fld); break;
    case C_F32: { const float x = strtof(fld, NULL); memcpy(p, &x, sizeof x); break; }
    case C_INT: { const int x = atoi(fld); memcpy(p, &x, sizeof x); break; }
    case C_U32: { const uint32_t x = (uint32_t)strtoul(fld, NULL, 10); memcpy(p, &x, sizeof x); break; }
    case C_U64: { const uint64_t x = strtoull(fld, NULL, 10); memcpy(p, &x, sizeof x); break; }
    case C_NUM:
    case C_LAYER: { const double x = *fld ? strtod(fld, NULL) : NAN; memcpy(p, &x, sizeof x); break; }
    case C_CURVE:
        for (const char *q = fld; *q && w->n_curve < STUDY_MAX_EPOCHS; w->n_curve++) {
            w->epoch_acc[w->n_curve] = strtod(q, &end);
            if (end == q) break;
            q = *end == ';' ? end + 1 : end;
        }
        break;
    }
    return 0;
}

int study_read_csv(const char *path, study_row **rows, uint32_t *n) {
    *rows = NULL;
    *n = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) return 0;
        return evsnn_seterr(EVSNN_EIO, "%s: cannot open: %s", path, strerror(errno));
    }
    ccol c[MAX_COLS];
    const int nc = table_cols(c);
    enum { CAP = 4 * MAX_COLS };
    int map[CAP]; /* header position → column, -1 for a column this evsnn does not know */
    int nh = 0;
    char *line = NULL, *fld[CAP + 1];
    size_t cap = 0;
    uint32_t lineno = 0, m = 0, mcap = 0;
    study_row *r = NULL;
    int rc = 0;
    while (getline(&line, &cap, f) > 0) {
        lineno++;
        if (lineno == 1) {
            if (strncmp(line, csv_header, strlen(csv_header))) {
                rc = evsnn_seterr(EVSNN_EFORMAT, "%s:1: not an evsnn study table (header expected: %.40s...)", path, csv_header);
                break;
            }
            nh = csv_split(line, fld, CAP + 1);
            if (nh < 0 || nh > CAP) { rc = evsnn_seterr(EVSNN_EFORMAT, "%s:1: malformed header", path); break; }
            int seen[MAX_COLS] = {0};
            for (int h = 0; h < nh; h++) {
                map[h] = -1;
                for (int k = 0; k < nc; k++)
                    if (!strcmp(fld[h], c[k].name)) { map[h] = k; seen[k] = 1; }
            }
            for (int k = 0; k < nc && !rc; k++)
                if (!seen[k] && !c[k].optional)
                    rc = evsnn_seterr(EVSNN_EFORMAT, "%s:1: no column '%s' (truncated or edited table?)", path, c[k].name);
            if (rc) break;
            continue;
        }
        int k = csv_split(line, fld, CAP + 1);
        if (k != nh) {
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s:%u: %d fields, expected %d (truncated or edited table?)", path, lineno, k, nh);
            break;
        }
        if (m == mcap) {
            mcap = mcap ? 2 * mcap : 64;
            study_row *nr = realloc(r, mcap * sizeof *r);
            if (!nr) { rc = evsnn_seterr(EVSNN_ENOMEM, "%s: no memory", path); break; }
            r = nr;
        }
        study_row *w = &r[m];
        memset(w, 0, sizeof *w);
        for (int j = 0; j < nc; j++)
            if (c[j].type == C_NUM || c[j].type == C_LAYER) {
                const double x = NAN;
                memcpy((char *)w + c[j].off, &x, sizeof x);
            }
        for (int h = 0; h < nh && !rc; h++)
            if (map[h] >= 0 && csv_parse(&c[map[h]], fld[h], w))
                rc = evsnn_seterr(EVSNN_EFORMAT, "%s:%u: %s '%s': expected %s", path, lineno, c[map[h]].name, fld[h],
                                  c[map[h]].type == C_ID ? "a trial number" : "ok, failed or pruned");
        if (rc) break;
        if (w->n_layers > STUDY_MAX_LAYERS) w->n_layers = STUDY_MAX_LAYERS;
        m++;
    }
    free(line);
    fclose(f);
    if (rc) {
        free(r);
        return rc;
    }
    *rows = r;
    *n = m;
    return 0;
}

/* ---------------------------------------------------------------- HDF5 */

static int h5_strings(hid_t g, const char *name, const char *buf, size_t width, uint32_t n) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, width);
    H5Tset_strpad(t, H5T_STR_NULLTERM);
    hsize_t d = n;
    hid_t sp = H5Screate_simple(1, &d, NULL);
    hid_t ds = H5Dcreate2(g, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = ds < 0 ? -1 : n ? H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) : 0;
    if (ds >= 0) H5Dclose(ds);
    H5Sclose(sp);
    H5Tclose(t);
    return ds < 0 || e < 0 ? -1 : 0;
}

static int h5_doubles(hid_t g, const char *name, const double *v, int rank, const hsize_t *dims) {
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t ds = H5Dcreate2(g, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = ds < 0 ? -1 : dims[0] ? H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) : 0;
    if (ds >= 0) H5Dclose(ds);
    H5Sclose(sp);
    return ds < 0 || e < 0 ? -1 : 0;
}

int study_write_h5(const char *path, const study_row *rows, uint32_t n) {
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) m += rows[i].status != STUDY_PENDING;
    const size_t W = STUDY_STR, K = sizeof rows->t.key, E = sizeof rows->error;
    char *sbuf = calloc((size_t)(m ? m : 1) * (K + E + W), 1);
    double *dbuf = calloc((size_t)(m ? m : 1) * STUDY_MAX_LAYERS, sizeof *dbuf);
    if (!sbuf || !dbuf) {
        free(sbuf);
        free(dbuf);
        return evsnn_seterr(EVSNN_ENOMEM, "%s: no memory", path);
    }
    char tmp[1200];
    int rc = replace_tmpname(tmp, sizeof tmp, path);
    if (rc) {
        free(sbuf);
        free(dbuf);
        return rc;
    }
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    int bad = f < 0;
    hid_t g = bad ? -1 : H5Gcreate2(f, "trials", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    bad |= g < 0;
    if (!bad) {
        int32_t ver = STUDY_TABLE_VERSION;
        hid_t sp = H5Screate(H5S_SCALAR);
        hid_t a = H5Acreate2(f, "version", H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
        bad |= a < 0 || H5Awrite(a, H5T_NATIVE_INT32, &ver) < 0;
        if (a >= 0) H5Aclose(a);
        H5Sclose(sp);
    }
    /* string columns */
    const struct { const char *name; size_t off, width; } sc[] = {
        {"status", 0, 16}, {"variant", offsetof(study_trial, variant), sizeof rows->t.variant},
        {"dataset", offsetof(study_trial, dataset), W}, {"arch", offsetof(study_trial, arch), W},
        {"accel", offsetof(study_trial, accel), W}, {"surrogate", offsetof(study_trial, surrogate), sizeof rows->t.surrogate},
        {"threshold", offsetof(study_trial, threshold), sizeof rows->t.threshold}, {"key", offsetof(study_trial, key), K},
        {"error", 0, E}};
    for (size_t c = 0; c < sizeof sc / sizeof *sc && !bad; c++) {
        uint32_t j = 0;
        for (uint32_t i = 0; i < n; i++) {
            const study_row *r = &rows[i];
            if (r->status == STUDY_PENDING) continue;
            const char *s = !strcmp(sc[c].name, "status")  ? study_status_name(r->status)
                            : !strcmp(sc[c].name, "error") ? r->error
                                                           : (const char *)&r->t + sc[c].off;
            snprintf(sbuf + (size_t)j * sc[c].width, sc[c].width, "%s", s);
            j++;
        }
        bad |= h5_strings(g, sc[c].name, sbuf, sc[c].width, m) < 0;
    }
    /* numeric columns: the CSV's, as float64 (measured values NaN in failed rows) */
    ccol cc[MAX_COLS];
    const int ncc = table_cols(cc);
    for (int c = 0; c < ncc && !bad; c++) {
        const ccol *k = &cc[c];
        if (k->type == C_STATUS || k->type == C_STR || k->type == C_LAYER || k->type == C_CURVE) continue;
        uint32_t j = 0;
        for (uint32_t i = 0; i < n; i++) {
            const study_row *r = &rows[i];
            if (r->status == STUDY_PENDING) continue;
            const char *p = (const char *)r + k->off;
            double v;
            float x32;
            int xi;
            uint32_t xu;
            uint64_t x64;
            switch (k->type) {
            case C_ID: v = r->t.id; break;
            case C_F32: memcpy(&x32, p, sizeof x32); v = x32; break;
            case C_INT: memcpy(&xi, p, sizeof xi); v = xi; break;
            case C_U32: memcpy(&xu, p, sizeof xu); v = xu; break;
            case C_U64: memcpy(&x64, p, sizeof x64); v = (double)x64; break;
            default: memcpy(&v, p, sizeof v); if (r->status == STUDY_FAILED) v = NAN; break;
            }
            dbuf[j++] = v;
        }
        hsize_t d = m;
        bad |= h5_doubles(g, k->name, dbuf, 1, &d) < 0;
    }
    /* epoch_acc [m, E], E the longest curve (at least 1), NaN beyond a row's */
    uint32_t NE = 1;
    for (uint32_t i = 0; i < n; i++)
        if (rows[i].status != STUDY_PENDING && rows[i].n_curve > NE) NE = rows[i].n_curve;
    double *cbuf = bad ? NULL : malloc((size_t)(m ? m : 1) * NE * sizeof *cbuf);
    if (!bad && !cbuf) bad = 1;
    if (!bad) {
        uint32_t j = 0;
        for (uint32_t i = 0; i < n; i++) {
            const study_row *r = &rows[i];
            if (r->status == STUDY_PENDING) continue;
            for (uint32_t e = 0; e < NE; e++)
                cbuf[(size_t)j * NE + e] = r->status != STUDY_FAILED && e < r->n_curve ? r->epoch_acc[e] : NAN;
            j++;
        }
        hsize_t d[2] = {m, NE};
        bad |= h5_doubles(g, "epoch_acc", cbuf, 2, d) < 0;
    }
    free(cbuf);
    for (int which = 0; which < 3 && !bad; which++) {
        uint32_t j = 0;
        for (uint32_t i = 0; i < n; i++) {
            const study_row *r = &rows[i];
            if (r->status == STUDY_PENDING) continue;
            for (uint32_t l = 0; l < STUDY_MAX_LAYERS; l++)
                dbuf[(size_t)j * STUDY_MAX_LAYERS + l] =
                    r->status != STUDY_FAILED && l < r->n_layers
                        ? (which == 2 ? r->layer_cycles[l] : which ? r->silent[l] : r->rate[l])
                        : NAN;
            j++;
        }
        hsize_t d[2] = {m, STUDY_MAX_LAYERS};
        bad |= h5_doubles(g, which == 2 ? "layer_cycles" : which ? "silent" : "rate", dbuf, 2, d) < 0;
    }
    if (g >= 0) H5Gclose(g);
    if (f >= 0 && H5Fclose(f) < 0) bad = 1;
    free(sbuf);
    free(dbuf);
    if (bad) {
        replace_discard(tmp);
        return evsnn_seterr(EVSNN_EIO, "%s: cannot write the HDF5 table", tmp);
    }
    return replace_commit(tmp, path);
}
