/*
 * feed.c - a ring of events (see feed.h).
 */
#include "feed.h"

#include "clock.h"

#include <stdlib.h>

struct clus_feed {
    clus_feed_event *ring;
    size_t capacity;
    uint64_t last_seq; /* seq of the newest event; the ring holds the last `capacity` */
    uint64_t boot_id;
};

clus_feed *clus_feed_new(size_t capacity, uint64_t boot_id)
{
    clus_feed *feed = calloc(1, sizeof(*feed));

    if (feed == NULL || capacity == 0 ||
        (feed->ring = calloc(capacity, sizeof(*feed->ring))) == NULL) {
        free(feed);
        return NULL;
    }
    feed->capacity = capacity;
    feed->boot_id = boot_id;
    return feed;
}

void clus_feed_free(clus_feed *feed)
{
    if (feed == NULL)
        return;
    free(feed->ring);
    free(feed);
}

uint64_t clus_feed_emit(clus_feed *feed, const clus_feed_event *ev)
{
    clus_feed_event *slot = &feed->ring[feed->last_seq % feed->capacity];

    *slot = *ev;
    slot->seq = ++feed->last_seq;
    slot->timestamp_ms = clus_wall_ms();
    return slot->seq;
}

size_t clus_feed_collect(const clus_feed *feed, uint64_t after, const clus_feed_event **out,
                         size_t max, bool *gap)
{
    uint64_t oldest = feed->last_seq > feed->capacity ? feed->last_seq - feed->capacity + 1 : 1;
    size_t n = 0;

    *gap = after + 1 < oldest && feed->last_seq > 0;
    if (after > feed->last_seq)
        after = feed->last_seq; /* a reader from the future: a previous instance */
    for (uint64_t seq = after + 1 > oldest ? after + 1 : oldest; seq <= feed->last_seq && n < max;
         seq++)
        out[n++] = &feed->ring[(seq - 1) % feed->capacity];
    return n;
}

uint64_t clus_feed_last_seq(const clus_feed *feed)
{
    return feed->last_seq;
}

uint64_t clus_feed_boot_id(const clus_feed *feed)
{
    return feed->boot_id;
}
