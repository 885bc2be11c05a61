/* test_names.c - flag parsing (names and numbers), states, control codes, names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "names.h"
#include "status.h"

#include <clus/restype.h>

#include <string.h>

static void test_flag_values_are_the_seeds(void **state)
{
    assert_int_equal(CLUS_ONLINE_RECOVER_MONITOR_STATE, 0x1);
    assert_int_equal(CLUS_ONLINE_IGNORE_RESOURCE_STATUS, 0x2);
    assert_int_equal(CLUS_ONLINE_RETURN_TO_SOURCE_NODE_ON_ERR, 0x4);
    assert_int_equal(CLUS_ONLINE_RESTORE_ONLINE_STATE, 0x8);
    assert_int_equal(CLUS_ONLINE_IGNORE_NETWORK_CONNECTIVITY, 0x10);
    assert_int_equal(CLUS_OFFLINE_IGNORE_RESOURCE_STATUS, 0x1);
    assert_int_equal(CLUS_OFFLINE_RETURN_TO_SOURCE_NODE_ON_ERROR, 0x2);
    assert_int_equal(CLUS_OFFLINE_QUEUE_ENABLED, 0x4);
    assert_int_equal(CLUS_OFFLINE_RETURNING_TO_SOURCE_NODE_ON_ERR, 0x8);
    assert_int_equal(CLUS_OFFLINE_DUE_TO_EMBEDDED_FAILURE, 0x10);
    assert_int_equal(CLUS_OFFLINE_IGNORE_NETWORK_CONNECTIVITY, 0x20);
    assert_int_equal(CLUS_OFFLINE_DO_NOT_UPDATE_PERSISTENT_STATE, 0x40);
    assert_int_equal(clus_flags_valid(CLUS_FLAGS_ONLINE), 0x1F);
    assert_int_equal(clus_flags_valid(CLUS_FLAGS_OFFLINE), 0x7F);
}

static void test_flags_by_name(void **state)
{
    uint32_t f = 0;
    char err[128];

    assert_int_equal(clus_flags_parse(CLUS_FLAGS_ONLINE, "return-to-source", &f, err, 128), 0);
    assert_int_equal(f, 0x4);
    assert_int_equal(clus_flags_parse(CLUS_FLAGS_OFFLINE, "return-to-source", &f, err, 128), 0);
    assert_int_equal(f, 0x2); /* the two flag spaces differ */
    assert_int_equal(clus_flags_parse(CLUS_FLAGS_ONLINE,
                                      "recover-monitor-state,IGNORE-NETWORK-CONNECTIVITY", &f, err,
                                      128),
                     0);
    assert_int_equal(f, 0x11);
    assert_int_equal(clus_flags_parse(CLUS_FLAGS_ONLINE, "bogus", &f, err, 128), 87);
    assert_non_null(strstr(err, "bogus"));
    assert_int_equal(clus_flags_parse(CLUS_FLAGS_ONLINE, "return-to-source,", &f, err, 128), 0);
}

static void test_flags_by_number(void **state)
{
    uint32_t f = 0;
    char err[128];

    assert_int_equal(clus_flags_parse(CLUS_FLAGS_OFFLINE, "0x7f", &f, err, 128), 0);
    assert_int_equal(f, 0x7f);
    assert_int_equal(clus_flags_parse(CLUS_FLAGS_OFFLINE, "0x80", &f, err, 128), 87);
    assert_int_equal(clus_flags_parse(CLUS_FLAGS_ONLINE, "32", &f, err, 128), 87);
    assert_int_equal(clus_flags_parse(CLUS_FLAGS_ONLINE, "16", &f, err, 128), 0);
    assert_int_equal(f, 16);
}

static void test_flags_format(void **state)
{
    char buf[128];

    clus_flags_format(CLUS_FLAGS_OFFLINE, 0x42, buf, sizeof(buf));
    assert_string_equal(buf, "return-to-source,do-not-update-persistent-state");
    clus_flags_format(CLUS_FLAGS_ONLINE, 0, buf, sizeof(buf));
    assert_string_equal(buf, "");
}

static void test_states(void **state)
{
    assert_string_equal(clus_state_name(2), "Online");
    assert_string_equal(clus_state_name(3), "Offline");
    assert_string_equal(clus_state_name(4), "Failed");
    assert_string_equal(clus_state_name(129), "OnlinePending");
    assert_string_equal(clus_state_name(130), "OfflinePending");
    assert_string_equal(clus_state_name(-1), "Unknown");
}

static void test_resource_names(void **state)
{
    char big[200];

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_true(clus_name_valid("web-1.db_x"));
    assert_false(clus_name_valid(""));
    assert_false(clus_name_valid("-x"));
    assert_false(clus_name_valid("../x"));
    assert_false(clus_name_valid("a b"));
    assert_false(clus_name_valid(big));
    big[CLUS_NAME_MAX] = '\0';
    assert_true(clus_name_valid(big));
}

static void test_control_codes(void **state)
{
    uint32_t code = 0;

    assert_int_equal(clus_control_code_parse("GET_PRIVATE_PROPERTIES", false, &code), 0);
    assert_int_equal(code, 0x01000081);
    assert_int_equal(
        clus_control_code_parse("CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES", false, &code), 0);
    assert_int_equal(code, 0x01400086);
    assert_int_equal(clus_control_code_parse("GET_ARB_TIMEOUT", true, &code), 0);
    assert_int_equal(code, 0x02000015);
    assert_int_equal(clus_control_code_parse("0x01000000", false, &code), 0);
    assert_int_equal(code, CLUSCTL_RESOURCE_UNKNOWN);
    assert_int_equal(clus_control_code_parse("NOPE", false, &code), 87);
    assert_string_equal(clus_control_code_name(0x01000081), "GET_PRIVATE_PROPERTIES");
}

/* YAML loaders refuse what is not UTF-8 before libfyaml sees it. */
static void test_utf8(void **state)
{
    size_t bad = 99;

    assert_true(clus_utf8_valid("plain: ascii\n", 13, &bad));
    assert_true(clus_utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x99\x82", 14, &bad));
    assert_true(clus_utf8_valid("", 0, &bad));
    assert_false(clus_utf8_valid("%li\x8a", 4, &bad)); /* the libfyaml 0.7.12 hang */
    assert_int_equal(bad, 3);
    assert_false(clus_utf8_valid("ab\xc3", 3, &bad)); /* cut short */
    assert_int_equal(bad, 2);
    assert_false(clus_utf8_valid("\xc0\xaf", 2, &bad)); /* overlong '/' */
    assert_int_equal(bad, 0);
    assert_false(clus_utf8_valid("\xe0\x80\xaf", 3, &bad));     /* overlong, 3 bytes */
    assert_false(clus_utf8_valid("\xed\xa0\x80", 3, &bad));     /* a surrogate */
    assert_false(clus_utf8_valid("\xf4\x90\x80\x80", 4, &bad)); /* above U+10FFFF */
    assert_false(clus_utf8_valid("x\xffy", 3, &bad));
    assert_int_equal(bad, 1);
    /* and no control characters but newline and CR: tabs crashed libfyaml */
    assert_true(clus_yaml_text_valid("a: b\r\n", 6, &bad));
    assert_false(clus_yaml_text_valid("- ::\t::", 7, &bad));
    assert_int_equal(bad, 4);
    assert_false(clus_yaml_text_valid("- ::\0::", 7, &bad));
    assert_int_equal(bad, 4);
    assert_false(clus_yaml_text_valid("a\x1b[0m", 5, &bad));
    assert_int_equal(bad, 1);
    assert_false(clus_yaml_text_valid("ok\xff", 3, &bad)); /* still UTF-8 first */
    assert_int_equal(bad, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flag_values_are_the_seeds),
        cmocka_unit_test(test_flags_by_name),
        cmocka_unit_test(test_flags_by_number),
        cmocka_unit_test(test_flags_format),
        cmocka_unit_test(test_states),
        cmocka_unit_test(test_resource_names),
        cmocka_unit_test(test_control_codes),
        cmocka_unit_test(test_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
