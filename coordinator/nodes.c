/*
 * nodes.c - leases and node phases.
 *
 * UNKNOWN/UP: a LeaseCall every renew_ms on the LEASE lane (timeout
 *   renew_ms, so a frozen agent never delays the next renewal much).
 * UP -> LOST: no acknowledgement for lease_ms. The agent's lease may have
 *   run out, so renewals stop: renewing now could extend a lease the agent
 *   is about to lose, and a one-way partition (requests arrive, answers do
 *   not) would keep it alive for ever.
 * LOST -> DOWN: lease_ms + margin after the last renewal *sent* that the
 *   agent may have got. Any renewal the agent may still receive (delivery
 *   within the margin) ran out by then, and an agent that receives one
 *   later has already fenced itself (the agent checks its lease before it
 *   handles any call). Only now do the node's resources move.
 *   A renewal the link reports as never sent (5051: no connection took it
 *   before its deadline, 995) cannot reach the agent, now or later, so it
 *   does not count: after an agent dies its connection is gone, and the
 *   renewals that follow are never sent - the node goes down lease + margin
 *   after the last one that could have reached it, not after the last try.
 *   A renewal still in flight counts until the link says otherwise.
 * LOST/DOWN: AgentStatus probes (they do not extend a lease). When one is
 *   answered, a renewal is sent; its acknowledgement makes the node UP
 *   again, and a full status read (reconcile) follows.
 * All times are CLOCK_MONOTONIC.
 */
#include "coord_internal.h"

#include "clock.h"
#include "log.h"
#include "status.h"

#include <stdlib.h>

bool co_node_usable(const struct cnode *node)
{
    return node->phase == NODE_UP && node->synced;
}

static void set_phase(struct cnode *node, enum node_phase phase, const char *why)
{
    if (node->phase == phase)
        return;
    node->phase = phase;
    co_emit_node(node, "%s", why);
}

/* ------------------------------------------------------------ renewals */

static void became_up(struct cnode *node, uint64_t now)
{
    node->ack_ms = now;
    if (node->phase == NODE_UP)
        return;
    node->announce_up = true;
    set_phase(node, NODE_UP, "lease acknowledged: the node is up");
    co_node_resync(node);
}

static void on_renewed(void *arg, uint32_t status, const Clus__V1__Response *resp)
{
    struct cnode *node = arg;
    uint64_t now = clus_mono_ms();

    node->lease_busy = false;
    if (status != CLUS_E_CLUSTER_NODE_UNREACHABLE && status != CLUS_E_OPERATION_ABORTED &&
        node->renew_sent_ms > node->sent_ms)
        node->sent_ms = node->renew_sent_ms; /* it may have reached the agent */
    node->reachable = status == CLUS_OK;
    if (status == CLUS_OK && resp->status == CLUS_OK &&
        resp->result_case == CLUS__V1__RESPONSE__RESULT_LEASE && resp->lease->granted &&
        !node->co->stopping) {
        /* The agent holds our lease again (it fenced first if it had
         * lost it meanwhile: the agent checks its lease before any call). */
        became_up(node, now);
        if (node->synced && resp->lease->boot_id != node->boot_id)
            co_node_resync(node); /* the agent restarted */
    } else if (status == CLUS_OK && resp->status != CLUS_OK) {
        clus_warn("node %s refused the lease: %s (%s)", node->def->name, resp->message,
                  clus_status_name(resp->status));
    }
}

static void send_renewal(struct cnode *node, uint64_t now)
{
    clus_coordinator *co = node->co;
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
    Clus__V1__LeaseCall lease = CLUS__V1__LEASE_CALL__INIT;

    lease.holder = co->holder;
    lease.ttl_ms = co->def->lease_ms;
    lease.epoch = co->epoch;
    req.call_case = CLUS__V1__REQUEST__CALL_LEASE;
    req.lease = &lease;
    node->lease_busy = true;
    node->renew_sent_ms = now;
    node->next_renew_ms = now + co->def->renew_ms;
    clus_link_call(node->link, CLUS_LANE_LEASE, &req, co->def->renew_ms, on_renewed, node);
}

/* ------------------------------------------------------------ probes */

static void on_probe(void *arg, uint32_t status, const Clus__V1__Response *resp)
{
    struct cnode *node = arg;

    node->probe_busy = false;
    node->reachable = status == CLUS_OK && resp->status == CLUS_OK;
    if (node->reachable && !node->lease_busy && !node->co->stopping &&
        (node->phase == NODE_LOST || node->phase == NODE_DOWN))
        send_renewal(node, clus_mono_ms()); /* its ack brings the node back */
}

static void send_probe(struct cnode *node, uint64_t now)
{
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
    Clus__V1__AgentStatusCall call = CLUS__V1__AGENT_STATUS_CALL__INIT;

    req.call_case = CLUS__V1__REQUEST__CALL_STATUS;
    req.status = &call;
    node->probe_busy = true;
    node->next_probe_ms = now + node->co->def->renew_ms;
    clus_link_call(node->link, CLUS_LANE_LEASE, &req, node->co->def->renew_ms, on_probe, node);
}

/* ------------------------------------------------------------ phases */

static void go_down(struct cnode *node)
{
    clus_coordinator *co = node->co;

    set_phase(node, NODE_DOWN,
              "no lease renewal acknowledged for lease + margin: the node is down and fenced");
    co_node_unsync(node);
    for (size_t i = 0; i < co->n_res; i++)
        co_res_node_down(&co->res[i], node->index);
}

/* When the last renewal was sent that the agent has or may yet receive. */
static uint64_t last_reaching_renewal(const struct cnode *node)
{
    return node->lease_busy && node->renew_sent_ms > node->sent_ms ? node->renew_sent_ms
                                                                   : node->sent_ms;
}

static void lease_tick(struct cnode *node, uint64_t now)
{
    const clus_clusterdef *def = node->co->def;

    switch (node->phase) {
    case NODE_UNKNOWN:
    case NODE_UP:
        if (now > node->ack_ms + def->lease_ms) {
            set_phase(node, NODE_LOST,
                      "no lease renewal acknowledged for lease_ms: renewals stop; its "
                      "resources move after the margin");
            co_node_unsync(node);
            break;
        }
        if (!node->lease_busy && now >= node->next_renew_ms)
            send_renewal(node, now);
        break;
    case NODE_LOST:
    case NODE_DOWN:
        if (node->phase == NODE_LOST &&
            now >= last_reaching_renewal(node) + def->lease_ms + def->lease_margin_ms)
            go_down(node);
        if (!node->probe_busy && !node->lease_busy && now >= node->next_probe_ms)
            send_probe(node, now);
        break;
    }
}

void co_nodes_tick(clus_coordinator *co, uint64_t now)
{
    for (size_t i = 0; i < co->n_nodes; i++) {
        struct cnode *node = &co->nodes[i];
        lease_tick(node, now);
        if (node->phase == NODE_UP)
            co_watch_tick(node, now);
    }
}

void co_node_synced(struct cnode *node)
{
    clus_coordinator *co = node->co;

    if (!node->announce_up || node->phase != NODE_UP)
        return;
    node->announce_up = false;
    co_emit_node(node, "status read: the node takes resources");
    for (size_t i = 0; i < co->n_res; i++)
        co_res_node_up(&co->res[i], node->index);
}
