/*
 * cstore.h - what the coordinator must not forget across a crash: desired
 * state, owner, counters and policy windows of each resource, the drain
 * mark of each node, and the lease epoch. sqlite in WAL mode under
 * --state-dir; ownership and desired-state changes are written with
 * synchronous=FULL (on disk before the call that depends on them is sent),
 * counters with NORMAL.
 *
 * The interface is the seam where a replicated store could take over.
 * Called on the loop thread only (writes are short; the fsync of a FULL
 * write is the one blocking step the loop accepts, see docs/coordinator.md).
 */
#ifndef CLUS_COORD_CSTORE_H
#define CLUS_COORD_CSTORE_H

#include "names.h"
#include "policy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct clus_cstore clus_cstore;

typedef struct clus_cstore_resource {
    char name[CLUS_NAME_MAX + 1];
    bool desired_online;
    char owner[CLUS_NAME_MAX + 1]; /* "" = none */
    int state;                     /* last state the coordinator knew */
    clus_pol_snapshot policy;      /* times are CLOCK_MONOTONIC ms of that boot */
} clus_cstore_resource;

/* Opens (creates) DIR/coordinator.db. */
uint32_t clus_cstore_open(const char *dir, clus_cstore **out, char *err, size_t errlen);
void clus_cstore_close(clus_cstore *store);

/* Whether the stored monotonic times are from this boot of the machine
 * (they are meaningless after a reboot). */
bool clus_cstore_same_boot(const clus_cstore *store);

/* The next lease epoch (durable): higher than the last one stored, and at
 * least the wall clock in ms, so that an instance whose store was lost
 * still outranks the instances before it. */
uint32_t clus_cstore_next_epoch(clus_cstore *store, uint64_t *epoch);

/* 0 and *out, or 1168 (not stored yet). */
uint32_t clus_cstore_get_resource(clus_cstore *store, const char *name, clus_cstore_resource *out);
uint32_t clus_cstore_put_resource(clus_cstore *store, const clus_cstore_resource *r, bool durable);

/* Groups the writes until clus_cstore_commit() into one transaction: one
 * disk flush for many rows (e.g. the first start with thousands of
 * resources). durable: the commit is written with synchronous=FULL, so the
 * whole group is on disk when clus_cstore_commit() returns. */
uint32_t clus_cstore_begin(clus_cstore *store, bool durable);
uint32_t clus_cstore_commit(clus_cstore *store);

/* A node never stored is not draining. */
bool clus_cstore_get_draining(clus_cstore *store, const char *node);
uint32_t clus_cstore_put_draining(clus_cstore *store, const char *node, bool draining);

#endif
