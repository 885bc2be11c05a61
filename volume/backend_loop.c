/*
 * backend_loop.c - an image file on a loop device the library attaches
 * itself. The claim is an OFD write lock on the image; the loop device stays
 * attached while the volume is offline (read-only, held O_EXCL) and is
 * detached by terminate.
 */
#include "vol_internal.h"

#include "status.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define LOOP_CONTROL   "/dev/loop-control"
#define ATTACH_RETRIES 8 /* another process may take the free device first */

static void set_device(clus_volume *v, int index, const char *path, dev_t rdev)
{
    v->loop_index = index;
    snprintf(v->dev_path, sizeof(v->dev_path), "%s", path);
    v->dev_rdev = rdev;
}

static void forget_device(clus_volume *v)
{
    v->loop_index = -1;
    v->dev_path[0] = '\0';
    v->dev_rdev = 0;
}

static bool loop_claimed(clus_volume *v)
{
    return v->claim_fd >= 0;
}

static uint32_t loop_claim(clus_volume *v, vol_msg *m)
{
    return vol_image_claim(v, m);
}

static void loop_unclaim(clus_volume *v)
{
    vol_image_unclaim(v);
}

/* Reads /sys/block/loopN/loop/<attr>. */
static int loop_attr(clus_volume *v, int index, const char *attr, char *buf, size_t size)
{
    char path[96];

    snprintf(path, sizeof(path), "/sys/block/loop%d/loop/%s", index, attr);
    return vol_read_text(v->sys, path, buf, size);
}

/* A loop device that terminate left busy and unfenced is still bound: 170. */
static uint32_t check_unfenced(clus_volume *v, vol_msg *m)
{
    char backing[PATH_MAX];

    if (v->unfenced_loop < 0)
        return CLUS_OK;
    if (loop_attr(v, v->unfenced_loop, "backing_file", backing, sizeof(backing)) < 0) {
        v->unfenced_loop = -1;
        return CLUS_OK;
    }
    return vol_fail(m, CLUS_E_BUSY,
                    "/dev/loop%d still serves a terminated, lazily unmounted instance of %s "
                    "(files are open on it); close them before bringing the volume online",
                    v->unfenced_loop, v->cfg.image);
}

static uint32_t loop_locate(clus_volume *v, const struct vol_mounts *mt, bool *here, vol_msg *m)
{
    struct vol_loop loops[VOL_LOOPS_MAX];
    const struct vol_loop *mine = NULL;
    int n = 0;
    uint32_t s = check_unfenced(v, m);

    *here = false;
    if (s == CLUS_OK)
        s = vol_loops_bound(v->sys, v->cfg.image_dev, v->cfg.image_ino, loops, VOL_LOOPS_MAX, &n,
                            m);
    if (s != CLUS_OK)
        return s;
    for (int i = 0; i < n && i < VOL_LOOPS_MAX; i++) {
        const struct vol_mount *any = vol_mounts_any(mt, loops[i].rdev);

        if (any == NULL)
            continue;
        if (vol_mounts_find(mt, loops[i].rdev, v->cfg.mountpoint) == NULL)
            return vol_fail(m, CLUS_E_RESOURCE_NOT_AVAILABLE,
                            "image %s is already mounted through %s on %s", v->cfg.image,
                            loops[i].path, any->target);
        mine = &loops[i];
    }
    if (mine != NULL) {
        set_device(v, mine->index, mine->path, mine->rdev);
        *here = true;
    }
    return CLUS_OK;
}

/* Is the held device still bound to our image? */
static bool hold_still_bound(clus_volume *v)
{
    struct loop_info64 info;

    memset(&info, 0, sizeof(info));
    return v->sys->ioctl(v->sys, v->hold_fd, LOOP_GET_STATUS64, &info) == 0 &&
           vol_loop_backs(info.lo_device, info.lo_inode, v->cfg.image_dev, v->cfg.image_ino);
}

/* A bound loop device of our image that nobody uses (left by a crashed agent)
 * is taken over instead of attaching one more. Only the claim holder gets
 * here, so nobody else can be about to mount it. */
static bool reuse_stale(clus_volume *v, struct vol_txn *t)
{
    struct vol_loop loops[VOL_LOOPS_MAX];
    int n = 0;

    if (vol_loops_bound(v->sys, v->cfg.image_dev, v->cfg.image_ino, loops, VOL_LOOPS_MAX, &n,
                        NULL) != CLUS_OK)
        return false;
    for (int i = 0; i < n && i < VOL_LOOPS_MAX; i++) {
        int fd;

        if (loops[i].autoclear)
            continue; /* a detach is pending */
        fd = v->sys->open(v->sys, loops[i].path, O_RDONLY | O_EXCL | O_CLOEXEC, 0);
        if (fd < 0)
            continue; /* mounted or held: another node's offline hold */
        v->hold_fd = fd;
        t->took_hold = true;
        set_device(v, loops[i].index, loops[i].path, loops[i].rdev);
        return true;
    }
    return false;
}

/* Binds the open backing file bfd to the loop device lfd. */
static int configure(clus_volume *v, int lfd, int bfd)
{
    struct loop_config cfg;

    memset(&cfg, 0, sizeof(cfg));
    cfg.fd = (uint32_t)bfd;
    /* Shown by losetup; a long path is cut (the kernel keeps 63 bytes). */
    memcpy(cfg.info.lo_file_name, v->cfg.image,
           strnlen(v->cfg.image, sizeof(cfg.info.lo_file_name) - 1));
    if (v->sys->ioctl(v->sys, lfd, LOOP_CONFIGURE, &cfg) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOTTY)
        return -1;
    /* Kernels before 5.8 have no LOOP_CONFIGURE. */
    return v->sys->ioctl(v->sys, lfd, LOOP_SET_FD, (void *)(intptr_t)bfd);
}

/* One try: a free device from loop-control, bound to bfd. *retry when the
 * device was taken by someone else meanwhile. */
static uint32_t attach_once(clus_volume *v, int ctl, int bfd, struct vol_txn *t, bool *retry,
                            vol_msg *m)
{
    const clus_volume_sys *sys = v->sys;
    char path[VOL_LOOP_PATH_MAX];
    struct stat st;
    int index, lfd, err;

    *retry = false;
    index = sys->ioctl(sys, ctl, LOOP_CTL_GET_FREE, NULL);
    if (index < 0)
        return vol_fail_errno(m, errno, "no free loop device (LOOP_CTL_GET_FREE)");
    snprintf(path, sizeof(path), "/dev/loop%d", index);
    lfd = sys->open(sys, path, O_RDWR | O_CLOEXEC, 0);
    if (lfd < 0)
        return vol_fail_errno(m, errno, "cannot open %s", path);
    if (sys->fstat(sys, lfd, &st) < 0) {
        err = errno;
        vol_close(sys, &lfd);
        return vol_fail_errno(m, err, "cannot stat %s", path);
    }
    if (configure(v, lfd, bfd) < 0) {
        err = errno;
        vol_close(sys, &lfd);
        *retry = err == EBUSY;
        return vol_fail_errno(m, err, "cannot attach %s to %s", v->cfg.image, path);
    }
    t->dev_fd = lfd;
    t->attached = true;
    set_device(v, index, path, st.st_rdev);
    return CLUS_OK;
}

static uint32_t attach_new(clus_volume *v, struct vol_txn *t, vol_msg *m)
{
    const clus_volume_sys *sys = v->sys;
    bool retry = true;
    uint32_t s = CLUS_E_BUSY;
    int ctl, bfd;

    ctl = sys->open(sys, LOOP_CONTROL, O_RDWR | O_CLOEXEC, 0);
    if (ctl < 0)
        return vol_fail_errno(m, errno, "cannot open %s", LOOP_CONTROL);
    /* The loop device gets its own open file description of the image: the
     * claim's description (and its lock) must stay ours alone. */
    bfd = sys->open(sys, v->cfg.image, O_RDWR | O_CLOEXEC, 0);
    if (bfd < 0) {
        s = vol_fail_errno(m, errno, "cannot open image %s", v->cfg.image);
        vol_close(sys, &ctl);
        return s;
    }
    for (int i = 0; i < ATTACH_RETRIES && retry; i++)
        s = attach_once(v, ctl, bfd, t, &retry, m);
    vol_close(sys, &bfd);
    vol_close(sys, &ctl);
    return s;
}

static uint32_t loop_acquire(clus_volume *v, struct vol_txn *t, vol_msg *m)
{
    if (v->hold_fd >= 0 && v->loop_index >= 0) {
        if (hold_still_bound(v))
            return CLUS_OK;
        vol_close(v->sys, &v->hold_fd); /* detached under us: start over */
        forget_device(v);
    }
    if (reuse_stale(v, t))
        return CLUS_OK;
    return attach_new(v, t, m);
}

static void loop_detach(clus_volume *v, int fd, vol_msg *m)
{
    if (fd >= 0 && v->sys->ioctl(v->sys, fd, LOOP_CLR_FD, NULL) < 0)
        vol_msg_add(m, "cannot detach %s (LOOP_CLR_FD): %s", v->dev_path, strerror(errno));
    forget_device(v);
}

static bool loop_present(clus_volume *v, vol_msg *m)
{
    char text[PATH_MAX];
    struct stat st;
    size_t len;

    if (v->loop_index < 0) {
        vol_msg_set(m, "no loop device is attached");
        return false;
    }
    if (loop_attr(v, v->loop_index, "backing_file", text, sizeof(text)) < 0) {
        vol_msg_set(m, "loop device %s was detached", v->dev_path);
        return false;
    }
    len = strlen(text);
    if (len > 10 && strcmp(text + len - 10, " (deleted)") == 0) {
        vol_msg_set(m, "image %s was deleted (%s still serves the old file)", v->cfg.image,
                    v->dev_path);
        return false;
    }
    if (strcmp(text, v->cfg.image) != 0) {
        vol_msg_set(m, "loop device %s now serves %s, not %s", v->dev_path, text, v->cfg.image);
        return false;
    }
    if (loop_attr(v, v->loop_index, "autoclear", text, sizeof(text)) == 0 &&
        strcmp(text, "1") == 0) {
        vol_msg_set(m, "a detach of %s was requested (autoclear is set)", v->dev_path);
        return false;
    }
    if (v->sys->stat(v->sys, v->cfg.image, &st) < 0 || st.st_dev != v->cfg.image_dev ||
        st.st_ino != v->cfg.image_ino) {
        vol_msg_set(m, "image %s was deleted or replaced", v->cfg.image);
        return false;
    }
    return true;
}

static void loop_rehold(clus_volume *v, const struct vol_mounts *mt, vol_msg *m)
{
    struct vol_loop loops[VOL_LOOPS_MAX];
    int n = 0;

    if (vol_loops_bound(v->sys, v->cfg.image_dev, v->cfg.image_ino, loops, VOL_LOOPS_MAX, &n,
                        NULL) != CLUS_OK)
        return;
    for (int i = 0; i < n && i < VOL_LOOPS_MAX; i++) {
        const struct vol_mount *mnt = vol_mounts_any(mt, loops[i].rdev);
        int fd;

        if (mnt != NULL) {
            vol_msg_add(m, "the offline mark is set but %s is mounted on %s through %s",
                        v->cfg.image, mnt->target, loops[i].path);
            continue;
        }
        if (loops[i].autoclear)
            continue;
        fd = v->sys->open(v->sys, loops[i].path, O_RDONLY | O_EXCL | O_CLOEXEC, 0);
        if (fd < 0)
            continue; /* another holder */
        if (vol_set_ro(v, fd, 1) < 0)
            vol_msg_add(m, "cannot make %s read-only: %s", loops[i].path, strerror(errno));
        v->hold_fd = fd;
        set_device(v, loops[i].index, loops[i].path, loops[i].rdev);
        return;
    }
}

static bool loop_in_use(clus_volume *v, int loop_index, const char *dev_path)
{
    char backing[PATH_MAX];

    return loop_index >= 0 &&
           loop_attr(v, loop_index, "backing_file", backing, sizeof(backing)) == 0;
}

static const struct vol_dev_hooks loop_hooks = {
    .locate = loop_locate,
    .acquire = loop_acquire,
    .detach = loop_detach,
    .present = loop_present,
    .rehold = loop_rehold,
    .in_use = loop_in_use,
};

/* An offline volume still holds its loop device (read-only, O_EXCL) so that
 * nobody mounts it; once the resource is gone nothing would ever let it go,
 * and it would keep a loop device and the image busy. */
static void loop_retire(clus_volume *v)
{
    if (v->state == VOL_ONLINE || v->hold_fd < 0)
        return;
    loop_detach(v, v->hold_fd, NULL);
    vol_close(v->sys, &v->hold_fd); /* the last opener: the detach completes */
}

const struct vol_backend vol_backend_loop = {
    .name = "loop",
    .kind = VOL_KIND_LOOP,
    .open = vol_mnt_open,
    .close = vol_mnt_close,
    .retire = loop_retire,
    .claim = loop_claim,
    .unclaim = loop_unclaim,
    .claimed = loop_claimed,
    .adopt = vol_mnt_adopt,
    .online = vol_mnt_online,
    .offline = vol_mnt_offline,
    .terminate = vol_mnt_terminate,
    .looks_alive = vol_mnt_looks_alive,
    .is_alive = vol_mnt_is_alive,
    .read = vol_mnt_read,
    .write = vol_mnt_write,
    .info = vol_mnt_info,
    .dev = &loop_hooks,
};
