/* kernels/surrogate.c — surrogate derivatives and their names (see surrogate.h). */
#include "surrogate.h"

#include "simd.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[SG_N_KINDS] = {"atan", "fast_sigmoid", "sigmoid", "triangular",
                                              "straight_through", "heaviside", "spike_rate_escape",
                                              "sparse_fast_sigmoid"};

const char *sg_name(int kind) { return kind >= 0 && kind < SG_N_KINDS ? names[kind] : "?"; }

surrogate sg_default(int kind) {
    surrogate s = {.kind = kind, .a = 0.0f, .b = 0.0f, .eps = 0.0f};
    switch (kind) {
    case SG_ATAN: s.a = 2.0f; break;
    case SG_FAST_SIGMOID: case SG_SIGMOID: s.a = 25.0f; break;
    case SG_TRIANGULAR: s.a = 1.0f; break;
    case SG_SRE: s.a = 25.0f; s.b = 1.0f; break;
    case SG_SFS: s.a = 25.0f; s.b = 1.0f; break;
    default: break;
    }
    return s;
}

static inline float sg_raw(int kind, float a, float b, float x) {
    switch (kind) {
    case SG_ATAN: {
        /* π/2·α·x, multiplied so that a huge α (π/2·α beyond FLT_MAX) never meets x = 0 as
         * inf·0 = NaN: (π/2·x)·α is finite·finite, at worst inf, and the result then 0. */
        const float q = (1.57079632679489662f * x) * a;
        return a / 2.0f / (1.0f + q * q);
    }
    case SG_FAST_SIGMOID: {
        const float d = a * fabsf(x) + 1.0f;
        return 1.0f / (d * d);
    }
    case SG_SIGMOID: {
        /* kσ(kx)(1 − σ(kx)) written with e = exp(−k|x|) ≤ 1, so nothing overflows:
         * σ(1−σ) = e / (1 + e)² for either sign of x. */
        const float e = expf(-a * fabsf(x));
        const float d = 1.0f + e;
        return a * e / (d * d);
    }
    case SG_TRIANGULAR: return x < 0.0f ? a : -a;
    case SG_STE: return 1.0f;
    case SG_HEAVISIDE: return x > 0.0f ? 1.0f : 0.0f;
    case SG_SRE: return a * expf(-b * fabsf(x - 1.0f));
    case SG_SFS: {
        if (!(x > b)) return 0.0f;
        const float d = a * fabsf(x) + 1.0f;
        return 1.0f / (d * d);
    }
    default: return 0.0f;
    }
}

float sg_grad(const surrogate *s, float x) {
    float g = sg_raw(s->kind, s->a, s->b, x);
    if (s->eps > 0.0f && fabsf(g) < s->eps) g = 0.0f;
    return g;
}

/* One loop per kind, with the kind a compile-time constant of the inlined body, so the
 * division-based surrogates vectorise (exp-based ones call expf per element). */
static inline __attribute__((always_inline)) void grad_loop(float *restrict out, const float *restrict u,
                                                              const float *restrict g, float c, uint32_t n, int kind,
                                                              float a, float b, float eps) {
    if (g)
        for (uint32_t i = 0; i < n; i++) {
            const float d = sg_raw(kind, a, b, u[i] - c);
            out[i] = g[i] * (eps > 0.0f && fabsf(d) < eps ? 0.0f : d);
        }
    else
        for (uint32_t i = 0; i < n; i++) {
            const float d = sg_raw(kind, a, b, u[i] - c);
            out[i] = eps > 0.0f && fabsf(d) < eps ? 0.0f : d;
        }
}

KERNEL_CLONES
void sg_grad_vec(float *out, const float *u, const float *g, float c, uint32_t n, const surrogate *s) {
    const float a = s->a, b = s->b, eps = s->eps;
    switch (s->kind) {
    case SG_ATAN: grad_loop(out, u, g, c, n, SG_ATAN, a, b, eps); break;
    case SG_FAST_SIGMOID: grad_loop(out, u, g, c, n, SG_FAST_SIGMOID, a, b, eps); break;
    case SG_SIGMOID: grad_loop(out, u, g, c, n, SG_SIGMOID, a, b, eps); break;
    case SG_TRIANGULAR: grad_loop(out, u, g, c, n, SG_TRIANGULAR, a, b, eps); break;
    case SG_STE: grad_loop(out, u, g, c, n, SG_STE, a, b, eps); break;
    case SG_HEAVISIDE: grad_loop(out, u, g, c, n, SG_HEAVISIDE, a, b, eps); break;
    case SG_SRE: grad_loop(out, u, g, c, n, SG_SRE, a, b, eps); break;
    case SG_SFS: grad_loop(out, u, g, c, n, SG_SFS, a, b, eps); break;
    default: grad_loop(out, u, g, c, n, -1, a, b, eps); break;
    }
}

/* Which keys a kind accepts, and which field each sets (0 = a, 1 = b). */
typedef struct {
    const char *key;
    int field;
} sg_key;

static int find_key(int kind, const char *key, int *field) {
    static const sg_key atan_k[] = {{"alpha", 0}, {"a", 0}, {NULL, 0}};
    static const sg_key slope_k[] = {{"k", 0}, {"slope", 0}, {NULL, 0}};
    static const sg_key tri_k[] = {{"threshold", 0}, {"theta", 0}, {NULL, 0}};
    static const sg_key sre_k[] = {{"k", 0}, {"slope", 0}, {"beta", 1}, {NULL, 0}};
    static const sg_key sfs_k[] = {{"k", 0}, {"slope", 0}, {"B", 1}, {NULL, 0}};
    static const sg_key none_k[] = {{NULL, 0}};
    const sg_key *t = none_k;
    switch (kind) {
    case SG_ATAN: t = atan_k; break;
    case SG_FAST_SIGMOID: case SG_SIGMOID: t = slope_k; break;
    case SG_TRIANGULAR: t = tri_k; break;
    case SG_SRE: t = sre_k; break;
    case SG_SFS: t = sfs_k; break;
    default: break;
    }
    for (; t->key; t++)
        if (!strcmp(t->key, key)) { *field = t->field; return 0; }
    return -1;
}

static const char *keys_of(int kind) {
    switch (kind) {
    case SG_ATAN: return "alpha, eps";
    case SG_FAST_SIGMOID: case SG_SIGMOID: return "k (or slope), eps";
    case SG_TRIANGULAR: return "threshold, eps";
    case SG_SRE: return "beta, k (or slope), eps";
    case SG_SFS: return "k (or slope), B, eps";
    default: return "eps";
    }
}

int sg_parse(surrogate *s, const char *spec, char *msg, size_t msglen) {
    static const struct { const char *name; int kind; } alias[] = {
        {"atan", SG_ATAN}, {"arctan", SG_ATAN}, {"fast_sigmoid", SG_FAST_SIGMOID}, {"sigmoid", SG_SIGMOID},
        {"triangular", SG_TRIANGULAR}, {"straight_through", SG_STE}, {"ste", SG_STE},
        {"heaviside", SG_HEAVISIDE}, {"spike_rate_escape", SG_SRE}, {"sre", SG_SRE},
        {"sparse_fast_sigmoid", SG_SFS}, {"sfs", SG_SFS}};
    char buf[256];
    if (!spec || strlen(spec) >= sizeof buf) {
        snprintf(msg, msglen, "surrogate: expected name[:key=value,...] of at most 255 characters");
        return -1;
    }
    strcpy(buf, spec);
    char *args = strchr(buf, ':');
    if (args) *args++ = '\0';
    int kind = -1;
    for (size_t i = 0; i < sizeof alias / sizeof *alias; i++)
        if (!strcmp(buf, alias[i].name)) kind = alias[i].kind;
    if (kind < 0) {
        snprintf(msg, msglen,
                 "surrogate '%s': unknown name (expected atan, fast_sigmoid, sigmoid, triangular, "
                 "straight_through, heaviside, spike_rate_escape or sparse_fast_sigmoid)", buf);
        return -1;
    }
    surrogate r = sg_default(kind);
    if (args && *args) {
        char *save = NULL;
        for (char *kv = strtok_r(args, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
            char *eq = strchr(kv, '=');
            if (!eq || eq == kv) {
                snprintf(msg, msglen, "surrogate '%s': '%s' is not key=value (keys: %s)", spec, kv, keys_of(kind));
                return -1;
            }
            *eq = '\0';
            const char *val = eq + 1;
            char *end;
            errno = 0;
            double v = strtod(val, &end);
            if (!*val || *end || errno || !isfinite(v) || fabs(v) > FLT_MAX) {
                snprintf(msg, msglen, "surrogate '%s': %s='%s' is not a finite single-precision number", spec, kv, val);
                return -1;
            }
            int field;
            if (!strcmp(kv, "eps")) {
                if (v < 0) { snprintf(msg, msglen, "surrogate '%s': eps must be ≥ 0", spec); return -1; }
                r.eps = (float)v;
            } else if (find_key(kind, kv, &field) == 0) {
                if (field == 0) r.a = (float)v;
                else r.b = (float)v;
            } else {
                snprintf(msg, msglen, "surrogate '%s': unknown key '%s' for %s (keys: %s)", spec, kv, names[kind],
                         keys_of(kind));
                return -1;
            }
        }
    }
    if ((kind == SG_ATAN || kind == SG_FAST_SIGMOID || kind == SG_SIGMOID || kind == SG_SFS || kind == SG_SRE) &&
        !(r.a > 0.0f)) {
        snprintf(msg, msglen, "surrogate '%s': the slope must be > 0", spec);
        return -1;
    }
    *s = r;
    return 0;
}

void sg_format(char *buf, size_t len, const surrogate *s) {
    int n;
    switch (s->kind) {
    case SG_ATAN: n = snprintf(buf, len, "atan:alpha=%g", (double)s->a); break;
    case SG_FAST_SIGMOID: case SG_SIGMOID: n = snprintf(buf, len, "%s:k=%g", names[s->kind], (double)s->a); break;
    case SG_TRIANGULAR: n = snprintf(buf, len, "triangular:threshold=%g", (double)s->a); break;
    case SG_SRE: n = snprintf(buf, len, "spike_rate_escape:beta=%g,k=%g", (double)s->b, (double)s->a); break;
    case SG_SFS: n = snprintf(buf, len, "sparse_fast_sigmoid:k=%g,B=%g", (double)s->a, (double)s->b); break;
    default: n = snprintf(buf, len, "%s", sg_name(s->kind)); break;
    }
    if (s->eps > 0.0f && n >= 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, "%seps=%g", strchr(buf, ':') ? "," : ":", (double)s->eps);
}
