/* apps/traindata.h — labelled samples for `evsnn train` and `evsnn eval`, held in memory.
 *
 * Today one source: the built-in synthetic task (sim/task.h), named "synth[:key=value,...]".
 * The dataset readers (io/dataset.h) plug in here: a spec that names a file goes to them. */
#ifndef EVSNN_APPS_TRAINDATA_H
#define EVSNN_APPS_TRAINDATA_H

#include <stdint.h>

#include "sim/engine.h"

typedef struct {
    uint32_t n, T, classes;
    spk_train *x;    /* [n] */
    uint32_t *y;     /* [n] */
    sim_input *in;   /* [n] pointing into x */
} tdata;

/* Load the train and test splits of `spec` for a network with n_in inputs; steps > 0
 * overrides the source's T. 0 or a negative EVSNN_E* with the message set. */
int tdata_load(tdata *train, tdata *test, const char *spec, uint32_t n_in, uint32_t steps);
void tdata_free(tdata *d); /* safe on a zeroed struct */

#endif
