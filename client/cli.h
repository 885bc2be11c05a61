/*
 * cli.h - clusctl's logic, as a library (main.c only calls cli_main).
 *
 * Exit codes (stable, for scripts):
 *   0  the call succeeded (status 0, or 997 pending without --wait)
 *   1  the call returned an error status (printed, and in JSON "status")
 *   2  usage error: nothing was sent
 *   3  the agent or coordinator could not be reached, or did not answer
 *   4  --wait: the operation ended in another state than asked, or timed out
 */
#ifndef CLUS_CLI_H
#define CLUS_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include <clus/client.h>

enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILED = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_UNREACHABLE = 3,
    CLI_EXIT_WAIT = 4,
};

typedef struct cli_ctx {
    bool json;
    const char *url;
    const char *command;
    uint32_t timeout_ms;
    clus_client *client; /* connected before the command runs (if it needs one) */
} cli_ctx;

typedef int (*cli_fn)(cli_ctx *ctx, int argc, char **argv);

typedef struct cli_command {
    const char *name;
    cli_fn fn;
    const char *usage;
    const char *help;
    bool no_connect; /* runs without a daemon (e.g. config validate) */
} cli_command;

/* With --agent (the default): the entry points of one agent. */
extern const cli_command cli_agent_commands[];
/* With --coordinator, or for commands only the coordinator has
 * (cli_coordinator.c). ctx->client is then connected to the coordinator. */
extern const cli_command cli_coordinator_commands[];

int cli_main(int argc, char **argv);
int cli_print(const cli_ctx *ctx, const clus_reply *r, bool pending_ok);
int cli_usage_error(const cli_ctx *ctx, const char *fmt, const char *arg);
int cli_exit_code(uint32_t status, bool pending_ok);
/* -o json for a call that got no reply: {"status", "status_name", "message"}. */
void cli_print_error_json(uint32_t status, const char *message);

#endif
