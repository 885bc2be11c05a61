/*
 * cli_coordinator.c - clusctl's commands against clus-coordinator, and
 * `config validate FILE` (no daemon). They speak coordinator.proto through
 * coord_client.h, so each opens its own connection to ctx->url (the table
 * marks them no_connect: cli_main's client speaks the agent's protocol).
 *
 * Output: a table, or with -o json one object per reply (watch: one per
 * event, a JSON line each). Exit codes as in cli.h: 0 ok (or under way
 * without --wait), 1 refused or failed, 2 usage, 3 unreachable, 4 --wait
 * did not end as asked.
 */
#include "cli.h"
#include "coord_client.h"

#include "clusterdef.h"
#include "names.h"
#include "params.h"
#include "status.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WAIT_POLL_MS 100

struct co_opts {
    const char *node, *to, *fail_node, *fail_res;
    bool rts, wait, timeout_set;
    uint32_t timeout_ms, count;
    uint64_t after;
};

enum {
    O_NODE = 2000,
    O_TO,
    O_RTS,
    O_WAIT,
    O_TIMEOUT,
    O_FAIL_NODE,
    O_FAIL_RES,
    O_AFTER,
    O_COUNT,
};

static int parse_opts(cli_ctx *ctx, int argc, char **argv, struct co_opts *o, int positional)
{
    static const struct option opts[] = {{"node", required_argument, NULL, O_NODE},
                                         {"to", required_argument, NULL, O_TO},
                                         {"return-to-source", no_argument, NULL, O_RTS},
                                         {"wait", no_argument, NULL, O_WAIT},
                                         {"timeout", required_argument, NULL, O_TIMEOUT},
                                         {"fail-node", required_argument, NULL, O_FAIL_NODE},
                                         {"fail-resource", required_argument, NULL, O_FAIL_RES},
                                         {"after", required_argument, NULL, O_AFTER},
                                         {"count", required_argument, NULL, O_COUNT},
                                         {NULL, 0, NULL, 0}};
    int c;
    bool ok = true;

    memset(o, 0, sizeof(*o));
    o->timeout_ms = 30000;
    optind = 0; /* GNU getopt: full re-initialisation; options may follow NAME */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1 && ok) {
        switch (c) {
        case O_NODE:
            o->node = optarg;
            break;
        case O_TO:
            o->to = optarg;
            break;
        case O_RTS:
            o->rts = true;
            break;
        case O_WAIT:
            o->wait = true;
            break;
        case O_TIMEOUT:
            ok = clus_parse_u32(optarg, 86400000, &o->timeout_ms) && o->timeout_ms > 0;
            o->timeout_set = true;
            break;
        case O_FAIL_NODE:
            o->fail_node = optarg;
            break;
        case O_FAIL_RES:
            o->fail_res = optarg;
            break;
        case O_AFTER:
            ok = clus_parse_u64(optarg, &o->after);
            break;
        case O_COUNT:
            ok = clus_parse_u32(optarg, UINT32_MAX, &o->count);
            break;
        default:
            return cli_usage_error(ctx, "unknown or incomplete option %s", argv[optind - 1]);
        }
        if (!ok)
            return cli_usage_error(ctx, "bad value for option %s", argv[optind - 1]);
    }
    if (argc - optind != positional)
        return cli_usage_error(ctx, "expected %s argument(s); see --help",
                               positional == 0   ? "no"
                               : positional == 1 ? "one"
                                                 : "two");
    return 0;
}

/* ------------------------------------------------------------ transport */

static int connect_to(const cli_ctx *ctx, clus_coord_client **client)
{
    char err[256];
    uint32_t status = clus_coord_connect(ctx->url, ctx->timeout_ms, client, err, sizeof(err));

    if (status == CLUS_OK)
        return CLI_EXIT_OK;
    if (ctx->json)
        cli_print_error_json(status, err);
    fprintf(stderr, "clusctl: %s (is clus-coordinator running there?)\n", err);
    return cli_exit_code(status, false);
}

/* One call; a transport error is printed and becomes the exit code. */
static int call(const cli_ctx *ctx, clus_coord_client *client, Clus__V1__CoordRequest *req,
                uint32_t timeout_ms, Clus__V1__CoordResponse **resp)
{
    char err[256];
    uint32_t status = clus_coord_call(client, req, timeout_ms, resp, err, sizeof(err));

    if (status == CLUS_OK)
        return CLI_EXIT_OK;
    if (ctx->json)
        cli_print_error_json(status, err);
    fprintf(stderr, "clusctl: %s\n", err);
    return cli_exit_code(status, false);
}

/* ------------------------------------------------------------ output */

static json_t *jstr(const char *s)
{
    json_t *v = json_string(s ? s : "");

    return v != NULL ? v : json_string("(not UTF-8)");
}

static void set_resource(json_t *o, const Clus__V1__CoordResourceInfo *r, const char *name_key)
{
    json_object_set_new(o, name_key, jstr(r->name));
    json_object_set_new(o, "type", jstr(r->type));
    json_object_set_new(o, "owner", jstr(r->owner));
    json_object_set_new(o, "state", jstr(clus_state_name(r->state)));
    json_object_set_new(o, "state_value", json_integer(r->state));
    json_object_set_new(o, "last_status", json_integer(r->status));
    json_object_set_new(o, "last_status_name", jstr(clus_status_name(r->status)));
    json_object_set_new(o, "last_message", jstr(r->message));
    json_object_set_new(o, "restarts", json_integer(r->restarts));
    json_object_set_new(o, "failovers", json_integer(r->failovers));
    json_object_set_new(o, "failures", json_integer(r->failures));
    json_object_set_new(o, "desired", jstr(r->desired_online ? "Online" : "Offline"));
    json_object_set_new(o, "operation", jstr(r->operation));
    json_object_set_new(o, "policy_state", jstr(r->policy_state));
    json_object_set_new(o, "due_in_ms", json_integer((json_int_t)r->due_in_ms));
}

static json_t *status_object(uint32_t status, const char *message)
{
    json_t *o = json_object();

    json_object_set_new(o, "status", json_integer(status));
    json_object_set_new(o, "status_name", jstr(clus_status_name(status)));
    json_object_set_new(o, "message", jstr(message));
    return o;
}

static void print_json(json_t *o)
{
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

    printf("%s\n", text ? text : "{}");
    free(text);
    json_decref(o);
}

static void print_resource_text(const Clus__V1__CoordResourceInfo *r)
{
    printf("%-20s %-10s %-15s %8u %9u  %-26s %s%s%s\n", r->name, r->owner[0] ? r->owner : "-",
           clus_state_name(r->state), r->restarts, r->failovers, clus_status_name(r->status),
           r->operation[0] ? r->operation : r->message, r->policy_state[0] ? " [" : "",
           r->policy_state[0] ? r->policy_state : "");
    if (r->policy_state[0])
        printf("]\n");
}

/* A reply about one resource (online, offline, move, clear), or just a
 * status and a message. */
static int print_reply(const cli_ctx *ctx, const Clus__V1__CoordResponse *resp, bool pending_ok)
{
    const Clus__V1__CoordResourceInfo *r =
        resp->result_case == CLUS__V1__COORD_RESPONSE__RESULT_RESOURCE ? resp->resource : NULL;

    if (ctx->json) {
        json_t *o = status_object(resp->status, resp->message);
        if (r != NULL)
            set_resource(o, r, "resource");
        print_json(o);
    } else {
        printf("%s (%u): %s\n", clus_status_name(resp->status), resp->status, resp->message);
    }
    fflush(stdout);
    return cli_exit_code(resp->status, pending_ok);
}

static void print_status_text(const Clus__V1__CoordStatus *st)
{
    printf("%-20s %-10s %-9s %s\n", "NODE", "STATE", "REACHABLE", "AGENT");
    for (size_t i = 0; i < st->n_nodes; i++)
        printf("%-20s %-10s %-9s %s\n", st->nodes[i]->name, st->nodes[i]->state,
               st->nodes[i]->reachable ? "yes" : "no", st->nodes[i]->agent);
    printf("\n%-20s %-10s %-15s %8s %9s  %-26s %s\n", "RESOURCE", "OWNER", "STATE", "RESTARTS",
           "FAILOVERS", "LAST STATUS", "OPERATION / MESSAGE");
    for (size_t i = 0; i < st->n_resources; i++)
        print_resource_text(st->resources[i]);
}

static json_t *status_json(const Clus__V1__CoordStatus *st)
{
    json_t *o = status_object(0, ""), *nodes = json_array(), *res = json_array();

    for (size_t i = 0; i < st->n_nodes; i++) {
        const Clus__V1__CoordNodeInfo *n = st->nodes[i];
        json_array_append_new(nodes, json_pack("{s:o, s:o, s:o, s:b, s:b, s:b, s:I}", "name",
                                               jstr(n->name), "state", jstr(n->state), "agent",
                                               jstr(n->agent), "draining", n->draining, "reachable",
                                               n->reachable, "fenced", n->fenced, "last_ack_age_ms",
                                               (json_int_t)n->last_ack_age_ms));
    }
    for (size_t i = 0; i < st->n_resources; i++) {
        json_t *r = json_object();
        set_resource(r, st->resources[i], "name");
        json_object_set_new(r, "status", json_integer(st->resources[i]->status));
        json_object_set_new(r, "status_name", jstr(clus_status_name(st->resources[i]->status)));
        json_object_set_new(r, "message", jstr(st->resources[i]->message));
        json_array_append_new(res, r);
    }
    json_object_set_new(o, "nodes", nodes);
    json_object_set_new(o, "resources", res);
    json_object_set_new(o, "epoch", json_integer((json_int_t)st->epoch));
    json_object_set_new(o, "lease_ms", json_integer(st->lease_ms));
    return o;
}

/* ------------------------------------------------------------ requests */

static int run_call(cli_ctx *ctx, Clus__V1__CoordRequest *req, Clus__V1__CoordResponse **resp,
                    clus_coord_client **client)
{
    int rc = connect_to(ctx, client);

    if (rc != CLI_EXIT_OK)
        return rc;
    rc = call(ctx, *client, req, ctx->timeout_ms, resp);
    if (rc != CLI_EXIT_OK) {
        clus_coord_close(*client);
        *client = NULL;
    }
    return rc;
}

static const Clus__V1__CoordResourceInfo *find_in_status(const Clus__V1__CoordStatus *st,
                                                         const char *name)
{
    for (size_t i = 0; i < st->n_resources; i++) {
        if (strcmp(st->resources[i]->name, name) == 0)
            return st->resources[i];
    }
    return NULL;
}

static bool settled(const Clus__V1__CoordResourceInfo *r)
{
    return r->operation[0] == '\0' &&
           (r->state == 2 || r->state == 3 || r->state == 4 || strcmp(r->policy_state, "") != 0);
}

static void sleep_ms(uint32_t ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* --wait: polls status until name has no operation left, then checks that
 * it ended in want_state (and on want_owner if given). */
static int wait_settled(cli_ctx *ctx, clus_coord_client *client, const char *name, int want_state,
                        const char *want_owner, uint32_t timeout_ms)
{
    Clus__V1__CoordRequest req = CLUS__V1__COORD_REQUEST__INIT;
    Clus__V1__CoordStatusCall sc = CLUS__V1__COORD_STATUS_CALL__INIT;
    Clus__V1__CoordResponse *resp = NULL;
    struct timespec start, now;
    int rc;

    req.call_case = CLUS__V1__COORD_REQUEST__CALL_STATUS;
    req.status = &sc;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        const Clus__V1__CoordResourceInfo *r;
        uint64_t elapsed;
        if ((rc = call(ctx, client, &req, ctx->timeout_ms, &resp)) != CLI_EXIT_OK)
            return rc;
        r = resp->cluster ? find_in_status(resp->cluster, name) : NULL;
        clock_gettime(CLOCK_MONOTONIC, &now);
        elapsed = (uint64_t)((now.tv_sec - start.tv_sec) * 1000 +
                             (now.tv_nsec - start.tv_nsec) / 1000000);
        if (r != NULL && (settled(r) || elapsed >= timeout_ms)) {
            bool ok = settled(r) && r->state == want_state &&
                      (want_owner == NULL || strcmp(r->owner, want_owner) == 0);
            Clus__V1__CoordResponse out = CLUS__V1__COORD_RESPONSE__INIT;
            out.status = resp->status;
            out.message = ok ? "" : settled(r) ? "it did not end as asked" : "timed out waiting";
            out.result_case = CLUS__V1__COORD_RESPONSE__RESULT_RESOURCE;
            out.resource = (Clus__V1__CoordResourceInfo *)r;
            rc = print_reply(ctx, &out, false);
            clus__v1__coord_response__free_unpacked(resp, NULL);
            return rc == CLI_EXIT_OK && !ok ? CLI_EXIT_WAIT : rc;
        }
        clus__v1__coord_response__free_unpacked(resp, NULL);
        resp = NULL;
        sleep_ms(WAIT_POLL_MS);
    }
}

/* Sends req; with --wait and a 997 answer, waits for the end. */
static int send_and_wait(cli_ctx *ctx, Clus__V1__CoordRequest *req, const struct co_opts *o,
                         const char *name, int want_state, const char *want_owner)
{
    clus_coord_client *client = NULL;
    Clus__V1__CoordResponse *resp = NULL;
    int rc = run_call(ctx, req, &resp, &client);

    if (rc != CLI_EXIT_OK)
        return rc;
    if (o->wait && resp->status == 997 && name != NULL) {
        clus__v1__coord_response__free_unpacked(resp, NULL);
        rc = wait_settled(ctx, client, name, want_state, want_owner, o->timeout_ms);
    } else {
        rc = print_reply(ctx, resp, true);
        clus__v1__coord_response__free_unpacked(resp, NULL);
    }
    clus_coord_close(client);
    return rc;
}

/* ------------------------------------------------------------ commands */

static int cmd_status(cli_ctx *ctx, int argc, char **argv)
{
    Clus__V1__CoordRequest req = CLUS__V1__COORD_REQUEST__INIT;
    Clus__V1__CoordStatusCall sc = CLUS__V1__COORD_STATUS_CALL__INIT;
    Clus__V1__CoordResponse *resp = NULL;
    clus_coord_client *client = NULL;
    struct co_opts o;
    int rc = parse_opts(ctx, argc, argv, &o, 0);

    if (rc != 0)
        return rc;
    req.call_case = CLUS__V1__COORD_REQUEST__CALL_STATUS;
    req.status = &sc;
    if ((rc = run_call(ctx, &req, &resp, &client)) != CLI_EXIT_OK)
        return rc;
    if (resp->result_case != CLUS__V1__COORD_RESPONSE__RESULT_CLUSTER)
        rc = print_reply(ctx, resp, false);
    else if (ctx->json)
        print_json(status_json(resp->cluster));
    else
        print_status_text(resp->cluster);
    clus__v1__coord_response__free_unpacked(resp, NULL);
    clus_coord_close(client);
    return rc;
}

static int cmd_online(cli_ctx *ctx, int argc, char **argv)
{
    Clus__V1__CoordRequest req = CLUS__V1__COORD_REQUEST__INIT;
    Clus__V1__CoordOnlineCall c = CLUS__V1__COORD_ONLINE_CALL__INIT;
    struct co_opts o;
    int rc = parse_opts(ctx, argc, argv, &o, 1);

    if (rc != 0)
        return rc;
    c.resource = argv[optind];
    c.node = (char *)(o.node ? o.node : "");
    req.call_case = CLUS__V1__COORD_REQUEST__CALL_ONLINE;
    req.online = &c;
    return send_and_wait(ctx, &req, &o, c.resource, 2, o.node);
}

static int cmd_offline(cli_ctx *ctx, int argc, char **argv)
{
    Clus__V1__CoordRequest req = CLUS__V1__COORD_REQUEST__INIT;
    Clus__V1__CoordResourceCall c = CLUS__V1__COORD_RESOURCE_CALL__INIT;
    struct co_opts o;
    int rc = parse_opts(ctx, argc, argv, &o, 1);

    if (rc != 0)
        return rc;
    c.resource = argv[optind];
    req.call_case = CLUS__V1__COORD_REQUEST__CALL_OFFLINE;
    req.offline = &c;
    return send_and_wait(ctx, &req, &o, c.resource, 3, NULL);
}

static int cmd_move(cli_ctx *ctx, int argc, char **argv)
{
    Clus__V1__CoordRequest req = CLUS__V1__COORD_REQUEST__INIT;
    Clus__V1__CoordMoveCall c = CLUS__V1__COORD_MOVE_CALL__INIT;
    struct co_opts o;
    int rc = parse_opts(ctx, argc, argv, &o, 1);

    if (rc != 0)
        return rc;
    if (o.to == NULL)
        return cli_usage_error(ctx, "move needs --to NODE%s", "");
    c.resource = argv[optind];
    c.node = (char *)o.to;
    c.return_to_source = o.rts;
    req.call_case = CLUS__V1__COORD_REQUEST__CALL_MOVE;
    req.move = &c;
    /* With return-to-source the move may end back on the source: --wait
     * then asks only that it ends Online, wherever. */
    return send_and_wait(ctx, &req, &o, c.resource, 2, o.rts ? NULL : o.to);
}

static int node_call(cli_ctx *ctx, int argc, char **argv, bool drain)
{
    Clus__V1__CoordRequest req = CLUS__V1__COORD_REQUEST__INIT;
    Clus__V1__CoordNodeCall c = CLUS__V1__COORD_NODE_CALL__INIT;
    struct co_opts o;
    int rc = parse_opts(ctx, argc, argv, &o, 1);

    if (rc != 0)
        return rc;
    c.node = argv[optind];
    req.call_case =
        drain ? CLUS__V1__COORD_REQUEST__CALL_DRAIN : CLUS__V1__COORD_REQUEST__CALL_UNDRAIN;
    if (drain)
        req.drain = &c;
    else
        req.undrain = &c;
    return send_and_wait(ctx, &req, &o, NULL, 0, NULL);
}

static int cmd_drain(cli_ctx *ctx, int argc, char **argv)
{
    return node_call(ctx, argc, argv, true);
}

static int cmd_undrain(cli_ctx *ctx, int argc, char **argv)
{
    return node_call(ctx, argc, argv, false);
}

static int cmd_clear(cli_ctx *ctx, int argc, char **argv)
{
    Clus__V1__CoordRequest req = CLUS__V1__COORD_REQUEST__INIT;
    Clus__V1__CoordResourceCall c = CLUS__V1__COORD_RESOURCE_CALL__INIT;
    struct co_opts o;
    int rc = parse_opts(ctx, argc, argv, &o, 1);

    if (rc != 0)
        return rc;
    c.resource = argv[optind];
    req.call_case = CLUS__V1__COORD_REQUEST__CALL_CLEAR;
    req.clear = &c;
    return send_and_wait(ctx, &req, &o, NULL, 0, NULL);
}

static void print_plan(const cli_ctx *ctx, const Clus__V1__CoordResponse *resp)
{
    const Clus__V1__CoordPlan *plan = resp->plan;
    json_t *o, *actions;

    if (!ctx->json) {
        printf("%s\n", resp->message);
        for (size_t i = 0; i < plan->n_actions; i++) {
            const Clus__V1__CoordAction *a = plan->actions[i];
            printf("  %-20s %-14s %-12s delay %-8llu %s\n", a->resource, a->action,
                   a->node[0] ? a->node : "-", (unsigned long long)a->delay_ms, a->reason);
        }
        return;
    }
    o = status_object(resp->status, resp->message);
    actions = json_array();
    for (size_t i = 0; i < plan->n_actions; i++) {
        const Clus__V1__CoordAction *a = plan->actions[i];
        json_array_append_new(actions,
                              json_pack("{s:o, s:o, s:o, s:I, s:o, s:i}", "resource",
                                        jstr(a->resource), "action", jstr(a->action), "node",
                                        jstr(a->node), "delay_ms", (json_int_t)a->delay_ms,
                                        "reason", jstr(a->reason), "row", (int)a->row));
    }
    json_object_set_new(o, "actions", actions);
    print_json(o);
}

static int cmd_plan(cli_ctx *ctx, int argc, char **argv)
{
    Clus__V1__CoordRequest req = CLUS__V1__COORD_REQUEST__INIT;
    Clus__V1__CoordPlanCall c = CLUS__V1__COORD_PLAN_CALL__INIT;
    Clus__V1__CoordResponse *resp = NULL;
    clus_coord_client *client = NULL;
    struct co_opts o;
    int rc = parse_opts(ctx, argc, argv, &o, 0);

    if (rc != 0)
        return rc;
    if ((o.fail_node == NULL) == (o.fail_res == NULL))
        return cli_usage_error(ctx,
                               "plan needs exactly one of --fail-node NODE or "
                               "--fail-resource NAME%s",
                               "");
    c.fail_node = (char *)(o.fail_node ? o.fail_node : "");
    c.fail_resource = (char *)(o.fail_res ? o.fail_res : "");
    req.call_case = CLUS__V1__COORD_REQUEST__CALL_PLAN;
    req.plan = &c;
    if ((rc = run_call(ctx, &req, &resp, &client)) != CLI_EXIT_OK)
        return rc;
    if (resp->result_case == CLUS__V1__COORD_RESPONSE__RESULT_PLAN)
        print_plan(ctx, resp);
    else
        rc = print_reply(ctx, resp, false);
    clus__v1__coord_response__free_unpacked(resp, NULL);
    clus_coord_close(client);
    return rc;
}

static void print_event(const cli_ctx *ctx, const Clus__V1__CoordEvent *e)
{
    json_t *o;

    if (!ctx->json) {
        printf("%llu %s %s%s%s: %s\n", (unsigned long long)e->seq, e->kind,
               e->resource[0] ? e->resource : e->node, e->resource[0] && e->node[0] ? " on " : "",
               e->resource[0] ? e->node : "", e->message);
        return;
    }
    o = json_object();
    json_object_set_new(o, "seq", json_integer((json_int_t)e->seq));
    json_object_set_new(o, "timestamp_ms", json_integer((json_int_t)e->timestamp_ms));
    json_object_set_new(o, "kind", jstr(e->kind));
    json_object_set_new(o, "resource", jstr(e->resource));
    json_object_set_new(o, "node", jstr(e->node));
    if (strcmp(e->kind, "node") == 0) {
        json_object_set_new(o, "node_state", jstr(e->node_state));
    } else {
        json_object_set_new(o, "state", jstr(clus_state_name(e->state)));
        json_object_set_new(o, "state_value", json_integer(e->state));
    }
    json_object_set_new(o, "status", json_integer(e->status));
    json_object_set_new(o, "status_name", jstr(clus_status_name(e->status)));
    json_object_set_new(o, "message", jstr(e->message));
    print_json(o);
}

/* Streams events until --count events, or --timeout ms without one
 * (default: for ever). */
static int cmd_watch(cli_ctx *ctx, int argc, char **argv)
{
    Clus__V1__CoordRequest req = CLUS__V1__COORD_REQUEST__INIT;
    Clus__V1__CoordWatchCall c = CLUS__V1__COORD_WATCH_CALL__INIT;
    Clus__V1__CoordResponse *resp = NULL;
    clus_coord_client *client = NULL;
    struct co_opts o;
    uint64_t seen = 0;
    int rc = parse_opts(ctx, argc, argv, &o, 0);

    if (rc != 0 || (rc = connect_to(ctx, &client)) != CLI_EXIT_OK)
        return rc;
    c.after_seq = o.after;
    c.wait_ms = o.timeout_set ? (o.timeout_ms < 60000 ? o.timeout_ms : 60000) : 30000;
    req.call_case = CLUS__V1__COORD_REQUEST__CALL_WATCH;
    req.watch = &c;
    for (;;) {
        size_t n;
        if ((rc = call(ctx, client, &req, c.wait_ms + 5000, &resp)) != CLI_EXIT_OK)
            break;
        if (resp->result_case != CLUS__V1__COORD_RESPONSE__RESULT_EVENTS) {
            rc = print_reply(ctx, resp, false);
            break;
        }
        n = resp->events->n_events;
        for (size_t i = 0; i < n && (o.count == 0 || seen < o.count); i++, seen++)
            print_event(ctx, resp->events->events[i]);
        fflush(stdout);
        c.after_seq = resp->events->last_seq;
        c.boot_id = resp->events->boot_id;
        clus__v1__coord_response__free_unpacked(resp, NULL);
        resp = NULL;
        if ((o.count != 0 && seen >= o.count) || (o.timeout_set && n == 0))
            break;
    }
    if (resp != NULL)
        clus__v1__coord_response__free_unpacked(resp, NULL);
    clus_coord_close(client);
    return rc;
}

/* config validate FILE: no daemon needed. */
static int cmd_config(cli_ctx *ctx, int argc, char **argv)
{
    clus_clusterdef *def = NULL;
    char err[512];
    struct co_opts o;
    uint32_t status;
    int rc = parse_opts(ctx, argc, argv, &o, 2);

    if (rc != 0)
        return rc;
    if (strcmp(argv[optind], "validate") != 0)
        return cli_usage_error(ctx, "unknown config command '%s' (try: config validate FILE)",
                               argv[optind]);
    status = clus_clusterdef_load(argv[optind + 1], &def, err, sizeof(err));
    if (ctx->json) {
        json_t *j = status_object(status, status == CLUS_OK ? "valid" : err);
        json_object_set_new(j, "valid", json_boolean(status == CLUS_OK));
        if (def != NULL) {
            json_object_set_new(j, "nodes", json_integer((json_int_t)def->n_nodes));
            json_object_set_new(j, "resources", json_integer((json_int_t)def->n_resources));
        }
        print_json(j);
    } else if (status == CLUS_OK) {
        printf("%s: valid (%zu node(s), %zu resource(s), lease %u ms, renew %u ms)\n",
               argv[optind + 1], def->n_nodes, def->n_resources, def->lease_ms, def->renew_ms);
    } else {
        fprintf(stderr, "%s\n", err);
    }
    clus_clusterdef_free(def);
    return status == CLUS_OK ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}

const cli_command cli_coordinator_commands[] = {
    {"status", cmd_status, "", "Nodes and resources as the coordinator sees them", true},
    {"online", cmd_online, "NAME [--node NODE] [--wait] [--timeout MS]",
     "Bring a resource online (on NODE, or where its preferred owners say)", true},
    {"offline", cmd_offline, "NAME [--wait] [--timeout MS]",
     "Take a resource offline (also while it is coming online)", true},
    {"move", cmd_move, "NAME --to NODE [--return-to-source] [--wait] [--timeout MS]",
     "Move an online resource: OfflineV2 on its node, OnlineV2 on NODE; with\n"
     "  --return-to-source a failed online on NODE brings it back online where it was",
     true},
    {"drain", cmd_drain, "NODE", "Move everything off NODE (in each resource's preferred order)",
     true},
    {"undrain", cmd_undrain, "NODE", "Let NODE take resources again", true},
    {"plan", cmd_plan, "--fail-node NODE | --fail-resource NAME",
     "What the policy would do if NODE were lost or NAME failed now (nothing is done)", true},
    {"watch", cmd_watch, "[--after SEQ] [--count N] [--timeout MS]",
     "Stream the coordinator's events (JSON lines with -o json)", true},
    {"clear", cmd_clear, "NAME", "Reset a resource's restart, failover and failure counters", true},
    {"config", cmd_config, "validate FILE",
     "Check a cluster definition (no daemon needed); errors name FILE:LINE", true},
    {NULL, NULL, NULL, NULL, false},
};
