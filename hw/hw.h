/* hw/hw.h — trace-driven cycle model of a layer-wise SNN accelerator (DESIGN §5).
 *
 * The model replays recorded spike trains (one input train and one output train per layer,
 * see io/trace.h) through, per layer: a priority encoder that turns each step's spike word
 * into addresses, a bounded spike queue, and an array of processing elements (PEs), under a
 * schedule (lock-step, pipelined across steps, pipelined across layers). It never runs the
 * network: timing depends only on which spikes occurred and the network's shape.
 *
 * Two ways to run give identical totals (cycles, stalls, histograms, counts):
 *   HW_PER_CYCLE  advance every clock cycle through the state machines;
 *   HW_JUMP       compute each spike's push and pop cycle in closed form and add the
 *                 constant stretches in between at once (work O(spikes), not O(cycles)).
 * Two cost models:
 *   HW_MODEL_EVSNN   the generic machine below (configurable queue depth, overflow policy,
 *                    encoder width, PE counts, pipelining);
 *   HW_MODEL_SNNDSE  the SNN-DSE RTL's state machines reproduced cycle for cycle: FC layers
 *                    as its 2023 event-control unit (per step s·(2 + L·n) + n + 3 cycles),
 *                    conv layers as its sparse conv event-control unit (encoder and spike
 *                    iterator, with the done signal raised before the last sweep ends).
 *                    Operation counts (hence energy) are the generic machine's on the same
 *                    trace; only encoder cycles and spike-word reads follow the RTL.
 * The generic machine, per layer and step (cycle semantics in hw/README.md):
 *   encoder  per chunk of `encoder_width` input bits: 1 load cycle (one spike-word read),
 *            2 cycles per spike found (address, push), 1 cycle to see the chunk empty;
 *            conv/pool inputs are chunked per channel map;
 *   queue    FIFO of depth d; a full queue stalls the encoder (stall), drops the spike
 *            (drop, counted) or fails the run (error);
 *   PEs      FC: each input spike costs L·⌈n_out/P⌉ cycles (one weight fetch + accumulate
 *            per allocated neuron); conv: K²·⌈out_c/P⌉ cycles (out-of-frame taps still
 *            cost a cycle); pooling of spikes: 1 cycle; then a sweep over the PE's neurons
 *            (⌈n/P⌉·update cycles; conv out_h·out_w·⌈out_c/P⌉) that does not shrink with
 *            sparsity; then `step_overhead` cycles of hand-shake.
 * Library code: no printing; errors are negative EVSNN_E* with a message. */
#ifndef EVSNN_HW_H
#define EVSNN_HW_H

#include <stdint.h>
#include <stdio.h>

#include "sim/net.h"
#include "sim/spk.h"

typedef enum { HW_MODEL_EVSNN, HW_MODEL_SNNDSE } hw_model;
typedef enum { HW_LOCKSTEP, HW_PIPE_STEPS, HW_PIPE_LAYERS } hw_schedule;
typedef enum { HW_STALL, HW_DROP, HW_ERROR } hw_overflow;
typedef enum { HW_ALLOC_FIXED, HW_ALLOC_UNIFORM, HW_ALLOC_PROPORTIONAL, HW_ALLOC_MIN_LATENCY } hw_alloc;
typedef enum { HW_MEM_ONCHIP, HW_MEM_DRAM } hw_mem;
typedef enum { HW_PER_CYCLE, HW_JUMP } hw_run_mode;

/* Per-layer machine parameters. */
typedef struct {
    uint32_t pes;              /* processing elements (≥ 1) */
    uint32_t neuron_cycles;    /* L: cycles per weight fetch + accumulate of one neuron (FC) */
    uint32_t update_cycles;    /* cycles per neuron in the sweep (leak, threshold, reset, write) */
    uint32_t queue_depth;      /* spike queue / address list depth (≥ 1) */
    uint32_t encoder_width;    /* priority-encoder chunk width in bits (≥ 1) */
    uint32_t step_overhead;    /* hand-shake cycles per step */
    hw_overflow overflow;
    hw_mem weight_mem;
} hw_layer_cfg;

/* Energy per operation, pJ; static power, mW. */
typedef struct {
    double accumulate_pj, neuron_update_pj;
    double weight_read_pj, weight_read_dram_pj;
    double membrane_read_pj, membrane_write_pj;
    double spike_read_pj, spike_write_pj, encoder_cycle_pj;
    double static_mw;
    char source[160];          /* citation of the figures */
} hw_energy;

#define HW_MAX_OVERRIDES 64

typedef struct {
    hw_model model;
    double clock_mhz;
    hw_schedule schedule;
    uint32_t weight_bits, membrane_bits;   /* number formats (documentation + memory sizing) */
    char weight_format[16], membrane_format[16];
    hw_alloc alloc;
    uint32_t total_pes;                    /* for uniform / proportional / min-latency */
    double latency_target_us;              /* for min-latency */
    hw_layer_cfg dflt;
    uint32_t n_over;                       /* per-layer overrides, matched by index or name */
    struct {
        int index;                         /* -1: match by name */
        char name[32];
        uint32_t set;                      /* bit mask of fields given (HW_F_*) */
        hw_layer_cfg v;
    } over[HW_MAX_OVERRIDES];
    hw_energy energy;
} hw_cfg;

enum { HW_F_PES = 1, HW_F_L = 2, HW_F_UPD = 4, HW_F_DEPTH = 8, HW_F_ENC = 16, HW_F_OVH = 32,
       HW_F_OVF = 64, HW_F_MEM = 128 };

/* Built-in defaults: generic model, 100 MHz, lock-step, 1 PE, L = 1, depth 64, encoder 16,
 * stall, the 45 nm energy table of hw_energy_45nm. */
void hw_cfg_default(hw_cfg *c);
void hw_energy_45nm(hw_energy *e);

/* Parse a libconfig file (format in hw/README.md, examples: data/snn-dse.cfg, data/accel.cfg) over the defaults.
 * Unknown keys, wrong types, zero PEs, depth < 1, unknown enum words are rejected with
 * EVSNN_EINVAL and a message naming the file, the line and the key. */
int hw_cfg_load(hw_cfg *c, const char *path);
/* The same from a string (tests); `name` is used in messages. */
int hw_cfg_parse(hw_cfg *c, const char *text, const char *name);

/* Resolve the per-layer machine of net n: defaults, then overrides. lc: [n_layers]. */
int hw_cfg_resolve(const hw_cfg *c, const net *n, hw_layer_cfg *lc);

const char *hw_schedule_name(hw_schedule s);
const char *hw_overflow_name(hw_overflow o);
const char *hw_model_name(hw_model m);

/* ---- operation counts ---- */
typedef struct {
    uint64_t accumulates, weight_reads, membrane_reads, membrane_writes;
    uint64_t spike_reads, spike_writes, encoder_cycles, neuron_updates;
} hw_ops;

/* a += b, field by field. */
void hw_ops_add(hw_ops *a, const hw_ops *b);

/* ---- one layer's result over one sample ---- */
typedef struct {
    uint64_t cycles;          /* Σ step cycles (the layer's busy time) */
    uint64_t start, end;      /* absolute cycles in the sample under the schedule */
    uint64_t in_spikes, accepted, dropped, overflow_events;
    uint64_t stall_encoder;   /* PEs idle waiting for the encoder */
    uint64_t stall_full;      /* encoder stalled on a full queue (back-pressure) */
    uint64_t stall_sweep;     /* cycles of the neuron sweep (no accumulation) */
    uint64_t stall_prev;      /* waiting on the previous layer */
    uint64_t pe_busy;         /* cycles the PE array worked (accumulate or sweep) */
    uint32_t occ_max, depth;
    uint64_t *hist;           /* [depth + 1] cycles at each occupancy */
    uint64_t *step_cycles;    /* [T] */
    hw_ops ops;
    /* occupancy change points (cycle, occupancy), absolute cycles; only with record */
    uint64_t *pts;
    uint64_t n_pts, cap_pts;
    uint32_t occ_last;        /* occupancy at the end of the last cycle simulated */
    /* SNN-DSE mode */
    uint64_t rtl_done;        /* cycle the RTL raises its done signal (layer-relative) */
    uint64_t rtl_end;         /* cycle the layer's last sweep really ends (layer-relative) */
    uint64_t rtl_hang_steps;  /* FC steps with no input spike: the RTL never leaves its
                                 accumulate state there (its s − 1 underflows); charged n + 3 */
} hw_layer_res;

typedef struct {
    uint32_t n_layers, T;
    hw_layer_res *l;          /* [n_layers] */
    uint64_t latency;         /* cycles from first input to last output */
    uint64_t latency_rtl;     /* SNN-DSE mode: the chain as the RTL's done signals run it */
    uint64_t bottleneck;      /* max layer cycles: the period when layers pipeline samples */
    uint64_t sim_cycles;      /* cycles the simulator advanced or jumped over */
    hw_ops ops;
} hw_sample;

/* A model bound to a network shape and a configuration (copied). */
typedef struct hw_machine hw_machine;

hw_machine *hw_create(const hw_cfg *c, const net *shape, uint32_t T, int *err);
void hw_free(hw_machine *m);
const hw_layer_cfg *hw_layers(const hw_machine *m);
/* Change one layer's PE count (design-space sweeps). */
int hw_set_pes(hw_machine *m, uint32_t layer, uint32_t pes);

/* Run one sample. input: the network input train; layers[n_layers]: each layer's output.
 * record: keep occupancy change points. Results go to *out (allocated inside; release with
 * hw_sample_free). 0, EVSNN_ESHAPE (trains do not fit the shape), EVSNN_EFULL (queue
 * overflow with policy error, naming layer, step and cycle). */
int hw_run(hw_machine *m, const spk_train *input, const spk_train *layers, hw_run_mode mode,
           int record, hw_sample *out);
void hw_sample_free(hw_sample *s);

/* Energy (pJ) = Σ counts × energy per op (weight reads at the on-chip price) + static power
 * × cycles / clock. Table entries are per 32-bit access: weight reads scale by
 * weight_bits / 32, membrane reads and writes by membrane_bits / 32. */
double hw_energy_pj(const hw_cfg *c, const hw_ops *ops, uint64_t cycles);
/* A sample's energy (pJ) over its latency, weight reads priced by each layer's memory kind. */
double hw_sample_energy_pj(const hw_machine *m, const hw_sample *s);
const hw_cfg *hw_machine_cfg(const hw_machine *m);
/* Storage of layer l's weights and membranes in the configured number formats (bytes). */
void hw_layer_bytes(const hw_machine *m, uint32_t l, uint64_t *weight_bytes, uint64_t *membrane_bytes);
const net *hw_machine_net(const hw_machine *m);
uint32_t hw_machine_T(const hw_machine *m);

/* PE allocation from the work seen in a set of samples (proportional / min-latency /
 * uniform); fixed leaves the configured counts. Sets the machine's per-layer PEs. */
int hw_allocate(hw_machine *m, const spk_train *inputs, const spk_train *const *layers, uint32_t n_samples);

/* ---- aggregate over many samples and report ---- */
typedef struct hw_report hw_report;
hw_report *hw_report_create(const hw_machine *m);
void hw_report_free(hw_report *r);
int hw_report_add(hw_report *r, const hw_sample *s);
/* The summary as one JSON object (a jansson json_t, the caller releases it with
 * json_decref): cycles and counts as integers, rates and means as reals, what cannot be
 * computed (no time, no power) as null. NULL with a message on failure. */
struct json_t;
struct json_t *hw_report_json(const hw_report *r);
/* Per-layer data for time-series output: histogram [depth+1], step cycles of the last
 * sample [T], change points of the last recorded sample (pts [m,2]). */
const uint64_t *hw_report_hist(const hw_report *r, uint32_t layer, uint32_t *depth);
double hw_report_mean_layer_cycles(const hw_report *r, uint32_t layer);
/* Means per sample of latency (cycles) and energy (pJ), and the cycles simulated in all;
 * 0 before the first sample. Any pointer may be NULL. */
void hw_report_means(const hw_report *r, double *latency_cycles, double *energy_pj, uint64_t *sim_cycles);

/* ---- replay: samples → machine → report ----
 * The one loop every caller uses (evsnn hw, the sweep's accelerator figures, the live
 * windows): sample i is the input train in[i] and the layer trains layers[i][0 .. n_layers),
 * as the engine recorded them (sim_result.out) or a trace holds them. Each sample is run
 * in `mode` and added to rep (NULL: not summed); first != NULL keeps sample 0's result
 * there (run with record = record_first; the caller frees it with hw_sample_free); each,
 * if given, sees every sample after it was added. Stops at the first failure (its code). */
typedef void (*hw_replay_fn)(void *ctx, uint32_t i, const hw_sample *s);
int hw_replay(hw_machine *m, const spk_train *in, const spk_train *const *layers, uint32_t N, hw_run_mode mode,
              hw_report *rep, hw_sample *first, int record_first, hw_replay_fn each, void *ctx);
/* An hw_replay_fn that sums latency and per-layer cycles (cyc[L], zeroed by the caller)
 * without a report: the PE allocation and design-space searches, which replay the same
 * samples many times. */
typedef struct {
    uint32_t L;
    double lat, *cyc;
} hw_cycle_sum;
void hw_cycle_sum_add(void *ctx, uint32_t i, const hw_sample *s);
uint64_t hw_report_latency_pct(const hw_report *r, double pct);

#endif
