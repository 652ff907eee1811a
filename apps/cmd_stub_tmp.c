/* placeholder until the engine lands in this branch */
#include "apps/cmds.h"
#include <stdio.h>
int cmd_run(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "evsnn run: not built yet\n"); return 1; }
int cmd_init(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "evsnn init: not built yet\n"); return 1; }
