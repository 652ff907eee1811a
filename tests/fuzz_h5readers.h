/* tests/fuzz_h5readers.h — every HDF5 reader of evsnn on one file, for the HDF5 harnesses
 * (fuzz_h5file: valid files mutated byte by byte; fuzz_h5struct: files written through the
 * HDF5 library with odd shapes, types and attributes): dataset detection and every sample
 * (SHD/SSC, DVS128 Gesture HDF5, evsnn event files), model files, checkpoints and traces.
 * Each must load or fail with a negative EVSNN_E* code; what loads must be consistent. */
#ifndef EVSNN_FUZZ_H5READERS_H
#define EVSNN_FUZZ_H5READERS_H

#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

#include "io/checkpoint.h"
#include "io/model.h"
#include "io/trace.h"
#include "sim/evsnn.h"
#include "tests/fuzz_util.h"

static void fuzz_h5_all(const char *path) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    int err = 0;
    fuzz_ds_read(path, 4);
    net *n = model_load(path, NULL, &err);
    if (n) {
        for (size_t i = 0; i < n->n_params; i++)
            if (n->params[i] != n->params[i]) abort(); /* NaN must have been refused */
        net_free(n);
    } else if (err >= 0) abort();
    ckpt c;
    int rc = ckpt_load(path, &c);
    if (rc > 0) abort();
    if (!rc) {
        net *m = ckpt_to_net(&c, &err);
        net_free(m);
        ckpt_free(&c);
    }
    trace_reader *t = trace_open(path, &err);
    if (t) {
        const net *tn = trace_net(t);
        spk_train in, *layers = calloc(tn->n_layers, sizeof *layers);
        for (uint32_t i = 0; layers && i < trace_len(t) && i < 2; i++) {
            int label;
            memset(&in, 0, sizeof in);
            memset(layers, 0, tn->n_layers * sizeof *layers);
            if (trace_read(t, i, &in, layers, &label) > 0) abort();
            spk_deinit(&in);
            for (uint32_t l = 0; l < tn->n_layers; l++) spk_deinit(&layers[l]);
        }
        free(layers);
        trace_free(t);
    } else if (err >= 0) abort();
}

#endif
