/* apps/json.c — JSON through jansson with evsnn's conventions (see json.h). */
#include "apps/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

json_t *jnum(double v) { return isfinite(v) ? json_real(v) : json_null(); }

json_t *jint(long long v) { return json_integer((json_int_t)v); }

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if the bytes there are not one. */
static size_t utf8_len(const unsigned char *p, size_t left) {
    const unsigned c = p[0];
    size_t n;
    unsigned min;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) n = 2, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef) n = 3, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4) n = 4, min = 0x10000;
    else return 0;
    if (n > left) return 0;
    unsigned cp = c & (0x3f >> (n - 1));
    for (size_t k = 1; k < n; k++) {
        if ((p[k] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (p[k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return n;
}

json_t *jstrn(const char *s, size_t n) {
    if (!s) return json_null();
    json_t *j = json_stringn(s, n);
    if (j) return j;
    /* not UTF-8 (or a NUL inside): replace each bad byte by U+FFFD */
    char *b = malloc(3 * n + 1);
    if (!b) return NULL;
    size_t k = 0;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        const size_t l = p[i] ? utf8_len(p + i, n - i) : 0;
        if (l) memcpy(b + k, p + i, l), k += l, i += l;
        else memcpy(b + k, "\xef\xbf\xbd", 3), k += 3, i++;
    }
    j = json_stringn(b, k);
    free(b);
    return j;
}

json_t *jstr(const char *s) { return s ? jstrn(s, strlen(s)) : json_null(); }

json_t *ju32s(const uint32_t *v, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) json_array_append_new(a, json_integer((json_int_t)v[i]));
    return a;
}

json_t *ju64s(const uint64_t *v, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) json_array_append_new(a, json_integer((json_int_t)v[i]));
    return a;
}

json_t *jdbls(const double *v, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) json_array_append_new(a, jnum(v[i]));
    return a;
}

json_t *jset(json_t *o, const char *key, json_t *v) {
    if (o) json_object_set_new(o, key, v ? v : json_null());
    else json_decref(v);
    return o;
}

int jprint(FILE *f, json_t *doc) {
    if (!doc) return -1;
    int rc = json_dumpf(doc, f, JSON_FLAGS);
    json_decref(doc);
    if (rc == 0 && fputc('\n', f) == EOF) rc = -1;
    fflush(f);
    return rc ? -1 : 0;
}

char *jtext(json_t *doc) {
    if (!doc) return NULL;
    char *s = json_dumps(doc, JSON_FLAGS);
    json_decref(doc);
    return s;
}
