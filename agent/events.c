#include "events.h"
#include "clock.h"

#include <stdlib.h>
#include <string.h>

struct clus_events {
    Clus__V1__Event *ring;
    size_t capacity;
    uint64_t boot_id;
    uint64_t last_seq; /* ring[(seq - 1) % capacity] holds seq */
};

clus_events *clus_events_new(size_t capacity, uint64_t boot_id)
{
    clus_events *events = calloc(1, sizeof(*events));

    if (events == NULL)
        return NULL;
    events->ring = calloc(capacity, sizeof(*events->ring));
    if (events->ring == NULL) {
        free(events);
        return NULL;
    }
    events->capacity = capacity;
    events->boot_id = boot_id;
    return events;
}

static void event_clear(Clus__V1__Event *ev)
{
    free(ev->resource);
    free(ev->message);
    if (ev->control != NULL)
        clus__v1__control_result__free_unpacked(ev->control, NULL);
    memset(ev, 0, sizeof(*ev));
}

void clus_events_free(clus_events *events)
{
    if (events == NULL)
        return;
    for (size_t i = 0; i < events->capacity; i++)
        event_clear(&events->ring[i]);
    free(events->ring);
    free(events);
}

uint64_t clus_events_append(clus_events *events, const Clus__V1__Event *ev)
{
    uint64_t seq = events->last_seq + 1;
    Clus__V1__Event *slot = &events->ring[(seq - 1) % events->capacity];

    event_clear(slot);
    *slot = *ev;
    slot->resource = strdup(ev->resource ? ev->resource : "");
    slot->message = strdup(ev->message ? ev->message : "");
    slot->control = NULL;
    if (ev->control != NULL) { /* a deep copy, through the codec */
        size_t len = clus__v1__control_result__get_packed_size(ev->control);
        uint8_t *buf = malloc(len ? len : 1);
        if (buf != NULL) {
            clus__v1__control_result__pack(ev->control, buf);
            slot->control = clus__v1__control_result__unpack(NULL, len, buf);
            free(buf);
        }
    }
    slot->seq = seq;
    slot->boot_id = events->boot_id;
    slot->timestamp_ms = clus_wall_ms();
    events->last_seq = seq;
    return seq;
}

uint64_t clus_events_last_seq(const clus_events *events)
{
    return events->last_seq;
}

uint64_t clus_events_boot_id(const clus_events *events)
{
    return events->boot_id;
}

size_t clus_events_collect(const clus_events *events, uint64_t after, const char *resource,
                           Clus__V1__Event **out, size_t max, bool *gap)
{
    uint64_t oldest =
        events->last_seq > events->capacity ? events->last_seq - events->capacity + 1 : 1;
    uint64_t seq = after + 1 > oldest ? after + 1 : oldest;
    size_t n = 0;

    *gap = after + 1 < oldest;
    for (; seq <= events->last_seq && n < max; seq++) {
        Clus__V1__Event *ev = &events->ring[(seq - 1) % events->capacity];
        if (resource != NULL && *resource != '\0' && strcmp(ev->resource, resource) != 0)
            continue;
        out[n++] = ev;
    }
    return n;
}
