/* io/checkpoint.h — training checkpoints in HDF5: everything needed to continue a run so
 * that the continuation is bit for bit the uninterrupted run.
 *
 * File layout (version 2; all at the root; strings variable-length UTF-8):
 *   attributes  format = "evsnn-checkpoint", format_version = 2, arch, input_shape [3]
 *               (C, H, W), epoch, step, T, binarized, pool_on, spool, same_pad, config
 *               (free text); version 1 spelt format_version "version" and input_shape
 *               "input" (fixed-length strings) and is still read
 *   every dataset carries `unit` and `axes` attributes saying what it holds
 *   datasets    params [n_params] float32  forward parameters (carved as net->params)
 *               latent [n_params]          latent parameters (binarized training)
 *               opt_m, opt_v [n_params]    optimizer moments (opt_v absent for SGD)
 *               beta, theta [n_layers] float32, reset, cmp [n_layers] int32 (NET_POOL: 0)
 *               rng [rng bytes] uint8      the shuffling generator's raw state
 *               stats [n_stats] float32    batch normalisation's running means and variances
 *                                          (carved as net->stats; only for networks with BN)
 * ckpt_save writes "<path>.tmp.<pid>" and renames it over path: a crash leaves the previous
 * checkpoint intact. ckpt_load checks the version (a newer file fails with EVSNN_EVERSION
 * and a hint) and every size, naming the dataset on EVSNN_EFORMAT. */
#ifndef EVSNN_IO_CHECKPOINT_H
#define EVSNN_IO_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "sim/net.h"

#define CKPT_VERSION 2 /* 2: format_version, input_shape (1: version, input); still read */
#define CKPT_MAX_LAYERS 16

typedef struct {
    char arch[256];
    uint32_t in_c, in_h, in_w;
    uint32_t n_layers;
    float beta[CKPT_MAX_LAYERS], theta[CKPT_MAX_LAYERS];
    int32_t reset[CKPT_MAX_LAYERS], cmp[CKPT_MAX_LAYERS];
    size_t n_params;
    float *params, *latent, *m, *v; /* [n_params]; v may be NULL */
    uint8_t *rng;
    size_t rng_len;
    float *stats;                   /* [n_stats] BN running statistics, or NULL */
    size_t n_stats;
    uint64_t epoch, step;
    uint32_t T;
    int32_t binarized, pool_on, spool, same_pad;
    char config[1024];
} ckpt;

/* Atomic write. The arrays are read, not owned. 0 or EVSNN_EIO naming the path. */
int ckpt_save(const char *path, const ckpt *c);

/* Read into *c (arrays allocated; free with ckpt_free). 0 or EVSNN_EIO / EVSNN_EFORMAT /
 * EVSNN_EVERSION with the path and object named. */
int ckpt_load(const char *path, ckpt *c);
void ckpt_free(ckpt *c); /* frees the arrays; safe on a zeroed struct */

/* Fill the network part of c from n (arch, shape, neuron settings, params pointer). */
void ckpt_from_net(ckpt *c, const net *n);

/* Build the network c describes (parameters and neuron settings restored).
 * NULL with *err set on failure. */
net *ckpt_to_net(const ckpt *c, int *err);

#endif
