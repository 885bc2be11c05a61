/*
 * config.h - the agent's optional YAML configuration file (--config FILE).
 *
 *   listen: tcp://127.0.0.1:7700
 *   state_dir: /var/lib/clus/agent
 *   plugin_dir: /usr/lib/clus/plugins
 *   call_bound_ms: 250
 *   contexts: 128
 *   log_level: info
 *
 * Command-line options override the file. Unknown keys are errors (a typo
 * should not be silently ignored).
 */
#ifndef CLUS_AGENT_CONFIG_H
#define CLUS_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct clus_agent_file {
    char *listen;
    char *state_dir;
    char *plugin_dir;
    char *log_level;
    uint32_t call_bound_ms; /* 0 = not set */
    uint32_t contexts;      /* 0 = not set */
    bool insecure;          /* command line only */
} clus_agent_file;

/* 0, or 87 with "FILE:LINE: reason" in err. */
uint32_t clus_agent_file_load(const char *path, clus_agent_file *out, char *err, size_t errlen);
void clus_agent_file_free(clus_agent_file *file);

#endif
