/* tests/fuzz_study.c — libFuzzer harness: arbitrary text as a study file. The parser must
 * accept it or reject it with a message, never crash; an accepted study must expand its
 * first and last trials (grid arithmetic, random draws, variants) into bounded strings, and
 * propose a trial from made-up results (TPE: from rows of the first trials, one pruned and
 * one running) that lies in its own search space, with pruning thresholds from the same rows.
 * Seed corpus: tests/corpus/fuzz_study (copies of data/ studies). */
#include <math.h>

#include "io/study.h"
#include "sim/evsnn.h"
#include "sim/search.h"
#include "tests/fuzz_libconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *txt = fuzz_text(data, size);
    if (!txt) return 0;
    int err;
    study *s = study_parse(txt, "fuzz.study", &err);
    if (s) {
        const uint32_t n = study_n_trials(s);
        study_trial t, u;
        if (n > 0) {
            if (study_trial_get(s, 0, &t) != 0 || strlen(t.key) >= sizeof t.key) abort();
            if (study_trial_get(s, n - 1, &t) != 0) abort();
        }
        if (study_trial_get(s, n, &t) == 0) abort(); /* past the end must fail */
        static study_row rows[4];
        uint32_t k = 0;
        for (; k < 4 && k + 1 < n; k++) {
            memset(&rows[k], 0, sizeof rows[k]);
            if (study_trial_get(s, k, &rows[k].t)) abort();
            rows[k].status = k == 2 ? STUDY_PRUNED : STUDY_OK;
            rows[k].accuracy = size ? data[k % size] / 255.0 : 0.5;
            rows[k].latency_us = 1 + k;
            rows[k].energy_uj = 0.5 * k;
            rows[k].n_curve = 1;
            rows[k].epoch_acc[0] = rows[k].accuracy;
        }
        if (k) {
            const uint32_t id = k < n ? k : n - 1;
            const int rc = study_propose(s, id, rows, k, &rows[0].t, 1, &t);
            if (rc && rc != EVSNN_ENOMEM) abort();
            if (!rc && (t.id != id || strlen(t.key) >= sizeof t.key || study_trial_check(s, id, &t, &u) || strcmp(t.key, u.key)))
                abort();
            double med[STUDY_MAX_EPOCHS];
            study_prune_medians(s, &t, rows, k, med);
            for (uint32_t e = 1; e <= STUDY_MAX_EPOCHS; e++) (void)study_prune_stop(s, med, e, 0.5);
            for (uint32_t i = 0; i < k; i++) (void)study_objective(s, &rows[i]);
        }
        study_free(s);
    }
    free(txt);
    return 0;
}
