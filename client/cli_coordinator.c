/*
 * cli_coordinator.c - clusctl's commands against clus-coordinator.
 */
#include "cli.h"

#include <stddef.h>

const cli_command cli_coordinator_commands[] = {
    {NULL, NULL, NULL, NULL, false},
};
