/*
 * coord_internal.h - the coordinator's state, shared by its files (private
 * to coordinator/). Everything here is owned and touched by the loop
 * thread only.
 *
 *   coordinator.c  start/stop, the tick, events to the feed, persistence
 *   nodes.c        leases, node phases (Up/Down/...), probes
 *   watch.c        agent events (long poll) and full status reads -> views
 *   engine.c       resource operations, the safety gate, policy actions
 *   admin.c        operator requests (online, offline, move, drain, plan)
 *   api.c          the coordinator's RPC server (coordinator.proto)
 */
#ifndef CLUS_COORD_INTERNAL_H
#define CLUS_COORD_INTERNAL_H

#include "coordinator.h"
#include "feed.h"
#include "link.h"
#include "move.h"
#include "policy.h"
#include "rpc_server.h"
#include "cstore.h"

#include "clus/v1/coordinator.pb-c.h"

#include <stdbool.h>
#include <stdint.h>
#include <uthash.h>

#define CO_OPS_TIMEOUT_MS   3000 /* Open/Online/Offline/Terminate/status */
#define CO_WATCH_WAIT_MS    2000 /* agent long poll (bounds shutdown too) */
#define CO_WATCH_RETRY_MS   200  /* after a failed watch */
#define CO_AWAIT_SLACK_MS   5000 /* past PendingTimeout: re-read status */
#define CO_DRAIN_BACKOFF_MS 5000 /* after a drain move the type rejected */
#define CO_FEED_CAPACITY    4096
#define CO_START_BUDGET_US  10000 /* per tick, for placing resources that run nowhere */

/* A node's lease phase. */
enum node_phase {
    NODE_UNKNOWN, /* not acknowledged yet since the coordinator started */
    NODE_UP,      /* renewals acknowledged */
    NODE_LOST,    /* no ack for lease_ms: renewals stopped, waiting out the margin */
    NODE_DOWN,    /* lease provably expired: its resources may run elsewhere */
};

struct cnode {
    clus_coordinator *co;
    size_t index;
    const clus_def_node *def;
    clus_link *link;
    enum node_phase phase;
    bool draining;
    bool reachable;         /* the last call on the lease lane got an answer */
    bool announce_up;       /* became UP: tell the policy once synced */
    uint64_t ack_ms;        /* when the last renewal was acknowledged */
    uint64_t sent_ms;       /* when the last renewal the agent may have got was sent */
    uint64_t renew_sent_ms; /* when the renewal in flight (lease_busy) was sent */
    uint64_t next_renew_ms, next_probe_ms;
    bool lease_busy, probe_busy;
    /* event stream of the agent */
    uint64_t boot_id, after_seq;
    bool synced; /* views are from a full status read (+ events since) */
    bool status_busy, resync_wanted;
    bool watch_busy;
    uint64_t watch_gen, watch_retry_ms;
};

/* What one agent has of one resource. */
struct view {
    bool known;   /* from a status read or an event of the current sync */
    bool present; /* the agent has it open */
    int state;
    uint64_t seq; /* the resource's last event seq on that agent */
    bool killing; /* a Terminate of a second copy is in flight */
};

enum op_kind { OP_NONE, OP_ONLINE, OP_OFFLINE, OP_TERMINATE, OP_MOVE };
enum op_step {
    STEP_DELAY, /* not before step_at (RestartDelay) */
    STEP_GATE,  /* Online waits for the safety gate */
    STEP_OPEN,  /* Open in flight (before an Online) */
    STEP_CALL,  /* the call is in flight */
    STEP_AWAIT, /* 997 or unknown outcome: waits for the final state */
};

/* The first fields are what the tick reads of every resource every 20 ms
 * (10,000 of them in bench P7): one cache line per idle resource. */
struct cres {
    clus_coordinator *co;
    size_t n_present;    /* views with present set: co_view_present() keeps it */
    uint64_t pol_due_ms; /* clus_pol_due_ms(pol): set wherever pol changes */
    int owner;           /* node index, -1 none */
    enum op_kind op;     /* the operation in progress (one at a time) */
    int state;           /* on the owner, as known */
    bool desired_online;
    bool believed_running; /* it was Online (or pending) on its owner */
    bool owner_present;    /* views[owner].present, kept with it and the owner */
    /* the rest */
    size_t index;
    const clus_def_resource *def;
    uint32_t last_status;
    clus_pol_state *pol;
    struct view *views; /* one per node */
    UT_hash_handle hh;  /* clus_coordinator.by_name, keyed by def->name */
    enum clus_pol_why why;
    clus_move_call call; /* the current call of the operation */
    enum op_step step;
    uint64_t step_at;
    uint64_t gen; /* per call: replies of older calls are stale */
    clus_move *move;
    uint64_t drain_backoff_ms;
    char last_message[256];
};

struct coord_watcher; /* a parked `watch` call (api.c) */

struct clus_coordinator {
    uv_loop_t *loop;
    clus_coordinator_config config;
    clus_clusterdef *def;
    clus_cstore *store;
    clus_rpc_server *server;
    clus_feed *feed;
    uv_timer_t tick;
    struct cnode *nodes;
    size_t n_nodes;
    struct cres *res;
    size_t n_res;
    struct cres *by_name; /* the same resources, by name */
    uint64_t epoch, start_ms;
    char holder[64];
    struct coord_watcher *watchers;
    size_t n_watchers;
    bool stopping;
    /* Placing a resource costs a durable store write (an fsync) and more:
     * the tick places resources until this moment, the rest on the next
     * tick, so that 10,000 new resources never block the loop (and the
     * lease renewals it answers) for seconds (bench P7). */
    uint64_t start_budget_end_us;
    bool starts_paused;
};

/* ---- coordinator.c */
void co_emit_node(struct cnode *node, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void co_emit_res(struct cres *r, const char *kind, uint32_t status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void co_persist(struct cres *r, bool durable);
void co_node_facts(const clus_coordinator *co, clus_node_facts *out);
const char *co_node_state_name(const struct cnode *node);
int co_local_hour(void);

/* ---- nodes.c */
void co_nodes_tick(clus_coordinator *co, uint64_t now);
void co_node_synced(struct cnode *node);       /* a full status read just completed */
bool co_node_usable(const struct cnode *node); /* up and synced: may take calls */

/* Sets views[node].present and keeps n_present and owner_present right:
 * every write of present goes through here (check_copies relies on them). */
static inline void co_view_present(struct cres *r, size_t node, bool present)
{
    if ((int)node == r->owner)
        r->owner_present = present;
    if (present && !r->views[node].present)
        r->n_present++;
    else if (!present && r->views[node].present)
        r->n_present--;
    r->views[node].present = present;
}

/* The resource of this cluster with that name, or NULL (hash lookup). */
struct cres *co_res_find(clus_coordinator *co, const char *name);

/* ---- watch.c */
void co_watch_tick(struct cnode *node, uint64_t now);
void co_node_resync(struct cnode *node); /* read the agent's full status */
void co_node_unsync(struct cnode *node); /* views are no longer trustworthy */

/* ---- engine.c */
bool co_state_active(int state);
void co_res_tick(struct cres *r, uint64_t now);
void co_res_observe(struct cres *r, size_t node); /* views[node] changed */
void co_res_node_down(struct cres *r, size_t node);
void co_res_node_up(struct cres *r, size_t node);
void co_res_decide(struct cres *r, const clus_pol_event *ev, clus_pol_actions *out);
void co_res_start_move(struct cres *r, int destination, bool return_to_source,
                       enum clus_pol_why why);
void co_res_start_offline(struct cres *r, int node, uint32_t flags);
void co_res_set_owner(struct cres *r, int owner);
const char *co_res_operation(const struct cres *r, char *buf, size_t len);
void co_res_facts(const struct cres *r, clus_node_facts *nodes, clus_pol_facts *out);

/* ---- admin.c: each returns a Win32 status and a message */
uint32_t co_admin_online(clus_coordinator *co, const char *res, const char *node, char *msg,
                         size_t len);
uint32_t co_admin_offline(clus_coordinator *co, const char *res, char *msg, size_t len);
uint32_t co_admin_move(clus_coordinator *co, const char *res, const char *node, bool rts, char *msg,
                       size_t len);
uint32_t co_admin_drain(clus_coordinator *co, const char *node, bool drain, char *msg, size_t len);
uint32_t co_admin_clear(clus_coordinator *co, const char *res, char *msg, size_t len);
/* Fills plan->actions (malloc'ed, freed with co_plan_free). */
uint32_t co_admin_plan(clus_coordinator *co, const char *fail_node, const char *fail_res,
                       Clus__V1__CoordPlan *plan, char *msg, size_t len);
void co_plan_free(Clus__V1__CoordPlan *plan);

/* ---- api.c */
uint32_t co_api_start(clus_coordinator *co, char *err, size_t errlen);
void co_api_stop(clus_coordinator *co);
void co_api_feed_wake(clus_coordinator *co); /* new events: answer parked watches */
void co_api_tick(clus_coordinator *co, uint64_t now);

#endif
