/* sim/study_types.c — the one function of the study types (sim/study_types.h): setting an
 * axis of a trial, which the parser (variants) and the search (trials) both do. */
#include "study_types.h"

#include <stdio.h>

void study_trial_set_axis(study_trial *t, int ax, const char *s, double v) {
    switch (ax) {
    case STUDY_AX_DATASET: snprintf(t->dataset, sizeof t->dataset, "%s", s); break;
    case STUDY_AX_ARCH: snprintf(t->arch, sizeof t->arch, "%s", s); break;
    case STUDY_AX_ACCEL: snprintf(t->accel, sizeof t->accel, "%s", s); break;
    case STUDY_AX_SURR: snprintf(t->surrogate, sizeof t->surrogate, "%s", s); break;
    case STUDY_AX_SLOPE: t->slope = (float)v; break;
    case STUDY_AX_BETA: t->beta = (float)v; break;
    case STUDY_AX_THETA: t->theta = (float)v; break;
    case STUDY_AX_THRESH: snprintf(t->threshold, sizeof t->threshold, "%s", s); break;
    case STUDY_AX_BIN: t->binarize = v != 0; break;
    case STUDY_AX_LR: t->lr = (float)v; break;
    case STUDY_AX_BATCH: t->batch = (uint32_t)v; break;
    case STUDY_AX_SEED: t->seed = (uint64_t)v; break;
    }
}
