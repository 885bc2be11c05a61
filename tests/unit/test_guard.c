/* test_guard.c - the lease file the process guards read, and the guard's
 * own behaviour with a real child (no agent needed). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "clock.h"
#include "guard.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char path[64];

static int setup(void **state)
{
    snprintf(path, sizeof(path), "/tmp/clus-guard-test-%d", (int)getpid());
    return 0;
}

static int teardown(void **state)
{
    unlink(path);
    return 0;
}

static void test_lease_file(void **state)
{
    uint64_t e = 0;

    unlink(path);
    assert_int_equal(clus_guard_read_lease(path, &e), 0); /* missing: unbound */
    assert_int_equal(clus_guard_write_lease(path, true, 123456789), 0);
    assert_int_equal(clus_guard_read_lease(path, &e), 1);
    assert_int_equal(e, 123456789);
    assert_int_equal(clus_guard_write_lease(path, false, 0), 0);
    assert_int_equal(clus_guard_read_lease(path, &e), 0);
    FILE *f = fopen(path, "w");
    fputs("garbage\n", f);
    fclose(f);
    assert_int_equal(clus_guard_read_lease(path, &e), -1);
}

/* Runs the guard in a child of its own session; returns its exit status. */
static int run_guard(const char *fence, const char *seconds)
{
    pid_t pid = fork();
    int st;

    if (pid == 0) {
        char *argv[] = {"--guard", path, (char *)fence, "--", "/bin/sleep", (char *)seconds, NULL};
        setsid();
        _exit(clus_guard_main(6, argv));
    }
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void test_guard_passes_exit_status(void **state)
{
    clus_guard_write_lease(path, false, 0);
    assert_int_equal(run_guard("1", "0"), 0);
}

static void test_guard_fences_on_expiry(void **state)
{
    uint64_t t0 = clus_mono_ms();

    clus_guard_write_lease(path, true, clus_mono_ms() + 300);
    assert_int_equal(run_guard("1", "30"), 128 + 9); /* SIGKILL, long before 30 s */
    assert_true(clus_mono_ms() - t0 < 5000);
}

static void test_guard_without_fence_waits(void **state)
{
    clus_guard_write_lease(path, true, clus_mono_ms()); /* already expired */
    assert_int_equal(run_guard("0", "0.3"), 0);
}

static void test_guard_passes_sigterm_on(void **state)
{
    pid_t pid = fork();
    int st;

    if (pid == 0) {
        char *argv[] = {"--guard", path, "0", "--", "/bin/sleep", "30", NULL};
        setsid();
        _exit(clus_guard_main(6, argv));
    }
    usleep(300000);
    kill(pid, SIGTERM); /* to the guard's pid: the command ends, then the guard */
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 128 + SIGTERM);
}

static void test_guard_usage(void **state)
{
    char *argv[] = {"--guard", path, NULL};

    assert_int_equal(clus_guard_main(2, argv), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lease_file),
        cmocka_unit_test(test_guard_passes_exit_status),
        cmocka_unit_test(test_guard_fences_on_expiry),
        cmocka_unit_test(test_guard_without_fence_waits),
        cmocka_unit_test(test_guard_passes_sigterm_on),
        cmocka_unit_test(test_guard_usage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
