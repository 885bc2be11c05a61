/*
 * resource.h - one hosted resource and its state machine (the Resource
 * Monitor's per-resource logic of the Windows model).
 *
 * A clus_res owns its type instance (RESID), its state, its health timers
 * and a FIFO of entry-point jobs. It reaches the outside world only through
 * a clus_res_env: time, timers, running a job (inline for loop-native types,
 * on a worker otherwise), events and persistence. The agent gives it the
 * real env; unit tests give it a fake clock and a fake type.
 *
 * Threads: every function here runs on the loop thread, except the
 * clus_res_post_* functions behind the type callbacks, which the env makes
 * safe to call from any thread.
 *
 * Rules (reference/wsfc-model.md 2-3):
 *   - Open leaves the resource Offline.
 *   - Online: 0 -> Online; 997 -> OnlinePending until the type reports the
 *     end with set_status; error -> log, Terminate, Failed. A type call that
 *     outlives the call bound is answered 997 and finishes as if pending.
 *   - PendingTimeout bounds the gap between two progress reports; past it
 *     the operation is terminated and the resource Failed (5910).
 *   - Offline: 0 -> Offline; 997 -> OfflinePending; error -> log,
 *     Terminate, Failed.
 *   - While Online: LooksAlive every looks_alive_ms (off when the type gave
 *     an event handle), IsAlive every is_alive_ms; LooksAlive false -> IsAlive
 *     at once; IsAlive false -> Failed + Terminate. signal_failure -> IsAlive
 *     at once.
 *   - Terminate may overtake a running job; every other job of one resource
 *     runs alone, in arrival order.
 */
#ifndef CLUS_AGENT_RESOURCE_H
#define CLUS_AGENT_RESOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include <clus/restype.h>

typedef struct clus_res clus_res;

enum clus_res_timer {
    CLUS_RES_TIMER_PENDING,     /* PendingTimeout between progress reports */
    CLUS_RES_TIMER_BOUND,       /* the caller's call bound: answer 997 */
    CLUS_RES_TIMER_LOOKS_ALIVE, /* repeating */
    CLUS_RES_TIMER_IS_ALIVE,    /* repeating */
    CLUS_RES_TIMER_COUNT
};

enum clus_res_job_kind {
    CLUS_JOB_OPEN,
    CLUS_JOB_CLOSE,
    CLUS_JOB_ONLINE,
    CLUS_JOB_OFFLINE,
    CLUS_JOB_TERMINATE,
    CLUS_JOB_LOOKS_ALIVE,
    CLUS_JOB_IS_ALIVE,
    CLUS_JOB_ARBITRATE,
    CLUS_JOB_RELEASE,
    CLUS_JOB_CONTROL,
    CLUS_JOB_CANCEL,
};

/* A finished request: status, a sentence, and for health checks the answer.
 * Called exactly once per request, on the loop thread. */
typedef struct clus_res_outcome {
    uint32_t status;
    const char *message;
    bool alive;               /* LooksAlive/IsAlive */
    const clus_params *props; /* control: properties the type returned */
    const void *out;          /* control: raw output */
    size_t out_len;           /* control: bytes returned (or needed, with 234) */
} clus_res_outcome;

typedef void (*clus_res_done_fn)(void *ctx, clus_res *res, const clus_res_outcome *outcome);

/* One call into the type. The env runs clus_res_job_execute() (inline or on
 * a worker) and then clus_res_job_finish() on the loop thread. */
typedef struct clus_res_job clus_res_job;

/* An event the resource reports (state change, failure, fence). */
typedef struct clus_res_event {
    int kind; /* CLUS__V1__EVENT_KIND__* */
    int old_state;
    int new_state;
    uint32_t status;
    uint32_t checkpoint;
    uint32_t flags;
    const char *message;
} clus_res_event;

typedef struct clus_res_env_ops {
    uint64_t (*now_ms)(void *env);
    void (*timer_start)(void *env, clus_res *res, enum clus_res_timer timer, uint64_t ms);
    void (*timer_stop)(void *env, clus_res *res, enum clus_res_timer timer);
    /* Runs the job: inline (loop-native type) or on a worker; either way
     * clus_res_job_finish() follows on the loop thread. */
    void (*run)(void *env, clus_res_job *job, bool loop_native);
    /* Returns the event's sequence number. */
    uint64_t (*emit)(void *env, clus_res *res, const clus_res_event *event);
    /* Writes the resource's persisted record (or deletes it when closed). */
    void (*persist)(void *env, clus_res *res, bool removed);
} clus_res_env_ops;

typedef struct clus_res_env {
    const clus_res_env_ops *ops;
    void *arg;
    const clus_monitor_callbacks *callbacks; /* given to the type */
} clus_res_env;

/* Common properties (the agent's, not the type's). */
typedef struct clus_res_props {
    uint32_t pending_timeout_ms; /* default 180000 */
    uint32_t looks_alive_ms;     /* default 5000 */
    uint32_t is_alive_ms;        /* default 60000 */
    uint32_t call_bound_ms;      /* answer 997 after this (agent-wide) */
} clus_res_props;

#define CLUS_RES_DEFAULT_PENDING_TIMEOUT_MS 180000u
#define CLUS_RES_DEFAULT_LOOKS_ALIVE_MS     5000u
#define CLUS_RES_DEFAULT_IS_ALIVE_MS        60000u
#define CLUS_RES_MIN_INTERVAL_MS            10u

/* Takes the common properties out of params (pending_timeout_ms,
 * looks_alive_ms, is_alive_ms) into props, leaving the type's own in
 * type_params (pointers into params). 87 with a reason for a bad value. */
uint32_t clus_res_props_take(const clus_params *params, clus_res_props *props,
                             clus_param *type_params, size_t *type_count, char *err, size_t errlen);

/* Creates the resource and runs the type's Open (done reports the result; on
 * failure the resource is freed before done returns... see agent.c). The
 * params are copied. persisted_state is what the store remembered
 * (CLUS_STATE_OFFLINE for a new resource). */
clus_res *clus_res_new(const clus_res_env *env, uint64_t id, const char *name,
                       const char *type_name, const clus_restype_ops *ops, bool loop_native,
                       const clus_params *params, const clus_res_props *props,
                       const char *state_dir);
void clus_res_open(clus_res *res, uint32_t open_flags, int persisted_state, uint32_t online_flags,
                   clus_res_done_fn done, void *ctx);

/* Entry points. Each answers through done exactly once. */
void clus_res_online(clus_res *res, uint32_t flags, const void *in, size_t in_len,
                     clus_res_done_fn done, void *ctx);
void clus_res_offline(clus_res *res, uint32_t flags, const char *destination, const void *in,
                      size_t in_len, clus_res_done_fn done, void *ctx);
void clus_res_terminate(clus_res *res, clus_res_done_fn done, void *ctx);
void clus_res_looks_alive(clus_res *res, clus_res_done_fn done, void *ctx);
void clus_res_is_alive(clus_res *res, clus_res_done_fn done, void *ctx);
void clus_res_arbitrate(clus_res *res, clus_res_done_fn done, void *ctx);
void clus_res_release(clus_res *res, clus_res_done_fn done, void *ctx);
void clus_res_cancel(clus_res *res, uint32_t flags, clus_res_done_fn done, void *ctx);
void clus_res_control(clus_res *res, const clus_control *request, clus_res_done_fn done, void *ctx);
/* Terminates if needed, closes the type instance and frees res after done
 * (done gets res, which must not be used after done returns). */
void clus_res_close(clus_res *res, clus_res_done_fn done, void *ctx);

/* Frees res at agent shutdown, when no job runs: the type's close (without
 * Terminate: the entity keeps running for the next agent to adopt), queued
 * jobs dropped unanswered. */
void clus_res_destroy(clus_res *res);

/* Self-fence: terminate now (lease lost) unless onlined with
 * IGNORE_NETWORK_CONNECTIVITY. Returns true when it terminated. */
bool clus_res_fence(clus_res *res, const char *why);

/* A timer the env started has fired (loop thread). */
void clus_res_timer_fired(clus_res *res, enum clus_res_timer timer);

/* What the type reported through its callbacks, delivered on the loop
 * thread by the env (gen is the value of clus_res_accept_gen() when the type
 * called). */
void clus_res_status_report(clus_res *res, uint32_t gen, int state, uint32_t checkpoint,
                            uint32_t status);
void clus_res_failure_signal(clus_res *res, uint32_t failure_type, uint32_t app_code);
void clus_res_locked_mode(clus_res *res, bool locked);

/* The type's sentence for the status its running entry point returns: kept
 * when called on the thread that runs res's job, ignored elsewhere. */
void clus_res_set_reason(clus_res *res, const char *text);

/* Any thread: the generation set_status reports belong to (0: nothing
 * pending, the type should stop). */
uint32_t clus_res_accept_gen(const clus_res *res);

/* Jobs (called by the env). execute may run on a worker thread. */
void clus_res_job_execute(clus_res_job *job);
void clus_res_job_finish(clus_res_job *job);
clus_res *clus_res_job_resource(const clus_res_job *job);
enum clus_res_job_kind clus_res_job_kind_of(const clus_res_job *job);

/* Loop thread: true when res has calls queued behind the one it runs. */
bool clus_res_has_queued(const clus_res *res);

/* Read access for the agent (loop thread). */
typedef struct clus_res_view {
    uint64_t id;
    const char *name;
    const char *type;
    int state;
    uint32_t last_status;
    const char *last_message;
    uint32_t checkpoint;
    uint32_t online_flags;
    uint32_t offline_flags;
    int persisted_state;
    clus_res_props props;
    bool event_handle;
    int looks_alive; /* 1, 0, -1 never */
    int is_alive;
    uint64_t health_at_ms; /* when is_alive was last polled (now_ms clock) */
    bool locked;
    bool arbitrated;
    uint64_t seq;
    const clus_params *params;
} clus_res_view;

void clus_res_view_get(const clus_res *res, clus_res_view *view);
int clus_res_state(const clus_res *res);
const char *clus_res_name(const clus_res *res);
uint64_t clus_res_id(const clus_res *res);
clus_resource *clus_res_handle(clus_res *res); /* what the type sees */
clus_res *clus_res_from_handle(clus_resource *handle);
bool clus_res_busy(const clus_res *res); /* a job runs or waits */

/* Per-resource slot for the env (its timers). */
void clus_res_set_env_data(clus_res *res, void *data);
void *clus_res_env_data(const clus_res *res);

#endif
