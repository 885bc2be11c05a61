/*
 * fuzz_daemon.h - what the targets that drive a real daemon in-process
 * share: a scratch state directory, the daemon's libuv loop on its own
 * thread, and a REQ connection to it over inproc:// (the same rpc server
 * code as tcp://, without sockets, ports or TLS).
 *
 * The loop thread owns the daemon from the moment it runs; the fuzzer's
 * thread only sends frames and waits for answers, as a remote caller would.
 * The daemon is never stopped: libFuzzer ends the process.
 */
#ifndef CLUS_FUZZ_DAEMON_H
#define CLUS_FUZZ_DAEMON_H

#include "log.h"
#include "rpc_client.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

/* Replies slower than this are a hang, reported as a crash. */
#define FUZZ_REPLY_MS 10000

static uv_loop_t fuzz_loop;
static pthread_t fuzz_loop_thread;

static inline void fuzz_die(const char *what, const char *why)
{
    fprintf(stderr, "fuzz: %s: %s\n", what, why);
    abort();
}

/* A fresh directory under $FUZZ_STATE_DIR (run.sh makes one and removes
 * it), else on tmpfs when there is one (sqlite's fsyncs are then cheap);
 * never reused, so no run sees another's state. */
static inline const char *fuzz_state_dir(const char *name)
{
    static char dir[512];
    const char *base = getenv("FUZZ_STATE_DIR");

    snprintf(dir, sizeof(dir), "%s/clus-fuzz-%s.XXXXXX", base ? base : "/dev/shm", name);
    if (mkdtemp(dir) == NULL) {
        snprintf(dir, sizeof(dir), "/tmp/clus-fuzz-%s.XXXXXX", name);
        if (mkdtemp(dir) == NULL)
            fuzz_die("state directory", "mkdtemp failed");
    }
    return dir;
}

static inline void *fuzz_loop_main(void *arg)
{
    (void)arg;
    uv_run(&fuzz_loop, UV_RUN_DEFAULT);
    return NULL;
}

/* Call after the daemon has started on fuzz_loop: from here on only the
 * loop thread touches it. */
static inline void fuzz_loop_start(void)
{
    if (pthread_create(&fuzz_loop_thread, NULL, fuzz_loop_main, NULL) != 0)
        fuzz_die("loop thread", "pthread_create failed");
}

static inline clus_rpc_client *fuzz_connect(const char *url)
{
    clus_rpc_client *client = NULL;
    char err[256];

    if (clus_rpc_client_open(url, 5000, &client, err, sizeof(err)) != 0)
        fuzz_die("connect", err);
    return client;
}

/* Sends one frame and returns the reply (malloc'ed); a missing reply is a
 * hang or a lost call, both bugs. */
static inline void *fuzz_call(clus_rpc_client *client, const void *frame, size_t len,
                              size_t *reply_len)
{
    void *reply = NULL;
    uint32_t status =
        clus_rpc_client_call_raw(client, frame, len, &reply, reply_len, FUZZ_REPLY_MS);

    if (status != 0)
        fuzz_die("call", "no reply within FUZZ_REPLY_MS (a hang or a dropped call)");
    return reply;
}

#endif
