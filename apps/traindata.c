/* apps/traindata.c — training data in memory (see traindata.h). */
#include "apps/traindata.h"

#include <stdlib.h>
#include <string.h>

#include "sim/evsnn.h"
#include "sim/task.h"

static int alloc_split(tdata *d, uint32_t n, uint32_t T, uint32_t classes) {
    memset(d, 0, sizeof *d);
    d->n = n;
    d->T = T;
    d->classes = classes;
    d->x = calloc(n, sizeof *d->x);
    d->y = calloc(n, sizeof *d->y);
    d->in = calloc(n, sizeof *d->in);
    if (!d->x || !d->y || !d->in) return evsnn_seterr(EVSNN_ENOMEM, "data: no memory for %u samples", n);
    return 0;
}

int tdata_load(tdata *train, tdata *test, const char *spec, uint32_t n_in, uint32_t steps) {
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (strncmp(spec, "synth", 5) != 0)
        return evsnn_seterr(EVSNN_EINVAL,
                            "data '%s': this build reads only the built-in synthetic task "
                            "(synth[:classes=4,train=512,test=256,T=25,hi=0.2,lo=0.05,seed=1])", spec);
    task_cfg c = task_defaults(n_in);
    int rc = task_parse(&c, spec);
    if (rc) return rc;
    if (steps) c.T = steps;
    tdata *sp[2] = {train, test};
    const uint32_t cnt[2] = {c.n_train, c.n_test};
    for (int s = 0; s < 2; s++) {
        tdata *d = sp[s];
        if ((rc = alloc_split(d, cnt[s], c.T, c.classes))) return rc;
        const uint64_t base = s == 0 ? 0 : c.n_train;
        for (uint32_t i = 0; i < d->n; i++) {
            if ((rc = task_sample(&d->x[i], &d->y[i], &c, base + i))) return rc;
            d->in[i] = (sim_input){.train = &d->x[i], .T = c.T};
        }
    }
    return 0;
}

void tdata_free(tdata *d) {
    if (d->x)
        for (uint32_t i = 0; i < d->n; i++) spk_deinit(&d->x[i]);
    free(d->x);
    free(d->y);
    free(d->in);
    memset(d, 0, sizeof *d);
}
