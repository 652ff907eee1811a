/* io/model.h — model files: a network's architecture, neuron settings and parameters in
 * HDF5 (layout in README "Model file").
 *
 * model_save writes to "<path>.tmp.<pid>" and renames it over path, so a reader never sees
 * a half-written model. model_load rebuilds the network through net_build and checks every
 * dataset's shape against it; a file written by a newer evsnn fails with EVSNN_EVERSION and
 * a hint, a malformed one with EVSNN_EFORMAT naming the object and field. */
#ifndef EVSNN_IO_MODEL_H
#define EVSNN_IO_MODEL_H

#include <stdint.h>

#include "sim/net.h"

/* 1: weights, biases, neuron settings; 2: also batch normalisation (bn_weight, bn_bias,
 * bn_running_mean, bn_running_var per BN layer) and per-channel thresholds. Version 1 files
 * load unchanged (they have neither). */
#define MODEL_FORMAT_VERSION 2

/* What a model file records besides the network itself. */
typedef struct {
    int binarized;        /* weights are used as sign(w) in the forward pass */
    uint32_t steps;       /* T the model was trained or meant to run with (0: unknown) */
    pool_on pool_on;      /* as built */
    spike_pool spool;
    int same_pad;
    char dataset[128];    /* free text: what it was trained on ("" if none) */
} model_meta;

int model_save(const char *path, const net *n, const model_meta *meta);

/* NULL with *err set (message names the file and field) on failure. meta may be NULL. */
net *model_load(const char *path, model_meta *meta, int *err);

#endif
