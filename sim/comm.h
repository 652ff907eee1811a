/* sim/comm.h — the only door to MPI (DESIGN §6): process ranks, small point-to-point
 * messages, and sums over all ranks.
 *
 * The build chooses the variant: `make` compiles the serial one (one rank, every call a
 * no-op or a copy, no dependency), `make MPI=1` the OpenMPI one (mpicc, build/mpi). Callers
 * never test which one they got; they ask comm_size(). There is one group, all processes
 * the launcher started (MPI_COMM_WORLD); its state is MPI's own, nothing is kept here.
 *
 * Two users: `evsnn sweep` hands trials out from rank 0 with comm_send/comm_recv, and
 * data-parallel training (train_cfg.data_parallel) sums each step's gradients with
 * comm_allreduce_sum_f32 after backward and before the optimizer step.
 * Errors: negative EVSNN_E* with a message (MPI's own error text). */
#ifndef EVSNN_COMM_H
#define EVSNN_COMM_H

#include <stddef.h>
#include <stdint.h>

#define COMM_ANY (-1) /* any source / any tag in comm_recv and comm_probe */

/* Start the runtime if the build has one and it is not running yet (argc/argv may be
 * NULL). Safe to call more than once. 0 or EVSNN_EIO. */
int comm_init(int *argc, char ***argv);
/* Stop it (only if comm_init started it). */
void comm_finalize(void);
int comm_rank(void); /* 0 in the serial build */
int comm_size(void); /* 1 in the serial build */
int comm_is_mpi(void); /* 1 in the MPI build */

/* x[n] ← Σ over ranks of x[n] (in place). The sum order is MPI's; with 2 ranks it is
 * a + b, which equals b + a bit for bit. Serial: nothing to do. */
int comm_allreduce_sum_f32(float *x, size_t n);
int comm_allreduce_sum_f64(double *x, size_t n);
int comm_allreduce_sum_u64(uint64_t *x, size_t n);

/* Byte messages, blocking. tag ≥ 0. Serial: sending to oneself is an error (EVSNN_EINVAL):
 * with one rank there is nobody to talk to. */
int comm_send(int dest, int tag, const void *buf, size_t len);
/* Receive into buf[cap]; src/tag may be COMM_ANY; *from, *tag_out, *len (may be NULL)
 * say what arrived. A message longer than cap is EVSNN_ERANGE. */
int comm_recv(int src, int tag, void *buf, size_t cap, int *from, int *tag_out, size_t *len);
/* 1 if a message from src with tag is waiting (non-blocking), else 0; *from and *tag_out set. */
int comm_probe(int src, int tag, int *from, int *tag_out);

/* Time spent inside the all-reduce calls of this process since it started (seconds, calls,
 * payload bytes): instrumentation for benchmarks, kept by the MPI variant only (zeros
 * serially). It includes waiting for the slowest rank, which is part of the cost. */
void comm_stats(double *allreduce_s, uint64_t *calls, uint64_t *bytes);

#endif
