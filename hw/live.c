/* hw/live.c — the live core: what `evsnn serve` does with a window once the transport
 * (io/live_session.c, io/live_server.c) has binned it. Window events → input train →
 * engine (sim_run) → accelerator model (hw_replay, with a configuration) → metrics, the
 * live page's snapshot and the window's result line. This is the composition above io
 * and hw: io/ holds the streams' formats and sockets and never includes the engine or
 * the accelerator model; the API is declared in io/live_server.h, where the session and
 * the server take the core. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hw/hw.h"
#include "io/live_frame.h"
#include "io/live_server.h"
#include "sim/engine.h"
#include "sim/evsnn.h"

/* Compact JSON with reals to the last digit, as every JSON line evsnn writes. */
#define LIVE_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(17))

#define SNAP_CAP 3000          /* spikes kept per layer for the live page */

struct live_core {
    const net *n;
    live_core_opts o;
    char model_path[512];
    uint32_t T, n_out;
    sim *sim;
    sim_result res;
    spk_train in;
    hw_machine *hw;
    live_metrics m;
    uint64_t *cnt;        /* [n_out] output spike counts of a window */
    uint32_t *step_cnt;   /* [T + 1] counting sort of pending events by step */
    uint32_t *order;      /* [cap] event positions sorted by step */
    uint32_t order_cap;
    char *line;
    size_t line_len, line_cap;
    /* the result line's document, made once and filled per window (no allocation per
     * window): fields window, tag, class, counts, events, dropped, t_start_us, steps,
     * dt_us, latency_us */
    json_t *doc, *field[10];
    /* snapshot for /v1/live: layer 0 is the input, 1.. the network's layers */
    uint64_t snap_at, snap_window;
    int snap_class;
    uint32_t snap_tag;
    uint32_t *snap_t, *snap_i, *snap_n; /* [(L+1) * SNAP_CAP], [(L+1)] */
};

live_metrics *live_core_metrics(live_core *c) { return &c->m; }
void live_core_prometheus(const live_core *c, FILE *f) { live_metrics_prometheus(&c->m, c->n, f); }

const net *live_core_net(const live_core *c) { return c->n; }
const live_core_opts *live_core_options(const live_core *c) { return &c->o; }

void live_core_free(live_core *c) {
    if (!c) return;
    sim_free(c->sim);
    sim_result_deinit(&c->res);
    spk_deinit(&c->in);
    hw_free(c->hw);
    live_metrics_deinit(&c->m);
    json_decref(c->doc);
    free(c->cnt);
    free(c->step_cnt);
    free(c->order);
    free(c->line);
    free(c->snap_t);
    free(c->snap_i);
    free(c->snap_n);
    free(c);
}

live_core *live_core_create(const net *n, const live_core_opts *o, int *err) {
    int rc = EVSNN_ENOMEM;
    live_core *c = calloc(1, sizeof *c);
    if (!c) goto fail;
    c->n = n;
    c->o = *o;
    if (!c->o.steps) c->o.steps = 100;
    if (!c->o.dt_us) c->o.dt_us = 1000;
    if (!c->o.window_cap) c->o.window_cap = 1u << 20;
    snprintf(c->model_path, sizeof c->model_path, "%s", o->model_path ? o->model_path : "");
    c->o.model_path = c->model_path;
    c->o.accel = NULL;
    c->T = c->o.steps;
    c->n_out = net_n_out(n);
    uint32_t L = n->n_layers;
    c->sim = sim_create(n, c->T, &rc);
    if (!c->sim) goto fail;
    if ((rc = sim_result_init(&c->res, n, c->T, 0))) goto fail;
    if ((rc = spk_init(&c->in, c->T, n->n_in, SPK_VALUES))) goto fail;
    if ((rc = live_metrics_init(&c->m, L))) goto fail;
    rc = EVSNN_ENOMEM;
    c->cnt = calloc(c->n_out, sizeof *c->cnt);
    c->step_cnt = calloc((size_t)c->T + 1, sizeof *c->step_cnt);
    c->snap_t = calloc((size_t)(L + 1) * SNAP_CAP, sizeof *c->snap_t);
    c->snap_i = calloc((size_t)(L + 1) * SNAP_CAP, sizeof *c->snap_i);
    c->snap_n = calloc(L + 1, sizeof *c->snap_n);
    c->snap_class = -1;
    c->doc = json_object();
    static const char *const keys[10] = {"window", "tag", "class", "counts", "events", "dropped",
                                         "t_start_us", "steps", "dt_us", "latency_us"};
    for (int k = 0; k < 10 && c->doc; k++) {
        c->field[k] = k == 3 ? json_array() : json_integer(0);
        if (json_object_set_new(c->doc, keys[k], c->field[k])) json_decref(c->doc), c->doc = NULL;
    }
    for (uint32_t j = 0; c->doc && j < c->n_out; j++)
        if (json_array_append_new(c->field[3], json_integer(0))) json_decref(c->doc), c->doc = NULL;
    if (!c->cnt || !c->step_cnt || !c->snap_t || !c->snap_i || !c->snap_n || !c->doc) {
        evsnn_seterr(rc, "live server: out of memory");
        goto fail;
    }
    if (o->accel) {
        hw_cfg cfg;
        hw_cfg_default(&cfg);
        if ((rc = hw_cfg_load(&cfg, o->accel))) goto fail;
        c->hw = hw_create(&cfg, n, c->T, &rc);
        if (!c->hw) goto fail;
        c->m.accel = 1;
        const hw_layer_cfg *lc = hw_layers(c->hw);
        for (uint32_t l = 0; l < L; l++) c->m.q_depth[l] = lc[l].queue_depth;
    }
    return c;
fail:
    live_core_free(c);
    if (err) *err = rc;
    return NULL;
}

/* JSON through jansson: integers as integers, reals with every digit, non-finite as null. */
static json_t *jnum_(double v) { return isfinite(v) ? json_real(v) : json_null(); }
static json_t *jint_(uint64_t v) { return json_integer((json_int_t)v); }
static void put(json_t *o, const char *k, json_t *v) { json_object_set_new(o, k, v ? v : json_null()); }
static json_t *shape3(uint32_t a, uint32_t b, uint32_t c) { return json_pack("[III]", (json_int_t)a, (json_int_t)b, (json_int_t)c); }


void live_core_model_json(const live_core *c, FILE *f) {
    const net *n = c->n;
    static const char *kinds[] = {"dense", "conv", "pool"};
    json_t *o = json_object(), *ls = json_array();
    put(o, "model", c->model_path[0] ? live_json_str(c->model_path) : json_null());
    put(o, "arch", live_json_str(n->arch));
    put(o, "input", shape3(n->in_c, n->in_h, n->in_w));
    put(o, "classes", jint_(c->n_out));
    put(o, "steps", jint_(c->T));
    put(o, "dt_us", jint_(c->o.dt_us));
    put(o, "window_cap", jint_(c->o.window_cap));
    put(o, "protocol", jint_(LIVE_VERSION));
    put(o, "accel", json_boolean(c->hw != NULL));
    for (uint32_t l = 0; l < n->n_layers; l++) {
        const net_layer *L = &n->layers[l];
        json_t *y = json_object();
        put(y, "name", live_json_str(L->name));
        put(y, "kind", json_string(kinds[L->kind]));
        put(y, "shape", shape3(L->out_c, L->out_h, L->out_w));
        put(y, "neurons", jint_(L->n_out));
        json_array_append_new(ls, y);
    }
    put(o, "layers", ls);
    live_json_line(f, o);
}

void live_core_live_json(const live_core *c, FILE *f) {
    const live_metrics *m = &c->m;
    const net *n = c->n;
    uint64_t dropped = 0;
    for (int r = 0; r < LIVE_DROP_N; r++) dropped += m->dropped[r];
    json_t *o = json_object(), *ls = json_array();
    put(o, "window", jint_(c->snap_window));
    put(o, "class", json_integer(c->snap_class));
    put(o, "tag", jint_(c->snap_tag));
    put(o, "steps", jint_(c->T));
    put(o, "events_total", jint_(m->events_in));
    put(o, "dropped_total", jint_(dropped));
    put(o, "windows_total", jint_(m->windows));
    put(o, "connections_open", jint_(m->connections_open));
    put(o, "steps_per_s", jnum_(m->steps_per_s));
    put(o, "bad_frames_total", jint_(m->frames_bad));
    for (uint32_t l = 0; l <= n->n_layers; l++) {
        const char *name = l ? n->layers[l - 1].name : "input";
        uint32_t size = l ? n->layers[l - 1].n_out : n->n_in;
        double rate = 0, last = 0;
        if (l) {
            rate = m->neuron_steps[l - 1] ? (double)m->spikes[l - 1] / (double)m->neuron_steps[l - 1] : 0;
            last = m->rate_last[l - 1];
        }
        json_t *y = json_object(), *sp = json_array();
        put(y, "name", live_json_str(name));
        put(y, "n", jint_(size));
        put(y, "rate", jnum_(rate));
        put(y, "rate_last", jnum_(last));
        if (m->accel && l) {
            put(y, "queue_depth", jint_(m->q_depth[l - 1]));
            put(y, "queue_max", jint_(m->q_max[l - 1]));
            put(y, "queue_mean", jnum_(m->q_mean[l - 1]));
        }
        /* the snapshot's spikes as step, channel pairs laid flat: [t0, i0, t1, i1, ...] */
        const uint32_t *t = c->snap_t + (size_t)l * SNAP_CAP, *i = c->snap_i + (size_t)l * SNAP_CAP;
        for (uint32_t k = 0; k < c->snap_n[l]; k++) {
            json_array_append_new(sp, jint_(t[k]));
            json_array_append_new(sp, jint_(i[k]));
        }
        put(y, "spikes", sp);
        json_array_append_new(ls, y);
    }
    put(o, "layers", ls);
    live_json_line(f, o);
}

void live_core_greeting(const live_core *c, FILE *f) {
    json_t *o = json_object();
    put(o, "evsnn", json_string("live"));
    put(o, "protocol", jint_(LIVE_VERSION));
    put(o, "model", c->model_path[0] ? live_json_str(c->model_path) : json_null());
    put(o, "arch", live_json_str(c->n->arch));
    put(o, "input", shape3(c->n->in_c, c->n->in_h, c->n->in_w));
    put(o, "classes", jint_(c->n_out));
    put(o, "steps", jint_(c->T));
    put(o, "dt_us", jint_(c->o.dt_us));
    put(o, "window_cap", jint_(c->o.window_cap));
    live_json_line(f, o);
}


/* Keep at most SNAP_CAP spikes of a train, every k-th one, so that the page's raster covers
 * the whole window evenly rather than its first steps. */
static void snap_train(live_core *c, uint32_t slot, const spk_train *s) {
    uint32_t *t = c->snap_t + (size_t)slot * SNAP_CAP, *i = c->snap_i + (size_t)slot * SNAP_CAP, k = 0;
    uint32_t stride = s->nnz > SNAP_CAP ? (s->nnz + SNAP_CAP - 1) / SNAP_CAP : 1;
    for (uint32_t st = 0; st < s->T && k < SNAP_CAP; st++)
        for (uint32_t e = s->off[st]; e < s->off[st + 1] && k < SNAP_CAP; e++)
            if (e % stride == 0) {
                t[k] = st;
                i[k] = s->idx[e];
                k++;
            }
    c->snap_n[slot] = k;
}

int live_core_window(live_core *c, const live_window *w, const char **line, size_t *len) {
    const net *n = c->n;
    uint32_t T = c->T, N = w->n;
    /* Events were appended in arrival order; a counting sort by step puts them in the
     * non-decreasing step order spk_push needs (channels are sorted by spk_close). */
    if (N > c->order_cap) {
        uint32_t *o = realloc(c->order, (size_t)N * sizeof *o);
        if (!o) return evsnn_seterr(EVSNN_ENOMEM, "live: out of memory sorting %u events", N);
        c->order = o;
        c->order_cap = N;
    }
    memset(c->step_cnt, 0, ((size_t)T + 1) * sizeof *c->step_cnt);
    for (uint32_t k = 0; k < N; k++) c->step_cnt[w->step[k] + 1]++;
    for (uint32_t t = 0; t < T; t++) c->step_cnt[t + 1] += c->step_cnt[t];
    for (uint32_t k = 0; k < N; k++) c->order[c->step_cnt[w->step[k]]++] = k;
    spk_clear(&c->in);
    int rc = spk_reserve(&c->in, N ? N : 1);
    for (uint32_t k = 0; k < N && !rc; k++) rc = spk_push(&c->in, w->step[c->order[k]], w->ch[c->order[k]], 1.0f);
    if (!rc) rc = spk_close(&c->in, SPK_SORT);
    sim_input in = {.train = &c->in, .T = T};
    if (!rc) rc = sim_run(c->sim, &in, &c->res);
    if (rc) return rc;
    live_metrics *m = &c->m;
    const spk_train *o = &c->res.out[n->n_layers - 1];
    memset(c->cnt, 0, c->n_out * sizeof *c->cnt);
    for (uint32_t k = 0; k < o->nnz; k++) c->cnt[o->idx[k]] += o->val ? (uint64_t)o->val[k] : 1;
    uint32_t best = 0;
    for (uint32_t j = 1; j < c->n_out; j++)
        if (c->cnt[j] > c->cnt[best]) best = j;
    m->windows++;
    m->steps += T;
    for (uint32_t l = 0; l < n->n_layers; l++) {
        const layer_stats *st = &c->res.st[l];
        m->spikes[l] += st->spikes;
        m->neuron_steps[l] += (uint64_t)st->n * st->T;
        m->rate_last[l] = layer_rate(st);
    }
    if (c->hw) {
        hw_sample hs;
        const spk_train *layers = c->res.out;
        if (!hw_replay(c->hw, &c->in, &layers, 1, HW_JUMP, NULL, &hs, 0, NULL, NULL)) {
            for (uint32_t l = 0; l < n->n_layers && l < hs.n_layers; l++) {
                const hw_layer_res *r = &hs.l[l];
                double sum = 0, w = 0;
                for (uint32_t q = 0; r->hist && q <= r->depth; q++) {
                    sum += (double)q * (double)r->hist[q];
                    w += (double)r->hist[q];
                }
                m->q_max[l] = r->occ_max;
                m->q_depth[l] = r->depth;
                m->q_mean[l] = w > 0 ? sum / w : 0;
                m->q_dropped[l] += r->dropped;
            }
        }
        hw_sample_free(&hs);
    }
    uint64_t done = live_now_us();
    uint64_t lat = w->last_wall_us && done > w->last_wall_us ? done - w->last_wall_us : 0;
    live_metrics_latency(m, (double)lat * 1e-6);
    { /* every window: copying ≤ SNAP_CAP spikes a layer costs µs against the engine's 100s */
        c->snap_at = done;
        c->snap_window = m->windows;
        c->snap_class = (int)best;
        c->snap_tag = w->tag;
        snap_train(c, 0, &c->in);
        for (uint32_t l = 0; l < n->n_layers; l++) snap_train(c, l + 1, &c->res.out[l]);
    }
    /* The result line: the core's document filled in and dumped by jansson into the core's
     * line buffer (grown to fit once). */
    const uint64_t v[10] = {w->index, w->tag, best, 0, N, w->dropped, w->t_start_us, T, w->dt_us, lat};
    for (int k = 0; k < 10; k++)
        if (k != 3) json_integer_set(c->field[k], (json_int_t)v[k]);
    for (uint32_t j = 0; j < c->n_out; j++) json_integer_set(json_array_get(c->field[3], j), (json_int_t)c->cnt[j]);
    for (;;) {
        const size_t need = json_dumpb(c->doc, c->line, c->line_cap ? c->line_cap - 1 : 0, LIVE_JSON_FLAGS);
        if (need && need < c->line_cap) {
            c->line[need] = '\n';
            c->line_len = need + 1;
            break;
        }
        size_t cap = c->line_cap ? 2 * c->line_cap : 1024;
        while (cap < need + 2) cap *= 2;
        char *p = need ? realloc(c->line, cap) : NULL;
        if (!p) { c->line_len = 0; break; } /* no memory: the window's line is lost, the stream goes on */
        c->line = p;
        c->line_cap = cap;
    }
    *line = c->line;
    *len = c->line_len;
    return 0;
}

