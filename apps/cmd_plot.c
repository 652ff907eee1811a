/* apps/cmd_plot.c — placeholder filled below */
#include "apps/cmds.h"
int cmd_plot(int argc, char **argv) { (void)argc; (void)argv; return 2; }
