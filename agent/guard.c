/*
 * guard.c - see guard.h. The guard is deliberately small and blocking: it
 * is a process of its own, with nothing else to do.
 */
#include "guard.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GUARD_TICK_MS 100

static volatile sig_atomic_t guard_forward; /* a signal to pass on to the command */

static void guard_on_signal(int sig)
{
    guard_forward = sig;
}

int clus_guard_write_lease(const char *path, bool bound, uint64_t expires_mono_ms)
{
    char tmp[4096 + 8], line[64];
    int fd, n;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
        return -1;
    n = bound ? snprintf(line, sizeof(line), "bound %llu\n", (unsigned long long)expires_mono_ms)
              : snprintf(line, sizeof(line), "unbound\n");
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (write(fd, line, (size_t)n) != n) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    return rename(tmp, path);
}

int clus_guard_read_lease(const char *path, uint64_t *expires_mono_ms)
{
    char line[64] = "";
    unsigned long long expires;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    n = read(fd, line, sizeof(line) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    line[n] = '\0';
    if (strncmp(line, "unbound", 7) == 0)
        return 0;
    if (sscanf(line, "bound %llu", &expires) != 1)
        return -1;
    *expires_mono_ms = expires;
    return 1;
}

static pid_t guard_spawn(char **argv)
{
    pid_t pid = fork();
    /* (the child resets the dispositions the guard installs after fork) */

    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static int guard_status(int wstatus)
{
    return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
}

/* True when the lease is bound and has run out. An unreadable file counts
 * as expired only once it was seen bound: better a fence than a twin. */
static bool guard_lease_expired(const char *path, bool *seen_bound)
{
    uint64_t expires = 0;
    int bound = clus_guard_read_lease(path, &expires);

    if (bound == 1)
        *seen_bound = true;
    if (bound == 1)
        return clus_mono_ms() >= expires;
    return bound < 0 && *seen_bound;
}

int clus_guard_main(int argc, char **argv)
{
    struct timespec tick = {0, GUARD_TICK_MS * 1000000L};
    bool fence, seen_bound = false;
    int wstatus;
    pid_t child;

    if (argc < 5 || strcmp(argv[3], "--") != 0) {
        fprintf(stderr, "usage: clus-agent --guard LEASEFILE FENCE(0|1) -- PROGRAM [ARGS]\n");
        return 2;
    }
    fence = strcmp(argv[2], "1") == 0;
    /* The guard stands for the command: a SIGTERM/SIGINT/SIGHUP sent to its
     * pid is passed on, and the guard lives until the command ends. */
    signal(SIGTERM, guard_on_signal);
    signal(SIGINT, guard_on_signal);
    signal(SIGHUP, guard_on_signal);
    if ((child = guard_spawn(argv + 4)) < 0)
        return 127;
    for (;;) {
        pid_t done = waitpid(child, &wstatus, WNOHANG);
        if (done == child)
            return guard_status(wstatus);
        if (guard_forward != 0) {
            kill(child, guard_forward);
            guard_forward = 0;
        }
        if (fence && guard_lease_expired(argv[1], &seen_bound)) {
            fprintf(stderr, "clus-agent guard: the lease in %s ran out: killing the session\n",
                    argv[1]);
            if (getpgrp() == getpid())
                kill(0, SIGKILL); /* the whole session, this guard too */
            kill(child, SIGKILL);
            return 128 + SIGKILL;
        }
        nanosleep(&tick, NULL);
    }
}
