/* apps/traindata.c — training data in memory (see traindata.h). */
#include "apps/traindata.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/evsnn.h"
#include "sim/task.h"

#include "io/dataset.h"
#include "io/transform.h"

static int alloc_split(tdata *d, uint32_t n, uint32_t T, uint32_t classes, uint32_t n_in, int statics) {
    memset(d, 0, sizeof *d);
    d->n = n;
    d->T = T;
    d->classes = classes;
    d->n_in = n_in;
    d->x = calloc(n ? n : 1, sizeof *d->x);
    d->y = calloc(n ? n : 1, sizeof *d->y);
    d->in = calloc(n ? n : 1, sizeof *d->in);
    if (statics) d->xs = malloc((size_t)(n ? n : 1) * n_in * sizeof *d->xs);
    if (!d->x || !d->y || !d->in || (statics && !d->xs)) return evsnn_seterr(EVSNN_ENOMEM, "data: no memory for %u samples", n);
    return 0;
}

static int load_synth(tdata *train, tdata *test, const tdata_opts *o, uint32_t n_in) {
    task_cfg c = task_defaults(n_in);
    int rc = task_parse(&c, o->data);
    if (rc) return rc;
    if (o->steps) c.T = o->steps;
    if (o->max_train && o->max_train < c.n_train) c.n_train = o->max_train;
    if (o->max_test && o->max_test < c.n_test) c.n_test = o->max_test;
    tdata *sp[2] = {train, test};
    const uint32_t cnt[2] = {c.n_train, c.n_test};
    for (int s = 0; s < 2; s++) {
        tdata *d = sp[s];
        if ((rc = alloc_split(d, cnt[s], c.T, c.classes, n_in, 0))) return rc;
        snprintf(d->desc, sizeof d->desc, "%s", o->data);
        const uint64_t base = s == 0 ? 0 : c.n_train;
        for (uint32_t i = 0; i < d->n; i++) {
            if ((rc = task_sample(&d->x[i], &d->y[i], &c, base + i))) return rc;
            d->in[i] = (sim_input){.train = &d->x[i], .T = c.T};
        }
    }
    return 0;
}

static int load_part(tdata *d, const char *path, const tdata_opts *o, ds_split split, uint32_t first, uint32_t count,
                     uint32_t max, uint32_t n_in) {
    ds_opts so;
    if (o->base) so = *o->base;
    else ds_opts_default(&so);
    so.split = split;
    so.first = first;
    so.count = count;
    if (o->steps) so.T = o->steps;
    if (o->dt_us) so.dt_us = o->dt_us;
    so.seed = o->seed;
    if (o->encoding) {
        if (!strcmp(o->encoding, "direct")) so.enc = DS_ENC_DIRECT;
        else if (!strcmp(o->encoding, "rate")) so.enc = DS_ENC_RATE;
        else if (!strcmp(o->encoding, "poisson")) so.enc = DS_ENC_POISSON;
        else if (!strcmp(o->encoding, "latency")) so.enc = DS_ENC_LATENCY;
        else return evsnn_seterr(EVSNN_EINVAL, "--encoding '%s': expected direct, rate, poisson or latency", o->encoding);
    }
    int err = 0;
    dataset *ds = ds_open(path, &so, &err);
    if (!ds) return err ? err : EVSNN_EIO;
    uint32_t c, h, w;
    ds_shape(ds, &c, &h, &w);
    int rc = 0;
    if (c * h * w != n_in) {
        if (o->model_input)
            rc = evsnn_seterr(EVSNN_ESHAPE, "%s: samples are %ux%ux%u = %u inputs, the model takes %u (the data options "
                                            "--downsample, --polarity, --unit-factor change the samples' shape)",
                              path, c, h, w, c * h * w, n_in);
        else
            rc = evsnn_seterr(EVSNN_ESHAPE, "%s: samples are %ux%ux%u = %u inputs, the network takes %u (give --input "
                                            "%ux%ux%u and an architecture for it)", path, c, h, w, c * h * w, n_in, c, h, w);
        goto out;
    }
    uint32_t n = ds_len(ds);
    if (max && max < n) n = max;
    if (n == 0) { rc = evsnn_seterr(EVSNN_EINVAL, "%s: no samples selected", path); goto out; }
    const int statics = ds_get_kind(ds) == DS_KIND_IMAGE && so.enc == DS_ENC_DIRECT;
    if ((rc = alloc_split(d, n, ds_steps(ds), ds_n_classes(ds), n_in, statics))) goto out;
    snprintf(d->desc, sizeof d->desc, "%s (%s, %u samples)", path, ds_format_name(ds), n);
    ds_sample s;
    memset(&s, 0, sizeof s);
    for (uint32_t i = 0; i < n && !rc; i++) {
        if ((rc = ds_get(ds, i, &s))) break;
        if (s.label < 0) { rc = evsnn_seterr(EVSNN_EFORMAT, "%s: sample %u has no label", path, i); break; }
        d->y[i] = (uint32_t)s.label;
        if (s.static_x) {
            if (!d->xs) { rc = evsnn_seterr(EVSNN_EFORMAT, "%s: sample %u is static, others are trains", path, i); break; }
            memcpy(d->xs + (size_t)i * n_in, s.static_x, n_in * sizeof(float));
            d->in[i] = (sim_input){.static_x = d->xs + (size_t)i * n_in, .T = s.T};
        } else {
            if ((rc = spk_copy(&d->x[i], &s.train))) break;
            d->in[i] = (sim_input){.train = &d->x[i], .T = s.T};
        }
    }
    ds_sample_deinit(&s);
out:
    ds_free(ds);
    return rc;
}

int tdata_load(tdata *train, tdata *test, const tdata_opts *o, uint32_t n_in) {
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (!strncmp(o->data, "synth", 5) && (o->data[5] == '\0' || o->data[5] == ':')) return load_synth(train, test, o, n_in);
    int rc;
    if (o->test_data) {
        if ((rc = load_part(train, o->data, o, DS_SPLIT_ALL, 0, 0, o->max_train, n_in))) return rc;
        rc = load_part(test, o->test_data, o, DS_SPLIT_ALL, 0, 0, o->max_test, n_in);
    } else if (o->split_at) {
        if ((rc = load_part(train, o->data, o, DS_SPLIT_ALL, 0, o->split_at, o->max_train, n_in))) return rc;
        rc = load_part(test, o->data, o, DS_SPLIT_ALL, o->split_at, 0, o->max_test, n_in);
    } else {
        if ((rc = load_part(train, o->data, o, DS_SPLIT_TRAIN, 0, 0, o->max_train, n_in))) return rc;
        rc = load_part(test, o->data, o, DS_SPLIT_TEST, 0, 0, o->max_test, n_in);
    }
    if (!rc && train->T != test->T)
        rc = evsnn_seterr(EVSNN_ESHAPE, "data: train samples have %u steps, test samples %u", train->T, test->T);
    if (!rc && test->classes > train->classes) train->classes = test->classes;
    return rc;
}

void tdata_free(tdata *d) {
    if (d->x)
        for (uint32_t i = 0; i < d->n; i++) spk_deinit(&d->x[i]);
    free(d->x);
    free(d->xs);
    free(d->y);
    free(d->in);
    memset(d, 0, sizeof *d);
}

static int tdata_get(void *ctx, uint32_t i, sim_input *in, uint32_t *label) {
    const tdata *d = ctx;
    *in = d->in[i];
    *label = d->y[i];
    return 0;
}

train_samples tdata_samples(const tdata *d) { return (train_samples){.n = d->n, .get = tdata_get, .ctx = (void *)d}; }

static int aug_get(void *ctx, uint32_t i, sim_input *in, uint32_t *label) {
    tdata_aug *a = ctx;
    const tdata *d = a->d;
    const uint64_t epoch = a->calls / d->n, pos = a->calls % d->n;
    a->calls++;
    rng_seed(a->r, rng_stream(a->seed ^ 0x6175676d656e74ULL /* "augment" */, epoch * d->n + i));
    const int span = 2 * (int)a->shift + 1;
    const int dx = (int)rng_below(a->r, (uint32_t)span) - (int)a->shift;
    const int dy = (int)rng_below(a->r, (uint32_t)span) - (int)a->shift;
    const int flip = a->flip && rng_below(a->r, 2);
    float *x = a->buf + (size_t)(pos % a->B) * d->n_in; /* a minibatch's samples are consecutive calls */
    tf_shift_image(x, d->in[i].static_x, a->c, a->h, a->w, dx, dy, flip);
    *in = d->in[i];
    in->static_x = x;
    *label = d->y[i];
    return 0;
}

int tdata_augment(tdata_aug *a, const tdata *d, uint32_t c, uint32_t h, uint32_t w, uint32_t B, uint64_t epoch0,
                  train_samples *out) {
    if (!d->xs)
        return evsnn_seterr(EVSNN_EINVAL, "--augment: the training samples are not direct-coded images (%s)", d->desc);
    if ((uint64_t)c * h * w != d->n_in || h < 2 || w < 2)
        return evsnn_seterr(EVSNN_EINVAL, "--augment: the network's input %ux%ux%u is not an image of the samples' %u values "
                            "(give --input C×H×W)", c, h, w, d->n_in);
    if (a->shift >= h || a->shift >= w)
        return evsnn_seterr(EVSNN_EINVAL, "--augment: shift %u is not below the image's %ux%u", a->shift, h, w);
    a->d = d;
    a->c = c, a->h = h, a->w = w, a->B = B;
    a->calls = epoch0 * d->n;
    a->buf = malloc((size_t)B * d->n_in * sizeof *a->buf);
    a->r = rng_create(a->seed);
    if (!a->buf || !a->r) {
        tdata_aug_free(a);
        return evsnn_seterr(EVSNN_ENOMEM, "--augment: no memory for a minibatch of %u images", B);
    }
    *out = (train_samples){.n = d->n, .get = aug_get, .ctx = a};
    return 0;
}

void tdata_aug_free(tdata_aug *a) {
    free(a->buf);
    rng_free(a->r);
    a->buf = NULL;
    a->r = NULL;
}
