/*
 * test_resource.c - the per-resource state machine, with a fake clock, fake
 * timers, a fake job runner (jobs wait until the test lets them run) and a
 * fake resource type whose answers the test sets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "clus/v1/clus.pb-c.h"
#include "resource.h"
#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ fake env */

#define MAX_JOBS   32
#define MAX_EVENTS 64

static struct {
    uint64_t now;
    uint64_t deadline[CLUS_RES_TIMER_COUNT]; /* 0 = stopped */
    clus_res_job *jobs[MAX_JOBS];
    size_t njobs;
    struct {
        int kind, old_state, new_state;
        uint32_t status;
    } events[MAX_EVENTS];
    size_t nevents;
    int persists;
    bool removed;
} env;

static uint64_t fake_now(void *arg)
{
    return env.now;
}

static void fake_timer_start(void *arg, clus_res *res, enum clus_res_timer t, uint64_t ms)
{
    env.deadline[t] = env.now + (ms ? ms : 1);
}

static void fake_timer_stop(void *arg, clus_res *res, enum clus_res_timer t)
{
    env.deadline[t] = 0;
}

static void fake_run(void *arg, clus_res_job *job, bool loop_native)
{
    assert_true(env.njobs < MAX_JOBS);
    env.jobs[env.njobs++] = job;
}

static uint64_t fake_emit(void *arg, clus_res *res, const clus_res_event *e)
{
    if (env.nevents < MAX_EVENTS) {
        env.events[env.nevents].kind = e->kind;
        env.events[env.nevents].old_state = e->old_state;
        env.events[env.nevents].new_state = e->new_state;
        env.events[env.nevents].status = e->status;
        env.nevents++;
    }
    return env.nevents;
}

static void fake_persist(void *arg, clus_res *res, bool removed)
{
    env.persists++;
    env.removed = removed;
}

static const clus_res_env_ops fake_env_ops = {fake_now, fake_timer_start, fake_timer_stop,
                                              fake_run, fake_emit,        fake_persist};
static const clus_res_env fake_env = {&fake_env_ops, NULL, NULL};

/* Runs the oldest waiting job of the given kind (-1: any), as a worker
 * would, then finishes it on the "loop". Returns false if none waits. */
static bool run_one(int kind)
{
    for (size_t i = 0; i < env.njobs; i++) {
        clus_res_job *job = env.jobs[i];
        if (kind >= 0 && (int)clus_res_job_kind_of(job) != kind)
            continue;
        memmove(&env.jobs[i], &env.jobs[i + 1], (env.njobs - i - 1) * sizeof(env.jobs[0]));
        env.njobs--;
        clus_res_job_execute(job);
        clus_res_job_finish(job);
        return true;
    }
    return false;
}

static void run_all(void)
{
    while (run_one(-1))
        ;
}

/* Moves the clock, firing due timers in deadline order. */
static void advance(clus_res *res, uint64_t ms)
{
    uint64_t until = env.now + ms;

    for (;;) {
        int next = -1;
        for (int t = 0; t < CLUS_RES_TIMER_COUNT; t++) {
            if (env.deadline[t] != 0 && env.deadline[t] <= until &&
                (next < 0 || env.deadline[t] < env.deadline[next]))
                next = t;
        }
        if (next < 0)
            break;
        env.now = env.deadline[next];
        env.deadline[next] = 0;
        clus_res_timer_fired(res, (enum clus_res_timer)next);
        run_all();
    }
    env.now = until;
}

/* ------------------------------------------------------------ fake type */

static struct {
    uint32_t online_result, offline_result, open_result;
    bool looks_alive, is_alive, event_handle;
    int online_calls, offline_calls, terminate_calls, looks_calls, is_calls, close_calls;
    int retire_calls, closes_before_retire;
    uint32_t last_online_flags;
} type;

static uint32_t t_open(const clus_open_args *a, clus_resid *resid)
{
    *resid = &type;
    return type.open_result;
}
static void t_close(clus_resid r)
{
    type.close_calls++;
}
static void t_retire(clus_resid r)
{
    type.retire_calls++;
    type.closes_before_retire = type.close_calls;
}
static clus_res *current_res;

static uint32_t t_online(clus_resid r, clus_online_args *a)
{
    if (type.online_result != CLUS_OK && type.online_result != CLUS_E_IO_PENDING)
        clus_res_set_reason(current_res, "the widget is jammed");
    type.online_calls++;
    type.last_online_flags = a->flags;
    a->event_handle = type.event_handle;
    return type.online_result;
}
static uint32_t t_offline(clus_resid r, const clus_offline_args *a)
{
    type.offline_calls++;
    return type.offline_result;
}
static void t_terminate(clus_resid r)
{
    type.terminate_calls++;
}
static bool t_looks(clus_resid r)
{
    type.looks_calls++;
    return type.looks_alive;
}
static bool t_is(clus_resid r)
{
    type.is_calls++;
    return type.is_alive;
}

static const clus_restype_ops fake_ops = {
    .size = sizeof(clus_restype_ops),
    .version = CLUS_RESTYPE_VERSION_1,
    .open = t_open,
    .close = t_close,
    .online = t_online,
    .offline = t_offline,
    .terminate = t_terminate,
    .looks_alive = t_looks,
    .is_alive = t_is,
    .retire = t_retire,
};

/* ------------------------------------------------------------ answers */

static struct {
    int count;
    uint32_t status;
    bool alive;
    char message[256];
} done;

static void on_done(void *ctx, clus_res *res, const clus_res_outcome *o)
{
    done.count++;
    done.status = o->status;
    done.alive = o->alive;
    snprintf(done.message, sizeof(done.message), "%s", o->message ? o->message : "");
}

static clus_res *make(uint32_t pending_ms, uint32_t looks_ms, uint32_t is_ms)
{
    clus_params none = {NULL, 0};
    clus_res_props props = {pending_ms, looks_ms, is_ms, 250};
    clus_res *res;

    memset(&env, 0, sizeof(env));
    memset(&done, 0, sizeof(done));
    memset(&type, 0, sizeof(type));
    type.looks_alive = type.is_alive = true;
    env.now = 1000;
    res = clus_res_new(&fake_env, 1, "r", "fake", &fake_ops, false, &none, &props, "/tmp");
    assert_non_null(res);
    current_res = res;
    clus_res_open(res, 0, CLUS_STATE_OFFLINE, 0, on_done, NULL);
    run_all();
    assert_int_equal(done.count, 1);
    assert_int_equal(done.status, CLUS_OK);
    done.count = 0;
    return res;
}

static void destroy(clus_res *res)
{
    run_all();
    clus_res_destroy(res);
}

static bool has_event(int kind, int new_state, uint32_t status)
{
    for (size_t i = 0; i < env.nevents; i++) {
        if (env.events[i].kind == kind && env.events[i].new_state == new_state &&
            env.events[i].status == status)
            return true;
    }
    return false;
}

/* ------------------------------------------------------------ tests */

static void test_open_leaves_offline(void **state)
{
    clus_res *res = make(180000, 5000, 60000);

    assert_int_equal(clus_res_state(res), CLUS_STATE_OFFLINE);
    assert_int_equal(type.online_calls, 0);
    assert_true(has_event(CLUS__V1__EVENT_KIND__EVENT_STATE, CLUS_STATE_OFFLINE, CLUS_OK));
    destroy(res);
}

static void test_open_failure_refuses_everything(void **state)
{
    clus_params none = {NULL, 0};
    clus_res_props props = {180000, 5000, 60000, 250};
    clus_res *res;

    memset(&env, 0, sizeof(env));
    memset(&done, 0, sizeof(done));
    memset(&type, 0, sizeof(type));
    type.open_result = CLUS_E_INVALID_PARAMETER;
    res = clus_res_new(&fake_env, 1, "r", "fake", &fake_ops, false, &none, &props, "/tmp");
    clus_res_open(res, 0, CLUS_STATE_OFFLINE, 0, on_done, NULL);
    run_all();
    assert_int_equal(done.status, CLUS_E_INVALID_PARAMETER);
    clus_res_online(res, 0, NULL, 0, on_done, NULL);
    assert_int_equal(done.status, CLUS_E_INVALID_STATE);
    assert_int_equal(type.online_calls, 0);
    destroy(res);
}

static void test_online_success(void **state)
{
    clus_res *res = make(180000, 5000, 60000);
    clus_res_view v;

    clus_res_online(res, 0, NULL, 0, on_done, NULL);
    assert_int_equal(clus_res_state(res), CLUS_STATE_ONLINE_PENDING); /* the RM sets it */
    run_all();
    assert_int_equal(done.status, CLUS_OK);
    assert_int_equal(clus_res_state(res), CLUS_STATE_ONLINE);
    clus_res_view_get(res, &v);
    assert_int_equal(v.persisted_state, CLUS_STATE_ONLINE);
    assert_int_equal(env.deadline[CLUS_RES_TIMER_LOOKS_ALIVE], env.now + 5000);
    assert_int_equal(env.deadline[CLUS_RES_TIMER_IS_ALIVE], env.now + 60000);
    assert_int_equal(env.deadline[CLUS_RES_TIMER_PENDING], 0);
    destroy(res);
}

static void test_online_pending_then_reported(void **state)
{
    clus_res *res = make(1000, 5000, 60000);

    type.online_result = CLUS_E_IO_PENDING;
    clus_res_online(res, 0, NULL, 0, on_done, NULL);
    run_all();
    assert_int_equal(done.status, CLUS_E_IO_PENDING);
    assert_int_equal(clus_res_state(res), CLUS_STATE_ONLINE_PENDING);
    advance(res, 800);
    clus_res_status_report(res, clus_res_accept_gen(res), CLUS_STATE_ONLINE_PENDING, 1, 0);
    advance(res, 800); /* 1600 ms since start, 800 since the report */
    assert_int_equal(clus_res_state(res), CLUS_STATE_ONLINE_PENDING);
    clus_res_status_report(res, clus_res_accept_gen(res), CLUS_STATE_ONLINE, 0, 0);
    assert_int_equal(clus_res_state(res), CLUS_STATE_ONLINE);
    assert_int_equal(clus_res_accept_gen(res), 0); /* nothing pending: reports are refused */
    destroy(res);
}

static void test_checkpoint_must_rise(void **state)
{
    clus_res *res = make(1000, 5000, 60000);

    type.online_result = CLUS_E_IO_PENDING;
    clus_res_online(res, 0, NULL, 0, on_done, NULL);
    run_all();
    advance(res, 600);
    clus_res_status_report(res, clus_res_accept_gen(res), CLUS_STATE_ONLINE_PENDING, 1, 0);
    advance(res, 600);
    clus_res_status_report(res, clus_res_accept_gen(res), CLUS_STATE_ONLINE_PENDING, 1, 0);
    advance(res, 600); /* 1200 ms since the last real progress */
    assert_int_equal(clus_res_state(res), CLUS_STATE_FAILED);
    destroy(res);
}

static void test_pending_timeout_fails_and_terminates(void **state)
{
    clus_res *res = make(1000, 5000, 60000);
    clus_res_view v;

    type.online_result = CLUS_E_IO_PENDING;
    clus_res_online(res, 0, NULL, 0, on_done, NULL);
    run_all();
    advance(res, 999);
    assert_int_equal(clus_res_state(res), CLUS_STATE_ONLINE_PENDING);
    advance(res, 2);
    assert_int_equal(clus_res_state(res), CLUS_STATE_FAILED);
    assert_int_equal(type.terminate_calls, 1);
    clus_res_view_get(res, &v);
    assert_int_equal(v.last_status, CLUS_E_RESOURCE_CALL_TIMED_OUT);
    assert_true(has_event(CLUS__V1__EVENT_KIND__EVENT_FAILURE, CLUS_STATE_ONLINE_PENDING,
                          CLUS_E_RESOURCE_CALL_TIMED_OUT));
    destroy(res);
}

static void test_online_error_terminates(void **state)
{
    clus_res *res = make(180000, 5000, 60000);
    clus_res_view v;

    type.online_result = CLUS_E_RESOURCE_FAILED;
    clus_res_online(res, 0, NULL, 0, on_done, NULL);
    run_all();
    assert_int_equal(done.status, CLUS_E_RESOURCE_FAILED);
    assert_non_null(strstr(done.message, "the widget is jammed")); /* the type's reason */
    assert_int_equal(clus_res_state(res), CLUS_STATE_FAILED);
    assert_int_equal(type.terminate_calls, 1);
    clus_res_view_get(res, &v);
    assert_int_equal(v.persisted_state, CLUS_STATE_OFFLINE); /* never got Online */
    assert_non_null(strstr(v.last_message, "the widget is jammed"));
    destroy(res);
}

static void test_call_bound_answers_pending(void **state)
{
    clus_res *res = make(180000, 5000, 60000);

    clus_res_online(res, 0, NULL, 0, on_done, NULL);
    /* the type's call has not returned (job waits): the bound answers 997 */
    advance(res, 250);
    assert_int_equal(done.count, 1);
    assert_int_equal(done.status, CLUS_E_IO_PENDING);
    run_all(); /* the call returns 0 later: Online, no second answer */
    assert_int_equal(clus_res_state(res), CLUS_STATE_ONLINE);
    assert_int_equal(done.count, 1);
    destroy(res);
}

static void test_second_online_while_pending_is_busy(void **state)
{
    clus_res *res = make(180000, 5000, 60000);

    type.online_result = CLUS_E_IO_PENDING;
    clus_res_online(res, 0, NULL, 0, on_done, NULL);
    run_all();
    clus_res_online(res, 0, NULL, 0, on_done, NULL);
    assert_int_equal(done.status, CLUS_E_BUSY);
    clus_res_offline(res, 0, NULL, NULL, 0, on_done, NULL);
    assert_int_equal(done.status, CLUS_E_BUSY);
    /* IGNORE_RESOURCE_STATUS supersedes: terminate, then a new online */
    type.online_result = CLUS_OK;
    clus_res_online(res, CLUS_ONLINE_IGNORE_RESOURCE_STATUS, NULL, 0, on_done, NULL);
    run_all();
    assert_int_equal(type.terminate_calls, 1);
    assert_int_equal(type.online_calls, 2);
    assert_int_equal(clus_res_state(res), CLUS_STATE_ONLINE);
    destroy(res);
}

static void test_terminate_overtakes_running_online(void **state)
{
    clus_res *res = make(180000, 5000, 60000);

    clus_res_online(res, 0, NULL, 0, on_done, NULL);
    assert_int_equal(env.njobs, 1); /* the online call is "running" */
    clus_res_terminate(res, on_done, NULL);
    assert_true(run_one(CLUS_JOB_TERMINATE)); /* runs while online still runs */
    assert_int_equal(clus_res_state(res), CLUS_STATE_OFFLINE);
    run_all(); /* the online returns 0 late: ignored */
    assert_int_equal(clus_res_state(res), CLUS_STATE_OFFLINE);
    assert_int_equal(type.online_calls, 1);
    destroy(res);
}

static void test_late_status_report_ignored(void **state)
{
    clus_res *res = make(180000, 5000, 60000);
    uint32_t gen;

    type.online_result = CLUS_E_IO_PENDING;
    clus_res_online(res, 0, NULL, 0, on_done, NULL);
    run_all();
    gen = clus_res_accept_gen(res);
    clus_res_terminate(res, on_done, NULL);
    run_all();
    clus_res_status_report(res, gen, CLUS_STATE_ONLINE, 0, 0);
    assert_int_equal(clus_res_state(res), CLUS_STATE_OFFLINE);
    destroy(res);
}

static void test_looks_alive_false_then_is_alive_false(void **state)
{
    clus_res *res = make(180000, 100, 60000);
    clus_res_view v;

    clus_res_online(res, 0, NULL, 0, on_done, NULL);
    run_all();
    advance(res, 100);
    assert_int_equal(type.looks_calls, 1);
    assert_int_equal(type.is_calls, 0);
    type.looks_alive = false;
    type.is_alive = false;
    advance(res, 100);
    assert_int_equal(type.looks_calls, 2);
    assert_int_equal(type.is_calls, 1); /* at once, not after 60 s */
    assert_int_equal(clus_res_state(res), CLUS_STATE_FAILED);
    assert_int_equal(type.terminate_calls, 1);
    clus_res_view_get(res, &v);
    assert_int_equal(v.last_status, CLUS_E_RESOURCE_FAILED);
    assert_int_equal(env.deadline[CLUS_RES_TIMER_LOOKS_ALIVE], 0); /* polls stop */
    destroy(res);
}

static void test_looks_alive_false_but_is_alive_true(void **state)
{
    clus_res *res = make(180000, 100, 60000);

    clus_res_online(res, 0, NULL, 0, on_done, NULL);
    run_all();
    type.looks_alive = false;
    advance(res, 100);
    assert_int_equal(type.is_calls, 1);
    assert_int_equal(clus_res_state(res), CLUS_STATE_ONLINE);
    destroy(res);
}

static void test_is_alive_poll(void **state)
{
    clus_res *res = make(180000, 100000, 300);

    clus_res_online(res, 0, NULL, 0, on_done, NULL);
    run_all();
    advance(res, 900);
    assert_int_equal(type.is_calls, 3);
    type.is_alive = false;
    advance(res, 300);
    assert_int_equal(clus_res_state(res), CLUS_STATE_FAILED);
    destroy(res);
}

/* Calls wait behind the running one (the agent leaves replies to nng's
 * threads while one is queued: clus_res_has_queued). */
static void test_calls_queue_behind_the_running_one(void **state)
{
    clus_res *res = make(180000, 100000, 100000);

    clus_res_online(res, 0, NULL, 0, on_done, NULL);
    run_all();
    done.count = 0;
    assert_false(clus_res_has_queued(res));
    clus_res_is_alive(res, on_done, NULL);
    assert_false(clus_res_has_queued(res)); /* it runs: nothing behind it */
    clus_res_is_alive(res, on_done, NULL);
    clus_res_is_alive(res, on_done, NULL);
    assert_true(clus_res_has_queued(res));
    assert_int_equal(env.njobs, 1); /* one at a time reaches the type */
    assert_true(run_one(CLUS_JOB_IS_ALIVE));
    assert_true(clus_res_has_queued(res)); /* the second runs, the third waits */
    assert_true(run_one(CLUS_JOB_IS_ALIVE));
    assert_false(clus_res_has_queued(res));
    assert_true(run_one(CLUS_JOB_IS_ALIVE));
    assert_int_equal(done.count, 3);
    assert_int_equal(type.is_calls, 3);
    destroy(res);
}

static void test_event_handle_turns_looks_alive_off(void **state)
{
    clus_res *res = make(180000, 100, 60000);

    type.event_handle = true;
    clus_res_online(res, 0, NULL, 0, on_done, NULL);
    run_all();
    advance(res, 1000);
    assert_int_equal(type.looks_calls, 0);
    /* the type signals: IsAlive at once; false -> Failed */
    type.is_alive = false;
    clus_res_failure_signal(res, CLUS_FAILURE_GENERAL, 0);
    run_all();
    assert_int_equal(type.is_calls, 1);
    assert_int_equal(clus_res_state(res), CLUS_STATE_FAILED);
    assert_int_equal(type.terminate_calls, 1);
    destroy(res);
}

static void test_offline_error_terminates(void **state)
{
    clus_res *res = make(180000, 5000, 60000);

    clus_res_online(res, 0, NULL, 0, on_done, NULL);
    run_all();
    type.offline_result = CLUS_E_IO_DEVICE;
    clus_res_offline(res, 0, NULL, NULL, 0, on_done, NULL);
    run_all();
    assert_int_equal(done.status, CLUS_E_IO_DEVICE);
    assert_int_equal(type.terminate_calls, 1);
    assert_int_equal(clus_res_state(res), CLUS_STATE_FAILED);
    destroy(res);
}

static void test_offline_queue_enabled(void **state)
{
    clus_res *res = make(180000, 5000, 60000);

    type.online_result = CLUS_E_IO_PENDING;
    clus_res_online(res, 0, NULL, 0, on_done, NULL);
    run_all();
    clus_res_offline(res, CLUS_OFFLINE_QUEUE_ENABLED, NULL, NULL, 0, on_done, NULL);
    assert_int_equal(done.status, CLUS_E_IO_PENDING);
    assert_int_equal(type.offline_calls, 0);
    clus_res_status_report(res, clus_res_accept_gen(res), CLUS_STATE_ONLINE, 0, 0);
    run_all();
    assert_int_equal(type.offline_calls, 1);
    assert_int_equal(clus_res_state(res), CLUS_STATE_OFFLINE);
    destroy(res);
}

static void test_locked_mode(void **state)
{
    clus_res *res = make(180000, 5000, 60000);

    clus_res_locked_mode(res, true);
    clus_res_online(res, 0, NULL, 0, on_done, NULL);
    assert_int_equal(done.status, CLUS_E_RESOURCE_LOCKED_STATUS);
    clus_res_online(res, CLUS_ONLINE_IGNORE_RESOURCE_STATUS, NULL, 0, on_done, NULL);
    run_all();
    assert_int_equal(done.status, CLUS_OK);
    destroy(res);
}

static void test_persisted_state_flags(void **state)
{
    clus_res *res = make(180000, 5000, 60000);
    clus_res_view v;

    clus_res_online(res, 0, NULL, 0, on_done, NULL);
    run_all();
    clus_res_offline(res, CLUS_OFFLINE_DO_NOT_UPDATE_PERSISTENT_STATE, NULL, NULL, 0, on_done,
                     NULL);
    run_all();
    clus_res_view_get(res, &v);
    assert_int_equal(v.state, CLUS_STATE_OFFLINE);
    assert_int_equal(v.persisted_state, CLUS_STATE_ONLINE);
    clus_res_online(res, CLUS_ONLINE_RESTORE_ONLINE_STATE, NULL, 0, on_done, NULL);
    run_all();
    assert_int_equal(clus_res_state(res), CLUS_STATE_ONLINE);
    /* restore implies adopting what still runs */
    assert_true(type.last_online_flags & CLUS_ONLINE_RECOVER_MONITOR_STATE);
    clus_res_offline(res, 0, NULL, NULL, 0, on_done, NULL);
    run_all();
    clus_res_online(res, CLUS_ONLINE_RESTORE_ONLINE_STATE, NULL, 0, on_done, NULL);
    run_all();
    assert_int_equal(done.status, CLUS_OK);
    assert_int_equal(clus_res_state(res), CLUS_STATE_OFFLINE);
    assert_int_equal(type.online_calls, 2);
    destroy(res);
}

static void test_fence(void **state)
{
    clus_res *res = make(180000, 5000, 60000);

    clus_res_online(res, CLUS_ONLINE_IGNORE_NETWORK_CONNECTIVITY, NULL, 0, on_done, NULL);
    run_all();
    assert_false(clus_res_fence(res, "lease"));
    assert_int_equal(clus_res_state(res), CLUS_STATE_ONLINE);
    clus_res_offline(res, 0, NULL, NULL, 0, on_done, NULL);
    run_all();
    clus_res_online(res, 0, NULL, 0, on_done, NULL);
    run_all();
    assert_true(clus_res_fence(res, "lease"));
    run_all();
    assert_int_equal(clus_res_state(res), CLUS_STATE_OFFLINE);
    assert_int_equal(type.terminate_calls, 1);
    assert_true(has_event(CLUS__V1__EVENT_KIND__EVENT_FENCED, CLUS_STATE_ONLINE,
                          CLUS_E_NETWORK_UNREACHABLE));
    destroy(res);
}

static void test_cancel(void **state)
{
    clus_res *res = make(180000, 5000, 60000);

    clus_res_cancel(res, 0, on_done, NULL);
    assert_int_equal(done.status, CLUS_E_INVALID_STATE);
    type.online_result = CLUS_E_IO_PENDING;
    clus_res_online(res, 0, NULL, 0, on_done, NULL);
    run_all();
    clus_res_cancel(res, 0, on_done, NULL);
    run_all();
    assert_int_equal(clus_res_state(res), CLUS_STATE_OFFLINE);
    assert_int_equal(type.terminate_calls, 1);
    destroy(res);
}

static void test_health_request_needs_online(void **state)
{
    clus_res *res = make(180000, 5000, 60000);

    clus_res_is_alive(res, on_done, NULL);
    assert_int_equal(done.status, CLUS_E_RESOURCE_NOT_ONLINE);
    assert_int_equal(type.is_calls, 0);
    destroy(res);
}

static void test_close_online_terminates_first(void **state)
{
    clus_res *res = make(180000, 5000, 60000);

    clus_res_online(res, 0, NULL, 0, on_done, NULL);
    run_all();
    done.count = 0;
    clus_res_close(res, on_done, NULL);
    run_all(); /* frees res */
    assert_int_equal(type.terminate_calls, 1);
    assert_int_equal(type.close_calls, 1);
    assert_int_equal(type.retire_calls, 1); /* closed for good: retired first */
    assert_int_equal(type.closes_before_retire, 0);
    assert_int_equal(done.count, 1);
    assert_true(env.removed);
}

/* The agent stopping (destroy) closes without retiring: the resource stays
 * as it is for the next agent. A table of the first size has no retire. */
static void test_retire_only_on_close(void **state)
{
    clus_res *res = make(180000, 5000, 60000);
    clus_restype_ops v1 = fake_ops;

    clus_res_online(res, 0, NULL, 0, on_done, NULL);
    run_all();
    destroy(res);
    assert_int_equal(type.close_calls, 1);
    assert_int_equal(type.retire_calls, 0);
    assert_true(CLUS_RESTYPE_HAS(&fake_ops, retire));
    v1.size = CLUS_RESTYPE_OPS_SIZE_1;
    assert_false(CLUS_RESTYPE_HAS(&v1, retire));
}

static void test_props_take(void **state)
{
    clus_param items[] = {{"pending_timeout_ms", "500"}, {"color", "blue"}, {"is_alive_ms", "20"}};
    clus_params params = {items, 3};
    clus_param rest[3];
    size_t n = 0;
    clus_res_props props = {1, 2, 3, 4};
    char err[128];

    assert_int_equal(clus_res_props_take(&params, &props, rest, &n, err, sizeof(err)), CLUS_OK);
    assert_int_equal(props.pending_timeout_ms, 500);
    assert_int_equal(props.is_alive_ms, 20);
    assert_int_equal(props.looks_alive_ms, 2);
    assert_int_equal(n, 1);
    assert_string_equal(rest[0].key, "color");
    items[0].value = "0";
    assert_int_equal(clus_res_props_take(&params, &props, rest, &n, err, sizeof(err)),
                     CLUS_E_INVALID_PARAMETER);
    items[0].value = "-5";
    assert_int_equal(clus_res_props_take(&params, &props, rest, &n, err, sizeof(err)),
                     CLUS_E_INVALID_PARAMETER);
    assert_non_null(strstr(err, "pending_timeout_ms"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_leaves_offline),
        cmocka_unit_test(test_open_failure_refuses_everything),
        cmocka_unit_test(test_online_success),
        cmocka_unit_test(test_online_pending_then_reported),
        cmocka_unit_test(test_checkpoint_must_rise),
        cmocka_unit_test(test_pending_timeout_fails_and_terminates),
        cmocka_unit_test(test_online_error_terminates),
        cmocka_unit_test(test_call_bound_answers_pending),
        cmocka_unit_test(test_second_online_while_pending_is_busy),
        cmocka_unit_test(test_terminate_overtakes_running_online),
        cmocka_unit_test(test_late_status_report_ignored),
        cmocka_unit_test(test_looks_alive_false_then_is_alive_false),
        cmocka_unit_test(test_looks_alive_false_but_is_alive_true),
        cmocka_unit_test(test_is_alive_poll),
        cmocka_unit_test(test_calls_queue_behind_the_running_one),
        cmocka_unit_test(test_event_handle_turns_looks_alive_off),
        cmocka_unit_test(test_offline_error_terminates),
        cmocka_unit_test(test_offline_queue_enabled),
        cmocka_unit_test(test_locked_mode),
        cmocka_unit_test(test_persisted_state_flags),
        cmocka_unit_test(test_fence),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_health_request_needs_online),
        cmocka_unit_test(test_close_online_terminates_first),
        cmocka_unit_test(test_retire_only_on_close),
        cmocka_unit_test(test_props_take),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
