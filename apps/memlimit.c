/* apps/memlimit.c — memory estimates against --max-memory (see memlimit.h). */
#include "apps/memlimit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *mem_fmt(double v, char buf[32]) {
    static const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int u = 0;
    while (v >= 1024.0 && u < 6) v /= 1024.0, u++;
    snprintf(buf, 32, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
    return buf;
}

static double physical(void) {
    const long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? (double)pages * (double)size : 0.0;
}

void mem_init(mem_budget *b) {
    memset(b, 0, sizeof *b);
    double phys = physical(), lim = phys;
    const char *of = "physical memory";
    /* A container's limit (cgroup v2), when it is the smaller one. */
    FILE *f = fopen("/sys/fs/cgroup/memory.max", "r");
    char line[64];
    if (f && fgets(line, sizeof line, f) && strncmp(line, "max", 3)) {
        double cg = strtod(line, NULL);
        if (cg > 0 && (lim == 0 || cg < lim)) lim = cg, of = "the cgroup's memory limit";
    }
    if (f) fclose(f);
    char t[32];
    b->limit = lim > 0 ? 0.8 * lim : 1e300;
    snprintf(b->limit_why, sizeof b->limit_why, lim > 0 ? "80 %% of %s %s; --max-memory sets it" : "no limit known",
             mem_fmt(lim, t), of);
}

int mem_set_limit(mem_budget *b, const char *arg) {
    char *end;
    double v = strtod(arg, &end);
    if (end == arg || !(v > 0)) return -1;
    if (!strcmp(end, "%")) {
        if (v > 100 || physical() <= 0) return -1;
        b->limit = v / 100 * physical();
    } else {
        static const char suf[] = "KMGT";
        double m = 1;
        if (*end) {
            const char *p = strchr(suf, *end);
            if (!p || (end[1] && strcmp(end + 1, "iB") && strcmp(end + 1, "B"))) return -1;
            for (const char *q = suf; q <= p; q++) m *= 1024;
        }
        b->limit = v * m;
    }
    snprintf(b->limit_why, sizeof b->limit_why, "--max-memory %s", arg);
    return 0;
}

void mem_add(mem_budget *b, const char *what, double bytes) {
    if (b->n == MEM_MAX_PARTS || bytes <= 0) return;
    b->what[b->n] = what;
    b->bytes[b->n++] = bytes;
}

double mem_total(const mem_budget *b) {
    double t = 0;
    for (int i = 0; i < b->n; i++) t += b->bytes[i];
    return t;
}

int mem_check(const mem_budget *b, const char *cmd, const char *hint) {
    const double t = mem_total(b);
    if (t <= b->limit) return 0;
    char x[32], y[32], parts[512] = "";
    for (int i = 0; i < b->n; i++) {
        char z[32];
        snprintf(parts + strlen(parts), sizeof parts - strlen(parts), "%s%s %s", i ? ", " : "", b->what[i], mem_fmt(b->bytes[i], z));
    }
    fprintf(stderr, "evsnn %s: this needs about %s of memory (%s), above the limit of %s (%s): %s\n", cmd, mem_fmt(t, x),
            parts, mem_fmt(b->limit, y), b->limit_why, hint);
    return 2;
}
