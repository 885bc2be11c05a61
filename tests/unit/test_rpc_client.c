/* test_rpc_client.c - how long opening a connection may take, over real
 * loopback sockets: a refused port answers at once, an address that drops
 * connection requests answers after the bound instead of the kernel's two
 * minutes of SYN retries (also through libclus-client), and a background
 * dial returns at once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "clock.h"
#include "clus/client.h"
#include "rpc_client.h"
#include "status.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A listening socket on 127.0.0.1 with an ephemeral port. */
static int listen_loopback(int backlog, unsigned *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, backlog), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* A loopback port that drops connection requests: a listener that never
 * accepts, its accept queue (backlog 0) filled, so the kernel drops every
 * further SYN and the connecting side retries as it would towards a host
 * that is down. fill[] receives the connections that fill the queue. */
static int black_hole(unsigned *port, int fill[2])
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = listen_loopback(0, port);

    a.sin_port = htons((uint16_t)*port);
    for (int i = 0; i < 2; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assert_true(fill[i] >= 0);
        (void)connect(fill[i], (struct sockaddr *)&a, sizeof(a)); /* EINPROGRESS */
    }
    usleep(100 * 1000); /* the first handshake completes into the queue */
    return fd;
}

static void test_refused_at_once(void **state)
{
    clus_rpc_client *client = NULL;
    unsigned port;
    int fd = listen_loopback(1, &port);
    char url[64], err[512];
    uint64_t t0;

    (void)state;
    close(fd); /* nobody listens there now */
    snprintf(url, sizeof(url), "tcp://127.0.0.1:%u", port);
    t0 = clus_mono_ms();
    assert_int_equal(clus_rpc_client_open(url, 10000, &client, err, sizeof(err)),
                     CLUS_E_CLUSTER_NODE_UNREACHABLE);
    assert_true(clus_mono_ms() - t0 < 2000); /* not the 10 s bound */
    assert_null(client);
    assert_non_null(strstr(err, "refused"));
}

static void test_silent_address_bounded(void **state)
{
    clus_rpc_client *client = NULL;
    clus_client *c = NULL;
    unsigned port;
    int fill[2], fd = black_hole(&port, fill);
    char url[64], err[512];
    uint64_t t0, took;

    (void)state;
    snprintf(url, sizeof(url), "tcp://127.0.0.1:%u", port);
    t0 = clus_mono_ms();
    assert_int_equal(clus_rpc_client_open(url, 300, &client, err, sizeof(err)),
                     CLUS_E_CLUSTER_NODE_UNREACHABLE);
    took = clus_mono_ms() - t0;
    printf("open against a silent address, bound 300 ms: %llu ms: %s\n", (unsigned long long)took,
           err);
    assert_true(took >= 290);
    /* The bound, plus at most the close of the abandoned socket (itself
     * bounded at 5 s): far below the kernel's SYN retries. */
    assert_true(took < 6000);
    assert_null(client);
    assert_non_null(strstr(err, "no connection within 300 ms"));

    /* libclus-client (clusctl): the per-call timeout bounds the connect. */
    t0 = clus_mono_ms();
    assert_int_equal(
        clus_client_connect(url, &(clus_client_options){.timeout_ms = 400}, &c, err, sizeof(err)),
        CLUS_E_CLUSTER_NODE_UNREACHABLE);
    took = clus_mono_ms() - t0;
    assert_true(took >= 390 && took < 6000);
    assert_non_null(strstr(err, "no connection within 400 ms"));
    close(fill[0]);
    close(fill[1]);
    close(fd);
}

static void test_background_dial_returns_at_once(void **state)
{
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
    Clus__V1__AgentStatusCall status = CLUS__V1__AGENT_STATUS_CALL__INIT;
    Clus__V1__Response *resp = NULL;
    clus_rpc_client *client = NULL;
    unsigned port;
    int fill[2], fd = black_hole(&port, fill);
    char url[64], err[512];
    uint64_t t0;

    (void)state;
    snprintf(url, sizeof(url), "tcp://127.0.0.1:%u", port);
    t0 = clus_mono_ms();
    assert_int_equal(clus_rpc_client_open(url, 0, &client, err, sizeof(err)), CLUS_OK);
    assert_true(clus_mono_ms() - t0 < 1000);
    req.call_case = CLUS__V1__REQUEST__CALL_STATUS;
    req.status = &status;
    /* No connection ever came: the request was never sent. */
    assert_int_equal(clus_rpc_client_call(client, &req, &resp, 300, err, sizeof(err)),
                     CLUS_E_CLUSTER_NODE_UNREACHABLE);
    assert_null(resp);
    clus_rpc_client_close(client);
    close(fill[0]);
    close(fill[1]);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_at_once),
        cmocka_unit_test(test_silent_address_bounded),
        cmocka_unit_test(test_background_dial_returns_at_once),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
