/* test_vol_sysinfo.c - the mount table as libclus-volume reads it: mountinfo
 * text served through the sys table (as the kernel writes it, escapes and
 * all) parsed by libmount, and the questions the volume code asks of it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "status.h"
#include "vol_internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The default table, but /proc/self/mountinfo opens the file named in ctx. */
static int open_redirected(const clus_volume_sys *self, const char *path, int flags, mode_t mode)
{
    if (strcmp(path, "/proc/self/mountinfo") == 0)
        path = self->ctx;
    return clus_volume_sys_default()->open(self, path, flags, mode);
}

/* Loads text as the mount table into mt. */
static uint32_t load(const char *text, struct vol_mounts *mt, char *why, size_t whylen)
{
    char path[] = "/tmp/clus-test-mountinfo.XXXXXX";
    int fd = mkstemp(path);
    clus_volume_sys sys = *clus_volume_sys_default();
    vol_msg m = {why, whylen};
    uint32_t status;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    sys.ctx = path;
    sys.open = open_redirected;
    status = vol_mounts_load(&sys, mt, &m);
    unlink(path);
    return status;
}

static const char table[] =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
    "30 22 7:3 / /srv/my\\040data rw,nosuid master:2 - ext4 /dev/loop3 rw,errors=remount-ro\n"
    "31 22 7:4 / /mnt/ro ro,relatime - xfs /dev/loop4 ro\n"
    "this line is not mountinfo\n"
    "32 30 0:45 / /srv/my\\040data rw - tmpfs tmp\\134fs rw\n";

static void test_fields_and_escapes(void **state)
{
    struct vol_mounts mt;
    char why[256] = "";
    const struct vol_mount *m;

    (void)state;
    assert_int_equal(load(table, &mt, why, sizeof(why)), CLUS_OK);
    assert_int_equal(mt.count, 4); /* the broken line is skipped */
    m = &mt.items[1];
    assert_string_equal(m->target, "/srv/my data"); /* \040 unescaped */
    assert_string_equal(m->fstype, "ext4");
    assert_string_equal(m->source, "/dev/loop3");
    assert_int_equal(m->major, 7);
    assert_int_equal(m->minor, 3);
    assert_false(m->read_only); /* errors=remount-ro is not ro */
    assert_true(mt.items[2].read_only);
    assert_string_equal(mt.items[3].source, "tmp\\fs"); /* \134 */
    vol_mounts_free(&mt);
}

static void test_visible_and_buried(void **state)
{
    struct vol_mounts mt;
    char why[256] = "";
    dev_t loop3 = makedev(7, 3), loop4 = makedev(7, 4);

    (void)state;
    assert_int_equal(load(table, &mt, why, sizeof(why)), CLUS_OK);
    /* tmpfs is mounted over loop3's mount point: loop3 is buried there. */
    assert_null(vol_mounts_find(&mt, loop3, "/srv/my data"));
    assert_true(vol_mounts_buried(&mt, loop3, "/srv/my data"));
    assert_string_equal(vol_mounts_top(&mt, "/srv/my data")->fstype, "tmpfs");
    assert_non_null(vol_mounts_find(&mt, loop4, "/mnt/ro"));
    assert_false(vol_mounts_buried(&mt, loop4, "/mnt/ro"));
    assert_string_equal(vol_mounts_any(&mt, loop3)->target, "/srv/my data");
    assert_null(vol_mounts_any(&mt, makedev(7, 9)));
    vol_mounts_free(&mt);
}

static void test_empty_and_unreadable(void **state)
{
    struct vol_mounts mt;
    char why[256] = "";
    clus_volume_sys sys = *clus_volume_sys_default();
    vol_msg m = {why, sizeof(why)};

    (void)state;
    assert_int_equal(load("", &mt, why, sizeof(why)), CLUS_OK);
    assert_int_equal(mt.count, 0);
    vol_mounts_free(&mt);

    sys.ctx = "/nonexistent/mountinfo";
    sys.open = open_redirected;
    assert_int_not_equal(vol_mounts_load(&sys, &mt, &m), CLUS_OK);
    assert_non_null(strstr(why, "cannot read /proc/self/mountinfo"));
    assert_int_equal(mt.count, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_and_escapes),
        cmocka_unit_test(test_visible_and_buried),
        cmocka_unit_test(test_empty_and_unreadable),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
