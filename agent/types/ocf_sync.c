/*
 * ocf_sync.c - a short, bounded, blocking run of one action: meta-data
 * (once per agent file, then cached) and validate-all (at Open).
 *
 * Why block: Open and the type controls answer when they return (the ABI
 * has no pending form for them), and both need the agent's answer. These
 * two actions only print or check configuration, in milliseconds; the run
 * is bounded by a deadline (OCF_SYNC_MAX_MS by default, at most
 * OCF_SYNC_LIMIT_MS), after which the whole process group is killed. Every
 * other action runs on the loop (ocf_run.c). docs/ocf.md has the argument.
 *
 * The child is spawned in its own session with default signal dispositions
 * and no inherited descriptors beyond stdio; it is always reaped here
 * (waitpid on its pid only, which leaves libuv's children alone).
 */
#include "ocf_internal.h"

#include "clock.h"
#include "status.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

struct sync_run {
    struct ocf_sync *s;
    pid_t pid;
    int fds[2]; /* read ends: stdout, stderr (-1 once at end-of-file) */
    int pidfd;
    bool stop_on_overflow;
};

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static uint32_t sync_spawn(struct sync_run *run, const char *path, const char *action,
                           char *const *env, int out_w, int err_w)
{
    char *argv[] = {(char *)path, (char *)action, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, all;
    int rv;

    sigemptyset(&none);
    sigfillset(&all);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_w, 1);
    posix_spawn_file_actions_adddup2(&fa, err_w, 2);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    posix_spawn_file_actions_addchdir_np(&fa, "/");
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr,
                             POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    rv = posix_spawn(&run->pid, path, &fa, &attr, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return clus_status_from_errno(rv);
}

/* Reads what fd has now into cap, at most 4 captures' worth per call (a
 * writer faster than us must not keep us here). false at end-of-file or on
 * an error: the descriptor is done. */
static bool sync_read(int fd, struct ocf_capture *cap)
{
    char buf[16384];
    size_t total = 0;
    ssize_t n;

    while (total < 4 * OCF_CAPTURE_MAX) {
        n = read(fd, buf, sizeof(buf));
        if (n > 0) {
            ocf_capture_add(cap, buf, (size_t)n);
            total += (size_t)n;
        } else {
            return n < 0 && (errno == EAGAIN || errno == EINTR);
        }
    }
    return true;
}

static void sync_kill(struct sync_run *run)
{
    kill(-run->pid, SIGKILL);
    kill(run->pid, SIGKILL);
}

/* Waits for exit, output or the deadline. false when it must be killed. */
static bool sync_wait(struct sync_run *run, uint64_t deadline)
{
    struct ocf_capture *caps[2] = {&run->s->out, &run->s->err};

    for (;;) {
        struct pollfd pfds[3] = {{.fd = run->fds[0], .events = POLLIN},
                                 {.fd = run->fds[1], .events = POLLIN},
                                 {.fd = run->pidfd, .events = POLLIN}};
        uint64_t now = clus_mono_ms();
        int rv;

        if (now >= deadline) {
            run->s->result.timed_out = true;
            return false;
        }
        rv = poll(pfds, 3, (int)(deadline - now));
        if (rv < 0 && errno != EINTR)
            return false;
        for (int i = 0; rv > 0 && i < 2; i++) {
            if (pfds[i].revents != 0 && !sync_read(run->fds[i], caps[i]))
                close_fd(&run->fds[i]);
        }
        if (run->stop_on_overflow && run->s->out.dropped > 0) {
            run->s->result.overflow = true;
            return false;
        }
        if (rv > 0 && pfds[2].revents != 0)
            return true;
    }
}

static void sync_reap(struct sync_run *run)
{
    int ws = 0;

    while (waitpid(run->pid, &ws, 0) < 0 && errno == EINTR)
        ;
    run->s->result.rc = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
    run->s->result.signal = WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
}

static uint32_t sync_pipes(int out[2], int err[2])
{
    out[0] = out[1] = err[0] = err[1] = -1;
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
        uint32_t status = clus_status_from_errno(errno);
        close_fd(&out[0]);
        close_fd(&out[1]);
        return status;
    }
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    fcntl(err[0], F_SETFL, O_NONBLOCK);
    return CLUS_OK;
}

uint32_t ocf_run_sync(const char *path, const char *action, char *const *env, uint32_t timeout_ms,
                      size_t out_limit, bool stop_on_overflow, struct ocf_sync *s)
{
    struct sync_run run = {.s = s, .pidfd = -1, .stop_on_overflow = stop_on_overflow};
    uint64_t start = clus_mono_ms();
    int out[2], err[2];
    uint32_t status;

    memset(s, 0, sizeof(*s));
    ocf_capture_init(&s->out, out_limit);
    ocf_capture_init(&s->err, OCF_CAPTURE_MAX);
    s->result.out = &s->out;
    s->result.err = &s->err;
    if ((status = sync_pipes(out, err)) != CLUS_OK)
        return status;
    status = sync_spawn(&run, path, action, env, out[1], err[1]);
    close_fd(&out[1]);
    close_fd(&err[1]);
    run.fds[0] = out[0];
    run.fds[1] = err[0];
    if (status == CLUS_OK && (run.pidfd = pidfd_open(run.pid, 0)) < 0) {
        status = clus_status_from_errno(errno);
        sync_kill(&run);
        sync_reap(&run);
    }
    if (status == CLUS_OK) {
        s->result.pid = run.pid;
        if (!sync_wait(&run, start + timeout_ms))
            sync_kill(&run);
        sync_reap(&run);
        for (int i = 0; i < 2; i++) /* what is left in the pipes, bounded by the captures */
            if (run.fds[i] >= 0)
                sync_read(run.fds[i], i == 0 ? &s->out : &s->err);
    }
    close_fd(&run.fds[0]);
    close_fd(&run.fds[1]);
    close_fd(&run.pidfd);
    s->result.spawn_status = status;
    s->result.elapsed_ms = clus_mono_ms() - start;
    return status;
}

void ocf_sync_free(struct ocf_sync *sync)
{
    ocf_capture_free(&sync->out);
    ocf_capture_free(&sync->err);
}
