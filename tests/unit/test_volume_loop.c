/*
 * test_volume_loop.c - libclus-volume on real loop devices with ext4.
 *
 * Needs root, /dev/loop-control and mkfs.ext4; otherwise prints
 * "SKIP: <reason>" and exits 77. Every test works in its own mktemp -d
 * directory under /tmp with small images, and its teardown - which runs even
 * when an assertion fails - kills the test's child processes, lazily
 * unmounts its mount points and detaches every loop device whose backing
 * file lies in that directory (and only those).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "clus/restype.h"
#include "status.h"
#include "volume.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

uint32_t clus_volume_type_startup(const char *type_name, uint32_t min_version, uint32_t max_version,
                                  const clus_monitor_callbacks *callbacks,
                                  const clus_restype_ops **ops);

#define IMAGE_MIB 32

struct fx {
    char dir[64];
    char image[128], empty[128], mnt[128], mnt2[128], state[128], state2[128];
    pid_t children[4];
    int nchildren;
    clus_volume *vols[4];
    int nvols;
};

static char msg[1024];

/* ---- facts read straight from the system, not through the library ---- */

/* The mountinfo line of the visible mount on target: its id and device. */
static bool mount_at(const char *target, int *id, dev_t *dev)
{
    FILE *f = fopen("/proc/self/mountinfo", "r");
    char line[4096], mp[4096];
    unsigned maj, min;
    int mid;
    bool found = false;

    if (f == NULL)
        return false;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "%d %*d %u:%u %*s %4095s", &mid, &maj, &min, mp) == 4 &&
            strcmp(mp, target) == 0) {
            found = true;
            if (id != NULL)
                *id = mid;
            if (dev != NULL)
                *dev = makedev(maj, min);
        }
    }
    fclose(f);
    return found;
}

/* Loop devices whose backing file is under dir; the first one's path. */
static int loops_under(const char *dir, char *first, size_t size)
{
    DIR *d = opendir("/sys/block");
    struct dirent *de;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((de = readdir(d)) != NULL) {
        char path[512], backing[4096] = "";
        FILE *f;

        if (strncmp(de->d_name, "loop", 4) != 0)
            continue;
        snprintf(path, sizeof(path), "/sys/block/%s/loop/backing_file", de->d_name);
        if ((f = fopen(path, "r")) == NULL)
            continue;
        if (fgets(backing, sizeof(backing), f) != NULL && strncmp(backing, dir, strlen(dir)) == 0 &&
            backing[strlen(dir)] == '/') {
            if (n == 0 && first != NULL &&
                snprintf(first, size, "/dev/%s", de->d_name) >= (int)size)
                first[0] = '\0';
            n++;
        }
        fclose(f);
    }
    closedir(d);
    return n;
}

static void detach_loops_under(const char *dir)
{
    char dev[64];

    for (int tries = 0; tries < 32 && loops_under(dir, dev, sizeof(dev)) > 0; tries++) {
        int fd = open(dev, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            ioctl(fd, LOOP_CLR_FD, 0);
            close(fd);
        }
        usleep(10000);
    }
}

static void unmount_all(const char *target)
{
    for (int i = 0; i < 8 && mount_at(target, NULL, NULL); i++)
        umount2(target, MNT_DETACH);
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    int rc;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* ---- fixture ---- */

static int setup(void **state)
{
    struct fx *fx = calloc(1, sizeof(*fx));

    snprintf(fx->dir, sizeof(fx->dir), "/tmp/clus-vol-XXXXXX");
    if (mkdtemp(fx->dir) == NULL)
        return -1;
    snprintf(fx->image, sizeof(fx->image), "%s/ext4.img", fx->dir);
    snprintf(fx->empty, sizeof(fx->empty), "%s/empty.img", fx->dir);
    snprintf(fx->mnt, sizeof(fx->mnt), "%s/mnt", fx->dir);
    snprintf(fx->mnt2, sizeof(fx->mnt2), "%s/mnt2", fx->dir);
    snprintf(fx->state, sizeof(fx->state), "%s/state", fx->dir);
    snprintf(fx->state2, sizeof(fx->state2), "%s/state2", fx->dir);
    if (run("truncate -s %dM %s %s && mkfs.ext4 -q -F %s >/dev/null 2>&1 && "
            "mkdir %s %s %s %s",
            IMAGE_MIB, fx->image, fx->empty, fx->image, fx->mnt, fx->mnt2, fx->state,
            fx->state2) != 0)
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;

    for (int i = 0; i < fx->nchildren; i++) {
        kill(fx->children[i], SIGKILL);
        waitpid(fx->children[i], NULL, 0);
    }
    for (int i = 0; i < fx->nvols; i++)
        clus_volume_close(fx->vols[i]);
    unmount_all(fx->mnt);
    unmount_all(fx->mnt2);
    detach_loops_under(fx->dir);
    if (loops_under(fx->dir, NULL, 0) > 0)
        fprintf(stderr, "teardown: a loop device under %s is still attached\n", fx->dir);
    run("rm -rf %s", fx->dir);
    free(fx);
    return 0;
}

static clus_volume *track(struct fx *fx, clus_volume *v)
{
    fx->vols[fx->nvols++] = v;
    return v;
}

static clus_volume_config loop_cfg(struct fx *fx)
{
    return (clus_volume_config){
        .backend = "loop", .image = fx->image, .mountpoint = fx->mnt, .state_dir = fx->state};
}

static clus_volume *open_ok(struct fx *fx, const clus_volume_config *cfg,
                            const clus_volume_sys *sys)
{
    clus_volume *v = NULL;
    uint32_t s = clus_volume_open(cfg, sys, &v, msg, sizeof(msg));

    if (s != CLUS_OK)
        fail_msg("open failed: %u %s", s, msg);
    return track(fx, v);
}

#define EXPECT(call, status)                                                                       \
    do {                                                                                           \
        uint32_t s_ = (call);                                                                      \
        if (s_ != (uint32_t)(status))                                                              \
            fail_msg("%s: got %u (%s), want %u", #call, s_, msg, (uint32_t)(status));              \
    } while (0)

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fflush(f), 0);
    assert_int_equal(fsync(fileno(f)), 0);
    fclose(f);
}

/* A child that opens the volume, brings it online (or only claims it),
 * reports ready through a pipe and waits to be killed. */
static pid_t child_holding(struct fx *fx, const clus_volume_config *cfg, bool online)
{
    int fds[2];
    pid_t pid;
    char c;

    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        clus_volume *v = NULL;
        size_t n;
        char m[512];
        uint32_t s = clus_volume_open(cfg, NULL, &v, m, sizeof(m));
        if (s == 0)
            s = online ? clus_volume_online(v, m, sizeof(m)) : clus_volume_claim(v, m, sizeof(m));
        if (s == 0 && online)
            s = clus_volume_write(v, "child.txt", 0, "from the child", 14, &n, m, sizeof(m));
        c = s == 0 ? 'y' : 'n';
        if (s != 0)
            fprintf(stderr, "child: %u %s\n", s, m);
        if (write(fds[1], &c, 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    close(fds[1]);
    fx->children[fx->nchildren++] = pid;
    assert_int_equal(read(fds[0], &c, 1), 1);
    close(fds[0]);
    assert_int_equal(c, 'y');
    return pid;
}

/* ======================================================================
 * Tests
 * ====================================================================== */

static void test_data_survives_offline_online(void **state)
{
    struct fx *fx = *state;
    clus_volume_config cfg = loop_cfg(fx);
    clus_volume_info info;
    char buf[64] = "", loopdev[64];
    size_t n;
    int fd;

    cfg.image = fx->empty; /* formatted by the library */
    cfg.fstype = "ext4";
    cfg.mkfs = "true";
    clus_volume *v = open_ok(fx, &cfg, NULL);
    EXPECT(clus_volume_online(v, msg, sizeof(msg)), 0);
    assert_true(mount_at(fx->mnt, NULL, NULL));
    EXPECT(clus_volume_write(v, "data.txt", 0, "survives", 8, &n, msg, sizeof(msg)), 0);
    write_file(fx->mnt, "direct.txt", "written directly");
    EXPECT(clus_volume_offline(v, msg, sizeof(msg)), 0);

    assert_true(clus_volume_is_offline(v));
    assert_false(mount_at(fx->mnt, NULL, NULL));
    assert_int_equal(loops_under(fx->dir, loopdev, sizeof(loopdev)), 1);
    clus_volume_get_info(v, &info);
    assert_string_equal(info.loop_device, loopdev);
    assert_true(info.offline_mark && info.held && !info.claimed);
    assert_int_equal(info.read_only, 1);

    /* while offline: another process cannot mount the device ... */
    assert_int_not_equal(run("mount -t ext4 %s %s >/dev/null 2>&1", loopdev, fx->mnt2), 0);
    assert_int_equal(mount(loopdev, fx->mnt2, "ext4", MS_RDONLY, NULL), -1);
    assert_int_equal(errno, EBUSY);
    assert_false(mount_at(fx->mnt2, NULL, NULL));
    /* ... a raw write to the device fails ... */
    fd = open(loopdev, O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "x", 1, 0), -1);
    assert_int_equal(errno, EPERM);
    close(fd);
    /* ... and reads through the library are not ready */
    EXPECT(clus_volume_read(v, "data.txt", 0, buf, 8, &n, msg, sizeof(msg)), CLUS_E_NOT_READY);

    EXPECT(clus_volume_online(v, msg, sizeof(msg)), 0);
    EXPECT(clus_volume_read(v, "data.txt", 0, buf, sizeof(buf), &n, msg, sizeof(msg)), 0);
    assert_int_equal(n, 8);
    assert_memory_equal(buf, "survives", 8);
    EXPECT(clus_volume_read(v, "direct.txt", 0, buf, sizeof(buf), &n, msg, sizeof(msg)), 0);
    assert_memory_equal(buf, "written directly", 16);
    assert_int_equal(loops_under(fx->dir, NULL, 0), 1); /* the same device again */
    assert_true(clus_volume_is_alive(v, msg, sizeof(msg)));
    EXPECT(clus_volume_offline(v, msg, sizeof(msg)), 0);
}

static void test_system_volume_refused(void **state)
{
    struct fx *fx = *state;
    struct stat st;
    char uevent[128], line[256], name[64] = "", device[96];
    clus_volume_config cfg = {.backend = "block", .mountpoint = fx->mnt};
    clus_volume *v = NULL;
    FILE *f;

    assert_int_equal(stat("/", &st), 0);
    snprintf(uevent, sizeof(uevent), "/sys/dev/block/%u:%u/uevent", major(st.st_dev),
             minor(st.st_dev));
    if ((f = fopen(uevent, "r")) == NULL) {
        print_message("SKIP: / is not on a block device here\n");
        skip();
    }
    while (fgets(line, sizeof(line), f) != NULL)
        sscanf(line, "DEVNAME=%63s", name);
    fclose(f);
    snprintf(device, sizeof(device), "/dev/%s", name);
    if (name[0] == '\0' || access(device, F_OK) != 0) {
        print_message("SKIP: no device node for / (%s)\n", device);
        skip();
    }
    cfg.device = device;
    EXPECT(clus_volume_open(&cfg, NULL, &v, msg, sizeof(msg)), CLUS_E_ACCESS_DENIED);
    assert_non_null(strstr(msg, "system volume /"));
    assert_null(v);
    EXPECT(clus_volume_validate(&cfg, NULL, msg, sizeof(msg)), CLUS_E_ACCESS_DENIED);
    assert_false(mount_at(fx->mnt, NULL, NULL));
}

static void test_terminate_with_open_file(void **state)
{
    struct fx *fx = *state;
    clus_volume_config cfg = loop_cfg(fx), other = loop_cfg(fx);
    char path[256], buf[32] = "";
    size_t n;
    int fd;

    clus_volume *v = open_ok(fx, &cfg, NULL);
    EXPECT(clus_volume_online(v, msg, sizeof(msg)), 0);
    write_file(fx->mnt, "before.txt", "synced before");
    snprintf(path, sizeof(path), "%s/open.txt", fx->mnt);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "abc", 3), 3);

    EXPECT(clus_volume_terminate(v, msg, sizeof(msg)), 0);
    assert_true(clus_volume_is_offline(v));
    assert_false(mount_at(fx->mnt, NULL, NULL));
    /* the held descriptor is fenced */
    assert_int_equal(write(fd, "def", 3), -1);
    assert_int_equal(errno, EIO);
    assert_int_equal(fsync(fd), -1);
    close(fd);
    /* the loop device goes with the last user */
    for (int i = 0; i < 100 && loops_under(fx->dir, NULL, 0) > 0; i++)
        usleep(10000);
    assert_int_equal(loops_under(fx->dir, NULL, 0), 0);

    /* the claim was released: someone else can take the volume */
    other.mountpoint = fx->mnt2;
    other.state_dir = fx->state2;
    clus_volume *w = open_ok(fx, &other, NULL);
    EXPECT(clus_volume_online(w, msg, sizeof(msg)), 0);
    EXPECT(clus_volume_read(w, "before.txt", 0, buf, sizeof(buf), &n, msg, sizeof(msg)), 0);
    assert_memory_equal(buf, "synced before", 13);
    EXPECT(clus_volume_offline(w, msg, sizeof(msg)), 0);
}

static void test_two_claimants_with_frozen_holder(void **state)
{
    struct fx *fx = *state;
    clus_volume_config first = loop_cfg(fx), second = loop_cfg(fx);
    char want[64];
    pid_t pid;

    first.mountpoint = fx->mnt2;
    first.state_dir = fx->state2;
    pid = child_holding(fx, &first, true);
    assert_int_equal(kill(pid, SIGSTOP), 0);

    clus_volume *v = open_ok(fx, &second, NULL);
    EXPECT(clus_volume_claim(v, msg, sizeof(msg)), CLUS_E_RESOURCE_NOT_AVAILABLE);
    EXPECT(clus_volume_online(v, msg, sizeof(msg)), CLUS_E_RESOURCE_NOT_AVAILABLE);
    snprintf(want, sizeof(want), "pid %d", (int)pid);
    assert_non_null(strstr(msg, want));
    assert_false(mount_at(fx->mnt, NULL, NULL));
    assert_int_equal(loops_under(fx->dir, NULL, 0), 1); /* only the child's */

    /* the holder dies without cleaning up: its mount stays, the lock goes -
     * the second claimant still refuses to mount the data twice */
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fx->nchildren = 0;
    EXPECT(clus_volume_online(v, msg, sizeof(msg)), CLUS_E_RESOURCE_NOT_AVAILABLE);
    assert_non_null(strstr(msg, "already mounted"));
    assert_false(mount_at(fx->mnt, NULL, NULL));

    /* once fenced (unmounted), the volume moves; the stale loop is reused */
    assert_int_equal(umount2(fx->mnt2, 0), 0);
    EXPECT(clus_volume_online(v, msg, sizeof(msg)), 0);
    assert_int_equal(loops_under(fx->dir, NULL, 0), 1);
    EXPECT(clus_volume_offline(v, msg, sizeof(msg)), 0);
}

static void test_arbitrate_between_processes(void **state)
{
    struct fx *fx = *state;
    clus_volume_config cfg = loop_cfg(fx);
    pid_t pid = child_holding(fx, &cfg, false);

    clus_volume *v = open_ok(fx, &cfg, NULL);
    EXPECT(clus_volume_claim(v, msg, sizeof(msg)), CLUS_E_RESOURCE_NOT_AVAILABLE);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fx->nchildren = 0;
    EXPECT(clus_volume_claim(v, msg, sizeof(msg)), 0);
    EXPECT(clus_volume_release(v, msg, sizeof(msg)), 0);
}

static void test_umount_busy(void **state)
{
    struct fx *fx = *state;
    clus_volume_config cfg = loop_cfg(fx);
    char path[256];
    size_t n;
    int fd, id_before = 0, id_after = 0;

    clus_volume *v = open_ok(fx, &cfg, NULL);
    EXPECT(clus_volume_online(v, msg, sizeof(msg)), 0);
    assert_true(mount_at(fx->mnt, &id_before, NULL));
    snprintf(path, sizeof(path), "%s/busy.txt", fx->mnt);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    assert_true(fd >= 0);

    EXPECT(clus_volume_offline(v, msg, sizeof(msg)), CLUS_E_BUSY);
    assert_non_null(strstr(msg, "busy"));
    assert_non_null(strstr(msg, "stays online"));
    /* nothing half-done: the same mount, writable, library online */
    assert_false(clus_volume_is_offline(v));
    assert_true(mount_at(fx->mnt, &id_after, NULL));
    assert_int_equal(id_before, id_after);
    assert_int_equal(write(fd, "ok", 2), 2);
    EXPECT(clus_volume_write(v, "still.txt", 0, "rw", 2, &n, msg, sizeof(msg)), 0);
    assert_true(clus_volume_is_alive(v, msg, sizeof(msg)));

    close(fd);
    EXPECT(clus_volume_offline(v, msg, sizeof(msg)), 0);
    assert_false(mount_at(fx->mnt, NULL, NULL));
}

static void test_bad_input(void **state)
{
    struct fx *fx = *state;
    char missing[160], dotdot[160], file_dev[160];
    struct {
        clus_volume_config cfg;
        uint32_t status;
    } cases[12];
    int n = 0;

    snprintf(missing, sizeof(missing), "%s/missing", fx->dir);
    snprintf(dotdot, sizeof(dotdot), "%s/mnt/../mnt", fx->dir);
    snprintf(file_dev, sizeof(file_dev), "%s/ext4.img", fx->dir);
#define CASE(st, ...) (cases[n].cfg = (clus_volume_config){__VA_ARGS__}, cases[n++].status = (st))
    CASE(2, .backend = "loop", .image = missing, .mountpoint = fx->mnt);
    CASE(87, .backend = "block", .device = "/dev/null", .mountpoint = fx->mnt);
    CASE(87, .backend = "block", .device = file_dev, .mountpoint = fx->mnt);
    CASE(87, .backend = "loop", .image = fx->image, .mountpoint = "relative/mnt");
    CASE(87, .backend = "loop", .image = fx->image, .mountpoint = dotdot);
    CASE(2, .backend = "loop", .image = fx->image, .mountpoint = missing);
    CASE(87, .backend = "tape", .image = fx->image, .mountpoint = fx->mnt);
    CASE(87, .backend = "loop", .image = fx->image, .mountpoint = fx->mnt, .fstype = "nosuchfs");
    CASE(170, .backend = "loop", .image = fx->image, .mountpoint = fx->mnt2);
#undef CASE
    assert_int_equal(mount("tmpfs", fx->mnt2, "tmpfs", 0, "size=1m"), 0);
    for (int i = 0; i < n; i++) {
        clus_volume *v = NULL;
        uint32_t s = clus_volume_open(&cases[i].cfg, NULL, &v, msg, sizeof(msg));

        if (s != cases[i].status)
            fail_msg("case %d: got %u (%s), want %u", i, s, msg, cases[i].status);
        assert_null(v);
        assert_true(msg[0] != '\0');
        assert_int_equal(loops_under(fx->dir, NULL, 0), 0);
        assert_false(mount_at(fx->mnt, NULL, NULL));
    }
    umount2(fx->mnt2, 0);
}

static void test_adopt_after_kill(void **state)
{
    struct fx *fx = *state;
    clus_volume_config cfg = loop_cfg(fx);
    clus_volume_info info;
    char buf[32] = "", loopdev[64];
    size_t n;
    int id_before = 0, id_after = 0;
    pid_t pid = child_holding(fx, &cfg, true);

    /* the agent is killed while online: the mount and the loop device stay */
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fx->nchildren = 0;
    assert_true(mount_at(fx->mnt, &id_before, NULL));
    assert_int_equal(loops_under(fx->dir, loopdev, sizeof(loopdev)), 1);

    clus_volume *v = open_ok(fx, &cfg, NULL);
    EXPECT(clus_volume_adopt(v, msg, sizeof(msg)), 0);
    assert_non_null(strstr(msg, "adopted"));
    assert_true(mount_at(fx->mnt, &id_after, NULL));
    assert_int_equal(id_before, id_after); /* not mounted again */
    clus_volume_get_info(v, &info);
    assert_string_equal(info.loop_device, loopdev);
    assert_true(info.online && info.claimed && info.mounted);
    assert_int_equal(info.holder_pid, (long)getpid());
    EXPECT(clus_volume_read(v, "child.txt", 0, buf, sizeof(buf), &n, msg, sizeof(msg)), 0);
    assert_memory_equal(buf, "from the child", 14);
    EXPECT(clus_volume_offline(v, msg, sizeof(msg)), 0);

    /* nothing mounted: adopt says so and online does the work */
    EXPECT(clus_volume_adopt(v, msg, sizeof(msg)), CLUS_E_NOT_FOUND);
    EXPECT(clus_volume_online(v, msg, sizeof(msg)), 0);
    EXPECT(clus_volume_terminate(v, msg, sizeof(msg)), 0);
    assert_int_equal(loops_under(fx->dir, NULL, 0), 0);
}

/* A restarted agent that terminates before adopting (a lease ran out) still
 * stops the mount the killed one left. */
static void test_terminate_before_adopt(void **state)
{
    struct fx *fx = *state;
    clus_volume_config cfg = loop_cfg(fx);
    pid_t pid = child_holding(fx, &cfg, true);

    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fx->nchildren = 0;
    assert_true(mount_at(fx->mnt, NULL, NULL));

    clus_volume *v = open_ok(fx, &cfg, NULL);
    EXPECT(clus_volume_terminate(v, msg, sizeof(msg)), 0);
    assert_non_null(strstr(msg, "not adopted"));
    assert_false(mount_at(fx->mnt, NULL, NULL));
    for (int i = 0; i < 100 && loops_under(fx->dir, NULL, 0) > 0; i++)
        usleep(10000);
    assert_int_equal(loops_under(fx->dir, NULL, 0), 0);
    EXPECT(clus_volume_online(v, msg, sizeof(msg)), 0);
    EXPECT(clus_volume_offline(v, msg, sizeof(msg)), 0);
}

static void test_remount_and_loss(void **state)
{
    struct fx *fx = *state;
    clus_volume_config cfg = loop_cfg(fx);
    char loopdev[64];
    int fd;

    clus_volume *v = open_ok(fx, &cfg, NULL);
    EXPECT(clus_volume_online(v, msg, sizeof(msg)), 0);
    assert_int_equal(umount2(fx->mnt, 0), 0);
    assert_false(clus_volume_looks_alive(v, msg, sizeof(msg)));
    assert_true(clus_volume_is_alive(v, msg, sizeof(msg)));
    assert_non_null(strstr(msg, "mounted again"));
    assert_true(mount_at(fx->mnt, NULL, NULL));

    /* losetup -d on a mounted device only sets autoclear: noticed */
    assert_int_equal(loops_under(fx->dir, loopdev, sizeof(loopdev)), 1);
    fd = open(loopdev, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(ioctl(fd, LOOP_CLR_FD, 0), 0);
    close(fd);
    assert_false(clus_volume_looks_alive(v, msg, sizeof(msg)));
    assert_non_null(strstr(msg, "detach"));
    assert_false(clus_volume_is_alive(v, msg, sizeof(msg)));
    EXPECT(clus_volume_terminate(v, msg, sizeof(msg)), 0);
    for (int i = 0; i < 100 && loops_under(fx->dir, NULL, 0) > 0; i++)
        usleep(10000);
    assert_int_equal(loops_under(fx->dir, NULL, 0), 0);

    /* the image is deleted under an online volume */
    EXPECT(clus_volume_online(v, msg, sizeof(msg)), 0);
    assert_int_equal(unlink(fx->image), 0);
    assert_false(clus_volume_looks_alive(v, msg, sizeof(msg)));
    assert_non_null(strstr(msg, "deleted"));
    EXPECT(clus_volume_terminate(v, msg, sizeof(msg)), 0);
}

/* Attaches image with losetup, as an administrator would for a disk. */
static void losetup(const char *image, char *dev, size_t size)
{
    char cmd[256];
    FILE *p;

    snprintf(cmd, sizeof(cmd), "losetup --find --show %s", image);
    p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(dev, (int)size, p));
    pclose(p);
    dev[strcspn(dev, "\n")] = '\0';
}

static void test_block_backend(void **state)
{
    struct fx *fx = *state;
    char dev[64] = "";

    losetup(fx->image, dev, sizeof(dev));
    clus_volume_config cfg = {
        .backend = "block", .device = dev, .mountpoint = fx->mnt, .state_dir = fx->state};
    clus_volume_config other = {.backend = "block", .device = dev, .mountpoint = fx->mnt2};
    clus_volume *v = open_ok(fx, &cfg, NULL);
    clus_volume *w = open_ok(fx, &other, NULL);
    size_t n;

    EXPECT(clus_volume_online(v, msg, sizeof(msg)), 0);
    EXPECT(clus_volume_online(w, msg, sizeof(msg)), CLUS_E_BUSY);
    EXPECT(clus_volume_write(v, "b.txt", 0, "block", 5, &n, msg, sizeof(msg)), 0);
    EXPECT(clus_volume_offline(v, msg, sizeof(msg)), 0);
    EXPECT(clus_volume_online(w, msg, sizeof(msg)), CLUS_E_RESOURCE_NOT_AVAILABLE);
    assert_int_not_equal(run("mount %s %s >/dev/null 2>&1", dev, fx->mnt2), 0);
    EXPECT(clus_volume_online(v, msg, sizeof(msg)), 0);
    EXPECT(clus_volume_terminate(v, msg, sizeof(msg)), 0);
    assert_false(mount_at(fx->mnt, NULL, NULL));
    EXPECT(clus_volume_online(w, msg, sizeof(msg)), 0);
    EXPECT(clus_volume_offline(w, msg, sizeof(msg)), 0);
    clus_volume_close(w);
    fx->nvols--;
    clus_volume_close(v);
    fx->nvols--;
    run("losetup -d %s", dev);
}

/* ---- a failure at every system call, on the real kernel ---- */

struct counting {
    clus_volume_sys sys;
    const clus_volume_sys *real;
    int calls, fail_at, err;
    char failed[32];
};

#define COUNTING(name)                                                                             \
    struct counting *c = (struct counting *)(void *)self;                                          \
    if (++c->calls == c->fail_at) {                                                                \
        snprintf(c->failed, sizeof(c->failed), "%s", name);                                        \
        errno = c->err;                                                                            \
        return -1;                                                                                 \
    }

static int c_open(const clus_volume_sys *self, const char *p, int fl, mode_t m)
{
    COUNTING("open");
    return c->real->open(c->real, p, fl, m);
}
static int c_open_beneath(const clus_volume_sys *self, const char *r, const char *p, int fl,
                          mode_t m)
{
    COUNTING("open_beneath");
    return c->real->open_beneath(c->real, r, p, fl, m);
}
static int c_close(const clus_volume_sys *self, int fd)
{
    struct counting *c = (struct counting *)(void *)self;
    if (++c->calls == c->fail_at) {
        c->real->close(c->real, fd);
        snprintf(c->failed, sizeof(c->failed), "close");
        errno = c->err;
        return -1;
    }
    return c->real->close(c->real, fd);
}
static int c_ioctl(const clus_volume_sys *self, int fd, unsigned long r, void *a)
{
    COUNTING("ioctl");
    return c->real->ioctl(c->real, fd, r, a);
}
static int c_mount(const clus_volume_sys *self, const char *s, const char *t, const char *f,
                   unsigned long fl, const char *d)
{
    COUNTING("mount");
    return c->real->mount(c->real, s, t, f, fl, d);
}
static int c_umount2(const clus_volume_sys *self, const char *t, int fl)
{
    COUNTING("umount2");
    return c->real->umount2(c->real, t, fl);
}
static int c_syncfs(const clus_volume_sys *self, int fd)
{
    COUNTING("syncfs");
    return c->real->syncfs(c->real, fd);
}
static int c_fsync(const clus_volume_sys *self, int fd)
{
    COUNTING("fsync");
    return c->real->fsync(c->real, fd);
}
static ssize_t c_pread(const clus_volume_sys *self, int fd, void *b, size_t n, off_t o)
{
    COUNTING("pread");
    return c->real->pread(c->real, fd, b, n, o);
}
static ssize_t c_pwrite(const clus_volume_sys *self, int fd, const void *b, size_t n, off_t o)
{
    COUNTING("pwrite");
    return c->real->pwrite(c->real, fd, b, n, o);
}
static int c_fcntl_lock(const clus_volume_sys *self, int fd, int cmd, struct flock *fl)
{
    COUNTING("fcntl_lock");
    return c->real->fcntl_lock(c->real, fd, cmd, fl);
}
static int c_stat(const clus_volume_sys *self, const char *p, struct stat *st)
{
    COUNTING("stat");
    return c->real->stat(c->real, p, st);
}
static int c_fstat(const clus_volume_sys *self, int fd, struct stat *st)
{
    COUNTING("fstat");
    return c->real->fstat(c->real, fd, st);
}
static int c_unlink(const clus_volume_sys *self, const char *p)
{
    COUNTING("unlink");
    return c->real->unlink(c->real, p);
}
static char *c_realpath(const clus_volume_sys *self, const char *p, char *r)
{
    struct counting *c = (struct counting *)(void *)self;
    if (++c->calls == c->fail_at) {
        snprintf(c->failed, sizeof(c->failed), "realpath");
        errno = c->err;
        return NULL;
    }
    return c->real->realpath(c->real, p, r);
}
static int c_list_dir(const clus_volume_sys *self, const char *p, int (*each)(void *, const char *),
                      void *arg)
{
    COUNTING("list_dir");
    return c->real->list_dir(c->real, p, each, arg);
}
static int c_probe(const clus_volume_sys *self, const char *p, char *t, size_t n)
{
    COUNTING("probe");
    return c->real->probe(c->real, p, t, n);
}
static int c_run(const clus_volume_sys *self, const char *const argv[], char *o, size_t n,
                 int *code, const atomic_bool *cancel)
{
    COUNTING("run");
    return c->real->run(c->real, argv, o, n, code, cancel);
}

static void counting_init(struct counting *c)
{
    memset(c, 0, sizeof(*c));
    c->real = clus_volume_sys_default();
    c->sys = (clus_volume_sys){
        .open = c_open,
        .open_beneath = c_open_beneath,
        .close = c_close,
        .ioctl = c_ioctl,
        .mount = c_mount,
        .umount2 = c_umount2,
        .syncfs = c_syncfs,
        .fsync = c_fsync,
        .pread = c_pread,
        .pwrite = c_pwrite,
        .fcntl_lock = c_fcntl_lock,
        .stat = c_stat,
        .fstat = c_fstat,
        .unlink = c_unlink,
        .realpath = c_realpath,
        .list_dir = c_list_dir,
        .probe = c_probe,
        .run = c_run,
    };
}

/* Is the real system in the "offline, never online" state of a fresh image? */
static void assert_clean(struct fx *fx, int k, const char *failed)
{
    if (mount_at(fx->mnt, NULL, NULL) || loops_under(fx->dir, NULL, 0) != 0)
        fail_msg("call %d (%s) failed and left something attached or mounted", k, failed);
}

static void test_fault_injection_online(void **state)
{
    struct fx *fx = *state;
    clus_volume_config cfg = loop_cfg(fx);
    static struct counting c; /* outlives the test: teardown closes the volume */
    int total;

    cfg.image = fx->empty;
    cfg.fstype = "ext4";
    cfg.mkfs = "yes";
    counting_init(&c);
    clus_volume *v = open_ok(fx, &cfg, &c.sys);
    c.calls = 0;
    EXPECT(clus_volume_online(v, msg, sizeof(msg)), 0);
    total = c.calls;
    EXPECT(clus_volume_terminate(v, msg, sizeof(msg)), 0);
    clus_volume_close(v);
    fx->nvols--;
    run("truncate -s 0 %s && truncate -s %dM %s && rm -f %s/volume.offline", fx->empty, IMAGE_MIB,
        fx->empty, fx->state);
    assert_clean(fx, 0, "-");

    for (int k = 1; k <= total; k++) {
        uint32_t s;

        counting_init(&c);
        v = open_ok(fx, &cfg, &c.sys);
        c.calls = 0;
        c.fail_at = k;
        c.err = EIO;
        s = clus_volume_online(v, msg, sizeof(msg));
        if (s == CLUS_OK) {
            assert_false(clus_volume_is_offline(v));
            assert_true(mount_at(fx->mnt, NULL, NULL));
            c.fail_at = 0;
            EXPECT(clus_volume_terminate(v, msg, sizeof(msg)), 0);
        } else {
            assert_true(clus_volume_is_offline(v));
            assert_true(msg[0] != '\0');
            assert_clean(fx, k, c.failed);
        }
        clus_volume_close(v);
        fx->nvols--;
        for (int i = 0; i < 100 && loops_under(fx->dir, NULL, 0) > 0; i++)
            usleep(10000);
        run("truncate -s 0 %s && truncate -s %dM %s", fx->empty, IMAGE_MIB, fx->empty);
        assert_clean(fx, k, c.failed);
    }
}

static void test_fault_injection_offline(void **state)
{
    struct fx *fx = *state;
    clus_volume_config cfg = loop_cfg(fx);
    static struct counting c; /* outlives the test: teardown closes the volume */
    int total, id_before, id_after;

    counting_init(&c);
    clus_volume *v = open_ok(fx, &cfg, &c.sys);
    EXPECT(clus_volume_online(v, msg, sizeof(msg)), 0);
    c.calls = 0;
    EXPECT(clus_volume_offline(v, msg, sizeof(msg)), 0);
    total = c.calls;

    for (int k = 1; k <= total; k++) {
        uint32_t s;
        size_t n;

        c.fail_at = 0;
        EXPECT(clus_volume_online(v, msg, sizeof(msg)), 0);
        assert_true(mount_at(fx->mnt, &id_before, NULL));
        c.calls = 0;
        c.fail_at = k;
        c.err = EIO;
        s = clus_volume_offline(v, msg, sizeof(msg));
        c.fail_at = 0;
        if (s == CLUS_OK) {
            assert_true(clus_volume_is_offline(v));
            assert_false(mount_at(fx->mnt, NULL, NULL));
            continue;
        }
        if (clus_volume_is_offline(v) || !mount_at(fx->mnt, &id_after, NULL))
            fail_msg("call %d (%s) failed: %s - but the volume is not online and mounted", k,
                     c.failed, msg);
        assert_true(strstr(msg, "stays online") != NULL);
        EXPECT(clus_volume_write(v, "after.txt", 0, "ok", 2, &n, msg, sizeof(msg)), 0);
        EXPECT(clus_volume_offline(v, msg, sizeof(msg)), 0);
        assert_false(mount_at(fx->mnt, NULL, NULL));
    }
}

/* ---- the resource type on a loop volume ---- */

static int signals;

static void t_log(clus_resource *h, int level, const char *fmt, ...)
{
    va_list ap;

    if (getenv("CLUS_TEST_VERBOSE") == NULL)
        return;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static uint32_t t_set_status(clus_resource *h, int st, uint32_t cp, uint32_t status)
{
    return CLUS_EXIT_CONTINUE;
}

static uint32_t t_signal(clus_resource *h, uint32_t type, uint32_t code)
{
    __atomic_add_fetch(&signals, 1, __ATOMIC_SEQ_CST);
    return 0;
}

static void test_type_on_loop(void **state)
{
    struct fx *fx = *state;
    static const clus_monitor_callbacks cb = {.size = sizeof(cb),
                                              .log_event = t_log,
                                              .set_status = t_set_status,
                                              .signal_failure = t_signal};
    const clus_restype_ops *ops;
    clus_param items[] = {
        {"backend", "loop"}, {"image", fx->image}, {"mountpoint", fx->mnt}, {"fstype", "ext4"}};
    clus_params params = {items, 4};
    clus_open_args args = {
        .name = "vol1", .type = "volume", .params = &params, .state_dir = fx->state};
    clus_online_args on = {.flags = CLUS_ONLINE_RECOVER_MONITOR_STATE};
    clus_offline_args off = {0};
    clus_resid r;
    char loopdev[64];
    int fd;

    assert_int_equal(clus_volume_type_startup("volume", 0x100, 0x100, &cb, &ops), 0);
    assert_int_equal(ops->open(&args, &r), 0);
    assert_int_equal(ops->online(r, &on), 0); /* nothing to recover: a plain online */
    assert_true(on.event_handle);
    assert_true(mount_at(fx->mnt, NULL, NULL));
    assert_true(ops->is_alive(r));

    /* the watcher notices a detach request */
    signals = 0;
    assert_int_equal(loops_under(fx->dir, loopdev, sizeof(loopdev)), 1);
    fd = open(loopdev, O_RDONLY | O_CLOEXEC);
    assert_int_equal(ioctl(fd, LOOP_CLR_FD, 0), 0);
    close(fd);
    for (int i = 0; i < 50 && __atomic_load_n(&signals, __ATOMIC_SEQ_CST) == 0; i++)
        usleep(100000);
    assert_int_equal(__atomic_load_n(&signals, __ATOMIC_SEQ_CST), 1);
    assert_false(ops->is_alive(r));
    ops->terminate(r);
    assert_false(mount_at(fx->mnt, NULL, NULL));

    assert_int_equal(ops->online(r, &on), 0);
    assert_int_equal(ops->offline(r, &off), 0);
    assert_false(mount_at(fx->mnt, NULL, NULL));
    ops->close(r);
    assert_int_equal(ops->open(&args, &r), 0); /* the mark: held again */
    assert_int_not_equal(run("mount %s %s >/dev/null 2>&1", loopdev, fx->mnt2), 0);
    ops->close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_data_survives_offline_online, setup, teardown),
        cmocka_unit_test_setup_teardown(test_system_volume_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_terminate_with_open_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_claimants_with_frozen_holder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arbitrate_between_processes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_umount_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_adopt_after_kill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_terminate_before_adopt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remount_and_loss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_block_backend, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_injection_online, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_injection_offline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_type_on_loop, setup, teardown),
    };

    if (geteuid() != 0) {
        printf("SKIP: needs root (loop devices and mount)\n");
        return 77;
    }
    if (access("/dev/loop-control", R_OK | W_OK) != 0) {
        printf("SKIP: no /dev/loop-control (%s)\n", strerror(errno));
        return 77;
    }
    if (system("command -v mkfs.ext4 >/dev/null 2>&1 && command -v losetup >/dev/null 2>&1") != 0) {
        printf("SKIP: mkfs.ext4 (e2fsprogs) or losetup (util-linux) is missing\n");
        return 77;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
