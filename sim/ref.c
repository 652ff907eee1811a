/* sim/ref.c — the clock-driven dense reference engine (tests only; see engine.h).
 *
 * Written as PyTorch + snnTorch would compute the same network, with no shortcut: every
 * neuron, every step, currents from full dense products (I = x·W + b; conv, then pooling
 * of conv + bias), then the LIF rule of kernels/lif.h with the bias already inside I. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "evsnn.h"
#include "kernels/lif.h"

/* Currents of one spiking layer at one step (see engine.h). */
void sim_layer_currents(const net_layer *L, const float *x, float *cur, float *full) {
    if (L->kind == NET_DENSE) {
        for (uint32_t j = 0; j < L->n_out; j++) cur[j] = 0.0f;
        for (uint32_t i = 0; i < L->n_in; i++)
            for (uint32_t j = 0; j < L->n_out; j++) cur[j] += x[i] * L->w[(size_t)i * L->n_out + j];
        if (L->b)
            for (uint32_t j = 0; j < L->n_out; j++) cur[j] += L->b[j];
        return;
    }
    const uint32_t k = L->k, ch = L->conv_h, cw = L->conv_w;
    for (uint32_t co = 0; co < L->out_c; co++)
        for (uint32_t oy = 0; oy < ch; oy++)
            for (uint32_t ox = 0; ox < cw; ox++) {
                float a = 0.0f;
                for (uint32_t ci = 0; ci < L->in_c; ci++)
                    for (uint32_t ky = 0; ky < k; ky++) {
                        int iy = (int)oy - (int)L->pad + (int)ky;
                        if (iy < 0 || iy >= (int)L->in_h) continue;
                        for (uint32_t kx = 0; kx < k; kx++) {
                            int ix = (int)ox - (int)L->pad + (int)kx;
                            if (ix < 0 || ix >= (int)L->in_w) continue;
                            a += x[(ci * L->in_h + (uint32_t)iy) * L->in_w + (uint32_t)ix] *
                                 L->w[(((size_t)co * L->in_c + ci) * k + ky) * k + kx];
                        }
                    }
                if (L->b) a += L->b[co];
                full[(co * ch + oy) * cw + ox] = a;
            }
    if (L->pool == POOL_NONE) {
        memcpy(cur, full, (size_t)L->n_out * sizeof *cur);
        return;
    }
    const uint32_t p = L->pool_k;
    for (uint32_t co = 0; co < L->out_c; co++)
        for (uint32_t py = 0; py < L->out_h; py++)
            for (uint32_t px = 0; px < L->out_w; px++) {
                float a = L->pool == POOL_MAX ? -INFINITY : 0.0f;
                for (uint32_t dy = 0; dy < p; dy++)
                    for (uint32_t dx = 0; dx < p; dx++) {
                        float c = full[(co * ch + py * p + dy) * cw + px * p + dx];
                        a = L->pool == POOL_MAX ? fmaxf(a, c) : a + c;
                    }
                if (L->pool == POOL_AVG) a /= (float)(p * p);
                cur[(co * L->out_h + py) * L->out_w + px] = a;
            }
}

int ref_run(const net *n, const sim_input *in, sim_result *res) {
    int rc = sim_check_input(n, in);
    if (rc) return rc;
    const uint32_t T = in->T;
    uint32_t maxn = n->n_in, maxfull = 1;
    for (uint32_t l = 0; l < n->n_layers; l++) {
        const net_layer *L = &n->layers[l];
        if (L->n_out > maxn) maxn = L->n_out;
        if (L->kind == NET_CONV && L->out_c * L->conv_h * L->conv_w > maxfull) maxfull = L->out_c * L->conv_h * L->conv_w;
    }
    float *x = malloc((size_t)T * maxn * sizeof *x);   /* [T, n_in of the layer] */
    float *y = malloc((size_t)T * maxn * sizeof *y);   /* [T, n_out of the layer] */
    float *u = malloc((size_t)maxn * sizeof *u);
    float *cur = malloc((size_t)maxn * sizeof *cur);
    float *full = malloc((size_t)maxfull * sizeof *full);
    if (!x || !y || !u || !cur || !full) { rc = evsnn_seterr(EVSNN_ENOMEM, "reference engine: no memory"); goto out; }
    if (in->train) spk_to_dense(x, in->train);
    else
        for (uint32_t t = 0; t < T; t++) memcpy(x + (size_t)t * n->n_in, in->static_x, n->n_in * sizeof *x);

    for (uint32_t l = 0; l < n->n_layers; l++) {
        const net_layer *L = &n->layers[l];
        const uint32_t no = L->n_out, ni = L->n_in;
        layer_stats *st = &res->st[l];
        memset(st, 0, sizeof *st);
        st->n = no;
        st->T = T;
        memset(y, 0, (size_t)T * no * sizeof *y);
        if (L->kind == NET_POOL) {
            const uint32_t p = L->pool_k;
            for (uint32_t t = 0; t < T; t++)
                for (uint32_t c = 0; c < L->out_c; c++)
                    for (uint32_t py = 0; py < L->out_h; py++)
                        for (uint32_t px = 0; px < L->out_w; px++) {
                            float a = 0.0f;
                            for (uint32_t dy = 0; dy < p; dy++)
                                for (uint32_t dx = 0; dx < p; dx++)
                                    a += x[(size_t)t * ni + (c * L->in_h + py * p + dy) * L->in_w + px * p + dx];
                            if (L->spool == SPOOL_OR) a = a > 0.0f ? 1.0f : 0.0f;
                            else if (L->pool == POOL_AVG) a *= 1.0f / (float)(p * p);
                            y[(size_t)t * no + (c * L->out_h + py) * L->out_w + px] = a;
                        }
        } else {
            for (uint32_t i = 0; i < no; i++) u[i] = 0.0f;
            for (uint32_t t = 0; t < T; t++) {
                sim_layer_currents(L, x + (size_t)t * ni, cur, full);
                for (uint32_t i = 0; i < no; i++) {
                    int R = lif_above(u[i], L->nc.theta, (int)L->nc.cmp);
                    u[i] = lif_next(u[i], cur[i], 0.0f, R, L->nc.beta, L->nc.theta, (int)L->nc.reset);
                    y[(size_t)t * no + i] = (float)lif_above(u[i], L->nc.theta, (int)L->nc.cmp);
                }
                if (res->mem[l]) memcpy(res->mem[l] + (size_t)t * no, u, no * sizeof *u);
            }
        }
        spk_clear(&res->out[l]);
        uint32_t silent = 0;
        for (uint32_t i = 0; i < no; i++) {
            int f = 0;
            for (uint32_t t = 0; t < T; t++) f |= y[(size_t)t * no + i] != 0.0f;
            silent += !f;
        }
        for (uint32_t t = 0; t < T; t++)
            for (uint32_t i = 0; i < no; i++) {
                float v = y[(size_t)t * no + i];
                if (v == 0.0f) continue;
                if ((rc = spk_push(&res->out[l], t, i, v))) goto out;
                st->spikes++;
            }
        if ((rc = spk_close(&res->out[l], 0))) goto out;
        st->silent = silent;
        float *sw = x; x = y; y = sw; /* this layer's output is the next one's input */
    }
out:
    free(x); free(y); free(u); free(cur); free(full);
    return rc;
}
