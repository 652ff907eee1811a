/* io/lcfg.c — libconfig reading helpers shared by hw/cfg.c and io/study.c (lcfg.h). */
#include "io/lcfg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sim/evsnn.h"

int lcfg_bad(lcfg_ctx *p, const config_setting_t *s, const char *key, const char *what) {
    p->rc = evsnn_seterr(EVSNN_EINVAL, "%s:%u: %s: %s", p->file, s ? config_setting_source_line(s) : 0, key, what);
    return p->rc;
}

int lcfg_badf(lcfg_ctx *p, const config_setting_t *s, const char *key, const char *fmt, ...) {
    char what[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return lcfg_bad(p, s, key, what);
}

void lcfg_key(char *key, size_t cap, const char *where, const char *name) {
    snprintf(key, cap, "%s%s%s", where, *where ? "." : "", name ? name : "?");
}

/* words[] as "a, b, c" into list[cap]. */
static void word_list(char *list, size_t cap, const char *const *words) {
    list[0] = 0;
    for (const char *const *a = words; *a; a++) {
        size_t l = strlen(list);
        snprintf(list + l, cap - l, "%s%s", l ? ", " : "", *a);
    }
}

int lcfg_only_keys(lcfg_ctx *p, const config_setting_t *g, const char *where, const char *const *allowed) {
    for (int i = 0; i < config_setting_length(g); i++) {
        config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(s);
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++) ok = name && !strcmp(name, *a);
        if (!ok) {
            char key[128], list[512];
            lcfg_key(key, sizeof key, where, name);
            word_list(list, sizeof list, allowed);
            return lcfg_badf(p, s, key, "unknown key (expected one of: %s)", list);
        }
    }
    return 0;
}

/* The member name of g, or NULL when absent; its key path into key[128]. */
static config_setting_t *member(const config_setting_t *g, const char *where, const char *name, char *key) {
    config_setting_t *s = config_setting_get_member(g, name);
    if (s) lcfg_key(key, 128, where, name);
    return s;
}

int lcfg_get_u32(lcfg_ctx *p, const config_setting_t *g, const char *where, const char *name, uint32_t *v,
                 double lo, double hi, int *given) {
    char key[128];
    config_setting_t *s = member(g, where, name, key);
    if (!s) return 0;
    const int t = config_setting_type(s);
    if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) return lcfg_bad(p, s, key, "expected an integer");
    const long long x = config_setting_get_int64(s);
    if ((double)x < lo || (double)x > hi || x < 0 || x > 0xffffffffLL)
        return lcfg_badf(p, s, key, "%lld is out of range [%.10g, %.10g]", x, lo, hi);
    *v = (uint32_t)x;
    if (given) *given = 1;
    return 0;
}

int lcfg_get_num(lcfg_ctx *p, const config_setting_t *g, const char *where, const char *name, double *v,
                 double lo, double hi) {
    char key[128];
    config_setting_t *s = member(g, where, name, key);
    if (!s) return 0;
    const int t = config_setting_type(s);
    if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64 && t != CONFIG_TYPE_FLOAT)
        return lcfg_bad(p, s, key, "expected a number");
    const double x = t == CONFIG_TYPE_FLOAT ? config_setting_get_float(s) : (double)config_setting_get_int64(s);
    if (!(x >= lo && x <= hi)) return lcfg_badf(p, s, key, "%g is out of range [%g, %g]", x, lo, hi);
    *v = x;
    return 0;
}

int lcfg_get_str(lcfg_ctx *p, const config_setting_t *g, const char *where, const char *name, char *v, size_t cap) {
    char key[128];
    config_setting_t *s = member(g, where, name, key);
    if (!s) return 0;
    if (config_setting_type(s) != CONFIG_TYPE_STRING) return lcfg_bad(p, s, key, "expected a string");
    const char *x = config_setting_get_string(s);
    if (strlen(x) >= cap) return lcfg_bad(p, s, key, "string too long");
    snprintf(v, cap, "%s", x);
    return 0;
}

int lcfg_get_word(lcfg_ctx *p, const config_setting_t *g, const char *where, const char *name, int *v,
                  const char *const *words, int *given) {
    char key[128];
    config_setting_t *s = member(g, where, name, key);
    if (!s) return 0;
    if (config_setting_type(s) != CONFIG_TYPE_STRING) return lcfg_bad(p, s, key, "expected a string");
    const char *x = config_setting_get_string(s);
    for (int i = 0; words[i]; i++)
        if (!strcmp(x, words[i])) {
            *v = i;
            if (given) *given = 1;
            return 0;
        }
    char list[256];
    word_list(list, sizeof list, words);
    return lcfg_badf(p, s, key, "'%s' is not one of: %s", x, list);
}

static int read_error(config_t *cf, const char *name) {
    const char *f = config_error_file(cf);
    int rc = evsnn_seterr(EVSNN_EINVAL, "%s:%d: %s", f ? f : name, config_error_line(cf), config_error_text(cf));
    config_destroy(cf);
    return rc;
}

int lcfg_load(config_t *cf, const char *path, const char *what) {
    FILE *f = fopen(path, "r");
    if (!f) return evsnn_seterr(EVSNN_EIO, "%s: cannot open the %s: %s", path, what, strerror(errno));
    fclose(f);
    config_init(cf);
    return config_read_file(cf, path) == CONFIG_TRUE ? 0 : read_error(cf, path);
}

int lcfg_parse(config_t *cf, const char *text, const char *name) {
    config_init(cf);
    return config_read_string(cf, text) == CONFIG_TRUE ? 0 : read_error(cf, name);
}
