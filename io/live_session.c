/* io/live_session.c — live_core (engine per window, metrics, snapshot) and live_session
 * (one stream's protocol detection, binning and windows). No sockets here: the server in
 * live_server.c and the tests feed bytes in. */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hw/hw.h"
#include "io/aedat4.h"
#include "io/live_frame.h"
#include "io/live_server.h"
#include "sim/engine.h"
#include "sim/evsnn.h"

/* Compact JSON with reals to the last digit, as every JSON line evsnn writes. */
#define LIVE_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(17))

#define SNAP_CAP 3000          /* spikes kept per layer for the live page */
#define AEDAT_MAX_HEADER 65536 /* header bytes allowed before the first record */
/* An AEDAT 4 packet (8-byte header + body) must fit the server's 4 MiB socket read buffer
 * (live_server.c READ_HIGH) in one piece; decompressed it may hold up to 1 M events. */
#define A4_LIVE_MAX_BODY ((4u << 20) - 8)
#define A4_LIVE_MAX_DECODED (16u << 20)

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

uint64_t live_now_us(void) { return evsnn_now_us(); }

live_metrics *live_core_metrics(live_core *c) { return &c->m; }
void live_core_prometheus(const live_core *c, FILE *f) { live_metrics_prometheus(&c->m, c->n, f); }

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
/* A string that may hold any bytes (a path): as it is when UTF-8, else null. */
static json_t *jstr_(const char *s) {
    json_t *j = json_string(s);
    return j ? j : json_null();
}

/* doc + "\n" to f; releases doc. */
static void put_line(FILE *f, json_t *doc) {
    if (doc) json_dumpf(doc, f, LIVE_JSON_FLAGS);
    fputc('\n', f);
    json_decref(doc);
}

void live_core_model_json(const live_core *c, FILE *f) {
    const net *n = c->n;
    static const char *kinds[] = {"dense", "conv", "pool"};
    json_t *o = json_object(), *ls = json_array();
    put(o, "model", c->model_path[0] ? jstr_(c->model_path) : json_null());
    put(o, "arch", jstr_(n->arch));
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
        put(y, "name", jstr_(L->name));
        put(y, "kind", json_string(kinds[L->kind]));
        put(y, "shape", shape3(L->out_c, L->out_h, L->out_w));
        put(y, "neurons", jint_(L->n_out));
        json_array_append_new(ls, y);
    }
    put(o, "layers", ls);
    put_line(f, o);
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
        put(y, "name", jstr_(name));
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
    put_line(f, o);
}

void live_status_line(FILE *f, const char *key, const char *value) {
    json_t *o = json_object();
    put(o, key, jstr_(value));
    put_line(f, o);
}

size_t live_error_line(char *buf, size_t cap, const char *reason) {
    json_t *o = json_object();
    json_t *r = json_string(reason);
    put(o, "error", r ? r : json_string("(a message that is not UTF-8)"));
    size_t n = json_dumpb(o, buf, cap ? cap - 1 : 0, LIVE_JSON_FLAGS);
    json_decref(o);
    if (n == 0 || n >= cap) return 0;
    buf[n++] = '\n';
    return n;
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

/* ---- sessions ---- */
enum { MODE_DETECT, MODE_FRAMED, MODE_AEDAT_HEADER, MODE_AEDAT_DATA, MODE_A4_PROLOGUE, MODE_A4_PACKET, MODE_A4_TABLE };

struct live_session {
    live_core *c;
    live_emit_fn emit;
    void *ctx;
    int mode;
    size_t need;
    /* geometry and mapping (from HELLO, or DVS128 for AEDAT) */
    int have_geom;
    live_hello h;
    uint32_t dt;
    uint32_t fx, fy; /* sensor pixels per model pixel */
    int merge;       /* model has 1 channel: polarities summed */
    int image;       /* model input is an image (c, h, w); else flat */
    /* current window */
    int active, explicit_win;
    uint64_t t_start;
    uint32_t tag;
    uint64_t n_windows;
    uint32_t *ev_step, *ev_ch, n_ev, ev_cap;
    uint64_t w_dropped, last_wall;
    /* AEDAT time extension: 32-bit µs timestamps made 64-bit */
    int aedat_have_t;
    uint32_t aedat_last;
    uint64_t aedat_t;
    size_t aedat_header_bytes;
    /* AEDAT 4 stream: its IOHeader, decompressor, byte offset in the stream */
    a4_header a4h;
    a4_dec *a4d;
    uint64_t a4_off;
};

live_session *live_session_create(live_core *c, live_emit_fn emit, void *ctx, int *err) {
    live_session *s = calloc(1, sizeof *s);
    if (!s) {
        if (err) *err = evsnn_seterr(EVSNN_ENOMEM, "live session: out of memory");
        return NULL;
    }
    s->c = c;
    s->emit = emit;
    s->ctx = ctx;
    s->need = 1;
    s->dt = c->o.dt_us;
    return s;
}

void live_session_free(live_session *s) {
    if (!s) return;
    a4_header_free(&s->a4h);
    a4_dec_free(s->a4d);
    free(s->ev_step);
    free(s->ev_ch);
    free(s);
}

size_t live_session_need(const live_session *s) { return s->need; }

void live_session_greeting(const live_session *s, FILE *f) {
    const live_core *c = s->c;
    json_t *o = json_object();
    put(o, "evsnn", json_string("live"));
    put(o, "protocol", jint_(LIVE_VERSION));
    put(o, "model", c->model_path[0] ? jstr_(c->model_path) : json_null());
    put(o, "arch", jstr_(c->n->arch));
    put(o, "input", shape3(c->n->in_c, c->n->in_h, c->n->in_w));
    put(o, "classes", jint_(c->n_out));
    put(o, "steps", jint_(c->T));
    put(o, "dt_us", jint_(c->o.dt_us));
    put(o, "window_cap", jint_(c->o.window_cap));
    put_line(f, o);
}

/* Set the sensor geometry and derive the channel mapping, or say why it cannot feed the model. */
static int set_geometry(live_session *s, const live_hello *h) {
    const net *n = s->c->n;
    if (h->steps && h->steps != s->c->T)
        return evsnn_seterr(EVSNN_ESHAPE, "HELLO asks for %u steps per window; this server runs %u (--steps)", h->steps, s->c->T);
    s->h = *h;
    s->dt = h->dt_us ? h->dt_us : s->c->o.dt_us;
    if (h->kind == LIVE_KIND_UNIT) {
        if (h->width > n->n_in)
            return evsnn_seterr(EVSNN_ESHAPE, "HELLO: %u units do not fit the model's %u inputs", h->width, n->n_in);
        s->image = 0;
    } else if (n->in_h > 1 || n->in_w > 1) {
        s->image = 1;
        if (h->width % n->in_w || h->height % n->in_h)
            return evsnn_seterr(EVSNN_ESHAPE, "HELLO: sensor %ux%u is not an integer multiple of the model input %ux%u", h->width,
                                h->height, n->in_w, n->in_h);
        s->fx = h->width / n->in_w;
        s->fy = h->height / n->in_h;
        if (n->in_c == h->polarities) s->merge = 0;
        else if (n->in_c == 1) s->merge = 1;
        else
            return evsnn_seterr(EVSNN_ESHAPE, "HELLO: %u polarities do not fit the model's %u input channels", h->polarities, n->in_c);
    } else {
        s->image = 0;
        s->fx = s->fy = 1;
        s->merge = 0;
        if ((uint64_t)h->width * h->height * h->polarities != n->n_in)
            return evsnn_seterr(EVSNN_ESHAPE, "HELLO: sensor %ux%u×%u = %llu channels; the flat model input has %u", h->width, h->height,
                                h->polarities, (unsigned long long)h->width * h->height * h->polarities, n->n_in);
    }
    s->have_geom = 1;
    return 0;
}

/* Run the current window through the engine and emit its result line. */
static int close_window(live_session *s, uint64_t now_us) {
    if (!s->active) return 0;
    live_core *c = s->c;
    const net *n = c->n;
    uint32_t T = c->T, N = s->n_ev;
    /* Events were appended in arrival order; a counting sort by step puts them in the
     * non-decreasing step order spk_push needs (channels are sorted by spk_close). */
    if (N > c->order_cap) {
        uint32_t *o = realloc(c->order, (size_t)N * sizeof *o);
        if (!o) return evsnn_seterr(EVSNN_ENOMEM, "live: out of memory sorting %u events", N);
        c->order = o;
        c->order_cap = N;
    }
    memset(c->step_cnt, 0, ((size_t)T + 1) * sizeof *c->step_cnt);
    for (uint32_t k = 0; k < N; k++) c->step_cnt[s->ev_step[k] + 1]++;
    for (uint32_t t = 0; t < T; t++) c->step_cnt[t + 1] += c->step_cnt[t];
    for (uint32_t k = 0; k < N; k++) c->order[c->step_cnt[s->ev_step[k]]++] = k;
    spk_clear(&c->in);
    int rc = spk_reserve(&c->in, N ? N : 1);
    for (uint32_t k = 0; k < N && !rc; k++) rc = spk_push(&c->in, s->ev_step[c->order[k]], s->ev_ch[c->order[k]], 1.0f);
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
        memset(&hs, 0, sizeof hs);
        if (!hw_run(c->hw, &c->in, c->res.out, HW_JUMP, 0, &hs)) {
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
    uint64_t lat = s->last_wall && done > s->last_wall ? done - s->last_wall : 0;
    live_metrics_latency(m, (double)lat * 1e-6);
    { /* every window: copying ≤ SNAP_CAP spikes a layer costs µs against the engine's 100s */
        c->snap_at = done;
        c->snap_window = m->windows;
        c->snap_class = (int)best;
        c->snap_tag = s->tag;
        snap_train(c, 0, &c->in);
        for (uint32_t l = 0; l < n->n_layers; l++) snap_train(c, l + 1, &c->res.out[l]);
    }
    /* The result line: the core's document filled in and dumped by jansson into the core's
     * line buffer (grown to fit once). */
    const uint64_t v[10] = {s->n_windows, s->tag, best, 0, N, s->w_dropped, s->t_start, T, s->dt, lat};
    for (int k = 0; k < 10; k++)
        if (k != 3) json_integer_set(c->field[k], (json_int_t)v[k]);
    for (uint32_t j = 0; j < c->n_out; j++) json_integer_set(json_array_get(c->field[3], j), (json_int_t)c->cnt[j]);
    (void)now_us;
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
    if (c->line_len) s->emit(s->ctx, c->line, c->line_len);
    s->n_windows++;
    s->active = 0;
    s->n_ev = 0;
    s->w_dropped = 0;
    return 0;
}

int live_session_flush(live_session *s, uint64_t now_us) { return close_window(s, now_us); }
int live_session_active(const live_session *s) { return s->active; }

static void drop(live_session *s, int reason) {
    s->c->m.dropped[reason]++;
    s->w_dropped++;
}

/* Bin one event at time t (µs) into the current window; channel computed by the caller
 * (UINT32_MAX: out of the sensor's range). */
static int add_event(live_session *s, uint64_t t, uint32_t ch, uint64_t now_us) {
    live_core *c = s->c;
    uint64_t dur = (uint64_t)c->T * s->dt;
    if (!s->active) {
        s->active = 1;
        s->explicit_win = 0;
        s->t_start = t;
        s->tag = (uint32_t)s->n_windows;
    }
    if (t < s->t_start) {
        drop(s, LIVE_DROP_LATE);
        return 0;
    }
    uint64_t step = (t - s->t_start) / s->dt;
    if (step >= c->T) {
        if (s->explicit_win) {
            drop(s, LIVE_DROP_OUTSIDE);
            return 0;
        }
        uint64_t next = s->t_start + (t - s->t_start) / dur * dur; /* tumbling: the window holding t */
        int rc = close_window(s, now_us);
        if (rc) return rc;
        s->active = 1;
        s->explicit_win = 0;
        s->t_start = next;
        s->tag = (uint32_t)s->n_windows;
        step = (t - next) / s->dt;
    }
    if (ch == UINT32_MAX) {
        drop(s, LIVE_DROP_RANGE);
        return 0;
    }
    if (s->n_ev == s->ev_cap) {
        if (s->ev_cap >= c->o.window_cap) {
            drop(s, LIVE_DROP_CAP);
            return 0;
        }
        uint32_t cap = s->ev_cap ? 2 * s->ev_cap : 4096;
        if (cap > c->o.window_cap) cap = c->o.window_cap;
        uint32_t *a = realloc(s->ev_step, (size_t)cap * sizeof *a);
        if (a) s->ev_step = a;
        uint32_t *b = a ? realloc(s->ev_ch, (size_t)cap * sizeof *b) : NULL;
        if (b) s->ev_ch = b;
        if (!a || !b) return evsnn_seterr(EVSNN_ENOMEM, "live: out of memory for a window of %u events", cap);
        s->ev_cap = cap;
    }
    s->ev_step[s->n_ev] = (uint32_t)step;
    s->ev_ch[s->n_ev] = ch;
    s->n_ev++;
    s->last_wall = now_us;
    return 0;
}

static inline uint32_t xy_channel(const live_session *s, uint32_t x, uint32_t y, uint32_t p) {
    if (x >= s->h.width || y >= s->h.height || p >= s->h.polarities) return UINT32_MAX;
    const net *n = s->c->n;
    if (!s->image) return p * s->h.width * s->h.height + y * s->h.width + x;
    uint32_t cch = s->merge ? 0 : p;
    return cch * n->in_h * n->in_w + (y / s->fy) * n->in_w + x / s->fx;
}

static int handle_frame(live_session *s, const live_frame *f, uint64_t now_us) {
    live_core *c = s->c;
    c->m.frames_in++;
    switch (f->type) {
    case LIVE_HELLO: {
        int rc = close_window(s, now_us);
        return rc ? rc : set_geometry(s, &f->hello);
    }
    case LIVE_XYP:
    case LIVE_UNIT: {
        if (!s->have_geom) return evsnn_seterr(EVSNN_EFORMAT, "%s frame before HELLO: the sensor geometry is unknown", live_type_name(f->type));
        if ((f->type == LIVE_UNIT) != (s->h.kind == LIVE_KIND_UNIT))
            return evsnn_seterr(EVSNN_EFORMAT, "%s frame on a stream whose HELLO declared %s events", live_type_name(f->type),
                                s->h.kind == LIVE_KIND_UNIT ? "unit" : "xy");
        c->m.events_in += f->count;
        for (uint32_t i = 0; i < f->count; i++) {
            uint64_t t;
            uint32_t x, y, p, ch;
            live_frame_event(f, i, &t, &x, &y, &p);
            if (f->type == LIVE_UNIT) ch = x < s->h.width ? x : UINT32_MAX;
            else ch = xy_channel(s, x, y, p);
            int rc = add_event(s, t, ch, now_us);
            if (rc) return rc;
        }
        return 0;
    }
    case LIVE_WINDOW: {
        int rc = close_window(s, now_us);
        if (rc) return rc;
        s->active = 1;
        s->explicit_win = 1;
        s->t_start = f->t0;
        s->tag = f->count;
        return 0;
    }
    case LIVE_FLUSH: return close_window(s, now_us);
    case LIVE_BYE: {
        int rc = close_window(s, now_us);
        return rc ? rc : 1;
    }
    }
    return 0;
}

/* AEDAT 2.0 DVS128 record: big-endian int32 address, int32 timestamp µs. */
static int aedat_record(live_session *s, const uint8_t *r, uint64_t now_us) {
    uint32_t a = (uint32_t)r[0] << 24 | (uint32_t)r[1] << 16 | (uint32_t)r[2] << 8 | r[3];
    uint32_t ts = (uint32_t)r[4] << 24 | (uint32_t)r[5] << 16 | (uint32_t)r[6] << 8 | r[7];
    if (a & 0x8000) return 0; /* special event (external trigger), not a pixel */
    s->c->m.events_in++;
    /* 32-bit timestamps wrap every 71.6 min: extend by the signed difference, so a small
     * backwards step stays a (late) step back rather than a jump of 2^32 µs. */
    if (!s->aedat_have_t) {
        s->aedat_have_t = 1;
        s->aedat_t = (uint64_t)1 << 32; /* headroom below for backward steps */
    } else {
        s->aedat_t += (uint64_t)(int64_t)(int32_t)(ts - s->aedat_last);
    }
    s->aedat_last = ts;
    uint32_t x = 127 - ((a >> 1) & 0x7F), y = (a >> 8) & 0x7F, p = (a & 1) ? 0 : 1; /* bit 0: 0 = ON */
    return add_event(s, s->aedat_t, xy_channel(s, x, y, p), now_us);
}

/* AEDAT 4 (DV's network output): the prologue (magic line, u32 length, IOHeader), then
 * packets: the event stream's are decoded and binned, other streams' skipped. A data
 * table (a whole file sent as a stream) ends the packets: the rest is discarded. Consumes
 * one unit of p[0..left) into *adv, or asks for more through s->need. */
static int a4_feed(live_session *s, const uint8_t *p, size_t left, size_t *adv, uint64_t now_us) {
    live_core *c = s->c;
    *adv = 0;
    if (s->mode == MODE_A4_TABLE) {
        *adv = left;
        return 0;
    }
    if (s->mode == MODE_A4_PROLOGUE) {
        if (left < A4_MAGIC_LEN + 4) {
            s->need = A4_MAGIC_LEN + 4;
            return 0;
        }
        uint32_t hl = (uint32_t)p[14] | (uint32_t)p[15] << 8 | (uint32_t)p[16] << 16 | (uint32_t)p[17] << 24;
        if (hl > A4_MAX_HEADER)
            return evsnn_seterr(EVSNN_EFORMAT, "AEDAT 4 stream: byte 14: IOHeader of %u bytes exceeds %u", hl, A4_MAX_HEADER);
        if (left < A4_MAGIC_LEN + 4 + (size_t)hl) {
            s->need = A4_MAGIC_LEN + 4 + (size_t)hl;
            return 0;
        }
        int rc = a4_parse_header(p + A4_MAGIC_LEN + 4, hl, "AEDAT 4 stream", &s->a4h);
        if (rc) return rc;
        if (s->a4h.events < 0)
            return evsnn_seterr(EVSNN_EFORMAT, "AEDAT 4 stream: IOHeader declares no event stream (typeIdentifier EVTS)");
        if (s->a4h.table_pos >= 0 && (uint64_t)s->a4h.table_pos < A4_MAGIC_LEN + 4 + (uint64_t)hl)
            return evsnn_seterr(EVSNN_EFORMAT, "AEDAT 4 stream: IOHeader: dataTablePosition %lld lies inside the header (a stream "
                                               "sends -1)", (long long)s->a4h.table_pos);
        if (!s->a4d && !(s->a4d = a4_dec_create())) return evsnn_seterr(EVSNN_ENOMEM, "AEDAT 4 stream: out of memory");
        const a4_stream *es = &s->a4h.streams[s->a4h.events];
        live_hello h = {.width = (uint16_t)es->width, .height = (uint16_t)es->height, .polarities = 2, .kind = LIVE_KIND_XY};
        if ((rc = set_geometry(s, &h))) return rc;
        *adv = A4_MAGIC_LEN + 4 + (size_t)hl;
        s->a4_off = *adv;
        s->mode = MODE_A4_PACKET;
        s->need = 8;
        return 0;
    }
    if (s->a4h.table_pos >= 0 && s->a4_off >= (uint64_t)s->a4h.table_pos) {
        s->mode = MODE_A4_TABLE;
        *adv = left;
        return 0;
    }
    if (left < 8) {
        s->need = 8;
        return 0;
    }
    int32_t id = (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
    int32_t size = (int32_t)((uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24);
    unsigned long long off = (unsigned long long)s->a4_off;
    int si = a4_stream_index(&s->a4h, id);
    if (si < 0) return evsnn_seterr(EVSNN_EFORMAT, "AEDAT 4 stream: packet at offset %llu: stream id %d is not declared in the IOHeader", off, id);
    if (size < 0 || (uint32_t)size > A4_LIVE_MAX_BODY)
        return evsnn_seterr(EVSNN_EFORMAT, "AEDAT 4 stream: packet at offset %llu: size %d, expected 0 .. %u bytes (one packet must "
                                           "fit the server's 4 MiB read buffer)", off, size, A4_LIVE_MAX_BODY);
    if (left < 8 + (size_t)size) {
        s->need = 8 + (size_t)size;
        return 0;
    }
    c->m.frames_in++;
    if (si == s->a4h.events) {
        const uint8_t *dec, *fb;
        size_t dn, fn;
        char ident[5];
        a4_events ev;
        int rc = a4_decompress(s->a4d, s->a4h.compression, p + 8, (size_t)size, A4_LIVE_MAX_DECODED, "AEDAT 4 stream", s->a4_off,
                               &dec, &dn);
        if (!rc) rc = a4_fb_open(dec, dn, "AEDAT 4 stream", s->a4_off, &fb, &fn, ident);
        if (!rc && strcmp(ident, "EVTS"))
            rc = evsnn_seterr(EVSNN_EFORMAT, "AEDAT 4 stream: packet at offset %llu: event stream %d carries a '%s' flatbuffer, "
                                             "expected 'EVTS' (wrong stream type)", off, id, ident);
        if (!rc) rc = a4_event_packet(fb, fn, "AEDAT 4 stream", s->a4_off, &ev);
        if (rc) return rc;
        c->m.events_in += ev.n;
        for (uint32_t i = 0; i < ev.n && !rc; i++) {
            int64_t t;
            int32_t x, y;
            uint32_t pol;
            a4_event(&ev, i, &t, &x, &y, &pol);
            uint32_t ch = x < 0 || y < 0 ? UINT32_MAX : xy_channel(s, (uint32_t)x, (uint32_t)y, pol);
            if (t < 0) { /* no time before the epoch: out of range */
                drop(s, LIVE_DROP_RANGE);
                continue;
            }
            rc = add_event(s, (uint64_t)t, ch, now_us);
        }
        if (rc) return rc;
    }
    *adv = 8 + (size_t)size;
    s->a4_off += *adv;
    s->need = 8;
    return 0;
}

int live_session_feed(live_session *s, const uint8_t *buf, size_t n, size_t *used, uint64_t now_us) {
    size_t pos = 0;
    int rc = 0;
    while (pos < n && !rc) {
        const uint8_t *p = buf + pos;
        size_t left = n - pos;
        if (s->mode == MODE_DETECT) {
            if (p[0] == '#') {
                s->mode = MODE_AEDAT_HEADER;
                s->need = 1;
            } else {
                s->mode = MODE_FRAMED;
                s->need = LIVE_HDR;
            }
            continue;
        }
        if (s->mode == MODE_FRAMED) {
            live_frame f;
            int64_t k = live_frame_parse(p, left, &f);
            if (k < 0) {
                s->c->m.frames_bad++;
                rc = (int)k;
                break;
            }
            if (k == 0) {
                s->need = left < LIVE_HDR ? LIVE_HDR : LIVE_HDR + ((size_t)p[4] | (size_t)p[5] << 8 | (size_t)p[6] << 16 | (size_t)p[7] << 24);
                break;
            }
            pos += (size_t)k;
            s->need = LIVE_HDR;
            rc = handle_frame(s, &f, now_us);
            continue;
        }
        if (s->mode == MODE_AEDAT_HEADER) {
            if (p[0] != '#') {
                if (s->aedat_header_bytes == 0) {
                    s->c->m.frames_bad++;
                    rc = evsnn_seterr(EVSNN_EFORMAT, "AEDAT stream: byte 0 is not '#'");
                    break;
                }
                s->mode = MODE_AEDAT_DATA;
                s->need = 8;
                continue;
            }
            const uint8_t *nl = memchr(p, '\n', left);
            if (!nl) {
                if (s->aedat_header_bytes + left > AEDAT_MAX_HEADER) {
                    s->c->m.frames_bad++;
                    rc = evsnn_seterr(EVSNN_EFORMAT, "AEDAT stream: header longer than %d bytes without ending", AEDAT_MAX_HEADER);
                    break;
                }
                s->need = left + 1;
                break;
            }
            size_t ll = (size_t)(nl - p) + 1;
            if (s->aedat_header_bytes == 0) {
                /* The first line names the format version: 2.0 has the 8-byte records
                 * decoded here, 4.0 (DV) its own packets. */
                if (ll >= 12 && !memcmp(p, "#!AER-DAT4.0", 12)) {
                    if (ll != A4_MAGIC_LEN || memcmp(p, A4_MAGIC, A4_MAGIC_LEN)) {
                        s->c->m.frames_bad++;
                        rc = evsnn_seterr(EVSNN_EFORMAT, "AEDAT 4 stream: first line is not exactly '#!AER-DAT4.0\\r\\n'");
                        break;
                    }
                    s->mode = MODE_A4_PROLOGUE; /* it reads the magic line again */
                    s->need = A4_MAGIC_LEN + 4;
                    continue;
                }
                if (ll < 12 || memcmp(p, "#!AER-DAT2.0", 12) != 0) {
                    s->c->m.frames_bad++;
                    rc = evsnn_seterr(EVSNN_EFORMAT, "AEDAT stream: first line is neither '#!AER-DAT2.0' nor '#!AER-DAT4.0' (AEDAT "
                                                     "2.0 and 4.0 are accepted live)");
                    break;
                }
                live_hello h = {.width = 128, .height = 128, .polarities = 2, .kind = LIVE_KIND_XY};
                if ((rc = set_geometry(s, &h))) break;
            }
            s->aedat_header_bytes += ll;
            if (s->aedat_header_bytes > AEDAT_MAX_HEADER) {
                s->c->m.frames_bad++;
                rc = evsnn_seterr(EVSNN_EFORMAT, "AEDAT stream: header longer than %d bytes", AEDAT_MAX_HEADER);
                break;
            }
            pos += ll;
            s->need = 1;
            continue;
        }
        if (s->mode >= MODE_A4_PROLOGUE) {
            size_t adv;
            rc = a4_feed(s, p, left, &adv, now_us);
            if (rc < 0) s->c->m.frames_bad++;
            if (!adv) break; /* s->need says how much more */
            pos += adv;
            continue;
        }
        /* MODE_AEDAT_DATA: whole 8-byte records only */
        size_t recs = left / 8;
        if (!recs) {
            s->need = 8;
            break;
        }
        for (size_t r = 0; r < recs && !rc; r++) rc = aedat_record(s, p + 8 * r, now_us);
        pos += 8 * recs;
        s->need = 8;
    }
    *used = pos;
    return rc;
}
