/* io/study.h — a study file and its table of results: the parser of the axes of a
 * hyperparameter sweep and of what a trial is scored by, and the table (one row per trial,
 * CSV and HDF5). The types are sim/study_types.h; the trials the axes expand to or that a
 * search proposes, the objective and the pruning rule are sim/search.h.
 *
 * A study file is libconfig text (the library of the accelerator config; format and
 * examples in sim/STUDY.md and the data folder's .study files). Its axes are lists or
 * ranges. `search = "grid"` takes the lists' Cartesian product in a fixed order (the last
 * axis varies fastest: dataset, arch, accel, surrogate, slope, beta, theta, threshold,
 * binarize, lr, batch, seed, variant); `search = "random"` draws `budget` trials, trial k
 * from its own generator rng_stream(seed, k), each axis uniformly from its list or range
 * ({kind = "float" | "log" | "int"; min; max;}); `search = "tpe"` proposes each trial from
 * the results so far with the tree-structured Parzen estimator (sim/tpe.h, driven by
 * sim/search.c), lists being categorical parameters. A budget also truncates a grid. Variants (a list of groups) are
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

#include "sim/study_types.h"

#define STUDY_VERSION 1       /* study files */
#define STUDY_TABLE_VERSION 2 /* the HDF5 table (2: lr, batch, objective, epochs, epoch_acc) */

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

/* ---- the result table (study_row, sim/study_types.h) ---- */

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
