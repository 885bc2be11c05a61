/*
 * move.c - the move steps of move.h.
 */
#include "move.h"

#include <clus/restype.h>
#include <stdlib.h>

enum move_step {
    STEP_OFFLINE_SOURCE,
    STEP_ONLINE_DEST,
    STEP_TERMINATE_DEST,
    STEP_RETURN_LEG,
    STEP_ONLINE_SOURCE,
    STEP_DONE,
};

struct clus_move {
    int source, destination;
    bool return_to_source;
    bool source_leg_failed; /* step 5 reached from step 1 */
    enum move_step step;
    enum clus_move_outcome outcome;
};

clus_move *clus_move_new(int source, int destination, bool return_to_source)
{
    clus_move *m = calloc(1, sizeof(*m));

    if (m != NULL) {
        m->source = source;
        m->destination = destination;
        m->return_to_source = return_to_source;
        m->step = STEP_OFFLINE_SOURCE;
        m->outcome = CLUS_MOVE_RUNNING;
    }
    return m;
}

void clus_move_free(clus_move *move)
{
    free(move);
}

void clus_move_current(const clus_move *m, clus_move_call *out)
{
    *out = (clus_move_call){CLUS_MOVE_CALL_NONE, -1, 0, -1};
    switch (m->step) {
    case STEP_OFFLINE_SOURCE:
        *out = (clus_move_call){
            CLUS_MOVE_CALL_OFFLINE, m->source,
            m->return_to_source ? CLUS_OFFLINE_RETURN_TO_SOURCE_NODE_ON_ERROR : 0, m->destination};
        break;
    case STEP_ONLINE_DEST:
        *out = (clus_move_call){CLUS_MOVE_CALL_ONLINE, m->destination,
                                m->return_to_source ? CLUS_ONLINE_RETURN_TO_SOURCE_NODE_ON_ERR : 0,
                                -1};
        break;
    case STEP_TERMINATE_DEST:
        *out = (clus_move_call){CLUS_MOVE_CALL_TERMINATE, m->destination, 0, -1};
        break;
    case STEP_RETURN_LEG:
        *out = (clus_move_call){CLUS_MOVE_CALL_OFFLINE, m->destination,
                                CLUS_OFFLINE_RETURNING_TO_SOURCE_NODE_ON_ERR, m->source};
        break;
    case STEP_ONLINE_SOURCE:
        *out = (clus_move_call){CLUS_MOVE_CALL_ONLINE, m->source, 0, -1};
        break;
    case STEP_DONE:
        break;
    }
}

static void finish(clus_move *m, enum clus_move_outcome outcome)
{
    m->step = STEP_DONE;
    m->outcome = outcome;
}

void clus_move_result(clus_move *m, bool reached, int state_after)
{
    switch (m->step) {
    case STEP_OFFLINE_SOURCE:
        if (reached)
            m->step = STEP_ONLINE_DEST;
        else if (state_after == CLUS_STATE_ONLINE)
            finish(m, CLUS_MOVE_REJECTED);
        else {
            m->source_leg_failed = true;
            m->step = STEP_ONLINE_SOURCE;
        }
        break;
    case STEP_ONLINE_DEST:
        if (reached)
            finish(m, CLUS_MOVE_MOVED);
        else if (m->return_to_source)
            m->step = STEP_TERMINATE_DEST;
        else
            finish(m, CLUS_MOVE_DEST_FAILED);
        break;
    case STEP_TERMINATE_DEST:
        m->step = STEP_RETURN_LEG;
        break;
    case STEP_RETURN_LEG:
        m->step = STEP_ONLINE_SOURCE;
        break;
    case STEP_ONLINE_SOURCE:
        if (!reached)
            finish(m, CLUS_MOVE_SOURCE_FAILED);
        else
            finish(m, m->source_leg_failed ? CLUS_MOVE_REJECTED : CLUS_MOVE_RETURNED);
        break;
    case STEP_DONE:
        break;
    }
}

enum clus_move_outcome clus_move_outcome(const clus_move *m)
{
    return m->outcome;
}

int clus_move_owner(const clus_move *m)
{
    switch (m->step) {
    case STEP_ONLINE_DEST:
    case STEP_TERMINATE_DEST:
    case STEP_RETURN_LEG:
        return m->destination;
    case STEP_DONE:
        return m->outcome == CLUS_MOVE_MOVED || m->outcome == CLUS_MOVE_DEST_FAILED ? m->destination
                                                                                    : m->source;
    default:
        return m->source;
    }
}

int clus_move_source(const clus_move *m)
{
    return m->source;
}

int clus_move_destination(const clus_move *m)
{
    return m->destination;
}

const char *clus_move_step_name(const clus_move *m)
{
    static const char *const names[] = {"offline-source",        "online-destination",
                                        "terminate-destination", "return-leg",
                                        "online-source",         "done"};

    return names[m->step];
}

const char *clus_move_outcome_name(enum clus_move_outcome outcome)
{
    static const char *const names[] = {"running",  "moved",       "rejected",
                                        "returned", "dest-failed", "source-failed"};

    return names[outcome];
}
