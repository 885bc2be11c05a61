/*
 * timer_heap.c - a binary min-heap of deadlines ordered by (due, start order).
 */
#include "timer_heap.h"

#include <stdlib.h>

struct timer_entry {
    uint64_t due_ms;
    uint64_t seq; /* start order: ties on due_ms go first-started first */
    clus_timer_ref *ref;
};

struct clus_timer_heap {
    struct timer_entry *entries;
    size_t count, capacity;
    uint64_t next_seq;
};

clus_timer_heap *clus_timer_heap_new(void)
{
    return calloc(1, sizeof(clus_timer_heap));
}

void clus_timer_heap_free(clus_timer_heap *heap)
{
    if (heap == NULL)
        return;
    free(heap->entries);
    free(heap);
}

bool clus_timer_heap_reserve(clus_timer_heap *heap, size_t count)
{
    struct timer_entry *grown;
    size_t capacity = heap->capacity ? heap->capacity : 16;

    if (count <= heap->capacity)
        return true;
    while (capacity < count) /* by halves: the room is mostly never used */
        capacity += capacity / 2;
    grown = realloc(heap->entries, capacity * sizeof(*grown));
    if (grown == NULL)
        return false;
    heap->entries = grown;
    heap->capacity = capacity;
    return true;
}

static bool entry_before(const struct timer_entry *a, const struct timer_entry *b)
{
    return a->due_ms < b->due_ms || (a->due_ms == b->due_ms && a->seq < b->seq);
}

/* Puts e at index i and records the position in its ref. */
static void place(clus_timer_heap *heap, size_t i, struct timer_entry e)
{
    heap->entries[i] = e;
    e.ref->pos = (uint32_t)(i + 1);
}

static void sift_up(clus_timer_heap *heap, size_t i, struct timer_entry e)
{
    while (i > 0 && entry_before(&e, &heap->entries[(i - 1) / 2])) {
        place(heap, i, heap->entries[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    place(heap, i, e);
}

static void sift_down(clus_timer_heap *heap, size_t i, struct timer_entry e)
{
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= heap->count)
            break;
        if (child + 1 < heap->count &&
            entry_before(&heap->entries[child + 1], &heap->entries[child]))
            child++;
        if (!entry_before(&heap->entries[child], &e))
            break;
        place(heap, i, heap->entries[child]);
        i = child;
    }
    place(heap, i, e);
}

/* Removes the entry at index i: the last entry takes its place. */
static void remove_at(clus_timer_heap *heap, size_t i)
{
    struct timer_entry last = heap->entries[--heap->count];

    heap->entries[i].ref->pos = 0;
    if (i == heap->count)
        return;
    if (i > 0 && entry_before(&last, &heap->entries[(i - 1) / 2]))
        sift_up(heap, i, last);
    else
        sift_down(heap, i, last);
}

bool clus_timer_heap_start(clus_timer_heap *heap, clus_timer_ref *ref, uint64_t due_ms)
{
    struct timer_entry e = {due_ms, heap->next_seq, ref};

    if (ref->pos == 0 && heap->count == heap->capacity)
        return false;
    heap->next_seq++;
    if (ref->pos != 0)
        remove_at(heap, ref->pos - 1);
    sift_up(heap, heap->count++, e);
    return true;
}

void clus_timer_heap_stop(clus_timer_heap *heap, clus_timer_ref *ref)
{
    if (ref->pos != 0)
        remove_at(heap, ref->pos - 1);
}

uint64_t clus_timer_heap_next_due(const clus_timer_heap *heap)
{
    return heap->count > 0 ? heap->entries[0].due_ms : UINT64_MAX;
}

uint64_t clus_timer_heap_mark(const clus_timer_heap *heap)
{
    return heap->next_seq;
}

/* Whatever started after mark sorts after every older entry that is due by
 * now (its due time is at least now), so looking at the top is enough. */
clus_timer_ref *clus_timer_heap_pop_due(clus_timer_heap *heap, uint64_t now_ms, uint64_t mark)
{
    clus_timer_ref *ref;

    if (heap->count == 0 || heap->entries[0].due_ms > now_ms || heap->entries[0].seq >= mark)
        return NULL;
    ref = heap->entries[0].ref;
    remove_at(heap, 0);
    return ref;
}

size_t clus_timer_heap_count(const clus_timer_heap *heap)
{
    return heap->count;
}
