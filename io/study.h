/* io/study.h — a study: the axes of a hyperparameter sweep, the trials they expand to, and
 * the table of results (one row per trial, CSV and HDF5).
 *
 * A study file is libconfig text (the library of the accelerator config; format and
 * examples in sim/STUDY.md and the data folder's .study files). Its axes are lists; `search = "grid"` takes
 * their Cartesian product in a fixed order (the last axis varies fastest: dataset, arch,
 * accel, surrogate, slope, beta, theta, threshold, binarize, seed, variant), `search =
 * "random"` draws `budget` trials, trial k from its own generator rng_stream(seed, k), each
 * axis uniformly from its list or, for slope/beta/theta given as {min; max; log;}, from the
 * range. A budget also truncates a grid. Variants (a list of groups) are one more axis
 * whose entries override any per-trial setting (seed 004's four-way comparison).
 *
 * Every trial has a key, the canonical text of its settings: a result row belongs to a
 * trial only when id and key both match, so a resumed study whose file changed reruns what
 * changed. The table is written whole to a temporary file and renamed (CSV, then HDF5),
 * so an interrupted study leaves the last complete table. Failed trials are rows too
 * (status "failed", the error message kept). No printing; errors are EVSNN_E* with the
 * file, line and key named. */
#ifndef EVSNN_STUDY_H
#define EVSNN_STUDY_H

#include <stdint.h>

#define STUDY_VERSION 1
#define STUDY_MAX_AXIS 64
#define STUDY_MAX_LAYERS 8
#define STUDY_STR 192

typedef enum { STUDY_GRID, STUDY_RANDOM } study_search;

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
    uint64_t seed;
    char key[1024];              /* canonical text of the settings above */
} study_trial;

/* Settings shared by all trials. */
typedef struct {
    uint32_t epochs, batch, steps, max_train, max_test, slots;
    uint32_t split_at;           /* > 0: one file, first split_at samples train, the rest test */
    uint32_t dt_us;              /* event data: bin width in µs (0: the format's default) */
    float lr;
    char optim[16], loss[16], encoding[16], input[32], test_data[STUDY_STR];
    uint32_t hw_samples;         /* test samples replayed through the accelerator model */
} study_fixed;

typedef struct study study;

/* Parse a study file (path for messages and for resolving relative accel paths) or text. */
study *study_load(const char *path, int *err);
study *study_parse(const char *text, const char *name, int *err);
void study_free(study *s); /* NULL is fine */

const char *study_name(const study *s);
const study_fixed *study_fixed_settings(const study *s);
uint32_t study_n_trials(const study *s);
/* Trial i (< study_n_trials) into *t. */
int study_trial_get(const study *s, uint32_t i, study_trial *t);

/* ---- the result table ---- */
typedef enum { STUDY_PENDING = 0, STUDY_OK = 1, STUDY_FAILED = 2 } study_status;

typedef struct {
    study_trial t;
    study_status status;
    char error[256];
    double accuracy, loss, train_loss, train_s;
    uint32_t n_layers;
    double rate[STUDY_MAX_LAYERS];   /* spikes per neuron per step on the test set */
    double silent[STUDY_MAX_LAYERS]; /* fraction of neuron-samples that never fired */
    double cycles, latency_us, fps, energy_uj, fps_per_w;
    double layer_cycles[STUDY_MAX_LAYERS]; /* accelerator: mean busy cycles of each layer per sample */
} study_row;

/* Read a table written by study_write_csv (missing file: 0 rows, 0 returned). rows is
 * allocated (free it). EVSNN_EFORMAT naming file and line for a malformed table. */
int study_read_csv(const char *path, study_row **rows, uint32_t *n);
/* Write rows [n] (status PENDING skipped) atomically. */
int study_write_csv(const char *path, const study_row *rows, uint32_t n);
/* The same table as HDF5: group /trials, one dataset per column ([n] float64 or
 * fixed-length strings; rate, silent and layer_cycles [n, STUDY_MAX_LAYERS], NaN where a
 * net has fewer layers), root attribute version. */
int study_write_h5(const char *path, const study_row *rows, uint32_t n);

const char *study_status_name(study_status s);

#endif
