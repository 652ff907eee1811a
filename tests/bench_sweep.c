/* tests/bench_sweep.c — study throughput and the cost of data-parallel training over MPI.
 *
 * 1. data/bench.study (16 small trials on the synthetic task) with one process, then with
 *    `mpirun -n 2` of the MPI build: trials per hour and the scaling efficiency
 *    (rate with 2 ranks / (2 × rate with 1)), both measured in this run.
 * 2. Data-parallel `evsnn train` with 2 ranks: wall time per optimizer step and the time
 *    rank 0 spends in the gradient all-reduce per step (comm_stats, which includes waiting
 *    for the other rank), as a fraction of the step; the 1-process step time beside it.
 * Without mpicc/mpirun only the 1-rank figures are printed. One JSON line per workload. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sim/evsnn.h"
#include "tests/benchjson.h"

/* Run cmd, capture stdout into out[cap]; exit status or -1. */
static int run(const char *cmd, char *out, size_t cap) {
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return st == -1 ? -1 : (st >> 8) & 0xff;
}

/* Trials per hour of the bench study; -1 on failure. */
static double sweep_rate(const char *cmd, const char *dir, int *trials) {
    char c[4096], out[1 << 16];
    snprintf(c, sizeof c, "rm -rf '%s' && %s data/bench.study -o '%s' --quiet 2>/dev/null | tail -n 1", dir, cmd, dir);
    const double t0 = evsnn_now_s();
    if (run(c, out, sizeof out) != 0) return -1;
    const double secs = evsnn_now_s() - t0;
    *trials = (int)bench_json_num(out, "ran");
    return *trials > 0 ? *trials / secs * 3600.0 : -1;
}

int main(void) {
    const char *evsnn = getenv("EVSNN_BIN") ? getenv("EVSNN_BIN") : "bin/evsnn";
    char tmp[] = "/tmp/evsnn-bench-sweep-XXXXXX", dir[128], cmd[4096], out[1 << 16];
    if (!mkdtemp(tmp)) return 1;
    int trials = 0;
    snprintf(dir, sizeof dir, "%s/one", tmp);
    /* one process, training on one thread: the unit the ranks multiply */
    char one[4200];
    snprintf(one, sizeof one, "%s sweep --threads 1", evsnn);
    const double r1 = sweep_rate(one, dir, &trials);
    if (r1 < 0) {
        fprintf(stderr, "bench_sweep: the 1-process sweep failed\n");
        return 1;
    }
    const int have_mpi = system("command -v mpicc >/dev/null 2>&1 && command -v mpirun >/dev/null 2>&1") == 0 &&
                         system("${MAKE:-make} --no-print-directory MPI=1 build >/dev/null 2>&1") == 0;
    const char *mpirun = "mpirun --allow-run-as-root --oversubscribe -n 2 build/mpi/bin/evsnn";
    char two[4200];
    snprintf(two, sizeof two, "%s sweep", mpirun);
    double r2 = -1;
    if (have_mpi) {
        snprintf(dir, sizeof dir, "%s/two", tmp);
        int t2 = 0;
        r2 = sweep_rate(two, dir, &t2);
    }
    json_t *o = bench_doc("sweep");
    jset(o, "study", jstr("data/bench.study"));
    jset(o, "trials", jint(trials));
    jset(o, "trials_per_hour_1rank", jnum(r1));
    if (r2 > 0) {
        jset(o, "trials_per_hour_2ranks", jnum(r2));
        jset(o, "speedup", jnum(r2 / r1));
        jset(o, "scaling_efficiency", jnum(r2 / (2 * r1)));
    } else
        jset(o, "mpi", jstr("not available (make MPI=1 needs mpicc)"));
    jset(o, "cores", jint(sysconf(_SC_NPROCESSORS_ONLN)));
    bench_emit(o);

    /* data-parallel training step and its all-reduce */
    const char *w = "train --arch 100-256-4 --data synth:classes=4,train=2048,test=64,T=25 --epochs 2 --batch 64 "
                    "--lr 0.01 --threads 1 --quiet";
    snprintf(cmd, sizeof cmd, "%s %s --slots 2 -o %s/s.h5 2>/dev/null | tail -n 1", evsnn, w, tmp);
    if (run(cmd, out, sizeof out) != 0) {
        fprintf(stderr, "bench_sweep: evsnn train failed\n");
        return 1;
    }
    const double s1 = bench_json_num(out, "seconds"), st1 = bench_json_num(out, "steps");
    if (have_mpi) {
        snprintf(cmd, sizeof cmd, "%s %s --slots 1 -o %s/m.h5 2>/dev/null | tail -n 1", mpirun, w, tmp);
        if (run(cmd, out, sizeof out) == 0) {
            const double s2 = bench_json_num(out, "seconds"), st2 = bench_json_num(out, "steps"),
                         ar = bench_json_num(out, "allreduce_s");
            const double step1 = s1 / st1, step2 = s2 / st2, arps = ar / st2;
            o = bench_doc("allreduce");
            jset(o, "arch", jstr("100-256-4"));
            jset(o, "params", jint(100 * 256 + 256 + 256 * 4 + 4));
            jset(o, "batch", jint(64));
            jset(o, "steps", jint((long long)st2)); /* the command's integer count of optimizer steps */
            jset(o, "step_ms_1process", jnum(1e3 * step1));
            jset(o, "step_ms_2ranks", jnum(1e3 * step2));
            jset(o, "allreduce_ms_per_step", jnum(1e3 * arps));
            jset(o, "allreduce_fraction_of_step", jnum(arps / step2));
            jset(o, "train_speedup_2ranks", jnum(step1 / step2));
            bench_emit(o);
        }
    } else {
        o = bench_doc("allreduce");
        jset(o, "step_ms_1process", jnum(1e3 * s1 / st1));
        jset(o, "mpi", jstr("not available"));
        bench_emit(o);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd)) return 1;
    return 0;
}
