/*
 * test_coord_store.c - the coordinator's sqlite store (coordinator/store.h)
 * and its event feed (coordinator/feed.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "feed.h"
#include "status.h"
#include "cstore.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/clus-test-cstore-XXXXXX");
    return mkdtemp(dir) == NULL;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) != 0;
}

static clus_cstore *open_store(void)
{
    clus_cstore *s = NULL;
    char err[256];

    assert_int_equal(clus_cstore_open(dir, &s, err, sizeof(err)), CLUS_OK);
    return s;
}

static void test_epoch_grows(void **state)
{
    clus_cstore *s = open_store();
    uint64_t a, b;

    (void)state;
    uint64_t before = clus_wall_ms();

    assert_int_equal(clus_cstore_next_epoch(s, &a), CLUS_OK);
    assert_true(a >= before); /* outranks instances that lost their store */
    clus_cstore_close(s);
    s = open_store();
    assert_true(clus_cstore_same_boot(s)); /* same machine boot as the first open */
    assert_int_equal(clus_cstore_next_epoch(s, &b), CLUS_OK);
    assert_true(b > a);
    clus_cstore_close(s);
}

static void test_resource_round_trip(void **state)
{
    clus_cstore *s = open_store();
    clus_cstore_resource in = {0}, out;

    (void)state;
    assert_int_equal(clus_cstore_get_resource(s, "web", &out), CLUS_E_NOT_FOUND);
    snprintf(in.name, sizeof(in.name), "web");
    snprintf(in.owner, sizeof(in.owner), "n2");
    in.desired_online = true;
    in.state = 2;
    in.policy.restarts = 4;
    in.policy.failovers = 2;
    in.policy.failures = 7;
    in.policy.phase = CLUS_POL_RETRY_WAIT;
    in.policy.retry_at_ms = 123456789;
    in.policy.retry_attempt = true;
    in.policy.n_restart_times = 3;
    in.policy.restart_times[0] = 10;
    in.policy.restart_times[1] = 20;
    in.policy.restart_times[2] = 18446744073709551000u;
    in.policy.n_failover_times = 1;
    in.policy.failover_times[0] = 99;
    assert_int_equal(clus_cstore_put_resource(s, &in, true), CLUS_OK);
    clus_cstore_close(s);
    s = open_store();
    assert_int_equal(clus_cstore_get_resource(s, "web", &out), CLUS_OK);
    assert_string_equal(out.owner, "n2");
    assert_true(out.desired_online);
    assert_int_equal(out.state, 2);
    assert_int_equal(out.policy.restarts, 4);
    assert_int_equal(out.policy.failovers, 2);
    assert_int_equal(out.policy.failures, 7);
    assert_int_equal(out.policy.phase, CLUS_POL_RETRY_WAIT);
    assert_int_equal(out.policy.retry_at_ms, 123456789);
    assert_true(out.policy.retry_attempt);
    assert_int_equal(out.policy.n_restart_times, 3);
    assert_int_equal(out.policy.restart_times[2], 18446744073709551000u);
    assert_int_equal(out.policy.n_failover_times, 1);
    assert_int_equal(out.policy.failover_times[0], 99);
    in.desired_online = false;
    in.owner[0] = '\0';
    in.policy.n_restart_times = 0;
    assert_int_equal(clus_cstore_put_resource(s, &in, false), CLUS_OK);
    assert_int_equal(clus_cstore_get_resource(s, "web", &out), CLUS_OK);
    assert_false(out.desired_online);
    assert_string_equal(out.owner, "");
    assert_int_equal(out.policy.n_restart_times, 0);
    clus_cstore_close(s);
}

static void test_draining(void **state)
{
    clus_cstore *s = open_store();

    (void)state;
    assert_false(clus_cstore_get_draining(s, "n1"));
    assert_int_equal(clus_cstore_put_draining(s, "n1", true), CLUS_OK);
    clus_cstore_close(s);
    s = open_store();
    assert_true(clus_cstore_get_draining(s, "n1"));
    assert_int_equal(clus_cstore_put_draining(s, "n1", false), CLUS_OK);
    assert_false(clus_cstore_get_draining(s, "n1"));
    clus_cstore_close(s);
}

static void test_bad_dir(void **state)
{
    clus_cstore *s = NULL;
    char err[256] = "";

    (void)state;
    assert_int_not_equal(clus_cstore_open("/proc/no/such/dir", &s, err, sizeof(err)), CLUS_OK);
    assert_null(s);
    assert_true(err[0] != '\0');
}

static void emit(clus_feed *f, const char *message)
{
    clus_feed_event ev = {0};

    snprintf(ev.kind, sizeof(ev.kind), "node");
    snprintf(ev.message, sizeof(ev.message), "%s", message);
    clus_feed_emit(f, &ev);
}

static void test_feed(void **state)
{
    clus_feed *f = clus_feed_new(4, 77);
    const clus_feed_event *out[8];
    bool gap;
    size_t n;

    (void)state;
    assert_int_equal(clus_feed_boot_id(f), 77);
    assert_int_equal(clus_feed_collect(f, 0, out, 8, &gap), 0);
    assert_false(gap);
    emit(f, "a");
    emit(f, "b");
    emit(f, "c");
    n = clus_feed_collect(f, 1, out, 8, &gap);
    assert_int_equal(n, 2);
    assert_false(gap);
    assert_int_equal(out[0]->seq, 2);
    assert_string_equal(out[1]->message, "c");
    assert_true(out[0]->timestamp_ms > 0);
    emit(f, "d");
    emit(f, "e");
    emit(f, "f"); /* the ring holds 3..6 now */
    n = clus_feed_collect(f, 0, out, 8, &gap);
    assert_true(gap);
    assert_int_equal(n, 4);
    assert_int_equal(out[0]->seq, 3);
    n = clus_feed_collect(f, 5, out, 1, &gap);
    assert_false(gap);
    assert_int_equal(n, 1);
    assert_int_equal(out[0]->seq, 6);
    assert_int_equal(clus_feed_collect(f, 100, out, 8, &gap), 0); /* from a later instance */
    assert_int_equal(clus_feed_last_seq(f), 6);
    clus_feed_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_epoch_grows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resource_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_draining, setup, teardown),
        cmocka_unit_test(test_bad_dir),
        cmocka_unit_test(test_feed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
