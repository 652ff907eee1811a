/* apps/cmd_replay.c — `evsnn replay` (placeholder until the dataset readers land). */
#include <stdio.h>

#include "apps/cmds.h"

int cmd_replay(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "evsnn replay: not available in this build\n");
    return 1;
}
