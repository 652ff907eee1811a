/* sim/net.c — parse the papers' architecture notation into layers, allocate and
 * initialise parameters (see net.h for the notation and the parameter layout). */
#include "net.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evsnn.h"

neuron_cfg net_default_neuron(void) {
    return (neuron_cfg){.beta = 0.95f, .theta = 1.0f, .reset = RESET_SUBTRACT, .cmp = CMP_GT, .bias = 1};
}

static const char *reset_names[] = {"subtract", "zero", "none", "subtract-pre", "zero-drop"};

const char *net_reset_name(reset_mode r) {
    return (unsigned)r < sizeof reset_names / sizeof *reset_names ? reset_names[r] : "?";
}

int net_reset_parse(const char *s, reset_mode *r) {
    for (unsigned i = 0; i < sizeof reset_names / sizeof *reset_names; i++)
        if (!strcmp(s, reset_names[i])) { *r = (reset_mode)i; return 0; }
    return evsnn_seterr(EVSNN_EINVAL, "reset '%s': expected subtract, zero, none, subtract-pre or zero-drop", s);
}

int net_parse_shape(const char *s, uint32_t *c, uint32_t *h, uint32_t *w) {
    unsigned long v[3] = {1, 1, 1};
    int n = 0;
    const char *p = s;
    while (n < 3) {
        char *end;
        if (!isdigit((unsigned char)*p)) break;
        v[n++] = strtoul(p, &end, 10);
        p = end;
        if (*p == 'x' || *p == 'X' || *p == ',') p++;
        else break;
    }
    if (n == 0 || *p || v[0] == 0 || v[1] == 0 || v[2] == 0)
        return evsnn_seterr(EVSNN_EFORMAT, "input shape '%s': expected N or CxHxW with positive sizes (e.g. 700, 2x32x32)", s);
    if (n == 2) return evsnn_seterr(EVSNN_EFORMAT, "input shape '%s': give N or CxHxW (three sizes)", s);
    static const char *const what[3] = {"C", "H", "W"};
    for (int i = 0; i < 3; i++) {
        const unsigned long lim = i ? 65536ul : (n == 1 ? (unsigned long)NET_MAX_VALUES : 1ul << 24);
        if (v[i] > lim)
            return evsnn_seterr(EVSNN_ERANGE, "input shape '%s': %s = %lu is above the limit of %lu", s,
                                n == 1 ? "N" : what[i], v[i], lim);
    }
    const uint64_t vals = (uint64_t)v[0] * v[1] * v[2]; /* ≤ 2^24 · 2^16 · 2^16: no overflow */
    if (vals > NET_MAX_VALUES)
        return evsnn_seterr(EVSNN_ERANGE, "input shape '%s' has %llu values, above the limit of %llu (2^31)", s,
                            (unsigned long long)vals, (unsigned long long)NET_MAX_VALUES);
    *c = (uint32_t)v[0];
    *h = (uint32_t)v[1];
    *w = (uint32_t)v[2];
    return 0;
}

int net_check_neuron(const neuron_cfg *nc, const char *where) {
    if (!(nc->beta >= 0.0f && nc->beta <= 1.0f))
        return evsnn_seterr(EVSNN_EINVAL, "%s: beta %g is outside [0, 1]", where, nc->beta);
    if (!(nc->theta > 0.0f) || !isfinite(nc->theta))
        return evsnn_seterr(EVSNN_EINVAL, "%s: threshold %g must be > 0 and finite", where, nc->theta);
    if ((unsigned)nc->reset > RESET_ZERO_DROP || (unsigned)nc->cmp > CMP_GE)
        return evsnn_seterr(EVSNN_EINVAL, "%s: unknown reset or compare mode", where);
    return 0;
}

typedef enum { TOK_NUM, TOK_CONV, TOK_POOL, TOK_BN } tok_kind;
typedef struct {
    tok_kind kind;
    uint32_t a, b;  /* NUM: a = size; CONV: a = channels, b = kernel; POOL: a = window */
    pool_kind pool;
    char text[24];
} token;

static int parse_u32(const char **p, uint32_t *out) {
    if (!isdigit((unsigned char)**p)) return -1;
    char *end;
    unsigned long v = strtoul(*p, &end, 10);
    if (v == 0 || v > 1000000000UL) return -1;
    *out = (uint32_t)v;
    *p = end;
    return 0;
}

/* One token: "700", "16C5", "AP2", "MP2", "P2", "SP2". */
static int parse_token(const char *s, size_t len, token *t, unsigned pos, const char *arch) {
    char buf[24];
    if (len == 0 || len >= sizeof buf)
        return evsnn_seterr(EVSNN_EFORMAT, "architecture '%s': token %u is %s", arch, pos,
                            len ? "too long" : "empty (two '-' in a row?)");
    memcpy(buf, s, len);
    buf[len] = 0;
    memcpy(t->text, buf, len + 1);
    const char *p = buf;
    if (isdigit((unsigned char)*p)) {
        if (parse_u32(&p, &t->a)) goto bad;
        if (*p == 0) { t->kind = TOK_NUM; return 0; }
        if ((*p == 'C' || *p == 'c') && p[1]) {
            p++;
            if (parse_u32(&p, &t->b) || *p) goto bad;
            t->kind = TOK_CONV;
            return 0;
        }
        goto bad;
    }
    if (!strcmp(p, "BN") || !strcmp(p, "bn")) {
        t->kind = TOK_BN;
        return 0;
    }
    t->kind = TOK_POOL;
    if (!strncmp(p, "AP", 2)) { t->pool = POOL_AVG; p += 2; }
    else if (!strncmp(p, "MP", 2)) { t->pool = POOL_MAX; p += 2; }
    else if (!strncmp(p, "SP", 2)) { t->pool = POOL_SUM; p += 2; }
    else if (*p == 'P') { t->pool = POOL_MAX; p += 1; }
    else goto bad;
    if (parse_u32(&p, &t->a) || *p) goto bad;
    return 0;
bad:
    return evsnn_seterr(EVSNN_EFORMAT,
                        "architecture '%s': token %u '%s' is not N (dense), NCK (conv: N filters KxK), "
                        "APk / MPk / Pk / SPk (avg / max / max / sum pooling) or BN (batch normalisation)",
                        arch, pos, buf);
}

void net_free(net *n) {
    if (!n) return;
    for (uint32_t i = 0; n->layers && i < n->n_layers; i++) free(n->layers[i].theta_c);
    free(n->layers);
    free(n->params);
    free(n->stats);
    free(n);
}

uint32_t net_n_spiking(const net *n) {
    uint32_t k = 0;
    for (uint32_t i = 0; i < n->n_layers; i++) k += n->layers[i].kind != NET_POOL;
    return k;
}

#define FAIL(code, ...) do { *err = evsnn_seterr(code, __VA_ARGS__); goto fail; } while (0)

/* a·b·c in 64 bits, saturating (sizes come from files too, each up to 2^32). */
static uint64_t vol3(uint64_t a, uint64_t b, uint64_t c) {
    if (a && b > UINT64_MAX / a) return UINT64_MAX;
    a *= b;
    return a && c > UINT64_MAX / a ? UINT64_MAX : a * c;
}

net *net_build(const char *arch, uint32_t c, uint32_t h, uint32_t w, const net_opts *o, int *err) {
    net_opts defo = {0};
    neuron_cfg defn = net_default_neuron();
    if (!o) o = &defo;
    token *tok = NULL;
    net *n = calloc(1, sizeof *n);
    if (!n) { *err = evsnn_seterr(EVSNN_ENOMEM, "no memory for the network"); return NULL; }
    if (!arch || !*arch) FAIL(EVSNN_EFORMAT, "architecture is empty: expected e.g. 700-3000-20 or 16C5-AP2-64C5-AP2-1024-10");
    if (strlen(arch) >= sizeof n->arch) FAIL(EVSNN_EFORMAT, "architecture string longer than %zu characters", sizeof n->arch - 1);
    strcpy(n->arch, arch);

    /* Tokenise. */
    size_t cap = 1;
    for (const char *p = arch; *p; p++) cap += *p == '-';
    tok = calloc(cap, sizeof *tok);
    n->layers = calloc(cap, sizeof *n->layers);
    if (!tok || !n->layers) FAIL(EVSNN_ENOMEM, "no memory for the network");
    size_t nt = 0;
    for (const char *p = arch;;) {
        const char *q = strchr(p, '-');
        size_t len = q ? (size_t)(q - p) : strlen(p);
        if ((*err = parse_token(p, len, &tok[nt], (unsigned)nt + 1, arch))) goto fail;
        nt++;
        if (!q) break;
        p = q + 1;
    }

    /* Input shape: given, or the first number of a dense architecture. */
    size_t ti = 0;
    if (c == 0) {
        if (tok[0].kind != TOK_NUM)
            FAIL(EVSNN_ESHAPE, "architecture '%s' starts with '%s': give the input shape (e.g. --input 2x32x32)", arch, tok[0].text);
        c = tok[0].a; h = w = 1;
    }
    n->in_c = c; n->in_h = h; n->in_w = w;
    if (vol3(c, h, w) > NET_MAX_VALUES)
        FAIL(EVSNN_ERANGE, "architecture '%s': the input shape %ux%ux%u has %llu values, above the limit of %llu (2^31)",
             arch, c, h, w, (unsigned long long)vol3(c, h, w), (unsigned long long)NET_MAX_VALUES);
    n->n_in = c * h * w;
    if (tok[0].kind == TOK_NUM) {
        if (tok[0].a != n->n_in)
            FAIL(EVSNN_ESHAPE, "architecture '%s': token 1 '%s' is the input size, but the input shape %ux%ux%u has %u values: it should be %u",
                 arch, tok[0].text, c, h, w, n->n_in, n->n_in);
        ti = 1;
        c = n->n_in; h = w = 1; /* a dense net sees the input flat */
    }
    if (ti == nt) FAIL(EVSNN_EFORMAT, "architecture '%s' has no layers after the input", arch);

    uint32_t nl = 0, nspk = 0;
    int spatial = h > 1 || w > 1 || (ti == 0);
    size_t off = 0;
    for (; ti < nt; ti++) {
        token *t = &tok[ti];
        net_layer *L = &n->layers[nl];
        unsigned pos = (unsigned)ti + 1;
        if (t->kind == TOK_BN) {
            net_layer *P = nl ? &n->layers[nl - 1] : NULL;
            if (!P || P->kind == NET_POOL)
                FAIL(EVSNN_ESHAPE, "architecture '%s': token %u 'BN': batch normalisation must follow a convolution "
                     "(and its pooling of currents) or a dense layer", arch, pos);
            if (P->bn) FAIL(EVSNN_ESHAPE, "architecture '%s': token %u 'BN': two in a row", arch, pos);
            P->bn = 1;
            P->bn_momentum = NET_BN_MOMENTUM;
            continue; /* no new layer: the currents of the one before are normalised */
        }
        L->in_c = c; L->in_h = h; L->in_w = w; L->n_in = c * h * w;
        if (t->kind == TOK_CONV) {
            if (!spatial) FAIL(EVSNN_ESHAPE, "architecture '%s': token %u '%s': a convolution cannot follow a dense layer", arch, pos, t->text);
            uint32_t pad = o->same_pad ? t->b / 2 : 0;
            if (t->b > h + 2 * pad || t->b > w + 2 * pad)
                FAIL(EVSNN_ESHAPE, "architecture '%s': token %u '%s': kernel %u is larger than the %ux%u input map", arch, pos, t->text, t->b, h, w);
            L->kind = NET_CONV;
            L->k = t->b; L->pad = pad;
            L->conv_h = h + 2 * pad - t->b + 1;
            L->conv_w = w + 2 * pad - t->b + 1;
            L->out_c = t->a; L->out_h = L->conv_h; L->out_w = L->conv_w;
            L->n_w = (size_t)t->a * c * t->b * t->b;
            snprintf(L->name, sizeof L->name, "conv%u", nspk + 1);
        } else if (t->kind == TOK_POOL) {
            if (!spatial || nl == 0 || (n->layers[nl - 1].kind != NET_CONV))
                FAIL(EVSNN_ESHAPE, "architecture '%s': token %u '%s': pooling must follow a convolution", arch, pos, t->text);
            if (n->layers[nl - 1].bn)
                FAIL(EVSNN_ESHAPE, "architecture '%s': token %u '%s': pooling comes before BN (conv-pool-BN, as seed 004)",
                     arch, pos, t->text);
            if (t->a > h || t->a > w)
                FAIL(EVSNN_ESHAPE, "architecture '%s': token %u '%s': window %u is larger than the %ux%u map", arch, pos, t->text, t->a, h, w);
            if (o->pool_on == POOL_ON_CURRENTS) {
                net_layer *P = &n->layers[nl - 1];
                if (P->pool != POOL_NONE)
                    FAIL(EVSNN_ESHAPE, "architecture '%s': token %u '%s': two poolings in a row", arch, pos, t->text);
                P->pool = t->pool; P->pool_k = t->a;
                P->out_h = P->conv_h / t->a; P->out_w = P->conv_w / t->a; /* floor, as PyTorch */
                P->n_out = P->out_c * P->out_h * P->out_w;
                h = P->out_h; w = P->out_w;
                continue; /* no new layer */
            }
            if (n->layers[nl - 1].kind == NET_POOL)
                FAIL(EVSNN_ESHAPE, "architecture '%s': token %u '%s': two poolings in a row", arch, pos, t->text);
            L->kind = NET_POOL;
            L->pool = t->pool; L->pool_k = t->a;
            L->spool = t->pool == POOL_MAX ? SPOOL_OR : o->spool;
            L->out_c = c; L->out_h = h / t->a; L->out_w = w / t->a;
            snprintf(L->name, sizeof L->name, "pool%u", nspk);
        } else { /* a number */
            uint32_t flat = c * h * w;
            if (spatial) {
                uint32_t pc = c, ph = h, pw = w;
                spatial = 0;
                c = flat; h = w = 1;
                L->in_c = flat; L->in_h = L->in_w = 1;
                if (t->a == flat) {
                    if (ti + 1 == nt)
                        FAIL(EVSNN_ESHAPE, "architecture '%s': token %u '%s' is the flatten size; a dense layer must follow it", arch, pos, t->text);
                    continue; /* flatten marker: "…-AP2-1024-10" is Linear(1024, 10) */
                }
                if (ti + 1 < nt)
                    /* "…-MP2-256-10" with 256 != flatten size: a hidden layer of 256. The
                     * notation is ambiguous here, so say how it was read. */
                    snprintf(n->note, sizeof n->note,
                             "'%s' is not the flatten size %u (%ux%ux%u): read as a hidden dense layer "
                             "of %u neurons; write %u-%s-... to make that explicit",
                             t->text, flat, pc, ph, pw, t->a, flat, t->text);
            }
            L->kind = NET_DENSE;
            L->out_c = t->a; L->out_h = L->out_w = 1;
            L->n_w = (size_t)L->n_in * t->a;
            snprintf(L->name, sizeof L->name, "fc%u", nspk + 1);
        }
        if (L->kind != NET_POOL) {
            neuron_cfg nc = o->n_cfg ? o->cfg[nspk < o->n_cfg ? nspk : o->n_cfg - 1] : defn;
            char where[64];
            snprintf(where, sizeof where, "layer %s ('%s')", L->name, t->text);
            if ((*err = net_check_neuron(&nc, where))) goto fail;
            L->nc = nc;
            L->n_b = nc.bias ? L->out_c : 0;
            L->w_off = off; off += L->n_w;
            L->b_off = off; off += L->n_b;
            nspk++;
        }
        if (vol3(L->out_c, L->out_h, L->out_w) > NET_MAX_VALUES)
            FAIL(EVSNN_ERANGE, "architecture '%s': token %u '%s' makes %ux%ux%u = %llu outputs, above the limit of %llu (2^31)",
                 arch, pos, t->text, L->out_c, L->out_h, L->out_w, (unsigned long long)vol3(L->out_c, L->out_h, L->out_w),
                 (unsigned long long)NET_MAX_VALUES);
        L->n_out = L->out_c * L->out_h * L->out_w;
        if (L->n_out == 0)
            FAIL(EVSNN_ESHAPE, "architecture '%s': token %u '%s' leaves an empty output", arch, pos, t->text);
        c = L->out_c; h = L->out_h; w = L->out_w;
        nl++;
    }
    if (nl == 0 || n->layers[nl - 1].kind != NET_DENSE)
        FAIL(EVSNN_ESHAPE, "architecture '%s': the last layer must be dense (a number), e.g. ...-10", arch);
    n->n_layers = nl;
    size_t nst = 0;
    for (uint32_t i = 0; i < nl; i++) { /* BN scales and shifts after all weights and biases */
        net_layer *L = &n->layers[i];
        if (!L->bn) continue;
        L->bng_off = off; off += L->out_c;
        L->bnb_off = off; off += L->out_c;
        nst += 2 * (size_t)L->out_c;
    }
    n->n_params = off;
    n->params = calloc(off ? off : 1, sizeof *n->params);
    if (!n->params) FAIL(EVSNN_ENOMEM, "no memory for %zu parameters", off);
    if (nst && !(n->stats = malloc(nst * sizeof *n->stats))) FAIL(EVSNN_ENOMEM, "no memory for %zu statistics", nst);
    n->n_stats = nst;
    for (uint32_t i = 0, so = 0; i < nl; i++) {
        net_layer *L = &n->layers[i];
        if (L->kind == NET_POOL) continue;
        L->w = n->params + L->w_off;
        L->b = L->n_b ? n->params + L->b_off : NULL;
        if (!L->bn) continue;
        L->bn_g = n->params + L->bng_off;
        L->bn_b = n->params + L->bnb_off;
        L->bn_mean = n->stats + so; so += L->out_c;
        L->bn_var = n->stats + so; so += L->out_c;
        for (uint32_t ch = 0; ch < L->out_c; ch++) { /* PyTorch's start: γ 1, β 0, mean 0, var 1 */
            L->bn_g[ch] = 1.0f;
            L->bn_mean[ch] = 0.0f;
            L->bn_var[ch] = 1.0f;
        }
    }
    free(tok);
    *err = 0;
    return n;
fail:
    free(tok);
    net_free(n);
    return NULL;
}

/* Weights U(−a, a) per layer, seeded: a = 1/√fan_in with biases drawn alike (PyTorch's
 * default), or Glorot's a = √(1.5/(fan_in + fan_out)) with biases zero. */
static void init_uniform(net *n, uint64_t seed, int glorot) {
    rng *r = rng_create(seed);
    if (!r) return;
    for (uint32_t i = 0; i < n->n_layers; i++) {
        net_layer *L = &n->layers[i];
        if (L->kind == NET_POOL) continue;
        /* PyTorch's default for nn.Linear / nn.Conv2d: kaiming_uniform_(a=√5) gives
         * U(−1/√fan_in, 1/√fan_in) for the weights, and the bias uses the same bound. */
        const double kk = L->kind == NET_DENSE ? 1.0 : (double)L->k * L->k;
        const double fan_in = L->kind == NET_DENSE ? (double)L->n_in : L->in_c * kk,
                     fan_out = L->kind == NET_DENSE ? (double)L->n_out : L->out_c * kk;
        const double bound = glorot ? sqrt(1.5 / (fan_in + fan_out)) : 1.0 / sqrt(fan_in);
        for (size_t j = 0; j < L->n_w; j++) L->w[j] = (float)rng_uniform_range(r, -bound, bound);
        for (size_t j = 0; j < L->n_b; j++) L->b[j] = glorot ? 0.0f : (float)rng_uniform_range(r, -bound, bound);
    }
    rng_free(r);
}

void net_init_params(net *n, uint64_t seed) { init_uniform(n, seed, 0); }

void net_init_glorot(net *n, uint64_t seed) { init_uniform(n, seed, 1); }

void net_describe(const net *n, char *buf, size_t len) {
    size_t u = 0;
    u += (size_t)snprintf(buf + u, u < len ? len - u : 0, "input %ux%ux%u", n->in_c, n->in_h, n->in_w);
    static const char *pn[] = {"", "avg", "max", "sum"};
    for (uint32_t i = 0; i < n->n_layers && u < len; i++) {
        const net_layer *L = &n->layers[i];
        switch (L->kind) {
        case NET_DENSE:
            u += (size_t)snprintf(buf + u, len - u, " | %s dense %u->%u%s", L->name, L->n_in, L->n_out, L->bn ? " bn" : "");
            break;
        case NET_CONV:
            u += (size_t)snprintf(buf + u, len - u, " | %s conv %uC%u%s %ux%ux%u->%ux%ux%u", L->name, L->out_c, L->k,
                                  L->pad ? " same" : "", L->in_c, L->in_h, L->in_w, L->out_c, L->conv_h, L->conv_w);
            if (L->pool)
                u += (size_t)snprintf(buf + u, u < len ? len - u : 0, " %spool%u(currents)->%ux%ux%u", pn[L->pool], L->pool_k,
                                      L->out_c, L->out_h, L->out_w);
            if (L->bn) u += (size_t)snprintf(buf + u, u < len ? len - u : 0, " bn");
            break;
        case NET_POOL:
            u += (size_t)snprintf(buf + u, len - u, " | %s %spool%u(spikes, %s) ->%ux%ux%u", L->name, pn[L->pool], L->pool_k,
                                  L->spool == SPOOL_OR ? "or" : "sum", L->out_c, L->out_h, L->out_w);
            break;
        }
    }
}
