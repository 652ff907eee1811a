/* apps/cmd_init.c — `evsnn init`: write a freshly initialised model file. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/cmds.h"
#include "apps/json.h"
#include "apps/memlimit.h"
#include "apps/netcli.h"
#include "io/model.h"
#include "sim/evsnn.h"

static const char *usage_text =
    "usage: evsnn init --arch A [--input SHAPE] [network options] [--seed S] -o MODEL.h5\n"
    "\n"
    "Build the network A, initialise its parameters as PyTorch does by default\n"
    "(U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases), seeded, and write it\n"
    "as an evsnn model file (HDF5). Prints a JSON summary on stdout.\n"
    "\n"
    "  -o, --output FILE   model file to write (written to a temporary file, then renamed)\n"
    "  --seed S            seed of the initialisation (default 1)\n"
    "  --steps T           record T as the model's default number of steps (default 100)\n"
    "  --max-memory M      refuse a network whose parameters exceed M (bytes, K/M/G/T suffix,\n"
    "                      or P% of physical memory; default 80% of it)\n"
    "  -h, --help          this text\n"
    "\n" NETCLI_HELP
    "\nExample:\n"
    "  evsnn init --arch 16C5-AP2-32C5-AP2-800-11 --input 2x32x32 -o dvs.h5\n"
    "\nExit status: 0 written, 2 bad options, architecture or file.\n";

int cmd_init(int argc, char **argv) {
    static const struct option opts[] = {
        NETCLI_OPTIONS, {"output", required_argument, 0, 'o'}, {"seed", required_argument, 0, 's'},
        {"steps", required_argument, 0, 'T'},   {"help", no_argument, 0, 'h'},        {"max-memory", required_argument, 0, 'M'},
        {0, 0, 0, 0}};
    netcli nc;
    netcli_init(&nc);
    const char *out = NULL;
    unsigned long long seed = 1;
    unsigned long steps = 100;
    int c;
    mem_budget mb;
    mem_init(&mb);
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        int rc = netcli_parse(&nc, c, optarg);
        if (rc < 0) { fprintf(stderr, "evsnn init: %s\n", evsnn_errmsg()); return 2; }
        if (rc) continue;
        char *end;
        switch (c) {
        case 'o': out = optarg; break;
        case 's':
            seed = strtoull(optarg, &end, 10);
            if (*end || !*optarg) { fprintf(stderr, "evsnn init: --seed '%s': expected an integer\n", optarg); return 2; }
            break;
        case 'T':
            steps = strtoul(optarg, &end, 10);
            if (*end || steps == 0 || steps > 1000000) { fprintf(stderr, "evsnn init: --steps '%s': expected an integer in 1..1000000\n", optarg); return 2; }
            break;
        case 'M':
            if (mem_set_limit(&mb, optarg)) { fprintf(stderr, "evsnn init: --max-memory '%s': expected bytes with an optional K, M, G or T suffix, or a percentage (e.g. 8G, 50%%)\n", optarg); return 2; }
            break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fprintf(stderr, "evsnn init: see 'evsnn init --help'\n"); return 2;
        }
    }
    if (optind < argc) { fprintf(stderr, "evsnn init: unexpected argument '%s'\n", argv[optind]); return 2; }
    if (!out) { fprintf(stderr, "evsnn init: give the output file with -o MODEL.h5\n"); return 2; }
    int err;
    net *n = netcli_build(&nc, &err);
    if (!n) { fprintf(stderr, "evsnn init: %s\n", evsnn_errmsg()); return 2; }
    /* The parameters (allocated untouched so far) and HDF5's copy while writing them. */
    mem_add(&mb, "parameters", 4.0 * (double)n->n_params);
    mem_add(&mb, "writing", 4.0 * (double)n->n_params);
    if (mem_check(&mb, "init", "a smaller network, or raise --max-memory")) {
        net_free(n);
        return 2;
    }
    net_init_params(n, seed);
    model_meta meta = {.steps = (uint32_t)steps, .pool_on = nc.o.pool_on, .spool = nc.o.spool, .same_pad = nc.o.same_pad};
    if (model_save(out, n, &meta)) {
        fprintf(stderr, "evsnn init: %s\n", evsnn_errmsg());
        net_free(n);
        return 2;
    }
    char desc[2048];
    net_describe(n, desc, sizeof desc);
    fputs("{\"model\":", stdout);
    json_str(stdout, out);
    fputs(",\"arch\":", stdout);
    json_str(stdout, n->arch);
    printf(",\"input\":[%u,%u,%u],\"params\":%zu,\"layers\":", n->in_c, n->in_h, n->in_w, n->n_params);
    json_str(stdout, desc);
    fputs("}\n", stdout);
    net_free(n);
    return 0;
}
