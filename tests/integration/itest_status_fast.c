/*
 * itest_status_fast.c - the status fast path against a lease that ran out
 * while the agent was frozen. A cached status (built while the lease was
 * valid, resource r Online) must never be served once the lease has run
 * out: the agent fences before it answers anything. The requests here are
 * sent on connections opened before the freeze, so on SIGCONT the nng
 * threads have them at once and race the loop's lease timer: the fast path
 * itself must hand them to the loop (tests/integration/
 * test_agent_status_fast.sh covers the rest of the fast path).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <clus/client.h>

#include "agent_proc.h"
#include "status.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define READERS 16

static agent_proc agent;

struct reader {
    clus_client *client;
    pthread_t thread;
    char *json; /* the answer, malloc'ed */
};

static void sleep_ms(long ms)
{
    nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
}

static clus_client *connect_agent(void)
{
    clus_client *c = NULL;
    char err[128];

    for (int i = 0; i < 100; i++) {
        if (clus_client_connect(agent.url, NULL, &c, err, sizeof(err)) == CLUS_OK)
            return c;
        sleep_ms(50);
    }
    return NULL;
}

static int start_agent(void **state)
{
    (void)state;
    return agent_proc_start(&agent, NULL);
}

static int stop_agent(void **state)
{
    (void)state;
    agent_proc_stop(&agent);
    return 0;
}

/* The call's status, once its reply is freed (r is passed by address: the
 * call sets it, and argument order is unspecified). */
static uint32_t call_ok(uint32_t status, clus_reply **r)
{
    clus_reply_free(*r);
    *r = NULL;
    return status;
}

static void *read_status(void *arg)
{
    struct reader *rd = arg;
    clus_reply *r = NULL;

    clus_status(rd->client, &r);
    rd->json = r != NULL ? clus_reply_json(r, false) : strdup("no answer");
    clus_reply_free(r);
    return NULL;
}

static void test_expired_lease_never_served(void **state)
{
    struct reader readers[READERS];
    clus_client *c = connect_agent();
    clus_reply *r = NULL;

    (void)state;
    assert_non_null(c);
    for (int i = 0; i < READERS; i++)
        assert_non_null(readers[i].client = connect_agent());
    assert_int_equal(call_ok(clus_open(c, "r", "dummy", NULL, 0, 0, &r), &r), CLUS_OK);
    assert_int_equal(call_ok(clus_online(c, "r", 0, false, &r), &r), CLUS_OK);
    assert_int_equal(call_ok(clus_lease(c, "itest", 300, 1, &r), &r), CLUS_OK);
    /* Each reader's connection is up and the cache holds r Online, lease valid. */
    for (int i = 0; i < READERS; i++)
        assert_int_equal(call_ok(clus_status(readers[i].client, &r), &r), CLUS_OK);
    kill(agent.pid, SIGSTOP);
    sleep_ms(600); /* the lease runs out while everything is frozen */
    for (int i = 0; i < READERS; i++)
        assert_int_equal(pthread_create(&readers[i].thread, NULL, read_status, &readers[i]), 0);
    sleep_ms(100); /* the requests are in the agent's sockets */
    kill(agent.pid, SIGCONT);
    for (int i = 0; i < READERS; i++) {
        pthread_join(readers[i].thread, NULL);
        if (strstr(readers[i].json, "\"lease_valid\":true") != NULL ||
            strstr(readers[i].json, "\"state\":\"Online\"") != NULL)
            fail_msg("reader %d was served a status from before the lease ran out: %s", i,
                     readers[i].json);
        free(readers[i].json);
        clus_client_close(readers[i].client);
    }
    clus_client_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expired_lease_never_served),
    };

    return cmocka_run_group_tests(tests, start_agent, stop_agent);
}
