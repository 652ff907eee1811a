/* apps/json.h — every JSON document evsnn writes or reads goes through jansson (Debian's
 * libjansson-dev); these helpers fix the conventions once:
 *
 *   integers are JSON integers (counts, cycles, ids), never rounded through a float;
 *   reals are printed with 17 significant digits, so a reader gets back the very double
 *   (floats are widened exactly);
 *   a value that is missing or not finite (NaN, ±Inf) is null;
 *   strings are UTF-8 with every escape JSON needs; bytes that are not UTF-8 (a path in
 *   another encoding) become U+FFFD rather than invalid JSON;
 *   lists are arrays.
 * Documents are printed compact, one per line, keys in insertion order. */
#ifndef EVSNN_APPS_JSON_H
#define EVSNN_APPS_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(17) | JSON_ENCODE_ANY)

json_t *jnum(double v);                  /* real, or null when not finite */
json_t *jint(long long v);               /* integer */
json_t *jstr(const char *s);             /* string (U+FFFD for bad bytes), or null for NULL */
json_t *jstrn(const char *s, size_t n);  /* the same for s[0..n) */
json_t *ju32s(const uint32_t *v, size_t n); /* array of integers */
json_t *ju64s(const uint64_t *v, size_t n);
json_t *jdbls(const double *v, size_t n);   /* array of reals (null where not finite) */

/* o[key] = v (takes v; a NULL v — a failed allocation — sets null). Returns o. */
json_t *jset(json_t *o, const char *key, json_t *v);

/* Print doc + '\n' on f and release it. 0, or -1 when it could not be written. */
int jprint(FILE *f, json_t *doc);
/* The document as a malloc'd compact string (no newline); NULL on failure. Releases doc. */
char *jtext(json_t *doc);

#endif
