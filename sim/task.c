/* sim/task.c — the built-in synthetic task (see task.h). */
#include "task.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evsnn.h"
#include "rng.h"

task_cfg task_defaults(uint32_t n_in) {
    return (task_cfg){.classes = 4, .n_train = 512, .n_test = 256, .T = 25, .n_in = n_in, .p_hi = 0.2f,
                       .p_lo = 0.05f, .seed = 1};
}

int task_parse(task_cfg *c, const char *spec) {
    if (strncmp(spec, "synth", 5) || (spec[5] && spec[5] != ':'))
        return evsnn_seterr(EVSNN_EINVAL, "data '%s': expected synth[:key=value,...]", spec);
    if (!spec[5]) return 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", spec + 6);
    char *save = NULL;
    for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) return evsnn_seterr(EVSNN_EINVAL, "data '%s': '%s' is not key=value", spec, kv);
        *eq = '\0';
        char *end;
        errno = 0;
        const double v = strtod(eq + 1, &end);
        if (!eq[1] || *end || errno || !isfinite(v) || v < 0)
            return evsnn_seterr(EVSNN_EINVAL, "data '%s': %s='%s' is not a non-negative number", spec, kv, eq + 1);
        if (!strcmp(kv, "classes") && v >= 2 && v <= 1000) c->classes = (uint32_t)v;
        else if (!strcmp(kv, "train") && v >= 1 && v <= 1e7) c->n_train = (uint32_t)v;
        else if (!strcmp(kv, "test") && v >= 1 && v <= 1e7) c->n_test = (uint32_t)v;
        else if (!strcmp(kv, "T") && v >= 1 && v <= 100000) c->T = (uint32_t)v;
        else if (!strcmp(kv, "hi") && v <= 1) c->p_hi = (float)v;
        else if (!strcmp(kv, "lo") && v <= 1) c->p_lo = (float)v;
        else if (!strcmp(kv, "seed") && v < 18446744073709551616.0) c->seed = (uint64_t)v; /* < 2^64: the cast is defined */
        else
            return evsnn_seterr(EVSNN_EINVAL,
                                "data '%s': %s=%s unknown or out of range (classes 2..1000, train/test ≥ 1, "
                                "T 1..100000, hi/lo in [0, 1], seed < 2^64)", spec, kv, eq + 1);
    }
    return 0;
}

int task_sample(spk_train *s, uint32_t *label, const task_cfg *c, uint64_t k) {
    const uint32_t y = (uint32_t)(k % c->classes);
    int rc = spk_init(s, c->T, c->n_in, 0);
    if (rc) return rc;
    rng *r = rng_create(rng_stream(c->seed, k + 1));
    if (!r) return evsnn_seterr(EVSNN_ENOMEM, "synthetic data: no memory");
    for (uint32_t t = 0; t < c->T && !rc; t++)
        for (uint32_t i = 0; i < c->n_in && !rc; i++) {
            const uint32_t pc = (uint32_t)(rng_stream(c->seed, 0x9e3779b97f4a7c15ull ^ i) % c->classes);
            if (rng_uniform(r) < (pc == y ? c->p_hi : c->p_lo)) rc = spk_push(s, t, i, 1.0f);
        }
    rng_free(r);
    if (!rc) rc = spk_close(s, 0);
    *label = y;
    return rc;
}
