/* apps/netcli.h — the command-line options that describe a network, shared by every
 * command that builds one (init, run, train, ...).
 *
 *   --arch A            architecture in the papers' notation (README "Network notation")
 *   --input SHAPE       input shape N or CxHxW (dense nets may omit it)
 *   --beta B[,B...]     membrane decay per spiking layer (a shorter list repeats its last)
 *   --threshold T[,..]  firing threshold θ per spiking layer
 *   --reset R[,..]      subtract | zero | none | subtract-pre | zero-drop
 *   --compare C         gt (u > θ, default) | ge (u >= θ)
 *   --no-bias           layers without bias
 *   --pool-on WHAT      currents (default) | spikes
 *   --spike-pool HOW    or (default) | sum   (pooling of spikes)
 *   --padding P         valid (default) | same
 * A command adds NETCLI_OPTIONS to its getopt_long table and passes unknown codes to
 * netcli_parse. */
#ifndef EVSNN_APPS_NETCLI_H
#define EVSNN_APPS_NETCLI_H

#include <getopt.h>

#include "apps/json.h"
#include "io/model.h"
#include "kernels/surrogate.h"
#include "sim/net.h"

enum {
    NETCLI_ARCH = 1000, NETCLI_INPUT, NETCLI_BETA, NETCLI_THRESHOLD, NETCLI_RESET, NETCLI_COMPARE,
    NETCLI_NO_BIAS, NETCLI_POOL_ON, NETCLI_SPIKE_POOL, NETCLI_PADDING
};

#define NETCLI_OPTIONS                                                                                   \
    {"arch", required_argument, 0, NETCLI_ARCH}, {"input", required_argument, 0, NETCLI_INPUT},          \
        {"beta", required_argument, 0, NETCLI_BETA}, {"threshold", required_argument, 0, NETCLI_THRESHOLD}, \
        {"reset", required_argument, 0, NETCLI_RESET}, {"compare", required_argument, 0, NETCLI_COMPARE}, \
        {"no-bias", no_argument, 0, NETCLI_NO_BIAS}, {"pool-on", required_argument, 0, NETCLI_POOL_ON},  \
        {"spike-pool", required_argument, 0, NETCLI_SPIKE_POOL}, {"padding", required_argument, 0, NETCLI_PADDING}

#define NETCLI_HELP                                                                                   \
    "network (when no --model is given):\n"                                                           \
    "  --arch A            architecture, e.g. 700-3000-20 or 16C5-AP2-32C5-AP2-800-11\n"              \
    "  --input SHAPE       input shape N or CxHxW, e.g. 2x32x32 (dense nets may omit it)\n"          \
    "  --beta B[,B...]     membrane decay per spiking layer, in [0,1] (default 0.95)\n"               \
    "  --threshold T[,..]  firing threshold per spiking layer, > 0 (default 1)\n"                     \
    "  --reset R[,..]      subtract (default) | zero | none | subtract-pre | zero-drop\n"             \
    "  --compare C         gt: spike when u > threshold (default) | ge: u >= threshold\n"             \
    "  --no-bias           layers without bias\n"                                                     \
    "  --pool-on WHAT      currents (default: pool conv currents before the neurons) | spikes\n"      \
    "  --spike-pool HOW    or (default) | sum, when pooling spikes\n"                                 \
    "  --padding P         valid (default) | same, for convolutions\n"

#define NETCLI_MAX 32

typedef struct {
    const char *arch, *input;
    float beta[NETCLI_MAX], theta[NETCLI_MAX];
    reset_mode reset[NETCLI_MAX];
    uint32_t n_beta, n_theta, n_reset;
    cmp_mode cmp;
    int no_bias;
    net_opts o;
    neuron_cfg cfg[NETCLI_MAX];
} netcli;

void netcli_init(netcli *c);

/* Handle option `code` with argument `arg`. 1 if handled, 0 if not a network option,
 * negative EVSNN_E* (message set) for a bad value. */
int netcli_parse(netcli *c, int code, const char *arg);

/* Build the network from the collected options (NULL with *err and message on failure;
 * a note about an ambiguous token goes to stderr). */
net *netcli_build(netcli *c, int *err);

/* Open a model file, told apart by content: an evsnn model (io/model.h), or a NIR graph
 * (io/nir.h) imported with the defaults of 'evsnn nir import' (dt, zero reset), whose notes
 * go to stderr as "<who>: note: ...". NULL with *err and the message on failure. */
net *netcli_load_model(const char *path, model_meta *meta, const char *who, int *err);

/* Batch normalisation folded for the event-driven engine (sim/fold.h): into per-channel
 * thresholds for binarized models (meta->binarized), else into the weights; a note on
 * stderr. Takes n (freed) and returns the folded network, or n itself without BN. */
net *netcli_fold(net *n, const model_meta *meta, const char *who, int *err);

/* Parse "x[,x...]" of floats into v (max n). Returns count or negative on error. */
int netcli_floats(const char *s, float *v, int n);

/* The layers of a network as a JSON array: name, kind, input and output [C, H, W],
 * neurons, parameters, and for conv the kernel and padding, for pooling its kind, window and
 * what it pools (currents or spikes). */
json_t *netcli_layers_json(const net *n);

/* A surrogate spec as sg_parse (kernels/surrogate.h) reads it, with snnTorch's own class
 * names accepted too (straight_through_estimator = straight_through). 0, or -1 with msg. */
int netcli_surrogate(surrogate *s, const char *spec, char *msg, size_t msglen);

#endif
