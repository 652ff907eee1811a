/* sim/backward.h — backpropagation through time over one sample's recorded forward pass.
 *
 * Input: the network, the sample's input, and the sim_result of sim_run on it: every
 * layer's output train, plus either the membranes [T, n_out] (SIM_RECORD_MEM, dense
 * recording) or nothing more (bwd_cfg.recompute, sparse recording: the membranes are rebuilt
 * per layer from the input and output trains, into a per-thread buffer). Per spiking layer,
 * from the last step back (DESIGN §4, reference/README.md semantics):
 *   δ[t]   = g_s[t]·σ'(u[t] − θ_c) + g_u[t] + β·c[t+1]·δ[t+1]
 *            c = 1 (subtract, none, subtract-pre), 1 − R[t+1] = 1 − s[t] (zero, zero-drop);
 *            the reset itself is detached (no gradient through R)
 *   dI[t]  = δ[t]          (zero-drop: δ[t]·(1 − R[t]), its input is dropped on reset)
 *   ∂W    += dI[t] ⊗ s_in[t]   only rows of inputs that spiked at t
 *   ∂b    += Σ_t dI[t]
 *   g_s_in = Wᵀ dI[t]          only below the last layer that needs it (not for layer 0)
 * Pooling of currents and of spikes sends max-pool gradients to the first maximal element
 * of each window in row-major order (PyTorch); average pooling divides by p².
 * Gradients accumulate (+=) into an array carved exactly like net->params (w_off, b_off).
 * A bwd is a per-thread workspace; it reads the network and never writes it. */
#ifndef EVSNN_BACKWARD_H
#define EVSNN_BACKWARD_H

#include "engine.h"
#include "kernels/surrogate.h"
#include "net.h"

typedef struct bwd bwd; /* opaque workspace */

/* Binds n (read, never written): conv layers' kernels are packed for the fast kernels here,
 * and again by bwd_refresh after the weights changed (an optimizer step). */
bwd *bwd_create(const net *n, uint32_t T_max, int *err);
void bwd_free(bwd *b); /* NULL is fine */
void bwd_refresh(bwd *b);

/* Conv weight gradients are accumulated over the samples in the packed layout of the fast
 * kernels; this folds them into grads (+=, PyTorch's layout) and clears the accumulator. */
void bwd_flush(bwd *b, float *grads);

typedef struct {
    surrogate sg;          /* the same surrogate for every layer */
    const float *theta_c;  /* [n_layers] surrogate centre per layer, or NULL: each layer's θ */
    const float *dropout;  /* [n_layers] dropout of the forward (sim_set_dropout), or NULL; applies to
                            * samples whose sim_input.dropout_seed is non-zero */
    int recompute;         /* 1: sparse recording — rebuild each layer's membranes from its input
                            * and output trains instead of reading res->mem (which may be absent) */
    int defer;             /* 1: bwd_sample leaves the conv weight gradients in the workspace's
                            * packed accumulator for one bwd_flush after many samples */
} bwd_cfg;

/* Accumulate into grads [n_params] the gradient of a loss given by its gradient with
 * respect to the last layer's output spikes g_s [T, n_out] and/or membranes g_u [T, n_out]
 * (either may be NULL). dmem, if not NULL, is [n_layers] pointers to [T, n_out] buffers
 * (NULL entries skipped) that receive the total dL/du of each spiking layer.
 * 0, or EVSNN_EINVAL when res lacks the recorded membranes or T exceeds the workspace. */
int bwd_sample(bwd *b, const net *n, const bwd_cfg *c, const sim_input *in, const sim_result *res,
               const float *g_s, const float *g_u, float *grads, float **dmem);

/* One layer of the same, for layer-at-a-time execution over a batch: reads dL/d(output of
 * layer l) gout [T, n_out] (NULL: none) and, for the last layer, g_u; writes dL/d(input)
 * into gin [T, n_in] (overwritten; NULL or l = 0: not computed); accumulates into grads,
 * except a conv layer's weight gradient, which waits in the workspace for bwd_flush;
 * dmem [T, n_out] (or NULL) as above. bwd_sample runs l = L−1 .. 0 with its own buffers. */
int bwd_layer(bwd *b, const net *n, const bwd_cfg *c, const sim_input *in, const sim_result *res, uint32_t l,
              const float *gout, const float *g_u, float *gin, float *grads, float *dmem);

/* bwd_layer in two halves, for a batch-normalised layer whose current gradient needs the
 * whole batch in between (sim/train.c): bwd_layer_delta writes dL/d(the neurons' input
 * current) dI [T, n_out] (spiking layers only); bwd_layer_input takes such a dI (after the
 * batch normalisation's backward) to the weight, bias and input gradients as bwd_layer. */
int bwd_layer_delta(bwd *b, const net *n, const bwd_cfg *c, const sim_input *in, const sim_result *res, uint32_t l,
                    const float *gout, const float *g_u, float *dI, float *dmem);
int bwd_layer_input(bwd *b, const net *n, const bwd_cfg *c, const sim_input *in, const sim_result *res, uint32_t l,
                    const float *dI, float *gin, float *grads);

#endif
