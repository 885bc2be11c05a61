/* test_status.c - the Win32 code table and the errno mapping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "status.h"

#include <errno.h>
#include <string.h>

static void test_names(void **state)
{
    assert_string_equal(clus_status_name(0), "ERROR_SUCCESS");
    assert_string_equal(clus_status_name(997), "ERROR_IO_PENDING");
    assert_string_equal(clus_status_name(21), "ERROR_NOT_READY");
    assert_string_equal(clus_status_name(87), "ERROR_INVALID_PARAMETER");
    assert_string_equal(clus_status_name(5007), "ERROR_RESOURCE_NOT_FOUND");
    assert_string_equal(clus_status_name(5038), "ERROR_RESOURCE_FAILED");
    assert_string_equal(clus_status_name(5910), "ERROR_RESOURCE_CALL_TIMED_OUT");
    assert_string_equal(clus_status_name(123456), "ERROR_123456");
    assert_string_equal(clus_status_text(123456), "Unknown error.");
    assert_non_null(strstr(clus_status_text(21), "not ready"));
}

static void test_numbers_match_the_model(void **state)
{
    assert_int_equal(CLUS_E_IO_PENDING, 0x3E5);
    assert_int_equal(CLUS_E_RESOURCE_NOT_AVAILABLE, 0x138E);
    assert_int_equal(CLUS_E_RESOURCE_NOT_FOUND, 0x138F);
    assert_int_equal(CLUS_E_RESOURCE_FAILED, 0x13AE);
    assert_int_equal(CLUS_E_RESOURCE_CALL_TIMED_OUT, 0x1716);
    assert_int_equal(CLUS_E_RESOURCE_LOCKED_STATUS, 0x1748);
    assert_int_equal(CLUS_E_BUSY, 0xAA);
    assert_int_equal(CLUS_E_REVISION_MISMATCH, 0x51A);
}

static void test_errno(void **state)
{
    assert_int_equal(clus_status_from_errno(0), 0);
    assert_int_equal(clus_status_from_errno(EBUSY), 170);
    assert_int_equal(clus_status_from_errno(EROFS), 19);
    assert_int_equal(clus_status_from_errno(EIO), 1117);
    assert_int_equal(clus_status_from_errno(ENXIO), 1167);
    assert_int_equal(clus_status_from_errno(ETIMEDOUT), 1460);
    assert_int_equal(clus_status_from_errno(EINVAL), 87);
    assert_int_equal(clus_status_from_errno(ECANCELED), 995);
    assert_int_equal(clus_status_from_errno(EACCES), 5);
    assert_int_equal(clus_status_from_errno(EEXIST), 183);
    assert_int_equal(clus_status_from_errno(ENOENT), 2);
    assert_int_equal(clus_status_from_errno(ELOOP), 31); /* unmapped: general failure */
}

static void test_parse(void **state)
{
    uint32_t code = 0;

    assert_int_equal(clus_status_parse("ERROR_BUSY", &code), 0);
    assert_int_equal(code, 170);
    assert_int_equal(clus_status_parse("not_ready", &code), 0);
    assert_int_equal(code, 21);
    assert_int_equal(clus_status_parse("nonsense", &code), 87);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_numbers_match_the_model),
        cmocka_unit_test(test_errno),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
