/*
 * agent_proc.h - a real clus-agent process for the C integration tests: its
 * own state directory, a free loopback port, its stderr kept in a log that
 * is printed when it fails to come up.
 */
#ifndef CLUS_TEST_AGENT_PROC_H
#define CLUS_TEST_AGENT_PROC_H

#include <sys/types.h>

typedef struct agent_proc {
    pid_t pid; /* 0: not running */
    char url[64];
    char state_dir[64];
    char log[96];
} agent_proc;

/* Starts CLUS_AGENT_BIN with --state-dir, --listen and the NULL-terminated
 * extra arguments, and waits until it answers. A port another process took
 * in the meantime makes the agent exit: it is started again on another.
 * 0, or -1 with the reason and the agent's log on stderr. */
int agent_proc_start(agent_proc *agent, const char *const *extra_args);

/* Kills it (also when stopped), waits for it, removes its state directory. */
void agent_proc_stop(agent_proc *agent);

#endif
