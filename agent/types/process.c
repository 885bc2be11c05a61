/*
 * process.c - the `process` resource type: start, supervise and stop a
 * command. Runs on worker threads (its entry points may block).
 *
 * Parameters:
 *   command          required; run with /bin/sh -c in a session of its own
 *   stop_timeout_ms  Offline: SIGTERM, then SIGKILL after this (default 10000)
 *   health_command   optional; IsAlive runs it and wants exit status 0
 *   health_timeout_ms  bound on health_command (default 10000)
 *
 * The process is started in its own session, so that it survives an agent
 * restart and can be adopted (RECOVER_MONITOR_STATE) through the pid file in
 * the resource's state directory ("pid starttime", starttime from
 * /proc/PID/stat guards against pid reuse). A monitor thread waits on a
 * pidfd and signals failure when the process exits on its own. Output goes
 * to output.log in the state directory. The command runs under the agent's
 * lease guard (guard.h), which fences it if the node's lease runs out even
 * when the agent itself is gone.
 */
#include "builtin.h"
#include "params.h"
#include "status.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct proc {
    clus_resource *handle;
    char *command;
    char *health_command;
    uint32_t stop_timeout_ms;
    uint32_t health_timeout_ms;
    char pidfile[PATH_MAX];
    char logfile[PATH_MAX];

    pthread_mutex_t op_lock; /* one entry point at a time; Terminate kills before taking it */
    pthread_mutex_t lock;    /* guards the fields below: monitor thread vs entry points */
    pid_t pid;               /* 0 when nothing runs */
    int pidfd;
    bool child;    /* started by this agent: reap it */
    bool stopping; /* an Offline/Terminate is stopping it: not a failure */
    bool exited;
    pthread_t monitor;
    bool monitor_running;
    int wake[2]; /* tells the monitor to quit */
};

static const clus_monitor_callbacks *proc_cb;
static char proc_guard_exe[PATH_MAX]; /* "" = no guard */
static char proc_lease_file[PATH_MAX];

void clus_process_type_configure(const char *guard_exe, const char *lease_file)
{
    snprintf(proc_guard_exe, sizeof(proc_guard_exe), "%s", guard_exe ? guard_exe : "");
    snprintf(proc_lease_file, sizeof(proc_lease_file), "%s", lease_file ? lease_file : "");
}

static uint32_t proc_parse(struct proc *p, const clus_params *params)
{
    p->stop_timeout_ms = 10000;
    p->health_timeout_ms = 10000;
    for (size_t i = 0; i < params->count; i++) {
        const char *k = params->items[i].key, *v = params->items[i].value;
        bool ok = true;
        if (strcmp(k, "command") == 0)
            ok = *v != '\0' && (p->command = strdup(v)) != NULL;
        else if (strcmp(k, "health_command") == 0)
            ok = *v != '\0' && (p->health_command = strdup(v)) != NULL;
        else if (strcmp(k, "stop_timeout_ms") == 0)
            ok = clus_parse_u32(v, 3600000, &p->stop_timeout_ms);
        else if (strcmp(k, "health_timeout_ms") == 0)
            ok = clus_parse_u32(v, 3600000, &p->health_timeout_ms);
        else
            ok = false;
        if (!ok) {
            proc_cb->log_event(p->handle, CLUS_LOG_ERROR, "bad parameter %s=%.80s", k, v);
            proc_cb->set_reason(p->handle,
                                "bad parameter %s=%.80s (the process type takes "
                                "command, stop_timeout_ms, health_command, "
                                "health_timeout_ms)",
                                k, v);
            return CLUS_E_INVALID_PARAMETER;
        }
    }
    if (p->command == NULL) {
        proc_cb->log_event(p->handle, CLUS_LOG_ERROR, "parameter command is required");
        proc_cb->set_reason(p->handle, "parameter command is required");
        return CLUS_E_INVALID_PARAMETER;
    }
    return CLUS_OK;
}

static void proc_free(struct proc *p)
{
    free(p->command);
    free(p->health_command);
    pthread_mutex_destroy(&p->lock);
    pthread_mutex_destroy(&p->op_lock);
    free(p);
}

static uint32_t proc_open(const clus_open_args *args, clus_resid *resid)
{
    struct proc *p = calloc(1, sizeof(*p));
    uint32_t status;

    if (p == NULL)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    p->handle = args->handle;
    p->pidfd = -1;
    p->wake[0] = p->wake[1] = -1;
    pthread_mutex_init(&p->lock, NULL);
    pthread_mutex_init(&p->op_lock, NULL);
    snprintf(p->pidfile, sizeof(p->pidfile), "%s/pid", args->state_dir);
    snprintf(p->logfile, sizeof(p->logfile), "%s/output.log", args->state_dir);
    status = proc_parse(p, args->params);
    if (status != CLUS_OK) {
        proc_free(p);
        return status;
    }
    *resid = p;
    return CLUS_OK;
}

/* Field 22 of /proc/PID/stat: start time in clock ticks since boot. */
static unsigned long long proc_starttime(pid_t pid)
{
    char path[64], buf[1024];
    unsigned long long start = 0;
    const char *p;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return 0;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the command name may hold spaces */
    for (int field = 2; p != NULL && field < 22; field++)
        p = strchr(p + 1, ' ');
    if (p != NULL)
        start = strtoull(p + 1, NULL, 10);
    return start;
}

static void proc_write_pidfile(const struct proc *p, pid_t pid)
{
    char tmp[PATH_MAX + 8];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s.tmp", p->pidfile);
    if ((f = fopen(tmp, "w")) == NULL)
        return;
    fprintf(f, "%d %llu\n", (int)pid, proc_starttime(pid));
    if (fclose(f) == 0)
        rename(tmp, p->pidfile);
}

/* The pid in the pid file, if that process still runs (same start time). */
static pid_t proc_read_pidfile(const struct proc *p)
{
    FILE *f = fopen(p->pidfile, "r");
    unsigned long long start = 0;
    int pid = 0;

    if (f == NULL)
        return 0;
    if (fscanf(f, "%d %llu", &pid, &start) != 2)
        pid = 0;
    fclose(f);
    if (pid <= 1 || start == 0 || proc_starttime(pid) != start)
        return 0;
    return pid;
}

/* Waits until the pidfd says the process is gone, up to ms. */
static bool proc_wait_exit(int pidfd, uint32_t ms)
{
    struct pollfd pfd = {.fd = pidfd, .events = POLLIN};

    return poll(&pfd, 1, (int)ms) > 0;
}

static void *proc_monitor(void *arg)
{
    struct proc *p = arg;
    struct pollfd pfds[2] = {{.fd = p->pidfd, .events = POLLIN},
                             {.fd = p->wake[0], .events = POLLIN}};
    bool failed = false;

    while (poll(pfds, 2, -1) < 0 && errno == EINTR)
        ;
    pthread_mutex_lock(&p->lock);
    if (pfds[0].revents & POLLIN) {
        p->exited = true;
        failed = !p->stopping;
    }
    pthread_mutex_unlock(&p->lock);
    if (failed) {
        proc_cb->log_event(p->handle, CLUS_LOG_WARNING, "process %d exited on its own",
                           (int)p->pid);
        proc_cb->signal_failure(p->handle, CLUS_FAILURE_GENERAL, 0);
    }
    return NULL;
}

static uint32_t proc_watch(struct proc *p, pid_t pid, bool child)
{
    int pidfd = pidfd_open(pid, 0);

    if (pidfd < 0 || pipe2(p->wake, O_CLOEXEC) != 0) {
        uint32_t status = clus_status_from_errno(errno);
        if (pidfd >= 0)
            close(pidfd);
        return status;
    }
    pthread_mutex_lock(&p->lock);
    p->pid = pid;
    p->pidfd = pidfd;
    p->child = child;
    p->stopping = p->exited = false;
    pthread_mutex_unlock(&p->lock);
    if (pthread_create(&p->monitor, NULL, proc_monitor, p) != 0)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    p->monitor_running = true;
    return CLUS_OK;
}

/* Stops the monitor, reaps a child of ours, forgets the process. */
static void proc_unwatch(struct proc *p)
{
    if (p->monitor_running) {
        (void)!write(p->wake[1], "x", 1);
        pthread_join(p->monitor, NULL);
        p->monitor_running = false;
    }
    if (p->child && p->pid > 0)
        waitpid(p->pid, NULL, WNOHANG);
    for (int i = 0; i < 2; i++) {
        if (p->wake[i] >= 0)
            close(p->wake[i]);
        p->wake[i] = -1;
    }
    pthread_mutex_lock(&p->lock);
    if (p->pidfd >= 0)
        close(p->pidfd);
    p->pidfd = -1;
    p->pid = 0;
    pthread_mutex_unlock(&p->lock);
}

/* Starts command in a session of its own; with guard, under the lease
 * guard (guard.h) that fences it if the node's lease runs out - fence is
 * false for resources onlined with IGNORE_NETWORK_CONNECTIVITY. */
static uint32_t proc_spawn(const char *command, const char *logfile, bool guard, bool fence,
                           pid_t *pid)
{
    char *plain[] = {"/bin/sh", "-c", (char *)command, NULL};
    char *guarded[] = {
        proc_guard_exe,  "--guard", proc_lease_file, fence ? "1" : "0", "--", "/bin/sh", "-c",
        (char *)command, NULL};
    char **argv = guard && proc_guard_exe[0] != '\0' ? guarded : plain;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, dfl;
    int rv;

    sigemptyset(&none);
    sigfillset(&dfl);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, logfile, O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr,
                             POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &dfl);
    rv = posix_spawn(pid, argv[0], &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return clus_status_from_errno(rv);
}

static uint32_t proc_online_locked(clus_resid resid, clus_online_args *args)
{
    struct proc *p = resid;
    pid_t pid;
    uint32_t status;

    args->event_handle = true; /* the monitor reports exits: no LooksAlive polling */
    if (p->pid > 0 && !p->exited)
        return CLUS_OK;
    if (p->pid > 0)
        proc_unwatch(p);
    if ((args->flags & CLUS_ONLINE_RECOVER_MONITOR_STATE) && (pid = proc_read_pidfile(p)) > 0) {
        proc_cb->log_event(p->handle, CLUS_LOG_INFORMATION, "adopting running process %d",
                           (int)pid);
        return proc_watch(p, pid, false);
    }
    status = proc_spawn(p->command, p->logfile, true,
                        !(args->flags & CLUS_ONLINE_IGNORE_NETWORK_CONNECTIVITY), &pid);
    if (status != CLUS_OK) {
        proc_cb->log_event(p->handle, CLUS_LOG_ERROR, "cannot start /bin/sh: %s",
                           clus_status_text(status));
        proc_cb->set_reason(p->handle, "cannot start /bin/sh: %s", clus_status_text(status));
        return status;
    }
    proc_write_pidfile(p, pid);
    proc_cb->log_event(p->handle, CLUS_LOG_INFORMATION, "started process %d", (int)pid);
    return proc_watch(p, pid, true);
}

/* Sends sig to the process's session (its process group) and waits. */
static bool proc_signal_wait(struct proc *p, int sig, uint32_t ms)
{
    kill(-p->pid, sig);
    kill(p->pid, sig);
    return proc_wait_exit(p->pidfd, ms);
}

static void proc_stop(struct proc *p, uint32_t grace_ms)
{
    if (p->pid <= 0)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_mutex_unlock(&p->lock);
    if (grace_ms == 0 || !proc_signal_wait(p, SIGTERM, grace_ms))
        proc_signal_wait(p, SIGKILL, 5000);
    else
        kill(-p->pid, SIGKILL); /* leftovers of its session */
    if (p->child)
        waitpid(p->pid, NULL, 0);
    p->child = false;
    proc_unwatch(p);
    unlink(p->pidfile);
}

static uint32_t proc_online(clus_resid resid, clus_online_args *args)
{
    struct proc *p = resid;
    uint32_t status;

    pthread_mutex_lock(&p->op_lock);
    status = proc_online_locked(resid, args);
    pthread_mutex_unlock(&p->op_lock);
    return status;
}

static uint32_t proc_offline(clus_resid resid, const clus_offline_args *args)
{
    struct proc *p = resid;

    pthread_mutex_lock(&p->op_lock);
    proc_stop(p, p->stop_timeout_ms);
    pthread_mutex_unlock(&p->op_lock);
    return CLUS_OK;
}

/* Terminate overtakes a running Online/Offline: kill first (so that the
 * other entry point finishes at once), then clean up in turn. */
static void proc_terminate(clus_resid resid)
{
    struct proc *p = resid;
    pid_t pid;

    pthread_mutex_lock(&p->lock);
    pid = p->exited ? 0 : p->pid;
    p->stopping = true;
    pthread_mutex_unlock(&p->lock);
    if (pid > 0) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
    }
    pthread_mutex_lock(&p->op_lock);
    proc_stop(p, 0);
    pthread_mutex_unlock(&p->op_lock);
}

static bool proc_looks_alive(clus_resid resid)
{
    struct proc *p = resid;
    bool alive;

    pthread_mutex_lock(&p->lock);
    alive = p->pid > 0 && !p->exited && !proc_wait_exit(p->pidfd, 0);
    pthread_mutex_unlock(&p->lock);
    return alive;
}

static bool proc_health_command(struct proc *p)
{
    pid_t pid;
    int pidfd, wstatus = 0;
    bool done;

    if (proc_spawn(p->health_command, p->logfile, false, false, &pid) != CLUS_OK)
        return false;
    pidfd = pidfd_open(pid, 0);
    done = pidfd >= 0 && proc_wait_exit(pidfd, p->health_timeout_ms);
    if (!done) {
        proc_cb->log_event(p->handle, CLUS_LOG_WARNING, "health_command did not finish in %u ms",
                           p->health_timeout_ms);
        kill(pid, SIGKILL);
    }
    if (pidfd >= 0)
        close(pidfd);
    waitpid(pid, &wstatus, 0);
    return done && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0;
}

static bool proc_is_alive(clus_resid resid)
{
    struct proc *p = resid;
    bool alive;

    pthread_mutex_lock(&p->op_lock);
    alive = proc_looks_alive(resid) && (p->health_command == NULL || proc_health_command(p));
    pthread_mutex_unlock(&p->op_lock);
    return alive;
}

static void proc_close(clus_resid resid)
{
    struct proc *p = resid;

    pthread_mutex_lock(&p->op_lock);
    p->child = false; /* not reaped by us: it may keep running for the next agent */
    proc_unwatch(p);
    pthread_mutex_unlock(&p->op_lock);
    proc_free(p);
}

static uint32_t proc_control(clus_resid resid, clus_control *ctl)
{
    struct proc *p = resid;
    char buf[32];

    if (ctl->code != CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES)
        return CLUS_E_INVALID_FUNCTION;
    pthread_mutex_lock(&p->lock);
    snprintf(buf, sizeof(buf), "%d", p->exited ? 0 : (int)p->pid);
    pthread_mutex_unlock(&p->lock);
    ctl->add_property(ctl, "pid", buf);
    ctl->add_property(ctl, "log", p->logfile);
    return CLUS_OK;
}

static const clus_restype_ops proc_ops = {
    .size = sizeof(clus_restype_ops),
    .version = CLUS_RESTYPE_VERSION_1,
    .flags = 0,
    .open = proc_open,
    .close = proc_close,
    .online = proc_online,
    .offline = proc_offline,
    .terminate = proc_terminate,
    .looks_alive = proc_looks_alive,
    .is_alive = proc_is_alive,
    .resource_control = proc_control,
};

uint32_t clus_process_type_startup(const char *type_name, uint32_t min_version,
                                   uint32_t max_version, const clus_monitor_callbacks *callbacks,
                                   const clus_restype_ops **ops)
{
    if (strcmp(type_name, "process") != 0)
        return CLUS_E_RESNAME_NOT_FOUND;
    if (min_version > CLUS_RESTYPE_VERSION_1 || max_version < CLUS_RESTYPE_VERSION_1)
        return CLUS_E_REVISION_MISMATCH;
    proc_cb = callbacks;
    *ops = &proc_ops;
    return CLUS_OK;
}
