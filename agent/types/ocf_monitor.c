/*
 * ocf_monitor.c - LooksAlive and IsAlive of an `ocf` resource, without
 * blocking the loop.
 *
 * The ABI's health checks are synchronous bools; running `monitor` takes a
 * child process. So the checks answer from what the monitors have found so
 * far, and the monitors run on their own:
 *
 *   - while the resource runs, a background `monitor` (OCF_CHECK_LEVEL 0)
 *     runs every cfg.interval_ms;
 *   - IsAlive answers at once and starts a deep monitor (OCF_CHECK_LEVEL
 *     cfg.check_level, default 10); LooksAlive starts a level-0 one;
 *   - a monitor that finds the resource not running (OCF_NOT_RUNNING while
 *     we think it runs: a failed probe), failed, timed out or killed marks
 *     it failed and calls signal_failure; the agent then asks IsAlive at
 *     once, which answers false: Failed, then Terminate.
 *
 * Online sets event_handle, so the agent does not poll LooksAlive itself;
 * it still calls IsAlive every is_alive_ms, which keeps deep checks coming.
 * A failure is reported within interval_ms plus the monitor's run time.
 */
#include "ocf_res.h"

#include "status.h"

#include <stdio.h>
#include <string.h>

static void monitor_run(struct ocf_res *r, int level);

static void monitor_tick(uv_timer_t *timer)
{
    struct ocf_res *r = timer->data;

    if (r->running && !r->failed && r->action == NULL && r->monitor == NULL)
        monitor_run(r, r->deep_wanted ? r->cfg.check_level : 0);
}

void ocf_monitor_init(struct ocf_res *r)
{
    r->last_rc = -1;
    uv_timer_init(ocf_cb->loop, &r->monitor_timer);
    r->monitor_timer.data = r;
    uv_unref((uv_handle_t *)&r->monitor_timer);
}

void ocf_monitor_running(struct ocf_res *r)
{
    r->running = true;
    r->failed = false;
    r->deep_wanted = false;
    r->last_rc = 0;
    uv_timer_start(&r->monitor_timer, monitor_tick, r->cfg.interval_ms, r->cfg.interval_ms);
}

void ocf_monitor_stop(struct ocf_res *r)
{
    uv_timer_stop(&r->monitor_timer);
    if (r->monitor != NULL)
        ocf_child_abandon(r->monitor);
    r->monitor = NULL;
    r->deep_wanted = false;
}

static enum ocf_health result_health(const struct ocf_result *res)
{
    if (res->spawn_status != CLUS_OK || res->timed_out || res->rc < 0)
        return OCF_HEALTH_FAILED;
    return ocf_code_lookup(res->rc)->health;
}

/* The resource failed under us: tell the agent (it verifies with IsAlive,
 * which now answers false, then terminates). */
static void monitor_failed(struct ocf_res *r, const struct ocf_result *res, const char *label)
{
    enum ocf_health health = result_health(res);

    r->failed = true;
    uv_timer_stop(&r->monitor_timer);
    ocf_log_result(r, label, res, r->cfg.timeout_ms[OCF_T_MONITOR], true, CLUS_LOG_ERROR);
    ocf_cb->log_event(r->handle, CLUS_LOG_ERROR, "%s: %s", label,
                      health == OCF_HEALTH_NOT_RUNNING
                          ? "the resource stopped outside clus's control (a failed probe)"
                          : "the resource failed");
    ocf_cb->signal_failure(r->handle, CLUS_FAILURE_GENERAL, ocf_result_status(res));
}

/* Level-0 results are logged when they change (they come every few
 * seconds); deep ones (IsAlive's, rarer) always; output only on failure. */
static void monitor_done(void *arg, const struct ocf_result *res)
{
    struct ocf_res *r = arg;
    char label[48];

    r->monitor = NULL;
    snprintf(label, sizeof(label), "monitor (OCF_CHECK_LEVEL=%d)", r->monitor_level);
    if (result_health(res) != OCF_HEALTH_RUNNING) {
        r->last_rc = res->rc;
        monitor_failed(r, res, label);
        return;
    }
    if (res->rc != r->last_rc || r->monitor_level > 0)
        ocf_log_result(r, label, res, r->cfg.timeout_ms[OCF_T_MONITOR], res->rc != r->last_rc,
                       res->rc == 0 ? CLUS_LOG_INFORMATION : CLUS_LOG_WARNING);
    r->last_rc = res->rc;
    if (r->deep_wanted)
        monitor_run(r, r->cfg.check_level);
}

static void monitor_run(struct ocf_res *r, int level)
{
    struct ocf_result failed = {.rc = -1};
    struct ocf_env env;
    char label[192];
    struct ocf_spawn spawn = {.loop = ocf_cb->loop,
                              .path = r->cfg.path,
                              .action = "monitor",
                              .timeout_ms = r->cfg.timeout_ms[OCF_T_MONITOR],
                              .label = label,
                              .done = monitor_done,
                              .arg = r};

    r->deep_wanted = false;
    snprintf(label, sizeof(label), "%s monitor", r->name);
    failed.spawn_status = ocf_env_copy(&env, &r->env);
    if (failed.spawn_status == CLUS_OK) {
        /* A recurring monitor, not a probe: interval > 0 (ocf_is_probe). */
        ocf_env_action(&env, spawn.timeout_ms, r->cfg.interval_ms, level);
        spawn.env = env.vars;
        failed.spawn_status = ocf_child_start(&spawn, &r->monitor);
        ocf_env_free(&env);
    }
    r->monitor_level = level;
    if (failed.spawn_status != CLUS_OK) { /* a monitor we cannot run vouches for nothing */
        snprintf(label, sizeof(label), "monitor (OCF_CHECK_LEVEL=%d)", level);
        monitor_failed(r, &failed, label);
    }
}

/* Starts a check at level unless one (or an action) runs; then the deep
 * one is remembered for when the running monitor ends. */
static void monitor_kick(struct ocf_res *r, int level)
{
    if (r->action != NULL)
        return;
    if (r->monitor != NULL) {
        r->deep_wanted = r->deep_wanted || level > 0;
        return;
    }
    monitor_run(r, level);
}

bool ocf_monitor_looks_alive(struct ocf_res *r)
{
    if (!r->running || r->failed)
        return false;
    monitor_kick(r, 0);
    return !r->failed;
}

bool ocf_monitor_is_alive(struct ocf_res *r)
{
    if (!r->running || r->failed)
        return false;
    monitor_kick(r, r->cfg.check_level);
    return !r->failed;
}
