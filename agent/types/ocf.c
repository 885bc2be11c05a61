/*
 * ocf.c - the `ocf` resource type: runs an OCF resource agent (the scripts
 * of Debian's resource-agents package, or any other) unchanged.
 *
 * Parameters: agent=provider:type (required), the agent's own parameters
 * (passed as OCF_RESKEY_<name>), and ours: ocf_root, check_level,
 * monitor_interval_ms, {start,stop,monitor,validate,terminate}_timeout_ms.
 * docs/ocf.md is the user's guide.
 *
 * Entry points -> actions:
 *   Open, Close ocf_open.c
 *   Online      start (997; progress every second; set_status at its end),
 *               or with RECOVER_MONITOR_STATE a probe first (adopt if running)
 *   Offline     stop (997, idem)
 *   Terminate   kill the running action's process group, then stop with a
 *               short timeout (terminate_timeout_ms), reported to the log only
 *   LooksAlive, IsAlive   ocf_monitor.c
 *   type controls         ocf_control.c
 *
 * Loop-native: every entry point runs on the agent's loop and every action
 * but the two Open-time ones is a libuv child (ocf_run.c). One action runs
 * at a time per resource, and never with a monitor.
 */
#include "builtin.h"
#include "ocf_res.h"

#include "status.h"

#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const clus_monitor_callbacks *ocf_cb;

static const char *const step_actions[] = {"", "monitor", "start", "stop", "stop"};

const char *ocf_step_action(enum ocf_step step)
{
    return step_actions[step];
}

/* ------------------------------------------------------------ logging */

struct line_ctx {
    struct ocf_res *r;
    const char *action, *stream;
};

static void log_line(void *arg, const char *line)
{
    struct line_ctx *ctx = arg;

    ocf_cb->log_event(ctx->r->handle, CLUS_LOG_INFORMATION, "%s %s: %s", ctx->action, ctx->stream,
                      line);
}

static void log_stream(struct ocf_res *r, const char *action, const char *stream,
                       const struct ocf_capture *cap)
{
    struct line_ctx ctx = {r, action, stream};
    size_t skipped;

    if (cap == NULL)
        return;
    skipped = ocf_capture_lines(cap, log_line, &ctx);
    if (skipped > 0 || cap->dropped > 0)
        ocf_cb->log_event(r->handle, CLUS_LOG_WARNING,
                          "%s %s: %zu more lines not logged, %llu bytes beyond the %d kept dropped",
                          action, stream, skipped, (unsigned long long)cap->dropped,
                          OCF_CAPTURE_MAX);
}

void ocf_log_result(struct ocf_res *r, const char *action, const struct ocf_result *res,
                    uint32_t timeout_ms, bool output, int level)
{
    char what[200], reason[OCF_LOG_LINE_MAX + 4];

    if (level < 0)
        level = ocf_result_status(res) == CLUS_OK ? CLUS_LOG_INFORMATION : CLUS_LOG_ERROR;

    if (output) {
        log_stream(r, action, "stdout", res->out);
        log_stream(r, action, "stderr", res->err);
    }
    ocf_result_describe(res, timeout_ms, what, sizeof(what));
    ocf_exit_reason(res->err, reason, sizeof(reason));
    if (res->timed_out) /* what already says how long */
        ocf_cb->log_event(r->handle, CLUS_LOG_ERROR, "%s: %s%s%s", action, what,
                          *reason ? ": " : "", reason);
    else
        ocf_cb->log_event(r->handle, level, "%s: %s in %llu ms%s%s", action, what,
                          (unsigned long long)res->elapsed_ms, *reason ? ": " : "", reason);
}

/* ------------------------------------------------------------ operations */

static void progress_tick(uv_timer_t *timer)
{
    struct ocf_res *r = timer->data;

    if (r->pending && ocf_cb->set_status(r->handle, r->pending_state, ++r->checkpoint, CLUS_OK) ==
                          CLUS_EXIT_TERMINATE)
        uv_timer_stop(timer); /* terminated: Terminate follows */
}

static uint32_t pend(struct ocf_res *r, int pending_state)
{
    r->pending = true;
    r->pending_state = pending_state;
    r->checkpoint = 0;
    uv_timer_start(&r->progress_timer, progress_tick, OCF_PROGRESS_MS, OCF_PROGRESS_MS);
    return CLUS_E_IO_PENDING;
}

/* The end of the pending Online/Offline. */
static void finish(struct ocf_res *r, int state, uint32_t status)
{
    uv_timer_stop(&r->progress_timer);
    if (!r->pending)
        return;
    r->pending = false;
    ocf_cb->set_status(r->handle, state, 0, status);
}

static uint32_t step_timeout(const struct ocf_res *r, enum ocf_step step)
{
    switch (step) {
    case OCF_STEP_PROBE:
        return r->cfg.timeout_ms[OCF_T_MONITOR];
    case OCF_STEP_START:
        return r->cfg.timeout_ms[OCF_T_START];
    case OCF_STEP_CLEANUP:
        return r->cfg.timeout_ms[OCF_T_TERMINATE];
    default:
        return r->cfg.timeout_ms[OCF_T_STOP];
    }
}

static void action_done(void *arg, const struct ocf_result *res);

/* Starts the step's action as the resource's one action child. */
static uint32_t run_step(struct ocf_res *r, enum ocf_step step)
{
    struct ocf_env env;
    char label[192];
    struct ocf_spawn spawn = {.loop = ocf_cb->loop,
                              .path = r->cfg.path,
                              .action = step_actions[step],
                              .timeout_ms = step_timeout(r, step),
                              .label = label,
                              .done = action_done,
                              .arg = r};
    uint32_t status = ocf_env_copy(&env, &r->env);

    snprintf(label, sizeof(label), "%s %s%s", r->name, step_actions[step],
             step == OCF_STEP_CLEANUP ? " (after terminate)" : "");
    if (status == CLUS_OK) {
        /* A probe is a monitor with interval 0 and OCF_CHECK_LEVEL 0. */
        ocf_env_action(&env, spawn.timeout_ms, 0, step == OCF_STEP_PROBE ? 0 : -1);
        spawn.env = env.vars;
        status = ocf_child_start(&spawn, &r->action);
        ocf_env_free(&env);
    }
    if (status != CLUS_OK) {
        ocf_cb->log_event(r->handle, CLUS_LOG_ERROR, "cannot run %s %s: %s", r->cfg.path,
                          step_actions[step], clus_status_text(status));
        return status;
    }
    r->step = step;
    return CLUS_OK;
}

/* Runs the next step of the pending operation, or ends it as failed. */
static void step_or_fail(struct ocf_res *r, enum ocf_step step)
{
    uint32_t status = run_step(r, step);

    if (status != CLUS_OK)
        finish(r, CLUS_STATE_FAILED, status);
}

static void step_finished(struct ocf_res *r, enum ocf_step step, const struct ocf_result *res)
{
    uint32_t status = ocf_result_status(res);
    enum ocf_health health =
        res->rc >= 0 && !res->timed_out ? ocf_code_lookup(res->rc)->health : OCF_HEALTH_FAILED;

    switch (step) {
    case OCF_STEP_PROBE:
        if (health == OCF_HEALTH_NOT_RUNNING) {
            step_or_fail(r, OCF_STEP_START);
            return;
        }
        if (health == OCF_HEALTH_RUNNING) {
            ocf_cb->log_event(r->handle, CLUS_LOG_INFORMATION,
                              "adopted: the agent reports it running");
            ocf_monitor_running(r);
            status = CLUS_OK;
        }
        finish(r, status == CLUS_OK ? CLUS_STATE_ONLINE : CLUS_STATE_FAILED, status);
        return;
    case OCF_STEP_START:
        if (status == CLUS_OK)
            ocf_monitor_running(r);
        finish(r, status == CLUS_OK ? CLUS_STATE_ONLINE : CLUS_STATE_FAILED, status);
        return;
    case OCF_STEP_STOP:
        if (health == OCF_HEALTH_NOT_RUNNING) /* stopped already: what Offline wants */
            status = CLUS_OK;
        r->running = r->running && status != CLUS_OK;
        finish(r, status == CLUS_OK ? CLUS_STATE_OFFLINE : CLUS_STATE_FAILED, status);
        return;
    default: { /* Terminate's stop: nobody waits for it, unless an Online/Offline came */
        enum ocf_step next = r->after_cleanup;
        r->after_cleanup = OCF_STEP_NONE;
        if (next != OCF_STEP_NONE) /* Offline gets a stop of its own: its verdict, its timeout */
            step_or_fail(r, next);
        return;
    }
    }
}

static void action_done(void *arg, const struct ocf_result *res)
{
    struct ocf_res *r = arg;
    enum ocf_step step = r->step;

    r->action = NULL;
    r->step = OCF_STEP_NONE;
    ocf_log_result(r, step == OCF_STEP_CLEANUP ? "stop (after terminate)" : step_actions[step], res,
                   step_timeout(r, step), true, -1);
    step_finished(r, step, res);
}

/* ------------------------------------------------------------ entry points */

static uint32_t ocf_online(clus_resid resid, clus_online_args *args)
{
    struct ocf_res *r = resid;
    uint32_t status;

    args->event_handle = true; /* ocf_monitor.c signals failures */
    if (r->action != NULL && r->step != OCF_STEP_CLEANUP) {
        REASON(r, "the agent's %s is still running", step_actions[r->step]);
        return CLUS_E_BUSY;
    }
    ocf_monitor_stop(r);
    r->failed = false;
    if (r->action != NULL) {
        r->after_cleanup = OCF_STEP_START; /* when Terminate's stop has ended */
        return pend(r, CLUS_STATE_ONLINE_PENDING);
    }
    status = run_step(r, (args->flags & CLUS_ONLINE_RECOVER_MONITOR_STATE) ? OCF_STEP_PROBE
                                                                           : OCF_STEP_START);
    if (status != CLUS_OK) {
        REASON(r, "cannot run %s: %s", r->cfg.path, clus_status_text(status));
        return status;
    }
    return pend(r, CLUS_STATE_ONLINE_PENDING);
}

static uint32_t ocf_offline(clus_resid resid, const clus_offline_args *args)
{
    struct ocf_res *r = resid;
    uint32_t status;

    ocf_monitor_stop(r);
    if (r->action != NULL && r->step != OCF_STEP_CLEANUP) {
        REASON(r, "the agent's %s is still running", step_actions[r->step]);
        return CLUS_E_BUSY;
    }
    if (r->action != NULL) {
        r->after_cleanup = OCF_STEP_STOP; /* when Terminate's stop has ended */
        return pend(r, CLUS_STATE_OFFLINE_PENDING);
    }
    if ((status = run_step(r, OCF_STEP_STOP)) != CLUS_OK) {
        REASON(r, "cannot run %s: %s", r->cfg.path, clus_status_text(status));
        return status;
    }
    return pend(r, CLUS_STATE_OFFLINE_PENDING);
}

static void ocf_terminate(clus_resid resid)
{
    struct ocf_res *r = resid;

    ocf_monitor_stop(r);
    uv_timer_stop(&r->progress_timer);
    r->pending = false;
    r->after_cleanup = OCF_STEP_NONE;
    r->running = r->failed = false;
    if (r->action != NULL && r->step == OCF_STEP_CLEANUP)
        return; /* already stopping */
    if (r->action != NULL) {
        ocf_cb->log_event(r->handle, CLUS_LOG_WARNING,
                          "terminate: killed %s (pid %d) and its process group",
                          step_actions[r->step], (int)ocf_child_pid(r->action));
        ocf_child_abandon(r->action);
        r->action = NULL;
    }
    run_step(r, OCF_STEP_CLEANUP);
}

static bool ocf_looks_alive(clus_resid resid)
{
    return ocf_monitor_looks_alive(resid);
}

static bool ocf_is_alive(clus_resid resid)
{
    return ocf_monitor_is_alive(resid);
}

static const clus_restype_ops ocf_ops = {
    .size = sizeof(clus_restype_ops),
    .version = CLUS_RESTYPE_VERSION_1,
    .flags = CLUS_RESTYPE_F_LOOP,
    .open = ocf_open,
    .close = ocf_close,
    .online = ocf_online,
    .offline = ocf_offline,
    .terminate = ocf_terminate,
    .looks_alive = ocf_looks_alive,
    .is_alive = ocf_is_alive,
    .resource_control = ocf_resource_control,
    .type_control = ocf_type_control,
};

uint32_t clus_ocf_type_startup(const char *type_name, uint32_t min_version, uint32_t max_version,
                               const clus_monitor_callbacks *callbacks,
                               const clus_restype_ops **ops)
{
    if (strcmp(type_name, "ocf") != 0)
        return CLUS_E_RESNAME_NOT_FOUND;
    if (min_version > CLUS_RESTYPE_VERSION_1 || max_version < CLUS_RESTYPE_VERSION_1)
        return CLUS_E_REVISION_MISMATCH;
    xmlInitParser(); /* once, on the loop thread, before any parse */
    ocf_cb = callbacks;
    *ops = &ocf_ops;
    return CLUS_OK;
}
