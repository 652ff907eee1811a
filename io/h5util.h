/* io/h5util.h — the few HDF5 attribute operations every evsnn file format needs (model,
 * checkpoint, trace, event file), written once. HDF5 stays confined to io/.
 *
 * Writers return 0 or -1 (the caller names the file in its message); h5u_get_str returns 0,
 * or -1 when the attribute is absent, not a string, or unreadable. */
#ifndef EVSNN_IO_H5UTIL_H
#define EVSNN_IO_H5UTIL_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

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

/* The seal of model files and checkpoints. Their strings are variable-length (what h5py
 * reads as str), and those live in HDF5's global heap, which carries no checksum: a damaged
 * heap can even crash HDF5's reader. So h5u_create leaves a user block of H5U_USERBLOCK
 * bytes before the HDF5 data (HDF5 skips it; h5py and h5dump read such files), and after
 * H5Fclose h5u_seal writes into it the CRC-32 (zlib) and length of every byte after it.
 * h5u_check_seal, before HDF5 opens the file: 0 when the file has no seal (written before
 * it existed, with fixed-length strings inside the checksummed headers) or its bytes match;
 * else EVSNN_EFORMAT "<path>: corrupt <what> (...)". */
#define H5U_USERBLOCK 512
int h5u_seal(const char *path);
int h5u_check_seal(const char *path, const char *what);

/* A string attribute, fixed or variable length, into buf (truncated to len − 1); a string
 * attribute of more than one element is -1 (H5Aread would write them all). */
int h5u_get_str(hid_t loc, const char *name, char *buf, size_t len);
/* A numeric attribute of exactly n elements, converted to mtype into v (n elements): 0, or -1
 * when absent, of another element count or class, or unreadable. Never writes past v. */
int h5u_get_nums(hid_t loc, const char *name, hid_t mtype, void *v, hssize_t n);

/* ---- integrity (model and checkpoint files) ----
 * h5u_create makes a file in the HDF5 1.8 format: its superblock (version 2) and object
 * headers (version 2) carry checksums of the metadata, attributes included, which the
 * library verifies on every read. h5u_put_data writes a dataset chunked with the Fletcher-32
 * filter, verified on every read of a chunk. Attributes and links are kept in the object
 * headers (HDF5 moves more than 8 to a fractal heap, which has no checksum). Readable by HDF5 1.8 and later (h5py too). */
hid_t h5u_create(const char *path); /* truncating; < 0 on failure */
/* A group whose attributes and links all stay in its (checksummed) object header. */
hid_t h5u_group(hid_t loc, const char *name);
/* Dataset of rank dims (row-major) stored as ftype from mtype values. 0 or -1. */
int h5u_put_data(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *v, int rank, const hsize_t *dims);
/* ---- hyperslabs: a run of rows of a dataset ----
 * Rows [at, at + rows) of dataset d, 1-D (cols 0) or 2-D [rows, cols] (all columns), read
 * into buf / written from buf as mtype. The rows must lie inside d's current extent (an
 * append extends it first with H5Dset_extent). rows 0 does nothing. 0 or -1. */
int h5u_read_rows(hid_t d, hid_t mtype, hsize_t at, hsize_t rows, hsize_t cols, void *buf);
int h5u_write_rows(hid_t d, hid_t mtype, hsize_t at, hsize_t rows, hsize_t cols, const void *buf);

/* Watch the HDF5 calls of a load for damage: between begin and end, a failing HDF5 call
 * prints nothing and its error stack is looked at; damage (a metadata checksum or the
 * Fletcher-32 filter failing, a truncated file, undecodable metadata) is recorded with the
 * library's innermost message. Lives on the caller's stack; calls do not nest. */
typedef struct {
    H5E_auto2_t old_fn;
    void *old_data;
    int damage;
    char why[256];
} h5u_watch;
void h5u_watch_begin(h5u_watch *w);
void h5u_watch_end(h5u_watch *w);
/* rc unchanged when nothing was damaged; else EVSNN_EFORMAT with the message
 * "<path>: corrupt <what> (HDF5: <why>)" followed by the message already set (the field
 * that could not be read), its own "<path>: " prefix dropped. */
int h5u_corrupt(const h5u_watch *w, const char *path, const char *what, int rc);

#endif
