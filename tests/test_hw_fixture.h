/* tests/test_hw_fixture.h — shared by the hw tests and bench: the W2 network shape built by
 * hand and synthetic spike trains. The trains are GENERATED here (independent Bernoulli spikes
 * from an LCG at fixed rates), not recorded from a network: they exercise the timing model
 * with realistic sizes, not realistic spatial structure. */
#ifndef EVSNN_TEST_HW_FIXTURE_H
#define EVSNN_TEST_HW_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sim/net.h"
#include "sim/spk.h"

/* W2 of seed 000's sweep: 16C5-AP2-32C5-AP2-800-11 on 2x32x32 (valid convolutions, average
 * pooling of currents, so each conv layer's neurons sit at the pooled resolution). */
static inline void fx_w2(net *n, net_layer ls[3]) {
    memset(ls, 0, 3 * sizeof *ls);
    net_layer *a = &ls[0], *b = &ls[1], *c = &ls[2];
    a->kind = NET_CONV; a->in_c = 2; a->in_h = a->in_w = 32; a->n_in = 2048;
    a->k = 5; a->pad = 0; a->conv_h = a->conv_w = 28; a->pool = POOL_AVG; a->pool_k = 2;
    a->out_c = 16; a->out_h = a->out_w = 14; a->n_out = 16 * 14 * 14;
    snprintf(a->name, sizeof a->name, "conv1");
    b->kind = NET_CONV; b->in_c = 16; b->in_h = b->in_w = 14; b->n_in = a->n_out;
    b->k = 5; b->pad = 0; b->conv_h = b->conv_w = 10; b->pool = POOL_AVG; b->pool_k = 2;
    b->out_c = 32; b->out_h = b->out_w = 5; b->n_out = 800;
    snprintf(b->name, sizeof b->name, "conv2");
    c->kind = NET_DENSE; c->in_c = 800; c->in_h = c->in_w = 1; c->n_in = 800;
    c->out_c = 11; c->out_h = c->out_w = 1; c->n_out = 11;
    snprintf(c->name, sizeof c->name, "fc1");
    memset(n, 0, sizeof *n);
    snprintf(n->arch, sizeof n->arch, "16C5-AP2-32C5-AP2-800-11");
    n->in_c = 2; n->in_h = n->in_w = 32; n->n_in = 2048;
    n->n_layers = 3;
    n->layers = ls;
}

static inline uint32_t fx_lcg(uint32_t *x) { *x = *x * 1664525u + 1013904223u; return *x >> 8; }

/* Bernoulli train: each (step, channel) spikes with probability rate (resolution 2^-24). */
static inline int fx_train(spk_train *s, uint32_t T, uint32_t n, double rate, uint32_t *seed) {
    int rc = spk_init(s, T, n, 0);
    if (rc) return rc;
    uint32_t thr = (uint32_t)(rate * 16777216.0);
    for (uint32_t t = 0; t < T; t++)
        for (uint32_t c = 0; c < n; c++)
            if (fx_lcg(seed) < thr && (rc = spk_push(s, t, c, 1))) return rc;
    return spk_close(s, 0);
}

#endif
