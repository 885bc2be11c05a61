/*
 * coordinator.h - clus-coordinator as a library: the cluster service of the
 * model. It leases every agent, watches their events, places resources,
 * restarts and fails them over by policy, moves them (with return to
 * source), drains nodes, and serves its own RPC (coordinator.proto).
 *
 * One libuv loop thread owns all state. Agent calls run on per-agent lanes
 * (link.h) and come back to the loop; nothing blocks the loop except the
 * sqlite commit of an ownership change.
 *
 * Safety rule: a resource is never Online on two nodes at once. Before an
 * Online is sent to a node, every other node is either known (from a full
 * status read plus the events since) not to run the resource, or is Down
 * with its lease provably expired (lease + margin past the last renewal
 * sent to it).
 */
#ifndef CLUS_COORDINATOR_H
#define CLUS_COORDINATOR_H

#include "clusterdef.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define CLUS_COORDINATOR_DEFAULT_URL "tcp://127.0.0.1:7701"

typedef struct clus_coordinator clus_coordinator;

typedef struct clus_coordinator_config {
    const char *listen_url; /* default CLUS_COORDINATOR_DEFAULT_URL */
    const char *state_dir;  /* required: the sqlite store lives there */
    unsigned contexts;      /* concurrent RPC calls (default 64) */
    uint32_t tick_ms;       /* timer resolution (default 20) */
    bool insecure;          /* allow plain tcp:// on a non-loopback address */
} clus_coordinator_config;

/* Starts serving def (ownership passes to the coordinator, also on error).
 * Call on the loop thread; then run the loop. */
uint32_t clus_coordinator_start(uv_loop_t *loop, const clus_coordinator_config *config,
                                clus_clusterdef *def, clus_coordinator **out, char *err,
                                size_t errlen);

/* Stops serving and closes every handle: the loop then runs down. Agents
 * keep their resources (and their leases run out unless a coordinator
 * takes over). Waits for agent calls in flight to end (bounded by their
 * timeouts). */
void clus_coordinator_stop(clus_coordinator *co);

/* Frees what is left once the loop has run down. */
void clus_coordinator_free(clus_coordinator *co);

#endif
