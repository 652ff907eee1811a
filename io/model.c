/* io/model.c — model files in HDF5 (see model.h; layout in README "Model file"). */
#include "model.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/h5util.h"
#include "io/replace.h"
#include "sim/evsnn.h"

static int put_data(hid_t loc, const char *name, const float *v, int rank, const hsize_t *dims) {
    return h5u_put_data(loc, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, v, rank, dims);
}

static const char *pool_name(pool_kind p) {
    static const char *n[] = {"none", "avg", "max", "sum"};
    return n[p];
}

int model_save(const char *path, const net *n, const model_meta *meta) {
    h5u_quiet();
    model_meta m0 = {0};
    if (!meta) meta = &m0;
    char tmp[4096 + REPLACE_TMP_EXTRA];
    int rc = replace_tmpname(tmp, sizeof tmp, path);
    if (rc) return rc;
    hid_t f = h5u_create(tmp); /* metadata checksums; datasets with Fletcher-32 (put_data) */
    if (f < 0) return evsnn_seterr(EVSNN_EIO, "%s: cannot create (directory missing or not writable?)", tmp);
    int bad = 0;
    long long shape[3] = {n->in_c, n->in_h, n->in_w};
    bad |= h5u_put_str(f, "format", "evsnn-model");
    bad |= h5u_put_i64(f, "format_version", MODEL_FORMAT_VERSION);
    bad |= h5u_put_str(f, "arch", n->arch);
    bad |= h5u_put_attr(f, "input_shape", H5T_STD_I64LE, H5T_NATIVE_LLONG, shape, 3);
    bad |= h5u_put_str(f, "pool_on", meta->pool_on == POOL_ON_SPIKES ? "spikes" : "currents");
    bad |= h5u_put_str(f, "spike_pool", meta->spool == SPOOL_SUM ? "sum" : "or");
    bad |= h5u_put_str(f, "padding", meta->same_pad ? "same" : "valid");
    bad |= h5u_put_i64(f, "binarized", meta->binarized);
    bad |= h5u_put_i64(f, "steps", meta->steps);
    bad |= h5u_put_str(f, "dataset", meta->dataset);
    hid_t g = h5u_group(f, "layers");
    bad |= g < 0;
    for (uint32_t l = 0; l < n->n_layers && !bad; l++) {
        const net_layer *L = &n->layers[l];
        char name[32];
        snprintf(name, sizeof name, "%u", l);
        hid_t lg = h5u_group(g, name);
        if (lg < 0) { bad = 1; break; }
        static const char *kinds[] = {"dense", "conv", "pool"};
        bad |= h5u_put_str(lg, "name", L->name);
        bad |= h5u_put_str(lg, "kind", kinds[L->kind]);
        bad |= h5u_put_str(lg, "pool", pool_name(L->pool));
        bad |= h5u_put_i64(lg, "pool_k", L->pool_k);
        if (L->kind != NET_POOL) {
            bad |= h5u_put_f64(lg, "beta", L->nc.beta);
            bad |= h5u_put_f64(lg, "threshold", L->nc.theta);
            bad |= h5u_put_str(lg, "reset", net_reset_name(L->nc.reset));
            bad |= h5u_put_str(lg, "compare", L->nc.cmp == CMP_GE ? ">=" : ">");
            bad |= h5u_put_i64(lg, "bias", L->nc.bias);
            /* unit and axes for readers that know nothing of evsnn (h5py, h5dump) */
            const char *wunit = "membrane current added per input spike (threshold units)";
            if (L->kind == NET_DENSE) {
                hsize_t d[2] = {L->n_in, L->n_out};
                bad |= put_data(lg, "weight", L->w, 2, d);
                bad |= h5u_describe(lg, "weight", wunit, "input, output (a row per input: what its spike adds; the "
                                                         "transpose of PyTorch's Linear.weight)");
            } else {
                hsize_t d[4] = {L->out_c, L->in_c, L->k, L->k};
                bad |= put_data(lg, "weight", L->w, 4, d);
                bad |= h5u_describe(lg, "weight", wunit, "out_channel, in_channel, kernel_row, kernel_column "
                                                         "(PyTorch's Conv2d.weight)");
            }
            if (L->b) {
                hsize_t d = L->n_b;
                bad |= put_data(lg, "bias", L->b, 1, &d);
                bad |= h5u_describe(lg, "bias", "membrane current added every step (threshold units)",
                                    "output channel");
            }
            /* version 2: batch normalisation (PyTorch's names) and per-channel thresholds */
            hsize_t dc = L->out_c;
            if (L->bn) {
                bad |= h5u_put_f64(lg, "bn_momentum", L->bn_momentum);
                bad |= h5u_put_f64(lg, "bn_eps", NET_BN_EPS);
                bad |= put_data(lg, "bn_weight", L->bn_g, 1, &dc);
                bad |= put_data(lg, "bn_bias", L->bn_b, 1, &dc);
                bad |= put_data(lg, "bn_running_mean", L->bn_mean, 1, &dc);
                bad |= put_data(lg, "bn_running_var", L->bn_var, 1, &dc);
                bad |= h5u_describe(lg, "bn_weight", "scale (gamma)", "channel") |
                       h5u_describe(lg, "bn_bias", "shift (beta), membrane current", "channel") |
                       h5u_describe(lg, "bn_running_mean", "membrane current", "channel") |
                       h5u_describe(lg, "bn_running_var", "membrane current squared", "channel");
            }
            if (L->theta_c) {
                bad |= put_data(lg, "threshold_per_channel", L->theta_c, 1, &dc);
                bad |= h5u_describe(lg, "threshold_per_channel", "firing threshold", "channel");
            }
        }
        H5Gclose(lg);
    }
    if (g >= 0) H5Gclose(g);
    if (H5Fclose(f) < 0) bad = 1;
    if (!bad) bad |= h5u_seal(tmp) != 0; /* the checksum of every byte, strings included */
    if (bad) {
        replace_discard(tmp);
        return evsnn_seterr(EVSNN_EIO, "%s: writing the model failed (disk full?)", path);
    }
    return replace_commit(tmp, path);
}

/* Read a string attribute into buf; EVSNN_EFORMAT naming the field if absent or not text. */
static int get_str(hid_t loc, const char *path, const char *obj, const char *name, char *buf, size_t len) {
    if (H5Aexists(loc, name) <= 0)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: %s: attribute '%s' is missing", path, obj, name);
    if (h5u_get_str(loc, name, buf, len))
        return evsnn_seterr(EVSNN_EFORMAT, "%s: %s: attribute '%s' is not a readable string", path, obj, name);
    return 0;
}

/* Read a numeric attribute of n elements as double. */
static int get_nums(hid_t loc, const char *path, const char *obj, const char *name, double *v, hssize_t n) {
    if (H5Aexists(loc, name) <= 0)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: %s: attribute '%s' is missing", path, obj, name);
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t sp = H5Aget_space(a);
    hid_t ft = H5Aget_type(a);
    int rc = 0;
    H5T_class_t cl = H5Tget_class(ft);
    if ((cl != H5T_INTEGER && cl != H5T_FLOAT) || H5Sget_simple_extent_npoints(sp) != n)
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: %s: attribute '%s' should be %lld number(s)", path, obj, name, (long long)n);
    else if (H5Aread(a, H5T_NATIVE_DOUBLE, v) < 0)
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: %s: cannot read '%s'", path, obj, name);
    H5Tclose(ft);
    H5Sclose(sp);
    H5Aclose(a);
    return rc;
}

/* Read dataset `name` of exactly the dims the network expects into dst. */
static int get_data(hid_t loc, const char *path, const char *obj, const char *name, float *dst, int rank,
                    const hsize_t *want) {
    if (H5Lexists(loc, name, H5P_DEFAULT) <= 0)
        return evsnn_seterr(EVSNN_EFORMAT, "%s: %s/%s: dataset is missing", path, obj, name);
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0) return evsnn_seterr(EVSNN_EFORMAT, "%s: %s/%s: not a dataset", path, obj, name);
    hid_t sp = H5Dget_space(d);
    hsize_t dims[8] = {0};
    int r = H5Sget_simple_extent_ndims(sp);
    int rc = 0;
    if (r == rank && r <= 8) H5Sget_simple_extent_dims(sp, dims, NULL);
    int same = r == rank;
    for (int i = 0; same && i < rank; i++) same = dims[i] == want[i];
    if (!same) {
        char w[96] = "", g[96] = "";
        for (int i = 0; i < rank; i++) snprintf(w + strlen(w), sizeof w - strlen(w), "%s%llu", i ? "x" : "", (unsigned long long)want[i]);
        for (int i = 0; i < r && i < 8; i++) snprintf(g + strlen(g), sizeof g - strlen(g), "%s%llu", i ? "x" : "", (unsigned long long)dims[i]);
        rc = evsnn_seterr(EVSNN_ESHAPE, "%s: %s/%s: shape %s, but the architecture needs %s", path, obj, name, g, w);
    } else if (H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst) < 0) {
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: %s/%s: cannot read as float", path, obj, name);
    }
    H5Sclose(sp);
    H5Dclose(d);
    return rc;
}

static net *load(const char *path, model_meta *meta, int *err);

/* Every HDF5 call of the load is watched: a read that fails on a checksum or a cut file is
 * reported as a corrupt file, not as a missing field. */
net *model_load(const char *path, model_meta *meta, int *err) {
    h5u_quiet();
    h5u_watch w;
    h5u_watch_begin(&w);
    net *n = load(path, meta, err);
    h5u_watch_end(&w);
    if (!n) *err = h5u_corrupt(&w, path, "model file", *err);
    return n;
}

static net *load(const char *path, model_meta *meta, int *err) {
    model_meta m = {0};
    net *n = NULL;
    hid_t g = -1, f = -1;
    if (access(path, R_OK) != 0) { *err = evsnn_seterr(EVSNN_EIO, "%s: cannot read the model file", path); return NULL; }
    /* every byte against the seal first: HDF5 does not survive every damaged file */
    if ((*err = h5u_check_seal(path, "model file"))) return NULL;
    if (H5Fis_hdf5(path) <= 0) { *err = evsnn_seterr(EVSNN_EFORMAT, "%s: not an HDF5 file (expected an evsnn model)", path); return NULL; }
    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) { *err = evsnn_seterr(EVSNN_EIO, "%s: cannot open", path); return NULL; }
    char s[256];
    double v[3];
    if ((*err = get_str(f, path, "/", "format", s, sizeof s))) goto fail;
    if (strcmp(s, "evsnn-model")) {
        *err = evsnn_seterr(EVSNN_EFORMAT, "%s: /: format is '%s', expected 'evsnn-model'", path, s);
        goto fail;
    }
    if ((*err = get_nums(f, path, "/", "format_version", v, 1))) goto fail;
    if (v[0] > MODEL_FORMAT_VERSION) {
        *err = evsnn_seterr(EVSNN_EVERSION, "%s: /: format_version %g is newer than this evsnn reads (%d): upgrade evsnn",
                            path, v[0], MODEL_FORMAT_VERSION);
        goto fail;
    }
    if (v[0] < 1) { *err = evsnn_seterr(EVSNN_EFORMAT, "%s: /: format_version %g is not valid", path, v[0]); goto fail; }
    char arch[256];
    if ((*err = get_str(f, path, "/", "arch", arch, sizeof arch))) goto fail;
    if ((*err = get_nums(f, path, "/", "input_shape", v, 3))) goto fail;
    if (!(v[0] >= 1 && v[1] >= 1 && v[2] >= 1 && v[0] < 1e7 && v[1] < 1e5 && v[2] < 1e5)) {
        *err = evsnn_seterr(EVSNN_EFORMAT, "%s: /: input_shape %gx%gx%g is not a valid shape", path, v[0], v[1], v[2]);
        goto fail;
    }
    uint32_t ic = (uint32_t)v[0], ih = (uint32_t)v[1], iw = (uint32_t)v[2];
    if ((*err = get_str(f, path, "/", "pool_on", s, sizeof s))) goto fail;
    if (strcmp(s, "currents") && strcmp(s, "spikes")) {
        *err = evsnn_seterr(EVSNN_EFORMAT, "%s: /: pool_on '%s', expected currents or spikes", path, s);
        goto fail;
    }
    m.pool_on = strcmp(s, "spikes") ? POOL_ON_CURRENTS : POOL_ON_SPIKES;
    if ((*err = get_str(f, path, "/", "spike_pool", s, sizeof s))) goto fail;
    m.spool = strcmp(s, "sum") ? SPOOL_OR : SPOOL_SUM;
    if ((*err = get_str(f, path, "/", "padding", s, sizeof s))) goto fail;
    m.same_pad = !strcmp(s, "same");
    if (!get_nums(f, path, "/", "binarized", v, 1)) m.binarized = v[0] != 0;
    if (!get_nums(f, path, "/", "steps", v, 1)) m.steps = v[0] > 0 && v[0] < 1e9 ? (uint32_t)v[0] : 0;
    if (get_str(f, path, "/", "dataset", m.dataset, sizeof m.dataset)) m.dataset[0] = 0;
    evsnn_clearerr();

    /* Neuron settings per spiking layer, in order. */
    g = H5Gopen2(f, "layers", H5P_DEFAULT);
    if (g < 0) { *err = evsnn_seterr(EVSNN_EFORMAT, "%s: group /layers is missing", path); goto fail; }
    hsize_t nlinks = 0;
    H5Gget_num_objs(g, &nlinks);
    neuron_cfg cfg[64];
    uint32_t ncfg = 0;
    for (hsize_t l = 0; l < nlinks && l < 64; l++) {
        char name[32], obj[64];
        snprintf(name, sizeof name, "%llu", (unsigned long long)l);
        snprintf(obj, sizeof obj, "/layers/%s", name);
        if (H5Lexists(g, name, H5P_DEFAULT) <= 0) {
            *err = evsnn_seterr(EVSNN_EFORMAT, "%s: %s is missing (layers are numbered from 0)", path, obj);
            goto fail;
        }
        hid_t lg = H5Gopen2(g, name, H5P_DEFAULT);
        if ((*err = get_str(lg, path, obj, "kind", s, sizeof s))) { H5Gclose(lg); goto fail; }
        if (!strcmp(s, "pool")) { H5Gclose(lg); continue; }
        neuron_cfg *c = &cfg[ncfg];
        *c = net_default_neuron();
        double x;
        int rc = get_nums(lg, path, obj, "beta", &x, 1);
        c->beta = (float)x;
        if (!rc) { rc = get_nums(lg, path, obj, "threshold", &x, 1); c->theta = (float)x; }
        if (!rc) { rc = get_nums(lg, path, obj, "bias", &x, 1); c->bias = x != 0; }
        if (!rc) rc = get_str(lg, path, obj, "reset", s, sizeof s);
        if (!rc && net_reset_parse(s, &c->reset))
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: %s: reset '%s' is not subtract, zero, none, subtract-pre or zero-drop", path, obj, s);
        if (!rc) rc = get_str(lg, path, obj, "compare", s, sizeof s);
        if (!rc) {
            if (!strcmp(s, ">")) c->cmp = CMP_GT;
            else if (!strcmp(s, ">=")) c->cmp = CMP_GE;
            else rc = evsnn_seterr(EVSNN_EFORMAT, "%s: %s: compare '%s', expected > or >=", path, obj, s);
        }
        if (!rc && net_check_neuron(c, obj)) {
            char msg[512]; /* copy first: the message buffer is also the destination */
            snprintf(msg, sizeof msg, "%s", evsnn_errmsg());
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: %s", path, msg);
        }
        H5Gclose(lg);
        if ((*err = rc)) goto fail;
        ncfg++;
    }
    if (ncfg == 0) { *err = evsnn_seterr(EVSNN_EFORMAT, "%s: /layers holds no spiking layer", path); goto fail; }
    net_opts o = {.cfg = cfg, .n_cfg = ncfg, .pool_on = m.pool_on, .spool = m.spool, .same_pad = m.same_pad};
    n = net_build(arch, ic, ih, iw, &o, err);
    if (!n) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", evsnn_errmsg());
        *err = evsnn_seterr(*err, "%s: /: %s", path, msg);
        goto fail;
    }
    if (net_n_spiking(n) != ncfg || n->n_layers != nlinks) {
        *err = evsnn_seterr(EVSNN_EFORMAT, "%s: /layers has %llu layers (%u spiking), the architecture '%s' makes %u (%u)", path,
                            (unsigned long long)nlinks, ncfg, arch, n->n_layers, net_n_spiking(n));
        goto fail;
    }
    for (uint32_t l = 0; l < n->n_layers; l++) {
        net_layer *L = &n->layers[l];
        if (L->kind == NET_POOL) continue;
        char obj[64];
        snprintf(obj, sizeof obj, "/layers/%u", l);
        hid_t lg = H5Gopen2(f, obj, H5P_DEFAULT);
        int rc;
        if (L->kind == NET_DENSE) {
            hsize_t d[2] = {L->n_in, L->n_out};
            rc = get_data(lg, path, obj, "weight", L->w, 2, d);
        } else {
            hsize_t d[4] = {L->out_c, L->in_c, L->k, L->k};
            rc = get_data(lg, path, obj, "weight", L->w, 4, d);
        }
        if (!rc && L->b) {
            hsize_t d = L->n_b;
            rc = get_data(lg, path, obj, "bias", L->b, 1, &d);
        }
        hsize_t dc = L->out_c;
        if (!rc && L->bn) { /* the architecture says BN: version 2 holds its parameters and state */
            rc = get_data(lg, path, obj, "bn_weight", L->bn_g, 1, &dc);
            if (!rc) rc = get_data(lg, path, obj, "bn_bias", L->bn_b, 1, &dc);
            if (!rc) rc = get_data(lg, path, obj, "bn_running_mean", L->bn_mean, 1, &dc);
            if (!rc) rc = get_data(lg, path, obj, "bn_running_var", L->bn_var, 1, &dc);
            double m = NET_BN_MOMENTUM; /* absent: PyTorch's */
            if (!rc && H5Aexists(lg, "bn_momentum") > 0 &&
                (h5u_get_nums(lg, "bn_momentum", H5T_NATIVE_DOUBLE, &m, 1) || !(m > 0.0 && m <= 1.0)))
                rc = evsnn_seterr(EVSNN_EFORMAT, "%s: %s attribute bn_momentum: expected one number in (0, 1]", path, obj);
            L->bn_momentum = (float)m;
            for (uint32_t c = 0; !rc && c < L->out_c; c++)
                if (!(L->bn_var[c] >= 0.0f) || !isfinite(L->bn_mean[c]) || !isfinite(L->bn_var[c]))
                    rc = evsnn_seterr(EVSNN_EFORMAT, "%s: %s/bn_running_var[%u]: %g is not a variance (mean %g)", path, obj,
                                      c, (double)L->bn_var[c], (double)L->bn_mean[c]);
        }
        if (!rc && H5Lexists(lg, "threshold_per_channel", H5P_DEFAULT) > 0) {
            if (!(L->theta_c = malloc(L->out_c * sizeof *L->theta_c))) rc = evsnn_seterr(EVSNN_ENOMEM, "%s: no memory", path);
            else rc = get_data(lg, path, obj, "threshold_per_channel", L->theta_c, 1, &dc);
            for (uint32_t c = 0; !rc && c < L->out_c; c++)
                if (!(L->theta_c[c] > 0.0f) || !isfinite(L->theta_c[c]))
                    rc = evsnn_seterr(EVSNN_EFORMAT, "%s: %s/threshold_per_channel[%u]: %g must be > 0 and finite", path,
                                      obj, c, (double)L->theta_c[c]);
        }
        H5Gclose(lg);
        if ((*err = rc)) goto fail;
    }
    for (size_t i = 0; i < n->n_params; i++)
        if (!(n->params[i] == n->params[i]) || n->params[i] > 3.4e38f || n->params[i] < -3.4e38f) {
            *err = evsnn_seterr(EVSNN_ENUMERIC, "%s: parameter %zu is NaN or Inf", path, i);
            goto fail;
        }
    H5Gclose(g);
    H5Fclose(f);
    if (meta) *meta = m;
    *err = 0;
    return n;
fail:
    net_free(n);
    if (g >= 0) H5Gclose(g);
    if (f >= 0) H5Fclose(f);
    return NULL;
}
