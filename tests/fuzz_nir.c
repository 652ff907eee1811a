/* tests/fuzz_nir.c — libFuzzer harness over the NIR importer (io/nir.h).
 *
 * libhdf5's own parser is not hardened against hostile bytes (see io/README.md), so the
 * input does not become the HDF5 file itself: it drives a generator that writes a
 * well-formed HDF5 file with hostile NIR contents — any node types (known, unmapped,
 * unknown), parameters of any name, dtype (float32/64, int32/64, string), rank and size,
 * values from a table of awkward numbers (0, −0, NaN, ±Inf, 1e±38, dt itself), edges to
 * missing nodes, duplicated, cyclic or malformed (wrong type or columns), metadata of
 * evsnn's own keys — starting either from nothing or from a valid dense or conv chain
 * whose pieces the input then perturbs. Every file goes through nir_read, nir_topo_order
 * and nir_to_net; what imports must validate, export again, and read back. Errors must be
 * negative codes with a message, never a crash, leak or undefined behaviour. */
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/nir.h"
#include "sim/evsnn.h"
#include "tests/nir_h5.h"

typedef struct {
    const uint8_t *p;
    size_t n, i;
} bytes;

static unsigned u8(bytes *b) { return b->i < b->n ? b->p[b->i++] : 0; }

/* Another perturbation? Throughout, a 0 byte (and a used-up input) keeps the template as it
 * is, so that short inputs and zero runs still reach the mapping and the export. */
static int more(bytes *b) { return b->i < b->n && u8(b) % 8 == 7; }

static const double VALS[] = {0.0, 1.0, -1.0, 0.5, 2.0, 1e-4, 2e-4, 4e-4, 1e-3, 0.25, -0.0, 3.0, 1e30, 1e-38, 12.0, 100.0};

static double val(bytes *b) {
    unsigned k = u8(b);
    if (k == 255) return NAN;
    if (k == 254) return INFINITY;
    if (k == 253) return -INFINITY;
    return VALS[k % (sizeof VALS / sizeof *VALS)] * (k & 0x80 ? -1 : 1);
}

/* Writing can fail here (a duplicate name the input picked): the file is then what it is. */
static void put(hid_t g, const char *name, hid_t ft, hid_t mt, int rank, const hsize_t *d, const void *v) {
    (void)nirh5_put(g, name, ft, mt, rank, d, v);
}
static void put_str(hid_t g, const char *name, const char *s) { (void)nirh5_str(g, name, s); }
static void put_scalar(hid_t g, const char *name, hid_t ft, double x) { put(g, name, ft, H5T_NATIVE_DOUBLE, 0, NULL, &x); }

/* Numbers v[n] under one of five dtypes; dims of the given rank. */
static void put_nums(hid_t g, const char *name, unsigned dt, int rank, const hsize_t *d, const double *v, size_t n) {
    if (dt % 5 == 4) { put_str(g, name, n && v[0] > 0 ? "same" : "valid"); return; }
    if (dt % 5 == 2 || dt % 5 == 3) {
        long long *iv = malloc((n ? n : 1) * sizeof *iv);
        for (size_t i = 0; i < n; i++) iv[i] = isfinite(v[i]) && fabs(v[i]) < 1e15 ? (long long)v[i] : 7;
        put(g, name, dt % 5 == 2 ? H5T_STD_I64LE : H5T_STD_I32LE, H5T_NATIVE_LLONG, rank, d, iv);
        free(iv);
    } else
        put(g, name, dt % 5 == 0 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, rank, d, v);
}

/* A parameter from the input: any name, dtype, rank (dims 0..5), values. */
static void fuzz_param(hid_t g, bytes *b) {
    static const char *names[] = {"weight", "bias", "tau", "r", "v_leak", "v_threshold", "v_reset", "shape", "kernel_size",
                                  "stride", "padding", "dilation", "groups", "input_shape", "start_dim", "end_dim", "input_type",
                                  "tau_syn", "tau_mem", "w_in", "extra"};
    const char *name = names[u8(b) % (sizeof names / sizeof *names)];
    unsigned dt = u8(b);
    int rank = (int)(u8(b) % 5);
    hsize_t d[4];
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= (d[i] = u8(b) % 6);
    double v[625];
    for (size_t i = 0; i < n; i++) v[i] = val(b);
    if (H5Lexists(g, name, H5P_DEFAULT) > 0) H5Ldelete(g, name, H5P_DEFAULT);
    put_nums(g, name, dt, rank, d, v, n);
}

static hid_t node(hid_t nodes, const char *name, const char *type) {
    if (H5Lexists(nodes, name, H5P_DEFAULT) > 0) return -1;
    hid_t g = H5Gcreate2(nodes, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g >= 0 && type) put_str(g, "type", type);
    return g;
}

static void arr(hid_t g, const char *name, int rank, const hsize_t *d, double fill, bytes *b) {
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= d[i];
    double *v = malloc((n ? n : 1) * sizeof *v);
    /* Mostly the template's value (exactly it once the input is used up), scaled a little,
     * offset by k/64, or one of the awkward numbers. */
    for (size_t i = 0; i < n; i++) {
        unsigned k = u8(b);
        v[i] = (k & 7) == 7 ? val(b) : fill * (1.0 + (double)(k >> 3) / 64.0) + ((k & 7) == 6 ? (double)(k >> 3) / 64.0 : 0.0);
    }
    put_nums(g, name, u8(b) % 16 == 0 ? u8(b) : 0, rank, d, v, n);
    free(v);
}

static void ints(hid_t g, const char *name, int n, const long long *v) {
    hsize_t d[1] = {(hsize_t)n};
    put(g, name, H5T_STD_I64LE, H5T_NATIVE_LLONG, n ? 1 : 0, d, v);
}

/* LIF per neuron or scalar, with optional perturbations. */
static void lif(hid_t nodes, const char *name, hsize_t n, bytes *b) {
    static const char *types[] = {"LIF", "LIF", "LIF", "IF", "CubaLIF", "LI"};
    hid_t g = node(nodes, name, types[u8(b) % 6]);
    if (g < 0) return;
    int rank = u8(b) & 1;
    hsize_t d[1] = {n};
    arr(g, "tau", rank, d, 2e-4, b);
    arr(g, "tau_mem", rank, d, 2e-4, b);
    arr(g, "tau_syn", rank, d, 1e-4, b);
    arr(g, "r", rank, d, 2.0, b);
    arr(g, "v_leak", rank, d, 0.0, b);
    arr(g, "v_threshold", rank, d, 1.0, b);
    if (u8(b) & 1) arr(g, "v_reset", rank, d, 0.0, b);
    if (u8(b) % 4 == 3) {
        hid_t m = H5Gcreate2(g, "metadata", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        put_scalar(m, "evsnn_beta", H5T_IEEE_F32LE, val(b));
        put_scalar(m, "evsnn_threshold", H5T_IEEE_F32LE, val(b));
        static const char *rs[] = {"subtract", "zero", "none", "bogus"};
        put_str(m, "evsnn_reset", rs[u8(b) % 4]);
        put_str(m, "evsnn_compare", u8(b) & 1 ? ">=" : ">");
        put_scalar(m, "evsnn_bias", H5T_STD_I64LE, u8(b) & 1);
        H5Gclose(m);
    }
    for (int q = 0; q < 4 && more(b); q++) fuzz_param(g, b);
    H5Gclose(g);
}

static void affine(hid_t nodes, const char *name, hsize_t out, hsize_t in, bytes *b) {
    hid_t g = node(nodes, name, u8(b) % 4 ? "Affine" : "Linear");
    if (g < 0) return;
    hsize_t d[2] = {out, in};
    arr(g, "weight", 2, d, 0.0, b);
    arr(g, "bias", 1, d, 0.0, b);
    for (int q = 0; q < 4 && more(b); q++) fuzz_param(g, b);
    H5Gclose(g);
}

/* Write the file the input describes. */
static void build(const char *path, bytes *b) {
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return;
    static const char *vers[] = {"1.0.7", "0.2.0", "2.0.0", NULL};
    const char *ver = vers[u8(b) % 4];
    if (ver) put_str(f, "version", ver);
    hid_t root = H5Gcreate2(f, "node", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t nodes = H5Gcreate2(root, "nodes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    put_str(root, "type", u8(b) % 32 == 31 ? "LIF" : "NIRGraph");
    const char *chain[12];
    int nc = 0;
    unsigned mode = u8(b) % 3;
    hsize_t a = 1 + u8(b) % 5, c = 1 + u8(b) % 4, h = 3 + u8(b) % 4;
    if (mode == 1) { /* dense chain: input → fc1 → lif1 → fc2 → lif2 → output */
        hid_t g = node(nodes, "input", "Input");
        ints(g, "shape", u8(b) & 1 ? 2 : 1, (long long[]){u8(b) & 1 ? 1 : (long long)a, (long long)a});
        H5Gclose(g);
        affine(nodes, "fc1", 4, a, b);
        lif(nodes, "lif1", 4, b);
        affine(nodes, "fc2", 3, 4, b);
        lif(nodes, "lif2", 3, b);
        g = node(nodes, "output", "Output");
        ints(g, "shape", 1, (long long[]){3});
        H5Gclose(g);
        const char *ch[] = {"input", "fc1", "lif1", "fc2", "lif2", "output"};
        for (int i = 0; i < 6; i++) chain[nc++] = ch[i];
    } else if (mode == 2) { /* conv chain with pooling and flatten */
        hid_t g = node(nodes, "input", "Input");
        ints(g, "shape", 3, (long long[]){(long long)c, (long long)h, (long long)h});
        H5Gclose(g);
        g = node(nodes, "conv", "Conv2d");
        hsize_t k = 1 + 2 * (u8(b) % 2), d4[4] = {2, c, k, k}, d1[1] = {2};
        arr(g, "weight", 4, d4, 0.0, b);
        arr(g, "bias", 1, d1, 0.0, b);
        long long pad = u8(b) & 1 ? (long long)k / 2 : 0;
        ints(g, "padding", 2, (long long[]){pad, pad});
        ints(g, "stride", 2, (long long[]){1 + (u8(b) % 8 == 7), 1});
        ints(g, "dilation", 2, (long long[]){1, 1});
        ints(g, "groups", 0, (long long[]){1});
        if (u8(b) & 1) ints(g, "input_shape", 2, (long long[]){(long long)h, (long long)h});
        for (int q = 0; q < 4 && more(b); q++) fuzz_param(g, b);
        H5Gclose(g);
        hsize_t oh = h + 2 * (hsize_t)pad - k + 1;
        int pool = u8(b) % 3;
        if (pool) { /* 1: of the currents, 2: of the spikes */
            g = node(nodes, "pool", u8(b) & 1 ? "AvgPool2d" : "SumPool2d");
            ints(g, "kernel_size", 2, (long long[]){2, 2});
            ints(g, "stride", 2, (long long[]){2, 2});
            ints(g, "padding", 2, (long long[]){0, 0});
            H5Gclose(g);
        }
        hsize_t ph = pool ? oh / 2 : oh;
        lif(nodes, "lif1", 2 * ph * ph, b);
        g = node(nodes, "flat", "Flatten");
        ints(g, "input_type", 3, (long long[]){2, (long long)ph, (long long)ph});
        ints(g, "start_dim", 0, (long long[]){u8(b) % 8 == 7});
        ints(g, "end_dim", 0, (long long[]){-1});
        H5Gclose(g);
        affine(nodes, "fc", 3, 2 * ph * ph, b);
        lif(nodes, "lif2", 3, b);
        g = node(nodes, "output", "Output");
        ints(g, "shape", 1, (long long[]){3});
        H5Gclose(g);
        chain[nc++] = "input";
        chain[nc++] = "conv";
        if (pool == 1) chain[nc++] = "pool";
        chain[nc++] = "lif1";
        if (pool == 2) chain[nc++] = "pool";
        const char *rest[] = {"flat", "fc", "lif2", "output"};
        for (int i = 0; i < 4; i++) chain[nc++] = rest[i];
    }
    /* Free-form nodes on top. */
    static const char *names[] = {"input", "output", "fc1", "lif1", "x", "y", "z", "conv"};
    static const char *types[] = {"Input", "Output", "Affine", "Linear", "Conv2d", "AvgPool2d", "SumPool2d", "Flatten",
                                  "LIF", "IF", "LI", "CubaLIF", "Delay", "Scale", "NIRGraph", "Quantum", ""};
    for (unsigned i = 0, m = u8(b) % (mode ? 3 : 8); i < m; i++) {
        unsigned t = u8(b);
        hid_t g = node(nodes, names[u8(b) % 8], t % 19 == 17 ? NULL : types[t % 17]);
        if (g < 0) continue;
        for (unsigned k = 0, np = u8(b) % 7; k < np; k++) fuzz_param(g, b);
        H5Gclose(g);
    }
    /* Edges: the chain (in an order the input picks), then extra ones, some to no node. */
    const char *e[2 * 40];
    int ne = 0;
    for (int i = 0; i + 1 < nc && ne < 30; i++) {
        if (u8(b) % 32 == 31) continue; /* drop one */
        e[2 * ne] = chain[i];
        e[2 * ne + 1] = chain[i + 1];
        ne++;
    }
    for (int i = 0; i + 1 < ne; i++) { /* shuffle */
        int j = i + (int)(u8(b) % (unsigned)(ne - i));
        const char *s0 = e[2 * i], *s1 = e[2 * i + 1];
        e[2 * i] = e[2 * j];
        e[2 * i + 1] = e[2 * j + 1];
        e[2 * j] = s0;
        e[2 * j + 1] = s1;
    }
    static const char *en[] = {"input", "output", "fc1", "lif1", "fc2", "lif2", "x", "y", "conv", "missing"};
    for (unsigned i = 0, m = u8(b) % (mode ? 3 : 12); i < m && ne < 40; i++, ne++) {
        e[2 * ne] = en[u8(b) % 10];
        e[2 * ne + 1] = en[u8(b) % 10];
    }
    unsigned shape = u8(b) % 16;
    hsize_t d[2] = {(hsize_t)ne, 2};
    hid_t t = nirh5_vlen();
    if (shape == 15) { /* numbers instead of names */
        double z[80] = {0};
        put(root, "edges", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, ne ? 2 : 1, d, z);
    } else if (shape == 14 && ne) { /* one column */
        hsize_t d1[1] = {(hsize_t)ne};
        put(root, "edges", t, t, 1, d1, e);
    } else if (shape != 13)
        put(root, "edges", t, t, 2, d, e);
    H5Tclose(t);
    if (u8(b) % 8 == 7) {
        hid_t m = H5Gcreate2(root, "metadata", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        put_scalar(m, "evsnn_dt", H5T_IEEE_F64LE, val(b));
        put_scalar(m, "evsnn_steps", H5T_STD_I64LE, val(b));
        put_scalar(m, "evsnn_binarized", H5T_STD_I64LE, u8(b) & 1);
        put_str(m, "evsnn_dataset", "fuzz");
        H5Gclose(m);
    }
    H5Gclose(nodes);
    H5Gclose(root);
    H5Fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char path[64], path2[64];
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/evsnn-fuzz-nir-%ld.nir", (long)getpid());
        snprintf(path2, sizeof path2, "/tmp/evsnn-fuzz-nir-%ld-2.nir", (long)getpid());
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    }
    bytes b = {data, size, 0};
    build(path, &b);
    int err = 0;
    nir_graph *g = nir_read(path, &err);
    if (!g) {
        if (err >= 0 || !evsnn_errmsg()[0]) abort();
        return 0;
    }
    uint32_t *order = malloc((g->n_nodes ? g->n_nodes : 1) * sizeof *order);
    if (order) {
        int rc = nir_topo_order(g, path, order);
        if (rc > 0) abort();
        if (rc == 0) { /* a permutation */
            char *seen = calloc(g->n_nodes + 1, 1);
            for (uint32_t i = 0; i < g->n_nodes; i++) {
                if (order[i] >= g->n_nodes || seen[order[i]]) abort();
                seen[order[i]] = 1;
            }
            free(seen);
        }
        free(order);
    }
    nir_import_opts o = {.dt = (data[0] & 3) == 3 ? 2e-4 : 0};
    nir_import_report rep;
    model_meta meta;
    net *n = nir_to_net(g, path, &o, &meta, &rep, &err);
    nir_graph_free(g);
    if (!n) {
        if (err >= 0 || !evsnn_errmsg()[0]) abort();
        return 0;
    }
    for (size_t i = 0; i < n->n_params; i++)
        if (!isfinite(n->params[i])) abort();
    for (uint32_t l = 0; l < n->n_layers; l++)
        if (n->layers[l].kind != NET_POOL && net_check_neuron(&n->layers[l].nc, "fuzz")) abort();
    /* What imports exports again and reads back (max/OR pooling cannot occur here). */
    nir_export_report wr;
    if (nir_save(path2, n, &meta, NULL, &wr)) abort();
    net *k = nir_load(path2, NULL, NULL, NULL, &err);
    if (!k || k->n_params != n->n_params) abort();
    net_free(k);
    net_free(n);
    unlink(path2);
    return 0;
}
