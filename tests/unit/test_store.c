/* test_store.c - the agent's sqlite store on a real file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "status.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char names[8][32];
static int states[8];
static int seen;

static void collect(void *arg, const Clus__V1__ResourceInfo *info)
{
    snprintf(names[seen], sizeof(names[seen]), "%s", info->name);
    states[seen] = info->persisted_state;
    seen++;
}

static void test_put_reopen_delete(void **state)
{
    char dir[] = "/tmp/clus-store-XXXXXX", path[64], err[256];
    clus_store *s;
    Clus__V1__ResourceInfo info = CLUS__V1__RESOURCE_INFO__INIT;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/agent.db", dir);
    assert_int_equal(clus_store_open(path, &s, err, sizeof(err)), CLUS_OK);
    info.type = "dummy";
    info.name = "b";
    info.persisted_state = 2;
    assert_int_equal(clus_store_put(s, &info), CLUS_OK);
    info.name = "a";
    info.persisted_state = 3;
    assert_int_equal(clus_store_put(s, &info), CLUS_OK);
    info.persisted_state = 2; /* replace */
    assert_int_equal(clus_store_put(s, &info), CLUS_OK);
    clus_store_close(s);

    assert_int_equal(clus_store_open(path, &s, err, sizeof(err)), CLUS_OK);
    seen = 0;
    assert_int_equal(clus_store_each(s, collect, NULL), CLUS_OK);
    assert_int_equal(seen, 2);
    assert_string_equal(names[0], "a");
    assert_int_equal(states[0], 2);
    assert_int_equal(clus_store_delete(s, "a"), CLUS_OK);
    seen = 0;
    clus_store_each(s, collect, NULL);
    assert_int_equal(seen, 1);
    assert_string_equal(names[0], "b");
    clus_store_close(s);
    snprintf(path, sizeof(path), "rm -rf %s", dir);
    assert_int_equal(system(path), 0);
}

static void test_unwritable(void **state)
{
    clus_store *s;
    char err[256] = "";

    assert_int_not_equal(clus_store_open("/nonexistent-dir/x/agent.db", &s, err, sizeof(err)),
                         CLUS_OK);
    assert_non_null(strstr(err, "/nonexistent-dir"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_reopen_delete),
        cmocka_unit_test(test_unwritable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
