/* sim/tha.c — the threshold-annealing spec (sim/tha.h). */
#include "sim/tha.h"

#include <stdio.h>
#include <string.h>

#include "sim/evsnn.h"

int train_tha_parse(const char *s, train_tha *out) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", s);
    char *save = NULL;
    out->n = 0;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        float a, b, al;
        char extra;
        if (out->n >= TRAIN_MAX_LAYERS)
            return evsnn_seterr(EVSNN_EINVAL, "item '%s': more than %d layers", tok, TRAIN_MAX_LAYERS);
        if (sscanf(tok, "%f:%f:%f%c", &a, &b, &al, &extra) != 3 || !(a > 0) || !(b > 0) || !(al >= 0 && al <= 1))
            return evsnn_seterr(EVSNN_EINVAL, "item '%s' is not THETA0:THETA_INF:ALPHA with thresholds > 0 and alpha in [0, 1]",
                                tok);
        out->theta0[out->n] = a;
        out->theta_inf[out->n] = b;
        out->alpha[out->n] = al;
        out->n++;
    }
    return out->n ? 0 : evsnn_seterr(EVSNN_EINVAL, "no items (expected THETA0:THETA_INF:ALPHA[,...])");
}
