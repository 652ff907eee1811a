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
int cmd_serve(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_nir(int argc, char **argv);

/* Dataset/transform option `--opt arg` (name without dashes) into a ds_opts (io/dataset.h):
 * 0 applied, -1 bad value, 1 not a dataset option. cmd_data_opts_help documents them. */
struct ds_opts;
int cmd_data_opt(struct ds_opts *o, const char *opt, const char *arg);
extern const char *cmd_data_opts_help;

#endif
