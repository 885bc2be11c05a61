/*
 * itest_agent_client.c - a real clus-agent process driven from C through
 * libclus-client, and garbage thrown at its port: random bytes, truncated
 * protobuf, a 16 MiB frame, an unknown call, undefined flag bits, empty and
 * 10 KB names. Every bad request is answered with an error (or dropped, for
 * frames nng refuses), the agent keeps serving, and no state changes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <clus/client.h>
#include <clus/restype.h>

#include "agent_proc.h"
#include "clus/v1/clus.pb-c.h"
#include "rpc_client.h"
#include "status.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static agent_proc agent;

/* What the test is doing, for the watchdog: a call that never returns is
 * named on stderr instead of ending as a silent ctest timeout. */
static volatile const char *step = "start";

static void watchdog_fired(int sig)
{
    static const char head[] = "itest_agent_client: stuck for 120 s in: ";
    const char *what = (const char *)step;

    (void)sig;
    (void)!write(STDERR_FILENO, head, sizeof(head) - 1);
    (void)!write(STDERR_FILENO, what, strlen(what));
    (void)!write(STDERR_FILENO, "\n", 1);
    if (agent.pid > 1)
        kill(agent.pid, SIGKILL);
    abort();
}

static int start_agent(void **state)
{
    const char *const args[] = {"--plugin-dir", CLUS_PLUGIN_DIR, NULL};

    (void)state;
    return agent_proc_start(&agent, args);
}

static int stop_agent(void **state)
{
    (void)state;
    agent_proc_stop(&agent);
    return 0;
}

static clus_client *connect_or_fail(void)
{
    clus_client *c = NULL;
    char err[128];
    clus_client_options opt = {.timeout_ms = 5000};

    assert_int_equal(clus_client_connect(agent.url, &opt, &c, err, sizeof(err)), CLUS_OK);
    return c;
}

/* A fingerprint of everything the agent hosts: names, states, last seq. */
static char *fingerprint(clus_client *c)
{
    clus_reply *r;
    char *json, *res;

    assert_int_equal(clus_status(c, &r), CLUS_OK);
    json = clus_reply_json(r, false);
    clus_reply_free(r);
    /* drop the volatile uptime/lease fields: keep from "resources" on */
    res = strdup(strstr(json, "\"resources\""));
    free(json);
    return res;
}

static void test_every_call(void **state)
{
    step = "every call";
    clus_client *c = connect_or_fail();
    const char *params[] = {"online_delay_ms=100", NULL};
    const char *props[] = {"online_delay_ms=5", NULL};
    clus_reply *r;

    assert_int_equal(clus_open(c, "cw", "dummy", params, 0, false, &r), CLUS_OK);
    assert_int_equal(clus_reply_state(r), CLUS_STATE_OFFLINE);
    clus_reply_free(r);
    assert_int_equal(clus_online(c, "cw", 0, true, &r), CLUS_E_IO_PENDING);
    assert_int_equal(clus_wait(c, "cw", clus_reply_seq(r), 5000, NULL), CLUS_OK);
    clus_reply_free(r);
    assert_int_equal(clus_state(c, "cw", &r), CLUS_OK);
    assert_int_equal(clus_reply_state(r), CLUS_STATE_ONLINE);
    assert_string_equal(clus_reply_resource(r), "cw");
    clus_reply_free(r);
    assert_int_equal(clus_looks_alive(c, "cw", &r), CLUS_OK);
    assert_true(clus_reply_alive(r));
    clus_reply_free(r);
    assert_int_equal(clus_is_alive(c, "cw", false, &r), CLUS_OK);
    assert_true(clus_reply_alive(r));
    clus_reply_free(r);
    assert_int_equal(clus_is_alive(c, "cw", true, &r), CLUS_OK); /* cached: the call above */
    clus_reply_free(r);
    assert_int_equal(clus_resource_control(c, "cw", CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES,
                                           props, NULL, 0, CLUS_CONTROL_SYNC, NULL, NULL),
                     CLUS_OK);
    assert_int_equal(clus_resource_control(c, "cw", CLUSCTL_RESOURCE_GET_FLAGS, NULL, NULL, 0,
                                           CLUS_CONTROL_BEGIN, NULL, &r),
                     CLUS_E_IO_PENDING);
    assert_true(clus_reply_call_id(r) > 0);
    assert_int_equal(clus_wait_control(c, clus_reply_call_id(r), 0, 5000, NULL), CLUS_OK);
    clus_reply_free(r);
    assert_int_equal(clus_type_control(c, "dummy", CLUSCTL_RESOURCE_TYPE_GET_CHARACTERISTICS,
                                       CLUS_CONTROL_SYNC, NULL, NULL),
                     CLUS_OK);
    assert_int_equal(clus_type_control(c, "dummy", CLUSCTL_RESOURCE_TYPE_UNKNOWN,
                                       CLUS_CONTROL_BEGIN_AS_USER, "root", NULL),
                     CLUS_E_IO_PENDING);
    assert_int_equal(clus_arbitrate(c, "cw", NULL), CLUS_E_INVALID_FUNCTION);
    assert_int_equal(clus_release(c, "cw", NULL), CLUS_E_INVALID_FUNCTION);
    assert_int_equal(clus_cancel(c, "cw", NULL), CLUS_E_INVALID_STATE);
    /* queue-enabled with nothing pending: an ordinary offline */
    assert_int_equal(clus_offline(c, "cw", CLUS_OFFLINE_QUEUE_ENABLED, "n2", true, &r), CLUS_OK);
    assert_int_equal(clus_reply_state(r), CLUS_STATE_OFFLINE);
    clus_reply_free(r);
    assert_int_equal(clus_online(c, "cw", 0, false, NULL), CLUS_E_IO_PENDING);
    assert_int_equal(clus_terminate(c, "cw", &r), CLUS_OK);
    assert_int_equal(clus_reply_state(r), CLUS_STATE_OFFLINE);
    clus_reply_free(r);
    assert_int_equal(clus_startup(c, "process", 0x100, 0x100, true, NULL), CLUS_OK);
    assert_int_equal(clus_startup(c, "nosuch", 0x100, 0x100, false, NULL),
                     CLUS_E_RESNAME_NOT_FOUND);
    assert_int_equal(clus_types(c, NULL), CLUS_OK);
    assert_int_equal(clus_load_plugin(c, "/etc/passwd", NULL), CLUS_E_ACCESS_DENIED);
    assert_int_equal(clus_load_plugin(c, CLUS_PLUGIN_DIR "/none.so", NULL), CLUS_E_FILE_NOT_FOUND);
    assert_int_equal(clus_watch(c, 0, 0, 0, "cw", &r), CLUS_OK);
    {
        char *json = clus_reply_json(r, false);
        assert_non_null(strstr(json, "\"kind\":\"state\""));
        free(json);
    }
    clus_reply_free(r);
    assert_int_equal(clus_lease(c, "itest", 5000, 1, NULL), CLUS_OK);
    assert_int_equal(clus_lease(c, "itest", 5000, 0, NULL), CLUS_E_INVALID_STATE); /* older epoch */
    assert_int_equal(clus_lease(c, "itest", 0, 0, NULL), CLUS_OK);
    assert_int_equal(clus_close_resource(c, "cw", NULL), CLUS_OK);
    assert_int_equal(clus_state(c, "cw", NULL), CLUS_E_RESOURCE_NOT_FOUND);
    clus_client_close(c);
}

/* Sends a raw frame; returns the reply's status, or -1 when none came. */
static long raw_status(clus_rpc_client *rpc, const void *frame, size_t len)
{
    void *reply = NULL;
    size_t reply_len = 0;
    Clus__V1__Response *resp;
    long status = -1;

    if (clus_rpc_client_call_raw(rpc, frame, len, &reply, &reply_len, 2000) != CLUS_OK)
        return -1;
    resp = clus__v1__response__unpack(NULL, reply_len, reply);
    free(reply);
    if (resp != NULL) {
        status = resp->status;
        clus__v1__response__free_unpacked(resp, NULL);
    }
    return status;
}

/* Speaks SP over TCP by hand (nng's REQ would re-send the frame on every
 * new connection): the 8-byte handshake as a REQ, then a frame announcing
 * 16 MiB (over the agent's 4 MiB limit) and its first 4 KiB. True when the
 * agent closes the connection within 3 s. */
static bool oversized_frame_dropped(const char *url)
{
    static const uint8_t req0_hello[8] = {0, 'S', 'P', 0, 0x00, 0x30, 0, 0};
    uint8_t frame[8 + 4096] = {0}, reply[8];
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval patience = {3, 0};
    uint64_t announced = 16u << 20;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    bool dropped = false;
    ssize_t n;

    sa.sin_port = htons((uint16_t)atoi(strrchr(url, ':') + 1));
    for (int i = 0; i < 8; i++)
        frame[i] = (uint8_t)(announced >> (56 - 8 * i));
    if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof(patience)) == 0 &&
        connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        write(fd, req0_hello, sizeof(req0_hello)) == sizeof(req0_hello) &&
        recv(fd, reply, sizeof(reply), MSG_WAITALL) == sizeof(reply) && reply[5] == 0x31 &&
        write(fd, frame, sizeof(frame)) == sizeof(frame)) {
        while ((n = recv(fd, reply, sizeof(reply), 0)) > 0)
            ;
        dropped = n == 0 || errno == ECONNRESET; /* not EAGAIN: the 3 s ran out */
    }
    if (fd >= 0)
        close(fd);
    return dropped;
}

static size_t pack_request(Clus__V1__Request *req, uint8_t **out)
{
    size_t len = clus__v1__request__get_packed_size(req);

    *out = malloc(len + 1);
    clus__v1__request__pack(req, *out);
    return len;
}

static void test_garbage(void **state)
{
    clus_client *c = connect_or_fail();
    clus_rpc_client *rpc;
    char err[128], *before, *after;
    uint8_t buf[512], *frame;
    size_t len;
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
    Clus__V1__OpenCall open = CLUS__V1__OPEN_CALL__INIT;
    const char *quiet[] = {"looks_alive_ms=3600000", "is_alive_ms=3600000", NULL};
    const char *env_seed = getenv("CLUS_ITEST_SEED");
    unsigned seed = env_seed ? (unsigned)strtoul(env_seed, NULL, 10)
                             : (unsigned)time(NULL) ^ (unsigned)getpid();

    print_message("garbage seed %u (CLUS_ITEST_SEED=%u replays it)\n", seed, seed);
    srand(seed);
    step = "garbage: set-up";
    /* no health poll during the test: its results would change the fingerprint */
    assert_int_equal(clus_open(c, "keep", "dummy", quiet, 0, false, NULL), CLUS_OK);
    assert_int_equal(clus_online(c, "keep", 0, true, NULL), CLUS_OK);
    before = fingerprint(c);
    assert_int_equal(clus_rpc_client_open(agent.url, 5000, &rpc, err, sizeof(err)), CLUS_OK);

    /* 1. random bytes: every frame is answered (87 for nearly all; a frame
     *    that happens to decode is an ordinary call), none crashes the agent */
    step = "garbage: random frames";
    for (int i = 0, rejected = 0; i < 300; i++) {
        size_t n = 1 + (size_t)rand() % sizeof(buf);
        long st;
        for (size_t j = 0; j < n; j++)
            buf[j] = (uint8_t)rand();
        st = raw_status(rpc, buf, n);
        assert_true(st >= 0);
        rejected += st == CLUS_E_INVALID_PARAMETER || st == CLUS_E_INVALID_FUNCTION;
        if (i == 299)
            assert_true(rejected > 250);
    }
    /* 2. truncated protobuf of an Open */
    step = "garbage: truncated frames";
    open.resource = "trunc";
    open.type = "dummy";
    req.call_case = CLUS__V1__REQUEST__CALL_OPEN;
    req.open = &open;
    len = pack_request(&req, &frame);
    assert_int_equal(raw_status(rpc, frame, len - 1), CLUS_E_INVALID_PARAMETER);
    assert_int_equal(raw_status(rpc, frame, len - 3), CLUS_E_INVALID_PARAMETER);
    free(frame);
    /* 3. a 16 MiB frame: the agent drops the connection at its length, with
     *    no reply, and serves on (the steps below). */
    step = "garbage: 16 MiB frame";
    assert_true(oversized_frame_dropped(agent.url));
    /* 4. an unknown call: field 99 of Request (varint 1) */
    step = "garbage: unknown call";
    {
        uint8_t unknown[] = {0x08, 0x07, 0x98, 0x06, 0x01}; /* request_id 7, field 99 = 1 */
        assert_int_equal(raw_status(rpc, unknown, sizeof(unknown)), CLUS_E_INVALID_FUNCTION);
    }
    /* 5. undefined flag bits */
    step = "garbage: flag bits";
    assert_int_equal(clus_online(c, "keep", 0x20, true, NULL), CLUS_E_INVALID_PARAMETER);
    assert_int_equal(clus_offline(c, "keep", 0x80, NULL, true, NULL), CLUS_E_INVALID_PARAMETER);
    assert_int_equal(clus_online(c, "keep", 0x1, false, NULL), CLUS_E_INVALID_PARAMETER);
    assert_int_equal(clus_open(c, "f", "dummy", NULL, 0x4, true, NULL), CLUS_E_INVALID_PARAMETER);
    /* 6. empty and 10 KB names, and names with bad characters */
    step = "garbage: names";
    {
        char *longname = malloc(10241);
        memset(longname, 'a', 10240);
        longname[10240] = '\0';
        assert_int_equal(clus_open(c, "", "dummy", NULL, 0, false, NULL), CLUS_E_INVALID_PARAMETER);
        assert_int_equal(clus_open(c, longname, "dummy", NULL, 0, false, NULL),
                         CLUS_E_INVALID_PARAMETER);
        assert_int_equal(clus_online(c, longname, 0, true, NULL), CLUS_E_INVALID_PARAMETER);
        assert_int_equal(clus_state(c, "../etc", NULL), CLUS_E_INVALID_PARAMETER);
        assert_int_equal(clus_terminate(c, "", NULL), CLUS_E_INVALID_PARAMETER);
        free(longname);
    }
    /* 7. bad parameters and watch bounds */
    step = "garbage: parameters";
    {
        const char *dup[] = {"a=1", "a=2", NULL};
        const char *badkey[] = {"9x=1", NULL};
        assert_int_equal(clus_open(c, "p", "dummy", dup, 0, false, NULL), CLUS_E_INVALID_PARAMETER);
        assert_int_equal(clus_open(c, "p", "dummy", badkey, 0, false, NULL),
                         CLUS_E_INVALID_PARAMETER);
        assert_int_equal(clus_lease(c, "", 5000, 0, NULL), CLUS_E_INVALID_PARAMETER);
        assert_int_equal(clus_watch(c, 0, 0, 999999, NULL, NULL), CLUS_E_INVALID_PARAMETER);
    }
    step = "garbage: closing the raw client";
    clus_rpc_client_close(rpc);
    /* still serving, nothing changed */
    step = "garbage: the fingerprint after";
    after = fingerprint(c);
    assert_string_equal(before, after);
    free(before);
    free(after);
    assert_int_equal(clus_close_resource(c, "keep", NULL), CLUS_OK);
    clus_client_close(c);
}

static void test_many_clients(void **state)
{
    /* 64 connections at once, each with a call: nothing is refused. */
    clus_client *cs[64];

    step = "64 clients";
    for (int i = 0; i < 64; i++)
        cs[i] = connect_or_fail();
    for (int i = 0; i < 64; i++) {
        assert_int_equal(clus_types(cs[i], NULL), CLUS_OK);
        clus_client_close(cs[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_call),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_many_clients),
    };

    signal(SIGALRM, watchdog_fired);
    alarm(120); /* the whole run takes about a second */
    return cmocka_run_group_tests(tests, start_agent, stop_agent);
}
