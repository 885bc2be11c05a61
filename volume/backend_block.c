/*
 * backend_block.c - an existing block device. The claim is the O_EXCL open
 * of the device while it is not mounted, and the mount itself (the kernel
 * holds a mounted device exclusively) while it is. The offline hold and the
 * claim are the same descriptor, so an offline block volume stays claimed
 * until release.
 */
#include "vol_internal.h"

#include "status.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

static bool block_claimed(clus_volume *v)
{
    return v->hold_fd >= 0 || v->state == VOL_ONLINE;
}

/* Tells apart why the O_EXCL open was refused: our own mount, a mount
 * elsewhere, or another holder. */
static uint32_t explain_busy(clus_volume *v, vol_msg *m)
{
    struct vol_mounts mt;
    const struct vol_mount *any;
    uint32_t s = vol_mounts_load(v->sys, &mt, m);

    if (s != CLUS_OK)
        return s;
    if (vol_mounts_find(&mt, v->dev_rdev, v->cfg.mountpoint) != NULL)
        s = CLUS_OK; /* mounted on our mount point: the mount is the claim */
    else if ((any = vol_mounts_any(&mt, v->dev_rdev)) != NULL)
        s = vol_fail(m, CLUS_E_BUSY, "device %s is mounted on %s", v->dev_path, any->target);
    else
        s = vol_fail(m, CLUS_E_RESOURCE_NOT_AVAILABLE,
                     "device %s is held exclusively by another holder (another node's claim, "
                     "a mount in another namespace, or a RAID/device-mapper member)",
                     v->dev_path);
    vol_mounts_free(&mt);
    return s;
}

static uint32_t block_claim(clus_volume *v, vol_msg *m)
{
    if (block_claimed(v))
        return CLUS_OK;
    v->hold_fd = v->sys->open(v->sys, v->dev_path, O_RDONLY | O_EXCL | O_CLOEXEC, 0);
    if (v->hold_fd >= 0)
        return CLUS_OK;
    if (errno == EBUSY)
        return explain_busy(v, m);
    return vol_fail_errno(m, errno, "cannot open %s exclusively", v->dev_path);
}

static void block_unclaim(clus_volume *v)
{
    vol_close(v->sys, &v->hold_fd);
}

static uint32_t block_locate(clus_volume *v, const struct vol_mounts *mt, bool *here, vol_msg *m)
{
    const struct vol_mount *any;

    *here = vol_mounts_find(mt, v->dev_rdev, v->cfg.mountpoint) != NULL;
    if (!*here && (any = vol_mounts_any(mt, v->dev_rdev)) != NULL)
        return vol_fail(m, CLUS_E_BUSY, "device %s is already mounted on %s", v->dev_path,
                        any->target);
    return CLUS_OK;
}

static uint32_t block_acquire(clus_volume *v, struct vol_txn *t, vol_msg *m)
{
    if (v->hold_fd >= 0)
        return CLUS_OK;
    t->dev_fd = v->sys->open(v->sys, v->dev_path, O_RDONLY | O_CLOEXEC, 0);
    if (t->dev_fd < 0)
        return vol_fail_errno(m, errno, "cannot open %s", v->dev_path);
    return CLUS_OK;
}

static void block_detach(clus_volume *v, int fd, vol_msg *m)
{
    /* A block device is not ours to detach. */
}

static bool block_present(clus_volume *v, vol_msg *m)
{
    char sysfs[64];
    struct stat st;

    if (v->sys->stat(v->sys, v->dev_path, &st) < 0) {
        vol_fail_errno(m, errno, "device %s is gone", v->dev_path);
        return false;
    }
    if (!S_ISBLK(st.st_mode) || st.st_rdev != v->dev_rdev) {
        vol_msg_set(m, "%s is no longer the block device %u:%u", v->dev_path, major(v->dev_rdev),
                    minor(v->dev_rdev));
        return false;
    }
    snprintf(sysfs, sizeof(sysfs), "/sys/dev/block/%u:%u", major(v->dev_rdev), minor(v->dev_rdev));
    if (v->sys->stat(v->sys, sysfs, &st) < 0) {
        vol_msg_set(m, "device %s was removed from the system", v->dev_path);
        return false;
    }
    return true;
}

static void block_rehold(clus_volume *v, const struct vol_mounts *mt, vol_msg *m)
{
    const struct vol_mount *any = vol_mounts_any(mt, v->dev_rdev);
    int fd;

    if (any != NULL) {
        vol_msg_add(m, "the offline mark is set but %s is mounted on %s", v->dev_path, any->target);
        return;
    }
    fd = v->sys->open(v->sys, v->dev_path, O_RDONLY | O_EXCL | O_CLOEXEC, 0);
    if (fd < 0) {
        vol_msg_add(m, "cannot hold %s again: %s", v->dev_path, strerror(errno));
        return;
    }
    if (vol_set_ro(v, fd, 1) < 0)
        vol_msg_add(m, "cannot make %s read-only: %s", v->dev_path, strerror(errno));
    v->hold_fd = fd;
}

static bool block_in_use(clus_volume *v, int loop_index, const char *dev_path)
{
    int fd = v->sys->open(v->sys, dev_path, O_RDONLY | O_EXCL | O_CLOEXEC, 0);

    if (fd < 0)
        return errno == EBUSY;
    vol_close(v->sys, &fd);
    return false;
}

static const struct vol_dev_hooks block_hooks = {
    .locate = block_locate,
    .acquire = block_acquire,
    .detach = block_detach,
    .present = block_present,
    .rehold = block_rehold,
    .in_use = block_in_use,
};

const struct vol_backend vol_backend_block = {
    .name = "block",
    .kind = VOL_KIND_BLOCK,
    .open = vol_mnt_open,
    .close = vol_mnt_close,
    .claim = block_claim,
    .unclaim = block_unclaim,
    .claimed = block_claimed,
    .adopt = vol_mnt_adopt,
    .online = vol_mnt_online,
    .offline = vol_mnt_offline,
    .terminate = vol_mnt_terminate,
    .looks_alive = vol_mnt_looks_alive,
    .is_alive = vol_mnt_is_alive,
    .read = vol_mnt_read,
    .write = vol_mnt_write,
    .info = vol_mnt_info,
    .dev = &block_hooks,
};
