/*
 * move.h - the steps of moving one resource from a source node to a
 * destination, as a pure state machine (the coordinator makes the calls and
 * feeds back each result).
 *
 *   1. OfflineV2 on the source, destination named; flag 0x2 with
 *      return-to-source.
 *      - Offline: ownership passes to the destination; go to 2.
 *      - refused while still Online (busy, locked, not supported): the type
 *        rejected the move. Done, REJECTED: it stays where it was and no
 *        failure is counted.
 *      - failed and down: OnlineV2 back on the source (step 5), not counted.
 *   2. OnlineV2 on the destination; flag 0x4 with return-to-source.
 *      - Online: done, MOVED.
 *      - failed, without return-to-source: done, DEST_FAILED (normal policy
 *        on the destination, which owns it now).
 *      - failed, with return-to-source: 3.
 *   3. Terminate on the destination.
 *   4. OfflineV2 on the destination with 0x8 (the return leg), the source
 *      named; ownership goes back to the source.
 *   5. OnlineV2 on the source.
 *      - Online: done, RETURNED (or REJECTED when coming from step 1).
 *      - failed: done, SOURCE_FAILED (normal policy on the source).
 *
 * Safety is not this module's business: the coordinator sends no Online
 * before every other node is known not to run the resource.
 */
#ifndef CLUS_COORD_MOVE_H
#define CLUS_COORD_MOVE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct clus_move clus_move;

enum clus_move_call_kind {
    CLUS_MOVE_CALL_OFFLINE,
    CLUS_MOVE_CALL_ONLINE,
    CLUS_MOVE_CALL_TERMINATE,
    CLUS_MOVE_CALL_NONE, /* the move is over: see clus_move_outcome */
};

typedef struct clus_move_call {
    enum clus_move_call_kind kind;
    int node;
    uint32_t flags;  /* OnlineV2 / OfflineV2 flags */
    int destination; /* OfflineV2: the node named as destination, -1 none */
} clus_move_call;

enum clus_move_outcome {
    CLUS_MOVE_RUNNING,
    CLUS_MOVE_MOVED,         /* Online on the destination */
    CLUS_MOVE_REJECTED,      /* the source refused: unchanged, not a failure */
    CLUS_MOVE_RETURNED,      /* the destination failed; Online on the source again */
    CLUS_MOVE_DEST_FAILED,   /* the destination failed (no return-to-source) */
    CLUS_MOVE_SOURCE_FAILED, /* coming back to the source failed too */
};

clus_move *clus_move_new(int source, int destination, bool return_to_source);
void clus_move_free(clus_move *move);

/* The call to make now (the first one right after clus_move_new). */
void clus_move_current(const clus_move *move, clus_move_call *out);

/* Feeds the result of the current call: reached = it ended in the state
 * asked (Offline for offline/terminate, Online for online); state_after =
 * the resource's state on that node as now known. Advances to the next call. */
void clus_move_result(clus_move *move, bool reached, int state_after);

enum clus_move_outcome clus_move_outcome(const clus_move *move);

/* The node that owns the resource at this step (changes after step 1 and
 * step 4). */
int clus_move_owner(const clus_move *move);

int clus_move_source(const clus_move *move);
int clus_move_destination(const clus_move *move);

/* "offline-source", "online-destination", ... for status. */
const char *clus_move_step_name(const clus_move *move);
const char *clus_move_outcome_name(enum clus_move_outcome outcome);

#endif
