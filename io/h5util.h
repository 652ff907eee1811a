/* io/h5util.h — the few HDF5 attribute operations every evsnn file format needs (model,
 * checkpoint, trace, event file), written once. HDF5 stays confined to io/.
 *
 * Writers return 0 or -1 (the caller names the file in its message); h5u_get_str returns 0,
 * or -1 when the attribute is absent, not a string, or unreadable. */
#ifndef EVSNN_IO_H5UTIL_H
#define EVSNN_IO_H5UTIL_H

#include <hdf5.h>
#include <stddef.h>

/* Turn off HDF5's own error-stack printing: evsnn reports errors itself. */
void h5u_quiet(void);

/* Attribute `name` of n values (n == 1: scalar) stored as ftype, written from mtype. */
int h5u_put_attr(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *v, hsize_t n);
/* A string attribute, variable-length UTF-8 (what h5py returns as str, not bytes). */
int h5u_put_str(hid_t loc, const char *name, const char *s);
int h5u_put_i64(hid_t loc, const char *name, long long v);
int h5u_put_f64(hid_t loc, const char *name, double v);

/* Say what a dataset holds, for readers that know nothing of evsnn: string attributes
 * `unit` (of each value) and `axes` (what each axis is, outermost first), on the dataset
 * `name` under loc. NULL skips one. 0 or -1. */
int h5u_describe(hid_t loc, const char *name, const char *unit, const char *axes);

/* A string attribute, fixed or variable length, into buf (truncated to len − 1). */
int h5u_get_str(hid_t loc, const char *name, char *buf, size_t len);

#endif
