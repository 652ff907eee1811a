/* io/lcfg.h — reading libconfig text files the evsnn way, written once for the accelerator
 * configuration (hw/cfg.c) and the study file (io/study.c).
 *
 * Every error is EVSNN_EINVAL with "<file>:<line>: <key>: <what>", the key spelt as a path
 * from the root ("train.epochs", "layers[2].pes"). A parser keeps an lcfg_ctx, stops at its
 * first error and returns ctx.rc. The getters leave *v alone when the key is absent (the
 * caller's default stands) and set *given (if not NULL) when it is present and valid.
 *
 * A leaf module: libconfig and sim/evsnn.h only, no HDF5 and nothing of hw/ or the other
 * io/ formats, so hw/ includes it without depending on the file-format layer. */
#ifndef EVSNN_IO_LCFG_H
#define EVSNN_IO_LCFG_H

#include <libconfig.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *file; /* the name errors carry */
    int rc;           /* first error, 0 while none */
} lcfg_ctx;

/* Record an error at setting s (NULL: line 0) under key; returns it (ctx->rc). */
int lcfg_bad(lcfg_ctx *p, const config_setting_t *s, const char *key, const char *what);
int lcfg_badf(lcfg_ctx *p, const config_setting_t *s, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "where.name", or "name" when where is "" (the root). */
void lcfg_key(char *key, size_t cap, const char *where, const char *name);

/* Every child of group g is in allowed[] (NULL-terminated), else "unknown key (expected one
 * of: ...)" at the first stranger. */
int lcfg_only_keys(lcfg_ctx *p, const config_setting_t *g, const char *where, const char *const *allowed);

/* An integer setting in [lo, hi]. */
int lcfg_get_u32(lcfg_ctx *p, const config_setting_t *g, const char *where, const char *name, uint32_t *v,
                 double lo, double hi, int *given);
/* A number (integer or float) in [lo, hi]. */
int lcfg_get_num(lcfg_ctx *p, const config_setting_t *g, const char *where, const char *name, double *v,
                 double lo, double hi);
/* A string shorter than cap. */
int lcfg_get_str(lcfg_ctx *p, const config_setting_t *g, const char *where, const char *name, char *v, size_t cap);
/* A string that must be one of words[] (NULL-terminated); its index goes to *v. */
int lcfg_get_word(lcfg_ctx *p, const config_setting_t *g, const char *where, const char *name, int *v,
                  const char *const *words, int *given);

/* Read a file (EVSNN_EIO naming it and `what` when it cannot be opened) or a text named
 * `name` into cf. On a syntax error EVSNN_EINVAL "<file>:<line>: <libconfig's message>" and
 * cf destroyed; on success 0 and the caller parses and config_destroy()s cf. */
int lcfg_load(config_t *cf, const char *path, const char *what);
int lcfg_parse(config_t *cf, const char *text, const char *name);

#endif
