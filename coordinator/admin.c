/*
 * admin.c - what operators ask for: online, offline, move, drain, undrain,
 * clear, plan. Every request is checked completely first; a refused one
 * changes nothing. Answers: 0 (done, or nothing to do), 997 (under way: see
 * `status` or `watch`), or an error with a sentence.
 */
#include "coord_internal.h"

#include "clock.h"
#include "log.h"
#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct cres *find_res(clus_coordinator *co, const char *name, uint32_t *status, char *msg,
                             size_t len)
{
    int i;

    if (name == NULL || !clus_name_valid(name)) {
        snprintf(msg, len, "'%.64s' is not a valid resource name", name ? name : "");
        *status = CLUS_E_INVALID_PARAMETER;
        return NULL;
    }
    if ((i = clus_clusterdef_resource(co->def, name)) < 0) {
        snprintf(msg, len, "no resource named '%s' in the cluster definition", name);
        *status = CLUS_E_RESOURCE_NOT_FOUND;
        return NULL;
    }
    return &co->res[i];
}

/* -1 with *status set when the name is bad or unknown. */
static int find_node(clus_coordinator *co, const char *name, uint32_t *status, char *msg,
                     size_t len)
{
    int i;

    if (name == NULL || !clus_name_valid(name)) {
        snprintf(msg, len, "'%.64s' is not a valid node name", name ? name : "");
        *status = CLUS_E_INVALID_PARAMETER;
        return -1;
    }
    if ((i = clus_clusterdef_node(co->def, name)) < 0) {
        snprintf(msg, len, "no node named '%s' in the cluster definition", name);
        *status = CLUS_E_CLUSTER_NODE_NOT_FOUND;
    }
    return i;
}

static uint32_t busy(const struct cres *r, char *msg, size_t len)
{
    char op[192];

    snprintf(msg, len, "%s is busy: %s", r->def->name, co_res_operation(r, op, sizeof(op)));
    return CLUS_E_INVALID_STATE;
}

/* ------------------------------------------------------------ online */

uint32_t co_admin_online(clus_coordinator *co, const char *name, const char *node_name, char *msg,
                         size_t len)
{
    uint32_t status = CLUS_OK;
    struct cres *r = find_res(co, name, &status, msg, len);
    int node = -1;
    clus_node_facts nodes[CLUS_DEF_MAX_NODES];
    clus_pol_facts facts;
    clus_pol_actions out;
    clus_pol_state *trial;
    clus_pol_event ev = {CLUS_POL_EV_ADMIN_ONLINE, -1};

    if (r == NULL)
        return status;
    if (node_name != NULL && *node_name != '\0' &&
        (node = find_node(co, node_name, &status, msg, len)) < 0)
        return status;
    if (r->op == OP_ONLINE && (node < 0 || node == r->call.node)) {
        snprintf(msg, len, "%s is already coming online on %s", name,
                 co->nodes[r->call.node].def->name);
        return CLUS_E_IO_PENDING;
    }
    if (r->op != OP_NONE)
        return busy(r, msg, len);
    /* Decide on a copy: a refusal must leave everything as it was. */
    if ((trial = clus_pol_state_copy(r->pol)) == NULL)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    ev.node = node;
    co_res_facts(r, nodes, &facts);
    facts.desired_online = true;
    clus_pol_decide(trial, &facts, &ev, &out);
    clus_pol_state_free(trial);
    if (out.n > 0 && out.items[0].kind == CLUS_POL_ACT_REFUSE) {
        snprintf(msg, len, "%s: %s", name, out.items[0].reason);
        return out.items[0].status;
    }
    r->desired_online = true;
    co_persist(r, true);
    co_res_decide(r, &ev, &out);
    if (out.row == CLUS_ROW_A4_ALREADY_ONLINE) {
        snprintf(msg, len, "%s is already online on %s", name, co->nodes[r->owner].def->name);
        return CLUS_OK;
    }
    snprintf(msg, len, "%s is coming online on %s", name,
             r->owner >= 0 ? co->nodes[r->owner].def->name : "(none)");
    return CLUS_E_IO_PENDING;
}

/* ------------------------------------------------------------ offline */

uint32_t co_admin_offline(clus_coordinator *co, const char *name, char *msg, size_t len)
{
    uint32_t status = CLUS_OK;
    struct cres *r = find_res(co, name, &status, msg, len);
    clus_pol_event ev = {CLUS_POL_EV_ADMIN_OFFLINE, -1};
    clus_pol_actions out;
    int in_flight = -1;

    if (r == NULL)
        return status;
    if (r->op == OP_MOVE || r->op == OP_TERMINATE)
        return busy(r, msg, len);
    if (r->op == OP_OFFLINE) {
        snprintf(msg, len, "%s is already going offline", name);
        return CLUS_E_IO_PENDING;
    }
    if (r->op == OP_ONLINE) {
        /* An Online sent (or pending) is superseded by an Offline with
         * IGNORE_RESOURCE_STATUS; one not sent yet is just dropped. */
        if (r->step == STEP_OPEN || r->step == STEP_CALL || r->step == STEP_AWAIT)
            in_flight = r->call.node;
        co_emit_res(r, "action", CLUS_OK, "online cancelled by an operator");
        r->op = OP_NONE;
        r->gen++;
    }
    r->desired_online = false;
    co_persist(r, true);
    co_res_decide(r, &ev, &out);
    if (in_flight >= 0 && r->op == OP_NONE)
        co_res_start_offline(r, in_flight, CLUS_OFFLINE_IGNORE_RESOURCE_STATUS);
    if (r->op == OP_NONE && r->owner >= 0 && r->state == CLUS_STATE_FAILED &&
        co_node_usable(&co->nodes[r->owner]))
        co_res_start_offline(r, r->owner, 0); /* Failed there: recorded Offline too */
    if (r->op == OP_NONE) {
        snprintf(msg, len, "%s is offline", name);
        return CLUS_OK;
    }
    snprintf(msg, len, "%s is going offline on %s", name, co->nodes[r->call.node].def->name);
    return CLUS_E_IO_PENDING;
}

/* ------------------------------------------------------------ move */

static uint32_t move_check_node(clus_coordinator *co, struct cres *r, int node, char *msg,
                                size_t len)
{
    const struct cnode *n = &co->nodes[node];

    if (!clus_def_possible(r->def, (size_t)node)) {
        snprintf(msg, len, "%s is not a possible owner of %s", n->def->name, r->def->name);
        return CLUS_E_NODE_CANT_HOST_RESOURCE;
    }
    if (!co_node_usable(n)) {
        snprintf(msg, len, "node %s is %s", n->def->name,
                 n->phase == NODE_UP ? "not synchronised yet" : "down");
        return CLUS_E_CLUSTER_NODE_DOWN;
    }
    if (n->draining) {
        snprintf(msg, len, "node %s is draining", n->def->name);
        return CLUS_E_INVALID_STATE;
    }
    return CLUS_OK;
}

uint32_t co_admin_move(clus_coordinator *co, const char *name, const char *node_name, bool rts,
                       char *msg, size_t len)
{
    uint32_t status = CLUS_OK;
    struct cres *r = find_res(co, name, &status, msg, len);
    int node = r != NULL ? find_node(co, node_name, &status, msg, len) : -1;

    if (r == NULL || node < 0)
        return status;
    if ((status = move_check_node(co, r, node, msg, len)) != CLUS_OK)
        return status;
    if (r->op != OP_NONE)
        return busy(r, msg, len);
    if (r->owner == node) {
        snprintf(msg, len, "%s is already on %s", name, node_name);
        return CLUS_OK;
    }
    if (r->believed_running && r->state == CLUS_STATE_ONLINE && r->owner >= 0 &&
        co_node_usable(&co->nodes[r->owner])) {
        co_res_start_move(r, node, rts, CLUS_POL_WHY_ADMIN);
        snprintf(msg, len, "%s is moving from %s to %s", name,
                 co->nodes[clus_move_source(r->move)].def->name, node_name);
        return CLUS_E_IO_PENDING;
    }
    if (r->believed_running || co_state_active(r->state)) {
        snprintf(msg, len, "%s is %s on %s, which %s", name, clus_state_name(r->state),
                 r->owner >= 0 ? co->nodes[r->owner].def->name : "(none)",
                 r->owner >= 0 && !co_node_usable(&co->nodes[r->owner]) ? "is down"
                                                                        : "is not settled");
        return r->owner >= 0 && !co_node_usable(&co->nodes[r->owner]) ? CLUS_E_CLUSTER_NODE_DOWN
                                                                      : CLUS_E_INVALID_STATE;
    }
    co_res_set_owner(r, node);
    snprintf(msg, len, "%s is not running; its owner is now %s", name, node_name);
    return CLUS_OK;
}

/* ------------------------------------------------------------ drain */

uint32_t co_admin_drain(clus_coordinator *co, const char *node_name, bool drain, char *msg,
                        size_t len)
{
    uint32_t status = CLUS_OK;
    int node = find_node(co, node_name, &status, msg, len);
    struct cnode *n;
    size_t hosted = 0;

    if (node < 0)
        return status;
    n = &co->nodes[node];
    for (size_t i = 0; i < co->n_res; i++)
        hosted += co->res[i].owner == node && co->res[i].believed_running;
    if (n->draining == drain) {
        snprintf(msg, len, "node %s is %s draining", node_name, drain ? "already" : "not");
        return CLUS_OK;
    }
    if (clus_cstore_put_draining(co->store, n->def->name, drain) != CLUS_OK) {
        snprintf(msg, len, "the store could not record it");
        return CLUS_E_IO_DEVICE;
    }
    n->draining = drain;
    co_emit_node(n, drain ? "draining: its resources move to their next nodes"
                          : "undrained: it takes resources again");
    if (!drain) {
        for (size_t i = 0; i < co->n_res; i++)
            co_res_node_up(&co->res[i], (size_t)node);
        snprintf(msg, len, "node %s takes resources again", node_name);
        return CLUS_OK;
    }
    snprintf(msg, len, "node %s is draining; %zu resource(s) to move", node_name, hosted);
    return hosted > 0 ? CLUS_E_IO_PENDING : CLUS_OK;
}

uint32_t co_admin_clear(clus_coordinator *co, const char *name, char *msg, size_t len)
{
    uint32_t status = CLUS_OK;
    struct cres *r = find_res(co, name, &status, msg, len);
    clus_pol_event ev = {CLUS_POL_EV_CLEAR, -1};
    clus_pol_actions out;

    if (r == NULL)
        return status;
    co_res_decide(r, &ev, &out);
    co_emit_res(r, "action", CLUS_OK, "counters cleared by an operator");
    snprintf(msg, len, "counters of %s cleared", name);
    return CLUS_OK;
}

/* ------------------------------------------------------------ plan */

static bool plan_add(Clus__V1__CoordPlan *plan, const struct cres *r, const clus_pol_actions *out,
                     const char *what_if)
{
    for (size_t i = 0; i < out->n || (i == 0 && out->n == 0); i++) {
        Clus__V1__CoordAction *a = calloc(1, sizeof(*a));
        Clus__V1__CoordAction **grown =
            realloc(plan->actions, (plan->n_actions + 1) * sizeof(*plan->actions));
        char reason[320];
        if (a == NULL || grown == NULL) {
            free(a);
            if (grown != NULL)
                plan->actions = grown;
            return false;
        }
        plan->actions = grown;
        clus__v1__coord_action__init(a);
        a->resource = (char *)r->def->name;
        a->row = (uint32_t)out->row;
        if (out->n == 0) {
            a->action = strdup("nothing");
            snprintf(reason, sizeof(reason), "%s; %s", what_if, clus_pol_row_name(out->row));
        } else {
            const clus_pol_action *p = &out->items[i];
            a->action = strdup(clus_pol_action_name(p->kind, p->why));
            a->node = (char *)(p->node >= 0 ? r->co->nodes[p->node].def->name : "");
            a->delay_ms = p->delay_ms;
            snprintf(reason, sizeof(reason), "%s; %s: %s", what_if, clus_pol_row_name(out->row),
                     p->reason);
        }
        a->reason = strdup(reason);
        plan->actions[plan->n_actions++] = a;
    }
    return true;
}

/* Runs the policy on a copy of r's state: nothing changes. */
static bool plan_one(Clus__V1__CoordPlan *plan, const struct cres *r, enum clus_pol_event_kind kind,
                     int lost_node, const char *what_if)
{
    clus_node_facts nodes[CLUS_DEF_MAX_NODES];
    clus_pol_facts facts;
    clus_pol_event ev = {kind, -1};
    clus_pol_actions out;
    clus_pol_state *copy = clus_pol_state_copy(r->pol);
    bool ok;

    if (copy == NULL)
        return false;
    co_res_facts(r, nodes, &facts);
    if (lost_node >= 0)
        nodes[lost_node].up = false;
    facts.state = CLUS_STATE_FAILED;
    clus_pol_decide(copy, &facts, &ev, &out);
    clus_pol_state_free(copy);
    ok = plan_add(plan, r, &out, what_if);
    return ok;
}

uint32_t co_admin_plan(clus_coordinator *co, const char *fail_node, const char *fail_res,
                       Clus__V1__CoordPlan *plan, char *msg, size_t len)
{
    bool by_node = fail_node != NULL && *fail_node != '\0';
    bool by_res = fail_res != NULL && *fail_res != '\0';
    uint32_t status = CLUS_OK;
    char what_if[200];
    int node;
    struct cres *r;

    if (by_node == by_res) {
        snprintf(msg, len, "plan needs exactly one of --fail-node NODE or --fail-resource NAME");
        return CLUS_E_INVALID_PARAMETER;
    }
    if (by_res) {
        if ((r = find_res(co, fail_res, &status, msg, len)) == NULL)
            return status;
        snprintf(what_if, sizeof(what_if), "if %s failed on %s now", fail_res,
                 r->owner >= 0 ? co->nodes[r->owner].def->name : "(no node)");
        if (!plan_one(plan, r, CLUS_POL_EV_FAILED, -1, what_if))
            return CLUS_E_NOT_ENOUGH_MEMORY;
        snprintf(msg, len, "what would happen if %s failed now (nothing was done)", fail_res);
        return CLUS_OK;
    }
    if ((node = find_node(co, fail_node, &status, msg, len)) < 0)
        return status;
    snprintf(what_if, sizeof(what_if), "if node %s were lost now", fail_node);
    for (size_t i = 0; i < co->n_res; i++) {
        r = &co->res[i];
        if (r->owner != node || !(r->believed_running || co_state_active(r->state)))
            continue;
        if (!plan_one(plan, r, CLUS_POL_EV_NODE_LOST, node, what_if))
            return CLUS_E_NOT_ENOUGH_MEMORY;
    }
    snprintf(msg, len,
             "what would happen if node %s were lost now: %zu resource(s) (nothing was "
             "done)",
             fail_node, plan->n_actions);
    return CLUS_OK;
}

void co_plan_free(Clus__V1__CoordPlan *plan)
{
    for (size_t i = 0; i < plan->n_actions; i++) {
        free(plan->actions[i]->action);
        free(plan->actions[i]->reason);
        free(plan->actions[i]);
    }
    free(plan->actions);
    plan->actions = NULL;
    plan->n_actions = 0;
}
