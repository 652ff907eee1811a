/* sim/engine.h — the event-driven forward engine and its clock-driven reference.
 *
 * sim_run propagates one sample through the network layer by layer (the network is
 * feed-forward, so layer l runs all T steps before layer l+1 starts). Work per step is
 * O(input events × fan-out + touched neurons): an input event scatters one weight row or
 * kernel footprint; a neuron is updated only when it received current, has a pending reset
 * or a scheduled bias-driven crossing is due; between touches its membrane decays lazily
 * (β^Δ tables). The step order is written down in sim/README.md.
 *
 * ref_run is the clock-driven dense engine (u = βu + Wx + b − Rθ for every neuron, every
 * step, no shortcuts). It exists to test sim_run: on exact-arithmetic cases the two agree
 * bit for bit on every membrane and spike.
 *
 * A sim is the per-thread workspace bound to one network (which it reads, never writes);
 * run a batch with one sim per thread, or with sim_run_batch. */
#ifndef EVSNN_ENGINE_H
#define EVSNN_ENGINE_H

#include <stdint.h>

#include "kernels/conv.h"
#include "net.h"
#include "result.h"
#include "spk.h"

/* One sample's input: a spike train over net->n_in channels (binary or graded values),
 * or a static current vector injected identically at every step (direct coding). */
typedef struct {
    const spk_train *train; /* n == net->n_in; T steps */
    const float *static_x;  /* or [n_in], with T below */
    uint32_t T;             /* steps; must equal train->T when train is set */
    uint64_t dropout_seed;  /* training: non-zero turns on the dropout set by sim_set_dropout,
                             * with masks drawn from this seed (0: inference, no dropout) */
} sim_input;

typedef struct sim sim; /* opaque */

/* Workspace for runs of up to T_max steps. NULL with *err set on failure. */
sim *sim_create(const net *n, uint32_t T_max, int *err);
void sim_free(sim *s); /* NULL is fine */

/* Recompute the per-layer constants the workspace derives from the network's β, θ and
 * biases (decay tables, bias gains, first bias-driven crossings) after they changed, e.g.
 * after an optimizer step or threshold annealing. Shapes must not change. */
void sim_refresh(sim *s);

/* Dropout on currents (training). p: [n_layers] drop probability per layer (NULL: off;
 * copied). In a sample whose dropout_seed is non-zero, the whole input current of neuron i
 * of layer l at step t, bias included (as dropout(fc(x)) in PyTorch), is multiplied by
 * sim_dropout_scale(seed, l, t, i, p[l]); such a layer runs all-neuron steps, since every
 * neuron's current is random. The mask is a hash of its coordinates, so the backward
 * recomputes it instead of storing it. */
int sim_set_dropout(sim *s, const float *p);
float sim_dropout_scale(uint64_t seed, uint32_t layer, uint32_t t, uint32_t i, float p); /* 0 or 1/(1−p) */

/* How conv layers choose between sparse steps (touched neurons only) and all-neuron steps:
 * AUTO (default) takes an all-neuron step when the events' footprints add up to at least
 * half the layer; SPARSE and ALL force one path (tests check that both agree). */
enum { SIM_CONV_AUTO, SIM_CONV_SPARSE, SIM_CONV_ALL };
void sim_set_conv_policy(sim *s, int policy);

/* Run one sample; res must come from sim_result_init with the same T (its trains are
 * overwritten). 0, or EVSNN_ESHAPE / EVSNN_EINVAL with a message. */
int sim_run(sim *s, const sim_input *in, sim_result *res);

/* The same, one layer at a time: layer l reads layer l−1's output train from res (l = 0:
 * the input) and writes its own train, statistics and membranes. Running l = 0 .. L−1 in
 * order is sim_run; a trainer runs each layer for every sample of a batch before the next
 * (the weights stay in cache, and batch statistics of a layer have a place). */
int sim_run_layer(sim *s, const sim_input *in, sim_result *res, uint32_t l);

/* Batch normalisation in training needs a layer's currents of the whole batch before its
 * neurons run, so a layer can also run in two halves:
 * sim_layer_currents_all writes the layer's input current at every step, I[t] = the (pooled)
 * synaptic current + bias, what the neurons would receive (cur: [T, n_out]), counting the
 * input and synaptic events into res->st[l]; sim_run_layer_given then drives the neurons with
 * given currents (every neuron every step, kernels/lif.h's rule, dropout on the current as
 * sim_set_dropout says) into res->out[l], ->mem[l] and the rest of res->st[l]. */
int sim_layer_currents_all(sim *s, const sim_input *in, sim_result *res, uint32_t l, float *cur);
int sim_run_layer_given(sim *s, const sim_input *in, const float *cur, sim_result *res, uint32_t l);

/* Run B samples over `threads` threads (0: all cores); results are identical to serial
 * sim_run calls. res[b] initialised by the caller. */
int sim_run_batch(const net *n, const sim_input *in, uint32_t B, sim_result *res, int threads);

/* The clock-driven dense reference engine (tests only). Same result layout. */
int ref_run(const net *n, const sim_input *in, sim_result *res);

/* Dense currents of one spiking layer (NET_DENSE or NET_CONV) for one dense input vector,
 * computed with no shortcut: I = x·W + b, or conv + bias then the pooling of currents.
 * x: [n_in]  cur: [n_out]  full: scratch of out_c·conv_h·conv_w floats (conv). Used by the
 * reference engine and by the trainer's data-dependent initialisation. */
void sim_layer_currents(const net_layer *L, const float *x, float *cur, float *full);

/* The geometry of a conv layer's channels-last scatter (kernels/conv.h): into the pooled map
 * for average/sum pooling of currents, else at full resolution over the pooled cover. The
 * backward uses the same. */
conv_geom sim_conv_geom(const net_layer *L);

/* Check an input against a network (channel count, T). */
int sim_check_input(const net *n, const sim_input *in);

#endif
