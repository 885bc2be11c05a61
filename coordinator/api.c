/*
 * api.c - the coordinator's RPC server: coordinator.proto over
 * common/rpc_server in raw mode (frames decoded here, on the loop thread,
 * where all state lives). Bad input gets 87 (1 for an unknown call) with
 * the reason and changes nothing. `watch` calls are parked until an event
 * or their wait ends, never more than half the contexts.
 */
#include "coord_internal.h"

#include "clock.h"
#include "log.h"
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API_CONTEXTS       64
#define API_MAX_MESSAGE    (64u << 10)
#define API_WATCH_MAX      1024
#define API_WATCH_DEFAULT  256
#define API_WATCH_MAX_WAIT 60000

struct coord_watcher {
    clus_rpc_call *call;
    uint64_t request_id;
    uint64_t after;
    uint32_t max;
    uint64_t deadline_ms;
    struct coord_watcher *next;
};

/* ------------------------------------------------------------ replies */

static void reply(clus_rpc_call *call, uint64_t request_id, Clus__V1__CoordResponse *resp)
{
    size_t len;
    uint8_t *frame;

    resp->request_id = request_id;
    if (resp->message == NULL)
        resp->message = "";
    len = clus__v1__coord_response__get_packed_size(resp);
    if ((frame = malloc(len ? len : 1)) == NULL) {
        clus_error("coordinator rpc: out of memory for a %zu-byte reply", len);
        clus_rpc_reply_frame(call, "", 0);
        return;
    }
    clus__v1__coord_response__pack(resp, frame);
    clus_rpc_reply_frame(call, frame, len);
    free(frame);
}

static void reply_status(clus_rpc_call *call, uint64_t request_id, uint32_t status, const char *fmt,
                         ...) __attribute__((format(printf, 4, 5)));

static void reply_status(clus_rpc_call *call, uint64_t request_id, uint32_t status, const char *fmt,
                         ...)
{
    Clus__V1__CoordResponse resp = CLUS__V1__COORD_RESPONSE__INIT;
    char message[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    resp.status = status;
    resp.message = message;
    reply(call, request_id, &resp);
}

/* ------------------------------------------------------------ status */

struct res_text {
    char operation[256];
};

static void fill_resource(const struct cres *r, Clus__V1__CoordResourceInfo *info,
                          struct res_text *text)
{
    clus_pol_snapshot snap;
    uint64_t now = clus_mono_ms(), due;

    clus_pol_state_get(r->pol, &snap);
    clus__v1__coord_resource_info__init(info);
    info->name = (char *)r->def->name;
    info->type = (char *)r->def->type;
    info->owner = (char *)(r->owner >= 0 ? r->co->nodes[r->owner].def->name : "");
    info->state = r->state;
    info->status = r->last_status;
    info->message = (char *)r->last_message;
    info->restarts = snap.restarts;
    info->failovers = snap.failovers;
    info->failures = snap.failures;
    info->desired_online = r->desired_online;
    info->operation = (char *)co_res_operation(r, text->operation, sizeof(text->operation));
    info->policy_state = (char *)clus_pol_phase_name(snap.phase);
    if (r->op == OP_ONLINE && r->step == STEP_DELAY && r->step_at > now) {
        info->policy_state = "restart-wait";
        info->due_in_ms = r->step_at - now;
    } else if ((due = clus_pol_due_ms(r->pol)) != 0) {
        info->due_in_ms = due > now ? due - now : 0;
    }
}

static void fill_node(const struct cnode *n, Clus__V1__CoordNodeInfo *info, uint64_t now)
{
    clus__v1__coord_node_info__init(info);
    info->name = (char *)n->def->name;
    info->agent = (char *)n->def->agent;
    info->state = (char *)co_node_state_name(n);
    info->draining = n->draining;
    info->reachable = n->reachable;
    info->boot_id = n->boot_id;
    info->last_ack_age_ms = now - n->ack_ms;
    info->fenced = n->phase == NODE_DOWN;
}

static void handle_status(clus_coordinator *co, clus_rpc_call *call, uint64_t id)
{
    Clus__V1__CoordResponse resp = CLUS__V1__COORD_RESPONSE__INIT;
    Clus__V1__CoordStatus st = CLUS__V1__COORD_STATUS__INIT;
    Clus__V1__CoordNodeInfo *nodes = calloc(co->n_nodes + 1, sizeof(*nodes));
    Clus__V1__CoordNodeInfo **node_ptrs = calloc(co->n_nodes + 1, sizeof(*node_ptrs));
    Clus__V1__CoordResourceInfo *res = calloc(co->n_res + 1, sizeof(*res));
    Clus__V1__CoordResourceInfo **res_ptrs = calloc(co->n_res + 1, sizeof(*res_ptrs));
    struct res_text *text = calloc(co->n_res + 1, sizeof(*text));
    uint64_t now = clus_mono_ms();

    if (nodes && node_ptrs && res && res_ptrs && text) {
        for (size_t i = 0; i < co->n_nodes; i++) {
            fill_node(&co->nodes[i], &nodes[i], now);
            node_ptrs[i] = &nodes[i];
        }
        for (size_t i = 0; i < co->n_res; i++) {
            fill_resource(&co->res[i], &res[i], &text[i]);
            res_ptrs[i] = &res[i];
        }
        st.n_nodes = co->n_nodes;
        st.nodes = node_ptrs;
        st.n_resources = co->n_res;
        st.resources = res_ptrs;
        st.epoch = co->epoch;
        st.boot_id = clus_feed_boot_id(co->feed);
        st.last_seq = clus_feed_last_seq(co->feed);
        st.lease_ms = co->def->lease_ms;
        resp.result_case = CLUS__V1__COORD_RESPONSE__RESULT_CLUSTER;
        resp.cluster = &st;
        reply(call, id, &resp);
    } else {
        reply_status(call, id, CLUS_E_NOT_ENOUGH_MEMORY, "out of memory");
    }
    free(nodes);
    free(node_ptrs);
    free(res);
    free(res_ptrs);
    free(text);
}

/* ------------------------------------------------------------ admin */

static void reply_resource(clus_coordinator *co, clus_rpc_call *call, uint64_t id, uint32_t status,
                           const char *message, const char *name)
{
    Clus__V1__CoordResponse resp = CLUS__V1__COORD_RESPONSE__INIT;
    Clus__V1__CoordResourceInfo info;
    struct res_text text;
    int i = name != NULL ? clus_clusterdef_resource(co->def, name) : -1;

    resp.status = status;
    resp.message = (char *)message;
    if (i >= 0) {
        fill_resource(&co->res[i], &info, &text);
        resp.result_case = CLUS__V1__COORD_RESPONSE__RESULT_RESOURCE;
        resp.resource = &info;
    }
    reply(call, id, &resp);
}

static void handle_plan(clus_coordinator *co, clus_rpc_call *call, uint64_t id,
                        const Clus__V1__CoordPlanCall *c)
{
    Clus__V1__CoordResponse resp = CLUS__V1__COORD_RESPONSE__INIT;
    Clus__V1__CoordPlan plan = CLUS__V1__COORD_PLAN__INIT;
    char msg[512];

    resp.status = co_admin_plan(co, c->fail_node, c->fail_resource, &plan, msg, sizeof(msg));
    resp.message = msg;
    if (resp.status == CLUS_OK) {
        resp.result_case = CLUS__V1__COORD_RESPONSE__RESULT_PLAN;
        resp.plan = &plan;
    }
    reply(call, id, &resp);
    co_plan_free(&plan);
}

/* ------------------------------------------------------------ watch */

static void watch_answer(clus_coordinator *co, clus_rpc_call *call, uint64_t id, uint64_t after,
                         uint32_t max, bool boot_changed)
{
    Clus__V1__CoordResponse resp = CLUS__V1__COORD_RESPONSE__INIT;
    Clus__V1__CoordEventBatch batch = CLUS__V1__COORD_EVENT_BATCH__INIT;
    const clus_feed_event *events[API_WATCH_MAX];
    Clus__V1__CoordEvent evs[API_WATCH_MAX], *ptrs[API_WATCH_MAX];
    bool gap = false;
    size_t n = clus_feed_collect(co->feed, boot_changed ? 0 : after, events, max, &gap);

    for (size_t i = 0; i < n; i++) {
        const clus_feed_event *e = events[i];
        clus__v1__coord_event__init(&evs[i]);
        evs[i].seq = e->seq;
        evs[i].timestamp_ms = e->timestamp_ms;
        evs[i].kind = (char *)e->kind;
        evs[i].resource = (char *)e->resource;
        evs[i].node = (char *)e->node;
        evs[i].state = e->state;
        evs[i].status = e->status;
        evs[i].message = (char *)e->message;
        evs[i].node_state = (char *)e->node_state;
        ptrs[i] = &evs[i];
    }
    batch.n_events = n;
    batch.events = ptrs;
    batch.boot_id = clus_feed_boot_id(co->feed);
    batch.last_seq = n > 0 ? events[n - 1]->seq : clus_feed_last_seq(co->feed);
    batch.gap = gap || boot_changed;
    resp.result_case = CLUS__V1__COORD_RESPONSE__RESULT_EVENTS;
    resp.events = &batch;
    reply(call, id, &resp);
}

static void handle_watch(clus_coordinator *co, clus_rpc_call *call, uint64_t id,
                         const Clus__V1__CoordWatchCall *c)
{
    uint32_t max = c->max_events ? c->max_events : API_WATCH_DEFAULT;
    bool boot_changed = c->boot_id != 0 && c->boot_id != clus_feed_boot_id(co->feed);
    const clus_feed_event *probe[1];
    bool gap = false;
    struct coord_watcher *w;

    if (max > API_WATCH_MAX || c->wait_ms > API_WATCH_MAX_WAIT) {
        reply_status(call, id, CLUS_E_INVALID_PARAMETER,
                     "watch: max_events must be <= %d and wait_ms <= %d", API_WATCH_MAX,
                     API_WATCH_MAX_WAIT);
        return;
    }
    if (boot_changed || c->wait_ms == 0 || co->n_watchers >= co->config.contexts / 2 ||
        clus_feed_collect(co->feed, c->after_seq, probe, 1, &gap) > 0 || gap ||
        (w = calloc(1, sizeof(*w))) == NULL) {
        watch_answer(co, call, id, c->after_seq, max, boot_changed);
        return;
    }
    *w = (struct coord_watcher){call,        id, c->after_seq, max, clus_mono_ms() + c->wait_ms,
                                co->watchers};
    co->watchers = w;
    co->n_watchers++;
}

/* Answers parked watchers that have news (or whose wait ended, or all). */
static void watchers_sweep(clus_coordinator *co, uint64_t now, bool all)
{
    struct coord_watcher **pp = &co->watchers;

    while (*pp != NULL) {
        struct coord_watcher *w = *pp;
        const clus_feed_event *probe[1];
        bool gap = false;
        if (all || now >= w->deadline_ms ||
            clus_feed_collect(co->feed, w->after, probe, 1, &gap) > 0 || gap) {
            *pp = w->next;
            co->n_watchers--;
            watch_answer(co, w->call, w->request_id, w->after, w->max, false);
            free(w);
            continue;
        }
        pp = &w->next;
    }
}

void co_api_feed_wake(clus_coordinator *co)
{
    if (co->watchers != NULL)
        watchers_sweep(co, clus_mono_ms(), false);
}

void co_api_tick(clus_coordinator *co, uint64_t now)
{
    if (co->watchers != NULL)
        watchers_sweep(co, now, false);
}

/* ------------------------------------------------------------ dispatch */

/* The calls a reader may make: they change nothing (an unknown call is
 * left to dispatch, which answers 1). */
static bool coord_read_only(const Clus__V1__CoordRequest *q)
{
    switch (q->call_case) {
    case CLUS__V1__COORD_REQUEST__CALL_STATUS:
    case CLUS__V1__COORD_REQUEST__CALL_WATCH:
    case CLUS__V1__COORD_REQUEST__CALL_PLAN:
    case CLUS__V1__COORD_REQUEST__CALL__NOT_SET:
        return true;
    default:
        return false;
    }
}

/* The role check (DESIGN.md, Security): false when answered here with 5. */
static bool coord_authorize(clus_rpc_call *call, const Clus__V1__CoordRequest *q)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(
        &clus__v1__coord_request__descriptor, (unsigned)q->call_case);
    const char *name = f != NULL ? f->name : "an unknown call";

    if (clus_rpc_call_allowed(call, coord_read_only(q), name))
        return true;
    reply_status(call, q->request_id, CLUS_E_ACCESS_DENIED,
                 "access denied: a %s certificate may only read; %s needs an admin certificate",
                 clus_role_name(clus_rpc_call_peer(call)->role), name);
    return false;
}

static void dispatch(clus_coordinator *co, clus_rpc_call *call, const Clus__V1__CoordRequest *q)
{
    char msg[512] = "";
    uint32_t st;
    uint64_t id = q->request_id;

    if (!coord_authorize(call, q))
        return;
    switch (q->call_case) {
    case CLUS__V1__COORD_REQUEST__CALL_STATUS:
        handle_status(co, call, id);
        return;
    case CLUS__V1__COORD_REQUEST__CALL_ONLINE:
        st = co_admin_online(co, q->online->resource, q->online->node, msg, sizeof(msg));
        reply_resource(co, call, id, st, msg, q->online->resource);
        return;
    case CLUS__V1__COORD_REQUEST__CALL_OFFLINE:
        st = co_admin_offline(co, q->offline->resource, msg, sizeof(msg));
        reply_resource(co, call, id, st, msg, q->offline->resource);
        return;
    case CLUS__V1__COORD_REQUEST__CALL_MOVE:
        st = co_admin_move(co, q->move->resource, q->move->node, q->move->return_to_source, msg,
                           sizeof(msg));
        reply_resource(co, call, id, st, msg, q->move->resource);
        return;
    case CLUS__V1__COORD_REQUEST__CALL_DRAIN:
    case CLUS__V1__COORD_REQUEST__CALL_UNDRAIN: {
        bool drain = q->call_case == CLUS__V1__COORD_REQUEST__CALL_DRAIN;
        const Clus__V1__CoordNodeCall *c = drain ? q->drain : q->undrain;
        st = co_admin_drain(co, c->node, drain, msg, sizeof(msg));
        reply_status(call, id, st, "%s", msg);
        return;
    }
    case CLUS__V1__COORD_REQUEST__CALL_CLEAR:
        st = co_admin_clear(co, q->clear->resource, msg, sizeof(msg));
        reply_resource(co, call, id, st, msg, q->clear->resource);
        return;
    case CLUS__V1__COORD_REQUEST__CALL_PLAN:
        handle_plan(co, call, id, q->plan);
        return;
    case CLUS__V1__COORD_REQUEST__CALL_WATCH:
        handle_watch(co, call, id, q->watch);
        return;
    default:
        reply_status(call, id, CLUS_E_INVALID_FUNCTION,
                     "the request names no call this coordinator knows");
        return;
    }
}

static void on_call(void *arg, clus_rpc_call *call)
{
    clus_coordinator *co = arg;
    size_t len;
    const void *frame = clus_rpc_call_frame(call, &len);
    Clus__V1__CoordRequest *q = clus__v1__coord_request__unpack(NULL, len, frame);

    if (q == NULL) {
        reply_status(call, 0, CLUS_E_INVALID_PARAMETER,
                     "the request is not a valid clus.v1.CoordRequest message");
        return;
    }
    if (co->stopping)
        reply_status(call, q->request_id, CLUS_E_NOT_READY, "the coordinator is stopping");
    else
        dispatch(co, call, q);
    clus__v1__coord_request__free_unpacked(q, NULL);
}

uint32_t co_api_start(clus_coordinator *co, char *err, size_t errlen)
{
    if (co->config.contexts == 0)
        co->config.contexts = API_CONTEXTS;
    clus_rpc_server_config rpc = {
        .url = co->config.listen_url,
        .contexts = co->config.contexts,
        .max_message = API_MAX_MESSAGE,
        .slow = on_call,
        .arg = co,
        .raw = true,
        .allow_insecure = co->config.insecure,
    };

    return clus_rpc_server_start(co->loop, &rpc, &co->server, err, errlen);
}

void co_api_stop(clus_coordinator *co)
{
    watchers_sweep(co, clus_mono_ms(), true);
    if (co->server != NULL)
        clus_rpc_server_stop(co->server);
    co->server = NULL;
}
