/* test_codec.c - the wire contract: round trips and bounded decoding. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "clus/v1/clus.pb-c.h"
#include "pbcopy.h"

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

/* clus_pb_copy owns everything: the original's memory can go. */
static void test_deep_copy(void **state)
{
    Clus__V1__ControlResult cr = CLUS__V1__CONTROL_RESULT__INIT, *copy;
    Clus__V1__Param p = CLUS__V1__PARAM__INIT, *pp = &p;
    char *key = strdup("size"), *value = strdup("64M");
    uint8_t out[3] = {1, 2, 3};

    (void)state;
    p.key = key;
    p.value = value;
    cr.properties = &pp;
    cr.n_properties = 1;
    cr.out_buffer.data = out;
    cr.out_buffer.len = sizeof(out);
    cr.bytes_returned = 3;
    copy = (Clus__V1__ControlResult *)clus_pb_copy(&cr.base);
    assert_non_null(copy);
    memset(key, 'x', strlen(key));
    memset(value, 'x', strlen(value));
    free(key);
    free(value);
    assert_int_equal(copy->n_properties, 1);
    assert_string_equal(copy->properties[0]->key, "size");
    assert_string_equal(copy->properties[0]->value, "64M");
    assert_int_equal(copy->out_buffer.len, 3);
    assert_int_equal(copy->out_buffer.data[2], 3);
    assert_ptr_not_equal(copy->out_buffer.data, out);
    assert_int_equal(copy->bytes_returned, 3);
    clus__v1__control_result__free_unpacked(copy, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_round_trip),
        cmocka_unit_test(test_deep_copy),
        cmocka_unit_test(test_response_round_trip),
        cmocka_unit_test(test_truncated_and_garbage),
        cmocka_unit_test(test_unknown_field_names_no_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
