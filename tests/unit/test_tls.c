/*
 * test_tls.c - common/tls.c and the TLS side of the rpc server and client:
 * roles, identities (what a daemon refuses to start with), and a real
 * mutual-TLS round trip on 127.0.0.1 in which the server learns each
 * caller's CN and role and refuses a reader's Online. Certificates come
 * from scripts/pki.sh (skipped, 77, without openssl).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "rpc_client.h"
#include "rpc_server.h"
#include "status.h"
#include "tls.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char root[256], pki[300]; /* root/ca is the CA directory */

static const char *path_of(const char *name, const char *ext)
{
    static char paths[8][320];
    static int next;
    char *p = paths[next++ % 8];

    snprintf(p, sizeof(paths[0]), "%s/%s.%s", pki, name, ext);
    return p;
}

static clus_tls_files files_of(const char *name)
{
    return (clus_tls_files){path_of("ca", "crt"), path_of(name, "crt"), path_of(name, "key")};
}

/* The CA and certificates the tests use, made once. */
static int make_pki(void **state)
{
    char here[512], cmd[2048];

    (void)state;
    snprintf(here, sizeof(here), "%s", __FILE__);
    snprintf(root, sizeof(root), "/tmp/clus-test-tls.XXXXXX");
    if (mkdtemp(root) == NULL)
        return -1;
    snprintf(pki, sizeof(pki), "%s/ca", root);
    snprintf(cmd, sizeof(cmd),
             "P=%s/../../scripts/pki.sh; D=%s; bash $P init $D >/dev/null && "
             "bash $P issue $D n1 --role node >/dev/null && "
             "bash $P issue $D alice --role admin >/dev/null && "
             "bash $P issue $D rita --role reader >/dev/null && bash $P issue $D old --role admin "
             "--not-before 20200101000000Z --not-after 20200102000000Z >/dev/null",
             dirname(here), pki);
    return system(cmd) == 0 ? 0 : -1;
}

static int remove_pki(void **state)
{
    char cmd[300];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_roles(void **state)
{
    (void)state;
    assert_string_equal(clus_role_name(CLUS_ROLE_READER), "reader");
    assert_string_equal(clus_role_name(CLUS_ROLE_NONE), "none");
    assert_true(clus_role_allows(CLUS_ROLE_READER, true));
    assert_false(clus_role_allows(CLUS_ROLE_READER, false));
    assert_true(clus_role_allows(CLUS_ROLE_ADMIN, false));
    assert_true(clus_role_allows(CLUS_ROLE_NODE, false));
    assert_false(clus_role_allows(CLUS_ROLE_NONE, true));
    assert_true(clus_url_is_tls("tls+tcp://10.0.0.1:7700"));
    assert_false(clus_url_is_tls("tcp://127.0.0.1:7700"));
}

static void test_identities(void **state)
{
    clus_tls_identity *id = NULL;
    clus_tls_files f = files_of("n1"), bad;
    char err[512];

    (void)state;
    assert_int_equal(clus_tls_identity_load(&f, true, &id, err, sizeof(err)), CLUS_OK);
    assert_true(clus_tls_identity_has_cert(id));
    clus_tls_identity_free(id);

    f = files_of("alice"); /* a client certificate is no daemon's */
    assert_int_equal(clus_tls_identity_load(&f, true, &id, err, sizeof(err)), 87);
    assert_non_null(strstr(err, "an admin certificate: a daemon needs a node certificate"));
    assert_int_equal(clus_tls_identity_load(&f, false, &id, err, sizeof(err)), CLUS_OK);
    clus_tls_identity_free(id);

    bad = files_of("n1");
    bad.key = path_of("alice", "key");
    assert_int_equal(clus_tls_identity_load(&bad, false, &id, err, sizeof(err)), 87);
    assert_non_null(strstr(err, "does not belong"));

    bad = (clus_tls_files){path_of("ca", "crt"), NULL, NULL}; /* a client with none */
    assert_int_equal(clus_tls_identity_load(&bad, false, &id, err, sizeof(err)), CLUS_OK);
    assert_false(clus_tls_identity_has_cert(id));
    clus_tls_identity_free(id);
    assert_int_equal(clus_tls_identity_load(&bad, true, &id, err, sizeof(err)), 87);

    bad = (clus_tls_files){path_of("nosuch", "crt"), NULL, NULL};
    assert_int_equal(clus_tls_identity_load(&bad, false, &id, err, sizeof(err)), 87);
    assert_non_null(strstr(err, "cannot read the CA file"));
    bad = (clus_tls_files){path_of("n1", "key"), NULL, NULL}; /* a key is no CA */
    assert_int_equal(clus_tls_identity_load(&bad, false, &id, err, sizeof(err)), 87);
    assert_non_null(strstr(err, "not a PEM certificate"));
}

/* ------------------------------------------------------------ round trip */

/* The server's fast handler answers every call it is given with the
 * caller's role and CN (the decoding server refused the others already). */
static bool echo_peer(void *arg, clus_rpc_call *call)
{
    const clus_tls_peer *p = clus_rpc_call_peer(call);

    (void)arg;
    clus_rpc_reply_status(call, CLUS_OK, "%s %s %d", clus_role_name(p->role), p->cn, p->tls);
    return true;
}

static void never(void *arg, clus_rpc_call *call)
{
    (void)arg;
    clus_rpc_reply_status(call, CLUS_E_GEN_FAILURE, "not reached");
}

static uint32_t call_as(const char *url, const char *who, int call_case, Clus__V1__Response **resp,
                        char *err, size_t errlen)
{
    clus_tls_files f = files_of(who);
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
    Clus__V1__AgentStatusCall status = CLUS__V1__AGENT_STATUS_CALL__INIT;
    Clus__V1__OnlineCall online = CLUS__V1__ONLINE_CALL__INIT;
    clus_rpc_client *client;
    uint32_t st = clus_rpc_client_open_tls(url, 5000, &f, &client, err, errlen);

    if (st != CLUS_OK)
        return st;
    req.call_case = call_case;
    if (call_case == CLUS__V1__REQUEST__CALL_STATUS) {
        req.status = &status;
    } else {
        online.resource = "web";
        req.online = &online;
    }
    st = clus_rpc_client_call(client, &req, resp, 5000, err, errlen);
    clus_rpc_client_close(client);
    return st;
}

static void test_round_trip(void **state)
{
    clus_tls_files f = files_of("n1");
    clus_tls_identity *id;
    clus_rpc_server *server = NULL;
    Clus__V1__Response *resp = NULL;
    uv_loop_t loop;
    char url[64], err[768];
    uint32_t st = CLUS_E_BUSY;

    (void)state;
    assert_int_equal(clus_tls_identity_load(&f, true, &id, err, sizeof(err)), CLUS_OK);
    uv_loop_init(&loop);
    for (int i = 0; i < 20 && st == CLUS_E_BUSY; i++) {
        clus_rpc_server_config config = {
            .url = url, .contexts = 4, .fast = echo_peer, .slow = never, .tls = id};
        snprintf(url, sizeof(url), "tls+tcp://127.0.0.1:%d", 20000 + rand() % 10000);
        st = clus_rpc_server_start(&loop, &config, &server, err, sizeof(err));
    }
    assert_int_equal(st, CLUS_OK);

    assert_int_equal(call_as(url, "alice", CLUS__V1__REQUEST__CALL_ONLINE, &resp, err, sizeof(err)),
                     CLUS_OK);
    assert_string_equal(resp->message, "admin alice 1");
    clus__v1__response__free_unpacked(resp, NULL);

    assert_int_equal(call_as(url, "rita", CLUS__V1__REQUEST__CALL_STATUS, &resp, err, sizeof(err)),
                     CLUS_OK);
    assert_string_equal(resp->message, "reader rita 1");
    clus__v1__response__free_unpacked(resp, NULL);

    assert_int_equal(call_as(url, "rita", CLUS__V1__REQUEST__CALL_ONLINE, &resp, err, sizeof(err)),
                     CLUS_OK);
    assert_int_equal(resp->status, CLUS_E_ACCESS_DENIED);
    assert_non_null(strstr(resp->message, "online needs an admin certificate"));
    clus__v1__response__free_unpacked(resp, NULL);

    /* Refused at the handshake: 5051 and the reason. */
    assert_int_equal(call_as(url, "old", CLUS__V1__REQUEST__CALL_STATUS, &resp, err, sizeof(err)),
                     CLUS_E_CLUSTER_NODE_UNREACHABLE);
    /* Client and server share this process, so the sentence is the client's
     * ("certificate expired") or the server's ("... validity has expired"). */
    if (strstr(err, "expired") == NULL)
        fail_msg("expected a refusal for an expired certificate, got: %s", err);

    clus_rpc_server_stop(server);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    clus_tls_identity_free(id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_identities),
        cmocka_unit_test(test_round_trip),
    };

    if (system("command -v openssl >/dev/null 2>&1") != 0) {
        printf("SKIP: openssl is not installed (scripts/pki.sh needs it)\n");
        return 77;
    }
    return cmocka_run_group_tests(tests, make_pki, remove_pki);
}
