/* hw/model.c — the cycle model: per-layer encoder, spike queue and PE array per step, the
 * SNN-DSE-compatible state machines, and the schedules that compose steps and layers.
 * Cycle semantics (both run modes follow them; hw/README.md states them for users):
 *   within a cycle the PE array acts first (pops the queue head if idle), then the encoder
 *   (a push is visible to the PEs from the next cycle); occupancy is sampled at the end of
 *   every cycle into the histogram; change points of that sample form the time series. */
#include <stdlib.h>
#include <string.h>

#include "hw/hw.h"
#include "sim/evsnn.h"

/* Derived per-layer costs for the current PE counts. */
typedef struct {
    uint64_t c_spk;    /* PE cycles per input spike */
    uint64_t c_sweep;  /* PE cycles of the per-step neuron sweep */
    uint32_t hw;       /* bits of one channel map (dense: n_in) */
    uint32_t mapch;    /* encoder chunks per map */
    uint32_t nch;      /* encoder chunks per step */
    uint32_t width;
} lparams;

struct hw_machine {
    hw_cfg cfg;
    net shape;          /* layers copied, params NULL */
    uint32_t T, L;
    hw_layer_cfg *lc;   /* [L] */
    lparams *lp;        /* [L] */
    uint8_t **vy, **vx; /* conv: valid kernel rows / cols per input y / x, [L] → [in_h] / [in_w] */
    uint32_t **chtab;   /* [L] → [n_in] encoder chunk of each input address */
    uint32_t **taptab;  /* [L] → [n_in] conv: in-frame taps × out_c of each input address */
    uint64_t *p, *q;    /* jump-ahead scratch: push and pop cycle of each accepted spike */
    uint32_t cap;
};

static uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

static void derive(const net_layer *y, const hw_layer_cfg *c, lparams *d) {
    uint64_t P = c->pes;
    if (y->kind == NET_DENSE) {
        uint64_t n = ceil_div(y->n_out, P);
        d->c_spk = (uint64_t)c->neuron_cycles * n;
        d->c_sweep = n * c->update_cycles;
    } else if (y->kind == NET_CONV) {
        uint64_t g = ceil_div(y->out_c, P);
        d->c_spk = (uint64_t)y->k * y->k * g;
        d->c_sweep = (uint64_t)y->out_h * y->out_w * g * c->update_cycles;
    } else {
        d->c_spk = 1;
        d->c_sweep = 0;
    }
    d->width = c->encoder_width;
    uint32_t hw = y->in_h * y->in_w;
    if (hw > 1 && y->in_c * hw == y->n_in) {
        d->hw = hw;
        d->mapch = (uint32_t)ceil_div(hw, d->width);
        d->nch = y->in_c * d->mapch;
    } else {
        d->hw = y->n_in;
        d->mapch = d->nch = (uint32_t)ceil_div(y->n_in, d->width);
    }
}

static inline uint32_t chunk_of(const lparams *d, uint32_t a) {
    return (a / d->hw) * d->mapch + (a % d->hw) / d->width;
}

/* ---------------------------------------------------------------- machine */

hw_machine *hw_create(const hw_cfg *c, const net *shape, uint32_t T, int *err) {
    int dummy;
    if (!err) err = &dummy;
    if (!shape || !shape->n_layers || !T) {
        *err = evsnn_seterr(EVSNN_EINVAL, "hw: need a network with layers and T > 0");
        return NULL;
    }
    hw_machine *m = calloc(1, sizeof *m);
    if (!m) { *err = evsnn_seterr(EVSNN_ENOMEM, "hw: no memory"); return NULL; }
    m->cfg = *c;
    m->shape = *shape;
    m->shape.params = NULL;
    m->T = T;
    m->L = shape->n_layers;
    m->shape.layers = calloc(m->L, sizeof *m->shape.layers);
    m->lc = calloc(m->L, sizeof *m->lc);
    m->lp = calloc(m->L, sizeof *m->lp);
    m->vy = calloc(m->L, sizeof *m->vy);
    m->vx = calloc(m->L, sizeof *m->vx);
    m->chtab = calloc(m->L, sizeof *m->chtab);
    m->taptab = calloc(m->L, sizeof *m->taptab);
    if (!m->shape.layers || !m->lc || !m->lp || !m->vy || !m->vx || !m->chtab || !m->taptab) {
        *err = evsnn_seterr(EVSNN_ENOMEM, "hw: no memory");
        hw_free(m);
        return NULL;
    }
    memcpy(m->shape.layers, shape->layers, m->L * sizeof *m->shape.layers);
    if ((*err = hw_cfg_resolve(c, shape, m->lc))) { hw_free(m); return NULL; }
    for (uint32_t l = 0; l < m->L; l++) {
        net_layer *y = &m->shape.layers[l];
        y->w = y->b = NULL;
        if (y->n_in == 0 || y->n_out == 0 || (l > 0 && y->n_in != m->shape.layers[l - 1].n_out)) {
            *err = evsnn_seterr(EVSNN_ESHAPE, "hw: layer %u (%s): n_in %u, n_out %u do not chain", l, y->name,
                                y->n_in, y->n_out);
            hw_free(m);
            return NULL;
        }
        if (y->kind == NET_CONV) {
            if (!y->k || y->in_c * y->in_h * y->in_w != y->n_in || !y->conv_h || !y->conv_w) {
                *err = evsnn_seterr(EVSNN_ESHAPE, "hw: conv layer %u (%s): shape incomplete", l, y->name);
                hw_free(m);
                return NULL;
            }
            m->vy[l] = malloc(y->in_h);
            m->vx[l] = malloc(y->in_w);
            if (!m->vy[l] || !m->vx[l]) { *err = evsnn_seterr(EVSNN_ENOMEM, "hw: no memory"); hw_free(m); return NULL; }
            /* taps of the K×K window that land inside the conv output for an input at y (x) */
            for (uint32_t i = 0; i < y->in_h; i++) {
                uint32_t v = 0;
                for (uint32_t ky = 0; ky < y->k; ky++) {
                    int64_t o = (int64_t)i + y->pad - ky;
                    v += o >= 0 && o < (int64_t)y->conv_h;
                }
                m->vy[l][i] = (uint8_t)v;
            }
            for (uint32_t i = 0; i < y->in_w; i++) {
                uint32_t v = 0;
                for (uint32_t kx = 0; kx < y->k; kx++) {
                    int64_t o = (int64_t)i + y->pad - kx;
                    v += o >= 0 && o < (int64_t)y->conv_w;
                }
                m->vx[l][i] = (uint8_t)v;
            }
        }
        derive(y, &m->lc[l], &m->lp[l]);
        /* per-address tables: the hot loops then do no division */
        m->chtab[l] = malloc((size_t)y->n_in * sizeof **m->chtab);
        if (!m->chtab[l]) { *err = evsnn_seterr(EVSNN_ENOMEM, "hw: no memory"); hw_free(m); return NULL; }
        for (uint32_t a = 0; a < y->n_in; a++) m->chtab[l][a] = chunk_of(&m->lp[l], a);
        if (y->kind == NET_CONV) {
            m->taptab[l] = malloc((size_t)y->n_in * sizeof **m->taptab);
            if (!m->taptab[l]) { *err = evsnn_seterr(EVSNN_ENOMEM, "hw: no memory"); hw_free(m); return NULL; }
            for (uint32_t a = 0; a < y->n_in; a++) {
                uint32_t r = a % (y->in_h * y->in_w);
                m->taptab[l][a] = (uint32_t)m->vy[l][r / y->in_w] * m->vx[l][r % y->in_w] * y->out_c;
            }
        }
    }
    *err = 0;
    return m;
}

void hw_free(hw_machine *m) {
    if (!m) return;
    for (uint32_t l = 0; m->vy && l < m->L; l++) {
        free(m->vy[l]);
        free(m->vx[l]);
        if (m->chtab) free(m->chtab[l]);
        if (m->taptab) free(m->taptab[l]);
    }
    free(m->chtab);
    free(m->taptab);
    free(m->vy);
    free(m->vx);
    free(m->shape.layers);
    free(m->lc);
    free(m->lp);
    free(m->p);
    free(m->q);
    free(m);
}

const hw_layer_cfg *hw_layers(const hw_machine *m) { return m->lc; }

int hw_set_pes(hw_machine *m, uint32_t layer, uint32_t pes) {
    if (layer >= m->L || pes == 0) return evsnn_seterr(EVSNN_EINVAL, "hw: layer %u, %u PEs", layer, pes);
    m->lc[layer].pes = pes;
    derive(&m->shape.layers[layer], &m->lc[layer], &m->lp[layer]);
    return 0;
}

/* ---------------------------------------------------------------- counting helpers */

static int push_pt(hw_layer_res *R, uint64_t cyc, uint32_t occ) {
    if (R->n_pts == R->cap_pts) {
        uint64_t nc = R->cap_pts ? R->cap_pts * 2 : 256;
        uint64_t *np = realloc(R->pts, nc * 2 * sizeof *np);
        if (!np) return evsnn_seterr(EVSNN_ENOMEM, "hw: no memory for the occupancy series");
        R->pts = np;
        R->cap_pts = nc;
    }
    R->pts[2 * R->n_pts] = cyc;
    R->pts[2 * R->n_pts + 1] = occ;
    R->n_pts++;
    return 0;
}

/* Operations of one accepted input spike at address a. */
static inline void spike_ops(const hw_machine *m, uint32_t l, uint32_t a, hw_ops *o) {
    const net_layer *y = &m->shape.layers[l];
    if (y->kind == NET_DENSE) {
        o->accumulates += y->n_out;
        o->weight_reads += y->n_out;
    } else if (y->kind == NET_CONV) {
        uint64_t taps = m->taptab[l][a];
        /* read-modify-write of the membrane at every in-frame tap */
        o->accumulates += taps;
        o->weight_reads += taps;
        o->membrane_reads += taps;
        o->membrane_writes += taps;
    }
}

/* Operations of one step's sweep (independent of the run mode). */
static inline void sweep_ops(const net_layer *y, hw_ops *o) {
    if (y->kind == NET_POOL) return;
    o->neuron_updates += y->n_out;
    o->membrane_reads += y->n_out;
    o->membrane_writes += y->n_out;
}

typedef struct {
    uint64_t cycles;
} step_out;

static int overflow_error(const hw_machine *m, uint32_t l, uint32_t t, uint64_t cyc, uint32_t k) {
    return evsnn_seterr(EVSNN_EFULL,
                        "hw: layer %u (%s), step %u, cycle %llu: spike %u finds the queue full (depth %u, "
                        "overflow = error); raise queue_depth or use stall / drop",
                        l, m->shape.layers[l].name, t, (unsigned long long)cyc, k, m->lc[l].queue_depth);
}

/* ---------------------------------------------------------------- generic machine, per cycle */

enum { ENC_LOAD, ENC_ADDR, ENC_PUSH, ENC_DETECT, ENC_DONE };

static int step_per_cycle(hw_machine *m, uint32_t l, uint32_t t, const uint32_t *a, uint32_t s, uint64_t t0,
                          int record, hw_layer_res *R, step_out *so) {
    const lparams *d = &m->lp[l];
    const hw_layer_cfg *c = &m->lc[l];
    const uint32_t depth = c->queue_depth;
    uint64_t cyc = 0, pe_rem = 0;
    uint32_t occ = 0, j = 0, k = 0;
    int enc = ENC_LOAD, waiting = 0;
    const uint32_t *chtab = m->chtab[l];
    uint32_t nextch = s ? chtab[a[0]] : UINT32_MAX;
    uint64_t *hist = R->hist;
    uint32_t last = R->occ_last;
    for (;;) {
        if (pe_rem == 0 && occ > 0) { occ--; pe_rem = d->c_spk; }
        int busy = pe_rem > 0;
        if (busy) { R->pe_busy++; pe_rem--; }
        if (enc != ENC_DONE) {
            R->ops.encoder_cycles++;
            if (!busy) R->stall_encoder++;
            switch (enc) {
            case ENC_LOAD:
                R->ops.spike_reads++;
                enc = nextch == j ? ENC_ADDR : ENC_DETECT;
                break;
            case ENC_ADDR:
                enc = ENC_PUSH;
                break;
            case ENC_PUSH:
                if (occ < depth) {
                    occ++;
                    R->accepted++;
                    spike_ops(m, l, a[k], &R->ops);
                } else {
                    if (!waiting) R->overflow_events++;
                    if (c->overflow == HW_STALL) { R->stall_full++; waiting = 1; break; }
                    if (c->overflow == HW_ERROR) return overflow_error(m, l, t, cyc, k);
                    R->dropped++;
                }
                waiting = 0;
                k++;
                nextch = k < s ? chtab[a[k]] : UINT32_MAX;
                enc = nextch == j ? ENC_ADDR : ENC_DETECT;
                break;
            case ENC_DETECT:
                j++;
                enc = j == d->nch ? ENC_DONE : ENC_LOAD;
                break;
            }
        }
        hist[occ]++;
        if (occ > R->occ_max) R->occ_max = occ;
        if (occ != last) {
            if (record && push_pt(R, t0 + cyc, occ)) return EVSNN_ENOMEM;
            last = occ;
        }
        cyc++;
        if (enc == ENC_DONE && occ == 0 && pe_rem == 0) break;
    }
    /* the sweep and the hand-shake, one cycle at a time (occupancy stays 0) */
    for (uint64_t i = 0; i < d->c_sweep; i++) { hist[0]++; cyc++; }
    R->pe_busy += d->c_sweep;
    R->stall_sweep += d->c_sweep;
    for (uint32_t i = 0; i < c->step_overhead; i++) { hist[0]++; cyc++; }
    R->occ_last = last;
    so->cycles = cyc;
    return 0;
}

/* ---------------------------------------------------------------- generic machine, jump-ahead */

static int grow(hw_machine *m, uint32_t s) {
    if (s <= m->cap) return 0;
    uint32_t nc = s < 1024 ? 1024 : s;
    uint64_t *np = realloc(m->p, (size_t)nc * sizeof *np);
    if (!np) return evsnn_seterr(EVSNN_ENOMEM, "hw: no memory");
    m->p = np;
    uint64_t *nq = realloc(m->q, (size_t)nc * sizeof *nq);
    if (!nq) return evsnn_seterr(EVSNN_ENOMEM, "hw: no memory");
    m->q = nq;
    m->cap = nc;
    return 0;
}

static int step_jump(hw_machine *m, uint32_t l, uint32_t t, const uint32_t *a, uint32_t s, uint64_t t0,
                     int record, hw_layer_res *R, step_out *so) {
    const lparams *d = &m->lp[l];
    const hw_layer_cfg *c = &m->lc[l];
    const uint32_t depth = c->queue_depth;
    const uint64_t cs = d->c_spk;
    if (grow(m, s)) return EVSNN_ENOMEM;
    uint64_t *p = m->p, *q = m->q, delta = 0, taps = 0;
    uint32_t acc = 0;
    const uint32_t *chtab = m->chtab[l], *taptab = m->taptab[l];
    for (uint32_t k = 0; k < s; k++) {
        /* push attempt of spike k: chunk loads and detects (2 per chunk before it), 2 cycles
         * per earlier spike, its own load + address cycle, and the stalls so far */
        uint64_t tau = 2 * (uint64_t)chtab[a[k]] + 2 * (uint64_t)k + 2 + delta, at = tau;
        if (acc >= depth && q[acc - depth] > tau) {
            R->overflow_events++;
            if (c->overflow == HW_ERROR) return overflow_error(m, l, t, tau, k);
            if (c->overflow == HW_DROP) { R->dropped++; continue; }
            at = q[acc - depth];
            R->stall_full += at - tau;
            delta += at - tau;
        }
        p[acc] = at;
        q[acc] = acc ? (at + 1 > q[acc - 1] + cs ? at + 1 : q[acc - 1] + cs) : at + 1;
        acc++;
        if (taptab) taps += taptab[a[k]];
    }
    /* the accepted spikes' operations, summed (spike_ops per spike in the per-cycle mode) */
    const net_layer *y = &m->shape.layers[l];
    if (y->kind == NET_DENSE) taps = (uint64_t)acc * y->n_out;
    if (y->kind != NET_POOL) {
        R->ops.accumulates += taps;
        R->ops.weight_reads += taps;
        if (y->kind == NET_CONV) { R->ops.membrane_reads += taps; R->ops.membrane_writes += taps; }
    }
    uint64_t E = 2 * (uint64_t)d->nch + 2 * (uint64_t)s + delta;
    uint64_t end = acc && q[acc - 1] + cs > E ? q[acc - 1] + cs : E;
    R->accepted += acc;
    R->ops.encoder_cycles += E;
    R->ops.spike_reads += d->nch;
    /* PE starved while the encoder runs: encoder cycles not covered by a spike's work */
    uint64_t covered = 0;
    for (uint32_t i = 0; i < acc && q[i] < E; i++) covered += (q[i] + cs < E ? q[i] + cs : E) - q[i];
    R->stall_encoder += E - covered;
    R->pe_busy += (uint64_t)acc * cs + d->c_sweep;
    R->stall_sweep += d->c_sweep;
    /* occupancy: +1 at each push cycle, −1 at each pop cycle, constant in between; pushes
     * (and pops) are strictly increasing, so one of each at most per cycle */
    uint64_t *hist = R->hist, lastt = 0;
    uint32_t cur = 0, ip = 0, iq = 0, last = R->occ_last, omax = R->occ_max;
    while (iq < acc) {
        uint64_t tt;
        if (ip < acc && p[ip] < q[iq]) {
            tt = p[ip++];
            hist[cur] += tt - lastt;
            cur++;
            if (cur > omax) omax = cur;
        } else if (ip < acc && p[ip] == q[iq]) {
            ip++;
            iq++;
            continue;
        } else {
            tt = q[iq++];
            hist[cur] += tt - lastt;
            cur--;
        }
        lastt = tt;
        if (record && cur != last) {
            if (push_pt(R, t0 + tt, cur)) return EVSNN_ENOMEM;
            last = cur;
        }
    }
    if (!record) last = cur;
    R->occ_max = omax;
    hist[0] += end - lastt + d->c_sweep + c->step_overhead;
    R->occ_last = last;
    so->cycles = end + d->c_sweep + c->step_overhead;
    return 0;
}

/* ---------------------------------------------------------------- SNN-DSE FC (2023 event control) */

/* Per step: one cycle taking the spike word, two per spike found by the priority encoder
 * plus one seeing it empty, L·n per spike (the address list is rotated past the neural
 * units, each spending L cycles per neuron), one cycle enabling activation, n activation
 * cycles: s·(2 + L·n) + n + 3. The address list (depth = queue_depth) holds the step's
 * addresses from their encoding to the end of the step. */
static int fc_rtl_step(hw_machine *m, uint32_t l, uint32_t t, uint32_t s, uint64_t t0, int record,
                       hw_run_mode mode, hw_layer_res *R, step_out *so) {
    const hw_layer_cfg *c = &m->lc[l];
    const uint64_t n = ceil_div(m->shape.layers[l].n_out, c->pes), L = c->neuron_cycles;
    const uint32_t depth = c->queue_depth;
    if (s > depth) {
        R->overflow_events++;
        if (c->overflow == HW_ERROR) return overflow_error(m, l, t, 2 * (uint64_t)depth + 1, depth);
    }
    if (s == 0) R->rtl_hang_steps++;
    uint64_t *hist = R->hist;
    uint32_t last = R->occ_last;
    uint64_t cyc = 0;
    if (mode == HW_PER_CYCLE) {
        int st = 0;
        uint32_t cnt = 0, k = 0;
        uint64_t lat = 0, shift = 0;
        for (int done = 0; !done;) {
            switch (st) {
            case 0: st = 2; R->stall_encoder++; R->ops.encoder_cycles++; break;
            case 2:
                R->stall_encoder++;
                R->ops.encoder_cycles++;
                if (k < s) { cnt++; k++; st = 1; }
                else st = s ? 3 : 4; /* s = 0: the RTL would stay in 3; charged as skipped */
                break;
            case 1: st = 2; R->stall_encoder++; R->ops.encoder_cycles++; break;
            case 3:
                R->pe_busy++;
                if (lat < L * n - 1) lat++;
                else {
                    lat = 0;
                    if (shift < cnt - 1) shift++;
                    else { shift = 0; st = 4; }
                }
                break;
            case 4: st = 5; R->stall_sweep++; break;
            case 5:
                R->pe_busy++;
                R->stall_sweep++;
                if (lat < n - 1) lat++;
                else done = 1;
                break;
            }
            uint32_t occ = cnt < depth ? cnt : depth;
            hist[occ]++;
            if (occ > R->occ_max) R->occ_max = occ;
            if (occ != last) {
                if (record && push_pt(R, t0 + cyc, occ)) return EVSNN_ENOMEM;
                last = occ;
            }
            cyc++;
        }
    } else {
        cyc = (uint64_t)s * (2 + L * n) + n + 3;
        R->stall_encoder += 2 * (uint64_t)s + 2;
        R->ops.encoder_cycles += 2 * (uint64_t)s + 2;
        R->pe_busy += (uint64_t)s * L * n + n;
        R->stall_sweep += n + 1;
        /* occupancy k+1 from cycle 1 + 2k; held to the end of the step */
        hist[0] += s ? 1 : cyc;
        if (last != 0) {
            if (record && push_pt(R, t0, 0)) return EVSNN_ENOMEM;
            last = 0;
        }
        for (uint32_t k = 0; k < s; k++) {
            uint32_t occ = k + 1 < depth ? k + 1 : depth;
            uint64_t len = k + 1 < s ? 2 : cyc - (2 * (uint64_t)s - 1);
            hist[occ] += len;
            if (occ > R->occ_max) R->occ_max = occ;
            if (occ != last) {
                if (record && push_pt(R, t0 + 1 + 2 * (uint64_t)k, occ)) return EVSNN_ENOMEM;
                last = occ;
            }
        }
    }
    R->ops.spike_reads++;
    R->occ_last = last;
    so->cycles = cyc;
    return 0;
}

/* ---------------------------------------------------------------- SNN-DSE conv (sparse conv event control) */

/* Two machines run side by side over the whole sample.
 * Encoder E, for each output-channel phase (⌈out_c/P⌉), step and input channel: one wait
 * cycle for the map read, then per chunk of `encoder_width` bits a load cycle, two cycles per
 * spike and one seeing the chunk empty; with spikes it raises "compressed" and waits
 * (TRANSIT) for the iterator to be available, then one cycle to move to the next channel
 * (the last channel raises "input channels done"), one for the next step, one for the next
 * phase, one raising done.
 * Iterator I: idle until compressed (→ K² cycles per spike) or input channels done (→ the
 * sweep); after the last channel's spikes it sweeps the output map (out_h·out_w − 1 cycles).
 * "available" falls after I's first spike cycle and rises one cycle after I is idle again.
 * Done rises while the last sweep still runs: both instants are reported. */
enum { E_IDLE, E_WAIT, E_LOAD, E_ITER, E_RESET, E_TRANSIT, E_IC, E_TS, E_OC, E_DONE, E_FIN };
enum { I_IDLE, I_SPK, I_ACT };

static int conv_rtl(hw_machine *m, uint32_t l, const spk_train *in, uint64_t t0, int record, hw_run_mode mode,
                    hw_layer_res *R) {
    const net_layer *y = &m->shape.layers[l];
    const hw_layer_cfg *c = &m->lc[l];
    const lparams *d = &m->lp[l];
    const uint32_t IC = y->in_c, T = m->T, HW = y->in_h * y->in_w, W = d->width;
    const uint32_t phases = (uint32_t)((y->out_c - 1) / c->pes + 1), nchm = d->mapch;
    const uint64_t K2 = (uint64_t)y->k * y->k, OFS = (uint64_t)y->conv_h * y->conv_w;
    const uint32_t depth = c->queue_depth;
    if (OFS < 2 || K2 == 0)
        return evsnn_seterr(EVSNN_ENOTSUP, "hw: snn-dse conv layer %u (%s): output map %llux%u is too small",
                            l, y->name, (unsigned long long)y->conv_h, y->conv_w);
    /* encoder registers */
    int e = E_IDLE, compr = 0, icdone = 0, loaded = 0;
    uint32_t ic = 0, ts = 0, oc = 0, chunk = 0, cnt = 0, inchunk = 0, kptr = 0, kend = 0;
    /* iterator registers */
    int it = I_IDLE, avail = 1, once = 1;
    uint64_t fph = 0, phase = 0, total = 0, nl = 0;
    uint64_t cyc = 0, done_at = 0, end_at = 0;
    uint32_t last = R->occ_last;
    uint64_t *hist = R->hist;
    for (;;) {
        /* ---- a jump: both machines in stretches whose outputs stay put */
        if (mode == HW_JUMP && !avail && ((e == E_TRANSIT) || e == E_FIN)) {
            uint64_t rem = it == I_SPK ? (total - 1 - phase) * K2 + (K2 - 1 - fph)
                         : it == I_ACT ? OFS - 2 - nl : 0;
            /* advance to one cycle before I's next decision; counters move in bulk */
            if (rem > 1) {
                uint64_t n = rem - 1;
                if (it == I_SPK) {
                    uint64_t pos = phase * K2 + fph + n;
                    phase = pos / K2;
                    fph = pos % K2;
                    R->pe_busy += n;
                } else {
                    nl += n;
                    R->pe_busy += n;
                    R->stall_sweep += n;
                }
                uint32_t occ = cnt < depth ? cnt : depth;
                hist[occ] += n;
                cyc += n;
                continue;
            }
        }
        /* ---- encoder, from the registers of this cycle */
        int ne = e, ncompr = compr, nicdone = icdone, nloaded = loaded;
        uint32_t nic = ic, nts = ts, noc = oc, nchunk = chunk, ncnt = cnt, ninchunk = inchunk;
        if (avail) nicdone = 0;
        switch (e) {
        case E_IDLE: nloaded = 0; ncompr = 0; ne = E_WAIT; break;
        case E_WAIT: {
            /* the map of (step ts, channel ic): its events in the input train */
            kptr = in->off[ts];
            kend = in->off[ts + 1];
            while (kptr < kend && in->idx[kptr] < ic * HW) kptr++;
            ne = E_LOAD;
            R->ops.spike_reads++;
            break;
        }
        case E_LOAD: {
            uint32_t lo = ic * HW + chunk * W, hi = lo + W < (ic + 1) * HW ? lo + W : (ic + 1) * HW;
            uint32_t k = kptr;
            while (k < kend && in->idx[k] < hi) k++;
            (void)lo;
            ninchunk = k - kptr;
            kptr = k;
            ne = E_ITER;
            break;
        }
        case E_ITER:
            if (inchunk == 0) {
                if (chunk == nchm - 1) {
                    nchunk = 0;
                    if (cnt > 0) { ncompr = 1; ne = E_TRANSIT; }
                    else ne = E_IC;
                } else { nchunk = chunk + 1; ne = E_LOAD; }
            } else {
                ncnt = cnt + 1;
                ninchunk = inchunk - 1;
                ne = E_RESET;
                if (ncnt == depth + 1) R->overflow_events++;
            }
            break;
        case E_RESET: ne = E_ITER; break;
        case E_TRANSIT: if (avail) ne = E_IC; break;
        case E_IC:
            ncnt = 0;
            ncompr = 0;
            if (ic < IC - 1) { nic = ic + 1; ne = E_WAIT; }
            else { nicdone = 1; nic = 0; ne = E_TS; }
            break;
        case E_TS:
            if (ts < T - 1) { nts = ts + 1; ne = E_WAIT; }
            else { nts = 0; ne = E_OC; }
            break;
        case E_OC:
            if (oc < phases - 1) { noc = oc + 1; ne = E_WAIT; }
            else { noc = 0; ne = E_DONE; }
            break;
        case E_DONE: nloaded = 1; ne = E_FIN; break;
        case E_FIN: break;
        }
        if (e >= E_WAIT && e <= E_RESET) R->ops.encoder_cycles++;
        /* ---- iterator */
        int nit = it, navail = avail, nonce = once;
        uint64_t nfph = fph, nphase = phase, ntotal = total, nnl = nl;
        switch (it) {
        case I_IDLE:
            navail = 1;
            if (icdone && once) nit = I_ACT;
            else if (compr) {
                nonce = 1;
                nit = I_SPK;
                ntotal = cnt;
                if (cnt > depth && c->overflow == HW_ERROR)
                    return overflow_error(m, l, ts, cyc, depth);
            }
            break;
        case I_SPK:
            navail = 0;
            R->pe_busy++;
            if (fph < K2 - 1) nfph = fph + 1;
            else {
                nfph = 0;
                if (phase < total - 1) nphase = phase + 1;
                else { nphase = 0; nit = icdone ? I_ACT : I_IDLE; }
            }
            break;
        case I_ACT:
            nonce = 0;
            R->pe_busy++;
            R->stall_sweep++;
            if (nl < OFS - 2) nnl = nl + 1;
            else { nnl = 0; nit = I_IDLE; end_at = cyc + 1; }
            break;
        }
        if (e == E_DONE) done_at = cyc + 2; /* done is high in the next cycle: count through it */
        if (it == I_IDLE && e != E_FIN) R->stall_encoder++;
        uint32_t occ = cnt < depth ? cnt : depth;
        hist[occ]++;
        if (occ > R->occ_max) R->occ_max = occ;
        if (occ != last) {
            if (record && push_pt(R, t0 + cyc, occ)) return EVSNN_ENOMEM;
            last = occ;
        }
        cyc++;
        e = ne; compr = ncompr; icdone = nicdone; loaded = nloaded;
        ic = nic; ts = nts; oc = noc; chunk = nchunk; cnt = ncnt; inchunk = ninchunk;
        it = nit; avail = navail; once = nonce; fph = nfph; phase = nphase; total = ntotal; nl = nnl;
        if (e == E_FIN && it == I_IDLE) break;
        if (cyc > ((uint64_t)1 << 40)) return evsnn_seterr(EVSNN_ERANGE, "hw: conv layer %u does not finish", l);
    }
    (void)loaded;
    R->rtl_done = done_at;
    R->rtl_end = end_at > done_at ? end_at : done_at;
    R->occ_last = last;
    R->cycles = R->rtl_end;
    /* hist covers cycles [0, cyc); pad to the reported end */
    if (R->rtl_end > cyc) hist[0] += R->rtl_end - cyc;
    return 0;
}

/* ---------------------------------------------------------------- one sample */

void hw_sample_free(hw_sample *s) {
    if (!s) return;
    for (uint32_t l = 0; s->l && l < s->n_layers; l++) {
        free(s->l[l].hist);
        free(s->l[l].step_cycles);
        free(s->l[l].pts);
    }
    free(s->l);
    memset(s, 0, sizeof *s);
}

static void add_ops(hw_ops *a, const hw_ops *b) {
    a->accumulates += b->accumulates;
    a->weight_reads += b->weight_reads;
    a->membrane_reads += b->membrane_reads;
    a->membrane_writes += b->membrane_writes;
    a->spike_reads += b->spike_reads;
    a->spike_writes += b->spike_writes;
    a->encoder_cycles += b->encoder_cycles;
    a->neuron_updates += b->neuron_updates;
}

int hw_run(hw_machine *m, const spk_train *input, const spk_train *layers, hw_run_mode mode, int record,
           hw_sample *out) {
    memset(out, 0, sizeof *out);
    const uint32_t L = m->L, T = m->T;
    if (input->T != T || input->n != m->shape.layers[0].n_in)
        return evsnn_seterr(EVSNN_ESHAPE, "hw: input train is %u steps x %u channels, the model expects %u x %u",
                            input->T, input->n, T, m->shape.layers[0].n_in);
    for (uint32_t l = 0; l < L; l++)
        if (layers[l].T != T || layers[l].n != m->shape.layers[l].n_out)
            return evsnn_seterr(EVSNN_ESHAPE, "hw: layer %u (%s) train is %u steps x %u channels, expected %u x %u",
                                l, m->shape.layers[l].name, layers[l].T, layers[l].n, T, m->shape.layers[l].n_out);
    out->n_layers = L;
    out->T = T;
    out->l = calloc(L, sizeof *out->l);
    if (!out->l) return evsnn_seterr(EVSNN_ENOMEM, "hw: no memory");
    for (uint32_t l = 0; l < L; l++) {
        hw_layer_res *R = &out->l[l];
        R->depth = m->lc[l].queue_depth;
        R->hist = calloc((size_t)R->depth + 1, sizeof *R->hist);
        R->step_cycles = calloc(T, sizeof *R->step_cycles);
        if (!R->hist || !R->step_cycles) { hw_sample_free(out); return evsnn_seterr(EVSNN_ENOMEM, "hw: no memory"); }
    }
    const int rtl = m->cfg.model == HW_MODEL_SNNDSE;
    const hw_schedule sch = m->cfg.schedule;
    uint64_t *Fprev = calloc(T, sizeof *Fprev), *Fcur = calloc(T, sizeof *Fcur);
    if (!Fprev || !Fcur) { free(Fprev); free(Fcur); hw_sample_free(out); return evsnn_seterr(EVSNN_ENOMEM, "hw: no memory"); }
    uint64_t layer_start = 0, rtl_start = 0, latency = 0;
    int rc = 0;
    for (uint32_t l = 0; l < L && !rc; l++) {
        hw_layer_res *R = &out->l[l];
        const net_layer *y = &m->shape.layers[l];
        const spk_train *in = l ? &layers[l - 1] : input;
        R->in_spikes = in->nnz;
        for (uint32_t t = 0; t < T; t++) {
            R->ops.spike_writes += spk_count(&layers[l], t);
            sweep_ops(y, &R->ops);
        }
        if (rtl && y->kind == NET_CONV) {
            /* one machine over all steps; pipelining across steps does not apply: it starts
             * when its input is complete */
            if (sch == HW_PIPE_STEPS) layer_start = l ? Fprev[T - 1] : 0;
            R->start = layer_start;
            rc = conv_rtl(m, l, in, layer_start, record, mode, R);
            if (rc) break;
            R->accepted = in->nnz;
            for (uint32_t t = 0; t < T; t++) Fcur[t] = layer_start + R->rtl_end;
            R->end = layer_start + R->rtl_end;
            R->stall_prev = sch == HW_PIPE_STEPS ? 0 : layer_start;
            R->step_cycles[T - 1] = R->rtl_end;
        } else {
            uint64_t tcur = layer_start;
            for (uint32_t t = 0; t < T && !rc; t++) {
                uint64_t st = tcur;
                if (sch == HW_PIPE_STEPS) {
                    uint64_t ready = l ? Fprev[t] : 0, free_at = t ? Fcur[t - 1] : 0;
                    st = ready > free_at ? ready : free_at;
                    if (l && ready > free_at) R->stall_prev += ready - free_at;
                }
                if (t == 0) R->start = st;
                step_out so = {0};
                const uint32_t *a = in->idx + in->off[t];
                uint32_t s = spk_count(in, t);
                if (rtl && y->kind == NET_DENSE) rc = fc_rtl_step(m, l, t, s, st, record, mode, R, &so);
                else if (mode == HW_PER_CYCLE) rc = step_per_cycle(m, l, t, a, s, st, record, R, &so);
                else rc = step_jump(m, l, t, a, s, st, record, R, &so);
                if (rc) break;
                R->step_cycles[t] = so.cycles;
                R->cycles += so.cycles;
                Fcur[t] = st + so.cycles;
                tcur = Fcur[t];
            }
            if (rc) break;
            if (rtl && y->kind == NET_DENSE) R->accepted = in->nnz;
            R->end = Fcur[T - 1];
            if (sch != HW_PIPE_STEPS) R->stall_prev = layer_start;
            R->rtl_done = R->rtl_end = R->cycles;
        }
        if (R->end > latency) latency = R->end;
        if (sch != HW_PIPE_STEPS) layer_start = R->start + R->cycles;
        /* the RTL's chain: each layer starts at its predecessor's done signal */
        rtl_start += R->rtl_done;
        add_ops(&out->ops, &R->ops);
        if (R->cycles > out->bottleneck) out->bottleneck = R->cycles;
        out->sim_cycles += R->cycles;
        uint64_t *tmp = Fprev; Fprev = Fcur; Fcur = tmp;
    }
    free(Fprev);
    free(Fcur);
    if (rc) { hw_sample_free(out); return rc; }
    out->latency = latency;
    out->latency_rtl = rtl ? rtl_start : latency;
    return 0;
}

/* ---------------------------------------------------------------- energy */

double hw_energy_pj(const hw_cfg *c, const hw_ops *o, uint64_t cycles) {
    const hw_energy *e = &c->energy;
    double dyn = o->accumulates * e->accumulate_pj + o->neuron_updates * e->neuron_update_pj +
                 o->membrane_reads * e->membrane_read_pj + o->membrane_writes * e->membrane_write_pj +
                 o->spike_reads * e->spike_read_pj + o->spike_writes * e->spike_write_pj +
                 o->encoder_cycles * e->encoder_cycle_pj;
    dyn += o->weight_reads * e->weight_read_pj; /* on-chip; DRAM: hw_sample_energy_pj */
    /* static: mW × cycles / MHz = mW·µs = nJ → ×1000 pJ */
    double stat = e->static_mw * ((double)cycles / c->clock_mhz) * 1000.0;
    return dyn + stat;
}

double hw_sample_energy_pj(const hw_machine *m, const hw_sample *s) {
    hw_ops on = s->ops;
    uint64_t dram = 0;
    for (uint32_t l = 0; l < s->n_layers; l++)
        if (m->lc[l].weight_mem == HW_MEM_DRAM) dram += s->l[l].ops.weight_reads;
    on.weight_reads -= dram;
    return hw_energy_pj(&m->cfg, &on, s->latency) + (double)dram * m->cfg.energy.weight_read_dram_pj;
}

const hw_cfg *hw_machine_cfg(const hw_machine *m) { return &m->cfg; }
const net *hw_machine_net(const hw_machine *m) { return &m->shape; }
uint32_t hw_machine_T(const hw_machine *m) { return m->T; }
