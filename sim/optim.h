/* sim/optim.h — optimizers, learning-rate schedule and clipping (DESIGN §4), with PyTorch's
 * update rules so that hyperparameters carry over from a PyTorch script:
 *   SGD   buf = μ·buf + g (buf = g at the first step); p −= lr·buf   (μ = 0: plain SGD)
 *   Adam  m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
 *         p −= lr/(1−β1^t) · m / (√v/√(1−β2^t) + ε)
 *   weight decay (L2, both): g += wd·p before the update
 *   cosine annealing with warm restarts, stepped per iteration:
 *         lr = η_min + (lr0 − η_min)(1 + cos(π·T_cur/T_i))/2, T_i = T0·T_mult^k
 *   or without restarts (CosineAnnealingLR's closed form, T_cur = t for every t)
 *   grad-norm clip: g *= max_norm/(‖g‖ + 1e-6) when that factor is below 1 (clip_grad_norm_)
 * The moments m and v are one allocation each, carved exactly like the parameters, so a
 * checkpoint stores them as flat arrays next to the parameters. */
#ifndef EVSNN_OPTIM_H
#define EVSNN_OPTIM_H

#include <stddef.h>
#include <stdint.h>

typedef enum { OPT_SGD, OPT_ADAM } opt_kind;

typedef struct {
    opt_kind kind;
    float lr;                  /* base learning rate */
    float momentum;            /* SGD */
    float beta1, beta2, eps;   /* Adam (defaults 0.9, 0.999, 1e-8) */
    float weight_decay;
    uint32_t cos_T0;           /* cosine warm restarts: first period in iterations (0: constant lr) */
    uint32_t cos_Tmult;        /* period multiplier after each restart (≥ 1) */
    uint8_t cos_continue;      /* 1: no restarts, PyTorch's CosineAnnealingLR(T_max = cos_T0)
                                * stepped on past T_max: lr rises back, a period of 2·cos_T0 */
    float eta_min;
} opt_cfg;

opt_cfg optim_defaults(opt_kind kind); /* lr 1e-3 (Adam) or 1e-2 (SGD) */

typedef struct optim {
    opt_cfg c;
    size_t n;
    float *m, *v;     /* [n] first and second moments (v NULL for SGD); m is SGD's buffer */
    uint64_t t;       /* steps taken */
    int threads;      /* for the updates, which are element by element (results do not depend
                       * on it); 0: OpenMP's default */
} optim;

/* NULL with *err set on bad settings (named) or no memory. */
optim *optim_create(const opt_cfg *c, size_t n, int *err);
void optim_free(optim *o); /* NULL is fine */

/* Learning rate for the next step (schedule at iteration t). */
float optim_lr(const optim *o);

/* One update: p [n] −= f(g [n]); g is modified by weight decay. t advances. */
void optim_step(optim *o, float *p, float *g);

/* The L2 norm of g [n], summed in a fixed order of blocks whatever the thread count. */
double optim_norm(const float *g, size_t n, int threads);

/* Scale g [n] so that its L2 norm is at most max_norm (> 0); returns the norm before.
 * threads as optim.threads. */
double optim_clip_norm(float *g, size_t n, float max_norm, int threads);

/* Clamp p [n] into [−c, c]. */
void optim_clamp(float *p, size_t n, float c);

#endif
