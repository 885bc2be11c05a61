/*
 * test_coord_move.c - the move steps (coordinator/move.h): flags of each
 * call, ownership at each step, and every outcome.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "move.h"

#include <clus/restype.h>

enum { SRC = 0, DST = 1 };

static void expect_call(const clus_move *m, enum clus_move_call_kind kind, int node, uint32_t flags,
                        int destination)
{
    clus_move_call c;

    clus_move_current(m, &c);
    assert_int_equal(c.kind, kind);
    assert_int_equal(c.node, node);
    assert_int_equal(c.flags, flags);
    assert_int_equal(c.destination, destination);
}

static void test_moved(void **state)
{
    clus_move *m = clus_move_new(SRC, DST, false);

    (void)state;
    expect_call(m, CLUS_MOVE_CALL_OFFLINE, SRC, 0, DST);
    assert_int_equal(clus_move_owner(m), SRC);
    clus_move_result(m, true, CLUS_STATE_OFFLINE);
    expect_call(m, CLUS_MOVE_CALL_ONLINE, DST, 0, -1);
    assert_int_equal(clus_move_owner(m), DST); /* passes once the source is offline */
    clus_move_result(m, true, CLUS_STATE_ONLINE);
    assert_int_equal(clus_move_outcome(m), CLUS_MOVE_MOVED);
    expect_call(m, CLUS_MOVE_CALL_NONE, -1, 0, -1);
    assert_int_equal(clus_move_owner(m), DST);
    clus_move_free(m);
}

static void test_return_to_source(void **state)
{
    clus_move *m = clus_move_new(SRC, DST, true);

    (void)state;
    expect_call(m, CLUS_MOVE_CALL_OFFLINE, SRC, CLUS_OFFLINE_RETURN_TO_SOURCE_NODE_ON_ERROR, DST);
    clus_move_result(m, true, CLUS_STATE_OFFLINE);
    expect_call(m, CLUS_MOVE_CALL_ONLINE, DST, CLUS_ONLINE_RETURN_TO_SOURCE_NODE_ON_ERR, -1);
    clus_move_result(m, false, CLUS_STATE_FAILED);
    expect_call(m, CLUS_MOVE_CALL_TERMINATE, DST, 0, -1);
    assert_int_equal(clus_move_owner(m), DST);
    clus_move_result(m, true, CLUS_STATE_OFFLINE);
    expect_call(m, CLUS_MOVE_CALL_OFFLINE, DST, CLUS_OFFLINE_RETURNING_TO_SOURCE_NODE_ON_ERR, SRC);
    clus_move_result(m, true, CLUS_STATE_OFFLINE);
    expect_call(m, CLUS_MOVE_CALL_ONLINE, SRC, 0, -1);
    assert_int_equal(clus_move_owner(m), SRC); /* back with the source */
    clus_move_result(m, true, CLUS_STATE_ONLINE);
    assert_int_equal(clus_move_outcome(m), CLUS_MOVE_RETURNED);
    assert_int_equal(clus_move_owner(m), SRC);
    clus_move_free(m);
}

static void test_return_leg_goes_on_after_failed_terminate(void **state)
{
    clus_move *m = clus_move_new(SRC, DST, true);

    (void)state;
    clus_move_result(m, true, CLUS_STATE_OFFLINE);
    clus_move_result(m, false, CLUS_STATE_FAILED);
    clus_move_result(m, false, CLUS_STATE_UNKNOWN); /* terminate: whatever the answer */
    expect_call(m, CLUS_MOVE_CALL_OFFLINE, DST, CLUS_OFFLINE_RETURNING_TO_SOURCE_NODE_ON_ERR, SRC);
    clus_move_free(m);
}

static void test_source_fails_too(void **state)
{
    clus_move *m = clus_move_new(SRC, DST, true);

    (void)state;
    clus_move_result(m, true, CLUS_STATE_OFFLINE);
    clus_move_result(m, false, CLUS_STATE_FAILED);
    clus_move_result(m, true, CLUS_STATE_OFFLINE);
    clus_move_result(m, true, CLUS_STATE_OFFLINE);
    clus_move_result(m, false, CLUS_STATE_FAILED);
    assert_int_equal(clus_move_outcome(m), CLUS_MOVE_SOURCE_FAILED);
    assert_int_equal(clus_move_owner(m), SRC);
    clus_move_free(m);
}

static void test_destination_fails_without_return(void **state)
{
    clus_move *m = clus_move_new(SRC, DST, false);

    (void)state;
    clus_move_result(m, true, CLUS_STATE_OFFLINE);
    clus_move_result(m, false, CLUS_STATE_FAILED);
    assert_int_equal(clus_move_outcome(m), CLUS_MOVE_DEST_FAILED);
    assert_int_equal(clus_move_owner(m), DST); /* normal policy on the destination */
    clus_move_free(m);
}

static void test_rejected_by_the_type(void **state)
{
    clus_move *m = clus_move_new(SRC, DST, true);

    (void)state;
    clus_move_result(m, false, CLUS_STATE_ONLINE); /* busy/locked: still Online */
    assert_int_equal(clus_move_outcome(m), CLUS_MOVE_REJECTED);
    assert_int_equal(clus_move_owner(m), SRC);
    clus_move_free(m);
}

static void test_source_leg_failed_comes_back(void **state)
{
    clus_move *m = clus_move_new(SRC, DST, false);

    (void)state;
    clus_move_result(m, false, CLUS_STATE_FAILED); /* offline failed: terminated */
    expect_call(m, CLUS_MOVE_CALL_ONLINE, SRC, 0, -1);
    clus_move_result(m, true, CLUS_STATE_ONLINE);
    assert_int_equal(clus_move_outcome(m), CLUS_MOVE_REJECTED); /* not a failure */
    clus_move_free(m);
}

static void test_names(void **state)
{
    clus_move *m = clus_move_new(SRC, DST, false);

    (void)state;
    assert_string_equal(clus_move_step_name(m), "offline-source");
    assert_string_equal(clus_move_outcome_name(CLUS_MOVE_RETURNED), "returned");
    assert_int_equal(clus_move_source(m), SRC);
    assert_int_equal(clus_move_destination(m), DST);
    clus_move_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_moved),
        cmocka_unit_test(test_return_to_source),
        cmocka_unit_test(test_return_leg_goes_on_after_failed_terminate),
        cmocka_unit_test(test_source_fails_too),
        cmocka_unit_test(test_destination_fails_without_return),
        cmocka_unit_test(test_rejected_by_the_type),
        cmocka_unit_test(test_source_leg_failed_comes_back),
        cmocka_unit_test(test_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
