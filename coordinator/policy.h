/*
 * policy.h - the failure policy of one resource as a pure function:
 * (policy state, facts, event) -> (new policy state, actions).
 *
 * No I/O, no clock of its own (facts.now_ms is injected), no globals: the
 * same inputs always give the same outputs, so `clusctl plan` runs it on a
 * copy and the unit tests run every row with a fake clock. The rows are
 * listed in enum clus_pol_row and in docs/coordinator.md.
 *
 * The state holds the sliding windows of restarts and failovers, the
 * totals shown by `status`, and the phase (retry wait, gave up, waiting for
 * a node). It is owned by the caller (one per resource).
 */
#ifndef CLUS_COORD_POLICY_H
#define CLUS_COORD_POLICY_H

#include "clusterdef.h"
#include "placement.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct clus_pol_state clus_pol_state;

enum clus_pol_phase {
    CLUS_POL_IDLE = 0,       /* nothing pending in the policy */
    CLUS_POL_RETRY_WAIT = 1, /* Failed; one more Online at retry_at_ms */
    CLUS_POL_GAVE_UP = 2,    /* Failed; waits for an operator (online R) */
    CLUS_POL_WAITING = 3,    /* should run, but no node can host it now */
};

/* Everything the state holds, for the store and for status. Times are
 * CLOCK_MONOTONIC milliseconds. */
typedef struct clus_pol_snapshot {
    uint32_t restarts, failovers, failures; /* totals */
    enum clus_pol_phase phase;
    uint64_t retry_at_ms;   /* RETRY_WAIT: when */
    bool retry_attempt;     /* the current Online is the retry */
    size_t n_restart_times; /* restarts inside RestartPeriod */
    uint64_t restart_times[CLUS_POLICY_MAX_THRESHOLD];
    size_t n_failover_times; /* failovers inside FailoverPeriod */
    uint64_t failover_times[CLUS_POLICY_MAX_THRESHOLD];
} clus_pol_snapshot;

enum clus_pol_event_kind {
    CLUS_POL_EV_FAILED,        /* it failed on its owner (or was found down) */
    CLUS_POL_EV_NODE_LOST,     /* its owner's lease provably ran out */
    CLUS_POL_EV_TICK,          /* time passed: a retry may be due */
    CLUS_POL_EV_ONLINE,        /* it came Online */
    CLUS_POL_EV_NODE_UP,       /* event.node became able to host */
    CLUS_POL_EV_START,         /* should run and runs nowhere: place it */
    CLUS_POL_EV_ADMIN_ONLINE,  /* online R [--node event.node] */
    CLUS_POL_EV_ADMIN_OFFLINE, /* offline R */
    CLUS_POL_EV_CLEAR,         /* clear R: reset counters */
    CLUS_POL_EV_MOVE_FAILED,   /* a move's destination failed; it went back */
};

typedef struct clus_pol_event {
    enum clus_pol_event_kind kind;
    int node; /* NODE_UP: the node; ADMIN_ONLINE: the asked node or -1 */
} clus_pol_event;

/* What the coordinator knows when it asks. */
typedef struct clus_pol_facts {
    const clus_def_resource *res; /* policy, possible and preferred owners */
    const clus_node_facts *nodes; /* indexed like the definition's nodes */
    size_t n_nodes;
    int owner; /* -1: none */
    int state; /* CLUS_STATE_* on the owner as known */
    bool desired_online;
    uint64_t now_ms; /* monotonic */
    int local_hour;  /* 0..23, for the failback window */
} clus_pol_facts;

enum clus_pol_action_kind {
    CLUS_POL_ACT_ONLINE,  /* Online on node after delay_ms */
    CLUS_POL_ACT_OFFLINE, /* Offline on node */
    CLUS_POL_ACT_MOVE,    /* move (failback) to node */
    CLUS_POL_ACT_FAILED,  /* it stays Failed (reason says until when) */
    CLUS_POL_ACT_WAIT,    /* it waits for a node that can host it */
    CLUS_POL_ACT_REFUSE,  /* the request is refused with status */
};

enum clus_pol_why {
    CLUS_POL_WHY_NONE,
    CLUS_POL_WHY_RESTART,  /* restart in place */
    CLUS_POL_WHY_FAILOVER, /* failover after the restart threshold or node loss */
    CLUS_POL_WHY_RETRY,    /* the retry after RetryPeriodOnFailure */
    CLUS_POL_WHY_PLACE,    /* first start / start after waiting */
    CLUS_POL_WHY_ADMIN,    /* an operator asked */
    CLUS_POL_WHY_FAILBACK, /* back to a more preferred node */
};

/* Policy rows: every decision names the row that made it. */
enum clus_pol_row {
    CLUS_ROW_NONE = 0,
    CLUS_ROW_F1_DESIRED_OFFLINE,  /* failed, but should be offline: nothing */
    CLUS_ROW_F2_DONT_RESTART,     /* RestartAction 0: stays Failed */
    CLUS_ROW_F3_RETRY_FAILED,     /* the retry failed too: gave up */
    CLUS_ROW_F4_RESTART,          /* under RestartThreshold: restart in place */
    CLUS_ROW_F5_NO_NOTIFY,        /* RestartAction 1 past threshold: Failed, retry */
    CLUS_ROW_F6_FAILOVER,         /* RestartAction 2 past threshold: fail over */
    CLUS_ROW_F7_FAILOVER_LIMIT,   /* FailoverThreshold reached: Failed, retry */
    CLUS_ROW_F8_NO_TARGET,        /* nowhere to fail over: Failed, retry */
    CLUS_ROW_L1_LOST_OFFLINE,     /* owner lost, should be offline: nothing */
    CLUS_ROW_L2_LOST_FAILOVER,    /* owner lost: online on the next node */
    CLUS_ROW_L3_LOST_WAIT,        /* owner lost, nowhere to go: wait */
    CLUS_ROW_T1_RETRY,            /* retry due: one more Online */
    CLUS_ROW_T2_RETRY_WAIT,       /* retry due, nowhere to run: wait */
    CLUS_ROW_O1_ONLINE,           /* came Online: retry flag cleared */
    CLUS_ROW_U1_NODE_UP_PLACE,    /* a waiting resource finds a node */
    CLUS_ROW_U2_FAILBACK,         /* failback to a more preferred node */
    CLUS_ROW_U3_FAILBACK_WINDOW,  /* failback, but outside the window */
    CLUS_ROW_S1_START_OWNER,      /* start on its owner */
    CLUS_ROW_S2_START_BEST,       /* start on the best node */
    CLUS_ROW_S3_START_WAIT,       /* start, but nowhere to run: wait */
    CLUS_ROW_S4_START_HELD,       /* Failed (retry wait / gave up): not started */
    CLUS_ROW_A1_NOT_POSSIBLE,     /* online --node N: N not a possible owner */
    CLUS_ROW_A2_NODE_DOWN,        /* online --node N: N is down */
    CLUS_ROW_A3_NODE_DRAINING,    /* online --node N: N is draining */
    CLUS_ROW_A4_ALREADY_ONLINE,   /* online: already online (there) */
    CLUS_ROW_A5_ONLINE_ELSEWHERE, /* online --node N: online elsewhere, use move */
    CLUS_ROW_A6_ADMIN_ONLINE,     /* online: counters of the window reset, Online */
    CLUS_ROW_A7_NO_NODE,          /* online: no node can host it */
    CLUS_ROW_D1_ADMIN_OFFLINE,    /* offline: Offline on the owner */
    CLUS_ROW_D2_ALREADY_OFFLINE,  /* offline: nothing runs */
    CLUS_ROW_C1_CLEAR,            /* clear: counters reset */
    CLUS_ROW_M1_MOVE_FAILED,      /* destination failed, returned: a failure, no action */
    CLUS_ROW_COUNT
};

#define CLUS_POL_MAX_ACTIONS 2

typedef struct clus_pol_action {
    enum clus_pol_action_kind kind;
    enum clus_pol_why why;
    int node;
    uint64_t delay_ms;
    uint32_t status;    /* REFUSE: the Win32 code */
    const char *reason; /* static text */
} clus_pol_action;

typedef struct clus_pol_actions {
    enum clus_pol_row row;
    size_t n;
    clus_pol_action items[CLUS_POL_MAX_ACTIONS];
} clus_pol_actions;

clus_pol_state *clus_pol_state_new(void);
clus_pol_state *clus_pol_state_copy(const clus_pol_state *state);
void clus_pol_state_free(clus_pol_state *state);
void clus_pol_state_get(const clus_pol_state *state, clus_pol_snapshot *out);
void clus_pol_state_set(clus_pol_state *state, const clus_pol_snapshot *in);

/* The decision. Updates *state and fills *out (out->row always set). */
void clus_pol_decide(clus_pol_state *state, const clus_pol_facts *facts,
                     const clus_pol_event *event, clus_pol_actions *out);

/* When the policy next wants a TICK (RETRY_WAIT), or 0 for never. */
uint64_t clus_pol_due_ms(const clus_pol_state *state);

enum clus_pol_phase clus_pol_phase(const clus_pol_state *state);

/* Whether CLUS_POL_EV_NODE_UP can lead to anything for this resource
 * (waiting for a node, or failback on). When false the event is a no-op
 * and need not be decided: a node coming up then costs nothing per
 * resource, which matters with thousands of them. */
bool clus_pol_wants_node_up(const clus_pol_state *state, const clus_policy *policy);

/* Names for people and logs. */
const char *clus_pol_row_name(enum clus_pol_row row);
const char *clus_pol_action_name(enum clus_pol_action_kind kind, enum clus_pol_why why);
const char *clus_pol_phase_name(enum clus_pol_phase phase);

#endif
