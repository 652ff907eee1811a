/* tests/nir_h5.h — the few plain HDF5 calls with which tests/test_nir.c and tests/fuzz_nir.c
 * write NIR files themselves, independently of io/nir.c: datasets as h5py makes them (rank 0
 * is a scalar dataspace) and strings as nir.write stores them (variable-length UTF-8). */
#ifndef EVSNN_TESTS_NIR_H5_H
#define EVSNN_TESTS_NIR_H5_H

#include <hdf5.h>

static inline hid_t nirh5_vlen(void) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

/* Dataset `name` of file type ft from memory type mt: 0, or -1 if HDF5 refused. */
static inline int nirh5_put(hid_t g, const char *name, hid_t ft, hid_t mt, int rank, const hsize_t *dims, const void *v) {
    hid_t sp = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t d = H5Dcreate2(g, name, ft, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = d < 0 || H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0 ? -1 : 0;
    if (d >= 0) H5Dclose(d);
    H5Sclose(sp);
    return rc;
}

static inline int nirh5_str(hid_t g, const char *name, const char *s) {
    hid_t t = nirh5_vlen();
    int rc = nirh5_put(g, name, t, t, 0, NULL, &s);
    H5Tclose(t);
    return rc;
}

#endif
