/*
 * cli_main.c - clusctl's global options, help, and command lookup.
 */
#include "cli.h"

#include "params.h"
#include "status.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLI_DEFAULT_AGENT       "tcp://127.0.0.1:7700"
#define CLI_DEFAULT_COORDINATOR "tcp://127.0.0.1:7701"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: clusctl [--agent URL | --coordinator URL] [-o json|text] [--timeout MS]\n"
            "               CALL [ARGS]\n\n"
            "Drives one clus-agent (default %s; $CLUS_AGENT) or the\n"
            "coordinator (--coordinator, default %s; $CLUS_COORDINATOR).\n\n"
            "Agent calls:\n",
            CLI_DEFAULT_AGENT, CLI_DEFAULT_COORDINATOR);
    for (const cli_command *c = cli_agent_commands; c->name != NULL; c++)
        fprintf(out, "  %-13s %s\n", c->name, c->usage);
    if (cli_coordinator_commands[0].name != NULL)
        fprintf(out, "\nCoordinator calls (with --coordinator):\n");
    for (const cli_command *c = cli_coordinator_commands; c->name != NULL; c++)
        fprintf(out, "  %-13s %s\n", c->name, c->usage);
    fprintf(out,
            "\nclusctl CALL --help tells more. Exit codes: 0 ok (or pending without --wait),\n"
            "1 the call failed, 2 usage error, 3 unreachable, 4 --wait did not end as asked.\n");
}

static const cli_command *find_in(const cli_command *table, const char *name)
{
    for (const cli_command *c = table; c->name != NULL; c++) {
        if (strcmp(c->name, name) == 0)
            return c;
    }
    return NULL;
}

/* --coordinator picks the coordinator's table; a command only the
 * coordinator has goes there too. */
static const cli_command *find_command(cli_ctx *ctx, bool coordinator)
{
    const cli_command *c = coordinator ? NULL : find_in(cli_agent_commands, ctx->command);

    if (c == NULL && (c = find_in(cli_coordinator_commands, ctx->command)) != NULL && !coordinator)
        ctx->url =
            getenv("CLUS_COORDINATOR") ? getenv("CLUS_COORDINATOR") : CLI_DEFAULT_COORDINATOR;
    return c;
}

static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    }
    return false;
}

static int parse_global(int argc, char **argv, cli_ctx *ctx, bool *coordinator)
{
    static const struct option opts[] = {
        {"agent", required_argument, NULL, 'a'},  {"coordinator", required_argument, NULL, 'C'},
        {"output", required_argument, NULL, 'o'}, {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    int c;

    while ((c = getopt_long(argc, argv, "+a:o:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            ctx->url = optarg;
            *coordinator = false;
            break;
        case 'C':
            ctx->url = optarg;
            *coordinator = true;
            break;
        case 'o':
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0)
                return cli_usage_error(ctx, "-o takes json or text, not %s", optarg);
            ctx->json = strcmp(optarg, "json") == 0;
            break;
        case 't':
            if (!clus_parse_u32(optarg, 86400000, &ctx->timeout_ms) || ctx->timeout_ms == 0)
                return cli_usage_error(ctx, "bad --timeout %s", optarg);
            break;
        case 'h':
            usage(stdout);
            return -1;
        default:
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    return 0;
}

int cli_main(int argc, char **argv)
{
    cli_ctx ctx = {.url = getenv("CLUS_AGENT") ? getenv("CLUS_AGENT") : CLI_DEFAULT_AGENT,
                   .timeout_ms = 30000};
    clus_client_options options = {0};
    const cli_command *cmd;
    char err[256];
    uint32_t status;
    bool coordinator = false;
    int rc = parse_global(argc, argv, &ctx, &coordinator);

    if (rc != 0)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (optind >= argc) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    ctx.command = argv[optind];
    if ((cmd = find_command(&ctx, coordinator)) == NULL)
        return cli_usage_error(&ctx, "unknown call '%s'", ctx.command);
    argc -= optind;
    argv += optind;
    if (wants_help(argc, argv)) {
        printf("usage: clusctl %s %s\n\n%s\n", cmd->name, cmd->usage, cmd->help);
        return CLI_EXIT_OK;
    }
    if (cmd->no_connect)
        return cmd->fn(&ctx, argc, argv);
    options.timeout_ms = ctx.timeout_ms;
    status = clus_client_connect(ctx.url, &options, &ctx.client, err, sizeof(err));
    if (status != CLUS_OK) {
        if (ctx.json)
            printf("{\"status\":%u,\"status_name\":\"%s\",\"message\":\"%s\"}\n", status,
                   clus_status_name(status), "cannot connect to the agent");
        fprintf(stderr, "clusctl: %s\n", err);
        return cli_exit_code(status, false);
    }
    rc = cmd->fn(&ctx, argc, argv);
    clus_client_close(ctx.client);
    return rc;
}
