/* sim/search.h — the search of a study (sim/study_types.h, read from its file by
 * io/study.h): the trials of a grid or of random draws, the TPE proposals (sim/tpe.h) from
 * the rows finished so far, the check that a table row is a trial of the study (resume),
 * the objective a row scores, and the median pruning rule. No I/O, no global state;
 * errors are EVSNN_E* with the trial named. */
#ifndef EVSNN_SIM_SEARCH_H
#define EVSNN_SIM_SEARCH_H

#include <stdint.h>

#include "study_types.h"

/* Trial i (< study_n_trials) into *t. TPE: the trial as random search draws it, which is
 * what the search runs while fewer than n_startup trials have finished (study_propose). */
int study_trial_get(const study *s, uint32_t i, study_trial *t);

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

#endif
