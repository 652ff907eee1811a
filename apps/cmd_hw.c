/* apps/cmd_hw.c — `evsnn hw`: replay a recorded trace through the accelerator model;
 * `evsnn hw dse`: sweep PE counts per layer and print the latency vs PE Pareto front. */
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps/cmds.h"
#include "apps/gnuplot.h"
#include "apps/json.h"
#include "apps/netcli.h"
#include "hw/hw.h"
#include "io/model.h"
#include "io/dataset.h"
#include "io/trace.h"
#include "sim/engine.h"
#include "sim/evsnn.h"
#include "sim/rng.h"
#include "sim/synth.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: evsnn hw --trace TRACE.h5 [--accel CFG] [options]\n"
            "       evsnn hw (--model M.h5 | --arch A --input SHAPE) [--input-rate P] [--steps T]\n"
            "                [--count N] [--seed S] [--record TRACE.h5] [--accel CFG] [options]\n"
            "       evsnn hw dse (--trace TRACE.h5 | --model/--arch ...) [--accel CFG] [--max-pes N]\n"
            "                [--plot FILE.png]\n"
            "\n"
            "Replays a recorded event trace (`evsnn run --record TRACE.h5`) through a cycle model of a\n"
            "layer-wise SNN accelerator: per layer a priority encoder, a spike queue and processing\n"
            "elements (PEs), under a schedule. Prints one JSON object: cycles per layer and per sample\n"
            "(mean and percentiles), latency at the clock, FPS and pipelined throughput, queue occupancy\n"
            "(max vs depth, histogram), overflow and stall counts, stall breakdown, PE utilisation,\n"
            "operation and memory-access counts, energy, average power and FPS/W.\n"
            "\n"
            "options:\n"
            "  --trace FILE      recorded trace (HDF5, io/trace.h)\n"
            "  --accel CFG       accelerator configuration (libconfig; data/accel.cfg documents every\n"
            "                    key, data/snn-dse.cfg mirrors the SNN-DSE RTL); default: built-in\n"
            "  --mode MODE       jump (default: closed-form durations, fast) or per-cycle (every clock\n"
            "                    cycle stepped); both give identical results\n"
            "  --count N         use the first N samples of the trace (default all; --samples is the\n"
            "                    older name)\n"
            "  --pes N           override every layer's PE count\n"
            "  --schedule S      override: lockstep | pipeline-steps | pipeline-layers\n"
            "  --series FILE.h5  write time series (occupancy change points of the first sample,\n"
            "                    occupancy histograms, cycles per step) to HDF5\n"
            "  --plot PREFIX     write PREFIX-occupancy.png and PREFIX-latency.png (gnuplot)\n"
            "engine first (instead of --trace): the event-driven engine runs the network on\n"
            "Bernoulli input spikes and its recorded trains feed the model, in one go:\n"
            "  --model FILE      an evsnn model file (see 'evsnn init') or a NIR graph ('evsnn nir')\n"
            "  --arch A ...      or a network from the command line, PyTorch-default initialisation\n"
            "                    (--init-seed S, default 1); network options below\n"
            "  --input-rate P    spike probability per input channel and step (default 0.05)\n"
            "  --steps T         time steps (default: the model's, else 20)\n"
            "  --count N         samples (default 16 with the engine)\n"
            "  --seed S          input seed (default 1); sample b uses stream b of S\n"
            "  --record FILE.h5  also write the trace, for later `evsnn hw --trace`\n"
            "  --data FILE       run the engine on the first --samples samples of a dataset (any format\n"
            "                    'evsnn data' reads; event data, or images with --encoding rate)\n"
            NETCLI_HELP
            "dse options:\n"
            "  --max-pes N       largest PE count tried per layer (default 64); counts are powers of two\n"
            "  --plot FILE.png   latency vs total PEs, all points and the Pareto front\n"
            "  -h, --help        this text\n"
            "\n"
            "exit status: 0 ok, 1 runtime failure (e.g. queue overflow with overflow = error),\n"
            "2 bad usage or bad input (file, config, trace).\n");
}

static int exit_code(int rc) { return rc == EVSNN_EFULL || rc == EVSNN_ENOMEM || rc == EVSNN_ERANGE ? 1 : 2; }

typedef struct {
    uint32_t N, L;
    spk_train *in;        /* [N] */
    spk_train *ly;        /* [N * L] */
    const spk_train **lp; /* [N] → ly + i * L */
} samples;

static void samples_free(samples *s) {
    for (uint32_t i = 0; s->in && i < s->N; i++) spk_deinit(&s->in[i]);
    for (uint64_t i = 0; s->ly && i < (uint64_t)s->N * s->L; i++) spk_deinit(&s->ly[i]);
    free(s->in);
    free(s->ly);
    free(s->lp);
}

static int load_samples(trace_reader *r, uint32_t want, samples *s) {
    memset(s, 0, sizeof *s);
    s->L = trace_net(r)->n_layers;
    uint32_t N = trace_len(r);
    if (want && want < N) N = want;
    if (N == 0) return evsnn_seterr(EVSNN_EFORMAT, "trace holds no samples");
    s->in = calloc(N, sizeof *s->in);
    s->ly = calloc((size_t)N * s->L, sizeof *s->ly);
    s->lp = calloc(N, sizeof *s->lp);
    if (!s->in || !s->ly || !s->lp) return evsnn_seterr(EVSNN_ENOMEM, "no memory for %u samples", N);
    for (uint32_t i = 0; i < N; i++) {
        int rc = trace_read(r, i, &s->in[i], s->ly + (size_t)i * s->L, NULL);
        if (rc) return rc;
        s->N = i + 1;
        s->lp[i] = s->ly + (size_t)i * s->L;
    }
    return 0;
}

/* Time-weighted quantile of occupancy segments (value, duration) sorted by value. */
typedef struct { uint64_t v, dur; } occ_seg;
static int cmp_seg(const void *a, const void *b) {
    const occ_seg *x = a, *y = b;
    return (x->v > y->v) - (x->v < y->v);
}
static uint64_t seg_quantile(const occ_seg *s, size_t n, uint64_t total, double q) {
    uint64_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        acc += s[i].dur;
        if ((double)acc >= q * (double)total) return s[i].v;
    }
    return n ? s[n - 1].v : 0;
}

/* PREFIX-occupancy.png: one panel per layer (its own scale, so a small layer is not lost
 * beside a big one), the queue's occupancy over the first sample in time bins: the band
 * from the 5th to the 95th percentile of the time in each bin, the median, the maximum and
 * the depth. PREFIX-latency.png: mean latency per layer, logarithmic, each bar labelled. */
static int plots(const char *prefix, const hw_sample *first, const hw_report *rep, const net *n, double mhz) {
    char out[4200], q[512];
    int rc = 0;
    gp_text sc = {0};
    const uint32_t L = n->n_layers;
    enum { NB = 120 };
    occ_seg *seg = NULL;
    size_t cap = 0;
    gp_printf(&sc, "set multiplot layout %u,1 title 'Spike-queue occupancy per layer over the first sample (%g MHz clock)'\n"
                   "set grid\nset key outside right top\nset ylabel 'queued spikes'\nset format x '%%g'\n",
              L, mhz);
    for (uint32_t l = 0; l < L && !rc; l++) {
        const hw_layer_res *y = &first->l[l];
        const uint64_t t0 = y->start, t1 = y->end > y->start ? y->end : y->start + 1;
        gp_printf(&sc, "$occ%u << EOD\n", l);
        uint64_t omax = 0;
        size_t i = 0;
        for (uint32_t b = 0; b < NB; b++) {
            const uint64_t lo = t0 + (t1 - t0) * b / NB, hi = t0 + (t1 - t0) * (b + 1) / NB;
            if (hi <= lo) continue;
            /* segments of [lo, hi): the change point before lo sets the value at lo */
            size_t m = 0;
            while (i < y->n_pts && y->pts[2 * i] < lo) i++;
            uint64_t cur = i ? y->pts[2 * (i - 1) + 1] : 0, at = lo;
            for (size_t j = i; j <= y->n_pts; j++) {
                const uint64_t next = j < y->n_pts && y->pts[2 * j] < hi ? y->pts[2 * j] : hi;
                if (m + 1 >= cap) {
                    cap = cap ? 2 * cap : 1024;
                    occ_seg *ns = realloc(seg, cap * sizeof *seg);
                    if (!ns) { rc = evsnn_seterr(EVSNN_ENOMEM, "no memory for the occupancy plot"); break; }
                    seg = ns;
                }
                if (next > at) seg[m++] = (occ_seg){cur, next - at};
                if (next == hi) break;
                cur = y->pts[2 * j + 1], at = next;
            }
            if (rc) break;
            qsort(seg, m, sizeof *seg, cmp_seg);
            const uint64_t tot = hi - lo, mx = m ? seg[m - 1].v : 0;
            omax = mx > omax ? mx : omax;
            gp_printf(&sc, "%.6g %llu %llu %llu %llu\n", ((double)lo + (double)(hi - lo) / 2) / mhz,
                      (unsigned long long)seg_quantile(seg, m, tot, 0.05), (unsigned long long)seg_quantile(seg, m, tot, 0.5),
                      (unsigned long long)seg_quantile(seg, m, tot, 0.95), (unsigned long long)mx);
        }
        gp_printf(&sc, "EOD\n");
        char t[256];
        snprintf(t, sizeof t, "%s: queue depth %u, most queued %llu", n->layers[l].name, y->depth, (unsigned long long)omax);
        gp_printf(&sc, "set title %s\nset yrange [0:%u]\n%s%s", gnuplot_str(q, sizeof q, t), y->depth + y->depth / 10 + 1,
                  l + 1 == L ? "set xlabel 'time in the sample (µs)'\n" : "unset xlabel\n", l ? "unset key\n" : "");
        gp_printf(&sc, "plot $occ%u using 1:2:4 with filledcurves lc rgb '#a6cee3' title '5-95th percentile of the time', "
                       "'' using 1:3 with lines lw 2 lc rgb '#1f78b4' title 'median', "
                       "'' using 1:5 with steps lc rgb '#e31a1c' title 'maximum', "
                       "%u with lines dt 2 lc rgb 'black' title 'depth'\n", l, y->depth);
    }
    free(seg);
    gp_printf(&sc, "unset multiplot\n");
    snprintf(out, sizeof out, "%s-occupancy.png", prefix);
    char size[32];
    snprintf(size, sizeof size, "1000,%u", 120 + 230 * L);
    if (!rc) rc = sc.oom ? evsnn_seterr(EVSNN_ENOMEM, "no memory for the plot") : gnuplot_png(out, size, sc.s, NULL);
    free(sc.s);
    if (rc) return rc;

    gp_text s2 = {0};
    double lo = 1e300, hi = 0, tot = 0;
    gp_printf(&s2, "$lat << EOD\n");
    for (uint32_t l = 0; l < L; l++) {
        const double us = hw_report_mean_layer_cycles(rep, l) / mhz;
        tot += us;
        if (us > 0 && us < lo) lo = us;
        if (us > hi) hi = us;
        char lab[64];
        snprintf(lab, sizeof lab, us >= 100 ? "%.0f µs" : "%.3g µs", us);
        gp_printf(&s2, "\"%s\" %.9g \"%s\"\n", n->layers[l].name, us, lab);
    }
    gp_printf(&s2, "EOD\n");
    if (!(hi > 0)) lo = 0.1, hi = 1;
    gp_printf(&s2, "set title 'Mean latency per layer and sample (%g MHz clock; all layers %.0f µs)'\n"
                   "set ylabel 'mean latency per sample (µs, log scale)'\nset xlabel 'layer'\nset logscale y\n"
                   "set yrange [%.6g:%.6g]\nset format y '%%g'\nset grid y\nset style fill solid 0.6\nset boxwidth 0.6\n"
                   "unset key\nplot $lat using 0:2:xtic(1) with boxes lc rgb '#1f78b4', "
                   "'' using 0:2:3 with labels offset 0,0.8\n",
              mhz, tot, lo / 3, hi * 4);
    snprintf(out, sizeof out, "%s-latency.png", prefix);
    rc = s2.oom ? evsnn_seterr(EVSNN_ENOMEM, "no memory for the plot") : gnuplot_png(out, "900,500", s2.s, NULL);
    free(s2.s);
    return rc;
}

/* ---------------------------------------------------------------- dse */

typedef struct { uint32_t total; double lat; uint32_t *pes; } point;

static int cmp_point(const void *a, const void *b) {
    const point *x = a, *y = b;
    if (x->total != y->total) return x->total < y->total ? -1 : 1;
    return (x->lat > y->lat) - (x->lat < y->lat);
}

static int run_dse(hw_machine *m, const samples *S, uint32_t max_pes, const char *plot, const char *trace,
                   int *plot_failed) {
    const net *n = hw_machine_net(m);
    const uint32_t L = n->n_layers;
    const hw_cfg *c = hw_machine_cfg(m);
    uint32_t *opts = calloc(L, sizeof *opts), *idx = calloc(L, sizeof *idx);
    if (!opts || !idx) { free(opts); free(idx); return evsnn_seterr(EVSNN_ENOMEM, "no memory"); }
    /* choices per layer: 1, 2, 4, ... up to one PE per neuron / output channel */
    double grid = 1;
    for (uint32_t l = 0; l < L; l++) {
        const net_layer *y = &n->layers[l];
        uint32_t lim = y->kind == NET_DENSE ? y->n_out : y->kind == NET_CONV ? y->out_c : 1;
        if (lim > max_pes) lim = max_pes;
        opts[l] = 1;
        while ((1u << opts[l]) <= lim) opts[l]++;
        grid *= opts[l];
    }
    point *pts = NULL;
    size_t np = 0, cap = 0;
    int rc = 0;
    /* the full grid when small; otherwise the greedy path (add to the slowest layer) plus the
     * uniform diagonal */
    int full = grid <= 4096;
    uint32_t steps = 0;
    for (;;) {
        if (full) {
            for (uint32_t l = 0; l < L && !rc; l++) rc = hw_set_pes(m, l, 1u << idx[l]);
        }
        hw_cycle_sum sum = {.L = L, .cyc = calloc(L, sizeof *sum.cyc)};
        double *cyc = sum.cyc;
        rc = cyc ? hw_replay(m, S->in, S->lp, S->N, HW_JUMP, NULL, NULL, 0, hw_cycle_sum_add, &sum)
                 : evsnn_seterr(EVSNN_ENOMEM, "no memory");
        const double lat = sum.lat;
        if (rc) { free(cyc); break; }
        if (np == cap) {
            cap = cap ? cap * 2 : 256;
            pts = realloc(pts, cap * sizeof *pts);
        }
        point *p = &pts[np++];
        p->lat = lat / S->N;
        p->pes = malloc(L * sizeof *p->pes);
        p->total = 0;
        for (uint32_t l = 0; l < L; l++) { p->pes[l] = hw_layers(m)[l].pes; p->total += p->pes[l]; }
        if (full) {
            free(cyc);
            uint32_t l = 0;
            while (l < L && ++idx[l] == opts[l]) idx[l++] = 0;
            if (l == L) break;
        } else {
            int best = -1;
            for (uint32_t l = 0; l < L; l++)
                if (1u << idx[l] < (1u << (opts[l] - 1)) && (best < 0 || cyc[l] > cyc[best])) best = (int)l;
            free(cyc);
            if (best < 0 || ++steps > 4096) break;
            idx[best]++;
            rc = hw_set_pes(m, (uint32_t)best, 1u << idx[best]);
        }
    }
    if (!rc) {
        qsort(pts, np, sizeof *pts, cmp_point);
        json_t *o = json_object(), *pareto = json_array();
        jset(o, "cmd", jstr("hw dse"));
        jset(o, "trace", jstr(trace));
        jset(o, "model", jstr(hw_model_name(c->model)));
        jset(o, "schedule", jstr(hw_schedule_name(c->schedule)));
        jset(o, "clock_mhz", jnum(c->clock_mhz));
        jset(o, "samples", jint(S->N));
        jset(o, "search", jstr(full ? "grid" : "greedy"));
        jset(o, "points", jint((long long)np));
        double best = 1e300;
        gp_text all = {0}, front = {0};
        for (size_t i = 0; i < np; i++) {
            gp_printf(&all, "%u %.6g\n", pts[i].total, pts[i].lat / c->clock_mhz);
            if (pts[i].lat >= best) continue;
            best = pts[i].lat;
            json_t *p = json_object();
            jset(p, "total_pes", jint(pts[i].total));
            jset(p, "pes", ju32s(pts[i].pes, L));
            jset(p, "latency_cycles", jnum(pts[i].lat)); /* a mean over the samples */
            jset(p, "latency_us", jnum(pts[i].lat / c->clock_mhz));
            jset(p, "fps", jnum(pts[i].lat > 0 ? c->clock_mhz * 1e6 / pts[i].lat : NAN));
            json_array_append_new(pareto, p);
            gp_printf(&front, "%u %.6g\n", pts[i].total, pts[i].lat / c->clock_mhz);
        }
        jset(o, "pareto", pareto);
        if (plot) jset(o, "plot", jstr(plot));
        jprint(stdout, o);
        if (plot) {
            gp_text sc = {0};
            gp_printf(&sc, "$all << EOD\n%sEOD\n$front << EOD\n%sEOD\n", all.s ? all.s : "", front.s ? front.s : "");
            gp_printf(&sc, "set title 'Accelerator latency against processing elements (%s, %s schedule, %g MHz)'\n"
                           "set xlabel 'processing elements, all layers'\nset ylabel 'mean latency per sample (µs, log scale)'\n"
                           "set logscale xy\nset format x '%%g'\nset format y '%%g'\nset grid\nset key top right\n"
                           "plot $all using 1:2 with points pt 7 ps 0.6 lc rgb '#999999' title 'configurations tried', "
                           "$front using 1:2 with steps lw 2 lc rgb '#1f78b4' title 'Pareto front (fewest PEs per latency)', "
                           "$front using 1:2 with points pt 7 ps 1 lc rgb '#1f78b4' notitle\n",
                      hw_model_name(c->model), hw_schedule_name(c->schedule), c->clock_mhz);
            if (!rc) *plot_failed = (rc = sc.oom ? evsnn_seterr(EVSNN_ENOMEM, "no memory for the plot")
                                                 : gnuplot_png(plot, "900,520", sc.s, NULL)) != 0;
            free(sc.s);
        }
        free(all.s);
        free(front.s);
    }
    for (size_t i = 0; i < np; i++) free(pts[i].pes);
    free(pts);
    free(opts);
    free(idx);
    return rc;
}

/* Run the engine on N samples — the first N of dataset `ds`, or Bernoulli inputs (sample b:
 * stream b of seed) — and keep its input and per-layer output trains; with `record`, also
 * write them as a trace. */
static int engine_samples(const net *n, uint32_t T, uint32_t N, double rate, uint64_t seed, const char *record,
                          dataset *ds, samples *S) {
    memset(S, 0, sizeof *S);
    S->L = n->n_layers;
    S->in = calloc(N, sizeof *S->in);
    S->ly = calloc((size_t)N * S->L, sizeof *S->ly);
    S->lp = calloc(N, sizeof *S->lp);
    sim_input *in = calloc(N, sizeof *in);
    sim_result *res = calloc(N, sizeof *res);
    int rc = 0;
    if (!S->in || !S->ly || !S->lp || !in || !res) rc = evsnn_seterr(EVSNN_ENOMEM, "no memory for %u samples", N);
    int *label = calloc(N, sizeof *label);
    if (!label) rc = evsnn_seterr(EVSNN_ENOMEM, "no memory for %u samples", N);
    for (uint32_t b = 0; b < N && !rc; b++) {
        label[b] = -1;
        if (ds) {
            ds_sample d = {0};
            rc = ds_get(ds, b, &d);
            if (!rc && d.static_x)
                rc = evsnn_seterr(EVSNN_EINVAL, "sample %u is a static image: the accelerator needs input spikes "
                                                "(use --encoding rate or poisson)", b);
            if (!rc) {
                S->in[b] = d.train; /* the sample set takes the train */
                memset(&d.train, 0, sizeof d.train);
                label[b] = d.label;
            }
            ds_sample_deinit(&d);
        } else
            rc = synth_bernoulli(&S->in[b], T, n->n_in, rate, rng_stream(seed, b));
        S->N = b + 1;
        if (!rc) rc = sim_result_init(&res[b], n, T, 0);
        in[b] = (sim_input){.train = &S->in[b], .T = T};
    }
    if (!rc) rc = sim_run_batch(n, in, N, res, 0); /* results do not depend on the thread count */
    trace_writer *w = NULL;
    if (!rc && record) {
        int err;
        w = trace_create(record, n, T, &err);
        if (!w) rc = EVSNN_EIO;
        else if (ds && ds_get_kind(ds) != DS_KIND_IMAGE && !ds_get_opts(ds)->exact_T) trace_set_dt(w, ds_get_opts(ds)->dt_us);
    }
    for (uint32_t b = 0; b < N && !rc; b++) {
        if (w && (rc = trace_add(w, &S->in[b], &res[b], label[b]))) break;
        /* move the engine's trains into the sample set */
        for (uint32_t l = 0; l < S->L; l++) {
            S->ly[(size_t)b * S->L + l] = res[b].out[l];
            memset(&res[b].out[l], 0, sizeof res[b].out[l]);
        }
        S->lp[b] = S->ly + (size_t)b * S->L;
    }
    if (w) {
        if (rc) trace_abort(w);
        else if ((rc = trace_close(w))) rc = EVSNN_EIO;
    }
    for (uint32_t b = 0; res && b < N; b++) sim_result_deinit(&res[b]);
    free(res);
    free(label);
    free(in);
    return rc;
}

/* ---------------------------------------------------------------- command */

/* The engine path: the network from --model or --arch, its samples (Bernoulli inputs or
 * the first of a dataset) through the engine into *S (and the --record trace). -1 to go on
 * (*rc: the engine's result), else the exit status; *en: the network (the caller frees). */
static int engine_path(const char *model, netcli *nc, unsigned long long init_seed, long steps, long nsamp,
                       const char *data, double rate, unsigned long long seed, const char *record, net **en_out,
                       uint32_t *T_out, samples *S, int *rc_out) {
    int err = 0, rc;
    uint32_t T;
    net *en;
    model_meta meta = {0};
    en = model ? netcli_fold(netcli_load_model(model, &meta, "evsnn hw", &err), &meta, "evsnn hw", &err)
               : netcli_build(nc, &err);
    if (!en) { fprintf(stderr, "evsnn: %s\n", evsnn_errmsg()); return 2; }
    if (!model) net_init_params(en, init_seed);
    T = steps ? (uint32_t)steps : meta.steps ? meta.steps : 20;
    uint32_t N = nsamp ? (uint32_t)nsamp : 16;
    dataset *ds = NULL;
    if (data) {
        ds_opts o;
        ds_opts_default(&o);
        o.T = T;
        ds = ds_open(data, &o, &err);
        uint32_t c = 0, h = 0, w = 0;
        if (ds) ds_shape(ds, &c, &h, &w);
        if (ds && c * h * w != en->n_in) {
            err = evsnn_seterr(EVSNN_ESHAPE, "%s: samples are %ux%ux%u, the network takes %ux%ux%u", data, c, h, w,
                               en->in_c, en->in_h, en->in_w);
            ds_free(ds);
            ds = NULL;
        }
        if (!ds) { fprintf(stderr, "evsnn: %s\n", evsnn_errmsg()); net_free(en); return 2; }
        T = ds_steps(ds);
        if (ds_len(ds) < N) N = ds_len(ds);
    }
    rc = engine_samples(en, T, N, rate, seed, record, ds, S);
    ds_free(ds);
    if (rc == EVSNN_EIO) { fprintf(stderr, "evsnn: %s\n", evsnn_errmsg()); samples_free(S); net_free(en); return 2; }
    *en_out = en;
    *T_out = T;
    *rc_out = rc;
    return -1;
}

/* The summary: one JSON object, the run's settings then hw_report_json. 0 or an error. */
static int print_hw(const hw_report *rep, const net *n, const char *trace, const char *source, const char *accel,
                    hw_run_mode mode, const char *data, double rate, unsigned long long seed, const char *series,
                    const char *plot, double secs, uint64_t simc) {
    int rc = 0;
    json_t *o = json_object();
    jset(o, "cmd", jstr("hw"));
    jset(o, trace ? "trace" : "network", jstr(source));
    jset(o, "accel", accel ? jstr(accel) : json_null()); /* null: the built-in configuration */
    jset(o, "arch", jstr(n->arch));
    jset(o, "mode", jstr(mode == HW_JUMP ? "jump" : "per-cycle"));
    if (data) jset(o, "inputs", jstr("dataset"));
    else if (!trace) {
        jset(o, "inputs", jstr("bernoulli"));
        jset(o, "input_rate", jnum(rate));
        jset(o, "seed", jint((long long)seed));
    }
    if (series) jset(o, "series", jstr(series));
    if (plot) {
        char png[4200];
        json_t *pl = json_array();
        snprintf(png, sizeof png, "%s-occupancy.png", plot);
        json_array_append_new(pl, jstr(png));
        snprintf(png, sizeof png, "%s-latency.png", plot);
        json_array_append_new(pl, jstr(png));
        jset(o, "plots", pl);
    }
    jset(o, "sim_seconds", jnum(secs));
    jset(o, "sim_cycles_per_s", jnum(secs > 0 ? simc / secs : NAN));
    json_t *rj = hw_report_json(rep);
    if (!rj) rc = EVSNN_ENOMEM, json_decref(o);
    else {
        json_object_update(o, rj);
        json_decref(rj);
        if (jprint(stdout, o)) rc = evsnn_seterr(EVSNN_EIO, "stdout: write failed");
    }
    return rc;
}

/* The command's options (the network's first, apps/netcli.h). */
static const struct option opts[] = {
    NETCLI_OPTIONS,
    {"input-rate", required_argument, 0, 'r'}, {"steps", required_argument, 0, 'T'},
    {"seed", required_argument, 0, 'e'}, {"init-seed", required_argument, 0, 'i'},
    {"record", required_argument, 0, 'R'},
    {"trace", required_argument, 0, 't'}, {"accel", required_argument, 0, 'a'},
    {"mode", required_argument, 0, 'm'},  {"count", required_argument, 0, 'n'},
    {"samples", required_argument, 0, 'n'}, /* the older name of --count */
    {"pes", required_argument, 0, 'p'},   {"schedule", required_argument, 0, 's'},
    {"series", required_argument, 0, 'S'}, {"plot", required_argument, 0, 'P'},
    {"max-pes", required_argument, 0, 'M'}, {"model", required_argument, 0, 'D'},
    {"data", required_argument, 0, 'd'},  {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};

/* --accel (or the built-in configuration) and --schedule into *cfg; 0, or -1 with the
 * message printed. */
static int load_cfg(const char *accel, const char *sched, hw_cfg *cfg) {
    hw_cfg_default(cfg);
    if (accel && hw_cfg_load(cfg, accel)) { fprintf(stderr, "evsnn: %s\n", evsnn_errmsg()); return -1; }
    if (!sched) return 0;
    if (!strcmp(sched, "lockstep")) cfg->schedule = HW_LOCKSTEP;
    else if (!strcmp(sched, "pipeline-steps")) cfg->schedule = HW_PIPE_STEPS;
    else if (!strcmp(sched, "pipeline-layers")) cfg->schedule = HW_PIPE_LAYERS;
    else { fprintf(stderr, "evsnn hw: --schedule '%s': expected lockstep, pipeline-steps or pipeline-layers\n", sched); return -1; }
    return 0;
}

int cmd_hw(int argc, char **argv) {
    int dse = argc > 1 && !strcmp(argv[1], "dse");
    if (dse) { argc--; argv++; }
    const char *trace = NULL, *accel = NULL, *series = NULL, *plot = NULL, *model = NULL, *sched = NULL;
    const char *record = NULL, *data = NULL;
    hw_run_mode mode = HW_JUMP;
    long nsamp = 0, pes = 0, max_pes = 64, steps = 0;
    double rate = 0.05;
    unsigned long long seed = 1, init_seed = 1;
    netcli nc;
    netcli_init(&nc);
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end = NULL;
        int nrc = netcli_parse(&nc, o, optarg);
        if (nrc < 0) { fprintf(stderr, "evsnn hw: %s\n", evsnn_errmsg()); return 2; }
        if (nrc) continue;
        switch (o) {
        case 'r':
            rate = strtod(optarg, &end);
            if (!*optarg || *end || !(rate >= 0 && rate <= 1)) {
                fprintf(stderr, "evsnn hw: --input-rate '%s': expected a probability in [0,1]\n", optarg);
                return 2;
            }
            break;
        case 'e': case 'i':
            if (!*optarg || *optarg == '-') { fprintf(stderr, "evsnn hw: --%s '%s': expected a non-negative integer\n", o == 'e' ? "seed" : "init-seed", optarg); return 2; }
            if (o == 'e') seed = strtoull(optarg, &end, 10); else init_seed = strtoull(optarg, &end, 10);
            if (*end) { fprintf(stderr, "evsnn hw: --%s '%s': expected a non-negative integer\n", o == 'e' ? "seed" : "init-seed", optarg); return 2; }
            break;
        case 'R': record = optarg; break;
        case 't': trace = optarg; break;
        case 'a': accel = optarg; break;
        case 'S': series = optarg; break;
        case 'P': plot = optarg; break;
        case 'D': model = optarg; break;
        case 'd': data = optarg; break;
        case 's': sched = optarg; break;
        case 'm':
            if (!strcmp(optarg, "jump")) mode = HW_JUMP;
            else if (!strcmp(optarg, "per-cycle")) mode = HW_PER_CYCLE;
            else { fprintf(stderr, "evsnn hw: --mode '%s': expected jump or per-cycle\n", optarg); return 2; }
            break;
        case 'n': case 'p': case 'M': case 'T': {
            long v = strtol(optarg, &end, 10);
            if (!*optarg || *end || v < 1 || v > 1L << 30) {
                fprintf(stderr, "evsnn hw: --%s '%s': expected a positive integer\n",
                        o == 'n' ? "samples" : o == 'p' ? "pes" : o == 'T' ? "steps" : "max-pes", optarg);
                return 2;
            }
            if (o == 'n') nsamp = v; else if (o == 'p') pes = v; else if (o == 'T') steps = v; else max_pes = v;
            break;
        }
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) { fprintf(stderr, "evsnn hw: unexpected argument '%s'\n", argv[optind]); return 2; }
    if (data && trace) {
        fprintf(stderr, "evsnn hw: give --trace or --data, not both\n");
        return 2;
    }
    int engine = model || nc.arch;
    if (!trace == !engine || (model && nc.arch)) {
        fprintf(stderr, "evsnn hw: give exactly one of --trace, --model or --arch (see evsnn hw --help)\n");
        return 2;
    }
    hw_cfg cfg;
    if (load_cfg(accel, sched, &cfg)) return 2;
    int rc = 0;
    int err = 0;
    trace_reader *tr = NULL;
    net *en = NULL;
    samples S;
    memset(&S, 0, sizeof S);
    const net *shape;
    uint32_t T;
    if (trace) {
        tr = trace_open(trace, &err);
        if (!tr) { fprintf(stderr, "evsnn: %s\n", evsnn_errmsg()); return 2; }
        rc = load_samples(tr, (uint32_t)nsamp, &S);
        shape = trace_net(tr);
        T = trace_T(tr);
    } else {
        int erc = engine_path(model, &nc, init_seed, steps, nsamp, data, rate, seed, record, &en, &T, &S, &rc);
        if (erc >= 0) return erc;
        shape = en;
    }
    hw_machine *m = NULL;
    if (!rc) m = hw_create(&cfg, shape, T, &rc);
    for (uint32_t l = 0; m && pes && l < shape->n_layers && !rc; l++) rc = hw_set_pes(m, l, (uint32_t)pes);
    if (!rc && m && !pes) rc = hw_allocate(m, S.in, S.lp, S.N);
    if (rc) {
        fprintf(stderr, "evsnn: %s\n", evsnn_errmsg());
        hw_free(m);
        samples_free(&S);
        trace_free(tr);
        net_free(en);
        return exit_code(rc);
    }
    const char *source = trace ? trace : model ? model : nc.arch;
    if (dse) {
        int dse_plot_failed = 0;
        rc = run_dse(m, &S, (uint32_t)max_pes, plot, source, &dse_plot_failed);
        if (rc) fprintf(stderr, "evsnn: %s\n", evsnn_errmsg());
        hw_free(m);
        samples_free(&S);
        trace_free(tr);
        net_free(en);
        return dse_plot_failed ? 1 : rc ? exit_code(rc) : 0;
    }
    hw_report *rep = hw_report_create(m);
    hw_sample first = {0};
    double t0 = evsnn_now_s();
    uint64_t simc = 0;
    rc = rep ? hw_replay(m, S.in, S.lp, S.N, mode, rep, &first, series || plot, NULL, NULL)
             : evsnn_seterr(EVSNN_ENOMEM, "hw report: no memory");
    double secs = evsnn_now_s() - t0;
    if (rep) hw_report_means(rep, NULL, NULL, &simc);
    const net *n = hw_machine_net(m);
    if (!rc && series) {
        trace_series *ts = calloc(n->n_layers, sizeof *ts);
        for (uint32_t l = 0; ts && l < n->n_layers; l++) {
            uint32_t depth;
            ts[l] = (trace_series){.name = n->layers[l].name, .points = first.l[l].pts, .m = first.l[l].n_pts,
                                   .hist = hw_report_hist(rep, l, &depth), .steps = first.l[l].step_cycles,
                                   .T = first.T};
            ts[l].depth = depth;
        }
        rc = ts ? trace_write_series(series, cfg.clock_mhz, ts, n->n_layers) : EVSNN_ENOMEM;
        free(ts);
    }
    int plot_failed = 0; /* a figure gnuplot could not draw is a runtime failure (exit 1) */
    if (!rc && plot) plot_failed = (rc = plots(plot, &first, rep, n, cfg.clock_mhz)) != 0;
    if (!rc) rc = print_hw(rep, n, trace, source, accel, mode, data, rate, seed, series, plot, secs, simc);
    if (rc) fprintf(stderr, "evsnn: %s\n", evsnn_errmsg());
    hw_sample_free(&first);
    hw_report_free(rep);
    hw_free(m);
    samples_free(&S);
    trace_free(tr);
    net_free(en);
    return plot_failed ? 1 : rc ? exit_code(rc) : 0;
}
