/*
 * client.c - libclus-client: one typed function per call, over the common
 * rpc client. Replies keep the decoded protobuf; json.c renders them.
 */
#include "client_internal.h"

#include "clock.h"
#include "names.h"
#include "rpc_client.h"
#include "status.h"

#include <clus/restype.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct clus_client {
    clus_rpc_client *rpc;
    uint32_t timeout_ms;
};

/* The options' TLS files, or NULL when they name none (then a process
 * identity set by the program, if any, is used: clusctl sets one). */
static const clus_tls_files *client_tls_files(const clus_client_options *options,
                                              clus_tls_files *files)
{
    if (options == NULL ||
        (options->tls_ca == NULL && options->tls_cert == NULL && options->tls_key == NULL))
        return NULL;
    *files = (clus_tls_files){options->tls_ca, options->tls_cert, options->tls_key};
    return files;
}

uint32_t clus_client_connect(const char *url, const clus_client_options *options, clus_client **out,
                             char *err, size_t errlen)
{
    clus_client *c = calloc(1, sizeof(*c));
    clus_tls_files tls;
    uint32_t status;

    if (c == NULL)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    c->timeout_ms = options && options->timeout_ms ? options->timeout_ms : 10000;
    status = clus_rpc_client_open_tls(url, options && options->lazy_connect ? 0 : c->timeout_ms,
                                      client_tls_files(options, &tls), &c->rpc, err, errlen);
    if (status != CLUS_OK) {
        free(c);
        return status;
    }
    *out = c;
    return CLUS_OK;
}

void clus_client_close(clus_client *client)
{
    if (client == NULL)
        return;
    clus_rpc_client_close(client->rpc);
    free(client);
}

static clus_reply *reply_new(uint32_t status, const char *message, Clus__V1__Response *resp)
{
    clus_reply *r = calloc(1, sizeof(*r));

    if (r == NULL) {
        if (resp != NULL)
            clus__v1__response__free_unpacked(resp, NULL);
        return NULL;
    }
    r->status = status;
    r->message = strdup(message ? message : "");
    r->resp = resp;
    return r;
}

/* Sends req with the given timeout; the reply (or the transport error) goes
 * to *reply. Returns the call's status. */
static uint32_t call_timeout(clus_client *c, Clus__V1__Request *req, uint32_t timeout_ms,
                             clus_reply **reply)
{
    Clus__V1__Response *resp = NULL;
    char err[256] = "";
    uint32_t status = clus_rpc_client_call(c->rpc, req, &resp, timeout_ms, err, sizeof(err));
    clus_reply *r;

    if (status == CLUS_OK) {
        status = resp->status;
        r = reply_new(status, resp->message, resp);
    } else {
        r = reply_new(status, err, NULL);
    }
    if (reply != NULL)
        *reply = r;
    else
        clus_reply_free(r);
    return status;
}

static uint32_t call(clus_client *c, Clus__V1__Request *req, clus_reply **reply)
{
    return call_timeout(c, req, c->timeout_ms, reply);
}

/* "k=v" strings into Param messages (arrays owned by the caller). */
static uint32_t params_from_strings(const char *const *kv, Clus__V1__Param *params,
                                    Clus__V1__Param **ptrs, char **copies, size_t max,
                                    size_t *count, clus_reply **reply)
{
    size_t n = 0;

    for (; kv != NULL && kv[n] != NULL; n++) {
        char *eq;
        if (n == max || (copies[n] = strdup(kv[n])) == NULL ||
            (eq = strchr(copies[n], '=')) == NULL) {
            if (n < max)
                free(copies[n]);
            *count = n;
            if (reply != NULL)
                *reply = reply_new(CLUS_E_INVALID_PARAMETER,
                                   "parameters must be key=value (at most 64)", NULL);
            return CLUS_E_INVALID_PARAMETER;
        }
        *eq = '\0';
        clus__v1__param__init(&params[n]);
        params[n].key = copies[n];
        params[n].value = eq + 1;
        ptrs[n] = &params[n];
    }
    *count = n;
    return CLUS_OK;
}

static void free_copies(char **copies, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(copies[i]);
}

#define MAX_KV 64

uint32_t clus_open(clus_client *c, const char *name, const char *type, const char *const *params,
                   uint32_t open_flags, bool v2, clus_reply **reply)
{
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
    Clus__V1__OpenCall open = CLUS__V1__OPEN_CALL__INIT;
    Clus__V1__Param p[MAX_KV], *ptrs[MAX_KV];
    char *copies[MAX_KV];
    size_t n = 0;
    uint32_t status = params_from_strings(params, p, ptrs, copies, MAX_KV, &n, reply);

    if (status == CLUS_OK) {
        open.resource = (char *)name;
        open.type = (char *)type;
        open.params = ptrs;
        open.n_params = n;
        open.open_flags = open_flags;
        req.call_case = v2 ? CLUS__V1__REQUEST__CALL_OPEN_V2 : CLUS__V1__REQUEST__CALL_OPEN;
        if (v2)
            req.open_v2 = &open;
        else
            req.open = &open;
        status = call(c, &req, reply);
    }
    free_copies(copies, n);
    return status;
}

/* Calls whose argument is only a resource name. */
static uint32_t call_ref(clus_client *c, Clus__V1__Request__CallCase which, const char *name,
                         clus_reply **reply)
{
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
    Clus__V1__ResourceRef ref = CLUS__V1__RESOURCE_REF__INIT;

    ref.resource = (char *)name;
    req.call_case = which;
    switch (which) {
    case CLUS__V1__REQUEST__CALL_CLOSE:
        req.close = &ref;
        break;
    case CLUS__V1__REQUEST__CALL_TERMINATE:
        req.terminate = &ref;
        break;
    case CLUS__V1__REQUEST__CALL_LOOKS_ALIVE:
        req.looks_alive = &ref;
        break;
    case CLUS__V1__REQUEST__CALL_ARBITRATE:
        req.arbitrate = &ref;
        break;
    case CLUS__V1__REQUEST__CALL_RELEASE:
        req.release = &ref;
        break;
    default:
        req.state = &ref;
        break;
    }
    return call(c, &req, reply);
}

uint32_t clus_close_resource(clus_client *c, const char *name, clus_reply **reply)
{
    return call_ref(c, CLUS__V1__REQUEST__CALL_CLOSE, name, reply);
}

uint32_t clus_terminate(clus_client *c, const char *name, clus_reply **reply)
{
    return call_ref(c, CLUS__V1__REQUEST__CALL_TERMINATE, name, reply);
}

uint32_t clus_looks_alive(clus_client *c, const char *name, clus_reply **reply)
{
    return call_ref(c, CLUS__V1__REQUEST__CALL_LOOKS_ALIVE, name, reply);
}

uint32_t clus_arbitrate(clus_client *c, const char *name, clus_reply **reply)
{
    return call_ref(c, CLUS__V1__REQUEST__CALL_ARBITRATE, name, reply);
}

uint32_t clus_release(clus_client *c, const char *name, clus_reply **reply)
{
    return call_ref(c, CLUS__V1__REQUEST__CALL_RELEASE, name, reply);
}

uint32_t clus_state(clus_client *c, const char *name, clus_reply **reply)
{
    return call_ref(c, CLUS__V1__REQUEST__CALL_STATE, name, reply);
}

uint32_t clus_online(clus_client *c, const char *name, uint32_t flags, bool v2, clus_reply **reply)
{
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
    Clus__V1__OnlineCall on = CLUS__V1__ONLINE_CALL__INIT;

    on.resource = (char *)name;
    on.flags = flags;
    req.call_case = v2 ? CLUS__V1__REQUEST__CALL_ONLINE_V2 : CLUS__V1__REQUEST__CALL_ONLINE;
    if (v2)
        req.online_v2 = &on;
    else
        req.online = &on;
    return call(c, &req, reply);
}

uint32_t clus_offline(clus_client *c, const char *name, uint32_t flags, const char *destination,
                      bool v2, clus_reply **reply)
{
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
    Clus__V1__OfflineCall off = CLUS__V1__OFFLINE_CALL__INIT;

    off.resource = (char *)name;
    off.flags = flags;
    off.destination_node = (char *)(destination ? destination : "");
    req.call_case = v2 ? CLUS__V1__REQUEST__CALL_OFFLINE_V2 : CLUS__V1__REQUEST__CALL_OFFLINE;
    if (v2)
        req.offline_v2 = &off;
    else
        req.offline = &off;
    return call(c, &req, reply);
}

uint32_t clus_is_alive(clus_client *c, const char *name, bool cached, clus_reply **reply)
{
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
    Clus__V1__IsAliveCall ia = CLUS__V1__IS_ALIVE_CALL__INIT;

    ia.resource = (char *)name;
    ia.cached = cached;
    req.call_case = CLUS__V1__REQUEST__CALL_IS_ALIVE;
    req.is_alive = &ia;
    return call(c, &req, reply);
}

uint32_t clus_cancel(clus_client *c, const char *name, clus_reply **reply)
{
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
    Clus__V1__CancelCall cc = CLUS__V1__CANCEL_CALL__INIT;

    cc.resource = (char *)name;
    req.call_case = CLUS__V1__REQUEST__CALL_CANCEL;
    req.cancel = &cc;
    return call(c, &req, reply);
}

static void control_set_case(Clus__V1__Request *req, Clus__V1__ControlCall *cc, bool type,
                             enum clus_control_mode mode)
{
    static const Clus__V1__Request__CallCase cases[2][3] = {
        {CLUS__V1__REQUEST__CALL_RESOURCE_CONTROL, CLUS__V1__REQUEST__CALL_BEGIN_RESOURCE_CONTROL,
         CLUS__V1__REQUEST__CALL_BEGIN_RESOURCE_CONTROL_AS_USER},
        {CLUS__V1__REQUEST__CALL_RESOURCE_TYPE_CONTROL,
         CLUS__V1__REQUEST__CALL_BEGIN_RESOURCE_TYPE_CONTROL,
         CLUS__V1__REQUEST__CALL_BEGIN_RESOURCE_TYPE_CONTROL_AS_USER}};
    Clus__V1__ControlCall **slots[2][3] = {{&req->resource_control, &req->begin_resource_control,
                                            &req->begin_resource_control_as_user},
                                           {&req->resource_type_control,
                                            &req->begin_resource_type_control,
                                            &req->begin_resource_type_control_as_user}};

    req->call_case = cases[type][mode];
    *slots[type][mode] = cc;
}

uint32_t clus_resource_control(clus_client *c, const char *name, uint32_t code,
                               const char *const *props, const void *in, size_t in_len,
                               enum clus_control_mode mode, const char *user, clus_reply **reply)
{
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
    Clus__V1__ControlCall cc = CLUS__V1__CONTROL_CALL__INIT;
    Clus__V1__Param p[MAX_KV], *ptrs[MAX_KV];
    char *copies[MAX_KV];
    size_t n = 0;
    uint32_t status = params_from_strings(props, p, ptrs, copies, MAX_KV, &n, reply);

    if (status == CLUS_OK) {
        cc.resource = (char *)name;
        cc.control_code = code;
        cc.properties = ptrs;
        cc.n_properties = n;
        cc.in_buffer.data = (uint8_t *)in;
        cc.in_buffer.len = in_len;
        cc.user = (char *)(user ? user : "");
        control_set_case(&req, &cc, false, mode);
        status = call(c, &req, reply);
    }
    free_copies(copies, n);
    return status;
}

uint32_t clus_type_control(clus_client *c, const char *type, uint32_t code,
                           enum clus_control_mode mode, const char *user, clus_reply **reply)
{
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
    Clus__V1__ControlCall cc = CLUS__V1__CONTROL_CALL__INIT;

    cc.type = (char *)type;
    cc.control_code = code;
    cc.user = (char *)(user ? user : "");
    control_set_case(&req, &cc, true, mode);
    return call(c, &req, reply);
}

uint32_t clus_status(clus_client *c, clus_reply **reply)
{
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
    Clus__V1__AgentStatusCall st = CLUS__V1__AGENT_STATUS_CALL__INIT;

    req.call_case = CLUS__V1__REQUEST__CALL_STATUS;
    req.status = &st;
    return call(c, &req, reply);
}

uint32_t clus_types(clus_client *c, clus_reply **reply)
{
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
    Clus__V1__ListTypesCall lt = CLUS__V1__LIST_TYPES_CALL__INIT;

    req.call_case = CLUS__V1__REQUEST__CALL_LIST_TYPES;
    req.list_types = &lt;
    return call(c, &req, reply);
}

uint32_t clus_startup(clus_client *c, const char *type, uint32_t min_version, uint32_t max_version,
                      bool ex, clus_reply **reply)
{
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
    Clus__V1__StartupCall su = CLUS__V1__STARTUP_CALL__INIT;

    su.type = (char *)type;
    su.min_version = min_version;
    su.max_version = max_version;
    req.call_case = ex ? CLUS__V1__REQUEST__CALL_STARTUP_EX : CLUS__V1__REQUEST__CALL_STARTUP;
    if (ex)
        req.startup_ex = &su;
    else
        req.startup = &su;
    return call(c, &req, reply);
}

uint32_t clus_load_plugin(clus_client *c, const char *path, clus_reply **reply)
{
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
    Clus__V1__LoadPluginCall lp = CLUS__V1__LOAD_PLUGIN_CALL__INIT;

    lp.path = (char *)path;
    req.call_case = CLUS__V1__REQUEST__CALL_LOAD_PLUGIN;
    req.load_plugin = &lp;
    return call(c, &req, reply);
}

uint32_t clus_lease(clus_client *c, const char *holder, uint32_t ttl_ms, uint64_t epoch,
                    clus_reply **reply)
{
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
    Clus__V1__LeaseCall lc = CLUS__V1__LEASE_CALL__INIT;

    lc.holder = (char *)holder;
    lc.ttl_ms = ttl_ms;
    lc.epoch = epoch;
    req.call_case = CLUS__V1__REQUEST__CALL_LEASE;
    req.lease = &lc;
    return call(c, &req, reply);
}

uint32_t clus_watch(clus_client *c, uint64_t after_seq, uint64_t boot_id, uint32_t wait_ms,
                    const char *resource, clus_reply **reply)
{
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
    Clus__V1__WatchCall w = CLUS__V1__WATCH_CALL__INIT;

    w.after_seq = after_seq;
    w.boot_id = boot_id;
    w.wait_ms = wait_ms;
    w.resource = (char *)(resource ? resource : "");
    req.call_case = CLUS__V1__REQUEST__CALL_WATCH;
    req.watch = &w;
    return call_timeout(c, &req, wait_ms + c->timeout_ms, reply);
}

static bool state_final(int state)
{
    return state == CLUS_STATE_ONLINE || state == CLUS_STATE_OFFLINE ||
           state == CLUS_STATE_FAILED || state == CLUS_STATE_UNKNOWN;
}

/* Looks through a batch for the event that ends the wait. */
static const Clus__V1__Event *wait_match(const Clus__V1__EventBatch *batch, const char *name,
                                         uint64_t call_id)
{
    for (size_t i = 0; i < batch->n_events; i++) {
        const Clus__V1__Event *ev = batch->events[i];
        if (call_id != 0
                ? (ev->kind == CLUS__V1__EVENT_KIND__EVENT_CONTROL_DONE && ev->call_id == call_id)
                : (name != NULL && strcmp(ev->resource, name) == 0 &&
                   ev->kind == CLUS__V1__EVENT_KIND__EVENT_STATE && state_final(ev->new_state)))
            return ev;
    }
    return NULL;
}

/* Keeps only ev in the batch r (the others are freed). */
static void batch_keep_only(clus_reply *r, const Clus__V1__Event *ev)
{
    Clus__V1__EventBatch *batch = r->resp->events;

    for (size_t i = 0; i < batch->n_events; i++) {
        if (batch->events[i] != ev)
            clus__v1__event__free_unpacked(batch->events[i], NULL);
    }
    batch->events[0] = (Clus__V1__Event *)ev;
    batch->n_events = 1;
}

/* The wait is over: the reply is the resource as it now is (or, for a
 * control call, its completion event), with the status of the completion. */
static uint32_t wait_matched(clus_client *c, const char *name, clus_reply *r,
                             const Clus__V1__Event *ev, clus_reply **reply)
{
    uint32_t result = ev->status == CLUS_E_IO_PENDING ? CLUS_OK : ev->status;
    char *message = strdup(ev->message);
    clus_reply *out = r;
    uint32_t status;

    if (name != NULL) {
        status = clus_state(c, name, &out);
        clus_reply_free(r);
        if (status != CLUS_OK) {
            free(message);
            if (reply != NULL)
                *reply = out;
            else
                clus_reply_free(out);
            return status;
        }
    } else {
        batch_keep_only(r, ev);
    }
    out->status = result;
    if (message != NULL) {
        free(out->message);
        out->message = message;
    }
    if (reply != NULL)
        *reply = out;
    else
        clus_reply_free(out);
    return result;
}

static uint32_t wait_event(clus_client *c, const char *name, uint64_t call_id, uint64_t after,
                           uint32_t timeout_ms, clus_reply **reply)
{
    uint64_t deadline = clus_mono_ms() + timeout_ms, boot = 0;
    clus_reply *r = NULL;

    for (;;) {
        uint64_t now = clus_mono_ms();
        uint32_t status;
        const Clus__V1__Event *ev;
        if (now >= deadline)
            break;
        status =
            clus_watch(c, after, boot, (uint32_t)(deadline - now > 30000 ? 30000 : deadline - now),
                       call_id ? NULL : name, &r);
        if (status != CLUS_OK || r->resp == NULL ||
            r->resp->result_case != CLUS__V1__RESPONSE__RESULT_EVENTS)
            break;
        if (r->resp->events->gap) /* missed events: the state call tells the truth */
            break;
        if ((ev = wait_match(r->resp->events, name, call_id)) != NULL)
            return wait_matched(c, name, r, ev, reply);
        boot = r->resp->events->boot_id;
        after = r->resp->events->last_seq;
        clus_reply_free(r);
        r = NULL;
    }
    clus_reply_free(r);
    r = NULL;
    if (call_id == 0 && clus_state(c, name, &r) == CLUS_OK && state_final(clus_reply_state(r))) {
        uint32_t result =
            clus_reply_state(r) == CLUS_STATE_FAILED ? CLUS_E_RESOURCE_FAILED : CLUS_OK;
        if (reply != NULL)
            *reply = r;
        else
            clus_reply_free(r);
        return result;
    }
    clus_reply_free(r);
    if (reply != NULL)
        *reply = reply_new(CLUS_E_TIMEOUT, "the operation did not finish in time", NULL);
    return CLUS_E_TIMEOUT;
}

uint32_t clus_wait(clus_client *c, const char *name, uint64_t after_seq, uint32_t timeout_ms,
                   clus_reply **reply)
{
    return wait_event(c, name, 0, after_seq, timeout_ms, reply);
}

uint32_t clus_wait_control(clus_client *c, uint64_t call_id, uint64_t after_seq,
                           uint32_t timeout_ms, clus_reply **reply)
{
    return wait_event(c, NULL, call_id, after_seq, timeout_ms, reply);
}

/* ------------------------------------------------------------ replies */

static const Clus__V1__ResourceInfo *reply_info(const clus_reply *r)
{
    if (r == NULL || r->resp == NULL)
        return NULL;
    if (r->resp->result_case == CLUS__V1__RESPONSE__RESULT_RESOURCE)
        return r->resp->resource;
    if (r->resp->result_case == CLUS__V1__RESPONSE__RESULT_HEALTH)
        return r->resp->health->resource;
    return NULL;
}

uint32_t clus_reply_status(const clus_reply *r)
{
    return r != NULL ? r->status : CLUS_E_NOT_ENOUGH_MEMORY;
}

const char *clus_reply_message(const clus_reply *r)
{
    return r != NULL ? r->message : "out of memory";
}

const char *clus_reply_resource(const clus_reply *r)
{
    const Clus__V1__ResourceInfo *info = reply_info(r);

    return info != NULL ? info->name : NULL;
}

int clus_reply_state(const clus_reply *r)
{
    const Clus__V1__ResourceInfo *info = reply_info(r);

    return info != NULL ? info->state : CLUS_STATE_UNKNOWN;
}

bool clus_reply_alive(const clus_reply *r)
{
    return r != NULL && r->resp != NULL &&
           r->resp->result_case == CLUS__V1__RESPONSE__RESULT_HEALTH && r->resp->health->alive;
}

uint64_t clus_reply_seq(const clus_reply *r)
{
    const Clus__V1__ResourceInfo *info = reply_info(r);

    return info != NULL ? info->seq : 0;
}

uint64_t clus_reply_call_id(const clus_reply *r)
{
    return r != NULL && r->resp != NULL ? r->resp->call_id : 0;
}

void clus_reply_free(clus_reply *r)
{
    if (r == NULL)
        return;
    if (r->resp != NULL)
        clus__v1__response__free_unpacked(r->resp, NULL);
    free(r->message);
    free(r);
}

const char *clus_state_to_name(int state)
{
    return clus_state_name(state);
}

const char *clus_status_to_name(uint32_t status)
{
    return clus_status_name(status);
}
