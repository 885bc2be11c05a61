/*
 * test_coord_placement.c - candidate order, eligibility, failover target
 * and failback window (coordinator/placement.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "placement.h"

#define N 4

/* Possible owners 0,1,2,3; preferred 2,0 (then 1,3 in definition order). */
static size_t possible[N] = {0, 1, 2, 3}, preferred[2] = {2, 0};
static clus_def_resource res;
static clus_node_facts nodes[N];

static int setup(void **state)
{
    (void)state;
    memset(&res, 0, sizeof(res));
    res.possible = possible;
    res.n_possible = N;
    res.preferred = preferred;
    res.n_preferred = 2;
    clus_policy_defaults(&res.policy, N);
    for (int i = 0; i < N; i++)
        nodes[i] = (clus_node_facts){true, false};
    return 0;
}

static void test_rank(void **state)
{
    (void)state;
    assert_int_equal(clus_place_rank(&res, N, 2), 0);
    assert_int_equal(clus_place_rank(&res, N, 0), 1);
    assert_int_equal(clus_place_rank(&res, N, 1), 2);
    assert_int_equal(clus_place_rank(&res, N, 3), 3);
    assert_int_equal(clus_place_rank(&res, N, 9), -1);
    res.n_possible = 3; /* node 3 no longer possible */
    assert_int_equal(clus_place_rank(&res, N, 3), -1);
}

static void test_best(void **state)
{
    (void)state;
    assert_int_equal(clus_place_best(&res, nodes, N, -1), 2);
    assert_int_equal(clus_place_best(&res, nodes, N, 2), 0);
    nodes[2].up = false;
    assert_int_equal(clus_place_best(&res, nodes, N, -1), 0);
    nodes[0].draining = true;
    assert_int_equal(clus_place_best(&res, nodes, N, -1), 1);
    nodes[1].up = nodes[3].up = false;
    assert_int_equal(clus_place_best(&res, nodes, N, -1), -1);
}

static void test_next_wraps(void **state)
{
    (void)state;
    assert_int_equal(clus_place_next(&res, nodes, N, 2), 0);
    assert_int_equal(clus_place_next(&res, nodes, N, 0), 1);
    assert_int_equal(clus_place_next(&res, nodes, N, 3), 2); /* wraps to the first */
    nodes[2].up = false;
    assert_int_equal(clus_place_next(&res, nodes, N, 3), 0);
    assert_int_equal(clus_place_next(&res, nodes, N, -1), 0); /* no current: best */
}

static void test_next_never_current(void **state)
{
    (void)state;
    for (int i = 0; i < N; i++)
        nodes[i].up = i == 1;
    assert_int_equal(clus_place_next(&res, nodes, N, 1), -1);
    assert_true(clus_place_eligible(&res, nodes, N, 1));
    assert_false(clus_place_eligible(&res, nodes, N, 0));
}

static void test_window(void **state)
{
    (void)state;
    assert_true(clus_place_in_window(&res.policy, 5)); /* no window: always */
    res.policy.failback_window_start = 1;
    res.policy.failback_window_end = 4;
    assert_true(clus_place_in_window(&res.policy, 1));
    assert_true(clus_place_in_window(&res.policy, 4));
    assert_false(clus_place_in_window(&res.policy, 5));
    res.policy.failback_window_start = 23;
    res.policy.failback_window_end = 1;
    assert_true(clus_place_in_window(&res.policy, 0));
    assert_false(clus_place_in_window(&res.policy, 12));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_rank, setup),
        cmocka_unit_test_setup(test_best, setup),
        cmocka_unit_test_setup(test_next_wraps, setup),
        cmocka_unit_test_setup(test_next_never_current, setup),
        cmocka_unit_test_setup(test_window, setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
