/* test_params.c - strict parsing of K=V, numbers and booleans. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "params.h"
#include "status.h"

#include <stdlib.h>
#include <string.h>

static void test_split(void **state)
{
    char *k, *v, err[128];

    assert_int_equal(clus_param_split("command=sleep 1=2", &k, &v, err, sizeof(err)), 0);
    assert_string_equal(k, "command");
    assert_string_equal(v, "sleep 1=2");
    free(k);
    assert_int_equal(clus_param_split("novalue", &k, &v, err, sizeof(err)), 87);
    assert_int_equal(clus_param_split("=x", &k, &v, err, sizeof(err)), 87);
    assert_int_equal(clus_param_split("1a=x", &k, &v, err, sizeof(err)), 87);
    assert_int_equal(clus_param_split("a=", &k, &v, err, sizeof(err)), 0);
    assert_string_equal(v, "");
    free(k);
}

static void test_numbers(void **state)
{
    uint32_t u = 7;
    uint64_t u64 = 0;

    assert_true(clus_parse_u32("0", 10, &u) && u == 0);
    assert_true(clus_parse_u32("0x10", 100, &u) && u == 16);
    assert_false(clus_parse_u32("11", 10, &u));
    assert_false(clus_parse_u32("-1", 10, &u));
    assert_false(clus_parse_u32("", 10, &u));
    assert_false(clus_parse_u32("5ms", 10, &u));
    assert_false(clus_parse_u32(" 5", 10, &u));
    assert_false(clus_parse_u32("99999999999999999999", UINT32_MAX, &u));
    assert_true(clus_parse_u64("18446744073709551615", &u64) && u64 == UINT64_MAX);
}

static void test_bools(void **state)
{
    bool b = false;

    assert_true(clus_parse_bool("TRUE", &b) && b);
    assert_true(clus_parse_bool("off", &b) && !b);
    assert_true(clus_parse_bool("1", &b) && b);
    assert_false(clus_parse_bool("maybe", &b));
    assert_false(clus_parse_bool(NULL, &b));
}

static void test_keys(void **state)
{
    char big[80];

    memset(big, 'k', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_true(clus_param_key_valid("online_delay_ms"));
    assert_true(clus_param_key_valid("_x.y-z"));
    assert_false(clus_param_key_valid(""));
    assert_false(clus_param_key_valid("a b"));
    assert_false(clus_param_key_valid(big));
}

static void test_param_list(void **state)
{
    clus_param_list list = {0};

    for (int i = 0; i < 40; i++)
        assert_true(clus_param_list_add(&list, "k", i % 2 ? "v" : NULL));
    assert_int_equal(list.count, 40);
    assert_string_equal(list.items[39].value, "v");
    assert_string_equal(list.items[38].value, "");
    clus_param_list_free(&list);
    assert_int_equal(list.count, 0);
    assert_null(list.items);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),      cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_bools),      cmocka_unit_test(test_keys),
        cmocka_unit_test(test_param_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
