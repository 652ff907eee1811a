/* tests/test_io_arrays.c — real-valued inputs: IDX files of every element type (08 u8,
 * 09 i8, 0B i16, 0C i32, 0D f32, 0E f64) and NumPy .npy arrays (versions 1.0 and 2.0, both
 * byte orders, [N, F] / [N, H, W] / [N, C, H, W]), with labels beside them or named.
 *
 * Every fixture is GENERATED here byte by byte from the published layouts (the IDX type
 * table of LeCun's MNIST page; NumPy's NEP 1 header), not with evsnn code, and the expected
 * values are the numbers written. NumPy's own writer is checked by tests/test_arrays.sh. */
#include "tests/testutil.h"

#include <math.h>

#include "io/dataset.h"
#include "sim/evsnn.h"

#define tpath test_dir_path

static void put_be(uint8_t *p, uint64_t v, unsigned size) {
    for (unsigned k = 0; k < size; k++) p[k] = (uint8_t)(v >> (8 * (size - 1 - k)));
}
static void put_le(uint8_t *p, uint64_t v, unsigned size) {
    for (unsigned k = 0; k < size; k++) p[k] = (uint8_t)(v >> (8 * k));
}

static void write_file(const char *path, const uint8_t *b, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

/* The six test values, chosen to be exact in every type that can hold them. */
static const double vals[6] = {0, 1, -2, 100, -128, 127};

/* Encode vals[j] as IDX element type `type` (big-endian). */
static void idx_elem(uint8_t *p, uint8_t type, double v) {
    float f = (float)v;
    uint32_t u32;
    uint64_t u64;
    switch (type) {
    case 0x08: p[0] = (uint8_t)(v < 0 ? -v : v); break; /* uint8: magnitudes */
    case 0x09: p[0] = (uint8_t)(int8_t)v; break;
    case 0x0B: put_be(p, (uint16_t)(int16_t)v, 2); break;
    case 0x0C: put_be(p, (uint32_t)(int32_t)v, 4); break;
    case 0x0D: memcpy(&u32, &f, 4); put_be(p, u32, 4); break;
    case 0x0E: memcpy(&u64, &v, 8); put_be(p, u64, 8); break;
    }
}

static unsigned idx_size(uint8_t type) {
    return type == 0x0B ? 2 : type == 0x0C || type == 0x0D ? 4 : type == 0x0E ? 8 : 1;
}

/* 2 samples of 1×1×3 (IDX N×H×W = 2×1×3) holding vals[0..2] and vals[3..5], and a uint8
 * labels file with 1, 0. */
static void test_idx_every_type(void **state) {
    (void)state;
    static const uint8_t types[] = {0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E};
    for (size_t t = 0; t < sizeof types; t++) {
        const uint8_t ty = types[t];
        uint8_t b[16 + 6 * 8];
        b[0] = 0, b[1] = 0, b[2] = ty, b[3] = 3;
        put_be(b + 4, 2, 4), put_be(b + 8, 1, 4), put_be(b + 12, 3, 4);
        for (int j = 0; j < 6; j++) idx_elem(b + 16 + j * idx_size(ty), ty, vals[j]);
        char name[64];
        snprintf(name, sizeof name, "t%02x-images-idx3-ubyte", ty);
        write_file(tpath(name), b, 16 + 6 * idx_size(ty));
        uint8_t l[10] = {0, 0, 8, 1, 0, 0, 0, 2, 1, 0};
        snprintf(name, sizeof name, "t%02x-labels-idx1-ubyte", ty);
        write_file(tpath(name), l, sizeof l);

        snprintf(name, sizeof name, "t%02x-images-idx3-ubyte", ty);
        int err;
        dataset *d = ds_open(tpath(name), NULL, &err);
        if (!d) fail_msg("type %02x: %s", ty, evsnn_errmsg());
        assert_int_equal(ds_len(d), 2);
        assert_int_equal(ds_n_classes(d), 2);
        uint32_t c, h, w;
        ds_shape(d, &c, &h, &w);
        assert_int_equal(c * 100 + h * 10 + w, 113);
        for (uint32_t i = 0; i < 2; i++) {
            const float *x;
            int label;
            assert_int_equal(ds_values(d, i, &x, &label), 0);
            assert_int_equal(label, 1 - (int)i);
            for (int j = 0; j < 3; j++) {
                double v = vals[3 * i + (uint32_t)j];
                if (ty == 0x08) v = fabs(v) / 255.0; /* pixels: direct coding takes pixel/255 */
                assert_float_equal(x[j], v, 0);
            }
            ds_sample s = {0};
            assert_int_equal(ds_get(d, i, &s), 0); /* direct coding: the values as the current */
            assert_non_null(s.static_x);
            assert_memory_equal(s.static_x, x, 3 * sizeof *x);
            ds_sample_deinit(&s);
        }
        assert_string_equal(ds_value_type(d), ty == 0x08 ? "uint8" : ty == 0x09 ? "int8" : ty == 0x0B ? "int16"
                                                   : ty == 0x0C ? "int32" : ty == 0x0D ? "float32" : "float64");
        const uint8_t *pix;
        assert_int_equal(ds_image(d, 0, &pix, NULL), ty == 0x08 ? 0 : EVSNN_ENOTSUP);
        ds_free(d);
    }
}

/* IDX 0A is not an element type; 0D with 2 dimensions is features (N×F → F×1×1 as c,h,w = 1,1,F). */
static void test_idx_features_and_refusals(void **state) {
    (void)state;
    uint8_t b[12 + 4 * 4] = {0, 0, 0x0A, 2};
    put_be(b + 4, 1, 4), put_be(b + 8, 4, 4);
    write_file(tpath("bad.idx"), b, sizeof b);
    int err;
    assert_null(ds_open(tpath("bad.idx"), NULL, &err));
    assert_int_equal(err, EVSNN_EFORMAT);

    b[2] = 0x0D;
    const float f[4] = {0.5f, -1.25f, 3e-3f, 1e6f};
    for (int j = 0; j < 4; j++) {
        uint32_t u;
        memcpy(&u, &f[j], 4);
        put_be(b + 12 + 4 * j, u, 4);
    }
    write_file(tpath("feat.idx"), b, sizeof b);
    dataset *d = ds_open(tpath("feat.idx"), NULL, &err);
    if (!d) fail_msg("%s", evsnn_errmsg());
    uint32_t c, h, w;
    ds_shape(d, &c, &h, &w);
    assert_int_equal(c, 1), assert_int_equal(h, 1), assert_int_equal(w, 4);
    const float *x;
    int label;
    assert_int_equal(ds_values(d, 0, &x, &label), 0);
    assert_int_equal(label, -1);
    for (int j = 0; j < 4; j++) assert_int_equal(test_bits(x[j]), test_bits(f[j]));
    ds_free(d);

    /* NaN is refused when the sample is read, naming the value */
    const uint32_t nan = 0x7fc00000u;
    put_be(b + 12 + 4, nan, 4);
    write_file(tpath("nan.idx"), b, sizeof b);
    d = ds_open(tpath("nan.idx"), NULL, &err);
    assert_non_null(d);
    assert_int_equal(ds_values(d, 0, &x, NULL), EVSNN_ENUMERIC);
    assert_non_null(strstr(evsnn_errmsg(), "value 1"));
    ds_free(d);
}

/* A .npy file: magic, version, header length (LE, 2 bytes for 1.0, 4 for 2.0), the dict
 * padded with spaces and a newline to a multiple of 64 bytes, then the data. */
static size_t npy_header(uint8_t *b, int major, const char *descr, const char *shape) {
    char dict[256];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape);
    const size_t pre = major == 1 ? 10 : 12;
    size_t total = pre + (size_t)n + 1;
    total = (total + 63) / 64 * 64;
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (uint8_t)major, b[7] = 0;
    if (major == 1) put_le(b + 8, total - pre, 2);
    else put_le(b + 8, total - pre, 4);
    memcpy(b + pre, dict, (size_t)n);
    memset(b + pre + n, ' ', total - pre - (size_t)n - 1);
    b[total - 1] = '\n';
    return total;
}

/* [2, 2, 1, 3] float32 little-endian (NumPy's default on x86), v1.0 header; labels in a
 * <stem>_labels.npy int64 array beside it. */
static void test_npy_nchw_with_side_labels(void **state) {
    (void)state;
    uint8_t b[512];
    size_t h = npy_header(b, 1, "<f4", "(2, 2, 1, 3)");
    assert_int_equal(h % 64, 0);
    for (int j = 0; j < 12; j++) {
        float f = (float)j * 0.25f - 1.0f;
        uint32_t u;
        memcpy(&u, &f, 4);
        put_le(b + h + 4 * (size_t)j, u, 4);
    }
    write_file(tpath("x.npy"), b, h + 48);
    uint8_t l[256];
    size_t hl = npy_header(l, 1, "<i8", "(2,)");
    put_le(l + hl, 7, 8), put_le(l + hl + 8, 3, 8);
    write_file(tpath("x_labels.npy"), l, hl + 16);

    int err;
    dataset *d = ds_open(tpath("x.npy"), NULL, &err);
    if (!d) fail_msg("%s", evsnn_errmsg());
    assert_string_equal(ds_format_name(d), "npy");
    assert_string_equal(ds_value_type(d), "float32");
    uint32_t c, hh, w;
    ds_shape(d, &c, &hh, &w);
    assert_int_equal(c, 2), assert_int_equal(hh, 1), assert_int_equal(w, 3);
    assert_int_equal(ds_n_classes(d), 8);
    const float *x;
    int label;
    assert_int_equal(ds_values(d, 1, &x, &label), 0);
    assert_int_equal(label, 3);
    for (int j = 0; j < 6; j++) assert_float_equal(x[j], (6 + j) * 0.25 - 1.0, 0);
    ds_free(d);
}

/* [3, 2] big-endian float64, version 2.0 header; labels named explicitly (an IDX labels
 * file of int16); Keras-style y_ name found for an x_ name. */
static void test_npy_features_be_v2_named_labels(void **state) {
    (void)state;
    uint8_t b[512];
    size_t h = npy_header(b, 2, ">f8", "(3, 2)");
    for (int j = 0; j < 6; j++) {
        double v = vals[j] / 4;
        uint64_t u;
        memcpy(&u, &v, 8);
        put_be(b + h + 8 * (size_t)j, u, 8);
    }
    write_file(tpath("x_train.npy"), b, h + 48);
    uint8_t l[8 + 6] = {0, 0, 0x0B, 1, 0, 0, 0, 3};
    put_be(l + 8, 2, 2), put_be(l + 10, 0, 2), put_be(l + 12, 5, 2);
    write_file(tpath("lab.idx"), l, sizeof l);
    ds_opts o;
    ds_opts_default(&o);
    o.labels = tpath("lab.idx");
    int err;
    dataset *d = ds_open(tpath("x_train.npy"), &o, &err);
    if (!d) fail_msg("%s", evsnn_errmsg());
    uint32_t c, hh, w;
    ds_shape(d, &c, &hh, &w);
    assert_int_equal(c * 100 + hh * 10 + w, 112);
    const float *x;
    int label;
    assert_int_equal(ds_values(d, 2, &x, &label), 0);
    assert_int_equal(label, 5);
    assert_float_equal(x[0], -32.0, 0);
    assert_float_equal(x[1], 31.75, 0);
    ds_free(d);

    /* y_train.npy (uint8 labels) is found for x_train.npy */
    uint8_t y[256];
    size_t hy = npy_header(y, 1, "|u1", "(3,)");
    y[hy] = 1, y[hy + 1] = 1, y[hy + 2] = 0;
    write_file(tpath("y_train.npy"), y, hy + 3);
    d = ds_open(tpath("x_train.npy"), NULL, &err);
    assert_non_null(d);
    assert_int_equal(ds_values(d, 0, &x, &label), 0);
    assert_int_equal(label, 1);
    ds_free(d);

    /* wrong label count, a Fortran-order array and a truncated one are refused by name */
    size_t hy2 = npy_header(y, 1, "|u1", "(2,)");
    write_file(tpath("y_train.npy"), y, hy2 + 2);
    assert_null(ds_open(tpath("x_train.npy"), NULL, &err));
    assert_non_null(strstr(evsnn_errmsg(), "y_train.npy"));
    char dict[] = "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2), }";
    size_t hf = npy_header(b, 1, "<f4", "(1, 2)");
    memcpy(b + 10, dict, strlen(dict));
    write_file(tpath("f.npy"), b, hf + 8);
    assert_null(ds_open(tpath("f.npy"), NULL, &err));
    assert_int_equal(err, EVSNN_ENOTSUP);
    assert_non_null(strstr(evsnn_errmsg(), "ascontiguousarray"));
    hf = npy_header(b, 1, "<f4", "(2, 2)");
    write_file(tpath("short.npy"), b, hf + 12);
    assert_null(ds_open(tpath("short.npy"), NULL, &err));
    assert_non_null(strstr(evsnn_errmsg(), "12 data bytes"));
}

/* A text file is no dataset, and says so (not a decoder error deep inside some guess). */
static void test_text_is_not_a_dataset(void **state) {
    (void)state;
    const char *md = "# evsnn\n\nOn a fresh Debian machine ...\n";
    write_file(tpath("README.md"), (const uint8_t *)md, strlen(md));
    int err;
    assert_null(ds_open(tpath("README.md"), NULL, &err));
    assert_int_equal(err, EVSNN_EFORMAT);
    assert_non_null(strstr(evsnn_errmsg(), "not a recognised dataset format"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idx_every_type),
        cmocka_unit_test(test_idx_features_and_refusals),
        cmocka_unit_test(test_npy_nchw_with_side_labels),
        cmocka_unit_test(test_npy_features_be_v2_named_labels),
        cmocka_unit_test(test_text_is_not_a_dataset),
    };
    return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
