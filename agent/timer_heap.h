/*
 * timer_heap.h - many one-shot deadlines kept in one binary min-heap, so
 * that an agent needs one libuv timer in all instead of one per deadline
 * (a uv_timer_t is 152 bytes; a resource has four deadlines).
 *
 * The heap knows no clock: callers pass due and "now" in one time base (the
 * agent uses uv_now). Entries with the same due time come out in the order
 * they were started, as libuv's own timers do.
 *
 * Ownership: the caller embeds a clus_timer_ref per deadline and keeps it
 * at a fixed address while it is armed; the heap keeps a pointer to it to
 * record the entry's position. Not thread-safe: one thread (the loop) owns it.
 */
#ifndef CLUS_TIMER_HEAP_H
#define CLUS_TIMER_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct clus_timer_heap clus_timer_heap;

/* One deadline's handle. Zero-initialised = not armed. The heap keeps no
 * pointer of the owner's (an entry is 24 bytes): the owner finds itself from
 * the ref that pop hands back, and tag is the owner's to tell its deadlines
 * apart (the heap never touches it). */
typedef struct clus_timer_ref {
    uint32_t pos; /* 0: not armed; else the entry's index in the heap + 1 */
    uint32_t tag;
} clus_timer_ref;

clus_timer_heap *clus_timer_heap_new(void);
/* Frees the heap without touching the refs (their owners may be gone). */
void clus_timer_heap_free(clus_timer_heap *heap);

/* Makes room for `count` armed deadlines in all, so that start never needs
 * memory. false: out of memory (nothing changed). */
bool clus_timer_heap_reserve(clus_timer_heap *heap, size_t count);

/* Arms ref to come due at due_ms (re-arms it when armed). The caller has
 * reserved room (reserve); a start beyond it returns false and leaves ref
 * as it was. */
bool clus_timer_heap_start(clus_timer_heap *heap, clus_timer_ref *ref, uint64_t due_ms);

/* Disarms ref; nothing when it is not armed. */
void clus_timer_heap_stop(clus_timer_heap *heap, clus_timer_ref *ref);

/* The earliest due time, or UINT64_MAX when nothing is armed. */
uint64_t clus_timer_heap_next_due(const clus_timer_heap *heap);

/* A mark of "everything started so far": pop with it never returns an entry
 * started after the mark was taken, so that a callback that re-arms at once
 * cannot keep one round of firing going forever. This holds when entries
 * are started with a due time no earlier than the now_ms popped with. */
uint64_t clus_timer_heap_mark(const clus_timer_heap *heap);

/* Takes out the earliest entry due at or before now_ms and started before
 * mark, disarms its ref and returns it. NULL: none is. */
clus_timer_ref *clus_timer_heap_pop_due(clus_timer_heap *heap, uint64_t now_ms, uint64_t mark);

size_t clus_timer_heap_count(const clus_timer_heap *heap);

#endif
