/*
 * ocf_run.c - one OCF action as a child process on the agent's libuv loop.
 *
 * The child runs in a session of its own (UV_PROCESS_DETACHED: setsid), so
 * its process id is its process group id and kill(-pid) reaches everything
 * it started without a session of its own. stdout and stderr come back
 * through pipes into bounded captures. A timer bounds the action: at its
 * timeout the whole group gets SIGKILL.
 *
 * The action ends when the agent script exits, not when its pipes reach
 * end-of-file: an agent that starts a daemon may leave the daemon holding
 * them. At exit what is already in the pipes is read (bounded) and the
 * pipes are closed. libuv reaps the child (waitpid) before the exit
 * callback, so there are no zombies; every handle is closed there, and the
 * child frees itself when the last close completes.
 *
 * The handles are unreferenced: a running action never keeps the agent's
 * loop alive at shutdown (the agent leaves resources as they are).
 */
#include "ocf_internal.h"

#include "clock.h"
#include "log.h"
#include "status.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#define DRAIN_MAX (4 * OCF_CAPTURE_MAX) /* bytes read at exit, per stream */

struct ocf_child {
    uv_process_t proc;
    uv_pipe_t pipes[2]; /* the child's stdout, stderr */
    uv_timer_t timer;   /* the action's timeout */
    struct ocf_capture cap[2];
    struct ocf_result result;
    int open_handles;
    bool spawned, exited, detached;
    uint64_t started_ms;
    uint32_t timeout_ms;
    char label[192];
    ocf_child_done_fn done; /* NULL once abandoned or detached */
    void *arg;
};

static size_t children_live;

/* One read buffer for every child: reads are handled one at a time on the
 * loop thread and copied into the capture at once. */
static char read_buffer[64 * 1024];

size_t ocf_children_live(void)
{
    return children_live;
}

pid_t ocf_child_pid(const struct ocf_child *child)
{
    return child->result.pid;
}

static void child_closed(uv_handle_t *handle)
{
    struct ocf_child *c = handle->data;

    if (--c->open_handles > 0)
        return;
    ocf_capture_free(&c->cap[0]);
    ocf_capture_free(&c->cap[1]);
    free(c);
    children_live--;
}

static void child_close_all(struct ocf_child *c)
{
    uv_handle_t *handles[] = {(uv_handle_t *)&c->proc, (uv_handle_t *)&c->pipes[0],
                              (uv_handle_t *)&c->pipes[1], (uv_handle_t *)&c->timer};

    for (size_t i = 0; i < 4; i++) {
        if (!uv_is_closing(handles[i]))
            uv_close(handles[i], child_closed);
    }
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    *buf = uv_buf_init(read_buffer, sizeof(read_buffer));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct ocf_child *c = stream->data;
    int i = stream == (uv_stream_t *)&c->pipes[0] ? 0 : 1;

    if (nread > 0)
        ocf_capture_add(&c->cap[i], buf->base, (size_t)nread);
    else if (nread < 0)
        uv_read_stop(stream); /* EOF or an error: nothing more from this one */
}

/* Reads what the pipe already holds (it is non-blocking), bounded. */
static void drain(struct ocf_child *c, int i)
{
    uv_os_fd_t fd;
    size_t total = 0;
    ssize_t n;

    uv_read_stop((uv_stream_t *)&c->pipes[i]);
    if (uv_fileno((uv_handle_t *)&c->pipes[i], &fd) != 0)
        return;
    while (total < DRAIN_MAX && (n = read(fd, read_buffer, sizeof(read_buffer))) > 0) {
        ocf_capture_add(&c->cap[i], read_buffer, (size_t)n);
        total += (size_t)n;
    }
}

static void kill_group(struct ocf_child *c)
{
    /* Only while libuv has not reaped it: until then its pid (and its
     * process group id) cannot belong to anybody else. */
    if (c->spawned && !c->exited && c->result.pid > 1) {
        kill(-c->result.pid, SIGKILL);
        kill(c->result.pid, SIGKILL);
    }
}

static void on_timeout(uv_timer_t *timer)
{
    struct ocf_child *c = timer->data;

    c->result.timed_out = true;
    kill_group(c);
}

static void log_detached(struct ocf_child *c)
{
    char what[200], reason[OCF_LOG_LINE_MAX + 4];

    ocf_result_describe(&c->result, c->timeout_ms, what, sizeof(what));
    ocf_exit_reason(&c->cap[1], reason, sizeof(reason));
    clus_log(ocf_result_status(&c->result) == CLUS_OK ? CLUS_LOG_LEVEL_INFO : CLUS_LOG_LEVEL_WARN,
             "ocf %s: %s%s%s", c->label, what, *reason ? ": " : "", reason);
}

static void child_exited(uv_process_t *proc, int64_t exit_status, int term_signal)
{
    struct ocf_child *c = proc->data;
    ocf_child_done_fn done = c->done;

    c->exited = true;
    uv_timer_stop(&c->timer);
    c->result.rc = term_signal != 0 ? -1 : (int)exit_status;
    c->result.signal = term_signal;
    c->result.elapsed_ms = clus_mono_ms() - c->started_ms;
    drain(c, 0);
    drain(c, 1);
    child_close_all(c);
    c->done = NULL;
    if (done != NULL)
        done(c->arg, &c->result);
    else if (c->detached)
        log_detached(c);
}

static int child_spawn(struct ocf_child *c, const struct ocf_spawn *s)
{
    char *args[] = {(char *)s->path, (char *)s->action, NULL};
    uv_stdio_container_t stdio[3];
    uv_process_options_t options;

    memset(&options, 0, sizeof(options));
    stdio[0].flags = UV_IGNORE;
    for (int i = 0; i < 2; i++) {
        stdio[i + 1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
        stdio[i + 1].data.stream = (uv_stream_t *)&c->pipes[i];
    }
    options.file = s->path;
    options.args = args;
    options.env = (char **)s->env;
    options.cwd = "/";
    options.flags = UV_PROCESS_DETACHED;
    options.exit_cb = child_exited;
    options.stdio_count = 3;
    options.stdio = stdio;
    return uv_spawn(s->loop, &c->proc, &options);
}

uint32_t ocf_child_start(const struct ocf_spawn *s, struct ocf_child **out)
{
    struct ocf_child *c = calloc(1, sizeof(*c));
    int rv;

    if (c == NULL)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    children_live++;
    c->done = s->done;
    c->arg = s->arg;
    c->timeout_ms = s->timeout_ms;
    c->started_ms = clus_mono_ms();
    snprintf(c->label, sizeof(c->label), "%s", s->label ? s->label : s->action);
    for (int i = 0; i < 2; i++) {
        ocf_capture_init(&c->cap[i], OCF_CAPTURE_MAX);
        uv_pipe_init(s->loop, &c->pipes[i], 0);
        c->pipes[i].data = c;
    }
    uv_timer_init(s->loop, &c->timer);
    c->timer.data = c->proc.data = c;
    c->open_handles = 4;
    c->result.out = &c->cap[0];
    c->result.err = &c->cap[1];
    rv = child_spawn(c, s);
    c->proc.data = c; /* uv_spawn initializes the handle, data included */
    if (rv != 0) {
        child_close_all(c); /* libuv wants a failed process handle closed too */
        return clus_status_from_errno(-rv);
    }
    c->spawned = true;
    c->result.pid = c->proc.pid;
    for (int i = 0; i < 2; i++) {
        uv_read_start((uv_stream_t *)&c->pipes[i], on_alloc, on_read);
        uv_unref((uv_handle_t *)&c->pipes[i]);
    }
    uv_unref((uv_handle_t *)&c->proc);
    uv_unref((uv_handle_t *)&c->timer);
    uv_timer_start(&c->timer, on_timeout, s->timeout_ms, 0);
    *out = c;
    return CLUS_OK;
}

void ocf_child_abandon(struct ocf_child *child)
{
    child->done = NULL;
    kill_group(child);
}

void ocf_child_detach(struct ocf_child *child)
{
    child->done = NULL;
    child->detached = true;
}
