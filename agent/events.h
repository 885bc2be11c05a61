/*
 * events.h - the agent's event history: a ring of the last N events, each
 * with a per-agent sequence number (1, 2, ...) and the agent's boot id.
 * Watchers read it by "everything after seq S"; one who fell further behind
 * than the ring holds is told so (gap) and re-reads full status. Loop thread
 * only.
 */
#ifndef CLUS_AGENT_EVENTS_H
#define CLUS_AGENT_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clus/v1/clus.pb-c.h"

typedef struct clus_events clus_events;

clus_events *clus_events_new(size_t capacity, uint64_t boot_id);
void clus_events_free(clus_events *events);

/* Copies ev (strings included), stamps seq, boot id and wall time. Returns
 * the new seq. */
uint64_t clus_events_append(clus_events *events, const Clus__V1__Event *ev);

uint64_t clus_events_last_seq(const clus_events *events);
uint64_t clus_events_boot_id(const clus_events *events);

/* Fills out[] with up to max events newer than after (only those of
 * resource, unless it is NULL or ""). Their strings and control results are
 * the ring's: valid until the next append, not to be freed. *gap is set
 * when events after `after` were already dropped. With out NULL, only
 * counts them. */
size_t clus_events_collect(const clus_events *events, uint64_t after, const char *resource,
                           Clus__V1__Event *out, size_t max, bool *gap);

#endif
