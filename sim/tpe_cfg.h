/* sim/tpe_cfg.h — the settings of the tree-structured Parzen estimator (sim/tpe.h), a plain
 * struct with its defaults, so that a study file's `tpe { ... }` group is read into it
 * (io/study.c) without the estimator. No code. */
#ifndef EVSNN_SIM_TPE_CFG_H
#define EVSNN_SIM_TPE_CFG_H

#include <stdint.h>

typedef struct {
    double gamma;        /* good fraction of the observations, in (0, 1) */
    uint32_t n_ei;       /* candidates drawn from l per proposal, >= 1 */
    uint32_t n_startup;  /* the caller draws from the prior until this many trials finished */
    double prior_weight; /* weight of the prior component in l and g, > 0 */
} tpe_cfg;

/* γ 0.25, n_ei 24, n_startup 10, prior weight 1 (sim/STUDY.md says where they come from);
 * an initializer: tpe_cfg c = TPE_CFG_DEFAULTS; (tpe_defaults() returns the same). */
#define TPE_CFG_DEFAULTS {0.25, 24, 10, 1.0}

#endif
