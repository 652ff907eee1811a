/* io/study.c — study files (libconfig), trial expansion, result tables (CSV, HDF5). */
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

#include "sim/evsnn.h"
#include "sim/rng.h"

/* Axes in grid order (the last varies fastest). */
enum { AX_DATASET, AX_ARCH, AX_ACCEL, AX_SURR, AX_SLOPE, AX_BETA, AX_THETA, AX_THRESH, AX_BIN, AX_SEED, AX_N };
static const char *const axis_names[AX_N] = {"dataset", "arch", "accel", "surrogate", "slope", "beta",
                                             "theta", "threshold", "binarize", "seed"};

typedef struct {
    uint32_t n;                       /* list length (0 with range: a random range) */
    char s[STUDY_MAX_AXIS][STUDY_STR];/* string axes */
    double v[STUDY_MAX_AXIS];         /* numeric axes (binarize 0/1, seed) */
    int range, logscale;
    double lo, hi;
} axis;

/* A variant overrides some settings; mask bit i = axis i given. */
typedef struct {
    char name[48];
    uint32_t mask;
    study_trial t;
} variant;

struct study {
    char name[64];
    char dir[STUDY_STR];              /* directory of the study file (relative accel paths) */
    study_search search;
    uint32_t budget;
    uint64_t seed;
    study_fixed fx;
    axis ax[AX_N];
    uint32_t n_var;
    variant var[STUDY_MAX_AXIS];
    uint32_t n_trials;
};

/* ---------------------------------------------------------------- parsing */

typedef struct {
    const char *file;
    int rc;
} pctx;

static int bad(pctx *p, const config_setting_t *s, const char *key, const char *what) {
    p->rc = evsnn_seterr(EVSNN_EINVAL, "%s:%u: %s: %s", p->file, s ? config_setting_source_line(s) : 0, key, what);
    return p->rc;
}

static int is_num(const config_setting_t *s) {
    int t = config_setting_type(s);
    return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 || t == CONFIG_TYPE_FLOAT;
}

static int only_keys(pctx *p, const config_setting_t *g, const char *where, const char *const *allowed) {
    for (int i = 0; i < config_setting_length(g); i++) {
        config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(s);
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++) ok = name && !strcmp(name, *a);
        if (!ok) {
            char key[128], list[512] = "";
            snprintf(key, sizeof key, "%s%s%s", where, *where ? "." : "", name ? name : "?");
            for (const char *const *a = allowed; *a; a++) {
                size_t l = strlen(list);
                snprintf(list + l, sizeof list - l, "%s%s", l ? ", " : "", *a);
            }
            char what[640];
            snprintf(what, sizeof what, "unknown key; expected one of %s", list);
            return bad(p, s, key, what);
        }
    }
    return 0;
}

static int get_u32(pctx *p, const config_setting_t *g, const char *where, const char *k, uint32_t *v, double lo,
                   double hi) {
    config_setting_t *s = config_setting_get_member(g, k);
    if (!s) return 0;
    char key[128];
    snprintf(key, sizeof key, "%s.%s", where, k);
    if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64)
        return bad(p, s, key, "expected an integer");
    long long x = config_setting_get_int64(s);
    if ((double)x < lo || (double)x > hi) {
        char w[96];
        snprintf(w, sizeof w, "%lld is out of range [%g, %g]", x, lo, hi);
        return bad(p, s, key, w);
    }
    *v = (uint32_t)x;
    return 0;
}

static int get_str(pctx *p, const config_setting_t *g, const char *where, const char *k, char *v, size_t cap) {
    config_setting_t *s = config_setting_get_member(g, k);
    if (!s) return 0;
    char key[128];
    snprintf(key, sizeof key, "%s.%s", where, k);
    if (config_setting_type(s) != CONFIG_TYPE_STRING) return bad(p, s, key, "expected a string");
    const char *x = config_setting_get_string(s);
    if (strlen(x) >= cap) return bad(p, s, key, "string too long");
    snprintf(v, cap, "%s", x);
    return 0;
}

/* "fixed" or "anneal:T0:TINF:A[,T0:TINF:A...]" (per spiking layer, a shorter list repeats
 * its last) with thresholds > 0, alpha in [0, 1]. */
static int check_threshold(const char *s) {
    if (!strcmp(s, "fixed")) return 0;
    if (strncmp(s, "anneal:", 7)) return -1;
    char buf[STUDY_STR];
    snprintf(buf, sizeof buf, "%s", s + 7);
    char *save = NULL;
    int n = 0;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save), n++) {
        float a, b, c;
        char extra;
        if (sscanf(tok, "%f:%f:%f%c", &a, &b, &c, &extra) != 3 || !(a > 0) || !(b > 0) || !(c >= 0 && c <= 1)) return -1;
    }
    return n > 0 && n <= 16 ? 0 : -1;
}

static int check_value(pctx *p, const config_setting_t *e, const char *key, int ax, double v, const char *str) {
    switch (ax) {
    case AX_SLOPE: if (!(v >= 0 && isfinite(v))) return bad(p, e, key, "slope must be >= 0 (0: the surrogate's default)"); break;
    case AX_BETA: if (!(v >= 0 && v <= 1)) return bad(p, e, key, "beta must lie in [0, 1]"); break;
    case AX_THETA: if (!(v > 0 && isfinite(v))) return bad(p, e, key, "theta must be > 0"); break;
    case AX_SEED: if (!(v >= 0 && v < 9.007199254740992e15)) return bad(p, e, key, "seed must be an integer >= 0"); break;
    case AX_THRESH:
        if (check_threshold(str))
            return bad(p, e, key, "expected \"fixed\" or \"anneal:THETA0:THETA_INF:ALPHA[,...]\" (thresholds > 0, alpha in [0, 1])");
        break;
    case AX_SURR:
        if (!*str) return bad(p, e, key, "empty surrogate name");
        break;
    default: break;
    }
    return 0;
}

static int is_string_axis(int ax) {
    return ax == AX_DATASET || ax == AX_ARCH || ax == AX_ACCEL || ax == AX_SURR || ax == AX_THRESH;
}

/* One element of an axis (list entry or a variant's scalar) into a[i] / the trial. */
static int axis_elem(pctx *p, const config_setting_t *e, const char *key, int ax, char *s, double *v) {
    if (is_string_axis(ax)) {
        if (config_setting_type(e) != CONFIG_TYPE_STRING) return bad(p, e, key, "expected a string");
        const char *x = config_setting_get_string(e);
        if (strlen(x) >= STUDY_STR) return bad(p, e, key, "string too long");
        snprintf(s, STUDY_STR, "%s", x);
        return check_value(p, e, key, ax, 0, s);
    }
    if (ax == AX_BIN) {
        if (config_setting_type(e) != CONFIG_TYPE_BOOL) return bad(p, e, key, "expected true or false");
        *v = config_setting_get_bool(e);
        return 0;
    }
    if (!is_num(e)) return bad(p, e, key, "expected a number");
    *v = config_setting_type(e) == CONFIG_TYPE_FLOAT ? config_setting_get_float(e) : (double)config_setting_get_int64(e);
    if (ax == AX_SEED && config_setting_type(e) == CONFIG_TYPE_FLOAT) return bad(p, e, key, "seed must be an integer");
    return check_value(p, e, key, ax, *v, NULL);
}

static int parse_axis(pctx *p, study *st, const config_setting_t *s, int ax) {
    axis *a = &st->ax[ax];
    char key[64];
    snprintf(key, sizeof key, "axes.%s", axis_names[ax]);
    if (config_setting_type(s) == CONFIG_TYPE_GROUP) {
        if (ax != AX_SLOPE && ax != AX_BETA && ax != AX_THETA)
            return bad(p, s, key, "only slope, beta and theta may be ranges {min; max; log;}");
        static const char *const rk[] = {"min", "max", "log", NULL};
        if (only_keys(p, s, key, rk)) return p->rc;
        config_setting_t *mn = config_setting_get_member(s, "min"), *mx = config_setting_get_member(s, "max");
        if (!mn || !mx || !is_num(mn) || !is_num(mx)) return bad(p, s, key, "a range needs numbers min and max");
        a->lo = config_setting_get_float(mn) != 0 || config_setting_type(mn) == CONFIG_TYPE_FLOAT
                    ? (config_setting_type(mn) == CONFIG_TYPE_FLOAT ? config_setting_get_float(mn) : (double)config_setting_get_int64(mn))
                    : (double)config_setting_get_int64(mn);
        a->hi = config_setting_type(mx) == CONFIG_TYPE_FLOAT ? config_setting_get_float(mx) : (double)config_setting_get_int64(mx);
        int lg = 0;
        config_setting_lookup_bool(s, "log", &lg);
        if (!(a->hi >= a->lo) || check_value(p, mn, key, ax, a->lo, NULL) || check_value(p, mx, key, ax, a->hi, NULL))
            return p->rc ? p->rc : bad(p, s, key, "max must be >= min");
        if (lg && !(a->lo > 0)) return bad(p, s, key, "a log range needs min > 0");
        a->range = 1;
        a->logscale = lg;
        a->n = 0;
        return 0;
    }
    if (config_setting_type(s) != CONFIG_TYPE_ARRAY && config_setting_type(s) != CONFIG_TYPE_LIST)
        return bad(p, s, key, "expected a list [a, b, ...]");
    int n = config_setting_length(s);
    if (n < 1) return bad(p, s, key, "empty list");
    if (n > STUDY_MAX_AXIS) return bad(p, s, key, "too many values (at most 64)");
    a->n = (uint32_t)n;
    a->range = 0;
    for (int i = 0; i < n; i++) {
        char k2[80];
        snprintf(k2, sizeof k2, "%s[%d]", key, i);
        if (axis_elem(p, config_setting_get_elem(s, (unsigned)i), k2, ax, a->s[i], &a->v[i])) return p->rc;
    }
    return 0;
}

static void set_trial_axis(study_trial *t, int ax, const char *s, double v) {
    switch (ax) {
    case AX_DATASET: snprintf(t->dataset, sizeof t->dataset, "%s", s); break;
    case AX_ARCH: snprintf(t->arch, sizeof t->arch, "%s", s); break;
    case AX_ACCEL: snprintf(t->accel, sizeof t->accel, "%s", s); break;
    case AX_SURR: snprintf(t->surrogate, sizeof t->surrogate, "%s", s); break;
    case AX_SLOPE: t->slope = (float)v; break;
    case AX_BETA: t->beta = (float)v; break;
    case AX_THETA: t->theta = (float)v; break;
    case AX_THRESH: snprintf(t->threshold, sizeof t->threshold, "%s", s); break;
    case AX_BIN: t->binarize = v != 0; break;
    case AX_SEED: t->seed = (uint64_t)v; break;
    }
}

static int parse_root(pctx *p, study *st, config_t *cf) {
    config_setting_t *root = config_root_setting(cf);
    static const char *const top[] = {"version", "name", "search", "budget", "seed", "train", "hw", "axes", "variants", NULL};
    if (only_keys(p, root, "", top)) return p->rc;
    int ver = 0;
    config_setting_t *s = config_setting_get_member(root, "version");
    if (s) {
        if (config_setting_type(s) != CONFIG_TYPE_INT) return bad(p, s, "version", "expected an integer");
        ver = config_setting_get_int(s);
        if (ver > STUDY_VERSION) {
            p->rc = evsnn_seterr(EVSNN_EVERSION, "%s:%u: version %d: this evsnn reads study files up to version %d (update evsnn)",
                                 p->file, config_setting_source_line(s), ver, STUDY_VERSION);
            return p->rc;
        }
        if (ver < 1) return bad(p, s, "version", "expected 1");
    }
    if (get_str(p, root, "", "name", st->name, sizeof st->name)) return p->rc;
    char search[16] = "grid";
    if (get_str(p, root, "", "search", search, sizeof search)) return p->rc;
    if (!strcmp(search, "grid")) st->search = STUDY_GRID;
    else if (!strcmp(search, "random")) st->search = STUDY_RANDOM;
    else return bad(p, config_setting_get_member(root, "search"), "search", "expected \"grid\" or \"random\"");
    if (get_u32(p, root, "", "budget", &st->budget, 0, 1e7)) return p->rc;
    uint32_t seed = 1;
    if (get_u32(p, root, "", "seed", &seed, 0, 4294967295.0)) return p->rc;
    st->seed = seed;
    if (st->search == STUDY_RANDOM && st->budget == 0)
        return bad(p, config_setting_get_member(root, "search"), "budget", "random search needs budget > 0 (the number of trials)");

    /* fixed settings */
    study_fixed *f = &st->fx;
    if ((s = config_setting_get_member(root, "train"))) {
        if (config_setting_type(s) != CONFIG_TYPE_GROUP) return bad(p, s, "train", "expected a group { ... }");
        static const char *const tk[] = {"epochs", "batch", "lr", "optim", "loss", "steps", "max_train", "max_test",
                                         "encoding", "input", "test_data", "slots", "split_at", "dt_us", NULL};
        if (only_keys(p, s, "train", tk)) return p->rc;
        if (get_u32(p, s, "train", "epochs", &f->epochs, 1, 1e6) || get_u32(p, s, "train", "batch", &f->batch, 1, 1e6) ||
            get_u32(p, s, "train", "steps", &f->steps, 0, 1e7) || get_u32(p, s, "train", "max_train", &f->max_train, 0, 1e9) ||
            get_u32(p, s, "train", "max_test", &f->max_test, 0, 1e9) ||
            get_u32(p, s, "train", "split_at", &f->split_at, 0, 1e9) || get_u32(p, s, "train", "dt_us", &f->dt_us, 0, 1e9) || get_u32(p, s, "train", "slots", &f->slots, 1, 1024) ||
            get_str(p, s, "train", "optim", f->optim, sizeof f->optim) || get_str(p, s, "train", "loss", f->loss, sizeof f->loss) ||
            get_str(p, s, "train", "encoding", f->encoding, sizeof f->encoding) ||
            get_str(p, s, "train", "input", f->input, sizeof f->input) ||
            get_str(p, s, "train", "test_data", f->test_data, sizeof f->test_data))
            return p->rc;
        config_setting_t *lr = config_setting_get_member(s, "lr");
        if (lr) {
            if (!is_num(lr)) return bad(p, lr, "train.lr", "expected a number");
            double v = config_setting_type(lr) == CONFIG_TYPE_FLOAT ? config_setting_get_float(lr) : (double)config_setting_get_int64(lr);
            if (!(v > 0 && v < 10)) return bad(p, lr, "train.lr", "expected a learning rate in (0, 10)");
            f->lr = (float)v;
        }
        if (strcmp(f->optim, "adam") && strcmp(f->optim, "sgd"))
            return bad(p, config_setting_get_member(s, "optim"), "train.optim", "expected \"adam\" or \"sgd\"");
    }
    if ((s = config_setting_get_member(root, "hw"))) {
        if (config_setting_type(s) != CONFIG_TYPE_GROUP) return bad(p, s, "hw", "expected a group { ... }");
        static const char *const hk[] = {"samples", NULL};
        if (only_keys(p, s, "hw", hk) || get_u32(p, s, "hw", "samples", &f->hw_samples, 1, 1e6)) return p->rc;
    }

    /* axes: defaults are one-element lists */
    if ((s = config_setting_get_member(root, "axes"))) {
        if (config_setting_type(s) != CONFIG_TYPE_GROUP) return bad(p, s, "axes", "expected a group { ... }");
        static const char *const ak[] = {"dataset", "arch", "accel", "surrogate", "slope", "beta", "theta", "threshold",
                                         "binarize", "seed", NULL};
        if (only_keys(p, s, "axes", ak)) return p->rc;
        for (int ax = 0; ax < AX_N; ax++) {
            config_setting_t *a = config_setting_get_member(s, axis_names[ax]);
            if (a && parse_axis(p, st, a, ax)) return p->rc;
        }
    }
    if (!st->ax[AX_ARCH].n) return bad(p, config_setting_get_member(root, "axes"), "axes.arch", "at least one architecture is required");
    if (st->search == STUDY_GRID)
        for (int ax = 0; ax < AX_N; ax++)
            if (st->ax[ax].range) {
                char key[64];
                snprintf(key, sizeof key, "axes.%s", axis_names[ax]);
                return bad(p, config_setting_get_member(config_setting_get_member(root, "axes"), axis_names[ax]), key,
                           "a {min; max;} range needs search = \"random\"; a grid takes a list");
            }

    /* variants: ( { name = "..."; binarize = true; theta = 1.0; ... }, ... ) */
    if ((s = config_setting_get_member(root, "variants"))) {
        if (config_setting_type(s) != CONFIG_TYPE_LIST) return bad(p, s, "variants", "expected a list ( {...}, ... )");
        int n = config_setting_length(s);
        if (n < 1 || n > STUDY_MAX_AXIS) return bad(p, s, "variants", "expected 1 to 64 variants");
        static const char *const vk[] = {"name", "dataset", "arch", "accel", "surrogate", "slope", "beta", "theta",
                                         "threshold", "binarize", "seed", NULL};
        for (int i = 0; i < n; i++) {
            config_setting_t *g = config_setting_get_elem(s, (unsigned)i);
            char where[48];
            snprintf(where, sizeof where, "variants[%d]", i);
            if (config_setting_type(g) != CONFIG_TYPE_GROUP) return bad(p, g, where, "expected a group { ... }");
            if (only_keys(p, g, where, vk)) return p->rc;
            variant *v = &st->var[i];
            snprintf(v->name, sizeof v->name, "v%d", i);
            if (get_str(p, g, where, "name", v->name, sizeof v->name)) return p->rc;
            for (int ax = 0; ax < AX_N; ax++) {
                config_setting_t *e = config_setting_get_member(g, axis_names[ax]);
                if (!e) continue;
                char key[96], sv[STUDY_STR] = "";
                double dv = 0;
                snprintf(key, sizeof key, "%s.%s", where, axis_names[ax]);
                if (axis_elem(p, e, key, ax, sv, &dv)) return p->rc;
                set_trial_axis(&v->t, ax, sv, dv);
                v->mask |= 1u << ax;
            }
        }
        st->n_var = (uint32_t)n;
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
    const char *ds[AX_N] = {"synth", "", "", "fast_sigmoid", NULL, NULL, NULL, "fixed", NULL, NULL};
    const double dv[AX_N] = {0, 0, 0, 0, 0, 0.95, 1.0, 0, 0, 1};
    for (int ax = 0; ax < AX_N; ax++) {
        if (ax == AX_ARCH) continue;
        st->ax[ax].n = 1;
        if (ds[ax]) snprintf(st->ax[ax].s[0], STUDY_STR, "%s", ds[ax]);
        st->ax[ax].v[0] = dv[ax];
    }
}

static void count_trials(study *st) {
    if (st->search == STUDY_RANDOM) {
        st->n_trials = st->budget;
        return;
    }
    uint64_t n = st->n_var ? st->n_var : 1;
    for (int ax = 0; ax < AX_N && n < (1u << 30); ax++) n *= st->ax[ax].n;
    if (n > (1u << 30)) n = 1u << 30;
    if (st->budget && st->budget < n) n = st->budget;
    st->n_trials = (uint32_t)n;
}

static study *finish(study *st, config_t *cf, pctx *p, int *err) {
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
    pctx p = {name, 0};
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
    config_init(&cf);
    if (config_read_string(&cf, text) != CONFIG_TRUE) {
        *err = evsnn_seterr(EVSNN_EINVAL, "%s:%d: %s", name, config_error_line(&cf), config_error_text(&cf));
        config_destroy(&cf);
        return NULL;
    }
    return parse_cf(&cf, name, "", err);
}

study *study_load(const char *path, int *err) {
    FILE *f = fopen(path, "r");
    if (!f) {
        *err = evsnn_seterr(EVSNN_EIO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    config_t cf;
    config_init(&cf);
    int ok = config_read(&cf, f) == CONFIG_TRUE;
    fclose(f);
    if (!ok) {
        *err = evsnn_seterr(EVSNN_EINVAL, "%s:%d: %s", path, config_error_line(&cf), config_error_text(&cf));
        config_destroy(&cf);
        return NULL;
    }
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

static double draw_axis(const axis *a, rng *r, uint32_t *pick) {
    if (a->range) {
        const double u = rng_uniform(r);
        *pick = 0;
        return a->logscale ? exp(log(a->lo) + u * (log(a->hi) - log(a->lo))) : a->lo + u * (a->hi - a->lo);
    }
    *pick = a->n > 1 ? rng_below(r, a->n) : 0;
    return a->v[*pick];
}

int study_trial_get(const study *s, uint32_t id, study_trial *t) {
    if (id >= s->n_trials) return evsnn_seterr(EVSNN_ERANGE, "trial %u: the study has %u trials", id, s->n_trials);
    memset(t, 0, sizeof *t);
    t->id = id;
    uint32_t vi = 0;
    if (s->search == STUDY_GRID) {
        uint64_t k = id;
        if (s->n_var) {
            vi = (uint32_t)(k % s->n_var);
            k /= s->n_var;
        }
        for (int ax = AX_N - 1; ax >= 0; ax--) {
            const axis *a = &s->ax[ax];
            const uint32_t i = (uint32_t)(k % a->n);
            k /= a->n;
            set_trial_axis(t, ax, a->s[i], a->v[i]);
        }
    } else {
        rng *r = rng_create(rng_stream(s->seed, id));
        if (!r) return evsnn_seterr(EVSNN_ENOMEM, "trial %u: no memory", id);
        for (int ax = 0; ax < AX_N; ax++) {
            uint32_t pick;
            const double v = draw_axis(&s->ax[ax], r, &pick);
            set_trial_axis(t, ax, s->ax[ax].s[pick], v);
        }
        if (s->n_var) vi = rng_below(r, s->n_var);
        rng_free(r);
    }
    if (s->n_var) {
        const variant *v = &s->var[vi];
        snprintf(t->variant, sizeof t->variant, "%s", v->name);
        for (int ax = 0; ax < AX_N; ax++)
            if (v->mask & (1u << ax)) {
                const study_trial *o = &v->t;
                switch (ax) {
                case AX_DATASET: snprintf(t->dataset, sizeof t->dataset, "%s", o->dataset); break;
                case AX_ARCH: snprintf(t->arch, sizeof t->arch, "%s", o->arch); break;
                case AX_ACCEL: snprintf(t->accel, sizeof t->accel, "%s", o->accel); break;
                case AX_SURR: snprintf(t->surrogate, sizeof t->surrogate, "%s", o->surrogate); break;
                case AX_SLOPE: t->slope = o->slope; break;
                case AX_BETA: t->beta = o->beta; break;
                case AX_THETA: t->theta = o->theta; break;
                case AX_THRESH: snprintf(t->threshold, sizeof t->threshold, "%s", o->threshold); break;
                case AX_BIN: t->binarize = o->binarize; break;
                case AX_SEED: t->seed = o->seed; break;
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
    return 0;
}

/* ---------------------------------------------------------------- CSV */

const char *study_status_name(study_status s) { return s == STUDY_OK ? "ok" : s == STUDY_FAILED ? "failed" : "pending"; }

#define N_NUM_COLS 10 /* accuracy .. fps_per_w below, plus one slot */

static double *num_col(study_row *r, int i) {
    double *p[N_NUM_COLS] = {&r->accuracy, &r->loss, &r->train_loss, &r->train_s, &r->cycles,
                             &r->latency_us, &r->fps, &r->energy_uj, &r->fps_per_w, NULL};
    return p[i];
}

static void csv_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static const char *csv_header =
    "trial,status,variant,dataset,arch,accel,surrogate,slope,beta,theta,threshold,binarize,seed,"
    "accuracy,loss,train_loss,train_s,cycles,latency_us,fps,energy_uj,fps_per_w,n_layers";

/* The temporary name is fixed, not per process: only one writer owns a study directory
 * (rank 0), and a run killed mid-write leaves a file the resumed run overwrites and renames
 * instead of one that stays behind forever. */
static int write_atomic_begin(const char *path, char *tmp, size_t cap, FILE **f) {
    snprintf(tmp, cap, "%s.tmp", path);
    if (!(*f = fopen(tmp, "w"))) return evsnn_seterr(EVSNN_EIO, "%s: cannot write: %s", tmp, strerror(errno));
    return 0;
}

int study_write_csv(const char *path, const study_row *rows, uint32_t n) {
    char tmp[1200];
    FILE *f;
    int rc = write_atomic_begin(path, tmp, sizeof tmp, &f);
    if (rc) return rc;
    fprintf(f, "%s", csv_header);
    for (int l = 0; l < STUDY_MAX_LAYERS; l++) fprintf(f, ",rate_%d", l);
    for (int l = 0; l < STUDY_MAX_LAYERS; l++) fprintf(f, ",silent_%d", l);
    for (int l = 0; l < STUDY_MAX_LAYERS; l++) fprintf(f, ",cycles_%d", l);
    fprintf(f, ",key,error\n");
    for (uint32_t i = 0; i < n; i++) {
        const study_row *r = &rows[i];
        if (r->status == STUDY_PENDING) continue;
        const study_trial *t = &r->t;
        fprintf(f, "%u,%s,", t->id, study_status_name(r->status));
        csv_str(f, t->variant);
        fputc(',', f);
        csv_str(f, t->dataset);
        fputc(',', f);
        csv_str(f, t->arch);
        fputc(',', f);
        csv_str(f, t->accel);
        fputc(',', f);
        csv_str(f, t->surrogate);
        fprintf(f, ",%.9g,%.9g,%.9g,", (double)t->slope, (double)t->beta, (double)t->theta);
        csv_str(f, t->threshold);
        fprintf(f, ",%d,%llu", t->binarize, (unsigned long long)t->seed);
        const int ok = r->status == STUDY_OK;
        for (int c = 0; c < N_NUM_COLS - 1; c++) {
            if (ok) fprintf(f, ",%.9g", *num_col((study_row *)r, c));
            else fputc(',', f);
        }
        fprintf(f, ",%u", r->n_layers);
        for (int l = 0; l < STUDY_MAX_LAYERS; l++)
            if (ok && (uint32_t)l < r->n_layers) fprintf(f, ",%.9g", r->rate[l]);
            else fputc(',', f);
        for (int l = 0; l < STUDY_MAX_LAYERS; l++)
            if (ok && (uint32_t)l < r->n_layers) fprintf(f, ",%.9g", r->silent[l]);
            else fputc(',', f);
        for (int l = 0; l < STUDY_MAX_LAYERS; l++)
            if (ok && (uint32_t)l < r->n_layers) fprintf(f, ",%.9g", r->layer_cycles[l]);
            else fputc(',', f);
        fputc(',', f);
        csv_str(f, t->key);
        fputc(',', f);
        csv_str(f, r->error);
        fputc('\n', f);
    }
    if (fflush(f) || ferror(f) || fsync(fileno(f))) {
        fclose(f);
        unlink(tmp);
        return evsnn_seterr(EVSNN_EIO, "%s: write failed: %s", tmp, strerror(errno));
    }
    fclose(f);
    if (rename(tmp, path)) {
        unlink(tmp);
        return evsnn_seterr(EVSNN_EIO, "%s: cannot rename into place: %s", path, strerror(errno));
    }
    return 0;
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

int study_read_csv(const char *path, study_row **rows, uint32_t *n) {
    *rows = NULL;
    *n = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) return 0;
        return evsnn_seterr(EVSNN_EIO, "%s: cannot open: %s", path, strerror(errno));
    }
    /* Tables before the per-layer cycle columns (cycles_0..7) are read too (NaN there). */
    enum { NF = 13 + N_NUM_COLS - 1 + 1 + 3 * STUDY_MAX_LAYERS + 2, NF_OLD = NF - STUDY_MAX_LAYERS };
    int nf = NF;
    char *line = NULL, *fld[NF + 1];
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
            if (!strstr(line, ",cycles_0,")) nf = NF_OLD;
            continue;
        }
        int k = csv_split(line, fld, NF + 1);
        if (k != nf) {
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s:%u: %d fields, expected %d (truncated or edited table?)", path, lineno, k, nf);
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
        char *end;
        w->t.id = (uint32_t)strtoul(fld[0], &end, 10);
        if (*end || !*fld[0]) { rc = evsnn_seterr(EVSNN_EFORMAT, "%s:%u: trial '%s' is not a number", path, lineno, fld[0]); break; }
        w->status = !strcmp(fld[1], "ok") ? STUDY_OK : !strcmp(fld[1], "failed") ? STUDY_FAILED : STUDY_PENDING;
        if (w->status == STUDY_PENDING) { rc = evsnn_seterr(EVSNN_EFORMAT, "%s:%u: status '%s', expected ok or failed", path, lineno, fld[1]); break; }
        snprintf(w->t.variant, sizeof w->t.variant, "%s", fld[2]);
        snprintf(w->t.dataset, sizeof w->t.dataset, "%s", fld[3]);
        snprintf(w->t.arch, sizeof w->t.arch, "%s", fld[4]);
        snprintf(w->t.accel, sizeof w->t.accel, "%s", fld[5]);
        snprintf(w->t.surrogate, sizeof w->t.surrogate, "%s", fld[6]);
        w->t.slope = strtof(fld[7], NULL);
        w->t.beta = strtof(fld[8], NULL);
        w->t.theta = strtof(fld[9], NULL);
        snprintf(w->t.threshold, sizeof w->t.threshold, "%s", fld[10]);
        w->t.binarize = atoi(fld[11]);
        w->t.seed = strtoull(fld[12], NULL, 10);
        for (int c = 0; c < N_NUM_COLS - 1; c++) *num_col(w, c) = *fld[13 + c] ? strtod(fld[13 + c], NULL) : NAN;
        int b = 13 + N_NUM_COLS - 1;
        w->n_layers = (uint32_t)atoi(fld[b++]);
        if (w->n_layers > STUDY_MAX_LAYERS) w->n_layers = STUDY_MAX_LAYERS;
        for (int l = 0; l < STUDY_MAX_LAYERS; l++, b++) w->rate[l] = *fld[b] ? strtod(fld[b], NULL) : NAN;
        for (int l = 0; l < STUDY_MAX_LAYERS; l++, b++) w->silent[l] = *fld[b] ? strtod(fld[b], NULL) : NAN;
        for (int l = 0; l < STUDY_MAX_LAYERS; l++) {
            w->layer_cycles[l] = NAN;
            if (nf != NF) continue;
            if (*fld[b]) w->layer_cycles[l] = strtod(fld[b], NULL);
            b++;
        }
        snprintf(w->t.key, sizeof w->t.key, "%s", fld[b++]);
        snprintf(w->error, sizeof w->error, "%s", fld[b]);
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
    snprintf(tmp, sizeof tmp, "%s.tmp", path); /* fixed name: see write_atomic_begin */
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    int bad = f < 0;
    hid_t g = bad ? -1 : H5Gcreate2(f, "trials", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    bad |= g < 0;
    if (!bad) {
        int32_t ver = STUDY_VERSION;
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
    /* numeric columns */
    const char *nc[] = {"trial", "slope", "beta", "theta", "binarize", "seed", "accuracy", "loss", "train_loss", "train_s",
                        "cycles", "latency_us", "fps", "energy_uj", "fps_per_w", "n_layers"};
    for (size_t c = 0; c < sizeof nc / sizeof *nc && !bad; c++) {
        uint32_t j = 0;
        for (uint32_t i = 0; i < n; i++) {
            const study_row *r = &rows[i];
            if (r->status == STUDY_PENDING) continue;
            double v;
            switch (c) {
            case 0: v = r->t.id; break;
            case 1: v = r->t.slope; break;
            case 2: v = r->t.beta; break;
            case 3: v = r->t.theta; break;
            case 4: v = r->t.binarize; break;
            case 5: v = (double)r->t.seed; break;
            case 15: v = r->n_layers; break;
            default: v = r->status == STUDY_OK ? *num_col((study_row *)r, (int)c - 6) : NAN;
            }
            dbuf[j++] = v;
        }
        hsize_t d = m;
        bad |= h5_doubles(g, nc[c], dbuf, 1, &d) < 0;
    }
    for (int which = 0; which < 3 && !bad; which++) {
        uint32_t j = 0;
        for (uint32_t i = 0; i < n; i++) {
            const study_row *r = &rows[i];
            if (r->status == STUDY_PENDING) continue;
            for (uint32_t l = 0; l < STUDY_MAX_LAYERS; l++)
                dbuf[(size_t)j * STUDY_MAX_LAYERS + l] =
                    r->status == STUDY_OK && l < r->n_layers
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
        unlink(tmp);
        return evsnn_seterr(EVSNN_EIO, "%s: cannot write the HDF5 table", tmp);
    }
    if (rename(tmp, path)) {
        unlink(tmp);
        return evsnn_seterr(EVSNN_EIO, "%s: cannot rename into place: %s", path, strerror(errno));
    }
    return 0;
}
