/* apps/cmds.h — the evsnn subcommands. Each takes (argc, argv) with argv[0] the
 * subcommand name and returns the process exit code: 0 success, 1 a runtime failure
 * (e.g. a test or comparison that failed), 2 bad usage or bad input. */
#ifndef EVSNN_CMDS_H
#define EVSNN_CMDS_H

int cmd_run(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_hw(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_plot(int argc, char **argv);

#endif
