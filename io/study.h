/* io/study.h — a study: the axes of a hyperparameter sweep, the trials they expand to or
 * that a search proposes, what a trial is scored by, and the table of results (one row per
 * trial, CSV and HDF5).
 *
 * A study file is libconfig text (the library of the accelerator config; format and
 * examples in sim/STUDY.md and the data folder's .study files). Its axes are lists or
 * ranges. `search = "grid"` takes the lists' Cartesian product in a fixed order (the last
 * axis varies fastest: dataset, arch, accel, surrogate, slope, beta, theta, threshold,
 * binarize, lr, batch, seed, variant); `search = "random"` draws `budget` trials, trial k
 * from its own generator rng_stream(seed, k), each axis uniformly from its list or range
 * ({kind = "float" | "log" | "int"; min; max;}); `search = "tpe"` proposes each trial from
 * the results so far with the tree-structured Parzen estimator (sim/tpe.h), lists being
 * categorical parameters. A budget also truncates a grid. Variants (a list of groups) are
 * one more axis whose entries override any per-trial setting (seed 004's four-way
 * comparison); in a TPE study trial k belongs to variant k mod V, and each variant is a
 * search of its own over the axes it does not override.
 *
 * Every trial has a key, the canonical text of its settings: a result row belongs to a
 * trial only when id and key both match (TPE: when the row's settings lie in the search
 * space and rebuild the same key), so a resumed study whose file changed reruns what
 * changed. The table is written whole to a temporary file and renamed (CSV, then HDF5),
 * so an interrupted study leaves the last complete table. Failed and pruned trials are rows
 * too (status "failed" with the error message, "pruned" with what was measured before the
 * stop). No printing; errors are EVSNN_E* with the file, line and key named. */
#ifndef EVSNN_STUDY_H
#define EVSNN_STUDY_H

#include <stdint.h>

#define STUDY_VERSION 1       /* study files */
#define STUDY_TABLE_VERSION 2 /* the HDF5 table (2: lr, batch, objective, epochs, epoch_acc) */
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

typedef struct study study;

/* Parse a study file (path for messages and for resolving relative accel paths) or text. */
study *study_load(const char *path, int *err);
study *study_parse(const char *text, const char *name, int *err);
void study_free(study *s); /* NULL is fine */

const char *study_name(const study *s);
const study_fixed *study_fixed_settings(const study *s);
uint32_t study_n_trials(const study *s);
study_search study_search_kind(const study *s);
uint32_t study_tpe_startup(const study *s); /* tpe.n_startup */
/* Run a random or TPE study with the other of the two searches at the same budget (a
 * comparison: the random trials are the TPE study's first ones). EVSNN_EINVAL for a grid. */
int study_set_search(study *s, study_search search);
/* Trial i (< study_n_trials) into *t. TPE: the trial as random search draws it, which is
 * what the search runs while fewer than n_startup trials have finished (study_propose). */
int study_trial_get(const study *s, uint32_t i, study_trial *t);

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

/* ---- searching: proposals, objective, pruning ---- */

/* Trial `id`. Grid and random search: study_trial_get. TPE: from the rows finished so far,
 * done[n_done] (rows with status ok, pruned or failed count; PENDING rows, row `id` itself
 * and rows of other variants are ignored), and the trials still running, pending[n_pending],
 * which count as worse than every finished one (the constant liar: the search does not
 * propose again where a running trial already looks). While fewer than n_startup trials of
 * the trial's variant have finished, the trial is study_trial_get's random draw; after that
 * it is the TPE proposal with the generator rng_stream(seed, id). The order of observations
 * (best first): ok rows by the objective, then pruned rows (more epochs first, then higher
 * accuracy at the last one), then failed rows, then pending trials, ties by trial id.
 * Measured values are read at the table's 9 significant digits, so rows read back from
 * the CSV give the proposals the rows in memory gave (resume continues the sequence). */
int study_propose(const study *s, uint32_t id, const study_row *done, uint32_t n_done, const study_trial *pending,
                  uint32_t n_pending, study_trial *t);
/* Whether a table row's settings row_t are trial `id` of this study (resume), rebuilt into
 * *t: grid and random search, when study_trial_get(id) has the row's key; TPE, when the
 * settings lie in the search space of the trial's variant and rebuild the row's key. 0, or
 * EVSNN_EINVAL / EVSNN_ERANGE when they are not. */
int study_trial_check(const study *s, uint32_t id, const study_trial *row_t, study_trial *t);

/* What the study optimises: accuracy (maximised), latency_us or energy_uj (minimised), or
 * the trade-off accuracy − weight · ln(cost) with cost latency_us or energy_uj (maximised:
 * a cost cut by the fraction r is worth weight · (−ln(1 − r)) of accuracy, whatever the
 * cost's unit). NaN unless the row is ok (and, for the trade-off, its cost > 0). */
double study_objective(const study *s, const study_row *r);
int study_maximize(const study *s);
const char *study_objective_name(const study *s);

/* Pruning thresholds for trial t starting now: med[e] (e < STUDY_MAX_EPOCHS, epoch e + 1)
 * is the median of epoch_acc[e] over the ok rows of rows[n] of t's variant (other than t)
 * that reached it, NaN where fewer than prune_min_trials did or the study does not prune. */
void study_prune_medians(const study *s, const study_trial *t, const study_row *rows, uint32_t n, double *med);
/* 1 when a trial at epoch `epoch` (1-based) with test accuracy acc stops: pruning on, past
 * the warm-up, before the last epoch (a trial at its last epoch is finished), and acc below
 * med[epoch − 1]. */
int study_prune_stop(const study *s, const double *med, uint32_t epoch, double acc);

/* Read a table written by study_write_csv (missing file: 0 rows, 0 returned). rows is
 * allocated (free it). Columns are found by their header names, so tables written before
 * cycles_0..7, lr, batch, objective, epochs and epoch_acc existed read with those NaN or 0.
 * EVSNN_EFORMAT naming file and line for a malformed table. */
int study_read_csv(const char *path, study_row **rows, uint32_t *n);
/* Write rows [n] (status PENDING skipped) atomically. Numbers have 9 significant digits
 * (floats exactly); epoch_acc is a ';'-separated list. */
int study_write_csv(const char *path, const study_row *rows, uint32_t n);
/* The same table as HDF5: group /trials, one dataset per column ([n] float64 or
 * fixed-length strings; rate, silent and layer_cycles [n, STUDY_MAX_LAYERS], NaN where a
 * net has fewer layers; epoch_acc [n, E] with E the longest curve, at least 1), root
 * attribute version (STUDY_TABLE_VERSION). */
int study_write_h5(const char *path, const study_row *rows, uint32_t n);

const char *study_status_name(study_status s);

#endif
