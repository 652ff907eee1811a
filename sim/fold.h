/* sim/fold.h — batch normalisation folded away for inference.
 *
 * At evaluation a BN layer's currents go through a fixed per-channel affine map,
 * y = a·I + sh with a = γ/√(running var + eps) and sh = β − a·(running mean), so the
 * event-driven engine needs no batch: net_fold_bn returns a new network (the caller frees
 * it) without BN whose neurons see the same currents up to rounding, two ways:
 *   FOLD_WEIGHTS     weights of channel c times a_c, bias a_c·b + sh_c (per unit of bias gain):
 *                    thresholds and membranes as in the unfolded network (float networks);
 *   FOLD_THRESHOLDS  the membrane equation divided by |a_c|, which changes no spike: weights
 *                    times sign(a_c) (so ±1 weights stay ±1, as an accelerator wants them),
 *                    bias sign(a_c)·b + sh_c/|a_c|, per-channel threshold θ/|a_c|; recorded
 *                    membranes are the unfolded ones divided by |a_c| (binarized networks).
 * A channel with a = 0 (γ = 0) receives the constant sh: its weights become 0. The engine
 * refuses unfolded BN layers (sim_run_layer). */
#ifndef EVSNN_FOLD_H
#define EVSNN_FOLD_H

#include "net.h"

typedef enum { FOLD_WEIGHTS, FOLD_THRESHOLDS } fold_mode;

int net_has_bn(const net *n);
net *net_fold_bn(const net *n, fold_mode mode, int *err); /* NULL with *err on failure */

#endif
