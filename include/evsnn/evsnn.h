/* evsnn/evsnn.h — the evsnn C library in one include (LIBRARY.md).
 *
 * Build against the installed tree with `pkg-config --cflags --libs evsnn` (shared
 * libevsnn.so.0) or `pkg-config --static --cflags --libs evsnn` (libevsnn.a). Each module
 * keeps its own header under include/evsnn/<module>/ and documents its contract in its
 * first paragraph; this file only gathers them.
 *
 * Names. Every module has one prefix, and the library reserves them all: a program that
 * links libevsnn must not define functions, variables or types that begin with one of the
 * prefixes below (lower case), nor macros or enumerators that begin with the same prefix in
 * upper case (NET_DENSE, DS_SPLIT_TEST, EVSNN_EINVAL, ...). The list is checked against the
 * symbols libevsnn.so exports by tests/test_install.sh; a new module adds its prefix here.
 *
 * Reserved prefixes: a4_ bn_ bwd_ ckpt_ comm_ conv_ ds_ evq_ evsnn_ h5u_ hw_ lcfg_ lif_ live_ loss_ matvec_ model_ net_ nir_ optim_ pool_ rd_ ref_ replace_ rng_ scatter_ sg_ sim_ spk_ study_ sum_ synth_ task_ tf_ tpe_ trace_ train_ trainer_
 * Reserved names: transpose
 * (a kernel without a module prefix yet; it is to move under one)
 *
 * Errors: every call that can fail returns a negative EVSNN_E* code (or NULL with *err
 * set) and leaves a one-line message naming the file, field or offset in evsnn_errmsg(),
 * per thread; the library never prints and never exits.
 *
 * Stability: version 0.x; the soname's major number (libevsnn.so.0) changes when a public
 * struct or signature does. */
#ifndef EVSNN_EVSNN_H
#define EVSNN_EVSNN_H

#include "sim/evsnn.h"  /* error codes, evsnn_errmsg */
#include "sim/spk.h"    /* spk_train: CSR spike trains (off[T+1], idx, val) */
#include "sim/net.h"    /* net, net_layer, net_build: architectures and parameters */
#include "sim/engine.h" /* sim_create, sim_run, sim_run_batch, sim_result */
#include "sim/rng.h"    /* seeded streams (GSL) */
#include "sim/synth.h"  /* synthetic Bernoulli / uniform inputs */
#include "sim/task.h"   /* the built-in synthetic classification task */
#include "sim/train.h"  /* trainer: BPTT with surrogate gradients, optimizers */
#include "io/dataset.h" /* ds_open, ds_get: every dataset format, transforms, encodings */
#include "io/model.h"   /* model_load, model_save: model files (HDF5) */
#include "io/checkpoint.h"
#include "io/trace.h"   /* recorded event traces for the accelerator model */
#include "hw/hw.h"      /* the accelerator cycle model */

#endif
