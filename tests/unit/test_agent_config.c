/* test_agent_config.c - the agent's YAML file: keys, errors with lines. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "config.h"
#include "status.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *write_file(const char *text)
{
    static char path[64];
    FILE *f;

    snprintf(path, sizeof(path), "/tmp/clus-agent-config-%d.yaml", (int)getpid());
    f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_good(void **state)
{
    clus_agent_file f;
    char err[256];
    const char *path = write_file("listen: tcp://127.0.0.1:7799\nstate_dir: /tmp/x\n"
                                  "call_bound_ms: 100\ncontexts: 64\nlog_level: debug\n");

    assert_int_equal(clus_agent_file_load(path, &f, err, sizeof(err)), CLUS_OK);
    assert_string_equal(f.listen, "tcp://127.0.0.1:7799");
    assert_string_equal(f.state_dir, "/tmp/x");
    assert_int_equal(f.call_bound_ms, 100);
    assert_int_equal(f.contexts, 64);
    clus_agent_file_free(&f);
    unlink(path);
}

static void test_errors_name_the_line(void **state)
{
    clus_agent_file f;
    char err[256];
    const char *path = write_file("listen: tcp://127.0.0.1:7799\n\nbogus_key: 1\n");

    assert_int_equal(clus_agent_file_load(path, &f, err, sizeof(err)), CLUS_E_INVALID_PARAMETER);
    assert_non_null(strstr(err, ":3:"));
    assert_non_null(strstr(err, "bogus_key"));
    path = write_file("contexts: 0\n");
    assert_int_equal(clus_agent_file_load(path, &f, err, sizeof(err)), CLUS_E_INVALID_PARAMETER);
    path = write_file("listen: [a, b\n");
    assert_int_equal(clus_agent_file_load(path, &f, err, sizeof(err)), CLUS_E_INVALID_PARAMETER);
    path = write_file("- a\n- b\n");
    assert_int_equal(clus_agent_file_load(path, &f, err, sizeof(err)), CLUS_E_INVALID_PARAMETER);
    unlink(path);
    assert_int_equal(clus_agent_file_load("/nonexistent.yaml", &f, err, sizeof(err)),
                     CLUS_E_INVALID_PARAMETER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_errors_name_the_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
