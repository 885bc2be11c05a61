/* test_codec.c - the wire contract: round trips and bounded decoding. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "clus/v1/clus.pb-c.h"

#include <stdlib.h>
#include <string.h>

static uint8_t *pack(const Clus__V1__Request *req, size_t *len)
{
    uint8_t *buf;

    *len = clus__v1__request__get_packed_size(req);
    buf = malloc(*len);
    clus__v1__request__pack(req, buf);
    return buf;
}

static void test_request_round_trip(void **state)
{
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT, *back;
    Clus__V1__OfflineCall off = CLUS__V1__OFFLINE_CALL__INIT;
    size_t len;
    uint8_t *buf;

    off.resource = "vol1";
    off.flags = 0x2 | 0x40;
    off.destination_node = "n2";
    req.request_id = 0xFFFFFFFFFFFFull;
    req.call_case = CLUS__V1__REQUEST__CALL_OFFLINE_V2;
    req.offline_v2 = &off;
    buf = pack(&req, &len);
    back = clus__v1__request__unpack(NULL, len, buf);
    assert_non_null(back);
    assert_int_equal(back->call_case, CLUS__V1__REQUEST__CALL_OFFLINE_V2);
    assert_int_equal(back->request_id, 0xFFFFFFFFFFFFull);
    assert_string_equal(back->offline_v2->resource, "vol1");
    assert_string_equal(back->offline_v2->destination_node, "n2");
    assert_int_equal(back->offline_v2->flags, 0x42);
    clus__v1__request__free_unpacked(back, NULL);
    free(buf);
}

static void test_response_round_trip(void **state)
{
    Clus__V1__Response resp = CLUS__V1__RESPONSE__INIT, *back;
    Clus__V1__ResourceInfo info = CLUS__V1__RESOURCE_INFO__INIT;
    size_t len;
    uint8_t *buf;

    info.name = "web";
    info.state = -1; /* sint32: Unknown survives */
    resp.status = 997;
    resp.message = "online pending";
    resp.result_case = CLUS__V1__RESPONSE__RESULT_RESOURCE;
    resp.resource = &info;
    len = clus__v1__response__get_packed_size(&resp);
    buf = malloc(len);
    clus__v1__response__pack(&resp, buf);
    back = clus__v1__response__unpack(NULL, len, buf);
    assert_non_null(back);
    assert_int_equal(back->status, 997);
    assert_int_equal(back->resource->state, -1);
    assert_string_equal(back->resource->name, "web");
    clus__v1__response__free_unpacked(back, NULL);
    free(buf);
}

static void test_truncated_and_garbage(void **state)
{
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
    Clus__V1__OpenCall open = CLUS__V1__OPEN_CALL__INIT;
    size_t len;
    uint8_t *buf;
    uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};

    open.resource = "name";
    open.type = "dummy";
    req.call_case = CLUS__V1__REQUEST__CALL_OPEN;
    req.open = &open;
    buf = pack(&req, &len);
    assert_null(clus__v1__request__unpack(NULL, len - 1, buf));
    assert_null(clus__v1__request__unpack(NULL, len - 4, buf));
    assert_null(clus__v1__request__unpack(NULL, sizeof(junk), junk));
    free(buf);
}

static void test_unknown_field_names_no_call(void **state)
{
    uint8_t unknown[] = {0x08, 0x07, 0x98, 0x06, 0x01}; /* id 7, field 99 */
    Clus__V1__Request *r = clus__v1__request__unpack(NULL, sizeof(unknown), unknown);

    assert_non_null(r);
    assert_int_equal(r->call_case, CLUS__V1__REQUEST__CALL__NOT_SET);
    clus__v1__request__free_unpacked(r, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_round_trip),
        cmocka_unit_test(test_response_round_trip),
        cmocka_unit_test(test_truncated_and_garbage),
        cmocka_unit_test(test_unknown_field_names_no_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
