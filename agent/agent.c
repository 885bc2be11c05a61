/*
 * agent.c - the daemon: the resource table, the env the state machine runs
 * in (uv timers, the thread pool, events, sqlite), the hand-off queue for
 * the types' callbacks, the lease, and the startup from the store.
 * Request handling is in dispatch.c.
 */
#include "agent_internal.h"

#include "builtin.h"
#include "guard.h"
#include "clock.h"
#include "log.h"
#include "names.h"
#include "params.h"
#include "status.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------ env */

struct res_slot {
    clus_agent *agent;
    clus_res *res;
    clus_timer_ref timers[CLUS_RES_TIMER_COUNT];
    /* What was last written to the store, to skip writes that change nothing. */
    int stored_state;
    uint32_t stored_flags;
    clus_res_props stored_props;
    bool stored_arbitrated;
    bool stored;
};

static uint64_t env_now_ms(void *arg)
{
    return clus_mono_ms();
}

static void timers_fired(uv_timer_t *wake);

/* The slot a deadline belongs to: refs are slot->timers[tag]. */
static struct res_slot *slot_of_timer(clus_timer_ref *ref)
{
    return (struct res_slot *)((char *)(ref - ref->tag) - offsetof(struct res_slot, timers));
}

/* Points the one libuv timer at the earliest deadline, when that moved. */
static void timers_arm(clus_agent *agent)
{
    uint64_t due = clus_timer_heap_next_due(agent->timers), now = uv_now(agent->loop);

    if (due == agent->timers_due)
        return;
    agent->timers_due = due;
    if (due == UINT64_MAX || agent->stopping)
        uv_timer_stop(&agent->timers_wake);
    else
        uv_timer_start(&agent->timers_wake, timers_fired, due > now ? due - now : 0, 0);
}

/* Fires every deadline due now, in due order; one that a callback starts
 * again waits for the next round (the heap's mark). */
static void timers_fired(uv_timer_t *wake)
{
    clus_agent *agent = wake->data;
    uint64_t mark = clus_timer_heap_mark(agent->timers), now = uv_now(agent->loop);
    clus_timer_ref *ref;

    agent_cache_drop(agent);
    agent->timers_due = UINT64_MAX; /* the libuv timer is spent */
    while (!agent->stopping && (ref = clus_timer_heap_pop_due(agent->timers, now, mark)) != NULL)
        clus_res_timer_fired(slot_of_timer(ref)->res, (enum clus_res_timer)ref->tag);
    timers_arm(agent);
}

/* Cannot fail: agent_create reserved room for every resource's deadlines. */
static void env_timer_start(void *arg, clus_res *res, enum clus_res_timer timer, uint64_t ms)
{
    clus_agent *agent = arg;
    struct res_slot *slot = clus_res_env_data(res);

    clus_timer_heap_start(agent->timers, &slot->timers[timer], uv_now(agent->loop) + ms);
    timers_arm(agent);
}

static void env_timer_stop(void *arg, clus_res *res, enum clus_res_timer timer)
{
    clus_agent *agent = arg;
    struct res_slot *slot = clus_res_env_data(res);

    clus_timer_heap_stop(agent->timers, &slot->timers[timer]);
    timers_arm(agent);
}

static void slot_timers_stop(clus_agent *agent, struct res_slot *slot)
{
    for (int i = 0; i < CLUS_RES_TIMER_COUNT; i++)
        clus_timer_heap_stop(agent->timers, &slot->timers[i]);
}

static void env_work(uv_work_t *work)
{
    clus_res_job_execute(work->data);
}

static void env_after_work(uv_work_t *work, int status)
{
    clus_res_job *job = work->data;
    clus_agent *agent = ((struct res_slot *)clus_res_env_data(clus_res_job_resource(job)))->agent;

    free(work);
    agent_cache_drop(agent);
    agent->jobs_in_flight--;
    clus_res_job_finish(job);
    agent_maybe_teardown(agent);
}

/* Finishes the jobs that ran inline, in order. Runs from a uv_idle handle,
 * i.e. on the next loop turn: no lock, no system call. While another job
 * follows (here, or queued on the same resource, which finishing this one
 * starts), its reply is left to nng's threads (clus_rpc_replies_follow). */
static void finished_drain(uv_idle_t *idle)
{
    clus_agent *agent = idle->data;

    agent_cache_drop(agent);
    while (agent->finished_head < agent->finished_count) {
        clus_res_job *job = agent->finished[agent->finished_head++];
        clus_rpc_replies_follow(agent->finished_head < agent->finished_count ||
                                clus_res_has_queued(clus_res_job_resource(job)));
        clus_res_job_finish(job); /* may append more */
    }
    clus_rpc_replies_follow(false);
    agent->finished_head = agent->finished_count = 0;
    uv_idle_stop(idle);
}

static void finished_push(clus_agent *agent, clus_res_job *job)
{
    if (agent->finished_count == agent->finished_cap) {
        size_t cap = agent->finished_cap ? agent->finished_cap * 2 : 64;
        clus_res_job **grown = realloc(agent->finished, cap * sizeof(*grown));
        if (grown == NULL) {
            clus_error("out of memory: finishing a job at once");
            clus_res_job_finish(job);
            return;
        }
        agent->finished = grown;
        agent->finished_cap = cap;
    }
    agent->finished[agent->finished_count++] = job;
    uv_idle_start(&agent->finished_idle, finished_drain);
}

/* Loop-native types run now; their finish comes on the next loop turn, so
 * the state machine never re-enters itself. */
static void env_run(void *arg, clus_res_job *job, bool loop_native)
{
    clus_agent *agent = arg;
    uv_work_t *work;

    if (loop_native) {
        clus_res_job_execute(job);
        finished_push(agent, job);
        return;
    }
    work = calloc(1, sizeof(*work));
    if (work == NULL) {
        clus_error("out of memory queueing a job; running it on the loop");
        clus_res_job_execute(job);
        finished_push(agent, job);
        return;
    }
    work->data = job;
    agent->jobs_in_flight++;
    uv_queue_work(agent->loop, work, env_work, env_after_work);
}

static uint64_t env_emit(void *arg, clus_res *res, const clus_res_event *e)
{
    clus_agent *agent = arg;
    Clus__V1__Event ev = CLUS__V1__EVENT__INIT;

    ev.resource = (char *)clus_res_name(res);
    ev.kind = (Clus__V1__EventKind)e->kind;
    ev.old_state = e->old_state;
    ev.new_state = e->new_state;
    ev.status = e->status;
    ev.checkpoint = e->checkpoint;
    ev.flags = e->flags;
    ev.message = (char *)(e->message ? e->message : "");
    if (e->old_state != e->new_state)
        clus_info("resource %s: %s -> %s (%s)%s%s", ev.resource, clus_state_name(e->old_state),
                  clus_state_name(e->new_state), clus_status_name(e->status),
                  *ev.message ? ": " : "", ev.message);
    return agent_emit(agent, &ev);
}

static bool slot_unchanged(const struct res_slot *slot, const clus_res_view *v)
{
    return slot->stored && slot->stored_state == v->persisted_state &&
           slot->stored_flags == v->online_flags && slot->stored_arbitrated == v->arbitrated &&
           memcmp(&slot->stored_props, &v->props, sizeof(v->props)) == 0;
}

static void env_persist(void *arg, clus_res *res, bool removed)
{
    clus_agent *agent = arg;
    struct res_slot *slot = clus_res_env_data(res);
    struct agent_info info;
    clus_res_view v;

    if (removed) {
        clus_store_delete(agent->store, clus_res_name(res));
        slot_timers_stop(agent, slot);
        timers_arm(agent);
        agent->timer_refs -= CLUS_RES_TIMER_COUNT;
        free(slot);
        return;
    }
    clus_res_view_get(res, &v);
    if (slot_unchanged(slot, &v))
        return;
    agent_info_fill(&info, res);
    if (clus_store_put(agent->store, &info.info) == CLUS_OK) {
        slot->stored = true;
        slot->stored_state = v.persisted_state;
        slot->stored_flags = v.online_flags;
        slot->stored_props = v.props;
        slot->stored_arbitrated = v.arbitrated;
    }
    agent_info_release(&info);
}

static const clus_res_env_ops agent_env_ops = {
    .now_ms = env_now_ms,
    .timer_start = env_timer_start,
    .timer_stop = env_timer_stop,
    .run = env_run,
    .emit = env_emit,
    .persist = env_persist,
};

/* ------------------------------------------------------------ hand-off */

void agent_post(clus_agent *agent, const struct agent_post *post)
{
    struct agent_post *copy;

    if (atomic_load(&agent->torn_down))
        return; /* stopping: nobody is left to read it */
    copy = malloc(sizeof(*copy));
    if (copy == NULL) {
        clus_error("out of memory: a report from a resource type was lost");
        return;
    }
    *copy = *post;
    copy->next = NULL;
    pthread_mutex_lock(&agent->post_lock);
    if (agent->post_tail != NULL)
        agent->post_tail->next = copy;
    else
        agent->post_head = copy;
    agent->post_tail = copy;
    pthread_mutex_unlock(&agent->post_lock);
    uv_async_send(&agent->post_wake);
}

static void post_deliver(clus_agent *agent, struct agent_post *post)
{
    clus_res *res;

    res = agent_find_id(agent, post->res_id);
    if (res == NULL)
        return; /* closed meanwhile */
    switch (post->kind) {
    case POST_STATUS:
        clus_res_status_report(res, post->gen, post->state, post->checkpoint, post->status);
        break;
    case POST_FAILURE:
        clus_res_failure_signal(res, post->failure_type, post->status);
        break;
    case POST_LOCKED:
        clus_res_locked_mode(res, post->locked);
        break;
    default:
        break;
    }
}

static void post_on_wake(uv_async_t *handle)
{
    clus_agent *agent = handle->data;
    struct agent_post *list;

    agent_cache_drop(agent);
    pthread_mutex_lock(&agent->post_lock);
    list = agent->post_head;
    agent->post_head = agent->post_tail = NULL;
    pthread_mutex_unlock(&agent->post_lock);
    while (list != NULL) {
        struct agent_post *post = list;
        list = list->next;
        post_deliver(agent, post);
        free(post);
    }
}

/* ------------------------------------------------------------ callbacks */

/* The types' view of the agent. Every one is safe from any thread: the
 * resource pointer is valid from open until close (the ABI's contract), and
 * id and name never change. */
static clus_agent *callback_agent(clus_resource *handle)
{
    struct res_slot *slot = clus_res_env_data(clus_res_from_handle(handle));

    return slot->agent;
}

static void cb_log_event(clus_resource *handle, int level, const char *fmt, ...)
{
    static const enum clus_log_level levels[] = {CLUS_LOG_LEVEL_INFO, CLUS_LOG_LEVEL_WARN,
                                                 CLUS_LOG_LEVEL_ERROR, CLUS_LOG_LEVEL_SEVERE};
    clus_res *res = clus_res_from_handle(handle);
    clus_res_view v;
    char message[500];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    clus_res_view_get(res, &v); /* name and type only: immutable */
    clus_log(levels[level < 0 || level > 3 ? 0 : level], "%s %s: %s", v.type, v.name, message);
}

static void cb_set_reason(clus_resource *handle, const char *fmt, ...)
{
    char text[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    clus_res_set_reason(clus_res_from_handle(handle), text);
}

static uint32_t cb_set_status(clus_resource *handle, int state, uint32_t checkpoint,
                              uint32_t status)
{
    clus_res *res = clus_res_from_handle(handle);
    uint32_t gen = clus_res_accept_gen(res);

    if (gen == 0)
        return CLUS_EXIT_TERMINATE;
    agent_post(callback_agent(handle), &(struct agent_post){.kind = POST_STATUS,
                                                            .res_id = clus_res_id(res),
                                                            .gen = gen,
                                                            .state = state,
                                                            .checkpoint = checkpoint,
                                                            .status = status});
    return CLUS_EXIT_CONTINUE;
}

static uint32_t cb_signal_failure(clus_resource *handle, uint32_t failure_type, uint32_t code)
{
    clus_res *res = clus_res_from_handle(handle);

    agent_post(callback_agent(handle), &(struct agent_post){.kind = POST_FAILURE,
                                                            .res_id = clus_res_id(res),
                                                            .failure_type = failure_type,
                                                            .status = code});
    return CLUS_OK;
}

static void cb_set_locked_mode(clus_resource *handle, bool locked, uint32_t reason)
{
    clus_res *res = clus_res_from_handle(handle);

    agent_post(
        callback_agent(handle),
        &(struct agent_post){.kind = POST_LOCKED, .res_id = clus_res_id(res), .locked = locked});
}

/* ------------------------------------------------------------ table */

clus_res *agent_find(clus_agent *agent, const char *name)
{
    struct agent_entry *e;

    HASH_FIND_STR(agent->by_name, name, e);
    return e != NULL ? e->res : NULL;
}

clus_res *agent_find_id(clus_agent *agent, uint64_t id)
{
    struct agent_entry *e;

    HASH_FIND(hh_id, agent->by_id, &id, sizeof(id), e);
    return e != NULL ? e->res : NULL;
}

static uint32_t state_dir_for(const clus_agent *agent, const char *name, char *out, size_t len)
{
    char parent[PATH_MAX];

    snprintf(parent, sizeof(parent), "%s/res", agent->config.state_dir);
    if (mkdir(parent, 0700) != 0 && errno != EEXIST)
        return clus_status_from_errno(errno);
    if ((size_t)snprintf(out, len, "%s/%s", parent, name) >= len)
        return CLUS_E_INVALID_PARAMETER;
    if (mkdir(out, 0700) != 0 && errno != EEXIST)
        return clus_status_from_errno(errno);
    return CLUS_OK;
}

clus_res *agent_create(clus_agent *agent, const char *name, const clus_type_view *type,
                       const clus_params *params, const clus_res_props *props, char *err,
                       size_t errlen)
{
    char dir[PATH_MAX];
    struct res_slot *slot;
    struct agent_entry *e;
    clus_res *res;
    bool ok;
    uint32_t status = state_dir_for(agent, name, dir, sizeof(dir));

    if (status != CLUS_OK) {
        snprintf(err, errlen, "cannot make the resource's state directory under %s: %s",
                 agent->config.state_dir, clus_status_text(status));
        return NULL;
    }
    slot = calloc(1, sizeof(*slot));
    e = calloc(1, sizeof(*e));
    /* room for its deadlines now, so that arming one never fails */
    ok = slot != NULL && e != NULL &&
         clus_timer_heap_reserve(agent->timers, agent->timer_refs + CLUS_RES_TIMER_COUNT);
    res = ok ? clus_res_new(&agent->env, ++agent->next_id, name, type->name, type->ops,
                            type->loop_native, params, props, dir)
             : NULL;
    if (res == NULL) {
        free(slot);
        free(e);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    slot->agent = agent;
    slot->res = res;
    agent->timer_refs += CLUS_RES_TIMER_COUNT;
    for (int i = 0; i < CLUS_RES_TIMER_COUNT; i++)
        slot->timers[i].tag = (uint32_t)i;
    clus_res_set_env_data(res, slot);
    e->res = res;
    e->id = clus_res_id(res);
    e->name = clus_res_name(res);
    HASH_ADD_KEYPTR(hh, agent->by_name, e->name, strlen(e->name), e);
    HASH_ADD(hh_id, agent->by_id, id, sizeof(e->id), e);
    return res;
}

/* Takes res out of the table; the resource frees itself (clus_res_close). */
void agent_forget(clus_agent *agent, clus_res *res)
{
    struct agent_entry *e;

    HASH_FIND_STR(agent->by_name, clus_res_name(res), e);
    if (e == NULL)
        return;
    HASH_DELETE(hh, agent->by_name, e);
    HASH_DELETE(hh_id, agent->by_id, e);
    free(e);
}

/* ------------------------------------------------------------ lease */

/* The lease for the process guards. A write that fails is logged: the guards
 * then act on the previous expiry, which is earlier - they fence too soon,
 * never too late. */
static void lease_file_write(clus_agent *agent)
{
    if (clus_guard_write_lease(agent->lease_file, agent->lease_bound, agent->lease_expires_ms) != 0)
        clus_error("cannot write the lease file %s: %s", agent->lease_file, strerror(errno));
}

static void lease_expired(uv_timer_t *timer)
{
    agent_cache_drop(timer->data);
    agent_lease_check(timer->data);
}

/* Self-fence if the lease has run out: everything hosted is terminated,
 * except resources onlined with IGNORE_NETWORK_CONNECTIVITY. Called by the
 * timer and before every request, so that a process resumed after SIGSTOP
 * fences before it answers anything. */
void agent_lease_check(clus_agent *agent)
{
    struct agent_entry *e, *tmp;
    unsigned fenced = 0;

    if (!agent->lease_bound || agent->lease_fenced || clus_mono_ms() < agent->lease_expires_ms)
        return;
    agent->lease_fenced = true;
    HASH_ITER(hh, agent->by_name, e, tmp)
    {
        if (clus_res_fence(e->res, "the coordinator's lease ran out (self-fence)"))
            fenced++;
    }
    clus_warn("lease of %s ran out: self-fenced %u resource(s)", agent->lease_holder, fenced);
}

uint32_t agent_lease_renew(clus_agent *agent, const char *holder, uint32_t ttl_ms, uint64_t epoch,
                           char *err, size_t errlen)
{
    agent_lease_check(agent);
    if (ttl_ms == 0) {
        agent->lease_bound = false;
        agent->lease_fenced = false;
        uv_timer_stop(&agent->lease_timer);
        lease_file_write(agent);
        return CLUS_OK;
    }
    if (agent->lease_bound && epoch < agent->lease_epoch) {
        snprintf(err, errlen, "lease epoch %llu is older than the current %llu",
                 (unsigned long long)epoch, (unsigned long long)agent->lease_epoch);
        return CLUS_E_INVALID_STATE;
    }
    snprintf(agent->lease_holder, sizeof(agent->lease_holder), "%s", holder);
    agent->lease_epoch = epoch;
    agent->lease_bound = true;
    agent->lease_fenced = false;
    agent->lease_expires_ms = clus_mono_ms() + ttl_ms;
    uv_timer_start(&agent->lease_timer, lease_expired, ttl_ms, 0);
    lease_file_write(agent);
    return CLUS_OK;
}

bool agent_lease_lost(const clus_agent *agent)
{
    return agent->lease_bound && (agent->lease_fenced || clus_mono_ms() >= agent->lease_expires_ms);
}

/* ------------------------------------------------------------ start */

static const struct {
    const char *name;
    clus_startup_fn startup;
} builtin_types[] = {
    {"dummy", clus_dummy_type_startup},
    {"process", clus_process_type_startup},
    {"volume", clus_volume_type_startup},
    {"ocf", clus_ocf_type_startup},
};

static void reopen_done(void *ctx, clus_res *res, const clus_res_outcome *outcome)
{
    clus_agent *agent = ctx;

    if (outcome->status != CLUS_OK) {
        clus_error(
            "resource %s: re-open after restart failed: %s (%s); it stays listed until closed",
            clus_res_name(res), outcome->message, clus_status_name(outcome->status));
        (void)agent;
    }
}

/* Re-creates one stored resource, left Offline (Open's rule), with what the
 * store remembered: persisted state and the flags of its last Online. */
static void reopen_one(void *arg, const Clus__V1__ResourceInfo *info)
{
    clus_agent *agent = arg;
    clus_param params[CLUS_PARAMS_MAX];
    clus_params list = {params, 0};
    clus_res_props props = {info->pending_timeout_ms, info->looks_alive_ms, info->is_alive_ms,
                            agent->config.call_bound_ms};
    clus_type_view type;
    char err[256];
    clus_res *res;

    if (clus_registry_get(agent->registry, info->type, CLUS_RESTYPE_VERSION_1,
                          CLUS_RESTYPE_VERSION_1, &type, err, sizeof(err)) != CLUS_OK) {
        clus_error("resource %s: not re-opened: %s", info->name, err);
        return;
    }
    for (size_t i = 0; i < info->n_params && i < CLUS_PARAMS_MAX; i++)
        params[list.count++] = (clus_param){info->params[i]->key, info->params[i]->value};
    res = agent_create(agent, info->name, &type, &list, &props, err, sizeof(err));
    if (res == NULL) {
        clus_error("resource %s: not re-opened: %s", info->name, err);
        return;
    }
    clus_res_open(res, CLUS_OPEN_RECOVER_MONITOR_STATE, info->persisted_state, info->online_flags,
                  reopen_done, agent);
}

static uint32_t agent_open_store(clus_agent *agent, char *err, size_t errlen)
{
    char path[PATH_MAX];

    if (mkdir(agent->config.state_dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create the state directory %s: %s", agent->config.state_dir,
                 strerror(errno));
        return clus_status_from_errno(errno);
    }
    snprintf(path, sizeof(path), "%s/agent.db", agent->config.state_dir);
    snprintf(agent->lease_file, sizeof(agent->lease_file), "%s/lease", agent->config.state_dir);
    return clus_store_open(path, &agent->store, err, errlen);
}

static uint32_t agent_init_types(clus_agent *agent)
{
    agent->callbacks = (clus_monitor_callbacks){
        .size = sizeof(clus_monitor_callbacks),
        .log_event = cb_log_event,
        .set_status = cb_set_status,
        .signal_failure = cb_signal_failure,
        .set_locked_mode = cb_set_locked_mode,
        .loop = agent->loop,
        .set_reason = cb_set_reason,
    };
    /* A lease file left by an agent that died stays as it is: its guards
     * must still fence at its expiry. The first renewal replaces it. */
    clus_process_type_configure(agent->config.guard_exe, agent->lease_file);
    agent->registry = clus_registry_new(&agent->callbacks);
    if (agent->registry == NULL)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    for (size_t i = 0; i < sizeof(builtin_types) / sizeof(builtin_types[0]); i++)
        clus_registry_add(agent->registry, builtin_types[i].name, "builtin",
                          builtin_types[i].startup, NULL);
    if (agent->config.plugin_dir != NULL)
        clus_registry_load_dir(agent->registry, agent->config.plugin_dir);
    return CLUS_OK;
}

static void agent_defaults(clus_agent_config *config)
{
    if (config->listen_url == NULL)
        config->listen_url = CLUS_AGENT_DEFAULT_URL;
    if (config->call_bound_ms == 0)
        config->call_bound_ms = 250;
    if (config->event_history == 0)
        config->event_history = 8192;
}

static uint64_t make_boot_id(void)
{
    uint64_t id = 0;

    if (getrandom(&id, sizeof(id), 0) != sizeof(id))
        id = clus_wall_ms() ^ ((uint64_t)getpid() << 32);
    return id ? id : 1;
}

static uint32_t agent_listen(clus_agent *agent, char *err, size_t errlen)
{
    clus_rpc_server_config rpc = {
        .url = agent->config.listen_url,
        .contexts = agent->config.contexts,
        .slow = agent_dispatch,
        .fast = agent_fast,
        .arg = agent,
        .allow_insecure = agent->config.insecure,
    };

    return clus_rpc_server_start(agent->loop, &rpc, &agent->server, err, errlen);
}

uint32_t clus_agent_start(uv_loop_t *loop, const clus_agent_config *config, clus_agent **out,
                          char *err, size_t errlen)
{
    clus_agent *agent = calloc(1, sizeof(*agent));
    uint32_t status;

    if (agent == NULL)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    agent->loop = loop;
    agent->config = *config;
    agent_defaults(&agent->config);
    agent->started_ms = clus_mono_ms();
    agent->env = (clus_res_env){&agent_env_ops, agent, &agent->callbacks};
    agent->events = clus_events_new(agent->config.event_history, make_boot_id());
    pthread_mutex_init(&agent->post_lock, NULL);
    agent_cache_init(agent);
    uv_async_init(loop, &agent->post_wake, post_on_wake);
    agent->post_wake.data = agent;
    uv_timer_init(loop, &agent->lease_timer);
    agent->lease_timer.data = agent;
    agent->timers = clus_timer_heap_new();
    agent->timers_due = UINT64_MAX;
    uv_timer_init(loop, &agent->timers_wake);
    agent->timers_wake.data = agent;
    uv_idle_init(loop, &agent->finished_idle);
    agent->finished_idle.data = agent;
    status = agent->events && agent->timers ? agent_open_store(agent, err, errlen)
                                            : CLUS_E_NOT_ENOUGH_MEMORY;
    if (status == CLUS_OK)
        status = agent_init_types(agent);
    if (status == CLUS_OK)
        status = agent_listen(agent, err, errlen);
    if (status != CLUS_OK) {
        clus_agent_stop(agent);
        uv_run(loop, UV_RUN_DEFAULT); /* let the handles close */
        clus_agent_free(agent);
        return status;
    }
    clus_store_each(agent->store, reopen_one, agent);
    clus_info("listening on %s, state in %s, %u resource(s) re-opened", agent->config.listen_url,
              agent->config.state_dir, HASH_CNT(hh, agent->by_name));
    *out = agent;
    return CLUS_OK;
}

static void agent_handle_closed(uv_handle_t *handle)
{
    clus_agent *agent = handle->data;

    agent->open_handles--;
}

/* Phase 2 of stop: nothing runs on a worker any more. Answer what is
 * parked, deliver what the types reported, stop serving, close handles. */
static void agent_teardown(clus_agent *agent)
{
    while ((agent->post_head != NULL || agent->finished_count > 0) && agent->jobs_in_flight == 0) {
        post_on_wake(&agent->post_wake);
        finished_drain(&agent->finished_idle);
    }
    if (agent->jobs_in_flight > 0)
        return; /* a finished job started another: wait for it too */
    atomic_store(&agent->torn_down, true);
    agent_watchers_drop(agent);
    if (agent->server != NULL)
        clus_rpc_server_stop(agent->server);
    agent->server = NULL;
    agent->open_handles = 4;
    uv_close((uv_handle_t *)&agent->timers_wake, agent_handle_closed);
    uv_close((uv_handle_t *)&agent->finished_idle, agent_handle_closed);
    uv_close((uv_handle_t *)&agent->post_wake, agent_handle_closed);
    uv_close((uv_handle_t *)&agent->lease_timer, agent_handle_closed);
}

void agent_maybe_teardown(clus_agent *agent)
{
    if (agent->stopping && !atomic_load(&agent->torn_down) && agent->jobs_in_flight == 0)
        agent_teardown(agent);
}

void clus_agent_stop(clus_agent *agent)
{
    if (agent->stopping)
        return;
    agent->stopping = true;
    agent_cache_drop(agent); /* the loop answers "stopping" from now on */
    clus_info("stopping: resources are left as they are");
    uv_timer_stop(&agent->lease_timer);
    uv_timer_stop(&agent->timers_wake); /* no deadline fires from now on */
    agent->timers_due = UINT64_MAX;
    agent_maybe_teardown(agent);
}

void clus_agent_free(clus_agent *agent)
{
    struct agent_entry *e, *tmp;
    struct agent_post *post;

    if (agent == NULL)
        return;
    HASH_ITER(hh, agent->by_name, e, tmp)
    {
        struct res_slot *slot = clus_res_env_data(e->res);
        HASH_DELETE(hh, agent->by_name, e);
        HASH_DELETE(hh_id, agent->by_id, e);
        clus_res_destroy(e->res);
        free(slot);
        free(e);
    }
    while ((post = agent->post_head) != NULL) {
        agent->post_head = post->next;
        free(post);
    }
    clus_timer_heap_free(agent->timers);
    clus_store_close(agent->store);
    clus_events_free(agent->events);
    clus_registry_free(agent->registry);
    pthread_mutex_destroy(&agent->post_lock);
    agent_cache_free(agent); /* the server is gone: no reader is left */
    free(agent->finished);
    free(agent);
}
