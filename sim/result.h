/* sim/result.h — what a forward run leaves behind: each layer's output train, its event
 * counts and, on request, every membrane. The engine (sim/engine.h) fills it; the trace
 * file (io/trace.h) stores it and the accelerator model replays the trains. A type header
 * like spk.h and net.h: io/ may include it without depending on the engine.
 *
 * sim_result_init allocates the trains for a network and T (defined in sim/engine.c). */
#ifndef EVSNN_SIM_RESULT_H
#define EVSNN_SIM_RESULT_H

#include <stdint.h>

#include "net.h"
#include "spk.h"

typedef struct {
    uint64_t in_events;      /* input events consumed by the layer */
    uint64_t syn_events;     /* synaptic accumulations (weight reads) performed */
    uint64_t neuron_updates; /* membrane updates performed (lazy catch-ups included) */
    uint64_t spikes;         /* output spikes (NET_POOL with SUM: output events) */
    uint32_t silent;         /* output channels that never fired in the sample */
    uint32_t n;              /* output channels */
    uint32_t T;
} layer_stats;

static inline double layer_rate(const layer_stats *s) {
    return s->n && s->T ? (double)s->spikes / ((double)s->n * s->T) : 0.0;
}

enum {
    SIM_RECORD_MEM = 1 /* also record every membrane at every step: mem[l] is [T, n_out] */
};

typedef struct sim_result {
    uint32_t n_layers, T;
    spk_train *out;    /* [n_layers] each layer's output train */
    layer_stats *st;   /* [n_layers] */
    float **mem;       /* [n_layers] → [T, n_out] with SIM_RECORD_MEM (NULL for NET_POOL), else NULL */
    uint8_t **arg;     /* [n_layers] → [T, n_out] with SIM_RECORD_MEM, for conv layers with max pooling
                        * of currents on a spike-train input: where each neuron's window had its
                        * (first) maximum, dy·p + dx (the backward routes through it); else NULL */
    int flags;
} sim_result;

int sim_result_init(sim_result *r, const net *n, uint32_t T, int flags);
void sim_result_deinit(sim_result *r); /* safe on a zeroed struct */

#endif
