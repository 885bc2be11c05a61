/*
 * daemon.h - how clus-agent and clus-coordinator end: the loop runs until
 * SIGTERM or SIGINT, which call the daemon's stop once; the stop closes the
 * daemon's handles and the loop runs out.
 */
#ifndef CLUS_DAEMON_H
#define CLUS_DAEMON_H

#include <uv.h>

typedef void (*clus_daemon_stop_fn)(void *arg);

/* Runs loop until nothing is left on it. On the first SIGTERM or SIGINT:
 * logs it, stops listening for both, arms alarm(alarm_s) when alarm_s > 0
 * (SIGALRM's default action ends a shutdown that hangs), calls stop(arg). */
void clus_daemon_run(uv_loop_t *loop, clus_daemon_stop_fn stop, void *arg, unsigned alarm_s);

#endif
