/*
 * resource.c - the per-resource state machine. See resource.h for the rules.
 *
 * Vocabulary: a *job* is one call into the type; jobs of a resource run one
 * at a time from res->queue, except terminate and cancel, which overtake
 * (res->overtaking counts them; nothing new starts while one runs). An
 * *operation* is a pending Online or Offline (res->op); it ends with
 * op_complete() or, on failure, with fail_now(). res->gen numbers
 * operations: a job or status report carrying an older gen was overtaken by
 * a terminate and is ignored.
 */
#include "resource.h"

#include "clus/v1/clus.pb-c.h"
#include "log.h"
#include "names.h"
#include "params.h"
#include "status.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OP_NONE             (-1)
#define CONTROL_OUT_DEFAULT (64u * 1024u)
#define CONTROL_OUT_MAX     (4u * 1024u * 1024u)

struct clus_res_job {
    enum clus_res_job_kind kind;
    clus_res *res;
    uint32_t gen;
    clus_res_done_fn done; /* NULL for the agent's own polls and the op's job */
    void *ctx;
    uint32_t flags;
    char *destination;
    void *in;
    size_t in_len;
    clus_control ctl; /* CONTROL: request (own copies) and output */
    clus_param *ctl_props;
    clus_params ctl_props_view;
    char *ctl_user;
    size_t ctl_returned;
    clus_param_list out_props; /* CONTROL: what the type added */
    char *reason;              /* the type's sentence for status (set_reason) */
    uint32_t status;           /* result */
    bool alive;
    bool event_handle;
    clus_res_job *next;
};

struct clus_res {
    uint64_t id;
    char *name;
    char *type_name;
    const clus_restype_ops *ops;
    bool loop_native;
    clus_res_env env;
    clus_resid resid;
    bool opened;
    bool open_failed;
    clus_param *params;
    clus_params param_view;
    clus_res_props props;
    char *state_dir;

    int state;
    uint32_t checkpoint;
    uint32_t last_status;
    char *last_message; /* owned; NULL: none (most resources, most of the time) */
    uint32_t online_flags;
    uint32_t offline_flags;
    int persisted_state;
    bool event_handle;
    bool locked;
    bool arbitrated;
    int looks_alive, is_alive;
    uint64_t health_at_ms;
    uint64_t seq;

    uint32_t gen;
    _Atomic uint32_t accept_gen;
    int op;                   /* CLUS_JOB_ONLINE / CLUS_JOB_OFFLINE / OP_NONE */
    clus_res_done_fn op_done; /* the caller of the operation, until answered */
    void *op_ctx;
    clus_res_job *deferred; /* an Offline with QUEUE_ENABLED, waiting for op */

    clus_res_job *running;
    unsigned overtaking;
    clus_res_job *queue_head, *queue_tail;
    bool closing;
    void *env_data;
};

static void res_pump(clus_res *res);
static void fail_now(clus_res *res, uint32_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------ basics */

uint32_t clus_res_props_take(const clus_params *params, clus_res_props *props,
                             clus_param *type_params, size_t *type_count, char *err, size_t errlen)
{
    static const char *const keys[] = {"pending_timeout_ms", "looks_alive_ms", "is_alive_ms"};
    uint32_t *slots[] = {&props->pending_timeout_ms, &props->looks_alive_ms, &props->is_alive_ms};
    size_t n = 0;

    for (size_t i = 0; i < params->count; i++) {
        const clus_param *p = &params->items[i];
        size_t k = 0;
        while (k < 3 && strcmp(p->key, keys[k]) != 0)
            k++;
        if (k == 3) {
            type_params[n++] = *p;
            continue;
        }
        if (!clus_parse_u32(p->value, UINT32_MAX, slots[k]) ||
            *slots[k] < CLUS_RES_MIN_INTERVAL_MS) {
            snprintf(err, errlen, "%s must be a number of milliseconds >= %u, not '%.40s'", keys[k],
                     CLUS_RES_MIN_INTERVAL_MS, p->value);
            return CLUS_E_INVALID_PARAMETER;
        }
    }
    *type_count = n;
    return CLUS_OK;
}

static uint64_t now_ms(const clus_res *res)
{
    return res->env.ops->now_ms(res->env.arg);
}

static void timer_start(clus_res *res, enum clus_res_timer timer, uint64_t ms)
{
    res->env.ops->timer_start(res->env.arg, res, timer, ms);
}

static void timer_stop(clus_res *res, enum clus_res_timer timer)
{
    res->env.ops->timer_stop(res->env.arg, res, timer);
}

static void persist(clus_res *res)
{
    res->env.ops->persist(res->env.arg, res, false);
}

static void emit(clus_res *res, int kind, int old_state, uint32_t status, const char *message)
{
    clus_res_event ev = {
        .kind = kind,
        .old_state = old_state,
        .new_state = res->state,
        .status = status,
        .checkpoint = res->checkpoint,
        .flags = res->op == CLUS_JOB_OFFLINE ? res->offline_flags : res->online_flags,
        .message = message,
    };

    res->seq = res->env.ops->emit(res->env.arg, res, &ev);
}

/* The last result's sentence, kept to 255 bytes. Copied
 * before the old one is freed: message may be the old one. */
static void set_last(clus_res *res, uint32_t status, const char *message)
{
    size_t len = message != NULL ? strnlen(message, 255) : 0;
    char *copy = len > 0 ? strndup(message, len) : NULL;

    res->last_status = status;
    free(res->last_message);
    res->last_message = copy;
}

static void health_timers(clus_res *res, bool on)
{
    if (!on) {
        timer_stop(res, CLUS_RES_TIMER_LOOKS_ALIVE);
        timer_stop(res, CLUS_RES_TIMER_IS_ALIVE);
        return;
    }
    res->looks_alive = res->is_alive = -1;
    if (!res->event_handle)
        timer_start(res, CLUS_RES_TIMER_LOOKS_ALIVE, res->props.looks_alive_ms);
    timer_start(res, CLUS_RES_TIMER_IS_ALIVE, res->props.is_alive_ms);
}

/* Every state change goes through here: event, persistence, health timers. */
static void set_state(clus_res *res, int state, uint32_t status, const char *message)
{
    int old = res->state;

    if (old == CLUS_STATE_ONLINE && state != CLUS_STATE_ONLINE)
        health_timers(res, false);
    res->state = state;
    set_last(res, status, message);
    if (state == CLUS_STATE_ONLINE && old != CLUS_STATE_ONLINE)
        health_timers(res, true);
    emit(res, CLUS__V1__EVENT_KIND__EVENT_STATE, old, status, message);
    persist(res);
}

static void answer(clus_res_done_fn done, void *ctx, clus_res *res, uint32_t status,
                   const char *message)
{
    clus_res_outcome outcome = {.status = status, .message = message};

    if (done != NULL)
        done(ctx, res, &outcome);
}

static bool is_pending(int state)
{
    return state == CLUS_STATE_ONLINE_PENDING || state == CLUS_STATE_OFFLINE_PENDING;
}

/* ------------------------------------------------------------ jobs */

static clus_res_job *job_new(clus_res *res, enum clus_res_job_kind kind, clus_res_done_fn done,
                             void *ctx)
{
    clus_res_job *job = calloc(1, sizeof(*job));

    if (job == NULL) {
        answer(done, ctx, res, CLUS_E_NOT_ENOUGH_MEMORY, "out of memory");
        return NULL;
    }
    job->kind = kind;
    job->res = res;
    job->done = done;
    job->ctx = ctx;
    job->gen = res->gen;
    return job;
}

static void job_free(clus_res_job *job)
{
    free(job->destination);
    free(job->in);
    free(job->ctl.out);
    for (size_t i = 0; i < job->ctl_props_view.count; i++) {
        free((char *)job->ctl_props[i].key);
        free((char *)job->ctl_props[i].value);
    }
    free(job->ctl_props);
    free(job->ctl_user);
    clus_param_list_free(&job->out_props);
    free(job->reason);
    free(job);
}

static void res_submit(clus_res *res, clus_res_job *job, bool urgent)
{
    if (job == NULL)
        return;
    if (res->closing && job->kind != CLUS_JOB_CLOSE) {
        answer(job->done, job->ctx, res, CLUS_E_RESOURCE_NOT_FOUND, "the resource is being closed");
        job_free(job);
        return;
    }
    if (res->open_failed && job->kind != CLUS_JOB_CLOSE) {
        answer(job->done, job->ctx, res, CLUS_E_INVALID_STATE,
               "the resource's Open failed: fix the cause, close it and open it again");
        job_free(job);
        return;
    }
    if (urgent) {
        job->next = res->queue_head;
        res->queue_head = job;
        if (res->queue_tail == NULL)
            res->queue_tail = job;
    } else {
        job->next = NULL;
        if (res->queue_tail != NULL)
            res->queue_tail->next = job;
        else
            res->queue_head = job;
        res->queue_tail = job;
    }
    res_pump(res);
}

static void control_add_property(clus_control *ctl, const char *key, const char *value)
{
    clus_res_job *job = ctl->sink;

    clus_param_list_add(&job->out_props, key, value);
}

static void job_execute_online(clus_res_job *job)
{
    clus_online_args args = {.flags = job->flags, .in_buffer = job->in, .in_size = job->in_len};

    job->status = job->res->ops->online(job->res->resid, &args);
    job->event_handle = args.event_handle;
}

static void job_execute_open(clus_res_job *job)
{
    clus_res *res = job->res;
    clus_open_args args = {
        .name = res->name,
        .type = res->type_name,
        .params = &res->param_view,
        .state_dir = res->state_dir,
        .open_flags = job->flags,
        .handle = clus_res_handle(res),
    };

    job->status = res->ops->open(&args, &res->resid);
}

/* The job this thread is running, for set_reason. */
static _Thread_local clus_res_job *current_job;

void clus_res_set_reason(clus_res *res, const char *text)
{
    clus_res_job *job = current_job;

    if (job == NULL || job->res != res)
        return;
    free(job->reason);
    job->reason = strdup(text);
}

static void job_call_type(clus_res_job *job);

/* Runs the type's entry point. May be on a worker thread: touches only the
 * job and the resource's immutable parts (ops, resid, params). */
void clus_res_job_execute(clus_res_job *job)
{
    clus_res_job *outer = current_job;

    current_job = job;
    job_call_type(job);
    current_job = outer;
}

static void job_call_type(clus_res_job *job)
{
    clus_res *res = job->res;
    const clus_restype_ops *ops = res->ops;
    clus_offline_args off = {job->flags, job->destination, job->in, job->in_len};

    switch (job->kind) {
    case CLUS_JOB_OPEN:
        job_execute_open(job);
        break;
    case CLUS_JOB_CLOSE: /* the Close entry point: the resource goes for good */
        if (res->opened && CLUS_RESTYPE_HAS(ops, retire))
            ops->retire(res->resid);
        if (res->opened)
            ops->close(res->resid);
        break;
    case CLUS_JOB_ONLINE:
        job_execute_online(job);
        break;
    case CLUS_JOB_OFFLINE:
        job->status = ops->offline(res->resid, &off);
        break;
    case CLUS_JOB_TERMINATE:
        ops->terminate(res->resid);
        break;
    case CLUS_JOB_LOOKS_ALIVE:
        job->alive = ops->looks_alive(res->resid);
        break;
    case CLUS_JOB_IS_ALIVE:
        job->alive = ops->is_alive(res->resid);
        break;
    case CLUS_JOB_ARBITRATE:
        job->status = ops->arbitrate ? ops->arbitrate(res->resid, NULL) : CLUS_E_INVALID_FUNCTION;
        break;
    case CLUS_JOB_RELEASE:
        job->status = ops->release ? ops->release(res->resid) : CLUS_E_INVALID_FUNCTION;
        break;
    case CLUS_JOB_CONTROL:
        job->status = ops->resource_control ? ops->resource_control(res->resid, &job->ctl)
                                            : CLUS_E_INVALID_FUNCTION;
        break;
    case CLUS_JOB_CANCEL:
        job->status = ops->cancel ? ops->cancel(res->resid, job->flags) : CLUS_E_INVALID_FUNCTION;
        break;
    }
}

clus_res *clus_res_job_resource(const clus_res_job *job)
{
    return job->res;
}

bool clus_res_has_queued(const clus_res *res)
{
    return res->queue_head != NULL;
}

enum clus_res_job_kind clus_res_job_kind_of(const clus_res_job *job)
{
    return job->kind;
}

static bool job_overtakes(const clus_res_job *job)
{
    return job->kind == CLUS_JOB_TERMINATE || job->kind == CLUS_JOB_CANCEL;
}

static void job_run(clus_res *res, clus_res_job *job)
{
    if (job_overtakes(job))
        res->overtaking++;
    else
        res->running = job;
    res->env.ops->run(res->env.arg, job, res->loop_native);
}

/* ------------------------------------------------------------ operations */

/* Answers the caller of the pending operation, if still waiting. */
static void op_answer(clus_res *res, uint32_t status, const char *message)
{
    clus_res_done_fn done = res->op_done;

    timer_stop(res, CLUS_RES_TIMER_BOUND);
    res->op_done = NULL;
    answer(done, res->op_ctx, res, status, message);
}

static void op_end(clus_res *res)
{
    timer_stop(res, CLUS_RES_TIMER_PENDING);
    atomic_store(&res->accept_gen, 0);
    res->op = OP_NONE;
    if (res->deferred != NULL) {
        clus_res_job *deferred = res->deferred;
        res->deferred = NULL;
        res_submit(res, deferred, false);
    }
}

static void op_complete(clus_res *res, int final_state, uint32_t status, const char *message)
{
    uint32_t offline_flags = res->offline_flags;

    res->checkpoint = 0;
    if (final_state == CLUS_STATE_ONLINE)
        res->persisted_state = CLUS_STATE_ONLINE;
    else if (!(offline_flags & CLUS_OFFLINE_DO_NOT_UPDATE_PERSISTENT_STATE))
        res->persisted_state = CLUS_STATE_OFFLINE;
    set_state(res, final_state, status, message);
    op_answer(res, status, message);
    op_end(res);
}

/* Ends whatever runs and leaves the resource in final_state: Terminate on
 * the type (overtaking a running job), state set now, jobs wait for it. */
static void terminate_now(clus_res *res, int final_state, uint32_t status, const char *message,
                          clus_res_done_fn done, void *ctx)
{
    clus_res_done_fn op_done = res->op_done;
    void *op_ctx = res->op_ctx;
    clus_res_job *job;

    res->gen++;
    res->op_done = NULL;
    timer_stop(res, CLUS_RES_TIMER_BOUND);
    res->checkpoint = 0;
    /* State first, so that every answer below already shows it. */
    if (res->state != final_state || status != CLUS_OK)
        set_state(res, final_state, status, message);
    answer(op_done, op_ctx, res, status == CLUS_OK ? CLUS_E_OPERATION_ABORTED : status, message);
    job = job_new(res, CLUS_JOB_TERMINATE, done, ctx);
    if (job != NULL)
        job_run(res, job);
    op_end(res); /* a queued Offline waits for the terminate */
}

static void fail_now(clus_res *res, uint32_t status, const char *fmt, ...)
{
    char message[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    clus_warn("resource %s: %s (%s); terminating", res->name, message, clus_status_name(status));
    emit(res, CLUS__V1__EVENT_KIND__EVENT_FAILURE, res->state, status, message);
    terminate_now(res, CLUS_STATE_FAILED, status, message, NULL, NULL);
}

/* Starts a pending operation (the resource becomes OnlinePending or
 * OfflinePending) and hands the type call to the env. */
static void op_begin(clus_res *res, clus_res_job *job, int pending_state)
{
    res->gen++;
    job->gen = res->gen;
    atomic_store(&res->accept_gen, res->gen);
    res->op = job->kind;
    res->op_done = job->done;
    res->op_ctx = job->ctx;
    job->done = NULL;
    res->checkpoint = 0;
    set_state(res, pending_state, CLUS_E_IO_PENDING,
              pending_state == CLUS_STATE_ONLINE_PENDING ? "online pending" : "offline pending");
    timer_start(res, CLUS_RES_TIMER_PENDING, res->props.pending_timeout_ms);
    timer_start(res, CLUS_RES_TIMER_BOUND, res->props.call_bound_ms);
    job_run(res, job);
}

static bool online_begin(clus_res *res, clus_res_job *job)
{
    if (res->state == CLUS_STATE_ONLINE) {
        answer(job->done, job->ctx, res, CLUS_OK, "already online");
        return false;
    }
    if (job->flags & CLUS_ONLINE_RESTORE_ONLINE_STATE) {
        if (res->persisted_state != CLUS_STATE_ONLINE) {
            answer(job->done, job->ctx, res, CLUS_OK,
                   "the persisted state is Offline: nothing to restore");
            return false;
        }
        job->flags |= CLUS_ONLINE_RECOVER_MONITOR_STATE; /* adopt what still runs */
    }
    res->online_flags = job->flags;
    res->offline_flags = 0;
    res->event_handle = false;
    op_begin(res, job, CLUS_STATE_ONLINE_PENDING);
    return true;
}

static bool offline_begin(clus_res *res, clus_res_job *job)
{
    int old_persisted = res->persisted_state;

    if (res->state == CLUS_STATE_OFFLINE || res->state == CLUS_STATE_FAILED) {
        /* Nothing runs (a failed resource was terminated): record it. */
        res->offline_flags = job->flags;
        if (!(job->flags & CLUS_OFFLINE_DO_NOT_UPDATE_PERSISTENT_STATE))
            res->persisted_state = CLUS_STATE_OFFLINE;
        if (res->state == CLUS_STATE_FAILED)
            set_state(res, CLUS_STATE_OFFLINE, CLUS_OK, "offline");
        else if (old_persisted != res->persisted_state)
            persist(res);
        answer(job->done, job->ctx, res, CLUS_OK, "offline");
        return false;
    }
    res->offline_flags = job->flags;
    op_begin(res, job, CLUS_STATE_OFFLINE_PENDING);
    return true;
}

static void op_job_finished(clus_res *res, clus_res_job *job)
{
    bool online = job->kind == CLUS_JOB_ONLINE;
    char message[320];

    if (job->gen != res->gen || res->op != (int)job->kind)
        return; /* terminated meanwhile, or the type already reported the end */
    if (online)
        res->event_handle = job->event_handle;
    if (job->status == CLUS_OK) {
        op_complete(res, online ? CLUS_STATE_ONLINE : CLUS_STATE_OFFLINE, CLUS_OK,
                    online ? "online" : "offline");
    } else if (job->status == CLUS_E_IO_PENDING) {
        op_answer(res, CLUS_E_IO_PENDING, online ? "online pending" : "offline pending");
    } else {
        snprintf(message, sizeof(message), "%s failed: %s", online ? "Online" : "Offline",
                 job->reason ? job->reason : clus_status_text(job->status));
        fail_now(res, job->status, "%s", message);
    }
}

/* ------------------------------------------------------------ health */

static void health_finished(clus_res *res, clus_res_job *job)
{
    if (job->kind == CLUS_JOB_LOOKS_ALIVE) {
        res->looks_alive = job->alive;
        if (!job->alive && res->state == CLUS_STATE_ONLINE)
            res_submit(res, job_new(res, CLUS_JOB_IS_ALIVE, NULL, NULL), true);
        return;
    }
    res->is_alive = job->alive;
    res->health_at_ms = now_ms(res);
    if (!job->alive && res->state == CLUS_STATE_ONLINE)
        fail_now(res, CLUS_E_RESOURCE_FAILED, "IsAlive reported the resource failed");
}

static void health_request(clus_res *res, enum clus_res_job_kind kind, clus_res_done_fn done,
                           void *ctx)
{
    if (res->state != CLUS_STATE_ONLINE) {
        clus_res_outcome outcome = {.status = CLUS_E_RESOURCE_NOT_ONLINE,
                                    .message = clus_state_name(res->state)};
        done(ctx, res, &outcome);
        return;
    }
    res_submit(res, job_new(res, kind, done, ctx), false);
}

void clus_res_looks_alive(clus_res *res, clus_res_done_fn done, void *ctx)
{
    health_request(res, CLUS_JOB_LOOKS_ALIVE, done, ctx);
}

void clus_res_is_alive(clus_res *res, clus_res_done_fn done, void *ctx)
{
    health_request(res, CLUS_JOB_IS_ALIVE, done, ctx);
}

/* A poll is skipped (not queued) while other work runs: the next tick comes. */
static void health_poll(clus_res *res, enum clus_res_job_kind kind, enum clus_res_timer timer)
{
    uint32_t every =
        kind == CLUS_JOB_LOOKS_ALIVE ? res->props.looks_alive_ms : res->props.is_alive_ms;

    if (res->state != CLUS_STATE_ONLINE)
        return;
    timer_start(res, timer, every);
    if (!clus_res_busy(res))
        res_submit(res, job_new(res, kind, NULL, NULL), false);
}

/* ------------------------------------------------------------ control */

static void control_default_common(clus_res *res, clus_res_job *job)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%u", res->props.pending_timeout_ms);
    control_add_property(&job->ctl, "pending_timeout_ms", buf);
    snprintf(buf, sizeof(buf), "%u", res->props.looks_alive_ms);
    control_add_property(&job->ctl, "looks_alive_ms", buf);
    snprintf(buf, sizeof(buf), "%u", res->props.is_alive_ms);
    control_add_property(&job->ctl, "is_alive_ms", buf);
}

static uint32_t control_set_common(clus_res *res, const clus_params *props, bool apply)
{
    clus_param rest[CLUS_PARAMS_MAX];
    size_t rest_count = 0;
    clus_res_props next = res->props;
    char err[160];

    if (props == NULL || props->count > CLUS_PARAMS_MAX ||
        clus_res_props_take(props, &next, rest, &rest_count, err, sizeof(err)) != CLUS_OK ||
        rest_count != 0)
        return CLUS_E_INVALID_PARAMETER;
    if (apply) {
        res->props = next;
        persist(res);
    }
    return CLUS_OK;
}

/* The Resource Monitor's default processing for codes the type left to it
 * (it returned 1 or has no resource_control). */
static uint32_t control_default(clus_res *res, clus_res_job *job)
{
    switch (job->ctl.code) {
    case CLUSCTL_RESOURCE_UNKNOWN:
        return CLUS_OK;
    case CLUSCTL_RESOURCE_GET_NAME:
        control_add_property(&job->ctl, "name", res->name);
        return CLUS_OK;
    case CLUSCTL_RESOURCE_GET_RESOURCE_TYPE:
        control_add_property(&job->ctl, "type", res->type_name);
        return CLUS_OK;
    case CLUSCTL_RESOURCE_GET_CHARACTERISTICS:
        control_add_property(&job->ctl, "characteristics", res->ops->arbitrate != NULL ? "1" : "0");
        return CLUS_OK;
    case CLUSCTL_RESOURCE_GET_FLAGS:
        control_add_property(&job->ctl, "flags", "0");
        return CLUS_OK;
    case CLUSCTL_RESOURCE_ENUM_COMMON_PROPERTIES:
    case CLUSCTL_RESOURCE_GET_COMMON_PROPERTIES:
    case CLUSCTL_RESOURCE_GET_RO_COMMON_PROPERTIES:
        control_default_common(res, job);
        return CLUS_OK;
    case CLUSCTL_RESOURCE_SET_COMMON_PROPERTIES:
        return control_set_common(res, job->ctl.properties, true);
    case CLUSCTL_RESOURCE_VALIDATE_COMMON_PROPERTIES:
        return control_set_common(res, job->ctl.properties, false);
    case CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES:
    case CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES:
        for (size_t i = 0; i < res->param_view.count; i++)
            control_add_property(&job->ctl, res->params[i].key, res->params[i].value);
        return CLUS_OK;
    default:
        return CLUS_E_INVALID_FUNCTION;
    }
}

static void control_finished(clus_res *res, clus_res_job *job)
{
    clus_params props;
    clus_res_outcome outcome = {0};

    if (job->status == CLUS_E_INVALID_FUNCTION)
        job->status = control_default(res, job);
    props.items = job->out_props.items;
    props.count = job->out_props.count;
    outcome.status = job->status;
    outcome.message = job->reason                              ? job->reason
                      : job->status == CLUS_E_INVALID_FUNCTION ? "control code not handled"
                                                               : "";
    outcome.props = &props;
    outcome.out = job->ctl.out;
    outcome.out_len = job->ctl_returned;
    if (job->done != NULL)
        job->done(job->ctx, res, &outcome);
    job->done = NULL;
}

/* The job keeps its own copy of the request: it may run after the caller's
 * buffers are gone (Begin* calls are answered before they run). */
static bool control_copy(clus_res_job *job, const clus_control *request)
{
    const clus_params *props = request->properties;
    size_t n = props != NULL ? props->count : 0;

    job->ctl_props = calloc(n + 1, sizeof(*job->ctl_props));
    if (job->ctl_props == NULL)
        return false;
    for (size_t i = 0; i < n; i++) {
        job->ctl_props[i].key = strdup(props->items[i].key);
        job->ctl_props[i].value = strdup(props->items[i].value);
        job->ctl_props_view.count++;
        if (job->ctl_props[i].key == NULL || job->ctl_props[i].value == NULL)
            return false;
    }
    job->ctl_props_view.items = job->ctl_props;
    job->ctl.properties = &job->ctl_props_view;
    if (request->user != NULL && (job->ctl_user = strdup(request->user)) == NULL)
        return false;
    job->ctl.user = job->ctl_user;
    if (request->in_size > 0) {
        if ((job->in = malloc(request->in_size)) == NULL)
            return false;
        memcpy(job->in, request->in_buffer, request->in_size);
        job->in_len = request->in_size;
    }
    job->ctl.in_buffer = job->in;
    return true;
}

void clus_res_control(clus_res *res, const clus_control *request, clus_res_done_fn done, void *ctx)
{
    clus_res_job *job = job_new(res, CLUS_JOB_CONTROL, done, ctx);
    size_t size;

    if (job == NULL)
        return;
    size = request->out_size ? request->out_size : CONTROL_OUT_DEFAULT;
    job->ctl = *request;
    job->ctl.out_size = size > CONTROL_OUT_MAX ? CONTROL_OUT_MAX : size;
    job->ctl.out = calloc(1, job->ctl.out_size);
    job->ctl.bytes_returned = &job->ctl_returned;
    job->ctl.add_property = control_add_property;
    job->ctl.sink = job;
    if (job->ctl.out == NULL || !control_copy(job, request)) {
        job_free(job);
        answer(done, ctx, res, CLUS_E_NOT_ENOUGH_MEMORY, "out of memory");
        return;
    }
    res_submit(res, job, false);
}

/* ------------------------------------------------------------ finish */

static void terminate_finished(clus_res *res, clus_res_job *job)
{
    res->overtaking--;
    answer(job->done, job->ctx, res, CLUS_OK, "terminated");
    job->done = NULL;
}

static void open_finished(clus_res *res, clus_res_job *job)
{
    if (job->status == CLUS_OK) {
        res->opened = true;
        set_state(res, CLUS_STATE_OFFLINE, CLUS_OK, "opened");
    } else {
        res->open_failed = true;
        set_last(res, job->status, "Open failed");
    }
    answer(job->done, job->ctx, res, job->status,
           job->status == CLUS_OK ? "opened"
           : job->reason          ? job->reason
                                  : "the type refused to open the resource");
    job->done = NULL;
}

static void simple_finished(clus_res *res, clus_res_job *job)
{
    if (job->kind == CLUS_JOB_ARBITRATE && job->status == CLUS_OK)
        res->arbitrated = true;
    if (job->kind == CLUS_JOB_RELEASE && job->status == CLUS_OK)
        res->arbitrated = false;
    if (job->kind == CLUS_JOB_ARBITRATE || job->kind == CLUS_JOB_RELEASE)
        persist(res);
}

static void res_free(clus_res *res)
{
    for (size_t i = 0; i < res->param_view.count; i++) {
        free((char *)res->params[i].key);
        free((char *)res->params[i].value);
    }
    free(res->params);
    free(res->last_message);
    free(res->name);
    free(res->type_name);
    free(res->state_dir);
    free(res);
}

static void close_finished(clus_res *res, clus_res_job *job)
{
    clus_res_done_fn done = job->done;
    void *ctx = job->ctx;
    int old = res->state;

    res->state = CLUS_STATE_UNKNOWN;
    if (res->opened)
        emit(res, CLUS__V1__EVENT_KIND__EVENT_CLOSED, old, CLUS_OK, "closed");
    res->env.ops->persist(res->env.arg, res, true);
    job->done = NULL;
    job_free(job);
    answer(done, ctx, res, CLUS_OK, "closed");
    res_free(res);
}

void clus_res_job_finish(clus_res_job *job)
{
    clus_res *res = job->res;

    if (job_overtakes(job)) {
        if (job->kind == CLUS_JOB_TERMINATE)
            terminate_finished(res, job);
        else {
            res->overtaking--;
            terminate_now(res, CLUS_STATE_OFFLINE, CLUS_E_OPERATION_ABORTED, "cancelled", NULL,
                          NULL);
        }
    } else {
        res->running = NULL;
        switch (job->kind) {
        case CLUS_JOB_CLOSE:
            close_finished(res, job);
            return; /* res is gone */
        case CLUS_JOB_OPEN:
            open_finished(res, job);
            break;
        case CLUS_JOB_ONLINE:
        case CLUS_JOB_OFFLINE:
            op_job_finished(res, job);
            break;
        case CLUS_JOB_LOOKS_ALIVE:
        case CLUS_JOB_IS_ALIVE:
            if (job->gen == res->gen)
                health_finished(res, job);
            break;
        case CLUS_JOB_CONTROL:
            control_finished(res, job);
            break;
        default:
            simple_finished(res, job);
            break;
        }
    }
    if (job->done != NULL) {
        clus_res_outcome outcome = {
            .status = job->status, .alive = job->alive, .message = job->reason ? job->reason : ""};
        job->done(job->ctx, res, &outcome);
    }
    job_free(job);
    res_pump(res);
}

/* Starts queued jobs while nothing else runs. Online/Offline become
 * operations; the rest are plain calls. */
static void res_pump(clus_res *res)
{
    while (res->running == NULL && res->overtaking == 0 && res->queue_head != NULL) {
        clus_res_job *job = res->queue_head;
        res->queue_head = job->next;
        if (res->queue_head == NULL)
            res->queue_tail = NULL;
        job->gen = res->gen;
        if (job->kind == CLUS_JOB_ONLINE) {
            if (!online_begin(res, job))
                job_free(job);
        } else if (job->kind == CLUS_JOB_OFFLINE) {
            if (!offline_begin(res, job))
                job_free(job);
        } else {
            job_run(res, job);
        }
    }
}

/* ------------------------------------------------------------ entry points */

clus_res *clus_res_new(const clus_res_env *env, uint64_t id, const char *name,
                       const char *type_name, const clus_restype_ops *ops, bool loop_native,
                       const clus_params *params, const clus_res_props *props,
                       const char *state_dir)
{
    clus_res *res = calloc(1, sizeof(*res));

    if (res == NULL)
        return NULL;
    res->params = calloc(params->count ? params->count : 1, sizeof(*res->params));
    res->name = strdup(name);
    res->type_name = strdup(type_name);
    res->state_dir = strdup(state_dir);
    if (res->params == NULL || res->name == NULL || res->type_name == NULL ||
        res->state_dir == NULL) {
        res_free(res);
        return NULL;
    }
    for (size_t i = 0; i < params->count; i++) {
        res->params[i].key = strdup(params->items[i].key);
        res->params[i].value = strdup(params->items[i].value);
        res->param_view.count++;
    }
    res->param_view.items = res->params;
    res->env = *env;
    res->id = id;
    res->ops = ops;
    res->loop_native = loop_native;
    res->props = *props;
    res->state = CLUS_STATE_INITIALIZING;
    res->persisted_state = CLUS_STATE_OFFLINE;
    res->op = OP_NONE;
    res->looks_alive = res->is_alive = -1;
    return res;
}

void clus_res_open(clus_res *res, uint32_t open_flags, int persisted_state, uint32_t online_flags,
                   clus_res_done_fn done, void *ctx)
{
    clus_res_job *job = job_new(res, CLUS_JOB_OPEN, done, ctx);

    res->persisted_state = persisted_state;
    res->online_flags = online_flags;
    if (job != NULL) {
        job->flags = open_flags;
        res_submit(res, job, false);
    }
}

static bool refuse_busy(clus_res *res, bool ignore_status, clus_res_done_fn done, void *ctx)
{
    char message[128];

    if (res->closing) {
        answer(done, ctx, res, CLUS_E_RESOURCE_NOT_FOUND, "the resource is being closed");
        return true;
    }
    if (res->locked && !ignore_status) {
        answer(done, ctx, res, CLUS_E_RESOURCE_LOCKED_STATUS,
               "the resource is in locked mode (pass ignore-resource-status to override)");
        return true;
    }
    if (res->op == OP_NONE)
        return false;
    if (!ignore_status) {
        snprintf(message, sizeof(message),
                 "the resource is %s (pass ignore-resource-status to override)",
                 clus_state_name(res->state));
        answer(done, ctx, res, CLUS_E_BUSY, message);
        return true;
    }
    /* IGNORE_RESOURCE_STATUS: the new call supersedes the pending one. */
    terminate_now(res, CLUS_STATE_OFFLINE, CLUS_E_OPERATION_ABORTED,
                  "superseded by a call with ignore-resource-status", NULL, NULL);
    return false;
}

static clus_res_job *job_with_buffer(clus_res *res, enum clus_res_job_kind kind, uint32_t flags,
                                     const void *in, size_t in_len, clus_res_done_fn done,
                                     void *ctx)
{
    clus_res_job *job = job_new(res, kind, done, ctx);

    if (job == NULL)
        return NULL;
    job->flags = flags;
    if (in_len > 0) {
        job->in = malloc(in_len);
        if (job->in == NULL) {
            job_free(job);
            answer(done, ctx, res, CLUS_E_NOT_ENOUGH_MEMORY, "out of memory");
            return NULL;
        }
        memcpy(job->in, in, in_len);
        job->in_len = in_len;
    }
    return job;
}

void clus_res_online(clus_res *res, uint32_t flags, const void *in, size_t in_len,
                     clus_res_done_fn done, void *ctx)
{
    if (refuse_busy(res, flags & CLUS_ONLINE_IGNORE_RESOURCE_STATUS, done, ctx))
        return;
    res_submit(res, job_with_buffer(res, CLUS_JOB_ONLINE, flags, in, in_len, done, ctx), false);
}

void clus_res_offline(clus_res *res, uint32_t flags, const char *destination, const void *in,
                      size_t in_len, clus_res_done_fn done, void *ctx)
{
    clus_res_job *job;
    bool queue = (flags & CLUS_OFFLINE_QUEUE_ENABLED) && res->op != OP_NONE && !res->closing;

    if (!queue && refuse_busy(res, flags & CLUS_OFFLINE_IGNORE_RESOURCE_STATUS, done, ctx))
        return;
    job = job_with_buffer(res, CLUS_JOB_OFFLINE, flags, in, in_len, done, ctx);
    if (job == NULL)
        return;
    if (destination != NULL && *destination != '\0')
        job->destination = strdup(destination);
    if (queue) {
        if (res->deferred != NULL) {
            job_free(job);
            answer(done, ctx, res, CLUS_E_BUSY, "an Offline is already queued");
            return;
        }
        res->deferred = job; /* runs when the pending operation ends */
        job->done = NULL;
        answer(done, ctx, res, CLUS_E_IO_PENDING,
               "queued: runs when the pending operation ends (QUEUE_ENABLED)");
        return;
    }
    res_submit(res, job, false);
}

void clus_res_terminate(clus_res *res, clus_res_done_fn done, void *ctx)
{
    res->persisted_state = CLUS_STATE_OFFLINE;
    terminate_now(res, CLUS_STATE_OFFLINE, CLUS_OK, "terminated", done, ctx);
}

void clus_res_arbitrate(clus_res *res, clus_res_done_fn done, void *ctx)
{
    res_submit(res, job_new(res, CLUS_JOB_ARBITRATE, done, ctx), false);
}

void clus_res_release(clus_res *res, clus_res_done_fn done, void *ctx)
{
    res_submit(res, job_new(res, CLUS_JOB_RELEASE, done, ctx), false);
}

void clus_res_cancel(clus_res *res, uint32_t flags, clus_res_done_fn done, void *ctx)
{
    clus_res_job *job;

    if (res->op == OP_NONE) {
        answer(done, ctx, res, CLUS_E_INVALID_STATE, "no Online or Offline is pending");
        return;
    }
    if (res->ops->cancel == NULL) {
        terminate_now(res, CLUS_STATE_OFFLINE, CLUS_E_OPERATION_ABORTED, "cancelled", NULL, NULL);
        answer(done, ctx, res, CLUS_OK, "cancelled (terminated)");
        return;
    }
    job = job_new(res, CLUS_JOB_CANCEL, done, ctx);
    if (job != NULL) {
        job->flags = flags;
        job_run(res, job);
    }
}

void clus_res_close(clus_res *res, clus_res_done_fn done, void *ctx)
{
    if (res->closing) {
        answer(done, ctx, res, CLUS_E_RESOURCE_NOT_FOUND, "the resource is being closed");
        return;
    }
    if (res->state != CLUS_STATE_OFFLINE && res->state != CLUS_STATE_FAILED && res->opened)
        terminate_now(res, CLUS_STATE_OFFLINE, CLUS_OK, "terminated before close", NULL, NULL);
    res->closing = true;
    health_timers(res, false);
    if (res->deferred != NULL) {
        answer(res->deferred->done, res->deferred->ctx, res, CLUS_E_OPERATION_ABORTED, "closed");
        job_free(res->deferred);
        res->deferred = NULL;
    }
    res_submit(res, job_new(res, CLUS_JOB_CLOSE, done, ctx), false);
}

void clus_res_destroy(clus_res *res)
{
    while (res->queue_head != NULL) {
        clus_res_job *job = res->queue_head;
        res->queue_head = job->next;
        job_free(job);
    }
    if (res->deferred != NULL)
        job_free(res->deferred);
    if (res->opened)
        res->ops->close(res->resid);
    res_free(res);
}

bool clus_res_fence(clus_res *res, const char *why)
{
    bool active = res->state == CLUS_STATE_ONLINE || is_pending(res->state);

    if (!active || (res->online_flags & CLUS_ONLINE_IGNORE_NETWORK_CONNECTIVITY))
        return false;
    emit(res, CLUS__V1__EVENT_KIND__EVENT_FENCED, res->state, CLUS_E_NETWORK_UNREACHABLE, why);
    terminate_now(res, CLUS_STATE_OFFLINE, CLUS_E_NETWORK_UNREACHABLE, why, NULL, NULL);
    return true;
}

/* ------------------------------------------------------------ callbacks */

void clus_res_timer_fired(clus_res *res, enum clus_res_timer timer)
{
    switch (timer) {
    case CLUS_RES_TIMER_PENDING:
        if (res->op != OP_NONE)
            fail_now(res, CLUS_E_RESOURCE_CALL_TIMED_OUT,
                     "no progress report for %u ms (PendingTimeout)",
                     res->props.pending_timeout_ms);
        break;
    case CLUS_RES_TIMER_BOUND:
        if (res->op_done != NULL)
            op_answer(res, CLUS_E_IO_PENDING,
                      res->op == CLUS_JOB_ONLINE ? "online pending" : "offline pending");
        break;
    case CLUS_RES_TIMER_LOOKS_ALIVE:
        health_poll(res, CLUS_JOB_LOOKS_ALIVE, timer);
        break;
    case CLUS_RES_TIMER_IS_ALIVE:
        health_poll(res, CLUS_JOB_IS_ALIVE, timer);
        break;
    default:
        break;
    }
}

void clus_res_status_report(clus_res *res, uint32_t gen, int state, uint32_t checkpoint,
                            uint32_t status)
{
    char message[96];

    if (gen != res->gen || res->op == OP_NONE)
        return; /* a report for an operation that was terminated */
    switch (state) {
    case CLUS_STATE_ONLINE_PENDING:
    case CLUS_STATE_OFFLINE_PENDING:
        if (checkpoint <= res->checkpoint)
            return; /* not progress: the PendingTimeout keeps running */
        res->checkpoint = checkpoint;
        timer_start(res, CLUS_RES_TIMER_PENDING, res->props.pending_timeout_ms);
        snprintf(message, sizeof(message), "progress, checkpoint %u", checkpoint);
        emit(res, CLUS__V1__EVENT_KIND__EVENT_STATE, res->state, CLUS_E_IO_PENDING, message);
        break;
    case CLUS_STATE_ONLINE:
    case CLUS_STATE_OFFLINE:
        op_complete(res, state, CLUS_OK, state == CLUS_STATE_ONLINE ? "online" : "offline");
        break;
    default:
        fail_now(res, status != CLUS_OK ? status : CLUS_E_RESOURCE_FAILED,
                 "the type reported the operation failed");
        break;
    }
}

void clus_res_failure_signal(clus_res *res, uint32_t failure_type, uint32_t app_code)
{
    char message[96];

    if (res->state != CLUS_STATE_ONLINE)
        return;
    snprintf(message, sizeof(message), "the type signalled a failure (type %u, code %u)",
             failure_type, app_code);
    emit(res, CLUS__V1__EVENT_KIND__EVENT_FAILURE, res->state, CLUS_E_RESOURCE_FAILED, message);
    res_submit(res, job_new(res, CLUS_JOB_IS_ALIVE, NULL, NULL), true);
}

void clus_res_locked_mode(clus_res *res, bool locked)
{
    res->locked = locked;
}

uint32_t clus_res_accept_gen(const clus_res *res)
{
    return atomic_load(&((clus_res *)res)->accept_gen);
}

/* ------------------------------------------------------------ views */

void clus_res_view_get(const clus_res *res, clus_res_view *view)
{
    view->id = res->id;
    view->name = res->name;
    view->type = res->type_name;
    view->state = res->state;
    view->last_status = res->last_status;
    view->last_message = res->last_message != NULL ? res->last_message : "";
    view->checkpoint = res->checkpoint;
    view->online_flags = res->online_flags;
    view->offline_flags = res->offline_flags;
    view->persisted_state = res->persisted_state;
    view->props = res->props;
    view->event_handle = res->event_handle;
    view->looks_alive = res->looks_alive;
    view->is_alive = res->is_alive;
    view->health_at_ms = res->health_at_ms;
    view->locked = res->locked;
    view->arbitrated = res->arbitrated;
    view->seq = res->seq;
    view->params = &res->param_view;
}

int clus_res_state(const clus_res *res)
{
    return res->state;
}

const char *clus_res_name(const clus_res *res)
{
    return res->name;
}

uint64_t clus_res_id(const clus_res *res)
{
    return res->id;
}

/* The handle the type sees is the resource itself, under an opaque name. */
clus_resource *clus_res_handle(clus_res *res)
{
    return (clus_resource *)res;
}

clus_res *clus_res_from_handle(clus_resource *handle)
{
    return (clus_res *)handle;
}

bool clus_res_busy(const clus_res *res)
{
    return res->running != NULL || res->overtaking > 0 || res->queue_head != NULL;
}

void clus_res_set_env_data(clus_res *res, void *data)
{
    res->env_data = data;
}

void *clus_res_env_data(const clus_res *res)
{
    return res->env_data;
}
