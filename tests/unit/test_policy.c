/*
 * test_policy.c - every row of the coordinator's failure policy
 * (coordinator/policy.h, docs/coordinator.md), with a fake clock: the
 * decision is a pure function of (state, facts, event).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"
#include "status.h"

#define N_NODES 3

/* A resource on nodes 0,1,2 (preferred in that order) with the model's
 * defaults, nodes all up, owned by node 0 and Online. */
struct fixture {
    size_t possible[N_NODES], preferred[N_NODES];
    clus_def_resource res;
    clus_node_facts nodes[N_NODES];
    clus_pol_facts facts;
    clus_pol_state *st;
    clus_pol_actions out;
};

static struct fixture fx;

static int setup(void **state)
{
    (void)state;
    memset(&fx, 0, sizeof(fx));
    for (size_t i = 0; i < N_NODES; i++) {
        fx.possible[i] = fx.preferred[i] = i;
        fx.nodes[i].up = true;
    }
    fx.res.name = "web";
    fx.res.type = "dummy";
    fx.res.possible = fx.possible;
    fx.res.n_possible = N_NODES;
    fx.res.preferred = fx.preferred;
    fx.res.n_preferred = N_NODES;
    clus_policy_defaults(&fx.res.policy, N_NODES);
    fx.facts =
        (clus_pol_facts){&fx.res, fx.nodes, N_NODES, 0, CLUS_STATE_ONLINE, true, 1000000, 12};
    fx.st = clus_pol_state_new();
    return fx.st == NULL;
}

static int teardown(void **state)
{
    (void)state;
    clus_pol_state_free(fx.st);
    return 0;
}

static enum clus_pol_row run(enum clus_pol_event_kind kind, int node)
{
    clus_pol_event ev = {kind, node};

    clus_pol_decide(fx.st, &fx.facts, &ev, &fx.out);
    return fx.out.row;
}

static void expect_action(size_t i, enum clus_pol_action_kind kind, int node)
{
    assert_true(fx.out.n > i);
    assert_int_equal(fx.out.items[i].kind, kind);
    assert_int_equal(fx.out.items[i].node, node);
}

static clus_pol_snapshot snap(void)
{
    clus_pol_snapshot s;

    clus_pol_state_get(fx.st, &s);
    return s;
}

/* Fails n times in place at 1 s intervals (each restart succeeding). */
static void fail_in_place(int n)
{
    for (int i = 0; i < n; i++) {
        fx.facts.now_ms += 1000;
        assert_int_equal(run(CLUS_POL_EV_FAILED, -1), CLUS_ROW_F4_RESTART);
    }
}

/* ------------------------------------------------------------ failures */

static void test_f1_desired_offline(void **state)
{
    (void)state;
    fx.facts.desired_online = false;
    assert_int_equal(run(CLUS_POL_EV_FAILED, -1), CLUS_ROW_F1_DESIRED_OFFLINE);
    assert_int_equal(fx.out.n, 0);
    assert_int_equal(snap().failures, 0);
}

static void test_f2_dont_restart(void **state)
{
    (void)state;
    fx.res.policy.restart_action = CLUS_RESTART_NONE;
    assert_int_equal(run(CLUS_POL_EV_FAILED, -1), CLUS_ROW_F2_DONT_RESTART);
    expect_action(0, CLUS_POL_ACT_FAILED, 0);
    assert_int_equal(snap().phase, CLUS_POL_GAVE_UP);
    assert_int_equal(snap().failures, 1);
    assert_int_equal(snap().restarts, 0);
    assert_int_equal(clus_pol_due_ms(fx.st), 0);
}

static void test_f3_retry_failed(void **state)
{
    (void)state;
    fx.res.policy.restart_action = CLUS_RESTART_NO_NOTIFY;
    fx.res.policy.restart_threshold = 0;
    assert_int_equal(run(CLUS_POL_EV_FAILED, -1), CLUS_ROW_F5_NO_NOTIFY);
    fx.facts.now_ms += fx.res.policy.retry_period_on_failure_ms;
    fx.facts.state = CLUS_STATE_FAILED;
    assert_int_equal(run(CLUS_POL_EV_TICK, -1), CLUS_ROW_T1_RETRY);
    assert_int_equal(run(CLUS_POL_EV_FAILED, -1), CLUS_ROW_F3_RETRY_FAILED);
    expect_action(0, CLUS_POL_ACT_FAILED, 0);
    assert_int_equal(snap().phase, CLUS_POL_GAVE_UP);
    assert_int_equal(clus_pol_due_ms(fx.st), 0);
}

static void test_f4_restart_in_place(void **state)
{
    (void)state;
    assert_int_equal(run(CLUS_POL_EV_FAILED, -1), CLUS_ROW_F4_RESTART);
    expect_action(0, CLUS_POL_ACT_ONLINE, 0);
    assert_int_equal(fx.out.items[0].why, CLUS_POL_WHY_RESTART);
    assert_int_equal(fx.out.items[0].delay_ms, 500); /* RestartDelay default */
    assert_int_equal(snap().restarts, 1);
    assert_int_equal(snap().failures, 1);
}

static void test_f4_threshold_counts_inside_period(void **state)
{
    (void)state;
    fail_in_place(3); /* RestartThreshold 3 tolerated */
    fx.facts.now_ms += 1000;
    assert_int_equal(run(CLUS_POL_EV_FAILED, -1), CLUS_ROW_F6_FAILOVER);
}

static void test_f4_window_slides(void **state)
{
    (void)state;
    fail_in_place(3);
    /* RestartPeriod later the old restarts have left the window. */
    fx.facts.now_ms += fx.res.policy.restart_period_ms;
    assert_int_equal(run(CLUS_POL_EV_FAILED, -1), CLUS_ROW_F4_RESTART);
    assert_int_equal(snap().restarts, 4);
    assert_int_equal(snap().n_restart_times, 1);
}

static void test_f4_owner_down_skips_restart(void **state)
{
    (void)state;
    fx.nodes[0].up = false;
    assert_int_equal(run(CLUS_POL_EV_FAILED, -1), CLUS_ROW_F6_FAILOVER);
    expect_action(0, CLUS_POL_ACT_ONLINE, 1);
}

static void test_f5_no_notify(void **state)
{
    (void)state;
    fx.res.policy.restart_action = CLUS_RESTART_NO_NOTIFY;
    fail_in_place(3);
    assert_int_equal(run(CLUS_POL_EV_FAILED, -1), CLUS_ROW_F5_NO_NOTIFY);
    expect_action(0, CLUS_POL_ACT_FAILED, 0);
    assert_int_equal(snap().phase, CLUS_POL_RETRY_WAIT);
    assert_int_equal(clus_pol_due_ms(fx.st),
                     fx.facts.now_ms + fx.res.policy.retry_period_on_failure_ms);
}

static void test_f5_never_retry(void **state)
{
    (void)state;
    fx.res.policy.restart_action = CLUS_RESTART_NO_NOTIFY;
    fx.res.policy.restart_threshold = 0;
    fx.res.policy.retry_period_on_failure_ms = CLUS_POLICY_NEVER;
    assert_int_equal(run(CLUS_POL_EV_FAILED, -1), CLUS_ROW_F5_NO_NOTIFY);
    assert_int_equal(snap().phase, CLUS_POL_GAVE_UP);
    assert_int_equal(clus_pol_due_ms(fx.st), 0);
}

static void test_f6_failover_next_preferred(void **state)
{
    (void)state;
    fx.res.policy.restart_threshold = 1;
    fail_in_place(1);
    fx.facts.now_ms += 1000;
    assert_int_equal(run(CLUS_POL_EV_FAILED, -1), CLUS_ROW_F6_FAILOVER);
    expect_action(0, CLUS_POL_ACT_ONLINE, 1);
    assert_int_equal(fx.out.items[0].why, CLUS_POL_WHY_FAILOVER);
    assert_int_equal(fx.out.items[0].delay_ms, 0);
    assert_int_equal(snap().failovers, 1);
    assert_int_equal(snap().n_restart_times, 0); /* fresh window on the new node */
}

static void test_f6_skips_down_and_draining(void **state)
{
    (void)state;
    fx.res.policy.restart_threshold = 0;
    fx.nodes[1].draining = true;
    assert_int_equal(run(CLUS_POL_EV_FAILED, -1), CLUS_ROW_F6_FAILOVER);
    expect_action(0, CLUS_POL_ACT_ONLINE, 2);
}

static void test_f6_wraps_around(void **state)
{
    (void)state;
    fx.res.policy.restart_threshold = 0;
    fx.facts.owner = 2;
    assert_int_equal(run(CLUS_POL_EV_FAILED, -1), CLUS_ROW_F6_FAILOVER);
    expect_action(0, CLUS_POL_ACT_ONLINE, 0);
}

static void test_f7_failover_limit(void **state)
{
    (void)state;
    fx.res.policy.restart_threshold = 0;
    fx.res.policy.failover_threshold = 1;
    assert_int_equal(run(CLUS_POL_EV_FAILED, -1), CLUS_ROW_F6_FAILOVER);
    fx.facts.owner = 1;
    fx.facts.now_ms += 1000;
    assert_int_equal(run(CLUS_POL_EV_FAILED, -1), CLUS_ROW_F7_FAILOVER_LIMIT);
    expect_action(0, CLUS_POL_ACT_FAILED, 1);
    assert_int_equal(snap().phase, CLUS_POL_RETRY_WAIT);
    /* FailoverPeriod later the window is empty again. */
    fx.facts.now_ms += fx.res.policy.failover_period_ms;
    clus_pol_snapshot s = snap();
    s.phase = CLUS_POL_IDLE;
    clus_pol_state_set(fx.st, &s);
    assert_int_equal(run(CLUS_POL_EV_FAILED, -1), CLUS_ROW_F6_FAILOVER);
}

static void test_f8_no_target(void **state)
{
    (void)state;
    fx.res.policy.restart_threshold = 0;
    fx.nodes[1].up = fx.nodes[2].up = false;
    assert_int_equal(run(CLUS_POL_EV_FAILED, -1), CLUS_ROW_F8_NO_TARGET);
    expect_action(0, CLUS_POL_ACT_FAILED, 0);
    assert_int_equal(snap().phase, CLUS_POL_RETRY_WAIT);
}

static void test_f8_only_possible_owners(void **state)
{
    (void)state;
    fx.res.policy.restart_threshold = 0;
    fx.res.n_possible = fx.res.n_preferred = 1; /* only node 0 */
    assert_int_equal(run(CLUS_POL_EV_FAILED, -1), CLUS_ROW_F8_NO_TARGET);
}

/* ------------------------------------------------------------ node lost */

static void test_l1_lost_offline(void **state)
{
    (void)state;
    fx.facts.desired_online = false;
    fx.nodes[0].up = false;
    assert_int_equal(run(CLUS_POL_EV_NODE_LOST, -1), CLUS_ROW_L1_LOST_OFFLINE);
    assert_int_equal(fx.out.n, 0);
}

static void test_l2_lost_failover(void **state)
{
    (void)state;
    fx.nodes[0].up = false;
    fx.res.policy.failover_threshold = 0; /* not limited: a node loss is not its fault */
    assert_int_equal(run(CLUS_POL_EV_NODE_LOST, -1), CLUS_ROW_L2_LOST_FAILOVER);
    expect_action(0, CLUS_POL_ACT_ONLINE, 1);
    assert_int_equal(fx.out.items[0].why, CLUS_POL_WHY_FAILOVER);
    assert_int_equal(snap().failovers, 1);
    assert_int_equal(snap().failures, 0);
}

static void test_l3_lost_wait(void **state)
{
    (void)state;
    fx.nodes[0].up = fx.nodes[1].up = fx.nodes[2].up = false;
    assert_int_equal(run(CLUS_POL_EV_NODE_LOST, -1), CLUS_ROW_L3_LOST_WAIT);
    expect_action(0, CLUS_POL_ACT_WAIT, -1);
    assert_int_equal(snap().phase, CLUS_POL_WAITING);
}

/* ------------------------------------------------------------ retry */

static void to_retry_wait(void)
{
    fx.res.policy.restart_action = CLUS_RESTART_NO_NOTIFY;
    fx.res.policy.restart_threshold = 0;
    assert_int_equal(run(CLUS_POL_EV_FAILED, -1), CLUS_ROW_F5_NO_NOTIFY);
    fx.facts.state = CLUS_STATE_FAILED;
}

static void test_t1_retry(void **state)
{
    (void)state;
    to_retry_wait();
    fx.facts.now_ms += fx.res.policy.retry_period_on_failure_ms - 1;
    assert_int_equal(run(CLUS_POL_EV_TICK, -1), CLUS_ROW_NONE); /* not yet */
    fx.facts.now_ms += 1;
    assert_int_equal(run(CLUS_POL_EV_TICK, -1), CLUS_ROW_T1_RETRY);
    expect_action(0, CLUS_POL_ACT_ONLINE, 0);
    assert_int_equal(fx.out.items[0].why, CLUS_POL_WHY_RETRY);
    assert_true(snap().retry_attempt);
    assert_int_equal(snap().phase, CLUS_POL_IDLE);
}

static void test_t1_retry_elsewhere_when_owner_down(void **state)
{
    (void)state;
    to_retry_wait();
    fx.nodes[0].up = false;
    fx.facts.now_ms += fx.res.policy.retry_period_on_failure_ms;
    assert_int_equal(run(CLUS_POL_EV_TICK, -1), CLUS_ROW_T1_RETRY);
    expect_action(0, CLUS_POL_ACT_ONLINE, 1);
}

static void test_t2_retry_wait(void **state)
{
    (void)state;
    to_retry_wait();
    fx.nodes[0].up = fx.nodes[1].up = fx.nodes[2].up = false;
    fx.facts.now_ms += fx.res.policy.retry_period_on_failure_ms;
    assert_int_equal(run(CLUS_POL_EV_TICK, -1), CLUS_ROW_T2_RETRY_WAIT);
    expect_action(0, CLUS_POL_ACT_WAIT, -1);
    assert_int_equal(snap().phase, CLUS_POL_WAITING);
}

static void test_o1_online_clears_retry(void **state)
{
    (void)state;
    to_retry_wait();
    fx.facts.now_ms += fx.res.policy.retry_period_on_failure_ms;
    assert_int_equal(run(CLUS_POL_EV_TICK, -1), CLUS_ROW_T1_RETRY);
    assert_int_equal(run(CLUS_POL_EV_ONLINE, -1), CLUS_ROW_O1_ONLINE);
    assert_false(snap().retry_attempt);
    /* A later failure is handled normally again (not F3). */
    fx.res.policy.restart_threshold = 1;
    assert_int_equal(run(CLUS_POL_EV_FAILED, -1), CLUS_ROW_F4_RESTART);
}

/* ------------------------------------------------------------ node up */

static void test_u1_node_up_place(void **state)
{
    (void)state;
    fx.nodes[0].up = fx.nodes[1].up = fx.nodes[2].up = false;
    assert_int_equal(run(CLUS_POL_EV_NODE_LOST, -1), CLUS_ROW_L3_LOST_WAIT);
    fx.nodes[2].up = true;
    fx.facts.state = CLUS_STATE_OFFLINE;
    assert_int_equal(run(CLUS_POL_EV_NODE_UP, 2), CLUS_ROW_U1_NODE_UP_PLACE);
    expect_action(0, CLUS_POL_ACT_ONLINE, 2);
    assert_int_equal(snap().phase, CLUS_POL_IDLE);
}

static void test_u2_failback(void **state)
{
    (void)state;
    fx.res.policy.failback = true;
    fx.facts.owner = 1;
    assert_int_equal(run(CLUS_POL_EV_NODE_UP, 0), CLUS_ROW_U2_FAILBACK);
    expect_action(0, CLUS_POL_ACT_MOVE, 0);
    assert_int_equal(fx.out.items[0].why, CLUS_POL_WHY_FAILBACK);
    /* Not to a less preferred node, and not when failback is off. */
    assert_int_equal(run(CLUS_POL_EV_NODE_UP, 2), CLUS_ROW_NONE);
    fx.res.policy.failback = false;
    assert_int_equal(run(CLUS_POL_EV_NODE_UP, 0), CLUS_ROW_NONE);
}

static void test_u3_failback_window(void **state)
{
    (void)state;
    fx.res.policy.failback = true;
    fx.res.policy.failback_window_start = 22;
    fx.res.policy.failback_window_end = 2; /* wraps midnight */
    fx.facts.owner = 1;
    fx.facts.local_hour = 12;
    assert_int_equal(run(CLUS_POL_EV_NODE_UP, 0), CLUS_ROW_U3_FAILBACK_WINDOW);
    assert_int_equal(fx.out.n, 0);
    fx.facts.local_hour = 23;
    assert_int_equal(run(CLUS_POL_EV_NODE_UP, 0), CLUS_ROW_U2_FAILBACK);
    fx.facts.local_hour = 1;
    assert_int_equal(run(CLUS_POL_EV_NODE_UP, 0), CLUS_ROW_U2_FAILBACK);
}

/* clus_pol_wants_node_up() is the engine's filter in front of NODE_UP:
 * whenever it says no, the decision must be a no-op (no row, no action, no
 * change of state), in every phase, with failback on or off, with the
 * owner up or down. */
static void test_u_filter_is_exact(void **state)
{
    static const enum clus_pol_phase phases[] = {CLUS_POL_IDLE, CLUS_POL_RETRY_WAIT,
                                                 CLUS_POL_GAVE_UP, CLUS_POL_WAITING};

    (void)state;
    for (size_t p = 0; p < sizeof(phases) / sizeof(phases[0]); p++) {
        for (int failback = 0; failback < 2; failback++) {
            for (int owner = -1; owner < N_NODES; owner++) {
                clus_pol_snapshot before = {.phase = phases[p]}, after;
                clus_pol_state_set(fx.st, &before);
                fx.res.policy.failback = failback;
                fx.facts.owner = owner;
                clus_pol_state_get(fx.st, &before);
                if (clus_pol_wants_node_up(fx.st, &fx.res.policy))
                    continue;
                assert_int_equal(run(CLUS_POL_EV_NODE_UP, 0), CLUS_ROW_NONE);
                assert_int_equal(fx.out.n, 0);
                clus_pol_state_get(fx.st, &after);
                assert_memory_equal(&before, &after, sizeof(before));
            }
        }
    }
    /* And it does say yes where NODE_UP acts. */
    clus_pol_state_set(fx.st, &(clus_pol_snapshot){.phase = CLUS_POL_WAITING});
    fx.res.policy.failback = false;
    assert_true(clus_pol_wants_node_up(fx.st, &fx.res.policy));
    clus_pol_state_set(fx.st, &(clus_pol_snapshot){.phase = CLUS_POL_IDLE});
    fx.res.policy.failback = true;
    assert_true(clus_pol_wants_node_up(fx.st, &fx.res.policy));
}

/* ------------------------------------------------------------ start */

static void test_s1_start_owner(void **state)
{
    (void)state;
    fx.facts.owner = 1;
    fx.facts.state = CLUS_STATE_OFFLINE;
    assert_int_equal(run(CLUS_POL_EV_START, -1), CLUS_ROW_S1_START_OWNER);
    expect_action(0, CLUS_POL_ACT_ONLINE, 1);
    assert_int_equal(fx.out.items[0].why, CLUS_POL_WHY_PLACE);
    assert_int_equal(snap().restarts, 0); /* a start is not a restart */
}

static void test_s2_start_best(void **state)
{
    (void)state;
    fx.facts.owner = -1;
    fx.facts.state = CLUS_STATE_OFFLINE;
    fx.nodes[0].up = false;
    assert_int_equal(run(CLUS_POL_EV_START, -1), CLUS_ROW_S2_START_BEST);
    expect_action(0, CLUS_POL_ACT_ONLINE, 1);
}

static void test_s3_start_wait(void **state)
{
    (void)state;
    fx.facts.owner = -1;
    fx.nodes[0].up = fx.nodes[1].up = false;
    fx.nodes[2].draining = true;
    assert_int_equal(run(CLUS_POL_EV_START, -1), CLUS_ROW_S3_START_WAIT);
    expect_action(0, CLUS_POL_ACT_WAIT, -1);
    assert_int_equal(snap().phase, CLUS_POL_WAITING);
}

static void test_s4_start_held(void **state)
{
    (void)state;
    to_retry_wait();
    assert_int_equal(run(CLUS_POL_EV_START, -1), CLUS_ROW_S4_START_HELD);
    assert_int_equal(fx.out.n, 0);
}

/* ------------------------------------------------------------ admin */

static void test_a1_not_possible(void **state)
{
    (void)state;
    fx.res.n_possible = fx.res.n_preferred = 2;
    fx.facts.state = CLUS_STATE_OFFLINE;
    assert_int_equal(run(CLUS_POL_EV_ADMIN_ONLINE, 2), CLUS_ROW_A1_NOT_POSSIBLE);
    expect_action(0, CLUS_POL_ACT_REFUSE, -1);
    assert_int_equal(fx.out.items[0].status, CLUS_E_NODE_CANT_HOST_RESOURCE);
}

static void test_a2_node_down(void **state)
{
    (void)state;
    fx.nodes[1].up = false;
    assert_int_equal(run(CLUS_POL_EV_ADMIN_ONLINE, 1), CLUS_ROW_A2_NODE_DOWN);
    assert_int_equal(fx.out.items[0].status, CLUS_E_CLUSTER_NODE_DOWN);
}

static void test_a3_node_draining(void **state)
{
    (void)state;
    fx.nodes[1].draining = true;
    assert_int_equal(run(CLUS_POL_EV_ADMIN_ONLINE, 1), CLUS_ROW_A3_NODE_DRAINING);
    assert_int_equal(fx.out.items[0].status, CLUS_E_INVALID_STATE);
}

static void test_a4_already_online(void **state)
{
    (void)state;
    assert_int_equal(run(CLUS_POL_EV_ADMIN_ONLINE, -1), CLUS_ROW_A4_ALREADY_ONLINE);
    assert_int_equal(fx.out.n, 0);
    assert_int_equal(run(CLUS_POL_EV_ADMIN_ONLINE, 0), CLUS_ROW_A4_ALREADY_ONLINE);
}

static void test_a5_online_elsewhere(void **state)
{
    (void)state;
    assert_int_equal(run(CLUS_POL_EV_ADMIN_ONLINE, 1), CLUS_ROW_A5_ONLINE_ELSEWHERE);
    assert_int_equal(fx.out.items[0].status, CLUS_E_RESOURCE_ONLINE);
}

static void test_a6_admin_online_resets(void **state)
{
    (void)state;
    fx.res.policy.restart_action = CLUS_RESTART_NONE;
    assert_int_equal(run(CLUS_POL_EV_FAILED, -1), CLUS_ROW_F2_DONT_RESTART);
    fx.facts.state = CLUS_STATE_FAILED;
    assert_int_equal(run(CLUS_POL_EV_ADMIN_ONLINE, 2), CLUS_ROW_A6_ADMIN_ONLINE);
    expect_action(0, CLUS_POL_ACT_ONLINE, 2);
    assert_int_equal(snap().phase, CLUS_POL_IDLE);
    assert_int_equal(snap().failures, 1); /* totals stay; clear resets them */
    fx.facts.state = CLUS_STATE_OFFLINE;
    assert_int_equal(run(CLUS_POL_EV_ADMIN_ONLINE, -1), CLUS_ROW_A6_ADMIN_ONLINE);
    expect_action(0, CLUS_POL_ACT_ONLINE, 0); /* its owner */
}

static void test_a7_no_node(void **state)
{
    (void)state;
    fx.facts.state = CLUS_STATE_OFFLINE;
    fx.nodes[0].up = fx.nodes[1].up = fx.nodes[2].up = false;
    assert_int_equal(run(CLUS_POL_EV_ADMIN_ONLINE, -1), CLUS_ROW_A7_NO_NODE);
    assert_int_equal(fx.out.items[0].status, CLUS_E_CLUSTER_NODE_DOWN);
}

static void test_d1_admin_offline(void **state)
{
    (void)state;
    assert_int_equal(run(CLUS_POL_EV_ADMIN_OFFLINE, -1), CLUS_ROW_D1_ADMIN_OFFLINE);
    expect_action(0, CLUS_POL_ACT_OFFLINE, 0);
    fx.facts.state = CLUS_STATE_ONLINE_PENDING; /* offline while coming online */
    assert_int_equal(run(CLUS_POL_EV_ADMIN_OFFLINE, -1), CLUS_ROW_D1_ADMIN_OFFLINE);
    expect_action(0, CLUS_POL_ACT_OFFLINE, 0);
}

static void test_d2_already_offline(void **state)
{
    (void)state;
    to_retry_wait();
    assert_int_equal(run(CLUS_POL_EV_ADMIN_OFFLINE, -1), CLUS_ROW_D2_ALREADY_OFFLINE);
    assert_int_equal(fx.out.n, 0);
    assert_int_equal(snap().phase, CLUS_POL_IDLE); /* no retry of an offline resource */
    assert_int_equal(clus_pol_due_ms(fx.st), 0);
}

static void test_c1_clear(void **state)
{
    (void)state;
    fail_in_place(2);
    assert_int_equal(run(CLUS_POL_EV_CLEAR, -1), CLUS_ROW_C1_CLEAR);
    assert_int_equal(snap().restarts, 0);
    assert_int_equal(snap().failures, 0);
    assert_int_equal(snap().n_restart_times, 0);
}

static void test_m1_move_failed(void **state)
{
    (void)state;
    assert_int_equal(run(CLUS_POL_EV_MOVE_FAILED, -1), CLUS_ROW_M1_MOVE_FAILED);
    assert_int_equal(fx.out.n, 0);
    assert_int_equal(snap().failures, 1);
    assert_int_equal(snap().restarts, 0);
}

/* ------------------------------------------------------------ misc */

static void test_copy_is_independent(void **state)
{
    clus_pol_state *copy;
    clus_pol_snapshot s;
    clus_pol_event ev = {CLUS_POL_EV_FAILED, -1};
    clus_pol_actions out;

    (void)state;
    copy = clus_pol_state_copy(fx.st);
    clus_pol_decide(copy, &fx.facts, &ev, &out);
    clus_pol_state_get(copy, &s);
    assert_int_equal(s.restarts, 1);
    assert_int_equal(snap().restarts, 0); /* plan: the original is untouched */
    clus_pol_state_free(copy);
}

static void test_names(void **state)
{
    (void)state;
    for (int row = 0; row < CLUS_ROW_COUNT; row++)
        assert_non_null(clus_pol_row_name((enum clus_pol_row)row));
    assert_string_equal(clus_pol_row_name(CLUS_ROW_F6_FAILOVER), "F6-failover");
    assert_string_equal(clus_pol_row_name(CLUS_ROW_M1_MOVE_FAILED), "M1-move-failed");
    assert_string_equal(clus_pol_action_name(CLUS_POL_ACT_ONLINE, CLUS_POL_WHY_RESTART), "restart");
    assert_string_equal(clus_pol_phase_name(CLUS_POL_GAVE_UP), "gave-up");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_f1_desired_offline),
        T(test_f2_dont_restart),
        T(test_f3_retry_failed),
        T(test_f4_restart_in_place),
        T(test_f4_threshold_counts_inside_period),
        T(test_f4_window_slides),
        T(test_f4_owner_down_skips_restart),
        T(test_f5_no_notify),
        T(test_f5_never_retry),
        T(test_f6_failover_next_preferred),
        T(test_f6_skips_down_and_draining),
        T(test_f6_wraps_around),
        T(test_f7_failover_limit),
        T(test_f8_no_target),
        T(test_f8_only_possible_owners),
        T(test_l1_lost_offline),
        T(test_l2_lost_failover),
        T(test_l3_lost_wait),
        T(test_t1_retry),
        T(test_t1_retry_elsewhere_when_owner_down),
        T(test_t2_retry_wait),
        T(test_o1_online_clears_retry),
        T(test_u1_node_up_place),
        T(test_u2_failback),
        T(test_u3_failback_window),
        T(test_u_filter_is_exact),
        T(test_s1_start_owner),
        T(test_s2_start_best),
        T(test_s3_start_wait),
        T(test_s4_start_held),
        T(test_a1_not_possible),
        T(test_a2_node_down),
        T(test_a3_node_draining),
        T(test_a4_already_online),
        T(test_a5_online_elsewhere),
        T(test_a6_admin_online_resets),
        T(test_a7_no_node),
        T(test_d1_admin_offline),
        T(test_d2_already_offline),
        T(test_c1_clear),
        T(test_m1_move_failed),
        T(test_copy_is_independent),
        T(test_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
