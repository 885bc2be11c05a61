/*
 * engine.c - resource operations: one at a time per resource, made of
 * calls to agents (Open, OnlineV2, OfflineV2, Terminate); the safety gate
 * in front of every Online; what an agent's view of a resource means
 * (failure, second copy, adoption); and the policy's actions.
 *
 * An operation's call goes DELAY -> GATE (Online only) -> OPEN (if the
 * agent does not have the resource open) -> CALL -> AWAIT (997, or the
 * outcome is unknown after a transport error: the final state then comes
 * from the agent's events or a full status read). Each call has a
 * generation; answers to older calls are ignored.
 */
#include "coord_internal.h"

#include "clock.h"
#include "log.h"
#include "params.h"
#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct call_ctx {
    clus_coordinator *co;
    size_t res;
    uint64_t gen;
    bool open; /* the Open before an Online */
    size_t node;
};

struct kill_ctx {
    clus_coordinator *co;
    size_t res, node;
};

static void op_advance(struct cres *r, uint64_t now);
static void start_call(struct cres *r);

bool co_state_active(int state)
{
    return state == CLUS_STATE_ONLINE || state == CLUS_STATE_ONLINE_PENDING ||
           state == CLUS_STATE_OFFLINE_PENDING;
}

static bool state_final(int state)
{
    return state == CLUS_STATE_ONLINE || state == CLUS_STATE_OFFLINE || state == CLUS_STATE_FAILED;
}

static const char *node_name(const struct cres *r, int node)
{
    return node >= 0 ? r->co->nodes[node].def->name : "(none)";
}

/* ------------------------------------------------------------ state */

static void set_state(struct cres *r, int state, const char *why)
{
    if (r->state == state)
        return;
    r->state = state;
    co_emit_res(r, "resource", r->last_status, "%s%s%s", clus_state_name(state), why ? ": " : "",
                why ? why : "");
}

void co_res_set_owner(struct cres *r, int owner)
{
    if (r->owner == owner)
        return;
    r->owner = owner;
    r->owner_present = owner >= 0 && r->views[owner].present;
    co_persist(r, true); /* on disk before any call that depends on it */
    co_emit_res(r, "resource", CLUS_OK, "owner is now %s", node_name(r, owner));
}

void co_res_facts(const struct cres *r, clus_node_facts *nodes, clus_pol_facts *out)
{
    co_node_facts(r->co, nodes);
    *out = (clus_pol_facts){
        .res = r->def,
        .nodes = nodes,
        .n_nodes = r->co->n_nodes,
        .owner = r->owner,
        .state = r->state,
        .desired_online = r->desired_online,
        .now_ms = clus_mono_ms(),
        .local_hour = co_local_hour(),
    };
}

/* ------------------------------------------------------------ operations */

static void op_end(struct cres *r)
{
    r->op = OP_NONE;
    r->gen++;
    clus_move_free(r->move);
    r->move = NULL;
}

static void op_begin(struct cres *r, enum op_kind kind, enum clus_pol_why why, clus_move_call call,
                     uint64_t delay_ms)
{
    if (r->op != OP_NONE)
        op_end(r);
    r->op = kind;
    r->why = why;
    r->call = call;
    r->step = STEP_DELAY;
    r->step_at = clus_mono_ms() + delay_ms;
    r->gen++;
    op_advance(r, clus_mono_ms());
}

static void start_online(struct cres *r, int node, uint64_t delay_ms, enum clus_pol_why why)
{
    co_res_set_owner(r, node);
    op_begin(r, OP_ONLINE, why, (clus_move_call){CLUS_MOVE_CALL_ONLINE, node, 0, -1}, delay_ms);
}

void co_res_start_offline(struct cres *r, int node, uint32_t flags)
{
    op_begin(r, OP_OFFLINE, CLUS_POL_WHY_ADMIN,
             (clus_move_call){CLUS_MOVE_CALL_OFFLINE, node, flags, -1}, 0);
}

void co_res_start_move(struct cres *r, int destination, bool rts, enum clus_pol_why why)
{
    clus_move_call call;

    if (r->op != OP_NONE)
        op_end(r);
    if ((r->move = clus_move_new(r->owner, destination, rts)) == NULL)
        return;
    co_emit_res(r, "action", CLUS_OK, "%s from %s to %s%s",
                why == CLUS_POL_WHY_FAILBACK ? "failback" : "move", node_name(r, r->owner),
                node_name(r, destination), rts ? " (return to source on error)" : "");
    clus_move_current(r->move, &call);
    r->op = OP_MOVE;
    r->why = why;
    r->call = call;
    r->gen++;
    start_call(r);
}

/* ------------------------------------------------------------ policy */

static void apply_action(struct cres *r, const clus_pol_action *a, enum clus_pol_row row)
{
    switch (a->kind) {
    case CLUS_POL_ACT_ONLINE:
        co_emit_res(r, "action", CLUS_OK, "%s on %s in %llu ms (%s: %s)",
                    clus_pol_action_name(a->kind, a->why), node_name(r, a->node),
                    (unsigned long long)a->delay_ms, clus_pol_row_name(row), a->reason);
        start_online(r, a->node, a->delay_ms, a->why);
        break;
    case CLUS_POL_ACT_OFFLINE:
        co_res_start_offline(
            r, a->node, r->state == CLUS_STATE_ONLINE ? 0 : CLUS_OFFLINE_IGNORE_RESOURCE_STATUS);
        break;
    case CLUS_POL_ACT_MOVE:
        co_res_start_move(r, a->node, true, a->why);
        break;
    case CLUS_POL_ACT_FAILED:
        set_state(r, CLUS_STATE_FAILED, NULL);
        co_emit_res(r, "action", r->last_status, "stays Failed (%s: %s)%s", clus_pol_row_name(row),
                    a->reason,
                    a->why == CLUS_POL_WHY_RETRY ? "; one retry after RetryPeriodOnFailure" : "");
        break;
    case CLUS_POL_ACT_WAIT:
        co_emit_res(r, "action", CLUS_OK, "waits for a node (%s: %s)", clus_pol_row_name(row),
                    a->reason);
        break;
    case CLUS_POL_ACT_REFUSE:
        break;
    }
}

void co_res_decide(struct cres *r, const clus_pol_event *ev, clus_pol_actions *out)
{
    clus_node_facts nodes[CLUS_DEF_MAX_NODES];
    clus_pol_facts facts;

    co_res_facts(r, nodes, &facts);
    clus_pol_decide(r->pol, &facts, ev, out);
    r->pol_due_ms = clus_pol_due_ms(r->pol);
    if (out->row != CLUS_ROW_NONE)
        clus_debug("resource %s: policy row %s", r->def->name, clus_pol_row_name(out->row));
    co_persist(r, false);
    for (size_t i = 0; i < out->n; i++)
        apply_action(r, &out->items[i], out->row);
}

static void decide(struct cres *r, enum clus_pol_event_kind kind, int node)
{
    clus_pol_event ev = {kind, node};
    clus_pol_actions out;

    co_res_decide(r, &ev, &out);
}

/* ------------------------------------------------------------ results */

static void move_done(struct cres *r, enum clus_move_outcome outcome, int state_after)
{
    int src = clus_move_source(r->move), dst = clus_move_destination(r->move);

    op_end(r);
    switch (outcome) {
    case CLUS_MOVE_MOVED:
    case CLUS_MOVE_RETURNED:
    case CLUS_MOVE_REJECTED:
        r->believed_running = state_after == CLUS_STATE_ONLINE;
        set_state(r, state_after, NULL);
        co_emit_res(r, "action", r->last_status, "move %s -> %s: %s%s", node_name(r, src),
                    node_name(r, dst), clus_move_outcome_name(outcome),
                    outcome == CLUS_MOVE_REJECTED ? " (not counted as a failure)" : "");
        if (outcome == CLUS_MOVE_RETURNED)
            decide(r, CLUS_POL_EV_MOVE_FAILED, -1);
        if (r->believed_running)
            decide(r, CLUS_POL_EV_ONLINE, -1);
        co_persist(r, false);
        break;
    default:
        r->believed_running = false;
        set_state(r, CLUS_STATE_FAILED, NULL);
        co_emit_res(r, "action", r->last_status, "move %s -> %s: %s; normal policy applies",
                    node_name(r, src), node_name(r, dst), clus_move_outcome_name(outcome));
        decide(r, CLUS_POL_EV_FAILED, -1);
        break;
    }
}

/* The current call ended: reached = it ended in the state asked for. */
static void call_result(struct cres *r, bool reached, int state_after)
{
    enum op_kind kind = r->op;

    if (r->call.node == r->owner && kind != OP_MOVE)
        set_state(r, state_after, NULL);
    if (kind == OP_MOVE) {
        co_emit_res(r, "action", r->last_status, "move step %s on %s: %s (%s)",
                    clus_move_step_name(r->move), node_name(r, r->call.node),
                    reached ? "done" : "failed", clus_state_name(state_after));
        clus_move_result(r->move, reached, state_after);
        co_res_set_owner(r, clus_move_owner(r->move));
        if (clus_move_outcome(r->move) != CLUS_MOVE_RUNNING) {
            move_done(r, clus_move_outcome(r->move), state_after);
            return;
        }
        clus_move_current(r->move, &r->call);
        r->gen++;
        start_call(r);
        return;
    }
    op_end(r);
    if (kind == OP_ONLINE) {
        r->believed_running = reached;
        decide(r, reached ? CLUS_POL_EV_ONLINE : CLUS_POL_EV_FAILED, -1);
    } else if (kind == OP_OFFLINE) {
        r->believed_running = false;
        co_persist(r, false);
    }
}

static int wanted_state(const struct cres *r)
{
    return r->call.kind == CLUS_MOVE_CALL_ONLINE ? CLUS_STATE_ONLINE : CLUS_STATE_OFFLINE;
}

static void view_from_reply(struct cres *r, size_t node, const Clus__V1__Response *resp)
{
    struct view *v = &r->views[node];
    const Clus__V1__ResourceInfo *info =
        resp != NULL && resp->result_case == CLUS__V1__RESPONSE__RESULT_RESOURCE ? resp->resource
                                                                                 : NULL;

    if (info == NULL || (v->known && info->seq < v->seq))
        return;
    co_view_present(r, node, true);
    v->state = info->state;
    v->seq = info->seq;
    v->known = r->co->nodes[node].synced;
}

static void on_open_reply(struct cres *r, uint32_t status, const Clus__V1__Response *resp)
{
    if (status != CLUS_OK) {
        r->step = STEP_AWAIT; /* unknown: the status read decides */
        r->step_at = clus_mono_ms() + CO_AWAIT_SLACK_MS;
        co_node_resync(&r->co->nodes[r->call.node]);
        return;
    }
    if (resp->status == CLUS_OK || resp->status == CLUS_E_OBJECT_ALREADY_EXISTS) {
        co_view_present(r, (size_t)r->call.node, true);
        r->step = STEP_CALL;
        start_call(r);
        return;
    }
    r->last_status = resp->status;
    snprintf(r->last_message, sizeof(r->last_message), "open on %s: %s", node_name(r, r->call.node),
             resp->message);
    call_result(r, false, CLUS_STATE_FAILED);
}

static void on_call_reply(void *arg, uint32_t status, const Clus__V1__Response *resp)
{
    struct call_ctx *ctx = arg;
    clus_coordinator *co = ctx->co;
    struct cres *r = &co->res[ctx->res];
    bool stale = ctx->gen != r->gen || co->stopping, open = ctx->open;
    size_t node = ctx->node;
    int state;

    free(ctx);
    if (status == CLUS_OK && !co->stopping)
        view_from_reply(r, node, resp);
    if (stale)
        return;
    if (open) {
        on_open_reply(r, status, resp);
        return;
    }
    if (status != CLUS_OK || resp->status == CLUS_E_IO_PENDING) {
        r->step = STEP_AWAIT;
        r->step_at = clus_mono_ms() + r->def->policy.pending_timeout_ms + CO_AWAIT_SLACK_MS;
        if (status != CLUS_OK) /* the outcome is unknown: read it */
            co_node_resync(&r->co->nodes[r->call.node]);
        op_advance(r, clus_mono_ms());
        return;
    }
    if (resp->status != CLUS_OK) {
        r->last_status = resp->status;
        snprintf(r->last_message, sizeof(r->last_message), "%s", resp->message);
    }
    state = resp->result_case == CLUS__V1__RESPONSE__RESULT_RESOURCE ? resp->resource->state
            : resp->status == CLUS_OK                                ? wanted_state(r)
                                                                     : CLUS_STATE_FAILED;
    call_result(r, resp->status == CLUS_OK && state == wanted_state(r), state);
}

/* ------------------------------------------------------------ sending */

static void send_open(struct cres *r, Clus__V1__Request *req, Clus__V1__OpenCall *open,
                      Clus__V1__Param *storage, Clus__V1__Param **ptrs, char (*nums)[16])
{
    clus_param params[CLUS_PARAMS_MAX];
    const char *props[] = {"pending_timeout_ms", "looks_alive_ms", "is_alive_ms"};
    uint32_t values[] = {r->def->policy.pending_timeout_ms, r->def->policy.looks_alive_ms,
                         r->def->policy.is_alive_ms};
    size_t n = clus_def_params_for(r->def, (size_t)r->call.node, params, CLUS_DEF_MAX_PARAMS);

    for (size_t i = 0; i < n; i++) {
        clus__v1__param__init(&storage[i]);
        storage[i].key = (char *)params[i].key;
        storage[i].value = (char *)params[i].value;
        ptrs[i] = &storage[i];
    }
    for (size_t i = 0; i < 3; i++) {
        clus__v1__param__init(&storage[n]);
        snprintf(nums[i], sizeof(nums[i]), "%u", values[i]);
        storage[n].key = (char *)props[i];
        storage[n].value = nums[i];
        ptrs[n] = &storage[n];
        n++;
    }
    open->resource = r->def->name;
    open->type = r->def->type;
    open->n_params = n;
    open->params = ptrs;
    req->call_case = CLUS__V1__REQUEST__CALL_OPEN;
    req->open = open;
}

static void send_call(struct cres *r, bool open_first)
{
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
    Clus__V1__OpenCall open = CLUS__V1__OPEN_CALL__INIT;
    Clus__V1__OnlineCall online = CLUS__V1__ONLINE_CALL__INIT;
    Clus__V1__OfflineCall offline = CLUS__V1__OFFLINE_CALL__INIT;
    Clus__V1__ResourceRef ref = CLUS__V1__RESOURCE_REF__INIT;
    Clus__V1__Param storage[CLUS_PARAMS_MAX];
    Clus__V1__Param *ptrs[CLUS_PARAMS_MAX];
    char nums[3][16];
    struct call_ctx *ctx = malloc(sizeof(*ctx));
    struct cnode *node = &r->co->nodes[r->call.node];

    if (ctx == NULL)
        return; /* retried: the step stays as it is, see op_advance */
    *ctx = (struct call_ctx){r->co, r->index, r->gen, open_first, (size_t)r->call.node};
    online.resource = offline.resource = ref.resource = r->def->name;
    if (open_first) {
        send_open(r, &req, &open, storage, ptrs, nums);
    } else if (r->call.kind == CLUS_MOVE_CALL_ONLINE) {
        online.flags = r->call.flags;
        req.call_case = CLUS__V1__REQUEST__CALL_ONLINE_V2;
        req.online_v2 = &online;
    } else if (r->call.kind == CLUS_MOVE_CALL_OFFLINE) {
        offline.flags = r->call.flags;
        offline.destination_node =
            (char *)(r->call.destination >= 0 ? node_name(r, r->call.destination) : "");
        req.call_case = CLUS__V1__REQUEST__CALL_OFFLINE_V2;
        req.offline_v2 = &offline;
    } else {
        req.call_case = CLUS__V1__REQUEST__CALL_TERMINATE;
        req.terminate = &ref;
    }
    r->step = open_first ? STEP_OPEN : STEP_CALL;
    clus_debug("resource %s: %s on %s (flags 0x%x)", r->def->name,
               open_first                                            ? "Open"
               : req.call_case == CLUS__V1__REQUEST__CALL_ONLINE_V2  ? "OnlineV2"
               : req.call_case == CLUS__V1__REQUEST__CALL_OFFLINE_V2 ? "OfflineV2"
                                                                     : "Terminate",
               node->def->name, r->call.flags);
    clus_link_call(node->link, CLUS_LANE_OPS, &req, CO_OPS_TIMEOUT_MS, on_call_reply, ctx);
}

static void start_call(struct cres *r)
{
    r->step = r->call.kind == CLUS_MOVE_CALL_ONLINE ? STEP_GATE : STEP_CALL;
    if (r->step == STEP_CALL)
        send_call(r, false);
    else
        op_advance(r, clus_mono_ms());
}

/* ------------------------------------------------------------ the gate */

/* True when an Online of r may be sent to target: the target takes calls,
 * and every other node either is fenced (DOWN) or is known not to run r. */
static bool gate_open(const struct cres *r, size_t target)
{
    const clus_coordinator *co = r->co;

    if (!co_node_usable(&co->nodes[target]))
        return false;
    for (size_t m = 0; m < co->n_nodes; m++) {
        const struct view *v = &r->views[m];
        if (m == target || co->nodes[m].phase == NODE_DOWN)
            continue;
        if (!co->nodes[m].synced || !v->known || (v->present && co_state_active(v->state)))
            return false;
    }
    return true;
}

static void op_advance(struct cres *r, uint64_t now)
{
    const struct view *v;

    switch (r->step) {
    case STEP_DELAY:
        if (now >= r->step_at)
            start_call(r);
        break;
    case STEP_GATE:
        if (gate_open(r, (size_t)r->call.node))
            send_call(r, !r->views[r->call.node].present);
        break;
    case STEP_AWAIT:
        v = &r->views[r->call.node];
        if (v->known && state_final(v->state)) {
            call_result(r, v->state == wanted_state(r), v->state);
        } else if (now >= r->step_at) {
            r->step_at = now + CO_AWAIT_SLACK_MS;
            co_node_resync(&r->co->nodes[r->call.node]);
        }
        break;
    case STEP_OPEN:
    case STEP_CALL:
        break;
    }
}

/* ------------------------------------------------------------ observing */

static void on_kill_reply(void *arg, uint32_t status, const Clus__V1__Response *resp)
{
    struct kill_ctx *ctx = arg;
    struct cres *r = &ctx->co->res[ctx->res];

    if (!ctx->co->stopping) {
        r->views[ctx->node].killing = false;
        if (status == CLUS_OK)
            view_from_reply(r, ctx->node, resp);
    }
    free(ctx);
}

/* A copy where it should not run: Terminate it there. */
static void kill_copy(struct cres *r, size_t node)
{
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
    Clus__V1__ResourceRef ref = CLUS__V1__RESOURCE_REF__INIT;
    struct kill_ctx *ctx;

    if (r->views[node].killing || (ctx = malloc(sizeof(*ctx))) == NULL)
        return;
    *ctx = (struct kill_ctx){r->co, r->index, node};
    r->views[node].killing = true;
    co_emit_res(r, "action", CLUS_OK, "a copy runs on %s, which does not own it: terminating it",
                r->co->nodes[node].def->name);
    ref.resource = r->def->name;
    req.call_case = CLUS__V1__REQUEST__CALL_TERMINATE;
    req.terminate = &ref;
    clus_link_call(r->co->nodes[node].link, CLUS_LANE_OPS, &req, CO_OPS_TIMEOUT_MS, on_kill_reply,
                   ctx);
}

static bool involved(const struct cres *r, size_t node)
{
    if (r->op == OP_NONE)
        return false;
    if (r->call.node == (int)node)
        return true;
    return r->move != NULL &&
           (clus_move_source(r->move) == (int)node || clus_move_destination(r->move) == (int)node);
}

/* Where it runs but should not: adopt a single copy when its owner is
 * known not to run it (e.g. onlined by hand), terminate any other. */
static void check_copies(struct cres *r)
{
    clus_coordinator *co = r->co;
    int running = -1, count = 0;
    bool owner_down;

    /* The usual case, checked on every tick without touching the views: no
     * agent but the owner has it open, so no copy can run anywhere. */
    if (r->n_present == (r->owner_present ? 1u : 0u))
        return;
    for (size_t m = 0; m < co->n_nodes; m++) {
        const struct view *v = &r->views[m];
        if ((int)m != r->owner && co_node_usable(&co->nodes[m]) && v->known && v->present &&
            co_state_active(v->state) && !involved(r, m)) {
            running = (int)m;
            count++;
        }
    }
    if (count == 0)
        return;
    owner_down = r->owner < 0 || co->nodes[r->owner].phase == NODE_DOWN ||
                 (r->views[r->owner].known && !co_state_active(r->views[r->owner].state));
    if (r->op == OP_NONE && count == 1 && owner_down && !r->believed_running) {
        co_emit_res(r, "action", CLUS_OK, "found running on %s only: adopted there",
                    co->nodes[running].def->name);
        co_res_set_owner(r, running);
        r->believed_running = true;
        set_state(r, r->views[running].state, NULL);
        return;
    }
    for (size_t m = 0; m < co->n_nodes; m++) {
        const struct view *v = &r->views[m];
        if ((int)m != r->owner && co_node_usable(&co->nodes[m]) && v->known && v->present &&
            co_state_active(v->state) && !involved(r, m))
            kill_copy(r, m);
    }
}

void co_res_observe(struct cres *r, size_t node)
{
    const struct view *v = &r->views[node];
    int state;

    if (!v->known)
        return;
    state = v->present ? v->state : CLUS_STATE_OFFLINE;
    if ((int)node == r->owner)
        set_state(r, state, NULL); /* pending states show while an operation runs */
    if (r->op != OP_NONE) {
        if (r->step == STEP_AWAIT && r->call.node == (int)node)
            op_advance(r, clus_mono_ms());
        return;
    }
    if ((int)node != r->owner)
        return; /* copies elsewhere: check_copies, from the tick */
    if (co_state_active(state)) {
        r->believed_running = true;
        if (!r->desired_online && state == CLUS_STATE_ONLINE)
            co_res_start_offline(r, (int)node, 0); /* it should be offline */
        return;
    }
    if (r->believed_running) {
        r->believed_running = false;
        co_persist(r, false);
        if (r->desired_online)
            decide(r, CLUS_POL_EV_FAILED, -1);
    }
}

/* ------------------------------------------------------------ tick */

/* Should run, runs nowhere as far as every node can tell: start it (within
 * the tick's budget, see clus_coordinator.start_budget_end_us). */
static void maybe_start(struct cres *r)
{
    clus_coordinator *co = r->co;

    if (!r->desired_online || r->believed_running || clus_pol_phase(r->pol) != CLUS_POL_IDLE ||
        co->starts_paused)
        return;
    for (size_t m = 0; m < co->n_nodes; m++) {
        const struct view *v = &r->views[m];
        if (co->nodes[m].phase == NODE_DOWN)
            continue;
        if (!co->nodes[m].synced || !v->known || (v->present && co_state_active(v->state)))
            return;
    }
    decide(r, CLUS_POL_EV_START, -1);
    if (clus_mono_us() >= co->start_budget_end_us)
        co->starts_paused = true; /* the others on the next tick */
}

/* Its node is draining: move it to the next node that can take it. */
static void drain_check(struct cres *r, uint64_t now)
{
    clus_node_facts nodes[CLUS_DEF_MAX_NODES];
    int target;

    if (r->owner < 0 || !r->co->nodes[r->owner].draining || !r->desired_online ||
        r->state != CLUS_STATE_ONLINE || !r->believed_running ||
        !co_node_usable(&r->co->nodes[r->owner]) || now < r->drain_backoff_ms)
        return;
    co_node_facts(r->co, nodes);
    target = clus_place_next(r->def, nodes, r->co->n_nodes, r->owner);
    r->drain_backoff_ms = now + CO_DRAIN_BACKOFF_MS;
    if (target >= 0)
        co_res_start_move(r, target, false, CLUS_POL_WHY_ADMIN);
}

void co_res_tick(struct cres *r, uint64_t now)
{
    uint64_t due;

    check_copies(r);
    if (r->op != OP_NONE) {
        op_advance(r, now);
        return;
    }
    due = r->pol_due_ms;
    if (due != 0 && now >= due)
        decide(r, CLUS_POL_EV_TICK, -1);
    if (r->op == OP_NONE)
        drain_check(r, now);
    if (r->op == OP_NONE)
        maybe_start(r);
}

/* ------------------------------------------------------------ nodes */

void co_res_node_down(struct cres *r, size_t node)
{
    struct view *v = &r->views[node];
    bool was_running = r->believed_running && r->owner == (int)node;

    /* Its lease provably ran out: whatever it hosted is terminated. */
    v->known = true;
    v->state = CLUS_STATE_OFFLINE;
    v->killing = false;
    if (involved(r, node)) {
        was_running = was_running || r->op == OP_ONLINE || r->op == OP_MOVE;
        if (r->move != NULL)
            co_res_set_owner(r, clus_move_owner(r->move));
        co_emit_res(r, "action", CLUS_E_CLUSTER_NODE_DOWN, "operation abandoned: %s is down",
                    r->co->nodes[node].def->name);
        op_end(r);
    }
    if (r->owner != (int)node)
        return;
    r->believed_running = false;
    r->last_status = CLUS_E_CLUSTER_NODE_DOWN;
    snprintf(r->last_message, sizeof(r->last_message), "node %s is down",
             r->co->nodes[node].def->name);
    set_state(r, CLUS_STATE_OFFLINE, "its node is down");
    if (was_running)
        decide(r, CLUS_POL_EV_NODE_LOST, -1);
    else
        co_persist(r, false);
}

void co_res_node_up(struct cres *r, size_t node)
{
    if (r->op == OP_NONE && clus_pol_wants_node_up(r->pol, &r->def->policy))
        decide(r, CLUS_POL_EV_NODE_UP, (int)node);
}

const char *co_res_operation(const struct cres *r, char *buf, size_t len)
{
    static const char *const steps[] = {"waiting", "waiting for the safety gate", "opening",
                                        "calling", "waiting for the final state"};
    uint64_t now = clus_mono_ms();

    if (r->op == OP_NONE) {
        buf[0] = '\0';
    } else if (r->op == OP_MOVE) {
        snprintf(buf, len, "move %s -> %s: %s (%s)", node_name(r, clus_move_source(r->move)),
                 node_name(r, clus_move_destination(r->move)), clus_move_step_name(r->move),
                 steps[r->step]);
    } else {
        snprintf(buf, len, "%s on %s: %s%s",
                 r->op == OP_ONLINE    ? clus_pol_action_name(CLUS_POL_ACT_ONLINE, r->why)
                 : r->op == OP_OFFLINE ? "offline"
                                       : "terminate",
                 node_name(r, r->call.node), steps[r->step],
                 r->step == STEP_DELAY && r->step_at > now ? " (restart delay)" : "");
    }
    return buf;
}
