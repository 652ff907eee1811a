/* apps/memlimit.h — the memory a command will need, estimated before it allocates, against
 * --max-memory (default: 80 % of the physical memory, or of the cgroup's limit when that is
 * smaller). A command adds up its parts (parameters, engine workspaces, inputs, recorded
 * results) with mem_add and calls mem_check before its first large allocation; over the
 * limit it refuses with the estimate, its largest parts and the limit, instead of growing
 * until the machine swaps or the OOM killer steps in. */
#ifndef EVSNN_APPS_MEMLIMIT_H
#define EVSNN_APPS_MEMLIMIT_H

#include <stdint.h>

#define MEM_MAX_PARTS 8

typedef struct {
    const char *what[MEM_MAX_PARTS];
    double bytes[MEM_MAX_PARTS];
    int n;
    double limit;        /* bytes */
    char limit_why[128]; /* "--max-memory 4G" or "80 % of 23.4 GiB physical memory" */
} mem_budget;

/* Default limit (see above). */
void mem_init(mem_budget *b);
/* --max-memory: bytes with an optional K, M, G, T suffix (powers of 1024), or P% of the
 * physical memory. 0, or -1 for a bad value. */
int mem_set_limit(mem_budget *b, const char *arg);
void mem_add(mem_budget *b, const char *what, double bytes);
double mem_total(const mem_budget *b);
/* 0 when the estimate fits; else prints "evsnn CMD: ... needs about X (parts) but the limit
 * is Y (why): hint" to stderr and returns 2 (the exit status for bad input). */
int mem_check(const mem_budget *b, const char *cmd, const char *hint);
/* "1.5 GiB" */
const char *mem_fmt(double bytes, char buf[32]);

#endif
