/* apps/traindata.h — labelled samples for `evsnn train` and `evsnn eval`, held in memory.
 *
 * Sources: the built-in synthetic task (sim/task.h), named "synth[:key=value,...]", and any
 * file or folder the dataset readers (io/dataset.h) open:
 * the train and test parts come from the format's own split, from --test-data, or from
 * --split-at N (first N samples train, the rest test: the MNIST-test-set split). */
#ifndef EVSNN_APPS_TRAINDATA_H
#define EVSNN_APPS_TRAINDATA_H

#include <stdint.h>

#include "sim/engine.h"
#include "sim/rng.h"
#include "sim/train.h"

typedef struct {
    uint32_t n, T, classes, n_in;
    spk_train *x;    /* [n] (event data and coded images) */
    float *xs;       /* [n, n_in] static inputs (direct-encoded images), or NULL */
    uint32_t *y;     /* [n] */
    sim_input *in;   /* [n] pointing into x or xs */
    char desc[160];  /* what was loaded, for logs and the model file */
} tdata;

typedef struct {
    const char *data;       /* "synth[...]" or a path */
    const char *test_data;  /* a path for the test part, or NULL */
    uint32_t split_at;      /* > 0: one file split at this sample */
    uint32_t steps;         /* > 0: T override */
    uint32_t max_train, max_test; /* > 0: use only the first ones */
    const char *encoding;   /* images: direct | rate | poisson | latency (NULL: direct) */
    uint32_t dt_us;         /* event data: bin width (0: the format's default) */
    uint64_t seed;          /* rate/poisson coding */
    int model_input;        /* 1: the network came from a model file (its input is fixed), so a
                             * shape mismatch is not cured by --input */
    const struct ds_opts *base; /* transform options (window, downsampling, pooling, polarity,
                                 * denoising, unit factor, gain, bins) or NULL for the defaults;
                                 * split, first, count, T, dt, encoding and seed are set above */
} tdata_opts;

/* Load both parts for a network with n_in inputs. 0 or a negative EVSNN_E* with the
 * message set (shape mismatch: EVSNN_ESHAPE naming both shapes). */
int tdata_load(tdata *train, tdata *test, const tdata_opts *o, uint32_t n_in);
void tdata_free(tdata *d); /* safe on a zeroed struct */
/* The loaded samples as the fit loop's iterator (sim/train.h); d must outlive it. */
train_samples tdata_samples(const tdata *d);

/* Training-time augmentation of direct-coded images (`evsnn train --augment`): every epoch,
 * sample i is shifted by (dx, dy) uniform in [−shift, shift]² with zero fill and, with flip,
 * mirrored left to right with probability 1/2 (torchvision's RandomCrop with padding and
 * RandomHorizontalFlip). The draws come from (seed, epoch, i) alone, so a resumed run and a
 * data-parallel rank draw what an uninterrupted run draws. The fit loop asks for every
 * sample once per epoch (sim/train.h), which is what tells the epoch. */
typedef struct {
    uint32_t shift; /* pixels, 0: none */
    int flip;
    uint64_t seed;
    /* filled by tdata_augment */
    const tdata *d;
    uint32_t c, h, w, B;
    float *buf; /* [B, n_in]: the minibatch's augmented images */
    rng *r;
    uint64_t calls;
} tdata_aug;

/* The samples of d, augmented as a says, for a fit loop of minibatches of B starting at
 * epoch0, on images of c×h×w. EVSNN_EINVAL when d holds no direct-coded images or c·h·w is
 * not their size; EVSNN_ENOMEM. */
int tdata_augment(tdata_aug *a, const tdata *d, uint32_t c, uint32_t h, uint32_t w, uint32_t B, uint64_t epoch0,
                  train_samples *out);
void tdata_aug_free(tdata_aug *a); /* safe on a zeroed struct */

#endif
