/*
 * agent.h - clus-agent, the Resource Monitor of one node.
 *
 * The agent owns one libuv loop thread and everything on it: the resources,
 * their timers, the event history and the lease. Requests arrive through the
 * rpc server (common/rpc_server.h) and are handled on the loop; type entry
 * points run inline (loop-native types) or on libuv's thread pool.
 */
#ifndef CLUS_AGENT_AGENT_H
#define CLUS_AGENT_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct clus_agent clus_agent;

#define CLUS_AGENT_DEFAULT_URL "tcp://127.0.0.1:7700"

typedef struct clus_agent_config {
    const char *listen_url; /* default CLUS_AGENT_DEFAULT_URL */
    const char *state_dir;  /* required: agent.db and per-resource directories */
    const char *plugin_dir; /* optional: *.so resource types */
    unsigned contexts;      /* concurrent calls (default 128) */
    uint32_t call_bound_ms; /* Online/Offline answer 997 after this (default 250) */
    size_t event_history;   /* events kept for watchers (default 8192) */
    bool insecure;          /* allow plain tcp:// on a non-loopback address */
    const char *guard_exe;  /* an executable that runs `--guard` (guard.h); NULL: none */
} clus_agent_config;

/* Opens the store, registers the types, re-opens the persisted resources
 * (left Offline, as Open leaves them) and starts listening. */
uint32_t clus_agent_start(uv_loop_t *loop, const clus_agent_config *config, clus_agent **out,
                          char *err, size_t errlen);

/* Begins a stop: new requests are refused (5084), running type calls are
 * waited for, then the server stops and every handle closes, so uv_run
 * returns. Resources are left as they are (not terminated): a restarted
 * agent adopts them with RECOVER_MONITOR_STATE. Loop thread. */
void clus_agent_stop(clus_agent *agent);

/* Frees the agent and its resources after uv_run has returned. */
void clus_agent_free(clus_agent *agent);

#endif
