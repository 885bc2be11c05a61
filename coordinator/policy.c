/*
 * policy.c - the decision table of policy.h. Each handler below is one
 * event; each `return row(...)` is one row of the table.
 */
#include "policy.h"

#include "status.h"

#include <stdlib.h>
#include <string.h>

struct clus_pol_state {
    clus_pol_snapshot s;
};

/* ------------------------------------------------------------ state */

clus_pol_state *clus_pol_state_new(void)
{
    return calloc(1, sizeof(clus_pol_state));
}

clus_pol_state *clus_pol_state_copy(const clus_pol_state *state)
{
    clus_pol_state *copy = malloc(sizeof(*copy));

    if (copy != NULL)
        *copy = *state;
    return copy;
}

void clus_pol_state_free(clus_pol_state *state)
{
    free(state);
}

void clus_pol_state_get(const clus_pol_state *state, clus_pol_snapshot *out)
{
    *out = state->s;
}

void clus_pol_state_set(clus_pol_state *state, const clus_pol_snapshot *in)
{
    state->s = *in;
    if (state->s.n_restart_times > CLUS_POLICY_MAX_THRESHOLD)
        state->s.n_restart_times = CLUS_POLICY_MAX_THRESHOLD;
    if (state->s.n_failover_times > CLUS_POLICY_MAX_THRESHOLD)
        state->s.n_failover_times = CLUS_POLICY_MAX_THRESHOLD;
}

uint64_t clus_pol_due_ms(const clus_pol_state *state)
{
    return state->s.phase == CLUS_POL_RETRY_WAIT ? state->s.retry_at_ms : 0;
}

enum clus_pol_phase clus_pol_phase(const clus_pol_state *state)
{
    return state->s.phase;
}

/* ------------------------------------------------------------ windows */

/* Drops entries older than period (sliding window). */
static void window_prune(uint64_t *times, size_t *n, uint64_t period, uint64_t now)
{
    size_t kept = 0;

    for (size_t i = 0; i < *n; i++) {
        if (now - times[i] < period)
            times[kept++] = times[i];
    }
    *n = kept;
}

/* Appends now, dropping the oldest when full (the window only has to tell
 * whether it holds `threshold` entries, and threshold <= the capacity). */
static void window_add(uint64_t *times, size_t *n, uint64_t now)
{
    if (*n == CLUS_POLICY_MAX_THRESHOLD) {
        memmove(times, times + 1, (CLUS_POLICY_MAX_THRESHOLD - 1) * sizeof(*times));
        (*n)--;
    }
    times[(*n)++] = now;
}

/* ------------------------------------------------------------ helpers */

static void add(clus_pol_actions *out, enum clus_pol_action_kind kind, enum clus_pol_why why,
                int node, uint64_t delay_ms, const char *reason)
{
    if (out->n < CLUS_POL_MAX_ACTIONS)
        out->items[out->n++] = (clus_pol_action){kind, why, node, delay_ms, CLUS_OK, reason};
}

static void refuse(clus_pol_actions *out, uint32_t status, const char *reason)
{
    add(out, CLUS_POL_ACT_REFUSE, CLUS_POL_WHY_ADMIN, -1, 0, reason);
    out->items[out->n - 1].status = status;
}

static bool state_active(int state)
{
    return state == CLUS_STATE_ONLINE || state == CLUS_STATE_ONLINE_PENDING ||
           state == CLUS_STATE_OFFLINE_PENDING;
}

static bool owner_eligible(const clus_pol_facts *f)
{
    return f->owner >= 0 && clus_place_eligible(f->res, f->nodes, f->n_nodes, (size_t)f->owner);
}

/* Where to start it: its owner if it can host it, else the best node. */
static int start_target(const clus_pol_facts *f)
{
    return owner_eligible(f) ? f->owner : clus_place_best(f->res, f->nodes, f->n_nodes, -1);
}

/* Failed; a retry after RetryPeriodOnFailure unless that is "never". */
static enum clus_pol_row fail_with_retry(clus_pol_state *st, const clus_pol_facts *f,
                                         clus_pol_actions *out, enum clus_pol_row row,
                                         const char *reason)
{
    uint32_t period = f->res->policy.retry_period_on_failure_ms;

    if (period == CLUS_POLICY_NEVER) {
        st->s.phase = CLUS_POL_GAVE_UP;
        add(out, CLUS_POL_ACT_FAILED, CLUS_POL_WHY_NONE, f->owner, 0, reason);
    } else {
        st->s.phase = CLUS_POL_RETRY_WAIT;
        st->s.retry_at_ms = f->now_ms + period;
        add(out, CLUS_POL_ACT_FAILED, CLUS_POL_WHY_RETRY, f->owner, period, reason);
    }
    return row;
}

/* ------------------------------------------------------------ events */

static enum clus_pol_row past_threshold(clus_pol_state *st, const clus_pol_facts *f,
                                        clus_pol_actions *out)
{
    const clus_policy *p = &f->res->policy;
    int target;

    if (p->restart_action == CLUS_RESTART_NO_NOTIFY)
        return fail_with_retry(st, f, out, CLUS_ROW_F5_NO_NOTIFY,
                               "restart threshold reached; RestartAction 1 never fails over");
    window_prune(st->s.failover_times, &st->s.n_failover_times, p->failover_period_ms, f->now_ms);
    if (st->s.n_failover_times >= p->failover_threshold)
        return fail_with_retry(st, f, out, CLUS_ROW_F7_FAILOVER_LIMIT,
                               "failover threshold reached within the failover period");
    target = clus_place_next(f->res, f->nodes, f->n_nodes, f->owner);
    if (target < 0)
        return fail_with_retry(st, f, out, CLUS_ROW_F8_NO_TARGET,
                               "no other possible owner is up to fail over to");
    window_add(st->s.failover_times, &st->s.n_failover_times, f->now_ms);
    st->s.failovers++;
    st->s.n_restart_times = 0; /* a fresh node starts a fresh restart window */
    add(out, CLUS_POL_ACT_ONLINE, CLUS_POL_WHY_FAILOVER, target, 0,
        "restart threshold reached: failing over to the next preferred node");
    return CLUS_ROW_F6_FAILOVER;
}

static enum clus_pol_row on_failed(clus_pol_state *st, const clus_pol_facts *f,
                                   clus_pol_actions *out)
{
    const clus_policy *p = &f->res->policy;

    if (!f->desired_online)
        return CLUS_ROW_F1_DESIRED_OFFLINE;
    st->s.failures++;
    if (p->restart_action == CLUS_RESTART_NONE) {
        st->s.phase = CLUS_POL_GAVE_UP;
        add(out, CLUS_POL_ACT_FAILED, CLUS_POL_WHY_NONE, f->owner, 0,
            "RestartAction 0: not restarted");
        return CLUS_ROW_F2_DONT_RESTART;
    }
    if (st->s.retry_attempt) {
        st->s.retry_attempt = false;
        st->s.phase = CLUS_POL_GAVE_UP;
        add(out, CLUS_POL_ACT_FAILED, CLUS_POL_WHY_NONE, f->owner, 0,
            "the retry after RetryPeriodOnFailure failed too: waiting for an operator");
        return CLUS_ROW_F3_RETRY_FAILED;
    }
    window_prune(st->s.restart_times, &st->s.n_restart_times, p->restart_period_ms, f->now_ms);
    if (st->s.n_restart_times < p->restart_threshold && f->owner >= 0 &&
        (size_t)f->owner < f->n_nodes && f->nodes[f->owner].up) {
        window_add(st->s.restart_times, &st->s.n_restart_times, f->now_ms);
        st->s.restarts++;
        st->s.phase = CLUS_POL_IDLE;
        add(out, CLUS_POL_ACT_ONLINE, CLUS_POL_WHY_RESTART, f->owner, p->restart_delay_ms,
            "restart in place");
        return CLUS_ROW_F4_RESTART;
    }
    return past_threshold(st, f, out);
}

static enum clus_pol_row on_node_lost(clus_pol_state *st, const clus_pol_facts *f,
                                      clus_pol_actions *out)
{
    int target;

    if (!f->desired_online)
        return CLUS_ROW_L1_LOST_OFFLINE;
    target = clus_place_next(f->res, f->nodes, f->n_nodes, f->owner);
    if (target < 0) {
        st->s.phase = CLUS_POL_WAITING;
        add(out, CLUS_POL_ACT_WAIT, CLUS_POL_WHY_NONE, -1, 0,
            "its node was lost and no other possible owner is up");
        return CLUS_ROW_L3_LOST_WAIT;
    }
    st->s.failovers++;
    st->s.n_restart_times = 0;
    st->s.phase = CLUS_POL_IDLE;
    add(out, CLUS_POL_ACT_ONLINE, CLUS_POL_WHY_FAILOVER, target, 0,
        "its node was lost (lease expired): failing over");
    return CLUS_ROW_L2_LOST_FAILOVER;
}

static enum clus_pol_row on_tick(clus_pol_state *st, const clus_pol_facts *f, clus_pol_actions *out)
{
    int target;

    if (st->s.phase != CLUS_POL_RETRY_WAIT || f->now_ms < st->s.retry_at_ms)
        return CLUS_ROW_NONE;
    if (!f->desired_online) {
        st->s.phase = CLUS_POL_IDLE;
        return CLUS_ROW_NONE;
    }
    st->s.retry_attempt = true;
    st->s.n_restart_times = 0;
    if ((target = start_target(f)) < 0) {
        st->s.phase = CLUS_POL_WAITING;
        add(out, CLUS_POL_ACT_WAIT, CLUS_POL_WHY_RETRY, -1, 0,
            "retry due, but no possible owner is up");
        return CLUS_ROW_T2_RETRY_WAIT;
    }
    st->s.phase = CLUS_POL_IDLE;
    add(out, CLUS_POL_ACT_ONLINE, CLUS_POL_WHY_RETRY, target, 0,
        "RetryPeriodOnFailure elapsed: one more attempt");
    return CLUS_ROW_T1_RETRY;
}

static enum clus_pol_row on_node_up(clus_pol_state *st, const clus_pol_facts *f, int node,
                                    clus_pol_actions *out)
{
    int target;

    if (!f->desired_online)
        return CLUS_ROW_NONE;
    if (st->s.phase == CLUS_POL_WAITING && (target = start_target(f)) >= 0) {
        st->s.phase = CLUS_POL_IDLE;
        add(out, CLUS_POL_ACT_ONLINE, st->s.retry_attempt ? CLUS_POL_WHY_RETRY : CLUS_POL_WHY_PLACE,
            target, 0, "a node that can host it is up");
        return CLUS_ROW_U1_NODE_UP_PLACE;
    }
    if (!f->res->policy.failback || f->state != CLUS_STATE_ONLINE || f->owner < 0 || node < 0 ||
        !clus_place_eligible(f->res, f->nodes, f->n_nodes, (size_t)node) ||
        clus_place_rank(f->res, f->n_nodes, (size_t)node) >=
            clus_place_rank(f->res, f->n_nodes, (size_t)f->owner))
        return CLUS_ROW_NONE;
    if (!clus_place_in_window(&f->res->policy, f->local_hour))
        return CLUS_ROW_U3_FAILBACK_WINDOW;
    add(out, CLUS_POL_ACT_MOVE, CLUS_POL_WHY_FAILBACK, node, 0,
        "failback to a more preferred node");
    return CLUS_ROW_U2_FAILBACK;
}

bool clus_pol_wants_node_up(const clus_pol_state *st, const clus_policy *policy)
{
    return st->s.phase == CLUS_POL_WAITING || policy->failback; /* on_node_up's two rows */
}

static enum clus_pol_row on_start(clus_pol_state *st, const clus_pol_facts *f,
                                  clus_pol_actions *out)
{
    int target;

    if (!f->desired_online)
        return CLUS_ROW_NONE;
    if (st->s.phase == CLUS_POL_RETRY_WAIT || st->s.phase == CLUS_POL_GAVE_UP)
        return CLUS_ROW_S4_START_HELD;
    if (owner_eligible(f)) {
        st->s.phase = CLUS_POL_IDLE;
        add(out, CLUS_POL_ACT_ONLINE, CLUS_POL_WHY_PLACE, f->owner, 0, "start on its owner");
        return CLUS_ROW_S1_START_OWNER;
    }
    if ((target = clus_place_best(f->res, f->nodes, f->n_nodes, -1)) < 0) {
        st->s.phase = CLUS_POL_WAITING;
        add(out, CLUS_POL_ACT_WAIT, CLUS_POL_WHY_NONE, -1, 0, "no possible owner is up");
        return CLUS_ROW_S3_START_WAIT;
    }
    st->s.phase = CLUS_POL_IDLE;
    add(out, CLUS_POL_ACT_ONLINE, CLUS_POL_WHY_PLACE, target, 0,
        "start on the most preferred node that is up");
    return CLUS_ROW_S2_START_BEST;
}

static enum clus_pol_row admin_node_check(const clus_pol_facts *f, int node, clus_pol_actions *out)
{
    if (node < 0)
        return CLUS_ROW_NONE;
    if ((size_t)node >= f->n_nodes || !clus_def_possible(f->res, (size_t)node)) {
        refuse(out, CLUS_E_NODE_CANT_HOST_RESOURCE, "that node is not a possible owner");
        return CLUS_ROW_A1_NOT_POSSIBLE;
    }
    if (!f->nodes[node].up) {
        refuse(out, CLUS_E_CLUSTER_NODE_DOWN, "that node is down");
        return CLUS_ROW_A2_NODE_DOWN;
    }
    if (f->nodes[node].draining) {
        refuse(out, CLUS_E_INVALID_STATE, "that node is draining");
        return CLUS_ROW_A3_NODE_DRAINING;
    }
    return CLUS_ROW_NONE;
}

static enum clus_pol_row on_admin_online(clus_pol_state *st, const clus_pol_facts *f, int node,
                                         clus_pol_actions *out)
{
    enum clus_pol_row r = admin_node_check(f, node, out);
    int target;

    if (r != CLUS_ROW_NONE)
        return r;
    if (state_active(f->state) && f->owner >= 0) {
        if (node >= 0 && node != f->owner) {
            refuse(out, CLUS_E_RESOURCE_ONLINE,
                   "it is online on another node: use move to change its node");
            return CLUS_ROW_A5_ONLINE_ELSEWHERE;
        }
        return CLUS_ROW_A4_ALREADY_ONLINE;
    }
    if ((target = node >= 0 ? node : start_target(f)) < 0) {
        refuse(out, CLUS_E_CLUSTER_NODE_DOWN, "no possible owner of it is up");
        return CLUS_ROW_A7_NO_NODE;
    }
    st->s.phase = CLUS_POL_IDLE;
    st->s.retry_attempt = false;
    st->s.n_restart_times = 0;
    add(out, CLUS_POL_ACT_ONLINE, CLUS_POL_WHY_ADMIN, target, 0, "an operator asked for it");
    return CLUS_ROW_A6_ADMIN_ONLINE;
}

static enum clus_pol_row on_admin_offline(clus_pol_state *st, const clus_pol_facts *f,
                                          clus_pol_actions *out)
{
    st->s.phase = CLUS_POL_IDLE;
    st->s.retry_attempt = false;
    if (f->owner < 0 || !state_active(f->state))
        return CLUS_ROW_D2_ALREADY_OFFLINE;
    add(out, CLUS_POL_ACT_OFFLINE, CLUS_POL_WHY_ADMIN, f->owner, 0, "an operator asked for it");
    return CLUS_ROW_D1_ADMIN_OFFLINE;
}

static enum clus_pol_row on_clear(clus_pol_state *st)
{
    st->s.restarts = st->s.failovers = st->s.failures = 0;
    st->s.n_restart_times = st->s.n_failover_times = 0;
    return CLUS_ROW_C1_CLEAR;
}

void clus_pol_decide(clus_pol_state *st, const clus_pol_facts *f, const clus_pol_event *ev,
                     clus_pol_actions *out)
{
    memset(out, 0, sizeof(*out));
    switch (ev->kind) {
    case CLUS_POL_EV_FAILED:
        out->row = on_failed(st, f, out);
        break;
    case CLUS_POL_EV_NODE_LOST:
        out->row = on_node_lost(st, f, out);
        break;
    case CLUS_POL_EV_TICK:
        out->row = on_tick(st, f, out);
        break;
    case CLUS_POL_EV_ONLINE:
        st->s.retry_attempt = false;
        st->s.phase = CLUS_POL_IDLE;
        out->row = CLUS_ROW_O1_ONLINE;
        break;
    case CLUS_POL_EV_NODE_UP:
        out->row = on_node_up(st, f, ev->node, out);
        break;
    case CLUS_POL_EV_START:
        out->row = on_start(st, f, out);
        break;
    case CLUS_POL_EV_ADMIN_ONLINE:
        out->row = on_admin_online(st, f, ev->node, out);
        break;
    case CLUS_POL_EV_ADMIN_OFFLINE:
        out->row = on_admin_offline(st, f, out);
        break;
    case CLUS_POL_EV_CLEAR:
        out->row = on_clear(st);
        break;
    case CLUS_POL_EV_MOVE_FAILED:
        /* Counted, but the move logic already brought it back: a move the
         * type rejected never gets here (not a failure). */
        st->s.failures++;
        out->row = CLUS_ROW_M1_MOVE_FAILED;
        break;
    }
}

/* ------------------------------------------------------------ names */

const char *clus_pol_row_name(enum clus_pol_row row)
{
    static const char *const names[CLUS_ROW_COUNT] = {
        "none",
        "F1-desired-offline",
        "F2-dont-restart",
        "F3-retry-failed",
        "F4-restart",
        "F5-no-notify",
        "F6-failover",
        "F7-failover-limit",
        "F8-no-target",
        "L1-lost-offline",
        "L2-lost-failover",
        "L3-lost-wait",
        "T1-retry",
        "T2-retry-wait",
        "O1-online",
        "U1-node-up-place",
        "U2-failback",
        "U3-failback-window",
        "S1-start-owner",
        "S2-start-best",
        "S3-start-wait",
        "S4-start-held",
        "A1-not-possible",
        "A2-node-down",
        "A3-node-draining",
        "A4-already-online",
        "A5-online-elsewhere",
        "A6-admin-online",
        "A7-no-node",
        "D1-admin-offline",
        "D2-already-offline",
        "C1-clear",
        "M1-move-failed",
    };

    return row < CLUS_ROW_COUNT ? names[row] : "unknown";
}

const char *clus_pol_action_name(enum clus_pol_action_kind kind, enum clus_pol_why why)
{
    switch (kind) {
    case CLUS_POL_ACT_ONLINE:
        return why == CLUS_POL_WHY_RESTART    ? "restart"
               : why == CLUS_POL_WHY_FAILOVER ? "failover"
               : why == CLUS_POL_WHY_RETRY    ? "retry"
                                              : "online";
    case CLUS_POL_ACT_OFFLINE:
        return "offline";
    case CLUS_POL_ACT_MOVE:
        return why == CLUS_POL_WHY_FAILBACK ? "failback" : "move";
    case CLUS_POL_ACT_FAILED:
        return "stay-failed";
    case CLUS_POL_ACT_WAIT:
        return "wait-for-node";
    case CLUS_POL_ACT_REFUSE:
        return "refuse";
    }
    return "unknown";
}

const char *clus_pol_phase_name(enum clus_pol_phase phase)
{
    switch (phase) {
    case CLUS_POL_IDLE:
        return "";
    case CLUS_POL_RETRY_WAIT:
        return "retry-wait";
    case CLUS_POL_GAVE_UP:
        return "gave-up";
    case CLUS_POL_WAITING:
        return "waiting-for-node";
    }
    return "unknown";
}
