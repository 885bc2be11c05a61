/*
 * cli_main.c - clusctl's global options, help, and command lookup.
 */
#include "cli.h"

#include "params.h"
#include "status.h"
#include "tls.h"

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
            "               [--tls-ca FILE --tls-cert FILE --tls-key FILE] CALL [ARGS]\n\n"
            "Drives one clus-agent (default %s; $CLUS_AGENT) or the\n"
            "coordinator (--coordinator, default %s; $CLUS_COORDINATOR).\n"
            "tls+tcp:// URLs need the cluster CA and a client certificate (OU=admin, or\n"
            "OU=reader to only read) and its key; defaults $CLUS_TLS_CA, $CLUS_TLS_CERT,\n"
            "$CLUS_TLS_KEY. --timeout (default 30000) bounds the connection and each call.\n\n"
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

static int parse_global(int argc, char **argv, cli_ctx *ctx, bool *coordinator, clus_tls_files *tls)
{
    static const struct option opts[] = {{"agent", required_argument, NULL, 'a'},
                                         {"coordinator", required_argument, NULL, 'C'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"timeout", required_argument, NULL, 't'},
                                         CLUS_TLS_LONG_OPTIONS,
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;

    while ((c = getopt_long(argc, argv, "+a:o:t:h", opts, NULL)) != -1) {
        if (clus_tls_option(c, optarg, tls))
            continue;
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

/* tls+tcp://: the CA and (for anything but watching a refusal happen) a
 * client certificate. Loaded once as the process identity, which the
 * coordinator commands' own connections use too. 0 or a usage exit code. */
static int setup_tls(const cli_ctx *ctx, const clus_tls_files *tls, clus_client_options *options)
{
    char err[512];

    if (!clus_url_is_tls(ctx->url))
        return 0;
    if (tls->ca == NULL)
        return cli_usage_error(ctx, "%s needs the cluster CA: --tls-ca FILE (or $CLUS_TLS_CA)",
                               ctx->url);
    if (clus_tls_set_process_identity(tls, false, err, sizeof(err)) != CLUS_OK)
        return cli_usage_error(ctx, "%s", err);
    options->tls_ca = tls->ca;
    options->tls_cert = tls->cert;
    options->tls_key = tls->key;
    return 0;
}

int cli_main(int argc, char **argv)
{
    cli_ctx ctx = {.url = getenv("CLUS_AGENT") ? getenv("CLUS_AGENT") : CLI_DEFAULT_AGENT,
                   .timeout_ms = 30000};
    clus_client_options options = {0};
    clus_tls_files tls = {getenv("CLUS_TLS_CA"), getenv("CLUS_TLS_CERT"), getenv("CLUS_TLS_KEY")};
    const cli_command *cmd;
    char err[768];
    uint32_t status;
    bool coordinator = false;
    int rc = parse_global(argc, argv, &ctx, &coordinator, &tls);

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
    /* no_connect commands connect by themselves (coordinator calls) or not
     * at all (config validate): without a CA they get no identity here. */
    if ((!cmd->no_connect || tls.ca != NULL) && (rc = setup_tls(&ctx, &tls, &options)) != 0)
        return rc;
    if (cmd->no_connect) {
        rc = cmd->fn(&ctx, argc, argv);
        clus_tls_set_process_identity(NULL, false, err, sizeof(err));
        return rc;
    }
    options.timeout_ms = ctx.timeout_ms;
    status = clus_client_connect(ctx.url, &options, &ctx.client, err, sizeof(err));
    if (status != CLUS_OK) {
        if (ctx.json)
            cli_print_error_json(status, err);
        fprintf(stderr, "clusctl: %s\n", err);
        clus_tls_set_process_identity(NULL, false, err, sizeof(err));
        return cli_exit_code(status, false);
    }
    rc = cmd->fn(&ctx, argc, argv);
    clus_client_close(ctx.client);
    clus_tls_set_process_identity(NULL, false, err, sizeof(err));
    return rc;
}
