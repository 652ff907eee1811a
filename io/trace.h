/* io/trace.h — recorded event traces (HDF5): what `evsnn run --record` writes and what the
 * accelerator model (hw/) replays; also the hardware model's time-series file.
 *
 * A trace holds, for each recorded sample, the input spike train and every layer's output
 * train (the per-layer event trace), its label, and once per file the network's shape
 * (layer kinds and tensor shapes, no parameters). hw/ needs nothing else: the timing model
 * is trace-driven and never reaches into the engine.
 *
 * Writing: trace_create, trace_add per sample, trace_close. Data go to "<path>.tmp.<pid>"
 * (io/replace.h), which trace_close renames onto path, so a failed or interrupted run never leaves a
 * half-written trace; trace_abort (or trace_close failing) removes the temporary file.
 * Reading: trace_open checks the format name and version (a newer version fails with
 * EVSNN_EVERSION and a hint) and trace_read validates every train it returns.
 *
 * File layout, version 2 (integers little-endian; strings variable-length UTF-8; every
 * dataset carries `unit` and `axes` attributes, every train group what it is):
 *   /                attrs  format = "evsnn-trace", format_version = 2, T, n_layers,
 *                           n_samples, arch, input_shape [3] = (C, H, W), dt_us (µs per step
 *                           of the recording; 0 for synthetic input), time_unit, layout
 *   /net/layers      compound [L] named fields kind (0 dense, 1 conv, 2 pool), in_c in_h
 *                           in_w n_in out_c out_h out_w n_out kernel pad conv_h conv_w, pool
 *                           (0 none, 1 avg, 2 max, 3 sum), pool_k, spike_pool (0 or, 1 sum)
 *   /net/name        string [L]
 *   /labels          int32  [N]      class, -1 unlabelled
 *   /input/, /layers/<name>/   the input train and each layer's output train; attrs name,
 *                           kind, index (0 input, l + 1 layer l), channels, shape [3] (C, H, W
 *                           of the channels), layout
 *       start        uint64 [N]      first event of sample i in idx/val
 *       off          uint32 [N, T+1] per-sample CSR offsets (relative to start[i])
 *       idx          uint32 [nnz]    channel ids c·H·W + y·W + x, strictly increasing within a step
 *       val          float  [nnz]    only in /input (input event counts or graded values)
 *   so the events of sample i at step t are idx[start[i] + off[i, t] : start[i] + off[i, t + 1]].
 * Version 1 (still read): format_version spelt "version", input_shape "in_shape", trains in
 * /train<j> (j = 0 input, j = l + 1 layer l) with attr n, /net/kind, /net/shape [L, 12],
 * /net/pool [L, 3], /net/name fixed 32-byte strings.
 * Datasets are chunked, extendible and deflate-compressed. */
#ifndef EVSNN_TRACE_H
#define EVSNN_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "sim/net.h"
#include "sim/result.h"
#include "sim/spk.h"

#define TRACE_VERSION 2 /* 2: named groups, /net/layers fields, units; version 1 still read */

typedef struct trace_writer trace_writer; /* opaque */
typedef struct trace_reader trace_reader; /* opaque */

/* Start a trace of T-step samples of network n (its shape is copied, params are not).
 * NULL with *err set (EVSNN_EIO naming the path, EVSNN_EINVAL, EVSNN_ENOMEM) on failure. */
trace_writer *trace_create(const char *path, const net *n, uint32_t T, int *err);

/* Append one sample: its input train (n == net n_in, T steps), the engine's result (one
 * output train per layer) and its label (-1 if none). input NULL (static, direct-coded input:
 * currents, not events) records an empty input train, so the accelerator model's first layer
 * sees no input spikes. 0 or a negative code; after a failure the writer can only be
 * aborted. */
int trace_add(trace_writer *w, const spk_train *input, const sim_result *r, int label);

/* Finalize, rename onto the final path and free. 0 or a negative code (the temporary file
 * is then removed and the final path untouched). NULL is fine. */
int trace_close(trace_writer *w);

/* Drop the temporary file and free; the final path is untouched. NULL is fine. */
void trace_abort(trace_writer *w);

/* The width of a step in µs of the recording the inputs came from (attribute dt_us; 0, the
 * default: synthetic input, steps without a physical width). */
void trace_set_dt(trace_writer *w, uint32_t dt_us);

/* Open a trace for reading. NULL with *err set on failure, the message naming the file, the
 * dataset or attribute and what was expected. */
trace_reader *trace_open(const char *path, int *err);
void trace_free(trace_reader *r); /* NULL is fine */

uint32_t trace_len(const trace_reader *r);   /* samples recorded */
uint32_t trace_T(const trace_reader *r);     /* steps per sample */
uint32_t trace_dt_us(const trace_reader *r); /* µs per step; 0: unknown (synthetic input, or version 1) */
/* The recorded network's shape: layers with kinds, shapes and names; params, w, b are NULL. */
const net *trace_net(const trace_reader *r);

/* Read sample i: input (n_in channels) and layers[n_layers] (each layer's output train),
 * all uninitialised on entry and owned by the caller afterwards (spk_deinit each); label may
 * be NULL. layers may be NULL to read only the input. 0 or a negative code (EVSNN_ERANGE
 * for i >= trace_len, EVSNN_EFORMAT for a corrupt train, naming dataset and sample). */
int trace_read(trace_reader *r, uint32_t i, spk_train *input, spk_train *layers, int *label);

/* ---- hardware-model time series (written by `evsnn hw --series FILE`) ----
 * One HDF5 file, same temp-then-rename discipline:
 *   /            attrs format = "evsnn-hw-series", version = 1, clock_mhz
 *   /layer<l>/occupancy   uint64 [m, 2]  change points (cycle, queue occupancy)
 *   /layer<l>/histogram   uint64 [depth+1] cycles spent at each occupancy
 *   /layer<l>/step_cycles uint64 [T]      cycles of each step of the layer
 *   /layer<l>             attrs name, depth
 * series[l] points at 2*m values (cycle, occupancy pairs). */
typedef struct {
    const char *name;
    uint32_t depth;
    const uint64_t *points;  /* [m, 2] */
    uint64_t m;
    const uint64_t *hist;    /* [depth + 1] */
    const uint64_t *steps;   /* [T] */
    uint32_t T;
} trace_series;

int trace_write_series(const char *path, double clock_mhz, const trace_series *s, uint32_t n_layers);

#endif
