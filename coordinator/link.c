/*
 * link.c - lanes (one thread, one REQ connection, one queue each) and the
 * hand-off of their results to the loop (see link.h).
 */
#include "link.h"

#include "clock.h"
#include "log.h"
#include "rpc_client.h"
#include "status.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct link_job {
    uint8_t *frame;
    size_t len;
    uint32_t timeout_ms;
    uint64_t expires_ms; /* monotonic: not sent after this */
    clus_link_done_fn done;
    void *arg;
    uint32_t status;
    Clus__V1__Response *resp;
    struct link_job *next;
};

struct lane {
    clus_link *link;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock; /* guards head, tail, stop, pending */
    pthread_cond_t wake;
    struct link_job *head, *tail;
    bool stop;
    size_t pending;
};

struct clus_link {
    char *url;
    struct lane lanes[CLUS_LANE_COUNT];
    uv_async_t done_async;
    pthread_mutex_t done_lock; /* guards the finished list and closing */
    struct link_job *done_head, *done_tail;
    bool closing;
    atomic_uint_fast64_t next_id;
};

static void job_free(struct link_job *job)
{
    if (job->resp != NULL)
        clus__v1__response__free_unpacked(job->resp, NULL);
    free(job->frame);
    free(job);
}

/* ------------------------------------------------------------ worker side */

/* Runs one call on the lane's connection; fills status/resp. */
static void job_run(clus_rpc_client *client, struct link_job *job)
{
    uint64_t now = clus_mono_ms();
    void *reply = NULL;
    size_t reply_len = 0;

    if (client == NULL) {
        job->status = CLUS_E_CLUSTER_NODE_UNREACHABLE;
        return;
    }
    if (now >= job->expires_ms) {
        job->status = CLUS_E_CLUSTER_NODE_UNREACHABLE; /* never sent (link.h) */
        return;
    }
    job->status = clus_rpc_client_call_raw(client, job->frame, job->len, &reply, &reply_len,
                                           (uint32_t)(job->expires_ms - now));
    if (job->status != CLUS_OK)
        return;
    job->resp = clus__v1__response__unpack(NULL, reply_len, reply);
    free(reply);
    if (job->resp == NULL)
        job->status = CLUS_E_INVALID_PARAMETER;
}

/* Hands a finished job to the loop (dropped if the link is closing). */
static void job_finished(clus_link *link, struct link_job *job)
{
    pthread_mutex_lock(&link->done_lock);
    if (link->closing) {
        pthread_mutex_unlock(&link->done_lock);
        job_free(job);
        return;
    }
    job->next = NULL;
    if (link->done_tail != NULL)
        link->done_tail->next = job;
    else
        link->done_head = job;
    link->done_tail = job;
    uv_async_send(&link->done_async);
    pthread_mutex_unlock(&link->done_lock);
}

static struct link_job *lane_pop(struct lane *lane)
{
    struct link_job *job;

    pthread_mutex_lock(&lane->lock);
    while (!lane->stop && lane->head == NULL)
        pthread_cond_wait(&lane->wake, &lane->lock);
    job = lane->stop ? NULL : lane->head;
    if (job != NULL) {
        lane->head = job->next;
        if (lane->head == NULL)
            lane->tail = NULL;
    }
    pthread_mutex_unlock(&lane->lock);
    return job;
}

static void *lane_main(void *arg)
{
    struct lane *lane = arg;
    clus_rpc_client *client = NULL;
    char err[256];
    struct link_job *job;

    /* Without wait_connect nng keeps dialling: an agent that is down makes
     * calls time out, and one that comes back is found again. */
    if (clus_rpc_client_open(lane->link->url, 0, &client, err, sizeof(err)) != CLUS_OK)
        clus_error("agent %s: %s", lane->link->url, err);
    while ((job = lane_pop(lane)) != NULL) {
        job_run(client, job);
        pthread_mutex_lock(&lane->lock);
        lane->pending--;
        pthread_mutex_unlock(&lane->lock);
        job_finished(lane->link, job);
    }
    clus_rpc_client_close(client);
    return NULL;
}

/* ------------------------------------------------------------ loop side */

static void on_done(uv_async_t *handle)
{
    clus_link *link = handle->data;
    struct link_job *list;

    pthread_mutex_lock(&link->done_lock);
    list = link->done_head;
    link->done_head = link->done_tail = NULL;
    pthread_mutex_unlock(&link->done_lock);
    while (list != NULL) {
        struct link_job *job = list;
        list = list->next;
        job->done(job->arg, job->status, job->status == CLUS_OK ? job->resp : NULL);
        job_free(job);
    }
}

uint32_t clus_link_new(uv_loop_t *loop, const char *url, clus_link **out, char *err, size_t errlen)
{
    clus_link *link = calloc(1, sizeof(*link));

    if (link == NULL || (link->url = strdup(url)) == NULL) {
        free(link);
        snprintf(err, errlen, "out of memory");
        return CLUS_E_NOT_ENOUGH_MEMORY;
    }
    atomic_init(&link->next_id, 1);
    pthread_mutex_init(&link->done_lock, NULL);
    uv_async_init(loop, &link->done_async, on_done);
    link->done_async.data = link;
    for (int i = 0; i < CLUS_LANE_COUNT; i++) {
        struct lane *lane = &link->lanes[i];
        lane->link = link;
        pthread_mutex_init(&lane->lock, NULL);
        pthread_cond_init(&lane->wake, NULL);
        lane->started = pthread_create(&lane->thread, NULL, lane_main, lane) == 0;
        if (!lane->started) {
            snprintf(err, errlen, "cannot start a thread for agent %s", url);
            clus_link_free(link);
            return CLUS_E_NOT_ENOUGH_MEMORY;
        }
    }
    *out = link;
    return CLUS_OK;
}

void clus_link_call(clus_link *link, enum clus_lane lane_id, Clus__V1__Request *req,
                    uint32_t timeout_ms, clus_link_done_fn done, void *arg)
{
    struct link_job *job = calloc(1, sizeof(*job));
    struct lane *lane = &link->lanes[lane_id];

    req->request_id = atomic_fetch_add(&link->next_id, 1);
    if (job != NULL) {
        job->len = clus__v1__request__get_packed_size(req);
        job->frame = malloc(job->len ? job->len : 1);
    }
    if (job == NULL || job->frame == NULL) {
        free(job);
        clus_error("agent %s: out of memory for a call", link->url);
        done(arg, CLUS_E_NOT_ENOUGH_MEMORY, NULL);
        return;
    }
    clus__v1__request__pack(req, job->frame);
    job->timeout_ms = timeout_ms;
    job->expires_ms = clus_mono_ms() + timeout_ms;
    job->done = done;
    job->arg = arg;
    pthread_mutex_lock(&lane->lock);
    if (lane->tail != NULL)
        lane->tail->next = job;
    else
        lane->head = job;
    lane->tail = job;
    lane->pending++;
    pthread_cond_signal(&lane->wake);
    pthread_mutex_unlock(&lane->lock);
}

size_t clus_link_pending(const clus_link *link, enum clus_lane lane_id)
{
    struct lane *lane = (struct lane *)&link->lanes[lane_id];
    size_t n;

    pthread_mutex_lock(&lane->lock);
    n = lane->pending;
    pthread_mutex_unlock(&lane->lock);
    return n;
}

static void link_closed(uv_handle_t *handle)
{
    clus_link *link = handle->data;

    pthread_mutex_destroy(&link->done_lock);
    free(link->url);
    free(link);
}

/* Answers a call that will never run or whose result is no longer wanted. */
static void job_abandon(struct link_job *job)
{
    job->done(job->arg, CLUS_E_OPERATION_ABORTED, NULL);
    job_free(job);
}

void clus_link_stop(clus_link *link)
{
    for (int i = 0; i < CLUS_LANE_COUNT; i++) {
        struct lane *lane = &link->lanes[i];
        pthread_mutex_lock(&lane->lock);
        lane->stop = true;
        pthread_cond_signal(&lane->wake);
        pthread_mutex_unlock(&lane->lock);
    }
}

void clus_link_free(clus_link *link)
{
    struct link_job *job;

    clus_link_stop(link);
    for (int i = 0; i < CLUS_LANE_COUNT; i++) {
        struct lane *lane = &link->lanes[i];
        if (lane->started)
            pthread_join(lane->thread, NULL);
        while ((job = lane->head) != NULL) {
            lane->head = job->next;
            job_abandon(job);
        }
        pthread_mutex_destroy(&lane->lock);
        pthread_cond_destroy(&lane->wake);
    }
    /* The lanes are gone: nobody else touches the finished list now. */
    link->closing = true;
    while ((job = link->done_head) != NULL) {
        link->done_head = job->next;
        job_abandon(job);
    }
    uv_close((uv_handle_t *)&link->done_async, link_closed);
}
