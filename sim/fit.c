/* sim/fit.c — the fit loop (trainer_fit) and the evaluation loop (trainer_evaluate) over
 * a sample iterator: the epochs, shuffles, minibatches and data-parallel shards that
 * `evsnn train` and `evsnn sweep` run. The step itself is trainer_step (sim/train.c). */
#include <stdlib.h>
#include <string.h>

#include "sim/comm.h"
#include "sim/evsnn.h"
#include "sim/train.h"

/* Samples order[lo .. lo+k) of d into in[0..k), labels[0..k). */
static int gather(const train_samples *d, const uint32_t *order, uint32_t lo, uint32_t k, sim_input *in, uint32_t *labels) {
    for (uint32_t j = 0; j < k; j++) {
        int rc = d->get(d->ctx, order ? order[lo + j] : lo + j, &in[j], &labels[j]);
        if (rc) return rc;
    }
    return 0;
}

int trainer_fit(trainer *tr, const train_samples *d, const train_fit_opts *o, train_fit_stop *stop) {
    const uint32_t B = o->batch, n = d->n, nb = (n + B - 1) / B;
    const uint32_t rank = o->nranks > 1 ? o->rank : 0, nranks = o->nranks > 1 ? o->nranks : 1;
    memset(stop, 0, sizeof *stop);
    stop->epoch = o->epoch0;
    uint32_t *perm = malloc((n ? n : 1) * sizeof *perm), *lab = malloc(B * sizeof *lab);
    sim_input *in = malloc(B * sizeof *in);
    int rc = perm && lab && in ? 0 : evsnn_seterr(EVSNN_ENOMEM, "training: no memory for a minibatch of %u", B);
    for (uint64_t ep = o->epoch0; ep < o->epochs && !rc; ep++) {
        const double t0 = evsnn_now_s();
        stop->epoch = ep;
        trainer_shuffle(tr, perm, n);
        train_stats st;
        memset(&st, 0, sizeof st);
        for (uint32_t bi = 0; bi < nb && !rc; bi++) {
            const uint32_t lo = bi * B, k = n - lo < B ? n - lo : B;
            stop->batch = bi;
            if ((rc = gather(d, perm, lo, k, in, lab))) break;
            train_stats bs;
            memset(&bs, 0, sizeof bs);
            const uint32_t s0 = (uint32_t)((uint64_t)k * rank / nranks), s1 = (uint32_t)((uint64_t)k * (rank + 1) / nranks);
            if ((rc = trainer_step(tr, in + s0, lab + s0, NULL, s1 - s0, &bs))) break;
            /* bs.loss is the mean over the whole (global) batch; bs.correct counts this
             * rank's shard only: sum it over the ranks, so the epoch figures are the batch's */
            uint64_t correct = bs.correct;
            if (nranks > 1 && (rc = comm_allreduce_sum_u64(&correct, 1))) {
                stop->reduce = 1;
                break;
            }
            st.loss += bs.loss * k;
            st.n += k;
            st.correct += (uint32_t)correct;
            st.lr = bs.lr;
            if (o->step) rc = o->step(o->ctx, ep, bi, nb, &bs, &st, evsnn_now_s() - t0);
        }
        if (rc) break;
        const double train_s = evsnn_now_s() - t0;
        stop->epochs_done = ep + 1 - o->epoch0;
        if (o->epoch) rc = o->epoch(o->ctx, ep, &st, train_s);
    }
    free(perm);
    free(lab);
    free(in);
    return rc;
}

int trainer_evaluate(trainer *tr, const train_samples *d, uint32_t B, train_stats *st, void (*each)(void *), void *ctx) {
    memset(st, 0, sizeof *st);
    uint32_t *lab = malloc(B * sizeof *lab);
    sim_input *in = malloc(B * sizeof *in);
    int rc = lab && in ? 0 : evsnn_seterr(EVSNN_ENOMEM, "evaluation: no memory for a minibatch of %u", B);
    for (uint32_t i = 0; i < d->n && !rc; i += B) {
        const uint32_t k = d->n - i < B ? d->n - i : B;
        if (!(rc = gather(d, NULL, i, k, in, lab))) rc = trainer_eval(tr, in, lab, NULL, k, st, NULL);
        if (!rc && each) each(ctx);
    }
    free(lab);
    free(in);
    return rc;
}
