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

/* v[i]: how many of a k-tap window's taps put an input at i (of n) inside an output of
 * out positions with padding pad, along one axis. */
static void taps_inside(uint8_t *v, uint32_t n, uint32_t k, uint32_t pad, uint32_t out) {
    for (uint32_t i = 0; i < n; i++) {
        uint32_t c = 0;
        for (uint32_t t = 0; t < k; t++) {
            const int64_t o = (int64_t)i + pad - t;
            c += o >= 0 && o < (int64_t)out;
        }
        v[i] = (uint8_t)c;
    }
}

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
            taps_inside(m->vy[l], y->in_h, y->k, y->pad, y->conv_h);
            taps_inside(m->vx[l], y->in_w, y->k, y->pad, y->conv_w);
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

/* One cycle's queue occupancy: its histogram bin, the maximum, and a series point when it
 * changed (recording). 0, or EVSNN_ENOMEM. */
static inline int count_occ(hw_layer_res *R, uint32_t occ, uint32_t *last, int record, uint64_t cyc) {
    R->hist[occ]++;
    if (occ > R->occ_max) R->occ_max = occ;
    if (occ != *last) {
        if (record && push_pt(R, cyc, occ)) return EVSNN_ENOMEM;
        *last = occ;
    }
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

/* The synaptic work of every spike of a layer's input train (the SNN-DSE machines: the RTL
 * has no overflow handling, so every spike is processed). The same per-spike counts as the
 * generic machine's, so both models charge the same operations on one trace; only the
 * encoder's cycles and spike-word reads follow each machine. */
static void syn_ops_all(const hw_machine *m, uint32_t l, const spk_train *in, hw_ops *o) {
    for (uint32_t k = 0; k < in->nnz; k++) spike_ops(m, l, in->idx[k], o);
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
        if (count_occ(R, occ, &last, record, t0 + cyc)) return EVSNN_ENOMEM;
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
            if (count_occ(R, occ, &last, record, t0 + cyc)) return EVSNN_ENOMEM;
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

typedef struct {
    int e, compr, icdone;
    uint32_t ic, ts, oc, chunk, cnt, inchunk;
    uint32_t kptr, kend; /* bookkeeping: the map's events still to encode */
} conv_enc;

typedef struct {
    const spk_train *in;
    uint32_t IC, T, HW, W, phases, nchm, depth;
} conv_ctx;

/* One encoder cycle: the next registers from this cycle's and the iterator's `avail`. */
static inline void enc_step(const conv_ctx *x, conv_enc *E, int avail, uint64_t cyc, uint64_t *done_at,
                            hw_layer_res *R) {
    conv_enc N = *E;
    if (avail) N.icdone = 0;
    switch (E->e) {
    case E_IDLE: N.compr = 0; N.e = E_WAIT; break;
    case E_WAIT: {
        /* the map of (step ts, channel ic): its events in the input train */
        const spk_train *in = x->in;
        uint32_t k = in->off[E->ts], kend = in->off[E->ts + 1], hi = kend, key = E->ic * x->HW;
        while (k < hi) { /* first event at or after the map's base (channels sorted) */
            uint32_t mid = k + (hi - k) / 2;
            if (in->idx[mid] < key) k = mid + 1;
            else hi = mid;
        }
        N.kptr = k;
        N.kend = kend;
        N.e = E_LOAD;
        R->ops.spike_reads++;
        break;
    }
    case E_LOAD: {
        uint32_t lo = E->ic * x->HW + E->chunk * x->W, top = (E->ic + 1) * x->HW;
        uint32_t hi = lo + x->W < top ? lo + x->W : top, k = E->kptr;
        while (k < E->kend && x->in->idx[k] < hi) k++;
        N.inchunk = k - E->kptr;
        N.kptr = k;
        N.e = E_ITER;
        break;
    }
    case E_ITER:
        if (E->inchunk == 0) {
            if (E->chunk == x->nchm - 1) {
                N.chunk = 0;
                if (E->cnt > 0) { N.compr = 1; N.e = E_TRANSIT; }
                else N.e = E_IC;
            } else { N.chunk = E->chunk + 1; N.e = E_LOAD; }
        } else {
            N.cnt = E->cnt + 1;
            N.inchunk = E->inchunk - 1;
            N.e = E_RESET;
            if (N.cnt == x->depth + 1) R->overflow_events++;
        }
        break;
    case E_RESET: N.e = E_ITER; break;
    case E_TRANSIT: if (avail) N.e = E_IC; break;
    case E_IC:
        N.cnt = 0;
        N.compr = 0;
        if (E->ic < x->IC - 1) { N.ic = E->ic + 1; N.e = E_WAIT; }
        else { N.icdone = 1; N.ic = 0; N.e = E_TS; }
        break;
    case E_TS:
        if (E->ts < x->T - 1) { N.ts = E->ts + 1; N.e = E_WAIT; }
        else { N.ts = 0; N.e = E_OC; }
        break;
    case E_OC:
        if (E->oc < x->phases - 1) { N.oc = E->oc + 1; N.e = E_WAIT; }
        else { N.oc = 0; N.e = E_DONE; }
        break;
    case E_DONE: N.e = E_FIN; *done_at = cyc + 2; break; /* done is high in the next cycle: count through it */
    case E_FIN: break;
    }
    if (E->e >= E_WAIT && E->e <= E_RESET) R->ops.encoder_cycles++;
    *E = N;
}

static inline int sample_occ(hw_layer_res *R, uint32_t cnt, uint32_t depth, uint64_t at, int record, uint32_t *last) {
    uint32_t occ = cnt < depth ? cnt : depth;
    R->hist[occ]++;
    if (occ > R->occ_max) R->occ_max = occ;
    if (occ != *last) {
        if (record && push_pt(R, at, occ)) return EVSNN_ENOMEM;
        *last = occ;
    }
    return 0;
}

/* Advance an encoder that is about to load a chunk (not the map's last) through whole chunks,
 * at most `budget` cycles, without the per-cycle loop: an empty chunk is 2 cycles (load, see
 * it empty) at constant occupancy; a chunk with m spikes is 2 + 2m cycles, the list growing
 * by one on each spike's second cycle. Returns the cycles advanced (0: not even one chunk
 * fits), UINT64_MAX on allocation failure. Only valid while avail stays low. */
static uint64_t enc_chunks(const conv_ctx *x, conv_enc *E, uint64_t budget, uint64_t at, int record, uint32_t *last,
                           hw_layer_res *R) {
    const spk_train *in = x->in;
    const uint32_t base = E->ic * x->HW, depth = x->depth;
    uint64_t used = 0;
    while (E->chunk + 1 < x->nchm) {
        /* the chunk of the next spike of this map (nchm if none left) */
        uint32_t j1 = E->kptr < E->kend ? (in->idx[E->kptr] - base) / x->W : x->nchm;
        if (j1 > E->chunk) {
            uint32_t stop = j1 < x->nchm - 1 ? j1 : x->nchm - 1;
            uint64_t e = stop - E->chunk, cyc = 2 * e;
            if (cyc > budget - used) { e = (budget - used) / 2; cyc = 2 * e; }
            if (!e) break;
            uint32_t occ = E->cnt < depth ? E->cnt : depth;
            R->hist[occ] += cyc;
            if (occ > R->occ_max) R->occ_max = occ;
            if (occ != *last) {
                if (record && push_pt(R, at + used, occ)) return UINT64_MAX;
                *last = occ;
            }
            R->ops.encoder_cycles += cyc;
            E->chunk += (uint32_t)e;
            used += cyc;
            continue;
        }
        /* chunk with spikes: count them */
        uint32_t lo = base + E->chunk * x->W, hi = lo + x->W, k = E->kptr;
        while (k < E->kend && in->idx[k] < hi) k++;
        uint32_t mm = k - E->kptr;
        uint64_t cyc = 2 + 2 * (uint64_t)mm;
        if (cyc > budget - used) break;
        /* cycles 0 (load) and 1 (first test) at c, then c + r + 1 from cycle 2 + 2r: every
         * value c .. c + m held 2 cycles (the list beyond depth counts as full) */
        for (uint32_t r = 0; r <= mm; r++) {
            uint64_t v = (uint64_t)E->cnt + r;
            uint32_t occ = v < depth ? (uint32_t)v : depth;
            R->hist[occ] += 2;
            if (occ > R->occ_max) R->occ_max = occ;
            if (occ != *last) {
                if (record && push_pt(R, at + used + (r ? 2 * (uint64_t)r : 0), occ)) return UINT64_MAX;
                *last = occ;
            }
        }
        if (E->cnt < depth + 1 && E->cnt + mm >= depth + 1) R->overflow_events++;
        E->cnt += mm;
        E->kptr = k;
        E->chunk++;
        R->ops.encoder_cycles += cyc;
        used += cyc;
    }
    return used;
}

static int conv_rtl(hw_machine *m, uint32_t l, const spk_train *in, uint64_t t0, int record, hw_run_mode mode,
                    hw_layer_res *R) {
    const net_layer *y = &m->shape.layers[l];
    const hw_layer_cfg *c = &m->lc[l];
    const lparams *d = &m->lp[l];
    const uint64_t K2 = (uint64_t)y->k * y->k, OFS = (uint64_t)y->conv_h * y->conv_w;
    const uint32_t depth = c->queue_depth;
    if (OFS < 2 || K2 == 0)
        return evsnn_seterr(EVSNN_ENOTSUP, "hw: snn-dse conv layer %u (%s): output map %llux%u is too small",
                            l, y->name, (unsigned long long)y->conv_h, y->conv_w);
    const conv_ctx x = {.in = in, .IC = y->in_c, .T = m->T, .HW = y->in_h * y->in_w, .W = d->width,
                        .phases = (uint32_t)((y->out_c - 1) / c->pes + 1), .nchm = d->mapch, .depth = depth};
    conv_enc E;
    memset(&E, 0, sizeof E);
    E.e = E_IDLE;
    /* iterator registers */
    int it = I_IDLE, avail = 1, once = 1;
    uint64_t fph = 0, phase = 0, total = 0, nl = 0;
    uint64_t cyc = 0, done_at = 0, end_at = 0;
    uint32_t last = R->occ_last;
    for (;;) {
        /* ---- a jump: while the iterator counts through spikes (avail low) or the sweep
         * (avail as it was), it reads nothing from the encoder, and the encoder reads only
         * avail, constant meanwhile: the encoder runs alone, the iterator's counters move in
         * bulk, up to its next decision cycle */
        if (mode == HW_JUMP && ((it == I_SPK && !avail) || it == I_ACT)) {
            uint64_t rem = it == I_SPK ? (total - 1 - phase) * K2 + (K2 - 1 - fph) : OFS - 2 - nl;
            if (rem > 0) {
                /* rem cycles before the decision cycle: land exactly on it */
                uint64_t n = rem, k = 0;
                while (k < n) {
                    if (E.e == E_LOAD && E.chunk + 1 < x.nchm && (!avail || !E.icdone)) {
                        /* whole chunks before the map's last, in closed form */
                        uint64_t used = enc_chunks(&x, &E, n - k, t0 + cyc + k, record, &last, R);
                        if (used == UINT64_MAX) return EVSNN_ENOMEM;
                        if (used) { k += used; continue; }
                    }
                    if ((E.e == E_TRANSIT && !avail) || E.e == E_FIN) {
                        /* waiting on avail (low all through the jump) or finished: nothing
                         * moves but "input channels done", cleared by a high avail */
                        uint32_t occ = E.cnt < depth ? E.cnt : depth;
                        R->hist[occ] += n - k;
                        if (occ > R->occ_max) R->occ_max = occ;
                        if (occ != last) {
                            if (record && push_pt(R, t0 + cyc + k, occ)) return EVSNN_ENOMEM;
                            last = occ;
                        }
                        if (avail) E.icdone = 0;
                        break;
                    }
                    if (sample_occ(R, E.cnt, depth, t0 + cyc + k, record, &last)) return EVSNN_ENOMEM;
                    enc_step(&x, &E, avail, cyc + k, &done_at, R);
                    k++;
                }
                if (it == I_SPK) {
                    uint64_t pos = phase * K2 + fph + n;
                    phase = pos / K2;
                    fph = pos % K2;
                } else {
                    nl += n;
                    once = 0;
                    R->stall_sweep += n;
                }
                R->pe_busy += n;
                cyc += n;
                continue;
            }
        }
        /* ---- a jump: the iterator idles (avail high, nothing to trigger it) while the
         * encoder works through whole chunks */
        if (mode == HW_JUMP && it == I_IDLE && avail && !E.icdone && !E.compr && E.e == E_LOAD &&
            E.chunk + 1 < x.nchm) {
            uint64_t used = enc_chunks(&x, &E, UINT64_MAX - 1, t0 + cyc, record, &last, R);
            if (used == UINT64_MAX) return EVSNN_ENOMEM;
            if (used) {
                R->stall_encoder += used;
                cyc += used;
                continue;
            }
        }
        /* ---- one cycle: both machines from this cycle's registers */
        conv_enc Eo = E;
        enc_step(&x, &E, avail, cyc, &done_at, R);
        int nit = it, navail = avail, nonce = once;
        uint64_t nfph = fph, nphase = phase, ntotal = total, nnl = nl;
        switch (it) {
        case I_IDLE:
            navail = 1;
            if (Eo.icdone && once) nit = I_ACT;
            else if (Eo.compr) {
                nonce = 1;
                nit = I_SPK;
                ntotal = Eo.cnt;
                if (Eo.cnt > depth && c->overflow == HW_ERROR)
                    return overflow_error(m, l, Eo.ts, cyc, depth);
            }
            break;
        case I_SPK:
            navail = 0;
            R->pe_busy++;
            if (fph < K2 - 1) nfph = fph + 1;
            else {
                nfph = 0;
                if (phase < total - 1) nphase = phase + 1;
                else { nphase = 0; nit = Eo.icdone ? I_ACT : I_IDLE; }
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
        if (it == I_IDLE && Eo.e != E_FIN) R->stall_encoder++;
        if (sample_occ(R, Eo.cnt, depth, t0 + cyc, record, &last)) return EVSNN_ENOMEM;
        cyc++;
        it = nit; avail = navail; once = nonce; fph = nfph; phase = nphase; total = ntotal; nl = nnl;
        if (E.e == E_FIN && it == I_IDLE) break;
        if (cyc > ((uint64_t)1 << 40)) return evsnn_seterr(EVSNN_ERANGE, "hw: conv layer %u does not finish", l);
    }
    R->rtl_done = done_at;
    R->rtl_end = end_at > done_at ? end_at : done_at;
    R->occ_last = last;
    R->cycles = R->rtl_end;
    /* hist covers cycles [0, cyc); pad to the reported end */
    if (R->rtl_end > cyc) R->hist[0] += R->rtl_end - cyc;
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

void hw_ops_add(hw_ops *a, const hw_ops *b) {
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
            syn_ops_all(m, l, in, &R->ops);
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
            if (rtl && y->kind == NET_DENSE) {
                R->accepted = in->nnz;
                syn_ops_all(m, l, in, &R->ops);
            }
            R->end = Fcur[T - 1];
            if (sch != HW_PIPE_STEPS) R->stall_prev = layer_start;
            R->rtl_done = R->rtl_end = R->cycles;
        }
        if (R->end > latency) latency = R->end;
        if (sch != HW_PIPE_STEPS) layer_start = R->start + R->cycles;
        /* the RTL's chain: each layer starts at its predecessor's done signal */
        rtl_start += R->rtl_done;
        hw_ops_add(&out->ops, &R->ops);
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
    /* table entries are per 32-bit access; a narrower or wider number format scales the
     * memory-access energy with the word width (SRAM read energy grows about linearly) */
    const double ws = c->weight_bits / 32.0, ms = c->membrane_bits / 32.0;
    double dyn = o->accumulates * e->accumulate_pj + o->neuron_updates * e->neuron_update_pj +
                 o->membrane_reads * e->membrane_read_pj * ms + o->membrane_writes * e->membrane_write_pj * ms +
                 o->spike_reads * e->spike_read_pj + o->spike_writes * e->spike_write_pj +
                 o->encoder_cycles * e->encoder_cycle_pj;
    dyn += o->weight_reads * e->weight_read_pj * ws; /* on-chip; DRAM: hw_sample_energy_pj */
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
    return hw_energy_pj(&m->cfg, &on, s->latency) +
           (double)dram * m->cfg.energy.weight_read_dram_pj * (m->cfg.weight_bits / 32.0);
}

/* Storage of a layer in the configured number formats. */
void hw_layer_bytes(const hw_machine *m, uint32_t l, uint64_t *weight_bytes, uint64_t *membrane_bytes) {
    const net_layer *y = &m->shape.layers[l];
    uint64_t nw = y->kind == NET_DENSE ? (uint64_t)y->n_in * y->n_out
                : y->kind == NET_CONV ? (uint64_t)y->out_c * y->in_c * y->k * y->k : 0;
    uint64_t nm = y->kind == NET_POOL ? 0 : y->n_out;
    *weight_bytes = (nw * m->cfg.weight_bits + 7) / 8;
    *membrane_bytes = (nm * m->cfg.membrane_bits + 7) / 8;
}

const hw_cfg *hw_machine_cfg(const hw_machine *m) { return &m->cfg; }
const net *hw_machine_net(const hw_machine *m) { return &m->shape; }
uint32_t hw_machine_T(const hw_machine *m) { return m->T; }
