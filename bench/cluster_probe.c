/*
 * cluster_probe.c - the observer of the cluster benchmarks (P3..P7): it
 * follows the event streams of agents and stamps every event with
 * CLOCK_MONOTONIC in microseconds when it arrives. The agents' own event
 * timestamps are wall-clock milliseconds, too coarse for a 2 ms target.
 *
 *   bench-cluster-probe now
 *       prints the monotonic clock (us): a start mark for the shell
 *   bench-cluster-probe kill PID
 *       prints the monotonic clock (us), then sends SIGKILL to PID (> 1)
 *   bench-cluster-probe watch URL...
 *       one line per event until SIGTERM/SIGINT, flushed per batch:
 *         T_US NODE SEQ KIND RESOURCE NEW_STATE
 *       NODE is the URL's position (1-based); KIND is clus.v1.EventKind;
 *       a lost stretch of events prints "T_US NODE 0 gap - -"
 *   bench-cluster-probe wait-online N TIMEOUT_S URL...
 *       waits until N (agent, resource) pairs are Online at once; prints
 *       online_us=T (when the last one arrived) and exits 0, or exits 1
 *       after TIMEOUT_S seconds with online=COUNT
 *
 * Each agent gets one thread with its own REQ socket doing Watch long
 * polls (the agent answers a parked Watch the moment an event is emitted,
 * so the arrival time is the emit time plus one reply leg, the same leg for
 * every event). The sockets redial every 1-10 ms, so an agent that is not
 * listening yet (cold start) is found as soon as it is.
 */
#include "clock.h"
#include "clus/v1/clus.pb-c.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uthash.h>

#define WATCH_WAIT_MS  1000
#define WATCH_MAX      1024
#define STATE_ONLINE   2 /* CLUS_STATE_ONLINE, clus.proto's ResourceState */
#define NAME_MAX_BYTES 128

enum probe_mode { MODE_WATCH, MODE_WAIT_ONLINE };

/* One resource as last seen on one agent (wait-online only). */
struct res_seen {
    char name[NAME_MAX_BYTES + 1];
    bool online;
    UT_hash_handle hh;
};

struct agent_watch {
    int node; /* 1-based position on the command line */
    const char *url;
    nng_socket sock;
    uint64_t after, boot;
    struct res_seen *seen;
};

/* Shared by the threads: output and the wait-online count. */
static struct {
    enum probe_mode mode;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    long online, target;
    uint64_t reached_us; /* when online first reached target */
} g = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};

/* ------------------------------------------------------------ rpc */

static int agent_dial(struct agent_watch *a)
{
    int rv = nng_req0_open(&a->sock);

    if (rv == 0) {
        nng_socket_set_ms(a->sock, NNG_OPT_RECONNMINT, 1);
        nng_socket_set_ms(a->sock, NNG_OPT_RECONNMAXT, 10);
        nng_socket_set_ms(a->sock, NNG_OPT_RECVTIMEO, WATCH_WAIT_MS + 4000);
        nng_socket_set_ms(a->sock, NNG_OPT_SENDTIMEO, 5000);
        nng_socket_set_size(a->sock, NNG_OPT_RECVMAXSZ, 64u << 20);
        rv = nng_dial(a->sock, a->url, NULL, NNG_FLAG_NONBLOCK);
    }
    return rv;
}

/* One synchronous call; *at_us is when the answer arrived. NULL on any
 * failure (the caller retries: agents come and go in these benchmarks). */
static Clus__V1__Response *agent_call(struct agent_watch *a, Clus__V1__Request *req,
                                      uint64_t *at_us)
{
    uint8_t frame[256];
    void *reply = NULL;
    size_t len = clus__v1__request__get_packed_size(req), rlen = 0;
    Clus__V1__Response *resp;

    if (len > sizeof(frame))
        return NULL;
    clus__v1__request__pack(req, frame);
    if (nng_send(a->sock, frame, len, 0) != 0 || nng_recv(a->sock, &reply, &rlen, NNG_FLAG_ALLOC))
        return NULL;
    *at_us = clus_mono_us();
    resp = clus__v1__response__unpack(NULL, rlen, reply);
    nng_free(reply, rlen);
    return resp;
}

/* ------------------------------------------------------------ wait-online */

/* Records one resource's state on one agent and moves the shared count. */
static void seen_set(struct agent_watch *a, const char *name, bool online, uint64_t at_us)
{
    struct res_seen *s;
    long delta = 0;

    HASH_FIND_STR(a->seen, name, s);
    if (s == NULL) {
        if (!online || (s = calloc(1, sizeof(*s))) == NULL)
            return;
        snprintf(s->name, sizeof(s->name), "%s", name);
        HASH_ADD_STR(a->seen, name, s);
    }
    if (s->online != online)
        delta = online ? 1 : -1;
    s->online = online;
    if (delta == 0)
        return;
    pthread_mutex_lock(&g.lock);
    g.online += delta;
    if (g.online >= g.target && g.reached_us == 0) {
        g.reached_us = at_us;
        pthread_cond_signal(&g.changed);
    }
    pthread_mutex_unlock(&g.lock);
}

/* After a gap: forget this agent's resources and read them all again. */
static void seen_reload(struct agent_watch *a)
{
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
    Clus__V1__AgentStatusCall call = CLUS__V1__AGENT_STATUS_CALL__INIT;
    Clus__V1__Response *resp;
    struct res_seen *s, *tmp;
    uint64_t at = 0;

    req.call_case = CLUS__V1__REQUEST__CALL_STATUS;
    req.status = &call;
    if ((resp = agent_call(a, &req, &at)) == NULL)
        return;
    if (resp->result_case == CLUS__V1__RESPONSE__RESULT_AGENT) {
        HASH_ITER(hh, a->seen, s, tmp)
        {
            seen_set(a, s->name, false, at);
        }
        for (size_t i = 0; i < resp->agent->n_resources; i++)
            seen_set(a, resp->agent->resources[i]->name,
                     resp->agent->resources[i]->state == STATE_ONLINE, at);
        a->after = resp->agent->last_seq;
        a->boot = resp->agent->boot_id;
    }
    clus__v1__response__free_unpacked(resp, NULL);
}

/* ------------------------------------------------------------ watch */

static void print_event(const struct agent_watch *a, const Clus__V1__Event *ev, uint64_t at)
{
    printf("%llu %d %llu %d %s %d\n", (unsigned long long)at, a->node, (unsigned long long)ev->seq,
           (int)ev->kind, ev->resource ? ev->resource : "-", (int)ev->new_state);
}

static void take_batch(struct agent_watch *a, const Clus__V1__EventBatch *b, uint64_t at)
{
    if (g.mode == MODE_WATCH)
        pthread_mutex_lock(&g.lock);
    for (size_t i = 0; i < b->n_events; i++) {
        const Clus__V1__Event *ev = b->events[i];
        if (ev->seq <= a->after)
            continue;
        a->after = ev->seq;
        if (g.mode == MODE_WATCH)
            print_event(a, ev, at);
        else if (ev->kind == CLUS__V1__EVENT_KIND__EVENT_STATE ||
                 ev->kind == CLUS__V1__EVENT_KIND__EVENT_CLOSED)
            seen_set(a, ev->resource,
                     ev->kind == CLUS__V1__EVENT_KIND__EVENT_STATE && ev->new_state == STATE_ONLINE,
                     at);
    }
    if (g.mode == MODE_WATCH) {
        fflush(stdout);
        pthread_mutex_unlock(&g.lock);
    }
}

/* Events were lost: the agent restarted (a new boot: its events start
 * again from 0) or the watcher fell behind its ring. */
static void take_gap(struct agent_watch *a, const Clus__V1__EventBatch *b, uint64_t at)
{
    if (g.mode == MODE_WAIT_ONLINE) {
        seen_reload(a);
        return;
    }
    pthread_mutex_lock(&g.lock);
    printf("%llu %d 0 gap - -\n", (unsigned long long)at, a->node);
    fflush(stdout);
    pthread_mutex_unlock(&g.lock);
    a->after = b->boot_id != a->boot ? 0 : b->last_seq;
    a->boot = b->boot_id;
}

static void *watch_thread(void *arg)
{
    struct agent_watch *a = arg;

    for (;;) {
        Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
        Clus__V1__WatchCall call = CLUS__V1__WATCH_CALL__INIT;
        Clus__V1__Response *resp;
        uint64_t at = 0;

        call.after_seq = a->after;
        call.boot_id = a->boot;
        call.max_events = WATCH_MAX;
        call.wait_ms = WATCH_WAIT_MS;
        req.call_case = CLUS__V1__REQUEST__CALL_WATCH;
        req.watch = &call;
        if ((resp = agent_call(a, &req, &at)) == NULL) {
            nanosleep(&(struct timespec){0, 1000000}, NULL); /* not up yet, or gone */
            continue;
        }
        if (resp->result_case == CLUS__V1__RESPONSE__RESULT_EVENTS) {
            const Clus__V1__EventBatch *b = resp->events;
            if (b->gap) {
                take_gap(a, b, at);
            } else {
                a->boot = b->boot_id;
                take_batch(a, b, at);
            }
        }
        clus__v1__response__free_unpacked(resp, NULL);
    }
    return NULL;
}

static int start_watchers(int n, char **urls)
{
    struct agent_watch *agents = calloc((size_t)n, sizeof(*agents));

    if (agents == NULL)
        return -1;
    for (int i = 0; i < n; i++) {
        pthread_t t;
        agents[i].node = i + 1;
        agents[i].url = urls[i];
        if (agent_dial(&agents[i]) != 0) {
            fprintf(stderr, "bench-cluster-probe: cannot dial %s\n", urls[i]);
            return -1;
        }
        if (pthread_create(&t, NULL, watch_thread, &agents[i]) != 0)
            return -1;
        pthread_detach(t);
    }
    return 0; /* the threads run until the process exits */
}

/* ------------------------------------------------------------ commands */

static int cmd_watch(int n, char **urls)
{
    sigset_t set;
    int sig;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* inherited by the threads */
    g.mode = MODE_WATCH;
    if (start_watchers(n, urls) != 0)
        return 1;
    sigwait(&set, &sig);
    pthread_mutex_lock(&g.lock); /* no half-written line */
    fflush(stdout);
    _exit(0);
}

static int cmd_wait_online(long target, double timeout_s, int n, char **urls)
{
    struct timespec deadline;
    int rv = 0;

    g.mode = MODE_WAIT_ONLINE;
    g.target = target;
    if (start_watchers(n, urls) != 0)
        return 1;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += (time_t)timeout_s;
    pthread_mutex_lock(&g.lock);
    while (g.reached_us == 0 && rv != ETIMEDOUT)
        rv = pthread_cond_timedwait(&g.changed, &g.lock, &deadline);
    if (g.reached_us != 0)
        printf("online_us=%llu online=%ld\n", (unsigned long long)g.reached_us, g.online);
    else
        printf("online=%ld timeout\n", g.online);
    fflush(stdout);
    _exit(g.reached_us != 0 ? 0 : 1); /* the watch threads are still blocked in nng */
}

static int cmd_kill(const char *pid_text)
{
    long pid = strtol(pid_text, NULL, 10);

    if (pid <= 1) { /* never a process group, never init */
        fprintf(stderr, "bench-cluster-probe: refusing to kill pid %s\n", pid_text);
        return 2;
    }
    printf("%llu\n", (unsigned long long)clus_mono_us());
    fflush(stdout);
    return kill((pid_t)pid, SIGKILL) == 0 ? 0 : 1;
}

static int usage(void)
{
    fprintf(stderr, "usage: bench-cluster-probe now | kill PID | watch URL... |\n"
                    "       wait-online N TIMEOUT_S URL...\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "now") == 0) {
        printf("%llu\n", (unsigned long long)clus_mono_us());
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "kill") == 0)
        return cmd_kill(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "watch") == 0)
        return cmd_watch(argc - 2, argv + 2);
    if (argc >= 5 && strcmp(argv[1], "wait-online") == 0)
        return cmd_wait_online(atol(argv[2]), atof(argv[3]), argc - 4, argv + 4);
    return usage();
}
