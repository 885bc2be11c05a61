/*
 * dummy.c - the `dummy` resource type: no real entity, configurable delays
 * and failures, enough to drive every path of the state machine. Loop-native:
 * its delays are uv timers on the agent's loop.
 *
 * Parameters (all optional):
 *   online_delay_ms, offline_delay_ms  pend (997) this long, then report the end
 *   progress_ms       while pending, report a rising checkpoint this often
 *   fail_online, fail_offline (bool)   the operation fails (at once, or after its delay)
 *   hang              online|offline: that operation never completes
 *   fail_after_ms     once Online, signal a failure after this long
 *   event_handle      (bool) report failures by signal (default: when fail_after_ms is set)
 *   looks_alive, is_alive (bool)       what the health checks answer (default true)
 */
#include "builtin.h"
#include "names.h"
#include "params.h"
#include "status.h"

#include <stdlib.h>
#include <string.h>
#include <uv.h>

struct dummy_config {
    uint32_t online_delay_ms, offline_delay_ms, progress_ms, fail_after_ms;
    bool fail_online, fail_offline, hang_online, hang_offline, event_handle, event_handle_set;
    bool looks_alive, is_alive;
};

/* A dummy's timers, made on first use: most dummies never need one, and
 * three libuv timers would be half a dummy's memory. */
enum dummy_timer {
    DUMMY_TIMER_OP, /* the pending operation */
    DUMMY_TIMER_PROGRESS,
    DUMMY_TIMER_FAIL, /* fail_after_ms */
    DUMMY_TIMER_COUNT
};

struct dummy {
    clus_resource *handle;
    struct dummy_config config;
    struct dummy_config next; /* SET_PRIVATE_PROPERTIES: used from the next Online */
    bool has_next;
    uv_timer_t *timers; /* [DUMMY_TIMER_COUNT]; NULL until a timer is needed */
    int op_state;       /* CLUS_STATE_ONLINE or _OFFLINE while pending, else 0 */
    uint32_t checkpoint;
    bool failed; /* fail_after_ms fired */
    bool running;
    int closing; /* handles still to close */
};

static const clus_monitor_callbacks *dummy_cb;

static const char *const dummy_keys[] = {
    "online_delay_ms", "offline_delay_ms", "progress_ms", "fail_after_ms",
    "fail_online",     "fail_offline",     "hang",        "event_handle",
    "looks_alive",     "is_alive",         NULL};

static bool dummy_key_known(const char *key)
{
    for (size_t i = 0; dummy_keys[i] != NULL; i++) {
        if (strcmp(dummy_keys[i], key) == 0)
            return true;
    }
    return false;
}

static bool dummy_parse_one(struct dummy_config *c, const char *k, const char *v)
{
    uint32_t *nums[] = {&c->online_delay_ms, &c->offline_delay_ms, &c->progress_ms,
                        &c->fail_after_ms};
    bool *bools[] = {&c->fail_online, &c->fail_offline};

    for (int i = 0; i < 4; i++) {
        if (strcmp(k, dummy_keys[i]) == 0)
            return clus_parse_u32(v, 86400000u, nums[i]);
    }
    for (int i = 0; i < 2; i++) {
        if (strcmp(k, dummy_keys[4 + i]) == 0)
            return clus_parse_bool(v, bools[i]);
    }
    if (strcmp(k, "hang") == 0) {
        c->hang_online = strcmp(v, "online") == 0;
        c->hang_offline = strcmp(v, "offline") == 0;
        return c->hang_online || c->hang_offline || strcmp(v, "none") == 0;
    }
    if (strcmp(k, "event_handle") == 0)
        return (c->event_handle_set = clus_parse_bool(v, &c->event_handle));
    if (strcmp(k, "looks_alive") == 0)
        return clus_parse_bool(v, &c->looks_alive);
    return clus_parse_bool(v, &c->is_alive);
}

/* Parses params over base. 87 on an unknown key or a bad value. */
static uint32_t dummy_parse(const clus_params *params, struct dummy_config *c,
                            clus_resource *handle)
{
    for (size_t i = 0; i < params->count; i++) {
        const char *k = params->items[i].key, *v = params->items[i].value;
        if (!dummy_key_known(k) || !dummy_parse_one(c, k, v)) {
            if (handle != NULL) {
                dummy_cb->log_event(handle, CLUS_LOG_ERROR, "bad parameter %s=%s", k, v);
                dummy_cb->set_reason(handle, "bad parameter %s=%.80s", k, v);
            }
            return CLUS_E_INVALID_PARAMETER;
        }
    }
    if (!c->event_handle_set)
        c->event_handle = c->fail_after_ms > 0;
    return CLUS_OK;
}

static uint32_t dummy_open(const clus_open_args *args, clus_resid *resid)
{
    struct dummy *d = calloc(1, sizeof(*d));
    uint32_t status;

    if (d == NULL)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    d->config.looks_alive = d->config.is_alive = true;
    status = dummy_parse(args->params, &d->config, args->handle);
    if (status != CLUS_OK) {
        free(d);
        return status;
    }
    d->handle = args->handle;
    *resid = d;
    return CLUS_OK;
}

/* d's timer `which`, the timers made on the first call; NULL: out of memory. */
static uv_timer_t *dummy_timer(struct dummy *d, enum dummy_timer which)
{
    if (d->timers == NULL && (d->timers = calloc(DUMMY_TIMER_COUNT, sizeof(uv_timer_t))) != NULL) {
        for (int i = 0; i < DUMMY_TIMER_COUNT; i++) {
            uv_timer_init(dummy_cb->loop, &d->timers[i]);
            d->timers[i].data = d;
        }
    }
    return d->timers != NULL ? &d->timers[which] : NULL;
}

static void dummy_timer_stop(struct dummy *d, enum dummy_timer which)
{
    if (d->timers != NULL)
        uv_timer_stop(&d->timers[which]);
}

static void dummy_handle_closed(uv_handle_t *h)
{
    struct dummy *d = h->data;

    if (--d->closing == 0) {
        free(d->timers);
        free(d);
    }
}

static void dummy_close(clus_resid resid)
{
    struct dummy *d = resid;

    if (d->timers == NULL) {
        free(d);
        return;
    }
    d->closing = DUMMY_TIMER_COUNT;
    for (int i = 0; i < DUMMY_TIMER_COUNT; i++)
        uv_close((uv_handle_t *)&d->timers[i], dummy_handle_closed);
}

static void dummy_stop_timers(struct dummy *d)
{
    for (int i = 0; i < DUMMY_TIMER_COUNT; i++)
        dummy_timer_stop(d, (enum dummy_timer)i);
    d->op_state = 0;
}

static void dummy_fail_fired(uv_timer_t *t)
{
    struct dummy *d = t->data;

    d->failed = true;
    if (d->config.event_handle)
        dummy_cb->signal_failure(d->handle, CLUS_FAILURE_GENERAL, 0);
}

static void dummy_now_online(struct dummy *d)
{
    uv_timer_t *fail = d->config.fail_after_ms > 0 ? dummy_timer(d, DUMMY_TIMER_FAIL) : NULL;

    d->running = true;
    d->failed = false;
    if (fail != NULL)
        uv_timer_start(fail, dummy_fail_fired, d->config.fail_after_ms, 0);
}

static void dummy_progress(uv_timer_t *t)
{
    struct dummy *d = t->data;
    int pending =
        d->op_state == CLUS_STATE_ONLINE ? CLUS_STATE_ONLINE_PENDING : CLUS_STATE_OFFLINE_PENDING;

    if (dummy_cb->set_status(d->handle, pending, ++d->checkpoint, CLUS_OK) == CLUS_EXIT_TERMINATE)
        dummy_stop_timers(d);
}

/* The delay is over: report the end of the pending operation. */
static void dummy_op_fired(uv_timer_t *t)
{
    struct dummy *d = t->data;
    int target = d->op_state;
    bool fail = target == CLUS_STATE_ONLINE ? d->config.fail_online : d->config.fail_offline;

    dummy_timer_stop(d, DUMMY_TIMER_PROGRESS);
    d->op_state = 0;
    if (fail) {
        dummy_cb->set_status(d->handle, CLUS_STATE_FAILED, 0, CLUS_E_RESOURCE_FAILED);
        return;
    }
    if (target == CLUS_STATE_ONLINE)
        dummy_now_online(d);
    else
        d->running = false;
    dummy_cb->set_status(d->handle, target, 0, CLUS_OK);
}

static uint32_t dummy_pend(struct dummy *d, int target, uint32_t delay_ms, bool hang)
{
    if (dummy_timer(d, DUMMY_TIMER_OP) == NULL)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    d->op_state = target;
    d->checkpoint = 0;
    if (!hang)
        uv_timer_start(&d->timers[DUMMY_TIMER_OP], dummy_op_fired, delay_ms, 0);
    if (d->config.progress_ms > 0)
        uv_timer_start(&d->timers[DUMMY_TIMER_PROGRESS], dummy_progress, d->config.progress_ms,
                       d->config.progress_ms);
    return CLUS_E_IO_PENDING;
}

static uint32_t dummy_online(clus_resid resid, clus_online_args *args)
{
    struct dummy *d = resid;

    if (d->has_next) {
        d->config = d->next;
        d->has_next = false;
    }
    args->event_handle = d->config.event_handle;
    if ((args->flags & CLUS_ONLINE_RECOVER_MONITOR_STATE) && d->running)
        return CLUS_OK; /* adopt: already running */
    if (d->config.hang_online || d->config.online_delay_ms > 0)
        return dummy_pend(d, CLUS_STATE_ONLINE, d->config.online_delay_ms, d->config.hang_online);
    if (d->config.fail_online)
        return CLUS_E_RESOURCE_FAILED;
    dummy_now_online(d);
    return CLUS_OK;
}

static uint32_t dummy_offline(clus_resid resid, const clus_offline_args *args)
{
    struct dummy *d = resid;

    dummy_timer_stop(d, DUMMY_TIMER_FAIL);
    if (d->config.hang_offline || d->config.offline_delay_ms > 0)
        return dummy_pend(d, CLUS_STATE_OFFLINE, d->config.offline_delay_ms,
                          d->config.hang_offline);
    if (d->config.fail_offline)
        return CLUS_E_RESOURCE_FAILED;
    d->running = false;
    return CLUS_OK;
}

static void dummy_terminate(clus_resid resid)
{
    struct dummy *d = resid;

    dummy_stop_timers(d);
    d->running = false;
}

static bool dummy_looks_alive(clus_resid resid)
{
    struct dummy *d = resid;

    return d->running && !d->failed && d->config.looks_alive;
}

static bool dummy_is_alive(clus_resid resid)
{
    struct dummy *d = resid;

    return d->running && !d->failed && d->config.is_alive;
}

static uint32_t dummy_cancel(clus_resid resid, uint32_t flags)
{
    struct dummy *d = resid;

    if (d->op_state == 0)
        return CLUS_E_INVALID_STATE;
    dummy_stop_timers(d);
    return CLUS_OK;
}

static uint32_t dummy_control(clus_resid resid, clus_control *ctl)
{
    struct dummy *d = resid;
    struct dummy_config c = d->config;
    uint32_t status;

    switch (ctl->code) {
    case CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES:
    case CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES:
        c.event_handle_set = false;
        status = dummy_parse(ctl->properties, &c, NULL);
        if (status != CLUS_OK || ctl->code == CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES)
            return status;
        d->next = c;
        d->has_next = true;
        return CLUS_E_RESOURCE_PROPERTIES_STORED; /* from the next Online */
    case CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES:
        ctl->add_property(ctl, "running", d->running ? "true" : "false");
        ctl->add_property(ctl, "failed", d->failed ? "true" : "false");
        return CLUS_OK;
    default:
        return CLUS_E_INVALID_FUNCTION; /* the agent's default processing */
    }
}

static const clus_restype_ops dummy_ops = {
    .size = sizeof(clus_restype_ops),
    .version = CLUS_RESTYPE_VERSION_1,
    .flags = CLUS_RESTYPE_F_LOOP,
    .open = dummy_open,
    .close = dummy_close,
    .online = dummy_online,
    .offline = dummy_offline,
    .terminate = dummy_terminate,
    .looks_alive = dummy_looks_alive,
    .is_alive = dummy_is_alive,
    .resource_control = dummy_control,
    .cancel = dummy_cancel,
};

uint32_t clus_dummy_type_startup(const char *type_name, uint32_t min_version, uint32_t max_version,
                                 const clus_monitor_callbacks *callbacks,
                                 const clus_restype_ops **ops)
{
    if (strcmp(type_name, "dummy") != 0)
        return CLUS_E_RESNAME_NOT_FOUND;
    if (min_version > CLUS_RESTYPE_VERSION_1 || max_version < CLUS_RESTYPE_VERSION_1)
        return CLUS_E_REVISION_MISMATCH;
    dummy_cb = callbacks;
    *ops = &dummy_ops;
    return CLUS_OK;
}
