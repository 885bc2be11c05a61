/*
 * dispatch.c - every call of the wire contract, on the loop thread.
 *
 * Each handler checks its input completely before anything changes (bad
 * input: 87 with the reason, state untouched), finds the resource, and hands
 * the entry point to the resource's state machine with a reply context; the
 * reply goes out when the state machine answers (at once, at the call
 * bound with 997, or when the type finishes).
 */
#include "agent_internal.h"

#include "clock.h"
#include "log.h"
#include "names.h"
#include "params.h"
#include "pbcopy.h"
#include "status.h"

#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WATCH_MAX_EVENTS     1024
#define WATCH_DEFAULT_EVENTS 256
#define WATCH_MAX_WAIT_MS    60000

struct reply_ctx {
    clus_agent *agent;
    clus_rpc_call *call;
    bool close;        /* the reply of Close: forget the resource */
    bool health;       /* the reply carries a HealthResult */
    bool control;      /* the reply carries a ControlResult */
    uint64_t begin_id; /* Begin* calls: answered already, the result is an event */
};

struct agent_watcher {
    clus_agent *agent;
    clus_rpc_call *call;
    uint64_t after;
    uint32_t max;
    char resource[CLUS_NAME_MAX + 1];
    uv_timer_t timer;
    struct agent_watcher *next;
};

/* ------------------------------------------------------------ info */

void agent_info_fill(struct agent_info *out, const clus_res *res)
{
    Clus__V1__ResourceInfo *info = &out->info;
    clus_res_view v;

    clus_res_view_get(res, &v);
    clus__v1__resource_info__init(info);
    info->name = (char *)v.name;
    info->type = (char *)v.type;
    info->state = v.state;
    info->last_status = v.last_status;
    info->last_message = (char *)v.last_message;
    info->checkpoint = v.checkpoint;
    info->online_flags = v.online_flags;
    info->offline_flags = v.offline_flags;
    info->persisted_state = v.persisted_state;
    info->pending_timeout_ms = v.props.pending_timeout_ms;
    info->looks_alive_ms = v.props.looks_alive_ms;
    info->is_alive_ms = v.props.is_alive_ms;
    info->event_handle = v.event_handle;
    info->looks_alive = v.looks_alive;
    info->is_alive = v.is_alive;
    info->locked = v.locked;
    info->arbitrated = v.arbitrated;
    info->seq = v.seq;
    out->params = calloc(v.params->count + 1, sizeof(*out->params));
    out->param_ptrs = calloc(v.params->count + 1, sizeof(*out->param_ptrs));
    if (out->params == NULL || out->param_ptrs == NULL)
        return; /* sent without parameters */
    for (size_t i = 0; i < v.params->count; i++) {
        clus__v1__param__init(&out->params[i]);
        out->params[i].key = (char *)v.params->items[i].key;
        out->params[i].value = (char *)v.params->items[i].value;
        out->param_ptrs[i] = &out->params[i];
    }
    info->n_params = v.params->count;
    info->params = out->param_ptrs;
}

void agent_info_release(struct agent_info *info)
{
    free(info->params);
    free(info->param_ptrs);
}

/* ------------------------------------------------------------ replies */

static void reply_resource(clus_rpc_call *call, uint32_t status, const char *message,
                           const clus_res *res)
{
    Clus__V1__Response resp = CLUS__V1__RESPONSE__INIT;
    struct agent_info info;

    resp.status = status;
    resp.message = (char *)(message ? message : "");
    agent_info_fill(&info, res);
    resp.result_case = CLUS__V1__RESPONSE__RESULT_RESOURCE;
    resp.resource = &info.info;
    clus_rpc_reply(call, &resp);
    agent_info_release(&info);
}

/* Control output: raw bytes and properties, as a ControlResult. The
 * parameter arrays are the caller's (freed after packing). */
static Clus__V1__ControlResult *control_result(Clus__V1__ControlResult *cr,
                                               const clus_res_outcome *o, Clus__V1__Param *params,
                                               Clus__V1__Param **ptrs)
{
    clus__v1__control_result__init(cr);
    cr->bytes_returned = (uint32_t)o->out_len;
    if (o->out != NULL && o->status == CLUS_OK) {
        cr->out_buffer.data = (uint8_t *)o->out;
        cr->out_buffer.len = o->out_len;
    }
    for (size_t i = 0; o->props != NULL && i < o->props->count; i++) {
        clus__v1__param__init(&params[i]);
        params[i].key = (char *)o->props->items[i].key;
        params[i].value = (char *)o->props->items[i].value;
        ptrs[i] = &params[i];
    }
    cr->n_properties = o->props != NULL ? o->props->count : 0;
    cr->properties = ptrs;
    return cr;
}

static void reply_control(clus_rpc_call *call, const clus_res_outcome *o)
{
    Clus__V1__Response resp = CLUS__V1__RESPONSE__INIT;
    Clus__V1__ControlResult cr;
    size_t n = o->props != NULL ? o->props->count : 0;
    Clus__V1__Param *params = calloc(n + 1, sizeof(*params));
    Clus__V1__Param **ptrs = calloc(n + 1, sizeof(*ptrs));

    resp.status = o->status;
    resp.message = (char *)(o->message ? o->message : "");
    if (params != NULL && ptrs != NULL) {
        resp.result_case = CLUS__V1__RESPONSE__RESULT_CONTROL;
        resp.control = control_result(&cr, o, params, ptrs);
    }
    clus_rpc_reply(call, &resp);
    free(params);
    free(ptrs);
}

static void reply_begin(clus_rpc_call *call, uint64_t call_id, const clus_res *res)
{
    Clus__V1__Response resp = CLUS__V1__RESPONSE__INIT;
    struct agent_info info;

    resp.status = CLUS_E_IO_PENDING;
    resp.message = "accepted; the result comes as an EVENT_CONTROL_DONE event with this call_id";
    resp.call_id = call_id;
    if (res != NULL) {
        agent_info_fill(&info, res);
        resp.result_case = CLUS__V1__RESPONSE__RESULT_RESOURCE;
        resp.resource = &info.info;
    }
    clus_rpc_reply(call, &resp);
    if (res != NULL)
        agent_info_release(&info);
}

static void reply_health(clus_rpc_call *call, const clus_res_outcome *o, const clus_res *res,
                         bool cached, uint64_t age_ms)
{
    Clus__V1__Response resp = CLUS__V1__RESPONSE__INIT;
    Clus__V1__HealthResult health = CLUS__V1__HEALTH_RESULT__INIT;
    struct agent_info info;

    resp.status = o->status;
    resp.message = (char *)(o->message ? o->message : "");
    agent_info_fill(&info, res);
    health.alive = o->status == CLUS_OK && o->alive;
    health.cached = cached;
    health.age_ms = age_ms;
    health.resource = &info.info;
    resp.result_case = CLUS__V1__RESPONSE__RESULT_HEALTH;
    resp.health = &health;
    clus_rpc_reply(call, &resp);
    agent_info_release(&info);
}

/* An asynchronous control call finished: its result is an event. */
static void emit_control_done(clus_agent *agent, const clus_res *res, uint64_t call_id,
                              const clus_res_outcome *o)
{
    Clus__V1__Event ev = CLUS__V1__EVENT__INIT;
    Clus__V1__ControlResult cr;
    size_t n = o->props != NULL ? o->props->count : 0;
    Clus__V1__Param *params = calloc(n + 1, sizeof(*params));
    Clus__V1__Param **ptrs = calloc(n + 1, sizeof(*ptrs));

    ev.kind = CLUS__V1__EVENT_KIND__EVENT_CONTROL_DONE;
    ev.resource = (char *)(res != NULL ? clus_res_name(res) : "");
    ev.old_state = ev.new_state = res != NULL ? clus_res_state(res) : CLUS_STATE_UNKNOWN;
    ev.status = o->status;
    ev.message = (char *)(o->message ? o->message : "");
    ev.call_id = call_id;
    if (params != NULL && ptrs != NULL)
        ev.control = control_result(&cr, o, params, ptrs);
    agent_emit(agent, &ev);
    free(params);
    free(ptrs);
}

static void on_done(void *arg, clus_res *res, const clus_res_outcome *o)
{
    struct reply_ctx *ctx = arg;

    if (ctx->begin_id != 0)
        emit_control_done(ctx->agent, res, ctx->begin_id, o);
    else if (ctx->control)
        reply_control(ctx->call, o);
    else if (ctx->health)
        reply_health(ctx->call, o, res, false, 0);
    else
        reply_resource(ctx->call, o->status, o->message, res);
    if (ctx->close)
        agent_forget(ctx->agent, res);
    free(ctx);
}

static struct reply_ctx *reply_ctx_new(clus_agent *agent, clus_rpc_call *call)
{
    struct reply_ctx *ctx = calloc(1, sizeof(*ctx));

    if (ctx == NULL) {
        clus_rpc_reply_status(call, CLUS_E_NOT_ENOUGH_MEMORY, "out of memory");
        return NULL;
    }
    ctx->agent = agent;
    ctx->call = call;
    return ctx;
}

/* ------------------------------------------------------------ checks */

static clus_res *lookup(clus_agent *agent, clus_rpc_call *call, const char *name)
{
    clus_res *res;

    if (name == NULL || !clus_name_valid(name)) {
        clus_rpc_reply_status(call, CLUS_E_INVALID_PARAMETER,
                              "'%.64s%s' is not a valid resource name (1-%d characters of "
                              "A-Z a-z 0-9 _ . -, starting with a letter or digit)",
                              name ? name : "", name && strlen(name) > 64 ? "..." : "",
                              CLUS_NAME_MAX);
        return NULL;
    }
    res = agent_find(agent, name);
    if (res == NULL)
        clus_rpc_reply_status(call, CLUS_E_RESOURCE_NOT_FOUND, "no resource named '%s'", name);
    return res;
}

static bool flags_ok(clus_rpc_call *call, uint32_t flags, uint32_t valid, const char *what)
{
    if ((flags & ~valid) == 0)
        return true;
    clus_rpc_reply_status(call, CLUS_E_INVALID_PARAMETER,
                          "%s flags 0x%x have bits outside the defined set 0x%x", what, flags,
                          valid);
    return false;
}

/* Online/Offline are refused while the coordinator's lease has run out,
 * unless the caller says to ignore network connectivity. */
static bool lease_ok(clus_agent *agent, clus_rpc_call *call, bool ignore_network)
{
    if (ignore_network || !agent_lease_lost(agent))
        return true;
    clus_rpc_reply_status(call, CLUS_E_NETWORK_UNREACHABLE,
                          "this agent has lost its coordinator's lease (%s); pass "
                          "ignore-network-connectivity to proceed anyway",
                          agent->lease_holder);
    return false;
}

/* ------------------------------------------------------------ open/close */

static uint32_t open_params(const Clus__V1__OpenCall *c, clus_param *all, clus_params *list,
                            char *err, size_t errlen)
{
    if (c->n_params > CLUS_PARAMS_MAX) {
        snprintf(err, errlen, "at most %d parameters", CLUS_PARAMS_MAX);
        return CLUS_E_INVALID_PARAMETER;
    }
    for (size_t i = 0; i < c->n_params; i++) {
        const char *k = c->params[i]->key, *v = c->params[i]->value;
        if (!clus_param_key_valid(k)) {
            snprintf(err, errlen, "'%.64s' is not a valid parameter name", k);
            return CLUS_E_INVALID_PARAMETER;
        }
        if (strlen(v) > CLUS_PARAM_VALUE_MAX) {
            snprintf(err, errlen, "parameter %s is longer than %d bytes", k, CLUS_PARAM_VALUE_MAX);
            return CLUS_E_INVALID_PARAMETER;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(c->params[j]->key, k) == 0) {
                snprintf(err, errlen, "parameter %s is given twice", k);
                return CLUS_E_INVALID_PARAMETER;
            }
        }
        all[i] = (clus_param){k, v};
    }
    list->items = all;
    list->count = c->n_params;
    return CLUS_OK;
}

static void open_done(void *arg, clus_res *res, const clus_res_outcome *o)
{
    struct reply_ctx *ctx = arg;

    reply_resource(ctx->call, o->status, o->message, res);
    if (o->status != CLUS_OK) {
        /* Open refused: the resource never existed. */
        ctx->close = false;
        agent_forget(ctx->agent, res);
        clus_res_close(res, NULL, NULL);
    }
    free(ctx);
}

static void handle_open(clus_agent *agent, clus_rpc_call *call, const Clus__V1__OpenCall *c,
                        bool v2)
{
    clus_param all[CLUS_PARAMS_MAX], type_params[CLUS_PARAMS_MAX];
    clus_params list, tlist = {type_params, 0};
    clus_res_props props = {CLUS_RES_DEFAULT_PENDING_TIMEOUT_MS, CLUS_RES_DEFAULT_LOOKS_ALIVE_MS,
                            CLUS_RES_DEFAULT_IS_ALIVE_MS, agent->config.call_bound_ms};
    clus_type_view type;
    char err[512];
    uint32_t status;
    struct reply_ctx *ctx;
    clus_res *res;

    if (c->resource == NULL || !clus_name_valid(c->resource)) {
        lookup(agent, call, c->resource); /* answers with the naming rule */
        return;
    }
    if (!flags_ok(call, c->open_flags, v2 ? CLUS_OPEN_VALID_FLAGS : 0, "OpenV2"))
        return;
    if (agent_find(agent, c->resource) != NULL) {
        clus_rpc_reply_status(call, CLUS_E_OBJECT_ALREADY_EXISTS,
                              "a resource named '%s' is already open", c->resource);
        return;
    }
    status = open_params(c, all, &list, err, sizeof(err));
    if (status == CLUS_OK)
        status = clus_res_props_take(&list, &props, type_params, &tlist.count, err, sizeof(err));
    if (status == CLUS_OK)
        status = clus_registry_get(agent->registry, c->type ? c->type : "", CLUS_RESTYPE_VERSION_1,
                                   CLUS_RESTYPE_VERSION_1, &type, err, sizeof(err));
    if (status != CLUS_OK) {
        clus_rpc_reply_status(call, status, "%s", err);
        return;
    }
    res = agent_create(agent, c->resource, &type, &tlist, &props, err, sizeof(err));
    if (res == NULL) {
        clus_rpc_reply_status(call, CLUS_E_NOT_ENOUGH_MEMORY, "%s", err);
        return;
    }
    if ((ctx = reply_ctx_new(agent, call)) == NULL)
        return;
    clus_res_open(res, c->open_flags, CLUS_STATE_OFFLINE, 0, open_done, ctx);
}

static void handle_close(clus_agent *agent, clus_rpc_call *call, const char *name)
{
    clus_res *res = lookup(agent, call, name);
    struct reply_ctx *ctx = res ? reply_ctx_new(agent, call) : NULL;

    if (ctx == NULL)
        return;
    ctx->close = true;
    clus_res_close(res, on_done, ctx);
}

/* ------------------------------------------------------------ online/offline */

static void handle_online(clus_agent *agent, clus_rpc_call *call, const Clus__V1__OnlineCall *c,
                          bool v2)
{
    clus_res *res;
    struct reply_ctx *ctx;

    if (!flags_ok(call, c->flags, v2 ? CLUS_ONLINE_VALID_FLAGS : 0, v2 ? "OnlineV2" : "Online"))
        return;
    if ((res = lookup(agent, call, c->resource)) == NULL)
        return;
    if (!lease_ok(agent, call, c->flags & CLUS_ONLINE_IGNORE_NETWORK_CONNECTIVITY))
        return;
    if ((ctx = reply_ctx_new(agent, call)) == NULL)
        return;
    clus_res_online(res, c->flags, c->in_buffer.data, c->in_buffer.len, on_done, ctx);
}

static void handle_offline(clus_agent *agent, clus_rpc_call *call, const Clus__V1__OfflineCall *c,
                           bool v2)
{
    clus_res *res;
    struct reply_ctx *ctx;
    const char *dest = c->destination_node ? c->destination_node : "";

    if (!flags_ok(call, c->flags, v2 ? CLUS_OFFLINE_VALID_FLAGS : 0, v2 ? "OfflineV2" : "Offline"))
        return;
    if (*dest != '\0' && (!v2 || !clus_name_valid(dest))) {
        clus_rpc_reply_status(call, CLUS_E_INVALID_PARAMETER,
                              "destination_node must be a valid node name, and only with "
                              "OfflineV2");
        return;
    }
    if ((res = lookup(agent, call, c->resource)) == NULL)
        return;
    if (!lease_ok(agent, call, c->flags & CLUS_OFFLINE_IGNORE_NETWORK_CONNECTIVITY))
        return;
    if ((ctx = reply_ctx_new(agent, call)) == NULL)
        return;
    clus_res_offline(res, c->flags, dest, c->in_buffer.data, c->in_buffer.len, on_done, ctx);
}

/* ------------------------------------------------------------ simple calls */

typedef void (*res_call_fn)(clus_res *res, clus_res_done_fn done, void *ctx);

static void handle_simple(clus_agent *agent, clus_rpc_call *call, const char *name, res_call_fn fn,
                          bool health)
{
    clus_res *res = lookup(agent, call, name);
    struct reply_ctx *ctx = res ? reply_ctx_new(agent, call) : NULL;

    if (ctx == NULL)
        return;
    ctx->health = health;
    fn(res, on_done, ctx);
}

static void handle_is_alive(clus_agent *agent, clus_rpc_call *call, const Clus__V1__IsAliveCall *c)
{
    clus_res *res;
    clus_res_view v;

    if (!c->cached) {
        handle_simple(agent, call, c->resource, clus_res_is_alive, true);
        return;
    }
    if ((res = lookup(agent, call, c->resource)) == NULL)
        return;
    clus_res_view_get(res, &v);
    if (v.is_alive < 0) {
        clus_res_outcome o = {.status = CLUS_E_NOT_READY, .message = "IsAlive has not run yet"};
        reply_health(call, &o, res, true, 0);
    } else {
        clus_res_outcome o = {.status = CLUS_OK, .alive = v.is_alive == 1, .message = ""};
        reply_health(call, &o, res, true, clus_mono_ms() - v.health_at_ms);
    }
}

static void handle_cancel(clus_agent *agent, clus_rpc_call *call, const Clus__V1__CancelCall *c)
{
    clus_res *res;
    struct reply_ctx *ctx;

    if (!flags_ok(call, c->cancel_flags, 0, "Cancel"))
        return;
    if ((res = lookup(agent, call, c->resource)) == NULL)
        return;
    if ((ctx = reply_ctx_new(agent, call)) == NULL)
        return;
    clus_res_cancel(res, c->cancel_flags, on_done, ctx);
}

/* ------------------------------------------------------------ controls */

static bool control_request(clus_rpc_call *call, const Clus__V1__ControlCall *c, bool as_user,
                            clus_param *props, clus_params *list, clus_control *ctl)
{
    struct passwd pw, *found = NULL;
    char buf[4096];

    if (c->n_properties > CLUS_PARAMS_MAX) {
        clus_rpc_reply_status(call, CLUS_E_INVALID_PARAMETER, "at most %d properties",
                              CLUS_PARAMS_MAX);
        return false;
    }
    for (size_t i = 0; i < c->n_properties; i++) {
        if (!clus_param_key_valid(c->properties[i]->key)) {
            clus_rpc_reply_status(call, CLUS_E_INVALID_PARAMETER,
                                  "'%.64s' is not a valid property name", c->properties[i]->key);
            return false;
        }
        props[i] = (clus_param){c->properties[i]->key, c->properties[i]->value};
    }
    if (as_user && (c->user == NULL || *c->user == '\0' ||
                    getpwnam_r(c->user, &pw, buf, sizeof(buf), &found) != 0 || found == NULL)) {
        clus_rpc_reply_status(call, CLUS_E_INVALID_PARAMETER,
                              "the AsUser call needs 'user' naming a local user");
        return false;
    }
    *list = (clus_params){props, c->n_properties};
    *ctl = (clus_control){.code = c->control_code,
                          .in_buffer = c->in_buffer.data,
                          .in_size = c->in_buffer.len,
                          .properties = list,
                          .user = as_user ? c->user : NULL,
                          .out_size = c->out_buffer_size};
    return true;
}

static void handle_control(clus_agent *agent, clus_rpc_call *call, const Clus__V1__ControlCall *c,
                           bool begin, bool as_user)
{
    uint64_t call_id;
    clus_param props[CLUS_PARAMS_MAX];
    clus_params list;
    clus_control ctl;
    clus_res *res;
    struct reply_ctx *ctx;

    if ((c->control_code >> 24) != 0x01) {
        clus_rpc_reply_status(call, CLUS_E_INVALID_PARAMETER,
                              "0x%08x is not a resource control code (CLUSCTL_RESOURCE_*)",
                              c->control_code);
        return;
    }
    if (!control_request(call, c, as_user, props, &list, &ctl))
        return;
    if ((res = lookup(agent, call, c->resource)) == NULL)
        return;
    if ((ctx = reply_ctx_new(agent, call)) == NULL)
        return;
    ctx->control = true;
    if (!begin) {
        clus_res_control(res, &ctl, on_done, ctx);
        return;
    }
    /* Begin*: accepted now (997 and a call id), finished by an
     * EVENT_CONTROL_DONE event with the same id. The job copies the request
     * first: its buffers die with the reply. */
    call_id = ctx->begin_id = ++agent->next_call_id;
    clus_res_control(res, &ctl, on_done, ctx);
    reply_begin(call, call_id, agent_find(agent, c->resource));
}

/* ------------------------------------------------------------ type controls */

struct type_call {
    uv_work_t work;
    clus_agent *agent;
    clus_rpc_call *call;
    const clus_restype_ops *ops;
    char *type_name;
    clus_control ctl;
    void *in;
    size_t returned;
    clus_param_list props; /* what the type added */
    uint64_t begin_id;
    uint32_t status;
};

static void type_call_add(clus_control *ctl, const char *key, const char *value)
{
    struct type_call *tc = ctl->sink;

    clus_param_list_add(&tc->props, key, value);
}

static void type_call_free(struct type_call *tc)
{
    clus_param_list_free(&tc->props);
    free(tc->ctl.out);
    free(tc->in);
    free(tc->type_name);
    free(tc);
}

static void type_call_execute(uv_work_t *work)
{
    struct type_call *tc = work->data;

    tc->status = tc->ops->type_control ? tc->ops->type_control(tc->type_name, &tc->ctl)
                                       : CLUS_E_INVALID_FUNCTION;
}

/* The monitor's default for type codes the type left to it. */
static void type_call_default(struct type_call *tc)
{
    switch (tc->ctl.code) {
    case CLUSCTL_RESOURCE_TYPE_UNKNOWN:
        tc->status = CLUS_OK;
        break;
    case CLUSCTL_RESOURCE_TYPE_GET_CHARACTERISTICS:
        type_call_add(&tc->ctl, "characteristics", tc->ops->arbitrate ? "1" : "0");
        tc->status = CLUS_OK;
        break;
    case CLUSCTL_RESOURCE_TYPE_GET_ARB_TIMEOUT:
        if (tc->ops->arbitrate != NULL) {
            type_call_add(&tc->ctl, "arb_timeout_s", "60");
            tc->status = CLUS_OK;
        }
        break;
    default:
        break;
    }
}

static void type_call_done(uv_work_t *work, int status)
{
    struct type_call *tc = work->data;

    agent_cache_drop(tc->agent); /* a Begin* result is an event: last_seq moves */
    clus_params props = {tc->props.items, tc->props.count};
    clus_res_outcome o = {.status = tc->status,
                          .props = &props,
                          .out = tc->ctl.out,
                          .out_len = tc->returned,
                          .message = ""};

    if (tc->status == CLUS_E_INVALID_FUNCTION) {
        type_call_default(tc);
        o.status = tc->status;
        props.count = tc->props.count;
        props.items = tc->props.items;
        o.message = tc->status == CLUS_E_INVALID_FUNCTION ? "control code not handled" : "";
    }
    if (tc->begin_id != 0)
        emit_control_done(tc->agent, NULL, tc->begin_id, &o);
    else
        reply_control(tc->call, &o);
    tc->agent->jobs_in_flight--;
    agent_maybe_teardown(tc->agent);
    type_call_free(tc);
}

static void handle_type_control(clus_agent *agent, clus_rpc_call *call,
                                const Clus__V1__ControlCall *c, bool begin, bool as_user)
{
    clus_param props[CLUS_PARAMS_MAX];
    clus_params list;
    clus_type_view type;
    struct type_call *tc;
    char err[256];
    uint32_t status;

    if ((c->control_code >> 24) != 0x02) {
        clus_rpc_reply_status(call, CLUS_E_INVALID_PARAMETER,
                              "0x%08x is not a resource type control code", c->control_code);
        return;
    }
    if (!control_request(call, c, as_user, props, &list, &(clus_control){0}))
        return;
    status = clus_registry_get(agent->registry, c->type ? c->type : "", CLUS_RESTYPE_VERSION_1,
                               CLUS_RESTYPE_VERSION_1, &type, err, sizeof(err));
    if (status != CLUS_OK) {
        clus_rpc_reply_status(call, status, "%s", err);
        return;
    }
    tc = calloc(1, sizeof(*tc));
    if (tc == NULL || (tc->type_name = strdup(c->type)) == NULL ||
        (tc->ctl.out = calloc(1, c->out_buffer_size ? c->out_buffer_size : 65536)) == NULL) {
        if (tc != NULL)
            type_call_free(tc);
        clus_rpc_reply_status(call, CLUS_E_NOT_ENOUGH_MEMORY, "out of memory");
        return;
    }
    tc->agent = agent;
    tc->call = call;
    tc->ops = type.ops;
    tc->work.data = tc;
    tc->ctl.code = c->control_code;
    tc->ctl.out_size = c->out_buffer_size ? c->out_buffer_size : 65536;
    tc->ctl.bytes_returned = &tc->returned;
    tc->ctl.add_property = type_call_add;
    tc->ctl.sink = tc;
    /* Properties are not passed to type controls of this version. */
    if (c->in_buffer.len > 0 && (tc->in = malloc(c->in_buffer.len)) != NULL) {
        memcpy(tc->in, c->in_buffer.data, c->in_buffer.len);
        tc->ctl.in_buffer = tc->in;
        tc->ctl.in_size = c->in_buffer.len;
    }
    agent->jobs_in_flight++;
    if (begin) {
        tc->begin_id = ++agent->next_call_id;
        reply_begin(call, tc->begin_id, NULL);
    }
    if (type.loop_native) {
        type_call_execute(&tc->work);
        type_call_done(&tc->work, 0);
    } else {
        uv_queue_work(agent->loop, &tc->work, type_call_execute, type_call_done);
    }
}

/* ------------------------------------------------------------ registry */

static void fill_type(Clus__V1__TypeInfo *ti, const clus_type_view *v)
{
    clus__v1__type_info__init(ti);
    ti->name = (char *)v->name;
    ti->origin = (char *)v->origin;
    ti->version = v->ops != NULL ? v->ops->version : 0;
    ti->loop_native = v->loop_native;
}

/* Facts a loop-native type gives for the list (e.g. the OCF agents found),
 * asked with CLUSCTL_RESOURCE_TYPE_GET_INFO. Blocking types are not asked:
 * listing must not wait for them. The strings are tc's until freed. */
static struct type_call *type_info_facts(const clus_type_view *v, Clus__V1__TypeInfo *ti,
                                         Clus__V1__Param **params, Clus__V1__Param ***ptrs)
{
    struct type_call *tc;

    *params = NULL;
    *ptrs = NULL;
    if (!v->loop_native || v->ops == NULL || v->ops->type_control == NULL ||
        (tc = calloc(1, sizeof(*tc))) == NULL)
        return NULL;
    tc->ctl.code = CLUSCTL_RESOURCE_TYPE_GET_INFO;
    tc->ctl.add_property = type_call_add;
    tc->ctl.sink = tc;
    tc->ctl.bytes_returned = &tc->returned;
    if (v->ops->type_control(v->name, &tc->ctl) == CLUS_OK && tc->props.count > 0 &&
        (*params = calloc(tc->props.count, sizeof(**params))) != NULL &&
        (*ptrs = calloc(tc->props.count, sizeof(**ptrs))) != NULL) {
        for (size_t i = 0; i < tc->props.count; i++) {
            clus__v1__param__init(&(*params)[i]);
            (*params)[i].key = (char *)tc->props.items[i].key;
            (*params)[i].value = (char *)tc->props.items[i].value;
            (*ptrs)[i] = &(*params)[i];
        }
        ti->n_info = tc->props.count;
        ti->info = *ptrs;
    }
    return tc;
}

static void handle_startup(clus_agent *agent, clus_rpc_call *call, const Clus__V1__StartupCall *c)
{
    Clus__V1__Response resp = CLUS__V1__RESPONSE__INIT;
    Clus__V1__TypeInfo ti;
    clus_type_view view;
    char err[256] = "";
    uint32_t min = c->min_version ? c->min_version : CLUS_RESTYPE_VERSION_1;
    uint32_t max = c->max_version ? c->max_version : CLUS_RESTYPE_VERSION_1;

    resp.status = clus_registry_get(agent->registry, c->type ? c->type : "", min, max, &view, err,
                                    sizeof(err));
    if (resp.status == CLUS_E_RESTYPE_NOT_SUPPORTED)
        resp.status = CLUS_E_RESNAME_NOT_FOUND; /* Startup's code for an unknown name */
    resp.message = err;
    if (resp.status == CLUS_OK) {
        fill_type(&ti, &view);
        resp.result_case = CLUS__V1__RESPONSE__RESULT_TYPE_INFO;
        resp.type_info = &ti;
    }
    clus_rpc_reply(call, &resp);
}

static void handle_list_types(clus_agent *agent, clus_rpc_call *call)
{
    Clus__V1__Response resp = CLUS__V1__RESPONSE__INIT;
    Clus__V1__TypeList list = CLUS__V1__TYPE_LIST__INIT;
    size_t n = clus_registry_count(agent->registry);
    Clus__V1__TypeInfo *infos = calloc(n + 1, sizeof(*infos));
    Clus__V1__TypeInfo **ptrs = calloc(n + 1, sizeof(*ptrs));
    struct type_call **facts = calloc(n + 1, sizeof(*facts));
    Clus__V1__Param **fact_params = calloc(n + 1, sizeof(*fact_params));
    Clus__V1__Param ***fact_ptrs = calloc(n + 1, sizeof(*fact_ptrs));
    clus_type_view view;
    char err[256];

    if (infos == NULL || ptrs == NULL || facts == NULL || fact_params == NULL ||
        fact_ptrs == NULL) {
        free(facts);
        free(fact_params);
        free(fact_ptrs);
        free(infos);
        free(ptrs);
        clus_rpc_reply_status(call, CLUS_E_NOT_ENOUGH_MEMORY, "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        clus_registry_at(agent->registry, i, &view);
        /* Listing starts every type, so that its version is known. */
        clus_registry_get(agent->registry, view.name, CLUS_RESTYPE_VERSION_1,
                          CLUS_RESTYPE_VERSION_1, &view, err, sizeof(err));
        fill_type(&infos[i], &view);
        facts[i] = type_info_facts(&view, &infos[i], &fact_params[i], &fact_ptrs[i]);
        ptrs[i] = &infos[i];
    }
    list.n_types = n;
    list.types = ptrs;
    resp.result_case = CLUS__V1__RESPONSE__RESULT_TYPES;
    resp.types = &list;
    resp.message = "";
    clus_rpc_reply(call, &resp);
    for (size_t i = 0; i < n; i++) {
        if (facts[i] != NULL)
            type_call_free(facts[i]);
        free(fact_params[i]);
        free(fact_ptrs[i]);
    }
    free(facts);
    free(fact_params);
    free(fact_ptrs);
    free(infos);
    free(ptrs);
}

static void handle_load_plugin(clus_agent *agent, clus_rpc_call *call,
                               const Clus__V1__LoadPluginCall *c)
{
    char err[512] = "";
    uint32_t status;

    if (c->path == NULL || *c->path == '\0') {
        clus_rpc_reply_status(call, CLUS_E_INVALID_PARAMETER, "path is required");
        return;
    }
    status = clus_registry_load_plugin(agent->registry, agent->config.plugin_dir, c->path, err,
                                       sizeof(err));
    clus_rpc_reply_status(call, status, "%s", status == CLUS_OK ? "loaded" : err);
}

/* ------------------------------------------------------------ status */

/* The status fast path (agent_internal.h, struct agent_status_cache). */

/* Writers first: with 64 clients reading status back to back, a lock that
 * prefers readers (glibc's default) could keep the loop waiting in
 * agent_cache_drop for as long as they keep calling. */
void agent_cache_init(clus_agent *agent)
{
    pthread_rwlockattr_t attr;

    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&agent->status_cache.lock, &attr);
    pthread_rwlockattr_destroy(&attr);
}

void agent_cache_drop(clus_agent *agent)
{
    struct agent_status_cache *c = &agent->status_cache;
    Clus__V1__AgentStatus *old;

    if (c->status == NULL) /* only the loop writes it: no lock to read it here */
        return;
    pthread_rwlock_wrlock(&c->lock);
    old = c->status;
    c->status = NULL;
    pthread_rwlock_unlock(&c->lock);
    clus__v1__agent_status__free_unpacked(old, NULL);
}

void agent_cache_free(clus_agent *agent)
{
    agent_cache_drop(agent);
    pthread_rwlock_destroy(&agent->status_cache.lock);
}

/* After the loop answered a status: keep a copy of it (packed and unpacked
 * again, so that it owns all its strings) with the lease as it is now. */
static void cache_store(clus_agent *agent, const Clus__V1__AgentStatus *st)
{
    struct agent_status_cache *c = &agent->status_cache;
    Clus__V1__AgentStatus *copy = (Clus__V1__AgentStatus *)clus_pb_copy(&st->base);

    if (copy == NULL || c->status != NULL) { /* out of memory: no fast path */
        if (copy != NULL)
            clus__v1__agent_status__free_unpacked(copy, NULL);
        return;
    }
    pthread_rwlock_wrlock(&c->lock);
    c->status = copy;
    c->lease_bound = agent->lease_bound;
    c->lease_fenced = agent->lease_fenced;
    c->lease_expires_ms = agent->lease_expires_ms;
    pthread_rwlock_unlock(&c->lock);
}

/* Runs on an nng thread. A status call is answered from the cache when there
 * is one and the lease has not run out meanwhile (an agent whose lease ran
 * out fences before it answers anything: that is the loop's job, so the
 * call goes there). The fields that depend on the clock are computed now.
 * Every other call, or no cache: false, the call goes to the loop. */
bool agent_fast(void *arg, clus_rpc_call *call)
{
    clus_agent *agent = arg;
    struct agent_status_cache *c = &agent->status_cache;
    Clus__V1__Response resp = CLUS__V1__RESPONSE__INIT;
    Clus__V1__AgentStatus st;
    uint64_t now = clus_mono_ms();
    bool answered = false;

    if (clus_rpc_call_request(call)->call_case != CLUS__V1__REQUEST__CALL_STATUS)
        return false;
    pthread_rwlock_rdlock(&c->lock);
    if (c->status != NULL && !(c->lease_bound && !c->lease_fenced && now >= c->lease_expires_ms)) {
        st = *c->status; /* shallow: the strings and resources stay the cache's */
        st.lease_valid = c->lease_bound && !c->lease_fenced;
        st.lease_remaining_ms = st.lease_valid ? (uint32_t)(c->lease_expires_ms - now) : 0;
        st.uptime_ms = now - agent->started_ms;
        resp.result_case = CLUS__V1__RESPONSE__RESULT_AGENT;
        resp.agent = &st;
        resp.message = "";
        clus_rpc_reply(call, &resp); /* packed here, under the read lock */
        answered = true;
    }
    pthread_rwlock_unlock(&c->lock);
    return answered;
}

static void handle_status(clus_agent *agent, clus_rpc_call *call)
{
    Clus__V1__Response resp = CLUS__V1__RESPONSE__INIT;
    Clus__V1__AgentStatus st = CLUS__V1__AGENT_STATUS__INIT;
    size_t n = HASH_CNT(hh, agent->by_name), i = 0;
    struct agent_info *infos = calloc(n + 1, sizeof(*infos));
    Clus__V1__ResourceInfo **ptrs = calloc(n + 1, sizeof(*ptrs));
    struct agent_entry *e, *tmp;
    uint64_t now = clus_mono_ms();

    if (infos == NULL || ptrs == NULL) {
        free(infos);
        free(ptrs);
        clus_rpc_reply_status(call, CLUS_E_NOT_ENOUGH_MEMORY, "out of memory");
        return;
    }
    HASH_ITER(hh, agent->by_name, e, tmp)
    {
        agent_info_fill(&infos[i], e->res);
        ptrs[i] = &infos[i].info;
        i++;
    }
    st.version = CLUS_VERSION;
    st.boot_id = clus_events_boot_id(agent->events);
    st.last_seq = clus_events_last_seq(agent->events);
    st.lease_bound = agent->lease_bound;
    st.lease_valid = agent->lease_bound && !agent_lease_lost(agent);
    st.lease_holder = agent->lease_holder;
    st.lease_remaining_ms = st.lease_valid ? (uint32_t)(agent->lease_expires_ms - now) : 0;
    st.n_resources = n;
    st.resources = ptrs;
    st.listen_url = (char *)agent->config.listen_url;
    st.uptime_ms = now - agent->started_ms;
    resp.result_case = CLUS__V1__RESPONSE__RESULT_AGENT;
    resp.agent = &st;
    resp.message = "";
    clus_rpc_reply(call, &resp);
    cache_store(agent, &st);
    for (i = 0; i < n; i++)
        agent_info_release(&infos[i]);
    free(infos);
    free(ptrs);
}

static void handle_state(clus_agent *agent, clus_rpc_call *call, const char *name)
{
    clus_res *res = lookup(agent, call, name);

    if (res != NULL)
        reply_resource(call, CLUS_OK, "", res);
}

static void handle_lease(clus_agent *agent, clus_rpc_call *call, const Clus__V1__LeaseCall *c)
{
    Clus__V1__Response resp = CLUS__V1__RESPONSE__INIT;
    Clus__V1__LeaseResult lr = CLUS__V1__LEASE_RESULT__INIT;
    char err[256] = "";

    if (c->ttl_ms != 0 && (c->holder == NULL || *c->holder == '\0' || strlen(c->holder) > 127 ||
                           c->ttl_ms < 100 || c->ttl_ms > 600000)) {
        clus_rpc_reply_status(call, CLUS_E_INVALID_PARAMETER,
                              "a lease needs a holder (1-127 bytes) and ttl_ms in 100..600000");
        return;
    }
    resp.status =
        agent_lease_renew(agent, c->holder ? c->holder : "", c->ttl_ms, c->epoch, err, sizeof(err));
    resp.message = err;
    lr.granted = resp.status == CLUS_OK && c->ttl_ms != 0;
    lr.remaining_ms = lr.granted ? c->ttl_ms : 0;
    lr.boot_id = clus_events_boot_id(agent->events);
    lr.last_seq = clus_events_last_seq(agent->events);
    resp.result_case = CLUS__V1__RESPONSE__RESULT_LEASE;
    resp.lease = &lr;
    clus_rpc_reply(call, &resp);
}

/* ------------------------------------------------------------ watch */

static void reply_events(clus_agent *agent, clus_rpc_call *call, uint64_t after,
                         const char *resource, uint32_t max, bool boot_changed)
{
    Clus__V1__Response resp = CLUS__V1__RESPONSE__INIT;
    Clus__V1__EventBatch batch = CLUS__V1__EVENT_BATCH__INIT;
    bool gap = false;
    size_t n =
        boot_changed ? 0 : clus_events_collect(agent->events, after, resource, NULL, max, &gap);
    /* the wire events and the array of pointers to them, in one block */
    Clus__V1__Event **event_ptrs =
        n > 0 ? calloc(n, sizeof(*event_ptrs) + sizeof(**event_ptrs)) : NULL;
    Clus__V1__Event *events = event_ptrs != NULL ? (Clus__V1__Event *)(event_ptrs + n) : NULL;

    if (n > 0 && event_ptrs == NULL) {
        clus_rpc_reply_status(call, CLUS_E_NOT_ENOUGH_MEMORY, "out of memory");
        return;
    }
    if (n > 0)
        clus_events_collect(agent->events, after, resource, events, n, &gap);
    for (size_t i = 0; i < n; i++)
        event_ptrs[i] = &events[i];
    batch.events = event_ptrs;
    batch.n_events = n;
    batch.boot_id = clus_events_boot_id(agent->events);
    batch.last_seq = clus_events_last_seq(agent->events);
    batch.gap = gap || boot_changed;
    resp.result_case = CLUS__V1__RESPONSE__RESULT_EVENTS;
    resp.events = &batch;
    resp.message = "";
    clus_rpc_reply(call, &resp);
    free(event_ptrs);
}

static void watcher_unlink(clus_agent *agent, struct agent_watcher *w)
{
    struct agent_watcher **pp = &agent->watchers;

    while (*pp != NULL && *pp != w)
        pp = &(*pp)->next;
    if (*pp == w)
        *pp = w->next;
    agent->watcher_count--;
}

static void watcher_closed(uv_handle_t *handle)
{
    free(handle->data);
}

static void watcher_finish(struct agent_watcher *w)
{
    watcher_unlink(w->agent, w);
    reply_events(w->agent, w->call, w->after, w->resource, w->max, false);
    uv_close((uv_handle_t *)&w->timer, watcher_closed);
}

static void watcher_timeout(uv_timer_t *timer)
{
    struct agent_watcher *w = timer->data;

    agent_cache_drop(w->agent); /* changes nothing, but every callback drops */
    watcher_finish(w);
}

void agent_watchers_drop(clus_agent *agent)
{
    while (agent->watchers != NULL)
        watcher_finish(agent->watchers);
}

static void handle_watch(clus_agent *agent, clus_rpc_call *call, const Clus__V1__WatchCall *c)
{
    uint32_t max = c->max_events ? c->max_events : WATCH_DEFAULT_EVENTS;
    const char *resource = c->resource ? c->resource : "";
    bool boot_changed = c->boot_id != 0 && c->boot_id != clus_events_boot_id(agent->events);
    bool gap = false;
    struct agent_watcher *w;

    if (max > WATCH_MAX_EVENTS || c->wait_ms > WATCH_MAX_WAIT_MS ||
        (*resource != '\0' && !clus_name_valid(resource))) {
        clus_rpc_reply_status(call, CLUS_E_INVALID_PARAMETER,
                              "watch: max_events <= %d, wait_ms <= %d, resource a valid name",
                              WATCH_MAX_EVENTS, WATCH_MAX_WAIT_MS);
        return;
    }
    /* Park only when there is nothing to say yet, and never more watchers
     * than half the contexts, so that other calls always find one. */
    if (boot_changed || c->wait_ms == 0 ||
        clus_events_collect(agent->events, c->after_seq, resource, NULL, 1, &gap) > 0 || gap ||
        agent->watcher_count >= (agent->config.contexts ? agent->config.contexts : 128) / 2) {
        reply_events(agent, call, c->after_seq, resource, max, boot_changed);
        return;
    }
    if ((w = calloc(1, sizeof(*w))) == NULL) {
        clus_rpc_reply_status(call, CLUS_E_NOT_ENOUGH_MEMORY, "out of memory");
        return;
    }
    w->agent = agent;
    w->call = call;
    w->after = c->after_seq;
    w->max = max;
    snprintf(w->resource, sizeof(w->resource), "%s", resource);
    uv_timer_init(agent->loop, &w->timer);
    w->timer.data = w;
    uv_timer_start(&w->timer, watcher_timeout, c->wait_ms, 0);
    w->next = agent->watchers;
    agent->watchers = w;
    agent->watcher_count++;
}

uint64_t agent_emit(clus_agent *agent, const Clus__V1__Event *ev)
{
    uint64_t seq = clus_events_append(agent->events, ev);
    struct agent_watcher *w = agent->watchers, *next;

    for (; w != NULL; w = next) {
        next = w->next;
        if (w->resource[0] == '\0' || strcmp(w->resource, ev->resource) == 0)
            watcher_finish(w);
    }
    return seq;
}

/* ------------------------------------------------------------ dispatch */

static void dispatch_resource_call(clus_agent *agent, clus_rpc_call *call,
                                   const Clus__V1__Request *r)
{
    switch (r->call_case) {
    case CLUS__V1__REQUEST__CALL_CLOSE:
        handle_close(agent, call, r->close->resource);
        break;
    case CLUS__V1__REQUEST__CALL_TERMINATE:
        handle_simple(agent, call, r->terminate->resource, clus_res_terminate, false);
        break;
    case CLUS__V1__REQUEST__CALL_LOOKS_ALIVE:
        handle_simple(agent, call, r->looks_alive->resource, clus_res_looks_alive, true);
        break;
    case CLUS__V1__REQUEST__CALL_IS_ALIVE:
        handle_is_alive(agent, call, r->is_alive);
        break;
    case CLUS__V1__REQUEST__CALL_ARBITRATE:
        handle_simple(agent, call, r->arbitrate->resource, clus_res_arbitrate, false);
        break;
    case CLUS__V1__REQUEST__CALL_RELEASE:
        handle_simple(agent, call, r->release->resource, clus_res_release, false);
        break;
    case CLUS__V1__REQUEST__CALL_CANCEL:
        handle_cancel(agent, call, r->cancel);
        break;
    case CLUS__V1__REQUEST__CALL_STATE:
        handle_state(agent, call, r->state->resource);
        break;
    default:
        clus_rpc_reply_status(call, CLUS_E_INVALID_FUNCTION, "unknown call %d", r->call_case);
        break;
    }
}

static void dispatch_control(clus_agent *agent, clus_rpc_call *call, const Clus__V1__Request *r)
{
    switch (r->call_case) {
    case CLUS__V1__REQUEST__CALL_RESOURCE_CONTROL:
        handle_control(agent, call, r->resource_control, false, false);
        break;
    case CLUS__V1__REQUEST__CALL_BEGIN_RESOURCE_CONTROL:
        handle_control(agent, call, r->begin_resource_control, true, false);
        break;
    case CLUS__V1__REQUEST__CALL_BEGIN_RESOURCE_CONTROL_AS_USER:
        handle_control(agent, call, r->begin_resource_control_as_user, true, true);
        break;
    case CLUS__V1__REQUEST__CALL_RESOURCE_TYPE_CONTROL:
        handle_type_control(agent, call, r->resource_type_control, false, false);
        break;
    case CLUS__V1__REQUEST__CALL_BEGIN_RESOURCE_TYPE_CONTROL:
        handle_type_control(agent, call, r->begin_resource_type_control, true, false);
        break;
    case CLUS__V1__REQUEST__CALL_BEGIN_RESOURCE_TYPE_CONTROL_AS_USER:
        handle_type_control(agent, call, r->begin_resource_type_control_as_user, true, true);
        break;
    default:
        dispatch_resource_call(agent, call, r);
        break;
    }
}

void agent_dispatch(void *arg, clus_rpc_call *call)
{
    clus_agent *agent = arg;
    const Clus__V1__Request *r = clus_rpc_call_request(call);

    agent_cache_drop(agent); /* before anything changes or is answered */
    if (agent->stopping) {
        clus_rpc_reply_status(call, CLUS_E_RESMON_INVALID_STATE, "the agent is stopping");
        return;
    }
    agent_lease_check(agent); /* fence first, answer after */
    switch (r->call_case) {
    case CLUS__V1__REQUEST__CALL_OPEN:
    case CLUS__V1__REQUEST__CALL_OPEN_V2:
        handle_open(agent, call, r->open ? r->open : r->open_v2,
                    r->call_case == CLUS__V1__REQUEST__CALL_OPEN_V2);
        break;
    case CLUS__V1__REQUEST__CALL_ONLINE:
        handle_online(agent, call, r->online, false);
        break;
    case CLUS__V1__REQUEST__CALL_ONLINE_V2:
        handle_online(agent, call, r->online_v2, true);
        break;
    case CLUS__V1__REQUEST__CALL_OFFLINE:
        handle_offline(agent, call, r->offline, false);
        break;
    case CLUS__V1__REQUEST__CALL_OFFLINE_V2:
        handle_offline(agent, call, r->offline_v2, true);
        break;
    case CLUS__V1__REQUEST__CALL_STARTUP:
        handle_startup(agent, call, r->startup);
        break;
    case CLUS__V1__REQUEST__CALL_STARTUP_EX:
        handle_startup(agent, call, r->startup_ex);
        break;
    case CLUS__V1__REQUEST__CALL_LIST_TYPES:
        handle_list_types(agent, call);
        break;
    case CLUS__V1__REQUEST__CALL_LOAD_PLUGIN:
        handle_load_plugin(agent, call, r->load_plugin);
        break;
    case CLUS__V1__REQUEST__CALL_STATUS:
        handle_status(agent, call);
        break;
    case CLUS__V1__REQUEST__CALL_WATCH:
        handle_watch(agent, call, r->watch);
        break;
    case CLUS__V1__REQUEST__CALL_LEASE:
        handle_lease(agent, call, r->lease);
        break;
    default:
        dispatch_control(agent, call, r);
        break;
    }
}
