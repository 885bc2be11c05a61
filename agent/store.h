/*
 * store.h - what the agent hosts, persisted in sqlite (<state-dir>/agent.db,
 * WAL). One row per resource: its name and a packed clus.v1.ResourceInfo
 * holding type, parameters, common properties, persisted state and the
 * flags of its last Online. Writes survive a kill -9 of the agent
 * (synchronous=NORMAL in WAL mode: durable against process death; a power
 * cut may lose the last writes, see docs/architecture.md). Loop thread only.
 */
#ifndef CLUS_AGENT_STORE_H
#define CLUS_AGENT_STORE_H

#include <stdint.h>

#include "clus/v1/clus.pb-c.h"

typedef struct clus_store clus_store;

uint32_t clus_store_open(const char *path, clus_store **out, char *err, size_t errlen);
void clus_store_close(clus_store *store);

/* Inserts or replaces the record of info->name. */
uint32_t clus_store_put(clus_store *store, const Clus__V1__ResourceInfo *info);
uint32_t clus_store_delete(clus_store *store, const char *name);

/* Calls fn for every stored record (decoded; freed after fn returns). A
 * record that does not decode is logged and skipped. */
typedef void (*clus_store_each_fn)(void *arg, const Clus__V1__ResourceInfo *info);
uint32_t clus_store_each(clus_store *store, clus_store_each_fn fn, void *arg);

#endif
