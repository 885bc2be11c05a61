/*
 * feed.h - the coordinator's own event stream (what `clusctl watch`
 * shows): node state changes, resource state and owner changes, policy
 * decisions, move steps. A bounded ring with sequence numbers; a reader that
 * fell behind the ring is told so (gap). Loop thread only.
 */
#ifndef CLUS_COORD_FEED_H
#define CLUS_COORD_FEED_H

#include "names.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct clus_feed clus_feed;

typedef struct clus_feed_event {
    uint64_t seq;          /* set by clus_feed_emit */
    uint64_t timestamp_ms; /* wall clock, set by clus_feed_emit */
    char kind[16];         /* "node", "resource", "action" */
    char resource[CLUS_NAME_MAX + 1];
    char node[CLUS_NAME_MAX + 1];
    int state; /* resource events */
    uint32_t status;
    char message[256];
    char node_state[16]; /* node events */
} clus_feed_event;

clus_feed *clus_feed_new(size_t capacity, uint64_t boot_id);
void clus_feed_free(clus_feed *feed);

/* Appends a copy of ev with the next seq; returns that seq. */
uint64_t clus_feed_emit(clus_feed *feed, const clus_feed_event *ev);

/* Up to max events with seq > after, oldest first. *gap: some were lost to
 * this reader (they left the ring). */
size_t clus_feed_collect(const clus_feed *feed, uint64_t after, const clus_feed_event **out,
                         size_t max, bool *gap);

uint64_t clus_feed_last_seq(const clus_feed *feed);
uint64_t clus_feed_boot_id(const clus_feed *feed);

#endif
