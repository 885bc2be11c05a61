/*
 * agent_internal.h - what agent.c and dispatch.c share. Not a public header.
 */
#ifndef CLUS_AGENT_INTERNAL_H
#define CLUS_AGENT_INTERNAL_H

#include "agent.h"
#include "events.h"
#include "registry.h"
#include "resource.h"
#include "rpc_server.h"
#include "store.h"
#include "timer_heap.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <uthash.h>

struct agent_entry {
    const char *name; /* the resource's own (clus_res_name) */
    uint64_t id;
    clus_res *res;
    UT_hash_handle hh;    /* by name */
    UT_hash_handle hh_id; /* by id */
};

/* A message to the loop thread from a type's callback (any thread). */
enum agent_post_kind { POST_STATUS, POST_FAILURE, POST_LOCKED };

struct agent_post {
    enum agent_post_kind kind;
    uint64_t res_id;
    uint32_t gen;
    int state;
    uint32_t checkpoint;
    uint32_t status;
    uint32_t failure_type;
    bool locked;
    struct agent_post *next;
};

struct agent_watcher; /* a parked Watch call (dispatch.c) */

/* The status fast path (dispatch.c): the last AgentStatus the loop built,
 * answered from the nng threads (no hop to the loop) for as long as nothing
 * can have changed. Every loop callback that may change anything drops it
 * first (agent_cache_drop), before it changes or answers anything; the
 * next status the loop answers builds it again. So what the nng threads
 * serve is exactly what the loop would answer now: no stale read, not even
 * for the caller of the Online that just returned. Only the lock and the
 * fields below are shared with the nng threads. */
struct agent_status_cache {
    pthread_rwlock_t lock;         /* writers: the loop; readers: nng threads */
    Clus__V1__AgentStatus *status; /* an unpacked copy (owned), NULL: none */
    bool lease_bound, lease_fenced;
    uint64_t lease_expires_ms; /* a reader past it hands the call to the loop */
};

struct clus_agent {
    uv_loop_t *loop;
    clus_agent_config config;
    clus_rpc_server *server;
    clus_registry *registry;
    clus_monitor_callbacks callbacks;
    clus_store *store;
    clus_events *events;
    clus_res_env env;
    struct agent_entry *by_name, *by_id;
    uint64_t next_id;
    uint64_t next_call_id;
    uint64_t started_ms;

    /* Every resource's deadlines, behind one libuv timer armed for the
     * earliest (timers_due: what it is armed for, UINT64_MAX: idle). */
    clus_timer_heap *timers;
    size_t timer_refs; /* deadlines of the resources that exist: reserved */
    uv_timer_t timers_wake;
    uint64_t timers_due;

    pthread_mutex_t post_lock; /* guards post_head/post_tail only */
    struct agent_post *post_head, *post_tail;
    uv_async_t post_wake;

    /* Jobs of loop-native types that ran inline, finished on the next turn. */
    clus_res_job **finished;
    size_t finished_head, finished_count, finished_cap;
    uv_idle_t finished_idle;

    struct agent_watcher *watchers;
    unsigned watcher_count;

    struct agent_status_cache status_cache;

    bool lease_bound;
    bool lease_fenced;
    uint64_t lease_expires_ms;
    uint64_t lease_epoch;
    char lease_holder[128];
    char lease_file[4096]; /* <state-dir>/lease, read by the process guards */
    uv_timer_t lease_timer;

    bool stopping;
    atomic_bool torn_down;
    unsigned jobs_in_flight;
    int open_handles;
};

/* agent.c */
void agent_post(clus_agent *agent, const struct agent_post *post);
clus_res *agent_find(clus_agent *agent, const char *name);
clus_res *agent_find_id(clus_agent *agent, uint64_t id);
clus_res *agent_create(clus_agent *agent, const char *name, const clus_type_view *type,
                       const clus_params *params, const clus_res_props *props, char *err,
                       size_t errlen);
void agent_forget(clus_agent *agent, clus_res *res);
void agent_lease_check(clus_agent *agent);
bool agent_lease_lost(const clus_agent *agent);
uint32_t agent_lease_renew(clus_agent *agent, const char *holder, uint32_t ttl_ms, uint64_t epoch,
                           char *err, size_t errlen);
void agent_maybe_teardown(clus_agent *agent);

/* dispatch.c */
void agent_dispatch(void *arg, clus_rpc_call *call);
bool agent_fast(void *arg, clus_rpc_call *call); /* the rpc server's fast hook */
void agent_cache_init(clus_agent *agent);
void agent_cache_drop(clus_agent *agent); /* first thing of every loop callback */
void agent_cache_free(clus_agent *agent);
uint64_t agent_emit(clus_agent *agent, const Clus__V1__Event *ev);
void agent_watchers_drop(clus_agent *agent);

/* A ResourceInfo with its own parameter arrays (dispatch.c). */
struct agent_info {
    Clus__V1__ResourceInfo info;
    Clus__V1__Param *params;
    Clus__V1__Param **param_ptrs;
};
void agent_info_fill(struct agent_info *out, const clus_res *res);
void agent_info_release(struct agent_info *info);

#endif
