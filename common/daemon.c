/*
 * daemon.c - see daemon.h.
 */
#include "daemon.h"
#include "log.h"

#include <signal.h>
#include <unistd.h>

struct daemon_run {
    uv_signal_t sigterm, sigint;
    clus_daemon_stop_fn stop;
    void *arg;
    unsigned alarm_s;
};

static void on_signal(uv_signal_t *handle, int signum)
{
    struct daemon_run *run = handle->data;

    clus_info("signal %d: stopping", signum);
    if (run->alarm_s > 0)
        alarm(run->alarm_s);
    uv_close((uv_handle_t *)&run->sigterm, NULL);
    uv_close((uv_handle_t *)&run->sigint, NULL);
    run->stop(run->arg);
}

void clus_daemon_run(uv_loop_t *loop, clus_daemon_stop_fn stop, void *arg, unsigned alarm_s)
{
    struct daemon_run run = {.stop = stop, .arg = arg, .alarm_s = alarm_s};

    uv_signal_init(loop, &run.sigterm);
    uv_signal_init(loop, &run.sigint);
    run.sigterm.data = run.sigint.data = &run;
    uv_signal_start(&run.sigterm, on_signal, SIGTERM);
    uv_signal_start(&run.sigint, on_signal, SIGINT);
    uv_run(loop, UV_RUN_DEFAULT);
}
