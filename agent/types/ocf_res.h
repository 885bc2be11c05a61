/*
 * ocf_res.h - one `ocf` resource, shared by ocf.c (entry points, actions),
 * ocf_open.c (Open, Close, its control) and ocf_monitor.c (the background
 * monitor behind LooksAlive/IsAlive).
 * Loop thread only.
 */
#ifndef CLUS_AGENT_OCF_RES_H
#define CLUS_AGENT_OCF_RES_H

#include "ocf_internal.h"

#include <uv.h>

/* What the resource's one action child is doing. */
enum ocf_step {
    OCF_STEP_NONE,
    OCF_STEP_PROBE,   /* monitor before start (OnlineV2 RECOVER_MONITOR_STATE) */
    OCF_STEP_START,   /* Online */
    OCF_STEP_STOP,    /* Offline */
    OCF_STEP_CLEANUP, /* Terminate's stop */
};

struct ocf_res {
    clus_resource *handle;
    char *name;
    struct ocf_config cfg;
    struct ocf_env env; /* what every action of this resource shares */

    struct ocf_child *action; /* start/stop/probe/cleanup: at most one */
    enum ocf_step step;
    enum ocf_step after_cleanup; /* an Online (START) or Offline (STOP) came while
                                  * Terminate's stop ran: runs when it ends */

    bool pending;        /* an Online/Offline waits for our set_status */
    int pending_state;   /* OnlinePending or OfflinePending */
    uint32_t checkpoint; /* of the progress reports */
    uv_timer_t progress_timer;

    /* Health (ocf_monitor.c). */
    bool running;              /* started (or adopted) and not stopped since */
    bool failed;               /* a monitor saw it fail: Looks/IsAlive answer false */
    int last_rc;               /* the last monitor's exit code, -1 before any */
    struct ocf_child *monitor; /* never at the same time as an action */
    int monitor_level;         /* its OCF_CHECK_LEVEL */
    bool deep_wanted;          /* IsAlive asked while a monitor ran */
    uv_timer_t monitor_timer;  /* repeating while running */

    int open_handles;     /* timers not yet closed after close() */
    struct ocf_res *next; /* the type's open resources (unique checks) */
};

extern const clus_monitor_callbacks *ocf_cb;

/* The sentence for the status the running entry point returns. */
#define REASON(r, ...)                                                                             \
    do {                                                                                           \
        if (ocf_cb->set_reason != NULL)                                                            \
            ocf_cb->set_reason((r)->handle, __VA_ARGS__);                                          \
    } while (0)

/* ocf.c */
const char *ocf_step_action(enum ocf_step step); /* "start", "stop", "monitor" */

/* Logs what an action printed (when output; bounded) and how it ended, at
 * level (CLUS_LOG_*; -1: information if it succeeded, else error). */
void ocf_log_result(struct ocf_res *r, const char *action, const struct ocf_result *res,
                    uint32_t timeout_ms, bool output, int level);

/* ocf_open.c: the entry points */
uint32_t ocf_open(const clus_open_args *args, clus_resid *resid);
void ocf_close(clus_resid resid);
uint32_t ocf_resource_control(clus_resid resid, clus_control *ctl);

/* ocf_monitor.c */
void ocf_monitor_init(struct ocf_res *r);
void ocf_monitor_running(struct ocf_res *r); /* it runs now: monitor in the background */
void ocf_monitor_stop(struct ocf_res *r);    /* kills a running monitor, stops the timer */
bool ocf_monitor_looks_alive(struct ocf_res *r);
bool ocf_monitor_is_alive(struct ocf_res *r);

#endif
