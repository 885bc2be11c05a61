/*
 * cli.c - clusctl: one command per entry point, text or JSON output, stable
 * exit codes (see cli.h). Commands against the coordinator are added by
 * cli_coordinator.c through the same table shape.
 */
#include "cli.h"
#include "client_internal.h"

#include "names.h"
#include "params.h"
#include "status.h"

#include <clus/restype.h>

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *clus_event_json(const Clus__V1__Event *ev);

/* ------------------------------------------------------------ output */

void cli_print_error_json(uint32_t status, const char *message)
{
    json_t *o = json_pack("{s:I, s:s, s:s}", "status", (json_int_t)status, "status_name",
                          clus_status_name(status), "message", message);
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

    printf("%s\n", text ? text : "{}");
    free(text);
    json_decref(o);
}

int cli_exit_code(uint32_t status, bool pending_ok)
{
    if (status == CLUS_OK || (pending_ok && status == CLUS_E_IO_PENDING))
        return CLI_EXIT_OK;
    if (status == CLUS_E_CLUSTER_NODE_UNREACHABLE || status == CLUS_E_TIMEOUT)
        return CLI_EXIT_UNREACHABLE;
    return CLI_EXIT_FAILED;
}

static void print_resource_line(const Clus__V1__ResourceInfo *r)
{
    printf("%-24s %-10s %-15s %-28s %s\n", r->name, r->type, clus_state_name(r->state),
           clus_status_name(r->last_status), r->last_message);
}

static void print_text(const clus_reply *r)
{
    const Clus__V1__Response *resp = r->resp;

    if (resp != NULL && resp->result_case == CLUS__V1__RESPONSE__RESULT_AGENT) {
        printf("%-24s %-10s %-15s %-28s %s\n", "RESOURCE", "TYPE", "STATE", "LAST STATUS",
               "MESSAGE");
        for (size_t i = 0; i < resp->agent->n_resources; i++)
            print_resource_line(resp->agent->resources[i]);
        return;
    }
    if (resp != NULL && resp->result_case == CLUS__V1__RESPONSE__RESULT_TYPES) {
        for (size_t i = 0; i < resp->types->n_types; i++)
            printf("%-16s version 0x%x  %s%s\n", resp->types->types[i]->name,
                   resp->types->types[i]->version, resp->types->types[i]->origin,
                   resp->types->types[i]->loop_native ? " (loop-native)" : "");
        return;
    }
    if (resp != NULL && resp->result_case == CLUS__V1__RESPONSE__RESULT_CONTROL) {
        const Clus__V1__ControlResult *cr = resp->control;
        for (size_t i = 0; i < cr->n_properties; i++)
            printf("%s=%s\n", cr->properties[i]->key, cr->properties[i]->value);
        if (cr->out_buffer.len > 0)
            fwrite(cr->out_buffer.data, 1, cr->out_buffer.len, stdout);
    }
    if (clus_reply_resource(r) != NULL) {
        printf("%s: %s", clus_reply_resource(r), clus_state_name(clus_reply_state(r)));
        if (resp->result_case == CLUS__V1__RESPONSE__RESULT_HEALTH)
            printf(", %s %s", resp->health->alive ? "alive" : "NOT alive",
                   resp->health->cached ? "(cached)" : "");
        printf("\n");
    }
    if (r->status != CLUS_OK || *r->message != '\0')
        printf("%s (%u)%s%s\n", clus_status_name(r->status), r->status, *r->message ? ": " : "",
               r->message);
}

int cli_print(const cli_ctx *ctx, const clus_reply *r, bool pending_ok)
{
    if (ctx->json) {
        char *text = clus_reply_json(r, false);
        printf("%s\n", text ? text : "{}");
        free(text);
    } else if (r->status == CLUS_OK || r->status == CLUS_E_IO_PENDING) {
        print_text(r);
    } else {
        print_text(r);
    }
    fflush(stdout);
    return cli_exit_code(r->status, pending_ok);
}

int cli_usage_error(const cli_ctx *ctx, const char *fmt, const char *arg)
{
    fprintf(stderr, "clusctl: ");
    fprintf(stderr, fmt, arg ? arg : "");
    fprintf(stderr, "\n(clusctl %s --help for usage)\n", ctx->command ? ctx->command : "");
    if (ctx->json) {
        char message[512];
        json_t *o;
        char *text;
        snprintf(message, sizeof(message), fmt, arg ? arg : "");
        o = json_pack("{s:i, s:s, s:s}", "status", CLUS_E_INVALID_PARAMETER, "status_name",
                      "ERROR_INVALID_PARAMETER", "message", message);
        text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", text ? text : "{}");
        free(text);
        json_decref(o);
    }
    return CLI_EXIT_USAGE;
}

/* ------------------------------------------------------------ options */

enum {
    OPT_WAIT = 1000,
    OPT_TIMEOUT,
    OPT_FLAGS,
    OPT_TYPE,
    OPT_PARAM,
    OPT_V1,
    OPT_DEST,
    OPT_CACHED,
    OPT_BEGIN,
    OPT_USER,
    OPT_PROP,
    OPT_AFTER,
    OPT_COUNT,
    OPT_RESOURCE,
    OPT_HELP,
    OPT_MIN,
    OPT_MAX,
    OPT_TTL,
    OPT_EPOCH,
    OPT_EX,
    OPT_IN,
};

struct cmd_opts {
    bool wait, v1, cached, begin, ex, help, timeout_set;
    uint32_t timeout_ms, flags, min_version, max_version, ttl_ms, count;
    const char *flags_text, *type, *dest, *user, *resource, *in;
    uint64_t after, epoch;
    const char *kv[CLUS_PARAMS_MAX + 1];
    size_t nkv;
};

static const struct option cmd_long_opts[] = {{"wait", no_argument, NULL, OPT_WAIT},
                                              {"timeout", required_argument, NULL, OPT_TIMEOUT},
                                              {"flags", required_argument, NULL, OPT_FLAGS},
                                              {"type", required_argument, NULL, OPT_TYPE},
                                              {"param", required_argument, NULL, OPT_PARAM},
                                              {"v1", no_argument, NULL, OPT_V1},
                                              {"destination", required_argument, NULL, OPT_DEST},
                                              {"cached", no_argument, NULL, OPT_CACHED},
                                              {"begin", no_argument, NULL, OPT_BEGIN},
                                              {"user", required_argument, NULL, OPT_USER},
                                              {"prop", required_argument, NULL, OPT_PROP},
                                              {"after", required_argument, NULL, OPT_AFTER},
                                              {"count", required_argument, NULL, OPT_COUNT},
                                              {"resource", required_argument, NULL, OPT_RESOURCE},
                                              {"help", no_argument, NULL, OPT_HELP},
                                              {"min", required_argument, NULL, OPT_MIN},
                                              {"max", required_argument, NULL, OPT_MAX},
                                              {"ttl", required_argument, NULL, OPT_TTL},
                                              {"epoch", required_argument, NULL, OPT_EPOCH},
                                              {"ex", no_argument, NULL, OPT_EX},
                                              {"in", required_argument, NULL, OPT_IN},
                                              {NULL, 0, NULL, 0}};

static bool opt_number(const char *text, uint32_t max, uint32_t *out)
{
    return clus_parse_u32(text, max, out);
}

/* Parses the command's options; positional arguments stay in argv[optind..]. */
static int parse_cmd_opts(cli_ctx *ctx, int argc, char **argv, struct cmd_opts *o)
{
    int c;
    bool ok = true;

    memset(o, 0, sizeof(*o));
    o->timeout_ms = 30000;
    o->min_version = o->max_version = CLUS_RESTYPE_VERSION_1;
    optind = 0; /* GNU getopt: full re-initialisation; options may follow NAME */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", cmd_long_opts, NULL)) != -1 && ok) {
        switch (c) {
        case OPT_WAIT:
            o->wait = true;
            break;
        case OPT_V1:
            o->v1 = true;
            break;
        case OPT_CACHED:
            o->cached = true;
            break;
        case OPT_BEGIN:
            o->begin = true;
            break;
        case OPT_EX:
            o->ex = true;
            break;
        case OPT_HELP:
            o->help = true;
            break;
        case OPT_TIMEOUT:
            ok = opt_number(optarg, 86400000, &o->timeout_ms);
            o->timeout_set = true;
            break;
        case OPT_FLAGS:
            o->flags_text = optarg;
            break;
        case OPT_TYPE:
            o->type = optarg;
            break;
        case OPT_DEST:
            o->dest = optarg;
            break;
        case OPT_USER:
            o->user = optarg;
            break;
        case OPT_RESOURCE:
            o->resource = optarg;
            break;
        case OPT_IN:
            o->in = optarg;
            break;
        case OPT_MIN:
            ok = opt_number(optarg, UINT32_MAX, &o->min_version);
            break;
        case OPT_MAX:
            ok = opt_number(optarg, UINT32_MAX, &o->max_version);
            break;
        case OPT_TTL:
            ok = opt_number(optarg, 600000, &o->ttl_ms);
            break;
        case OPT_COUNT:
            ok = opt_number(optarg, UINT32_MAX, &o->count);
            break;
        case OPT_AFTER:
            ok = clus_parse_u64(optarg, &o->after);
            break;
        case OPT_EPOCH:
            ok = clus_parse_u64(optarg, &o->epoch);
            break;
        case OPT_PARAM:
        case OPT_PROP:
            ok = o->nkv < CLUS_PARAMS_MAX && strchr(optarg, '=') != NULL;
            if (ok)
                o->kv[o->nkv++] = optarg;
            break;
        default:
            return cli_usage_error(ctx, "unknown or incomplete option %s", argv[optind - 1]);
        }
        if (!ok)
            return cli_usage_error(ctx, "bad value for option %s", argv[optind - 1]);
    }
    o->kv[o->nkv] = NULL;
    return 0;
}

static int need_args(cli_ctx *ctx, int argc, int n, const char *what)
{
    if (argc - optind == n)
        return 0;
    return cli_usage_error(ctx, "expected %s", what);
}

static int flags_of(cli_ctx *ctx, struct cmd_opts *o, enum clus_flag_space space)
{
    char err[256];

    if (o->flags_text == NULL)
        return 0;
    if (clus_flags_parse(space, o->flags_text, &o->flags, err, sizeof(err)) != CLUS_OK)
        return cli_usage_error(ctx, "%s", err);
    return 0;
}

/* ------------------------------------------------------------ commands */

static int finish(cli_ctx *ctx, clus_reply *r, bool pending_ok)
{
    int rc = cli_print(ctx, r, pending_ok);

    clus_reply_free(r);
    return rc;
}

/* --wait: follow the events until the pending operation ends. */
static int finish_wait(cli_ctx *ctx, const char *name, clus_reply *r, uint32_t timeout_ms,
                       int want_state)
{
    clus_reply *done = NULL;
    uint32_t status = clus_reply_status(r);
    int rc;

    if (status != CLUS_E_IO_PENDING)
        return finish(ctx, r, false);
    status = clus_wait(ctx->client, name, clus_reply_seq(r), timeout_ms, &done);
    clus_reply_free(r);
    rc = cli_print(ctx, done, false);
    if (status == CLUS_E_TIMEOUT || (rc == CLI_EXIT_OK && clus_reply_state(done) != want_state))
        rc = CLI_EXIT_WAIT;
    clus_reply_free(done);
    return rc;
}

static int cmd_open(cli_ctx *ctx, int argc, char **argv)
{
    struct cmd_opts o;
    clus_reply *r;
    int rc = parse_cmd_opts(ctx, argc, argv, &o);

    if (rc || (rc = need_args(ctx, argc, 1, "NAME")) || (rc = flags_of(ctx, &o, CLUS_FLAGS_OPEN)))
        return rc;
    if (o.type == NULL)
        return cli_usage_error(ctx, "open needs --type TYPE%s", "");
    clus_open(ctx->client, argv[optind], o.type, o.kv, o.flags, o.flags != 0, &r);
    return finish(ctx, r, false);
}

static int cmd_online(cli_ctx *ctx, int argc, char **argv)
{
    struct cmd_opts o;
    clus_reply *r;
    int rc = parse_cmd_opts(ctx, argc, argv, &o);

    if (rc || (rc = need_args(ctx, argc, 1, "NAME")) || (rc = flags_of(ctx, &o, CLUS_FLAGS_ONLINE)))
        return rc;
    clus_online(ctx->client, argv[optind], o.flags, !o.v1, &r);
    if (o.wait)
        return finish_wait(ctx, argv[optind], r, o.timeout_ms, CLUS_STATE_ONLINE);
    return finish(ctx, r, true);
}

static int cmd_offline(cli_ctx *ctx, int argc, char **argv)
{
    struct cmd_opts o;
    clus_reply *r;
    int rc = parse_cmd_opts(ctx, argc, argv, &o);

    if (rc || (rc = need_args(ctx, argc, 1, "NAME")) ||
        (rc = flags_of(ctx, &o, CLUS_FLAGS_OFFLINE)))
        return rc;
    clus_offline(ctx->client, argv[optind], o.flags, o.dest, !o.v1, &r);
    if (o.wait)
        return finish_wait(ctx, argv[optind], r, o.timeout_ms, CLUS_STATE_OFFLINE);
    return finish(ctx, r, true);
}

typedef uint32_t (*name_call_fn)(clus_client *c, const char *name, clus_reply **reply);

static int name_only(cli_ctx *ctx, int argc, char **argv, name_call_fn fn)
{
    struct cmd_opts o;
    clus_reply *r;
    int rc = parse_cmd_opts(ctx, argc, argv, &o);

    if (rc || (rc = need_args(ctx, argc, 1, "NAME")))
        return rc;
    fn(ctx->client, argv[optind], &r);
    return finish(ctx, r, false);
}

static int cmd_terminate(cli_ctx *ctx, int argc, char **argv)
{
    return name_only(ctx, argc, argv, clus_terminate);
}

static int cmd_looks_alive(cli_ctx *ctx, int argc, char **argv)
{
    return name_only(ctx, argc, argv, clus_looks_alive);
}

static int cmd_close(cli_ctx *ctx, int argc, char **argv)
{
    return name_only(ctx, argc, argv, clus_close_resource);
}

static int cmd_arbitrate(cli_ctx *ctx, int argc, char **argv)
{
    return name_only(ctx, argc, argv, clus_arbitrate);
}

static int cmd_release(cli_ctx *ctx, int argc, char **argv)
{
    return name_only(ctx, argc, argv, clus_release);
}

static int cmd_cancel(cli_ctx *ctx, int argc, char **argv)
{
    return name_only(ctx, argc, argv, clus_cancel);
}

static int cmd_state(cli_ctx *ctx, int argc, char **argv)
{
    return name_only(ctx, argc, argv, clus_state);
}

static int cmd_is_alive(cli_ctx *ctx, int argc, char **argv)
{
    struct cmd_opts o;
    clus_reply *r;
    int rc = parse_cmd_opts(ctx, argc, argv, &o);

    if (rc || (rc = need_args(ctx, argc, 1, "NAME")))
        return rc;
    clus_is_alive(ctx->client, argv[optind], o.cached, &r);
    return finish(ctx, r, false);
}

static int control_common(cli_ctx *ctx, int argc, char **argv, bool type)
{
    struct cmd_opts o;
    clus_reply *r;
    uint32_t code, status;
    enum clus_control_mode mode;
    int rc = parse_cmd_opts(ctx, argc, argv, &o);

    if (rc || (rc = need_args(ctx, argc, 2, type ? "TYPE CODE" : "NAME CODE")))
        return rc;
    if (clus_control_code_parse(argv[optind + 1], type, &code) != CLUS_OK)
        return cli_usage_error(ctx, "unknown control code %s", argv[optind + 1]);
    mode = o.user ? CLUS_CONTROL_BEGIN_AS_USER : o.begin ? CLUS_CONTROL_BEGIN : CLUS_CONTROL_SYNC;
    if (type)
        status = clus_type_control(ctx->client, argv[optind], code, mode, o.user, &r);
    else
        status = clus_resource_control(ctx->client, argv[optind], code, o.kv, o.in,
                                       o.in ? strlen(o.in) : 0, mode, o.user, &r);
    if (status == CLUS_E_IO_PENDING && mode != CLUS_CONTROL_SYNC && o.wait) {
        clus_reply *done = NULL;
        uint64_t id = clus_reply_call_id(r), after = clus_reply_seq(r);
        clus_reply_free(r);
        clus_wait_control(ctx->client, id, after, o.timeout_ms, &done);
        return finish(ctx, done, false);
    }
    return finish(ctx, r, mode != CLUS_CONTROL_SYNC);
}

static int cmd_control(cli_ctx *ctx, int argc, char **argv)
{
    return control_common(ctx, argc, argv, false);
}

static int cmd_type_control(cli_ctx *ctx, int argc, char **argv)
{
    return control_common(ctx, argc, argv, true);
}

static int cmd_resources(cli_ctx *ctx, int argc, char **argv)
{
    struct cmd_opts o;
    clus_reply *r;
    int rc = parse_cmd_opts(ctx, argc, argv, &o);

    if (rc || (rc = need_args(ctx, argc, 0, "no arguments")))
        return rc;
    clus_status(ctx->client, &r);
    return finish(ctx, r, false);
}

static int cmd_types(cli_ctx *ctx, int argc, char **argv)
{
    struct cmd_opts o;
    clus_reply *r;
    int rc = parse_cmd_opts(ctx, argc, argv, &o);

    if (rc || (rc = need_args(ctx, argc, 0, "no arguments")))
        return rc;
    clus_types(ctx->client, &r);
    return finish(ctx, r, false);
}

static int cmd_startup(cli_ctx *ctx, int argc, char **argv)
{
    struct cmd_opts o;
    clus_reply *r;
    int rc = parse_cmd_opts(ctx, argc, argv, &o);

    if (rc || (rc = need_args(ctx, argc, 1, "TYPE")))
        return rc;
    clus_startup(ctx->client, argv[optind], o.min_version, o.max_version, o.ex, &r);
    return finish(ctx, r, false);
}

static int cmd_load_plugin(cli_ctx *ctx, int argc, char **argv)
{
    struct cmd_opts o;
    clus_reply *r;
    int rc = parse_cmd_opts(ctx, argc, argv, &o);

    if (rc || (rc = need_args(ctx, argc, 1, "PATH")))
        return rc;
    clus_load_plugin(ctx->client, argv[optind], &r);
    return finish(ctx, r, false);
}

static int cmd_lease(cli_ctx *ctx, int argc, char **argv)
{
    struct cmd_opts o;
    clus_reply *r;
    int rc = parse_cmd_opts(ctx, argc, argv, &o);

    if (rc || (rc = need_args(ctx, argc, 1, "HOLDER")))
        return rc;
    clus_lease(ctx->client, argv[optind], o.ttl_ms, o.epoch, &r);
    return finish(ctx, r, false);
}

static void print_event_text(const Clus__V1__Event *ev)
{
    printf("%llu %s %s -> %s %s %s\n", (unsigned long long)ev->seq, ev->resource,
           clus_state_name(ev->old_state), clus_state_name(ev->new_state),
           clus_status_name(ev->status), ev->message);
}

static void print_events(const cli_ctx *ctx, const Clus__V1__EventBatch *batch)
{
    for (size_t i = 0; i < batch->n_events; i++) {
        if (ctx->json) {
            json_t *o = clus_event_json(batch->events[i]);
            char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
            printf("%s\n", text ? text : "{}");
            free(text);
            json_decref(o);
        } else {
            print_event_text(batch->events[i]);
        }
    }
    fflush(stdout);
}

/* Streams events as JSON lines (or text) until --count events, or
 * --timeout ms without a single event (default: forever). */
static int cmd_watch(cli_ctx *ctx, int argc, char **argv)
{
    struct cmd_opts o;
    uint64_t after, boot = 0, seen = 0;
    clus_reply *r = NULL;
    int rc = parse_cmd_opts(ctx, argc, argv, &o);
    bool forever;

    if (rc || (rc = need_args(ctx, argc, 0, "no arguments")))
        return rc;
    forever = !o.timeout_set;
    after = o.after;
    for (;;) {
        uint32_t status =
            clus_watch(ctx->client, after, boot, forever ? 30000 : o.timeout_ms, o.resource, &r);
        if (status != CLUS_OK)
            return finish(ctx, r, false);
        print_events(ctx, r->resp->events);
        seen += r->resp->events->n_events;
        if ((o.count && seen >= o.count) || (!forever && r->resp->events->n_events == 0)) {
            clus_reply_free(r);
            return CLI_EXIT_OK;
        }
        boot = r->resp->events->boot_id;
        after = r->resp->events->last_seq;
        clus_reply_free(r);
    }
}

static int cmd_volume(cli_ctx *ctx, int argc, char **argv)
{
    struct cmd_opts o;
    clus_reply *r;
    int rc = parse_cmd_opts(ctx, argc, argv, &o);

    if (rc || (rc = need_args(ctx, argc, 2, "status NAME")))
        return rc;
    if (strcmp(argv[optind], "status") != 0)
        return cli_usage_error(ctx, "unknown volume command %s (try: volume status NAME)",
                               argv[optind]);
    clus_resource_control(ctx->client, argv[optind + 1], CLUSCTL_RESOURCE_VOLUME_GET_INFO, NULL,
                          NULL, 0, CLUS_CONTROL_SYNC, NULL, &r);
    return finish(ctx, r, false);
}

const cli_command cli_agent_commands[] = {
    {"open", cmd_open, "NAME --type TYPE [--param K=V]... [--flags OPENFLAGS]",
     "Open (OpenV2 with --flags): create a resource, left Offline"},
    {"online", cmd_online, "NAME [--flags F] [--v1] [--wait] [--timeout MS]",
     "OnlineV2 (Online with --v1). Flags by name, comma-separated, or number:\n"
     "  recover-monitor-state 0x1, ignore-resource-status 0x2, return-to-source 0x4,\n"
     "  restore-online-state 0x8, ignore-network-connectivity 0x10"},
    {"offline", cmd_offline, "NAME [--flags F] [--destination NODE] [--v1] [--wait]",
     "OfflineV2 (Offline with --v1). Flags: ignore-resource-status 0x1, return-to-source 0x2,\n"
     "  queue-enabled 0x4, returning-to-source 0x8, due-to-embedded-failure 0x10,\n"
     "  ignore-network-connectivity 0x20, do-not-update-persistent-state 0x40"},
    {"terminate", cmd_terminate, "NAME", "Terminate: stop at once, no cleanup"},
    {"looks-alive", cmd_looks_alive, "NAME", "LooksAlive: the cheap health check"},
    {"is-alive", cmd_is_alive, "NAME [--cached]", "IsAlive: the thorough health check"},
    {"close", cmd_close, "NAME", "Close: remove the resource (terminated first if needed)"},
    {"arbitrate", cmd_arbitrate, "NAME", "Arbitrate: take the resource's exclusive claim"},
    {"release", cmd_release, "NAME", "Release: give the claim up"},
    {"control", cmd_control, "NAME CODE [--prop K=V]... [--in TEXT] [--begin [--user U] [--wait]]",
     "ResourceControl (BeginResourceControl[AsUser] with --begin/--user); CODE by name\n"
     "  (GET_PRIVATE_PROPERTIES, SET_PRIVATE_PROPERTIES, ...) or number"},
    {"type-control", cmd_type_control, "TYPE CODE [--begin [--user U] [--wait]]",
     "ResourceTypeControl (Begin*[AsUser] with --begin/--user)"},
    {"cancel", cmd_cancel, "NAME", "Cancel the pending Online/Offline"},
    {"state", cmd_state, "NAME", "The resource's state and properties"},
    {"resources", cmd_resources, "", "Every resource of the agent, and the agent's status"},
    {"types", cmd_types, "", "The resource types the agent has"},
    {"startup", cmd_startup, "TYPE [--min V] [--max V] [--ex]", "Startup/StartupEx of a type"},
    {"load-plugin", cmd_load_plugin, "PATH", "Load a .so type from the agent's --plugin-dir"},
    {"watch", cmd_watch, "[--resource NAME] [--after SEQ] [--count N] [--timeout MS]",
     "Stream events (JSON lines with -o json)"},
    {"lease", cmd_lease, "HOLDER --ttl MS [--epoch N]",
     "Grant or renew the agent's lease (--ttl 0 releases it)"},
    {"volume", cmd_volume, "status NAME", "A volume's device, mount, read-only flag and holder"},
    {NULL, NULL, NULL, NULL},
};
