/*
 * test_ocf.c - the pure parts of the `ocf` type: the exit-code table,
 * durations, meta-data parsing (valid, invalid XML, hostile), parameters
 * against meta-data (unknown, missing required, timeouts), the environment,
 * agent names and paths, bounded output capture.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "status.h"
#include "types/ocf_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ exit codes */

static void test_code_table(void **state)
{
    static const struct {
        int rc;
        const char *name;
        uint32_t status;
    } want[] = {{0, "OCF_SUCCESS", 0},           {1, "OCF_ERR_GENERIC", 31},
                {2, "OCF_ERR_ARGS", 87},         {3, "OCF_ERR_UNIMPLEMENTED", 50},
                {4, "OCF_ERR_PERM", 5},          {5, "OCF_ERR_INSTALLED", 2},
                {6, "OCF_ERR_CONFIGURED", 1168}, {7, "OCF_NOT_RUNNING", 5004},
                {8, "OCF_RUNNING_MASTER", 5019}, {9, "OCF_FAILED_MASTER", 5038}};

    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const struct ocf_code *c = ocf_code_lookup(want[i].rc);
        assert_string_equal(c->name, want[i].name);
        assert_int_equal(c->status, want[i].status);
        for (size_t j = 1; j < i; j++) /* the error codes 1..9 map to distinct codes */
            assert_int_not_equal(ocf_code_lookup(want[j].rc)->status, c->status);
    }
    assert_int_equal(ocf_code_lookup(0)->health, OCF_HEALTH_RUNNING);
    assert_int_equal(ocf_code_lookup(7)->health, OCF_HEALTH_NOT_RUNNING);
    assert_int_equal(ocf_code_lookup(8)->health, OCF_HEALTH_RUNNING);
    assert_int_equal(ocf_code_lookup(190)->health, OCF_HEALTH_RUNNING);
    assert_int_equal(ocf_code_lookup(1)->health, OCF_HEALTH_FAILED);
    assert_string_equal(ocf_code_lookup(42)->name, "OCF_UNKNOWN");
    assert_int_equal(ocf_code_lookup(42)->status, CLUS_E_GEN_FAILURE);
    assert_int_equal(ocf_code_lookup(-1)->health, OCF_HEALTH_FAILED);
}

static void test_result_status(void **state)
{
    struct ocf_result r = {.rc = 6};
    char text[200];

    assert_int_equal(ocf_result_status(&r), CLUS_E_NOT_FOUND);
    ocf_result_describe(&r, 1000, text, sizeof(text));
    assert_non_null(strstr(text, "exit 6 (OCF_ERR_CONFIGURED"));
    r = (struct ocf_result){.rc = -1, .timed_out = true};
    assert_int_equal(ocf_result_status(&r), CLUS_E_TIMEOUT);
    ocf_result_describe(&r, 1500, text, sizeof(text));
    assert_non_null(strstr(text, "timed out after 1500 ms"));
    r = (struct ocf_result){.rc = -1, .signal = 9};
    assert_int_equal(ocf_result_status(&r), CLUS_E_OPERATION_ABORTED);
    r = (struct ocf_result){.rc = -1, .spawn_status = CLUS_E_ACCESS_DENIED};
    assert_int_equal(ocf_result_status(&r), CLUS_E_ACCESS_DENIED);
    r = (struct ocf_result){.rc = -1, .overflow = true};
    assert_int_equal(ocf_result_status(&r), CLUS_E_INSUFFICIENT_BUFFER);
    r = (struct ocf_result){.rc = 0};
    assert_int_equal(ocf_result_status(&r), CLUS_OK);
}

static void test_duration(void **state)
{
    static const struct {
        const char *text;
        uint32_t ms;
    } good[] = {{"20s", 20000},   {"20", 20000},     {"500ms", 500},   {"2min", 120000},
                {"2m", 120000},   {"1h", 3600000},   {" 5sec ", 5000}, {"0", 0},
                {"1hr", 3600000}, {"24h", 86400000}, {"250msec", 250}};
    static const char *const bad[] = {"", "s", "-1", "1.5s", "10x", "25h", "99999999999", "5 s"};
    uint32_t ms;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_true(ocf_duration_ms(good[i].text, &ms));
        assert_int_equal(ms, good[i].ms);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(ocf_duration_ms(bad[i], &ms));
}

/* ------------------------------------------------------------ meta-data */

static const char dummy_like[] =
    "<?xml version=\"1.0\"?>\n<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">\n"
    "<resource-agent name=\"Dummy\" version=\"1.0\">\n<version>1.0</version>\n"
    "<shortdesc lang=\"en\">  Example agent\n</shortdesc>\n<parameters>\n"
    "<parameter name=\"state\" unique=\"1\"><content type=\"string\" default=\"/run/x.state\"/>"
    "</parameter>\n<parameter name=\"fake\" unique=\"0\"><content type=\"string\"/></parameter>\n"
    "<parameter name=\"must\" required=\"1\"><content type=\"integer\" "
    "default=\"3\"/></parameter>\n"
    "</parameters>\n<actions>\n<action name=\"start\" timeout=\"10s\"/>\n"
    "<action name=\"monitor\" timeout=\"20s\" interval=\"2s\" depth=\"0\"/>\n"
    "<action name=\"monitor\" timeout=\"40s\" interval=\"60s\" depth=\"10\"/>\n"
    "<action name=\"validate-all\" timeout=\"30s\"/>\n<action name=\"reload\" timeout=\"bogus\"/>\n"
    "</actions>\n</resource-agent>\n";

static void test_meta_valid(void **state)
{
    struct ocf_meta *m;
    char err[300];
    const struct ocf_meta_param *p;
    const struct ocf_meta_action *a;

    assert_int_equal(ocf_meta_parse(dummy_like, strlen(dummy_like), &m, err, sizeof(err)), 0);
    assert_string_equal(m->name, "Dummy");
    assert_string_equal(m->version, "1.0");
    assert_string_equal(m->shortdesc, "Example agent");
    assert_int_equal(m->n_params, 3);
    p = ocf_meta_param(m, "state");
    assert_non_null(p);
    assert_true(p->unique);
    assert_false(p->required);
    assert_string_equal(p->default_value, "/run/x.state");
    assert_string_equal(p->type, "string");
    p = ocf_meta_param(m, "must");
    assert_true(p->required);
    assert_null(ocf_meta_param(m, "fake")->default_value);
    assert_null(ocf_meta_param(m, "nope"));
    assert_int_equal(ocf_meta_action(m, "start", -1)->timeout_ms, 10000);
    a = ocf_meta_action(m, "monitor", 10);
    assert_int_equal(a->timeout_ms, 40000);
    assert_int_equal(a->interval_ms, 60000);
    assert_int_equal(ocf_meta_action(m, "monitor", -1)->depth, 0);
    assert_int_equal(ocf_meta_action(m, "monitor", 0)->interval_ms, 2000);
    assert_int_equal(ocf_meta_action(m, "reload", -1)->timeout_ms, 0); /* a hint that is no good */
    assert_null(ocf_meta_action(m, "stop", -1));
    ocf_meta_free(m);
}

static void expect_meta_error(const char *xml, size_t len, uint32_t status, const char *words)
{
    struct ocf_meta *m = (struct ocf_meta *)1;
    char err[300] = "";

    assert_int_equal(ocf_meta_parse(xml, len, &m, err, sizeof(err)), status);
    assert_null(m);
    if (strstr(err, words) == NULL)
        fail_msg("error '%s' lacks '%s'", err, words);
}

static void test_meta_invalid(void **state)
{
    const char *broken = "<?xml version=\"1.0\"?>\n<resource-agent name=\"x\"><parameters>\n";
    const char *nameless = "<resource-agent><parameters><parameter/></parameters></resource-agent>";
    char *big;

    expect_meta_error(broken, strlen(broken), CLUS_E_REVISION_MISMATCH, "not valid XML (line");
    expect_meta_error("", 0, CLUS_E_REVISION_MISMATCH, "not valid XML");
    expect_meta_error("<other/>", 8, CLUS_E_REVISION_MISMATCH, "not <resource-agent>");
    expect_meta_error(nameless, strlen(nameless), CLUS_E_REVISION_MISMATCH, "has no name");
    expect_meta_error("\x01\x02garbage", 9, CLUS_E_REVISION_MISMATCH, "not valid XML");
    big = malloc(OCF_META_MAX + 2);
    memset(big, ' ', OCF_META_MAX + 1);
    expect_meta_error(big, OCF_META_MAX + 1, CLUS_E_INSUFFICIENT_BUFFER, "more than");
    free(big);
}

/* Hostile documents end quickly, without the network, one way or the other. */
static void test_meta_hostile(void **state)
{
    const char *laughs =
        "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\">"
        "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
        "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">"
        "<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">"
        "<!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">"
        "<!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">"
        "<!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">]>"
        "<resource-agent name=\"x\"><shortdesc>&g;</shortdesc><parameters>"
        "<parameter name=\"p\"><content default=\"&g;\"/></parameter></parameters>"
        "</resource-agent>";
    const char *external = "<?xml version=\"1.0\"?><!DOCTYPE resource-agent SYSTEM "
                           "\"http://192.0.2.1/ra-api-1.dtd\"><resource-agent name=\"x\"/>";
    struct ocf_meta *m = NULL;
    char err[300];
    time_t start = time(NULL);
    uint32_t status = ocf_meta_parse(laughs, strlen(laughs), &m, err, sizeof(err));

    if (status == CLUS_OK) { /* then whatever was kept is bounded */
        assert_true(m->shortdesc == NULL || strlen(m->shortdesc) <= 4096);
        assert_true(m->params[0].default_value == NULL ||
                    strlen(m->params[0].default_value) <= 4096);
        ocf_meta_free(m);
    }
    assert_true(time(NULL) - start < 5);
    assert_int_equal(ocf_meta_parse(external, strlen(external), &m, err, sizeof(err)), 0);
    assert_string_equal(m->name, "x");
    ocf_meta_free(m);
}

/* ------------------------------------------------------------ parameters */

static uint32_t parse(struct ocf_config *cfg, char *err, size_t errlen, int n, ...)
{
    clus_param items[16];
    clus_params list = {items, (size_t)n};
    va_list ap;

    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        items[i].key = va_arg(ap, const char *);
        items[i].value = va_arg(ap, const char *);
    }
    va_end(ap);
    return ocf_config_parse(&list, cfg, err, errlen);
}

static void expect_parse_error(uint32_t status, const char *words, int n, ...)
{
    struct ocf_config cfg;
    char err[400] = "";
    clus_param items[16];
    clus_params list = {items, (size_t)n};
    va_list ap;

    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        items[i].key = va_arg(ap, const char *);
        items[i].value = va_arg(ap, const char *);
    }
    va_end(ap);
    assert_int_equal(ocf_config_parse(&list, &cfg, err, sizeof(err)), status);
    if (strstr(err, words) == NULL)
        fail_msg("error '%s' lacks '%s'", err, words);
    ocf_config_free(&cfg);
}

static void test_config_parse(void **state)
{
    struct ocf_config cfg;
    char err[400];

    unsetenv("OCF_ROOT");
    assert_int_equal(parse(&cfg, err, sizeof(err), 5, "agent", "heartbeat:Dummy", "state", "/tmp/s",
                           "OCF_RESKEY_agent", "mine", "start_timeout_ms", "1500", "check_level",
                           "20"),
                     0);
    assert_string_equal(cfg.provider, "heartbeat");
    assert_string_equal(cfg.type, "Dummy");
    assert_string_equal(cfg.agent, "heartbeat:Dummy");
    assert_string_equal(cfg.root, OCF_DEFAULT_ROOT);
    assert_int_equal(cfg.n_reskeys, 2);
    assert_string_equal(ocf_config_reskey(&cfg, "state"), "/tmp/s");
    assert_string_equal(ocf_config_reskey(&cfg, "agent"), "mine"); /* the escape for our names */
    assert_true(cfg.timeout_given[OCF_T_START]);
    assert_int_equal(cfg.timeout_ms[OCF_T_START], 1500);
    assert_int_equal(cfg.check_level, 20);
    ocf_config_free(&cfg);

    expect_parse_error(87, "agent (provider:type", 1, "state", "x");
    expect_parse_error(87, "'..'", 1, "agent", "../../../bin:sh");
    expect_parse_error(87, "'..'", 1, "agent", "heartbeat:..");
    expect_parse_error(87, "'/'", 1, "agent", "heartbeat:/bin/sh");
    expect_parse_error(87, "not of the form", 1, "agent", "Dummy");
    expect_parse_error(87, "provider and type", 1, "agent", ":Dummy");
    expect_parse_error(87, "provider and type", 1, "agent", "heartbeat:a:b");
    expect_parse_error(87, "provider and type", 1, "agent", ".hidden:x");
    expect_parse_error(87, "absolute path", 2, "agent", "a:b", "ocf_root", "relative/ocf");
    expect_parse_error(87, "'..'", 2, "agent", "a:b", "ocf_root", "/usr/lib/../lib/ocf");
    expect_parse_error(2, "not a directory", 2, "agent", "a:b", "ocf_root", "/nonexistent/ocf");
    expect_parse_error(87, "milliseconds", 2, "agent", "a:b", "stop_timeout_ms", "50");
    expect_parse_error(87, "milliseconds", 2, "agent", "a:b", "monitor_timeout_ms", "abc");
    expect_parse_error(87, "at most 10000", 2, "agent", "a:b", "validate_timeout_ms", "20000");
    expect_parse_error(87, "OCF_CHECK_LEVEL", 2, "agent", "a:b", "check_level", "2000");
    expect_parse_error(87, "given twice", 3, "agent", "a:b", "x", "1", "OCF_RESKEY_x", "2");
    expect_parse_error(87, "A-Z a-z 0-9 _", 2, "agent", "a:b", "a.b", "1");
    expect_parse_error(87, "A-Z a-z 0-9 _", 2, "agent", "a:b", "OCF_RESKEY_", "1");
}

static void test_config_meta(void **state)
{
    struct ocf_config cfg;
    struct ocf_meta *m;
    char err[400];

    assert_int_equal(ocf_meta_parse(dummy_like, strlen(dummy_like), &m, err, sizeof(err)), 0);
    assert_int_equal(parse(&cfg, err, sizeof(err), 2, "agent", "heartbeat:Dummy", "fake", "1"), 0);
    assert_int_equal(ocf_config_apply_meta(&cfg, m, err, sizeof(err)), 87);
    assert_non_null(strstr(err, "requires parameter 'must'"));
    ocf_config_free(&cfg);
    assert_int_equal(
        parse(&cfg, err, sizeof(err), 3, "agent", "heartbeat:Dummy", "must", "1", "typo", "2"), 0);
    assert_int_equal(ocf_config_apply_meta(&cfg, m, err, sizeof(err)), 87);
    assert_non_null(strstr(err, "has no parameter 'typo'"));
    ocf_config_free(&cfg);
    assert_int_equal(parse(&cfg, err, sizeof(err), 3, "agent", "heartbeat:Dummy", "must", "1",
                           "stop_timeout_ms", "60000"),
                     0);
    assert_int_equal(ocf_config_apply_meta(&cfg, m, err, sizeof(err)), 0);
    assert_int_equal(cfg.timeout_ms[OCF_T_START], 10000);              /* advertised */
    assert_int_equal(cfg.timeout_ms[OCF_T_STOP], 60000);               /* given */
    assert_int_equal(cfg.timeout_ms[OCF_T_MONITOR], 20000);            /* the shallowest monitor */
    assert_int_equal(cfg.timeout_ms[OCF_T_VALIDATE], OCF_SYNC_MAX_MS); /* 30 s, bounded */
    assert_int_equal(cfg.timeout_ms[OCF_T_TERMINATE], OCF_TERMINATE_STOP_MS);
    assert_int_equal(cfg.interval_ms, 2000); /* the agent's, shorter than our default */
    assert_int_equal(cfg.check_level, OCF_DEFAULT_CHECK_LEVEL);
    ocf_config_free(&cfg);
    ocf_meta_free(m);
}

/* ------------------------------------------------------------ environment */

static void test_env(void **state)
{
    struct ocf_identity id = {"/usr/lib/ocf", "heartbeat", "Dummy", "web1", "/var/lib/clus/web1"};
    clus_param keys[] = {{"state", "/tmp/x y"}, {"fake", "a=b"}};
    clus_params reskeys = {keys, 2};
    struct ocf_env env, copy;

    assert_int_equal(ocf_env_base(&env, &id, &reskeys), 0);
    assert_string_equal(ocf_env_get(&env, "OCF_ROOT"), "/usr/lib/ocf");
    assert_string_equal(ocf_env_get(&env, "OCF_FUNCTIONS_DIR"), "/usr/lib/ocf/lib/heartbeat");
    assert_string_equal(ocf_env_get(&env, "OCF_RESOURCE_INSTANCE"), "web1");
    assert_string_equal(ocf_env_get(&env, "OCF_RESOURCE_TYPE"), "Dummy");
    assert_string_equal(ocf_env_get(&env, "OCF_RESOURCE_PROVIDER"), "heartbeat");
    assert_string_equal(ocf_env_get(&env, "OCF_RA_VERSION_MAJOR"), "1");
    assert_string_equal(ocf_env_get(&env, "HA_RSCTMP"), "/var/lib/clus/web1");
    assert_string_equal(ocf_env_get(&env, "HA_LOGFACILITY"), "none");
    assert_string_equal(ocf_env_get(&env, "HA_debug"), "0");
    assert_non_null(strstr(ocf_env_get(&env, "PATH"), "/usr/sbin"));
    assert_string_equal(ocf_env_get(&env, "OCF_RESKEY_state"), "/tmp/x y");
    assert_string_equal(ocf_env_get(&env, "OCF_RESKEY_fake"), "a=b");
    assert_null(ocf_env_get(&env, "OCF_CHECK_LEVEL"));
    assert_null(ocf_env_get(&env, "OCF_RESKEY"));
    assert_int_equal(ocf_env_copy(&copy, &env), 0);
    ocf_env_action(&copy, 20000, 5000, 10);
    assert_string_equal(ocf_env_get(&copy, "OCF_RESKEY_CRM_meta_timeout"), "20000");
    assert_string_equal(ocf_env_get(&copy, "OCF_RESKEY_CRM_meta_interval"), "5000");
    assert_string_equal(ocf_env_get(&copy, "OCF_CHECK_LEVEL"), "10");
    ocf_env_action(&copy, 100, 0, 0); /* replaced, not added */
    assert_string_equal(ocf_env_get(&copy, "OCF_RESKEY_CRM_meta_timeout"), "100");
    assert_string_equal(ocf_env_get(&copy, "OCF_CHECK_LEVEL"), "0");
    assert_int_equal(copy.count, env.count + 3);
    assert_null(copy.vars[copy.count]);
    assert_null(ocf_env_get(&env, "OCF_RESKEY_CRM_meta_timeout")); /* the base is untouched */
    ocf_env_free(&copy);
    ocf_env_free(&env);
    id.instance = NULL; /* meta-data */
    id.state_dir = NULL;
    assert_int_equal(ocf_env_base(&env, &id, NULL), 0);
    assert_null(ocf_env_get(&env, "OCF_RESOURCE_INSTANCE"));
    assert_null(ocf_env_get(&env, "HA_RSCTMP"));
    ocf_env_free(&env);
}

/* ------------------------------------------------------------ paths */

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

struct seen {
    char names[8][80];
    int n;
};

static void seen_agent(void *arg, const char *provider, const char *type, const char *path)
{
    struct seen *s = arg;

    if (s->n < 8)
        snprintf(s->names[s->n++], sizeof(s->names[0]), "%s:%s", provider, type);
}

static void test_paths(void **state)
{
    char root[] = "/tmp/test_ocf.XXXXXX", dir[256], file[300], path[OCF_PATH_MAX], err[400];
    char provider[OCF_PART_MAX + 1], type[OCF_PART_MAX + 1];
    struct seen seen = {0};

    assert_true(ocf_part_valid("heartbeat"));
    assert_true(ocf_part_valid("LVM-activate"));
    assert_true(ocf_part_valid("a_b.c+d"));
    assert_false(ocf_part_valid(""));
    assert_false(ocf_part_valid(".."));
    assert_false(ocf_part_valid("."));
    assert_false(ocf_part_valid("a..b"));
    assert_false(ocf_part_valid("-x"));
    assert_false(ocf_part_valid("a/b"));
    assert_false(ocf_part_valid("a b"));
    assert_int_equal(ocf_agent_split("heartbeat:IPaddr2", provider, type, err, sizeof(err)), 0);
    assert_string_equal(provider, "heartbeat");
    assert_string_equal(type, "IPaddr2");

    assert_non_null(mkdtemp(root));
    assert_int_equal(ocf_root_check(root, err, sizeof(err)), 0);
    assert_int_equal(ocf_root_check("/", err, sizeof(err)), 0);
    snprintf(dir, sizeof(dir), "%s/resource.d", root);
    mkdir(dir, 0755);
    snprintf(dir, sizeof(dir), "%s/resource.d/prov", root);
    mkdir(dir, 0755);
    snprintf(file, sizeof(file), "%s/Good", dir);
    write_file(file, "#!/bin/sh\nexit 0\n", 0755);
    snprintf(file, sizeof(file), "%s/Also", dir);
    write_file(file, "#!/bin/sh\nexit 0\n", 0755);
    snprintf(file, sizeof(file), "%s/NoExec", dir);
    write_file(file, "#!/bin/sh\nexit 0\n", 0644);
    snprintf(file, sizeof(file), "%s/Dir", dir);
    mkdir(file, 0755);
    assert_int_equal(ocf_agent_resolve(root, "prov", "Good", path, err, sizeof(err)), 0);
    assert_non_null(strstr(path, "/resource.d/prov/Good"));
    assert_int_equal(ocf_agent_resolve(root, "prov", "NoExec", path, err, sizeof(err)), 5);
    assert_non_null(strstr(err, "not an executable file"));
    assert_int_equal(ocf_agent_resolve(root, "prov", "Dir", path, err, sizeof(err)), 5);
    assert_int_equal(ocf_agent_resolve(root, "prov", "Missing", path, err, sizeof(err)), 2);
    assert_non_null(strstr(err, "no OCF agent prov:Missing"));
    assert_int_equal(ocf_agent_resolve(root, "..", "x", path, err, sizeof(err)), 87);
    assert_int_equal(ocf_agents_each(root, 100, seen_agent, &seen), 2);
    assert_string_equal(seen.names[0], "prov:Also"); /* in name order */
    assert_string_equal(seen.names[1], "prov:Good");
    assert_int_equal(ocf_agents_each(root, 1, seen_agent, &seen), 1);
    assert_int_equal(ocf_agents_each("/nonexistent", 100, seen_agent, &seen), 0);
    setenv("OCF_ROOT", root, 1);
    assert_string_equal(ocf_default_root(), root);
    setenv("OCF_ROOT", "relative", 1);
    assert_string_equal(ocf_default_root(), OCF_DEFAULT_ROOT);
    unsetenv("OCF_ROOT");
    snprintf(dir, sizeof(dir), "rm -rf '%s'", root);
    assert_int_equal(system(dir), 0);
}

/* ------------------------------------------------------------ output */

struct lines {
    int n;
    char first[OCF_LOG_LINE_MAX + 8], last[OCF_LOG_LINE_MAX + 8];
};

static void count_line(void *arg, const char *line)
{
    struct lines *l = arg;

    if (l->n++ == 0)
        snprintf(l->first, sizeof(l->first), "%s", line);
    snprintf(l->last, sizeof(l->last), "%s", line);
}

static void test_capture(void **state)
{
    struct ocf_capture cap;
    struct lines lines = {0};
    char reason[64], big[1000];

    ocf_capture_init(&cap, 10);
    ocf_capture_add(&cap, "hello\nworld\n", 12);
    assert_int_equal(cap.len, 10);
    assert_int_equal(cap.dropped, 2);
    assert_string_equal(cap.buf, "hello\nworl");
    assert_int_equal(ocf_capture_lines(&cap, count_line, &lines), 0);
    assert_int_equal(lines.n, 2);
    assert_string_equal(lines.last, "worl");
    ocf_capture_free(&cap);

    ocf_capture_init(&cap, 100000);
    memset(big, 'x', sizeof(big));
    ocf_capture_add(&cap, "a\x01\x1b[31m\tb\n", 10);
    ocf_capture_add(&cap, big, sizeof(big));
    ocf_capture_add(&cap, "\n", 1);
    for (int i = 0; i < 300; i++)
        ocf_capture_add(&cap, "l\n", 2);
    lines.n = 0;
    assert_int_equal(ocf_capture_lines(&cap, count_line, &lines), 302 - OCF_LOG_LINES_MAX);
    assert_int_equal(lines.n, OCF_LOG_LINES_MAX);
    assert_string_equal(lines.first, "a??[31m\tb"); /* control bytes shown as '?' */
    ocf_capture_free(&cap);

    ocf_capture_init(&cap, 1000);
    ocf_exit_reason(&cap, reason, sizeof(reason));
    assert_string_equal(reason, "");
    ocf_capture_add(&cap, "noise ocf-exit-reason:not at a line start\n", 42);
    ocf_exit_reason(&cap, reason, sizeof(reason));
    assert_string_equal(reason, "");
    ocf_capture_add(&cap, "ocf-exit-reason:first\nINFO: x\nocf-exit-reason:the last one\n", 59);
    ocf_exit_reason(&cap, reason, sizeof(reason));
    assert_string_equal(reason, "the last one");
    ocf_exit_reason(&cap, reason, 5);
    assert_string_equal(reason, "the ");
    ocf_exit_reason(NULL, reason, sizeof(reason));
    assert_string_equal(reason, "");
    ocf_capture_free(&cap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_code_table),   cmocka_unit_test(test_result_status),
        cmocka_unit_test(test_duration),     cmocka_unit_test(test_meta_valid),
        cmocka_unit_test(test_meta_invalid), cmocka_unit_test(test_meta_hostile),
        cmocka_unit_test(test_config_parse), cmocka_unit_test(test_config_meta),
        cmocka_unit_test(test_env),          cmocka_unit_test(test_paths),
        cmocka_unit_test(test_capture),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
