#include "apps/cmds.h"
int cmd_run(int argc, char **argv) { (void)argc; (void)argv; return 1; }
int cmd_init(int argc, char **argv) { (void)argc; (void)argv; return 1; }
