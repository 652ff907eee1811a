/* sim/study_types.h — the types of a hyperparameter study, shared by the study-file reader
 * and the result tables (io/study.h) and by the search over them (sim/search.h): one
 * trial's settings, the settings every trial shares, a result row, and the study itself
 * (its axes and variants) as the parser fills it and the search reads it.
 *
 * Types only, and the one setter both sides need (sim/study_types.c): no I/O, no search
 * code, so io/ includes this header and no algorithm module. Callers outside io/study.c and sim/search.c go
 * through the accessors of io/study.h and leave struct study's fields alone. */
#ifndef EVSNN_SIM_STUDY_TYPES_H
#define EVSNN_SIM_STUDY_TYPES_H

#include <stdint.h>

#include "tpe_cfg.h"

#define STUDY_MAX_AXIS 64
#define STUDY_MAX_LAYERS 8
#define STUDY_MAX_EPOCHS 128  /* per-epoch accuracies kept for pruning */
#define STUDY_STR 192

typedef enum { STUDY_GRID, STUDY_RANDOM, STUDY_TPE } study_search;
typedef enum { STUDY_OBJ_ACCURACY, STUDY_OBJ_LATENCY, STUDY_OBJ_ENERGY, STUDY_OBJ_TRADEOFF } study_objective_kind;

/* One trial's settings. */
typedef struct {
    uint32_t id;
    char variant[48];            /* "" when the study has no variants */
    char dataset[STUDY_STR];     /* training data spec (evsnn train --data) */
    char arch[STUDY_STR];
    char accel[STUDY_STR];       /* accelerator config path ("" = built-in defaults) */
    char surrogate[32];          /* surrogate name, e.g. fast_sigmoid, atan */
    float slope;                 /* k (fast_sigmoid, sigmoid, ...) or alpha (atan); 0: default */
    float beta, theta;
    char threshold[STUDY_STR];   /* "fixed" or "anneal:THETA0:THETA_INF:ALPHA[,...]" per spiking layer */
    int binarize;
    float lr;                    /* learning rate (train.lr unless lr is an axis) */
    uint32_t batch;              /* minibatch size (train.batch unless batch is an axis) */
    uint64_t seed;
    char key[1024];              /* canonical text of the settings above (lr and batch only
                                  * where the study has them as axes) */
} study_trial;

/* Settings shared by all trials. */
typedef struct {
    uint32_t epochs, batch, steps, max_train, max_test, slots;
    uint32_t cosine;             /* cosine warm restarts: first period in iterations (0: constant lr) */
    uint32_t split_at;           /* > 0: one file, first split_at samples train, the rest test */
    uint32_t dt_us;              /* event data: bin width in µs (0: the format's default) */
    float lr;
    char optim[16], loss[16], encoding[16], input[32], test_data[STUDY_STR];
    uint32_t hw_samples;         /* test samples replayed through the accelerator model */
    int prune;                   /* 1: the median rule (prune = "median") */
    uint32_t prune_warmup;       /* no stop at epochs 1..warmup */
    uint32_t prune_min_trials;   /* no stop before this many trials reached the epoch */
} study_fixed;

/* ---- the result table ---- */
typedef enum { STUDY_PENDING = 0, STUDY_OK = 1, STUDY_FAILED = 2, STUDY_PRUNED = 3 } study_status;

typedef struct {
    study_trial t;
    study_status status;
    char error[256];
    double accuracy, loss, train_loss, train_s;  /* pruned: at the epoch of the stop */
    uint32_t n_layers;
    double rate[STUDY_MAX_LAYERS];   /* spikes per neuron per step on the test set */
    double silent[STUDY_MAX_LAYERS]; /* fraction of neuron-samples that never fired */
    double cycles, latency_us, fps, energy_uj, fps_per_w;  /* NaN when pruned */
    double layer_cycles[STUDY_MAX_LAYERS]; /* accelerator: mean busy cycles of each layer per sample */
    double objective;                /* study_objective of the row (NaN unless ok) */
    uint32_t epochs;                 /* epochs trained (fewer than train.epochs when pruned) */
    uint32_t n_curve;                /* epoch_acc entries: with pruning, one per epoch trained */
    double epoch_acc[STUDY_MAX_EPOCHS]; /* test accuracy after each epoch */
} study_row;

/* ---- the study as parsed: axes, variants, the search's settings ---- */

/* Axes in grid order (the last varies fastest). lr and batch came later than the others;
 * they sit before seed so that a study's seeds of one setting stay side by side. */
enum {
    STUDY_AX_DATASET, STUDY_AX_ARCH, STUDY_AX_ACCEL, STUDY_AX_SURR, STUDY_AX_SLOPE, STUDY_AX_BETA, STUDY_AX_THETA,
    STUDY_AX_THRESH, STUDY_AX_BIN, STUDY_AX_LR, STUDY_AX_BATCH, STUDY_AX_SEED, STUDY_AX_N
};

/* An axis is a list (categorical in a TPE study) or a range of one kind. */
enum { STUDY_AK_LIST, STUDY_AK_FLOAT, STUDY_AK_LOG, STUDY_AK_INT };

typedef struct {
    uint32_t n;                       /* list length (0 for a range) */
    char s[STUDY_MAX_AXIS][STUDY_STR];/* string axes */
    double v[STUDY_MAX_AXIS];         /* numeric axes (binarize 0/1, seed) */
    int kind;                         /* STUDY_AK_* */
    int declared;                     /* given in the study file (lr, batch: then in the key) */
    double lo, hi;                    /* ranges */
} study_axis;

/* A variant overrides some settings; mask bit i = axis i given. */
typedef struct {
    char name[48];
    uint32_t mask;
    study_trial t;
} study_variant;

/* Filled by the parser (io/study.c), read by the search (sim/search.c). */
typedef struct study study;
struct study {
    char name[64];
    char dir[STUDY_STR];              /* directory of the study file (relative accel paths) */
    study_search search;
    uint32_t budget;
    uint64_t seed;
    tpe_cfg tpe;
    study_objective_kind objective;
    int cost_energy;                  /* trade-off cost: 0 latency_us, 1 energy_uj */
    double weight;                    /* trade-off weight */
    int key_lr, key_batch;            /* lr / batch in the key: an axis or a variant sets them */
    study_fixed fx;
    study_axis ax[STUDY_AX_N];
    uint32_t n_var;
    study_variant var[STUDY_MAX_AXIS];
    uint32_t n_trials;
};

/* Set axis ax (STUDY_AX_*) of t: the string s for dataset, arch, accel, surrogate and
 * threshold, the number v for the others. */
void study_trial_set_axis(study_trial *t, int ax, const char *s, double v);

#endif
