/* hw/report.c — aggregation over samples, JSON summary, PE allocation policies. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "hw/hw.h"
#include "sim/evsnn.h"

typedef struct {
    uint64_t cycles, cycles_max, start, end, in_spikes, accepted, dropped, overflow_events;
    uint64_t stall_encoder, stall_full, stall_sweep, stall_prev, pe_busy, rtl_done, rtl_end, rtl_hang;
    uint32_t occ_max, depth;
    uint64_t *hist;
    hw_ops ops;
} layer_acc;

struct hw_report {
    const hw_machine *m;
    uint32_t L, T, n;
    layer_acc *l;
    uint64_t *lat;            /* [n] latency of each sample */
    uint32_t cap;
    uint64_t lat_rtl, bottleneck, sim_cycles;
    double energy_pj;
    hw_ops ops;
};

hw_report *hw_report_create(const hw_machine *m) {
    hw_report *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->m = m;
    r->L = hw_machine_net(m)->n_layers;
    r->T = hw_machine_T(m);
    r->l = calloc(r->L, sizeof *r->l);
    if (!r->l) { free(r); return NULL; }
    const hw_layer_cfg *lc = hw_layers(m);
    for (uint32_t l = 0; l < r->L; l++) {
        r->l[l].depth = lc[l].queue_depth;
        r->l[l].hist = calloc((size_t)lc[l].queue_depth + 1, sizeof *r->l[l].hist);
        if (!r->l[l].hist) { hw_report_free(r); return NULL; }
    }
    return r;
}

void hw_report_free(hw_report *r) {
    if (!r) return;
    for (uint32_t l = 0; r->l && l < r->L; l++) free(r->l[l].hist);
    free(r->l);
    free(r->lat);
    free(r);
}

int hw_report_add(hw_report *r, const hw_sample *s) {
    if (s->n_layers != r->L) return evsnn_seterr(EVSNN_EINVAL, "hw report: sample has %u layers, report %u", s->n_layers, r->L);
    if (r->n == r->cap) {
        uint32_t nc = r->cap ? r->cap * 2 : 64;
        uint64_t *nl = realloc(r->lat, nc * sizeof *nl);
        if (!nl) return evsnn_seterr(EVSNN_ENOMEM, "hw report: no memory");
        r->lat = nl;
        r->cap = nc;
    }
    r->lat[r->n++] = s->latency;
    r->lat_rtl += s->latency_rtl;
    r->bottleneck += s->bottleneck;
    r->sim_cycles += s->sim_cycles;
    r->energy_pj += hw_sample_energy_pj(r->m, s);
    hw_ops_add(&r->ops, &s->ops);
    for (uint32_t l = 0; l < r->L; l++) {
        layer_acc *a = &r->l[l];
        const hw_layer_res *x = &s->l[l];
        a->cycles += x->cycles;
        if (x->cycles > a->cycles_max) a->cycles_max = x->cycles;
        a->start += x->start;
        a->end += x->end;
        a->in_spikes += x->in_spikes;
        a->accepted += x->accepted;
        a->dropped += x->dropped;
        a->overflow_events += x->overflow_events;
        a->stall_encoder += x->stall_encoder;
        a->stall_full += x->stall_full;
        a->stall_sweep += x->stall_sweep;
        a->stall_prev += x->stall_prev;
        a->pe_busy += x->pe_busy;
        a->rtl_done += x->rtl_done;
        a->rtl_end += x->rtl_end;
        a->rtl_hang += x->rtl_hang_steps;
        if (x->occ_max > a->occ_max) a->occ_max = x->occ_max;
        for (uint32_t o = 0; o <= a->depth; o++) a->hist[o] += x->hist[o];
        hw_ops_add(&a->ops, &x->ops);
    }
    return 0;
}

const uint64_t *hw_report_hist(const hw_report *r, uint32_t layer, uint32_t *depth) {
    if (layer >= r->L) return NULL;
    if (depth) *depth = r->l[layer].depth;
    return r->l[layer].hist;
}

void hw_report_means(const hw_report *r, double *latency_cycles, double *energy_pj, uint64_t *sim_cycles) {
    double lat = 0;
    for (uint32_t i = 0; i < r->n; i++) lat += (double)r->lat[i];
    if (latency_cycles) *latency_cycles = r->n ? lat / r->n : 0.0;
    if (energy_pj) *energy_pj = r->n ? r->energy_pj / r->n : 0.0;
    if (sim_cycles) *sim_cycles = r->sim_cycles;
}

double hw_report_mean_layer_cycles(const hw_report *r, uint32_t layer) {
    return r->n && layer < r->L ? (double)r->l[layer].cycles / r->n : 0.0;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of the sample latencies. */
uint64_t hw_report_latency_pct(const hw_report *r, double pct) {
    if (!r->n) return 0;
    uint64_t *s = malloc(r->n * sizeof *s);
    if (!s) return 0;
    memcpy(s, r->lat, r->n * sizeof *s);
    qsort(s, r->n, sizeof *s, cmp_u64);
    double rank = ceil(pct / 100.0 * r->n);
    uint32_t i = rank < 1 ? 0 : (uint32_t)rank - 1;
    if (i >= r->n) i = r->n - 1;
    uint64_t v = s[i];
    free(s);
    return v;
}

/* JSON through jansson: integers as integers, reals with every digit, non-finite as null. */
static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }
static json_t *u64(uint64_t v) { return json_integer((json_int_t)v); }
static void put(json_t *o, const char *k, json_t *v) { json_object_set_new(o, k, v ? v : json_null()); }

static json_t *json_ops(const hw_ops *o, double div) {
    json_t *j = json_object();
    put(j, "accumulates", num(o->accumulates / div));
    put(j, "weight_reads", num(o->weight_reads / div));
    put(j, "membrane_reads", num(o->membrane_reads / div));
    put(j, "membrane_writes", num(o->membrane_writes / div));
    put(j, "spike_reads", num(o->spike_reads / div));
    put(j, "spike_writes", num(o->spike_writes / div));
    put(j, "encoder_cycles", num(o->encoder_cycles / div));
    put(j, "neuron_updates", num(o->neuron_updates / div));
    return j;
}

static const char *kind_name(net_kind k) { return k == NET_DENSE ? "dense" : k == NET_CONV ? "conv" : "pool"; }

json_t *hw_report_json(const hw_report *r) {
    if (!r->n) return evsnn_seterr(EVSNN_EINVAL, "hw report: no samples"), NULL;
    const hw_cfg *c = hw_machine_cfg(r->m);
    const net *n = hw_machine_net(r->m);
    const hw_layer_cfg *lc = hw_layers(r->m);
    double N = r->n, mhz = c->clock_mhz;
    double lat, e_pj;
    hw_report_means(r, &lat, &e_pj, NULL);              /* per sample */
    double bott = r->bottleneck / N;
    double lat_s = lat / (mhz * 1e6);
    double power_w = lat_s > 0 ? e_pj * 1e-12 / lat_s : NAN;
    double fps = lat > 0 ? mhz * 1e6 / lat : NAN;
    json_t *o = json_object();
    if (!o) return evsnn_seterr(EVSNN_ENOMEM, "hw report: no memory"), NULL;
    put(o, "model", json_string(hw_model_name(c->model)));
    put(o, "schedule", json_string(hw_schedule_name(c->schedule)));
    put(o, "clock_mhz", num(mhz));
    put(o, "samples", u64(r->n));
    put(o, "T", u64(r->T));
    put(o, "weight_format", json_string(c->weight_format));
    put(o, "membrane_format", json_string(c->membrane_format));
    json_t *lc_ = json_object();
    put(lc_, "mean", num(lat));
    put(lc_, "p50", u64(hw_report_latency_pct(r, 50)));
    put(lc_, "p90", u64(hw_report_latency_pct(r, 90)));
    put(lc_, "p99", u64(hw_report_latency_pct(r, 99)));
    put(lc_, "max", u64(hw_report_latency_pct(r, 100)));
    put(o, "latency_cycles", lc_);
    if (c->model == HW_MODEL_SNNDSE) put(o, "latency_rtl_done_cycles", num(r->lat_rtl / N));
    put(o, "latency_us", num(lat / mhz));
    put(o, "fps", num(fps));
    put(o, "fps_pipelined", num(bott > 0 ? mhz * 1e6 / bott : NAN));
    put(o, "bottleneck_cycles", num(bott));
    put(o, "energy_uj_per_sample", num(e_pj * 1e-6));
    put(o, "avg_power_mw", num(power_w * 1e3));
    put(o, "fps_per_w", num(power_w > 0 ? fps / power_w : NAN));
    put(o, "energy_source", json_string(c->energy.source));
    put(o, "ops_per_sample", json_ops(&r->ops, N));
    json_t *layers = json_array();
    for (uint32_t l = 0; l < r->L; l++) {
        const layer_acc *a = &r->l[l];
        const net_layer *y = &n->layers[l];
        double cyc = a->cycles / N;
        json_t *j = json_object();
        put(j, "name", json_string(y->name));
        put(j, "kind", json_string(kind_name(y->kind)));
        put(j, "pes", u64(lc[l].pes));
        put(j, "queue_depth", u64(lc[l].queue_depth));
        put(j, "overflow", json_string(hw_overflow_name(lc[l].overflow)));
        put(j, "cycles_mean", num(cyc));
        put(j, "cycles_max", u64(a->cycles_max));
        put(j, "cycles_per_step", num(cyc / r->T));
        put(j, "start_mean", num(a->start / N));
        put(j, "end_mean", num(a->end / N));
        put(j, "latency_us", num(cyc / mhz));
        if (c->model == HW_MODEL_SNNDSE) {
            put(j, "rtl_done_mean", num(a->rtl_done / N));
            put(j, "rtl_end_mean", num(a->rtl_end / N));
            put(j, "rtl_empty_steps", u64(a->rtl_hang));
        }
        put(j, "in_spikes", u64(a->in_spikes));
        put(j, "accepted", u64(a->accepted));
        put(j, "dropped", u64(a->dropped));
        put(j, "overflow_events", u64(a->overflow_events));
        put(j, "occupancy_max", u64(a->occ_max));
        /* the histogram up to the highest occupancy seen (the rest are zeros up to depth) */
        json_t *h = json_array();
        for (uint32_t q = 0; q <= a->occ_max; q++) json_array_append_new(h, u64(a->hist[q]));
        put(j, "occupancy_hist", h);
        json_t *st = json_object();
        put(st, "encoder", num(a->stall_encoder / N));
        put(st, "queue_full", num(a->stall_full / N));
        put(st, "sweep", num(a->stall_sweep / N));
        put(st, "prev_layer", num(a->stall_prev / N));
        put(j, "stall_cycles", st);
        uint64_t wb, mb;
        hw_layer_bytes(r->m, l, &wb, &mb);
        put(j, "weight_bytes", u64(wb));
        put(j, "membrane_bytes", u64(mb));
        put(j, "pe_utilisation", a->cycles ? num((double)a->pe_busy / a->cycles) : json_null());
        put(j, "ops_per_sample", json_ops(&a->ops, N));
        json_array_append_new(layers, j);
    }
    put(o, "layers", layers);
    return o;
}

/* ---------------------------------------------------------------- allocation */

static double mean_latency(hw_machine *m, const spk_train *in, const spk_train *const *ly, uint32_t N, int *rc,
                           double *layer_cyc, uint32_t L) {
    for (uint32_t l = 0; l < L; l++) layer_cyc[l] = 0;
    hw_cycle_sum sum = {.L = L, .cyc = layer_cyc};
    if ((*rc = hw_replay(m, in, ly, N, HW_JUMP, NULL, NULL, 0, hw_cycle_sum_add, &sum))) return 0;
    return sum.lat / N;
}

/* Largest useful PE count of a layer: one PE per neuron (dense) or output channel (conv). */
static uint32_t max_useful(const net_layer *y) {
    return y->kind == NET_DENSE ? y->n_out : y->kind == NET_CONV ? y->out_c : 1;
}

int hw_allocate(hw_machine *m, const spk_train *in, const spk_train *const *ly, uint32_t N) {
    const hw_cfg *c = hw_machine_cfg(m);
    const net *n = hw_machine_net(m);
    const uint32_t L = n->n_layers;
    if (c->alloc == HW_ALLOC_FIXED) return 0;
    if (!N) return evsnn_seterr(EVSNN_EINVAL, "hw allocation: needs at least one sample");
    int rc = 0;
    double *cyc = calloc(L, sizeof *cyc);
    if (!cyc) return evsnn_seterr(EVSNN_ENOMEM, "hw: no memory");
    uint32_t spiking = 0;
    for (uint32_t l = 0; l < L; l++) spiking += n->layers[l].kind != NET_POOL;
    if (c->alloc == HW_ALLOC_UNIFORM) {
        uint32_t each = spiking ? c->total_pes / spiking : 1;
        for (uint32_t l = 0; l < L && !rc; l++)
            rc = hw_set_pes(m, l, n->layers[l].kind == NET_POOL || each < 1 ? 1 : each);
    } else if (c->alloc == HW_ALLOC_PROPORTIONAL) {
        /* work seen in the trace = each layer's cycles with one PE */
        for (uint32_t l = 0; l < L && !rc; l++) rc = hw_set_pes(m, l, 1);
        if (!rc) mean_latency(m, in, ly, N, &rc, cyc, L);
        double tot = 0;
        for (uint32_t l = 0; l < L; l++) if (n->layers[l].kind != NET_POOL) tot += cyc[l];
        for (uint32_t l = 0; l < L && !rc; l++) {
            uint32_t p = 1;
            if (n->layers[l].kind != NET_POOL && tot > 0) {
                double want = c->total_pes * cyc[l] / tot;
                p = want < 1 ? 1 : (uint32_t)llround(want);
                if (p > max_useful(&n->layers[l])) p = max_useful(&n->layers[l]);
            }
            rc = hw_set_pes(m, l, p);
        }
    } else {
        /* min-latency: add PEs to the slowest layer until the mean latency meets the target */
        double target = c->latency_target_us * c->clock_mhz;
        for (uint32_t l = 0; l < L && !rc; l++) rc = hw_set_pes(m, l, 1);
        for (int it = 0; it < 1 << 16 && !rc; it++) {
            double lat = mean_latency(m, in, ly, N, &rc, cyc, L);
            if (rc || lat <= target) break;
            int best = -1;
            for (uint32_t l = 0; l < L; l++)
                if (hw_layers(m)[l].pes < max_useful(&n->layers[l]) && (best < 0 || cyc[l] > cyc[best])) best = (int)l;
            if (best < 0) {
                rc = evsnn_seterr(EVSNN_ERANGE,
                                  "hw allocation: latency target %.6g us not reachable (%.6g us with one PE per "
                                  "neuron / output channel)",
                                  c->latency_target_us, lat / c->clock_mhz);
                break;
            }
            rc = hw_set_pes(m, (uint32_t)best, hw_layers(m)[best].pes + 1);
        }
    }
    free(cyc);
    return rc;
}
