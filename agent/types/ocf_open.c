/*
 * ocf_open.c - Open and Close of an `ocf` resource, and its resource control.
 *
 * Open checks everything before the resource exists: the parameters, the
 * agent (a regular executable file under OCF_ROOT), its meta-data (cached
 * per agent file, ocf_cache.c), required, unknown and unique parameters,
 * then runs validate-all if the agent advertises it. The two actions run
 * bounded and blocking (ocf_sync.c): the ABI's Open answers when it
 * returns. The resource is left Offline either way.
 */
#include "ocf_res.h"

#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ocf_res *ocf_open_list; /* every open resource (unique parameters) */

/* unique="1" parameters: no other open resource of the same agent may have
 * the same value. */
static uint32_t check_unique(const struct ocf_res *r, const struct ocf_meta *meta, char *err,
                             size_t errlen)
{
    for (size_t i = 0; i < meta->n_params; i++) {
        const char *name = meta->params[i].name;
        const char *mine = ocf_config_reskey(&r->cfg, name);
        if (!meta->params[i].unique || mine == NULL)
            continue;
        for (const struct ocf_res *o = ocf_open_list; o != NULL; o = o->next) {
            const char *theirs = ocf_config_reskey(&o->cfg, name);
            if (strcmp(o->cfg.path, r->cfg.path) == 0 && theirs != NULL &&
                strcmp(theirs, mine) == 0) {
                snprintf(err, errlen,
                         "parameter %s='%.200s' must be unique among %s resources: %s has it", name,
                         mine, r->cfg.agent, o->name);
                return CLUS_E_INVALID_PARAMETER;
            }
        }
    }
    return CLUS_OK;
}

/* validate-all, bounded and blocking (see ocf_sync.c). */
static uint32_t validate(struct ocf_res *r, char *err, size_t errlen)
{
    uint32_t timeout = r->cfg.timeout_ms[OCF_T_VALIDATE], status;
    char what[200], reason[OCF_LOG_LINE_MAX + 4];
    struct ocf_sync run;
    struct ocf_env env;

    if ((status = ocf_env_copy(&env, &r->env)) != CLUS_OK)
        return status;
    ocf_env_action(&env, timeout, 0, -1);
    status =
        ocf_run_sync(r->cfg.path, "validate-all", env.vars, timeout, OCF_CAPTURE_MAX, false, &run);
    ocf_env_free(&env);
    ocf_log_result(r, "validate-all", &run.result, timeout, true, -1);
    if (status == CLUS_OK && run.result.rc == 3 && !run.result.timed_out)
        status = CLUS_OK; /* advertised but unimplemented: nothing to check */
    else if (status == CLUS_OK)
        status = ocf_result_status(&run.result);
    if (status != CLUS_OK) {
        ocf_result_describe(&run.result, timeout, what, sizeof(what));
        ocf_exit_reason(&run.err, reason, sizeof(reason));
        if (snprintf(err, errlen, "agent %s: validate-all %s%s%s", r->cfg.agent, what,
                     *reason ? ": " : "", reason) >= (int)errlen)
            err[errlen - 1] = '\0'; /* a long reason is cut: it is also in the log */
    }
    ocf_sync_free(&run);
    return status;
}

/* Everything Open checks; err says why not. */
static uint32_t open_check(struct ocf_res *r, const clus_open_args *args, char *err, size_t errlen)
{
    struct ocf_identity id = {r->cfg.root, r->cfg.provider, r->cfg.type, args->name,
                              args->state_dir};
    clus_params reskeys;
    const struct ocf_meta *meta;
    uint32_t status;
    bool has_validate;

    if ((status = ocf_config_parse(args->params, &r->cfg, err, errlen)) != CLUS_OK ||
        (status = ocf_agent_resolve(r->cfg.root, r->cfg.provider, r->cfg.type, r->cfg.path, err,
                                    errlen)) != CLUS_OK ||
        (status = ocf_meta_get(r->cfg.root, r->cfg.provider, r->cfg.type, r->cfg.path, &meta, NULL,
                               NULL, err, errlen)) != CLUS_OK ||
        (status = ocf_config_apply_meta(&r->cfg, meta, err, errlen)) != CLUS_OK ||
        (status = check_unique(r, meta, err, errlen)) != CLUS_OK)
        return status;
    has_validate = ocf_meta_action(meta, "validate-all", -1) != NULL;
    reskeys.items = r->cfg.reskeys; /* set by the parse above */
    reskeys.count = r->cfg.n_reskeys;
    if ((status = ocf_env_base(&r->env, &id, &reskeys)) != CLUS_OK) {
        snprintf(err, errlen, "out of memory");
        return status;
    }
    return has_validate ? validate(r, err, errlen) : CLUS_OK;
}

static void res_free(struct ocf_res *r)
{
    ocf_config_free(&r->cfg);
    ocf_env_free(&r->env);
    free(r->name);
    free(r);
}

uint32_t ocf_open(const clus_open_args *args, clus_resid *resid)
{
    struct ocf_res *r = calloc(1, sizeof(*r));
    char err[600];
    uint32_t status;

    if (r == NULL || (r->name = strdup(args->name)) == NULL) {
        free(r);
        return CLUS_E_NOT_ENOUGH_MEMORY;
    }
    r->handle = args->handle;
    status = ocf_cb->loop != NULL ? open_check(r, args, err, sizeof(err)) : CLUS_E_NOT_SUPPORTED;
    if (status != CLUS_OK) {
        if (ocf_cb->loop == NULL)
            snprintf(err, sizeof(err), "the ocf type needs the agent's loop");
        ocf_cb->log_event(args->handle, CLUS_LOG_ERROR, "%s", err);
        REASON(r, "%s", err);
        res_free(r);
        return status;
    }
    uv_timer_init(ocf_cb->loop, &r->progress_timer);
    r->progress_timer.data = r;
    uv_unref((uv_handle_t *)&r->progress_timer);
    ocf_monitor_init(r);
    r->next = ocf_open_list;
    ocf_open_list = r;
    *resid = r;
    return CLUS_OK;
}

static void timer_closed(uv_handle_t *handle)
{
    struct ocf_res *r = handle->data;

    if (--r->open_handles == 0)
        res_free(r);
}

void ocf_close(clus_resid resid)
{
    struct ocf_res *r = resid, **pp = &ocf_open_list;

    while (*pp != NULL && *pp != r)
        pp = &(*pp)->next;
    if (*pp == r)
        *pp = r->next;
    ocf_monitor_stop(r);
    if (r->action != NULL && r->step == OCF_STEP_CLEANUP)
        ocf_child_detach(r->action); /* let Terminate's stop finish; it logs on its own */
    else if (r->action != NULL)
        ocf_child_abandon(r->action);
    r->action = NULL;
    r->open_handles = 2;
    uv_close((uv_handle_t *)&r->progress_timer, timer_closed);
    uv_close((uv_handle_t *)&r->monitor_timer, timer_closed);
}

/* ------------------------------------------------------------ controls */

static void add_num(clus_control *ctl, const char *key, long long value)
{
    char text[24];

    snprintf(text, sizeof(text), "%lld", value);
    ctl->add_property(ctl, key, text);
}

uint32_t ocf_resource_control(clus_resid resid, clus_control *ctl)
{
    static const char *const tkeys[OCF_T_COUNT] = {"start_timeout_ms", "stop_timeout_ms",
                                                   "monitor_timeout_ms", "validate_timeout_ms",
                                                   "terminate_timeout_ms"};
    struct ocf_res *r = resid;

    if (ctl->code != CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES)
        return CLUS_E_INVALID_FUNCTION;
    ctl->add_property(ctl, "agent", r->cfg.agent);
    ctl->add_property(ctl, "path", r->cfg.path);
    ctl->add_property(ctl, "ocf_root", r->cfg.root);
    ctl->add_property(ctl, "action", r->action != NULL ? ocf_step_action(r->step) : "none");
    add_num(ctl, "action_pid", r->action != NULL ? ocf_child_pid(r->action) : 0);
    add_num(ctl, "monitor_pid", r->monitor != NULL ? ocf_child_pid(r->monitor) : 0);
    add_num(ctl, "last_monitor_rc", r->last_rc);
    ctl->add_property(ctl, "last_monitor",
                      r->last_rc >= 0 ? ocf_code_lookup(r->last_rc)->name : "none");
    ctl->add_property(ctl, "running", r->running ? "true" : "false");
    ctl->add_property(ctl, "failed", r->failed ? "true" : "false");
    add_num(ctl, "monitor_interval_ms", r->cfg.interval_ms);
    add_num(ctl, "check_level", r->cfg.check_level);
    for (int i = 0; i < OCF_T_COUNT; i++)
        add_num(ctl, tkeys[i], r->cfg.timeout_ms[i]);
    return CLUS_OK;
}
