/* io/h5util.c — shared HDF5 attribute helpers (see h5util.h). */
#include "h5util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void h5u_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

int h5u_put_attr(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *v, hsize_t n) {
    hid_t sp = n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, NULL);
    hid_t a = H5Acreate2(loc, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Awrite(a, mtype, v);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return rc < 0 ? -1 : 0;
}

int h5u_put_str(hid_t loc, const char *name, const char *s) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    if (H5Aexists(loc, name) > 0) H5Adelete(loc, name);
    int rc = h5u_put_attr(loc, name, t, t, &s, 1);
    H5Tclose(t);
    return rc;
}

int h5u_describe(hid_t loc, const char *name, const char *unit, const char *axes) {
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0) return -1;
    int rc = (unit ? h5u_put_str(d, "unit", unit) : 0) | (axes ? h5u_put_str(d, "axes", axes) : 0);
    H5Dclose(d);
    return rc;
}

int h5u_put_i64(hid_t loc, const char *name, long long v) {
    return h5u_put_attr(loc, name, H5T_STD_I64LE, H5T_NATIVE_LLONG, &v, 1);
}

int h5u_put_f64(hid_t loc, const char *name, double v) {
    return h5u_put_attr(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v, 1);
}

int h5u_get_str(hid_t loc, const char *name, char *buf, size_t len) {
    if (len) buf[0] = 0;
    if (H5Aexists(loc, name) <= 0) return -1;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return -1;
    hid_t ft = H5Aget_type(a);
    int rc = -1;
    if (H5Tget_class(ft) == H5T_STRING) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_cset(mt, H5Tget_cset(ft)); /* HDF5 converts no character set into another */
        if (H5Tis_variable_str(ft) > 0) {
            char *v = NULL;
            H5Tset_size(mt, H5T_VARIABLE);
            if (H5Aread(a, mt, &v) >= 0 && v) { snprintf(buf, len, "%s", v); rc = 0; }
            if (v) H5free_memory(v);
        } else {
            size_t w = H5Tget_size(ft);
            char *v = calloc(w + 1, 1);
            H5Tset_size(mt, w + 1);
            if (v && H5Aread(a, mt, v) >= 0) { snprintf(buf, len, "%s", v); rc = 0; }
            free(v);
        }
        H5Tclose(mt);
    }
    H5Tclose(ft);
    H5Aclose(a);
    return rc;
}
