/* hw/replay.c — the one loop that replays samples' recorded trains through a machine and
 * sums them up (hw_replay, hw/hw.h). The trains come from a trace file, from the engine
 * run by a command, or from a live window; this file never runs the network. */
#include <string.h>

#include "hw/hw.h"
#include "sim/evsnn.h"

int hw_replay(hw_machine *m, const spk_train *in, const spk_train *const *layers, uint32_t N, hw_run_mode mode,
              hw_report *rep, hw_sample *first, int record_first, hw_replay_fn each, void *ctx) {
    int rc = 0;
    if (first) memset(first, 0, sizeof *first);
    for (uint32_t i = 0; i < N && !rc; i++) {
        hw_sample s;
        const int keep = first && i == 0;
        if ((rc = hw_run(m, &in[i], layers[i], mode, keep && record_first, &s))) break;
        if (rep) rc = hw_report_add(rep, &s);
        if (!rc && each) each(ctx, i, &s);
        if (keep) *first = s;
        else hw_sample_free(&s);
    }
    return rc;
}

void hw_cycle_sum_add(void *ctx, uint32_t i, const hw_sample *s) {
    hw_cycle_sum *a = ctx;
    (void)i;
    a->lat += (double)s->latency;
    for (uint32_t l = 0; l < a->L; l++) a->cyc[l] += (double)s->l[l].cycles;
}
