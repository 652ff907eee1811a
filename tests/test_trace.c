/* tests/test_trace.c — the recorded-trace HDF5 file: round trip, layout read back with the
 * HDF5 library directly (not through trace_read), atomic writing, bad files. */
#include "testutil.h"

#include <hdf5.h>

#include "io/trace.h"
#include "sim/evsnn.h"

/* A hand-built 2-layer dense net 8-4-3 (net.c may not exist on this branch). */
static net *tiny_net(void) {
    net *n = calloc(1, sizeof *n);
    n->n_layers = 2;
    n->layers = calloc(2, sizeof *n->layers);
    snprintf(n->arch, sizeof n->arch, "8-4-3");
    n->in_c = 8; n->in_h = 1; n->in_w = 1; n->n_in = 8;
    net_layer *a = &n->layers[0], *b = &n->layers[1];
    a->kind = NET_DENSE; a->in_c = 8; a->in_h = a->in_w = 1; a->n_in = 8;
    a->out_c = 4; a->out_h = a->out_w = 1; a->n_out = 4;
    snprintf(a->name, sizeof a->name, "fc1");
    b->kind = NET_DENSE; b->in_c = 4; b->in_h = b->in_w = 1; b->n_in = 4;
    b->out_c = 3; b->out_h = b->out_w = 1; b->n_out = 3;
    snprintf(b->name, sizeof b->name, "fc2");
    return n;
}

static void free_net(net *n) { free(n->layers); free(n); }

/* Deterministic pseudo-random train (LCG); generated fixture. */
static void rand_train(spk_train *s, uint32_t T, uint32_t n, uint32_t seed, int vals) {
    assert_int_equal(spk_init(s, T, n, vals ? SPK_VALUES : 0), 0);
    uint32_t x = seed * 2654435761u + 1;
    for (uint32_t t = 0; t < T; t++)
        for (uint32_t c = 0; c < n; c++) {
            x = x * 1664525u + 1013904223u;
            if ((x >> 28) < 5) assert_int_equal(spk_push(s, t, c, (float)(1 + (x >> 30))), 0);
        }
    assert_int_equal(spk_close(s, 0), 0);
}

static void assert_same(const spk_train *a, const spk_train *b) {
    assert_int_equal(a->T, b->T);
    assert_int_equal(a->n, b->n);
    assert_int_equal(a->nnz, b->nnz);
    assert_memory_equal(a->off, b->off, (a->T + 1) * sizeof *a->off);
    if (a->nnz) assert_memory_equal(a->idx, b->idx, a->nnz * sizeof *a->idx);
}

static void test_round_trip(void **state) {
    (void)state;
    char dir[64], path[128];
    test_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/t.h5", dir);
    net *n = tiny_net();
    const uint32_t T = 5, N = 3;
    int err = 0;
    trace_writer *w = trace_create(path, n, T, &err);
    assert_non_null(w);
    /* while writing, only the temporary file exists */
    assert_int_not_equal(access(path, F_OK), 0);
    spk_train in[3], out[3][2];
    for (uint32_t i = 0; i < N; i++) {
        rand_train(&in[i], T, 8, i + 1, 1);
        rand_train(&out[i][0], T, 4, 10 + i, 0);
        rand_train(&out[i][1], T, 3, 20 + i, 0);
        sim_result r = {.n_layers = 2, .T = T, .out = out[i]};
        assert_int_equal(trace_add(w, &in[i], &r, (int)i + 7), 0);
    }
    /* a fourth sample with static input: recorded with an empty input train */
    sim_result r3 = {.n_layers = 2, .T = T, .out = out[0]};
    assert_int_equal(trace_add(w, NULL, &r3, 3), 0);
    assert_int_equal(trace_close(w), 0);
    assert_int_equal(access(path, F_OK), 0);
    /* no temporary left beside it */
    assert_int_equal(test_sh("ls '%s' | grep -q tmp", dir), 1);

    trace_reader *rd = trace_open(path, &err);
    assert_non_null(rd);
    assert_int_equal(trace_len(rd), N + 1);
    {
        spk_train e3, l3[2];
        assert_int_equal(trace_read(rd, N, &e3, l3, NULL), 0);
        assert_int_equal(e3.nnz, 0);
        assert_same(&l3[1], &out[0][1]);
        spk_deinit(&e3); spk_deinit(&l3[0]); spk_deinit(&l3[1]);
    }
    assert_int_equal(trace_T(rd), T);
    const net *sh = trace_net(rd);
    assert_int_equal(sh->n_layers, 2);
    assert_int_equal(sh->layers[1].n_out, 3);
    assert_string_equal(sh->layers[1].name, "fc2");
    assert_null(sh->layers[0].w);
    for (uint32_t i = 0; i < N; i++) {
        spk_train gi, gl[2];
        int lab = 0;
        assert_int_equal(trace_read(rd, i, &gi, gl, &lab), 0);
        assert_int_equal(lab, (int)i + 7);
        assert_same(&gi, &in[i]);
        assert_memory_equal(gi.val, in[i].val, in[i].nnz * sizeof(float));
        assert_same(&gl[0], &out[i][0]);
        assert_same(&gl[1], &out[i][1]);
        spk_deinit(&gi); spk_deinit(&gl[0]); spk_deinit(&gl[1]);
    }
    spk_train x;
    assert_int_equal(trace_read(rd, N + 1, &x, NULL, NULL), EVSNN_ERANGE);
    trace_free(rd);

    /* The layout, read with the HDF5 library itself: /layers/fc2/idx (layer 1's output)
     * holds sample 1's events right after sample 0's, and /layers/fc2/start says where. */
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t d = H5Dopen2(f, "layers/fc2/idx", H5P_DEFAULT);
    hid_t sp = H5Dget_space(d);
    hsize_t dims[1];
    H5Sget_simple_extent_dims(sp, dims, NULL);
    uint32_t total = out[0][1].nnz + out[1][1].nnz + out[2][1].nnz + out[0][1].nnz;
    assert_int_equal(dims[0], total);
    uint32_t *all = malloc(total * sizeof *all);
    H5Dread(d, H5T_NATIVE_UINT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, all);
    assert_memory_equal(all + out[0][1].nnz, out[1][1].idx, out[1][1].nnz * sizeof *all);
    free(all);
    H5Sclose(sp);
    H5Dclose(d);
    H5Fclose(f);

    for (uint32_t i = 0; i < N; i++) { spk_deinit(&in[i]); spk_deinit(&out[i][0]); spk_deinit(&out[i][1]); }
    free_net(n);
    test_rmdir(dir);
}

static void test_abort_and_bad_shape(void **state) {
    (void)state;
    char dir[64], path[128];
    test_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/t.h5", dir);
    net *n = tiny_net();
    int err = 0;
    trace_writer *w = trace_create(path, n, 4, &err);
    assert_non_null(w);
    spk_train in, out[2];
    rand_train(&in, 4, 8, 1, 0);
    rand_train(&out[0], 4, 5, 2, 0); /* wrong: layer 0 has 4 outputs */
    rand_train(&out[1], 4, 3, 3, 0);
    sim_result r = {.n_layers = 2, .T = 4, .out = out};
    assert_int_equal(trace_add(w, &in, &r, 0), EVSNN_ESHAPE);
    assert_non_null(strstr(evsnn_errmsg(), "train 1"));
    assert_int_not_equal(trace_close(w), 0); /* refuses, removes the temporary */
    assert_int_not_equal(access(path, F_OK), 0);
    assert_int_equal(test_sh("ls '%s' | grep -q tmp", dir), 1);
    spk_deinit(&in); spk_deinit(&out[0]); spk_deinit(&out[1]);
    free_net(n);
    test_rmdir(dir);
}

static void test_bad_files(void **state) {
    (void)state;
    char dir[64], path[128];
    test_tmpdir(dir, sizeof dir);
    int err = 0;
    snprintf(path, sizeof path, "%s/missing.h5", dir);
    assert_null(trace_open(path, &err));
    assert_int_equal(err, EVSNN_EIO);
    snprintf(path, sizeof path, "%s/text.h5", dir);
    FILE *fp = fopen(path, "w");
    fputs("not hdf5\n", fp);
    fclose(fp);
    assert_null(trace_open(path, &err));
    assert_int_equal(err, EVSNN_EFORMAT);
    assert_non_null(strstr(evsnn_errmsg(), "text.h5"));

    /* a trace whose version is from the future */
    snprintf(path, sizeof path, "%s/new.h5", dir);
    net *n = tiny_net();
    trace_writer *w = trace_create(path, n, 2, &err);
    assert_int_equal(trace_close(w), 0);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t a = H5Aopen(f, "format_version", H5P_DEFAULT);
    uint32_t v = TRACE_VERSION + 1;
    H5Awrite(a, H5T_NATIVE_UINT32, &v);
    H5Aclose(a);
    H5Fclose(f);
    assert_null(trace_open(path, &err));
    assert_int_equal(err, EVSNN_EVERSION);
    assert_non_null(strstr(evsnn_errmsg(), "upgrade"));
    free_net(n);
    test_rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_abort_and_bad_shape),
        cmocka_unit_test(test_bad_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
