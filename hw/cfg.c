/* hw/cfg.c — the accelerator configuration: defaults, libconfig parsing, per-layer resolution. */
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/hw.h"
#include "io/lcfg.h"
#include "sim/evsnn.h"

#define HW_CFG_VERSION 1
#define U32_MAX_D 4294967295.0 /* the largest uint32_t, as the getters' upper bound */

void hw_energy_45nm(hw_energy *e) {
    /* 45 nm, 0.9 V figures of M. Horowitz, "Computing's energy problem (and what we can do
     * about it)", ISSCC 2014: 32-bit float add 0.9 pJ, float mult 3.7 pJ, 32-bit int add
     * 0.1 pJ; 64-bit SRAM read 10 pJ (8 KB), 20 pJ (32 KB); DRAM 1.3–2.6 nJ per 64 bits.
     * Per 32-bit access we halve the 64-bit figures. A neuron update is one multiply (leak),
     * one add and one compare; an encoder cycle is counted as one 32-bit integer add. */
    memset(e, 0, sizeof *e);
    e->accumulate_pj = 0.9;
    e->neuron_update_pj = 3.7 + 0.9 + 0.1;
    e->weight_read_pj = 5.0;
    e->weight_read_dram_pj = 650.0;
    e->membrane_read_pj = 5.0;
    e->membrane_write_pj = 5.0;
    e->spike_read_pj = 5.0;
    e->spike_write_pj = 5.0;
    e->encoder_cycle_pj = 0.1;
    e->static_mw = 10.0;
    snprintf(e->source, sizeof e->source,
             "Horowitz, ISSCC 2014, 'Computing's energy problem', 45 nm 0.9 V (32-bit accesses = half "
             "the 64-bit SRAM/DRAM figures)");
}

void hw_cfg_default(hw_cfg *c) {
    memset(c, 0, sizeof *c);
    c->model = HW_MODEL_EVSNN;
    c->clock_mhz = 100.0;
    c->schedule = HW_LOCKSTEP;
    c->weight_bits = c->membrane_bits = 32;
    snprintf(c->weight_format, sizeof c->weight_format, "fp32");
    snprintf(c->membrane_format, sizeof c->membrane_format, "fp32");
    c->alloc = HW_ALLOC_FIXED;
    c->dflt = (hw_layer_cfg){.pes = 1, .neuron_cycles = 1, .update_cycles = 1, .queue_depth = 64,
                             .encoder_width = 16, .step_overhead = 1, .overflow = HW_STALL,
                             .weight_mem = HW_MEM_ONCHIP};
    hw_energy_45nm(&c->energy);
}

const char *hw_schedule_name(hw_schedule s) {
    return s == HW_LOCKSTEP ? "lockstep" : s == HW_PIPE_STEPS ? "pipeline-steps" : "pipeline-layers";
}
const char *hw_overflow_name(hw_overflow o) { return o == HW_STALL ? "stall" : o == HW_DROP ? "drop" : "error"; }
const char *hw_model_name(hw_model m) { return m == HW_MODEL_SNNDSE ? "snn-dse" : "evsnn"; }

/* "fp32", "fp16", "int8", "int4", "q2.30" → bits. */
static int format_bits(const char *f, uint32_t *bits) {
    unsigned a = 0, b = 0;
    char tail;
    if ((sscanf(f, "fp%u%c", &a, &tail) == 1 || sscanf(f, "int%u%c", &a, &tail) == 1 ||
         sscanf(f, "uint%u%c", &a, &tail) == 1) && a >= 1 && a <= 64) {
        *bits = a;
        return 0;
    }
    if (sscanf(f, "q%u.%u%c", &a, &b, &tail) == 2 && a + b >= 1 && a + b <= 64) {
        *bits = a + b;
        return 0;
    }
    return -1;
}

static const char *const OVERFLOW_WORDS[] = {"stall", "drop", "error", NULL};
static const char *const MEM_WORDS[] = {"onchip", "dram", NULL};

static const char *const LAYER_KEYS[] = {"index", "name", "pes", "neuron_cycles", "update_cycles",
                                         "queue_depth", "overflow", "encoder_width", "step_overhead",
                                         "weight_memory", NULL};

static int parse_layer(lcfg_ctx *p, const config_setting_t *g, const char *where, hw_layer_cfg *v, uint32_t *set,
                       int is_override) {
    if (lcfg_only_keys(p, g, where, is_override ? LAYER_KEYS : LAYER_KEYS + 2)) return p->rc;
    int gv[8] = {0};
    int ovf = (int)v->overflow, mem = (int)v->weight_mem;
    if (lcfg_get_u32(p, g, where, "pes", &v->pes, 1, U32_MAX_D, &gv[0]) ||
        lcfg_get_u32(p, g, where, "neuron_cycles", &v->neuron_cycles, 1, U32_MAX_D, &gv[1]) ||
        lcfg_get_u32(p, g, where, "update_cycles", &v->update_cycles, 0, U32_MAX_D, &gv[2]) ||
        lcfg_get_u32(p, g, where, "queue_depth", &v->queue_depth, 1, U32_MAX_D, &gv[3]) ||
        lcfg_get_u32(p, g, where, "encoder_width", &v->encoder_width, 1, U32_MAX_D, &gv[4]) ||
        lcfg_get_u32(p, g, where, "step_overhead", &v->step_overhead, 0, U32_MAX_D, &gv[5]) ||
        lcfg_get_word(p, g, where, "overflow", &ovf, OVERFLOW_WORDS, &gv[6]) ||
        lcfg_get_word(p, g, where, "weight_memory", &mem, MEM_WORDS, &gv[7]))
        return p->rc;
    v->overflow = (hw_overflow)ovf;
    v->weight_mem = (hw_mem)mem;
    *set = 0;
    static const uint32_t bits[8] = {HW_F_PES, HW_F_L, HW_F_UPD, HW_F_DEPTH, HW_F_ENC, HW_F_OVH, HW_F_OVF, HW_F_MEM};
    for (int i = 0; i < 8; i++) if (gv[i]) *set |= bits[i];
    return 0;
}

static int parse_root(hw_cfg *c, config_t *cf, lcfg_ctx *p) {
    static const char *const ROOT[] = {"version", "model", "clock_mhz", "schedule", "formats", "allocation",
                                       "layer_default", "layers", "energy", NULL};
    config_setting_t *root = config_root_setting(cf);
    if (lcfg_only_keys(p, root, "", ROOT)) return p->rc;
    uint32_t ver = HW_CFG_VERSION;
    if (lcfg_get_u32(p, root, "", "version", &ver, 1, U32_MAX_D, NULL)) return p->rc;
    if (ver > HW_CFG_VERSION)
        return lcfg_badf(p, config_setting_get_member(root, "version"), "version",
                   "config version is newer than this evsnn reads (1)%s: upgrade evsnn", "");
    static const char *const MODELS[] = {"evsnn", "snn-dse", NULL};
    static const char *const SCHED[] = {"lockstep", "pipeline-steps", "pipeline-layers", NULL};
    int model = (int)c->model, sched = (int)c->schedule;
    if (lcfg_get_word(p, root, "", "model", &model, MODELS, NULL) ||
        lcfg_get_num(p, root, "", "clock_mhz", &c->clock_mhz, 1e-6, 1e300) ||
        lcfg_get_word(p, root, "", "schedule", &sched, SCHED, NULL))
        return p->rc;
    c->model = (hw_model)model;
    c->schedule = (hw_schedule)sched;

    config_setting_t *g;
    if ((g = config_setting_get_member(root, "formats"))) {
        static const char *const K[] = {"weight", "membrane", NULL};
        if (!config_setting_is_group(g)) return lcfg_badf(p, g, "formats", "expected a group { ... }%s", "");
        if (lcfg_only_keys(p, g, "formats", K)) return p->rc;
        for (int i = 0; K[i]; i++) {
            config_setting_t *s = config_setting_get_member(g, K[i]);
            if (!s) continue;
            char key[32];
            snprintf(key, sizeof key, "formats.%s", K[i]);
            const char *f = config_setting_get_string(s);
            uint32_t b;
            if (!f || format_bits(f, &b))
                return lcfg_badf(p, s, key, "expected a number format such as \"fp32\", \"int8\", \"q2.30\"%s", "");
            if (i == 0) { c->weight_bits = b; snprintf(c->weight_format, sizeof c->weight_format, "%s", f); }
            else { c->membrane_bits = b; snprintf(c->membrane_format, sizeof c->membrane_format, "%s", f); }
        }
    }
    if ((g = config_setting_get_member(root, "allocation"))) {
        static const char *const K[] = {"policy", "total_pes", "latency_target_us", NULL};
        static const char *const POL[] = {"fixed", "uniform", "proportional", "min-latency", NULL};
        if (!config_setting_is_group(g)) return lcfg_badf(p, g, "allocation", "expected a group { ... }%s", "");
        int pol = (int)c->alloc;
        if (lcfg_only_keys(p, g, "allocation", K) || lcfg_get_word(p, g, "allocation", "policy", &pol, POL, NULL) ||
            lcfg_get_u32(p, g, "allocation", "total_pes", &c->total_pes, 1, U32_MAX_D, NULL) ||
            lcfg_get_num(p, g, "allocation", "latency_target_us", &c->latency_target_us, 0, 1e300))
            return p->rc;
        c->alloc = (hw_alloc)pol;
        if ((c->alloc == HW_ALLOC_UNIFORM || c->alloc == HW_ALLOC_PROPORTIONAL) && !c->total_pes)
            return lcfg_badf(p, g, "allocation.total_pes", "required (>= 1) by policy %s", POL[pol]);
        if (c->alloc == HW_ALLOC_MIN_LATENCY && !(c->latency_target_us > 0))
            return lcfg_badf(p, g, "allocation.latency_target_us", "required (> 0) by policy %s", POL[pol]);
    }
    if ((g = config_setting_get_member(root, "layer_default"))) {
        if (!config_setting_is_group(g)) return lcfg_badf(p, g, "layer_default", "expected a group { ... }%s", "");
        uint32_t set;
        if (parse_layer(p, g, "layer_default", &c->dflt, &set, 0)) return p->rc;
    }
    if ((g = config_setting_get_member(root, "layers"))) {
        if (!config_setting_is_list(g)) return lcfg_badf(p, g, "layers", "expected a list ( { ... }, ... )%s", "");
        int n = config_setting_length(g);
        if (n > HW_MAX_OVERRIDES) return lcfg_badf(p, g, "layers", "more than %s entries", "64");
        for (int i = 0; i < n; i++) {
            config_setting_t *e = config_setting_get_elem(g, (unsigned)i);
            char where[32];
            snprintf(where, sizeof where, "layers[%d]", i);
            if (!config_setting_is_group(e)) return lcfg_badf(p, e, where, "expected a group { ... }%s", "");
            c->over[i].index = -1;
            c->over[i].name[0] = 0;
            c->over[i].v = c->dflt;
            config_setting_t *ix = config_setting_get_member(e, "index"), *nm = config_setting_get_member(e, "name");
            if (!ix == !nm) return lcfg_badf(p, e, where, "needs exactly one of index or name%s", "");
            uint32_t idx;
            if (ix) {
                if (lcfg_get_u32(p, e, where, "index", &idx, 0, U32_MAX_D, NULL)) return p->rc;
                c->over[i].index = (int)idx;
            } else {
                const char *s = config_setting_get_string(nm);
                if (!s || !*s || strlen(s) > 31) return lcfg_badf(p, nm, where, "name must be a string of 1..31 chars%s", "");
                snprintf(c->over[i].name, sizeof c->over[i].name, "%s", s);
            }
            if (parse_layer(p, e, where, &c->over[i].v, &c->over[i].set, 1)) return p->rc;
        }
        c->n_over = (uint32_t)n;
    }
    if ((g = config_setting_get_member(root, "energy"))) {
        static const char *const K[] = {"source", "accumulate_pj", "neuron_update_pj", "weight_read_pj",
                                        "weight_read_dram_pj", "membrane_read_pj", "membrane_write_pj",
                                        "spike_read_pj", "spike_write_pj", "encoder_cycle_pj", "static_mw", NULL};
        if (!config_setting_is_group(g)) return lcfg_badf(p, g, "energy", "expected a group { ... }%s", "");
        hw_energy *e = &c->energy;
        double *f[] = {&e->accumulate_pj, &e->neuron_update_pj, &e->weight_read_pj, &e->weight_read_dram_pj,
                       &e->membrane_read_pj, &e->membrane_write_pj, &e->spike_read_pj, &e->spike_write_pj,
                       &e->encoder_cycle_pj, &e->static_mw};
        if (lcfg_only_keys(p, g, "energy", K)) return p->rc;
        for (int i = 0; i < 10; i++)
            if (lcfg_get_num(p, g, "energy", K[i + 1], f[i], 0, 1e300)) return p->rc;
        config_setting_t *s = config_setting_get_member(g, "source");
        if (s) {
            const char *str = config_setting_get_string(s);
            if (!str) return lcfg_badf(p, s, "energy.source", "expected a string%s", "");
            snprintf(e->source, sizeof e->source, "%s", str);
        }
    }
    return 0;
}

/* Parse a read configuration into c and destroy it. */
static int parse_cf(hw_cfg *c, config_t *cf, const char *name) {
    lcfg_ctx p = {name, 0};
    parse_root(c, cf, &p);
    config_destroy(cf);
    return p.rc;
}

int hw_cfg_load(hw_cfg *c, const char *path) {
    config_t cf;
    int rc = lcfg_load(&cf, path, "accelerator configuration");
    return rc ? rc : parse_cf(c, &cf, path);
}

int hw_cfg_parse(hw_cfg *c, const char *text, const char *name) {
    config_t cf;
    int rc = lcfg_parse(&cf, text, name);
    return rc ? rc : parse_cf(c, &cf, name);
}

int hw_cfg_resolve(const hw_cfg *c, const net *n, hw_layer_cfg *lc) {
    for (uint32_t l = 0; l < n->n_layers; l++) lc[l] = c->dflt;
    for (uint32_t i = 0; i < c->n_over; i++) {
        int hit = -1;
        if (c->over[i].index >= 0) {
            if ((uint32_t)c->over[i].index >= n->n_layers)
                return evsnn_seterr(EVSNN_EINVAL, "accelerator config: layers[%u].index = %d, the network has %u layers",
                                    i, c->over[i].index, n->n_layers);
            hit = c->over[i].index;
        } else {
            for (uint32_t l = 0; l < n->n_layers && hit < 0; l++)
                if (!strcmp(n->layers[l].name, c->over[i].name)) hit = (int)l;
            if (hit < 0)
                return evsnn_seterr(EVSNN_EINVAL, "accelerator config: layers[%u].name = '%s' names no layer of %s",
                                    i, c->over[i].name, n->arch);
        }
        hw_layer_cfg *d = &lc[hit];
        const hw_layer_cfg *v = &c->over[i].v;
        uint32_t s = c->over[i].set;
        if (s & HW_F_PES) d->pes = v->pes;
        if (s & HW_F_L) d->neuron_cycles = v->neuron_cycles;
        if (s & HW_F_UPD) d->update_cycles = v->update_cycles;
        if (s & HW_F_DEPTH) d->queue_depth = v->queue_depth;
        if (s & HW_F_ENC) d->encoder_width = v->encoder_width;
        if (s & HW_F_OVH) d->step_overhead = v->step_overhead;
        if (s & HW_F_OVF) d->overflow = v->overflow;
        if (s & HW_F_MEM) d->weight_mem = v->weight_mem;
    }
    return 0;
}
