/* io/live_metrics.c — counters of the live server, Prometheus text exposition. */
#include "io/live_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/evsnn.h"

/* 10 µs .. 10 s, roughly ×3 per bucket: a window runs in µs on small nets, seconds on big ones. */
const double live_lat_bounds[LIVE_LAT_BUCKETS] = {1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2,
                                                  3e-2, 0.1,  0.3,  1.0,  3.0,  10.0, 30.0};

const char *live_drop_name(int reason) {
    static const char *names[] = {"late", "range", "cap", "outside"};
    return reason >= 0 && reason < LIVE_DROP_N ? names[reason] : "?";
}

const char *live_refuse_name(int reason) {
    static const char *names[] = {"full", "draining", "fds"};
    return reason >= 0 && reason < LIVE_REFUSE_N ? names[reason] : "?";
}

int live_metrics_init(live_metrics *m, uint32_t n_layers) {
    memset(m, 0, sizeof *m);
    m->n_layers = n_layers;
    m->spikes = calloc(n_layers, sizeof *m->spikes);
    m->neuron_steps = calloc(n_layers, sizeof *m->neuron_steps);
    m->rate_last = calloc(n_layers, sizeof *m->rate_last);
    m->q_depth = calloc(n_layers, sizeof *m->q_depth);
    m->q_max = calloc(n_layers, sizeof *m->q_max);
    m->q_mean = calloc(n_layers, sizeof *m->q_mean);
    m->q_dropped = calloc(n_layers, sizeof *m->q_dropped);
    if (!m->spikes || !m->neuron_steps || !m->rate_last || !m->q_depth || !m->q_max || !m->q_mean || !m->q_dropped) {
        live_metrics_deinit(m);
        return evsnn_seterr(EVSNN_ENOMEM, "live metrics: out of memory for %u layers", n_layers);
    }
    return 0;
}

void live_metrics_deinit(live_metrics *m) {
    free(m->spikes);
    free(m->neuron_steps);
    free(m->rate_last);
    free(m->q_depth);
    free(m->q_max);
    free(m->q_mean);
    free(m->q_dropped);
    memset(m, 0, sizeof *m);
}

void live_metrics_latency(live_metrics *m, double s) {
    int b = 0;
    while (b < LIVE_LAT_BUCKETS && s > live_lat_bounds[b]) b++;
    m->lat_bucket[b]++;
    m->lat_sum += s;
    m->lat_count++;
}

static void head(FILE *f, const char *name, const char *type, const char *help) {
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Prometheus floats: Go's ParseFloat syntax; %.17g round-trips, non-finite spelled out. */
static void num(FILE *f, double v) {
    if (isnan(v)) fputs("NaN", f);
    else if (isinf(v)) fputs(v > 0 ? "+Inf" : "-Inf", f);
    else fprintf(f, "%.17g", v);
}

void live_metrics_prometheus(const live_metrics *m, const net *n, FILE *f) {
    struct { const char *name, *help; uint64_t v; } counters[] = {
        {"evsnn_live_connections_total", "TCP connections accepted.", m->connections_total},
        {"evsnn_live_connections_closed_bad_total", "Connections closed because of a malformed stream.", m->connections_closed_bad},
        {"evsnn_live_bytes_total", "Stream bytes received (TCP and UDP).", m->bytes_in},
        {"evsnn_live_events_total", "Events decoded from the streams.", m->events_in},
        {"evsnn_live_frames_total", "Frames decoded (AEDAT streams count no frames).", m->frames_in},
        {"evsnn_live_bad_frames_total", "Malformed frames, datagrams or AEDAT headers.", m->frames_bad},
        {"evsnn_live_udp_datagrams_total", "UDP datagrams received.", m->udp_datagrams},
        {"evsnn_live_windows_total", "Windows run through the engine (one prediction each).", m->windows},
        {"evsnn_live_steps_total", "Engine time steps run.", m->steps},
        {"evsnn_live_accept_errors_total", "accept() failures (out of file descriptors or memory); accepting pauses.", m->accept_errors},
        {"evsnn_live_stream_timeouts_total", "Stream connections closed after --stream-timeout without input.", m->stream_timeouts},
        {"evsnn_live_http_connections_total", "HTTP connections accepted.", m->http_total},
        {"evsnn_live_http_timeouts_total", "HTTP connections closed for not completing a request within --http-timeout.", m->http_timeouts},
        {"evsnn_live_http_full_total", "Times --http-max-conns was reached (accepting HTTP pauses until one closes).", m->http_full},
    };
    for (size_t i = 0; i < sizeof counters / sizeof *counters; i++) {
        head(f, counters[i].name, "counter", counters[i].help);
        fprintf(f, "%s %llu\n", counters[i].name, (unsigned long long)counters[i].v);
    }
    head(f, "evsnn_live_events_dropped_total", "counter", "Events dropped by the declared policy, by reason (io/LIVE.md).");
    for (int r = 0; r < LIVE_DROP_N; r++)
        fprintf(f, "evsnn_live_events_dropped_total{reason=\"%s\"} %llu\n", live_drop_name(r), (unsigned long long)m->dropped[r]);
    head(f, "evsnn_live_connections_refused_total", "counter", "Stream connections refused at accept, by reason (io/LIVE.md).");
    for (int r = 0; r < LIVE_REFUSE_N; r++)
        fprintf(f, "evsnn_live_connections_refused_total{reason=\"%s\"} %llu\n", live_refuse_name(r), (unsigned long long)m->refused[r]);
    head(f, "evsnn_live_connections_open", "gauge", "TCP connections open now.");
    fprintf(f, "evsnn_live_connections_open %llu\n", (unsigned long long)m->connections_open);
    head(f, "evsnn_live_http_connections_open", "gauge", "HTTP connections open now (this one included).");
    fprintf(f, "evsnn_live_http_connections_open %llu\n", (unsigned long long)m->http_open);
    head(f, "evsnn_live_steps_per_second", "gauge", "Engine steps run during the last full second.");
    fputs("evsnn_live_steps_per_second ", f);
    num(f, m->steps_per_s);
    fputc('\n', f);

    head(f, "evsnn_live_layer_spikes_total", "counter", "Output spikes per layer, all windows.");
    for (uint32_t l = 0; l < m->n_layers; l++)
        fprintf(f, "evsnn_live_layer_spikes_total{layer=\"%s\"} %llu\n", n->layers[l].name, (unsigned long long)m->spikes[l]);
    head(f, "evsnn_live_layer_firing_rate", "gauge", "Spikes per neuron per step over all windows, per layer.");
    for (uint32_t l = 0; l < m->n_layers; l++) {
        fprintf(f, "evsnn_live_layer_firing_rate{layer=\"%s\"} ", n->layers[l].name);
        num(f, m->neuron_steps[l] ? (double)m->spikes[l] / (double)m->neuron_steps[l] : 0.0);
        fputc('\n', f);
    }
    head(f, "evsnn_live_layer_firing_rate_last", "gauge", "Spikes per neuron per step in the last window, per layer.");
    for (uint32_t l = 0; l < m->n_layers; l++) {
        fprintf(f, "evsnn_live_layer_firing_rate_last{layer=\"%s\"} ", n->layers[l].name);
        num(f, m->rate_last[l]);
        fputc('\n', f);
    }
    if (m->accel) {
        head(f, "evsnn_live_accel_queue_depth", "gauge", "Spike queue depth of each layer in the accelerator model.");
        for (uint32_t l = 0; l < m->n_layers; l++)
            fprintf(f, "evsnn_live_accel_queue_depth{layer=\"%s\"} %u\n", n->layers[l].name, m->q_depth[l]);
        head(f, "evsnn_live_accel_queue_occupancy_max", "gauge", "Highest queue occupancy in the last window.");
        for (uint32_t l = 0; l < m->n_layers; l++)
            fprintf(f, "evsnn_live_accel_queue_occupancy_max{layer=\"%s\"} %u\n", n->layers[l].name, m->q_max[l]);
        head(f, "evsnn_live_accel_queue_occupancy_mean", "gauge", "Cycle-weighted mean queue occupancy in the last window.");
        for (uint32_t l = 0; l < m->n_layers; l++) {
            fprintf(f, "evsnn_live_accel_queue_occupancy_mean{layer=\"%s\"} ", n->layers[l].name);
            num(f, m->q_mean[l]);
            fputc('\n', f);
        }
        head(f, "evsnn_live_accel_queue_dropped_total", "counter", "Spikes the accelerator model's queues dropped (overflow policy drop).");
        for (uint32_t l = 0; l < m->n_layers; l++)
            fprintf(f, "evsnn_live_accel_queue_dropped_total{layer=\"%s\"} %llu\n", n->layers[l].name, (unsigned long long)m->q_dropped[l]);
    }
    head(f, "evsnn_live_result_latency_seconds", "histogram", "From a window's last event ingested to its result queued on the connection.");
    uint64_t cum = 0;
    for (int b = 0; b < LIVE_LAT_BUCKETS; b++) {
        cum += m->lat_bucket[b];
        fputs("evsnn_live_result_latency_seconds_bucket{le=\"", f);
        fprintf(f, "%g", live_lat_bounds[b]); /* the decimal constants above, as written */
        fprintf(f, "\"} %llu\n", (unsigned long long)cum);
    }
    cum += m->lat_bucket[LIVE_LAT_BUCKETS];
    fprintf(f, "evsnn_live_result_latency_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
    fputs("evsnn_live_result_latency_seconds_sum ", f);
    num(f, m->lat_sum);
    fprintf(f, "\nevsnn_live_result_latency_seconds_count %llu\n", (unsigned long long)m->lat_count);
}
