/*
 * events.c - the event ring. A slot keeps what an Event carries in 64 bytes
 * and one string allocation (the wire struct is 104 bytes and two): the ring
 * holds thousands, and its memory counts against every resource (P7).
 */
#include "events.h"
#include "clock.h"
#include "pbcopy.h"

#include <stdlib.h>
#include <string.h>

struct event_slot {
    uint64_t seq; /* 0: empty */
    uint64_t timestamp_ms;
    uint64_t call_id;
    char *text;                       /* "resource\0message\0", owned */
    Clus__V1__ControlResult *control; /* owned, or NULL */
    int32_t old_state, new_state;
    uint32_t status, checkpoint, flags;
    int32_t kind;
};

struct clus_events {
    struct event_slot *ring;
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

static void slot_clear(struct event_slot *slot)
{
    free(slot->text);
    if (slot->control != NULL)
        clus__v1__control_result__free_unpacked(slot->control, NULL);
    memset(slot, 0, sizeof(*slot));
}

void clus_events_free(clus_events *events)
{
    if (events == NULL)
        return;
    for (size_t i = 0; i < events->capacity; i++)
        slot_clear(&events->ring[i]);
    free(events->ring);
    free(events);
}

/* "resource\0message\0" in one allocation; NULL when out of memory. */
static char *text_new(const char *resource, const char *message)
{
    size_t r = strlen(resource), m = strlen(message);
    char *text = malloc(r + m + 2);

    if (text != NULL) {
        memcpy(text, resource, r + 1);
        memcpy(text + r + 1, message, m + 1);
    }
    return text;
}

uint64_t clus_events_append(clus_events *events, const Clus__V1__Event *ev)
{
    uint64_t seq = events->last_seq + 1;
    struct event_slot *slot = &events->ring[(seq - 1) % events->capacity];

    slot_clear(slot);
    slot->seq = seq;
    slot->timestamp_ms = clus_wall_ms();
    slot->call_id = ev->call_id;
    slot->text = text_new(ev->resource ? ev->resource : "", ev->message ? ev->message : "");
    slot->control =
        ev->control != NULL ? (Clus__V1__ControlResult *)clus_pb_copy(&ev->control->base) : NULL;
    slot->old_state = ev->old_state;
    slot->new_state = ev->new_state;
    slot->status = ev->status;
    slot->checkpoint = ev->checkpoint;
    slot->flags = ev->flags;
    slot->kind = (int32_t)ev->kind;
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

static const char *slot_resource(const struct event_slot *slot)
{
    return slot->text != NULL ? slot->text : "";
}

static const char *slot_message(const struct event_slot *slot)
{
    return slot->text != NULL ? slot->text + strlen(slot->text) + 1 : "";
}

static void slot_view(const clus_events *events, const struct event_slot *slot,
                      Clus__V1__Event *out)
{
    clus__v1__event__init(out);
    out->seq = slot->seq;
    out->boot_id = events->boot_id;
    out->resource = (char *)slot_resource(slot);
    out->old_state = slot->old_state;
    out->new_state = slot->new_state;
    out->status = slot->status;
    out->checkpoint = slot->checkpoint;
    out->timestamp_ms = slot->timestamp_ms;
    out->message = (char *)slot_message(slot);
    out->kind = (Clus__V1__EventKind)slot->kind;
    out->flags = slot->flags;
    out->call_id = slot->call_id;
    out->control = slot->control;
}

size_t clus_events_collect(const clus_events *events, uint64_t after, const char *resource,
                           Clus__V1__Event *out, size_t max, bool *gap)
{
    uint64_t oldest =
        events->last_seq > events->capacity ? events->last_seq - events->capacity + 1 : 1;
    uint64_t seq = after + 1 > oldest ? after + 1 : oldest;
    size_t n = 0;

    *gap = after + 1 < oldest;
    for (; seq <= events->last_seq && n < max; seq++) {
        const struct event_slot *slot = &events->ring[(seq - 1) % events->capacity];
        if (resource != NULL && *resource != '\0' && strcmp(slot_resource(slot), resource) != 0)
            continue;
        if (out != NULL)
            slot_view(events, slot, &out[n]);
        n++;
    }
    return n;
}
