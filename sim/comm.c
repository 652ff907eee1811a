/* sim/comm.c — comm.h in its two build variants: EVSNN_MPI=1 wraps OpenMPI's world
 * communicator, EVSNN_MPI=0 is the one-rank world without any dependency. */
#include "comm.h"

#include <string.h>

#include "evsnn.h"

#ifndef EVSNN_MPI
#define EVSNN_MPI 0
#endif

#if EVSNN_MPI
#include <limits.h>
#include <mpi.h>

static int started_here; /* comm_init called MPI_Init (so comm_finalize ends it) */
/* Process-wide instrumentation (comm_stats), like MPI's own profiling counters. */
static double ar_seconds;
static uint64_t ar_calls, ar_bytes;

void comm_stats(double *allreduce_s, uint64_t *calls, uint64_t *bytes) {
    if (allreduce_s) *allreduce_s = ar_seconds;
    if (calls) *calls = ar_calls;
    if (bytes) *bytes = ar_bytes;
}

static int mpi_err(int rc, const char *what) {
    char s[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, s, &len);
    return evsnn_seterr(EVSNN_EIO, "MPI %s: %.*s", what, len, s);
}

int comm_init(int *argc, char ***argv) {
    int on = 0;
    MPI_Initialized(&on);
    if (on) return 0;
    int rc = MPI_Init(argc, argv);
    if (rc != MPI_SUCCESS) return evsnn_seterr(EVSNN_EIO, "MPI_Init failed (code %d)", rc);
    /* Errors come back as codes, so that library callers can name them. */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    started_here = 1;
    return 0;
}

void comm_finalize(void) {
    int fin = 0;
    MPI_Finalized(&fin);
    if (started_here && !fin) MPI_Finalize();
    started_here = 0;
}

static int live(void) {
    int on = 0, fin = 0;
    MPI_Initialized(&on);
    MPI_Finalized(&fin);
    return on && !fin;
}

int comm_rank(void) {
    int r = 0;
    if (live()) MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}
int comm_size(void) {
    int s = 1;
    if (live()) MPI_Comm_size(MPI_COMM_WORLD, &s);
    return s;
}
int comm_is_mpi(void) { return 1; }

/* MPI counts are int: long arrays go in chunks. */
#define CHUNK ((size_t)1 << 30)

static int allreduce(void *x, size_t n, size_t esz, MPI_Datatype t) {
    if (!live() || comm_size() == 1) return 0;
    const double t0 = MPI_Wtime();
    for (size_t o = 0; o < n; o += CHUNK) {
        const size_t k = n - o < CHUNK ? n - o : CHUNK;
        int rc = MPI_Allreduce(MPI_IN_PLACE, (char *)x + o * esz, (int)k, t, MPI_SUM, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return mpi_err(rc, "all-reduce");
    }
    ar_seconds += MPI_Wtime() - t0;
    ar_calls++;
    ar_bytes += n * esz;
    return 0;
}
int comm_allreduce_sum_f32(float *x, size_t n) { return allreduce(x, n, sizeof *x, MPI_FLOAT); }
int comm_allreduce_sum_f64(double *x, size_t n) { return allreduce(x, n, sizeof *x, MPI_DOUBLE); }
int comm_allreduce_sum_u64(uint64_t *x, size_t n) { return allreduce(x, n, sizeof *x, MPI_UINT64_T); }

int comm_send(int dest, int tag, const void *buf, size_t len) {
    if (!live()) return evsnn_seterr(EVSNN_EINVAL, "comm_send: MPI is not running");
    if (len > INT_MAX) return evsnn_seterr(EVSNN_ERANGE, "message of %zu bytes: at most %d", len, INT_MAX);
    int rc = MPI_Send(buf, (int)len, MPI_BYTE, dest, tag, MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? 0 : mpi_err(rc, "send");
}

int comm_recv(int src, int tag, void *buf, size_t cap, int *from, int *tag_out, size_t *len) {
    if (!live()) return evsnn_seterr(EVSNN_EINVAL, "comm_recv: MPI is not running");
    MPI_Status st;
    int rc = MPI_Probe(src == COMM_ANY ? MPI_ANY_SOURCE : src, tag == COMM_ANY ? MPI_ANY_TAG : tag, MPI_COMM_WORLD, &st);
    if (rc != MPI_SUCCESS) return mpi_err(rc, "probe");
    int count = 0;
    MPI_Get_count(&st, MPI_BYTE, &count);
    if ((size_t)count > cap)
        return evsnn_seterr(EVSNN_ERANGE, "message of %d bytes from rank %d (tag %d): buffer holds %zu", count,
                            st.MPI_SOURCE, st.MPI_TAG, cap);
    rc = MPI_Recv(buf, count, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) return mpi_err(rc, "receive");
    if (from) *from = st.MPI_SOURCE;
    if (tag_out) *tag_out = st.MPI_TAG;
    if (len) *len = (size_t)count;
    return 0;
}

int comm_probe(int src, int tag, int *from, int *tag_out) {
    if (!live()) return 0;
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(src == COMM_ANY ? MPI_ANY_SOURCE : src, tag == COMM_ANY ? MPI_ANY_TAG : tag, MPI_COMM_WORLD, &flag, &st);
    if (flag) {
        if (from) *from = st.MPI_SOURCE;
        if (tag_out) *tag_out = st.MPI_TAG;
    }
    return flag;
}

#else /* serial: one rank */

int comm_init(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    return 0;
}
void comm_finalize(void) {}
void comm_stats(double *allreduce_s, uint64_t *calls, uint64_t *bytes) {
    if (allreduce_s) *allreduce_s = 0;
    if (calls) *calls = 0;
    if (bytes) *bytes = 0;
}
int comm_rank(void) { return 0; }
int comm_size(void) { return 1; }
int comm_is_mpi(void) { return 0; }
int comm_allreduce_sum_f32(float *x, size_t n) {
    (void)x;
    (void)n;
    return 0;
}
int comm_allreduce_sum_f64(double *x, size_t n) {
    (void)x;
    (void)n;
    return 0;
}
int comm_allreduce_sum_u64(uint64_t *x, size_t n) {
    (void)x;
    (void)n;
    return 0;
}
int comm_send(int dest, int tag, const void *buf, size_t len) {
    (void)tag;
    (void)buf;
    (void)len;
    return evsnn_seterr(EVSNN_EINVAL, "send to rank %d: the serial build has one rank and nobody to talk to", dest);
}
int comm_recv(int src, int tag, void *buf, size_t cap, int *from, int *tag_out, size_t *len) {
    (void)tag;
    (void)buf;
    (void)cap;
    (void)from;
    (void)tag_out;
    (void)len;
    return evsnn_seterr(EVSNN_EINVAL, "receive from rank %d: the serial build has one rank and nobody to talk to", src);
}
int comm_probe(int src, int tag, int *from, int *tag_out) {
    (void)src;
    (void)tag;
    (void)from;
    (void)tag_out;
    return 0;
}
#endif
