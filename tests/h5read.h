/* tests/h5read.h — HDF5 helpers of the tests: read whole datasets of the snnTorch reference
 * files, and the half-precision type fixtures are written with. Independent of io/: all
 * straight through the HDF5 library. */
#ifndef EVSNN_TEST_H5READ_H
#define EVSNN_TEST_H5READ_H

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/net.h"
#include "sim/spk.h"

/* IEEE half precision as an HDF5 type: 1 sign, 5 exponent (bias 15), 10 mantissa bits
 * (SHD stores its times so). Close it with H5Tclose. */
static inline hid_t h5r_half(void) {
    hid_t h = H5Tcopy(H5T_IEEE_F32LE);
    H5Tset_fields(h, 15, 10, 5, 0, 10);
    H5Tset_precision(h, 16);
    H5Tset_size(h, 2);
    H5Tset_ebias(h, 15);
    return h;
}

/* Read dataset `name` of `path` converted to float; returns a malloc'd array and its
 * element count in *n, or NULL. */
static inline float *h5r_floats(const char *path, const char *name, size_t *n) {
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return NULL;
    float *buf = NULL;
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d >= 0) {
        hid_t sp = H5Dget_space(d);
        hssize_t cnt = H5Sget_simple_extent_npoints(sp);
        buf = malloc((size_t)(cnt > 0 ? cnt : 1) * sizeof *buf);
        if (buf && H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) { free(buf); buf = NULL; }
        *n = (size_t)cnt;
        H5Sclose(sp);
        H5Dclose(d);
    }
    H5Fclose(f);
    return buf;
}

/* Scalar attribute of the root group as double (0 if absent). */
static inline double h5r_attr(const char *path, const char *name) {
    double v = 0;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return 0;
    if (H5Aexists(f, name) > 0) {
        hid_t a = H5Aopen(f, name, H5P_DEFAULT);
        H5Aread(a, H5T_NATIVE_DOUBLE, &v);
        H5Aclose(a);
    }
    H5Fclose(f);
    return v;
}

/* Load the dense layers of a reference file into n: datasets <prefix>W1, <prefix>b1, ... in
 * PyTorch's Linear layout [out, in], transposed to evsnn's [in, out]. 0, or -1 if one is
 * missing or of the wrong size. */
static inline int h5r_load_linear(net *n, const char *path, const char *prefix) {
    for (uint32_t l = 0; l < n->n_layers; l++) {
        net_layer *L = &n->layers[l];
        char name[64];
        size_t k = 0, kb = 0;
        snprintf(name, sizeof name, "%sW%u", prefix, l + 1);
        float *W = h5r_floats(path, name, &k);
        snprintf(name, sizeof name, "%sb%u", prefix, l + 1);
        float *b = h5r_floats(path, name, &kb);
        int ok = W && b && k == (size_t)L->n_in * L->n_out && kb == L->n_out && L->b;
        if (ok) {
            for (uint32_t j = 0; j < L->n_out; j++)
                for (uint32_t i = 0; i < L->n_in; i++) L->w[(size_t)i * L->n_out + j] = W[(size_t)j * L->n_in + i];
            memcpy(L->b, b, L->n_out * sizeof *b);
        }
        free(W);
        free(b);
        if (!ok) return -1;
    }
    return 0;
}

/* Sample b of a time-major [T, B, n] input raster as a spike train. */
static inline int h5r_sample_train(spk_train *s, const float *x, uint32_t T, uint32_t B, uint32_t n, uint32_t b) {
    float *xb = malloc((size_t)T * n * sizeof *xb);
    if (!xb) return -1;
    for (uint32_t t = 0; t < T; t++) memcpy(xb + (size_t)t * n, x + ((size_t)t * B + b) * n, n * sizeof *x);
    int rc = spk_from_dense(s, xb, T, n, 0);
    free(xb);
    return rc;
}

#endif
