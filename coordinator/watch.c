/*
 * watch.c - what each agent hosts, kept current: a full status read
 * (AgentStatus) sets every view of the node; then a long poll (Watch with
 * after_seq and boot_id) applies the agent's events in sequence order.
 * Events come at least once: one not newer than what a view already holds
 * is ignored. A gap, a changed boot_id, a reconnect or a coordinator start
 * means a new full status read; until it arrives the node's views are not
 * trusted (the safety gate waits).
 */
#include "coord_internal.h"

#include "clock.h"
#include "log.h"
#include "status.h"

#include <stdlib.h>
#include <string.h>

struct watch_ctx {
    struct cnode *node;
    uint64_t gen;
};

struct cres *co_res_find(clus_coordinator *co, const char *name)
{
    struct cres *r = NULL;

    if (name != NULL)
        HASH_FIND_STR(co->by_name, name, r);
    return r;
}

void co_node_unsync(struct cnode *node)
{
    clus_coordinator *co = node->co;

    node->synced = false;
    node->watch_gen++;
    for (size_t i = 0; i < co->n_res; i++)
        co->res[i].views[node->index].known = false;
}

/* ------------------------------------------------------------ status */

static void view_from_info(struct cres *r, size_t node, const Clus__V1__ResourceInfo *info)
{
    struct view *v = &r->views[node];

    v->known = true;
    co_view_present(r, node, info != NULL);
    v->state = info != NULL ? info->state : CLUS_STATE_OFFLINE;
    v->seq = info != NULL ? info->seq : 0;
}

static void apply_status(struct cnode *node, const Clus__V1__AgentStatus *st)
{
    clus_coordinator *co = node->co;

    if (node->boot_id != 0 && node->boot_id != st->boot_id)
        co_emit_node(node, "the agent restarted (new boot id): re-reading everything");
    node->boot_id = st->boot_id;
    node->after_seq = st->last_seq;
    node->watch_gen++;
    /* Everything known absent, then what the agent has (by name: a status
     * read costs resources + hosted, not resources x hosted). */
    for (size_t i = 0; i < co->n_res; i++)
        view_from_info(&co->res[i], node->index, NULL);
    for (size_t j = 0; j < st->n_resources; j++) {
        struct cres *r = co_res_find(co, st->resources[j]->name);
        if (r != NULL)
            view_from_info(r, node->index, st->resources[j]);
    }
    node->synced = true;
    for (size_t i = 0; i < co->n_res; i++)
        co_res_observe(&co->res[i], node->index);
    co_node_synced(node);
}

static void on_status(void *arg, uint32_t status, const Clus__V1__Response *resp)
{
    struct cnode *node = arg;

    node->status_busy = false;
    if (node->co->stopping)
        return;
    if (status != CLUS_OK || resp->status != CLUS_OK ||
        resp->result_case != CLUS__V1__RESPONSE__RESULT_AGENT) {
        node->resync_wanted = true; /* tried again by the watch tick */
        node->watch_retry_ms = clus_mono_ms() + CO_WATCH_RETRY_MS;
        return;
    }
    if (node->phase != NODE_UP) {
        node->resync_wanted = true; /* not ours to trust until the lease is back */
        return;
    }
    apply_status(node, resp->agent);
    if (node->resync_wanted) {
        node->resync_wanted = false;
        co_node_resync(node);
    }
}

void co_node_resync(struct cnode *node)
{
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
    Clus__V1__AgentStatusCall call = CLUS__V1__AGENT_STATUS_CALL__INIT;

    co_node_unsync(node);
    if (node->status_busy) {
        node->resync_wanted = true;
        return;
    }
    node->resync_wanted = false;
    node->status_busy = true;
    req.call_case = CLUS__V1__REQUEST__CALL_STATUS;
    req.status = &call;
    clus_link_call(node->link, CLUS_LANE_OPS, &req, CO_OPS_TIMEOUT_MS, on_status, node);
}

/* ------------------------------------------------------------ events */

static void apply_event(struct cnode *node, const Clus__V1__Event *ev)
{
    struct cres *r = co_res_find(node->co, ev->resource);
    struct view *v;

    if (r == NULL)
        return; /* not a resource of this cluster */
    v = &r->views[node->index];
    if (v->known && ev->seq <= v->seq)
        return; /* already seen (at least once delivery) */
    if ((int)node->index == r->owner &&
        (ev->kind == CLUS__V1__EVENT_KIND__EVENT_FAILURE ||
         ev->kind == CLUS__V1__EVENT_KIND__EVENT_FENCED ||
         (ev->kind == CLUS__V1__EVENT_KIND__EVENT_STATE && ev->status != CLUS_E_IO_PENDING))) {
        r->last_status = ev->status;
        snprintf(r->last_message, sizeof(r->last_message), "%s", ev->message ? ev->message : "");
    }
    if (ev->kind == CLUS__V1__EVENT_KIND__EVENT_CONTROL_DONE)
        return;
    v->known = true;
    v->seq = ev->seq;
    if (ev->kind == CLUS__V1__EVENT_KIND__EVENT_CLOSED) {
        co_view_present(r, node->index, false);
        v->state = CLUS_STATE_OFFLINE;
    } else if (ev->kind == CLUS__V1__EVENT_KIND__EVENT_STATE) {
        co_view_present(r, node->index, true);
        v->state = ev->new_state;
    }
    co_res_observe(r, node->index);
}

static void on_watch(void *arg, uint32_t status, const Clus__V1__Response *resp)
{
    struct watch_ctx *ctx = arg;
    struct cnode *node = ctx->node;
    const Clus__V1__EventBatch *batch;

    node->watch_busy = false;
    if (node->co->stopping || ctx->gen != node->watch_gen || !node->synced) {
        free(ctx);
        return; /* a status read since made this answer stale */
    }
    free(ctx);
    if (status != CLUS_OK || resp->status != CLUS_OK ||
        resp->result_case != CLUS__V1__RESPONSE__RESULT_EVENTS) {
        node->watch_retry_ms = clus_mono_ms() + CO_WATCH_RETRY_MS;
        return;
    }
    batch = resp->events;
    if (batch->gap || batch->boot_id != node->boot_id) {
        co_node_resync(node);
        return;
    }
    for (size_t i = 0; i < batch->n_events; i++) {
        const Clus__V1__Event *ev = batch->events[i];
        if (ev->seq <= node->after_seq)
            continue;
        node->after_seq = ev->seq;
        apply_event(node, ev);
    }
    /* Poll again at once rather than on the next tick: a failure arrives
     * as a burst of events (failure, Failed, ...) and waiting up to a tick
     * between them would add it to every recovery (bench P3). */
    if (node->phase == NODE_UP)
        co_watch_tick(node, clus_mono_ms());
}

void co_watch_tick(struct cnode *node, uint64_t now)
{
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
    Clus__V1__WatchCall call = CLUS__V1__WATCH_CALL__INIT;
    struct watch_ctx *ctx;

    if (!node->synced && !node->status_busy && now >= node->watch_retry_ms) {
        co_node_resync(node);
        return;
    }
    if (!node->synced || node->watch_busy || now < node->watch_retry_ms)
        return;
    if ((ctx = malloc(sizeof(*ctx))) == NULL)
        return;
    *ctx = (struct watch_ctx){node, node->watch_gen};
    call.after_seq = node->after_seq;
    call.boot_id = node->boot_id;
    call.max_events = 256;
    call.wait_ms = CO_WATCH_WAIT_MS;
    req.call_case = CLUS__V1__REQUEST__CALL_WATCH;
    req.watch = &call;
    node->watch_busy = true;
    clus_link_call(node->link, CLUS_LANE_WATCH, &req, CO_WATCH_WAIT_MS + 2000, on_watch, ctx);
}
