/* test_events.c - the event ring: sequence numbers, filters, gaps. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "events.h"

#include <string.h>

static void add(clus_events *ev, const char *res, int state)
{
    Clus__V1__Event e = CLUS__V1__EVENT__INIT;

    e.resource = (char *)res;
    e.new_state = state;
    e.message = "m";
    clus_events_append(ev, &e);
}

static void test_seq_and_filter(void **state)
{
    clus_events *ev = clus_events_new(8, 42);
    Clus__V1__Event out[8];
    bool gap = true;

    add(ev, "a", 2);
    add(ev, "b", 3);
    add(ev, "a", 4);
    assert_int_equal(clus_events_last_seq(ev), 3);
    assert_int_equal(clus_events_collect(ev, 0, NULL, out, 8, &gap), 3);
    assert_false(gap);
    assert_int_equal(out[0].seq, 1);
    assert_int_equal(out[0].boot_id, 42);
    assert_string_equal(out[0].resource, "a");
    assert_string_equal(out[0].message, "m");
    assert_int_equal(out[1].new_state, 3);
    assert_int_equal(clus_events_collect(ev, 1, "a", out, 8, &gap), 1);
    assert_int_equal(out[0].seq, 3);
    assert_int_equal(clus_events_collect(ev, 3, NULL, out, 8, &gap), 0);
    assert_int_equal(clus_events_collect(ev, 0, NULL, out, 2, &gap), 2);
    clus_events_free(ev);
}

static void test_gap_when_overwritten(void **state)
{
    clus_events *ev = clus_events_new(4, 1);
    Clus__V1__Event out[4];
    bool gap = false;

    for (int i = 0; i < 10; i++)
        add(ev, "x", i);
    assert_int_equal(clus_events_collect(ev, 2, NULL, out, 4, &gap), 4);
    assert_true(gap);
    assert_int_equal(out[0].seq, 7);
    assert_int_equal(clus_events_collect(ev, 6, NULL, out, 4, &gap), 4);
    assert_false(gap);
    clus_events_free(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seq_and_filter),
        cmocka_unit_test(test_gap_when_overwritten),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
