/* io/checkpoint.c — HDF5 training checkpoints (see checkpoint.h). */
#include "checkpoint.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/h5util.h"
#include "io/replace.h"
#include "sim/evsnn.h"

static herr_t put_data(hid_t f, const char *name, hid_t type, const void *v, hsize_t n) {
    return h5u_put_data(f, name, type, type, v, 1, &n); /* Fletcher-32 per chunk */
}

int ckpt_save(const char *path, const ckpt *c) {
    char tmp[4200];
    int rc = replace_tmpname(tmp, sizeof tmp, path);
    if (rc) return rc;
    hid_t f;
    H5E_BEGIN_TRY { f = h5u_create(tmp); } H5E_END_TRY; /* metadata checksums (h5util.h) */
    if (f < 0) return evsnn_seterr(EVSNN_EIO, "%s: cannot create the checkpoint (temporary %s)", path, tmp);
    H5E_BEGIN_TRY { /* errors are reported as evsnn messages, not HDF5's stack dump */
        const int32_t version = CKPT_VERSION;
        const uint32_t in[3] = {c->in_c, c->in_h, c->in_w};
        const hsize_t nl = c->n_layers;
        herr_t e = 0;
        e |= h5u_put_str(f, "format", "evsnn-checkpoint");
        /* version 2: format_version and input_shape, spelt as in model, trace and event files */
        e |= h5u_put_attr(f, "format_version", H5T_NATIVE_INT32, H5T_NATIVE_INT32, &version, 1);
        e |= h5u_put_str(f, "arch", c->arch);
        e |= h5u_put_attr(f, "input_shape", H5T_NATIVE_UINT32, H5T_NATIVE_UINT32, in, 3);
        e |= h5u_put_attr(f, "epoch", H5T_NATIVE_UINT64, H5T_NATIVE_UINT64, &c->epoch, 1);
        e |= h5u_put_attr(f, "step", H5T_NATIVE_UINT64, H5T_NATIVE_UINT64, &c->step, 1);
        e |= h5u_put_attr(f, "T", H5T_NATIVE_UINT32, H5T_NATIVE_UINT32, &c->T, 1);
        e |= h5u_put_attr(f, "binarized", H5T_NATIVE_INT32, H5T_NATIVE_INT32, &c->binarized, 1);
        e |= h5u_put_attr(f, "pool_on", H5T_NATIVE_INT32, H5T_NATIVE_INT32, &c->pool_on, 1);
        e |= h5u_put_attr(f, "spool", H5T_NATIVE_INT32, H5T_NATIVE_INT32, &c->spool, 1);
        e |= h5u_put_attr(f, "same_pad", H5T_NATIVE_INT32, H5T_NATIVE_INT32, &c->same_pad, 1);
        e |= h5u_put_str(f, "config", c->config);
        e |= put_data(f, "params", H5T_NATIVE_FLOAT, c->params, c->n_params);
        e |= put_data(f, "latent", H5T_NATIVE_FLOAT, c->latent ? c->latent : c->params, c->n_params);
        if (c->m) e |= put_data(f, "opt_m", H5T_NATIVE_FLOAT, c->m, c->n_params);
        if (c->v) e |= put_data(f, "opt_v", H5T_NATIVE_FLOAT, c->v, c->n_params);
        e |= put_data(f, "beta", H5T_NATIVE_FLOAT, c->beta, nl);
        e |= put_data(f, "theta", H5T_NATIVE_FLOAT, c->theta, nl);
        e |= put_data(f, "reset", H5T_NATIVE_INT32, c->reset, nl);
        e |= put_data(f, "cmp", H5T_NATIVE_INT32, c->cmp, nl);
        e |= h5u_describe(f, "params", "weights and biases (forward values)", "parameter, in the order of the model "
                                                                            "file's /layers") |
             h5u_describe(f, "latent", "latent float weights (binarized training) or the parameters", "parameter") |
             h5u_describe(f, "beta", "membrane decay per step", "layer") |
             h5u_describe(f, "theta", "firing threshold", "layer") |
             h5u_describe(f, "reset", "reset mode (0 subtract, 1 zero, 2 none, 3 subtract-pre, 4 zero-drop)", "layer") |
             h5u_describe(f, "cmp", "comparison (0 u > theta, 1 u >= theta)", "layer");
        if (c->m) e |= h5u_describe(f, "opt_m", "optimizer first moment (momentum) of each parameter", "parameter");
        if (c->v) e |= h5u_describe(f, "opt_v", "Adam's second moment of each parameter", "parameter");
        if (c->rng) e |= put_data(f, "rng", H5T_NATIVE_UINT8, c->rng, c->rng_len);
        if (c->stats && c->n_stats) e |= put_data(f, "stats", H5T_NATIVE_FLOAT, c->stats, c->n_stats);
        if (c->rng) e |= h5u_describe(f, "rng", "raw state bytes of the shuffling generator (GSL)", "byte");
        if (c->stats && c->n_stats)
            e |= h5u_describe(f, "stats", "batch-normalisation running statistics (mean, variance per channel)", "value");
        if (H5Fclose(f) < 0) e = -1;
        if (e >= 0 && h5u_seal(tmp)) e = -1; /* the checksum of every byte, strings included */
        if (e < 0) rc = -1;
    } H5E_END_TRY;
    if (rc) {
        replace_discard(tmp);
        return evsnn_seterr(EVSNN_EIO, "%s: writing the checkpoint failed (disk full?)", path);
    }
    return replace_commit(tmp, path);
}

static int get_attr(hid_t f, const char *path, const char *name, hid_t type, void *v, hssize_t n) {
    if (H5Aexists(f, name) <= 0) return evsnn_seterr(EVSNN_EFORMAT, "%s: attribute '%s' is missing", path, name);
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    hid_t sp = H5Aget_space(a);
    hssize_t k = H5Sget_simple_extent_npoints(sp);
    int rc = 0;
    if (k != n) rc = evsnn_seterr(EVSNN_EFORMAT, "%s: attribute '%s' has %lld values, expected %lld", path, name, (long long)k, (long long)n);
    else if (H5Aread(a, type, v) < 0) rc = evsnn_seterr(EVSNN_EFORMAT, "%s: attribute '%s' is not readable as a number", path, name);
    H5Sclose(sp);
    H5Aclose(a);
    return rc;
}

/* A string attribute (variable-length UTF-8 since version 2, fixed-length before). */
static int get_str(hid_t f, const char *path, const char *name, char *buf, size_t len) {
    if (H5Aexists(f, name) <= 0) return evsnn_seterr(EVSNN_EFORMAT, "%s: attribute '%s' is missing", path, name);
    if (h5u_get_str(f, name, buf, len)) return evsnn_seterr(EVSNN_EFORMAT, "%s: attribute '%s' is not a readable string", path, name);
    return 0;
}

/* Read a 1-D dataset of exactly n elements into a new buffer (*out), or leave *out NULL
 * when optional and absent. */
static int get_data(hid_t f, const char *path, const char *name, hid_t type, size_t esz, size_t n, void **out,
                    int optional) {
    *out = NULL;
    if (H5Lexists(f, name, H5P_DEFAULT) <= 0) {
        if (optional) return 0;
        return evsnn_seterr(EVSNN_EFORMAT, "%s: dataset '%s' is missing", path, name);
    }
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    hid_t sp = H5Dget_space(d);
    hssize_t k = H5Sget_simple_extent_npoints(sp);
    int rc = 0;
    if (k < 0 || (size_t)k != n) {
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: dataset '%s' has %lld elements, expected %zu", path, name, (long long)k, n);
    } else if (!(*out = malloc(n ? n * esz : 1))) {
        rc = evsnn_seterr(EVSNN_ENOMEM, "%s: no memory for '%s'", path, name);
    } else if (n && H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0) {
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: dataset '%s' is not readable as the expected type", path, name);
    }
    H5Sclose(sp);
    H5Dclose(d);
    if (rc) { free(*out); *out = NULL; }
    return rc;
}

static size_t data_len(hid_t f, const char *name) {
    if (H5Lexists(f, name, H5P_DEFAULT) <= 0) return 0;
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    hid_t sp = H5Dget_space(d);
    hssize_t k = H5Sget_simple_extent_npoints(sp);
    H5Sclose(sp);
    H5Dclose(d);
    return k > 0 ? (size_t)k : 0;
}

int ckpt_load(const char *path, ckpt *c) {
    memset(c, 0, sizeof *c);
    int rc = 0;
    hid_t f;
    /* Watched, not silenced: a checksum (metadata or Fletcher-32) or a cut file turns the
     * error into "corrupt checkpoint" (h5util.h). */
    /* every byte against the seal first: HDF5 does not survive every damaged file */
    if ((rc = h5u_check_seal(path, "checkpoint"))) return rc;
    h5u_watch w;
    h5u_watch_begin(&w);
    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        rc = evsnn_seterr(EVSNN_EIO, "%s: cannot open as an HDF5 checkpoint", path);
        h5u_watch_end(&w);
        return h5u_corrupt(&w, path, "checkpoint", rc);
    }
    {
        char fmt[64];
        int32_t version = 0;
        uint32_t in[3];
        if ((rc = get_str(f, path, "format", fmt, sizeof fmt))) goto out;
        if (strcmp(fmt, "evsnn-checkpoint")) { rc = evsnn_seterr(EVSNN_EFORMAT, "%s: format is '%s', expected 'evsnn-checkpoint'", path, fmt); goto out; }
        /* version 1 spelt it "version" (and "input" for input_shape) */
        const int v1 = H5Aexists(f, "format_version") <= 0;
        if ((rc = get_attr(f, path, v1 ? "version" : "format_version", H5T_NATIVE_INT32, &version, 1))) goto out;
        if (version > CKPT_VERSION) {
            rc = evsnn_seterr(EVSNN_EVERSION, "%s: checkpoint version %d is newer than this evsnn reads (%d): upgrade evsnn", path, version, CKPT_VERSION);
            goto out;
        }
        if ((rc = get_str(f, path, "arch", c->arch, sizeof c->arch)) || (rc = get_attr(f, path, v1 ? "input" : "input_shape", H5T_NATIVE_UINT32, in, 3)) ||
            (rc = get_attr(f, path, "epoch", H5T_NATIVE_UINT64, &c->epoch, 1)) || (rc = get_attr(f, path, "step", H5T_NATIVE_UINT64, &c->step, 1)) ||
            (rc = get_attr(f, path, "T", H5T_NATIVE_UINT32, &c->T, 1)) ||
            (rc = get_attr(f, path, "binarized", H5T_NATIVE_INT32, &c->binarized, 1)) ||
            (rc = get_attr(f, path, "pool_on", H5T_NATIVE_INT32, &c->pool_on, 1)) ||
            (rc = get_attr(f, path, "spool", H5T_NATIVE_INT32, &c->spool, 1)) ||
            (rc = get_attr(f, path, "same_pad", H5T_NATIVE_INT32, &c->same_pad, 1)) ||
            (rc = get_str(f, path, "config", c->config, sizeof c->config)))
            goto out;
        c->in_c = in[0]; c->in_h = in[1]; c->in_w = in[2];
        c->n_layers = (uint32_t)data_len(f, "theta");
        if (c->n_layers == 0 || c->n_layers > CKPT_MAX_LAYERS) {
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: dataset 'theta' must hold 1..%d layers", path, CKPT_MAX_LAYERS);
            goto out;
        }
        c->n_params = data_len(f, "params");
        void *p;
        if ((rc = get_data(f, path, "beta", H5T_NATIVE_FLOAT, 4, c->n_layers, &p, 0))) goto out;
        memcpy(c->beta, p, c->n_layers * 4); free(p);
        if ((rc = get_data(f, path, "theta", H5T_NATIVE_FLOAT, 4, c->n_layers, &p, 0))) goto out;
        memcpy(c->theta, p, c->n_layers * 4); free(p);
        if ((rc = get_data(f, path, "reset", H5T_NATIVE_INT32, 4, c->n_layers, &p, 0))) goto out;
        memcpy(c->reset, p, c->n_layers * 4); free(p);
        if ((rc = get_data(f, path, "cmp", H5T_NATIVE_INT32, 4, c->n_layers, &p, 0))) goto out;
        memcpy(c->cmp, p, c->n_layers * 4); free(p);
        if ((rc = get_data(f, path, "params", H5T_NATIVE_FLOAT, 4, c->n_params, (void **)&c->params, 0)) ||
            (rc = get_data(f, path, "latent", H5T_NATIVE_FLOAT, 4, c->n_params, (void **)&c->latent, 0)) ||
            (rc = get_data(f, path, "opt_m", H5T_NATIVE_FLOAT, 4, c->n_params, (void **)&c->m, 1)) ||
            (rc = get_data(f, path, "opt_v", H5T_NATIVE_FLOAT, 4, c->n_params, (void **)&c->v, 1)))
            goto out;
        c->rng_len = data_len(f, "rng");
        if ((rc = get_data(f, path, "rng", H5T_NATIVE_UINT8, 1, c->rng_len, (void **)&c->rng, 1))) goto out;
        c->n_stats = data_len(f, "stats");
        if (c->n_stats && (rc = get_data(f, path, "stats", H5T_NATIVE_FLOAT, 4, c->n_stats, (void **)&c->stats, 1))) goto out;
    out:
        H5Fclose(f);
    }
    h5u_watch_end(&w);
    if (rc) ckpt_free(c);
    return rc ? h5u_corrupt(&w, path, "checkpoint", rc) : 0;
}

void ckpt_free(ckpt *c) {
    free(c->params); free(c->latent); free(c->m); free(c->v); free(c->rng); free(c->stats);
    c->params = c->latent = c->m = c->v = c->stats = NULL;
    c->rng = NULL;
}

void ckpt_from_net(ckpt *c, const net *n) {
    snprintf(c->arch, sizeof c->arch, "%s", n->arch);
    c->in_c = n->in_c; c->in_h = n->in_h; c->in_w = n->in_w;
    c->n_layers = n->n_layers < CKPT_MAX_LAYERS ? n->n_layers : CKPT_MAX_LAYERS;
    for (uint32_t l = 0; l < c->n_layers; l++) {
        const net_layer *L = &n->layers[l];
        c->beta[l] = L->kind == NET_POOL ? 0.0f : L->nc.beta;
        c->theta[l] = L->kind == NET_POOL ? 0.0f : L->nc.theta;
        c->reset[l] = L->kind == NET_POOL ? 0 : (int32_t)L->nc.reset;
        c->cmp[l] = L->kind == NET_POOL ? 0 : (int32_t)L->nc.cmp;
    }
    c->n_params = n->n_params;
    c->params = n->params;
    c->n_stats = n->n_stats;
    c->stats = n->stats;
}

net *ckpt_to_net(const ckpt *c, int *err) {
    neuron_cfg cfg[CKPT_MAX_LAYERS];
    uint32_t k = 0;
    /* net_build takes settings per spiking layer; the file stores them per layer. */
    for (uint32_t l = 0; l < c->n_layers; l++) {
        if (c->beta[l] == 0.0f && c->theta[l] == 0.0f) continue; /* NET_POOL */
        cfg[k++] = (neuron_cfg){.beta = c->beta[l], .theta = c->theta[l], .reset = (reset_mode)c->reset[l],
                                .cmp = (cmp_mode)c->cmp[l], .bias = 1};
    }
    if (k == 0) { *err = evsnn_seterr(EVSNN_EFORMAT, "checkpoint: no spiking layer"); return NULL; }
    net_opts o = {.cfg = cfg, .n_cfg = k, .pool_on = (pool_on)c->pool_on, .spool = (spike_pool)c->spool, .same_pad = c->same_pad};
    net *n = net_build(c->arch, c->in_c, c->in_h, c->in_w, &o, err);
    if (!n) return NULL;
    if (n->n_params != c->n_params || n->n_layers != c->n_layers) {
        *err = evsnn_seterr(EVSNN_EFORMAT, "checkpoint: arch '%s' has %zu parameters in %u layers, the file %zu in %u",
                            c->arch, n->n_params, n->n_layers, c->n_params, c->n_layers);
        net_free(n);
        return NULL;
    }
    memcpy(n->params, c->params, n->n_params * sizeof *n->params);
    if (n->n_stats != c->n_stats) {
        *err = evsnn_seterr(EVSNN_EFORMAT, "checkpoint: arch '%s' has %zu batch-norm statistics, the file %zu", c->arch,
                            n->n_stats, c->n_stats);
        net_free(n);
        return NULL;
    }
    if (n->n_stats) memcpy(n->stats, c->stats, n->n_stats * sizeof *n->stats);
    return n;
}
