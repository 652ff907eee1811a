/* tests/test_nir.c — NIR graphs (io/nir.h).
 *
 * The NIR files read here are written by this test through plain HDF5 calls, laid out as the
 * nir library's nir.write lays them out (independently of io/nir.c's writer), in the shape
 * snnTorch's export_to_nir gives them: scalar parameters, a batch dimension on Input/Output,
 * edges in shuffled order. Expected values come from hand computation: β = 1 − dt/τ and the
 * input scale r·dt/τ worked out per fixture, and the spikes of a plain reference simulation
 * of NIR's neuron (v ← βv + s·(Wx + b) + l, spike when v > θ, then v = 0) written here with
 * weights k/64 and β a power of two, so that every float is exact and the engine must agree
 * spike for spike. Round trips evsnn → NIR → evsnn must give back identical parameters and
 * identical spikes; files exported are read back with plain HDF5 calls to check the layout. */
#include "tests/testutil.h"

#include <hdf5.h>
#include <math.h>

#include "io/model.h"
#include "io/nir.h"
#include "sim/engine.h"
#include "sim/evsnn.h"
#include "tests/nir_h5.h"

#define DT 1e-4

static char dir[64], path[128];

static int setup(void **state) {
    (void)state;
    test_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/g.nir", dir);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    return dir[0] ? 0 : -1;
}
static int teardown(void **state) {
    (void)state;
    test_rmdir(dir);
    return 0;
}

/* ---- an independent NIR writer (raw HDF5, the layout nir.write produces) ---- */

static void fx_ds(hid_t g, const char *name, hid_t ft, hid_t mt, int rank, const hsize_t *dims, const void *v) {
    assert_int_equal(nirh5_put(g, name, ft, mt, rank, dims, v), 0);
}
static void fx_str(hid_t g, const char *name, const char *s) { assert_int_equal(nirh5_str(g, name, s), 0); }
static void fx_f32(hid_t g, const char *name, int rank, const hsize_t *dims, const float *v) {
    fx_ds(g, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, rank, dims, v);
}
static void fx_i64(hid_t g, const char *name, int rank, const hsize_t *dims, const long long *v) {
    fx_ds(g, name, H5T_STD_I64LE, H5T_NATIVE_LLONG, rank, dims, v);
}

typedef struct {
    hid_t f, node, nodes;
} fx_file;

static void fx_begin(fx_file *x, const char *p, const char *version) {
    x->f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(x->f >= 0);
    fx_str(x->f, "version", version);
    x->node = H5Gcreate2(x->f, "node", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    x->nodes = H5Gcreate2(x->node, "nodes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    fx_str(x->node, "type", "NIRGraph");
}
static hid_t fx_node(fx_file *x, const char *name, const char *type) {
    hid_t g = H5Gcreate2(x->nodes, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(g >= 0);
    fx_str(g, "type", type);
    return g;
}
/* edges: n pairs of names, flattened. */
static void fx_end(fx_file *x, const char *const *edges, size_t n) {
    hsize_t d[2] = {n, 2};
    hid_t t = nirh5_vlen();
    fx_ds(x->node, "edges", t, t, 2, d, edges);
    H5Tclose(t);
    H5Gclose(x->nodes);
    H5Gclose(x->node);
    H5Fclose(x->f);
}

/* The fixtures' weights and biases: k/64, exact in float (the same formula as tests/nir_h5py.py). */
static float fw(uint32_t o, uint32_t i, uint32_t seed) { return (float)((int)((o * 7 + i * 3 + seed) % 17) - 5) / 64.0f; }
static float fb(uint32_t o, uint32_t seed) { return (float)((int)((o * 5 + seed) % 7) - 3) / 64.0f; }

static void fx_affine(fx_file *x, const char *name, uint32_t out, uint32_t in, uint32_t seed, int with_bias) {
    hid_t g = fx_node(x, name, with_bias ? "Affine" : "Linear");
    float *w = malloc((size_t)out * in * sizeof *w), b[64];
    for (uint32_t o = 0; o < out; o++)
        for (uint32_t i = 0; i < in; i++) w[(size_t)o * in + i] = fw(o, i, seed); /* [out, in] as PyTorch */
    hsize_t d[2] = {out, in};
    fx_f32(g, "weight", 2, d, w);
    if (with_bias) {
        for (uint32_t o = 0; o < out; o++) b[o] = fb(o, seed);
        fx_f32(g, "bias", 1, d, b);
    }
    free(w);
    H5Gclose(g);
}

/* snnTorch's Leaky as export_to_nir writes it: tau = dt/(1 − β), r = tau/dt (so r·dt/τ = 1),
 * v_leak = v_reset = 0; n = 0 writes 0-d (scalar) datasets, else arrays of n with per-neuron
 * thresholds theta[i] and r multiplied by rmul[i] (NULL: 1). */
static void fx_lif(fx_file *x, const char *name, uint32_t n, float beta, const float *theta, const float *rmul, float vleak) {
    hid_t g = fx_node(x, name, "LIF");
    const float tau = (float)(DT / (1.0 - beta)), r = (float)(tau / DT);
    uint32_t m = n ? n : 1;
    float a[4][128];
    for (uint32_t i = 0; i < m; i++) {
        a[0][i] = tau;
        a[1][i] = r * (rmul ? rmul[i] : 1.0f);
        a[2][i] = vleak;
        a[3][i] = theta[n ? i : 0];
    }
    hsize_t d[1] = {n};
    int rank = n ? 1 : 0;
    fx_f32(g, "tau", rank, d, a[0]);
    fx_f32(g, "r", rank, d, a[1]);
    fx_f32(g, "v_leak", rank, d, a[2]);
    fx_f32(g, "v_threshold", rank, d, a[3]);
    float z[128] = {0};
    fx_f32(g, "v_reset", rank, d, z);
    H5Gclose(g);
}

static void fx_shape(fx_file *x, const char *name, const char *type, int n, const long long *shape) {
    hid_t g = fx_node(x, name, type);
    hsize_t d[1] = {(hsize_t)n};
    fx_i64(g, "shape", 1, d, shape);
    H5Gclose(g);
}

/* snnTorch-style 12 → 8 → 4: nodes "input", "0".."3", "output"; Input (1, 12) and Output
 * (1, 4) with the batch dimension; edges shuffled. Layer 1: β = 0.5 (τ = 2e-4 s), layer 2:
 * β = 0 (τ = dt). */
static const float TH1 = 0.25f, TH2 = 0.125f;
static void write_dense(const char *p, int scalar, const float *theta1, const float *rmul1, float vleak1) {
    fx_file x;
    fx_begin(&x, p, "1.0.7");
    fx_shape(&x, "input", "Input", 2, (long long[]){1, 12});
    fx_affine(&x, "0", 8, 12, 1, 1);
    float t1[8];
    for (int i = 0; i < 8; i++) t1[i] = theta1 ? theta1[i] : TH1;
    fx_lif(&x, "1", scalar ? 0 : 8, 0.5f, t1, rmul1, vleak1);
    fx_affine(&x, "2", 4, 8, 2, 1);
    fx_lif(&x, "3", scalar ? 0 : 4, 0.0f, (float[]){TH2, TH2, TH2, TH2}, NULL, 0.0f);
    fx_shape(&x, "output", "Output", 2, (long long[]){1, 4});
    const char *e[] = {"2", "3", "input", "0", "3", "output", "1", "2", "0", "1"};
    fx_end(&x, e, 5);
}

/* ---- helpers ---- */

static uint64_t xs(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Dense [T, n] Bernoulli(p) spikes and the same as a train. */
static void random_input(float *x, spk_train *tr, uint32_t T, uint32_t n, double p, uint64_t seed) {
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < (size_t)T * n; i++) x[i] = (double)(xs(&s) >> 11) / 9007199254740992.0 < p ? 1.0f : 0.0f;
    assert_int_equal(spk_from_dense(tr, x, T, n, 0), 0);
}

static void run(const net *n, const spk_train *in, uint32_t T, sim_result *res) {
    int err;
    sim *s = sim_create(n, T, &err);
    assert_non_null(s);
    assert_int_equal(sim_result_init(res, n, T, 0), 0);
    sim_input si = {.train = in, .T = T};
    assert_int_equal(sim_run(s, &si, res), 0);
    sim_free(s);
}

static void assert_trains_equal(const spk_train *a, const spk_train *b, const char *what) {
    if (a->nnz != b->nnz) fail_msg("%s: %u vs %u events", what, a->nnz, b->nnz);
    for (uint32_t t = 0; t <= a->T; t++)
        if (a->off[t] != b->off[t]) fail_msg("%s: offsets differ at step %u", what, t);
    for (uint32_t k = 0; k < a->nnz; k++)
        if (a->idx[k] != b->idx[k] || test_bits(spk_val(a, k)) != test_bits(spk_val(b, k)))
            fail_msg("%s: event %u differs", what, k);
}

/* The dense reference train [T, n] of one layer as the engine recorded it. */
static void train_to_dense(const spk_train *s, float *y) { spk_to_dense(y, s); }

/* Spikes in a dense [n] train: a case is only a test if its neurons fire (and not always). */
static void assert_fires(const float *y, size_t n, const char *what) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += y[i] != 0;
    if (k < 3 || k > n - 3) fail_msg("%s: %zu spikes of %zu: not a discriminating case", what, k, n);
}

/* NIR's neuron, step by step: v ← βv + s·(W x + b) + l; spike when v > θ, then v = 0.
 * W: [out, in] (NIR layout)  x: [T, in]  y: [T, out]. */
static void ref_layer(float *y, const float *x, const float *W, const float *b, uint32_t T, uint32_t in, uint32_t out, float beta,
                      const float *theta, const float *s, float l) {
    float v[128] = {0};
    for (uint32_t t = 0; t < T; t++)
        for (uint32_t j = 0; j < out; j++) {
            float a = b ? b[j] : 0.0f;
            for (uint32_t i = 0; i < in; i++) a += W[(size_t)j * in + i] * x[(size_t)t * in + i];
            v[j] = beta * v[j] + (s ? s[j] : 1.0f) * a + l;
            y[(size_t)t * out + j] = v[j] > theta[j] ? 1.0f : 0.0f;
            if (v[j] > theta[j]) v[j] = 0.0f;
        }
}

static void dense_weights(float *W, float *b, uint32_t out, uint32_t in, uint32_t seed) {
    for (uint32_t o = 0; o < out; o++) {
        for (uint32_t i = 0; i < in; i++) W[(size_t)o * in + i] = fw(o, i, seed);
        b[o] = fb(o, seed);
    }
}

static void expect_err(net *n, int err, int code, const char *needle) {
    if (n) fail_msg("mapped a graph that should fail (%s)", needle);
    if (err != code) fail_msg("error %d, expected %d: %s", err, code, evsnn_errmsg());
    if (!strstr(evsnn_errmsg(), needle)) fail_msg("message '%s' does not name '%s'", evsnn_errmsg(), needle);
}

/* ---- import: snnTorch conventions ---- */

/* Scalar parameters, batch dimensions, shuffled edges: 12-8-4 with the hand-computed
 * β (τ = 2e-4 s at dt = 1e-4 s: 1 − 0.5 = 0.5; τ = dt: 0), r·dt/τ = 1, zero reset, and
 * the weights transposed into evsnn's [in, out]. Spikes equal the reference's. */
static void test_snntorch_scalar_batch_shuffled(void **state) {
    (void)state;
    write_dense(path, 1, NULL, NULL, 0.0f);
    int err;
    model_meta m;
    nir_import_report rep;
    net *n = nir_load(path, NULL, &m, &rep, &err);
    if (!n) fail_msg("%s", evsnn_errmsg());
    assert_string_equal(n->arch, "12-8-4");
    assert_int_equal(n->n_in, 12);
    assert_int_equal(n->in_h, 1);
    assert_true(rep.dt == DT);
    assert_int_equal(test_bits(n->layers[0].nc.beta), test_bits(0.5f));
    assert_int_equal(test_bits(n->layers[1].nc.beta), test_bits(0.0f));
    assert_int_equal(test_bits(n->layers[0].nc.theta), test_bits(TH1));
    assert_int_equal(test_bits(n->layers[1].nc.theta), test_bits(TH2));
    assert_int_equal(n->layers[0].nc.reset, RESET_ZERO);
    assert_int_equal(n->layers[0].nc.cmp, CMP_GT);
    assert_string_equal(rep.layer[0].reset_from, "default");
    assert_non_null(strstr(rep.notes, "reset zero"));
    for (uint32_t j = 0; j < 8; j++) {
        for (uint32_t i = 0; i < 12; i++) assert_int_equal(test_bits(n->layers[0].w[i * 8 + j]), test_bits(fw(j, i, 1)));
        assert_int_equal(test_bits(n->layers[0].b[j]), test_bits(fb(j, 1)));
    }
    /* Spikes against NIR's neuron simulated here. */
    const uint32_t T = 12;
    float x[12 * 12], y1[12 * 8], y2[12 * 4], W1[96], b1[8], W2[32], b2[4], got[12 * 8];
    spk_train in;
    random_input(x, &in, T, 12, 0.5, 3);
    dense_weights(W1, b1, 8, 12, 1);
    dense_weights(W2, b2, 4, 8, 2);
    ref_layer(y1, x, W1, b1, T, 12, 8, 0.5f, (float[]){TH1, TH1, TH1, TH1, TH1, TH1, TH1, TH1}, NULL, 0.0f);
    ref_layer(y2, y1, W2, b2, T, 8, 4, 0.0f, (float[]){TH2, TH2, TH2, TH2}, NULL, 0.0f);
    sim_result r;
    run(n, &in, T, &r);
    train_to_dense(&r.out[0], got);
    assert_memory_equal(got, y1, sizeof y1);
    train_to_dense(&r.out[1], got);
    assert_memory_equal(got, y2, sizeof y2);
    assert_fires(y1, 12 * 8, "layer 1");
    assert_fires(y2, 12 * 4, "layer 2");
    sim_result_deinit(&r);
    spk_deinit(&in);
    net_free(n);
}

/* --dt: at dt = 2e-4 s the first layer's τ = 2e-4 s gives β = 1 − 1 = 0 and the input scale
 * r·dt/τ = 2·1 = 2, folded into the threshold: 1/2. */
static void test_dt_override(void **state) {
    (void)state;
    write_dense(path, 1, NULL, NULL, 0.0f);
    nir_import_opts o = {.dt = 2e-4};
    nir_import_report rep;
    int err;
    /* Layer 2 has τ = 1e-4 s, shorter than dt = 2e-4 s: β = 1 − 2 < 0 is refused, naming node '3'. */
    net *n = nir_load(path, &o, NULL, &rep, &err);
    expect_err(n, err, EVSNN_EINVAL, "node '3' (LIF): tau");
    assert_non_null(strstr(evsnn_errmsg(), "--dt"));
    /* A graph whose second layer can take it: τ = 4e-4 s there (β 0.75 at 1e-4 s, 0.5 at 2e-4 s). */
    fx_file x;
    fx_begin(&x, path, "1.0.7");
    fx_shape(&x, "input", "Input", 1, (long long[]){12});
    fx_affine(&x, "fc", 3, 12, 1, 1);
    fx_lif(&x, "lif", 0, 0.75f, (float[]){1.0f}, NULL, 0.0f);
    fx_shape(&x, "output", "Output", 1, (long long[]){3});
    fx_end(&x, (const char *[]){"input", "fc", "fc", "lif", "lif", "output"}, 3);
    n = nir_load(path, &o, NULL, &rep, &err);
    if (!n) fail_msg("%s", evsnn_errmsg());
    /* τ = 4e-4: β = 1 − 2e-4/4e-4 = 0.5; r = τ/1e-4 = 4, scale r·dt/τ = 4·0.5 = 2 → θ = 1/2. */
    assert_int_equal(test_bits(n->layers[0].nc.beta), test_bits(0.5f));
    assert_int_equal(test_bits(n->layers[0].nc.theta), test_bits(0.5f));
    assert_int_equal(test_bits(n->layers[0].w[0]), test_bits(fw(0, 0, 1))); /* weights untouched */
    assert_non_null(strstr(rep.notes, "folded into the threshold"));
    net_free(n);
}

/* Per-neuron thresholds and input scales fold into the weights (one threshold per layer),
 * a leak becomes a bias; the spikes still equal those of NIR's neuron with per-neuron θ. */
static void test_per_neuron_fold(void **state) {
    (void)state;
    const float th[8] = {0.25f, 0.125f, 0.5f, 0.25f, 0.0625f, 0.25f, 1.0f, 0.25f}, rm[8] = {1, 1, 2, 1, 1, 1, 1, 1};
    const float vleak = 0.125f;
    write_dense(path, 0, th, rm, vleak);
    int err;
    nir_import_report rep;
    net *n = nir_load(path, NULL, NULL, &rep, &err);
    if (!n) fail_msg("%s", evsnn_errmsg());
    assert_int_equal(test_bits(n->layers[0].nc.theta), test_bits(0.25f)); /* the first neuron's θ/s */
    assert_non_null(strstr(rep.notes, "folded into the weights"));
    /* Neuron 2: θ = 0.5, s = r·dt/τ = 2 → θ/s = 0.25: unscaled. Neuron 1: θ/s = 0.125 → weights ×2.
     * Neuron 0 of a leak: l = dt/τ·v_leak = 0.5·0.125 = 0.0625 added to the bias. */
    assert_int_equal(test_bits(n->layers[0].w[0 * 8 + 2]), test_bits(fw(2, 0, 1)));
    assert_int_equal(test_bits(n->layers[0].w[0 * 8 + 1]), test_bits(2.0f * fw(1, 0, 1)));
    assert_int_equal(test_bits(n->layers[0].b[0]), test_bits(fb(0, 1) + 0.0625f));
    const uint32_t T = 12;
    float x[12 * 12], y1[12 * 8], W1[96], b1[8], got[12 * 8], s[8];
    spk_train in;
    random_input(x, &in, T, 12, 0.4, 5);
    dense_weights(W1, b1, 8, 12, 1);
    for (int i = 0; i < 8; i++) s[i] = rm[i]; /* r·dt/τ with r = rm·τ/dt */
    ref_layer(y1, x, W1, b1, T, 12, 8, 0.5f, th, s, 0.5f * vleak);
    assert_fires(y1, 12 * 8, "layer 1");
    sim_result r;
    run(n, &in, T, &r);
    train_to_dense(&r.out[0], got);
    assert_memory_equal(got, y1, sizeof y1);
    sim_result_deinit(&r);
    spk_deinit(&in);
    net_free(n);
}

/* Conv 2→4 3x3 padding 1 on 2x10x10, average pooling 2 of the currents, LIF with per-neuron
 * arrays (4, 5, 5) and per-channel thresholds, Flatten, Affine 100 → 3, LIF: the arch, the
 * padding and pooling modes, and the spikes of a reference convolution written here. */
static void write_conv(const char *p, int per_pixel_theta) {
    fx_file x;
    fx_begin(&x, p, "1.0.7");
    fx_shape(&x, "input", "Input", 4, (long long[]){1, 2, 10, 10});
    hid_t g = fx_node(&x, "conv", "Conv2d");
    float w[4 * 2 * 9], b[4];
    for (uint32_t o = 0; o < 4; o++) {
        for (uint32_t i = 0; i < 18; i++) w[o * 18 + i] = fw(o, i, 5);
        b[o] = fb(o, 5);
    }
    fx_f32(g, "weight", 4, (hsize_t[]){4, 2, 3, 3}, w);
    fx_f32(g, "bias", 1, (hsize_t[]){4}, b);
    fx_i64(g, "stride", 1, (hsize_t[]){2}, (long long[]){1, 1});
    fx_i64(g, "padding", 1, (hsize_t[]){2}, (long long[]){1, 1});
    fx_i64(g, "dilation", 1, (hsize_t[]){2}, (long long[]){1, 1});
    fx_i64(g, "groups", 0, NULL, (long long[]){1});
    fx_i64(g, "input_shape", 1, (hsize_t[]){2}, (long long[]){10, 10});
    H5Gclose(g);
    g = fx_node(&x, "pool", "AvgPool2d");
    fx_i64(g, "kernel_size", 1, (hsize_t[]){2}, (long long[]){2, 2});
    fx_i64(g, "stride", 1, (hsize_t[]){2}, (long long[]){2, 2});
    fx_i64(g, "padding", 1, (hsize_t[]){2}, (long long[]){0, 0});
    H5Gclose(g);
    g = fx_node(&x, "lif1", "LIF");
    float a[4][100];
    const float tau = (float)(DT / 0.5);
    for (int i = 0; i < 100; i++) {
        a[0][i] = tau;
        a[1][i] = (float)(tau / DT);
        a[2][i] = 0.0f;
        a[3][i] = (i / 25) % 2 ? 0.5f : 0.25f; /* per channel: 0.25, 0.5, 0.25, 0.5 */
    }
    if (per_pixel_theta) a[3][7] = 0.75f;
    hsize_t d3[3] = {4, 5, 5};
    fx_f32(g, "tau", 3, d3, a[0]);
    fx_f32(g, "r", 3, d3, a[1]);
    fx_f32(g, "v_leak", 3, d3, a[2]);
    fx_f32(g, "v_threshold", 3, d3, a[3]);
    fx_f32(g, "v_reset", 3, d3, a[2]);
    H5Gclose(g);
    g = fx_node(&x, "flat", "Flatten");
    fx_i64(g, "input_type", 1, (hsize_t[]){3}, (long long[]){4, 5, 5});
    fx_i64(g, "start_dim", 0, NULL, (long long[]){0});
    fx_i64(g, "end_dim", 0, NULL, (long long[]){-1});
    H5Gclose(g);
    fx_affine(&x, "fc", 3, 100, 6, 1);
    fx_lif(&x, "lif2", 3, 0.5f, (float[]){1.0f, 1.0f, 1.0f}, NULL, 0.0f);
    fx_shape(&x, "output", "Output", 1, (long long[]){3});
    const char *e[] = {"lif1", "flat", "input", "conv", "fc", "lif2", "conv", "pool", "lif2", "output", "pool", "lif1", "flat", "fc"};
    fx_end(&x, e, 7);
}

static void test_conv_pool_flatten(void **state) {
    (void)state;
    write_conv(path, 0);
    int err;
    model_meta m;
    nir_import_report rep;
    net *n = nir_load(path, NULL, &m, &rep, &err);
    if (!n) fail_msg("%s", evsnn_errmsg());
    assert_string_equal(n->arch, "4C3-AP2-100-3");
    assert_int_equal(n->in_c, 2);
    assert_int_equal(n->in_h, 10);
    assert_int_equal(m.same_pad, 1);
    assert_int_equal(m.pool_on, POOL_ON_CURRENTS);
    assert_int_equal(test_bits(n->layers[0].nc.theta), test_bits(0.25f));
    /* Channel 1 has θ = 0.5: its kernel and bias are scaled by 0.25/0.5. */
    assert_int_equal(test_bits(n->layers[0].w[18]), test_bits(0.5f * fw(1, 0, 5)));
    assert_int_equal(test_bits(n->layers[0].w[0]), test_bits(fw(0, 0, 5)));
    /* Reference: conv with zero padding, 2x2 average, NIR's neuron; then the dense layer. */
    const uint32_t T = 10;
    float x[10 * 200], cur[100], v[100] = {0}, y1[10 * 100], y2[10 * 3], W2[300], b2[3], got[10 * 100];
    spk_train in;
    random_input(x, &in, T, 200, 0.3, 11);
    for (uint32_t t = 0; t < T; t++) {
        float full[4][10][10];
        for (int o = 0; o < 4; o++)
            for (int yy = 0; yy < 10; yy++)
                for (int xx = 0; xx < 10; xx++) {
                    float a = fb((uint32_t)o, 5);
                    for (int c = 0; c < 2; c++)
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++) {
                                int iy = yy - 1 + ky, ix = xx - 1 + kx;
                                if (iy < 0 || iy >= 10 || ix < 0 || ix >= 10) continue;
                                a += fw((uint32_t)o, (uint32_t)((c * 3 + ky) * 3 + kx), 5) * x[t * 200 + (c * 10 + iy) * 10 + ix];
                            }
                    full[o][yy][xx] = a;
                }
        for (int o = 0; o < 4; o++)
            for (int py = 0; py < 5; py++)
                for (int px = 0; px < 5; px++)
                    cur[(o * 5 + py) * 5 + px] = (full[o][2 * py][2 * px] + full[o][2 * py][2 * px + 1] + full[o][2 * py + 1][2 * px] +
                                                  full[o][2 * py + 1][2 * px + 1]) * 0.25f;
        for (int i = 0; i < 100; i++) {
            float th = (i / 25) % 2 ? 0.5f : 0.25f;
            v[i] = 0.5f * v[i] + cur[i];
            y1[t * 100 + i] = v[i] > th ? 1.0f : 0.0f;
            if (v[i] > th) v[i] = 0.0f;
        }
    }
    dense_weights(W2, b2, 3, 100, 6);
    ref_layer(y2, y1, W2, b2, T, 100, 3, 0.5f, (float[]){1, 1, 1}, NULL, 0.0f);
    assert_fires(y1, 10 * 100, "conv layer");
    assert_fires(y2, 10 * 3, "dense layer");
    sim_result r;
    run(n, &in, T, &r);
    train_to_dense(&r.out[0], got);
    assert_memory_equal(got, y1, sizeof y1);
    train_to_dense(&r.out[1], got);
    assert_memory_equal(got, y2, sizeof y2);
    sim_result_deinit(&r);
    spk_deinit(&in);
    net_free(n);
    /* A threshold that differs within a channel cannot fold into a kernel: refused by name. */
    write_conv(path, 1);
    n = nir_load(path, NULL, NULL, NULL, &err);
    expect_err(n, err, EVSNN_ENOTSUP, "node 'lif1' (LIF): threshold, input scale or leak differ within channel 0");
}

/* ---- import: bad files, each refused with the node named ---- */

static void write_variant(const char *p, const char *what) {
    fx_file x;
    fx_begin(&x, p, !strcmp(what, "newer") ? "2.0.0" : "1.0.7");
    fx_shape(&x, "input", "Input", 1, (long long[]){12});
    fx_affine(&x, "fc1", 8, !strcmp(what, "shape") ? 11 : 12, 1, 1);
    if (!strcmp(what, "unknown")) {
        hid_t g = fx_node(&x, "lif1", "Quantum");
        H5Gclose(g);
    } else if (!strcmp(what, "li")) {
        hid_t g = fx_node(&x, "lif1", "LI");
        H5Gclose(g);
    } else if (!strcmp(what, "vreset")) {
        hid_t g = fx_node(&x, "lif1", "LIF");
        float tau = 2e-4f, r = 2, z = 0, th = 1, vr = 0.25f;
        fx_f32(g, "tau", 0, NULL, &tau);
        fx_f32(g, "r", 0, NULL, &r);
        fx_f32(g, "v_leak", 0, NULL, &z);
        fx_f32(g, "v_threshold", 0, NULL, &th);
        fx_f32(g, "v_reset", 0, NULL, &vr);
        H5Gclose(g);
    } else if (!strcmp(what, "notype")) {
        hid_t g = H5Gcreate2(x.nodes, "lif1", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5Gclose(g);
    } else
        fx_lif(&x, "lif1", 0, 0.5f, (float[]){1.0f}, NULL, 0.0f);
    if (strcmp(what, "missing")) fx_affine(&x, "fc2", 4, 8, 2, 1);
    fx_lif(&x, "lif2", 0, 0.5f, (float[]){1.0f}, NULL, 0.0f);
    fx_shape(&x, "output", "Output", 1, (long long[]){4});
    if (!strcmp(what, "dangling")) {
        /* lif2 → output is missing: the last edge ends in 'lif2', which leads nowhere */
        const char *e[] = {"input", "fc1", "fc1", "lif1", "lif1", "fc2", "fc2", "lif2"};
        fx_end(&x, e, 4);
    } else if (!strcmp(what, "cycle")) {
        const char *e[] = {"input", "fc1", "fc1", "lif1", "lif1", "fc2", "fc2", "lif2", "lif2", "output", "lif2", "fc1"};
        fx_end(&x, e, 6);
    } else if (!strcmp(what, "branch")) {
        const char *e[] = {"input", "fc1", "fc1", "lif1", "lif1", "fc2", "fc2", "lif2", "lif2", "output", "fc1", "fc2"};
        fx_end(&x, e, 6);
    } else {
        const char *e[] = {"lif2", "output", "fc1", "lif1", "input", "fc1", "lif1", "fc2", "fc2", "lif2"};
        fx_end(&x, e, 5);
    }
}

static void expect_variant(const char *what, int code, const char *needle) {
    write_variant(path, what);
    int err;
    net *n = nir_load(path, NULL, NULL, NULL, &err);
    expect_err(n, err, code, needle);
}

static void test_bad_files(void **state) {
    (void)state;
    expect_variant("missing", EVSNN_EFORMAT, "'lif1' -> 'fc2': no node 'fc2' in /node/nodes (missing node)");
    expect_variant("unknown", EVSNN_EFORMAT, "node 'lif1': type 'Quantum' is not a NIR 1.0 node type");
    expect_variant("shape", EVSNN_ESHAPE, "node 'fc1' (Affine)");
    expect_variant("shape", EVSNN_ESHAPE, "node 'input' (Input): shape 12 does not fit node 'fc1'");
    expect_variant("dangling", EVSNN_EFORMAT, "node 'lif2' (LIF): the edge 'fc2' -> 'lif2' leads nowhere");
    expect_variant("cycle", EVSNN_EFORMAT, "cycle: 'fc1' -> 'lif1' -> 'fc2' -> 'lif2' -> 'fc1'");
    expect_variant("branch", EVSNN_ENOTSUP, "node 'fc1' (Affine) has edges to both");
    expect_variant("li", EVSNN_ENOTSUP, "node 'lif1' (LI) is not supported by evsnn");
    expect_variant("vreset", EVSNN_ENOTSUP, "node 'lif1' (LIF): v_reset[0] = 0.25");
    expect_variant("notype", EVSNN_EFORMAT, "node 'lif1': no 'type' dataset");
    expect_variant("newer", EVSNN_EVERSION, "/version '2.0.0' is newer");
    FILE *f = fopen(path, "w");
    fputs("not HDF5\n", f);
    fclose(f);
    int err;
    net *n = nir_load(path, NULL, NULL, NULL, &err);
    expect_err(n, err, EVSNN_EFORMAT, "not an HDF5 file");
    assert_int_equal(nir_detect(path), 0);
}

/* Conv2d with stride 2 (as in snnTorch's N-MNIST example) is refused by name and setting. */
static void test_conv_stride_refused(void **state) {
    (void)state;
    fx_file x;
    fx_begin(&x, path, "0.2.0");
    fx_shape(&x, "input", "Input", 3, (long long[]){2, 8, 8});
    hid_t g = fx_node(&x, "c", "Conv2d");
    float w[2 * 2 * 9] = {0}, b[2] = {0};
    fx_f32(g, "weight", 4, (hsize_t[]){2, 2, 3, 3}, w);
    fx_f32(g, "bias", 1, (hsize_t[]){2}, b);
    fx_i64(g, "stride", 1, (hsize_t[]){2}, (long long[]){2, 2});
    H5Gclose(g);
    fx_shape(&x, "output", "Output", 1, (long long[]){2});
    fx_end(&x, (const char *[]){"input", "c", "c", "output"}, 2);
    int err;
    net *n = nir_load(path, NULL, NULL, NULL, &err);
    expect_err(n, err, EVSNN_ENOTSUP, "node 'c' (Conv2d): stride 2x2");
}

/* ---- export, and round trips evsnn → NIR → evsnn ---- */

static net *build(const char *arch, uint32_t c, uint32_t h, uint32_t w, const neuron_cfg *cfg, uint32_t ncfg, pool_on po,
                  spike_pool sp, int same, uint64_t seed) {
    net_opts o = {.cfg = cfg, .n_cfg = ncfg, .pool_on = po, .spool = sp, .same_pad = same};
    int err;
    net *n = net_build(arch, c, h, w, &o, &err);
    if (!n) fail_msg("%s", evsnn_errmsg());
    net_init_params(n, seed);
    return n;
}

/* Export, re-import, and compare: the same architecture, bit-identical parameters and
 * neuron settings, and the same spikes in every layer on a random input. */
static void roundtrip(net *n, const model_meta *meta, uint32_t T) {
    nir_export_report wr;
    assert_int_equal(nir_save(path, n, meta, NULL, &wr), 0);
    assert_int_equal(nir_detect(path), 1);
    int err;
    model_meta m;
    net *k = nir_load(path, NULL, &m, NULL, &err);
    if (!k) fail_msg("%s: %s", n->arch, evsnn_errmsg());
    assert_int_equal(k->n_layers, n->n_layers);
    assert_int_equal(k->n_params, n->n_params);
    assert_int_equal(k->n_in, n->n_in);
    assert_memory_equal(k->params, n->params, n->n_params * sizeof(float));
    for (uint32_t l = 0; l < n->n_layers; l++) {
        const net_layer *a = &n->layers[l], *b = &k->layers[l];
        assert_int_equal(a->kind, b->kind);
        assert_int_equal(a->n_out, b->n_out);
        assert_int_equal(a->pool, b->pool);
        if (a->kind == NET_POOL) continue;
        assert_int_equal(test_bits(a->nc.beta), test_bits(b->nc.beta));
        assert_int_equal(test_bits(a->nc.theta), test_bits(b->nc.theta));
        assert_int_equal(a->nc.reset, b->nc.reset);
        assert_int_equal(a->nc.cmp, b->nc.cmp);
        assert_int_equal(a->nc.bias, b->nc.bias);
    }
    assert_int_equal(m.binarized, meta->binarized);
    assert_int_equal(m.steps, meta->steps);
    assert_int_equal(m.pool_on, meta->pool_on);
    float *x = malloc((size_t)T * n->n_in * sizeof *x);
    spk_train in;
    random_input(x, &in, T, n->n_in, 0.3, 7);
    sim_result ra, rb;
    run(n, &in, T, &ra);
    run(k, &in, T, &rb);
    uint64_t spikes = 0;
    for (uint32_t l = 0; l < n->n_layers; l++) {
        char what[300];
        snprintf(what, sizeof what, "%s layer %s", n->arch, n->layers[l].name);
        assert_trains_equal(&ra.out[l], &rb.out[l], what);
        spikes += ra.st[l].spikes;
    }
    assert_true(spikes > 0);
    sim_result_deinit(&ra);
    sim_result_deinit(&rb);
    spk_deinit(&in);
    free(x);
    net_free(k);
}

static void test_roundtrip_dense(void **state) {
    (void)state;
    /* subtract reset (evsnn's default), β 0.9 and 0.1 (below 0.5 float τ cannot hold every β:
     * evsnn's metadata gives it back), bias on */
    neuron_cfg c[2] = {{.beta = 0.9f, .theta = 0.3f, .reset = RESET_SUBTRACT, .cmp = CMP_GT, .bias = 1},
                       {.beta = 0.1f, .theta = 0.2f, .reset = RESET_SUBTRACT, .cmp = CMP_GT, .bias = 1}};
    net *n = build("20-16-5", 0, 0, 0, c, 2, POOL_ON_CURRENTS, SPOOL_OR, 0, 3);
    model_meta m = {.steps = 25};
    roundtrip(n, &m, 25);
    net_free(n);
}

static void test_roundtrip_conv_currents(void **state) {
    (void)state;
    /* same padding, average pooling of currents, zero reset and >=, a no-bias layer, β = 1 (IF) */
    neuron_cfg c[3] = {{.beta = 0.5f, .theta = 0.25f, .reset = RESET_ZERO, .cmp = CMP_GE, .bias = 1},
                       {.beta = 1.0f, .theta = 0.5f, .reset = RESET_ZERO, .cmp = CMP_GT, .bias = 0},
                       {.beta = 0.75f, .theta = 0.3f, .reset = RESET_NONE, .cmp = CMP_GT, .bias = 1}};
    net *n = build("4C3-AP2-6C3-SP2-24-10", 2, 12, 12, c, 3, POOL_ON_CURRENTS, SPOOL_OR, 1, 5);
    model_meta m = {.steps = 15, .same_pad = 1};
    roundtrip(n, &m, 15);
    net_free(n);
}

static void test_roundtrip_spike_pooling(void **state) {
    (void)state;
    neuron_cfg c[2] = {{.beta = 0.8f, .theta = 0.2f, .reset = RESET_SUBTRACT, .cmp = CMP_GT, .bias = 1},
                       {.beta = 0.95f, .theta = 0.3f, .reset = RESET_ZERO, .cmp = CMP_GT, .bias = 1}};
    net *n = build("4C3-AP2-7", 1, 9, 9, c, 2, POOL_ON_SPIKES, SPOOL_SUM, 0, 9);
    model_meta m = {.pool_on = POOL_ON_SPIKES, .spool = SPOOL_SUM};
    roundtrip(n, &m, 20);
    net_free(n);
}

/* Binarized: the forward weights are ±1 floats in the file (sign, 0 → +1), re-imported as
 * a binarized model whose spikes are the original's with sign(w). */
static void test_roundtrip_binarized(void **state) {
    (void)state;
    neuron_cfg c[1] = {{.beta = 0.5f, .theta = 1.5f, .reset = RESET_SUBTRACT, .cmp = CMP_GT, .bias = 1}};
    net *n = build("4C3-MP2-10", 1, 8, 8, c, 1, POOL_ON_CURRENTS, SPOOL_OR, 0, 4);
    nir_export_report wr;
    int err;
    /* max pooling has no NIR node: refused by layer name */
    assert_int_equal(nir_save(path, n, NULL, NULL, &wr), EVSNN_ENOTSUP);
    assert_non_null(strstr(evsnn_errmsg(), "layer conv1: max pooling"));
    net_free(n);
    n = build("16-8-3", 0, 0, 0, c, 1, POOL_ON_CURRENTS, SPOOL_OR, 0, 4);
    n->layers[0].w[5] = 0.0f;
    model_meta m = {.binarized = 1};
    assert_int_equal(nir_save(path, n, &m, NULL, &wr), 0);
    for (size_t i = 0; i < n->n_params; i++) {
        net_layer *L = NULL;
        for (uint32_t l = 0; l < n->n_layers; l++)
            if (i >= n->layers[l].w_off && i < n->layers[l].w_off + n->layers[l].n_w) L = &n->layers[l];
        if (L) n->params[i] = n->params[i] >= 0 ? 1.0f : -1.0f;
    }
    roundtrip(n, &m, 20);
    net_free(n);
    /* OR-pooling of spikes: refused by layer name */
    n = build("4C3-AP2-10", 1, 8, 8, c, 1, POOL_ON_SPIKES, SPOOL_OR, 0, 4);
    assert_int_equal(nir_save(path, n, NULL, NULL, &wr), EVSNN_ENOTSUP);
    assert_non_null(strstr(evsnn_errmsg(), "layer pool1: OR-pooling"));
    net_free(n);
    (void)err;
}

/* Read one string dataset with plain HDF5 (vlen UTF-8, as nir.write stores strings). */
static void h5_str(hid_t f, const char *name, char *buf, size_t len) {
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) fail_msg("%s: no such dataset", name);
    hid_t ft = H5Dget_type(d);
    assert_int_equal(H5Tget_class(ft), H5T_STRING);
    assert_true(H5Tis_variable_str(ft) > 0);
    assert_int_equal(H5Tget_cset(ft), H5T_CSET_UTF8);
    hid_t mt = nirh5_vlen();
    char *s = NULL;
    assert_true(H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, &s) >= 0);
    snprintf(buf, len, "%s", s);
    H5free_memory(s);
    H5Tclose(mt);
    H5Tclose(ft);
    H5Dclose(d);
}

static int h5_dims(hid_t f, const char *name, hsize_t *dims) {
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) fail_msg("%s: no such dataset", name);
    hid_t sp = H5Dget_space(d);
    int r = H5Sget_simple_extent_ndims(sp);
    H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    H5Dclose(d);
    return r;
}

/* The exported file, read back with plain HDF5: the layout nir.read expects, PyTorch's
 * weight layouts, per-neuron arrays in the neurons' shape, τ = dt/(1 − β) and r = τ/dt, and
 * the reset warning with its metadata for a subtract-reset layer. */
static void test_export_layout(void **state) {
    (void)state;
    neuron_cfg c[2] = {{.beta = 0.75f, .theta = 0.5f, .reset = RESET_SUBTRACT, .cmp = CMP_GT, .bias = 1},
                       {.beta = 0.5f, .theta = 1.0f, .reset = RESET_ZERO, .cmp = CMP_GT, .bias = 0}};
    net *n = build("3C3-AP2-5", 2, 8, 8, c, 2, POOL_ON_CURRENTS, SPOOL_OR, 0, 2);
    nir_export_report wr;
    assert_int_equal(nir_save(path, n, NULL, NULL, &wr), 0);
    assert_int_equal(wr.n_warn, 1);
    assert_non_null(strstr(wr.warnings, "layer conv1: reset 'subtract'"));
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    char s[64];
    h5_str(f, "version", s, sizeof s);
    assert_string_equal(s, "1.0.7");
    h5_str(f, "node/type", s, sizeof s);
    assert_string_equal(s, "NIRGraph");
    h5_str(f, "node/nodes/conv1/type", s, sizeof s);
    assert_string_equal(s, "Conv2d");
    h5_str(f, "node/nodes/conv1_pool/type", s, sizeof s);
    assert_string_equal(s, "AvgPool2d");
    h5_str(f, "node/nodes/fc2/type", s, sizeof s);
    assert_string_equal(s, "Linear"); /* no bias */
    h5_str(f, "node/nodes/fc2_flatten/type", s, sizeof s);
    assert_string_equal(s, "Flatten");
    h5_str(f, "node/nodes/conv1_lif/metadata/evsnn_reset", s, sizeof s);
    assert_string_equal(s, "subtract");
    hsize_t d[4];
    assert_int_equal(h5_dims(f, "node/nodes/conv1/weight", d), 4);
    assert_true(d[0] == 3 && d[1] == 2 && d[2] == 3 && d[3] == 3);
    assert_int_equal(h5_dims(f, "node/nodes/fc2/weight", d), 2);
    assert_true(d[0] == 5 && d[1] == 27); /* [out, in] */
    assert_int_equal(h5_dims(f, "node/nodes/conv1_lif/tau", d), 3);
    assert_true(d[0] == 3 && d[1] == 3 && d[2] == 3);
    assert_int_equal(h5_dims(f, "node/nodes/conv1/groups", d), 0); /* a scalar */
    /* fc2 weight [out, in] is evsnn's [in, out] transposed */
    float w[5 * 27], tau[27], r[27];
    hid_t ds = H5Dopen2(f, "node/nodes/fc2/weight", H5P_DEFAULT);
    H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, w);
    H5Dclose(ds);
    for (uint32_t j = 0; j < 5; j++)
        for (uint32_t i = 0; i < 27; i++) assert_int_equal(test_bits(w[j * 27 + i]), test_bits(n->layers[1].w[i * 5 + j]));
    ds = H5Dopen2(f, "node/nodes/conv1_lif/tau", H5P_DEFAULT);
    H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, tau);
    H5Dclose(ds);
    ds = H5Dopen2(f, "node/nodes/conv1_lif/r", H5P_DEFAULT);
    H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, r);
    H5Dclose(ds);
    assert_float_equal(tau[0], 1e-4 / 0.25, 1e-10); /* dt/(1 − 0.75) = 4e-4 s */
    assert_float_equal(r[0], 4.0, 1e-6);             /* τ/dt */
    /* edges: N x 2 vlen strings, in chain order */
    ds = H5Dopen2(f, "node/edges", H5P_DEFAULT);
    hid_t mt = nirh5_vlen();
    char *e[16] = {0};
    assert_int_equal(h5_dims(f, "node/edges", d), 2);
    assert_true(d[0] == 7 && d[1] == 2);
    assert_true(H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, e) >= 0);
    assert_string_equal(e[0], "input");
    assert_string_equal(e[1], "conv1");
    assert_string_equal(e[4], "conv1_pool");
    assert_string_equal(e[13], "output");
    hid_t sp = H5Dget_space(ds);
    H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, e);
    H5Sclose(sp);
    H5Tclose(mt);
    H5Dclose(ds);
    H5Fclose(f);
    net_free(n);
}

/* The reset choices: a subtract-reset layer comes back as subtract through evsnn's metadata;
 * --reset overrides it; without the metadata (another tool's file) the reset is NIR's zero. */
static void test_reset_semantics(void **state) {
    (void)state;
    neuron_cfg c[1] = {{.beta = 0.9f, .theta = 0.5f, .reset = RESET_SUBTRACT, .cmp = CMP_GT, .bias = 1}};
    net *n = build("10-4", 0, 0, 0, c, 1, POOL_ON_CURRENTS, SPOOL_OR, 0, 1);
    nir_export_report wr;
    assert_int_equal(nir_save(path, n, NULL, NULL, &wr), 0);
    net_free(n);
    int err;
    nir_import_report rep;
    n = nir_load(path, NULL, NULL, &rep, &err);
    assert_non_null(n);
    assert_int_equal(n->layers[0].nc.reset, RESET_SUBTRACT);
    assert_string_equal(rep.layer[0].reset_from, "metadata");
    net_free(n);
    reset_mode rz = RESET_ZERO;
    nir_import_opts o = {.reset = &rz, .n_reset = 1};
    n = nir_load(path, &o, NULL, &rep, &err);
    assert_non_null(n);
    assert_int_equal(n->layers[0].nc.reset, RESET_ZERO);
    assert_string_equal(rep.layer[0].reset_from, "--reset");
    net_free(n);
    /* Strip the node's metadata: NIR alone says zero; β = 0.9 (≥ 0.5) still comes back exactly
     * from the chosen float τ. */
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(H5Ldelete(f, "node/nodes/fc1_lif/metadata", H5P_DEFAULT) >= 0);
    H5Fclose(f);
    n = nir_load(path, NULL, NULL, &rep, &err);
    assert_non_null(n);
    assert_int_equal(n->layers[0].nc.reset, RESET_ZERO);
    assert_string_equal(rep.layer[0].reset_from, "default");
    assert_int_equal(test_bits(n->layers[0].nc.beta), test_bits(0.9f));
    assert_int_equal(test_bits(n->layers[0].nc.theta), test_bits(0.5f));
    net_free(n);
}

/* The layout reader alone: what `evsnn nir info` shows, a topological order of shuffled
 * edges, and NIR files told apart from evsnn model files by content. */
static void test_read_and_detect(void **state) {
    (void)state;
    write_dense(path, 1, NULL, NULL, 0.0f);
    int err;
    nir_graph *g = nir_read(path, &err);
    if (!g) fail_msg("%s", evsnn_errmsg());
    assert_string_equal(g->version, "1.0.7");
    assert_int_equal(g->n_nodes, 6);
    assert_int_equal(g->n_edges, 5);
    int lif = nir_find_node(g, "1");
    assert_true(lif >= 0);
    const nir_param *tau = nir_get(&g->nodes[lif], "tau");
    assert_non_null(tau);
    assert_int_equal(tau->rank, 0);
    assert_int_equal(tau->dtype, NIR_F32);
    assert_float_equal(tau->v[0], (float)(DT / 0.5), 0);
    uint32_t order[6];
    assert_int_equal(nir_topo_order(g, path, order), 0);
    const char *want[] = {"input", "0", "1", "2", "3", "output"};
    for (int i = 0; i < 6; i++) assert_string_equal(g->nodes[order[i]].name, want[i]);
    nir_graph_free(g);
    assert_int_equal(nir_detect(path), 1);
    char mp[160];
    snprintf(mp, sizeof mp, "%s/m.h5", dir);
    net *n = build("10-4", 0, 0, 0, NULL, 0, POOL_ON_CURRENTS, SPOOL_OR, 0, 1);
    assert_int_equal(model_save(mp, n, NULL), 0);
    assert_int_equal(nir_detect(mp), 0);
    net_free(n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_snntorch_scalar_batch_shuffled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dt_override, setup, teardown),
        cmocka_unit_test_setup_teardown(test_per_neuron_fold, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conv_pool_flatten, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conv_stride_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roundtrip_dense, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roundtrip_conv_currents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roundtrip_spike_pooling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roundtrip_binarized, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_semantics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_and_detect, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
