/* sim/train.c — minibatch training (see train.h for the order of operations). */
#include "train.h"

#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backward.h"
#include "comm.h"
#include "evsnn.h"
#include "kernels/bn.h"
#include "kernels/loss.h"

/* What one sample keeps while its batch runs layer by layer: the forward's result (trains,
 * membranes) and the gradient with respect to the current layer's output and input. */
typedef struct {
    sim_result res;
    uint32_t T;           /* T the result was initialised for (0: none) */
    float *ga, *gb;       /* [T_max, maxn] dL/d(output of the layer being done), dL/d(its input) */
    float *xh[TRAIN_MAX_LAYERS]; /* BN layers: [T_max, n_out] the currents, then normalised (x̂) */
    float *gc;            /* BN nets: [T_max, maxn] the current gradient of a BN layer */
} sample_buf;

typedef struct {
    sim *s;
    bwd *b;
    sample_buf *sb;       /* [n_sb] one per sample of the slot, grown on demand */
    uint32_t n_sb;
    float *dense;         /* [T_max, n_out] output spikes (ce_rate) */
    float *count;         /* [n_out] */
    float *y;             /* BN nets: [T_max, maxn] a BN layer's output (the neurons' input) */
    double *bs1, *bs2;    /* BN nets: [T_max, max out_c] this slot's sums over its samples */
    float *grads;         /* into trainer->grads: [n_params] */
    double loss;
    uint32_t correct;
    uint64_t spikes[TRAIN_MAX_LAYERS], silent[TRAIN_MAX_LAYERS], neurons[TRAIN_MAX_LAYERS];
    uint64_t hist[TRAIN_MAX_LAYERS][TRAIN_HIST_BINS];
    uint32_t *cnt;        /* [max n_out] per-neuron spike counts of one sample */
    int rc;
    char msg[512];
} slot;

struct trainer {
    net *n;
    train_cfg c;
    optim *opt;
    float *lat;           /* latent parameters: own copy when binarized, else n->params */
    float *grads;         /* [slots, n_params] one allocation */
    slot *sl;
    uint32_t n_slots, T_max, n_out, maxn;
    sim_input *si;        /* [n_si] the batch's inputs with their dropout seeds */
    uint32_t n_si;
    int has_bn;
    uint32_t bn_maxc;     /* largest out_c of a BN layer */
    float *bn_mu;         /* [T_max, bn_maxc] means of the BN layer being done, per step */
    float *bn_rs[TRAIN_MAX_LAYERS]; /* BN layers: [T_max, out_c] 1/√(σ² + eps) per step (the backward's) */
    double *bn_t1, *bn_t2;/* [T_max, bn_maxc] the batch's sums */
    float theta0[TRAIN_MAX_LAYERS], theta_inf[TRAIN_MAX_LAYERS], alpha[TRAIN_MAX_LAYERS];
    float theta_c[TRAIN_MAX_LAYERS];
    float drop[TRAIN_MAX_LAYERS]; /* dropout per net layer (0 for pooling layers) */
    int has_drop;
    rng *r;
};

void train_cfg_set_tha(train_cfg *c, const train_tha *t) {
    c->n_tha = t->n;
    for (uint32_t l = 0; l < t->n; l++) {
        c->tha_theta0[l] = t->theta0[l];
        c->tha_theta_inf[l] = t->theta_inf[l];
        c->tha_alpha[l] = t->alpha[l];
    }
}

train_cfg train_defaults(void) {
    train_cfg c;
    memset(&c, 0, sizeof c);
    c.sg = sg_default(SG_FAST_SIGMOID);
    c.loss = LOSS_MSE_COUNT;
    c.correct_rate = 0.8;
    c.incorrect_rate = 0.2;
    c.opt = optim_defaults(OPT_ADAM);
    c.centre = THA_CENTRE_INITIAL;
    c.slots = 2;
    c.seed = 1;
    return c;
}

static const char *const loss_names[] = {"mse_count", "ce_count", "ce_rate", "mem_mse"};
const char *train_loss_name(loss_kind k) { return (unsigned)k < 4 ? loss_names[k] : "?"; }
int train_loss_parse(const char *s, loss_kind *k) {
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, loss_names[i])) { *k = (loss_kind)i; return 0; }
    return evsnn_seterr(EVSNN_EINVAL, "loss '%s': expected mse_count, ce_count, ce_rate or mem_mse", s);
}

/* Forward weights from the latent ones: sign with 0 → +1; biases and BN parameters copied. */
static void binarize_into(net *n, const float *lat) {
    for (uint32_t l = 0; l < n->n_layers; l++) {
        const net_layer *L = &n->layers[l];
        if (L->kind == NET_POOL) continue;
        for (size_t i = 0; i < L->n_w; i++) n->params[L->w_off + i] = lat[L->w_off + i] >= 0.0f ? 1.0f : -1.0f;
        if (L->b) memcpy(n->params + L->b_off, lat + L->b_off, L->n_b * sizeof(float));
        if (L->bn) { /* BN's scale and shift stay float */
            memcpy(n->params + L->bng_off, lat + L->bng_off, L->out_c * sizeof(float));
            memcpy(n->params + L->bnb_off, lat + L->bnb_off, L->out_c * sizeof(float));
        }
    }
}

static void update_centres(trainer *tr) {
    for (uint32_t l = 0, k = 0; l < tr->n->n_layers; l++) {
        const net_layer *L = &tr->n->layers[l];
        if (L->kind == NET_POOL) { tr->theta_c[l] = 0.0f; continue; }
        tr->theta_c[l] = tr->c.n_tha && tr->c.centre == THA_CENTRE_INITIAL ? tr->theta0[k] : L->nc.theta;
        k++;
    }
}

/* The engine's workspace caches per-layer constants derived from the biases and θ (bias
 * gains, first bias-driven crossings) and both workspaces hold the conv kernels packed for
 * the fast kernels, so after parameters or thresholds change these are recomputed in place
 * (O(n_out + out_c·T + kernel size) per layer). */
static int refresh_sims(trainer *tr) {
    for (uint32_t i = 0; tr->sl && i < tr->n_slots; i++) {
        if (tr->sl[i].s) sim_refresh(tr->sl[i].s);
        if (tr->sl[i].b) bwd_refresh(tr->sl[i].b);
    }
    return 0;
}

int trainer_sync(trainer *tr) {
    if (tr->c.binarize) binarize_into(tr->n, tr->lat);
    update_centres(tr);
    return refresh_sims(tr);
}

static void slot_deinit(slot *s) {
    sim_free(s->s);
    bwd_free(s->b);
    for (uint32_t k = 0; k < s->n_sb; k++) {
        sim_result_deinit(&s->sb[k].res);
        free(s->sb[k].ga);
        free(s->sb[k].gb);
        free(s->sb[k].gc);
        for (int l = 0; l < TRAIN_MAX_LAYERS; l++) free(s->sb[k].xh[l]);
    }
    free(s->y);
    free(s->bs1);
    free(s->bs2);
    free(s->sb);
    free(s->dense);
    free(s->count);
    free(s->cnt);
}

void trainer_free(trainer *tr) {
    if (!tr) return;
    if (tr->sl)
        for (uint32_t i = 0; i < tr->n_slots; i++) slot_deinit(&tr->sl[i]);
    free(tr->sl);
    free(tr->si);
    free(tr->bn_mu);
    for (int l = 0; l < TRAIN_MAX_LAYERS; l++) free(tr->bn_rs[l]);
    free(tr->bn_t1);
    free(tr->bn_t2);
    free(tr->grads);
    if (tr->c.binarize) free(tr->lat);
    optim_free(tr->opt);
    rng_free(tr->r);
    free(tr);
}

trainer *trainer_create(net *n, const train_cfg *c, uint32_t T_max, int *err) {
    const uint32_t ns = net_n_spiking(n);
    if (n->n_layers > TRAIN_MAX_LAYERS) {
        *err = evsnn_seterr(EVSNN_EINVAL, "training: %u layers, at most %d supported", n->n_layers, TRAIN_MAX_LAYERS);
        return NULL;
    }
    if (T_max == 0) {
        *err = evsnn_seterr(EVSNN_EINVAL, "training: T must be at least 1");
        return NULL;
    }
    if (n->layers[n->n_layers - 1].kind == NET_POOL) {
        *err = evsnn_seterr(EVSNN_EINVAL, "training: the last layer must have neurons, not pool spikes");
        return NULL;
    }
    if (c->loss == LOSS_MSE_COUNT && !(c->correct_rate >= 0 && c->correct_rate <= 1 && c->incorrect_rate >= 0 &&
                                       c->incorrect_rate <= 1)) {
        *err = evsnn_seterr(EVSNN_EINVAL, "mse_count: correct/incorrect rates must lie in [0, 1]");
        return NULL;
    }
    if (c->n_tha > TRAIN_MAX_LAYERS) {
        *err = evsnn_seterr(EVSNN_EINVAL, "threshold annealing: %u layers given, at most %d", c->n_tha, TRAIN_MAX_LAYERS);
        return NULL;
    }
    if (c->n_tha && c->n_tha > ns) {
        *err = evsnn_seterr(EVSNN_ESHAPE, "threshold annealing: %u values for %u spiking layers", c->n_tha, ns);
        return NULL;
    }
    for (uint32_t i = 0; i < c->n_tha; i++)
        if (!(c->tha_theta0[i] > 0 && c->tha_theta_inf[i] > 0 && isfinite(c->tha_theta0[i]) &&
              isfinite(c->tha_theta_inf[i]) && c->tha_alpha[i] >= 0 && c->tha_alpha[i] <= 1)) {
            *err = evsnn_seterr(EVSNN_EINVAL, "threshold annealing, spiking layer %u: θ0, θ∞ > 0 and α in [0, 1] expected",
                                i);
            return NULL;
        }
    if (!(c->bn_momentum >= 0.0f && c->bn_momentum <= 1.0f)) {
        *err = evsnn_seterr(EVSNN_EINVAL, "batch normalisation: momentum %g, expected one in (0, 1] (or 0: the network's own)", (double)c->bn_momentum);
        return NULL;
    }
    for (uint32_t l = 0; l < n->n_layers; l++)
        if (n->layers[l].bn && c->bn_momentum > 0.0f) n->layers[l].bn_momentum = c->bn_momentum;
    for (uint32_t l = 0; l < n->n_layers; l++)
        if (n->layers[l].bn && c->sparse_record && c->loss != LOSS_MEM_MSE) {
            *err = evsnn_seterr(EVSNN_EINVAL, "training: layer %s is batch-normalised; sparse recording (rebuilt "
                                "membranes) does not cover BN layers: record dense", n->layers[l].name);
            return NULL;
        }
    trainer *tr = calloc(1, sizeof *tr);
    if (!tr) goto oom;
    tr->n = n;
    tr->c = *c;
    tr->n_slots = c->slots ? c->slots : 2;
    tr->T_max = T_max;
    tr->n_out = net_n_out(n);
    tr->maxn = n->n_in;
    for (uint32_t l = 0; l < n->n_layers; l++) {
        const net_layer *L = &n->layers[l];
        if (L->n_out > tr->maxn) tr->maxn = L->n_out;
        if (L->n_in > tr->maxn) tr->maxn = L->n_in;
        if (L->bn) {
            tr->has_bn = 1;
            if (L->out_c > tr->bn_maxc) tr->bn_maxc = L->out_c;
        }
    }
    if (tr->has_bn) {
        const size_t tc = (size_t)T_max * tr->bn_maxc;
        tr->bn_mu = malloc(tc * sizeof *tr->bn_mu);
        tr->bn_t1 = malloc(tc * sizeof *tr->bn_t1);
        tr->bn_t2 = malloc(tc * sizeof *tr->bn_t2);
        if (!tr->bn_mu || !tr->bn_t1 || !tr->bn_t2) goto oom;
        for (uint32_t l = 0; l < n->n_layers; l++)
            if (n->layers[l].bn && !(tr->bn_rs[l] = malloc((size_t)T_max * n->layers[l].out_c * sizeof(float)))) goto oom;
    }
    if (!(tr->opt = optim_create(&c->opt, n->n_params, err))) { trainer_free(tr); return NULL; }
    tr->opt->threads = c->threads; /* 0 for both: OpenMP's default */
    if (!(tr->r = rng_create(c->seed))) goto oom;
    if (c->binarize) {
        if (!(tr->lat = malloc(n->n_params * sizeof *tr->lat))) goto oom;
        memcpy(tr->lat, n->params, n->n_params * sizeof *tr->lat);
    } else {
        tr->lat = n->params;
    }
    if (!(tr->grads = calloc((size_t)tr->n_slots * n->n_params, sizeof *tr->grads))) goto oom;
    if (!(tr->sl = calloc(tr->n_slots, sizeof *tr->sl))) goto oom;
    for (uint32_t i = 0; i < tr->n_slots; i++) {
        slot *s = &tr->sl[i];
        s->grads = tr->grads + (size_t)i * n->n_params;
        if (!(s->s = sim_create(n, T_max, err)) || !(s->b = bwd_create(n, T_max, err))) { trainer_free(tr); return NULL; }
        s->dense = malloc((size_t)T_max * tr->n_out * sizeof(float));
        s->count = malloc(tr->n_out * sizeof(float));
        uint32_t maxn = 1;
        for (uint32_t l = 0; l < n->n_layers; l++) maxn = n->layers[l].n_out > maxn ? n->layers[l].n_out : maxn;
        s->cnt = malloc(maxn * sizeof *s->cnt);
        if (!s->dense || !s->count || !s->cnt) goto oom;
        if (tr->has_bn) {
            s->y = malloc((size_t)T_max * tr->maxn * sizeof *s->y);
            s->bs1 = malloc((size_t)T_max * tr->bn_maxc * sizeof *s->bs1);
            s->bs2 = malloc((size_t)T_max * tr->bn_maxc * sizeof *s->bs2);
            if (!s->y || !s->bs1 || !s->bs2) goto oom;
        }
    }
    /* Dropout per net layer from the per-spiking-layer list. */
    for (uint32_t l = 0, k = 0; l < n->n_layers && l < TRAIN_MAX_LAYERS; l++) {
        if (n->layers[l].kind == NET_POOL) { tr->drop[l] = 0.0f; continue; }
        tr->drop[l] = c->n_dropout ? c->dropout[k < c->n_dropout ? k : c->n_dropout - 1] : 0.0f;
        tr->has_drop |= tr->drop[l] > 0.0f;
        k++;
    }
    for (uint32_t i = 0; tr->has_drop && i < tr->n_slots; i++)
        if ((*err = sim_set_dropout(tr->sl[i].s, tr->drop))) { trainer_free(tr); return NULL; }
    /* Per spiking layer: θ0, θ∞, α (shorter lists repeat their last entry); θ starts at θ0. */
    for (uint32_t l = 0, k = 0; l < n->n_layers; l++) {
        net_layer *L = &n->layers[l];
        if (L->kind == NET_POOL) continue;
        if (c->n_tha) {
            const uint32_t j = k < c->n_tha ? k : c->n_tha - 1;
            tr->theta0[k] = c->tha_theta0[j];
            tr->theta_inf[k] = c->tha_theta_inf[j];
            tr->alpha[k] = c->tha_alpha[j];
            L->nc.theta = tr->theta0[k];
        } else {
            tr->theta0[k] = tr->theta_inf[k] = L->nc.theta;
        }
        k++;
    }
    if ((*err = trainer_sync(tr))) { trainer_free(tr); return NULL; }
    return tr;
oom:
    trainer_free(tr);
    *err = evsnn_seterr(EVSNN_ENOMEM, "training: no memory");
    return NULL;
}

/* Data-dependent initialisation (see train.h): layer by layer, the batch runs forward with the
 * parameters set so far, each sample's input to the layer is averaged over time, the layer's
 * currents without bias are computed densely from that average, and every channel's bias is
 * set to target·θ − (mean current of the channel over samples and positions). */
int trainer_data_init(trainer *tr, const sim_input *in, uint32_t B, float target, train_init_report *rep) {
    net *n = tr->n;
    if (B == 0) return evsnn_seterr(EVSNN_EINVAL, "data-dependent initialisation: no samples");
    for (uint32_t l = 0; l < n->n_layers; l++)
        if (n->layers[l].bn)
            return evsnn_seterr(EVSNN_EINVAL, "data-dependent initialisation: layer %s is batch-normalised, which "
                                "centres its currents already (drop --data-init)", n->layers[l].name);
    if (!isfinite(target)) return evsnn_seterr(EVSNN_EINVAL, "data-dependent initialisation: the target is not finite");
    uint32_t maxn = n->n_in, maxfull = 1;
    for (uint32_t l = 0; l < n->n_layers; l++) {
        const net_layer *L = &n->layers[l];
        if (L->kind == NET_POOL) continue;
        if (!L->b)
            return evsnn_seterr(EVSNN_EINVAL, "data-dependent initialisation: layer %s has no bias (drop --no-bias)",
                                L->name);
        maxn = L->n_out > maxn ? L->n_out : maxn;
        maxn = L->n_in > maxn ? L->n_in : maxn;
        if (L->kind == NET_CONV && L->out_c * L->conv_h * L->conv_w > maxfull) maxfull = L->out_c * L->conv_h * L->conv_w;
    }
    for (uint32_t b = 0; b < B; b++)
        if (in[b].T == 0 || in[b].T > tr->T_max)
            return evsnn_seterr(EVSNN_EINVAL, "data-dependent initialisation: sample %u has T = %u (1..%u expected)", b,
                                in[b].T, tr->T_max);
    int rc = 0;
    float *xbar = malloc(maxn * sizeof *xbar), *cur = malloc(maxn * sizeof *cur), *full = malloc(maxfull * sizeof *full);
    double *sum = malloc(maxn * sizeof *sum), *sq = malloc(maxn * sizeof *sq);
    sim_result res;
    memset(&res, 0, sizeof res);
    uint32_t res_T = 0;
    sim *s = tr->sl[0].s;
    if (!xbar || !cur || !full || !sum || !sq) { rc = evsnn_seterr(EVSNN_ENOMEM, "data-dependent initialisation: no memory"); goto out; }
    if (rep) memset(rep, 0, sizeof *rep);
    for (uint32_t l = 0; l < n->n_layers; l++) {
        const net_layer *L = &n->layers[l];
        if (L->kind == NET_POOL) continue;
        net_layer nb = *L;
        nb.b = NULL; /* currents without bias */
        const uint32_t C = L->out_c, per = L->out_h * L->out_w;
        memset(sum, 0, C * sizeof *sum);
        memset(sq, 0, C * sizeof *sq);
        for (uint32_t b = 0; b < B; b++) {
            const uint32_t T = in[b].T;
            const spk_train *x = in[b].train;
            if (l > 0) {
                if (res_T != T) {
                    sim_result_deinit(&res);
                    res_T = 0;
                    if ((rc = sim_result_init(&res, n, T, 0))) goto out;
                    res_T = T;
                }
                sim_input si = in[b];
                si.dropout_seed = 0;
                if ((rc = sim_run(s, &si, &res))) goto out;
                x = &res.out[l - 1];
            }
            if (!x) {
                memcpy(xbar, in[b].static_x, L->n_in * sizeof *xbar);
            } else {
                memset(xbar, 0, L->n_in * sizeof *xbar);
                for (uint32_t k = 0; k < x->nnz; k++) xbar[x->idx[k]] += spk_val(x, k);
                for (uint32_t i = 0; i < L->n_in; i++) xbar[i] /= (float)T;
            }
            sim_layer_currents(&nb, xbar, cur, full);
            for (uint32_t i = 0; i < L->n_out; i++) {
                sum[i / per] += cur[i];
                sq[i / per] += (double)cur[i] * cur[i];
            }
        }
        /* Pooling of currents: average and max pass a bias through unchanged, a sum of p×p
         * windows multiplies it by p². */
        const float gain = L->pool == POOL_SUM ? (float)(L->pool_k * L->pool_k) : 1.0f;
        const double cnt = (double)B * per;
        double msum = 0.0, ssum = 0.0;
        for (uint32_t c = 0; c < C; c++) {
            const double mu = sum[c] / cnt, var = sq[c] / cnt - mu * mu;
            tr->lat[L->b_off + c] = (float)((target * L->nc.theta - mu) / gain);
            msum += mu;
            ssum += sqrt(var > 0.0 ? var : 0.0);
        }
        if (rep) {
            rep->layer[l] = 1;
            rep->mean[l] = (float)(msum / C);
            rep->std[l] = (float)(ssum / C);
            rep->theta[l] = L->nc.theta;
        }
        if ((rc = trainer_sync(tr))) goto out;
    }
out:
    sim_result_deinit(&res);
    free(xbar); free(cur); free(full); free(sum); free(sq);
    return rc;
}

float *trainer_latent(trainer *tr) { return tr->lat; }
optim *trainer_optim(trainer *tr) { return tr->opt; }
rng *trainer_rng(trainer *tr) { return tr->r; }
const float *trainer_grads(const trainer *tr) { return tr->grads; }
const float *trainer_theta_c(const trainer *tr) { return tr->theta_c; }

void trainer_shuffle(trainer *tr, uint32_t *perm, uint32_t len) {
    for (uint32_t i = 0; i < len; i++) perm[i] = i;
    rng_shuffle(tr->r, perm, len);
}

/* The per-sample buffers of a slot's k samples, results initialised for their T. */
static int slot_reserve(trainer *tr, slot *s, const sim_input *in, uint32_t k, int flags) {
    if (k > s->n_sb) {
        sample_buf *nb = realloc(s->sb, k * sizeof *nb);
        if (!nb) return evsnn_seterr(EVSNN_ENOMEM, "training: no memory for %u samples", k);
        s->sb = nb;
        for (uint32_t i = s->n_sb; i < k; i++) {
            memset(&s->sb[i], 0, sizeof s->sb[i]);
            s->sb[i].ga = malloc((size_t)tr->T_max * tr->maxn * sizeof(float));
            s->sb[i].gb = malloc((size_t)tr->T_max * tr->maxn * sizeof(float));
            s->n_sb = i + 1;
            if (!s->sb[i].ga || !s->sb[i].gb) return evsnn_seterr(EVSNN_ENOMEM, "training: no memory for %u samples", k);
            for (uint32_t l = 0; tr->has_bn && l < tr->n->n_layers; l++)
                if (tr->n->layers[l].bn &&
                    !(s->sb[i].xh[l] = malloc((size_t)tr->T_max * tr->n->layers[l].n_out * sizeof(float))))
                    return evsnn_seterr(EVSNN_ENOMEM, "training: no memory for %u samples", k);
            if (tr->has_bn && !(s->sb[i].gc = malloc((size_t)tr->T_max * tr->maxn * sizeof(float))))
                return evsnn_seterr(EVSNN_ENOMEM, "training: no memory for %u samples", k);
        }
    }
    for (uint32_t i = 0; i < k; i++) {
        sample_buf *sb = &s->sb[i];
        if (sb->T == in[i].T && sb->res.flags == flags) continue;
        sim_result_deinit(&sb->res);
        sb->T = 0;
        int rc = sim_result_init(&sb->res, tr->n, in[i].T, flags);
        if (rc) return rc;
        sb->T = in[i].T;
    }
    return 0;
}

/* After the forward of one sample: its loss, the loss gradient into sb->ga (dL/ds of the
 * output layer, or dL/du for mem_mse), accuracy and firing statistics. */
static void sample_loss(trainer *tr, slot *s, sample_buf *sb, const sim_input *in, uint32_t label,
                        const float *mem_target, float scale, uint32_t *pred) {
    const net *n = tr->n;
    const uint32_t C = tr->n_out, T = in->T, ol = n->n_layers - 1;
    const spk_train *out = &sb->res.out[ol];
    memset(s->count, 0, C * sizeof *s->count);
    for (uint32_t k = 0; k < out->nnz; k++) s->count[out->idx[k]] += spk_val(out, k);
    float L = 0.0f;
    switch (tr->c.loss) {
    case LOSS_MSE_COUNT:
    case LOSS_CE_COUNT: {
        float *gc = s->dense; /* [C] scratch */
        L = tr->c.loss == LOSS_MSE_COUNT
                ? loss_mse_count(gc, s->count, C, label, T, tr->c.correct_rate, tr->c.incorrect_rate, scale)
                : loss_ce_count(gc, s->count, C, label, scale);
        for (uint32_t t = 0; t < T; t++) memcpy(sb->ga + (size_t)t * C, gc, C * sizeof *gc);
        break;
    }
    case LOSS_CE_RATE:
        spk_to_dense(s->dense, out);
        L = loss_ce_rate(sb->ga, s->dense, T, C, label, scale);
        break;
    case LOSS_MEM_MSE:
        L = loss_mem_mse(sb->ga, sb->res.mem[ol], mem_target, T, C, scale);
        break;
    }
    s->loss += L;
    if (tr->c.loss != LOSS_MEM_MSE) {
        const uint32_t p = loss_argmax(s->count, C);
        if (pred) *pred = p;
        s->correct += p == label;
    } else if (pred) {
        *pred = 0;
    }
    for (uint32_t l = 0; l < n->n_layers; l++) {
        s->spikes[l] += sb->res.st[l].spikes;
        s->silent[l] += sb->res.st[l].silent;
        s->neurons[l] += sb->res.st[l].n;
        const spk_train *o = &sb->res.out[l];
        memset(s->cnt, 0, o->n * sizeof *s->cnt);
        for (uint32_t k = 0; k < o->nnz; k++) s->cnt[o->idx[k]]++;
        for (uint32_t j = 0; j < o->n; j++) {
            uint32_t c = s->cnt[j], bin = 0;
            while (c && bin < TRAIN_HIST_BINS - 1) { bin++; c >>= 1; }
            s->hist[l][bin]++;
        }
    }
}

/* The samples of slot i: [i·B/S, (i+1)·B/S). */
static uint32_t slot_lo(uint32_t B, uint32_t S, uint32_t i) { return (uint32_t)((uint64_t)B * i / S); }

/* Batch normalisation of layer l, forward: every sample's currents (into its xh[l]), then the
 * batch's statistics per step and channel (training: two passes in double, mean then
 * squared deviations, summed per slot in sample order, the slots in order, and over the
 * ranks when data-parallel; evaluation: the running ones), then each sample's normalised
 * currents drive its neurons. Training also moves the running statistics, once per step in
 * step order, as PyTorch's BatchNorm2d called at every step does. Bg: the global batch. */
static int bn_forward_layer(trainer *tr, uint32_t l, uint32_t B, uint64_t Bg, int train, int threads) {
    (void)threads; /* only the OpenMP pragmas read it */
    net *n = tr->n;
    net_layer *L = &n->layers[l];
    const uint32_t S = tr->n_slots, C = L->out_c, P = L->out_h * L->out_w, no = L->n_out;
    const uint32_t T = tr->si[0].T;
    for (uint32_t b = 1; b < B; b++)
        if (tr->si[b].T != T)
            return evsnn_seterr(EVSNN_EINVAL, "batch normalisation: sample %u has T = %u, sample 0 has %u (one T per batch)", b,
                                tr->si[b].T, T);
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (uint32_t i = 0; i < S; i++) {
        slot *s = &tr->sl[i];
        const uint32_t lo = slot_lo(B, S, i), hi = slot_lo(B, S, i + 1);
        for (uint32_t b = lo; b < hi && !s->rc; b++) {
            s->rc = sim_layer_currents_all(s->s, &tr->si[b], &s->sb[b - lo].res, l, s->sb[b - lo].xh[l]);
            if (s->rc) snprintf(s->msg, sizeof s->msg, "sample %u of the batch: %s", b, evsnn_errmsg());
        }
    }
    for (uint32_t i = 0; i < S; i++)
        if (tr->sl[i].rc) return evsnn_seterr(tr->sl[i].rc, "%s", tr->sl[i].msg);
    float *mu = tr->bn_mu, *r = tr->bn_rs[l];
    /* Static (direct) input to the first layer: the currents, hence the statistics, are those
     * of step 0 at every step; sum one step and repeat it (the running statistics still move
     * once per step). Data-parallel ranks may differ in this, so it is a local shortcut. */
    int same = l == 0 && !tr->c.data_parallel;
    for (uint32_t b = 0; same && b < B; b++) same = tr->si[b].train == NULL;
    const uint32_t Ts = same ? 1 : T; /* steps whose statistics are summed */
    if (train) {
        const double N = (double)Bg * P;
        if (N < 2)
            return evsnn_seterr(EVSNN_EINVAL, "batch normalisation of layer %s: one value per channel (batch %llu x %u "
                                "positions); training needs more", L->name, (unsigned long long)Bg, P);
        double *t1 = tr->bn_t1, *t2 = tr->bn_t2;
        for (int pass = 0; pass < 2; pass++) {
            double *tot = pass ? t2 : t1;
#pragma omp parallel for num_threads(threads) schedule(static, 1)
            for (uint32_t i = 0; i < S; i++) {
                slot *s = &tr->sl[i];
                const uint32_t lo = slot_lo(B, S, i), hi = slot_lo(B, S, i + 1);
                double *acc = pass ? s->bs2 : s->bs1;
                memset(acc, 0, (size_t)Ts * C * sizeof *acc);
                for (uint32_t b = lo; b < hi; b++)
                    for (uint32_t t = 0; t < Ts; t++)
                        bn_sum(acc + (size_t)t * C, s->sb[b - lo].xh[l] + (size_t)t * no, pass ? t1 + (size_t)t * C : NULL,
                               C, P, pass);
            }
            memset(tot, 0, (size_t)Ts * C * sizeof *tot);
            for (uint32_t i = 0; i < S; i++) {
                const double *acc = pass ? tr->sl[i].bs2 : tr->sl[i].bs1;
                for (size_t k = 0; k < (size_t)Ts * C; k++) tot[k] += acc[k];
            }
            if (tr->c.data_parallel && comm_allreduce_sum_f64(tot, (size_t)Ts * C)) return EVSNN_EIO;
            if (!pass)
                for (size_t k = 0; k < (size_t)Ts * C; k++) t1[k] /= N; /* the means, the second pass's shift */
        }
        const float m = L->bn_momentum;
        for (uint32_t t = 0; t < T; t++)
            for (uint32_t c = 0; c < C; c++) {
                const size_t k = (size_t)(same ? 0 : t) * C + c;
                const double var = t2[k] / N;
                mu[(size_t)t * C + c] = (float)t1[k];
                r[(size_t)t * C + c] = (float)(1.0 / sqrt(var + NET_BN_EPS));
                L->bn_mean[c] = (1.0f - m) * L->bn_mean[c] + m * (float)t1[k];
                L->bn_var[c] = (1.0f - m) * L->bn_var[c] + m * (float)(var * N / (N - 1));
            }
    } else {
        for (uint32_t c = 0; c < C; c++) {
            mu[c] = L->bn_mean[c];
            r[c] = (float)(1.0 / sqrt((double)L->bn_var[c] + NET_BN_EPS));
        }
    }
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (uint32_t i = 0; i < S; i++) {
        slot *s = &tr->sl[i];
        const uint32_t lo = slot_lo(B, S, i), hi = slot_lo(B, S, i + 1);
        for (uint32_t b = lo; b < hi && !s->rc; b++) {
            float *x = s->sb[b - lo].xh[l];
            for (uint32_t t = 0; t < T; t++) {
                float *xt = x + (size_t)t * no, *yt = s->y + (size_t)t * no;
                if (same && t > 0) { /* the same normalised currents as step 0 */
                    memcpy(xt, x, no * sizeof *xt);
                    memcpy(yt, s->y, no * sizeof *yt);
                } else if (train) {
                    bn_forward(yt, xt, xt, mu + (size_t)t * C, r + (size_t)t * C, L->bn_g, L->bn_b, C, P);
                } else {
                    bn_eval(yt, xt, mu, r, L->bn_g, L->bn_b, C, P);
                }
            }
            s->rc = sim_run_layer_given(s->s, &tr->si[b], s->y, &s->sb[b - lo].res, l);
            if (s->rc) snprintf(s->msg, sizeof s->msg, "sample %u of the batch: %s", b, evsnn_errmsg());
        }
    }
    for (uint32_t i = 0; i < S; i++)
        if (tr->sl[i].rc) return evsnn_seterr(tr->sl[i].rc, "%s", tr->sl[i].msg);
    return 0;
}

/* Batch normalisation of layer l, backward: every sample's dL/dy (the neurons' input) into
 * its gc; the batch's Σdy and Σdy·x̂ per step and channel (this rank's give ∂L/∂β and ∂L/∂γ,
 * added to slot 0's gradient; the ranks' together the means); then each sample's dL/dx and
 * the layer's weight, bias and input gradients from it. */
static int bn_backward_layer(trainer *tr, uint32_t l, uint32_t B, uint64_t Bg, const bwd_cfg *bc, int mem_loss,
                             int threads) {
    (void)threads; /* only the OpenMP pragmas read it */
    net *n = tr->n;
    const net_layer *L = &n->layers[l];
    const uint32_t S = tr->n_slots, C = L->out_c, P = L->out_h * L->out_w, no = L->n_out, NL = n->n_layers;
    const uint32_t T = tr->si[0].T;
    const int top = l == NL - 1;
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (uint32_t i = 0; i < S; i++) {
        slot *s = &tr->sl[i];
        const uint32_t lo = slot_lo(B, S, i), hi = slot_lo(B, S, i + 1);
        memset(s->bs1, 0, (size_t)T * C * sizeof *s->bs1);
        memset(s->bs2, 0, (size_t)T * C * sizeof *s->bs2);
        for (uint32_t b = lo; b < hi && !s->rc; b++) {
            sample_buf *sb = &s->sb[b - lo];
            s->rc = bwd_layer_delta(s->b, n, bc, &tr->si[b], &sb->res, l, top && mem_loss ? NULL : sb->ga,
                                    top && mem_loss ? sb->ga : NULL, sb->gc, NULL);
            if (s->rc) { snprintf(s->msg, sizeof s->msg, "sample %u of the batch: %s", b, evsnn_errmsg()); break; }
            for (uint32_t t = 0; t < T; t++)
                bn_backward_sums(s->bs1 + (size_t)t * C, s->bs2 + (size_t)t * C, sb->gc + (size_t)t * no,
                                 sb->xh[l] + (size_t)t * no, C, P);
        }
    }
    for (uint32_t i = 0; i < S; i++)
        if (tr->sl[i].rc) return evsnn_seterr(tr->sl[i].rc, "%s", tr->sl[i].msg);
    double *sd = tr->bn_t1, *sdx = tr->bn_t2;
    memset(sd, 0, (size_t)T * C * sizeof *sd);
    memset(sdx, 0, (size_t)T * C * sizeof *sdx);
    for (uint32_t i = 0; i < S; i++)
        for (size_t k = 0; k < (size_t)T * C; k++) {
            sd[k] += tr->sl[i].bs1[k];
            sdx[k] += tr->sl[i].bs2[k];
        }
    float *g0 = tr->sl[0].grads;
    for (uint32_t c = 0; c < C; c++) {
        double dg = 0.0, db = 0.0;
        for (uint32_t t = 0; t < T; t++) {
            dg += sdx[(size_t)t * C + c];
            db += sd[(size_t)t * C + c];
        }
        g0[L->bng_off + c] += (float)dg;
        g0[L->bnb_off + c] += (float)db;
    }
    if (tr->c.data_parallel && (comm_allreduce_sum_f64(sd, (size_t)T * C) || comm_allreduce_sum_f64(sdx, (size_t)T * C)))
        return EVSNN_EIO;
    const double N = (double)Bg * P;
    for (size_t k = 0; k < (size_t)T * C; k++) { /* the means of dy and dy·x̂ */
        sd[k] /= N;
        sdx[k] /= N;
    }
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (uint32_t i = 0; i < S; i++) {
        slot *s = &tr->sl[i];
        const uint32_t lo = slot_lo(B, S, i), hi = slot_lo(B, S, i + 1);
        float *mdf = s->y, *mdxf = s->y + C; /* this slot's float copies of one step's means */
        for (uint32_t b = lo; b < hi && !s->rc; b++) {
            sample_buf *sb = &s->sb[b - lo];
            for (uint32_t t = 0; t < T; t++) {
                for (uint32_t c = 0; c < C; c++) {
                    mdf[c] = (float)sd[(size_t)t * C + c];
                    mdxf[c] = (float)sdx[(size_t)t * C + c];
                }
                float *g = sb->gc + (size_t)t * no;
                bn_backward(g, g, sb->xh[l] + (size_t)t * no, L->bn_g, tr->bn_rs[l] + (size_t)t * C, mdf, mdxf, C, P);
            }
            s->rc = bwd_layer_input(s->b, n, bc, &tr->si[b], &sb->res, l, sb->gc, l > 0 ? sb->gb : NULL, s->grads);
            if (s->rc) snprintf(s->msg, sizeof s->msg, "sample %u of the batch: %s", b, evsnn_errmsg());
            float *sw = sb->ga; sb->ga = sb->gb; sb->gb = sw;
        }
    }
    for (uint32_t i = 0; i < S; i++)
        if (tr->sl[i].rc) return evsnn_seterr(tr->sl[i].rc, "%s", tr->sl[i].msg);
    return 0;
}

/* Run the batch layer by layer (sim/README.md, "Training"): each layer's forward for every
 * sample before the next layer, then the loss, then each layer's backward for every sample
 * from the last layer down. The slots run in parallel, each over its own samples in order, so
 * every parameter's gradient is summed in sample order within a slot, as a sample-at-a-time
 * run would sum it, and the result does not depend on the thread count. */
/* The threads a step uses: the configured count, or OpenMP's default. */
static int step_threads(const trainer *tr) {
#ifdef _OPENMP
    return tr->c.threads > 0 ? tr->c.threads : omp_get_max_threads();
#else
    (void)tr;
    return 1;
#endif
}

/* Whether every x[i] is finite (exponent bits not all ones), by all threads: an OR of
 * integers, vectorised, the same answer for any thread count. */
static int all_finite(const float *x, size_t n, int threads) {
    const uint32_t *u = (const uint32_t *)(const void *)x;
    uint32_t bad = 0;
    (void)threads; /* only the pragma reads it */
#pragma omp parallel for simd num_threads(threads) reduction(| : bad) if (n >= ((size_t)1 << 16)) schedule(static)
    for (size_t i = 0; i < n; i++) bad |= (u[i] & 0x7f800000u) == 0x7f800000u;
    return !bad;
}

static int run_batch(trainer *tr, const sim_input *in, const uint32_t *labels, const float *const *mem_target,
                     uint32_t B, uint32_t B_scale, int grad, uint32_t *pred) {
    const net *n = tr->n;
    const uint32_t S = tr->n_slots, NL = n->n_layers;
    int threads = step_threads(tr);
    if ((uint32_t)threads > S) threads = (int)S;
    if (B > tr->n_si) {
        sim_input *si = realloc(tr->si, B * sizeof *si);
        if (!si) return evsnn_seterr(EVSNN_ENOMEM, "training: no memory for a batch of %u", B);
        tr->si = si;
        tr->n_si = B;
    }
    for (uint32_t b = 0; b < B; b++) {
        const uint32_t T = in[b].T;
        if (T > tr->T_max) return evsnn_seterr(EVSNN_EINVAL, "sample %u of the batch has T = %u steps, more than the %u planned", b, T, tr->T_max);
        if (tr->c.loss != LOSS_MEM_MSE && labels && labels[b] >= tr->n_out)
            return evsnn_seterr(EVSNN_ERANGE, "sample %u of the batch: label %u is out of range: the network has %u outputs", b,
                                labels[b], tr->n_out);
        if (tr->c.loss == LOSS_MEM_MSE && (!mem_target || !mem_target[b]))
            return evsnn_seterr(EVSNN_EINVAL, "sample %u of the batch: mem_mse loss needs a membrane target per sample", b);
        tr->si[b] = in[b];
        /* Training steps draw dropout masks from (seed, step, sample): reproducible, and the
         * same on resume. Evaluation keeps dropout_seed 0: no dropout. */
        tr->si[b].dropout_seed = grad && tr->has_drop ? rng_stream(tr->c.seed ^ 0xd60f00d, tr->opt->t * B + b) | 1 : 0;
    }
    const int flags = tr->c.sparse_record && tr->c.loss != LOSS_MEM_MSE ? 0 : SIM_RECORD_MEM;
    for (uint32_t i = 0; i < S; i++) {
        slot *s = &tr->sl[i];
        s->loss = 0.0;
        s->correct = 0;
        memset(s->spikes, 0, sizeof s->spikes);
        memset(s->silent, 0, sizeof s->silent);
        memset(s->neurons, 0, sizeof s->neurons);
        memset(s->hist, 0, sizeof s->hist);
        if (grad) memset(s->grads, 0, n->n_params * sizeof(float));
        const uint32_t lo = slot_lo(B, S, i), hi = slot_lo(B, S, i + 1);
        s->rc = slot_reserve(tr, s, tr->si + lo, hi - lo, flags);
        if (s->rc) return s->rc;
    }
    const float scale = 1.0f / (float)B_scale;
    const bwd_cfg bc = {.sg = tr->c.sg, .theta_c = tr->theta_c, .dropout = tr->has_drop ? tr->drop : NULL,
                        .recompute = !(flags & SIM_RECORD_MEM)};
    int failed = 0;
    /* 1. Forward, layer by layer (a batch-normalised layer in its two halves). */
    for (uint32_t l = 0; l < NL && !failed; l++) {
        if (n->layers[l].bn) {
            int rc = bn_forward_layer(tr, l, B, B_scale, grad, threads);
            if (rc) return rc;
            continue;
        }
#pragma omp parallel for num_threads(threads) schedule(static, 1)
        for (uint32_t i = 0; i < S; i++) {
            slot *s = &tr->sl[i];
            const uint32_t lo = slot_lo(B, S, i), hi = slot_lo(B, S, i + 1);
            for (uint32_t b = lo; b < hi && !s->rc; b++) {
                s->rc = sim_run_layer(s->s, &tr->si[b], &s->sb[b - lo].res, l);
                if (s->rc) snprintf(s->msg, sizeof s->msg, "sample %u of the batch: %s", b, evsnn_errmsg());
            }
        }
        for (uint32_t i = 0; i < S; i++) failed |= tr->sl[i].rc != 0;
    }
    /* 2. Losses and statistics; 3. backward, from the last layer down. */
    if (!failed) {
#pragma omp parallel for num_threads(threads) schedule(static, 1)
        for (uint32_t i = 0; i < S; i++) {
            slot *s = &tr->sl[i];
            const uint32_t lo = slot_lo(B, S, i), hi = slot_lo(B, S, i + 1);
            for (uint32_t b = lo; b < hi; b++)
                sample_loss(tr, s, &s->sb[b - lo], &tr->si[b], labels ? labels[b] : 0, mem_target ? mem_target[b] : NULL,
                            scale, pred ? &pred[b] : NULL);
        }
    }
    const int mem_loss = tr->c.loss == LOSS_MEM_MSE;
    for (uint32_t l = NL; grad && !failed && l-- > 0;) {
        if (n->layers[l].bn) {
            int rc = bn_backward_layer(tr, l, B, B_scale, &bc, mem_loss, threads);
            if (rc) return rc;
            if (l == 0)
                for (uint32_t i = 0; i < S; i++) bwd_flush(tr->sl[i].b, tr->sl[i].grads);
            continue;
        }
#pragma omp parallel for num_threads(threads) schedule(static, 1)
        for (uint32_t i = 0; i < S; i++) {
            slot *s = &tr->sl[i];
            const uint32_t lo = slot_lo(B, S, i), hi = slot_lo(B, S, i + 1);
            for (uint32_t b = lo; b < hi && !s->rc; b++) {
                sample_buf *sb = &s->sb[b - lo];
                const int top = l == NL - 1;
                s->rc = bwd_layer(s->b, n, &bc, &tr->si[b], &sb->res, l, top && mem_loss ? NULL : sb->ga,
                                  top && mem_loss ? sb->ga : NULL, l > 0 ? sb->gb : NULL, s->grads, NULL);
                if (s->rc) snprintf(s->msg, sizeof s->msg, "sample %u of the batch: %s", b, evsnn_errmsg());
                float *sw = sb->ga; sb->ga = sb->gb; sb->gb = sw; /* this layer's input is the previous one's output */
            }
            if (l == 0) bwd_flush(s->b, s->grads); /* the slot's conv weight gradients, folded once */
        }
        for (uint32_t i = 0; i < S; i++) failed |= tr->sl[i].rc != 0;
    }
    for (uint32_t i = 0; i < S; i++)
        if (tr->sl[i].rc) return evsnn_seterr(tr->sl[i].rc, "%s", tr->sl[i].msg);
    return 0;
}

static void collect(const trainer *tr, train_stats *st, uint32_t B) {
    st->n += B;
    st->n_layers = tr->n->n_layers;
    for (uint32_t i = 0; i < tr->n_slots; i++) {
        const slot *s = &tr->sl[i];
        st->correct += s->correct;
        for (uint32_t l = 0; l < tr->n->n_layers; l++) {
            st->spikes[l] += s->spikes[l];
            st->silent[l] += s->silent[l];
            st->neurons[l] += s->neurons[l];
            for (int b = 0; b < TRAIN_HIST_BINS; b++) st->hist[l][b] += s->hist[l][b];
        }
    }
}

int trainer_eval(trainer *tr, const sim_input *in, const uint32_t *labels, const float *const *mem_target,
                 uint32_t B, train_stats *st, uint32_t *pred) {
    int rc = run_batch(tr, in, labels, mem_target, B, B, 0, pred);
    if (rc) return rc;
    double L = 0.0;
    for (uint32_t i = 0; i < tr->n_slots; i++) L += tr->sl[i].loss;
    st->loss += L; /* a sum of per-sample losses */
    st->T = B ? in[0].T : st->T;
    collect(tr, st, B);
    return 0;
}

int trainer_step(trainer *tr, const sim_input *in, const uint32_t *labels, const float *const *mem_target,
                 uint32_t B, train_stats *st) {
    net *n = tr->n;
    /* Data-parallel: the batch is the union of the ranks' shards (one may be empty). */
    uint64_t Bg = B;
    if (tr->c.data_parallel && comm_allreduce_sum_u64(&Bg, 1)) return EVSNN_EIO;
    if (Bg == 0) return evsnn_seterr(EVSNN_EINVAL, "training step on an empty batch");
    int rc = run_batch(tr, in, labels, mem_target, B, (uint32_t)Bg, 1, NULL);
    if (rc) return rc;
    const uint64_t step = tr->opt->t;
    const int threads = step_threads(tr);
    /* 4. Reduce the slots in order into slot 0 (element by element, by all threads). */
    float *g = tr->grads;
    const size_t np = n->n_params;
    const uint32_t S = tr->n_slots;
#pragma omp parallel for num_threads(threads) if (np >= ((size_t)1 << 16)) schedule(static)
    for (size_t k = 0; k < np; k++) {
        float s = g[k];
        for (uint32_t i = 1; i < S; i++) s += tr->sl[i].grads[k];
        g[k] = s;
    }
    double loss = 0.0;
    for (uint32_t i = 0; i < tr->n_slots; i++) loss += tr->sl[i].loss;
    /* Data-parallel hook: sum the ranks' gradients and losses before the optimizer step. */
    if (tr->c.data_parallel && (comm_allreduce_sum_f32(g, n->n_params) || comm_allreduce_sum_f64(&loss, 1)))
        return EVSNN_EIO;
    loss /= (double)Bg;
    if (!isfinite(loss)) return evsnn_seterr(EVSNN_ENUMERIC, "step %llu: the loss is %g", (unsigned long long)step, loss);
    const int g_finite = all_finite(g, np, threads);
    for (uint32_t l = 0; !g_finite && l < n->n_layers; l++) { /* which one */
        const net_layer *L = &n->layers[l];
        if (L->kind == NET_POOL) continue;
        for (size_t k = 0; k < L->n_w + (L->b ? L->n_b : 0); k++) {
            const float v = k < L->n_w ? g[L->w_off + k] : g[L->b_off + k - L->n_w];
            if (!isfinite(v))
                return evsnn_seterr(EVSNN_ENUMERIC, "step %llu: layer %s: %s gradient is %g (parameters left unchanged)",
                                    (unsigned long long)step, L->name, k < L->n_w ? "weight" : "bias", (double)v);
        }
        for (uint32_t k = 0; L->bn && k < 2 * L->out_c; k++) {
            const float v = k < L->out_c ? g[L->bng_off + k] : g[L->bnb_off + k - L->out_c];
            if (!isfinite(v))
                return evsnn_seterr(EVSNN_ENUMERIC, "step %llu: layer %s: batch-norm %s gradient is %g (parameters left "
                                    "unchanged)", (unsigned long long)step, L->name, k < L->out_c ? "scale" : "shift",
                                    (double)v);
        }
    }
    /* 5–9: clip, clamp, step, schedule (lr from the step count), anneal. */
    double gn = 0.0;
    if (tr->c.grad_clip > 0.0f) gn = optim_clip_norm(g, np, tr->c.grad_clip, threads);
    else gn = optim_norm(g, np, threads);
    if (tr->c.weight_clip > 0.0f) optim_clamp(tr->lat, n->n_params, tr->c.weight_clip);
    const float lr = optim_lr(tr->opt);
    optim_step(tr->opt, tr->lat, g);
    for (uint32_t l = 0, k = 0; l < n->n_layers; l++) {
        net_layer *L = &n->layers[l];
        if (L->kind == NET_POOL) continue;
        if (tr->c.n_tha) L->nc.theta = L->nc.theta + tr->alpha[k] * (tr->theta_inf[k] - L->nc.theta);
        k++;
    }
    /* 10. Binarized: latent clamp, then sign into the forward weights. */
    if (tr->c.binarize && tr->c.latent_clamp > 0.0f)
        for (uint32_t l = 0; l < n->n_layers; l++) {
            const net_layer *L = &n->layers[l];
            if (L->kind != NET_POOL) optim_clamp(tr->lat + L->w_off, L->n_w, tr->c.latent_clamp);
        }
    if ((rc = trainer_sync(tr))) return rc;
    const int p_finite = all_finite(tr->lat, np, threads);
    for (size_t k = 0; !p_finite && k < np; k++)
        if (!isfinite(tr->lat[k])) return evsnn_seterr(EVSNN_ENUMERIC, "step %llu: parameter %zu became %g", (unsigned long long)step, k, (double)tr->lat[k]);
    if (st) {
        st->loss += loss;
        st->grad_norm = gn;
        st->lr = lr;
        st->T = B ? in[0].T : st->T;
        collect(tr, st, B);
    }
    return 0;
}
