/* tests/h5read.h — read whole datasets of the snnTorch reference files (tests only).
 * Independent of io/: the reference vectors are read straight through the HDF5 library. */
#ifndef EVSNN_TEST_H5READ_H
#define EVSNN_TEST_H5READ_H

#include <hdf5.h>
#include <stdlib.h>

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

#endif
