/* tests/fuzz_study.c — libFuzzer harness: arbitrary text as a study file. The parser must
 * accept it or reject it with a message, never crash; an accepted study must expand its
 * first and last trials (grid arithmetic, random draws, variants) into bounded strings.
 * Seed corpus: tests/corpus/fuzz_study (copies of data/ studies). */
#include "io/study.h"
#include "tests/fuzz_libconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *txt = fuzz_text(data, size);
    if (!txt) return 0;
    int err;
    study *s = study_parse(txt, "fuzz.study", &err);
    if (s) {
        const uint32_t n = study_n_trials(s);
        study_trial t;
        if (n > 0) {
            if (study_trial_get(s, 0, &t) != 0 || strlen(t.key) >= sizeof t.key) abort();
            if (study_trial_get(s, n - 1, &t) != 0) abort();
        }
        if (study_trial_get(s, n, &t) == 0) abort(); /* past the end must fail */
        study_free(s);
    }
    free(txt);
    return 0;
}
