/*
 * backend_mount.c - online, offline, terminate, health and I/O of the volumes
 * that have a block device and a mount point (loop and block). The device
 * side that differs between them is in the hooks (backend_loop.c,
 * backend_block.c).
 *
 * Every state change is a short sequence of system calls. Online and offline
 * record what they did and, when a later step fails, undo it in reverse order
 * so the volume is left as it was: "nothing half-done".
 */
#include "vol_internal.h"

#include "status.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#define HOOKS(v) ((v)->be->dev)

int vol_set_ro(clus_volume *v, int fd, int ro)
{
    return v->sys->ioctl(v->sys, fd, VOL_BLKROSET, &ro);
}

static int get_ro(clus_volume *v, int fd, int *ro)
{
    return v->sys->ioctl(v->sys, fd, VOL_BLKROGET, ro);
}

/* ---- open / close ---- */

uint32_t vol_mnt_open(clus_volume *v, vol_msg *m)
{
    struct vol_mounts mt;
    bool exists = false;
    uint32_t s = vol_mark_exists(v, &exists, m);

    if (s != CLUS_OK || !exists)
        return s;
    v->mark = true;
    s = vol_mounts_load(v->sys, &mt, m);
    if (s != CLUS_OK)
        return s;
    HOOKS(v)->rehold(v, &mt, m);
    vol_mounts_free(&mt);
    return CLUS_OK;
}

void vol_mnt_close(clus_volume *v)
{
    vol_close(v->sys, &v->hold_fd);
    vol_close(v->sys, &v->claim_fd);
}

/* ---- shared steps ---- */

static uint32_t mount_errno(clus_volume *v, int err, vol_msg *m)
{
    if (err == ENODEV)
        return vol_fail(m, CLUS_E_INVALID_PARAMETER,
                        "cannot mount %s on %s: the kernel does not know file system type %s",
                        v->dev_path, v->cfg.mountpoint, v->fstype);
    if (err == EINVAL)
        return vol_fail(m, CLUS_E_INVALID_PARAMETER,
                        "cannot mount %s (%s) on %s: invalid argument (wrong mount options or "
                        "a damaged file system)",
                        v->dev_path, v->fstype, v->cfg.mountpoint);
    return vol_fail_errno(m, err, "cannot mount %s (%s) on %s", v->dev_path, v->fstype,
                          v->cfg.mountpoint);
}

static int do_mount(clus_volume *v)
{
    return v->sys->mount(v->sys, v->dev_path, v->cfg.mountpoint, v->fstype, v->cfg.mount_flags,
                         v->cfg.mount_data[0] != '\0' ? v->cfg.mount_data : NULL);
}

/* The visible mount on our mount point, when it is not our device: 170. */
static uint32_t check_mountpoint(clus_volume *v, const struct vol_mounts *mt, vol_msg *m)
{
    const struct vol_mount *top = vol_mounts_top(mt, v->cfg.mountpoint);

    if (top != NULL && (v->dev_rdev == 0 || makedev(top->major, top->minor) != v->dev_rdev))
        return vol_fail(m, CLUS_E_BUSY, "mount point %s is already in use (%s %s is mounted there)",
                        v->cfg.mountpoint, top->fstype, top->source);
    return CLUS_OK;
}

/* Mounts an online volume found unmounted: "mounted again on next use". */
static uint32_t ensure_mounted(clus_volume *v, vol_msg *m)
{
    struct vol_mounts mt;
    bool mounted;
    uint32_t s = vol_mounts_load(v->sys, &mt, m);

    if (s != CLUS_OK)
        return s;
    mounted = vol_mounts_find(&mt, v->dev_rdev, v->cfg.mountpoint) != NULL;
    if (!mounted)
        s = check_mountpoint(v, &mt, m);
    vol_mounts_free(&mt);
    if (mounted || s != CLUS_OK)
        return s;
    if (!HOOKS(v)->present(v, m))
        return CLUS_E_DEVICE_NOT_CONNECTED;
    if (do_mount(v) < 0)
        return mount_errno(v, errno, m);
    vol_msg_set(m, "%s was found unmounted and was mounted again on %s", v->dev_path,
                v->cfg.mountpoint);
    return CLUS_OK;
}

/* Claims (unless held) and finds whether our device is mounted here already. */
static uint32_t claim_and_locate(clus_volume *v, struct vol_txn *t, bool *here, vol_msg *m)
{
    struct vol_mounts mt;
    uint32_t s;

    t->had_claim = v->be->claimed(v);
    s = v->be->claim(v, m);
    if (s != CLUS_OK)
        return s;
    s = vol_mounts_load(v->sys, &mt, m);
    if (s == CLUS_OK) {
        s = HOOKS(v)->locate(v, &mt, here, m);
        if (s == CLUS_OK)
            s = check_mountpoint(v, &mt, m);
        if (s == CLUS_OK)
            s = vol_check_not_system(v->sys, &mt, v->dev_rdev, v->dev_path, m);
        vol_mounts_free(&mt);
    }
    if (s != CLUS_OK && !t->had_claim)
        v->be->unclaim(v);
    return s;
}

/* The device is mounted on our mount point already: take it as it is. */
static uint32_t adopt_mounted(clus_volume *v, struct vol_txn *t, vol_msg *m)
{
    struct vol_mounts mt;
    const struct vol_mount *mnt;
    uint32_t s = vol_mark_remove(v, m);

    if (s != CLUS_OK) {
        if (!t->had_claim)
            v->be->unclaim(v);
        return s;
    }
    v->mounted_ro = v->cfg.read_only;
    if (vol_mounts_load(v->sys, &mt, NULL) == CLUS_OK) {
        mnt = vol_mounts_find(&mt, v->dev_rdev, v->cfg.mountpoint);
        if (mnt != NULL) {
            snprintf(v->fstype, sizeof(v->fstype), "%s", mnt->fstype);
            v->mounted_ro = mnt->read_only;
        }
        vol_mounts_free(&mt);
    }
    vol_close(v->sys, &v->hold_fd); /* a hold of another device is stale now */
    v->state = VOL_ONLINE;
    vol_msg_set(m, "adopted the existing mount of %s on %s", v->dev_path, v->cfg.mountpoint);
    return CLUS_OK;
}

uint32_t vol_mnt_adopt(clus_volume *v, vol_msg *m)
{
    struct vol_txn t = {.dev_fd = -1};
    bool here = false;
    uint32_t s = claim_and_locate(v, &t, &here, m);

    if (s != CLUS_OK)
        return s;
    if (here)
        return adopt_mounted(v, &t, m);
    if (!t.had_claim)
        v->be->unclaim(v);
    return vol_fail(m, CLUS_E_NOT_FOUND, "nothing to adopt: %s is not mounted on %s",
                    v->cfg.kind == VOL_KIND_LOOP ? v->cfg.image : v->cfg.device, v->cfg.mountpoint);
}

/* ---- online ---- */

/* Sets the device's read-only flag as the configuration wants it. */
static uint32_t set_device_rw(clus_volume *v, struct vol_txn *t, vol_msg *m)
{
    int fd = v->hold_fd >= 0 ? v->hold_fd : t->dev_fd;
    int want = v->cfg.read_only ? 1 : 0;

    if (get_ro(v, fd, &t->ro_before) < 0)
        return vol_fail_errno(m, errno, "cannot read the read-only flag of %s", v->dev_path);
    if (t->ro_before == want)
        return CLUS_OK;
    if (vol_set_ro(v, fd, want) < 0)
        return vol_fail_errno(m, errno, "cannot make %s %s (BLKROSET %d)", v->dev_path,
                              want ? "read-only" : "writable", want);
    t->ro_changed = true;
    return CLUS_OK;
}

/* Closes the offline hold so that mount (and mkfs) can open the device. A
 * plain descriptor stays open to undo the read-only change. */
static uint32_t release_hold(clus_volume *v, struct vol_txn *t, vol_msg *m)
{
    if (v->hold_fd < 0)
        return CLUS_OK;
    if (t->dev_fd < 0) {
        t->dev_fd = v->sys->open(v->sys, v->dev_path, O_RDONLY | O_CLOEXEC, 0);
        if (t->dev_fd < 0)
            return vol_fail_errno(m, errno, "cannot open %s", v->dev_path);
    }
    vol_close(v->sys, &v->hold_fd);
    t->released_hold = true;
    return CLUS_OK;
}

static const char *mkfs_quiet_flag(const char *fstype)
{
    static const char *const quiet[] = {"ext2", "ext3", "ext4", "xfs", "btrfs", "f2fs"};

    for (size_t i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++) {
        if (strcmp(fstype, quiet[i]) == 0)
            return "-q";
    }
    return NULL;
}

static uint32_t run_mkfs(clus_volume *v, vol_msg *m)
{
    char prog[VOL_FSTYPE_MAX + 8], out[512];
    const char *argv[4];
    int code = 0, n = 0;
    uint32_t s = vol_step(v, "mkfs", m);

    if (s != CLUS_OK)
        return s;
    snprintf(prog, sizeof(prog), "mkfs.%s", v->cfg.fstype);
    argv[n++] = prog;
    if (mkfs_quiet_flag(v->cfg.fstype) != NULL)
        argv[n++] = mkfs_quiet_flag(v->cfg.fstype);
    argv[n++] = v->dev_path;
    argv[n] = NULL;
    if (v->sys->run(v->sys, argv, out, sizeof(out), &code, &v->terminating) < 0)
        return vol_fail_errno(m, errno, "cannot run %s", prog);
    if (atomic_load(&v->terminating))
        return vol_fail(m, CLUS_E_OPERATION_ABORTED, "%s was stopped: the volume is terminated",
                        prog);
    if (code != 0)
        return vol_fail(m, CLUS_E_GEN_FAILURE, "%s %s failed (exit %d): %s", prog, v->dev_path,
                        code, out);
    snprintf(v->fstype, sizeof(v->fstype), "%s", v->cfg.fstype);
    return CLUS_OK;
}

/* Finds the file system with libblkid; formats when configured and empty. */
static uint32_t prepare_fs(clus_volume *v, vol_msg *m)
{
    char found[VOL_FSTYPE_MAX] = "";
    uint32_t s = vol_step(v, "probe", m);
    int rc;

    if (s != CLUS_OK)
        return s;
    rc = v->sys->probe(v->sys, v->dev_path, found, sizeof(found));
    if (rc < 0)
        return vol_fail_errno(m, errno, "cannot probe %s for a file system", v->dev_path);
    if (rc == 1 && found[0] == '\0')
        return vol_fail(m, CLUS_E_INVALID_PARAMETER,
                        "%s carries several file system signatures; refusing to mount or format it",
                        v->dev_path);
    if (rc == 1 && v->cfg.fstype[0] != '\0' && strcmp(found, v->cfg.fstype) != 0)
        return vol_fail(m, CLUS_E_INVALID_PARAMETER, "%s holds %s, not the configured fstype %s",
                        v->dev_path, found, v->cfg.fstype);
    if (rc == 1) {
        snprintf(v->fstype, sizeof(v->fstype), "%s", found);
        return CLUS_OK;
    }
    if (!v->cfg.mkfs)
        return vol_fail(m, CLUS_E_INVALID_PARAMETER,
                        "%s holds no file system (set mkfs=true and fstype to create one)",
                        v->dev_path);
    return run_mkfs(v, m);
}

/* Undoes a failed online in reverse order. The first error stays in m; undo
 * failures are appended. */
static void undo_online(clus_volume *v, struct vol_txn *t, vol_msg *m)
{
    const clus_volume_sys *sys = v->sys;

    if (t->mounted && sys->umount2(sys, v->cfg.mountpoint, 0) < 0) {
        vol_undo_failed(m, errno, "umount");
        vol_msg_add(m, "the volume is left online and mounted");
        v->state = VOL_ONLINE;
        vol_close(sys, &t->dev_fd);
        return;
    }
    if (t->released_hold) {
        v->hold_fd = sys->open(sys, v->dev_path, O_RDONLY | O_EXCL | O_CLOEXEC, 0);
        if (v->hold_fd < 0)
            vol_undo_failed(m, errno, "re-taking the offline hold");
    }
    if (t->ro_changed) {
        int fd = v->hold_fd >= 0 ? v->hold_fd : t->dev_fd;
        if (fd < 0 || vol_set_ro(v, fd, t->ro_before) < 0)
            vol_undo_failed(m, fd < 0 ? EBADF : errno, "restoring the read-only flag");
    }
    if (t->took_hold)
        vol_close(sys, &v->hold_fd);
    if (t->attached)
        HOOKS(v)->detach(v, t->dev_fd, m);
    vol_close(sys, &t->dev_fd);
    if (!t->had_claim)
        v->be->unclaim(v);
    snprintf(v->fstype, sizeof(v->fstype), "%s", v->cfg.fstype);
}

/* The steps after the claim: device, read-write, file system, mount, mark. */
static uint32_t online_steps(clus_volume *v, struct vol_txn *t, vol_msg *m)
{
    uint32_t s = vol_step(v, "attach", m);

    if (s == CLUS_OK)
        s = HOOKS(v)->acquire(v, t, m);
    if (s == CLUS_OK)
        s = set_device_rw(v, t, m);
    if (s == CLUS_OK)
        s = release_hold(v, t, m);
    if (s == CLUS_OK)
        s = prepare_fs(v, m);
    if (s == CLUS_OK)
        s = vol_step(v, "mount", m);
    if (s != CLUS_OK)
        return s;
    if (do_mount(v) < 0)
        return mount_errno(v, errno, m);
    t->mounted = true;
    return vol_mark_remove(v, m);
}

uint32_t vol_mnt_online(clus_volume *v, vol_msg *m)
{
    struct vol_txn t = {.dev_fd = -1};
    bool here = false;
    uint32_t s;

    if (v->state == VOL_ONLINE)
        return ensure_mounted(v, m);
    s = vol_step(v, "claim", m);
    if (s == CLUS_OK)
        s = claim_and_locate(v, &t, &here, m);
    if (s != CLUS_OK)
        return s;
    if (here)
        return adopt_mounted(v, &t, m);
    s = online_steps(v, &t, m);
    if (s != CLUS_OK) {
        undo_online(v, &t, m);
        return s;
    }
    vol_close(v->sys, &t.dev_fd);
    v->mounted_ro = v->cfg.read_only;
    v->state = VOL_ONLINE;
    return CLUS_OK;
}

/* ---- offline ---- */

/* Flushes and unmounts. EBUSY: 170 and nothing changed. */
static uint32_t flush_and_unmount(clus_volume *v, vol_msg *m)
{
    const clus_volume_sys *sys = v->sys;
    int fd = sys->open(sys, v->cfg.mountpoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);

    if (fd < 0)
        return vol_fail_errno(m, errno, "cannot open %s to flush it", v->cfg.mountpoint);
    if (sys->syncfs(sys, fd) < 0) {
        int err = errno;
        vol_close(sys, &fd);
        return vol_fail_errno(m, err, "cannot flush %s (syncfs); the volume stays online",
                              v->cfg.mountpoint);
    }
    vol_close(sys, &fd);
    if (sys->umount2(sys, v->cfg.mountpoint, 0) < 0) {
        if (errno == EBUSY)
            return vol_fail(m, CLUS_E_BUSY,
                            "cannot unmount %s: it is busy (a process has a file open or its "
                            "working directory there); the volume stays online",
                            v->cfg.mountpoint);
        return vol_fail_errno(m, errno, "cannot unmount %s; the volume stays online",
                              v->cfg.mountpoint);
    }
    return CLUS_OK;
}

/* After the unmount: hold, flush the device cache, read-only, mark. */
static uint32_t offline_steps(clus_volume *v, bool *ro_set, vol_msg *m)
{
    const clus_volume_sys *sys = v->sys;

    if (v->hold_fd < 0) {
        v->hold_fd = sys->open(sys, v->dev_path, O_RDONLY | O_EXCL | O_CLOEXEC, 0);
        if (v->hold_fd < 0)
            return vol_fail_errno(m, errno, "cannot hold %s exclusively", v->dev_path);
    }
    if (sys->ioctl(sys, v->hold_fd, VOL_BLKFLSBUF, NULL) < 0)
        return vol_fail_errno(m, errno, "cannot flush the buffers of %s (BLKFLSBUF)", v->dev_path);
    if (vol_set_ro(v, v->hold_fd, 1) < 0)
        return vol_fail_errno(m, errno, "cannot make %s read-only (BLKROSET 1)", v->dev_path);
    *ro_set = true;
    return vol_mark_write(v, m);
}

/* Puts an online volume back after a failed offline step: writable, no
 * hold, mounted again. */
static void undo_offline(clus_volume *v, bool unmounted, bool ro_set, vol_msg *m)
{
    if (ro_set && vol_set_ro(v, v->hold_fd, v->cfg.read_only ? 1 : 0) < 0)
        vol_undo_failed(m, errno, "restoring the read-only flag");
    vol_close(v->sys, &v->hold_fd);
    if (unmounted && do_mount(v) < 0) {
        vol_undo_failed(m, errno, "mounting again");
        vol_msg_add(m, "the volume is online but not mounted; it is mounted again on next use");
    } else {
        vol_msg_add(m, "the volume stays online");
    }
}

/* Offline of a volume that is not online: persist the mark, hold the device. */
static uint32_t offline_again(clus_volume *v, vol_msg *m)
{
    struct vol_mounts mt;
    uint32_t s = v->mark ? CLUS_OK : vol_mark_write(v, m);

    if (s != CLUS_OK || v->hold_fd >= 0)
        return s;
    if (vol_mounts_load(v->sys, &mt, NULL) == CLUS_OK) {
        HOOKS(v)->rehold(v, &mt, NULL);
        vol_mounts_free(&mt);
    }
    return CLUS_OK;
}

uint32_t vol_mnt_offline(clus_volume *v, vol_msg *m)
{
    struct vol_mounts mt;
    bool mounted, ro_set = false;
    uint32_t s;

    if (v->state != VOL_ONLINE)
        return offline_again(v, m);
    s = vol_mounts_load(v->sys, &mt, m);
    if (s != CLUS_OK)
        return s;
    s = vol_check_not_system(v->sys, &mt, v->dev_rdev, v->dev_path, m);
    mounted = vol_mounts_find(&mt, v->dev_rdev, v->cfg.mountpoint) != NULL;
    if (s == CLUS_OK && vol_mounts_buried(&mt, v->dev_rdev, v->cfg.mountpoint))
        s = vol_fail(m, CLUS_E_BUSY, "something else is mounted over %s on %s; unmount it first",
                     v->dev_path, v->cfg.mountpoint);
    vol_mounts_free(&mt);
    if (s == CLUS_OK && mounted)
        s = flush_and_unmount(v, m);
    if (s != CLUS_OK)
        return s;
    s = offline_steps(v, &ro_set, m);
    if (s != CLUS_OK) {
        undo_offline(v, mounted, ro_set, m);
        return s;
    }
    /* The claim goes with offline (a disk DLL releases inside Offline), so
     * that another node can bring the volume online. For block the hold is
     * the claim and stays. */
    if (v->cfg.kind == VOL_KIND_LOOP)
        v->be->unclaim(v);
    v->state = VOL_OFFLINE;
    return CLUS_OK;
}

/* ---- terminate ---- */

/* Shutdown ioctl, then lazy unmount. Returns whether the file system was
 * fenced (every further I/O through it fails). */
static bool fence_and_detach_mount(clus_volume *v, vol_msg *m)
{
    const clus_volume_sys *sys = v->sys;
    uint32_t flags = VOL_SHUTDOWN_LOGFLUSH;
    bool fenced = false;
    int fd = sys->open(sys, v->cfg.mountpoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);

    if (fd < 0) {
        vol_msg_add(m, "cannot open %s: %s", v->cfg.mountpoint, strerror(errno));
    } else if (sys->ioctl(sys, fd, VOL_FS_IOC_SHUTDOWN, &flags) < 0) {
        vol_msg_add(m, "file system shutdown of %s failed: %s", v->cfg.mountpoint, strerror(errno));
    } else {
        fenced = true;
    }
    vol_close(sys, &fd);
    if (sys->umount2(sys, v->cfg.mountpoint, MNT_DETACH) < 0)
        vol_msg_add(m, "lazy unmount of %s failed: %s", v->cfg.mountpoint, strerror(errno));
    return fenced;
}

/* Read-only and (loop) detach through a fresh descriptor. */
static void device_down(clus_volume *v, vol_msg *m)
{
    const clus_volume_sys *sys = v->sys;
    int fd;

    vol_close(sys, &v->hold_fd);
    if (v->dev_path[0] == '\0')
        return;
    fd = sys->open(sys, v->dev_path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) {
        vol_msg_add(m, "cannot open %s: %s", v->dev_path, strerror(errno));
        if (v->cfg.kind == VOL_KIND_LOOP)
            HOOKS(v)->detach(v, -1, NULL); /* gone already: forget it */
        return;
    }
    if (vol_set_ro(v, fd, 1) < 0)
        vol_msg_add(m, "BLKROSET 1 on %s failed: %s", v->dev_path, strerror(errno));
    if (v->cfg.kind == VOL_KIND_LOOP)
        HOOKS(v)->detach(v, fd, m);
    vol_close(sys, &fd);
}

/* Terminate must stop what runs, not what the library remembers: after an
 * agent restart the volume may still be mounted by the previous instance,
 * not yet adopted. Finds that mount (setting v->dev_*). */
static bool found_running(clus_volume *v, vol_msg *m)
{
    struct vol_mounts mt;
    bool here = false;

    if (v->hold_fd >= 0 || vol_mounts_load(v->sys, &mt, NULL) != CLUS_OK)
        return false; /* held offline: nobody can have it mounted */
    if (HOOKS(v)->locate(v, &mt, &here, NULL) != CLUS_OK)
        here = false;
    vol_mounts_free(&mt);
    if (here)
        vol_msg_set(m, "%s was found mounted on %s (not adopted): terminating it", v->dev_path,
                    v->cfg.mountpoint);
    return here;
}

uint32_t vol_mnt_terminate(clus_volume *v, vol_msg *m)
{
    struct vol_mounts mt;
    bool mounted = true, buried = false, fenced = false, busy;
    int loop_index = v->loop_index;
    char dev_path[PATH_MAX];
    uint32_t s;

    if (v->state != VOL_ONLINE && !found_running(v, m))
        return CLUS_OK; /* nothing runs; an offline hold and mark stay */
    snprintf(dev_path, sizeof(dev_path), "%s", v->dev_path);

    if (vol_mounts_load(v->sys, &mt, m) == CLUS_OK) {
        s = vol_check_not_system(v->sys, &mt, v->dev_rdev, v->dev_path, m);
        mounted = vol_mounts_find(&mt, v->dev_rdev, v->cfg.mountpoint) != NULL;
        buried = vol_mounts_buried(&mt, v->dev_rdev, v->cfg.mountpoint);
        vol_mounts_free(&mt);
        if (s != CLUS_OK)
            return s;
    }
    /* A mount hidden under another one cannot be reached through the path:
     * it is left alone, and so is the claim (below). */
    if (buried)
        vol_msg_add(m, "%s is mounted under another mount on %s and was left alone", dev_path,
                    v->cfg.mountpoint);
    if (mounted)
        fenced = fence_and_detach_mount(v, m);
    device_down(v, m);
    busy = (mounted || buried) && HOOKS(v)->in_use(v, loop_index, dev_path);
    v->state = VOL_OFFLINE;
    snprintf(v->fstype, sizeof(v->fstype), "%s", v->cfg.fstype);
    if (fenced || !busy) {
        v->be->unclaim(v);
        return CLUS_OK;
    }
    /* Files stay open on a file system that could not be shut down: whatever
     * they write still reaches the image, so no one else may mount it. */
    if (v->cfg.kind == VOL_KIND_LOOP)
        v->unfenced_loop = loop_index;
    vol_msg_add(m, "the claim is kept: the file system could not be shut down and is still in "
                   "use");
    return CLUS_E_BUSY;
}

/* ---- health ---- */

bool vol_mnt_looks_alive(clus_volume *v, vol_msg *m)
{
    struct vol_mounts mt;
    bool mounted;

    if (!HOOKS(v)->present(v, m))
        return false;
    if (vol_mounts_load(v->sys, &mt, m) != CLUS_OK)
        return false;
    mounted = vol_mounts_find(&mt, v->dev_rdev, v->cfg.mountpoint) != NULL;
    vol_mounts_free(&mt);
    if (!mounted)
        vol_msg_set(m, "%s is not mounted on %s", v->dev_path, v->cfg.mountpoint);
    return mounted;
}

static bool check_size(clus_volume *v, vol_msg *m)
{
    uint64_t size = 0;
    int fd = v->sys->open(v->sys, v->dev_path, O_RDONLY | O_CLOEXEC, 0);
    int rc, err;

    if (fd < 0) {
        vol_fail_errno(m, errno, "cannot open %s", v->dev_path);
        return false;
    }
    rc = v->sys->ioctl(v->sys, fd, VOL_BLKGETSIZE64, &size);
    err = errno;
    vol_close(v->sys, &fd);
    if (rc < 0)
        vol_fail_errno(m, err, "BLKGETSIZE64 on %s failed", v->dev_path);
    else if (size == 0)
        vol_msg_set(m, "%s reports a size of 0 bytes", v->dev_path);
    return rc == 0 && size > 0;
}

static bool check_direct_read(clus_volume *v, vol_msg *m)
{
    _Alignas(4096) char block[4096];
    int fd = v->sys->open(v->sys, v->dev_path, O_RDONLY | O_DIRECT | O_CLOEXEC, 0);
    ssize_t n;
    int err;

    if (fd < 0) {
        vol_fail_errno(m, errno, "cannot open %s with O_DIRECT", v->dev_path);
        return false;
    }
    n = v->sys->pread(v->sys, fd, block, sizeof(block), 0);
    err = errno;
    vol_close(v->sys, &fd);
    if (n < 0)
        vol_fail_errno(m, err, "direct read of %s failed", v->dev_path);
    return n >= 0;
}

static bool check_probe_write(clus_volume *v, vol_msg *m)
{
    static const char probe[] = "clus is-alive probe\n";
    const clus_volume_sys *sys = v->sys;
    char path[PATH_MAX];
    ssize_t n;
    int fd, err = 0;

    fd = sys->open_beneath(sys, v->cfg.mountpoint, VOL_PROBE_NAME,
                           O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        vol_fail_errno(m, errno, "cannot create a probe file in %s", v->cfg.mountpoint);
        return false;
    }
    n = sys->pwrite(sys, fd, probe, sizeof(probe) - 1, 0);
    if (n != (ssize_t)(sizeof(probe) - 1))
        err = n < 0 ? errno : EIO;
    else if (sys->fsync(sys, fd) < 0)
        err = errno;
    vol_close(sys, &fd);
    if (snprintf(path, sizeof(path), "%s/%s", v->cfg.mountpoint, VOL_PROBE_NAME) <
        (int)sizeof(path))
        sys->unlink(sys, path);
    if (err != 0)
        vol_fail_errno(m, err, "write+fsync of a probe file in %s failed", v->cfg.mountpoint);
    return err == 0;
}

bool vol_mnt_is_alive(clus_volume *v, vol_msg *m)
{
    if (!HOOKS(v)->present(v, m) || ensure_mounted(v, m) != CLUS_OK)
        return false;
    if (!check_size(v, m) || !check_direct_read(v, m))
        return false;
    return v->mounted_ro || check_probe_write(v, m);
}

/* ---- I/O ---- */

uint32_t vol_mnt_read(clus_volume *v, const char *path, uint64_t off, void *buf, size_t len,
                      size_t *done, vol_msg *m)
{
    const clus_volume_sys *sys = v->sys;
    uint32_t s = ensure_mounted(v, m);
    int fd, err;

    if (s != CLUS_OK)
        return s;
    fd = sys->open_beneath(sys, v->cfg.mountpoint, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return vol_fail_errno(m, errno, "cannot open %s in %s", path, v->cfg.mountpoint);
    while (*done < len) {
        ssize_t n = sys->pread(sys, fd, (char *)buf + *done, len - *done, (off_t)(off + *done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err = errno;
            vol_close(sys, &fd);
            return vol_fail_errno(m, err, "cannot read %s in %s", path, v->cfg.mountpoint);
        }
        if (n == 0)
            break;
        *done += (size_t)n;
    }
    vol_close(sys, &fd);
    return CLUS_OK;
}

uint32_t vol_mnt_write(clus_volume *v, const char *path, uint64_t off, const void *buf, size_t len,
                       size_t *done, vol_msg *m)
{
    const clus_volume_sys *sys = v->sys;
    uint32_t s = ensure_mounted(v, m);
    int fd, err;

    if (s != CLUS_OK)
        return s;
    fd = sys->open_beneath(sys, v->cfg.mountpoint, path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return vol_fail_errno(m, errno, "cannot open %s in %s", path, v->cfg.mountpoint);
    while (*done < len) {
        ssize_t n =
            sys->pwrite(sys, fd, (const char *)buf + *done, len - *done, (off_t)(off + *done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            err = n < 0 ? errno : EIO;
            vol_close(sys, &fd);
            return vol_fail_errno(m, err, "cannot write %s in %s", path, v->cfg.mountpoint);
        }
        *done += (size_t)n;
    }
    if (sys->fsync(sys, fd) < 0) {
        err = errno;
        vol_close(sys, &fd);
        return vol_fail_errno(m, err, "cannot fsync %s in %s", path, v->cfg.mountpoint);
    }
    vol_close(sys, &fd);
    return CLUS_OK;
}

/* ---- info ---- */

void vol_mnt_info(clus_volume *v, clus_volume_info *info)
{
    struct vol_mounts mt;
    int fd, ro;

    snprintf(info->device, sizeof(info->device), "%s", v->dev_path);
    if (v->loop_index >= 0)
        snprintf(info->loop_device, sizeof(info->loop_device), "/dev/loop%d", v->loop_index);
    if (vol_mounts_load(v->sys, &mt, NULL) == CLUS_OK) {
        info->mounted = vol_mounts_find(&mt, v->dev_rdev, v->cfg.mountpoint) != NULL;
        vol_mounts_free(&mt);
    }
    info->held = v->hold_fd >= 0;
    if (v->dev_path[0] != '\0') {
        fd = v->hold_fd >= 0 ? v->hold_fd
                             : v->sys->open(v->sys, v->dev_path, O_RDONLY | O_CLOEXEC, 0);
        if (fd >= 0 && get_ro(v, fd, &ro) == 0)
            info->read_only = ro != 0;
        if (fd >= 0 && fd != v->hold_fd)
            vol_close(v->sys, &fd);
    }
    if (info->claimed)
        info->holder_pid = (long)getpid();
    else if (v->cfg.kind == VOL_KIND_LOOP)
        info->holder_pid = vol_find_lock_holder(v->sys, v->cfg.image_dev, v->cfg.image_ino);
}
