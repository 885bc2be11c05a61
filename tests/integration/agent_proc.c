/*
 * agent_proc.c - see agent_proc.h.
 */
#include "agent_proc.h"

#include <clus/client.h>

#include "status.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A port below the kernel's ephemeral range (so no outgoing connection
 * takes it between this check and the agent's bind) that is free now. */
static int free_port(void)
{
    int low = 32768;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");

    if (f != NULL) {
        if (fscanf(f, "%d", &low) != 1 || low <= 11000)
            low = 32768;
        fclose(f);
    }
    for (int tries = 0; tries < 200; tries++) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int port = 10000 + rand() % (low - 10000), fd = socket(AF_INET, SOCK_STREAM, 0), ok;
        sa.sin_port = htons((uint16_t)port);
        ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
        if (fd >= 0)
            close(fd);
        if (ok)
            return port;
    }
    return -1;
}

static void print_log(const agent_proc *agent)
{
    char line[512];
    FILE *f = fopen(agent->log, "r");

    fprintf(stderr, "--- %s\n", agent->log);
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        fputs(line, stderr);
    if (f != NULL)
        fclose(f);
}

static pid_t spawn(const agent_proc *agent, const char *const *extra_args)
{
    const char *argv[32] = {"clus-agent", "--state-dir", agent->state_dir, "--listen", agent->url};
    int argc = 5;
    pid_t pid;

    for (; extra_args != NULL && *extra_args != NULL && argc < 31; extra_args++)
        argv[argc++] = *extra_args;
    argv[argc] = NULL;
    if ((pid = fork()) == 0) {
        if (freopen(agent->log, "a", stderr) == NULL)
            _exit(126);
        execv(CLUS_AGENT_BIN, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* Waits up to 10 s until the agent answers; -1 when it exited first. */
static int wait_answering(agent_proc *agent)
{
    for (int i = 0; i < 200; i++) {
        clus_client *c;
        char err[128];
        int status;
        if (waitpid(agent->pid, &status, WNOHANG) == agent->pid) {
            agent->pid = 0;
            return -1;
        }
        if (clus_client_connect(agent->url, NULL, &c, err, sizeof(err)) == CLUS_OK) {
            clus_client_close(c);
            /* whoever answered, ours must still be alive once it has had
             * the time to find the port taken */
            nanosleep(&(struct timespec){0, 100 * 1000000L}, NULL);
            if (waitpid(agent->pid, &status, WNOHANG) == agent->pid) {
                agent->pid = 0;
                return -1;
            }
            return 0;
        }
        nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
    }
    return -1;
}

int agent_proc_start(agent_proc *agent, const char *const *extra_args)
{
    snprintf(agent->state_dir, sizeof(agent->state_dir), "/tmp/clus-itest-XXXXXX");
    if (mkdtemp(agent->state_dir) == NULL) {
        perror("mkdtemp");
        return -1;
    }
    snprintf(agent->log, sizeof(agent->log), "%s.log", agent->state_dir);
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    for (int attempt = 0; attempt < 5; attempt++) {
        int port = free_port();
        if (port < 0)
            break;
        snprintf(agent->url, sizeof(agent->url), "tcp://127.0.0.1:%d", port);
        if ((agent->pid = spawn(agent, extra_args)) < 0)
            break;
        if (wait_answering(agent) == 0)
            return 0;
        if (agent->pid > 0) /* alive, but not answering */
            break;
    }
    fprintf(stderr, "clus-agent did not come up on %s\n", agent->url);
    print_log(agent);
    agent_proc_stop(agent);
    return -1;
}

void agent_proc_stop(agent_proc *agent)
{
    char cmd[192];

    if (agent->pid > 1) {
        kill(agent->pid, SIGCONT);
        kill(agent->pid, SIGKILL);
        waitpid(agent->pid, NULL, 0);
    }
    agent->pid = 0;
    if (agent->state_dir[0] != '\0') {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", agent->state_dir, agent->log);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", agent->state_dir);
    }
}
