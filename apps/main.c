/* apps/main.c — `evsnn CMD [options]`: dispatch to the subcommands in apps/cmd_*.c.
 * apps/ is the only place that parses argv, prints for the user and chooses exit codes. */
#include <stdio.h>
#include <string.h>

#include "apps/cmds.h"

typedef struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} command;

static const command commands[] = {
    {"run", cmd_run, "run a network on input spikes and print a JSON summary"},
    {"init", cmd_init, "write a freshly initialised model file from an architecture"},
    {"data", cmd_data, "inspect, convert and picture datasets (info, convert, show)"},
    {"train", cmd_train, "train a network (BPTT, surrogate gradients) with checkpoints and resume"},
    {"eval", cmd_eval, "evaluate a model: accuracy, loss, firing rates, silent neurons, histograms"},
    {"hw", cmd_hw, "replay a recorded trace through the accelerator cycle model (hw dse: PE sweep)"},
    {"sweep", cmd_sweep, "run a study (train, evaluate, accelerator model per trial) into a CSV/HDF5 table; MPI-aware"},
    {"plot", cmd_plot, "draw a study's figures (PNG, gnuplot) named after the papers'"},
    {"serve", cmd_serve, "serve a model over live event streams (TCP/UDP, HTTP metrics and live page)"},
    {"replay", cmd_replay, "stream a recording to 'evsnn serve' and score its predictions"},
    {"nir", cmd_nir, "NIR graphs: import from / export to snnTorch, Norse, Sinabs, Lava, chips (import, export, info)"},
};

static void usage(FILE *f) {
    fprintf(f,
            "usage: evsnn [--version] [--help] COMMAND [options]\n"
            "\n"
            "evsnn is an event-driven spiking-neural-network simulator, trainer and\n"
            "accelerator model. Commands:\n\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
    fprintf(f,
            "\n'evsnn COMMAND --help' describes a command's options.\n"
            "Exit status: 0 success, 1 runtime failure, 2 bad usage or bad input.\n"
            "Results go to stdout (JSON); messages and errors to stderr.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("evsnn 0.1.0\n");
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "evsnn: '%s' is not a command (see 'evsnn --help')\n", argv[1]);
    return 2;
}
