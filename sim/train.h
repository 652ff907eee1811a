/* sim/train.h — minibatch training over the event-driven engine (DESIGN §4).
 *
 * A trainer binds a network (whose parameters and thresholds it updates) to a training
 * configuration. One trainer_step on a minibatch does, in this order (seed 004's training
 * loop, as its published code does it):
 *   1. forward every sample with sim_run, recording output trains and membranes
 *   2. loss of each sample (batch mean), its gradient w.r.t. the output
 *   3. backward (sim/backward.h) into per-slot gradient sums
 *   4. reduce the slots in slot order; stop with EVSNN_ENUMERIC (step and layer named,
 *      parameters untouched) on a NaN/Inf loss or gradient
 *   5. gradient-norm clip;  6. weight clip (clamp to [−c, c], before the step, as the
 *      published code);  7. optimizer step on the latent parameters;  8. schedule (the
 *      learning rate is a function of the step count);  9. threshold annealing
 *      θ ← θ + α(θ∞ − θ) per spiking layer;  10. binarized: latent clamp, then the forward
 *      weights become sign(latent) with 0 → +1 (biases stay float)
 * Samples of a batch are split into a fixed number of slots (default 2), each summed in
 * sample order by one thread; slots are reduced in order. Results therefore depend on the
 * slot count, never on the thread count. Nothing here draws random numbers except
 * trainer_shuffle, whose generator state belongs to the checkpoint. */
#ifndef EVSNN_TRAIN_H
#define EVSNN_TRAIN_H

#include "engine.h"
#include "kernels/surrogate.h"
#include "net.h"
#include "optim.h"
#include "rng.h"
#include "tha.h"

#define TRAIN_HIST_BINS 8

typedef enum { LOSS_MSE_COUNT, LOSS_CE_COUNT, LOSS_CE_RATE, LOSS_MEM_MSE } loss_kind;
typedef enum { THA_CENTRE_INITIAL, THA_CENTRE_CURRENT } tha_centre;

typedef struct {
    surrogate sg;
    loss_kind loss;
    double correct_rate, incorrect_rate; /* mse_count targets int(T·rate) (0.8, 0.2): doubles, as in Python */
    opt_cfg opt;
    float grad_clip;    /* max gradient L2 norm (0: off) */
    float weight_clip;  /* clamp every parameter to [−c, c] before the step (0: off) */
    int binarize;       /* forward weights sign(latent), 0 → +1; straight-through gradient */
    float latent_clamp; /* binarized: clamp latent weights to [−c, c] after the step (0: off) */
    /* Threshold annealing per spiking layer; n_tha = 0: off. Shorter lists repeat the last
     * entry. θ starts at θ0. */
    uint32_t n_tha;
    float tha_theta0[TRAIN_MAX_LAYERS], tha_theta_inf[TRAIN_MAX_LAYERS], tha_alpha[TRAIN_MAX_LAYERS];
    tha_centre centre;  /* surrogate centred at θ0 (paper eq. 8) or at the current θ */
    int sparse_record;  /* 1: keep only the spike trains of the forward; the backward rebuilds the
                         * membranes (sim/backward.h); 0: record membranes [T, n] (mem_mse always) */
    /* Dropout on currents per spiking layer during training steps (never in evaluation);
     * n_dropout = 0: off; a shorter list repeats its last entry. See sim_set_dropout. */
    uint32_t n_dropout;
    float dropout[TRAIN_MAX_LAYERS];
    uint32_t slots;     /* gradient partial sums (0: 2) */
    int threads;        /* 0: all cores */
    uint64_t seed;      /* shuffling */
    /* Data-parallel over comm.h's ranks: each rank passes its shard of the minibatch to
     * trainer_step; gradients and loss are summed over ranks (step 4) and every sample is
     * scaled by 1 / (global batch), so ranks step identically and the result equals the
     * one-process run up to the order of the sum. 0: alone (sweeps run trials this way). */
    int data_parallel;
    /* > 0: every BN layer's running-statistics momentum becomes this (PyTorch's momentum, in
     * (0, 1]); 0: the network's own (0.1, or what its model file says). */
    float bn_momentum;
} train_cfg;

/* Threshold annealing from a parsed spec (sim/tha.h): n_tha and the three arrays. */
void train_cfg_set_tha(train_cfg *c, const train_tha *t);

train_cfg train_defaults(void); /* fast_sigmoid k=25, mse_count 0.8/0.2, Adam lr 1e-3 */

typedef struct {
    double loss;        /* batch mean */
    uint32_t n, correct; /* samples and right predictions: this rank's shard under data_parallel */
    double grad_norm;   /* before clipping */
    float lr;           /* used by this step */
    uint32_t n_layers;
    uint64_t spikes[TRAIN_MAX_LAYERS];  /* summed over the batch */
    uint64_t silent[TRAIN_MAX_LAYERS];  /* neuron-samples that never fired */
    uint64_t neurons[TRAIN_MAX_LAYERS]; /* neuron-samples */
    /* per layer, neuron-samples whose spike count in the sample was 0, 1, 2–3, 4–7, 8–15,
     * 16–31, 32–63, ≥ 64 */
    uint64_t hist[TRAIN_MAX_LAYERS][TRAIN_HIST_BINS];
    uint32_t T;
} train_stats;

typedef struct trainer trainer;

/* Binds n (not owned; its params and thresholds are updated). T_max: longest sample.
 * Applies θ0 and, when binarized, keeps the current parameters as the latent weights.
 * NULL with *err set on bad settings (named) or no memory. */
trainer *trainer_create(net *n, const train_cfg *c, uint32_t T_max, int *err);
void trainer_free(trainer *tr); /* NULL is fine */

/* One optimizer step on a minibatch. labels: [B] classes (< n_out) for the count losses;
 * mem_target: [B] → [T, n_out] for LOSS_MEM_MSE (else NULL). st may be NULL.
 * 0, or EVSNN_EINVAL / EVSNN_ERANGE (bad label) / EVSNN_ENUMERIC with a message. */
int trainer_step(trainer *tr, const sim_input *in, const uint32_t *labels, const float *const *mem_target,
                 uint32_t B, train_stats *st);

/* Forward only: loss, accuracy and firing statistics accumulated (+=) into st (zero it
 * first; st->loss sums per-sample losses, divide by st->n). pred: [B] predicted classes or NULL. */
int trainer_eval(trainer *tr, const sim_input *in, const uint32_t *labels, const float *const *mem_target,
                 uint32_t B, train_stats *st, uint32_t *pred);

/* Data-dependent initialisation of the biases, layer by layer in the spirit of LSUV
 * (Mishkin & Matas, ICLR 2016) and of batch normalisation's centring (Ioffe & Szegedy, ICML
 * 2015): for each spiking layer in order, run the B samples forward with the parameters set so
 * far, average each sample's input to the layer over time, compute the layer's currents
 * without bias from that average, and set every channel's bias (a conv layer's output map, a
 * dense layer's neuron) so that its mean current over samples and positions is target·θ.
 * Binarized networks need it most: their currents are sums of ±1 and far from centred, and a
 * bias grows by about one learning rate per step. rep (may be NULL) receives, per net layer,
 * the mean current and the mean per-channel standard deviation before the change. Call before
 * the first step (not on resume: the checkpoint holds the result). EVSNN_EINVAL for a layer
 * without bias. */
typedef struct {
    int layer[TRAIN_MAX_LAYERS]; /* 1 for spiking layers */
    float mean[TRAIN_MAX_LAYERS], std[TRAIN_MAX_LAYERS], theta[TRAIN_MAX_LAYERS];
} train_init_report;
int trainer_data_init(trainer *tr, const sim_input *in, uint32_t B, float target, train_init_report *rep);

/* Fisher–Yates permutation of 0..len−1 from the trainer's generator. */
void trainer_shuffle(trainer *tr, uint32_t *perm, uint32_t len);

/* ---- the fit loop: shuffle, batch, shard, step, evaluate (sim/fit.c) ----
 * sim does no file I/O: samples come through an iterator, filled by whoever loaded them
 * (apps/traindata.c from a dataset). get(ctx, i, in, label): sample i of n, 0 or an error. */
typedef struct {
    uint32_t n;
    int (*get)(void *ctx, uint32_t i, sim_input *in, uint32_t *label);
    void *ctx;
} train_samples;

/* One training run, the loop `evsnn train` and `evsnn sweep` share. Epochs epoch0 ..
 * epochs − 1; each: trainer_shuffle, then minibatches of `batch` in the shuffled order.
 * Data-parallel (train_cfg.data_parallel, under MPI): rank r of nranks steps on the slice
 * [k·r/P, k·(r+1)/P) of every minibatch of k, and the batch's right predictions are summed
 * over the ranks (comm_allreduce_sum_u64), so the epoch's figures are the whole batch's.
 * Reports: step(ctx, epoch, b, nb, batch, epoch_so_far, epoch_s) after every step (b of nb
 * minibatches; epoch_so_far: loss summed as loss·k, n, correct, lr; epoch_s: seconds since
 * the epoch began); epoch(ctx, epoch, figures, train_s) after every epoch's steps (train_s:
 * its seconds). A callback's non-zero return stops the run and is returned (negative: an
 * error; positive: a stop such as pruning). Either may be NULL. */
typedef struct {
    uint64_t epoch0, epochs;
    uint32_t batch;
    uint32_t rank, nranks; /* 0, 1 when alone */
    int (*step)(void *ctx, uint64_t epoch, uint32_t b, uint32_t nb, const train_stats *batch, const train_stats *epoch_so_far,
                double epoch_s);
    int (*epoch)(void *ctx, uint64_t epoch, const train_stats *figures, double train_s);
    void *ctx;
} train_fit_opts;

/* Where a run stopped: epochs finished, and for a failed step its epoch and minibatch
 * (reduce: 1 when the failure was the sum over ranks, not the step itself). */
typedef struct {
    uint64_t epochs_done, epoch;
    uint32_t batch;
    int reduce;
} train_fit_stop;

/* 0, a callback's return value, or a negative EVSNN_E* (step, sum over ranks, no memory). */
int trainer_fit(trainer *tr, const train_samples *d, const train_fit_opts *o, train_fit_stop *stop);

/* Forward over all samples of d in minibatches of B (trainer_eval), figures accumulated
 * into st (zeroed first). each(ctx), if given, runs after every minibatch. */
int trainer_evaluate(trainer *tr, const train_samples *d, uint32_t B, train_stats *st, void (*each)(void *), void *ctx);

/* State for checkpoints: latent parameters [n_params] (the network's own params when not
 * binarized), the optimizer (moments, step count), the shuffling generator. After writing
 * into them (resume), call trainer_sync. */
float *trainer_latent(trainer *tr);
optim *trainer_optim(trainer *tr);
rng *trainer_rng(trainer *tr);
int trainer_sync(trainer *tr); /* 0 or EVSNN_ENOMEM */

/* Gradient of the last step, carved like net->params (tests). */
const float *trainer_grads(const trainer *tr);

/* Surrogate centre of each layer in the last/next backward. theta_c: [n_layers] */
const float *trainer_theta_c(const trainer *tr);

const char *train_loss_name(loss_kind k);
int train_loss_parse(const char *s, loss_kind *k);

#endif
