/* sim/net.h — a spiking network: layers, shapes, neuron settings and parameters.
 *
 * Built from the papers' notation plus an input shape (README "Network notation"):
 *   700-3000-20                 dense: input 700, hidden 3000, output 20
 *   16C5-AP2-64C5-AP2-1024-10   on 1x28x28: conv 16 5x5, avg pool 2, conv 64 5x5, avg pool 2,
 *                               flatten (1024 = 64x4x4, checked), dense 10
 *   32C3-P2-32C3-MP2-256-10     on 3x32x32: P and MP are max pooling; 256 is not the flatten
 *                               size (1152) so it is a hidden dense layer
 * A "spiking layer" is a synapse op (dense or conv) whose currents may be pooled (pooling on
 * currents, as the papers' training code does) and then drive LIF neurons. With pooling on
 * spikes, the conv layer's neurons sit at full resolution and a NET_POOL layer (no neurons)
 * pools their output spikes by OR or sum, as the SNN-DSE RTL does.
 *
 * Batch normalisation is a token after a spiking layer (and its pooling of currents):
 *   16C5-AP2-BN-64C5-AP2-BN-1024-10  conv → avg pool → BN → LIF, twice (seed 004's code)
 *   784-512-BN-10                     dense → BN → LIF (BatchNorm1d over the batch)
 *
 * Layout of parameters (one allocation, net->params, carved per layer):
 *   dense weight [n_in, n_out] row-major: the row of an input is what its spike reads
 *   conv  weight [out_c, in_c, k, k] (PyTorch's layout)
 *   bias  [out_c] (dense: out_c = n_out)
 *   then, for each BN layer in order, γ [out_c] and β [out_c]
 * Channels of image-like tensors are numbered c·H·W + y·W + x (PyTorch's flatten order). */
#ifndef EVSNN_NET_H
#define EVSNN_NET_H

#include <stddef.h>
#include <stdint.h>

#include "rng.h"

typedef enum { NET_DENSE, NET_CONV, NET_POOL } net_kind;
typedef enum { POOL_NONE, POOL_AVG, POOL_MAX, POOL_SUM } pool_kind;
typedef enum { POOL_ON_CURRENTS, POOL_ON_SPIKES } pool_on;
typedef enum { SPOOL_OR, SPOOL_SUM } spike_pool; /* how spikes are pooled (NET_POOL) */

/* Reset rules (DESIGN §2). R[t] = H(u[t-1] − θ), detached.
 *   RESET_SUBTRACT  u = βu + I − Rθ            snnTorch ≥ 0.8 default
 *   RESET_ZERO      u = β(1−R)u + I            keeps the new input
 *   RESET_NONE      u = βu + I
 *   RESET_SUBTRACT_PRE  u = β(u − Rθ) + I      snnTorch 0.5–0.7
 *   RESET_ZERO_DROP     u = (1−R)(βu + I)      snnTorch 0.4 (drops the input too)
 * I includes the bias. */
typedef enum { RESET_SUBTRACT, RESET_ZERO, RESET_NONE, RESET_SUBTRACT_PRE, RESET_ZERO_DROP } reset_mode;
typedef enum { CMP_GT, CMP_GE } cmp_mode; /* spike when u > θ (default) or u >= θ */

typedef struct {
    float beta, theta;
    reset_mode reset;
    cmp_mode cmp;
    int bias;          /* 1: layer has a bias */
} neuron_cfg;

typedef struct net_layer {
    net_kind kind;
    /* input tensor (C, H, W); dense: (n_in, 1, 1) */
    uint32_t in_c, in_h, in_w, n_in;
    /* output tensor (after current pooling), the neurons (NET_POOL: pooled spikes) */
    uint32_t out_c, out_h, out_w, n_out;
    /* conv: kernel, padding (0 = valid, k/2 = same), output before current pooling */
    uint32_t k, pad, conv_h, conv_w;
    /* pooling: for NET_CONV/NET_DENSE the pooling of currents (POOL_NONE if none); for
     * NET_POOL the pooling of spikes (pool_k window and stride, spool OR or SUM) */
    pool_kind pool;
    uint32_t pool_k;
    spike_pool spool;
    neuron_cfg nc;     /* unused for NET_POOL */
    float *w, *b;      /* into net->params; b NULL without bias; NULL for NET_POOL */
    size_t w_off, b_off, n_w, n_b;
    /* Batch normalisation of the (pooled) currents before the neurons ("BN" token): per
     * channel y = γ·(I − μ)/√(σ² + eps) + β, with the batch's statistics in training and the
     * running ones (eps 1e-5, as PyTorch) otherwise. γ, β are parameters (into net->params);
     * the running mean and variance are state (into net->stats), moved by bn_momentum (PyTorch's
     * momentum: 0.1 unless set) at every training step. */
    int bn;
    float bn_momentum;
    float *bn_g, *bn_b, *bn_mean, *bn_var; /* [out_c] each, NULL without BN */
    size_t bng_off, bnb_off;                /* γ and β in params */
    /* Per-channel thresholds (BN folded for inference, sim/fold.h), or NULL: nc.theta for
     * every neuron. [out_c], owned by the network. */
    float *theta_c;
    char name[32];     /* "conv1", "pool1", "fc2", ... */
} net_layer;

#define NET_BN_MOMENTUM 0.1f
#define NET_BN_EPS 1e-5f

typedef struct net {
    char arch[256];          /* architecture string as given */
    uint32_t in_c, in_h, in_w, n_in;
    uint32_t n_layers;
    net_layer *layers;
    float *params;           /* one allocation: all weights and biases, then the BN scales and shifts */
    size_t n_params;
    float *stats;            /* BN running means and variances, [n_stats] (NULL without BN) */
    size_t n_stats;
    char note[256];          /* how an ambiguous token was read ("" if none), for the user */
} net;

/* Options for net_build, per spiking layer (index = spiking layer number, NET_POOL layers
 * not counted). Arrays of length n_cfg; a shorter list repeats its last entry. */
typedef struct {
    const neuron_cfg *cfg;
    uint32_t n_cfg;
    pool_on pool_on;      /* default POOL_ON_CURRENTS */
    spike_pool spool;     /* with POOL_ON_SPIKES: OR (default) or SUM */
    int same_pad;         /* conv padding: 0 valid (default), 1 same */
} net_opts;

/* Default neuron: β = 0.95, θ = 1, subtract, >, bias on. */
neuron_cfg net_default_neuron(void);

/* Largest tensor a layer or the input may have, in values (neurons, channels): channel ids
 * are uint32 everywhere, and 2^31 keeps every index and count well inside that. Products
 * of sizes are checked in 64 bits against it. */
#define NET_MAX_VALUES (1ull << 31)

/* Parse an input shape "700", "2x32x32", "1x28x28" (also "2,32,32"): C ≤ 2^24, H, W ≤ 65536,
 * C·H·W ≤ NET_MAX_VALUES; each limit is named when exceeded. */
int net_parse_shape(const char *s, uint32_t *c, uint32_t *h, uint32_t *w);

/* Parse `arch` on input shape (c,h,w), validate, allocate parameters (zeroed).
 * On failure returns NULL with *err set to a negative code and the message naming the
 * token and what was expected. Free with net_free. */
net *net_build(const char *arch, uint32_t c, uint32_t h, uint32_t w, const net_opts *o, int *err);
void net_free(net *n);

/* Check neuron settings: β in [0,1], θ > 0 and finite. 0 or EVSNN_EINVAL naming the layer. */
int net_check_neuron(const neuron_cfg *nc, const char *where);

/* PyTorch default initialisation (kaiming_uniform with a = √5, i.e. U(−1/√fan_in, 1/√fan_in)
 * for weights and biases of nn.Linear and nn.Conv2d), seeded. */
void net_init_params(net *n, uint64_t seed);

/* Glorot (Xavier) uniform as seed 004's published BinaryConnect layers reset theirs:
 * U(−a, a) with a = √(1.5 / (fan_in + fan_out)), fan_in = in_c·k² and fan_out = out_c·k² for
 * a conv, n_in and n_out for a dense layer; biases zero. Seeded like net_init_params. */
void net_init_glorot(net *n, uint64_t seed);

/* Number of spiking layers (those with neurons). */
uint32_t net_n_spiking(const net *n);

/* Size of the network's output (last layer's n_out). */
static inline uint32_t net_n_out(const net *n) { return n->layers[n->n_layers - 1].n_out; }

/* Human-readable one-line summary of the layers, e.g. for --help output and logs. */
void net_describe(const net *n, char *buf, size_t len);

const char *net_reset_name(reset_mode r);
int net_reset_parse(const char *s, reset_mode *r);

#endif
