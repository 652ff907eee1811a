/* tests/test_spk.c — the spike train: building, sorting/merging, validation, conversion. */
#include "tests/testutil.h"

#include <math.h>

#include "sim/evsnn.h"
#include "sim/spk.h"

static void test_build_and_iterate(void **state) {
    (void)state;
    spk_train s;
    assert_int_equal(spk_init(&s, 5, 10, 0), 0);
    assert_int_equal(spk_push(&s, 0, 3, 1), 0);
    assert_int_equal(spk_push(&s, 0, 7, 1), 0);
    assert_int_equal(spk_push(&s, 3, 1, 1), 0); /* steps 1 and 2 stay empty */
    assert_int_equal(spk_close(&s, 0), 0);
    const uint32_t off[6] = {0, 2, 2, 2, 3, 3};
    assert_memory_equal(s.off, off, sizeof off);
    assert_int_equal(s.nnz, 3);
    assert_int_equal(spk_count(&s, 0), 2);
    assert_int_equal(spk_count(&s, 4), 0);
    assert_int_equal(spk_validate(&s), 0);
    assert_float_equal(spk_total(&s), 3.0, 0);
    spk_deinit(&s);
    spk_deinit(&s); /* twice is fine */
}

static void test_push_errors(void **state) {
    (void)state;
    spk_train s;
    assert_int_equal(spk_init(&s, 0, 10, 0), EVSNN_EINVAL);
    assert_int_equal(spk_init(&s, 4, 10, 0), 0);
    assert_int_equal(spk_push(&s, 4, 0, 1), EVSNN_EINVAL);  /* step out of range */
    assert_int_equal(spk_push(&s, 0, 10, 1), EVSNN_EINVAL); /* channel out of range */
    assert_int_equal(spk_push(&s, 2, 0, 1), 0);
    assert_int_equal(spk_push(&s, 1, 0, 1), EVSNN_EINVAL);  /* step decreased */
    spk_deinit(&s);
}

/* Unsorted channels with duplicates: SPK_SORT sorts and merges (values summed). */
static void test_sort_merge(void **state) {
    (void)state;
    spk_train s;
    assert_int_equal(spk_init(&s, 3, 10, SPK_VALUES), 0);
    spk_push(&s, 0, 5, 1);
    spk_push(&s, 0, 2, 2);
    spk_push(&s, 0, 5, 3);
    spk_push(&s, 2, 9, 1);
    spk_push(&s, 2, 0, 1);
    assert_int_equal(spk_validate(&s) == 0, 0); /* open and unsorted: invalid */
    assert_int_equal(spk_close(&s, SPK_SORT), 0);
    assert_int_equal(spk_validate(&s), 0);
    assert_int_equal(s.nnz, 4);
    const uint32_t idx[4] = {2, 5, 0, 9};
    const float val[4] = {2, 4, 1, 1};
    assert_memory_equal(s.idx, idx, sizeof idx);
    assert_memory_equal(s.val, val, sizeof val);
    spk_deinit(&s);
    /* Binary: duplicates dropped. */
    assert_int_equal(spk_init(&s, 1, 4, 0), 0);
    spk_push(&s, 0, 3, 1);
    spk_push(&s, 0, 3, 1);
    spk_push(&s, 0, 1, 1);
    spk_close(&s, SPK_SORT);
    assert_int_equal(s.nnz, 2);
    assert_int_equal(s.idx[0], 1);
    assert_int_equal(s.idx[1], 3);
    spk_deinit(&s);
}

static void test_validate_catches(void **state) {
    (void)state;
    spk_train s;
    spk_init(&s, 2, 4, SPK_VALUES);
    spk_push(&s, 0, 1, 1);
    spk_push(&s, 0, 2, 1);
    spk_close(&s, 0);
    assert_int_equal(spk_validate(&s), 0);
    s.idx[1] = 1; /* not strictly increasing */
    assert_int_equal(spk_validate(&s), EVSNN_EFORMAT);
    assert_non_null(strstr(evsnn_errmsg(), "step 0"));
    s.idx[1] = 4; /* out of range */
    assert_int_equal(spk_validate(&s), EVSNN_EFORMAT);
    s.idx[1] = 2;
    s.val[0] = NAN;
    assert_int_equal(spk_validate(&s), EVSNN_EFORMAT);
    s.val[0] = 1;
    s.off[2] = 1; /* offsets do not end at nnz */
    assert_int_equal(spk_validate(&s), EVSNN_EFORMAT);
    spk_deinit(&s);
}

static void test_dense_roundtrip_and_copy(void **state) {
    (void)state;
    float x[3 * 4] = {0, 1, 0, 2, 0, 0, 0, 0, 0.5f, 0, 0, 1};
    spk_train s, c;
    assert_int_equal(spk_from_dense(&s, x, 3, 4, SPK_VALUES), 0);
    assert_int_equal(s.nnz, 4);
    assert_int_equal(spk_copy(&c, &s), 0);
    float y[12];
    spk_to_dense(y, &c);
    assert_memory_equal(x, y, sizeof x);
    spk_clear(&c);
    assert_int_equal(c.nnz, 0);
    assert_int_equal(spk_push(&c, 1, 0, 1), 0);
    spk_close(&c, 0);
    assert_int_equal(spk_validate(&c), 0);
    spk_deinit(&s);
    spk_deinit(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_and_iterate), cmocka_unit_test(test_push_errors),
        cmocka_unit_test(test_sort_merge),        cmocka_unit_test(test_validate_catches),
        cmocka_unit_test(test_dense_roundtrip_and_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
