/*
 * test_clusterdef.c - the cluster definition loader (common/clusterdef.h):
 * the example, defaults, per-node parameters, and every kind of bad
 * input with the line it is reported on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "clusterdef.h"
#include "status.h"

static const char example[] = "lease_ms: 3000\n"
                              "nodes:\n"
                              "  - name: n1\n"
                              "    agent: tcp://127.0.0.1:7711\n"
                              "  - name: n2\n"
                              "    agent: tcp://127.0.0.1:7712\n"
                              "resources:\n"
                              "  - name: web\n"
                              "    type: dummy\n"
                              "    params: { online_delay_ms: 0 }\n"
                              "    possible_owners: [n1, n2]\n"
                              "    preferred_owners: [n1, n2]\n"
                              "    policy: { restart_threshold: 1, restart_delay_ms: 0, "
                              "looks_alive_ms: 5000 }\n"
                              "    node_params: { n2: { fail_online: true } }   # per-node\n";

static const char nodes3[] = "nodes:\n"
                             "  - name: n1\n"
                             "    agent: tcp://127.0.0.1:7711\n"
                             "  - name: n2\n"
                             "    agent: tcp://127.0.0.1:7712\n"
                             "  - name: n3\n"
                             "    agent: tcp://127.0.0.1:7713\n";

/* Parses nodes3 + extra (starting on line 8). */
static uint32_t parse_with_nodes(const char *extra, clus_clusterdef **def, char *err, size_t errlen)
{
    char text[4096];

    snprintf(text, sizeof(text), "%s%s", nodes3, extra);
    return clus_clusterdef_parse(text, strlen(text), "c.yaml", def, err, errlen);
}

/* Expects extra to be refused with an error that names `where` and holds
 * `what`. */
static void refused(const char *extra, const char *where, const char *what)
{
    clus_clusterdef *def = (clus_clusterdef *)1;
    char err[512] = "";
    uint32_t status = parse_with_nodes(extra, &def, err, sizeof(err));

    if (status != CLUS_E_INVALID_PARAMETER || strstr(err, where) == NULL ||
        strstr(err, what) == NULL)
        fail_msg("wanted 87 with '%s' and '%s', got %u: %s", where, what, status, err);
    assert_null(def);
}

static void test_example(void **state)
{
    clus_clusterdef *def = NULL;
    char err[512] = "";
    const clus_def_resource *r;
    clus_param params[8];
    size_t n;

    (void)state;
    assert_int_equal(
        clus_clusterdef_parse(example, strlen(example), "ex.yaml", &def, err, sizeof(err)),
        CLUS_OK);
    assert_int_equal(def->lease_ms, 3000);
    assert_int_equal(def->renew_ms, 1000);
    assert_int_equal(def->lease_margin_ms, 1000); /* default: renew_ms */
    assert_int_equal(def->n_nodes, 2);
    assert_string_equal(def->nodes[1].agent, "tcp://127.0.0.1:7712");
    assert_int_equal(def->n_resources, 1);
    r = &def->resources[0];
    assert_string_equal(r->name, "web");
    assert_int_equal(r->policy.restart_threshold, 1);
    assert_int_equal(r->policy.restart_delay_ms, 0);
    assert_int_equal(r->policy.restart_action, 2); /* defaults of the model */
    assert_int_equal(r->policy.restart_period_ms, 900000);
    assert_int_equal(r->policy.retry_period_on_failure_ms, 3600000);
    assert_int_equal(r->policy.failover_threshold, 1); /* nodes - 1 */
    assert_int_equal(r->policy.failover_period_ms, 21600000);
    assert_int_equal(r->policy.pending_timeout_ms, 180000);
    assert_int_equal(r->policy.is_alive_ms, 60000);
    assert_false(r->policy.failback);
    assert_int_equal(r->n_preferred, 2);
    assert_int_equal(clus_clusterdef_node(def, "n2"), 1);
    assert_int_equal(clus_clusterdef_resource(def, "web"), 0);
    assert_int_equal(clus_clusterdef_resource(def, "nope"), -1);
    n = clus_def_params_for(r, 0, params, 8);
    assert_int_equal(n, 1);
    assert_string_equal(params[0].key, "online_delay_ms");
    n = clus_def_params_for(r, 1, params, 8);
    assert_int_equal(n, 2);
    assert_string_equal(params[1].key, "fail_online");
    assert_string_equal(params[1].value, "true");
    clus_clusterdef_free(def);
}

static void test_defaults_and_overrides(void **state)
{
    clus_clusterdef *def = NULL;
    char err[512] = "";
    clus_param params[8];
    size_t n;

    (void)state;
    assert_int_equal(parse_with_nodes("renew_ms: 300\n"
                                      "lease_ms: 1000\n"
                                      "plugin_types: [testplug]\n"
                                      "resources:\n"
                                      "  - name: p\n"
                                      "    type: testplug\n"
                                      "    params: { a: 1, b: x }\n"
                                      "    node_params: { n3: { b: y } }\n"
                                      "    policy: { retry_period_on_failure_ms: never,\n"
                                      "              failback: true, failback_window_start: 22,\n"
                                      "              failback_window_end: 3 }\n",
                                      &def, err, sizeof(err)),
                     CLUS_OK);
    assert_int_equal(def->lease_margin_ms, 300);
    assert_int_equal(def->resources[0].n_possible, 3); /* default: every node */
    assert_int_equal(def->resources[0].n_preferred, 3);
    assert_int_equal(def->resources[0].policy.failover_threshold, 2);
    assert_int_equal(def->resources[0].policy.retry_period_on_failure_ms, CLUS_POLICY_NEVER);
    assert_true(def->resources[0].policy.failback);
    assert_int_equal(def->resources[0].policy.failback_window_end, 3);
    n = clus_def_params_for(&def->resources[0], 2, params, 8);
    assert_int_equal(n, 2);
    assert_string_equal(params[0].key, "a");
    assert_string_equal(params[1].key, "b");
    assert_string_equal(params[1].value, "y"); /* replaced, not added */
    assert_true(clus_def_possible(&def->resources[0], 2));
    clus_clusterdef_free(def);
}

static void test_invalid_yaml(void **state)
{
    clus_clusterdef *def = NULL;
    char err[512] = "";
    const char *bad = "nodes:\n  - name: n1\n    agent: [tcp://x,\n  - name: n2\n";

    (void)state;
    assert_int_equal(clus_clusterdef_parse(bad, strlen(bad), "bad.yaml", &def, err, sizeof(err)),
                     CLUS_E_INVALID_PARAMETER);
    assert_null(def);
    assert_non_null(strstr(err, "bad.yaml:"));
    assert_non_null(strstr(err, "invalid YAML"));
    refused("  - oops\n  bad: [\n", "c.yaml:9", "invalid YAML");
    refused("  - oops\n\tbad: x\n", "c.yaml:9: column 1", "a tab"); /* libfyaml 0.7.12 */
    refused("lease_ms: 1\nlease_ms: 2\n", "c.yaml:9", "duplicate key");
}

static void test_top_level(void **state)
{
    clus_clusterdef *def = NULL;
    char err[512] = "";

    (void)state;
    assert_int_equal(clus_clusterdef_parse("- a\n", 4, "c.yaml", &def, err, sizeof(err)),
                     CLUS_E_INVALID_PARAMETER);
    assert_non_null(strstr(err, "top level must be a mapping"));
    assert_int_equal(
        clus_clusterdef_parse("lease_ms: 3000\n", 15, "c.yaml", &def, err, sizeof(err)),
        CLUS_E_INVALID_PARAMETER);
    assert_non_null(strstr(err, "no nodes"));
    refused("colour: blue\n", "c.yaml:8", "unknown key 'colour'");
}

static void test_bad_intervals(void **state)
{
    (void)state;
    refused("lease_ms: 0\n", "c.yaml:8", "lease_ms must be a whole number");
    refused("lease_ms: -3000\n", "c.yaml:8", "lease_ms must be a whole number");
    refused("renew_ms: 5000\n", "c.yaml:8", "renew_ms (5000) must be shorter than lease_ms");
    refused("lease_margin_ms: 0\n", "c.yaml:8", "lease_margin_ms");
    refused("resources:\n  - name: r\n    type: dummy\n    policy: { restart_period_ms: 0 }\n",
            "c.yaml:11", "restart_period_ms must be a whole number");
    refused("resources:\n  - name: r\n    type: dummy\n    policy:\n      looks_alive_ms: -5\n",
            "c.yaml:12", "looks_alive_ms");
    refused("resources:\n  - name: r\n    type: dummy\n    policy: { is_alive_ms: 0 }\n",
            "c.yaml:11", "is_alive_ms");
    refused("resources:\n  - name: r\n    type: dummy\n    policy: { failover_period_ms: 0 }\n",
            "c.yaml:11", "failover_period_ms");
    refused("resources:\n  - name: r\n    type: dummy\n    policy: { restart_action: 3 }\n",
            "c.yaml:11", "restart_action");
    refused("resources:\n  - name: r\n    type: dummy\n"
            "    policy: { restart_period_ms: 5000, retry_period_on_failure_ms: 1000 }\n",
            "c.yaml:11", "at least restart_period_ms");
    refused("resources:\n  - name: r\n    type: dummy\n    policy: { failback_window_start: 3 }\n",
            "c.yaml:11", "go together");
    refused("resources:\n  - name: r\n    type: dummy\n    policy: { colour: 1 }\n", "c.yaml:11",
            "unknown policy key");
}

static void test_bad_nodes(void **state)
{
    clus_clusterdef *def = NULL;
    char err[512] = "";
    const char *dup = "nodes:\n  - name: a\n    agent: tcp://127.0.0.1:1\n"
                      "  - name: a\n    agent: tcp://127.0.0.1:2\n";
    const char *url = "nodes:\n  - name: a\n    agent: http://x\n";
    const char *same = "nodes:\n  - name: a\n    agent: tcp://127.0.0.1:1\n"
                       "  - name: b\n    agent: tcp://127.0.0.1:1\n";
    const char *name = "nodes:\n  - name: 'bad name'\n    agent: tcp://127.0.0.1:1\n";

    (void)state;
    assert_int_equal(clus_clusterdef_parse(dup, strlen(dup), "c.yaml", &def, err, sizeof(err)),
                     CLUS_E_INVALID_PARAMETER);
    assert_non_null(strstr(err, "c.yaml:4: duplicate node name 'a' (first on line 2)"));
    assert_int_equal(clus_clusterdef_parse(url, strlen(url), "c.yaml", &def, err, sizeof(err)),
                     CLUS_E_INVALID_PARAMETER);
    assert_non_null(strstr(err, "c.yaml:3: agent must be a URL"));
    assert_int_equal(clus_clusterdef_parse(same, strlen(same), "c.yaml", &def, err, sizeof(err)),
                     CLUS_E_INVALID_PARAMETER);
    assert_non_null(strstr(err, "same agent URL"));
    assert_int_equal(clus_clusterdef_parse(name, strlen(name), "c.yaml", &def, err, sizeof(err)),
                     CLUS_E_INVALID_PARAMETER);
    assert_non_null(strstr(err, "c.yaml:2: node name 'bad name' is not valid"));
}

static void test_bad_resources(void **state)
{
    (void)state;
    refused("resources:\n  - name: r\n    type: nosuchtype\n", "c.yaml:10",
            "unknown resource type 'nosuchtype'");
    refused("resources:\n  - name: r\n    type: dummy\n  - name: r\n    type: dummy\n", "c.yaml:11",
            "duplicate resource name 'r' (first on line 9)");
    refused("resources:\n  - name: r\n    type: dummy\n    possible_owners: []\n", "c.yaml:11",
            "possible_owners is empty");
    refused("resources:\n  - name: r\n    type: dummy\n    possible_owners: [n1, n9]\n",
            "c.yaml:11", "unknown node 'n9'");
    refused("resources:\n  - name: r\n    type: dummy\n    possible_owners:\n      - n1\n"
            "      - n1\n",
            "c.yaml:13", "lists node n1 twice");
    refused("resources:\n  - name: r\n    type: dummy\n    possible_owners: [n1]\n"
            "    preferred_owners: [n2]\n",
            "c.yaml:12", "not among the possible owners");
    refused("resources:\n  - name: r\n    type: dummy\n    node_params: { n7: { a: 1 } }\n",
            "c.yaml:11", "unknown node 'n7'");
    refused("resources:\n  - name: r\n    type: dummy\n    possible_owners: [n1]\n"
            "    node_params: { n2: { a: 1 } }\n",
            "c.yaml:12", "not a possible owner");
    refused("resources:\n  - name: r\n    type: dummy\n    params: { looks_alive_ms: 5 }\n",
            "c.yaml:11", "belongs in the resource's policy");
    refused("resources:\n  - name: r\n    type: dummy\n    params: { 'bad key': 5 }\n", "c.yaml:11",
            "not a valid parameter name");
    refused("resources:\n  - name: r\n    type: dummy\n    params: [1, 2]\n", "c.yaml:11",
            "params must be a mapping");
    refused("resources:\n  - name: r\n", "c.yaml:9", "needs both name and type");
    refused("resources:\n  - name: r\n    type: dummy\n    size: 3\n", "c.yaml:11",
            "unknown resource key 'size'");
}

static void test_too_many_params(void **state)
{
    char text[8192] = "resources:\n  - name: r\n    type: dummy\n    params:\n";

    (void)state;
    for (int i = 0; i < CLUS_DEF_MAX_PARAMS + 1; i++) {
        char line[64];
        snprintf(line, sizeof(line), "      k%d: v\n", i);
        strcat(text, line);
    }
    refused(text, "c.yaml:11", "at most 61 parameters");
}

static void test_load_file(void **state)
{
    char path[] = "/tmp/clus-test-def-XXXXXX";
    int fd = mkstemp(path);
    clus_clusterdef *def = NULL;
    char err[512] = "";

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, example, strlen(example)), (ssize_t)strlen(example));
    close(fd);
    assert_int_equal(clus_clusterdef_load(path, &def, err, sizeof(err)), CLUS_OK);
    clus_clusterdef_free(def);
    unlink(path);
    assert_int_equal(clus_clusterdef_load(path, &def, err, sizeof(err)), CLUS_E_FILE_NOT_FOUND);
    assert_non_null(strstr(err, "cannot read it"));
    assert_null(def);
    assert_int_equal(clus_clusterdef_load("/tmp", &def, err, sizeof(err)),
                     CLUS_E_INVALID_PARAMETER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example),       cmocka_unit_test(test_defaults_and_overrides),
        cmocka_unit_test(test_invalid_yaml),  cmocka_unit_test(test_top_level),
        cmocka_unit_test(test_bad_intervals), cmocka_unit_test(test_bad_nodes),
        cmocka_unit_test(test_bad_resources), cmocka_unit_test(test_too_many_params),
        cmocka_unit_test(test_load_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
