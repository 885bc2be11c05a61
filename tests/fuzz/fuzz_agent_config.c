/*
 * fuzz_agent_config.c - libFuzzer target: the agent's YAML configuration
 * file (agent/config.c, --config FILE). The loader takes a path, so each
 * input is written to a memfd and read back through /proc/self/fd.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int config_fd = -1;
static char config_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    config_fd = memfd_create("clus-fuzz-agent.yaml", MFD_CLOEXEC);
    if (config_fd < 0)
        abort();
    snprintf(config_path, sizeof(config_path), "/proc/self/fd/%d", config_fd);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clus_agent_file file;
    char err[512];

    if (size > 65536)
        return -1;
    if (ftruncate(config_fd, 0) != 0 || pwrite(config_fd, data, size, 0) != (ssize_t)size)
        abort();
    if (clus_agent_file_load(config_path, &file, err, sizeof(err)) == 0)
        clus_agent_file_free(&file);
    return 0;
}
