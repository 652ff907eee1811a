/* tests/fuzz_h5struct.c — libFuzzer harness: HDF5 files written through the HDF5 library
 * itself, structured by the input, then read by every evsnn HDF5 reader
 * (tests/fuzz_h5readers.h). Where fuzz_h5file mutates bytes (and mostly meets the library's
 * own checks), this one makes well-formed files with odd contents: the objects the readers
 * look for (names from a dictionary, in the groups they use) with any type (integers of
 * every width, floats, half precision, variable-length sequences, fixed and variable
 * strings), rank 0..3, sizes 0..8 per dimension, values from the input.
 *
 * Input: a sequence of operations, each 5 bytes then its data:
 *   kind (dataset | attribute | string attribute | group), location, name, type, shape
 *   (rank in bits 0-1, then sizes from the following bytes), then the values' bytes. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tests/fuzz_h5readers.h"
#include "tests/h5read.h"

static const char *const locs[] = {"/", "/spikes", "/layers", "/layers/0", "/layers/1", "/layers/2", "/samples",
                                   "/events", "/extra", "/net", "/data", "/data/0"};
static const char *const names[] = {
    "format", "format_version", "version", "evsnn_format", "kind", "arch", "input_shape", "pool_on", "spike_pool",
    "padding", "binarized", "steps", "dataset", "name", "pool", "pool_k", "beta", "threshold", "reset", "compare",
    "bias", "weight", "times", "units", "labels", "t", "x", "y", "p", "offset", "label", "split", "t0", "width",
    "height", "polarities", "n_classes", "source", "keys", "train_keys", "test_keys", "input", "epoch", "step", "T",
    "params", "latent", "opt_m", "opt_v", "theta", "cmp", "rng", "config", "shape", "idx", "off", "val", "n_layers",
    "in_shape", "n_samples", "same_pad", "spool", "unit", "events", "0", "1"};
static const char *const strings[] = {"evsnn-model", "evsnn-checkpoint", "evsnn-trace", "events", "xy", "unit", "shd",
                                      "dense", "conv", "pool", "none", "avg", "max", "sum", "or", "subtract", "zero",
                                      ">", ">=", "currents", "spikes", "valid", "same", "4-2", "8-4-2", "2C3-4",
                                      "10-10", ""};

typedef struct {
    const uint8_t *p;
    size_t n;
} in_t;

static uint8_t byte(in_t *in) {
    if (!in->n) return 0;
    in->n--;
    return *in->p++;
}

/* The type for code k; *vlen set for variable-length sequences (element type returned in
 * *base). Types are created here and closed by the caller. */
static hid_t make_type(uint8_t k, int *vlen, hid_t *base, int *str) {
    /* the library's predefined types are run-time ids (macros over globals): a switch */
    const hid_t ints[] = {H5T_STD_U8LE,  H5T_STD_I8LE,  H5T_STD_U16LE,  H5T_STD_I16LE,  H5T_STD_U32LE,  H5T_STD_I32LE,
                          H5T_STD_U64LE, H5T_STD_I64LE, H5T_IEEE_F32LE, H5T_IEEE_F64LE, H5T_STD_U16BE, H5T_IEEE_F64BE};
    const int ni = (int)(sizeof ints / sizeof *ints);
    *vlen = 0, *str = 0, *base = -1;
    k %= (uint8_t)(ni + 6);
    if (k < ni) return H5Tcopy(ints[k]);
    if (k == ni) return h5r_half();
    if (k <= ni + 3) {
        *vlen = 1;
        *base = H5Tcopy(k == ni + 1 ? H5T_IEEE_F64LE : k == ni + 2 ? H5T_STD_U16LE : H5T_IEEE_F32LE);
        return H5Tvlen_create(*base);
    }
    *str = 1;
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, k == ni + 4 ? 8 : H5T_VARIABLE);
    return t;
}

static hid_t group_at(hid_t f, const char *path) {
    if (!strcmp(path, "/")) return H5Gopen2(f, "/", H5P_DEFAULT);
    hid_t g = H5Lexists(f, path, H5P_DEFAULT) > 0 ? H5Oopen(f, path, H5P_DEFAULT) : -1;
    if (g >= 0) {
        if (H5Iget_type(g) == H5I_GROUP) return g;
        H5Oclose(g);
        return -1;
    }
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    g = H5Gcreate2(f, path, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    return g;
}

/* One operation; 0 when the input is used up. */
static int op(hid_t f, in_t *in) {
    if (in->n < 5) return 0;
    const uint8_t kind = byte(in) % 4;
    const char *loc = locs[byte(in) % (sizeof locs / sizeof *locs)];
    const char *name = names[byte(in) % (sizeof names / sizeof *names)];
    const uint8_t tk = byte(in), shp = byte(in);
    hid_t g = group_at(f, loc);
    if (g < 0) return 1;
    if (kind == 3) { /* a group */
        if (H5Lexists(g, name, H5P_DEFAULT) <= 0) {
            hid_t c = H5Gcreate2(g, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            if (c >= 0) H5Gclose(c);
        }
        H5Gclose(g);
        return 1;
    }
    if (kind == 2) { /* a string attribute from the dictionary */
        const char *v = strings[tk % (sizeof strings / sizeof *strings)];
        if (H5Aexists(g, name) > 0) H5Adelete(g, name);
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, strlen(v) + 1);
        hid_t sp = H5Screate(H5S_SCALAR);
        hid_t a = H5Acreate2(g, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
        if (a >= 0) H5Awrite(a, t, v), H5Aclose(a);
        H5Sclose(sp), H5Tclose(t), H5Gclose(g);
        return 1;
    }
    int rank = shp & 3, vlen, str;
    hsize_t dims[3] = {1, 1, 1}, total = 1;
    for (int i = 0; i < rank; i++) dims[i] = byte(in) % 9, total *= dims[i];
    hid_t base, t = make_type(tk, &vlen, &base, &str);
    const size_t esz = vlen ? H5Tget_size(base) : str ? 0 : H5Tget_size(t);
    /* values: fixed-size types take their bytes straight from the input; sequences get a
     * length (0..4) and then their elements; strings a length (0..7) and their characters */
    void *buf = NULL;
    hvl_t *vl = NULL;
    char **vs = NULL, *fs = NULL;
    if (vlen) {
        vl = calloc(total ? total : 1, sizeof *vl);
        for (hsize_t i = 0; i < total; i++) {
            vl[i].len = byte(in) % 5;
            vl[i].p = calloc(vl[i].len ? vl[i].len : 1, esz);
            for (size_t j = 0; j < vl[i].len * esz; j++) ((uint8_t *)vl[i].p)[j] = byte(in);
        }
        buf = vl;
    } else if (str) {
        if (H5Tis_variable_str(t) > 0) {
            vs = calloc(total ? total : 1, sizeof *vs);
            for (hsize_t i = 0; i < total; i++) {
                size_t l = byte(in) % 8;
                vs[i] = calloc(l + 1, 1);
                for (size_t j = 0; j < l; j++) vs[i][j] = (char)(byte(in) | 1);
            }
            buf = vs;
        } else {
            fs = calloc(total ? total * 8 : 1, 1);
            for (size_t j = 0; j < total * 8; j++) fs[j] = (char)byte(in);
            buf = fs;
        }
    } else {
        buf = calloc(total ? total : 1, esz);
        for (size_t j = 0; j < total * esz; j++) ((uint8_t *)buf)[j] = byte(in);
    }
    hid_t sp = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
    if (kind == 0) {
        if (H5Lexists(g, name, H5P_DEFAULT) > 0) H5Ldelete(g, name, H5P_DEFAULT);
        hid_t d = H5Dcreate2(g, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (d >= 0) H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), H5Dclose(d);
    } else {
        if (H5Aexists(g, name) > 0) H5Adelete(g, name);
        hid_t a = H5Acreate2(g, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
        if (a >= 0) H5Awrite(a, t, buf), H5Aclose(a);
    }
    if (vl)
        for (hsize_t i = 0; i < total; i++) free(vl[i].p);
    if (vs)
        for (hsize_t i = 0; i < total; i++) free(vs[i]);
    free(buf);
    H5Sclose(sp);
    H5Tclose(t);
    if (base >= 0) H5Tclose(base);
    H5Gclose(g);
    return 1;
}

/* HDF5 allocates a variable-length sequence for the length the file claims (15 GB seen,
 * inside H5T__conv_vlen, before any allocator of the caller's): above 512 MiB it gets NULL
 * and the read fails (fuzz_util.h). */
FUZZ_ALLOW_HUGE_ALLOCATIONS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/evsnn-fuzz-h5s-%ld.h5", (long)getpid());
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return 0;
    in_t in = {data, size};
    for (int k = 0; k < 64 && op(f, &in); k++) {
    }
    H5Fclose(f);
    fuzz_h5_all(path);
    return 0;
}
