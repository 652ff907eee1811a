/* io/live_metrics.h — the counters of the live server and their Prometheus text rendering.
 *
 * A live_metrics belongs to one server and is touched only from its event-loop thread (no
 * locks). Counters only grow; gauges are the value of the last window or the last second.
 * live_metrics_prometheus writes the text exposition format 0.0.4 (HELP and TYPE lines,
 * `name{label="v"} value`, histograms as _bucket{le=...} cumulative, _sum, _count); the
 * metric names are listed in io/LIVE.md. */
#ifndef EVSNN_LIVE_METRICS_H
#define EVSNN_LIVE_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "sim/net.h"

enum { LIVE_DROP_LATE, LIVE_DROP_RANGE, LIVE_DROP_CAP, LIVE_DROP_OUTSIDE, LIVE_DROP_N };
/* Why a stream connection was refused at accept: --max-conns reached, draining, or the
 * process out of file descriptors (answered through the reserve descriptor). */
enum { LIVE_REFUSE_FULL, LIVE_REFUSE_DRAINING, LIVE_REFUSE_FDS, LIVE_REFUSE_N };
#define LIVE_LAT_BUCKETS 14

typedef struct {
    uint64_t connections_total, connections_open, connections_closed_bad;
    uint64_t bytes_in, events_in, dropped[LIVE_DROP_N], frames_in, frames_bad;
    uint64_t udp_datagrams, windows, steps;
    /* limits (io/LIVE.md "Limits") */
    uint64_t refused[LIVE_REFUSE_N];
    uint64_t accept_errors;      /* accept() failures (EMFILE, ENFILE, ENOBUFS, ENOMEM) */
    uint64_t stream_timeouts;    /* streams closed after --stream-timeout without input */
    uint64_t http_total, http_open, http_timeouts, http_full; /* HTTP connections; full: times the cap paused accepting */
    double steps_per_s;          /* over the last full second */
    uint64_t steps_at_tick;
    /* result latency (window's last event ingested → result queued), seconds */
    uint64_t lat_bucket[LIVE_LAT_BUCKETS + 1]; /* per bucket (not cumulative); last = +Inf */
    double lat_sum;
    uint64_t lat_count;
    /* per layer [n_layers] */
    uint32_t n_layers;
    uint64_t *spikes;            /* output spikes, all windows */
    uint64_t *neuron_steps;      /* neurons × steps run, all windows */
    double *rate_last;           /* firing rate of the last window */
    /* accelerator model (--accel) per layer, last window */
    int accel;
    uint32_t *q_depth, *q_max;
    double *q_mean;
    uint64_t *q_dropped;         /* all windows */
} live_metrics;

extern const double live_lat_bounds[LIVE_LAT_BUCKETS]; /* upper bounds, seconds */

int live_metrics_init(live_metrics *m, uint32_t n_layers); /* 0 or EVSNN_ENOMEM */
void live_metrics_deinit(live_metrics *m);
void live_metrics_latency(live_metrics *m, double seconds);
const char *live_drop_name(int reason);
const char *live_refuse_name(int reason);

/* Prometheus text to f. */
void live_metrics_prometheus(const live_metrics *m, const net *n, FILE *f);

#endif
