/*
 * coordinator.c - start and stop, the tick that drives every timer, the
 * event feed and persistence helpers (see coordinator.h).
 */
#include "coord_internal.h"

#include "clock.h"
#include "log.h"
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ feed */

static void emit(clus_coordinator *co, clus_feed_event *ev)
{
    clus_feed_emit(co->feed, ev);
    if (ev->resource[0] != '\0')
        clus_info("%s %s%s%s: %s", ev->kind, ev->resource, ev->node[0] ? " on " : "", ev->node,
                  ev->message);
    else
        clus_info("%s %s: %s", ev->kind, ev->node, ev->message);
    co_api_feed_wake(co);
}

void co_emit_node(struct cnode *node, const char *fmt, ...)
{
    clus_feed_event ev = {.state = CLUS_STATE_UNKNOWN};
    va_list ap;

    snprintf(ev.kind, sizeof(ev.kind), "node");
    snprintf(ev.node, sizeof(ev.node), "%s", node->def->name);
    snprintf(ev.node_state, sizeof(ev.node_state), "%s", co_node_state_name(node));
    va_start(ap, fmt);
    vsnprintf(ev.message, sizeof(ev.message), fmt, ap);
    va_end(ap);
    emit(node->co, &ev);
}

void co_emit_res(struct cres *r, const char *kind, uint32_t status, const char *fmt, ...)
{
    clus_feed_event ev = {.state = r->state, .status = status};
    va_list ap;

    snprintf(ev.kind, sizeof(ev.kind), "%s", kind);
    snprintf(ev.resource, sizeof(ev.resource), "%s", r->def->name);
    if (r->owner >= 0)
        snprintf(ev.node, sizeof(ev.node), "%s", r->co->nodes[r->owner].def->name);
    va_start(ap, fmt);
    vsnprintf(ev.message, sizeof(ev.message), fmt, ap);
    va_end(ap);
    emit(r->co, &ev);
}

/* ------------------------------------------------------------ helpers */

void co_persist(struct cres *r, bool durable)
{
    clus_cstore_resource rec = {0};

    snprintf(rec.name, sizeof(rec.name), "%s", r->def->name);
    rec.desired_online = r->desired_online;
    if (r->owner >= 0)
        snprintf(rec.owner, sizeof(rec.owner), "%s", r->co->nodes[r->owner].def->name);
    rec.state = r->believed_running ? CLUS_STATE_ONLINE : r->state;
    clus_pol_state_get(r->pol, &rec.policy);
    if (clus_cstore_put_resource(r->co->store, &rec, durable) != CLUS_OK)
        clus_error("resource %s: could not be saved in the store", r->def->name);
}

void co_node_facts(const clus_coordinator *co, clus_node_facts *out)
{
    for (size_t i = 0; i < co->n_nodes; i++) {
        out[i].up = co_node_usable(&co->nodes[i]);
        out[i].draining = co->nodes[i].draining;
    }
}

const char *co_node_state_name(const struct cnode *node)
{
    switch (node->phase) {
    case NODE_UNKNOWN:
        return "Unknown";
    case NODE_UP:
        return node->draining ? "Draining" : "Up";
    case NODE_LOST:
    case NODE_DOWN:
        return "Down";
    }
    return "Unknown";
}

int co_local_hour(void)
{
    time_t now = time(NULL);
    struct tm tm;

    return localtime_r(&now, &tm) != NULL ? tm.tm_hour : 0;
}

/* ------------------------------------------------------------ tick */

static void on_tick(uv_timer_t *timer)
{
    clus_coordinator *co = timer->data;
    uint64_t now = clus_mono_ms();

    if (co->stopping)
        return;
    co_nodes_tick(co, now);
    co->start_budget_end_us = clus_mono_us() + CO_START_BUDGET_US;
    co->starts_paused = false;
    for (size_t i = 0; i < co->n_res; i++)
        co_res_tick(&co->res[i], now);
    co_api_tick(co, now);
}

/* ------------------------------------------------------------ start */

/* Stored monotonic times are meaningless after a reboot: windows restart
 * empty and a pending retry waits a full period from now. */
static void restore_policy(struct cres *r, clus_pol_snapshot *snap, bool same_boot)
{
    if (!same_boot) {
        snap->n_restart_times = snap->n_failover_times = 0;
        if (snap->phase == CLUS_POL_RETRY_WAIT)
            snap->retry_at_ms = r->co->start_ms + r->def->policy.retry_period_on_failure_ms;
    }
    clus_pol_state_set(r->pol, snap);
    r->pol_due_ms = clus_pol_due_ms(r->pol);
}

static void load_resource(struct cres *r)
{
    clus_cstore_resource rec;

    r->owner = -1;
    r->state = CLUS_STATE_OFFLINE;
    r->desired_online = true; /* a resource new to the cluster should run */
    if (clus_cstore_get_resource(r->co->store, r->def->name, &rec) != CLUS_OK) {
        co_persist(r, true);
        return;
    }
    r->desired_online = rec.desired_online;
    r->owner = clus_clusterdef_node(r->co->def, rec.owner);
    r->state = rec.state;
    r->believed_running = r->owner >= 0 && co_state_active(rec.state);
    restore_policy(r, &rec.policy, clus_cstore_same_boot(r->co->store));
}

/* Resources new to the store are written in one durable transaction: one
 * disk flush instead of one per resource (10,000 resources took over 3 s,
 * longer than a lease, bench P7). */
static uint32_t make_resources(clus_coordinator *co)
{
    uint32_t status = CLUS_OK;

    co->n_res = co->def->n_resources;
    co->res = calloc(co->n_res + 1, sizeof(*co->res));
    if (co->res == NULL)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    clus_cstore_begin(co->store, true);
    for (size_t i = 0; i < co->n_res && status == CLUS_OK; i++) {
        struct cres *r = &co->res[i];
        r->co = co;
        r->index = i;
        r->def = &co->def->resources[i];
        r->pol = clus_pol_state_new();
        r->views = calloc(co->n_nodes + 1, sizeof(*r->views));
        if (r->pol == NULL || r->views == NULL) {
            status = CLUS_E_NOT_ENOUGH_MEMORY;
            break;
        }
        HASH_ADD_KEYPTR(hh, co->by_name, r->def->name, strlen(r->def->name), r);
        load_resource(r);
    }
    if (clus_cstore_commit(co->store) != CLUS_OK && status == CLUS_OK)
        status = CLUS_E_IO_DEVICE;
    return status;
}

static uint32_t make_nodes(clus_coordinator *co, char *err, size_t errlen)
{
    co->n_nodes = co->def->n_nodes;
    co->nodes = calloc(co->n_nodes + 1, sizeof(*co->nodes));
    if (co->nodes == NULL)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    for (size_t i = 0; i < co->n_nodes; i++) {
        struct cnode *n = &co->nodes[i];
        uint32_t status;
        n->co = co;
        n->index = i;
        n->def = &co->def->nodes[i];
        n->phase = NODE_UNKNOWN;
        n->draining = clus_cstore_get_draining(co->store, n->def->name);
        /* The previous coordinator may have renewed just before it died:
         * count a renewal as sent now (see nodes.c). */
        n->ack_ms = n->sent_ms = co->start_ms;
        status = clus_link_new(co->loop, n->def->agent, &n->link, err, errlen);
        if (status != CLUS_OK)
            return status;
    }
    return CLUS_OK;
}

static uint64_t random_id(void)
{
    uint64_t id = 0;

    if (getrandom(&id, sizeof(id), 0) != sizeof(id))
        id = clus_wall_ms() ^ ((uint64_t)getpid() << 32);
    return id ? id : 1;
}

static uint32_t co_init(clus_coordinator *co, char *err, size_t errlen)
{
    uint32_t status = clus_cstore_open(co->config.state_dir, &co->store, err, errlen);

    if (status == CLUS_OK && (status = clus_cstore_next_epoch(co->store, &co->epoch)) != CLUS_OK)
        snprintf(err, errlen, "cannot write the lease epoch to the store");
    if (status == CLUS_OK && (co->feed = clus_feed_new(CO_FEED_CAPACITY, random_id())) == NULL)
        status = CLUS_E_NOT_ENOUGH_MEMORY;
    if (status == CLUS_OK)
        status = make_nodes(co, err, errlen);
    if (status == CLUS_OK)
        status = make_resources(co);
    if (status == CLUS_OK)
        status = co_api_start(co, err, errlen);
    if (status == CLUS_E_NOT_ENOUGH_MEMORY && err[0] == '\0')
        snprintf(err, errlen, "out of memory");
    return status;
}

uint32_t clus_coordinator_start(uv_loop_t *loop, const clus_coordinator_config *config,
                                clus_clusterdef *def, clus_coordinator **out, char *err,
                                size_t errlen)
{
    clus_coordinator *co = calloc(1, sizeof(*co));
    uint32_t status;

    err[0] = '\0';
    if (co == NULL) {
        clus_clusterdef_free(def);
        return CLUS_E_NOT_ENOUGH_MEMORY;
    }
    co->loop = loop;
    co->config = *config;
    if (co->config.listen_url == NULL)
        co->config.listen_url = CLUS_COORDINATOR_DEFAULT_URL;
    if (co->config.tick_ms == 0)
        co->config.tick_ms = 20;
    co->def = def;
    co->start_ms = clus_mono_ms();
    snprintf(co->holder, sizeof(co->holder), "clus-coordinator@%s", co->config.listen_url);
    uv_timer_init(loop, &co->tick);
    co->tick.data = co;
    status = co_init(co, err, errlen);
    if (status != CLUS_OK) {
        clus_coordinator_stop(co);
        uv_run(loop, UV_RUN_DEFAULT);
        clus_coordinator_free(co);
        return status;
    }
    clus_info("coordinating %zu node(s) and %zu resource(s); lease %u ms, renew %u ms, "
              "epoch %llu",
              co->n_nodes, co->n_res, def->lease_ms, def->renew_ms, (unsigned long long)co->epoch);
    /* "A renewal counts as sent now" (make_nodes) is restated once start-up
     * is over: later is the safe side, and a long start (a large store)
     * must not make every node look lost at the first tick. */
    for (size_t i = 0; i < co->n_nodes; i++)
        co->nodes[i].ack_ms = co->nodes[i].sent_ms = clus_mono_ms();
    uv_timer_start(&co->tick, on_tick, 0, co->config.tick_ms);
    *out = co;
    return CLUS_OK;
}

void clus_coordinator_stop(clus_coordinator *co)
{
    if (co->stopping)
        return;
    co->stopping = true;
    co_api_stop(co);
    uv_timer_stop(&co->tick);
    uv_close((uv_handle_t *)&co->tick, NULL);
    for (size_t i = 0; co->nodes != NULL && i < co->n_nodes; i++) {
        if (co->nodes[i].link != NULL)
            clus_link_stop(co->nodes[i].link);
    }
    for (size_t i = 0; co->nodes != NULL && i < co->n_nodes; i++) {
        if (co->nodes[i].link != NULL)
            clus_link_free(co->nodes[i].link);
        co->nodes[i].link = NULL;
    }
}

void clus_coordinator_free(clus_coordinator *co)
{
    if (co == NULL)
        return;
    HASH_CLEAR(hh, co->by_name);
    for (size_t i = 0; co->res != NULL && i < co->n_res; i++) {
        clus_pol_state_free(co->res[i].pol);
        clus_move_free(co->res[i].move);
        free(co->res[i].views);
    }
    free(co->res);
    free(co->nodes);
    clus_feed_free(co->feed);
    clus_cstore_close(co->store);
    clus_clusterdef_free(co->def);
    free(co);
}
