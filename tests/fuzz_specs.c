/* tests/fuzz_specs.c — libFuzzer harness: the small notations of the command line. The
 * input's lines are, in order: an architecture (--arch, the papers' notation) and an input
 * shape (--input), built into a network whose sizes must then agree in 64 bits; a synthetic
 * task spec (synth:classes=..,T=..); a --window-us A:B, with every other dataset option
 * given the same text, through the commands' own parser (apps/cmd_data.c). Each parses or
 * is refused with a message, never crashes. (--tha and temporal: are parsed inside
 * apps/cmd_train.c, which links the trainer: see io/README.md "Fuzzing".) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps/cmds.h"
#include "tests/fuzz_util.h"
#include "io/dataset.h"
#include "sim/evsnn.h"
#include "sim/net.h"
#include "sim/task.h"

/* net_build allocates the parameters for any size the notation allows ("70073000-20": 5.6 GB;
 * `run` and `init` estimate memory after building): above 512 MiB calloc returns NULL here
 * and net_build says ENOMEM (fuzz_util.h). */
FUZZ_ALLOW_HUGE_ALLOCATIONS

/* Line k of the input (NUL-terminated, at most 255 bytes) into buf. */
static const char *line(const uint8_t *d, size_t n, int k, char *buf) {
    size_t i = 0;
    for (int l = 0; l < k && i < n; i++)
        if (d[i] == '\n') l++;
    size_t j = 0;
    while (i < n && d[i] != '\n' && j < 255) buf[j++] = d[i] ? (char)d[i] : ' ', i++;
    buf[j] = 0;
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char arch[256], shape[256], synth[256], win[256];
    line(data, size, 0, arch), line(data, size, 1, shape), line(data, size, 2, synth), line(data, size, 3, win);
    uint32_t c = 0, h = 0, w = 0;
    int err;
    if (net_parse_shape(shape, &c, &h, &w)) c = h = w = 0;
    net *n = net_build(arch, c, h, w, NULL, &err);
    if (n) {
        uint64_t vals = (uint64_t)n->in_c * n->in_h * n->in_w;
        if (vals != n->n_in || vals > NET_MAX_VALUES) abort();
        for (uint32_t l = 0; l < n->n_layers; l++)
            if ((uint64_t)n->layers[l].out_c * n->layers[l].out_h * n->layers[l].out_w != n->layers[l].n_out) abort();
        net_free(n);
    } else if (err >= 0) abort();
    task_cfg tc = task_defaults(16);
    if (task_parse(&tc, synth) > 0) abort();
    ds_opts o;
    ds_opts_default(&o);
    static const char *const opts[] = {"window-us", "dt-us", "bins", "downsample", "pool", "polarity", "denoise-us",
                                       "unit-factor", "gain", "split", "first", "count", "encoding"};
    for (size_t i = 0; i < sizeof opts / sizeof *opts; i++) {
        int rc = cmd_data_opt(&o, opts[i], win);
        if (rc < -1 || rc > 1) abort();
    }
    return 0;
}
