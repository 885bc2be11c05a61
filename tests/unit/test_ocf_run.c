/*
 * test_ocf_run.c - the `ocf` type's child processes and the type through
 * its ABI, on a real libuv loop with small agent scripts written into a
 * mkdtemp OCF_ROOT: exit codes, timeouts that kill the whole process group,
 * bounded output, an agent whose daemon keeps its pipes, spawn failures,
 * the bounded blocking run, and Open/Online/monitor failure/Terminate/Close
 * with a fake monitor (the agent's callbacks) that records what it is told.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "builtin.h"
#include "clock.h"
#include "status.h"
#include "types/ocf_internal.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

static uv_loop_t loop;
static uv_timer_t ticker; /* the type's handles are unreferenced: this keeps uv_run turning */
static char root[64];

/* ------------------------------------------------------------ helpers */

static void tick(uv_timer_t *t) {}

/* Runs the loop until *flag is set (or ms pass). */
static bool run_until(const bool *flag, uint64_t ms)
{
    uint64_t end = clus_mono_ms() + ms;

    while (!*flag && clus_mono_ms() < end)
        uv_run(&loop, UV_RUN_ONCE);
    return *flag;
}

static void run_for(uint64_t ms)
{
    bool never = false;

    run_until(&never, ms);
}

static bool children_gone(uint64_t ms)
{
    uint64_t end = clus_mono_ms() + ms;

    while (ocf_children_live() > 0 && clus_mono_ms() < end)
        uv_run(&loop, UV_RUN_ONCE);
    return ocf_children_live() == 0;
}

static void agent_script(const char *name, const char *body, mode_t mode)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/resource.d/t/%s", root, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\n%s", body);
    fclose(f);
    chmod(path, mode);
}

static const char *agent_path(const char *name)
{
    static char path[256];

    snprintf(path, sizeof(path), "%s/resource.d/t/%s", root, name);
    return path;
}

/* A process that is gone or a zombie waiting for its reaper is not running. */
static bool pid_running(pid_t pid)
{
    char path[64], buf[512], *p;
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if ((f = fopen(path, "r")) == NULL)
        return false;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    return p != NULL && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static pid_t read_pid(const char *file)
{
    char path[256];
    int pid = 0;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", root, file);
    if ((f = fopen(path, "r")) != NULL) {
        if (fscanf(f, "%d", &pid) != 1)
            pid = 0;
        fclose(f);
    }
    return pid;
}

static int setup(void **state)
{
    char dir[128];

    snprintf(root, sizeof(root), "/tmp/test_ocf_run.XXXXXX");
    assert_non_null(mkdtemp(root));
    snprintf(dir, sizeof(dir), "%s/resource.d", root);
    mkdir(dir, 0755);
    snprintf(dir, sizeof(dir), "%s/resource.d/t", root);
    mkdir(dir, 0755);
    uv_loop_init(&loop);
    uv_timer_init(&loop, &ticker);
    uv_timer_start(&ticker, tick, 10, 10);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    uv_close((uv_handle_t *)&ticker, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0); /* every handle of ours was closed */
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd);
}

/* ------------------------------------------------------------ children */

struct done_rec {
    bool done;
    int rc, signal;
    bool timed_out;
    uint32_t status;
    char out[128], err[128];
    size_t out_len;
    uint64_t dropped, elapsed_ms;
};

static void record_done(void *arg, const struct ocf_result *r)
{
    struct done_rec *d = arg;

    d->done = true;
    d->rc = r->rc;
    d->signal = r->signal;
    d->timed_out = r->timed_out;
    d->status = ocf_result_status(r);
    d->out_len = r->out->len;
    d->dropped = r->out->dropped;
    d->elapsed_ms = r->elapsed_ms;
    snprintf(d->out, sizeof(d->out), "%s", r->out->buf ? r->out->buf : "");
    snprintf(d->err, sizeof(d->err), "%s", r->err->buf ? r->err->buf : "");
}

static uint32_t start(const char *name, const char *action, uint32_t timeout_ms, struct done_rec *d,
                      struct ocf_child **child)
{
    char *env[] = {"PATH=/usr/bin:/bin", "OCF_ROOT=/x", NULL};
    struct ocf_spawn s = {.loop = &loop,
                          .path = agent_path(name),
                          .action = action,
                          .env = env,
                          .timeout_ms = timeout_ms,
                          .label = name,
                          .done = record_done,
                          .arg = d};

    return ocf_child_start(&s, child);
}

static void test_child_exit(void **state)
{
    struct done_rec d = {0};
    struct ocf_child *c;

    agent_script("Six", "echo \"out $1 $OCF_ROOT $HOME\"; echo err >&2; exit 6\n", 0755);
    assert_int_equal(start("Six", "start", 5000, &d, &c), 0);
    assert_true(ocf_child_pid(c) > 1);
    assert_true(run_until(&d.done, 5000));
    assert_int_equal(d.rc, 6);
    assert_int_equal(d.status, CLUS_E_NOT_FOUND);
    assert_string_equal(d.out, "out start /x \n"); /* only the environment we gave */
    assert_string_equal(d.err, "err\n");
    assert_true(children_gone(2000));
}

static void test_child_timeout_kills_group(void **state)
{
    struct done_rec d = {0};
    struct ocf_child *c;
    pid_t sleeper;
    char body[256];

    snprintf(body, sizeof(body), "sleep 1000 &\necho $! > %s/sleeper\nwait\n", root);
    agent_script("Hang", body, 0755);
    assert_int_equal(start("Hang", "start", 300, &d, &c), 0);
    assert_true(run_until(&d.done, 5000));
    assert_true(d.timed_out);
    assert_int_equal(d.status, CLUS_E_TIMEOUT);
    assert_int_equal(d.signal, SIGKILL);
    assert_true(d.elapsed_ms >= 300 && d.elapsed_ms < 3000);
    sleeper = read_pid("sleeper");
    assert_true(sleeper > 1);
    run_for(100);
    assert_false(pid_running(sleeper)); /* the whole group went */
    assert_true(children_gone(2000));
}

static void test_child_output_bounded(void **state)
{
    struct done_rec d = {0};
    struct ocf_child *c;

    agent_script("Loud", "head -c 3000000 /dev/zero | tr '\\0' x\nexit 0\n", 0755);
    assert_int_equal(start("Loud", "start", 10000, &d, &c), 0);
    assert_true(run_until(&d.done, 10000));
    assert_int_equal(d.rc, 0);
    assert_int_equal(d.out_len, OCF_CAPTURE_MAX);
    assert_int_equal(d.out_len + d.dropped, 3000000);
    assert_true(children_gone(2000));
}

/* A daemon that keeps stdout open does not keep the action running. */
static void test_child_daemon_keeps_pipe(void **state)
{
    struct done_rec d = {0};
    struct ocf_child *c;
    char body[256];

    snprintf(body, sizeof(body), "sleep 3 &\necho $! > %s/daemon\necho started\nexit 0\n", root);
    agent_script("Daemon", body, 0755);
    assert_int_equal(start("Daemon", "start", 10000, &d, &c), 0);
    assert_true(run_until(&d.done, 2000));
    assert_int_equal(d.rc, 0);
    assert_string_equal(d.out, "started\n");
    assert_true(d.elapsed_ms < 2000);
    kill(read_pid("daemon"), SIGKILL);
    assert_true(children_gone(2000));
}

static void test_child_spawn_failure(void **state)
{
    struct done_rec d = {0};
    struct ocf_child *c = NULL;

    agent_script("NoExec", "exit 0\n", 0644);
    assert_int_equal(start("Missing", "start", 1000, &d, &c), CLUS_E_FILE_NOT_FOUND);
    assert_int_equal(start("NoExec", "start", 1000, &d, &c), CLUS_E_ACCESS_DENIED);
    assert_null(c);
    assert_true(children_gone(2000)); /* the failed handles were closed */
    assert_false(d.done);
}

static void test_child_abandon_and_detach(void **state)
{
    struct done_rec d1 = {0}, d2 = {0};
    struct ocf_child *c1, *c2;

    agent_script("Slow", "sleep 1000\n", 0755);
    agent_script("Quick", "sleep 0.2; exit 0\n", 0755);
    assert_int_equal(start("Slow", "start", 60000, &d1, &c1), 0);
    assert_int_equal(start("Quick", "stop", 60000, &d2, &c2), 0);
    ocf_child_abandon(c1);
    ocf_child_detach(c2);
    assert_true(children_gone(3000)); /* both ended and freed themselves */
    assert_false(d1.done);
    assert_false(d2.done);
}

/* ------------------------------------------------------------ blocking run */

static void test_sync_run(void **state)
{
    char *env[] = {"PATH=/usr/bin:/bin", NULL};
    struct ocf_sync s;
    char body[128];
    uint64_t t0;

    agent_script("Meta", "echo '<resource-agent/>'; echo note >&2; exit 0\n", 0755);
    assert_int_equal(ocf_run_sync(agent_path("Meta"), "meta-data", env, 2000, 1000, true, &s), 0);
    assert_int_equal(s.result.rc, 0);
    assert_string_equal(s.out.buf, "<resource-agent/>\n");
    assert_string_equal(s.err.buf, "note\n");
    ocf_sync_free(&s);

    snprintf(body, sizeof(body), "sleep 1000 &\necho $! > %s/sync_sleeper\nwait\n", root);
    agent_script("SyncHang", body, 0755);
    t0 = clus_mono_ms();
    assert_int_equal(
        ocf_run_sync(agent_path("SyncHang"), "validate-all", env, 300, 1000, false, &s), 0);
    assert_true(clus_mono_ms() - t0 < 2000);
    assert_true(s.result.timed_out);
    assert_int_equal(ocf_result_status(&s.result), CLUS_E_TIMEOUT);
    ocf_sync_free(&s);
    usleep(100000);
    assert_false(pid_running(read_pid("sync_sleeper")));

    agent_script("Flood", "exec yes flood\n", 0755);
    assert_int_equal(ocf_run_sync(agent_path("Flood"), "meta-data", env, 5000, 4096, true, &s), 0);
    assert_true(s.result.overflow);
    assert_int_equal(ocf_result_status(&s.result), CLUS_E_INSUFFICIENT_BUFFER);
    assert_int_equal(s.out.len, 4096);
    ocf_sync_free(&s);

    assert_int_equal(ocf_run_sync(agent_path("Nope"), "meta-data", env, 1000, 10, true, &s),
                     CLUS_E_FILE_NOT_FOUND);
    ocf_sync_free(&s);
}

/* ------------------------------------------------------------ the type */

static struct {
    int state;
    uint32_t status;
    bool reported, signalled;
    int progress;
    char reason[400];
} mon;

static void m_log(clus_resource *h, int level, const char *fmt, ...)
{
    char text[600];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (getenv("CLUS_TEST_VERBOSE") != NULL)
        fprintf(stderr, "log %d: %s\n", level, text);
}

static uint32_t m_set_status(clus_resource *h, int state, uint32_t checkpoint, uint32_t status)
{
    if (state == CLUS_STATE_ONLINE_PENDING || state == CLUS_STATE_OFFLINE_PENDING) {
        mon.progress++;
        return CLUS_EXIT_CONTINUE;
    }
    mon.state = state;
    mon.status = status;
    mon.reported = true;
    return CLUS_EXIT_CONTINUE;
}

static uint32_t m_signal(clus_resource *h, uint32_t type, uint32_t code)
{
    mon.signalled = true;
    return 0;
}

static void m_set_reason(clus_resource *h, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(mon.reason, sizeof(mon.reason), fmt, ap);
    va_end(ap);
}

static clus_monitor_callbacks callbacks = {
    .size = sizeof(clus_monitor_callbacks),
    .log_event = m_log,
    .set_status = m_set_status,
    .signal_failure = m_signal,
    .set_reason = m_set_reason,
};

static const clus_restype_ops *type_ops(void)
{
    const clus_restype_ops *ops = NULL;

    callbacks.loop = &loop;
    assert_int_equal(clus_ocf_type_startup("nope", 0x100, 0x100, &callbacks, &ops),
                     CLUS_E_RESNAME_NOT_FOUND);
    assert_int_equal(clus_ocf_type_startup("ocf", 0x200, 0x300, &callbacks, &ops),
                     CLUS_E_REVISION_MISMATCH);
    assert_int_equal(clus_ocf_type_startup("ocf", 0x100, 0x100, &callbacks, &ops), 0);
    assert_true(ops->flags & CLUS_RESTYPE_F_LOOP);
    return ops;
}

/* A small agent: start/stop/monitor on a state file; validate-all checks `mode`. */
static const char state_agent[] =
    "s=\"$HA_RSCTMP/T.state\"\n"
    "case \"$1\" in\n"
    "meta-data) cat <<END\n"
    "<resource-agent name=\"T\"><parameters>\n"
    "<parameter name=\"mode\" required=\"1\"><content type=\"string\"/></parameter>\n"
    "<parameter name=\"slot\" unique=\"1\"><content type=\"string\"/></parameter>\n"
    "</parameters><actions><action name=\"start\" timeout=\"5s\"/>"
    "<action name=\"validate-all\" timeout=\"5s\"/></actions></resource-agent>\n"
    "END\n;;\n"
    "validate-all) [ \"$OCF_RESKEY_mode\" = bad ] && { echo 'ocf-exit-reason:mode is bad' >&2; "
    "exit 6; }; exit 0;;\n"
    "start) [ \"$OCF_RESKEY_mode\" = hang ] && exec sleep 1000; touch \"$s\"; exit 0;;\n"
    "stop) [ \"$OCF_RESKEY_mode\" = slowstop ] && sleep 0.5; rm -f \"$s\"; exit 0;;\n"
    "monitor) [ -f \"$s\" ] && exit 0; exit 7;;\n"
    "*) exit 3;;\nesac\n";

static uint32_t open_res(const clus_restype_ops *ops, const char *name, clus_resid *resid, int n,
                         ...)
{
    clus_param items[12];
    clus_params list = {items, 0};
    clus_open_args args = {.name = name,
                           .type = "ocf",
                           .params = &list,
                           .state_dir = root,
                           .handle = (clus_resource *)name};
    va_list ap;

    items[list.count++] = (clus_param){"ocf_root", root};
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        items[list.count].key = va_arg(ap, const char *);
        items[list.count++].value = va_arg(ap, const char *);
    }
    va_end(ap);
    mon.reason[0] = '\0';
    return ops->open(&args, resid);
}

static void test_type_open_errors(void **state)
{
    const clus_restype_ops *ops = type_ops();
    clus_resid r1, r2;

    agent_script("T", state_agent, 0755);
    agent_script("Bad", "echo '<resource-agent><oops>'\n", 0755);
    agent_script("NoExec", "exit 0\n", 0644);
    assert_int_equal(open_res(ops, "a", &r1, 1, "agent", "t:Missing"), CLUS_E_FILE_NOT_FOUND);
    assert_non_null(strstr(mon.reason, "no OCF agent t:Missing"));
    assert_int_equal(open_res(ops, "a", &r1, 1, "agent", "../t:T"), CLUS_E_INVALID_PARAMETER);
    assert_int_equal(open_res(ops, "a", &r1, 1, "agent", "t:NoExec"), CLUS_E_ACCESS_DENIED);
    assert_int_equal(open_res(ops, "a", &r1, 1, "agent", "t:Bad"), CLUS_E_REVISION_MISMATCH);
    assert_non_null(strstr(mon.reason, "not valid XML"));
    assert_int_equal(open_res(ops, "a", &r1, 1, "agent", "t:T"), CLUS_E_INVALID_PARAMETER);
    assert_non_null(strstr(mon.reason, "requires parameter 'mode'"));
    assert_int_equal(open_res(ops, "a", &r1, 2, "agent", "t:T", "mode", "bad"), CLUS_E_NOT_FOUND);
    assert_non_null(strstr(mon.reason, "exit 6 (OCF_ERR_CONFIGURED"));
    assert_non_null(strstr(mon.reason, "mode is bad"));
    /* unique: a second resource of the same agent may not share slot */
    assert_int_equal(open_res(ops, "a", &r1, 3, "agent", "t:T", "mode", "x", "slot", "1"), 0);
    assert_int_equal(open_res(ops, "b", &r2, 3, "agent", "t:T", "mode", "x", "slot", "1"),
                     CLUS_E_INVALID_PARAMETER);
    assert_non_null(strstr(mon.reason, "must be unique"));
    assert_int_equal(open_res(ops, "b", &r2, 3, "agent", "t:T", "mode", "x", "slot", "2"), 0);
    ops->close(r1);
    ops->close(r2);
    assert_true(children_gone(2000));
}

static void test_type_lifecycle(void **state)
{
    const clus_restype_ops *ops = type_ops();
    clus_online_args on = {0};
    clus_offline_args off = {0};
    char file[256];
    clus_resid r;

    agent_script("T", state_agent, 0755);
    assert_int_equal(
        open_res(ops, "life", &r, 3, "agent", "t:T", "mode", "x", "monitor_interval_ms", "100"), 0);
    assert_false(ops->is_alive(r)); /* not started */
    memset(&mon, 0, sizeof(mon));
    assert_int_equal(ops->online(r, &on), CLUS_E_IO_PENDING);
    assert_true(on.event_handle);
    assert_true(run_until(&mon.reported, 5000));
    assert_int_equal(mon.state, CLUS_STATE_ONLINE);
    assert_true(ops->looks_alive(r));
    assert_true(ops->is_alive(r));
    run_for(300);
    assert_false(mon.signalled);
    /* a failure from outside: the background monitor sees it */
    snprintf(file, sizeof(file), "%s/T.state", root);
    assert_int_equal(unlink(file), 0);
    assert_true(run_until(&mon.signalled, 3000));
    assert_false(ops->is_alive(r));
    assert_false(ops->looks_alive(r));
    ops->terminate(r);
    run_for(200);
    /* online again, then offline */
    memset(&mon, 0, sizeof(mon));
    assert_int_equal(ops->online(r, &on), CLUS_E_IO_PENDING);
    assert_true(run_until(&mon.reported, 5000));
    assert_int_equal(mon.state, CLUS_STATE_ONLINE);
    memset(&mon, 0, sizeof(mon));
    assert_int_equal(ops->offline(r, &off), CLUS_E_IO_PENDING);
    assert_true(run_until(&mon.reported, 5000));
    assert_int_equal(mon.state, CLUS_STATE_OFFLINE);
    assert_int_equal(access(file, F_OK), -1);
    ops->close(r);
    assert_true(children_gone(2000));
}

static void test_type_start_timeout(void **state)
{
    const clus_restype_ops *ops = type_ops();
    clus_online_args on = {0};
    clus_resid r;

    agent_script("T", state_agent, 0755);
    assert_int_equal(
        open_res(ops, "hang", &r, 3, "agent", "t:T", "mode", "hang", "start_timeout_ms", "1500"),
        0);
    memset(&mon, 0, sizeof(mon));
    assert_int_equal(ops->online(r, &on), CLUS_E_IO_PENDING);
    assert_true(run_until(&mon.reported, 5000));
    assert_int_equal(mon.state, CLUS_STATE_FAILED);
    assert_int_equal(mon.status, CLUS_E_TIMEOUT);
    assert_true(mon.progress >= 1); /* it reported progress while start ran */
    ops->terminate(r);
    ops->close(r); /* Terminate's stop finishes on its own */
    assert_true(children_gone(3000));
}

/* Terminate while start runs: the start is killed, no report follows. */
static void test_type_terminate_during_start(void **state)
{
    const clus_restype_ops *ops = type_ops();
    clus_online_args on = {0};
    clus_resid r;

    agent_script("T", state_agent, 0755);
    assert_int_equal(open_res(ops, "term", &r, 2, "agent", "t:T", "mode", "hang"), 0);
    memset(&mon, 0, sizeof(mon));
    assert_int_equal(ops->online(r, &on), CLUS_E_IO_PENDING);
    run_for(100);
    ops->terminate(r);
    run_for(500);
    assert_false(mon.reported);
    assert_true(children_gone(3000));
    ops->close(r);
    run_for(50);
}

/* Online or Offline while Terminate's stop still runs: they wait for it. */
static void test_type_calls_during_cleanup(void **state)
{
    const clus_restype_ops *ops = type_ops();
    clus_online_args on = {0};
    clus_offline_args off = {0};
    char file[256];
    clus_resid r;

    agent_script("T", state_agent, 0755);
    snprintf(file, sizeof(file), "%s/T.state", root);
    assert_int_equal(open_res(ops, "cl", &r, 2, "agent", "t:T", "mode", "slowstop"), 0);
    memset(&mon, 0, sizeof(mon));
    assert_int_equal(ops->online(r, &on), CLUS_E_IO_PENDING);
    assert_true(run_until(&mon.reported, 5000));
    ops->terminate(r); /* its stop takes 0.5 s */
    memset(&mon, 0, sizeof(mon));
    assert_int_equal(ops->offline(r, &off), CLUS_E_IO_PENDING);
    assert_true(run_until(&mon.reported, 5000));
    assert_int_equal(mon.state, CLUS_STATE_OFFLINE);
    memset(&mon, 0, sizeof(mon));
    assert_int_equal(ops->online(r, &on), CLUS_E_IO_PENDING);
    assert_true(run_until(&mon.reported, 5000));
    ops->terminate(r);
    memset(&mon, 0, sizeof(mon));
    assert_int_equal(ops->online(r, &on), CLUS_E_IO_PENDING);
    run_for(200);
    assert_false(mon.reported); /* still waiting for the stop */
    assert_true(run_until(&mon.reported, 5000));
    assert_int_equal(mon.state, CLUS_STATE_ONLINE);
    assert_int_equal(access(file, F_OK), 0); /* started after the stop, not before */
    assert_true(ops->is_alive(r));
    ops->terminate(r);
    ops->close(r);
    assert_true(children_gone(3000));
}

struct props {
    char text[8192];
    int n;
};

static void add_prop(clus_control *ctl, const char *key, const char *value)
{
    struct props *p = ctl->sink;
    size_t len = strlen(p->text);

    snprintf(p->text + len, sizeof(p->text) - len, "%s=%s\n", key, value);
    p->n++;
}

static void test_type_controls(void **state)
{
    const clus_restype_ops *ops = type_ops();
    char out[8192];
    size_t returned = 0;
    struct props props = {0};
    clus_control ctl = {.code = CLUSCTL_RESOURCE_TYPE_GET_INFO,
                        .out = out,
                        .out_size = sizeof(out),
                        .bytes_returned = &returned,
                        .add_property = add_prop,
                        .sink = &props};

    agent_script("T", state_agent, 0755);
    setenv("OCF_ROOT", root, 1);
    assert_int_equal(ops->type_control("ocf", &ctl), 0);
    assert_non_null(strstr(props.text, "agent.t:T="));
    assert_null(strstr(props.text, "NoExec"));
    memset(&props, 0, sizeof(props));
    ctl.code = CLUSCTL_RESOURCE_TYPE_GET_METADATA;
    assert_int_equal(ops->type_control("ocf:t:T", &ctl), 0);
    assert_non_null(strstr(props.text, "parameter.mode=required,type=string\n"));
    assert_non_null(strstr(props.text, "parameter.slot=optional,unique,type=string\n"));
    assert_non_null(strstr(props.text, "action.start.timeout_ms=5000\n"));
    assert_true(returned > 0 && returned < sizeof(out));
    assert_memory_equal(out, "<resource-agent name=\"T\">", 25);
    memset(&props, 0, sizeof(props));
    ctl.out_size = 10; /* too small: properties only */
    returned = 0;
    assert_int_equal(ops->type_control("ocf:t:T", &ctl), 0);
    assert_int_equal(returned, 0);
    assert_non_null(strstr(props.text, "xml=not returned"));
    memset(&props, 0, sizeof(props));
    assert_int_equal(ops->type_control("ocf", &ctl), CLUS_E_INVALID_PARAMETER);
    assert_non_null(strstr(props.text, "error=name the agent"));
    memset(&props, 0, sizeof(props));
    assert_int_equal(ops->type_control("ocf:t:..", &ctl), CLUS_E_INVALID_PARAMETER);
    ctl.code = CLUSCTL_RESOURCE_TYPE_GET_CHARACTERISTICS;
    assert_int_equal(ops->type_control("ocf", &ctl), CLUS_E_INVALID_FUNCTION);
    unsetenv("OCF_ROOT");
    ocf_meta_cache_clear();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_child_exit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_child_timeout_kills_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_child_output_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_child_daemon_keeps_pipe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_child_spawn_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_child_abandon_and_detach, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_type_open_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_type_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_type_start_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_type_terminate_during_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_type_calls_during_cleanup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_type_controls, setup, teardown),
    };

    signal(SIGPIPE, SIG_IGN); /* as in the agent: children must get it back */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
