/* test_rpc_server.c - the rpc server's reply paths over real nng sockets
 * (ipc:// in a temporary directory): a lone reply written by the loop, a
 * batch of replies left to nng's threads (clus_rpc_replies_follow), each
 * reaching its own caller, and a stop that catches such replies in flight
 * (checked by ASan/LSan and valgrind: nothing leaks, nothing is touched
 * after it is freed). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "rpc_client.h"
#include "rpc_server.h"
#include "status.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_CLIENTS 32

/* One test's server, its loop and what the clients saw. */
typedef struct fixture {
    char dir[64], url[96];
    uv_loop_t loop;
    uv_timer_t poll;
    clus_rpc_server *server;
    unsigned batch;     /* calls parked before all are answered at once */
    bool stop_in_reply; /* stop the server right after answering them */
    clus_rpc_call *parked[MAX_CLIENTS];
    unsigned parked_count;
    uint64_t deferred; /* the server's count, read before it stops */
    atomic_uint clients_done;
    unsigned clients;
    uint32_t status[MAX_CLIENTS];  /* transport status of each call */
    bool right_reply[MAX_CLIENTS]; /* the reply named the caller's resource */
} fixture;

/* Loop thread: answers every parked call, each with its own resource name,
 * saying that more follow for all but the last. */
static void answer_parked(fixture *f)
{
    for (unsigned i = 0; i < f->parked_count; i++) {
        const Clus__V1__Request *r = clus_rpc_call_request(f->parked[i]);
        clus_rpc_replies_follow(i + 1 < f->parked_count);
        clus_rpc_reply_status(f->parked[i], CLUS_OK, "%s", r->is_alive->resource);
    }
    clus_rpc_replies_follow(false);
    f->parked_count = 0;
}

static void stop_server(fixture *f)
{
    if (f->server == NULL)
        return;
    f->deferred = clus_rpc_server_sends_deferred(f->server);
    clus_rpc_server_stop(f->server);
    f->server = NULL;
    uv_timer_stop(&f->poll);
    uv_close((uv_handle_t *)&f->poll, NULL);
}

static void park(void *arg, clus_rpc_call *call)
{
    fixture *f = arg;

    f->parked[f->parked_count++] = call;
    if (f->parked_count < f->batch)
        return;
    answer_parked(f);
    if (f->stop_in_reply)
        stop_server(f);
}

/* Loop thread, every 5 ms: the server goes once every client returned. */
static void poll_clients(uv_timer_t *timer)
{
    fixture *f = timer->data;

    if (atomic_load(&f->clients_done) == f->clients)
        stop_server(f);
}

typedef struct client_arg {
    fixture *f;
    unsigned index;
} client_arg;

/* A client thread: one IsAlive call naming resource cNN. */
static void *client_main(void *p)
{
    client_arg *a = p;
    fixture *f = a->f;
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
    Clus__V1__IsAliveCall call = CLUS__V1__IS_ALIVE_CALL__INIT;
    Clus__V1__Response *resp = NULL;
    clus_rpc_client *client;
    char name[16], err[256];

    snprintf(name, sizeof(name), "c%02u", a->index);
    call.resource = name;
    req.call_case = CLUS__V1__REQUEST__CALL_IS_ALIVE;
    req.is_alive = &call;
    f->status[a->index] = clus_rpc_client_open(f->url, 5000, &client, err, sizeof(err));
    if (f->status[a->index] == CLUS_OK) {
        f->status[a->index] = clus_rpc_client_call(client, &req, &resp, 5000, err, sizeof(err));
        if (f->status[a->index] == CLUS_OK) {
            f->right_reply[a->index] = resp->status == CLUS_OK && strcmp(resp->message, name) == 0;
            clus__v1__response__free_unpacked(resp, NULL);
        }
        clus_rpc_client_close(client);
    }
    atomic_fetch_add(&f->clients_done, 1);
    return NULL;
}

/* Starts the server, runs n clients against it until the server stops. */
static void run(fixture *f, unsigned n)
{
    clus_rpc_server_config config = {
        .url = f->url, .contexts = MAX_CLIENTS, .slow = park, .arg = f};
    pthread_t threads[MAX_CLIENTS];
    client_arg args[MAX_CLIENTS];
    char err[256];

    snprintf(f->dir, sizeof(f->dir), "/tmp/clus-test-rpc.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->url, sizeof(f->url), "ipc://%s/sock", f->dir);
    f->clients = n;
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(clus_rpc_server_start(&f->loop, &config, &f->server, err, sizeof(err)),
                     CLUS_OK);
    uv_timer_init(&f->loop, &f->poll);
    f->poll.data = f;
    uv_timer_start(&f->poll, poll_clients, 5, 5);
    for (unsigned i = 0; i < n; i++) {
        args[i] = (client_arg){f, i};
        assert_int_equal(pthread_create(&threads[i], NULL, client_main, &args[i]), 0);
    }
    uv_run(&f->loop, UV_RUN_DEFAULT);
    for (unsigned i = 0; i < n; i++)
        pthread_join(threads[i], NULL);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    unlink(f->url + strlen("ipc://"));
    rmdir(f->dir);
}

static void test_lone_reply_is_sent_by_the_loop(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    (void)state;
    f->batch = 1;
    run(f, 1); /* answered as it comes, nothing else waiting */
    assert_int_equal(f->status[0], CLUS_OK);
    assert_true(f->right_reply[0]);
    assert_int_equal(f->deferred, 0);
    free(f);
}

static void test_batch_replies_go_through_nng_threads(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    (void)state;
    f->batch = MAX_CLIENTS;
    run(f, MAX_CLIENTS);
    for (unsigned i = 0; i < MAX_CLIENTS; i++) {
        assert_int_equal(f->status[i], CLUS_OK);
        assert_true(f->right_reply[i]); /* each reply reached its own caller */
    }
    assert_int_equal(f->deferred, MAX_CLIENTS - 1); /* all but the last */
    free(f);
}

static void test_stop_with_replies_in_flight(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    unsigned answered = 0;

    (void)state;
    f->batch = MAX_CLIENTS;
    f->stop_in_reply = true;
    run(f, MAX_CLIENTS);
    for (unsigned i = 0; i < MAX_CLIENTS; i++) {
        if (f->status[i] == CLUS_OK) {
            assert_true(f->right_reply[i]);
            answered++;
        } else {
            assert_true(f->status[i] == CLUS_E_TIMEOUT ||
                        f->status[i] == CLUS_E_CLUSTER_NODE_UNREACHABLE);
        }
    }
    assert_int_equal(f->deferred, MAX_CLIENTS - 1);
    printf("stop with %u replies in flight: %u reached their callers\n", MAX_CLIENTS, answered);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lone_reply_is_sent_by_the_loop),
        cmocka_unit_test(test_batch_replies_go_through_nng_threads),
        cmocka_unit_test(test_stop_with_replies_in_flight),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
